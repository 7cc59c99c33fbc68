/* t/check_urlcheck.c - the URL decision (lib/ww_urlcheck): a corpus of URLs through the lists,
 * the local URL database, the cache, the fake reputation server and the policy, each with the
 * path that decided it; urldb hot reload and the reputation.state row from the tick. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rep_testlib.h"
#include "ww_common.h"
#include "ww_conf.h"
#include "ww_policy.h"
#include "ww_status.h"
#include "ww_store.h"
#include "ww_urlcheck.h"

static struct fake_wrs fake;
static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
    char path[256];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fp = fopen(path, "w");
    ck_assert_msg(fp != NULL, "cannot write %s", path);
    fputs(text, fp);
    fclose(fp);
}

/* A webwarden.conf in tmpdir naming the lists, the urldb and <server> (may be ""), plus <extra>
 * lines at the end of [reputation]. Caller frees with ww_conf_free(). */
static struct ww_conf *make_conf(const char *server, const char *extra)
{
    char text[2048], path[256], err[WW_ERRLEN] = "";
    struct ww_conf *conf = NULL;
    int rc;

    snprintf(text, sizeof(text),
             "[state]\ndatabase = %s/state.db\n"
             "[lists]\napproved = %s/approved.txt\nblocked = %s/blocked.txt\n"
             "[urldb]\nfile = %s/urldb.txt\n"
             "[reputation]\nserver = %s\ntimeout_ms = 400\nblocked_categories = gambling\n%s\n",
             tmpdir, tmpdir, tmpdir, tmpdir, server, extra);
    write_file("webwarden.conf", text);
    snprintf(path, sizeof(path), "%s/webwarden.conf", tmpdir);
    rc = ww_conf_load(path, &conf, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "conf: %d %s", rc, err);
    return conf;
}

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ww_urlcheck_XXXXXX");
    ck_assert(mkdtemp(tmpdir) != NULL);
    write_file("approved.txt", "good.example\nboth.example\nexample.org/ok/\n");
    write_file("blocked.txt", "blocked.example\nboth.example\nexample.org/ads/\n");
    write_file("urldb.txt", "webwarden-urldb 1 v1\n"
                            "localbad.example 10 malware\n"
                            "localok.example 95 news\n"
                            "good.example 5 malware\n");
    ck_assert_int_eq(fake_wrs_start(&fake), 0);
}

