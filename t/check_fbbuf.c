/* t/check_fbbuf.c - unit tests for lib/ww_fbbuf.c: order, bound and drop counting, one flush
 * per tick, events kept across store errors, and appends from many threads at once. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_fbbuf.h"
#include "ww_store.h"

static char tmpdir[64];
static char dbpath[128];
static struct ww_store *st;    /* read-write */
static struct ww_store *st_ro; /* read-only: every write fails, as a broken store would */

static void fb_setup(void)
{
    char err[WW_ERRLEN] = "";
    int rc;

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ww-fbbuf-XXXXXX");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
    snprintf(dbpath, sizeof(dbpath), "%s/state.db", tmpdir);
    rc = ww_store_open(dbpath, WW_STORE_MIGRATE, &st, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "open %s: %d %s", dbpath, rc, err);
    rc = ww_store_open(dbpath, WW_STORE_READONLY, &st_ro, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "open read-only %s: %d %s", dbpath, rc, err);
}

static void fb_teardown(void)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char path[160];

    ww_store_close(st_ro);
    ww_store_close(st);
    st = st_ro = NULL;
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", dbpath, suffix[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

static void make_event(struct ww_feedback_event *e, const char *url)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->url, sizeof(e->url), "%s", url);
    e->score = 42;
    snprintf(e->categories, sizeof(e->categories), "news,sports");
    snprintf(e->action, sizeof(e->action), "allow");
    e->at = 1700000000;
}

static void add_url(struct ww_fbbuf *b, const char *fmt, int i)
{
    struct ww_feedback_event e;
    char url[64];

    snprintf(url, sizeof(url), fmt, i);
    make_event(&e, url);
    ww_fbbuf_add(b, &e);
}

/* The queue's urls, oldest first, joined by spaces. */
static void queue_urls(char *out, size_t len)
{
    static struct ww_feedback_event ev[64];
    size_t n = 0;

    ck_assert_int_eq(ww_store_feedback_peek(st, ev, 64, &n), WW_OK);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? " " : "", ev[i].url);
}

static int64_t queued(void)
{
    int64_t q = -1, d = -1;
    ck_assert_int_eq(ww_store_feedback_stats(st, &q, &d), WW_OK);
    return q;
}

static int64_t dropped(void)
{
    int64_t q = -1, d = -1;
    ck_assert_int_eq(ww_store_feedback_stats(st, &q, &d), WW_OK);
    return d;
}

START_TEST(test_fbbuf_flush_moves_events_in_order)
{
    struct ww_fbbuf *b = ww_fbbuf_create(8);
    struct ww_fbbuf_stats s;
    char urls[512];

    ck_assert_ptr_nonnull(b);
    for (int i = 1; i <= 5; i++)
        add_url(b, "http://e%d.example/", i);
    ww_fbbuf_stats(b, &s);
    ck_assert_msg(s.buffered == 5 && s.added == 5, "buffered %zu added %llu, want 5 5", s.buffered,
                  (unsigned long long)s.added);
    ck_assert_int_eq(queued(), 0); /* nothing reaches SQLite before a flush */
    ck_assert_int_eq(ww_fbbuf_flush(b, st, 1000), WW_OK);
    queue_urls(urls, sizeof(urls));
    ck_assert_msg(strcmp(urls, "http://e1.example/ http://e2.example/ http://e3.example/ "
                               "http://e4.example/ http://e5.example/") == 0,
                  "queue after flush: got \"%s\"", urls);
    ww_fbbuf_stats(b, &s);
    ck_assert_msg(s.buffered == 0 && s.flushed == 5, "buffered %zu flushed %llu, want 0 5",
                  s.buffered, (unsigned long long)s.flushed);
    ck_assert_int_eq(ww_fbbuf_flush(b, st, 1000), WW_OK); /* empty: a no-op */
    ck_assert_int_eq(queued(), 5);
    ww_fbbuf_free(b);
}
END_TEST

START_TEST(test_fbbuf_full_drops_new_urls_and_counts_in_store)
{
    struct ww_fbbuf *b = ww_fbbuf_create(4);
    struct ww_fbbuf_stats s;
    char urls[512];

    for (int i = 1; i <= 10; i++)
        add_url(b, "http://e%d.example/", i);
    ww_fbbuf_stats(b, &s);
    ck_assert_msg(s.buffered == 4 && s.dropped == 6, "buffered %zu dropped %llu, want 4 6",
                  s.buffered, (unsigned long long)s.dropped);
    ck_assert_int_eq(ww_fbbuf_flush(b, st, 1000), WW_OK);
    queue_urls(urls, sizeof(urls));
    ck_assert_msg(strcmp(urls, "http://e1.example/ http://e2.example/ http://e3.example/ "
                               "http://e4.example/") == 0,
                  "first 4 URLs kept in order: got \"%s\"", urls);
    ck_assert_msg(dropped() == 6, "store's dropped counter: got %lld, want 6",
                  (long long)dropped());
    ww_fbbuf_free(b);
}
END_TEST

