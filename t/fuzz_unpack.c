/* t/fuzz_unpack.c - libFuzzer target for lib/ww_unpack.c (make fuzz, mk/fuzz.am): every reader
 * over attacker bytes (lib/ww_diskimage.c too). The first byte picks the format (its low 4 bits:
 * 0-8 a ww_unpack format, 9 an LHA archive (a 7z when the next byte is odd), 10 a disk image (an
 * ISO 9660 image from sector 16 on when the next byte is odd, a UDF image when its low bits are 2,
 * a dynamic VHD or a VHDX when 3), 11-15 a zip member, its method from the next byte) and a limit;
 * checks more than "no crash": the output never passes the limit, a result is one of the three, an
 * ar member lies inside the archive and the walk always moves on. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ww_diskimage.h"
#include "ww_filetype.h"
#include "ww_iso.h"
#include "ww_udf.h"
#include "ww_unpack.h"

/* A reader's answer as ww_unpack promises it: one of the three, never past the limit, bytes
 * only with a buffer; then the buffer freed. */
static void checked(enum ww_unpack_result r, unsigned char **out, size_t *n, size_t limit)
{
    if ((r != WW_UNPACK_DONE && r != WW_UNPACK_OVER && r != WW_UNPACK_FAILED) || *n > limit ||
        (*n > 0 && *out == NULL))
        abort();
    free(*out);
    *out = NULL;
    *n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *out = NULL;
    size_t n = 0, limit, pos = 8;
    struct ww_ar_member m;
    enum ww_unpack_result r;
    int a;

    if (size < 1)
        return 0;
    limit = (size_t)(data[0] >> 4) * 16384 + 1; /* 1 byte to about 256 KiB */
    if ((data[0] & 15) <= WW_UNPACK_GZIP_CLI) {
        r = ww_unpack((enum ww_unpack_format)(data[0] & 15), data + 1, size - 1, limit, &out, &n);
    } else if ((data[0] & 15) == WW_UNPACK_GZIP_CLI + 1 ||
               (data[0] & 15) == WW_UNPACK_GZIP_CLI + 2) {
        /* an LHA archive (7z when the next byte is odd), or a disk image: the first files */
        int lha = (data[0] & 15) == WW_UNPACK_GZIP_CLI + 1;
        long k, cnt = lha ? 0 : ww_diskimage_count(data + 1, size - 1, 4);
        struct ww_unpack_entries *en = NULL;
        if (!lha && size >= 2 && (data[1] & 3) == 3) {
            /* a dynamic VHD or a VHDX: the disk inside, within the limit */
            r = data[2 < size ? 2 : 0] == 'v'
                    ? ww_diskimage_vhdx(data + 2, size - 2, limit, &out, &n)
                    : ww_diskimage_vhd(data + 2, size - 2, limit, &out, &n);
            checked(r, &out, &n, limit);
        }
        if (!lha && size >= 2 && (data[1] & 3) == 2) {
            /* a UDF image (lib/ww_udf): its anchor at its last sector (of 512 bytes, small) */
            struct ww_udf *udf = ww_udf_open(data + 2, size - 2, 4);
            cnt = ww_udf_count(udf);
            if (cnt < -1 || cnt > 5 || (udf == NULL && cnt != -1))
                abort();
            for (k = 0; k < cnt && k < 4; k++) {
                r = ww_udf_file(udf, data + 2, size - 2, (size_t)k, limit, &out, &n);
                checked(r, &out, &n, limit);
            }
            ww_udf_close(udf);
            cnt = 0;
        }
        if (!lha && size >= 2 && (data[1] & 1)) {
            /* an ISO 9660 image (lib/ww_iso) whose sector 16 on is data + 2 */
            size_t ilen = 16 * 2048 + size - 2;
            unsigned char *img = calloc(1, ilen);
            struct ww_iso *iso;
            if (img == NULL)
                return 0;
            memcpy(img + 16 * 2048, data + 2, size - 2);
            (void)ww_iso_has_udf(img, ilen);
            iso = ww_iso_open(img, ilen, 4);
            cnt = ww_iso_count(iso);
            if (cnt < -1 || cnt > 5 || (iso == NULL && cnt != -1))
                abort();
            for (k = 0; k < cnt && k < 4; k++) {
                r = ww_iso_file(iso, img, ilen, (size_t)k, limit, &out, &n);
                checked(r, &out, &n, limit);
            }
            ww_iso_close(iso);
            free(img);
            cnt = 0;
        }
        if (cnt < -1 || cnt > 5)
            abort();
        (void)ww_filetype_disk_kind(data + 1, size - 1);
        if (lha && size >= 2 && (data[1] & 1)) {
            /* as lib/ww_clamav.c hands a 7z to libarchive: only one whose header reads here,
             * and no output over the limit */
            struct ww_unpack_7z_info info;
            if (ww_unpack_7z_coders(data + 2, size - 2, &info) < 0 || info.largest > limit)
                lha = 0;
        }
        if (lha && size >= 2)
            en = ww_unpack_entries_open(data[1] & 1 ? WW_UNPACK_ARCHIVE_7Z : WW_UNPACK_ARCHIVE_LHA,
                                        data + 2, size - 2);
        r = WW_UNPACK_DONE;
        for (k = 0; k < 4 && (en != NULL || k < cnt); k++) {
            int enc = 0, got = 1;
            if (en != NULL)
                got = ww_unpack_entries_next(en, limit, &r, &out, &n, &enc);
            else
                r = ww_diskimage_file(data + 1, size - 1, (size_t)k, limit, &out, &n);
            if (got < -1 || got > 1)
                abort();
            checked(r, &out, &n, limit);
            if (got <= 0)
                break;
        }
        ww_unpack_entries_close(en);
    } else if (size >= 2) {
        /* a zip member: LZMA (end marker or not, by the size in the next byte), zstd, xz or PPMd */
        static const unsigned methods[] = {14, 93, 95, 98}; /* (first byte 11-15) */
        r = ww_unpack_zip_member(methods[data[1] & 3], (data[1] >> 2) & 3, 0, data[1] >> 4,
                                 data + 2, size - 2, limit, &out, &n);
    } else {
        return 0;
    }
    checked(r, &out, &n, limit);
    (void)ww_unpack_bzip2_streams(data, size);
    (void)ww_unpack_zstd_cli_more(data, size);
    (void)ww_unpack_gzip_cli_more(data, size, 1 << 20);
    {
        long long pay = ww_unpack_rpm_payload(data, size), at = 0, prev = 0;
        int kind = 0;
        if (pay < -1 || pay > (long long)size)
            abort();
        /* the stream finder moves on, stays inside, and says a kind */
        for (int k = 0;
             k < 64 && (at = ww_unpack_stream_find(data, size, (size_t)at + 1, &kind)) >= 0; k++) {
            if (at <= prev || at >= (long long)size || kind < WW_FOUND_GZIP || kind > WW_FOUND_CPIO)
                abort();
            prev = at;
        }
    }
    if (size >= 8 && memcmp(data, "!<arch>\n", 8) == 0) {
        size_t before = pos;
        while ((a = ww_unpack_ar_next(data, size, &pos, &m)) > 0) {
            if (m.at > size || m.len > size - m.at || pos > size || pos <= before)
                abort();
            before = pos;
        }
    }
    return 0;
}
