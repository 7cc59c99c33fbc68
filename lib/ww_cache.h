/* lib/ww_cache.h - bounded LRU + TTL cache of fixed-size values keyed by string, shared by the
 * threads of a process (reputation answers by canonical URL or "host:<host>"; file verdicts).
 *
 * Every operation is O(1) (hash table + doubly linked LRU list) under one mutex. Values are
 * copied in and out, so nothing handed out can dangle. Time is CLOCK_MONOTONIC milliseconds;
 * the _at variants take it explicitly (tests). */
#ifndef WW_CACHE_H
#define WW_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct ww_cache; /* opaque */

struct ww_cache_stats {
    uint64_t hits;
    uint64_t misses;    /* absent or expired */
    uint64_t evictions; /* pushed out by the bound (LRU) */
    uint64_t expired;   /* found past their TTL (counted in misses too) */
    size_t entries;     /* held now */
    size_t max_entries;
};

/* A cache of at most <max_entries> values of <value_size> bytes; NULL if out of memory or an
 * argument is 0. The caller owns it: ww_cache_free(). */
struct ww_cache *ww_cache_create(size_t max_entries, size_t value_size);
void ww_cache_free(struct ww_cache *c); /* NULL is a no-op */

/* WW_OK and the value copied to <value_out> (value_size bytes) if <key> is held and not
 * expired (and it becomes the most recently used); WW_ENOTFOUND otherwise (an expired entry is
 * dropped). Thread-safe. */
int ww_cache_get(struct ww_cache *c, const char *key, void *value_out);
int ww_cache_get_at(struct ww_cache *c, const char *key, void *value_out, int64_t now_ms);

/* Stores a copy of <value> under <key> for <ttl_s> seconds (<= 0: not stored, an existing entry
 * is removed), replacing any entry for the key and evicting the least recently used one when
 * full. WW_OK or WW_ENOMEM. Thread-safe. */
int ww_cache_put(struct ww_cache *c, const char *key, const void *value, int ttl_s);
int ww_cache_put_at(struct ww_cache *c, const char *key, const void *value, int ttl_s,
                    int64_t now_ms);

/* Drops every entry (counters kept). Thread-safe. */
void ww_cache_clear(struct ww_cache *c);

void ww_cache_stats(struct ww_cache *c, struct ww_cache_stats *out);

/* CLOCK_MONOTONIC in milliseconds, the clock of ww_cache_get()/put(). */
int64_t ww_cache_now_ms(void);

#endif
