/* t/check_conf.c - unit tests of the webwarden.conf loader (lib/ww_conf.c). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_conf.h"

static char tmp_dir[256];

static void conf_setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/check_conf.XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmp_dir) != NULL, "mkdtemp(%s): %s", tmp_dir, strerror(errno));
}

static void conf_teardown(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes <text> to <tmp_dir>/<name>; returns the path in a static buffer. */
static const char *write_file(const char *name, const char *text)
{
    static char path[PATH_MAX];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    fp = fopen(path, "w");
    ck_assert_msg(fp != NULL, "fopen(%s): %s", path, strerror(errno));
    fputs(text, fp);
    ck_assert_int_eq(fclose(fp), 0);
    return path;
}

/* Loads <text> as a config file; on failure, fails the test with the error. */
static struct ww_conf *load_ok(const char *text)
{
    char err[WW_ERRLEN] = "";
    struct ww_conf *conf = NULL;
    const char *path = write_file("ok.conf", text);
    int rc = ww_conf_load(path, &conf, err, sizeof(err));

    ck_assert_msg(rc == WW_OK && conf != NULL, "load of:\n%s\ngot %d \"%s\", want WW_OK", text, rc,
                  err);
    return conf;
}

START_TEST(test_conf_defaults_match_header)
{
    struct ww_conf *c = ww_conf_create_defaults();

    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->path, "");
    ck_assert_str_eq(c->gateway.log_level, "info");
    ck_assert_str_eq(c->gateway.block_page, WW_DATADIR "/block.html");
    ck_assert_str_eq(c->state.database, "/var/lib/webwarden/state.db");
    ck_assert_str_eq(c->daemon.pid_file, "/run/webwarden/webwardend.pid");
    ck_assert_str_eq(c->daemon.log_file, "");
    ck_assert_str_eq(c->lists.approved, "");
    ck_assert_str_eq(c->lists.blocked, "");
    ck_assert_str_eq(c->reputation.server, "");
    ck_assert_str_eq(c->reputation.api_key, "");
    ck_assert_int_eq(c->reputation.timeout_ms, 500);
    ck_assert_int_eq(c->reputation.sensitivity, WW_SENS_MEDIUM);
    ck_assert_int_eq(c->reputation.threshold[0], 50);
    ck_assert_int_eq(c->reputation.threshold[1], 65);
    ck_assert_int_eq(c->reputation.threshold[2], 80);
    ck_assert_int_eq(c->reputation.unrated_action, WW_ACTION_ALLOW);
    ck_assert_ptr_nonnull(c->reputation.blocked_categories);
    ck_assert_ptr_null(c->reputation.blocked_categories[0]);
    ck_assert_int_eq(c->reputation.backoff, 1);
    ck_assert_int_eq(c->reputation.backoff_failures, 3);
    ck_assert_int_eq(c->reputation.backoff_s, 30);
    ck_assert_int_eq(c->reputation.backoff_max_s, 300);
    ck_assert_int_eq(c->reputation.cache_entries, 100000);
    ck_assert_int_eq(c->reputation.cache_ttl_s, 3600);
    ck_assert_int_eq(c->reputation.tls_verify, 1);
    ck_assert_str_eq(c->reputation.ca_file, "");
    ck_assert_str_eq(c->urldb.file, "");
    ck_assert_str_eq(c->scan.patterns_dir, "/var/lib/webwarden/patterns");
    ck_assert_int_eq(c->scan.max_size, 50LL << 20);
    ck_assert_int_eq(c->scan.hold_max, 60LL << 10);
    ck_assert_int_eq(c->scan.hold_all, 0);
    ck_assert_int_eq(c->scan.max_expanded_size, 100LL << 20);
    ck_assert_int_eq(c->scan.max_ratio, 100);
    ck_assert_int_eq(c->scan.bomb_action, WW_ACTION_BLOCK);
    ck_assert_int_eq(c->scan.undecodable_action, WW_ACTION_BLOCK);
    ck_assert_int_eq(c->scan.budget_action, WW_ACTION_BLOCK);
    ck_assert_int_eq(c->scan.range, WW_RANGE_STRIP);
    ck_assert_int_eq(c->update.allow_unsigned, 0);
    ck_assert_str_eq(c->scan.tmp_dir, "/tmp");
    ck_assert_str_eq(c->scan.deep_types[0], "executable");
    ck_assert_str_eq(c->scan.deep_types[8], "unknown");
    ck_assert_ptr_null(c->scan.deep_types[9]);
    ck_assert_str_eq(c->clamav.database_dir, "/var/lib/clamav");
    ck_assert_int_eq(c->clamav.enabled, 1);
    ck_assert_int_eq(c->clamav.max_scan_size, 100LL << 20);
    ck_assert_int_eq(c->clamav.max_file_size, 25LL << 20);
    ck_assert_int_eq(c->clamav.max_recursion, 16);
    ck_assert_int_eq(c->clamav.max_files, 10000);
    ck_assert_int_eq(c->clamav.max_scan_time_ms, 120000);
    ck_assert_int_eq(c->clamav.limit_action, WW_ACTION_BLOCK);
    ck_assert_int_eq(c->clamav.max_age_days, 7);
    ck_assert_str_eq(c->smart_scan.server, "");
    ck_assert_int_eq(c->smart_scan.timeout_ms, 1500);
    ck_assert_int_eq(c->smart_scan.health_interval_s, 300);
    ck_assert_int_eq(c->smart_scan.failures_to_fallback, 3);
    ck_assert_int_eq(c->smart_scan.auto_recover, 0);
    ck_assert_int_eq(c->feedback.interval_s, 300);
    ck_assert_int_eq(c->feedback.max_queued, 100000);
    ck_assert_int_eq(c->feedback.batch_size, 500);
    ck_assert_int_eq(c->feedback.timeout_ms, 10000);
    ck_assert_int_eq(c->update.interval_s, 3600);
    ck_assert_str_eq(c->update.public_key, "");
    ck_assert_int_eq(c->update.max_download, 200LL << 20);
    ck_assert_int_eq(c->update.timeout_s, 300);
    ck_assert_str_eq(c->update.dir, "/var/lib/webwarden/updates");
    ck_assert_int_eq(c->license.grace_days, 90);
    ck_assert_int_eq(c->license.check_interval_s, 86400);
    ck_assert_int_eq(c->license.timeout_ms, 10000);
    ww_conf_free(c);
}
END_TEST