START_TEST(test_fbbuf_store_error_keeps_events_for_next_flush)
{
    struct ww_fbbuf *b = ww_fbbuf_create(4);
    struct ww_fbbuf_stats s;
    char urls[512];
    int rc;

    for (int i = 1; i <= 3; i++)
        add_url(b, "http://a%d.example/", i);
    rc = ww_fbbuf_flush(b, st_ro, 1000);
    ck_assert_msg(rc != WW_OK, "flush into a read-only store: got %d, want an error", rc);
    ww_fbbuf_stats(b, &s);
    ck_assert_msg(s.buffered == 3 && s.flush_errors == 1, "buffered %zu errors %llu, want 3 1",
                  s.buffered, (unsigned long long)s.flush_errors);
    /* Meanwhile 6 more arrive: the buffer (4 records) takes the first 4, drops b5 and b6. */
    for (int i = 1; i <= 6; i++)
        add_url(b, "http://b%d.example/", i);
    ck_assert_int_eq(ww_fbbuf_flush(b, st, 1000), WW_OK); /* the kept 3 first, alone */
    queue_urls(urls, sizeof(urls));
    ck_assert_msg(strcmp(urls, "http://a1.example/ http://a2.example/ http://a3.example/") == 0,
                  "first flush after the error: got \"%s\"", urls);
    ck_assert_int_eq(ww_fbbuf_flush(b, st, 1000), WW_OK);
    queue_urls(urls, sizeof(urls));
    ck_assert_msg(strcmp(urls, "http://a1.example/ http://a2.example/ http://a3.example/ "
                               "http://b1.example/ http://b2.example/ http://b3.example/ "
                               "http://b4.example/") == 0,
                  "second flush: got \"%s\"", urls);
    ck_assert_msg(dropped() == 2, "dropped b5 b6: store counter %lld, want 2",
                  (long long)dropped());
    ww_fbbuf_stats(b, &s);
    ck_assert_uint_eq(s.buffered, 0);
    ww_fbbuf_free(b);
}
END_TEST

START_TEST(test_fbbuf_add_stamps_time_and_ignores_null)
{
    struct ww_fbbuf *b = ww_fbbuf_create(2);
    struct ww_feedback_event e, got;
    size_t n = 0;
    time_t before = time(NULL);

    make_event(&e, "http://now.example/");
    e.at = 0;
    ww_fbbuf_add(b, &e);
    ww_fbbuf_add(b, NULL);
    ww_fbbuf_add(NULL, &e);
    ck_assert_int_eq(ww_fbbuf_flush(b, st, 0), WW_OK);
    ck_assert_int_eq(ww_store_feedback_peek(st, &got, 1, &n), WW_OK);
    ck_assert_msg(n == 1 && got.at >= before && got.at <= time(NULL) + 1,
                  "n %zu at %lld, want 1 and about %lld", n, (long long)got.at, (long long)before);
    ck_assert_int_eq(ww_fbbuf_flush(NULL, st, 0), WW_EINVAL);
    ww_fbbuf_free(b);
    ww_fbbuf_free(NULL);
}
END_TEST

enum { THREADS = 8, PER_THREAD = 3000 };
static struct ww_fbbuf *shared_buf;
static volatile int adders_done;

static void *adder(void *arg)
{
    int t = (int)(intptr_t)arg;
    struct ww_feedback_event e;

    for (int i = 0; i < PER_THREAD; i++) {
        make_event(&e, "");
        snprintf(e.url, sizeof(e.url), "http://t%d.example/%d", t, i);
        ww_fbbuf_add(shared_buf, &e);
    }
    return NULL;
}

static void *flusher(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&adders_done, __ATOMIC_ACQUIRE)) {
        (void)ww_fbbuf_flush(shared_buf, st, 0);
        usleep(500); /* a fast tick, so flushes interleave with the appends */
    }
    return NULL;
}

