/* t/check_http.c - the HTTP client against t/fake_wrs.py: headers, caps, hard timeouts. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "rep_testlib.h"
#include "ww_common.h"
#include "ww_http.h"

static struct fake_wrs fake;

static void fake_up(void)
{
    ck_assert_msg(fake_wrs_start(&fake) == 0, "cannot start t/fake_wrs.py (python3)");
}

static void fake_down(void)
{
    fake_wrs_stop(&fake);
}

static struct ww_http *client(int timeout_ms, const char *key)
{
    struct ww_http_opts opts = {
        .timeout_ms = timeout_ms, .tls_verify = 1, .api_key = key, .appliance_id = "appl-123"};
    struct ww_http *h = ww_http_create(&opts);
    ck_assert_ptr_nonnull(h);
    return h;
}

static void rating_url(char *out, size_t outlen, const char *base, const char *target)
{
    snprintf(out, outlen, "%s/v1/rating?url=", base);
    ck_assert_int_eq(ww_http_append_escaped(out, outlen, target), WW_OK);
}

START_TEST(test_http_get_sends_identity_headers)
{
    struct ww_http *h = client(2000, "secret-key");
    struct ww_http_result res;
    char url[256], got[128];

    ck_assert_int_eq(fake_wrs_mode(&fake, "normal", 0), 0);
    rating_url(url, sizeof(url), fake.base, "http://ok.example/");
    ck_assert_int_eq(ww_http_get(h, url, &res), WW_OK);
    ck_assert_int_eq(res.status, 200);
    ck_assert_msg(strstr(res.body, "\"score\": 90") != NULL, "body %s", res.body);
    fake_wrs_last_header(&fake, "User-Agent", got, sizeof(got));
    ck_assert_str_eq(got, "webwarden/" WW_VERSION);
    fake_wrs_last_header(&fake, "X-Webwarden-Appliance", got, sizeof(got));
    ck_assert_str_eq(got, "appl-123");
    fake_wrs_last_header(&fake, "Authorization", got, sizeof(got));
    ck_assert_str_eq(got, "Bearer secret-key");
    fake_wrs_last_url(&fake, got, sizeof(got));
    ck_assert_str_eq(got, "http://ok.example/");
    ww_http_free(h);
}
END_TEST

START_TEST(test_http_without_key_sends_no_authorization)
{
    struct ww_http *h = client(2000, "");
    struct ww_http_result res;
    char url[256], got[128];

    ck_assert_int_eq(fake_wrs_mode(&fake, "normal", 0), 0);
    rating_url(url, sizeof(url), fake.base, "http://ok.example/");
    ck_assert_int_eq(ww_http_get(h, url, &res), WW_OK);
    fake_wrs_last_header(&fake, "Authorization", got, sizeof(got));
    ck_assert_str_eq(got, "");
    ww_http_free(h);
}
END_TEST

START_TEST(test_http_reuses_connection_between_requests)
{
    struct ww_http *h = client(2000, NULL);
    struct ww_http_result res;
    char url[256];
    long port1, port2;

    ck_assert_int_eq(fake_wrs_mode(&fake, "normal", 0), 0);
    rating_url(url, sizeof(url), fake.base, "http://a.example/");
    ck_assert_int_eq(ww_http_get(h, url, &res), WW_OK);
    port1 = fake_wrs_last_peer_port(&fake);
    ck_assert_int_eq(ww_http_get(h, url, &res), WW_OK);
    port2 = fake_wrs_last_peer_port(&fake);
    ck_assert_msg(port1 > 0 && port1 == port2, "client ports %ld then %ld: want one connection",
                  port1, port2);
    ww_http_free(h);
}
END_TEST

START_TEST(test_http_post_json_reaches_server)
{
    struct ww_http *h = client(2000, NULL);
    struct ww_http_result res;
    char url[256];
    static const char body[] = "{\"mode\": \"404\"}";

    snprintf(url, sizeof(url), "%s/_mode", fake.base);
    ck_assert_int_eq(ww_http_post_json(h, url, body, strlen(body), &res), WW_OK);
    ck_assert_int_eq(res.status, 200);
    /* the same client then GETs: the method must switch back */
    rating_url(url, sizeof(url), fake.base, "http://a.example/");
    ck_assert_int_eq(ww_http_get(h, url, &res), WW_OK);
    ck_assert_int_eq(res.status, 404);
    ww_http_free(h);
}
END_TEST

START_TEST(test_http_error_status_is_returned_not_hidden)
{
    struct ww_http *h = client(2000, NULL);
    struct ww_http_result res;
    char url[256];

    ck_assert_int_eq(fake_wrs_mode(&fake, "500", 0), 0);
    rating_url(url, sizeof(url), fake.base, "http://a.example/");
    ck_assert_int_eq(ww_http_get(h, url, &res), WW_OK);
    ck_assert_int_eq(res.status, 500);
    ww_http_free(h);
}
END_TEST

