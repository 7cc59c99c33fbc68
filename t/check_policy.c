/* t/check_policy.c - the reputation decision: band edges, thresholds, categories, unrated. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "rep_testlib.h"
#include "ww_common.h"
#include "ww_policy.h"
#include "ww_rep.h"

static struct ww_rating rated(int score)
{
    struct ww_rating r;
    ww_rating_init(&r, WW_REP_SRC_SERVER, WW_OK);
    r.score = score;
    return r;
}

/* Default thresholds: low 50, medium 65, high 80; every edge of every band. */
static const struct {
    enum ww_sensitivity sens;
    int score;
    enum ww_action want;
} band_cases[] = {
    {WW_SENS_LOW, 1, WW_ACTION_BLOCK},     {WW_SENS_LOW, 50, WW_ACTION_BLOCK},
    {WW_SENS_LOW, 51, WW_ACTION_ALLOW},    {WW_SENS_LOW, 65, WW_ACTION_ALLOW},
    {WW_SENS_LOW, 66, WW_ACTION_ALLOW},    {WW_SENS_LOW, 80, WW_ACTION_ALLOW},
    {WW_SENS_LOW, 81, WW_ACTION_ALLOW},    {WW_SENS_LOW, 100, WW_ACTION_ALLOW},
    {WW_SENS_MEDIUM, 1, WW_ACTION_BLOCK},  {WW_SENS_MEDIUM, 50, WW_ACTION_BLOCK},
    {WW_SENS_MEDIUM, 51, WW_ACTION_BLOCK}, {WW_SENS_MEDIUM, 65, WW_ACTION_BLOCK},
    {WW_SENS_MEDIUM, 66, WW_ACTION_ALLOW}, {WW_SENS_MEDIUM, 71, WW_ACTION_ALLOW},
    {WW_SENS_MEDIUM, 80, WW_ACTION_ALLOW}, {WW_SENS_MEDIUM, 100, WW_ACTION_ALLOW},
    {WW_SENS_HIGH, 1, WW_ACTION_BLOCK},    {WW_SENS_HIGH, 65, WW_ACTION_BLOCK},
    {WW_SENS_HIGH, 71, WW_ACTION_BLOCK},   {WW_SENS_HIGH, 80, WW_ACTION_BLOCK},
    {WW_SENS_HIGH, 81, WW_ACTION_ALLOW},   {WW_SENS_HIGH, 100, WW_ACTION_ALLOW},
};

START_TEST(test_policy_band_edges_match_sensitivity)
{
    struct ww_conf conf;
    struct ww_policy_decision d;
    struct ww_rating r = rated(band_cases[_i].score);

    test_conf_init(&conf);
    conf.reputation.sensitivity = band_cases[_i].sens;
    ww_policy_decide(&conf, &r, &d);
    ck_assert_msg(d.action == band_cases[_i].want, "sensitivity %s score %d: got %s (%s), want %s",
                  ww_policy_sensitivity_name(band_cases[_i].sens), band_cases[_i].score,
                  ww_policy_action_name(d.action), d.reason,
                  ww_policy_action_name(band_cases[_i].want));
}
END_TEST

START_TEST(test_policy_score_zero_is_never_blocked_by_score_rule)
{
    struct ww_conf conf;
    struct ww_policy_decision d;
    enum ww_rep_source sources[] = {WW_REP_SRC_SERVER, WW_REP_SRC_FAILURE, WW_REP_SRC_BACKOFF,
                                    WW_REP_SRC_NONE,   WW_REP_SRC_CACHE,   WW_REP_SRC_LOCALDB};

    test_conf_init(&conf);
    for (int s = WW_SENS_LOW; s <= WW_SENS_HIGH; s++) {
        conf.reputation.sensitivity = (enum ww_sensitivity)s;
        conf.reputation.threshold[s] = 100; /* even "block everything rated" */
        for (size_t k = 0; k < sizeof(sources) / sizeof(sources[0]); k++) {
            struct ww_rating r;
            ww_rating_init(&r, sources[k], WW_ETIMEOUT);
            ww_policy_decide(&conf, &r, &d);
            ck_assert_msg(d.action == WW_ACTION_ALLOW && strncmp(d.reason, "unrated", 7) == 0,
                          "sens %d source %s: got %s (%s), want allow (unrated ...)", s,
                          ww_rep_source_name(sources[k]), ww_policy_action_name(d.action),
                          d.reason);
        }
    }
}
END_TEST

