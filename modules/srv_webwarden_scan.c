/* modules/srv_webwarden_scan.c - c-icap RESPMOD service "webwarden_scan": every body chunk goes
 * through the ww_scan engine as it arrives; the body is held (memory, then a temp file) until the
 * verdict: clean gives 204 or the body echoed unchanged, infected gives the 403 block page.
 * Bodies over scan.max_size are passed unscanned. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <c_icap/c-icap.h>
#include <c_icap/cfg_param.h>
#include <c_icap/commands.h>
#include <c_icap/debug.h>
#include <c_icap/request.h>
#include <c_icap/service.h>
#include <c_icap/simple_api.h>
#include <c_icap/stats.h>

#include "ww_cicap.h"
#include "ww_common.h"
#include "ww_conf.h"
#include "ww_body.h"
#include "ww_fbbuf.h"
#include "ww_filerep.h"
#include "ww_html.h"
#include "ww_log.h"
#include "ww_scan.h"
#include "ww_store.h"

#define SVC "webwarden_scan"
#define CMD_CHILD_START SVC ":child_start"
#define CMD_CHILD_STOP SVC ":child_stop"
#define CMD_TICK SVC ":tick"

static int scan_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf);
static int scan_post_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf);
static void scan_close_service(void);
static void *scan_init_request_data(ci_request_t *req);
static void scan_release_request_data(void *data);
static int scan_check_preview(char *preview, int len, ci_request_t *req);
static int scan_end_of_data(ci_request_t *req);
static int scan_io(char *wbuf, int *wlen, char *rbuf, int *rlen, int iseof, ci_request_t *req);

/* "webwarden_scan.ConfigFile": c-icap's config memory, copied in post_init, never kept. */
static char *cfg_config_file;

static struct ci_conf_entry scan_conf_table[] = {
    {"ConfigFile", &cfg_config_file, ci_cfg_set_str, "Path of webwarden.conf"},
    {NULL, NULL, NULL, NULL}};

CI_DECLARE_MOD_DATA ci_service_module_t service = {
    SVC,                       /* mod_name */
    "Webwarden malware scan",  /* mod_short_descr */
    ICAP_RESPMOD,              /* mod_type */
    scan_init_service,         /* mod_init_service */
    scan_post_init_service,    /* mod_post_init_service */
    scan_close_service,        /* mod_close_service */
    scan_init_request_data,    /* mod_init_request_data */
    scan_release_request_data, /* mod_release_request_data */
    scan_check_preview,        /* mod_check_preview_handler */
    scan_end_of_data,          /* mod_end_of_data_handler */
    scan_io,                   /* mod_service_io */
    scan_conf_table,           /* mod_conf_table */
    NULL                       /* mod_data */
};

/* Loaded in post_init by the monitor; read-only afterwards, shared copy-on-write by children. */
static struct ww_conf *scan_conf;
static char *scan_tmpl;
static struct ww_engine *scan_engine;
static ci_service_xdata_t *scan_xdata; /* for the ISTag of a new pattern */

/* The engine in force may be replaced by a child's tick when the store's current pattern
 * changes (webwardenctl update, webwardend): requests take their own reference under engine_mtx,
 * so a scan in flight finishes with the engine it started with. <engine_version> is the pattern
 * version it came from ("" = scan.patterns_dir); <engine_failed> a version that did not load,
 * logged once and not retried. Both: main thread of a child (tick), or the monitor (post_init). */
static pthread_mutex_t engine_mtx = PTHREAD_MUTEX_INITIALIZER;
static char engine_version[64];
static char engine_failed[64];

/* Per child: the state store (opened after fork, main thread; workers later, under store_mtx)
 * and the scan method read from it every second, for the request path without a query. */
static struct ww_store *scan_store;
static pthread_mutex_t store_mtx = PTHREAD_MUTEX_INITIALIZER;
static time_t store_retry_at;
static atomic_int scan_method = WW_SCAN_CONVENTIONAL;
static int scan_method_known; /* main thread only */

/* Per child: the smart-scan lookup (its HTTP clients and verdict cache), made at child start
 * when smart_scan.server is set; NULL otherwise. Shared by the child's threads. */
static _Atomic(struct ww_filerep *) scan_filerep;