START_TEST(test_http_does_not_follow_redirects)
{
    struct ww_http *h = client(2000, NULL);
    struct ww_http_result res;
    char url[256];

    ck_assert_int_eq(fake_wrs_mode(&fake, "redirect", 0), 0);
    ck_assert_int_eq(fake_wrs_reset(&fake), 0);
    rating_url(url, sizeof(url), fake.base, "http://a.example/");
    ck_assert_int_eq(ww_http_get(h, url, &res), WW_OK);
    ck_assert_int_eq(res.status, 302);
    ck_assert_int_eq(fake_wrs_requests(&fake), 1);
    ww_http_free(h);
}
END_TEST

START_TEST(test_http_body_over_cap_fails)
{
    struct ww_http *h = client(5000, NULL);
    struct ww_http_result res;
    char url[256];

    ck_assert_int_eq(fake_wrs_mode(&fake, "huge", 0), 0);
    rating_url(url, sizeof(url), fake.base, "http://a.example/");
    int rc = ww_http_get(h, url, &res);
    ck_assert_msg(rc == WW_ETOOBIG, "huge body: rc %d (%s), want too big", rc, ww_strerror(rc));
    ck_assert_ptr_null(res.body);
    ww_http_free(h);

    struct ww_http_opts opts = {.timeout_ms = 2000, .tls_verify = 1, .max_body = 10};
    h = ww_http_create(&opts);
    ck_assert_int_eq(fake_wrs_mode(&fake, "normal", 0), 0);
    ck_assert_int_eq(ww_http_get(h, url, &res), WW_ETOOBIG);
    ww_http_free(h);
}
END_TEST

static void assert_bounded(const char *mode, int timeout_ms)
{
    struct ww_http *h = client(timeout_ms, NULL);
    struct ww_http_result res;
    char url[256];

    ck_assert_int_eq(fake_wrs_mode(&fake, mode, 0), 0);
    rating_url(url, sizeof(url), fake.base, "http://a.example/");
    int64_t t0 = test_now_ms();
    int rc = ww_http_get(h, url, &res);
    int64_t took = test_now_ms() - t0;
    ck_assert_msg(rc == WW_ETIMEOUT, "%s: rc %d (%s), want timeout", mode, rc, ww_strerror(rc));
    ck_assert_msg(took >= timeout_ms - 50 && took < 1500, "%s: took %lld ms with timeout %d ms",
                  mode, (long long)took, timeout_ms);
    ww_http_free(h);
    fake_wrs_mode(&fake, "normal", 0); /* lets the hanging handler go */
}

START_TEST(test_http_hanging_server_costs_at_most_timeout)
{
    assert_bounded("hang", 300);
}
END_TEST

START_TEST(test_http_dripping_server_costs_at_most_timeout)
{
    assert_bounded("drip", 300);
}
END_TEST

START_TEST(test_http_refused_connection_is_unavailable)
{
    struct ww_http *h = client(300, NULL);
    struct ww_http_result res;
    char url[128];

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/rating?url=x", test_closed_port());
    int64_t t0 = test_now_ms();
    ck_assert_int_eq(ww_http_get(h, url, &res), WW_EUNAVAIL);
    ck_assert_int_lt(test_now_ms() - t0, 1500);
    ck_assert_str_ne(ww_http_last_error(h), "");
    ww_http_free(h);
}
END_TEST

START_TEST(test_http_only_http_and_https_are_allowed)
{
    struct ww_http *h = client(300, NULL);
    struct ww_http_result res;

    ck_assert_int_eq(ww_http_get(h, "file:///etc/passwd", &res), WW_EINVAL);
    ck_assert_int_eq(ww_http_get(h, "ftp://127.0.0.1/x", &res), WW_EINVAL);
    ck_assert_int_eq(ww_http_get(h, "gopher://127.0.0.1/x", &res), WW_EINVAL);
    ww_http_free(h);
}
END_TEST

START_TEST(test_http_tls_to_plain_port_fails)
{
    struct ww_http *h = client(1000, NULL);
    struct ww_http_result res;
    char url[128];

    ck_assert_int_eq(fake_wrs_mode(&fake, "normal", 0), 0);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/rating?url=x", fake.port);
    int rc = ww_http_get(h, url, &res);
    ck_assert_msg(rc == WW_EUNAVAIL, "https to a plain port: rc %d (%s: %s)", rc, ww_strerror(rc),
                  ww_http_last_error(h));
    ww_http_free(h);
}
END_TEST

/* ---- HTTPS against the fake with a self-signed certificate ---- */

static struct fake_wrs tls_fake;

