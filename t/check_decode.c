/* t/check_decode.c - Content-Encoding decoding: gzip, deflate (zlib and raw), limits. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

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
    {NULL, WW_ENC_IDENTITY},     {"", WW_ENC_IDENTITY},         {"identity", WW_ENC_IDENTITY},
    {"gzip", WW_ENC_GZIP},       {" GZip ", WW_ENC_GZIP},       {"x-gzip", WW_ENC_GZIP},
    {"deflate", WW_ENC_DEFLATE}, {"br", WW_ENC_UNSUPPORTED},    {"gzip, br", WW_ENC_UNSUPPORTED},
    {"compress", WW_ENC_UNSUPPORTED},
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
