/* lib/ww_deepscan.c - one body's deep scan: its true type from the first decoded bytes, the body
 * kept (in memory, then an unlinked temp file) when that type is deep-scanned or an archive is
 * hidden in it (a polyglot), then lib/ww_clamav's scan of it and the second looks where libclamav
 * may have been fooled: a zip that does not start where libclamav looked, a polyglot's further
 * hidden signatures, and zip members as a stream reader (Java's ZipInputStream) reads them. The
 * engine, its limits and the readers of what libclamav cannot open (on_file) are lib/ww_clamav's
 * (the internal interface: ww_clamav_int.h). */
#include "config.h"

#include <clamav.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ww_clamav.h"
#include "ww_clamav_int.h"
#include "ww_common.h"
#include "ww_deepscan.h"
#include "ww_filetype.h"

struct ww_deepscan {
    struct ww_clamav *e; /* own reference; NULL: type only */
    uint64_t types;
    int64_t max_bytes;
    char *tmp_dir;
    int type;  /* enum ww_filetype, or -1 while fewer than WW_FILETYPE_PEEK bytes came */
    int keep;  /* the body is being kept for the deep scan */
    int error; /* WW_E* of a failed keep, or WW_OK */
    int over;  /* more than max_bytes came */
    unsigned char *mem;
    size_t mem_len, mem_cap;
    int fd;        /* -1 until spilled */
    int64_t total; /* bytes fed */
    /* A body whose type is not in the set is watched for an archive hidden in it (a polyglot,
     * ww_filetype_embed): from its signature on, the body is kept and deep-scanned. */
    int watch;                      /* looking for one */
    struct ww_filetype_embed embed; /* the finder, over the bytes not kept */
    int embed_type;                 /* WW_FT_ZIP, _RAR, _7Z found; 0 none */
    int64_t embed_at;               /* its offset in the body: what is kept starts there */
    long first_ms;                  /* the first scan's time: the second looks' budget */
    /* what a scan or a look could not inspect: the looks go on (a finding wins), and the body
     * is unscanned when none finds anything (deep_pend) */
    struct ww_deep_result pending;
    /* the central directory of the zip the end record found, read once for the looks */
    unsigned char *dir;
    size_t dir_len;
    struct scan_budget budget; /* what all the body's scans spent together */
    char type_name[48];        /* "image+zip" */
};

struct ww_deepscan *ww_deepscan_create(struct ww_clamav *e, uint64_t types, int64_t max_bytes,
                                       const char *tmp_dir)
{
    struct ww_deepscan *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return NULL;
    d->tmp_dir = strdup(tmp_dir != NULL && tmp_dir[0] != '\0' ? tmp_dir : "/tmp");
    if (d->tmp_dir == NULL) {
        free(d);
        return NULL;
    }
    d->e = ww_clamav_ref(e);
    d->types = types;
    d->max_bytes = max_bytes;
    d->type = -1;
    d->keep = 1; /* until the type is known */
    d->fd = -1;
    return d;
}

