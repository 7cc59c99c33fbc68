/* lib/ww_iso.h - ISO 9660 images read as 7-Zip, libarchive and Windows read them (attack review
 * 18): libclamav 1.4's reader scans each extent of a multi-extent file on its own, skips a file
 * whose record says "interleaved", stops after 1,024 directory blocks (and calls that clean),
 * reads one Joliet tree among sectors 16-31 only, drops a directory's rest at a record that
 * crosses a sector, and scans a zisofs file's compressed bytes. Here: every volume descriptor to
 * the terminator (the primary and every supplementary tree, Joliet or not), directories of any
 * size read as one buffer (a record may cross a sector; a zero length byte goes on at the next
 * sector), multi-extent files joined, the interleave fields ignored, a file's data at its extent
 * (and once more after its extended attribute record when it has one, as libclamav reads it),
 * Rock Ridge zisofs (ZF) files inflated, the El Torito boot images as files (7-Zip lists them).
 * Directories are visited once each (a loop ends). UDF is not read here: ww_iso_has_udf says
 * whether an image has it. Pure: no libclamav, no global state; thread-safe. The deep scanner
 * (lib/ww_clamav) scans each file. */
#ifndef WW_ISO_H
#define WW_ISO_H

#include <stddef.h>

#include "ww_unpack.h"

struct ww_iso;

/* Whether the image at <b> has an ISO 9660 volume descriptor at sector 16 ("CD001"). */
int ww_iso_is(const unsigned char *b, size_t len);

/* Whether the image has a UDF volume recognition sequence (NSR02 or NSR03 among the descriptors
 * from sector 16 on): 7-Zip (for a .iso) and Windows then read the UDF tree, which may hold
 * other files than the ISO 9660 one. */
int ww_iso_has_udf(const unsigned char *b, size_t len);

/* Reads the image's trees: NULL when it has no volume descriptor that reads (not ISO 9660), or
 * out of memory. At most <most> + 1 files are listed. */
struct ww_iso *ww_iso_open(const unsigned char *b, size_t len, size_t most);
void ww_iso_close(struct ww_iso *iso); /* NULL is a no-op */

/* The files listed (a file in two trees once; at most <most> + 1), -1 for NULL. */
long ww_iso_count(const struct ww_iso *iso);

/* 1 when every tree was read whole; 0 when some directory was not (its extent past the image's
 * end, a record that does not read, over 1,000,000 records or 100,000 directories, no volume
 * descriptor of a tree, the image ending before the terminator): the files listed are still
 * there to read. */
int ww_iso_whole(const struct ww_iso *iso);

/* The content of file <index> (0 first) of <b> (the image given to ww_iso_open), at most <limit>
 * bytes (*out: free() it; NULL when empty). Data past the image's end gives what came before
 * and WW_UNPACK_FAILED; a zisofs stream that does not inflate, too. */
enum ww_unpack_result ww_iso_file(const struct ww_iso *iso, const unsigned char *b, size_t len,
                                  size_t index, size_t limit, unsigned char **out, size_t *outlen);

#endif
