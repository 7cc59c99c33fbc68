/* t/check_lists.c - unit tests for lib/ww_lists.c: loading list files and matching URLs. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_lists.h"
#include "ww_url.h"

/* Writes <text> to a fresh temporary file; the caller unlinks <path>. */
static void write_file(char *path, size_t pathlen, const char *text)
{
    snprintf(path, pathlen, "/tmp/ww_check_lists_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *fp = fdopen(fd, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    ck_assert_int_eq(fclose(fp), 0);
}

static struct ww_list *load_text(const char *text)
{
    char path[64], err[WW_ERRLEN] = "";
    struct ww_list *l = NULL;

    write_file(path, sizeof(path), text);
    int rc = ww_list_load(path, &l, err, sizeof(err));
    unlink(path);
    ck_assert_msg(rc == WW_OK && l != NULL, "load: %d %s", rc, err);
    return l;
}

static const char list_text[] = "# blocked sites\n"
                                "\n"
                                "evil.com\n"
                                "  *.Wild.Example   # comment after an entry\n"
                                ".dot.example\n"
                                "example.com/ads/\n"
                                "https://shop.example/checkout?step=2\n"
                                "http://plain.example\n"
                                "10.1.2.3\n"
                                "[2001:DB8::1]\n"
                                "evil.com\n"
                                "prefix.example/ab\n"
                                "Example.org/Admin;x=1/Panel/\n"
                                "\t\r\n";

static const struct {
    const char *url;
    int want;
    const char *entry;
} match_cases[] = {
    {"http://evil.com/", 1, "evil.com"},
    {"https://evil.com/any/path?q", 1, "evil.com"},
    {"http://www.evil.com/", 1, "evil.com"},
    {"http://a.b.c.evil.com:8080/x", 1, "evil.com"},
    {"http://notevil.com/", 0, NULL},
    {"http://evil.com.notevil.net/", 0, NULL},
    {"http://evil.co/", 0, NULL},
    {"http://wild.example/", 1, "*.Wild.Example"},
    {"http://x.wild.example/", 1, "*.Wild.Example"},
    {"http://dot.example/", 1, ".dot.example"},
    {"http://a.dot.example/", 1, ".dot.example"},
    {"http://example.com/ads/banner.gif", 1, "example.com/ads/"},
    {"https://example.com/ads/", 1, "example.com/ads/"},
    {"http://example.com:8080/ads/x", 1, "example.com/ads/"},
    {"http://example.com/ads", 0, NULL},
    {"http://example.com/", 0, NULL},
    {"http://sub.example.com/ads/", 0, NULL},
    {"http://shop.example/checkout?step=2", 1, "https://shop.example/checkout?step=2"},
    {"http://shop.example/checkout?step=2&x=1", 1, "https://shop.example/checkout?step=2"},
    {"http://shop.example/checkout?step=1", 0, NULL},
    {"http://plain.example/", 1, "http://plain.example"},
    {"http://plain.example/deep/path", 1, "http://plain.example"},
    {"http://www.plain.example/", 0, NULL},
    {"http://10.1.2.3/", 1, "10.1.2.3"},
    {"http://110.1.2.3/", 0, NULL},
    {"http://9.10.1.2.3/", 0, NULL},
    {"http://[2001:db8::1]:8080/", 1, "[2001:DB8::1]"},
    {"http://[2001:db8::2]/", 0, NULL},
    {"http://prefix.example/ab", 1, "prefix.example/ab"},
    {"http://prefix.example/abc/def?g", 1, "prefix.example/ab"},
    {"http://prefix.example/a", 0, NULL},
    {"http://prefix.example/", 0, NULL},
    /* issue 12: the path as IIS and servlet origins read it, on both sides; not the query */
    {"http://prefix.example/Ab", 1, "prefix.example/ab"},
    {"http://example.com/ADS/banner.gif", 1, "example.com/ads/"},
    {"http://example.com/ads;jsessionid=42/banner.gif", 1, "example.com/ads/"},
    {"http://example.com/Ads;a=b;c=d/x", 1, "example.com/ads/"},
    {"http://example.com/ads\\banner.gif", 1, "example.com/ads/"},
    {"http://example.com/ads%5Cbanner.gif", 1, "example.com/ads/"},
    {"http://example.com/ads;x", 0, NULL},
    {"http://example.org/ADMIN/panel/index", 1, "Example.org/Admin;x=1/Panel/"},
    {"http://example.org/admin;y/PANEL/", 1, "Example.org/Admin;x=1/Panel/"},
    {"http://example.org/admin/pane", 0, NULL},
    {"http://shop.example/CHECKOUT?step=2", 1, "https://shop.example/checkout?step=2"},
    {"http://shop.example/checkout?STEP=2", 0, NULL},
    {"not a url", 0, NULL},
    {"http://", 0, NULL},
};

START_TEST(test_list_match_domains_and_prefixes)
{
    struct ww_list *l = load_text(list_text);
    const char *entry = "unset";
    char canon[WW_URL_MAX];
    const char *url = match_cases[_i].url;

    /* Feed canonical URLs as the callers do; garbage is passed as is. */
    if (ww_url_canon(url, canon, sizeof(canon)) != WW_OK || strchr(url, ' ') != NULL)
        snprintf(canon, sizeof(canon), "%s", url);
    int got = ww_list_match(l, canon, &entry);
    ck_assert_msg(got == match_cases[_i].want, "match(\"%s\") = %d, want %d", canon, got,
                  match_cases[_i].want);
    if (match_cases[_i].entry != NULL)
        ck_assert_msg(entry != NULL && strcmp(entry, match_cases[_i].entry) == 0,
                      "match(\"%s\") entry \"%s\", want \"%s\"", canon, entry ? entry : "(null)",
                      match_cases[_i].entry);
    else
        ck_assert_ptr_null(entry);
    ck_assert_int_eq(ww_list_count(l), 10); /* the repeated evil.com counts once */
    ww_list_free(l);
}
END_TEST

static const struct {
    const char *text;
    int line;
    const char *reason;
} bad_cases[] = {
    {"ok.example\nhttp://\n", 2, "not a valid URL"},
    {"# c\n\nexa mple.com\n", 3, "space or control character"},
    {"a.example/x y\n", 1, "space or control character"},
    {"*.\n", 1, "empty or malformed domain"},
    {"*\n", 1, "empty or malformed domain"},
    {"..\n", 1, "empty or malformed domain"},
    {"ex*ample.com\n", 1, "not a valid domain"},
    {"example.com:8080\n", 1, "not a valid domain"},
    {"example.com?x\n", 1, "not a valid domain"},
    {"javascript:alert(1)\n", 1, "not a valid domain"},
    {"http://[nonsense]/x\n", 1, "not a valid URL"},
};

START_TEST(test_list_load_reports_bad_line)
{
    char path[64], err[WW_ERRLEN] = "", want[128];
    struct ww_list *l = (struct ww_list *)&l;

    write_file(path, sizeof(path), bad_cases[_i].text);
    int rc = ww_list_load(path, &l, err, sizeof(err));
    unlink(path);
    snprintf(want, sizeof(want), "%s:%d: %s", path, bad_cases[_i].line, bad_cases[_i].reason);
    ck_assert_msg(rc == WW_EINVAL && l == NULL && strncmp(err, want, strlen(want)) == 0,
                  "load(\"%s\") = %d \"%s\", want WW_EINVAL \"%s...\"", bad_cases[_i].text, rc, err,
                  want);
}
END_TEST

START_TEST(test_list_load_refuses_overlong_line)
{
    size_t n = 2 * WW_URL_MAX;
    char *text = malloc(n + 32), path[64], err[WW_ERRLEN] = "";
    struct ww_list *l = NULL;

    ck_assert_ptr_nonnull(text);
    strcpy(text, "fine.example\nexample.com/");
    size_t len = strlen(text);
    memset(text + len, 'a', n);
    strcpy(text + len + n, "\n");
    write_file(path, sizeof(path), text);
    int rc = ww_list_load(path, &l, err, sizeof(err));
    unlink(path);
    free(text);
    ck_assert_int_eq(rc, WW_EINVAL);
    ck_assert_ptr_null(l);
    ck_assert_msg(strstr(err, ":2: entry too long") != NULL, "err \"%s\"", err);
}
END_TEST

START_TEST(test_list_load_empty_path_gives_empty_list)
{
    struct ww_list *l = NULL;
    char err[WW_ERRLEN] = "";

    ck_assert_int_eq(ww_list_load("", &l, err, sizeof(err)), WW_OK);
    ck_assert_ptr_nonnull(l);
    ck_assert_uint_eq(ww_list_count(l), 0);
    ck_assert_int_eq(ww_list_match(l, "http://evil.com/", NULL), 0);
    ww_list_free(l);
    ww_list_free(NULL);
    ck_assert_uint_eq(ww_list_count(NULL), 0);
    ck_assert_int_eq(ww_list_match(NULL, "http://evil.com/", NULL), 0);

    l = load_text("# only comments\n\n   \n");
    ck_assert_uint_eq(ww_list_count(l), 0);
    ww_list_free(l);
}
END_TEST

START_TEST(test_list_load_missing_file_is_io_error)
{
    struct ww_list *l = (struct ww_list *)&l;
    char err[WW_ERRLEN] = "";

    ck_assert_int_eq(ww_list_load("/nonexistent/ww/list", &l, err, sizeof(err)), WW_EIO);
    ck_assert_ptr_null(l);
    ck_assert_msg(strstr(err, "/nonexistent/ww/list: ") == err, "err \"%s\"", err);
}
END_TEST

/* A URL near WW_URL_MAX still matches, and an entry longer than the URL does not overrun. */
START_TEST(test_list_match_long_url)
{
    struct ww_list *l =
        load_text("long.example/a/\nother.example/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
    size_t n = WW_URL_MAX - 1;
    char *url = malloc(n + 1);

    ck_assert_ptr_nonnull(url);
    memset(url, 'b', n);
    memcpy(url, "http://long.example/a/", 22);
    url[n] = '\0';
    ck_assert_int_eq(ww_list_match(l, url, NULL), 1);
    memcpy(url, "http://other.example/", 21);
    ck_assert_int_eq(ww_list_match(l, url, NULL), 0);
    ck_assert_int_eq(ww_list_match(l, "http://other.example/xxx", NULL), 0);
    free(url);
    ww_list_free(l);
}
END_TEST

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 100k entries (half domains, half URL prefixes) load in well under the bound and every one of
 * them, and nothing else, matches. */
START_TEST(test_list_large_list_loads_fast_and_matches)
{
    enum { N = 100000 };
    size_t cap = (size_t)N * 48;
    char *text = malloc(cap), path[64], err[WW_ERRLEN] = "", url[256];
    size_t len = 0;
    struct ww_list *l = NULL;

    ck_assert_ptr_nonnull(text);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                i % 2 ? "site%d.example/path%d/\n" : "host%d.example\n", i, i);
    write_file(path, sizeof(path), text);
    free(text);

    double t0 = now_s();
    int rc = ww_list_load(path, &l, err, sizeof(err));
    double load_s = now_s() - t0;
    unlink(path);
    ck_assert_msg(rc == WW_OK, "load: %s", err);
    ck_assert_uint_eq(ww_list_count(l), N);
    ck_assert_msg(load_s < 10.0, "loading %d entries took %.2f s", N, load_s);

    t0 = now_s();
    for (int i = 0; i < N; i++) {
        if (i % 2)
            snprintf(url, sizeof(url), "https://site%d.example/path%d/page.html?x=1", i, i);
        else
            snprintf(url, sizeof(url), "http://www.host%d.example/", i);
        ck_assert_msg(ww_list_match(l, url, NULL) == 1, "no match for %s", url);
        if (i % 2)
            snprintf(url, sizeof(url), "http://site%d.example/path%d", i, i);
        else
            snprintf(url, sizeof(url), "http://nothost%d.example/", i);
        ck_assert_msg(ww_list_match(l, url, NULL) == 0, "false match for %s", url);
    }
    double match_s = now_s() - t0;
    ck_assert_msg(match_s < 10.0, "%d lookups took %.2f s", 2 * N, match_s);
    ww_list_free(l);
}
END_TEST

static Suite *lists_suite(void)
{
    Suite *s = suite_create("lists");
    TCase *tc = tcase_create("match");

    tcase_add_loop_test(tc, test_list_match_domains_and_prefixes, 0,
                        sizeof(match_cases) / sizeof(match_cases[0]));
    tcase_add_test(tc, test_list_match_long_url);
    tcase_add_test(tc, test_list_large_list_loads_fast_and_matches);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    tc = tcase_create("load");
    tcase_add_loop_test(tc, test_list_load_reports_bad_line, 0,
                        sizeof(bad_cases) / sizeof(bad_cases[0]));
    tcase_add_test(tc, test_list_load_refuses_overlong_line);
    tcase_add_test(tc, test_list_load_empty_path_gives_empty_list);
    tcase_add_test(tc, test_list_load_missing_file_is_io_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(lists_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
