/* lib/ww_store.h - the SQLite state store shared by c-icap's children, webwardend and webwardenctl.
 *
 * One database file (WAL mode, busy timeout, prepared statements only). Schema in sql/, forward
 * migrations applied by ww_store_open(WW_STORE_MIGRATE) - done once by `webwardenctl init`,
 * ./quickstart and webwardend before c-icap starts, so children never race to create it.
 * A handle is for one thread at a time; open one per process (after fork) and guard it, or one
 * per thread. Every function returns WW_OK or WW_EDB (the SQLite message is logged once). */
#ifndef WW_STORE_H
#define WW_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct ww_store;

enum { WW_STORE_MIGRATE = 1, WW_STORE_READONLY = 2 };
enum ww_scan_method { WW_SCAN_CONVENTIONAL = 0, WW_SCAN_SMART = 1 };

/* Opens (and with WW_STORE_MIGRATE creates and migrates) <path>. Without MIGRATE a database
 * whose schema is older than this build's is refused with "run webwardenctl init" in <err>. */
int ww_store_open(const char *path, int flags, struct ww_store **out, char *err, size_t errlen);
void ww_store_close(struct ww_store *st); /* NULL is a no-op */
int ww_store_schema_version(struct ww_store *st, int *version);

/* Small key/value settings (appliance_id, job results, counters). <out> gets "" if unset. */
int ww_store_kv_get(struct ww_store *st, const char *key, char *out, size_t outlen);
int ww_store_kv_set(struct ww_store *st, const char *key, const char *value);
/* Random id made once and kept: the X-Webwarden-Appliance header. */
int ww_store_appliance_id(struct ww_store *st, char *out, size_t outlen);

/* Scan method: current value, and a history row (who, why, when) for every change. */
struct ww_scan_state {
    enum ww_scan_method method;
    char changed_by[64]; /* "webwardend", "webwardenctl", "init" */
    char reason[256];
    time_t changed_at;
};
int ww_store_get_scan_method(struct ww_store *st, struct ww_scan_state *out);
/* Records the change and an event; a no-op (WW_OK) when <method> is already current. */
int ww_store_set_scan_method(struct ww_store *st, enum ww_scan_method method, const char *who,
                             const char *why);

/* Events / audit log. level: "info", "warning", "error"; source: "scan", "update", ... */
int ww_store_add_event(struct ww_store *st, const char *level, const char *source,
                       const char *message);
struct ww_event {
    int64_t id;
    time_t at;
    char level[16];
    char source[32];
    char message[512];
};
/* Calls <fn> for the newest <limit> events, oldest first. */
int ww_store_list_events(struct ww_store *st, int limit,
                         void (*fn)(const struct ww_event *ev, void *arg), void *arg);

/* Smart-scan health-check history. */
int ww_store_add_health(struct ww_store *st, const char *server, int ok, int latency_ms,
                        const char *detail);
/* Consecutive failed (and good) checks at the end of the history. */
int ww_store_health_streak(struct ww_store *st, int *failures, int *successes);

/* Feedback queue. */
struct ww_feedback_event {
    int64_t id; /* set by the store */
    char url[2048];
    int score;
    char categories[256]; /* comma-separated */
    char action[8];       /* "allow" | "block" */
    char threat[128];     /* "" = none */
    time_t at;            /* last seen */
    int64_t count;        /* lookups this record stands for; <= 0 counts as 1 */
    time_t first_seen;    /* 0 = same as at */
    char scanner[16];     /* which scanner found <threat>: "fast" | "clamav" | "smart"; "" = not
                           * said (URL verdicts, older rows) */
};
/* Adds <n> records in one transaction. A record merges into the queued row of the same URL
 * and action that no upload took yet (ww_store_feedback_seal): count added, first and last
 * seen widened, score and categories the newest; else it is a new row. When the queue would
 * pass <max_queued> rows, the oldest are dropped and counted (ww_store_feedback_stats). */
int ww_store_feedback_enqueue(struct ww_store *st, const struct ww_feedback_event *ev, size_t n,
                              int max_queued);
/* Closes every queued row to merges: later records for the same URL and action make new rows,
 * so what an upload read is what it sends. One statement. The feedback worker calls it before
 * each peek. */
int ww_store_feedback_seal(struct ww_store *st);
/* Oldest <limit> rows into <ev> (caller's array), *n = how many; only sealed rows once
 * ww_store_feedback_seal ran. */
int ww_store_feedback_peek(struct ww_store *st, struct ww_feedback_event *ev, size_t limit,
                           size_t *n);
/* Removes rows with id <= <upto_id> (after the server confirmed them). */
int ww_store_feedback_delete_upto(struct ww_store *st, int64_t upto_id);
int ww_store_feedback_stats(struct ww_store *st, int64_t *queued, int64_t *dropped);
/* Adds <n> events dropped before they reached the queue (a c-icap child's full in-memory
 * buffer, lib/ww_fbbuf.h) to the same counter that ww_store_feedback_stats reports. */
int ww_store_feedback_add_dropped(struct ww_store *st, int64_t n);

/* Monotonic counters that survive restarts (table counters; /metrics shows them): adds <n> to
 * counter <name>, made at 0 when missing; reads one (0 when missing). */
int ww_store_counter_add(struct ww_store *st, const char *name, int64_t n);
int ww_store_counter_get(struct ww_store *st, const char *name, int64_t *value);

/* Installed components ("pattern", "urldb", "engine"), with history for rollback. */
struct ww_component {
    char name[16];
    char version[64];
    char path[1024]; /* installed file or folder; "" for engine */
    char sha256[65];
    time_t installed_at;
    int current; /* 1 for the version in force */
};
int ww_store_component_get(struct ww_store *st, const char *name, struct ww_component *out);
/* Makes <c> the current version of its component; older rows stay as history. */
int ww_store_component_install(struct ww_store *st, const struct ww_component *c);
int ww_store_component_history(struct ww_store *st, const char *name,
                               void (*fn)(const struct ww_component *c, void *arg), void *arg);
/* Makes the previous version current again; WW_ENOTFOUND if there is none. */
int ww_store_component_rollback(struct ww_store *st, const char *name, struct ww_component *now);

/* License: one row. The activation code is stored in full (file mode 0640), never logged. */
struct ww_license {
    char activation_code[64]; /* "" = none */
    char status[16];          /* active | expired | invalid | "" */
    char product[64];
    char edition[64];
    char expires[16]; /* YYYY-MM-DD */
    int seats;
    int grace_days;
    time_t checked_at;
};
int ww_store_license_get(struct ww_store *st, struct ww_license *out);
int ww_store_license_set(struct ww_store *st, const struct ww_license *lic);

/* Resumed downloads (issue 12, lib/ww_range.h): a URL that was cut or blocked, with the
 * response's validators when it had them ("" = none). */
struct ww_range_memo {
    char url[2048];
    char etag[128];
    char last_modified[64];
    char threat[128];
    time_t at;
};
/* Remembers <m> (one row per URL, the newest wins) and prunes rows past WW_RANGE_TTL_S. */
int ww_store_range_remember(struct ww_store *st, const struct ww_range_memo *m);
/* WW_OK with the row, WW_ENOTFOUND, or WW_EDB. The caller checks the TTL (ww_range_memo_live). */
int ww_store_range_lookup(struct ww_store *st, const char *url, struct ww_range_memo *out);

#endif
