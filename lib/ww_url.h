/* lib/ww_url.h - URL canonicalisation (Google Safe Browsing rules) and request-line parsing. */
#ifndef WW_URL_H
#define WW_URL_H

#include <stddef.h>

/* Canonicalises <in> following Safe Browsing's published rules: strip TAB/CR/LF, drop the
 * fragment, percent-unescape repeatedly, lower-case the host, clean its dots, normalise IPv4
 * forms (decimal, octal, hex, short forms), resolve "/./", "/../" and "//", re-escape bytes
 * <= 0x20, >= 0x7f, '#' and '%', keep the query; a missing scheme becomes "http://", default
 * ports are dropped, IPv6 literals kept in brackets. WW_OK with <out> NUL-terminated, or
 * WW_EINVAL (not a URL) / WW_ETOOBIG (over <outlen> or WW_URL_MAX). Thread-safe. */
int ww_url_canon(const char *in, char *out, size_t outlen);

/* The absolute URL of an HTTP request as an ICAP client sends it: <target> in absolute-form
 * ("http://h/p"), origin-form ("/p", host from <host_header>), or authority-form for CONNECT
 * ("h:443" becomes "https://h/"; a port other than 443 is kept). Then canonicalised as above. */
int ww_url_from_request(const char *method, const char *target, const char *host_header, char *out,
                        size_t outlen);

/* Host (without port, IPv6 in brackets) and path+query of a canonical URL, into caller's
 * buffers. WW_EINVAL if <canon> is not canonical-looking, WW_ETOOBIG on a short buffer. */
int ww_url_host(const char *canon, char *host, size_t hostlen);
int ww_url_path(const char *canon, char *path, size_t pathlen);

/* Safe Browsing lookup expressions: calls fn(host_suffix, path_prefix) for at most 5 host
 * suffixes (exact host first, then up to 4 from the last five components; none for IPs) times
 * at most 6 path prefixes (exact path with query, exact path, then "/" and prefixes of up to 4
 * components), most specific first. Stops early when fn returns non-zero and returns that value;
 * returns 0 when all were visited. */
int ww_url_each_expression(const char *canon,
                           int (*fn)(const char *host, const char *path, void *arg), void *arg);

#endif
