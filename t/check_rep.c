/* t/check_rep.c - reputation lookup against t/fake_wrs.py: answers, every failure mode, the
 * 0.5 s rule, recovery, back-off, cache, local database. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rep_testlib.h"
#include "ww_common.h"
#include "ww_http.h"
#include "ww_log.h"
#include "ww_policy.h"
#include "ww_rep.h"
#include "ww_urldb.h"

static struct fake_wrs fake;

static void fake_up(void)
{
    ck_assert_msg(fake_wrs_start(&fake) == 0, "cannot start t/fake_wrs.py (python3)");
}

static void fake_down(void)
{
    fake_wrs_stop(&fake);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A lookup context on the fake server; <backoff_s> 0 = back-off off. */
static struct ww_rep *make_rep_at(const char *server, int timeout_ms, int backoff_s,
                                  struct ww_urldb *db)
{
    struct ww_conf conf;
    struct ww_rep *rep = NULL;
    char err[WW_ERRLEN] = "";

    test_conf_init(&conf);
    conf.reputation.server = (char *)server;
    conf.reputation.timeout_ms = timeout_ms;
    conf.reputation.backoff = backoff_s > 0;
    conf.reputation.backoff_failures = 3;
    conf.reputation.backoff_s = backoff_s > 0 ? backoff_s : 30;
    conf.reputation.backoff_max_s = 4;
    ck_assert_int_eq(ww_rep_create_from_conf(&conf, db, "appl-test", &rep, err, sizeof(err)),
                     WW_OK);
    ck_assert_int_eq(fake_wrs_reset(&fake), 0);
    return rep;
}

static struct ww_rep *make_rep(int timeout_ms, int backoff_s)
{
    return make_rep_at(fake.base, timeout_ms, backoff_s, NULL);
}

static void set_mode(const char *mode, int ms)
{
    ck_assert_msg(fake_wrs_mode(&fake, mode, ms) == 0, "fake mode %s", mode);
}

/* One check; returns its duration in ms. */
static int64_t timed_check(struct ww_rep *rep, const char *url, struct ww_rating *r, int *rc)
{
    int64_t t0 = test_now_ms();
    *rc = ww_rep_check(rep, url, r);
    return test_now_ms() - t0;
}

START_TEST(test_rep_normal_answer_is_parsed)
{
    struct ww_rep *rep = make_rep(2000, 0);
    struct ww_rating r;
    char got[256];

    set_mode("normal", 0);
    ck_assert_int_eq(ww_rep_check(rep, "http://bad.example/a?b=c d", &r), WW_OK);
    ck_assert_msg(r.score == 20 && r.ncategories == 1 && strcmp(r.categories[0], "malware") == 0 &&
                      r.source == WW_REP_SRC_SERVER,
                  "got score %d ncat %d source %s", r.score, r.ncategories,
                  ww_rep_source_name(r.source));
    fake_wrs_last_url(&fake, got, sizeof(got));
    ck_assert_str_eq(got, "http://bad.example/a?b=c d"); /* percent-encoded on the wire */
    ck_assert_int_eq(ww_rep_check(rep, "http://gamble.example/", &r), WW_OK);
    ck_assert_str_eq(r.categories[0], "gambling"); /* lower-cased */
    ck_assert_int_eq(ww_rep_check(rep, "http://unrated.example/", &r), WW_OK);
    ck_assert_int_eq(r.score, 0);
    ck_assert_int_eq(r.source, WW_REP_SRC_SERVER);
    ww_rep_free(rep);
}
END_TEST

static const struct {
    const char *mode;
    int want_rc;
} failure_cases[] = {
    {"500", WW_EUNAVAIL},     {"404", WW_EPROTO},      {"redirect", WW_EPROTO},
    {"malformed", WW_EPROTO}, {"huge", WW_ETOOBIG},    {"wrongtype", WW_EPROTO},
    {"range", WW_EPROTO},     {"negative", WW_EPROTO}, {"dupkey", WW_EPROTO},
    {"badcats", WW_EPROTO},   {"badttl", WW_EPROTO},   {"reset", WW_EUNAVAIL},
    {"hang", WW_ETIMEOUT},    {"drip", WW_ETIMEOUT},   {"delay", WW_ETIMEOUT},
};

