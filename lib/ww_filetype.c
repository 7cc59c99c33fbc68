/* lib/ww_filetype.c - true file type by magic numbers.
 *
 * The checks run from the most specific (a long magic at a fixed offset) to the weakest (text
 * heuristics), so that a two-byte magic like "MZ" or 0x1F8B never shadows a longer one. A body
 * that looks like nothing known is "unknown" when it holds control bytes and "text" otherwise:
 * an attacker who strips a magic number gets "unknown", which the default deep set scans. */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ww_common.h"
#include "ww_filetype.h"

struct ft_info {
    const char *name, *group;
};

/* Index = enum value. */
static const struct ft_info ft_info[WW_FT_COUNT] = {
    [WW_FT_UNKNOWN] = {"unknown", "unknown"},
    [WW_FT_EMPTY] = {"empty", "empty"},
    [WW_FT_TEXT] = {"text", "text"},
    [WW_FT_XML] = {"xml", "text"},
    [WW_FT_HTML] = {"html", "html"},
    [WW_FT_SCRIPT] = {"script", "script"},
    [WW_FT_PE] = {"pe", "executable"},
    [WW_FT_ELF] = {"elf", "executable"},
    [WW_FT_MACHO] = {"macho", "executable"},
    [WW_FT_JAVA] = {"java", "executable"},
    [WW_FT_DEX] = {"dex", "executable"},
    [WW_FT_WASM] = {"wasm", "executable"},
    [WW_FT_FLASH] = {"flash", "executable"},
    [WW_FT_ZIP] = {"zip", "archive"},
    [WW_FT_JAR] = {"jar", "archive"},
    [WW_FT_APK] = {"apk", "archive"},
    [WW_FT_OOXML] = {"ooxml", "office"},
    [WW_FT_ODF] = {"odf", "office"},
    [WW_FT_7Z] = {"7z", "archive"},
    [WW_FT_RAR] = {"rar", "archive"},
    [WW_FT_CAB] = {"cab", "archive"},
    [WW_FT_ISO] = {"iso", "archive"},
    [WW_FT_LZ4] = {"lz4", "archive"},
    [WW_FT_LZIP] = {"lzip", "archive"},
    [WW_FT_COMPRESS] = {"compress", "archive"},
    [WW_FT_PACK] = {"pack", "archive"},
    [WW_FT_DISKIMAGE] = {"diskimage", "archive"},
    [WW_FT_LZOP] = {"lzop", "archive"},
    [WW_FT_LZMA] = {"lzma", "archive"},
    [WW_FT_ISCAB] = {"iscab", "archive"},
    [WW_FT_ARJ] = {"arj", "archive"},
    [WW_FT_LZH] = {"lzh", "archive"},
    [WW_FT_GZIP] = {"gzip", "archive"},
    [WW_FT_BZIP2] = {"bzip2", "archive"},
    [WW_FT_XZ] = {"xz", "archive"},
    [WW_FT_ZSTD] = {"zstd", "archive"},
    [WW_FT_SZDD] = {"szdd", "archive"},
    [WW_FT_TAR] = {"tar", "archive"},
    [WW_FT_CPIO] = {"cpio", "archive"},
    [WW_FT_AR] = {"ar", "archive"},
    [WW_FT_RPM] = {"rpm", "archive"},
    [WW_FT_SIS] = {"sis", "archive"},
    [WW_FT_OLE2] = {"ole2", "office"},
    [WW_FT_RTF] = {"rtf", "rtf"},
    [WW_FT_PDF] = {"pdf", "pdf"},
    [WW_FT_CHM] = {"chm", "chm"},
    [WW_FT_MAIL] = {"mail", "mail"},
    [WW_FT_TNEF] = {"tnef", "mail"},
    [WW_FT_BINHEX] = {"binhex", "mail"},
    [WW_FT_UUENCODE] = {"uuencode", "mail"},
    [WW_FT_IMAGE] = {"image", "image"},
    [WW_FT_VIDEO] = {"video", "media"},
    [WW_FT_AUDIO] = {"audio", "media"},
    [WW_FT_FONT] = {"font", "font"},
    [WW_FT_WIM] = {"wim", "archive"},
    [WW_FT_NSIS] = {"nsis", "executable"},
};

_Static_assert(WW_FT_COUNT <= 64, "a type set is a 64-bit mask");

const char *ww_filetype_name(enum ww_filetype t)
{
    return (unsigned)t < WW_FT_COUNT ? ft_info[t].name : "unknown";
}

const char *ww_filetype_group(enum ww_filetype t)
{
    return (unsigned)t < WW_FT_COUNT ? ft_info[t].group : "unknown";
}

/* <m> (of <mlen> bytes) at offset <off>. The first byte is compared here: most of the magic
 * numbers a body is tried against differ there, and a call to memcmp for each cost more than the
 * test itself. */
static inline int at(const unsigned char *p, size_t len, size_t off, const void *m, size_t mlen)
{
    const unsigned char *q = m;
    return off + mlen <= len &&
           (mlen == 0 || (p[off] == q[0] && memcmp(p + off + 1, q + 1, mlen - 1) == 0));
}
#define AT(off, lit) at(p, len, (off), (lit), sizeof(lit) - 1)

static int at_ci(const unsigned char *p, size_t len, size_t off, const char *m)
{
    size_t mlen = strlen(m);
    return off + mlen <= len && strncasecmp((const char *)p + off, m, mlen) == 0;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* A zip's flavour from its first local header's member name (cheap: no central directory). */
static enum ww_filetype zip_flavour(const unsigned char *p, size_t len)
{
    size_t nlen, off = 30;

    if (len < 30)
        return WW_FT_ZIP;
    nlen = (size_t)p[26] | (size_t)p[27] << 8;
    if (off + nlen > len)
        nlen = len - off;
    if (at(p, len, off, "[Content_Types].xml", 19) && nlen == 19)
        return WW_FT_OOXML;
    if (nlen == 8 && at(p, len, off, "mimetype", 8)) {
        size_t extra = (size_t)p[28] | (size_t)p[29] << 8;
        if (at(p, len, off + nlen + extra, "application/vnd.oasis.opendocument", 34))
            return WW_FT_ODF;
        return WW_FT_ZIP;
    }
    if ((nlen == 19 && at(p, len, off, "AndroidManifest.xml", 19)) ||
        (nlen == 11 && at(p, len, off, "classes.dex", 11)))
        return WW_FT_APK;
    if (nlen >= 9 && at(p, len, off, "META-INF/", 9))
        return WW_FT_JAR;
    return WW_FT_ZIP;
}

/* RFC 822 header name followed by ':' at <p>: printable, no space, at most 76 bytes. */
static int header_line(const unsigned char *p, size_t len)
{
    size_t i;
    for (i = 0; i < len && i < 77; i++) {
        if (p[i] == ':')
            return i > 0;
        if ((p[i] == ' ' || p[i] == '\t') && i > 0) { /* "Name : value", RFC 822's old form */
            while (i < len && i < 77 && (p[i] == ' ' || p[i] == '\t'))
                i++;
            return i < len && p[i] == ':';
        }
        if (p[i] <= ' ' || p[i] >= 0x7f)
            return 0;
    }
    return 0;
}

static int mail_start(const unsigned char *p, size_t len)
{
    static const char *const names[] = {"From:",
                                        "Received:",
                                        "Return-Path:",
                                        "Delivered-To:",
                                        "Message-ID:",
                                        "MIME-Version:",
                                        "Subject:",
                                        "Date:",
                                        "To:",
                                        "Reply-To:",
                                        "X-Mailer:",
                                        "Sender:",
                                        "Envelope-to:",
                                        "Content-Type: multipart/",
                                        NULL};
    size_t i, hdr = 0, known = 0, tok = 0;
    const unsigned char *q = p, *end = p + len;
    int filled = 1;

    if (AT(0, "From ")) /* mbox */
        return 1;
    if (AT(0, "\xEF\xBB\xBF"))
        q += 3; /* a UTF-8 byte-order mark before the headers */
    while (q < end && (*q == '\r' || *q == '\n'))
        q++; /* mail readers skip blank lines before the headers */
    /* At least two header lines, one of them a mail header, before the first non-header, in the
     * whole peek: any number of unknown ones may come first (an attacker's padding, round 8).
     * Header lines all the way to the end of a full peek (the body goes on), with names such as
     * headers have (letters, digits, '-'): a header block too, whatever the names, however long
     * or folded the lines (JSON's '{"a":' is not such a name). */
    while (q < end) {
        const unsigned char *nl = memchr(q, '\n', (size_t)(end - q));
        if (nl == NULL && hdr >= 1)
            break;                     /* a last line the peek may have cut: not judged */
        if (*q == ' ' || *q == '\t') { /* folded continuation */
        } else if (end - q >= 5 && memcmp(q, "From ", 5) == 0) { /* an mbox line among them */
        } else if (header_line(q, (size_t)(end - q))) {
            hdr++;
            for (i = 0; q[i] != ':'; i++)
                if (!(isalnum(q[i]) || q[i] == '-' || q[i] == '_' || q[i] == '.'))
                    break;
            tok += q[i] == ':';
            for (i = 0; names[i] != NULL; i++)
                if (at_ci(q, (size_t)(end - q), 0, names[i]))
                    known++;
        } else {
            filled = 0;
            break;
        }
        if (nl == NULL)
            break;
        q = nl + 1;
    }
    return (hdr >= 2 && known >= 1) ||
           (filled && len >= WW_FILETYPE_PEEK && hdr >= 1 && tok == hdr);
}

/* Text: no NUL and few control bytes (UTF-8 and Latin-1 bytes count as text). */
static int looks_text(const unsigned char *p, size_t len)
{
    size_t i, ctl = 0;
    if (memchr(p, 0, len) != NULL)
        return 0; /* a binary body has one early: found at memchr's speed */
    for (i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c == 0)
            return 0;
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != 0x1b)
            ctl++;
    }
    return ctl * 100 <= len; /* at most 1 % */
}

