/* lib/ww_iso.c - ISO 9660 images as 7-Zip, libarchive and Windows read them (see ww_iso.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ww_common.h"
#include "ww_iso.h"
#include "ww_u64set.h"

#define ISO_SECTOR 2048u
#define ISO_FIRST_VD 16u
#define ISO_MAX_VD 256u          /* volume descriptors read before giving up on a terminator */
#define ISO_MAX_RECORDS 1000000u /* directory records in all: past it, not read whole */
#define ISO_MAX_DIRS 100000u     /* directories queued in all */
#define ISO_MAX_BOOT 2048u       /* El Torito boot entries (a catalog of 32 sectors) */
#define ISO_ZF_MAX_BLOCK_LOG 17u /* zisofs block sizes: 32, 64 or 128 KiB */

struct iso_ext {
    uint64_t off, len;
};

struct iso_file {
    size_t first, n; /* its extents: ext[first .. first + n - 1], in order */
    uint64_t size;   /* their sum */
    int zisofs;      /* Rock Ridge ZF: the extents hold a zisofs stream */
};

struct ww_iso {
    struct iso_file *files;
    size_t nfiles, capf;
    struct iso_ext *ext;
    size_t next, cape;
    struct ww_u64set dirs, dirs_lbs; /* directories read (extent << 32 | size): by 2,048-byte
                                      * blocks, by the descriptor's */
    size_t *fslot;                   /* files listed: an open hash table of their index + 1 */
    size_t fslot_cap;
    uint64_t records;
    size_t most;
    const unsigned char *img; /* the image, for Rock Ridge continuation areas */
    size_t img_len;
    uint32_t bs;  /* the bytes of a logical block in the walk under way: 2,048 (7-Zip), or the
                   * descriptor's own (libarchive: review 19, F7) */
    unsigned skp; /* Rock Ridge: the bytes every record's system use area skips (SP's LEN_SKP) */
    int bad;      /* some directory or descriptor could not be read whole */
    int full;
};

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned le16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

int ww_iso_is(const unsigned char *b, size_t len)
{
    size_t off = (size_t)ISO_FIRST_VD * ISO_SECTOR;
    return len >= off + ISO_SECTOR && memcmp(b + off + 1, "CD001", 5) == 0;
}

int ww_iso_has_udf(const unsigned char *b, size_t len)
{
    /* the recognition sequence: descriptors from sector 16 on, each "CD001", "BEA01", "NSR02",
     * "NSR03", "TEA01", "BOOT2" or "CDW02" at byte 1 (ECMA-167 2/8.3), a UDF bridge after the
     * ISO 9660 ones */
    for (size_t s = ISO_FIRST_VD; s < ISO_FIRST_VD + ISO_MAX_VD; s++) {
        size_t off = s * ISO_SECTOR;
        const unsigned char *d;
        if (off + ISO_SECTOR > len)
            return 0;
        d = b + off;
        if (memcmp(d + 1, "NSR02", 5) == 0 || memcmp(d + 1, "NSR03", 5) == 0)
            return 1;
        if (memcmp(d + 1, "CD001", 5) != 0 && memcmp(d + 1, "BEA01", 5) != 0 &&
            memcmp(d + 1, "TEA01", 5) != 0 && memcmp(d + 1, "BOOT2", 5) != 0 &&
            memcmp(d + 1, "CDW02", 5) != 0)
            return 0;
    }
    return 0;
}

static int ext_add(struct ww_iso *iso, uint64_t off, uint64_t len)
{
    if (iso->next == iso->cape) {
        size_t cap = iso->cape ? iso->cape * 2 : 64;
        struct iso_ext *e = realloc(iso->ext, cap * sizeof(*e));
        if (e == NULL)
            return -1;
        iso->ext = e;
        iso->cape = cap;
    }
    iso->ext[iso->next++] = (struct iso_ext){off, len};
    return 0;
}