static int deep_spill(struct ww_deepscan *d)
{
    char path[4096];
    size_t off = 0;

    snprintf(path, sizeof(path), "%s/webwarden-deep.XXXXXX", d->tmp_dir);
    d->fd = mkstemp(path);
    if (d->fd < 0)
        return WW_EIO;
    unlink(path); /* gone with the fd, whatever happens */
    while (off < d->mem_len) {
        ssize_t n = write(d->fd, d->mem + off, d->mem_len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return WW_EIO;
        off += (size_t)n;
    }
    free(d->mem);
    d->mem = NULL;
    d->mem_len = d->mem_cap = 0;
    return WW_OK;
}

static int deep_append(struct ww_deepscan *d, const unsigned char *p, size_t len)
{
    if (d->fd < 0 && d->mem_len + len > WW_DEEPSCAN_MEM) {
        int rc = deep_spill(d);
        if (rc != WW_OK)
            return rc;
    }
    if (d->fd >= 0) {
        while (len > 0) {
            ssize_t n = write(d->fd, p, len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return WW_EIO;
            p += n;
            len -= (size_t)n;
        }
        return WW_OK;
    }
    if (d->mem_len + len > d->mem_cap) {
        size_t ncap = d->mem_cap ? d->mem_cap : 4096;
        unsigned char *nm;
        while (ncap < d->mem_len + len)
            ncap *= 2;
        nm = realloc(d->mem, ncap);
        if (nm == NULL)
            return WW_ENOMEM;
        d->mem = nm;
        d->mem_cap = ncap;
    }
    memcpy(d->mem + d->mem_len, p, len);
    d->mem_len += len;
    return WW_OK;
}

static void deep_drop(struct ww_deepscan *d)
{
    free(d->mem);
    d->mem = NULL;
    d->mem_len = d->mem_cap = 0;
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    d->keep = 0;
}

/* The type from the bytes kept so far; a type not deep-scanned is searched for a hidden archive
 * (kept from its signature on) and else no longer kept, but watched. */
static void deep_set_type(struct ww_deepscan *d)
{
    enum ww_filetype et;
    int64_t at;

    d->type = (int)ww_filetype_detect(d->mem, d->mem_len);
    if (d->e == NULL) {
        deep_drop(d);
        return;
    }
    if (ww_filetype_set_has(d->types, (enum ww_filetype)d->type))
        return;
    ww_filetype_embed_init(&d->embed);
    if (strcmp(ww_filetype_group((enum ww_filetype)d->type), "text") == 0 ||
        strcmp(ww_filetype_group((enum ww_filetype)d->type), "html") == 0)
        ww_filetype_embed_text(&d->embed);
    et = ww_filetype_embed_feed(&d->embed, d->mem, d->mem_len, &at);
    if (et != WW_FT_UNKNOWN) {
        d->embed_type = (int)et;
        d->embed_at = at;
        memmove(d->mem, d->mem + at, d->mem_len - (size_t)at);
        d->mem_len -= (size_t)at;
        return;
    }
    deep_drop(d);
    d->watch = 1;
}

#define ISO_PVD_AT 32768 /* ISO 9660's first volume descriptor: sector 16 of 2048 bytes */

/* A watched body's next bytes: from a hidden archive's signature on, keep them. */
static int deep_watch(struct ww_deepscan *d, const unsigned char *p, size_t len)
{
    int64_t at, start = d->total - (int64_t)len; /* this chunk's offset in the body */
    enum ww_filetype et = ww_filetype_embed_feed(&d->embed, p, len, &at);
    size_t mlen;
    const unsigned char *magic;

    if (et == WW_FT_UNKNOWN)
        return WW_OK;
    d->watch = 0;
    d->keep = 1;
    d->embed_type = (int)et;
    d->embed_at = at;
    if (et == WW_FT_ISO && at == ISO_PVD_AT) {
        /* An ISO or UDF image behind another type's header: its first 32 KiB (the system area)
         * are free for any bytes and were not kept. Zeros stand for them, so that libclamav and
         * lib/ww_iso read the volume descriptors where they belong. */
        static const unsigned char zeros[4096];
        int64_t k;
        for (k = 0; k < ISO_PVD_AT && d->error == WW_OK; k += (int64_t)sizeof(zeros))
            d->error = deep_append(d, zeros, sizeof(zeros));
        d->embed_at = 0;
    }
    if (d->error != WW_OK) {
        deep_drop(d);
        return d->error;
    }
    if (at < start) {
        /* the signature began in the previous chunk, which was not kept */
        magic = ww_filetype_embed_head(&d->embed, et, &mlen);
        d->error = magic != NULL && (int64_t)mlen >= start - at
                       ? deep_append(d, magic, (size_t)(start - at))
                       : WW_EIO; /* cannot happen: the finder keeps every byte before the chunk */
        if (d->error == WW_OK)
            d->error = deep_append(d, p, len);
    } else {
        d->error = deep_append(d, p + (at - start), len - (size_t)(at - start));
    }
    if (d->error != WW_OK)
        deep_drop(d);
    return d->error;
}

int ww_deepscan_feed(struct ww_deepscan *d, const void *data, size_t len)
{
    if (d == NULL || len == 0)
        return WW_OK;
    if (d->type < 0 && d->fd < 0 && d->mem_len < WW_FILETYPE_PEEK &&
        d->mem_len + len > WW_FILETYPE_PEEK) {
        /* the type first: a large first chunk would otherwise be spilled before it is told */
        size_t first = WW_FILETYPE_PEEK - d->mem_len;
        int rc = ww_deepscan_feed(d, data, first);
        return rc != WW_OK ? rc
                           : ww_deepscan_feed(d, (const unsigned char *)data + first, len - first);
    }
    d->total += (int64_t)len;
    if (d->watch && d->error == WW_OK)
        return deep_watch(d, data, len);
    if (!d->keep || d->error != WW_OK)
        return d->error;
    if (d->total - d->embed_at > d->max_bytes && d->type >= 0) {
        /* libclamav would answer MaxFileSize: keep nothing more */
        d->over = 1;
        deep_drop(d);
        return WW_OK;
    }
    d->error = deep_append(d, data, len);
    if (d->error != WW_OK) {
        deep_drop(d);
        return d->error;
    }
    if (d->type < 0 && d->fd < 0 && d->mem_len >= WW_FILETYPE_PEEK)
        deep_set_type(d);
    if (d->type >= 0 && d->keep && d->total - d->embed_at > d->max_bytes) {
        d->over = 1;
        deep_drop(d);
    }
    return WW_OK;
}

int ww_deepscan_type(const struct ww_deepscan *d)
{
    if (d == NULL)
        return WW_FT_UNKNOWN;
    if (d->type >= 0)
        return d->type;
    return (int)ww_filetype_detect(d->mem, d->mem_len);
}

const char *ww_deepscan_type_name(struct ww_deepscan *d)
{
    int t = ww_deepscan_type(d);

    if (d == NULL || d->embed_type == 0)
        return ww_filetype_name((enum ww_filetype)t);
    snprintf(d->type_name, sizeof(d->type_name), "%s+%s", ww_filetype_name((enum ww_filetype)t),
             ww_filetype_name((enum ww_filetype)d->embed_type));
    return d->type_name;
}

struct ww_deepscan *ww_deepscan_watcher(const struct ww_deepscan *d)
{
    if (d == NULL || d->e == NULL)
        return NULL;
    return ww_deepscan_create(d->e, 0, d->max_bytes, d->tmp_dir); /* takes its own reference */
}

int ww_deepscan_embedded(const struct ww_deepscan *d)
{
    return d != NULL ? d->embed_type : 0;
}

/* Bytes [off, off + len) of what was kept. WW_OK, or WW_EIO when they are not all there. */
static int deep_read(const struct ww_deepscan *d, int64_t off, void *buf, size_t len)
{
    if (d->fd < 0) {
        if (off < 0 || (uint64_t)off + len > d->mem_len)
            return WW_EIO;
        memcpy(buf, d->mem + off, len);
        return WW_OK;
    }
    return pread(d->fd, buf, len, (off_t)off) == (ssize_t)len ? WW_OK : WW_EIO;
}

/* What libclamav is shown when the kept bytes are looked at again: <zeros> zero bytes, then the
 * kept bytes from <skip> on. Read through a callback, so that the view may start anywhere (an
 * fmap over a file wants an offset aligned to a page). */
struct deep_view {
    const struct ww_deepscan *d;
    int64_t zeros, skip, body, len; /* <body> kept bytes from <skip>, then <suffix> */
    const unsigned char *suffix;
    const unsigned char *prefix; /* when not NULL: the <zeros> bytes are these instead */
};

static off_t view_pread(void *handle, void *buf, size_t count, off_t offset)
{
    const struct deep_view *v = handle;
    unsigned char *out = buf;
    size_t done = 0;

    if (offset < 0 || offset >= v->len)
        return 0;
    if ((int64_t)count > v->len - offset)
        count = (size_t)(v->len - offset);
    while (done < count) {
        int64_t o = (int64_t)offset + (int64_t)done;
        size_t n = count - done;
        if (o < v->zeros) {
            if ((int64_t)n > v->zeros - o)
                n = (size_t)(v->zeros - o);
            if (v->prefix != NULL)
                memcpy(out + done, v->prefix + o, n);
            else
                memset(out + done, 0, n);
        } else if (o >= v->zeros + v->body) { /* the suffix */
            memcpy(out + done, v->suffix + (o - v->zeros - v->body), n);
        } else {
            if ((int64_t)n > v->zeros + v->body - o)
                n = (size_t)(v->zeros + v->body - o);
            if (deep_read(v->d, o - v->zeros + v->skip, out + done, n) != WW_OK)
                return done > 0 ? (off_t)done : -1;
        }
        done += n;
    }
    return (off_t)done;
}

/* libclamav over a view of the kept bytes (deep_view): <zeros> zero bytes, the kept bytes
 * [skip, skip + body), <suffix_len> bytes of <suffix>. */
static void deep_scan_view(struct ww_deepscan *d, const unsigned char *prefix, int64_t zeros,
                           int64_t skip, int64_t body, const unsigned char *suffix,
                           size_t suffix_len, struct ww_deep_result *res)
{
    struct deep_view v = {d, zeros, skip, body, zeros + body + (int64_t)suffix_len, suffix, prefix};
    long t0 = ww_clamav_now_ms();

    /* the body's tar_again count goes on across its second looks */
    ww_clamav_scan_map(ww_clamav_engine(d->e),
                       cl_fmap_open_handle(&v, 0, (size_t)v.len, view_pread, 1), t0, &d->budget,
                       res);
}

#define DEEP_UNSUPPORTED "Webwarden.DeepScan.Unsupported."

/* Something a look could not inspect: the body is unscanned, named from <fmt>, unless a later
 * look finds a threat. The first such name is kept, but a limit (more to look at than the looks
 * may: clamav.limit_action, block by default) replaces a format nothing reads
 * (Unsupported.*, unsupported_action, allow by default): a decoy an attacker chose first must
 * not hide that the body held more (attack review 20, D1). 0: the looks go on. */
__attribute__((format(printf, 2, 3))) static int deep_pend(struct ww_deepscan *d, const char *fmt,
                                                           ...)
{
    char name[sizeof(d->pending.threat)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    if (d->pending.verdict != WW_DEEP_CLEAN &&
        (strncmp(d->pending.threat, DEEP_UNSUPPORTED, strlen(DEEP_UNSUPPORTED)) != 0 ||
         strncmp(name, DEEP_UNSUPPORTED, strlen(DEEP_UNSUPPORTED)) == 0))
        return 0;
    d->pending.verdict = WW_DEEP_UNSCANNED;
    memcpy(d->pending.threat, name, sizeof(name));
    return 0;
}

/* A second look at the kept bytes, a view of them (deep_scan_view): a finding is the body's
 * verdict (1: the looks end), what it could not inspect is pending (deep_pend). 1 also when the
 * looks' budget is spent: the body is unscanned. */
static int deep_again(struct ww_deepscan *d, const unsigned char *prefix, int64_t zeros,
                      int64_t skip, int64_t body, const unsigned char *suffix, size_t suffix_len,
                      struct ww_deep_result *res)
{
    struct ww_deep_result again;
    int err = 0;
    long long budget = cl_engine_get_num(ww_clamav_engine(d->e), CL_ENGINE_MAX_SCANTIME, &err);
    long extra = d->first_ms * 4 > 5000 ? d->first_ms * 4 : 5000;

    /* The looks of one body share a budget: 4 times the first scan's time, at least 5 s, and
     * never past clamav.max_scan_time_ms. A body built for many second looks (each a whole
     * libclamav scan) must not hold a thread for minutes. Past it: unscanned, never clean. */
    if (err != 0 || budget <= 0 || budget > d->first_ms + extra)
        budget = d->first_ms + extra;
    if (res->scan_ms >= budget) {
        res->verdict = WW_DEEP_UNSCANNED;
        snprintf(res->threat, sizeof(res->threat), "Heuristics.Limits.Exceeded.MaxScanTime");
        return 1;
    }
    deep_scan_view(d, prefix, zeros, skip, body, suffix, suffix_len, &again);
    res->scan_ms += again.scan_ms;
    if (again.verdict == WW_DEEP_UNSCANNED)
        return deep_pend(d, "%s", again.threat);
    if (again.verdict == WW_DEEP_CLEAN)
        return 0;
    again.scan_ms = res->scan_ms;
    *res = again;
    return 1;
}

#define ZIP_CD_MAX (4u << 20) /* central directories read for their members */

/* The members of a zip's central directory (from <cd_at> to the end record; one over ZIP_CD_MAX
 * is not read): one packed in a way libclamav cannot undo (LZMA, PPMd, xz, zstd) was not looked
 * into, and one larger than clamav.max_file_size was skipped by libclamav without a word:
 * unscanned either way (pending: deep_pend). */
static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct local_check {
    const struct ww_deepscan *d;
    int64_t start; /* the zip's first byte in the kept bytes */
    int disagrees; /* a local header that says other sizes or another method */
};

/* A member's local header against its central directory entry. Readers differ on which they
 * trust (Python and Java take the directory's sizes, libclamav the local header's): a member
 * whose two headers disagree is read differently by libclamav than by the victim's unzip. A
 * local header with a data descriptor (flag 3) carries no sizes; zip64 sizes (0xffffffff in
 * either header: the real ones are in an extra field) are not compared. */
static int local_agrees(void *arg, const struct ww_zip_member *m)
{
    struct local_check *lc = arg;
    unsigned char h[30];
    unsigned flags;

    if (deep_read(lc->d, lc->start + m->local, h, sizeof(h)) != WW_OK ||
        memcmp(h, "PK\3\4", 4) != 0) {
        lc->disagrees = 1;
        return 1;
    }
    flags = h[6] | (unsigned)h[7] << 8;
    if ((unsigned)(h[8] | h[9] << 8) != m->method)
        lc->disagrees = 1;
    else if (!(flags & 8) && m->csize != UINT32_MAX && m->usize != UINT32_MAX &&
             le32(h + 18) != UINT32_MAX && le32(h + 22) != UINT32_MAX && /* zip64 local sizes */
             (le32(h + 18) != m->csize || le32(h + 22) != m->usize))
        lc->disagrees = 1;
    return lc->disagrees;
}

static void deep_zip_members(struct ww_deepscan *d, int64_t start)
{
    unsigned method = 0;
    uint64_t largest = 0;
    struct local_check lc = {d, start, 0};

    if (d->dir != NULL)
        method = ww_filetype_zip_members(d->dir, d->dir_len, &largest, local_agrees, &lc);
    if (lc.disagrees)
        deep_pend(d, "Webwarden.DeepScan.Unsupported.ZipHeaders");
    else if (method != 0)
        deep_pend(d, "Webwarden.DeepScan.Unsupported.ZipMethod%u", method);
    else if (largest > (uint64_t)d->max_bytes) /* a size limit: scan.oversize_action */
        deep_pend(d, "Heuristics.Limits.Exceeded.MaxFileSize");
}

/* Zip members as a stream reader reads them.
 *
 * Zip has two indexes of its members: a local header before each member's data, and the
 * central directory at the end. Readers that open a file take the directory (Info-ZIP unzip,
 * Windows, Python, libclamav); readers of a stream walk the local headers from the first byte
 * (Java's ZipInputStream, and so many Java applications; bsdtar reading a pipe). libclamav 1.4
 * unpacks what the directory lists, with the local header's sizes (the directory's when the
 * member has a data descriptor, flag 3), and walks local headers only when the directory lists
 * some members and it could unpack few of them. So a stream reader extracts what libclamav never
 * looks at:
 * - members the directory does not list (put there, a zip glued before another one, a zip with
 *   no directory at all);
 * - listed members it reads other bytes of: a deflate member is read to the end of its deflate
 *   stream (the headers may say it is shorter: libclamav stops there),
 *   a stored member for its uncompressed size (the local header may say another compressed
 *   size), both sizes from a zip64 extra field when either 32-bit size says 0xffffffff.
 *
 * So the kept bytes are walked as ZipInputStream walks them: from each "PK\3\4" found, the
 * member's extent is worked out the stream reader's way (a deflate member with a data descriptor
 * inflated to its end; a stored one with a descriptor, which Java refuses, ends where a
 * descriptor says so, bsdtar's way), and the next header is searched for from there. A member
 * libclamav would not read the same is shown to it on its own (member_again): its local header
 * written again with the stream reader's sizes, its data, and a central directory listing it.
 * Bounded: ZIP_UNLISTED_MAX such members (then MaxFiles, clamav.limit_action); inflating to find
 * ends stops at clamav.max_file_size a member (MaxFileSize) and max_scan_size in all
 * (MaxScanSize): size limits, scan.oversize_action, as libclamav's own; the bytes shown member
 * by member stop at max_scan_size in all (members may overlap; MaxFiles, limit_action); a member
 * whose end cannot be found is unscanned (Unsupported.ZipHeaders, clamav.unsupported_action), one
 * packed in a way libclamav cannot undo too (Unsupported.ZipMethodN). The walk reads the kept bytes
 * through a window (kept_reader): a body of nothing but signatures costs about what a plain zip of
 * its size does; a zip costs a read of its headers and an inflate of its deflate members (a
 * stream reader's end of a deflate member is its stream's, whatever the headers say). */
#define ZIP_UNLISTED_MAX 64

struct zip_listed {
    int64_t at;            /* its local header in the kept bytes */
    uint64_t csize, usize; /* the directory's words; UINT64_MAX for zip64 */
};

struct listed_set {
    struct zip_listed *v;
    size_t n, cap;
    int64_t start;
};

static int listed_add(void *arg, const struct ww_zip_member *m)
{
    struct listed_set *ls = arg;

    if (ls->n == ls->cap) {
        size_t cap = ls->cap != 0 ? 2 * ls->cap : 64;
        struct zip_listed *v = realloc(ls->v, cap * sizeof(*v));
        if (v == NULL)
            return 1; /* the rest count as not listed: looked at twice */
        ls->v = v;
        ls->cap = cap;
    }
    ls->v[ls->n].at = ls->start + (int64_t)m->local;
    ls->v[ls->n].csize = m->csize == UINT32_MAX ? UINT64_MAX : m->csize;
    ls->v[ls->n].usize = m->usize == UINT32_MAX ? UINT64_MAX : m->usize;
    ls->n++;
    return 0;
}

static int listed_cmp(const void *a, const void *b)
{
    const struct zip_listed *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at;
}

static const struct zip_listed *listed_find(const struct listed_set *ls, int64_t at)
{
    struct zip_listed key = {at, 0, 0};
    return ls->n == 0 ? NULL : bsearch(&key, ls->v, ls->n, sizeof(key), listed_cmp);
}

/* The kept bytes read forward through a window, so that a walk that looks at many nearby
 * offsets (a body full of "PK\3\4") reads each byte about once. */
struct kept_reader {
    const struct ww_deepscan *d;
    int64_t kept;
    int64_t at; /* the window's first byte in the kept bytes */
    size_t len; /* its bytes */
    unsigned char buf[65536];
};

/* <n> bytes at <off>: from the window when they are in it, else read directly. */
static int kr_read(struct kept_reader *r, int64_t off, void *out, size_t n)
{
    if (off >= r->at && off + (int64_t)n <= r->at + (int64_t)r->len) {
        memcpy(out, r->buf + (off - r->at), n);
        return WW_OK;
    }
    return deep_read(r->d, off, out, n);
}

/* The first 4-byte signature <sig> in the kept bytes at or after <from>; -1 when there is none. */
static int64_t find_sig(struct kept_reader *r, int64_t from, const char *sig)
{
    while (r->kept - from >= 4) {
        const unsigned char *p, *e;
        if (from < r->at || from + 4 > r->at + (int64_t)r->len) { /* move the window there */
            size_t n = r->kept - from < (int64_t)sizeof(r->buf) ? (size_t)(r->kept - from)
                                                                : sizeof(r->buf);
            if (deep_read(r->d, from, r->buf, n) != WW_OK) {
                r->len = 0;
                return -1;
            }
            r->at = from;
            r->len = n;
        }
        p = r->buf + (from - r->at);
        e = r->buf + r->len;
        while ((p = memchr(p, sig[0], (size_t)(e - p))) != NULL && e - p >= 4) {
            if (memcmp(p, sig, 4) == 0)
                return r->at + (p - r->buf);
            p++;
        }
        from = r->at + (int64_t)r->len - 3; /* one across the window's end: in the next one */
    }
    return -1;
}

/* A raw deflate stream at <at>: where it ends (its compressed bytes in *csize) and what it
 * inflates to (*usize), as a stream reader finds them. 0; -1 when it does not end within the
 * kept bytes or is broken; -2 past clamav.max_file_size; -3 past *left (what is left of the
 * walk's budget, lowered). */
static int deflate_end(const struct ww_deepscan *d, int64_t at, int64_t kept, uint64_t *left,
                       uint64_t *csize, uint64_t *usize)
{
    unsigned char in[16384], out[65536];
    z_stream zs;
    int64_t pos = at;
    int rc = Z_OK, over = 0;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, -15) != Z_OK)
        return -1;
    while (rc != Z_STREAM_END) {
        if (zs.avail_in == 0) {
            size_t n = kept - pos < (int64_t)sizeof(in) ? (size_t)(kept - pos) : sizeof(in);
            if (n == 0 || deep_read(d, pos, in, n) != WW_OK)
                break;
            zs.next_in = in;
            zs.avail_in = (uInt)n;
            pos += (int64_t)n;
        }
        zs.next_out = out;
        zs.avail_out = sizeof(out);
        rc = inflate(&zs, Z_NO_FLUSH);
        if (zs.total_out > (uLong)d->max_bytes)
            over = -2;
        else if (zs.total_out > *left)
            over = -3;
        if (over != 0 || (rc != Z_OK && rc != Z_STREAM_END))
            break;
    }
    *csize = zs.total_in;
    *usize = zs.total_out;
    *left -= zs.total_out < *left ? zs.total_out : *left;
    inflateEnd(&zs);
    return over != 0 ? over : rc == Z_STREAM_END ? 0 : -1;
}

/* A stored member with a data descriptor: its end is where a descriptor ("PK\7\x08", then the CRC
 * and the size) says the data is as long as the bytes before it (bsdtar's way; Java refuses such
 * members). 0 and *csize; -1 when no descriptor fits. */
static int stored_end(struct kept_reader *r, int64_t at, uint64_t *csize)
{
    int64_t p = at;
    unsigned char dd[12];

    while ((p = find_sig(r, p, "PK\7\x08")) >= 0) {
        if (kr_read(r, p, dd, sizeof(dd)) == WW_OK && le32(dd + 8) == (uint64_t)(p - at)) {
            *csize = (uint64_t)(p - at);
            return 0;
        }
        p++;
    }
    return -1;
}

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (unsigned char)(v >> 8 * k);
}

