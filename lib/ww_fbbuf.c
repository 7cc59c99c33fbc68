/* lib/ww_fbbuf.c - a c-icap child's aggregating feedback buffer (see ww_fbbuf.h).
 *
 * Why sharded hash tables and not a ring of events: at tens of thousands of lookups a second a
 * child sees the same few hundred URLs over and over; one record per URL turns a row per lookup
 * into a row per URL and second, and a mutex per shard (not one for the buffer) lets the
 * request threads record in parallel. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww_common.h"
#include "ww_counters.h"
#include "ww_fbbuf.h"
#include "ww_log.h"

#define FB_BUCKETS 1024 /* per shard: 64 K chains in all */
#define FB_FLUSH_CHUNK 256

/* One URL and action. The strings live after the struct: url, then categories, then threat. */
struct fb_rec {
    struct fb_rec *next;
    uint64_t hash, seq; /* seq: order of first sight, kept by the flush */
    int64_t count;
    time_t first, last;
    int score;
    char action[8];
    char scanner[16]; /* of <threat>: both from the first sight */
    char *categories, *threat;
    char url[];
};

struct fb_shard {
    pthread_mutex_t mu; /* guards the chains and <added>; held for a lookup, never across I/O */
    uint64_t added;     /* ww_fbbuf_add calls that hashed here: on the mutex's cache line, not
                           a buffer-wide atomic that every request thread would write */
    struct fb_rec *bucket[FB_BUCKETS];
} __attribute__((aligned(64)));

struct ww_fbbuf {
    size_t cap;
    atomic_size_t nrec; /* records in the shards (touched only for new records) */
    atomic_uint_fast64_t seq, dropped, dropped_unsaved;
    struct fb_shard shard[WW_FBBUF_SHARDS];
    /* flush_mu serialises flushes and guards what only the flusher touches: records taken out
     * of the shards and not yet in the store (kept[off .. n), first seen first), and the drops
     * not yet added to the store's counter. */
    pthread_mutex_t flush_mu;
    struct fb_rec **kept;
    size_t kept_off, kept_n;
    uint64_t drops_to_save, flushed, flush_errors;
};

struct ww_fbbuf *ww_fbbuf_create(size_t cap)
{
    struct ww_fbbuf *b = calloc(1, sizeof(*b));
    size_t i;

    if (b == NULL)
        return NULL;
    b->cap = cap > 0 ? cap : WW_FBBUF_DEFAULT_CAP;
    for (i = 0; i < WW_FBBUF_SHARDS; i++)
        if (pthread_mutex_init(&b->shard[i].mu, NULL) != 0)
            break;
    if (i < WW_FBBUF_SHARDS || pthread_mutex_init(&b->flush_mu, NULL) != 0) {
        while (i-- > 0)
            pthread_mutex_destroy(&b->shard[i].mu);
        free(b);
        return NULL;
    }
    return b;
}

static void fb_free_chain(struct fb_rec *r)
{
    while (r != NULL) {
        struct fb_rec *next = r->next;
        free(r);
        r = next;
    }
}

void ww_fbbuf_free(struct ww_fbbuf *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < WW_FBBUF_SHARDS; i++) {
        for (size_t k = 0; k < FB_BUCKETS; k++)
            fb_free_chain(b->shard[i].bucket[k]);
        pthread_mutex_destroy(&b->shard[i].mu);
    }
    for (size_t i = b->kept_off; i < b->kept_n; i++)
        free(b->kept[i]);
    free(b->kept);
    pthread_mutex_destroy(&b->flush_mu);
    free(b);
}

static uint64_t fb_mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 32);
}

/* Over the URL and the action, 8 bytes a step (byte-wise FNV-1a was a multiply per byte, in
 * one dependency chain), then murmur3's finaliser: the low bits pick the shard and the chain.
 * Only placement depends on it; records are compared whole. */
