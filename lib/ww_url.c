/* lib/ww_url.c - URL canonicalisation (Google Safe Browsing rules) and request-line parsing. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ww_common.h"
#include "ww_url.h"

/* Raw input longer than this is refused before any work: unescaping only shrinks text and
 * escaping at most triples it, so twice the output cap leaves room for escaped input. */
#define URL_IN_MAX (2 * WW_URL_MAX)

/* Output writer: refuses to write past the cap instead of truncating. */
struct url_out {
    char *buf;
    size_t len, cap; /* cap includes the NUL */
    int overflow;
};

static void out_byte(struct url_out *o, char c)
{
    if (o->len + 1 >= o->cap) {
        o->overflow = 1;
        return;
    }
    o->buf[o->len++] = c;
}

static void out_mem(struct url_out *o, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out_byte(o, p[i]);
}

static void out_str(struct url_out *o, const char *s)
{
    out_mem(o, s, strlen(s));
}

static void out_escaped(struct url_out *o, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    out_byte(o, '%');
    out_byte(o, hex[c >> 4]);
    out_byte(o, hex[c & 15]);
}

/* Percent-unescapes <in>[0..n) until no "%XX" is left, into <dst> (room for n bytes); returns
 * the length. Same result as Safe Browsing's "unescape until nothing changes", in one pass:
 * "%XX" sequences never overlap, so reducing a sequence as soon as it appears at the end of the
 * output reaches the same fixed point, in linear time even for "%252525...". Decoded NULs are
 * kept as bytes (they are re-escaped later), so lengths are explicit. */
static size_t unescape_all(const char *in, size_t n, char *dst)
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        dst[len++] = in[i];
        while (len >= 3 && dst[len - 3] == '%') {
            int hi = ww_hex_val((unsigned char)dst[len - 2]),
                lo = ww_hex_val((unsigned char)dst[len - 1]);
            if (hi < 0 || lo < 0)
                break;
            dst[len - 3] = (char)(hi << 4 | lo);
            len -= 2;
        }
    }
    return len;
}

/* Bytes Safe Browsing re-escapes everywhere. */
static int must_escape(unsigned char c)
{
    return c <= 0x20 || c >= 0x7f || c == '#' || c == '%';
}

/* In the host we also escape what would change the URL's structure if it was read back
 * ("http://a%2Fb/" must not become host "a" with path "/b/"). No real host contains these. */
static int must_escape_host(unsigned char c)
{
    return must_escape(c) || c == '/' || c == '?' || c == '@' || c == ':' || c == '\\' ||
           c == '[' || c == ']';
}

/* inet_aton()-style number: decimal, octal with leading 0, hex with 0x. -1 if not a number or
 * over <max>. */
static int64_t ip_part(const char *s, size_t n, int64_t max)
{
    int base = 10;
    int64_t v = 0;
    size_t i = 0;

    if (n == 0)
        return -1;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    } else if (n >= 2 && s[0] == '0') {
        base = 8;
        i = 1;
    }
    for (; i < n; i++) {
        int d = ww_hex_val((unsigned char)s[i]);
        if (d < 0 || d >= base)
            return -1;
        v = v * base + d;
        if (v > max)
            return -1;
    }
    return v;
}

/* Parses <h>[0..n) as an IPv4 address in any legal form (1 to 4 parts, each decimal, octal
 * or hex; the last part fills the remaining bytes) into dotted decimal. 1 if it was one. */
static int ipv4_normalise(const char *h, size_t n, char dotted[16])
{
    int64_t parts[4];
    size_t np = 0, start = 0;

    for (size_t i = 0; i <= n; i++) {
        if (i < n && h[i] != '.')
            continue;
        if (np == 4)
            return 0;
        parts[np] = ip_part(h + start, i - start, 0xffffffffLL);
        if (parts[np] < 0)
            return 0;
        np++;
        start = i + 1;
    }
    uint32_t addr = 0;
    for (size_t i = 0; i + 1 < np; i++) {
        if (parts[i] > 255)
            return 0;
        addr |= (uint32_t)parts[i] << (24 - 8 * i);
    }
    int64_t last_max = np == 1 ? 0xffffffffLL : (1LL << (8 * (5 - np))) - 1;
    if (parts[np - 1] > last_max)
        return 0;
    addr |= (uint32_t)parts[np - 1];
    snprintf(dotted, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255,
             addr & 255);
    return 1;
}

