/* lib/ww_endpoint.h - the five cloud servers (reputation, smart scan, feedback, update, license)
 * as endpoints built from the config in one place: base URL, request timeout, TLS settings, API
 * key and appliance id.
 *
 * Each server's section of webwarden.conf has its own server, api_key, timeout and, since the
 * TLS keys moved there, tls_verify and ca_file; a section that does not set tls_verify or ca_file
 * takes [reputation]'s (ww_conf resolves that when it loads the file). Plain data: thread-safe. */
#ifndef WW_ENDPOINT_H
#define WW_ENDPOINT_H

#include <stddef.h>

#include "ww_http.h"

struct ww_conf;

enum ww_server {
    WW_SERVER_REPUTATION = 0,
    WW_SERVER_SMART_SCAN,
    WW_SERVER_FEEDBACK,
    WW_SERVER_UPDATE,
    WW_SERVER_LICENSE
};
#define WW_SERVER_COUNT 5

/* One server as the config describes it. Strings are borrowed from the config and from the
 * appliance id given to ww_endpoint_init, for as long as those live. */
struct ww_endpoint {
    enum ww_server which;
    const char *section;      /* its config section: "reputation", "smart_scan", ... */
    const char *server;       /* base URL as configured; "" = not configured */
    size_t server_len;        /* of <server> without trailing '/' */
    struct ww_http_opts http; /* timeout, tls_verify, ca_file, api_key, appliance_id */
};

/* Fills <ep> for <which> from <conf>. <appliance_id>: NULL or "" = sent as "unknown". */
void ww_endpoint_init(struct ww_endpoint *ep, const struct ww_conf *conf, enum ww_server which,
                      const char *appliance_id);

/* 1 when the section names a server, else 0 (the feature is off). */
int ww_endpoint_configured(const struct ww_endpoint *ep);

/* The length of base URL <server> without its trailing '/' characters. */
size_t ww_endpoint_base_len(const char *server);

/* <out> = <server> without trailing '/' followed by <path> (which starts with '/').
 * WW_OK, or WW_ETOOBIG with <out> "" when it does not fit in <outlen> bytes. */
int ww_endpoint_join(const char *server, const char *path, char *out, size_t outlen);

/* An HTTP client with the endpoint's settings (ww_http_create copies them); NULL if out of
 * memory. The caller owns it: ww_http_free(). */
struct ww_http *ww_endpoint_http_create(const struct ww_endpoint *ep);

#endif
