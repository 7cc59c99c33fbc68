/* t/check_diskimage.c - lib/ww_diskimage: FAT12, FAT16 and FAT32 volumes built here, alone and
 * on MBR (primary and logical partitions) and GPT disks; the active FAT, directories to any
 * depth, the entries Windows skips, chains cut or looping, an image cut short, what is not read
 * (NTFS, a dynamic VHD, too deep). */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ww_diskimage.h"
#include "ww_filetype.h"

/* A FAT volume being built: 512-byte sectors and clusters, 2 FATs */
struct vol {
    unsigned char *p;
    size_t n;
    unsigned type, fatsz;
    uint64_t fat_at, root_at, data_at;
    uint32_t next, root_used, root_clus;
};

static void put16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, v & 0xffff), put16(p + 2, v >> 16);
}

/* entry <c> of FAT <k> (-1: both) */
static void fat_set(struct vol *v, int k, uint32_t c, uint32_t val)
{
    for (int i = 0; i < 2; i++) {
        unsigned char *f = v->p + v->fat_at + (uint64_t)i * v->fatsz * 512;
        if (k >= 0 && k != i)
            continue;
        if (v->type == 12) {
            unsigned char *q = f + c + c / 2;
            uint32_t w = (uint32_t)q[0] | (uint32_t)q[1] << 8;
            w = c & 1 ? (w & 0x000f) | (val << 4) : (w & 0xf000) | (val & 0xfff);
            put16(q, w);
        } else if (v->type == 16) {
            put16(f + 2 * c, val);
        } else {
            put32(f + 4 * c, val);
        }
    }
}

static uint32_t eoc(const struct vol *v)
{
    return v->type == 12 ? 0xfff : v->type == 16 ? 0xffff : 0x0fffffff;
}

/* a FAT<type> volume: 12: 64 KiB; 16: 4 MiB; 32: 34 MiB (the least clusters of each by the
 * count's rule); <total> sectors when not 0 (a FAT32 BPB with fewer clusters: review 16, F1) */
static void vol_new_n(struct vol *v, unsigned type, uint32_t total)
{
    uint32_t rootent = type == 32 ? 0 : 64;

    if (total == 0)
        total = type == 12 ? 128 : type == 16 ? 8192 : 68000;
    unsigned char *b;

    memset(v, 0, sizeof(*v));
    v->type = type;
    v->fatsz = type == 12 ? 1 : type == 16 ? 32 : (total * 4 + 511) / 512;
    v->n = (size_t)total * 512;
    v->p = b = calloc(v->n, 1);
    ck_assert_ptr_nonnull(b);
    memcpy(b, "\xeb\x3c\x90MSWIN4.1", 11);
    put16(b + 11, 512);
    b[13] = 1;
    put16(b + 14, 1); /* reserved */
    b[16] = 2;
    put16(b + 17, rootent);
    if (total < 65536)
        put16(b + 19, total);
    else
        put32(b + 32, total);
    b[21] = 0xf8;
    if (type == 32) {
        put32(b + 36, v->fatsz);
        put32(b + 44, 2); /* the root at cluster 2 */
    } else {
        put16(b + 22, v->fatsz);
    }
    b[510] = 0x55, b[511] = 0xaa;
    v->fat_at = 512;
    v->root_at = v->fat_at + 2 * (uint64_t)v->fatsz * 512;
    v->data_at = v->root_at + (uint64_t)rootent * 32;
    v->next = 2;
    fat_set(v, -1, 0, 0x0ffffff8 & eoc(v));
    fat_set(v, -1, 1, eoc(v));
    if (type == 32) {
        v->root_clus = v->next++;
        fat_set(v, -1, v->root_clus, eoc(v));
    }
}

static void vol_new(struct vol *v, unsigned type)
{
    vol_new_n(v, type, 0);
}

static unsigned char *clus_p(struct vol *v, uint32_t c)
{
    return v->p + v->data_at + (uint64_t)(c - 2) * 512;
}

/* <n> bytes in a chain of clusters (every other one: a chain that is not contiguous) */
static uint32_t vol_data(struct vol *v, const unsigned char *d, size_t n)
{
    uint32_t first = v->next, c = first;
    size_t k = 0;

    do {
        uint32_t nx = c + 2;
        size_t m = n - k < 512 ? n - k : 512;
        memcpy(clus_p(v, c), d + k, m);
        k += m;
        fat_set(v, -1, c, k < n ? nx : eoc(v));
        v->next = nx;
        c = nx;
    } while (k < n);
    v->next++;
    return first;
}

