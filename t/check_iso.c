/* t/check_iso.c - lib/ww_iso: ISO 9660 images built here, read as 7-Zip and libarchive read
 * them where libclamav 1.4 does not (attack review 18): multi-extent and "interleaved" files, a
 * directory of over 1,024 blocks, every supplementary tree, a record across a sector, an extended
 * attribute record, zisofs, El Torito boot images; loops, cut images, the file limit, UDF. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ww_iso.h"

#define S 2048u

/* An image being built: sectors of 2,048 bytes; descriptors from 16, directories and data
 * where the test puts them. */
struct img {
    unsigned char *p;
    size_t n; /* sectors */
};

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16),
    p[3] = (unsigned char)(v >> 24);
}

/* both-endian 32 bits */
static void put32b(unsigned char *p, uint32_t v)
{
    put32(p, v);
    p[4] = (unsigned char)(v >> 24), p[5] = (unsigned char)(v >> 16),
    p[6] = (unsigned char)(v >> 8), p[7] = (unsigned char)v;
}

static struct img img_new(size_t sectors)
{
    struct img m = {calloc(sectors, S), sectors};
    ck_assert_ptr_nonnull(m.p);
    return m;
}

static unsigned char *sec(struct img *m, size_t s)
{
    ck_assert_uint_lt(s, m->n);
    return m->p + s * S;
}

/* A directory record at <at>: its length. <flags> 2 directory, 0x80 more extents follow;
 * <unit> the interleave unit; <ext> the extended attribute record's length; <su> system use
 * bytes (Rock Ridge) of <sulen>. */
static unsigned drec_su(unsigned char *at, const char *name, uint32_t lba, uint32_t size,
                        unsigned flags, unsigned unit, unsigned ext, const unsigned char *su,
                        unsigned sulen)
{
    unsigned nl = (unsigned)strlen(name), len = 33 + nl;
    if (len % 2)
        len++;
    memset(at, 0, len + sulen);
    at[1] = (unsigned char)ext;
    put32b(at + 2, lba);
    put32b(at + 10, size);
    at[25] = (unsigned char)flags;
    at[26] = (unsigned char)unit;
    at[32] = (unsigned char)nl;
    memcpy(at + 33, name, nl);
    if (nl == 1 && (name[0] == '\1' || name[0] == '\2'))
        at[33] = (unsigned char)(name[0] - 1); /* "\1" -> ".", "\2" -> ".." */
    if (sulen)
        memcpy(at + len, su, sulen);
    len += sulen;
    at[0] = (unsigned char)len;
    return len;
}

static unsigned drec(unsigned char *at, const char *name, uint32_t lba, uint32_t size,
                     unsigned flags)
{
    return drec_su(at, name, lba, size, flags, 0, 0, NULL, 0);
}

/* A volume descriptor at sector <s>: 1 primary, 2 supplementary (<joliet>: its escape
 * sequence), 255 the terminator; its root directory at <root>, <rootsize> bytes. */
static void vd(struct img *m, size_t s, unsigned type, uint32_t root, uint32_t rootsize, int joliet)
{
    unsigned char *d = sec(m, s);
    d[0] = (unsigned char)type;
    memcpy(d + 1, "CD001", 5);
    d[6] = 1;
    if (type == 255)
        return;
    if (joliet)
        memcpy(d + 88, "%/E", 3);
    drec(d + 156, "\1", root, rootsize, 2);
}

/* A directory at sector <s> (<size> bytes) holding ".", ".." and then what <fill> writes. */
static unsigned dir_start(struct img *m, size_t s, uint32_t size)
{
    unsigned char *d = sec(m, s);
    unsigned p = drec(d, "\1", (uint32_t)s, size, 2);
    return p + drec(d + p, "\2", (uint32_t)s, size, 2);
}

static const char payload[] = "ISO-PAYLOAD-7731: a file only 7-Zip and libarchive read whole";

static void data_at(struct img *m, size_t s, const void *d, size_t n)
{
    ck_assert_uint_le(s * S + n, m->n * S);
    memcpy(m->p + s * S, d, n);
}

/* Whether some file of the image reads as <want> (<wlen> bytes); *files: how many. */
static int has_file(const struct img *m, const void *want, size_t wlen, long *files, int *whole)
{
    struct ww_iso *iso = ww_iso_open(m->p, m->n * S, 100);
    int found = 0;
    long n;

    ck_assert_ptr_nonnull(iso);
    n = ww_iso_count(iso);
    *files = n;
    *whole = ww_iso_whole(iso);
    for (long i = 0; i < n; i++) {
        unsigned char *out = NULL;
        size_t olen = 0;
        ww_iso_file(iso, m->p, m->n * S, (size_t)i, 1 << 20, &out, &olen);
        if (olen == wlen && memcmp(out, want, wlen) == 0)
            found = 1;
        free(out);
    }
    ww_iso_close(iso);
    return found;
}

