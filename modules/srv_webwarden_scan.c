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

#include "ww_child.h"
#include "ww_cicap.h"
#include "ww_common.h"
#include "ww_conf.h"
#include "ww_decode.h"
#include "ww_filerep.h"
#include "ww_html.h"
#include "ww_log.h"
#include "ww_scan.h"
#include "ww_store.h"

#define SVC "webwarden_scan"

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

/* c-icap statistics (the `info` service): registered in init, counted in children only. */
static int stat_clean = -1, stat_blocked = -1, stat_cut = -1, stat_unscanned = -1;

/* ---- the held body: memory up to a cap, then an unlinked temp file ---- */

struct hold {
    char *mem; /* while fd < 0 */
    size_t mem_len, mem_cap;
    int fd;       /* -1 until spilled */
    int64_t size; /* bytes stored */
    int64_t rpos; /* bytes already given back to c-icap */
};

static void hold_init(struct hold *h)
{
    memset(h, 0, sizeof(*h));
    h->fd = -1;
}

static void hold_cleanup(struct hold *h)
{
    free(h->mem);
    if (h->fd >= 0)
        close(h->fd);
    hold_init(h);
}

/* Writes at an explicit offset: the file shrinks when drained, the fd offset would lie. */
static int write_all(int fd, const char *p, size_t len, int64_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return WW_EIO;
        p += n;
        off += n;
        len -= (size_t)n;
    }
    return WW_OK;
}

/* Appends <len> bytes; moves everything to a temp file in <dir> once memory would pass <cap>.
 * WW_OK, or WW_EIO / WW_ENOMEM (logged). */
static int hold_append(struct hold *h, const char *data, size_t len, size_t cap, const char *dir)
{
    if (len == 0)
        return WW_OK;
    if (h->fd < 0 && h->mem_len + len <= cap) {
        if (h->mem_len + len > h->mem_cap) {
            size_t want = h->mem_cap ? h->mem_cap * 2 : 16384;
            char *p;
            while (want < h->mem_len + len)
                want *= 2;
            if (want > cap)
                want = cap;
            p = realloc(h->mem, want);
            if (p == NULL) {
                ww_log(WW_LOG_ERR, SVC ": out of memory holding a body");
                return WW_ENOMEM;
            }
            h->mem = p;
            h->mem_cap = want;
        }
        memcpy(h->mem + h->mem_len, data, len);
        h->mem_len += len;
        h->size += (int64_t)len;
        return WW_OK;
    }
    if (h->fd < 0) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/webwarden-body-XXXXXX", dir[0] ? dir : "/tmp");
        h->fd = mkstemp(path);
        if (h->fd < 0) {
            ww_log(WW_LOG_ERR, SVC ": cannot create a spool file in %s: %s", dir, strerror(errno));
            return WW_EIO;
        }
        unlink(path); /* nothing is left behind, even if this child crashes */
        if (write_all(h->fd, h->mem, h->mem_len, 0) != WW_OK)
            goto fail;
        free(h->mem);
        h->mem = NULL;
        h->mem_len = h->mem_cap = 0;
    }
    if (write_all(h->fd, data, len, h->size) != WW_OK)
        goto fail;
    h->size += (int64_t)len;
    return WW_OK;
fail:
    ww_log(WW_LOG_ERR, SVC ": cannot write the spool file in %s: %s", dir, strerror(errno));
    return WW_EIO;
}

/* Next held bytes into <buf>: the count (0 = nothing held right now), or -1 on a read error. */
static int hold_read(struct hold *h, char *buf, int len)
{
    int64_t avail = h->size - h->rpos;
    size_t n;

    if (avail <= 0 || len <= 0)
        return 0;
    n = avail < (int64_t)len ? (size_t)avail : (size_t)len;
    if (h->fd < 0) {
        memcpy(buf, h->mem + h->rpos, n);
    } else {
        ssize_t r = pread(h->fd, buf, n, (off_t)h->rpos);
        if (r <= 0)
            return -1;
        n = (size_t)r;
    }
    h->rpos += (int64_t)n;
    if (h->rpos == h->size && h->fd >= 0) {
        /* Passing an unscanned body through: all sent, so the file can start over. */
        if (ftruncate(h->fd, 0) == 0)
            h->size = h->rpos = 0;
    } else if (h->rpos == h->size) {
        h->mem_len = 0;
        h->size = h->rpos = 0;
    }
    return (int)n;
}

