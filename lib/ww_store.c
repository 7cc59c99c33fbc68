/* lib/ww_store.c - the SQLite state store: schema migration, and every read and write of
 * state.db (scan method, health checks, events, feedback queue, components, license, kv).
 *
 * Concurrency: many processes (c-icap children, webwardend, webwardenctl) open the same file.
 * WAL lets readers run beside the one writer; every write transaction starts with
 * BEGIN IMMEDIATE so it takes the write lock up front and waits (busy timeout) instead of
 * failing half-way with SQLITE_BUSY on lock upgrade. Statements are prepared once per handle
 * and reset right after use, so no handle keeps a read snapshot open between calls.
 *
 * A new database starts with scan method "smart" (changed_by "init", reason "initial setting"),
 * as the original product does when licensed; sql/schema.sql documents every table.
 *
 * Return codes: WW_OK, WW_EDB for SQLite errors (logged once here with the operation's name),
 * WW_EINVAL for bad arguments, and from ww_store_open also WW_ENOTFOUND (no database file) and
 * WW_EIO (cannot create it); its errors go to <err> only, for the caller to show. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <sqlite3.h>

#include "ww_common.h"
#include "ww_log.h"
#include "ww_range.h"
#include "ww_sql.h"
#include "ww_store.h"

#define WW_STORE_BUSY_MS 5000
/* History kept by the writers themselves, so the file cannot grow without bound. */
#define WW_STORE_EVENTS_KEEP 100000
#define WW_STORE_HEALTH_KEEP 10000

enum store_sql {
    SQL_BEGIN,
    SQL_COMMIT,
    SQL_ROLLBACK,
    SQL_VERSION,
    SQL_KV_GET,
    SQL_KV_SET,
    SQL_KV_ADD,
    SQL_SCAN_GET,
    SQL_SCAN_SET,
    SQL_SCAN_LOG,
    SQL_EVENT_ADD,
    SQL_EVENT_PRUNE,
    SQL_EVENT_LIST,
    SQL_HEALTH_ADD,
    SQL_HEALTH_PRUNE,
    SQL_HEALTH_STREAK,
    SQL_FB_ADD,
    SQL_FB_SPAN,
    SQL_FB_DROP,
    SQL_FB_PEEK,
    SQL_FB_DELETE,
    SQL_FB_STATS,
    SQL_COUNTER_ADD,
    SQL_COMP_GET,
    SQL_COMP_UNSET,
    SQL_COMP_ADD,
    SQL_COMP_HISTORY,
    SQL_COMP_CURRENT,
    SQL_COMP_PREVIOUS,
    SQL_COMP_SET_CURRENT,
    SQL_LIC_GET,
    SQL_LIC_SET,
    SQL_COUNTER_GET,
    SQL_FB_MERGE,
    SQL_FB_SEAL,
    SQL_RANGE_SET,
    SQL_RANGE_GET,
    SQL_RANGE_PRUNE,
    SQL_COUNT
};

