/* src/webwardenctl.c - the admin CLI: init, status, scan-method, events, config. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_daemon.h"
#include "ww_health.h"
#include "ww_log.h"
#include "ww_sched.h"
#include "ww_store.h"

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
            "  --json             machine-readable output (status, events)\n"
            "  -V, --version      print the version\n"
            "  -h, --help         this help\n"
            "\n"
            "Commands:\n"
            "  init                       create or migrate the state database (idempotent)\n"
            "  status [--json]            scan method, components, queue, license, jobs\n"
            "  scan-method                show the scan method and why it is in force\n"
            "  scan-method smart|conventional [--force] [--reason TEXT]\n"
            "                             set the scan method (smart checks the server first\n"
            "                             unless --force)\n"
            "  events [-n N] [--json]     the newest N events (default 20), oldest first\n"
            "  config                     print the effective config (secrets masked)\n",
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

/* "2026-11-27T20:51:57Z", or "-" for 0 (never). */
static const char *ctl_iso(time_t t, char *buf, size_t len)
{
    struct tm tm;

    if (t <= 0)
        return "-";
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    return buf;
}

static json_t *ctl_json_time(time_t t)
{
    char buf[32];

    return t > 0 ? json_string(ctl_iso(t, buf, sizeof(buf))) : json_null();
}