static uint64_t file_hash(const struct ww_iso *iso, size_t first, size_t n, int zisofs)
{
    uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(zisofs != 0);
    for (size_t i = 0; i < n; i++) {
        h = (h ^ iso->ext[first + i].off) * 0xC2B2AE3D27D4EB4FULL;
        h = (h ^ iso->ext[first + i].len) * 0x165667B19E3779F9ULL;
    }
    return h ^ h >> 29;
}

/* 1 when no file listed has the same extents and coding as ext[first..] (<n>): the slot for
 * it in *slot; 0 when one has; -1 out of memory. Exact: a hash only finds the candidates. */
static int file_new(struct ww_iso *iso, size_t first, size_t n, int zisofs, size_t *slot)
{
    size_t h;

    if (2 * (iso->nfiles + 1) > iso->fslot_cap) {
        size_t cap = iso->fslot_cap ? iso->fslot_cap * 2 : 256;
        size_t *t = calloc(cap, sizeof(*t));
        if (t == NULL)
            return -1;
        for (size_t i = 0; i < iso->fslot_cap; i++) {
            const struct iso_file *f;
            if (iso->fslot[i] == 0)
                continue;
            f = &iso->files[iso->fslot[i] - 1];
            h = (size_t)file_hash(iso, f->first, f->n, f->zisofs) & (cap - 1);
            while (t[h] != 0)
                h = (h + 1) & (cap - 1);
            t[h] = iso->fslot[i];
        }
        free(iso->fslot);
        iso->fslot = t;
        iso->fslot_cap = cap;
    }
    h = (size_t)file_hash(iso, first, n, zisofs) & (iso->fslot_cap - 1);
    while (iso->fslot[h] != 0) {
        const struct iso_file *f = &iso->files[iso->fslot[h] - 1];
        if (f->n == n && f->zisofs == zisofs &&
            memcmp(&iso->ext[f->first], &iso->ext[first], n * sizeof(struct iso_ext)) == 0)
            return 0;
        h = (h + 1) & (iso->fslot_cap - 1);
    }
    *slot = h;
    return 1;
}

/* A file of extents ext[first..] (the last <n> added), unless the same data is listed already
 * (the primary and the Joliet trees name the same files; a directory read twice). */
static int file_add(struct ww_iso *iso, size_t first, size_t n, int zisofs)
{
    uint64_t size = 0;
    size_t slot = 0;
    int v;

    for (size_t i = 0; i < n; i++)
        size += iso->ext[first + i].len;
    if ((v = file_new(iso, first, n, zisofs, &slot)) <= 0) {
        iso->next = first; /* the same extents listed already: drop the copy's */
        return v;
    }
    if (iso->nfiles > iso->most) {
        iso->full = 1;
        return 0;
    }
    if (iso->nfiles == iso->capf) {
        size_t cap = iso->capf ? iso->capf * 2 : 32;
        struct iso_file *f = realloc(iso->files, cap * sizeof(*f));
        if (f == NULL)
            return -1;
        iso->files = f;
        iso->capf = cap;
    }
    iso->files[iso->nfiles++] = (struct iso_file){first, n, size, zisofs};
    iso->fslot[slot] = iso->nfiles;
    return 0;
}

/* Whether the SUSP entries at <a> (<n> bytes), or a continuation area they name (8 deep at
 * most), hold a zisofs "ZF" entry. */
static int susp_zf(const struct ww_iso *iso, const unsigned char *a, size_t n, int depth)
{
    size_t p = 0;

    while (p + 4 <= n) {
        unsigned el = a[p + 2];
        if (el < 4 || p + el > n)
            break;
        if (a[p] == 'Z' && a[p + 1] == 'F' && el >= 16 && a[p + 4] == 'p' && a[p + 5] == 'z')
            return 1;
        if (a[p] == 'C' && a[p + 1] == 'E' && el >= 28 && depth < 8) {
            /* the entries go on in a continuation area (libarchive and Linux read it: review
             * 19, F6) */
            uint64_t at = (uint64_t)le32(a + p + 4) * iso->bs + le32(a + p + 12);
            uint32_t cl = le32(a + p + 20);
            if (at < iso->img_len && cl <= iso->img_len - at &&
                susp_zf(iso, iso->img + at, cl, depth + 1))
                return 1;
        }
        p += el;
    }
    return 0;
}

