/* t/check_filetype.c - true file type from magic numbers, and the deep-scan type set. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_filetype.h"

#define B(lit) lit, sizeof(lit) - 1

static const struct {
    const char *what;
    const char *bytes;
    size_t len;
    enum ww_filetype want;
} magic_cases[] = {
    {"PE", B("MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff"), WW_FT_PE},
    {"ELF",
     B("\x7f"
       "ELF\x02\x01\x01\0"),
     WW_FT_ELF},
    {"Mach-O 64", B("\xcf\xfa\xed\xfe\x07\0\0\x01"), WW_FT_MACHO},
    {"fat Mach-O", B("\xca\xfe\xba\xbe\0\0\0\x02"), WW_FT_MACHO},
    {"Java class", B("\xca\xfe\xba\xbe\0\0\0\x34"), WW_FT_JAVA},
    {"dex", B("dex\n035\0"), WW_FT_DEX},
    {"wasm", B("\0asm\x01\0\0\0"), WW_FT_WASM},
    {"zip", B("PK\x03\x04\x14\0\0\0\x08\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x05\0\0\0hello"),
     WW_FT_ZIP},
    {"docx",
     B("PK\x03\x04\x14\0\x06\0\x08\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x13\0\0\0"
       "[Content_Types].xml"),
     WW_FT_OOXML},
    {"odt",
     B("PK\x03\x04\x14\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x08\0\0\0"
       "mimetypeapplication/vnd.oasis.opendocument.text"),
     WW_FT_ODF},
    {"jar",
     B("PK\x03\x04\x14\0\0\0\x08\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x14\0\0\0"
       "META-INF/MANIFEST.MF"),
     WW_FT_JAR},
    {"apk",
     B("PK\x03\x04\x14\0\0\0\x08\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x13\0\0\0"
       "AndroidManifest.xml"),
     WW_FT_APK},
    {"empty zip", B("PK\x05\x06\0\0\0\0"), WW_FT_ZIP},
    {"7z", B("7z\xbc\xaf\x27\x1c\0\x03"), WW_FT_7Z},
    {"rar", B("Rar!\x1a\x07\x01\0"), WW_FT_RAR},
    {"cab", B("MSCF\0\0\0\0\x6d\x02"), WW_FT_CAB},
    {"arj", B("\x60\xea\x2c\0\x22\x0b\x01\x02\x10\0"), WW_FT_ARJ},
    {"gzip", B("\x1f\x8b\x08\0\0\0\0\0"), WW_FT_GZIP},
    {"bzip2", B("BZh91AY&SY"), WW_FT_BZIP2},
    {"xz",
     B("\xfd"
       "7zXZ\0\0\x04"),
     WW_FT_XZ},
    {"zstd", B("\x28\xb5\x2f\xfd\x04\0"), WW_FT_ZSTD},
    {"lz4", B("\x04\x22\x4d\x18\x64\x40\xa7"), WW_FT_LZ4},
    {"lzip", B("LZIP\x01\x0c"), WW_FT_LZIP},
    {"lzip version 0", B("LZIP\x00\x0c"), WW_FT_LZIP},
    {"compress", B("\x1f\x9d\x90"), WW_FT_COMPRESS},
    {"gzip 0.5's magic", B("\x1f\x9e\x08\0\0\0\0\0"), WW_FT_GZIP},
    {"pack", B("\x1f\x1e\0\0\x02\0\x09\0\0"), WW_FT_PACK},
    {"SCO's lzh (gzip -d)", B("\x1f\xa0\x00\x10"), WW_FT_LZH},
    {"lzop", B("\x89LZO\0\r\n\x1a\n\x10"), WW_FT_LZOP},
    {"zstd after a skippable frame", B("\x5a\x2a\x4d\x18\x04\0\0\0abcd"), WW_FT_ZSTD},
    {"zstd v0.7 (legacy)", B("\x27\xb5\x2f\xfd\x00\x38\x40\x00\x40"), WW_FT_ZSTD},
    {"zstd v0.6 (legacy)", B("\x26\xb5\x2f\xfd\x05\x40\x00\x40"), WW_FT_ZSTD},
    {"zstd v0.5 (legacy)", B("\x25\xb5\x2f\xfd\x06\x40\x00\x40"), WW_FT_ZSTD},
    {"lzma alone (lzma -9)", B("\x5d\x00\x00\x00\x04\xff\xff\xff\xff\xff\xff\xff\xff\x00\x26"),
     WW_FT_LZMA},
    {"lzma alone, size known", B("\x5d\x00\x00\x80\x00\x20\x02\0\0\0\0\0\0\x00\x26"), WW_FT_LZMA},
    {"lz4 legacy", B("\x02\x21\x4c\x18\x10\0\0\0"), WW_FT_LZ4},
    {"cpio newc", B("070701000000"), WW_FT_CPIO},
    {"ole2", B("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0"), WW_FT_OLE2},
    {"rtf", B("{\\rtf1\\ansi"), WW_FT_RTF},
    {"pdf", B("%PDF-1.4\r\n"), WW_FT_PDF},
    {"pdf after junk", B("garbage line\n%PDF-1.7\n"), WW_FT_PDF},
    {"chm", B("ITSF\x03\0\0\0"), WW_FT_CHM},
    {"mail", B("Received: from x\nFrom: a@b\nTo: c@d\nSubject: hi\n\nbody\n"), WW_FT_MAIL},
    {"mbox", B("From test@example.com Mon Jan  1 00:00:00 2024\n"), WW_FT_MAIL},
    /* padding before the known headers, a blank first line (the attack review of round 8) */
    {"mail after 9 unknown headers",
     B("X-A: 1\nX-B: 2\nX-C: 3\nX-D: 4\nX-E: 5\nX-F: 6\nX-G: 7\nX-H: 8\nX-I: 9\nFrom: a@b\n"
       "Subject: hi\n\nbody\n"),
     WW_FT_MAIL},
    {"mail after a blank line", B("\r\nFrom: a@b\nTo: c@d\n\nbody\n"), WW_FT_MAIL},
    {"mail whose first header is named like ID3", B("ID3: x\nFrom: a@b\nTo: c@d\n\nbody\n"),
     WW_FT_MAIL},
    {"mail whose first header is named like OggS", B("OggS: x\nFrom: a@b\n\nbody\n"), WW_FT_MAIL},
    {"mail: an mbox line after a header",
     B("ID3: x\nFrom a@b Mon Jan  1 00:00:00 2024\nFrom: a@b\nTo: c@d\n"), WW_FT_MAIL},
    {"mail after a byte-order mark",
     B("\xef\xbb\xbf"
       "From: a@b\nTo: c@d\n\nbody\n"),
     WW_FT_MAIL},
    {"mail: a blank before the colon", B("From : a@b\nTo : c@d\n\nbody\n"), WW_FT_MAIL},
    {"robots.txt is not mail", B("User-agent: *\nDisallow: /private/\n"), WW_FT_TEXT},
    {"tnef", B("\x78\x9f\x3e\x22\xaf\x01"), WW_FT_TNEF},
    {"shebang", B("#!/bin/sh\nrm -rf /\n"), WW_FT_SCRIPT},
    {"batch", B("@ECHO OFF\r\ndel *.*\r\n"), WW_FT_SCRIPT},
    {"html doctype", B("\xef\xbb\xbf  <!DOCTYPE html><html>"), WW_FT_HTML},
    {"html fragment", B("<a href=\"data:x\">x</a>"), WW_FT_HTML},
    {"xhtml", B("<?xml version=\"1.0\"?>\n<html xmlns=\"x\">"), WW_FT_HTML},
    {"xml", B("<?xml version=\"1.0\"?>\n<feed></feed>"), WW_FT_XML},
    {"json", B("{\"a\": [1, 2, true]}\n"), WW_FT_TEXT},
    {"json true", B("true"), WW_FT_TEXT},
    {"css", B("body { color: red }\n"), WW_FT_TEXT},
    {"utf-16 text", B("\xff\xfeh\0i\0"), WW_FT_TEXT},
    {"png", B("\x89PNG\r\n\x1a\n\0\0"), WW_FT_IMAGE},
    {"jpeg", B("\xff\xd8\xff\xe0\0\x10JFIF"), WW_FT_IMAGE},
    {"gif", B("GIF89a\x01\0"), WW_FT_IMAGE},
    {"webp", B("RIFF\x10\0\0\0WEBPVP8 "), WW_FT_IMAGE},
    {"ico", B("\0\0\x01\0\x01\0"), WW_FT_IMAGE},
    {"mp4",
     B("\0\0\0\x20"
       "ftypisom\0\0\x02\0"),
     WW_FT_VIDEO},
    {"avif",
     B("\0\0\0\x20"
       "ftypavif"),
     WW_FT_IMAGE},
    {"webm", B("\x1a\x45\xdf\xa3\x9f\x42"), WW_FT_VIDEO},
    {"mp3 id3", B("ID3\x04\0\0"), WW_FT_AUDIO},
    {"mp3 frame", B("\xff\xfb\x90\x64"), WW_FT_AUDIO},
    {"ogg", B("OggS\0\x02"), WW_FT_AUDIO},
    {"woff2", B("wOF2\0\x01\0\0"), WW_FT_FONT},
    {"ttf", B("\0\x01\0\0\0\x10"), WW_FT_FONT},
    {"binary noise", B("\x01\x02\x03\0\xfe\x99\x42\x17"), WW_FT_UNKNOWN},
    {"empty", "", 0, WW_FT_EMPTY},
    {"one byte", B("M"), WW_FT_TEXT},
};

START_TEST(test_filetype_detect_matches_table)
{
    enum ww_filetype got = ww_filetype_detect(magic_cases[_i].bytes, magic_cases[_i].len);
    ck_assert_msg(got == magic_cases[_i].want, "%s: got %s, want %s", magic_cases[_i].what,
                  ww_filetype_name(got), ww_filetype_name(magic_cases[_i].want));
}
END_TEST

