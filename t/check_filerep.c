/* t/check_filerep.c - smart-scan file verdicts against t/fake_sps.py: answers, the cache and its
 * TTL, every failure mode skipped within the timeout, the health probe, a plugged-in provider,
 * concurrent lookups, and the TLS settings of the config (tls_verify, ca_file) against an HTTPS
 * fake. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sps_testlib.h"
#include "ww_common.h"
#include "ww_conf.h"
#include "ww_filerep.h"
#include "ww_http.h"

#define H_EVIL "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define H_CLEAN "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define H_SHORT "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define H_NOCACHE "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
/* Bound on a failing call with a 400 ms timeout: wide, the machine is shared and loaded; a
 * hanging server would hold a call 60 s. */
#define SLOW_MS 1500
#define H_OTHER "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char verdicts[] = "{\"" H_EVIL "\": \"Eicar.Test.File\", \"" H_CLEAN "\": \"clean\","
                               " \"" H_SHORT "\": {\"verdict\": \"clean\", \"ttl\": 1},"
                               " \"" H_NOCACHE "\": {\"verdict\": \"unknown\", \"ttl\": 0}}";

static struct fake_sps fake;

static void fake_up(void)
{
    ck_assert_msg(fake_sps_start(&fake, verdicts, 3600) == 0, "cannot start t/fake_sps.py");
}

static void fake_down(void)
{
    fake_sps_stop(&fake);
}

static struct ww_filerep *make_filerep_at(const char *server, int timeout_ms)
{
    struct ww_http_opts opts = {.timeout_ms = timeout_ms, .tls_verify = 1, .appliance_id = "t"};
    struct ww_filerep_provider *p = ww_filerep_provider_sps_create(server, &opts);
    struct ww_filerep *fr;

    ck_assert_ptr_nonnull(p);
    fr = ww_filerep_create(p, 100, 3600);
    ck_assert_ptr_nonnull(fr);
    return fr;
}

static struct ww_filerep *make_filerep(int timeout_ms)
{
    ck_assert_int_eq(fake_sps_back(&fake), 0); /* up again if an earlier test left it down */
    ck_assert_int_eq(fake_sps_mode(&fake, "normal", 0), 0);
    ck_assert_int_eq(fake_sps_reset(&fake), 0);
    return make_filerep_at(fake.base, timeout_ms);
}

/* ---- parsing ---- */

static const struct {
    const char *body;
    int rc;
    enum ww_filerep_verdict verdict;
    const char *name;
    int ttl_s;
} parse_cases[] = {
    {"{\"verdict\": \"malicious\", \"name\": \"Troj.X\", \"ttl\": 60}", WW_OK, WW_FILEREP_MALICIOUS,
     "Troj.X", 60},
    {"{\"verdict\": \"clean\"}", WW_OK, WW_FILEREP_CLEAN, "", -1},
    {"{\"verdict\": \"unknown\", \"ttl\": 0, \"extra\": [1]}", WW_OK, WW_FILEREP_UNKNOWN, "", 0},
    {"{\"verdict\": \"clean\", \"name\": null}", WW_OK, WW_FILEREP_CLEAN, "", -1},
    {"{\"verdict\": \"malicious\"}", WW_EPROTO, WW_FILEREP_SKIPPED, "", -1},
    {"{\"verdict\": \"malicious\", \"name\": \"\"}", WW_EPROTO, WW_FILEREP_SKIPPED, "", -1},
    {"{\"verdict\": \"malicious\", \"name\": 5}", WW_EPROTO, WW_FILEREP_SKIPPED, "", -1},
    {"{\"verdict\": \"evil\"}", WW_EPROTO, WW_FILEREP_SKIPPED, "", -1},
    {"{\"verdict\": 1}", WW_EPROTO, WW_FILEREP_SKIPPED, "", -1},
    {"{\"verdict\": \"clean\", \"ttl\": -1}", WW_EPROTO, WW_FILEREP_SKIPPED, "", -1},
    {"{\"verdict\": \"clean\", \"ttl\": \"60\"}", WW_EPROTO, WW_FILEREP_SKIPPED, "", -1},
    {"{\"verdict\": \"clean\", \"verdict\": \"malicious\"}", WW_EPROTO, WW_FILEREP_SKIPPED, "", -1},
    {"[\"clean\"]", WW_EPROTO, WW_FILEREP_SKIPPED, "", -1},
    {"{\"verdict\": \"clean\"", WW_EPROTO, WW_FILEREP_SKIPPED, "", -1},
    {"", WW_EPROTO, WW_FILEREP_SKIPPED, "", -1},
    {"{}", WW_EPROTO, WW_FILEREP_SKIPPED, "", -1},
};

