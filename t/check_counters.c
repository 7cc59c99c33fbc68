/* t/check_counters.c - unit tests for lib/ww_counters.c: a slot per process, totals summed over
 * processes (forked children counting at once), a dead process's slot taken over with its
 * values, the latency histogram's buckets, a foreign file refused; and lib/ww_metrics.c's
 * rendering of them. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_counters.h"
#include "ww_metrics.h"
#include "ww_prom.h"
#include "ww_store.h"

static char tmpdir[64], path[128], dbpath[128];

static void ctr_setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ww-counters-XXXXXX");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
    snprintf(dbpath, sizeof(dbpath), "%s/state.db", tmpdir);
    ck_assert_int_eq(ww_counters_path(dbpath, path, sizeof(path)), WW_OK);
}

static void ctr_teardown(void)
{
    static const char *const suffix[] = {".counters", "", "-wal", "-shm", "-journal"};
    char p[160];

    ww_counters_detach();
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", dbpath, suffix[i]);
        unlink(p);
    }
    rmdir(tmpdir);
}

START_TEST(test_counters_missing_file_reads_zeros)
{
    uint64_t v[WW_CTR_N];
    char err[WW_ERRLEN] = "";

    v[0] = 99;
    ck_assert_int_eq(ww_counters_read(path, v, err, sizeof(err)), WW_ENOTFOUND);
    for (size_t i = 0; i < WW_CTR_N; i++)
        ck_assert_uint_eq(v[i], 0);
}
END_TEST

START_TEST(test_counters_add_without_attach_is_a_noop)
{
    ww_ctr_add(WW_CTR_URL_ALLOW, 1); /* must not crash */
    ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

/* <nproc> children each attach and add <per> to URL_ALLOW from 4 threads' worth of calls. */
static void ctr_fork_children(int nproc, int per)
{
    pid_t pids[16];

    for (int i = 0; i < nproc; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            char err[WW_ERRLEN] = "";
            if (ww_counters_attach(path, err, sizeof(err)) != WW_OK)
                _exit(2);
            for (int k = 0; k < per; k++)
                ww_ctr_add(WW_CTR_URL_ALLOW, 1);
            ww_ctr_add(WW_CTR_SCAN_BYTES, 1000);
            _exit(0);
        }
    }
    for (int i = 0; i < nproc; i++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed", i);
    }
}

START_TEST(test_counters_sum_over_processes)
{
    uint64_t v[WW_CTR_N];
    char err[WW_ERRLEN] = "";

    ctr_fork_children(8, 100000);
    ck_assert_int_eq(ww_counters_read(path, v, err, sizeof(err)), WW_OK);
    ck_assert_msg(v[WW_CTR_URL_ALLOW] == 800000, "allow %llu, want 800000",
                  (unsigned long long)v[WW_CTR_URL_ALLOW]);
    ck_assert_uint_eq(v[WW_CTR_SCAN_BYTES], 8000);
    ck_assert_uint_eq(v[WW_CTR_URL_BLOCK], 0);
}
END_TEST

START_TEST(test_counters_dead_slots_are_taken_over_with_their_values)
{
    uint64_t v[WW_CTR_N];
    char err[WW_ERRLEN] = "";

    /* More processes over time than slots: the dead ones' slots are reused, totals only grow. */
    for (int round = 0; round < WW_COUNTERS_SLOTS / 16 + 4; round++)
        ctr_fork_children(16, 1);
    ck_assert_int_eq(ww_counters_read(path, v, err, sizeof(err)), WW_OK);
    ck_assert_uint_eq(v[WW_CTR_URL_ALLOW], (WW_COUNTERS_SLOTS / 16 + 4) * 16);
}
END_TEST