START_TEST(test_rep_failure_mode_gives_unrated_within_timeout)
{
    const char *mode = failure_cases[_i].mode;
    struct ww_rep *rep = make_rep(300, 0);
    struct ww_rating r;
    struct ww_conf conf;
    struct ww_policy_decision d;
    int rc;

    set_mode(mode, 800);
    int64_t took = timed_check(rep, "http://ok.example/", &r, &rc);
    set_mode("normal", 0);
    ck_assert_msg(rc == failure_cases[_i].want_rc && r.score == 0 &&
                      r.source == WW_REP_SRC_FAILURE && r.error == rc,
                  "mode %s: rc %d (%s) score %d source %s, want %s, unrated failure", mode, rc,
                  ww_strerror(rc), r.score, ww_rep_source_name(r.source),
                  ww_strerror(failure_cases[_i].want_rc));
    ck_assert_msg(took < 1500, "mode %s: took %lld ms with a 300 ms timeout", mode,
                  (long long)took);
    /* filtering continues under the current rules */
    test_conf_init(&conf);
    ww_policy_decide(&conf, &r, &d);
    ck_assert_msg(d.action == WW_ACTION_ALLOW && strncmp(d.reason, "unrated (", 9) == 0,
                  "mode %s: decision %s (%s)", mode, ww_policy_action_name(d.action), d.reason);
    ww_rep_free(rep);
}
END_TEST

START_TEST(test_rep_delay_under_timeout_is_answered)
{
    struct ww_rep *rep = make_rep(1000, 0);
    struct ww_rating r;
    int rc;

    set_mode("delay", 100);
    int64_t took = timed_check(rep, "http://ok.example/", &r, &rc);
    set_mode("normal", 0);
    ck_assert_msg(rc == WW_OK && r.score == 90 && took >= 90, "rc %d score %d took %lld", rc,
                  r.score, (long long)took);
    ww_rep_free(rep);
}
END_TEST

START_TEST(test_rep_refused_connection_is_unrated)
{
    char server[64];
    snprintf(server, sizeof(server), "http://127.0.0.1:%d", test_closed_port());
    struct ww_rep *rep = make_rep_at(server, 300, 0, NULL);
    struct ww_rating r;
    int rc;

    int64_t took = timed_check(rep, "http://ok.example/", &r, &rc);
    ck_assert_msg(rc == WW_EUNAVAIL && r.score == 0 && took < 1500, "rc %d score %d took %lld", rc,
                  r.score, (long long)took);
    ww_rep_free(rep);
}
END_TEST

START_TEST(test_rep_recovers_by_itself_after_server_comes_back)
{
    struct ww_rep *rep = make_rep(300, 0);
    struct ww_rating r;
    int rc;

    set_mode("hang", 0);
    timed_check(rep, "http://ok1.example/", &r, &rc);
    ck_assert_int_eq(rc, WW_ETIMEOUT);
    set_mode("normal", 0);
    timed_check(rep, "http://ok2.example/", &r, &rc);
    ck_assert_msg(rc == WW_OK && r.score == 90, "after hang: rc %d score %d", rc, r.score);

    /* the server stops listening for 1.5 s, then listens again on the same port */
    set_mode("refuse", 1500);
    int64_t deadline = test_now_ms() + 10000;
    int saw_failure = 0;
    rc = WW_EUNAVAIL;
    for (int i = 0; rc != WW_OK || !saw_failure; i++) {
        char url[64];
        ck_assert_msg(test_now_ms() < deadline, "no recovery within 10 s (failure seen: %d)",
                      saw_failure);
        snprintf(url, sizeof(url), "http://r%d.example/", i);
        timed_check(rep, url, &r, &rc);
        if (rc != WW_OK)
            saw_failure = 1;
        else if (!saw_failure)
            ck_assert_msg(i < 20, "server never went away");
        if (rc != WW_OK || !saw_failure)
            sleep_ms(50);
    }
    ck_assert_int_eq(r.source, WW_REP_SRC_SERVER);
    ww_rep_free(rep);
}
END_TEST

