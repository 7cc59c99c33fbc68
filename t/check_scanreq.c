/* t/check_scanreq.c - one RESPMOD request without c-icap: setup from header values (no body,
 * Content-Encoding lines, a partial response, a resumed download of a blocked URL), the report
 * (access-log attributes, outcome, unscanned reason, range memory) and the block-page fields
 * (escaped when rendered, policy name, threat headers). EICAR is built from hex at run time. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ww_child.h"
#include "ww_common.h"
#include "ww_conf.h"
#include "ww_html.h"
#include "ww_log.h"
#include "ww_scanreq.h"
#include "ww_store.h"

static const char eicar_hex[] =
    "58354f2150254041505b345c505a58353428505e2937434329377d24"
    "45494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a";
#define EICAR_LEN 68

static char dir[64];
static struct ww_conf *conf;
static struct ww_child *rt;
static struct ww_scanreq_env env;
static char logged[2048]; /* the last log line */

static void log_sink(int level, const char *line)
{
    (void)level;
    snprintf(logged, sizeof(logged), "%s", line);
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    ck_assert_msg(fp != NULL, "cannot write %s", path);
    fputs(text, fp);
    fclose(fp);
}

static void setup(void)
{
    char path[128], text[512], err[WW_ERRLEN] = "";
    struct ww_store *st = NULL;

    snprintf(dir, sizeof(dir), "/tmp/ww_scanreq_XXXXXX");
    ck_assert(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/pat", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/pat/test.ndb", dir);
    snprintf(text, sizeof(text), "Eicar-Test-Signature:0:*:%s\n", eicar_hex);
    write_text(path, text);
    snprintf(path, sizeof(path), "%s/webwarden.conf", dir);
    snprintf(text, sizeof(text),
             "[state]\ndatabase = %s/state.db\n[scan]\npatterns_dir = %s/pat\ntmp_dir = %s\n"
             "[policy kids]\nmatch = client 10.0.0.0/8\nmax_size = 1000\n",
             dir, dir, dir);
    write_text(path, text);
    ck_assert_msg(ww_conf_load(path, &conf, err, sizeof(err)) == WW_OK, "%s", err);
    ck_assert_msg(ww_store_open(conf->state.database, WW_STORE_MIGRATE, &st, err, sizeof(err)) ==
                      WW_OK,
                  "%s", err);
    ww_store_close(st);
    ck_assert_msg(ww_child_create(conf, "t", WW_CHILD_PATTERNS, NULL, &rt, err, sizeof(err)) ==
                      WW_OK,
                  "%s", err);
    ww_child_start(rt, 0);
    env = (struct ww_scanreq_env){.svc = "webwarden_scan", .conf = conf, .rt = rt};
    ww_log_set_sink(log_sink, WW_LOG_DEBUG);
    logged[0] = '\0';
}

