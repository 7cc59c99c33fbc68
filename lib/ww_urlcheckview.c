/* lib/ww_urlcheckview.c - a URL's verdict rendered as text and JSON (lib/ww_urlcheckview.h). */
#include "config.h"

#include <stdio.h>

#include "ww_common.h"
#include "ww_policy.h"
#include "ww_urlcheckview.h"

json_t *ww_urlcheckview_json(const struct ww_urlcheckview *in)
{
    const struct ww_urlcheck_verdict *v = in->v;
    const struct ww_rating *r = &v->rating;
    json_t *cats = json_array();

    for (int i = 0; cats != NULL && i < r->ncategories; i++)
        json_array_append_new(cats, json_string(r->categories[i]));
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s?, s:f}", "url", in->url,
                     "policy", v->policy, "policy_match", in->term, "decision",
                     ww_policy_action_name(v->action), "score",
                     r->source == WW_REP_SRC_LIST ? json_null() : json_integer(r->score),
                     "categories", cats, "reason", v->reason, "path", v->path, "source", v->source,
                     "urldb", in->urldb[0] ? in->urldb : NULL, "ms", (double)v->us / 1e3);
}

int ww_urlcheckview_text(const struct ww_urlcheckview *in, FILE *fp)
{
    const struct ww_urlcheck_verdict *v = in->v;
    const struct ww_rating *r = &v->rating;
    char score[24], whotext[1024];

    if (r->source == WW_REP_SRC_LIST)
        snprintf(score, sizeof(score), "-");
    else
        snprintf(score, sizeof(score), "%d%s", r->score, r->score == 0 ? " (unrated)" : "");
    ww_who_format(in->who, whotext, sizeof(whotext));
    fprintf(fp, "url:        %s\n", in->url);
    fprintf(fp, "who:        %s\n", whotext);
    fprintf(fp, "policy:     %s%s%s%s\n", v->policy, in->term[0] ? " (match " : "", in->term,
            in->term[0] ? ")" : "");
    fprintf(fp, "decision:   %s\n", ww_policy_action_name(v->action));
    fprintf(fp, "score:      %s\n", score);
    fprintf(fp, "categories: %s\n", v->category);
    fprintf(fp, "reason:     %s\n", v->reason);
    fprintf(fp, "path:       %s\n", v->path);
    fprintf(fp, "local db:   %s\n", in->urldb[0] ? in->urldb : "none");
    fprintf(fp, "time:       %.1f ms\n", (double)v->us / 1e3);
    return ferror(fp) ? WW_EIO : WW_OK;
}
