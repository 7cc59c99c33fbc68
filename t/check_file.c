/* t/check_file.c - the file steps written once in lib (mkdir -p, write-temp-then-rename, SHA-256
 * of a file) and the monotonic clock. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ww_clock.h"
#include "ww_common.h"
#include "ww_file.h"

static char top[64];

static void top_up(void)
{
    snprintf(top, sizeof(top), "/tmp/ww-checkfile-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(top));
}

static void top_down(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    ck_assert_int_eq(system(cmd), 0);
}

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void read_all(const char *path, char *out, size_t len)
{
    FILE *fp = fopen(path, "r");
    size_t n;

    ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
    n = fread(out, 1, len - 1, fp);
    out[n] = '\0';
    fclose(fp);
}

/* Entries of <dir> besides . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

START_TEST(test_file_mkdir_p_makes_parents_and_accepts_existing)
{
    char path[256], err[WW_ERRLEN] = "";

    snprintf(path, sizeof(path), "%s/a/b/c", top);
    ck_assert_int_eq(ww_file_mkdir_p(path, err, sizeof(err)), WW_OK);
    ck_assert(is_dir(path));
    ck_assert_int_eq(ww_file_mkdir_p(path, err, sizeof(err)), WW_OK); /* again: fine */
    snprintf(path, sizeof(path), "%s/a/b/c/", top);                   /* trailing slash */
    ck_assert_int_eq(ww_file_mkdir_p(path, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_file_mkdir_p("", err, sizeof(err)), WW_EINVAL);
}
END_TEST

START_TEST(test_file_mkdir_p_under_a_file_fails_naming_the_folder)
{
    char file[256], path[512], err[WW_ERRLEN] = "";

    snprintf(file, sizeof(file), "%s/plain", top);
    ck_assert_int_eq(ww_file_write_atomic(file, "x", 1, 0644, err, sizeof(err)), WW_OK);
    snprintf(path, sizeof(path), "%s/sub/dir", file);
    ck_assert_int_eq(ww_file_mkdir_p(path, err, sizeof(err)), WW_EIO);
    ck_assert_msg(strstr(err, "cannot create folder") != NULL && strstr(err, file) != NULL,
                  "err \"%s\" should name %s", err, file);
}
END_TEST

START_TEST(test_file_write_atomic_replaces_whole_and_leaves_no_temp)
{
    char path[256], got[64], err[WW_ERRLEN] = "";
    struct stat sb;

    snprintf(path, sizeof(path), "%s/state.txt", top);
    ck_assert_int_eq(ww_file_write_atomic(path, "first\n", 6, 0600, err, sizeof(err)), WW_OK);
    read_all(path, got, sizeof(got));
    ck_assert_str_eq(got, "first\n");
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    ck_assert_int_eq(ww_file_write_atomic(path, "second", 6, 0644, err, sizeof(err)), WW_OK);
    read_all(path, got, sizeof(got));
    ck_assert_str_eq(got, "second");
    ck_assert_int_eq(ww_file_write_atomic(path, "", 0, 0644, err, sizeof(err)), WW_OK);
    read_all(path, got, sizeof(got));
    ck_assert_str_eq(got, "");
    ck_assert_int_eq(count_entries(top), 1); /* state.txt alone: no temporary left */
}
END_TEST

START_TEST(test_file_write_atomic_in_missing_folder_fails_cleanly)
{
    char path[256], err[WW_ERRLEN] = "";

    snprintf(path, sizeof(path), "%s/nowhere/state.txt", top);
    ck_assert_int_eq(ww_file_write_atomic(path, "x", 1, 0644, err, sizeof(err)), WW_EIO);
    ck_assert_msg(strstr(err, "nowhere") != NULL, "err \"%s\" should name the file", err);
    ck_assert_int_eq(count_entries(top), 0);
}
END_TEST

START_TEST(test_file_commit_renames_a_written_temp)
{
    char tmp[256], path[256], got[64], err[WW_ERRLEN] = "";
    int fd;

    snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", top);
    snprintf(path, sizeof(path), "%s/final", top);
    fd = mkstemp(tmp);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "body", 4), 4);
    ck_assert_int_eq(ww_file_commit(fd, tmp, path, err, sizeof(err)), WW_OK);
    read_all(path, got, sizeof(got));
    ck_assert_str_eq(got, "body");
    ck_assert_int_eq(access(tmp, F_OK), -1);
}
END_TEST

START_TEST(test_file_sha256_of_known_contents)
{
    char path[256], hex[65], err[WW_ERRLEN] = "";

    snprintf(path, sizeof(path), "%s/abc", top);
    ck_assert_int_eq(ww_file_write_atomic(path, "abc", 3, 0644, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_file_sha256(path, hex), WW_OK);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_int_eq(ww_file_write_atomic(path, "", 0, 0644, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_file_sha256(path, hex), WW_OK);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    snprintf(path, sizeof(path), "%s/missing", top);
    ck_assert_int_eq(ww_file_sha256(path, hex), WW_EIO);
    ck_assert_str_eq(hex, "");
}
END_TEST

START_TEST(test_clock_is_monotonic_and_counts_milliseconds)
{
    struct timespec nap = {0, 50 * 1000000L};
    int64_t t0 = ww_clock_ms(), t1;

    nanosleep(&nap, NULL);
    t1 = ww_clock_ms();
    ck_assert_msg(t1 - t0 >= 45 && t1 - t0 < 5000, "50 ms nap measured as %lld ms",
                  (long long)(t1 - t0));
    for (int i = 0; i < 1000; i++) {
        int64_t t = ww_clock_ms();
        ck_assert_int_ge(t, t1);
        t1 = t;
    }
}
END_TEST

static Suite *file_suite(void)
{
    Suite *s = suite_create("file");
    TCase *tc = tcase_create("file");

    tcase_add_checked_fixture(tc, top_up, top_down);
    tcase_add_test(tc, test_file_mkdir_p_makes_parents_and_accepts_existing);
    tcase_add_test(tc, test_file_mkdir_p_under_a_file_fails_naming_the_folder);
    tcase_add_test(tc, test_file_write_atomic_replaces_whole_and_leaves_no_temp);
    tcase_add_test(tc, test_file_write_atomic_in_missing_folder_fails_cleanly);
    tcase_add_test(tc, test_file_commit_renames_a_written_temp);
    tcase_add_test(tc, test_file_sha256_of_known_contents);
    suite_add_tcase(s, tc);
    tc = tcase_create("clock");
    tcase_add_test(tc, test_clock_is_monotonic_and_counts_milliseconds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(file_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