START_TEST(test_counters_latency_lands_in_its_bucket)
{
    uint64_t v[WW_CTR_N];
    char err[WW_ERRLEN] = "";

    ck_assert_int_eq(ww_counters_attach(path, err, sizeof(err)), WW_OK);
    ww_ctr_scan_latency_us(500);      /* <= 0.001 */
    ww_ctr_scan_latency_us(1000);     /* = 0.001: le is inclusive */
    ww_ctr_scan_latency_us(7000);     /* <= 0.01 */
    ww_ctr_scan_latency_us(60000000); /* 60 s: +Inf */
    ck_assert_int_eq(ww_counters_read(path, v, err, sizeof(err)), WW_OK);
    ck_assert_uint_eq(v[WW_CTR_SCAN_LAT_BUCKET0], 2);
    ck_assert_uint_eq(v[WW_CTR_SCAN_LAT_BUCKET0 + 1], 0);
    ck_assert_uint_eq(v[WW_CTR_SCAN_LAT_BUCKET0 + 2], 1);
    ck_assert_uint_eq(v[WW_CTR_SCAN_LAT_BUCKET0 + WW_SCAN_LAT_NBOUNDS], 1);
    ck_assert_uint_eq(v[WW_CTR_SCAN_LAT_SUM_US], 500 + 1000 + 7000 + 60000000);
}
END_TEST

START_TEST(test_counters_foreign_file_is_refused)
{
    FILE *fp = fopen(path, "w");
    uint64_t v[WW_CTR_N];
    char err[WW_ERRLEN] = "";

    ck_assert_ptr_nonnull(fp);
    for (int i = 0; i < 70000; i++)
        fputs("garbage!", fp);
    fclose(fp);
    ck_assert_int_eq(ww_counters_attach(path, err, sizeof(err)), WW_EINVAL);
    ck_assert_msg(strstr(err, "another version") != NULL, "err: %s", err);
    ck_assert_int_eq(ww_counters_read(path, v, err, sizeof(err)), WW_EINVAL);
    ww_ctr_add(WW_CTR_URL_ALLOW, 1); /* not attached: a no-op */
}
END_TEST

/* An upgrade that adds counters: a file of another Webwarden layout (same magic, another layout
 * byte) is replaced by an empty one of this layout, not refused (counting would stay off). */
START_TEST(test_counters_old_layout_file_is_replaced)
{
    FILE *fp = fopen(path, "w");
    uint64_t v[WW_CTR_N], old_layout = 0x5757435452000001ULL;
    char err[WW_ERRLEN] = "";

    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(&old_layout, sizeof(old_layout), 1, fp), 1);
    for (int i = 0; i < 70000; i++)
        fputs("old data", fp);
    fclose(fp);
    ck_assert_msg(ww_counters_attach(path, err, sizeof(err)) == WW_OK, "attach: %s", err);
    ww_ctr_add(WW_CTR_DETECT_CLAMAV, 3);
    ck_assert_int_eq(ww_counters_read(path, v, err, sizeof(err)), WW_OK);
    ck_assert_uint_eq(v[WW_CTR_DETECT_CLAMAV], 3);
    ck_assert_uint_eq(v[WW_CTR_URL_ALLOW], 0);
}
END_TEST

