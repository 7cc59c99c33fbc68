/* t/check_urldb.c - local URL database: format, lookup order, squidGuard import. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_rep.h"
#include "ww_urldb.h"

static const char sample[] = "# local overrides\n"
                             "webwarden-urldb 1 2026.11.27.1\n"
                             "\n"
                             "example.com 80 news\n"
                             "example.com/bad/ 10 Malware,Phishing\n"
                             "example.com/dir 30 gambling\n"
                             "example.com/page.html 40\n"
                             "sub.example.com 90 business\n"
                             "http://Shop.Example.ORG/cart/ 55 shopping\n"
                             "192.0.2.7 5 c2\n"
                             "dup.example 20 first\n"
                             "dup.example\t95\tsecond\n"
                             "  indented.example   60   news  \n";

static struct ww_urldb *load_sample(void)
{
    struct ww_urldb *db = NULL;
    char err[WW_ERRLEN] = "";
    int rc = ww_urldb_load_buffer("sample", sample, sizeof(sample) - 1, &db, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "load sample: %d %s", rc, err);
    return db;
}

static const struct {
    const char *url;
    int want_score; /* -1 = not found */
    const char *want_cat;
} lookup_cases[] = {
    {"http://example.com/", 80, "news"},
    {"http://www.example.com/x", 80, "news"},   /* domain covers subdomains */
    {"http://notexample.com/", -1, NULL},       /* but not look-alikes */
    {"http://example.com/bad/", 10, "malware"}, /* URL prefix beats domain */
    {"http://example.com/bad/deep/er/x.html?q=1", 10, "malware"},
    {"http://example.com/badger", 80, "news"},          /* prefix is by path component */
    {"http://example.com/dir", 30, "gambling"},         /* entry without slash: exact... */
    {"http://example.com/dir/inner/x", 30, "gambling"}, /* ...and as a folder */
    {"http://example.com/page.html?x=1", 40, ""},       /* exact path with any query */
    {"http://a.sub.example.com/bad/", 90, "business"},  /* longer host suffix wins */
    {"https://shop.example.org/cart/item", 55, "shopping"},
    {"https://shop.example.org/", -1, NULL},
    {"http://192.0.2.7/anything", 5, "c2"},
    {"http://1.192.0.2.7/", -1, NULL},
    {"http://dup.example/", 95, "second"}, /* a later line wins */
    {"http://indented.example/", 60, "news"},
    {"http://example.com:8080/bad/x", 10, "malware"}, /* port does not matter */
};

START_TEST(test_urldb_lookup_most_specific_entry_wins)
{
    struct ww_urldb *db = load_sample();
    struct ww_rating r;
    int rc;

    ww_rating_init(&r, WW_REP_SRC_NONE, WW_OK);
    rc = ww_urldb_lookup(db, lookup_cases[_i].url, &r);
    if (lookup_cases[_i].want_score < 0) {
        ck_assert_msg(rc == WW_ENOTFOUND, "lookup %s: rc %d score %d, want not found",
                      lookup_cases[_i].url, rc, r.score);
    } else {
        const char *cat = r.ncategories > 0 ? r.categories[0] : "";
        ck_assert_msg(rc == WW_OK && r.score == lookup_cases[_i].want_score &&
                          strcmp(cat, lookup_cases[_i].want_cat) == 0 &&
                          r.source == WW_REP_SRC_LOCALDB,
                      "lookup %s: rc %d score %d cat \"%s\", want %d \"%s\"", lookup_cases[_i].url,
                      rc, r.score, cat, lookup_cases[_i].want_score, lookup_cases[_i].want_cat);
    }
    ww_urldb_unref(db);
}
END_TEST

START_TEST(test_urldb_header_version_and_count)
{
    struct ww_urldb *db = load_sample();

    ck_assert_str_eq(ww_urldb_version(db), "2026.11.27.1");
    ck_assert_uint_eq(ww_urldb_count(db), 10);
    ck_assert_ptr_eq(ww_urldb_ref(db), db);
    ww_urldb_unref(db);
    ww_urldb_unref(db);
    ww_urldb_unref(NULL);
}
END_TEST

START_TEST(test_urldb_categories_are_lower_case_and_all_kept)
{
    struct ww_urldb *db = load_sample();
    struct ww_rating r;

    ck_assert_int_eq(ww_urldb_lookup(db, "http://example.com/bad/x", &r), WW_OK);
    ck_assert_int_eq(r.ncategories, 2);
    ck_assert_str_eq(r.categories[0], "malware");
    ck_assert_str_eq(r.categories[1], "phishing");
    ww_urldb_unref(db);
}
END_TEST

static const struct {
    const char *text, *want_err;
} bad_cases[] = {
    {"", "empty: empty file"},
    {"# only a comment\n", "empty: empty file"},
    {"example.com 10\n", "empty:1: first line must be"},
    {"webwarden-urldb 2 v1\n", "empty:1: unsupported format"},
    {"webwarden-urldb 1 v1\nexample.com 101\n", "empty:2: score must be"},
    {"webwarden-urldb 1 v1\nexample.com -1\n", "empty:2: score must be"},
    {"webwarden-urldb 1 v1\nexample.com x\n", "empty:2: score must be"},
    {"webwarden-urldb 1 v1\n# c\nexample.com\n", "empty:3: want"},
    {"webwarden-urldb 1 v1\nexample.com 5 a b\n", "empty:2: want"},
    {"webwarden-urldb 1 v1\nexample.com 5 a,,b\n", "empty:2: bad category list"},
    {"webwarden-urldb 1 v1\n/path 5\n", "empty:2: bad host"},
};