/* c-icap statistics (the `info` service): registered in init, counted in children only. */
static int stat_clean = -1, stat_blocked = -1, stat_cut = -1, stat_unscanned = -1;

static void scan_store_try_open(void)
{
    char err[WW_ERRLEN] = "";
    time_t now = time(NULL);

    if (scan_store != NULL || scan_conf == NULL || now < store_retry_at)
        return;
    if (ww_store_open(scan_conf->state.database, 0, &scan_store, err, sizeof(err)) != WW_OK) {
        scan_store = NULL;
        store_retry_at = now + 30; /* once every 30 s at most: the log must stay readable */
        ww_log(WW_LOG_WARN, SVC ": state store %s not open (retry in 30 s): %s",
               scan_conf->state.database, err);
    }
}

/* ---- detections waiting for the store (issue 7) ----
 * A request thread never touches SQLite: a block or a cut is queued here (bounded, O(1), one
 * short mutex) and the child's 1 s tick writes each one as an event and a feedback row. */

#define DETQ_CAP 128

struct detection {
    char url[2048]; /* as long as a feedback row's url */
    char threat[128];
    int64_t cut_after; /* -1: blocked (page); else bytes that went out before the cut */
    time_t at;
};

_Static_assert(sizeof(((struct detection *)0)->url) == sizeof(((struct ww_feedback_event *)0)->url),
               "detection url fits a feedback row");
_Static_assert(sizeof(((struct detection *)0)->threat) ==
                   sizeof(((struct ww_feedback_event *)0)->threat),
               "detection threat fits a feedback row");

static pthread_mutex_t detq_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct detection detq[DETQ_CAP];
static size_t detq_head, detq_len;  /* ring: oldest at detq_head */
static uint64_t detq_dropped;       /* since the last flush */
static int detq_drop_logged;        /* one log line per child, not one per drop */
static struct ww_fbbuf *scan_fbbuf; /* per child, made at child start */

static void detq_add(const char *url, const char *threat, int64_t cut_after)
{
    struct detection *d;
    int log_drop = 0;

    pthread_mutex_lock(&detq_mtx);
    if (detq_len == DETQ_CAP) { /* the store is slow or gone: the newest detection matters more */
        detq_head = (detq_head + 1) % DETQ_CAP;
        detq_len--;
        detq_dropped++;
        log_drop = !detq_drop_logged;
        detq_drop_logged = 1;
    }
    d = &detq[(detq_head + detq_len) % DETQ_CAP];
    snprintf(d->url, sizeof(d->url), "%s", url);
    snprintf(d->threat, sizeof(d->threat), "%s", threat);
    d->cut_after = cut_after;
    d->at = time(NULL);
    detq_len++;
    pthread_mutex_unlock(&detq_mtx);
    if (log_drop)
        ww_log(WW_LOG_WARN,
               SVC ": detection queue full (%d): the oldest detections are dropped before they "
                   "reach the events (counted; logged once per child)",
               DETQ_CAP);
}

/* Writes the queued detections as events and feedback rows. Caller holds store_mtx; the store
 * is open (while it is not, detections wait in the queue). An event the store refuses is not
 * retried: the detection is in the c-icap log already; feedback rows are kept by ww_fbbuf. */