START_TEST(test_conf_empty_file_gives_defaults)
{
    struct ww_conf *c = load_ok("");
    char want[PATH_MAX];

    snprintf(want, sizeof(want), "%s/ok.conf", tmp_dir);
    ck_assert_str_eq(c->path, want);
    ck_assert_int_eq(c->reputation.timeout_ms, 500);
    ck_assert_str_eq(c->update.dir, "/var/lib/webwarden/updates");
    ww_conf_free(c);
}
END_TEST

START_TEST(test_conf_parses_each_type)
{
    struct ww_conf *c = load_ok("# comment\n"
                                "; another comment\n"
                                "  [ gateway ]  \n"
                                "log_level = DEBUG\n"
                                "\n"
                                "[reputation]\n"
                                "server = https://wrs.example:8443/v1\n"
                                "  api_key   =   \"  k e y  \"  \n"
                                "timeout_ms=750\r\n"
                                "sensitivity = High\n"
                                "threshold_low = 0\n"
                                "threshold_medium = 100\n"
                                "threshold_high = 42\n"
                                "unrated_action = block\n"
                                "blocked_categories = Malware, ,PHISHING ,, adult content,\n"
                                "backoff = off\n"
                                "tls_verify = No\n"
                                "[scan]\n"
                                "max_size = 10m\n"
                                "hold_max = 0\n"
                                "max_expanded_size = 2G\n"
                                "hold_all = TRUE\n"
                                "bomb_action = allow\n"
                                "undecodable_action = allow\n"
                                "budget_action = allow\n"
                                "range = pass\n"
                                "[update]\n"
                                "max_download = 123\n"
                                "public_key = MCowBQYDK2VwAyEA=\n"
                                "[smart_scan]\n"
                                "auto_recover = 2\n"
                                "server = http://sps\n");
    char **cats = c->reputation.blocked_categories;

    ck_assert_str_eq(c->gateway.log_level, "debug");
    ck_assert_str_eq(c->reputation.server, "https://wrs.example:8443/v1");
    ck_assert_str_eq(c->reputation.api_key, "  k e y  ");
    ck_assert_int_eq(c->reputation.timeout_ms, 750);
    ck_assert_int_eq(c->reputation.sensitivity, WW_SENS_HIGH);
    ck_assert_int_eq(c->reputation.threshold[0], 0);
    ck_assert_int_eq(c->reputation.threshold[1], 100);
    ck_assert_int_eq(c->reputation.threshold[2], 42);
    ck_assert_int_eq(c->reputation.unrated_action, WW_ACTION_BLOCK);
    ck_assert_str_eq(cats[0], "malware");
    ck_assert_str_eq(cats[1], "phishing");
    ck_assert_str_eq(cats[2], "adult content");
    ck_assert_ptr_null(cats[3]);
    ck_assert_int_eq(c->reputation.backoff, 0);
    ck_assert_int_eq(c->reputation.tls_verify, 0);
    ck_assert_int_eq(c->scan.max_size, 10LL << 20);
    ck_assert_int_eq(c->scan.hold_max, 0);
    ck_assert_int_eq(c->scan.max_expanded_size, 2LL << 30);
    ck_assert_int_eq(c->scan.hold_all, 1);
    ck_assert_int_eq(c->scan.bomb_action, WW_ACTION_ALLOW);
    ck_assert_int_eq(c->scan.undecodable_action, WW_ACTION_ALLOW);
    ck_assert_int_eq(c->scan.budget_action, WW_ACTION_ALLOW);
    ck_assert_int_eq(c->scan.range, WW_RANGE_PASS);
    ck_assert_int_eq(c->update.max_download, 123);
    ck_assert_str_eq(c->update.public_key, "MCowBQYDK2VwAyEA=");
    ck_assert_int_eq(c->smart_scan.auto_recover, 2);
    ck_assert_str_eq(c->smart_scan.server, "http://sps");
    ww_conf_free(c);
}
END_TEST

