/* lib/ww_rating.c - the rating value and the source vocabulary (see ww_rating.h). */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "ww_common.h"
#include "ww_rating.h"

void ww_rating_init(struct ww_rating *r, enum ww_rep_source source, int error)
{
    r->score = 0;
    r->ncategories = 0;
    r->ttl_s = -1;
    r->host_wide = 0;
    r->source = source;
    r->error = error;
}

void ww_rating_add_category(struct ww_rating *r, const char *name)
{
    char low[WW_REP_CATEGORY_LEN];
    size_t i;

    if (name == NULL || name[0] == '\0' || r->ncategories >= WW_REP_MAX_CATEGORIES)
        return;
    for (i = 0; name[i] != '\0' && i < sizeof(low) - 1; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    low[i] = '\0';
    for (int k = 0; k < r->ncategories; k++)
        if (strcmp(r->categories[k], low) == 0)
            return;
    memcpy(r->categories[r->ncategories++], low, i + 1);
}

const char *ww_rep_source_name(enum ww_rep_source source)
{
    switch (source) {
    case WW_REP_SRC_LIST:
        return "list";
    case WW_REP_SRC_LOCALDB:
        return "localdb";
    case WW_REP_SRC_CACHE:
        return "cache";
    case WW_REP_SRC_SERVER:
        return "server";
    case WW_REP_SRC_FAILURE:
        return "failure";
    case WW_REP_SRC_BACKOFF:
        return "backoff";
    case WW_REP_SRC_NONE:
    default:
        return "none";
    }
}

const char *ww_rating_source_token(const struct ww_rating *r)
{
    if (r->source == WW_REP_SRC_FAILURE && r->error == WW_ETIMEOUT)
        return "timeout";
    return ww_rep_source_name(r->source);
}
