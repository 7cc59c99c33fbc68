/* lib/ww_deepscan.h - one body's deep scan (lib/ww_deepscan.c) on the deep scanner of
 * lib/ww_clamav. */
#ifndef WW_DEEPSCAN_H
#define WW_DEEPSCAN_H

#include <stdint.h>

#include "ww_clamav.h"

/* One body on its way to the deep scanner: its true type from the first decoded bytes, and the
 * body kept (memory up to WW_DEEPSCAN_MEM, then an unlinked temp file) only when the type is in
 * the deep set. One thread at a time. */
struct ww_deepscan;

#define WW_DEEPSCAN_MEM (1 << 20)

/* <e> may be NULL (no deep engine: only the type is told). <types> is a ww_filetype set.
 * <max_bytes>: past this the body is not kept and the result is UNSCANNED (MaxFileSize);
 * <tmp_dir>: where a body past WW_DEEPSCAN_MEM goes. Holds a reference on <e>. NULL if out of
 * memory. */
struct ww_deepscan *ww_deepscan_create(struct ww_clamav *e, uint64_t types, int64_t max_bytes,
                                       const char *tmp_dir);
/* The next decoded body bytes. WW_OK, or WW_EIO / WW_ENOMEM (the result will be UNSCANNED). */
int ww_deepscan_feed(struct ww_deepscan *d, const void *data, size_t len);
/* The true type (enum ww_filetype): final once WW_FILETYPE_PEEK bytes came, or after finish. */
int ww_deepscan_type(const struct ww_deepscan *d);
/* The type's name for logs: "zip", or with an archive hidden in a body of a type not in the set
 * (a polyglot, ww_filetype_embed) both, "image+zip": such a body is deep-scanned from the
 * archive's signature on. Borrowed until the next call or free. */
const char *ww_deepscan_type_name(struct ww_deepscan *d);
/* The hidden archive's type (WW_FT_ZIP, WW_FT_RAR, WW_FT_7Z), or 0. */
int ww_deepscan_embedded(const struct ww_deepscan *d);
/* Ends the body. 1 when the deep scanner ran (or should have: UNSCANNED), *res filled; 0 when
 * the type is not in the set or there is no engine (nothing to add to the fast engine's
 * verdict). Blocks for the scan (bounded by the engine's max_scan_time_ms). */
/* A second deep scanner like <d> (its engine, limits, folder) that deep-scans nothing by type
 * and only watches for an archive hidden in the bytes (a polyglot): for the bytes of an encoded
 * body as received, where a zip may sit in a gzip header's extra field. NULL without an engine
 * or memory. */
struct ww_deepscan *ww_deepscan_watcher(const struct ww_deepscan *d);
int ww_deepscan_finish(struct ww_deepscan *d, struct ww_deep_result *res);
void ww_deepscan_free(struct ww_deepscan *d); /* NULL is a no-op */

#endif