/* Writes the canonical host: unescaped, dots cleaned, IPv4 normalised, lower-cased, escaped.
 * <h>[0..n) is the raw host (no brackets); <tmp> has room for n bytes. */
static int canon_host(struct url_out *o, const char *h, size_t n, char *tmp)
{
    size_t len = unescape_all(h, n, tmp), w = 0;
    char dotted[16];

    /* Leading and trailing dots go, runs of dots become one. */
    for (size_t i = 0; i < len; i++) {
        if (tmp[i] == '.' && (w == 0 || tmp[w - 1] == '.'))
            continue;
        tmp[w++] = (char)tolower((unsigned char)tmp[i]);
    }
    while (w > 0 && tmp[w - 1] == '.')
        w--;
    if (w == 0)
        return WW_EINVAL;
    if (ipv4_normalise(tmp, w, dotted)) {
        out_str(o, dotted);
        return WW_OK;
    }
    for (size_t i = 0; i < w; i++) {
        unsigned char c = (unsigned char)tmp[i];
        if (must_escape_host(c))
            out_escaped(o, c);
        else
            out_byte(o, (char)c);
    }
    return WW_OK;
}

/* "[2001:DB8::1]" -> "[2001:db8::1]" via inet_pton/inet_ntop (RFC 5952 form). */
static int canon_ipv6(struct url_out *o, const char *h, size_t n, char *tmp)
{
    size_t len = unescape_all(h, n, tmp);
    unsigned char addr[16];
    char text[INET6_ADDRSTRLEN];

    if (len >= INET6_ADDRSTRLEN || memchr(tmp, '\0', len) != NULL)
        return WW_EINVAL;
    tmp[len] = '\0';
    if (inet_pton(AF_INET6, tmp, addr) != 1 ||
        inet_ntop(AF_INET6, addr, text, sizeof(text)) == NULL)
        return WW_EINVAL;
    out_byte(o, '[');
    out_str(o, text);
    out_byte(o, ']');
    return WW_OK;
}

/* Writes the canonical path: unescaped, "/./", "/../" and "//" resolved, escaped. <p>[0..n)
 * starts with '/' or is empty; <tmp> has room for n + 1 bytes. */
static void canon_path(struct url_out *o, const char *p, size_t n, char *tmp)
{
    size_t len = unescape_all(p, n, tmp), w = 0, i = 0;
    int trailing = 0;

    /* Resolve segments in place: tmp[0..w) is the output so far, always starting with '/'. */
    tmp[len] = '\0';
    while (i < len) {
        while (i < len && tmp[i] == '/')
            i++;
        size_t s = i;
        while (i < len && tmp[i] != '/')
            i++;
        size_t seglen = i - s;
        if (seglen == 0)
            continue;
        trailing = i < len; /* a '/' follows this segment */
        if (seglen == 1 && tmp[s] == '.') {
            trailing = 1;
            continue;
        }
        if (seglen == 2 && tmp[s] == '.' && tmp[s + 1] == '.') {
            while (w > 0 && tmp[w - 1] != '/')
                w--;
            if (w > 0)
                w--; /* drop the segment and its leading '/' */
            trailing = 1;
            continue;
        }
        tmp[w++] = '/';
        memmove(tmp + w, tmp + s, seglen);
        w += seglen;
    }
    if (w == 0 || trailing)
        tmp[w++] = '/';
    for (size_t k = 0; k < w; k++) {
        unsigned char c = (unsigned char)tmp[k];
        if (must_escape(c))
            out_escaped(o, c);
        else
            out_byte(o, (char)c);
    }
}

static void canon_query(struct url_out *o, const char *q, size_t n, char *tmp)
{
    size_t len = unescape_all(q, n, tmp);

    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)tmp[k];
        if (must_escape(c))
            out_escaped(o, c);
        else
            out_byte(o, (char)c);
    }
}

static int default_port(const char *scheme, size_t n, unsigned long port)
{
    static const struct {
        const char *name;
        unsigned long port;
    } ports[] = {{"http", 80}, {"https", 443}, {"ws", 80}, {"wss", 443}, {"ftp", 21}};

    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
        if (strlen(ports[i].name) == n && memcmp(ports[i].name, scheme, n) == 0)
            return ports[i].port == port;
    return 0;
}

