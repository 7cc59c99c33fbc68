/* t/check_udf.c - lib/ww_udf: UDF images built here (2,048-byte sectors), read as 7-Zip and
 * Windows read them where libclamav 1.4 does not (attack review 18, F8, F9): the descriptors in
 * any order, File Entries and Extended File Entries, short, long and inline allocation
 * descriptors, continuations, the metadata partition, deleted entries, a directory loop, cut
 * images, the file limit, what is not read. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ww_u64set.h"
#include "ww_udf.h"

#define S 2048u
#define PART 257u /* the partition's first sector */

static unsigned char *img;
static size_t img_len = 400 * S;

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, v & 0xffff), put16(p + 2, v >> 16);
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v), put32(p + 4, (uint32_t)(v >> 32));
}

static unsigned char *sec(size_t s)
{
    ck_assert_uint_lt(s, img_len / S);
    return img + s * S;
}

/* a descriptor tag <id> at <p>, its checksum */
static void tag(unsigned char *p, unsigned id)
{
    unsigned sum = 0;
    put16(p, id);
    put16(p + 2, 2);
    for (int i = 0; i < 16; i++)
        if (i != 4)
            sum += p[i];
    p[4] = (unsigned char)sum;
}

/* a File Entry (<efe>: an Extended one) at block <lb> of the partition: <type> 4 directory, 5
 * file; <adtype> 0 short, 1 long, 3 inline; <ad> its descriptors (<adlen> bytes) */
static void fe(uint32_t lb, int efe, unsigned type, uint64_t size, unsigned adtype,
               const unsigned char *ad, uint32_t adlen)
{
    unsigned char *p = sec(PART + lb);
    unsigned hdr = efe ? 216 : 176;
    memset(p, 0, S);
    p[27] = (unsigned char)type;
    put16(p + 34, adtype);
    put64(p + 56, size);
    put32(p + (efe ? 208 : 168), 0);
    put32(p + (efe ? 212 : 172), adlen);
    memcpy(p + hdr, ad, adlen);
    tag(p, efe ? 266 : 261);
}

static void short_ad(unsigned char *p, uint32_t len, unsigned type, uint32_t lb)
{
    put32(p, len | (uint32_t)type << 30);
    put32(p + 4, lb);
}

/* a File Identifier Descriptor at <p>: <chars> (2 directory, 4 deleted, 8 parent), its entry at
 * block <lb> of partition reference <pref>; its length */
static size_t fid(unsigned char *p, unsigned chars, const char *name, uint32_t lb, unsigned pref)
{
    size_t nl = name[0] ? strlen(name) + 1 : 0, n = (38 + nl + 3) & ~(size_t)3;
    memset(p, 0, n);
    p[18] = (unsigned char)chars;
    p[19] = (unsigned char)nl;
    put32(p + 20, S);
    put32(p + 24, lb);
    put16(p + 28, pref);
    if (nl) {
        p[38] = 8; /* OSTA CS0, 8 bits a character */
        memcpy(p + 39, name, nl - 1);
    }
    tag(p, 257);
    return n;
}

static const char payload[] = "UDF-PAYLOAD-4417: read by 7-Zip and Windows, not by libclamav";

/* A UDF 2.01 image: the recognition sequence, the anchor at 256, the descriptors at 32 (<swap>:
 * the logical volume before the partition), the file set at block 0, the root at 1 (its FIDs
 * at 2), FILE.BIN's entry at 3 and its data at 4. */
