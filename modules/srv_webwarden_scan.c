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
#include "ww_decode.h"
#include "ww_fbbuf.h"
#include "ww_filerep.h"
#include "ww_html.h"
#include "ww_log.h"
#include "ww_policies.h"
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
    const struct ww_policy *policy; /* the request's named policy (or the default) */
    int64_t max_size;               /* scan.max_size, or the policy's */
};

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
    char policy[64];   /* the request's policy, for the event */
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

static void detq_add(const char *url, const char *threat, const char *policy, int64_t cut_after)
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
    snprintf(d->policy, sizeof(d->policy), "%s", policy);
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
            snprintf(msg, sizeof(msg), "malware %s in %.400s: blocked (policy %s)", d->threat,
                     d->url, d->policy);
        else
            snprintf(msg, sizeof(msg),
                     "malware %s in %.380s: download cut after %" PRId64 " bytes (policy %s)",
                     d->threat, d->url, d->cut_after, d->policy);
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

static void *scan_init_request_data(ci_request_t *req)
{
    struct scan_req *sr = calloc(1, sizeof(*sr));

    if (sr == NULL)
        return NULL;
    hold_init(&sr->hold);
    sr->expected = -1;
    sr->max_size = scan_conf != NULL ? scan_conf->scan.max_size : 0; /* the policy's: preview */
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
             sr->max_size);
    scan_go_unscanned_why(req, sr, "over scan.max_size", detail);
}

/* The threat name of a body whose Content-Encoding expands past scan.max_expanded_size or
 * scan.max_ratio (a decompression bomb), when scan.bomb_action = block. */
#define THREAT_BOMB "Webwarden.Heuristic.DecompressionBomb"

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
        {"policy", sr->policy != NULL ? sr->policy->name : "default"},
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
    detq_add(sr->url, threat, sr->policy != NULL ? sr->policy->name : "default", -1);
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
    detq_add(sr->url, threat, sr->policy != NULL ? sr->policy->name : "default", sr->sent);
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
        if (sr->received > sr->max_size) {
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
        if (sr->received > sr->max_size) {
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

static int scan_check_preview(char *preview, int len, ci_request_t *req)
{
    struct scan_req *sr = ci_service_data(req);
    enum ww_encoding enc;
    int64_t expected;
    unsigned flags;

    if (sr == NULL || scan_conf == NULL || scan_engine == NULL) {
        ww_log(WW_LOG_ERR, SVC ": out of memory or not configured: request refused");
        return CI_ERROR;
    }
    ww_cicap_request_url(req, sr->url, sizeof(sr->url)); /* for logs and the page only */
    sr->policy = ww_cicap_policy(req, scan_conf); /* who is asking: the proxy's ICAP headers */
    sr->max_size = sr->policy != NULL ? sr->policy->max_size : scan_conf->scan.max_size;
    sr->hold_all = scan_arg_hold_all(req->args, scan_conf->scan.hold_all);
    sr->drop = sr->hold_all && ci_req_allow204(req);
    if (!ci_req_hasbody(req)) {
        scan_attrs(req, sr, "allow", "-", "-");
        return CI_MOD_ALLOW204;
    }
    expected = ci_http_content_length(req);
    sr->expected = expected;
    if (expected > sr->max_size) {
        /* From the preview handler 204 is always safe: c-icap echoes when 204 is not allowed. */
        scan_go_unscanned(req, sr, expected);
        return CI_MOD_ALLOW204;
    }
    enc = ww_decode_parse(ci_http_response_get_header(req, "Content-Encoding"));
    if (enc == WW_ENC_GZIP || enc == WW_ENC_DEFLATE) {
        sr->dec =
            ww_decode_create(enc, scan_conf->scan.max_expanded_size, scan_conf->scan.max_ratio);
        if (sr->dec == NULL) {
            ww_log(WW_LOG_ERR, SVC ": out of memory starting a scan of %s", sr->url);
            return CI_ERROR;
        }
    } else if (enc == WW_ENC_UNSUPPORTED) {
        ww_log(WW_LOG_DEBUG, SVC ": %s: Content-Encoding not decoded: scanned as sent", sr->url);
    }
    /* The hash signatures are of the decoded file, whose size Content-Length does not give. The
     * SHA-256 is computed for every body only while smart scan may look it up. */
    flags = atomic_load_explicit(&scan_filerep, memory_order_acquire) != NULL &&
                    atomic_load_explicit(&scan_method, memory_order_relaxed) == WW_SCAN_SMART
                ? WW_SCAN_SHA256
                : 0;
    pthread_mutex_lock(&engine_mtx); /* the tick may swap the engine; the scan keeps its own */
    sr->scan = ww_scan_create(scan_engine, sr->dec == NULL && expected >= 0 ? expected : -1, flags);
    pthread_mutex_unlock(&engine_mtx);
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

    if (fr == NULL || atomic_load_explicit(&scan_method, memory_order_relaxed) != WW_SCAN_SMART) {
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
