/* t/check_statusview.c - the status model rendered (lib/ww_statusview): text and JSON of a
 * status with problems, a masked licence code, servers, a job, recent warnings; a healthy one. */
#include "config.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_log.h"
#include "ww_statusview.h"

#define NOW 1764800000 /* 2025-12-03T22:13:20Z */
#define CODE "WW12-3456-7890-ABCD"

static struct ww_conf conf;
static struct ww_status st;

/* A status that needs attention: two problems, a licence with its code, a failing server. */
static void attention(void)
{
    memset(&conf, 0, sizeof(conf));
    conf.path = "/etc/webwarden/webwarden.conf";
    conf.state.database = "/var/lib/webwarden/state.db";
    memset(&st, 0, sizeof(st));
    snprintf(st.appliance, sizeof(st.appliance), "app-1");
    st.scan.method = WW_SCAN_SMART;
    st.scan.changed_at = NOW - 60;
    snprintf(st.scan.reason, sizeof(st.scan.reason), "server <back>");
    snprintf(st.scan.changed_by, sizeof(st.scan.changed_by), "admin");
    for (int i = 0; i < WW_STATUS_SERVERS; i++) {
        st.servers[i].name = i == 0 ? "reputation" : "other";
        st.servers[i].state = i == 0 ? "failing" : "not configured";
    }
    st.servers[0].checked = NOW - 5;
    snprintf(st.servers[0].detail, sizeof(st.servers[0].detail), "timeout");
    st.nproblems = 2;
    snprintf(st.problems[0], sizeof(st.problems[0]), "webwardend is not running");
    snprintf(st.problems[1], sizeof(st.problems[1]), "reputation server failing: timeout");
    snprintf(st.lic.activation_code, sizeof(st.lic.activation_code), CODE);
    snprintf(st.masked, sizeof(st.masked), "WW12-****-****-ABCD");
    snprintf(st.lic.status, sizeof(st.lic.status), "active");
    snprintf(st.lic.edition, sizeof(st.lic.edition), "business");
    snprintf(st.lic.expires, sizeof(st.lic.expires), "2026-12-31");
    st.have_days = 1;
    st.days = 28;
    st.updates_allowed = 1;
    st.queued = 3;
    st.dropped = 1;
    st.have_comp[0] = 1;
    snprintf(st.comp[0].version, sizeof(st.comp[0].version), "1.2.3");
    st.comp[0].installed_at = NOW - 3 * 86400;
    st.jobs[0].ok = -1;
    st.nrecent = 1;
    st.recent[0].at = NOW - 10;
    snprintf(st.recent[0].level, sizeof(st.recent[0].level), "warning");
    snprintf(st.recent[0].source, sizeof(st.recent[0].source), "update");
    snprintf(st.recent[0].message, sizeof(st.recent[0].message), "download failed");
}

/* The text rendering of <st> at NOW, malloc'd. */
static char *text(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(ww_statusview_text(&st, &conf, NOW, fp), WW_OK);
    fclose(fp);
    return buf;
}

static void has(const char *doc, const char *want)
{
    ck_assert_msg(strstr(doc, want) != NULL, "want \"%s\" in:\n%s", want, doc);
}

START_TEST(test_statusview_text_lists_problems_and_masks_the_code)
{
    char *t;

    attention();
    t = text();
    ck_assert_msg(strncmp(t, "Health:        ATTENTION, 2 problems\n", 37) == 0, "got:\n%s", t);
    has(t, "  - webwardend is not running\n  - reputation server failing: timeout\n"
           "Scan method:   smart\n");
    has(t, "  why:         server <back>\n  changed by:  admin at 2025-12-03T22:12:20Z\n");
    has(t, "  reputation   failing         2025-12-03T22:13:15Z  timeout\n");
    has(t, "  other        not configured  -                     -\n");
    has(t, "  pattern      1.2.3 (installed 2025-11-30T22:13:20Z, 3 days ago)\n");
    has(t, "  urldb        none\n");
    has(t, "ClamAV:        - (webwarden_scan not started)\n");
    has(t, "Feedback:      3 queued, 1 dropped\n");
    has(t, "License:       active (business)\n  code:        WW12-****-****-ABCD\n");
    has(t, "  expires:     2026-12-31 (28 days left)\n");
    has(t, "Daemon:        not running\n");
    has(t, "  2025-12-03T22:13:10Z warning update   download failed\n");
    has(t, "Appliance id:  app-1\nDatabase:      /var/lib/webwarden/state.db\n");
    ck_assert_msg(strstr(t, CODE) == NULL, "the code in full:\n%s", t);
    free(t);
}
END_TEST

