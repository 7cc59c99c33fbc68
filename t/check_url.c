/* t/check_url.c - unit tests for lib/ww_url.c: canonicalisation, request targets, expressions. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_url.h"

/* Safe Browsing's published canonicalisation vectors, verbatim
 * (https://developers.google.com/safe-browsing/v4/urls-hashing, as copied into
 * github:nlnwa/whatwg-url canon/profiles_test.go). <ours> is set where we deliberately differ:
 * we keep non-default ports in the canonical URL (a CONNECT to :8443 is not one to :443), and
 * Safe Browsing's own form, scheme://host/path without port, must still equal <want>. */
static const struct {
    const char *in, *want, *ours;
} gsb_cases[] = {
    {"http://host/%25%32%35", "http://host/%25", NULL},
    {"http://host/%25%32%35%25%32%35", "http://host/%25%25", NULL},
    {"http://host/%2525252525252525", "http://host/%25", NULL},
    {"http://host/asdf%25%32%35asd", "http://host/asdf%25asd", NULL},
    {"http://host/%%%25%32%35asd%%", "http://host/%25%25%25asd%25%25", NULL},
    {"http://www.google.com/", "http://www.google.com/", NULL},
    {"http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/"
     "%77%77%77%2E%65%62%61%79%2E%63%6F%6D/",
     "http://168.188.99.26/.secure/www.ebay.com/", NULL},
    {"http://195.127.0.11/uploads/%20%20%20%20/.verify/"
     ".eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
     "http://195.127.0.11/uploads/%20%20%20%20/.verify/"
     ".eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
     NULL},
    {"http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%"
     "252B",
     "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+", NULL},
    {"http://3279880203/blah", "http://195.127.0.11/blah", NULL},
    {"http://www.google.com/blah/..", "http://www.google.com/", NULL},
    {"www.google.com/", "http://www.google.com/", NULL},
    {"www.google.com", "http://www.google.com/", NULL},
    {"http://www.evil.com/blah#frag", "http://www.evil.com/blah", NULL},
    {"http://www.GOOgle.com/", "http://www.google.com/", NULL},
    {"http://www.google.com.../", "http://www.google.com/", NULL},
    {"http://www.google.com/foo\tbar\rbaz\n2", "http://www.google.com/foobarbaz2", NULL},
    {"http://www.google.com/q?", "http://www.google.com/q?", NULL},
    {"http://www.google.com/q?r?", "http://www.google.com/q?r?", NULL},
    {"http://www.google.com/q?r?s", "http://www.google.com/q?r?s", NULL},
    {"http://evil.com/foo#bar#baz", "http://evil.com/foo", NULL},
    {"http://evil.com/foo;", "http://evil.com/foo;", NULL},
    {"http://evil.com/foo?bar;", "http://evil.com/foo?bar;", NULL},
    {"http://\x01\x80.com/", "http://%01%80.com/", NULL},
    {"http://notrailingslash.com", "http://notrailingslash.com/", NULL},
    {"http://www.gotaport.com:1234/", "http://www.gotaport.com/", "http://www.gotaport.com:1234/"},
    {"  http://www.google.com/  ", "http://www.google.com/", NULL},
    {"http:// leadingspace.com/", "http://%20leadingspace.com/", NULL},
    {"http://%20leadingspace.com/", "http://%20leadingspace.com/", NULL},
    {"%20leadingspace.com/", "http://%20leadingspace.com/", NULL},
    {"https://www.securesite.com/", "https://www.securesite.com/", NULL},
    {"http://host.com/ab%23cd", "http://host.com/ab%23cd", NULL},
    {"http://host.com//twoslashes?more//slashes", "http://host.com/twoslashes?more//slashes", NULL},
};

START_TEST(test_url_canon_passes_safe_browsing_vectors)
{
    const char *in = gsb_cases[_i].in, *want = gsb_cases[_i].want;
    const char *ours = gsb_cases[_i].ours != NULL ? gsb_cases[_i].ours : want;
    char out[WW_URL_MAX] = "", host[WW_URL_MAX] = "", path[WW_URL_MAX] = "", gsb[3 * WW_URL_MAX];
    int rc = ww_url_canon(in, out, sizeof(out));

    ck_assert_msg(rc == WW_OK && strcmp(out, ours) == 0, "canon(\"%s\") = %d \"%s\", want \"%s\"",
                  in, rc, out, ours);
    ck_assert_int_eq(ww_url_host(out, host, sizeof(host)), WW_OK);
    ck_assert_int_eq(ww_url_path(out, path, sizeof(path)), WW_OK);
    snprintf(gsb, sizeof(gsb), "%.*s://%s%s", (int)(strstr(out, "://") - out), out, host, path);
    ck_assert_msg(strcmp(gsb, want) == 0, "Safe Browsing form of \"%s\" = \"%s\", want \"%s\"", in,
                  gsb, want);
}
END_TEST