START_TEST(test_urldb_bad_file_is_refused_with_line)
{
    struct ww_urldb *db = NULL;
    char err[WW_ERRLEN] = "";
    const char *text = bad_cases[_i].text;
    int rc = ww_urldb_load_buffer("empty", text, strlen(text), &db, err, sizeof(err));

    ck_assert_msg(rc == WW_EINVAL && db == NULL &&
                      strncmp(err, bad_cases[_i].want_err, strlen(bad_cases[_i].want_err)) == 0,
                  "load \"%s\": rc %d err \"%s\", want EINVAL \"%s...\"", text, rc, err,
                  bad_cases[_i].want_err);
}
END_TEST

START_TEST(test_urldb_nul_byte_is_refused)
{
    static const char text[] = "webwarden-urldb 1 v1\nexa\0mple.com 5\n";
    struct ww_urldb *db = NULL;
    char err[WW_ERRLEN] = "";

    ck_assert_int_eq(ww_urldb_load_buffer("nul", text, sizeof(text) - 1, &db, err, sizeof(err)),
                     WW_EINVAL);
    ck_assert_ptr_null(db);
}
END_TEST

START_TEST(test_urldb_missing_file_names_it)
{
    struct ww_urldb *db = NULL;
    char err[WW_ERRLEN] = "";

    ck_assert_int_eq(ww_urldb_load("/nonexistent/urldb.txt", &db, err, sizeof(err)), WW_EIO);
    ck_assert_msg(strstr(err, "/nonexistent/urldb.txt") != NULL, "err \"%s\"", err);
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    ck_assert_msg(fp != NULL, "cannot write %s", path);
    fputs(text, fp);
    fclose(fp);
}

START_TEST(test_urldb_import_squidguard_lists)
{
    char dir[] = "/tmp/ww-sg-XXXXXX", path[256], out[256], err[WW_ERRLEN] = "";
    struct ww_urldb *db = NULL;
    struct ww_rating r;
    size_t n = 0;
    int rc;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/adult", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/malware", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/adult/domains", dir);
    write_file(path, "# UT1 style\nAdult.Example\n\nboth.example\nbad entry here\n");
    snprintf(path, sizeof(path), "%s/malware/domains", dir);
    write_file(path, "evil.example\r\nboth.example\n");
    snprintf(path, sizeof(path), "%s/malware/urls", dir);
    write_file(path, "host.example/dl/payload.exe\nhost.example/kit/\nbarehost.example\n");
    snprintf(out, sizeof(out), "%s/urldb.txt", dir);

    rc = ww_urldb_import_squidguard(dir, out, 0, "malware=10", "2026.1.1", &n, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "import: %d %s", rc, err);
    ck_assert_uint_eq(n, 6);
    rc = ww_urldb_load(out, &db, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "load imported: %d %s", rc, err);
    ck_assert_str_eq(ww_urldb_version(db), "2026.1.1");

    ck_assert_int_eq(ww_urldb_lookup(db, "http://www.adult.example/", &r), WW_OK);
    ck_assert_int_eq(r.score, 0); /* categories only */
    ck_assert_str_eq(r.categories[0], "adult");
    ck_assert_int_eq(ww_urldb_lookup(db, "http://both.example/", &r), WW_OK);
    ck_assert_msg(r.score == 10 && r.ncategories == 2, "both: score %d ncat %d", r.score,
                  r.ncategories);
    ck_assert_int_eq(ww_urldb_lookup(db, "http://host.example/dl/payload.exe", &r), WW_OK);
    ck_assert_int_eq(r.score, 10);
    ck_assert_int_eq(ww_urldb_lookup(db, "http://host.example/kit/a/b", &r), WW_OK);
    ck_assert_int_eq(ww_urldb_lookup(db, "http://host.example/other", &r), WW_ENOTFOUND);
    ck_assert_int_eq(ww_urldb_lookup(db, "http://barehost.example/x", &r), WW_OK);
    /* host/path entries cover subdomains too (Safe Browsing expressions) */
    ck_assert_int_eq(ww_urldb_lookup(db, "http://sub.barehost.example/x", &r), WW_OK);
    ww_urldb_unref(db);

    ck_assert_int_eq(
        ww_urldb_import_squidguard(dir, out, 0, "malware", NULL, NULL, err, sizeof(err)),
        WW_EINVAL);
    ck_assert_int_eq(
        ww_urldb_import_squidguard("/nonexistent", out, 0, NULL, NULL, NULL, err, sizeof(err)),
        WW_EIO);

    /* cleanup */
    const char *files[] = {"adult/domains", "malware/domains", "malware/urls", "urldb.txt"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/adult", dir);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/malware", dir);
    rmdir(path);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("urldb");
    TCase *tc = tcase_create("load");
    TCase *tl = tcase_create("lookup");
    TCase *ti = tcase_create("import");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_urldb_header_version_and_count);
    tcase_add_loop_test(tc, test_urldb_bad_file_is_refused_with_line, 0,
                        sizeof(bad_cases) / sizeof(bad_cases[0]));
    tcase_add_test(tc, test_urldb_nul_byte_is_refused);
    tcase_add_test(tc, test_urldb_missing_file_names_it);
    tcase_add_loop_test(tl, test_urldb_lookup_most_specific_entry_wins, 0,
                        sizeof(lookup_cases) / sizeof(lookup_cases[0]));
    tcase_add_test(tl, test_urldb_categories_are_lower_case_and_all_kept);
    tcase_add_test(ti, test_urldb_import_squidguard_lists);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, tl);
    suite_add_tcase(s, ti);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
