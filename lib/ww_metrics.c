/* lib/ww_metrics.c - /metrics for webwardend (see ww_metrics.h). */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "ww_body.h"
#include "ww_common.h"
#include "ww_counters.h"
#include "ww_daemon.h"
#include "ww_license.h"
#include "ww_log.h"
#include "ww_metrics.h"
#include "ww_status.h"
#include "ww_sched.h"

/* A scrape's text never grows past this (today's is about 8 KiB). */
#define METRICS_MAX_BYTES (4 << 20)

static void metrics_counters(struct ww_prom *p, const char *counters_path)
{
    static const double lat_le[WW_SCAN_LAT_NBOUNDS] = {WW_SCAN_LAT_BOUNDS};
    static const struct {
        enum ww_ctr c;
        const char *service, *action;
    } req[] = {
        {WW_CTR_URL_ALLOW, "webwarden_url", "allow"},
        {WW_CTR_URL_BLOCK, "webwarden_url", "block"},
        {WW_CTR_SCAN_CLEAN, "webwarden_scan", "clean"},
        {WW_CTR_SCAN_BLOCK, "webwarden_scan", "block"},
        {WW_CTR_SCAN_UNSCANNED, "webwarden_scan", "unscanned"},
    };
    uint64_t v[WW_CTR_N];
    char err[WW_ERRLEN] = "";
    int rc = ww_counters_read(counters_path, v, err, sizeof(err));

    if (rc != WW_OK && rc != WW_ENOTFOUND)
        ww_log(WW_LOG_WARN, "metrics: request counters unreadable: %s", err);
    ww_prom_family(p, "webwarden_counters_ok", "gauge",
                   "1 if the c-icap children's counters file was read (0: it is missing, "
                   "the children never started, or it is unreadable)");
    ww_prom_sample(p, "webwarden_counters_ok", NULL, rc == WW_OK);

    ww_prom_family(p, "webwarden_icap_requests_total", "counter",
                   "ICAP requests answered by the c-icap children, by service and action");
    for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
        const char *l[] = {"service", req[i].service, "action", req[i].action, NULL};
        ww_prom_sample(p, "webwarden_icap_requests_total", l, (double)v[req[i].c]);
    }
    ww_prom_family(p, "webwarden_unscanned_total", "counter",
                   "Responses passed without a full scan, by why (their sum is "
                   "webwarden_icap_requests_total{action=\"unscanned\"}): size, undecodable, "
                   "decode_limit, no_patterns, budget, partial; deep_size, deep_limit, "
                   "deep_encrypted, deep_unsupported, deep_error (the deep scanner); other");
    for (int k = WW_UNSCANNED_SIZE; k < WW_UNSCANNED_N; k++) {
        const char *l[] = {"reason", ww_unscanned_name((enum ww_unscanned)k), NULL};
        ww_prom_sample(p, "webwarden_unscanned_total", l,
                       (double)v[WW_CTR_UNSCANNED_FIRST + (k - WW_UNSCANNED_SIZE)]);
    }
    ww_prom_family(p, "webwarden_scan_bytes_total", "counter",
                   "Response body bytes run through the pattern engine (encoded bodies: decoded "
                   "and as received)");
    ww_prom_sample(p, "webwarden_scan_bytes_total", NULL, (double)v[WW_CTR_SCAN_BYTES]);
    ww_prom_family(p, "webwarden_scan_duration_seconds", "histogram",
                   "Time from a response's first body byte to the scan verdict");
    ww_prom_histogram(p, "webwarden_scan_duration_seconds", NULL, lat_le,
                      &v[WW_CTR_SCAN_LAT_BUCKET0], WW_SCAN_LAT_NBOUNDS,
                      (double)v[WW_CTR_SCAN_LAT_SUM_US] / 1e6);
    ww_prom_family(p, "webwarden_detections_total", "counter",
                   "Malware detections by scanner (signature: the pattern engine, clamav: the "
                   "deep scanner, smart: the smart protection server)");
    {
        const char *sig[] = {"scanner", "signature", NULL}, *smart[] = {"scanner", "smart", NULL};
        const char *clam[] = {"scanner", "clamav", NULL};
        ww_prom_sample(p, "webwarden_detections_total", sig, (double)v[WW_CTR_DETECT_SIGNATURE]);
        ww_prom_sample(p, "webwarden_detections_total", smart, (double)v[WW_CTR_DETECT_SMART]);
        ww_prom_sample(p, "webwarden_detections_total", clam, (double)v[WW_CTR_DETECT_CLAMAV]);
    }
    ww_prom_family(p, "webwarden_reputation_lookups_total", "counter",
                   "URL reputation lookups by where the answer came from (server: a call to "
                   "the reputation server; backoff: answered unrated at once during a back-off)");
    {
        static const struct {
            enum ww_ctr c;
            const char *source, *result;
        } rep[] = {
            {WW_CTR_REP_LOCALDB, "localdb", "ok"},
            {WW_CTR_REP_CACHE, "cache", "ok"},
            {WW_CTR_REP_SERVER_OK, "server", "ok"},
            {WW_CTR_REP_SERVER_FAILED, "server", "failed"},
            {WW_CTR_REP_BACKOFF, "backoff", "unrated"},
        };
        for (size_t i = 0; i < sizeof(rep) / sizeof(rep[0]); i++) {
            const char *l[] = {"source", rep[i].source, "result", rep[i].result, NULL};
            ww_prom_sample(p, "webwarden_reputation_lookups_total", l, (double)v[rep[i].c]);
        }
    }
    ww_prom_family(p, "webwarden_reputation_timeouts_total", "counter",
                   "Reputation server calls that ran out of reputation.timeout_ms");
    ww_prom_sample(p, "webwarden_reputation_timeouts_total", NULL, (double)v[WW_CTR_REP_TIMEOUT]);
    ww_prom_family(p, "webwarden_smart_scan_lookups_total", "counter",
                   "Smart protection server lookups by result");
    {
        const char *ok[] = {"result", "ok", NULL}, *bad[] = {"result", "failed", NULL};
        ww_prom_sample(p, "webwarden_smart_scan_lookups_total", ok, (double)v[WW_CTR_SMART_OK]);
        ww_prom_sample(p, "webwarden_smart_scan_lookups_total", bad,
                       (double)v[WW_CTR_SMART_FAILED]);
    }
    ww_prom_family(p, "webwarden_smart_scan_timeouts_total", "counter",
                   "Smart protection server lookups that ran out of smart_scan.timeout_ms");
    ww_prom_sample(p, "webwarden_smart_scan_timeouts_total", NULL, (double)v[WW_CTR_SMART_TIMEOUT]);
    ww_prom_family(p, "webwarden_feedback_captured_total", "counter",
                   "Rated lookups recorded for feedback by the c-icap children");
    ww_prom_sample(p, "webwarden_feedback_captured_total", NULL, (double)v[WW_CTR_FB_CAPTURED]);
}

