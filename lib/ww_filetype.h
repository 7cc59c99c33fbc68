/* lib/ww_filetype.h - the true type of a body from its first bytes (magic numbers), never from
 * Content-Type or the URL's extension, and the set of types that go to the deep scanner. */
#ifndef WW_FILETYPE_H
#define WW_FILETYPE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of a body's start that ww_filetype_detect() looks at; fewer work (a short body, or the
 * start of a stream), more are ignored. tar's magic sits at 257, a PDF header may come late. */
#define WW_FILETYPE_PEEK 1024

/* Keep in step with the name table in ww_filetype.c (at most 64 types: a set is a bit mask). */
enum ww_filetype {
    WW_FT_UNKNOWN = 0, /* binary that matches no magic number */
    WW_FT_EMPTY,
    WW_FT_TEXT,
    WW_FT_XML,
    WW_FT_HTML,
    WW_FT_SCRIPT, /* "#!" shebang, Windows .bat/.vbs/.ps1 starts */
    WW_FT_PE,     /* "MZ": DOS/Windows executables, installers, packed PEs */
    WW_FT_ELF,
    WW_FT_MACHO,
    WW_FT_JAVA, /* .class */
    WW_FT_DEX,  /* Android */
    WW_FT_WASM,
    WW_FT_FLASH,
    WW_FT_ZIP,
    WW_FT_JAR,
    WW_FT_APK,
    WW_FT_OOXML, /* zip holding [Content_Types].xml: .docx .xlsx .pptx */
    WW_FT_ODF,   /* zip whose first member is "mimetype": OpenDocument */
    WW_FT_7Z,
    WW_FT_RAR,
    WW_FT_CAB,
    WW_FT_ISCAB, /* InstallShield cabinet */
    WW_FT_ARJ,
    WW_FT_LZH,
    WW_FT_GZIP,
    WW_FT_BZIP2,
    WW_FT_XZ,
    WW_FT_ZSTD,
    WW_FT_SZDD, /* MS compress.exe */
    WW_FT_TAR,
    WW_FT_CPIO,
    WW_FT_AR, /* "!<arch>": .deb, static libraries */
    WW_FT_RPM,
    WW_FT_SIS,  /* Symbian installer */
    WW_FT_OLE2, /* old Office documents, .msi */
    WW_FT_RTF,
    WW_FT_PDF,
    WW_FT_CHM,
    WW_FT_MAIL, /* RFC 822 message or mbox */
    WW_FT_TNEF, /* winmail.dat */
    WW_FT_BINHEX,
    WW_FT_UUENCODE,
    WW_FT_IMAGE,
    WW_FT_VIDEO,
    WW_FT_AUDIO,
    WW_FT_FONT,
    WW_FT_ISO,  /* ISO 9660 disc image: "\1CD001\1" at 32768, after a system area of any bytes */
    WW_FT_LZ4,  /* LZ4 frame */
    WW_FT_LZIP, /* lzip */
    WW_FT_COMPRESS,  /* Unix compress (.Z, LZW) */
    WW_FT_PACK,      /* pack (.z: 1f 1e, a Huffman code), which gzip -d reads */
    WW_FT_DISKIMAGE, /* a disk image Windows mounts: a FAT volume, a partitioned disk (.img, a
                      * fixed .vhd), an NTFS or exFAT volume, a dynamic VHD, a VHDX */
    WW_FT_LZOP,      /* lzop */
    WW_FT_LZMA,      /* LZMA "alone" (.lzma, .tar.lzma, .tlz): no magic, a header every encoder
                      * writes alike (ww_filetype_lzma_header) */
    WW_FT_WIM,       /* a Windows image (7-Zip and DISM read it; nothing here does) */
    WW_FT_NSIS,      /* an NSIS installer's data: its first header ("NullsoftInst" at 8) */
    WW_FT_COUNT
};

/* The true type of a body whose first <len> bytes are <p> (<len> may be 0 or more than
 * WW_FILETYPE_PEEK). Pure and thread-safe. */
enum ww_filetype ww_filetype_detect(const void *p, size_t len);

/* Whether the first <len> bytes at <b> (a sector or more) start a disk image: 1 a FAT volume's
 * boot sector, 2 a partition table (MBR, or GPT), 3 an image of a kind not read (an NTFS or exFAT
 * volume, a dynamic VHD, a VHDX, a qcow or qcow2, a sparse VMDK, a VDI), 0 none. A cheap look;
 * written in lib/ww_diskimage.c, with the FAT boot sector's test its reader uses. */
