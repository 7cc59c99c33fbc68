/* src/webwardenctl.c - the admin CLI: init, status, scan-method, events, config, update,
 * feedback, license, url-check, urldb import. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_daemon.h"
#include "ww_feedback.h"
#include "ww_health.h"
#include "ww_http.h"
#include "ww_license.h"
#include "ww_lists.h"
#include "ww_html.h"
#include "ww_lastgood.h"
#include "ww_log.h"
#include "ww_policies.h"
#include "ww_policy.h"
#include "ww_rep.h"
#include "ww_sched.h"
#include "ww_statedir.h"
#include "ww_status.h"
#include "ww_statusview.h"
#include "ww_store.h"
#include "ww_update.h"
#include "ww_url.h"
#include "ww_urlcheck.h"
#include "ww_urlcheckview.h"
#include "ww_urldb.h"
#include "ww_who.h"

/* Exit codes: 0 done, 1 failed (message on stderr), 2 bad usage. */
enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

struct ctl {
    const char *conf_path; /* -c, or NULL */
    int json;              /* --json given */
    struct ww_conf *conf;  /* loaded before any command runs */
};

static void ctl_usage(FILE *fp)
{
    fprintf(fp,
            "usage: webwardenctl [-c FILE] [--json] COMMAND [ARGS]\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE  config file (else $WEBWARDEN_CONF, else %s)\n"
            "  --json             machine-readable output (status, events, url-check)\n"
            "  -V, --version      print the version\n"
            "  -h, --help         this help\n"
            "\n"
            "Commands:\n"
            "  init [--group GROUP] [--patterns]\n"
            "                             create or migrate the state database (idempotent);\n"
            "                             --group: the database and its folder read/write for\n"
            "                             GROUP (the Group c-icap runs as); --patterns: create\n"
            "                             scan.patterns_dir, starter patterns if it is empty\n"
            "  status [--json]            scan method, components, queue, license, jobs\n"
            "  scan-method                show the scan method and why it is in force\n"
            "  scan-method smart|conventional [--force] [--reason TEXT]\n"
            "                             set the scan method (smart checks the server first\n"
            "                             unless --force)\n"
            "  events [-n N] [--json]     the newest N events (default 20), oldest first\n"
            "  config                     print the effective config (secrets masked)\n"
            "  reload [--ctl FIFO] [--wait S]\n"
            "                             check the config, lists and block page, then have\n"
            "                             c-icap reconfigure (default " WW_CICAP_CTL_DEFAULT ")\n"
            "                             and wait up to S s (30) until the services loaded it\n"
            "  feedback status            queued, dropped, unconfirmed batch, last run\n"
            "  feedback flush             upload the queued feedback now\n"
            "  license show               the stored license (offline)\n"
            "  license check              check the stored activation code online\n"
            "  license activate CODE      check CODE's format, then activate it online\n"
            "  update now                 fetch and install newer pattern/urldb now\n"
            "  update status              installed versions, last attempt, result, reason\n"
            "  update rollback pattern|urldb\n"
            "                             go back to the version installed before\n"
            "  url-check URL [--json] [--client IP] [--user NAME] [--group G]...\n"
            "                             decide URL as webwarden_url does: the policy for\n"
            "                             that client, user and groups, lists, local URL\n"
            "                             database, reputation server; prints the policy,\n"
            "                             decision, score, categories, reason, path and time\n"
            "  urldb import DIR OUT [--score N] [--category-scores C=N,...] [--version V]\n"
            "                             convert squidGuard/UT1 category lists in DIR into\n"
            "                             the urldb file OUT (default score 0: categories only)\n",
            WW_DEFAULT_CONF);
}