static const char *const store_sql_text[SQL_COUNT] = {
    [SQL_BEGIN] = "BEGIN IMMEDIATE",
    [SQL_COMMIT] = "COMMIT",
    [SQL_ROLLBACK] = "ROLLBACK",
    [SQL_VERSION] = "PRAGMA user_version",
    [SQL_KV_GET] = "SELECT value FROM kv WHERE key = ?1",
    [SQL_KV_SET] = "INSERT INTO kv (key, value, updated_at) VALUES (?1, ?2, ?3)"
                   " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                   " updated_at = excluded.updated_at",
    [SQL_KV_ADD] = "INSERT OR IGNORE INTO kv (key, value, updated_at) VALUES (?1, ?2, ?3)",
    [SQL_SCAN_GET] = "SELECT method, changed_by, reason, changed_at FROM scan_method WHERE id = 1",
    [SQL_SCAN_SET] = "UPDATE scan_method SET method = ?1, changed_by = ?2, reason = ?3,"
                     " changed_at = ?4 WHERE id = 1",
    [SQL_SCAN_LOG] = "INSERT INTO scan_method_log (method, changed_by, reason, changed_at)"
                     " VALUES (?1, ?2, ?3, ?4)",
    [SQL_EVENT_ADD] = "INSERT INTO events (at, level, source, message) VALUES (?1, ?2, ?3, ?4)",
    [SQL_EVENT_PRUNE] = "DELETE FROM events WHERE id <= ?1",
    [SQL_EVENT_LIST] = "SELECT id, at, level, source, message FROM"
                       " (SELECT * FROM events ORDER BY id DESC LIMIT ?1) ORDER BY id",
    [SQL_HEALTH_ADD] = "INSERT INTO health_checks (at, server, ok, latency_ms, detail)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)",
    [SQL_HEALTH_PRUNE] = "DELETE FROM health_checks WHERE id <= ?1",
    /* The failure streak is every row after the last good one, and the other way round. */
    [SQL_HEALTH_STREAK] = "SELECT (SELECT count(*) FROM health_checks WHERE id >"
                          " coalesce((SELECT max(id) FROM health_checks WHERE ok = 1), 0)),"
                          " (SELECT count(*) FROM health_checks WHERE id >"
                          " coalesce((SELECT max(id) FROM health_checks WHERE ok = 0), 0))",
    [SQL_FB_ADD] = "INSERT INTO feedback_queue (url, score, categories, action, threat, at, count,"
                   " first_seen, scanner) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [SQL_FB_SPAN] = "SELECT min(id), max(id) FROM feedback_queue",
    [SQL_FB_DROP] = "DELETE FROM feedback_queue WHERE id IN (SELECT id FROM feedback_queue"
                    " ORDER BY id LIMIT max(0, (SELECT count(*) FROM feedback_queue) - ?1))",
    [SQL_FB_PEEK] = "SELECT id, url, score, categories, action, threat, at, count, first_seen,"
                    " scanner FROM feedback_queue WHERE id <= coalesce((SELECT CAST(value AS"
                    " INTEGER) FROM kv WHERE key = 'feedback.sealed'), 9223372036854775807)"
                    " ORDER BY id LIMIT ?1",
    [SQL_FB_DELETE] = "DELETE FROM feedback_queue WHERE id <= ?1",
    [SQL_FB_STATS] = "SELECT (SELECT count(*) FROM feedback_queue),"
                     " coalesce((SELECT value FROM counters WHERE name = 'feedback_dropped'), 0)",
    [SQL_FB_MERGE] = "UPDATE feedback_queue SET count = count + ?7, at = max(at, ?6),"
                     " first_seen = min(CASE first_seen WHEN 0 THEN at ELSE first_seen END, ?8),"
                     " score = ?2, categories = ?3, threat = ?5,"
                     " scanner = CASE ?9 WHEN '' THEN scanner ELSE ?9 END"
                     " WHERE url = ?1 AND action = ?4 AND id > coalesce((SELECT CAST(value AS"
                     " INTEGER) FROM kv WHERE key = 'feedback.sealed'), 0)",
    [SQL_FB_SEAL] = "INSERT INTO kv (key, value, updated_at) SELECT 'feedback.sealed',"
                    " CAST(coalesce(max(id), 0) AS TEXT), CAST(strftime('%s', 'now') AS INTEGER)"
                    " FROM feedback_queue WHERE true ON CONFLICT (key) DO UPDATE SET"
                    " value = excluded.value, updated_at = excluded.updated_at",
    [SQL_COUNTER_GET] = "SELECT value FROM counters WHERE name = ?1",
    [SQL_RANGE_SET] = "INSERT INTO range_memory (url, etag, last_modified, threat, at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (url) DO UPDATE SET"
                      " etag = excluded.etag, last_modified = excluded.last_modified,"
                      " threat = excluded.threat, at = excluded.at",
    [SQL_RANGE_GET] = "SELECT etag, last_modified, threat, at FROM range_memory WHERE url = ?1",
    [SQL_RANGE_PRUNE] = "DELETE FROM range_memory WHERE at < ?1",
    [SQL_COUNTER_ADD] = "INSERT INTO counters (name, value) VALUES (?1, ?2)"
                        " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
    [SQL_COMP_GET] = "SELECT name, version, path, sha256, installed_at, current FROM components"
                     " WHERE name = ?1 AND current = 1",
    [SQL_COMP_UNSET] = "UPDATE components SET current = 0 WHERE name = ?1 AND current = 1",
    [SQL_COMP_ADD] = "INSERT INTO components (name, version, path, sha256, installed_at, current)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, 1)",
    [SQL_COMP_HISTORY] = "SELECT name, version, path, sha256, installed_at, current"
                         " FROM components WHERE name = ?1 ORDER BY installed_at DESC, id DESC",
    [SQL_COMP_CURRENT] = "SELECT id, installed_at FROM components WHERE name = ?1 AND current = 1",
    [SQL_COMP_PREVIOUS] = "SELECT id FROM components WHERE name = ?1"
                          " AND (installed_at, id) < (?2, ?3)"
                          " ORDER BY installed_at DESC, id DESC LIMIT 1",
    [SQL_COMP_SET_CURRENT] = "UPDATE components SET current = ?2 WHERE id = ?1",
    [SQL_LIC_GET] = "SELECT activation_code, status, product, edition, expires, seats,"
                    " grace_days, checked_at FROM license WHERE id = 1",
    [SQL_LIC_SET] = "UPDATE license SET activation_code = ?1, status = ?2, product = ?3,"
                    " edition = ?4, expires = ?5, seats = ?6, grace_days = ?7, checked_at = ?8"
                    " WHERE id = 1",
};

struct ww_store {
    sqlite3 *db;
    char *path;                    /* for log lines */
    sqlite3_stmt *stmt[SQL_COUNT]; /* prepared on first use, finalized by ww_store_close */
};

static void store_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void store_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Logs the failed operation with SQLite's message; call it once per failure, before any
 * ROLLBACK replaces the message. */
static int store_fail(struct ww_store *st, const char *op)
{
    ww_log(WW_LOG_ERR, "state store %s: %s: %s", st->path, op, sqlite3_errmsg(st->db));
    return WW_EDB;
}

/* The handle's prepared statement <id>, or NULL (the caller logs with store_fail). */
static sqlite3_stmt *store_stmt(struct ww_store *st, enum store_sql id)
{
    if (st->stmt[id] == NULL &&
        sqlite3_prepare_v3(st->db, store_sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[id],
                           NULL) != SQLITE_OK)
        return NULL;
    return st->stmt[id];
}

