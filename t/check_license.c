/* t/check_license.c - unit tests for lib/ww_license.c: the activation code format, dates, the
 * expiry/grace rules at their edges, and check/activate/re-check against t/fake_cloud.py - a
 * failing server never changes the stored license by a single byte. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cloud_testlib.h"
#include "ww_common.h"
#include "ww_conf.h"
#include "ww_http.h"
#include "ww_license.h"
#include "ww_store.h"

#define LIC_TIMEOUT_MS 400
#define CODE_ACTIVE "AC-1234-ABCDE-FGHIJ-KLMNO-PQRST-UVW12"
#define CODE_OTHER "AC-9999-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-99999"
#define CODE_EXPIRED "EX-1234-ABCDE-FGHIJ-KLMNO-PQRST-UVW12"
#define CODE_INVALID "ZZ-1234-ABCDE-FGHIJ-KLMNO-PQRST-UVW12"

/* ---- offline: format, dates, phases ---- */

static const struct {
    const char *in, *want; /* want NULL = refused */
} code_cases[] = {
    {CODE_ACTIVE, CODE_ACTIVE},
    {"ac-1234-abcde-fghij-klmno-pqrst-uvw12", CODE_ACTIVE},
    {"  Ac-1234-aBcDe-FGHIJ-klmno-PQRST-uvw12\n", CODE_ACTIVE},
    {"00-0000-00000-00000-00000-00000-00000", "00-0000-00000-00000-00000-00000-00000"},
    {"", NULL},
    {"AC-1234-ABCDE-FGHIJ-KLMNO-PQRST-UVW1", NULL},   /* 36 characters */
    {"AC-1234-ABCDE-FGHIJ-KLMNO-PQRST-UVW123", NULL}, /* 38 */
    {"ACX1234-ABCDE-FGHIJ-KLMNO-PQRST-UVW12", NULL},  /* no hyphen after group 1 */
    {"A-12345-ABCDE-FGHIJ-KLMNO-PQRST-UVW12", NULL},  /* groups 1-5 */
    {"AC-123-ABCDEF-FGHIJ-KLMNO-PQRST-UVW12", NULL},  /* groups 3-6 */
    {"AC-1234-ABCDE-FGHIJ-KLMNO-PQRSTUUVW12", NULL},  /* 6 groups */
    {"AC-1234-ABC E-FGHIJ-KLMNO-PQRST-UVW12", NULL},  /* inner blank */
    {"AC-1234-ABCDE-FGH_J-KLMNO-PQRST-UVW12", NULL},  /* underscore */
    {"AC-1234-ABCDE-FGHIJ-KLMNO-PQRST-UV\xc3\xa9"
     "2",
     NULL}, /* non-ASCII */
    {"AC_1234_ABCDE_FGHIJ_KLMNO_PQRST_UVW12", NULL},
    {"--------------------------------------", NULL},
};

START_TEST(test_license_code_format_table)
{
    const char *in = code_cases[_i].in, *want = code_cases[_i].want;
    char out[64] = "", err[WW_ERRLEN] = "";
    int rc = ww_license_code_normalise(in, out, sizeof(out), err, sizeof(err));

    if (want != NULL)
        ck_assert_msg(rc == WW_OK && strcmp(out, want) == 0,
                      "normalise(\"%s\") = %d \"%s\" (%s), want \"%s\"", in, rc, out, err, want);
    else
        ck_assert_msg(rc == WW_EINVAL && err[0] != '\0' &&
                          (in[0] == '\0' || strstr(err, in) == NULL),
                      "normalise(\"%s\") = %d \"%s\", want refused with a reason", in, rc, err);
}
END_TEST

START_TEST(test_license_code_null_refused)
{
    char out[64], err[WW_ERRLEN] = "";
    ck_assert_int_eq(ww_license_code_normalise(NULL, out, sizeof(out), err, sizeof(err)),
                     WW_EINVAL);
}
END_TEST