/* Whether the record's system use area (Rock Ridge, SUSP: from after the name, and after the
 * bytes SP says to skip) has a zisofs "ZF" entry, there or in a continuation area. */
static int record_zisofs(const struct ww_iso *iso, const unsigned char *r, unsigned rl)
{
    unsigned p = 33u + r[32];

    if (p % 2 != 0)
        p++; /* the name padded to an even length */
    if (p < rl && susp_zf(iso, r + p, rl - p, 0))
        return 1;
    return iso->skp > 0 && p + iso->skp < rl &&
           susp_zf(iso, r + p + iso->skp, rl - p - iso->skp, 0);
}

struct dir_item {
    uint32_t lba, size;
};

/* The records of one directory (<size> bytes at <d>), in one of two readings: <bytewise> 0 as
 * libarchive and libclamav read them (a zero length byte: the next sector), 1 as 7-Zip does (the
 * next byte). Files are listed, subdirectories queued (*q). 0, or -1 out of memory. */
static int read_dir(struct ww_iso *iso, const unsigned char *d, uint64_t size, int bytewise,
                    struct dir_item **q, size_t *qn, size_t *qcap)
{
    uint64_t p = 0;
    size_t pend = iso->next, npend = 0; /* a multi-extent file's extents so far */
    const unsigned char *pname = NULL;  /* ... its record (the name and flags to match) */
    int zf = 0;

    while (p < size && !iso->full) {
        const unsigned char *r = d + p;
        unsigned rl = r[0], nl;
        uint32_t lba, dl;
        unsigned flags;

        if (rl == 0) { /* no record starts here */
            p = bytewise ? p + 1 : (p / iso->bs + 1) * iso->bs;
            continue;
        }
        if (rl < 34 || p + rl > size || 33u + r[32] > rl || ++iso->records > ISO_MAX_RECORDS) {
            if (!bytewise || iso->records > ISO_MAX_RECORDS)
                iso->bad = 1; /* (7-Zip's reading stops there; the other one is the measure) */
            break;
        }
        nl = r[32];
        lba = le32(r + 2);
        dl = le32(r + 10);
        flags = r[25];
        p += rl;
        if (nl == 1 && r[33] == 0) {
            /* ".": Rock Ridge's SP entry (in the root's) says what every system use area
             * skips; its extent is read too (libarchive lists the root its "." names: review
             * 19, F7) */
            unsigned su = 34;
            if (su + 7 <= rl && r[su] == 'S' && r[su + 1] == 'P' && r[su + 4] == 0xbe &&
                r[su + 5] == 0xef)
                iso->skp = r[su + 6];
            if (*qn == *qcap) {
                struct dir_item *nq =
                    *qcap < ISO_MAX_DIRS ? realloc(*q, 2 * *qcap * sizeof(**q)) : NULL;
                if (nq == NULL) {
                    if (*qcap < ISO_MAX_DIRS)
                        return -1;
                    iso->bad = 1;
                    continue;
                }
                *q = nq;
                *qcap *= 2;
            }
            (*q)[(*qn)++] = (struct dir_item){lba, dl};
            continue;
        }
        if (nl == 1 && r[33] == 1)
            continue; /* ".." */
        if (npend > 0 && (pname[32] != nl || memcmp(pname + 33, r + 33, nl) != 0 ||
                          (pname[25] & ~0x80u) != (flags & ~0x80u))) {
            /* a multi-extent file ends at a record of another name or flags (7-Zip: two
             * files) */
            if (file_add(iso, pend, npend, zf) != 0)
                return -1;
            pend = iso->next, npend = 0, zf = 0;
        }
        if (flags & 0x02) {
            if (*qn == *qcap) {
                struct dir_item *nq;
                if (*qcap >= ISO_MAX_DIRS) {
                    iso->bad = 1;
                    continue;
                }
                nq = realloc(*q, 2 * *qcap * sizeof(**q));
                if (nq == NULL)
                    return -1;
                *q = nq;
                *qcap *= 2;
            }
            (*q)[(*qn)++] = (struct dir_item){lba, dl};
            continue;
        }
        /* a file's extent; the interleave fields (bytes 26, 27) are ignored, as 7-Zip and
         * libarchive read the extent as one run */
        if (ext_add(iso, (uint64_t)lba * iso->bs, dl) != 0)
            return -1;
        npend++;
        pname = r;
        zf |= record_zisofs(iso, r, rl);
        if (flags & 0x80)
            continue; /* multi-extent: the next record of that name goes on */
        if (file_add(iso, pend, npend, zf) != 0)
            return -1;
        if (r[1] != 0 && npend == 1) {
            /* an extended attribute record: libarchive reads the data at the extent,
             * libclamav after the record (<r[1]> blocks on): both */
            size_t first = iso->next;
            if (ext_add(iso, ((uint64_t)lba + r[1]) * iso->bs, dl) != 0 ||
                file_add(iso, first, 1, zf) != 0)
                return -1;
        }
        pend = iso->next, npend = 0, zf = 0;
    }
    if (npend > 0 && file_add(iso, pend, npend, zf) != 0) /* a last extent flagged 0x80 */
        return -1;
    return 0;
}

