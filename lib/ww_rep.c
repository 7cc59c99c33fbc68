/* lib/ww_rep.c - web reputation: ratings, the WRS provider, and the combined lookup
 * (local db -> cache -> provider) with outage back-off. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ww_cache.h"
#include "ww_common.h"
#include "ww_counters.h"
#include "ww_conf.h"
#include "ww_endpoint.h"
#include "ww_http.h"
#include "ww_log.h"
#include "ww_rep.h"
#include "ww_urldb.h"

#define REP_LOG_INTERVAL_MS 60000 /* one line per kind of failure per minute */
#define REP_HOST_KEY_MAX 300

void ww_rep_provider_free(struct ww_rep_provider *p)
{
    if (p == NULL)
        return;
    if (p->free_ctx != NULL)
        p->free_ctx(p->ctx);
    free(p);
}

/* ---- answer parsing ---- */

int ww_rep_parse_rating(const char *body, size_t len, struct ww_rating *out, char *why,
                        size_t whylen)
{
    json_error_t jerr;
    json_t *root = NULL, *cats = NULL, *ttl = NULL, *scope = NULL;
    json_int_t score = -1;
    int rc = WW_EPROTO;
    char dummy[8];

    if (why == NULL) {
        why = dummy;
        whylen = sizeof(dummy);
    }
    why[0] = '\0';
    ww_rating_init(out, WW_REP_SRC_FAILURE, WW_EPROTO);
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        snprintf(why, whylen, "not JSON: %s", jerr.text);
        goto cleanup;
    }
    if (json_unpack_ex(root, &jerr, 0, "{s:I, s?o, s?o, s?o}", "score", &score, "categories", &cats,
                       "ttl", &ttl, "scope", &scope) != 0) {
        snprintf(why, whylen, "%s", jerr.text);
        goto cleanup;
    }
    if (score < 0 || score > 100) {
        snprintf(why, whylen, "score %lld out of 0..100", (long long)score);
        goto cleanup;
    }
    if (cats != NULL && !json_is_array(cats) && !json_is_null(cats)) {
        snprintf(why, whylen, "categories is not an array");
        goto cleanup;
    }
    if (ttl != NULL && !json_is_null(ttl) &&
        (!json_is_integer(ttl) || json_integer_value(ttl) < 0)) {
        snprintf(why, whylen, "ttl is not an integer >= 0");
        goto cleanup;
    }
    if (scope != NULL && !json_is_null(scope) &&
        (!json_is_string(scope) || (strcmp(json_string_value(scope), "url") != 0 &&
                                    strcmp(json_string_value(scope), "host") != 0))) {
        snprintf(why, whylen, "scope is not \"url\" or \"host\"");
        goto cleanup;
    }
    size_t ncats = json_is_array(cats) ? json_array_size(cats) : 0;
    for (size_t i = 0; i < ncats; i++) {
        if (!json_is_string(json_array_get(cats, i))) {
            snprintf(why, whylen, "categories[%zu] is not a string", i);
            goto cleanup;
        }
    }
    ww_rating_init(out, WW_REP_SRC_SERVER, WW_OK);
    out->score = (int)score;
    for (size_t i = 0; i < ncats; i++)
        ww_rating_add_category(out, json_string_value(json_array_get(cats, i)));
    if (ttl != NULL && json_is_integer(ttl))
        out->ttl_s =
            json_integer_value(ttl) > 0x7fffffff ? 0x7fffffff : (int)json_integer_value(ttl);
    out->host_wide =
        scope != NULL && json_is_string(scope) && strcmp(json_string_value(scope), "host") == 0;
    rc = WW_OK;
cleanup:
    json_decref(root);
    return rc;
}

/* ---- the WRS provider ---- */

struct wrs_thread;

struct wrs_ctx {
    char *base; /* "<server>/v1/rating?url=" */
    size_t base_len;
    size_t server_len;        /* of <server> at the start of base, for log lines */
    struct ww_http_opts opts; /* a copy: its strings are owned (ww_http_opts_copy) */
    pthread_key_t key;
    pthread_mutex_t lock; /* guards threads */
    struct wrs_thread *threads;
    struct ww_log_limit loglimit;
};

struct wrs_thread {
    struct wrs_ctx *ctx;
    struct ww_http *http;
    struct wrs_thread *prev, *next;
    char url[]; /* base + escaped canonical URL */
};

static void wrs_thread_unlink_free(struct wrs_thread *t)
{
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        t->ctx->threads = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    ww_http_free(t->http);
    free(t);
}