/* tar's magic is at 257: a 512-byte header with "ustar" there is tar, not text. */
START_TEST(test_filetype_tar_magic_at_257)
{
    unsigned char hdr[512] = "clam.exe";
    memcpy(hdr + 257, "ustar  ", 8);
    ck_assert_str_eq(ww_filetype_name(ww_filetype_detect(hdr, sizeof(hdr))), "tar");
    /* cut before the magic: not enough to tell, and it holds NULs */
    ck_assert_str_eq(ww_filetype_name(ww_filetype_detect(hdr, 200)), "unknown");
}
END_TEST

/* A magic cut short is never taken for its type. */
START_TEST(test_filetype_truncated_magic_is_not_the_type)
{
    ck_assert_int_ne(ww_filetype_detect("\x89PN", 3), WW_FT_IMAGE);
    ck_assert_int_ne(ww_filetype_detect("7z\xbc", 3), WW_FT_7Z);
    ck_assert_int_eq(ww_filetype_detect("\xd0\xcf\x11\xe0", 4), WW_FT_UNKNOWN);
}
END_TEST

/* Only the first WW_FILETYPE_PEEK bytes count: a magic further on changes nothing. */
START_TEST(test_filetype_looks_only_at_the_start)
{
    size_t n = WW_FILETYPE_PEEK + 64;
    char *buf = malloc(n);
    ck_assert_ptr_nonnull(buf);
    memset(buf, 'a', n);
    memcpy(buf + WW_FILETYPE_PEEK + 1, "%PDF-1.4", 8);
    ck_assert_int_eq(ww_filetype_detect(buf, n), WW_FT_TEXT);
    memcpy(buf + 100, "%PDF-1.4", 8);
    ck_assert_int_eq(ww_filetype_detect(buf, n), WW_FT_PDF);
    free(buf);
}
END_TEST

/* The 44 files of Debian's clamav-testfiles: each is a type the default deep set sends to the
 * deep scanner, except the HTML one (HTML is not deep-scanned by default; docs say why). */
static const struct {
    const char *file, *want;
} testfiles[] = {
    {"clam-aspack.exe", "pe"},
    {"clam-fsg.exe", "pe"},
    {"clam-mew.exe", "pe"},
    {"clam-nsis.exe", "pe"},
    {"clam-pespin.exe", "pe"},
    {"clam-petite.exe", "pe"},
    {"clam-upack.exe", "pe"},
    {"clam-upx.exe", "pe"},
    {"clam-wwpack.exe", "pe"},
    {"clam-yc.exe", "pe"},
    {"clam.7z", "7z"},
    {"clam.arj", "arj"},
    {"clam.bin-be.cpio", "cpio"},
    {"clam.bin-le.cpio", "cpio"},
    {"clam.bz2.zip", "zip"},
    {"clam.cab", "cab"},
    {"clam.chm", "chm"},
    {"clam.d64.zip", "zip"},
    {"clam.ea05.exe", "pe"},
    {"clam.ea06.exe", "pe"},
    {"clam.exe", "pe"},
    {"clam.exe.binhex", "binhex"},
    {"clam.exe.bz2", "bzip2"},
    {"clam.exe.html", "html"},
    {"clam.exe.mbox.base64", "mail"},
    {"clam.exe.mbox.uu", "mail"},
    {"clam.exe.rtf", "rtf"},
    {"clam.exe.szdd", "szdd"},
    {"clam.impl.zip", "zip"},
    {"clam.mail", "mail"},
    {"clam.newc.cpio", "cpio"},
    {"clam.odc.cpio", "cpio"},
    {"clam.ole.doc", "ole2"},
    {"clam.pdf", "pdf"},
    {"clam.ppt", "ole2"},
    {"clam.sis", "sis"},
    {"clam.tar.gz", "gzip"},
    {"clam.tnef", "tnef"},
    {"clam.zip", "zip"},
    {"clam_IScab_ext.exe", "pe"},
    {"clam_IScab_int.exe", "pe"},
    {"clam_ISmsi_ext.exe", "pe"},
    {"clam_ISmsi_int.exe", "pe"},
    {"clam_cache_emax.tgz", "gzip"},
};

#define TESTFILES_DIR "/usr/share/clamav-testfiles"

START_TEST(test_filetype_clamav_testfiles)
{
    char path[256];
    unsigned char buf[WW_FILETYPE_PEEK];
    uint64_t deep;
    char err[WW_ERRLEN];
    FILE *fp;
    size_t n;
    enum ww_filetype t;

    snprintf(path, sizeof(path), "%s/%s", TESTFILES_DIR, testfiles[_i].file);
    fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "%s: cannot open (install clamav-testfiles)", path);
    n = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    t = ww_filetype_detect(buf, n);
    ck_assert_msg(strcmp(ww_filetype_name(t), testfiles[_i].want) == 0, "%s: got %s, want %s",
                  testfiles[_i].file, ww_filetype_name(t), testfiles[_i].want);
    ck_assert_int_eq(ww_filetype_set_parse_str(WW_FILETYPE_DEEP_DEFAULT, &deep, err, sizeof(err)),
                     WW_OK);
    ck_assert_msg(ww_filetype_set_has(deep, t) == (t != WW_FT_HTML),
                  "%s (%s): in the default deep set = %d", testfiles[_i].file, ww_filetype_name(t),
                  ww_filetype_set_has(deep, t));
}
END_TEST

START_TEST(test_filetype_set_groups_types_all_none)
{
    uint64_t s;
    char err[WW_ERRLEN] = "";
    const char *const words[] = {"image", "PE", NULL};

    ck_assert_int_eq(ww_filetype_set_parse_str(WW_FILETYPE_DEEP_DEFAULT, &s, err, sizeof(err)),
                     WW_OK);
    ck_assert(ww_filetype_set_has(s, WW_FT_PE));
    ck_assert(ww_filetype_set_has(s, WW_FT_ZIP));
    ck_assert(ww_filetype_set_has(s, WW_FT_GZIP));
    ck_assert(ww_filetype_set_has(s, WW_FT_OOXML));
    ck_assert(ww_filetype_set_has(s, WW_FT_OLE2));
    ck_assert(ww_filetype_set_has(s, WW_FT_UNKNOWN));
    ck_assert(ww_filetype_set_has(s, WW_FT_SCRIPT));
    ck_assert(!ww_filetype_set_has(s, WW_FT_HTML));
    ck_assert(!ww_filetype_set_has(s, WW_FT_TEXT));
    ck_assert(!ww_filetype_set_has(s, WW_FT_IMAGE));
    ck_assert(!ww_filetype_set_has(s, WW_FT_VIDEO));
    ck_assert(!ww_filetype_set_has(s, WW_FT_FONT));
    ck_assert(!ww_filetype_set_has(s, WW_FT_EMPTY));

    ck_assert_int_eq(ww_filetype_set_parse(words, &s, err, sizeof(err)), WW_OK);
    ck_assert(ww_filetype_set_has(s, WW_FT_IMAGE) && ww_filetype_set_has(s, WW_FT_PE));
    ck_assert(!ww_filetype_set_has(s, WW_FT_ELF));

    ck_assert_int_eq(ww_filetype_set_parse_str("all", &s, err, sizeof(err)), WW_OK);
    for (int t = 0; t < WW_FT_COUNT; t++)
        ck_assert(ww_filetype_set_has(s, (enum ww_filetype)t));
    ck_assert_int_eq(ww_filetype_set_parse_str("none", &s, err, sizeof(err)), WW_OK);
    ck_assert_uint_eq(s, 0);
    ck_assert_int_eq(ww_filetype_set_parse_str("", &s, err, sizeof(err)), WW_OK);
    ck_assert_uint_eq(s, 0);

    s = 42;
    ck_assert_int_eq(ww_filetype_set_parse_str("pe, exe-files", &s, err, sizeof(err)), WW_EINVAL);
    ck_assert_msg(strstr(err, "exe-files") != NULL, "err \"%s\" names the word", err);
    ck_assert_uint_eq(s, 42); /* unchanged on error */
}
END_TEST

/* Every type has a distinct name and a group; names parse back to their own type. */
START_TEST(test_filetype_names_round_trip)
{
    char err[WW_ERRLEN];
    for (int t = 0; t < WW_FT_COUNT; t++) {
        uint64_t s;
        const char *name = ww_filetype_name((enum ww_filetype)t);
        ck_assert_ptr_nonnull(ww_filetype_group((enum ww_filetype)t));
        for (int u = 0; u < t; u++)
            ck_assert_str_ne(name, ww_filetype_name((enum ww_filetype)u));
        ck_assert_int_eq(ww_filetype_set_parse_str(name, &s, err, sizeof(err)), WW_OK);
        ck_assert_msg(ww_filetype_set_has(s, (enum ww_filetype)t), "%s", name);
    }
    ck_assert_str_eq(ww_filetype_name(WW_FT_COUNT), "unknown");
}
END_TEST

/* Polyglots: an archive's signature at any offset, split across chunks of every size, is found
 * once with its exact offset; a stream without one is not. */