START_TEST(test_fbbuf_concurrent_adds_lose_nothing_uncounted)
{
    pthread_t th[THREADS], fl;
    static struct ww_feedback_event ev[256];
    int last[THREADS];
    struct ww_fbbuf_stats s;
    size_t n = 0;

    shared_buf = ww_fbbuf_create(256);
    adders_done = 0;
    ck_assert_int_eq(pthread_create(&fl, NULL, flusher, NULL), 0);
    for (int t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, adder, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    __atomic_store_n(&adders_done, 1, __ATOMIC_RELEASE);
    pthread_join(fl, NULL);
    ck_assert_int_eq(ww_fbbuf_flush(shared_buf, st, 0), WW_OK);
    ck_assert_int_eq(ww_fbbuf_flush(shared_buf, st, 0), WW_OK);
    ww_fbbuf_stats(shared_buf, &s);
    ck_assert_msg(s.added == THREADS * PER_THREAD && s.buffered == 0 &&
                      s.flushed + s.dropped == s.added,
                  "added %llu flushed %llu dropped %llu buffered %zu: want flushed+dropped=%d",
                  (unsigned long long)s.added, (unsigned long long)s.flushed,
                  (unsigned long long)s.dropped, s.buffered, THREADS * PER_THREAD);
    ck_assert_msg(queued() + dropped() == THREADS * PER_THREAD,
                  "store: queued %lld + dropped %lld, want %d", (long long)queued(),
                  (long long)dropped(), THREADS * PER_THREAD);
    /* Each thread's events reach the queue in the order that thread added them. */
    for (int t = 0; t < THREADS; t++)
        last[t] = -1;
    do {
        ck_assert_int_eq(ww_store_feedback_peek(st, ev, 256, &n), WW_OK);
        for (size_t i = 0; i < n; i++) {
            int t = -1, k = -1;
            ck_assert_msg(sscanf(ev[i].url, "http://t%d.example/%d", &t, &k) == 2 && t >= 0 &&
                              t < THREADS,
                          "row %zu url \"%s\"", i, ev[i].url);
            ck_assert_msg(k > last[t], "thread %d: event %d after %d", t, k, last[t]);
            last[t] = k;
        }
        if (n > 0)
            ck_assert_int_eq(ww_store_feedback_delete_upto(st, ev[n - 1].id), WW_OK);
    } while (n > 0);
    ww_fbbuf_free(shared_buf);
}
END_TEST

/* The queue's rows as "url:action:count:first-last", oldest first, joined by spaces. */
static void queue_records(char *out, size_t len)
{
    static struct ww_feedback_event ev[64];
    size_t n = 0;

    ck_assert_int_eq(ww_store_feedback_peek(st, ev, 64, &n), WW_OK);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s%s:%s:%lld:%lld-%lld", i ? " " : "",
                 ev[i].url, ev[i].action, (long long)ev[i].count,
                 (long long)ev[i].first_seen - 1700000000, (long long)ev[i].at - 1700000000);
}

START_TEST(test_fbbuf_repeats_make_one_record_with_count)
{
    struct ww_fbbuf *b = ww_fbbuf_create(8);
    struct ww_feedback_event e;
    struct ww_fbbuf_stats s;
    char recs[512];

    for (int i = 0; i < 1000; i++) {
        make_event(&e, "http://same.example/");
        e.at = 1700000000 + i % 7;
        ww_fbbuf_add(b, &e);
    }
    make_event(&e, "http://same.example/");
    snprintf(e.action, sizeof(e.action), "block"); /* another verdict: another record */
    e.at = 1700000003;
    ww_fbbuf_add(b, &e);
    make_event(&e, "http://same.example/x"); /* a longer URL with the same prefix */
    ww_fbbuf_add(b, &e);
    ww_fbbuf_stats(b, &s);
    ck_assert_msg(s.buffered == 3 && s.added == 1002 && s.dropped == 0,
                  "buffered %zu added %llu dropped %llu, want 3 1002 0", s.buffered,
                  (unsigned long long)s.added, (unsigned long long)s.dropped);
    ck_assert_int_eq(ww_fbbuf_flush(b, st, 1000), WW_OK);
    queue_records(recs, sizeof(recs));
    ck_assert_msg(strcmp(recs,
                         "http://same.example/:allow:1000:0-6 http://same.example/:block:1:3-3 "
                         "http://same.example/x:allow:1:0-0") == 0,
                  "got \"%s\"", recs);
    ww_fbbuf_free(b);
}
END_TEST

START_TEST(test_fbbuf_full_buffer_still_counts_known_urls)
{
    struct ww_fbbuf *b = ww_fbbuf_create(2);
    char recs[512];

    add_url(b, "http://k%d.example/", 1);
    add_url(b, "http://k%d.example/", 2);
    add_url(b, "http://k%d.example/", 3); /* dropped: new */
    add_url(b, "http://k%d.example/", 1); /* counted: known */
    ck_assert_int_eq(ww_fbbuf_flush(b, st, 1000), WW_OK);
    queue_records(recs, sizeof(recs));
    ck_assert_msg(strcmp(recs, "http://k1.example/:allow:2:0-0 http://k2.example/:allow:1:0-0") ==
                      0,
                  "got \"%s\"", recs);
    ck_assert_int_eq(dropped(), 1);
    ww_fbbuf_free(b);
}
END_TEST