/* PVD at 16, terminator at 17, root at 20 with <payload> in FILE.BIN at 30 */
static struct img plain(void)
{
    struct img m = img_new(40);
    unsigned p;
    vd(&m, 16, 1, 20, S, 0);
    vd(&m, 17, 255, 0, 0, 0);
    p = dir_start(&m, 20, S);
    drec(sec(&m, 20) + p, "FILE.BIN;1", 30, sizeof(payload), 0);
    data_at(&m, 30, payload, sizeof(payload));
    return m;
}

START_TEST(test_iso_plain_and_not_iso)
{
    struct img m = plain();
    long n;
    int whole;

    ck_assert(ww_iso_is(m.p, m.n * S));
    ck_assert(!ww_iso_has_udf(m.p, m.n * S));
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    ck_assert_int_eq(n, 1);
    ck_assert(whole);
    /* not ISO 9660: no descriptor */
    memset(sec(&m, 16), 0, S);
    ck_assert(!ww_iso_is(m.p, m.n * S));
    ck_assert_ptr_null(ww_iso_open(m.p, m.n * S, 100));
    ck_assert(!ww_iso_is(m.p, 16 * S + 100));
    free(m.p);
}
END_TEST

/* F1: two records, the first flagged "more extents": one file, joined */
START_TEST(test_iso_multi_extent_joined)
{
    struct img m = plain();
    unsigned char *d = sec(&m, 20);
    unsigned p = dir_start(&m, 20, S);
    long n;
    int whole;

    p += drec(d + p, "FILE.BIN;1", 30, 20, 0x80);
    drec(d + p, "FILE.BIN;1", 31, sizeof(payload) - 20, 0);
    data_at(&m, 30, payload, 20);
    data_at(&m, 31, payload + 20, sizeof(payload) - 20);
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    ck_assert_int_eq(n, 1);
    free(m.p);
}
END_TEST

/* Review 19: a zero byte between records (7-Zip reads on at the next byte: F1), a
 * multi-extent record followed by one of another name (two files to 7-Zip: F3), a root record
 * whose length byte is under 34 (7-Zip reads it: F4), a directory named twice with two sizes
 * (each read: F2) */
START_TEST(test_iso_review19_readings)
{
    struct img m = plain();
    unsigned char *d = sec(&m, 20);
    unsigned p = dir_start(&m, 20, S);
    long n;
    int whole;

    p += drec(d + p, "README.TXT;1", 31, 5, 0);
    d[p++] = 0; /* one zero byte, then the file's record */
    drec(d + p, "FILE.BIN;1", 30, sizeof(payload), 0);
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    free(m.p);

    m = plain();
    d = sec(&m, 20);
    p = dir_start(&m, 20, S);
    p += drec(d + p, "DECOY.BIN;1", 31, 20, 0x80); /* "more extents"... of another name */
    drec(d + p, "FILE.BIN;1", 30, sizeof(payload), 0);
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    ck_assert_int_eq(n, 2);
    free(m.p);

    m = plain();
    sec(&m, 16)[156] = 1; /* the root record's length byte */
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    free(m.p);

    /* SUB named with 1 sector, then again with 2: its second sector holds the file */
    m = plain();
    d = sec(&m, 20);
    p = dir_start(&m, 20, S);
    p += drec(d + p, "SUB", 22, S, 2);
    drec(d + p, "SUB2", 22, 2 * S, 2);
    dir_start(&m, 22, S);
    memset(sec(&m, 23), 0, S);
    drec(sec(&m, 23), "FILE.BIN;1", 30, sizeof(payload), 0);
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    free(m.p);
}
END_TEST

/* F2: the interleave fields set on a contiguous file: read as one run */
START_TEST(test_iso_interleave_fields_ignored)
{
    struct img m = plain();
    long n;
    int whole;

    drec_su(sec(&m, 20) + dir_start(&m, 20, S), "FILE.BIN;1", 30, sizeof(payload), 0, 1, 0, NULL,
            0);
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    free(m.p);
}
END_TEST

/* F3: a root of 1,030 blocks, zeros between, the file in the last; F5: a record across a
 * sector boundary, and the file after it */