static int is_scheme_char(unsigned char c, int first)
{
    return isalpha(c) || (!first && (isdigit(c) || c == '+' || c == '-' || c == '.'));
}

/* The work of ww_url_canon on <s>[0..n): TAB/CR/LF already removed, spaces trimmed, fragment
 * cut. <tmp> and <tmp2> have room for n + 1 bytes each. */
static int canon_parsed(const char *s, size_t n, struct url_out *o, char *tmp, char *tmp2)
{
    const char *p = s, *end = s + n;
    char scheme[16] = "http";
    size_t schemelen = 4;
    int rc;

    /* A scheme counts only before "://"; "host:8080/x" has none. "mailto:x" or "http:/x" is
     * neither a scheme we can use nor host:port, so it is refused. */
    size_t i = 0;
    while (i < n && is_scheme_char((unsigned char)s[i], i == 0))
        i++;
    if (i > 0 && i < n && s[i] == ':') {
        if (i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/') {
            if (i >= sizeof(scheme))
                return WW_EINVAL;
            for (size_t k = 0; k < i; k++)
                scheme[k] = (char)tolower((unsigned char)s[k]);
            schemelen = i;
            p = s + i + 3;
        } else if (i + 1 < n && !isdigit((unsigned char)s[i + 1])) {
            return WW_EINVAL;
        }
    }
    out_mem(o, scheme, schemelen);
    out_str(o, "://");

    /* Authority: up to the first '/' or '?'; userinfo is cut at its last '@'. */
    const char *auth = p;
    while (p < end && *p != '/' && *p != '?')
        p++;
    const char *auth_end = p;
    for (const char *a = auth_end; a > auth; a--)
        if (a[-1] == '@') {
            auth = a;
            break;
        }
    const char *host = auth, *host_end, *port = NULL;
    if (auth < auth_end && *auth == '[') {
        const char *close = memchr(auth, ']', (size_t)(auth_end - auth));
        if (close == NULL)
            return WW_EINVAL;
        host_end = close + 1;
        if (host_end < auth_end) {
            if (*host_end != ':')
                return WW_EINVAL;
            port = host_end + 1;
        }
        rc = canon_ipv6(o, auth + 1, (size_t)(close - auth - 1), tmp);
    } else {
        host_end = auth;
        while (host_end < auth_end && *host_end != ':')
            host_end++;
        if (host_end < auth_end)
            port = host_end + 1;
        rc = canon_host(o, host, (size_t)(host_end - host), tmp);
    }
    if (rc != WW_OK)
        return rc;
    if (port != NULL && port < auth_end) {
        unsigned long v = 0;
        for (const char *d = port; d < auth_end; d++) {
            if (!isdigit((unsigned char)*d))
                return WW_EINVAL;
            v = v * 10 + (unsigned long)(*d - '0');
            if (v > 65535)
                return WW_EINVAL;
        }
        if (v == 0)
            return WW_EINVAL;
        if (!default_port(scheme, schemelen, v)) {
            char num[8];
            snprintf(num, sizeof(num), ":%lu", v);
            out_str(o, num);
        }
    }

    const char *query = memchr(p, '?', (size_t)(end - p));
    const char *path_end = query != NULL ? query : end;
    /* An escaped '?' in the path starts the query once unescaped, as in Safe Browsing's
     * reference client: else "/.%3Fx" would give "/.?x", which canonicalises again to "/?x". */
    size_t dlen = unescape_all(p, (size_t)(path_end - p), tmp2);
    const char *qmark = memchr(tmp2, '?', dlen);
    if (qmark == NULL) {
        canon_path(o, tmp2, dlen, tmp);
    } else {
        canon_path(o, tmp2, (size_t)(qmark - tmp2), tmp);
        out_byte(o, '?');
        canon_query(o, qmark + 1, dlen - (size_t)(qmark + 1 - tmp2), tmp);
    }
    if (query != NULL) {
        out_byte(o, '?');
        canon_query(o, query + 1, (size_t)(end - query - 1), tmp);
    }
    return WW_OK;
}

