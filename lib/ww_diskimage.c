/* lib/ww_diskimage.c - FAT volumes and partitioned disks (see ww_diskimage.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ww_diskimage.h"
#include "ww_filetype.h"

#define DISK_MAX_DEPTH 16           /* directories inside directories */
#define DISK_MAX_ENTRIES 200000     /* directory entries looked at, a walk */
#define DISK_MAX_VOLUMES 64         /* volumes read on one disk; more: not read (-1) */
#define DISK_MAX_EBR 128            /* boot records followed in an extended partition; more: -1 */
#define DISK_DIR_BYTES (65536 * 32) /* a directory's entries, at most */

static uint32_t le16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
    return le16(p) | le16(p + 2) << 16;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* <n> bytes at <at> lie in the image */
static int inside(size_t len, uint64_t at, uint64_t n)
{
    return at <= len && n <= len - at;
}

struct fat {
    const unsigned char *b;
    size_t len;
    unsigned bps, spc, type;          /* bytes a sector, sectors a cluster, 12, 16 or 32 */
    uint64_t fat_at;                  /* the active FAT */
    uint64_t root_at;                 /* FAT12/16: the fixed root directory, root_entries long */
    uint32_t root_entries, root_clus; /* FAT32: the root's first cluster */
    uint64_t data_at;                 /* cluster 2 */
    uint32_t clusters;                /* data clusters: 2 .. clusters + 1 */
};

/* The FAT boot sector <p> (512 bytes), as Windows's FAT driver and 7-Zip test one: a jump (e9,
 * eb, or 49 as some old disks have), sector and cluster sizes, reserved sectors, FATs (the media
 * byte is not looked at: 7-Zip does not). FAT32 when the BPB says so (no 16-bit FAT size, as
 * Windows and Linux tell it; or no root directory entries, as 7-Zip does), whatever the count of
 * clusters; else FAT12 under 4,085 clusters (7-Zip, Linux; Windows: 4,087), or <force> (12 or
 * 16) where the two rules part. 1 and *f, else 0. */
#define FAT_AMBIGUOUS(n) ((n) == 4085 || (n) == 4086) /* FAT16 to 7-Zip, FAT12 to Windows */

static int fat_bpb(const unsigned char *b, size_t len, uint64_t base, struct fat *f, unsigned force)
{
    const unsigned char *p = b + base;
    unsigned bps, spc, nfats, rsvd, rootent, active = 0;
    uint64_t fatsz, totsec, rootsec, meta;

    if (!inside(len, base, 512) || (p[0] != 0xEB && p[0] != 0xE9 && p[0] != 0x49))
        return 0;
    bps = le16(p + 11);
    spc = p[13];
    rsvd = le16(p + 14);
    nfats = p[16];
    rootent = le16(p + 17);
    totsec = le16(p + 19) != 0 ? le16(p + 19) : le32(p + 32);
    fatsz = le16(p + 22) != 0 ? le16(p + 22) : le32(p + 36);
    if ((bps != 512 && bps != 1024 && bps != 2048 && bps != 4096) || spc == 0 ||
        (spc & (spc - 1)) != 0 || rsvd == 0 || nfats == 0 || nfats > 4 || fatsz == 0 || totsec == 0)
        return 0;
    rootsec = ((uint64_t)rootent * 32 + bps - 1) / bps;
    meta = rsvd + nfats * fatsz + rootsec;
    if (meta >= totsec)
        return 0;
    memset(f, 0, sizeof(*f));
    f->b = b;
    f->len = len;
    f->bps = bps;
    f->spc = spc;
    f->clusters =
        (uint32_t)((totsec - meta) / spc < 0x0FFFFFF0u ? (totsec - meta) / spc : 0x0FFFFFF0u);
    if (le16(p + 22) == 0 || rootent == 0) {
        unsigned flags = le16(p + 40);
        f->type = 32;
        if (flags & 0x80) /* mirroring off: one FAT is active (7-Zip: past the FATs, FAT 0) */
            active = (flags & 0x0F) <= nfats ? flags & 0x0F : 0;
        f->root_clus = le32(p + 44);
    } else {
        f->type = force != 0 && FAT_AMBIGUOUS(f->clusters) ? force : f->clusters < 4085 ? 12 : 16;
    }
    f->fat_at = base + (rsvd + (uint64_t)active * fatsz) * bps;
    f->root_at = base + (rsvd + nfats * fatsz) * bps;
    f->root_entries = rootent;
    f->data_at = f->root_at + rootsec * bps;
    return 1;
}

