/* modules/srv_webwarden_scan.c - c-icap RESPMOD service "webwarden_scan": every body chunk goes
 * through the ww_scan engine as it arrives; the body is held (memory, then a temp file) until the
 * verdict: clean gives 204 or the body echoed unchanged, infected gives the 403 block page.
 * Bodies over scan.max_size are passed unscanned. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
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

#include "ww_child.h"
#include "ww_clamav.h"
#include "ww_cicap.h"
#include "ww_common.h"
#include "ww_conf.h"
#include "ww_counters.h"
#include "ww_body.h"
#include "ww_deepmon.h"
#include "ww_filerep.h"
#include "ww_filetype.h"
#include "ww_html.h"
#include "ww_log.h"
#include "ww_policies.h"
#include "ww_range.h"
#include "ww_scan.h"
#include "ww_store.h"

#define SVC "webwarden_scan"
#define CMD_DEEP_WATCH SVC ":deep_watch"
#define DEEP_WATCH_S 5 /* how often the monitor looks at the ClamAV and pattern folders */

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

/* Loaded in post_init by the monitor; read-only afterwards, shared copy-on-write by children.
 * scan_rt (lib/ww_child) holds the signatures (compiled here, hot-reloaded by each child's
 * tick), the store, the scan method and the detection queue. */
static struct ww_conf *scan_conf;
static char *scan_tmpl;
static struct ww_child *scan_rt;
static ci_service_xdata_t *scan_xdata; /* for the ISTag of a new pattern */

/* Per child: the smart-scan lookup (its HTTP clients and verdict cache), made at child start
 * when smart_scan.server is set; NULL otherwise. Shared by the child's threads. */
static _Atomic(struct ww_filerep *) scan_filerep;

/* The deep scanner (lib/ww_clamav): loaded in post_init by the monitor, shared copy-on-write by
 * the children, never swapped inside a child. When the folders change the monitor test-loads
 * the new set and, if it loads, has c-icap reconfigure: post_init loads it again and c-icap
 * replaces the children gracefully (docs/architecture.md, "The deep scanner"). */
static struct ww_clamav *scan_deep;
static uint64_t scan_deep_types;
static struct ww_deepmon *scan_deepmon; /* monitor only */

/* c-icap statistics (the `info` service): registered in init, counted in children only. */
static int stat_clean = -1, stat_blocked = -1, stat_cut = -1, stat_unscanned = -1;

/* ISTag from the signature counts and the pattern version: a proxy must not answer from its
 * cache of verdicts made with other signatures. Runtime hook: a new signature set is in force. */
static void scan_set_istag(const struct ww_engine_stats *stats, const char *version, void *arg)
{
    char istag[32];

    if (scan_xdata == NULL)
        return;
    snprintf(istag, sizeof(istag), "-WW-%s-%zu-%zu", version[0] ? version : "dir", stats->hash_sigs,
             stats->body_sigs);
    ci_service_set_istag(scan_xdata, istag);
}

/* Runtime hook at child start (main thread, store lock held; <st> NULL when not open): this
 * child's smart-scan lookup, after fork (its HTTP clients and cache are its own). */
static void scan_filerep_open(struct ww_store *st, void *arg)
{
    char appliance_id[64] = "", err[WW_ERRLEN] = "";
    struct ww_filerep *fr = NULL;

    if (scan_conf == NULL || scan_conf->smart_scan.server[0] == '\0' ||
        atomic_load(&scan_filerep) != NULL)
        return;
    if (st == NULL || ww_store_appliance_id(st, appliance_id, sizeof(appliance_id)) != WW_OK)
        appliance_id[0] = '\0';
    if (ww_filerep_create_from_conf(scan_conf, appliance_id, &fr, err, sizeof(err)) != WW_OK) {
        ww_log(WW_LOG_ERR, SVC ": smart scan unavailable in this child: %s", err);
        return;
    }
    atomic_store(&scan_filerep, fr);
}

