/* lib/ww_diskimage.h - disk images, which libclamav 1.4 does not open: a fixed .vhd (Windows
 * mounts it with a double click; such a disk with a footer), raw disk and floppy images (.img:
 * 7-Zip opens them). A FAT volume (FAT12, FAT16, FAT32), or a disk of them (an MBR partition
 * table, logical partitions too, or a GPT). The files on
 * the FAT volumes are read as Windows reads them (the active FAT, cluster chains, directories
 * to any depth, long names ignored, deleted entries skipped); a volume of another filesystem
 * (NTFS, exFAT), a dynamic VHD and a VHDX are not read by ww_diskimage_count (-1; the disk of a
 * dynamic VHD or a VHDX is put together by ww_diskimage_vhd or _vhdx, then read). Pure: no
 * libclamav, no global state; thread-safe. The deep scanner (lib/ww_clamav) scans each file. */
#ifndef WW_DISKIMAGE_H
#define WW_DISKIMAGE_H

#include <stddef.h>

#include "ww_unpack.h"

/* (ww_filetype_disk_kind, in ww_filetype.h, tells a disk image from its first sector; it is
 * written here, with the FAT boot sector's test the reader uses) */

/* The files of the image at <b> (<len> bytes), in directory order, volume after volume: their
 * count (at most <most> + 1 counted), or -1 when some volume or directory cannot be read (an
 * NTFS or exFAT volume, a dynamic VHD, a VHDX; more than 200,000 directory entries, directories
 * more than 16 deep). What lies past the image's bytes is not there: a directory ends there. */
long ww_diskimage_count(const unsigned char *b, size_t len, size_t most);

/* The content of file <index> (0 first), as ww_unpack decodes (*out: free() it; NULL when
 * empty), at most <limit> bytes: a chain that ends before the file's size, or leaves the image,
 * gives what came before and WW_UNPACK_FAILED. */
enum ww_unpack_result ww_diskimage_file(const unsigned char *b, size_t len, size_t index,
                                        size_t limit, unsigned char **out, size_t *outlen);

/* The disk inside a dynamic VHD (Windows mounts one with a double click): its footer's copy at
 * the start, the dynamic header, the block allocation table, each block's data after its sector
 * bitmap; a block not allocated reads as zeros. At most <limit> bytes of the disk (*out: free()
 * it; the disk image reader, lib/ww_clamav, reads it then). WW_UNPACK_FAILED: not a dynamic VHD
 * (a fixed one is a disk with a footer, read as it is; a differencing one needs its parent), its
 * headers do not read, or a block lies past the end (what is there is in *out). */
enum ww_unpack_result ww_diskimage_vhd(const unsigned char *b, size_t len, size_t limit,
                                       unsigned char **out, size_t *outlen);

/* The disk inside a VHDX (Windows 8 and later mount one with a double click): the later of its
 * two headers, the region table (or its copy), the metadata (block size, disk size, sector
 * size), the block allocation table (its sector bitmap entries passed over); a block not present
 * reads as zeros. As ww_diskimage_vhd; WW_UNPACK_FAILED too for a VHDX with a log to replay
 * first, or a differencing one. Checksums are not checked (a reader that checks them reads
 * less). */
enum ww_unpack_result ww_diskimage_vhdx(const unsigned char *b, size_t len, size_t limit,
                                        unsigned char **out, size_t *outlen);

#endif
