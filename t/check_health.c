/* t/check_health.c - health checks against t/fake_sps.py: recorded history, the fall-back to
 * conventional scan after consecutive failures, the optional automatic return, the CLI check. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sps_testlib.h"
#include "ww_common.h"
#include "ww_conf.h"
#include "ww_health.h"
#include "ww_http.h"
#include "ww_log.h"
#include "ww_store.h"

static struct fake_sps fake;
static struct ww_store *st;
static struct ww_conf *conf;
static char dbdir[64];

/* Log lines seen (the fall-back must write one loud error line). */
static int err_lines;
static char last_err[1024];

static void capture_sink(int level, const char *line)
{
    if (level == WW_LOG_ERR) {
        err_lines++;
        snprintf(last_err, sizeof(last_err), "%s", line);
    }
}

static void fake_up(void)
{
    ck_assert_msg(fake_sps_start(&fake, NULL, 3600) == 0, "cannot start t/fake_sps.py");
}

static void fake_down(void)
{
    fake_sps_stop(&fake);
}

static void set_server(const char *server)
{
    free(conf->smart_scan.server);
    conf->smart_scan.server = strdup(server);
    ck_assert_ptr_nonnull(conf->smart_scan.server);
}

/* A fresh database (scan method smart) and default settings pointing at the fake. */
static void env_up(void)
{
    char err[WW_ERRLEN] = "", path[128];

    snprintf(dbdir, sizeof(dbdir), "/tmp/ww-health-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dbdir));
    snprintf(path, sizeof(path), "%s/state.db", dbdir);
    ck_assert_msg(ww_store_open(path, WW_STORE_MIGRATE, &st, err, sizeof(err)) == WW_OK,
                  "store: %s", err);
    conf = ww_conf_create_defaults();
    ck_assert_ptr_nonnull(conf);
    set_server(fake.base);
    conf->smart_scan.timeout_ms = 400;
    ck_assert_int_eq(fake_sps_back(&fake), 0); /* up again if an earlier test left it down */
    ck_assert_int_eq(fake_sps_mode(&fake, "normal", 0), 0);
    ck_assert_int_eq(fake_sps_reset(&fake), 0);
    err_lines = 0;
    last_err[0] = '\0';
    ww_log_set_sink(capture_sink, WW_LOG_DEBUG);
}

static void env_down(void)
{
    char path[160];

    ww_log_set_sink(NULL, WW_LOG_INFO);
    ww_store_close(st);
    st = NULL;
    ww_conf_free(conf);
    conf = NULL;
    for (int i = 0; i < 3; i++) {
        static const char *sfx[] = {"", "-wal", "-shm"};
        snprintf(path, sizeof(path), "%s/state.db%s", dbdir, sfx[i]);
        unlink(path);
    }
    rmdir(dbdir);
}

static enum ww_scan_method method(struct ww_scan_state *s)
{
    struct ww_scan_state tmp;

    if (s == NULL)
        s = &tmp;
    ck_assert_int_eq(ww_store_get_scan_method(st, s), WW_OK);
    return s->method;
}

static int run(char *result, size_t len)
{
    return ww_health_run_once(st, conf, NULL, result, len);
}

static void runs(int n, int want_ok)
{
    char result[256];

    for (int i = 0; i < n; i++) {
        int rc = run(result, sizeof(result));
        ck_assert_msg((rc == WW_OK) == want_ok, "check %d: rc %d \"%s\", want %s", i, rc, result,
                      want_ok ? "ok" : "a failure");
    }
}

struct event_find {
    const char *needle;
    int found;
};

static void event_fn(const struct ww_event *ev, void *arg)
{
    struct event_find *f = arg;

    if (strstr(ev->message, f->needle) != NULL && strcmp(ev->source, "scan") == 0)
        f->found++;
}

START_TEST(test_health_unconfigured_records_nothing)
{
    char result[256];
    int failures = -1, successes = -1;

    set_server("");
    ck_assert_int_eq(run(result, sizeof(result)), WW_OK);
    ck_assert_str_eq(result, "not configured");
    ck_assert_int_eq(ww_store_health_streak(st, &failures, &successes), WW_OK);
    ck_assert_msg(failures == 0 && successes == 0, "streak %d/%d, want 0/0", failures, successes);
    ck_assert_int_eq(fake_sps_health(&fake), 0);
}
END_TEST

START_TEST(test_health_good_check_is_recorded)
{
    char result[256];
    int failures = -1, successes = -1;

    ck_assert_int_eq(run(result, sizeof(result)), WW_OK);
    ck_assert_msg(strncmp(result, "ok", 2) == 0, "result \"%s\", want \"ok ...\"", result);
    ck_assert_int_eq(ww_store_health_streak(st, &failures, &successes), WW_OK);
    ck_assert_msg(failures == 0 && successes == 1, "streak %d/%d, want 0/1", failures, successes);
    ck_assert_int_eq(fake_sps_health(&fake), 1);
    ck_assert_int_eq(method(NULL), WW_SCAN_SMART);
}
END_TEST

START_TEST(test_health_three_failures_switch_to_conventional)
{
    struct ww_scan_state s;
    struct event_find ev = {"changed to conventional", 0};
    char result[256], want[256];

    ck_assert_int_eq(fake_sps_mode(&fake, "500", 0), 0);
    for (int i = 1; i <= 2; i++) {
        ck_assert_int_eq(run(result, sizeof(result)), WW_EUNAVAIL);
        ck_assert_msg(method(NULL) == WW_SCAN_SMART, "after %d failures: conventional already", i);
    }
    ck_assert_int_eq(err_lines, 0);
    ck_assert_int_eq(run(result, sizeof(result)), WW_EUNAVAIL);
    ck_assert_msg(strstr(result, "conventional") != NULL, "result \"%s\" does not say so", result);
    ck_assert_int_eq(method(&s), WW_SCAN_CONVENTIONAL);
    ck_assert_str_eq(s.changed_by, "webwardend");
    snprintf(want, sizeof(want), "3 consecutive failed health checks of %s (last: HTTP 500)",
             fake.base);
    ck_assert_str_eq(s.reason, want);
    ck_assert_msg(s.changed_at > 0, "no time of change");
    ck_assert_int_eq(ww_store_list_events(st, 10, event_fn, &ev), WW_OK);
    ck_assert_msg(ev.found == 1, "%d scan events saying \"%s\", want 1", ev.found, ev.needle);
    ck_assert_msg(err_lines == 1 && strstr(last_err, "conventional") != NULL &&
                      strstr(last_err, fake.base) != NULL,
                  "error lines %d, last \"%s\": want one naming the server", err_lines, last_err);
    /* further failures: no new change, event or error line */
    runs(2, 0);
    ev.found = 0;
    ck_assert_int_eq(ww_store_list_events(st, 10, event_fn, &ev), WW_OK);
    ck_assert_int_eq(ev.found, 1);
    ck_assert_int_eq(err_lines, 1);
}
END_TEST

START_TEST(test_health_refused_and_hanging_server_count_as_failures)
{
    struct ww_scan_state s;
    char result[256];
    int64_t t0;

    ck_assert_int_eq(fake_sps_mode(&fake, "hang", 0), 0);
    t0 = sps_now_ms();
    ck_assert_int_eq(run(result, sizeof(result)), WW_ETIMEOUT);
    ck_assert_msg(sps_now_ms() - t0 < 1500, "hanging server: check took %lld ms",
                  (long long)(sps_now_ms() - t0));
    ck_assert_int_eq(fake_sps_mode(&fake, "refuse", -1), 0);
    runs(2, 0);
    ck_assert_int_eq(method(&s), WW_SCAN_CONVENTIONAL);
    ck_assert_msg(strstr(s.reason, "3 consecutive failed health checks") != NULL, "reason \"%s\"",
                  s.reason);
    ck_assert_int_eq(fake_sps_back(&fake), 0);
}
END_TEST

START_TEST(test_health_two_failures_then_success_stays_smart)
{
    ck_assert_int_eq(fake_sps_mode(&fake, "malformed", 0), 0);
    runs(2, 0);
    ck_assert_int_eq(fake_sps_mode(&fake, "normal", 0), 0);
    runs(1, 1);
    ck_assert_int_eq(fake_sps_mode(&fake, "wrongtype", 0), 0);
    runs(2, 0);
    ck_assert_msg(method(NULL) == WW_SCAN_SMART, "2+1+2 checks: conventional, want smart");
    ck_assert_int_eq(err_lines, 0);
}
END_TEST

START_TEST(test_health_failures_to_fallback_setting_is_used)
{
    conf->smart_scan.failures_to_fallback = 5;
    ck_assert_int_eq(fake_sps_mode(&fake, "500", 0), 0);
    runs(4, 0);
    ck_assert_int_eq(method(NULL), WW_SCAN_SMART);
    runs(1, 0);
    ck_assert_int_eq(method(NULL), WW_SCAN_CONVENTIONAL);
}
END_TEST

START_TEST(test_health_auto_recover_is_off_by_default)
{
    struct ww_scan_state s;

    ck_assert_int_eq(conf->smart_scan.auto_recover, 0);
    ck_assert_int_eq(fake_sps_mode(&fake, "500", 0), 0);
    runs(3, 0);
    ck_assert_int_eq(fake_sps_mode(&fake, "normal", 0), 0);
    runs(6, 1);
    ck_assert_int_eq(method(&s), WW_SCAN_CONVENTIONAL);
    ck_assert_str_eq(s.changed_by, "webwardend");
}
END_TEST

START_TEST(test_health_auto_recover_after_n_good_checks)
{
    struct ww_scan_state s;
    struct event_find ev = {"changed to smart", 0};
    char want[256];

    conf->smart_scan.auto_recover = 2;
    ck_assert_int_eq(fake_sps_mode(&fake, "500", 0), 0);
    runs(3, 0);
    ck_assert_int_eq(fake_sps_mode(&fake, "normal", 0), 0);
    runs(1, 1);
    ck_assert_msg(method(NULL) == WW_SCAN_CONVENTIONAL, "after 1 good check: smart already");
    runs(1, 1);
    ck_assert_int_eq(method(&s), WW_SCAN_SMART);
    ck_assert_str_eq(s.changed_by, "webwardend");
    snprintf(want, sizeof(want), "2 consecutive good health checks of %s", fake.base);
    ck_assert_str_eq(s.reason, want);
    ck_assert_int_eq(ww_store_list_events(st, 10, event_fn, &ev), WW_OK);
    ck_assert_int_eq(ev.found, 1);
}
END_TEST

START_TEST(test_health_admin_conventional_is_never_auto_recovered)
{
    struct ww_scan_state s;

    conf->smart_scan.auto_recover = 1;
    ck_assert_int_eq(ww_store_set_scan_method(st, WW_SCAN_CONVENTIONAL, "webwardenctl",
                                              "set by the administrator"),
                     WW_OK);
    runs(5, 1);
    ck_assert_int_eq(method(&s), WW_SCAN_CONVENTIONAL);
    ck_assert_str_eq(s.changed_by, "webwardenctl");
    /* nor is a fall-back the admin confirmed by setting conventional again after it */
    ck_assert_int_eq(ww_store_set_scan_method(st, WW_SCAN_SMART, "webwardenctl", "back"), WW_OK);
    ck_assert_int_eq(fake_sps_mode(&fake, "500", 0), 0);
    runs(3, 0);
    ck_assert_int_eq(method(NULL), WW_SCAN_CONVENTIONAL);
    ck_assert_int_eq(ww_store_set_scan_method(st, WW_SCAN_SMART, "webwardenctl", "x"), WW_OK);
    ck_assert_int_eq(ww_store_set_scan_method(st, WW_SCAN_CONVENTIONAL, "webwardenctl", "y"),
                     WW_OK);
    ck_assert_int_eq(fake_sps_mode(&fake, "normal", 0), 0);
    runs(3, 1);
    ck_assert_int_eq(method(&s), WW_SCAN_CONVENTIONAL);
    ck_assert_str_eq(s.changed_by, "webwardenctl");
}
END_TEST

START_TEST(test_health_reenabled_smart_needs_new_failures)
{
    struct ww_scan_state s;

    ck_assert_int_eq(fake_sps_mode(&fake, "500", 0), 0);
    runs(4, 0);
    ck_assert_int_eq(method(NULL), WW_SCAN_CONVENTIONAL);
    /* the admin forces smart while the server still fails: the old streak does not count */
    ck_assert_int_eq(ww_store_set_scan_method(st, WW_SCAN_SMART, "webwardenctl", "forced"), WW_OK);
    runs(2, 0);
    ck_assert_msg(method(NULL) == WW_SCAN_SMART, "2 new failures after re-enabling: conventional");
    runs(1, 0);
    ck_assert_int_eq(method(&s), WW_SCAN_CONVENTIONAL);
    ck_assert_msg(strstr(s.reason, "3 consecutive failed") != NULL, "reason \"%s\"", s.reason);
    /* re-enabled, one good check, then failures: three of them are needed again */
    ck_assert_int_eq(ww_store_set_scan_method(st, WW_SCAN_SMART, "webwardenctl", "again"), WW_OK);
    ck_assert_int_eq(fake_sps_mode(&fake, "normal", 0), 0);
    runs(1, 1);
    ck_assert_int_eq(fake_sps_mode(&fake, "500", 0), 0);
    runs(2, 0);
    ck_assert_int_eq(method(NULL), WW_SCAN_SMART);
    runs(1, 0);
    ck_assert_int_eq(method(NULL), WW_SCAN_CONVENTIONAL);
}
END_TEST

/* The admin's switch: a no-op when already in force; smart only when the server answers, unless
 * forced; recorded as webwardenctl with the reason. */
START_TEST(test_health_admin_switch_checks_the_server_unless_forced)
{
    struct ww_scan_state s;
    char why[256];
    int changed = -1;

    ck_assert_int_eq(
        ww_health_set_method(st, conf, WW_SCAN_SMART, 0, NULL, &changed, why, sizeof(why)), WW_OK);
    ck_assert_int_eq(changed, 0); /* a fresh database is smart already */
    ck_assert_int_eq(ww_health_set_method(st, conf, WW_SCAN_CONVENTIONAL, 0, "maintenance",
                                          &changed, why, sizeof(why)),
                     WW_OK);
    ck_assert_int_eq(changed, 1);
    ck_assert_int_eq(method(&s), WW_SCAN_CONVENTIONAL);
    ck_assert_str_eq(s.changed_by, "webwardenctl");
    ck_assert_str_eq(s.reason, "maintenance");
    ck_assert_int_eq(fake_sps_mode(&fake, "500", 0), 0);
    ck_assert_int_ne(
        ww_health_set_method(st, conf, WW_SCAN_SMART, 0, NULL, &changed, why, sizeof(why)), WW_OK);
    ck_assert_int_eq(changed, 0);
    ck_assert_msg(why[0] != '\0', "the refusal says why");
    ck_assert_int_eq(method(NULL), WW_SCAN_CONVENTIONAL);
    ck_assert_int_eq(
        ww_health_set_method(st, conf, WW_SCAN_SMART, 1, NULL, &changed, why, sizeof(why)), WW_OK);
    ck_assert_int_eq(changed, 1);
    ck_assert_int_eq(method(&s), WW_SCAN_SMART);
    ck_assert_msg(strstr(s.reason, "--force") != NULL, "reason \"%s\"", s.reason);
    ck_assert_int_eq(fake_sps_mode(&fake, "normal", 0), 0);
    ck_assert_int_eq(
        ww_health_set_method(st, conf, WW_SCAN_CONVENTIONAL, 0, NULL, &changed, why, sizeof(why)),
        WW_OK);
    ck_assert_int_eq(
        ww_health_set_method(st, conf, WW_SCAN_SMART, 0, NULL, &changed, why, sizeof(why)), WW_OK);
    ck_assert_int_eq(changed, 1);
    ck_assert_msg(strstr(why, "answered in") != NULL, "note \"%s\"", why);
}
END_TEST

START_TEST(test_health_uses_the_callers_client)
{
    struct ww_http_opts opts = {.timeout_ms = 400, .tls_verify = 1, .appliance_id = "given"};
    struct ww_http *h = ww_http_create(&opts);
    char result[256];

    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(ww_health_run_once(st, conf, h, result, sizeof(result)), WW_OK);
    ck_assert_int_eq(ww_health_run_once(st, conf, h, result, sizeof(result)), WW_OK);
    ck_assert_int_eq(fake_sps_health(&fake), 2);
    ww_http_free(h);
}
END_TEST

START_TEST(test_health_check_server_for_the_cli)
{
    char detail[256];

    ck_assert_int_eq(ww_health_check_server(conf, detail, sizeof(detail)), WW_OK);
    ck_assert_msg(strstr(detail, "answered") != NULL, "detail \"%s\"", detail);
    ck_assert_int_eq(fake_sps_mode(&fake, "refuse", -1), 0);
    ck_assert_int_eq(ww_health_check_server(conf, detail, sizeof(detail)), WW_EUNAVAIL);
    ck_assert_msg(strstr(detail, fake.base) != NULL, "detail \"%s\" does not name the server",
                  detail);
    ck_assert_int_eq(fake_sps_back(&fake), 0);
    ck_assert_int_eq(ww_health_check_server(conf, detail, sizeof(detail)), WW_OK);
    ck_assert_int_eq(fake_sps_health(&fake), 2); /* it records nothing, but it does ask */
    set_server("");
    ck_assert_int_eq(ww_health_check_server(conf, detail, sizeof(detail)), WW_OK);
    ck_assert_msg(strstr(detail, "no smart_scan.server") != NULL, "detail \"%s\"", detail);
}
END_TEST

Suite *health_suite(void)
{
    Suite *s = suite_create("health");
    TCase *tc = tcase_create("health");

    tcase_add_unchecked_fixture(tc, fake_up, fake_down);
    tcase_add_checked_fixture(tc, env_up, env_down);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_health_unconfigured_records_nothing);
    tcase_add_test(tc, test_health_good_check_is_recorded);
    tcase_add_test(tc, test_health_three_failures_switch_to_conventional);
    tcase_add_test(tc, test_health_refused_and_hanging_server_count_as_failures);
    tcase_add_test(tc, test_health_two_failures_then_success_stays_smart);
    tcase_add_test(tc, test_health_failures_to_fallback_setting_is_used);
    tcase_add_test(tc, test_health_auto_recover_is_off_by_default);
    tcase_add_test(tc, test_health_auto_recover_after_n_good_checks);
    tcase_add_test(tc, test_health_admin_conventional_is_never_auto_recovered);
    tcase_add_test(tc, test_health_reenabled_smart_needs_new_failures);
    tcase_add_test(tc, test_health_admin_switch_checks_the_server_unless_forced);
    tcase_add_test(tc, test_health_uses_the_callers_client);
    tcase_add_test(tc, test_health_check_server_for_the_cli);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(health_suite());
    int failed;

    ww_http_global_init();
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
