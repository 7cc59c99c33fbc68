/* modules/srv_webwarden_url.c - c-icap REQMOD service "webwarden_url": approved and blocked lists,
 * then web reputation (local URL database, cache, reputation server within
 * reputation.timeout_ms) and the reputation policy; a 403 block page for blocked URLs, 204 for
 * the rest. Decides on headers only (Preview: 0). */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <c_icap/c-icap.h>
#include <c_icap/cfg_param.h>
#include <c_icap/commands.h>
#include <c_icap/debug.h>
#include <c_icap/request.h>
#include <c_icap/service.h>
#include <c_icap/simple_api.h>
#include <c_icap/stats.h>

#include "ww_cicap.h"
#include "ww_common.h"
#include "ww_conf.h"
#include "ww_fbbuf.h"
#include "ww_html.h"
#include "ww_http.h"
#include "ww_lists.h"
#include "ww_log.h"
#include "ww_policies.h"
#include "ww_policy.h"
#include "ww_rep.h"
#include "ww_store.h"
#include "ww_urldb.h"

#define SVC "webwarden_url"
#define CMD_CHILD_START SVC ":child_start"
#define CMD_CHILD_STOP SVC ":child_stop"
#define CMD_TICK SVC ":tick"

static int url_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf);
static int url_post_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf);
static void url_close_service(void);
static void *url_init_request_data(ci_request_t *req);
static void url_release_request_data(void *data);
static int url_check_preview(char *preview, int len, ci_request_t *req);
static int url_end_of_data(ci_request_t *req);
static int url_io(char *wbuf, int *wlen, char *rbuf, int *rlen, int iseof, ci_request_t *req);

/* Set by the "webwarden_url.ConfigFile" directive; memory of c-icap's config allocator, reset
 * on reconfigure: copied in post_init, never freed or kept. */
static char *cfg_config_file;

static struct ci_conf_entry url_conf_table[] = {
    {"ConfigFile", &cfg_config_file, ci_cfg_set_str, "Path of webwarden.conf"},
    {NULL, NULL, NULL, NULL}};

CI_DECLARE_MOD_DATA ci_service_module_t service = {
    SVC,                       /* mod_name */
    "Webwarden URL filtering", /* mod_short_descr */
    ICAP_REQMOD,               /* mod_type */
    url_init_service,          /* mod_init_service */
    url_post_init_service,     /* mod_post_init_service */
    url_close_service,         /* mod_close_service */
    url_init_request_data,     /* mod_init_request_data */
    url_release_request_data,  /* mod_release_request_data */
    url_check_preview,         /* mod_check_preview_handler */
    url_end_of_data,           /* mod_end_of_data_handler */
    url_io,                    /* mod_service_io */
    url_conf_table,            /* mod_conf_table */
    NULL                       /* mod_data */
};

/* Loaded in post_init by the monitor, read-only afterwards: children share them copy-on-write. */
static struct ww_conf *url_conf;
static char *url_tmpl;
static struct ww_list *url_approved, *url_blocked;

/* Per child: the state store (opened after fork), used by the child's main thread (tick) and,
 * later, by workers: always under store_mtx. */
static struct ww_store *url_store;
static pthread_mutex_t store_mtx = PTHREAD_MUTEX_INITIALIZER;
static time_t store_retry_at;

/* Per child: the reputation lookup (local db, cache, server with back-off), made after fork
 * (CHILD_START, or lazily by the first request under rep_mtx) and shared by the child's threads.
 * rep_urldb_version is the store's urldb component version in use (or refused), "" while the
 * database is urldb.file (or none); guarded by rep_mtx. */
static _Atomic(struct ww_rep *) url_rep;
static pthread_mutex_t rep_mtx = PTHREAD_MUTEX_INITIALIZER;
static char rep_urldb_version[64];

/* Per child: rated lookups waiting for the tick, which moves them into the store's feedback
 * queue in one transaction a second (no SQLite on the request path). Made in CHILD_START;
 * NULL in the monitor or when out of memory (then nothing is captured). */
static struct ww_fbbuf *url_fb;
static int fb_failing; /* the last flush failed: log the next change only */

