/* t/check_sched.c - unit tests of webwardend's scheduler (lib/ww_sched.c), with an injected clock.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_sched.h"
#include "ww_store.h"

/* ---- a clock the tests move by hand ---- */

static time_t fake_now;

static time_t fake_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

/* A job that counts its runs, notes the order, and can move the clock or raise the stop flag. */
struct probe {
    const char *name;
    int runs;
    int rc;
    int advance_s;                   /* seconds the run "takes" */
    volatile sig_atomic_t *stop_set; /* set this flag during the run */
    long left_at_start, left_at_end; /* ww_sched_time_left_ms seen by the job */
    struct ww_sched **sched;
};

static char run_order[64];

static int probe_run(void *ctx, char *result, size_t len)
{
    struct probe *p = ctx;

    p->runs++;
    strncat(run_order, p->name, sizeof(run_order) - strlen(run_order) - 1);
    p->left_at_start = ww_sched_time_left_ms(*p->sched);
    fake_now += p->advance_s;
    if (p->stop_set != NULL)
        *p->stop_set = 1;
    p->left_at_end = ww_sched_time_left_ms(*p->sched);
    snprintf(result, len, "%s run %d", p->name, p->runs);
    return p->rc;
}

static void sched_setup(void)
{
    fake_now = 1000000;
    run_order[0] = '\0';
}

/* ---- ww_sched_next_after: interval plus a jitter of up to 10% ---- */

static const struct {
    int interval_s;
    uint32_t rnd;
    time_t want_offset;
} next_cases[] = {
    {300, 0, 300},        /* no jitter drawn */
    {300, 30, 330},       /* the largest jitter: 10% */
    {300, 31, 300},       /* rnd wraps modulo jitter+1 */
    {300, 45, 314},       /* 45 % 31 */
    {5, 12345, 5},        /* under 10 s: 10% rounds to 0, no jitter */
    {10, 1, 11},          /* 10 s: up to 1 s */
    {86400, 8640, 95040}, /* a day: up to 2.4 h */
};

START_TEST(test_sched_next_after_adds_interval_and_bounded_jitter)
{
    time_t got = ww_sched_next_after(5000, next_cases[_i].interval_s, next_cases[_i].rnd);
    time_t want = 5000 + next_cases[_i].want_offset;

    ck_assert_msg(got == want, "next_after(5000, %d, %u) = %lld, want %lld",
                  next_cases[_i].interval_s, next_cases[_i].rnd, (long long)got, (long long)want);
}
END_TEST

START_TEST(test_sched_jitter_spreads_within_ten_percent)
{
    int seen[31] = {0}, distinct = 0;
    uint32_t x = 2463534242u;

    for (int i = 0; i < 2000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        time_t off = ww_sched_next_after(0, 300, x);
        ck_assert_msg(off >= 300 && off <= 330, "rnd %u gave offset %lld, want 300..330", x,
                      (long long)off);
        if (!seen[off - 300]++)
            distinct++;
    }
    ck_assert_msg(distinct > 20, "2000 draws gave only %d distinct jitters of 31", distinct);
}
END_TEST

/* ---- adding jobs ---- */

START_TEST(test_sched_first_run_is_soon_and_jittered)
{
    struct ww_sched *s = NULL;
    struct probe p = {.name = "a", .sched = &s};
    time_t next;

    for (uint32_t seed = 1; seed < 50; seed++) {
        s = ww_sched_create(NULL, fake_clock, NULL, seed, NULL);
        ck_assert_ptr_nonnull(s);
        ck_assert_int_eq(ww_sched_add(s, "a", 600, 10, probe_run, &p), WW_OK);
        next = ww_sched_next_run(s, "a");
        ck_assert_msg(next >= fake_now && next <= fake_now + 60,
                      "seed %u: first run at now+%lld, want now+0..60", seed,
                      (long long)(next - fake_now));
        ww_sched_free(s);
    }
}
END_TEST

