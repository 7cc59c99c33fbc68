/* t/check_unpack.c - lib/ww_unpack: each format decoded as its tool decodes it, the limit, what a
 * cut or corrupt stream gave, the cheap looks, and the ar walk. */
#include "config.h"

#include <bzlib.h>
#include <check.h>
#include <lz4.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "ww_unpack.h"

struct buf {
    unsigned char *p;
    size_t n;
};

static void put(struct buf *b, const void *d, size_t n)
{
    b->p = realloc(b->p, b->n + n + 1);
    ck_assert_ptr_nonnull(b->p);
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void zstd_put(struct buf *b, const void *d, size_t n)
{
    size_t cap = ZSTD_compressBound(n), got;
    unsigned char *z = malloc(cap);
    got = ZSTD_compress(z, cap, d, n, 3);
    ck_assert(!ZSTD_isError(got));
    put(b, z, got);
    free(z);
}

static void bzip2_put(struct buf *b, const void *d, size_t n)
{
    unsigned cap = (unsigned)(n + n / 100 + 700);
    char *z = malloc(cap);
    ck_assert_int_eq(BZ2_bzBuffToBuffCompress(z, &cap, (char *)(uintptr_t)d, (unsigned)n, 9, 0, 0),
                     BZ_OK);
    put(b, z, cap);
    free(z);
}

static void gzip_put(struct buf *b, const void *d, size_t n)
{
    z_stream zs;
    unsigned char z[4096];
    memset(&zs, 0, sizeof(zs));
    ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (unsigned char *)(uintptr_t)d;
    zs.avail_in = (uInt)n;
    zs.next_out = z;
    zs.avail_out = sizeof(z);
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    put(b, z, zs.total_out);
    deflateEnd(&zs);
}

static void xz_put(struct buf *b, const void *d, size_t n, int alone, uint32_t dict)
{
    lzma_options_lzma opt;
    lzma_stream s = LZMA_STREAM_INIT;
    unsigned char z[8192];
    ck_assert(!lzma_lzma_preset(&opt, 6));
    opt.dict_size = dict;
    if (alone) {
        ck_assert_int_eq(lzma_alone_encoder(&s, &opt), LZMA_OK);
    } else {
        ck_assert_int_eq(lzma_easy_encoder(&s, 6, LZMA_CHECK_CRC64), LZMA_OK);
    }
    s.next_in = d;
    s.avail_in = n;
    s.next_out = z;
    s.avail_out = sizeof(z);
    ck_assert_int_eq(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
    put(b, z, s.total_out);
    lzma_end(&s);
}

/* An lz4 frame of <n> bytes at <d> (blocks of 64 KiB, linked, with a content checksum). */
static void lz4_put(struct buf *b, const void *d, size_t n)
{
    LZ4F_preferences_t pr;
    size_t cap, got;
    unsigned char *z;
    memset(&pr, 0, sizeof(pr));
    pr.frameInfo.blockSizeID = LZ4F_max64KB;
    pr.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    cap = LZ4F_compressFrameBound(n, &pr);
    z = malloc(cap);
    got = LZ4F_compressFrame(z, cap, d, n, &pr);
    ck_assert(!LZ4F_isError(got));
    put(b, z, got);
    free(z);
}

/* A legacy lz4 frame (lz4 -l): the magic, then blocks of 8 MiB each, a 4-byte size first. */
static void lz4_legacy_put(struct buf *b, const void *d, size_t n)
{
    int cap = LZ4_compressBound((int)n), got;
    char *z = malloc((size_t)cap);
    unsigned char size[4];
    put(b, "\x02\x21\x4c\x18", 4);
    got = LZ4_compress_default(d, z, (int)n, cap);
    ck_assert_int_gt(got, 0);
    for (int i = 0; i < 4; i++)
        size[i] = (unsigned char)((unsigned)got >> (8 * i));
    put(b, size, 4);
    put(b, z, (size_t)got);
    free(z);
}

/* ww_unpack of <b> as <fmt> within <limit>: the result, and the output equals <want> (<wn>). */
static void expect(enum ww_unpack_format fmt, const struct buf *b, size_t limit,
                   enum ww_unpack_result want_r, const void *want, size_t wn, const char *what)
{
    unsigned char *out = NULL;
    size_t n = 99;
    enum ww_unpack_result r = ww_unpack(fmt, b->p, b->n, limit, &out, &n);
    ck_assert_msg(r == want_r, "%s: result %d, want %d", what, (int)r, (int)want_r);
    ck_assert_msg(n == wn && (wn == 0 || memcmp(out, want, wn) == 0), "%s: %zu bytes, want %zu",
                  what, n, wn);
    free(out);
}

static unsigned char data[200000];

static void fill(void)
{
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] =
            (unsigned char)("text that compresses, mostly "[i % 29] ^ ((i * 2654435761u) >> 29));
}

/* ww_unpack of <b> (cut short) as <fmt>: FAILED, and what came before the cut is there: at least
 * <least> bytes, each as in <data>. */
static void expect_cut(enum ww_unpack_format fmt, const struct buf *b, size_t least,
                       const char *what)
{
    unsigned char *out = NULL;
    size_t n = 0;
    enum ww_unpack_result r = ww_unpack(fmt, b->p, b->n, SIZE_MAX - 1, &out, &n);
    ck_assert_msg(r == WW_UNPACK_FAILED, "%s: result %d", what, (int)r);
    ck_assert_msg(n >= least && (n == 0 || memcmp(out, data, n) == 0), "%s: %zu bytes", what, n);
    free(out);
}

START_TEST(test_unpack_zstd)
{
    struct buf b = {0};
    static const unsigned char wide[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x90, 0x21,
                                         0x00, 0x00, 'a',  'b',  'c',  'd'};
    fill();
    zstd_put(&b, data, 1000);
    zstd_put(&b, data + 1000, 199000);
    expect(WW_UNPACK_ZSTD, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, sizeof(data), "two frames");
    expect(WW_UNPACK_ZSTD, &b, 5000, WW_UNPACK_OVER, data, 5000, "over the limit");
    expect(WW_UNPACK_ZSTD, &b, sizeof(data), WW_UNPACK_DONE, data, sizeof(data), "at the limit");
    b.n -= 10; /* cut short: what came before is there */
    expect_cut(WW_UNPACK_ZSTD, &b, 1000, "a cut frame");
    b.n = 0;
    put(&b, "\x50\x2a\x4d\x18\x03\0\0\0xyz", 11); /* a skippable frame first */
    zstd_put(&b, data, 0);
    expect(WW_UNPACK_ZSTD, &b, 100, WW_UNPACK_DONE, "", 0, "skippable, then empty");
    b.n = 0;
    put(&b, wide, sizeof(wide)); /* a 256 MiB window */
    expect(WW_UNPACK_ZSTD, &b, 100, WW_UNPACK_FAILED, "", 0, "a window over 128 MiB");
    free(b.p);
}
END_TEST

START_TEST(test_unpack_bzip2_streams)
{
    struct buf b = {0};
    fill();
    bzip2_put(&b, data, 0);
    bzip2_put(&b, data, 1000);
    ck_assert_int_eq(ww_unpack_bzip2_streams(b.p, b.n), 1);
    bzip2_put(&b, data + 1000, 9000);
    put(&b, "\0\0junk", 6); /* ignored after the last stream, as bzip2 -d does */
    expect(WW_UNPACK_BZIP2, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 10000, "three streams");
    expect(WW_UNPACK_BZIP2, &b, 999, WW_UNPACK_OVER, data, 999, "over the limit");
    b.n -= 30;
    expect_cut(WW_UNPACK_BZIP2, &b, 1000, "a cut stream"); /* the first streams' */
    b.n = 0;
    bzip2_put(&b, data, 10000);
    ck_assert_int_eq(ww_unpack_bzip2_streams(b.p, b.n), 0); /* one stream: libclamav's */
    free(b.p);
}
END_TEST

START_TEST(test_unpack_lzma_alone)
{
    struct buf b = {0};
    fill();
    xz_put(&b, data, 5000, 1, 1u << 20);
    expect(WW_UNPACK_LZMA, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 5000, "lzma");
    expect(WW_UNPACK_LZMA, &b, 100, WW_UNPACK_OVER, data, 100, "over");
    b.p[1] = b.p[2] = b.p[3] = b.p[4] = 0xff; /* a dictionary of 4 GiB: read as 128 MiB */
    expect(WW_UNPACK_LZMA, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 5000, "dictionary 4 GiB");
    b.n = 0;
    xz_put(&b, data, 5000, 1, 5000); /* a dictionary no encoder picks: lzma -d reads it */
    expect(WW_UNPACK_LZMA, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 5000, "dictionary 5000");
    b.n -= 20;
    expect_cut(WW_UNPACK_LZMA, &b, 0, "a cut stream");
    free(b.p);
}
END_TEST

/* zstd -d's reading: streams of the kinds it knows in turn, a failure at anything else. */
START_TEST(test_unpack_zstd_cli)
{
    struct buf b = {0};
    fill();
    gzip_put(&b, data, 0);
    ck_assert_int_eq(ww_unpack_zstd_cli_more(b.p, b.n), 0);
    zstd_put(&b, data, 1000);
    ck_assert_int_eq(ww_unpack_zstd_cli_more(b.p, b.n), 1);
    xz_put(&b, data + 1000, 1000, 0, 1u << 20);
    xz_put(&b, data + 2000, 1000, 1, 1u << 20);
    gzip_put(&b, data + 3000, 1000);
    put(&b, "\x51\x2a\x4d\x18\x01\0\0\0x", 9);
    expect(WW_UNPACK_ZSTD_CLI, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 4000, "five kinds");
    expect(WW_UNPACK_ZSTD_CLI, &b, 2500, WW_UNPACK_OVER, data, 2500, "over");
    lz4_put(&b, data + 4000, 1000); /* lz4: zstd -d reads it too */
    expect(WW_UNPACK_ZSTD_CLI, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 5000, "then lz4");
    put(&b, "\x02\x21\x4c\x18", 4); /* a legacy lz4 frame: zstd -d fails there */
    expect(WW_UNPACK_ZSTD_CLI, &b, SIZE_MAX - 1, WW_UNPACK_FAILED, data, 5000, "then legacy lz4");
    b.n = 0;
    xz_put(&b, data, 0, 0, 1u << 20);
    zstd_put(&b, data, 10);
    ck_assert_int_eq(ww_unpack_zstd_cli_more(b.p, b.n), 1);
    /* a zstd frame cut short after a gzip: what it gave is there, as zstd -d writes it */
    b.n = 0;
    gzip_put(&b, data, 100);
    zstd_put(&b, data + 100, 150000);
    b.n -= 100;
    expect_cut(WW_UNPACK_ZSTD_CLI, &b, 100 + 65536 + 1, "a cut frame after a gzip");
    free(b.p);
}
END_TEST

/* Raw LZMA1 (properties lc 3, lp 0, pb 2, as lzip fixes them) with an end marker. */
static void lzma1_raw_put(struct buf *b, const void *d, size_t n, uint32_t dict)
{
    lzma_options_lzma opt;
    lzma_filter f[2] = {{LZMA_FILTER_LZMA1, &opt}, {LZMA_VLI_UNKNOWN, NULL}};
    lzma_stream s = LZMA_STREAM_INIT;
    unsigned char z[8192];
    ck_assert(!lzma_lzma_preset(&opt, 6));
    opt.dict_size = dict;
    opt.lc = 3, opt.lp = 0, opt.pb = 2;
    ck_assert_int_eq(lzma_raw_encoder(&s, f), LZMA_OK);
    s.next_in = d;
    s.avail_in = n;
    s.next_out = z;
    s.avail_out = sizeof(z);
    ck_assert_int_eq(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
    put(b, z, s.total_out);
    lzma_end(&s);
}

static void le_put(struct buf *b, uint64_t v, int bytes)
{
    unsigned char x[8];
    for (int i = 0; i < bytes; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    put(b, x, (size_t)bytes);
}

/* One lzip member (version 1, a 1 MiB dictionary: coded byte 20), as lzip writes it. */
static void lzip_put(struct buf *b, const void *d, size_t n)
{
    size_t at = b->n;
    put(b, "LZIP\x01\x14", 6);
    lzma1_raw_put(b, d, n, 1u << 20);
    le_put(b, crc32(0, d, (uInt)n), 4);
    le_put(b, n, 8);
    le_put(b, b->n - at + 8, 8); /* the member's size, trailer included */
}

START_TEST(test_unpack_lzip)
{
    struct buf b = {0};
    fill();
    lzip_put(&b, data, 1000);
    lzip_put(&b, data + 1000, 9000);
    expect(WW_UNPACK_LZIP, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 10000, "two members");
    expect(WW_UNPACK_LZIP, &b, 4000, WW_UNPACK_OVER, data, 4000, "over the limit");
    b.p[5] = 0x1d; /* a 512 MiB dictionary (lzip's largest): read as 128 MiB */
    expect(WW_UNPACK_LZIP, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 10000, "dictionary 512 MiB");
    b.n -= 30; /* the second member cut short: the first one's bytes are there */
    expect_cut(WW_UNPACK_LZIP, &b, 1000, "a cut member");
    b.n = 0;
    lzip_put(&b, data, 1000);
    b.p[b.n - 20] ^= 1; /* a bad CRC: lzip -d fails (after writing the data) */
    expect_cut(WW_UNPACK_LZIP, &b, 0, "a bad CRC");
    b.n = 0;
    put(&b, "LZIP\x01\x00", 6); /* a dictionary of 1 byte: not lzip */
    put(&b, data, 100);
    expect(WW_UNPACK_LZIP, &b, 100, WW_UNPACK_FAILED, "", 0, "a bad header");
    free(b.p);
}
END_TEST

START_TEST(test_unpack_xz_streams)
{
    struct buf b = {0};
    fill();
    xz_put(&b, data, 3000, 0, 1u << 20);
    put(&b, "\0\0\0\0", 4); /* stream padding, as xz -d reads it */
    xz_put(&b, data + 3000, 7000, 0, 1u << 20);
    expect(WW_UNPACK_XZ, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 10000, "two streams");
    expect(WW_UNPACK_XZ, &b, 3500, WW_UNPACK_OVER, data, 3500, "over");
    b.n -= 12;
    expect_cut(WW_UNPACK_XZ, &b, 3000, "a cut stream");
    free(b.p);
}
END_TEST

/* ww_unpack_zip_member: <method> and <flags>, the member's data <b>. */
static void expect_member(unsigned method, unsigned flags, uint64_t usize, const struct buf *b,
                          enum ww_unpack_result want_r, size_t wn, const char *what)
{
    unsigned char *out = NULL;
    size_t n = 99;
    enum ww_unpack_result r =
        ww_unpack_zip_member(method, flags, 0, usize, b->p, b->n, SIZE_MAX - 1, &out, &n);
    ck_assert_msg(r == want_r, "%s: result %d, want %d", what, (int)r, (int)want_r);
    ck_assert_msg(n == wn && (wn == 0 || memcmp(out, data, wn) == 0), "%s: %zu bytes, want %zu",
                  what, n, wn);
    free(out);
}

/* Zip members of methods libclamav 1.4 skips: LZMA (its 4-byte version and size, the 5
 * properties, the stream; with an end marker (flag 2) or for the uncompressed size), zstd, xz. */
START_TEST(test_unpack_zip_members)
{
    struct buf b = {0}, raw = {0};
    lzma_options_lzma opt;
    uint8_t props[5];
    lzma_filter f = {LZMA_FILTER_LZMA1, &opt};
    fill();
    ck_assert(!lzma_lzma_preset(&opt, 6));
    opt.dict_size = 1u << 16;
    opt.lc = 3, opt.lp = 0, opt.pb = 2;
    ck_assert_int_eq(lzma_properties_encode(&f, props), LZMA_OK);
    lzma1_raw_put(&raw, data, 8000, 1u << 16);
    put(&b, "\x10\x02\x05\x00", 4); /* version 16.2, 5 bytes of properties */
    put(&b, props, 5);
    put(&b, raw.p, raw.n);
    expect_member(14, 2, 8000, &b, WW_UNPACK_DONE, 8000, "LZMA, end marker");
    expect_member(14, 2, UINT64_MAX, &b, WW_UNPACK_DONE, 8000, "LZMA, end marker, no size");
    expect_member(14, 0, 8000, &b, WW_UNPACK_DONE, 8000, "LZMA, its size, then a marker");
    expect_member(14, 0, 5000, &b, WW_UNPACK_FAILED, 5000, "LZMA, more than its size");
    expect_member(14, 3, 8000, &b, WW_UNPACK_FAILED, 0, "LZMA, encrypted");
    expect_member(98, 0, 8000, &b, WW_UNPACK_FAILED, 0, "LZMA data as PPMd");
    b.p[2] = 6; /* properties of 6 bytes: not LZMA as the format has it */
    expect_member(14, 2, 8000, &b, WW_UNPACK_FAILED, 0, "LZMA, bad properties size");
    b.n = 0; /* no marker: the size ends it (LZMA1EXT writes none) */
    raw.n = 0;
    {
        lzma_filter fx[2] = {{LZMA_FILTER_LZMA1EXT, &opt}, {LZMA_VLI_UNKNOWN, NULL}};
        lzma_stream st = LZMA_STREAM_INIT;
        unsigned char z[8192];
        opt.ext_flags = 0;
        ck_assert_int_eq(lzma_raw_encoder(&st, fx), LZMA_OK);
        st.next_in = data;
        st.avail_in = 6000;
        st.next_out = z;
        st.avail_out = sizeof(z);
        ck_assert_int_eq(lzma_code(&st, LZMA_FINISH), LZMA_STREAM_END);
        put(&raw, z, st.total_out);
        lzma_end(&st);
    }
    put(&b, "\x10\x02\x05\x00", 4);
    put(&b, props, 5);
    put(&b, raw.p, raw.n);
    expect_member(14, 0, 6000, &b, WW_UNPACK_DONE, 6000, "LZMA, no marker, its size");
    b.p[5] = b.p[6] = b.p[7] = b.p[8] = 0xff; /* a dictionary of 4 GiB: read as 128 MiB */
    expect_member(14, 0, 6000, &b, WW_UNPACK_DONE, 6000, "LZMA, dictionary 4 GiB");
    b.n -= 10; /* cut short: fails, with what came before */
    {
        unsigned char *out = NULL;
        size_t n = 0;
        ck_assert_int_eq(ww_unpack_zip_member(14, 0, 0, 6000, b.p, b.n, SIZE_MAX - 1, &out, &n),
                         WW_UNPACK_FAILED);
        ck_assert(n > 1000 && n < 6000 && memcmp(out, data, n) == 0);
        free(out);
    }
    {
        /* PPMd (method 98), read by libarchive: a member 7-Zip wrote (7zz a -tzip -mm=PPMd) of
         * 8 times the sentence below; the directory's CRC is checked at the end */
        static const unsigned char ppmd[] = {
            0x07, 0x00, 0x40, 0xde, 0xd7, 0xdf, 0x14, 0x0b, 0x70, 0x71, 0x52, 0x89, 0xae, 0x2d,
            0x4a, 0xb9, 0x0c, 0xb4, 0xed, 0xba, 0x97, 0x0a, 0xa0, 0x05, 0x22, 0x1a, 0x5c, 0xe3,
            0x57, 0xb8, 0x71, 0x09, 0x77, 0xe8, 0xea, 0x72, 0xa8, 0x72, 0xf3, 0xa5, 0x71, 0xc9,
            0x49, 0x7b, 0xce, 0x00, 0x00, 0x00, 0x00, 0xf5, 0x44, 0x47, 0xeb, 0x00};
        static const char line[] = "A PPMd member, as 7-Zip writes it into a zip. ";
        char want[8 * 46 + 1];
        unsigned char *out = NULL, big[sizeof(ppmd)];
        size_t n = 0;
        for (int i = 0; i < 8; i++)
            memcpy(want + 46 * i, line, 46);
        ck_assert_int_eq(ww_unpack_zip_member(98, 0, 0x7a7ef352u, 368, ppmd, sizeof(ppmd),
                                              SIZE_MAX - 1, &out, &n),
                         WW_UNPACK_DONE);
        ck_assert(n == 368 && memcmp(out, want, n) == 0);
        free(out);
        ck_assert_int_eq(ww_unpack_zip_member(98, 0, 0x7a7ef353u, 368, ppmd, sizeof(ppmd),
                                              SIZE_MAX - 1, &out, &n),
                         WW_UNPACK_FAILED); /* a CRC that does not match */
        free(out);
        ck_assert_int_eq(
            ww_unpack_zip_member(98, 0, 0x7a7ef352u, 368, ppmd, sizeof(ppmd), 100, &out, &n),
            WW_UNPACK_OVER);
        ck_assert(n == 100 && memcmp(out, want, n) == 0);
        free(out);
        memcpy(big, ppmd, sizeof(ppmd));
        big[1] = 0x0f; /* a model of 256 MiB: not read */
        ck_assert_int_eq(
            ww_unpack_zip_member(98, 0, 0x7a7ef352u, 368, big, sizeof(big), SIZE_MAX - 1, &out, &n),
            WW_UNPACK_FAILED);
        free(out);
        ck_assert_int_eq(ww_unpack_zip_member(98, 1, 0x7a7ef352u, 368, ppmd, sizeof(ppmd),
                                              SIZE_MAX - 1, &out, &n),
                         WW_UNPACK_FAILED); /* encrypted */
        free(out);
    }
    b.n = 0;
    zstd_put(&b, data, 9000);
    expect_member(93, 0, 9000, &b, WW_UNPACK_DONE, 9000, "zstd");
    b.n = 0;
    xz_put(&b, data, 9000, 0, 1u << 20);
    expect_member(95, 8, 9000, &b, WW_UNPACK_DONE, 9000, "xz");
    b.n -= 10; /* the index cut: the data came, the stream failed */
    expect_member(95, 0, 9000, &b, WW_UNPACK_FAILED, 9000, "xz cut short");
    free(b.p);
    free(raw.p);
}
END_TEST

/* Unix compress of <n> bytes at <d>, as ncompress writes it (codes of 9 to <maxbits> bits in
 * groups padded out when the width grows), in block mode a clear code after every <clear_every>
 * codes (0: none). A table of (prefix, byte) pairs searched by a hash. */
static void lzw_put(struct buf *b, const unsigned char *d, size_t n, unsigned maxbits, int block,
                    unsigned clear_every)
{
    static uint32_t keys[1 << 18];
    static uint16_t vals[1 << 18];
    unsigned char hdr[3] = {0x1f, 0x9d, (unsigned char)(maxbits | (block ? 0x80 : 0))};
    uint64_t pos = 0, epoch = 0;
    unsigned n_bits = 9, codes = 0;
    uint32_t maxmax = 1u << maxbits, maxcode = 511, free_ent = block ? 257 : 256, ent;
    unsigned char *bits = calloc(n * 3 + 16, 1);
    size_t base = b->n;

    put(b, hdr, 3);
    if (n == 0) {
        free(bits);
        return;
    }
    memset(keys, 0, sizeof(keys));
#define LZW_EMIT(code)                                                                             \
    do {                                                                                           \
        for (unsigned k_ = 0; k_ < n_bits; k_++, pos++)                                            \
            if (((code) >> k_) & 1)                                                                \
                bits[pos >> 3] |= (unsigned char)(1u << (pos & 7));                                \
    } while (0)
#define LZW_PAD()                                                                                  \
    do {                                                                                           \
        uint64_t g_ = (uint64_t)n_bits * 8;                                                        \
        pos = epoch + (pos - epoch + g_ - 1) / g_ * g_;                                            \
        epoch = pos;                                                                               \
    } while (0)
    ent = d[0];
    for (size_t i = 1; i <= n; i++) {
        uint32_t key = i < n ? (ent << 8 | d[i]) + 1 : 0, h = 0;
        if (i < n) {
            h = (key * 2654435761u) >> 14;
            while (keys[h] != 0 && keys[h] != key)
                h = (h + 1) & ((1u << 18) - 1);
            if (keys[h] == key) {
                ent = vals[h];
                continue;
            }
        }
        LZW_EMIT(ent);
        codes++;
        if (free_ent > maxcode) {
            LZW_PAD();
            n_bits++;
            maxcode = n_bits == maxbits ? maxmax : (1u << n_bits) - 1;
        }
        if (i == n)
            break;
        if (free_ent < maxmax) {
            keys[h] = key;
            vals[h] = (uint16_t)free_ent++;
        }
        ent = d[i];
        if (block && clear_every > 0 && codes % clear_every == 0) {
            LZW_EMIT(256u);
            LZW_PAD();
            n_bits = 9;
            maxcode = 511;
            free_ent = 257;
            memset(keys, 0, sizeof(keys));
        }
    }
    put(b, bits, (size_t)((pos + 7) >> 3));
    (void)base;
    free(bits);
#undef LZW_EMIT
#undef LZW_PAD
}

START_TEST(test_unpack_compress)
{
    struct buf b = {0};
    static unsigned char same[70000];
    fill();
    memset(same, 'a', sizeof(same)); /* KwKwK codes all along */
    for (unsigned maxbits = 9; maxbits <= 16; maxbits += 7) {
        for (int block = 0; block < 2; block++) {
            for (unsigned clear = 0; clear <= (block ? 3000u : 0u); clear += 3000) {
                b.n = 0;
                lzw_put(&b, data, sizeof(data), maxbits, block, clear);
                char what[64];
                snprintf(what, sizeof(what), "compress, %u bits, block %d, clear %u", maxbits,
                         block, clear);
                if (getenv("LZW_DUMP") != NULL) {
                    FILE *f = fopen(what, "wb");
                    fwrite(b.p, 1, b.n, f);
                    fclose(f);
                }
                expect(WW_UNPACK_COMPRESS, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, sizeof(data),
                       what);
            }
        }
    }
    b.n = 0;
    lzw_put(&b, same, sizeof(same), 16, 1, 0);
    {
        unsigned char *out = NULL;
        size_t n = 0;
        ck_assert_int_eq(ww_unpack(WW_UNPACK_COMPRESS, b.p, b.n, SIZE_MAX - 1, &out, &n),
                         WW_UNPACK_DONE);
        ck_assert(n == sizeof(same) && memcmp(out, same, n) == 0);
        free(out);
    }
    /* flags gzip -d takes too (attack review 15, F1): 8 bits (9-bit codes, no table entries),
     * reserved bits set (a warning there) */
    b.n = 0;
    lzw_put(&b, data, 3000, 8, 1, 0);
    expect(WW_UNPACK_COMPRESS, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 3000, "8 bits");
    b.p[2] |= 0x60;
    expect(WW_UNPACK_COMPRESS, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 3000, "reserved bits");
    /* gzip members, then a .Z stream: gzip -d reads both (same review, F2) */
    b.n = 0;
    gzip_put(&b, data, 0);
    ck_assert_int_eq(ww_unpack_gzip_cli_more(b.p, b.n, 1 << 20), 0);
    gzip_put(&b, data, 1000);
    lzw_put(&b, data + 1000, 5000, 16, 1, 0);
    ck_assert_int_eq(ww_unpack_gzip_cli_more(b.p, b.n, 1 << 20), 1);
    ck_assert_int_eq(ww_unpack_gzip_cli_more(b.p, b.n, 100), 0); /* past the limit: not looked */
    expect(WW_UNPACK_GZIP_CLI, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 6000, "gzip then .Z");
    b.n = 0;
    gzip_put(&b, data, 1000);
    put(&b, "\x1f\x9e junk", 7); /* not a member: ignored, as gzip -d does (a warning) */
    ck_assert_int_eq(ww_unpack_gzip_cli_more(b.p, b.n, 1 << 20), 0);
    expect(WW_UNPACK_GZIP_CLI, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 1000, "trailing junk");
    b.n = 0;
    lzw_put(&b, data, sizeof(data), 16, 1, 0);
    expect(WW_UNPACK_COMPRESS, &b, 7000, WW_UNPACK_OVER, data, 7000, "over");
    b.p[40] ^= 0xff; /* a code past the table: fails, with what came before */
    expect_cut(WW_UNPACK_COMPRESS, &b, 0, "corrupt");
    b.n = 0;
    put(&b, "\x1f\x9d\x91", 3); /* 17 bits: more than compress writes */
    put(&b, data, 100);
    expect(WW_UNPACK_COMPRESS, &b, 100, WW_UNPACK_FAILED, "", 0, "17 bits");
    b.n = 0;
    put(&b, "\x1f\x9d\x90\x00\x01", 5); /* a first code of 256: corrupt */
    expect(WW_UNPACK_COMPRESS, &b, 100, WW_UNPACK_FAILED, "", 0, "first code 256");
    free(b.p);
}
END_TEST

START_TEST(test_unpack_lz4)
{
    struct buf b = {0};
    fill();
    lz4_put(&b, data, 100000);
    put(&b, "\x5a\x2a\x4d\x18\x02\0\0\0xy", 10); /* a skippable frame between */
    lz4_legacy_put(&b, data + 100000, 50000);
    lz4_put(&b, data + 150000, 50000);
    expect(WW_UNPACK_LZ4, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, sizeof(data), "three frames");
    expect(WW_UNPACK_LZ4, &b, 70000, WW_UNPACK_OVER, data, 70000, "over the limit");
    b.n -= 10; /* the last frame cut short: the first two are there */
    expect_cut(WW_UNPACK_LZ4, &b, 150000, "a cut frame");
    b.n = 0;
    lz4_put(&b, data, 10000);
    b.p[b.n - 2] ^= 1; /* the content checksum: lz4 -d fails (after writing the data) */
    expect_cut(WW_UNPACK_LZ4, &b, 0, "a bad checksum");
    b.n = 0;
    lz4_put(&b, data, 1000);
    put(&b, "junk", 4); /* not a frame: lz4 -d fails there */
    expect_cut(WW_UNPACK_LZ4, &b, 1000, "junk after a frame");
    b.n = 0;
    put(&b, "\x02\x21\x4c\x18\xff\xff\xff\x7f", 8); /* a legacy block of 2 GiB */
    expect(WW_UNPACK_LZ4, &b, 100, WW_UNPACK_FAILED, "", 0, "a huge legacy block");
    free(b.p);
}
END_TEST

/* pack (1f 1e) of <d> with one tree for all bytes: 0-254 8 bits long (codes 1-255), 255 and the
 * end code 9 bits long (codes 0 and 1), as gzip -d's unpack assigns them; <len_delta> added to
 * the header's length */
static void pack_put(struct buf *b, const unsigned char *d, size_t n, int len_delta)
{
    unsigned char hdr[7 + 9 + 256], *bits = calloc(n * 2 + 8, 1);
    uint32_t orig = (uint32_t)n + (uint32_t)len_delta;
    size_t pos = 0, k;

    memcpy(hdr, "\x1f\x1e", 2);
    hdr[2] = (unsigned char)(orig >> 24), hdr[3] = (unsigned char)(orig >> 16);
    hdr[4] = (unsigned char)(orig >> 8), hdr[5] = (unsigned char)orig;
    hdr[6] = 9;
    memset(hdr + 7, 0, 9);
    hdr[7 + 7] = 255; /* leaves of 8 bits; of 9: 1 + the end code, stored less 2 = 0 */
    for (k = 0; k < 256; k++)
        hdr[16 + k] = (unsigned char)k;
    put(b, hdr, sizeof(hdr));
    for (k = 0; k <= n; k++) {
        unsigned code = k == n ? 1 : d[k] == 255 ? 0 : d[k] + 1u, L = k == n || d[k] == 255 ? 9 : 8;
        for (unsigned i = L; i-- > 0; pos++)
            if ((code >> i) & 1)
                bits[pos >> 3] |= (unsigned char)(0x80 >> (pos & 7));
    }
    put(b, bits, (pos + 7) >> 3);
    free(bits);
}

START_TEST(test_unpack_gzip_cli)
{
    struct buf b = {0}, g = {0}, p = {0};
    unsigned char *out = NULL, all[3000];
    size_t n = 0;
    fill();
    /* pack alone: every byte value */
    for (size_t i = 0; i < 1000; i++)
        data[i] = (unsigned char)(i * 7);
    pack_put(&b, data, 1000, 0);
    expect(WW_UNPACK_GZIP_CLI, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 1000, "pack");
    expect(WW_UNPACK_GZIP_CLI, &b, 600, WW_UNPACK_OVER, data, 600, "pack, the limit");
    ck_assert(ww_unpack_gzip_cli_more(b.p, b.n, 1 << 20));
    /* a length that does not match the header's: the data, then a failure (gzip -d's) */
    p.n = 0;
    pack_put(&p, data, 1000, 1);
    expect(WW_UNPACK_GZIP_CLI, &p, SIZE_MAX - 1, WW_UNPACK_FAILED, data, 1000, "pack, length");
    /* cut short: what came before */
    p.n = 0;
    pack_put(&p, data, 1000, 0);
    p.n -= 100;
    expect_cut(WW_UNPACK_GZIP_CLI, &p, 800, "pack, cut");
    /* headers gzip refuses: a code over 25 bits, no length, too many leaves */
    p.n = 0;
    pack_put(&p, data, 10, 0);
    p.p[6] = 26;
    expect(WW_UNPACK_GZIP_CLI, &p, SIZE_MAX - 1, WW_UNPACK_FAILED, NULL, 0, "pack, 26 bits");
    p.p[6] = 0;
    expect(WW_UNPACK_GZIP_CLI, &p, SIZE_MAX - 1, WW_UNPACK_FAILED, NULL, 0, "pack, 0 bits");
    p.p[6] = 9;
    p.p[7] = 2; /* two leaves of 1 bit: no room left for the rest */
    expect(WW_UNPACK_GZIP_CLI, &p, SIZE_MAX - 1, WW_UNPACK_FAILED, NULL, 0, "pack, leaves");

    /* gzip 0.5's magic: gzip -d reads it as a member, first or after others */
    g.n = 0;
    gzip_put(&g, data, 1000);
    g.p[1] = 0x9e;
    expect(WW_UNPACK_GZIP_CLI, &g, SIZE_MAX - 1, WW_UNPACK_DONE, data, 1000, "1f 9e");
    ck_assert(ww_unpack_gzip_cli_more(g.p, g.n, 1 << 20));
    g.p[1] = 0x8b;
    ck_assert(!ww_unpack_gzip_cli_more(g.p, g.n, 1 << 20)); /* libclamav reads a gzip */
    /* 0.5's magic with a name, an extra field, a comment and a header CRC (gzip checks it over
     * 1f 9e; zlib would over 1f 8b: review 16, F6): the header read here */
    {
        unsigned char raw[4096], tail[8];
        z_stream zs;
        uLong crc = crc32(0, data, 1000);
        memset(&zs, 0, sizeof(zs));
        ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
        zs.next_in = data;
        zs.avail_in = 1000;
        zs.next_out = raw;
        zs.avail_out = sizeof(raw);
        ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
        g.n = 0;
        put(&g, "\x1f\x9e\x08\x1e\0\0\0\0\0\x03", 10); /* extra, name, comment, CRC */
        put(&g, "\x03\0abc", 5);
        put(&g, "clam.exe", 9);
        put(&g, "a comment", 10);
        put(&g, "\x12\x34", 2);
        put(&g, raw, zs.total_out);
        for (int i = 0; i < 4; i++)
            tail[i] = (unsigned char)(crc >> (8 * i)),
            tail[4 + i] = (unsigned char)(1000 >> (8 * i));
        put(&g, tail, 8);
        deflateEnd(&zs);
        expect(WW_UNPACK_GZIP_CLI, &g, SIZE_MAX - 1, WW_UNPACK_DONE, data, 1000, "1f 9e, FHCRC");
        g.p[3] |= 0x20; /* encrypted: gzip refuses it */
        expect(WW_UNPACK_GZIP_CLI, &g, SIZE_MAX - 1, WW_UNPACK_FAILED, NULL, 0, "1f 9e, 0x20");
    }
    /* gzip, pack, 0.5's gzip, .Z: one after the other */
    b.n = 0;
    gzip_put(&b, data, 1000);
    ck_assert(!ww_unpack_gzip_cli_more(b.p, b.n, 1 << 20));
    pack_put(&b, data + 1000, 1000, 0);
    ck_assert(ww_unpack_gzip_cli_more(b.p, b.n, 1 << 20));
    ck_assert(!ww_unpack_gzip_cli_more(b.p, b.n, 500)); /* past the limit: libclamav's reading */
    g.n = 0;
    gzip_put(&g, data + 2000, 500);
    g.p[1] = 0x9e;
    put(&b, g.p, g.n);
    lzw_put(&b, data + 2500, 500, 16, 1, 0);
    memcpy(all, data, 3000);
    expect(WW_UNPACK_GZIP_CLI, &b, SIZE_MAX - 1, WW_UNPACK_DONE, all, 3000, "gzip pack 9e .Z");
    /* SCO's LZH is not decoded: what came before, then a failure */
    b.n = 0;
    gzip_put(&b, data, 1000);
    put(&b, "\x1f\xa0\x00\x00", 4);
    expect(WW_UNPACK_GZIP_CLI, &b, SIZE_MAX - 1, WW_UNPACK_FAILED, data, 1000, "gzip then lzh");
    ck_assert(ww_unpack_gzip_cli_more(b.p, b.n, 1 << 20));
    /* trailing garbage after a member: ignored, as gzip -d does */
    b.n = 0;
    pack_put(&b, data, 1000, 0);
    put(&b, "garbage", 7);
    expect(WW_UNPACK_GZIP_CLI, &b, SIZE_MAX - 1, WW_UNPACK_DONE, data, 1000, "pack, garbage");
    (void)out, (void)n;
    free(b.p);
    free(g.p);
    free(p.p);
}
END_TEST

static uint16_t crc16_lha(const unsigned char *d, size_t n)
{
    uint16_t c = 0;
    for (size_t i = 0; i < n; i++) {
        c ^= d[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (uint16_t)((c >> 1) ^ 0xA001) : (uint16_t)(c >> 1);
    }
    return c;
}

/* An LHA level-0 entry, stored (-lh0-) */
static void lha0_put(struct buf *b, const char *name, const unsigned char *d, size_t n)
{
    unsigned char h[64];
    size_t nl = strlen(name), k = 2;
    uint16_t crc = crc16_lha(d, n);
    unsigned sum = 0;

    memcpy(h + k, "-lh0-", 5), k += 5;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++)
            h[k++] = (unsigned char)(n >> (8 * j));
    memcpy(h + k, "\0\0\0\x5a\x20\0", 6), k += 6;
    h[k++] = (unsigned char)nl;
    memcpy(h + k, name, nl), k += nl;
    h[k++] = (unsigned char)crc, h[k++] = (unsigned char)(crc >> 8);
    h[0] = (unsigned char)(k - 2);
    for (size_t i = 2; i < k; i++)
        sum += h[i];
    h[1] = (unsigned char)sum;
    put(b, h, k);
    put(b, d, n);
}

/* every entry of an archive through ww_unpack_entries: the count, each one's result and bytes
 * into <got> (as many as <max>) */
static int entries_all(enum ww_unpack_archive kind, const struct buf *b, size_t limit,
                       enum ww_unpack_result *res, size_t *len, int max, int *last)
{
    struct ww_unpack_entries *e = ww_unpack_entries_open(kind, b->p, b->n);
    int n = 0, k = -2;
    *last = -1;
    if (e == NULL)
        return -1;
    while (n < max) {
        unsigned char *out = NULL;
        size_t on = 0;
        int enc = 0;
        if ((k = ww_unpack_entries_next(e, limit, &res[n], &out, &on, &enc)) <= 0)
            break;
        ck_assert(on <= limit && (on == 0) == (out == NULL));
        len[n++] = on;
        free(out);
    }
    *last = k;
    ww_unpack_entries_close(e);
    return n;
}

/* a 7z of one file ("hello 7z, read by libarchive\n", 29 bytes) packed with Deflate, which
 * libclamav's 7z reader lacks (7zz a -t7z -m0=Deflate) */
static const unsigned char sevenz_deflate[] = {
    0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04, 0xf3, 0xf8, 0x40, 0x62, 0x22, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x52, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7a, 0xc7,
    0x0e, 0x1d, 0x01, 0x1d, 0x00, 0xe2, 0xff, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x37, 0x7a,
    0x2c, 0x20, 0x72, 0x65, 0x61, 0x64, 0x20, 0x62, 0x79, 0x20, 0x6c, 0x69, 0x62, 0x61, 0x72,
    0x63, 0x68, 0x69, 0x76, 0x65, 0x0a, 0x01, 0x04, 0x06, 0x00, 0x01, 0x09, 0x22, 0x00, 0x07,
    0x0b, 0x01, 0x00, 0x01, 0x03, 0x04, 0x01, 0x08, 0x0c, 0x1d, 0x00, 0x08, 0x0a, 0x01, 0xec,
    0x2a, 0x84, 0x09, 0x00, 0x00, 0x05, 0x01, 0x19, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x0d, 0x00, 0x68, 0x00, 0x2e, 0x00, 0x74, 0x00,
    0x78, 0x00, 0x74, 0x00, 0x00, 0x00, 0x14, 0x0a, 0x01, 0x00, 0xd5, 0x15, 0xd9, 0x07, 0x8c,
    0x84, 0xdd, 0x01, 0x15, 0x06, 0x01, 0x00, 0x20, 0x80, 0xa4, 0x81, 0x00, 0x00};

/* 7z archives of the same file (7zz a -t7z): LZMA2 (an LZMA-encoded header), LZMA with the BCJ2
 * filter (4 coders, bind pairs, 4 packed streams), BZip2 with a plain header (-mhc=off), LZMA2
 * with the ARMT filter: the last two have coders libclamav's reader lacks */
static const unsigned char sevenz_lzma2[] = {
    0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04, 0xe4, 0x9f, 0xfb, 0x09, 0x21, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x52, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x27, 0x3f,
    0xbe, 0x3e, 0x01, 0x00, 0x1c, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x37, 0x7a, 0x2c, 0x20,
    0x72, 0x65, 0x61, 0x64, 0x20, 0x62, 0x79, 0x20, 0x6c, 0x69, 0x62, 0x61, 0x72, 0x63, 0x68,
    0x69, 0x76, 0x65, 0x0a, 0x00, 0x01, 0x04, 0x06, 0x00, 0x01, 0x09, 0x21, 0x00, 0x07, 0x0b,
    0x01, 0x00, 0x01, 0x21, 0x21, 0x01, 0x00, 0x0c, 0x1d, 0x00, 0x08, 0x0a, 0x01, 0xec, 0x2a,
    0x84, 0x09, 0x00, 0x00, 0x05, 0x01, 0x19, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x0d, 0x00, 0x68, 0x00, 0x2e, 0x00, 0x74, 0x00, 0x78,
    0x00, 0x74, 0x00, 0x00, 0x00, 0x14, 0x0a, 0x01, 0x00, 0xe2, 0x44, 0x90, 0x72, 0x8e, 0x84,
    0xdd, 0x01, 0x15, 0x06, 0x01, 0x00, 0x20, 0x80, 0xa4, 0x81, 0x00, 0x00};
static const unsigned char sevenz_bcj2[] = {
    0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04, 0x3e, 0x2f, 0x84, 0x8d, 0x32, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x82, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf2, 0xab, 0xb4, 0xee,
    0x00, 0x34, 0x19, 0x49, 0xee, 0x8d, 0xe9, 0x06, 0x12, 0xee, 0xf1, 0xe4, 0x5a, 0xa1, 0x03, 0x8f,
    0x2d, 0xbe, 0xcd, 0x80, 0xb0, 0x51, 0x1c, 0x3d, 0x58, 0x78, 0x05, 0xaf, 0xe5, 0x15, 0xce, 0x17,
    0xb7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x04, 0x06, 0x00, 0x04, 0x09, 0x23, 0x05, 0x05, 0x05, 0x00, 0x07, 0x0b, 0x01,
    0x00, 0x04, 0x23, 0x03, 0x01, 0x01, 0x05, 0x6c, 0x00, 0x10, 0x00, 0x00, 0x23, 0x03, 0x01, 0x01,
    0x05, 0x6c, 0x00, 0x10, 0x00, 0x00, 0x23, 0x03, 0x01, 0x01, 0x05, 0x5d, 0x00, 0x10, 0x00, 0x00,
    0x14, 0x03, 0x03, 0x01, 0x1b, 0x04, 0x01, 0x05, 0x00, 0x04, 0x01, 0x03, 0x02, 0x02, 0x06, 0x01,
    0x00, 0x0c, 0x00, 0x00, 0x1d, 0x1d, 0x00, 0x08, 0x0a, 0x01, 0xec, 0x2a, 0x84, 0x09, 0x00, 0x00,
    0x05, 0x01, 0x19, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11,
    0x0d, 0x00, 0x68, 0x00, 0x2e, 0x00, 0x74, 0x00, 0x78, 0x00, 0x74, 0x00, 0x00, 0x00, 0x14, 0x0a,
    0x01, 0x00, 0xe2, 0x44, 0x90, 0x72, 0x8e, 0x84, 0xdd, 0x01, 0x15, 0x06, 0x01, 0x00, 0x20, 0x80,
    0xa4, 0x81, 0x00, 0x00};
static const unsigned char sevenz_bzip2_plain[] = {
    0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04, 0xe5, 0x13, 0x59, 0xdb, 0x41, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x52, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x91, 0x0a,
    0x5a, 0x51, 0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0x55, 0xc0, 0x36,
    0xd1, 0x00, 0x00, 0x08, 0x59, 0x80, 0x00, 0x10, 0x40, 0x04, 0x00, 0x80, 0x3e, 0x64, 0x91,
    0x30, 0x20, 0x00, 0x31, 0x40, 0xc0, 0x00, 0x50, 0xd0, 0xc2, 0x64, 0xf2, 0x8d, 0x2e, 0x38,
    0x57, 0x91, 0x48, 0x24, 0xe4, 0x50, 0x28, 0xb0, 0x96, 0x64, 0x78, 0x3f, 0x17, 0x72, 0x45,
    0x38, 0x50, 0x90, 0x55, 0xc0, 0x36, 0xd1, 0x01, 0x04, 0x06, 0x00, 0x01, 0x09, 0x41, 0x00,
    0x07, 0x0b, 0x01, 0x00, 0x01, 0x03, 0x04, 0x02, 0x02, 0x0c, 0x1d, 0x00, 0x08, 0x0a, 0x01,
    0xec, 0x2a, 0x84, 0x09, 0x00, 0x00, 0x05, 0x01, 0x19, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x0d, 0x00, 0x68, 0x00, 0x2e, 0x00, 0x74,
    0x00, 0x78, 0x00, 0x74, 0x00, 0x00, 0x00, 0x14, 0x0a, 0x01, 0x00, 0xe2, 0x44, 0x90, 0x72,
    0x8e, 0x84, 0xdd, 0x01, 0x15, 0x06, 0x01, 0x00, 0x20, 0x80, 0xa4, 0x81, 0x00, 0x00};
static const unsigned char sevenz_armt[] = {
    0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04, 0x71, 0x28, 0x17, 0xfc, 0x21, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x52, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0xf3,
    0xf4, 0x6d, 0x01, 0x00, 0x1c, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x37, 0x7a, 0x2c, 0x20,
    0x72, 0x65, 0x61, 0x64, 0x20, 0x62, 0x79, 0x20, 0x6c, 0x69, 0x62, 0x61, 0x72, 0x63, 0x68,
    0x69, 0x76, 0x65, 0x0a, 0x00, 0x01, 0x04, 0x06, 0x00, 0x01, 0x09, 0x21, 0x00, 0x07, 0x0b,
    0x01, 0x00, 0x02, 0x21, 0x21, 0x01, 0x00, 0x04, 0x03, 0x03, 0x07, 0x01, 0x01, 0x00, 0x0c,
    0x1d, 0x1d, 0x00, 0x08, 0x0a, 0x01, 0xec, 0x2a, 0x84, 0x09, 0x00, 0x00, 0x05, 0x01, 0x19,
    0x04, 0x00, 0x00, 0x00, 0x00, 0x11, 0x0d, 0x00, 0x68, 0x00, 0x2e, 0x00, 0x74, 0x00, 0x78,
    0x00, 0x74, 0x00, 0x00, 0x00, 0x14, 0x0a, 0x01, 0x00, 0xe2, 0x44, 0x90, 0x72, 0x8e, 0x84,
    0xdd, 0x01, 0x15, 0x06, 0x01, 0x00, 0x20, 0x80, 0xa4, 0x81, 0x00, 0x00};

/* RPM: the payload after the lead, the signature header (padded to 8) and the header */
START_TEST(test_unpack_rpm_payload)
{
    unsigned char b[256];
    size_t n;

    memset(b, 0, sizeof(b));
    memcpy(b, "\xed\xab\xee\xdb\x03\x00", 6);
    memcpy(b + 96, "\x8e\xad\xe8\x01", 4);
    b[96 + 11] = 1; /* 1 tag */
    b[96 + 15] = 5; /* 5 bytes of data: 96 + 16 + 16 + 5 = 133, padded to 136 */
    memcpy(b + 136, "\x8e\xad\xe8\x01", 4);
    b[136 + 15] = 3; /* no tag, 3 bytes: the payload at 155 */
    memcpy(b + 155, "PAYLOAD", 7);
    n = 162;
    ck_assert_int_eq(ww_unpack_rpm_payload(b, n), 155);
    ck_assert_int_eq(ww_unpack_rpm_payload(b, 155), 155); /* an empty payload */
    ck_assert_int_eq(ww_unpack_rpm_payload(b, 154), -1);  /* cut in the header */
    ck_assert_int_eq(ww_unpack_rpm_payload(b, 95), -1);
    /* zeros, then a third header (libarchive reads on: review 19, F12) */
    memset(b + 155, 0, 5);
    memcpy(b + 160, "\x8e\xad\xe8\x01\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
    memcpy(b + 178, "PAYLOAD", 7);
    ck_assert_int_eq(ww_unpack_rpm_payload(b, 185), 178);
    memset(b + 155, 0, 30);
    memcpy(b + 155, "PAYLOAD", 7);
    b[136] = 0; /* the header's magic */
    ck_assert_int_eq(ww_unpack_rpm_payload(b, n), -1);
    b[136] = 0x8e;
    b[96 + 9] = 1; /* 65,537 tags: rpm refuses */
    ck_assert_int_eq(ww_unpack_rpm_payload(b, n), -1);
    b[96 + 9] = 0;
    b[96 + 12] = 0x7f; /* 2 GiB of data: past the end */
    ck_assert_int_eq(ww_unpack_rpm_payload(b, n), -1);
    b[96 + 12] = 0;
    b[0] = 0; /* not an RPM */
    ck_assert_int_eq(ww_unpack_rpm_payload(b, n), -1);
}
END_TEST

/* Streams and cpio archives behind other bytes, as 7-Zip's signature search finds them */
START_TEST(test_unpack_stream_find)
{
    unsigned char b[4096];
    int kind = 0;
    uLong crc;

    memset(b, 'x', sizeof(b));
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), -1);
    ck_assert_int_eq(kind, 0);
    /* gzip: the header as gzip and Python write it; reserved flags, extra flags, OS */
    memcpy(b + 700, "\x1f\x8b\x08\x00\0\0\0\0\x02\x03", 10);
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 700);
    ck_assert_int_eq(kind, WW_FOUND_GZIP);
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 701, &kind), -1);
    b[703] = 0x20; /* a reserved flag */
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), -1);
    b[703] = 0, b[708] = 1, b[709] = 14; /* any extra flags and OS: 7-Zip takes them */
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 700);
    /* xz before it: its flags' CRC must hold */
    memcpy(b + 300,
           "\xfd"
           "7zXZ\0\0\x04",
           8);
    crc = crc32(0L, b + 306, 2);
    b[308] = (unsigned char)crc, b[309] = (unsigned char)(crc >> 8);
    b[310] = (unsigned char)(crc >> 16), b[311] = (unsigned char)(crc >> 24);
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 300);
    ck_assert_int_eq(kind, WW_FOUND_XZ);
    b[311] ^= 1;
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 700);
    /* bzip2, zstd, cpio (newc, odc, binary) before both */
    memcpy(b + 200, "BZh91AY&SY", 10);
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 200);
    ck_assert_int_eq(kind, WW_FOUND_BZIP2);
    memcpy(b + 100, "\x28\xb5\x2f\xfd\x24", 5);
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 100);
    ck_assert_int_eq(kind, WW_FOUND_ZSTD);
    b[104] = 0x2c; /* the reserved bit */
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 200);
    memcpy(b + 50, "07070100000001", 14);
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 50);
    ck_assert_int_eq(kind, WW_FOUND_CPIO);
    b[60] = 'g'; /* not hex */
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 200);
    memcpy(b + 20, "070707000001", 12);
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 20);
    memset(b + 20, 'x', 12);
    /* binary, little-endian: a regular file's mode, a 9-byte name */
    memset(b + 10, 0, 26);
    memcpy(b + 10, "\xc7\x71", 2);
    b[16] = 0xa4, b[17] = 0x81; /* 0100644 */
    b[22] = 1;                  /* a link */
    b[30] = 9;
    memcpy(b + 36, "clam.exe", 9);
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 10);
    ck_assert_int_eq(kind, WW_FOUND_CPIO);
    b[17] = 0x61, b[37] = 1; /* any mode, any name bytes (7-Zip takes them) */
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 10);
    b[22] = 0; /* no link: not an entry */
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 200);
    b[22] = 1, b[33] = 0x40; /* data past the end (16 MiB... of a 4 KiB buffer) */
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 200);
    b[33] = 0, b[38] = 0; /* a NUL inside the name */
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 200);
    b[38] = 'l';
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 10);
    b[44] = 'x'; /* the name does not end in a NUL */
    ck_assert_int_eq(ww_unpack_stream_find(b, sizeof(b), 1, &kind), 200);
    /* cut: a header past the end is no stream */
    ck_assert_int_eq(ww_unpack_stream_find(b, 705, 600, &kind), -1);
}
END_TEST

