/* lib/ww_rep.h - web reputation: the provider interface (the cloud WRS client is one provider)
 * and the combined lookup local URL database -> cache -> provider with outage back-off, which
 * lib/ww_urlcheck calls for the REQMOD module and `webwardenctl url-check`. The rating value is
 * in ww_rating.h. */
#ifndef WW_REP_H
#define WW_REP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ww_rating.h"

struct ww_conf;
struct ww_urldb;
struct ww_http_opts;

/* A source of ratings. lookup() fills <out> and returns WW_OK, or returns a WW_E* code for a
 * failure (timeout, unavailable, malformed answer); it must be thread-safe, may block at most its
 * own timeout, and must not log per call. free_ctx() (may be NULL) releases ctx. */
struct ww_rep_provider {
    const char *name;
    int (*lookup)(void *ctx, const char *canon_url, struct ww_rating *out);
    void (*free_ctx)(void *ctx);
    void *ctx;
};

/* Releases a heap provider made by a ww_rep_provider_*_create() (calls free_ctx). NULL ok. */
void ww_rep_provider_free(struct ww_rep_provider *p);

/* The WRS client of PROTOCOL.md: GET <server>/v1/rating?url=<escaped canonical URL>.
 * <server> is the base URL ("https://wrs.example.net"), <opts> as ww_http_create() (copied).
 * Each calling thread gets its own keep-alive HTTP client, made on its first lookup and freed
 * at thread exit or with the provider. NULL if out of memory. Caller owns it (usually handing it
 * to ww_rep_create()). */
struct ww_rep_provider *ww_rep_provider_wrs_create(const char *server,
                                                   const struct ww_http_opts *opts);

/* Parses a 200 answer's body strictly (PROTOCOL.md): a JSON object without duplicate keys,
 * "score" an integer 0..100, "categories" (optional) an array of strings, "ttl" (optional) an
 * integer >= 0, "scope" (optional extension) "url" or "host"; unknown fields ignored. WW_OK with
 * <out> filled (source SERVER), or WW_EPROTO with <out> unrated and a reason in <why> (may be
 * NULL). Thread-safe. */
int ww_rep_parse_rating(const char *body, size_t len, struct ww_rating *out, char *why,
                        size_t whylen);

/* ---- the combined lookup ---- */

struct ww_rep; /* opaque; shared by all threads of a process */

struct ww_rep_stats {
    uint64_t localdb_hits, cache_hits, server_calls, server_failures, backoff_skips;
    uint64_t cache_misses, cache_evictions;
    size_t cache_entries;
    int backing_off;           /* 1 while calls are suspended */
    int backoff_period_s;      /* current (or next) period */
    int consecutive_failures;  /* counted while reputation.backoff is on */
    time_t last_ok, last_fail; /* the server's last answer / last failed call; 0 = never */
    int last_error;            /* WW_E* of that failure */
    int last_call_failed;      /* 1 if the newest call failed */
};

/* A lookup context reading reputation.* from <conf> (values copied; conf may go after).
 * <provider> may be NULL (every URL not in the local db is unrated, source NONE); <db> may be
 * NULL. Takes ownership of <provider> and of one reference to <db>. NULL if out of memory
 * (then <provider> and <db> are released too). Free with ww_rep_free(). */
struct ww_rep *ww_rep_create(const struct ww_conf *conf, struct ww_rep_provider *provider,
                             struct ww_urldb *db);

/* The one way to make the lookup from <conf> (lib/ww_urlcheck calls it): the WRS provider when
 * reputation.server is set (sending <appliance_id>, may be "" or NULL) and the local database
 * <db> (may be NULL; the caller picks and loads it: the installed urldb component or
 * urldb.file). Takes one reference to <db> in every case. WW_OK and *out (caller owns it:
 * ww_rep_free), or WW_ENOMEM with the reason in <err>. */
int ww_rep_create_from_conf(const struct ww_conf *conf, struct ww_urldb *db,
                            const char *appliance_id, struct ww_rep **out, char *err,
                            size_t errlen);

void ww_rep_free(struct ww_rep *rep); /* NULL is a no-op; no lookup may be running */

/* Swaps in a new local database (hot reload): takes ownership of one reference to <db> (NULL
 * removes it); lookups running keep the old one until they finish. Thread-safe. */
void ww_rep_set_urldb(struct ww_rep *rep, struct ww_urldb *db);

/* The rating of canonical URL <canon_url>: local database, then cache (by URL, then
 * "host:<host>"), then the provider unless backed off; server answers are cached for their ttl
 * (else reputation.cache_ttl_s). Always fills <out>; returns WW_OK, or the provider's WW_E* code
 * when it failed (out is then unrated with source FAILURE). Blocks at most the provider's timeout;
 * no allocation except a cache insert, no logging except a provider failure (at most once per
 * minute per kind of failure). Thread-safe. */
int ww_rep_check(struct ww_rep *rep, const char *canon_url, struct ww_rating *out);

void ww_rep_stats(struct ww_rep *rep, struct ww_rep_stats *out);

#endif