static void scan_filerep_close(void *arg)
{
    ww_filerep_free(atomic_exchange(&scan_filerep, NULL)); /* no request runs any more */
}

/* The monitor, every DEEP_WATCH_S: when lib/ww_deepmon says the ClamAV folder changed and its
 * databases load, c-icap is asked to reconfigure (SIGHUP to itself), which loads them once more
 * in post_init and replaces the children gracefully (requests in flight finish on the old
 * engine). */
static void scan_deep_watch_tick(const char *name, int type, void *data)
{
    if (scan_deepmon == NULL)
        return;
    if (ww_deepmon_check(scan_deepmon) == WW_DEEPMON_RELOAD) {
        kill(getpid(), SIGHUP);
        return; /* post_init schedules the next look */
    }
    ci_command_schedule(CMD_DEEP_WATCH, NULL, DEEP_WATCH_S);
}

static int scan_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf)
{
    cfg_config_file = NULL; /* statics survive a reconfigure with forceUnload=off */
    ww_cicap_log_init();
    ci_service_set_preview(xdata, 1024);
    ci_service_enable_204(xdata);
    ci_service_set_transfer_preview(xdata, "*");
    ww_cicap_child_register(SVC, &scan_rt, WW_CHILD_DETECTIONS_MAX);
    register_command_extend(CMD_DEEP_WATCH, CI_CMD_MONITOR_ONDEMAND, NULL, scan_deep_watch_tick);
    stat_clean = ci_stat_entry_register("webwarden_scan clean", STAT_INT64_T, "Webwarden");
    stat_blocked = ci_stat_entry_register("webwarden_scan blocked", STAT_INT64_T, "Webwarden");
    stat_cut =
        ci_stat_entry_register("webwarden_scan cut after release", STAT_INT64_T, "Webwarden");
    stat_unscanned = ci_stat_entry_register("webwarden_scan unscanned", STAT_INT64_T, "Webwarden");
    return CI_OK;
}

/* Config values are visible from here on. The signatures are compiled once, here in the
 * monitor (lib/ww_child), and shared copy-on-write by the children. No signature at all is not a
 * failure (scan.no_patterns_action); any failure marks the service broken (ICAP 500). */
static int scan_post_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf)
{
    static const struct ww_child_hooks hooks = {
        .start = scan_filerep_open, .stop = scan_filerep_close, .engine = scan_set_istag};
    char err[WW_ERRLEN] = "";
    struct ww_engine_stats stats;
    struct ww_engine *e;

    if (ww_cicap_load_conf(SVC, cfg_config_file, &scan_conf, &scan_tmpl) != WW_OK)
        return CI_ERROR;
    scan_xdata = xdata;
    if (ww_child_create(scan_conf, SVC, WW_CHILD_PATTERNS | WW_CHILD_SCAN_METHOD, &hooks, &scan_rt,
                        err, sizeof(err)) != WW_OK) {
        ww_log(WW_LOG_ERR, SVC ": %s", err);
        return CI_ERROR;
    }
    ww_filetype_set_parse((const char *const *)scan_conf->scan.deep_types, &scan_deep_types, err,
                          sizeof(err)); /* checked by ww_conf_load */
    scan_deepmon = ww_deepmon_create(scan_conf, scan_conf->scan.patterns_dir, &scan_deep);
    ci_command_schedule(CMD_DEEP_WATCH, NULL, DEEP_WATCH_S);
    memset(&stats, 0, sizeof(stats));
    e = ww_child_engine_ref(scan_rt);
    if (e != NULL)
        ww_engine_get_stats(e, &stats);
    ww_engine_unref(e);
    ww_log(WW_LOG_INFO,
           SVC ": ready, config %s, pattern %s, %zu hash and %zu body signatures from %zu files "
               "(%zu skipped), max_size %" PRId64 ", hold_max %" PRId64,
           scan_conf->path,
           ww_child_pattern_version(scan_rt)[0] ? ww_child_pattern_version(scan_rt)
                                                : scan_conf->scan.patterns_dir,
           stats.hash_sigs, stats.body_sigs, stats.files, stats.skipped, scan_conf->scan.max_size,
           scan_conf->scan.hold_max);
    return CI_OK;
}