static const struct {
    const char *text;
    int want;
} bool_cases[] = {
    {"on", 1},  {"ON", 1},  {"yes", 1}, {"Yes", 1}, {"true", 1},  {"1", 1},
    {"off", 0}, {"Off", 0}, {"no", 0},  {"NO", 0},  {"false", 0}, {"0", 0},
};

START_TEST(test_conf_bool_words)
{
    char text[128];
    struct ww_conf *c;

    /* hold_all defaults to off, tls_verify to on: both directions are seen to change. */
    snprintf(text, sizeof(text), "[scan]\nhold_all = %s\n[reputation]\ntls_verify = %s\n",
             bool_cases[_i].text, bool_cases[_i].text);
    c = load_ok(text);
    ck_assert_msg(c->scan.hold_all == bool_cases[_i].want &&
                      c->reputation.tls_verify == bool_cases[_i].want,
                  "bool \"%s\": got %d/%d, want %d", bool_cases[_i].text, c->scan.hold_all,
                  c->reputation.tls_verify, bool_cases[_i].want);
    ww_conf_free(c);
}
END_TEST

static const struct {
    const char *text;
    long long want;
} size_cases[] = {
    {"1", 1},          {"60K", 61440},       {"60k", 61440},
    {"50M", 52428800}, {"3g", 3221225472LL}, {"64G", 68719476736LL},
};

