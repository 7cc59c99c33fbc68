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
#include "ww_log.h"
#include "ww_policies.h"
#include "ww_policy.h"
#include "ww_rep.h"
#include "ww_sched.h"
#include "ww_store.h"
#include "ww_update.h"
#include "ww_url.h"
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
            "  init                       create or migrate the state database (idempotent)\n"
            "  status [--json]            scan method, components, queue, license, jobs\n"
            "  scan-method                show the scan method and why it is in force\n"
            "  scan-method smart|conventional [--force] [--reason TEXT]\n"
            "                             set the scan method (smart checks the server first\n"
            "                             unless --force)\n"
            "  events [-n N] [--json]     the newest N events (default 20), oldest first\n"
            "  config                     print the effective config (secrets masked)\n"
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

/* One cloud server as status shows it. */
struct ctl_server {
    const char *name;  /* "reputation", "smart scan", ... */
    const char *state; /* ok | failing | backoff | not configured | never checked | no calls yet */
    time_t checked;    /* the newest result this is based on; 0 = none */
    char detail[320];
};
#define CTL_SERVERS 5
#define CTL_MAX_PROBLEMS 8
#define CTL_RECENT 5

struct ctl_status {
    struct ww_scan_state scan;
    struct ww_component comp[3];
    int have_comp[3];
    int64_t queued, dropped;
    struct ww_license lic;
    char masked[80];
    int days, have_days;
    struct ww_license_state lstate; /* phase, days and grace days left (lib/ww_license.h) */
    char lic_desc[256];
    int updates_allowed;
    char updates_why[512];
    struct ww_sched_status jobs[WW_SCHED_MAX_JOBS];
    char appliance[64];
    long daemon_pid;
    struct ctl_server servers[CTL_SERVERS];
    int health_failures; /* failed smart-scan checks in a row */
    char problems[CTL_MAX_PROBLEMS][320];
    int nproblems;
    struct ww_event recent[CTL_RECENT]; /* newest warning/error events, newest first */
    int nrecent;
};

