/* lib/ww_health.c - Smart Protection Server health checks and the automatic fall-back to
 * conventional scan. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_endpoint.h"
#include "ww_filerep.h"
#include "ww_health.h"
#include "ww_http.h"
#include "ww_log.h"
#include "ww_store.h"

static int health_configured(const struct ww_conf *conf)
{
    return conf->smart_scan.server != NULL && conf->smart_scan.server[0] != '\0';
}

static struct ww_http *health_client(const struct ww_conf *conf, const char *appliance_id)
{
    struct ww_endpoint ep;

    ww_endpoint_init(&ep, conf, WW_SERVER_SMART_SCAN, appliance_id);
    return ww_endpoint_http_create(&ep);
}

/* kv key: "<changed_at> <base> <changed_by>" of the smart period in force. <base> is the number
 * of failed checks the history already ended with when that period began (an admin re-enabled
 * smart scan, perhaps with --force, while the streak stood at 7): they do not count towards the
 * next fall-back, which needs failures_to_fallback new ones. */
#define HEALTH_KV_BASE "health.fallback_base"

/* The failures of the current streak that count towards a fall-back. WW_OK or WW_EDB. */
static int health_counted_failures(struct ww_store *st, const struct ww_scan_state *cur, int ok,
                                   int failures, int *counted)
{
    char val[128] = "", who[64] = "", want[128];
    long long at = -1;
    int base = 0, rc;

    rc = ww_store_kv_get(st, HEALTH_KV_BASE, val, sizeof(val));
    if (rc != WW_OK)
        return rc;
    if (sscanf(val, "%lld %d %63s", &at, &base, who) != 3 || base < 0)
        at = -1;
    if (at != (long long)cur->changed_at ||
        strcmp(who, cur->changed_by[0] != '\0' ? cur->changed_by : "-") != 0) {
        /* The first check since the method became smart: the older failures are the base.
         * Checks run on every interval, so no other failure of this streak can be newer. */
        base = ok ? 0 : failures - 1;
    } else if (ok || base > failures) {
        base = 0; /* a good check ended the old streak (or the history was pruned) */
    }
    *counted = failures - base;
    snprintf(want, sizeof(want), "%lld %d %s", (long long)cur->changed_at, base,
             cur->changed_by[0] != '\0' ? cur->changed_by : "-");
    return strcmp(want, val) == 0 ? WW_OK : ww_store_kv_set(st, HEALTH_KV_BASE, want);
}

/* After a recorded check: fall back, or recover, as the streak and the settings say. */
static int health_apply(struct ww_store *st, const struct ww_conf *conf, int ok, const char *detail,
                        char *result, size_t len)
{
    struct ww_scan_state cur;
    int failures = 0, successes = 0, counted = 0, rc;
    char why[256];
    size_t used = strlen(result);

    rc = ww_store_health_streak(st, &failures, &successes);
    if (rc == WW_OK)
        rc = ww_store_get_scan_method(st, &cur);
    if (rc == WW_OK && cur.method == WW_SCAN_SMART)
        rc = health_counted_failures(st, &cur, ok, failures, &counted);
    if (rc != WW_OK)
        return rc;
    if (!ok)
        snprintf(result + used, len - used, " (%d in a row)", failures);
    if (!ok && cur.method == WW_SCAN_SMART && counted >= conf->smart_scan.failures_to_fallback) {
        snprintf(why, sizeof(why), "%d consecutive failed health checks of %s (last: %s)", counted,
                 conf->smart_scan.server, detail);
        rc = ww_store_set_scan_method(st, WW_SCAN_CONVENTIONAL, WW_HEALTH_WHO, why);
        if (rc != WW_OK)
            return rc;
        ww_store_counter_add(st, "smart_scan_fallbacks", 1);
        ww_log(WW_LOG_ERR,
               "SMART SCAN SWITCHED OFF: scan method is now conventional (local patterns only) "
               "after %s; re-enable with `webwardenctl scan-method smart` once the server answers",
               why);
        used = strlen(result);
        snprintf(result + used, len - used, "; scan method set to conventional");
        return WW_OK;
    }
    if (ok && conf->smart_scan.auto_recover > 0 && cur.method == WW_SCAN_CONVENTIONAL &&
        strcmp(cur.changed_by, WW_HEALTH_WHO) == 0 && successes >= conf->smart_scan.auto_recover) {
        snprintf(why, sizeof(why), "%d consecutive good health checks of %s", successes,
                 conf->smart_scan.server);
        rc = ww_store_set_scan_method(st, WW_SCAN_SMART, WW_HEALTH_WHO, why);
        if (rc != WW_OK)
            return rc;
        ww_log(WW_LOG_WARN, "smart scan switched back on automatically after %s", why);
        used = strlen(result);
        snprintf(result + used, len - used, "; scan method set back to smart");
    }
    return WW_OK;
}

