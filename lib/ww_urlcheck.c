/* lib/ww_urlcheck.c - the URL decision of webwarden_url and `webwardenctl url-check` (see
 * ww_urlcheck.h). */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_range.h"
#include "ww_lists.h"
#include "ww_log.h"
#include "ww_policies.h"
#include "ww_policy.h"
#include "ww_rep.h"
#include "ww_status.h"
#include "ww_store.h"
#include "ww_urlcheck.h"
#include "ww_urldb.h"

struct ww_urlcheck {
    const struct ww_conf *conf; /* borrowed */
    struct ww_list *approved, *blocked;
    _Atomic(struct ww_rep *) rep; /* NULL until open_reputation (per process) */
    pthread_mutex_t mtx;          /* making rep; urldb_version and urldb_desc */
    char urldb_version[64]; /* installed component in use (or refused); "" = urldb.file/none */
    char urldb_desc[1200];  /* "path (version V, N entries)", "" = none */
    char state_key[64];     /* the reputation.state row last written: "state error" */
    time_t state_at;
};

static int urlcheck_list_load(const char *what, const char *path, struct ww_list **out, char *err,
                              size_t errlen)
{
    char why[WW_ERRLEN] = "";
    int rc = ww_list_load(path, out, why, sizeof(why));

    if (rc != WW_OK) {
        snprintf(err, errlen, "[lists] %s: %s", what, why[0] ? why : ww_strerror(rc));
        return rc;
    }
    ww_log(WW_LOG_INFO, "%s list %s: %zu entries", what, path[0] ? path : "(none)",
           ww_list_count(*out));
    return WW_OK;
}

int ww_urlcheck_create(const struct ww_conf *conf, struct ww_urlcheck **out, char *err,
                       size_t errlen)
{
    struct ww_urlcheck *uc = calloc(1, sizeof(*uc));
    int rc;

    *out = NULL;
    if (uc == NULL) {
        snprintf(err, errlen, "out of memory");
        return WW_ENOMEM;
    }
    uc->conf = conf;
    pthread_mutex_init(&uc->mtx, NULL);
    atomic_init(&uc->rep, NULL);
    rc = urlcheck_list_load("approved", conf->lists.approved, &uc->approved, err, errlen);
    if (rc == WW_OK)
        rc = urlcheck_list_load("blocked", conf->lists.blocked, &uc->blocked, err, errlen);
    if (rc == WW_OK) /* [policy NAME] approved/blocked files: once, before any child forks */
        rc = ww_policies_load_lists(conf->policy_set, err, errlen);
    if (rc != WW_OK) {
        ww_urlcheck_free(uc);
        return rc;
    }
    *out = uc;
    return WW_OK;
}

void ww_urlcheck_close_reputation(struct ww_urlcheck *uc)
{
    if (uc == NULL)
        return;
    pthread_mutex_lock(&uc->mtx);
    ww_rep_free(atomic_exchange(&uc->rep, NULL));
    uc->urldb_version[0] = '\0';
    uc->urldb_desc[0] = '\0';
    uc->state_key[0] = '\0';
    uc->state_at = 0;
    pthread_mutex_unlock(&uc->mtx);
}

void ww_urlcheck_free(struct ww_urlcheck *uc)
{
    if (uc == NULL)
        return;
    ww_urlcheck_close_reputation(uc);
    ww_list_free(uc->approved);
    ww_list_free(uc->blocked);
    pthread_mutex_destroy(&uc->mtx);
    free(uc);
}

/* The store's installed urldb component, when there is one with a file: WW_OK and <comp>. */
static int urlcheck_urldb_component(struct ww_store *st, struct ww_component *comp)
{
    if (st == NULL || ww_store_component_get(st, "urldb", comp) != WW_OK)
        return WW_ENOTFOUND;
    return comp->version[0] != '\0' && comp->path[0] != '\0' ? WW_OK : WW_ENOTFOUND;
}

/* Loads the database at <path> (what: "installed component" / "urldb.file"); *db NULL for an
 * empty path. Sets uc->urldb_desc. Caller holds uc->mtx. */