/* c-icap statistics (the `info` service): registered in init, counted in children only. */
static int stat_allowed = -1, stat_blocked = -1, stat_approved = -1;
static int stat_rep_localdb = -1, stat_rep_cache = -1, stat_rep_server = -1, stat_rep_unrated = -1;

struct url_req {
    struct ww_cicap_page page; /* the block page, when blocked */
};

/* What the reputation path found for one request, for the page, the headers and the log. */
struct url_verdict {
    struct ww_rating rating;
    struct ww_policy_decision decision;
    char score[16];     /* "42", "-" when a list decided */
    char category[400]; /* "malware,phishing", "unrated", "-" */
    const char *source; /* "list", "localdb", "cache", "server", "timeout", "failure", ... */
    char ms[24];        /* time spent deciding, "0.123" */
    const struct ww_policy *policy; /* whose settings decided: never NULL once chosen */
};

static void url_store_try_open(void)
{
    char err[WW_ERRLEN] = "";
    time_t now = time(NULL);

    if (url_store != NULL || url_conf == NULL || now < store_retry_at)
        return;
    if (ww_store_open(url_conf->state.database, 0, &url_store, err, sizeof(err)) != WW_OK) {
        url_store = NULL;
        store_retry_at = now + 30; /* once every 30 s at most: the log must stay readable */
        ww_log(WW_LOG_WARN, SVC ": state store %s not open (retry in 30 s): %s",
               url_conf->state.database, err);
    }
}

/* The store's installed urldb component, when there is one with a file: WW_OK and <comp>.
 * Caller holds store_mtx. */
static int url_urldb_component(struct ww_component *comp)
{
    if (url_store == NULL || ww_store_component_get(url_store, "urldb", comp) != WW_OK)
        return WW_ENOTFOUND;
    return comp->version[0] != '\0' && comp->path[0] != '\0' ? WW_OK : WW_ENOTFOUND;
}

/* Loads the local URL database at <path> ("" = none): the database (caller's reference) or NULL,
 * which is also what a bad file gives (logged: requests then go to the server, as without a
 * local database). */
static struct ww_urldb *url_urldb_load(const char *path, const char *what)
{
    char err[WW_ERRLEN] = "";
    struct ww_urldb *db = NULL;
    int rc;

    if (path == NULL || path[0] == '\0')
        return NULL;
    rc = ww_urldb_load(path, &db, err, sizeof(err));
    if (rc != WW_OK) {
        ww_log(WW_LOG_ERR, SVC ": local URL database %s (%s) not loaded: %s", path, what,
               err[0] ? err : ww_strerror(rc));
        return NULL;
    }
    ww_log(WW_LOG_INFO, SVC ": local URL database %s (%s) version %s: %zu entries", path, what,
           ww_urldb_version(db), ww_urldb_count(db));
    return db;
}

/* The child's ww_rep, made on first use: WW_OK lookups need it, so only out of memory leaves it
 * NULL (then requests are unrated, and the next one tries again). The urldb is the store's
 * installed component when there is one, else urldb.file. Thread-safe. */
static struct ww_rep *url_rep_get(void)
{
    struct ww_rep *rep = atomic_load_explicit(&url_rep, memory_order_acquire);
    struct ww_rep_provider *provider = NULL;
    struct ww_component comp;
    struct ww_urldb *db = NULL;
    char appliance[64] = "";

    if (rep != NULL || url_conf == NULL)
        return rep;
    pthread_mutex_lock(&rep_mtx);
    rep = atomic_load_explicit(&url_rep, memory_order_relaxed);
    if (rep != NULL)
        goto done;
    pthread_mutex_lock(&store_mtx);
    url_store_try_open();
    if (url_store != NULL &&
        ww_store_appliance_id(url_store, appliance, sizeof(appliance)) != WW_OK)
        appliance[0] = '\0';
    if (url_urldb_component(&comp) == WW_OK) {
        snprintf(rep_urldb_version, sizeof(rep_urldb_version), "%s", comp.version);
        db = url_urldb_load(comp.path, "installed component");
    } else {
        db = url_urldb_load(url_conf->urldb.file, "urldb.file");
    }
    pthread_mutex_unlock(&store_mtx);
    if (url_conf->reputation.server[0] != '\0') {
        struct ww_http_opts opts = {
            .timeout_ms = url_conf->reputation.timeout_ms,
            .tls_verify = url_conf->reputation.tls_verify,
            .ca_file = url_conf->reputation.ca_file,
            .api_key = url_conf->reputation.api_key,
            .appliance_id = appliance,
        };
        provider = ww_rep_provider_wrs_create(url_conf->reputation.server, &opts);
        if (provider == NULL) {
            ww_urldb_unref(db);
            ww_log(WW_LOG_ERR, SVC ": out of memory making the reputation client");
            goto done;
        }
    }
    rep = ww_rep_create(url_conf, provider, db); /* takes both, even when it fails */
    if (rep == NULL)
        ww_log(WW_LOG_ERR, SVC ": out of memory making the reputation lookup");
    atomic_store_explicit(&url_rep, rep, memory_order_release);
done:
    pthread_mutex_unlock(&rep_mtx);
    return rep;
}