static void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ctl_err(const char *fmt, ...)
{
    va_list ap;

    fputs("webwardenctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Library messages (SQLite errors...) go to stderr without the daemon's timestamps. */
static void ctl_log_sink(int level, const char *line)
{
    fprintf(stderr, "webwardenctl: %s%s\n", level == WW_LOG_ERR ? "" : "note: ", line);
}

/* Prints <root> (takes ownership) as one JSON document on stdout. */
static int ctl_json_print(json_t *root)
{
    int rc = CTL_FAIL;

    if (root != NULL &&
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) ==
            0) {
        fputc('\n', stdout);
        rc = CTL_OK;
    } else {
        ctl_err("out of memory writing JSON");
    }
    json_decref(root);
    return rc;
}

/* Opens the state database, which must exist: only `init` creates it. */
static int ctl_open_store(const struct ctl *c, struct ww_store **st)
{
    const char *db = c->conf->state.database;
    char err[WW_ERRLEN] = "";
    struct stat sb;

    if (stat(db, &sb) != 0) {
        if (errno == ENOENT)
            ctl_err("state database %s does not exist: run 'webwardenctl init' first (config %s)",
                    db, c->conf->path);
        else
            ctl_err("state database %s: %s", db, strerror(errno));
        return CTL_FAIL;
    }
    if (ww_store_open(db, 0, st, err, sizeof(err)) != WW_OK) {
        ctl_err("%s", err[0] != '\0' ? err : "cannot open the state database");
        return CTL_FAIL;
    }
    return CTL_OK;
}

/* ---- init ---- */

/* init [--group GROUP] [--patterns]: the logic is in lib/ww_store.c and lib/ww_statedir.c. */
static int ctl_cmd_init(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"group", required_argument, NULL, 'g'},
                                         {"patterns", no_argument, NULL, 'p'},
                                         {NULL, 0, NULL, 0}};
    const char *db = c->conf->state.database, *group = NULL;
    struct ww_store *st = NULL;
    char err[WW_ERRLEN] = "";
    int version = 0, rc = CTL_FAIL, opt, patterns = 0, copied = 0;
    gid_t gid = 0;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'g')
            group = optarg;
        else if (opt == 'p')
            patterns = 1;
        else
            return CTL_USAGE;
    }
    if (optind != argc) {
        ctl_err("init: unexpected argument '%s'", argv[optind]);
        return CTL_USAGE;
    }
    if (group != NULL && ww_statedir_group_id(group, &gid, err, sizeof(err)) != WW_OK) {
        ctl_err("init --group: %s", err);
        return CTL_FAIL;
    }
    if (ww_daemon_make_parent_dir(db, err, sizeof(err)) != WW_OK ||
        ww_store_open(db, WW_STORE_MIGRATE, &st, err, sizeof(err)) != WW_OK) {
        ctl_err("%s", err[0] != '\0' ? err : "cannot create the state database");
        goto cleanup;
    }
    if (ww_store_schema_version(st, &version) != WW_OK) {
        ctl_err("cannot read the schema version of %s", db);
        goto cleanup;
    }
    /* After the first open: SQLite has made the -wal and -shm files the group needs too. */
    if (group != NULL && ww_statedir_share(db, gid, err, sizeof(err)) != WW_OK) {
        ctl_err("init --group %s: %s", group, err);
        goto cleanup;
    }
    printf("database:       %s\nschema version: %d\n", db, version);
    if (group != NULL)
        printf("shared with:    group %s (folder setgid, database 0660)\n", group);
    if (patterns) {
        if (ww_statedir_seed_patterns(c->conf->scan.patterns_dir, WW_DATADIR "/patterns", &copied,
                                      err, sizeof(err)) != WW_OK) {
            ctl_err("init --patterns: %s", err);
            goto cleanup;
        }
        printf("patterns:       %s (%d starter files copied from %s)\n", c->conf->scan.patterns_dir,
               copied, WW_DATADIR "/patterns");
    }
    rc = CTL_OK;
cleanup:
    ww_store_close(st);
    return rc;
}

/* ---- status ---- */