static void build(int swap)
{
    unsigned char ad[8], *d;
    size_t p;

    memset(img, 0, img_len);
    memcpy(sec(16) + 1, "BEA01\1", 6);
    memcpy(sec(17) + 1, "NSR02\1", 6);
    memcpy(sec(18) + 1, "TEA01\1", 6);
    put32(sec(256) + 16, 3 * S);
    put32(sec(256) + 20, 32);
    tag(sec(256), 2);
    d = sec(swap ? 33 : 32); /* the partition descriptor: number 0 from sector PART */
    put16(d + 22, 0);
    put32(d + 188, PART);
    put32(d + 192, 100);
    tag(d, 5);
    d = sec(swap ? 32 : 33); /* the logical volume: the file set at block 0, one type 1 map */
    put32(d + 212, S);
    put32(d + 248, S);
    put32(d + 252, 0);
    put32(d + 264, 6);
    put32(d + 268, 1);
    d[440] = 1, d[441] = 6;
    put16(d + 444, 0);
    tag(d, 6);
    tag(sec(34), 8);
    d = sec(PART); /* the file set: the root's entry at block 1 */
    put32(d + 400, S);
    put32(d + 404, 1);
    tag(d, 256);
    d = sec(PART + 2);
    p = fid(d, 0x0a, "", 1, 0);
    p += fid(d + p, 0, "FILE.BIN", 3, 0);
    short_ad(ad, (uint32_t)p, 0, 2);
    fe(1, 0, 4, p, 0, ad, 8);
    short_ad(ad, sizeof(payload), 0, 4);
    fe(3, 0, 5, sizeof(payload), 0, ad, 8);
    memcpy(sec(PART + 4), payload, sizeof(payload));
}

/* Whether some file reads as the payload; *n the files, *whole. */
static int has_payload(size_t len, long *n, int *whole)
{
    struct ww_udf *u = ww_udf_open(img, len, 100);
    int found = 0;

    ck_assert_ptr_nonnull(u);
    *n = ww_udf_count(u);
    *whole = ww_udf_whole(u);
    for (long i = 0; i < *n; i++) {
        unsigned char *out = NULL;
        size_t olen = 0;
        ww_udf_file(u, img, len, (size_t)i, 1 << 20, &out, &olen);
        if (olen == sizeof(payload) && memcmp(out, payload, olen) == 0)
            found = 1;
        free(out);
    }
    ww_udf_close(u);
    return found;
}

static void setup(void)
{
    img = malloc(img_len);
    ck_assert_ptr_nonnull(img);
}

static void teardown(void)
{
    free(img);
}

START_TEST(test_udf_plain_and_in_any_order)
{
    long n;
    int whole;

    build(0);
    ck_assert(ww_udf_anchor(img, img_len));
    ck_assert(has_payload(img_len, &n, &whole));
    ck_assert_int_eq(n, 1);
    ck_assert(whole);
    memset(sec(16), 0, 3 * S); /* no recognition sequence: 7-Zip reads it by its anchor */
    ck_assert(has_payload(img_len, &n, &whole));
    build(1); /* the logical volume first (libclamav wants genisoimage's order) */
    ck_assert(has_payload(img_len, &n, &whole));
    /* no anchor: not UDF */
    memset(sec(256), 0, 16);
    ck_assert(!ww_udf_anchor(img, img_len));
    ck_assert_ptr_null(ww_udf_open(img, img_len, 100));
    /* the anchor at the last sector instead */
    build(0);
    memcpy(sec(img_len / S - 1), sec(256), S);
    put32(sec(img_len / S - 1) + 12, (uint32_t)(img_len / S - 1));
    tag(sec(img_len / S - 1), 2);
    memset(sec(256), 0, S);
    ck_assert(has_payload(img_len, &n, &whole));
    /* a bad checksum: no anchor */
    sec(img_len / S - 1)[4] ^= 1;
    ck_assert_ptr_null(ww_udf_open(img, img_len, 100));
}
END_TEST

START_TEST(test_udf_extended_entries_inline_and_long)
{
    unsigned char ad[16];
    long n;
    int whole;

    build(0);
    short_ad(ad, sizeof(payload), 0, 4);
    fe(3, 1, 5, sizeof(payload), 0, ad, 8); /* an Extended File Entry (UDF 2.50) */
    ck_assert(has_payload(img_len, &n, &whole));
    fe(3, 0, 5, sizeof(payload), 3, (const unsigned char *)payload, sizeof(payload)); /* inline */
    ck_assert(has_payload(img_len, &n, &whole));
    memset(ad, 0, sizeof(ad)); /* a long descriptor: its partition reference */
    put32(ad, sizeof(payload));
    put32(ad + 4, 4);
    fe(3, 0, 5, sizeof(payload), 1, ad, 16);
    ck_assert(has_payload(img_len, &n, &whole));
    put16(ad + 8, 5); /* a partition reference that does not resolve */
    fe(3, 0, 5, sizeof(payload), 1, ad, 16);
    ck_assert(!has_payload(img_len, &n, &whole));
}
END_TEST

