/* t/check_html.c - unit tests for lib/ww_html.c: escaping, template rendering and loading. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_html.h"

static const struct {
    const char *in, *want;
} escape_cases[] = {
    {"", ""},
    {"plain text", "plain text"},
    {"&", "&amp;"},
    {"<", "&lt;"},
    {">", "&gt;"},
    {"\"", "&quot;"},
    {"'", "&#39;"},
    {"a&b<c>d\"e'f", "a&amp;b&lt;c&gt;d&quot;e&#39;f"},
    {"&amp;", "&amp;amp;"},
    {"tab\there\nline", "tab\there\nline"},
    {"cr\rbell\a esc\x1b del\x7f", "crbell esc del"},
    {"caf\xc3\xa9", "caf\xc3\xa9"},
    {"http://evil.example/\"><script>alert('x')</script>",
     "http://evil.example/&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"},
};

START_TEST(test_html_escape_escapes_specials)
{
    char out[256] = "x";
    size_t n = ww_html_escape(escape_cases[_i].in, out, sizeof(out));

    ck_assert_msg(strcmp(out, escape_cases[_i].want) == 0 && n == strlen(out),
                  "escape(\"%s\") = %zu \"%s\", want \"%s\"", escape_cases[_i].in, n, out,
                  escape_cases[_i].want);
}
END_TEST

/* Whatever the buffer size, the output is a prefix of the full escape that ends on a whole
 * entity, and it is NUL-terminated. */
