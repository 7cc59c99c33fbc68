/* t/check_decode.c - Content-Encoding decoding: gzip, deflate (zlib and raw), br, zstd, chains
 * of them across header lines, limits at every stage. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include "ww_common.h"
#include "ww_decode.h"

/* Compresses <len> bytes with zlib's deflate: windowBits 15 zlib, -15 raw, 31 gzip. */
static unsigned char *squeeze(const void *data, size_t len, int window_bits, size_t *outlen)
{
    z_stream zs;
    size_t cap = compressBound(len) + 64;
    unsigned char *out = malloc(cap);

    ck_assert_ptr_nonnull(out);
    memset(&zs, 0, sizeof(zs));
    ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (unsigned char *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *outlen = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

struct collect {
    unsigned char *buf;
    size_t len, cap;
    size_t stop_after; /* 0 = never */
};

static int collect_sink(const void *data, size_t len, void *arg)
{
    struct collect *c = arg;

    if (c->len + len > c->cap) {
        c->cap = (c->len + len) * 2;
        c->buf = realloc(c->buf, c->cap);
        ck_assert_ptr_nonnull(c->buf);
    }
    memcpy(c->buf + c->len, data, len);
    c->len += len;
    return c->stop_after > 0 && c->len >= c->stop_after;
}

/* Some text that compresses a little, not a lot. */
static unsigned char *sample(size_t len)
{
    unsigned char *p = malloc(len);
    unsigned int x = 12345;

    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (unsigned char)("abcdefgh ijklmnop\n"[(x >> 16) % 18]);
    }
    return p;
}

/* Feeds <z> in pieces of <step> bytes and checks the output equals <want>. */
static void roundtrip(enum ww_encoding enc, const unsigned char *z, size_t zlen,
                      const unsigned char *want, size_t wantlen, size_t step)
{
    struct ww_decode *d = ww_decode_create(enc, 0, 0);
    struct collect c = {0};

    ck_assert_ptr_nonnull(d);
    for (size_t off = 0; off < zlen; off += step) {
        size_t n = zlen - off < step ? zlen - off : step;
        int rc = ww_decode_feed(d, z + off, n, collect_sink, &c);
        ck_assert_msg(rc == WW_OK, "%s step %zu: feed at %zu = %d", ww_encoding_name(enc), step,
                      off, rc);
    }
    ck_assert_int_eq(ww_decode_finish(d), WW_OK);
    ck_assert_msg(c.len == wantlen && memcmp(c.buf, want, wantlen) == 0,
                  "%s step %zu: got %zu bytes, want %zu", ww_encoding_name(enc), step, c.len,
                  wantlen);
    ck_assert_int_eq(ww_decode_bytes_in(d), (int64_t)zlen);
    ck_assert_int_eq(ww_decode_bytes_out(d), (int64_t)wantlen);
    free(c.buf);
    ww_decode_free(d);
}

static const struct {
    const char *value;
    enum ww_encoding want;
} parse_cases[] = {
    {NULL, WW_ENC_IDENTITY},          {"", WW_ENC_IDENTITY},
    {"identity", WW_ENC_IDENTITY},    {"gzip", WW_ENC_GZIP},
    {" GZip ", WW_ENC_GZIP},          {"x-gzip", WW_ENC_GZIP},
    {"deflate", WW_ENC_DEFLATE},      {"br", WW_ENC_BR},
    {"gzip, br", WW_ENC_UNSUPPORTED}, {"compress", WW_ENC_UNSUPPORTED},
    {" ZSTD", WW_ENC_ZSTD},           {"bro", WW_ENC_UNSUPPORTED},
};

START_TEST(test_decode_parse_names_the_coding)
{
    ck_assert_msg(ww_decode_parse(parse_cases[_i].value) == parse_cases[_i].want,
                  "parse(\"%s\") = %d, want %d",
                  parse_cases[_i].value ? parse_cases[_i].value : "(null)",
                  ww_decode_parse(parse_cases[_i].value), parse_cases[_i].want);
}
END_TEST

static const size_t steps[] = {1, 7, 4096, 1 << 20};

START_TEST(test_decode_gzip_roundtrip_any_chunking)
{
    size_t len = 300000, zlen;
    unsigned char *plain = sample(len), *z = squeeze(plain, len, 31, &zlen);

    roundtrip(WW_ENC_GZIP, z, zlen, plain, len, steps[_i]);
    free(z);
    free(plain);
}
END_TEST

START_TEST(test_decode_deflate_zlib_and_raw)
{
    size_t len = 100000, zlen, rlen;
    unsigned char *plain = sample(len), *z = squeeze(plain, len, 15, &zlen),
                  *r = squeeze(plain, len, -15, &rlen);

    roundtrip(WW_ENC_DEFLATE, z, zlen, plain, len, steps[_i]);
    roundtrip(WW_ENC_DEFLATE, r, rlen, plain, len, steps[_i] < 2 ? 2 : steps[_i]);
    free(z);
    free(r);
    free(plain);
}
END_TEST

START_TEST(test_decode_gzip_concatenated_members)
{
    size_t l1 = 5000, l2 = 7000, z1len, z2len;
    unsigned char *p1 = sample(l1), *p2 = sample(l2);
    unsigned char *z1 = squeeze(p1, l1, 31, &z1len), *z2 = squeeze(p2, l2, 31, &z2len);
    unsigned char *both = malloc(z1len + z2len), *want = malloc(l1 + l2);

    memcpy(both, z1, z1len);
    memcpy(both + z1len, z2, z2len);
    memcpy(want, p1, l1);
    memcpy(want + l1, p2, l2);
    roundtrip(WW_ENC_GZIP, both, z1len + z2len, want, l1 + l2, 1000);
    free(both);
    free(want);
    free(z1);
    free(z2);
    free(p1);
    free(p2);
}
END_TEST

START_TEST(test_decode_bomb_over_size_cap_stops)
{
    size_t len = 8 << 20, zlen;
    unsigned char *zeros = calloc(1, len), *z = squeeze(zeros, len, 31, &zlen);
    struct ww_decode *d = ww_decode_create(WW_ENC_GZIP, 1 << 20, 0);
    struct collect c = {0};

    ck_assert_int_eq(ww_decode_feed(d, z, zlen, collect_sink, &c), WW_ETOOBIG);
    ck_assert_msg(c.len <= (1u << 20), "emitted %zu bytes past the 1 MiB cap", c.len);
    ck_assert_int_eq(ww_decode_feed(d, z, 10, collect_sink, &c), WW_ETOOBIG); /* sticky */
    ck_assert_int_eq(ww_decode_finish(d), WW_ETOOBIG);
    free(c.buf);
    ww_decode_free(d);
    free(z);
    free(zeros);
}
END_TEST

START_TEST(test_decode_bomb_over_ratio_stops_but_small_pages_pass)
{
    size_t len = 8 << 20, zlen, slen = 200000, szlen;
    unsigned char *zeros = calloc(1, len), *z = squeeze(zeros, len, 31, &zlen);
    unsigned char *small = calloc(1, slen), *sz = squeeze(small, slen, 31, &szlen);
    struct ww_decode *d = ww_decode_create(WW_ENC_GZIP, 0, 100);
    struct collect c = {0};

    /* 8 MiB of zeros is about 1000:1; 200 KB of zeros too, but under the 1 MiB floor. */
    ck_assert_int_eq(ww_decode_feed(d, z, zlen, collect_sink, &c), WW_ETOOBIG);
    ck_assert_msg(c.len < len, "a 1000:1 body came out whole");
    ww_decode_free(d);
    free(c.buf);
    roundtrip(WW_ENC_GZIP, sz, szlen, small, slen, 4096);
    free(z);
    free(zeros);
    free(sz);
    free(small);
}
END_TEST

START_TEST(test_decode_corrupt_and_truncated_are_protocol_errors)
{
    size_t len = 50000, zlen;
    unsigned char *plain = sample(len), *z = squeeze(plain, len, 31, &zlen);
    struct ww_decode *d = ww_decode_create(WW_ENC_GZIP, 0, 0);
    struct collect c = {0};

    /* Truncated: feeding works, the end says the stream was cut. */
    ck_assert_int_eq(ww_decode_feed(d, z, zlen / 2, collect_sink, &c), WW_OK);
    ck_assert_int_eq(ww_decode_finish(d), WW_EPROTO);
    ww_decode_free(d);
    /* Not gzip at all. */
    d = ww_decode_create(WW_ENC_GZIP, 0, 0);
    ck_assert_int_eq(ww_decode_feed(d, "this is plain text, not gzip", 28, collect_sink, &c),
                     WW_EPROTO);
    ww_decode_free(d);
    /* Garbage in the middle of the deflate data. */
    for (size_t i = zlen / 3; i < zlen / 3 + 64; i++)
        z[i] ^= 0x5a;
    d = ww_decode_create(WW_ENC_GZIP, 0, 0);
    int rc = ww_decode_feed(d, z, zlen, collect_sink, &c);
    ck_assert_msg(rc == WW_EPROTO || ww_decode_finish(d) == WW_EPROTO, "corruption unnoticed");
    ww_decode_free(d);
    ck_assert_ptr_null(ww_decode_create(WW_ENC_IDENTITY, 0, 0));
    free(c.buf);
    free(z);
    free(plain);
}
END_TEST

START_TEST(test_decode_sink_can_stop_early)
{
    size_t len = 300000, zlen;
    unsigned char *plain = sample(len), *z = squeeze(plain, len, 31, &zlen);
    struct ww_decode *d = ww_decode_create(WW_ENC_GZIP, 0, 0);
    struct collect c = {.stop_after = 1};

    ck_assert_int_eq(ww_decode_feed(d, z, zlen, collect_sink, &c), WW_OK);
    ck_assert_msg(c.len > 0 && c.len <= 65536, "sink asked to stop, got %zu bytes", c.len);
    free(c.buf);
    ww_decode_free(d);
    free(z);
    free(plain);
}
END_TEST

/* ---- chains (issue 12, part 2) ---- */

static unsigned char *br_pack(const void *data, size_t len, size_t *outlen)
{
    size_t cap = BrotliEncoderMaxCompressedSize(len) + 64;
    unsigned char *out = malloc(cap);

    ck_assert_ptr_nonnull(out);
    *outlen = cap;
    ck_assert(BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, len, data,
                                    outlen, out));
    return out;
}

