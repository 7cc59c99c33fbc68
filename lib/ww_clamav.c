/* lib/ww_clamav.c - the deep scanner on libclamav 1.4.
 *
 * One compiled cl_engine per ww_clamav, shared read-only by every thread (libclamav allows
 * concurrent scans on a compiled engine). The ClamAV folder is loaded with one cl_load() of the
 * folder; only when that fails are its files loaded one by one, to name the broken one. Per-file
 * counts come from the CVD/CLD headers and, for text databases, a count of signature lines.
 * A broken ClamAV database fails the whole load: the caller keeps the engine it had. A
 * Webwarden pattern file libclamav refuses is skipped and counted: the fast engine, which
 * skips bad lines one by one, still has its good lines.
 *
 * Limits are set on the engine and CL_SCAN_HEURISTIC_EXCEEDS_MAX is always on, so a body that
 * hits one comes back as "Heuristics.Limits.Exceeded.*", which we report as UNSCANNED, never
 * as clean. */
#include "config.h"

#include <clamav.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ww_clamav.h"
#include "ww_clamav_int.h"
#include "ww_common.h"
#include "ww_diskimage.h"
#include "ww_iso.h"
#include "ww_udf.h"
#include "ww_filetype.h"
#include "ww_unpack.h"

struct ww_clamav {
    atomic_int refs;
    struct cl_engine *engine;
    struct ww_clamav_info info;
};

static void on_clamav_msg(enum cl_msg severity, const char *fullmsg, const char *msg, void *ctx);

static pthread_once_t clamav_once = PTHREAD_ONCE_INIT;
static int clamav_init_rc = WW_EIO;

static void clamav_init_once(void)
{
    clamav_init_rc = cl_init(CL_INIT_DEFAULT) == CL_SUCCESS ? WW_OK : WW_EIO;
    cl_set_clcb_msg(on_clamav_msg);
}

