/* t/check_status.c - the status model (lib/ww_status): the reputation.state row codec, the
 * problem rules over hand-made facts, and a read of a fresh state database. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_status.h"
#include "ww_store.h"

START_TEST(test_status_rep_state_row_round_trips)
{
    struct ww_rep_state_row in, out;
    char val[512];

    memset(&in, 0, sizeof(in));
    in.state = WW_REP_STATE_BACKOFF;
    in.at = 1764800000;
    in.last_ok = 1764790000;
    in.last_fail = 1764799999;
    snprintf(in.error, sizeof(in.error), "timeout \"quoted\"");
    ck_assert_int_eq(ww_status_rep_state_encode(&in, val, sizeof(val)), WW_OK);
    ck_assert_int_eq(ww_status_rep_state_decode(val, &out), WW_OK);
    ck_assert_msg(out.state == in.state && out.at == in.at && out.last_ok == in.last_ok &&
                      out.last_fail == in.last_fail && strcmp(out.error, in.error) == 0,
                  "round trip of %s", val);
    ck_assert_int_eq(ww_status_rep_state_encode(&in, val, 20), WW_ETOOBIG);
}
END_TEST

static const char *const bad_rows[] = {
    "",
    "not json",
    "{\"state\": \"ok\"}",
    "{\"state\": \"sleeping\", \"at\": 1, \"last_ok\": 1, \"last_fail\": 0}",
    "{\"state\": \"ok\", \"at\": \"1\", \"last_ok\": 1, \"last_fail\": 0}",
    "{\"state\": \"ok\", \"state\": \"ok\", \"at\": 1, \"last_ok\": 1, \"last_fail\": 0}",
};

START_TEST(test_status_rep_state_bad_row_is_refused)
{
    struct ww_rep_state_row row;

    ck_assert_msg(ww_status_rep_state_decode(bad_rows[_i], &row) == WW_EPROTO,
                  "decode(\"%s\") accepted", bad_rows[_i]);
}
END_TEST

/* Facts of a healthy installation: daemon running, patterns, servers ok. */
static void healthy(struct ww_conf *conf, struct ww_status *s)
{
    memset(conf, 0, sizeof(*conf));
    conf->smart_scan.server = "";
    memset(s, 0, sizeof(*s));
    s->daemon_pid = 1234;
    s->scan.method = WW_SCAN_CONVENTIONAL;
    for (int i = 0; i < WW_STATUS_SERVERS; i++) {
        s->servers[i].name = "x";
        s->servers[i].state = "ok";
    }
    s->lstate.phase = WW_LICENSE_NONE;
}

START_TEST(test_status_problems_healthy_has_none)
{
    struct ww_conf conf;
    struct ww_status s;

    healthy(&conf, &s);
    ww_status_problems(&conf, 1000, &s);
    ck_assert_msg(s.nproblems == 0, "problem: %s", s.problems[0]);
}
END_TEST

START_TEST(test_status_problems_name_each_fault_in_order)
{
    struct ww_conf conf;
    struct ww_status s;

    healthy(&conf, &s);
    s.daemon_pid = 0;
    s.no_patterns = 1;
    conf.scan.no_patterns_action = WW_ACTION_ALLOW;
    conf.smart_scan.server = "http://sps.example";
    s.scan.changed_at = 1000 - 300;
    snprintf(s.scan.reason, sizeof(s.scan.reason), "3 failed checks");
    snprintf(s.scan.changed_by, sizeof(s.scan.changed_by), "webwardend");
    s.servers[0].name = "reputation";
    s.servers[0].state = "backoff";
    snprintf(s.servers[0].detail, sizeof(s.servers[0].detail), "last failure (timeout)");
    s.dropped = 7;
    s.lstate.phase = WW_LICENSE_GRACE;
    snprintf(s.lic_desc, sizeof(s.lic_desc), "expired, 3 grace days left");
    ww_status_problems(&conf, 1000, &s);
    ck_assert_int_eq(s.nproblems, 6);
    ck_assert_msg(strstr(s.problems[0], "webwardend is not running") == s.problems[0], "%s",
                  s.problems[0]);
    ck_assert_msg(strstr(s.problems[1], "no malware patterns: webwarden_scan passes") ==
                      s.problems[1],
                  "%s", s.problems[1]);
    ck_assert_msg(strstr(s.problems[2], "smart scan is off since 5 minutes (3 failed checks, by "
                                        "webwardend)") == s.problems[2],
                  "%s", s.problems[2]);
    ck_assert_str_eq(s.problems[3], "reputation server backoff: last failure (timeout)");
    ck_assert_msg(strstr(s.problems[4], "7 feedback events were dropped") == s.problems[4], "%s",
                  s.problems[4]);
    ck_assert_str_eq(s.problems[5], "license expired, 3 grace days left");

    /* The rules replace, never append: a fixed fault goes away. */
    s.daemon_pid = 99;
    s.no_patterns = 0;
    ww_status_problems(&conf, 1000, &s);
    ck_assert_int_eq(s.nproblems, 4);
}
END_TEST

