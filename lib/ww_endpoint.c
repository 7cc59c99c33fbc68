/* lib/ww_endpoint.c - the cloud servers' endpoints from the config (see ww_endpoint.h). */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_endpoint.h"

/* Where each server's keys live in struct ww_conf: one row per server, in enum ww_server order.
 * <scale> turns the timeout key into milliseconds ([update] counts its long one in seconds);
 * <def_ms> stands in for a timeout of 0 (a config filled by hand, not loaded). */
/* clang-format off */
#define EP_ROW(sec, timeout_key, scale, def_ms)                                                    \
    {#sec, offsetof(struct ww_conf, sec.server), offsetof(struct ww_conf, sec.api_key),            \
     offsetof(struct ww_conf, sec.timeout_key), scale, def_ms,                                     \
     offsetof(struct ww_conf, sec.tls_verify), offsetof(struct ww_conf, sec.ca_file)}
/* clang-format on */
static const struct {
    const char *section;
    size_t server, api_key, timeout;
    int timeout_scale, timeout_def_ms;
    size_t tls_verify, ca_file;
} ep_rows[WW_SERVER_COUNT] = {
    EP_ROW(reputation, timeout_ms, 1, 500), EP_ROW(smart_scan, timeout_ms, 1, 1500),
    EP_ROW(feedback, timeout_ms, 1, 10000), EP_ROW(update, timeout_s, 1000, 300000),
    EP_ROW(license, timeout_ms, 1, 10000),
};

static const char *ep_str(const struct ww_conf *conf, size_t off)
{
    const char *v = *(char *const *)((const char *)conf + off);
    return v != NULL ? v : "";
}

static int ep_int(const struct ww_conf *conf, size_t off)
{
    return *(const int *)((const char *)conf + off);
}

void ww_endpoint_init(struct ww_endpoint *ep, const struct ww_conf *conf, enum ww_server which,
                      const char *appliance_id)
{
    int w = (int)which >= 0 && (int)which < WW_SERVER_COUNT ? (int)which : 0;

    memset(ep, 0, sizeof(*ep));
    ep->which = (enum ww_server)w;
    ep->section = ep_rows[w].section;
    ep->server = ep_str(conf, ep_rows[w].server);
    ep->server_len = ww_endpoint_base_len(ep->server);
    ep->http.timeout_ms = ep_int(conf, ep_rows[w].timeout) * ep_rows[w].timeout_scale;
    if (ep->http.timeout_ms <= 0)
        ep->http.timeout_ms = ep_rows[w].timeout_def_ms;
    ep->http.tls_verify = ep_int(conf, ep_rows[w].tls_verify);
    ep->http.ca_file = ep_str(conf, ep_rows[w].ca_file);
    ep->http.api_key = ep_str(conf, ep_rows[w].api_key);
    ep->http.appliance_id = appliance_id;
}

int ww_endpoint_configured(const struct ww_endpoint *ep)
{
    return ep->server != NULL && ep->server[0] != '\0';
}

size_t ww_endpoint_base_len(const char *server)
{
    size_t n = server != NULL ? strlen(server) : 0;

    while (n > 0 && server[n - 1] == '/')
        n--;
    return n;
}

int ww_endpoint_join(const char *server, const char *path, char *out, size_t outlen)
{
    size_t n = ww_endpoint_base_len(server);
    int len;

    if (outlen == 0)
        return WW_ETOOBIG;
    len = snprintf(out, outlen, "%.*s%s", (int)n, n > 0 ? server : "", path);
    if (len < 0 || (size_t)len >= outlen) {
        out[0] = '\0';
        return WW_ETOOBIG;
    }
    return WW_OK;
}

struct ww_http *ww_endpoint_http_create(const struct ww_endpoint *ep)
{
    return ww_http_create(&ep->http);
}
