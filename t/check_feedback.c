/* t/check_feedback.c - unit tests for lib/ww_feedback.c against t/fake_cloud.py: batches, the
 * JSON of an event, every failure mode leaving the queue as it was, and exactly-once delivery
 * when an accepted batch's answer is lost. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cloud_testlib.h"
#include "ww_common.h"
#include "ww_conf.h"
#include "ww_feedback.h"
#include "ww_http.h"
#include "ww_store.h"

#define FB_TIMEOUT_MS 400

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

/* One fake for the whole suite (python starts slowly on a busy machine); each test starts
 * from a reset one. */
static void cloud_start(void)
{
    ck_assert_msg(fake_cloud_start(&cloud) == 0, "cannot start t/fake_cloud.py");
}

static void cloud_stop(void)
{
    fake_cloud_stop(&cloud);
}

static void fb_setup(void)
{
    char err[WW_ERRLEN] = "";
    int rc;

    ck_assert_msg(fake_cloud_mode(&cloud, "normal", 0) == 0 &&
                      fake_cloud_post(&cloud, "/_reset", "{}") == 0,
                  "cannot reset the fake cloud");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ww-feedback-XXXXXX");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
    snprintf(dbpath, sizeof(dbpath), "%s/state.db", tmpdir);
    rc = ww_store_open(dbpath, WW_STORE_MIGRATE, &st, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "open %s: %d %s", dbpath, rc, err);
    conf = ww_conf_create_defaults();
    ck_assert_ptr_nonnull(conf);
    set_string(&conf->feedback.server, cloud.base);
    conf->feedback.timeout_ms = FB_TIMEOUT_MS;
    conf->feedback.batch_size = 10;
    http = ww_feedback_http_create(conf, "test-appliance");
    ck_assert_ptr_nonnull(http);
}

static void fb_teardown(void)
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

static void enqueue(int from, int count)
{
    struct ww_feedback_event e;

    for (int i = from; i < from + count; i++) {
        memset(&e, 0, sizeof(e));
        snprintf(e.url, sizeof(e.url), "http://site%d.example/path?q=%d", i, i);
        e.score = i % 100;
        snprintf(e.categories, sizeof(e.categories), "news, sports");
        snprintf(e.action, sizeof(e.action), "%s", i % 2 ? "block" : "allow");
        if (i % 3 == 0)
            snprintf(e.threat, sizeof(e.threat), "Eicar-Test-Signature");
        e.at = 1795773600 + i; /* 2026-11-27T10:00:00Z + i s */
        ck_assert_int_eq(ww_store_feedback_enqueue(st, &e, 1, 0), WW_OK);
    }
}

static int64_t queued(void)
{
    int64_t q = -1, d = -1;
    ck_assert_int_eq(ww_store_feedback_stats(st, &q, &d), WW_OK);
    return q;
}

START_TEST(test_feedback_no_server_is_not_configured)
{
    char result[256] = "";
    int rc;

    set_string(&conf->feedback.server, "");
    enqueue(1, 3);
    rc = ww_feedback_run_once(st, conf, http, result, sizeof(result));
    ck_assert_msg(rc == WW_OK && strcmp(result, "not configured") == 0,
                  "run = %d \"%s\", want ok \"not configured\"", rc, result);
    ck_assert_int_eq(queued(), 3);
}
END_TEST

START_TEST(test_feedback_empty_queue_sends_nothing)
{
    char result[256] = "";
    int rc = ww_feedback_run_once(st, conf, http, result, sizeof(result));

    ck_assert_msg(rc == WW_OK && strcmp(result, "queue empty") == 0, "run = %d \"%s\"", rc, result);
    ck_assert_int_eq(fake_cloud_stat(&cloud, "feedback_requests"), 0);
}
END_TEST

START_TEST(test_feedback_sends_all_rows_in_batches_and_deletes_them)
{
    char result[256] = "", app[128] = "", want_id[200];
    json_t *stats, *ids;
    int rc;

    enqueue(1, 25);
    rc = ww_feedback_run_for(st, conf, http, 10000, result, sizeof(result));
    ck_assert_msg(rc == WW_OK && strcmp(result, "sent 25 events in 3 batches; 0 queued") == 0,
                  "run = %d \"%s\"", rc, result);
    ck_assert_int_eq(queued(), 0);
    stats = fake_cloud_stats(&cloud);
    ck_assert_ptr_nonnull(stats);
    ck_assert_int_eq(json_integer_value(json_object_get(stats, "events")), 25);
    ck_assert_int_eq(json_integer_value(json_object_get(stats, "batches")), 3);
    ck_assert_int_eq(ww_store_appliance_id(st, app, sizeof(app)), WW_OK);
    ids = json_object_get(stats, "batch_ids");
    snprintf(want_id, sizeof(want_id), "%s-1-10", app);
    ck_assert_msg(strcmp(json_string_value(json_array_get(ids, 0)), want_id) == 0,
                  "first batch id \"%s\", want \"%s\"", json_string_value(json_array_get(ids, 0)),
                  want_id);
    snprintf(want_id, sizeof(want_id), "%s-21-25", app);
    ck_assert_str_eq(json_string_value(json_array_get(ids, 2)), want_id);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(stats, "last_headers"),
                                                       "X-Webwarden-Appliance")),
                     "test-appliance");
    json_decref(stats);
}
END_TEST