static int ctl_cmd_status(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    struct ww_store *st = NULL;
    struct ww_status *s = NULL;
    char err[WW_ERRLEN] = "";
    int opt, rc;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 'j')
            return CTL_USAGE;
        c->json = 1;
    }
    if (optind != argc) {
        ctl_err("status: unexpected argument '%s'", argv[optind]);
        return CTL_USAGE;
    }
    if ((rc = ctl_open_store(c, &st)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    s = malloc(sizeof(*s));
    if (s == NULL) {
        ctl_err("out of memory");
        goto cleanup;
    }
    if (ww_status_read(st, c->conf, time(NULL), s, err, sizeof(err)) != WW_OK) {
        ctl_err("%s", err);
        goto cleanup;
    }
    if (c->json)
        rc = ctl_json_print(ww_statusview_json(s, c->conf));
    else if (ww_statusview_text(s, c->conf, time(NULL), stdout) == WW_OK)
        rc = CTL_OK;
cleanup:
    free(s);
    ww_store_close(st);
    return rc;
}

/* ---- scan-method ---- */

/* Before the method goes back to smart: does the Smart Protection Server answer its health
 * probe within smart_scan.timeout_ms? WW_OK to go on (also when no server is configured: there
 * is nothing to check, and <why> says so), else the reason in <why>. */
static int ctl_cmd_scan_method(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                         {"reason", required_argument, NULL, 'r'},
                                         {NULL, 0, NULL, 0}};
    struct ww_store *st = NULL;
    struct ww_scan_state cur, now;
    enum ww_scan_method want = WW_SCAN_CONVENTIONAL;
    const char *reason = NULL;
    char why[WW_ERRLEN] = "", t[32];
    int force = 0, changed = 0, opt, rc;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'f')
            force = 1;
        else if (opt == 'r')
            reason = optarg;
        else
            return CTL_USAGE;
    }
    if (argc - optind > 1) {
        ctl_err("scan-method: unexpected argument '%s'", argv[optind + 1]);
        return CTL_USAGE;
    }
    if (optind == argc && (force || reason != NULL)) {
        ctl_err("scan-method: --force and --reason need smart or conventional");
        return CTL_USAGE;
    }
    if (optind < argc && strcmp(argv[optind], "smart") == 0)
        want = WW_SCAN_SMART;
    else if (optind < argc && strcmp(argv[optind], "conventional") == 0)
        want = WW_SCAN_CONVENTIONAL;
    else if (optind < argc) {
        ctl_err("scan-method: '%s' is neither smart nor conventional", argv[optind]);
        return CTL_USAGE;
    }
    if ((rc = ctl_open_store(c, &st)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (ww_store_get_scan_method(st, &cur) != WW_OK) {
        ctl_err("cannot read the scan method");
        goto cleanup;
    }
    if (optind == argc) {
        if (c->json) {
            rc = ctl_json_print(json_pack("{s:s, s:s, s:s, s:o}", "method",
                                          ww_statusview_method(cur.method), "reason", cur.reason,
                                          "changed_by", cur.changed_by, "changed_at",
                                          ww_statusview_time(cur.changed_at)));
            goto cleanup;
        }
        printf("%s (since %s, by %s: %s)\n", ww_statusview_method(cur.method),
               ww_status_iso(cur.changed_at, t, sizeof(t)),
               cur.changed_by[0] ? cur.changed_by : "-", cur.reason[0] ? cur.reason : "-");
        rc = CTL_OK;
        goto cleanup;
    }
    rc = ww_health_set_method(st, c->conf, want, force, reason, &changed, why, sizeof(why));
    if (rc == WW_EDB || (rc == WW_OK && changed && ww_store_get_scan_method(st, &now) != WW_OK)) {
        ctl_err("cannot record the scan method in %s", c->conf->state.database);
        rc = CTL_FAIL;
        goto cleanup;
    }
    if (rc != WW_OK) {
        ctl_err("smart-scan server does not answer (%s); scan method stays %s "
                "(--force switches anyway)",
                why, ww_statusview_method(cur.method));
        rc = CTL_FAIL;
        goto cleanup;
    }
    if (!changed) {
        printf("scan method is already %s\n", ww_statusview_method(want));
        goto cleanup;
    }
    if (why[0] != '\0')
        printf("note: %s\n", why);
    printf("scan method: %s -> %s (%s)\n", ww_statusview_method(cur.method),
           ww_statusview_method(now.method), now.reason);
    rc = CTL_OK;
cleanup:
    ww_store_close(st);
    return rc;
}

/* ---- events ---- */

static void ctl_event_print(const struct ww_event *ev, void *arg)
{
    char t[32];

    (void)arg;
    printf("%s  %-7s %-10s %s\n", ww_status_iso(ev->at, t, sizeof(t)), ev->level, ev->source,
           ev->message);
}

static void ctl_event_json(const struct ww_event *ev, void *arg)
{
    json_array_append_new(arg, json_pack("{s:I, s:o, s:s, s:s, s:s}", "id", (json_int_t)ev->id,
                                         "at", ww_statusview_time(ev->at), "level", ev->level,
                                         "source", ev->source, "message", ev->message));
}

static int ctl_cmd_events(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    struct ww_store *st = NULL;
    json_t *list = NULL;
    long n = 20;
    char *end;
    int opt, rc;

    while ((opt = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
        if (opt == 'j') {
            c->json = 1;
        } else if (opt == 'n') {
            errno = 0;
            n = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg || n < 1 || n > 100000) {
                ctl_err("events: -n wants a number from 1 to 100000, not '%s'", optarg);
                return CTL_USAGE;
            }
        } else {
            return CTL_USAGE;
        }
    }
    if (optind != argc) {
        ctl_err("events: unexpected argument '%s'", argv[optind]);
        return CTL_USAGE;
    }
    if ((rc = ctl_open_store(c, &st)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (c->json && (list = json_array()) == NULL)
        goto cleanup;
    if (ww_store_list_events(st, (int)n, c->json ? ctl_event_json : ctl_event_print, list) !=
        WW_OK) {
        ctl_err("cannot read the events");
        goto cleanup;
    }
    rc = c->json ? ctl_json_print(json_pack("{s:O}", "events", list)) : CTL_OK;
cleanup:
    json_decref(list);
    ww_store_close(st);
    return rc;
}

/* ---- feedback ---- */

static int ctl_feedback_status(struct ctl *c, struct ww_store *st)
{
    struct ww_statusview_feedback f = {.server = c->conf->feedback.server};
    char pending[64] = "";

    if (ww_store_feedback_stats(st, &f.queued, &f.dropped) != WW_OK ||
        ww_store_kv_get(st, WW_FEEDBACK_PENDING_KEY, pending, sizeof(pending)) != WW_OK ||
        ww_sched_status_get(st, "feedback", &f.job) != WW_OK) {
        ctl_err("cannot read the feedback queue from %s", c->conf->state.database);
        return CTL_FAIL;
    }
    if (sscanf(pending, "%" SCNd64 " %" SCNd64, &f.first, &f.last) != 2)
        f.first = f.last = 0;
    if (c->json)
        return ctl_json_print(ww_statusview_feedback_json(&f));
    return ww_statusview_feedback_text(&f, stdout) == WW_OK ? CTL_OK : CTL_FAIL;
}

static int ctl_feedback_flush(struct ctl *c, struct ww_store *st)
{
    struct ww_http *h = NULL;
    char app[128] = "", result[512] = "";
    int rc;

    if (c->conf->feedback.server[0] == '\0') {
        ctl_err("feedback flush: no feedback server configured (feedback.server)");
        return CTL_FAIL;
    }
    if (ww_store_appliance_id(st, app, sizeof(app)) != WW_OK ||
        (h = ww_feedback_http_create(c->conf, app)) == NULL) {
        ctl_err("feedback flush: cannot start (state database or memory)");
        return CTL_FAIL;
    }
    ww_log_set_sink(ctl_log_sink, WW_LOG_ERR); /* the result line below says it once */
    /* An admin's flush may take longer than one daemon run: up to a minute of batches. */
    rc = ww_feedback_run_for(st, c->conf, h, 60000, result, sizeof(result));
    ww_http_free(h);
    if (rc != WW_OK) {
        ctl_err("feedback flush: %s", result);
        return CTL_FAIL;
    }
    printf("%s\n", result);
    return CTL_OK;
}

static int ctl_cmd_feedback(struct ctl *c, int argc, char **argv)
{
    struct ww_store *st = NULL;
    int rc;

    if (argc != 2 || (strcmp(argv[1], "status") != 0 && strcmp(argv[1], "flush") != 0)) {
        ctl_err("feedback: want 'status' or 'flush'");
        return CTL_USAGE;
    }
    if ((rc = ctl_open_store(c, &st)) != CTL_OK)
        return rc;
    rc = strcmp(argv[1], "status") == 0 ? ctl_feedback_status(c, st) : ctl_feedback_flush(c, st);
    ww_store_close(st);
    return rc;
}

/* ---- license ---- */

static int ctl_license_print(const struct ctl *c, const struct ww_license *lic)
{
    int grace = c->conf->license.grace_days;
    time_t now = time(NULL);

    if (c->json)
        return ctl_json_print(ww_statusview_license_json(lic, grace, now));
    return ww_statusview_license_text(lic, grace, now, stdout) == WW_OK ? CTL_OK : CTL_FAIL;
}

static int ctl_cmd_license(struct ctl *c, int argc, char **argv)
{
    struct ww_store *st = NULL;
    struct ww_http *h = NULL;
    struct ww_license lic;
    char app[128] = "", err[WW_ERRLEN] = "", code[WW_LICENSE_CODE_LEN + 1], result[512];
    const char *sub = argc >= 2 ? argv[1] : "";
    int rc;

    if (!((strcmp(sub, "show") == 0 && argc == 2) || (strcmp(sub, "check") == 0 && argc == 2) ||
          (strcmp(sub, "activate") == 0 && argc == 3))) {
        ctl_err("license: want 'show', 'check' or 'activate CODE'");
        return CTL_USAGE;
    }
    /* The format is checked before anything else, offline. */
    if (strcmp(sub, "activate") == 0 &&
        ww_license_code_normalise(argv[2], code, sizeof(code), err, sizeof(err)) != WW_OK) {
        ctl_err("license activate: %s", err);
        return CTL_FAIL;
    }
    if ((rc = ctl_open_store(c, &st)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (ww_store_license_get(st, &lic) != WW_OK) {
        ctl_err("cannot read the license from %s", c->conf->state.database);
        goto cleanup;
    }
    if (strcmp(sub, "show") == 0) {
        rc = ctl_license_print(c, &lic);
        goto cleanup;
    }
    if (c->conf->license.server[0] == '\0') {
        ctl_err("license %s: no license server configured (license.server)", sub);
        goto cleanup;
    }
    if (strcmp(sub, "check") == 0 && lic.activation_code[0] == '\0') {
        ctl_err("license check: no activation code stored (webwardenctl license activate CODE)");
        goto cleanup;
    }
    if (ww_store_appliance_id(st, app, sizeof(app)) != WW_OK ||
        (h = ww_license_http_create(c->conf, app)) == NULL) {
        ctl_err("license %s: cannot start (state database or memory)", sub);
        goto cleanup;
    }
    ww_log_set_sink(ctl_log_sink, WW_LOG_ERR); /* one message, ours, below */
    if (strcmp(sub, "check") == 0) {
        /* As webwardend's daily check: the stored code's fresh details are stored; a failure
         * leaves the license as it was. */
        if (ww_license_run_once(st, c->conf, h, result, sizeof(result)) != WW_OK) {
            ctl_err("license check: %s", result);
            goto cleanup;
        }
    } else if (ww_license_activate(st, c->conf, h, code, &lic, err, sizeof(err)) != WW_OK) {
        ctl_err("license activate: %s", err);
        goto cleanup;
    } else {
        printf("License activated.\n");
    }
    if (ww_store_license_get(st, &lic) != WW_OK) {
        ctl_err("cannot read the license back from %s", c->conf->state.database);
        goto cleanup;
    }
    rc = ctl_license_print(c, &lic);
cleanup:
    ww_http_free(h);
    ww_store_close(st);
    return rc;
}

/* ---- config ---- */

static int ctl_cmd_config(struct ctl *c, int argc, char **argv)
{
    char *text = NULL, err[WW_ERRLEN] = "";

    if (argc > 1) {
        ctl_err("config takes no arguments");
        return CTL_USAGE;
    }
    /* The policies' extra list files, as webwarden_url loads them: a bad one fails here too,
     * so this is the check to run before reconfiguring c-icap. */
    if (ww_policies_load_lists(c->conf->policy_set, err, sizeof(err)) != WW_OK) {
        ctl_err("%s: %s", c->conf->path, err);
        return CTL_FAIL;
    }
    if (ww_conf_dump(c->conf, &text) != WW_OK || text == NULL) {
        ctl_err("cannot print the config");
        return CTL_FAIL;
    }
    fputs(text, stdout);
    free(text);
    return CTL_OK;
}

/* ---- reload ---- */

/* Checks what the services load (the config, every policy's list files, the block page), then
 * asks c-icap to reconfigure and waits (--wait S, default 30; 0: not) until the services have
 * loaded it; a config that fails is never handed to c-icap. */
static int ctl_cmd_reload(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"ctl", required_argument, NULL, 'C'},
                                         {"wait", required_argument, NULL, 'w'},
                                         {NULL, 0, NULL, 0}};
    const char *ctl_path = WW_CICAP_CTL_DEFAULT;
    char err[WW_ERRLEN] = "", *page = NULL, *end;
    long wait_s = 30;
    int opt, done;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'C') {
            ctl_path = optarg;
        } else if (opt == 'w') {
            errno = 0;
            wait_s = strtol(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || wait_s < 0 || wait_s > 3600) {
                ctl_err("reload: --wait '%s': seconds from 0 to 3600", optarg);
                return CTL_USAGE;
            }
        } else {
            return CTL_USAGE;
        }
    }
    if (optind != argc) {
        ctl_err("reload: unexpected argument '%s'", argv[optind]);
        return CTL_USAGE;
    }
    if (ww_policies_load_lists(c->conf->policy_set, err, sizeof(err)) != WW_OK) {
        ctl_err("%s: %s: not reloaded", c->conf->path, err);
        return CTL_FAIL;
    }
    if (ww_page_load(c->conf->gateway.block_page, &page, err, sizeof(err)) != WW_OK) {
        ctl_err("%s: [gateway] block_page: %s: not reloaded", c->conf->path, err);
        return CTL_FAIL;
    }
    free(page);
    if (ww_lastgood_reconfigure_wait(ctl_path, c->conf->state.database, wait_s * 1000, &done, err,
                                     sizeof(err)) != WW_OK) {
        ctl_err("%s", err);
        return CTL_FAIL;
    }
    if (done == 0) {
        ctl_err("%s loads, but c-icap did not reconfigure within %ld s (%s): it ignores a "
                "reconfigure while the children of its last one are still finishing (idle "
                "keep-alive connections hold them; its log says \"A reconfigure pending\"). The "
                "configuration in force is the previous one: run webwardenctl reload again later, "
                "or restart c-icap",
                c->conf->path, wait_s, ctl_path);
        return CTL_FAIL;
    }
    if (done == 1)
        printf("%s loads: c-icap reconfigured (%s), the services loaded it\n", c->conf->path,
               ctl_path);
    else
        printf("%s loads: c-icap asked to reconfigure (%s)\n", c->conf->path, ctl_path);
    return CTL_OK;
}

/* ---- url-check ---- */

/* Decides <raw> as webwarden_url does (lib/ww_urlcheck): lists, local URL database, the
 * reputation server within reputation.timeout_ms (this process's cache is always empty), the
 * policy. The state store is optional here (a fresh install has none): it gives the appliance id
 * and the installed urldb. */
static int ctl_check_run(const struct ctl *c, const char *raw, const struct ww_who *who, char *url,
                         size_t urllen, struct ww_urlcheck **ucp, struct ww_urlcheck_verdict *v,
                         const char **term)
{
    struct ww_store *st = NULL;
    char err[WW_ERRLEN] = "";
    struct stat sb;
    struct ww_urlcheck_input in = {.url = url};
    int rc = CTL_FAIL;

    /* The policy for that identity, as the module picks it from the proxy's ICAP headers. */
    in.policy = ww_policies_select(c->conf->policy_set, who, term);
    if (ww_url_canon(raw, url, urllen) != WW_OK) {
        ctl_err("url-check: '%s' is not a URL", raw);
        return CTL_USAGE;
    }
    if (ww_urlcheck_create(c->conf, ucp, err, sizeof(err)) != WW_OK) {
        ctl_err("%s", err);
        goto cleanup;
    }
    if (stat(c->conf->state.database, &sb) != 0 ||
        ww_store_open(c->conf->state.database, 0, &st, err, sizeof(err)) != WW_OK)
        st = NULL;
    if (ww_urlcheck_open_reputation(*ucp, st, err, sizeof(err)) != WW_OK) {
        ctl_err("%s", err);
        goto cleanup;
    }
    ww_urlcheck_decide(*ucp, &in, v);
    rc = CTL_OK;
cleanup:
    ww_store_close(st);
    return rc;
}

static int ctl_cmd_url_check(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"client", required_argument, NULL, 'c'},
                                         {"user", required_argument, NULL, 'u'},
                                         {"group", required_argument, NULL, 'g'},
                                         {NULL, 0, NULL, 0}};
    struct ww_urlcheck_verdict *v = NULL;
    struct ww_urlcheck *uc = NULL;
    struct ww_urlcheckview view;
    const char *term = "";
    char *url = NULL;
    struct ww_who who;
    int opt, rc;

    /* The identity webwarden_url takes from X-Client-IP, X-Client-Username and
     * X-Authenticated-Groups (plain, as Squid sends them). */
    ww_who_init(&who);
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'j') {
            c->json = 1;
        } else if (opt == 'c' && ww_who_set_ip(&who, optarg) != WW_OK) {
            ctl_err("url-check: --client '%s' is not an IPv4 or IPv6 address", optarg);
            return CTL_USAGE;
        } else if (opt == 'u' && ww_who_set_user(&who, optarg, 0) != WW_OK) {
            ctl_err("url-check: --user '%s' is not a usable name", optarg);
            return CTL_USAGE;
        } else if (opt == 'g' && ww_who_add_groups(&who, optarg, 0) != WW_OK) {
            ctl_err("url-check: --group '%s' is not a usable name", optarg);
            return CTL_USAGE;
        } else if (opt != 'c' && opt != 'u' && opt != 'g') {
            return CTL_USAGE;
        }
    }
    if (argc - optind != 1) {
        ctl_err("url-check wants exactly one URL");
        return CTL_USAGE;
    }
    v = calloc(1, sizeof(*v));
    url = malloc(WW_URL_MAX);
    if (v == NULL || url == NULL) {
        ctl_err("out of memory");
        rc = CTL_FAIL;
        goto cleanup;
    }
    rc = ctl_check_run(c, argv[optind], &who, url, WW_URL_MAX, &uc, v, &term);
    if (rc != CTL_OK)
        goto cleanup;
    view = (struct ww_urlcheckview){url, &who, term, v, ww_urlcheck_urldb_desc(uc)};
    if (c->json)
        rc = ctl_json_print(ww_urlcheckview_json(&view));
    else if (ww_urlcheckview_text(&view, stdout) != WW_OK)
        rc = CTL_FAIL;