static void detq_flush_locked(void)
{
    static struct detection batch[DETQ_CAP]; /* only the tick (main thread) and child stop */
    struct ww_feedback_event fb;
    char msg[512];
    size_t n, i;
    uint64_t dropped;

    pthread_mutex_lock(&detq_mtx);
    for (n = 0; n < detq_len; n++)
        batch[n] = detq[(detq_head + n) % DETQ_CAP];
    detq_head = detq_len = 0;
    dropped = detq_dropped;
    detq_dropped = 0;
    pthread_mutex_unlock(&detq_mtx);

    if (dropped > 0) {
        snprintf(msg, sizeof(msg),
                 "%" PRIu64 " detections were dropped from a full queue before they reached the "
                 "events (see the c-icap log)",
                 dropped);
        ww_store_add_event(scan_store, "warning", "scan", msg);
    }
    for (i = 0; i < n; i++) {
        const struct detection *d = &batch[i];
        if (d->cut_after < 0)
            snprintf(msg, sizeof(msg), "malware %s in %.400s: blocked", d->threat, d->url);
        else
            snprintf(msg, sizeof(msg), "malware %s in %.380s: download cut after %" PRId64 " bytes",
                     d->threat, d->url, d->cut_after);
        if (ww_store_add_event(scan_store, "warning", "scan", msg) != WW_OK)
            ww_log(WW_LOG_WARN, SVC ": detection not recorded in the events: %s", msg);
        memset(&fb, 0, sizeof(fb));
        /* Same sizes (checked below), both NUL-terminated by detq_add. */
        memcpy(fb.url, d->url, sizeof(fb.url));
        memcpy(fb.threat, d->threat, sizeof(fb.threat));
        memcpy(fb.action, "block", sizeof("block"));
        fb.score = 0;
        fb.at = d->at;
        ww_fbbuf_add(scan_fbbuf, &fb);
    }
    if (scan_fbbuf != NULL &&
        ww_fbbuf_flush(scan_fbbuf, scan_store, scan_conf->feedback.max_queued) != WW_OK)
        ww_log(WW_LOG_WARN,
               SVC ": feedback not written to the state store (kept for the next try)");
}

/* ISTag from the signature counts and the pattern version: a proxy must not answer from its
 * cache of verdicts made with other signatures. */
static void scan_set_istag(const struct ww_engine_stats *stats, const char *version)
{
    char istag[32];

    if (scan_xdata == NULL)
        return;
    snprintf(istag, sizeof(istag), "-WW-%s-%zu-%zu", version[0] ? version : "dir", stats->hash_sigs,
             stats->body_sigs);
    ci_service_set_istag(scan_xdata, istag);
}

/* Loads pattern <version> from <dir> and makes it the engine in force. On failure the old engine
 * stays and the failure is logged once per version. */
static void scan_engine_reload(const char *dir, const char *version)
{
    struct ww_engine *e = NULL, *old;
    struct ww_engine_stats stats;
    char err[WW_ERRLEN] = "";
    int rc;

    memset(&stats, 0, sizeof(stats));
    rc = ww_engine_load_dir(dir, &e, &stats, err, sizeof(err));
    if (rc != WW_OK) {
        ww_log(WW_LOG_ERR, SVC ": pattern %s (%s) does not load, keeping %s: %s", version, dir,
               engine_version[0] ? engine_version : "scan.patterns_dir",
               err[0] ? err : ww_strerror(rc));
        snprintf(engine_failed, sizeof(engine_failed), "%s", version);
        return;
    }
    pthread_mutex_lock(&engine_mtx);
    old = scan_engine;
    scan_engine = e;
    pthread_mutex_unlock(&engine_mtx);
    ww_engine_unref(old); /* scans still running hold their own reference */
    ww_log(WW_LOG_INFO, SVC ": pattern %s in force (was %s): %zu hash and %zu body signatures",
           version, engine_version[0] ? engine_version : "scan.patterns_dir", stats.hash_sigs,
           stats.body_sigs);
    snprintf(engine_version, sizeof(engine_version), "%s", version);
    engine_failed[0] = '\0';
    scan_set_istag(&stats, version);
}

/* Each child's main thread, once a second: scan-method refresh, pattern reload, and the
 * detections queued since the last tick into the events and the feedback queue. */
static void scan_tick(const char *name, int type, void *data)
{
    struct ww_scan_state st;
    struct ww_component pat;
    int have_pat = 0;

    pthread_mutex_lock(&store_mtx);
    scan_store_try_open();
    if (scan_store != NULL && ww_store_get_scan_method(scan_store, &st) == WW_OK &&
        (atomic_exchange(&scan_method, (int)st.method) != (int)st.method || !scan_method_known))
        /* A change is rare and matters to the admin: level 1. The first read just informs. */
        ww_log(scan_method_known ? WW_LOG_ERR : WW_LOG_INFO, SVC ": scan method %s (%s, by %s)",
               st.method == WW_SCAN_SMART ? "smart" : "conventional", st.reason, st.changed_by);
    if (scan_store != NULL)
        scan_method_known = 1;
    /* A new current pattern (update, rollback): compiled outside the store lock. */
    have_pat = scan_store != NULL && ww_store_component_get(scan_store, "pattern", &pat) == WW_OK &&
               pat.path[0] != '\0' && strcmp(pat.version, engine_version) != 0 &&
               strcmp(pat.version, engine_failed) != 0;
    if (scan_store != NULL)
        detq_flush_locked();
    pthread_mutex_unlock(&store_mtx);
    if (have_pat)
        scan_engine_reload(pat.path, pat.version);
    ci_command_schedule(CMD_TICK, NULL, 1);
}