START_TEST(test_filerep_parse_verdict_matches_table)
{
    struct ww_file_verdict v;
    char why[160] = "";
    const char *body = parse_cases[_i].body;
    int rc = ww_filerep_parse_verdict(body, strlen(body), &v, why, sizeof(why));

    ck_assert_msg(rc == parse_cases[_i].rc && v.verdict == parse_cases[_i].verdict &&
                      strcmp(v.name, parse_cases[_i].name) == 0 && v.ttl_s == parse_cases[_i].ttl_s,
                  "parse(%s) = %d %s \"%s\" ttl %d (%s), want %d %s \"%s\" ttl %d", body, rc,
                  ww_filerep_verdict_name(v.verdict), v.name, v.ttl_s, why, parse_cases[_i].rc,
                  ww_filerep_verdict_name(parse_cases[_i].verdict), parse_cases[_i].name,
                  parse_cases[_i].ttl_s);
    if (rc != WW_OK)
        ck_assert_msg(why[0] != '\0', "parse(%s) failed without a reason", body);
}
END_TEST

START_TEST(test_filerep_parse_cuts_long_names_and_control_chars)
{
    char body[1024], name[400];
    struct ww_file_verdict v;

    memset(name, 'N', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    /* "NNN\t" (a JSON escape) then more Ns: the tab must not reach logs and headers */
    snprintf(body, sizeof(body), "{\"verdict\": \"malicious\", \"name\": \"NNN\\t%s\"}", name);
    ck_assert_int_eq(ww_filerep_parse_verdict(body, strlen(body), &v, NULL, 0), WW_OK);
    ck_assert_uint_eq(strlen(v.name), WW_FILEREP_NAME_LEN - 1);
    ck_assert_msg(v.name[3] == '?', "control character kept: got 0x%02x, want '?'",
                  (unsigned char)v.name[3]);
}
END_TEST

/* ---- answers and the cache ---- */

START_TEST(test_filerep_lookup_returns_server_verdicts)
{
    struct ww_filerep *fr = make_filerep(1500);
    struct ww_file_verdict v;

    ck_assert_int_eq(ww_filerep_lookup(fr, H_EVIL, &v), WW_OK);
    ck_assert_msg(v.verdict == WW_FILEREP_MALICIOUS && strcmp(v.name, "Eicar.Test.File") == 0,
                  "evil: got %s \"%s\", want malicious \"Eicar.Test.File\"",
                  ww_filerep_verdict_name(v.verdict), v.name);
    ck_assert_int_eq(ww_filerep_lookup(fr, H_CLEAN, &v), WW_OK);
    ck_assert_str_eq(ww_filerep_verdict_name(v.verdict), "clean");
    ck_assert_str_eq(v.name, "");
    ck_assert_int_eq(ww_filerep_lookup(fr, H_OTHER, &v), WW_OK);
    ck_assert_str_eq(ww_filerep_verdict_name(v.verdict), "unknown");
    ck_assert_int_eq(v.cached, 0);
    ck_assert_int_eq(fake_sps_requests(&fake), 3);
    ww_filerep_free(fr);
}
END_TEST

START_TEST(test_filerep_lookup_accepts_upper_case_and_refuses_bad_hashes)
{
    static const char *bad[] = {"", "abc", H_EVIL "0",
                                "g"
                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                "../../v1/health"};
    struct ww_filerep *fr = make_filerep(1500);
    struct ww_file_verdict v;
    char upper[65];

    for (size_t i = 0; i < sizeof(upper) - 1; i++)
        upper[i] = 'A';
    upper[64] = '\0';
    ck_assert_int_eq(ww_filerep_lookup(fr, upper, &v), WW_OK);
    ck_assert_str_eq(ww_filerep_verdict_name(v.verdict), "malicious");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = ww_filerep_lookup(fr, bad[i], &v);
        ck_assert_msg(rc == WW_EINVAL && v.verdict == WW_FILEREP_SKIPPED,
                      "lookup(\"%s\") = %d %s, want %d skipped", bad[i], rc,
                      ww_filerep_verdict_name(v.verdict), WW_EINVAL);
    }
    ck_assert_int_eq(ww_filerep_lookup(fr, NULL, &v), WW_EINVAL);
    ck_assert_int_eq(fake_sps_requests(&fake), 1);
    ww_filerep_free(fr);
}
END_TEST