START_TEST(test_iso_big_directory_and_record_across_sectors)
{
    struct img m = img_new(1100);
    unsigned char *d;
    unsigned p;
    char name[200];
    long n;
    int whole;

    vd(&m, 16, 1, 20, 1030 * S, 0);
    vd(&m, 17, 255, 0, 0, 0);
    dir_start(&m, 20, 1030 * S);
    drec(sec(&m, 20 + 1029), "FILE.BIN;1", 1060, sizeof(payload), 0);
    data_at(&m, 1060, payload, sizeof(payload));
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    ck_assert(whole);
    free(m.p);

    m = img_new(40);
    vd(&m, 16, 1, 20, 2 * S, 0);
    vd(&m, 17, 255, 0, 0, 0);
    d = sec(&m, 20);
    p = dir_start(&m, 20, 2 * S);
    while (p + 60 < S - 20)
        p += drec(d + p, "README.TXT;1", 30, 0, 0);
    memset(name, 'A', sizeof(name) - 1);
    name[160] = '\0';
    p += drec(d + p, name, 31, 0, 0); /* runs into sector 21 */
    ck_assert_uint_gt(p, S);
    drec(d + p, "FILE.BIN;1", 32, sizeof(payload), 0);
    data_at(&m, 32, payload, sizeof(payload));
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    ck_assert(whole);
    free(m.p);
}
END_TEST

/* F4: the file only in a supplementary tree, after others (a Joliet one at sector 33; a second
 * Joliet); every tree is read */
START_TEST(test_iso_every_tree_read)
{
    struct img m = img_new(60);
    long n;
    int whole;
    unsigned p;

    vd(&m, 16, 1, 40, S, 0);
    for (size_t s = 17; s < 33; s++)
        vd(&m, s, 2, 40, S, 0); /* not Joliet, the same tree */
    vd(&m, 33, 2, 41, S, 1);
    vd(&m, 34, 2, 42, S, 1);
    vd(&m, 35, 255, 0, 0, 0);
    p = dir_start(&m, 40, S);
    drec(sec(&m, 40) + p, "README.TXT;1", 50, 5, 0);
    p = dir_start(&m, 41, S);
    drec(sec(&m, 41) + p, "readme.txt", 50, 5, 0);
    p = dir_start(&m, 42, S);
    drec(sec(&m, 42) + p, "file.bin", 51, sizeof(payload), 0);
    data_at(&m, 50, "hello", 5);
    data_at(&m, 51, payload, sizeof(payload));
    ck_assert_msg(has_file(&m, payload, sizeof(payload), &n, &whole), "%ld files, whole %d", n,
                  whole);
    ck_assert_int_eq(n, 2); /* the readme once, though in two trees */
    ck_assert(whole);
    free(m.p);
}
END_TEST

/* F6: an extended attribute record: the data at the extent (libarchive) and after the record
 * (libclamav), both; a zisofs file inflated */
START_TEST(test_iso_extended_attribute_and_zisofs)
{
    struct img m = plain();
    unsigned char su[16] = {'Z', 'F', 16, 1, 'p', 'z', 4, 15};
    unsigned char z[4096], blk[256];
    uLongf bl = sizeof(blk);
    long n;
    int whole;

    drec_su(sec(&m, 20) + dir_start(&m, 20, S), "FILE.BIN;1", 30, sizeof(payload), 0, 0, 1, NULL,
            0);
    memset(sec(&m, 31), 'Z', S);
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    ck_assert_int_eq(n, 2);
    free(m.p);

    m = plain();
    ck_assert_int_eq(compress(blk, &bl, (const Bytef *)payload, sizeof(payload)), Z_OK);
    memset(z, 0, sizeof(z));
    memcpy(z, "\x37\xe4\x53\x96\xc9\xdb\xd6\x07", 8);
    put32(z + 8, sizeof(payload));
    z[12] = 4, z[13] = 15;
    put32(z + 16, 24); /* one block: the table of 2 offsets ends at 24 */
    put32(z + 20, 24 + (uint32_t)bl);
    memcpy(z + 24, blk, bl);
    put32b(su + 8, sizeof(payload));
    drec_su(sec(&m, 20) + dir_start(&m, 20, S), "FILE.BIN;1", 30, 24 + (uint32_t)bl, 0, 0, 0, su,
            16);
    data_at(&m, 30, z, 24 + bl);
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    /* the ZF entry in a continuation area (a CE entry: block 35, offset 0, 16 bytes) */
    {
        unsigned char ce[28] = {'C', 'E', 28, 1};
        put32b(ce + 4, 35);
        put32b(ce + 12, 0);
        put32b(ce + 20, 16);
        memcpy(sec(&m, 35), su, 16);
        drec_su(sec(&m, 20) + dir_start(&m, 20, S), "FILE.BIN;1", 30, 24 + (uint32_t)bl, 0, 0, 0,
                ce, 28);
        ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
        /* ... and after the bytes the root's SP entry says to skip (4 here) */
        {
            unsigned char sp[7] = {'S', 'P', 7, 1, 0xbe, 0xef, 4}, su4[20] = {'x', 'x', 'x', 'x'};
            unsigned char *d = sec(&m, 20);
            unsigned p = drec_su(d, "\1", 20, S, 2, 0, 0, sp, 7);
            p += drec(d + p, "\2", 20, S, 2);
            memcpy(su4 + 4, su, 16);
            drec_su(d + p, "FILE.BIN;1", 30, 24 + (uint32_t)bl, 0, 0, 0, su4, 20);
            ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
        }
    }
    /* a block that does not inflate: what came before, and FAILED */
    sec(&m, 30)[26] ^= 0xff;
    ck_assert(!has_file(&m, payload, sizeof(payload), &n, &whole));
    free(m.p);
}
END_TEST

