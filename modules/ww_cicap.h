/* modules/ww_cicap.h - glue shared by the two c-icap services: log sink, config loading, the
 * request URL, access-log attributes and the block page. Compiled into each module; every symbol
 * stays hidden (c-icap-config gives -fvisibility=hidden), so the two .so never interpose. */
#ifndef WW_CICAP_H
#define WW_CICAP_H

#include <stddef.h>

#include <c_icap/c-icap.h>
#include <c_icap/request.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_html.h"

/* Sends libwebwarden's log lines to c-icap's server log (ci_debug_printf, same level numbers:
 * 1 error ... 5 debug). Call once from mod_init_service. */
void ww_cicap_log_init(void);

/* Loads the webwarden.conf at <path> (NULL or "" = ww_conf_pick_path(NULL)) and the block-page
 * template it names. WW_OK with *conf and *tmpl set (caller owns both: ww_conf_free, free), or
 * an error already logged at level 1 as "<svc>: file:line: reason". Runs in the monitor. */
int ww_cicap_load_conf(const char *svc, const char *path, struct ww_conf **conf, char **tmpl);

/* The absolute, canonical URL of the encapsulated HTTP request, built from the request line and
 * Host: (c-icap's ci_http_request_url() drops the query). WW_OK; WW_ETOOBIG when the URL does not
 * fit WW_URL_MAX canonicalised: then <out> is the canonical URL of its first part (without the
 * query, or cut at a '/' within the first 2 KiB), so lists and reputation still see its host and
 * path - a long query must not take a URL past the blocked list; WW_EINVAL when there is no
 * request line or it is not a URL (then <out> holds the raw target, cleaned, for logs). */
int ww_cicap_request_url(ci_request_t *req, char *out, size_t outlen);

/* Copies <in> into <out> without CR, LF or other control bytes (TAB becomes a space), cut to
 * <outlen>-1 bytes: safe inside an ICAP/HTTP header value or an access-log field. */
void ww_cicap_clean(const char *in, char *out, size_t outlen);

/* ci_request_set_str_attribute(req, name, cleaned value), "-" for NULL or "". */
void ww_cicap_attr(ci_request_t *req, const char *name, const char *value);

/* X-Violations-Found with one violation (c-icap's layout: a count line, then four folded lines
 * file, threat, problem id 0, resolution 0). Values are cleaned. */
void ww_cicap_add_violation(ci_request_t *req, const char *file, const char *threat);

/* A rendered block page being sent out of mod_service_io. */
struct ww_cicap_page {
    char *html; /* malloc'd; NULL = no page */
    size_t len;
    size_t pos; /* bytes already given to c-icap */
};

/* Replaces the encapsulated HTTP message by "HTTP/1.1 403 Forbidden" with the template rendered
 * from <vars> (each value HTML-escaped by ww_page_render), Content-Type text/html; charset=utf-8,
 * the exact Content-Length, Cache-Control: no-store and Connection: close. Must run before
 * ci_req_unlock_data() (the headers are committed then). WW_OK and <page> filled, or
 * WW_ENOMEM / WW_EIO (c-icap refused the headers). */
int ww_cicap_block_page(ci_request_t *req, const char *tmpl, const struct ww_page_var *vars,
                        size_t nvars, struct ww_cicap_page *page);

/* Copies the next bytes of <page> into <buf>: the count, or CI_EOF once all was given. */
int ww_cicap_page_read(struct ww_cicap_page *page, char *buf, int len);
void ww_cicap_page_cleanup(struct ww_cicap_page *page); /* frees the HTML; page may be empty */

/* Body bytes written by the module itself, in one ICAP chunk, instead of by c-icap, which writes
 * at most 4,064 bytes a round: while the request's body is read, in the poll that reads; after
 * it (send_remaining_response in its request.c, 0.5 and 0.6 alike), behind a poll() of its own
 * before each write, so a 64 KiB body held to its end costs 16 such rounds, more than Webwarden's
 * scan of it. The connection must be at a chunk boundary, with nothing c-icap formatted still
 * unwritten:
 *   - after the request's body: when mod_service_io is called with rbuf and rlen NULL and iseof
 *     set (c-icap calls it so only once everything it formatted went out);
 *   - while the body is read: when ww_cicap_at_chunk_boundary() (the headers went out, and c-icap
 *     holds no body bytes, formatted or not).
 * Writes "<hex>\r\n", the <ndata> pieces (at most WW_CICAP_CHUNK_PIECES) and "\r\n" on the plain
 * TCP connection (ww_cicap_direct_ok), waiting up to WW_CICAP_SEND_TIMEOUT_S for room each time
 * it is full, and counts them in c-icap's byte counters. Returns the body bytes written (all of
 * them); 0 when nothing was written (no data, or not ww_cicap_direct_ok); -1 when the connection
 * failed part way (the response is broken: the caller returns CI_ERROR). */
#define WW_CICAP_CHUNK_PIECES 2
#define WW_CICAP_SEND_TIMEOUT_S 300 /* c-icap's default Timeout */
struct iovec;
long ww_cicap_send_chunk(ci_request_t *req, const struct iovec *data, int ndata);
/* 1 when the module may write to the connection itself: a plain TCP connection (an ICAPS one is
 * written by c-icap's TLS layer only). */
int ww_cicap_direct_ok(ci_request_t *req);
/* 1 when c-icap is sending the body and holds none of it: nothing formatted unwritten, no bytes
 * taken from the module in this round. */
int ww_cicap_at_chunk_boundary(ci_request_t *req);

/* The named policy (lib/ww_policies) for the request's identity, taken from the ICAP request
 * headers only (X-Client-IP, X-Client-Username, X-Authenticated-User, X-Authenticated-Groups:
 * lib/ww_who), never from the encapsulated HTTP request, whose headers the client writes. Adds
 * "X-Webwarden-Policy: NAME" to the ICAP answer and sets webwarden:policy. Never NULL for a
 * loaded <conf> (the default policy when nothing matches). */
struct ww_policy;
const struct ww_policy *ww_cicap_policy(ci_request_t *req, const struct ww_conf *conf);

/* Every value of the response header <name> (e.g. "Content-Encoding"), in order, at most <max>
 * (borrowed from c-icap's header list until the request ends; blanks around the colon skipped:
 * ww_header_field_value). The count. */
size_t ww_cicap_response_values(ci_request_t *req, const char *name, const char **out, size_t max);

/* The response's status line ("HTTP/1.1 206 Partial Content"), NULL without one. Borrowed. */
const char *ww_cicap_response_status(ci_request_t *req);

/* "2026-11-27 20:51:56 UTC" for the {{time}} placeholder. */
void ww_cicap_now(char *out, size_t outlen);

#endif

struct ww_child;

/* Maps c-icap's per-child commands to the runtime at *<rt> (lib/ww_child.h), read when each
 * command runs (the monitor makes it in post_init): "<svc>:child_start" (CHILD_START: start
 * with <fb_cap> feedback events, then the tick every second), "<svc>:tick" (ONDEMAND, re-arms
 * itself) and "<svc>:child_stop" (CHILD_STOP). Call once from mod_init_service; one runtime per
 * module (.so). */
void ww_cicap_child_register(const char *svc, struct ww_child **rt, size_t fb_cap);
