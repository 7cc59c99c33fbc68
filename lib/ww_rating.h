/* lib/ww_rating.h - the rating of a URL as a value (score, categories, where it came from) and
 * the one vocabulary for decision sources used by logs, access-log attributes, ICAP headers and
 * `webwardenctl url-check` (text and JSON). No I/O, no allocation: the reputation client
 * (ww_rep.h), the local URL database (ww_urldb.h) and the policy (ww_policy.h) include this. */
#ifndef WW_RATING_H
#define WW_RATING_H

#define WW_REP_MAX_CATEGORIES 8 /* more are dropped */
#define WW_REP_CATEGORY_LEN 48  /* bytes with the NUL; longer names are cut */

/* Where a rating came from; what `url-check` prints and the block page / access log show. */
enum ww_rep_source {
    WW_REP_SRC_NONE = 0, /* no provider configured: unrated */
    WW_REP_SRC_LIST,     /* approved/blocked list (set by the caller, who checks lists first) */
    WW_REP_SRC_LOCALDB,  /* local URL database (urldb.file or the installed urldb component) */
    WW_REP_SRC_CACHE,    /* in-memory cache of earlier server answers */
    WW_REP_SRC_SERVER,   /* the provider answered now */
    WW_REP_SRC_FAILURE,  /* the provider failed (error says how): unrated */
    WW_REP_SRC_BACKOFF   /* not asked: the provider is failing and backed off: unrated */
};

/* Plain value, no pointers: copy it freely (the cache stores it as bytes). */
struct ww_rating {
    int score; /* 1 (dangerous) .. 100 (safe); 0 = unrated */
    int ncategories;
    char categories[WW_REP_MAX_CATEGORIES][WW_REP_CATEGORY_LEN]; /* lower case */
    int ttl_s;     /* from the server; -1 = none given */
    int host_wide; /* 1: the answer covers the whole host (server sent "scope": "host") */
    enum ww_rep_source source;
    int error; /* WW_E* code when source is FAILURE (or BACKOFF: the last failure) */
};

/* An unrated rating with <source> and <error>. */
void ww_rating_init(struct ww_rating *r, enum ww_rep_source source, int error);

/* Adds <name> (lower-cased, cut at WW_REP_CATEGORY_LEN - 1 bytes) unless full, empty or
 * already present. */
void ww_rating_add_category(struct ww_rating *r, const char *name);

/* The source's token: "none", "list", "localdb", "cache", "server", "failure", "backoff".
 * Never NULL. The one spelling for logs, headers, access-log attributes and url-check. */
const char *ww_rep_source_name(enum ww_rep_source source);

/* The token of the rating's source, with a failure split by its cause: "timeout" when the
 * provider did not answer in time (error WW_ETIMEOUT), else ww_rep_source_name(). Never NULL. */
const char *ww_rating_source_token(const struct ww_rating *r);

#endif