START_TEST(test_rep_backoff_stops_repeated_waits_and_probes_after_period)
{
    struct ww_rep *rep = make_rep(300, 1);
    struct ww_rep_stats st;
    struct ww_rating r;
    int rc;
    char url[64];

    set_mode("hang", 0);
    for (int i = 0; i < 3; i++) { /* backoff_failures = 3 */
        snprintf(url, sizeof(url), "http://f%d.example/", i);
        int64_t took = timed_check(rep, url, &r, &rc);
        ck_assert_msg(rc == WW_ETIMEOUT && took >= 250, "failure %d: rc %d took %lld", i, rc,
                      (long long)took);
    }
    int64_t tripped_at = test_now_ms();
    ck_assert_int_eq(fake_wrs_requests(&fake), 3);
    ww_rep_stats(rep, &st);
    ck_assert_int_eq(st.backing_off, 1);

    int64_t t0 = test_now_ms();
    for (int i = 0; i < 50; i++) {
        snprintf(url, sizeof(url), "http://b%d.example/", i);
        ww_rep_check(rep, url, &r);
        ck_assert_msg(r.source == WW_REP_SRC_BACKOFF && r.score == 0,
                      "request %d in back-off: source %s", i, ww_rep_source_name(r.source));
    }
    int64_t took = test_now_ms() - t0;
    ck_assert_msg(took < 100, "50 requests during back-off took %lld ms", (long long)took);
    ck_assert_int_eq(fake_wrs_requests(&fake), 3);

    /* server healthy again: the first request after the 1 s period is the probe */
    set_mode("normal", 0);
    int64_t deadline = test_now_ms() + 5000;
    do {
        ck_assert_msg(test_now_ms() < deadline, "no probe within 5 s");
        sleep_ms(50);
        ww_rep_check(rep, "http://probe.example/", &r);
    } while (r.source == WW_REP_SRC_BACKOFF);
    int64_t waited = test_now_ms() - tripped_at;
    ck_assert_msg(r.source == WW_REP_SRC_SERVER && waited >= 900,
                  "probe: source %s after %lld ms, want server after >= 1 s",
                  ww_rep_source_name(r.source), (long long)waited);
    ww_rep_stats(rep, &st);
    ck_assert_msg(st.backing_off == 0 && st.consecutive_failures == 0, "after success: %d %d",
                  st.backing_off, st.consecutive_failures);
    ck_assert_int_eq(ww_rep_check(rep, "http://after.example/", &r), WW_OK);
    ck_assert_int_eq(r.source, WW_REP_SRC_SERVER);
    ww_rep_free(rep);
}
END_TEST

START_TEST(test_rep_failed_probe_doubles_backoff)
{
    struct ww_rep *rep = make_rep(200, 1);
    struct ww_rep_stats st;
    struct ww_rating r;
    int rc;

    set_mode("500", 0);
    for (int i = 0; i < 3; i++)
        ww_rep_check(rep, "http://x.example/", &r);
    ww_rep_stats(rep, &st);
    ck_assert_msg(st.backing_off == 1 && st.backoff_period_s == 1, "tripped %d period %d",
                  st.backing_off, st.backoff_period_s);
    int64_t deadline = test_now_ms() + 5000;
    long before = fake_wrs_requests(&fake);
    do { /* wait for the probe (still failing) */
        ck_assert_msg(test_now_ms() < deadline, "no probe within 5 s");
        sleep_ms(50);
        rc = ww_rep_check(rep, "http://x.example/", &r);
    } while (r.source == WW_REP_SRC_BACKOFF);
    ck_assert_int_eq(rc, WW_EUNAVAIL);
    ck_assert_int_eq(r.source, WW_REP_SRC_FAILURE);
    ck_assert_int_eq(fake_wrs_requests(&fake), before + 1);
    ww_rep_stats(rep, &st);
    ck_assert_msg(st.backing_off == 1 && st.backoff_period_s == 2, "after failed probe: %d %d",
                  st.backing_off, st.backoff_period_s);
    ww_rep_check(rep, "http://x.example/", &r);
    ck_assert_int_eq(r.source, WW_REP_SRC_BACKOFF);
    ck_assert_int_eq(r.error, WW_EUNAVAIL);
    set_mode("normal", 0);
    ww_rep_free(rep);
}
END_TEST

