/* lib/ww_unpack.h - readers for what libclamav 1.4 cannot undo, as the everyday tools read it:
 * zstd (legacy frames too), bzip2 files of several streams, LZMA "alone", lzip, Unix compress
 * (.Z), lz4, the streams zstd -d reads one after the other, zip members packed with LZMA, xz or
 * zstd, and ar archives. The deep scanner (lib/ww_clamav) decodes with them and hands the content
 * to libclamav; the budgets (how much, how often) are its own. Pure: no libclamav, no global state;
 * thread-safe. */
#ifndef WW_UNPACK_H
#define WW_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#define WW_UNPACK_ZSTD_WINDOW_LOG 27         /* windows up to 128 MiB (zstd --long) */
#define WW_UNPACK_LZMA_MEMLIMIT (160u << 20) /* LZMA dictionaries up to 128 MiB (lzma -9: 64) */

enum ww_unpack_format {
    WW_UNPACK_ZSTD,     /* zstd frames, legacy (v0.5-v0.7) and skippable ones, as zstd -d */
    WW_UNPACK_BZIP2,    /* bzip2 streams one after the other, as bzip2 -d (what follows the
                         * last one is ignored, as it does) */
    WW_UNPACK_LZMA,     /* one LZMA "alone" stream, as lzma -d (any dictionary size) */
    WW_UNPACK_ZSTD_CLI, /* zstd, skippable, gzip, xz, LZMA and lz4 streams in any order, as
                         * zstd -d built with zlib, liblzma and liblz4 (Debian's) reads a file;
                         * it fails at anything else */
    WW_UNPACK_XZ,       /* xz streams one after the other (stream padding between them), as
                         * xz -d; a zip member of method 95 is one */
    WW_UNPACK_LZIP,     /* lzip members one after the other, as lzip -d (what follows the last
                         * one is ignored, as it does; any dictionary size, as for LZMA) */
    WW_UNPACK_COMPRESS, /* Unix compress (.Z: LZW, 9-16 bits, block mode or not), as gzip -d and
                         * uncompress read it */
    WW_UNPACK_LZ4,      /* lz4 frames, legacy frames (lz4 -l) and skippable frames one after the
                         * other, as lz4 -d reads them */
    WW_UNPACK_GZIP_CLI, /* gzip members (gzip 0.5's magic 1f 9e too) and pack members (1f 1e),
                         * then a Unix compress (.Z) stream to the end, as gzip -d (tar xzf,
                         * zcat) reads a file; other bytes after the members ignored; an LZH
                         * stream (1f a0) is not decoded (FAILED) */
};

enum ww_unpack_result {
    WW_UNPACK_DONE,   /* all of the input decoded */
    WW_UNPACK_OVER,   /* more than <limit> bytes would come: <limit> of them are in the output */
    WW_UNPACK_FAILED, /* corrupt, cut short, a window or dictionary over the limits, out of
                       * memory: the output holds what came before, as the tools write it */
};

/* Decodes <len> bytes at <in> as <fmt> into a buffer of its own (*out, *outlen; free() it,
 * NULL when nothing came), at most <limit> bytes. */
enum ww_unpack_result ww_unpack(enum ww_unpack_format fmt, const unsigned char *in, size_t len,
                                size_t limit, unsigned char **out, size_t *outlen);

/* A zip member's data packed with <method> (ww_filetype_zip_method_unpacked: LZMA, zstd, xz,
 * PPMd), <len> bytes at <in>, its general-purpose <flags>, CRC-32 <crc> and uncompressed size
 * <usize> (UINT64_MAX: unknown), decoded as ww_unpack does. A PPMd member is read by
 * libarchive's zip reader (its size must be known; a model of more than 128 MiB is not read). An
 * LZMA member is a 4-byte version and properties size, the 5 properties, then the stream: ended by
 * an end marker (flag 2 says so) or after <usize> bytes, with or without a marker then, as Python's
 * zipfile and libarchive read it. An encrypted member (flag 1), another method, or an LZMA one of
 * unknown length and no marker: WW_UNPACK_FAILED. */
