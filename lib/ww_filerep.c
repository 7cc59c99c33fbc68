/* lib/ww_filerep.c - file reputation (smart scan): the Smart Protection Server client, its health
 * probe, and the cached lookup. */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
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
#include "ww_filerep.h"
#include "ww_http.h"
#include "ww_log.h"

#define FILEREP_LOG_INTERVAL_MS 60000  /* one line per kind of failure per minute */
#define FILEREP_POOL_MAX 16            /* idle HTTP clients kept; more are freed after use */
#define FILEREP_ANSWER_MAX (64 * 1024) /* a verdict is a few dozen bytes */

const char *ww_filerep_verdict_name(enum ww_filerep_verdict v)
{
    switch (v) {
    case WW_FILEREP_CLEAN:
        return "clean";
    case WW_FILEREP_MALICIOUS:
        return "malicious";
    case WW_FILEREP_SKIPPED:
        return "skipped";
    case WW_FILEREP_UNKNOWN:
    default:
        return "unknown";
    }
}

static void verdict_init(struct ww_file_verdict *v, enum ww_filerep_verdict verdict, int error)
{
    v->verdict = verdict;
    v->name[0] = '\0';
    v->ttl_s = -1;
    v->cached = 0;
    v->error = error;
}

void ww_filerep_provider_free(struct ww_filerep_provider *p)
{
    if (p == NULL)
        return;
    if (p->free_ctx != NULL)
        p->free_ctx(p->ctx);
    free(p);
}

/* ---- answer parsing ---- */

int ww_filerep_parse_health(const char *body, size_t blen, char *detail, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, blen, JSON_REJECT_DUPLICATES, &jerr);
    const char *status = NULL;
    int rc = WW_EPROTO;

    if (root == NULL) {
        snprintf(detail, len, "bad answer: not JSON: %s", jerr.text);
        goto cleanup;
    }
    if (json_unpack_ex(root, &jerr, 0, "{s:s}", "status", &status) != 0) {
        snprintf(detail, len, "bad answer: %s", jerr.text);
        goto cleanup;
    }
    if (strcmp(status, "ok") != 0) {
        snprintf(detail, len, "status \"%.40s\"", status);
        goto cleanup;
    }
    snprintf(detail, len, "ok");
    rc = WW_OK;
cleanup:
    json_decref(root);
    return rc;
}

int ww_filerep_parse_verdict(const char *body, size_t len, struct ww_file_verdict *out, char *why,
                             size_t whylen)
{
    json_error_t jerr;
    json_t *root = NULL, *name = NULL, *ttl = NULL;
    const char *verdict = NULL;
    enum ww_filerep_verdict v;
    int rc = WW_EPROTO;
    char dummy[8];

    if (why == NULL) {
        why = dummy;
        whylen = sizeof(dummy);
    }
    why[0] = '\0';
    verdict_init(out, WW_FILEREP_SKIPPED, WW_EPROTO);
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        snprintf(why, whylen, "not JSON: %s", jerr.text);
        goto cleanup;
    }
    if (json_unpack_ex(root, &jerr, 0, "{s:s, s?o, s?o}", "verdict", &verdict, "name", &name, "ttl",
                       &ttl) != 0) {
        snprintf(why, whylen, "%s", jerr.text);
        goto cleanup;
    }
    if (strcmp(verdict, "malicious") == 0)
        v = WW_FILEREP_MALICIOUS;
    else if (strcmp(verdict, "clean") == 0)
        v = WW_FILEREP_CLEAN;
    else if (strcmp(verdict, "unknown") == 0)
        v = WW_FILEREP_UNKNOWN;
    else {
        snprintf(why, whylen, "verdict \"%.40s\" is not malicious, clean or unknown", verdict);
        goto cleanup;
    }
    if (name != NULL && !json_is_null(name) &&
        (!json_is_string(name) || json_string_length(name) == 0)) {
        snprintf(why, whylen, "name is not a non-empty string");
        goto cleanup;
    }
    if (v == WW_FILEREP_MALICIOUS && !json_is_string(name)) {
        snprintf(why, whylen, "malicious verdict without a name");
        goto cleanup;
    }
    if (ttl != NULL && !json_is_null(ttl) &&
        (!json_is_integer(ttl) || json_integer_value(ttl) < 0)) {
        snprintf(why, whylen, "ttl is not an integer >= 0");
        goto cleanup;
    }
    verdict_init(out, v, WW_OK);
    if (v == WW_FILEREP_MALICIOUS) {
        /* Cut, and keep it printable: the name goes into logs, headers and the block page. */
        const char *n = json_string_value(name);
        size_t i;
        for (i = 0; n[i] != '\0' && i < sizeof(out->name) - 1; i++)
            out->name[i] = isprint((unsigned char)n[i]) ? n[i] : '?';
        out->name[i] = '\0';
    }
    if (ttl != NULL && json_is_integer(ttl))
        out->ttl_s =
            json_integer_value(ttl) > 0x7fffffff ? 0x7fffffff : (int)json_integer_value(ttl);
    rc = WW_OK;