/* A classic end-of-central-directory record (22 bytes at <p>): <n> entries, a directory of
 * <size> bytes at <off> from the zip's start, no comment. */
static void end_record(unsigned char *p, unsigned n, uint32_t size, uint32_t off)
{
    memset(p, 0, 22);
    memcpy(p, "PK\5\6", 4);
    put16(p + 8, n);
    put16(p + 10, n);
    put32(p + 12, size);
    put32(p + 16, off);
}

/* One member shown to libclamav as a stream reader reads it: its local header <h> written again
 * into <buf> without a data descriptor or extra field and with sizes <csize>/<usize>, its <csize>
 * bytes of data at <data>, and a central directory that lists it. 1 when the verdict was set. */
static int member_again(struct ww_deepscan *d, const unsigned char *h, const struct ww_zip_local *l,
                        int64_t data, uint64_t csize, uint64_t usize, unsigned char *buf,
                        struct ww_deep_result *res)
{
    size_t hl = 30 + l->name_len, cl = 46 + l->name_len;
    unsigned char *cd = buf + hl;

    memcpy(buf, h, hl);
    put16(buf + 6, l->flags & ~8u);
    put32(buf + 18, (uint32_t)csize);
    put32(buf + 22, (uint32_t)usize);
    put16(buf + 28, 0);
    memset(cd, 0, cl);
    memcpy(cd, "PK\1\2", 4);
    put16(cd + 4, 20);
    memcpy(cd + 6, buf + 4, 24); /* version needed .. name length: the local header's words */
    memcpy(cd + 46, h + 30, l->name_len);
    end_record(cd + cl, 1, (uint32_t)cl, (uint32_t)(hl + csize));
    return deep_again(d, buf, (int64_t)hl, data, (int64_t)csize, cd, cl + 22, res);
}

