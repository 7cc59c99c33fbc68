/* t/check_cache.c - LRU + TTL cache. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_cache.h"
#include "ww_common.h"

START_TEST(test_cache_get_returns_stored_value_and_misses_unknown_key)
{
    struct ww_cache *c = ww_cache_create(4, sizeof(int));
    int v = 42, got = 0;

    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(ww_cache_put_at(c, "http://a.example/", &v, 10, 1000), WW_OK);
    ck_assert_int_eq(ww_cache_get_at(c, "http://a.example/", &got, 1000), WW_OK);
    ck_assert_int_eq(got, 42);
    ck_assert_int_eq(ww_cache_get_at(c, "http://b.example/", &got, 1000), WW_ENOTFOUND);
    ck_assert_int_eq(ww_cache_get_at(c, "http://a.example", &got, 1000), WW_ENOTFOUND);
    struct ww_cache_stats st;
    ww_cache_stats(c, &st);
    ck_assert_msg(st.hits == 1 && st.misses == 2 && st.entries == 1,
                  "stats hits=%llu misses=%llu entries=%zu, want 1 2 1",
                  (unsigned long long)st.hits, (unsigned long long)st.misses, st.entries);
    ww_cache_free(c);
}
END_TEST

START_TEST(test_cache_entry_expires_after_its_ttl)
{
    struct ww_cache *c = ww_cache_create(4, sizeof(int));
    int v = 7, got = 0;

    ww_cache_put_at(c, "k", &v, 2, 10000);
    ck_assert_int_eq(ww_cache_get_at(c, "k", &got, 11999), WW_OK);
    ck_assert_int_eq(ww_cache_get_at(c, "k", &got, 12000), WW_ENOTFOUND);
    struct ww_cache_stats st;
    ww_cache_stats(c, &st);
    ck_assert_msg(st.expired == 1 && st.entries == 0, "expired=%llu entries=%zu, want 1 0",
                  (unsigned long long)st.expired, st.entries);
    ww_cache_free(c);
}
END_TEST

START_TEST(test_cache_put_with_ttl_zero_stores_nothing_and_drops_old)
{
    struct ww_cache *c = ww_cache_create(4, sizeof(int));
    int v = 1, got = 0;

    ww_cache_put_at(c, "k", &v, 60, 0);
    v = 2;
    ck_assert_int_eq(ww_cache_put_at(c, "k", &v, 0, 0), WW_OK);
    ck_assert_int_eq(ww_cache_get_at(c, "k", &got, 0), WW_ENOTFOUND);
    ww_cache_free(c);
}
END_TEST

START_TEST(test_cache_put_replaces_existing_key)
{
    struct ww_cache *c = ww_cache_create(4, sizeof(int));
    int v = 1, got = 0;
    struct ww_cache_stats st;

    ww_cache_put_at(c, "k", &v, 60, 0);
    v = 2;
    ww_cache_put_at(c, "k", &v, 60, 0);
    ck_assert_int_eq(ww_cache_get_at(c, "k", &got, 0), WW_OK);
    ck_assert_int_eq(got, 2);
    ww_cache_stats(c, &st);
    ck_assert_uint_eq(st.entries, 1);
    ww_cache_free(c);
}
END_TEST

START_TEST(test_cache_full_evicts_least_recently_used)
{
    struct ww_cache *c = ww_cache_create(3, sizeof(int));
    int v, got;
    struct ww_cache_stats st;

    for (v = 0; v < 3; v++) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", v);
        ww_cache_put_at(c, key, &v, 60, 0);
    }
    ck_assert_int_eq(ww_cache_get_at(c, "k0", &got, 0), WW_OK); /* k1 is now the oldest */
    v = 3;
    ww_cache_put_at(c, "k3", &v, 60, 0);
    ck_assert_msg(ww_cache_get_at(c, "k1", &got, 0) == WW_ENOTFOUND, "k1 should be evicted");
    ck_assert_int_eq(ww_cache_get_at(c, "k0", &got, 0), WW_OK);
    ck_assert_int_eq(ww_cache_get_at(c, "k2", &got, 0), WW_OK);
    ck_assert_int_eq(ww_cache_get_at(c, "k3", &got, 0), WW_OK);
    ww_cache_stats(c, &st);
    ck_assert_msg(st.evictions == 1 && st.entries == 3, "evictions=%llu entries=%zu",
                  (unsigned long long)st.evictions, st.entries);
    ww_cache_free(c);
}
END_TEST

START_TEST(test_cache_stays_bounded_over_many_keys)
{
    struct ww_cache *c = ww_cache_create(100, sizeof(int));
    struct ww_cache_stats st;
    int got;

    for (int i = 0; i < 10000; i++) {
        char key[32];
        snprintf(key, sizeof(key), "http://h%d.example/", i);
        ck_assert_int_eq(ww_cache_put_at(c, key, &i, 60, 0), WW_OK);
    }
    ww_cache_stats(c, &st);
    ck_assert_msg(st.entries == 100 && st.evictions == 9900, "entries=%zu evictions=%llu",
                  st.entries, (unsigned long long)st.evictions);
    ck_assert_int_eq(ww_cache_get_at(c, "http://h9999.example/", &got, 0), WW_OK);
    ck_assert_int_eq(got, 9999);
    ck_assert_int_eq(ww_cache_get_at(c, "http://h9899.example/", &got, 0), WW_ENOTFOUND);
    ww_cache_clear(c);
    ww_cache_stats(c, &st);
    ck_assert_uint_eq(st.entries, 0);
    ww_cache_free(c);
}
END_TEST

START_TEST(test_cache_create_refuses_zero_sizes)
{
    ck_assert_ptr_null(ww_cache_create(0, 4));
    ck_assert_ptr_null(ww_cache_create(4, 0));
    ww_cache_free(NULL);
}
END_TEST

static void *cache_hammer(void *arg)
{
    struct ww_cache *c = arg;
    for (int i = 0; i < 20000; i++) {
        char key[32];
        int v = i, got;
        snprintf(key, sizeof(key), "k%d", i % 300);
        if (i % 3 == 0)
            ww_cache_put(c, key, &v, 60);
        else
            ww_cache_get(c, key, &got);
    }
    return NULL;
}

START_TEST(test_cache_survives_concurrent_threads)
{
    struct ww_cache *c = ww_cache_create(200, sizeof(int));
    pthread_t t[4];
    struct ww_cache_stats st;

    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, cache_hammer, c), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ww_cache_stats(c, &st);
    /* each thread reads on the 13333 of its 20000 steps that are not multiples of 3 */
    ck_assert_msg(st.hits + st.misses == 4 * 13333, "hits+misses=%llu, want %d",
                  (unsigned long long)(st.hits + st.misses), 4 * 13333);
    ck_assert_uint_le(st.entries, 200);
    ww_cache_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("cache");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_cache_get_returns_stored_value_and_misses_unknown_key);
    tcase_add_test(tc, test_cache_entry_expires_after_its_ttl);
    tcase_add_test(tc, test_cache_put_with_ttl_zero_stores_nothing_and_drops_old);
    tcase_add_test(tc, test_cache_put_replaces_existing_key);
    tcase_add_test(tc, test_cache_full_evicts_least_recently_used);
    tcase_add_test(tc, test_cache_stays_bounded_over_many_keys);
    tcase_add_test(tc, test_cache_create_refuses_zero_sizes);
    tcase_add_test(tc, test_cache_survives_concurrent_threads);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