START_TEST(test_sched_add_refuses_bad_jobs)
{
    struct ww_sched *s = ww_sched_create(NULL, fake_clock, NULL, 7, NULL);
    struct probe p = {.name = "a", .sched = &s};
    char name[8];

    ck_assert_int_eq(ww_sched_add(s, "ok_1", 10, 5, probe_run, &p), WW_OK);
    ck_assert_int_eq(ww_sched_add(s, "ok_1", 10, 5, probe_run, &p), WW_EINVAL); /* duplicate */
    ck_assert_int_eq(ww_sched_add(s, "Bad", 10, 5, probe_run, &p), WW_EINVAL);
    ck_assert_int_eq(ww_sched_add(s, "", 10, 5, probe_run, &p), WW_EINVAL);
    ck_assert_int_eq(ww_sched_add(s, "a.b", 10, 5, probe_run, &p), WW_EINVAL);
    ck_assert_int_eq(ww_sched_add(s, "zero", 0, 5, probe_run, &p), WW_EINVAL);
    ck_assert_int_eq(ww_sched_add(s, "notime", 10, 0, probe_run, &p), WW_EINVAL);
    ck_assert_int_eq(ww_sched_add(s, "nofn", 10, 5, NULL, &p), WW_EINVAL);
    for (int i = 1; i < WW_SCHED_MAX_JOBS; i++) {
        snprintf(name, sizeof(name), "j%d", i);
        ck_assert_int_eq(ww_sched_add(s, name, 10, 5, probe_run, &p), WW_OK);
    }
    ck_assert_int_eq(ww_sched_add(s, "onemore", 10, 5, probe_run, &p), WW_ETOOBIG);
    ww_sched_free(s);
}
END_TEST

/* ---- which jobs run ---- */

START_TEST(test_sched_runs_only_due_jobs_earliest_first)
{
    struct ww_sched *s = ww_sched_create(NULL, fake_clock, NULL, 3, NULL);
    struct probe a = {.name = "a", .sched = &s}, b = {.name = "b", .sched = &s};
    time_t na, nb;
    int n;

    ck_assert_int_eq(ww_sched_add(s, "a", 100, 5, probe_run, &a), WW_OK);
    ck_assert_int_eq(ww_sched_add(s, "b", 1000, 5, probe_run, &b), WW_OK);
    /* Nothing is due before the first next_run. */
    na = ww_sched_next_run(s, "a");
    nb = ww_sched_next_run(s, "b");
    fake_now = (na < nb ? na : nb) - 1;
    ck_assert_int_eq(ww_sched_run_due(s), 0);
    /* Both due: each runs once, the earlier first. */
    fake_now = (na > nb ? na : nb);
    n = ww_sched_run_due(s);
    ck_assert_msg(n == 2 && a.runs == 1 && b.runs == 1, "ran %d (a %d, b %d), want 2 (1, 1)", n,
                  a.runs, b.runs);
    ck_assert_str_eq(run_order, na <= nb ? "ab" : "ba");
    /* Then a comes back after its 100 s (+ up to 10 s); b is not due for 1000 s. */
    ck_assert_int_ge(ww_sched_next_run(s, "a"), fake_now + 100);
    ck_assert_int_le(ww_sched_next_run(s, "a"), fake_now + 110);
    fake_now += 111;
    ck_assert_int_eq(ww_sched_run_due(s), 1);
    ck_assert_int_eq(a.runs, 2);
    ck_assert_int_eq(b.runs, 1);
    ww_sched_free(s);
}
END_TEST

START_TEST(test_sched_job_runs_once_per_pass_even_when_late)
{
    struct ww_sched *s = ww_sched_create(NULL, fake_clock, NULL, 9, NULL);
    struct probe a = {.name = "a", .sched = &s};

    ck_assert_int_eq(ww_sched_add(s, "a", 1, 5, probe_run, &a), WW_OK);
    fake_now += 3600; /* an hour late: one run, not 3600 catch-up runs */
    ck_assert_int_eq(ww_sched_run_due(s), 1);
    ck_assert_int_eq(a.runs, 1);
    ck_assert_int_eq(ww_sched_next_run(s, "a"), fake_now + 1);
    ww_sched_free(s);
}
END_TEST

