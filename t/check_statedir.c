/* t/check_statedir.c - unit tests of lib/ww_statedir.c: group sharing of the state folder, and
 * the starter patterns. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_statedir.h"

static char tmp_dir[256];

static void statedir_setup(void)
{
    const char *base = getenv("TMPDIR");

    snprintf(tmp_dir, sizeof(tmp_dir), "%s/check_statedir.XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmp_dir) != NULL, "mkdtemp(%s): %s", tmp_dir, strerror(errno));
    umask(022);
}

static void statedir_teardown(void)
{
    char cmd[PATH_MAX + 16];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A group other than our own that we may give files to: any group as root, else one of our
 * supplementary groups; our own group when there is no other (the modes are checked all the
 * same). */
static gid_t other_gid(void)
{
    gid_t groups[256];
    int n;

    if (geteuid() == 0)
        return getegid() == 65534 ? 65533 : 65534;
    n = getgroups(256, groups);
    for (int i = 0; i < n; i++)
        if (groups[i] != getegid())
            return groups[i];
    return getegid();
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *fp = fopen(path, "w");

    ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
    fputs(text, fp);
    fclose(fp);
    ck_assert_int_eq(chmod(path, mode), 0);
}

static struct stat stat_of(const char *path)
{
    struct stat sb;

    ck_assert_msg(lstat(path, &sb) == 0, "%s: %s", path, strerror(errno));
    return sb;
}

