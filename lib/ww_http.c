/* lib/ww_http.c - blocking HTTP(S) client over one reusable libcurl easy handle. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ww_common.h"
#include "ww_http.h"

struct ww_http {
    CURL *curl;
    struct curl_slist *headers;      /* GET: identity headers */
    struct curl_slist *post_headers; /* POST: identity + Content-Type */
    char *ca_file;
    size_t max_body;
    long timeout_ms; /* restored after a ww_http_download() with its own timeout */
    /* The body buffer is kept between requests so a warm client allocates nothing. */
    char *body;
    size_t body_len;
    size_t body_size;
    int over_cap;
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static int http_global_rc = WW_EIO;

static void http_global_init_once(void)
{
    http_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? WW_OK : WW_EIO;
}

int ww_http_global_init(void)
{
    pthread_once(&http_once, http_global_init_once);
    return http_global_rc;
}

static size_t http_on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct ww_http *h = arg;
    size_t len = size * nmemb;

    if (len > h->max_body - h->body_len) {
        h->over_cap = 1;
        return 0; /* libcurl turns a short write into CURLE_WRITE_ERROR */
    }
    if (h->body_len + len + 1 > h->body_size) {
        size_t want = h->body_size != 0 ? h->body_size : 4096;
        while (want < h->body_len + len + 1)
            want *= 2;
        if (want > h->max_body + 1)
            want = h->max_body + 1;
        char *p = realloc(h->body, want);
        if (p == NULL)
            return 0;
        h->body = p;
        h->body_size = want;
    }
    memcpy(h->body + h->body_len, data, len);
    h->body_len += len;
    h->body[h->body_len] = '\0';
    return len;
}

static struct curl_slist *http_add_header(struct curl_slist *list, const char *name,
                                          const char *value)
{
    size_t len = strlen(name) + strlen(value) + 3;
    char *line = malloc(len);
    struct curl_slist *next;

    if (line == NULL)
        return NULL;
    snprintf(line, len, "%s: %s", name, value);
    next = curl_slist_append(list, line); /* copies the line */
    free(line);
    if (next == NULL)
        curl_slist_free_all(list);
    return next;
}

static struct curl_slist *http_identity_headers(const struct ww_http_opts *opts)
{
    struct curl_slist *list = NULL;
    const char *id = opts->appliance_id != NULL && opts->appliance_id[0] != '\0'
                         ? opts->appliance_id
                         : "unknown";

    list = http_add_header(list, "User-Agent", "webwarden/" WW_VERSION);
    if (list != NULL)
        list = http_add_header(list, "X-Webwarden-Appliance", id);
    if (list != NULL && opts->api_key != NULL && opts->api_key[0] != '\0') {
        size_t len = strlen(opts->api_key) + 8;
        char *bearer = malloc(len);
        if (bearer == NULL) {
            curl_slist_free_all(list);
            return NULL;
        }
        snprintf(bearer, len, "Bearer %s", opts->api_key);
        list = http_add_header(list, "Authorization", bearer);
        free(bearer);
    }
    /* Keep-alive is what we want; "Expect: 100-continue" would add a round trip to POSTs. */
    if (list != NULL)
        list = curl_slist_append(list, "Expect:");
    return list;
}

struct ww_http *ww_http_create(const struct ww_http_opts *opts)
{
    struct ww_http *h = NULL;
    long timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 500;
    int ok = 1;

    if (ww_http_global_init() != WW_OK)
        return NULL;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->max_body = opts->max_body != 0 ? opts->max_body : WW_HTTP_MAX_BODY;
    h->timeout_ms = timeout_ms;
    h->curl = curl_easy_init();
    h->headers = http_identity_headers(opts);
    h->post_headers = http_identity_headers(opts);
    if (h->post_headers != NULL) {
        struct curl_slist *p = curl_slist_append(h->post_headers, "Content-Type: application/json");
        if (p == NULL)
            curl_slist_free_all(h->post_headers);
        h->post_headers = p;
    }
    if (opts->ca_file != NULL && opts->ca_file[0] != '\0')
        h->ca_file = strdup(opts->ca_file);
    if (h->curl == NULL || h->headers == NULL || h->post_headers == NULL ||
        (opts->ca_file != NULL && opts->ca_file[0] != '\0' && h->ca_file == NULL))
        goto fail;

