/* t/check_store.c - unit tests for lib/ww_store.c: migrations, every store function, and
 * several processes writing and reading one database at once. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ww_common.h"
#include "ww_range.h"
#include "ww_sql.h"
#include "ww_store.h"

static char tmpdir[64];
static char dbpath[128];

static void store_setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ww-store-XXXXXX");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
    snprintf(dbpath, sizeof(dbpath), "%s/state.db", tmpdir);
}

static void store_teardown(void)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char path[160];

    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", dbpath, suffix[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

static int latest_version(void)
{
    return ww_sql_migrations[ww_sql_migrations_count - 1].version;
}

static struct ww_store *open_migrated(void)
{
    struct ww_store *st = NULL;
    char err[WW_ERRLEN] = "";
    int rc = ww_store_open(dbpath, WW_STORE_MIGRATE, &st, err, sizeof(err));

    ck_assert_msg(rc == WW_OK && st != NULL, "open(%s, MIGRATE) = %d \"%s\", want ok", dbpath, rc,
                  err);
    return st;
}

/* Runs <sql> on the test's own raw connection (to build odd databases or count rows). */
static void raw_exec(const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;

    ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
                  msg != NULL ? msg : "?");
    sqlite3_close(db);
}

static long long raw_int(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    long long v = -1;

    ck_assert_int_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* ---- open and migrations ---- */

START_TEST(test_store_open_migrate_creates_wal_db_mode_0640)
{
    struct ww_store *st;
    struct stat sb;
    int version = -1;
    mode_t old = umask(077); /* the mode must not depend on the caller's umask */

    st = open_migrated();
    umask(old);
    ck_assert_int_eq(ww_store_schema_version(st, &version), WW_OK);
    ck_assert_msg(version == latest_version(), "version %d, want %d", version, latest_version());
    ck_assert_int_eq(stat(dbpath, &sb), 0);
    ck_assert_msg((sb.st_mode & 0777) == 0640, "mode %o, want 640", (unsigned)(sb.st_mode & 0777));
    ww_store_close(st);
    ck_assert_int_eq(raw_int("PRAGMA user_version"), latest_version());
    /* journal_mode answers text: compare through a query that yields 1 for WAL */
    ck_assert_int_eq(raw_int("SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
}
END_TEST

START_TEST(test_store_open_migrate_twice_is_idempotent)
{
    struct ww_store *st = open_migrated();
    char val[64];
    int version = -1;

    ck_assert_int_eq(ww_store_kv_set(st, "k", "kept"), WW_OK);
    ww_store_close(st);
    st = open_migrated();
    ck_assert_int_eq(ww_store_kv_get(st, "k", val, sizeof(val)), WW_OK);
    ck_assert_str_eq(val, "kept");
    ck_assert_int_eq(ww_store_schema_version(st, &version), WW_OK);
    ck_assert_int_eq(version, latest_version());
    ww_store_close(st);
    /* the initial rows are inserted once, not per open */
    ck_assert_int_eq(raw_int("SELECT count(*) FROM scan_method_log"), 1);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM license"), 1);
}
END_TEST

/* webwardend and webwardenctl init migrate at start while c-icap's children may hold it open. */
START_TEST(test_store_open_migrate_while_others_have_it_open)
{
    struct ww_store *a = open_migrated(), *b;
    struct ww_scan_state ss;

    ck_assert_int_eq(ww_store_add_event(a, "info", "test", "a"), WW_OK);
    b = open_migrated();
    ck_assert_int_eq(ww_store_add_event(b, "info", "test", "b"), WW_OK);
    ck_assert_int_eq(ww_store_set_scan_method(a, WW_SCAN_CONVENTIONAL, "webwardend", "x"), WW_OK);
    ck_assert_int_eq(ww_store_get_scan_method(b, &ss), WW_OK);
    ck_assert_int_eq(ss.method, WW_SCAN_CONVENTIONAL);
    ww_store_close(a);
    ww_store_close(b);
}
END_TEST

START_TEST(test_store_open_without_migrate_refuses_missing_file)
{
    struct ww_store *st = (struct ww_store *)1;
    char err[WW_ERRLEN] = "";
    int rc = ww_store_open(dbpath, 0, &st, err, sizeof(err));

    ck_assert_msg(rc == WW_ENOTFOUND && st == NULL, "open missing = %d, want not found", rc);
    ck_assert_msg(strstr(err, "webwardenctl init") != NULL && strstr(err, dbpath) != NULL,
                  "err \"%s\" should name the file and say to run webwardenctl init", err);
    ck_assert_msg(access(dbpath, F_OK) != 0, "open without MIGRATE created %s", dbpath);
}
END_TEST

START_TEST(test_store_open_without_migrate_refuses_old_schema)
{
    struct ww_store *st = NULL;
    char err[WW_ERRLEN] = "", want[WW_ERRLEN];
    int rc;

    raw_exec("CREATE TABLE old_thing (x); INSERT INTO old_thing VALUES (42)"); /* version 0 */
    rc = ww_store_open(dbpath, 0, &st, err, sizeof(err));
    snprintf(want, sizeof(want), "%s: schema version 0, this build needs %d: run webwardenctl init",
             dbpath, latest_version());
    ck_assert_msg(rc == WW_EDB && st == NULL && strcmp(err, want) == 0,
                  "open v0 = %d \"%s\", want %d \"%s\"", rc, err, WW_EDB, want);
    rc = ww_store_open(dbpath, WW_STORE_READONLY, &st, err, sizeof(err));
    ck_assert_msg(rc == WW_EDB && st == NULL, "readonly open v0 = %d, want refused", rc);

    st = open_migrated(); /* migrates the version 0 database in place */
    ww_store_close(st);
    ck_assert_int_eq(raw_int("PRAGMA user_version"), latest_version());
    ck_assert_int_eq(raw_int("SELECT x FROM old_thing"), 42);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM scan_method"), 1);
}
END_TEST

START_TEST(test_store_open_refuses_newer_schema)
{
    struct ww_store *st = NULL;
    char err[WW_ERRLEN] = "", sql[64];
    int rc;

    ww_store_close(open_migrated());
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", latest_version() + 1);
    raw_exec(sql);
    for (int flags = 0; flags <= WW_STORE_MIGRATE; flags++) {
        rc = ww_store_open(dbpath, flags, &st, err, sizeof(err));
        ck_assert_msg(rc == WW_EDB && st == NULL && strstr(err, "newer") != NULL,
                      "open(flags %d) of a newer schema = %d \"%s\", want refused", flags, rc, err);
    }
    ck_assert_int_eq(raw_int("PRAGMA user_version"), latest_version() + 1);
}
END_TEST

START_TEST(test_store_failed_migration_changes_nothing)
{
    struct ww_store *st = NULL;
    char err[WW_ERRLEN] = "";
    int rc;

    /* A version 0 file that already has a "kv" table: schema.sql's CREATE TABLE kv fails
     * after it has created nothing, or half of the schema, depending on order. */
    raw_exec("CREATE TABLE kv (x)");
    rc = ww_store_open(dbpath, WW_STORE_MIGRATE, &st, err, sizeof(err));
    ck_assert_msg(rc == WW_EDB && st == NULL && strstr(err, "sql/schema.sql") != NULL,
                  "migrate over a clashing table = %d \"%s\", want db error naming the file", rc,
                  err);
    ck_assert_int_eq(raw_int("PRAGMA user_version"), 0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE name <> 'kv'"), 0);
}
END_TEST

START_TEST(test_store_open_not_a_database_fails_cleanly)
{
    struct ww_store *st = NULL;
    char err[WW_ERRLEN] = "";
    FILE *fp = fopen(dbpath, "w");
    int rc;

    ck_assert_ptr_nonnull(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite file\n", fp);
    fclose(fp);
    for (int flags = 0; flags <= WW_STORE_MIGRATE; flags++) {
        rc = ww_store_open(dbpath, flags, &st, err, sizeof(err));
        ck_assert_msg(rc == WW_EDB && st == NULL && strstr(err, dbpath) != NULL,
                      "open(flags %d) of a text file = %d \"%s\", want db error", flags, rc, err);
    }
}
END_TEST

START_TEST(test_store_open_refuses_bad_arguments)
{
    struct ww_store *st = NULL;
    char err[WW_ERRLEN] = "";

    ck_assert_int_eq(
        ww_store_open(dbpath, WW_STORE_MIGRATE | WW_STORE_READONLY, &st, err, sizeof(err)),
        WW_EINVAL);
    ck_assert_int_eq(ww_store_open("", WW_STORE_MIGRATE, &st, err, sizeof(err)), WW_EINVAL);
    ck_assert_int_eq(ww_store_open(NULL, 0, &st, NULL, 0), WW_EINVAL);
    ck_assert_ptr_null(st);
    ww_store_close(NULL);
}
END_TEST

START_TEST(test_store_readonly_reads_and_refuses_writes)
{
    struct ww_store *st = open_migrated();
    struct ww_scan_state ss;
    char err[WW_ERRLEN] = "", val[16];

    ck_assert_int_eq(ww_store_kv_set(st, "k", "v"), WW_OK);
    ww_store_close(st);
    st = NULL;
    ck_assert_int_eq(ww_store_open(dbpath, WW_STORE_READONLY, &st, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_store_get_scan_method(st, &ss), WW_OK);
    ck_assert_int_eq(ww_store_kv_get(st, "k", val, sizeof(val)), WW_OK);
    ck_assert_str_eq(val, "v");
    ck_assert_int_eq(ww_store_kv_set(st, "k", "w"), WW_EDB);
    ck_assert_int_eq(ww_store_add_event(st, "info", "test", "x"), WW_EDB);
    ww_store_close(st);
}
END_TEST

/* ---- kv and appliance id ---- */

START_TEST(test_store_kv_get_set_overwrite_and_small_buffer)
{
    struct ww_store *st = open_migrated();
    char val[8] = "junk";

    ck_assert_int_eq(ww_store_kv_get(st, "update.last_result", val, sizeof(val)), WW_OK);
    ck_assert_str_eq(val, "");
    ck_assert_int_eq(ww_store_kv_set(st, "update.last_result", "ok"), WW_OK);
    ck_assert_int_eq(ww_store_kv_set(st, "update.last_result", "failed"), WW_OK);
    ck_assert_int_eq(ww_store_kv_get(st, "update.last_result", val, sizeof(val)), WW_OK);
    ck_assert_str_eq(val, "failed");
    ck_assert_int_eq(ww_store_kv_set(st, "long", "0123456789"), WW_OK);
    ck_assert_int_eq(ww_store_kv_get(st, "long", val, sizeof(val)), WW_ETOOBIG);
    ck_assert_str_eq(val, "0123456");
    ck_assert_int_eq(ww_store_kv_set(st, "", "x"), WW_EINVAL);
    ck_assert_int_eq(ww_store_kv_set(st, "quote'\"; DROP TABLE kv; --", "x"), WW_OK);
    ck_assert_int_eq(ww_store_kv_get(st, "quote'\"; DROP TABLE kv; --", val, sizeof(val)), WW_OK);
    ck_assert_str_eq(val, "x");
    ww_store_close(st);
}
END_TEST

START_TEST(test_store_appliance_id_made_once_and_kept)
{
    struct ww_store *st = open_migrated();
    char id1[64], id2[64], small[16];

    ck_assert_int_eq(ww_store_appliance_id(st, id1, sizeof(id1)), WW_OK);
    ck_assert_msg(strlen(id1) == 32 && strspn(id1, "0123456789abcdef") == 32,
                  "appliance id \"%s\", want 32 lowercase hex digits", id1);
    ck_assert_int_eq(ww_store_appliance_id(st, id2, sizeof(id2)), WW_OK);
    ck_assert_str_eq(id1, id2);
    ww_store_close(st);
    st = open_migrated();
    ck_assert_int_eq(ww_store_appliance_id(st, id2, sizeof(id2)), WW_OK);
    ck_assert_str_eq(id1, id2);
    ck_assert_int_eq(ww_store_appliance_id(st, small, sizeof(small)), WW_ETOOBIG);
    ww_store_close(st);

    /* another database gets another id */
    store_teardown();
    store_setup();
    st = open_migrated();
    ck_assert_int_eq(ww_store_appliance_id(st, id2, sizeof(id2)), WW_OK);
    ck_assert_msg(strcmp(id1, id2) != 0, "two databases share appliance id %s", id1);
    ww_store_close(st);
}
END_TEST

/* ---- scan method and events ---- */

struct event_list {
    int n;
    struct ww_event ev[16];
};

static void on_event(const struct ww_event *ev, void *arg)
{
    struct event_list *l = arg;

    if (l->n < 16)
        l->ev[l->n] = *ev;
    l->n++;
}

START_TEST(test_store_scan_method_starts_smart_by_init)
{
    struct ww_store *st = open_migrated();
    struct ww_scan_state ss;
    time_t now = time(NULL);

    ck_assert_int_eq(ww_store_get_scan_method(st, &ss), WW_OK);
    ck_assert_int_eq(ss.method, WW_SCAN_SMART);
    ck_assert_str_eq(ss.changed_by, "init");
    ck_assert_str_eq(ss.reason, "initial setting");
    ck_assert_msg(ss.changed_at > now - 60 && ss.changed_at <= now + 1, "changed_at %lld, now %lld",
                  (long long)ss.changed_at, (long long)now);
    ww_store_close(st);
}
END_TEST

START_TEST(test_store_set_scan_method_records_history_and_event_once)
{
    static const char why[] = "3 consecutive failed health checks (last: timeout after 1500 ms)";
    struct ww_store *st = open_migrated();
    struct ww_scan_state ss;
    struct event_list l = {0};
    char want[512];

    ck_assert_int_eq(ww_store_set_scan_method(st, WW_SCAN_CONVENTIONAL, "webwardend", why), WW_OK);
    ck_assert_int_eq(ww_store_get_scan_method(st, &ss), WW_OK);
    ck_assert_int_eq(ss.method, WW_SCAN_CONVENTIONAL);
    ck_assert_str_eq(ss.changed_by, "webwardend");
    ck_assert_str_eq(ss.reason, why);
    /* the same method again: nothing recorded */
    ck_assert_int_eq(ww_store_set_scan_method(st, WW_SCAN_CONVENTIONAL, "webwardend", "again"),
                     WW_OK);
    ck_assert_int_eq(ww_store_get_scan_method(st, &ss), WW_OK);
    ck_assert_str_eq(ss.reason, why);
    ck_assert_int_eq(ww_store_set_scan_method(st, WW_SCAN_SMART, "webwardenctl", "admin"), WW_OK);
    ck_assert_int_eq(ww_store_set_scan_method(st, 7, "x", "y"), WW_EINVAL);

    ck_assert_int_eq(ww_store_list_events(st, 0, on_event, &l), WW_OK);
    ck_assert_int_eq(l.n, 2);
    snprintf(want, sizeof(want), "scan method changed to conventional by webwardend: %s", why);
    ck_assert_str_eq(l.ev[0].message, want);
    ck_assert_str_eq(l.ev[0].level, "warning");
    ck_assert_str_eq(l.ev[0].source, "scan");
    ck_assert_str_eq(l.ev[1].message, "scan method changed to smart by webwardenctl: admin");
    ck_assert_str_eq(l.ev[1].level, "info");
    ww_store_close(st);

    ck_assert_int_eq(raw_int("SELECT count(*) FROM scan_method_log"), 3);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM scan_method_log WHERE id = 2"
                             " AND method = 'conventional' AND changed_by = 'webwardend'"),
                     1);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM scan_method_log WHERE id = 3"
                             " AND method = 'smart' AND reason = 'admin'"),
                     1);
}
END_TEST

START_TEST(test_store_list_events_gives_newest_oldest_first)
{
    struct ww_store *st = open_migrated();
    struct event_list l = {0};
    char msg[32];

    for (int i = 1; i <= 5; i++) {
        snprintf(msg, sizeof(msg), "event %d", i);
        ck_assert_int_eq(ww_store_add_event(st, i == 5 ? "error" : "info", "update", msg), WW_OK);
    }
    ck_assert_int_eq(ww_store_add_event(st, "debug", "update", "bad level"), WW_EINVAL);
    ck_assert_int_eq(ww_store_add_event(st, NULL, "update", "no level"), WW_EINVAL);
    ck_assert_int_eq(ww_store_list_events(st, 3, on_event, &l), WW_OK);
    ck_assert_int_eq(l.n, 3);
    for (int i = 0; i < 3; i++) {
        snprintf(msg, sizeof(msg), "event %d", i + 3);
        ck_assert_msg(strcmp(l.ev[i].message, msg) == 0, "event[%d] = \"%s\", want \"%s\"", i,
                      l.ev[i].message, msg);
        ck_assert_str_eq(l.ev[i].source, "update");
        ck_assert(i == 0 || l.ev[i].id > l.ev[i - 1].id);
    }
    ck_assert_str_eq(l.ev[2].level, "error");
    ww_store_close(st);
}
END_TEST

/* ---- health checks ---- */

START_TEST(test_store_health_streak_counts_the_tail)
{
    static const struct {
        int ok;
        int fail, good; /* want after this check */
    } steps[] = {{1, 0, 1}, {1, 0, 2}, {0, 1, 0}, {0, 2, 0}, {0, 3, 0}, {1, 0, 1}, {0, 1, 0}};
    struct ww_store *st = open_migrated();
    int fail = -1, good = -1;

    ck_assert_int_eq(ww_store_health_streak(st, &fail, &good), WW_OK);
    ck_assert_msg(fail == 0 && good == 0, "empty history: %d/%d, want 0/0", fail, good);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        ck_assert_int_eq(ww_store_add_health(st, "https://sps.example", steps[i].ok,
                                             steps[i].ok ? 40 : 1500, steps[i].ok ? "" : "timeout"),
                         WW_OK);
        ck_assert_int_eq(ww_store_health_streak(st, &fail, &good), WW_OK);
        ck_assert_msg(fail == steps[i].fail && good == steps[i].good,
                      "after check %zu: failures/successes %d/%d, want %d/%d", i, fail, good,
                      steps[i].fail, steps[i].good);
    }
    ww_store_close(st);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM health_checks WHERE ok = 0"
                             " AND detail = 'timeout' AND latency_ms = 1500"),
                     4);
}
END_TEST