/* Ends a use of <s>: it releases its read snapshot and forgets its values. NULL is a no-op. */
static void store_reset(sqlite3_stmt *s)
{
    if (s == NULL)
        return;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* Runs a statement that returns no rows (already bound) and resets it. */
static int store_run(struct ww_store *st, sqlite3_stmt *s, const char *op)
{
    int rc = sqlite3_step(s) == SQLITE_DONE ? WW_OK : store_fail(st, op);

    store_reset(s);
    return rc;
}

/* Steps <s> once: WW_OK on a row (read it, then reset), WW_ENOTFOUND when there is none. */
static int store_step_row(struct ww_store *st, sqlite3_stmt *s, const char *op)
{
    switch (sqlite3_step(s)) {
    case SQLITE_ROW:
        return WW_OK;
    case SQLITE_DONE:
        return WW_ENOTFOUND;
    default:
        return store_fail(st, op);
    }
}

static int store_run_plain(struct ww_store *st, enum store_sql id, const char *op)
{
    sqlite3_stmt *s = store_stmt(st, id);

    return s != NULL ? store_run(st, s, op) : store_fail(st, op);
}

/* Takes the write lock, waiting up to the busy timeout for another writer. */
static int store_begin(struct ww_store *st, const char *op)
{
    return store_run_plain(st, SQL_BEGIN, op);
}

/* Commits when <rc> is WW_OK, else rolls back; returns the final result. */
static int store_finish(struct ww_store *st, int rc, const char *op)
{
    if (rc == WW_OK)
        rc = store_run_plain(st, SQL_COMMIT, op);
    /* A failed COMMIT or step may have ended the transaction already. */
    if (!sqlite3_get_autocommit(st->db)) {
        sqlite3_stmt *s = store_stmt(st, SQL_ROLLBACK);
        if (s != NULL) {
            sqlite3_step(s);
            sqlite3_reset(s);
        }
    }
    return rc;
}

/* The statement binder: binds the values after <types> to parameters 1, 2, ... of <s>, one
 * letter per parameter (SQLite copies the text):
 *   t  const char *          text; NULL binds ""
 *   f  const char *, size_t  a fixed-size text field: at most that many bytes (the fields of our
 *                            structs are arrays a careless caller may leave unterminated)
 *   i  int
 *   I  int64_t               (time_t and sqlite3_int64 values are cast to it)
 * SQLITE_OK, or the code of the first bind that failed (an unknown letter is SQLITE_MISUSE). */
static int store_bind_va(sqlite3_stmt *s, const char *types, va_list ap)
{
    int rc = SQLITE_OK;

    for (int i = 1; rc == SQLITE_OK && types[i - 1] != '\0'; i++) {
        switch (types[i - 1]) {
        case 't': {
            const char *text = va_arg(ap, const char *);
            rc = sqlite3_bind_text(s, i, text != NULL ? text : "", -1, SQLITE_TRANSIENT);
            break;
        }
        case 'f': {
            const char *text = va_arg(ap, const char *);
            size_t max = va_arg(ap, size_t);
            if (text == NULL)
                text = "";
            rc = sqlite3_bind_text(s, i, text, (int)strnlen(text, max), SQLITE_TRANSIENT);
            break;
        }
        case 'i':
            rc = sqlite3_bind_int(s, i, va_arg(ap, int));
            break;
        case 'I':
            rc = sqlite3_bind_int64(s, i, (sqlite3_int64)va_arg(ap, int64_t));
            break;
        default:
            rc = SQLITE_MISUSE;
        }
    }
    return rc;
}

/* Statement <id> with the values after <types> bound (store_bind_va), ready to step; NULL, the
 * failure logged for <op> and nothing left bound, when it cannot be prepared or bound. */
static sqlite3_stmt *store_vquery(struct ww_store *st, enum store_sql id, const char *op,
                                  const char *types, va_list ap)
{
    sqlite3_stmt *s = store_stmt(st, id);

    if (s == NULL || store_bind_va(s, types, ap) != SQLITE_OK) {
        store_fail(st, op);
        store_reset(s);
        return NULL;
    }
    return s;
}

/* store_vquery with the values as arguments; reset the statement with store_reset() when done. */
static sqlite3_stmt *store_query(struct ww_store *st, enum store_sql id, const char *op,
                                 const char *types, ...)
{
    sqlite3_stmt *s;
    va_list ap;

    va_start(ap, types);
    s = store_vquery(st, id, op, types, ap);
    va_end(ap);
    return s;
}

/* Runs statement <id>, which returns no rows, with the values after <types> bound, and resets
 * it: bind, step, reset in one call. WW_OK, or WW_EDB with the failure logged for <op>. */
static int store_exec(struct ww_store *st, enum store_sql id, const char *op, const char *types,
                      ...)
{
    sqlite3_stmt *s;
    va_list ap;

    va_start(ap, types);
    s = store_vquery(st, id, op, types, ap);
    va_end(ap);
    return s != NULL ? store_run(st, s, op) : WW_EDB;
}

static void store_col_text(sqlite3_stmt *s, int i, char *out, size_t outlen)
{
    const unsigned char *text = sqlite3_column_text(s, i);

    snprintf(out, outlen, "%s", text != NULL ? (const char *)text : "");
}

static int store_latest_version(void)
{
    return ww_sql_migrations[ww_sql_migrations_count - 1].version;
}

/* Creates <path> with mode 0640 (the license code lives there) unless it exists. */
static int store_create_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);

    if (fd < 0) {
        if (errno == EEXIST)
            return WW_OK;
        store_err(err, errlen, "%s: cannot create the state database: %s", path, strerror(errno));
        return WW_EIO;
    }
    /* Exactly 0640 whatever the umask; SQLite gives its -wal and -shm files the same mode. */
    if (fchmod(fd, 0640) != 0) {
        store_err(err, errlen, "%s: chmod: %s", path, strerror(errno));
        close(fd);
        return WW_EIO;
    }
    close(fd);
    return WW_OK;
}

static int store_read_version(struct ww_store *st, int *version)
{
    sqlite3_stmt *s = store_stmt(st, SQL_VERSION);
    int rc = WW_EDB;

    if (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
        *version = sqlite3_column_int(s, 0);
        rc = WW_OK;
    }
    store_reset(s);
    return rc;
}

