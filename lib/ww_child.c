/* lib/ww_child.c - the per-process runtime of the c-icap services (see ww_child.h). */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww_blockagg.h"
#include "ww_child.h"
#include "ww_common.h"
#include "ww_counters.h"
#include "ww_conf.h"
#include "ww_fbbuf.h"
#include "ww_log.h"
#include "ww_range.h"
#include "ww_scan.h"
#include "ww_store.h"

#define CHILD_STORE_RETRY_S 30 /* one try (and one log line) per 30 s: the log stays readable */

struct detection {
    char url[2048]; /* as long as a feedback row's url */
    char threat[128];
    char policy[64];   /* the request's policy, "" = none named */
    int64_t cut_after; /* -1: blocked (page); else bytes that went out before the cut */
    time_t at;
    char via[64]; /* "scanner=clamav type=zip", or "" */
};

_Static_assert(sizeof(((struct detection *)0)->url) == sizeof(((struct ww_feedback_event *)0)->url),
               "detection url fits a feedback row");
_Static_assert(sizeof(((struct detection *)0)->threat) ==
                   sizeof(((struct ww_feedback_event *)0)->threat),
               "detection threat fits a feedback row");

struct ww_child {
    const struct ww_conf *conf; /* borrowed */
    char svc[32];
    unsigned flags;
    struct ww_child_hooks hooks;

    /* The store: opened after fork, used by the main thread (tick) under store_mtx. */
    pthread_mutex_t store_mtx;
    struct ww_store *store;
    time_t store_retry_at;

    atomic_int scan_method;
    int scan_method_known; /* main thread only */

    /* Signatures: swapped under engine_mtx by the tick; requests take their own reference.
     * engine_version: the installed pattern in force ("" = scan.patterns_dir, "none" = no
     * signature); engine_failed: a version that did not load, not retried. Main thread. */
    pthread_mutex_t engine_mtx;
    struct ww_engine *engine;
    char engine_version[64];
    char engine_failed[64];
    int dir_failed_logged; /* patterns_dir could not load while there was no engine */

    /* Feedback buffer (per child, made at start) and the detection ring. */
    struct ww_fbbuf *fb;
    int fb_failing;
    pthread_mutex_t detq_mtx;
    struct detection detq[WW_CHILD_DETECTIONS_MAX];
    struct detection batch[WW_CHILD_DETECTIONS_MAX]; /* the tick's copy, main thread only */
    size_t detq_head, detq_len;                      /* ring: oldest at detq_head */
    uint64_t detq_dropped;                           /* since the last flush */
    int detq_drop_logged;                            /* one log line per child, not one per drop */

    /* What was cut or blocked, waiting for the tick to reach the store (resumed downloads). */
    pthread_mutex_t rangeq_mtx;
    struct ww_range_memo rangeq[WW_CHILD_RANGE_MAX];
    size_t rangeq_len;
    uint64_t rangeq_dropped;

    /* URL and file-type blocks, aggregated until the tick writes them as events (made at
     * start, after fork; NULL before). */
    struct ww_blockagg *blocks;
};

/* ---- signatures ---- */

static void child_engine_set(struct ww_child *c, struct ww_engine *e, const char *version)
{
    struct ww_engine_stats stats;
    struct ww_engine *old;

    memset(&stats, 0, sizeof(stats));
    if (e != NULL)
        ww_engine_get_stats(e, &stats);
    pthread_mutex_lock(&c->engine_mtx);
    old = c->engine;
    c->engine = e;
    pthread_mutex_unlock(&c->engine_mtx);
    ww_engine_unref(old); /* scans still running hold their own reference */
    snprintf(c->engine_version, sizeof(c->engine_version), "%s", version);
    c->engine_failed[0] = '\0';
    if (c->hooks.engine != NULL)
        c->hooks.engine(&stats, version, c->hooks.arg);
}

/* scan.patterns_dir: WW_OK with *e (NULL when it has no signature), or the load error. */
static int child_load_dir(struct ww_child *c, struct ww_engine **e, char *err, size_t errlen)
{
    const char *dir = c->conf->scan.patterns_dir;
    int rc;

    *e = NULL;
    if (dir == NULL || dir[0] == '\0')
        return WW_OK;
    rc = ww_engine_load_dir(dir, e, NULL, err, errlen);
    if (rc == WW_ENOTFOUND) {
        *e = NULL;
        return WW_OK;
    }
    return rc;
}