    CURL *c = h->curl;
    ok &= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK; /* threads: never SIGALRM */
    ok &= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK; /* DNS..body */
    ok &= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_body) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_WRITEDATA, h) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_body) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L) == CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
    ok &= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
#else
    ok &= curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) ==
          CURLE_OK;
#endif
    ok &= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, opts->tls_verify ? 1L : 0L) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, opts->tls_verify ? 2L : 0L) == CURLE_OK;
    if (h->ca_file != NULL)
        ok &= curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file) == CURLE_OK;
    if (!ok)
        goto fail;
    return h;
fail:
    ww_http_free(h);
    return NULL;
}

int ww_http_opts_copy(struct ww_http_opts *dst, const struct ww_http_opts *src)
{
    *dst = *src;
    dst->ca_file = strdup(src->ca_file != NULL ? src->ca_file : "");
    dst->api_key = strdup(src->api_key != NULL ? src->api_key : "");
    dst->appliance_id = strdup(src->appliance_id != NULL ? src->appliance_id : "");
    if (dst->ca_file == NULL || dst->api_key == NULL || dst->appliance_id == NULL) {
        ww_http_opts_cleanup(dst);
        return WW_ENOMEM;
    }
    return WW_OK;
}

void ww_http_opts_cleanup(struct ww_http_opts *o)
{
    /* Only ww_http_opts_copy's strings, which it allocated: const only for the callers. */
    free((char *)o->ca_file);
    free((char *)o->api_key);
    free((char *)o->appliance_id);
    o->ca_file = o->api_key = o->appliance_id = NULL;
}

void ww_http_free(struct ww_http *h)
{
    if (h == NULL)
        return;
    if (h->curl != NULL)
        curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    curl_slist_free_all(h->post_headers);
    free(h->ca_file);
    free(h->body);
    free(h);
}

static int http_map_error(const struct ww_http *h, CURLcode cc)
{
    if (h->over_cap)
        return WW_ETOOBIG;
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return WW_ETIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return WW_ETOOBIG;
    case CURLE_OUT_OF_MEMORY:
        return WW_ENOMEM;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return WW_EINVAL;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_BAD_CONTENT_ENCODING:
        return WW_EPROTO;
    case CURLE_WRITE_ERROR:
        return WW_ENOMEM; /* http_on_body refused for a reason other than the cap */
    default:
        return WW_EUNAVAIL; /* resolve, connect, reset, TLS, peer verification ... */
    }
}

static int http_perform(struct ww_http *h, const char *url, struct ww_http_result *res)
{
    CURLcode cc;
    long status = 0;

    memset(res, 0, sizeof(*res));
    h->body_len = 0;
    h->over_cap = 0;
    h->errbuf[0] = '\0';
    if (h->body != NULL)
        h->body[0] = '\0';
    if (curl_easy_setopt(h->curl, CURLOPT_URL, url) != CURLE_OK)
        return WW_EINVAL;
    cc = curl_easy_perform(h->curl);
    if (cc != CURLE_OK) {
        if (h->errbuf[0] == '\0')
            snprintf(h->errbuf, sizeof(h->errbuf), "%s", curl_easy_strerror(cc));
        return http_map_error(h, cc);
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    res->status = status;
    res->body = h->body != NULL ? h->body : "";
    res->body_len = h->body_len;
    return WW_OK;
}

int ww_http_get(struct ww_http *h, const char *url, struct ww_http_result *res)
{
    if (curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers) != CURLE_OK) {
        memset(res, 0, sizeof(*res));
        return WW_EINVAL;
    }
    return http_perform(h, url, res);
}