static void teardown(void)
{
    char cmd[128];

    ww_log_set_sink(NULL, WW_LOG_ERR);
    ww_child_free(rt); /* setup makes both anew */
    ww_conf_free(conf);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* The value of attribute <name> in <rep>, NULL when it was not reported. */
static const char *attr(const struct ww_scanreq_report *rep, const char *name)
{
    for (size_t i = 0; i < rep->nattrs; i++)
        if (strcmp(rep->attrs[i].name, name) == 0)
            return rep->attrs[i].value != NULL ? rep->attrs[i].value : "";
    return NULL;
}

static void eicar_fill(unsigned char *out)
{
    for (size_t i = 0; i < EICAR_LEN; i++) {
        unsigned int v;
        sscanf(eicar_hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
}

/* A 200 response with a body of <len> bytes and the given extra headers. */
static struct ww_scanreq_headers headers(int64_t len)
{
    return (struct ww_scanreq_headers){
        .status_line = "HTTP/1.1 200 OK", .content_length = len, .has_body = 1, .allow204 = 1};
}

/* The tail of a 1000-byte object: 206 with Content-Range. */
static struct ww_scanreq_headers part_headers(void)
{
    struct ww_scanreq_headers h = headers(5);

    h.status_line = "HTTP/1.1 206 Partial Content";
    h.content_range = "bytes 100-104/1000";
    return h;
}

/* Starts <sq> with <h>, feeds it "hello", ends it (nothing found) and reports it in <rep>. */
static void run_hello(struct ww_scanreq *sq, const struct ww_scanreq_headers *h,
                      struct ww_scanreq_report *rep)
{
    ck_assert_int_eq(ww_scanreq_start(sq, &env, NULL, h), WW_BODY_MORE);
    ck_assert_int_eq(ww_body_put(ww_scanreq_body(sq), "hello", 5), WW_BODY_MORE);
    ck_assert_int_eq(ww_scanreq_end(sq, 0), WW_BODY_CLEAN);
    ww_scanreq_report(sq, WW_BODY_CLEAN, rep);
}

START_TEST(test_scanreq_no_body_is_allowed_uncounted)
{
    struct ww_scanreq *sq = ww_scanreq_create("http://a.example/empty");
    struct ww_scanreq_headers h = headers(-1);
    struct ww_scanreq_report rep;

    h.has_body = 0;
    ck_assert_int_eq(ww_scanreq_start(sq, &env, NULL, &h), WW_BODY_CLEAN);
    ck_assert_ptr_null(ww_scanreq_body(sq));
    ww_scanreq_report(sq, WW_BODY_CLEAN, &rep);
    ck_assert_int_eq(rep.outcome, WW_SCANREQ_NO_BODY);
    ck_assert_str_eq(attr(&rep, "webwarden:action"), "allow");
    ck_assert_str_eq(attr(&rep, "webwarden:url"), "http://a.example/empty");
    ck_assert_str_eq(attr(&rep, "webwarden:size"), "0");
    ck_assert_str_eq(attr(&rep, "webwarden:type"), "-");
    ck_assert_ptr_null(attr(&rep, "webwarden:reason"));
    ww_scanreq_free(sq);
}
END_TEST

START_TEST(test_scanreq_clean_body_reports_allow)
{
    struct ww_scanreq *sq = ww_scanreq_create("http://a.example/clean.txt");
    struct ww_scanreq_headers h = headers(5);
    struct ww_scanreq_report rep;

    run_hello(sq, &h, &rep);
    ck_assert_int_eq(rep.outcome, WW_SCANREQ_CLEAN);
    ck_assert_str_eq(attr(&rep, "webwarden:action"), "allow");
    ck_assert_str_eq(attr(&rep, "webwarden:reason"), "-");
    ck_assert_str_eq(attr(&rep, "webwarden:threat"), "-");
    ck_assert_str_eq(attr(&rep, "webwarden:size"), "5");
    ck_assert_str_eq(attr(&rep, "webwarden:smart"), "off"); /* the hook ran, no server */
    ck_assert_int_eq(ww_child_range_lookup(rt, "http://a.example/clean.txt", NULL), 0);
    ww_scanreq_free(sq);
}
END_TEST

/* A detection: block page fields escaped when rendered, the policy named, the URL remembered
 * against a resumed download, the threat headers, the BLOCKED log line with the URL. */
START_TEST(test_scanreq_block_reports_and_fills_the_page)
{
    static const char url[] = "http://a.example/x.exe?<script>alert(1)</script>";
    struct ww_scanreq *sq = ww_scanreq_create(url);
    struct ww_scanreq_headers h = headers(EICAR_LEN);
    const struct ww_policy *kids = NULL;
    struct ww_scanreq_report rep;
    struct ww_scanreq_page pg;
    unsigned char body[EICAR_LEN];
    char *html = NULL;
    size_t len = 0;
    int d;

    kids = ww_policies_find(conf->policy_set, "kids");
    ck_assert_ptr_nonnull(kids);
    eicar_fill(body);
    ck_assert_int_eq(ww_scanreq_start(sq, &env, kids, &h), WW_BODY_MORE);
    d = ww_body_put(ww_scanreq_body(sq), body, sizeof(body));
    if (d == WW_BODY_MORE)
        d = ww_scanreq_end(sq, 0);
    ck_assert_int_eq(d, WW_BODY_BLOCK);
    ww_scanreq_report(sq, d, &rep);
    ck_assert_int_eq(rep.outcome, WW_SCANREQ_BLOCKED);
    ck_assert_str_eq(attr(&rep, "webwarden:action"), "block");
    ck_assert_str_eq(attr(&rep, "webwarden:threat"), "Eicar-Test-Signature");
    ck_assert_str_eq(attr(&rep, "webwarden:url"), url);
    ck_assert_msg(strstr(logged, "BLOCKED http://a.example/x.exe") != NULL, "log: %s", logged);
    ck_assert_int_eq(ww_child_range_lookup(rt, url, NULL), 1);

    ww_scanreq_page(sq, "webwarden_scan", "2026-12-03 23:00:00 UTC", &pg);
    ck_assert_str_eq(pg.infection,
                     "X-Infection-Found: Type=0; Resolution=2; Threat=Eicar-Test-Signature;");
    ck_assert_str_eq(pg.virus_id, "X-Virus-ID: Eicar-Test-Signature");
    ck_assert_int_eq(ww_page_render("{{title}}|{{url}}|{{threat}}|{{policy}}|{{service}}", pg.vars,
                                    WW_SCANREQ_PAGE_VARS, &html, &len),
                     WW_OK);
    ck_assert_msg(strcmp(html, "Malware blocked|http://a.example/x.exe?&lt;script&gt;alert(1)&lt;"
                               "/script&gt;|Eicar-Test-Signature|kids|webwarden_scan") == 0,
                  "page: %s", html);
    free(html);
    ww_scanreq_free(sq);
}
END_TEST

/* A part (206) of a URL never cut: scanned, nothing found, but reported unscanned. Once the URL
 * was cut, a part of it is refused before any byte, with the resumed-download threat. */
START_TEST(test_scanreq_partial_response_unscanned_then_refused_once_cut)
{
    struct ww_scanreq *sq = ww_scanreq_create("http://a.example/cut.bin");
    struct ww_scanreq_headers h = part_headers();
    struct ww_scanreq_report rep;
    struct ww_scanreq_page pg;

    run_hello(sq, &h, &rep);
    ck_assert_int_eq(rep.outcome, WW_SCANREQ_UNSCANNED);
    ck_assert_str_eq(attr(&rep, "webwarden:action"), "unscanned");
    ck_assert_str_eq(attr(&rep, "webwarden:reason"), "partial content");
    ck_assert_msg(strstr(logged, "UNSCANNED http://a.example/cut.bin") != NULL, "log: %s", logged);
    ww_scanreq_free(sq);
    sq = ww_scanreq_create("http://a.example/cut.bin");
    ww_child_range_remember(rt, "http://a.example/cut.bin", "Eicar", "\"e1\"", NULL);
    h.etag = "\"e2\""; /* another validator unblocks nothing */
    ck_assert_int_eq(ww_scanreq_start(sq, &env, NULL, &h), WW_BODY_BLOCK);
    ww_scanreq_report(sq, WW_BODY_BLOCK, &rep);
    ck_assert_int_eq(rep.outcome, WW_SCANREQ_BLOCKED);
    ck_assert_str_eq(attr(&rep, "webwarden:threat"), WW_THREAT_RESUMED);
    ck_assert_msg(strstr(attr(&rep, "webwarden:reason"), "resumed download of a blocked file"),
                  "reason: %s", attr(&rep, "webwarden:reason"));
    ww_scanreq_page(sq, "webwarden_scan", "now", &pg);
    ck_assert_str_eq(pg.vars[0].value, "Download blocked"); /* a policy, not malware */
    ck_assert_str_eq(pg.vars[8].value, "default");
    ww_scanreq_free(sq);
}
END_TEST

/* scan.partial_action = block (issue 12): a part of an object never cut is refused before any
 * byte (a resume under another URL cannot complete a cut file), reported as a policy block, and
 * not remembered as cut; a whole response still passes. */
START_TEST(test_scanreq_partial_action_block_refuses_any_part)
{
    struct ww_scanreq *sq = ww_scanreq_create("http://a.example/other.bin?resume=1");
    struct ww_scanreq_headers h = part_headers();
    struct ww_scanreq_report rep;

    conf->scan.partial_action = WW_ACTION_BLOCK;
    ck_assert_int_eq(ww_scanreq_start(sq, &env, NULL, &h), WW_BODY_BLOCK);
    ww_scanreq_report(sq, WW_BODY_BLOCK, &rep);
    ck_assert_int_eq(rep.outcome, WW_SCANREQ_BLOCKED);
    ck_assert_str_eq(attr(&rep, "webwarden:threat"), WW_THREAT_PARTIAL);
    ck_assert_msg(strstr(attr(&rep, "webwarden:reason"), "partial content") != NULL, "reason: %s",
                  attr(&rep, "webwarden:reason"));
    ck_assert_msg(strstr(logged, "scan.partial_action") != NULL, "log: %s", logged);
    ck_assert_int_eq(ww_child_range_lookup(rt, "http://a.example/other.bin?resume=1", NULL), 0);
    ww_scanreq_free(sq);
    sq = ww_scanreq_create("http://a.example/whole.bin");
    h = headers(5);
    run_hello(sq, &h, &rep);
    ck_assert_int_eq(rep.outcome, WW_SCANREQ_CLEAN);
    ww_scanreq_free(sq);
}
END_TEST

/* Eight Content-Encoding lines are read; a ninth might hide a coding: not decodable. */
START_TEST(test_scanreq_too_many_coding_lines_are_not_decodable)
{
    const char *eight[] = {"identity", "identity", "identity", "identity", "identity",
                           "identity", "identity", "identity", "identity"};
    struct ww_scanreq *sq = ww_scanreq_create("http://a.example/enc");
    struct ww_scanreq_headers h = headers(5);

    h.codings = eight;
    h.ncodings = 8;
    ck_assert_int_eq(ww_scanreq_start(sq, &env, NULL, &h), WW_BODY_MORE);
    ww_scanreq_free(sq);
    sq = ww_scanreq_create("http://a.example/enc");
    h.ncodings = 9;
    ck_assert_int_eq(ww_scanreq_start(sq, &env, NULL, &h), WW_BODY_BLOCK); /* default: block */
    ck_assert_msg(strstr(ww_body_detail(ww_scanreq_body(sq)), WW_SCANREQ_TOO_MANY_CODINGS) != NULL,
                  "detail: %s", ww_body_detail(ww_scanreq_body(sq)));
    ww_scanreq_free(sq);
}
END_TEST

/* hold_all=on from the service's arguments with Allow: 204: the answer is 204 or the page. */
START_TEST(test_scanreq_hold_all_with_204_drops)
{
    struct ww_scanreq *sq = ww_scanreq_create("http://a.example/drop");
    struct ww_scanreq_headers h = headers(5);

    h.args = "hold_all=on";
    ck_assert_int_eq(ww_scanreq_start(sq, &env, NULL, &h), WW_BODY_MORE);
    ck_assert_int_eq(ww_scanreq_drop(sq), 1);
    ww_scanreq_free(sq);
    sq = ww_scanreq_create("http://a.example/drop");
    h.allow204 = 0;
    ck_assert_int_eq(ww_scanreq_start(sq, &env, NULL, &h), WW_BODY_MORE);
    ck_assert_int_eq(ww_scanreq_drop(sq), 0);
    ww_scanreq_free(sq);
}
END_TEST

/* Without hold_all, Allow: 204 drops a body whose declared length is at most scan.hold_204_max
 * (64K by default: what Squid keeps whole), and only that. */
START_TEST(test_scanreq_allow204_drops_up_to_hold_204_max)
{
    static const struct {
        int64_t len;
        int allow204, drop;
    } cases[] = {{5, 1, 1}, {65536, 1, 1}, {65537, 1, 0}, {-1, 1, 0}, {5, 0, 0}, {65536, 0, 0}};

    ck_assert_int_eq(conf->scan.hold_204_max, 65536);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ww_scanreq *sq = ww_scanreq_create("http://a.example/drop");
        struct ww_scanreq_headers h = headers(cases[i].len);

        h.allow204 = cases[i].allow204;
        ck_assert_int_eq(ww_scanreq_start(sq, &env, NULL, &h), WW_BODY_MORE);
        ck_assert_msg(ww_scanreq_drop(sq) == cases[i].drop, "case %zu", i);
        ww_scanreq_free(sq);
    }
}
END_TEST

/* The policy's max_size applies: a longer body is over it (scan.oversize_action, default allow:
 * the rest passes unscanned, reported so with the reason). */
START_TEST(test_scanreq_policy_max_size_applies)
{
    struct ww_scanreq *sq = ww_scanreq_create("http://a.example/big");
    struct ww_scanreq_headers h = headers(-1);
    const struct ww_policy *kids = NULL;
    struct ww_scanreq_report rep;
    static char big[4096];
    int d;

    kids = ww_policies_find(conf->policy_set, "kids");
    ck_assert_ptr_nonnull(kids);
    memset(big, 'a', sizeof(big));
    ck_assert_int_eq(ww_scanreq_start(sq, &env, kids, &h), WW_BODY_MORE);
    d = ww_body_put(ww_scanreq_body(sq), big, sizeof(big));
    ck_assert_msg(d == WW_BODY_UNSCANNED || d == WW_BODY_BLOCK, "decision %d", d);
    ww_scanreq_report(sq, d, &rep);
    ck_assert_msg(strstr(attr(&rep, "webwarden:reason"), "max_size") != NULL ||
                      strstr(attr(&rep, "webwarden:reason"), "over") != NULL,
                  "reason: %s", attr(&rep, "webwarden:reason"));
    ww_scanreq_free(sq);
}
END_TEST

static Suite *scanreq_suite(void)
{
    Suite *s = suite_create("scanreq");
    TCase *tc = tcase_create("request");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_scanreq_no_body_is_allowed_uncounted);
    tcase_add_test(tc, test_scanreq_clean_body_reports_allow);
    tcase_add_test(tc, test_scanreq_block_reports_and_fills_the_page);
    tcase_add_test(tc, test_scanreq_partial_response_unscanned_then_refused_once_cut);
    tcase_add_test(tc, test_scanreq_partial_action_block_refuses_any_part);
    tcase_add_test(tc, test_scanreq_too_many_coding_lines_are_not_decodable);
    tcase_add_test(tc, test_scanreq_hold_all_with_204_drops);
    tcase_add_test(tc, test_scanreq_allow204_drops_up_to_hold_204_max);
    tcase_add_test(tc, test_scanreq_policy_max_size_applies);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(scanreq_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
