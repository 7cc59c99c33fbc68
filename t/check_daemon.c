/* t/check_daemon.c - unit tests of webwardend's helpers (lib/ww_daemon.c): lock, pid file, jobs. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_daemon.h"
#include "ww_sched.h"

static char tmp_dir[256];

static void daemon_setup(void)
{
    const char *base = getenv("TMPDIR");

    snprintf(tmp_dir, sizeof(tmp_dir), "%s/check_daemon.XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmp_dir) != NULL, "mkdtemp(%s): %s", tmp_dir, strerror(errno));
}

static void daemon_teardown(void)
{
    char cmd[PATH_MAX + 16];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_daemon_lock_refuses_second_holder_naming_pid)
{
    char db[PATH_MAX], err[WW_ERRLEN] = "", want[64];
    int fd1 = -1, fd2 = -1, rc;

    snprintf(db, sizeof(db), "%s/state.db", tmp_dir);
    rc = ww_daemon_lock(db, &fd1, err, sizeof(err));
    ck_assert_msg(rc == WW_OK && fd1 >= 0, "first lock: %d \"%s\"", rc, err);
    ck_assert_int_eq(ww_daemon_running_pid(db), getpid());
    /* flock belongs to the open file: a second open in this process conflicts like another
     * process would. */
    rc = ww_daemon_lock(db, &fd2, err, sizeof(err));
    snprintf(want, sizeof(want), "pid %ld", (long)getpid());
    ck_assert_msg(rc == WW_EBUSY && fd2 == -1 && strstr(err, want) != NULL,
                  "second lock: %d fd %d \"%s\", want WW_EBUSY naming \"%s\"", rc, fd2, err, want);
    ww_daemon_unlock(fd1);
    ck_assert_int_eq(ww_daemon_running_pid(db), 0);
    rc = ww_daemon_lock(db, &fd2, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "lock after unlock: %d \"%s\"", rc, err);
    ww_daemon_unlock(fd2);
}
END_TEST

START_TEST(test_daemon_lock_in_missing_folder_is_io_error)
{
    char db[PATH_MAX], err[WW_ERRLEN] = "";
    int fd = -1, rc;

    snprintf(db, sizeof(db), "%s/no/such/state.db", tmp_dir);
    rc = ww_daemon_lock(db, &fd, err, sizeof(err));
    ck_assert_msg(rc == WW_EIO && fd == -1 && strstr(err, "state.db.webwardend.lock") != NULL,
                  "lock in missing folder: %d \"%s\", want WW_EIO naming the lock file", rc, err);
}
END_TEST

START_TEST(test_daemon_pidfile_creates_folders_and_holds_pid)
{
    char path[PATH_MAX], err[WW_ERRLEN] = "", text[32] = "", want[32];
    FILE *fp;
    int rc;

    snprintf(path, sizeof(path), "%s/run/a/b/webwardend.pid", tmp_dir);
    rc = ww_daemon_write_pidfile(path, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "write_pidfile(%s): %d \"%s\"", path, rc, err);
    fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    ck_assert_ptr_nonnull(fgets(text, sizeof(text), fp));
    fclose(fp);
    snprintf(want, sizeof(want), "%ld\n", (long)getpid());
    ck_assert_str_eq(text, want);
}
END_TEST

START_TEST(test_daemon_pidfile_under_a_file_fails_with_reason)
{
    char path[PATH_MAX], err[WW_ERRLEN] = "";
    FILE *fp;
    int rc;

    snprintf(path, sizeof(path), "%s/plain", tmp_dir);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/plain/sub/webwardend.pid", tmp_dir);
    rc = ww_daemon_write_pidfile(path, err, sizeof(err));
    ck_assert_msg(rc == WW_EIO && strstr(err, "plain") != NULL,
                  "pid file below a regular file: %d \"%s\", want WW_EIO naming it", rc, err);
}
END_TEST

/* A job that ignores the stop request must not keep the process alive past the grace period:
 * the alarm armed by SIGTERM removes the pid file and ends the process with status 1. */