/* Every child at exit, and the monitor on reconfigure and stop: idempotent, this process only. */
static void scan_close_service(void)
{
    ww_child_free(scan_rt); /* stops first: the last detections go to the store */
    scan_rt = NULL;
    ww_clamav_unref(scan_deep); /* bodies in flight hold their own reference */
    scan_deep = NULL;
    ww_deepmon_free(scan_deepmon);
    scan_deepmon = NULL;
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
    /* The response's validators, copied at the preview: by the end of the body c-icap may have
     * packed the headers it sent, and its header pointers are no longer strings. */
    char etag[128];
    char last_modified[64];
    const struct ww_policy *policy; /* the requester's named policy (or the default) */
    enum ww_range_verdict range;    /* whole, a part, or a refused resume (issue 12) */
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
    ww_cicap_attr(req, "webwarden:type", sr->body != NULL ? ww_body_type(sr->body) : "-");
    ww_cicap_attr(req, "webwarden:scanner", sr->body != NULL ? ww_body_scanner(sr->body) : "-");
    ww_cicap_attr(req, "webwarden:deep", sr->body != NULL ? ww_body_deep(sr->body) : "-");
    snprintf(num, sizeof(num), "%" PRId64,
             scan_received(sr) > sr->expected ? scan_received(sr) : sr->expected);
    ww_cicap_attr(req, "webwarden:size", num);
    snprintf(num, sizeof(num), "%ld", ms);
    ww_cicap_attr(req, "webwarden:ms", num);
    ww_ctr_scan_done(action, &sr->t0);
}

/* From here the body streams through without a verdict: logged, marked and counted. */
static void scan_unscanned(ci_request_t *req, struct scan_req *sr)
{
    ww_log(WW_LOG_WARN, SVC ": UNSCANNED %s: %s", sr->url, ww_body_detail(sr->body));
    ww_cicap_attr(req, "webwarden:reason", ww_body_reason(sr->body));
    scan_attrs(req, sr, "unscanned", "-", "-");
    ci_stat_uint64_inc(stat_unscanned, 1);
}

/* "scanner=clamav type=zip": which scanner found it, and the body's true type. */
static const char *scan_via(const struct scan_req *sr, char *out, size_t outlen)
{
    snprintf(out, outlen, "scanner=%s type=%s", ww_body_scanner(sr->body), ww_body_type(sr->body));
    return out;
}

/* A block (the page replaces the response) or a cut (bytes went out: the response is broken
 * off, c-icap closes the ICAP connection mid-body and Squid aborts the client's download), logged
 * and counted; a detection (not a policy such as scan.oversize_action) goes to the events. */