START_TEST(test_feedback_batch_json_follows_protocol)
{
    struct ww_feedback_event ev[2];
    char *body = NULL;
    json_t *root, *e0, *e1;

    memset(ev, 0, sizeof(ev));
    snprintf(ev[0].url, sizeof(ev[0].url), "http://a.example/x");
    ev[0].score = 20;
    snprintf(ev[0].categories, sizeof(ev[0].categories), "malware,,phishing ");
    snprintf(ev[0].action, sizeof(ev[0].action), "block");
    snprintf(ev[0].threat, sizeof(ev[0].threat), "Eicar-Test-Signature");
    ev[0].at = 1795773600;
    ev[0].count = 7;
    ev[0].first_seen = 1795773540;
    snprintf(ev[0].scanner, sizeof(ev[0].scanner), "clamav");
    snprintf(ev[1].url, sizeof(ev[1].url), "http://b.example/\xff");
    snprintf(ev[1].action, sizeof(ev[1].action), "allow");
    ck_assert_int_eq(ww_feedback_batch_json("app-1-2", ev, 2, &body), WW_OK);
    root = json_loads(body, 0, NULL);
    ck_assert_msg(root != NULL, "not JSON: %s", body);
    ck_assert_str_eq(json_string_value(json_object_get(root, "batch_id")), "app-1-2");
    e0 = json_array_get(json_object_get(root, "events"), 0);
    e1 = json_array_get(json_object_get(root, "events"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(e0, "url")), "http://a.example/x");
    ck_assert_int_eq(json_integer_value(json_object_get(e0, "score")), 20);
    ck_assert_int_eq(json_array_size(json_object_get(e0, "categories")), 2);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(e0, "categories"), 1)),
                     "phishing");
    ck_assert_str_eq(json_string_value(json_object_get(e0, "action")), "block");
    ck_assert_str_eq(json_string_value(json_object_get(e0, "threat")), "Eicar-Test-Signature");
    ck_assert_str_eq(json_string_value(json_object_get(e0, "time")), "2026-11-27T10:00:00Z");
    /* aggregated records: a count (at least 1) and the first time seen (<= time) */
    ck_assert_int_eq(json_integer_value(json_object_get(e0, "count")), 7);
    ck_assert_str_eq(json_string_value(json_object_get(e0, "first_seen")), "2026-11-27T09:59:00Z");
    /* which scanner found the threat: optional, only with a threat */
    ck_assert_str_eq(json_string_value(json_object_get(e0, "scanner")), "clamav");
    ck_assert_msg(json_object_get(e1, "scanner") == NULL, "no threat, no scanner: %s", body);
    ck_assert_int_eq(json_integer_value(json_object_get(e1, "count")), 1);
    ck_assert_msg(json_is_null(json_object_get(e1, "threat")), "no threat must be null: %s", body);
    ck_assert_int_eq(json_array_size(json_object_get(e1, "categories")), 0);
    ck_assert_str_eq(json_string_value(json_object_get(e1, "url")), "http://b.example/?");
    json_decref(root);
    free(body);
}
END_TEST

/* Every failure mode of the server: the run fails with a clear line, the queue is row for row
 * what it was, and once the server is back every event is counted exactly once. */
static const struct {
    const char *mode;
    int ms;
    int want_rc;
    const char *want_in_result;
} failure_cases[] = {
    {"hang", 0, WW_ETIMEOUT, "feedback server unavailable: timeout; 15 events kept"},
    {"refuse", 2000, WW_EUNAVAIL, "feedback server unavailable: unreachable"},
    {"500", 0, WW_EUNAVAIL, "feedback server unavailable: HTTP 500; 15 events kept"},
    {"malformed", 0, WW_EPROTO, "feedback server answer bad: malformed answer"},
    {"wrongshape", 0, WW_EPROTO, "feedback server answer bad: malformed answer"},
    {"truncated", 0, WW_EUNAVAIL, "feedback server unavailable: unreachable"},
    {"delay", 1500, WW_ETIMEOUT, "feedback server unavailable: timeout; 15 events kept"},
};