/* The first load, in the monitor: the installed pattern, else scan.patterns_dir. */
static int child_patterns_load(struct ww_child *c, char *err, size_t errlen)
{
    struct ww_store *st = NULL;
    struct ww_component pat;
    struct ww_engine *e = NULL;
    char why[WW_ERRLEN] = "";
    int rc;

    /* The store may not exist yet (before `webwardenctl init`). The handle is closed again: it
     * must not cross the fork into the children. */
    if (ww_store_open(c->conf->state.database, 0, &st, why, sizeof(why)) == WW_OK &&
        ww_store_component_get(st, "pattern", &pat) == WW_OK && pat.path[0] != '\0') {
        rc = ww_engine_load_dir(pat.path, &e, NULL, why, sizeof(why));
        if (rc == WW_OK) {
            ww_store_close(st);
            child_engine_set(c, e, pat.version);
            return WW_OK;
        }
        ww_log(WW_LOG_ERR,
               "%s: installed pattern %s (%s) does not load, using "
               "scan.patterns_dir: %s",
               c->svc, pat.version, pat.path, why);
    }
    ww_store_close(st);
    rc = child_load_dir(c, &e, why, sizeof(why));
    if (rc != WW_OK) {
        snprintf(err, errlen, "[scan] patterns_dir %s: %s", c->conf->scan.patterns_dir,
                 why[0] ? why : ww_strerror(rc));
        return rc;
    }
    if (e == NULL)
        ww_log(WW_LOG_WARN,
               "%s: no malware patterns (scan.patterns_dir %s has no signature and no pattern is "
               "installed): responses are %s unscanned (scan.no_patterns_action) until an update "
               "installs one",
               c->svc, c->conf->scan.patterns_dir[0] ? c->conf->scan.patterns_dir : "unset",
               c->conf->scan.no_patterns_action == WW_ACTION_BLOCK ? "blocked" : "passed");
    child_engine_set(c, e, e != NULL ? "" : "none");
    return WW_OK;
}

/* Tick, outside the store lock: loads pattern <version> at <dir> and puts it in force; on
 * failure the signatures in force stay and the failure is logged once per version. */
static void child_pattern_reload(struct ww_child *c, const char *dir, const char *version)
{
    struct ww_engine *e = NULL;
    struct ww_engine_stats stats;
    char err[WW_ERRLEN] = "", was[64];
    int rc;

    memset(&stats, 0, sizeof(stats));
    rc = ww_engine_load_dir(dir, &e, &stats, err, sizeof(err));
    if (rc != WW_OK) {
        ww_log(WW_LOG_ERR, "%s: pattern %s (%s) does not load, keeping %s: %s", c->svc, version,
               dir, c->engine_version[0] ? c->engine_version : "scan.patterns_dir",
               err[0] ? err : ww_strerror(rc));
        snprintf(c->engine_failed, sizeof(c->engine_failed), "%s", version);
        return;
    }
    snprintf(was, sizeof(was), "%s",
             c->engine_version[0] ? c->engine_version : "scan.patterns_dir");
    child_engine_set(c, e, version);
    ww_log(WW_LOG_INFO, "%s: pattern %s in force (was %s): %zu hash and %zu body signatures; %s",
           c->svc, version, was, stats.hash_sigs, stats.body_sigs, stats.matcher);
}

/* While there is no signature and no installed pattern: signature files an admin copied into
 * scan.patterns_dir are picked up too (an empty folder costs one readdir a second). */
static void child_dir_retry(struct ww_child *c)
{
    struct ww_engine *e = NULL;
    char err[WW_ERRLEN] = "";
    int rc = child_load_dir(c, &e, err, sizeof(err));

    if (rc != WW_OK) {
        if (!c->dir_failed_logged)
            ww_log(WW_LOG_ERR, "%s: scan.patterns_dir %s does not load: %s", c->svc,
                   c->conf->scan.patterns_dir, err[0] ? err : ww_strerror(rc));
        c->dir_failed_logged = 1;
        return;
    }
    if (e == NULL)
        return;
    child_engine_set(c, e, "");
    ww_log(WW_LOG_INFO, "%s: signatures of scan.patterns_dir %s in force", c->svc,
           c->conf->scan.patterns_dir);
}

struct ww_engine *ww_child_engine_ref(struct ww_child *c)
{
    struct ww_engine *e;

    if (c == NULL)
        return NULL;
    pthread_mutex_lock(&c->engine_mtx);
    e = ww_engine_ref(c->engine); /* NULL-safe */
    pthread_mutex_unlock(&c->engine_mtx);
    return e;
}

