/* lib/ww_udf.c - UDF images as 7-Zip and Windows read them (see ww_udf.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_u64set.h"
#include "ww_udf.h"

#define UDF_MAX_PARTS 8
#define UDF_MAX_VDS 512         /* volume descriptors read */
#define UDF_MAX_ENTRIES 1000000 /* directory entries in all */
#define UDF_MAX_DIRS 100000
#define UDF_MAX_CONT 64         /* allocation descriptor continuations an entry */
#define UDF_MAX_EXTENTS 65536   /* extents an entry */
#define UDF_MAX_DIR (64u << 20) /* a directory's bytes */

struct udf_part {
    uint16_t number;
    uint64_t start; /* its first sector */
};

enum { MAP_NONE, MAP_PHYS, MAP_META };

struct udf_map {
    int kind;
    uint16_t partnum;
    uint32_t meta_lb; /* MAP_META: the metadata file's entry, a block of partition <partnum> */
};

struct udf_ext {
    uint64_t off, len; /* bytes in the image */
    int zero;          /* allocated or not, never recorded: reads as zeros */
};

struct udf_file {
    uint64_t icb; /* its (Extended) File Entry, bytes in the image */
    uint16_t pref;
};

struct ww_udf {
    size_t ss;
    struct udf_part parts[UDF_MAX_PARTS];
    size_t nparts;
    struct udf_map maps[UDF_MAX_PARTS];
    size_t nmaps;
    struct udf_ext *meta; /* the metadata partition: its file's extents, in order */
    size_t nmeta;
    struct udf_file *files;
    size_t nfiles, capf;
    struct ww_u64set seen; /* directories read (their entry's offset), files listed (bit 62) */
    uint64_t entries;
    uint64_t dir_bytes; /* directories' bytes read in all */
    size_t most;
    int bad, full;
};

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* A descriptor tag <id> at <off> (16 bytes, its checksum right) with <need> bytes there. */
static const unsigned char *tag_at(const unsigned char *b, size_t len, uint64_t off, unsigned id,
                                   size_t need)
{
    const unsigned char *p;
    unsigned sum = 0;

    if (off >= len || len - off < (need > 16 ? need : 16))
        return NULL;
    p = b + off;
    if (le16(p) != id)
        return NULL;
    for (int i = 0; i < 16; i++)
        if (i != 4)
            sum += p[i];
    return (sum & 0xff) == p[4] ? p : NULL;
}

/* The image offset of logical block <lb> of partition reference <pref>: 0 and *off, or -1. */
static int lb_off(const struct ww_udf *u, uint16_t pref, uint32_t lb, uint64_t *off)
{
    const struct udf_map *m;

    if (pref >= u->nmaps)
        return -1;
    m = &u->maps[pref];
    if (m->kind == MAP_PHYS) {
        for (size_t i = 0; i < u->nparts; i++)
            if (u->parts[i].number == m->partnum) {
                *off = (u->parts[i].start + lb) * (uint64_t)u->ss;
                return 0;
            }
        return -1;
    }
    if (m->kind == MAP_META) {
        uint64_t want = (uint64_t)lb * u->ss, at = 0;
        for (size_t i = 0; i < u->nmeta; i++) {
            if (want < at + u->meta[i].len) {
                if (u->meta[i].zero)
                    return -1;
                *off = u->meta[i].off + (want - at);
                return 0;
            }
            at += u->meta[i].len;
        }
    }
    return -1;
}

/* An entry's header: its size, where its allocation descriptors are and their kind. */
struct icb {
    uint64_t size, ad_at;
    uint32_t ad_len;
    unsigned ad_type;
};

static int icb_read(const unsigned char *b, size_t len, uint64_t off, struct icb *ic)
{
    const unsigned char *p;
    uint32_t ea;
    unsigned hdr;

    if ((p = tag_at(b, len, off, 261, 176)) != NULL) {
        ea = le32(p + 168), ic->ad_len = le32(p + 172), hdr = 176;
    } else if ((p = tag_at(b, len, off, 266, 216)) != NULL) {
        ea = le32(p + 208), ic->ad_len = le32(p + 212), hdr = 216;
    } else {
        return -1;
    }
    ic->size = le64(p + 56);
    ic->ad_type = le16(p + 34) & 7;
    ic->ad_at = off + hdr + ea;
    if (ea > len || ic->ad_at > len || ic->ad_len > len - ic->ad_at)
        return -1;
    return 0;
}

/* The extents of the entry <ic> of partition reference <pref> into *ext (*n of them; free()):
 * 0, or -1 when some descriptor does not read or resolve (what came is kept). */