int ww_filetype_disk_kind(const unsigned char *b, size_t len);
/* A file system image 7-Zip opens and nothing here reads (attack review 21, B4): "ext" (ext2, 3
 * or 4: a superblock at 1024), "cramfs", "squashfs"; NULL for none. Written in
 * lib/ww_diskimage.c. */
const char *ww_filetype_fs_image(const unsigned char *b, size_t len);

/* Short lower-case names, for logs and config: "pe", "zip", "ooxml"... and the type's group:
 * "executable", "archive", "office", "pdf", "rtf", "chm", "mail", "script", "html", "text",
 * "image", "media", "font", "unknown", "empty". Static strings, never NULL. */
const char *ww_filetype_name(enum ww_filetype t);
const char *ww_filetype_group(enum ww_filetype t);

/* Archives hidden after or inside a body of another type: a polyglot, such as an image with a
 * zip appended, shows an image's magic number at its start, but zip readers open it from its
 * end, so type-based scanning would pass it. The finder looks for an archive's signature at any
 * offset of a stream, across chunk boundaries: zip's local file header "PK\3\4" (every member
 * of a working zip has one; its end of central directory points back at them), RAR's "Rar!\32\7",
 * 7-Zip's "7z\274\257\047\034", a cabinet's "MSCF\0\0\0\0" and an ISO 9660 image's first volume
 * descriptor "\1CD001\1" (at 32768: the 32 KiB before it are free for any bytes, an image's
 * header among them). And a tar header on any 512-byte boundary of the stream (by its checksum,
 * GNU tar's test), before any block of zeros: GNU tar skips what is not a header at a file's
 * start and extracts every member after it (ww_filetype_tar_start). Caller's storage; one
 * stream, one thread. */
#define WW_FILETYPE_EMBED_MAGIC_MAX 8
/* the stream's last bytes kept for the next chunk: a signature across two chunks, and an LHA
 * header's first 21 bytes (its level byte) before it is taken for one */
#define WW_FILETYPE_EMBED_CARRY 40

struct ww_filetype_embed {
    int64_t pos;      /* stream bytes fed so far */
    size_t carry_len; /* the stream's last bytes, for a signature split across two chunks */
    unsigned char carry[WW_FILETYPE_EMBED_CARRY];
    int tar_done;             /* a block of zeros came first: GNU tar reads no header after it */
    size_t block_len;         /* the 512-aligned block being gathered across chunks */
    unsigned char block[512]; /* ... and, once a tar header is found, that header */
    size_t tar_skip;          /* bytes before the stream's next 512-byte boundary (init_at) */
    int text;                 /* a text body: binary cpio headers too (ww_filetype_embed_text) */
    int found;                /* the signature found last: its index + 1 (0: none) */
    int found_block;          /* ... reported from the start of the tar block it is in */
    size_t found_len;         /* ... its archive's first bytes, as they were: up to this chunk's
                               * start when it began in the carried tail (an LHA header is taken
                               * for one at its level byte, 20 bytes on) */
    unsigned char found_head[WW_FILETYPE_EMBED_CARRY + WW_FILETYPE_EMBED_MAGIC_MAX];
};

void ww_filetype_embed_init(struct ww_filetype_embed *f);
/* The same for a finder fed from stream offset <pos> on (a second look from inside a body): tar
 * headers are looked for on the stream's 512-byte boundaries, GNU tar's, not on <pos> + 512 k. */
void ww_filetype_embed_init_at(struct ww_filetype_embed *f, int64_t pos);
/* The stream is a text body: also look for cpio's binary header, whose 2-byte magic ("070707" as
 * a 16-bit word) only a text makes rare enough (after ww_filetype_embed_init or _init_at). */
void ww_filetype_embed_text(struct ww_filetype_embed *f);
/* Feeds the next <len> bytes of the stream. The first archive signature that starts in them or
 * in the previous bytes' tail (or, when it lies in a 512-byte block of the stream not yet whole
 * while tar headers are looked for, that block: it may be a tar header, which comes first): its
 * type (WW_FT_ZIP, _RAR, _7Z, _CAB, _ISO (ISO 9660 or UDF),
 * _TAR, _LZH, _CPIO; the streams _XZ, _ZSTD, _BZIP2, _GZIP) and *at, its
 * offset in the stream (before this chunk when it began in an earlier one). Else WW_FT_UNKNOWN
 * and *at is -1. Pure, O(len). */
enum ww_filetype ww_filetype_embed_feed(struct ww_filetype_embed *f, const void *p, size_t len,
                                        int64_t *at);
/* The (first) signature of embedded type <t> (static bytes, *len of them), or NULL for another
 * type. */