const char *ww_child_pattern_version(const struct ww_child *c)
{
    return c->engine_version;
}

void ww_child_engine_describe(struct ww_child *c, const char *dir, char *out, size_t outlen)
{
    struct ww_engine_stats stats;
    struct ww_engine *e = ww_child_engine_ref(c);

    memset(&stats, 0, sizeof(stats));
    if (e != NULL)
        ww_engine_get_stats(e, &stats);
    ww_engine_unref(e);
    snprintf(out, outlen,
             "pattern %s, %zu hash and %zu body signatures from %zu files (%zu skipped); %s",
             c->engine_version[0] ? c->engine_version : dir, stats.hash_sigs, stats.body_sigs,
             stats.files, stats.skipped, e != NULL ? stats.matcher : "no body signatures");
}

enum ww_scan_method ww_child_scan_method(const struct ww_child *c)
{
    return c != NULL && atomic_load_explicit(&c->scan_method, memory_order_relaxed) == WW_SCAN_SMART
               ? WW_SCAN_SMART
               : WW_SCAN_CONVENTIONAL;
}

/* ---- life cycle ---- */

int ww_child_create(const struct ww_conf *conf, const char *svc, unsigned flags,
                    const struct ww_child_hooks *hooks, struct ww_child **out, char *err,
                    size_t errlen)
{
    struct ww_child *c = calloc(1, sizeof(*c));
    int rc;

    *out = NULL;
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return WW_ENOMEM;
    }
    c->conf = conf;
    snprintf(c->svc, sizeof(c->svc), "%s", svc);
    c->flags = flags;
    if (hooks != NULL)
        c->hooks = *hooks;
    pthread_mutex_init(&c->store_mtx, NULL);
    pthread_mutex_init(&c->rangeq_mtx, NULL);
    pthread_mutex_init(&c->engine_mtx, NULL);
    pthread_mutex_init(&c->detq_mtx, NULL);
    atomic_init(&c->scan_method, WW_SCAN_CONVENTIONAL);
    if (flags & WW_CHILD_PATTERNS) {
        rc = child_patterns_load(c, err, errlen);
        if (rc != WW_OK) {
            ww_child_free(c);
            return rc;
        }
    }
    *out = c;
    return WW_OK;
}

void ww_child_free(struct ww_child *c)
{
    if (c == NULL)
        return;
    ww_child_stop(c);
    ww_engine_unref(c->engine);
    pthread_mutex_destroy(&c->store_mtx);
    pthread_mutex_destroy(&c->rangeq_mtx);
    pthread_mutex_destroy(&c->engine_mtx);
    pthread_mutex_destroy(&c->detq_mtx);
    free(c);
}

/* Caller holds store_mtx. */
static void child_store_try_open(struct ww_child *c)
{
    char err[WW_ERRLEN] = "";
    time_t now = time(NULL);

    if (c->store != NULL || now < c->store_retry_at)
        return;
    if (ww_store_open(c->conf->state.database, 0, &c->store, err, sizeof(err)) != WW_OK) {
        c->store = NULL;
        c->store_retry_at = now + CHILD_STORE_RETRY_S;
        ww_log(WW_LOG_WARN, "%s: state store %s not open (retry in %d s): %s", c->svc,
               c->conf->state.database, CHILD_STORE_RETRY_S, err);
    }
}

/* ---- queues ---- */

void ww_child_feedback_add(struct ww_child *c, const struct ww_feedback_event *ev)
{
    if (c != NULL)
        ww_fbbuf_add(c->fb, ev); /* NULL buffer: ignored */
}

void ww_child_detection_add(struct ww_child *c, const char *url, const char *threat,
                            int64_t cut_after)
{
    ww_child_detection_add_full(c, url, threat, NULL, NULL, cut_after);
}

void ww_child_detection_add_via(struct ww_child *c, const char *url, const char *threat,
                                int64_t cut_after, const char *via)
{
    ww_child_detection_add_full(c, url, threat, NULL, via, cut_after);
}

void ww_child_detection_add_policy(struct ww_child *c, const char *url, const char *threat,
                                   const char *policy, int64_t cut_after)
{
    ww_child_detection_add_full(c, url, threat, policy, NULL, cut_after);
}