START_TEST(test_html_escape_truncation_never_splits_entity)
{
    const char *in = "a<b&c\"d'e>f";
    const char *full = "a&lt;b&amp;c&quot;d&#39;e&gt;f";
    char out[64];

    /* Where each input byte's escape starts in <full>, plus its end. */
    static const size_t bounds[] = {0, 1, 5, 6, 11, 12, 18, 19, 24, 25, 29, 30};

    for (size_t len = 1; len <= strlen(full) + 1; len++) {
        size_t want = 0;
        for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
            if (bounds[i] < len)
                want = bounds[i];
        memset(out, 'Z', sizeof(out));
        size_t n = ww_html_escape(in, out, len);
        ck_assert_msg(n == want && out[n] == '\0' && strncmp(out, full, n) == 0,
                      "escape into %zu bytes = %zu \"%s\", want %zu \"%.*s\"", len, n, out, want,
                      (int)want, full);
    }
    ck_assert_uint_eq(ww_html_escape(in, out, 0), 0);
    ck_assert_uint_eq(ww_html_escape(in, NULL, 10), 0);
    ck_assert_uint_eq(ww_html_escape(NULL, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "");
    /* "&amp;" needs 6 bytes with its NUL: 5 bytes of room gives "". */
    ck_assert_uint_eq(ww_html_escape("&", out, 5), 0);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(ww_html_escape("&", out, 6), 5);
    ck_assert_str_eq(out, "&amp;");
}
END_TEST

static char *render(const char *tmpl, const struct ww_page_var *vars, size_t nvars)
{
    char *out = NULL;
    size_t len = 99;

    ck_assert_int_eq(ww_page_render(tmpl, vars, nvars, &out, &len), WW_OK);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(len, strlen(out));
    return out;
}

START_TEST(test_page_render_escapes_values)
{
    const struct ww_page_var vars[] = {
        {"url", "http://x.example/?q=<script>alert(\"1\")</script>&a='b'"},
        {"reason", "Blocked list"},
    };
    char *out = render("<p>{{url}}</p><p>{{ reason }}</p>", vars, 2);

    ck_assert_str_eq(out, "<p>http://x.example/?q=&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt;"
                          "&amp;a=&#39;b&#39;</p><p>Blocked list</p>");
    free(out);
}
END_TEST

START_TEST(test_page_render_unknown_and_null_become_empty)
{
    const struct ww_page_var vars[] = {{"known", NULL}, {"x", "X"}, {"x", "second"}};
    char *out = render("[{{known}}][{{unknown}}][{{x}}{{x}}]", vars, 3);

    ck_assert_str_eq(out, "[][][XX]");
    free(out);
}
END_TEST

START_TEST(test_page_render_keeps_text_that_is_not_a_placeholder)
{
    const struct ww_page_var vars[] = {{"a", "A"}};
    char *out;

    out = render("no placeholders <b>at all</b> & stays raw", vars, 1);
    ck_assert_str_eq(out, "no placeholders <b>at all</b> & stays raw");
    free(out);
    out = render("{{ }} {{a b}} {{a} {{{a}}} {{", vars, 1);
    ck_assert_str_eq(out, "{{ }} {{a b}} {{a} {A} {{");
    free(out);
    out = render("", vars, 1);
    ck_assert_str_eq(out, "");
    free(out);
    out = render("{{a}}", NULL, 0);
    ck_assert_str_eq(out, "");
    free(out);
    /* A value that looks like a placeholder is not expanded again. */
    const struct ww_page_var tricky[] = {{"a", "{{b}}"}, {"b", "B"}};
    out = render("{{a}}", tricky, 2);
    ck_assert_str_eq(out, "{{b}}");
    free(out);
}
END_TEST

START_TEST(test_page_render_grows_for_large_values)
{
    size_t n = 100000;
    char *big = malloc(n + 1), *out;

    ck_assert_ptr_nonnull(big);
    memset(big, '<', n);
    big[n] = '\0';
    const struct ww_page_var vars[] = {{"v", big}};
    out = render("<{{v}}>", vars, 1);
    ck_assert_uint_eq(strlen(out), 2 + 4 * n);
    ck_assert(strncmp(out, "<&lt;&lt;", 9) == 0);
    free(out);
    free(big);
}
END_TEST

static void write_file(char *path, size_t pathlen, const char *data, size_t len)
{
    snprintf(path, pathlen, "/tmp/ww_check_html_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

START_TEST(test_page_load_reads_file)
{
    char path[64], err[WW_ERRLEN] = "", *out = NULL;

    write_file(path, sizeof(path), "<h1>{{title}}</h1>\n", 19);
    ck_assert_int_eq(ww_page_load(path, &out, err, sizeof(err)), WW_OK);
    unlink(path);
    ck_assert_str_eq(out, "<h1>{{title}}</h1>\n");
    free(out);
}
END_TEST

START_TEST(test_page_load_refuses_bad_files)
{
    char path[64], err[WW_ERRLEN] = "", *out = (char *)"unset";
    size_t big = 1024 * 1024 + 1;
    char *data = calloc(1, big);

    ck_assert_int_eq(ww_page_load("/nonexistent/ww/page.html", &out, err, sizeof(err)), WW_EIO);
    ck_assert_ptr_null(out);
    ck_assert_msg(strstr(err, "/nonexistent/ww/page.html: ") == err, "err \"%s\"", err);

    ck_assert_int_eq(ww_page_load("/tmp", &out, err, sizeof(err)), WW_EIO);
    ck_assert_msg(strstr(err, "not a regular file") != NULL, "err \"%s\"", err);

    ck_assert_ptr_nonnull(data);
    memset(data, 'a', big);
    write_file(path, sizeof(path), data, big);
    ck_assert_int_eq(ww_page_load(path, &out, err, sizeof(err)), WW_EIO);
    unlink(path);
    ck_assert_msg(strstr(err, "larger than") != NULL, "err \"%s\"", err);

    write_file(path, sizeof(path), data, big - 1); /* exactly 1 MiB is fine */
    ck_assert_int_eq(ww_page_load(path, &out, err, sizeof(err)), WW_OK);
    unlink(path);
    ck_assert_uint_eq(strlen(out), big - 1);
    free(out);

    write_file(path, sizeof(path), "ab\0cd", 5);
    ck_assert_int_eq(ww_page_load(path, &out, err, sizeof(err)), WW_EIO);
    unlink(path);
    ck_assert_msg(strstr(err, "NUL") != NULL, "err \"%s\"", err);
    ck_assert_int_eq(ww_page_load("", &out, NULL, 0), WW_EIO);
    free(data);
}
END_TEST

static Suite *html_suite(void)
{
    Suite *s = suite_create("html");
    TCase *tc = tcase_create("escape");

    tcase_add_loop_test(tc, test_html_escape_escapes_specials, 0,
                        sizeof(escape_cases) / sizeof(escape_cases[0]));
    tcase_add_test(tc, test_html_escape_truncation_never_splits_entity);
    suite_add_tcase(s, tc);

    tc = tcase_create("page");
    tcase_add_test(tc, test_page_render_escapes_values);
    tcase_add_test(tc, test_page_render_unknown_and_null_become_empty);
    tcase_add_test(tc, test_page_render_keeps_text_that_is_not_a_placeholder);
    tcase_add_test(tc, test_page_render_grows_for_large_values);
    tcase_add_test(tc, test_page_load_reads_file);
    tcase_add_test(tc, test_page_load_refuses_bad_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(html_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
