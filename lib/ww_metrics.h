/* lib/ww_metrics.h - webwardend's /metrics: the request counters of c-icap's children
 * (lib/ww_counters) and the daemon's state from the store, in Prometheus's text format, served
 * over HTTP with libmicrohttpd on metrics.listen.
 *
 * The server runs in one thread of its own with its own read-only store handle: a scrape never
 * waits for a job of the scheduler, and a job never waits for a scrape (beyond SQLite's WAL
 * readers, which take no write lock). */
#ifndef WW_METRICS_H
#define WW_METRICS_H

#include <stddef.h>
#include <time.h>

#include "ww_prom.h"
#include "ww_store.h"

struct ww_conf;

/* metrics.listen's default (lib/ww_conf.c spells it too). */
#define WW_METRICS_DEFAULT_LISTEN "127.0.0.1:9478"

/* Names of the store's counters (table counters) shown by /metrics. */
#define WW_METRIC_HEALTH_OK "health_checks_ok"
#define WW_METRIC_HEALTH_FAILED "health_checks_failed"
#define WW_METRIC_FALLBACKS "smart_scan_fallbacks"
#define WW_METRIC_FEEDBACK_SENT "feedback_sent"

/* Writes every family into <p>: the counters summed from <counters_path> (missing file: zeros)
 * and the state of <st> at <now>, with the license's <grace_days>. WW_OK, or the first store
 * error (the families written so far stay in <p>; webwarden_metrics_store_ok says 0). */
int ww_metrics_render(struct ww_prom *p, struct ww_store *st, const char *counters_path,
                      int grace_days, time_t now);

/* Splits "host:port" or "[v6]:port" into a bound, listening socket. WW_OK and *fd_out, or
 * WW_EINVAL (not host:port), WW_EBUSY (the port is in use) or WW_EIO (cannot bind) with
 * "metrics.listen <value>: reason" in <err>. */
int ww_metrics_listen(const char *listen, int *fd_out, char *err, size_t errlen);

struct ww_metrics_server; /* opaque */

/* Serves GET /metrics (and GET / with a link) on <listen> from a thread of its own, reading
 * <db_path> read-only and the counters file next to it. <listen> "" means off: WW_OK with
 * *out NULL. WW_OK and *out (caller owns it: ww_metrics_server_stop), else WW_E* with the
 * reason in <err> (a bad address, the port in use, the store not readable). */
int ww_metrics_server_start(const char *listen, const char *db_path, int grace_days,
                            struct ww_metrics_server **out, char *err, size_t errlen);
/* After a reload: the license grace period in force. Thread-safe. */
void ww_metrics_server_set_grace(struct ww_metrics_server *srv, int grace_days);
/* Stops the thread (a scrape in flight finishes first) and frees. NULL is a no-op. */
void ww_metrics_server_stop(struct ww_metrics_server *srv);

#endif
