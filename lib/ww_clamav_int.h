/* lib/ww_clamav_int.h - what lib/ww_clamav.c (the engine and libclamav's callbacks) gives
 * lib/ww_deepscan.c (one body's deep scan and its second looks). Not part of the API. */
#ifndef WW_CLAMAV_INT_H
#define WW_CLAMAV_INT_H

#include <clamav.h>
#include <stdint.h>

#include "ww_clamav.h"

/* What a body's scans spend together, its second looks included: each may cost a whole scan. */
struct scan_budget {
    unsigned agains;        /* tar_again scans */
    unsigned decoded;       /* streams decoded here (zstd, bzip2, lzma: decode_begin) */
    uint64_t decoded_bytes; /* and the bytes they gave */
    unsigned ar_members;    /* ar members scanned (ar_again) */
    unsigned zip_members;   /* zip members decoded (zip_again) */
    unsigned files;         /* LHA, 7z and disk image files decoded (members_again) */
    uint64_t probed;        /* deflate and bzip2 zip members' sizes looked at (zip_again) */
};

/* The compiled engine of <e> (NULL for NULL): its limits, for the second looks. */
struct cl_engine *ww_clamav_engine(const struct ww_clamav *e);
/* A monotonic clock in ms: the scans' time budgets. */
long ww_clamav_now_ms(void);
/* libclamav over <map> (NULL: it could not be made), closed here; <t0> when the scan began;
 * <budget>: what the body's scans spent so far (NULL: this scan's own), with every file inside
 * looked at by on_file. */
void ww_clamav_scan_map(struct cl_engine *engine, cl_fmap_t *map, long t0,
                        struct scan_budget *budget, struct ww_deep_result *res);
/* The same over an open file (a spooled body). */
int ww_clamav_scan_fd_in(struct ww_clamav *e, int fd, struct scan_budget *budget,
                         struct ww_deep_result *res);

#endif