const unsigned char *ww_filetype_embed_magic(enum ww_filetype t, size_t *len);
/* The first bytes of the archive of type <t> that ww_filetype_embed_feed() just found (*len of
 * them; NULL for another type): its signature and the bytes after it up to the fed chunk's end
 * (at least every byte before the chunk), or the whole tar header. A caller that did not keep
 * the chunks before takes the bytes before the chunk from here. */
const unsigned char *ww_filetype_embed_head(const struct ww_filetype_embed *f, enum ww_filetype t,
                                            size_t *len);

/* Where a zip archive starts in a body, found the way zip readers find it: from the last
 * end-of-central-directory record ("PK\5\6") in <tail>, the last <tail_len> bytes of a body of
 * <total> bytes, minus the central directory's size and offset (a zip64 record's, when a zip64
 * locator comes before it). The offset in the body, or -1 when there is no record, or its
 * numbers point outside the body. A comment length that runs past the end does not matter
 * (readers take such a record). Whatever
 * comes before (a decoy signature, an image, a gzip header) does not move it: the caller checks
 * the local and central headers there. WW_FILETYPE_ZIP_TAIL bytes of tail are enough. Pure. */
#define WW_FILETYPE_ZIP_TAIL (65535 + 22)
struct ww_zip_end {
    int64_t cd_at;    /* the central directory's first byte in the body */
    int64_t cd_size;  /* its bytes */
    uint64_t entries; /* members, as the record says */
    int zip64;        /* the numbers are a zip64 end record's, and not the classic record's */
};
int64_t ww_filetype_zip_start(const unsigned char *tail, size_t tail_len, int64_t total,
                              struct ww_zip_end *z);
/* The members of zip central directory <cd> (<len> bytes, from "PK\1\2"; stops at the first
 * entry that does not parse): the first compression method the deep scanner cannot read
 * (ww_filetype_zip_method_read: libclamav 1.4 knows stored, shrunk, imploded, deflate, deflate64
 * and bzip2, lib/ww_unpack LZMA, zstd and xz unless encrypted; PPMd and the rest are opaque), or
 * 0; and in *largest the largest uncompressed size (a zip64 size read
 * from its extra field; UINT64_MAX when it is not there). <each>, when not NULL, sees every entry
 * (a nonzero return stops the walk). Pure. */
struct ww_zip_member { /* one central directory entry, its 32-bit fields as they are */
    unsigned flags, method;
    uint32_t csize, usize; /* 0xffffffff: in the zip64 extra field */
    uint32_t local;        /* its local header's offset from the zip's start */
    uint64_t usize64;      /* the uncompressed size, a zip64 one read; UINT64_MAX: unknown */
    uint32_t crc;
};
unsigned ww_filetype_zip_members(const unsigned char *cd, size_t len, uint64_t *largest,
                                 int (*each)(void *arg, const struct ww_zip_member *m), void *arg);

/* An LZMA "alone" header (13 bytes: the properties, the dictionary size, the uncompressed size,
 * then the range coder's first byte, always 0) at <p> (<len> bytes): 2 as encoders write it
 * (properties 0x5d, a dictionary of 2^n or 2^n + 2^(n-1) bytes or all ones, xz's own test; the
 * size unknown (all ones) or under 2^48); 1 as lzma -d (xz-utils, what GNU tar runs for a
 * .tar.lzma) also reads it (properties under 225, any dictionary and size: many binary files
 * look so, the caller tries a little of it first); 0 not one. Pure. */
int ww_filetype_lzma_header(const unsigned char *p, size_t len);

/* A tar header at <h> (<len> bytes): 1 when its first 512 bytes are one, by its checksum (the
 * octal field at 148 against the sum of the header's bytes, that field read as spaces; signed or
 * unsigned), with a name; the "ustar" magic at 257 need not be there (V7 tar has none). Such a
 * header makes a body a tar whatever its first bytes look like: a member named "GIF89a..." puts
 * an image's magic number at byte 0. Pure. */
int ww_filetype_tar_header(const unsigned char *h, size_t len);
/* Writes the checksum of tar header <h> (512 bytes) into its field, as GNU tar does. */
void ww_filetype_tar_checksum(unsigned char *h);

/* A tar (<len> bytes at <p>, a valid header first) walked as GNU tar 1.34 reads it, against
 * what libclamav 1.4's tar reader and Python 3.11's tarfile would read of it. libclamav reads
 * another member list when a header has no name (it ends there), lacks "ustar" in a ustar tar
 * (it ends), holds a size or checksum field that sscanf reads otherwise (base-256, a leading
 * NUL), has its size in a pax record, or has a type libclamav skips unread (A, E, I, N: GNU tar
 * extracts them as files) or reads no data for (V, a volume label: GNU tar skips its data,
 * Python extracts it); a bad block that libclamav takes for a header or an end. With <out> (a
 * copy of <p>, <len> bytes), each such header is rewritten there so that libclamav reads the
 * members GNU tar reads (a file libclamav must read: type 0, or D; data it must skip: type D,
 * read as a file). GNU tar reads symbolic links, devices and fifos with a size, and regular
 * files named "d/", two ways, told by <skip_links>: 0 as it extracts them (no data: "d/" is a
 * directory), 1 as it lists or skips them (their size's blocks skipped). Pure, but for <out>. */