static const struct {
    const char *in;
    long want; /* -1 = refused */
} date_cases[] = {
    {"1970-01-01", 0},  {"2027-11-27", 21149}, {"2024-02-29", 19782}, {"2000-02-29", 11016},
    {"2023-02-29", -1}, {"1900-02-28", -1},    {"2100-02-29", -1},    {"2027-13-01", -1},
    {"2027-00-10", -1}, {"2027-11-31", -1},    {"2027-11-00", -1},    {"2027-1-10", -1},
    {"2027/11/27", -1}, {"27-11-2027", -1},    {"2027-11-27 ", -1},   {"", -1},
    {"2027-11-2x", -1},
};

START_TEST(test_license_parse_date_table)
{
    long days = -1;
    int rc = ww_license_parse_date(date_cases[_i].in, &days);

    if (date_cases[_i].want >= 0)
        ck_assert_msg(rc == WW_OK && days == date_cases[_i].want,
                      "parse_date(\"%s\") = %d %ld, want %ld", date_cases[_i].in, rc, days,
                      date_cases[_i].want);
    else
        ck_assert_msg(rc == WW_EINVAL, "parse_date(\"%s\") = %d, want refused", date_cases[_i].in,
                      rc);
}
END_TEST

static void make_license(struct ww_license *lic, const char *status, const char *expires)
{
    memset(lic, 0, sizeof(*lic));
    snprintf(lic->activation_code, sizeof(lic->activation_code), CODE_ACTIVE);
    snprintf(lic->status, sizeof(lic->status), "%s", status);
    snprintf(lic->expires, sizeof(lic->expires), "%s", expires);
}

/* Expiry 2027-11-27, grace 90 days: the grace period ends 2028-02-25 (a leap year). */
static const struct {
    const char *what;
    const char *status;
    time_t now;
    int grace_days;
    int want_allowed;
    enum ww_license_phase want_phase;
    int want_days_left, want_grace_left;
} grace_cases[] = {
    {"a month before", "active", 1824724800, 90, 1, WW_LICENSE_ACTIVE, 30, 120},
    {"expiry day 00:00", "active", 1827273600, 90, 1, WW_LICENSE_ACTIVE, 0, 90},
    {"expiry day 23:59:59", "active", 1827359999, 90, 1, WW_LICENSE_ACTIVE, 0, 90},
    {"day after expiry", "active", 1827360000, 90, 1, WW_LICENSE_GRACE, -1, 89},
    {"server says expired", "expired", 1827360000, 90, 1, WW_LICENSE_GRACE, -1, 89},
    {"last grace day 23:59:59", "expired", 1835135999, 90, 1, WW_LICENSE_GRACE, -90, 0},
    {"first day past grace", "expired", 1835136000, 90, 0, WW_LICENSE_PAST_GRACE, -91, -1},
    {"no grace, day after", "expired", 1827360000, 0, 0, WW_LICENSE_PAST_GRACE, -1, -1},
    {"negative grace = 0", "expired", 1827360000, -5, 0, WW_LICENSE_PAST_GRACE, -1, -1},
    {"invalid", "invalid", 1824724800, 90, 0, WW_LICENSE_INVALID, 0, 0},
};

START_TEST(test_license_grace_edges)
{
    struct ww_license lic;
    struct ww_license_state s;
    char why[512] = "";
    int allowed;

    make_license(&lic, grace_cases[_i].status, "2027-11-27");
    ww_license_state(&lic, grace_cases[_i].now, grace_cases[_i].grace_days, &s);
    allowed = ww_license_updates_allowed(&lic, grace_cases[_i].now, grace_cases[_i].grace_days, why,
                                         sizeof(why));
    ck_assert_msg(
        allowed == grace_cases[_i].want_allowed && s.phase == grace_cases[_i].want_phase &&
            (s.phase == WW_LICENSE_INVALID ||
             (s.days_left == grace_cases[_i].want_days_left &&
              s.grace_days_left == grace_cases[_i].want_grace_left)),
        "%s: allowed %d phase %s days %d grace %d (%s), want %d %s %d %d", grace_cases[_i].what,
        allowed, ww_license_phase_name(s.phase), s.days_left, s.grace_days_left, why,
        grace_cases[_i].want_allowed, ww_license_phase_name(grace_cases[_i].want_phase),
        grace_cases[_i].want_days_left, grace_cases[_i].want_grace_left);
    ck_assert_msg(why[0] != '\0', "%s: no reason given", grace_cases[_i].what);
}
END_TEST