int ww_clamav_global_init(void)
{
    pthread_once(&clamav_once, clamav_init_once);
    return clamav_init_rc;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The database formats libclamav reads from a folder (its CLI_DBEXT, less the config files). */
static int is_clamav_db(const char *name)
{
    static const char *const ext[] = {
        ".cvd", ".cld", ".cud", ".hdb", ".hsb", ".hdu", ".hsu", ".mdb",  ".msb", ".mdu",  ".msu",
        ".ndb", ".ndu", ".ldb", ".ldu", ".sdb", ".zmd", ".rmd", ".idb",  ".fp",  ".sfp",  ".gdb",
        ".pdb", ".wdb", ".cbc", ".cdb", ".ftm", ".crb", ".ign", ".ign2", ".imp", ".pwdb", NULL};
    if (name[0] == '.')
        return 0;
    for (size_t i = 0; ext[i] != NULL; i++)
        if (ends_with(name, ext[i]))
            return 1;
    return 0;
}

static int is_pattern_file(const char *name)
{
    return name[0] != '.' &&
           (ends_with(name, ".hdb") || ends_with(name, ".hsb") || ends_with(name, ".ndb"));
}

/* libclamav's messages: while a pattern file loads (one thread, the monitor's) the last error is
 * kept, for the line it names; otherwise they go to stderr as libclamav's own default does. */
static _Thread_local int msg_capture;
static _Thread_local char msg_last[256];

static void on_clamav_msg(enum cl_msg severity, const char *fullmsg, const char *msg, void *ctx)
{
    (void)ctx;
    if (msg_capture) {
        if (severity == CL_MSG_ERROR && msg != NULL && strstr(msg, " at line ") != NULL)
            snprintf(msg_last, sizeof(msg_last), "%s", msg);
        return;
    }
    if (fullmsg != NULL)
        fputs(fullmsg, stderr);
}

/* The line libclamav's last error named ("... at line N"), or 0. */
static unsigned long msg_line(void)
{
    const char *p = strstr(msg_last, " at line ");
    return p != NULL ? strtoul(p + 9, NULL, 10) : 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the regular files of <dir> that <want> accepts. WW_OK (possibly none),
 * WW_ENOTFOUND (no such folder), WW_EIO or WW_ENOMEM. Caller frees each name and the array. */
static int list_dir(const char *dir, int (*want)(const char *), char ***names_out, size_t *n_out)
{
    DIR *d;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = WW_OK;

    *names_out = NULL;
    *n_out = 0;
    if (dir == NULL || dir[0] == '\0')
        return WW_ENOTFOUND;
    d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? WW_ENOTFOUND : WW_EIO;
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        if (!want(de->d_name))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = realloc(names, ncap * sizeof(*names));
            if (nn == NULL) {
                rc = WW_ENOMEM;
                break;
            }
            names = nn;
            cap = ncap;
        }
        names[n] = strdup(de->d_name);
        if (names[n] == NULL) {
            rc = WW_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc != WW_OK) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return rc;
    }
    if (n > 1)
        qsort(names, n, sizeof(*names), name_cmp);
    *names_out = names;
    *n_out = n;
    return WW_OK;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Header of a .cvd/.cld/.cud, or the file's mtime for a text database, into <db>. */
static void db_describe(const char *dir, const char *name, unsigned loaded_sigs,
                        struct ww_clamav_db *db)
{
    char path[4096];
    struct stat st;

    memset(db, 0, sizeof(*db));
    snprintf(db->name, sizeof(db->name), "%s", name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    db->sigs = loaded_sigs;
    if (ends_with(name, ".cvd") || ends_with(name, ".cld") || ends_with(name, ".cud")) {
        struct cl_cvd *h = cl_cvdhead(path);
        if (h != NULL) {
            db->version = h->version;
            db->sigs = h->sigs;
            db->built = (time_t)h->stime;
            cl_cvdfree(h);
            return;
        }
    }
    if (stat(path, &st) == 0)
        db->built = st.st_mtime;
}

static void info_add_db(struct ww_clamav_info *info, const struct ww_clamav_db *db)
{
    if (info->ndbs < WW_CLAMAV_MAX_DBS)
        info->dbs[info->ndbs] = *db;
    info->ndbs++;
    if (db->built > info->newest_built)
        info->newest_built = db->built;
}

int ww_clamav_read_dir(const char *clamav_dir, struct ww_clamav_info *info)
{
    char **names;
    size_t n;
    int rc;

    memset(info, 0, sizeof(*info));
    snprintf(info->libclamav_version, sizeof(info->libclamav_version), "%s", cl_retver());
    rc = list_dir(clamav_dir, is_clamav_db, &names, &n);
    if (rc != WW_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct ww_clamav_db db;
        db_describe(clamav_dir, names[i], 0, &db);
        info_add_db(info, &db);
        info->clamav_sigs += db.sigs;
    }
    free_names(names, n);
    return n > 0 ? WW_OK : WW_ENOTFOUND;
}

struct scan_ctx {
    char first[128];       /* the first name libclamav reported */
    char real[128];        /* the first that is a finding, not "could not look inside" */
    char unsupported[128]; /* a file inside that libclamav could not open (on_file) */
    char limit[128];       /* a tar looked at again (tar_again) that hit a limit, or too deep */
    struct cl_engine *engine;
    int depth;                  /* tar_again and decoded scans this one is inside */
    int tar_copy;               /* this scan's file is tar_again's copy, read as GNU tar reads it */
    struct scan_ctx *top;       /* the body's scan: what its tar_again scans share */
    struct scan_budget own;     /* (top) what this scan spent, unless <budget> points elsewhere */
    struct scan_budget *budget; /* (top) the budget in force: the body's, across its looks */
    long t0;                    /* (top) when the body's scan began */
};

#define TAR_AGAIN_DEPTH 4    /* tars inside tars looked at again, one inside the other */
#define TAR_AGAIN_MAX 4      /* tar_again scans a body, in all: each may cost a whole scan */
#define DECODED_MAX 16       /* streams decoded a body (lib/ww_unpack); past it: unscanned */
#define ZIP_DECODED_MAX 1000 /* zip members decoded a body (zip_again); past it: unscanned */

static int file_unsupported(const unsigned char *b, size_t len, enum ww_filetype t, int64_t zstart,
                            const struct ww_zip_end *z, char *why, size_t whylen,
                            uint64_t *largest);
static void scan_options(struct cl_scan_options *o);
static int not_inspected(const char *virname);

/* libclamav over <map> (NULL: it could not be made: CL_EMEM) with context <c>, closed here. */
static cl_error_t map_scan(struct scan_ctx *c, cl_fmap_t *map, const char **virname)
{
    struct cl_scan_options o;
    unsigned long scanned = 0;
    cl_error_t cr;

    if (map == NULL)
        return CL_EMEM;
    scan_options(&o);
    cr = cl_scanmap_callback(map, NULL, virname, &scanned, c->engine, &o, c);
    cl_fmap_close(map);
    if (c->top != NULL) /* a nested scan: what libclamav read and unpacked counts for the body */
        c->top->budget->decoded_bytes += (uint64_t)scanned * CL_COUNT_PRECISION;
    return cr;
}

/* <len> bytes at <b> scanned by libclamav inside the scan of <c>, one level deeper (<tar_copy>:
 * tar_again's copy): a finding is the file's (CL_VIRUS, named in c->real); what that scan could
 * not inspect is the body's. */
static cl_error_t nested_scan(struct scan_ctx *c, const unsigned char *b, size_t len, int tar_copy)
{
    struct scan_ctx n;
    const char *virname = NULL;
    cl_error_t cr;

    memset(&n, 0, sizeof(n));
    n.tar_copy = tar_copy;
    n.engine = c->engine;
    n.depth = c->depth + 1;
    n.top = c->top != NULL ? c->top : c;
    cr = map_scan(&n, cl_fmap_open_memory(b, len), &virname);
    if (n.real[0] != '\0' || (cr == CL_VIRUS && virname != NULL && !not_inspected(virname))) {
        if (c->real[0] == '\0')
            snprintf(c->real, sizeof(c->real), "%s", n.real[0] != '\0' ? n.real : virname);
        return CL_VIRUS;
    }
    if (c->limit[0] == '\0') {
        if (n.limit[0] != '\0')
            snprintf(c->limit, sizeof(c->limit), "%s", n.limit);
        else if (n.first[0] != '\0' && not_inspected(n.first))
            snprintf(c->limit, sizeof(c->limit), "%s", n.first);
        else if (cr != CL_CLEAN && cr != CL_VIRUS)
            snprintf(c->limit, sizeof(c->limit), "libclamav: %s", cl_strerror(cr));
    }
    if (c->unsupported[0] == '\0' && n.unsupported[0] != '\0')
        snprintf(c->unsupported, sizeof(c->unsupported), "%s", n.unsupported);
    return CL_CLEAN;
}

/* What a stream decoded inside a scan may still give. */
struct dec_budget {
    size_t limit; /* bytes */
    int by_scan;  /* the bound is max_scan_size's rest, not max_file_size */
};

/* Whether a stream inside the scan of <c> may be decoded (decoded_again): 1 and <d> set; 0 not
 * (the count or depth spent, or the engine unreadable: the caller calls it unsupported); -1 a
 * limit of the body is hit (c->limit set, *cr CL_CLEAN: it was looked at). Decoded streams count
 * against libclamav's max_file_size each, max_scan_size together and max_scan_time, as libclamav
 * counts what it unpacks; <kind> DEC_FILE (an archive's or image's file) against its max_files
 * too (MaxFiles, as libclamav's own count of what it extracts). */
enum { DEC_STREAM, DEC_ZIP, DEC_FILE };

static int decode_begin(struct scan_ctx *c, struct dec_budget *d, cl_error_t *cr, int kind)
{
    struct scan_ctx *top = c->top != NULL ? c->top : c;
    int err = 0;
    long long max_file = cl_engine_get_num(c->engine, CL_ENGINE_MAX_FILESIZE, &err);
    long long max_scan = cl_engine_get_num(c->engine, CL_ENGINE_MAX_SCANSIZE, &err);
    long long max_ms = cl_engine_get_num(c->engine, CL_ENGINE_MAX_SCANTIME, &err);
    long long max_files = cl_engine_get_num(c->engine, CL_ENGINE_MAX_FILES, &err);
    const char *limit = NULL;

    memset(d, 0, sizeof(*d));
    if (err != 0 || max_file <= 0 || max_scan <= 0 || c->depth >= TAR_AGAIN_DEPTH ||
        (kind == DEC_ZIP && top->budget->zip_members >= ZIP_DECODED_MAX) ||
        (kind == DEC_STREAM && top->budget->decoded >= DECODED_MAX))
        return 0;
    if (kind == DEC_FILE && max_files > 0 && top->budget->files >= (unsigned long long)max_files)
        limit = "MaxFiles";
    else if (top->budget->decoded_bytes >= (uint64_t)max_scan)
        limit = "MaxScanSize";
    else if (max_ms > 0 && now_ms() - top->t0 > max_ms)
        limit = "MaxScanTime";
    if (limit != NULL) {
        if (c->limit[0] == '\0')
            snprintf(c->limit, sizeof(c->limit), "Heuristics.Limits.Exceeded.%s", limit);
        *cr = CL_CLEAN;
        return -1;
    }
    if ((uint64_t)max_file > (uint64_t)max_scan - top->budget->decoded_bytes) {
        max_file = (long long)((uint64_t)max_scan - top->budget->decoded_bytes);
        d->by_scan = 1;
    }
    d->limit = (unsigned long long)max_file < SIZE_MAX ? (size_t)max_file : SIZE_MAX - 1;
    if (kind == DEC_ZIP)
        top->budget->zip_members++;
    else if (kind == DEC_FILE)
        top->budget->files++;
    else
        top->budget->decoded++;
    return 1;
}

/* A stream of format <fmt> (<len> bytes at <b>) that libclamav cannot undo, or reads only the
 * start of, decoded (lib/ww_unpack) within the body's budget (decode_begin), and its content
 * scanned (nested_scan), even when decoding failed part-way: what a reader writes before the
 * error (zstd -d, bzip2 -d, tar extracting a cut archive) is scanned either way. 1 when the
 * stream was looked at (a finding or not in *cr, a limit in c->limit); 0 when it could not be
 * decoded and nothing was found in what was (the caller calls it unsupported). */
enum { LHA = 1, DISK = 2, SEVENZ = 3, ISO = 4, UDF = 5, CPIO = 6 };
enum { ENTRY_UNREAD, ENTRY_READ, ENTRY_END, ENTRY_BAD }; /* what ww_unpack_entries_next said */

struct dec_src {
    enum ww_unpack_format fmt; /* a stream of this format; or */
    unsigned zip_method;       /* not 0: a zip member's data (ww_unpack_zip_member) */
    unsigned zip_flags;
    uint32_t zip_crc;
    uint64_t zip_usize;
    int member_of; /* not 0: file <member> of a disk image (DISK: ww_diskimage_file; ISO:
                    * ww_iso_file of <iso>), or the next entry of an archive libarchive reads
                    * (LHA, SEVENZ: <entries>) */
    size_t member;
    int vhd; /* a dynamic VHD (1) or a VHDX (2): its disk (ww_diskimage_vhd, _vhdx) */
    const struct ww_iso *iso;
    const struct ww_udf *udf;
    struct ww_unpack_entries *entries;
    int *entry;   /* ENTRY_*: set by decoded_again */
    size_t *gave; /* the bytes the entry gave: set by decoded_again */
};

static int decoded_again(struct scan_ctx *c, const struct dec_src *src, const unsigned char *b,
                         size_t len, cl_error_t *cr)
{
    struct scan_ctx *top = c->top != NULL ? c->top : c;
    struct dec_budget d;
    enum ww_unpack_result r;
    unsigned char *out = NULL;
    size_t n = 0;
    int looked = 1;

    if ((looked = decode_begin(c, &d, cr,
                               src->member_of != 0    ? DEC_FILE
                               : src->zip_method != 0 ? DEC_ZIP
                                                      : DEC_STREAM)) <= 0)
        return looked < 0;
    looked = 1;
    /* the decoder is gone before the scan */
    if (src->entries != NULL) {
        int enc = 0, k = ww_unpack_entries_next(src->entries, d.limit, &r, &out, &n, &enc);
        *src->entry = k > 0 ? ENTRY_READ : k == 0 ? ENTRY_END : ENTRY_BAD;
        *src->gave = n;
        if (k <= 0 || enc)
            return k >= 0; /* the end; or encrypted: libclamav's heuristic tells it (it reads
                            * the same headers) */
    } else if (src->vhd)
        r = src->vhd == 2 ? ww_diskimage_vhdx(b, len, d.limit, &out, &n)
                          : ww_diskimage_vhd(b, len, d.limit, &out, &n);
    else if (src->member_of == DISK)
        r = ww_diskimage_file(b, len, src->member, d.limit, &out, &n);
    else if (src->member_of == ISO)
        r = ww_iso_file(src->iso, b, len, src->member, d.limit, &out, &n);
    else if (src->member_of == UDF)
        r = ww_udf_file(src->udf, b, len, src->member, d.limit, &out, &n);
    else if (src->zip_method != 0)
        r = ww_unpack_zip_member(src->zip_method, src->zip_flags, src->zip_crc, src->zip_usize, b,
                                 len, d.limit, &out, &n);
    else
        r = ww_unpack(src->fmt, b, len, d.limit, &out, &n);
    top->budget->decoded_bytes += n;
    if (r == WW_UNPACK_OVER) {
        /* libclamav would skip a member this large: the size policy decides, as for one */
        if (c->limit[0] == '\0')
            snprintf(c->limit, sizeof(c->limit), "Heuristics.Limits.Exceeded.%s",
                     d.by_scan ? "MaxScanSize" : "MaxFileSize");
        *cr = CL_CLEAN;
    } else {
        /* a zip member that decodes to more than its directory's size: Python's zipfile (and
         * readers like it) writes that many bytes, a reader that does not cut writes it all:
         * both are scanned (attack review 14, F1) */
        if (src->zip_method != 0 && src->zip_usize < n && src->zip_usize > 0)
            *cr = nested_scan(c, out, (size_t)src->zip_usize, 0);
        if (*cr != CL_VIRUS)
            *cr = n > 0 ? nested_scan(c, out, n, 0) : CL_CLEAN; /* empty: nothing in it */
        if (r != WW_UNPACK_DONE)
            looked = *cr == CL_VIRUS;
    }
    free(out);
    return looked;
}

/* decoded_again, and what could not be decoded marked unsupported
 * (Webwarden.DeepScan.Unsupported.<why>). CL_VIRUS for a finding, else CL_CLEAN. */
static cl_error_t decode_or_mark(struct scan_ctx *c, enum ww_unpack_format fmt,
                                 const unsigned char *b, size_t len, const char *why)
{
    cl_error_t cr = CL_CLEAN;
    struct dec_src src = {.fmt = fmt};

    if (!decoded_again(c, &src, b, len, &cr) && c->unsupported[0] == '\0')
        snprintf(c->unsupported, sizeof(c->unsupported), "Webwarden.DeepScan.Unsupported.%s", why);
    return cr == CL_VIRUS ? CL_VIRUS : CL_CLEAN;
}

/* The files of an archive or image whose content libclamav 1.4 does not read, or reads in part
 * (<kind>): an LHA archive (.lzh, libarchive, as 7-Zip and WinRAR read it), a 7z (libarchive,
 * every one: libclamav's reader skips coders, folder shapes and CRC errors silently; its header
 * read here first, ww_unpack_7z_coders), a disk image (.img, a fixed .vhd: lib/ww_diskimage, as
 * Windows mounts it). Each file decoded and its content scanned. What does not read (headers, a
 * filesystem other than FAT, a dynamic VHD), a file that does not decode (a bad CRC, a chain cut
 * short, a coder libarchive lacks), a 7z folder that gave no file: unsupported
 * (Unsupported.<why>), what came scanned; more files in a body than clamav.max_files: MaxFiles
 * (decode_begin), as libclamav's own count. <maybe> (a disk image typed otherwise): one that does
 * not read is none (not unsupported): CL_BREAK. CL_VIRUS for a finding. */
static cl_error_t members_again(struct scan_ctx *c, int kind, const unsigned char *b, size_t len,
                                const char *why, int maybe)
{
    struct ww_unpack_entries *en = NULL;
    struct ww_iso *iso = NULL;
    struct ww_udf *udf = NULL;
    long n = 0;
    int whole;
    cl_error_t cr = CL_CLEAN;
    uint64_t folders = 0, filled = 0; /* a 7z's folders; the entries that gave bytes */
    uint64_t entries_read = 0;

    if (kind == DISK) {
        int err = 0;
        long long most = cl_engine_get_num(c->engine, CL_ENGINE_MAX_FILES, &err);
        n = ww_diskimage_count(b, len, err == 0 && most > 0 ? (size_t)most : 10000);
        whole = n >= 0;
        if (n < 0 && maybe)
            return CL_BREAK;
    } else if (kind == ISO) {
        int err = 0;
        long long most = cl_engine_get_num(c->engine, CL_ENGINE_MAX_FILES, &err);
        iso = ww_iso_open(b, len, err == 0 && most > 0 ? (size_t)most : 10000);
        n = ww_iso_count(iso);
        whole = ww_iso_whole(iso);
    } else if (kind == UDF) {
        int err = 0;
        long long most = cl_engine_get_num(c->engine, CL_ENGINE_MAX_FILES, &err);
        udf = ww_udf_open(b, len, err == 0 && most > 0 ? (size_t)most : 10000);
        if (udf == NULL && maybe)
            return CL_BREAK;
        n = ww_udf_count(udf);
        whole = ww_udf_whole(udf);
    } else {
        if (kind == SEVENZ) {
            /* libclamav 1.4's 7z reader skips files silently: coders it lacks, folder shapes it
             * refuses, a missing SubStreamsInfo, a CRC (reviews 16 and 17): every 7z is read
             * again with libarchive, once its header is read here (libarchive allocates what a
             * header declares: t/fuzz_unpack found 18 TB asked) */
            struct ww_unpack_7z_info info;
            struct scan_ctx *top = c->top != NULL ? c->top : c;
            int err = 0, k;
            long long max_scan = cl_engine_get_num(c->engine, CL_ENGINE_MAX_SCANSIZE, &err);
            long long max_ms = cl_engine_get_num(c->engine, CL_ENGINE_MAX_SCANTIME, &err);
            const char *limit = NULL;
            if (err != 0)
                return CL_CLEAN;
            if (max_scan > 0 && top->budget->decoded_bytes >= (uint64_t)max_scan)
                limit = "MaxScanSize";
            else if (max_ms > 0 && now_ms() - top->t0 > max_ms)
                limit = "MaxScanTime";
            if (limit == NULL) {
                k = ww_unpack_7z_coders(b, len, &info);
                top->budget->decoded_bytes += info.header; /* the header decoded, if it was */
                if (k < 0) {
                    if (c->unsupported[0] == '\0')
                        snprintf(c->unsupported, sizeof(c->unsupported),
                                 "Webwarden.DeepScan.Unsupported.%s", why);
                    return CL_CLEAN;
                }
                if (max_scan > 0 && info.largest > (uint64_t)max_scan)
                    limit = "MaxScanSize"; /* what libarchive would allocate for one coder's
                                            * output (a solid block: many files) is more than a
                                            * body's scan takes: the size policy, as libclamav's
                                            * own reading stops there too */
            }
            if (limit != NULL) {
                if (c->limit[0] == '\0')
                    snprintf(c->limit, sizeof(c->limit), "Heuristics.Limits.Exceeded.%s", limit);
                return CL_CLEAN;
            }
            folders = info.folders;
        }
        en = ww_unpack_entries_open(kind == LHA      ? WW_UNPACK_ARCHIVE_LHA
                                    : kind == SEVENZ ? WW_UNPACK_ARCHIVE_7Z
                                                     : WW_UNPACK_ARCHIVE_CPIO,
                                    b, len);
        whole = en != NULL;
        if (en == NULL && maybe)
            return CL_BREAK; /* <maybe>: not an archive after all */
    }
    for (long i = 0; en != NULL || i < n; i++) {
        int entry = ENTRY_UNREAD;
        size_t gave = 0;
        struct dec_src src = {.member_of = kind,
                              .member = (size_t)i,
                              .iso = iso,
                              .udf = udf,
                              .entries = en,
                              .entry = &entry,
                              .gave = &gave};
        if (!decoded_again(c, &src, b, len, &cr))
            whole = 0;
        filled += gave > 0;
        entries_read += entry == ENTRY_READ;
        if (cr == CL_VIRUS || (en != NULL && entry != ENTRY_READ) || c->limit[0] != '\0')
            break; /* a finding; the last entry, a header that does not read; a limit */
    }
    ww_unpack_entries_close(en);
    ww_iso_close(iso);
    ww_udf_close(udf);
    if (cr == CL_VIRUS)
        return CL_VIRUS;
    if (maybe && kind == CPIO && entries_read == 0)
        return CL_BREAK; /* a cpio header found by chance: not one entry reads */
    if (filled < folders && c->limit[0] == '\0')
        whole = 0; /* a 7z folder that gave no file (no SubStreamsInfo: libarchive lists none,
                    * 7-Zip extracts one: review 17, F5) */
    if (!whole && c->unsupported[0] == '\0')
        snprintf(c->unsupported, sizeof(c->unsupported), "Webwarden.DeepScan.Unsupported.%s", why);
    return CL_CLEAN;
}

#define LZMA_PROBE (64u << 10) /* what a loose LZMA header's stream must give to be tried */

/* Whether the LZMA "alone" stream at <b> gives something and decodes for LZMA_PROBE bytes (or to
 * its end): a header lzma -d reads is 14 bytes that many binary files (an ELF, zeros) have by
 * chance. */
static int lzma_probe(const unsigned char *b, size_t len)
{
    unsigned char *out = NULL;
    size_t n = 0;
    enum ww_unpack_result r = ww_unpack(WW_UNPACK_LZMA, b, len, LZMA_PROBE, &out, &n);

    free(out);
    return r != WW_UNPACK_FAILED && n > 0; /* zeros are an empty stream to lzma -d: nothing */
}

/* The zip at <start> of the file of <c> (<len> bytes at <b>; its members listed in the central
 * directory of <z>): each member packed with LZMA, zstd or xz (ww_filetype_zip_method_unpacked),
 * which libclamav 1.4 skips as an "unsupported method", decoded here from its local header's data
 * for the directory's compressed size, as Python's zipfile and libarchive (Windows 11) read it,
 * and its content scanned (decoded_again): ZIP_DECODED_MAX members a body, within its bytes and
 * time. One that cannot be decoded, or past the count, leaves the body unscanned
 * (Unsupported.ZipMethodN), with what it gave scanned. A finding: CL_VIRUS. */
struct zip_dec {
    struct scan_ctx *c;
    const unsigned char *b;
    size_t len;
    int64_t start;
    cl_error_t cr;
};

static int zip_member_decode(void *arg, const struct ww_zip_member *m)
{
    struct zip_dec *zd = arg;
    struct ww_zip_local l;
    struct dec_src src = {.zip_method = m->method, .zip_flags = m->flags, .zip_crc = m->crc};
    uint64_t at = (uint64_t)zd->start + m->local, csize;
    size_t hn = at < zd->len ? zd->len - (size_t)at : 0, data;
    cl_error_t cr = CL_CLEAN;
    int own = ww_filetype_zip_method_unpacked(m->method); /* else deflate or bzip2: libclamav's */

    if ((m->flags & 1) || !(own || m->method == 8 || m->method == 12))
        return 0; /* encrypted (ww_filetype_zip_members names it), or another of libclamav's */
    if (hn > 30 + 2 * 65535)
        hn = 30 + 2 * 65535;
    if (hn < 30 || !ww_filetype_zip_local(zd->b + at, hn, &l)) {
        if (own && zd->c->unsupported[0] == '\0')
            snprintf(zd->c->unsupported, sizeof(zd->c->unsupported),
                     "Webwarden.DeepScan.Unsupported.ZipMethod%u", m->method);
        return 0;
    }
    data = (size_t)at + l.head_len;
    csize = m->csize != UINT32_MAX                    ? m->csize
            : !(l.flags & 8) && l.csize != UINT32_MAX ? l.csize /* zip64: the local one's */
                                                      : zd->len - data;
    if (csize > zd->len - data)
        csize = zd->len - data; /* cut short: what is there, as the readers extract it */
    src.zip_usize = m->usize64; /* a zip64 size read from the directory's extra field */
    if (!own) {
        /* a deflate or bzip2 member whose stream gives more than its size: Python's zipfile
         * writes the size's bytes, libclamav scans it all (attack review 15, F3). Looked at
         * within libclamav's limits: a member over max_file_size is its business, and the
         * looks of a body stop at max_scan_size of output in all */
        struct scan_ctx *top = zd->c->top != NULL ? zd->c->top : zd->c;
        int err = 0;
        long long max_file = cl_engine_get_num(zd->c->engine, CL_ENGINE_MAX_FILESIZE, &err);
        long long max_scan = cl_engine_get_num(zd->c->engine, CL_ENGINE_MAX_SCANSIZE, &err);
        long long max_ms = cl_engine_get_num(zd->c->engine, CL_ENGINE_MAX_SCANTIME, &err);
        if (err != 0 || m->usize64 > (uint64_t)max_file ||
            top->budget->probed + m->usize64 > (uint64_t)max_scan ||
            (max_ms > 0 && now_ms() - top->t0 > max_ms))
            return 0; /* (and within the body's time) */
        top->budget->probed += m->usize64;
        if (!ww_unpack_zip_longer(m->method, zd->b + data, (size_t)csize, m->usize64))
            return 0; /* read as every reader reads it: libclamav's own */
    }
    if (!decoded_again(zd->c, &src, zd->b + data, (size_t)csize, &cr) &&
        zd->c->unsupported[0] == '\0')
        snprintf(zd->c->unsupported, sizeof(zd->c->unsupported),
                 "Webwarden.DeepScan.Unsupported.ZipMethod%u", m->method);
    if (cr == CL_VIRUS)
        zd->cr = CL_VIRUS;
    return cr == CL_VIRUS;
}

static cl_error_t zip_again(struct scan_ctx *c, const unsigned char *b, size_t len, int64_t start,
                            const struct ww_zip_end *z)
{
    struct zip_dec zd = {c, b, len, start, CL_CLEAN};
    uint64_t largest;

    ww_filetype_zip_members(b + z->cd_at, (size_t)z->cd_size, &largest, zip_member_decode, &zd);
    return zd.cr;
}

/* Where the zip whose end record is in the last WW_FILETYPE_ZIP_TAIL bytes of <b> (<len> bytes)
 * starts, its end record in *z; -1 when there is none (or it points outside). */
static int64_t zip_in(const unsigned char *b, size_t len, struct ww_zip_end *z)
{
    size_t tlen = len < WW_FILETYPE_ZIP_TAIL ? len : WW_FILETYPE_ZIP_TAIL;
    int64_t start;

    if (len < 22)
        return -1;
    start = ww_filetype_zip_start(b + len - tlen, tlen, (int64_t)len, z);
    /* whatever is at <start>: a zip whose offsets count from the file's first byte, behind a
     * prefix (a self-extractor's stub, a "#!" line, a PDF header), starts at 0 for its readers
     * (attack review 14, F2); each member's local header is checked when it is read */
    if (start < 0 || z->cd_at < 0 || (uint64_t)z->cd_at + (uint64_t)z->cd_size > len ||
        memcmp(b + z->cd_at, "PK\1\2", 4) != 0)
        return -1;
    return start;
}

#define AR_MEMBERS_MAX 1000 /* ar members scanned a body; past it: unscanned (unsupported) */

/* An ar archive (<len> bytes at <b>, "!<arch>\n" first: a .deb, a static library), which
 * libclamav 1.4 has no reader for: each member (a .deb's control.tar.* and data.tar.*) scanned as
 * a file of its own (nested_scan), as dpkg-deb and ar x read them (ww_unpack_ar_next). A
 * finding: CL_VIRUS. Members past AR_MEMBERS_MAX, or a header that does not read, leave the body
 * unsupported (Unsupported.ArMembers). */
static cl_error_t ar_again(struct scan_ctx *c, const unsigned char *b, size_t len)
{
    struct scan_ctx *top = c->top != NULL ? c->top : c;
    struct ww_ar_member m;
    size_t pos = 8;
    int r;

    if (c->depth >= TAR_AGAIN_DEPTH) {
        /* an ar in an ar...: each member's scan is one level deeper, bounded as the others */
        if (c->limit[0] == '\0')
            snprintf(c->limit, sizeof(c->limit), "Heuristics.Limits.Exceeded.MaxRecursion");
        return CL_CLEAN;
    }
    while ((r = ww_unpack_ar_next(b, len, &pos, &m)) > 0) {
        int err = 0;
        long long max_scan = cl_engine_get_num(c->engine, CL_ENGINE_MAX_SCANSIZE, &err);
        long long max_ms = cl_engine_get_num(c->engine, CL_ENGINE_MAX_SCANTIME, &err);
        const char *limit =
            err != 0                                    ? NULL
            : max_ms > 0 && now_ms() - top->t0 > max_ms ? "MaxScanTime"
            : max_scan > 0 && top->budget->decoded_bytes + m.len > (uint64_t)max_scan
                ? "MaxScanSize"
                : NULL;
        if (limit != NULL) {
            /* each member is a scan of its own: the body's time and bytes bound them together */
            if (c->limit[0] == '\0')
                snprintf(c->limit, sizeof(c->limit), "Heuristics.Limits.Exceeded.%s", limit);
            return CL_CLEAN;
        }
        top->budget->decoded_bytes += m.len;
        if (top->budget->ar_members++ >= AR_MEMBERS_MAX) {
            r = -1;
            break;
        }
        if (m.len > 0 && nested_scan(c, b + m.at, m.len, 0) == CL_VIRUS)
            return CL_VIRUS;
    }
    if (r < 0 && c->unsupported[0] == '\0')
        snprintf(c->unsupported, sizeof(c->unsupported),
                 "Webwarden.DeepScan.Unsupported.ArMembers");
    return CL_CLEAN;
}

/* A tar scanned once more, as a copy that libclamav reads as GNU tar reads the tar
 * (ww_filetype_tar_view: headers that would end libclamav's reading early, hide a member from it,
 * or make it read data as headers, rewritten; <skip_links>: GNU tar's reading that skips the
 * data of links with a size). <rename>: libclamav took the tar for something else, as its first
 * member's name comes first in the file and a name that starts with a magic number
 * ("GIF89a.gif") made libclamav type the whole tar by it (an image) and never unpack it; the copy's
 * first name is made plain. A finding is the file's (CL_VIRUS), what that scan could not inspect
 * is the body's. */
static cl_error_t tar_again(struct scan_ctx *c, const unsigned char *b, size_t len, int rename,
                            int skip_links)
{
    struct ww_tar_view v;
    unsigned char *copy;
    cl_error_t cr;

    {
        /* bounded per body: nested 4 deep, 4 in all, within clamav.max_scan_time_ms */
        struct scan_ctx *top = c->top != NULL ? c->top : c;
        int err = 0;
        long long max_ms = cl_engine_get_num(c->engine, CL_ENGINE_MAX_SCANTIME, &err);
        const char *limit = c->depth >= TAR_AGAIN_DEPTH                             ? "MaxRecursion"
                            : top->budget->agains >= TAR_AGAIN_MAX                  ? "MaxFiles"
                            : err == 0 && max_ms > 0 && now_ms() - top->t0 > max_ms ? "MaxScanTime"
                                                                                    : NULL;
        if (limit != NULL) {
            if (c->limit[0] == '\0')
                snprintf(c->limit, sizeof(c->limit), "Heuristics.Limits.Exceeded.%s", limit);
            return CL_CLEAN;
        }
        top->budget->agains++;
    }
    if ((copy = malloc(len)) == NULL) {
        if (c->limit[0] == '\0')
            snprintf(c->limit, sizeof(c->limit), "Webwarden.DeepScan.%s", ww_strerror(WW_ENOMEM));
        return CL_CLEAN;
    }
    memcpy(copy, b, len);
    ww_filetype_tar_view(b, len, copy, skip_links, &v);
    if (rename) {
        memset(copy, 0, 100);
        memcpy(copy, "webwarden-tar-member", 20); /* the magic stays: V7 has none in any header */
        ww_filetype_tar_checksum(copy);
    }
    cr = nested_scan(c, copy, len, 1);
    free(copy);
    return cr;
}

/* A tar at <b> (of type <type> to libclamav; <v> its extracting reading; <moved>: the file's
 * first block is not a header libclamav reads, and GNU tar starts at <b>): scanned again when
 * libclamav would read other members than GNU tar, as each of GNU tar's readings (tar_again). */
static cl_error_t tar_looks(struct scan_ctx *c, const char *type, const unsigned char *b,
                            size_t len, const struct ww_tar_view *v, int moved)
{
    int rename;
    cl_error_t cr = CL_CLEAN;

    if (c->engine == NULL || type == NULL || v->unusual)
        return CL_CLEAN; /* unusual: unscanned already (on_file) */
    rename =
        moved || (strcmp(type, "CL_TYPE_POSIX_TAR") != 0 && strcmp(type, "CL_TYPE_OLD_TAR") != 0);
    if (rename || v->changes > 0)
        cr = tar_again(c, b, len, rename, 0);
    if (cr != CL_VIRUS && v->links > 0)
        cr = tar_again(c, b, len, rename, 1);
    return cr;
}

/* Every file libclamav meets inside a body (a member, a decompressed stream): one it cannot open
 * (a zstd, lz4 or lzip stream; a zip with a member packed with LZMA and the like) makes the body
 * unscanned, at any depth (a zstd inside a tar inside a gzip, a zip in a zip, a zip behind an
 * executable). The body itself is looked at by ww_deepscan_finish. */
static cl_error_t on_file(int fd, const char *type, const char **ancestors, size_t parent_file_size,
                          const char *file_name, size_t file_size, const char *file_buffer,
                          uint32_t recursion_level, uint32_t layer_attributes, void *context)
{
    struct scan_ctx *c = context;
    const unsigned char *b = (const unsigned char *)file_buffer;
    struct ww_tar_view v = {0}, listed = {0};
    struct ww_zip_end z;
    enum ww_filetype ft;
    int64_t at, zstart;
    int tar, lz = 0, more;

    (void)fd, (void)ancestors, (void)parent_file_size, (void)file_name;
    (void)layer_attributes;
    if (c == NULL || file_buffer == NULL)
        return CL_CLEAN;
    ft = ww_filetype_detect(b, file_size < WW_FILETYPE_PEEK ? file_size : WW_FILETYPE_PEEK);
    if (ft == WW_FT_ZSTD) {
        /* the body or a file inside (a .tar.zst, a package's data.tar.zst): decoded here as
         * zstd -d reads it (the other streams it takes after a frame too; an lz4 frame after a
         * skippable one: lz4 -d's reading as well, attack review 15, F4); and read on below as
         * what else it may be (its bytes a tar's too: a tar reader ignores a first name that
         * looks like a zstd frame) */
        if (decode_or_mark(c, WW_UNPACK_ZSTD_CLI, b, file_size, "zstd") == CL_VIRUS)
            return CL_VIRUS;
    }
    if ((more = ww_unpack_zstd_cli_more(b, file_size))) {
        /* a gzip or xz followed by zstd frames: zstd -d (tar --zstd) reads on, libclamav not */
        if (decode_or_mark(c, WW_UNPACK_ZSTD_CLI, b, file_size, "Streams") == CL_VIRUS)
            return CL_VIRUS;
    }
    if (!more && (lz = ww_filetype_lzma_header(b, file_size)) > 0 &&
        (lz == 2 || lzma_probe(b, file_size))) {
        /* an LZMA "alone" stream: as encoders write its header; or as lzma -d also reads it, and
         * its first 64 KiB decode (many binary files have such a header by chance); read on below
         * as what else it may be, as for zstd */
        if (decode_or_mark(c, WW_UNPACK_LZMA, b, file_size, "lzma") == CL_VIRUS)
            return CL_VIRUS;
    }
    if (file_size > 6 && memcmp(b, "LZIP", 4) == 0 && b[4] <= 1) {
        /* lzip (.lz, .tar.lz: tar --lzip, what lzip -d reads; version 0 as xz and liblzma read
         * it), which libclamav 1.4 cannot undo */
        if (decode_or_mark(c, WW_UNPACK_LZIP, b, file_size, "lzip") == CL_VIRUS)
            return CL_VIRUS;
    }
    if ((ft == WW_FT_GZIP || ft == WW_FT_PACK || ft == WW_FT_LZH) && c->engine != NULL) {
        /* what gzip -d (tar xzf, zcat) reads and libclamav does not: gzip members, then a .Z
         * stream (attack review 15, F2), a pack member or one with gzip 0.5's magic (1f 9e),
         * first or after others; finding the gzip members' end inflates them once more. SCO's
         * LZH (1f a0) is not decoded: unsupported. (An LHA archive, the other "lzh", is not
         * theirs: no magic of these.) */
        int err = 0;
        long long max_scan = cl_engine_get_num(c->engine, CL_ENGINE_MAX_SCANSIZE, &err);
        if (err == 0 && max_scan > 0 && ww_unpack_gzip_cli_more(b, file_size, (size_t)max_scan) &&
            decode_or_mark(c, WW_UNPACK_GZIP_CLI, b, file_size,
                           b[1] == 0x1e   ? "pack"
                           : b[1] == 0xa0 ? "lzh"
                           : b[1] == 0x9e ? "gzip"
                                          : "Streams") == CL_VIRUS)
            return CL_VIRUS;
    }
    if (ft == WW_FT_LZH && !(b[0] == 0x1f && b[1] == 0xa0) &&
        members_again(c, LHA, b, file_size, "lzh", 0) == CL_VIRUS)
        return CL_VIRUS; /* (1f a0: SCO's LZH, above) */
    if ((file_size >= 512 && memcmp(b, "conectix", 8) == 0 && b[60] == 0 && b[61] == 0 &&
         b[62] == 0 && b[63] == 3) ||
        (file_size >= 8 && memcmp(b, "vhdxfile", 8) == 0)) {
        /* a dynamic VHD or a VHDX (Windows mounts them with a double click): the disk, scanned
         * as a file (then read as a disk image); one that does not read: unsupported */
        cl_error_t cr = CL_CLEAN;
        struct dec_src src = {.vhd = b[0] == 'v' ? 2 : 1};
        if (!decoded_again(c, &src, b, file_size, &cr) && c->unsupported[0] == '\0')
            snprintf(c->unsupported, sizeof(c->unsupported),
                     "Webwarden.DeepScan.Unsupported.diskimage");
        if (cr == CL_VIRUS)
            return CL_VIRUS;
    } else if ((ft == WW_FT_DISKIMAGE || ww_filetype_disk_kind(b, file_size) != 0) &&
               /* a disk image, whatever else its first sector says (its boot code may hold
                * another format's magic number: review 16, F5); typed otherwise, one that does
                * not read is none */
               members_again(c, DISK, b, file_size, "diskimage", ft != WW_FT_DISKIMAGE) == CL_VIRUS)
        return CL_VIRUS;
    if (ft == WW_FT_7Z && members_again(c, SEVENZ, b, file_size, "7z", 0) == CL_VIRUS)
        return CL_VIRUS;
    /* an ISO 9660 image, whatever its first sectors hold, read again as 7-Zip, libarchive and
     * Windows read it: libclamav's reader skips files and whole directories without a word
     * (review 18: multi-extent and "interleaved" files, over 1,024 directory blocks, a later
     * Joliet tree, a record across a sector, zisofs). An image with a UDF recognition sequence
     * (7-Zip and Windows read its UDF tree, libclamav one layout of it and a bridge's ISO 9660
     * tree only) is read again by lib/ww_udf; what that does not read is unsupported. */
    if (ww_iso_is(b, file_size) && members_again(c, ISO, b, file_size, "iso9660", 0) == CL_VIRUS)
        return CL_VIRUS;
    if (ww_iso_has_udf(b, file_size)
            ? members_again(c, UDF, b, file_size, "udf", 0) == CL_VIRUS
            : ww_udf_anchor(b, file_size) &&
                  members_again(c, UDF, b, file_size, "udf", 1) == CL_VIRUS)
        return CL_VIRUS; /* (an anchor and no recognition sequence: one that does not read is
                          * no UDF) */
    if (file_size >= 8 && memcmp(b, "MSWIM\0\0\0", 8) == 0 && c->unsupported[0] == '\0')
        snprintf(c->unsupported, sizeof(c->unsupported),
                 "Webwarden.DeepScan.Unsupported.wim"); /* a Windows image (7-Zip and DISM
                                                         * extract it; libclamav has no reader:
                                                         * review 18, F12) */
    if (c->unsupported[0] == '\0') {
        /* ext, CramFS, SquashFS: 7-Zip extracts them, libclamav has no reader (attack review 21,
         * B4) */
        const char *fs = ww_filetype_fs_image(b, file_size);
        if (fs != NULL)
            snprintf(c->unsupported, sizeof(c->unsupported), "Webwarden.DeepScan.Unsupported.%s",
                     fs);
    }
    if (ft == WW_FT_RPM) {
        /* an RPM, which libclamav 1.4 types and never reads: its payload, a cpio compressed as
         * the package says (gzip, bzip2, xz, LZMA, zstd: each undone by libclamav or above),
         * scanned as a file, as rpm -i and rpm2cpio read it (review 18, F7) */
        long long pay = ww_unpack_rpm_payload(b, file_size);
        if (pay < 0) {
            if (c->unsupported[0] == '\0')
                snprintf(c->unsupported, sizeof(c->unsupported),
                         "Webwarden.DeepScan.Unsupported.rpm");
        } else if (nested_scan(c, b + pay, file_size - (size_t)pay, 0) == CL_VIRUS) {
            return CL_VIRUS;
        }
    }
    {
        /* archives further in (self-extractors: libclamav finds a 7z there, reads it with the
         * same gaps and never shows it here; an LHA it does not read at all) */
        long long sz = ft == WW_FT_LZH ? 0 : -1; /* from the first byte: an LHA whose header
                                                  * reads "MZ" (review 16, F10) */
        int zeroed = 0;
        /* LHA archives further in (a self-extractor, or behind other bytes or another archive:
         * 7-Zip opens the first "-lh?-" one, libarchive an LArc "-lz?-" one too: review 17, F7),
         * the first 4 headers whose sum holds; one libarchive does not open is unsupported
         * (7-Zip is laxer: F3) */
        for (int k = 0; k < 4 && (sz = ww_unpack_lha_find(b, file_size, (size_t)sz + 1)) >= 0; k++)
            if (members_again(c, LHA, b + sz, file_size - (size_t)sz, "lzh", 0) == CL_VIRUS)
                return CL_VIRUS;
        sz = 0;
        for (int k = 0;
             k < 4 && (sz = ww_unpack_7z_find(b, file_size, (size_t)sz + 1, &zeroed)) > 0; k++) {
            if (zeroed) {
                if (c->unsupported[0] == '\0')
                    snprintf(c->unsupported, sizeof(c->unsupported),
                             "Webwarden.DeepScan.Unsupported.7z");
                continue;
            }
            if (members_again(c, SEVENZ, b + sz, file_size - (size_t)sz, "7z", 0) == CL_VIRUS)
                return CL_VIRUS;
        }
        /* gzip, xz, bzip2 and zstd streams and cpio archives further in (behind a stub: 7-Zip's
         * signature search opens them, libclamav reads them at a file's start only: reviews 18,
         * F11, and 19, F11), each one (7-Zip opens the first that reads: decoys that do not read
         * are passed over, as it passes them); what does not decode is no stream. In any file but
         * an archive's or a stream's own (their readers read their members; searched, a zip of
         * stored .gz files would spend the body's streams). Each counts in the body's streams
         * (DECODED_MAX), a cpio too (its scan holds the rest of the file, in which the search goes
         * on: review 19, F13, 16 headers in 3 KB took 2^16 scans); past them, or 16 in a file,
         * with more to look at: unsupported. */
        struct scan_ctx *top = c->top != NULL ? c->top : c;
        sz = strcmp(ww_filetype_group(ft), "archive") != 0 ? 0 : -1;
        for (int k = 0, kind = 0;
             sz >= 0 && (sz = ww_unpack_stream_find(b, file_size, (size_t)sz + 1, &kind)) > 0;
             k++) {
            cl_error_t cr = CL_CLEAN;
            if (k == 16 || top->budget->decoded >= DECODED_MAX || c->depth >= TAR_AGAIN_DEPTH) {
                if (c->unsupported[0] == '\0')
                    snprintf(c->unsupported, sizeof(c->unsupported),
                             "Webwarden.DeepScan.Unsupported.Streams");
                break;
            }
            if (kind == WW_FOUND_CPIO) {
                /* its members as libarchive (and 7-Zip) read them, each scanned; one libarchive
                 * does not open: libclamav's reading of it */
                struct dec_budget d;
                if (decode_begin(c, &d, &cr, DEC_STREAM) <= 0)
                    break; /* a limit (in c->limit) */
                cr = members_again(c, CPIO, b + sz, file_size - (size_t)sz, "cpio", 1);
                if (cr == CL_BREAK) {
                    top->budget->decoded_bytes += file_size - (size_t)sz;
                    cr = nested_scan(c, b + sz, file_size - (size_t)sz, 0);
                }
            } else {
                struct dec_src src = {.fmt = kind == WW_FOUND_GZIP    ? WW_UNPACK_GZIP_CLI
                                             : kind == WW_FOUND_XZ    ? WW_UNPACK_XZ
                                             : kind == WW_FOUND_BZIP2 ? WW_UNPACK_BZIP2
                                                                      : WW_UNPACK_ZSTD};
                (void)decoded_again(c, &src, b + sz, file_size - (size_t)sz, &cr);
            }
            if (cr == CL_VIRUS)
                return CL_VIRUS;
            if (c->limit[0] != '\0')
                break;
        }
    }
    if (ft == WW_FT_COMPRESS || ft == WW_FT_LZ4) {
        /* Unix compress (.Z, .tar.Z: tar -Z, gzip -d) and lz4 (.lz4, .tar.lz4, Linux's lz4
         * initramfs: lz4 -d), which libclamav 1.4 cannot undo */
        if (decode_or_mark(c, ft == WW_FT_LZ4 ? WW_UNPACK_LZ4 : WW_UNPACK_COMPRESS, b, file_size,
                           ww_filetype_name(ft)) == CL_VIRUS)
            return CL_VIRUS;
    }
    /* a zip's members packed with LZMA, zstd or xz, which libclamav skips (the rest it reads) */
    if ((zstart = zip_in(b, file_size, &z)) >= 0 &&
        zip_again(c, b, file_size, zstart, &z) == CL_VIRUS)
        return CL_VIRUS;
    if (file_size >= 8 && memcmp(b, "!<arch>\n", 8) == 0) {
        cl_error_t cr = ar_again(c, b, file_size);
        if (cr == CL_VIRUS)
            return cr;
    }
    if (file_size > 14 && memcmp(b, "BZh", 3) == 0 && b[3] >= '1' && b[3] <= '9' &&
        ww_unpack_bzip2_streams(b, file_size)) {
        /* libclamav reads the first stream (and scans it); all of them are read here */
        if (decode_or_mark(c, WW_UNPACK_BZIP2, b, file_size, "Bzip2Streams") == CL_VIRUS)
            return CL_VIRUS;
    }
    /* a member, or the content of a stream decoded here (nested_scan, not tar_again's copy) */
    if ((recursion_level > 0 || (c->depth > 0 && !c->tar_copy)) && c->unsupported[0] == '\0') {
        uint64_t largest = 0;
        int err = 0;
        long long max_file =
            c->engine != NULL ? cl_engine_get_num(c->engine, CL_ENGINE_MAX_FILESIZE, &err) : 0;
        file_unsupported(b, file_size, ft, zstart, &z, c->unsupported, sizeof(c->unsupported),
                         &largest);
        /* a zip inside whose member libclamav will skip, silently, for its size */
        if (err == 0 && max_file > 0 && largest > (uint64_t)max_file && c->limit[0] == '\0')
            snprintf(c->limit, sizeof(c->limit), "Heuristics.Limits.Exceeded.MaxFileSize");
    }
    if (file_size < 512)
        return CL_CLEAN;
    /* Where GNU tar reads members: from the first block for a tar; else from the first header
     * after blocks that are not (an image or a text with a tar on a 512-byte boundary: GNU tar
     * skips to it and extracts the rest, libclamav reads no tar there), or a first header with
     * no name (libclamav's tar reader stops at it). */
    tar = ww_filetype_tar_header(b, file_size);
    at = tar ? 0 : ww_filetype_tar_start(b, file_size);
    /* the tar's headers are walked once here, for both uses: sparse members and the like (no
     * rewrite makes libclamav's tar reader read the members GNU tar reads) make the body
     * unscanned; what a rewrite mends is scanned again (tar_looks) */
    if (at >= 0) {
        ww_filetype_tar_view(b + at, file_size - (size_t)at, NULL, 0, &v);
        if (!v.unusual && v.links > 0)
            ww_filetype_tar_view(b + at, file_size - (size_t)at, NULL, 1, &listed);
    }
    /* a "ustar" header with a bad checksum GNU tar skips, and finds nothing after */
    if (c->unsupported[0] == '\0' &&
        (v.unusual || listed.unusual || (at < 0 && memcmp(b + 257, "ustar", 5) == 0)))
        snprintf(c->unsupported, sizeof(c->unsupported),
                 "Webwarden.DeepScan.Unsupported.TarHeaders");
    if (at < 0 || (recursion_level == 0 && c->tar_copy))
        return CL_CLEAN; /* not a tar; or tar_again's copy, made to be read as GNU tar reads it */
    return tar_looks(c, type, b + at, file_size - (size_t)at, &v, !tar);
}

/* libclamav's names for what it could not inspect: a limit hit (CL_SCAN_HEURISTIC_EXCEEDS_MAX), an
 * encrypted archive or document (CL_SCAN_HEURISTIC_ENCRYPTED_*). Unscanned, never clean, and no
 * finding either. */
static int not_inspected(const char *virname)
{
    return strncmp(virname, "Heuristics.Limits.Exceeded", 26) == 0 ||
           strncmp(virname, "Heuristics.Encrypted", 20) == 0;
}

static void on_virus_found(int fd, const char *virname, void *context)
{
    struct scan_ctx *c = context;
    (void)fd;
    if (c == NULL || virname == NULL)
        return;
    if (c->first[0] == '\0')
        snprintf(c->first, sizeof(c->first), "%s", virname);
    if (c->real[0] == '\0' && !not_inspected(virname))
        snprintf(c->real, sizeof(c->real), "%s", virname);
}

int ww_clamav_status_problem(int enabled, int read_rc, const struct ww_clamav_info *info,
                             int max_age_days, time_t now, char *why, size_t whylen)
{
    if (!enabled)
        return 0;
    if (read_rc != WW_OK || info->ndbs == 0) {
        snprintf(why, whylen,
                 "no ClamAV database loaded (clamav.database_dir): the deep scanner is off, "
                 "archive members are not unpacked (the fast engine scans alone); run freshclam");
        return 1;
    }
    if (info->newest_built > 0 && now - info->newest_built > (time_t)max_age_days * 86400) {
        snprintf(why, whylen,
                 "the newest ClamAV database was built %ld days ago (clamav.max_age_days %d): "
                 "is freshclam running?",
                 (long)((now - info->newest_built) / 86400), max_age_days);
        return 1;
    }
    return 0;
}

static int set_limits(struct cl_engine *engine, const struct ww_clamav_limits *lim)
{
    /* No clean cache: libclamav remembers a file it found clean by its hash and skips it next
     * time before the file-inspection callback (on_file) sees it; what on_file adds (a tar
     * libclamav took for an image, scanned again; a file it cannot open, unscanned) would then
     * hold the first time only. Proxied downloads seldom repeat within a child's engine. */
    if (cl_engine_set_num(engine, CL_ENGINE_DISABLE_CACHE, 1) != CL_SUCCESS)
        return CL_EARG;
    if (lim == NULL)
        return CL_SUCCESS;
    if (cl_engine_set_num(engine, CL_ENGINE_MAX_SCANSIZE, lim->max_scan_size) != CL_SUCCESS ||
        cl_engine_set_num(engine, CL_ENGINE_MAX_FILESIZE, lim->max_file_size) != CL_SUCCESS ||
        cl_engine_set_num(engine, CL_ENGINE_MAX_RECURSION, lim->max_recursion) != CL_SUCCESS ||
        cl_engine_set_num(engine, CL_ENGINE_MAX_FILES, lim->max_files) != CL_SUCCESS ||
        cl_engine_set_num(engine, CL_ENGINE_MAX_SCANTIME, lim->max_scan_time_ms) != CL_SUCCESS)
        return CL_EARG;
    return CL_SUCCESS;
}

/* ---- Webwarden's pattern files as libclamav reads them ----
 * Each .hdb/.hsb/.ndb of the pattern folder is copied, line by line, into a private folder, and
 * the copy is what libclamav loads: libclamav refuses a whole file for one line it cannot read,
 * where the fast engine skips that line alone (docs/patterns.md). The copy leaves out comments,
 * empty lines and hash lines that are not "hash:size:name" (a 32, 40 or 64 digit hash, a size or
 * "*"), and gives a wildcard size the functionality level ClamAV requires for it (":73"). A line
 * libclamav still refuses is named in its error ("at line N"): it is dropped from the copy and
 * the load starts over, at most WW_CLAMAV_PATTERN_RETRIES times; past that the file is left
 * out. Webwarden's files load first, so a retry never reloads ClamAV's own databases. */

#define WW_CLAMAV_PATTERN_RETRIES 64

static int hex_run(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return 1;
}

/* One pattern line (no newline) of file <name> as libclamav reads it, into <out>: 1, or 0 when
 * the line is left out (comment, empty, malformed). */
static int pattern_line(const char *name, const char *line, char *out, size_t outlen)
{
    const char *c1, *c2, *c3;
    size_t hlen, slen;
    int n;

    if (line[0] == '\0' || line[0] == '#')
        return 0;
    c1 = strchr(line, ':');
    c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    c3 = c2 != NULL ? strchr(c2 + 1, ':') : NULL;
    if (c1 == NULL || c2 == NULL || c1 == line)
        return 0;
    if (ends_with(name, ".ndb")) {
        n = snprintf(out, outlen, "%s", line);
        return c3 != NULL && n > 0 && (size_t)n < outlen;
    }
    hlen = (size_t)(c1 - line);
    slen = (size_t)(c2 - c1 - 1);
    if ((hlen != 32 && hlen != 40 && hlen != 64) || !hex_run(line, hlen) || slen == 0 ||
        c2[1] == '\0' || c2[1] == ':')
        return 0;
    if (slen == 1 && c1[1] == '*') {
        /* ClamAV reads a wildcard size only from functionality level 73 on */
        n = c3 == NULL ? snprintf(out, outlen, "%s:73", line) : snprintf(out, outlen, "%s", line);
        return n > 0 && (size_t)n < outlen;
    }
    for (size_t i = 0; i < slen; i++)
        if (c1[1 + i] < '0' || c1[1 + i] > '9')
            return 0;
    n = snprintf(out, outlen, "%s", line);
    return n > 0 && (size_t)n < outlen;
}

/* Copies <src> into <dst> with pattern_line(), leaving out line <drop> of an earlier copy when
 * <src> is that copy (0: none). Adds the lines left out to *skipped. WW_OK or WW_EIO. */
static int pattern_copy(const char *name, const char *src, const char *dst, unsigned long drop,
                        size_t *skipped, size_t *kept)
{
    FILE *in = fopen(src, "r"), *outf = NULL;
    char *line = NULL, *conv = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long no = 0;
    int rc = WW_EIO;

    *kept = 0;
    if (in == NULL)
        return WW_EIO;
    outf = fopen(dst, "w");
    if (outf == NULL)
        goto cleanup;
    while ((len = getline(&line, &cap, in)) >= 0) {
        char *nc;
        no++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        nc = realloc(conv, (size_t)len + 8);
        if (nc == NULL)
            goto cleanup;
        conv = nc;
        if (no == drop || (drop == 0 && !pattern_line(name, line, conv, (size_t)len + 8))) {
            if (drop != 0 || (line[0] != '\0' && line[0] != '#'))
                (*skipped)++;
            continue;
        }
        if (fprintf(outf, "%s\n", drop != 0 ? line : conv) < 0)
            goto cleanup;
        (*kept)++;
    }
    rc = ferror(in) ? WW_EIO : WW_OK;
cleanup:
    if (outf != NULL && fclose(outf) != 0)
        rc = WW_EIO;
    fclose(in);
    free(line);
    free(conv);
    return rc;
}

/* Removes the private folder and the copies in it. */
static void pattern_tmp_remove(const char *tmp, char **names, size_t n)
{
    char path[4096];

    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", tmp, names[i]);
        unlink(path);
        snprintf(path, sizeof(path), "%s/%s.next", tmp, names[i]);
        unlink(path);
    }
    rmdir(tmp);
}

/* Loads the copies into <engine> (a fresh one each attempt, made by the caller through *engine).
 * WW_OK with the signature count in *sigs; WW_ENOMEM; WW_EIO. */
static int patterns_load(const char *patterns_dir, char **names, size_t n, const char *tmp,
                         struct cl_engine **engine, struct ww_clamav_info *info, char *err,
                         size_t errlen)
{
    unsigned char *out = NULL; /* per file: 1 when left out (nothing libclamav reads in it) */
    size_t i;
    int rc = WW_OK, attempt;

    if (n == 0)
        return WW_OK;
    out = calloc(n, 1);
    if (out == NULL)
        return WW_ENOMEM;
    for (i = 0; i < n; i++) {
        char src[4096], dst[4096];
        snprintf(src, sizeof(src), "%s/%s", patterns_dir, names[i]);
        size_t kept = 0;
        snprintf(dst, sizeof(dst), "%s/%s", tmp, names[i]);
        if (pattern_copy(names[i], src, dst, 0, &info->pattern_lines_skipped, &kept) != WW_OK) {
            out[i] = 1; /* unreadable: the fast engine says why */
            info->pattern_files_skipped++;
        } else if (kept == 0) {
            out[i] = 1; /* no line libclamav reads: libclamav refuses an empty file */
        }
    }
    for (attempt = 0;; attempt++) {
        size_t failed = n;
        unsigned total = 0;
        for (i = 0; i < n; i++) {
            char path[4096];
            unsigned sigs = 0;
            cl_error_t cr;
            if (out[i])
                continue;
            snprintf(path, sizeof(path), "%s/%s", tmp, names[i]);
            msg_last[0] = '\0';
            msg_capture = 1;
            cr = cl_load(path, *engine, &sigs, CL_DB_STDOPT);
            msg_capture = 0;
            if (cr == CL_EMEM) {
                rc = WW_ENOMEM;
                snprintf(err, errlen, "%s/%s: out of memory", patterns_dir, names[i]);
                goto cleanup;
            }
            if (cr != CL_SUCCESS) {
                failed = i;
                break;
            }
            total += sigs;
        }
        if (failed == n) {
            info->pattern_sigs = total;
            break;
        }
        {
            char path[4096], next[4096];
            unsigned long line = msg_line();
            size_t kept = 0;
            snprintf(path, sizeof(path), "%s/%s", tmp, names[failed]);
            snprintf(next, sizeof(next), "%s/%s.next", tmp, names[failed]);
            if (line > 0 && attempt < WW_CLAMAV_PATTERN_RETRIES &&
                pattern_copy(names[failed], path, next, line, &info->pattern_lines_skipped,
                             &kept) == WW_OK &&
                rename(next, path) == 0) {
                out[failed] = kept == 0; /* that line is out of the copy: start over */
            } else {
                out[failed] = 1;
                info->pattern_files_skipped++;
            }
        }
        /* libclamav keeps what a failed file added: start over on a fresh engine */
        cl_engine_free(*engine);
        *engine = cl_engine_new();
        if (*engine == NULL) {
            rc = WW_ENOMEM;
            goto cleanup;
        }
    }
cleanup:
    free(out);
    return rc;
}

/* Signature lines of a text database (not empty, not a comment): its per-file count for status
 * when the folder loaded in one cl_load(), which gives only the folder's total. */
static unsigned text_sigs(const char *path)
{
    FILE *fp = fopen(path, "r");
    unsigned n = 0;
    int c, bol = 1, sig = 0;

    if (fp == NULL)
        return 0;
    while ((c = getc(fp)) != EOF) {
        if (bol)
            sig = c != '#' && c != '\n' && c != '\r';
        bol = c == '\n';
        if (bol && sig) {
            n++;
            sig = 0;
        }
    }
    if (!bol && sig)
        n++;
    fclose(fp);
    return n;
}

/* The ClamAV folder into e->engine with one cl_load() of the folder: one cl_load() per file
 * costs 2.4 times as long on a large database (docs/performance.md). When it fails, the files
 * are loaded one by one on a scratch engine to name the broken one; the load fails either
 * way. */
static int clamav_dir_load(const char *dir, char **names, size_t n, struct ww_clamav *e, char *err,
                           size_t errlen)
{
    unsigned sigs = 0;
    cl_error_t cr;

    cr = cl_load(dir, e->engine, &sigs, CL_DB_STDOPT);
    if (cr == CL_SUCCESS) {
        for (size_t i = 0; i < n; i++) {
            char path[4096];
            struct ww_clamav_db db;
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
            db_describe(dir, names[i], 0, &db);
            if (db.version == 0)
                db.sigs = text_sigs(path);
            info_add_db(&e->info, &db);
        }
        e->info.clamav_sigs = sigs; /* what loaded; a .cld header's count may differ */
        return WW_OK;
    }
    if (cr == CL_EMEM) {
        snprintf(err, errlen, "%s: %s", dir, cl_strerror(cr));
        return WW_ENOMEM;
    }
    /* libclamav keeps what a failed load added: the names on a scratch engine */
    cl_engine_free(e->engine);
    e->engine = cl_engine_new();
    if (e->engine == NULL)
        return WW_ENOMEM;
    snprintf(err, errlen, "%s: %s", dir, cl_strerror(cr));
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        unsigned fsigs = 0;
        struct ww_clamav_db db;
        cl_error_t fr;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        fr = cl_load(path, e->engine, &fsigs, CL_DB_STDOPT);
        if (fr != CL_SUCCESS) {
            snprintf(err, errlen, "%s: %s", path, cl_strerror(fr));
            return fr == CL_EMEM ? WW_ENOMEM : WW_EINVAL;
        }
        db_describe(dir, names[i], fsigs, &db);
        db.sigs = fsigs;
        info_add_db(&e->info, &db);
        e->info.clamav_sigs += fsigs;
    }
    return WW_EINVAL;
}