static void wrs_thread_exit(void *arg)
{
    struct wrs_thread *t = arg;
    struct wrs_ctx *ctx = t->ctx;

    pthread_mutex_lock(&ctx->lock);
    wrs_thread_unlink_free(t);
    pthread_mutex_unlock(&ctx->lock);
}

static struct wrs_thread *wrs_thread_get(struct wrs_ctx *ctx)
{
    struct wrs_thread *t = pthread_getspecific(ctx->key);

    if (t != NULL)
        return t;
    t = calloc(1, sizeof(*t) + ctx->base_len + 3 * WW_URL_MAX + 1);
    if (t == NULL)
        return NULL;
    t->ctx = ctx;
    t->http = ww_http_create(&ctx->opts);
    if (t->http == NULL || pthread_setspecific(ctx->key, t) != 0) {
        ww_http_free(t->http);
        free(t);
        return NULL;
    }
    pthread_mutex_lock(&ctx->lock);
    t->next = ctx->threads;
    if (ctx->threads != NULL)
        ctx->threads->prev = t;
    ctx->threads = t;
    pthread_mutex_unlock(&ctx->lock);
    return t;
}

static void wrs_log_failure(struct wrs_ctx *ctx, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void wrs_log_failure(struct wrs_ctx *ctx, int kind, const char *fmt, ...)
{
    va_list ap;

    if (!ww_log_limit_allow(&ctx->loglimit, kind, REP_LOG_INTERVAL_MS))
        return;
    va_start(ap, fmt);
    ww_vlog(WW_LOG_WARN, fmt, ap);
    va_end(ap);
}

static int wrs_lookup(void *arg, const char *canon_url, struct ww_rating *out)
{
    struct wrs_ctx *ctx = arg;
    struct wrs_thread *t = wrs_thread_get(ctx);
    struct ww_http_result res;
    char why[160];
    int rc;

    ww_rating_init(out, WW_REP_SRC_FAILURE, WW_ENOMEM);
    if (t == NULL)
        return WW_ENOMEM;
    memcpy(t->url, ctx->base, ctx->base_len + 1);
    if (ww_http_append_escaped(t->url, ctx->base_len + 3 * WW_URL_MAX + 1, canon_url) != WW_OK) {
        out->error = WW_ETOOBIG;
        return WW_ETOOBIG;
    }
    rc = ww_http_get(t->http, t->url, &res);
    if (rc != WW_OK) {
        /* kinds 1..15 by error code; the curl text tells the admin the detail */
        wrs_log_failure(ctx, -rc, "reputation server %.*s: %s (%s); URLs are unrated meanwhile",
                        (int)ctx->server_len, ctx->base, ww_strerror(rc),
                        ww_http_last_error(t->http));
        out->error = rc;
        return rc;
    }
    if (res.status != 200) {
        rc = res.status >= 500 ? WW_EUNAVAIL : WW_EPROTO;
        wrs_log_failure(ctx, 0, "reputation server %.*s: HTTP status %ld; URLs are unrated",
                        (int)ctx->server_len, ctx->base, res.status);
        out->error = rc;
        return rc;
    }
    rc = ww_rep_parse_rating(res.body, res.body_len, out, why, sizeof(why));
    if (rc != WW_OK) {
        wrs_log_failure(ctx, -WW_EPROTO, "reputation server %.*s: bad answer: %s",
                        (int)ctx->server_len, ctx->base, why);
        out->error = rc;
    }
    return rc;
}

static void wrs_free(void *arg)
{
    struct wrs_ctx *ctx = arg;

    if (ctx == NULL)
        return;
    pthread_key_delete(ctx->key); /* no destructor runs after this */
    while (ctx->threads != NULL)
        wrs_thread_unlink_free(ctx->threads);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx->base);
    ww_http_opts_cleanup(&ctx->opts);
    free(ctx);
}