START_TEST(test_license_past_grace_reason_names_dates)
{
    struct ww_license lic;
    char why[512] = "";

    make_license(&lic, "expired", "2027-11-27");
    ck_assert_int_eq(ww_license_updates_allowed(&lic, 1835136000, 90, why, sizeof(why)), 0);
    ck_assert_msg(strstr(why, "2027-11-27") != NULL && strstr(why, "2028-02-25") != NULL &&
                      strstr(why, "updates stopped") != NULL,
                  "reason \"%s\"", why);
    ww_license_describe(&lic, 1827360000, 90, why, sizeof(why));
    ck_assert_str_eq(why, "expired 2027-11-27, grace period until 2028-02-25 (89 days left)");
    make_license(&lic, "active", "2027-11-27");
    ww_license_describe(&lic, 1827273600 - 86400, 90, why, sizeof(why));
    ck_assert_str_eq(why, "active, expires 2027-11-27 (1 day left)");
}
END_TEST

START_TEST(test_license_none_allows_updates)
{
    struct ww_license lic;
    char why[512] = "";

    memset(&lic, 0, sizeof(lic));
    ck_assert_int_eq(ww_license_updates_allowed(&lic, time(NULL), 90, why, sizeof(why)), 1);
    ck_assert_msg(strstr(why, "no license activated") != NULL, "reason \"%s\"", why);
    ck_assert_int_eq(ww_license_updates_allowed(NULL, time(NULL), 90, why, sizeof(why)), 1);
}
END_TEST

/* ---- online: check, activate, daily re-check ---- */

static struct fake_cloud cloud;
static char tmpdir[64];
static char dbpath[128];
static struct ww_store *st;
static struct ww_conf *conf;
static struct ww_http *http;

static void set_string(char **field, const char *value)
{
    free(*field);
    *field = strdup(value);
    ck_assert_ptr_nonnull(*field);
}

static void cloud_start(void)
{
    ck_assert_msg(fake_cloud_start(&cloud) == 0, "cannot start t/fake_cloud.py");
}

static void cloud_stop(void)
{
    fake_cloud_stop(&cloud);
}

static void lic_setup(void)
{
    char err[WW_ERRLEN] = "";
    int rc;

    ck_assert_msg(fake_cloud_mode(&cloud, "normal", 0) == 0 &&
                      fake_cloud_post(&cloud, "/_reset", "{}") == 0,
                  "cannot reset the fake cloud");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ww-license-XXXXXX");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
    snprintf(dbpath, sizeof(dbpath), "%s/state.db", tmpdir);
    rc = ww_store_open(dbpath, WW_STORE_MIGRATE, &st, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "open %s: %d %s", dbpath, rc, err);
    conf = ww_conf_create_defaults();
    ck_assert_ptr_nonnull(conf);
    set_string(&conf->license.server, cloud.base);
    conf->license.timeout_ms = LIC_TIMEOUT_MS;
    http = ww_license_http_create(conf, "test-appliance");
    ck_assert_ptr_nonnull(http);
}

static void lic_teardown(void)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char path[160];

    ww_http_free(http);
    ww_conf_free(conf);
    ww_store_close(st);
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", dbpath, suffix[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

/* The license row as SQLite has it, every column quoted: byte for byte. */
static void raw_row(char *out, size_t len)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;

    out[0] = '\0';
    ck_assert_int_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT quote(id) || '|' || quote(activation_code) || '|'"
                                        " || quote(status) || '|' || quote(product) || '|' ||"
                                        " quote(edition) || '|' || quote(expires) || '|' ||"
                                        " quote(seats) || '|' || quote(grace_days) || '|' ||"
                                        " quote(checked_at) FROM license",
                                        -1, &s, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    snprintf(out, len, "%s", (const char *)sqlite3_column_text(s, 0));
    ck_assert_int_eq(sqlite3_step(s), SQLITE_DONE); /* exactly one row */
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* Stores a known license directly, as an earlier activation would have. */
static void store_known(void)
{
    struct ww_license lic;

    make_license(&lic, "active", "2030-01-31");
    snprintf(lic.product, sizeof(lic.product), "Webwarden");
    snprintf(lic.edition, sizeof(lic.edition), "Old");
    lic.seats = 7;
    lic.grace_days = 90;
    lic.checked_at = 1700000000;
    ck_assert_int_eq(ww_store_license_set(st, &lic), WW_OK);
}