START_TEST(test_unpack_7z_plain)
{
    static const struct {
        const unsigned char *p;
        size_t n;
        int plain;
    } c[] = {{sevenz_lzma2, sizeof(sevenz_lzma2), 1},
             {sevenz_bcj2, sizeof(sevenz_bcj2), 1},
             {sevenz_bzip2_plain, sizeof(sevenz_bzip2_plain), 0},
             {sevenz_armt, sizeof(sevenz_armt), 0},
             {sevenz_deflate, sizeof(sevenz_deflate), 0}};
    unsigned char buf[512];
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct ww_unpack_7z_info info;
        ck_assert_msg(ww_unpack_7z_coders(c[i].p, c[i].n, &info) == c[i].plain, "case %zu", i);
        ck_assert_uint_eq(info.largest, 29); /* the file: no coder gives more */
        ck_assert_uint_eq(info.folders, 1);
        ck_assert(info.header > 0);
        /* cut anywhere, or a byte changed anywhere: never a crash; "plain" only when it still
         * reads (a change may leave the header as it was) */
        for (size_t n = 0; n < c[i].n; n++)
            ck_assert_int_eq(ww_unpack_7z_coders(c[i].p, n, &info), -1);
        for (size_t k = 0; k < c[i].n; k++) {
            memcpy(buf, c[i].p, c[i].n);
            buf[k] ^= 0x41;
            (void)ww_unpack_7z_coders(buf, c[i].n, &info);
        }
    }
    /* the LZMA2 one's coder id (0x21, in its LZMA-encoded header) cannot be changed from the
     * outside; the BZip2 one's plain header can: made LZMA (03 01 01), it reads as plain */
    {
        const unsigned char *q =
            memmem(sevenz_bzip2_plain, sizeof(sevenz_bzip2_plain), "\x04\x02\x02", 3);
        ck_assert_ptr_nonnull(q);
        memcpy(buf, sevenz_bzip2_plain, sizeof(sevenz_bzip2_plain));
        memcpy(buf + (q - sevenz_bzip2_plain), "\x03\x01\x01", 3);
        struct ww_unpack_7z_info info;
        ck_assert_int_eq(ww_unpack_7z_coders(buf, sizeof(sevenz_bzip2_plain), &info), 1);
    }
}
END_TEST