static int icb_extents(const struct ww_udf *u, const unsigned char *b, size_t len,
                       const struct icb *ic, uint16_t pref, struct udf_ext **ext, size_t *n)
{
    uint64_t at = ic->ad_at, end = ic->ad_at + ic->ad_len;
    size_t cap = 0, step = ic->ad_type == 0 ? 8 : 16;
    int cont = 0, rc = 0;

    *ext = NULL;
    *n = 0;
    if (ic->ad_type == 3) { /* the data inside the entry */
        *ext = malloc(sizeof(**ext));
        if (*ext == NULL)
            return -1;
        (*ext)[0] = (struct udf_ext){at, ic->ad_len, 0};
        *n = 1;
        return 0;
    }
    if (ic->ad_type > 1)
        return -1; /* extended allocation descriptors: not read */
    while (at + step <= end) {
        const unsigned char *d = b + at;
        uint32_t l = le32(d) & 0x3fffffffu, type = le32(d) >> 30, lb = le32(d + 4);
        uint16_t p = ic->ad_type == 0 ? pref : le16(d + 8);
        uint64_t off = 0;
        if (l == 0)
            break;
        if (lb_off(u, p, lb, &off) != 0 && type != 1 && type != 2) {
            rc = -1;
            break;
        }
        if (type == 3) { /* the next descriptors are there */
            if (++cont > UDF_MAX_CONT || off > len || l > len - off) {
                rc = -1;
                break;
            }
            at = off;
            end = off + l;
            continue;
        }
        if (*n == cap) {
            struct udf_ext *e;
            if (cap >= UDF_MAX_EXTENTS) {
                rc = -1;
                break;
            }
            cap = cap ? cap * 2 : 8;
            e = realloc(*ext, cap * sizeof(*e));
            if (e == NULL) {
                rc = -1;
                break;
            }
            *ext = e;
        }
        (*ext)[(*n)++] = (struct udf_ext){off, l, type != 0};
        at += step;
    }
    return rc;
}

/* Bytes [0, want) of the extents into <out>: how many (fewer when one leaves the image). */
static size_t ext_gather(const struct udf_ext *e, size_t n, const unsigned char *b, size_t len,
                         unsigned char *out, size_t want)
{
    size_t got = 0;

    for (size_t i = 0; i < n && got < want; i++) {
        uint64_t k = e[i].len < want - got ? e[i].len : want - got;
        if (e[i].zero) {
            memset(out + got, 0, (size_t)k);
        } else {
            if (e[i].off >= len)
                return got;
            if (len - e[i].off < k) {
                memcpy(out + got, b + e[i].off, len - (size_t)e[i].off);
                return got + (len - (size_t)e[i].off);
            }
            memcpy(out + got, b + e[i].off, (size_t)k);
        }
        got += (size_t)k;
    }
    return got;
}

/* The content of the entry at <off> (partition reference <pref>), at most <limit> bytes. */
static enum ww_unpack_result entry_read(const struct ww_udf *u, const unsigned char *b, size_t len,
                                        uint64_t off, uint16_t pref, size_t limit,
                                        unsigned char **out, size_t *outlen)
{
    struct icb ic;
    struct udf_ext *e = NULL;
    size_t n = 0, want, got;
    int rc;

    *out = NULL;
    *outlen = 0;
    if (icb_read(b, len, off, &ic) != 0)
        return WW_UNPACK_FAILED;
    rc = icb_extents(u, b, len, &ic, pref, &e, &n);
    want = ic.size < limit ? (size_t)ic.size : limit;
    if (want > 0) {
        *out = malloc(want);
        if (*out == NULL) {
            free(e);
            return WW_UNPACK_FAILED;
        }
        got = ext_gather(e, n, b, len, *out, want);
        *outlen = got;
        if (got < want)
            rc = -1;
    }
    free(e);
    if (rc != 0)
        return WW_UNPACK_FAILED;
    return ic.size > limit ? WW_UNPACK_OVER : WW_UNPACK_DONE;
}

static int file_add(struct ww_udf *u, uint64_t off, uint16_t pref)
{
    int v = ww_u64set_add(&u->seen, off | (uint64_t)1 << 62); /* a file named twice is read once */

    if (v <= 0)
        return v;
    if (u->nfiles > u->most) {
        u->full = 1;
        return 0;
    }
    if (u->nfiles == u->capf) {
        size_t cap = u->capf ? u->capf * 2 : 32;
        struct udf_file *f = realloc(u->files, cap * sizeof(*f));
        if (f == NULL)
            return -1;
        u->files = f;
        u->capf = cap;
    }
    u->files[u->nfiles++] = (struct udf_file){off, pref};
    return 0;
}

