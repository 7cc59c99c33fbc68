/* lib/ww_policy.h - the web reputation decision: a rating plus reputation.* settings give allow
 * or block and a reason. Approved/blocked lists are checked by the caller before this. */
#ifndef WW_POLICY_H
#define WW_POLICY_H

#include "ww_conf.h"

struct ww_rating;

#define WW_POLICY_REASON_LEN 160

struct ww_policy_decision {
    enum ww_action action;
    char reason[WW_POLICY_REASON_LEN]; /* "score 42 <= 65 (medium)", "category gambling is
                                          blocked", "unrated (timeout)" ... plain ASCII from the
                                          rating: HTML-escape it for a page */
};

/* Decides, in this order: a category listed in reputation.blocked_categories blocks (whatever the
 * score); score 0 (unrated: no rating, timeout, failure, back-off) takes
 * reputation.unrated_action and is never blocked by the score rule; a score 1..threshold of the
 * configured sensitivity blocks; anything higher is allowed. Pure function, thread-safe. */
void ww_policy_decide(const struct ww_conf *conf, const struct ww_rating *rating,
                      struct ww_policy_decision *out);

/* The same decision with a named policy's sensitivity, blocked_categories and unrated_action
 * (lib/ww_policies); <pol> NULL = the global keys, as ww_policy_decide. */
struct ww_policy;
void ww_policy_decide_for(const struct ww_conf *conf, const struct ww_policy *pol,
                          const struct ww_rating *rating, struct ww_policy_decision *out);

/* "low", "medium", "high". Never NULL. */
const char *ww_policy_sensitivity_name(enum ww_sensitivity s);

/* "allow" / "block". */
const char *ww_policy_action_name(enum ww_action a);

#endif
