/* modules/srv_webwarden_scan.c - c-icap RESPMOD service "webwarden_scan": c-icap's callbacks
 * mapped to one lib/ww_scanreq per request (setup from the response headers, report of the
 * outcome) and its body pipeline lib/ww_body, which scans every chunk as it arrives and holds the
 * body (memory, then a temp file) until the verdict: clean gives 204 or the body echoed
 * unchanged, infected gives the 403 block page. Bodies over scan.max_size are passed unscanned. */
#include "config.h"

#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include <c_icap/c-icap.h>
#include <c_icap/cfg_param.h>
#include <c_icap/commands.h>
#include <c_icap/debug.h>
#include <c_icap/request.h>
#include <c_icap/service.h>
#include <c_icap/simple_api.h>
#include <c_icap/stats.h>

#include "ww_child.h"
#include "ww_cicap.h"
#include "ww_common.h"
#include "ww_conf.h"
#include "ww_deepmon.h"
#include "ww_filerep.h"
#include "ww_filetype.h"
#include "ww_log.h"
#include "ww_scan.h"
#include "ww_scanreq.h"
#include "ww_store.h"

/* The service's name; bench/perf-icap.sh builds a second copy as webwarden_scan_b (-DWW_SCAN_SVC)
 * to measure two builds in one c-icap. */
#ifdef WW_SCAN_SVC
#define SVC WW_SCAN_SVC
#else
#define SVC "webwarden_scan"
#endif
#define CMD_DEEP_WATCH SVC ":deep_watch"
#define DEEP_WATCH_S 1 /* how often the monitor looks at the ClamAV and pattern folders */

/* "webwarden_scan.ConfigFile": c-icap's config memory, copied in post_init, never kept. */
static char *cfg_config_file;

static struct ci_conf_entry scan_conf_table[] = {
    {"ConfigFile", &cfg_config_file, ci_cfg_set_str, "Path of webwarden.conf"},
    {NULL, NULL, NULL, NULL}};

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
static struct ww_deepmon *scan_deepmon; /* monitor only */
static struct ww_scanreq_env scan_env;  /* what every request gets, set in post_init */

/* c-icap statistics (the `info` service): registered in init, counted in children only; one per
 * enum ww_scanreq_outcome (a cut counts as blocked too). */
static const char *const stat_names[] = {[WW_SCANREQ_CLEAN] = "webwarden_scan clean",
                                         [WW_SCANREQ_BLOCKED] = "webwarden_scan blocked",
                                         [WW_SCANREQ_CUT] = "webwarden_scan cut after release",
                                         [WW_SCANREQ_UNSCANNED] = "webwarden_scan unscanned"};
static int stat_of[WW_SCANREQ_UNSCANNED + 1] = {-1, -1, -1, -1, -1};

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
 * engine). A reconfigure empties c-icap's command queue, so the next look is always scheduled:
 * when c-icap ignored the SIGHUP (children of the last reconfigure still finishing), this
 * monitor, still in force, asks again. */
static void scan_deep_watch_tick(const char *name, int type, void *data)
{
    if (scan_deepmon == NULL)
        return;
    if (ww_deepmon_check(scan_deepmon) == WW_DEEPMON_RELOAD)
        kill(getpid(), SIGHUP);
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
    for (int i = WW_SCANREQ_CLEAN; i <= WW_SCANREQ_UNSCANNED; i++)
        stat_of[i] = ci_stat_entry_register((char *)stat_names[i], STAT_INT64_T, "Webwarden");
    return CI_OK;
}

/* Config values are visible from here on. The signatures are compiled once, here in the
 * monitor (lib/ww_child), and shared copy-on-write by the children. No signature at all is not a
 * failure (scan.no_patterns_action); any failure marks the service broken (ICAP 500). */
static int scan_post_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf)
{
    static const struct ww_child_hooks hooks = {
        .start = scan_filerep_open, .stop = scan_filerep_close, .engine = scan_set_istag};
    char err[WW_ERRLEN] = "", desc[256];

    if (ww_cicap_load_conf(SVC, cfg_config_file, &scan_conf, &scan_tmpl) != WW_OK)
        return CI_ERROR;
    scan_xdata = xdata;
    if (ww_child_create(scan_conf, SVC, WW_CHILD_PATTERNS | WW_CHILD_SCAN_METHOD, &hooks, &scan_rt,
                        err, sizeof(err)) != WW_OK) {
        ww_log(WW_LOG_ERR, SVC ": %s", err);
        return CI_ERROR;
    }
    scan_env = (struct ww_scanreq_env){.svc = SVC, .conf = scan_conf, .rt = scan_rt};
    ww_filetype_set_parse((const char *const *)scan_conf->scan.deep_types, &scan_env.deep_types,
                          err, sizeof(err)); /* checked by ww_conf_load */
    scan_deepmon = ww_deepmon_create(scan_conf, scan_conf->scan.patterns_dir, &scan_deep);
    scan_env.deep = scan_deep;
    ci_command_schedule(CMD_DEEP_WATCH, NULL, DEEP_WATCH_S);
    ww_child_engine_describe(scan_rt, scan_conf->scan.patterns_dir, desc, sizeof(desc));
    ww_log(WW_LOG_INFO, SVC ": ready, config %s, %s, max_size %" PRId64 ", hold_max %" PRId64,
           scan_conf->path, desc, scan_conf->scan.max_size, scan_conf->scan.hold_max);
    return CI_OK;
}