START_TEST(test_unpack_7z)
{
    struct buf b = {0};
    enum ww_unpack_result res[4];
    size_t len[4];
    int last;
    put(&b, sevenz_deflate, sizeof(sevenz_deflate));
    ck_assert_int_eq(entries_all(WW_UNPACK_ARCHIVE_7Z, &b, SIZE_MAX - 1, res, len, 4, &last), 1);
    ck_assert(last == 0 && res[0] == WW_UNPACK_DONE && len[0] == 29);
    {
        struct ww_unpack_entries *e = ww_unpack_entries_open(WW_UNPACK_ARCHIVE_7Z, b.p, b.n);
        unsigned char *out = NULL;
        size_t n = 0;
        int enc = 0;
        enum ww_unpack_result r;
        ck_assert_int_eq(ww_unpack_entries_next(e, SIZE_MAX - 1, &r, &out, &n, &enc), 1);
        ck_assert(n == 29 && memcmp(out, "hello 7z, read by libarchive\n", 29) == 0);
        free(out);
        ww_unpack_entries_close(e);
    }
    /* found behind other bytes (a self-extractor), past a signature whose header's CRC fails */
    {
        struct buf x = {0};
        unsigned char filler[100];
        memset(filler, 0x55, sizeof(filler)); /* (zeros would make the decoy a start header of
                                               * zeros, F4) */
        put(&x, "MZ junk 7z\xbc\xaf\x27\x1c", 14);
        put(&x, filler, 100);
        put(&x, sevenz_deflate, sizeof(sevenz_deflate));
        int zeroed;
        ck_assert_int_eq(ww_unpack_7z_find(x.p, x.n, 0, &zeroed), 114);
        ck_assert(!zeroed);
        ck_assert_int_eq(ww_unpack_7z_find(x.p, x.n, 115, &zeroed), -1);
        ck_assert_int_eq(ww_unpack_7z_find(b.p, b.n, 0, &zeroed), 0);
        x.p[114 + 6] = 1; /* major version 1: 7-Zip opens none (review 17, F2) */
        ck_assert_int_eq(ww_unpack_7z_find(x.p, x.n, 0, &zeroed), -1);
        x.p[114 + 6] = 0;
        x.p[114 + 20] ^= 1; /* the next header's offset: the start header's CRC fails */
        ck_assert_int_eq(ww_unpack_7z_find(x.p, x.n, 0, &zeroed), -1);
        memset(x.p + 114 + 8, 0, 24); /* a start header of zeros: 7-Zip recovers it (F4) */
        ck_assert_int_eq(ww_unpack_7z_find(x.p, x.n, 0, &zeroed), 114);
        ck_assert(zeroed);
        free(x.p);
    }
    /* the data corrupt: the entry fails */
    b.p[34] ^= 0xff;
    ck_assert_int_le(entries_all(WW_UNPACK_ARCHIVE_7Z, &b, SIZE_MAX - 1, res, len, 4, &last), 1);
    ck_assert(last == -1 || res[0] == WW_UNPACK_FAILED);
    free(b.p);
}
END_TEST