START_TEST(test_sched_next_run_counts_from_the_end_of_a_long_run)
{
    struct ww_sched *s = ww_sched_create(NULL, fake_clock, NULL, 9, NULL);
    struct probe a = {.name = "a", .advance_s = 7, .sched = &s};
    time_t end;

    ck_assert_int_eq(ww_sched_add(s, "a", 5, 30, probe_run, &a), WW_OK);
    fake_now = ww_sched_next_run(s, "a");
    ck_assert_int_eq(ww_sched_run_due(s), 1);
    end = fake_now; /* the run moved the clock by 7 s */
    ck_assert_int_eq(ww_sched_next_run(s, "a"), end + 5);
    ww_sched_free(s);
}
END_TEST

START_TEST(test_sched_wait_ms_is_time_to_earliest_job)
{
    struct ww_sched *s = ww_sched_create(NULL, fake_clock, NULL, 11, NULL);
    struct probe a = {.name = "a", .sched = &s};
    time_t next;

    ck_assert_int_eq(ww_sched_wait_ms(s, 60000), 60000); /* no job: the cap */
    ck_assert_int_eq(ww_sched_add(s, "a", 100, 5, probe_run, &a), WW_OK);
    next = ww_sched_next_run(s, "a");
    fake_now = next - 5;
    ck_assert_int_eq(ww_sched_wait_ms(s, 60000), 5000);
    ck_assert_int_eq(ww_sched_wait_ms(s, 2000), 2000);
    fake_now = next + 50;
    ck_assert_int_eq(ww_sched_wait_ms(s, 60000), 0);
    ww_sched_free(s);
}
END_TEST

START_TEST(test_sched_update_brings_a_far_run_forward)
{
    struct ww_sched *s = ww_sched_create(NULL, fake_clock, NULL, 13, NULL);
    struct probe a = {.name = "a", .sched = &s};
    time_t next;

    ck_assert_int_eq(ww_sched_add(s, "a", 1000, 5, probe_run, &a), WW_OK);
    fake_now = ww_sched_next_run(s, "a");
    ck_assert_int_eq(ww_sched_run_due(s), 1); /* next run now ~1000 s away */
    ck_assert_int_eq(ww_sched_update(s, "a", 10, 5), WW_OK);
    next = ww_sched_next_run(s, "a");
    ck_assert_msg(next >= fake_now + 10 && next <= fake_now + 11,
                  "after interval 1000 -> 10: next at now+%lld, want now+10..11",
                  (long long)(next - fake_now));
    ck_assert_int_eq(ww_sched_update(s, "nosuch", 10, 5), WW_ENOTFOUND);
    ck_assert_int_eq(ww_sched_update(s, "a", 0, 5), WW_EINVAL);
    ww_sched_free(s);
}
END_TEST

/* ---- timeouts and stopping ---- */

START_TEST(test_sched_job_sees_its_timeout_and_overrun_is_a_failure)
{
    struct ww_sched *s = ww_sched_create(NULL, fake_clock, NULL, 17, NULL);
    struct probe a = {.name = "a", .advance_s = 12, .sched = &s};

    ck_assert_int_eq(ww_sched_time_left_ms(s), -1); /* outside a run */
    ck_assert_int_eq(ww_sched_add(s, "a", 60, 10, probe_run, &a), WW_OK);
    fake_now = ww_sched_next_run(s, "a");
    ck_assert_int_eq(ww_sched_run_due(s), 1);
    ck_assert_int_eq(a.left_at_start, 10000);
    ck_assert_int_eq(a.left_at_end, 0);
    ck_assert_int_eq(ww_sched_time_left_ms(s), -1);
    ww_sched_free(s);
}
END_TEST

