/* lib/ww_clamav.h - the deep scanner: a libclamav engine (ClamAV's databases plus Webwarden's
 * own pattern files, with ClamAV's unpackers) over whole bodies in memory or in a file. */
#ifndef WW_CLAMAV_H
#define WW_CLAMAV_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct ww_clamav; /* compiled engine; immutable, reference-counted, thread-safe */

struct ww_clamav_limits {
    int64_t max_scan_size; /* bytes scanned per body, members included */
    int64_t max_file_size; /* largest body or member */
    int max_recursion;     /* archive nesting */
    int max_files;         /* members per body */
    int max_scan_time_ms;  /* per body */
};

#define WW_CLAMAV_MAX_DBS 32

/* One database file of the ClamAV folder, from its CVD/CLD header when it has one. */
struct ww_clamav_db {
    char name[64];    /* file name, e.g. "daily.cld" */
    unsigned version; /* 0 for a text database (no header) */
    unsigned sigs;    /* header's count, or what libclamav loaded from a text file */
    time_t built;     /* header's build time; the file's mtime for a text database */
};

struct ww_clamav_info {
    struct ww_clamav_db dbs[WW_CLAMAV_MAX_DBS]; /* ClamAV folder's databases, by name */
    size_t ndbs;                                /* also counts those past the array */
    unsigned clamav_sigs;                       /* loaded from the ClamAV folder */
    unsigned pattern_sigs;                      /* loaded from Webwarden's pattern folder */
    size_t pattern_files_skipped; /* Webwarden files libclamav refused (the fast engine has them) */
    size_t pattern_lines_skipped; /* Webwarden lines left out for libclamav (ww_clamav_load_tmp) */
    time_t newest_built;          /* newest database build time; 0 when none */
    long load_ms;                 /* load and compile time */
    char libclamav_version[32];
};

/* Once per process, before any other call (cl_init). Thread-safe and idempotent. WW_OK or
 * WW_EIO. */
int ww_clamav_global_init(void);

/* Loads every ClamAV database of <clamav_dir> (.cvd .cld .cud and the text formats) and every
 * .hdb/.hsb/.ndb of <patterns_dir> (either may be NULL or missing), sets <lim> and compiles.
 * May take seconds to minutes on the full ClamAV set: call it before forking, never on the
 * request path. WW_OK with *out (one reference, caller owns it) and *info filled;
 * WW_ENOTFOUND when neither folder holds a database (run the fast engine alone); WW_EINVAL when
 * a ClamAV database does not load ("file: reason" in <err>: keep the engine you had);
 * WW_ENOMEM; WW_EIO. */
int ww_clamav_load(const char *clamav_dir, const char *patterns_dir,
                   const struct ww_clamav_limits *lim, struct ww_clamav **out,
                   struct ww_clamav_info *info, char *err, size_t errlen);
/* The same, with Webwarden's pattern files copied for libclamav into a private folder made
 * under <tmp_dir> (NULL: $TMPDIR or /tmp) and removed again: comments and lines libclamav would
 * refuse the whole file for are left out (counted in info->pattern_lines_skipped), a wildcard
 * size hash line gets ClamAV's ":73". ww_clamav_load() is this with <tmp_dir> NULL. */
int ww_clamav_load_tmp(const char *clamav_dir, const char *patterns_dir, const char *tmp_dir,
                       const struct ww_clamav_limits *lim, struct ww_clamav **out,
                       struct ww_clamav_info *info, char *err, size_t errlen);
struct ww_clamav *ww_clamav_ref(struct ww_clamav *e);
void ww_clamav_unref(struct ww_clamav *e); /* frees on the last reference; NULL is a no-op */
/* Borrowed until the last unref. */
const struct ww_clamav_info *ww_clamav_get_info(const struct ww_clamav *e);

/* The database folders' databases without loading them (for status): version, signatures and
 * build time from each CVD/CLD header. WW_OK, WW_ENOTFOUND (no database) or WW_EIO. */
int ww_clamav_read_dir(const char *clamav_dir, struct ww_clamav_info *info);

/* Whether the admin must act on the deep scanner, from the folder's databases (<read_rc> and
 * <info> from ww_clamav_read_dir) at <now>: 1 with the reason in <why> when the scanner is
 * enabled and no database is there, or the newest was built more than <max_age_days> ago
 * (freshclam stopped); else 0. */
int ww_clamav_status_problem(int enabled, int read_rc, const struct ww_clamav_info *info,
                             int max_age_days, time_t now, char *why, size_t whylen);

enum ww_deep_verdict {
    WW_DEEP_CLEAN = 0,
    WW_DEEP_INFECTED = 1,
    WW_DEEP_UNSCANNED = 2 /* a limit was hit or libclamav failed: never "clean" */
};

struct ww_deep_result {
    enum ww_deep_verdict verdict;
    char threat[128]; /* INFECTED: the signature; UNSCANNED: Heuristics.Limits.Exceeded.* or the
                       * libclamav error */
    long scan_ms;
};

/* Scans <len> bytes at <data> (a whole body) with ClamAV's unpackers. Thread-safe; blocks for
 * at most about the engine's max_scan_time_ms. WW_OK with *res filled, or WW_EINVAL. */
int ww_clamav_scan_mem(struct ww_clamav *e, const void *data, size_t len,
                       struct ww_deep_result *res);
/* The same over an open file (a spooled body); the file offset is not used. */
int ww_clamav_scan_fd(struct ww_clamav *e, int fd, struct ww_deep_result *res);

/* Watches both folders for a changed, added or removed database (cl_statchkdir). */
struct ww_clamav_watch;
struct ww_clamav_watch *ww_clamav_watch_create(const char *clamav_dir, const char *patterns_dir);
/* 1 when something changed since create or the last call that returned 1, else 0. */
int ww_clamav_watch_changed(struct ww_clamav_watch *w);
void ww_clamav_watch_free(struct ww_clamav_watch *w); /* NULL is a no-op */

#endif