struct ww_rep_provider *ww_rep_provider_wrs_create(const char *server,
                                                   const struct ww_http_opts *opts)
{
    static const char path[] = "/v1/rating?url=";
    struct ww_rep_provider *p = calloc(1, sizeof(*p));
    struct wrs_ctx *ctx = calloc(1, sizeof(*ctx));
    size_t slen = ww_endpoint_base_len(server);

    if (p == NULL || ctx == NULL)
        goto fail;
    ctx->server_len = slen;
    ctx->base_len = slen + sizeof(path) - 1;
    ctx->base = malloc(ctx->base_len + 1);
    if (ctx->base == NULL)
        goto fail;
    memcpy(ctx->base, server, slen);
    memcpy(ctx->base + slen, path, sizeof(path));
    if (ww_http_opts_copy(&ctx->opts, opts) != WW_OK)
        goto fail;
    if (pthread_key_create(&ctx->key, wrs_thread_exit) != 0) {
        ww_http_opts_cleanup(&ctx->opts);
        goto fail;
    }
    pthread_mutex_init(&ctx->lock, NULL);
    if (ww_http_global_init() != WW_OK) {
        wrs_free(ctx);
        free(p);
        return NULL;
    }
    p->name = "wrs";
    p->lookup = wrs_lookup;
    p->free_ctx = wrs_free;
    p->ctx = ctx;
    return p;
fail: /* only ctx->base may be held here */
    if (ctx != NULL)
        free(ctx->base);
    free(ctx);
    free(p);
    return NULL;
}

/* ---- the combined lookup with back-off ---- */

struct ww_rep {
    struct ww_rep_provider *provider;
    struct ww_cache *cache;
    pthread_rwlock_t db_lock; /* readers look up under it; a swap takes it for writing */
    struct ww_urldb *db;
    /* 0 while no database was ever set: lookups skip db_lock, whose shared counter every request
     * thread would otherwise bounce between cores. Set (under the write lock) by the first
     * database and never cleared: a lookup that still reads 0 ran as if just before the swap. */
    atomic_int db_ever;
    int cache_ttl_s;

    /* back-off */
    int backoff_on, backoff_failures, backoff_s, backoff_max_s;
    atomic_int tripped;  /* read without the lock on the fast path */
    atomic_int failures; /* consecutive */
    pthread_mutex_t bo_lock;
    int64_t bo_until_ms;
    int bo_period_s;
    int bo_probing;
    int bo_last_error;

    atomic_uint_fast64_t n_localdb, n_cache, n_server, n_fail, n_backoff;
    /* The server's last answers, for the admin's status (wall clock, s). */
    atomic_int_fast64_t last_ok_s, last_fail_s;
    atomic_int last_error;
    atomic_int last_call_failed; /* the newest call's outcome */
};

struct ww_rep *ww_rep_create(const struct ww_conf *conf, struct ww_rep_provider *provider,
                             struct ww_urldb *db)
{
    struct ww_rep *rep = calloc(1, sizeof(*rep));
    int entries = conf->reputation.cache_entries > 0 ? conf->reputation.cache_entries : 1;

    if (rep == NULL)
        goto fail;
    rep->cache = ww_cache_create((size_t)entries, sizeof(struct ww_rating));
    if (rep->cache == NULL)
        goto fail;
    rep->provider = provider;
    rep->db = db;
    atomic_init(&rep->db_ever, db != NULL);
    rep->cache_ttl_s = conf->reputation.cache_ttl_s;
    rep->backoff_on = conf->reputation.backoff;
    rep->backoff_failures =
        conf->reputation.backoff_failures > 0 ? conf->reputation.backoff_failures : 1;
    rep->backoff_s = conf->reputation.backoff_s > 0 ? conf->reputation.backoff_s : 1;
    rep->backoff_max_s = conf->reputation.backoff_max_s > rep->backoff_s
                             ? conf->reputation.backoff_max_s
                             : rep->backoff_s;
    rep->bo_period_s = rep->backoff_s;
    pthread_rwlock_init(&rep->db_lock, NULL);
    pthread_mutex_init(&rep->bo_lock, NULL);
    return rep;
fail:
    if (rep != NULL)
        ww_cache_free(rep->cache);
    free(rep);
    ww_rep_provider_free(provider);
    ww_urldb_unref(db);
    return NULL;
}

int ww_rep_create_from_conf(const struct ww_conf *conf, struct ww_urldb *db,
                            const char *appliance_id, struct ww_rep **out, char *err, size_t errlen)
{
    struct ww_rep_provider *provider = NULL;
    struct ww_endpoint ep;

    *out = NULL;
    ww_endpoint_init(&ep, conf, WW_SERVER_REPUTATION, appliance_id);
    if (ww_endpoint_configured(&ep)) {
        provider = ww_rep_provider_wrs_create(ep.server, &ep.http);
        if (provider == NULL) {
            ww_urldb_unref(db);
            snprintf(err, errlen, "reputation: out of memory");
            return WW_ENOMEM;
        }
    }
    *out = ww_rep_create(conf, provider, db); /* takes both, even when it fails */
    if (*out == NULL) {
        snprintf(err, errlen, "reputation: out of memory");
        return WW_ENOMEM;
    }
    return WW_OK;
}