/* window_log 0: zstd's default for the level. */
static unsigned char *zstd_pack(const void *data, size_t len, int window_log, size_t *outlen)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(len) + 1024, r;
    unsigned char *out = malloc(cap);
    ZSTD_outBuffer ob = {out, cap, 0};
    ZSTD_inBuffer ib = {data, len, 0};

    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(c);
    if (window_log > 0)
        ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, window_log);
    /* Streamed, so the frame does not know its size and keeps the window it was given. */
    r = ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_continue);
    ck_assert(!ZSTD_isError(r));
    ib.size = ib.pos;
    do {
        r = ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end);
        ck_assert(!ZSTD_isError(r));
    } while (r != 0);
    ZSTD_freeCCtx(c);
    *outlen = ob.pos;
    return out;
}

/* Applies <codings> ("gzip", "gzip0" = stored, "deflate", "raw", "br", "zstd") in order. */
static unsigned char *pack_chain(const char *const *codings, size_t n, const void *data, size_t len,
                                 size_t *outlen)
{
    unsigned char *cur = malloc(len > 0 ? len : 1), *next;

    ck_assert_ptr_nonnull(cur);
    memcpy(cur, data, len);
    for (size_t i = 0; i < n; i++) {
        const char *c = codings[i];
        if (strcmp(c, "gzip") == 0) {
            next = squeeze(cur, len, 31, outlen);
        } else if (strcmp(c, "gzip0") == 0) {
            z_stream zs;
            size_t cap = compressBound(len) + 64 + len / 8;
            next = malloc(cap);
            ck_assert_ptr_nonnull(next);
            memset(&zs, 0, sizeof(zs));
            ck_assert_int_eq(deflateInit2(&zs, 0, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
            zs.next_in = cur;
            zs.avail_in = (uInt)len;
            zs.next_out = next;
            zs.avail_out = (uInt)cap;
            ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
            *outlen = cap - zs.avail_out;
            deflateEnd(&zs);
        } else if (strcmp(c, "deflate") == 0) {
            next = squeeze(cur, len, 15, outlen);
        } else if (strcmp(c, "raw") == 0) {
            next = squeeze(cur, len, -15, outlen);
        } else if (strcmp(c, "br") == 0) {
            next = br_pack(cur, len, outlen);
        } else {
            next = zstd_pack(cur, len, 0, outlen);
        }
        free(cur);
        cur = next;
        len = *outlen;
    }
    *outlen = len;
    return cur;
}

static struct ww_encodings encodings_of(const char *const *lines, size_t n)
{
    struct ww_encodings e;

    ww_encodings_init(&e);
    for (size_t i = 0; i < n; i++)
        ww_encodings_add_line(&e, lines[i]);
    return e;
}

START_TEST(test_decode_encodings_read_every_header_line)
{
    const char *two_lines[] = {"Content-Type: text/html", "Content-Encoding: identity",
                               "content-encoding:GZIP\r\n"};
    const char *stacked[] = {"Content-Encoding: gzip, gzip"};
    const char *mixed[] = {"Content-Encoding: deflate", "Content-Encoding-Note: x",
                           "Content-Encoding: ,br , identity,, ZSTD "};
    const char *unknown[] = {"Content-Encoding: gzip, br, x-custom", "Content-Encoding: gzip"};
    const char *too_many[] = {"Content-Encoding: gzip, gzip, gzip, gzip, gzip"};
    const char *plain[] = {"Content-Encoding: identity", "Content-Length: 5"};
    /* obs-fold: a CR LF (or LF) and a space or tab continue the value; any other CR or LF ends
     * it (a raw header block read line by line) */
    const char *folded[] = {"Content-Encoding: gzip,\r\n br", "Content-Encoding:\n\tzstd"};
    const char *not_folded[] = {"Content-Encoding: gzip\r\nContent-Encoding: br\r\n"};
    struct ww_encodings e;

    e = encodings_of(two_lines, 3);
    ck_assert_int_eq(e.n, 1);
    ck_assert_int_eq(e.enc[0], WW_ENC_GZIP);
    ck_assert(!e.undecodable);
    e = encodings_of(stacked, 1);
    ck_assert_int_eq(e.n, 2);
    ck_assert(e.enc[0] == WW_ENC_GZIP && e.enc[1] == WW_ENC_GZIP);
    e = encodings_of(mixed, 3);
    ck_assert_int_eq(e.n, 3);
    ck_assert(e.enc[0] == WW_ENC_DEFLATE && e.enc[1] == WW_ENC_BR && e.enc[2] == WW_ENC_ZSTD);
    e = encodings_of(unknown, 2);
    ck_assert(e.undecodable);
    ck_assert_str_eq(e.bad, "x-custom");
    ck_assert_ptr_null(ww_decode_create_chain(&e, 0, 0));
    e = encodings_of(too_many, 1);
    ck_assert(e.undecodable);
    ck_assert_ptr_null(ww_decode_create_chain(&e, 0, 0));
    e = encodings_of(plain, 2);
    ck_assert_int_eq(e.n, 0);
    ck_assert(!e.undecodable);
    ck_assert_ptr_null(ww_decode_create_chain(&e, 0, 0)); /* nothing to undo */
    e = encodings_of(folded, 2);
    ck_assert_int_eq(e.n, 3);
    ck_assert(e.enc[0] == WW_ENC_GZIP && e.enc[1] == WW_ENC_BR && e.enc[2] == WW_ENC_ZSTD);
    ck_assert(!e.undecodable);
    e = encodings_of(not_folded, 1);
    ck_assert_int_eq(e.n, 1);
    ck_assert_int_eq(e.enc[0], WW_ENC_GZIP);
    ck_assert_uint_eq(ww_header_value_len("gzip,\r\n br\r\nX: y"), 10);
    ck_assert_uint_eq(ww_header_value_len("gzip\n"), 4);
    ck_assert_uint_eq(ww_header_value_len("\r\n\tgzip"), 7);
    ck_assert_uint_eq(ww_header_value_len(""), 0);
    ck_assert_uint_eq(ww_header_value_len("gzip,\rbr\r\n"), 8); /* a lone CR is inside */
    /* The field's value: blanks around the colon skipped; another field is none. */
    ck_assert_str_eq(ww_header_field_value("Content-Encoding: gzip", "Content-Encoding"), "gzip");
    ck_assert_str_eq(ww_header_field_value("content-encoding :\tgzip", "Content-Encoding"), "gzip");
    ck_assert_str_eq(ww_header_field_value("Content-Encoding \t: br", "Content-Encoding"), "br");
    ck_assert_str_eq(ww_header_field_value("Content-Encoding:", "Content-Encoding"), "");
    ck_assert_ptr_null(ww_header_field_value("Content-Encoding-X: gzip", "Content-Encoding"));
    ck_assert_ptr_null(ww_header_field_value("Content-Encodin: gzip", "Content-Encoding"));
    ck_assert_ptr_null(ww_header_field_value("X-Content-Encoding: gzip", "Content-Encoding"));
}
END_TEST

static const struct {
    const char *header; /* as sent */
    const char *codings[WW_DECODE_MAX_CODINGS];
    size_t n;
} chain_cases[] = {
    {"Content-Encoding: gzip, gzip", {"gzip", "gzip"}, 2},
    {"Content-Encoding: x-gzip, identity, gzip", {"gzip", "gzip"}, 2},
    {"Content-Encoding: br", {"br"}, 1},
    {"Content-Encoding: zstd", {"zstd"}, 1},
    {"Content-Encoding: deflate, br", {"raw", "br"}, 2},
    {"Content-Encoding: gzip, br, zstd, deflate", {"gzip", "br", "zstd", "deflate"}, 4},
    {"Content-Encoding: zstd, gzip", {"zstd", "gzip"}, 2},
};

START_TEST(test_decode_chain_roundtrip_any_chunking)
{
    size_t len = 200000, zlen;
    unsigned char *plain = sample(len);
    unsigned char *z = pack_chain(chain_cases[_i].codings, chain_cases[_i].n, plain, len, &zlen);
    struct ww_encodings e;

    ww_encodings_init(&e);
    ww_encodings_add_line(&e, chain_cases[_i].header);
    ck_assert_int_eq(e.n, chain_cases[_i].n);
    for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
        struct ww_decode *d = ww_decode_create_chain(&e, 0, 0);
        struct collect c = {0};

        ck_assert_ptr_nonnull(d);
        for (size_t off = 0; off < zlen; off += steps[s]) {
            size_t n = zlen - off < steps[s] ? zlen - off : steps[s];
            ck_assert_int_eq(ww_decode_feed(d, z + off, n, collect_sink, &c), WW_OK);
        }
        ck_assert_msg(ww_decode_finish(d) == WW_OK, "%s step %zu: not finished",
                      chain_cases[_i].header, steps[s]);
        ck_assert_msg(c.len == len && memcmp(c.buf, plain, len) == 0, "%s step %zu: got %zu bytes",
                      chain_cases[_i].header, steps[s], c.len);
        ck_assert_int_eq(ww_decode_bytes_in(d), (int64_t)zlen);
        ck_assert_int_eq(ww_decode_bytes_out(d), (int64_t)len);
        free(c.buf);
        ww_decode_free(d);
    }
    free(z);
    free(plain);
}
END_TEST

/* A bomb stops whichever stage it is in: the inner coding (gzip of zeros under a stored gzip),
 * the outer one (a stored gzip of zeros, packed by gzip), or a br/zstd stage. */
static const struct {
    const char *codings[2];
    int64_t cap;
    int ratio;
} bomb_cases[] = {
    {{"gzip", "gzip0"}, 1 << 20, 0}, {{"gzip", "gzip0"}, 0, 100},
    {{"gzip0", "gzip"}, 1 << 20, 0}, {{"gzip0", "gzip"}, 0, 100},
    {{"br", "gzip0"}, 1 << 20, 0},   {{"zstd", "gzip0"}, 0, 100},
    {{"gzip0", "br"}, 0, 100},       {{"gzip0", "zstd"}, 1 << 20, 0},
};

START_TEST(test_decode_chain_bomb_at_each_stage_stops)
{
    size_t len = 8 << 20, zlen;
    unsigned char *zeros = calloc(1, len);
    unsigned char *z = pack_chain(bomb_cases[_i].codings, 2, zeros, len, &zlen);
    struct ww_encodings e;
    struct ww_decode *d;
    struct collect c = {0};
    int rc = WW_OK;
    char hdr[64];

    snprintf(
        hdr, sizeof(hdr), "Content-Encoding: %s, %s",
        strncmp(bomb_cases[_i].codings[0], "gzip", 4) == 0 ? "gzip" : bomb_cases[_i].codings[0],
        strncmp(bomb_cases[_i].codings[1], "gzip", 4) == 0 ? "gzip" : bomb_cases[_i].codings[1]);
    ww_encodings_init(&e);
    ww_encodings_add_line(&e, hdr);
    d = ww_decode_create_chain(&e, bomb_cases[_i].cap, bomb_cases[_i].ratio);
    ck_assert_ptr_nonnull(d);
    for (size_t off = 0; off < zlen && rc == WW_OK; off += 4096)
        rc = ww_decode_feed(d, z + off, zlen - off < 4096 ? zlen - off : 4096, collect_sink, &c);
    ck_assert_msg(rc == WW_ETOOBIG, "%s (cap %lld, ratio %d): rc %d after %zu bytes out", hdr,
                  (long long)bomb_cases[_i].cap, bomb_cases[_i].ratio, rc, c.len);
    ck_assert_msg(c.len < len, "%s: the bomb came out whole", hdr);
    if (bomb_cases[_i].cap > 0)
        ck_assert_msg(c.len <= (size_t)bomb_cases[_i].cap, "%s: %zu bytes past the cap", hdr,
                      c.len);
    ck_assert_int_eq(ww_decode_finish(d), WW_ETOOBIG);
    ck_assert_int_eq(ww_decode_feed(d, z, 1, collect_sink, &c), WW_ETOOBIG); /* sticky */
    free(c.buf);
    ww_decode_free(d);
    free(z);
    free(zeros);
}
END_TEST

START_TEST(test_decode_br_zstd_bad_input)
{
    size_t len = 50000, zlen;
    unsigned char *plain = sample(len), *z;
    struct ww_decode *d;
    struct collect c = {0};

    /* brotli: trailing bytes after the stream, and garbage */
    z = br_pack(plain, len, &zlen);
    z = realloc(z, zlen + 4);
    memcpy(z + zlen, "junk", 4);
    d = ww_decode_create(WW_ENC_BR, 0, 0);
    ck_assert_int_eq(ww_decode_feed(d, z, zlen + 4, collect_sink, &c), WW_EPROTO);
    ww_decode_free(d);
    d = ww_decode_create(WW_ENC_BR, 0, 0);
    ck_assert_int_eq(ww_decode_feed(d, z, zlen / 2, collect_sink, &c), WW_OK);
    ck_assert_int_eq(ww_decode_finish(d), WW_EPROTO); /* cut short */
    ww_decode_free(d);
    free(z);
    /* zstd: cut short, garbage, and a window over the 8 MiB cap (refused as too big) */
    z = zstd_pack(plain, len, 0, &zlen);
    d = ww_decode_create(WW_ENC_ZSTD, 0, 0);
    ck_assert_int_eq(ww_decode_feed(d, z, zlen - 3, collect_sink, &c), WW_OK);
    ck_assert_int_eq(ww_decode_finish(d), WW_EPROTO);
    ww_decode_free(d);
    d = ww_decode_create(WW_ENC_ZSTD, 0, 0);
    ck_assert_int_eq(ww_decode_feed(d, "not zstd at all", 15, collect_sink, &c), WW_EPROTO);
    ww_decode_free(d);
    free(z);
    z = zstd_pack(plain, len, 25, &zlen);
    d = ww_decode_create(WW_ENC_ZSTD, 0, 0);
    ck_assert_int_eq(ww_decode_feed(d, z, zlen, collect_sink, &c), WW_ETOOBIG);
    ww_decode_free(d);
    free(z);
    free(c.buf);
    free(plain);
}
END_TEST

START_TEST(test_decode_chain_inner_error_stops_the_chain)
{
    const char *codings[] = {"gzip"};
    size_t zlen, len = sizeof("this is not gzip data at all, but it is inside br") - 1;
    unsigned char *z = br_pack("this is not gzip data at all, but it is inside br", len, &zlen);
    struct ww_encodings e;
    struct ww_decode *d;
    struct collect c = {0};

    (void)codings;
    ww_encodings_init(&e);
    ww_encodings_add_line(&e, "Content-Encoding: gzip, br");
    d = ww_decode_create_chain(&e, 0, 0);
    ck_assert_int_eq(ww_decode_feed(d, z, zlen, collect_sink, &c), WW_EPROTO);
    ck_assert_int_eq(ww_decode_finish(d), WW_EPROTO);
    ck_assert_uint_eq(c.len, 0);
    ww_decode_free(d);
    free(z);
}
END_TEST

static Suite *decode_suite(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("decode");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_decode_parse_names_the_coding, 0,
                        (int)(sizeof(parse_cases) / sizeof(parse_cases[0])));
    tcase_add_loop_test(tc, test_decode_gzip_roundtrip_any_chunking, 0,
                        (int)(sizeof(steps) / sizeof(steps[0])));
    tcase_add_loop_test(tc, test_decode_deflate_zlib_and_raw, 0,
                        (int)(sizeof(steps) / sizeof(steps[0])));
    tcase_add_test(tc, test_decode_gzip_concatenated_members);
    tcase_add_test(tc, test_decode_bomb_over_size_cap_stops);
    tcase_add_test(tc, test_decode_bomb_over_ratio_stops_but_small_pages_pass);
    tcase_add_test(tc, test_decode_corrupt_and_truncated_are_protocol_errors);
    tcase_add_test(tc, test_decode_sink_can_stop_early);
    tcase_add_test(tc, test_decode_encodings_read_every_header_line);
    tcase_add_loop_test(tc, test_decode_chain_roundtrip_any_chunking, 0,
                        (int)(sizeof(chain_cases) / sizeof(chain_cases[0])));
    tcase_add_loop_test(tc, test_decode_chain_bomb_at_each_stage_stops, 0,
                        (int)(sizeof(bomb_cases) / sizeof(bomb_cases[0])));
    tcase_add_test(tc, test_decode_br_zstd_bad_input);
    tcase_add_test(tc, test_decode_chain_inner_error_stops_the_chain);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(decode_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
