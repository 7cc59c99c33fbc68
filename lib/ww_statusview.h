/* lib/ww_statusview.h - `webwardenctl status` rendered: the status model (lib/ww_status) as the
 * JSON document of `status --json` and as the text an admin reads. The activation code appears
 * only masked (s->masked); nothing here reads the store or the clock. */
#ifndef WW_STATUSVIEW_H
#define WW_STATUSVIEW_H

#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include "ww_conf.h"
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

#endif
