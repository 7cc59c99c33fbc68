/* lib/ww_common.h - error codes and small helpers shared by every part of libwebwarden. */
#ifndef WW_COMMON_H
#define WW_COMMON_H

#include <stddef.h>
#include <string.h>

/* Fallible functions return WW_OK or one of the negative codes below. */
enum {
    WW_OK = 0,
    WW_ENOMEM = -1,   /* out of memory */
    WW_EIO = -2,      /* file or socket error */
    WW_EINVAL = -3,   /* bad argument or bad input (config line, URL, signature) */
    WW_ETOOBIG = -4,  /* over a size cap */
    WW_EDB = -5,      /* SQLite error */
    WW_ETIMEOUT = -6, /* a deadline passed */
    WW_EPROTO = -7,   /* malformed answer from a server */
    WW_ENOTFOUND = -8,
    WW_EBUSY = -9,    /* held by someone else (lock) */
    WW_EUNAVAIL = -10 /* server down, refused, 5xx */
};

/* Size of the caller's buffer for human-readable errors ("file:line: reason"). */
#define WW_ERRLEN 512

/* Longest canonical URL we handle; longer URLs are refused with WW_ETOOBIG. */
#define WW_URL_MAX 8192

/* Short constant name of an error code, e.g. "timeout". Never NULL. */
const char *ww_strerror(int rc);

/* The value 0-15 of the hex digit <c> ('0'-'9', 'a'-'f', 'A'-'F'), or -1 for any other value,
 * EOF and negative ones included. Locale-free, unlike isxdigit(); pure and thread-safe. */
static inline int ww_hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends <s> to the string of <len> bytes in <dst> (room for <cap> bytes, NUL included), cut
 * to fit as snprintf cuts, and keeps <dst> NUL-terminated; returns the new length. So
 * `n = ww_str_append(b, cap, ww_str_append(b, cap, 0, x), y)` is snprintf(b, cap, "%s%s", x, y)
 * without the format parser, for per-request headers. <len> must be below <cap> (0 < cap). */
static inline size_t ww_str_append(char *dst, size_t cap, size_t len, const char *s)
{
    size_t n = strlen(s);

    if (n > cap - 1 - len)
        n = cap - 1 - len;
    memcpy(dst + len, s, n);
    dst[len + n] = '\0';
    return len + n;
}

#endif
