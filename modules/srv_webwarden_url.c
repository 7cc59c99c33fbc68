/* modules/srv_webwarden_url.c - c-icap REQMOD service "webwarden_url": maps c-icap to the URL
 * decision of lib/ww_urlcheck (lists, local URL database, cache, reputation server, policy) and
 * the per-child runtime of lib/ww_child; a 403 block page for blocked URLs, 204 for the rest.
 * Decides on headers only (Preview: 0). */
#include "config.h"

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

#include "ww_child.h"
#include "ww_cicap.h"
#include "ww_common.h"
#include "ww_conf.h"
#include "ww_counters.h"
#include "ww_html.h"
#include "ww_log.h"
#include "ww_store.h"
#include "ww_urlcheck.h"

#define SVC "webwarden_url"

static int url_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf);
static int url_post_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf);
static void url_close_service(void);
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
    NULL,                      /* mod_init_request_data: made by url_block, only to block */
    url_release_request_data,  /* mod_release_request_data */
    url_check_preview,         /* mod_check_preview_handler */
    url_end_of_data,           /* mod_end_of_data_handler */
    url_io,                    /* mod_service_io */
    url_conf_table,            /* mod_conf_table */
    NULL                       /* mod_data */
};

/* Loaded in post_init by the monitor, read-only afterwards: children share them copy-on-write.
 * url_check's reputation lookup and url_rt's store and feedback buffer are made per child
 * (their CHILD_START), after fork. */
static struct ww_conf *url_conf;
static char *url_tmpl;
static struct ww_urlcheck *url_check;
static struct ww_child *url_rt;

/* c-icap statistics (the `info` service): registered in init, counted in children only. */
static int stat_allowed = -1, stat_blocked = -1, stat_approved = -1;
static int stat_rep_localdb = -1, stat_rep_cache = -1, stat_rep_server = -1, stat_rep_unrated = -1;

/* A request's service data (ci_service_data): NULL until url_block sets it, so an allowed
 * request (nearly all) allocates nothing; c-icap releases it when set. */
struct url_req {
    struct ww_cicap_page page; /* the block page */
};

/* Runtime hooks, in the child's main thread with the store lock held (<st> may be NULL at
 * start: the store did not open; the lookup then uses urldb.file). */
static void url_rt_start(struct ww_store *st, void *arg)
{
    char err[WW_ERRLEN] = "";

    /* Before the first request: the urldb load is not paid by a request. */
    if (url_check != NULL && ww_urlcheck_open_reputation(url_check, st, err, sizeof(err)) != WW_OK)
        ww_log(WW_LOG_ERR, SVC ": %s", err[0] ? err : "out of memory making the reputation lookup");
}

static void url_rt_tick(struct ww_store *st, void *arg)
{
    if (url_check == NULL)
        return;
    url_rt_start(st, arg); /* a lookup that could not be made (out of memory) is tried again */
    ww_urlcheck_tick(url_check, st);
}

static void url_rt_stop(void *arg)
{
    ww_urlcheck_close_reputation(url_check); /* the child's threads are done by now */
}

static int url_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf)
{
    /* Statics survive a reconfigure when the .so is not unloaded (forceUnload=off). */
    cfg_config_file = NULL;
    ww_cicap_log_init();
    ci_service_set_preview(xdata, 0); /* headers decide */
    ci_service_enable_204(xdata);
    ci_service_set_transfer_preview(xdata, "*");
    ww_cicap_child_register(SVC, &url_rt, 0);
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

/* Config values of this service are only visible from here on (not in init). Failing marks the
 * service broken: c-icap answers 500 to its requests, and Squid (bypass=off) fails closed. */
static int url_post_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf)
{
    static const struct ww_child_hooks hooks = {
        .start = url_rt_start, .tick = url_rt_tick, .stop = url_rt_stop};
    char err[WW_ERRLEN] = "";

    if (ww_cicap_load_conf(SVC, cfg_config_file, &url_conf, &url_tmpl) != WW_OK)
        return CI_ERROR;
    if (ww_urlcheck_create(url_conf, &url_check, err, sizeof(err)) != WW_OK ||
        ww_child_create(url_conf, SVC, 0, &hooks, &url_rt, err, sizeof(err)) != WW_OK) {
        ww_log(WW_LOG_ERR, SVC ": %s", err);
        return CI_ERROR;
    }
    ww_log(WW_LOG_INFO, SVC ": ready, config %s", url_conf->path);
    return CI_OK;
}

/* Runs in every child at exit and in the monitor on reconfigure and stop: frees only this
 * process's copies, safe to run twice. */
static void url_close_service(void)
{
    ww_child_free(url_rt); /* stops first: the last feedback goes to the store */
    url_rt = NULL;
    ww_urlcheck_free(url_check);
    url_check = NULL;
    free(url_tmpl);
    url_tmpl = NULL;
    ww_conf_free(url_conf);
    url_conf = NULL;
}

static void url_release_request_data(void *data)
{
    struct url_req *ur = data;

    if (ur == NULL)
        return;
    ww_cicap_page_cleanup(&ur->page);
    free(ur);
}

/* The access log's attributes. webwarden:policy is ww_cicap_policy's, set before the decision
 * (so a refused request has it too) and equal to v->policy: not added a second time. */