/* Brings the schema to this build's version in one transaction: all of it or none. */
static int store_migrate(struct ww_store *st, char *err, size_t errlen)
{
    int latest = store_latest_version();
    int from = 0;
    int rc = WW_EDB;
    char *msg = NULL;

    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        store_err(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
        return WW_EDB;
    }
    if (store_read_version(st, &from) != WW_OK) {
        store_err(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
        goto cleanup;
    }
    if (from > latest) {
        store_err(err, errlen,
                  "%s: schema version %d is newer than this build's %d: "
                  "install the newer webwarden",
                  st->path, from, latest);
        goto cleanup;
    }
    for (size_t i = 0; i < ww_sql_migrations_count; i++) {
        const struct ww_sql_migration *m = &ww_sql_migrations[i];
        char pragma[64];

        if (m->version <= from)
            continue;
        /* A pragma cannot take a bound value; the version is our own integer. */
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", m->version);
        if (sqlite3_exec(st->db, m->sql, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(st->db, pragma, NULL, NULL, &msg) != SQLITE_OK) {
            store_err(err, errlen, "%s: %s (schema version %d): %s", st->path, m->file, m->version,
                      msg != NULL ? msg : sqlite3_errmsg(st->db));
            goto cleanup;
        }
    }
    rc = WW_OK;
cleanup:
    sqlite3_free(msg);
    rc = store_finish(st, rc, "migrate");
    if (rc == WW_OK && from != latest)
        ww_log(WW_LOG_INFO, "state store %s: schema version %d -> %d", st->path, from, latest);
    return rc;
}

/* sqlite3_exec callback: copies the journal mode that PRAGMA journal_mode answers. */
static int store_on_mode(void *arg, int ncol, char **val, char **name)
{
    if (ncol > 0 && val[0] != NULL)
        snprintf(arg, 16, "%s", val[0]);
    return 0;
}

int ww_store_open(const char *path, int flags, struct ww_store **out, char *err, size_t errlen)
{
    struct ww_store *st = NULL;
    int rc = WW_EINVAL;
    int version = 0;
    int oflags = SQLITE_OPEN_NOMUTEX; /* one thread at a time per handle, see ww_store.h */
    int latest = store_latest_version();
    struct stat sb;

    if (out != NULL)
        *out = NULL;
    if (path == NULL || *path == '\0' || out == NULL ||
        ((flags & WW_STORE_MIGRATE) && (flags & WW_STORE_READONLY))) {
        store_err(err, errlen, "state store: bad arguments to open");
        goto cleanup;
    }
    if (flags & WW_STORE_MIGRATE) {
        rc = store_create_file(path, err, errlen);
        if (rc != WW_OK)
            goto cleanup;
    } else if (stat(path, &sb) != 0) {
        rc = errno == ENOENT ? WW_ENOTFOUND : WW_EIO;
        store_err(err, errlen, "%s: %s: run webwardenctl init", path,
                  errno == ENOENT ? "no state database" : strerror(errno));
        goto cleanup;
    }
    /* The file exists now, so SQLite never creates it (and never with its default mode). */
    oflags |= (flags & WW_STORE_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;

    rc = WW_ENOMEM;
    st = calloc(1, sizeof(*st));
    if (st == NULL || (st->path = strdup(path)) == NULL) {
        store_err(err, errlen, "%s: out of memory", path);
        goto cleanup;
    }
    rc = WW_EDB;
    if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
        store_err(err, errlen, "%s: %s", path,
                  st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
        goto cleanup;
    }
    sqlite3_busy_timeout(st->db, WW_STORE_BUSY_MS); /* wait for another writer, don't fail */
    if (flags & WW_STORE_MIGRATE) {
        /* WAL is stored in the file: set once here, before c-icap starts, because racing
         * first opens fail on this pragma despite the busy timeout. */
        char mode[16] = "";
        if (sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", store_on_mode, mode, NULL) !=
                SQLITE_OK ||
            strcmp(mode, "wal") != 0) {
            store_err(err, errlen, "%s: cannot set WAL mode (journal mode \"%s\"): %s", path, mode,
                      sqlite3_errmsg(st->db));
            goto cleanup;
        }
    }
    /* In WAL mode NORMAL loses no committed data on a crash of the program, only (rarely) the
     * last transactions on a power loss, and spares an fsync per commit. */
    if (sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
        store_err(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
        goto cleanup;
    }
    if (flags & WW_STORE_MIGRATE) {
        rc = store_migrate(st, err, errlen);
        if (rc != WW_OK)
            goto cleanup;
    }
    if (store_read_version(st, &version) != WW_OK) {
        store_err(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
        goto cleanup;
    }
    if (version < latest) {
        store_err(err, errlen, "%s: schema version %d, this build needs %d: run webwardenctl init",
                  path, version, latest);
        goto cleanup;
    }
    if (version > latest) {
        store_err(err, errlen,
                  "%s: schema version %d is newer than this build's %d: "
                  "install the newer webwarden",
                  path, version, latest);
        goto cleanup;
    }
    *out = st;
    st = NULL;
    rc = WW_OK;
cleanup:
    ww_store_close(st);
    return rc;
}

void ww_store_close(struct ww_store *st)
{
    if (st == NULL)
        return;
    for (int i = 0; i < SQL_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

int ww_store_schema_version(struct ww_store *st, int *version)
{
    if (st == NULL || version == NULL)
        return WW_EINVAL;
    return store_read_version(st, version) == WW_OK ? WW_OK : store_fail(st, "schema version");
}

/* <out> gets "" when unset; WW_ETOOBIG (with the value cut) when it does not fit. */
int ww_store_kv_get(struct ww_store *st, const char *key, char *out, size_t outlen)
{
    sqlite3_stmt *s;
    int rc = WW_EDB;

    if (st == NULL || key == NULL || out == NULL || outlen == 0)
        return WW_EINVAL;
    out[0] = '\0';
    s = store_query(st, SQL_KV_GET, "kv get", "t", key);
    if (s == NULL)
        return WW_EDB;
    switch (sqlite3_step(s)) {
    case SQLITE_ROW:
        store_col_text(s, 0, out, outlen);
        rc = (size_t)sqlite3_column_bytes(s, 0) < outlen ? WW_OK : WW_ETOOBIG;
        break;
    case SQLITE_DONE:
        rc = WW_OK;
        break;
    default:
        rc = store_fail(st, "kv get");
    }
    store_reset(s);
    return rc;
}

int ww_store_kv_set(struct ww_store *st, const char *key, const char *value)
{
    if (st == NULL || key == NULL || *key == '\0')
        return WW_EINVAL;
    /* one statement: atomic without BEGIN */
    return store_exec(st, SQL_KV_SET, "kv set", "ttI", key, value, (int64_t)time(NULL));
}

/* 32 hex digits from OpenSSL's CSPRNG; the first process to store its id wins, every other
 * one reads that id back. */
int ww_store_appliance_id(struct ww_store *st, char *out, size_t outlen)
{
    static const char key[] = "appliance_id";
    unsigned char raw[16];
    char hex[2 * sizeof(raw) + 1];
    int rc;

    rc = ww_store_kv_get(st, key, out, outlen);
    if (rc != WW_OK || out[0] != '\0')
        return rc;
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        ww_log(WW_LOG_ERR, "state store %s: appliance id: no random bytes", st->path);
        return WW_EIO;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    rc = store_exec(st, SQL_KV_ADD, "appliance id", "ttI", key, hex, (int64_t)time(NULL));
    return rc == WW_OK ? ww_store_kv_get(st, key, out, outlen) : rc;
}

static const char *store_method_name(enum ww_scan_method m)
{
    return m == WW_SCAN_SMART ? "smart" : "conventional";
}

int ww_store_get_scan_method(struct ww_store *st, struct ww_scan_state *out)
{
    sqlite3_stmt *s;
    const char *m;
    int rc = WW_EDB;

    if (st == NULL || out == NULL)
        return WW_EINVAL;
    s = store_stmt(st, SQL_SCAN_GET);
    if (s == NULL || sqlite3_step(s) != SQLITE_ROW) {
        rc = store_fail(st, "get scan method");
        goto cleanup;
    }
    m = (const char *)sqlite3_column_text(s, 0);
    out->method = m != NULL && strcmp(m, "smart") == 0 ? WW_SCAN_SMART : WW_SCAN_CONVENTIONAL;
    store_col_text(s, 1, out->changed_by, sizeof(out->changed_by));
    store_col_text(s, 2, out->reason, sizeof(out->reason));
    out->changed_at = (time_t)sqlite3_column_int64(s, 3);
    rc = WW_OK;
cleanup:
    store_reset(s);
    return rc;
}

static int store_event_insert(struct ww_store *st, time_t at, const char *level, const char *source,
                              const char *message)
{
    int rc =
        store_exec(st, SQL_EVENT_ADD, "add event", "Ittt", (int64_t)at, level, source, message);

    if (rc != WW_OK)
        return rc;
    return store_exec(st, SQL_EVENT_PRUNE, "prune events", "I",
                      (int64_t)(sqlite3_last_insert_rowid(st->db) - WW_STORE_EVENTS_KEEP));
}

/* The current row, a history row and an event, in one transaction; nothing when <method> is
 * already in force (so repeated failed health checks do not flood the log). */
int ww_store_set_scan_method(struct ww_store *st, enum ww_scan_method method, const char *who,
                             const char *why)
{
    static const char op[] = "set scan method";
    struct ww_scan_state now;
    time_t at = time(NULL);
    char message[512];
    int rc;

    if (st == NULL || (method != WW_SCAN_SMART && method != WW_SCAN_CONVENTIONAL))
        return WW_EINVAL;
    who = who != NULL ? who : "";
    why = why != NULL ? why : "";
    rc = store_begin(st, op);
    if (rc != WW_OK)
        return rc;
    /* Read under the write lock, so two processes cannot both log the same change. */
    rc = ww_store_get_scan_method(st, &now);
    if (rc != WW_OK || now.method == method)
        goto cleanup;
    for (int i = 0; i < 2; i++) {
        rc = store_exec(st, i == 0 ? SQL_SCAN_SET : SQL_SCAN_LOG, op, "tttI",
                        store_method_name(method), who, why, (int64_t)at);
        if (rc != WW_OK)
            goto cleanup;
    }
    snprintf(message, sizeof(message), "scan method changed to %s by %s%s%s",
             store_method_name(method), who, *why != '\0' ? ": " : "", why);
    rc = store_event_insert(st, at, method == WW_SCAN_CONVENTIONAL ? "warning" : "info", "scan",
                            message);
cleanup:
    return store_finish(st, rc, op);
}

static int store_level_ok(const char *level)
{
    return level != NULL && (strcmp(level, "info") == 0 || strcmp(level, "warning") == 0 ||
                             strcmp(level, "error") == 0);
}

/* WW_EINVAL for a level other than info, warning, error. Keeps the newest 100000 events. */
int ww_store_add_event(struct ww_store *st, const char *level, const char *source,
                       const char *message)
{
    static const char op[] = "add event";
    int rc;

    if (st == NULL || !store_level_ok(level))
        return WW_EINVAL;
    rc = store_begin(st, op);
    if (rc != WW_OK)
        return rc;
    rc = store_event_insert(st, time(NULL), level, source, message);
    return store_finish(st, rc, op);
}

/* <limit> <= 0 lists every event. <fn> must not list events itself (the statement is busy). */
int ww_store_list_events(struct ww_store *st, int limit,
                         void (*fn)(const struct ww_event *ev, void *arg), void *arg)
{
    sqlite3_stmt *s;
    struct ww_event ev;
    int rc = WW_EDB, step;

    if (st == NULL || fn == NULL)
        return WW_EINVAL;
    s = store_query(st, SQL_EVENT_LIST, "list events", "i", limit > 0 ? limit : -1);
    if (s == NULL)
        return rc;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        ev.id = sqlite3_column_int64(s, 0);
        ev.at = (time_t)sqlite3_column_int64(s, 1);
        store_col_text(s, 2, ev.level, sizeof(ev.level));
        store_col_text(s, 3, ev.source, sizeof(ev.source));
        store_col_text(s, 4, ev.message, sizeof(ev.message));
        fn(&ev, arg);
    }
    rc = step == SQLITE_DONE ? WW_OK : store_fail(st, "list events");
    store_reset(s);
    return rc;
}

/* Keeps the newest 10000 checks. */
int ww_store_add_health(struct ww_store *st, const char *server, int ok, int latency_ms,
                        const char *detail)
{
    static const char op[] = "add health check";
    int rc;

    if (st == NULL)
        return WW_EINVAL;
    rc = store_begin(st, op);
    if (rc != WW_OK)
        return rc;
    rc = store_exec(st, SQL_HEALTH_ADD, op, "Itiit", (int64_t)time(NULL), server, ok != 0,
                    latency_ms, detail);
    if (rc == WW_OK)
        rc = store_exec(st, SQL_HEALTH_PRUNE, op, "I",
                        (int64_t)(sqlite3_last_insert_rowid(st->db) - WW_STORE_HEALTH_KEEP));
    return store_finish(st, rc, op);
}

/* One of the two is 0 (both when there is no history). */
int ww_store_health_streak(struct ww_store *st, int *failures, int *successes)
{
    sqlite3_stmt *s;
    int rc = WW_EDB;

    if (st == NULL || failures == NULL || successes == NULL)
        return WW_EINVAL;
    s = store_stmt(st, SQL_HEALTH_STREAK);
    if (s == NULL || sqlite3_step(s) != SQLITE_ROW) {
        rc = store_fail(st, "health streak");
        goto cleanup;
    }
    *failures = sqlite3_column_int(s, 0);
    *successes = sqlite3_column_int(s, 1);
    rc = WW_OK;
cleanup:
    store_reset(s);
    return rc;
}

static int store_action_ok(const char *action, size_t max)
{
    return strnlen(action, max) < max &&
           (strcmp(action, "allow") == 0 || strcmp(action, "block") == 0);
}

/* <max_queued> <= 0 means no bound. An <at> of 0 is stamped with the current time. WW_EINVAL
 * (nothing stored) when an action is not "allow" or "block". Blocks at most the busy timeout
 * waiting for another writer. */
int ww_store_feedback_enqueue(struct ww_store *st, const struct ww_feedback_event *ev, size_t n,
                              int max_queued)
{
    static const char op[] = "feedback enqueue";
    time_t now = time(NULL);
    sqlite3_stmt *s;
    sqlite3_int64 span;
    int rc, dropped;

    if (st == NULL || (ev == NULL && n > 0))
        return WW_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!store_action_ok(ev[i].action, sizeof(ev[i].action)))
            return WW_EINVAL;
    if (n == 0)
        return WW_OK;
    rc = store_begin(st, op);
    if (rc != WW_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const struct ww_feedback_event *e = &ev[i];
        time_t at = e->at != 0 ? e->at : now;
        time_t first = e->first_seen != 0 && e->first_seen < at ? e->first_seen : at;
        int64_t count = e->count > 0 ? (int64_t)e->count : 1;

        /* Merge into the open row of this URL and verdict, else a new row: same bindings. */
        for (int k = 0; k < 2; k++) {
            rc = store_exec(st, k == 0 ? SQL_FB_MERGE : SQL_FB_ADD, op, "fifffIIIf", e->url,
                            sizeof(e->url), e->score, e->categories, sizeof(e->categories),
                            e->action, sizeof(e->action), e->threat, sizeof(e->threat), (int64_t)at,
                            count, (int64_t)first, e->scanner, sizeof(e->scanner));
            if (rc != WW_OK)
                goto cleanup;
            if (k == 0 && sqlite3_changes(st->db) > 0)
                break;
        }
    }
    if (max_queued <= 0)
        goto cleanup;
    /* Ids only grow, so max - min + 1 bounds the row count in O(log n): the exact count (a
     * scan of the queue) runs only when the queue may really be over its bound. */
    s = store_stmt(st, SQL_FB_SPAN);
    if (s == NULL || sqlite3_step(s) != SQLITE_ROW) {
        store_reset(s);
        rc = store_fail(st, op);
        goto cleanup;
    }
    span = sqlite3_column_int64(s, 1) - sqlite3_column_int64(s, 0) + 1;
    store_reset(s);
    if (span <= max_queued)
        goto cleanup;
    rc = store_exec(st, SQL_FB_DROP, op, "i", max_queued);
    dropped = sqlite3_changes(st->db);
    if (rc != WW_OK || dropped == 0)
        goto cleanup;
    rc = store_exec(st, SQL_COUNTER_ADD, op, "ti", "feedback_dropped", dropped);
cleanup:
    return store_finish(st, rc, op);
}

int ww_store_feedback_peek(struct ww_store *st, struct ww_feedback_event *ev, size_t limit,
                           size_t *n)
{
    sqlite3_stmt *s;
    size_t got = 0;
    int rc = WW_EDB, step = SQLITE_DONE;

    if (st == NULL || n == NULL || (ev == NULL && limit > 0))
        return WW_EINVAL;
    *n = 0;
    if (limit == 0)
        return WW_OK;
    s = store_query(st, SQL_FB_PEEK, "feedback peek", "I",
                    (int64_t)(limit > INT32_MAX ? INT32_MAX : limit));
    if (s == NULL)
        return rc;
    while (got < limit && (step = sqlite3_step(s)) == SQLITE_ROW) {
        struct ww_feedback_event *e = &ev[got++];
        e->id = sqlite3_column_int64(s, 0);
        store_col_text(s, 1, e->url, sizeof(e->url));
        e->score = sqlite3_column_int(s, 2);
        store_col_text(s, 3, e->categories, sizeof(e->categories));
        store_col_text(s, 4, e->action, sizeof(e->action));
        store_col_text(s, 5, e->threat, sizeof(e->threat));
        e->at = (time_t)sqlite3_column_int64(s, 6);
        e->count = sqlite3_column_int64(s, 7);
        e->first_seen = (time_t)sqlite3_column_int64(s, 8);
        if (e->first_seen == 0)
            e->first_seen = e->at;
        store_col_text(s, 9, e->scanner, sizeof(e->scanner));
    }
    rc = got == limit || step == SQLITE_DONE ? WW_OK : store_fail(st, "feedback peek");
    *n = got;
    store_reset(s);
    return rc;
}

int ww_store_feedback_delete_upto(struct ww_store *st, int64_t upto_id)
{
    if (st == NULL)
        return WW_EINVAL;
    /* one statement: atomic without BEGIN */
    return store_exec(st, SQL_FB_DELETE, "feedback delete", "I", upto_id);
}

/* One statement (atomic without BEGIN); n <= 0 is a no-op. */
int ww_store_feedback_add_dropped(struct ww_store *st, int64_t n)
{
    if (st == NULL)
        return WW_EINVAL;
    if (n <= 0)
        return WW_OK;
    return store_exec(st, SQL_COUNTER_ADD, "feedback dropped count", "tI", "feedback_dropped", n);
}

int ww_store_feedback_stats(struct ww_store *st, int64_t *queued, int64_t *dropped)
{
    sqlite3_stmt *s;
    int rc = WW_EDB;

    if (st == NULL || queued == NULL || dropped == NULL)
        return WW_EINVAL;
    s = store_stmt(st, SQL_FB_STATS); /* one statement: both figures from one snapshot */
    if (s == NULL || sqlite3_step(s) != SQLITE_ROW) {
        rc = store_fail(st, "feedback stats");
        goto cleanup;
    }
    *queued = sqlite3_column_int64(s, 0);
    *dropped = sqlite3_column_int64(s, 1);
    rc = WW_OK;
cleanup:
    store_reset(s);
    return rc;
}

static void store_col_component(sqlite3_stmt *s, struct ww_component *c)
{
    store_col_text(s, 0, c->name, sizeof(c->name));
    store_col_text(s, 1, c->version, sizeof(c->version));
    store_col_text(s, 2, c->path, sizeof(c->path));
    store_col_text(s, 3, c->sha256, sizeof(c->sha256));
    c->installed_at = (time_t)sqlite3_column_int64(s, 4);
    c->current = sqlite3_column_int(s, 5);
}

/* WW_ENOTFOUND when no version of <name> is installed. */
int ww_store_component_get(struct ww_store *st, const char *name, struct ww_component *out)
{
    sqlite3_stmt *s;
    int rc = WW_EDB;

    if (st == NULL || name == NULL || out == NULL)
        return WW_EINVAL;
    s = store_query(st, SQL_COMP_GET, "component get", "t", name);
    if (s == NULL)
        return rc;
    switch (sqlite3_step(s)) {
    case SQLITE_ROW:
        store_col_component(s, out);
        rc = WW_OK;
        break;
    case SQLITE_DONE:
        rc = WW_ENOTFOUND;
        break;
    default:
        rc = store_fail(st, "component get");
    }
    store_reset(s);
    return rc;
}

/* <c->installed_at> 0 is stamped with the current time; <c->current> is ignored. */
int ww_store_component_install(struct ww_store *st, const struct ww_component *c)
{
    static const char op[] = "component install";
    int rc;

    if (st == NULL || c == NULL || strnlen(c->name, sizeof(c->name)) == 0 ||
        strnlen(c->name, sizeof(c->name)) == sizeof(c->name))
        return WW_EINVAL;
    rc = store_begin(st, op);
    if (rc != WW_OK)
        return rc;
    /* Unset first: the index allows one current row per name. */
    rc = store_exec(st, SQL_COMP_UNSET, op, "t", c->name);
    if (rc == WW_OK)
        rc = store_exec(st, SQL_COMP_ADD, op, "tfffI", c->name, c->version, sizeof(c->version),
                        c->path, sizeof(c->path), c->sha256, sizeof(c->sha256),
                        (int64_t)(c->installed_at != 0 ? c->installed_at : time(NULL)));
    return store_finish(st, rc, op);
}

/* Newest first (by installed_at, then install order), the current one flagged. */
int ww_store_component_history(struct ww_store *st, const char *name,
                               void (*fn)(const struct ww_component *c, void *arg), void *arg)
{
    sqlite3_stmt *s;
    struct ww_component c;
    int rc = WW_EDB, step;

    if (st == NULL || name == NULL || fn == NULL)
        return WW_EINVAL;
    s = store_query(st, SQL_COMP_HISTORY, "component history", "t", name);
    if (s == NULL)
        return rc;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        store_col_component(s, &c);
        fn(&c, arg);
    }
    rc = step == SQLITE_DONE ? WW_OK : store_fail(st, "component history");
    store_reset(s);
    return rc;
}

/* The version installed just before the current one becomes current; the rolled-back row stays
 * in the history. Rolling back again goes one further back. <now> (may be NULL) gets the new
 * current version. WW_ENOTFOUND, changing nothing, when nothing is current or nothing older. */
int ww_store_component_rollback(struct ww_store *st, const char *name, struct ww_component *now)
{
    static const char op[] = "component rollback";
    sqlite3_int64 cur_id, cur_at, prev_id;
    sqlite3_stmt *s;
    int rc;

    if (st == NULL || name == NULL)
        return WW_EINVAL;
    rc = store_begin(st, op);
    if (rc != WW_OK)
        return rc;
    rc = WW_EDB;
    s = store_query(st, SQL_COMP_CURRENT, op, "t", name);
    if (s == NULL)
        goto cleanup;
    rc = store_step_row(st, s, op);
    cur_id = rc == WW_OK ? sqlite3_column_int64(s, 0) : 0;
    cur_at = rc == WW_OK ? sqlite3_column_int64(s, 1) : 0;
    store_reset(s);
    if (rc != WW_OK)
        goto cleanup;
    rc = WW_EDB;
    s = store_query(st, SQL_COMP_PREVIOUS, op, "tII", name, (int64_t)cur_at, (int64_t)cur_id);
    if (s == NULL)
        goto cleanup;
    rc = store_step_row(st, s, op);
    prev_id = rc == WW_OK ? sqlite3_column_int64(s, 0) : 0;
    store_reset(s);
    if (rc != WW_OK)
        goto cleanup;
    /* Current off before the previous on: the index allows one current row per name. */
    for (int i = 0; i < 2; i++) {
        rc =
            store_exec(st, SQL_COMP_SET_CURRENT, op, "Ii", (int64_t)(i == 0 ? cur_id : prev_id), i);
        if (rc != WW_OK)
            goto cleanup;
    }
    if (now != NULL)
        rc = ww_store_component_get(st, name, now);
cleanup:
    return store_finish(st, rc, op);
}

int ww_store_license_get(struct ww_store *st, struct ww_license *out)
{
    sqlite3_stmt *s;
    int rc = WW_EDB;

    if (st == NULL || out == NULL)
        return WW_EINVAL;
    s = store_stmt(st, SQL_LIC_GET);
    if (s == NULL || sqlite3_step(s) != SQLITE_ROW) {
        rc = store_fail(st, "license get");
        goto cleanup;
    }
    store_col_text(s, 0, out->activation_code, sizeof(out->activation_code));
    store_col_text(s, 1, out->status, sizeof(out->status));
    store_col_text(s, 2, out->product, sizeof(out->product));
    store_col_text(s, 3, out->edition, sizeof(out->edition));
    store_col_text(s, 4, out->expires, sizeof(out->expires));
    out->seats = sqlite3_column_int(s, 5);
    out->grace_days = sqlite3_column_int(s, 6);
    out->checked_at = (time_t)sqlite3_column_int64(s, 7);
    rc = WW_OK;
cleanup:
    store_reset(s);
    return rc;
}

/* Replaces the whole row in one statement: a reader sees the old license or the new one. */
int ww_store_license_set(struct ww_store *st, const struct ww_license *lic)
{
    if (st == NULL || lic == NULL)
        return WW_EINVAL;
    return store_exec(st, SQL_LIC_SET, "license set", "fffffiiI", lic->activation_code,
                      sizeof(lic->activation_code), lic->status, sizeof(lic->status), lic->product,
                      sizeof(lic->product), lic->edition, sizeof(lic->edition), lic->expires,
                      sizeof(lic->expires), lic->seats, lic->grace_days, (int64_t)lic->checked_at);
}

/* One statement (atomic without BEGIN); n == 0 is a no-op. */
int ww_store_counter_add(struct ww_store *st, const char *name, int64_t n)
{
    if (st == NULL || name == NULL)
        return WW_EINVAL;
    if (n == 0)
        return WW_OK;
    return store_exec(st, SQL_COUNTER_ADD, "counter add", "tI", name, n);
}

int ww_store_counter_get(struct ww_store *st, const char *name, int64_t *value)
{
    sqlite3_stmt *s;
    int rc;

    if (st == NULL || name == NULL || value == NULL)
        return WW_EINVAL;
    *value = 0;
    s = store_query(st, SQL_COUNTER_GET, "counter get", "t", name);
    if (s == NULL)
        return WW_EDB;
    rc = store_step_row(st, s, "counter get");
    if (rc == WW_OK)
        *value = sqlite3_column_int64(s, 0);
    store_reset(s);
    return rc == WW_ENOTFOUND ? WW_OK : rc;
}

int ww_store_feedback_seal(struct ww_store *st)
{
    if (st == NULL)
        return WW_EINVAL;
    return store_run_plain(st, SQL_FB_SEAL, "feedback seal");
}

/* Resumed downloads (issue 12): what was cut or blocked, by URL. */
int ww_store_range_remember(struct ww_store *st, const struct ww_range_memo *m)
{
    if (st == NULL || m == NULL || m->url[0] == '\0')
        return WW_EINVAL;
    if (store_exec(st, SQL_RANGE_PRUNE, "range prune", "I", (int64_t)m->at - WW_RANGE_TTL_S) !=
        WW_OK)
        return WW_EDB;
    return store_exec(st, SQL_RANGE_SET, "range remember", "ttttI", m->url, m->etag,
                      m->last_modified, m->threat, (int64_t)m->at);
}

int ww_store_range_lookup(struct ww_store *st, const char *url, struct ww_range_memo *out)
{
    sqlite3_stmt *s;
    int rc;

    if (st == NULL || url == NULL || out == NULL)
        return WW_EINVAL;
    memset(out, 0, sizeof(*out));
    s = store_query(st, SQL_RANGE_GET, "range lookup", "t", url);
    if (s == NULL)
        return WW_EDB;
    rc = store_step_row(st, s, "range lookup");
    if (rc == WW_OK) {
        snprintf(out->url, sizeof(out->url), "%s", url);
        store_col_text(s, 0, out->etag, sizeof(out->etag));
        store_col_text(s, 1, out->last_modified, sizeof(out->last_modified));
        store_col_text(s, 2, out->threat, sizeof(out->threat));
        out->at = (time_t)sqlite3_column_int64(s, 3);
    }
    store_reset(s);
    return rc;
}