/* Hot reload: when the store's urldb component has a version other than the one in use, load
 * it and swap it in (requests running finish with the old one). A version that fails to load
 * is remembered and not retried every second; the database in use stays. Main thread only. */
static void url_urldb_sync(void)
{
    struct ww_rep *rep = atomic_load_explicit(&url_rep, memory_order_acquire);
    struct ww_component comp;
    struct ww_urldb *db;
    int found;

    if (rep == NULL)
        return;
    pthread_mutex_lock(&store_mtx);
    found = url_urldb_component(&comp) == WW_OK;
    pthread_mutex_unlock(&store_mtx);
    if (!found)
        return;
    pthread_mutex_lock(&rep_mtx); /* rep_urldb_version: a lazy url_rep_get() writes it too */
    if (strcmp(comp.version, rep_urldb_version) != 0) {
        snprintf(rep_urldb_version, sizeof(rep_urldb_version), "%s", comp.version);
        db = url_urldb_load(comp.path, "installed component");
        if (db != NULL)
            ww_rep_set_urldb(rep, db);
    }
    pthread_mutex_unlock(&rep_mtx);
}

/* Moves the buffered feedback events into the store (caller holds store_mtx). A store that
 * refuses keeps them in the buffer for the next tick; logged when that starts and ends. */
static void url_feedback_flush(void)
{
    int rc;

    if (url_fb == NULL || url_store == NULL || url_conf == NULL)
        return;
    rc = ww_fbbuf_flush(url_fb, url_store, url_conf->feedback.max_queued);
    if (rc != WW_OK && !fb_failing)
        ww_log(WW_LOG_WARN,
               SVC ": feedback events stay in memory: the state store refused them (%s)",
               ww_strerror(rc));
    else if (rc == WW_OK && fb_failing)
        ww_log(WW_LOG_INFO, SVC ": feedback events reach the state store again");
    fb_failing = rc != WW_OK;
}

/* The reputation server as this child sees it, for `webwardenctl status`: the store's kv
 * "reputation.state", written when the state or the last error changes, else at most once a
 * minute. Every child writes the same key; they call the same server, so the newest row is the
 * answer. Caller holds store_mtx. */
static void url_rep_state_sync(void)
{
    static char last_key[64];
    static time_t last_at;
    struct ww_rep *rep = atomic_load_explicit(&url_rep, memory_order_acquire);
    struct ww_rep_stats st;
    const char *state;
    char key[64], val[512];
    time_t now = time(NULL);

    if (rep == NULL || url_store == NULL || url_conf->reputation.server[0] == '\0')
        return;
    ww_rep_stats(rep, &st);
    if (st.last_ok == 0 && st.last_fail == 0)
        return; /* no call yet: nothing to tell */
    state = st.backing_off ? "backoff" : st.last_call_failed ? "failing" : "ok";
    snprintf(key, sizeof(key), "%s %d", state, st.last_error);
    if (strcmp(key, last_key) == 0 && now - last_at < 60)
        return;
    /* Per-child counters would mislead in a row every child overwrites: times and state only. */
    snprintf(val, sizeof(val),
             "{\"state\": \"%s\", \"at\": %lld, \"last_ok\": %lld, \"last_fail\": %lld, "
             "\"error\": \"%s\"}",
             state, (long long)now, (long long)st.last_ok, (long long)st.last_fail,
             st.last_fail > 0 ? ww_strerror(st.last_error) : "");
    if (ww_store_kv_set(url_store, WW_REP_STATE_KEY, val) == WW_OK) {
        snprintf(last_key, sizeof(last_key), "%s", key);
        last_at = now;
    }
}