START_TEST(test_license_check_reads_answer)
{
    struct ww_license lic;
    char err[WW_ERRLEN] = "";
    long days;
    int rc = ww_license_check(conf, http, "ac-1234-abcde-fghij-klmno-pqrst-uvw12", &lic, err,
                              sizeof(err));

    ck_assert_msg(rc == WW_OK, "check = %d \"%s\"", rc, err);
    ck_assert_str_eq(lic.activation_code, CODE_ACTIVE);
    ck_assert_str_eq(lic.status, "active");
    ck_assert_str_eq(lic.product, "Webwarden");
    ck_assert_int_eq(lic.seats, 100);
    ck_assert_int_eq(lic.grace_days, 90);
    ck_assert_int_eq(ww_license_parse_date(lic.expires, &days), WW_OK);
    ck_assert_msg(lic.checked_at > 0 && lic.checked_at <= time(NULL), "checked_at %lld",
                  (long long)lic.checked_at);
}
END_TEST

START_TEST(test_license_check_refuses_bad_format_offline)
{
    struct ww_license lic;
    char err[WW_ERRLEN] = "";
    int rc = ww_license_check(conf, http, "AC-12", &lic, err, sizeof(err));

    ck_assert_msg(rc == WW_EINVAL && strstr(err, "XX-XXXX-XXXXX") != NULL, "check = %d \"%s\"", rc,
                  err);
    ck_assert_int_eq(fake_cloud_stat(&cloud, "license_requests"), 0);
}
END_TEST

START_TEST(test_license_no_server_is_a_clear_error)
{
    struct ww_license lic;
    char err[WW_ERRLEN] = "";
    int rc;

    set_string(&conf->license.server, "");
    rc = ww_license_check(conf, http, CODE_ACTIVE, &lic, err, sizeof(err));
    ck_assert_msg(rc == WW_EINVAL && strstr(err, "no license server") != NULL, "check = %d \"%s\"",
                  rc, err);
}
END_TEST

static const struct {
    const char *mode;
    int ms;
    int want_rc;
    const char *want_err;
} server_failures[] = {
    {"hang", 0, WW_ETIMEOUT, "license server unavailable: timeout"},
    {"refuse", 1500, WW_EUNAVAIL, "license server unavailable: unreachable"},
    {"500", 0, WW_EUNAVAIL, "license server unavailable: HTTP 500"},
    {"malformed", 0, WW_EPROTO, "license server answer malformed: not JSON"},
    {"wrongshape", 0, WW_EPROTO, "license server answer malformed: status"},
    {"truncated", 0, WW_EUNAVAIL, "license server unavailable"},
    {"delay", 1500, WW_ETIMEOUT, "license server unavailable: timeout"},
};

static void wait_server_back(void)
{
    for (int64_t deadline = cloud_now_ms() + 10000; cloud_now_ms() < deadline; cloud_sleep_ms(100))
        if (fake_cloud_mode(&cloud, "normal", 0) == 0)
            return;
    ck_abort_msg("fake cloud did not come back");
}