/* Makes this child's smart-scan lookup (after fork: its HTTP clients and cache are its own). */
static void scan_filerep_open(void)
{
    char appliance_id[64] = "", err[WW_ERRLEN] = "";
    struct ww_filerep *fr = NULL;

    if (scan_conf == NULL || scan_conf->smart_scan.server[0] == '\0' ||
        atomic_load(&scan_filerep) != NULL)
        return;
    pthread_mutex_lock(&store_mtx);
    if (scan_store == NULL ||
        ww_store_appliance_id(scan_store, appliance_id, sizeof(appliance_id)) != WW_OK)
        appliance_id[0] = '\0';
    pthread_mutex_unlock(&store_mtx);
    if (ww_filerep_create_from_conf(scan_conf, appliance_id, &fr, err, sizeof(err)) != WW_OK) {
        ww_log(WW_LOG_ERR, SVC ": smart scan unavailable in this child: %s", err);
        return;
    }
    atomic_store(&scan_filerep, fr);
}

static void scan_child_start(const char *name, int type, void *data)
{
    if (scan_fbbuf == NULL && (scan_fbbuf = ww_fbbuf_create(DETQ_CAP)) == NULL)
        ww_log(WW_LOG_ERR, SVC ": out of memory: detections reach the events but not feedback");
    scan_tick(name, type, data);
    scan_filerep_open();
}

static void scan_child_stop(const char *name, int type, void *data)
{
    ww_filerep_free(atomic_exchange(&scan_filerep, NULL)); /* no request runs any more */
    pthread_mutex_lock(&store_mtx);
    if (scan_store != NULL)
        detq_flush_locked(); /* the last second's detections are not lost with the child */
    ww_store_close(scan_store);
    scan_store = NULL;
    pthread_mutex_unlock(&store_mtx);
    ww_fbbuf_free(scan_fbbuf);
    scan_fbbuf = NULL;
}

static int scan_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf)
{
    cfg_config_file = NULL; /* statics survive a reconfigure with forceUnload=off */
    ww_cicap_log_init();
    ci_service_set_preview(xdata, 1024);
    ci_service_enable_204(xdata);
    ci_service_set_transfer_preview(xdata, "*");
    register_command_extend(CMD_CHILD_START, CI_CMD_CHILD_START, NULL, scan_child_start);
    register_command_extend(CMD_CHILD_STOP, CI_CMD_CHILD_STOP, NULL, scan_child_stop);
    register_command_extend(CMD_TICK, CI_CMD_ONDEMAND, NULL, scan_tick);
    stat_clean = ci_stat_entry_register("webwarden_scan clean", STAT_INT64_T, "Webwarden");
    stat_blocked = ci_stat_entry_register("webwarden_scan blocked", STAT_INT64_T, "Webwarden");
    stat_cut =
        ci_stat_entry_register("webwarden_scan cut after release", STAT_INT64_T, "Webwarden");
    stat_unscanned = ci_stat_entry_register("webwarden_scan unscanned", STAT_INT64_T, "Webwarden");
    return CI_OK;
}

/* Config values are visible from here on. The engine is compiled once, here in the monitor,
 * and shared copy-on-write by the children. Any failure marks the service broken (ICAP 500). */