/* Our own cases: what Squid and browsers actually send, and attacks on the parser. */
static const struct {
    const char *in, *want;
} own_cases[] = {
    {"HTTP://Example.COM:80/a/./b/../c", "http://example.com/a/c"},
    {"https://h.example:443/%7Euser", "https://h.example/~user"},
    {"HTTPS://WWW.Example.Com/Path/Keeps/Case", "https://www.example.com/Path/Keeps/Case"},
    {"http://example.com:8080/x", "http://example.com:8080/x"},
    {"https://example.com:80/", "https://example.com:80/"},
    {"http://example.com:443/", "http://example.com:443/"},
    {"https://example.com:8443", "https://example.com:8443/"},
    {"http://example.com:/", "http://example.com/"},
    {"http://user:pass@example.com/x", "http://example.com/x"},
    {"http://user@evil.com@good.com/", "http://good.com/"},
    {"http://[::1]:8080/x", "http://[::1]:8080/x"},
    {"http://[2001:DB8::1]/", "http://[2001:db8::1]/"},
    {"http://[2001:0db8:0000:0000:0000:0000:0000:0001]:80/", "http://[2001:db8::1]/"},
    {"https://[::1]:443/", "https://[::1]/"},
    {"http://example.com./", "http://example.com/"},
    {"http://..example..com../", "http://example.com/"},
    {"http://example.com/a/%2e%2e/b", "http://example.com/b"},
    {"http://example.com/a/%2E%2E/%2e/b/", "http://example.com/b/"},
    {"http://example.com/../../x", "http://example.com/x"},
    {"http://example.com/a/.", "http://example.com/a/"},
    {"http://example.com/a//b///c", "http://example.com/a/b/c"},
    {"http://example.com?", "http://example.com/?"},
    {"http://example.com?q=1", "http://example.com/?q=1"},
    {"http://example.com/p?", "http://example.com/p?"},
    {"http://example.com/p?a=%2520b#frag", "http://example.com/p?a=%20b"},
    {"http://example.com/a\x01"
     "b\x7f",
     "http://example.com/a%01b%7F"},
    {"http://example.com/%00x", "http://example.com/%00x"},
    {"http://example.com/caf\xc3\xa9", "http://example.com/caf%C3%A9"},
    {"http://0x7f.1/", "http://127.0.0.1/"},
    {"http://0177.0.0.01/", "http://127.0.0.1/"},
    {"http://10.0x10.258/", "http://10.16.1.2/"},
    {"http://1.2.3.4.5/", "http://1.2.3.4.5/"},
    {"http://256.1.1.1/", "http://256.1.1.1/"},
    {"http://08.1.1.1/", "http://08.1.1.1/"},
    {"http://a%2Fb.com/", "http://a%2Fb.com/"},
    {"http://evil.com%2F@good.com/", "http://good.com/"},
    {"localhost:8080/x", "http://localhost:8080/x"},
    {"ftp://files.example.com:21/pub", "ftp://files.example.com/pub"},
    {"http://host/a%3Fb?c", "http://host/a?b?c"},
    /* Found by t/fuzz_url.c: an escaped '?' after a dot segment. */
    {"f//.%3FF\rF", "http://f/?FF"},
};

START_TEST(test_url_canon_handles_own_cases)
{
    const char *in = own_cases[_i].in, *want = own_cases[_i].want;
    char out[WW_URL_MAX] = "";
    int rc = ww_url_canon(in, out, sizeof(out));

    ck_assert_msg(rc == WW_OK && strcmp(out, want) == 0, "canon(\"%s\") = %d \"%s\", want \"%s\"",
                  in, rc, out, want);
    /* Canonical URLs are fixed points: canonicalising again changes nothing. */
    char again[WW_URL_MAX] = "";
    rc = ww_url_canon(out, again, sizeof(again));
    ck_assert_msg(rc == WW_OK && strcmp(again, out) == 0, "canon(\"%s\") = %d \"%s\", want same",
                  out, rc, again);
}
END_TEST