START_TEST(test_license_failures_leave_stored_license_byte_identical)
{
    const char *mode = server_failures[_i].mode;
    struct ww_license before, after, lic;
    char row_before[1024], row_after[1024], err[WW_ERRLEN] = "", result[512] = "";
    int rc;

    store_known();
    memset(&before, 0, sizeof(before));
    memset(&after, 0, sizeof(after));
    ck_assert_int_eq(ww_store_license_get(st, &before), WW_OK);
    raw_row(row_before, sizeof(row_before));
    for (int op = 0; op < 3; op++) {
        int64_t t0 = cloud_now_ms();
        ck_assert_int_eq(fake_cloud_mode(&cloud, mode, server_failures[_i].ms), 0);
        if (op == 0)
            rc = ww_license_check(conf, http, CODE_OTHER, &lic, err, sizeof(err));
        else if (op == 1)
            rc = ww_license_activate(st, conf, http, CODE_OTHER, &lic, err, sizeof(err));
        else
            rc = ww_license_run_once(st, conf, http, result, sizeof(result));
        ck_assert_msg(cloud_now_ms() - t0 < LIC_TIMEOUT_MS + 1500, "mode %s op %d took %lld ms",
                      mode, op, (long long)(cloud_now_ms() - t0));
        ck_assert_msg(rc == server_failures[_i].want_rc &&
                          strstr(op == 2 ? result : err, server_failures[_i].want_err) != NULL,
                      "mode %s op %d: %d \"%s\", want %d \"%s\"", mode, op, rc,
                      op == 2 ? result : err, server_failures[_i].want_rc,
                      server_failures[_i].want_err);
        ck_assert_msg(strstr(op == 2 ? result : err, CODE_OTHER) == NULL &&
                          strstr(result, CODE_ACTIVE) == NULL,
                      "a full code in \"%s\"", op == 2 ? result : err);
        wait_server_back();
        ck_assert_int_eq(ww_store_license_get(st, &after), WW_OK);
        raw_row(row_after, sizeof(row_after));
        ck_assert_msg(
            memcmp(&before, &after, sizeof(before)) == 0 && strcmp(row_before, row_after) == 0,
            "mode %s op %d: license changed:\n  %s\n  %s", mode, op, row_before, row_after);
    }
}
END_TEST

START_TEST(test_license_activate_stores_only_active)
{
    struct ww_license lic, got;
    char row_before[1024], row_after[1024], err[WW_ERRLEN] = "";
    const char *refused[] = {CODE_EXPIRED, CODE_INVALID};
    int rc;

    store_known();
    raw_row(row_before, sizeof(row_before));
    for (size_t i = 0; i < 2; i++) {
        rc = ww_license_activate(st, conf, http, refused[i], &lic, err, sizeof(err));
        ck_assert_msg(rc == WW_ENOTFOUND && strstr(err, "activation refused") != NULL &&
                          strstr(err, refused[i]) == NULL && strstr(err, "UVW12") != NULL,
                      "activate %zu = %d \"%s\"", i, rc, err);
        raw_row(row_after, sizeof(row_after));
        ck_assert_msg(strcmp(row_before, row_after) == 0, "refused activation changed %s -> %s",
                      row_before, row_after);
    }
    rc = ww_license_activate(st, conf, http, "ac-9999-zzzzz-zzzzz-zzzzz-zzzzz-99999", &lic, err,
                             sizeof(err));
    ck_assert_msg(rc == WW_OK, "activate = %d \"%s\"", rc, err);
    ck_assert_int_eq(ww_store_license_get(st, &got), WW_OK);
    ck_assert_str_eq(got.activation_code, CODE_OTHER);
    ck_assert_str_eq(got.status, "active");
    ck_assert_str_eq(got.edition, "Standard");
    ck_assert_str_eq(got.expires, lic.expires);
    ck_assert_int_eq(fake_cloud_stat(&cloud, "license_requests"), 3);
}
END_TEST