START_TEST(test_policy_unrated_takes_unrated_action)
{
    struct ww_conf conf;
    struct ww_policy_decision d;
    struct ww_rating r;

    test_conf_init(&conf);
    conf.reputation.unrated_action = WW_ACTION_BLOCK;
    ww_rating_init(&r, WW_REP_SRC_FAILURE, WW_ETIMEOUT);
    ww_policy_decide(&conf, &r, &d);
    ck_assert_int_eq(d.action, WW_ACTION_BLOCK);
    ck_assert_str_eq(d.reason, "unrated (timeout)");
    ww_rating_init(&r, WW_REP_SRC_BACKOFF, WW_EUNAVAIL);
    ww_policy_decide(&conf, &r, &d);
    ck_assert_str_eq(d.reason, "unrated (server backed off)");
    ww_rating_init(&r, WW_REP_SRC_SERVER, WW_OK);
    ww_policy_decide(&conf, &r, &d);
    ck_assert_str_eq(d.reason, "unrated (no rating)");
}
END_TEST

START_TEST(test_policy_overridden_threshold_moves_the_edge)
{
    struct ww_conf conf;
    struct ww_policy_decision d;
    struct ww_rating r;

    test_conf_init(&conf);
    conf.reputation.threshold[WW_SENS_MEDIUM] = 70;
    r = rated(70);
    ww_policy_decide(&conf, &r, &d);
    ck_assert_int_eq(d.action, WW_ACTION_BLOCK);
    ck_assert_str_eq(d.reason, "score 70 <= 70 (medium)");
    r = rated(71);
    ww_policy_decide(&conf, &r, &d);
    ck_assert_int_eq(d.action, WW_ACTION_ALLOW);
    ck_assert_str_eq(d.reason, "score 71 > 70 (medium)");
    conf.reputation.sensitivity = WW_SENS_LOW;
    conf.reputation.threshold[WW_SENS_LOW] = 10;
    r = rated(11);
    ww_policy_decide(&conf, &r, &d);
    ck_assert_int_eq(d.action, WW_ACTION_ALLOW);
}
END_TEST

START_TEST(test_policy_reason_names_score_threshold_and_level)
{
    struct ww_conf conf;
    struct ww_policy_decision d;
    struct ww_rating r = rated(42);

    test_conf_init(&conf);
    ww_policy_decide(&conf, &r, &d);
    ck_assert_str_eq(d.reason, "score 42 <= 65 (medium)");
}
END_TEST

START_TEST(test_policy_blocked_category_blocks_any_score)
{
    static char *blocked[] = {"gambling", "adult", NULL};
    struct ww_conf conf;
    struct ww_policy_decision d;
    int scores[] = {0, 1, 90, 100};

    test_conf_init(&conf);
    conf.reputation.blocked_categories = blocked;
    for (size_t i = 0; i < sizeof(scores) / sizeof(scores[0]); i++) {
        struct ww_rating r = rated(scores[i]);
        ww_rating_add_category(&r, "news");
        ww_rating_add_category(&r, "Gambling"); /* lower-cased on the way in */
        ww_policy_decide(&conf, &r, &d);
        ck_assert_msg(
            d.action == WW_ACTION_BLOCK && strcmp(d.reason, "category gambling is blocked") == 0,
            "score %d: got %s (%s)", scores[i], ww_policy_action_name(d.action), d.reason);
    }
    struct ww_rating r = rated(90);
    ww_rating_add_category(&r, "news");
    ww_policy_decide(&conf, &r, &d);
    ck_assert_int_eq(d.action, WW_ACTION_ALLOW);
}
END_TEST

/* Issue 12, part 7: a blocked category 9th (or 32nd) in a rating still blocks; long names are
 * compared whole; past 32 categories not all can be checked, so a blocked list blocks. */
