/* lib/ww_health.h - Smart Protection Server health checks (webwardend's "health" job) and the
 * automatic fall-back to conventional scan after consecutive failures (SPEC item 3b). */
#ifndef WW_HEALTH_H
#define WW_HEALTH_H

#include <stddef.h>

#include "ww_store.h"

struct ww_conf;
struct ww_http;

/* Who the automatic changes are recorded as (scan_method.changed_by). */
#define WW_HEALTH_WHO "webwardend"

/* One health check of smart_scan.server: probe GET /v1/health, record the result
 * (ww_store_add_health), then
 *  - if the scan method is smart and the last smart_scan.failures_to_fallback checks all failed,
 *    set it to conventional (who "webwardend", the reason names the server and the last failure;
 *    the store records an event) and log one WW_LOG_ERR line;
 *  - if smart_scan.auto_recover = N > 0, the method is conventional because webwardend set it so
 *    (never an admin's choice) and the last N checks succeeded, set it back to smart.
 * <h> is the client to probe with (its timeout should be smart_scan.timeout_ms); NULL makes a
 * one-off client from <conf>. A one-line summary goes to <result> ("ok in 12 ms", "failed (2 in
 * a row): timeout", "not configured", ...). Returns WW_OK when the check succeeded or there is
 * no server, the probe's WW_E* code when it failed, WW_EDB when the store failed. Blocks at most
 * the probe's timeout plus the store's busy timeout. */
int ww_health_run_once(struct ww_store *st, const struct ww_conf *conf, struct ww_http *h,
                       char *result, size_t len);

/* For `webwardenctl scan-method smart`: does smart_scan.server answer its health probe within
 * smart_scan.timeout_ms? WW_OK ("answered in N ms" in <detail>; also WW_OK with "no
 * smart_scan.server configured: nothing to check"), else the probe's WW_E* code with the reason
 * in <detail>. Records nothing. */
int ww_health_check_server(const struct ww_conf *conf, char *detail, size_t len);

/* The administrator's switch (`webwardenctl scan-method smart|conventional [--force]
 * [--reason R]`): nothing happens when <want> is already in force (*changed = 0); smart is set
 * only when smart_scan.server answers its probe, unless <force>; the change is recorded as made
 * by "webwardenctl" with <reason> (NULL: "set by the administrator", noting --force). WW_OK
 * (*changed says whether it switched; <detail> has the probe's note, "" when none), the probe's
 * WW_E* with the reason in <detail> (the method stays), or WW_EDB. */
int ww_health_set_method(struct ww_store *st, const struct ww_conf *conf, enum ww_scan_method want,
                         int force, const char *reason, int *changed, char *detail, size_t len);

#endif