static int count_events(const char *needle)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int n = -1;

    ck_assert_int_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM events WHERE source = 'license'"
                                        " AND instr(message, ?1) > 0",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(s, 1, needle, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static void day_string(int offset_days, char *out, size_t len)
{
    time_t t = time(NULL) + (time_t)offset_days * 86400;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d", &tm);
}

START_TEST(test_license_run_once_updates_status_and_warns_once_a_day)
{
    struct ww_license got;
    char result[512] = "", date[32], json[256];
    int rc;

    rc = ww_license_run_once(st, conf, http, result, sizeof(result));
    ck_assert_msg(rc == WW_OK && strcmp(result, "no license") == 0, "run = %d \"%s\"", rc, result);
    store_known();
    day_string(10, date, sizeof(date));
    snprintf(json, sizeof(json),
             "{\"%s\": {\"status\": \"active\", \"product\": \"Webwarden\", \"edition\": \"New\","
             " \"expires\": \"%s\", \"seats\": 5, \"grace_days\": 90}}",
             CODE_ACTIVE, date);
    ck_assert_int_eq(fake_cloud_post(&cloud, "/_licenses", json), 0);
    for (int i = 0; i < 2; i++) {
        rc = ww_license_run_once(st, conf, http, result, sizeof(result));
        ck_assert_msg(rc == WW_OK && strstr(result, "10 days left") != NULL, "run = %d \"%s\"", rc,
                      result);
    }
    ck_assert_int_eq(ww_store_license_get(st, &got), WW_OK);
    ck_assert_str_eq(got.activation_code, CODE_ACTIVE);
    ck_assert_str_eq(got.edition, "New");
    ck_assert_str_eq(got.expires, date);
    ck_assert_int_eq(got.seats, 5);
    ck_assert_msg(count_events("10 days left") == 1, "expiry warnings: %d, want 1 a day",
                  count_events("10 days left"));
    /* Now the server says expired 100 days ago: past the 90-day grace. */
    day_string(-100, date, sizeof(date));
    snprintf(json, sizeof(json), "{\"%s\": {\"status\": \"expired\", \"expires\": \"%s\"}}",
             CODE_ACTIVE, date);
    ck_assert_int_eq(fake_cloud_post(&cloud, "/_licenses", json), 0);
    rc = ww_license_run_once(st, conf, http, result, sizeof(result));
    ck_assert_msg(rc == WW_OK && strstr(result, "updates stopped") != NULL, "run = %d \"%s\"", rc,
                  result);
    ck_assert_int_eq(count_events("updates stopped"), 1);
    ck_assert_int_eq(count_events(CODE_ACTIVE), 0);
}
END_TEST

START_TEST(test_license_run_once_in_grace_notes_it)
{
    char result[512] = "", date[32], json[256];
    int rc;

    store_known();
    day_string(-3, date, sizeof(date));
    snprintf(json, sizeof(json), "{\"%s\": {\"status\": \"expired\", \"expires\": \"%s\"}}",
             CODE_ACTIVE, date);
    ck_assert_int_eq(fake_cloud_post(&cloud, "/_licenses", json), 0);
    rc = ww_license_run_once(st, conf, http, result, sizeof(result));
    ck_assert_msg(rc == WW_OK && strstr(result, "grace period until") != NULL &&
                      strstr(result, "87 days left") != NULL,
                  "run = %d \"%s\"", rc, result);
    ck_assert_int_eq(count_events("updates continue until then"), 1);
}
END_TEST

static Suite *license_suite(void)
{
    Suite *s = suite_create("license");
    TCase *off = tcase_create("offline");
    TCase *on = tcase_create("server");

    tcase_add_loop_test(off, test_license_code_format_table, 0,
                        (int)(sizeof(code_cases) / sizeof(code_cases[0])));
    tcase_add_test(off, test_license_code_null_refused);
    tcase_add_loop_test(off, test_license_parse_date_table, 0,
                        (int)(sizeof(date_cases) / sizeof(date_cases[0])));
    tcase_add_loop_test(off, test_license_grace_edges, 0,
                        (int)(sizeof(grace_cases) / sizeof(grace_cases[0])));
    tcase_add_test(off, test_license_past_grace_reason_names_dates);
    tcase_add_test(off, test_license_none_allows_updates);
    suite_add_tcase(s, off);

    tcase_add_unchecked_fixture(on, cloud_start, cloud_stop);
    tcase_add_checked_fixture(on, lic_setup, lic_teardown);
    tcase_set_timeout(on, 60);
    tcase_add_test(on, test_license_check_reads_answer);
    tcase_add_test(on, test_license_check_refuses_bad_format_offline);
    tcase_add_test(on, test_license_no_server_is_a_clear_error);
    tcase_add_loop_test(on, test_license_failures_leave_stored_license_byte_identical, 0,
                        (int)(sizeof(server_failures) / sizeof(server_failures[0])));
    tcase_add_test(on, test_license_activate_stores_only_active);
    tcase_add_test(on, test_license_run_once_updates_status_and_warns_once_a_day);
    tcase_add_test(on, test_license_run_once_in_grace_notes_it);
    suite_add_tcase(s, on);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(license_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
