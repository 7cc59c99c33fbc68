/* lib/ww_status.h - the health of an installation as `webwardenctl status` shows it: the facts
 * read from the state store and the config, and the rules that turn them into the problems an
 * admin must act on. Also the one codec of the cross-process row WW_REP_STATE_KEY (written by
 * webwarden_url's children, read here). The CLI only prints a struct ww_status. */
#ifndef WW_STATUS_H
#define WW_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "ww_clamav.h"
#include "ww_conf.h"
#include "ww_license.h"
#include "ww_sched.h"
#include "ww_store.h"

/* ---- the reputation server's state, kv WW_REP_STATE_KEY ---- */

/* kv key of the reputation server's state as the URL service's children last saw it. */
#define WW_REP_STATE_KEY "reputation.state"

enum ww_rep_state { WW_REP_STATE_OK = 0, WW_REP_STATE_FAILING, WW_REP_STATE_BACKOFF };

struct ww_rep_state_row {
    enum ww_rep_state state;
    time_t at;        /* when the row was written */
    time_t last_ok;   /* the server's last answer; 0 = never */
    time_t last_fail; /* its last failed call; 0 = never */
    char error[64];   /* ww_strerror() name of that failure, "" = none */
};

/* "ok", "failing", "backoff". Never NULL. */
const char *ww_rep_state_name(enum ww_rep_state s);

/* The row as one JSON object {state, at, last_ok, last_fail, error} (times in s since the
 * epoch). WW_OK, or WW_ETOOBIG / WW_ENOMEM. Thread-safe. */
int ww_status_rep_state_encode(const struct ww_rep_state_row *row, char *out, size_t outlen);

/* Parses what encode wrote (strict: every field but error required, state one of the three).
 * WW_OK and <row>, or WW_EPROTO (row zeroed). Thread-safe. */
int ww_status_rep_state_decode(const char *json, struct ww_rep_state_row *row);

/* ---- the status model ---- */

#define WW_STATUS_SERVERS 5
#define WW_STATUS_MAX_PROBLEMS 8
#define WW_STATUS_RECENT 5
#define WW_STATUS_COMPONENTS 3

/* "pattern", "urldb", "engine", NULL: the components status lists, in order. */
extern const char *const ww_status_components[];

/* One cloud server as status shows it. */
struct ww_status_server {
    const char *name;  /* "reputation", "smart scan", "feedback", "update", "license" */
    const char *state; /* ok | failing | backoff | not configured | never checked | no calls yet */
    time_t checked;    /* the newest result this is based on; 0 = none */
    char detail[320];
};

struct ww_status {
    struct ww_scan_state scan;
    struct ww_component comp[WW_STATUS_COMPONENTS];
    int have_comp[WW_STATUS_COMPONENTS];
    int64_t queued, dropped;
    struct ww_license lic;
    char masked[80]; /* the activation code, masked: never print lic.activation_code */
    int days, have_days;
    struct ww_license_state lstate;
    char lic_desc[256];
    int updates_allowed;
    char updates_why[512];
    struct ww_sched_status jobs[WW_SCHED_MAX_JOBS]; /* in ww_daemon_job_names order */
    char appliance[64];
    long daemon_pid; /* 0 = not running */
    struct ww_status_server servers[WW_STATUS_SERVERS];
    int health_failures;      /* failed smart-scan checks in a row */
    int no_patterns;          /* no installed pattern and no signature in scan.patterns_dir */
    char patterns_error[320]; /* no installed pattern and patterns_dir does not load: why */
    struct ww_event recent[WW_STATUS_RECENT]; /* newest warning/error events, newest first */
    int nrecent;
    char problems[WW_STATUS_MAX_PROBLEMS][320];
    int nproblems;
    struct ww_clamav_info clam; /* the deep scanner's databases (ww_clamav_read_dir) */
    int clam_rc;
    char clam_engine[512], clam_error[512]; /* what webwarden_scan loaded, a refused reload */
    char conf_rejected[1024]; /* the services serve the last good config: why (ww_lastgood) */
};

/* Reads every fact from <st> and <conf> at time <now>, then applies ww_status_problems().
 * WW_OK, or WW_EDB with what could not be read in <err>. Blocks on SQLite (busy timeout); with
 * no installed pattern it also reads scan.patterns_dir. */
int ww_status_read(struct ww_store *st, const struct ww_conf *conf, time_t now, struct ww_status *s,
                   char *err, size_t errlen);

/* The rules, over the facts in <s> (pure: no I/O): replaces s->problems, in this order -
 * webwardend not running; no malware patterns, or scan.patterns_dir not loading; smart scan off
 * while a server is configured; a server failing or backed off; feedback events dropped; a license
 * in grace, past grace or invalid. At most WW_STATUS_MAX_PROBLEMS. Healthy = s->nproblems == 0. */
void ww_status_problems(const struct ww_conf *conf, time_t now, struct ww_status *s);

/* "3 days", "5 hours", "12 minutes", "40 seconds" since <t>; "-" for 0. */
const char *ww_status_age(time_t t, time_t now, char *buf, size_t len);

/* "2026-11-27T20:51:57Z", or "-" for 0 (never). */
const char *ww_status_iso(time_t t, char *buf, size_t len);

#endif
