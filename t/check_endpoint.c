/* t/check_endpoint.c - the five cloud servers' endpoints built from a config file: each section's
 * server, timeout, key and TLS settings, [reputation]'s TLS keys as the default of the others,
 * and base URLs joined with paths. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_endpoint.h"

/* Loads <text> as a config file; the caller frees it. */
static struct ww_conf *load_text(const char *text)
{
    char path[] = "/tmp/ww-epconf-XXXXXX", err[WW_ERRLEN] = "";
    struct ww_conf *conf = NULL;
    int fd = mkstemp(path), rc;
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;

    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
    rc = ww_conf_load(path, &conf, err, sizeof(err));
    unlink(path);
    ck_assert_msg(rc == WW_OK, "config: %s", err);
    return conf;
}

static const char every_server[] = "[reputation]\n"
                                   "server = http://rep.test/\n"
                                   "api_key = k-rep\n"
                                   "timeout_ms = 111\n"
                                   "tls_verify = off\n"
                                   "ca_file = /etc/rep-ca.pem\n"
                                   "[smart_scan]\n"
                                   "server = https://sps.test//\n"
                                   "api_key = k-sps\n"
                                   "timeout_ms = 222\n"
                                   "[feedback]\n"
                                   "server = https://fb.test/base\n"
                                   "api_key = k-fb\n"
                                   "timeout_ms = 333\n"
                                   "tls_verify = on\n"
                                   "[update]\n"
                                   "server = https://up.test\n"
                                   "api_key = k-up\n"
                                   "timeout_s = 44\n"
                                   "ca_file = /etc/up-ca.pem\n"
                                   "[license]\n"
                                   "server = https://lic.test/\n"
                                   "api_key = k-lic\n"
                                   "timeout_ms = 555\n"
                                   "tls_verify = on\n"
                                   "ca_file =\n";

static const struct {
    enum ww_server which;
    const char *section, *server, *api_key;
    size_t server_len;
    int timeout_ms, tls_verify;
    const char *ca_file;
} server_cases[] = {
    {WW_SERVER_REPUTATION, "reputation", "http://rep.test/", "k-rep", 15, 111, 0,
     "/etc/rep-ca.pem"},
    /* sets no TLS key: both are [reputation]'s */
    {WW_SERVER_SMART_SCAN, "smart_scan", "https://sps.test//", "k-sps", 16, 222, 0,
     "/etc/rep-ca.pem"},
    /* its own tls_verify, [reputation]'s ca_file */
    {WW_SERVER_FEEDBACK, "feedback", "https://fb.test/base", "k-fb", 20, 333, 1, "/etc/rep-ca.pem"},
    /* [update] counts seconds; its own ca_file, [reputation]'s tls_verify */
    {WW_SERVER_UPDATE, "update", "https://up.test", "k-up", 15, 44000, 0, "/etc/up-ca.pem"},
    /* an explicit empty ca_file: the system store, not [reputation]'s file */
    {WW_SERVER_LICENSE, "license", "https://lic.test/", "k-lic", 16, 555, 1, ""},
};

START_TEST(test_endpoint_takes_each_section_and_reputation_tls_as_default)
{
    struct ww_conf *conf = load_text(every_server);
    struct ww_endpoint ep;

    ww_endpoint_init(&ep, conf, server_cases[_i].which, "app-1");
    ck_assert_str_eq(ep.section, server_cases[_i].section);
    ck_assert_str_eq(ep.server, server_cases[_i].server);
    ck_assert_uint_eq(ep.server_len, server_cases[_i].server_len);
    ck_assert_int_eq(ww_endpoint_configured(&ep), 1);
    ck_assert_str_eq(ep.http.api_key, server_cases[_i].api_key);
    ck_assert_str_eq(ep.http.appliance_id, "app-1");
    ck_assert_int_eq(ep.http.timeout_ms, server_cases[_i].timeout_ms);
    ck_assert_msg(ep.http.tls_verify == server_cases[_i].tls_verify, "%s: tls_verify %d, want %d",
                  ep.section, ep.http.tls_verify, server_cases[_i].tls_verify);
    ck_assert_msg(strcmp(ep.http.ca_file, server_cases[_i].ca_file) == 0,
                  "%s: ca_file \"%s\", want \"%s\"", ep.section, ep.http.ca_file,
                  server_cases[_i].ca_file);
    ww_conf_free(conf);
}
END_TEST

START_TEST(test_endpoint_defaults_without_servers)
{
    struct ww_conf *conf = load_text("# nothing set\n");
    struct ww_endpoint ep;

    for (int w = 0; w < WW_SERVER_COUNT; w++) {
        ww_endpoint_init(&ep, conf, (enum ww_server)w, NULL);
        ck_assert_msg(!ww_endpoint_configured(&ep), "%s: configured without a server", ep.section);
        ck_assert_str_eq(ep.server, "");
        ck_assert_int_eq(ep.http.tls_verify, 1);
        ck_assert_str_eq(ep.http.ca_file, "");
        ck_assert_int_gt(ep.http.timeout_ms, 0);
    }
    ww_conf_free(conf);
}
END_TEST

START_TEST(test_endpoint_join_trims_slashes_and_refuses_overflow)
{
    char out[32];

    ck_assert_uint_eq(ww_endpoint_base_len("http://a.test///"), 13);
    ck_assert_uint_eq(ww_endpoint_base_len(""), 0);
    ck_assert_uint_eq(ww_endpoint_base_len(NULL), 0);
    ck_assert_int_eq(ww_endpoint_join("http://a.test//", "/v1/health", out, sizeof(out)), WW_OK);
    ck_assert_str_eq(out, "http://a.test/v1/health");
    ck_assert_int_eq(ww_endpoint_join("http://a.test/p", "/v1/x", out, sizeof(out)), WW_OK);
    ck_assert_str_eq(out, "http://a.test/p/v1/x");
    ck_assert_int_eq(
        ww_endpoint_join("http://a-long-host-name.test", "/v1/feedback", out, sizeof(out)),
        WW_ETOOBIG);
    ck_assert_str_eq(out, "");
}
END_TEST

static Suite *endpoint_suite(void)
{
    Suite *s = suite_create("endpoint");
    TCase *tc = tcase_create("config");

    tcase_add_loop_test(tc, test_endpoint_takes_each_section_and_reputation_tls_as_default, 0,
                        sizeof(server_cases) / sizeof(server_cases[0]));
    tcase_add_test(tc, test_endpoint_defaults_without_servers);
    suite_add_tcase(s, tc);
    tc = tcase_create("url");
    tcase_add_test(tc, test_endpoint_join_trims_slashes_and_refuses_overflow);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(endpoint_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