/* The tree under the directory entry at <root>: breadth first, each directory once. */
static int walk(struct ww_udf *u, const unsigned char *b, size_t len, uint64_t root, uint16_t rpref)
{
    struct udf_file *q = malloc(16 * sizeof(*q));
    size_t qn = 0, qcap = 16;

    if (q == NULL)
        return -1;
    q[qn++] = (struct udf_file){root, rpref};
    for (size_t qi = 0; qi < qn && !u->full; qi++) {
        unsigned char *d = NULL;
        size_t n = 0, p = 0;
        int v = ww_u64set_add(&u->seen, q[qi].icb);
        enum ww_unpack_result r;

        if (v < 0)
            goto oom;
        if (v == 0)
            continue;
        /* a directory is at most the image (more is zeros an entry claims: no identifier), and
         * all of them 4 times it: an image whose entries name one extent of zeros again and
         * again is not read whole */
        if (u->dir_bytes > (uint64_t)len * 4 + (1u << 20)) {
            u->bad = 1;
            break;
        }
        r = entry_read(u, b, len, q[qi].icb, q[qi].pref, len < UDF_MAX_DIR ? len : UDF_MAX_DIR, &d,
                       &n);
        u->dir_bytes += n;
        if (r != WW_UNPACK_DONE)
            u->bad = 1; /* what came is read */
        while (p + 38 <= n && !u->full) {
            const unsigned char *f = d + p;
            unsigned chars = f[18], lfi = f[19], liu = le16(f + 36);
            uint64_t off = 0;
            if (le16(f) != 257 || p + 38 + liu + lfi > n || ++u->entries > UDF_MAX_ENTRIES) {
                u->bad = 1;
                break;
            }
            p += (38 + liu + lfi + 3) & ~(size_t)3;
            if (chars & 0x0c)
                continue; /* the parent, a deleted entry */
            if (lb_off(u, le16(f + 28), le32(f + 24), &off) != 0) {
                u->bad = 1;
                continue;
            }
            if (chars & 0x02) {
                if (qn == qcap) {
                    struct udf_file *nq;
                    if (qcap >= UDF_MAX_DIRS) {
                        u->bad = 1;
                        continue;
                    }
                    nq = realloc(q, 2 * qcap * sizeof(*q));
                    if (nq == NULL) {
                        free(d);
                        goto oom;
                    }
                    q = nq;
                    qcap *= 2;
                }
                q[qn++] = (struct udf_file){off, le16(f + 28)};
            } else if (file_add(u, off, le16(f + 28)) != 0) {
                free(d);
                goto oom;
            }
        }
        free(d);
    }
    free(q);
    return 0;
oom:
    free(q);
    return -1;
}

/* The volume descriptor sequence at sector <loc> (<n> bytes): partitions and the logical volume
 * (its block size, file set location, partition maps). 1 when a logical volume was found. */
static int vds_read(struct ww_udf *u, const unsigned char *b, size_t len, uint32_t loc, uint32_t n,
                    uint32_t *fsd_lb, uint16_t *fsd_pref)
{
    int found = 0, hops = 0;
    uint64_t s = loc, end = loc + (uint64_t)(n / u->ss);

    for (unsigned k = 0; k < UDF_MAX_VDS && s < end; k++, s++) {
        uint64_t off = s * u->ss;
        const unsigned char *p;
        if (off >= len || len - off < u->ss)
            break;
        p = b + off;
        if (tag_at(b, len, off, 8, 16) != NULL)
            break;                                               /* the terminating descriptor */
        if (tag_at(b, len, off, 3, 28) != NULL && ++hops <= 8) { /* the sequence goes on there */
            s = (uint64_t)le32(p + 24) - 1;
            end = le32(p + 24) + (uint64_t)(le32(p + 20) / u->ss);
            continue;
        }
        if (tag_at(b, len, off, 5, 196) != NULL && u->nparts < UDF_MAX_PARTS) {
            size_t i;
            for (i = 0; i < u->nparts && u->parts[i].number != le16(p + 22); i++)
                ;
            u->parts[i] = (struct udf_part){le16(p + 22), le32(p + 188)};
            if (i == u->nparts)
                u->nparts++;
        } else if (tag_at(b, len, off, 6, 440) != NULL && le32(p + 212) == u->ss) {
            uint32_t mtl = le32(p + 264), npm = le32(p + 268);
            size_t at = 440;
            *fsd_lb = le32(p + 252);
            *fsd_pref = le16(p + 256);
            u->nmaps = 0;
            for (uint32_t i = 0; i < npm && i < UDF_MAX_PARTS; i++) {
                const unsigned char *m = p + at;
                unsigned type, ml;
                if (at + 2 > 440 + (size_t)mtl || at + 2 > u->ss)
                    break;
                type = m[0], ml = m[1];
                if (ml < 6 || at + ml > u->ss)
                    break;
                u->maps[u->nmaps] = (struct udf_map){MAP_NONE, 0, 0};
                if (type == 1) {
                    u->maps[u->nmaps] = (struct udf_map){MAP_PHYS, le16(m + 4), 0};
                } else if (type == 2 && ml >= 64) {
                    if (memcmp(m + 5, "*UDF Metadata Partition", 23) == 0)
                        u->maps[u->nmaps] = (struct udf_map){MAP_META, le16(m + 38), le32(m + 40)};
                    else if (memcmp(m + 5, "*UDF Sparable Partition", 23) == 0)
                        u->maps[u->nmaps] = (struct udf_map){MAP_PHYS, le16(m + 38), 0};
                    /* a virtual partition (VAT): not read */
                }
                u->nmaps++;
                at += ml;
            }
            found = 1;
        }
    }
    return found;
}