/* The tree under root record <r>: directories breadth first, each extent and size read once
 * (7-Zip reads a directory named twice with each record's size: review 19, F2), in both
 * readings of read_dir. The root's record is read whatever its length byte says (7-Zip reads
 * 34 bytes: review 19, F4). */
static int walk_tree(struct ww_iso *iso, const unsigned char *b, size_t len,
                     const unsigned char *root)
{
    struct dir_item *q = malloc(16 * sizeof(*q));
    size_t qn = 0, qcap = 16;

    if (q == NULL)
        return -1;
    q[qn++] = (struct dir_item){le32(root + 2), le32(root + 10)};
    for (size_t qi = 0; qi < qn && !iso->full; qi++) {
        /* (libarchive reads the root itself by 2,048-byte blocks, the rest by the descriptor's) */
        uint64_t off = (uint64_t)q[qi].lba * (qi == 0 ? ISO_SECTOR : iso->bs), size = q[qi].size;
        int v = ww_u64set_add(iso->bs == ISO_SECTOR ? &iso->dirs : &iso->dirs_lbs,
                              (uint64_t)q[qi].lba << 32 | q[qi].size);

        if (v < 0)
            goto oom;
        if (v == 0)
            continue;
        if (off >= len) {
            iso->bad = 1;
            continue;
        }
        if (size > len - off) {
            size = len - off; /* read what is there */
            iso->bad = 1;
        }
        if (read_dir(iso, b + off, size, 0, &q, &qn, &qcap) != 0 ||
            read_dir(iso, b + off, size, 1, &q, &qn, &qcap) != 0)
            goto oom;
    }
    free(q);
    return 0;
oom:
    free(q);
    return -1;
}

/* El Torito: the boot catalog's images, as 7-Zip lists them ("[BOOT]"): a floppy's size by its
 * media type, a hard disk's to the image's end, no emulation by its sector count. */
static int boot_catalog(struct ww_iso *iso, const unsigned char *b, size_t len, uint32_t lba)
{
    uint64_t off = (uint64_t)lba * ISO_SECTOR, p;
    unsigned entries = 0;

    if (off + 64 > len || b[off] != 1 || b[off + 30] != 0x55 || b[off + 31] != 0xaa)
        return 0;
    /* (a catalog may run past its first sector: 7-Zip reads on, review 19, F5) */
    for (p = off + 32; p + 32 <= len && p < off + 32 * ISO_SECTOR && entries < ISO_MAX_BOOT;
         p += 32) {
        const unsigned char *e = b + p;
        uint64_t at, size;
        size_t first;

        if (p > off + 32 && (e[0] == 0x90 || e[0] == 0x91 || e[0] == 0x44))
            continue; /* a section header (its entries follow), an extension record */
        if (p > off + 32 && e[0] != 0x88 && e[0] != 0x00)
            break;
        if (p > off + 32 && e[0] == 0x00 && le32(e + 8) == 0)
            continue; /* an empty entry */
        at = (uint64_t)le32(e + 8) * ISO_SECTOR;
        switch (e[1] & 0x0f) {
        case 1:
            size = 1228800;
            break;
        case 2:
            size = 1474560;
            break;
        case 3:
            size = 2949120;
            break;
        case 4:
            size = at < len ? len - at : 0;
            break;
        default: /* no emulation: its sector count; 0 or 1 (as some write): to the image's end,
                  * as 7-Zip reads the last such entry */
            size = le16(e + 6) > 1 ? (uint64_t)le16(e + 6) * 512 : at < len ? len - at : 0;
            break;
        }
        entries++;
        if (size == 0 || at >= len)
            continue;
        first = iso->next;
        if (ext_add(iso, at, size) != 0 || file_add(iso, first, 1, 0) != 0)
            return -1;
    }
    return 0;
}