START_TEST(test_metrics_render_shows_counters_and_store)
{
    struct ww_store *st = NULL;
    struct ww_prom *p = ww_prom_create(0);
    char err[WW_ERRLEN] = "";
    const char *text;

    ck_assert_int_eq(ww_store_open(dbpath, WW_STORE_MIGRATE, &st, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_store_counter_add(st, WW_METRIC_HEALTH_FAILED, 3), WW_OK);
    ck_assert_int_eq(ww_store_counter_add(st, WW_METRIC_FALLBACKS, 1), WW_OK);
    ck_assert_int_eq(ww_store_set_scan_method(st, WW_SCAN_CONVENTIONAL, "webwardend", "test"),
                     WW_OK);
    ck_assert_int_eq(ww_counters_attach(path, err, sizeof(err)), WW_OK);
    ww_ctr_add(WW_CTR_URL_BLOCK, 7);
    ww_ctr_scan_latency_us(2000);
    ck_assert_int_eq(ww_metrics_render(p, st, path, 90, time(NULL)), WW_OK);
    text = ww_prom_text(p);
    ck_assert_msg(
        strstr(text, "webwarden_icap_requests_total{service=\"webwarden_url\",action=\"block\"} "
                     "7\n") != NULL,
        "%s", text);
    ck_assert_msg(strstr(text, "webwarden_scan_duration_seconds_bucket{le=\"0.005\"} 1\n") != NULL,
                  "%s", text);
    ck_assert_msg(strstr(text, "webwarden_scan_method{method=\"conventional\"} 1\n") != NULL, "%s",
                  text);
    ck_assert_msg(strstr(text, "webwarden_smart_scan_health_checks_total{result=\"failed\"} 3\n") !=
                      NULL,
                  "%s", text);
    ck_assert_msg(strstr(text, "webwarden_smart_scan_fallbacks_total 1\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "webwarden_license_phase{phase=\"none\"} 1\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "webwarden_metrics_store_ok 1\n") != NULL, "%s", text);
    ww_prom_free(p);
    ww_store_close(st);
}
END_TEST

static const struct {
    const char *addr, *why;
    int rc;
} listen_cases[] = {
    {"127.0.0.1", "not host:port", WW_EINVAL},
    {"127.0.0.1:", "not host:port", WW_EINVAL},
    {"127.0.0.1:99999", "not host:port", WW_EINVAL},
    {"127.0.0.1:12ab", "not host:port", WW_EINVAL},
    {":9478", "not host:port", WW_EINVAL},
    {"::1:9478", "not host:port", WW_EINVAL},
    {"[::1:9478", "not [address]:port", WW_EINVAL},
    {"no.such.host.invalid:9478", "metrics.listen no.such.host.invalid:9478", WW_EINVAL},
    {"192.0.2.1:9478", "Cannot assign requested address", WW_EIO},
};

START_TEST(test_metrics_listen_refuses_bad_addresses)
{
    char err[WW_ERRLEN] = "";
    int fd = -2;
    int rc = ww_metrics_listen(listen_cases[_i].addr, &fd, err, sizeof(err));

    ck_assert_msg(rc == listen_cases[_i].rc && strstr(err, listen_cases[_i].why) != NULL &&
                      strstr(err, "metrics.listen") != NULL,
                  "listen \"%s\": %d \"%s\", want %d \"%s\"", listen_cases[_i].addr, rc, err,
                  listen_cases[_i].rc, listen_cases[_i].why);
    ck_assert_int_eq(fd, -1);
}
END_TEST

START_TEST(test_metrics_listen_port_in_use_is_busy)
{
    char err[WW_ERRLEN] = "", addr[64];
    int fd = -1, fd2 = -1, port;

    /* A free port: take one, then try it again. */
    for (port = 20000 + (int)(getpid() % 20000);; port++) {
        snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
        if (ww_metrics_listen(addr, &fd, err, sizeof(err)) == WW_OK)
            break;
        ck_assert_int_lt(port, 65000);
    }
    ck_assert_int_eq(ww_metrics_listen(addr, &fd2, err, sizeof(err)), WW_EBUSY);
    ck_assert_msg(strstr(err, "in use") != NULL, "err: %s", err);
    close(fd);
}
END_TEST

static Suite *counters_suite(void)
{
    Suite *s = suite_create("counters");
    TCase *tc = tcase_create("counters");
    TCase *tm = tcase_create("metrics");

    tcase_add_checked_fixture(tc, ctr_setup, ctr_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_counters_missing_file_reads_zeros);
    tcase_add_test(tc, test_counters_add_without_attach_is_a_noop);
    tcase_add_test(tc, test_counters_sum_over_processes);
    tcase_add_test(tc, test_counters_dead_slots_are_taken_over_with_their_values);
    tcase_add_test(tc, test_counters_latency_lands_in_its_bucket);
    tcase_add_test(tc, test_counters_foreign_file_is_refused);
    tcase_add_test(tc, test_counters_old_layout_file_is_replaced);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(tm, ctr_setup, ctr_teardown);
    tcase_add_test(tm, test_metrics_render_shows_counters_and_store);
    tcase_add_loop_test(tm, test_metrics_listen_refuses_bad_addresses, 0,
                        sizeof(listen_cases) / sizeof(listen_cases[0]));
    tcase_add_test(tm, test_metrics_listen_port_in_use_is_busy);
    suite_add_tcase(s, tm);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(counters_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