struct probe_arg {
    struct ww_rep *rep;
    struct ww_rating r;
};

static void *probe_thread(void *arg)
{
    struct probe_arg *p = arg;
    ww_rep_check(p->rep, "http://probe.example/", &p->r);
    return NULL;
}

START_TEST(test_rep_only_one_probe_in_flight)
{
    struct ww_rep *rep = make_rep(600, 1);
    struct ww_rating r;
    struct probe_arg arg;
    pthread_t t;

    set_mode("500", 0);
    for (int i = 0; i < 3; i++)
        ww_rep_check(rep, "http://x.example/", &r);
    sleep_ms(1100); /* the 1 s period is over: the next request probes */
    set_mode("hang", 0);
    long before = fake_wrs_requests(&fake);
    arg.rep = rep;
    ck_assert_int_eq(pthread_create(&t, NULL, probe_thread, &arg), 0);
    int64_t deadline = test_now_ms() + 5000;
    while (fake_wrs_requests(&fake) == before) { /* the probe has reached the server */
        ck_assert_msg(test_now_ms() < deadline, "probe never arrived");
        sleep_ms(10);
    }
    int64_t t0 = test_now_ms();
    ww_rep_check(rep, "http://other.example/", &r);
    ck_assert_msg(r.source == WW_REP_SRC_BACKOFF && test_now_ms() - t0 < 100,
                  "while probing: source %s after %lld ms", ww_rep_source_name(r.source),
                  (long long)(test_now_ms() - t0));
    pthread_join(t, NULL);
    ck_assert_int_eq(arg.r.source, WW_REP_SRC_FAILURE);
    ck_assert_int_eq(fake_wrs_requests(&fake), before + 1);
    set_mode("normal", 0);
    ww_rep_free(rep);
}
END_TEST

START_TEST(test_rep_backoff_off_makes_every_request_wait)
{
    struct ww_rep *rep = make_rep(200, 0);
    struct ww_rating r;
    int rc;
    char url[64];

    set_mode("hang", 0);
    for (int i = 0; i < 6; i++) {
        snprintf(url, sizeof(url), "http://w%d.example/", i);
        int64_t took = timed_check(rep, url, &r, &rc);
        ck_assert_msg(rc == WW_ETIMEOUT && took >= 150 && took < 1500,
                      "request %d: rc %d took %lld", i, rc, (long long)took);
    }
    set_mode("normal", 0);
    ck_assert_int_eq(fake_wrs_requests(&fake), 6);
    ww_rep_free(rep);
}
END_TEST

START_TEST(test_rep_cache_hit_avoids_call)
{
    struct ww_rep *rep = make_rep(2000, 0);
    struct ww_rating r;
    struct ww_rep_stats st;

    set_mode("normal", 0);
    ck_assert_int_eq(ww_rep_check(rep, "http://bad.example/x", &r), WW_OK);
    ck_assert_int_eq(r.source, WW_REP_SRC_SERVER);
    ck_assert_int_eq(ww_rep_check(rep, "http://bad.example/x", &r), WW_OK);
    ck_assert_msg(r.source == WW_REP_SRC_CACHE && r.score == 20 &&
                      strcmp(r.categories[0], "malware") == 0,
                  "second lookup: source %s score %d", ww_rep_source_name(r.source), r.score);
    ck_assert_int_eq(fake_wrs_requests(&fake), 1);
    ck_assert_int_eq(ww_rep_check(rep, "http://bad.example/y", &r), WW_OK);
    ck_assert_int_eq(r.source, WW_REP_SRC_SERVER); /* URL-level answer: other paths ask */
    ww_rep_stats(rep, &st);
    ck_assert_msg(st.cache_hits == 1 && st.server_calls == 2, "hits %llu calls %llu",
                  (unsigned long long)st.cache_hits, (unsigned long long)st.server_calls);
    ww_rep_free(rep);
}
END_TEST