START_TEST(test_udf_two_extents_and_continuation)
{
    unsigned char ad[24], cont[16];
    long n;
    int whole;

    build(0);
    /* the data in two extents (blocks 4 and 6), the second through a continuation at block 5 */
    memset(sec(PART + 4), 0, S);
    memcpy(sec(PART + 4), payload, 20);
    memcpy(sec(PART + 6), payload + 20, sizeof(payload) - 20);
    short_ad(ad, 20, 0, 4);
    short_ad(ad + 8, 16, 3, 5);
    short_ad(cont, sizeof(payload) - 20, 0, 6);
    memset(sec(PART + 5), 0, S);
    memcpy(sec(PART + 5), cont, 8);
    fe(3, 0, 5, sizeof(payload), 0, ad, 16);
    ck_assert(has_payload(img_len, &n, &whole)); /* the extents joined as their lengths say */
    ck_assert(whole);
    /* a block and 10 bytes */
    memset(sec(PART + 4), 'x', S);
    short_ad(ad, S, 0, 4);
    fe(3, 0, 5, S + 10, 0, ad, 16);
    short_ad(cont, 10, 0, 6);
    memcpy(sec(PART + 5), cont, 8);
    memcpy(sec(PART + 6), "0123456789", 10);
    {
        struct ww_udf *u = ww_udf_open(img, img_len, 100);
        unsigned char *out = NULL;
        size_t olen = 0;
        ck_assert_int_eq(ww_udf_file(u, img, img_len, 0, 1 << 20, &out, &olen), WW_UNPACK_DONE);
        ck_assert_uint_eq(olen, S + 10);
        ck_assert(memcmp(out + S, "0123456789", 10) == 0 && out[0] == 'x');
        free(out);
        /* the limit */
        ck_assert_int_eq(ww_udf_file(u, img, img_len, 0, 100, &out, &olen), WW_UNPACK_OVER);
        ck_assert_uint_eq(olen, 100);
        free(out);
        ww_udf_close(u);
    }
}
END_TEST

START_TEST(test_udf_deleted_loop_cut_and_limit)
{
    unsigned char ad[8], *d = NULL;
    size_t p;
    long n;
    int whole;
    struct ww_udf *u;

    build(0);
    /* the root: a deleted entry, a loop back to the root, a subdirectory, the file */
    d = sec(PART + 2);
    p = fid(d, 0x0a, "", 1, 0);
    p += fid(d + p, 0x04, "GONE.BIN", 3, 0);
    p += fid(d + p, 0x02, "LOOP", 1, 0);
    p += fid(d + p, 0, "FILE.BIN", 3, 0);
    short_ad(ad, (uint32_t)p, 0, 2);
    fe(1, 0, 4, p, 0, ad, 8);
    ck_assert(has_payload(img_len, &n, &whole));
    ck_assert_int_eq(n, 1);
    ck_assert(whole);
    /* the image cut inside the file's data: what is there, and not whole */
    u = ww_udf_open(img, (PART + 4) * S + 10, 100);
    ck_assert_ptr_nonnull(u);
    {
        unsigned char *out = NULL;
        size_t olen = 0;
        ck_assert_int_eq(ww_udf_file(u, img, (PART + 4) * S + 10, 0, 1 << 20, &out, &olen),
                         WW_UNPACK_FAILED);
        ck_assert_uint_eq(olen, 10);
        free(out);
    }
    ww_udf_close(u);
    /* the directory's entry past the end: not whole */
    u = ww_udf_open(img, (PART + 1) * S + 100, 100);
    ck_assert_ptr_nonnull(u);
    ck_assert(!ww_udf_whole(u));
    ww_udf_close(u);
    /* one entry named 40 times: one file */
    d = sec(PART + 2);
    p = fid(d, 0x0a, "", 1, 0);
    for (int i = 0; i < 40; i++)
        p += fid(d + p, 0, "F.BIN", 3, 0);
    short_ad(ad, (uint32_t)p, 0, 2);
    fe(1, 0, 4, p, 0, ad, 8);
    u = ww_udf_open(img, img_len, 10);
    ck_assert_int_eq(ww_udf_count(u), 1);
    ww_udf_close(u);
    /* 40 files, a limit of 10: 11 listed */
    p = fid(d, 0x0a, "", 1, 0);
    for (int i = 0; i < 40; i++)
        p += fid(d + p, 0, "F.BIN", 3 + (uint32_t)i, 0);
    short_ad(ad, (uint32_t)p, 0, 2);
    fe(1, 0, 4, p, 0, ad, 8);
    u = ww_udf_open(img, img_len, 10);
    ck_assert_int_eq(ww_udf_count(u), 11);
    ww_udf_close(u);
}
END_TEST