static void scan_verdict(ci_request_t *req, struct scan_req *sr, int cut)
{
    const char *threat = ww_body_threat(sr->body), *sha256 = ww_body_sha256(sr->body);
    char reason[400], via[64];

    ww_body_explain(sr->body, reason, sizeof(reason));
    if (cut)
        ww_log(WW_LOG_ERR,
               SVC ": BLOCKED %s: threat %s found after %" PRId64 " of %" PRId64
                   " bytes were sent: download cut, scanner=%s type=%s%s%s",
               sr->url, threat, ww_body_sent(sr->body), ww_body_received(sr->body),
               ww_body_scanner(sr->body), ww_body_type(sr->body),
               ww_body_reason(sr->body)[0] ? ": " : "", ww_body_detail(sr->body));
    else
        ww_log(WW_LOG_ERR,
               SVC ": BLOCKED %s: threat %s, sha256 %s, %" PRId64 " bytes, scanner=%s type=%s%s%s",
               sr->url, threat, sha256, ww_body_received(sr->body), ww_body_scanner(sr->body),
               ww_body_type(sr->body), ww_body_reason(sr->body)[0] ? ": " : "",
               ww_body_detail(sr->body));
    ww_cicap_attr(req, "webwarden:reason", reason);
    scan_attrs(req, sr, "block", threat, sha256);
    ci_stat_uint64_inc(stat_blocked, 1);
    if (cut)
        ci_stat_uint64_inc(stat_cut, 1);
    /* Whatever cut or blocked it: a resumed download must not complete it (issue 12). A
     * refused resume is remembered already. */
    if (sr->range != WW_RANGE_BLOCK && strcmp(threat, WW_THREAT_PARTIAL) != 0)
        ww_child_range_remember(scan_rt, sr->url, threat, sr->etag, sr->last_modified);
    if (ww_body_reason(sr->body)[0] != '\0')
        return; /* a policy, not a detection */
    ww_child_detection_add_full(scan_rt, sr->url, threat,
                                sr->policy != NULL ? sr->policy->name : NULL,
                                scan_via(sr, via, sizeof(via)), cut ? ww_body_sent(sr->body) : -1);
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
        {"policy", sr->policy != NULL ? sr->policy->name : "default"},
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

    for (i = 0; h != NULL && i < h->used; i++) {
        const char *v = h->headers[i];
        if (v == NULL || strncasecmp(v, name, sizeof(name) - 1) != 0)
            continue;
        v += sizeof(name) - 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (n == max) { /* more lines than kept: one might hide a coding (issue 12) */
            out[max - 1] = "x-too-many-content-encoding-lines";
            break;
        }
        out[n++] = v;
    }
    return n;
}

/* A partial response (206, Content-Range; issue 12): sets sr->range (ww_range_response) and
 * returns it. A URL that was cut or blocked in the last day is WW_RANGE_BLOCK; any other part is
 * scanned as partial content and logged so at its end. */
static enum ww_range_verdict scan_range(ci_request_t *req, struct scan_req *sr)
{
    ci_headers_list_t *h = ci_http_response_headers(req);
    const char *cr = ci_http_response_get_header(req, "Content-Range");
    int status = 0, known;

    if (h != NULL && h->used > 0 && h->headers[0] != NULL)
        sscanf(h->headers[0], "HTTP/%*s %d", &status);
    sr->range = ww_range_response(status, cr, 0);
    if (sr->range == WW_RANGE_WHOLE)
        return sr->range;
    known = ww_child_range_lookup(scan_rt, sr->url, NULL);
    if (known < 0)
        ww_log(WW_LOG_WARN,
               SVC ": a partial response for %s: the state store cannot say whether it was cut "
                   "before: scanned as partial content",
               sr->url);
    sr->range = ww_range_response(status, cr, known == 1);
    return sr->range;
}