static int scan_post_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf)
{
    char err[WW_ERRLEN] = "";
    struct ww_engine_stats stats;
    int rc;

    if (ww_cicap_load_conf(SVC, cfg_config_file, &scan_conf, &scan_tmpl) != WW_OK)
        return CI_ERROR;
    scan_xdata = xdata;
    engine_version[0] = engine_failed[0] = '\0';
    memset(&stats, 0, sizeof(stats));
    /* An installed pattern (docs/updates.md) wins over scan.patterns_dir. The store may not exist
     * yet (before `webwardenctl init`): then patterns_dir it is. The handle is closed again: it
     * must not cross the fork into the children. */
    {
        struct ww_store *st = NULL;
        struct ww_component pat;
        char serr[WW_ERRLEN] = "";

        if (ww_store_open(scan_conf->state.database, 0, &st, serr, sizeof(serr)) == WW_OK &&
            ww_store_component_get(st, "pattern", &pat) == WW_OK && pat.path[0] != '\0') {
            rc = ww_engine_load_dir(pat.path, &scan_engine, &stats, err, sizeof(err));
            if (rc == WW_OK)
                snprintf(engine_version, sizeof(engine_version), "%s", pat.version);
            else
                ww_log(WW_LOG_ERR,
                       SVC ": installed pattern %s (%s) does not load, using "
                           "scan.patterns_dir: %s",
                       pat.version, pat.path, err);
        }
        ww_store_close(st);
    }
    rc = WW_OK;
    if (scan_engine == NULL)
        rc = ww_engine_load_dir(scan_conf->scan.patterns_dir, &scan_engine, &stats, err,
                                sizeof(err));
    if (rc != WW_OK) {
        ww_log(WW_LOG_ERR, SVC ": [scan] patterns_dir %s: %s", scan_conf->scan.patterns_dir,
               err[0] ? err : ww_strerror(rc));
        return CI_ERROR;
    }
    /* A new signature set must not be answered from a proxy's cache of old verdicts. */
    scan_set_istag(&stats, engine_version);
    ww_log(WW_LOG_INFO,
           SVC ": ready, config %s, pattern %s, %zu hash and %zu body signatures from %zu files "
               "(%zu skipped), max_size %" PRId64 ", hold_max %" PRId64,
           scan_conf->path, engine_version[0] ? engine_version : scan_conf->scan.patterns_dir,
           stats.hash_sigs, stats.body_sigs, stats.files, stats.skipped, scan_conf->scan.max_size,
           scan_conf->scan.hold_max);
    return CI_OK;
}

/* Every child at exit, and the monitor on reconfigure and stop: idempotent, this process only. */
static void scan_close_service(void)
{
    scan_child_stop(NULL, 0, NULL);
    pthread_mutex_lock(&engine_mtx);
    ww_engine_unref(scan_engine);
    scan_engine = NULL;
    pthread_mutex_unlock(&engine_mtx);
    scan_xdata = NULL;
    free(scan_tmpl);
    scan_tmpl = NULL;
    ww_conf_free(scan_conf);
    scan_conf = NULL;
}

/* ---- per request: c-icap callbacks mapped to the body pipeline (lib/ww_body) ---- */

struct scan_req {
    struct ww_body *body; /* NULL until the preview started it */
    struct ww_cicap_page page;
    int64_t expected; /* Content-Length, -1 if unknown */
    int drop;         /* hold_all and Allow: 204: the answer is 204 or the block page */
    int eof;          /* the whole body was received */
    struct timespec t0;
    char url[WW_URL_MAX];
};

static void *scan_init_request_data(ci_request_t *req)
{
    struct scan_req *sr = calloc(1, sizeof(*sr));

    if (sr == NULL)
        return NULL;
    sr->expected = -1;
    clock_gettime(CLOCK_MONOTONIC, &sr->t0);
    return sr;
}

static void scan_release_request_data(void *data)
{
    struct scan_req *sr = data;

    if (sr == NULL)
        return;
    ww_body_free(sr->body);
    ww_cicap_page_cleanup(&sr->page);
    free(sr);
}

static int64_t scan_received(const struct scan_req *sr)
{
    return sr->body != NULL ? ww_body_received(sr->body) : 0;
}

static void scan_attrs(ci_request_t *req, struct scan_req *sr, const char *action,
                       const char *threat, const char *sha256)
{
    struct timespec t1;
    char num[32];
    long ms;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (long)(t1.tv_sec - sr->t0.tv_sec) * 1000 + (t1.tv_nsec - sr->t0.tv_nsec) / 1000000;
    ww_cicap_attr(req, "webwarden:action", action);
    ww_cicap_attr(req, "webwarden:threat", threat);
    ww_cicap_attr(req, "webwarden:sha256", sha256);
    ww_cicap_attr(req, "webwarden:url", sr->url);
    snprintf(num, sizeof(num), "%" PRId64,
             scan_received(sr) > sr->expected ? scan_received(sr) : sr->expected);
    ww_cicap_attr(req, "webwarden:size", num);
    snprintf(num, sizeof(num), "%ld", ms);
    ww_cicap_attr(req, "webwarden:ms", num);
}