static const struct {
    const char *what;
    const char *magic;
    size_t len;
    enum ww_filetype want;
} embed_cases[] = {
    {"zip local header", "PK\x03\x04", 4, WW_FT_ZIP},
    {"rar", "Rar!\x1a\x07", 6, WW_FT_RAR},
    {"7z", "7z\xbc\xaf\x27\x1c", 6, WW_FT_7Z},
    {"cab", "MSCF\0\0\0\0", 8, WW_FT_CAB},
    {"iso volume descriptor", "\1CD001\1", 7, WW_FT_ISO},
    {"udf recognition sequence", "\0BEA01\1", 7, WW_FT_ISO},
    {"xz",
     "\xfd"
     "7zXZ\0",
     6, WW_FT_XZ},
    {"zstd", "\x28\xb5\x2f\xfd", 4, WW_FT_ZSTD},
    {"gzip", "\x1f\x8b\x08\x00", 4, WW_FT_GZIP},
    {"gzip with a name", "\x1f\x8b\x08\x08", 4, WW_FT_GZIP},
    {"gzip with a comment and a header CRC", "\x1f\x8b\x08\x12", 4, WW_FT_GZIP},
    {"cpio (newc)", "070701", 6, WW_FT_CPIO},
    {"cpio (odc)", "070707", 6, WW_FT_CPIO},
    /* an LHA level-0 header: size 22, its checksum, "-lh0-", sizes, time, attribute, level 0,
     * a 1-byte name; found where it starts, 2 bytes before its method */
    {"lha", "\x17\xf9-lh0-\x01\0\0\0\x01\0\0\0\0\0\0\0\x20\0\x01x\0\0", 25, WW_FT_LZH},
    {"chm", "ITSF\3\0\0\0", 8, WW_FT_CHM},
    {"nsis (its first header: flags, then the magic)", "\0\0\0\0\xef\xbe\xad\xdeNull", 12,
     WW_FT_NSIS},
    {"wim", "MSWIM\0\0\0", 8, WW_FT_WIM},
    {"cramfs", "\x45\x3d\xcd\x28", 4, WW_FT_DISKIMAGE},
    {"squashfs", "hsqs", 4, WW_FT_DISKIMAGE},
    /* an ARJ main header: 60 ea, a basic header of 34 bytes, a first header of 30, version 11,
     * 1 to extract, MS-DOS, no flags, file type 2; and one from a host OS ARJ never had (255:
     * 7-Zip reads it, attack review 21) */
    {"arj", "\x60\xea\x22\x00\x1e\x0b\x01\x00\x00\x00\x02", 11, WW_FT_ARJ},
    {"arj, host OS 255", "\x60\xea\x22\x00\x1e\x0b\x01\xff\x00\x00\x02", 11, WW_FT_ARJ},
    {"bzip2 -1", "BZh11AY&", 8, WW_FT_BZIP2},
    {"bzip2 -9", "BZh91AY&", 8, WW_FT_BZIP2},
};

/* Where the finder says an archive at <at> starts when it was found in a chunk that ends at
 * <end>: there; or, when the 512-byte block it is in was not whole yet (no block of zeros came
 * before, so tar headers are still looked for), that block's start: it might be a tar header. */
static int64_t embed_want(size_t at, size_t end)
{
    return at - at % 512 + 512 > end ? (int64_t)(at - at % 512) : (int64_t)at;
}

START_TEST(test_filetype_embed_finds_archive_across_chunks)
{
    static const size_t chunks[] = {1, 2, 3, 4, 5, 7, 64, 1000, 5000};
    static const size_t offsets[] = {0, 1, 1233, 1234, 2999};
    unsigned char body[4096];

    for (size_t k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++)
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            struct ww_filetype_embed f;
            size_t off = 0, hits = 0, end = 0;
            int64_t at, found_at = -1, want;
            enum ww_filetype got = WW_FT_UNKNOWN;

            /* an image's start and bytes that hold each signature's first byte, never all */
            for (size_t i = 0; i < sizeof(body); i++)
                body[i] = "\x89PNGPK\x03Rar7z"[i % 12];
            memcpy(body + offsets[k], embed_cases[_i].magic, embed_cases[_i].len);
            ww_filetype_embed_init(&f);
            while (off < sizeof(body)) {
                size_t n = sizeof(body) - off < chunks[c] ? sizeof(body) - off : chunks[c];
                enum ww_filetype t = ww_filetype_embed_feed(&f, body + off, n, &at);
                if (t != WW_FT_UNKNOWN && hits++ == 0) {
                    got = t;
                    found_at = at;
                    end = off + n;
                    break; /* a caller stops looking at the first */
                }
                off += n;
            }
            want = embed_want(offsets[k], end);
            ck_assert_msg(got == embed_cases[_i].want && found_at == want,
                          "%s at %zu, chunks of %zu: got %s at %lld, want %lld",
                          embed_cases[_i].what, offsets[k], chunks[c], ww_filetype_name(got),
                          (long long)found_at, (long long)want);
            {
                /* the bytes a caller that did not keep the chunks before takes: the archive's,
                 * every one before this chunk (an LHA header whose method came in an earlier
                 * chunk than its level byte: 20 bytes before it) */
                size_t hl = 0, cmp;
                const unsigned char *h = ww_filetype_embed_head(&f, got, &hl);
                cmp = hl < embed_cases[_i].len ? hl : embed_cases[_i].len;
                if (found_at < (int64_t)offsets[k])
                    cmp = 0; /* the block's bytes before it: compared with the body's */
                ck_assert_msg(h != NULL && (int64_t)hl >= (int64_t)off - found_at &&
                                  memcmp(h, body + found_at, hl) == 0 &&
                                  memcmp(h, embed_cases[_i].magic, cmp) == 0 &&
                                  (got == WW_FT_LZH || found_at < (int64_t)offsets[k] ||
                                   hl >= embed_cases[_i].len),
                              "%s at %zu, chunks of %zu: the head is not the archive's first %lld "
                              "bytes (%zu)",
                              embed_cases[_i].what, offsets[k], chunks[c],
                              (long long)off - found_at, hl);
            }
        }
}
END_TEST

/* A one-member stored zip at <at> in <buf> (room for it), after whatever is there: local header,
 * "hello", central directory, end record with a <comment> of that many bytes. Its length. */
static size_t put_zip(unsigned char *buf, size_t at, size_t comment)
{
    static const unsigned char local[] =
        "PK\3\4\24\0\0\0\0\0\0\0\0\0\0\0\0\0\5\0\0\0\5\0\0\0\1\0\0\0x";
    static const unsigned char central[] = "PK\1\2\24\0\24\0\0\0\0\0\0\0\0\0\0\0\0\0\5\0\0\0\5\0\0"
                                           "\0\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0x";
    size_t n = at, cd;

    memcpy(buf + n, local, 31);
    n += 31;
    memcpy(buf + n, "hello", 5);
    n += 5;
    cd = n;
    memcpy(buf + n, central, 47);
    n += 47;
    memcpy(buf + n, "PK\5\6\0\0\0\0\1\0\1\0", 12);
    buf[n + 12] = 47; /* central directory size, then its offset from the zip's start */
    buf[n + 13] = buf[n + 14] = buf[n + 15] = 0;
    buf[n + 16] = (unsigned char)(cd - at);
    buf[n + 17] = buf[n + 18] = buf[n + 19] = 0;
    buf[n + 20] = (unsigned char)comment;
    buf[n + 21] = 0;
    n += 22;
    memset(buf + n, 'c', comment);
    return n + comment - at;
}

/* Zip readers find a zip from its end record, whatever comes before it (a decoy "PK\3\4", an
 * image, a gzip header): so must the deep scanner (the attack review of round 8). */
START_TEST(test_filetype_zip_start_from_the_end_record)
{
    unsigned char buf[2048];
    struct ww_zip_end z;
    size_t n, prefixes[] = {0, 1, 54, 1000};

    for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
        memset(buf, 0, sizeof(buf));
        if (prefixes[k] >= 8)
            memcpy(buf + 4, "PK\3\4", 4); /* a decoy signature before the real zip */
        n = prefixes[k] + put_zip(buf, prefixes[k], 10);
        ck_assert_int_eq(ww_filetype_zip_start(buf, n, (int64_t)n, &z), (int64_t)prefixes[k]);
        ck_assert_int_eq(z.cd_at, (int64_t)prefixes[k] + 36);
        ck_assert_int_eq(z.cd_size, 47);
        ck_assert_int_eq(z.zip64, 0);
        /* only the tail: the same offsets in the whole body */
        ck_assert_int_eq(ww_filetype_zip_start(buf + n - 100, 100, (int64_t)n, &z),
                         (int64_t)prefixes[k]);
    }
    n = put_zip(buf, 0, 10);
    /* a comment shorter than the record says: unzip and Python open it, so the record counts */
    ck_assert_int_eq(ww_filetype_zip_start(buf, n - 1, (int64_t)n - 1, &z), 0);
    ck_assert_int_eq(ww_filetype_zip_start(buf, 21, 21, &z), -1);
    memset(buf, 'x', 200);
    ck_assert_int_eq(ww_filetype_zip_start(buf, 200, 200, &z), -1); /* no end record */
    n = put_zip(buf, 0, 0);
    buf[n - 22 + 16] = 200; /* the directory's offset points before the body */
    ck_assert_int_eq(ww_filetype_zip_start(buf, n, (int64_t)n, &z), -1);
    n = put_zip(buf, 0, 0);
    memset(buf + n - 22 + 16, 0xff, 4); /* a zip64 offset, and no zip64 record */
    ck_assert_int_eq(ww_filetype_zip_start(buf, n, (int64_t)n, &z), -1);
    /* a "locator" that is a comment's bytes, no zip64 record: the classic record, as readers */
    memset(buf, 0, sizeof(buf));
    n = 54 + put_zip(buf, 54, 0) - 22;
    {
        size_t e = n; /* the directory's last 20 bytes (an entry's comment) look like a locator */
        memcpy(buf + e, "PK\6\7", 4);
        memset(buf + e + 4, 'z', 16);
        n = e + 20;
        memcpy(buf + n, "PK\5\6\0\0\0\0\1\0\1\0", 12);
        buf[n + 12] = 47 + 20;
        memset(buf + n + 13, 0, 3);
        buf[n + 16] = 36;
        memset(buf + n + 17, 0, 5);
        n += 22;
    }
    ck_assert_int_eq(ww_filetype_zip_start(buf, n, (int64_t)n, &z), 54);
    ck_assert_int_eq(z.zip64, 0);
    /* zip64: the classic record's numbers are 0xffffffff (or 0), the zip64 record's count */
    for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
        size_t p = prefixes[k], end64;
        memset(buf, 0, sizeof(buf));
        n = p + put_zip(buf, p, 0) - 22; /* the local header, data and central directory */
        end64 = n;
        memcpy(buf + n, "PK\6\6", 4);
        buf[n + 4] = 44;  /* the record's size after this field */
        buf[n + 40] = 47; /* central directory size, then its offset from the zip's start */
        buf[n + 48] = 36;
        n += 56;
        memcpy(buf + n, "PK\6\7", 4);
        buf[n + 8] = (unsigned char)(end64 - p);
        buf[n + 16] = 1;
        n += 20;
        memcpy(buf + n, "PK\5\6\0\0\0\0\xff\xff\xff\xff", 12);
        memset(buf + n + 12, 0xff, 8);
        buf[n + 20] = buf[n + 21] = 0;
        n += 22;
        ck_assert_int_eq(ww_filetype_zip_start(buf, n, (int64_t)n, &z), (int64_t)p);
        ck_assert_int_eq(z.cd_at, (int64_t)p + 36);
        ck_assert_int_eq(z.zip64, 1);
    }
}
END_TEST

