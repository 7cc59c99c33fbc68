/* lib/ww_urlcheckview.h - `webwardenctl url-check` rendered: one URL's verdict (lib/ww_urlcheck)
 * as the text an admin reads and as the JSON document of `url-check --json`. */
#ifndef WW_URLCHECKVIEW_H
#define WW_URLCHECKVIEW_H

#include <jansson.h>
#include <stdio.h>

#include "ww_urlcheck.h"
#include "ww_who.h"

/* What was asked and what came back; every pointer borrowed for the call. */
struct ww_urlcheckview {
    const char *url;                     /* canonical */
    const struct ww_who *who;            /* the identity given (--client, --user, --group) */
    const char *term;                    /* the policy term that matched, "" = none */
    const struct ww_urlcheck_verdict *v; /* ww_urlcheck_decide's answer */
    const char *urldb;                   /* ww_urlcheck_urldb_desc(), "" = none */
};

/* The verdict as one JSON object: url, policy, policy_match, decision, score (null when a list
 * decided), categories, reason, path, source, urldb (null for none), ms. New reference (caller:
 * json_decref), NULL if out of memory. */
json_t *ww_urlcheckview_json(const struct ww_urlcheckview *in);

/* The verdict as text on <fp>, one "name: value" line each: url, who, policy (and the matching
 * term), decision, score ("-" for a list, "N (unrated)" for 0), categories, reason, path, local
 * db, time. WW_OK, or WW_EIO when <fp> failed. */
int ww_urlcheckview_text(const struct ww_urlcheckview *in, FILE *fp);

#endif