static void dirent(unsigned char *e, const char *name11, unsigned attr, uint32_t clus,
                   uint32_t size)
{
    memcpy(e, name11, 11);
    e[11] = (unsigned char)attr;
    put16(e + 20, clus >> 16);
    put16(e + 26, clus & 0xffff);
    put32(e + 28, size);
}

/* a root entry (the root's first 16 entries; FAT32: its cluster) */
static unsigned char *root_entry(struct vol *v)
{
    unsigned char *r = v->type == 32 ? clus_p(v, v->root_clus) : v->p + v->root_at;
    ck_assert_uint_lt(v->root_used, 16);
    return r + 32 * v->root_used++;
}

/* a directory cluster; <parent> gets its entry <name11> */
static uint32_t vol_dir(struct vol *v, unsigned char *parent_entry, const char *name11)
{
    uint32_t c = v->next++;
    fat_set(v, -1, c, eoc(v));
    dirent(clus_p(v, c), ".          ", 0x10, c, 0);
    dirent(clus_p(v, c) + 32, "..         ", 0x10, 0, 0);
    dirent(parent_entry, name11, 0x10, c, 0);
    return c;
}

static unsigned char data[300000];

static void fill(void)
{
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 2654435761u >> 24);
}

static void expect_file(const unsigned char *b, size_t len, size_t index, const unsigned char *want,
                        size_t wn, enum ww_unpack_result wr, const char *what)
{
    unsigned char *out = NULL;
    size_t n = 99;
    enum ww_unpack_result r = ww_diskimage_file(b, len, index, SIZE_MAX - 1, &out, &n);
    ck_assert_msg(r == wr, "%s: result %d, want %d", what, (int)r, (int)wr);
    ck_assert_msg(n == wn && (wn == 0 || memcmp(out, want, wn) == 0), "%s: %zu bytes, want %zu",
                  what, n, wn);
    free(out);
}

START_TEST(test_diskimage_fat_types)
{
    static const unsigned types[] = {12, 16, 32};
    fill();
    for (int t = 0; t < 3; t++) {
        struct vol v;
        unsigned char *e;
        uint32_t d1, d2;
        vol_new(&v, types[t]);
        ck_assert_int_eq(ww_filetype_disk_kind(v.p, v.n), 1);
        ck_assert_int_eq(ww_diskimage_count(v.p, v.n, 100), 0);
        /* a label, a deleted file, a long name's part, then a file */
        dirent(root_entry(&v), "VOLUME     ", 0x08, 0, 0);
        dirent(root_entry(&v),
               "\xe5"
               "ELETED TXT",
               0x20, vol_data(&v, data, 100), 100);
        dirent(root_entry(&v), "ALONGNAME  ", 0x0f, 0, 0);
        dirent(root_entry(&v), "A       TXT", 0x20, vol_data(&v, data, 3000), 3000);
        /* a file two directories down, an empty file, a directory with a "." name */
        d1 = vol_dir(&v, root_entry(&v), "SUB        ");
        d2 = vol_dir(&v, clus_p(&v, d1) + 64, "DEEPER     ");
        dirent(clus_p(&v, d2) + 64, "CLAM    EXE", 0x20, vol_data(&v, data + 5, 1500), 1500);
        dirent(clus_p(&v, d2) + 96, "EMPTY      ", 0x20, 0, 0);
        e = root_entry(&v);
        dirent(e, "B       BIN", 0x27, vol_data(&v, data + 7, 513), 513); /* hidden, system */
        ck_assert_int_eq(ww_diskimage_count(v.p, v.n, 100), 4);
        ck_assert_int_eq(ww_diskimage_count(v.p, v.n, 1), 2); /* most + 1 counted */
        expect_file(v.p, v.n, 0, data, 3000, WW_UNPACK_DONE, "a file");
        expect_file(v.p, v.n, 1, data + 5, 1500, WW_UNPACK_DONE, "two directories down");
        expect_file(v.p, v.n, 2, NULL, 0, WW_UNPACK_DONE, "empty");
        expect_file(v.p, v.n, 3, data + 7, 513, WW_UNPACK_DONE, "hidden");
        expect_file(v.p, v.n, 4, NULL, 0, WW_UNPACK_FAILED, "no such file");
        {
            unsigned char *out = NULL;
            size_t n = 0;
            ck_assert_int_eq(ww_diskimage_file(v.p, v.n, 0, 1000, &out, &n), WW_UNPACK_OVER);
            ck_assert(n == 1000 && memcmp(out, data, 1000) == 0);
            free(out);
        }
        /* the end mark: no entry after it is read */
        memset(e, 0, 1);
        ck_assert_int_eq(ww_diskimage_count(v.p, v.n, 100), 3);
        e[0] = 'B';
        /* a chain cut before the file's size: what came (its clusters whole), then a failure */
        {
            unsigned char want[1536] = {0};
            memcpy(want, data + 5, 1500);
            put32(clus_p(&v, d2) + 64 + 28, 5000);
            expect_file(v.p, v.n, 1, want, 1536, WW_UNPACK_FAILED, "a chain cut short");
        }
        /* a directory whose chain loops (no end mark in it): read once, then it ends */
        for (int k = 3; k < 16; k++)
            clus_p(&v, d1)[32 * k] = 0xe5;
        fat_set(&v, -1, d1, d1);
        ck_assert_int_eq(ww_diskimage_count(v.p, v.n, 100), 4);
        fat_set(&v, -1, d1, d2); /* SUB's chain runs into DEEPER's, which ends */
        ck_assert_int_eq(ww_diskimage_count(v.p, v.n, 100), 6);
        free(v.p);
    }
}
END_TEST