/* Prints <root> (takes ownership) as one JSON document on stdout. */
static int ctl_json_print(json_t *root)
{
    int rc = CTL_FAIL;

    if (root != NULL && json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0) {
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

static const char *ctl_method_name(enum ww_scan_method m)
{
    return m == WW_SCAN_SMART ? "smart" : "conventional";
}

/* ---- init ---- */

static int ctl_cmd_init(struct ctl *c, int argc, char **argv)
{
    const char *db = c->conf->state.database;
    struct ww_store *st = NULL;
    char err[WW_ERRLEN] = "";
    int version = 0, rc = CTL_FAIL;

    if (argc > 1) {
        ctl_err("init takes no arguments");
        return CTL_USAGE;
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
    printf("database:       %s\nschema version: %d\n", db, version);
    rc = CTL_OK;
cleanup:
    ww_store_close(st);
    return rc;
}

/* ---- status ---- */

static const char *const ctl_components[] = {"pattern", "urldb", "engine", NULL};

/* Whole days from today (UTC) until the end of <expires> (YYYY-MM-DD); INT_MIN-ish if unparsable.
 */
static int ctl_days_left(const char *expires, int *days)
{
    struct tm tm = {0};
    const char *end;
    time_t exp_t;

    end = strptime(expires, "%Y-%m-%d", &tm);
    if (end == NULL || *end != '\0')
        return 0;
    exp_t = timegm(&tm);
    *days = (int)((exp_t - time(NULL)) / 86400);
    if (exp_t > time(NULL) && (exp_t - time(NULL)) % 86400 != 0)
        (*days)++;
    return 1;
}

struct ctl_status {
    struct ww_scan_state scan;
    struct ww_component comp[3];
    int have_comp[3];
    int64_t queued, dropped;
    struct ww_license lic;
    char masked[80];
    int days, have_days;
    struct ww_sched_status jobs[WW_SCHED_MAX_JOBS];
    char appliance[64];
    long daemon_pid;
};

static int ctl_status_read(struct ww_store *st, const struct ctl *c, struct ctl_status *s)
{
    int rc;

    memset(s, 0, sizeof(*s));
    if (ww_store_get_scan_method(st, &s->scan) != WW_OK) {
        ctl_err("cannot read the scan method");
        return CTL_FAIL;
    }
    for (int i = 0; ctl_components[i] != NULL; i++) {
        rc = ww_store_component_get(st, ctl_components[i], &s->comp[i]);
        if (rc == WW_OK && s->comp[i].version[0] != '\0')
            s->have_comp[i] = 1;
        else if (rc != WW_OK && rc != WW_ENOTFOUND) {
            ctl_err("cannot read component %s", ctl_components[i]);
            return CTL_FAIL;
        }
    }
    if (ww_store_feedback_stats(st, &s->queued, &s->dropped) != WW_OK ||
        ww_store_license_get(st, &s->lic) != WW_OK ||
        ww_store_appliance_id(st, s->appliance, sizeof(s->appliance)) != WW_OK) {
        ctl_err("cannot read the state database %s", c->conf->state.database);
        return CTL_FAIL;
    }
    ww_log_mask_secret(s->lic.activation_code, s->masked, sizeof(s->masked));
    s->have_days = s->lic.expires[0] != '\0' && ctl_days_left(s->lic.expires, &s->days);
    for (int i = 0; ww_daemon_job_names[i] != NULL && i < WW_SCHED_MAX_JOBS; i++)
        if (ww_sched_status_get(st, ww_daemon_job_names[i], &s->jobs[i]) != WW_OK) {
            ctl_err("cannot read the state of job %s", ww_daemon_job_names[i]);
            return CTL_FAIL;
        }
    s->daemon_pid = (long)ww_daemon_running_pid(c->conf->state.database);
    return CTL_OK;
}

static int ctl_status_json(const struct ctl *c, const struct ctl_status *s)
{
    json_t *root = json_object(), *comps = json_object(), *jobs = json_object();

    json_object_set_new(root, "database", json_string(c->conf->state.database));
    json_object_set_new(root, "config", json_string(c->conf->path));
    json_object_set_new(root, "appliance_id", json_string(s->appliance));
    json_object_set_new(root, "scan_method",
                        json_pack("{s:s, s:s, s:s, s:o}", "method", ctl_method_name(s->scan.method),
                                  "reason", s->scan.reason, "changed_by", s->scan.changed_by,
                                  "changed_at", ctl_json_time(s->scan.changed_at)));
    for (int i = 0; ctl_components[i] != NULL; i++)
        json_object_set_new(comps, ctl_components[i],
                            s->have_comp[i]
                                ? json_pack("{s:s, s:o}", "version", s->comp[i].version,
                                            "installed_at", ctl_json_time(s->comp[i].installed_at))
                                : json_null());
    json_object_set_new(root, "components", comps);
    json_object_set_new(root, "feedback",
                        json_pack("{s:I, s:I}", "queued", (json_int_t)s->queued, "dropped",
                                  (json_int_t)s->dropped));
    json_object_set_new(root, "license",
                        json_pack("{s:s?, s:s?, s:s?, s:s?, s:o, s:o}", "activation_code",
                                  s->lic.activation_code[0] ? s->masked : NULL, "status",
                                  s->lic.status[0] ? s->lic.status : NULL, "edition",
                                  s->lic.edition[0] ? s->lic.edition : NULL, "expires",
                                  s->lic.expires[0] ? s->lic.expires : NULL, "days_left",
                                  s->have_days ? json_integer(s->days) : json_null(), "checked_at",
                                  ctl_json_time(s->lic.checked_at)));
    for (int i = 0; ww_daemon_job_names[i] != NULL; i++) {
        const struct ww_sched_status *j = &s->jobs[i];
        json_object_set_new(jobs, ww_daemon_job_names[i],
                            json_pack("{s:o, s:o, s:o, s:s?}", "last_run",
                                      ctl_json_time(j->last_run), "next_run",
                                      ctl_json_time(j->next_run), "ok",
                                      j->ok < 0 ? json_null() : json_boolean(j->ok), "result",
                                      j->result[0] ? j->result : NULL));
    }
    json_object_set_new(root, "jobs", jobs);
    json_object_set_new(root, "daemon",
                        json_pack("{s:b, s:o}", "running", s->daemon_pid > 0, "pid",
                                  s->daemon_pid > 0 ? json_integer(s->daemon_pid) : json_null()));
    return ctl_json_print(root);
}

static int ctl_status_human(const struct ctl *c, const struct ctl_status *s)
{
    char t1[32], t2[32];
    const char *lic_status = s->lic.status[0] ? s->lic.status : "none";

    printf("Scan method:   %s\n", ctl_method_name(s->scan.method));
    printf("  why:         %s\n", s->scan.reason[0] ? s->scan.reason : "-");
    printf("  changed by:  %s at %s\n", s->scan.changed_by[0] ? s->scan.changed_by : "-",
           ctl_iso(s->scan.changed_at, t1, sizeof(t1)));
    printf("Components:\n");
    for (int i = 0; ctl_components[i] != NULL; i++) {
        if (s->have_comp[i])
            printf("  %-12s %s (installed %s)\n", ctl_components[i], s->comp[i].version,
                   ctl_iso(s->comp[i].installed_at, t1, sizeof(t1)));
        else
            printf("  %-12s none\n", ctl_components[i]);
    }
    printf("Feedback:      %lld queued, %lld dropped\n", (long long)s->queued,
           (long long)s->dropped);
    if (s->lic.edition[0] != '\0')
        printf("License:       %s (%s)\n", lic_status, s->lic.edition);
    else
        printf("License:       %s\n", lic_status);
    if (s->lic.activation_code[0] != '\0')
        printf("  code:        %s\n", s->masked);
    if (s->lic.expires[0] != '\0') {
        if (s->have_days)
            printf("  expires:     %s (%d days left)\n", s->lic.expires, s->days);
        else
            printf("  expires:     %s\n", s->lic.expires);
    }
    printf("Jobs:          %-20s  %-20s  %-6s %s\n", "last run", "next run", "ok", "result");
    for (int i = 0; ww_daemon_job_names[i] != NULL; i++) {
        const struct ww_sched_status *j = &s->jobs[i];
        printf("  %-12s %-20s  %-20s  %-6s %s\n", ww_daemon_job_names[i],
               ctl_iso(j->last_run, t1, sizeof(t1)), ctl_iso(j->next_run, t2, sizeof(t2)),
               j->ok < 0 ? "-"
               : j->ok   ? "yes"
                         : "no",
               j->result[0] ? j->result : "-");
    }
    if (s->daemon_pid > 0)
        printf("Daemon:        running (pid %ld)\n", s->daemon_pid);
    else
        printf("Daemon:        not running\n");
    printf("Appliance id:  %s\n", s->appliance);
    printf("Database:      %s\n", c->conf->state.database);
    return CTL_OK;
}

static int ctl_cmd_status(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    struct ww_store *st = NULL;
    struct ctl_status *s = NULL;
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
    if ((rc = ctl_status_read(st, c, s)) != CTL_OK)
        goto cleanup;
    rc = c->json ? ctl_status_json(c, s) : ctl_status_human(c, s);
cleanup:
    free(s);
    ww_store_close(st);
    return rc;
}

/* ---- scan-method ---- */

/* Before the method goes back to smart: does the Smart Protection Server answer its health
 * probe within smart_scan.timeout_ms? WW_OK to go on (also when no server is configured: there
 * is nothing to check, and <why> says so), else the reason in <why>. */
static int ctl_smart_server_check(const struct ww_conf *conf, char *why, size_t len)
{
    return ww_health_check_server(conf, why, len);
}

static int ctl_cmd_scan_method(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                         {"reason", required_argument, NULL, 'r'},
                                         {NULL, 0, NULL, 0}};
    struct ww_store *st = NULL;
    struct ww_scan_state cur, now;
    enum ww_scan_method want = WW_SCAN_CONVENTIONAL;
    const char *reason = NULL;
    char why[WW_ERRLEN] = "", t[32], text[300];
    int force = 0, opt, rc;

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
            rc = ctl_json_print(json_pack(
                "{s:s, s:s, s:s, s:o}", "method", ctl_method_name(cur.method), "reason", cur.reason,
                "changed_by", cur.changed_by, "changed_at", ctl_json_time(cur.changed_at)));
            goto cleanup;
        }
        printf("%s (since %s, by %s: %s)\n", ctl_method_name(cur.method),
               ctl_iso(cur.changed_at, t, sizeof(t)), cur.changed_by[0] ? cur.changed_by : "-",
               cur.reason[0] ? cur.reason : "-");
        rc = CTL_OK;
        goto cleanup;
    }
    if (cur.method == want) {
        printf("scan method is already %s\n", ctl_method_name(want));
        rc = CTL_OK;
        goto cleanup;
    }
    if (want == WW_SCAN_SMART && !force) {
        if (ctl_smart_server_check(c->conf, why, sizeof(why)) != WW_OK) {
            ctl_err("smart-scan server does not answer (%s); scan method stays %s "
                    "(--force switches anyway)",
                    why, ctl_method_name(cur.method));
            goto cleanup;
        }
        printf("note: %s\n", why);
    }
    if (reason == NULL)
        snprintf(text, sizeof(text), "set by the administrator%s",
                 want == WW_SCAN_SMART && force ? " (--force: server not checked)" : "");
    else
        snprintf(text, sizeof(text), "%s", reason);
    if (ww_store_set_scan_method(st, want, "webwardenctl", text) != WW_OK ||
        ww_store_get_scan_method(st, &now) != WW_OK) {
        ctl_err("cannot record the scan method in %s", c->conf->state.database);
        goto cleanup;
    }
    printf("scan method: %s -> %s (%s)\n", ctl_method_name(cur.method), ctl_method_name(now.method),
           now.reason);
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
    printf("%s  %-7s %-10s %s\n", ctl_iso(ev->at, t, sizeof(t)), ev->level, ev->source,
           ev->message);
}

static void ctl_event_json(const struct ww_event *ev, void *arg)
{
    json_array_append_new(arg, json_pack("{s:I, s:o, s:s, s:s, s:s}", "id", (json_int_t)ev->id,
                                         "at", ctl_json_time(ev->at), "level", ev->level, "source",
                                         ev->source, "message", ev->message));
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

/* ---- config ---- */

static int ctl_cmd_config(struct ctl *c, int argc, char **argv)
{
    char *text = NULL;

    if (argc > 1) {
        ctl_err("config takes no arguments");
        return CTL_USAGE;
    }
    if (ww_conf_dump(c->conf, &text) != WW_OK || text == NULL) {
        ctl_err("cannot print the config");
        return CTL_FAIL;
    }
    fputs(text, stdout);
    free(text);
    return CTL_OK;
}

static const struct {
    const char *name;
    int (*run)(struct ctl *c, int argc, char **argv);
} ctl_commands[] = {
    {"init", ctl_cmd_init},     {"status", ctl_cmd_status}, {"scan-method", ctl_cmd_scan_method},
    {"events", ctl_cmd_events}, {"config", ctl_cmd_config},
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
        ctl_err("%s", err);
        return CTL_FAIL;
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