static void ctl_problem(struct ctl_status *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void ctl_problem(struct ctl_status *s, const char *fmt, ...)
{
    va_list ap;

    if (s->nproblems >= CTL_MAX_PROBLEMS)
        return;
    va_start(ap, fmt);
    vsnprintf(s->problems[s->nproblems++], sizeof(s->problems[0]), fmt, ap);
    va_end(ap);
}

/* "3 days", "5 hours", "12 minutes", "40 seconds" since <t>. */
static const char *ctl_age(time_t t, time_t now, char *buf, size_t len)
{
    long d = (long)(now - t);

    if (t <= 0)
        return "-";
    if (d < 0)
        d = 0;
    if (d >= 2 * 86400)
        snprintf(buf, len, "%ld days", d / 86400);
    else if (d >= 2 * 3600)
        snprintf(buf, len, "%ld hours", d / 3600);
    else if (d >= 120)
        snprintf(buf, len, "%ld minutes", d / 60);
    else
        snprintf(buf, len, "%ld seconds", d);
    return buf;
}

/* The reputation server from what webwarden_url's children last stored (WW_REP_STATE_KEY). */
static void ctl_server_reputation(struct ww_store *st, const struct ctl *c, struct ctl_server *sv)
{
    char val[512], t1[32], t2[32];
    json_t *root;
    json_int_t at = 0, last_ok = 0, last_fail = 0;
    const char *state = NULL, *error = "";

    sv->name = "reputation";
    if (c->conf->reputation.server[0] == '\0') {
        sv->state = "not configured";
        snprintf(sv->detail, sizeof(sv->detail), "every URL is unrated (reputation.server)");
        return;
    }
    if (ww_store_kv_get(st, WW_REP_STATE_KEY, val, sizeof(val)) != WW_OK ||
        (root = json_loads(val, 0, NULL)) == NULL) {
        sv->state = "no calls yet";
        snprintf(sv->detail, sizeof(sv->detail), "no lookup reached the server so far");
        return;
    }
    if (json_unpack(root, "{s:s, s:I, s:I, s:I, s?s}", "state", &state, "at", &at, "last_ok",
                    &last_ok, "last_fail", &last_fail, "error", &error) != 0) {
        sv->state = "no calls yet";
        snprintf(sv->detail, sizeof(sv->detail), "unreadable %s row", WW_REP_STATE_KEY);
        json_decref(root);
        return;
    }
    sv->state = strcmp(state, "backoff") == 0   ? "backoff"
                : strcmp(state, "failing") == 0 ? "failing"
                                                : "ok";
    sv->checked = (time_t)at;
    if (last_fail > 0)
        snprintf(sv->detail, sizeof(sv->detail), "last answer %s, last failure %s (%s)",
                 ctl_iso((time_t)last_ok, t1, sizeof(t1)),
                 ctl_iso((time_t)last_fail, t2, sizeof(t2)), error[0] ? error : "-");
    else
        snprintf(sv->detail, sizeof(sv->detail), "last answer %s, no failure",
                 ctl_iso((time_t)last_ok, t1, sizeof(t1)));
    json_decref(root);
}

/* A server checked by one of webwardend's jobs: its last result. */
static void ctl_server_job(const char *name, const char *key, const char *server,
                           const struct ww_sched_status *j, struct ctl_server *sv)
{
    sv->name = name;
    if (server == NULL || server[0] == '\0') {
        sv->state = "not configured";
        snprintf(sv->detail, sizeof(sv->detail), "%s not set", key);
        return;
    }
    sv->state = j->ok < 0 ? "never checked" : j->ok ? "ok" : "failing";
    sv->checked = j->last_run;
    snprintf(sv->detail, sizeof(sv->detail), "%s", j->result[0] ? j->result : "-");
}

static void ctl_collect_recent(const struct ww_event *ev, void *arg)
{
    struct ctl_status *s = arg;

    if (strcmp(ev->level, "warning") != 0 && strcmp(ev->level, "error") != 0)
        return;
    /* oldest first: keep the newest CTL_RECENT, newest at [0] */
    memmove(&s->recent[1], &s->recent[0], sizeof(s->recent[0]) * (CTL_RECENT - 1));
    s->recent[0] = *ev;
    if (s->nrecent < CTL_RECENT)
        s->nrecent++;
}

static int ctl_job_index(const char *name)
{
    for (int i = 0; ww_daemon_job_names[i] != NULL; i++)
        if (strcmp(ww_daemon_job_names[i], name) == 0)
            return i;
    return 0;
}

/* The servers, the problems an admin must act on, and the newest warnings. */
static int ctl_status_health(struct ww_store *st, const struct ctl *c, struct ctl_status *s)
{
    const struct ww_conf *cf = c->conf;
    int successes = 0;
    char age[32];

    ctl_server_reputation(st, c, &s->servers[0]);
    ctl_server_job("smart scan", "smart_scan.server", cf->smart_scan.server,
                   &s->jobs[ctl_job_index("health")], &s->servers[1]);
    ctl_server_job("feedback", "feedback.server", cf->feedback.server,
                   &s->jobs[ctl_job_index("feedback")], &s->servers[2]);
    ctl_server_job("update", "update.server", cf->update.server, &s->jobs[ctl_job_index("update")],
                   &s->servers[3]);
    ctl_server_job("license", "license.server", cf->license.server,
                   &s->jobs[ctl_job_index("license")], &s->servers[4]);
    if (ww_store_health_streak(st, &s->health_failures, &successes) != WW_OK) {
        ctl_err("cannot read the health-check history");
        return CTL_FAIL;
    }
    if (cf->smart_scan.server[0] != '\0' && s->health_failures > 0) {
        size_t n = strlen(s->servers[1].detail);
        snprintf(s->servers[1].detail + n, sizeof(s->servers[1].detail) - n,
                 " (%d failed check%s in a row)", s->health_failures,
                 s->health_failures == 1 ? "" : "s");
    }

    if (s->daemon_pid <= 0)
        ctl_problem(s, "webwardend is not running: no health checks, feedback upload, updates "
                       "or license checks");
    if (s->scan.method == WW_SCAN_CONVENTIONAL && cf->smart_scan.server[0] != '\0')
        ctl_problem(s,
                    "smart scan is off since %s (%s, by %s); when the server answers again: "
                    "webwardenctl scan-method smart",
                    ctl_age(s->scan.changed_at, time(NULL), age, sizeof(age)), s->scan.reason,
                    s->scan.changed_by);
    for (int i = 0; i < CTL_SERVERS; i++) {
        const struct ctl_server *sv = &s->servers[i];
        if (strcmp(sv->state, "failing") == 0 || strcmp(sv->state, "backoff") == 0)
            ctl_problem(s, "%s server %s: %s", sv->name, sv->state, sv->detail);
    }
    if (s->dropped > 0)
        ctl_problem(s, "%lld feedback events were dropped from a full queue (feedback.max_queued)",
                    (long long)s->dropped);
    if (s->lstate.phase == WW_LICENSE_GRACE || s->lstate.phase == WW_LICENSE_PAST_GRACE ||
        s->lstate.phase == WW_LICENSE_INVALID)
        ctl_problem(s, "license %s", s->lic_desc);
    if (ww_store_list_events(st, 200, ctl_collect_recent, s) != WW_OK) {
        ctl_err("cannot read the events");
        return CTL_FAIL;
    }
    return CTL_OK;
}

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
    ww_license_state(&s->lic, time(NULL), c->conf->license.grace_days, &s->lstate);
    ww_license_describe(&s->lic, time(NULL), c->conf->license.grace_days, s->lic_desc,
                        sizeof(s->lic_desc));
    s->updates_allowed = ww_license_updates_allowed(
        &s->lic, time(NULL), c->conf->license.grace_days, s->updates_why, sizeof(s->updates_why));
    s->have_days = s->lstate.phase >= WW_LICENSE_ACTIVE;
    s->days = s->lstate.days_left;
    for (int i = 0; ww_daemon_job_names[i] != NULL && i < WW_SCHED_MAX_JOBS; i++)
        if (ww_sched_status_get(st, ww_daemon_job_names[i], &s->jobs[i]) != WW_OK) {
            ctl_err("cannot read the state of job %s", ww_daemon_job_names[i]);
            return CTL_FAIL;
        }
    s->daemon_pid = (long)ww_daemon_running_pid(c->conf->state.database);
    return ctl_status_health(st, c, s);
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
    json_object_set_new(json_object_get(root, "license"), "phase",
                        json_string(ww_license_phase_name(s->lstate.phase)));
    json_object_set_new(json_object_get(root, "license"), "grace_days_left",
                        s->have_days ? json_integer(s->lstate.grace_days_left) : json_null());
    json_object_set_new(json_object_get(root, "license"), "updates_allowed",
                        json_boolean(s->updates_allowed));
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
    json_object_set_new(root, "healthy", json_boolean(s->nproblems == 0));
    json_t *probs = json_array(), *servers = json_object(), *recent = json_array();
    for (int i = 0; i < s->nproblems; i++)
        json_array_append_new(probs, json_string(s->problems[i]));
    json_object_set_new(root, "problems", probs);
    for (int i = 0; i < CTL_SERVERS; i++)
        json_object_set_new(servers, s->servers[i].name,
                            json_pack("{s:s, s:o, s:s}", "state", s->servers[i].state, "checked",
                                      ctl_json_time(s->servers[i].checked), "detail",
                                      s->servers[i].detail));
    json_object_set_new(root, "servers", servers);
    for (int i = 0; i < s->nrecent; i++)
        json_array_append_new(recent, json_pack("{s:o, s:s, s:s, s:s}", "at",
                                                ctl_json_time(s->recent[i].at), "level",
                                                s->recent[i].level, "source", s->recent[i].source,
                                                "message", s->recent[i].message));
    json_object_set_new(root, "recent_problems", recent);
    json_object_set_new(root, "daemon",
                        json_pack("{s:b, s:o}", "running", s->daemon_pid > 0, "pid",
                                  s->daemon_pid > 0 ? json_integer(s->daemon_pid) : json_null()));
    return ctl_json_print(root);
}