/* <v> on a GPT disk: an MBR entry of <mbr_type> (0xee: protective), the header in sector 1 with
 * <entries> entries in sector 2, the first one the volume at sector 34 */
static unsigned char *gpt_disk(const struct vol *v, unsigned mbr_type, uint32_t entries,
                               size_t *len)
{
    unsigned char *d;
    *len = 34 * 512 + v->n;
    d = calloc(*len, 1);
    ck_assert_ptr_nonnull(d);
    d[446 + 4] = (unsigned char)mbr_type;
    put32(d + 446 + 8, 1);
    d[510] = 0x55, d[511] = 0xaa;
    memcpy(d + 512, "EFI PART", 8);
    put32(d + 512 + 72, 2);
    put32(d + 512 + 80, entries);
    put32(d + 512 + 84, 128);
    memset(d + 1024, 0xa2, 16); /* a type */
    put32(d + 1024 + 32, 34);   /* its first sector */
    memcpy(d + 34 * 512, v->p, v->n);
    return d;
}

/* attack review 16: what 7-Zip (or Windows) reads and the first reader did not */
START_TEST(test_diskimage_review16)
{
    struct vol v;
    unsigned char *d;
    size_t len;
    uint32_t sub;
    fill();
    /* F1: a FAT32 BPB with 2,000 clusters (FAT32 by its fields, not by the count) */
    vol_new_n(&v, 32, 2100);
    dirent(root_entry(&v), "A       BIN", 0x20, vol_data(&v, data, 700), 700);
    ck_assert_int_eq(ww_filetype_disk_kind(v.p, v.n), 1);
    expect_file(v.p, v.n, 0, data, 700, WW_UNPACK_DONE, "a small FAT32");
    /* F2: a media byte Windows would refuse, 7-Zip does not look at */
    v.p[21] = 0;
    expect_file(v.p, v.n, 0, data, 700, WW_UNPACK_DONE, "media byte 0");
    /* F4: a directory whose name starts with a dot */
    sub = vol_dir(&v, root_entry(&v), ".A         ");
    dirent(clus_p(&v, sub) + 64, "CLAM    EXE", 0x20, vol_data(&v, data + 3, 900), 900);
    ck_assert_int_eq(ww_diskimage_count(v.p, v.n, 100), 2);
    expect_file(v.p, v.n, 1, data + 3, 900, WW_UNPACK_DONE, "in .A");
    free(v.p);
    /* the cluster counts where Windows (FAT12 under 4,087) and 7-Zip (under 4,085) part: the
     * volume is read both ways (4,154 sectors: 1 reserved, 2 FATs of 32, 4 of root: 4,085) */
    vol_new_n(&v, 16, 4154);
    dirent(root_entry(&v), "A       BIN", 0x20, vol_data(&v, data, 600), 600);
    ck_assert_int_eq(ww_diskimage_count(v.p, v.n, 100), 2);
    expect_file(v.p, v.n, 0, data, 600, WW_UNPACK_DONE, "4,085 clusters as FAT16");
    free(v.p);
    /* F8: a GPT behind an MBR entry that is not 0xee */
    vol_new(&v, 12);
    dirent(root_entry(&v), "A       BIN", 0x20, vol_data(&v, data, 600), 600);
    d = gpt_disk(&v, 0x07, 1, &len);
    ck_assert_int_eq(ww_diskimage_count(d, len, 100), 1);
    d[510] = 0; /* no MBR at all */
    ck_assert_int_eq(ww_filetype_disk_kind(d, len), 2);
    expect_file(d, len, 0, data, 600, WW_UNPACK_DONE, "GPT, no MBR");
    free(d);
    /* F9: more logical partitions than are read: not read at all; a chain that loops: once */
    len = 512 + 70 * 512 + v.n;
    d = calloc(len, 1);
    ck_assert_ptr_nonnull(d);
    d[446 + 4] = 0x0f;
    put32(d + 446 + 8, 1);
    d[510] = 0x55, d[511] = 0xaa;
    for (int j = 0; j < 70; j++) { /* EBR j at sector 1 + j, its partition: the volume at 71 */
        unsigned char *r = d + 512 + 512 * j;
        r[446 + 4] = 0x01;
        put32(r + 446 + 8, (uint32_t)(70 - j));
        r[462 + 4] = j < 69 ? 0x05 : 0;
        put32(r + 462 + 8, (uint32_t)(j + 1));
        r[510] = 0x55, r[511] = 0xaa;
    }
    memcpy(d + 71 * 512, v.p, v.n);
    ck_assert_int_eq(ww_diskimage_count(d, len, 1000), -1);
    put32(d + 512 + 462 + 8, 0); /* EBR 0 points back at itself */
    ck_assert_int_eq(ww_diskimage_count(d, len, 1000), 1);
    free(d);
    free(v.p);
}
END_TEST

