/* lib/ww_fbbuf.h - a c-icap child's in-memory feedback buffer: request threads record rated
 * lookups, the child's 1 s tick moves them into the state store's queue.
 *
 * Lookups are aggregated: one record per URL and action, with a count and the first and last
 * time seen, so a busy child writes as many rows a second as it saw distinct URLs, not one per
 * request. A record goes into one of WW_FBBUF_SHARDS hash tables picked by the URL's hash, each
 * with its own mutex: threads meet on a lock only when their URLs share a shard, never all on
 * one. A repeat is a lookup and an increment; a new URL allocates its record once.
 *
 * The buffer is bounded in distinct records (<cap>): a new URL arriving when it is full is
 * dropped and counted (the count reaches the store's feedback_dropped counter at the next good
 * flush, so `webwardenctl status` and /metrics show it); repeats of recorded URLs still count. */
#ifndef WW_FBBUF_H
#define WW_FBBUF_H

#include <stddef.h>
#include <stdint.h>

#include "ww_store.h"

/* Distinct records a child keeps between flushes unless the caller picks another bound. */
#define WW_FBBUF_DEFAULT_CAP 1024
/* Hash tables (each with its mutex) the records are spread over. */
#define WW_FBBUF_SHARDS 64

struct ww_fbbuf; /* opaque */

struct ww_fbbuf_stats {
    size_t buffered;       /* distinct records in memory (recorded, not yet in the store) */
    uint64_t added;        /* ww_fbbuf_add calls (lookups recorded or dropped) */
    uint64_t dropped;      /* lookups dropped: a new URL while the buffer was full */
    uint64_t flushed;      /* records moved into the store */
    uint64_t flush_errors; /* flushes the store refused (records kept for the next one) */
};

/* A buffer of at most <cap> distinct records (0 = WW_FBBUF_DEFAULT_CAP); NULL if out of memory.
 * The caller owns it: ww_fbbuf_free() (after the threads using it stopped). */
struct ww_fbbuf *ww_fbbuf_create(size_t cap);
void ww_fbbuf_free(struct ww_fbbuf *b); /* NULL is a no-op */

/* Records <ev> (its id is ignored; count <= 0 counts 1; an <at> of 0 is stamped with the current
 * time): adds to the record of the same URL and action (last seen, newest score and
 * categories), or makes one. When the buffer is full a new URL is dropped and counted.
 * Thread-safe, O(1) on average, never blocks on I/O; allocates only for a new record. NULL
 * arguments are ignored. */
void ww_fbbuf_add(struct ww_fbbuf *b, const struct ww_feedback_event *ev);

/* Moves the buffered records into <st> (ww_store_feedback_enqueue, bounded by <max_queued>; in
 * the order their URLs were first seen), in transactions of up to 256 records. Appends go on
 * meanwhile: each table is emptied under its mutex and written outside it. On a store error the
 * records not written stay in memory and the next flush writes them first (and only them); new
 * records keep arriving, bounded and counted as above. WW_OK (also when there was nothing to
 * do) or the store's error. Thread-safe: concurrent flushes take turns. Blocks at most the
 * store's busy timeout per transaction. */
int ww_fbbuf_flush(struct ww_fbbuf *b, struct ww_store *st, int max_queued);

/* Counters since create. Thread-safe. */
void ww_fbbuf_stats(struct ww_fbbuf *b, struct ww_fbbuf_stats *out);

#endif