/* Streaming keeps only a small tail held: once this much was given back, the unsent rest moves
 * to the front, so a long download never fills the spool folder. */
#define HOLD_COMPACT_AT (256 * 1024)

/* A streamed body (over scan.hold_max, issue 7) stays in memory: at most hold_max plus this much
 * is held per request. When Squid reads slower than the origin sends, scan_io takes fewer bytes
 * (c-icap then stops reading the ICAP connection), instead of spooling to a temp file - spool
 * files dominated c-icap's CPU in the baseline measurements. */
#define STREAM_WINDOW (256 * 1024)
/* Bytes of a streamed body always held back until ww_scan_finish and smart scan: a hash or cloud
 * verdict at the end still keeps the download from completing. */
#define STREAM_KEEP (16 * 1024)

static int hold_compact(struct hold *h)
{
    int64_t keep = h->size - h->rpos;
    char buf[16384];
    int64_t done = 0;

    if (h->fd < 0) {
        /* Moving the unsent rest costs no more than the bytes already sent: amortised O(1). */
        if (h->rpos == 0 || (h->rpos < keep && h->rpos < 65536))
            return WW_OK;
        memmove(h->mem, h->mem + h->rpos, (size_t)keep);
        h->mem_len = (size_t)keep;
    } else {
        if (h->rpos < HOLD_COMPACT_AT)
            return WW_OK;
        /* The kept tail starts after everything copied, so chunks never overlap. */
        while (done < keep) {
            size_t n = keep - done < (int64_t)sizeof(buf) ? (size_t)(keep - done) : sizeof(buf);
            ssize_t r = pread(h->fd, buf, n, (off_t)(h->rpos + done));
            if (r <= 0 || pwrite(h->fd, buf, (size_t)r, (off_t)done) != r)
                return WW_EIO;
            done += r;
        }
        if (ftruncate(h->fd, (off_t)keep) != 0)
            return WW_EIO;
    }
    h->size = keep;
    h->rpos = 0;
    return WW_OK;
}

/* ---- per request ---- */

enum scan_mode {
    MODE_HOLD,   /* scanning, body held until the verdict */
    MODE_PASS,   /* over scan.max_size: streamed through unscanned */
    MODE_BLOCK,  /* the block page is being sent */
    MODE_STREAM, /* over scan.hold_max: scanned bytes go back while the rest arrives (issue 7) */
    MODE_CUT,    /* a threat found after bytes went out: the response is broken off */
};

#define RELEASE_ALL INT64_MAX

struct scan_req {
    enum scan_mode mode;
    struct ww_scan *scan;
    struct hold hold;
    struct ww_cicap_page page;
    int64_t received;      /* body bytes from the client */
    int64_t expected;      /* Content-Length, -1 if unknown */
    int64_t limit;         /* body bytes that may go back to the client (RELEASE_ALL: every one) */
    int64_t sent;          /* body bytes given back */
    int eof;               /* the whole body was received */
    int hold_all;          /* scan.hold_all, or the service argument hold_all=on|off */
    int drop;              /* hold_all and Allow: 204: the answer is 204 or the block page, so
                              scanned bytes are dropped, never held or spooled */
    struct ww_decode *dec; /* Content-Encoding gzip/deflate: the scanner sees the decoded file */
    struct timespec t0;
    char url[WW_URL_MAX];
};

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

static int scan_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf)
{
    cfg_config_file = NULL; /* statics survive a reconfigure with forceUnload=off */
    ww_cicap_log_init();
    ci_service_set_preview(xdata, 1024);
    ci_service_enable_204(xdata);
    ci_service_set_transfer_preview(xdata, "*");
    ww_cicap_child_register(SVC, &scan_rt, WW_CHILD_DETECTIONS_MAX);
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
    scan_xdata = NULL;
    free(scan_tmpl);
    scan_tmpl = NULL;
    ww_conf_free(scan_conf);
    scan_conf = NULL;
}