START_TEST(test_daemon_stop_abandons_a_hung_job_within_grace)
{
    char pidfile[PATH_MAX], err[WW_ERRLEN] = "";
    struct timespec t0, t1;
    int status = 0;
    pid_t child, got = 0;
    double waited;

    snprintf(pidfile, sizeof(pidfile), "%s/run/webwardend.pid", tmp_dir);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        if (ww_daemon_signals_init(err, sizeof(err)) != WW_OK ||
            ww_daemon_write_pidfile(pidfile, err, sizeof(err)) != WW_OK)
            _exit(3);
        ww_daemon_set_abort_pidfile(pidfile);
        raise(SIGTERM);
        for (int i = 0; i < 30; i++) /* the "hung job": 30 s unless the alarm ends it */
            sleep(1);
        _exit(2);
    }
    for (int i = 0; i < 100 && got == 0; i++) { /* up to 10 s */
        got = waitpid(child, &status, WNOHANG);
        if (got == 0)
            usleep(100000);
    }
    if (got == 0) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_msg(got == child && WIFEXITED(status) && WEXITSTATUS(status) == 1,
                  "hung job after SIGTERM: waitpid %d status 0x%x, want exit 1", (int)got, status);
    ck_assert_msg(waited < 5.0, "hung job ended after %.1f s, want < 5 s", waited);
    ck_assert_msg(access(pidfile, F_OK) != 0, "pid file %s left behind", pidfile);
}
END_TEST

static time_t fixed_clock(void *arg)
{
    return *(time_t *)arg;
}

START_TEST(test_daemon_jobs_follow_the_config)
{
    struct ww_conf *conf = ww_conf_create_defaults();
    time_t now = 1000000;
    struct ww_sched *s = ww_sched_create(NULL, fixed_clock, &now, 5, NULL);
    struct ww_daemon_env env = {.conf = conf, .sched = s};
    time_t next;

    ck_assert_ptr_nonnull(conf);
    ck_assert_int_eq(ww_daemon_jobs_sync(&env), WW_OK);
    for (int i = 0; ww_daemon_job_names[i] != NULL; i++)
        ck_assert_msg(ww_sched_next_run(s, ww_daemon_job_names[i]) != 0, "job %s missing",
                      ww_daemon_job_names[i]);
    /* Everything runs once soon after start; with defaults nothing is configured. */
    now += 86400;
    ck_assert_int_eq(ww_sched_run_due(s), 4);
    next = ww_sched_next_run(s, "feedback");
    ck_assert_msg(next >= now + 300 && next <= now + 330,
                  "feedback next at now+%lld, want 300..330", (long long)(next - now));
    /* A reload with a shorter interval pulls the next run in. */
    conf->feedback.interval_s = 20;
    ck_assert_int_eq(ww_daemon_jobs_sync(&env), WW_OK);
    next = ww_sched_next_run(s, "feedback");
    ck_assert_msg(next >= now + 20 && next <= now + 22, "feedback next at now+%lld, want 20..22",
                  (long long)(next - now));
    ww_sched_free(s);
    ww_conf_free(conf);
}
END_TEST

static Suite *daemon_suite(void)
{
    Suite *s = suite_create("daemon");
    TCase *tc;

    tc = tcase_create("lock");
    tcase_add_checked_fixture(tc, daemon_setup, daemon_teardown);
    tcase_add_test(tc, test_daemon_lock_refuses_second_holder_naming_pid);
    tcase_add_test(tc, test_daemon_lock_in_missing_folder_is_io_error);
    suite_add_tcase(s, tc);

    tc = tcase_create("pidfile");
    tcase_add_checked_fixture(tc, daemon_setup, daemon_teardown);
    tcase_add_test(tc, test_daemon_pidfile_creates_folders_and_holds_pid);
    tcase_add_test(tc, test_daemon_pidfile_under_a_file_fails_with_reason);
    suite_add_tcase(s, tc);

    tc = tcase_create("signals");
    tcase_set_timeout(tc, 15); /* waits out the 4 s grace period */
    tcase_add_checked_fixture(tc, daemon_setup, daemon_teardown);
    tcase_add_test(tc, test_daemon_stop_abandons_a_hung_job_within_grace);
    suite_add_tcase(s, tc);

    tc = tcase_create("jobs");
    tcase_add_test(tc, test_daemon_jobs_follow_the_config);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(daemon_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