START_TEST(test_sched_stop_flag_ends_the_pass_and_zeroes_time_left)
{
    volatile sig_atomic_t stop = 0;
    struct ww_sched *s = ww_sched_create(NULL, fake_clock, NULL, 19, &stop);
    struct probe a = {.name = "a", .stop_set = &stop, .sched = &s};
    struct probe b = {.name = "b", .sched = &s};

    ck_assert_int_eq(ww_sched_add(s, "a", 60, 10, probe_run, &a), WW_OK);
    ck_assert_int_eq(ww_sched_add(s, "b", 60, 10, probe_run, &b), WW_OK);
    fake_now += 100;
    ck_assert_int_eq(ww_sched_run_due(s), 1); /* the first job raised the flag */
    ck_assert_int_eq(a.runs + b.runs, 1);
    ck_assert_int_eq(a.runs ? a.left_at_end : b.left_at_end, 0);
    ck_assert_int_eq(ww_sched_run_due(s), 0); /* still stopping: nothing starts */
    ww_sched_free(s);
}
END_TEST

/* ---- what is recorded in the store ---- */

static char tmp_dir[256];

static void store_setup(void)
{
    const char *base = getenv("TMPDIR");

    sched_setup();
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/check_sched.XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmp_dir) != NULL, "mkdtemp(%s): %s", tmp_dir, strerror(errno));
}

static void store_teardown(void)
{
    char cmd[PATH_MAX + 16];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    ck_assert_int_eq(system(cmd), 0);
}

static struct ww_store *open_store(void)
{
    char path[PATH_MAX], err[WW_ERRLEN] = "";
    struct ww_store *st = NULL;
    int rc;

    snprintf(path, sizeof(path), "%s/state.db", tmp_dir);
    rc = ww_store_open(path, WW_STORE_MIGRATE, &st, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "ww_store_open(%s) = %d \"%s\"", path, rc, err);
    return st;
}

START_TEST(test_sched_records_run_in_store_kv)
{
    struct ww_store *st = open_store();
    struct ww_sched *s = ww_sched_create(st, fake_clock, NULL, 23, NULL);
    struct probe ok = {.name = "good", .sched = &s};
    struct probe bad = {.name = "bad", .rc = WW_EUNAVAIL, .sched = &s};
    struct ww_sched_status js;
    time_t started;

    ck_assert_int_eq(ww_sched_add(s, "good", 60, 10, probe_run, &ok), WW_OK);
    ck_assert_int_eq(ww_sched_add(s, "bad", 60, 10, probe_run, &bad), WW_OK);
    /* Before any run: next_run is known, the rest is empty. */
    ck_assert_int_eq(ww_sched_status_get(st, "good", &js), WW_OK);
    ck_assert_int_eq(js.next_run, ww_sched_next_run(s, "good"));
    ck_assert_int_eq(js.last_run, 0);
    ck_assert_int_eq(js.ok, -1);
    fake_now += 100;
    started = fake_now;
    ck_assert_int_eq(ww_sched_run_due(s), 2);

    ck_assert_int_eq(ww_sched_status_get(st, "good", &js), WW_OK);
    ck_assert_int_eq(js.last_run, started);
    ck_assert_int_eq(js.next_run, ww_sched_next_run(s, "good"));
    ck_assert_int_eq(js.ok, 1);
    ck_assert_str_eq(js.result, "good run 1");
    ck_assert_int_eq(ww_sched_status_get(st, "bad", &js), WW_OK);
    ck_assert_int_eq(js.ok, 0);
    ck_assert_str_eq(js.result, "bad run 1");
    ww_sched_free(s);
    ww_store_close(st);
}
END_TEST