static void *scan_init_request_data(ci_request_t *req)
{
    struct scan_req *sr = calloc(1, sizeof(*sr));

    if (sr == NULL)
        return NULL;
    hold_init(&sr->hold);
    sr->expected = -1;
    clock_gettime(CLOCK_MONOTONIC, &sr->t0);
    return sr;
}

static void scan_release_request_data(void *data)
{
    struct scan_req *sr = data;

    if (sr == NULL)
        return;
    ww_scan_free(sr->scan);
    ww_decode_free(sr->dec);
    hold_cleanup(&sr->hold);
    ww_cicap_page_cleanup(&sr->page);
    free(sr);
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
             sr->received > sr->expected ? sr->received : sr->expected);
    ww_cicap_attr(req, "webwarden:size", num);
    snprintf(num, sizeof(num), "%ld", ms);
    ww_cicap_attr(req, "webwarden:ms", num);
}

/* From here the body streams through without a verdict: logged and marked. */
/* <why> goes to the access log as the reason; <detail> (NULL = <why>) to the server log. */
static void scan_go_unscanned_why(ci_request_t *req, struct scan_req *sr, const char *why,
                                  const char *detail)
{
    ww_log(WW_LOG_WARN, SVC ": UNSCANNED %s: %s", sr->url, detail != NULL ? detail : why);
    ww_cicap_attr(req, "webwarden:reason", why);
    scan_attrs(req, sr, "unscanned", "-", "-");
    ci_stat_uint64_inc(stat_unscanned, 1);
    ww_scan_free(sr->scan);
    sr->scan = NULL;
    sr->mode = MODE_PASS;
    if (sr->drop)
        return; /* nothing was kept to send: the answer is 204 at the end */
    sr->limit = RELEASE_ALL;
    ci_req_unlock_data(req);
}

static void scan_go_unscanned(ci_request_t *req, struct scan_req *sr, int64_t size)
{
    char detail[128];

    snprintf(detail, sizeof(detail), "%" PRId64 " bytes over scan.max_size %" PRId64, size,
             scan_conf->scan.max_size);
    scan_go_unscanned_why(req, sr, "over scan.max_size", detail);
}

/* The threat name of a body whose Content-Encoding expands past scan.max_expanded_size or
 * scan.max_ratio (a decompression bomb), when scan.bomb_action = block. */
#define THREAT_BOMB "Webwarden.Heuristic.DecompressionBomb"
/* A Content-Encoding the scanner cannot undo, when scan.undecodable_action = block. */
#define THREAT_UNDECODABLE "Webwarden.Heuristic.UndecodableEncoding"
/* A body whose signature checks ran out of a step budget, when scan.budget_action = block. */
#define THREAT_BUDGET "Webwarden.Heuristic.ScanBudget"

static int decode_sink(const void *data, size_t len, void *arg)
{
    struct scan_req *sr = arg;

    return ww_scan_feed(sr->scan, data, len); /* non-zero (a match) stops decoding */
}

/* Feeds received body bytes to the scanner, decoded when the body is gzip/deflate-encoded.
 * 1 = a signature matched, 0 = nothing yet, WW_ETOOBIG = the decoded size or ratio passed its
 * limit. A body that is not valid for its coding is scanned as it is from there on (logged). */
static int scan_feed(struct scan_req *sr, const char *data, size_t len)
{
    int rc;

    if (sr->dec == NULL)
        return ww_scan_feed(sr->scan, data, len);
    rc = ww_decode_feed(sr->dec, data, len, decode_sink, sr);
    if (ww_scan_threat(sr->scan) != NULL)
        return 1;
    if (rc == WW_ETOOBIG)
        return WW_ETOOBIG;
    if (rc != WW_OK) {
        ww_log(WW_LOG_WARN,
               SVC ": %s: Content-Encoding data invalid after %" PRId64
                   " bytes: the rest is scanned as it is",
               sr->url, ww_decode_bytes_in(sr->dec));
        ww_decode_free(sr->dec);
        sr->dec = NULL;
        return ww_scan_feed(sr->scan, data, len);
    }
    return 0;
}