struct ww_iso *ww_iso_open(const unsigned char *b, size_t len, size_t most)
{
    struct ww_iso *iso;
    unsigned trees = 0;

    if (!ww_iso_is(b, len))
        return NULL;
    iso = calloc(1, sizeof(*iso));
    if (iso == NULL)
        return NULL;
    iso->most = most;
    iso->img = b;
    iso->img_len = len;
    iso->bs = ISO_SECTOR;
    for (size_t s = ISO_FIRST_VD;; s++) {
        size_t off = s * ISO_SECTOR;
        const unsigned char *d = b + off;
        int rc = 0;

        if (s >= ISO_FIRST_VD + ISO_MAX_VD || off + ISO_SECTOR > len) {
            iso->bad = 1; /* no terminator where the image ends */
            break;
        }
        if (memcmp(d + 1, "CD001", 5) != 0)
            break; /* the set ends (a UDF recognition sequence may follow) */
        if (d[0] == 255)
            break;
        if (d[0] == 1 || d[0] == 2) { /* the primary tree, every supplementary one (Joliet) */
            unsigned lbs = le16(d + 128);
            iso->bs = ISO_SECTOR;
            rc = walk_tree(iso, b, len, d + 156);
            if (rc == 0 && (lbs == 512 || lbs == 1024)) { /* libarchive's reading of LBAs */
                iso->bs = lbs;
                rc = walk_tree(iso, b, len, d + 156);
            }
            trees++;
        } else if (d[0] == 0 && memcmp(d + 7, "EL TORITO SPECIFICATION", 23) == 0) {
            rc = boot_catalog(iso, b, len, le32(d + 71));
        }
        if (rc != 0) {
            ww_iso_close(iso);
            return NULL;
        }
    }
    if (trees == 0)
        iso->bad = 1;
    return iso;
}

void ww_iso_close(struct ww_iso *iso)
{
    if (iso == NULL)
        return;
    free(iso->files);
    free(iso->ext);
    ww_u64set_free(&iso->dirs);
    ww_u64set_free(&iso->dirs_lbs);
    free(iso->fslot);
    free(iso);
}

long ww_iso_count(const struct ww_iso *iso)
{
    return iso != NULL ? (long)iso->nfiles : -1;
}

int ww_iso_whole(const struct ww_iso *iso)
{
    return iso != NULL && !iso->bad;
}

/* Bytes [0, want) of the file's extents, joined, into <out> (want bytes): how many were there
 * (fewer when an extent leaves the image). */
static size_t iso_gather(const struct ww_iso *iso, const struct iso_file *f, const unsigned char *b,
                         size_t len, unsigned char *out, size_t want)
{
    size_t got = 0;

    for (size_t i = 0; i < f->n && got < want; i++) {
        const struct iso_ext *e = &iso->ext[f->first + i];
        uint64_t n = e->len < want - got ? e->len : want - got, have;
        if (e->off >= len)
            return got;
        have = len - e->off < n ? len - e->off : n;
        memcpy(out + got, b + e->off, (size_t)have);
        got += (size_t)have;
        if (have < n)
            return got;
    }
    return got;
}

