/* lib/ww_decode.c - streaming Content-Encoding decoder (zlib, brotli, zstd) with bomb limits. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "ww_common.h"
#include "ww_decode.h"

/* The ratio limit applies once this much came out: small pages compress far better than 100:1. */
#define DECODE_RATIO_FLOOR ((int64_t)1 << 20)
/* zstd: the largest window a frame may ask for (RFC 9659: HTTP decoders need not go past 8 MiB,
 * and browsers refuse more). */
#define DECODE_ZSTD_WINDOW_LOG 23

/* One stage of a chain: undoes one coding and hands its output to <inner> (the coding applied
 * before it), or to the caller's sink when it is the innermost. */
struct ww_decode {
    enum ww_encoding enc;
    z_stream zs;
    BrotliDecoderState *br;
    ZSTD_DCtx *zstd;
    int ready;   /* zs initialised */
    int ended;   /* a stream (gzip member, zstd frame, brotli stream) ended cleanly */
    int raw;     /* deflate: fell back to raw deflate (no zlib header) */
    int failed;  /* sticky WW_E* once decoding stopped */
    int stopped; /* the caller's sink asked to stop */
    int held;    /* deflate: the first byte, kept until the second shows whether it is zlib */
    unsigned char first;
    int64_t in_total, out_total, max_expanded;
    int max_ratio;
    struct ww_decode *inner; /* NULL: the innermost stage */
    struct ww_decode *root;  /* the outermost stage (itself for a single coding) */
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
    if (len == 2 && strncasecmp(value, "br", 2) == 0)
        return WW_ENC_BR;
    if (len == 4 && strncasecmp(value, "zstd", 4) == 0)
        return WW_ENC_ZSTD;
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
    case WW_ENC_BR:
        return "br";
    case WW_ENC_ZSTD:
        return "zstd";
    default:
        return "unsupported";
    }
}

void ww_encodings_init(struct ww_encodings *e)
{
    memset(e, 0, sizeof(*e));
}

/* Remembers the first coding that cannot be undone, printable and cut to fit. */
static void encodings_bad(struct ww_encodings *e, const char *tok, size_t len)
{
    size_t i, n = len < sizeof(e->bad) - 1 ? len : sizeof(e->bad) - 1;

    if (e->undecodable)
        return;
    e->undecodable = 1;
    for (i = 0; i < n; i++)
        e->bad[i] = isprint((unsigned char)tok[i]) ? tok[i] : '?';
    e->bad[n] = '\0';
}

void ww_encodings_add_value(struct ww_encodings *e, const char *value, size_t len)
{
    const char *end = value + len;

    while (value < end) {
        const char *comma = memchr(value, ',', (size_t)(end - value));
        const char *tok = value, *tend = comma != NULL ? comma : end;
        char buf[16];
        enum ww_encoding enc;

        value = comma != NULL ? comma + 1 : end;
        while (tok < tend && isspace((unsigned char)*tok))
            tok++;
        while (tend > tok && isspace((unsigned char)tend[-1]))
            tend--;
        if (tend == tok)
            continue; /* "gzip,,gzip": empty elements count for nothing */
        if ((size_t)(tend - tok) >= sizeof(buf)) {
            encodings_bad(e, tok, (size_t)(tend - tok));
            continue;
        }
        memcpy(buf, tok, (size_t)(tend - tok));
        buf[tend - tok] = '\0';
        enc = ww_decode_parse(buf);
        if (enc == WW_ENC_IDENTITY)
            continue;
        if (enc == WW_ENC_UNSUPPORTED) {
            encodings_bad(e, tok, (size_t)(tend - tok));
        } else if (e->n == WW_DECODE_MAX_CODINGS) {
            encodings_bad(e, "too many codings", 16);
        } else {
            e->enc[e->n++] = enc;
        }
    }
}

size_t ww_header_value_len(const char *v)
{
    size_t i = 0, j;

    for (;;) {
        i += strcspn(v + i, "\r\n");
        if (v[i] == '\0')
            return i;
        if (v[i] == '\r' && v[i + 1] != '\n') {
            i++; /* a lone CR ends no line (c-icap keeps it inside the value): whitespace */
            continue;
        }
        j = i + (v[i] == '\r' ? 2 : 1);
        if (v[j] != ' ' && v[j] != '\t')
            return i;
        i = j;
    }
}

