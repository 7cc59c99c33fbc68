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

static int hold_compact(struct hold *h)
{
    int64_t keep = h->size - h->rpos;
    char buf[16384];
    int64_t done = 0;

    if (h->rpos < HOLD_COMPACT_AT)
        return WW_OK;
    if (h->fd < 0) {
        memmove(h->mem, h->mem + h->rpos, (size_t)keep);
        h->mem_len = (size_t)keep;
    } else {
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
    int64_t received; /* body bytes from the client */
    int64_t expected; /* Content-Length, -1 if unknown */
    int64_t limit;    /* body bytes that may go back to the client (RELEASE_ALL: every one) */
    int64_t sent;     /* body bytes given back */
    int eof;          /* the whole body was received */
    struct timespec t0;
    char url[WW_URL_MAX];
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

/* Each child's main thread, once a second: scan-method refresh and pattern reload now; feedback
 * flush later (issue 7). */
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
    scan_tick(name, type, data);
    scan_filerep_open();
}

static void scan_child_stop(const char *name, int type, void *data)
{
    ww_filerep_free(atomic_exchange(&scan_filerep, NULL)); /* no request runs any more */
    pthread_mutex_lock(&store_mtx);
    ww_store_close(scan_store);
    scan_store = NULL;
    pthread_mutex_unlock(&store_mtx);
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
    clock_gettime(CLOCK_MONOTONIC, &sr->t0);
    return sr;
}

static void scan_release_request_data(void *data)
{
    struct scan_req *sr = data;

    if (sr == NULL)
        return;
    ww_scan_free(sr->scan);
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
static void scan_go_unscanned(ci_request_t *req, struct scan_req *sr, int64_t size)
{
    ww_log(WW_LOG_WARN, SVC ": UNSCANNED %s: %" PRId64 " bytes over scan.max_size %" PRId64,
           sr->url, size, scan_conf->scan.max_size);
    ww_cicap_attr(req, "webwarden:reason", "over scan.max_size");
    scan_attrs(req, sr, "unscanned", "-", "-");
    ci_stat_uint64_inc(stat_unscanned, 1);
    ww_scan_free(sr->scan);
    sr->scan = NULL;
    sr->mode = MODE_PASS;
    sr->limit = RELEASE_ALL;
    ci_req_unlock_data(req);
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
    sr->mode = MODE_CUT;
    sr->limit = sr->sent;
    hold_cleanup(&sr->hold);
}

/* Takes body bytes from the client. WW_OK, or an error (the request ends with 500). */
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
        if (ww_scan_feed(sr->scan, data, len)) {
            scan_cut(req, sr, ww_scan_threat(sr->scan), "-");
            return WW_OK;
        }
        if (hold_append(&sr->hold, data, len, (size_t)scan_conf->scan.hold_max,
                        scan_conf->scan.tmp_dir) != WW_OK)
            return WW_EIO;
        /* Everything but this last chunk is scanned and may go: the tail waits for the hash
         * signatures at the end, so a late match still keeps the download from completing. */
        sr->limit = sr->received - (int64_t)len;
        return WW_OK;
    case MODE_HOLD:
        if (sr->received > scan_conf->scan.max_size) {
            scan_go_unscanned(req, sr, sr->received);
            break;
        }
        if (ww_scan_feed(sr->scan, data, len)) {
            /* Infected whatever follows, and nothing went out yet: the block page goes now.
             * Waiting for the rest would stall behind Squid 5.7's full 64 KiB pipe. */
            if (scan_block(req, sr, ww_scan_threat(sr->scan), "-") != CI_MOD_DONE)
                return WW_EIO;
            ci_req_unlock_data(req);
            return WW_OK;
        }
        if (hold_append(&sr->hold, data, len, (size_t)scan_conf->scan.hold_max,
                        scan_conf->scan.tmp_dir) != WW_OK)
            return WW_EIO;
        if (!scan_conf->scan.hold_all && sr->received > scan_conf->scan.hold_max) {
            /* Squid 5.7 stops reading the origin once its 64 KiB pipe is full and waits for
             * us (bug 5352): answer now and stream what is scanned, keeping the last chunk. */
            sr->mode = MODE_STREAM;
            sr->limit = sr->received - (int64_t)len;
            ci_req_unlock_data(req);
        }
        return WW_OK;
    }
    return hold_append(&sr->hold, data, len, (size_t)scan_conf->scan.hold_max,
                       scan_conf->scan.tmp_dir);
}

static int scan_check_preview(char *preview, int len, ci_request_t *req)
{
    struct scan_req *sr = ci_service_data(req);
    int64_t expected;

    if (sr == NULL || scan_conf == NULL || scan_engine == NULL) {
        ww_log(WW_LOG_ERR, SVC ": out of memory or not configured: request refused");
        return CI_ERROR;
    }
    ww_cicap_request_url(req, sr->url, sizeof(sr->url)); /* for logs and the page only */
    if (!ci_req_hasbody(req)) {
        scan_attrs(req, sr, "allow", "-", "-");
        return CI_MOD_ALLOW204;
    }
    expected = ci_http_content_length(req);
    sr->expected = expected;
    if (expected > scan_conf->scan.max_size) {
        /* From the preview handler 204 is always safe: c-icap echoes when 204 is not allowed. */
        scan_go_unscanned(req, sr, expected);
        return CI_MOD_ALLOW204;
    }
    pthread_mutex_lock(&engine_mtx); /* the tick may swap the engine; the scan keeps its own */
    sr->scan = ww_scan_create(scan_engine, expected >= 0 ? expected : -1);
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
    if (sr->mode == MODE_PASS || sr->mode == MODE_BLOCK)
        return CI_MOD_DONE;
    if (sr->mode == MODE_CUT)
        return CI_ERROR;  /* data went out: c-icap closes the connection mid-body */
    if (sr->scan == NULL) /* CONTINUE is only returned with a scan */
        return CI_ERROR;
    infected = ww_scan_finish(sr->scan);
    sha256 = ww_scan_sha256(sr->scan);
    if (!infected && scan_smart(req, sha256, &fv)) {
        if (sr->mode == MODE_STREAM && ci_req_sent_data(req)) {
            scan_cut(req, sr, fv.name, sha256);
            return CI_ERROR;
        }
        return scan_block(req, sr, fv.name, sha256);
    }
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
        if (scan_take(req, sr, rbuf, (size_t)*rlen) != WW_OK)
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
            if (n < 0 || (n > 0 && sr->mode == MODE_STREAM && hold_compact(&sr->hold) != WW_OK)) {
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