/* The FAT's entry for cluster <c>: 1 and *next, 0 when it lies outside the image */
static int fat_next(const struct fat *f, uint32_t c, uint32_t *next)
{
    uint64_t off = f->type == 12 ? c + c / 2 : f->type == 16 ? (uint64_t)c * 2 : (uint64_t)c * 4;
    unsigned n = f->type == 32 ? 4 : 2;

    if (!inside(f->len, f->fat_at + off, n))
        return 0;
    if (f->type == 12) {
        uint32_t v = le16(f->b + f->fat_at + off);
        *next = c & 1 ? v >> 4 : v & 0xFFF;
    } else {
        *next = f->type == 16 ? le16(f->b + f->fat_at + off)
                              : le32(f->b + f->fat_at + off) & 0x0FFFFFFF;
    }
    return 1;
}

static int fat_end(const struct fat *f, uint32_t v)
{
    return v >= (f->type == 12 ? 0xFF8u : f->type == 16 ? 0xFFF8u : 0x0FFFFFF8u);
}

/* cluster <c>'s bytes, or 0 when it is no data cluster or lies outside the image */
static int cluster_at(const struct fat *f, uint32_t c, uint64_t *at, uint64_t *n)
{
    if (c < 2 || c - 2 >= f->clusters)
        return 0;
    *n = (uint64_t)f->spc * f->bps;
    *at = f->data_at + (uint64_t)(c - 2) * *n;
    return inside(f->len, *at, *n);
}

struct walk {
    size_t want, seen, most; /* the file wanted (SIZE_MAX: none, a count), files seen */
    long entries;            /* directory entries looked at */
    int bad, found;
    uint32_t clus, size; /* the file wanted */
};

static int dir_walk(const struct fat *f, struct walk *w, uint32_t clus, int depth);

/* <n> bytes of directory entries at <e>: 1 when the walk stops (the end mark, the file found,
 * enough counted, or bad) */
static int dir_entries(const struct fat *f, struct walk *w, const unsigned char *e, uint64_t n,
                       int depth)
{
    for (; n >= 32; e += 32, n -= 32) {
        unsigned attr = e[11];
        uint32_t clus;

        if (++w->entries > DISK_MAX_ENTRIES) {
            w->bad = 1;
            return 1;
        }
        if (e[0] == 0)
            return 1; /* no entry after this one */
        if (e[0] == 0xE5 || (attr & 0x3F) == 0x0F || (attr & 0x08))
            continue; /* deleted, a long name's part, the volume label */
        clus = le16(e + 26) | (f->type == 32 ? le16(e + 20) << 16 : 0);
        if (attr & 0x10) {
            if (memcmp(e, ".          ", 11) == 0 || memcmp(e, "..         ", 11) == 0)
                continue; /* "." and ".." (a name that only starts with a dot is a directory) */
            if (depth + 1 > DISK_MAX_DEPTH) {
                w->bad = 1;
                return 1;
            }
            if (clus != 0 && dir_walk(f, w, clus, depth + 1))
                return 1;
            continue;
        }
        if (w->seen == w->want) {
            w->found = 1;
            w->clus = clus;
            w->size = le32(e + 28);
            return 1;
        }
        if (++w->seen > w->most)
            return 1;
    }
    return 0;
}

/* The directory at cluster <clus> (0: FAT12/16's fixed root): 1 when the walk stops. What lies
 * past the image's bytes is not there for any reader (a cut download, libclamav's first sector
 * of a volume): a directory ends there, as it ends at a cluster no chain may hold or after as
 * many clusters as the volume has (a loop), where Windows stops reading it too. */
static int dir_walk(const struct fat *f, struct walk *w, uint32_t clus, int depth)
{
    uint32_t steps = 0;

    if (clus == 0) {
        uint64_t n = (uint64_t)f->root_entries * 32;
        if (f->root_at >= f->len)
            return 0;
        if (n > f->len - f->root_at)
            n = f->len - f->root_at;
        dir_entries(f, w, f->b + f->root_at, n, depth);
        return w->bad || w->found || w->seen > w->most;
    }
    /* a loop is found by Brent's method: the chain is compared with a cluster kept at each power
     * of two steps; a directory holds 65,536 entries at most (the FAT specification's bound) */
    uint32_t keep = clus, power = 1, lam = 0;
    uint64_t bytes = 0;

    while (!fat_end(f, clus)) {
        uint64_t at, n;
        if (++steps > f->clusters || !cluster_at(f, clus, &at, &n) || bytes >= DISK_DIR_BYTES)
            return 0;
        if (n > DISK_DIR_BYTES - bytes)
            n = DISK_DIR_BYTES - bytes;
        bytes += n;
        if (dir_entries(f, w, f->b + at, n, depth))
            return w->bad || w->found || w->seen > w->most; /* or the end mark: the next */
        if (!fat_next(f, clus, &clus) || clus == keep)
            return 0;
        if (++lam == power) {
            keep = clus;
            power *= 2;
            lam = 0;
        }
    }
    return 0;
}