/* Every child at exit, and the monitor on reconfigure and stop: idempotent, this process only. */
static void scan_close_service(void)
{
    ww_child_free(scan_rt); /* stops first: the last detections go to the store */
    scan_rt = NULL;
    ww_clamav_unref(scan_deep); /* bodies in flight hold their own reference */
    scan_deep = NULL;
    memset(&scan_env, 0, sizeof(scan_env));
    ww_deepmon_free(scan_deepmon);
    scan_deepmon = NULL;
    scan_xdata = NULL;
    free(scan_tmpl);
    scan_tmpl = NULL;
    ww_conf_free(scan_conf);
    scan_conf = NULL;
}

/* ---- per request: c-icap callbacks mapped to lib/ww_scanreq and its body pipeline ---- */

struct scan_req {
    struct ww_scanreq *sq; /* NULL until the preview started it */
    struct ww_cicap_page page;
    int eof; /* the whole body was received */
};

static void *scan_init_request_data(ci_request_t *req)
{
    return calloc(1, sizeof(struct scan_req));
}

static void scan_release_request_data(void *data)
{
    struct scan_req *sr = data;

    if (sr == NULL)
        return;
    ww_scanreq_free(sr->sq);
    ww_cicap_page_cleanup(&sr->page);
    free(sr);
}

/* The request's end after decision <d>: access-log attributes and c-icap statistics. */
static void scan_report(ci_request_t *req, struct scan_req *sr, int d)
{
    struct ww_scanreq_report rep;

    ww_scanreq_report(sr->sq, d, &rep);
    for (size_t i = 0; i < rep.nattrs; i++)
        ww_cicap_attr(req, rep.attrs[i].name, rep.attrs[i].value);
    if (rep.outcome == WW_SCANREQ_CUT)
        ci_stat_uint64_inc(stat_of[WW_SCANREQ_BLOCKED], 1);
    if (rep.outcome != WW_SCANREQ_NO_BODY)
        ci_stat_uint64_inc(stat_of[rep.outcome], 1);
}

/* The block page replaces the response (nothing went out yet). CI_MOD_DONE or CI_ERROR. */
static int scan_block(ci_request_t *req, struct scan_req *sr)
{
    struct ww_scanreq_page pg;
    char when[64];
    int rc;

    scan_report(req, sr, WW_BODY_BLOCK);
    ww_cicap_now(when, sizeof(when));
    ww_scanreq_page(sr->sq, SVC, when, &pg);
    if (ci_req_sent_data(req)) /* too late for a page (cannot happen while the body is held) */
        return CI_ERROR;
    rc = ww_cicap_block_page(req, scan_tmpl, pg.vars, WW_SCANREQ_PAGE_VARS, &sr->page);
    if (rc != WW_OK) {
        ww_log(WW_LOG_ERR, SVC ": cannot build the block page for %s: %s", ww_scanreq_url(sr->sq),
               ww_strerror(rc));
        return CI_ERROR;
    }
    ci_icap_add_xheader(req, pg.infection);
    ci_icap_add_xheader(req, pg.virus_id);
    ww_cicap_add_violation(req, ww_scanreq_url(sr->sq), ww_body_threat(ww_scanreq_body(sr->sq)));
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
        if (!ci_req_sent_data(req) && ww_body_uncut(ww_scanreq_body(sr->sq)) == WW_BODY_BLOCK)
            return scan_decided(req, sr, WW_BODY_BLOCK); /* nothing went out: the page after all */
        scan_report(req, sr, d);
        return WW_OK;
    case WW_BODY_UNSCANNED:
        scan_report(req, sr, d);
        if (!ww_scanreq_drop(sr->sq)) /* with drop nothing was kept: the answer is 204 */
            ci_req_unlock_data(req);
        return WW_OK;
    }
    return d < 0 ? d : WW_EIO;
}