const char *ww_header_field_value(const char *line, const char *name)
{
    size_t n = strlen(name);

    if (strncasecmp(line, name, n) != 0)
        return NULL;
    line += n;
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line != ':')
        return NULL; /* Content-Encoding-Foo: another field */
    line++;
    while (*line == ' ' || *line == '\t')
        line++;
    return line;
}

void ww_encodings_add_line(struct ww_encodings *e, const char *line)
{
    const char *v = ww_header_field_value(line, "Content-Encoding");

    if (v != NULL)
        ww_encodings_add_value(e, v, ww_header_value_len(v));
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

static struct ww_decode *decode_stage(enum ww_encoding enc, int64_t max_expanded, int max_ratio)
{
    struct ww_decode *d;

    if (enc != WW_ENC_GZIP && enc != WW_ENC_DEFLATE && enc != WW_ENC_BR && enc != WW_ENC_ZSTD)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->enc = enc;
    d->root = d;
    d->max_expanded = max_expanded > 0 ? max_expanded : INT64_MAX;
    d->max_ratio = max_ratio > 0 ? max_ratio : 0;
    if (enc == WW_ENC_BR) {
        d->br = BrotliDecoderCreateInstance(NULL, NULL, NULL);
        if (d->br != NULL)
            return d;
    } else if (enc == WW_ENC_ZSTD) {
        d->zstd = ZSTD_createDCtx();
        if (d->zstd != NULL && !ZSTD_isError(ZSTD_DCtx_setParameter(d->zstd, ZSTD_d_windowLogMax,
                                                                    DECODE_ZSTD_WINDOW_LOG)))
            return d;
    } else if (decode_init(d) == WW_OK) {
        return d;
    }
    ww_decode_free(d);
    return NULL;
}

struct ww_decode *ww_decode_create(enum ww_encoding enc, int64_t max_expanded, int max_ratio)
{
    return decode_stage(enc, max_expanded, max_ratio);
}

struct ww_decode *ww_decode_create_chain(const struct ww_encodings *e, int64_t max_expanded,
                                         int max_ratio)
{
    struct ww_decode *outer = NULL;

    if (e->undecodable || e->n == 0)
        return NULL;
    /* enc[0] was applied first, so it is undone last: it is the innermost stage. */
    for (size_t i = 0; i < e->n; i++) {
        struct ww_decode *d = decode_stage(e->enc[i], max_expanded, max_ratio);
        if (d == NULL) {
            ww_decode_free(outer);
            return NULL;
        }
        d->inner = outer;
        outer = d;
    }
    for (struct ww_decode *d = outer; d != NULL; d = d->inner)
        d->root = outer;
    return outer;
}

void ww_decode_free(struct ww_decode *d)
{
    while (d != NULL) {
        struct ww_decode *inner = d->inner;
        if (d->ready)
            inflateEnd(&d->zs);
        if (d->br != NULL)
            BrotliDecoderDestroyInstance(d->br);
        if (d->zstd != NULL)
            ZSTD_freeDCtx(d->zstd);
        free(d);
        d = inner;
    }
}

/* Checks the limits for <produced> new bytes in the window, then hands them on (to the inner
 * stage, or the sink). 0 to go on, 1 when the sink asked to stop, or a negative WW_E* (sticky).
 * The ratio is of this stage's output to the bytes the outermost stage received: a chain cannot
 * multiply its stages' ratios. */
static int decode_emit(struct ww_decode *d, size_t produced, ww_decode_sink sink, void *arg)
{
    int64_t in = d->root->in_total;
    int rc;

    if (produced == 0)
        return 0;
    if (d->out_total + (int64_t)produced > d->max_expanded)
        return d->failed = WW_ETOOBIG;
    /* counted only when handed on: bytes_out is what the sink got (t/fuzz_decode checks it) */
    if (d->max_ratio > 0 && d->out_total + (int64_t)produced > DECODE_RATIO_FLOOR &&
        (d->out_total + (int64_t)produced) / (in > 0 ? in : 1) >= d->max_ratio)
        return d->failed = WW_ETOOBIG;
    d->out_total += (int64_t)produced;
    if (d->inner == NULL) {
        if (sink(d->out, produced, arg) != 0)
            return d->stopped = 1;
        return 0;
    }
    rc = ww_decode_feed(d->inner, d->out, produced, sink, arg);
    if (rc != WW_OK)
        return d->failed = rc;
    if (d->inner->stopped)
        return d->stopped = 1;
    return 0;
}

static int decode_feed_zlib(struct ww_decode *d, const void *in, size_t len, ww_decode_sink sink,
                            void *arg)
{
    int pending = 0; /* the window filled up: inflate may hold more output for input taken */

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

/* A brotli stream is one stream: bytes after its end are not brotli. */
static int decode_feed_br(struct ww_decode *d, const void *in, size_t len, ww_decode_sink sink,
                          void *arg)
{
    const uint8_t *next_in = in;
    size_t avail_in = len;

    if (d->ended)
        return len == 0 ? WW_OK : (d->failed = WW_EPROTO);
    for (;;) {
        uint8_t *next_out = d->out;
        size_t avail_out = sizeof(d->out), before = avail_in;
        BrotliDecoderResult r;
        int rc;

        r = BrotliDecoderDecompressStream(d->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
        d->in_total += (int64_t)(before - avail_in);
        if (r == BROTLI_DECODER_RESULT_ERROR)
            return d->failed = WW_EPROTO;
        rc = decode_emit(d, sizeof(d->out) - avail_out, sink, arg);
        if (rc != 0)
            return rc < 0 ? rc : WW_OK;
        if (r == BROTLI_DECODER_RESULT_SUCCESS) {
            d->ended = 1;
            return avail_in == 0 ? WW_OK : (d->failed = WW_EPROTO);
        }
        if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT)
            return WW_OK; /* every input byte was taken */
    }
}

/* zstd: several frames may follow one another (RFC 8878); each ends cleanly at a return of 0. */
static int decode_feed_zstd(struct ww_decode *d, const void *in, size_t len, ww_decode_sink sink,
                            void *arg)
{
    ZSTD_inBuffer ib = {in, len, 0};

    if (len == 0)
        return WW_OK; /* every call drains the window: nothing is left to flush */
    for (;;) {
        ZSTD_outBuffer ob = {d->out, sizeof(d->out), 0};
        size_t before = ib.pos, r;
        int rc;

        r = ZSTD_decompressStream(d->zstd, &ob, &ib);
        d->in_total += (int64_t)(ib.pos - before);
        if (ZSTD_isError(r)) {
            /* A window over the cap is refused like a bomb: clients with a larger cap (curl
             * takes 128 MiB) would decode what this scanner did not. */
            if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge)
                return d->failed = WW_ETOOBIG;
            return d->failed = WW_EPROTO;
        }
        rc = decode_emit(d, ob.pos, sink, arg);
        if (rc != 0)
            return rc < 0 ? rc : WW_OK;
        d->ended = r == 0;
        if (ib.pos == ib.size && ob.pos < ob.size)
            return WW_OK;
    }
}

int ww_decode_feed(struct ww_decode *d, const void *in, size_t len, ww_decode_sink sink, void *arg)
{
    if (d->failed)
        return d->failed;
    if (d->stopped)
        return WW_OK;
    if (d->enc == WW_ENC_DEFLATE && d->in_total == 0 && !d->raw && len > 0) {
        /* zlib or raw deflate is told by the first two bytes together: an inner stage may be
         * handed one byte at a time. */
        unsigned char two[2];
        int rc;

        if (!d->held) {
            if (len == 1) {
                d->first = *(const unsigned char *)in;
                d->held = 1;
                return WW_OK;
            }
        } else {
            d->held = 0;
            two[0] = d->first;
            two[1] = *(const unsigned char *)in;
            rc = decode_feed_zlib(d, two, 2, sink, arg);
            if (rc != WW_OK || d->stopped || len == 1)
                return rc;
            in = (const unsigned char *)in + 1;
            len--;
        }
    }
    switch (d->enc) {
    case WW_ENC_BR:
        return decode_feed_br(d, in, len, sink, arg);
    case WW_ENC_ZSTD:
        return decode_feed_zstd(d, in, len, sink, arg);
    default:
        return decode_feed_zlib(d, in, len, sink, arg);
    }
}

/* The outermost stage first: an inner stage may only know it is whole once the outer one is. */
int ww_decode_finish(struct ww_decode *d)
{
    for (; d != NULL; d = d->inner) {
        if (d->failed)
            return d->failed;
        if (!d->ended && !d->stopped)
            return WW_EPROTO;
        if (d->stopped)
            return WW_OK;
    }
    return WW_OK;
}

int64_t ww_decode_bytes_in(const struct ww_decode *d)
{
    return d->in_total;
}

int64_t ww_decode_bytes_out(const struct ww_decode *d)
{
    while (d->inner != NULL)
        d = d->inner;
    return d->out_total;
}
