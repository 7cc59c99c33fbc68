/* t/check_common.c - the small helpers of lib/ww_common.h (ww_hex_val, ww_str_append). */
#include "config.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"

START_TEST(test_hex_val_decodes_every_hex_digit_in_either_case)
{
    static const char digits[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
    int i;

    for (i = 0; i < 16; i++) {
        ck_assert_msg(ww_hex_val(digits[i]) == i, "ww_hex_val('%c') = %d, want %d", digits[i],
                      ww_hex_val(digits[i]), i);
        ck_assert_msg(ww_hex_val(upper[i]) == i, "ww_hex_val('%c') = %d, want %d", upper[i],
                      ww_hex_val(upper[i]), i);
    }
}
END_TEST

/* Every other byte value, as unsigned char (the callers' cast) and as a plain signed char. */
START_TEST(test_hex_val_refuses_every_other_byte)
{
    int c;

    for (c = 0; c <= UCHAR_MAX; c++) {
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
            continue;
        ck_assert_msg(ww_hex_val(c) == -1, "ww_hex_val(%d) = %d, want -1", c, ww_hex_val(c));
        ck_assert_msg(ww_hex_val((signed char)c) == -1, "ww_hex_val(%d) = %d, want -1",
                      (signed char)c, ww_hex_val((signed char)c));
    }
}
END_TEST

/* The neighbours of the digit ranges, where an off-by-one would show. */
static const struct {
    int in, want;
} hex_edge_cases[] = {
    {'/', -1}, {'0', 0},      {'9', 9},        {':', -1},       {'@', -1},     {'A', 10},
    {'F', 15}, {'G', -1},     {'`', -1},       {'a', 10},       {'f', 15},     {'g', -1},
    {EOF, -1}, {INT_MIN, -1}, {'0' + 256, -1}, {'a' + 256, -1}, {INT_MAX, -1},
};
START_TEST(test_hex_val_edges_match_table)
{
    int in = hex_edge_cases[_i].in, want = hex_edge_cases[_i].want, got = ww_hex_val(in);
    ck_assert_msg(got == want, "ww_hex_val(%d) = %d, want %d", in, got, want);
}
END_TEST

/* Every capacity from 1 to past the whole: the same bytes as snprintf(b, cap, "%s%s%s"). */
START_TEST(test_str_append_matches_snprintf_at_every_capacity)
{
    static const char *const parts[] = {"X-Webwarden-Policy: ", "", "staff"};
    char got[40], want[40];

    for (size_t cap = 1; cap <= sizeof(got); cap++) {
        size_t n = 0;
        memset(got, 'x', sizeof(got));
        got[0] = '\0';
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
            n = ww_str_append(got, cap, n, parts[i]);
        snprintf(want, cap, "%s%s%s", parts[0], parts[1], parts[2]);
        ck_assert_msg(strcmp(got, want) == 0 && n == strlen(want),
                      "cap %zu: got \"%s\" (length %zu), want \"%s\"", cap, got, n, want);
    }
}
END_TEST

static Suite *common_suite(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("hex_val");
    TCase *tc_app = tcase_create("str_append");

    tcase_add_test(tc, test_hex_val_decodes_every_hex_digit_in_either_case);
    tcase_add_test(tc, test_hex_val_refuses_every_other_byte);
    tcase_add_loop_test(tc, test_hex_val_edges_match_table, 0,
                        sizeof(hex_edge_cases) / sizeof(hex_edge_cases[0]));
    suite_add_tcase(s, tc);
    tcase_add_test(tc_app, test_str_append_matches_snprintf_at_every_capacity);
    suite_add_tcase(s, tc_app);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(common_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
