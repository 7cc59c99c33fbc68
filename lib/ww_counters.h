/* lib/ww_counters.h - request-path counters of c-icap's children, shared with webwardend
 * through a small memory-mapped file, so a scrape of /metrics costs the request path nothing.
 *
 * The file ("<state.database>.counters", made by whichever process attaches first) holds a
 * header and WW_COUNTERS_SLOTS slots of WW_CTR_N 64-bit counters. Each process that counts (one
 * per module copy in a c-icap child) claims a slot of its own with a compare-and-swap of the
 * slot's owner pid, taking over the slot of a dead process with its values, so totals only grow
 * while the file lives. A request adds with one relaxed atomic increment into its process's slot:
 * O(1), no lock, no system call. webwardend sums the slots at scrape time.
 *
 * The counters are process-wide (a hidden global per copy of the library): lib functions count
 * with ww_ctr_add() without a handle being passed around; before ww_counters_attach() (tests,
 * webwardenctl) it does nothing. */
#ifndef WW_COUNTERS_H
#define WW_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

/* Slots in the file: c-icap children over the service's life, two modules each. */
#define WW_COUNTERS_SLOTS 512

/* Upper bounds (seconds) of the scan-latency histogram's buckets; the last bucket is +Inf. */
#define WW_SCAN_LAT_BOUNDS 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
#define WW_SCAN_LAT_NBOUNDS 12

/* Append only (the file's layout version changes with this list: WW_COUNTERS_LAYOUT). */
enum ww_ctr {
    /* ICAP requests answered, by service and action */
    WW_CTR_URL_ALLOW,
    WW_CTR_URL_BLOCK,
    WW_CTR_SCAN_CLEAN,     /* clean: passed after a full scan */
    WW_CTR_SCAN_BLOCK,     /* infected: block page or download cut */
    WW_CTR_SCAN_UNSCANNED, /* passed without a full scan (size, decode, budget) */
    WW_CTR_SCAN_BYTES,     /* body bytes through the pattern engine */
    /* detections by scanner */
    WW_CTR_DETECT_SIGNATURE, /* pattern engine (hash and body signatures) */
    WW_CTR_DETECT_SMART,     /* smart protection server */
    /* reputation lookups by where the answer came from */
    WW_CTR_REP_LOCALDB,
    WW_CTR_REP_CACHE,
    WW_CTR_REP_SERVER_OK,
    WW_CTR_REP_SERVER_FAILED, /* every failure, timeouts included */
    WW_CTR_REP_TIMEOUT,
    WW_CTR_REP_BACKOFF, /* answered "unrated" at once: back-off in force */
    /* smart-scan lookups */
    WW_CTR_SMART_OK,
    WW_CTR_SMART_FAILED,
    WW_CTR_SMART_TIMEOUT,
    /* feedback capture in the children (lib/ww_fbbuf): lookups recorded */
    WW_CTR_FB_CAPTURED,
    /* scan latency: sum in microseconds, then one count per bucket (WW_SCAN_LAT_NBOUNDS + 1) */
    WW_CTR_SCAN_LAT_SUM_US,
    WW_CTR_SCAN_LAT_BUCKET0,
    WW_CTR_SCAN_LAT_BUCKET_LAST = WW_CTR_SCAN_LAT_BUCKET0 + WW_SCAN_LAT_NBOUNDS,
    /* layout 2: detections by the deep scanner (libclamav), beside DETECT_SIGNATURE/_SMART */
    WW_CTR_DETECT_CLAMAV,
    /* layout 3: unscanned answers by why (enum ww_unscanned from WW_UNSCANNED_SIZE on, in its
     * order; the sum is WW_CTR_SCAN_UNSCANNED) */
    WW_CTR_UNSCANNED_FIRST,
    WW_CTR_UNSCANNED_LAST = WW_CTR_UNSCANNED_FIRST + 11,
    WW_CTR_N
};

/* "<db_path>.counters" into <out>. WW_OK or WW_ETOOBIG. */
int ww_counters_path(const char *db_path, char *out, size_t len);

/* Maps <path> (created 0660 and sized if missing) and claims a slot for this process. Call
 * once per process (after fork); a second call while attached is a no-op. WW_OK, WW_EIO with
 * the reason in <err> (then counting stays off: requests never fail for it), WW_EBUSY when all
 * slots belong to live processes. */
int ww_counters_attach(const char *path, char *err, size_t errlen);
/* Unmaps (the slot keeps its values for the process that takes it over). */
void ww_counters_detach(void);

/* Adds <n> to counter <c> of this process's slot; a no-op when not attached. Thread-safe,
 * lock-free, O(1). */
void ww_ctr_add(enum ww_ctr c, uint64_t n);
/* One scan's latency into the histogram (and its sum). */
void ww_ctr_scan_latency_us(uint64_t us);
/* A RESPMOD answer: <action> "allow" (clean), "block" or "unscanned", and the latency since
 * <t0> (CLOCK_MONOTONIC, the request's start) into the histogram. */
struct timespec;
void ww_ctr_scan_done(const char *action, const struct timespec *t0);
/* A reputation server call's result (WW_OK, WW_ETIMEOUT, other errors). */
void ww_ctr_rep_result(int rc);
/* A smart-scan server call's result, and whether it found malware. */
void ww_ctr_smart_result(int rc, int malicious);
/* Opens "<db_path>.counters" for this process; logs a warning (once) when it cannot. */
void ww_counters_attach_db(const char *db_path);

/* Sums every slot of the file <path> into <out>[WW_CTR_N]. WW_OK; WW_ENOTFOUND (all zeros)
 * when no child created the file yet; WW_EIO / WW_EINVAL (not a counters file of this layout)
 * with the reason in <err>. Reads only: safe beside the writers. */
int ww_counters_read(const char *path, uint64_t *out, char *err, size_t errlen);

#endif