/* Unknown header lines all through the first 1 KiB (the known ones come later, as a mail client
 * reads them) are a mail's header block too; a short text of a few "Name: value" lines is not. */
/* Central directory entries with a method libclamav cannot unpack: found, unless encrypted. */
static size_t put_cd_entry(unsigned char *p, unsigned method, unsigned flags, size_t extra)
{
    memset(p, 0, 46 + 1 + extra);
    memcpy(p, "PK\1\2", 4);
    p[8] = (unsigned char)flags;
    p[10] = (unsigned char)(method & 0xff);
    p[11] = (unsigned char)(method >> 8);
    p[28] = 1; /* name length */
    p[30] = (unsigned char)extra;
    p[46] = 'x';
    return 46 + 1 + extra;
}

START_TEST(test_filetype_zip_methods_libclamav_cannot_unpack)
{
    unsigned char cd[512];
    uint64_t largest = 0;
    size_t n;

    n = put_cd_entry(cd, 8, 0, 0);
    n += put_cd_entry(cd + n, 0, 0, 9);
    n += put_cd_entry(cd + n, 12, 0, 0);
    cd[24] = 0x10; /* the first member: 1 MiB + 16 bytes uncompressed */
    cd[26] = 0x10;
    ck_assert_uint_eq(ww_filetype_zip_members(cd, n, &largest, NULL, NULL),
                      0); /* deflate, stored, bzip2 */
    ck_assert_uint_eq(largest, (1u << 20) + 16);
    n += put_cd_entry(cd + n, 14, 0, 4);
    n += put_cd_entry(cd + n, 93, 0, 0);
    n += put_cd_entry(cd + n, 95, 0, 0);
    ck_assert_uint_eq(ww_filetype_zip_members(cd, n, &largest, NULL, NULL),
                      0); /* LZMA, zstd, xz: lib/ww_unpack decodes them for libclamav */
    n += put_cd_entry(cd + n, 98, 0, 0);
    ck_assert_uint_eq(ww_filetype_zip_members(cd, n, &largest, NULL, NULL),
                      0); /* and PPMd (libarchive reads it for the deep scanner) */
    n += put_cd_entry(cd + n, 97, 0, 0);
    ck_assert_uint_eq(ww_filetype_zip_members(cd, n, &largest, NULL, NULL),
                      97); /* WavPack, after those: nothing here undoes it */
    ck_assert_int_eq(ww_filetype_zip_method_read(14, 0), 1);
    ck_assert_int_eq(ww_filetype_zip_method_read(14, 1), 0); /* encrypted: not decoded */
    ck_assert_int_eq(ww_filetype_zip_method_read(8, 1), 1);  /* libclamav's: it names it */
    ck_assert_int_eq(ww_filetype_zip_method_read(98, 0), 1);
    ck_assert_int_eq(ww_filetype_zip_method_read(97, 0), 0);
    /* the encrypted flag (of the central directory; the local header may say otherwise) does
     * not hide a method libclamav cannot undo; a method decoded here cannot be when encrypted */
    n = put_cd_entry(cd, 99, 1, 11);
    ck_assert_uint_eq(ww_filetype_zip_members(cd, n, &largest, NULL, NULL), 99);
    n = put_cd_entry(cd, 14, 1, 0);
    ck_assert_uint_eq(ww_filetype_zip_members(cd, n, &largest, NULL, NULL), 14);
    n = put_cd_entry(cd, 8, 0, 0);
    memset(cd + 24, 0xff, 4); /* zip64 size */
    ck_assert_uint_eq(ww_filetype_zip_members(cd, n, &largest, NULL, NULL), 0);
    ck_assert_uint_eq(largest, UINT64_MAX); /* no zip64 extra field: 4 GiB or more */
    /* with the zip64 extra field (zip -fz writes it even for small members): its size counts */
    n = put_cd_entry(cd, 8, 0, 12);
    memset(cd + 24, 0xff, 4);
    memcpy(cd + 47, "\1\0\x08\0\x40\0\0\0\0\0\0\0", 12); /* id 1, 8 bytes: 64 */
    ck_assert_uint_eq(ww_filetype_zip_members(cd, n, &largest, NULL, NULL), 0);
    ck_assert_uint_eq(largest, 64);
    ck_assert_uint_eq(ww_filetype_zip_members(cd, 45, &largest, NULL, NULL),
                      0); /* cut: nothing parses */
    ck_assert_uint_eq(largest, 0);
}
END_TEST

/* Local file headers: the fields, a name and extra field that must fit, zip64 sizes from the
 * extra field, and what is not a header. */
START_TEST(test_filetype_zip_local_header)
{
    unsigned char h[128];
    struct ww_zip_local l;

    memset(h, 0, sizeof(h));
    memcpy(h, "PK\3\4", 4);
    h[6] = 8;                              /* flag 3: a data descriptor */
    h[8] = 8;                              /* deflate */
    memcpy(h + 14, "\x11\x22\x33\x44", 4); /* CRC */
    h[18] = 100;                           /* compressed */
    h[22] = 200;                           /* uncompressed */
    h[26] = 5;                             /* name */
    h[28] = 4;                             /* extra field */
    memcpy(h + 30, "a.txt", 5);
    ck_assert_int_eq(ww_filetype_zip_local(h, 39, &l), 1);
    ck_assert_uint_eq(l.flags, 8);
    ck_assert_uint_eq(l.method, 8);
    ck_assert_uint_eq(l.crc, 0x44332211u);
    ck_assert_uint_eq(l.csize, 100);
    ck_assert_uint_eq(l.usize, 200);
    ck_assert_uint_eq(l.name_len, 5);
    ck_assert_uint_eq(l.head_len, 39);
    ck_assert_int_eq(ww_filetype_zip_local(h, 38, &l), 0); /* the extra field is cut */
    ck_assert_int_eq(ww_filetype_zip_local(h, 29, &l), 0);
    h[3] = 3;
    ck_assert_int_eq(ww_filetype_zip_local(h, 39, &l), 0); /* not "PK\3\4" */
    h[3] = 4;
    /* zip64: both sizes 0xffffffff, the real ones in extra field 1 (uncompressed first) */
    memset(h + 18, 0xff, 8);
    h[28] = 20;
    memcpy(h + 35, "\1\0\x10\0", 4);
    h[39] = 0x40; /* 64 */
    h[47] = 0x20; /* 32 */
    ck_assert_int_eq(ww_filetype_zip_local(h, 55, &l), 1);
    ck_assert_uint_eq(l.usize, 64);
    ck_assert_uint_eq(l.csize, 32);
    h[37] = 8; /* a field too short for both: not known */
    ck_assert_int_eq(ww_filetype_zip_local(h, 55, &l), 1);
    ck_assert_uint_eq(l.csize, UINT64_MAX);
    ck_assert_int_eq(ww_filetype_zip_method_known(8), 1);
    ck_assert_int_eq(ww_filetype_zip_method_known(12), 1);
    ck_assert_int_eq(ww_filetype_zip_method_known(14), 0);
    ck_assert_int_eq(ww_filetype_zip_method_known(93), 0);
}
END_TEST

/* A tar header by its checksum: ustar or V7, whatever the first member's name looks like. */
static void put_tar_header(unsigned char *h, const char *name, const char *magic, int sign)
{
    unsigned long sum = 0;
    long ssum = 0;

    memset(h, 0, 512);
    memcpy(h, name, strlen(name));
    memcpy(h + 100, "0000644", 7);
    memcpy(h + 124, "00000001750", 11);
    h[156] = '0';
    if (magic != NULL)
        memcpy(h + 257, magic, 8);
    if (sign)
        h[300] = 0xE9; /* a byte over 127: the signed and unsigned sums differ */
    memset(h + 148, ' ', 8);
    for (int i = 0; i < 512; i++) {
        sum += h[i];
        ssum += (signed char)h[i];
    }
    snprintf((char *)h + 148, 8, "%06lo", sign == 2 ? (unsigned long)ssum : sum);
    h[155] = ' ';
}