/* The metadata partition (UDF 2.50): its file's extents, from its entry in the physical
 * partition (short descriptors: blocks of that partition). 0, or -1 when it does not read. */
static int udf_meta_load(struct ww_udf *u, const unsigned char *b, size_t len)
{
    for (size_t i = 0; i < u->nmaps; i++) {
        struct icb ic;
        uint64_t off;
        size_t phys;
        if (u->maps[i].kind != MAP_META)
            continue;
        for (phys = 0; phys < u->nmaps; phys++)
            if (u->maps[phys].kind == MAP_PHYS && u->maps[phys].partnum == u->maps[i].partnum)
                break;
        if (phys == u->nmaps || u->meta != NULL ||
            lb_off(u, (uint16_t)phys, u->maps[i].meta_lb, &off) != 0 ||
            icb_read(b, len, off, &ic) != 0 ||
            icb_extents(u, b, len, &ic, (uint16_t)phys, &u->meta, &u->nmeta) != 0)
            return -1;
    }
    return 0;
}

int ww_udf_anchor(const unsigned char *b, size_t len)
{
    return tag_at(b, len, 256u * 2048, 2, 32) != NULL ||
           tag_at(b, len, 256u * 512, 2, 32) != NULL || tag_at(b, len, 256u * 4096, 2, 32) != NULL;
}

struct ww_udf *ww_udf_open(const unsigned char *b, size_t len, size_t most)
{
    static const size_t sizes[] = {2048, 512, 4096};

    for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
        size_t ss = sizes[z], nsec = len / ss;
        uint64_t cand[3] = {256, nsec ? nsec - 1 : 0, nsec > 257 ? nsec - 257 : 0};
        for (int c = 0; c < 3; c++) {
            const unsigned char *a = tag_at(b, len, cand[c] * ss, 2, 32);
            struct ww_udf *u;
            uint32_t fsd_lb = 0;
            uint16_t fsd_pref = 0;
            uint64_t off;
            const unsigned char *fsd;
            if (cand[c] == 0 || a == NULL)
                continue;
            u = calloc(1, sizeof(*u));
            if (u == NULL)
                return NULL;
            u->ss = ss;
            u->most = most;
            if (!vds_read(u, b, len, le32(a + 20), le32(a + 16), &fsd_lb, &fsd_pref) &&
                !vds_read(u, b, len, le32(a + 28), le32(a + 24), &fsd_lb, &fsd_pref)) {
                ww_udf_close(u);
                continue;
            }
            if (udf_meta_load(u, b, len) != 0)
                u->bad = 1;
            if (lb_off(u, fsd_pref, fsd_lb, &off) != 0 ||
                (fsd = tag_at(b, len, off, 256, 416)) == NULL ||
                lb_off(u, le16(fsd + 408), le32(fsd + 404), &off) != 0) {
                u->bad = 1;
                return u;
            }
            if (walk(u, b, len, off, le16(fsd + 408)) != 0) {
                ww_udf_close(u);
                return NULL;
            }
            return u;
        }
    }
    return NULL;
}

void ww_udf_close(struct ww_udf *u)
{
    if (u == NULL)
        return;
    free(u->meta);
    free(u->files);
    ww_u64set_free(&u->seen);
    free(u);
}

long ww_udf_count(const struct ww_udf *u)
{
    return u != NULL ? (long)u->nfiles : -1;
}

int ww_udf_whole(const struct ww_udf *u)
{
    return u != NULL && !u->bad;
}

enum ww_unpack_result ww_udf_file(const struct ww_udf *u, const unsigned char *b, size_t len,
                                  size_t index, size_t limit, unsigned char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (u == NULL || index >= u->nfiles)
        return WW_UNPACK_FAILED;
    return entry_read(u, b, len, u->files[index].icb, u->files[index].pref, limit, out, outlen);
}