void ww_rep_free(struct ww_rep *rep)
{
    if (rep == NULL)
        return;
    ww_rep_provider_free(rep->provider);
    ww_cache_free(rep->cache);
    ww_urldb_unref(rep->db);
    pthread_rwlock_destroy(&rep->db_lock);
    pthread_mutex_destroy(&rep->bo_lock);
    free(rep);
}

void ww_rep_set_urldb(struct ww_rep *rep, struct ww_urldb *db)
{
    struct ww_urldb *old;

    pthread_rwlock_wrlock(&rep->db_lock);
    old = rep->db;
    rep->db = db;
    if (db != NULL)
        atomic_store_explicit(&rep->db_ever, 1, memory_order_release);
    pthread_rwlock_unlock(&rep->db_lock);
    ww_urldb_unref(old);
}

/* 1: call the provider (*probe says whether as the single probe); 0: backed off. */
static int rep_backoff_admit(struct ww_rep *rep, int *probe, int *last_error)
{
    int admit = 1;

    *probe = 0;
    if (!rep->backoff_on || !atomic_load_explicit(&rep->tripped, memory_order_acquire))
        return 1;
    pthread_mutex_lock(&rep->bo_lock);
    if (!atomic_load_explicit(&rep->tripped, memory_order_relaxed)) {
        admit = 1;
    } else if (rep->bo_probing || ww_cache_now_ms() < rep->bo_until_ms) {
        admit = 0;
        *last_error = rep->bo_last_error;
    } else {
        rep->bo_probing = 1;
        *probe = 1;
    }
    pthread_mutex_unlock(&rep->bo_lock);
    return admit;
}

static void rep_backoff_result(struct ww_rep *rep, int rc, int probe)
{
    const char *name = rep->provider->name;

    if (!rep->backoff_on)
        return;
    if (rc == WW_OK) {
        if (atomic_load_explicit(&rep->failures, memory_order_relaxed) == 0 &&
            !atomic_load_explicit(&rep->tripped, memory_order_relaxed))
            return; /* the usual case: no lock */
        pthread_mutex_lock(&rep->bo_lock);
        atomic_store(&rep->failures, 0);
        if (atomic_load(&rep->tripped)) {
            atomic_store_explicit(&rep->tripped, 0, memory_order_release);
            rep->bo_probing = 0;
            rep->bo_period_s = rep->backoff_s;
            ww_log(WW_LOG_INFO, "reputation %s: answering again, back-off ended", name);
        }
        pthread_mutex_unlock(&rep->bo_lock);
        return;
    }
    pthread_mutex_lock(&rep->bo_lock);
    int failures = atomic_fetch_add(&rep->failures, 1) + 1;
    rep->bo_last_error = rc;
    if (probe) {
        rep->bo_probing = 0;
        rep->bo_period_s =
            rep->bo_period_s * 2 < rep->backoff_max_s ? rep->bo_period_s * 2 : rep->backoff_max_s;
        rep->bo_until_ms = ww_cache_now_ms() + (int64_t)rep->bo_period_s * 1000;
        ww_log(WW_LOG_WARN, "reputation %s: probe failed (%s); next probe in %d s", name,
               ww_strerror(rc), rep->bo_period_s);
    } else if (!atomic_load(&rep->tripped) && failures >= rep->backoff_failures) {
        rep->bo_period_s = rep->backoff_s;
        rep->bo_until_ms = ww_cache_now_ms() + (int64_t)rep->bo_period_s * 1000;
        atomic_store_explicit(&rep->tripped, 1, memory_order_release);
        ww_log(WW_LOG_WARN,
               "reputation %s: %d failures in a row (%s); not calling it for %d s, URLs are "
               "unrated meanwhile",
               name, failures, ww_strerror(rc), rep->bo_period_s);
    }
    pthread_mutex_unlock(&rep->bo_lock);
}

/* "host:<host>" of a canonical URL into <key>; 0 if it does not fit or has no host. */
static int rep_host_key(const char *canon, char *key, size_t keylen)
{
    const char *h = strstr(canon, "://");
    size_t hl;

    if (h == NULL)
        return 0;
    h += 3;
    hl = strcspn(h, "/?");
    if (hl == 0 || hl + 6 > keylen)
        return 0;
    memcpy(key, "host:", 5);
    memcpy(key + 5, h, hl);
    key[5 + hl] = '\0';
    return 1;
}

