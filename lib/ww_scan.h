/* lib/ww_scan.h - the conventional-scan engine: hash signatures (.hdb .hsb) and body signatures
 * (.ndb) compiled into one automaton, and a streaming scanner over it. */
#ifndef WW_SCAN_H
#define WW_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "ww_common.h"

struct ww_engine; /* compiled signature database; immutable, reference-counted, thread-safe */

struct ww_engine_stats {
    size_t hash_sigs;    /* .hdb + .hsb loaded */
    size_t body_sigs;    /* .ndb loaded */
    size_t skipped;      /* unsupported or bad lines skipped (one warning per file) */
    size_t files;        /* signature files read */
    size_t memory_bytes; /* compiled database size */
    char matcher[256];   /* ww_sigdb_describe_matcher: the body scan it gets, or why the slow one */

    /* "file:line: reason" of the first skipped line, or "" */
    char first_skipped[WW_ERRLEN];
};

/* Loads every *.hdb, *.hsb and *.ndb file of folder <dir> and compiles them. WW_OK with *out
 * (one reference, owned by the caller), or WW_EIO/WW_EINVAL with the reason in <err> (a folder
 * that cannot be read, a bad file), WW_ENOTFOUND for a folder without any signature (a fresh
 * install waiting for its first update). Bad lines are skipped and counted, not errors. */
int ww_engine_load_dir(const char *dir, struct ww_engine **out, struct ww_engine_stats *stats,
                       char *err, size_t errlen);
struct ww_engine *ww_engine_ref(struct ww_engine *e);
void ww_engine_unref(struct ww_engine *e); /* frees on the last reference; NULL is a no-op */
void ww_engine_get_stats(const struct ww_engine *e, struct ww_engine_stats *stats);

struct ww_scan; /* one body being scanned; one thread at a time */

#define WW_SCAN_SHA256 1u /* ww_scan_create: compute the body's SHA-256 (for smart scan) */

/* The threat reported for a body that declared <total_size> bytes but had another length, when
 * a hash signature names the real length: digests skipped for the declared size are missing. */
#define WW_THREAT_SIZE_MISMATCH "Webwarden.Heuristic.BodySizeMismatch"

/* Starts a scan of a body of <total_size> bytes (-1 if unknown). Digests are computed only
 * where a hash signature of that size exists, and the SHA-256 always with WW_SCAN_SHA256 in
 * <flags>. Holds a reference on <e> until ww_scan_free(). NULL if out of memory. */
struct ww_scan *ww_scan_create(struct ww_engine *e, int64_t total_size, unsigned flags);
/* Feeds the next bytes. Returns 1 once a body signature matched (threat name available from
 * ww_scan_threat), 0 otherwise. Matches across feed boundaries are found. */
int ww_scan_feed(struct ww_scan *s, const void *data, size_t len);
/* Ends the body: EOF-anchored body signatures and hash signatures (of all fed bytes) are
 * checked. Returns 1 if infected (by any signature so far), else 0. */
int ww_scan_finish(struct ww_scan *s);
/* Name of the first threat found, or NULL. Borrowed until ww_scan_free(). */
const char *ww_scan_threat(const struct ww_scan *s);
/* Lower-case hex SHA-256 of the fed bytes after ww_scan_finish(), or NULL when it was not
 * computed (no WW_SCAN_SHA256 and no .hsb signature of the body's size). */
const char *ww_scan_sha256(const struct ww_scan *s);
/* Why the body signatures could not all be checked (a step budget spent, too many checks
 * waiting), or NULL. With no threat, such a body is unscanned, never clean (issue 12). */
const char *ww_scan_incomplete(const struct ww_scan *s);
void ww_scan_free(struct ww_scan *s); /* NULL is a no-op */

#endif
