/* t/check_blockagg.c - block events without a flood: the first block of a URL at once, repeats
 * summed once per interval, quiet keys forgotten, too many URLs summarised, every block
 * counted exactly once, and threads counting at the same time. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_blockagg.h"

struct seen {
    struct ww_block_row rows[400];
    size_t n;
};

static void collect(const struct ww_block_row *row, void *arg)
{
    struct seen *s = arg;

    ck_assert_uint_lt(s->n, sizeof(s->rows) / sizeof(s->rows[0]));
    s->rows[s->n++] = *row;
}

static uint64_t total(const struct seen *s)
{
    uint64_t t = 0;
    for (size_t i = 0; i < s->n; i++)
        t += s->rows[i].count;
    return t;
}

START_TEST(test_blockagg_first_at_once_then_one_row_per_interval)
{
    struct ww_blockagg *a = ww_blockagg_create(10, 0);
    struct seen s = {.n = 0};
    char msg[512];

    ck_assert_ptr_nonnull(a);
    ww_blockagg_add(a, "url", "http://x.test/", "guests", "blocked list entry x.test", 1000);
    ck_assert_uint_eq(ww_blockagg_flush(a, 1000, 0, collect, &s), 1); /* news: at once */
    ck_assert_uint_eq(s.rows[0].count, 1);
    ck_assert_str_eq(s.rows[0].policy, "guests");
    ww_blockagg_message(&s.rows[0], msg, sizeof(msg));
    ck_assert_str_eq(msg, "blocked http://x.test/ (policy guests): blocked list entry x.test");

    /* 999 more within the interval: nothing until it passed, then one row with the count. */
    for (int i = 0; i < 999; i++)
        ww_blockagg_add(a, "url", "http://x.test/", "guests", "blocked list entry x.test",
                        1001 + i / 200);
    s.n = 0;
    ck_assert_uint_eq(ww_blockagg_flush(a, 1005, 0, collect, &s), 0);
    ck_assert_uint_eq(ww_blockagg_flush(a, 1010, 0, collect, &s), 1);
    ck_assert_uint_eq(s.rows[0].count, 999);
    ck_assert_int_eq(s.rows[0].first, 1001);
    ck_assert_int_eq(s.rows[0].last, 1005);
    ww_blockagg_message(&s.rows[0], msg, sizeof(msg));
    ck_assert_ptr_nonnull(strstr(msg, "blocked list entry x.test: 999 times "));

    /* The same URL under another policy or reason is another key. */
    ww_blockagg_add(a, "url", "http://x.test/", "default", "blocked list entry x.test", 1011);
    ww_blockagg_add(a, "url", "http://x.test/", "guests", "category gambling", 1011);
    ww_blockagg_add(a, "url", "http://x.test/", "guests", "blocked list entry x.test", 1011);
    s.n = 0;
    ck_assert_uint_eq(ww_blockagg_flush(a, 1011, 0, collect, &s), 2);
    /* Quiet for a whole interval: forgotten, the next block is news again. */
    s.n = 0;
    ck_assert_uint_eq(ww_blockagg_flush(a, 1020, 0, collect, &s), 1); /* the guests repeat */
    s.n = 0;
    ck_assert_uint_eq(ww_blockagg_flush(a, 1031, 0, collect, &s), 0);
    ww_blockagg_add(a, "url", "http://x.test/", "guests", "blocked list entry x.test", 1032);
    ck_assert_uint_eq(ww_blockagg_flush(a, 1032, 0, collect, &s), 1);
    ck_assert_uint_eq(s.rows[0].count, 1);

    /* At exit every counted block goes out whatever the interval. */
    ww_blockagg_add(a, "scan", "http://y.test/a.exe", NULL,
                    "file type pe blocked by policy default", 1033);
    ww_blockagg_add(a, "scan", "http://y.test/a.exe", NULL,
                    "file type pe blocked by policy default", 1033);
    s.n = 0;
    ww_blockagg_flush(a, 1033, 0, collect, &s);
    ck_assert_uint_eq(total(&s), 2); /* the second one was counted into the first row */
    ww_blockagg_add(a, "scan", "http://y.test/a.exe", NULL,
                    "file type pe blocked by policy default", 1034);
    s.n = 0;
    ck_assert_uint_eq(ww_blockagg_flush(a, 1034, 1, collect, &s), 1);
    ck_assert_str_eq(s.rows[0].policy, "default");
    ck_assert_str_eq(s.rows[0].source, "scan");
    ww_blockagg_free(a);
    ww_blockagg_free(NULL);
    ww_blockagg_add(NULL, "url", "u", "p", "r", 1); /* no aggregator: ignored */
}
END_TEST

START_TEST(test_blockagg_too_many_urls_are_summarised_not_lost)
{
    struct ww_blockagg *a = ww_blockagg_create(60, 8);
    struct seen s = {.n = 0};
    char url[64], msg[512];

    for (int i = 0; i < 50; i++) {
        snprintf(url, sizeof(url), "http://u%d.test/", i);
        ww_blockagg_add(a, "url", url, "p", "r", 100);
    }
    ck_assert_uint_eq(ww_blockagg_flush(a, 100, 0, collect, &s), 9); /* 8 keys and a summary */
    ck_assert_uint_eq(total(&s), 50);
    ck_assert_str_eq(s.rows[8].url, "");
    ck_assert_uint_eq(s.rows[8].count, 42);
    ww_blockagg_message(&s.rows[8], msg, sizeof(msg));
    ck_assert_ptr_nonnull(strstr(msg, "blocked 42 more times"));
    ck_assert_ptr_nonnull(strstr(msg, "42 URLs not itemized"));
    ww_blockagg_free(a);
}
END_TEST

/* Long URLs are cut to the row and still aggregate as one key. */
START_TEST(test_blockagg_long_url_is_one_key)
{
    struct ww_blockagg *a = ww_blockagg_create(60, 0);
    struct seen s = {.n = 0};
    char *url = malloc(9000);

    memset(url, 'a', 8999);
    memcpy(url, "http://", 7);
    url[8999] = '\0';
    for (int i = 0; i < 3; i++)
        ww_blockagg_add(a, "url", url, "p", "r", 5);
    ck_assert_uint_eq(ww_blockagg_flush(a, 5, 0, collect, &s), 1);
    ck_assert_uint_eq(s.rows[0].count, 3);
    ck_assert_uint_eq(strlen(s.rows[0].url), sizeof(s.rows[0].url) - 1);
    free(url);
    ww_blockagg_free(a);
}
END_TEST

static struct ww_blockagg *shared;

static void *adder(void *arg)
{
    char url[64];
    for (int i = 0; i < 20000; i++) {
        snprintf(url, sizeof(url), "http://t%d.test/", i % 16);
        ww_blockagg_add(shared, "url", url, "p", "r", 7);
    }
    return arg;
}

START_TEST(test_blockagg_threads_count_every_block_once)
{
    pthread_t th[4];
    struct seen s = {.n = 0};

    shared = ww_blockagg_create(60, 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, adder, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ww_blockagg_flush(shared, 7, 1, collect, &s);
    ck_assert_uint_eq(s.n, 16);
    ck_assert_uint_eq(total(&s), 80000);
    ww_blockagg_free(shared);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("blockagg");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_blockagg_first_at_once_then_one_row_per_interval);
    tcase_add_test(tc, test_blockagg_too_many_urls_are_summarised_not_lost);
    tcase_add_test(tc, test_blockagg_long_url_is_one_key);
    tcase_add_test(tc, test_blockagg_threads_count_every_block_once);
    suite_add_tcase(su, tc);
    sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
