/* lib/ww_fbbuf.h - a c-icap child's in-memory feedback buffer: request threads append rated
 * lookups, the child's 1 s tick moves them into the state store's queue in one transaction.
 *
 * Appends are O(1), take one short mutex and never allocate, so the request path never waits
 * for SQLite. The buffer is bounded: when it is full the oldest event is overwritten and counted
 * (the count reaches the store's feedback_dropped counter at the next good flush, so
 * `webwardenctl status` shows it). */
#ifndef WW_FBBUF_H
#define WW_FBBUF_H

#include <stddef.h>
#include <stdint.h>

#include "ww_store.h"

/* Events a child keeps between flushes unless the caller picks another bound (about 2.5 KiB
 * each: the memory is reserved once, at create, for two arrays of this many). */
#define WW_FBBUF_DEFAULT_CAP 1024

struct ww_fbbuf; /* opaque */

struct ww_fbbuf_stats {
    size_t buffered;       /* waiting in memory (appended and not yet in the store) */
    uint64_t added;        /* ww_fbbuf_add calls */
    uint64_t dropped;      /* overwritten (oldest first) because the buffer was full */
    uint64_t flushed;      /* moved into the store */
    uint64_t flush_errors; /* flushes the store refused (events kept for the next one) */
};

/* A buffer of <cap> events (0 = WW_FBBUF_DEFAULT_CAP); NULL if out of memory. The caller owns it:
 * ww_fbbuf_free() (after the threads using it stopped). */
struct ww_fbbuf *ww_fbbuf_create(size_t cap);
void ww_fbbuf_free(struct ww_fbbuf *b); /* NULL is a no-op */

/* Copies <ev> into the buffer (its id is ignored; an <at> of 0 is stamped with the current
 * time). When full, the oldest buffered event is dropped and counted. Thread-safe, O(1), never
 * blocks on I/O. NULL arguments are ignored. */
void ww_fbbuf_add(struct ww_fbbuf *b, const struct ww_feedback_event *ev);

/* Moves the buffered events into <st> with one ww_store_feedback_enqueue() transaction (bounded
 * by <max_queued>, see there). Appends go on meanwhile: the buffer is swapped out under the
 * mutex and written outside it. On a store error the events stay in memory and the next flush
 * writes them first (a flush that still has such events writes only those, so each flush is one
 * transaction); new events keep arriving in the other half, bounded and counted as above.
 * WW_OK (also when there was nothing to do) or the store's error. Thread-safe: concurrent
 * flushes take turns. Blocks at most the store's busy timeout. */
int ww_fbbuf_flush(struct ww_fbbuf *b, struct ww_store *st, int max_queued);

/* Counters since create. Thread-safe. */
void ww_fbbuf_stats(struct ww_fbbuf *b, struct ww_fbbuf_stats *out);

#endif