START_TEST(test_filetype_tar_by_its_checksum)
{
    unsigned char h[1024];

    memset(h, 'x', sizeof(h));
    put_tar_header(h, "GIF89a.gif",
                   "ustar\0"
                   "00",
                   0);
    ck_assert_int_eq(ww_filetype_tar_header(h, 512), 1);
    ck_assert_int_eq(ww_filetype_detect(h, sizeof(h)), WW_FT_TAR); /* not an image */
    ck_assert_int_eq(ww_filetype_tar_header(h, 511), 0);
    put_tar_header(h, "GIF89a.gif", "ustar  \0", 0); /* GNU */
    ck_assert_int_eq(ww_filetype_detect(h, sizeof(h)), WW_FT_TAR);
    put_tar_header(h, "%PDF-1.4.pdf", NULL, 0); /* V7: no magic */
    ck_assert_int_eq(ww_filetype_detect(h, sizeof(h)), WW_FT_TAR);
    /* A checksum is 8 bytes anyone can write: it does not take a body out of the mail,
     * executable and archive tests (each is still deep-scanned as what it is) */
    put_tar_header(h, "MZ.exe", NULL, 0);
    ck_assert_int_eq(ww_filetype_detect(h, sizeof(h)), WW_FT_PE);
    put_tar_header(h,
                   "\x7f"
                   "ELF",
                   NULL, 0);
    ck_assert_int_eq(ww_filetype_detect(h, sizeof(h)), WW_FT_ELF);
    put_tar_header(h, "PK\3\4", NULL, 0);
    ck_assert_int_eq(ww_filetype_detect(h, sizeof(h)), WW_FT_ZIP);
    put_tar_header(h, "\x28\xb5\x2f\xfd", NULL, 0);
    ck_assert_int_eq(ww_filetype_detect(h, sizeof(h)), WW_FT_ZSTD);
    put_tar_header(h, "ID3: x\nFrom: a@b\nSubject: c\n", NULL, 0);
    ck_assert_int_eq(ww_filetype_detect(h, sizeof(h)), WW_FT_MAIL);
    put_tar_header(h, "a", NULL, 1); /* unsigned sum */
    ck_assert_int_eq(ww_filetype_tar_header(h, 512), 1);
    put_tar_header(h, "a", NULL, 2); /* signed sum, as old tars wrote it */
    ck_assert_int_eq(ww_filetype_tar_header(h, 512), 1);
    h[10] ^= 1; /* one byte changed: the checksum no longer holds */
    ck_assert_int_eq(ww_filetype_tar_header(h, 512), 0);
    ww_filetype_tar_checksum(h); /* written again: it holds */
    ck_assert_int_eq(ww_filetype_tar_header(h, 512), 1);
    h[10] ^= 1;
    put_tar_header(h, "", NULL, 0); /* no name: an end-of-archive block */
    ck_assert_int_eq(ww_filetype_tar_header(h, 512), 0);
    put_tar_header(h, "a", NULL, 0);
    memcpy(h + 148, "12x4567 ", 8); /* not octal */
    ck_assert_int_eq(ww_filetype_tar_header(h, 512), 0);
    memset(h, 0, 512); /* zeros: no name, no checksum */
    ck_assert_int_eq(ww_filetype_tar_header(h, 512), 0);
}
END_TEST

/* LZMA "alone" headers: as encoders write them (typed lzma), as lzma -d also reads them (any
 * dictionary and size, other properties), and what neither reads. */
START_TEST(test_filetype_lzma_alone_header)
{
    unsigned char h[16] = {0x5d, 0x00, 0x00, 0x00, 0x04, 0xff, 0xff, 0xff,
                           0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x26, 0x80};

    ck_assert_int_eq(ww_filetype_lzma_header(h, sizeof(h)), 2); /* 64 MiB, size unknown */
    ck_assert_int_eq(ww_filetype_lzma_header(h, 12), 0);        /* short */
    h[1] = 0x88, h[2] = 0x13, h[3] = 0x00, h[4] = 0x00;         /* 5000: lzma -d reads it */
    ck_assert_int_eq(ww_filetype_lzma_header(h, sizeof(h)), 1);
    ck_assert_int_eq(ww_filetype_detect(h, sizeof(h)), WW_FT_UNKNOWN);
    h[1] = 0x00, h[2] = 0x00, h[3] = 0x00, h[4] = 0x03; /* 48 MiB: 2^25 + 2^24 */
    ck_assert_int_eq(ww_filetype_lzma_header(h, sizeof(h)), 2);
    h[0] = 225; /* properties past lc 8, lp 4, pb 4 */
    ck_assert_int_eq(ww_filetype_lzma_header(h, sizeof(h)), 0);
    h[0] = 0x5d;
    memcpy(h + 5, "\x10\0\0\0\0\0\x01\0", 8); /* a size of 2^48 and more: lzma -d only */
    ck_assert_int_eq(ww_filetype_lzma_header(h, sizeof(h)), 1);
    memset(h + 5, 0xff, 8);
    ck_assert_int_eq(ww_filetype_lzma_header(h, sizeof(h)), 2);
    memset(h + 1, 0xff, 4); /* a dictionary of all ones: xz's test takes it */
    ck_assert_int_eq(ww_filetype_lzma_header(h, sizeof(h)), 2);
    h[13] = 0x01; /* the range coder's first byte is always 0 */
    ck_assert_int_eq(ww_filetype_lzma_header(h, sizeof(h)), 0);
    h[13] = 0x00;
    h[0] = 0x5e; /* other properties: lzma -d reads them, no encoder writes them by default */
    ck_assert_int_eq(ww_filetype_lzma_header(h, sizeof(h)), 1);
    ck_assert_str_eq(ww_filetype_name(WW_FT_LZMA), "lzma");
    ck_assert_str_eq(ww_filetype_group(WW_FT_LZMA), "archive");
}
END_TEST

/* Where GNU tar starts reading: the first block that is a header by its checksum, after blocks
 * that are not (skipped); nothing after a block of zeros or off the 512-byte boundaries. The
 * polyglot finder sees the same header in a stream cut into chunks of every size. */
START_TEST(test_filetype_tar_start_after_blocks_that_are_not_headers)
{
    static const size_t chunks[] = {1, 7, 500, 511, 512, 513, 1000, 4096};
    unsigned char body[4 * 512];
    struct ww_filetype_embed f;
    int64_t at;

    memset(body, 'x', sizeof(body));
    memcpy(body, "GIF89a", 6);
    put_tar_header(body + 1024, "a", NULL, 0);
    ck_assert_int_eq(ww_filetype_tar_start(body, sizeof(body)), 1024);
    ck_assert_int_eq(ww_filetype_tar_start(body, 1535), -1); /* the header cut short */
    put_tar_header(body + 512, "b", NULL, 0);
    body[512 + 150] ^= 1; /* a bad checksum before it: skipped too */
    ck_assert_int_eq(ww_filetype_tar_start(body, sizeof(body)), 1024);
    put_tar_header(body, "",
                   "ustar\0"
                   "00",
                   0); /* a header with no name first */
    ck_assert_int_eq(ww_filetype_tar_start(body, sizeof(body)), 0);
    ck_assert_int_eq(ww_filetype_tar_header(body, sizeof(body)), 0);
    memset(body, 'x', 1024);
    memset(body + 512, 0, 512); /* a block of zeros: GNU tar ends there */
    ck_assert_int_eq(ww_filetype_tar_start(body, sizeof(body)), -1);
    memset(body + 512, 'x', 512);
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        enum ww_filetype got = WW_FT_UNKNOWN;
        const unsigned char *head;
        size_t off = 0, n, hl = 0;

        ww_filetype_embed_init(&f);
        for (; off < sizeof(body) && got == WW_FT_UNKNOWN; off += n) {
            n = sizeof(body) - off < chunks[c] ? sizeof(body) - off : chunks[c];
            got = ww_filetype_embed_feed(&f, body + off, n, &at);
        }
        ck_assert_msg(got == WW_FT_TAR && at == 1024, "chunks of %zu: %s at %lld", chunks[c],
                      ww_filetype_name(got), (long long)at);
        /* the header's bytes, for a caller that kept none of the chunks before */
        head = ww_filetype_embed_head(&f, WW_FT_TAR, &hl);
        ck_assert_uint_eq(hl, 512);
        ck_assert_int_eq(memcmp(head, body + 1024, 512), 0);
    }
    /* off the boundary, or after a block of zeros: GNU tar does not read it */
    for (int k = 0; k < 2; k++) {
        unsigned char moved[sizeof(body) + 1];
        memset(moved, 'x', sizeof(moved));
        if (k == 0)
            put_tar_header(moved + 1025, "a", NULL, 0);
        else {
            memset(moved + 512, 0, 512);
            put_tar_header(moved + 1024, "a", NULL, 0);
        }
        ck_assert_int_eq(ww_filetype_tar_start(moved, sizeof(moved)), -1);
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            ww_filetype_embed_init(&f);
            for (size_t off = 0, n; off < sizeof(moved); off += n) {
                n = sizeof(moved) - off < chunks[c] ? sizeof(moved) - off : chunks[c];
                ck_assert_int_eq(ww_filetype_embed_feed(&f, moved + off, n, &at), WW_FT_UNKNOWN);
            }
        }
    }
    /* a zip signature before the tar header is found first, and one after it is not */
    memcpy(body + 700, "PK\3\4", 4);
    ww_filetype_embed_init(&f);
    ck_assert_int_eq(ww_filetype_embed_feed(&f, body, sizeof(body), &at), WW_FT_ZIP);
    ck_assert_int_eq(at, 700);
    memset(body + 700, 'x', 4);
    memcpy(body + 1800, "PK\3\4", 4);
    ww_filetype_embed_init(&f);
    ck_assert_int_eq(ww_filetype_embed_feed(&f, body, sizeof(body), &at), WW_FT_TAR);
    ck_assert_int_eq(at, 1024);
}
END_TEST

/* The checksum of header <h> written again (an oracle of its own: unsigned, GNU tar's form). */
static void resum(unsigned char *h)
{
    unsigned long sum = 0;

    memset(h + 148, ' ', 8);
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06lo", sum);
    h[155] = ' ';
}

/* A ustar header at block <b> of <t>: <name>, <type>, <size> bytes, its checksum written. */
static void tar_put(unsigned char *t, size_t b, const char *name, char type, unsigned size)
{
    unsigned char *h = t + b * 512;

    put_tar_header(h, name,
                   "ustar\0"
                   "00",
                   0);
    h[156] = (unsigned char)type;
    snprintf((char *)h + 124, 12, "%011o", size);
    resum(h);
}