static void threat_clean(const char *in, char *out, size_t outlen)
{
    char *p;

    ww_cicap_clean(in != NULL ? in : "Unknown", out, outlen);
    for (p = out; *p != '\0'; p++)
        if (*p == ';')
            *p = '_'; /* ';' ends a field of X-Infection-Found */
}

static int scan_block(ci_request_t *req, struct scan_req *sr, const char *threat_raw,
                      const char *sha256)
{
    char threat[256], reason[300], when[64], head[512];
    const struct ww_page_var vars[] = {
        {"title", "Malware blocked"},
        {"url", sr->url},
        {"reason", reason},
        {"category", "-"},
        {"score", "-"},
        {"threat", threat},
        {"service", SVC},
        {"time", when},
    };
    int rc;

    threat_clean(threat_raw, threat, sizeof(threat));
    snprintf(reason, sizeof(reason), "malware detected: %s", threat);
    ww_cicap_now(when, sizeof(when));
    ww_log(WW_LOG_ERR, SVC ": BLOCKED %s: threat %s, sha256 %s, %" PRId64 " bytes", sr->url, threat,
           sha256, sr->received);
    ww_cicap_attr(req, "webwarden:reason", reason);
    scan_attrs(req, sr, "block", threat, sha256);
    ci_stat_uint64_inc(stat_blocked, 1);
    ww_child_detection_add(scan_rt, sr->url, threat, -1);
    if (ci_req_sent_data(req)) {
        /* Too late for a page (cannot happen while the body is held): cut the response. */
        return CI_ERROR;
    }
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
    hold_cleanup(&sr->hold);
    sr->mode = MODE_BLOCK;
    return CI_MOD_DONE;
}

/* A threat found after part of the body went out: no page is possible any more, so the
 * response is broken off (c-icap closes the ICAP connection mid-body, Squid aborts the client's
 * download). Logged and recorded like any block. */
static void scan_cut(ci_request_t *req, struct scan_req *sr, const char *threat_raw,
                     const char *sha256)
{
    char threat[256], reason[300];

    ww_cicap_clean(threat_raw != NULL ? threat_raw : "Unknown", threat, sizeof(threat));
    snprintf(reason, sizeof(reason),
             "malware detected after %" PRId64 " bytes went out: "
             "download cut",
             sr->sent);
    ww_log(WW_LOG_ERR,
           SVC ": BLOCKED %s: threat %s found after %" PRId64 " of %" PRId64
               " bytes were sent: download cut",
           sr->url, threat, sr->sent, sr->received);
    ww_cicap_attr(req, "webwarden:reason", reason);
    scan_attrs(req, sr, "block", threat, sha256);
    ci_stat_uint64_inc(stat_blocked, 1);
    ci_stat_uint64_inc(stat_cut, 1);
    ww_child_detection_add(scan_rt, sr->url, threat, sr->sent);
    sr->mode = MODE_CUT;
    sr->limit = sr->sent;
    hold_cleanup(&sr->hold);
}

/* Takes body bytes from the client. WW_OK, or an error (the request ends with 500). */
static int64_t stream_window(void)
{
    return scan_conf->scan.hold_max + STREAM_WINDOW;
}

/* Memory a held body may use before it goes to a temp file: whole bodies (scan.hold_all) spool
 * beyond scan.hold_max; otherwise a body is streamed once it passes hold_max and the window
 * keeps it in memory. */
static size_t hold_cap(const struct scan_req *sr)
{
    if (sr->hold_all)
        return (size_t)scan_conf->scan.hold_max;
    return (size_t)stream_window();
}

/* Keeps scanned bytes for the answer: held in memory, spooled past hold_cap, or dropped when the
 * answer can only be 204 or the block page (sr->drop). */
static int scan_keep(struct scan_req *sr, const char *data, size_t len)
{
    if (sr->drop)
        return WW_OK;
    return hold_append(&sr->hold, data, len, hold_cap(sr), scan_conf->scan.tmp_dir);
}