static const char *const invalid_cases[] = {
    "",
    "   ",
    "\t\r\n",
    "http://",
    "http:///path",
    "http://.../",
    "http://:80/",
    "http://host:abc/",
    "http://host:0/",
    "http://host:65536/",
    "http://host:99999999999999999999/",
    "http://[::1/",
    "http://[::1]x/",
    "http://[nonsense]/",
    "http://[fe80::1%25eth0]/",
    "http:/host/",
    "mailto:someone@example.com",
    "javascript:alert(1)",
    "#only-a-fragment",
    "averyveryveryverylongschemename://host/",
};

START_TEST(test_url_canon_refuses_garbage)
{
    char out[64] = "x";
    int rc = ww_url_canon(invalid_cases[_i], out, sizeof(out));

    ck_assert_msg(rc == WW_EINVAL && out[0] == '\0', "canon(\"%s\") = %d \"%s\", want WW_EINVAL",
                  invalid_cases[_i], rc, out);
}
END_TEST

START_TEST(test_url_canon_refuses_too_long)
{
    size_t n = 3 * WW_URL_MAX;
    char *in = malloc(n + 1), out[WW_URL_MAX];

    ck_assert_ptr_nonnull(in);
    memset(in, 'a', n);
    memcpy(in, "http://h/", 9);
    in[n] = '\0';
    ck_assert_int_eq(ww_url_canon(in, out, sizeof(out)), WW_ETOOBIG);
    /* Under the input cap but over WW_URL_MAX once canonical. */
    in[WW_URL_MAX + 10] = '\0';
    ck_assert_int_eq(ww_url_canon(in, out, sizeof(out)), WW_ETOOBIG);
    ck_assert_str_eq(out, "");
    /* Escaping grows the text: 3000 spaces become 9000 bytes. */
    memset(in + 9, ' ', 3000);
    in[9 + 3000] = 'x';
    in[9 + 3001] = '\0';
    ck_assert_int_eq(ww_url_canon(in, out, sizeof(out)), WW_ETOOBIG);
    free(in);
}
END_TEST

START_TEST(test_url_canon_respects_small_buffer)
{
    char out[16];

    ck_assert_int_eq(ww_url_canon("http://example.com/", out, sizeof(out)), WW_ETOOBIG);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(ww_url_canon("http://a.com/", out, sizeof(out)), WW_OK);
    ck_assert_str_eq(out, "http://a.com/");
    ck_assert_int_eq(ww_url_canon("https://verylongscheme.x:8443/", out, 2), WW_ETOOBIG);
    ck_assert_int_eq(ww_url_canon(NULL, out, sizeof(out)), WW_EINVAL);
}
END_TEST

/* A long run of "%25" must unescape in linear time, to a single "%". */
START_TEST(test_url_canon_unescapes_deep_nesting_fast)
{
    size_t n = WW_URL_MAX;
    char *in = malloc(n + 16), out[WW_URL_MAX];

    ck_assert_ptr_nonnull(in);
    strcpy(in, "http://h/%");
    for (size_t i = strlen(in); i + 2 < n; i += 2)
        memcpy(in + i, "25", 3);
    ck_assert_int_eq(ww_url_canon(in, out, sizeof(out)), WW_OK);
    ck_assert_msg(strcmp(out, "http://h/%25") == 0 || strcmp(out, "http://h/%252") == 0, "got %s",
                  out);
    free(in);
}
END_TEST