/* See above. <start>: where the zip its end record found starts (< 0: none; its directory is
 * d->dir). 1 when a member
 * shown on its own was found infected (or the looks' budget is spent); what the walk cannot
 * follow is pending (deep_pend). */
static int deep_zip_stream(struct ww_deepscan *d, int64_t start, int64_t kept,
                           struct ww_deep_result *res)
{
    struct listed_set ls = {NULL, 0, 0, start};
    /* a local header (30 + name + extra), then room for it written again with a directory */
    unsigned char *h = malloc(2 * (30 + 2 * 65535) + 46 + 22);
    struct kept_reader *r = malloc(sizeof(*r));
    int64_t pos = 0, at;
    size_t n = 0;
    int err = 0, rc = 0;
    long long scan_size = cl_engine_get_num(ww_clamav_engine(d->e), CL_ENGINE_MAX_SCANSIZE, &err);
    uint64_t inflate_left = err == 0 && scan_size > 0 ? (uint64_t)scan_size : UINT64_MAX;
    uint64_t shown_left = inflate_left; /* the bytes shown to libclamav member by member */

    if (h == NULL || r == NULL) {
        free(h);
        free(r);
        return deep_pend(d, "Webwarden.DeepScan.%s", ww_strerror(WW_ENOMEM));
    }
    r->d = d;
    r->kept = kept;
    r->at = 0;
    r->len = 0;
    if (start >= 0 && d->dir != NULL) {
        uint64_t largest;
        ww_filetype_zip_members(d->dir, d->dir_len, &largest, listed_add, &ls);
        if (ls.n > 1)
            qsort(ls.v, ls.n, sizeof(*ls.v), listed_cmp);
    }
    while (rc == 0 && (at = find_sig(r, pos, "PK\3\4")) >= 0) {
        struct ww_zip_local l;
        const struct zip_listed *li = listed_find(&ls, at);
        size_t hn = kept - at < 30 ? (size_t)(kept - at) : 30;
        uint64_t jc, ju, clam; /* the stream reader's sizes; the compressed size libclamav reads */
        int64_t data;
        int dd, differs;

        if (hn < 30 || kr_read(r, at, h, hn) != WW_OK) {
            pos = at + 1;
            continue;
        }
        hn = 30 + (h[26] | (size_t)h[27] << 8) + (h[28] | (size_t)h[29] << 8);
        if (hn > (uint64_t)(kept - at) || kr_read(r, at, h, hn) != WW_OK ||
            !ww_filetype_zip_local(h, hn, &l)) {
            pos = at + 1; /* not a header: a chance "PK\3\4" */
            continue;
        }
        data = at + (int64_t)l.head_len;
        dd = (l.flags & 8) != 0;
        jc = l.csize;
        ju = l.usize;
        if (l.method == 8) {
            /* ZipInputStream inflates to the stream's end, whatever the headers say (without a
             * descriptor it throws there when the sizes differ, after giving out the data) */
            int e = deflate_end(d, data, kept, &inflate_left, &jc, &ju);
            if (e == -2 || e == -3) {
                deep_pend(d, "Heuristics.Limits.Exceeded.%s",
                          e == -2 ? "MaxFileSize" : "MaxScanSize");
                break;
            }
            if (e != 0 && dd && li == NULL) {
                deep_pend(d, "Webwarden.DeepScan.Unsupported.ZipHeaders");
                break;
            }
            if (e != 0) { /* broken: a stream reader stops there; the headers' sizes */
                jc = dd ? li->csize : l.csize;
                ju = dd ? li->usize : l.usize;
            }
        } else if (dd && li != NULL) {
            jc = li->csize; /* stored or other, with a descriptor: the directory's sizes */
            ju = li->usize;
        } else if (dd && l.method == 0) {
            if (stored_end(r, data, &jc) != 0) {
                deep_pend(d, "Webwarden.DeepScan.Unsupported.ZipHeaders");
                break;
            }
            ju = jc;
        } else if (dd) {
            deep_pend(d, "Webwarden.DeepScan.Unsupported.ZipHeaders");
            break;
        } else if (l.method == 0 && !(l.flags & 1)) {
            jc = l.usize; /* stored: ZipInputStream reads the uncompressed size */
        }
        if (jc == UINT64_MAX || ju == UINT64_MAX) {
            deep_pend(d, "Webwarden.DeepScan.Unsupported.ZipHeaders");
            break;
        }
        if (jc > (uint64_t)(kept - data))
            jc = (uint64_t)(kept - data); /* cut short: what is there is still extracted */
        /* libclamav reads a listed member's local sizes, the directory's with a descriptor */
        clam = dd ? (li != NULL ? li->csize : 0) : l.csize;
        differs = li == NULL || (l.method == 8 && clam < jc) || (l.method == 0 && clam != jc);
        /* the next header: after the stream reader's end, or the local header's when nearer */
        pos = data + (int64_t)(!dd && l.csize < jc ? l.csize : jc);
        if (pos <= at)
            pos = at + 1;
        if (!differs || jc == 0)
            continue;
        if (!ww_filetype_zip_method_read(l.method, l.flags)) {
            deep_pend(d, "Webwarden.DeepScan.Unsupported.ZipMethod%u", l.method);
            break;
        }
        if (++n > ZIP_UNLISTED_MAX || jc > UINT32_MAX || ju > UINT32_MAX) {
            deep_pend(d, "Heuristics.Limits.Exceeded.MaxFiles");
            break;
        }
        if (jc > shown_left) {
            /* members that overlap, each shown whole: bounded in all, and a limit, not a size
             * (no zip writer leaves members libclamav reads otherwise) */
            deep_pend(d, "Heuristics.Limits.Exceeded.MaxFiles");
            break;
        }
        shown_left -= jc;
        rc = member_again(d, h, &l, data, jc, ju, h + 30 + 2 * 65535, res);
    }
    free(h);
    free(r);
    free(ls.v);
    return rc;
}