int ww_http_post_json(struct ww_http *h, const char *url, const char *json, size_t len,
                      struct ww_http_result *res)
{
    /* POSTFIELDS is not copied: <json> outlives the perform call, which is all libcurl needs. */
    if (curl_easy_setopt(h->curl, CURLOPT_POST, 1L) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, json) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->post_headers) != CURLE_OK) {
        memset(res, 0, sizeof(*res));
        return WW_EINVAL;
    }
    int rc = http_perform(h, url, res);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
    return rc;
}

struct http_download {
    struct ww_http *h;
    int fd;
    long long max_bytes;
    const struct ww_http_download_opts *o;
    struct ww_http_download_status *st;
    int over_cap;
    int cancelled;
};

static size_t http_on_file(char *data, size_t size, size_t nmemb, void *arg)
{
    struct http_download *d = arg;
    size_t len = size * nmemb, off = 0;
    long status = 0;

    curl_easy_getinfo(d->h->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299)
        return len; /* an error page: the caller only needs the status */
    if (d->max_bytes > 0 && (long long)len > d->max_bytes - d->st->bytes) {
        d->over_cap = 1;
        return 0;
    }
    while (off < len) {
        ssize_t n = write(d->fd, data + off, len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            d->st->write_errno = errno;
            return 0;
        }
        off += (size_t)n;
    }
    d->st->bytes += (long long)len;
    return len;
}

static int http_on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                            curl_off_t ulnow)
{
    struct http_download *d = arg;

    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    if (d->o->time_left_ms != NULL && d->o->time_left_ms(d->o->arg) == 0) {
        d->cancelled = 1;
        return 1;
    }
    return 0;
}

int ww_http_download(struct ww_http *h, const char *url, int fd,
                     const struct ww_http_download_opts *o, struct ww_http_download_status *st)
{
    struct http_download d = {h, fd, o->max_bytes, o, st, 0, 0};
    long timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : h->timeout_ms;
    CURL *c = h->curl;
    CURLcode cc;
    int rc = WW_OK, ok = 1;

    memset(st, 0, sizeof(*st));
    h->errbuf[0] = '\0';
    h->over_cap = 0;
    ok &= curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_file) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_WRITEDATA, &d) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                           (curl_off_t)(o->max_bytes > 0 ? o->max_bytes : 0)) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, http_on_progress) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_XFERINFODATA, &d) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
    if (!ok) {
        rc = WW_EINVAL;
        goto cleanup;
    }
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        if (h->errbuf[0] == '\0')
            snprintf(h->errbuf, sizeof(h->errbuf), "%s", curl_easy_strerror(cc));
        if (st->write_errno != 0) {
            snprintf(h->errbuf, sizeof(h->errbuf), "write: %s", strerror(st->write_errno));
            rc = WW_EIO;
        } else if (d.over_cap || cc == CURLE_FILESIZE_EXCEEDED) {
            rc = WW_ETOOBIG;
        } else if (d.cancelled) {
            snprintf(h->errbuf, sizeof(h->errbuf), "cancelled: no time left");
            rc = WW_ETIMEOUT;
        } else {
            rc = http_map_error(h, cc);
        }
        st->status = 0;
        goto cleanup;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st->status);
cleanup:
    /* Back to what ww_http_get() and ww_http_post_json() expect. */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_body);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 1L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, NULL);
    return rc;
}

const char *ww_http_last_error(const struct ww_http *h)
{
    return h->errbuf;
}

int ww_http_append_escaped(char *out, size_t outlen, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t start = strlen(out);
    size_t n = start;

    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        int plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~';
        size_t need = plain ? 1 : 3;
        if (n + need + 1 > outlen) {
            if (outlen > start)
                out[start] = '\0';
            return WW_ETOOBIG;
        }
        if (plain) {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        }
    }
    out[n] = '\0';
    return WW_OK;
}