int ww_clamav_load(const char *clamav_dir, const char *patterns_dir,
                   const struct ww_clamav_limits *lim, struct ww_clamav **out,
                   struct ww_clamav_info *info, char *err, size_t errlen)
{
    return ww_clamav_load_tmp(clamav_dir, patterns_dir, NULL, lim, out, info, err, errlen);
}

int ww_clamav_load_tmp(const char *clamav_dir, const char *patterns_dir, const char *tmp_dir,
                       const struct ww_clamav_limits *lim, struct ww_clamav **out,
                       struct ww_clamav_info *info, char *err, size_t errlen)
{
    char tmp[4096] = "";
    struct ww_clamav *e = NULL;
    char **cnames = NULL, **pnames = NULL;
    size_t nc = 0, np = 0;
    long t0 = now_ms();
    int rc;
    cl_error_t cr;

    if (ww_clamav_global_init() != WW_OK) {
        snprintf(err, errlen, "libclamav: cl_init failed");
        return WW_EIO;
    }
    rc = list_dir(clamav_dir, is_clamav_db, &cnames, &nc);
    if (rc == WW_ENOMEM || rc == WW_EIO) {
        snprintf(err, errlen, "%s: cannot read the folder", clamav_dir);
        goto cleanup;
    }
    rc = list_dir(patterns_dir, is_pattern_file, &pnames, &np);
    if (rc == WW_ENOMEM || rc == WW_EIO) {
        snprintf(err, errlen, "%s: cannot read the folder", patterns_dir);
        goto cleanup;
    }
    if (nc == 0 && np == 0) {
        rc = WW_ENOTFOUND;
        snprintf(err, errlen, "no ClamAV database in %s and no pattern file in %s",
                 clamav_dir != NULL ? clamav_dir : "(none)",
                 patterns_dir != NULL ? patterns_dir : "(none)");
        goto cleanup;
    }
    rc = WW_ENOMEM;
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        goto cleanup;
    atomic_init(&e->refs, 1);
    snprintf(e->info.libclamav_version, sizeof(e->info.libclamav_version), "%s", cl_retver());
    e->engine = cl_engine_new();
    if (e->engine == NULL)
        goto cleanup;
    if (np > 0) {
        const char *base = tmp_dir != NULL && tmp_dir[0] != '\0' ? tmp_dir : getenv("TMPDIR");
        snprintf(tmp, sizeof(tmp), "%s/webwarden-patterns.XXXXXX",
                 base != NULL && base[0] != '\0' ? base : "/tmp");
        if (mkdtemp(tmp) == NULL) {
            rc = WW_EIO;
            snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
            tmp[0] = '\0';
            goto cleanup;
        }
        rc = patterns_load(patterns_dir, pnames, np, tmp, &e->engine, &e->info, err, errlen);
        if (rc != WW_OK)
            goto cleanup;
        rc = WW_ENOMEM;
    }
    if (nc > 0) {
        rc = clamav_dir_load(clamav_dir, cnames, nc, e, err, errlen);
        if (rc != WW_OK)
            goto cleanup;
        rc = WW_ENOMEM;
    }
    if (set_limits(e->engine, lim) != CL_SUCCESS) {
        rc = WW_EINVAL;
        snprintf(err, errlen, "libclamav refused a scan limit");
        goto cleanup;
    }
    cl_engine_set_clcb_virus_found(e->engine, on_virus_found);
    cl_engine_set_clcb_file_inspection(e->engine, on_file);
    cr = cl_engine_compile(e->engine);
    if (cr != CL_SUCCESS) {
        rc = cr == CL_EMEM ? WW_ENOMEM : WW_EINVAL;
        snprintf(err, errlen, "compiling the ClamAV engine: %s", cl_strerror(cr));
        goto cleanup;
    }
    e->info.load_ms = now_ms() - t0;
    if (info != NULL)
        *info = e->info;
    *out = e;
    e = NULL;
    rc = WW_OK;
cleanup:
    if (e != NULL) {
        if (info != NULL)
            *info = e->info;
        ww_clamav_unref(e);
    }
    if (tmp[0] != '\0')
        pattern_tmp_remove(tmp, pnames, np);
    free_names(cnames, nc);
    free_names(pnames, np);
    return rc;
}