static int scan_check_preview(char *preview, int len, ci_request_t *req)
{
    struct scan_req *sr = ci_service_data(req);
    struct ww_body_limits lim;
    const char *codings[8];
    size_t ncodings;
    unsigned flags = 0;
    struct ww_engine *engine;
    int d;

    if (sr == NULL || scan_conf == NULL || scan_rt == NULL) {
        ww_log(WW_LOG_ERR, SVC ": out of memory or not configured: request refused");
        return CI_ERROR;
    }
    ww_cicap_request_url(req, sr->url, sizeof(sr->url)); /* for logs and the page only */
    {
        const char *v = ci_http_response_get_header(req, "ETag");
        snprintf(sr->etag, sizeof(sr->etag), "%s", v != NULL ? v : "");
        v = ci_http_response_get_header(req, "Last-Modified");
        snprintf(sr->last_modified, sizeof(sr->last_modified), "%s", v != NULL ? v : "");
    }
    ww_body_limits_from_conf(&lim, scan_conf);
    /* hold_all=on|off: one c-icap serves a Squid with and one without the bug-5352 fixes. */
    ww_body_apply_args(&lim, req->args);
    sr->policy = ww_cicap_policy(req, scan_conf); /* who is asking: the proxy's ICAP headers */
    if (sr->policy != NULL)
        lim.max_size = sr->policy->max_size; /* scan.max_size, or the policy's own */
    sr->drop = lim.hold_all && ci_req_allow204(req);
    if (!ci_req_hasbody(req)) {
        scan_attrs(req, sr, "allow", "-", "-");
        return CI_MOD_ALLOW204;
    }
    sr->expected = ci_http_content_length(req);
    /* The SHA-256 is computed for every body only while smart scan may look it up. */
    if (atomic_load_explicit(&scan_filerep, memory_order_acquire) != NULL &&
        ww_child_scan_method(scan_rt) == WW_SCAN_SMART)
        flags |= WW_BODY_SHA256;
    if (sr->drop)
        flags |= WW_BODY_DROP;
    /* Content-Length is a hint only: the bytes received decide (scan.oversize_action). */
    sr->body = ww_body_create(&lim, sr->expected, flags);
    if (sr->body != NULL)
        ww_body_set_deep(sr->body,
                         ww_deepscan_create(scan_deep, scan_deep_types,
                                            scan_conf->clamav.max_file_size, lim.tmp_dir),
                         scan_conf->clamav.limit_action);
    if (sr->body != NULL && scan_range(req, sr) == WW_RANGE_BLOCK) {
        /* A part of an object that was cut or blocked: the page, before any byte. */
        d = ww_body_refuse(sr->body, WW_THREAT_RESUMED, "resumed download of a blocked file",
                           "a partial response (206 / Content-Range) for a URL cut or blocked in "
                           "the last day");
        return scan_decided(req, sr, d) == WW_OK ? CI_MOD_CONTINUE : CI_ERROR;
    }
    if (sr->range == WW_RANGE_PARTIAL && (d = ww_body_partial(sr->body)) != WW_BODY_MORE)
        return scan_decided(req, sr, d) == WW_OK ? CI_MOD_CONTINUE : CI_ERROR; /* partial_action */
    ncodings = scan_codings(req, codings, sizeof(codings) / sizeof(codings[0]));
    /* The tick may swap the engine; the body keeps its own reference. NULL: no patterns at all
     * (scan.no_patterns_action decides in ww_body_start). */
    engine = ww_child_engine_ref(scan_rt);
    d = sr->body != NULL ? ww_body_start(sr->body, engine, codings, ncodings) : WW_ENOMEM;
    ww_engine_unref(engine);
    if (d < 0) {
        ww_log(WW_LOG_ERR, SVC ": out of memory starting a scan of %s", sr->url);
        return CI_ERROR;
    }
    if (d == WW_BODY_UNSCANNED) {
        /* Passed before any byte (no patterns): 204 from the preview handler is always safe,
         * c-icap echoes the body itself when the client does not allow 204. */
        scan_unscanned(req, sr);
        return CI_MOD_ALLOW204;
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

    if (fr == NULL || ww_child_scan_method(scan_rt) != WW_SCAN_SMART) {
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
        return CI_ERROR;    /* data went out: c-icap closes the connection mid-body */
    case WW_BODY_UNSCANNED: /* a check budget spent, scan.budget_action = allow (issue 12) */
        scan_unscanned(req, sr);
        if (sr->drop || (ci_req_allow204(req) && !ci_req_sent_data(req)))
            return CI_MOD_ALLOW204;
        ci_req_unlock_data(req);
        return CI_MOD_DONE;
    case WW_BODY_CLEAN:
        if (ww_body_reason(sr->body)[0] == '\0' && sr->range == WW_RANGE_PARTIAL)
            /* A part's bytes alone are not the file: nothing found, but not clean. */
            ww_body_pass(sr->body, "partial content",
                         "a partial response (206 / Content-Range): only a part was scanned");
        if (ww_body_reason(sr->body)[0] != '\0') /* the deep scan hit a limit: not clean */
            scan_unscanned(req, sr);
        else {
            ww_cicap_attr(req, "webwarden:reason", "-");
            scan_attrs(req, sr, "allow", "-", ww_body_sha256(sr->body));
            ci_stat_uint64_inc(stat_clean, 1);
        }
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