START_TEST(test_diskimage_active_fat)
{
    struct vol v;
    uint32_t c;
    fill();
    /* FAT32 with mirroring off and FAT 1 active: its chain is the one read */
    vol_new(&v, 32);
    c = vol_data(&v, data, 1500); /* clusters c, c + 2, c + 4 */
    dirent(root_entry(&v), "A       BIN", 0x20, c, 1500);
    memcpy(clus_p(&v, c + 1), data + 10000, 512); /* FAT 1's second cluster */
    fat_set(&v, 1, c, c + 1);
    fat_set(&v, 1, c + 1, c + 4);
    {
        unsigned char want[1500];
        memcpy(want, data, 512);
        memcpy(want + 512, data + 10000, 512);
        memcpy(want + 1024, data + 1024, 476);
        expect_file(v.p, v.n, 0, data, 1500, WW_UNPACK_DONE, "FAT 0, mirrored");
        put16(v.p + 40, 0x81);
        expect_file(v.p, v.n, 0, want, 1500, WW_UNPACK_DONE, "FAT 1 active");
        put16(v.p + 40, 0x8f); /* a FAT that is not there: FAT 0, as 7-Zip reads it (review 16) */
        expect_file(v.p, v.n, 0, data, 1500, WW_UNPACK_DONE, "FAT 15 active of 2");
    }
    free(v.p);
}
END_TEST

/* <v> as partition 1 of an MBR disk (from sector 1), or in a logical partition */
static unsigned char *mbr_disk(const struct vol *v, int logical, size_t *len)
{
    size_t pre = logical ? 2 * 512 : 512;
    unsigned char *d = calloc(pre + v->n, 1), *e = d + 446;
    ck_assert_ptr_nonnull(d);
    e[0] = 0x80;
    e[4] = logical ? 0x0f : 0x0c;
    put32(e + 8, 1);
    put32(e + 12, (uint32_t)(v->n / 512 + (logical ? 1 : 0)));
    d[510] = 0x55, d[511] = 0xaa;
    if (logical) { /* the extended partition's boot record at sector 1, its partition after */
        unsigned char *r = d + 512;
        r[446 + 4] = 0x0c;
        put32(r + 446 + 8, 1);
        put32(r + 446 + 12, (uint32_t)(v->n / 512));
        r[510] = 0x55, r[511] = 0xaa;
    }
    memcpy(d + pre, v->p, v->n);
    *len = pre + v->n;
    return d;
}