/* Tars that no rewrite makes libclamav read as GNU tar: told by a walk of the headers. */
START_TEST(test_filetype_tar_unusual_headers)
{
    static unsigned char t[8 * 512];

    memset(t, 0, sizeof(t));
    tar_put(t, 0, "a.txt", '0', 1000); /* 2 blocks */
    tar_put(t, 3, "b.txt", '0', 1000);
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 0); /* plain; zeros end it */
    ck_assert_int_eq(ww_filetype_tar_unusual(t, 2 * 512), 0);   /* cut short */
    /* the member's data ends in the body, its padding past it: the walk stops there (it read
     * past the end once: t/fuzz-cases/fuzz_filetype/tar-padding-past-end) */
    ck_assert_int_eq(ww_filetype_tar_unusual(t, 512 + 1000), 0);
    /* pax records, as every writer writes them: a size is rewritten, a sparse member is not */
    tar_put(t, 0, "pax", 'x', 25);
    memcpy(t + 512, "12 path=b.c\n13 size=9999\n", 25);
    tar_put(t, 2, "c.txt", '0', 0);
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 0); /* a size: rewritten */
    tar_put(t, 0, "pax", 'x', 34);
    memcpy(t + 512, "12 path=b.c\n22 GNU.sparse.major=1\n", 34); /* a pax sparse member */
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 1);
    tar_put(t, 0, "pax", 'X', 34); /* Solaris's extended header, read as pax */
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 1);
    tar_put(t, 0, "pax", 'g', 25); /* a global header's size: every member's */
    memcpy(t + 512, "12 path=b.c\n13 size=9999\n", 25);
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 1);
    /* records GNU tar reads and Python refuses (attack review 8): a tab or two blanks after the
     * length, a blank before it, no newline last, bytes after the last record, an empty or
     * non-decimal size; then a pax size on a directory */
    {
        static const char *const odd[] = {"12\tsize=544\n", "13  size=544\n",  " 13 size=544\n",
                                          "12 size=544 ",   "12 size=544\n\0", "8 size=\n",
                                          "12 size=5a4\n",  "13 size=+544\n"};
        for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
            size_t n = strlen(odd[k]) + (k == 4);
            memset(t + 512, 0, 512);
            tar_put(t, 0, "pax", 'x', n);
            memcpy(t + 512, odd[k], n);
            ck_assert_msg(ww_filetype_tar_unusual(t, sizeof(t)) == 1, "record %zu", k);
        }
        memset(t + 512, 0, 512);
        tar_put(t, 0, "pax", 'x', 12);
        memcpy(t + 512, "12 size=544\n", 12);
        ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 0);
    }
    tar_put(t, 2, "b", '5', 0);
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 1);
    /* two pax headers for one member (GNU tar takes the last's size, Python the first's); a pax
     * header before a bad block (GNU tar drops it, Python stops) */
    tar_put(t, 2, "pax2", 'x', 12);
    memcpy(t + 3 * 512, "12 size=545\n", 12);
    tar_put(t, 4, "c.txt", '0', 545);
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 1);
    memset(t + 2 * 512, 0, 512);
    t[2 * 512 + 5] = 'x';
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 1);
    memset(t, 0, sizeof(t));
    tar_put(t, 0, "a.txt", '0', 1000);
    /* sizes GNU tar and Python read otherwise: base-64 (Python: octal), a NUL first (Python: 0) */
    memcpy(t + 124, "+1750\0      ", 12);
    resum(t);
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 1);
    memcpy(t + 124,
           "\0"
           "0001750\0   ",
           12);
    resum(t);
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 1);
    memcpy(t + 124, " 0001750\0   ", 12); /* blanks first: both read 1000 */
    resum(t);
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 0);
    tar_put(t, 0, "a.txt", 'S', 1000); /* old GNU sparse */
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 1);
    tar_put(t, 0, "a.txt", '0', 1000);
    memcpy(t + 124, "0000000175x", 11); /* a size GNU tar cannot read */
    resum(t);
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 1);
    tar_put(t, 0, "a.txt", '0', 0x80000000u); /* over libclamav's int */
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 1);
    /* a symbolic link with a size: a pax sparse member in its data is a member when GNU tar
     * lists the tar */
    memset(t, 0, sizeof(t));
    tar_put(t, 0, "link", '2', 1024);
    tar_put(t, 1, "c.txt", '0', 1536); /* blocks 2-4 when GNU tar extracts */
    tar_put(t, 3, "pax", 'x', 22);     /* a header when it lists */
    memcpy(t + 4 * 512, "22 GNU.sparse.major=1\n", 22);
    tar_put(t, 5, "d.txt", '0', 0);
    {
        struct ww_tar_view v;
        ww_filetype_tar_view(t, sizeof(t), NULL, 0, &v);
        ck_assert(v.unusual == 0 && v.links == 1);
    }
    ck_assert_int_eq(ww_filetype_tar_unusual(t, sizeof(t)), 1);
}
END_TEST

/* Tars libclamav's tar reader reads otherwise than GNU tar: each header it would read otherwise
 * is counted, and rewritten in a copy so that it reads the members GNU tar reads. */