/* ---- feedback queue ---- */

static void make_event(struct ww_feedback_event *e, int writer, int i)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->url, sizeof(e->url), "http://w%d.example/%d", writer, i);
    e->score = i % 101;
    snprintf(e->categories, sizeof(e->categories), "news,sport");
    snprintf(e->action, sizeof(e->action), "%s", i % 2 ? "block" : "allow");
    snprintf(e->threat, sizeof(e->threat), "%s", i % 2 ? "Eicar-Test" : "");
    snprintf(e->scanner, sizeof(e->scanner), "%s", i % 2 ? "clamav" : "");
    e->at = 1700000000 + i;
}

START_TEST(test_store_feedback_enqueue_peek_delete)
{
    struct ww_store *st = open_migrated();
    struct ww_feedback_event in[3], out[4];
    size_t n = 99;
    int64_t queued = -1, dropped = -1;

    for (int i = 0; i < 3; i++)
        make_event(&in[i], 0, i);
    in[2].at = 0; /* stamped by the store */
    ck_assert_int_eq(ww_store_feedback_enqueue(st, in, 3, 100), WW_OK);
    ck_assert_int_eq(ww_store_feedback_peek(st, out, 2, &n), WW_OK);
    ck_assert_uint_eq(n, 2);
    for (int i = 0; i < 2; i++) {
        ck_assert_str_eq(out[i].url, in[i].url);
        ck_assert_int_eq(out[i].score, in[i].score);
        ck_assert_str_eq(out[i].categories, in[i].categories);
        ck_assert_str_eq(out[i].action, in[i].action);
        ck_assert_str_eq(out[i].threat, in[i].threat);
        ck_assert_str_eq(out[i].scanner, in[i].scanner);
        ck_assert_int_eq(out[i].at, in[i].at);
    }
    ck_assert(out[1].id > out[0].id);
    ck_assert_int_eq(ww_store_feedback_delete_upto(st, out[1].id), WW_OK);
    ck_assert_int_eq(ww_store_feedback_stats(st, &queued, &dropped), WW_OK);
    ck_assert_msg(queued == 1 && dropped == 0, "queued %lld dropped %lld, want 1 0",
                  (long long)queued, (long long)dropped);
    ck_assert_int_eq(ww_store_feedback_peek(st, out, 4, &n), WW_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(out[0].url, in[2].url);
    ck_assert_msg(out[0].at > 1700000000 + 1000, "at 0 should be stamped now, got %lld",
                  (long long)out[0].at);

    /* a bad action refuses the whole batch */
    snprintf(in[1].action, sizeof(in[1].action), "maybe");
    ck_assert_int_eq(ww_store_feedback_enqueue(st, in, 3, 100), WW_EINVAL);
    ck_assert_int_eq(ww_store_feedback_stats(st, &queued, &dropped), WW_OK);
    ck_assert_int_eq(queued, 1);
    ck_assert_int_eq(ww_store_feedback_enqueue(st, NULL, 0, 100), WW_OK);
    ww_store_close(st);
}
END_TEST

START_TEST(test_store_feedback_ids_never_reused_after_emptying)
{
    struct ww_store *st = open_migrated();
    struct ww_feedback_event e[2], out[2];
    size_t n = 0;
    int64_t last;

    make_event(&e[0], 0, 0);
    make_event(&e[1], 0, 1);
    ck_assert_int_eq(ww_store_feedback_enqueue(st, e, 2, 0), WW_OK);
    ck_assert_int_eq(ww_store_feedback_peek(st, out, 2, &n), WW_OK);
    last = out[1].id;
    ck_assert_int_eq(ww_store_feedback_delete_upto(st, last), WW_OK);
    ck_assert_int_eq(ww_store_feedback_enqueue(st, e, 1, 0), WW_OK);
    ck_assert_int_eq(ww_store_feedback_peek(st, out, 2, &n), WW_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_msg(out[0].id > last,
                  "new id %lld after deleting up to %lld: an in-flight upload "
                  "confirming %lld would delete it",
                  (long long)out[0].id, (long long)last, (long long)last);
    ww_store_close(st);
}
END_TEST

START_TEST(test_store_feedback_full_queue_drops_oldest_and_counts)
{
    struct ww_store *st = open_migrated();
    struct ww_feedback_event e[10], out[10];
    size_t n = 0;
    int64_t queued = -1, dropped = -1;
    char want[64];

    for (int i = 0; i < 10; i++)
        make_event(&e[i], 0, i);
    ck_assert_int_eq(ww_store_feedback_seal(st), WW_OK);             /* no merges: rows as before */
    ck_assert_int_eq(ww_store_feedback_enqueue(st, e, 3, 5), WW_OK); /* 0 1 2 */
    ck_assert_int_eq(ww_store_feedback_seal(st), WW_OK);             /* no merges: rows as before */
    ck_assert_int_eq(ww_store_feedback_enqueue(st, e + 3, 4, 5), WW_OK); /* 3 4 5 6: drop 0 1 */
    ck_assert_int_eq(ww_store_feedback_stats(st, &queued, &dropped), WW_OK);
    ck_assert_msg(queued == 5 && dropped == 2, "queued %lld dropped %lld, want 5 2",
                  (long long)queued, (long long)dropped);
    ck_assert_int_eq(ww_store_feedback_seal(st), WW_OK);
    ck_assert_int_eq(ww_store_feedback_peek(st, out, 10, &n), WW_OK);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(out[0].url, "http://w0.example/2");
    ck_assert_str_eq(out[4].url, "http://w0.example/6");
    ww_store_close(st);

    /* the counter survives a restart; a batch larger than the bound keeps its newest rows */
    st = open_migrated();
    ck_assert_int_eq(ww_store_feedback_seal(st), WW_OK); /* no merges: rows as before */
    ck_assert_int_eq(ww_store_feedback_enqueue(st, e, 10, 5), WW_OK);
    ck_assert_int_eq(ww_store_feedback_stats(st, &queued, &dropped), WW_OK);
    ck_assert_msg(queued == 5 && dropped == 12, "queued %lld dropped %lld, want 5 12",
                  (long long)queued, (long long)dropped);
    ck_assert_int_eq(ww_store_feedback_seal(st), WW_OK);
    ck_assert_int_eq(ww_store_feedback_peek(st, out, 10, &n), WW_OK);
    for (size_t i = 0; i < n; i++) {
        snprintf(want, sizeof(want), "http://w0.example/%zu", i + 5);
        ck_assert_str_eq(out[i].url, want);
    }
    /* a gap in the ids (an admin deleted a row) does not drop more than needed */
    ck_assert_int_eq(ww_store_feedback_seal(st), WW_OK);             /* no merges: rows as before */
    ck_assert_int_eq(ww_store_feedback_enqueue(st, e, 1, 0), WW_OK); /* 6 queued, no bound */
    ww_store_close(st);
    raw_exec("DELETE FROM feedback_queue WHERE url = 'http://w0.example/7'");
    st = open_migrated();
    ck_assert_int_eq(ww_store_feedback_seal(st), WW_OK); /* no merges: rows as before */
    ck_assert_int_eq(ww_store_feedback_enqueue(st, e + 1, 1, 6), WW_OK); /* 6 rows, bound 6 */
    ck_assert_int_eq(ww_store_feedback_stats(st, &queued, &dropped), WW_OK);
    ck_assert_msg(queued == 6 && dropped == 12, "queued %lld dropped %lld, want 6 12",
                  (long long)queued, (long long)dropped);
    ww_store_close(st);
}
END_TEST

START_TEST(test_store_feedback_one_over_the_bound_drops_exactly_one)
{
    struct ww_store *st = open_migrated();
    struct ww_feedback_event e[6], out[6];
    size_t n = 0;
    int64_t queued = -1, dropped = -1;

    for (int i = 0; i < 6; i++)
        make_event(&e[i], 0, i);
    ck_assert_int_eq(ww_store_feedback_enqueue(st, e, 5, 5), WW_OK);
    ck_assert_int_eq(ww_store_feedback_stats(st, &queued, &dropped), WW_OK);
    ck_assert_msg(queued == 5 && dropped == 0, "at the bound: queued %lld dropped %lld, want 5 0",
                  (long long)queued, (long long)dropped);
    ck_assert_int_eq(ww_store_feedback_enqueue(st, e + 5, 1, 5), WW_OK);
    ck_assert_int_eq(ww_store_feedback_stats(st, &queued, &dropped), WW_OK);
    ck_assert_msg(queued == 5 && dropped == 1, "one over: queued %lld dropped %lld, want 5 1",
                  (long long)queued, (long long)dropped);
    ck_assert_int_eq(ww_store_feedback_peek(st, out, 6, &n), WW_OK);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(out[0].url, "http://w0.example/1");
    ww_store_close(st);
}
END_TEST

/* ---- components ---- */

struct comp_list {
    int n;
    struct ww_component c[8];
};

static void on_component(const struct ww_component *c, void *arg)
{
    struct comp_list *l = arg;

    if (l->n < 8)
        l->c[l->n] = *c;
    l->n++;
}

static void install(struct ww_store *st, const char *name, const char *version, time_t at)
{
    struct ww_component c;

    memset(&c, 0, sizeof(c));
    snprintf(c.name, sizeof(c.name), "%s", name);
    snprintf(c.version, sizeof(c.version), "%s", version);
    snprintf(c.path, sizeof(c.path), "/var/lib/webwarden/%s-%s", name, version);
    snprintf(c.sha256, sizeof(c.sha256), "%064d", 7);
    c.installed_at = at;
    ck_assert_int_eq(ww_store_component_install(st, &c), WW_OK);
}

START_TEST(test_store_component_install_history_rollback)
{
    struct ww_store *st = open_migrated();
    struct ww_component c;
    struct comp_list l = {0};

    ck_assert_int_eq(ww_store_component_get(st, "pattern", &c), WW_ENOTFOUND);
    ck_assert_int_eq(ww_store_component_rollback(st, "pattern", &c), WW_ENOTFOUND);
    install(st, "pattern", "1.0", 100);
    ck_assert_int_eq(ww_store_component_rollback(st, "pattern", &c), WW_ENOTFOUND);
    install(st, "pattern", "2.0", 200);
    install(st, "urldb", "u1", 150);
    install(st, "pattern", "3.0", 300);

    ck_assert_int_eq(ww_store_component_get(st, "pattern", &c), WW_OK);
    ck_assert_str_eq(c.version, "3.0");
    ck_assert_str_eq(c.path, "/var/lib/webwarden/pattern-3.0");
    ck_assert_int_eq(c.installed_at, 300);
    ck_assert_int_eq(c.current, 1);
    ck_assert_uint_eq(strlen(c.sha256), 64);

    ck_assert_int_eq(ww_store_component_history(st, "pattern", on_component, &l), WW_OK);
    ck_assert_int_eq(l.n, 3);
    ck_assert_str_eq(l.c[0].version, "3.0");
    ck_assert_str_eq(l.c[1].version, "2.0");
    ck_assert_str_eq(l.c[2].version, "1.0");
    ck_assert(l.c[0].current == 1 && l.c[1].current == 0 && l.c[2].current == 0);

    ck_assert_int_eq(ww_store_component_rollback(st, "pattern", &c), WW_OK);
    ck_assert_msg(strcmp(c.version, "2.0") == 0 && c.current == 1, "rollback gave %s (current %d)",
                  c.version, c.current);
    ck_assert_int_eq(ww_store_component_rollback(st, "pattern", NULL), WW_OK);
    ck_assert_int_eq(ww_store_component_get(st, "pattern", &c), WW_OK);
    ck_assert_str_eq(c.version, "1.0");
    ck_assert_int_eq(ww_store_component_rollback(st, "pattern", &c), WW_ENOTFOUND);
    ck_assert_int_eq(ww_store_component_get(st, "pattern", &c), WW_OK);
    ck_assert_str_eq(c.version, "1.0");

    /* other components are untouched; a new install becomes current again */
    ck_assert_int_eq(ww_store_component_get(st, "urldb", &c), WW_OK);
    ck_assert_str_eq(c.version, "u1");
    install(st, "pattern", "4.0", 400);
    ck_assert_int_eq(ww_store_component_get(st, "pattern", &c), WW_OK);
    ck_assert_str_eq(c.version, "4.0");
    ck_assert_int_eq(ww_store_component_rollback(st, "pattern", &c), WW_OK);
    ck_assert_str_eq(c.version, "3.0");
    ww_store_close(st);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM components WHERE current = 1"), 2);
}
END_TEST

START_TEST(test_store_component_same_second_rolls_back_by_install_order)
{
    struct ww_store *st = open_migrated();
    struct ww_component c;

    install(st, "engine", "0.1.0", 500);
    install(st, "engine", "0.2.0", 500);
    install(st, "engine", "0.3.0", 500);
    ck_assert_int_eq(ww_store_component_rollback(st, "engine", &c), WW_OK);
    ck_assert_str_eq(c.version, "0.2.0");
    ck_assert_int_eq(ww_store_component_rollback(st, "engine", &c), WW_OK);
    ck_assert_str_eq(c.version, "0.1.0");
    memset(&c, 0, sizeof(c));
    ck_assert_int_eq(ww_store_component_install(st, &c), WW_EINVAL); /* no name */
    ww_store_close(st);
}
END_TEST

/* ---- license ---- */

START_TEST(test_store_range_remember_lookup_newest_wins_and_prunes)
{
    struct ww_store *st = open_migrated();
    struct ww_range_memo m, out;
    time_t now = time(NULL);

    memset(&m, 0, sizeof(m));
    ck_assert_int_eq(ww_store_range_lookup(st, "http://a.test/x", &out), WW_ENOTFOUND);
    snprintf(m.url, sizeof(m.url), "http://a.test/x");
    snprintf(m.etag, sizeof(m.etag), "\"v1\"");
    snprintf(m.threat, sizeof(m.threat), "Eicar");
    m.at = now - 10;
    ck_assert_int_eq(ww_store_range_remember(st, &m), WW_OK);
    snprintf(m.etag, sizeof(m.etag), "\"v2\"");
    snprintf(m.last_modified, sizeof(m.last_modified), "Thu, 03 Dec 2026 10:00:00 GMT");
    m.at = now;
    ck_assert_int_eq(ww_store_range_remember(st, &m), WW_OK); /* one row per URL */
    ck_assert_int_eq(ww_store_range_lookup(st, "http://a.test/x", &out), WW_OK);
    ck_assert_str_eq(out.etag, "\"v2\"");
    ck_assert_str_eq(out.last_modified, "Thu, 03 Dec 2026 10:00:00 GMT");
    ck_assert_str_eq(out.threat, "Eicar");
    ck_assert_int_eq(out.at, now);
    ck_assert_int_eq(ww_store_range_lookup(st, "http://a.test/y", &out), WW_ENOTFOUND);
    /* An old row goes when a newer one is written past its TTL. */
    snprintf(m.url, sizeof(m.url), "http://a.test/old");
    m.at = now - 2 * WW_RANGE_TTL_S;
    ck_assert_int_eq(ww_store_range_remember(st, &m), WW_OK);
    snprintf(m.url, sizeof(m.url), "http://a.test/new");
    m.at = now;
    ck_assert_int_eq(ww_store_range_remember(st, &m), WW_OK);
    ck_assert_int_eq(ww_store_range_lookup(st, "http://a.test/old", &out), WW_ENOTFOUND);
    ck_assert_int_eq(ww_store_range_lookup(st, "http://a.test/new", &out), WW_OK);
    m.url[0] = '\0';
    ck_assert_int_eq(ww_store_range_remember(st, &m), WW_EINVAL);
    ww_store_close(st);
}
END_TEST

START_TEST(test_store_license_roundtrip)
{
    struct ww_store *st = open_migrated();
    struct ww_license in, out;

    ck_assert_int_eq(ww_store_license_get(st, &out), WW_OK);
    ck_assert_str_eq(out.activation_code, "");
    ck_assert_str_eq(out.status, "");
    ck_assert_int_eq(out.checked_at, 0);
    memset(&in, 0, sizeof(in));
    snprintf(in.activation_code, sizeof(in.activation_code), "%s",
             "AB-CDEF-GHIJK-LMNOP-QRSTU-VWXYZ-12345");
    snprintf(in.status, sizeof(in.status), "active");
    snprintf(in.product, sizeof(in.product), "Webwarden");
    snprintf(in.edition, sizeof(in.edition), "Standard");
    snprintf(in.expires, sizeof(in.expires), "2027-12-31");
    in.seats = 250;
    in.grace_days = 90;
    in.checked_at = 1790000000;
    ck_assert_int_eq(ww_store_license_set(st, &in), WW_OK);
    ww_store_close(st);
    st = open_migrated();
    ck_assert_int_eq(ww_store_license_get(st, &out), WW_OK);
    ck_assert_str_eq(out.activation_code, in.activation_code);
    ck_assert_str_eq(out.status, "active");
    ck_assert_str_eq(out.product, "Webwarden");
    ck_assert_str_eq(out.edition, "Standard");
    ck_assert_str_eq(out.expires, "2027-12-31");
    ck_assert_int_eq(out.seats, 250);
    ck_assert_int_eq(out.grace_days, 90);
    ck_assert_int_eq(out.checked_at, 1790000000);
    ww_store_close(st);
    /* the admin's view hides the code */
    ck_assert_int_eq(raw_int("SELECT activation_code = '********************************12345'"
                             " FROM license_v"),
                     1);
}
END_TEST

/* ---- several processes at once ---- */

enum { WRITER_ROWS = 2000, WRITER_BATCH = 20, WRITER_EVENTS = 500, WRITERS = 2 };

/* Child: waits for the start gate, then writes its share; exit status 0 or the failing step. */
static int writer_run(int writer, int gate)
{
    struct ww_feedback_event batch[WRITER_BATCH];
    struct ww_store *st = NULL;
    char err[WW_ERRLEN], src[16], msg[32];
    int rc = 1;

    if (ww_store_open(dbpath, 0, &st, err, sizeof(err)) != WW_OK)
        return 2;
    if (read(gate, msg, 1) != 0) /* EOF when the parent closes the gate */
        goto cleanup;
    snprintf(src, sizeof(src), "w%d", writer);
    for (int i = 0, ev = 0; i < WRITER_ROWS; i += WRITER_BATCH) {
        for (int j = 0; j < WRITER_BATCH; j++)
            make_event(&batch[j], writer, i + j);
        if (ww_store_feedback_enqueue(st, batch, WRITER_BATCH, 1000000) != WW_OK) {
            rc = 3;
            goto cleanup;
        }
        /* interleave single-row event transactions with the batches */
        for (int k = 0; k < WRITER_EVENTS / (WRITER_ROWS / WRITER_BATCH); k++, ev++) {
            snprintf(msg, sizeof(msg), "event %d", ev);
            if (ww_store_add_event(st, "info", src, msg) != WW_OK) {
                rc = 4;
                goto cleanup;
            }
        }
    }
    rc = 0;
cleanup:
    ww_store_close(st);
    return rc;
}

static void count_event(const struct ww_event *ev, void *arg)
{
    int *per = arg;

    if (strcmp(ev->source, "w0") == 0)
        per[0]++;
    else if (strcmp(ev->source, "w1") == 0)
        per[1]++;
}

/* Child: reads while the writers write; the queue never shrinks and no read fails. */
static int reader_run(int gate)
{
    struct ww_store *st = NULL;
    char err[WW_ERRLEN], c;
    int64_t queued = 0, dropped = 0, last = 0;
    time_t deadline = time(NULL) + 60;
    int per[2], rc = 1, reads = 0;

    if (ww_store_open(dbpath, WW_STORE_READONLY, &st, err, sizeof(err)) != WW_OK)
        return 2;
    if (read(gate, &c, 1) != 0)
        goto cleanup;
    while (queued < (int64_t)WRITERS * WRITER_ROWS) {
        if (time(NULL) > deadline) {
            rc = 5;
            goto cleanup;
        }
        per[0] = per[1] = 0;
        if (ww_store_feedback_stats(st, &queued, &dropped) != WW_OK ||
            ww_store_list_events(st, 50, count_event, per) != WW_OK) {
            rc = 3;
            goto cleanup;
        }
        if (queued < last || dropped != 0) {
            rc = 4;
            goto cleanup;
        }
        last = queued;
        reads++;
    }
    rc = reads > 0 ? 0 : 6;
cleanup:
    ww_store_close(st);
    return rc;
}

START_TEST(test_store_two_writers_and_a_reader_lose_nothing)
{
    enum { PROCS = WRITERS + 1 };
    struct ww_store *st = open_migrated();
    static struct ww_feedback_event all[WRITERS * WRITER_ROWS];
    int gate[2], per[2] = {0, 0}, next[WRITERS] = {0, 0};
    pid_t pid[PROCS];
    size_t n = 0;

    ww_store_close(st); /* each process opens its own handle after fork */
    ck_assert_int_eq(pipe(gate), 0);
    for (int p = 0; p < PROCS; p++) {
        pid[p] = fork();
        ck_assert_int_ge(pid[p], 0);
        if (pid[p] == 0) {
            close(gate[1]);
            _exit(p < WRITERS ? writer_run(p, gate[0]) : reader_run(gate[0]));
        }
    }
    close(gate[0]);
    close(gate[1]); /* opens the gate: every child starts at once */
    for (int p = 0; p < PROCS; p++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pid[p], &status, 0), pid[p]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "%s %d failed: exit status %d (signal %d)", p < WRITERS ? "writer" : "reader",
                      p, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }

    st = open_migrated();
    ck_assert_int_eq(ww_store_feedback_peek(st, all, WRITERS * WRITER_ROWS, &n), WW_OK);
    ck_assert_uint_eq(n, WRITERS * WRITER_ROWS);
    for (size_t i = 0; i < n; i++) {
        int w = -1, k = -1;
        ck_assert_msg(sscanf(all[i].url, "http://w%d.example/%d", &w, &k) == 2 && w >= 0 &&
                          w < WRITERS,
                      "row %zu: url \"%s\"", i, all[i].url);
        /* each writer's rows arrive complete and in its own order */
        ck_assert_msg(k == next[w], "row %zu: writer %d row %d, want row %d", i, w, k, next[w]);
        next[w]++;
    }
    ck_assert_int_eq(ww_store_list_events(st, 0, count_event, per), WW_OK);
    ck_assert_msg(per[0] == WRITER_EVENTS && per[1] == WRITER_EVENTS, "events %d/%d, want %d each",
                  per[0], per[1], WRITER_EVENTS);
    ww_store_close(st);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc;

    tc = tcase_create("open");
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, test_store_open_migrate_creates_wal_db_mode_0640);
    tcase_add_test(tc, test_store_open_migrate_twice_is_idempotent);
    tcase_add_test(tc, test_store_open_migrate_while_others_have_it_open);
    tcase_add_test(tc, test_store_open_without_migrate_refuses_missing_file);
    tcase_add_test(tc, test_store_open_without_migrate_refuses_old_schema);
    tcase_add_test(tc, test_store_open_refuses_newer_schema);
    tcase_add_test(tc, test_store_failed_migration_changes_nothing);
    tcase_add_test(tc, test_store_open_not_a_database_fails_cleanly);
    tcase_add_test(tc, test_store_open_refuses_bad_arguments);
    tcase_add_test(tc, test_store_readonly_reads_and_refuses_writes);
    suite_add_tcase(s, tc);

    tc = tcase_create("kv");
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, test_store_kv_get_set_overwrite_and_small_buffer);
    tcase_add_test(tc, test_store_appliance_id_made_once_and_kept);
    suite_add_tcase(s, tc);

    tc = tcase_create("scan_method");
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, test_store_scan_method_starts_smart_by_init);
    tcase_add_test(tc, test_store_set_scan_method_records_history_and_event_once);
    tcase_add_test(tc, test_store_list_events_gives_newest_oldest_first);
    tcase_add_test(tc, test_store_health_streak_counts_the_tail);
    suite_add_tcase(s, tc);

    tc = tcase_create("feedback");
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, test_store_feedback_enqueue_peek_delete);
    tcase_add_test(tc, test_store_feedback_ids_never_reused_after_emptying);
    tcase_add_test(tc, test_store_feedback_full_queue_drops_oldest_and_counts);
    tcase_add_test(tc, test_store_feedback_one_over_the_bound_drops_exactly_one);
    suite_add_tcase(s, tc);

    tc = tcase_create("components");
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, test_store_component_install_history_rollback);
    tcase_add_test(tc, test_store_component_same_second_rolls_back_by_install_order);
    tcase_add_test(tc, test_store_license_roundtrip);
    tcase_add_test(tc, test_store_range_remember_lookup_newest_wins_and_prunes);
    suite_add_tcase(s, tc);

    tc = tcase_create("concurrency");
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_store_two_writers_and_a_reader_lose_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(store_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