/* A zisofs stream (mkzftree; Linux's isofs and libarchive inflate it): a 16-byte header (magic,
 * size, header size / 4, block size log 2), a table of block offsets, each block a zlib stream
 * (or nothing: zeros). */
static enum ww_unpack_result zisofs_inflate(const unsigned char *z, size_t zlen, size_t limit,
                                            unsigned char **out, size_t *outlen)
{
    static const unsigned char magic[8] = {0x37, 0xe4, 0x53, 0x96, 0xc9, 0xdb, 0xd6, 0x07};
    uint64_t size, nblocks, bs, want, done = 0;
    unsigned hdr, blog;
    unsigned char *o;

    if (zlen < 16 || memcmp(z, magic, 8) != 0)
        return WW_UNPACK_FAILED;
    size = le32(z + 8);
    hdr = z[12] * 4u;
    blog = z[13];
    if (hdr < 16 || blog < 15 || blog > ISO_ZF_MAX_BLOCK_LOG)
        return WW_UNPACK_FAILED;
    bs = (uint64_t)1 << blog;
    nblocks = (size + bs - 1) / bs;
    if (hdr + (nblocks + 1) * 4 > zlen)
        return WW_UNPACK_FAILED;
    want = size < limit ? size : limit;
    if (want == 0)
        return size > limit ? WW_UNPACK_OVER : WW_UNPACK_DONE;
    o = malloc((size_t)want);
    if (o == NULL)
        return WW_UNPACK_FAILED;
    for (uint64_t i = 0; i < nblocks && done < want; i++) {
        uint32_t a = le32(z + hdr + 4 * i), e = le32(z + hdr + 4 * (i + 1));
        uLongf n = (uLongf)(want - done < bs ? want - done : bs);
        uint64_t full = size - i * bs < bs ? size - i * bs : bs;
        if (e < a || e > zlen)
            break;
        if (e == a) {
            memset(o + done, 0, (size_t)n);
        } else {
            unsigned char *blk = malloc((size_t)full);
            uLongf got = (uLongf)full;
            int zr;
            if (blk == NULL)
                break;
            zr = uncompress(blk, &got, z + a, e - a);
            if (zr != Z_OK || got != full) {
                free(blk);
                break;
            }
            memcpy(o + done, blk, (size_t)n);
            free(blk);
        }
        done += n;
    }
    *out = o;
    *outlen = (size_t)done;
    if (done < want)
        return WW_UNPACK_FAILED;
    return size > limit ? WW_UNPACK_OVER : WW_UNPACK_DONE;
}

enum ww_unpack_result ww_iso_file(const struct ww_iso *iso, const unsigned char *b, size_t len,
                                  size_t index, size_t limit, unsigned char **out, size_t *outlen)
{
    const struct iso_file *f;
    size_t want, got;
    unsigned char *o;

    *out = NULL;
    *outlen = 0;
    if (iso == NULL || index >= iso->nfiles)
        return WW_UNPACK_FAILED;
    f = &iso->files[index];
    if (f->zisofs) {
        /* the stream is at most the image; its content at most <limit> */
        enum ww_unpack_result r;
        uint64_t zl = f->size < len ? f->size : len;
        unsigned char *z = malloc(zl ? (size_t)zl : 1);
        size_t zgot;
        if (z == NULL)
            return WW_UNPACK_FAILED;
        zgot = iso_gather(iso, f, b, len, z, (size_t)zl);
        r = zisofs_inflate(z, zgot, limit, out, outlen);
        free(z);
        return r;
    }
    want = f->size < limit ? (size_t)f->size : limit;
    if (want == 0)
        return f->size > limit ? WW_UNPACK_OVER : WW_UNPACK_DONE;
    o = malloc(want);
    if (o == NULL)
        return WW_UNPACK_FAILED;
    got = iso_gather(iso, f, b, len, o, want);
    *out = o;
    *outlen = got;
    if (got < want)
        return WW_UNPACK_FAILED;
    return f->size > limit ? WW_UNPACK_OVER : WW_UNPACK_DONE;
}