static uint64_t fb_hash(const char *url, size_t ulen, const char *action)
{
    uint64_t h = 0x243f6a8885a308d3ULL ^ ulen, w;
    size_t i = 0, alen = strnlen(action, sizeof(((struct fb_rec *)0)->action) - 1);

    for (; i + 8 <= ulen; i += 8) {
        memcpy(&w, url + i, 8);
        h = fb_mix(h, w);
    }
    w = 0;
    memcpy(&w, url + i, ulen - i);
    h = fb_mix(h, w);
    w = 0;
    memcpy(&w, action, alen);
    h = fb_mix(h, w);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static struct fb_rec *fb_rec_new(const struct ww_feedback_event *ev, size_t ulen, uint64_t h)
{
    size_t clen = strnlen(ev->categories, sizeof(ev->categories) - 1);
    size_t tlen = strnlen(ev->threat, sizeof(ev->threat) - 1);
    struct fb_rec *r = malloc(sizeof(*r) + ulen + 1 + sizeof(ev->categories) + tlen + 1);

    if (r == NULL)
        return NULL;
    r->hash = h;
    r->count = 0;
    memcpy(r->url, ev->url, ulen);
    r->url[ulen] = '\0';
    /* categories get their full field: a later lookup may bring longer ones */
    r->categories = r->url + ulen + 1;
    memcpy(r->categories, ev->categories, clen);
    r->categories[clen] = '\0';
    r->threat = r->categories + sizeof(ev->categories);
    memcpy(r->threat, ev->threat, tlen);
    r->threat[tlen] = '\0';
    snprintf(r->action, sizeof(r->action), "%s", ev->action);
    snprintf(r->scanner, sizeof(r->scanner), "%s", ev->scanner);
    return r;
}

void ww_fbbuf_add(struct ww_fbbuf *b, const struct ww_feedback_event *ev)
{
    struct fb_shard *sh;
    struct fb_rec **slot, *r;
    size_t ulen;
    uint64_t h;
    time_t now;

    if (b == NULL || ev == NULL)
        return;
    now = ev->at == 0 ? time(NULL) : ev->at; /* outside the lock: may be a system call */
    ulen = strnlen(ev->url, sizeof(ev->url) - 1);
    h = fb_hash(ev->url, ulen, ev->action);
    sh = &b->shard[h % WW_FBBUF_SHARDS];
    slot = &sh->bucket[(h / WW_FBBUF_SHARDS) % FB_BUCKETS];
    /* The chain's head is a cache miss (64 K heads, 512 KB): its load overlaps the lock's. */
    __builtin_prefetch(slot);
    ww_ctr_add(WW_CTR_FB_CAPTURED, 1);
    pthread_mutex_lock(&sh->mu);
    sh->added++;
    for (r = *slot; r != NULL; r = r->next)
        if (r->hash == h && strcmp(r->action, ev->action) == 0 &&
            strncmp(r->url, ev->url, ulen) == 0 && r->url[ulen] == '\0')
            break;
    if (r == NULL) {
        /* Full: the new URL is the one dropped (records already held keep counting). */
        if (atomic_load_explicit(&b->nrec, memory_order_relaxed) >= b->cap ||
            (r = fb_rec_new(ev, ulen, h)) == NULL) {
            pthread_mutex_unlock(&sh->mu);
            atomic_fetch_add_explicit(&b->dropped, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&b->dropped_unsaved, 1, memory_order_relaxed);
            return;
        }
        atomic_fetch_add_explicit(&b->nrec, 1, memory_order_relaxed);
        r->seq = atomic_fetch_add_explicit(&b->seq, 1, memory_order_relaxed);
        r->first = now;
        r->last = now;
        r->next = *slot;
        *slot = r;
    }
    r->count += ev->count > 0 ? ev->count : 1;
    if (now > r->last)
        r->last = now;
    if (now < r->first)
        r->first = now;
    r->score = ev->score;
    if (strcmp(r->categories, ev->categories) != 0)
        snprintf(r->categories, sizeof(ev->categories), "%s", ev->categories);
    pthread_mutex_unlock(&sh->mu);
}

static int fb_seq_cmp(const void *a, const void *b)
{
    const struct fb_rec *x = *(struct fb_rec *const *)a, *y = *(struct fb_rec *const *)b;

    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Takes the records out of the shards into b->kept (empty before), first seen first. Only
 * records first seen before the flush began are taken (seq below the counter read first): with
 * that cut, a record is never written ahead of one seen before it, whatever shard each is in.
 * Called with flush_mu held. WW_OK or WW_ENOMEM (then the records stay in the shards). */
static int fb_take(struct ww_fbbuf *b)
{
    uint64_t limit = atomic_load(&b->seq);
    size_t want = atomic_load(&b->nrec) + 1, n = 0; /* >= the records below limit */
    struct fb_rec **arr;

    arr = malloc(want * sizeof(*arr));
    if (arr == NULL)
        return WW_ENOMEM;
    for (size_t i = 0; i < WW_FBBUF_SHARDS; i++) {
        struct fb_shard *sh = &b->shard[i];
        pthread_mutex_lock(&sh->mu);
        for (size_t k = 0; k < FB_BUCKETS; k++) {
            struct fb_rec **slot = &sh->bucket[k];
            while (*slot != NULL) {
                struct fb_rec *r = *slot;
                if (r->seq >= limit || n == want) {
                    slot = &r->next; /* newer than the flush: the next one takes it */
                    continue;
                }
                *slot = r->next;
                arr[n++] = r;
            }
        }
        pthread_mutex_unlock(&sh->mu);
    }
    atomic_fetch_sub(&b->nrec, n);
    b->drops_to_save += atomic_exchange(&b->dropped_unsaved, 0);
    qsort(arr, n, sizeof(*arr), fb_seq_cmp);
    free(b->kept);
    b->kept = arr;
    b->kept_off = 0;
    b->kept_n = n;
    return WW_OK;
}

static void fb_to_event(const struct fb_rec *r, struct ww_feedback_event *e)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->url, sizeof(e->url), "%s", r->url);
    e->score = r->score;
    snprintf(e->categories, sizeof(e->categories), "%s", r->categories);
    snprintf(e->action, sizeof(e->action), "%s", r->action);
    snprintf(e->threat, sizeof(e->threat), "%s", r->threat);
    snprintf(e->scanner, sizeof(e->scanner), "%s", r->scanner);
    e->at = r->last;
    e->first_seen = r->first;
    e->count = r->count;
}