START_TEST(test_filerep_cache_hit_avoids_the_call)
{
    struct ww_filerep *fr = make_filerep(1500);
    struct ww_filerep_stats st;
    struct ww_file_verdict v;

    ck_assert_int_eq(ww_filerep_lookup(fr, H_EVIL, &v), WW_OK);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(ww_filerep_lookup(fr, H_EVIL, &v), WW_OK);
        ck_assert_int_eq(v.cached, 1);
        ck_assert_str_eq(v.name, "Eicar.Test.File");
    }
    ck_assert_int_eq(fake_sps_requests(&fake), 1);
    ww_filerep_stats(fr, &st);
    ck_assert_msg(st.lookups == 6 && st.cache_hits == 5 && st.server_calls == 1,
                  "stats lookups %llu hits %llu calls %llu, want 6 5 1",
                  (unsigned long long)st.lookups, (unsigned long long)st.cache_hits,
                  (unsigned long long)st.server_calls);
    ww_filerep_free(fr);
}
END_TEST

START_TEST(test_filerep_cache_honours_server_ttl)
{
    struct ww_filerep *fr = make_filerep(1500);
    struct ww_file_verdict v;
    int64_t t0 = sps_now_ms(), deadline = t0 + 5000;
    long calls;

    ck_assert_int_eq(ww_filerep_lookup(fr, H_SHORT, &v), WW_OK);
    ck_assert_int_eq(v.ttl_s, 1);
    ck_assert_int_eq(ww_filerep_lookup(fr, H_SHORT, &v), WW_OK);
    ck_assert_msg(v.cached == 1 || sps_now_ms() - t0 >= 1000, "ttl 1: not cached at once");
    /* after its ttl the verdict is asked again */
    do {
        sps_sleep_ms(100);
        ck_assert_int_eq(ww_filerep_lookup(fr, H_SHORT, &v), WW_OK);
    } while (v.cached && sps_now_ms() < deadline);
    ck_assert_msg(!v.cached, "ttl 1 s: still cached after %lld ms", (long long)(sps_now_ms() - t0));
    ck_assert_msg(sps_now_ms() - t0 >= 900, "expired after %lld ms, want >= 1 s",
                  (long long)(sps_now_ms() - t0));
    calls = fake_sps_requests(&fake);
    ck_assert_int_eq(calls, 2);
    /* ttl 0: never cached */
    ck_assert_int_eq(ww_filerep_lookup(fr, H_NOCACHE, &v), WW_OK);
    ck_assert_int_eq(ww_filerep_lookup(fr, H_NOCACHE, &v), WW_OK);
    ck_assert_int_eq(v.cached, 0);
    ck_assert_int_eq(fake_sps_requests(&fake), calls + 2);
    ww_filerep_free(fr);
}
END_TEST

/* ---- failures: skipped within the timeout ---- */

static const struct {
    const char *mode;
    int rc;
} failure_cases[] = {
    {"hang", WW_ETIMEOUT},    {"delay", WW_ETIMEOUT},   {"500", WW_EUNAVAIL},
    {"malformed", WW_EPROTO}, {"wrongtype", WW_EPROTO}, {"badverdict", WW_EPROTO},
    {"noname", WW_EPROTO},
};