/* Streaming: every received byte but the last max(<len>, STREAM_KEEP) may go out. Never lowers
 * the limit. */
static void stream_set_limit(struct scan_req *sr, size_t len)
{
    int64_t keep = (int64_t)len > STREAM_KEEP ? (int64_t)len : STREAM_KEEP;
    int64_t lim = sr->received - keep;

    if (lim > sr->limit)
        sr->limit = lim;
}

static int scan_take(ci_request_t *req, struct scan_req *sr, const char *data, size_t len)
{
    sr->received += (int64_t)len;
    switch (sr->mode) {
    case MODE_BLOCK:
    case MODE_CUT:
        return WW_OK; /* the verdict is final: the rest is read and dropped */
    case MODE_PASS:
        break;
    case MODE_STREAM:
        if (sr->received > scan_conf->scan.max_size) {
            scan_go_unscanned(req, sr, sr->received);
            break;
        }
        switch (scan_feed(sr, data, len)) {
        case 1:
            scan_cut(req, sr, ww_scan_threat(sr->scan), "-");
            return WW_OK;
        case WW_ETOOBIG:
            if (scan_conf->scan.bomb_action == WW_ACTION_BLOCK) {
                scan_cut(req, sr, THREAT_BOMB, "-");
                return WW_OK;
            }
            scan_go_unscanned_why(req, sr, "over the decode limits", NULL);
            return scan_keep(sr, data, len);
        }
        if (scan_keep(sr, data, len) != WW_OK)
            return WW_EIO;
        /* Everything but the last bytes is scanned and may go: the tail waits for the hash
         * signatures at the end, so a late match still keeps the download from completing. */
        stream_set_limit(sr, len);
        return WW_OK;
    case MODE_HOLD:
        if (sr->received > scan_conf->scan.max_size) {
            scan_go_unscanned(req, sr, sr->received);
            break;
        }
        switch (scan_feed(sr, data, len)) {
        case 1:
            /* Infected whatever follows, and nothing went out yet: the block page goes now.
             * Waiting for the rest would stall behind Squid 5.7's full 64 KiB pipe. */
            if (scan_block(req, sr, ww_scan_threat(sr->scan), "-") != CI_MOD_DONE)
                return WW_EIO;
            ci_req_unlock_data(req);
            return WW_OK;
        case WW_ETOOBIG:
            if (scan_conf->scan.bomb_action == WW_ACTION_BLOCK) {
                if (scan_block(req, sr, THREAT_BOMB, "-") != CI_MOD_DONE)
                    return WW_EIO;
                ci_req_unlock_data(req);
                return WW_OK;
            }
            scan_go_unscanned_why(req, sr, "over the decode limits", NULL);
            return scan_keep(sr, data, len);
        }
        if (scan_keep(sr, data, len) != WW_OK)
            return WW_EIO;
        if (!sr->hold_all && sr->received > scan_conf->scan.hold_max) {
            /* Squid 5.7 stops reading the origin once its 64 KiB pipe is full and waits for
             * us (bug 5352): answer now and stream what is scanned, keeping the last chunk. */
            sr->mode = MODE_STREAM;
            stream_set_limit(sr, len);
            ci_req_unlock_data(req);
        }
        return WW_OK;
    }
    return scan_keep(sr, data, len);
}

/* How many of the <avail> body bytes c-icap offers scan_io takes now: all of them while the body
 * is held for a verdict (or spooled, scan.hold_all), else only what fits the streaming window.
 * Bytes are always taken when none could go out, so the request never waits on itself. */
static int stream_take_now(struct scan_req *sr, int avail)
{
    struct hold *h = &sr->hold;
    int64_t room;

    if ((sr->mode != MODE_STREAM && sr->mode != MODE_PASS) || h->fd >= 0)
        return avail;
    if (h->rpos > 0 && (int64_t)h->mem_len + avail > stream_window()) {
        /* Bytes already given back still sit at the front: make room before counting it. */
        memmove(h->mem, h->mem + h->rpos, (size_t)(h->size - h->rpos));
        h->mem_len = (size_t)(h->size - h->rpos);
        h->size -= h->rpos;
        h->rpos = 0;
    }
    if (sr->limit <= sr->sent)
        return avail;
    room = stream_window() - (int64_t)h->mem_len;
    if (room <= 0)
        return 0;
    return room < avail ? (int)room : avail;
}