/* Runs in each child's main thread once a second: the home of periodic in-child work
 * (feedback flush, urldb reload, the reputation server's state for the admin). */
static void url_tick(const char *name, int type, void *data)
{
    pthread_mutex_lock(&store_mtx);
    url_store_try_open();
    url_feedback_flush();
    url_rep_state_sync();
    pthread_mutex_unlock(&store_mtx);
    url_urldb_sync();
    ci_command_schedule(CMD_TICK, NULL, 1);
}

static void url_child_start(const char *name, int type, void *data)
{
    if (url_fb == NULL && (url_fb = ww_fbbuf_create(0)) == NULL)
        ww_log(WW_LOG_ERR, SVC ": out of memory: no feedback capture in this child");
    pthread_mutex_lock(&store_mtx);
    url_store_try_open();
    pthread_mutex_unlock(&store_mtx);
    url_rep_get(); /* before the first request: the urldb load is not paid by a request */
    ci_command_schedule(CMD_TICK, NULL, 1);
}

static void url_child_stop(const char *name, int type, void *data)
{
    pthread_mutex_lock(&rep_mtx);
    ww_rep_free(atomic_exchange(&url_rep, NULL)); /* the child's threads are done by now */
    rep_urldb_version[0] = '\0';
    pthread_mutex_unlock(&rep_mtx);
    pthread_mutex_lock(&store_mtx);
    url_feedback_flush(); /* the last second's events */
    ww_fbbuf_free(url_fb);
    url_fb = NULL;
    ww_store_close(url_store);
    url_store = NULL;
    pthread_mutex_unlock(&store_mtx);
}

static int url_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf)
{
    /* Statics survive a reconfigure when the .so is not unloaded (forceUnload=off). */
    cfg_config_file = NULL;
    ww_cicap_log_init();
    ci_service_set_preview(xdata, 0); /* headers decide */
    ci_service_enable_204(xdata);
    ci_service_set_transfer_preview(xdata, "*");
    register_command_extend(CMD_CHILD_START, CI_CMD_CHILD_START, NULL, url_child_start);
    register_command_extend(CMD_CHILD_STOP, CI_CMD_CHILD_STOP, NULL, url_child_stop);
    register_command_extend(CMD_TICK, CI_CMD_ONDEMAND, NULL, url_tick);
    stat_allowed = ci_stat_entry_register("webwarden_url allowed", STAT_INT64_T, "Webwarden");
    stat_approved = ci_stat_entry_register("webwarden_url approved", STAT_INT64_T, "Webwarden");
    stat_blocked = ci_stat_entry_register("webwarden_url blocked", STAT_INT64_T, "Webwarden");
    stat_rep_localdb =
        ci_stat_entry_register("webwarden_url rated by local db", STAT_INT64_T, "Webwarden");
    stat_rep_cache =
        ci_stat_entry_register("webwarden_url rated from cache", STAT_INT64_T, "Webwarden");
    stat_rep_server =
        ci_stat_entry_register("webwarden_url rated by server", STAT_INT64_T, "Webwarden");
    stat_rep_unrated = ci_stat_entry_register("webwarden_url unrated (failure, back-off)",
                                              STAT_INT64_T, "Webwarden");
    return CI_OK;
}

static int load_list(const char *what, const char *path, struct ww_list **out)
{
    char err[WW_ERRLEN] = "";
    int rc = ww_list_load(path, out, err, sizeof(err));

    if (rc != WW_OK) {
        ww_log(WW_LOG_ERR, SVC ": [lists] %s: %s", what, err[0] ? err : ww_strerror(rc));
        return rc;
    }
    ww_log(WW_LOG_INFO, SVC ": %s list %s: %zu entries", what, path[0] ? path : "(none)",
           ww_list_count(*out));
    return WW_OK;
}

