/* t/check_child.c - the per-process runtime of the c-icap services (lib/ww_child), without
 * c-icap: signatures with none at all and their hot reload, the scan method, the detection and
 * feedback queues into the store. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ww_child.h"
#include "ww_common.h"
#include "ww_conf.h"
#include "ww_scan.h"
#include "ww_store.h"

static const char eicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

static char dir[64];
static struct ww_conf *conf;
static struct ww_store *st; /* the test's own handle: what webwardend and webwardenctl do */
static int engine_calls;
static char engine_version[64];
static size_t engine_sigs;

static void on_engine(const struct ww_engine_stats *stats, const char *version, void *arg)
{
    engine_calls++;
    snprintf(engine_version, sizeof(engine_version), "%s", version);
    engine_sigs = stats->hash_sigs + stats->body_sigs;
}

static const struct ww_child_hooks hooks = {.engine = on_engine};

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    ck_assert_msg(fp != NULL, "cannot write %s", path);
    fputs(text, fp);
    fclose(fp);
}

/* A config whose scan.patterns_dir is <patterns> (relative to dir; "" = unset). */
static void load_conf(const char *patterns)
{
    char path[128], text[512], err[WW_ERRLEN] = "";

    snprintf(path, sizeof(path), "%s/webwarden.conf", dir);
    if (patterns[0] != '\0')
        snprintf(text, sizeof(text),
                 "[state]\ndatabase = %s/state.db\n[scan]\npatterns_dir = "
                 "%s/%s\n",
                 dir, dir, patterns);
    else
        snprintf(text, sizeof(text), "[state]\ndatabase = %s/state.db\n[scan]\npatterns_dir =\n",
                 dir);
    write_text(path, text);
    ww_conf_free(conf);
    conf = NULL;
    ck_assert_msg(ww_conf_load(path, &conf, err, sizeof(err)) == WW_OK, "%s", err);
}

