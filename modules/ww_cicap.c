/* modules/ww_cicap.c - glue shared by the two c-icap services (see ww_cicap.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>

#include <c_icap/c-icap.h>
#include <c_icap/commands.h>
#include <c_icap/debug.h>
#include <c_icap/header.h>
#include <c_icap/net_io.h>
#include <c_icap/request.h>
#include <c_icap/simple_api.h>

#include "ww_child.h"
#include "ww_cicap.h"
#include "ww_decode.h"
#include "ww_lastgood.h"
#include "ww_log.h"
#include "ww_policies.h"
#include "ww_url.h"
#include "ww_who.h"

static void cicap_log_sink(int level, const char *line)
{
    /* Errors and warnings at c-icap's level 1, so Debian's default "DebugLevel 1" shows them
     * (unscanned downloads, server back-offs, skipped signature lines); info from level 3.
     * ci_debug_printf is a bare if-macro: keep it braced. */
    if (level <= WW_LOG_WARN)
        level = 1;
    {
        ci_debug_printf(level, "webwarden: %s\n", line);
    }
}

void ww_cicap_log_init(void)
{
    /* c-icap's DebugLevel filters further; pass everything up to debug. */
    ww_log_set_sink(cicap_log_sink, WW_LOG_DEBUG);
}

int ww_cicap_load_conf(const char *svc, const char *path, struct ww_conf **conf, char **tmpl)
{
    char err[WW_ERRLEN] = "";
    struct ww_conf *c = NULL;
    char *t = NULL;
    int rc, fallback = 0;

    if (path == NULL || path[0] == '\0')
        path = ww_conf_pick_path(NULL);
    /* c-icap unloads the services on reconfigure: a file that no longer loads is refused and
     * the last good copy serves (lib/ww_lastgood), named in the log and in status. */
    rc = ww_lastgood_load(path, 0, &c, &fallback, err, sizeof(err));
    if (rc != WW_OK) {
        ww_log(WW_LOG_ERR, "%s: cannot load config: %s", svc, err[0] ? err : ww_strerror(rc));
        goto cleanup;
    }
    if (fallback)
        ww_log(WW_LOG_ERR, "%s: %s", svc, err);
    rc = ww_page_load(c->gateway.block_page, &t, err, sizeof(err));
    if (rc != WW_OK) {
        ww_log(WW_LOG_ERR, "%s: %s: [gateway] block_page: %s", svc, c->path,
               err[0] ? err : ww_strerror(rc));
        goto cleanup;
    }
    *conf = c;
    *tmpl = t;
    c = NULL;
    t = NULL;
cleanup:
    ww_conf_free(c);
    free(t);
    return rc;
}

void ww_cicap_clean(const char *in, char *out, size_t outlen)
{
    size_t n = 0;

    if (outlen == 0)
        return;
    for (; in != NULL && *in != '\0' && n + 1 < outlen; in++) {
        unsigned char ch = (unsigned char)*in;
        if (ch == '\t')
            out[n++] = ' ';
        else if (ch >= 0x20 && ch != 0x7f)
            out[n++] = (char)ch;
    }
    out[n] = '\0';
}

/* A target too long to canonicalise, cut to its start: the part before '?' / '#' when that is
 * short, else up to the last '/' in the first URL_CUT_MAX bytes. Short enough that percent
 * re-escaping (3 bytes for 1) still fits WW_URL_MAX. */
#define URL_CUT_MAX (WW_URL_MAX / 4)

static int request_url_cut(const char *method, const char *target, size_t tlen, const char *host,
                           char *out, size_t outlen)
{
    char cut[URL_CUT_MAX];
    size_t n = 0;

    while (n < tlen && target[n] != '?' && target[n] != '#')
        n++;
    if (n >= sizeof(cut)) {
        n = sizeof(cut) - 1;
        while (n > 0 && target[n] != '/')
            n--;
    }
    if (n == 0)
        return WW_EINVAL;
    memcpy(cut, target, n);
    cut[n] = '\0';
    return ww_url_from_request(method, cut, host, out, outlen);
}

int ww_cicap_request_url(ci_request_t *req, char *out, size_t outlen)
{
    const char *line = ci_http_request(req);
    const char *host = ci_http_request_get_header(req, "Host");
    char method[32], target[WW_URL_MAX];
    size_t mlen, tlen;
    const char *p, *sp;
    int rc;

    if (outlen > 0)
        out[0] = '\0';
    if (line == NULL)
        return WW_EINVAL;
    sp = strchr(line, ' ');
    if (sp == NULL || sp == line)
        return WW_EINVAL;
    mlen = (size_t)(sp - line);
    if (mlen >= sizeof(method))
        return WW_EINVAL;
    memcpy(method, line, mlen);
    method[mlen] = '\0';
    p = sp + 1;
    while (*p == ' ')
        p++;
    sp = strchr(p, ' ');
    tlen = sp != NULL ? (size_t)(sp - p) : strlen(p);
    if (tlen == 0) {
        ww_cicap_clean(p, out, outlen < 256 ? outlen : 256);
        return WW_EINVAL;
    }
    if (tlen < sizeof(target)) {
        memcpy(target, p, tlen);
        target[tlen] = '\0';
        rc = ww_url_from_request(method, target, host, out, outlen);
        if (rc == WW_OK)
            return WW_OK;
        if (rc != WW_ETOOBIG) {
            ww_cicap_clean(target, out, outlen < 256 ? outlen : 256);
            return WW_EINVAL;
        }
    }
    if (request_url_cut(method, p, tlen, host, out, outlen) == WW_OK)
        return WW_ETOOBIG;
    ww_cicap_clean(p, out, outlen < 256 ? outlen : 256);
    return WW_EINVAL;
}