struct ww_tar_view {
    unsigned changes; /* headers libclamav would read otherwise (rewritten in <out>) */
    unsigned links;   /* links, devices, fifos and "d/" files with a size: read both ways */
    int unusual;      /* 1: a header no rewrite makes every reader agree on: a sparse member (GNU
                       * or pax), a global pax size or path, a size GNU tar cannot read, Python
                       * reads otherwise (base-64, a NUL first) or over 2 GiB, a pax size on a
                       * link or a directory, pax records not as writers write them (or in a
                       * header's padding), two pax headers for a member, a pax header before
                       * a bad block, a checksum only Python reads. The walk stops there. */
};
void ww_filetype_tar_view(const unsigned char *p, size_t len, unsigned char *out, int skip_links,
                          struct ww_tar_view *v);
/* Where GNU tar 1.34 starts reading members in <p> (<len> bytes): the first 512-byte block that is
 * a header by its checksum (an empty name too), at 0 for a tar. Blocks that are not headers
 * before it are skipped ("This does not look like a tar archive", "Skipping to next header":
 * exit status 2, every member after them extracted). -1 when a block of zeros (its end) or the
 * file's end comes first. An image or a text with a tar at a 512-aligned offset is a tar to GNU
 * tar, and to no other reader. Pure, O(len / 512). */
int64_t ww_filetype_tar_start(const unsigned char *p, size_t len);
/* 1 when either reading of ww_filetype_tar_view() finds the tar unusual. Pure. */
int ww_filetype_tar_unusual(const unsigned char *p, size_t len);

/* A zip local file header ("PK\3\4") at <h>, <len> bytes of it available: 1 and *l filled when
 * its 30 fixed bytes, name and extra field are all in <len>; else 0. The sizes are the header's,
 * or, when either says 0xffffffff, both its zip64 extra field's (as Java's ZipInputStream reads
 * them; UINT64_MAX when that is not there); with flag 3 (a data descriptor follows the data) they
 * are usually 0: the writer did not know them. Pure. */
struct ww_zip_local {
    unsigned flags, method;
    uint32_t crc;
    uint64_t csize, usize;
    size_t name_len; /* the name is at h + 30 */
    size_t head_len; /* 30 + name + extra field: where the data starts */
};
int ww_filetype_zip_local(const unsigned char *h, size_t len, struct ww_zip_local *l);
/* Whether libclamav 1.4 unpacks zip compression method <m>: stored, shrunk, imploded, deflate,
 * deflate64, bzip2. */
int ww_filetype_zip_method_known(unsigned m);
/* Whether lib/ww_unpack reads zip compression method <m>, which libclamav 1.4 skips as an
 * "unsupported method": LZMA (14; Python's zipfile, 7-Zip, Windows 11), zstd (93), xz (95) and
 * PPMd (98) (7-Zip, WinZip, libarchive and so Windows 11's Explorer). The deep scanner decodes such
 * members itself (lib/ww_clamav). */
int ww_filetype_zip_method_unpacked(unsigned m);
/* Whether a member packed with method <m>, with general-purpose <flags>, is read by the deep
 * scanner: by libclamav, or decoded for it (an encrypted one of the latter is not). */
int ww_filetype_zip_method_read(unsigned m, unsigned flags);

/* The default scan.deep_types: executables, archives and compressed files, office documents,
 * PDF, RTF, CHM, mail and scripts, and unknown binaries. */
#define WW_FILETYPE_DEEP_DEFAULT "executable, archive, office, pdf, rtf, chm, mail, script, unknown"

/* A set of types is a uint64_t with bit t set for each type t in it.
 * Parses a list of group names, type names, "all" or "none" (NULL-terminated, as ww_conf's
 * lists are) into *set. WW_OK, or WW_EINVAL naming the unknown word in <err>. */
int ww_filetype_set_parse(const char *const *words, uint64_t *set, char *err, size_t errlen);
/* The same from one comma-separated string. */
int ww_filetype_set_parse_str(const char *text, uint64_t *set, char *err, size_t errlen);

static inline int ww_filetype_set_has(uint64_t set, enum ww_filetype t)
{
    return (unsigned)t < WW_FT_COUNT && (set >> (unsigned)t & 1u) != 0;
}

#endif