enum ww_unpack_result ww_unpack_zip_member(unsigned method, unsigned flags, uint32_t crc,
                                           uint64_t usize, const unsigned char *in, size_t len,
                                           size_t limit, unsigned char **out, size_t *outlen);

/* Archives read by libarchive, entry after entry: LHA (.lzh, .lha: "-lh5-" and the like at byte
 * 2), which libclamav 1.4 does not open, as 7-Zip and WinRAR read it; 7z, whose coders libclamav
 * reads only in part (not BZip2, Deflate, the ARM64 and Delta filters), as libarchive (so Windows
 * 11's Explorer) reads it. */
enum ww_unpack_archive {
    WW_UNPACK_ARCHIVE_LHA,
    WW_UNPACK_ARCHIVE_7Z,
    WW_UNPACK_ARCHIVE_CPIO /* every cpio format, as libarchive (and 7-Zip) read them */
};
struct ww_unpack_entries;
/* NULL when the archive does not open (its first headers do not read, out of memory) */
struct ww_unpack_entries *ww_unpack_entries_open(enum ww_unpack_archive kind,
                                                 const unsigned char *in, size_t len);
/* The next entry: 1 and its content, as ww_unpack decodes it (*res; *out: free() it, NULL when
 * empty; a directory or a link is empty; a bad CRC: FAILED, the data kept), or *encrypted set
 * (nothing read); 0 after the last entry; -1 when a header does not read (nothing after it is
 * read either). */
int ww_unpack_entries_next(struct ww_unpack_entries *e, size_t limit, enum ww_unpack_result *res,
                           unsigned char **out, size_t *outlen, int *encrypted);
void ww_unpack_entries_close(struct ww_unpack_entries *e);
/* The offset of the first LHA header at or after <from> in <b> (<len> bytes): a method ("-lh5-",
 * "-lzs-" and the like) at its third byte, and a level 0 or 1 header whose checksum holds, or a
 * level 2 one of a sane size (as 7-Zip finds an LHA archive in a self-extractor, or behind other
 * bytes); -1 none. */
long long ww_unpack_lha_find(const unsigned char *b, size_t len, size_t from);
/* The coders of the 7z at <b> (<len> bytes), read from its header (an LZMA- or LZMA2-encoded
 * one decoded, up to WW_UNPACK_7Z_HEADER_MAX): 1 each one libclamav 1.4's 7z reader decodes
 * (Copy, LZMA, LZMA2, PPMd, BCJ, BCJ2, ARM; AES, which it tells encrypted), 0 not, -1 not
 * understood (an additional streams block, an encoded header of another coder or larger than
 * the bound, anything cut or odd). Known coders are no proof that libclamav reads the files
 * (review 17: folder shapes, a missing SubStreamsInfo, a CRC): the caller reads them anyway.
 * *info: the largest output any coder declares (what a reader allocates for it), the decoded
 * header's size, the main streams' folders. */
#define WW_UNPACK_7Z_HEADER_MAX (8u << 20)
struct ww_unpack_7z_info {
    uint64_t largest, header, folders;
};
int ww_unpack_7z_coders(const unsigned char *b, size_t len, struct ww_unpack_7z_info *info);
/* The offset of the first 7z archive at or after <from> in <b> (<len> bytes): its signature,
 * major version 0 and a start header whose CRC holds (as 7-Zip finds the archive in a
 * self-extractor, an .exe with the 7z appended); or a start header of zeros (*zeroed set: 7-Zip
 * looks for the header from the file's end, nothing here reads it); -1 none. */
long long ww_unpack_7z_find(const unsigned char *b, size_t len, size_t from, int *zeroed);

