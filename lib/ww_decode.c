/* lib/ww_decode.c - streaming Content-Encoding decoder (zlib) with bomb limits. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "ww_common.h"
#include "ww_decode.h"

/* The ratio limit applies once this much came out: small pages compress far better than 100:1. */
#define DECODE_RATIO_FLOOR ((int64_t)1 << 20)

struct ww_decode {
    enum ww_encoding enc;
    z_stream zs;
    int ready;  /* zs initialised */
    int ended;  /* a stream (gzip member) ended cleanly */
    int raw;    /* deflate: fell back to raw deflate (no zlib header) */
    int failed; /* sticky WW_E* once decoding stopped */
    int64_t in_total, out_total, max_expanded;
    int max_ratio;
    unsigned char out[65536];
};

enum ww_encoding ww_decode_parse(const char *value)
{
    size_t len;

    if (value == NULL)
        return WW_ENC_IDENTITY;
    while (isspace((unsigned char)*value))
        value++;
    len = strlen(value);
    while (len > 0 && isspace((unsigned char)value[len - 1]))
        len--;
    if (len == 0 || (len == 8 && strncasecmp(value, "identity", 8) == 0))
        return WW_ENC_IDENTITY;
    if ((len == 4 && strncasecmp(value, "gzip", 4) == 0) ||
        (len == 6 && strncasecmp(value, "x-gzip", 6) == 0))
        return WW_ENC_GZIP;
    if (len == 7 && strncasecmp(value, "deflate", 7) == 0)
        return WW_ENC_DEFLATE;
    return WW_ENC_UNSUPPORTED;
}

const char *ww_encoding_name(enum ww_encoding enc)
{
    switch (enc) {
    case WW_ENC_IDENTITY:
        return "identity";
    case WW_ENC_GZIP:
        return "gzip";
    case WW_ENC_DEFLATE:
        return "deflate";
    default:
        return "unsupported";
    }
}

/* gzip: 16+15 accepts only gzip; deflate: zlib-wrapped first, raw (-15) after a header error. */
static int decode_init(struct ww_decode *d)
{
    int bits = d->enc == WW_ENC_GZIP ? 16 + MAX_WBITS : (d->raw ? -MAX_WBITS : MAX_WBITS);

    if (d->ready)
        inflateEnd(&d->zs);
    memset(&d->zs, 0, sizeof(d->zs));
    d->ready = inflateInit2(&d->zs, bits) == Z_OK;
    return d->ready ? WW_OK : WW_ENOMEM;
}

struct ww_decode *ww_decode_create(enum ww_encoding enc, int64_t max_expanded, int max_ratio)
{
    struct ww_decode *d;

    if (enc != WW_ENC_GZIP && enc != WW_ENC_DEFLATE)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->enc = enc;
    d->max_expanded = max_expanded > 0 ? max_expanded : INT64_MAX;
    d->max_ratio = max_ratio > 0 ? max_ratio : 0;
    if (decode_init(d) != WW_OK) {
        free(d);
        return NULL;
    }
    return d;
}

void ww_decode_free(struct ww_decode *d)
{
    if (d == NULL)
        return;
    if (d->ready)
        inflateEnd(&d->zs);
    free(d);
}

/* Checks the limits for <produced> new bytes in the window, then hands them on. 0 to go on,
 * 1 when the sink asked to stop, or a negative WW_E* (sticky). */
static int decode_emit(struct ww_decode *d, size_t produced, ww_decode_sink sink, void *arg)
{
    if (produced == 0)
        return 0;
    if (d->out_total + (int64_t)produced > d->max_expanded)
        return d->failed = WW_ETOOBIG;
    d->out_total += (int64_t)produced;
    if (d->max_ratio > 0 && d->out_total > DECODE_RATIO_FLOOR &&
        d->out_total / (d->in_total > 0 ? d->in_total : 1) >= d->max_ratio)
        return d->failed = WW_ETOOBIG;
    return sink(d->out, produced, arg) != 0;
}

int ww_decode_feed(struct ww_decode *d, const void *in, size_t len, ww_decode_sink sink, void *arg)
{
    int pending = 0; /* the window filled up: inflate may hold more output for input taken */

    if (d->failed)
        return d->failed;
    d->zs.next_in = (unsigned char *)(uintptr_t)in;
    d->zs.avail_in = (uInt)len; /* callers feed network chunks, far below 4 GiB */
    for (;;) {
        uInt before = d->zs.avail_in;
        int zrc, rc;

        if (before == 0 && !pending)
            return WW_OK;
        if (d->ended) {
            if (before == 0)
                return WW_OK;
            /* More bytes after the end: the next member of a multi-member gzip file. Anything
             * after a deflate stream is not deflate. */
            if (d->enc != WW_ENC_GZIP || inflateReset(&d->zs) != Z_OK)
                return d->failed = WW_EPROTO;
            d->ended = 0;
        }
        d->zs.next_out = d->out;
        d->zs.avail_out = sizeof(d->out);
        zrc = inflate(&d->zs, Z_NO_FLUSH);
        if ((zrc == Z_DATA_ERROR || zrc == Z_NEED_DICT) && d->enc == WW_ENC_DEFLATE && !d->raw &&
            d->out_total == 0 && d->in_total == 0) {
            /* "deflate" sent without its zlib header, as some servers do: start over raw. */
            d->raw = 1;
            if (decode_init(d) != WW_OK)
                return d->failed = WW_ENOMEM;
            d->zs.next_in = (unsigned char *)(uintptr_t)in;
            d->zs.avail_in = (uInt)len;
            continue;
        }
        d->in_total += before - d->zs.avail_in;
        if (zrc == Z_MEM_ERROR)
            return d->failed = WW_ENOMEM;
        if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR)
            return d->failed = WW_EPROTO;
        pending = d->zs.avail_out == 0;
        rc = decode_emit(d, sizeof(d->out) - d->zs.avail_out, sink, arg);
        if (rc != 0)
            return rc < 0 ? rc : WW_OK;
        if (zrc == Z_STREAM_END) {
            d->ended = 1;
            pending = 0;
        } else if (!pending && before == d->zs.avail_in) {
            return WW_OK; /* needs more input */
        }
    }
}

int ww_decode_finish(struct ww_decode *d)
{
    if (d->failed)
        return d->failed;
    return d->ended ? WW_OK : WW_EPROTO;
}

int64_t ww_decode_bytes_in(const struct ww_decode *d)
{
    return d->in_total;
}

int64_t ww_decode_bytes_out(const struct ww_decode *d)
{
    return d->out_total;
}