static int ctl_status_human(const struct ctl *c, const struct ctl_status *s)
{
    char t1[32], t2[32];
    const char *lic_status = s->lic.status[0] ? s->lic.status : "none";
    char age[32];
    time_t now = time(NULL);

    if (s->nproblems == 0) {
        printf("Health:        ok\n");
    } else {
        printf("Health:        ATTENTION, %d problem%s\n", s->nproblems,
               s->nproblems == 1 ? "" : "s");
        for (int i = 0; i < s->nproblems; i++)
            printf("  - %s\n", s->problems[i]);
    }
    printf("Scan method:   %s\n", ctl_method_name(s->scan.method));
    printf("  why:         %s\n", s->scan.reason[0] ? s->scan.reason : "-");
    printf("  changed by:  %s at %s\n", s->scan.changed_by[0] ? s->scan.changed_by : "-",
           ctl_iso(s->scan.changed_at, t1, sizeof(t1)));
    printf("Servers:       %-15s %-20s  %s\n", "state", "as of", "detail");
    for (int i = 0; i < CTL_SERVERS; i++) {
        const struct ctl_server *sv = &s->servers[i];
        printf("  %-12s %-15s %-20s  %s\n", sv->name, sv->state,
               ctl_iso(sv->checked, t1, sizeof(t1)), sv->detail[0] ? sv->detail : "-");
    }
    printf("Components:\n");
    for (int i = 0; ctl_components[i] != NULL; i++) {
        if (s->have_comp[i])
            printf("  %-12s %s (installed %s, %s ago)\n", ctl_components[i], s->comp[i].version,
                   ctl_iso(s->comp[i].installed_at, t1, sizeof(t1)),
                   ctl_age(s->comp[i].installed_at, now, age, sizeof(age)));
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
    if (s->lstate.phase == WW_LICENSE_GRACE)
        printf("  grace:       %s\n", s->lic_desc);
    if (!s->updates_allowed)
        printf("  updates:     %s\n", s->updates_why);
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
    if (s->nrecent > 0) {
        printf("Recent warnings (newest first; all: webwardenctl events):\n");
        for (int i = 0; i < s->nrecent; i++)
            printf("  %s %-7s %-8s %s\n", ctl_iso(s->recent[i].at, t1, sizeof(t1)),
                   s->recent[i].level, s->recent[i].source, s->recent[i].message);
    }
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

/* ---- feedback ---- */

static int ctl_feedback_status(struct ctl *c, struct ww_store *st)
{
    struct ww_sched_status js;
    int64_t queued = 0, dropped = 0, first = 0, last = 0;
    char pending[64] = "", t1[32];
    const char *server = c->conf->feedback.server;

    if (ww_store_feedback_stats(st, &queued, &dropped) != WW_OK ||
        ww_store_kv_get(st, WW_FEEDBACK_PENDING_KEY, pending, sizeof(pending)) != WW_OK ||
        ww_sched_status_get(st, "feedback", &js) != WW_OK) {
        ctl_err("cannot read the feedback queue from %s", c->conf->state.database);
        return CTL_FAIL;
    }
    if (sscanf(pending, "%" SCNd64 " %" SCNd64, &first, &last) != 2)
        first = last = 0;
    if (c->json)
        return ctl_json_print(json_pack(
            "{s:s?, s:I, s:I, s:o, s:o, s:o, s:s?}", "server", server[0] ? server : NULL, "queued",
            (json_int_t)queued, "dropped", (json_int_t)dropped, "unconfirmed",
            first > 0
                ? json_pack("{s:I, s:I}", "first", (json_int_t)first, "last", (json_int_t)last)
                : json_null(),
            "last_run", ctl_json_time(js.last_run), "ok",
            js.ok < 0 ? json_null() : json_boolean(js.ok), "result",
            js.result[0] ? js.result : NULL));
    printf("Server:       %s\n", server[0] ? server : "(not configured: feedback.server)");
    printf("Queued:       %lld events\n", (long long)queued);
    printf("Dropped:      %lld (queue or buffer full, oldest first)\n", (long long)dropped);
    if (first > 0)
        printf("Unconfirmed:  rows %lld-%lld sent, answer not received: resent under the same "
               "batch id\n",
               (long long)first, (long long)last);
    else
        printf("Unconfirmed:  none\n");
    printf("Last run:     %s %s %s\n", ctl_iso(js.last_run, t1, sizeof(t1)),
           js.ok < 0 ? ""
           : js.ok   ? "ok"
                     : "failed:",
           js.result[0] ? js.result : "");
    return CTL_OK;
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
    struct ww_license_state ls;
    char masked[80], desc[256], why[512], t1[32];
    time_t now = time(NULL);
    int allowed, grace = c->conf->license.grace_days;

    ww_log_mask_secret(lic->activation_code, masked, sizeof(masked));
    ww_license_state(lic, now, grace, &ls);
    ww_license_describe(lic, now, grace, desc, sizeof(desc));
    allowed = ww_license_updates_allowed(lic, now, grace, why, sizeof(why));
    if (c->json)
        return ctl_json_print(json_pack(
            "{s:s?, s:s?, s:s, s:s?, s:s?, s:s?, s:i, s:o, s:o, s:b, s:s, s:o}", "activation_code",
            lic->activation_code[0] ? masked : NULL, "status", lic->status[0] ? lic->status : NULL,
            "phase", ww_license_phase_name(ls.phase), "product",
            lic->product[0] ? lic->product : NULL, "edition", lic->edition[0] ? lic->edition : NULL,
            "expires", lic->expires[0] ? lic->expires : NULL, "seats", lic->seats, "days_left",
            ls.phase >= WW_LICENSE_ACTIVE ? json_integer(ls.days_left) : json_null(),
            "grace_days_left",
            ls.phase >= WW_LICENSE_ACTIVE ? json_integer(ls.grace_days_left) : json_null(),
            "updates_allowed", allowed, "updates", why, "checked_at",
            ctl_json_time(lic->checked_at)));
    if (lic->activation_code[0] == '\0') {
        printf("License:      %s\n", desc);
        return CTL_OK;
    }
    printf("License:      %s\n", desc);
    printf("  code:       %s\n", masked);
    printf("  status:     %s (server)\n", lic->status[0] ? lic->status : "-");
    printf("  product:    %s %s\n", lic->product[0] ? lic->product : "-", lic->edition);
    printf("  seats:      %d\n", lic->seats);
    printf("  expires:    %s\n", lic->expires[0] ? lic->expires : "-");
    printf("  updates:    %s\n", allowed ? "allowed" : why);
    printf("  checked:    %s\n", ctl_iso(lic->checked_at, t1, sizeof(t1)));
    return CTL_OK;
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

/* ---- url-check ---- */

/* What decided a URL, as url-check prints it. */
struct ctl_check {
    char url[WW_URL_MAX];
    struct ww_rating rating;
    struct ww_policy_decision decision;
    char path[160];   /* "list (blocked: example.com)", "server", "timeout" ... */
    char urldb[1100]; /* the local database used, "" = none */
    double ms;
    struct ww_who who;              /* --client, --user, --group */
    const struct ww_policy *policy; /* the one selected for <who> */
    const char *policy_term;        /* the term that selected it, "" for the default */
};

/* The urldb the module would use: the store's installed component, else urldb.file. Loads it
 * into *db (NULL when there is none) and names it in <used>. A store that cannot be read is
 * not an error here (a fresh install has none): only the file matters. */
static int ctl_check_urldb(const struct ctl *c, struct ww_store *st, struct ww_urldb **db,
                           char *used, size_t usedlen)
{
    struct ww_component comp;
    char err[WW_ERRLEN] = "";
    const char *path = c->conf->urldb.file;

    *db = NULL;
    used[0] = '\0';
    if (st != NULL && ww_store_component_get(st, "urldb", &comp) == WW_OK &&
        comp.version[0] != '\0' && comp.path[0] != '\0')
        path = comp.path;
    if (path == NULL || path[0] == '\0')
        return CTL_OK;
    if (ww_urldb_load(path, db, err, sizeof(err)) != WW_OK) {
        ctl_err("local URL database: %s", err);
        return CTL_FAIL;
    }
    snprintf(used, usedlen, "%s (version %s, %zu entries)", path, ww_urldb_version(*db),
             ww_urldb_count(*db));
    return CTL_OK;
}

/* Lists first, then the same lookup as the module (local db -> server within
 * reputation.timeout_ms; the cache is this process's own, so it is always empty). */
static int ctl_check_run(const struct ctl *c, const char *raw, struct ctl_check *k)
{
    struct ww_list *approved = NULL, *blocked = NULL;
    struct ww_store *st = NULL;
    struct ww_rep_provider *provider = NULL;
    struct ww_urldb *db = NULL;
    struct ww_rep *rep = NULL;
    struct timespec t0, t1;
    char err[WW_ERRLEN] = "", appliance[64] = "";
    const char *entry = NULL;
    struct stat sb;
    enum ww_listed listed;
    int rc = CTL_FAIL;

    if (ww_url_canon(raw, k->url, sizeof(k->url)) != WW_OK) {
        ctl_err("url-check: '%s' is not a URL", raw);
        return CTL_USAGE;
    }
    if (ww_list_load(c->conf->lists.approved, &approved, err, sizeof(err)) != WW_OK ||
        ww_list_load(c->conf->lists.blocked, &blocked, err, sizeof(err)) != WW_OK) {
        ctl_err("lists: %s", err);
        goto cleanup;
    }
    if (ww_policies_load_lists(c->conf->policy_set, err, sizeof(err)) != WW_OK) {
        ctl_err("%s: %s", c->conf->path, err);
        goto cleanup;
    }
    k->policy = ww_policies_select(c->conf->policy_set, &k->who, &k->policy_term);
    /* The state store gives the appliance id and the installed urldb; optional here. */
    if (stat(c->conf->state.database, &sb) == 0 &&
        ww_store_open(c->conf->state.database, 0, &st, err, sizeof(err)) == WW_OK) {
        if (ww_store_appliance_id(st, appliance, sizeof(appliance)) != WW_OK)
            appliance[0] = '\0';
    } else {
        st = NULL;
    }
    if ((rc = ctl_check_urldb(c, st, &db, k->urldb, sizeof(k->urldb))) != CTL_OK)
        goto cleanup;
    rc = CTL_FAIL;
    if (c->conf->reputation.server[0] != '\0') {
        struct ww_http_opts opts = {
            .timeout_ms = c->conf->reputation.timeout_ms,
            .tls_verify = c->conf->reputation.tls_verify,
            .ca_file = c->conf->reputation.ca_file,
            .api_key = c->conf->reputation.api_key,
            .appliance_id = appliance,
        };
        provider = ww_rep_provider_wrs_create(c->conf->reputation.server, &opts);
        if (provider == NULL) {
            ctl_err("out of memory");
            goto cleanup;
        }
    }
    rep = ww_rep_create(c->conf, provider, db); /* takes provider and db, even on failure */
    provider = NULL;
    db = NULL;
    if (rep == NULL) {
        ctl_err("out of memory");
        goto cleanup;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    listed = ww_policy_lists_match(approved, blocked, k->policy, k->url, &entry);
    if (listed == WW_LISTED_APPROVED) {
        ww_rating_init(&k->rating, WW_REP_SRC_LIST, WW_OK);
        k->decision.action = WW_ACTION_ALLOW;
        snprintf(k->decision.reason, sizeof(k->decision.reason), "approved list: %s", entry);
        snprintf(k->path, sizeof(k->path), "list (approved: %s)", entry);
    } else if (listed == WW_LISTED_BLOCKED) {
        ww_rating_init(&k->rating, WW_REP_SRC_LIST, WW_OK);
        k->decision.action = WW_ACTION_BLOCK;
        snprintf(k->decision.reason, sizeof(k->decision.reason), "blocked list: %s", entry);
        snprintf(k->path, sizeof(k->path), "list (blocked: %s)", entry);
    } else {
        ww_rep_check(rep, k->url, &k->rating);
        ww_policy_decide_for(c->conf, k->policy, &k->rating, &k->decision);
        if (k->rating.source == WW_REP_SRC_FAILURE && k->rating.error == WW_ETIMEOUT)
            snprintf(k->path, sizeof(k->path), "timeout (no answer within %d ms)",
                     c->conf->reputation.timeout_ms);
        else if (k->rating.source == WW_REP_SRC_FAILURE)
            snprintf(k->path, sizeof(k->path), "failure (%s)", ww_strerror(k->rating.error));
        else if (k->rating.source == WW_REP_SRC_NONE)
            snprintf(k->path, sizeof(k->path), "none (no reputation server configured)");
        else if (k->rating.source == WW_REP_SRC_SERVER)
            snprintf(k->path, sizeof(k->path), "server (%s)", c->conf->reputation.server);
        else
            snprintf(k->path, sizeof(k->path), "%s", ww_rep_source_name(k->rating.source));
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    k->ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    rc = CTL_OK;
cleanup:
    ww_rep_free(rep);
    ww_rep_provider_free(provider);
    ww_urldb_unref(db);
    ww_store_close(st);
    ww_list_free(approved);
    ww_list_free(blocked);
    return rc;
}

static int ctl_cmd_url_check(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"client", required_argument, NULL, 'c'},
                                         {"user", required_argument, NULL, 'u'},
                                         {"group", required_argument, NULL, 'g'},
                                         {NULL, 0, NULL, 0}};
    struct ctl_check *k = calloc(1, sizeof(*k));
    json_t *cats = NULL;
    char score[16], who[1024];
    int opt, rc = CTL_USAGE;

    if (k == NULL) {
        ctl_err("out of memory");
        return CTL_FAIL;
    }
    ww_who_init(&k->who);
    /* The same identity the module takes from X-Client-IP, X-Client-Username and
     * X-Authenticated-Groups (plain, as Squid sends them). */
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'j') {
            c->json = 1;
        } else if (opt == 'c' && ww_who_set_ip(&k->who, optarg) != WW_OK) {
            ctl_err("url-check: --client '%s' is not an IPv4 or IPv6 address", optarg);
            goto cleanup;
        } else if (opt == 'u' && ww_who_set_user(&k->who, optarg, 0) != WW_OK) {
            ctl_err("url-check: --user '%s' is not a usable name", optarg);
            goto cleanup;
        } else if (opt == 'g' && ww_who_add_groups(&k->who, optarg, 0) != WW_OK) {
            ctl_err("url-check: --group '%s' is not a usable name", optarg);
            goto cleanup;
        } else if (opt != 'c' && opt != 'u' && opt != 'g') {
            goto cleanup;
        }
    }
    if (argc - optind != 1) {
        ctl_err("url-check wants exactly one URL");
        goto cleanup;
    }
    rc = ctl_check_run(c, argv[optind], k);
    if (rc != CTL_OK)
        goto cleanup;
    if (k->rating.source == WW_REP_SRC_LIST)
        snprintf(score, sizeof(score), "-");
    else
        snprintf(score, sizeof(score), "%d%s", k->rating.score,
                 k->rating.score == 0 ? " (unrated)" : "");
    if (c->json) {
        cats = json_array();
        for (int i = 0; cats != NULL && i < k->rating.ncategories; i++)
            json_array_append_new(cats, json_string(k->rating.categories[i]));
        rc = ctl_json_print(json_pack(
            "{s:s, s:s, s:s, s:s, s:o, s:O, s:s, s:s, s:s, s:s?, s:f}", "url", k->url, "policy",
            k->policy->name, "policy_match", k->policy_term, "decision",
            ww_policy_action_name(k->decision.action), "score",
            k->rating.source == WW_REP_SRC_LIST ? json_null() : json_integer(k->rating.score),
            "categories", cats, "reason", k->decision.reason, "path", k->path, "source",
            ww_rep_source_name(k->rating.source), "urldb", k->urldb[0] ? k->urldb : NULL, "ms",
            k->ms));
        goto cleanup;
    }
    ww_who_format(&k->who, who, sizeof(who));
    printf("url:        %s\n", k->url);
    printf("who:        %s\n", who);
    printf("policy:     %s%s%s%s\n", k->policy->name, k->policy_term[0] ? " (match " : "",
           k->policy_term, k->policy_term[0] ? ")" : "");
    printf("decision:   %s\n", ww_policy_action_name(k->decision.action));
    printf("score:      %s\n", score);
    printf("categories: ");
    for (int i = 0; i < k->rating.ncategories; i++)
        printf("%s%s", i ? "," : "", k->rating.categories[i]);
    if (k->rating.ncategories == 0) /* the module's word for "no rating" too */
        printf("%s", k->rating.source != WW_REP_SRC_LIST && k->rating.score == 0 ? "unrated" : "-");
    printf("\n");
    printf("reason:     %s\n", k->decision.reason);
    printf("path:       %s\n", k->path);
    printf("local db:   %s\n", k->urldb[0] ? k->urldb : "none");
    printf("time:       %.1f ms\n", k->ms);
cleanup:
    json_decref(cats);
    free(k);
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
    {"urldb", ctl_cmd_urldb},
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
