/* lib/ww_status.c - the status model, its problem rules and the reputation.state row (see
 * ww_status.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_daemon.h"
#include "ww_license.h"
#include "ww_log.h"
#include "ww_scan.h"
#include "ww_sched.h"
#include "ww_status.h"
#include "ww_store.h"

const char *const ww_status_components[] = {"pattern", "urldb", "engine", NULL};

/* ---- reputation.state ---- */

const char *ww_rep_state_name(enum ww_rep_state s)
{
    switch (s) {
    case WW_REP_STATE_FAILING:
        return "failing";
    case WW_REP_STATE_BACKOFF:
        return "backoff";
    case WW_REP_STATE_OK:
    default:
        return "ok";
    }
}

int ww_status_rep_state_encode(const struct ww_rep_state_row *row, char *out, size_t outlen)
{
    json_t *root = json_pack("{s:s, s:I, s:I, s:I, s:s}", "state", ww_rep_state_name(row->state),
                             "at", (json_int_t)row->at, "last_ok", (json_int_t)row->last_ok,
                             "last_fail", (json_int_t)row->last_fail, "error", row->error);
    size_t n;

    if (root == NULL)
        return WW_ENOMEM;
    n = json_dumpb(root, out, outlen, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (n == 0 || n >= outlen)
        return WW_ETOOBIG;
    out[n] = '\0';
    return WW_OK;
}

int ww_status_rep_state_decode(const char *json, struct ww_rep_state_row *row)
{
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
    json_int_t at = 0, last_ok = 0, last_fail = 0;
    const char *state = NULL, *error = "";
    int rc = WW_EPROTO;

    memset(row, 0, sizeof(*row));
    if (root == NULL ||
        json_unpack(root, "{s:s, s:I, s:I, s:I, s?s}", "state", &state, "at", &at, "last_ok",
                    &last_ok, "last_fail", &last_fail, "error", &error) != 0)
        goto cleanup;
    if (strcmp(state, "ok") == 0)
        row->state = WW_REP_STATE_OK;
    else if (strcmp(state, "failing") == 0)
        row->state = WW_REP_STATE_FAILING;
    else if (strcmp(state, "backoff") == 0)
        row->state = WW_REP_STATE_BACKOFF;
    else
        goto cleanup;
    row->at = (time_t)at;
    row->last_ok = (time_t)last_ok;
    row->last_fail = (time_t)last_fail;
    snprintf(row->error, sizeof(row->error), "%s", error);
    rc = WW_OK;
cleanup:
    json_decref(root);
    return rc;
}

/* ---- time text ---- */

const char *ww_status_iso(time_t t, char *buf, size_t len)
{
    struct tm tm;

    if (t <= 0 || gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return "-";
    return buf;
}

const char *ww_status_age(time_t t, time_t now, char *buf, size_t len)
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

/* ---- facts ---- */

/* The reputation server from what webwarden_url's children last stored (WW_REP_STATE_KEY). */
static void status_server_reputation(struct ww_store *st, const struct ww_conf *conf,
                                     struct ww_status_server *sv)
{
    struct ww_rep_state_row row;
    char val[512], t1[32], t2[32];

    sv->name = "reputation";
    if (conf->reputation.server == NULL || conf->reputation.server[0] == '\0') {
        sv->state = "not configured";
        snprintf(sv->detail, sizeof(sv->detail), "every URL is unrated (reputation.server)");
        return;
    }
    if (ww_store_kv_get(st, WW_REP_STATE_KEY, val, sizeof(val)) != WW_OK) {
        sv->state = "no calls yet";
        snprintf(sv->detail, sizeof(sv->detail), "no lookup reached the server so far");
        return;
    }
    if (ww_status_rep_state_decode(val, &row) != WW_OK) {
        sv->state = "no calls yet";
        snprintf(sv->detail, sizeof(sv->detail), "unreadable %s row", WW_REP_STATE_KEY);
        return;
    }
    sv->state = ww_rep_state_name(row.state);
    sv->checked = row.at;
    if (row.last_fail > 0)
        snprintf(sv->detail, sizeof(sv->detail), "last answer %s, last failure %s (%s)",
                 ww_status_iso(row.last_ok, t1, sizeof(t1)),
                 ww_status_iso(row.last_fail, t2, sizeof(t2)), row.error[0] ? row.error : "-");
    else
        snprintf(sv->detail, sizeof(sv->detail), "last answer %s, no failure",
                 ww_status_iso(row.last_ok, t1, sizeof(t1)));
}

/* A server checked by one of webwardend's jobs: its last result. */
static void status_server_job(const char *name, const char *key, const char *server,
                              const struct ww_sched_status *j, struct ww_status_server *sv)
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

static void status_collect_recent(const struct ww_event *ev, void *arg)
{
    struct ww_status *s = arg;

    if (strcmp(ev->level, "warning") != 0 && strcmp(ev->level, "error") != 0)
        return;
    /* oldest first: keep the newest WW_STATUS_RECENT, newest at [0] */
    memmove(&s->recent[1], &s->recent[0], sizeof(s->recent[0]) * (WW_STATUS_RECENT - 1));
    s->recent[0] = *ev;
    if (s->nrecent < WW_STATUS_RECENT)
        s->nrecent++;
}

static int status_job_index(const char *name)
{
    for (int i = 0; ww_daemon_job_names[i] != NULL; i++)
        if (strcmp(ww_daemon_job_names[i], name) == 0)
            return i;
    return 0;
}

/* With no installed pattern (the caller checked): what webwarden_scan finds in
 * scan.patterns_dir. s->no_patterns when it is unset or has no signature; s->patterns_error when
 * it does not load (the service then refuses to start: c-icap answers 500). */
static void status_patterns_dir(const struct ww_conf *conf, struct ww_status *s)
{
    struct ww_engine *e = NULL;
    char err[WW_ERRLEN] = "";
    int rc;

    if (conf->scan.patterns_dir == NULL || conf->scan.patterns_dir[0] == '\0') {
        s->no_patterns = 1;
        return;
    }
    rc = ww_engine_load_dir(conf->scan.patterns_dir, &e, NULL, err, sizeof(err));
    ww_engine_unref(e);
    if (rc == WW_ENOTFOUND)
        s->no_patterns = 1;
    else if (rc != WW_OK)
        snprintf(s->patterns_error, sizeof(s->patterns_error), "%s",
                 err[0] ? err : ww_strerror(rc));
}

int ww_status_read(struct ww_store *st, const struct ww_conf *conf, time_t now, struct ww_status *s,
                   char *err, size_t errlen)
{
    int rc, successes = 0;

    memset(s, 0, sizeof(*s));
    if (ww_store_get_scan_method(st, &s->scan) != WW_OK) {
        snprintf(err, errlen, "cannot read the scan method");
        return WW_EDB;
    }
    for (int i = 0; ww_status_components[i] != NULL; i++) {
        rc = ww_store_component_get(st, ww_status_components[i], &s->comp[i]);
        if (rc == WW_OK && s->comp[i].version[0] != '\0') {
            s->have_comp[i] = 1;
        } else if (rc != WW_OK && rc != WW_ENOTFOUND) {
            snprintf(err, errlen, "cannot read component %s", ww_status_components[i]);
            return WW_EDB;
        }
    }
    if (ww_store_feedback_stats(st, &s->queued, &s->dropped) != WW_OK ||
        ww_store_license_get(st, &s->lic) != WW_OK ||
        ww_store_appliance_id(st, s->appliance, sizeof(s->appliance)) != WW_OK) {
        snprintf(err, errlen, "cannot read the state database %s", conf->state.database);
        return WW_EDB;
    }
    ww_log_mask_secret(s->lic.activation_code, s->masked, sizeof(s->masked));
    ww_license_state(&s->lic, now, conf->license.grace_days, &s->lstate);
    ww_license_describe(&s->lic, now, conf->license.grace_days, s->lic_desc, sizeof(s->lic_desc));
    s->updates_allowed = ww_license_updates_allowed(&s->lic, now, conf->license.grace_days,
                                                    s->updates_why, sizeof(s->updates_why));
    s->have_days = s->lstate.phase >= WW_LICENSE_ACTIVE;
    s->days = s->lstate.days_left;
    for (int i = 0; ww_daemon_job_names[i] != NULL && i < WW_SCHED_MAX_JOBS; i++)
        if (ww_sched_status_get(st, ww_daemon_job_names[i], &s->jobs[i]) != WW_OK) {
            snprintf(err, errlen, "cannot read the state of job %s", ww_daemon_job_names[i]);
            return WW_EDB;
        }
    s->daemon_pid = (long)ww_daemon_running_pid(conf->state.database);
    if (!s->have_comp[0])
        status_patterns_dir(conf, s);

    status_server_reputation(st, conf, &s->servers[0]);
    status_server_job("smart scan", "smart_scan.server", conf->smart_scan.server,
                      &s->jobs[status_job_index("health")], &s->servers[1]);
    status_server_job("feedback", "feedback.server", conf->feedback.server,
                      &s->jobs[status_job_index("feedback")], &s->servers[2]);
    status_server_job("update", "update.server", conf->update.server,
                      &s->jobs[status_job_index("update")], &s->servers[3]);
    status_server_job("license", "license.server", conf->license.server,
                      &s->jobs[status_job_index("license")], &s->servers[4]);
    if (ww_store_health_streak(st, &s->health_failures, &successes) != WW_OK) {
        snprintf(err, errlen, "cannot read the health-check history");
        return WW_EDB;
    }
    if (conf->smart_scan.server[0] != '\0' && s->health_failures > 0) {
        size_t n = strlen(s->servers[1].detail);
        snprintf(s->servers[1].detail + n, sizeof(s->servers[1].detail) - n,
                 " (%d failed check%s in a row)", s->health_failures,
                 s->health_failures == 1 ? "" : "s");
    }
    if (ww_store_list_events(st, 200, status_collect_recent, s) != WW_OK) {
        snprintf(err, errlen, "cannot read the events");
        return WW_EDB;
    }
    /* the deep scanner: the folder's databases, and what webwarden_scan's monitor stored */
    s->clam_rc = ww_clamav_read_dir(conf->clamav.database_dir, &s->clam);
    ww_store_kv_get(st, "clamav.engine", s->clam_engine, sizeof(s->clam_engine));
    ww_store_kv_get(st, "clamav.reload_error", s->clam_error, sizeof(s->clam_error));
    ww_store_kv_get(st, "config.rejected", s->conf_rejected, sizeof(s->conf_rejected));
    ww_status_problems(conf, now, s);
    return WW_OK;
}

/* ---- rules ---- */

static void status_problem(struct ww_status *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void status_problem(struct ww_status *s, const char *fmt, ...)
{
    va_list ap;

    if (s->nproblems >= WW_STATUS_MAX_PROBLEMS)
        return;
    va_start(ap, fmt);
    vsnprintf(s->problems[s->nproblems++], sizeof(s->problems[0]), fmt, ap);
    va_end(ap);
}

void ww_status_problems(const struct ww_conf *conf, time_t now, struct ww_status *s)
{
    char age[32];

    s->nproblems = 0;
    if (s->daemon_pid <= 0)
        status_problem(s, "webwardend is not running: no health checks, feedback upload, updates "
                          "or license checks");
    if (s->no_patterns)
        status_problem(s,
                       "no malware patterns: webwarden_scan %s every response unscanned "
                       "(scan.no_patterns_action) until an update installs one (webwardenctl "
                       "update now)",
                       conf->scan.no_patterns_action == WW_ACTION_BLOCK ? "blocks" : "passes");
    if (s->patterns_error[0] != '\0')
        status_problem(s, "scan.patterns_dir does not load (webwarden_scan cannot start): %s",
                       s->patterns_error);
    if (s->scan.method == WW_SCAN_CONVENTIONAL && conf->smart_scan.server[0] != '\0')
        status_problem(s,
                       "smart scan is off since %s (%s, by %s); when the server answers again: "
                       "webwardenctl scan-method smart",
                       ww_status_age(s->scan.changed_at, now, age, sizeof(age)), s->scan.reason,
                       s->scan.changed_by);
    for (int i = 0; i < WW_STATUS_SERVERS; i++) {
        const struct ww_status_server *sv = &s->servers[i];
        if (sv->state != NULL &&
            (strcmp(sv->state, "failing") == 0 || strcmp(sv->state, "backoff") == 0))
            status_problem(s, "%s server %s: %s", sv->name, sv->state, sv->detail);
    }
    if (s->dropped > 0)
        status_problem(s,
                       "%lld feedback events were dropped from a full queue (feedback.max_queued)",
                       (long long)s->dropped);
    if (s->lstate.phase == WW_LICENSE_GRACE || s->lstate.phase == WW_LICENSE_PAST_GRACE ||
        s->lstate.phase == WW_LICENSE_INVALID)
        status_problem(s, "license %s", s->lic_desc);
    {
        char why[320];
        if (ww_clamav_status_problem(conf->clamav.enabled, s->clam_rc, &s->clam,
                                     conf->clamav.max_age_days, now, why, sizeof(why)))
            status_problem(s, "%s", why);
        if (s->clam_error[0] != '\0')
            status_problem(s, "ClamAV %.280s", s->clam_error);
        if (strncmp(s->clam_engine, "failed", 6) == 0)
            status_problem(s, "ClamAV deep scanner %.280s", s->clam_engine);
    }
    if (s->conf_rejected[0] != '\0') /* c-icap kept serving the last good configuration */
        status_problem(s, "%.310s", s->conf_rejected);
    if (conf->update.allow_unsigned)
        status_problem(s, "update.allow_unsigned = yes: updates are installed without a signature "
                          "check (whoever answers update.server installs patterns): set "
                          "update.public_key and remove it");
}