START_TEST(test_unpack_lha)
{
    struct buf b = {0};
    struct ww_unpack_entries *e;
    enum ww_unpack_result res[4];
    size_t len[4];
    unsigned char *out = NULL;
    size_t n = 0;
    int last, enc;
    enum ww_unpack_result r;
    fill();
    lha0_put(&b, "a.txt", data, 5000);
    lha0_put(&b, "b.bin", data + 5000, 3000);
    put(&b, "", 1); /* the end */
    ck_assert_int_eq(entries_all(WW_UNPACK_ARCHIVE_LHA, &b, SIZE_MAX - 1, res, len, 4, &last), 2);
    ck_assert(last == 0 && res[0] == WW_UNPACK_DONE && len[0] == 5000 && res[1] == WW_UNPACK_DONE &&
              len[1] == 3000);
    e = ww_unpack_entries_open(WW_UNPACK_ARCHIVE_LHA, b.p, b.n);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(ww_unpack_entries_next(e, 1000, &r, &out, &n, &enc), 1);
    ck_assert(r == WW_UNPACK_OVER && n == 1000 && memcmp(out, data, 1000) == 0 && !enc);
    free(out);
    ck_assert_int_eq(ww_unpack_entries_next(e, SIZE_MAX - 1, &r, &out, &n, &enc), 1);
    ck_assert(r == WW_UNPACK_DONE && n == 3000 && memcmp(out, data + 5000, 3000) == 0);
    free(out);
    ck_assert_int_eq(ww_unpack_entries_next(e, SIZE_MAX - 1, &r, &out, &n, &enc), 0);
    ww_unpack_entries_close(e);
    /* a bad CRC: a failure (libarchive checks a stored entry's CRC before it hands its data
     * over; 7-Zip extracts it, with an error: unscanned) */
    b.p[b.n - 2] ^= 1;
    ck_assert_int_eq(entries_all(WW_UNPACK_ARCHIVE_LHA, &b, SIZE_MAX - 1, res, len, 4, &last), 2);
    ck_assert(res[0] == WW_UNPACK_DONE && res[1] == WW_UNPACK_FAILED);
    /* a second header that does not read: -1 there */
    b.p[b.n - 2] ^= 1;
    b.p[29 + 5000 + 1] ^= 0x55; /* the second header (at 29 + 5000) checksum */
    ck_assert_int_eq(entries_all(WW_UNPACK_ARCHIVE_LHA, &b, SIZE_MAX - 1, res, len, 4, &last), 1);
    ck_assert_int_eq(last, -1);
    /* a first one: no entry */
    b.p[1] ^= 0x55;
    ck_assert_int_le(entries_all(WW_UNPACK_ARCHIVE_LHA, &b, SIZE_MAX - 1, res, len, 4, &last), 0);
    ck_assert_int_eq(last, -1);
    free(b.p);
}
END_TEST

