/* t/check_range.c - unit tests for lib/ww_range.c: Range, Content-Range, the scan.range and
 * partial-response decisions, and the memory's TTL. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "ww_common.h"
#include "ww_range.h"

START_TEST(test_range_parse_forms)
{
    struct ww_range_req r;

    ck_assert_int_eq(ww_range_parse("bytes=100-", &r), WW_OK);
    ck_assert_int_eq(r.first, 100);
    ck_assert_int_eq(r.last, -1);
    ck_assert_int_eq(r.count, 1);
    ck_assert_int_eq(ww_range_parse(" Bytes = 0-499", &r), WW_OK);
    ck_assert_int_eq(r.first, 0);
    ck_assert_int_eq(r.last, 499);
    ck_assert_int_eq(ww_range_parse("bytes=-500", &r), WW_OK);
    ck_assert_int_eq(r.first, -1);
    ck_assert_int_eq(r.last, 500);
    ck_assert_int_eq(ww_range_parse("bytes=0-1, 5-9,20-\r\n", &r), WW_OK);
    ck_assert_int_eq(r.count, 3);
    ck_assert_int_eq(r.first, 0);
    ck_assert_int_eq(r.last, 1);
}
END_TEST

START_TEST(test_range_parse_refuses)
{
    static const char *const bad[] = {"",
                                      "bytes",
                                      "bytes=",
                                      "items=0-1",
                                      "bytes=5-1",
                                      "bytes=a-",
                                      "bytes=-0",
                                      "bytes=1",
                                      "bytes=0-1;",
                                      "bytes=0-1,",
                                      "bytes=99999999999999999999-"};
    struct ww_range_req r;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(ww_range_parse(bad[i], &r) == WW_EINVAL, "accepted \"%s\"", bad[i]);
    ck_assert_int_eq(ww_range_parse(NULL, &r), WW_EINVAL);
}
END_TEST

START_TEST(test_content_range_parse)
{
    struct ww_content_range cr;

    ck_assert_int_eq(ww_range_parse_content_range("bytes 100-199/300", &cr), WW_OK);
    ck_assert_int_eq(cr.first, 100);
    ck_assert_int_eq(cr.last, 199);
    ck_assert_int_eq(cr.total, 300);
    ck_assert_int_eq(ww_range_parse_content_range("bytes 0-9/*", &cr), WW_OK);
    ck_assert_int_eq(cr.total, -1);
    ck_assert_int_eq(ww_range_parse_content_range("bytes */300", &cr), WW_OK);
    ck_assert_int_eq(cr.first, -1);
    ck_assert_int_eq(cr.total, 300);
    ck_assert_int_eq(ww_range_parse_content_range("bytes 0-300/300", &cr), WW_EINVAL);
    ck_assert_int_eq(ww_range_parse_content_range("bytes 9-1/300", &cr), WW_EINVAL);
    ck_assert_int_eq(ww_range_parse_content_range("bytes */*", &cr), WW_EINVAL);
    ck_assert_int_eq(ww_range_parse_content_range("bytes=0-1/2", &cr), WW_EINVAL);
    ck_assert_int_eq(ww_range_parse_content_range("items 0-1/2", &cr), WW_EINVAL);
    ck_assert_int_eq(ww_range_parse_content_range("bytes 0-1/2x", &cr), WW_EINVAL);
}
END_TEST

START_TEST(test_range_strip_policy)
{
    ck_assert_int_eq(ww_range_strip(WW_RANGE_STRIP, 1, 0), 1);
    ck_assert_int_eq(ww_range_strip(WW_RANGE_STRIP, 0, 1), 1); /* If-Range alone too */
    ck_assert_int_eq(ww_range_strip(WW_RANGE_STRIP, 0, 0), 0); /* nothing to strip: 204 */
    ck_assert_int_eq(ww_range_strip(WW_RANGE_PASS, 1, 1), 0);
}
END_TEST

START_TEST(test_range_response_verdicts)
{
    ck_assert_int_eq(ww_range_response(200, NULL, 0), WW_RANGE_WHOLE);
    ck_assert_int_eq(ww_range_response(200, NULL, 1), WW_RANGE_WHOLE); /* a full refetch */
    ck_assert_int_eq(ww_range_response(206, "bytes 5-9/10", 0), WW_RANGE_PARTIAL);
    ck_assert_int_eq(ww_range_response(206, "bytes 5-9/10", 1), WW_RANGE_BLOCK);
    /* A Content-Range on a 200, or a 206 without one, is still a part. */
    ck_assert_int_eq(ww_range_response(200, "bytes 5-9/10", 1), WW_RANGE_BLOCK);
    ck_assert_int_eq(ww_range_response(206, NULL, 1), WW_RANGE_BLOCK);
    ck_assert_int_eq(ww_range_response(206, "garbage", 0), WW_RANGE_PARTIAL);
}
END_TEST

START_TEST(test_range_memo_ttl)
{
    ck_assert_int_eq(ww_range_memo_live(1000, 1000, WW_RANGE_TTL_S), 1);
    ck_assert_int_eq(ww_range_memo_live(1000, 1000 + WW_RANGE_TTL_S - 1, WW_RANGE_TTL_S), 1);
    ck_assert_int_eq(ww_range_memo_live(1000, 1000 + WW_RANGE_TTL_S, WW_RANGE_TTL_S), 0);
    ck_assert_int_eq(ww_range_memo_live(1000, 990, WW_RANGE_TTL_S), 1); /* clock stepped back */
    ck_assert_int_eq(ww_range_memo_live(100000, 0, WW_RANGE_TTL_S), 0); /* from the future */
}
END_TEST

static Suite *range_suite(void)
{
    Suite *s = suite_create("range");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, test_range_parse_forms);
    tcase_add_test(tc, test_range_parse_refuses);
    tcase_add_test(tc, test_content_range_parse);
    suite_add_tcase(s, tc);
    tc = tcase_create("decide");
    tcase_add_test(tc, test_range_strip_policy);
    tcase_add_test(tc, test_range_response_verdicts);
    tcase_add_test(tc, test_range_memo_ttl);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(range_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