/* From here the body streams through without a verdict: logged, marked and counted. */
static void scan_unscanned(ci_request_t *req, struct scan_req *sr)
{
    ww_log(WW_LOG_WARN, SVC ": UNSCANNED %s: %s", sr->url, ww_body_detail(sr->body));
    ww_cicap_attr(req, "webwarden:reason", ww_body_reason(sr->body));
    scan_attrs(req, sr, "unscanned", "-", "-");
    ci_stat_uint64_inc(stat_unscanned, 1);
}

/* A block (the page replaces the response) or a cut (bytes went out: the response is broken
 * off, c-icap closes the ICAP connection mid-body and Squid aborts the client's download), logged
 * and counted; a detection (not a policy such as scan.oversize_action) goes to the events. */
static void scan_verdict(ci_request_t *req, struct scan_req *sr, int cut)
{
    const char *threat = ww_body_threat(sr->body), *sha256 = ww_body_sha256(sr->body);
    char reason[400];

    ww_body_explain(sr->body, reason, sizeof(reason));
    if (cut)
        ww_log(WW_LOG_ERR,
               SVC ": BLOCKED %s: threat %s found after %" PRId64 " of %" PRId64
                   " bytes were sent: download cut%s%s",
               sr->url, threat, ww_body_sent(sr->body), ww_body_received(sr->body),
               ww_body_reason(sr->body)[0] ? ": " : "", ww_body_detail(sr->body));
    else
        ww_log(WW_LOG_ERR, SVC ": BLOCKED %s: threat %s, sha256 %s, %" PRId64 " bytes%s%s", sr->url,
               threat, sha256, ww_body_received(sr->body), ww_body_reason(sr->body)[0] ? ": " : "",
               ww_body_detail(sr->body));
    ww_cicap_attr(req, "webwarden:reason", reason);
    scan_attrs(req, sr, "block", threat, sha256);
    ci_stat_uint64_inc(stat_blocked, 1);
    if (cut)
        ci_stat_uint64_inc(stat_cut, 1);
    if (ww_body_reason(sr->body)[0] != '\0')
        return; /* a policy, not a detection */
    if (cut)
        detq_add(sr->url, threat, ww_body_sent(sr->body));
    else
        detq_add(sr->url, threat, -1);
}

/* The block page replaces the response (nothing went out yet). CI_MOD_DONE or CI_ERROR. */
static int scan_block(ci_request_t *req, struct scan_req *sr)
{
    const char *threat = ww_body_threat(sr->body);
    char reason[400], when[64], head[512];
    const struct ww_page_var vars[] = {
        {"title", ww_body_reason(sr->body)[0] ? "Download blocked" : "Malware blocked"},
        {"url", sr->url},
        {"reason", reason},
        {"category", "-"},
        {"score", "-"},
        {"threat", threat},
        {"service", SVC},
        {"time", when},
    };
    int rc;

    scan_verdict(req, sr, 0);
    ww_body_explain(sr->body, reason, sizeof(reason));
    ww_cicap_now(when, sizeof(when));
    if (ci_req_sent_data(req)) /* too late for a page (cannot happen while the body is held) */
        return CI_ERROR;
    rc = ww_cicap_block_page(req, scan_tmpl, vars, sizeof(vars) / sizeof(vars[0]), &sr->page);
    if (rc != WW_OK) {
        ww_log(WW_LOG_ERR, SVC ": cannot build the block page for %s: %s", sr->url,
               ww_strerror(rc));
        return CI_ERROR;
    }
    snprintf(head, sizeof(head), "X-Infection-Found: Type=0; Resolution=2; Threat=%s;", threat);
    ci_icap_add_xheader(req, head);
    snprintf(head, sizeof(head), "X-Virus-ID: %s", threat);
    ci_icap_add_xheader(req, head);
    ww_cicap_add_violation(req, sr->url, threat);
    return CI_MOD_DONE;
}