/* The service argument hold_all=on|off (c-icap.conf: ServiceAlias NAME webwarden_scan?hold_all=on,
 * or icap://.../webwarden_scan?hold_all=on on the proxy's line) overrides scan.hold_all for the
 * requests that carry it, so one c-icap can serve a Squid with and one without the bug-5352
 * fixes. Other arguments are ignored (logged once a minute). */
static int scan_arg_hold_all(const char *args, int dflt)
{
    static struct ww_log_limit lim;
    const char *p = args;

    while (p != NULL && *p != '\0') {
        size_t n = strcspn(p, "&");
        if (n == sizeof("hold_all=on") - 1 && strncmp(p, "hold_all=on", n) == 0)
            dflt = 1;
        else if (n == sizeof("hold_all=off") - 1 && strncmp(p, "hold_all=off", n) == 0)
            dflt = 0;
        else if (n > 0 && ww_log_limit_allow(&lim, 0, 60000))
            ww_log(WW_LOG_WARN, SVC ": service argument \"%.*s\" unknown (known: hold_all=on|off)",
                   (int)(n < 200 ? n : 200), p);
        p += n;
        if (*p == '&')
            p++;
    }
    return dflt;
}

/* No signature at all (a fresh install waiting for its first pattern): scan.no_patterns_action.
 * allow: passed and logged as unscanned, counted; block: the block page. */
static int scan_no_patterns(ci_request_t *req, struct scan_req *sr)
{
    if (scan_conf->scan.no_patterns_action == WW_ACTION_BLOCK) {
        if (scan_block(req, sr, WW_THREAT_NO_PATTERNS, "-") != CI_MOD_DONE)
            return CI_ERROR;
        ci_req_unlock_data(req);
        return CI_MOD_CONTINUE;
    }
    /* From the preview handler 204 is always safe: c-icap echoes when 204 is not allowed. */
    scan_go_unscanned_why(req, sr, "no patterns",
                          "no malware patterns loaded (scan.no_patterns_action = allow)");
    return CI_MOD_ALLOW204;
}