static enum ww_filetype markup_or_script(const unsigned char *p, size_t len)
{
    static const char *const html_tags[] = {
        "<!doctype html", "<html",     "<head",   "<body",  "<script", "<iframe", "<meta",
        "<title",         "<div",      "<a ",     "<a\n",   "<p>",     "<p ",     "<table",
        "<form",          "<link",     "<style",  "<img",   "<span",   "<h1",     "<br",
        "<center",        "<frameset", "<object", "<embed", "<svg",    NULL};
    static const char *const scripts[] = {"@echo off", "<job", "<package", "#!", NULL};
    size_t i, skip = 0;

    if (AT(0, "\xEF\xBB\xBF"))
        skip = 3;
    while (skip < len && (p[skip] == ' ' || p[skip] == '\t' || p[skip] == '\r' || p[skip] == '\n'))
        skip++;
    if (at(p, len, 0, "#!", 2))
        return WW_FT_SCRIPT;
    for (i = 0; scripts[i] != NULL; i++)
        if (at_ci(p, len, skip, scripts[i]))
            return WW_FT_SCRIPT;
    if (at_ci(p, len, skip, "<?xml")) {
        /* XHTML and SVG pages carry scripts like HTML does */
        for (size_t j = skip; j + 5 < len; j++)
            if (p[j] == '<' && (at_ci(p, len, j, "<html") || at_ci(p, len, j, "<svg")))
                return WW_FT_HTML;
        return WW_FT_XML;
    }
    if (at_ci(p, len, skip, "<!--")) {
        for (size_t j = skip + 4; j + 5 < len; j++)
            if (p[j] == '<' && (at_ci(p, len, j, "<html") || at_ci(p, len, j, "<!doctype")))
                return WW_FT_HTML;
    }
    for (i = 0; html_tags[i] != NULL; i++)
        if (at_ci(p, len, skip, html_tags[i]))
            return WW_FT_HTML;
    return WW_FT_COUNT;
}

enum ww_filetype ww_filetype_detect(const void *data, size_t len)
{
    const unsigned char *p = data;
    enum ww_filetype t;

    if (len == 0)
        return WW_FT_EMPTY;
    if (len > WW_FILETYPE_PEEK)
        len = WW_FILETYPE_PEEK;
    /* Mail first: a header named like a magic number ("ID3: x", "OggS: y") must not make a mail
     * an MP3 (attack review 4 of round 8). A binary magic never reads as header lines. */
    if (mail_start(p, len))
        return WW_FT_MAIL;

    /* executables */
    if (AT(0, "MZ"))
        return WW_FT_PE;
    if (AT(0, "\x7F"
              "ELF"))
        return WW_FT_ELF;
    if (AT(0, "\xFE\xED\xFA\xCE") || AT(0, "\xFE\xED\xFA\xCF") || AT(0, "\xCE\xFA\xED\xFE") ||
        AT(0, "\xCF\xFA\xED\xFE"))
        return WW_FT_MACHO;
    if (AT(0, "\xCA\xFE\xBA\xBE") && len >= 8)
        /* a fat Mach-O counts its architectures (a few); a class file's major version is 45+ */
        return be32(p + 4) < 45 ? WW_FT_MACHO : WW_FT_JAVA;
    if (AT(0, "dex\n"))
        return WW_FT_DEX;
    if (AT(0, "\0asm"))
        return WW_FT_WASM;
    if (AT(0, "FWS") || AT(0, "CWS") || AT(0, "ZWS"))
        return WW_FT_FLASH;

    /* archives and compressed files */
    if (AT(0, "PK\x03\x04"))
        return zip_flavour(p, len);
    if (AT(0, "PK\x05\x06") || AT(0, "PK\x07\x08") || AT(0, "PK00PK\x03\x04"))
        return WW_FT_ZIP;
    if (AT(0, "7z\xBC\xAF\x27\x1C"))
        return WW_FT_7Z;
    if (AT(0, "Rar!\x1A\x07"))
        return WW_FT_RAR;
    if (AT(0, "MSCF\0\0\0\0"))
        return WW_FT_CAB;
    if (AT(0, "ISc("))
        return WW_FT_ISCAB;
    if (AT(0, "MSWIM\0\0\0"))
        return WW_FT_WIM;
    if (AT(4, "\xEF\xBE\xAD\xDENullsoftInst"))
        return WW_FT_NSIS; /* an installer's data without its stub (libclamav reads it) */
    if (AT(0, "\x60\xEA") && len >= 10) {
        unsigned hsize = (unsigned)p[2] | (unsigned)p[3] << 8; /* basic header size */
        if (hsize > 0 && hsize <= 2600)
            return WW_FT_ARJ;
    }
    if (len >= 7 && p[2] == '-' && p[3] == 'l' && (p[4] == 'h' || p[4] == 'z') && p[6] == '-')
        return WW_FT_LZH;
    if (AT(0, "\x1F\x8B") || (AT(0, "\x1F\x9E") && len >= 3 && p[2] == 8))
        return WW_FT_GZIP; /* gzip 0.5's magic too: gzip -d still reads it */
    if (AT(0, "\x1F\x1E") && len >= 7 && p[6] >= 1 && p[6] <= 25)
        return WW_FT_PACK; /* pack: 4 bytes of length, then the longest code's bits */
    if (AT(0, "\x1F\xA0"))
        return WW_FT_LZH; /* SCO's compress -H (LZH), which gzip -d reads */
    if (AT(0, "BZh") && len >= 4 && p[3] >= '1' && p[3] <= '9')
        return WW_FT_BZIP2;
    if (AT(0, "\xFD"
              "7zXZ\0"))
        return WW_FT_XZ;
    if (AT(0, "\x28\xB5\x2F\xFD") || AT(0, "\x27\xB5\x2F\xFD") || AT(0, "\x26\xB5\x2F\xFD") ||
        AT(0, "\x25\xB5\x2F\xFD"))
        return WW_FT_ZSTD; /* a frame, or a legacy one (v0.7, v0.6, v0.5): zstd -d reads them */
    if (len >= 4 && (p[0] & 0xF0) == 0x50 && AT(1, "\x2A\x4D\x18"))
        return WW_FT_ZSTD; /* a skippable frame first: zstd -d reads on */
    if (AT(0, "\x04\x22\x4D\x18") || AT(0, "\x02\x21\x4C\x18"))
        return WW_FT_LZ4;                       /* a frame, or the legacy format */
    if (AT(0, "LZIP\x01") || AT(0, "LZIP\x00")) /* version 0: xz and liblzma read it too */
        return WW_FT_LZIP;
    /* any flags byte gzip -d takes: a width of 16 bits or less (under 9: 9-bit codes, no table
     * entries), reserved bits set (a warning, the data still written: attack review 15, F1) */
    if (AT(0, "\x1F\x9D") && len >= 3 && (p[2] & 0x1F) <= 16)
        return WW_FT_COMPRESS; /* .Z: block mode and 9 to 16 bits */
    if (AT(0, "\x89LZO\0\r\n\x1A\n"))
        return WW_FT_LZOP;
    if (AT(0, "SZDD\x88\xF0\x27\x33") || AT(0, "KWAJ\x88\xF0\x27\xD1"))
        return WW_FT_SZDD;
    if (AT(257, "ustar"))
        return WW_FT_TAR;
    if (AT(0, "070701") || AT(0, "070702") || AT(0, "070707") || AT(0, "\x71\xC7") ||
        AT(0, "\xC7\x71"))
        return WW_FT_CPIO;
    if (AT(0, "!<arch>\n"))
        return WW_FT_AR;
    if (AT(0, "\xED\xAB\xEE\xDB"))
        return WW_FT_RPM;
    if (len >= 12 && (le32(p + 8) == 0x10000419u || le32(p + 4) == 0x10003A12u))
        return WW_FT_SIS;