void ww_child_detection_add_full(struct ww_child *c, const char *url, const char *threat,
                                 const char *policy, const char *via, int64_t cut_after)
{
    struct detection *d;
    int log_drop = 0;

    if (c == NULL)
        return;
    pthread_mutex_lock(&c->detq_mtx);
    if (c->detq_len == WW_CHILD_DETECTIONS_MAX) { /* the store is slow or gone: newest matter */
        c->detq_head = (c->detq_head + 1) % WW_CHILD_DETECTIONS_MAX;
        c->detq_len--;
        c->detq_dropped++;
        log_drop = !c->detq_drop_logged;
        c->detq_drop_logged = 1;
    }
    d = &c->detq[(c->detq_head + c->detq_len) % WW_CHILD_DETECTIONS_MAX];
    snprintf(d->url, sizeof(d->url), "%s", url);
    snprintf(d->threat, sizeof(d->threat), "%s", threat);
    snprintf(d->policy, sizeof(d->policy), "%s", policy != NULL ? policy : "");
    d->cut_after = cut_after;
    d->at = time(NULL);
    snprintf(d->via, sizeof(d->via), "%s", via != NULL ? via : "");
    c->detq_len++;
    pthread_mutex_unlock(&c->detq_mtx);
    if (log_drop)
        ww_log(WW_LOG_WARN,
               "%s: detection queue full (%d): the oldest detections are dropped before they "
               "reach the events (counted; logged once per child)",
               c->svc, WW_CHILD_DETECTIONS_MAX);
}

void ww_child_range_remember(struct ww_child *c, const char *url, const char *threat,
                             const char *etag, const char *last_modified)
{
    struct ww_range_memo *m;

    if (c == NULL || url == NULL || url[0] == '\0')
        return;
    pthread_mutex_lock(&c->rangeq_mtx);
    if (c->rangeq_len == WW_CHILD_RANGE_MAX) { /* the store is gone: the newest matter */
        memmove(&c->rangeq[0], &c->rangeq[1], sizeof(c->rangeq[0]) * (WW_CHILD_RANGE_MAX - 1));
        c->rangeq_len--;
        c->rangeq_dropped++;
    }
    m = &c->rangeq[c->rangeq_len++];
    snprintf(m->url, sizeof(m->url), "%s", url);
    snprintf(m->threat, sizeof(m->threat), "%s", threat != NULL ? threat : "");
    snprintf(m->etag, sizeof(m->etag), "%s", etag != NULL ? etag : "");
    snprintf(m->last_modified, sizeof(m->last_modified), "%s",
             last_modified != NULL ? last_modified : "");
    m->at = time(NULL);
    pthread_mutex_unlock(&c->rangeq_mtx);
}

int ww_child_range_lookup(struct ww_child *c, const char *url, struct ww_range_memo *out)
{
    struct ww_range_memo m;
    time_t now = time(NULL);
    int rc = -1;

    if (c == NULL || url == NULL)
        return -1;
    pthread_mutex_lock(&c->rangeq_mtx); /* this child's news, not yet in the store */
    for (size_t i = 0; i < c->rangeq_len; i++)
        if (strcmp(c->rangeq[i].url, url) == 0) {
            if (out != NULL)
                *out = c->rangeq[i];
            rc = 1;
        }
    pthread_mutex_unlock(&c->rangeq_mtx);
    if (rc == 1)
        return 1;
    pthread_mutex_lock(&c->store_mtx);
    if (c->store != NULL) {
        switch (ww_store_range_lookup(c->store, url, &m)) {
        case WW_OK:
            rc = ww_range_memo_live((int64_t)m.at, (int64_t)now, WW_RANGE_TTL_S);
            if (rc == 1 && out != NULL)
                *out = m;
            break;
        case WW_ENOTFOUND:
            rc = 0;
            break;
        default:
            rc = -1;
        }
    }
    pthread_mutex_unlock(&c->store_mtx);
    return rc;
}

/* Writes what was cut or blocked to the store. Caller holds store_mtx, the store is open. A row
 * the store refuses stays queued for the next tick. */
static void child_range_flush_locked(struct ww_child *c)
{
    size_t done = 0;
    uint64_t dropped;

    pthread_mutex_lock(&c->rangeq_mtx);
    while (done < c->rangeq_len && ww_store_range_remember(c->store, &c->rangeq[done]) == WW_OK)
        done++;
    memmove(&c->rangeq[0], &c->rangeq[done], sizeof(c->rangeq[0]) * (c->rangeq_len - done));
    c->rangeq_len -= done;
    dropped = c->rangeq_dropped;
    c->rangeq_dropped = 0;
    pthread_mutex_unlock(&c->rangeq_mtx);
    if (dropped > 0)
        ww_log(WW_LOG_WARN,
               "%s: %" PRIu64 " cut or blocked URLs were not remembered (the state store was "
               "unavailable): a resumed download of them is scanned as partial content",
               c->svc, dropped);
}

