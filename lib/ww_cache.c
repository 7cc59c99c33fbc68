/* lib/ww_cache.c - bounded LRU + TTL cache: chained hash table + doubly linked list. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ww_cache.h"
#include "ww_clock.h"
#include "ww_common.h"

struct cache_entry {
    struct cache_entry *hnext;       /* hash chain */
    struct cache_entry *prev, *next; /* LRU list: head = most recent */
    uint64_t hash;
    int64_t expires_ms;
    size_t key_len;
    /* value_size bytes of value, then the NUL-terminated key */
    unsigned char data[];
};

struct ww_cache {
    pthread_mutex_t lock;
    struct cache_entry **buckets;
    size_t nbuckets; /* power of two */
    struct cache_entry *head, *tail;
    size_t entries, max_entries, value_size;
    uint64_t seed; /* random per cache: URLs are chosen by clients, keep chains unpredictable */
    uint64_t hits, misses, evictions, expired;
};

int64_t ww_cache_now_ms(void)
{
    return ww_clock_ms();
}

/* FNV-1a over the key, seeded, with a final avalanche so the low bits (the bucket) depend on
 * every byte. Not cryptographic; the random seed is what defeats precomputed collisions. */
static uint64_t cache_hash(uint64_t seed, const char *key, size_t *len_out)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    const unsigned char *p = (const unsigned char *)key;

    for (; *p != '\0'; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    *len_out = (size_t)(p - (const unsigned char *)key);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static const char *entry_key(const struct ww_cache *c, const struct cache_entry *e)
{
    return (const char *)e->data + c->value_size;
}

struct ww_cache *ww_cache_create(size_t max_entries, size_t value_size)
{
    struct ww_cache *c;
    size_t n = 16;

    if (max_entries == 0 || value_size == 0)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    while (n < max_entries && n < ((size_t)1 << 30))
        n <<= 1;
    c->buckets = calloc(n, sizeof(*c->buckets));
    if (c->buckets == NULL) {
        free(c);
        return NULL;
    }
    c->nbuckets = n;
    c->max_entries = max_entries;
    c->value_size = value_size;
    if (getrandom(&c->seed, sizeof(c->seed), GRND_NONBLOCK) != (ssize_t)sizeof(c->seed))
        c->seed = (uint64_t)ww_cache_now_ms() * 0x9e3779b97f4a7c15ULL ^ (uintptr_t)c;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void cache_unlink(struct ww_cache *c, struct cache_entry *e)
{
    struct cache_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    c->entries--;
    free(e);
}

static void cache_to_front(struct ww_cache *c, struct cache_entry *e)
{
    if (c->head == e)
        return;
    e->prev->next = e->next; /* e is not the head, so it has a prev */
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = NULL;
    e->next = c->head;
    c->head->prev = e;
    c->head = e;
}

static struct cache_entry *cache_find(struct ww_cache *c, const char *key, uint64_t hash,
                                      size_t len)
{
    struct cache_entry *e = c->buckets[hash & (c->nbuckets - 1)];

    for (; e != NULL; e = e->hnext)
        if (e->hash == hash && e->key_len == len && memcmp(entry_key(c, e), key, len) == 0)
            return e;
    return NULL;
}

void ww_cache_free(struct ww_cache *c)
{
    if (c == NULL)
        return;
    while (c->head != NULL) {
        struct cache_entry *next = c->head->next;
        free(c->head);
        c->head = next;
    }
    pthread_mutex_destroy(&c->lock);
    free(c->buckets);
    free(c);
}

int ww_cache_get_at(struct ww_cache *c, const char *key, void *value_out, int64_t now_ms)
{
    size_t len;
    uint64_t hash = cache_hash(c->seed, key, &len);
    int rc = WW_ENOTFOUND;

    pthread_mutex_lock(&c->lock);
    struct cache_entry *e = cache_find(c, key, hash, len);
    if (e != NULL && e->expires_ms <= now_ms) {
        cache_unlink(c, e);
        c->expired++;
        e = NULL;
    }
    if (e != NULL) {
        cache_to_front(c, e);
        memcpy(value_out, e->data, c->value_size);
        c->hits++;
        rc = WW_OK;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int ww_cache_get(struct ww_cache *c, const char *key, void *value_out)
{
    return ww_cache_get_at(c, key, value_out, ww_cache_now_ms());
}

int ww_cache_put_at(struct ww_cache *c, const char *key, const void *value, int ttl_s,
                    int64_t now_ms)
{
    size_t len;
    uint64_t hash = cache_hash(c->seed, key, &len);
    struct cache_entry *fresh = NULL;

    /* Allocate outside the lock: other threads keep reading meanwhile. */
    if (ttl_s > 0) {
        fresh = malloc(sizeof(*fresh) + c->value_size + len + 1);
        if (fresh == NULL)
            return WW_ENOMEM;
        fresh->hash = hash;
        fresh->key_len = len;
        fresh->expires_ms = now_ms + (int64_t)ttl_s * 1000;
        memcpy(fresh->data, value, c->value_size);
        memcpy(fresh->data + c->value_size, key, len + 1);
    }
    pthread_mutex_lock(&c->lock);
    struct cache_entry *old = cache_find(c, key, hash, len);
    if (old != NULL)
        cache_unlink(c, old);
    if (fresh != NULL) {
        while (c->entries >= c->max_entries && c->tail != NULL) {
            cache_unlink(c, c->tail);
            c->evictions++;
        }
        struct cache_entry **bucket = &c->buckets[hash & (c->nbuckets - 1)];
        fresh->hnext = *bucket;
        *bucket = fresh;
        fresh->prev = NULL;
        fresh->next = c->head;
        if (c->head != NULL)
            c->head->prev = fresh;
        else
            c->tail = fresh;
        c->head = fresh;
        c->entries++;
    }
    pthread_mutex_unlock(&c->lock);
    return WW_OK;
}

int ww_cache_put(struct ww_cache *c, const char *key, const void *value, int ttl_s)
{
    return ww_cache_put_at(c, key, value, ttl_s, ww_cache_now_ms());
}

void ww_cache_clear(struct ww_cache *c)
{
    pthread_mutex_lock(&c->lock);
    while (c->head != NULL)
        cache_unlink(c, c->head);
    pthread_mutex_unlock(&c->lock);
}

void ww_cache_stats(struct ww_cache *c, struct ww_cache_stats *out)
{
    pthread_mutex_lock(&c->lock);
    out->hits = c->hits;
    out->misses = c->misses;
    out->evictions = c->evictions;
    out->expired = c->expired;
    out->entries = c->entries;
    out->max_entries = c->max_entries;
    pthread_mutex_unlock(&c->lock);
}