static const struct {
    const char *method, *target, *host, *want;
    int rc;
} request_cases[] = {
    {"GET", "http://Example.com/a?b", NULL, "http://example.com/a?b", WW_OK},
    {"GET", "http://example.com:80/a", "ignored.example", "http://example.com/a", WW_OK},
    {"POST", "https://example.com/form", NULL, "https://example.com/form", WW_OK},
    {"GET", "/index.html?x=1", "Example.COM", "http://example.com/index.html?x=1", WW_OK},
    {"GET", "/", "example.com:8080", "http://example.com:8080/", WW_OK},
    {"GET", "/", "[::1]:8080", "http://[::1]:8080/", WW_OK},
    {"CONNECT", "host:443", NULL, "https://host/", WW_OK},
    {"connect", "Host.Example:443", NULL, "https://host.example/", WW_OK},
    {"CONNECT", "host:8443", NULL, "https://host:8443/", WW_OK},
    {"CONNECT", "[::1]:443", NULL, "https://[::1]/", WW_OK},
    {"CONNECT", "[2001:DB8::1]:8443", NULL, "https://[2001:db8::1]:8443/", WW_OK},
    {"CONNECT", "host", NULL, "https://host/", WW_OK},
    {"CONNECT", "host:0", NULL, "", WW_EINVAL},
    {"CONNECT", "host:443/path", NULL, "", WW_EINVAL},
    {"CONNECT", "user@host:443", NULL, "", WW_EINVAL},
    {"CONNECT", "", NULL, "", WW_EINVAL},
    {"GET", "/x", NULL, "", WW_EINVAL},
    {"GET", "/x", "", "", WW_EINVAL},
    {"GET", "/x", "evil.com/y", "", WW_EINVAL},
    {"GET", "/x", "a@b", "", WW_EINVAL},
    {"GET", "/x", "a b", "", WW_EINVAL},
    {"OPTIONS", "*", "h", "", WW_EINVAL},
    {"GET", "example.com/x", NULL, "", WW_EINVAL},
    {"GET", "://x/", NULL, "", WW_EINVAL},
    {"GET", "", "h", "", WW_EINVAL},
};

START_TEST(test_url_from_request_builds_absolute_url)
{
    char out[WW_URL_MAX] = "x";
    int rc = ww_url_from_request(request_cases[_i].method, request_cases[_i].target,
                                 request_cases[_i].host, out, sizeof(out));

    ck_assert_msg(rc == request_cases[_i].rc && strcmp(out, request_cases[_i].want) == 0,
                  "from_request(%s, \"%s\", \"%s\") = %d \"%s\", want %d \"%s\"",
                  request_cases[_i].method, request_cases[_i].target,
                  request_cases[_i].host ? request_cases[_i].host : "(null)", rc, out,
                  request_cases[_i].rc, request_cases[_i].want);
}
END_TEST

START_TEST(test_url_from_request_refuses_null)
{
    char out[64];

    ck_assert_int_eq(ww_url_from_request(NULL, "/", "h", out, sizeof(out)), WW_EINVAL);
    ck_assert_int_eq(ww_url_from_request("GET", NULL, "h", out, sizeof(out)), WW_EINVAL);
    ck_assert_int_eq(ww_url_from_request("GET", "/", "h", NULL, 0), WW_EINVAL);
}
END_TEST

START_TEST(test_url_host_and_path_split_canonical_url)
{
    char host[64], path[64];

    ck_assert_int_eq(ww_url_host("http://a.b.c:8080/1/2?x=y", host, sizeof(host)), WW_OK);
    ck_assert_str_eq(host, "a.b.c");
    ck_assert_int_eq(ww_url_path("http://a.b.c:8080/1/2?x=y", path, sizeof(path)), WW_OK);
    ck_assert_str_eq(path, "/1/2?x=y");
    ck_assert_int_eq(ww_url_host("https://[::1]:8443/", host, sizeof(host)), WW_OK);
    ck_assert_str_eq(host, "[::1]");
    ck_assert_int_eq(ww_url_path("https://[::1]:8443/", path, sizeof(path)), WW_OK);
    ck_assert_str_eq(path, "/");
    ck_assert_int_eq(ww_url_host("http://example.com/", host, 4), WW_ETOOBIG);
    ck_assert_int_eq(ww_url_path("http://example.com/abcdef", path, 4), WW_ETOOBIG);
    ck_assert_int_eq(ww_url_host("example.com/", host, sizeof(host)), WW_EINVAL);
    ck_assert_int_eq(ww_url_host("http://example.com", host, sizeof(host)), WW_EINVAL);
    ck_assert_int_eq(ww_url_path("http:///x", path, sizeof(path)), WW_EINVAL);
    ck_assert_int_eq(ww_url_host(NULL, host, sizeof(host)), WW_EINVAL);
}
END_TEST

struct collected {
    char items[64][128];
    int n, stop_at;
};

static int collect(const char *host, const char *path, void *arg)
{
    struct collected *c = arg;

    if (c->n < 64)
        snprintf(c->items[c->n], sizeof(c->items[0]), "%s%s", host, path);
    c->n++;
    return c->stop_at > 0 && c->n == c->stop_at ? 42 : 0;
}