cleanup:
    json_decref(root);
    return rc;
}

/* ---- the Smart Protection Server provider ---- */

struct sps_ctx {
    char *server;             /* without trailing '/' */
    struct ww_http_opts opts; /* a copy: its strings are owned (ww_http_opts_copy) */
    pthread_mutex_t lock;     /* guards pool */
    struct ww_http *pool[FILEREP_POOL_MAX];
    int npool;
    struct ww_log_limit loglimit;
};

/* An idle client from the pool, or a new one; NULL if out of memory. */
static struct ww_http *sps_take(struct sps_ctx *ctx)
{
    struct ww_http *h = NULL;

    pthread_mutex_lock(&ctx->lock);
    if (ctx->npool > 0)
        h = ctx->pool[--ctx->npool];
    pthread_mutex_unlock(&ctx->lock);
    return h != NULL ? h : ww_http_create(&ctx->opts);
}

/* Gives <h> back; a client whose request failed is freed rather than reused, so a connection
 * left in an unknown state by a timeout is never the next request's problem. */
static void sps_give(struct sps_ctx *ctx, struct ww_http *h, int healthy)
{
    if (h == NULL)
        return;
    if (healthy) {
        pthread_mutex_lock(&ctx->lock);
        if (ctx->npool < FILEREP_POOL_MAX) {
            ctx->pool[ctx->npool++] = h;
            h = NULL;
        }
        pthread_mutex_unlock(&ctx->lock);
    }
    ww_http_free(h);
}

static void sps_log_failure(struct sps_ctx *ctx, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void sps_log_failure(struct sps_ctx *ctx, int kind, const char *fmt, ...)
{
    va_list ap;

    if (!ww_log_limit_allow(&ctx->loglimit, kind, FILEREP_LOG_INTERVAL_MS))
        return;
    va_start(ap, fmt);
    ww_vlog(WW_LOG_WARN, fmt, ap);
    va_end(ap);
}

static int sps_lookup(void *arg, const char *sha256_hex, struct ww_file_verdict *out)
{
    struct sps_ctx *ctx = arg;
    struct ww_http *h;
    struct ww_http_result res;
    char url[2048], why[160];
    int rc;

    verdict_init(out, WW_FILEREP_SKIPPED, WW_ENOMEM);
    if ((size_t)snprintf(url, sizeof(url), "%s/v1/file/%s", ctx->server, sha256_hex) >=
        sizeof(url)) {
        out->error = WW_ETOOBIG;
        return WW_ETOOBIG;
    }
    h = sps_take(ctx);
    if (h == NULL)
        return WW_ENOMEM;
    rc = ww_http_get(h, url, &res);
    if (rc != WW_OK) {
        /* kinds 1..15 by error code; the curl text tells the admin the detail */
        sps_log_failure(ctx, -rc,
                        "smart protection server %s: %s (%s); smart scan skipped meanwhile",
                        ctx->server, ww_strerror(rc), ww_http_last_error(h));
        goto cleanup;
    }
    if (res.status != 200) {
        rc = res.status >= 500 ? WW_EUNAVAIL : WW_EPROTO;
        sps_log_failure(ctx, 0, "smart protection server %s: HTTP status %ld; smart scan skipped",
                        ctx->server, res.status);
        goto cleanup;
    }
    rc = ww_filerep_parse_verdict(res.body, res.body_len, out, why, sizeof(why));
    if (rc != WW_OK)
        sps_log_failure(ctx, -WW_EPROTO,
                        "smart protection server %s: bad answer: %s; smart scan skipped",
                        ctx->server, why);
cleanup:
    sps_give(ctx, h, rc == WW_OK);
    if (rc != WW_OK)
        verdict_init(out, WW_FILEREP_SKIPPED, rc);
    return rc;
}

static void sps_free(void *arg)
{
    struct sps_ctx *ctx = arg;

    if (ctx == NULL)
        return;
    for (int i = 0; i < ctx->npool; i++)
        ww_http_free(ctx->pool[i]);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx->server);
    ww_http_opts_cleanup(&ctx->opts);
    free(ctx);
}