/* The reputation server's state as the children last stored it: one-hot gauge. */
static int metrics_rep_state(struct ww_prom *p, struct ww_store *st)
{
    static const enum ww_rep_state states[] = {WW_REP_STATE_OK, WW_REP_STATE_FAILING,
                                               WW_REP_STATE_BACKOFF};
    struct ww_rep_state_row row;
    char val[512];
    int have, rc = ww_store_kv_get(st, WW_REP_STATE_KEY, val, sizeof(val));

    if (rc != WW_OK)
        return rc;
    have = val[0] != '\0' && ww_status_rep_state_decode(val, &row) == WW_OK;
    ww_prom_family(p, "webwarden_reputation_server_state", "gauge",
                   "The reputation server as the children last saw it (1 for the state in force; "
                   "all 0 before the first call)");
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        const char *l[] = {"state", ww_rep_state_name(states[i]), NULL};
        ww_prom_sample(p, "webwarden_reputation_server_state", l, have && row.state == states[i]);
    }
    return WW_OK;
}

static int metrics_smart(struct ww_prom *p, struct ww_store *st)
{
    struct ww_scan_state scan;
    int64_t ok = 0, failed = 0, fallbacks = 0;
    int failures = 0, successes = 0, rc;

    rc = ww_store_get_scan_method(st, &scan);
    if (rc == WW_OK)
        rc = ww_store_counter_get(st, WW_METRIC_HEALTH_OK, &ok);
    if (rc == WW_OK)
        rc = ww_store_counter_get(st, WW_METRIC_HEALTH_FAILED, &failed);
    if (rc == WW_OK)
        rc = ww_store_counter_get(st, WW_METRIC_FALLBACKS, &fallbacks);
    if (rc == WW_OK)
        rc = ww_store_health_streak(st, &failures, &successes);
    if (rc != WW_OK)
        return rc;
    ww_prom_family(p, "webwarden_scan_method", "gauge",
                   "The scan method in force (1): smart (local patterns and the smart protection "
                   "server) or conventional (local patterns only)");
    {
        const char *sm[] = {"method", "smart", NULL}, *cv[] = {"method", "conventional", NULL};
        ww_prom_sample(p, "webwarden_scan_method", sm, scan.method == WW_SCAN_SMART);
        ww_prom_sample(p, "webwarden_scan_method", cv, scan.method == WW_SCAN_CONVENTIONAL);
    }
    ww_prom_family(p, "webwarden_scan_method_changed_timestamp_seconds", "gauge",
                   "When the scan method last changed (Unix time)");
    ww_prom_sample(p, "webwarden_scan_method_changed_timestamp_seconds", NULL,
                   (double)scan.changed_at);
    ww_prom_family(p, "webwarden_smart_scan_health_checks_total", "counter",
                   "Smart protection server health checks by result");
    {
        const char *l_ok[] = {"result", "ok", NULL}, *l_bad[] = {"result", "failed", NULL};
        ww_prom_sample(p, "webwarden_smart_scan_health_checks_total", l_ok, (double)ok);
        ww_prom_sample(p, "webwarden_smart_scan_health_checks_total", l_bad, (double)failed);
    }
    ww_prom_family(p, "webwarden_smart_scan_health_failures_in_a_row", "gauge",
                   "Failed health checks since the last good one");
    ww_prom_sample(p, "webwarden_smart_scan_health_failures_in_a_row", NULL, failures);
    ww_prom_family(p, "webwarden_smart_scan_fallbacks_total", "counter",
                   "Automatic switches from smart to conventional scanning after failed health "
                   "checks");
    ww_prom_sample(p, "webwarden_smart_scan_fallbacks_total", NULL, (double)fallbacks);
    return WW_OK;
}