START_TEST(test_diskimage_disks)
{
    struct vol v;
    unsigned char *d;
    size_t len;
    fill();
    vol_new(&v, 16);
    dirent(root_entry(&v), "A       BIN", 0x20, vol_data(&v, data, 2000), 2000);
    for (int logical = 0; logical < 2; logical++) {
        d = mbr_disk(&v, logical, &len);
        ck_assert_int_eq(ww_filetype_disk_kind(d, len), 2);
        ck_assert_int_eq(ww_diskimage_count(d, len, 100), 1);
        expect_file(d, len, 0, data, 2000, WW_UNPACK_DONE, logical ? "logical" : "primary");
        /* cut: what lies past the end is not there (a directory ends there), a file cut short
         * fails with what came */
        ck_assert_int_eq(ww_diskimage_count(d, 600, 100), 0);
        free(d);
    }
    /* a GPT disk: a protective MBR, the header in sector 1, the entries in sector 2 */
    d = gpt_disk(&v, 0xee, 4, &len);
    put32(d + 1024 + 128 + 32, 2000000); /* an empty entry: not read */
    memset(d + 1024 + 256, 0xa2, 16);    /* past the image: not read */
    put32(d + 1024 + 256 + 32, 4000000);
    ck_assert_int_eq(ww_filetype_disk_kind(d, len), 2);
    ck_assert_int_eq(ww_diskimage_count(d, len, 100), 1);
    expect_file(d, len, 0, data, 2000, WW_UNPACK_DONE, "GPT");
    /* an NTFS partition (no reserved sectors, no FAT: not a FAT volume): not read */
    memcpy(d + 34 * 512 + 3, "NTFS    ", 8);
    put16(d + 34 * 512 + 14, 0);
    d[34 * 512 + 16] = 0;
    ck_assert_int_eq(ww_diskimage_count(d, len, 100), -1);
    free(d);
    free(v.p);
}
END_TEST

START_TEST(test_diskimage_not_read)
{
    struct vol v;
    unsigned char b[4096] = {0};
    uint32_t c, parent;
    unsigned char *e;
    fill();
    memcpy(b, "conectix", 8);
    ck_assert_int_eq(ww_filetype_disk_kind(b, sizeof(b)), 3);
    ck_assert_int_eq(ww_diskimage_count(b, sizeof(b), 100), -1);
    memcpy(b, "vhdxfile", 8);
    ck_assert_int_eq(ww_filetype_disk_kind(b, sizeof(b)), 3);
    /* qcow2, a sparse VMDK, a VDI (7-Zip opens the disk inside: review 18, F12) */
    memcpy(b, "QFI\xfb\0\0\0\x03", 8);
    ck_assert_int_eq(ww_filetype_disk_kind(b, sizeof(b)), 3);
    ck_assert_int_eq(ww_diskimage_count(b, sizeof(b), 100), -1);
    memcpy(b, "KDMV\x01\0\0\0", 8);
    ck_assert_int_eq(ww_filetype_disk_kind(b, sizeof(b)), 3);
    memcpy(b, "<<< Oracle VM VirtualBox Disk Image >>>\n", 40);
    put32(b + 0x40, 0xbeda107fu);
    ck_assert_int_eq(ww_filetype_disk_kind(b, sizeof(b)), 3);
    ck_assert_int_eq(ww_diskimage_count(b, sizeof(b), 100), -1);
    memset(b, 0, 0x44);
    memcpy(b, "\xeb\x52\x90NTFS    ", 11);
    b[510] = 0x55, b[511] = 0xaa;
    ck_assert_int_eq(ww_filetype_disk_kind(b, sizeof(b)), 3);
    ck_assert_int_eq(ww_diskimage_count(b, sizeof(b), 100), -1);
    /* not a disk: a boot sector's mark with no partition, a status byte out of place */
    memset(b, 0, sizeof(b));
    b[510] = 0x55, b[511] = 0xaa;
    ck_assert_int_eq(ww_filetype_disk_kind(b, sizeof(b)), 0);
    b[446 + 4] = 0x0c;
    put32(b + 446 + 8, 1);
    b[446 + 16] = 0x12;
    ck_assert_int_eq(ww_filetype_disk_kind(b, sizeof(b)), 0);
    ck_assert_int_eq(ww_filetype_disk_kind(b, 100), 0);
    /* directories 17 deep: not read */
    vol_new(&v, 12);
    e = root_entry(&v);
    parent = 0;
    for (int i = 0; i < 17; i++) {
        c = vol_dir(&v, e, "D          ");
        e = clus_p(&v, c) + 64;
        (void)parent;
    }
    dirent(e, "CLAM    EXE", 0x20, vol_data(&v, data, 100), 100);
    ck_assert_int_eq(ww_diskimage_count(v.p, v.n, 100), -1);
    free(v.p);
}
END_TEST