static void setup(void)
{
    char path[128], err[WW_ERRLEN] = "";

    snprintf(dir, sizeof(dir), "/tmp/ww_child_XXXXXX");
    ck_assert(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/empty", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/pat1", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/pat1/test.ndb", dir);
    write_text(path, "Test.Eicar:0:*:45494341522d5354414e444152442d414e544956495255532d54455354\n");
    load_conf("empty");
    ck_assert_int_eq(ww_store_open(conf->state.database, WW_STORE_MIGRATE, &st, err, sizeof(err)),
                     WW_OK);
    engine_calls = 0;
    engine_version[0] = '\0';
    engine_sigs = 0;
}

static void teardown(void)
{
    char cmd[128];

    ww_store_close(st);
    st = NULL;
    ww_conf_free(conf);
    conf = NULL;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* 1 if <e> finds EICAR in a body. */
static int engine_finds_eicar(struct ww_engine *e)
{
    struct ww_scan *s = ww_scan_create(e, (int64_t)strlen(eicar), 0);
    int hit;

    ck_assert(s != NULL);
    hit = ww_scan_feed(s, eicar, strlen(eicar)) || ww_scan_finish(s);
    ww_scan_free(s);
    return hit;
}

static void install_pattern(const char *version, const char *sub)
{
    struct ww_component comp;

    memset(&comp, 0, sizeof(comp));
    snprintf(comp.name, sizeof(comp.name), "pattern");
    snprintf(comp.version, sizeof(comp.version), "%s", version);
    snprintf(comp.path, sizeof(comp.path), "%s/%s", dir, sub);
    ck_assert_int_eq(ww_store_component_install(st, &comp), WW_OK);
}

START_TEST(test_child_empty_patterns_dir_starts_without_engine)
{
    struct ww_child *c = NULL;
    char err[WW_ERRLEN] = "";

    ck_assert_msg(ww_child_create(conf, "t", WW_CHILD_PATTERNS, &hooks, &c, err, sizeof(err)) ==
                      WW_OK,
                  "%s", err);
    ck_assert_ptr_eq(ww_child_engine_ref(c), NULL);
    ck_assert_str_eq(ww_child_pattern_version(c), "none");
    ck_assert_msg(engine_calls == 1 && strcmp(engine_version, "none") == 0 && engine_sigs == 0,
                  "hook: %d calls, version %s", engine_calls, engine_version);
    ww_child_free(c);
}
END_TEST

START_TEST(test_child_unset_patterns_dir_starts_without_engine)
{
    struct ww_child *c = NULL;
    char err[WW_ERRLEN] = "";

    load_conf("");
    ck_assert_msg(ww_child_create(conf, "t", WW_CHILD_PATTERNS, &hooks, &c, err, sizeof(err)) ==
                      WW_OK,
                  "%s", err);
    ck_assert_ptr_eq(ww_child_engine_ref(c), NULL);
    ww_child_free(c);
}
END_TEST

START_TEST(test_child_missing_patterns_dir_is_an_error)
{
    struct ww_child *c = NULL;
    char err[WW_ERRLEN] = "";

    load_conf("nosuchdir");
    ck_assert_msg(ww_child_create(conf, "t", WW_CHILD_PATTERNS, &hooks, &c, err, sizeof(err)) !=
                          WW_OK &&
                      c == NULL && strstr(err, "[scan] patterns_dir ") == err &&
                      strstr(err, "nosuchdir") != NULL,
                  "err \"%s\"", err);
}
END_TEST

/* The first pattern an update installs is in force at the next tick, without a new runtime;
 * a later version replaces it, a broken one leaves it in force. */
START_TEST(test_child_tick_puts_first_installed_pattern_in_force)
{
    struct ww_child *c = NULL;
    struct ww_engine *e;
    char err[WW_ERRLEN] = "", path[128];

    ck_assert_int_eq(ww_child_create(conf, "t", WW_CHILD_PATTERNS, &hooks, &c, err, sizeof(err)),
                     WW_OK);
    ww_child_start(c, 0);
    ww_child_tick(c);
    ck_assert_ptr_eq(ww_child_engine_ref(c), NULL);
    install_pattern("2026120301", "pat1");
    ww_child_tick(c);
    e = ww_child_engine_ref(c);
    ck_assert_msg(e != NULL, "no engine after the tick");
    ck_assert(engine_finds_eicar(e));
    ck_assert_str_eq(ww_child_pattern_version(c), "2026120301");
    ck_assert_msg(
        engine_calls == 2 && strcmp(engine_version, "2026120301") == 0 && engine_sigs == 1,
        "hook: %d calls, version %s, %zu sigs", engine_calls, engine_version, engine_sigs);

    snprintf(path, sizeof(path), "%s/broken", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0); /* empty: does not load */
    install_pattern("2026120302", "broken");
    ww_child_tick(c);
    ww_child_tick(c); /* not retried, still the old one */
    ck_assert_str_eq(ww_child_pattern_version(c), "2026120301");
    ck_assert_int_eq(engine_calls, 2);
    /* The reference taken before stays usable: a scan in flight keeps its engine. */
    ck_assert(engine_finds_eicar(e));
    ww_engine_unref(e);
    ww_child_free(c);
}
END_TEST

START_TEST(test_child_tick_picks_up_files_copied_into_empty_patterns_dir)
{
    struct ww_child *c = NULL;
    struct ww_engine *e;
    char err[WW_ERRLEN] = "", path[128];

    ck_assert_int_eq(ww_child_create(conf, "t", WW_CHILD_PATTERNS, &hooks, &c, err, sizeof(err)),
                     WW_OK);
    ww_child_start(c, 0);
    snprintf(path, sizeof(path), "%s/empty/x.ndb", dir);
    write_text(path, "Test.Eicar:0:*:45494341522d5354414e444152442d414e544956495255532d54455354\n");
    ww_child_tick(c);
    e = ww_child_engine_ref(c);
    ck_assert_msg(e != NULL && engine_finds_eicar(e), "patterns_dir not picked up");
    ck_assert_str_eq(ww_child_pattern_version(c), "");
    ww_engine_unref(e);
    ww_child_free(c);
}
END_TEST

START_TEST(test_child_tick_reads_scan_method)
{
    struct ww_child *c = NULL;
    char err[WW_ERRLEN] = "";

    ck_assert_int_eq(ww_child_create(conf, "t", WW_CHILD_SCAN_METHOD, NULL, &c, err, sizeof(err)),
                     WW_OK);
    ck_assert_int_eq(ww_store_set_scan_method(st, WW_SCAN_CONVENTIONAL, "test", "check"), WW_OK);
    ww_child_start(c, 0);
    ck_assert_int_eq(ww_child_scan_method(c), WW_SCAN_CONVENTIONAL);
    ck_assert_int_eq(ww_store_set_scan_method(st, WW_SCAN_SMART, "test", "check"), WW_OK);
    ww_child_tick(c);
    ck_assert_int_eq(ww_child_scan_method(c), WW_SCAN_SMART);
    ww_child_free(c);
}
END_TEST

struct events {
    int n, dropped_line, blocked, cut;
};

static void count_event(const struct ww_event *ev, void *arg)
{
    struct events *e = arg;

    e->n++;
    if (strstr(ev->message, "detections were dropped") != NULL)
        e->dropped_line++;
    if (strstr(ev->message, ": blocked") != NULL)
        e->blocked++;
    if (strstr(ev->message, "download cut after 100 bytes") != NULL)
        e->cut++;
}

START_TEST(test_child_detections_and_feedback_reach_the_store)
{
    struct ww_child *c = NULL;
    struct ww_feedback_event ev;
    struct events got = {0};
    char err[WW_ERRLEN] = "";
    int64_t queued = 0, dropped = 0;

    ck_assert_int_eq(ww_child_create(conf, "t", 0, NULL, &c, err, sizeof(err)), WW_OK);
    ww_child_start(c, 0);
    ww_child_detection_add_via(c, "http://a.example/x", "Eicar", -1, "scanner=clamav type=zip");
    ww_child_detection_add_via(c, "http://a.example/y", "Eicar", 100, "scanner=- type=pe");
    memset(&ev, 0, sizeof(ev));
    snprintf(ev.url, sizeof(ev.url), "http://b.example/");
    snprintf(ev.action, sizeof(ev.action), "allow");
    ev.score = 90;
    ww_child_feedback_add(c, &ev);
    ww_child_tick(c);
    ck_assert_int_eq(ww_store_list_events(st, 100, count_event, &got), WW_OK);
    ck_assert_msg(got.blocked == 1 && got.cut == 1, "events: %d blocked, %d cut", got.blocked,
                  got.cut);
    ck_assert_int_eq(ww_store_feedback_stats(st, &queued, &dropped), WW_OK);
    ck_assert_msg(queued == 3 && dropped == 0, "feedback queued %lld dropped %lld",
                  (long long)queued, (long long)dropped);
    {
        /* the feedback rows say which scanner found it, when one is named */
        struct ww_feedback_event out[4];
        size_t n = 0, seen = 0;
        ck_assert_int_eq(ww_store_feedback_peek(st, out, 4, &n), WW_OK);
        for (size_t i = 0; i < n; i++) {
            const char *want = strcmp(out[i].url, "http://a.example/x") == 0 ? "clamav" : "";
            ck_assert_msg(strcmp(out[i].scanner, want) == 0, "%s: scanner \"%s\", want \"%s\"",
                          out[i].url, out[i].scanner, want);
            seen += want[0] != '\0';
        }
        ck_assert_uint_eq(seen, 1);
    }
    ww_child_free(c);
}
END_TEST

/* A cut URL is known at once to its own child, and after the tick to every child (the store). */
START_TEST(test_child_range_memory_reaches_every_child)
{
    struct ww_child *c = NULL, *other = NULL;
    struct ww_range_memo m, row;
    char err[WW_ERRLEN] = "";

    ck_assert_int_eq(ww_child_create(conf, "t", 0, NULL, &c, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_child_create(conf, "t2", 0, NULL, &other, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_child_range_lookup(c, "http://a.example/cut", NULL), -1); /* no store */
    ww_child_start(c, 0);
    ww_child_start(other, 0);
    ck_assert_int_eq(ww_child_range_lookup(c, "http://a.example/cut", NULL), 0);
    ww_child_range_remember(c, "http://a.example/cut", "Eicar", "\"e1\"", NULL);
    ck_assert_int_eq(ww_child_range_lookup(c, "http://a.example/cut", &m), 1); /* queued */
    ck_assert_str_eq(m.etag, "\"e1\"");
    ck_assert_int_eq(ww_child_range_lookup(other, "http://a.example/cut", NULL), 0);
    ww_child_tick(c);
    ck_assert_int_eq(ww_child_range_lookup(other, "http://a.example/cut", &m), 1);
    ck_assert_str_eq(m.threat, "Eicar");
    ck_assert_str_eq(m.last_modified, "");
    ck_assert_int_eq(ww_store_range_lookup(st, "http://a.example/cut", &row), WW_OK);
    ck_assert_int_eq(ww_child_range_lookup(other, "http://a.example/other", NULL), 0);
    ww_child_free(other);
    ww_child_free(c);
}
END_TEST

START_TEST(test_child_full_detection_queue_drops_oldest_and_says_so)
{
    struct ww_child *c = NULL;
    struct events got = {0};
    char err[WW_ERRLEN] = "";

    ck_assert_int_eq(ww_child_create(conf, "t", 0, NULL, &c, err, sizeof(err)), WW_OK);
    ww_child_start(c, 0);
    for (int i = 0; i < WW_CHILD_DETECTIONS_MAX + 5; i++)
        ww_child_detection_add(c, "http://a.example/", "Eicar", -1);
    ww_child_stop(c); /* the stop flushes what the tick had not */
    ck_assert_int_eq(ww_store_list_events(st, 1000, count_event, &got), WW_OK);
    ck_assert_msg(got.blocked == WW_CHILD_DETECTIONS_MAX && got.dropped_line == 1,
                  "events: %d blocked, %d drop lines", got.blocked, got.dropped_line);
    ww_child_free(c);
}
END_TEST

static Suite *child_suite(void)
{
    Suite *s = suite_create("child");
    TCase *tc = tcase_create("runtime");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_child_empty_patterns_dir_starts_without_engine);
    tcase_add_test(tc, test_child_unset_patterns_dir_starts_without_engine);
    tcase_add_test(tc, test_child_missing_patterns_dir_is_an_error);
    tcase_add_test(tc, test_child_tick_puts_first_installed_pattern_in_force);
    tcase_add_test(tc, test_child_tick_picks_up_files_copied_into_empty_patterns_dir);
    tcase_add_test(tc, test_child_tick_reads_scan_method);
    tcase_add_test(tc, test_child_detections_and_feedback_reach_the_store);
    tcase_add_test(tc, test_child_range_memory_reaches_every_child);
    tcase_add_test(tc, test_child_full_detection_queue_drops_oldest_and_says_so);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(child_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
