/* t/check_lastgood.c - the last good configuration: kept on every good load, loaded as the
 * file when the file stops loading (relative paths still the file's), the rejection recorded
 * with file:line and cleared by the next good load; never another file's copy. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_lastgood.h"
#include "ww_policies.h"
#include "ww_store.h"

static char dir[64], conf_path[128], db_path[128];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

static void kv(const char *key, char *out, size_t outlen)
{
    struct ww_store *st = NULL;
    char err[WW_ERRLEN];
    ck_assert_int_eq(ww_store_open(db_path, WW_STORE_READONLY, &st, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_store_kv_get(st, key, out, outlen), WW_OK);
    ww_store_close(st);
}

static const char good[] = "[state]\n"
                           "database = state.db\n"
                           "[lists]\n"
                           "blocked = blocked.txt\n"
                           "[policy guests]\n"
                           "match = client 10.40.0.0/16\n"
                           "block_types = executable\n";

static void setup(void)
{
    struct ww_store *st = NULL;
    char err[WW_ERRLEN];

    snprintf(dir, sizeof(dir), "/tmp/ww-check-lastgood-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(conf_path, sizeof(conf_path), "%s/webwarden.conf", dir);
    snprintf(db_path, sizeof(db_path), "%s/state.db", dir);
    ck_assert_int_eq(ww_store_open(db_path, WW_STORE_MIGRATE, &st, err, sizeof(err)), WW_OK);
    ww_store_close(st);
    write_file(conf_path, good);
}

static void teardown(void)
{
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

START_TEST(test_lastgood_bad_file_serves_the_last_good_one)
{
    struct ww_conf *conf = NULL;
    char err[WW_ERRLEN], val[2048], want[256], db[256];
    const struct ww_policy *p;
    int fb = -1;

    ww_lastgood_state_db(conf_path, db, sizeof(db));
    ck_assert_str_eq(db, db_path); /* relative to the file's folder */

    ck_assert_int_eq(ww_lastgood_load(conf_path, 0, &conf, &fb, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(fb, 0);
    ww_conf_free(conf);
    kv("config.lastgood", val, sizeof(val));
    ck_assert_str_eq(val, good);

    /* A bad CIDR in a new policy: refused with file:line, the last good one in force. */
    write_file(conf_path,
               "[state]\ndatabase = state.db\n[policy lab]\nmatch = client 10.0.0.1/8\n");
    conf = NULL;
    ck_assert_int_eq(ww_lastgood_load(conf_path, 0, &conf, &fb, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(fb, 1);
    snprintf(want, sizeof(want), "configuration rejected: %s:4: [policy lab]", conf_path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "err: %s", err);
    ck_assert_ptr_nonnull(strstr(err, "; serving the configuration loaded at "));
    p = ww_policies_find(conf->policy_set, "guests");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->block_types, WW_FTYPE_EXECUTABLE);
    ck_assert_ptr_null(ww_policies_find(conf->policy_set, "lab"));
    snprintf(want, sizeof(want), "%s/blocked.txt", dir); /* the file's folder, not the store's */
    ck_assert_str_eq(conf->lists.blocked, want);
    ck_assert_str_eq(conf->path, conf_path);
    ww_conf_free(conf);
    kv("config.rejected", val, sizeof(val));
    ck_assert_str_eq(val, err);
    kv("config.lastgood", val, sizeof(val));
    ck_assert_str_eq(val, good); /* a bad file never replaces the copy */

    /* An unknown key: the same. */
    write_file(conf_path,
               "[state]\ndatabase = state.db\n[policy guests]\nmatch = user x\nblock = exe\n");
    conf = NULL;
    ck_assert_int_eq(ww_lastgood_load(conf_path, 0, &conf, &fb, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(fb, 1);
    ck_assert_ptr_nonnull(strstr(err, "webwarden.conf:5: "));
    ww_conf_free(conf);

    /* READONLY (webwardenctl): the fallback, but nothing recorded. */
    write_file(conf_path, "[state]\ndatabase = state.db\n[nosuch]\n");
    conf = NULL;
    ck_assert_int_eq(
        ww_lastgood_load(conf_path, WW_LASTGOOD_READONLY, &conf, &fb, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(fb, 1);
    ww_conf_free(conf);
    kv("config.rejected", val, sizeof(val));
    ck_assert_ptr_nonnull(strstr(val, "webwarden.conf:5: ")); /* still the last recorded one */

    /* Fixed: loads, the rejection cleared, the new copy kept. */
    write_file(conf_path, "[state]\ndatabase = state.db\n");
    conf = NULL;
    ck_assert_int_eq(ww_lastgood_load(conf_path, 0, &conf, &fb, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(fb, 0);
    ck_assert_uint_eq(ww_policies_count(conf->policy_set), 0);
    ww_conf_free(conf);
    kv("config.rejected", val, sizeof(val));
    ck_assert_str_eq(val, "");
    kv("config.lastgood", val, sizeof(val));
    ck_assert_str_eq(val, "[state]\ndatabase = state.db\n");
}
END_TEST

START_TEST(test_lastgood_never_another_files_copy_nor_a_missing_one)
{
    struct ww_conf *conf = NULL;
    char err[WW_ERRLEN], other[160];
    int fb = -1;

    /* Nothing kept yet: the error stands. */
    write_file(conf_path, "[state]\ndatabase = state.db\n[bad\n");
    ck_assert_int_ne(ww_lastgood_load(conf_path, 0, &conf, &fb, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(fb, 0);
    ck_assert_ptr_nonnull(strstr(err, "webwarden.conf:3: "));
    ck_assert_ptr_null(conf);

    /* Another config file in the same folder sharing the store keeps its own copy... */
    write_file(conf_path, good);
    ck_assert_int_eq(ww_lastgood_load(conf_path, 0, &conf, &fb, err, sizeof(err)), WW_OK);
    ww_conf_free(conf);
    conf = NULL;
    snprintf(other, sizeof(other), "%s/other.conf", dir);
    write_file(other, "[state]\ndatabase = state.db\n[policy x]\nmatch = client 1.2.3.4/8\n");
    /* ...and is never served webwarden.conf's. */
    ck_assert_int_ne(ww_lastgood_load(other, 0, &conf, &fb, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(fb, 0);
    ck_assert_ptr_nonnull(strstr(err, "other.conf:4: "));
    ck_assert_ptr_null(conf);
}
END_TEST

/* webwardenctl reload's last step: "reconfigure" into c-icap's FIFO, never blocking. */
START_TEST(test_lastgood_reconfigure_writes_the_fifo_or_says_why_not)
{
    char fifo[128], plain[128], err[WW_ERRLEN] = "", buf[64];
    int rfd;
    ssize_t n;

    snprintf(fifo, sizeof(fifo), "%s/c-icap.ctl", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    /* Nobody reading: refused at once, not a hang. */
    ck_assert_int_eq(ww_lastgood_reconfigure(fifo, err, sizeof(err)), WW_EIO);
    ck_assert_ptr_nonnull(strstr(err, "no c-icap is reading it"));
    rfd = open(fifo, O_RDONLY | O_NONBLOCK);
    ck_assert_int_ge(rfd, 0);
    ck_assert_int_eq(ww_lastgood_reconfigure(fifo, err, sizeof(err)), WW_OK);
    n = read(rfd, buf, sizeof(buf) - 1);
    ck_assert_int_eq(n, 11);
    buf[n] = '\0';
    ck_assert_str_eq(buf, "reconfigure");
    close(rfd);
    snprintf(plain, sizeof(plain), "%s/plain", dir);
    write_file(plain, "x");
    ck_assert_int_eq(ww_lastgood_reconfigure(plain, err, sizeof(err)), WW_EIO);
    ck_assert_ptr_nonnull(strstr(err, "not c-icap's control socket"));
    snprintf(plain, sizeof(plain), "%s/none", dir);
    ck_assert_int_eq(ww_lastgood_reconfigure(plain, err, sizeof(err)), WW_EIO);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

/* A fake c-icap on <fifo>: reads its commands for up to 8 s; ignores the first <ignore>
 * "reconfigure"s (a reconfigure pending), and on the next one loads the configuration (a good
 * load writes config.lastgood_meta) unless <ignore> is negative. The child's pid. */
static pid_t fake_cicap(const char *fifo, int ignore)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(fifo, O_RDONLY | O_NONBLOCK), seen = 0;
        char buf[256];
        time_t end = time(NULL) + 8;
        while (fd >= 0 && time(NULL) < end) {
            ssize_t n = read(fd, buf, sizeof(buf) - 1);
            for (ssize_t i = 0; n > 0 && i + 11 <= n; i++)
                if (memcmp(buf + i, "reconfigure", 11) == 0 && ++seen == ignore + 1) {
                    struct ww_conf *c = NULL;
                    int fb;
                    char err[WW_ERRLEN];
                    _exit(ww_lastgood_load(conf_path, 0, &c, &fb, err, sizeof(err)) == WW_OK ? 0
                                                                                               : 3);
                }
            usleep(20000);
        }
        _exit(ignore < 0 ? 0 : 2);
    }
    usleep(100000); /* the reader has the FIFO open */
    return pid;
}

static int wait_child(pid_t pid)
{
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* webwardenctl reload waits until the services loaded the file, asking again every 2 s: c-icap
 * ignores a reconfigure while its last one's children are still finishing. */
START_TEST(test_lastgood_reconfigure_wait_asks_again_until_loaded)
{
    struct ww_conf *conf = NULL;
    char fifo[128], err[WW_ERRLEN] = "";
    int fb, done = 9;
    time_t t0;
    pid_t pid;

    snprintf(fifo, sizeof(fifo), "%s/c-icap.ctl", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    write_file(conf_path, good);
    ck_assert_int_eq(ww_lastgood_load(conf_path, 0, &conf, &fb, err, sizeof(err)), WW_OK);
    ww_conf_free(conf);
    sleep(1); /* the next load's config.lastgood_meta differs (its time is in seconds) */

    /* loaded at the first request */
    pid = fake_cicap(fifo, 0);
    ck_assert_int_eq(ww_lastgood_reconfigure_wait(fifo, db_path, 10000, &done, err, sizeof(err)),
                     WW_OK);
    ck_assert_int_eq(done, 1);
    ck_assert_int_eq(wait_child(pid), 0);

    /* the first request ignored: asked again 2 s later, then loaded */
    sleep(1);
    pid = fake_cicap(fifo, 1);
    t0 = time(NULL);
    ck_assert_int_eq(ww_lastgood_reconfigure_wait(fifo, db_path, 10000, &done, err, sizeof(err)),
                     WW_OK);
    ck_assert_int_eq(done, 1);
    ck_assert_int_ge(time(NULL) - t0, 1);
    ck_assert_int_eq(wait_child(pid), 0);

    /* never loaded: done 0 within the wait */
    pid = fake_cicap(fifo, -1);
    t0 = time(NULL);
    ck_assert_int_eq(ww_lastgood_reconfigure_wait(fifo, db_path, 700, &done, err, sizeof(err)),
                     WW_OK);
    ck_assert_int_eq(done, 0);
    ck_assert_int_le(time(NULL) - t0, 3);
    kill(pid, SIGKILL);
    wait_child(pid);

    /* no store to look at, or no waiting: not known */
    pid = fake_cicap(fifo, -1);
    ck_assert_int_eq(ww_lastgood_reconfigure_wait(fifo, "/nonexistent/state.db", 5000, &done, err,
                                                  sizeof(err)),
                     WW_OK);
    ck_assert_int_eq(done, -1);
    ck_assert_int_eq(ww_lastgood_reconfigure_wait(fifo, db_path, 0, &done, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(done, -1);
    kill(pid, SIGKILL);
    wait_child(pid);
    /* no c-icap reading: the error at once */
    ck_assert_int_eq(ww_lastgood_reconfigure_wait(fifo, db_path, 5000, &done, err, sizeof(err)),
                     WW_EIO);
    ck_assert_ptr_nonnull(strstr(err, "no c-icap is reading it"));
}
END_TEST

int main(void)
{
    Suite *su = suite_create("lastgood");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_lastgood_bad_file_serves_the_last_good_one);
    tcase_add_test(tc, test_lastgood_never_another_files_copy_nor_a_missing_one);
    tcase_add_test(tc, test_lastgood_reconfigure_writes_the_fifo_or_says_why_not);
    tcase_add_test(tc, test_lastgood_reconfigure_wait_asks_again_until_loaded);
    suite_add_tcase(su, tc);
    sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