START_TEST(test_filerep_failure_is_skipped_within_timeout)
{
    const int timeout_ms = 400;
    struct ww_filerep *fr = make_filerep(timeout_ms);
    struct ww_file_verdict v;
    int64_t t0;
    int rc;

    ck_assert_int_eq(fake_sps_mode(&fake, failure_cases[_i].mode, 3000), 0);
    t0 = sps_now_ms();
    rc = ww_filerep_lookup(fr, H_EVIL, &v);
    int64_t took = sps_now_ms() - t0;
    ck_assert_msg(rc == failure_cases[_i].rc && v.verdict == WW_FILEREP_SKIPPED && v.error == rc,
                  "mode %s: lookup = %d %s (error %d), want %d skipped", failure_cases[_i].mode, rc,
                  ww_filerep_verdict_name(v.verdict), v.error, failure_cases[_i].rc);
    ck_assert_msg(took < SLOW_MS, "mode %s: took %lld ms with a %d ms timeout, want < %d",
                  failure_cases[_i].mode, (long long)took, timeout_ms, SLOW_MS);
    /* a failure is not cached: the next lookup after recovery gets the verdict */
    ck_assert_int_eq(fake_sps_mode(&fake, "normal", 0), 0);
    ck_assert_int_eq(ww_filerep_lookup(fr, H_EVIL, &v), WW_OK);
    ck_assert_str_eq(ww_filerep_verdict_name(v.verdict), "malicious");
    ck_assert_int_eq(v.cached, 0);
    ww_filerep_free(fr);
}
END_TEST

START_TEST(test_filerep_refused_and_outage_are_skipped)
{
    const int timeout_ms = 400;
    struct ww_filerep *fr = make_filerep(timeout_ms);
    struct ww_file_verdict v;
    int64_t t0;
    int rc;

    ck_assert_int_eq(ww_filerep_lookup(fr, H_CLEAN, &v), WW_OK); /* a kept-alive connection */
    ck_assert_int_eq(fake_sps_mode(&fake, "refuse", -1), 0);
    for (int i = 0; i < 3; i++) {
        t0 = sps_now_ms();
        rc = ww_filerep_lookup(fr, H_EVIL, &v);
        ck_assert_msg(rc != WW_OK && v.verdict == WW_FILEREP_SKIPPED,
                      "server down: lookup = %d %s, want skipped", rc,
                      ww_filerep_verdict_name(v.verdict));
        ck_assert_msg(sps_now_ms() - t0 < SLOW_MS, "server down: took %lld ms",
                      (long long)(sps_now_ms() - t0));
    }
    ck_assert_int_eq(fake_sps_back(&fake), 0);
    ck_assert_int_eq(ww_filerep_lookup(fr, H_EVIL, &v), WW_OK);
    ck_assert_str_eq(ww_filerep_verdict_name(v.verdict), "malicious");
    ww_filerep_free(fr);
}
END_TEST

START_TEST(test_filerep_without_provider_skips)
{
    struct ww_filerep *fr = ww_filerep_create(NULL, 10, 60);
    struct ww_file_verdict v;

    ck_assert_ptr_nonnull(fr);
    ck_assert_int_eq(ww_filerep_lookup(fr, H_EVIL, &v), WW_ENOTFOUND);
    ck_assert_str_eq(ww_filerep_verdict_name(v.verdict), "skipped");
    ww_filerep_free(fr);
}
END_TEST

/* ---- a plugged-in provider ---- */

static int stub_calls;

static int stub_lookup(void *ctx, const char *sha, struct ww_file_verdict *out)
{
    (void)ctx;
    stub_calls++;
    memset(out, 0, sizeof(*out));
    out->ttl_s = -1;
    if (sha[0] == 'a') {
        out->verdict = WW_FILEREP_MALICIOUS;
        snprintf(out->name, sizeof(out->name), "Stub.A");
        return WW_OK;
    }
    out->verdict = WW_FILEREP_SKIPPED;
    return WW_EUNAVAIL;
}

START_TEST(test_filerep_other_provider_plugs_in)
{
    struct ww_filerep_provider *p = calloc(1, sizeof(*p));
    struct ww_filerep *fr;
    struct ww_file_verdict v;

    ck_assert_ptr_nonnull(p);
    p->name = "stub";
    p->lookup = stub_lookup;
    fr = ww_filerep_create(p, 10, 60);
    stub_calls = 0;
    ck_assert_int_eq(ww_filerep_lookup(fr, H_EVIL, &v), WW_OK);
    ck_assert_str_eq(v.name, "Stub.A");
    ck_assert_int_eq(ww_filerep_lookup(fr, H_EVIL, &v), WW_OK); /* default ttl 60: cached */
    ck_assert_int_eq(v.cached, 1);
    ck_assert_int_eq(ww_filerep_lookup(fr, H_CLEAN, &v), WW_EUNAVAIL);
    ck_assert_str_eq(ww_filerep_verdict_name(v.verdict), "skipped");
    ck_assert_int_eq(stub_calls, 2);
    ww_filerep_free(fr);
}
END_TEST