cleanup:
    ww_urlcheck_free(uc);
    free(url);
    free(v);
    return rc;
}

/* ---- urldb ---- */

static int ctl_cmd_urldb(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"score", required_argument, NULL, 's'},
                                         {"category-scores", required_argument, NULL, 'C'},
                                         {"version", required_argument, NULL, 'v'},
                                         {NULL, 0, NULL, 0}};
    const char *cat_scores = NULL, *version = NULL;
    char err[WW_ERRLEN] = "", *end;
    size_t entries = 0;
    long score = 0;
    int opt;

    (void)c;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 's') {
            errno = 0;
            score = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg || score < 0 || score > 100) {
                ctl_err("urldb import: --score wants a number from 0 to 100, not '%s'", optarg);
                return CTL_USAGE;
            }
        } else if (opt == 'C') {
            cat_scores = optarg;
        } else if (opt == 'v') {
            version = optarg;
        } else {
            return CTL_USAGE;
        }
    }
    if (argc - optind != 3 || strcmp(argv[optind], "import") != 0) {
        ctl_err("usage: urldb import DIR OUT [--score N] [--category-scores C=N,...] "
                "[--version V]");
        return CTL_USAGE;
    }
    if (ww_urldb_import_squidguard(argv[optind + 1], argv[optind + 2], (int)score, cat_scores,
                                   version, &entries, err, sizeof(err)) != WW_OK) {
        ctl_err("urldb import: %s", err[0] ? err : "failed");
        return CTL_FAIL;
    }
    printf("wrote %zu entries to %s\n", entries, argv[optind + 2]);
    return CTL_OK;
}