static int scan_check_preview(char *preview, int len, ci_request_t *req)
{
    struct scan_req *sr = ci_service_data(req);
    struct ww_encodings encs;
    ci_headers_list_t *rh;
    struct ww_engine *engine;
    int64_t expected;
    unsigned flags;

    if (sr == NULL || scan_conf == NULL || scan_rt == NULL) {
        ww_log(WW_LOG_ERR, SVC ": out of memory or not configured: request refused");
        return CI_ERROR;
    }
    ww_cicap_request_url(req, sr->url, sizeof(sr->url)); /* for logs and the page only */
    sr->hold_all = scan_arg_hold_all(req->args, scan_conf->scan.hold_all);
    sr->drop = sr->hold_all && ci_req_allow204(req);
    if (!ci_req_hasbody(req)) {
        scan_attrs(req, sr, "allow", "-", "-");
        return CI_MOD_ALLOW204;
    }
    engine = ww_child_engine_ref(scan_rt); /* the tick may swap it; the scan keeps its own */
    if (engine == NULL)
        return scan_no_patterns(req, sr);
    expected = ci_http_content_length(req);
    sr->expected = expected;
    if (expected > scan_conf->scan.max_size) {
        /* From the preview handler 204 is always safe: c-icap echoes when 204 is not allowed. */
        ww_engine_unref(engine);
        scan_go_unscanned(req, sr, expected);
        return CI_MOD_ALLOW204;
    }
    /* Every Content-Encoding line of the response, in order (c-icap's lookups return only the
     * first, and ci_headers_iterate cuts values at 8 KiB). */
    rh = ci_http_response_headers(req);
    ww_encodings_init(&encs);
    for (int i = 0; rh != NULL && i < rh->used; i++)
        ww_encodings_add_line(&encs, rh->headers[i]);
    if (encs.undecodable) {
        char detail[160];

        ww_engine_unref(engine);
        snprintf(detail, sizeof(detail), "Content-Encoding \"%s\" cannot be decoded", encs.bad);
        if (scan_conf->scan.undecodable_action == WW_ACTION_BLOCK) {
            ww_log(WW_LOG_WARN, SVC ": %s: %s: blocked (scan.undecodable_action)", sr->url, detail);
            if (scan_block(req, sr, THREAT_UNDECODABLE, "-") != CI_MOD_DONE)
                return CI_ERROR;
            ci_req_unlock_data(req);
            return CI_MOD_CONTINUE; /* the body is read and dropped, the page goes out */
        }
        scan_go_unscanned_why(req, sr, "Content-Encoding not decodable", detail);
        return CI_MOD_ALLOW204;
    }
    if (encs.n > 0) {
        sr->dec = ww_decode_create_chain(&encs, scan_conf->scan.max_expanded_size,
                                         scan_conf->scan.max_ratio);
        if (sr->dec == NULL) {
            ww_engine_unref(engine);
            ww_log(WW_LOG_ERR, SVC ": out of memory starting a scan of %s", sr->url);
            return CI_ERROR;
        }
    }
    /* The hash signatures are of the decoded file, whose size Content-Length does not give. The
     * SHA-256 is computed for every body only while smart scan may look it up. */
    flags = atomic_load_explicit(&scan_filerep, memory_order_acquire) != NULL &&
                    ww_child_scan_method(scan_rt) == WW_SCAN_SMART
                ? WW_SCAN_SHA256
                : 0;
    sr->scan = ww_scan_create(engine, sr->dec == NULL && expected >= 0 ? expected : -1, flags);
    ww_engine_unref(engine); /* the scan holds its own reference */
    if (sr->scan == NULL) {
        ww_log(WW_LOG_ERR, SVC ": out of memory starting a scan of %s", sr->url);
        return CI_ERROR;
    }
    if (len > 0 && scan_take(req, sr, preview, (size_t)len) != WW_OK)
        return CI_ERROR;
    return CI_MOD_CONTINUE;
}

/* Smart scan of a body the local patterns found clean, when the scan method is smart: 1 if the
 * Smart Protection Server calls it malicious (threat name in <v>), else 0 - a skipped lookup
 * (timeout, server down, bad answer) leaves the local verdict standing. Sets the access-log
 * attribute webwarden:smart (off|skipped|clean|unknown|malicious). Blocks at most
 * smart_scan.timeout_ms; with the method conventional no request waits at all. */
static int scan_smart(ci_request_t *req, const char *sha256, struct ww_file_verdict *v)
{
    struct ww_filerep *fr = atomic_load_explicit(&scan_filerep, memory_order_acquire);

    if (fr == NULL || ww_child_scan_method(scan_rt) != WW_SCAN_SMART) {
        ww_cicap_attr(req, "webwarden:smart", "off");
        return 0;
    }
    if (sha256 == NULL) { /* smart scan came back on while this body streamed: no digest */
        ww_cicap_attr(req, "webwarden:smart", "skipped");
        return 0;
    }
    ww_filerep_lookup(fr, sha256, v); /* failures are logged inside, once per kind a minute */
    ww_cicap_attr(req, "webwarden:smart", ww_filerep_verdict_name(v->verdict));
    return v->verdict == WW_FILEREP_MALICIOUS;
}