void ww_cicap_attr(ci_request_t *req, const char *name, const char *value)
{
    char clean[1024];

    ww_cicap_clean(value, clean, sizeof(clean));
    ci_request_set_str_attribute(req, name, clean[0] != '\0' ? clean : "-");
}

void ww_cicap_add_violation(ci_request_t *req, const char *file, const char *threat)
{
    char f[512], t[256], head[1024];

    ww_cicap_clean(file, f, sizeof(f));
    ww_cicap_clean(threat, t, sizeof(t));
    /* The folding (CRLF + TAB) is the header's format: count, then file, threat, id, resolution. */
    snprintf(head, sizeof(head), "X-Violations-Found: 1\r\n\t%s\r\n\t%s\r\n\t0\r\n\t0",
             f[0] ? f : "-", t[0] ? t : "-");
    ci_icap_add_xheader(req, head);
}

void ww_cicap_now(char *out, size_t outlen)
{
    time_t now = time(NULL);
    struct tm tm;

    if (gmtime_r(&now, &tm) == NULL || strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(out, outlen, "-");
}

int ww_cicap_block_page(ci_request_t *req, const char *tmpl, const struct ww_page_var *vars,
                        size_t nvars, struct ww_cicap_page *page)
{
    char head[64];
    char *html = NULL;
    size_t len = 0;
    int rc = ww_page_render(tmpl, vars, nvars, &html, &len);

    if (rc != WW_OK)
        return rc;
    /* create() drops every encapsulated entity and makes res-hdr + res-body: the same recipe
     * gives an ICAP 200 "request satisfaction" in REQMOD and a replaced response in RESPMOD. */
    if (ci_http_response_create(req, 1, 1) == 0 ||
        ci_http_response_add_header(req, "HTTP/1.1 403 Forbidden") == NULL ||
        ci_http_response_add_header(req, "Content-Type: text/html; charset=utf-8") == NULL) {
        free(html);
        return WW_EIO;
    }
    snprintf(head, sizeof(head), "Content-Length: %zu", len);
    if (ci_http_response_add_header(req, head) == NULL ||
        ci_http_response_add_header(req, "Cache-Control: no-store") == NULL ||
        ci_http_response_add_header(req, "Connection: close") == NULL) {
        free(html);
        return WW_EIO;
    }
    ww_cicap_page_cleanup(page);
    page->html = html;
    page->len = len;
    page->pos = 0;
    return WW_OK;
}

int ww_cicap_page_read(struct ww_cicap_page *page, char *buf, int len)
{
    size_t n;

    if (page->html == NULL || page->pos >= page->len)
        return CI_EOF;
    if (len <= 0)
        return 0;
    n = page->len - page->pos;
    if (n > (size_t)len)
        n = (size_t)len;
    memcpy(buf, page->html + page->pos, n);
    page->pos += n;
    return (int)n;
}

int ww_cicap_direct_ok(ci_request_t *req)
{
    ci_connection_t *conn = req->connection;

    if (conn == NULL || conn->fd < 0)
        return 0;
#ifdef USE_OPENSSL
    if (conn->bio != NULL)
        return 0; /* ICAPS: c-icap's TLS layer writes, never the socket itself */
#endif
    return 1;
}

int ww_cicap_at_chunk_boundary(ci_request_t *req)
{
    return req->status == SEND_BODY && req->remain_send_block_bytes == 0;
}

long ww_cicap_send_chunk(ci_request_t *req, const struct iovec *data, int ndata)
{
    static const char crlf[] = "\r\n";
    ci_connection_t *conn = req->connection;
    struct iovec iov[WW_CICAP_CHUNK_PIECES + 2];
    char head[24];
    size_t len = 0, left;
    int i, n = 0, at = 0;

    if (!ww_cicap_direct_ok(req) || ndata < 1 || ndata > WW_CICAP_CHUNK_PIECES)
        return 0;
    for (i = 0; i < ndata; i++)
        len += data[i].iov_len;
    if (len == 0)
        return 0; /* a chunk of 0 bytes would end the body */
    iov[n].iov_base = head;
    iov[n++].iov_len = (size_t)snprintf(head, sizeof(head), "%zx\r\n", len);
    for (i = 0; i < ndata; i++)
        iov[n++] = data[i];
    iov[n].iov_base = (void *)crlf;
    iov[n++].iov_len = 2;
    left = iov[0].iov_len + len + 2;
    req->bytes_out += left; /* as c-icap counts what it formats, framing included */
    while (left > 0) {
        ssize_t w = writev(conn->fd, iov + at, n - at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = ci_wait_for_data(conn->fd, WW_CICAP_SEND_TIMEOUT_S, ci_wait_for_write);
            if (r == ci_wait_should_retry || (r > 0 && (r & ci_wait_for_write)))
                continue;
            return -1; /* timed out, or the connection is gone */
        }
        if (w <= 0)
            return -1;
        left -= (size_t)w;
        while (at < n && (size_t)w >= iov[at].iov_len)
            w -= (ssize_t)iov[at++].iov_len;
        if (at < n) {
            iov[at].iov_base = (char *)iov[at].iov_base + w;
            iov[at].iov_len -= (size_t)w;
        }
    }
    req->http_bytes_out += len;
    req->body_bytes_out += len;
    return (long)len;
}

void ww_cicap_page_cleanup(struct ww_cicap_page *page)
{
    free(page->html);
    page->html = NULL;
    page->len = 0;
    page->pos = 0;
}

/* ---- the per-child runtime ---- */

/* One per module: each .so has its own copy of this file. */
static struct ww_child **cicap_rt;
static size_t cicap_fb_cap;
static char cicap_tick_cmd[64];

static void cicap_child_tick(const char *name, int type, void *data)
{
    ww_child_tick(*cicap_rt);
    ci_command_schedule(cicap_tick_cmd, NULL, 1);
}

static void cicap_child_start(const char *name, int type, void *data)
{
    ww_child_start(*cicap_rt, cicap_fb_cap);
    ci_command_schedule(cicap_tick_cmd, NULL, 1);
}

static void cicap_child_stop(const char *name, int type, void *data)
{
    ww_child_stop(*cicap_rt);
}

void ww_cicap_child_register(const char *svc, struct ww_child **rt, size_t fb_cap)
{
    char name[64];

    cicap_rt = rt;
    cicap_fb_cap = fb_cap;
    snprintf(cicap_tick_cmd, sizeof(cicap_tick_cmd), "%s:tick", svc);
    snprintf(name, sizeof(name), "%s:child_start", svc);
    register_command_extend(name, CI_CMD_CHILD_START, NULL, cicap_child_start);
    snprintf(name, sizeof(name), "%s:child_stop", svc);
    register_command_extend(name, CI_CMD_CHILD_STOP, NULL, cicap_child_stop);
    register_command_extend(cicap_tick_cmd, CI_CMD_ONDEMAND, NULL, cicap_child_tick);
}

struct cicap_who_ctx {
    struct ww_who *who;
    const struct ww_conf *conf;
};

static void cicap_who_header(void *data, const char *name, const char *value)
{
    struct cicap_who_ctx *ctx = data;

    ww_who_add_header(ctx->who, ctx->conf, name, value);
}

const struct ww_policy *ww_cicap_policy(ci_request_t *req, const struct ww_conf *conf)
{
    static const char prefix[] = "X-Webwarden-Policy: ";
    const struct ww_policy *pol;
    const char *name;
    char head[128];

    if (ww_policies_count(conf->policy_set) > 0) {
        struct ww_who who; /* 8.6 KB cleared: only when a named policy may want it */
        struct cicap_who_ctx ctx = {&who, conf};

        ww_who_init(&who);
        /* req->request_header: the ICAP request's own headers, which the proxy writes. */
        if (req->request_header != NULL)
            ci_headers_iterate(req->request_header, &ctx, cicap_who_header);
        pol = ww_policies_select(conf->policy_set, &who, NULL);
    } else {
        pol = ww_policies_select(conf->policy_set, NULL, NULL); /* the default, whoever asks */
    }
    name = pol != NULL ? pol->name : "default";
    memcpy(head, prefix, sizeof(prefix));
    ww_str_append(head, sizeof(head), sizeof(prefix) - 1, name);
    ci_icap_add_xheader(req, head);
    ww_cicap_attr(req, "webwarden:policy", name);
    return pol;
}

size_t ww_cicap_response_values(ci_request_t *req, const char *name, const char **out, size_t max)
{
    ci_headers_list_t *h = ci_http_response_headers(req);
    size_t n = 0;

    for (int i = 0; h != NULL && i < h->used && n < max; i++) {
        const char *v = h->headers[i] != NULL ? ww_header_field_value(h->headers[i], name) : NULL;
        if (v != NULL)
            out[n++] = v;
    }
    return n;
}

const char *ww_cicap_response_status(ci_request_t *req)
{
    ci_headers_list_t *h = ci_http_response_headers(req);

    return h != NULL && h->used > 0 ? h->headers[0] : NULL;
}