static int scan_check_preview(char *preview, int len, ci_request_t *req)
{
    struct scan_req *sr = ci_service_data(req);
    const char *codings[WW_SCANREQ_CODINGS + 1];
    char url[WW_URL_MAX];
    struct ww_scanreq_env env = scan_env;
    struct ww_scanreq_headers h = {
        .status_line = ww_cicap_response_status(req),
        .content_range = ci_http_response_get_header(req, "Content-Range"),
        .etag = ci_http_response_get_header(req, "ETag"),
        .last_modified = ci_http_response_get_header(req, "Last-Modified"),
        .codings = codings,
        .content_length = ci_http_content_length(req),
        .args = req->args,
        .has_body = ci_req_hasbody(req),
        .allow204 = ci_req_allow204(req)};
    int d;

    if (sr == NULL || scan_conf == NULL || scan_rt == NULL) {
        ww_log(WW_LOG_ERR, SVC ": out of memory or not configured: request refused");
        return CI_ERROR;
    }
    env.smart = atomic_load_explicit(&scan_filerep, memory_order_acquire);
    ww_cicap_request_url(req, url, sizeof(url)); /* for logs and the page only */
    sr->sq = ww_scanreq_create(url);
    if (sr->sq == NULL)
        return CI_ERROR;
    /* One line more than kept: lib/ww_scanreq refuses to guess past it (issue 12). */
    h.ncodings = ww_cicap_response_values(req, "Content-Encoding", codings, WW_SCANREQ_CODINGS + 1);
    /* Who is asking: the proxy's ICAP headers. */
    d = ww_scanreq_start(sr->sq, &env, ww_cicap_policy(req, scan_conf), &h);
    if (d < 0) {
        ww_log(WW_LOG_ERR, SVC ": out of memory starting a scan of %s", url);
        return CI_ERROR;
    }
    if (d == WW_BODY_CLEAN || d == WW_BODY_UNSCANNED) {
        /* No body, or passed before any byte (no patterns): 204 from the preview handler is
         * always safe, c-icap echoes the body itself when the client does not allow 204. */
        scan_report(req, sr, d);
        return CI_MOD_ALLOW204;
    }
    if (scan_decided(req, sr, d) != WW_OK)
        return CI_ERROR;
    if (d == WW_BODY_BLOCK) /* refused before any byte: the rest is read and dropped */
        return CI_MOD_CONTINUE;
    if (len > 0 &&
        scan_decided(req, sr, ww_body_put(ww_scanreq_body(sr->sq), preview, (size_t)len)) != WW_OK)
        return CI_ERROR;
    return CI_MOD_CONTINUE;
}

static int scan_end_of_data(ci_request_t *req)
{
    struct scan_req *sr = ci_service_data(req);
    struct ww_body *body = sr != NULL ? ww_scanreq_body(sr->sq) : NULL;
    int d;

    if (body == NULL) /* CONTINUE is only returned with a body */
        return CI_ERROR;
    sr->eof = 1;
    switch (d = ww_scanreq_end(sr->sq, ci_req_sent_data(req))) {
    case WW_BODY_MORE: /* decided before */
        break;
    case WW_BODY_BLOCK:
        return scan_block(req, sr);
    case WW_BODY_CUT:
        scan_report(req, sr, d);
        return CI_ERROR;    /* data went out: c-icap closes the connection mid-body */
    case WW_BODY_UNSCANNED: /* a check budget spent, scan.budget_action = allow (issue 12) */
        scan_report(req, sr, d);
        if (ww_scanreq_drop(sr->sq) || (ci_req_allow204(req) && !ci_req_sent_data(req)))
            return CI_MOD_ALLOW204;
        ci_req_unlock_data(req);
        return CI_MOD_DONE;
    case WW_BODY_CLEAN: /* or with a reason (a deep-scan limit, a part): reported unscanned */
        scan_report(req, sr, d);
        /* 204 from end-of-data only when the client allows it and nothing went out; else echo. */
        if (ci_req_allow204(req) && !ci_req_sent_data(req))
            return CI_MOD_ALLOW204;
        ci_req_unlock_data(req);
        return CI_MOD_DONE;
    default:
        return CI_ERROR;
    }
    switch (ww_body_state(body)) {
    case WW_BODY_PASSING:
        return ww_scanreq_drop(sr->sq) ? CI_MOD_ALLOW204 : CI_MOD_DONE;
    case WW_BODY_BLOCKED:
        return CI_MOD_DONE;
    default:
        return CI_ERROR; /* cut: never a clean end */
    }
}

/* Body bytes written here in one chunk (ww_cicap_send_chunk), not in c-icap's rounds of 4,064
 * bytes: everything ready to go out, once it is more than <min> bytes; a body spooled to a file
 * (hold_all past hold_memory) read back WW_DIRECT_FILE_READ bytes at a time, each its own chunk.
 * WW_OK, or WW_EIO when the connection failed part way, or the file could not be read (logged). */