/* UDF 2.50's metadata partition: the file set, the directories and the entries in the metadata
 * file's extent (physical blocks 20-29), its entry at physical block 10 */
START_TEST(test_udf_metadata_partition)
{
    unsigned char ad[16], *d, *m;
    size_t p;
    long n;
    int whole;

    build(0);
    d = sec(33);
    put32(d + 264, 6 + 64);
    put32(d + 268, 2);
    m = d + 446;
    memset(m, 0, 64);
    m[0] = 2, m[1] = 64;
    memcpy(m + 5, "*UDF Metadata Partition", 23);
    put16(m + 38, 0);
    put32(m + 40, 10);
    put32(d + 256 - 4, 0); /* the file set at metadata block 0 ... */
    put16(d + 256, 1);     /* ... of partition reference 1 */
    tag(d, 6);
    short_ad(ad, 10 * S, 0, 20);
    fe(10, 0, 4, 10 * S, 0, ad, 8); /* the metadata file */
    /* in metadata blocks: 0 the file set, 1 the root, 2 its FIDs, 3 the file's entry */
    memcpy(sec(PART + 20), sec(PART + 0), S);
    put16(sec(PART + 20) + 408, 1);
    tag(sec(PART + 20), 256);
    memset(sec(PART + 22), 0, S);
    d = sec(PART + 22);
    p = fid(d, 0x0a, "", 1, 1);
    p += fid(d + p, 0, "FILE.BIN", 3, 1);
    short_ad(ad, (uint32_t)p, 0, 2);
    fe(21, 1, 4, p, 0, ad, 8); /* short descriptors: blocks of the metadata partition */
    memset(ad, 0, 16);         /* the data in the physical partition: a long descriptor */
    put32(ad, sizeof(payload));
    put32(ad + 4, 4);
    put16(ad + 8, 0);
    fe(23, 1, 5, sizeof(payload), 1, ad, 16);
    memset(sec(PART), 0, S); /* nothing left where a type 1 reading would look */
    memset(sec(PART + 1), 0, S);
    memset(sec(PART + 3), 0, S);
    ck_assert(has_payload(img_len, &n, &whole));
    ck_assert_int_eq(n, 1);
    ck_assert(whole);
    /* the metadata file's entry broken: the tree does not read */
    sec(PART + 10)[0] = 0;
    {
        struct ww_udf *u = ww_udf_open(img, img_len, 100);
        ck_assert_ptr_nonnull(u);
        ck_assert(!ww_udf_whole(u));
        ck_assert_int_eq(ww_udf_count(u), 0);
        ww_udf_close(u);
    }
}
END_TEST

/* lib/ww_u64set, the readers' "seen before?": every key once, 0 too, through its growth */
START_TEST(test_u64set)
{
    struct ww_u64set s = {0};

    for (uint64_t k = 0; k < 5000; k++)
        ck_assert_int_eq(ww_u64set_add(&s, k * 2048), 1);
    for (uint64_t k = 0; k < 5000; k++)
        ck_assert_int_eq(ww_u64set_add(&s, k * 2048), 0);
    ck_assert_int_eq(ww_u64set_add(&s, 1), 1);
    ck_assert_int_eq(ww_u64set_add(&s, UINT64_MAX), 1);
    ck_assert_int_eq(ww_u64set_add(&s, UINT64_MAX), 0);
    ww_u64set_free(&s);
    ck_assert_int_eq(ww_u64set_add(&s, 0), 1); /* empty again */
    ww_u64set_free(&s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("udf");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_udf_plain_and_in_any_order);
    tcase_add_test(tc, test_udf_extended_entries_inline_and_long);
    tcase_add_test(tc, test_udf_two_extents_and_continuation);
    tcase_add_test(tc, test_udf_deleted_loop_cut_and_limit);
    tcase_add_test(tc, test_udf_metadata_partition);
    tcase_add_test(tc, test_u64set);
    suite_add_tcase(su, tc);
    sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