static void teardown(void)
{
    char cmd[128];

    fake_wrs_stop(&fake);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* The corpus, in order (the cache case relies on the server case before it). */
static const struct {
    const char *url;
    const char *action, *source, *path, *score, *category;
} corpus[] = {
    {"http://good.example/x", "allow", "list", "list (approved: good.example)", "-", "-"},
    {"https://www.good.example/", "allow", "list", "list (approved: good.example)", "-", "-"},
    {"http://blocked.example/a?b=c", "block", "list", "list (blocked: blocked.example)", "-", "-"},
    {"http://x.blocked.example/", "block", "list", "list (blocked: blocked.example)", "-", "-"},
    {"http://both.example/", "allow", "list", "list (approved: both.example)", "-", "-"},
    {"http://example.org/ok/page", "allow", "list", "list (approved: example.org/ok/)", "-", "-"},
    {"http://example.org/ads/banner", "block", "list", "list (blocked: example.org/ads/)", "-",
     "-"},
    {"http://localbad.example/", "block", "localdb", "localdb", "10", "malware"},
    {"http://localok.example/p", "allow", "localdb", "localdb", "95", "news"},
    {"http://www.bad.example/", "block", "server", "server (", "20", "malware"},
    {"http://www.bad.example/", "block", "cache", "cache", "20", "malware"},
    {"http://gamble.example/", "block", "server", "server (", "90", "gambling"},
    {"http://unrated.example/", "allow", "server", "server (", "0", "unrated"},
    {"http://news.example/", "allow", "server", "server (", "90", "news"},
};

START_TEST(test_urlcheck_corpus_gives_verdict_and_path)
{
    struct ww_conf *conf = make_conf(fake.base, "");
    struct ww_urlcheck *uc = NULL;
    struct ww_urlcheck_verdict *v = malloc(sizeof(*v));
    char err[WW_ERRLEN] = "";

    ck_assert(v != NULL);
    ck_assert_int_eq(ww_urlcheck_create(conf, &uc, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_urlcheck_open_reputation(uc, NULL, err, sizeof(err)), WW_OK);
    ck_assert_msg(strstr(ww_urlcheck_urldb_desc(uc), "urldb.txt (version v1, 3 entries)") != NULL,
                  "urldb desc \"%s\"", ww_urlcheck_urldb_desc(uc));
    for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
        struct ww_urlcheck_input in = {.url = corpus[i].url};
        ww_urlcheck_decide(uc, &in, v);
        ck_assert_msg(
            strcmp(ww_policy_action_name(v->action), corpus[i].action) == 0 &&
                strcmp(v->source, corpus[i].source) == 0 &&
                strncmp(v->path, corpus[i].path, strlen(corpus[i].path)) == 0 &&
                strcmp(v->score, corpus[i].score) == 0 &&
                strcmp(v->category, corpus[i].category) == 0,
            "%s: got %s source=%s path=\"%s\" score=%s category=%s reason=\"%s\"; want %s "
            "source=%s path=\"%s...\" score=%s category=%s",
            corpus[i].url, ww_policy_action_name(v->action), v->source, v->path, v->score,
            v->category, v->reason, corpus[i].action, corpus[i].source, corpus[i].path,
            corpus[i].score, corpus[i].category);
    }
    ck_assert_int_eq(fake_wrs_requests(&fake), 4); /* the cache answered the fifth */
    ww_urlcheck_free(uc);
    ww_conf_free(conf);
    free(v);
}
END_TEST

START_TEST(test_urlcheck_list_reason_names_the_entry)
{
    struct ww_conf *conf = make_conf(fake.base, "");
    struct ww_urlcheck *uc = NULL;
    struct ww_urlcheck_verdict *v = malloc(sizeof(*v));
    struct ww_urlcheck_input in = {.url = "http://x.blocked.example/"};
    struct ww_feedback_event ev;
    char err[WW_ERRLEN] = "";

    ck_assert(v != NULL);
    ck_assert_int_eq(ww_urlcheck_create(conf, &uc, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_urlcheck_open_reputation(uc, NULL, err, sizeof(err)), WW_OK);
    ww_urlcheck_decide(uc, &in, v);
    ck_assert_msg(v->by == WW_URLCHECK_BLOCKED &&
                      strcmp(v->reason, "blocked list: blocked.example") == 0,
                  "by %d reason \"%s\"", v->by, v->reason);
    ck_assert_msg(!ww_urlcheck_feedback_event(&in, v, &ev), "a list decision is not feedback");
    in.url = "http://gamble.example/";
    ww_urlcheck_decide(uc, &in, v);
    ck_assert_msg(v->by == WW_URLCHECK_REPUTATION && strstr(v->reason, "gambling") != NULL,
                  "by %d reason \"%s\"", v->by, v->reason);
    ck_assert_msg(ww_urlcheck_feedback_event(&in, v, &ev) && strcmp(ev.action, "block") == 0 &&
                      ev.score == 90 && strcmp(ev.categories, "gambling") == 0 &&
                      strcmp(ev.url, in.url) == 0,
                  "feedback: action %s score %d categories %s url %s", ev.action, ev.score,
                  ev.categories, ev.url);
    ww_urlcheck_free(uc);
    ww_conf_free(conf);
    free(v);
}
END_TEST

/* decide() and feedback_event() set every field without clearing the structs first: whatever
 * the caller's memory held before, each string is what the corpus wants and ms is us in the
 * access log's "%ld.%03ld". */
START_TEST(test_urlcheck_fills_every_field_of_dirty_structs)
{
    struct ww_conf *conf = make_conf(fake.base, "");
    struct ww_urlcheck *uc = NULL;
    struct ww_urlcheck_verdict *v = malloc(sizeof(*v));
    struct ww_feedback_event ev;
    char err[WW_ERRLEN] = "", ms[24];

    ck_assert(v != NULL);
    ck_assert_int_eq(ww_urlcheck_create(conf, &uc, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_urlcheck_open_reputation(uc, NULL, err, sizeof(err)), WW_OK);
    for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
        struct ww_urlcheck_input in = {.url = corpus[i].url};
        memset(v, 0xa5, sizeof(*v));
        ww_urlcheck_decide(uc, &in, v);
        snprintf(ms, sizeof(ms), "%ld.%03ld", v->us / 1000, v->us % 1000);
        ck_assert_msg(strcmp(v->score, corpus[i].score) == 0 &&
                          strcmp(v->category, corpus[i].category) == 0 &&
                          strncmp(v->path, corpus[i].path, strlen(corpus[i].path)) == 0 &&
                          strlen(v->reason) < 200 && strcmp(v->ms, ms) == 0 &&
                          v->strip_range == 0 && strcmp(v->policy, "default") == 0,
                      "%s: score %.16s category %.40s path \"%.60s\" ms %.24s (want %s) "
                      "strip_range %d",
                      corpus[i].url, v->score, v->category, v->path, v->ms, ms, v->strip_range);
        memset(&ev, 0xa5, sizeof(ev));
        if (!ww_urlcheck_feedback_event(&in, v, &ev))
            continue;
        ck_assert_msg(ev.id == 0 && strcmp(ev.url, in.url) == 0 && ev.score == v->rating.score &&
                          strcmp(ev.categories, v->rating.ncategories ? v->category : "") == 0 &&
                          strcmp(ev.action, corpus[i].action) == 0 && ev.threat[0] == '\0' &&
                          ev.at > 0 && ev.count == 0 && ev.first_seen == 0 && ev.scanner[0] == '\0',
                      "%s: feedback id %lld url %.80s score %d categories %.40s action %.8s",
                      corpus[i].url, (long long)ev.id, ev.url, ev.score, ev.categories, ev.action);
    }
    ww_urlcheck_free(uc);
    ww_conf_free(conf);
    free(v);
}
END_TEST

START_TEST(test_urlcheck_without_server_is_none_and_unrated_action_applies)
{
    struct ww_conf *conf = make_conf("", "unrated_action = block");
    struct ww_urlcheck *uc = NULL;
    struct ww_urlcheck_verdict *v = malloc(sizeof(*v));
    struct ww_urlcheck_input in = {.url = "http://news.example/"};
    char err[WW_ERRLEN] = "";

    ck_assert(v != NULL);
    ck_assert_int_eq(ww_urlcheck_create(conf, &uc, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_urlcheck_open_reputation(uc, NULL, err, sizeof(err)), WW_OK);
    ww_urlcheck_decide(uc, &in, v);
    ck_assert_msg(v->action == WW_ACTION_BLOCK && strcmp(v->source, "none") == 0 &&
                      strcmp(v->path, "none (no reputation server configured)") == 0 &&
                      strcmp(v->category, "unrated") == 0,
                  "got %s source %s path \"%s\" category %s", ww_policy_action_name(v->action),
                  v->source, v->path, v->category);
    ck_assert_int_eq(fake_wrs_requests(&fake), 0);
    ww_urlcheck_free(uc);
    ww_conf_free(conf);
    free(v);
}
END_TEST

START_TEST(test_urlcheck_hanging_server_is_timeout_within_budget)
{
    struct ww_conf *conf = make_conf(fake.base, "backoff = off");
    struct ww_urlcheck *uc = NULL;
    struct ww_urlcheck_verdict *v = malloc(sizeof(*v));
    struct ww_urlcheck_input in = {.url = "http://www.bad.example/slow"};
    char err[WW_ERRLEN] = "";
    int64_t t0;

    ck_assert(v != NULL);
    ck_assert_int_eq(fake_wrs_mode(&fake, "hang", 0), 0);
    ck_assert_int_eq(ww_urlcheck_create(conf, &uc, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_urlcheck_open_reputation(uc, NULL, err, sizeof(err)), WW_OK);
    t0 = test_now_ms();
    ww_urlcheck_decide(uc, &in, v);
    ck_assert_msg(test_now_ms() - t0 < 1500, "decided in %lld ms (timeout_ms 400)",
                  (long long)(test_now_ms() - t0));
    ck_assert_msg(v->action == WW_ACTION_ALLOW && strcmp(v->source, "timeout") == 0 &&
                      strcmp(v->path, "timeout (no answer within 400 ms)") == 0,
                  "got %s source %s path \"%s\"", ww_policy_action_name(v->action), v->source,
                  v->path);
    ck_assert_int_eq(fake_wrs_mode(&fake, "normal", 0), 0);
    ww_urlcheck_free(uc);
    ww_conf_free(conf);
    free(v);
}
END_TEST

START_TEST(test_urlcheck_bad_urldb_is_reported_and_lookup_goes_on)
{
    struct ww_conf *conf;
    struct ww_urlcheck *uc = NULL;
    struct ww_urlcheck_verdict *v = malloc(sizeof(*v));
    struct ww_urlcheck_input in = {.url = "http://localbad.example/"};
    char err[WW_ERRLEN] = "";

    ck_assert(v != NULL);
    write_file("urldb.txt", "not a urldb\n");
    conf = make_conf(fake.base, "");
    ck_assert_int_eq(ww_urlcheck_create(conf, &uc, err, sizeof(err)), WW_OK);
    ck_assert_msg(ww_urlcheck_open_reputation(uc, NULL, err, sizeof(err)) != WW_OK &&
                      strstr(err, "urldb.txt") != NULL,
                  "open: err \"%s\"", err);
    ww_urlcheck_decide(uc, &in, v);
    ck_assert_msg(strcmp(v->source, "server") == 0, "source %s: the server answers instead",
                  v->source);
    ww_urlcheck_free(uc);
    ww_conf_free(conf);
    free(v);
}
END_TEST

START_TEST(test_urlcheck_bad_list_line_names_file_and_line)
{
    struct ww_conf *conf;
    struct ww_urlcheck *uc = NULL;
    char err[WW_ERRLEN] = "";

    write_file("blocked.txt", "ok.example\nhttp://\n");
    conf = make_conf(fake.base, "");
    ck_assert_msg(ww_urlcheck_create(conf, &uc, err, sizeof(err)) != WW_OK && uc == NULL &&
                      strstr(err, "[lists] blocked: ") == err &&
                      strstr(err, "blocked.txt:2") != NULL,
                  "err \"%s\"", err);
    ww_conf_free(conf);
}
END_TEST

/* The tick: an installed urldb component replaces urldb.file without a new lookup object, and
 * the reputation server's state lands in the kv row that status decodes. */
START_TEST(test_urlcheck_tick_reloads_urldb_and_writes_state_row)
{
    struct ww_conf *conf = make_conf(fake.base, "");
    struct ww_urlcheck *uc = NULL;
    struct ww_urlcheck_verdict *v = malloc(sizeof(*v));
    struct ww_urlcheck_input in = {.url = "http://fresh.example/"};
    struct ww_store *st = NULL;
    struct ww_component comp;
    struct ww_rep_state_row row;
    char err[WW_ERRLEN] = "", path[256], val[512];

    ck_assert(v != NULL);
    ck_assert_int_eq(ww_store_open(conf->state.database, WW_STORE_MIGRATE, &st, err, sizeof(err)),
                     WW_OK);
    ck_assert_int_eq(ww_urlcheck_create(conf, &uc, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_urlcheck_open_reputation(uc, st, err, sizeof(err)), WW_OK);
    ww_urlcheck_decide(uc, &in, v);
    ck_assert_str_eq(v->source, "server");

    write_file("urldb2.txt", "webwarden-urldb 1 v2\nfresh.example 12 phishing\n");
    memset(&comp, 0, sizeof(comp));
    snprintf(comp.name, sizeof(comp.name), "urldb");
    snprintf(comp.version, sizeof(comp.version), "v2");
    snprintf(path, sizeof(path), "%s/urldb2.txt", tmpdir);
    snprintf(comp.path, sizeof(comp.path), "%s", path);
    ck_assert_int_eq(ww_store_component_install(st, &comp), WW_OK);
    ww_urlcheck_tick(uc, st);
    in.url = "http://fresh.example/x";
    ww_urlcheck_decide(uc, &in, v);
    ck_assert_msg(strcmp(v->source, "localdb") == 0 && strcmp(v->score, "12") == 0 &&
                      v->action == WW_ACTION_BLOCK,
                  "after reload: source %s score %s", v->source, v->score);
    ck_assert_msg(strstr(ww_urlcheck_urldb_desc(uc), "version v2") != NULL, "desc %s",
                  ww_urlcheck_urldb_desc(uc));

    ck_assert_int_eq(ww_store_kv_get(st, WW_REP_STATE_KEY, val, sizeof(val)), WW_OK);
    ck_assert_msg(ww_status_rep_state_decode(val, &row) == WW_OK && row.state == WW_REP_STATE_OK &&
                      row.last_ok > 0 && row.last_fail == 0,
                  "row %s", val);
    ww_urlcheck_free(uc);
    ww_store_close(st);
    ww_conf_free(conf);
    free(v);
}
END_TEST

static Suite *urlcheck_suite(void)
{
    Suite *s = suite_create("urlcheck");
    TCase *tc = tcase_create("decide");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_urlcheck_corpus_gives_verdict_and_path);
    tcase_add_test(tc, test_urlcheck_list_reason_names_the_entry);
    tcase_add_test(tc, test_urlcheck_fills_every_field_of_dirty_structs);
    tcase_add_test(tc, test_urlcheck_without_server_is_none_and_unrated_action_applies);
    tcase_add_test(tc, test_urlcheck_hanging_server_is_timeout_within_budget);
    tcase_add_test(tc, test_urlcheck_bad_urldb_is_reported_and_lookup_goes_on);
    tcase_add_test(tc, test_urlcheck_bad_list_line_names_file_and_line);
    tcase_add_test(tc, test_urlcheck_tick_reloads_urldb_and_writes_state_row);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(urlcheck_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