/* Maps a decision taken while bytes arrive to c-icap. WW_OK, or an error (the request fails). */
static int scan_decided(ci_request_t *req, struct scan_req *sr, int d)
{
    switch (d) {
    case WW_BODY_MORE:
        return WW_OK;
    case WW_BODY_RELEASE:
        ci_req_unlock_data(req);
        return WW_OK;
    case WW_BODY_BLOCK:
        /* Waiting for the rest would stall behind Squid 5.7's full 64 KiB pipe: the page goes
         * now. */
        if (scan_block(req, sr) != CI_MOD_DONE)
            return WW_EIO;
        ci_req_unlock_data(req);
        return WW_OK;
    case WW_BODY_CUT:
        scan_verdict(req, sr, 1);
        return WW_OK;
    case WW_BODY_UNSCANNED:
        scan_unscanned(req, sr);
        if (!sr->drop) /* with drop nothing was kept to send: the answer is 204 at the end */
            ci_req_unlock_data(req);
        return WW_OK;
    }
    return d < 0 ? d : WW_EIO;
}

/* Every Content-Encoding header value of the response, in order (borrowed from c-icap's header
 * list until the request ends). The count; at most <max>. */
static size_t scan_codings(ci_request_t *req, const char **out, size_t max)
{
    ci_headers_list_t *h = ci_http_response_headers(req);
    static const char name[] = "Content-Encoding:";
    size_t n = 0;
    int i;

    for (i = 0; h != NULL && i < h->used && n < max; i++) {
        const char *v = h->headers[i];
        if (v == NULL || strncasecmp(v, name, sizeof(name) - 1) != 0)
            continue;
        v += sizeof(name) - 1;
        while (*v == ' ' || *v == '\t')
            v++;
        out[n++] = v;
    }
    return n;
}

static int scan_check_preview(char *preview, int len, ci_request_t *req)
{
    struct scan_req *sr = ci_service_data(req);
    struct ww_body_limits lim;
    const char *codings[8];
    size_t ncodings;
    unsigned flags = 0;
    int d;

    if (sr == NULL || scan_conf == NULL || scan_engine == NULL) {
        ww_log(WW_LOG_ERR, SVC ": out of memory or not configured: request refused");
        return CI_ERROR;
    }
    ww_cicap_request_url(req, sr->url, sizeof(sr->url)); /* for logs and the page only */
    ww_body_limits_from_conf(&lim, scan_conf);
    /* hold_all=on|off: one c-icap serves a Squid with and one without the bug-5352 fixes. */
    ww_body_apply_args(&lim, req->args);
    sr->drop = lim.hold_all && ci_req_allow204(req);
    if (!ci_req_hasbody(req)) {
        scan_attrs(req, sr, "allow", "-", "-");
        return CI_MOD_ALLOW204;
    }
    sr->expected = ci_http_content_length(req);
    /* The SHA-256 is computed for every body only while smart scan may look it up. */
    if (atomic_load_explicit(&scan_filerep, memory_order_acquire) != NULL &&
        atomic_load_explicit(&scan_method, memory_order_relaxed) == WW_SCAN_SMART)
        flags |= WW_BODY_SHA256;
    if (sr->drop)
        flags |= WW_BODY_DROP;
    /* Content-Length is a hint only: the bytes received decide (scan.oversize_action). */
    sr->body = ww_body_create(&lim, sr->expected, flags);
    ncodings = scan_codings(req, codings, sizeof(codings) / sizeof(codings[0]));
    pthread_mutex_lock(&engine_mtx); /* the tick may swap the engine; the body keeps its own */
    d = sr->body != NULL ? ww_body_start(sr->body, scan_engine, codings, ncodings) : WW_ENOMEM;
    pthread_mutex_unlock(&engine_mtx);
    if (d < 0) {
        ww_log(WW_LOG_ERR, SVC ": out of memory starting a scan of %s", sr->url);
        return CI_ERROR;
    }
    if (scan_decided(req, sr, d) != WW_OK)
        return CI_ERROR;
    if (len > 0 && scan_decided(req, sr, ww_body_put(sr->body, preview, (size_t)len)) != WW_OK)
        return CI_ERROR;
    return CI_MOD_CONTINUE;
}