int ww_url_canon(const char *in, char *out, size_t outlen)
{
    size_t n, len = 0;
    char *clean = NULL, *tmp = NULL, *tmp2 = NULL;
    int rc = WW_EINVAL;

    if (in == NULL || out == NULL || outlen == 0)
        return WW_EINVAL;
    out[0] = '\0';
    n = strnlen(in, URL_IN_MAX + 1);
    if (n > URL_IN_MAX)
        return WW_ETOOBIG;
    rc = WW_ENOMEM;
    clean = malloc(n + 1);
    tmp = malloc(n + 1);
    tmp2 = malloc(n + 1);
    if (clean == NULL || tmp == NULL || tmp2 == NULL)
        goto cleanup;

    /* TAB, CR and LF go (not their escapes), the fragment goes, outer whitespace goes. */
    for (size_t i = 0; i < n && in[i] != '#'; i++)
        if (in[i] != '\t' && in[i] != '\r' && in[i] != '\n')
            clean[len++] = in[i];
    size_t start = 0;
    while (start < len && (unsigned char)clean[start] <= 0x20)
        start++;
    while (len > start && (unsigned char)clean[len - 1] <= 0x20)
        len--;
    rc = WW_EINVAL;
    if (len == start)
        goto cleanup;

    struct url_out o = {out, 0, outlen < WW_URL_MAX ? outlen : WW_URL_MAX, 0};
    rc = canon_parsed(clean + start, len - start, &o, tmp, tmp2);
    if (rc == WW_OK && o.overflow)
        rc = WW_ETOOBIG;
    out[rc == WW_OK ? o.len : 0] = '\0';
cleanup:
    free(clean);
    free(tmp);
    free(tmp2);
    return rc;
}

/* Characters that may not appear in a Host header or CONNECT authority: they would smuggle a
 * path, query, fragment or userinfo into the URL we build. */
static int bad_authority(const char *a)
{
    if (a == NULL || a[0] == '\0')
        return 1;
    for (const unsigned char *p = (const unsigned char *)a; *p != '\0'; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("/?#@\\", *p) != NULL)
            return 1;
    return 0;
}

int ww_url_from_request(const char *method, const char *target, const char *host_header, char *out,
                        size_t outlen)
{
    char *url = NULL;
    int rc = WW_EINVAL;

    if (out != NULL && outlen > 0)
        out[0] = '\0';
    if (method == NULL || target == NULL || out == NULL || outlen == 0)
        return WW_EINVAL;
    size_t tlen = strnlen(target, URL_IN_MAX + 1);
    if (tlen > URL_IN_MAX)
        return WW_ETOOBIG;

    if (strcasecmp(method, "CONNECT") == 0) {
        if (bad_authority(target))
            return WW_EINVAL;
        /* "h:443" and "h" name https's default port; any other port stays in the URL. */
        rc = WW_ENOMEM;
        url = malloc(tlen + sizeof("https:///"));
        if (url == NULL)
            goto cleanup;
        snprintf(url, tlen + sizeof("https:///"), "https://%s/", target);
    } else if (target[0] == '/') {
        if (bad_authority(host_header))
            return WW_EINVAL;
        size_t hlen = strnlen(host_header, URL_IN_MAX + 1);
        if (hlen + tlen > URL_IN_MAX)
            return WW_ETOOBIG;
        rc = WW_ENOMEM;
        url = malloc(hlen + tlen + sizeof("http://"));
        if (url == NULL)
            goto cleanup;
        snprintf(url, hlen + tlen + sizeof("http://"), "http://%s%s", host_header, target);
    } else {
        /* Absolute-form needs its "scheme://"; "*" (OPTIONS) and bare hosts are not URLs. */
        const char *sep = strstr(target, "://");
        if (sep == NULL || sep == target)
            return WW_EINVAL;
        for (const char *c = target; c < sep; c++)
            if (!is_scheme_char((unsigned char)*c, c == target))
                return WW_EINVAL;
        return ww_url_canon(target, out, outlen);
    }
    rc = ww_url_canon(url, out, outlen);
cleanup:
    free(url);
    return rc;
}

/* Splits a canonical URL: *host and *hostlen (port excluded), *path (path and query, to the
 * end). WW_EINVAL if it does not look canonical. */