static void put32be(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16),
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* A dynamic VHD of the <n> bytes at <disk> (4 KiB blocks; all-zero blocks not allocated): its
 * length; <type> the disk type (3 dynamic) */
static size_t vhd_of(unsigned char *out, const unsigned char *disk, size_t n, uint32_t type)
{
    size_t bs = 4096, nb = (n + bs - 1) / bs, at = 1536 + (4 * nb + 511) / 512 * 512;
    memset(out, 0, at);
    memcpy(out, "conectix", 8);
    put32be(out + 20, 512); /* the dynamic header at 512 */
    put32be(out + 52, (uint32_t)n);
    put32be(out + 60, type);
    memcpy(out + 512, "cxsparse", 8);
    put32be(out + 512 + 20, 1536); /* the allocation table */
    put32be(out + 512 + 28, (uint32_t)nb);
    put32be(out + 512 + 32, (uint32_t)bs);
    for (size_t i = 0; i < nb; i++) {
        size_t k = n - i * bs < bs ? n - i * bs : bs, z = 0;
        while (z < k && disk[i * bs + z] == 0)
            z++;
        if (z == k) {
            put32be(out + 1536 + 4 * i, 0xffffffffu); /* not allocated */
            continue;
        }
        put32be(out + 1536 + 4 * i, (uint32_t)(at / 512));
        memset(out + at, 0xff, 512); /* the sector bitmap */
        memset(out + at + 512, 0, bs);
        memcpy(out + at + 512, disk + i * bs, k);
        at += 512 + bs;
    }
    return at;
}

/* A dynamic VHD (Windows mounts it): the disk inside, zeros where no block is allocated */
START_TEST(test_diskimage_dynamic_vhd)
{
    struct vol v;
    unsigned char *h, *out = NULL;
    size_t n, olen = 0;

    vol_new(&v, 12);
    v.p[40000] = 7; /* so that some block has data in the middle, others none */
    h = malloc(v.n * 2 + 8192);
    ck_assert_ptr_nonnull(h);
    n = vhd_of(h, v.p, v.n, 3);
    ck_assert_int_eq(ww_filetype_disk_kind(h, n), 3);
    ck_assert_int_eq(ww_diskimage_vhd(h, n, 1 << 20, &out, &olen), WW_UNPACK_DONE);
    ck_assert_uint_eq(olen, v.n);
    ck_assert(memcmp(out, v.p, v.n) == 0);
    ck_assert_int_gt(ww_diskimage_count(out, olen, 100), -1); /* the FAT volume inside reads */
    free(out);
    /* the limit: that much of the disk */
    ck_assert_int_eq(ww_diskimage_vhd(h, n, 1000, &out, &olen), WW_UNPACK_OVER);
    ck_assert_uint_eq(olen, 1000);
    ck_assert(memcmp(out, v.p, 1000) == 0);
    free(out);
    /* cut: what is there, failed */
    ck_assert_int_eq(ww_diskimage_vhd(h, n - 100, 1 << 20, &out, &olen), WW_UNPACK_FAILED);
    free(out);
    /* a differencing disk (its parent elsewhere), a fixed one: not this reader's */
    put32be(h + 60, 4);
    ck_assert_int_eq(ww_diskimage_vhd(h, n, 1 << 20, &out, &olen), WW_UNPACK_FAILED);
    ck_assert_ptr_null(out);
    put32be(h + 60, 3);
    h[512] = 'x'; /* no dynamic header */
    ck_assert_int_eq(ww_diskimage_vhd(h, n, 1 << 20, &out, &olen), WW_UNPACK_FAILED);
    h[512] = 'c';
    put32be(h + 512 + 32, 3000); /* a block size not a power of 2 */
    ck_assert_int_eq(ww_diskimage_vhd(h, n, 1 << 20, &out, &olen), WW_UNPACK_FAILED);
    free(h);
    free(v.p);
}
END_TEST