/* The smart-scan hook of the pipeline: a body the local patterns found clean, when the scan
 * method is smart. 1 if the Smart Protection Server calls it malicious (threat name in
 * <threat>), else 0 - a skipped lookup (timeout, server down, bad answer) leaves the local
 * verdict standing. Sets the access-log attribute webwarden:smart
 * (off|skipped|clean|unknown|malicious). Blocks at most smart_scan.timeout_ms; with the method
 * conventional no request waits at all. */
static int scan_smart(void *arg, const char *sha256, char *threat, size_t threatlen)
{
    ci_request_t *req = arg;
    struct ww_filerep *fr = atomic_load_explicit(&scan_filerep, memory_order_acquire);
    struct ww_file_verdict v;

    if (fr == NULL || atomic_load_explicit(&scan_method, memory_order_relaxed) != WW_SCAN_SMART) {
        ww_cicap_attr(req, "webwarden:smart", "off");
        return 0;
    }
    if (sha256 == NULL) { /* smart scan came back on while this body streamed: no digest */
        ww_cicap_attr(req, "webwarden:smart", "skipped");
        return 0;
    }
    ww_filerep_lookup(fr, sha256, &v); /* failures are logged inside, once per kind a minute */
    ww_cicap_attr(req, "webwarden:smart", ww_filerep_verdict_name(v.verdict));
    snprintf(threat, threatlen, "%s", v.name);
    return v.verdict == WW_FILEREP_MALICIOUS;
}

static int scan_end_of_data(ci_request_t *req)
{
    struct scan_req *sr = ci_service_data(req);

    if (sr == NULL || sr->body == NULL) /* CONTINUE is only returned with a body */
        return CI_ERROR;
    sr->eof = 1;
    switch (ww_body_end(sr->body, ci_req_sent_data(req), scan_smart, req)) {
    case WW_BODY_MORE: /* decided before */
        break;
    case WW_BODY_BLOCK:
        return scan_block(req, sr);
    case WW_BODY_CUT:
        scan_verdict(req, sr, 1);
        return CI_ERROR; /* data went out: c-icap closes the connection mid-body */
    case WW_BODY_CLEAN:
        ww_cicap_attr(req, "webwarden:reason", "-");
        scan_attrs(req, sr, "allow", "-", ww_body_sha256(sr->body));
        ci_stat_uint64_inc(stat_clean, 1);
        /* 204 from end-of-data only when the client allows it and nothing went out; else echo. */
        if (ci_req_allow204(req) && !ci_req_sent_data(req))
            return CI_MOD_ALLOW204;
        ci_req_unlock_data(req);
        return CI_MOD_DONE;
    default:
        return CI_ERROR;
    }
    switch (ww_body_state(sr->body)) {
    case WW_BODY_PASSING:
        return sr->drop ? CI_MOD_ALLOW204 : CI_MOD_DONE;
    case WW_BODY_BLOCKED:
        return CI_MOD_DONE;
    default:
        return CI_ERROR; /* cut: never a clean end */
    }
}

static int scan_io(char *wbuf, int *wlen, char *rbuf, int *rlen, int iseof, ci_request_t *req)
{
    struct scan_req *sr = ci_service_data(req);
    int n;

    if (sr == NULL || sr->body == NULL)
        return CI_ERROR;
    if (rbuf != NULL && rlen != NULL && *rlen > 0) {
        /* Back-pressure: c-icap keeps what is not taken and stops reading the connection. */
        *rlen = (int)ww_body_room(sr->body, (size_t)*rlen);
        if (*rlen > 0 && scan_decided(req, sr, ww_body_put(sr->body, rbuf, (size_t)*rlen)) != WW_OK)
            return CI_ERROR;
    }
    if (wbuf != NULL && wlen != NULL) {
        switch (ww_body_state(sr->body)) {
        case WW_BODY_CUT_OFF:
            return CI_ERROR; /* never a clean end for a cut download */
        case WW_BODY_BLOCKED:
            *wlen = ww_cicap_page_read(&sr->page, wbuf, *wlen);
            break;
        default:
            n = ww_body_read(sr->body, wbuf, (size_t)*wlen);
            if (n < 0) {
                ww_log(WW_LOG_ERR, SVC ": cannot read back the spooled body of %s", sr->url);
                return CI_ERROR;
            }
            if (n == 0 && ww_body_drained(sr->body) && (sr->eof || iseof))
                n = CI_EOF;
            *wlen = n;
        }
    }
    return CI_OK;
}