#define LOOK_AGAIN_MAX 4 /* further hidden-archive signatures looked at again, per body */

/* A body the deep scanner found clean, looked at again where libclamav may have been fooled:
 * - A zip that does not start where libclamav looked (a decoy "PK\3\4" before it, a polyglot's
 *   prefix, a gzip header's extra field): zip readers find it from its end record and skip what
 *   is before; so is it scanned again, from there. Then its members (deep_zip_members).
 * - A polyglot whose first hidden signature was a decoy: an ISO image's volume descriptor at
 *   32768 is scanned as an ISO (zeros for the bytes not kept), and the next hidden signatures,
 *   each from where it starts (cabextract and 7-Zip look for theirs anywhere).
 * - The zip walk as a stream reader walks it (deep_zip_stream).
 * An executable gets the members' check alone: a self-extracting archive is libclamav's own case.
 * A finding ends the looks; what one cannot inspect is pending (deep_pend) and the rest go on.
 */
static void deep_looks(struct ww_deepscan *d, struct ww_deep_result *res)
{
    unsigned char *tail, sig[8], end[22];
    int64_t kept, start = -1;
    struct ww_zip_end z = {-1, 0, 0, 0};
    size_t tlen;
    struct stat st;
    int zip_ok = 0;  /* a zip found by its end record: its members' signatures are its own */
    int zip_dir = 0; /* an end record and the directory it points at (a marker may come first) */

    int exe = d->type == WW_FT_PE || d->type == WW_FT_ELF || d->type == WW_FT_MACHO;

    if (d->fd >= 0)
        kept = fstat(d->fd, &st) == 0 ? (int64_t)st.st_size : 0;
    else
        kept = (int64_t)d->mem_len;
    if (kept >= 22) {
        tlen = kept < WW_FILETYPE_ZIP_TAIL ? (size_t)kept : WW_FILETYPE_ZIP_TAIL;
        tail = malloc(tlen);
        start = tail != NULL && deep_read(d, kept - (int64_t)tlen, tail, tlen) == WW_OK
                    ? ww_filetype_zip_start(tail, tlen, kept, &z)
                    : -1;
        free(tail);
        zip_dir =
            start >= 0 && deep_read(d, z.cd_at, sig, 4) == WW_OK && memcmp(sig, "PK\1\2", 4) == 0;
        if (zip_dir) { /* read once, for the members' check and the walk */
            d->dir_len =
                kept - z.cd_at > (int64_t)ZIP_CD_MAX ? ZIP_CD_MAX : (size_t)(kept - z.cd_at);
            if ((d->dir = malloc(d->dir_len)) != NULL &&
                deep_read(d, z.cd_at, d->dir, d->dir_len) != WW_OK) {
                free(d->dir);
                d->dir = NULL;
            }
        }
        if (zip_dir && deep_read(d, start, sig, 4) == WW_OK && memcmp(sig, "PK\3\4", 4) == 0) {
            if (start > 0 && !exe && deep_again(d, NULL, 0, start, kept - start, NULL, 0, res))
                return;
            if (z.zip64 && !exe && z.cd_size <= UINT32_MAX && z.cd_at - start <= UINT32_MAX) {
                /* libclamav reads no zip64 end record: the zip once more, ending in a classic
                 * record with the zip64 record's numbers (zips under 4 GiB) */
                end_record(end, z.entries > 0xffff ? 0xffff : (unsigned)z.entries,
                           (uint32_t)z.cd_size, (uint32_t)(z.cd_at - start));
                if (deep_again(d, NULL, 0, start, z.cd_at + z.cd_size - start, end, sizeof(end),
                               res))
                    return;
            }
            deep_zip_members(d, start);
            zip_ok = 1;
        }
    }
    if (!exe &&
        (zip_dir || d->embed_type == WW_FT_ZIP || d->type == WW_FT_ZIP || d->type == WW_FT_JAR ||
         d->type == WW_FT_APK || d->type == WW_FT_OOXML || d->type == WW_FT_ODF) &&
        deep_zip_stream(d, zip_dir ? start : -1, kept, res))
        return;
    if (d->type == WW_FT_MAIL && d->embed_type == 0) {
        /* A mail libclamav may take for something else ("ID3: x" as its first header reads as
         * an MP3 to it): once more behind a header line that only a mail starts with. */
        static const unsigned char hdr[] = "Received: by webwarden\n";
        if (deep_again(d, hdr, (int64_t)sizeof(hdr) - 1, 0, kept, NULL, 0, res))
            return;
    }
    if (d->embed_type == 0)
        return;
    if (d->embed_at > 0 && d->embed_at < ISO_PVD_AT &&
        deep_read(d, ISO_PVD_AT - d->embed_at, sig, 7) == WW_OK &&
        memcmp(sig, "\1CD001\1", 7) == 0 && deep_again(d, NULL, d->embed_at, 0, kept, NULL, 0, res))
        return;
    {
        struct ww_filetype_embed f;
        unsigned char buf[65536];
        int64_t pos = 1, at; /* past the first signature, where the kept bytes start */
        int found = 0;
        /* the finder counts the body's offsets: GNU tar's blocks are the body's, not those of the
         * bytes kept from a first signature (a decoy) on */
        ww_filetype_embed_init_at(&f, d->embed_at + pos);
        if (d->embed.text)
            ww_filetype_embed_text(&f);
        while (pos < kept) {
            size_t n = kept - pos < (int64_t)sizeof(buf) ? (size_t)(kept - pos) : sizeof(buf);
            enum ww_filetype et = WW_FT_UNKNOWN;
            if (deep_read(d, pos, buf, n) != WW_OK ||
                (et = ww_filetype_embed_feed(&f, buf, n, &at)) == WW_FT_UNKNOWN) {
                pos += (int64_t)n;
                continue;
            }
            at -= d->embed_at; /* in the kept bytes */
            if (!(et == WW_FT_ZIP && zip_ok)) {
                if (++found > LOOK_AGAIN_MAX) {
                    /* more hidden signatures than looks: a body built of decoys is not clean */
                    deep_pend(d, "Heuristics.Limits.Exceeded.MaxFiles");
                    return;
                }
                if (deep_again(d, NULL, 0, at, kept - at, NULL, 0, res))
                    return;
            }
            pos = at + 1; /* the next one after it */
            ww_filetype_embed_init_at(&f, d->embed_at + pos);
            if (d->embed.text)
                ww_filetype_embed_text(&f);
        }
    }
}