    /* A tar header (by its checksum): its first member's name comes first and may look like
     * any magic number below ("GIF89a.gif"). After the mail, executable and archive tests, so
     * that 8 bytes at 148 cannot take a body out of those (attack review 6). */
    if (ww_filetype_tar_header(p, len))
        return WW_FT_TAR;
    /* a disk image (a boot sector: 55 aa at 510, or a FAT volume's parameters), after the tar
     * test for the same reason */
    if (len >= 512 && ww_filetype_disk_kind(p, len) != 0)
        return WW_FT_DISKIMAGE;

    /* documents */
    if (AT(0, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"))
        return WW_FT_OLE2;
    if (AT(0, "{\\rtf") || AT(0, "{\\*\\rtf"))
        return WW_FT_RTF;
    if (AT(0, "ITSF"))
        return WW_FT_CHM;
    /* readers accept "%PDF-" anywhere early (memchr: this look was most of the test's time) */
    for (const unsigned char *q = p, *end = p + len;
         len >= 5 && (q = memchr(q, '%', (size_t)(end - 4 - q))) != NULL; q++)
        if (memcmp(q, "%PDF-", 5) == 0)
            return WW_FT_PDF;
    if (AT(0, "\x78\x9F\x3E\x22"))
        return WW_FT_TNEF;

    if (AT(0, "\xFF\xFE") || AT(0, "\xFE\xFF")) /* UTF-16 BOM */
        return WW_FT_TEXT;

    /* images, media, fonts */
    if (AT(0, "\x89PNG\r\n\x1A\n") || AT(0, "\xFF\xD8\xFF") || AT(0, "GIF87a") || AT(0, "GIF89a") ||
        (AT(0, "RIFF") && AT(8, "WEBP")) || AT(0, "II*\0") || AT(0, "MM\0*") ||
        AT(0, "\0\0\x01\0") ||
        (AT(0, "BM") && len >= 14 && p[6] == 0 && p[7] == 0 && p[8] == 0 && p[9] == 0) ||
        (AT(4, "ftyp") && (AT(8, "avif") || AT(8, "heic") || AT(8, "mif1"))) ||
        AT(0, "\0\0\0\x0CjXL ") || AT(0, "\xFF\x0A"))
        return WW_FT_IMAGE;
    if (AT(4, "ftyp") || AT(0, "\x1A\x45\xDF\xA3") || (AT(0, "RIFF") && AT(8, "AVI ")) ||
        AT(0, "FLV\x01") || AT(0, "\0\0\x01\xBA") || AT(0, "\0\0\x01\xB3") ||
        (len > 376 && p[0] == 0x47 && p[188] == 0x47 && p[376] == 0x47 && !looks_text(p, len)))
        return WW_FT_VIDEO;
    if (AT(0, "ID3") || AT(0, "OggS") || AT(0, "fLaC") || (AT(0, "RIFF") && AT(8, "WAVE")) ||
        (len >= 2 && p[0] == 0xFF && (p[1] & 0xE0) == 0xE0 && p[1] < 0xFE) || AT(0, "#!AMR"))
        return WW_FT_AUDIO;
    if (AT(0, "wOFF") || AT(0, "wOF2") || AT(0, "OTTO") || AT(0, "ttcf") || AT(0, "\0\x01\0\0"))
        return WW_FT_FONT;

    /* text-based formats */
    if (AT(0, "(This file must be converted with BinHex"))
        return WW_FT_BINHEX;
    if (AT(0, "begin 6") || AT(0, "begin 7") || AT(0, "begin-base64 "))
        return WW_FT_UUENCODE;
    if (!looks_text(p, len)) /* (a mail was told first) */
        return ww_filetype_lzma_header(p, len) == 2 ? WW_FT_LZMA : WW_FT_UNKNOWN;
    t = markup_or_script(p, len);
    return t != WW_FT_COUNT ? t : WW_FT_TEXT;
}

static int set_add_word(const char *w, uint64_t *set)
{
    int found = 0;

    if (strcasecmp(w, "all") == 0) {
        *set = (UINT64_C(1) << WW_FT_COUNT) - 1;
        return 1;
    }
    if (strcasecmp(w, "none") == 0)
        return 1;
    for (int t = 0; t < WW_FT_COUNT; t++) {
        if (strcasecmp(w, ft_info[t].name) == 0 || strcasecmp(w, ft_info[t].group) == 0) {
            *set |= UINT64_C(1) << t;
            found = 1;
        }
    }
    return found;
}

int ww_filetype_set_parse(const char *const *words, uint64_t *set, char *err, size_t errlen)
{
    uint64_t s = 0;

    for (size_t i = 0; words != NULL && words[i] != NULL; i++) {
        if (!set_add_word(words[i], &s)) {
            snprintf(err, errlen,
                     "unknown file type \"%s\" (groups: executable, archive, office, pdf, rtf, "
                     "chm, mail, script, html, text, image, media, font, unknown; or a type "
                     "such as zip, pe, ole2; or all, none)",
                     words[i]);
            return WW_EINVAL;
        }
    }
    *set = s;
    return WW_OK;
}

int ww_filetype_set_parse_str(const char *text, uint64_t *set, char *err, size_t errlen)
{
    char word[64];
    const char *p = text;
    uint64_t s = 0;

    while (*p != '\0') {
        size_t n;
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        n = strcspn(p, ", \t");
        if (n == 0)
            break;
        if (n >= sizeof(word)) {
            snprintf(err, errlen, "unknown file type \"%.*s...\"", 20, p);
            return WW_EINVAL;
        }
        memcpy(word, p, n);
        word[n] = '\0';
        if (!set_add_word(word, &s)) {
            const char *const one[] = {word, NULL};
            return ww_filetype_set_parse(one, set, err, errlen);
        }
        p += n;
    }
    *set = s;
    return WW_OK;
}

/* ---- archives embedded in a body of another type (polyglots) ---- */

static const struct {
    enum ww_filetype type;
    unsigned char magic[WW_FILETYPE_EMBED_MAGIC_MAX];
    size_t len;
    size_t back; /* the archive starts this many bytes before its signature (LHA: 2) */
} embed_magics[] = {
    {WW_FT_ZIP, {'P', 'K', 3, 4}, 4, 0},
    {WW_FT_RAR, {'R', 'a', 'r', '!', 0x1a, 0x07}, 6, 0},
    {WW_FT_7Z, {'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}, 6, 0},
    /* cabextract and 7-Zip look for a cabinet anywhere */
    {WW_FT_CAB, {'M', 'S', 'C', 'F', 0, 0, 0, 0}, 8, 0},
    /* an ISO image's first volume descriptor; only where it belongs (32768) counts (ww_clamav) */
    {WW_FT_ISO, {1, 'C', 'D', '0', '0', '1', 1}, 7, 0},
    /* a UDF image's recognition sequence there (Windows mounts a .iso whose first 32 KiB are a
     * GIF's or a text's: review 18, F10) */
    {WW_FT_ISO, {0, 'B', 'E', 'A', '0', '1', 1}, 7, 0},
    /* streams 7-Zip finds anywhere (review 18, F10): xz, zstd, bzip2 (each level's first block),
     * gzip (every flag byte: review 19, F10) */
    {WW_FT_XZ, {0xfd, '7', 'z', 'X', 'Z', 0}, 6, 0},
    {WW_FT_ZSTD, {0x28, 0xb5, 0x2f, 0xfd}, 4, 0},
#define GZ(f)                                                                                      \
    {                                                                                              \
        WW_FT_GZIP, {0x1f, 0x8b, 8, f}, 4, 0                                                       \
    }
    GZ(0),
    GZ(1),
    GZ(2),
    GZ(3),
    GZ(4),
    GZ(5),
    GZ(6),
    GZ(7),
    GZ(8),
    GZ(9),
    GZ(10),
    GZ(11),
    GZ(12),
    GZ(13),
    GZ(14),
    GZ(15),
    GZ(16),
    GZ(17),
    GZ(18),
    GZ(19),
    GZ(20),
    GZ(21),
    GZ(22),
    GZ(23),
    GZ(24),
    GZ(25),
    GZ(26),
    GZ(27),
    GZ(28),
    GZ(29),
    GZ(30),
    GZ(31),
#undef GZ
    /* cpio's text headers (7-Zip finds them anywhere: review 19, F10) */
    {WW_FT_CPIO, {'0', '7', '0', '7', '0', '1'}, 6, 0},
    {WW_FT_CPIO, {'0', '7', '0', '7', '0', '2'}, 6, 0},
    {WW_FT_CPIO, {'0', '7', '0', '7', '0', '7'}, 6, 0},
#define BZ(l)                                                                                      \
    {                                                                                              \
        WW_FT_BZIP2, {'B', 'Z', 'h', l, '1', 'A', 'Y', '&'}, 8, 0                                  \
    }
    BZ('1'),
    BZ('2'),
    BZ('3'),
    BZ('4'),
    BZ('5'),
    BZ('6'),
    BZ('7'),
    BZ('8'),
    BZ('9'),
#undef BZ
/* an LHA archive's method, 2 bytes into its first header (7-Zip finds one anywhere: reviews
 * 18 and 19, F10), when that header reads as one (embed_lha_ok) */
#define LH(a, b)                                                                                   \
    {                                                                                              \
        WW_FT_LZH, {'-', 'l', a, b, '-'}, 5, 2                                                     \
    }
    LH('h', '0'),
    LH('h', '1'),
    LH('h', '2'),
    LH('h', '3'),
    LH('h', '4'),
    LH('h', '5'),
    LH('h', '6'),
    LH('h', '7'),
    LH('h', 'd'),
    LH('z', 's'),
    LH('z', '4'),
    LH('z', '5'),
#undef LH
    /* a compiled HTML help file, an NSIS installer's data (its flags 4 bytes before) and a
     * Windows image: 7-Zip finds each anywhere (attack review 20, A2-A4); libclamav reads the
     * first two, nothing here the third (Unsupported.wim) */
    {WW_FT_CHM, {'I', 'T', 'S', 'F', 3, 0, 0, 0}, 8, 0},
    {WW_FT_NSIS, {0xef, 0xbe, 0xad, 0xde, 'N', 'u', 'l', 'l'}, 8, 4},
    {WW_FT_WIM, {'M', 'S', 'W', 'I', 'M', 0, 0, 0}, 8, 0},
    /* CramFS (either byte order) and SquashFS images: 7-Zip finds them anywhere, nothing here
     * reads them (Unsupported.cramfs, .squashfs: attack review 21, B4) */
    {WW_FT_DISKIMAGE, {0x45, 0x3d, 0xcd, 0x28}, 4, 0},
    {WW_FT_DISKIMAGE, {0x28, 0xcd, 0x3d, 0x45}, 4, 0},
    {WW_FT_DISKIMAGE, {'h', 's', 'q', 's'}, 4, 0},
    /* an ARJ archive's main header (7-Zip finds one anywhere: attack review 20, A1): two bytes,
     * too few for embed_find's pairs (embed_arj_find) */
    {WW_FT_ARJ, {0x60, 0xea}, 2, 0},
    /* cpio's binary header ("070707" as a 16-bit word, either byte order): two bytes, too few
     * for embed_find's pairs; looked for in text bodies only (embed_bincpio_find) */
    {WW_FT_CPIO, {0x71, 0xc7}, 2, 0},
};
#define EMBED_N (sizeof(embed_magics) / sizeof(embed_magics[0]))
#define EMBED_BINCPIO (EMBED_N - 1)
#define EMBED_ARJ (EMBED_N - 2)
/* the bytes of an ARJ main header that embed_arj_ok judges */
#define ARJ_LOOK 11
/* the bytes of a binary cpio header that embed_bincpio_ok judges: the same whole or split */
#define BINCPIO_LOOK 35
/* a header check's answer when the header's bytes go on in the next chunk: a signature after it
 * is not the first yet (t/fuzz_filetype found an LHA header lost to a cpio 11 bytes on) */
#define EMBED_WAIT 2

/* Whether the LHA header at <h> (<n> bytes there) may be one: its level byte (0, 1 or 2) and
 * size as ww_unpack_lha_find tells them; a text that names a method ("-lh5-") has a letter
 * where the level is. Its first 21 bytes only, so that a header split between two chunks is
 * judged as a whole one is (the carried tail holds them); the deep scan reads the rest. */
static int embed_lha_ok(const unsigned char *h, size_t n)
{
    if (n < 21)
        return EMBED_WAIT; /* its level byte is in the next chunk: judged then, from the tail */
    if (h[20] == 2)
        return ((unsigned)h[0] | (unsigned)h[1] << 8) >= 24;
    return h[20] <= 1 && h[0] >= 20;
}

/* Whether the binary cpio header at <h> (<n> bytes there) may be one as 7-Zip reads one (review
 * 19, F9: it finds one anywhere; review 20: it takes no link and an empty name too): a name of a
 * byte or more (its NUL) whose first 8 bytes before the NUL are not NUL, ending in its NUL when it
 * is no longer. Its first BINCPIO_LOOK bytes only (a header split between two chunks is judged as
 * a whole one: the carried tail holds them); the deep scan reads the rest. */
static int embed_bincpio_ok(const unsigned char *h, size_t n)
{
    unsigned ns;

    if (n < BINCPIO_LOOK)
        return EMBED_WAIT; /* judged with the next chunk, from the carried tail */
    ns = h[0] == 0xc7 ? (unsigned)h[20] | (unsigned)h[21] << 8 : (unsigned)h[20] << 8 | h[21];
    if (ns < 1 || memchr(h + 26, 0, ns - 1 < 8 ? ns - 1 : 8) != NULL)
        return 0;
    return ns - 1 > 8 || h[26 + ns - 1] == 0;
}

/* Whether the ARJ main header at <h> (<n> bytes there) may be one: a basic header of 30 to 2,600
 * bytes (7-Zip's bounds; its CRC after it is the deep scan's to check), a first header of 30
 * bytes or more within it, the file type of a main header (2); any host OS (7-Zip reads one of
 * 12 or 255: attack review 21, B1). Its first ARJ_LOOK bytes only, as for the others. UTF-8
 * text never passes (the size's high byte is a continuation byte); random bytes about once in
 * 10^8 positions. */
static int embed_arj_ok(const unsigned char *h, size_t n)
{
    unsigned hsize;

    if (n < ARJ_LOOK)
        return EMBED_WAIT;
    hsize = (unsigned)h[2] | (unsigned)h[3] << 8;
    return hsize >= 30 && hsize <= 2600 && h[4] >= 30 && h[4] <= hsize && h[10] == 2;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* The zip64 end record behind the locator that ends at <loc> + 20 in <tail>: the start and the
 * central directory from its 64-bit numbers, as for the classic record. -1 when it is not there. */
static int64_t zip64_start(const unsigned char *tail, size_t loc, int64_t base,
                           const unsigned char *classic, struct ww_zip_end *z)
{
    size_t r;
    uint64_t cd_size, cd_off;
    int64_t rec;

    if (loc < 56)
        return -1;
    for (r = loc - 56 + 1; r-- > 0;) { /* the record, nearest the locator first */
        if (memcmp(tail + r, "PK\6\6", 4) != 0)
            continue;
        cd_size = le64(tail + r + 40);
        cd_off = le64(tail + r + 48);
        rec = base + (int64_t)r;
        if (cd_size == 0 || cd_size > (uint64_t)rec || cd_off > (uint64_t)rec - cd_size)
            return -1;
        z->cd_at = rec - (int64_t)cd_size;
        z->cd_size = (int64_t)cd_size;
        z->entries = le64(tail + r + 32);
        /* libclamav reads the classic record: it misses the zip when that record's numbers
         * are not these (0xffffffff, 0, or another zip's) */
        z->zip64 = le32(classic + 12) != cd_size || le32(classic + 16) != cd_off;
        return rec - (int64_t)cd_size - (int64_t)cd_off;
    }
    return -1;
}

int64_t ww_filetype_zip_start(const unsigned char *tail, size_t tail_len, int64_t total,
                              struct ww_zip_end *z)
{
    int64_t base = total - (int64_t)tail_len; /* the tail's first byte in the body */
    size_t i;

    if (tail_len < 22 || (int64_t)tail_len > total)
        return -1;
    /* The last record, as zip readers take it, whatever its comment length says: unzip and
     * Python's zipfile open a zip whose comment is shorter than the record claims. */
    for (i = tail_len - 22 + 1; i-- > 0;) {
        uint32_t cd_size, cd_off;
        int64_t eocd;
        if (tail[i] != 'P' || tail[i + 1] != 'K' || tail[i + 2] != 5 || tail[i + 3] != 6)
            continue;
        if (i >= 20 && memcmp(tail + i - 20, "PK\6\7", 4) == 0) {
            int64_t st = zip64_start(tail, i - 20, base, tail + i, z); /* zip64: they decide */
            if (st >= 0)
                return st;
            /* no zip64 record after all (the "locator" is a comment's bytes): readers fall back
             * on the classic record, so does this */
        }
        cd_size = le32(tail + i + 12);
        cd_off = le32(tail + i + 16);
        eocd = base + (int64_t)i;
        if (cd_size == 0 || (int64_t)cd_size + cd_off > eocd)
            return -1; /* empty, or pointing before the body */
        z->cd_at = eocd - cd_size;
        z->cd_size = cd_size;
        z->entries = (uint64_t)tail[i + 10] | (uint64_t)tail[i + 11] << 8;
        z->zip64 = 0;
        return eocd - cd_size - cd_off;
    }
    return -1;
}

/* The 64-bit uncompressed size of a central directory entry whose 32-bit one is 0xffffffff:
 * the first field of its zip64 extra field (0x0001). UINT64_MAX when there is none. */
static uint64_t zip64_usize(const unsigned char *extra, size_t len)
{
    size_t at = 0;

    while (at + 4 <= len) {
        unsigned id = extra[at] | (unsigned)extra[at + 1] << 8;
        size_t n = extra[at + 2] | (size_t)extra[at + 3] << 8;
        if (at + 4 + n > len)
            break;
        if (id == 1 && n >= 8)
            return le64(extra + at + 4);
        at += 4 + n;
    }
    return UINT64_MAX;
}

/* The unsigned sum of a tar header's 512 bytes, its checksum field read as spaces */
static unsigned long tar_sum(const unsigned char *h, long *signed_sum)
{
    unsigned sum = 0, high = 0; /* high: bytes over 127, each 256 less in the signed sum */
    size_t i;

    for (i = 0; i < 512; i++) { /* one loop of a fixed count: the compiler vectorises it */
        sum += h[i];
        high += h[i] >> 7;
    }
    for (i = 148; i < 156; i++) { /* the checksum field counts as 8 spaces */
        sum -= h[i];
        high -= h[i] >> 7;
    }
    sum += 8 * ' ';
    if (signed_sum != NULL)
        *signed_sum = (long)sum - 256 * (long)high;
    return sum;
}

void ww_filetype_tar_checksum(unsigned char *h)
{
    snprintf((char *)h + 148, 8, "%06lo", tar_sum(h, NULL) & 0777777);
    h[155] = ' ';
}

static int tar_blank(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* A numeric header field as GNU tar 1.34 reads it (from_header): one leading NUL and then
 * blanks skipped; octal digits ended by the field's end, a NUL or a blank (a NUL first: 0); or,
 * unless
 * <octal_only> (checksums), base-256 after 0x80 (0xff: negative). 0 and *v; -1 when GNU tar
 * would not take it, or takes it for a negative number, or reads it as base-64 after '+' or '-'
 * (tar 1.13.6-1.13.11, 1999: Python reads "+1040" as octal; here it is refused). */
static int gnu_number(const unsigned char *f, size_t n, int octal_only, uint64_t *v)
{
    size_t i = f[0] == 0 ? 1 : 0;
    uint64_t x = 0;

    while (i < n && tar_blank(f[i]))
        i++;
    if (i == n)
        return -1;
    if (f[i] >= '0' && f[i] <= '7') {
        for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
            if (x >> 60)
                return -1;
            x = x * 8 + (uint64_t)(f[i] - '0');
        }
        if (i < n && f[i] != 0 && !tar_blank(f[i]))
            return -1;
    } else if (!octal_only && f[i] == 0x80) {
        for (i++; i < n; i++) {
            if (x >> 55)
                return -1;
            x = x << 8 | f[i];
        }
    } else if (f[i] != 0) {
        return -1; /* a NUL there: no digits, 0 (a GNU volume label's size field is all NULs) */
    }
    *v = x;
    return 0;
}

/* The same field as Python 3.11's tarfile reads it (nti): base-256 when the first byte is 0x80
 * or 0xff; else the bytes up to a NUL, whitespace stripped, as int(s, 8) reads them: a sign, then
 * "0o", then octal digits with single '_' between them (none at all: 0). -1 when Python refuses
 * it, or for a negative number. */
static int64_t py_number(const unsigned char *f, size_t n)
{
    size_t i = 0, end = 0;
    uint64_t x = 0;
    int digits = 0;

    if (f[0] == 0x80 || f[0] == 0xff) {
        for (i = 1; i < n; i++) {
            if (x >> 55)
                return -1;
            x = x << 8 | f[i];
        }
        return f[0] == 0xff ? -1 : (int64_t)x;
    }
    while (end < n && f[end] != 0)
        end++;
    while (i < end && (tar_blank(f[i]) || (f[i] >= 0x1c && f[i] <= 0x1f)))
        i++;
    while (end > i && (tar_blank(f[end - 1]) || (f[end - 1] >= 0x1c && f[end - 1] <= 0x1f)))
        end--;
    if (i == end)
        return 0;
    if (f[i] == '+' || f[i] == '-') {
        if (f[i] == '-')
            return -1; /* "-0" is 0, anything else negative: refused either way */
        i++;
    }
    if (end - i >= 2 && f[i] == '0' && (f[i + 1] == 'o' || f[i + 1] == 'O')) {
        i += 2;
        if (i < end && f[i] == '_')
            i++; /* "0o_17" */
    }
    for (; i < end; i++) {
        if (f[i] == '_' && digits > 0 && i + 1 < end && f[i + 1] != '_')
            continue;
        if (f[i] < '0' || f[i] > '7' || (x >> 60))
            return -1;
        x = x * 8 + (uint64_t)(f[i] - '0');
        digits++;
    }
    return digits > 0 ? (int64_t)x : -1;
}

/* The same field as libclamav 1.4 reads it: sscanf("%o") of its bytes up to a NUL, taken as an
 * int: blanks, a sign, octal digits. -1 when there is no digit (libclamav's "bad"). */
static long clam_number(const unsigned char *f, size_t n)
{
    size_t i = 0;
    unsigned long x = 0;
    unsigned u;
    int neg = 0, digits = 0;

    while (i < n && tar_blank(f[i]))
        i++;
    if (i < n && (f[i] == '+' || f[i] == '-'))
        neg = f[i++] == '-';
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++, digits++)
        x = x * 8 + (unsigned long)(f[i] - '0');
    if (digits == 0)
        return -1;
    u = neg ? 0u - (unsigned)x : (unsigned)x;
    return (long)(int)u;
}

/* A header block as GNU tar takes it: 1 a header, 0 the end (all zeros), -1 a bad one (it reads
 * on at the next block). *clam: whether libclamav 1.4's tar reader takes it for a header; *py:
 * whether Python's tarfile does (its checksum reading is wider than GNU tar's). */
static int tar_block(const unsigned char *h, int *clam, int *py)
{
    unsigned long sum_u;
    long sum_s, want_c;
    int64_t want_p;
    uint64_t want;
    size_t i;

    for (i = 0; i < 512 && h[i] == 0; i++)
        ;
    *clam = *py = 0;
    if (i == 512)
        return 0;
    want_c = clam_number(h + 148, 8);
    want_p = py_number(h + 148, 8);
    if (gnu_number(h + 148, 8, 1, &want) != 0)
        want = UINT64_MAX;
    if (want_c < 0 && want_p < 0 && want == UINT64_MAX)
        return -1; /* no reader's number: the sum is not needed (every body's first bytes) */
    sum_u = tar_sum(h, &sum_s);
    *clam = h[0] != 0 && want_c >= 0 && (want_c == (long)sum_u || want_c == sum_s);
    *py = want_p >= 0 && (want_p == (int64_t)sum_u || want_p == (int64_t)sum_s);
    if (want == UINT64_MAX)
        return -1;
    return want == sum_u || (long)want == sum_s ? 1 : -1;
}

int ww_filetype_lzma_header(const unsigned char *p, size_t len)
{
    uint32_t dict;
    int n;

    if (len < 14 || p[0] >= 225 || p[13] != 0)
        return 0;     /* the range coder's first byte is always 0 */
    if (p[0] != 0x5d) /* lc 3, lp 0, pb 2: what encoders write */
        return 1;
    /* the uncompressed size: unknown (all ones), or under 2^48 */
    for (n = 5; n < 13 && p[n] == 0xff; n++)
        ;
    if (n < 13 && (p[11] != 0 || p[12] != 0))
        return 1;
    /* the dictionary: 2^n or 2^n + 2^(n-1), or all ones (xz's own test for a .lzma) */
    dict = (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 24;
    if (dict == UINT32_MAX)
        return 2;
    for (n = 1; n <= 31; n++)
        if (dict == 1u << n || dict == (1u << n) + (1u << (n - 1)))
            return 2;
    return 1;
}

int ww_filetype_tar_header(const unsigned char *h, size_t len)
{
    int clam, py;

    return len >= 512 && h[0] != '\0' && tar_block(h, &clam, &py) == 1;
}

/* Symbolic links, devices and fifos: no data when GNU tar extracts them, their size when it
 * lists or skips them; libclamav reads none. */
static int tar_link(unsigned char type)
{
    return type == '2' || type == '3' || type == '4' || type == '6';
}

/* A member's data size as GNU tar reads it, <size> its header's or its pax record's: hard links
 * and directories have none, links as tar_link says (<skip_links>: GNU tar lists or skips), and
 * so do regular files whose name ends in '/' (<dir>: GNU tar extracts them as directories,
 * Python too for type NUL). */
static uint64_t tar_data(unsigned char type, uint64_t size, int skip_links, int dir)
{
    return type == '1' || type == '5' || ((tar_link(type) || dir) && !skip_links) ? 0 : size;
}

/* Whether the name of header <h> (name field, or prefix/name in a POSIX ustar header) ends in
 * '/', as GNU tar and Python join them. */
static int tar_name_slash(const unsigned char *h)
{
    size_t n = 0;

    while (n < 100 && h[n] != 0)
        n++;
    if (n > 0)
        return h[n - 1] == '/';
    return memcmp(h + 257, "ustar\0", 6) == 0 && h[345] != 0; /* "prefix/" */
}

/* pax records "LEN key=value\n" of a header of type x, X (Solaris's, read as pax) or g, the
 * records' whole data: a size record's value in *size (UINT64_MAX: none), whether a path record
 * ends in '/' in *slash (untouched: none). 0; 1 when a record
 * makes the member sparse, or is not written as every writer writes records (one space after
 * the length, a newline last, the data ending with the last record): GNU tar reads blanks and
 * tabs around the length that Python's tarfile refuses, so readers take other sizes. */
static int pax_records(const unsigned char *r, const unsigned char *end, uint64_t *size, int *slash)
{
    while (r < end) {
        size_t rl = 0;
        const unsigned char *q = r, *eq, *rend;
        while (q < end && *q >= '0' && *q <= '9' && rl < SIZE_MAX / 10)
            rl = rl * 10 + (size_t)(*q++ - '0');
        if (q == r || q >= end || *q != ' ' || rl > (size_t)(end - r) || rl < (size_t)(q - r) + 4 ||
            q[1] == ' ' || q[1] == '\t')
            return 1;
        rend = r + rl; /* one past the newline */
        if (rend[-1] != '\n')
            return 1;
        for (eq = q + 1; eq < rend - 1 && *eq != '='; eq++)
            ;
        if (eq == q + 1 || eq >= rend - 1 || memchr(q + 1, 0, (size_t)(eq - q - 1)) != NULL)
            return 1; /* no keyword, no '=', or a NUL in the keyword (GNU tar stops there) */
        if ((size_t)(eq - q - 1) > 11 && memcmp(q + 1, "GNU.sparse.", 11) == 0)
            return 1;
        if (eq - q - 1 == 4 && memcmp(q + 1, "size", 4) == 0) {
            const unsigned char *d = eq + 1;
            uint64_t v = 0;
            if (d >= rend - 1)
                return 1;
            for (; d < rend - 1; d++) {
                if (*d < '0' || *d > '9' || v >= UINT64_MAX / 16)
                    return 1;
                v = v * 10 + (uint64_t)(*d - '0');
            }
            *size = v;
        }
        if (eq - q - 1 == 4 && memcmp(q + 1, "path", 4) == 0) {
            if (memchr(eq + 1, 0, (size_t)(rend - 1 - eq - 1)) != NULL)
                return 1; /* GNU tar's path ends at the NUL ("d/\0x": a directory), Python's not */
            *slash = rend - 2 > eq && rend[-2] == '/'; /* a directory's name, to GNU tar */
        }
        r = rend;
    }
    return 0;
}

#define TAR_CLAM_MAX 0x7fffffffu /* libclamav reads a tar's sizes as an int */

void ww_filetype_tar_view(const unsigned char *p, size_t len, unsigned char *out, int skip_links,
                          struct ww_tar_view *v)
{
    size_t pos = 0;
    uint64_t pax_size = UINT64_MAX;
    int ustar = len >= 512 && memcmp(p + 257, "ustar", 5) == 0, pax = 0;
    int lslash = -1, pslash = -1; /* a GNU long name's and a pax path's last '/' (-1: none) */

    memset(v, 0, sizeof(*v));
    while (pos <= len && len - pos >= 512) {
        const unsigned char *h = p + pos;
        unsigned char *o = out != NULL ? out + pos : NULL;
        unsigned char type = h[156];
        uint64_t size = 0, data;
        int clam, py, dir = 0, slash = 0, changed = 0, gnu = tar_block(h, &clam, &py);

        if (gnu == 0)
            return; /* GNU tar ends at a block of zeros (one alone too, with a warning) */
        pos += 512;
        if (gnu < 0) {
            if (pax || py || lslash >= 0) {
                /* GNU tar drops a pax header or a long name at a bad block, Python stops; a
                 * checksum Python reads (base-256, "0o", '_') and GNU tar does not: a header to
                 * Python only */
                v->unusual = 1;
                return;
            }
            /* GNU tar skips a bad block and tries the next: libclamav must not take it for a
             * header, nor end at it (a NUL first byte ends its reading) */
            if (clam || h[0] == 0) {
                v->changes++;
                if (o != NULL) {
                    o[0] = 'X';
                    memset(o + 148, 'X', 8); /* no reader's number */
                }
            }
            continue;
        }
        if (gnu_number(h + 124, 12, 0, &size) != 0 || py_number(h + 124, 12) != (int64_t)size) {
            v->unusual = 1; /* a size GNU tar cannot read, or Python reads otherwise */
            return;
        }
        if (type == 'S') {
            v->unusual = 1; /* old GNU sparse */
            return;
        }
        if (type == 'g' || type == 'x' || type == 'X') {
            uint64_t rs = UINT64_MAX;
            size_t padded = (size_t)((size + 511) / 512 * 512);
            if (size > len - pos)
                return; /* cut short */
            /* Python reads the records of the padded blocks, GNU tar of <size> bytes */
            for (size_t i = (size_t)size; i < padded && pos + i < len; i++)
                if (p[pos + i] != 0) {
                    v->unusual = 1;
                    return;
                }
            if (pax_records(p + pos, p + pos + size, &rs, &pslash) ||
                (type == 'g' && (rs != UINT64_MAX || pslash >= 0)) || (type != 'g' && pax)) {
                /* sparse; records readers read otherwise; a global size or path; two pax
                 * headers for a member (GNU tar takes the last one's records, Python both, the
                 * first's last) */
                v->unusual = 1;
                return;
            }
            if (type != 'g') {
                pax = 1;
                pax_size = rs;
            }
        } else if (type == 'L') {
            size_t n = 0;
            if (size > len - pos)
                return; /* cut short */
            while (n < size && p[pos + n] != 0)
                n++;
            lslash = n > 0 && p[pos + n - 1] == '/';
        } else if (type != 'K') {
            slash = pslash >= 0 ? pslash : lslash >= 0 ? lslash : tar_name_slash(h);
            if (pslash >= 0 && lslash >= 0 && pslash != lslash) {
                v->unusual = 1; /* a long name and a pax path that disagree */
                return;
            }
            /* GNU tar by the final name; Python by the name field alone, for type NUL */
            dir = ((type == '0' || type == '\0' || type == '7') && slash) ||
                  (type == '\0' && h[0] != 0 && h[strnlen((const char *)h, 100) - 1] == '/');
            if (pax_size != UINT64_MAX) {
                if (type == '1' || type == '5' || tar_link(type) || dir) {
                    v->unusual = 1; /* a pax size on a link or a directory */
                    return;
                }
                size = pax_size;
            }
            pax = 0;
            pax_size = UINT64_MAX;
            lslash = pslash = -1;
        }
        data = tar_data(type, size, skip_links, dir);
        if ((tar_link(type) || dir) && size > 0)
            v->links++;
        if (size > TAR_CLAM_MAX) {
            v->unusual = 1;
            return;
        }
        /* what libclamav needs to read this member as GNU tar does */
        if (h[0] == 0) {
            changed = 1; /* a nameless header ends libclamav's reading */
            if (o != NULL)
                memcpy(o, "webwarden-tar-member", 20);
        }
        if (ustar && memcmp(h + 257, "ustar", 5) != 0) {
            changed = 1; /* its "ustar" tar ends at a header without the magic */
            if (o != NULL)
                memcpy(o + 257,
                       "ustar\0"
                       "00",
                       8);
        }
        if (type == 'A' || type == 'E' || type == 'I' || type == 'N' || (type == 'V' && size > 0)) {
            /* skipped unread by libclamav (a volume label: no data), extracted as a file by
             * GNU tar (a label: its data skipped) and Python: a file to libclamav too (type D
             * when named "d/": a '0' so named would be a directory) */
            changed = 1;
            if (o != NULL)
                o[156] = slash ? 'D' : '0';
        } else if (size > 0 && tar_link(type) && skip_links) {
            /* data that libclamav would read as headers: a file's to it (type D: a member, as
             * the link was, so that a long name before it stays the link's) */
            changed = 1;
            if (o != NULL)
                o[156] = 'D';
        } else if (size > 0 && dir) {
            /* "d/" extracted as a directory: no data, to libclamav too; listed or skipped: its
             * data, a file's to libclamav (type D, which no reading takes for a directory) */
            changed = 1;
            if (o != NULL)
                o[156] = skip_links ? 'D' : '5';
        }
        if (clam_number(h + 124, 12) != (long)size) {
            changed = 1; /* base-256, a pax size, a field sscanf reads otherwise */
            if (o != NULL)
                snprintf((char *)o + 124, 12, "%011llo", (unsigned long long)size);
        }
        if (!clam)
            changed = 1; /* a checksum field only GNU tar reads */
        if (changed) {
            v->changes++;
            if (o != NULL)
                ww_filetype_tar_checksum(o);
        }
        if (data > len - pos)
            return; /* cut short: nothing more to read */
        pos += (size_t)((data + 511) / 512 * 512);
    }
}

/* A block as GNU tar alone reads it: tar_block's result without the other readers' (cheaper:
 * no sum unless the checksum field is a number). */
static int gnu_block(const unsigned char *h)
{
    uint64_t want;
    unsigned long sum_u;
    long sum_s;
    size_t i;

    if (h[0] == 0) {
        for (i = 1; i < 512 && h[i] == 0; i++)
            ;
        if (i == 512)
            return 0;
    }
    if (h[148] != 0 && !tar_blank(h[148]) && (h[148] < '0' || h[148] > '7'))
        return -1; /* no octal number (most blocks of any other file: no call) */
    if (gnu_number(h + 148, 8, 1, &want) != 0)
        return -1;
    sum_u = tar_sum(h, &sum_s);
    return want == sum_u || (long)want == sum_s ? 1 : -1;
}

int64_t ww_filetype_tar_start(const unsigned char *p, size_t len)
{
    for (size_t pos = 0; pos <= len && len - pos >= 512; pos += 512)
        switch (gnu_block(p + pos)) {
        case 1:
            return (int64_t)pos;
        case 0:
            return -1; /* GNU tar ends at a zero block, one alone too */
        }
    return -1;
}

int ww_filetype_tar_unusual(const unsigned char *p, size_t len)
{
    struct ww_tar_view v, s;

    ww_filetype_tar_view(p, len, NULL, 0, &v);
    if (v.unusual || v.links == 0)
        return v.unusual;
    ww_filetype_tar_view(p, len, NULL, 1, &s);
    return s.unusual;
}

int ww_filetype_zip_method_known(unsigned m)
{
    return m == 0 || m == 1 || m == 6 || m == 8 || m == 9 || m == 12;
}

int ww_filetype_zip_method_unpacked(unsigned m)
{
    return m == 14 || m == 93 || m == 95 || m == 98;
}

int ww_filetype_zip_method_read(unsigned m, unsigned flags)
{
    return ww_filetype_zip_method_known(m) || (ww_filetype_zip_method_unpacked(m) && !(flags & 1));
}

int ww_filetype_zip_local(const unsigned char *h, size_t len, struct ww_zip_local *l)
{
    size_t nlen, elen, at;

    if (len < 30 || memcmp(h, "PK\3\4", 4) != 0)
        return 0;
    nlen = h[26] | (size_t)h[27] << 8;
    elen = h[28] | (size_t)h[29] << 8;
    if (30 + nlen + elen > len)
        return 0;
    l->flags = h[6] | (unsigned)h[7] << 8;
    l->method = h[8] | (unsigned)h[9] << 8;
    l->crc = le32(h + 14);
    l->csize = le32(h + 18);
    l->usize = le32(h + 22);
    l->name_len = nlen;
    l->head_len = 30 + nlen + elen;
    if (l->csize == UINT32_MAX || l->usize == UINT32_MAX) {
        /* zip64: a local header's extra field holds both sizes, the uncompressed one first */
        const unsigned char *e = h + 30 + nlen;
        uint64_t us = UINT64_MAX, cs = UINT64_MAX;
        for (at = 0; at + 4 <= elen;) {
            unsigned id = e[at] | (unsigned)e[at + 1] << 8;
            size_t n = e[at + 2] | (size_t)e[at + 3] << 8;
            if (at + 4 + n > elen)
                break;
            if (id == 1 && n >= 16) {
                us = le64(e + at + 4);
                cs = le64(e + at + 12);
                break;
            }
            at += 4 + n;
        }
        /* both from the field, as ZipInputStream takes them, when either word says so */
        l->usize = us;
        l->csize = cs;
    }
    return 1;
}

unsigned ww_filetype_zip_members(const unsigned char *cd, size_t len, uint64_t *largest,
                                 int (*each)(void *arg, const struct ww_zip_member *m), void *arg)
{
    size_t at = 0;
    unsigned bad = 0;

    *largest = 0;
    while (at + 46 <= len && memcmp(cd + at, "PK\1\2", 4) == 0) {
        struct ww_zip_member m;
        size_t nlen = cd[at + 28] | (size_t)cd[at + 29] << 8;
        size_t elen = cd[at + 30] | (size_t)cd[at + 31] << 8;
        size_t skip = 46 + nlen + elen + (cd[at + 32] | (size_t)cd[at + 33] << 8);
        uint64_t usize;

        m.flags = cd[at + 8] | (unsigned)cd[at + 9] << 8;
        m.method = cd[at + 10] | (unsigned)cd[at + 11] << 8;
        m.csize = le32(cd + at + 20);
        m.usize = le32(cd + at + 24);
        m.local = le32(cd + at + 42);
        m.crc = le32(cd + at + 16);
        /* a method neither libclamav nor lib/ww_unpack undoes leaves the member unread,
         * encrypted or not; an encrypted one of ww_unpack's too (libclamav names encrypted
         * members of its own methods: Heuristics.Encrypted.Zip) */
        if (bad == 0 && !ww_filetype_zip_method_read(m.method, m.flags))
            bad = m.method;
        usize = m.usize;
        if (m.usize == UINT32_MAX) /* zip64: the size is in the extra field (4 GiB without) */
            usize =
                at + 46 + nlen + elen <= len ? zip64_usize(cd + at + 46 + nlen, elen) : UINT64_MAX;
        m.usize64 = usize;
        if (usize > *largest)
            *largest = usize;
        if (each != NULL && each(arg, &m) != 0)
            break;
        at += skip;
    }
    return bad;
}

const unsigned char *ww_filetype_embed_magic(enum ww_filetype t, size_t *len)
{
    for (size_t i = 0; i < EMBED_N; i++)
        if (embed_magics[i].type == t) {
            *len = embed_magics[i].len;
            return embed_magics[i].magic;
        }
    *len = 0;
    return NULL;
}

void ww_filetype_embed_init(struct ww_filetype_embed *f)
{
    memset(f, 0, sizeof(*f));
}

void ww_filetype_embed_text(struct ww_filetype_embed *f)
{
    f->text = 1;
}

void ww_filetype_embed_init_at(struct ww_filetype_embed *f, int64_t pos)
{
    memset(f, 0, sizeof(*f));
    f->pos = pos;
    f->tar_skip = (size_t)((512 - pos % 512) % 512);
}

/* The first offset in <p> where a signature starts and fits, with its index in *which; -1.
 * Every signature is at least 4 bytes long, so an occurrence at s holds the byte pair at the
 * offset i of {s, s+1, s+2} that is a multiple of 3 as its pair 0-1, 1-2 or 2-3: only pairs at
 * those offsets are looked at, in a bitmap of the nine pairs (a chance hit in random bytes: 9 in
 * 65536), and a start is compared only on a hit. At the first offset with a match, the earliest
 * start found there is the first in <p> (one starting before it has an earlier or the same
 * offset). */
static ptrdiff_t embed_find(const unsigned char *p, size_t len, size_t *which, ptrdiff_t *wait)
{
    static unsigned char pairs[65536 / 8];
    static atomic_int ready;
    ptrdiff_t best = -1;

    if (!atomic_load_explicit(&ready, memory_order_acquire)) {
        static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        pthread_mutex_lock(&mu);
        if (!atomic_load_explicit(&ready, memory_order_relaxed)) {
            for (size_t m = 0; m < EMBED_N; m++)
                for (size_t k = 0; k < 3 && embed_magics[m].len >= 4; k++) {
                    unsigned key = embed_magics[m].magic[k] | embed_magics[m].magic[k + 1] << 8;
                    pairs[key >> 3] |= (unsigned char)(1u << (key & 7));
                }
            atomic_store_explicit(&ready, 1, memory_order_release);
        }
        pthread_mutex_unlock(&mu);
    }
    for (size_t i = 0; i + 1 < len && best < 0; i += 3) {
        unsigned key = p[i] | p[i + 1] << 8;
        if (!(pairs[key >> 3] & (1u << (key & 7))))
            continue;
        for (size_t m = 0; m < EMBED_N; m++)
            for (size_t k = 0; k < 3 && k <= i; k++) {
                size_t st = i - k, ml = embed_magics[m].len, bk = embed_magics[m].back;
                if (ml < 4 || st + ml > len || st < bk ||
                    memcmp(p + st, embed_magics[m].magic, ml) != 0)
                    continue;
                if (embed_magics[m].type == WW_FT_LZH) {
                    int ok = embed_lha_ok(p + st - bk, len - st + bk);
                    if (ok == EMBED_WAIT && (*wait < 0 || (ptrdiff_t)(st - bk) < *wait))
                        *wait = (ptrdiff_t)(st - bk);
                    if (ok != 1)
                        continue;
                }
                if (best < 0 || (ptrdiff_t)(st - bk) < best) {
                    best = (ptrdiff_t)(st - bk); /* where the archive starts */
                    *which = m;
                }
            }
    }
    return best;
}

/* The first offset in <p> where a binary cpio header starts (embed_bincpio_ok), or -1. The
 * magic's 0xc7 byte is rare in text (not UTF-8 before 'q'), so its occurrences are few. */
static ptrdiff_t embed_bincpio_find(const unsigned char *p, size_t len, ptrdiff_t *wait)
{
    const unsigned char *c = p, *end = p + len;

    while (c < end && (c = memchr(c, 0xc7, (size_t)(end - c))) != NULL) {
        size_t i = (size_t)(c - p);
        for (int le = 0; le <= 1; le++) { /* big-endian 71 c7 (it starts first), then c7 71 */
            size_t st = le ? i : i - 1;
            int ok;
            if (le ? i + 1 >= len || p[i + 1] != 0x71 : i == 0 || p[i - 1] != 0x71)
                continue;
            if ((ok = embed_bincpio_ok(p + st, len - st)) == 1)
                return (ptrdiff_t)st;
            if (ok == EMBED_WAIT && *wait < 0)
                *wait = (ptrdiff_t)st;
        }
        c++;
    }
    return -1;
}

/* The first offset in <p> where an ARJ main header starts (embed_arj_ok), or -1. memchr for its
 * first byte, not memmem: glibc's memmem walks a 2-byte needle a byte at a time (40 us for 64 KiB
 * here, against 2 for this loop over random bytes). */
static ptrdiff_t embed_arj_find(const unsigned char *p, size_t len, ptrdiff_t *wait)
{
    const unsigned char *c = p, *end = p + len;
    int ok;

    while (end - c >= 2 && (c = memchr(c, 0x60, (size_t)(end - c - 1))) != NULL) {
        if (c[1] == 0xea && (ok = embed_arj_ok(c, (size_t)(end - c))) != 0) {
            if (ok == 1)
                return c - p;
            if (*wait < 0)
                *wait = c - p;
        }
        c++;
    }
    return -1;
}

/* embed_find, and in a text body (ww_filetype_embed_text) a binary cpio header: the first; -1
 * also when a header that may start before it goes on past <len> (its start in *waitp: judged
 * with the next chunk, from the carried tail, as it starts in the last BINCPIO_LOOK bytes). */
static ptrdiff_t embed_first(const struct ww_filetype_embed *f, const unsigned char *p, size_t len,
                             size_t *which, ptrdiff_t *waitp)
{
    ptrdiff_t wait = -1, off = embed_find(p, len, which, &wait), b = -1;

    /* a header that starts before <off>: its bytes end before off + ARJ_LOOK */
    b = embed_arj_find(p, off >= 0 && (size_t)off + ARJ_LOOK < len ? (size_t)off + ARJ_LOOK : len,
                       &wait);
    if (b >= 0 && (off < 0 || b < off)) {
        *which = EMBED_ARJ;
        off = b;
    }
    if (f->text) {
        /* a header that starts before <off>: its bytes end before upto */
        size_t upto =
            off >= 0 && (size_t)off + BINCPIO_LOOK < len ? (size_t)off + BINCPIO_LOOK : len;
        b = embed_bincpio_find(p, upto, &wait);
        if (b >= 0 && (off < 0 || b < off)) {
            *which = EMBED_BINCPIO;
            off = b;
        }
    }
    *waitp = wait;
    return wait >= 0 && (off < 0 || wait < off) ? -1 : off;
}

/* The first 512-aligned block of the stream that GNU tar reads as a header, completed or found in
 * <p> (<len> bytes at stream offset f->pos): its offset, or -1. A block cut by a chunk's end is
 * gathered in f->block; GNU tar reads nothing after a block of zeros, so neither does this. */
static int64_t embed_tar(struct ww_filetype_embed *f, const unsigned char *p, size_t len)
{
    size_t i = 0;
    int g;

    if (f->tar_done)
        return -1;
    if (f->tar_skip > 0) { /* fed from inside a block: on to the stream's next boundary */
        i = f->tar_skip < len ? f->tar_skip : len;
        f->tar_skip -= i;
        if (f->tar_skip > 0)
            return -1;
    }
    if (f->block_len > 0) {
        size_t n = 512 - f->block_len < len ? 512 - f->block_len : len;
        if (n > 0)
            memcpy(f->block + f->block_len, p, n);
        f->block_len += n;
        i = n;
        if (f->block_len < 512)
            return -1;
        f->block_len = 0;
        if ((g = gnu_block(f->block)) == 1)
            return f->pos - (int64_t)(512 - n);
        if (g == 0) {
            f->tar_done = 1;
            return -1;
        }
    }
    for (; len - i >= 512; i += 512) {
        if ((g = gnu_block(p + i)) == 1) {
            memcpy(f->block, p + i, 512);
            return f->pos + (int64_t)i;
        }
        if (g == 0) {
            f->tar_done = 1;
            return -1;
        }
    }
    if (len > i) /* (an empty feed's NULL is not memcpy's: attack review 15, A1) */
        memcpy(f->block, p + i, len - i);
    f->block_len = len - i;
    return -1;
}

const unsigned char *ww_filetype_embed_head(const struct ww_filetype_embed *f, enum ww_filetype t,
                                            size_t *len)
{
    if (t == WW_FT_TAR) {
        *len = 512;
        return f->block;
    }
    if (f->found > 0 && embed_magics[f->found - 1].type == t && f->found_block) {
        *len = f->block_len; /* kept from the tar block the signature is in (embed_from) */
        return f->block;
    }
    if (f->found > 0 && embed_magics[f->found - 1].type == t) { /* the bytes that matched */
        *len = f->found_len;
        return f->found_head;
    }
    return ww_filetype_embed_magic(t, len);
}

/* Keeps the archive's first bytes at <h> (<n> there), signature <which>: all of them up to the
 * fed chunk's end, so that a caller holds every byte before the chunk. An LHA header is taken for
 * one only at its level byte, 20 bytes after its start: one whose method was in the carried tail
 * began up to WW_FILETYPE_EMBED_CARRY bytes before the chunk, not only its signature's length. */
static void embed_found(struct ww_filetype_embed *f, size_t which, const unsigned char *h, size_t n)
{
    f->found = (int)which + 1;
    f->found_block = 0;
    f->found_len = n < sizeof(f->found_head) ? n : sizeof(f->found_head);
    memcpy(f->found_head, h, f->found_len);
}

/* Where the caller keeps the stream from, for a signature found at <sp> (this chunk: <len>
 * bytes; <tar>: embed_tar's answer for it). A tar header is known only once its 512-byte block
 * is whole, a signature at its start: one in a block still being gathered may sit in a tar
 * header's name (a decoy before the header that comes first, t/fuzz_filetype and
 * check_clamav), so the stream is kept from that block's start (its bytes so far in f->block);
 * the deep scan reads a tar header there, and looks again for the signature after it. */
static int64_t embed_from(struct ww_filetype_embed *f, size_t len, int64_t sp, int64_t tar)
{
    int64_t b0 = f->pos + (int64_t)len - (int64_t)f->block_len;

    if (tar >= 0 || f->tar_done || f->block_len == 0 || sp < b0)
        return sp;
    f->found_block = 1;
    return b0;
}

enum ww_filetype ww_filetype_embed_feed(struct ww_filetype_embed *f, const void *data, size_t len,
                                        int64_t *at)
{
    const unsigned char *p = data;
    /* the carried tail and this chunk's first bytes: enough of them for a whole LHA header
     * (its size byte: 257 at most), so that it is judged as it would be in one chunk */
    unsigned char seam[WW_FILETYPE_EMBED_CARRY + 260];
    size_t which = 0, head = len < 260 ? len : 260;
    ptrdiff_t off, wait = -1;

    *at = embed_tar(f, p, len);
    /* a signature that begins in the carried tail and ends in this chunk (before any tar header
     * completed in this chunk: that starts on a block before this chunk's first byte, or in it) */
    if (f->carry_len > 0 && len > 0) {
        memcpy(seam, f->carry, f->carry_len);
        memcpy(seam + f->carry_len, p, head);
        off = embed_first(f, seam, f->carry_len + head, &which, &wait);
        if (off >= 0 && (size_t)off < f->carry_len &&
            (*at < 0 || f->pos - (int64_t)f->carry_len + off < *at)) {
            embed_found(f, which, seam + off, f->carry_len + head - (size_t)off);
            *at = embed_from(f, len, f->pos - (int64_t)f->carry_len + off, *at);
            return embed_magics[which].type;
        }
        /* a header begun in the tail still goes on past this chunk: nothing after it is first */
        if (wait >= 0 && (size_t)wait < f->carry_len)
            off = -1;
        else
            wait = -1;
    }
    if (wait < 0)
        off = embed_first(f, p, len, &which, &wait);
    if (off >= 0 && (*at < 0 || f->pos + off < *at)) {
        embed_found(f, which, p + off, len - (size_t)off);
        *at = embed_from(f, len, f->pos + off, *at);
        return embed_magics[which].type;
    }
    if (*at >= 0)
        return WW_FT_TAR;
    /* keep the last bytes for the next chunk */
    if (len >= WW_FILETYPE_EMBED_CARRY) {
        f->carry_len = WW_FILETYPE_EMBED_CARRY;
        memcpy(f->carry, p + len - f->carry_len, f->carry_len);
    } else {
        size_t keep = f->carry_len + len > WW_FILETYPE_EMBED_CARRY ? WW_FILETYPE_EMBED_CARRY - len
                                                                   : f->carry_len;
        memmove(f->carry, f->carry + f->carry_len - keep, keep);
        memcpy(f->carry + keep, p, len);
        f->carry_len = keep + len;
    }
    f->pos += (int64_t)len;
    return WW_FT_UNKNOWN;
}
