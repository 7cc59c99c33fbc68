/* lib/ww_child.h - the per-process runtime both c-icap services share, once: the state store
 * with retry, the 1 s tick, the scan method and pattern hot reload, and the queues that carry
 * request-path news to the store (feedback events and detections) without SQLite on the request
 * path. modules/ww_cicap.c maps c-icap's CHILD_START, CHILD_STOP and ONDEMAND commands to it.
 *
 * Life cycle: ww_child_create() in the monitor (post_init: the signatures are compiled there,
 * before the fork, and shared copy-on-write), ww_child_start() in each child after fork,
 * ww_child_tick() once a second from the child's main thread, ww_child_stop() at child exit,
 * ww_child_free() in mod_close_service (every process). Request threads call only
 * ww_child_feedback_add(), ww_child_detection_add(), ww_child_engine_ref() and
 * ww_child_scan_method(), which never block on I/O. */
#ifndef WW_CHILD_H
#define WW_CHILD_H

#include <stddef.h>
#include <stdint.h>

#include "ww_conf.h"
#include "ww_scan.h"
#include "ww_store.h"

struct ww_child; /* opaque */

#define WW_CHILD_PATTERNS 1u    /* load the signatures, hot-reload the installed pattern */
#define WW_CHILD_SCAN_METHOD 2u /* read the scan method from the store every tick */

#define WW_CHILD_RANGE_MAX 32       /* cut or blocked URLs queued between two ticks */
#define WW_CHILD_DETECTIONS_MAX 128 /* detections queued between two ticks; then oldest go */

/* What the service adds to the runtime; each may be NULL. */
struct ww_child_hooks {
    /* After fork, at the end of ww_child_start(): <st> is the store, or NULL when it did not
     * open (it is retried by the tick). Main thread, store lock held. */
    void (*start)(struct ww_store *st, void *arg);
    /* Every tick with the store open, store lock held, main thread. */
    void (*tick)(struct ww_store *st, void *arg);
    /* In ww_child_stop(), before the queues are flushed: no request runs any more. */
    void (*stop)(void *arg);
    /* A new signature set is in force (also the first, and "none" with zero stats when there is
     * none): version is the installed pattern's, "" for scan.patterns_dir. For the ISTag. */
    void (*engine)(const struct ww_engine_stats *stats, const char *version, void *arg);
    void *arg;
};

/* Makes the runtime of service <svc> ("webwarden_scan", for log lines) on <conf> (borrowed: it
 * must outlive the runtime). With WW_CHILD_PATTERNS the signatures are loaded now: the store's
 * installed pattern, else scan.patterns_dir; no signature at all (patterns_dir "" or a folder
 * without any) is not an error: the runtime starts without an engine, says so in the log, and
 * the tick loads the first pattern an update installs. WW_OK and *out (caller owns it:
 * ww_child_free), or WW_E* with the reason in <err> (a patterns_dir that cannot be read). */
int ww_child_create(const struct ww_conf *conf, const char *svc, unsigned flags,
                    const struct ww_child_hooks *hooks, struct ww_child **out, char *err,
                    size_t errlen);

/* Stops (ww_child_stop) and frees. NULL is a no-op. */
void ww_child_free(struct ww_child *c);

/* After fork: the request counters of /metrics (lib/ww_counters), the feedback buffer (<fb_cap>
 * distinct records, 0 = feedback.max_queued), the store, the
 * first tick's reads, then hooks.start. */
void ww_child_start(struct ww_child *c, size_t fb_cap);

/* At child exit: hooks.stop, then the queued detections and feedback go to the store, which is
 * closed. Idempotent; also right in a process that never started. */
void ww_child_stop(struct ww_child *c);

/* Once a second, main thread: opens the store if it is not (at most one try per 30 s, logged),
 * reads the scan method, writes the queued detections (events and feedback rows) and feedback,
 * runs hooks.tick, then loads a new installed pattern outside the store lock. */
void ww_child_tick(struct ww_child *c);

/* Queues a feedback event for the next tick (bounded, oldest dropped and counted). Thread-safe,
 * O(1). Ignored before ww_child_start(). */
void ww_child_feedback_add(struct ww_child *c, const struct ww_feedback_event *ev);

/* Queues a detection: <cut_after> -1 for a block page, else the bytes that went out before the
 * download was cut. The tick writes it as a warning event and a feedback row. Thread-safe, O(1);
 * when WW_CHILD_DETECTIONS_MAX wait, the oldest is dropped (counted in an event, logged once). */
void ww_child_detection_add(struct ww_child *c, const char *url, const char *threat,
                            int64_t cut_after);
/* The same, and which scanner found it and the body's true type (<via>, e.g.
 * "scanner=clamav type=zip"; NULL: none), named in the event. */
void ww_child_detection_add_via(struct ww_child *c, const char *url, const char *threat,
                                int64_t cut_after, const char *via);

/* The same, naming the request's policy in the event ("... blocked (policy students)");
 * <policy> NULL or "" = none named. */
void ww_child_detection_add_policy(struct ww_child *c, const char *url, const char *threat,
                                   const char *policy, int64_t cut_after);
/* Both: the request's policy (NULL: none named) and which scanner found it ("scanner=clamav
 * type=zip", NULL: not said); the event names both, and the feedback row carries the scanner
 * (NAME of "scanner=NAME": fast, clamav or smart; "-" is none). */
void ww_child_detection_add_full(struct ww_child *c, const char *url, const char *threat,
                                 const char *policy, const char *via, int64_t cut_after);

/* Resumed downloads (issue 12, lib/ww_range.h). Remembers that <url> was cut or blocked (with
 * the response's ETag and Last-Modified, NULL = none): queued, written to the store (table
 * range_memory, shared by every child) by the next tick. Thread-safe, no I/O. */
void ww_child_range_remember(struct ww_child *c, const char *url, const char *threat,
                             const char *etag, const char *last_modified);
/* Was <url> cut or blocked within WW_RANGE_TTL_S, by this child (queued) or any (store)? 1 (with
 * the row in <out>, NULL = not wanted), 0, or -1: unknown (the store is not open or failed).
 * Request threads; reads the store under its lock: call it only for a partial response. */
int ww_child_range_lookup(struct ww_child *c, const char *url, struct ww_range_memo *out);

/* The scan method last read from the store (conventional until the first read). Thread-safe. */
enum ww_scan_method ww_child_scan_method(const struct ww_child *c);

/* A reference to the signatures in force (caller releases it: ww_engine_unref), or NULL while
 * there is none (scan.no_patterns_action applies). A scan keeps its reference, so a reload never
 * pulls the engine from under it. Thread-safe. */
struct ww_engine *ww_child_engine_ref(struct ww_child *c);

/* The pattern version in force: the installed pattern's, "" for scan.patterns_dir, "none" when
 * there is no signature. Main thread (the tick writes it). */
const char *ww_child_pattern_version(const struct ww_child *c);

/* "pattern V, H hash and B body signatures from F files (S skipped)" for the log: V is the
 * pattern version in force, or <dir> (scan.patterns_dir) when it is "". Main thread. */
void ww_child_engine_describe(struct ww_child *c, const char *dir, char *out, size_t outlen);

#endif