START_TEST(test_feedback_failure_keeps_queue_then_delivers_once)
{
    const char *mode = failure_cases[_i].mode;
    static struct ww_feedback_event before[32], after[32];
    char result[256] = "";
    size_t nb = 0, na = 0;
    int64_t t0;
    int rc;

    enqueue(1, 15);
    memset(before, 0, sizeof(before));
    memset(after, 0, sizeof(after));
    ck_assert_int_eq(ww_store_feedback_peek(st, before, 32, &nb), WW_OK);
    ck_assert_int_eq(fake_cloud_mode(&cloud, mode, failure_cases[_i].ms), 0);
    t0 = cloud_now_ms();
    rc = ww_feedback_run_once(st, conf, http, result, sizeof(result));
    ck_assert_msg(cloud_now_ms() - t0 < 2 * FB_TIMEOUT_MS + 1000,
                  "mode %s: the run took %lld ms, want < %d", mode,
                  (long long)(cloud_now_ms() - t0), 2 * FB_TIMEOUT_MS + 1000);
    ck_assert_msg(rc == failure_cases[_i].want_rc &&
                      strstr(result, failure_cases[_i].want_in_result) != NULL,
                  "mode %s: run = %d \"%s\", want %d and \"%s\"", mode, rc, result,
                  failure_cases[_i].want_rc, failure_cases[_i].want_in_result);
    ck_assert_msg(strstr(result, "; 15 events kept") != NULL, "mode %s: \"%s\" lacks the count",
                  mode, result);
    ck_assert_int_eq(ww_store_feedback_peek(st, after, 32, &na), WW_OK);
    ck_assert_msg(na == nb && memcmp(before, after, sizeof(before)) == 0,
                  "mode %s: queue changed (%zu rows before, %zu after)", mode, nb, na);
    /* Back to normal (refuse comes back by itself): the next runs deliver everything. */
    if (strcmp(mode, "refuse") != 0)
        ck_assert_int_eq(fake_cloud_mode(&cloud, "normal", 0), 0);
    for (int64_t deadline = cloud_now_ms() + 10000; cloud_now_ms() < deadline;) {
        rc = ww_feedback_run_for(st, conf, http, 10000, result, sizeof(result));
        if (rc == WW_OK)
            break;
        cloud_sleep_ms(100);
    }
    ck_assert_msg(rc == WW_OK && queued() == 0, "mode %s: after recovery run = %d \"%s\"", mode, rc,
                  result);
    ck_assert_msg(fake_cloud_stat(&cloud, "events") == 15,
                  "mode %s: server counted %ld events, want 15 exactly", mode,
                  fake_cloud_stat(&cloud, "events"));
}
END_TEST

START_TEST(test_feedback_lost_answer_retried_batch_counted_once)
{
    char result[256] = "";
    int rc;

    enqueue(1, 5);
    /* The server counts the batch, but its answer never arrives: the client times out. */
    ck_assert_int_eq(fake_cloud_mode(&cloud, "lost", 0), 0);
    rc = ww_feedback_run_once(st, conf, http, result, sizeof(result));
    ck_assert_msg(rc == WW_ETIMEOUT && queued() == 5, "lost answer: run = %d \"%s\", queued %lld",
                  rc, result, (long long)queued());
    ck_assert_int_eq(fake_cloud_stat(&cloud, "events"), 5);
    /* New events arrive before the retry: they must not join the unconfirmed batch. */
    enqueue(100, 4);
    ck_assert_int_eq(fake_cloud_mode(&cloud, "normal", 0), 0);
    rc = ww_feedback_run_for(st, conf, http, 10000, result, sizeof(result));
    ck_assert_msg(rc == WW_OK && queued() == 0, "retry: run = %d \"%s\"", rc, result);
    ck_assert_msg(fake_cloud_stat(&cloud, "events") == 9,
                  "server counted %ld events, want 9 (5 once, then 4)",
                  fake_cloud_stat(&cloud, "events"));
    ck_assert_int_eq(fake_cloud_stat(&cloud, "duplicates"), 1);
    ck_assert_int_eq(fake_cloud_stat(&cloud, "batches"), 2);
}
END_TEST

/* A record of one URL aggregated over many lookups: counts reach the server exactly once, also
 * when the answer to its batch was lost and the children kept recording that URL meanwhile. */
