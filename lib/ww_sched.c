/* lib/ww_sched.c - webwardend's job scheduler: intervals, jitter, timeouts, results in the store.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_log.h"
#include "ww_sched.h"
#include "ww_store.h"

struct sched_job {
    char name[WW_SCHED_NAME_MAX];
    int interval_s;
    int timeout_s;
    ww_sched_job_fn run;
    void *ctx;
    time_t next_run;
};

struct ww_sched {
    struct ww_store *st; /* borrowed; NULL = record nothing */
    ww_sched_clock_fn clock;
    void *clock_arg;
    const volatile sig_atomic_t *stop; /* borrowed; NULL = never asked to stop */
    uint32_t rng;                      /* xorshift32 state, never 0 */
    struct sched_job jobs[WW_SCHED_MAX_JOBS];
    int njobs;
    long long deadline_ms; /* of the job in flight; 0 = none running */
};

static time_t sched_now(const struct ww_sched *s)
{
    return s->clock != NULL ? s->clock(s->clock_arg) : time(NULL);
}

/* Milliseconds on the same scale as sched_now(), finer when the real clock is used. */
static long long sched_now_ms(const struct ww_sched *s)
{
    struct timespec ts;

    if (s->clock != NULL)
        return (long long)s->clock(s->clock_arg) * 1000;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t sched_random(struct ww_sched *s)
{
    uint32_t x = s->rng;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s->rng = x;
    return x;
}

static int sched_stopping(const struct ww_sched *s)
{
    return s->stop != NULL && *s->stop != 0;
}

static struct sched_job *sched_find(struct ww_sched *s, const char *name)
{
    for (int i = 0; i < s->njobs; i++)
        if (strcmp(s->jobs[i].name, name) == 0)
            return &s->jobs[i];
    return NULL;
}

static int sched_valid_name(const char *name)
{
    size_t len = name != NULL ? strlen(name) : 0;

    if (len == 0 || len >= WW_SCHED_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_'))
            return 0;
    return 1;
}

static void sched_key(char *key, size_t len, const char *name, const char *field)
{
    snprintf(key, len, "job.%s.%s", name, field);
}

/* Store failures are logged by the store; a job result that could not be recorded must not stop
 * the daemon, so these only return whether they worked. */
static int sched_record_time(struct ww_sched *s, const char *name, const char *field, time_t t)
{
    char key[64], val[32];

    if (s->st == NULL)
        return WW_OK;
    sched_key(key, sizeof(key), name, field);
    snprintf(val, sizeof(val), "%" PRId64, (int64_t)t);
    return ww_store_kv_set(s->st, key, val);
}

static void sched_record_run(struct ww_sched *s, const struct sched_job *job, time_t started,
                             int rc, const char *result)
{
    char key[64];

    if (s->st == NULL)
        return;
    sched_record_time(s, job->name, "last_run", started);
    sched_record_time(s, job->name, "next_run", job->next_run);
    sched_key(key, sizeof(key), job->name, "result");
    ww_store_kv_set(s->st, key, result);
    sched_key(key, sizeof(key), job->name, "ok");
    ww_store_kv_set(s->st, key, rc == WW_OK ? "1" : "0");
}

static int64_t sched_parse_time(const char *text)
{
    char *end;
    long long v;

    if (text[0] == '\0')
        return 0;
    v = strtoll(text, &end, 10);
    return *end == '\0' && v > 0 ? (int64_t)v : 0;
}

time_t ww_sched_next_after(time_t t, int interval_s, uint32_t rnd)
{
    uint32_t jitter_max = interval_s > 0 ? (uint32_t)interval_s / 10 : 0;

    return t + interval_s + (time_t)(rnd % (jitter_max + 1));
}

struct ww_sched *ww_sched_create(struct ww_store *st, ww_sched_clock_fn clock, void *clock_arg,
                                 uint32_t seed, const volatile sig_atomic_t *stop)
{
    struct ww_sched *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->st = st;
    s->clock = clock;
    s->clock_arg = clock_arg;
    s->stop = stop;
    if (seed == 0)
        seed = (uint32_t)getpid() * 2654435761u ^ (uint32_t)time(NULL);
    s->rng = seed != 0 ? seed : 1;
    return s;
}

void ww_sched_free(struct ww_sched *s)
{
    free(s);
}

int ww_sched_add(struct ww_sched *s, const char *name, int interval_s, int timeout_s,
                 ww_sched_job_fn run, void *ctx)
{
    struct sched_job *job;
    time_t now = sched_now(s);
    char key[64], val[32] = "";
    int64_t stored;

    if (!sched_valid_name(name) || interval_s < 1 || timeout_s < 1 || run == NULL ||
        sched_find(s, name) != NULL)
        return WW_EINVAL;
    if (s->njobs >= WW_SCHED_MAX_JOBS)
        return WW_ETOOBIG;
    job = &s->jobs[s->njobs++];
    snprintf(job->name, sizeof(job->name), "%s", name);
    job->interval_s = interval_s;
    job->timeout_s = timeout_s;
    job->run = run;
    job->ctx = ctx;
    /* First run soon, but not all jobs of all appliances in the same second. */
    job->next_run = now + (time_t)(sched_random(s) % ((uint32_t)interval_s / 10 + 1));
    if (s->st != NULL) {
        sched_key(key, sizeof(key), name, "next_run");
        if (ww_store_kv_get(s->st, key, val, sizeof(val)) == WW_OK) {
            stored = sched_parse_time(val);
            if (stored > now && stored <= now + interval_s + interval_s / 10)
                job->next_run = (time_t)stored;
        }
    }
    sched_record_time(s, name, "next_run", job->next_run);
    return WW_OK;
}

int ww_sched_update(struct ww_sched *s, const char *name, int interval_s, int timeout_s)
{
    struct sched_job *job = sched_find(s, name);
    time_t latest;

    if (job == NULL)
        return WW_ENOTFOUND;
    if (interval_s < 1 || timeout_s < 1)
        return WW_EINVAL;
    job->interval_s = interval_s;
    job->timeout_s = timeout_s;
    latest = sched_now(s) + interval_s + interval_s / 10;
    if (job->next_run > latest) {
        job->next_run = ww_sched_next_after(sched_now(s), interval_s, sched_random(s));
        sched_record_time(s, name, "next_run", job->next_run);
    }
    return WW_OK;
}

time_t ww_sched_next_run(const struct ww_sched *s, const char *name)
{
    for (int i = 0; i < s->njobs; i++)
        if (strcmp(s->jobs[i].name, name) == 0)
            return s->jobs[i].next_run;
    return 0;
}

long ww_sched_wait_ms(const struct ww_sched *s, long cap_ms)
{
    long long now_ms = sched_now_ms(s), wait;
    long best = cap_ms;

    for (int i = 0; i < s->njobs; i++) {
        wait = (long long)s->jobs[i].next_run * 1000 - now_ms;
        if (wait < 0)
            wait = 0;
        if (wait < best)
            best = (long)wait;
    }
    return best;
}

long ww_sched_time_left_ms(const struct ww_sched *s)
{
    long long left;

    if (s->deadline_ms == 0)
        return -1;
    if (sched_stopping(s))
        return 0;
    left = s->deadline_ms - sched_now_ms(s);
    return left > 0 ? (long)left : 0;
}

/* The due job with the earliest next_run, or NULL. Jobs run at most once per call: a job whose
 * new next_run is already due again (interval shorter than the pass) waits for the next call. */
static struct sched_job *sched_pick_due(struct ww_sched *s, time_t now, const unsigned char *ran)
{
    struct sched_job *best = NULL;

    for (int i = 0; i < s->njobs; i++) {
        struct sched_job *job = &s->jobs[i];
        if (ran[i] || job->next_run > now)
            continue;
        if (best == NULL || job->next_run < best->next_run)
            best = job;
    }
    return best;
}

int ww_sched_run_due(struct ww_sched *s)
{
    unsigned char ran[WW_SCHED_MAX_JOBS] = {0};
    struct sched_job *job;
    char result[WW_SCHED_RESULT_MAX];
    time_t started, finished;
    int n = 0, rc;

    while (!sched_stopping(s) && (job = sched_pick_due(s, sched_now(s), ran)) != NULL) {
        ran[job - s->jobs] = 1;
        started = sched_now(s);
        s->deadline_ms = sched_now_ms(s) + (long long)job->timeout_s * 1000;
        result[0] = '\0';
        ww_log(WW_LOG_DEBUG, "job %s: starting (timeout %d s)", job->name, job->timeout_s);
        rc = job->run(job->ctx, result, sizeof(result));
        result[sizeof(result) - 1] = '\0';
        if (rc == WW_OK && sched_now_ms(s) > s->deadline_ms) {
            /* Cooperative jobs stop at their deadline; one that did not is a bug worth seeing. */
            snprintf(result, sizeof(result), "ran past its %d s timeout", job->timeout_s);
            rc = WW_ETIMEOUT;
        } else if (result[0] == '\0') {
            snprintf(result, sizeof(result), "%s", rc == WW_OK ? "ok" : ww_strerror(rc));
        }
        if (sched_stopping(s) && rc != WW_OK)
            snprintf(result, sizeof(result), "abandoned: daemon stopping");
        s->deadline_ms = 0;
        finished = sched_now(s);
        job->next_run = ww_sched_next_after(finished, job->interval_s, sched_random(s));
        sched_record_run(s, job, started, rc, result);
        ww_log(rc == WW_OK ? WW_LOG_INFO : WW_LOG_WARN, "job %s: %s (%s); next run in %lld s",
               job->name, rc == WW_OK ? "ok" : "failed", result,
               (long long)(job->next_run - finished));
        n++;
    }
    return n;
}

int ww_sched_status_get(struct ww_store *st, const char *name, struct ww_sched_status *out)
{
    char key[64], val[32];
    int rc;

    memset(out, 0, sizeof(*out));
    out->ok = -1;
    if (!sched_valid_name(name))
        return WW_EINVAL;
    sched_key(key, sizeof(key), name, "last_run");
    if ((rc = ww_store_kv_get(st, key, val, sizeof(val))) != WW_OK)
        return rc;
    out->last_run = (time_t)sched_parse_time(val);
    sched_key(key, sizeof(key), name, "next_run");
    if ((rc = ww_store_kv_get(st, key, val, sizeof(val))) != WW_OK)
        return rc;
    out->next_run = (time_t)sched_parse_time(val);
    sched_key(key, sizeof(key), name, "ok");
    if ((rc = ww_store_kv_get(st, key, val, sizeof(val))) != WW_OK)
        return rc;
    if (val[0] != '\0')
        out->ok = strcmp(val, "1") == 0;
    sched_key(key, sizeof(key), name, "result");
    return ww_store_kv_get(st, key, out->result, sizeof(out->result));
}