/* The volumes of the image: their first bytes in *at (up to DISK_MAX_VOLUMES; more: -1, as for
 * an image that cannot be read) */
static int volumes(const unsigned char *b, size_t len, uint64_t *at)
{
    int k = ww_filetype_disk_kind(b, len), n = 0;
    unsigned sec = inside(len, 512, 92) && memcmp(b + 512, "EFI PART", 8) == 0     ? 512
                   : inside(len, 4096, 92) && memcmp(b + 4096, "EFI PART", 8) == 0 ? 4096
                                                                                   : 0;

    if (k == 1) {
        at[0] = 0;
        return 1;
    }
    if (k != 2)
        return -1;
    if (sec != 0) {
        /* a GPT (its header in sector 1 of 512 or 4096 bytes), whatever the MBR's entries say */
        uint64_t ents = le64(b + sec + 72), count = le32(b + sec + 80), esize = le32(b + sec + 84);
        if (esize < 128 || esize > 4096 || count > 1024 || ents > len / sec)
            return -1;
        ents *= sec;
        for (uint64_t e = 0; e < count; e++) {
            const unsigned char *p;
            static const unsigned char zero[16];
            if (!inside(len, ents + e * esize, 128))
                break; /* not there (a cut image) */
            p = b + ents + e * esize;
            if (memcmp(p, zero, 16) == 0 || le64(p + 32) >= len / sec)
                continue; /* unused, or past the image */
            if (n == DISK_MAX_VOLUMES)
                return -1;
            at[n++] = le64(p + 32) * sec;
        }
        return n;
    }
    for (int i = 0; i < 4; i++) {
        const unsigned char *e = b + 446 + 16 * i;
        uint64_t start = le32(e + 8);
        if (e[4] == 0)
            continue;
        if (e[4] == 0x05 || e[4] == 0x0F || e[4] == 0x85) {
            /* an extended partition: a chain of boot records, each with a logical partition
             * (from itself) and the next record (from the extended partition's start); a record
             * met again ends it */
            uint64_t ebr = start, seen[DISK_MAX_EBR] = {0};
            for (int j = 0;; j++) {
                const unsigned char *r;
                int again = 0;
                if (j == DISK_MAX_EBR)
                    return -1;
                for (int q = 0; q < j; q++)
                    again |= seen[q] == ebr;
                if (again || !inside(len, ebr * 512, 512))
                    break; /* a loop; or not there (a cut image) */
                seen[j] = ebr;
                r = b + ebr * 512;
                if (r[510] != 0x55 || r[511] != 0xAA)
                    break; /* Windows reads no partition from it */
                if (r[446 + 4] != 0) {
                    if (n == DISK_MAX_VOLUMES)
                        return -1;
                    at[n++] = (ebr + le32(r + 446 + 8)) * 512;
                }
                if (r[462 + 4] == 0)
                    break;
                ebr = start + le32(r + 462 + 8);
            }
            continue;
        }
        if (n == DISK_MAX_VOLUMES)
            return -1;
        at[n++] = start * 512;
    }
    return n;
}

/* Walks every FAT volume of the image for <w>: 1 done (found, counted, or the end), 0 a volume
 * that cannot be read (NTFS, exFAT, a bad directory). A volume whose type Windows and 7-Zip tell
 * apart (FAT_AMBIGUOUS) is walked both ways. */