START_TEST(test_rep_cache_honours_server_ttl)
{
    struct ww_rep *rep = make_rep(2000, 0);
    struct ww_rating r;

    set_mode("normal", 0);
    ww_rep_check(rep, "http://ok.example/?ttl=1", &r);
    ck_assert_int_eq(r.ttl_s, 1);
    int64_t stored = test_now_ms();
    ww_rep_check(rep, "http://ok.example/?ttl=1", &r);
    if (test_now_ms() - stored < 900)
        ck_assert_int_eq(r.source, WW_REP_SRC_CACHE);
    int64_t deadline = test_now_ms() + 5000;
    while (r.source == WW_REP_SRC_CACHE) {
        ck_assert_msg(test_now_ms() < deadline, "entry with ttl 1 s still cached after 5 s");
        sleep_ms(50);
        ww_rep_check(rep, "http://ok.example/?ttl=1", &r);
    }
    ck_assert_msg(test_now_ms() - stored >= 950, "expired after %lld ms, ttl 1 s",
                  (long long)(test_now_ms() - stored));
    ck_assert_int_eq(r.source, WW_REP_SRC_SERVER);

    /* ttl 0: never cached */
    ww_rep_check(rep, "http://ok.example/?ttl=0", &r);
    ww_rep_check(rep, "http://ok.example/?ttl=0", &r);
    ck_assert_int_eq(r.source, WW_REP_SRC_SERVER);
    ww_rep_free(rep);
}
END_TEST

START_TEST(test_rep_host_wide_answer_covers_other_paths)
{
    struct ww_rep *rep = make_rep(2000, 0);
    struct ww_rating r;

    set_mode("normal", 0);
    ww_rep_check(rep, "http://hostwide.example/a", &r);
    ck_assert_int_eq(r.host_wide, 1);
    ww_rep_check(rep, "http://hostwide.example/b/c", &r);
    ck_assert_msg(r.source == WW_REP_SRC_CACHE && r.score == 30, "source %s score %d",
                  ww_rep_source_name(r.source), r.score);
    ck_assert_int_eq(fake_wrs_requests(&fake), 1);
    ww_rep_free(rep);
}
END_TEST

START_TEST(test_rep_local_db_answers_without_network)
{
    static const char text[] = "webwarden-urldb 1 t1\nlocal.example 77 news\n";
    static const char text2[] = "webwarden-urldb 1 t2\nlocal.example 12 phishing\n";
    struct ww_urldb *db = NULL, *db2 = NULL;
    char err[WW_ERRLEN];
    struct ww_rating r;

    ck_assert_int_eq(ww_urldb_load_buffer("t1", text, sizeof(text) - 1, &db, err, sizeof(err)),
                     WW_OK);
    ck_assert_int_eq(ww_urldb_load_buffer("t2", text2, sizeof(text2) - 1, &db2, err, sizeof(err)),
                     WW_OK);
    struct ww_rep *rep = make_rep_at(fake.base, 300, 0, db);
    set_mode("hang", 0);
    int64_t t0 = test_now_ms();
    ck_assert_int_eq(ww_rep_check(rep, "http://www.local.example/x", &r), WW_OK);
    ck_assert_msg(r.source == WW_REP_SRC_LOCALDB && r.score == 77 && test_now_ms() - t0 < 100,
                  "source %s score %d", ww_rep_source_name(r.source), r.score);
    ww_rep_set_urldb(rep, db2); /* hot reload */
    ck_assert_int_eq(ww_rep_check(rep, "http://www.local.example/x", &r), WW_OK);
    ck_assert_int_eq(r.score, 12);
    set_mode("normal", 0);
    ck_assert_int_eq(fake_wrs_requests(&fake), 0);
    ww_rep_free(rep);
}
END_TEST

/* Made without a local database (lookups then skip its lock), a database set later answers from
 * the next lookup on, and removing it again goes back to the server's answers. */