START_TEST(test_statedir_share_gives_folder_and_db_files_to_the_group)
{
    char dir[PATH_MAX], db[PATH_MAX], wal[PATH_MAX], shm[PATH_MAX], err[WW_ERRLEN] = "";
    gid_t gid = other_gid();
    struct stat sb;
    int rc;

    snprintf(dir, sizeof(dir), "%s/state", tmp_dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(db, sizeof(db), "%s/state.db", dir);
    snprintf(wal, sizeof(wal), "%s-wal", db);
    snprintf(shm, sizeof(shm), "%s-shm", db);
    write_file(db, "db", 0640);
    write_file(wal, "wal", 0644);
    /* no -shm: an absent file is not an error */
    rc = ww_statedir_share(db, gid, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "share: %d \"%s\"", rc, err);
    sb = stat_of(dir);
    ck_assert_msg(sb.st_gid == gid && (sb.st_mode & 07777) == 02775,
                  "folder: gid %ld mode %04o, want gid %ld mode 2775", (long)sb.st_gid,
                  (unsigned)(sb.st_mode & 07777), (long)gid);
    sb = stat_of(db);
    ck_assert_msg(sb.st_gid == gid && (sb.st_mode & 07777) == 0660,
                  "db: gid %ld mode %04o, want gid %ld mode 0660", (long)sb.st_gid,
                  (unsigned)(sb.st_mode & 07777), (long)gid);
    sb = stat_of(wal);
    ck_assert_msg(sb.st_gid == gid && (sb.st_mode & 07777) == 0660, "wal: gid %ld mode %04o",
                  (long)sb.st_gid, (unsigned)(sb.st_mode & 07777));
    ck_assert_msg(access(shm, F_OK) != 0, "share created %s", shm);
    /* A second run changes nothing and still succeeds. */
    rc = ww_statedir_share(db, gid, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "second share: %d \"%s\"", rc, err);
}
END_TEST

START_TEST(test_statedir_share_keeps_others_bits_on_the_folder)
{
    char dir[PATH_MAX], db[PATH_MAX], err[WW_ERRLEN] = "";
    struct stat sb;

    snprintf(dir, sizeof(dir), "%s/private", tmp_dir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(chmod(dir, 0700), 0);
    snprintf(db, sizeof(db), "%s/state.db", dir);
    write_file(db, "db", 0604);
    ck_assert_int_eq(ww_statedir_share(db, other_gid(), err, sizeof(err)), WW_OK);
    sb = stat_of(dir);
    ck_assert_msg((sb.st_mode & 07777) == 02770, "folder mode %04o, want 2770",
                  (unsigned)(sb.st_mode & 07777));
    sb = stat_of(db);
    ck_assert_msg((sb.st_mode & 07777) == 0660, "db mode %04o, want 0660 (others lose access)",
                  (unsigned)(sb.st_mode & 07777));
}
END_TEST

START_TEST(test_statedir_share_refuses_symlink_in_place_of_db)
{
    char dir[PATH_MAX], db[PATH_MAX], target[PATH_MAX], err[WW_ERRLEN] = "";
    struct stat before, after;
    int rc;

    snprintf(dir, sizeof(dir), "%s/state", tmp_dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(target, sizeof(target), "%s/secret", tmp_dir);
    write_file(target, "not ours", 0600);
    before = stat_of(target);
    snprintf(db, sizeof(db), "%s/state.db", dir);
    ck_assert_int_eq(symlink(target, db), 0);
    rc = ww_statedir_share(db, other_gid(), err, sizeof(err));
    after = stat_of(target);
    ck_assert_msg(rc == WW_EINVAL && strstr(err, "symbolic link") != NULL,
                  "share over a symlink: %d \"%s\", want WW_EINVAL naming the link", rc, err);
    ck_assert_msg(after.st_gid == before.st_gid && after.st_mode == before.st_mode,
                  "the link's target changed: mode %04o -> %04o", (unsigned)before.st_mode,
                  (unsigned)after.st_mode);
}
END_TEST

START_TEST(test_statedir_share_refuses_hard_linked_wal)
{
    char dir[PATH_MAX], db[PATH_MAX], wal[PATH_MAX], target[PATH_MAX], err[WW_ERRLEN] = "";
    int rc;

    snprintf(dir, sizeof(dir), "%s/state", tmp_dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(db, sizeof(db), "%s/state.db", dir);
    write_file(db, "db", 0640);
    snprintf(target, sizeof(target), "%s/secret", tmp_dir);
    write_file(target, "not ours", 0600);
    snprintf(wal, sizeof(wal), "%s-wal", db);
    ck_assert_int_eq(link(target, wal), 0);
    rc = ww_statedir_share(db, other_gid(), err, sizeof(err));
    ck_assert_msg(rc == WW_EINVAL && strstr(err, "-wal") != NULL,
                  "share with a hard-linked -wal: %d \"%s\", want WW_EINVAL naming it", rc, err);
    ck_assert_msg((stat_of(target).st_mode & 07777) == 0600, "the linked file's mode changed");
}
END_TEST

START_TEST(test_statedir_share_missing_folder_is_io_error)
{
    char db[PATH_MAX], err[WW_ERRLEN] = "";
    int rc;

    snprintf(db, sizeof(db), "%s/nowhere/state.db", tmp_dir);
    rc = ww_statedir_share(db, other_gid(), err, sizeof(err));
    ck_assert_msg(rc == WW_EIO && strstr(err, "nowhere") != NULL,
                  "share in a missing folder: %d \"%s\"", rc, err);
}
END_TEST

START_TEST(test_statedir_group_id_by_name_number_and_unknown)
{
    char err[WW_ERRLEN] = "";
    gid_t gid = 12345;

    ck_assert_int_eq(ww_statedir_group_id("root", &gid, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(gid, 0);
    ck_assert_int_eq(ww_statedir_group_id("4242", &gid, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(gid, 4242);
    ck_assert_int_eq(ww_statedir_group_id("no-such-group-ww", &gid, err, sizeof(err)),
                     WW_ENOTFOUND);
    ck_assert_msg(strstr(err, "no-such-group-ww") != NULL, "err \"%s\" names no group", err);
    ck_assert_int_eq(ww_statedir_group_id("", &gid, err, sizeof(err)), WW_EINVAL);
}
END_TEST

/* The starter folder: two signature files, a hidden file and a sub-folder (neither copied). */
static void make_starter(char *starter, size_t len)
{
    char path[PATH_MAX];

    snprintf(starter, len, "%s/starter", tmp_dir);
    ck_assert_int_eq(mkdir(starter, 0755), 0);
    snprintf(path, sizeof(path), "%s/test.ndb", starter);
    write_file(path, "Eicar:0:*:4549434152\n", 0600);
    snprintf(path, sizeof(path), "%s/test.hsb", starter);
    write_file(path, "abc:68:Test\n", 0644);
    snprintf(path, sizeof(path), "%s/.hidden", starter);
    write_file(path, "x", 0644);
    snprintf(path, sizeof(path), "%s/sub", starter);
    ck_assert_int_eq(mkdir(path, 0755), 0);
}

START_TEST(test_statedir_seed_creates_folder_and_copies_starter_files)
{
    char starter[PATH_MAX], pat[PATH_MAX], path[PATH_MAX], buf[64] = "", err[WW_ERRLEN] = "";
    int copied = -1, rc;
    FILE *fp;

    make_starter(starter, sizeof(starter));
    snprintf(pat, sizeof(pat), "%s/patterns", tmp_dir);
    umask(077); /* the folder and files are readable by c-icap all the same */
    rc = ww_statedir_seed_patterns(pat, starter, &copied, err, sizeof(err));
    ck_assert_msg(rc == WW_OK && copied == 2, "seed: %d, %d copied \"%s\", want 2", rc, copied,
                  err);
    ck_assert_msg((stat_of(pat).st_mode & 0777) == 0755, "folder mode %04o",
                  (unsigned)(stat_of(pat).st_mode & 0777));
    snprintf(path, sizeof(path), "%s/test.ndb", pat);
    ck_assert_msg((stat_of(path).st_mode & 07777) == 0644, "copy mode %04o, want 0644",
                  (unsigned)(stat_of(path).st_mode & 07777));
    fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), fp));
    fclose(fp);
    ck_assert_str_eq(buf, "Eicar:0:*:4549434152\n");
    snprintf(path, sizeof(path), "%s/.hidden", pat);
    ck_assert_msg(access(path, F_OK) != 0, "hidden file copied");
    snprintf(path, sizeof(path), "%s/sub", pat);
    ck_assert_msg(access(path, F_OK) != 0, "sub-folder copied");
    snprintf(path, sizeof(path), "%s/test.ndb.tmp", pat);
    ck_assert_msg(access(path, F_OK) != 0, "temporary file left");
}
END_TEST

START_TEST(test_statedir_seed_leaves_a_folder_with_patterns_alone)
{
    char starter[PATH_MAX], pat[PATH_MAX], path[PATH_MAX], err[WW_ERRLEN] = "";
    int copied = -1, rc;

    make_starter(starter, sizeof(starter));
    snprintf(pat, sizeof(pat), "%s/patterns", tmp_dir);
    ck_assert_int_eq(mkdir(pat, 0750), 0);
    snprintf(path, sizeof(path), "%s/admin.ndb", pat);
    write_file(path, "Mine:0:*:41414141\n", 0640);
    rc = ww_statedir_seed_patterns(pat, starter, &copied, err, sizeof(err));
    ck_assert_msg(rc == WW_OK && copied == 0, "seed over patterns: %d, %d copied \"%s\"", rc,
                  copied, err);
    snprintf(path, sizeof(path), "%s/test.ndb", pat);
    ck_assert_msg(access(path, F_OK) != 0, "starter file copied over the admin's patterns");
    ck_assert_msg((stat_of(pat).st_mode & 07777) == 0750, "existing folder's mode changed");
}
END_TEST

START_TEST(test_statedir_seed_without_starter_folder_copies_nothing)
{
    char starter[PATH_MAX], pat[PATH_MAX], err[WW_ERRLEN] = "";
    int copied = -1, rc;

    snprintf(starter, sizeof(starter), "%s/no-starter", tmp_dir);
    snprintf(pat, sizeof(pat), "%s/patterns", tmp_dir);
    rc = ww_statedir_seed_patterns(pat, starter, &copied, err, sizeof(err));
    ck_assert_msg(rc == WW_OK && copied == 0, "seed: %d, %d copied \"%s\"", rc, copied, err);
    ck_assert_msg(S_ISDIR(stat_of(pat).st_mode), "patterns folder not created");
}
END_TEST

START_TEST(test_statedir_seed_under_a_file_fails_with_reason)
{
    char starter[PATH_MAX], file[PATH_MAX], pat[PATH_MAX], err[WW_ERRLEN] = "";
    int copied = -1, rc;

    make_starter(starter, sizeof(starter));
    snprintf(file, sizeof(file), "%s/plain", tmp_dir);
    write_file(file, "x", 0644);
    snprintf(pat, sizeof(pat), "%s/patterns", file);
    rc = ww_statedir_seed_patterns(pat, starter, &copied, err, sizeof(err));
    ck_assert_msg(rc == WW_EIO && copied == 0 && strstr(err, pat) != NULL,
                  "seed under a file: %d \"%s\", want WW_EIO naming %s", rc, err, pat);
}
END_TEST

static Suite *statedir_suite(void)
{
    Suite *s = suite_create("statedir");
    TCase *tc;

    tc = tcase_create("share");
    tcase_add_checked_fixture(tc, statedir_setup, statedir_teardown);
    tcase_add_test(tc, test_statedir_share_gives_folder_and_db_files_to_the_group);
    tcase_add_test(tc, test_statedir_share_keeps_others_bits_on_the_folder);
    tcase_add_test(tc, test_statedir_share_refuses_symlink_in_place_of_db);
    tcase_add_test(tc, test_statedir_share_refuses_hard_linked_wal);
    tcase_add_test(tc, test_statedir_share_missing_folder_is_io_error);
    tcase_add_test(tc, test_statedir_group_id_by_name_number_and_unknown);
    suite_add_tcase(s, tc);

    tc = tcase_create("seed");
    tcase_add_checked_fixture(tc, statedir_setup, statedir_teardown);
    tcase_add_test(tc, test_statedir_seed_creates_folder_and_copies_starter_files);
    tcase_add_test(tc, test_statedir_seed_leaves_a_folder_with_patterns_alone);
    tcase_add_test(tc, test_statedir_seed_without_starter_folder_copies_nothing);
    tcase_add_test(tc, test_statedir_seed_under_a_file_fails_with_reason);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(statedir_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