START_TEST(test_statusview_text_healthy_says_ok)
{
    char *t;

    attention();
    st.nproblems = 0;
    st.daemon_pid = 42;
    st.lic.activation_code[0] = st.lic.status[0] = st.lic.edition[0] = '\0';
    t = text();
    ck_assert_msg(strncmp(t, "Health:        ok\nScan method:", 30) == 0, "got:\n%s", t);
    has(t, "Daemon:        running (pid 42)\n");
    has(t, "License:       none\n");
    ck_assert_msg(strstr(t, "  code:") == NULL, "a code line without a code:\n%s", t);
    free(t);
}
END_TEST

START_TEST(test_statusview_json_has_problems_servers_and_masked_code)
{
    json_t *root, *lic, *rep;
    char *dump;

    attention();
    root = ww_statusview_json(&st, &conf);
    ck_assert_ptr_nonnull(root);
    dump = json_dumps(root, JSON_PRESERVE_ORDER);
    ck_assert_msg(json_is_false(json_object_get(root, "healthy")), "%s", dump);
    ck_assert_int_eq(json_array_size(json_object_get(root, "problems")), 2);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(root, "problems"), 1)),
                     "reputation server failing: timeout");
    lic = json_object_get(root, "license");
    ck_assert_str_eq(json_string_value(json_object_get(lic, "activation_code")),
                     "WW12-****-****-ABCD");
    ck_assert_int_eq(json_integer_value(json_object_get(lic, "days_left")), 28);
    ck_assert_msg(strstr(dump, CODE) == NULL, "the code in full: %s", dump);
    rep = json_object_get(json_object_get(root, "servers"), "reputation");
    ck_assert_str_eq(json_string_value(json_object_get(rep, "state")), "failing");
    ck_assert_str_eq(json_string_value(json_object_get(rep, "checked")), "2025-12-03T22:13:15Z");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(root, "scan_method"), "method")),
        "smart");
    ck_assert(json_is_null(json_object_get(json_object_get(root, "components"), "urldb")));
    ck_assert(json_is_false(json_object_get(json_object_get(root, "daemon"), "running")));
    ck_assert(json_is_null(json_object_get(json_object_get(root, "daemon"), "pid")));
    ck_assert_str_eq(json_string_value(json_object_get(root, "database")),
                     "/var/lib/webwarden/state.db");
    free(dump);
    json_decref(root);
}
END_TEST

START_TEST(test_statusview_json_healthy_without_licence)
{
    json_t *root, *lic;

    attention();
    st.nproblems = 0;
    st.daemon_pid = 42;
    st.lic.activation_code[0] = '\0';
    root = ww_statusview_json(&st, &conf);
    ck_assert(json_is_true(json_object_get(root, "healthy")));
    ck_assert_int_eq(json_array_size(json_object_get(root, "problems")), 0);
    lic = json_object_get(root, "license");
    ck_assert(json_is_null(json_object_get(lic, "activation_code")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(root, "daemon"), "pid")),
                     42);
    json_decref(root);
}
END_TEST

static char *render_license(const struct ww_license *lic, int json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    json_t *root;

    ck_assert_ptr_nonnull(fp);
    if (json) {
        root = ww_statusview_license_json(lic, 7, NOW);
        ck_assert_ptr_nonnull(root);
        ck_assert_int_eq(json_dumpf(root, fp, JSON_PRESERVE_ORDER), 0);
        json_decref(root);
    } else {
        ck_assert_int_eq(ww_statusview_license_text(lic, 7, NOW, fp), WW_OK);
    }
    fclose(fp);
    return buf;
}