START_TEST(test_filetype_tar_view)
{
    static unsigned char t[12 * 512], o[12 * 512];
    struct ww_tar_view v, again;
    unsigned char *b3 = t + 3 * 512, *o3 = o + 3 * 512;

#define VIEW(skip) (memcpy(o, t, sizeof(t)), ww_filetype_tar_view(t, sizeof(t), o, skip, &v))
#define SAME_AGAIN() (ww_filetype_tar_view(o, sizeof(o), NULL, 0, &again), again.changes == 0)
    memset(t, 0, sizeof(t));
    tar_put(t, 0, "a.txt", '0', 1000); /* data in blocks 1-2 */
    tar_put(t, 3, "b.txt", '0', 1000); /* 4-5 */
    VIEW(0);
    ck_assert(v.changes == 0 && v.links == 0 && v.unusual == 0);
    ck_assert_int_eq(memcmp(o, t, sizeof(t)), 0);
    /* types libclamav skips unread, GNU tar extracts as files */
    for (const char *ty = "AEIN"; *ty != '\0'; ty++) {
        tar_put(t, 3, "b.txt", *ty, 1000);
        VIEW(0);
        ck_assert(v.changes == 1 && o3[156] == '0' && ww_filetype_tar_header(o3, 512));
        ck_assert_int_eq(memcmp(o, t, 3 * 512), 0); /* the rest as it was */
        ck_assert(SAME_AGAIN());
    }
    /* a volume label with data: GNU tar skips it, libclamav would read it as headers, Python
     * extracts it as a file: a file to libclamav, which reads and skips it */
    tar_put(t, 0, "label", 'V', 1000);
    tar_put(t, 3, "b.txt", '0', 1000);
    VIEW(0);
    ck_assert(v.changes == 1 && o[156] == '0' && ww_filetype_tar_header(o, 512));
    ck_assert(SAME_AGAIN());
    /* a symbolic link with data: none when GNU tar extracts (so c.txt's header is read), its
     * size skipped when GNU tar lists or picks members (then c.txt is not a member) */
    tar_put(t, 0, "link", '2', 1000);
    tar_put(t, 1, "c.txt", 'A', 512);
    VIEW(0);
    ck_assert(v.links == 1 && v.changes == 1 && o[512 + 156] == '0' && o[156] == '2');
    VIEW(1);
    ck_assert(v.links == 1 && v.changes == 1 && o[512 + 156] == 'A' && o[156] == 'D');
    ck_assert(SAME_AGAIN());
    /* a directory with a size: no data for anyone */
    tar_put(t, 0, "dir", '5', 1000);
    VIEW(1);
    ck_assert(v.links == 0 && v.changes == 1 && o[512 + 156] == '0');
    /* a header without "ustar" in a ustar tar (libclamav ends there); in a V7 tar it is none */
    tar_put(t, 0, "a.txt", '0', 1000);
    memset(t + 512, 0, 512);
    memset(b3 + 257, 0, 8);
    resum(b3);
    VIEW(0);
    ck_assert(v.changes == 1 && memcmp(o3 + 257, "ustar", 5) == 0 &&
              ww_filetype_tar_header(o3, 512));
    ck_assert(SAME_AGAIN());
    memset(t + 257, 0, 8);
    resum(t);
    VIEW(0);
    ck_assert_uint_eq(v.changes, 0);
    tar_put(t, 0, "a.txt", '0', 1000);
    /* a header with no name (libclamav ends at a NUL first byte) */
    tar_put(t, 3, "", '0', 1000);
    VIEW(0);
    ck_assert(v.changes == 1 && o3[0] != 0 && ww_filetype_tar_header(o3, 512));
    ck_assert(SAME_AGAIN());
    /* a checksum after a NUL: GNU tar reads it, libclamav's sscanf reads nothing */
    tar_put(t, 3, "b.txt", '0', 1000);
    memmove(b3 + 149, b3 + 148, 7);
    b3[148] = '\0';
    VIEW(0);
    ck_assert(v.changes == 1 && o3[148] != 0 && ww_filetype_tar_header(o3, 512));
    ck_assert(SAME_AGAIN());
    /* a size in base-256: written in octal */
    tar_put(t, 3, "b.txt", '0', 0);
    memset(b3 + 124, 0, 12);
    b3[124] = 0x80;
    b3[134] = 1000 >> 8;
    b3[135] = 1000 & 0xff;
    resum(b3);
    VIEW(0);
    ck_assert(v.changes == 1 && memcmp(o3 + 124, "00000001750", 12) == 0);
    ck_assert(SAME_AGAIN());
    /* a pax size record: the next member's size (its header says 0), whose data holds an 'A' */
    memset(t, 0, sizeof(t));
    tar_put(t, 0, "pax", 'x', 13);
    memcpy(t + 512, "13 size=1000\n", 13);
    tar_put(t, 2, "c.txt", '0', 0);
    tar_put(t, 3, "in-data", 'A', 0); /* c.txt's data to GNU tar */
    tar_put(t, 5, "d.txt", 'A', 0);
    VIEW(0);
    ck_assert(v.changes == 2 && memcmp(o + 2 * 512 + 124, "00000001750", 12) == 0);
    ck_assert(o3[156] == 'A' && o[5 * 512 + 156] == '0');
    ck_assert(SAME_AGAIN());
    /* bad blocks: GNU tar reads on at the next; libclamav must not end at them (a NUL first) nor
     * take one for a header (a checksum only its sscanf reads: '+' is base-64 to GNU tar) */
    memset(t, 0, sizeof(t));
    tar_put(t, 0, "a.txt", '0', 1000);
    b3[10] = 'x';
    tar_put(t, 4, "b.txt", '0', 0);
    memset(t + 4 * 512 + 148, ' ', 8);
    {
        unsigned long sum = 0;
        for (int i = 0; i < 512; i++)
            sum += t[4 * 512 + i];
        snprintf((char *)t + 4 * 512 + 148, 8, "+%06lo", sum);
    }
    tar_put(t, 5, "e.txt", 'A', 0);
    VIEW(0); /* Python reads "+011174" as octal: a header to it, a bad block to GNU tar */
    ck_assert(v.unusual == 1);
    memcpy(t + 4 * 512 + 148, "x0123456", 8); /* a checksum no reader reads */
    VIEW(0);
    ck_assert(v.unusual == 0 && v.changes == 2 && o3[0] == 'X' && o[5 * 512 + 156] == '0');
    ck_assert(SAME_AGAIN());
    /* a regular file named "d/" (by its name, a GNU long name, a pax path or a ustar prefix):
     * a directory with no data when GNU tar extracts it, its size skipped when it lists it */
    for (int how = 0; how < 4; how++) {
        size_t d = how == 0 || how == 3 ? 0 : 2; /* the block of d's own header */
        memset(t, 0, sizeof(t));
        if (how == 1) {
            tar_put(t, 0, "././@LongLink", 'L', 3);
            memcpy(t + 512, "d/", 3);
        } else if (how == 2) {
            tar_put(t, 0, "pax", 'x', 11);
            memcpy(t + 512, "11 path=d/\n", 11);
        }
        tar_put(t, d, how == 0 ? "d/" : how == 3 ? "" : "d", '0', 512);
        if (how == 3) {
            t[345] = 'd'; /* prefix "d", name "": "d/" */
            resum(t);
        }
        tar_put(t, d + 1, "in-data", 'A', 0); /* a header only when GNU tar extracts */
        VIEW(0);
        ck_assert_msg(v.links == 1 && v.changes == 2 && o[d * 512 + 156] == '5' &&
                          o[(d + 1) * 512 + 156] == '0',
                      "how %d: links %u changes %u", how, v.links, v.changes);
        ck_assert(SAME_AGAIN());
        VIEW(1);
        ck_assert_msg(v.changes == 1 && o[d * 512 + 156] == 'D' && o[(d + 1) * 512 + 156] == 'A',
                      "how %d: changes %u", how, v.changes);
        ck_assert(SAME_AGAIN());
    }
    /* the name field "d/" of type NUL with a pax path or long name "d": a directory to Python
     * (it looks at the name field), a file to GNU tar: read both ways (attack review 10) */
    for (int how = 1; how < 3; how++) {
        memset(t, 0, sizeof(t));
        if (how == 1) {
            tar_put(t, 0, "././@LongLink", 'L', 2);
            memcpy(t + 512, "d", 2);
        } else {
            tar_put(t, 0, "pax", 'x', 10);
            memcpy(t + 512, "10 path=d\n", 10);
        }
        tar_put(t, 2, "d/", '\0', 512);
        tar_put(t, 3, "in-data", 'A', 0);
        VIEW(0);
        ck_assert_msg(v.links == 1 && o[2 * 512 + 156] == '5' && o[3 * 512 + 156] == '0',
                      "how %d: links %u", how, v.links);
        ck_assert(SAME_AGAIN());
    }
    /* a NUL in a pax path (GNU tar's ends there: "d/") or keyword (GNU tar stops reading); a
     * long name before a bad block (GNU tar drops it): unusual */
    memset(t, 0, sizeof(t));
    tar_put(t, 0, "pax", 'x', 12);
    memcpy(t + 512, "12 path=d/\0x\n", 12);
    tar_put(t, 2, "d", '0', 0);
    ck_assert(ww_filetype_tar_unusual(t, sizeof(t)));
    memcpy(t + 512, "12 pa\0h=d/x\n", 12);
    ck_assert(ww_filetype_tar_unusual(t, sizeof(t)));
    memcpy(t + 512, "12 path=d/x\n", 12);
    ck_assert(!ww_filetype_tar_unusual(t, sizeof(t)));
    memset(t, 0, sizeof(t));
    tar_put(t, 0, "././@LongLink", 'L', 2);
    memcpy(t + 512, "d", 2);
    t[2 * 512 + 7] = 'b'; /* a bad block */
    tar_put(t, 3, "d/", '0', 0);
    ck_assert(ww_filetype_tar_unusual(t, sizeof(t)));
    /* checksums Python reads and GNU tar does not (a header to one reader only): unusual */
    memset(t, 0, sizeof(t));
    tar_put(t, 0, "a.txt", '0', 0);
    tar_put(t, 1, "b.txt", '0', 0);
    {
        unsigned long sum = 0;
        memset(t + 512 + 148, ' ', 8);
        for (int i = 0; i < 512; i++)
            sum += t[512 + i];
        snprintf((char *)t + 512 + 148, 8, "0o%05lo", sum);
        ck_assert(ww_filetype_tar_unusual(t, sizeof(t)));
        snprintf((char *)t + 512 + 148, 8, "0%o_%02lo", (unsigned)(sum >> 6), sum & 63);
        ck_assert(ww_filetype_tar_unusual(t, sizeof(t)));
        memset(t + 512 + 148, 0, 8);
        t[512 + 148] = 0x80;
        t[512 + 154] = (unsigned char)(sum >> 8);
        t[512 + 155] = (unsigned char)sum;
        /* (the sum changed with the field: find the value that holds) */
        for (unsigned k = 0; k < 4096 && !ww_filetype_tar_unusual(t, sizeof(t)); k++) {
            unsigned long s2 = 0;
            for (int i = 0; i < 512; i++)
                s2 += i >= 148 && i < 156 ? ' ' : t[512 + i];
            t[512 + 154] = (unsigned char)(s2 >> 8);
            t[512 + 155] = (unsigned char)s2;
        }
        ck_assert(ww_filetype_tar_unusual(t, sizeof(t)));
    }
    /* a pax header's padding holds records: Python reads them, GNU tar does not */
    memset(t, 0, sizeof(t));
    tar_put(t, 0, "pax", 'x', 12);
    memcpy(t + 512, "12 path=a.c\n12 size=600\n", 24);
    tar_put(t, 2, "a.c", '0', 0);
    ck_assert(ww_filetype_tar_unusual(t, sizeof(t)));
    memset(t + 512 + 12, 0, 12);
    ck_assert(!ww_filetype_tar_unusual(t, sizeof(t)));
    /* a size field of NULs (GNU tar's volume label): 0 */
    memset(t + 2 * 512 + 124, 0, 12);
    resum(t + 2 * 512);
    VIEW(0);
    ck_assert(!v.unusual && v.changes == 1); /* written as octal for libclamav's sscanf */
    /* cut short in a member's data and in a header: no read past the end */
    ww_filetype_tar_view(t, 512 + 100, NULL, 0, &v);
    ww_filetype_tar_view(t, 700, NULL, 1, &v);
#undef VIEW
#undef SAME_AGAIN
}
END_TEST

/* Random tars from the forms the walk knows (each type, sizes in octal, base-256 or after a NUL,
 * checksums plain, after a NUL or in signed sum, no magic, no name, pax records, bad blocks):
 * a copy rewritten for either reading needs no rewrite again and is not unusual where the tar
 * was not. A small xorshift, seeded: the same tars every run. */
START_TEST(test_filetype_tar_view_rewrites_once)
{
    static unsigned char t[16 * 512], o[16 * 512];
    static const char types[] = "0000125AEINV2346xgLKS7DM";
    uint64_t r = 0x9e3779b97f4a7c15ULL;

#define RND() (r ^= r << 13, r ^= r >> 7, r ^= r << 17, r)
    for (int round = 0; round < 3000; round++) {
        size_t b = 0;
        memset(t, 0, sizeof(t));
        while (b < 14) {
            unsigned char *h = t + b * 512;
            unsigned k = (unsigned)(RND() % 16);
            unsigned size = (unsigned)(RND() % 1400);
            char type = types[RND() % (sizeof(types) - 1)];
            if (k == 0) { /* a bad block */
                memset(h, 'q', 100);
                b++;
                continue;
            }
            if (type == 'x' || type == 'g') {
                static const char *const recs[] = {"12 size=600\n", "13 path=a/b\n",
                                                   "12\tsize=600\n"};
                const char *rec = recs[RND() % 3];
                tar_put(t, b, "pax", type, (unsigned)strlen(rec));
                memcpy(h + 512, rec, strlen(rec));
                b += 2;
                continue;
            }
            tar_put(t, b, k == 1 ? "" : k == 6 ? "d/" : "m.bin", type, size);
            if (k == 2)
                memset(h + 257, 0, 8); /* no magic */
            if (k == 3) {              /* base-256 size */
                memset(h + 124, 0, 12);
                h[124] = 0x80;
                h[134] = (unsigned char)(size >> 8);
                h[135] = (unsigned char)size;
            }
            if (k == 4) { /* a NUL before the size */
                memmove(h + 125, h + 124, 11);
                h[124] = 0;
            }
            resum(h);
            if (k == 5) { /* a NUL before the checksum */
                memmove(h + 149, h + 148, 7);
                h[148] = 0;
            }
            b += 1 + (RND() % 3 == 0 ? 0 : (size + 511) / 512);
        }
        for (int skip = 0; skip < 2; skip++) {
            struct ww_tar_view v, again;
            memcpy(o, t, sizeof(t));
            ww_filetype_tar_view(t, sizeof(t), o, skip, &v);
            ww_filetype_tar_view(o, sizeof(o), NULL, 0, &again);
            ck_assert_msg(v.unusual || (!again.unusual && again.changes == 0),
                          "round %d skip %d: changes %u, again %u unusual %d", round, skip,
                          v.changes, again.changes, again.unusual);
        }
    }
#undef RND
}
END_TEST