struct ww_clamav *ww_clamav_ref(struct ww_clamav *e)
{
    if (e != NULL)
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
    return e;
}

void ww_clamav_unref(struct ww_clamav *e)
{
    if (e == NULL || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (e->engine != NULL)
        cl_engine_free(e->engine);
    free(e);
}

const struct ww_clamav_info *ww_clamav_get_info(const struct ww_clamav *e)
{
    return e != NULL ? &e->info : NULL;
}

static void scan_options(struct cl_scan_options *o)
{
    memset(o, 0, sizeof(*o));
    o->general = CL_SCAN_GENERAL_HEURISTICS;
    o->parse = ~0u; /* every parser: archives, PE, ELF, PDF, OLE2, mail, HTML... */
    /* what libclamav cannot look into is reported, so that it is never taken for clean */
    o->heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX | CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE |
                   CL_SCAN_HEURISTIC_ENCRYPTED_DOC;
}

static void fill_result(cl_error_t cr, const char *virname, const struct scan_ctx *c, long t0,
                        struct ww_deep_result *res)
{
    memset(res, 0, sizeof(*res));
    if (c->real[0] != '\0')
        virname = c->real; /* a finding wins over "could not look inside" another member */
    else if (virname == NULL && c->first[0] != '\0')
        virname = c->first;
    res->scan_ms = now_ms() - t0;
    if (cr == CL_CLEAN && c->real[0] == '\0') {
        /* a tar looked at again that hit a limit, or one libclamav could not open inside */
        const char *why = c->limit[0] != '\0' ? c->limit : c->unsupported;
        res->verdict = why[0] != '\0' ? WW_DEEP_UNSCANNED : WW_DEEP_CLEAN;
        snprintf(res->threat, sizeof(res->threat), "%s", why);
        return;
    }
    if (cr == CL_VIRUS || c->real[0] != '\0') {
        if (virname == NULL)
            virname = "Heuristics.Unnamed"; /* found, but libclamav gave no name */
        /* a limit hit or an encrypted member is not a finding: the body was not fully inspected */
        res->verdict = not_inspected(virname) ? WW_DEEP_UNSCANNED : WW_DEEP_INFECTED;
        snprintf(res->threat, sizeof(res->threat), "%s", virname);
        return;
    }
    res->verdict = WW_DEEP_UNSCANNED;
    snprintf(res->threat, sizeof(res->threat), "libclamav: %s", cl_strerror(cr));
}

void ww_clamav_scan_map(struct cl_engine *engine, cl_fmap_t *map, long t0,
                        struct scan_budget *budget, struct ww_deep_result *res)
{
    const char *virname = NULL;
    struct scan_ctx c = {.engine = engine, .t0 = t0};
    cl_error_t cr;

    c.budget = budget != NULL ? budget : &c.own;
    cr = map_scan(&c, map, &virname);
    fill_result(cr, virname, &c, t0, res);
}

int ww_clamav_scan_mem(struct ww_clamav *e, const void *data, size_t len,
                       struct ww_deep_result *res)
{
    long t0 = now_ms();

    if (e == NULL || (data == NULL && len > 0))
        return WW_EINVAL;
    ww_clamav_scan_map(e->engine, cl_fmap_open_memory(data != NULL ? data : "", len), t0, NULL,
                       res);
    return WW_OK;
}

int ww_clamav_scan_fd_in(struct ww_clamav *e, int fd, struct scan_budget *budget,
                         struct ww_deep_result *res)
{
    struct cl_scan_options o;
    const char *virname = NULL;
    unsigned long scanned = 0;
    long t0 = now_ms();
    cl_error_t cr;
    struct scan_ctx c = {.t0 = t0};

    c.budget = budget != NULL ? budget : &c.own;
    if (e == NULL || fd < 0)
        return WW_EINVAL;
    c.engine = e->engine;
    scan_options(&o);
    cr = cl_scandesc_callback(fd, NULL, &virname, &scanned, e->engine, &o, &c);
    fill_result(cr, virname, &c, t0, res);
    return WW_OK;
}

int ww_clamav_scan_fd(struct ww_clamav *e, int fd, struct ww_deep_result *res)
{
    return ww_clamav_scan_fd_in(e, fd, NULL, res);
}

/* A file (of true type <t>) libclamav cannot open, nor lib/ww_unpack: an lzop stream, or a zip
 * (<zstart> its start, from zip_in: < 0 none; <z> its end record) with a member packed in a way
 * neither undoes (WavPack, an encrypted LZMA one). 1 and <why> (a
 * Webwarden.DeepScan.Unsupported.* name). */
static int file_unsupported(const unsigned char *b, size_t len, enum ww_filetype t, int64_t zstart,
                            const struct ww_zip_end *z, char *why, size_t whylen,
                            uint64_t *largest_out)
{
    uint64_t largest;
    unsigned method;

    if (t == WW_FT_LZOP) {
        /* (zstd, lzip, .Z and lz4 are decoded by on_file, unsupported there when they cannot be) */
        snprintf(why, whylen, "Webwarden.DeepScan.Unsupported.%s", ww_filetype_name(t));
        return 1;
    }
    if (zstart < 0 && len >= 22 && memcmp(b, "PK\3\4", 4) == 0) {
        /* a zip with no directory inside a body: libclamav never opens it (the stream walk,
         * deep_zip_stream, reads the body's own kept bytes only); Java's ZipInputStream does */
        snprintf(why, whylen, "Webwarden.DeepScan.Unsupported.ZipNoDirectory");
        return 1;
    }
    if (zstart < 0)
        return 0;
    method = ww_filetype_zip_members(b + z->cd_at, (size_t)z->cd_size, &largest, NULL, NULL);
    *largest_out = largest;
    if (method == 0)
        return 0;
    snprintf(why, whylen, "Webwarden.DeepScan.Unsupported.ZipMethod%u", method);
    return 1;
}

struct ww_clamav_watch {
    struct cl_stat st[2];
    int armed[2];
    unsigned count[2]; /* database files at arm time, our own count */
    char *dir[2];
};

/* Database files in the folder now: cl_statchkdir() sees added and changed files, not removed
 * ones. */
static unsigned watch_count(const char *dir, int i)
{
    char **names;
    size_t n;
    if (list_dir(dir, i == 0 ? is_clamav_db : is_pattern_file, &names, &n) != WW_OK)
        return 0;
    free_names(names, n);
    return (unsigned)n;
}

static void watch_arm(struct ww_clamav_watch *w, int i)
{
    struct stat dst;

    if (w->armed[i])
        cl_statfree(&w->st[i]);
    memset(&w->st[i], 0, sizeof(w->st[i]));
    /* a missing folder is looked at with stat(): libclamav would print an error every look */
    w->armed[i] = w->dir[i] != NULL && stat(w->dir[i], &dst) == 0 && S_ISDIR(dst.st_mode) &&
                  cl_statinidir(w->dir[i], &w->st[i]) == CL_SUCCESS;
    w->count[i] = w->armed[i] ? watch_count(w->dir[i], i) : 0;
}

struct ww_clamav_watch *ww_clamav_watch_create(const char *clamav_dir, const char *patterns_dir)
{
    struct ww_clamav_watch *w = calloc(1, sizeof(*w));

    if (w == NULL || ww_clamav_global_init() != WW_OK) {
        free(w);
        return NULL;
    }
    w->dir[0] = clamav_dir != NULL && clamav_dir[0] != '\0' ? strdup(clamav_dir) : NULL;
    w->dir[1] = patterns_dir != NULL && patterns_dir[0] != '\0' ? strdup(patterns_dir) : NULL;
    for (int i = 0; i < 2; i++)
        watch_arm(w, i);
    return w;
}

int ww_clamav_watch_changed(struct ww_clamav_watch *w)
{
    int changed = 0;

    if (w == NULL)
        return 0;
    for (int i = 0; i < 2; i++) {
        if (w->dir[i] == NULL)
            continue;
        if (!w->armed[i]) {
            /* the folder did not exist: it appearing with a database is a change */
            watch_arm(w, i);
            if (w->armed[i] && w->count[i] > 0)
                changed = 1;
            continue;
        }
        if (cl_statchkdir(&w->st[i]) == 1 || watch_count(w->dir[i], i) != w->count[i]) {
            changed = 1;
            watch_arm(w, i);
        }
    }
    return changed;
}

void ww_clamav_watch_free(struct ww_clamav_watch *w)
{
    if (w == NULL)
        return;
    for (int i = 0; i < 2; i++) {
        if (w->armed[i])
            cl_statfree(&w->st[i]);
        free(w->dir[i]);
    }
    free(w);
}

struct cl_engine *ww_clamav_engine(const struct ww_clamav *e)
{
    return e != NULL ? e->engine : NULL;
}

long ww_clamav_now_ms(void)
{
    return now_ms();
}