START_TEST(test_rep_local_db_set_after_create_answers)
{
    static const char text[] = "webwarden-urldb 1 t1\nlocal.example 77 news\n";
    struct ww_urldb *db = NULL;
    char err[WW_ERRLEN];
    struct ww_rating r;
    struct ww_rep *rep = make_rep_at("", 300, 0, NULL);

    ck_assert_int_eq(ww_urldb_load_buffer("t1", text, sizeof(text) - 1, &db, err, sizeof(err)),
                     WW_OK);
    ck_assert_int_eq(ww_rep_check(rep, "http://www.local.example/x", &r), WW_OK);
    ck_assert_msg(r.source == WW_REP_SRC_NONE, "before: source %s", ww_rep_source_name(r.source));
    ww_rep_set_urldb(rep, db);
    ck_assert_int_eq(ww_rep_check(rep, "http://www.local.example/x", &r), WW_OK);
    ck_assert_msg(r.source == WW_REP_SRC_LOCALDB && r.score == 77, "after: source %s score %d",
                  ww_rep_source_name(r.source), r.score);
    ww_rep_set_urldb(rep, NULL);
    ck_assert_int_eq(ww_rep_check(rep, "http://www.local.example/x", &r), WW_OK);
    ck_assert_msg(r.source == WW_REP_SRC_NONE, "removed: source %s", ww_rep_source_name(r.source));
    ww_rep_free(rep);
}
END_TEST

START_TEST(test_rep_without_server_everything_is_unrated)
{
    struct ww_rep *rep = make_rep_at("", 300, 1, NULL);
    struct ww_rating r;

    ck_assert_int_eq(ww_rep_check(rep, "http://bad.example/", &r), WW_OK);
    ck_assert_msg(r.score == 0 && r.source == WW_REP_SRC_NONE, "score %d source %s", r.score,
                  ww_rep_source_name(r.source));
    ww_rep_free(rep);
}
END_TEST

static void *hammer(void *arg)
{
    struct ww_rep *rep = arg;
    struct ww_rating r;
    char url[64];
    for (int i = 0; i < 40; i++) {
        snprintf(url, sizeof(url), "http://h%d.example/", i % 10);
        if (ww_rep_check(rep, url, &r) != WW_OK || r.score != 90)
            return (void *)1;
    }
    return NULL;
}

START_TEST(test_rep_threads_share_one_context)
{
    struct ww_rep *rep = make_rep(3000, 1);
    pthread_t t[4];
    void *bad;
    int failed = 0;

    set_mode("normal", 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, rep), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], &bad);
        failed += bad != NULL;
    }
    ck_assert_int_eq(failed, 0);
    long calls = fake_wrs_requests(&fake);
    ck_assert_msg(calls >= 10 && calls <= 40, "server calls %ld for 10 URLs", calls);
    ww_rep_free(rep);
}
END_TEST

static int warn_lines;

static void count_sink(int level, const char *line)
{
    if (level == WW_LOG_WARN && strstr(line, "reputation server") != NULL)
        warn_lines++;
}

START_TEST(test_rep_failures_are_logged_once_per_kind)
{
    struct ww_rep *rep = make_rep(300, 0);
    struct ww_rating r;

    ww_log_set_sink(count_sink, WW_LOG_DEBUG);
    warn_lines = 0;
    set_mode("500", 0);
    for (int i = 0; i < 10; i++)
        ww_rep_check(rep, "http://ok.example/", &r);
    ck_assert_msg(warn_lines == 1, "10 failures of one kind: %d log lines, want 1", warn_lines);
    set_mode("malformed", 0);
    for (int i = 0; i < 10; i++)
        ww_rep_check(rep, "http://ok.example/", &r);
    ck_assert_msg(warn_lines == 2, "then 10 malformed answers: %d log lines, want 2", warn_lines);
    set_mode("normal", 0);
    ww_log_set_sink(NULL, WW_LOG_INFO);
    ww_rep_free(rep);
}
END_TEST

/* ---- the answer parser, no server ---- */

