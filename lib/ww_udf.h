/* lib/ww_udf.h - UDF images (ECMA-167 / OSTA UDF 1.02-2.60) read as 7-Zip and Windows read them
 * (attack review 18, F8, F9): libclamav 1.4 reads one layout only (genisoimage's, its sectors in
 * one order) and a UDF bridge's ISO 9660 tree only; Windows mounts a .iso's UDF tree, 7-Zip opens
 * it first. Here: the anchor at sector 256 (or at the image's last sector, or 256 before it),
 * the volume descriptor sequence by tag (partition and logical volume descriptors in any order;
 * 2,048-byte sectors, or 512 and 4,096), partition maps of type 1, sparable and the metadata
 * partition (UDF 2.50), the file set descriptor, File Entries and Extended File Entries, short,
 * long and inline allocation descriptors (and their continuations), directories to any depth
 * (each once), deleted entries skipped. Not read (ww_udf_whole 0): the virtual partition of a
 * CD-R (VAT), extended allocation descriptors, an entry that does not read. Pure: no libclamav,
 * no global state; thread-safe. The deep scanner (lib/ww_clamav) scans each file. */
#ifndef WW_UDF_H
#define WW_UDF_H

#include <stddef.h>

#include "ww_unpack.h"

struct ww_udf;

/* Whether the image at <b> has a UDF anchor (a tag 2 whose checksum holds) at sector 256 of
 * 2,048, 512 or 4,096 bytes: 7-Zip opens such an image by it, with or without a recognition
 * sequence (ww_iso_has_udf). */
int ww_udf_anchor(const unsigned char *b, size_t len);

/* Reads the image's file tree: NULL when no anchor reads (not UDF), or out of memory. At most
 * <most> + 1 files are listed. */
struct ww_udf *ww_udf_open(const unsigned char *b, size_t len, size_t most);
void ww_udf_close(struct ww_udf *u); /* NULL is a no-op */

/* The files listed (at most <most> + 1), -1 for NULL. */
long ww_udf_count(const struct ww_udf *u);

/* 1 when the whole tree was read; 0 when some part was not (see above; a descriptor or entry
 * past the image's end, over 1,000,000 entries): the files listed are still there to read. */
int ww_udf_whole(const struct ww_udf *u);

/* The content of file <index> (0 first) of <b> (the image given to ww_udf_open), at most <limit>
 * bytes (*out: free() it; NULL when empty). Data past the image's end or an extent that does not
 * resolve gives what came before and WW_UNPACK_FAILED. */
enum ww_unpack_result ww_udf_file(const struct ww_udf *u, const unsigned char *b, size_t len,
                                  size_t index, size_t limit, unsigned char **out, size_t *outlen);

#endif