/* libarchive's readings (review 19, F7): the root its own "." record names, and extents by the
 * descriptor's logical block size (512 here; the root itself by 2,048) */
START_TEST(test_iso_libarchive_readings)
{
    struct img m = plain();
    unsigned char *d = sec(&m, 20);
    unsigned p;
    long n;
    int whole;

    p = drec(d, "\1", 25, S, 2); /* "." names sector 25 */
    p += drec(d + p, "\2", 20, S, 2);
    memset(d + p, 0, S - p); /* nothing else in the descriptor's root */
    p = dir_start(&m, 25, S);
    drec(sec(&m, 25) + p, "FILE.BIN;1", 30, sizeof(payload), 0);
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    free(m.p);

    m = plain(); /* block size 512: FILE.BIN at block 120, which is sector 30 */
    sec(&m, 16)[128] = 0x00, sec(&m, 16)[129] = 0x02;
    d = sec(&m, 20);
    p = dir_start(&m, 20, S);
    drec(d + p, "FILE.BIN;1", 120, sizeof(payload), 0);
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    free(m.p);
}
END_TEST

/* a subdirectory whose extent is the root's: each directory read once; a directory past the
 * image's end: not whole; no terminator: not whole; the file limit */
START_TEST(test_iso_loops_cuts_and_limit)
{
    struct img m = plain();
    struct ww_iso *iso;
    unsigned char *d = sec(&m, 20);
    unsigned p = dir_start(&m, 20, S);
    long n;
    int whole;

    p += drec(d + p, "FILE.BIN;1", 30, sizeof(payload), 0);
    p += drec(d + p, "LOOP", 20, S, 2);
    drec(d + p, "GONE", 500, S, 2);
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    ck_assert_int_eq(n, 1);
    ck_assert(!whole); /* GONE is past the end */
    free(m.p);

    m = plain();
    memset(sec(&m, 17), 0, S); /* no terminator: the set ends there, read */
    ck_assert(has_file(&m, payload, sizeof(payload), &n, &whole));
    ck_assert(whole);
    /* the image ends at the descriptors */
    iso = ww_iso_open(m.p, 17 * S, 100);
    ck_assert_ptr_nonnull(iso);
    ck_assert(!ww_iso_whole(iso));
    ww_iso_close(iso);
    free(m.p);

    m = img_new(200);
    vd(&m, 16, 1, 20, S, 0);
    vd(&m, 17, 255, 0, 0, 0);
    d = sec(&m, 20);
    p = dir_start(&m, 20, S);
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof(name), "F%02d.BIN;1", i);
        p += drec(d + p, name, (uint32_t)(100 + i), 1, 0);
    }
    iso = ww_iso_open(m.p, m.n * S, 10);
    ck_assert_int_eq(ww_iso_count(iso), 11); /* the limit + 1: the caller's MaxFiles */
    ww_iso_close(iso);
    /* a file past the image's end: what is there, and FAILED */
    {
        unsigned char *out = NULL;
        size_t olen = 9;
        iso = ww_iso_open(m.p, 101 * S, 100);
        ck_assert_int_eq(ww_iso_file(iso, m.p, 101 * S, 1, 100, &out, &olen), WW_UNPACK_FAILED);
        ck_assert_uint_eq(olen, 0);
        free(out);
        ck_assert_int_eq(ww_iso_file(iso, m.p, 101 * S, 0, 100, &out, &olen), WW_UNPACK_DONE);
        ck_assert_uint_eq(olen, 1);
        free(out);
        ww_iso_close(iso);
    }
    free(m.p);
}
END_TEST