static void put32le(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16),
    p[3] = (unsigned char)(v >> 24);
}

static void put64le(unsigned char *p, uint64_t v)
{
    put32le(p, (uint32_t)v), put32le(p + 4, (uint32_t)(v >> 32));
}

/* a GUID as VHDX stores it (first fields little-endian), from its 16 bytes as written */
static void guid_put(unsigned char *p, uint32_t a, uint16_t b2, uint16_t c, const char *d8)
{
    put32le(p, a), put16(p + 4, b2), put16(p + 6, c);
    memcpy(p + 8, d8, 8);
}

/* A VHDX of the <n> bytes at <disk> (at most 1 MiB: one block): 5 MiB */
static unsigned char *vhdx_of(const unsigned char *disk, size_t n, size_t *len)
{
    const size_t M = 1 << 20;
    unsigned char *b = calloc(1, 5 * M), *m;

    ck_assert_ptr_nonnull(b);
    ck_assert_uint_le(n, M);
    memcpy(b, "vhdxfile", 8);
    memcpy(b + 65536, "head", 4);
    put64le(b + 65536 + 8, 1);
    for (size_t o = 196608; o <= 262144; o += 65536) {
        memcpy(b + o, "regi", 4);
        put32le(b + o + 8, 2);
        guid_put(b + o + 16, 0x2dc27766, 0xf623, 0x4200, "\x9d\x64\x11\x5e\x9b\xfd\x4a\x08");
        put64le(b + o + 32, 3 * M), put32le(b + o + 40, (uint32_t)M);
        guid_put(b + o + 48, 0x8b7ca206, 0x4790, 0x4b9a, "\xb8\xfe\x57\x5f\x05\x0f\x88\x6e");
        put64le(b + o + 64, 2 * M), put32le(b + o + 72, (uint32_t)M);
    }
    m = b + 2 * M;
    memcpy(m, "metadata", 8);
    put16(m + 10, 3);
    guid_put(m + 32, 0xcaa16737, 0xfa36, 0x4d43, "\xb3\xb6\x33\xf0\xaa\x44\xe7\x6b");
    put32le(m + 48, 65536);
    put32le(m + 65536, (uint32_t)M); /* 1 MiB blocks, no parent */
    guid_put(m + 64, 0x2fa54224, 0xcd1b, 0x4876, "\xb2\x11\x5d\xbe\xd8\x3b\xf4\xb8");
    put32le(m + 80, 65536 + 4096);
    put64le(m + 65536 + 4096, n);
    guid_put(m + 96, 0x8141bf1d, 0xa96f, 0x4709, "\xba\x47\xf2\x33\xa8\xfa\xab\x5f");
    put32le(m + 112, 65536 + 8192);
    put32le(m + 65536 + 8192, 512);
    put64le(b + 3 * M, (uint64_t)4 << 20 | 6); /* block 0 at 4 MiB, fully present */
    memcpy(b + 4 * M, disk, n);
    *len = 5 * M;
    return b;
}

/* A VHDX (Windows 8 and later mount it): the disk inside */
/* File system images 7-Zip opens and nothing here reads (attack review 21, B4): told, so that the
 * deep scan calls them unsupported, not clean; near misses are none */
