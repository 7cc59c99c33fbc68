/* t/check_prom.c - unit tests for lib/ww_prom.c: HELP/TYPE lines, label value escaping, number
 * spelling, cumulative histogram buckets, bad names and the size cap. */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_prom.h"

START_TEST(test_prom_family_writes_help_and_type)
{
    struct ww_prom *p = ww_prom_create(0);
    const char *want = "# HELP ww_x_total Lines\\nwith a back\\\\slash \"kept\"\n"
                       "# TYPE ww_x_total counter\nww_x_total 3\n";

    ww_prom_family(p, "ww_x_total", "counter", "Lines\nwith a back\\slash \"kept\"");
    ww_prom_sample(p, "ww_x_total", NULL, 3);
    ck_assert_int_eq(ww_prom_error(p), WW_OK);
    ck_assert_msg(strcmp(ww_prom_text(p), want) == 0, "got\n%s\nwant\n%s", ww_prom_text(p), want);
    ww_prom_free(p);
}
END_TEST

static const struct {
    const char *in, *want;
} label_cases[] = {
    {"plain", "plain"},
    {"a\"b", "a\\\"b"},
    {"back\\slash", "back\\\\slash"},
    {"two\nlines", "two\\nlines"},
    {"\\\"\n", "\\\\\\\"\\n"},
    {"", ""},
};

START_TEST(test_prom_label_values_are_escaped)
{
    struct ww_prom *p = ww_prom_create(0);
    const char *labels[] = {"url", label_cases[_i].in, NULL};
    char want[256];

    snprintf(want, sizeof(want), "m{url=\"%s\"} 1\n", label_cases[_i].want);
    ww_prom_sample(p, "m", labels, 1);
    ck_assert_int_eq(ww_prom_error(p), WW_OK);
    ck_assert_msg(strcmp(ww_prom_text(p), want) == 0, "label \"%s\": got %s want %s",
                  label_cases[_i].in, ww_prom_text(p), want);
    ww_prom_free(p);
}
END_TEST

START_TEST(test_prom_several_labels_and_values)
{
    struct ww_prom *p = ww_prom_create(0);
    const char *labels[] = {"service", "webwarden_url", "action", "block", NULL};
    const char *want = "r{service=\"webwarden_url\",action=\"block\"} 12345678901\n"
                       "v 0.005\nv -2.5\nv NaN\nv +Inf\nv -Inf\n";

    ww_prom_sample(p, "r", labels, 12345678901.0);
    ww_prom_sample(p, "v", NULL, 0.005);
    ww_prom_sample(p, "v", NULL, -2.5);
    ww_prom_sample(p, "v", NULL, NAN);
    ww_prom_sample(p, "v", NULL, INFINITY);
    ww_prom_sample(p, "v", NULL, -INFINITY);
    ck_assert_msg(strcmp(ww_prom_text(p), want) == 0, "got\n%s\nwant\n%s", ww_prom_text(p), want);
    ww_prom_free(p);
}
END_TEST

START_TEST(test_prom_histogram_buckets_are_cumulative)
{
    static const double le[] = {0.001, 0.01, 0.1};
    static const uint64_t counts[] = {2, 0, 5, 1}; /* per bucket, the last above 0.1 */
    struct ww_prom *p = ww_prom_create(0);
    const char *labels[] = {"service", "scan", NULL};
    const char *want = "h_bucket{service=\"scan\",le=\"0.001\"} 2\n"
                       "h_bucket{service=\"scan\",le=\"0.01\"} 2\n"
                       "h_bucket{service=\"scan\",le=\"0.1\"} 7\n"
                       "h_bucket{service=\"scan\",le=\"+Inf\"} 8\n"
                       "h_sum{service=\"scan\"} 1.25\n"
                       "h_count{service=\"scan\"} 8\n";

    ww_prom_histogram(p, "h", labels, le, counts, 3, 1.25);
    ck_assert_int_eq(ww_prom_error(p), WW_OK);
    ck_assert_msg(strcmp(ww_prom_text(p), want) == 0, "got\n%s\nwant\n%s", ww_prom_text(p), want);
    ww_prom_free(p);
}
END_TEST

START_TEST(test_prom_histogram_without_labels)
{
    static const double le[] = {1};
    static const uint64_t counts[] = {0, 0};
    struct ww_prom *p = ww_prom_create(0);
    const char *want = "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n";

    ww_prom_histogram(p, "h", NULL, le, counts, 1, 0);
    ck_assert_msg(strcmp(ww_prom_text(p), want) == 0, "got\n%s\nwant\n%s", ww_prom_text(p), want);
    ww_prom_free(p);
}
END_TEST

static const char *const bad_names[] = {"", "9lives", "has space", "dash-ed", "quote\"", "ü"};

START_TEST(test_prom_bad_metric_name_fails_the_writer)
{
    struct ww_prom *p = ww_prom_create(0);
    size_t len = 0;

    ww_prom_family(p, bad_names[_i], "gauge", "x");
    ck_assert_msg(ww_prom_error(p) == WW_EINVAL, "name \"%s\" accepted", bad_names[_i]);
    ck_assert_ptr_null(ww_prom_take(p, &len));
    ww_prom_free(p);
    p = ww_prom_create(0);
    ww_prom_sample(p, bad_names[_i], NULL, 1);
    ck_assert_msg(ww_prom_error(p) == WW_EINVAL, "sample name \"%s\" accepted", bad_names[_i]);
    ww_prom_free(p);
}
END_TEST

START_TEST(test_prom_bad_label_name_fails_the_writer)
{
    struct ww_prom *p = ww_prom_create(0);
    const char *labels[] = {"a:b", "v", NULL};

    ww_prom_sample(p, "m", labels, 1);
    ck_assert_int_eq(ww_prom_error(p), WW_EINVAL);
    ww_prom_free(p);
}
END_TEST

START_TEST(test_prom_cap_is_enforced)
{
    struct ww_prom *p = ww_prom_create(100);
    size_t len = 0;
    char *text;

    for (int i = 0; i < 20; i++)
        ww_prom_sample(p, "metric_name", NULL, i);
    ck_assert_int_eq(ww_prom_error(p), WW_ETOOBIG);
    ck_assert_uint_le(ww_prom_len(p), 100);
    ww_prom_free(p);

    p = ww_prom_create(100);
    ww_prom_sample(p, "m", NULL, 1);
    text = ww_prom_take(p, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(len, 4);
    ck_assert_str_eq(text, "m 1\n");
    ck_assert_uint_eq(ww_prom_len(p), 0);
    free(text);
    ww_prom_free(p);
}
END_TEST

static Suite *prom_suite(void)
{
    Suite *s = suite_create("prom");
    TCase *tc = tcase_create("format");

    tcase_add_test(tc, test_prom_family_writes_help_and_type);
    tcase_add_loop_test(tc, test_prom_label_values_are_escaped, 0,
                        sizeof(label_cases) / sizeof(label_cases[0]));
    tcase_add_test(tc, test_prom_several_labels_and_values);
    tcase_add_test(tc, test_prom_histogram_buckets_are_cumulative);
    tcase_add_test(tc, test_prom_histogram_without_labels);
    tcase_add_loop_test(tc, test_prom_bad_metric_name_fails_the_writer, 0,
                        sizeof(bad_names) / sizeof(bad_names[0]));
    tcase_add_test(tc, test_prom_bad_label_name_fails_the_writer);
    tcase_add_test(tc, test_prom_cap_is_enforced);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(prom_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