static int urlcheck_urldb_load(struct ww_urlcheck *uc, const char *path, const char *what,
                               struct ww_urldb **db, char *err, size_t errlen)
{
    char why[WW_ERRLEN] = "";
    int rc;

    *db = NULL;
    if (path == NULL || path[0] == '\0')
        return WW_OK;
    rc = ww_urldb_load(path, db, why, sizeof(why));
    if (rc != WW_OK) {
        snprintf(err, errlen, "local URL database %s (%s) not loaded: %s", path, what,
                 why[0] ? why : ww_strerror(rc));
        *db = NULL;
        return rc;
    }
    snprintf(uc->urldb_desc, sizeof(uc->urldb_desc), "%s (version %s, %zu entries)", path,
             ww_urldb_version(*db), ww_urldb_count(*db));
    ww_log(WW_LOG_INFO, "local URL database %s (%s) version %s: %zu entries", path, what,
           ww_urldb_version(*db), ww_urldb_count(*db));
    return WW_OK;
}

int ww_urlcheck_open_reputation(struct ww_urlcheck *uc, struct ww_store *st, char *err,
                                size_t errlen)
{
    struct ww_component comp;
    struct ww_urldb *db = NULL;
    struct ww_rep *rep = NULL;
    char appliance[64] = "", why[WW_ERRLEN] = "";
    int rc = WW_OK, db_rc;

    if (atomic_load_explicit(&uc->rep, memory_order_acquire) != NULL)
        return WW_OK;
    pthread_mutex_lock(&uc->mtx);
    if (atomic_load_explicit(&uc->rep, memory_order_relaxed) != NULL)
        goto done;
    if (st != NULL && ww_store_appliance_id(st, appliance, sizeof(appliance)) != WW_OK)
        appliance[0] = '\0';
    uc->urldb_desc[0] = '\0';
    if (urlcheck_urldb_component(st, &comp) == WW_OK) {
        snprintf(uc->urldb_version, sizeof(uc->urldb_version), "%s", comp.version);
        db_rc = urlcheck_urldb_load(uc, comp.path, "installed component", &db, err, errlen);
    } else {
        uc->urldb_version[0] = '\0';
        db_rc = urlcheck_urldb_load(uc, uc->conf->urldb.file, "urldb.file", &db, err, errlen);
    }
    rc = ww_rep_create_from_conf(uc->conf, db, appliance, &rep, why, sizeof(why)); /* takes db */
    if (rc != WW_OK) {
        snprintf(err, errlen, "%s", why);
        goto done;
    }
    atomic_store_explicit(&uc->rep, rep, memory_order_release);
    rc = db_rc;
done:
    pthread_mutex_unlock(&uc->mtx);
    return rc;
}

static void urlcheck_list_verdict(struct ww_urlcheck_verdict *out, enum ww_urlcheck_by by,
                                  const char *entry)
{
    int approved = by == WW_URLCHECK_APPROVED;

    ww_rating_init(&out->rating, WW_REP_SRC_LIST, WW_OK);
    out->by = by;
    out->action = approved ? WW_ACTION_ALLOW : WW_ACTION_BLOCK;
    snprintf(out->reason, sizeof(out->reason), "%s list: %s", approved ? "approved" : "blocked",
             entry);
    snprintf(out->path, sizeof(out->path), "list (%s: %s)", approved ? "approved" : "blocked",
             entry);
    memcpy(out->score, "-", 2);
    memcpy(out->category, "-", 2);
}

