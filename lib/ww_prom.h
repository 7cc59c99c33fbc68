/* lib/ww_prom.h - writes the Prometheus text exposition format (version 0.0.4): # HELP and
 * # TYPE lines, samples with escaped label values, histograms with cumulative buckets.
 *
 * A writer is a growable text buffer with a hard cap; one per scrape, one thread at a time.
 * Every function is a no-op once the writer failed (out of memory, over the cap): check
 * ww_prom_error() once at the end. */
#ifndef WW_PROM_H
#define WW_PROM_H

#include <stddef.h>
#include <stdint.h>

/* Content-Type of the text format, for the HTTP answer. */
#define WW_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct ww_prom; /* opaque */

/* An empty writer that never grows past <cap> bytes; NULL if out of memory. The caller owns it:
 * ww_prom_free(). */
struct ww_prom *ww_prom_create(size_t cap);
void ww_prom_free(struct ww_prom *p); /* NULL is a no-op */

/* "# HELP <name> <help>" (help escaped: \\ and \n) and "# TYPE <name> <type>", <type> one of
 * "counter", "gauge", "histogram", "untyped". A name that is not [a-zA-Z_:][a-zA-Z0-9_:]* fails
 * the writer (WW_EINVAL): a bad name would make Prometheus refuse the whole scrape. */
void ww_prom_family(struct ww_prom *p, const char *name, const char *type, const char *help);

/* One sample line "<name>{k="v",...} <value>". <labels> is NULL or a NULL-terminated array of
 * key, value pairs (values escaped: \\, \" and \n). Integral values are written without a
 * fraction, NaN and infinities as Prometheus spells them. */
void ww_prom_sample(struct ww_prom *p, const char *name, const char *const *labels, double value);

/* A histogram: <n> upper bounds <le> (ascending, finite) with per-bucket (not cumulative) counts
 * <counts>[0..n], the last being the observations above le[n-1]. Writes <name>_bucket lines
 * with cumulative counts and le="+Inf", then <name>_sum (<sum>) and <name>_count (the total).
 * <labels> as for ww_prom_sample (without "le"). */
void ww_prom_histogram(struct ww_prom *p, const char *name, const char *const *labels,
                       const double *le, const uint64_t *counts, size_t n, double sum);

/* WW_OK, or the first error (WW_ENOMEM, WW_ETOOBIG, WW_EINVAL). */
int ww_prom_error(const struct ww_prom *p);
/* The text so far, NUL-terminated; borrowed until the next call on <p>. */
const char *ww_prom_text(const struct ww_prom *p);
size_t ww_prom_len(const struct ww_prom *p);
/* Moves the text out (caller frees it with free()); the writer is empty afterwards. NULL when
 * the writer failed or out of memory. */
char *ww_prom_take(struct ww_prom *p, size_t *len);

#endif