/* The looks at a body whose first scan found nothing (clean, or not fully inspected: then
 * pending). A finding wins; else what a scan or a look could not inspect makes it unscanned. */
static void deep_look_again(struct ww_deepscan *d, struct ww_deep_result *res)
{
    deep_looks(d, res);
    free(d->dir);
    d->dir = NULL;
    if (res->verdict == WW_DEEP_CLEAN && d->pending.verdict != WW_DEEP_CLEAN) {
        long ms = res->scan_ms;
        *res = d->pending;
        res->scan_ms = ms;
    }
}

int ww_deepscan_finish(struct ww_deepscan *d, struct ww_deep_result *res)
{
    memset(res, 0, sizeof(*res));
    if (d == NULL)
        return 0;
    if (d->type < 0 && d->fd < 0)
        deep_set_type(d);
    if (d->e == NULL || d->type < 0 ||
        (!ww_filetype_set_has(d->types, (enum ww_filetype)d->type) && d->embed_type == 0))
        return 0;
    if (d->over) {
        res->verdict = WW_DEEP_UNSCANNED;
        snprintf(res->threat, sizeof(res->threat), "Heuristics.Limits.Exceeded.MaxFileSize");
        return 1;
    }
    if (d->error != WW_OK || !d->keep) {
        res->verdict = WW_DEEP_UNSCANNED;
        snprintf(res->threat, sizeof(res->threat), "Webwarden.DeepScan.%s",
                 ww_strerror(d->error != WW_OK ? d->error : WW_EIO));
        return 1;
    }
    if (d->fd >= 0)
        ww_clamav_scan_fd_in(d->e, d->fd, &d->budget, res);
    else
        ww_clamav_scan_map(ww_clamav_engine(d->e),
                           cl_fmap_open_memory(d->mem != NULL ? d->mem : (void *)"", d->mem_len),
                           ww_clamav_now_ms(), &d->budget, res);
    d->first_ms = res->scan_ms;
    if (res->verdict == WW_DEEP_UNSCANNED) {
        /* what libclamav could not inspect does not end the looks: one of them may find a
         * threat that libclamav's own view hid (a mail it took for an MP3, a tar checksum
         * written into it); else the body stays unscanned */
        deep_pend(d, "%s", res->threat);
        res->verdict = WW_DEEP_CLEAN;
        res->threat[0] = '\0';
    }
    if (res->verdict == WW_DEEP_CLEAN)
        deep_look_again(d, res);
    if (res->verdict == WW_DEEP_CLEAN && d->embed_type == 0 && d->type == WW_FT_LZOP) {
        /* a compressor libclamav 1.4 cannot undo, nor lib/ww_unpack: what is inside was not
         * looked at (a zstd, lzip, .Z or lz4 body is decoded by on_file, and unsupported there
         * when it cannot be) */
        res->verdict = WW_DEEP_UNSCANNED;
        snprintf(res->threat, sizeof(res->threat), "Webwarden.DeepScan.Unsupported.%s",
                 ww_filetype_name((enum ww_filetype)d->type));
    }
    deep_drop(d);
    return 1;
}

void ww_deepscan_free(struct ww_deepscan *d)
{
    if (d == NULL)
        return;
    deep_drop(d);
    ww_clamav_unref(d->e);
    free(d->tmp_dir);
    free(d);
}