int ww_health_run_once(struct ww_store *st, const struct ww_conf *conf, struct ww_http *h,
                       char *result, size_t len)
{
    struct ww_http *own = NULL;
    char detail[256] = "", appliance_id[64] = "";
    int latency_ms = 0, rc, probe_rc;

    result[0] = '\0';
    if (!health_configured(conf)) {
        snprintf(result, len, "not configured");
        return WW_OK;
    }
    if (h == NULL) {
        if (ww_store_appliance_id(st, appliance_id, sizeof(appliance_id)) != WW_OK)
            appliance_id[0] = '\0';
        h = own = health_client(conf, appliance_id);
        if (h == NULL) {
            snprintf(result, len, "out of memory");
            return WW_ENOMEM;
        }
    }
    probe_rc =
        ww_filerep_health_probe(h, conf->smart_scan.server, detail, sizeof(detail), &latency_ms);
    rc = ww_store_add_health(st, conf->smart_scan.server, probe_rc == WW_OK, latency_ms,
                             probe_rc == WW_OK ? "" : detail);
    if (rc != WW_OK) {
        snprintf(result, len, "cannot record the health check");
        goto cleanup;
    }
    ww_store_counter_add(st, probe_rc == WW_OK ? "health_checks_ok" : "health_checks_failed", 1);
    if (probe_rc == WW_OK)
        snprintf(result, len, "ok in %d ms", latency_ms);
    else
        snprintf(result, len, "failed: %s", detail);
    rc = health_apply(st, conf, probe_rc == WW_OK, detail, result, len);
    if (rc != WW_OK) {
        snprintf(result, len, "cannot read or set the scan method");
        goto cleanup;
    }
    rc = probe_rc;
cleanup:
    ww_http_free(own);
    return rc;
}

int ww_health_check_server(const struct ww_conf *conf, char *detail, size_t len)
{
    struct ww_http *h;
    char why[256] = "";
    int latency_ms = 0, rc;

    if (!health_configured(conf)) {
        snprintf(detail, len, "no smart_scan.server configured: nothing to check");
        return WW_OK;
    }
    h = health_client(conf, NULL);
    if (h == NULL) {
        snprintf(detail, len, "out of memory");
        return WW_ENOMEM;
    }
    rc = ww_filerep_health_probe(h, conf->smart_scan.server, why, sizeof(why), &latency_ms);
    if (rc == WW_OK)
        snprintf(detail, len, "%s answered in %d ms", conf->smart_scan.server, latency_ms);
    else
        snprintf(detail, len, "%s: %s", conf->smart_scan.server, why);
    ww_http_free(h);
    return rc;
}

int ww_health_set_method(struct ww_store *st, const struct ww_conf *conf, enum ww_scan_method want,
                         int force, const char *reason, int *changed, char *detail, size_t len)
{
    struct ww_scan_state cur;
    char text[300];
    int rc;

    *changed = 0;
    detail[0] = '\0';
    if (ww_store_get_scan_method(st, &cur) != WW_OK)
        return WW_EDB;
    if (cur.method == want)
        return WW_OK;
    if (want == WW_SCAN_SMART && !force) {
        rc = ww_health_check_server(conf, detail, len);
        if (rc != WW_OK)
            return rc;
    }
    if (reason == NULL)
        snprintf(text, sizeof(text), "set by the administrator%s",
                 want == WW_SCAN_SMART && force ? " (--force: server not checked)" : "");
    else
        snprintf(text, sizeof(text), "%s", reason);
    if (ww_store_set_scan_method(st, want, "webwardenctl", text) != WW_OK)
        return WW_EDB;
    *changed = 1;
    return WW_OK;
}
