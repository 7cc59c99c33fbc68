/* t/check_urlcheckview.c - url-check's rendering (lib/ww_urlcheckview): a verdict from the blocked
 * list and one from the reputation server, as text and as JSON. */
#include "config.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_urlcheckview.h"

static struct ww_urlcheck_verdict v;
static struct ww_who who;

/* The blocked list decided for a user in a matching policy. */
static void listed(struct ww_urlcheckview *in)
{
    memset(&v, 0, sizeof(v));
    v.action = WW_ACTION_BLOCK;
    v.rating.source = WW_REP_SRC_LIST;
    v.policy = "kids";
    v.source = "list";
    snprintf(v.reason, sizeof(v.reason), "blocked list: bad.example");
    snprintf(v.path, sizeof(v.path), "list (blocked: bad.example)");
    snprintf(v.category, sizeof(v.category), "-");
    v.us = 1250;
    ww_who_init(&who);
    ck_assert_int_eq(ww_who_set_ip(&who, "10.0.0.7"), WW_OK);
    *in = (struct ww_urlcheckview){"http://bad.example/", &who, "client 10.0.0.0/8", &v, ""};
}

/* The server rated it 0 (unrated) with two categories; a local URL database is installed. */
static void rated(struct ww_urlcheckview *in)
{
    listed(in);
    v.action = WW_ACTION_ALLOW;
    v.rating.source = WW_REP_SRC_SERVER;
    v.rating.score = 0;
    v.rating.ncategories = 2;
    snprintf(v.rating.categories[0], sizeof(v.rating.categories[0]), "news");
    snprintf(v.rating.categories[1], sizeof(v.rating.categories[1]), "blogs");
    v.policy = "default";
    v.source = "server";
    in->term = "";
    in->urldb = "urldb 2026.12.01 (3 entries)";
}

static char *text(const struct ww_urlcheckview *in)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(ww_urlcheckview_text(in, fp), WW_OK);
    fclose(fp);
    return buf;
}

START_TEST(test_urlcheckview_text_of_a_list_decision)
{
    struct ww_urlcheckview in;
    char *t;

    listed(&in);
    t = text(&in);
    ck_assert_msg(strcmp(t, "url:        http://bad.example/\n"
                            "who:        ip=10.0.0.7 user=- groups=-\n"
                            "policy:     kids (match client 10.0.0.0/8)\n"
                            "decision:   block\n"
                            "score:      -\n"
                            "categories: -\n"
                            "reason:     blocked list: bad.example\n"
                            "path:       list (blocked: bad.example)\n"
                            "local db:   none\n"
                            "time:       1.2 ms\n") == 0,
                  "got:\n%s", t);
    free(t);
}
END_TEST

START_TEST(test_urlcheckview_text_of_an_unrated_server_answer)
{
    struct ww_urlcheckview in;
    char *t;

    rated(&in);
    t = text(&in);
    ck_assert_msg(strstr(t, "policy:     default\ndecision:   allow\nscore:      0 (unrated)\n") !=
                      NULL,
                  "got:\n%s", t);
    ck_assert_msg(strstr(t, "local db:   urldb 2026.12.01 (3 entries)\n") != NULL, "got:\n%s", t);
    free(t);
}
END_TEST

START_TEST(test_urlcheckview_json)
{
    struct ww_urlcheckview in;
    json_t *root;

    listed(&in);
    root = ww_urlcheckview_json(&in);
    ck_assert_ptr_nonnull(root);
    ck_assert(json_is_null(json_object_get(root, "score")));
    ck_assert(json_is_null(json_object_get(root, "urldb")));
    ck_assert_str_eq(json_string_value(json_object_get(root, "decision")), "block");
    ck_assert_str_eq(json_string_value(json_object_get(root, "policy_match")), "client 10.0.0.0/8");
    json_decref(root);

    rated(&in);
    root = ww_urlcheckview_json(&in);
    ck_assert_int_eq(json_integer_value(json_object_get(root, "score")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(root, "categories")), 2);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(root, "categories"), 1)),
                     "blogs");
    ck_assert_str_eq(json_string_value(json_object_get(root, "source")), "server");
    ck_assert(json_real_value(json_object_get(root, "ms")) == 1.25);
    json_decref(root);
}
END_TEST

static Suite *urlcheckview_suite(void)
{
    Suite *s = suite_create("urlcheckview");
    TCase *tc = tcase_create("render");

    tcase_add_test(tc, test_urlcheckview_text_of_a_list_decision);
    tcase_add_test(tc, test_urlcheckview_text_of_an_unrated_server_answer);
    tcase_add_test(tc, test_urlcheckview_json);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(urlcheckview_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