static int disk_walk(const unsigned char *b, size_t len, struct walk *w, struct fat *out)
{
    uint64_t at[DISK_MAX_VOLUMES];
    int n = volumes(b, len, at);

    if (n < 0)
        return 0;
    for (int i = 0; i < n; i++) {
        for (unsigned force = 16; force != 0; force = force == 16 ? 12 : 0) {
            struct fat f;
            if (!fat_bpb(b, len, at[i], &f, force)) {
                if (inside(len, at[i], 16) && (memcmp(b + at[i] + 3, "NTFS    ", 8) == 0 ||
                                               memcmp(b + at[i] + 3, "EXFAT   ", 8) == 0))
                    return 0; /* Windows mounts these: not read here */
                break;        /* a filesystem Windows does not read (or none) */
            }
            if (dir_walk(&f, w, f.type == 32 ? f.root_clus : 0, 0)) {
                if (w->bad)
                    return 0;
                if (w->found) {
                    *out = f;
                    return 1;
                }
                if (w->seen > w->most)
                    return 1;
            }
            if (f.type == 32 || !FAT_AMBIGUOUS(f.clusters))
                break;
        }
    }
    return 1;
}

const char *ww_filetype_fs_image(const unsigned char *b, size_t len)
{
    /* ext2/3/4: the superblock's magic, a block of 1 KiB to 64 KiB, inodes and blocks, a revision
     * of 0 or 1 */
    if (len >= 2048 && le16(b + 1080) == 0xef53 && le32(b + 1048) <= 6 && le32(b + 1024) != 0 &&
        le32(b + 1028) != 0 && le32(b + 1100) <= 1)
        return "ext";
    for (size_t at = 0; at <= 512; at += 512) /* (cramfs may follow a 512-byte pad) */
        if (len >= at + 32 &&
            (memcmp(b + at, "\x45\x3d\xcd\x28", 4) == 0 ||
             memcmp(b + at, "\x28\xcd\x3d\x45", 4) == 0) &&
            memcmp(b + at + 16, "Compressed ROMFS", 16) == 0)
            return "cramfs";
    if (len >= 96 && ((memcmp(b, "hsqs", 4) == 0 && le16(b + 28) >= 1 && le16(b + 28) <= 4) ||
                      (memcmp(b, "sqsh", 4) == 0 && b[28] == 0 && b[29] >= 1 && b[29] <= 4)))
        return "squashfs";
    return NULL;
}

int ww_filetype_disk_kind(const unsigned char *b, size_t len)
{
    struct fat f;

    if (len >= 8 && (memcmp(b, "vhdxfile", 8) == 0 || memcmp(b, "conectix", 8) == 0))
        return 3; /* a VHDX; a dynamic VHD (its footer's copy first) */
    if (len >= 512 && (memcmp(b, "QFI\xfb", 4) == 0 || memcmp(b, "KDMV", 4) == 0 ||
                       (le32(b + 0x40) == 0xbeda107fu && memcmp(b, "<<< ", 4) == 0)))
        return 3; /* QEMU's qcow and qcow2, VMware's sparse VMDK, VirtualBox's VDI: 7-Zip opens
                   * the disk inside each (review 18, F12); not read here */
    if (len < 512)
        return 0;
    if (memcmp(b + 3, "NTFS    ", 8) == 0 || memcmp(b + 3, "EXFAT   ", 8) == 0)
        return b[510] == 0x55 && b[511] == 0xAA ? 3 : 0;
    if (fat_bpb(b, len < 512 ? 0 : 512, 0, &f, 0))
        return 1;
    if ((len >= 520 && memcmp(b + 512, "EFI PART", 8) == 0) ||
        (len >= 4104 && memcmp(b + 4096, "EFI PART", 8) == 0))
        return 2; /* a GPT, whatever its protective MBR says (7-Zip reads it so) */
    if (b[510] == 0x55 && b[511] == 0xAA) {
        /* a partition table: each entry's status 0 or 0x80, one entry or more used, each used
         * one starting after the table */
        int used = 0;
        for (int i = 0; i < 4; i++) {
            const unsigned char *e = b + 446 + 16 * i;
            if ((e[0] != 0 && e[0] != 0x80) || (e[4] != 0 && le32(e + 8) == 0))
                return 0;
            used += e[4] != 0;
        }
        return used > 0 ? 2 : 0;
    }
    return 0;
}

long ww_diskimage_count(const unsigned char *b, size_t len, size_t most)
{
    struct walk w = {.want = SIZE_MAX, .most = most};
    struct fat f;

    if (!disk_walk(b, len, &w, &f))
        return -1;
    return (long)w.seen;
}