/* ---- threads ---- */

struct worker_arg {
    struct ww_filerep *fr;
    int bad;
};

static void *worker(void *arg)
{
    struct worker_arg *w = arg;
    struct ww_file_verdict v;
    char hash[65];

    for (int i = 0; i < 40; i++) {
        snprintf(hash, sizeof(hash), "%064x", i % 10);
        if (i % 3 == 0)
            snprintf(hash, sizeof(hash), "%s", H_EVIL);
        if (ww_filerep_lookup(w->fr, hash, &v) != WW_OK ||
            (strcmp(hash, H_EVIL) == 0) != (v.verdict == WW_FILEREP_MALICIOUS))
            w->bad++;
    }
    return NULL;
}

START_TEST(test_filerep_threads_share_one_lookup)
{
    struct ww_filerep *fr = make_filerep(1500);
    pthread_t th[6];
    struct worker_arg args[6];

    for (int i = 0; i < 6; i++) {
        args[i] = (struct worker_arg){fr, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(args[i].bad == 0, "thread %d: %d wrong answers", i, args[i].bad);
    }
    ww_filerep_free(fr);
}
END_TEST

/* ---- health probe ---- */

START_TEST(test_filerep_health_probe_ok_only_for_status_ok)
{
    static const char *bad_modes[] = {"500",        "malformed", "wrongtype",
                                      "badverdict", "noname",    "hang"};
    struct ww_http_opts opts = {.timeout_ms = 400, .tls_verify = 1};
    struct ww_http *h = ww_http_create(&opts);
    char detail[256];
    int latency = -1;

    ck_assert_int_eq(fake_sps_mode(&fake, "normal", 0), 0);
    ck_assert_int_eq(ww_filerep_health_probe(h, fake.base, detail, sizeof(detail), &latency),
                     WW_OK);
    ck_assert_str_eq(detail, "ok");
    ck_assert_int_ge(latency, 0);
    for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
        int64_t t0;
        int rc;
        ck_assert_int_eq(fake_sps_mode(&fake, bad_modes[i], 0), 0);
        t0 = sps_now_ms();
        rc = ww_filerep_health_probe(h, fake.base, detail, sizeof(detail), &latency);
        ck_assert_msg(rc != WW_OK && detail[0] != '\0' && strcmp(detail, "ok") != 0,
                      "mode %s: probe = %d \"%s\", want a failure", bad_modes[i], rc, detail);
        ck_assert_msg(sps_now_ms() - t0 < SLOW_MS, "mode %s: probe took %lld ms", bad_modes[i],
                      (long long)(sps_now_ms() - t0));
    }
    ck_assert_int_eq(fake_sps_mode(&fake, "normal", 0), 0);
    ww_http_free(h);
}
END_TEST

/* Smart scan built from the config (ww_filerep_create_from_conf) against an HTTPS fake whose
 * certificate is self-signed: it answers only when the config's TLS settings for [smart_scan]
 * trust that certificate or turn the check off. [reputation]'s keys are the default. */
static struct fake_sps tls_fake;

static void tls_fake_up(void)
{
    ck_assert_msg(fake_sps_start_tls(&tls_fake, verdicts, 3600) == 0,
                  "cannot start t/fake_sps.py --tls-dir (needs openssl)");
}

static void tls_fake_down(void)
{
    fake_sps_stop(&tls_fake);
}

static const struct {
    const char *name;
    const char *conf; /* "%1$s" = the fake's URL, "%2$s" = its certificate */
    int trusted;
} tls_cases[] = {
    {"reputation's ca_file is the default",
     "[reputation]\nca_file = %2$s\n"
     "[smart_scan]\nserver = %1$s\n",
     1},
    {"smart_scan's own ca_file", "[smart_scan]\nserver = %1$s\nca_file = %2$s\n", 1},
    {"system store does not know the certificate", "[smart_scan]\nserver = %1$s\n", 0},
    {"smart_scan tls_verify off", "[smart_scan]\nserver = %1$s\ntls_verify = off\n", 1},
    {"reputation's tls_verify off is the default",
     "[reputation]\ntls_verify = off\n"
     "[smart_scan]\nserver = %1$s\n",
     1},
    {"smart_scan tls_verify on overrides reputation's off",
     "[reputation]\ntls_verify = off\n"
     "[smart_scan]\nserver = %1$s\n"
     "tls_verify = on\n",
     0},
    {"smart_scan's empty ca_file overrides reputation's",
     "[reputation]\nca_file = %2$s\n"
     "[smart_scan]\nserver = %1$s\n"
     "ca_file =\n",
     0},
};