static void tls_fake_up(void)
{
    ck_assert_msg(fake_wrs_start_tls(&tls_fake) == 0,
                  "cannot start t/fake_wrs.py --tls-dir (python3, openssl)");
}

static void tls_fake_down(void)
{
    fake_wrs_stop(&tls_fake);
}

static int tls_get(int verify, const char *ca_file, const char *host, char *errtext, size_t errlen)
{
    struct ww_http_opts opts = {.timeout_ms = 3000, .tls_verify = verify, .ca_file = ca_file};
    struct ww_http *h = ww_http_create(&opts);
    struct ww_http_result res;
    char url[256];
    int rc;

    ck_assert_ptr_nonnull(h);
    snprintf(url, sizeof(url), "https://%s:%d/v1/rating?url=x", host, tls_fake.port);
    rc = ww_http_get(h, url, &res);
    if (rc == WW_OK && res.status != 200)
        rc = WW_EPROTO;
    snprintf(errtext, errlen, "%s", ww_http_last_error(h));
    ww_http_free(h);
    return rc;
}

START_TEST(test_http_tls_untrusted_certificate_is_refused_by_default)
{
    char why[256];
    int rc = tls_get(1, NULL, "127.0.0.1", why, sizeof(why));
    ck_assert_msg(rc == WW_EUNAVAIL, "self-signed, verify on: rc %d (%s), want unavailable", rc,
                  why);
}
END_TEST

START_TEST(test_http_tls_trusted_ca_file_is_accepted)
{
    char why[256];
    int rc = tls_get(1, tls_fake.ca_file, "127.0.0.1", why, sizeof(why));
    ck_assert_msg(rc == WW_OK, "ca_file %s: rc %d (%s), want ok", tls_fake.ca_file, rc, why);
}
END_TEST

START_TEST(test_http_tls_name_mismatch_is_refused)
{
    char why[256];
    /* the certificate names 127.0.0.1 only */
    int rc = tls_get(1, tls_fake.ca_file, "localhost", why, sizeof(why));
    ck_assert_msg(rc == WW_EUNAVAIL, "https://localhost with a 127.0.0.1 cert: rc %d (%s)", rc,
                  why);
}
END_TEST

START_TEST(test_http_tls_verify_off_accepts_any_certificate)
{
    char why[256];
    int rc = tls_get(0, NULL, "127.0.0.1", why, sizeof(why));
    ck_assert_msg(rc == WW_OK, "verify off: rc %d (%s), want ok", rc, why);
}
END_TEST

START_TEST(test_http_escape_keeps_unreserved_only)
{
    char out[64] = "q=";

    ck_assert_int_eq(ww_http_append_escaped(out, sizeof(out), "http://a.b/~x?y=1&z"), WW_OK);
    ck_assert_str_eq(out, "q=http%3A%2F%2Fa.b%2F~x%3Fy%3D1%26z");
    char small[8] = "q=";
    ck_assert_int_eq(ww_http_append_escaped(small, sizeof(small), "/////"), WW_ETOOBIG);
    ck_assert_str_eq(small, "q=");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("fake-server");
    TCase *tu = tcase_create("unit");
    TCase *tt = tcase_create("tls");
    SRunner *sr;
    int failed;

    tcase_add_unchecked_fixture(tc, fake_up, fake_down);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_http_get_sends_identity_headers);
    tcase_add_test(tc, test_http_without_key_sends_no_authorization);
    tcase_add_test(tc, test_http_reuses_connection_between_requests);
    tcase_add_test(tc, test_http_post_json_reaches_server);
    tcase_add_test(tc, test_http_error_status_is_returned_not_hidden);
    tcase_add_test(tc, test_http_does_not_follow_redirects);
    tcase_add_test(tc, test_http_body_over_cap_fails);
    tcase_add_test(tc, test_http_hanging_server_costs_at_most_timeout);
    tcase_add_test(tc, test_http_dripping_server_costs_at_most_timeout);
    tcase_add_test(tc, test_http_tls_to_plain_port_fails);
    tcase_add_test(tu, test_http_refused_connection_is_unavailable);
    tcase_add_test(tu, test_http_only_http_and_https_are_allowed);
    tcase_add_test(tu, test_http_escape_keeps_unreserved_only);
    suite_add_tcase(s, tc);
    tcase_add_unchecked_fixture(tt, tls_fake_up, tls_fake_down);
    tcase_set_timeout(tt, 30);
    tcase_add_test(tt, test_http_tls_untrusted_certificate_is_refused_by_default);
    tcase_add_test(tt, test_http_tls_trusted_ca_file_is_accepted);
    tcase_add_test(tt, test_http_tls_name_mismatch_is_refused);
    tcase_add_test(tt, test_http_tls_verify_off_accepts_any_certificate);
    suite_add_tcase(s, tu);
    suite_add_tcase(s, tt);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
