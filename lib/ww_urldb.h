/* lib/ww_urldb.h - the local URL database (urldb.file; format in docs/urldb.md): host and
 * host/path-prefix entries with a score and categories, looked up like Safe Browsing (host
 * suffixes x path prefixes, most specific first) without any network call.
 *
 * A loaded database is immutable and reference counted: readers take a reference, a hot reload
 * loads a new one and swaps the pointer (ww_rep_set_urldb), the old one goes with its last
 * reference. */
#ifndef WW_URLDB_H
#define WW_URLDB_H

#include <stddef.h>

struct ww_rating;
struct ww_urldb; /* opaque */

#define WW_URLDB_FORMAT 1

/* Loads <path>. WW_OK and *out (one reference, the caller's), or WW_EIO / WW_EINVAL /
 * WW_ENOMEM with "file:line: reason" in <err>. The whole file is checked: one bad line refuses
 * it (a half-loaded database would silently change decisions). */
int ww_urldb_load(const char *path, struct ww_urldb **out, char *err, size_t errlen);

/* Same from text in memory (<name> for messages). */
int ww_urldb_load_buffer(const char *name, const char *text, size_t len, struct ww_urldb **out,
                         char *err, size_t errlen);

struct ww_urldb *ww_urldb_ref(struct ww_urldb *db); /* returns db; NULL-safe; thread-safe */
void ww_urldb_unref(struct ww_urldb *db);           /* frees at zero; NULL-safe; thread-safe */

/* The data version from the header line (borrowed, lives as long as db). */
const char *ww_urldb_version(const struct ww_urldb *db);
size_t ww_urldb_count(const struct ww_urldb *db);

/* Looks up canonical URL <canon>: the most specific entry wins (longer host suffix first, then
 * longer path). WW_OK with <out> filled (source LOCALDB, ttl -1), or WW_ENOTFOUND (out
 * untouched), WW_EINVAL (not a canonical URL). No allocation; thread-safe. */
int ww_urldb_lookup(const struct ww_urldb *db, const char *canon, struct ww_rating *out);

/* Converts squidGuard-style lists (<dir>/<category>/domains and <dir>/<category>/urls, as in
 * the UT1 blacklists) into a urldb file at <out_path> (written to a temporary file, then renamed).
 * Each entry gets <default_score> (0..100; 0 = categories only, unrated) unless
 * <category_scores> ("malware=10,phishing=10", may be NULL) names its category; an entry in
 * several categories gets all of them (up to WW_REP_MAX_CATEGORIES) and the lowest score.
 * Comments, blank lines, and unusable entries (spaces, over 1024 bytes, no host) are skipped and
 * counted. <version> NULL = the current UTC time as YYYY.MM.DD.HHMMSS. WW_OK with the entry
 * count in *entries_out (may be NULL), or WW_E* with the reason in <err>. */
int ww_urldb_import_squidguard(const char *dir, const char *out_path, int default_score,
                               const char *category_scores, const char *version,
                               size_t *entries_out, char *err, size_t errlen);

#endif