static void url_log_attrs(ci_request_t *req, const char *action, const char *reason,
                          const char *url, const struct ww_urlcheck_verdict *v)
{
    ww_cicap_attr(req, "webwarden:action", action);
    ww_ctr_add(strcmp(action, "block") == 0 ? WW_CTR_URL_BLOCK : WW_CTR_URL_ALLOW, 1);
    ww_cicap_attr(req, "webwarden:reason", reason);
    ww_cicap_attr(req, "webwarden:url", url);
    ww_cicap_attr(req, "webwarden:score", v != NULL ? v->score : "-");
    ww_cicap_attr(req, "webwarden:category", v != NULL ? v->category : "-");
    ww_cicap_attr(req, "webwarden:source", v != NULL ? v->source : "-");
    ww_cicap_attr(req, "webwarden:ms", v != NULL ? v->ms : "-");
}

/* X-Webwarden-Reputation: score=42; category=malware; source=server (reputation decisions). */
static void url_rep_header(ci_request_t *req, const struct ww_urlcheck_verdict *v)
{
    char head[512], cat[400];
    size_t n;

    ww_cicap_clean(v->category, cat, sizeof(cat)); /* it came from a server */
    n = ww_str_append(head, sizeof(head), 0, "X-Webwarden-Reputation: score=");
    n = ww_str_append(head, sizeof(head), n, v->score);
    n = ww_str_append(head, sizeof(head), n, "; category=");
    n = ww_str_append(head, sizeof(head), n, cat);
    n = ww_str_append(head, sizeof(head), n, "; source=");
    ww_str_append(head, sizeof(head), n, v->source);
    ci_icap_add_xheader(req, head);
}

static int url_block(ci_request_t *req, const char *url, const struct ww_urlcheck_verdict *v)
{
    struct url_req *ur;
    char when[64], head[512], clean[400];
    const struct ww_page_var vars[] = {
        {"title", "Access blocked"},
        {"url", url},
        {"reason", v->reason},
        {"category", v->category},
        {"score", v->score},
        {"threat", "-"},
        {"service", SVC},
        {"time", when},
        {"policy", v->policy},
    };
    int rc;

    ur = calloc(1, sizeof(*ur));
    if (ur == NULL) {
        ww_log(WW_LOG_ERR, SVC ": out of memory blocking %s: request refused", url);
        return CI_ERROR;
    }
    ci_service_data(req) = ur; /* c-icap calls url_release_request_data with it */
    ww_cicap_now(when, sizeof(when));
    rc = ww_cicap_block_page(req, url_tmpl, vars, sizeof(vars) / sizeof(vars[0]), &ur->page);
    if (rc != WW_OK) {
        ww_log(WW_LOG_ERR, SVC ": cannot build the block page for %s: %s", url, ww_strerror(rc));
        return CI_ERROR;
    }
    ww_cicap_add_violation(req, url, v->reason);
    ci_icap_add_xheader(req, "X-Response-Info: BLOCKED");
    ww_cicap_clean(v->reason, clean, sizeof(clean));
    snprintf(head, sizeof(head), "X-Response-Desc: %s", clean);
    ci_icap_add_xheader(req, head);
    if (v->by == WW_URLCHECK_REPUTATION)
        url_rep_header(req, v);
    url_log_attrs(req, "block", v->reason, url, v);
    ci_stat_uint64_inc(stat_blocked, 1);
    ww_log(WW_LOG_ERR, SVC ": BLOCKED %s (%s) policy %s", url, v->reason, v->policy);
    ww_child_block_add(url_rt, "url", url, v->policy, v->reason); /* an event, aggregated */
    ci_req_unlock_data(req); /* the headers go out now: the verdict is final */
    return CI_MOD_CONTINUE;
}

static void url_count(const struct ww_urlcheck_verdict *v)
{
    switch (v->rating.source) {
    case WW_REP_SRC_LIST:
        if (v->by == WW_URLCHECK_APPROVED)
            ci_stat_uint64_inc(stat_approved, 1);
        break;
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

static int url_check_preview(char *preview, int len, ci_request_t *req)
{
    char url[WW_URL_MAX];
    struct ww_urlcheck_input in = {.url = url};
    struct ww_urlcheck_verdict v;
    struct ww_feedback_event ev;
    static struct ww_log_limit long_url_lim;
    int rc;

    if (url_check == NULL) {
        ww_log(WW_LOG_ERR, SVC ": not configured: request refused");
        return CI_ERROR;
    }
    in.policy = ww_cicap_policy(req, url_conf); /* who is asking: the proxy's ICAP headers only */
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
        return CI_MOD_ALLOW204;
    }
    in.has_range = ci_http_request_get_header(req, "Range") != NULL;
    in.has_if_range = ci_http_request_get_header(req, "If-Range") != NULL;
    ww_urlcheck_decide(url_check, &in, &v);
    url_count(&v);
    if (ww_urlcheck_feedback_event(&in, &v, &ev))
        ww_child_feedback_add(url_rt, &ev);
    if (v.action == WW_ACTION_BLOCK)
        return url_block(req, url, &v);
    if (v.by == WW_URLCHECK_REPUTATION)
        url_rep_header(req, &v);
    url_log_attrs(req, "allow", v.reason, url, &v);
    if (v.by == WW_URLCHECK_REPUTATION)
        ci_stat_uint64_inc(stat_allowed, 1);
    if (v.strip_range && !ci_req_hasbody(req)) {
        /* scan.range = strip: the modified request (200, not 204) asks for the whole object. A
         * request with a body (never a resume) keeps its headers: this service does not echo
         * bodies. */
        while (ci_http_request_remove_header(req, "Range"))
            ;
        while (ci_http_request_remove_header(req, "If-Range"))
            ;
        ww_log(WW_LOG_DEBUG, SVC ": Range and If-Range removed from %s (scan.range = strip)", url);
        return CI_MOD_CONTINUE;
    }
    return CI_MOD_ALLOW204;
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
