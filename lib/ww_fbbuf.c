/* lib/ww_fbbuf.c - a c-icap child's in-memory feedback buffer (see ww_fbbuf.h). */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww_common.h"
#include "ww_counters.h"
#include "ww_fbbuf.h"
#include "ww_log.h"

struct ww_fbbuf {
    size_t cap;
    /* mu guards the ring and the counters the request threads touch. It is held only for a
     * struct copy or a pointer swap, never across I/O. */
    pthread_mutex_t mu;
    struct ww_feedback_event *ring; /* cap slots; events [head, head + count) modulo cap */
    size_t head, count;
    uint64_t added, dropped, dropped_unsaved;
    /* flush_mu serialises flushes and guards what only the flusher touches: the events taken
     * out of the ring and not yet in the store (spare[off .. off + spare_n), oldest first), and
     * the drops not yet added to the store's counter. */
    pthread_mutex_t flush_mu;
    struct ww_feedback_event *spare; /* cap slots */
    size_t off, spare_n;
    uint64_t drops_to_save, flushed, flush_errors;
};

struct ww_fbbuf *ww_fbbuf_create(size_t cap)
{
    struct ww_fbbuf *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return NULL;
    b->cap = cap > 0 ? cap : WW_FBBUF_DEFAULT_CAP;
    /* calloc: the pages are reserved now but touched only as events arrive. */
    b->ring = calloc(b->cap, sizeof(*b->ring));
    b->spare = calloc(b->cap, sizeof(*b->spare));
    if (b->ring == NULL || b->spare == NULL || pthread_mutex_init(&b->mu, NULL) != 0) {
        free(b->ring);
        free(b->spare);
        free(b);
        return NULL;
    }
    if (pthread_mutex_init(&b->flush_mu, NULL) != 0) {
        pthread_mutex_destroy(&b->mu);
        free(b->ring);
        free(b->spare);
        free(b);
        return NULL;
    }
    return b;
}

void ww_fbbuf_free(struct ww_fbbuf *b)
{
    if (b == NULL)
        return;
    pthread_mutex_destroy(&b->mu);
    pthread_mutex_destroy(&b->flush_mu);
    free(b->ring);
    free(b->spare);
    free(b);
}

void ww_fbbuf_add(struct ww_fbbuf *b, const struct ww_feedback_event *ev)
{
    struct ww_feedback_event *slot;
    time_t now;

    if (b == NULL || ev == NULL)
        return;
    now = ev->at == 0 ? time(NULL) : ev->at; /* outside the lock: may be a system call */
    pthread_mutex_lock(&b->mu);
    if (b->count == b->cap) {
        /* Full: the oldest slot is reused for the newest event. */
        slot = &b->ring[b->head];
        b->head = (b->head + 1) % b->cap;
        b->dropped++;
        b->dropped_unsaved++;
    } else {
        slot = &b->ring[(b->head + b->count) % b->cap];
        b->count++;
    }
    *slot = *ev;
    slot->id = 0;
    slot->at = now;
    b->added++;
    pthread_mutex_unlock(&b->mu);
    ww_ctr_add(WW_CTR_FB_CAPTURED, 1);
}

static void fbbuf_reverse(struct ww_feedback_event *a, size_t n)
{
    struct ww_feedback_event tmp;

    for (size_t i = 0; i < n / 2; i++) {
        tmp = a[i];
        a[i] = a[n - 1 - i];
        a[n - 1 - i] = tmp;
    }
}

/* Takes the ring's events into the (empty) spare array: swaps the two arrays under mu, then,
 * outside it, puts a wrapped sequence in order. Called with flush_mu held and spare_n == 0. */
static void fbbuf_take(struct ww_fbbuf *b)
{
    struct ww_feedback_event *taken;
    size_t head, n;

    pthread_mutex_lock(&b->mu);
    taken = b->ring;
    b->ring = b->spare;
    head = b->head;
    n = b->count;
    b->head = 0;
    b->count = 0;
    b->drops_to_save += b->dropped_unsaved;
    b->dropped_unsaved = 0;
    pthread_mutex_unlock(&b->mu);
    b->spare = taken;
    b->spare_n = n;
    b->off = head;
    if (head + n > b->cap) {
        /* The ring wrapped (it only does after drops): rotate left by <head> so the events
         * are contiguous and oldest first, as one enqueue call needs them. */
        fbbuf_reverse(taken, head);
        fbbuf_reverse(taken + head, b->cap - head);
        fbbuf_reverse(taken, b->cap);
        b->off = 0;
    }
}

int ww_fbbuf_flush(struct ww_fbbuf *b, struct ww_store *st, int max_queued)
{
    int rc = WW_OK;

    if (b == NULL || st == NULL)
        return WW_EINVAL;
    pthread_mutex_lock(&b->flush_mu);
    if (b->spare_n == 0)
        fbbuf_take(b);
    if (b->spare_n > 0) {
        rc = ww_store_feedback_enqueue(st, b->spare + b->off, b->spare_n, max_queued);
        if (rc != WW_OK) {
            b->flush_errors++;
            goto cleanup;
        }
        b->flushed += b->spare_n;
        b->spare_n = 0;
        b->off = 0;
    }
    if (b->drops_to_save > 0) {
        /* Never silently: the drops join the store's counter, shown by webwardenctl status. */
        rc = ww_store_feedback_add_dropped(st, (int64_t)b->drops_to_save);
        if (rc != WW_OK) {
            b->flush_errors++;
            goto cleanup;
        }
        ww_log(WW_LOG_WARN, "feedback: buffer full, %llu oldest events dropped",
               (unsigned long long)b->drops_to_save);
        b->drops_to_save = 0;
    }
cleanup:
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
    pthread_mutex_lock(&b->mu);
    out->buffered = b->count + b->spare_n;
    out->added = b->added;
    out->dropped = b->dropped;
    out->flushed = b->flushed;
    out->flush_errors = b->flush_errors;
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_unlock(&b->flush_mu);
}
