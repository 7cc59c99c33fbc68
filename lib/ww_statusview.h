/* lib/ww_statusview.h - `webwardenctl status` rendered: the status model (lib/ww_status) as the
 * JSON document of `status --json` and as the text an admin reads; likewise `license show` and
 * `feedback status`. The activation code appears only masked; nothing here reads the store or
 * the clock. */
#ifndef WW_STATUSVIEW_H
#define WW_STATUSVIEW_H

#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include "ww_conf.h"
#include "ww_license.h"
#include "ww_sched.h"
#include "ww_status.h"
#include "ww_store.h"

/* "smart" or "conventional". Static string. */
const char *ww_statusview_method(enum ww_scan_method m);

/* A time as JSON: "2026-11-27T20:51:57Z", or null for 0 (never). New reference, NULL if out of
 * memory. */
json_t *ww_statusview_time(time_t t);

/* The whole status of <s> (read with <conf>) as one JSON object: database, config, appliance_id,
 * scan_method, components, feedback, license, jobs, healthy, problems, servers, recent_problems,
 * daemon. New reference (caller: json_decref), NULL if out of memory. */
json_t *ww_statusview_json(const struct ww_status *s, const struct ww_conf *conf);

/* The status as text on <fp>: health and problems first, then scan method, servers, components,
 * ClamAV, feedback, license, jobs, daemon, recent warnings, appliance id and database; ages are
 * counted to <now>. WW_OK, or WW_EIO when <fp> failed. */
int ww_statusview_text(const struct ww_status *s, const struct ww_conf *conf, time_t now, FILE *fp);

/* ---- the licence (license show / check / activate) ---- */

/* The stored licence <lic> as one JSON object (activation_code masked, status, phase, product,
 * edition, expires, seats, days_left, grace_days_left, updates_allowed, updates, checked_at), its
 * phase counted at <now> with <grace_days>. New reference, NULL if out of memory. */
json_t *ww_statusview_license_json(const struct ww_license *lic, int grace_days, time_t now);

/* The same as text on <fp>: one line when no code is stored, else code (masked), status,
 * product, seats, expiry, updates and the last check. WW_OK, or WW_EIO when <fp> failed. */
int ww_statusview_license_text(const struct ww_license *lic, int grace_days, time_t now, FILE *fp);

/* ---- the feedback queue (feedback status) ---- */

struct ww_statusview_feedback {
    const char *server;         /* feedback.server, "" = not configured */
    int64_t queued, dropped;    /* ww_store_feedback_stats */
    int64_t first, last;        /* rows of the batch sent but not confirmed; 0 = none */
    struct ww_sched_status job; /* the daemon's feedback job */
};

/* The queue as one JSON object: server, queued, dropped, unconfirmed {first, last} or null,
 * last_run, ok, result. New reference, NULL if out of memory. */
json_t *ww_statusview_feedback_json(const struct ww_statusview_feedback *f);

/* The same as text on <fp>. WW_OK, or WW_EIO when <fp> failed. */
int ww_statusview_feedback_text(const struct ww_statusview_feedback *f, FILE *fp);

#endif