int ww_rep_check(struct ww_rep *rep, const char *canon_url, struct ww_rating *out)
{
    char host_key[REP_HOST_KEY_MAX];
    int have_host_key = 0, probe = 0, last_error = WW_EUNAVAIL, rc;

    rc = WW_ENOTFOUND;
    if (atomic_load_explicit(&rep->db_ever, memory_order_acquire)) {
        pthread_rwlock_rdlock(&rep->db_lock);
        rc = rep->db != NULL ? ww_urldb_lookup(rep->db, canon_url, out) : WW_ENOTFOUND;
        pthread_rwlock_unlock(&rep->db_lock);
    }
    if (rc == WW_OK) {
        atomic_fetch_add_explicit(&rep->n_localdb, 1, memory_order_relaxed);
        ww_ctr_add(WW_CTR_REP_LOCALDB, 1);
        return WW_OK;
    }
    if (rep->provider == NULL) {
        ww_rating_init(out, WW_REP_SRC_NONE, WW_OK);
        return WW_OK;
    }
    if (ww_cache_get(rep->cache, canon_url, out) == WW_OK ||
        ((have_host_key = rep_host_key(canon_url, host_key, sizeof(host_key))) &&
         ww_cache_get(rep->cache, host_key, out) == WW_OK)) {
        out->source = WW_REP_SRC_CACHE;
        atomic_fetch_add_explicit(&rep->n_cache, 1, memory_order_relaxed);
        ww_ctr_add(WW_CTR_REP_CACHE, 1);
        return WW_OK;
    }
    if (!rep_backoff_admit(rep, &probe, &last_error)) {
        ww_rating_init(out, WW_REP_SRC_BACKOFF, last_error);
        atomic_fetch_add_explicit(&rep->n_backoff, 1, memory_order_relaxed);
        ww_ctr_add(WW_CTR_REP_BACKOFF, 1);
        return WW_EUNAVAIL;
    }
    atomic_fetch_add_explicit(&rep->n_server, 1, memory_order_relaxed);
    rc = rep->provider->lookup(rep->provider->ctx, canon_url, out);
    ww_ctr_rep_result(rc);
    rep_backoff_result(rep, rc, probe);
    if (rc != WW_OK) {
        atomic_store_explicit(&rep->last_error, rc, memory_order_relaxed);
        atomic_store_explicit(&rep->last_fail_s, (int_fast64_t)time(NULL), memory_order_relaxed);
        atomic_store_explicit(&rep->last_call_failed, 1, memory_order_relaxed);
    } else {
        atomic_store_explicit(&rep->last_call_failed, 0, memory_order_relaxed);
        atomic_store_explicit(&rep->last_ok_s, (int_fast64_t)time(NULL), memory_order_relaxed);
    }
    if (rc != WW_OK) {
        ww_rating_init(out, WW_REP_SRC_FAILURE, rc);
        atomic_fetch_add_explicit(&rep->n_fail, 1, memory_order_relaxed);
        return rc;
    }
    out->source = WW_REP_SRC_SERVER;
    int ttl = out->ttl_s >= 0 ? out->ttl_s : rep->cache_ttl_s;
    if (out->host_wide && (have_host_key || rep_host_key(canon_url, host_key, sizeof(host_key))))
        ww_cache_put(rep->cache, host_key, out, ttl);
    else
        ww_cache_put(rep->cache, canon_url, out, ttl);
    return WW_OK; /* a failed cache insert (memory) costs only a later call */
}

void ww_rep_stats(struct ww_rep *rep, struct ww_rep_stats *out)
{
    struct ww_cache_stats cs;

    ww_cache_stats(rep->cache, &cs);
    memset(out, 0, sizeof(*out));
    out->localdb_hits = atomic_load(&rep->n_localdb);
    out->cache_hits = atomic_load(&rep->n_cache);
    out->server_calls = atomic_load(&rep->n_server);
    out->server_failures = atomic_load(&rep->n_fail);
    out->backoff_skips = atomic_load(&rep->n_backoff);
    out->last_ok = (time_t)atomic_load(&rep->last_ok_s);
    out->last_fail = (time_t)atomic_load(&rep->last_fail_s);
    out->last_error = atomic_load(&rep->last_error);
    out->last_call_failed = atomic_load(&rep->last_call_failed);
    out->cache_misses = cs.misses;
    out->cache_evictions = cs.evictions;
    out->cache_entries = cs.entries;
    pthread_mutex_lock(&rep->bo_lock);
    out->backing_off = atomic_load(&rep->tripped);
    out->backoff_period_s = rep->bo_period_s;
    out->consecutive_failures = atomic_load(&rep->failures);
    pthread_mutex_unlock(&rep->bo_lock);
}