static int split_canon(const char *canon, const char **host, size_t *hostlen, const char **path)
{
    const char *sep, *p, *h;

    if (canon == NULL)
        return WW_EINVAL;
    sep = strstr(canon, "://");
    if (sep == NULL || sep == canon)
        return WW_EINVAL;
    h = sep + 3;
    p = strchr(h, '/');
    if (p == NULL || p == h)
        return WW_EINVAL;
    size_t n;
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t)(p - h));
        if (close == NULL)
            return WW_EINVAL;
        n = (size_t)(close + 1 - h);
    } else {
        const char *colon = memchr(h, ':', (size_t)(p - h));
        n = colon != NULL ? (size_t)(colon - h) : (size_t)(p - h);
    }
    if (n == 0)
        return WW_EINVAL;
    *host = h;
    *hostlen = n;
    *path = p;
    return WW_OK;
}

static int copy_out(const char *s, size_t n, char *dst, size_t dstlen)
{
    if (dst == NULL || dstlen == 0)
        return WW_ETOOBIG;
    if (n >= dstlen) {
        dst[0] = '\0';
        return WW_ETOOBIG;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
    return WW_OK;
}

int ww_url_host(const char *canon, char *host, size_t hostlen)
{
    const char *h, *p;
    size_t n;
    int rc = split_canon(canon, &h, &n, &p);

    if (rc != WW_OK) {
        if (host != NULL && hostlen > 0)
            host[0] = '\0';
        return rc;
    }
    return copy_out(h, n, host, hostlen);
}

int ww_url_path(const char *canon, char *path, size_t pathlen)
{
    const char *h, *p;
    size_t n;
    int rc = split_canon(canon, &h, &n, &p);

    if (rc != WW_OK) {
        if (path != NULL && pathlen > 0)
            path[0] = '\0';
        return rc;
    }
    return copy_out(p, strlen(p), path, pathlen);
}

/* 1 for an IP literal: bracketed IPv6 or dotted-decimal IPv4 (canonical hosts have no other
 * IPv4 forms). */
static int host_is_ip(const char *h, size_t n)
{
    int dots = 0;

    if (n > 0 && h[0] == '[')
        return 1;
    for (size_t i = 0; i < n; i++) {
        if (h[i] == '.')
            dots++;
        else if (!isdigit((unsigned char)h[i]))
            return 0;
    }
    return dots == 3;
}

int ww_url_each_expression(const char *canon,
                           int (*fn)(const char *host, const char *path, void *arg), void *arg)
{
    const char *h, *p;
    size_t hn, pn, qn;
    char *hosts[5] = {NULL}, *paths[6] = {NULL};
    size_t nhosts = 0, npaths = 0;
    int rc;

    if (fn == NULL || split_canon(canon, &h, &hn, &p) != WW_OK)
        return 0;
    pn = strlen(p);
    qn = strcspn(p, "?"); /* path without query */

    hosts[nhosts++] = strndup(h, hn);
    if (!host_is_ip(h, hn)) {
        /* Suffixes taken from the last five labels, dropping one leading label at a time,
         * never the bare top-level domain nor the exact host again. */
        size_t starts[5], nl = 0; /* label starts, from the last label backwards */
        for (size_t i = hn; i > 0 && nl < 5; i--)
            if (h[i - 1] == '.')
                starts[nl++] = i;
        /* starts[nl - 1] begins the longest suffix; skip it if it is the whole host. */
        for (size_t k = nl; k > 1 && nhosts < 5; k--)
            if (starts[k - 1] > 0)
                hosts[nhosts++] = strndup(h + starts[k - 1], hn - starts[k - 1]);
    }

    paths[npaths++] = strndup(p, pn);
    if (qn != pn)
        paths[npaths++] = strndup(p, qn);
    /* Directory prefixes "/", "/a/", "/a/b/", "/a/b/c/", then put most specific first. */
    size_t pref[4], npref = 0;
    for (size_t i = 0; i < qn && npref < 4; i++)
        if (p[i] == '/' && i + 1 != qn)
            pref[npref++] = i + 1;
    for (size_t k = npref; k > 0; k--)
        paths[npaths++] = strndup(p, pref[k - 1]);

    rc = 0;
    for (size_t i = 0; i < nhosts && rc == 0; i++) {
        if (hosts[i] == NULL)
            continue;
        for (size_t j = 0; j < npaths && rc == 0; j++)
            if (paths[j] != NULL)
                rc = fn(hosts[i], paths[j], arg);
    }
    for (size_t i = 0; i < nhosts; i++)
        free(hosts[i]);
    for (size_t j = 0; j < npaths; j++)
        free(paths[j]);
    return rc;
}