START_TEST(test_policy_every_category_counts)
{
    static char *blocked[] = {"malware", NULL};
    static char *none[] = {NULL};
    struct ww_conf conf;
    struct ww_policy_decision d;
    struct ww_rating r = rated(95);
    char name[16], longname[100];

    test_conf_init(&conf);
    conf.reputation.blocked_categories = blocked;
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "c%d", i);
        ww_rating_add_category(&r, name);
    }
    ww_rating_add_category(&r, "Malware"); /* the 9th */
    ck_assert_int_eq(r.ncategories, WW_REP_MAX_CATEGORIES);
    ww_policy_decide(&conf, &r, &d);
    ck_assert_msg(d.action == WW_ACTION_BLOCK &&
                      strcmp(d.reason, "category malware is blocked") == 0,
                  "9th category: %s (%s)", ww_policy_action_name(d.action), d.reason);
    /* the 32nd */
    r = rated(95);
    for (int i = 0; i < 31; i++) {
        snprintf(name, sizeof(name), "c%d", i);
        ww_rating_add_category(&r, name);
    }
    ww_rating_add_category(&r, "malware");
    ww_policy_decide(&conf, &r, &d);
    ck_assert_int_eq(d.action, WW_ACTION_BLOCK);
    ck_assert(!r.categories_over);
    /* a long blocked name matches whole, not cut to the kept length */
    memset(longname, 'y', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    char *blocked_long[] = {longname, NULL};
    conf.reputation.blocked_categories = blocked_long;
    r = rated(95);
    ww_rating_add_category(&r, "news");
    ww_rating_add_category(&r, longname);
    ww_policy_decide(&conf, &r, &d);
    ck_assert_int_eq(d.action, WW_ACTION_BLOCK);
    longname[60] = 'z'; /* same first 47 bytes, another name */
    r = rated(95);
    ww_rating_add_category(&r, longname);
    longname[60] = 'y';
    ww_policy_decide(&conf, &r, &d);
    ck_assert_msg(d.action == WW_ACTION_ALLOW, "another long name blocked: %s", d.reason);
    /* 40 categories, none blocked by name: over the count, so not all checked */
    conf.reputation.blocked_categories = blocked;
    r = rated(95);
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "c%d", i);
        ww_rating_add_category(&r, name);
    }
    ck_assert(r.categories_over);
    ww_policy_decide(&conf, &r, &d);
    ck_assert_msg(d.action == WW_ACTION_BLOCK && strstr(d.reason, "more than 32") != NULL, "%s",
                  d.reason);
    conf.reputation.blocked_categories = none; /* nothing blocked by category: the score decides */
    ww_policy_decide(&conf, &r, &d);
    ck_assert_int_eq(d.action, WW_ACTION_ALLOW);
}
END_TEST

START_TEST(test_rating_categories_are_bounded_and_deduplicated)
{
    struct ww_rating r;
    char longname[200];

    ww_rating_init(&r, WW_REP_SRC_SERVER, WW_OK);
    ww_rating_add_category(&r, "News");
    ww_rating_add_category(&r, "news");
    ww_rating_add_category(&r, "");
    ww_rating_add_category(&r, NULL);
    ck_assert_int_eq(r.ncategories, 1);
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    ww_rating_add_category(&r, longname);
    ck_assert_uint_eq(strlen(r.categories[1]), WW_REP_CATEGORY_LEN - 1);
    for (int i = 0; i < 20; i++) {
        char name[16];
        snprintf(name, sizeof(name), "c%d", i);
        ww_rating_add_category(&r, name);
    }
    ck_assert_int_eq(r.ncategories, WW_REP_MAX_CATEGORIES);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("decide");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, test_policy_band_edges_match_sensitivity, 0,
                        sizeof(band_cases) / sizeof(band_cases[0]));
    tcase_add_test(tc, test_policy_score_zero_is_never_blocked_by_score_rule);
    tcase_add_test(tc, test_policy_unrated_takes_unrated_action);
    tcase_add_test(tc, test_policy_overridden_threshold_moves_the_edge);
    tcase_add_test(tc, test_policy_reason_names_score_threshold_and_level);
    tcase_add_test(tc, test_policy_blocked_category_blocks_any_score);
    tcase_add_test(tc, test_rating_categories_are_bounded_and_deduplicated);
    tcase_add_test(tc, test_policy_every_category_counts);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