/* The [policy NAME] sections' extra lists; the policies themselves came with the config. */
static int url_policies_load(void)
{
    char err[WW_ERRLEN] = "";
    int rc = ww_policies_load_lists(url_conf->policy_set, err, sizeof(err));

    if (rc != WW_OK) {
        ww_log(WW_LOG_ERR, SVC ": %s: %s", url_conf->path, err[0] ? err : ww_strerror(rc));
        return rc;
    }
    if (ww_policies_count(url_conf->policy_set) > 0)
        ww_log(WW_LOG_INFO, SVC ": %zu policies besides the default",
               ww_policies_count(url_conf->policy_set));
    return WW_OK;
}

/* Config values of this service are only visible from here on (not in init). Failing marks the
 * service broken: c-icap answers 500 to its requests, and Squid (bypass=off) fails closed. */
static int url_post_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf)
{
    if (ww_cicap_load_conf(SVC, cfg_config_file, &url_conf, &url_tmpl) != WW_OK)
        return CI_ERROR;
    if (load_list("approved", url_conf->lists.approved, &url_approved) != WW_OK ||
        load_list("blocked", url_conf->lists.blocked, &url_blocked) != WW_OK)
        return CI_ERROR;
    if (url_policies_load() != WW_OK)
        return CI_ERROR;
    ww_log(WW_LOG_INFO, SVC ": ready, config %s", url_conf->path);
    return CI_OK;
}

/* Runs in every child at exit and in the monitor on reconfigure and stop: frees only this
 * process's copies, safe to run twice. */
static void url_close_service(void)
{
    url_child_stop(NULL, 0, NULL);
    ww_list_free(url_approved);
    ww_list_free(url_blocked);
    url_approved = url_blocked = NULL;
    free(url_tmpl);
    url_tmpl = NULL;
    ww_conf_free(url_conf);
    url_conf = NULL;
}

static void *url_init_request_data(ci_request_t *req)
{
    return calloc(1, sizeof(struct url_req));
}

static void url_release_request_data(void *data)
{
    struct url_req *ur = data;

    if (ur == NULL)
        return;
    ww_cicap_page_cleanup(&ur->page);
    free(ur);
}

/* The token for the access log's webwarden:source and the X-Webwarden-Reputation header. */
static const char *url_source_token(const struct ww_rating *r)
{
    switch (r->source) {
    case WW_REP_SRC_LIST:
        return "list";
    case WW_REP_SRC_LOCALDB:
        return "localdb";
    case WW_REP_SRC_CACHE:
        return "cache";
    case WW_REP_SRC_SERVER:
        return "server";
    case WW_REP_SRC_FAILURE:
        return r->error == WW_ETIMEOUT ? "timeout" : "failure";
    case WW_REP_SRC_BACKOFF:
        return "backoff";
    default:
        return "none";
    }
}

static void url_verdict_list(struct url_verdict *v)
{
    memset(v, 0, sizeof(*v));
    ww_rating_init(&v->rating, WW_REP_SRC_LIST, WW_OK);
    snprintf(v->score, sizeof(v->score), "-");
    snprintf(v->category, sizeof(v->category), "-");
    v->source = "list";
    snprintf(v->ms, sizeof(v->ms), "0");
}