static void assert_expressions(const char *url, const char *const *want, int nwant)
{
    char canon[WW_URL_MAX];
    struct collected c = {.n = 0};

    ck_assert_int_eq(ww_url_canon(url, canon, sizeof(canon)), WW_OK);
    ck_assert_int_eq(ww_url_each_expression(canon, collect, &c), 0);
    ck_assert_msg(c.n == nwant, "%s: %d expressions, want %d", url, c.n, nwant);
    for (int i = 0; i < nwant; i++) {
        int found = 0;
        for (int j = 0; j < c.n; j++)
            found += strcmp(c.items[j], want[i]) == 0;
        ck_assert_msg(found == 1, "%s: expression \"%s\" seen %d times, want once", url, want[i],
                      found);
    }
    /* Most specific first. */
    ck_assert_str_eq(c.items[0], want[0]);
}

START_TEST(test_url_expressions_match_safe_browsing_examples)
{
    /* Both examples are from the Safe Browsing "Suffix/Prefix Expressions" section. */
    static const char *const abc[] = {
        "a.b.c/1/2.html?param=1", "a.b.c/1/2.html", "a.b.c/", "a.b.c/1/",
        "b.c/1/2.html?param=1",   "b.c/1/2.html",   "b.c/",   "b.c/1/"};
    static const char *const abcdefg[] = {"a.b.c.d.e.f.g/1.html", "a.b.c.d.e.f.g/",
                                          "c.d.e.f.g/1.html",     "c.d.e.f.g/",
                                          "d.e.f.g/1.html",       "d.e.f.g/",
                                          "e.f.g/1.html",         "e.f.g/",
                                          "f.g/1.html",           "f.g/"};
    static const char *const ip[] = {"1.2.3.4/1/", "1.2.3.4/"};
    static const char *const ipv6[] = {"[::1]/a?b", "[::1]/a", "[::1]/"};
    static const char *const deep[] = {"x.com/1/2/3/4/5/6.html", "x.com/1/2/3/", "x.com/1/2/",
                                       "x.com/1/", "x.com/"};

    assert_expressions("http://a.b.c/1/2.html?param=1", abc, 8);
    assert_expressions("http://a.b.c.d.e.f.g/1.html", abcdefg, 10);
    assert_expressions("http://1.2.3.4/1/", ip, 2);
    assert_expressions("http://[::1]:8080/a?b", ipv6, 3);
    assert_expressions("http://x.com/1/2/3/4/5/6.html", deep, 5);
}
END_TEST

START_TEST(test_url_expressions_stop_when_callback_says_so)
{
    struct collected c = {.n = 0, .stop_at = 3};

    ck_assert_int_eq(ww_url_each_expression("http://a.b.c/1/2.html?p=1", collect, &c), 42);
    ck_assert_int_eq(c.n, 3);
    c.n = 0;
    c.stop_at = 0;
    ck_assert_int_eq(ww_url_each_expression("not a url", collect, &c), 0);
    ck_assert_int_eq(c.n, 0);
}
END_TEST

static Suite *url_suite(void)
{
    Suite *s = suite_create("url");
    TCase *tc = tcase_create("canon");

    tcase_add_loop_test(tc, test_url_canon_passes_safe_browsing_vectors, 0,
                        sizeof(gsb_cases) / sizeof(gsb_cases[0]));
    tcase_add_loop_test(tc, test_url_canon_handles_own_cases, 0,
                        sizeof(own_cases) / sizeof(own_cases[0]));
    tcase_add_loop_test(tc, test_url_canon_refuses_garbage, 0,
                        sizeof(invalid_cases) / sizeof(invalid_cases[0]));
    tcase_add_test(tc, test_url_canon_refuses_too_long);
    tcase_add_test(tc, test_url_canon_respects_small_buffer);
    tcase_add_test(tc, test_url_canon_unescapes_deep_nesting_fast);
    suite_add_tcase(s, tc);

    tc = tcase_create("from_request");
    tcase_add_loop_test(tc, test_url_from_request_builds_absolute_url, 0,
                        sizeof(request_cases) / sizeof(request_cases[0]));
    tcase_add_test(tc, test_url_from_request_refuses_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("expressions");
    tcase_add_test(tc, test_url_host_and_path_split_canonical_url);
    tcase_add_test(tc, test_url_expressions_match_safe_browsing_examples);
    tcase_add_test(tc, test_url_expressions_stop_when_callback_says_so);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(url_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