/* An RPM package (rpm -i, rpm2cpio and libarchive read its payload; libclamav 1.4 reads none of
 * it): the payload's offset (a cpio, compressed or not) after the 96-byte lead, the signature
 * header (padded to 8 bytes) and the header; -1 when <b> is not an RPM or its headers do not
 * read (more than 65,535 tags or 256 MiB of data, as rpm refuses, or past the end). */
long long ww_unpack_rpm_payload(const unsigned char *b, size_t len);

/* Streams and archives that 7-Zip's signature search opens anywhere in a file (an .exe, a .bin:
 * "Type = gzip, Offset = 184") and libclamav reads only at a file's start (attack review 18,
 * F11). */
enum ww_unpack_found {
    WW_FOUND_GZIP = 1, /* 1f 8b 08, its reserved flags clear */
    WW_FOUND_XZ,       /* the magic and stream flags whose CRC holds */
    WW_FOUND_BZIP2,    /* "BZh1".."BZh9" and the first block's magic */
    WW_FOUND_ZSTD,     /* the magic and a frame header with its reserved bit clear */
    WW_FOUND_CPIO,     /* "070701", "070702" (8 hex digits follow), "070707" (6 octal), or
                        * binary (c7 71 or 71 c7, a name that ends in a NUL) */
};

/* The offset of the first such stream or archive at or after <from> in <b> (<len> bytes), its
 * kind in *kind; -1 none. Each kind is a memmem pass over <b> from <from>. */
long long ww_unpack_stream_find(const unsigned char *b, size_t len, size_t from, int *kind);

/* Whether the bzip2 file at <b> (<len> bytes) holds a second stream (a stream header with its
 * first block's magic, byte-aligned: each stream starts on a byte); libclamav reads the first
 * only. A cheap look. */
int ww_unpack_bzip2_streams(const unsigned char *b, size_t len);
/* Whether a deflate (method 8) or bzip2 (12) zip member's data, <len> bytes at <in>, gives more
 * than its directory's size <usize>: Python's zipfile writes that many bytes (the CRC over
 * them), libclamav scans it all (attack review 15, F3). Decoded with the output thrown away,
 * stopping past <usize>. ww_unpack_zip_member then decodes the member (these two methods too). */
int ww_unpack_zip_longer(unsigned method, const unsigned char *in, size_t len, uint64_t usize);
/* Whether gzip -d reads the file at <b> (<len> bytes) further than libclamav: a first member
 * libclamav does not read (gzip 0.5's magic 1f 9e, pack 1f 1e, LZH 1f a0, .Z 1f 9d), or gzip
 * members followed by one of those (attack review 15, F2). The members are inflated (the output
 * thrown away) to find where they end, at most <limit> bytes of it; only when such a magic is
 * somewhere after the first member's start. WW_UNPACK_GZIP_CLI decodes. */
int ww_unpack_gzip_cli_more(const unsigned char *b, size_t len, size_t limit);
/* Whether zstd -d reads the file at <b> further than libclamav: a gzip, xz or LZMA file in which
 * a zstd (legacy too) or lz4 frame's magic follows. A cheap look; WW_UNPACK_ZSTD_CLI decodes. */
int ww_unpack_zstd_cli_more(const unsigned char *b, size_t len);

/* ar ("!<arch>\n" first: a .deb, a static library), as ar x and dpkg-deb read it: 60-byte
 * headers ending "`\n", a decimal size, data padded to an even length (the last member's pad
 * may be left out); a BSD name ("#1/N") is the data's first N bytes. */
struct ww_ar_member {
    size_t at, len; /* the member's data (past a BSD name) in the archive */
};
/* The member at *pos (8 for the first): 1 and *m, *pos moved past it; 0 the archive's clean end;
 * -1 a header that does not read, or data past the end (ar x fails there). */
int ww_unpack_ar_next(const unsigned char *b, size_t len, size_t *pos, struct ww_ar_member *m);

#endif