/* El Torito: the boot image is a file; UDF: told */
START_TEST(test_iso_el_torito_and_udf)
{
    struct img m = plain();
    unsigned char *c;
    long n;
    int whole;

    /* a boot record at 17, the terminator at 18; the catalog at 25: a no-emulation image of
     * 1 virtual sector (512 bytes) at 26 */
    vd(&m, 18, 255, 0, 0, 0);
    memset(sec(&m, 17), 0, S);
    memcpy(sec(&m, 17) + 1, "CD001", 5);
    sec(&m, 17)[6] = 1;
    memcpy(sec(&m, 17) + 7, "EL TORITO SPECIFICATION", 23);
    put32(sec(&m, 17) + 71, 25);
    c = sec(&m, 25);
    c[0] = 1, c[30] = 0x55, c[31] = 0xaa;
    c[32] = 0x88, c[33] = 0, c[38] = 4; /* 4 virtual sectors: 2,048 bytes */
    put32(c + 40, 26);
    memset(sec(&m, 26), 'B', S);
    {
        unsigned char boot[2048];
        struct ww_iso *iso;
        unsigned char *out = NULL;
        size_t olen = 0;
        memset(boot, 'B', sizeof(boot));
        ck_assert(has_file(&m, boot, sizeof(boot), &n, &whole)); /* its 2,048 bytes, as 7-Zip */
        ck_assert_int_eq(n, 2);
        /* a count of 1 (or 0): to the image's end, as 7-Zip reads it (review 19, F5) */
        c[38] = 1;
        iso = ww_iso_open(m.p, m.n * S, 100);
        ck_assert_int_eq(ww_iso_count(iso), 2);
        ck_assert_int_eq(ww_iso_file(iso, m.p, m.n * S, 1, 1 << 20, &out, &olen), WW_UNPACK_DONE);
        ck_assert_uint_eq(olen, (m.n - 26) * S);
        free(out);
        ww_iso_close(iso);
        c[38] = 4;
        c[33] = 2; /* a 1.44 MB floppy's image: past the image's end, what is there */
        ck_assert(!has_file(&m, boot, sizeof(boot), &n, &whole));
        ck_assert_int_eq(n, 2);
    }
    free(m.p);

    m = plain();
    ck_assert(!ww_iso_has_udf(m.p, m.n * S));
    memcpy(sec(&m, 18) + 1, "BEA01", 5);
    memcpy(sec(&m, 19) + 1, "NSR02", 5);
    memcpy(sec(&m, 20 + 1) + 1, "TEA01", 5);
    ck_assert(ww_iso_has_udf(m.p, m.n * S));
    memcpy(sec(&m, 19) + 1, "NSR03", 5);
    ck_assert(ww_iso_has_udf(m.p, m.n * S));
    /* a UDF-only image: no CD001 */
    memset(sec(&m, 16), 0, 2 * S);
    memcpy(sec(&m, 16) + 1, "BEA01", 5);
    memcpy(sec(&m, 17) + 1, "NSR02", 5);
    ck_assert(ww_iso_has_udf(m.p, m.n * S));
    ck_assert(!ww_iso_is(m.p, m.n * S));
    /* the sequence broken before NSR: not UDF */
    memset(sec(&m, 16), 0, S);
    ck_assert(!ww_iso_has_udf(m.p, m.n * S));
    free(m.p);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("iso");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_iso_plain_and_not_iso);
    tcase_add_test(tc, test_iso_multi_extent_joined);
    tcase_add_test(tc, test_iso_interleave_fields_ignored);
    tcase_add_test(tc, test_iso_review19_readings);
    tcase_add_test(tc, test_iso_libarchive_readings);
    tcase_add_test(tc, test_iso_big_directory_and_record_across_sectors);
    tcase_add_test(tc, test_iso_every_tree_read);
    tcase_add_test(tc, test_iso_extended_attribute_and_zisofs);
    tcase_add_test(tc, test_iso_loops_cuts_and_limit);
    tcase_add_test(tc, test_iso_el_torito_and_udf);
    suite_add_tcase(su, tc);
    sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