static int metrics_feedback(struct ww_prom *p, struct ww_store *st)
{
    int64_t queued = 0, dropped = 0, sent = 0;
    int rc = ww_store_feedback_stats(st, &queued, &dropped);

    if (rc == WW_OK)
        rc = ww_store_counter_get(st, WW_METRIC_FEEDBACK_SENT, &sent);
    if (rc != WW_OK)
        return rc;
    ww_prom_family(p, "webwarden_feedback_queue_records", "gauge",
                   "Feedback records waiting in the state store for upload");
    ww_prom_sample(p, "webwarden_feedback_queue_records", NULL, (double)queued);
    ww_prom_family(p, "webwarden_feedback_sent_total", "counter",
                   "Feedback records the feedback server confirmed");
    ww_prom_sample(p, "webwarden_feedback_sent_total", NULL, (double)sent);
    ww_prom_family(p, "webwarden_feedback_dropped_total", "counter",
                   "Feedback records dropped: a child's buffer or the queue (feedback.max_queued) "
                   "was full");
    ww_prom_sample(p, "webwarden_feedback_dropped_total", NULL, (double)dropped);
    return WW_OK;
}

static int metrics_components(struct ww_prom *p, struct ww_store *st, time_t now)
{
    static const char *const names[] = {"pattern", "urldb", "engine"};
    struct ww_component c[3];
    int have[3] = {0, 0, 0};

    for (size_t i = 0; i < 3; i++) {
        int rc = ww_store_component_get(st, names[i], &c[i]);
        if (rc != WW_OK && rc != WW_ENOTFOUND)
            return rc;
        have[i] = rc == WW_OK;
    }
    ww_prom_family(p, "webwarden_component_info", "gauge",
                   "The installed version of each component (always 1)");
    for (size_t i = 0; i < 3; i++) {
        const char *l[] = {"component", names[i], "version", c[i].version, NULL};
        if (have[i])
            ww_prom_sample(p, "webwarden_component_info", l, 1);
    }
    ww_prom_family(p, "webwarden_component_age_seconds", "gauge",
                   "Seconds since the component in force was installed");
    for (size_t i = 0; i < 3; i++) {
        const char *l[] = {"component", names[i], NULL};
        if (have[i])
            ww_prom_sample(p, "webwarden_component_age_seconds", l,
                           (double)(now - c[i].installed_at));
    }
    ww_prom_family(p, "webwarden_component_installed_timestamp_seconds", "gauge",
                   "When the component in force was installed (Unix time)");
    for (size_t i = 0; i < 3; i++) {
        const char *l[] = {"component", names[i], NULL};
        if (have[i])
            ww_prom_sample(p, "webwarden_component_installed_timestamp_seconds", l,
                           (double)c[i].installed_at);
    }
    return WW_OK;
}