enum ww_unpack_result ww_diskimage_file(const unsigned char *b, size_t len, size_t index,
                                        size_t limit, unsigned char **out, size_t *outlen)
{
    struct walk w = {.want = index, .most = SIZE_MAX - 1};
    struct fat f;
    enum ww_unpack_result res = WW_UNPACK_FAILED;
    unsigned char *p = NULL;
    size_t n = 0, want;
    uint32_t clus, steps = 0;

    *out = NULL;
    *outlen = 0;
    if (!disk_walk(b, len, &w, &f) || !w.found)
        return WW_UNPACK_FAILED;
    want = w.size < limit ? w.size : limit;
    if (want > 0 && (p = malloc(want)) == NULL)
        return WW_UNPACK_FAILED;
    for (clus = w.clus; n < want;) {
        uint64_t at, cn;
        if (++steps > f.clusters || !cluster_at(&f, clus, &at, &cn))
            break; /* a chain out of the volume or the image, or a loop */
        cn = cn < want - n ? cn : want - n;
        memcpy(p + n, b + at, (size_t)cn);
        n += (size_t)cn;
        if (n < want && (!fat_next(&f, clus, &clus) || fat_end(&f, clus)))
            break; /* the chain ends before the size */
    }
    if (n == want)
        res = w.size > limit ? WW_UNPACK_OVER : WW_UNPACK_DONE;
    if (n == 0) {
        free(p);
        p = NULL;
    }
    *out = p;
    *outlen = n;
    return res;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

enum ww_unpack_result ww_diskimage_vhd(const unsigned char *b, size_t len, size_t limit,
                                       unsigned char **out, size_t *outlen)
{
    uint64_t dyn, bat, size, want, bitmap;
    uint32_t entries, bs;
    enum ww_unpack_result res = WW_UNPACK_DONE;
    unsigned char *o;

    *out = NULL;
    *outlen = 0;
    /* the footer's copy at the start (a dynamic disk's; a fixed one has it at the end only) */
    if (len < 512 || memcmp(b, "conectix", 8) != 0 || be32(b + 60) != 3)
        return WW_UNPACK_FAILED; /* not dynamic: fixed (read as a disk) or differencing */
    dyn = be64(b + 16);
    size = be64(b + 48);
    if (!inside(len, dyn, 1024) || memcmp(b + dyn, "cxsparse", 8) != 0)
        return WW_UNPACK_FAILED;
    bat = be64(b + dyn + 16);
    entries = be32(b + dyn + 28);
    bs = be32(b + dyn + 32);
    if (bs < 512 || bs > (256u << 20) || (bs & (bs - 1)) != 0 ||
        !inside(len, bat, 4ull * entries) || (uint64_t)entries * bs < size)
        return WW_UNPACK_FAILED;
    bitmap = ((uint64_t)bs / 512 / 8 + 511) / 512 * 512; /* a block's sector bitmap, then it */
    want = size < limit ? size : limit;
    if (want == 0)
        return size > limit ? WW_UNPACK_OVER : WW_UNPACK_DONE;
    o = calloc(1, (size_t)want); /* a block not allocated reads as zeros */
    if (o == NULL)
        return WW_UNPACK_FAILED;
    for (uint64_t i = 0; i < entries && i * bs < want; i++) {
        uint32_t sec = be32(b + bat + 4 * i);
        uint64_t at = (uint64_t)sec * 512 + bitmap, n = want - i * bs < bs ? want - i * bs : bs;
        if (sec == 0xffffffffu)
            continue;
        if (!inside(len, at, n)) {
            if (at < len)
                memcpy(o + i * bs, b + at, len - (size_t)at);
            res = WW_UNPACK_FAILED; /* a block past the end: what is there */
            continue;
        }
        memcpy(o + i * bs, b + at, (size_t)n);
    }
    *out = o;
    *outlen = (size_t)want;
    return res != WW_UNPACK_DONE ? res : size > limit ? WW_UNPACK_OVER : WW_UNPACK_DONE;
}

/* A GUID as VHDX stores it: its first three fields little-endian */
static int guid_is(const unsigned char *p, uint32_t a, uint16_t b2, uint16_t c,
                   const unsigned char d[8])
{
    return le32(p) == a && le16(p + 4) == b2 && le16(p + 6) == c && memcmp(p + 8, d, 8) == 0;
}

enum ww_unpack_result ww_diskimage_vhdx(const unsigned char *b, size_t len, size_t limit,
                                        unsigned char **out, size_t *outlen)
{
    static const unsigned char bat_d[8] = {0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08};
    static const unsigned char meta_d[8] = {0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e};
    static const unsigned char par_d[8] = {0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b};
    static const unsigned char size_d[8] = {0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8};
    static const unsigned char lss_d[8] = {0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f};
    uint64_t bat = 0, batlen = 0, meta = 0, metalen = 0, size = 0, seq = 0, want, ratio;
    uint32_t bs = 0, lss = 0, flags = 0;
    const unsigned char *h = NULL, *r;
    enum ww_unpack_result res = WW_UNPACK_DONE;
    unsigned char *o;

    *out = NULL;
    *outlen = 0;
    if (len < 256 * 1024 || memcmp(b, "vhdxfile", 8) != 0)
        return WW_UNPACK_FAILED;
    for (int k = 1; k <= 2; k++) { /* the two headers: the later one by sequence number */
        const unsigned char *c = b + 65536 * (size_t)k;
        if (memcmp(c, "head", 4) == 0 && (h == NULL || le64(c + 8) > seq))
            h = c, seq = le64(c + 8);
    }
    if (h == NULL)
        return WW_UNPACK_FAILED;
    for (unsigned i = 0; i < 16; i++)
        if (h[48 + i] != 0)
            return WW_UNPACK_FAILED; /* a log to replay first: not read here */
    r = b + 196608;                  /* the region table (its copy at 256 KiB) */
    if (memcmp(r, "regi", 4) != 0)
        r = b + 262144;
    if (!inside(len, (uint64_t)(r - b), 65536) || memcmp(r, "regi", 4) != 0 || le32(r + 8) > 2047)
        return WW_UNPACK_FAILED;
    for (uint32_t i = 0; i < le32(r + 8); i++) {
        const unsigned char *e = r + 16 + 32 * i;
        if (guid_is(e, 0x2dc27766, 0xf623, 0x4200, bat_d))
            bat = le64(e + 16), batlen = le32(e + 24);
        else if (guid_is(e, 0x8b7ca206, 0x4790, 0x4b9a, meta_d))
            meta = le64(e + 16), metalen = le32(e + 24);
    }
    if (!inside(len, bat, batlen) || !inside(len, meta, metalen) || metalen < 32 ||
        memcmp(b + meta, "metadata", 8) != 0)
        return WW_UNPACK_FAILED;
    for (uint32_t i = 0; i < le16(b + meta + 10) && 32 + 32 * (uint64_t)(i + 1) <= metalen; i++) {
        const unsigned char *e = b + meta + 32 + 32 * i;
        uint64_t at = meta + le32(e + 16);
        if (!inside(len, at, 8))
            return WW_UNPACK_FAILED;
        if (guid_is(e, 0xcaa16737, 0xfa36, 0x4d43, par_d))
            bs = le32(b + at), flags = le32(b + at + 4);
        else if (guid_is(e, 0x2fa54224, 0xcd1b, 0x4876, size_d))
            size = le64(b + at);
        else if (guid_is(e, 0x8141bf1d, 0xa96f, 0x4709, lss_d))
            lss = le32(b + at);
    }
    if (bs < (1u << 20) || bs > (256u << 20) || (bs & (bs - 1)) != 0 || (flags & 2) != 0 ||
        (lss != 512 && lss != 4096))
        return WW_UNPACK_FAILED;            /* a differencing disk (its parent elsewhere) too */
    ratio = ((uint64_t)1 << 23) * lss / bs; /* payload blocks between two sector bitmap entries */
    want = size < limit ? size : limit;
    if (want == 0)
        return size > limit ? WW_UNPACK_OVER : WW_UNPACK_DONE;
    o = calloc(1, (size_t)want); /* blocks not present read as zeros */
    if (o == NULL)
        return WW_UNPACK_FAILED;
    for (uint64_t i = 0; i * bs < want; i++) {
        uint64_t k = i + i / ratio, e, at, n = want - i * bs < bs ? want - i * bs : bs;
        if (8 * (k + 1) > batlen) {
            res = WW_UNPACK_FAILED;
            break;
        }
        e = le64(b + bat + 8 * k);
        if ((e & 7) != 6) {
            if ((e & 7) == 7)
                res = WW_UNPACK_FAILED; /* partially present: the rest is in a parent */
            continue;
        }
        at = e >> 20 << 20;
        if (!inside(len, at, n)) {
            if (at < len)
                memcpy(o + i * bs, b + at, len - (size_t)at < n ? len - (size_t)at : (size_t)n);
            res = WW_UNPACK_FAILED;
            continue;
        }
        memcpy(o + i * bs, b + at, (size_t)n);
    }
    *out = o;
    *outlen = (size_t)want;
    return res != WW_UNPACK_DONE ? res : size > limit ? WW_UNPACK_OVER : WW_UNPACK_DONE;
}