/* Fills the printable fields of <v> from its rating; <t0> is when deciding began. */
static void url_verdict_finish(struct url_verdict *v, const struct timespec *t0)
{
    struct timespec t1;
    size_t n = 0;
    long us;

    snprintf(v->score, sizeof(v->score), "%d", v->rating.score);
    v->category[0] = '\0';
    for (int i = 0; i < v->rating.ncategories; i++) {
        int w = snprintf(v->category + n, sizeof(v->category) - n, "%s%s", i ? "," : "",
                         v->rating.categories[i]);
        if (w < 0 || (size_t)w >= sizeof(v->category) - n)
            break;
        n += (size_t)w;
    }
    if (v->category[0] == '\0')
        snprintf(v->category, sizeof(v->category), "%s", v->rating.score == 0 ? "unrated" : "-");
    v->source = url_source_token(&v->rating);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    us = (long)(t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000;
    snprintf(v->ms, sizeof(v->ms), "%ld.%03ld", us / 1000, us % 1000);
}

static void url_log_attrs(ci_request_t *req, const char *action, const char *reason,
                          const char *url, const struct url_verdict *v)
{
    ww_cicap_attr(req, "webwarden:action", action);
    ww_cicap_attr(req, "webwarden:reason", reason);
    ww_cicap_attr(req, "webwarden:url", url);
    ww_cicap_attr(req, "webwarden:score", v != NULL ? v->score : "-");
    ww_cicap_attr(req, "webwarden:category", v != NULL ? v->category : "-");
    ww_cicap_attr(req, "webwarden:source", v != NULL ? v->source : "-");
    ww_cicap_attr(req, "webwarden:ms", v != NULL ? v->ms : "-");
    ww_cicap_attr(req, "webwarden:policy", v != NULL && v->policy != NULL ? v->policy->name : "-");
}

/* X-Webwarden-Reputation: score=42; category=malware; source=server (reputation decisions). */
static void url_rep_header(ci_request_t *req, const struct url_verdict *v)
{
    char head[512], cat[400];

    ww_cicap_clean(v->category, cat, sizeof(cat)); /* it came from a server */
    snprintf(head, sizeof(head), "X-Webwarden-Reputation: score=%s; category=%s; source=%s",
             v->score, cat, v->source);
    ci_icap_add_xheader(req, head);
}

static int url_block(ci_request_t *req, struct url_req *ur, const char *url, const char *reason,
                     const struct url_verdict *v)
{
    char when[64], head[512], clean[400];
    const struct ww_page_var vars[] = {
        {"title", "Access blocked"},
        {"url", url},
        {"reason", reason},
        {"category", v->category},
        {"score", v->score},
        {"threat", "-"},
        {"service", SVC},
        {"time", when},
        {"policy", v->policy != NULL ? v->policy->name : "default"},
    };
    int rc;

    ww_cicap_now(when, sizeof(when));
    rc = ww_cicap_block_page(req, url_tmpl, vars, sizeof(vars) / sizeof(vars[0]), &ur->page);
    if (rc != WW_OK) {
        ww_log(WW_LOG_ERR, SVC ": cannot build the block page for %s: %s", url, ww_strerror(rc));
        return CI_ERROR;
    }
    ww_cicap_add_violation(req, url, reason);
    ci_icap_add_xheader(req, "X-Response-Info: BLOCKED");
    ww_cicap_clean(reason, clean, sizeof(clean));
    snprintf(head, sizeof(head), "X-Response-Desc: %s", clean);
    ci_icap_add_xheader(req, head);
    if (v->rating.source != WW_REP_SRC_LIST)
        url_rep_header(req, v);
    url_log_attrs(req, "block", reason, url, v);
    ci_stat_uint64_inc(stat_blocked, 1);
    ww_log(WW_LOG_ERR, SVC ": BLOCKED %s (%s) policy %s", url, reason,
           v->policy != NULL ? v->policy->name : "default");
    ci_req_unlock_data(req); /* the headers go out now: the verdict is final */
    return CI_MOD_CONTINUE;
}

static void url_count_source(const struct ww_rating *r)
{
    switch (r->source) {
    case WW_REP_SRC_LOCALDB:
        ci_stat_uint64_inc(stat_rep_localdb, 1);
        break;
    case WW_REP_SRC_CACHE:
        ci_stat_uint64_inc(stat_rep_cache, 1);
        break;
    case WW_REP_SRC_SERVER:
        ci_stat_uint64_inc(stat_rep_server, 1);
        break;
    case WW_REP_SRC_FAILURE:
    case WW_REP_SRC_BACKOFF:
        ci_stat_uint64_inc(stat_rep_unrated, 1);
        break;
    default:
        break;
    }
}

/* Queues the outcome of a reputation lookup for the feedback worker (via the tick). */
static void url_feedback_add(const char *url, const struct url_verdict *v)
{
    struct ww_feedback_event ev;

    if (url_fb == NULL)
        return;
    memset(&ev, 0, sizeof(ev));
    /* The queue keeps 2 KiB of a URL (up to 8 KiB here): enough to identify it. */
    size_t n = strnlen(url, sizeof(ev.url) - 1);
    memcpy(ev.url, url, n);
    ev.score = v->rating.score;
    snprintf(ev.categories, sizeof(ev.categories), "%s",
             v->rating.ncategories > 0 ? v->category : "");
    snprintf(ev.action, sizeof(ev.action), "%s", ww_policy_action_name(v->decision.action));
    ev.at = time(NULL);
    ww_fbbuf_add(url_fb, &ev);
}

/* Lists decided nothing: the rating (local db -> cache -> server within the timeout, or
 * unrated) and the reputation policy decide. A failed lookup is already logged by ww_rep. */
static int url_reputation(ci_request_t *req, struct url_req *ur, const char *url,
                          const struct ww_policy *pol, const struct timespec *t0)
{
    struct url_verdict v;
    struct ww_rep *rep = url_rep_get();

    memset(&v, 0, sizeof(v));
    v.policy = pol;
    if (rep != NULL)
        ww_rep_check(rep, url, &v.rating);
    else
        ww_rating_init(&v.rating, WW_REP_SRC_FAILURE, WW_ENOMEM);
    ww_policy_decide_for(url_conf, pol, &v.rating, &v.decision);
    url_verdict_finish(&v, t0);
    url_count_source(&v.rating);
    url_feedback_add(url, &v);
    if (v.decision.action == WW_ACTION_BLOCK)
        return url_block(req, ur, url, v.decision.reason, &v);
    url_rep_header(req, &v);
    url_log_attrs(req, "allow", v.decision.reason, url, &v);
    ci_stat_uint64_inc(stat_allowed, 1);
    return CI_MOD_ALLOW204;
}

static int url_check_preview(char *preview, int len, ci_request_t *req)
{
    struct url_req *ur = ci_service_data(req);
    char url[WW_URL_MAX], reason[WW_URL_MAX + 64];
    const char *entry = NULL;
    struct url_verdict v;
    struct timespec t0;
    static struct ww_log_limit long_url_lim;
    const struct ww_policy *pol;
    enum ww_listed listed;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (ur == NULL || url_conf == NULL) {
        ww_log(WW_LOG_ERR, SVC ": out of memory or not configured: request refused");
        return CI_ERROR;
    }
    pol = ww_cicap_policy(req, url_conf); /* who is asking: the proxy's ICAP headers only */
    rc = ww_cicap_request_url(req, url, sizeof(url));
    if (rc == WW_ETOOBIG) {
        /* Decided on its first part: a long query must not get a URL past the lists. */
        if (ww_log_limit_allow(&long_url_lim, 0, 60000))
            ww_log(WW_LOG_WARN,
                   SVC ": a request URL over %d bytes is checked by its first part %s (one line "
                       "a minute)",
                   WW_URL_MAX, url);
    } else if (rc != WW_OK) {
        /* Allowing is the list semantics: nothing names this request. */
        ww_log(WW_LOG_WARN, SVC ": cannot parse the request URL \"%s\": allowed", url);
        url_log_attrs(req, "allow", "unparseable url", url, NULL);
        ww_cicap_attr(req, "webwarden:policy", pol != NULL ? pol->name : "default");
        return CI_MOD_ALLOW204;
    }
    /* CONNECT host:port arrives here as "https://host/" (ww_url_from_request): rated by host. */
    listed = ww_policy_lists_match(url_approved, url_blocked, pol, url, &entry);
    if (listed == WW_LISTED_APPROVED) {
        snprintf(reason, sizeof(reason), "approved list: %s", entry);
        url_verdict_list(&v);
        v.policy = pol;
        url_log_attrs(req, "allow", reason, url, &v);
        ci_stat_uint64_inc(stat_approved, 1);
        return CI_MOD_ALLOW204;
    }
    if (listed == WW_LISTED_BLOCKED) {
        snprintf(reason, sizeof(reason), "blocked list: %s", entry);
        url_verdict_list(&v);
        v.policy = pol;
        return url_block(req, ur, url, reason, &v);
    }
    return url_reputation(req, ur, url, pol, &t0);
}

static int url_end_of_data(ci_request_t *req)
{
    return CI_MOD_DONE;
}

/* Only reached for a block: any request body (a POST) is read and dropped, the page goes out. */
static int url_io(char *wbuf, int *wlen, char *rbuf, int *rlen, int iseof, ci_request_t *req)
{
    struct url_req *ur = ci_service_data(req);

    /* *rlen left as is: everything offered counts as consumed. */
    if (wbuf != NULL && wlen != NULL)
        *wlen = ur != NULL ? ww_cicap_page_read(&ur->page, wbuf, *wlen) : CI_EOF;
    return CI_OK;
}