static int scan_end_of_data(ci_request_t *req)
{
    struct scan_req *sr = ci_service_data(req);
    struct ww_file_verdict fv;
    const char *sha256;
    int infected;

    if (sr == NULL)
        return CI_ERROR;
    sr->eof = 1;
    if (sr->mode == MODE_PASS && sr->drop)
        return CI_MOD_ALLOW204;
    if (sr->mode == MODE_PASS || sr->mode == MODE_BLOCK)
        return CI_MOD_DONE;
    if (sr->mode == MODE_CUT)
        return CI_ERROR;  /* data went out: c-icap closes the connection mid-body */
    if (sr->scan == NULL) /* CONTINUE is only returned with a scan */
        return CI_ERROR;
    infected = ww_scan_finish(sr->scan);
    if (!infected && scan_smart(req, ww_scan_sha256(sr->scan), &fv)) {
        sha256 = ww_scan_sha256(sr->scan);
        if (sr->mode == MODE_STREAM && ci_req_sent_data(req)) {
            scan_cut(req, sr, fv.name, sha256);
            return CI_ERROR;
        }
        return scan_block(req, sr, fv.name, sha256);
    }
    sha256 = ww_scan_sha256(sr->scan) != NULL ? ww_scan_sha256(sr->scan) : "-";
    if (infected && sr->mode == MODE_STREAM && ci_req_sent_data(req)) {
        scan_cut(req, sr, ww_scan_threat(sr->scan), sha256);
        return CI_ERROR;
    }
    if (infected)
        return scan_block(req, sr, ww_scan_threat(sr->scan), sha256);
    if (ww_scan_incomplete(sr->scan) != NULL) {
        /* Not every signature was checked: unscanned, never clean (issue 12). */
        ww_log(WW_LOG_WARN, SVC ": %s: %s", sr->url, ww_scan_incomplete(sr->scan));
        if (scan_conf->scan.budget_action == WW_ACTION_BLOCK) {
            if (sr->mode == MODE_STREAM && ci_req_sent_data(req)) {
                scan_cut(req, sr, THREAT_BUDGET, sha256);
                return CI_ERROR;
            }
            return scan_block(req, sr, THREAT_BUDGET, sha256);
        }
        scan_go_unscanned_why(req, sr, "scan budget spent", ww_scan_incomplete(sr->scan));
        if (sr->drop)
            return CI_MOD_ALLOW204;
        return CI_MOD_DONE;
    }
    ww_cicap_attr(req, "webwarden:reason", "-");
    scan_attrs(req, sr, "allow", "-", sha256);
    ci_stat_uint64_inc(stat_clean, 1);
    /* 204 from end-of-data only when the client allows it and nothing went out; else echo. */
    if (ci_req_allow204(req) && !ci_req_sent_data(req))
        return CI_MOD_ALLOW204;
    sr->limit = RELEASE_ALL;
    ci_req_unlock_data(req);
    return CI_MOD_DONE;
}

static int scan_io(char *wbuf, int *wlen, char *rbuf, int *rlen, int iseof, ci_request_t *req)
{
    struct scan_req *sr = ci_service_data(req);

    if (sr == NULL)
        return CI_ERROR;
    if (rbuf != NULL && rlen != NULL && *rlen > 0) {
        /* Back-pressure: c-icap keeps what is not taken and stops reading the connection. */
        *rlen = stream_take_now(sr, *rlen);
        if (*rlen > 0 && scan_take(req, sr, rbuf, (size_t)*rlen) != WW_OK)
            return CI_ERROR;
    }
    if (wbuf != NULL && wlen != NULL) {
        if (sr->mode == MODE_CUT) {
            return CI_ERROR; /* never a clean end for a cut download */
        } else if (sr->mode == MODE_BLOCK) {
            *wlen = ww_cicap_page_read(&sr->page, wbuf, *wlen);
        } else if (sr->limit > sr->sent) {
            int64_t room = sr->limit - sr->sent;
            int n = hold_read(&sr->hold, wbuf, room < (int64_t)*wlen ? (int)room : *wlen);
            if (n < 0 || (n > 0 && (sr->mode == MODE_STREAM || sr->mode == MODE_PASS) &&
                          hold_compact(&sr->hold) != WW_OK)) {
                ww_log(WW_LOG_ERR, SVC ": cannot read back the spooled body of %s", sr->url);
                return CI_ERROR;
            }
            sr->sent += n;
            if (n == 0 && sr->limit == RELEASE_ALL && (sr->eof || iseof))
                n = CI_EOF;
            *wlen = n;
        } else {
            *wlen = 0;
        }
    }
    return CI_OK;
}