#define WW_DIRECT_MAX ((size_t)16 << 20) /* bytes in one chunk */
#define WW_DIRECT_FILE_READ (256 * 1024) /* a spooled body's bytes per chunk */
static int scan_send_direct(ci_request_t *req, struct scan_req *sr, struct ww_body *body,
                            size_t min)
{
    struct iovec iov[2];
    int n = ww_body_peek(body, WW_DIRECT_MAX, iov);
    size_t len = n > 0 ? iov[0].iov_len + (n > 1 ? iov[1].iov_len : 0) : 0;
    char *buf;
    long w = 0;

    if (n == 0 && ww_body_ready(body) > (int64_t)min) {
        /* spooled: read back into a buffer, then written like the ring's bytes */
        buf = malloc(WW_DIRECT_FILE_READ);
        if (buf == NULL)
            return WW_OK; /* c-icap's rounds will do */
        while (w >= 0 && ww_body_ready(body) > (int64_t)min) {
            int r = ww_body_read(body, buf, WW_DIRECT_FILE_READ);
            if (r <= 0) {
                ww_log(WW_LOG_ERR, SVC ": cannot read back the spooled body of %s",
                       ww_scanreq_url(sr->sq));
                free(buf);
                return WW_EIO;
            }
            iov[0].iov_base = buf;
            iov[0].iov_len = (size_t)r;
            w = ww_cicap_send_chunk(req, iov, 1);
            if (w == 0)
                w = -1; /* read back, so counted as sent: never 0 here (direct was checked) */
        }
        free(buf);
    } else if (len > min) {
        w = ww_cicap_send_chunk(req, iov, n);
        if (w > 0 && ww_body_skip(body, (size_t)w) != WW_OK)
            return WW_EIO;
    }
    if (w < 0) {
        ww_log(WW_LOG_INFO, SVC ": the connection failed while sending the body of %s",
               ww_scanreq_url(sr->sq));
        return WW_EIO;
    }
    return WW_OK;
}

/* c-icap's body callback. With scan.direct_send, the bytes ready to go out are written here
 * (scan_send_direct): after the request's body all of them (c-icap calls with no read buffer and
 * iseof), while it is read in batches, whenever c-icap holds none of the body
 * (ww_cicap_at_chunk_boundary); bytes short of a batch then wait, unless input was refused
 * (c-icap must have something to write, or it stops: "can not accept or sent body data"). */
static int scan_io(char *wbuf, int *wlen, char *rbuf, int *rlen, int iseof, ci_request_t *req)
{
    struct scan_req *sr = ci_service_data(req);
    struct ww_body *body = sr != NULL ? ww_scanreq_body(sr->sq) : NULL;
    int after = rbuf == NULL && rlen == NULL && iseof;
    int direct = scan_conf->scan.direct_send && ww_cicap_direct_ok(req);
    int reading = direct && !after && wbuf != NULL && wlen != NULL && *wlen > 0 &&
                  ww_cicap_at_chunk_boundary(req);
    int refused = 0, n;

    if (body == NULL)
        return CI_ERROR;
    if (reading && scan_send_direct(req, sr, body, ww_body_send_min(0, 0)) != WW_OK)
        return CI_ERROR; /* first, so the window has room for what comes in */
    if (rbuf != NULL && rlen != NULL && *rlen > 0) {
        /* Back-pressure: c-icap keeps what is not taken and stops reading the connection. */
        int offered = *rlen;
        *rlen = (int)ww_body_room(body, (size_t)*rlen);
        refused = *rlen < offered;
        if (*rlen > 0 && scan_decided(req, sr, ww_body_put(body, rbuf, (size_t)*rlen)) != WW_OK)
            return CI_ERROR;
    }
    if (wbuf != NULL && wlen != NULL) {
        switch (ww_body_state(body)) {
        case WW_BODY_CUT_OFF:
            return CI_ERROR; /* never a clean end for a cut download */
        case WW_BODY_BLOCKED:
            *wlen = ww_cicap_page_read(&sr->page, wbuf, *wlen);
            break;
        default:
            if ((after && direct) || reading) {
                if (scan_send_direct(req, sr, body, ww_body_send_min(after, (size_t)*wlen)) !=
                    WW_OK)
                    return CI_ERROR;
                if (ww_body_send_wait(body, after, refused)) {
                    *wlen = 0; /* short of a batch: the bytes wait */
                    break;
                }
            }
            n = ww_body_read(body, wbuf, (size_t)*wlen);
            if (n < 0) {
                ww_log(WW_LOG_ERR, SVC ": cannot read back the spooled body of %s",
                       ww_scanreq_url(sr->sq));
                return CI_ERROR;
            }
            if (n == 0 && ww_body_drained(body) && (sr->eof || iseof))
                n = CI_EOF;
            *wlen = n;
        }
    }
    return CI_OK;
}

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