struct ww_filerep_provider *ww_filerep_provider_sps_create(const char *server,
                                                           const struct ww_http_opts *opts)
{
    struct ww_filerep_provider *p = calloc(1, sizeof(*p));
    struct sps_ctx *ctx = calloc(1, sizeof(*ctx));
    if (p == NULL || ctx == NULL)
        goto fail;
    ctx->server = strndup(server, ww_endpoint_base_len(server));
    if (ctx->server == NULL)
        goto fail;
    if (ww_http_opts_copy(&ctx->opts, opts) != WW_OK) {
        free(ctx->server);
        goto fail;
    }
    if (ctx->opts.max_body == 0)
        ctx->opts.max_body = FILEREP_ANSWER_MAX;
    if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
        free(ctx->server);
        ww_http_opts_cleanup(&ctx->opts);
        goto fail;
    }
    if (ww_http_global_init() != WW_OK) {
        sps_free(ctx);
        free(p);
        return NULL;
    }
    p->name = "sps";
    p->lookup = sps_lookup;
    p->free_ctx = sps_free;
    p->ctx = ctx;
    return p;
fail: /* nothing of ctx's is held here any more */
    free(ctx);
    free(p);
    return NULL;
}

/* ---- health probe ---- */

int ww_filerep_health_probe(struct ww_http *h, const char *server, char *detail, size_t len,
                            int *latency_ms)
{
    struct ww_http_result res;
    char url[2048];
    int64_t t0 = ww_cache_now_ms();
    int rc;

    if (ww_endpoint_join(server, "/v1/health", url, sizeof(url)) != WW_OK) {
        snprintf(detail, len, "server URL too long");
        rc = WW_ETOOBIG;
        goto cleanup;
    }
    rc = ww_http_get(h, url, &res);
    if (rc != WW_OK) {
        const char *why = ww_http_last_error(h);
        snprintf(detail, len, "%s%s%s%s", ww_strerror(rc), why[0] != '\0' ? " (" : "", why,
                 why[0] != '\0' ? ")" : "");
        goto cleanup;
    }
    if (res.status != 200) {
        snprintf(detail, len, "HTTP %ld", res.status);
        rc = res.status >= 500 ? WW_EUNAVAIL : WW_EPROTO;
        goto cleanup;
    }
    rc = ww_filerep_parse_health(res.body, res.body_len, detail, len);
cleanup:
    if (latency_ms != NULL)
        *latency_ms = (int)(ww_cache_now_ms() - t0);
    return rc;
}

/* ---- the cached lookup ---- */

struct ww_filerep {
    struct ww_filerep_provider *provider;
    struct ww_cache *cache;
    int default_ttl_s;
    atomic_uint_fast64_t n_lookups, n_cache, n_server, n_skipped;
};

struct ww_filerep *ww_filerep_create(struct ww_filerep_provider *provider, size_t cache_entries,
                                     int default_ttl_s)
{
    struct ww_filerep *fr = calloc(1, sizeof(*fr));

    if (fr == NULL)
        goto fail;
    fr->cache =
        ww_cache_create(cache_entries > 0 ? cache_entries : 1, sizeof(struct ww_file_verdict));
    if (fr->cache == NULL)
        goto fail;
    fr->provider = provider;
    fr->default_ttl_s = default_ttl_s;
    return fr;
fail:
    free(fr);
    ww_filerep_provider_free(provider);
    return NULL;
}