/* license show: the code only masked, in text and JSON; no code: one line, null code. */
START_TEST(test_statusview_license_masks_the_code)
{
    struct ww_license lic;
    char masked[80], line[128], *t;

    memset(&lic, 0, sizeof(lic));
    snprintf(lic.activation_code, sizeof(lic.activation_code), CODE);
    snprintf(lic.status, sizeof(lic.status), "active");
    snprintf(lic.product, sizeof(lic.product), "Webwarden");
    snprintf(lic.edition, sizeof(lic.edition), "business");
    snprintf(lic.expires, sizeof(lic.expires), "2026-12-31");
    lic.seats = 25;
    ww_log_mask_secret(CODE, masked, sizeof(masked));
    ck_assert_msg(strcmp(masked, CODE) != 0, "mask: %s", masked);
    t = render_license(&lic, 0);
    ck_assert_msg(strncmp(t, "License:      ", 14) == 0, "got:\n%s", t);
    snprintf(line, sizeof(line), "  code:       %s\n  status:     active (server)\n", masked);
    has(t, line);
    has(t, "  product:    Webwarden business\n  seats:      25\n  expires:    2026-12-31\n");
    has(t, "  checked:    -\n");
    ck_assert_msg(strstr(t, CODE) == NULL, "the code in full:\n%s", t);
    free(t);
    t = render_license(&lic, 1);
    snprintf(line, sizeof(line), "\"activation_code\": \"%s\"", masked);
    has(t, line);
    has(t, "\"seats\": 25");
    ck_assert_msg(strstr(t, CODE) == NULL, "the code in full: %s", t);
    free(t);

    memset(&lic, 0, sizeof(lic));
    t = render_license(&lic, 0);
    ck_assert_msg(strchr(t, '\n') == t + strlen(t) - 1, "more than one line:\n%s", t);
    free(t);
    t = render_license(&lic, 1);
    has(t, "\"activation_code\": null");
    free(t);
}
END_TEST

/* feedback status: an unconfirmed batch named by its rows; none: null in JSON. */
START_TEST(test_statusview_feedback_names_the_unconfirmed_batch)
{
    struct ww_statusview_feedback f = {
        .server = "https://fb.example", .queued = 12, .dropped = 2, .first = 5, .last = 9};
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    json_t *root;

    f.job.ok = 0;
    f.job.last_run = NOW;
    snprintf(f.job.result, sizeof(f.job.result), "server said 500");
    ck_assert_int_eq(ww_statusview_feedback_text(&f, fp), WW_OK);
    fclose(fp);
    ck_assert_msg(strcmp(buf, "Server:       https://fb.example\n"
                              "Queued:       12 events\n"
                              "Dropped:      2 (queue or buffer full, oldest first)\n"
                              "Unconfirmed:  rows 5-9 sent, answer not received: resent under "
                              "the same batch id\n"
                              "Last run:     2025-12-03T22:13:20Z failed: server said 500\n") == 0,
                  "got:\n%s", buf);
    free(buf);
    root = ww_statusview_feedback_json(&f);
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(root, "unconfirmed"), "last")), 9);
    ck_assert(json_is_false(json_object_get(root, "ok")));
    json_decref(root);
    f.first = f.last = 0;
    f.server = "";
    root = ww_statusview_feedback_json(&f);
    ck_assert(json_is_null(json_object_get(root, "unconfirmed")));
    ck_assert(json_is_null(json_object_get(root, "server")));
    json_decref(root);
}
END_TEST

static Suite *statusview_suite(void)
{
    Suite *s = suite_create("statusview");
    TCase *tc = tcase_create("render");

    tcase_add_test(tc, test_statusview_text_lists_problems_and_masks_the_code);
    tcase_add_test(tc, test_statusview_text_healthy_says_ok);
    tcase_add_test(tc, test_statusview_json_has_problems_servers_and_masked_code);
    tcase_add_test(tc, test_statusview_json_healthy_without_licence);
    tcase_add_test(tc, test_statusview_license_masks_the_code);
    tcase_add_test(tc, test_statusview_feedback_names_the_unconfirmed_batch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(statusview_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