/* ---- update ---- */

/* update now: one pass in this process (the lock in update.dir keeps it apart from webwardend's
 * scheduled run); update status; update rollback COMPONENT. Exit 1 when the update failed. */
static int ctl_cmd_update(struct ctl *c, int argc, char **argv)
{
    struct ww_store *st = NULL;
    const char *sub = argc > 1 ? argv[1] : "";
    char text[4096] = "";
    int rc, wrc;

    if (strcmp(sub, "now") == 0 || strcmp(sub, "status") == 0) {
        if (argc != 2) {
            ctl_err("update %s takes no arguments", sub);
            return CTL_USAGE;
        }
    } else if (strcmp(sub, "rollback") == 0) {
        if (argc != 3) {
            ctl_err("update rollback wants one component: pattern or urldb");
            return CTL_USAGE;
        }
    } else {
        ctl_err("update wants now, status or rollback COMPONENT");
        return CTL_USAGE;
    }
    if ((rc = ctl_open_store(c, &st)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (strcmp(sub, "status") == 0) {
        if (ww_update_status_text(st, text, sizeof(text)) != WW_OK) {
            ctl_err("cannot read the update state from %s", c->conf->state.database);
            goto cleanup;
        }
        fputs(text, stdout);
        rc = CTL_OK;
    } else if (strcmp(sub, "now") == 0) {
        if (c->conf->update.server[0] == '\0') {
            ctl_err("no update.server configured (config %s)", c->conf->path);
            goto cleanup;
        }
        wrc = ww_update_run_once(st, c->conf, NULL, text, sizeof(text));
        if (wrc == WW_OK) {
            printf("%s\n", text);
            rc = CTL_OK;
        } else {
            ctl_err("update %s", text);
        }
    } else {
        wrc = ww_update_rollback(st, c->conf, argv[2], text, sizeof(text));
        if (wrc == WW_OK) {
            printf("%s\n", text);
            rc = CTL_OK;
        } else {
            ctl_err("rollback: %s", text);
            rc = wrc == WW_EINVAL ? CTL_USAGE : CTL_FAIL;
        }
    }
cleanup:
    ww_store_close(st);
    return rc;
}

static const struct {
    const char *name;
    int (*run)(struct ctl *c, int argc, char **argv);
} ctl_commands[] = {
    {"init", ctl_cmd_init},       {"status", ctl_cmd_status}, {"scan-method", ctl_cmd_scan_method},
    {"events", ctl_cmd_events},   {"config", ctl_cmd_config}, {"feedback", ctl_cmd_feedback},
    {"license", ctl_cmd_license}, {"update", ctl_cmd_update}, {"url-check", ctl_cmd_url_check},
    {"urldb", ctl_cmd_urldb},     {"reload", ctl_cmd_reload},
};

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"version", no_argument, NULL, 'V'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct ctl c = {0};
    char err[WW_ERRLEN] = "";
    int opt, rc;
    size_t i;

    /* "+": stop at the command; its own options are parsed by the command. */
    while ((opt = getopt_long(argc, argv, "+c:jVh", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            c.conf_path = optarg;
            break;
        case 'j':
            c.json = 1;
            break;
        case 'V':
            printf("webwardenctl %s\n", WW_VERSION);
            return CTL_OK;
        case 'h':
            ctl_usage(stdout);
            return CTL_OK;
        default:
            ctl_usage(stderr);
            return CTL_USAGE;
        }
    }
    if (optind == argc) {
        ctl_usage(stderr);
        return CTL_USAGE;
    }
    for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
        if (strcmp(argv[optind], ctl_commands[i].name) == 0)
            break;
    if (i == sizeof(ctl_commands) / sizeof(ctl_commands[0])) {
        ctl_err("unknown command '%s' (try webwardenctl --help)", argv[optind]);
        return CTL_USAGE;
    }
    ww_log_set_sink(ctl_log_sink, WW_LOG_WARN);
    if (ww_conf_load(ww_conf_pick_path(c.conf_path), &c.conf, err, sizeof(err)) != WW_OK) {
        char why[WW_ERRLEN];
        int fallback = 0;
        ctl_err("%s", err);
        /* status still reports, on the copy the services serve (lib/ww_lastgood) */
        if (strcmp(argv[optind], "status") != 0 ||
            ww_lastgood_load(ww_conf_pick_path(c.conf_path), WW_LASTGOOD_READONLY, &c.conf,
                             &fallback, why, sizeof(why)) != WW_OK ||
            !fallback)
            return CTL_FAIL;
        fprintf(stderr, "webwardenctl: status of the last good configuration (the services serve "
                        "it after a reconfigure)\n");
    }
    argc -= optind;
    argv += optind;
    optind = 0; /* 0, not 1: glibc re-initialises getopt for the command's own options */
    rc = ctl_commands[i].run(&c, argc, argv);
    if (rc == CTL_USAGE)
        fprintf(stderr, "usage: see webwardenctl --help\n");
    ww_conf_free(c.conf);
    return rc;
}