/* The path text of a reputation decision: the source token, with what an admin needs. */
static void urlcheck_rep_path(const struct ww_urlcheck *uc, struct ww_urlcheck_verdict *out)
{
    const struct ww_rating *r = &out->rating;

    if (r->source == WW_REP_SRC_FAILURE && r->error == WW_ETIMEOUT)
        snprintf(out->path, sizeof(out->path), "timeout (no answer within %d ms)",
                 uc->conf->reputation.timeout_ms);
    else if (r->source == WW_REP_SRC_FAILURE)
        snprintf(out->path, sizeof(out->path), "failure (%s)", ww_strerror(r->error));
    else if (r->source == WW_REP_SRC_NONE)
        snprintf(out->path, sizeof(out->path), "none (no reputation server configured)");
    else if (r->source == WW_REP_SRC_SERVER)
        snprintf(out->path, sizeof(out->path), "server (%s)", uc->conf->reputation.server);
    else if (r->source == WW_REP_SRC_BACKOFF)
        snprintf(out->path, sizeof(out->path), "backoff (the server failed: %s)",
                 ww_strerror(r->error));
    else
        ww_str_append(out->path, sizeof(out->path), 0, ww_rep_source_name(r->source));
}

static void urlcheck_reputation(struct ww_urlcheck *uc, const struct ww_urlcheck_input *in,
                                struct ww_urlcheck_verdict *out)
{
    struct ww_rep *rep = atomic_load_explicit(&uc->rep, memory_order_acquire);
    struct ww_policy_decision decision;
    size_t n = 0;

    if (rep != NULL)
        ww_rep_check(rep, in->url, &out->rating);
    else
        ww_rating_init(&out->rating, WW_REP_SRC_FAILURE, WW_ENOMEM);
    ww_policy_decide_for(uc->conf, in->policy, &out->rating, &decision);
    out->by = WW_URLCHECK_REPUTATION;
    out->action = decision.action;
    ww_str_append(out->reason, sizeof(out->reason), 0, decision.reason);
    urlcheck_rep_path(uc, out);
    snprintf(out->score, sizeof(out->score), "%d", out->rating.score);
    out->category[0] = '\0';
    for (int i = 0; i < out->rating.ncategories; i++) {
        /* Whole categories only: one that does not fit ends the list. */
        const char *c = out->rating.categories[i];
        size_t len = strlen(c) + (i ? 1 : 0);
        if (len >= sizeof(out->category) - n)
            break;
        if (i)
            out->category[n] = ',';
        memcpy(out->category + n + (i ? 1 : 0), c, len - (i ? 1 : 0));
        n += len;
        out->category[n] = '\0';
    }
    if (out->category[0] == '\0')
        ww_str_append(out->category, sizeof(out->category), 0,
                      out->rating.score == 0 ? "unrated" : "-");
}

