/* modules/srv_webwarden_url.c - c-icap REQMOD service "webwarden_url": approved and blocked lists,
 * a 403 block page for blocked URLs, 204 for the rest. Decides on headers only (Preview: 0). */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#include "ww_html.h"
#include "ww_lists.h"
#include "ww_log.h"
#include "ww_store.h"

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

/* c-icap statistics (the `info` service): registered in init, counted in children only. */
static int stat_allowed = -1, stat_blocked = -1, stat_approved = -1;

struct url_req {
    struct ww_cicap_page page; /* the block page, when blocked */
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

/* Runs in each child's main thread once a second: the home of periodic in-child work
 * (feedback flush, reloads: issue 3). */
static void url_tick(const char *name, int type, void *data)
{
    pthread_mutex_lock(&store_mtx);
    url_store_try_open();
    pthread_mutex_unlock(&store_mtx);
    ci_command_schedule(CMD_TICK, NULL, 1);
}

static void url_child_start(const char *name, int type, void *data)
{
    pthread_mutex_lock(&store_mtx);
    url_store_try_open();
    pthread_mutex_unlock(&store_mtx);
    ci_command_schedule(CMD_TICK, NULL, 1);
}

static void url_child_stop(const char *name, int type, void *data)
{
    pthread_mutex_lock(&store_mtx);
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

/* Config values of this service are only visible from here on (not in init). Failing marks the
 * service broken: c-icap answers 500 to its requests, and Squid (bypass=off) fails closed. */
static int url_post_init_service(ci_service_xdata_t *xdata, struct ci_server_conf *server_conf)
{
    if (ww_cicap_load_conf(SVC, cfg_config_file, &url_conf, &url_tmpl) != WW_OK)
        return CI_ERROR;
    if (load_list("approved", url_conf->lists.approved, &url_approved) != WW_OK ||
        load_list("blocked", url_conf->lists.blocked, &url_blocked) != WW_OK)
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

static void url_log_attrs(ci_request_t *req, const char *action, const char *reason,
                          const char *url)
{
    ww_cicap_attr(req, "webwarden:action", action);
    ww_cicap_attr(req, "webwarden:reason", reason);
    ww_cicap_attr(req, "webwarden:url", url);
    ww_cicap_attr(req, "webwarden:score", "-");    /* issue 3: reputation */
    ww_cicap_attr(req, "webwarden:category", "-"); /* issue 3: reputation */
}

static int url_block(ci_request_t *req, struct url_req *ur, const char *url, const char *reason)
{
    char when[64], head[512], clean[400];
    const struct ww_page_var vars[] = {
        {"title", "Access blocked"},
        {"url", url},
        {"reason", reason},
        {"category", "-"},
        {"score", "-"},
        {"threat", "-"},
        {"service", SVC},
        {"time", when},
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
    url_log_attrs(req, "block", reason, url);
    ci_stat_uint64_inc(stat_blocked, 1);
    ww_log(WW_LOG_ERR, SVC ": BLOCKED %s (%s)", url, reason);
    ci_req_unlock_data(req); /* the headers go out now: the verdict is final */
    return CI_MOD_CONTINUE;
}

static int url_check_preview(char *preview, int len, ci_request_t *req)
{
    struct url_req *ur = ci_service_data(req);
    char url[WW_URL_MAX], reason[WW_URL_MAX + 64];
    const char *entry = NULL;

    if (ur == NULL || url_conf == NULL) {
        ww_log(WW_LOG_ERR, SVC ": out of memory or not configured: request refused");
        return CI_ERROR;
    }
    if (ww_cicap_request_url(req, url, sizeof(url)) != WW_OK) {
        /* Allowing is the list semantics: nothing names this request. */
        ww_log(WW_LOG_WARN, SVC ": cannot parse the request URL \"%s\": allowed", url);
        url_log_attrs(req, "allow", "unparseable url", url);
        return CI_MOD_ALLOW204;
    }
    if (ww_list_match(url_approved, url, &entry)) {
        snprintf(reason, sizeof(reason), "approved list: %s", entry);
        url_log_attrs(req, "allow", reason, url);
        ci_stat_uint64_inc(stat_approved, 1);
        return CI_MOD_ALLOW204;
    }
    if (ww_list_match(url_blocked, url, &entry)) {
        snprintf(reason, sizeof(reason), "blocked list: %s", entry);
        return url_block(req, ur, url, reason);
    }
    url_log_attrs(req, "allow", "-", url);
    ci_stat_uint64_inc(stat_allowed, 1);
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
