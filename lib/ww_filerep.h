/* lib/ww_filerep.h - file reputation (smart scan): the verdict of a body's SHA-256, the provider
 * interface (the Smart Protection Server client of PROTOCOL.md is one provider), and the lookup
 * cache -> provider that the RESPMOD module calls after a clean local scan. */
#ifndef WW_FILEREP_H
#define WW_FILEREP_H

#include <stddef.h>
#include <stdint.h>

struct ww_conf;
struct ww_http;
struct ww_http_opts;

#define WW_FILEREP_NAME_LEN 128 /* threat names longer than this are cut */
#define WW_FILEREP_SHA256_HEX 64

enum ww_filerep_verdict {
    WW_FILEREP_UNKNOWN = 0, /* the server has no verdict for this file */
    WW_FILEREP_CLEAN,
    WW_FILEREP_MALICIOUS,
    WW_FILEREP_SKIPPED /* no verdict: timeout, server down, bad answer (error says which) */
};

/* Plain value, no pointers: copied in and out of the cache. */
struct ww_file_verdict {
    enum ww_filerep_verdict verdict;
    char name[WW_FILEREP_NAME_LEN]; /* threat name when malicious, else "" */
    int ttl_s;                      /* from the server; -1 = none given */
    int cached;                     /* 1: answered from the cache, no request made */
    int error;                      /* WW_E* when SKIPPED, else WW_OK */
};

/* "unknown", "clean", "malicious", "skipped" (the access-log value). Never NULL. */
const char *ww_filerep_verdict_name(enum ww_filerep_verdict v);

/* A source of file verdicts. lookup() gets a 64-character lower-case hex SHA-256, fills <out>
 * and returns WW_OK, or returns a WW_E* code for a failure (out is then SKIPPED); it must be
 * thread-safe, may block at most its own timeout, and logs a failure at most once per kind per
 * minute, never once per call. free_ctx() (may be NULL) releases ctx. */
struct ww_filerep_provider {
    const char *name;
    int (*lookup)(void *ctx, const char *sha256_hex, struct ww_file_verdict *out);
    void (*free_ctx)(void *ctx);
    void *ctx;
};

/* Releases a heap provider made by a ww_filerep_provider_*_create() (calls free_ctx). NULL ok. */
void ww_filerep_provider_free(struct ww_filerep_provider *p);

/* The Smart Protection Server client: GET <server>/v1/file/<sha256>. <server> is the base URL,
 * <opts> as ww_http_create() (copied; opts->timeout_ms bounds each lookup as a whole). Threads
 * share a small pool of keep-alive HTTP clients under a mutex (a client is taken for one request
 * and given back). NULL if out of memory. Caller owns it (usually handing it to
 * ww_filerep_create()). */
struct ww_filerep_provider *ww_filerep_provider_sps_create(const char *server,
                                                           const struct ww_http_opts *opts);

/* Parses a 200 answer's body strictly: a JSON object without duplicate keys, "verdict" one of
 * "malicious", "clean", "unknown"; "name" a non-empty string, required when malicious; "ttl"
 * (optional) an integer >= 0; unknown fields ignored. WW_OK with <out> filled, or WW_EPROTO with
 * <out> SKIPPED and the reason in <why> (may be NULL). Thread-safe. */
int ww_filerep_parse_verdict(const char *body, size_t len, struct ww_file_verdict *out, char *why,
                             size_t whylen);

/* The health answer's body (HTTP 200 already checked): WW_OK for {"status": "ok"}, else
 * WW_EPROTO; "ok" or the reason in <detail>. Never crashes on any input (fuzzed). */
int ww_filerep_parse_health(const char *body, size_t blen, char *detail, size_t len);

/* Health probe of the Smart Protection Server at <server> with client <h> (its timeout bounds
 * the probe): GET <server>/v1/health. WW_OK only for HTTP 200 with {"status": "ok"}; else
 * WW_ETIMEOUT, WW_EUNAVAIL (refused, 5xx), WW_EPROTO (other status or body), ... <detail> gets
 * "ok" or a short reason for the health history ("timeout", "HTTP 500", "bad answer: ...");
 * *latency_ms (may be NULL) the time taken. Not thread-safe for one <h>. */
int ww_filerep_health_probe(struct ww_http *h, const char *server, char *detail, size_t len,
                            int *latency_ms);

/* ---- the lookup with its cache ---- */

struct ww_filerep; /* opaque; shared by all threads of a process */

struct ww_filerep_stats {
    uint64_t lookups, cache_hits, server_calls, skipped;
    size_t cache_entries;
};

/* A lookup caching up to <cache_entries> verdicts by hash, each for the server's ttl or, when it
 * gives none, <default_ttl_s> (0 = not cached). Takes ownership of <provider> (NULL: every lookup
 * is SKIPPED with WW_ENOTFOUND). NULL if out of memory (the provider is released then). */
struct ww_filerep *ww_filerep_create(struct ww_filerep_provider *provider, size_t cache_entries,
                                     int default_ttl_s);

/* The SPS provider for smart_scan.server (with smart_scan.timeout_ms, api_key and
 * <appliance_id>), 20000 cache entries, default TTL 3600 s. WW_OK and *out (caller owns it), or
 * WW_ENOTFOUND when no server is configured, or WW_ENOMEM; <err> says why. */
int ww_filerep_create_from_conf(const struct ww_conf *conf, const char *appliance_id,
                                struct ww_filerep **out, char *err, size_t errlen);

void ww_filerep_free(struct ww_filerep *fr); /* NULL is a no-op; no lookup may be running */

/* The verdict of <sha256_hex> (64 hex digits, any case): the cache, else the provider. Always
 * fills <out>; returns WW_OK, or a WW_E* code with <out> SKIPPED (bad hash: WW_EINVAL). Blocks at
 * most the provider's timeout. Thread-safe. */
int ww_filerep_lookup(struct ww_filerep *fr, const char *sha256_hex, struct ww_file_verdict *out);

void ww_filerep_stats(struct ww_filerep *fr, struct ww_filerep_stats *out);

#endif