START_TEST(test_filerep_honours_smart_scan_tls_settings)
{
    char path[] = "/tmp/ww-tlsconf-XXXXXX", err[WW_ERRLEN] = "";
    struct ww_conf *conf = NULL;
    struct ww_filerep *fr = NULL;
    struct ww_file_verdict v;
    int fd = mkstemp(path), rc;
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;

    ck_assert_ptr_nonnull(fp);
    fprintf(fp, tls_cases[_i].conf, tls_fake.base, tls_fake.ca_file);
    fclose(fp);
    rc = ww_conf_load(path, &conf, err, sizeof(err));
    unlink(path);
    ck_assert_msg(rc == WW_OK, "%s: config: %s", tls_cases[_i].name, err);
    ck_assert_int_eq(fake_sps_reset(&tls_fake), 0);
    ck_assert_int_eq(ww_filerep_create_from_conf(conf, "t", &fr, err, sizeof(err)), WW_OK);
    rc = ww_filerep_lookup(fr, H_EVIL, &v);
    if (tls_cases[_i].trusted) {
        ck_assert_msg(rc == WW_OK && v.verdict == WW_FILEREP_MALICIOUS,
                      "%s: lookup = %d %s, want the server's malicious verdict", tls_cases[_i].name,
                      rc, ww_filerep_verdict_name(v.verdict));
        ck_assert_int_eq(fake_sps_requests(&tls_fake), 1);
    } else {
        ck_assert_msg(rc != WW_OK && v.verdict != WW_FILEREP_MALICIOUS,
                      "%s: lookup = %d %s, want a TLS failure (certificate not trusted)",
                      tls_cases[_i].name, rc, ww_filerep_verdict_name(v.verdict));
        ck_assert_int_eq(fake_sps_requests(&tls_fake), 0);
    }
    ww_filerep_free(fr);
    ww_conf_free(conf);
}
END_TEST

Suite *filerep_suite(void)
{
    Suite *s = suite_create("filerep");
    TCase *tc = tcase_create("parse");

    tcase_add_loop_test(tc, test_filerep_parse_verdict_matches_table, 0,
                        sizeof(parse_cases) / sizeof(parse_cases[0]));
    tcase_add_test(tc, test_filerep_parse_cuts_long_names_and_control_chars);
    tcase_add_test(tc, test_filerep_without_provider_skips);
    tcase_add_test(tc, test_filerep_other_provider_plugs_in);
    suite_add_tcase(s, tc);

    tc = tcase_create("server");
    tcase_add_unchecked_fixture(tc, fake_up, fake_down);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_filerep_lookup_returns_server_verdicts);
    tcase_add_test(tc, test_filerep_lookup_accepts_upper_case_and_refuses_bad_hashes);
    tcase_add_test(tc, test_filerep_cache_hit_avoids_the_call);
    tcase_add_test(tc, test_filerep_cache_honours_server_ttl);
    tcase_add_loop_test(tc, test_filerep_failure_is_skipped_within_timeout, 0,
                        sizeof(failure_cases) / sizeof(failure_cases[0]));
    tcase_add_test(tc, test_filerep_refused_and_outage_are_skipped);
    tcase_add_test(tc, test_filerep_threads_share_one_lookup);
    tcase_add_test(tc, test_filerep_health_probe_ok_only_for_status_ok);
    suite_add_tcase(s, tc);

    tc = tcase_create("tls");
    tcase_add_unchecked_fixture(tc, tls_fake_up, tls_fake_down);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_filerep_honours_smart_scan_tls_settings, 0,
                        sizeof(tls_cases) / sizeof(tls_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(filerep_suite());
    int failed;

    ww_http_global_init();
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