static int metrics_jobs(struct ww_prom *p, struct ww_store *st)
{
    struct ww_sched_status s[8];
    size_t n = 0;

    for (; ww_daemon_job_names[n] != NULL && n < 8; n++) {
        int rc = ww_sched_status_get(st, ww_daemon_job_names[n], &s[n]);
        if (rc != WW_OK)
            return rc;
    }
    ww_prom_family(p, "webwarden_job_last_success", "gauge",
                   "1 if the job's last run succeeded, 0 if it failed (absent: never ran)");
    for (size_t i = 0; i < n; i++) {
        const char *l[] = {"job", ww_daemon_job_names[i], NULL};
        if (s[i].ok >= 0)
            ww_prom_sample(p, "webwarden_job_last_success", l, s[i].ok);
    }
    ww_prom_family(p, "webwarden_job_last_run_timestamp_seconds", "gauge",
                   "When the job last ran (Unix time; 0 = never)");
    for (size_t i = 0; i < n; i++) {
        const char *l[] = {"job", ww_daemon_job_names[i], NULL};
        ww_prom_sample(p, "webwarden_job_last_run_timestamp_seconds", l, (double)s[i].last_run);
    }
    return WW_OK;
}

static int metrics_license(struct ww_prom *p, struct ww_store *st, int grace_days, time_t now)
{
    static const char *const phases[] = {"none", "invalid", "active", "grace", "past-grace"};
    struct ww_license lic;
    struct ww_license_state ls;
    int rc = ww_store_license_get(st, &lic);

    if (rc == WW_ENOTFOUND)
        memset(&lic, 0, sizeof(lic));
    else if (rc != WW_OK)
        return rc;
    ww_license_state(&lic, now, grace_days, &ls);
    ww_prom_family(p, "webwarden_license_phase", "gauge",
                   "The license's phase (1 for the phase in force); updates stop past grace");
    for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
        const char *l[] = {"phase", phases[i], NULL};
        ww_prom_sample(p, "webwarden_license_phase", l,
                       strcmp(ww_license_phase_name(ls.phase), phases[i]) == 0);
    }
    if (ls.phase != WW_LICENSE_NONE && ls.phase != WW_LICENSE_INVALID) {
        ww_prom_family(p, "webwarden_license_days_left", "gauge",
                       "Days to the license's expiry date (negative after it)");
        ww_prom_sample(p, "webwarden_license_days_left", NULL, ls.days_left);
        ww_prom_family(p, "webwarden_license_grace_days_left", "gauge",
                       "Days to the end of the grace period after expiry");
        ww_prom_sample(p, "webwarden_license_grace_days_left", NULL, ls.grace_days_left);
    }
    return WW_OK;
}

int ww_metrics_render(struct ww_prom *p, struct ww_store *st, const char *counters_path,
                      int grace_days, time_t now)
{
    int rc;

    ww_prom_family(p, "webwarden_build_info", "gauge", "Webwarden's version (always 1)");
    {
        const char *l[] = {"version", WW_VERSION, NULL};
        ww_prom_sample(p, "webwarden_build_info", l, 1);
    }
    metrics_counters(p, counters_path);
    rc = metrics_rep_state(p, st);
    if (rc == WW_OK)
        rc = metrics_smart(p, st);
    if (rc == WW_OK)
        rc = metrics_feedback(p, st);
    if (rc == WW_OK)
        rc = metrics_components(p, st, now);
    if (rc == WW_OK)
        rc = metrics_jobs(p, st);
    if (rc == WW_OK)
        rc = metrics_license(p, st, grace_days, now);
    ww_prom_family(p, "webwarden_metrics_store_ok", "gauge",
                   "1 if every value from the state store was read for this scrape");
    ww_prom_sample(p, "webwarden_metrics_store_ok", NULL, rc == WW_OK);
    return rc;
}

int ww_metrics_listen(const char *addr, int *fd_out, char *err, size_t errlen)
{
    struct addrinfo hints = {0}, *res = NULL;
    char host[256];
    const char *colon, *port, *h = addr;
    size_t hlen;
    int fd = -1, one = 1, gai;

    *fd_out = -1;
    colon = strrchr(addr, ':');
    if (addr[0] == '[') {
        const char *close_br = strchr(addr, ']');
        if (close_br == NULL || close_br[1] != ':') {
            snprintf(err, errlen, "metrics.listen %s: not [address]:port", addr);
            return WW_EINVAL;
        }
        h = addr + 1;
        hlen = (size_t)(close_br - h);
        colon = close_br + 1;
    } else {
        hlen = colon != NULL ? (size_t)(colon - addr) : 0;
    }
    if (colon == NULL || hlen == 0 || hlen >= sizeof(host) || colon[1] == '\0' ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) < 1 ||
        atoi(colon + 1) > 65535 || (addr[0] != '[' && memchr(addr, ':', hlen) != NULL)) {
        snprintf(err, errlen, "metrics.listen %s: not host:port (e.g. 127.0.0.1:9478)", addr);
        return WW_EINVAL;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    port = colon + 1;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "metrics.listen %s: %s", addr, gai_strerror(gai));
        return WW_EINVAL;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        int e = errno;
        snprintf(err, errlen, "metrics.listen %s: %s", addr, strerror(e));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return e == EADDRINUSE ? WW_EBUSY : WW_EIO;
    }
    freeaddrinfo(res);
    *fd_out = fd;
    return WW_OK;
}