int ww_fbbuf_flush(struct ww_fbbuf *b, struct ww_store *st, int max_queued)
{
    struct ww_feedback_event *ev = NULL;
    int rc = WW_OK;

    if (b == NULL || st == NULL)
        return WW_EINVAL;
    pthread_mutex_lock(&b->flush_mu);
    if (b->kept_off == b->kept_n) {
        rc = fb_take(b);
        if (rc != WW_OK)
            goto cleanup;
    }
    if (b->kept_off < b->kept_n) {
        ev = malloc(FB_FLUSH_CHUNK * sizeof(*ev));
        if (ev == NULL) {
            rc = WW_ENOMEM;
            goto cleanup;
        }
    }
    while (b->kept_off < b->kept_n) {
        size_t n = b->kept_n - b->kept_off;

        if (n > FB_FLUSH_CHUNK)
            n = FB_FLUSH_CHUNK;
        for (size_t i = 0; i < n; i++)
            fb_to_event(b->kept[b->kept_off + i], &ev[i]);
        rc = ww_store_feedback_enqueue(st, ev, n, max_queued);
        if (rc != WW_OK) {
            b->flush_errors++;
            goto cleanup;
        }
        for (size_t i = 0; i < n; i++)
            free(b->kept[b->kept_off + i]);
        b->kept_off += n;
        b->flushed += n;
    }
    if (b->drops_to_save > 0) {
        /* Never silently: the drops join the store's counter, shown by webwardenctl status. */
        rc = ww_store_feedback_add_dropped(st, (int64_t)b->drops_to_save);
        if (rc != WW_OK) {
            b->flush_errors++;
            goto cleanup;
        }
        ww_log(WW_LOG_WARN,
               "feedback: buffer full (%zu distinct URLs), %llu lookups of new URLs dropped",
               b->cap, (unsigned long long)b->drops_to_save);
        b->drops_to_save = 0;
    }
cleanup:
    free(ev);
    pthread_mutex_unlock(&b->flush_mu);
    return rc;
}

void ww_fbbuf_stats(struct ww_fbbuf *b, struct ww_fbbuf_stats *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof(*out));
    if (b == NULL)
        return;
    pthread_mutex_lock(&b->flush_mu);
    out->buffered = atomic_load(&b->nrec) + (b->kept_n - b->kept_off);
    for (size_t i = 0; i < WW_FBBUF_SHARDS; i++) {
        pthread_mutex_lock(&b->shard[i].mu);
        out->added += b->shard[i].added;
        pthread_mutex_unlock(&b->shard[i].mu);
    }
    out->dropped = atomic_load(&b->dropped);
    out->flushed = b->flushed;
    out->flush_errors = b->flush_errors;
    pthread_mutex_unlock(&b->flush_mu);
}