START_TEST(test_diskimage_fs_images)
{
    static unsigned char b[4096];

    memset(b, 0, sizeof(b));
    ck_assert_ptr_null(ww_filetype_fs_image(b, sizeof(b)));
    /* ext2: inodes, blocks, 1 KiB blocks (log 0), revision 1, the magic */
    b[1024] = 16;
    b[1028] = 64;
    b[1100] = 1;
    b[1080] = 0x53;
    b[1081] = 0xef;
    ck_assert_str_eq(ww_filetype_fs_image(b, sizeof(b)), "ext");
    ck_assert_ptr_null(ww_filetype_fs_image(b, 1500)); /* cut before its superblock's end */
    b[1100] = 7;                                       /* no such revision */
    ck_assert_ptr_null(ww_filetype_fs_image(b, sizeof(b)));
    memset(b, 0, sizeof(b));
    memcpy(b, "\x45\x3d\xcd\x28", 4);
    memcpy(b + 16, "Compressed ROMFS", 16);
    ck_assert_str_eq(ww_filetype_fs_image(b, sizeof(b)), "cramfs");
    memcpy(b + 16, "Compressed ROMFZ", 16);
    ck_assert_ptr_null(ww_filetype_fs_image(b, sizeof(b)));
    memset(b, 0, sizeof(b));
    memcpy(b, "hsqs", 4);
    b[28] = 4;
    ck_assert_str_eq(ww_filetype_fs_image(b, sizeof(b)), "squashfs");
    b[28] = 9;
    ck_assert_ptr_null(ww_filetype_fs_image(b, sizeof(b)));
}
END_TEST

START_TEST(test_diskimage_vhdx)
{
    struct vol v;
    unsigned char *h, *out = NULL;
    size_t n, olen = 0;

    vol_new(&v, 12);
    h = vhdx_of(v.p, v.n, &n);
    ck_assert_int_eq(ww_filetype_disk_kind(h, n), 3);
    ck_assert_int_eq(ww_diskimage_vhdx(h, n, 1 << 20, &out, &olen), WW_UNPACK_DONE);
    ck_assert_uint_eq(olen, v.n);
    ck_assert(memcmp(out, v.p, v.n) == 0);
    free(out);
    ck_assert_int_eq(ww_diskimage_vhdx(h, n, 1000, &out, &olen), WW_UNPACK_OVER);
    ck_assert_uint_eq(olen, 1000);
    free(out);
    /* the header's copy at 128 KiB, with a later sequence number, is the one read: the same */
    memcpy(h + 131072, h + 65536, 4096);
    h[131072 + 8] = 2;
    ck_assert_int_eq(ww_diskimage_vhdx(h, n, 1 << 20, &out, &olen), WW_UNPACK_DONE);
    free(out);
    /* the region table's copy when the first is gone */
    memset(h + 196608, 0, 4);
    ck_assert_int_eq(ww_diskimage_vhdx(h, n, 1 << 20, &out, &olen), WW_UNPACK_DONE);
    free(out);
    /* a block not present: zeros */
    h[3 << 20] = 0;
    ck_assert_int_eq(ww_diskimage_vhdx(h, n, 1 << 20, &out, &olen), WW_UNPACK_DONE);
    ck_assert(out[0] == 0 && out[v.n - 1] == 0);
    free(out);
    h[3 << 20] = 6;
    /* cut inside the block: what is there, failed */
    ck_assert_int_eq(ww_diskimage_vhdx(h, (4 << 20) + 100, 1 << 20, &out, &olen), WW_UNPACK_FAILED);
    ck_assert(memcmp(out, v.p, 100) == 0);
    free(out);
    /* a log to replay, a parent: not read */
    h[131072 + 48] = 1;
    ck_assert_int_eq(ww_diskimage_vhdx(h, n, 1 << 20, &out, &olen), WW_UNPACK_FAILED);
    h[131072 + 48] = 0;
    h[(2 << 20) + 65536 + 4] = 2;
    ck_assert_int_eq(ww_diskimage_vhdx(h, n, 1 << 20, &out, &olen), WW_UNPACK_FAILED);
    ck_assert_ptr_null(out);
    free(h);
    free(v.p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("diskimage");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_diskimage_fat_types);
    tcase_add_test(tc, test_diskimage_active_fat);
    tcase_add_test(tc, test_diskimage_review16);
    tcase_add_test(tc, test_diskimage_disks);
    tcase_add_test(tc, test_diskimage_not_read);
    tcase_add_test(tc, test_diskimage_dynamic_vhd);
    tcase_add_test(tc, test_diskimage_vhdx);
    tcase_add_test(tc, test_diskimage_fs_images);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