/* The scanner a detection's <via> names (ww_child.h: "scanner=NAME type=TYPE") into <out>, for
 * the feedback row; "" when it names none ("-"). */
static void child_via_scanner(const char *via, char *out, size_t outlen)
{
    const char *p = strncmp(via, "scanner=", 8) == 0 ? via + 8 : strstr(via, " scanner=");
    size_t n;

    out[0] = '\0';
    if (p == NULL)
        return;
    if (p != via + 8)
        p += 9;
    n = strcspn(p, " ");
    if (n == 0 || n >= outlen || (n == 1 && p[0] == '-'))
        return;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* Writes the queued detections as events and feedback rows, then the feedback buffer. Caller
 * holds store_mtx, the store is open. An event the store refuses is not retried (the detection
 * is in the c-icap log already); feedback rows are kept by ww_fbbuf. */
static void child_flush_locked(struct ww_child *c)
{
    struct ww_feedback_event fb;
    char msg[512];
    size_t n, i;
    uint64_t dropped;
    int rc;

    pthread_mutex_lock(&c->detq_mtx);
    for (n = 0; n < c->detq_len; n++)
        c->batch[n] = c->detq[(c->detq_head + n) % WW_CHILD_DETECTIONS_MAX];
    c->detq_head = c->detq_len = 0;
    dropped = c->detq_dropped;
    c->detq_dropped = 0;
    pthread_mutex_unlock(&c->detq_mtx);

    if (dropped > 0) {
        snprintf(msg, sizeof(msg),
                 "%" PRIu64 " detections were dropped from a full queue before they reached the "
                 "events (see the c-icap log)",
                 dropped);
        ww_store_add_event(c->store, "warning", "scan", msg);
    }
    for (i = 0; i < n; i++) {
        const struct detection *d = &c->batch[i];
        char pol[80] = "";
        if (d->policy[0] != '\0')
            snprintf(pol, sizeof(pol), " (policy %s)", d->policy);
        if (d->cut_after < 0)
            snprintf(msg, sizeof(msg), "malware %s in %.340s: blocked%s%s%s%s", d->threat, d->url,
                     pol, d->via[0] ? " (" : "", d->via, d->via[0] ? ")" : "");
        else
            snprintf(msg, sizeof(msg),
                     "malware %s in %.300s: download cut after %" PRId64 " bytes%s%s%s%s",
                     d->threat, d->url, d->cut_after, pol, d->via[0] ? " (" : "", d->via,
                     d->via[0] ? ")" : "");
        if (ww_store_add_event(c->store, "warning", "scan", msg) != WW_OK)
            ww_log(WW_LOG_WARN, "%s: detection not recorded in the events: %s", c->svc, msg);
        memset(&fb, 0, sizeof(fb));
        memcpy(fb.url, d->url, sizeof(fb.url)); /* same sizes, NUL-terminated by detection_add */
        memcpy(fb.threat, d->threat, sizeof(fb.threat));
        memcpy(fb.action, "block", sizeof("block"));
        child_via_scanner(d->via, fb.scanner, sizeof(fb.scanner));
        fb.score = 0;
        fb.at = d->at;
        ww_fbbuf_add(c->fb, &fb);
    }
    if (c->fb == NULL)
        return;
    rc = ww_fbbuf_flush(c->fb, c->store, c->conf->feedback.max_queued);
    if (rc != WW_OK && !c->fb_failing)
        ww_log(WW_LOG_WARN, "%s: feedback events stay in memory: the state store refused them (%s)",
               c->svc, ww_strerror(rc));
    else if (rc == WW_OK && c->fb_failing)
        ww_log(WW_LOG_INFO, "%s: feedback events reach the state store again", c->svc);
    c->fb_failing = rc != WW_OK;
}

void ww_child_block_add(struct ww_child *c, const char *source, const char *url, const char *policy,
                        const char *reason)
{
    if (c != NULL)
        ww_blockagg_add(c->blocks, source, url, policy, reason, time(NULL)); /* NULL: ignored */
}

static void child_block_event(const struct ww_block_row *row, void *arg)
{
    struct ww_child *c = arg;
    char msg[512];

    ww_blockagg_message(row, msg, sizeof(msg));
    if (ww_store_add_event(c->store, "info", row->source, msg) != WW_OK)
        ww_log(WW_LOG_WARN, "%s: block not recorded in the events: %s", c->svc, msg);
}

/* Writes the block rows that are due (<all>: every one, at child exit). Caller holds store_mtx,
 * the store is open. */
static void child_blocks_flush_locked(struct ww_child *c, int all)
{
    ww_blockagg_flush(c->blocks, time(NULL), all, child_block_event, c);
}

/* ---- tick ---- */

/* Caller holds store_mtx, the store is open. */
static void child_read_scan_method(struct ww_child *c)
{
    struct ww_scan_state st;

    if (ww_store_get_scan_method(c->store, &st) != WW_OK)
        return;
    if (atomic_exchange(&c->scan_method, (int)st.method) != (int)st.method || !c->scan_method_known)
        /* A change is rare and matters to the admin: level 1. The first read just informs. */
        ww_log(c->scan_method_known ? WW_LOG_ERR : WW_LOG_INFO, "%s: scan method %s (%s, by %s)",
               c->svc, st.method == WW_SCAN_SMART ? "smart" : "conventional", st.reason,
               st.changed_by);
    c->scan_method_known = 1;
}

/* One tick's store work; with <first> the start hook runs instead of the tick hook. On return
 * <pat> holds a new installed pattern to load (1), else 0. */
static int child_tick_locked(struct ww_child *c, int first, struct ww_component *pat)
{
    int have_pat = 0;

    child_store_try_open(c);
    if (c->store != NULL && (c->flags & WW_CHILD_SCAN_METHOD))
        child_read_scan_method(c);
    /* A new current pattern (update, rollback): compiled outside the store lock. */
    if (c->store != NULL && (c->flags & WW_CHILD_PATTERNS))
        have_pat = ww_store_component_get(c->store, "pattern", pat) == WW_OK &&
                   pat->path[0] != '\0' && strcmp(pat->version, c->engine_version) != 0 &&
                   strcmp(pat->version, c->engine_failed) != 0;
    if (c->store != NULL) {
        child_range_flush_locked(c);
        child_flush_locked(c);
        child_blocks_flush_locked(c, 0);
    }
    if (first && c->hooks.start != NULL)
        c->hooks.start(c->store, c->hooks.arg);
    else if (!first && c->store != NULL && c->hooks.tick != NULL)
        c->hooks.tick(c->store, c->hooks.arg);
    return have_pat;
}

static void child_tick(struct ww_child *c, int first)
{
    struct ww_component pat;
    int have_pat;

    pthread_mutex_lock(&c->store_mtx);
    have_pat = child_tick_locked(c, first, &pat);
    pthread_mutex_unlock(&c->store_mtx);
    if (have_pat)
        child_pattern_reload(c, pat.path, pat.version);
    else if ((c->flags & WW_CHILD_PATTERNS) && strcmp(c->engine_version, "none") == 0)
        child_dir_retry(c);
}

void ww_child_tick(struct ww_child *c)
{
    if (c != NULL)
        child_tick(c, 0);
}

void ww_child_start(struct ww_child *c, size_t fb_cap)
{
    if (c == NULL)
        return;
    ww_counters_attach_db(c->conf->state.database); /* /metrics: once per process */
    /* 0: feedback.max_queued distinct URLs, so nothing is dropped below the queue's bound */
    if (fb_cap == 0)
        fb_cap = (size_t)c->conf->feedback.max_queued;
    if (c->fb == NULL && (c->fb = ww_fbbuf_create(fb_cap)) == NULL)
        ww_log(WW_LOG_ERR, "%s: out of memory: no feedback capture in this child", c->svc);
    if (c->blocks == NULL &&
        (c->blocks = ww_blockagg_create(c->conf->gateway.block_events_interval_s, 0)) == NULL)
        ww_log(WW_LOG_ERR, "%s: out of memory: no block events from this child", c->svc);
    child_tick(c, 1);
}

void ww_child_stop(struct ww_child *c)
{
    if (c == NULL)
        return;
    if (c->hooks.stop != NULL)
        c->hooks.stop(c->hooks.arg);
    pthread_mutex_lock(&c->store_mtx);
    if (c->store != NULL) {
        child_range_flush_locked(c);
        child_flush_locked(c); /* the last second's news is not lost with the child */
        child_blocks_flush_locked(c, 1);
    }
    ww_store_close(c->store);
    c->store = NULL;
    c->store_retry_at = 0;
    pthread_mutex_unlock(&c->store_mtx);
    ww_fbbuf_free(c->fb);
    c->fb = NULL;
    ww_blockagg_free(c->blocks);
    c->blocks = NULL;
}