/* Flushes (children's ticks) merge into the open row; once an upload sealed it, a new row. */
START_TEST(test_fbbuf_flushes_merge_until_sealed)
{
    struct ww_fbbuf *b = ww_fbbuf_create(8), *other = ww_fbbuf_create(8);
    struct ww_feedback_event e;
    char recs[512];

    for (int i = 0; i < 3; i++) {
        make_event(&e, "http://m.example/");
        e.at = 1700000000 + i;
        ww_fbbuf_add(i == 1 ? other : b, &e); /* two children */
        ck_assert_int_eq(ww_fbbuf_flush(i == 1 ? other : b, st, 1000), WW_OK);
    }
    queue_records(recs, sizeof(recs));
    ck_assert_msg(strcmp(recs, "http://m.example/:allow:3:0-2") == 0, "before seal: got \"%s\"",
                  recs);
    ck_assert_int_eq(ww_store_feedback_seal(st), WW_OK);
    make_event(&e, "http://m.example/");
    e.at = 1700000010;
    ww_fbbuf_add(b, &e);
    ck_assert_int_eq(ww_fbbuf_flush(b, st, 1000), WW_OK);
    /* The new row is not visible to an upload until the next seal. */
    queue_records(recs, sizeof(recs));
    ck_assert_msg(strcmp(recs, "http://m.example/:allow:3:0-2") == 0, "after seal: got \"%s\"",
                  recs);
    ck_assert_int_eq(queued(), 2);
    ck_assert_int_eq(ww_store_feedback_seal(st), WW_OK);
    queue_records(recs, sizeof(recs));
    ck_assert_msg(strcmp(recs, "http://m.example/:allow:3:0-2 http://m.example/:allow:1:10-10") ==
                      0,
                  "next seal: got \"%s\"", recs);
    ww_fbbuf_free(b);
    ww_fbbuf_free(other);
}
END_TEST

enum { ONE_URL_THREADS = 8, ONE_URL_ADDS = 20000 };

static void *one_url_adder(void *arg)
{
    struct ww_feedback_event e;

    (void)arg;
    make_event(&e, "http://hot.example/");
    for (int i = 0; i < ONE_URL_ADDS; i++)
        ww_fbbuf_add(shared_buf, &e);
    return NULL;
}

START_TEST(test_fbbuf_threads_on_one_url_lose_no_count)
{
    pthread_t th[ONE_URL_THREADS], fl;
    static struct ww_feedback_event ev[64];
    size_t n = 0;
    int64_t total = 0;

    shared_buf = ww_fbbuf_create(4);
    adders_done = 0;
    ck_assert_int_eq(pthread_create(&fl, NULL, flusher, NULL), 0);
    for (int t = 0; t < ONE_URL_THREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, one_url_adder, NULL), 0);
    for (int t = 0; t < ONE_URL_THREADS; t++)
        pthread_join(th[t], NULL);
    __atomic_store_n(&adders_done, 1, __ATOMIC_RELEASE);
    pthread_join(fl, NULL);
    ck_assert_int_eq(ww_fbbuf_flush(shared_buf, st, 0), WW_OK);
    ck_assert_int_eq(ww_store_feedback_peek(st, ev, 64, &n), WW_OK);
    for (size_t i = 0; i < n; i++)
        total += ev[i].count;
    ck_assert_msg(n == 1 && total == ONE_URL_THREADS * ONE_URL_ADDS,
                  "rows %zu total count %lld, want 1 row of %d", n, (long long)total,
                  ONE_URL_THREADS * ONE_URL_ADDS);
    ww_fbbuf_free(shared_buf);
}
END_TEST

static Suite *fbbuf_suite(void)
{
    Suite *s = suite_create("fbbuf");
    TCase *tc = tcase_create("buffer");

    tcase_add_checked_fixture(tc, fb_setup, fb_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fbbuf_flush_moves_events_in_order);
    tcase_add_test(tc, test_fbbuf_full_drops_new_urls_and_counts_in_store);
    tcase_add_test(tc, test_fbbuf_repeats_make_one_record_with_count);
    tcase_add_test(tc, test_fbbuf_full_buffer_still_counts_known_urls);
    tcase_add_test(tc, test_fbbuf_flushes_merge_until_sealed);
    tcase_add_test(tc, test_fbbuf_threads_on_one_url_lose_no_count);
    tcase_add_test(tc, test_fbbuf_store_error_keeps_events_for_next_flush);
    tcase_add_test(tc, test_fbbuf_add_stamps_time_and_ignores_null);
    tcase_add_test(tc, test_fbbuf_concurrent_adds_lose_nothing_uncounted);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fbbuf_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