void ww_urlcheck_decide(struct ww_urlcheck *uc, const struct ww_urlcheck_input *in,
                        struct ww_urlcheck_verdict *out)
{
    struct timespec t0, t1;
    const char *entry = NULL;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* Not memset(out): 17 KB a request. Every field is set below; the strings by each path. */
    memset(&out->rating, 0, sizeof(out->rating));
    out->reason[0] = out->path[0] = out->score[0] = out->category[0] = '\0';
    /* CONNECT host:port arrives as "https://host/" (ww_url_from_request): decided by host.
     * The global lists, then the policy's own: an approved entry wins over a blocked one. */
    switch (ww_policy_lists_match(uc->approved, uc->blocked, in->policy, in->url, &entry)) {
    case WW_LISTED_APPROVED:
        urlcheck_list_verdict(out, WW_URLCHECK_APPROVED, entry);
        break;
    case WW_LISTED_BLOCKED:
        urlcheck_list_verdict(out, WW_URLCHECK_BLOCKED, entry);
        break;
    default:
        urlcheck_reputation(uc, in, out);
    }
    out->policy = in->policy != NULL ? in->policy->name : "default";
    out->source = ww_rating_source_token(&out->rating);
    /* Issue 12: a resumed download must not fetch only the tail of a file that was cut. */
    out->strip_range = out->action == WW_ACTION_ALLOW &&
                       ww_range_strip(uc->conf->scan.range, in->has_range, in->has_if_range);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->us = (long)(t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    snprintf(out->ms, sizeof(out->ms), "%ld.%03ld", out->us / 1000, out->us % 1000);
}

int ww_urlcheck_feedback_event(const struct ww_urlcheck_input *in,
                               const struct ww_urlcheck_verdict *v, struct ww_feedback_event *ev)
{
    size_t n;

    if (v->by != WW_URLCHECK_REPUTATION)
        return 0;
    /* Field by field, not memset(ev): 2.5 KB a request, nearly all of it the URL's room. */
    ev->id = 0;
    /* The queue keeps 2 KiB of a URL (up to 8 KiB here): enough to identify it. */
    n = strnlen(in->url, sizeof(ev->url) - 1);
    memcpy(ev->url, in->url, n);
    ev->url[n] = '\0';
    ev->score = v->rating.score;
    n = 0;
    if (v->rating.ncategories > 0) { /* cut to the row's size: the first categories matter */
        n = strnlen(v->category, sizeof(ev->categories) - 1);
        memcpy(ev->categories, v->category, n);
    }
    ev->categories[n] = '\0';
    ww_str_append(ev->action, sizeof(ev->action), 0, ww_policy_action_name(v->action));
    ev->threat[0] = '\0';
    ev->at = time(NULL);
    ev->count = 0;
    ev->first_seen = 0;
    ev->scanner[0] = '\0';
    return 1;
}

const char *ww_urlcheck_urldb_desc(const struct ww_urlcheck *uc)
{
    return uc->urldb_desc;
}

static void urlcheck_urldb_sync(struct ww_urlcheck *uc, struct ww_rep *rep, struct ww_store *st)
{
    struct ww_component comp;
    struct ww_urldb *db = NULL;
    char err[WW_ERRLEN] = "";

    if (urlcheck_urldb_component(st, &comp) != WW_OK)
        return;
    pthread_mutex_lock(&uc->mtx);
    if (strcmp(comp.version, uc->urldb_version) != 0) {
        snprintf(uc->urldb_version, sizeof(uc->urldb_version), "%s", comp.version);
        if (urlcheck_urldb_load(uc, comp.path, "installed component", &db, err, sizeof(err)) ==
            WW_OK)
            ww_rep_set_urldb(rep, db); /* takes db */
        else
            ww_log(WW_LOG_ERR, "%s", err);
    }
    pthread_mutex_unlock(&uc->mtx);
}

static void urlcheck_state_sync(struct ww_urlcheck *uc, struct ww_rep *rep, struct ww_store *st)
{
    struct ww_rep_stats rs;
    struct ww_rep_state_row row;
    char key[64], val[512];
    time_t now = time(NULL);

    if (uc->conf->reputation.server == NULL || uc->conf->reputation.server[0] == '\0')
        return;
    ww_rep_stats(rep, &rs);
    if (rs.last_ok == 0 && rs.last_fail == 0)
        return; /* no call yet: nothing to tell */
    memset(&row, 0, sizeof(row));
    row.state = rs.backing_off        ? WW_REP_STATE_BACKOFF
                : rs.last_call_failed ? WW_REP_STATE_FAILING
                                      : WW_REP_STATE_OK;
    row.at = now;
    row.last_ok = rs.last_ok;
    row.last_fail = rs.last_fail;
    snprintf(row.error, sizeof(row.error), "%s",
             rs.last_fail > 0 ? ww_strerror(rs.last_error) : "");
    snprintf(key, sizeof(key), "%d %d", (int)row.state, rs.last_error);
    if (strcmp(key, uc->state_key) == 0 && now - uc->state_at < 60)
        return;
    /* Per-child counters would mislead in a row every child overwrites: times and state only. */
    if (ww_status_rep_state_encode(&row, val, sizeof(val)) == WW_OK &&
        ww_store_kv_set(st, WW_REP_STATE_KEY, val) == WW_OK) {
        snprintf(uc->state_key, sizeof(uc->state_key), "%s", key);
        uc->state_at = now;
    }
}

void ww_urlcheck_tick(struct ww_urlcheck *uc, struct ww_store *st)
{
    struct ww_rep *rep = atomic_load_explicit(&uc->rep, memory_order_acquire);

    if (rep == NULL || st == NULL)
        return;
    urlcheck_urldb_sync(uc, rep, st);
    urlcheck_state_sync(uc, rep, st);
}