START_TEST(test_sched_records_overrun_as_failure)
{
    struct ww_store *st = open_store();
    struct ww_sched *s = ww_sched_create(st, fake_clock, NULL, 41, NULL);
    struct probe slow = {.name = "slow", .advance_s = 20, .sched = &s};
    struct ww_sched_status js;

    ck_assert_int_eq(ww_sched_add(s, "slow", 60, 10, probe_run, &slow), WW_OK);
    fake_now += 100;
    ck_assert_int_eq(ww_sched_run_due(s), 1);
    ck_assert_int_eq(ww_sched_status_get(st, "slow", &js), WW_OK);
    ck_assert_msg(js.ok == 0 && strcmp(js.result, "ran past its 10 s timeout") == 0,
                  "job taking 20 s with a 10 s timeout: ok %d \"%s\", want 0 \"ran past its 10 "
                  "s timeout\"",
                  js.ok, js.result);
    ww_sched_free(s);
    ww_store_close(st);
}
END_TEST

START_TEST(test_sched_restart_keeps_the_stored_next_run)
{
    struct ww_store *st = open_store();
    struct ww_sched *s = ww_sched_create(st, fake_clock, NULL, 29, NULL);
    struct probe a = {.name = "a", .sched = &s};
    time_t next;

    ck_assert_int_eq(ww_sched_add(s, "a", 3600, 10, probe_run, &a), WW_OK);
    fake_now = ww_sched_next_run(s, "a");
    ck_assert_int_eq(ww_sched_run_due(s), 1);
    next = ww_sched_next_run(s, "a");
    ww_sched_free(s);

    /* A daemon restarted ten minutes later does not call the server again at once. */
    fake_now += 600;
    s = ww_sched_create(st, fake_clock, NULL, 31, NULL);
    ck_assert_int_eq(ww_sched_add(s, "a", 3600, 10, probe_run, &a), WW_OK);
    ck_assert_int_eq(ww_sched_next_run(s, "a"), next);
    ww_sched_free(s);

    /* But a stored time further than the (new, shorter) interval is not trusted. */
    s = ww_sched_create(st, fake_clock, NULL, 37, NULL);
    ck_assert_int_eq(ww_sched_add(s, "a", 60, 10, probe_run, &a), WW_OK);
    ck_assert_int_le(ww_sched_next_run(s, "a"), fake_now + 6);
    ww_sched_free(s);
    ww_store_close(st);
}
END_TEST

static Suite *sched_suite(void)
{
    Suite *s = suite_create("sched");
    TCase *tc;

    tc = tcase_create("next_after");
    tcase_add_checked_fixture(tc, sched_setup, NULL);
    tcase_add_loop_test(tc, test_sched_next_after_adds_interval_and_bounded_jitter, 0,
                        sizeof(next_cases) / sizeof(next_cases[0]));
    tcase_add_test(tc, test_sched_jitter_spreads_within_ten_percent);
    suite_add_tcase(s, tc);

    tc = tcase_create("add");
    tcase_add_checked_fixture(tc, sched_setup, NULL);
    tcase_add_test(tc, test_sched_first_run_is_soon_and_jittered);
    tcase_add_test(tc, test_sched_add_refuses_bad_jobs);
    tcase_add_test(tc, test_sched_update_brings_a_far_run_forward);
    suite_add_tcase(s, tc);

    tc = tcase_create("run_due");
    tcase_add_checked_fixture(tc, sched_setup, NULL);
    tcase_add_test(tc, test_sched_runs_only_due_jobs_earliest_first);
    tcase_add_test(tc, test_sched_job_runs_once_per_pass_even_when_late);
    tcase_add_test(tc, test_sched_next_run_counts_from_the_end_of_a_long_run);
    tcase_add_test(tc, test_sched_wait_ms_is_time_to_earliest_job);
    tcase_add_test(tc, test_sched_job_sees_its_timeout_and_overrun_is_a_failure);
    tcase_add_test(tc, test_sched_stop_flag_ends_the_pass_and_zeroes_time_left);
    suite_add_tcase(s, tc);

    tc = tcase_create("store");
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, test_sched_records_run_in_store_kv);
    tcase_add_test(tc, test_sched_records_overrun_as_failure);
    tcase_add_test(tc, test_sched_restart_keeps_the_stored_next_run);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sched_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