START_TEST(test_status_problems_unloadable_patterns_dir_is_named)
{
    struct ww_conf conf;
    struct ww_status s;

    healthy(&conf, &s);
    snprintf(s.patterns_error, sizeof(s.patterns_error), "/x/patterns: No such file or directory");
    ww_status_problems(&conf, 1000, &s);
    ck_assert_int_eq(s.nproblems, 1);
    ck_assert_str_eq(s.problems[0], "scan.patterns_dir does not load (webwarden_scan cannot "
                                    "start): /x/patterns: No such file or directory");
}
END_TEST

START_TEST(test_status_problems_no_patterns_block_says_blocks)
{
    struct ww_conf conf;
    struct ww_status s;

    healthy(&conf, &s);
    s.no_patterns = 1;
    conf.scan.no_patterns_action = WW_ACTION_BLOCK;
    ww_status_problems(&conf, 1000, &s);
    ck_assert_int_eq(s.nproblems, 1);
    ck_assert_msg(strstr(s.problems[0], "webwarden_scan blocks every response") != NULL, "%s",
                  s.problems[0]);
}
END_TEST

/* A fresh database and an empty patterns folder: not healthy, and the no-patterns problem is
 * there; a signature file in the folder takes it away. */
START_TEST(test_status_read_fresh_install_without_patterns)
{
    char dir[64] = "/tmp/ww_status_XXXXXX", conf_path[128], pat[128], text[512], cmd[128];
    char err[WW_ERRLEN] = "";
    struct ww_conf *conf = NULL;
    struct ww_store *st = NULL;
    struct ww_status *s = malloc(sizeof(*s));
    FILE *fp;

    ck_assert(s != NULL && mkdtemp(dir) != NULL);
    snprintf(pat, sizeof(pat), "%s/patterns", dir);
    ck_assert_int_eq(mkdir(pat, 0700), 0);
    snprintf(conf_path, sizeof(conf_path), "%s/webwarden.conf", dir);
    snprintf(text, sizeof(text), "[state]\ndatabase = %s/state.db\n[scan]\npatterns_dir = %s\n",
             dir, pat);
    fp = fopen(conf_path, "w");
    ck_assert(fp != NULL);
    fputs(text, fp);
    fclose(fp);
    ck_assert_int_eq(ww_conf_load(conf_path, &conf, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_store_open(conf->state.database, WW_STORE_MIGRATE, &st, err, sizeof(err)),
                     WW_OK);
    ck_assert_msg(ww_status_read(st, conf, time(NULL), s, err, sizeof(err)) == WW_OK, "%s", err);
    ck_assert(s->no_patterns);
    ck_assert_msg(s->nproblems >= 2 && strstr(s->problems[1], "no malware patterns") != NULL,
                  "problems %d: %s", s->nproblems, s->nproblems > 1 ? s->problems[1] : "");
    ck_assert_str_eq(s->servers[0].name, "reputation");
    ck_assert_str_eq(s->servers[0].state, "not configured");

    snprintf(text, sizeof(text), "%s/test.hdb", pat);
    fp = fopen(text, "w");
    ck_assert(fp != NULL);
    fputs("44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n", fp);
    fclose(fp);
    ck_assert_int_eq(ww_status_read(st, conf, time(NULL), s, err, sizeof(err)), WW_OK);
    ck_assert(!s->no_patterns);
    for (int i = 0; i < s->nproblems; i++)
        ck_assert_msg(strstr(s->problems[i], "patterns") == NULL, "%s", s->problems[i]);

    ww_store_close(st);
    ww_conf_free(conf);
    free(s);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *status_suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("rep_state");

    tcase_add_test(tc, test_status_rep_state_row_round_trips);
    tcase_add_loop_test(tc, test_status_rep_state_bad_row_is_refused, 0,
                        (int)(sizeof(bad_rows) / sizeof(bad_rows[0])));
    suite_add_tcase(s, tc);
    tc = tcase_create("problems");
    tcase_add_test(tc, test_status_problems_healthy_has_none);
    tcase_add_test(tc, test_status_problems_name_each_fault_in_order);
    tcase_add_test(tc, test_status_problems_no_patterns_block_says_blocks);
    tcase_add_test(tc, test_status_problems_unloadable_patterns_dir_is_named);
    suite_add_tcase(s, tc);
    tc = tcase_create("read");
    tcase_add_test(tc, test_status_read_fresh_install_without_patterns);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(status_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