static void ar_put(struct buf *b, const char *name, const void *d, size_t n, int pad)
{
    char h[61];
    snprintf(h, sizeof(h), "%-16s%-12s%-6s%-6s%-8s%-10zu`\n", name, "0", "0", "0", "100644", n);
    put(b, h, 60);
    put(b, d, n);
    if (n % 2 && pad)
        put(b, "\n", 1);
}

START_TEST(test_unpack_ar_walk)
{
    struct buf b = {0};
    struct ww_ar_member m;
    size_t pos = 8;

    put(&b, "!<arch>\n", 8);
    ar_put(&b, "debian-binary", "2.0\n", 4, 1);
    ar_put(&b, "control.tar.gz", "abc", 3, 1);
    ar_put(&b, "#1/5", "namesDATA", 9, 0); /* BSD: the name first; the last pad left out */
    ck_assert_int_eq(ww_unpack_ar_next(b.p, b.n, &pos, &m), 1);
    ck_assert_int_eq(memcmp(b.p + m.at, "2.0\n", 4), 0);
    ck_assert_uint_eq(m.len, 4);
    ck_assert_int_eq(ww_unpack_ar_next(b.p, b.n, &pos, &m), 1);
    ck_assert_uint_eq(m.len, 3);
    ck_assert_int_eq(ww_unpack_ar_next(b.p, b.n, &pos, &m), 1);
    ck_assert_uint_eq(m.len, 4);
    ck_assert_int_eq(memcmp(b.p + m.at, "DATA", 4), 0);
    ck_assert_int_eq(ww_unpack_ar_next(b.p, b.n, &pos, &m), 0); /* the end */
    pos = 8;
    b.n -= 2; /* cut inside the last member */
    ck_assert_int_eq(ww_unpack_ar_next(b.p, b.n, &pos, &m), 1);
    ck_assert_int_eq(ww_unpack_ar_next(b.p, b.n, &pos, &m), 1);
    ck_assert_int_eq(ww_unpack_ar_next(b.p, b.n, &pos, &m), -1);
    b.n = 8;
    ar_put(&b, "a", "x", 1, 1);
    b.p[8 + 58] = '!'; /* the header's end mark */
    pos = 8;
    ck_assert_int_eq(ww_unpack_ar_next(b.p, b.n, &pos, &m), -1);
    b.p[8 + 58] = '`';
    b.p[8 + 48] = '+'; /* a size that is not a number */
    pos = 8;
    ck_assert_int_eq(ww_unpack_ar_next(b.p, b.n, &pos, &m), -1);
    b.n = 8;
    ar_put(&b, "#1/9", "abc", 3, 1); /* a BSD name longer than the member */
    pos = 8;
    ck_assert_int_eq(ww_unpack_ar_next(b.p, b.n, &pos, &m), -1);
    b.n = 8;
    ar_put(&b, "#1/0000000000005", "names0123456789", 15, 1); /* digits to the field's end: */
    pos = 8; /* GNU ar reads on into the date field, so the length is not the field's */
    ck_assert_int_eq(ww_unpack_ar_next(b.p, b.n, &pos, &m), -1);
    free(b.p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("unpack");
    TCase *tc = tcase_create("unpack");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_unpack_zstd);
    tcase_add_test(tc, test_unpack_bzip2_streams);
    tcase_add_test(tc, test_unpack_lzma_alone);
    tcase_add_test(tc, test_unpack_zstd_cli);
    tcase_add_test(tc, test_unpack_ar_walk);
    tcase_add_test(tc, test_unpack_lzip);
    tcase_add_test(tc, test_unpack_xz_streams);
    tcase_add_test(tc, test_unpack_zip_members);
    tcase_add_test(tc, test_unpack_compress);
    tcase_add_test(tc, test_unpack_lz4);
    tcase_add_test(tc, test_unpack_gzip_cli);
    tcase_add_test(tc, test_unpack_lha);
    tcase_add_test(tc, test_unpack_7z);
    tcase_add_test(tc, test_unpack_7z_plain);
    tcase_add_test(tc, test_unpack_rpm_payload);
    tcase_add_test(tc, test_unpack_stream_find);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