int ww_filerep_create_from_conf(const struct ww_conf *conf, const char *appliance_id,
                                struct ww_filerep **out, char *err, size_t errlen)
{
    struct ww_filerep_provider *p;
    struct ww_endpoint ep;

    *out = NULL;
    ww_endpoint_init(&ep, conf, WW_SERVER_SMART_SCAN, appliance_id);
    if (!ww_endpoint_configured(&ep)) {
        snprintf(err, errlen, "smart_scan.server is not set");
        return WW_ENOTFOUND;
    }
    p = ww_filerep_provider_sps_create(ep.server, &ep.http);
    if (p == NULL || (*out = ww_filerep_create(p, 20000, 3600)) == NULL) {
        snprintf(err, errlen, "smart scan: out of memory");
        return WW_ENOMEM;
    }
    return WW_OK;
}

void ww_filerep_free(struct ww_filerep *fr)
{
    if (fr == NULL)
        return;
    ww_filerep_provider_free(fr->provider);
    ww_cache_free(fr->cache);
    free(fr);
}

/* The lower-case form of a 64-hex-digit hash into <key>; 0 if <in> is not one. */
static int filerep_hash_key(const char *in, char key[WW_FILEREP_SHA256_HEX + 1])
{
    size_t i;

    for (i = 0; i < WW_FILEREP_SHA256_HEX; i++) {
        if (!isxdigit((unsigned char)in[i]))
            return 0;
        key[i] = (char)tolower((unsigned char)in[i]);
    }
    key[i] = '\0';
    return in[i] == '\0';
}

int ww_filerep_lookup(struct ww_filerep *fr, const char *sha256_hex, struct ww_file_verdict *out)
{
    char key[WW_FILEREP_SHA256_HEX + 1];
    int rc, ttl_s;

    atomic_fetch_add_explicit(&fr->n_lookups, 1, memory_order_relaxed);
    verdict_init(out, WW_FILEREP_SKIPPED, WW_EINVAL);
    if (sha256_hex == NULL || !filerep_hash_key(sha256_hex, key)) {
        rc = WW_EINVAL;
        goto skipped;
    }
    if (fr->provider == NULL) {
        out->error = rc = WW_ENOTFOUND;
        goto skipped;
    }
    if (ww_cache_get(fr->cache, key, out) == WW_OK) {
        out->cached = 1;
        atomic_fetch_add_explicit(&fr->n_cache, 1, memory_order_relaxed);
        ww_ctr_add(WW_CTR_DETECT_SMART, out->verdict == WW_FILEREP_MALICIOUS);
        return WW_OK;
    }
    atomic_fetch_add_explicit(&fr->n_server, 1, memory_order_relaxed);
    rc = fr->provider->lookup(fr->provider->ctx, key, out);
    ww_ctr_smart_result(rc, out->verdict == WW_FILEREP_MALICIOUS);
    if (rc != WW_OK) {
        verdict_init(out, WW_FILEREP_SKIPPED, rc);
        goto skipped;
    }
    out->cached = 0;
    out->error = WW_OK;
    ttl_s = out->ttl_s >= 0 ? out->ttl_s : fr->default_ttl_s;
    if (ttl_s > 0)
        ww_cache_put(fr->cache, key, out, ttl_s); /* out of memory: just not cached */
    return WW_OK;
skipped:
    atomic_fetch_add_explicit(&fr->n_skipped, 1, memory_order_relaxed);
    return rc;
}

void ww_filerep_stats(struct ww_filerep *fr, struct ww_filerep_stats *out)
{
    struct ww_cache_stats cs;

    ww_cache_stats(fr->cache, &cs);
    out->lookups = atomic_load(&fr->n_lookups);
    out->cache_hits = atomic_load(&fr->n_cache);
    out->server_calls = atomic_load(&fr->n_server);
    out->skipped = atomic_load(&fr->n_skipped);
    out->cache_entries = cs.entries;
}