START_TEST(test_conf_size_suffixes)
{
    char text[128];
    struct ww_conf *c;

    snprintf(text, sizeof(text), "[scan]\nmax_size = %s\n", size_cases[_i].text);
    c = load_ok(text);
    ck_assert_msg(c->scan.max_size == size_cases[_i].want, "size \"%s\": got %lld, want %lld",
                  size_cases[_i].text, (long long)c->scan.max_size, size_cases[_i].want);
    ww_conf_free(c);
}
END_TEST

START_TEST(test_conf_relative_paths_follow_config_folder)
{
    char sub[300], path[PATH_MAX], want[PATH_MAX], err[WW_ERRLEN] = "", cwd[PATH_MAX];
    struct ww_conf *c = NULL;
    FILE *fp;
    int rc;

    snprintf(sub, sizeof(sub), "%s/etc", tmp_dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    snprintf(path, sizeof(path), "%s/webwarden.conf", sub);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("[state]\ndatabase = ../var/state.db\n"
          "[lists]\napproved = approved.txt\nblocked = ./lists/blocked.txt\n"
          "[scan]\npatterns_dir = /abs/patterns\ntmp_dir = .\n"
          "[gateway]\nblock_page = \"\"\n",
          fp);
    ck_assert_int_eq(fclose(fp), 0);
    /* Loaded through a relative name from another folder: the result must still be absolute. */
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    ck_assert_int_eq(chdir(tmp_dir), 0);
    rc = ww_conf_load("etc/webwarden.conf", &c, err, sizeof(err));
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert_msg(rc == WW_OK, "load: %d %s", rc, err);
    ck_assert_str_eq(c->path, path);
    snprintf(want, sizeof(want), "%s/../var/state.db", sub);
    ck_assert_str_eq(c->state.database, want);
    snprintf(want, sizeof(want), "%s/approved.txt", sub);
    ck_assert_str_eq(c->lists.approved, want);
    snprintf(want, sizeof(want), "%s/lists/blocked.txt", sub);
    ck_assert_str_eq(c->lists.blocked, want);
    ck_assert_str_eq(c->scan.patterns_dir, "/abs/patterns");
    ck_assert_str_eq(c->scan.tmp_dir, sub);
    ck_assert_str_eq(c->gateway.block_page, "");
    /* update.dir follows the database when not set. */
    snprintf(want, sizeof(want), "%s/../var/updates", sub);
    ck_assert_str_eq(c->update.dir, want);
    ww_conf_free(c);
}
END_TEST

/* Each bad file, and the exact message: "<file>:<line>: <reason>" (file as given). */
static const struct {
    const char *name, *text, *want; /* want without the "<path>:" prefix */
} error_cases[] = {
    {"unknown-section", "[gateway]\n\n[reputaton]\n",
     "3: unknown section [reputaton] (known: gateway, state, daemon, lists, reputation, urldb, "
     "scan, clamav, smart_scan, feedback, update, license, metrics, identity, policy NAME)"},
    {"unknown-key", "[reputation]\n# x\ntimeout = 5\n",
     "3: unknown key \"timeout\" in section [reputation]"},
    {"key-in-wrong-section", "[scan]\nserver = http://x\n",
     "2: unknown key \"server\" in section [scan]"},
    {"outside-section", "\nlog_level = info\n",
     "2: key \"log_level\" is outside a section: put a [section] line above it"},
    {"duplicate-key", "[scan]\nmax_size = 1M\n[reputation]\n[scan]\nmax_size = 2M\n",
     "5: scan.max_size is set twice (first on line 2)"},
    {"int-not-number", "[reputation]\ntimeout_ms = fast\n",
     "2: reputation.timeout_ms: \"fast\" is not a whole number from 1 to 60000"},
    {"int-too-big", "[reputation]\ntimeout_ms = 60001\n",
     "2: reputation.timeout_ms: \"60001\" is not a whole number from 1 to 60000"},
    {"int-zero", "[reputation]\ntimeout_ms = 0\n",
     "2: reputation.timeout_ms: \"0\" is not a whole number from 1 to 60000"},
    {"int-trailing", "[feedback]\ninterval_s = 300s\n",
     "2: feedback.interval_s: \"300s\" is not a whole number from 1 to 86400"},
    {"int-overflow", "[feedback]\ninterval_s = 99999999999999999999999\n",
     "2: feedback.interval_s: \"99999999999999999999999\" is not a whole number from 1 to 86400"},
    {"threshold-range", "[reputation]\nthreshold_high = 101\n",
     "2: reputation.threshold_high: \"101\" is not a whole number from 0 to 100"},
    {"size-bad-suffix", "[scan]\nmax_size = 50MB\n",
     "2: scan.max_size: \"50MB\" is not a size from 1 to 64G (bytes, or a number with K, M or G "
     "for KiB, MiB, GiB, e.g. 60K or 50M)"},
    {"size-negative", "[scan]\nhold_max = -1\n",
     "2: scan.hold_max: \"-1\" is not a size from 0 to 64G (bytes, or a number with K, M or G "
     "for KiB, MiB, GiB, e.g. 60K or 50M)"},
    {"size-too-big", "[scan]\nmax_size = 65G\n",
     "2: scan.max_size: \"65G\" is not a size from 1 to 64G (bytes, or a number with K, M or G "
     "for KiB, MiB, GiB, e.g. 60K or 50M)"},
    {"bool-bad", "[reputation]\nbackoff = maybe\n",
     "2: reputation.backoff: \"maybe\" is not one of on|off|yes|no|true|false|1|0"},
    {"sensitivity-bad", "[reputation]\nsensitivity = extreme\n",
     "2: reputation.sensitivity: \"extreme\" is not one of low|medium|high"},
    {"action-bad", "[reputation]\nunrated_action = deny\n",
     "2: reputation.unrated_action: \"deny\" is not one of allow|block"},
    {"log-level-bad", "[gateway]\nlog_level = verbose\n",
     "2: gateway.log_level: \"verbose\" is not one of error|warning|info|debug"},
    {"server-no-scheme", "[update]\nserver = update.example.com\n",
     "2: update.server: \"update.example.com\" is not a server URL: write "
     "http://host[:port][/path] or https://..., or leave it empty for no server"},
    {"server-ftp", "[license]\nserver = ftp://x\n",
     "2: license.server: \"ftp://x\" is not a server URL: write http://host[:port][/path] or "
     "https://..., or leave it empty for no server"},
    {"server-no-host", "[feedback]\nserver = https://\n",
     "2: feedback.server: \"https://\" is not a server URL: write http://host[:port][/path] or "
     "https://..., or leave it empty for no server"},
    {"unterminated-quote", "[daemon]\nlog_file = \"/var/log/x\n",
     "2: daemon.log_file: the value opens a quote (\") but does not end with one"},
    {"no-equals", "[daemon]\nlog_file\n",
     "2: expected \"key = value\" or \"[section]\", got \"log_file\""},
    {"no-key", "[daemon]\n= x\n", "2: a key name is missing before \"=\""},
    {"bad-section-line", "[daemon] x\n", "1: a section line must be [name], got \"[daemon] x\""},
    {"deep-type-unknown", "[scan]\n\ndeep_types = pe, exe\n",
     "3: scan.deep_types: unknown file type \"exe\" (groups: executable, archive, office, pdf, "
     "rtf, chm, mail, script, html, text, image, media, font, unknown; or a type such as zip, "
     "pe, ole2; or all, none)"},
    {"backoff-max-below-first", "[reputation]\nbackoff_max_s = 10\n",
     "2: reputation.backoff_max_s (10) must not be below reputation.backoff_s (30)"},
};

START_TEST(test_conf_bad_file_names_file_and_line)
{
    char err[WW_ERRLEN] = "", want[WW_ERRLEN];
    struct ww_conf *c = NULL;
    const char *path = write_file(error_cases[_i].name, error_cases[_i].text);
    int rc = ww_conf_load(path, &c, err, sizeof(err));

    snprintf(want, sizeof(want), "%s:%s", path, error_cases[_i].want);
    ck_assert_msg(rc == WW_EINVAL && c == NULL && strcmp(err, want) == 0,
                  "case %s:\n%s\ngot %d \"%s\"\nwant %d \"%s\"", error_cases[_i].name,
                  error_cases[_i].text, rc, err, WW_EINVAL, want);
}
END_TEST

START_TEST(test_conf_line_too_long)
{
    size_t n = 4097;
    char *text = malloc(n + 64);
    char err[WW_ERRLEN] = "", want[WW_ERRLEN];
    struct ww_conf *c = NULL;
    const char *path;
    int rc;

    ck_assert_ptr_nonnull(text);
    strcpy(text, "[gateway]\n# ok\n#");
    memset(text + strlen(text), 'x', n - 1); /* "#" + 4096 x = 4097 characters */
    strcpy(text + strlen("[gateway]\n# ok\n#") + n - 1, "\n");
    path = write_file("long.conf", text);
    rc = ww_conf_load(path, &c, err, sizeof(err));
    snprintf(want, sizeof(want), "%s:3: line is longer than 4096 characters", path);
    ck_assert_msg(rc == WW_EINVAL && strcmp(err, want) == 0, "got %d \"%s\", want \"%s\"", rc, err,
                  want);
    /* 4096 characters exactly is still fine. */
    strcpy(text + strlen("[gateway]\n# ok\n#") + n - 2, "\n");
    c = load_ok(text);
    ww_conf_free(c);
    free(text);
}
END_TEST

START_TEST(test_conf_nul_byte_is_an_error)
{
    char err[WW_ERRLEN] = "", path[PATH_MAX];
    struct ww_conf *c = NULL;
    FILE *fp;
    int rc;

    snprintf(path, sizeof(path), "%s/nul.conf", tmp_dir);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fwrite("[scan]\nmax_size = 1\0M\n", 1, 23, fp);
    ck_assert_int_eq(fclose(fp), 0);
    rc = ww_conf_load(path, &c, err, sizeof(err));
    ck_assert_msg(rc == WW_EINVAL && strstr(err, ":2: line contains a NUL byte") != NULL,
                  "got %d \"%s\"", rc, err);
}
END_TEST

START_TEST(test_conf_missing_file_is_eio)
{
    char err[WW_ERRLEN] = "", path[PATH_MAX], want[PATH_MAX + 64];
    struct ww_conf *c = NULL;
    int rc;

    snprintf(path, sizeof(path), "%s/nope.conf", tmp_dir);
    rc = ww_conf_load(path, &c, err, sizeof(err));
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    ck_assert_msg(rc == WW_EIO && c == NULL && strcmp(err, want) == 0,
                  "got %d \"%s\", want %d \"%s\"", rc, err, WW_EIO, want);
}
END_TEST

START_TEST(test_conf_directory_is_eio)
{
    char err[WW_ERRLEN] = "";
    struct ww_conf *c = NULL;
    int rc = ww_conf_load(tmp_dir, &c, err, sizeof(err));

    ck_assert_msg(rc == WW_EIO && c == NULL && strstr(err, tmp_dir) == err,
                  "load(dir) got %d \"%s\"", rc, err);
}
END_TEST

START_TEST(test_conf_pick_path_order)
{
    const char *old = getenv("WEBWARDEN_CONF");
    char *saved = old != NULL ? strdup(old) : NULL;

    ck_assert_int_eq(setenv("WEBWARDEN_CONF", "/env/w.conf", 1), 0);
    ck_assert_str_eq(ww_conf_pick_path("/cli/w.conf"), "/cli/w.conf");
    ck_assert_str_eq(ww_conf_pick_path(NULL), "/env/w.conf");
    ck_assert_int_eq(setenv("WEBWARDEN_CONF", "", 1), 0);
    ck_assert_str_eq(ww_conf_pick_path(NULL), WW_DEFAULT_CONF);
    ck_assert_int_eq(unsetenv("WEBWARDEN_CONF"), 0);
    ck_assert_str_eq(ww_conf_pick_path(NULL), WW_DEFAULT_CONF);
    ck_assert_str_eq(ww_conf_pick_path("x.conf"), "x.conf");
    if (saved != NULL)
        setenv("WEBWARDEN_CONF", saved, 1);
    free(saved);
}
END_TEST

START_TEST(test_conf_shipped_file_loads_with_defaults)
{
    const char *top = getenv("top_srcdir");
    char path[PATH_MAX], err[WW_ERRLEN] = "";
    struct ww_conf *c = NULL, *d = ww_conf_create_defaults();
    char *dump_c = NULL, *dump_d = NULL;
    int rc;

    snprintf(path, sizeof(path), "%s/etc/webwarden.conf", top != NULL ? top : ".");
    rc = ww_conf_load(path, &c, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "load(%s): %d \"%s\"", path, rc, err);
    /* Every key is commented out at its default: the effective config is the defaults. */
    ck_assert_int_eq(ww_conf_dump(c, &dump_c), WW_OK);
    ck_assert_int_eq(ww_conf_dump(d, &dump_d), WW_OK);
    ck_assert_msg(strcmp(strchr(dump_c, '\n'), strchr(dump_d, '\n')) == 0,
                  "shipped:\n%s\ndefaults:\n%s", dump_c, dump_d);
    free(dump_c);
    free(dump_d);
    ww_conf_free(c);
    ww_conf_free(d);
}
END_TEST

/* Each key named in the table appears in the shipped file, commented out as "# key = ". */
START_TEST(test_conf_shipped_file_documents_every_key)
{
    const char *top = getenv("top_srcdir");
    char path[PATH_MAX], *text = NULL, *dump = NULL, *line, *save = NULL;
    struct ww_conf *d = ww_conf_create_defaults();
    FILE *fp;
    long len;

    snprintf(path, sizeof(path), "%s/etc/webwarden.conf", top != NULL ? top : ".");
    fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "open %s", path);
    fseek(fp, 0, SEEK_END);
    len = ftell(fp);
    rewind(fp);
    text = calloc(1, (size_t)len + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(fread(text, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    ck_assert_int_eq(ww_conf_dump(d, &dump), WW_OK);
    for (line = strtok_r(dump, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char want[128];
        const char *eq = strstr(line, " = ");
        if (line[0] == '#')
            continue;
        if (line[0] == '[') {
            ck_assert_msg(strstr(text, line) != NULL, "section %s missing from %s", line, path);
            continue;
        }
        ck_assert_ptr_nonnull(eq);
        snprintf(want, sizeof(want), "\n# %.*s =", (int)(eq - line), line);
        ck_assert_msg(strstr(text, want) != NULL, "key \"%.*s\" missing from %s", (int)(eq - line),
                      line, path);
    }
    free(dump);
    free(text);
    ww_conf_free(d);
}
END_TEST

START_TEST(test_conf_dump_round_trips)
{
    struct ww_conf *c = load_ok("[reputation]\n"
                                "server = https://wrs.example\n"
                                "api_key = ABCDE-12345-SECRET\n"
                                "sensitivity = low\n"
                                "blocked_categories = malware, phishing\n"
                                "backoff = off\n"
                                "[scan]\n"
                                "max_size = 1536\n"
                                "hold_max = 2M\n"
                                "tmp_dir = \" spaced dir \"\n"
                                "[license]\n"
                                "api_key = abc\n");
    struct ww_conf *back = NULL;
    char *dump = NULL, err[WW_ERRLEN] = "";
    const char *path;
    int rc;

    ck_assert_int_eq(ww_conf_dump(c, &dump), WW_OK);
    ck_assert_msg(strstr(dump, "ABCDE-12345-SECRET") == NULL, "api key in clear:\n%s", dump);
    ck_assert_msg(strstr(dump, "\napi_key = *************ECRET\n") != NULL,
                  "reputation api_key not masked to its last 5 characters:\n%s", dump);
    ck_assert_msg(strstr(dump, "\napi_key = ***\n") != NULL, "short key not all masked:\n%s", dump);
    ck_assert_msg(strstr(dump, "[scan]\n") != NULL && strstr(dump, "\nhold_max = 2M\n") != NULL,
                  "dump:\n%s", dump);
    path = write_file("dump.conf", dump);
    rc = ww_conf_load(path, &back, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "reload of dump failed: %d %s\n%s", rc, err, dump);
    ck_assert_str_eq(back->reputation.server, "https://wrs.example");
    ck_assert_int_eq(back->reputation.sensitivity, WW_SENS_LOW);
    ck_assert_str_eq(back->reputation.blocked_categories[0], "malware");
    ck_assert_str_eq(back->reputation.blocked_categories[1], "phishing");
    ck_assert_ptr_null(back->reputation.blocked_categories[2]);
    ck_assert_int_eq(back->reputation.backoff, 0);
    ck_assert_int_eq(back->scan.max_size, 1536);
    ck_assert_int_eq(back->scan.hold_max, 2 << 20);
    ck_assert_str_eq(back->scan.tmp_dir, c->scan.tmp_dir);
    ck_assert_str_eq(back->state.database, c->state.database);
    ck_assert_str_eq(back->update.dir, c->update.dir);
    ck_assert_int_eq(back->reputation.timeout_ms, c->reputation.timeout_ms);
    free(dump);
    ww_conf_free(back);
    ww_conf_free(c);
}
END_TEST

START_TEST(test_conf_free_null_is_noop)
{
    ww_conf_free(NULL);
}
END_TEST

static Suite *conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc;

    tc = tcase_create("defaults");
    tcase_add_checked_fixture(tc, conf_setup, conf_teardown);
    tcase_add_test(tc, test_conf_defaults_match_header);
    tcase_add_test(tc, test_conf_empty_file_gives_defaults);
    tcase_add_test(tc, test_conf_free_null_is_noop);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, conf_setup, conf_teardown);
    tcase_add_test(tc, test_conf_parses_each_type);
    tcase_add_loop_test(tc, test_conf_bool_words, 0, sizeof(bool_cases) / sizeof(bool_cases[0]));
    tcase_add_loop_test(tc, test_conf_size_suffixes, 0, sizeof(size_cases) / sizeof(size_cases[0]));
    tcase_add_test(tc, test_conf_relative_paths_follow_config_folder);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, conf_setup, conf_teardown);
    tcase_add_loop_test(tc, test_conf_bad_file_names_file_and_line, 0,
                        sizeof(error_cases) / sizeof(error_cases[0]));
    tcase_add_test(tc, test_conf_line_too_long);
    tcase_add_test(tc, test_conf_nul_byte_is_an_error);
    tcase_add_test(tc, test_conf_missing_file_is_eio);
    tcase_add_test(tc, test_conf_directory_is_eio);
    suite_add_tcase(s, tc);

    tc = tcase_create("pick_path");
    tcase_add_test(tc, test_conf_pick_path_order);
    suite_add_tcase(s, tc);

    tc = tcase_create("shipped_and_dump");
    tcase_add_checked_fixture(tc, conf_setup, conf_teardown);
    tcase_add_test(tc, test_conf_shipped_file_loads_with_defaults);
    tcase_add_test(tc, test_conf_shipped_file_documents_every_key);
    tcase_add_test(tc, test_conf_dump_round_trips);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conf_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