START_TEST(test_feedback_aggregated_counts_delivered_once)
{
    struct ww_feedback_event e;
    char result[256] = "";
    int rc;

    memset(&e, 0, sizeof(e));
    snprintf(e.url, sizeof(e.url), "http://hot.example/");
    snprintf(e.action, sizeof(e.action), "allow");
    e.at = 1795773600;
    e.count = 40;
    ck_assert_int_eq(ww_store_feedback_enqueue(st, &e, 1, 0), WW_OK);
    e.at = 1795773660;
    e.count = 2;
    ck_assert_int_eq(ww_store_feedback_enqueue(st, &e, 1, 0), WW_OK); /* merged: one row, 42 */
    ck_assert_int_eq(queued(), 1);
    ck_assert_int_eq(fake_cloud_mode(&cloud, "lost", 0), 0);
    rc = ww_feedback_run_once(st, conf, http, result, sizeof(result));
    ck_assert_int_eq(rc, WW_ETIMEOUT);
    ck_assert_int_eq(fake_cloud_stat(&cloud, "lookups"), 42);
    /* Lookups of the same URL after the send: a new row, never the sent one. */
    e.at = 1795773700;
    e.count = 5;
    ck_assert_int_eq(ww_store_feedback_enqueue(st, &e, 1, 0), WW_OK);
    ck_assert_int_eq(queued(), 2);
    ck_assert_int_eq(fake_cloud_mode(&cloud, "normal", 0), 0);
    rc = ww_feedback_run_for(st, conf, http, 10000, result, sizeof(result));
    ck_assert_msg(rc == WW_OK && queued() == 0, "retry: run = %d \"%s\"", rc, result);
    ck_assert_msg(fake_cloud_stat(&cloud, "lookups") == 47,
                  "server counted %ld lookups, want 47 (42 once, then 5)",
                  fake_cloud_stat(&cloud, "lookups"));
    ck_assert_int_eq(fake_cloud_stat(&cloud, "duplicates"), 1);
}
END_TEST

START_TEST(test_feedback_unconfirmed_batch_survives_a_restart)
{
    char result[256] = "", err[WW_ERRLEN] = "";
    int rc;

    enqueue(1, 7);
    ck_assert_int_eq(fake_cloud_mode(&cloud, "lost", 0), 0);
    rc = ww_feedback_run_once(st, conf, http, result, sizeof(result));
    ck_assert_int_eq(rc, WW_ETIMEOUT);
    /* A new process (new handle) with a larger batch size still resends the same span. */
    ww_store_close(st);
    st = NULL;
    ck_assert_int_eq(ww_store_open(dbpath, 0, &st, err, sizeof(err)), WW_OK);
    enqueue(50, 3);
    conf->feedback.batch_size = 500;
    ck_assert_int_eq(fake_cloud_mode(&cloud, "normal", 0), 0);
    rc = ww_feedback_run_for(st, conf, http, 10000, result, sizeof(result));
    ck_assert_msg(rc == WW_OK && strcmp(result, "sent 10 events in 2 batches; 0 queued") == 0,
                  "run = %d \"%s\"", rc, result);
    ck_assert_int_eq(fake_cloud_stat(&cloud, "events"), 10);
    ck_assert_int_eq(fake_cloud_stat(&cloud, "duplicates"), 1);
}
END_TEST

START_TEST(test_feedback_budget_stops_after_first_batch)
{
    char result[256] = "";
    int rc;

    enqueue(1, 25);
    rc = ww_feedback_run_for(st, conf, http, 0, result, sizeof(result));
    ck_assert_msg(rc == WW_OK && strcmp(result, "sent 10 events in 1 batch; 15 queued") == 0,
                  "run = %d \"%s\"", rc, result);
}
END_TEST

START_TEST(test_feedback_delay_within_timeout_succeeds)
{
    char result[256] = "";
    int rc;

    enqueue(1, 3);
    ck_assert_int_eq(fake_cloud_mode(&cloud, "delay", FB_TIMEOUT_MS / 4), 0);
    rc = ww_feedback_run_once(st, conf, http, result, sizeof(result));
    ck_assert_msg(rc == WW_OK && queued() == 0, "run = %d \"%s\"", rc, result);
}
END_TEST

static Suite *feedback_suite(void)
{
    Suite *s = suite_create("feedback");
    TCase *tc = tcase_create("run");

    tcase_add_unchecked_fixture(tc, cloud_start, cloud_stop);
    tcase_add_checked_fixture(tc, fb_setup, fb_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_feedback_no_server_is_not_configured);
    tcase_add_test(tc, test_feedback_empty_queue_sends_nothing);
    tcase_add_test(tc, test_feedback_sends_all_rows_in_batches_and_deletes_them);
    tcase_add_test(tc, test_feedback_batch_json_follows_protocol);
    tcase_add_loop_test(tc, test_feedback_failure_keeps_queue_then_delivers_once, 0,
                        (int)(sizeof(failure_cases) / sizeof(failure_cases[0])));
    tcase_add_test(tc, test_feedback_lost_answer_retried_batch_counted_once);
    tcase_add_test(tc, test_feedback_unconfirmed_batch_survives_a_restart);
    tcase_add_test(tc, test_feedback_aggregated_counts_delivered_once);
    tcase_add_test(tc, test_feedback_budget_stops_after_first_batch);
    tcase_add_test(tc, test_feedback_delay_within_timeout_succeeds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(feedback_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
