/* lib/ww_blockagg.h - block events without a flood: the URL blocks (and file-type blocks) of one
 * process, aggregated per (source, URL, policy, reason) between two flushes.
 *
 * A block is counted in memory on the request path (one mutex, O(1), no I/O). The 1 s tick of
 * lib/ww_child flushes: the first block of a key is written at once (the admin sees it within a
 * second), later blocks of the same key are summed and written once per <interval_s> as one
 * event with the count and the first and last time; a key quiet for a whole interval is
 * forgotten (its next block is news again). So one URL blocked at any rate gives at most
 * 2 + seconds / interval_s events per child. At most <max_keys> keys are kept; blocks of further
 * keys are counted in one summary event per flush ("N more blocks of M URLs"). */
#ifndef WW_BLOCKAGG_H
#define WW_BLOCKAGG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define WW_BLOCKAGG_KEYS 256 /* keys kept per process between flushes (about 1 MiB) */

/* One aggregated row, handed to the flush callback. */
struct ww_block_row {
    char source[16];  /* "url" (webwarden_url) or "scan" (webwarden_scan) */
    char url[512];    /* cut to fit; "" for the summary of keys that did not fit */
    char policy[64];  /* "default" or the policy's name */
    char reason[160]; /* the block reason ("blocked list entry x", "file type pe blocked ...") */
    uint64_t count;   /* blocks since the last row of this key (>= 1) */
    uint64_t keys;    /* the summary row: how many keys did not fit; else 1 */
    time_t first, last;
};

struct ww_blockagg; /* opaque; thread-safe */

/* An empty aggregator; NULL if out of memory. <interval_s> >= 1; <max_keys> 0 = WW_BLOCKAGG_KEYS.
 * Caller owns it: ww_blockagg_free. */
struct ww_blockagg *ww_blockagg_create(int interval_s, size_t max_keys);
void ww_blockagg_free(struct ww_blockagg *a); /* NULL is a no-op */

/* Counts one block at <now>. Any string may be NULL (""). Thread-safe, no allocation. */
void ww_blockagg_add(struct ww_blockagg *a, const char *source, const char *url, const char *policy,
                     const char *reason, time_t now);

/* Hands <fn> every row due at <now> (a new key, or a key whose interval passed with blocks
 * counted; with <all> every key that has counted blocks: at process exit), then the summary row
 * of keys that did not fit, if any. The rows are copied out first: <fn> runs without the lock
 * and may do I/O. The number of rows handed. Main thread (the tick). */
size_t ww_blockagg_flush(struct ww_blockagg *a, time_t now, int all,
                         void (*fn)(const struct ww_block_row *row, void *arg), void *arg);

/* The event text of <row> (for `webwardenctl events`), e.g.
 *   "blocked http://x/ (policy guests): blocked list entry x"
 *   "blocked http://x/ (policy guests): blocked list entry x: 999 times 23:10:01-23:10:58"
 *   "blocked 52 more times (7 URLs not itemized: too many different URLs in one interval)". */
void ww_blockagg_message(const struct ww_block_row *row, char *out, size_t outlen);

#endif