START_TEST(test_filetype_mail_padded_past_the_peek)
{
    char buf[4096];
    size_t n = 0;
    int i;

    for (i = 0; n < 2000; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-Padding-%d: %d\n", i, i * 7);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "From: a@b\n\nbody\n");
    ck_assert_str_eq(ww_filetype_name(ww_filetype_detect(buf, n)), "mail");
    /* what the pipeline looks at: the first WW_FILETYPE_PEEK bytes, cut mid-line */
    ck_assert_str_eq(ww_filetype_name(ww_filetype_detect(buf, WW_FILETYPE_PEEK)), "mail");
    n = (size_t)snprintf(buf, sizeof(buf), "Key-%d: v\nKey-%d: v\nplain text after\n", 1, 2);
    ck_assert_str_eq(ww_filetype_name(ww_filetype_detect(buf, n)), "text");
    /* one header folded over the whole peek; one header longer than it; 14 long unknown ones */
    n = (size_t)snprintf(buf, sizeof(buf), "X-Pad: a\n");
    while (n < 1500)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, " folded continuation line\n");
    ck_assert_str_eq(ww_filetype_name(ww_filetype_detect(buf, WW_FILETYPE_PEEK)), "mail");
    n = (size_t)snprintf(buf, sizeof(buf), "X-Long: ");
    memset(buf + n, 'v', 1200);
    ck_assert_str_eq(ww_filetype_name(ww_filetype_detect(buf, WW_FILETYPE_PEEK)), "mail");
    for (n = 0, i = 0; i < 15; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-Unknown-%02d: %060d\n", i, 0);
    ck_assert_str_eq(ww_filetype_name(ww_filetype_detect(buf, WW_FILETYPE_PEEK)), "mail");
    /* a JSON document of one long line is not a header block; nor a short text of two */
    n = (size_t)snprintf(buf, sizeof(buf), "{\"a\": \"");
    memset(buf + n, 'v', 1200);
    ck_assert_str_eq(ww_filetype_name(ww_filetype_detect(buf, WW_FILETYPE_PEEK)), "text");
}
END_TEST

/* A text that names an LHA method ("-lh5-") is no LHA archive: its header does not read */
START_TEST(test_filetype_embed_lha_named_in_text)
{
    static const char text[] = "lha -a archive.lzh uses -lh5- by default; -lh7- with -o7.\n";
    struct ww_filetype_embed f;
    int64_t at = 0;

    ww_filetype_embed_init(&f);
    ck_assert_int_eq(ww_filetype_embed_feed(&f, text, sizeof(text) - 1, &at), WW_FT_UNKNOWN);
}
END_TEST

/* An old binary cpio header (26 bytes) for "clam.exe" (<size> bytes of data), little- or
 * big-endian, at <h>; <nlink>. Its length with the name. */
static size_t put_bincpio(unsigned char *h, int le, unsigned nlink, unsigned size)
{
    const unsigned w[13] = {070707, 0, 1, 0100644, 0, 0, nlink, 0, 0, 0, 9, 0, size};

    for (size_t i = 0; i < 13; i++) {
        h[2 * i + (le ? 0 : 1)] = (unsigned char)(w[i] & 0xff);
        h[2 * i + (le ? 1 : 0)] = (unsigned char)(w[i] >> 8);
    }
    memcpy(h + 26, "clam.exe", 9);
    return 35;
}

/* Behind a text, a binary cpio header is found (7-Zip finds one anywhere: review 19), whole or
 * split at any byte, with every byte before the chunk it was judged in; not in another type's
 * body (random bytes hold its 2-byte magic every 32 KiB), nor one whose header does not read. */
START_TEST(test_filetype_embed_binary_cpio_in_text)
{
    static const size_t chunks[] = {1, 2, 3, 5, 7, 34, 35, 36, 64, 1000, 5000};
    static const size_t offsets[] = {0, 1, 1233, 4000};
    static const char filler[] = "Quoi? \xc7"
                                 "a qui, \xc7"
                                 " quand.\n";
    unsigned char body[4096];

    for (int le = 0; le <= 1; le++)
        for (size_t k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++)
            for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
                for (int text = 0; text <= 1; text++) {
                    struct ww_filetype_embed f;
                    size_t off = 0, hl = 0, end = 0;
                    int64_t at, found_at = -1;
                    enum ww_filetype got = WW_FT_UNKNOWN;
                    const unsigned char *h;

                    for (size_t i = 0; i < sizeof(body); i++) /* Latin-1, near misses */
                        body[i] = (unsigned char)filler[i % (sizeof(filler) - 1)];
                    put_bincpio(body + offsets[k], le, 1, 10);
                    ww_filetype_embed_init(&f);
                    if (text)
                        ww_filetype_embed_text(&f);
                    for (; off < sizeof(body) && got == WW_FT_UNKNOWN; off += chunks[c]) {
                        size_t n = sizeof(body) - off < chunks[c] ? sizeof(body) - off : chunks[c];
                        got = ww_filetype_embed_feed(&f, body + off, n, &at);
                        found_at = at;
                        end = off + n;
                    }
                    off -= chunks[c]; /* the start of the chunk it was found in */
                    if (!text) {
                        ck_assert_int_eq(got, WW_FT_UNKNOWN);
                        continue;
                    }
                    ck_assert_msg(got == WW_FT_CPIO && found_at == embed_want(offsets[k], end),
                                  "%s-endian at %zu, chunks of %zu: got %s at %lld",
                                  le ? "little" : "big", offsets[k], chunks[c],
                                  ww_filetype_name(got), (long long)found_at);
                    h = ww_filetype_embed_head(&f, WW_FT_CPIO, &hl);
                    ck_assert_msg(h != NULL && (int64_t)hl >= (int64_t)off - found_at &&
                                      memcmp(h, body + found_at, hl) == 0,
                                  "at %zu, chunks of %zu: the head is not the header's bytes",
                                  offsets[k], chunks[c]);
                }
    /* headers that do not read: no name (not even its NUL); a NUL in the name's first 8 bytes; a
     * short name that does not end in its NUL (no link, an empty name: 7-Zip reads them) */
    for (int bad = 0; bad < 3; bad++) {
        struct ww_filetype_embed f;
        int64_t at = 0;

        memset(body, 'a', sizeof(body));
        put_bincpio(body + 100, 1, 0, 10);
        if (bad == 0)
            body[100 + 20] = 0; /* namesize 0 */
        if (bad == 1)
            body[100 + 26 + 3] = 0;
        if (bad == 2)
            body[100 + 20] = 4; /* a 4-byte name: "cla" and a NUL expected at 29 */
        ww_filetype_embed_init(&f);
        ww_filetype_embed_text(&f);
        ck_assert_int_eq(ww_filetype_embed_feed(&f, body, sizeof(body), &at), WW_FT_UNKNOWN);
    }
    /* no link; an empty name (its NUL only): 7-Zip reads both (attack review 20, B1-B3) */
    for (int good = 0; good < 2; good++) {
        struct ww_filetype_embed f;
        int64_t at = 0;

        memset(body, 'a', sizeof(body));
        put_bincpio(body + 100, 1, 0, 10);
        if (good == 1) {
            body[100 + 20] = 1;
            body[100 + 26] = 0;
        }
        ww_filetype_embed_init(&f);
        ww_filetype_embed_text(&f);
        ck_assert_int_eq(ww_filetype_embed_feed(&f, body, sizeof(body), &at), WW_FT_CPIO);
        ck_assert_int_eq(at, 100);
    }
}
END_TEST

START_TEST(test_filetype_embed_none_in_a_plain_image)
{
    unsigned char body[8192];
    struct ww_filetype_embed f;
    int64_t at = 0;

    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = "\x89PNGPK\x03Rar!7z\xbc"[i % 14]; /* near misses only */
    ww_filetype_embed_init(&f);
    for (size_t off = 0; off < sizeof(body); off += 333) {
        size_t n = sizeof(body) - off < 333 ? sizeof(body) - off : 333;
        ck_assert_int_eq(ww_filetype_embed_feed(&f, body + off, n, &at), WW_FT_UNKNOWN);
        ck_assert_int_eq(at, -1);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("filetype");
    TCase *tc = tcase_create("detect");
    TCase *ts = tcase_create("set");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, test_filetype_detect_matches_table, 0,
                        (int)(sizeof(magic_cases) / sizeof(magic_cases[0])));
    tcase_add_test(tc, test_filetype_tar_magic_at_257);
    tcase_add_test(tc, test_filetype_truncated_magic_is_not_the_type);
    tcase_add_test(tc, test_filetype_looks_only_at_the_start);
    tcase_add_loop_test(tc, test_filetype_clamav_testfiles, 0,
                        (int)(sizeof(testfiles) / sizeof(testfiles[0])));
    tcase_add_loop_test(tc, test_filetype_embed_finds_archive_across_chunks, 0,
                        (int)(sizeof(embed_cases) / sizeof(embed_cases[0])));
    tcase_add_test(tc, test_filetype_embed_none_in_a_plain_image);
    tcase_add_test(tc, test_filetype_embed_lha_named_in_text);
    tcase_add_test(tc, test_filetype_embed_binary_cpio_in_text);
    tcase_add_test(tc, test_filetype_tar_start_after_blocks_that_are_not_headers);
    tcase_add_test(tc, test_filetype_lzma_alone_header);
    tcase_add_test(tc, test_filetype_zip_start_from_the_end_record);
    tcase_add_test(tc, test_filetype_mail_padded_past_the_peek);
    tcase_add_test(tc, test_filetype_zip_methods_libclamav_cannot_unpack);
    tcase_add_test(tc, test_filetype_zip_local_header);
    tcase_add_test(tc, test_filetype_tar_by_its_checksum);
    tcase_add_test(tc, test_filetype_tar_unusual_headers);
    tcase_add_test(tc, test_filetype_tar_view);
    tcase_add_test(tc, test_filetype_tar_view_rewrites_once);
    tcase_add_test(ts, test_filetype_set_groups_types_all_none);
    tcase_add_test(ts, test_filetype_names_round_trip);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, ts);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