struct ww_metrics_server {
    struct MHD_Daemon *mhd;
    struct ww_store *st; /* read-only, used by the server's one thread only */
    char counters_path[4096];
    atomic_int grace_days;
};

static enum MHD_Result metrics_answer(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_size, void **ptr)
{
    static const char index_page[] =
        "<html><body><a href=\"/metrics\">/metrics</a> (webwarden)</body></html>\n";
    struct ww_metrics_server *srv = cls;
    struct MHD_Response *resp;
    struct ww_prom *p = NULL;
    char *text = NULL;
    size_t len = 0;
    unsigned int status = MHD_HTTP_OK;
    enum MHD_Result ret;

    (void)version;
    (void)upload_data;
    (void)upload_size;
    (void)ptr;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        if (resp != NULL)
            MHD_add_response_header(resp, "Allow", "GET, HEAD");
    } else if (strcmp(url, "/metrics") == 0) {
        p = ww_prom_create(METRICS_MAX_BYTES);
        if (p != NULL) {
            ww_metrics_render(p, srv->st, srv->counters_path,
                              atomic_load_explicit(&srv->grace_days, memory_order_relaxed),
                              time(NULL));
            text = ww_prom_take(p, &len);
        }
        if (text == NULL) {
            ww_log(WW_LOG_ERR, "metrics: cannot build the answer (%s)",
                   ww_strerror(p != NULL ? ww_prom_error(p) : WW_ENOMEM));
            resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        } else {
            resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
            if (resp == NULL)
                free(text);
            else
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, WW_PROM_CONTENT_TYPE);
        }
        ww_prom_free(p);
    } else if (strcmp(url, "/") == 0) {
        resp = MHD_create_response_from_buffer(sizeof(index_page) - 1, (void *)index_page,
                                               MHD_RESPMEM_PERSISTENT);
        if (resp != NULL)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html");
    } else {
        resp = MHD_create_response_from_buffer(10, (void *)"not found\n", MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_NOT_FOUND;
    }
    if (resp == NULL)
        return MHD_NO;
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

int ww_metrics_server_start(const char *addr, const char *db_path, int grace_days,
                            struct ww_metrics_server **out, char *err, size_t errlen)
{
    struct ww_metrics_server *srv = NULL;
    int fd = -1, rc;

    *out = NULL;
    if (addr == NULL || addr[0] == '\0')
        return WW_OK;
    rc = ww_metrics_listen(addr, &fd, err, errlen);
    if (rc != WW_OK)
        return rc;
    rc = WW_ENOMEM;
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        snprintf(err, errlen, "metrics: out of memory");
        goto cleanup;
    }
    atomic_init(&srv->grace_days, grace_days);
    rc = ww_counters_path(db_path, srv->counters_path, sizeof(srv->counters_path));
    if (rc != WW_OK) {
        snprintf(err, errlen, "metrics: state.database path too long");
        goto cleanup;
    }
    rc = ww_store_open(db_path, WW_STORE_READONLY, &srv->st, err, errlen);
    if (rc != WW_OK)
        goto cleanup;
    /* One internal thread: scrapes are served one at a time, which is what the single store
     * handle needs; a slow client is cut after 10 s. */
    srv->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, metrics_answer, srv,
                                MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
                                (unsigned int)16, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
                                MHD_OPTION_END);
    if (srv->mhd == NULL) {
        snprintf(err, errlen, "metrics.listen %s: libmicrohttpd did not start", addr);
        rc = WW_EIO;
        goto cleanup;
    }
    fd = -1; /* MHD owns it now */
    ww_log(WW_LOG_INFO, "metrics: serving /metrics on %s", addr);
    *out = srv;
    srv = NULL;
    rc = WW_OK;
cleanup:
    if (fd >= 0)
        close(fd);
    ww_metrics_server_stop(srv);
    return rc;
}

void ww_metrics_server_set_grace(struct ww_metrics_server *srv, int grace_days)
{
    if (srv != NULL)
        atomic_store(&srv->grace_days, grace_days);
}

void ww_metrics_server_stop(struct ww_metrics_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->mhd != NULL)
        MHD_stop_daemon(srv->mhd);
    ww_store_close(srv->st);
    free(srv);
}
