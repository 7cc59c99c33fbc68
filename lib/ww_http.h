/* lib/ww_http.h - small blocking HTTP(S) client for the cloud servers (reputation, smart scan,
 * feedback, update, license): one libcurl easy handle reused across requests (keep-alive).
 *
 * One struct ww_http belongs to one thread at a time (libcurl easy handles are not shareable);
 * make one per thread, or guard it. Every request is bounded by opts.timeout_ms as a whole
 * (DNS + connect + TLS + headers + body): a server that accepts and never answers, or drips one
 * byte a second, costs at most that. Only http:// and https:// are allowed, redirects are not
 * followed, TLS peers are verified unless opts.tls_verify is 0. */
#ifndef WW_HTTP_H
#define WW_HTTP_H

#include <stddef.h>

/* Cap on an answer's body unless the caller sets another (PROTOCOL.md: over 1 MiB = failure). */
#define WW_HTTP_MAX_BODY ((size_t)1 << 20)

struct ww_http; /* opaque */

struct ww_http_opts {
    int timeout_ms;           /* whole request; <= 0 means 500 */
    int tls_verify;           /* 1 = verify peer and host name (default in ww_conf) */
    const char *ca_file;      /* NULL or "" = system store */
    const char *api_key;      /* NULL or "" = no Authorization header */
    const char *appliance_id; /* NULL or "" = header sent as "unknown" */
    size_t max_body;          /* 0 = WW_HTTP_MAX_BODY */
};

/* <dst> = <src> with copies of its strings that <dst> owns ("" for NULL), for settings that must
 * outlive the config they came from. WW_OK, or WW_ENOMEM with nothing held. Release the copies
 * with ww_http_opts_cleanup(). */
int ww_http_opts_copy(struct ww_http_opts *dst, const struct ww_http_opts *src);
void ww_http_opts_cleanup(struct ww_http_opts *o); /* a copy's strings; then all NULL */

/* An answer received from a server. <body> is borrowed from the client: NUL-terminated, valid
 * until the next request on that client or ww_http_free(). */
struct ww_http_result {
    long status;
    const char *body;
    size_t body_len;
};

/* A client with <opts> (strings are copied); NULL if out of memory or libcurl fails to start.
 * The caller owns it: ww_http_free(). Call curl_global_init() (or ww_http_global_init()) once
 * per process before threads start; the first ww_http_create() does it if nobody did. */
struct ww_http *ww_http_create(const struct ww_http_opts *opts);
void ww_http_free(struct ww_http *h); /* NULL is a no-op */

/* Process-wide libcurl initialisation; call once before starting threads. WW_OK or WW_EIO. */
int ww_http_global_init(void);

/* GET <url>. WW_OK with <res> filled whenever an HTTP answer arrived, whatever its status
 * (the caller decides what a status means). Otherwise, with <res> zeroed:
 * WW_ETIMEOUT (the deadline passed), WW_EUNAVAIL (could not resolve, refused, reset, TLS
 * failure or certificate not trusted), WW_ETOOBIG (body over the cap), WW_EPROTO (not HTTP),
 * WW_EINVAL (bad URL or scheme), WW_ENOMEM. Blocks at most opts.timeout_ms. */
int ww_http_get(struct ww_http *h, const char *url, struct ww_http_result *res);

/* POST <json> (<len> bytes) as application/json to <url>; results as ww_http_get(). */
int ww_http_post_json(struct ww_http *h, const char *url, const char *json, size_t len,
                      struct ww_http_result *res);

/* ww_http_download(): a body streamed to a file instead of memory (update payloads). */
struct ww_http_download_opts {
    long long max_bytes; /* a longer body (or announced length) is WW_ETOOBIG; <= 0: no cap */
    int timeout_ms;      /* whole request for this call; <= 0 = the client's opts.timeout_ms */
    /* NULL, or asked about once a second: 0 aborts the transfer (WW_ETIMEOUT). */
    long (*time_left_ms)(void *arg);
    void *arg;
};
struct ww_http_download_status {
    long status;     /* HTTP status, 0 if no answer */
    long long bytes; /* body bytes written to the file (only for a 2xx answer) */
    int write_errno; /* errno of a failed write (disk full ...), else 0 */
};

/* GET <url> writing the body of a 2xx answer to <fd> (from its current offset; the body of any
 * other status is read and dropped). The client's other settings (headers, TLS, the body cap of
 * ww_http_get) are unchanged afterwards. WW_OK with <st> filled whenever an answer arrived
 * (the caller checks st->status and st->bytes); WW_EIO when writing to <fd> failed
 * (st->write_errno); else as ww_http_get. Blocks at most o->timeout_ms. */
int ww_http_download(struct ww_http *h, const char *url, int fd,
                     const struct ww_http_download_opts *o, struct ww_http_download_status *st);

/* libcurl's text for the last failure ("" if none), for the caller's log line. Borrowed until
 * the next request. */
const char *ww_http_last_error(const struct ww_http *h);

/* Appends <s> percent-encoded for a query value (RFC 3986 unreserved kept) to <out> of
 * <outlen> bytes, starting at its current strlen. WW_OK or WW_ETOOBIG (out then truncated to its
 * old content). */
int ww_http_append_escaped(char *out, size_t outlen, const char *s);

#endif
