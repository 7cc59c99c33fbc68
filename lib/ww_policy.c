/* lib/ww_policy.c - the web reputation decision. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ww_common.h"
#include "ww_policies.h"
#include "ww_policy.h"
#include "ww_rating.h"

const char *ww_policy_sensitivity_name(enum ww_sensitivity s)
{
    switch (s) {
    case WW_SENS_LOW:
        return "low";
    case WW_SENS_HIGH:
        return "high";
    case WW_SENS_MEDIUM:
    default:
        return "medium";
    }
}

const char *ww_policy_action_name(enum ww_action a)
{
    return a == WW_ACTION_BLOCK ? "block" : "allow";
}

static const char *policy_unrated_why(const struct ww_rating *r)
{
    switch (r->source) {
    case WW_REP_SRC_FAILURE:
        return ww_strerror(r->error); /* "timeout", "unavailable", "malformed answer" ... */
    case WW_REP_SRC_BACKOFF:
        return "server backed off";
    case WW_REP_SRC_NONE:
        return "no reputation server";
    default:
        return "no rating";
    }
}

void ww_policy_decide(const struct ww_conf *conf, const struct ww_rating *rating,
                      struct ww_policy_decision *out)
{
    ww_policy_decide_for(conf, NULL, rating, out);
}

void ww_policy_decide_for(const struct ww_conf *conf, const struct ww_policy *pol,
                          const struct ww_rating *rating, struct ww_policy_decision *out)
{
    enum ww_sensitivity sens = pol != NULL ? pol->sensitivity : conf->reputation.sensitivity;
    enum ww_action unrated = pol != NULL ? pol->unrated_action : conf->reputation.unrated_action;
    char *const *blocked =
        pol != NULL ? pol->blocked_categories : conf->reputation.blocked_categories;

    if (sens < WW_SENS_LOW || sens > WW_SENS_HIGH)
        sens = WW_SENS_MEDIUM;
    int threshold = conf->reputation.threshold[sens];

    /* Every category counts, not only the names kept for display (issue 12). */
    for (char *const *b = blocked; b != NULL && *b != NULL; b++) {
        if (ww_rating_has_category(rating, *b)) {
            out->action = WW_ACTION_BLOCK;
            snprintf(out->reason, sizeof(out->reason), "category %s is blocked", *b);
            return;
        }
    }
    if (blocked != NULL && blocked[0] != NULL && rating->categories_over) {
        out->action = WW_ACTION_BLOCK;
        snprintf(out->reason, sizeof(out->reason),
                 "more than %d categories: not all could be checked against blocked_categories",
                 WW_REP_MAX_CATEGORY_HASHES);
        return;
    }
    if (rating->score <= 0) {
        out->action = unrated;
        snprintf(out->reason, sizeof(out->reason), "unrated (%s)", policy_unrated_why(rating));
        return;
    }
    if (rating->score <= threshold) {
        out->action = WW_ACTION_BLOCK;
        snprintf(out->reason, sizeof(out->reason), "score %d <= %d (%s)", rating->score, threshold,
                 ww_policy_sensitivity_name(sens));
        return;
    }
    out->action = WW_ACTION_ALLOW;
    snprintf(out->reason, sizeof(out->reason), "score %d > %d (%s)", rating->score, threshold,
             ww_policy_sensitivity_name(sens));
}