static const struct {
    const char *body;
    int want_rc, want_score, want_ncat, want_ttl;
} parse_cases[] = {
    {"{\"score\": 55}", WW_OK, 55, 0, -1},
    {"{\"score\": 0, \"categories\": []}", WW_OK, 0, 0, -1},
    {"{\"score\": 100, \"categories\": [\"News\", \"Blogs\"], \"ttl\": 60, \"x\": {}}", WW_OK, 100,
     2, 60},
    {"{\"score\": 1, \"categories\": null, \"ttl\": null}", WW_OK, 1, 0, -1},
    {"{\"score\": 101}", WW_EPROTO, 0, 0, -1},
    {"{\"score\": -1}", WW_EPROTO, 0, 0, -1},
    {"{\"score\": 50.5}", WW_EPROTO, 0, 0, -1},
    {"{\"score\": \"50\"}", WW_EPROTO, 0, 0, -1},
    {"{\"score\": true}", WW_EPROTO, 0, 0, -1},
    {"{\"categories\": []}", WW_EPROTO, 0, 0, -1},
    {"{\"score\": 5, \"score\": 6}", WW_EPROTO, 0, 0, -1},
    {"{\"score\": 5, \"categories\": [1]}", WW_EPROTO, 0, 0, -1},
    {"{\"score\": 5, \"categories\": {}}", WW_EPROTO, 0, 0, -1},
    {"{\"score\": 5, \"ttl\": -1}", WW_EPROTO, 0, 0, -1},
    {"{\"score\": 5, \"ttl\": \"60\"}", WW_EPROTO, 0, 0, -1},
    {"{\"score\": 5, \"scope\": \"planet\"}", WW_EPROTO, 0, 0, -1},
    {"[55]", WW_EPROTO, 0, 0, -1},
    {"", WW_EPROTO, 0, 0, -1},
    {"{\"score\": 5", WW_EPROTO, 0, 0, -1},
    {"{\"score\": 99999999999999999999999}", WW_EPROTO, 0, 0, -1},
};

START_TEST(test_rep_parse_rating_is_strict)
{
    struct ww_rating r;
    char why[160] = "";
    const char *body = parse_cases[_i].body;
    int rc = ww_rep_parse_rating(body, strlen(body), &r, why, sizeof(why));

    ck_assert_msg(rc == parse_cases[_i].want_rc && r.score == parse_cases[_i].want_score &&
                      r.ncategories == parse_cases[_i].want_ncat &&
                      r.ttl_s == parse_cases[_i].want_ttl,
                  "parse %s: rc %d score %d ncat %d ttl %d (%s), want %d %d %d %d", body, rc,
                  r.score, r.ncategories, r.ttl_s, why, parse_cases[_i].want_rc,
                  parse_cases[_i].want_score, parse_cases[_i].want_ncat, parse_cases[_i].want_ttl);
    if (rc != WW_OK)
        ck_assert_msg(why[0] != '\0', "parse %s: no reason given", body);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rep");
    TCase *tc = tcase_create("fake-server");
    TCase *tp = tcase_create("parse");
    SRunner *sr;
    int failed;

    tcase_add_unchecked_fixture(tc, fake_up, fake_down);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_rep_normal_answer_is_parsed);
    tcase_add_loop_test(tc, test_rep_failure_mode_gives_unrated_within_timeout, 0,
                        sizeof(failure_cases) / sizeof(failure_cases[0]));
    tcase_add_test(tc, test_rep_delay_under_timeout_is_answered);
    tcase_add_test(tc, test_rep_refused_connection_is_unrated);
    tcase_add_test(tc, test_rep_recovers_by_itself_after_server_comes_back);
    tcase_add_test(tc, test_rep_backoff_stops_repeated_waits_and_probes_after_period);
    tcase_add_test(tc, test_rep_failed_probe_doubles_backoff);
    tcase_add_test(tc, test_rep_only_one_probe_in_flight);
    tcase_add_test(tc, test_rep_backoff_off_makes_every_request_wait);
    tcase_add_test(tc, test_rep_cache_hit_avoids_call);
    tcase_add_test(tc, test_rep_cache_honours_server_ttl);
    tcase_add_test(tc, test_rep_host_wide_answer_covers_other_paths);
    tcase_add_test(tc, test_rep_local_db_answers_without_network);
    tcase_add_test(tc, test_rep_local_db_set_after_create_answers);
    tcase_add_test(tc, test_rep_without_server_everything_is_unrated);
    tcase_add_test(tc, test_rep_threads_share_one_context);
    tcase_add_test(tc, test_rep_failures_are_logged_once_per_kind);
    tcase_add_loop_test(tp, test_rep_parse_rating_is_strict, 0,
                        sizeof(parse_cases) / sizeof(parse_cases[0]));
    suite_add_tcase(s, tc);
    suite_add_tcase(s, tp);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
