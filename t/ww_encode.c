/* t/ww_encode.c - test helper: encodes stdin to stdout with each coding named on the command line,
 * in order (the first is applied first, as in Content-Encoding: gzip, br). Codings: gzip,
 * deflate (zlib), rawdeflate, br, zstd, zstd-wide (a 16 MiB window: over the decoder's cap), lz4
 * (an lz4 frame, as lz4 writes it: not a Content-Encoding; for the deep scanner's tests). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

static unsigned char *zlib_pack(const unsigned char *in, size_t len, int bits, size_t *outlen)
{
    z_stream zs;
    size_t cap = compressBound((uLong)len) + 64;
    unsigned char *out = malloc(cap);

    memset(&zs, 0, sizeof(zs));
    if (out == NULL || deflateInit2(&zs, 9, Z_DEFLATED, bits, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    zs.next_in = (unsigned char *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        return NULL;
    *outlen = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static unsigned char *pack(const char *coding, const unsigned char *in, size_t len, size_t *outlen)
{
    unsigned char *out;
    size_t cap;

    if (strcmp(coding, "gzip") == 0)
        return zlib_pack(in, len, 31, outlen);
    if (strcmp(coding, "deflate") == 0)
        return zlib_pack(in, len, 15, outlen);
    if (strcmp(coding, "rawdeflate") == 0)
        return zlib_pack(in, len, -15, outlen);
    if (strcmp(coding, "br") == 0) {
        cap = BrotliEncoderMaxCompressedSize(len) + 64;
        out = malloc(cap);
        *outlen = cap;
        if (out == NULL || !BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW,
                                                  BROTLI_MODE_GENERIC, len, in, outlen, out))
            return NULL;
        return out;
    }
    if (strcmp(coding, "lz4") == 0) {
        cap = LZ4F_compressFrameBound(len, NULL);
        out = malloc(cap);
        if (out == NULL)
            return NULL;
        *outlen = LZ4F_compressFrame(out, cap, in, len, NULL);
        return LZ4F_isError(*outlen) ? NULL : out;
    }
    if (strcmp(coding, "zstd") == 0 || strcmp(coding, "zstd-wide") == 0) {
        ZSTD_CCtx *c = ZSTD_createCCtx();
        size_t r;

        cap = ZSTD_compressBound(len) + 1024;
        out = malloc(cap);
        if (c == NULL || out == NULL)
            return NULL;
        ZSTD_outBuffer ob = {out, cap, 0};
        ZSTD_inBuffer ib = {in, len, 0};

        if (coding[4] == '-')
            ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 24);
        /* Streamed: the frame does not know its size, so it keeps its window. */
        r = ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_continue);
        while (!ZSTD_isError(r) && (r = ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end)) != 0)
            ;
        ZSTD_freeCCtx(c);
        if (ZSTD_isError(r))
            return NULL;
        *outlen = ob.pos;
        return out;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    size_t len = 0, cap = 1 << 16, n;
    unsigned char *buf = malloc(cap);

    while (buf != NULL && (n = fread(buf + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    if (buf == NULL)
        return 1;
    for (int i = 1; i < argc; i++) {
        size_t outlen = 0;
        unsigned char *out = pack(argv[i], buf, len, &outlen);
        if (out == NULL) {
            fprintf(stderr, "ww_encode: cannot encode with %s\n", argv[i]);
            free(buf);
            return 2;
        }
        free(buf);
        buf = out;
        len = outlen;
    }
    n = fwrite(buf, 1, len, stdout);
    free(buf);
    return n == len ? 0 : 1;
}
