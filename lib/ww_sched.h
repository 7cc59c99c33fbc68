/* lib/ww_sched.h - the one scheduler of webwardend's periodic jobs (feedback, health, update...).
 *
 * Jobs run one after another in the caller's thread (the daemon's main loop), never in parallel:
 * they share one store handle and the daemon stays a single-threaded program. Each job has its own
 * interval, a random jitter of up to 10% of the interval (so a fleet of appliances does not call
 * the cloud in step), and its own timeout. A job is cooperative: it asks ww_sched_time_left_ms()
 * how long it may still take (for curl timeouts and progress callbacks) and gives up at 0, which
 * is also what it gets as soon as the daemon is asked to stop.
 *
 * After every run the scheduler records in the store's key/value table:
 *   job.<name>.last_run  unix time the run started
 *   job.<name>.next_run  unix time of the next run
 *   job.<name>.result    one line of text from the job
 *   job.<name>.ok        1 if the job returned WW_OK, else 0
 * and `webwardenctl status` shows them (ww_sched_status_get). */
#ifndef WW_SCHED_H
#define WW_SCHED_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct ww_store;
struct ww_sched; /* opaque */

/* A job: writes one line for humans into <result> (at most <len> bytes with the NUL) and returns
 * WW_OK or a negative WW_E*. <ctx> is what was given to ww_sched_add(), borrowed. */
typedef int (*ww_sched_job_fn)(void *ctx, char *result, size_t len);

/* Clock returning unix seconds; tests inject their own. */
typedef time_t (*ww_sched_clock_fn)(void *arg);

#define WW_SCHED_NAME_MAX 32
#define WW_SCHED_RESULT_MAX 256
#define WW_SCHED_MAX_JOBS 16

/* A scheduler recording into <st> (borrowed for the scheduler's life; NULL = record nothing, for
 * tests). <clock> NULL = time(). <seed> feeds the jitter; 0 = seed from the pid and the time.
 * <stop> (borrowed; may be NULL) is the flag a signal handler sets: when it is non-zero, running
 * jobs get 0 ms left and ww_sched_run_due() starts no further job.
 * NULL if out of memory. Caller owns it: ww_sched_free(). */
struct ww_sched *ww_sched_create(struct ww_store *st, ww_sched_clock_fn clock, void *clock_arg,
                                 uint32_t seed, const volatile sig_atomic_t *stop);
void ww_sched_free(struct ww_sched *s); /* NULL is a no-op */

/* Adds job <name> (copied; [a-z0-9_]+, unique) running every <interval_s> (>= 1) seconds for at
 * most <timeout_s> (>= 1). Its first run is the next_run left in the store by an earlier daemon
 * when that is still ahead and no further than one interval plus jitter away (a restart does not
 * call every server again); else now plus a jitter. The job's next_run is recorded at once.
 * WW_OK, WW_EINVAL (bad name or numbers, duplicate), WW_ETOOBIG (more than WW_SCHED_MAX_JOBS). */
int ww_sched_add(struct ww_sched *s, const char *name, int interval_s, int timeout_s,
                 ww_sched_job_fn run, void *ctx);

/* Changes the interval and timeout of job <name> (after a config reload). A next run further
 * away than the new interval plus jitter is brought forward. WW_OK, WW_ENOTFOUND, WW_EINVAL. */
int ww_sched_update(struct ww_sched *s, const char *name, int interval_s, int timeout_s);

/* Unix time of job <name>'s next run, or 0 if there is no such job. */
time_t ww_sched_next_run(const struct ww_sched *s, const char *name);

/* Milliseconds until the earliest job is due (0 if one is due now), capped at <cap_ms>. */
long ww_sched_wait_ms(const struct ww_sched *s, long cap_ms);

/* Runs every job due now, earliest first, one after another, and records each. Stops starting
 * jobs as soon as the stop flag is set. Returns how many jobs ran (>= 0). Blocks as long as the
 * jobs take (each is told its timeout through ww_sched_time_left_ms). */
int ww_sched_run_due(struct ww_sched *s);

/* For the job in flight: milliseconds it may still take, 0 when its timeout passed or the daemon
 * is stopping. -1 when no job is running. Cheap: call it from curl progress callbacks. */
long ww_sched_time_left_ms(const struct ww_sched *s);

/* The next run after a run that finished at <t>: t + interval_s + a jitter of 0 to interval_s/10
 * seconds chosen by <rnd>. Exposed for tests. */
time_t ww_sched_next_after(time_t t, int interval_s, uint32_t rnd);

/* What the store says about job <name>: zeros and "" when it never ran. */
struct ww_sched_status {
    time_t last_run;
    time_t next_run;
    int ok; /* 1, 0, or -1 when it never ran */
    char result[WW_SCHED_RESULT_MAX];
};
int ww_sched_status_get(struct ww_store *st, const char *name, struct ww_sched_status *out);

#endif
