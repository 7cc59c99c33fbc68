/* lib/ww_sig.h - ClamAV .ndb body signatures: a line parser, a compiler into one multi-pattern
 * anchor index, and a streaming matcher over it. See docs/patterns.md for the subset. */
#ifndef WW_SIG_H
#define WW_SIG_H

#include <stddef.h>
#include <stdint.h>

struct ww_sigdb;   /* body signatures; read-only and thread-safe once compiled */
struct ww_sigscan; /* one body being matched; one thread at a time */

/* Empty database; NULL if out of memory. Caller owns it: ww_sigdb_free(). */
struct ww_sigdb *ww_sigdb_create(void);
void ww_sigdb_free(struct ww_sigdb *db); /* NULL is a no-op */

/* Adds one .ndb line "name:target:offset:hexsig[:min_flevel[:max_flevel]]". Empty lines and
 * '#' comments are WW_OK and add nothing. WW_OK; WW_EINVAL (malformed or unsupported: the reason
 * in <err>, nothing added); WW_ENOMEM. Not after ww_sigdb_compile(). */
int ww_sigdb_add_line(struct ww_sigdb *db, const char *line, char *err, size_t errlen);

/* Builds the anchor index; afterwards <db> is read-only. WW_OK or WW_ENOMEM. */
int ww_sigdb_compile(struct ww_sigdb *db);

size_t ww_sigdb_count(const struct ww_sigdb *db);  /* signatures added */
size_t ww_sigdb_memory(const struct ww_sigdb *db); /* bytes held once compiled */

/* Matcher over a compiled <db> (borrowed: it must outlive the scan) for a body of <total_size>
 * bytes (-1 if unknown). NULL if out of memory. */
struct ww_sigscan *ww_sigscan_create(const struct ww_sigdb *db, int64_t total_size);
/* Feeds the next bytes; the name of the first signature that matched (borrowed from <db>) or
 * NULL. Once a name was returned, later calls return it again without matching. */
const char *ww_sigscan_feed(struct ww_sigscan *s, const unsigned char *data, size_t len);
/* Ends the body and checks the EOF-anchored and fixed-offset signatures still pending. */
const char *ww_sigscan_finish(struct ww_sigscan *s);
/* Why some body signature could not be fully checked (a step budget spent, too many checks
 * waiting for more bytes), or NULL. A body with no threat but a reason here is not clean: it is
 * unscanned (issue 12). Borrowed, static text. */
const char *ww_sigscan_incomplete(const struct ww_sigscan *s);
/* Steps this scan spent checking signatures: one per segment tried, plus one per 4 bytes
 * compared (anchors included; the index probes are a fixed cost per byte, not counted). */
uint64_t ww_sigscan_steps(const struct ww_sigscan *s);
/* The scan's budget for <bytes> bytes fed: 20,000,000 steps plus 64 per byte. Past it no check
 * starts any more and the scan is incomplete (never clean). */
uint64_t ww_sigscan_step_budget(uint64_t bytes);
/* The most steps a scan of <bytes> bytes ever spends: the budget, overshot by one check at most
 * (200,000 steps, plus one anchor compared). t/fuzz_sigmatch.c holds every scan to it. */
uint64_t ww_sigscan_step_limit(uint64_t bytes);
void ww_sigscan_free(struct ww_sigscan *s); /* NULL is a no-op */
/* For tests: the window an 8-byte block <b> (9 bytes readable) probes in wide mode, by the
 * portable code (*scalar) and by the SIMD code the scan uses on this CPU (*simd). Returns 1 when
 * a SIMD path exists here, else 0 (*simd is then the portable pick). */
int ww_sig_wide_pick_check(const unsigned char *b, unsigned *scalar, unsigned *simd);
/* For tests: the fastest scan path this CPU has (0 portable, 1 SSE4.1, 2 AVX-512), and the
 * most the scans may use (-1, the default: the fastest). */
int ww_sig_simd_max(void);
extern int ww_sig_simd_level;
/* One line for the log and `status`: which scan a compiled database gets ("body matcher: wide
 * mode (AVX-512), 512 KiB filter"), or why it gets the slower one (the count of signature parts
 * anchored on fewer than 11 exact bytes, and the first such signature's name). */
void ww_sigdb_describe_matcher(const struct ww_sigdb *db, char *out, size_t outlen);
/* For tests and benchmarks: bytes of the wide index's Bloom filter (0: wide mode is off). */
size_t ww_sigdb_wide_filter_bytes(const struct ww_sigdb *db);
/* For tests: keys in the stride-8 index (one per alignment an anchor needs it for). */
size_t ww_sigdb_stride8_keys(const struct ww_sigdb *db);

#endif
