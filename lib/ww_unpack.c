/* lib/ww_unpack.c - readers for what libclamav 1.4 cannot undo (see ww_unpack.h). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <bzlib.h>
#include <limits.h>
#include <lz4.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "ww_filetype.h"
#include "ww_unpack.h"

/* A decoder's output, grown up to <most> (one byte more than the limit: reaching it is OVER). */
struct out {
    unsigned char *p;
    size_t n, cap, most;
};

/* Room after o->n: 1, 0 when the bound is reached (over it), -1 out of memory. */
static int room(struct out *o)
{
    size_t want;
    unsigned char *grown;

    if (o->n < o->cap)
        return 1;
    if (o->n >= o->most)
        return 0;
    want = o->cap == 0 ? 65536 : o->cap > o->most / 2 ? o->most : o->cap * 2;
    want = want < o->most ? want : o->most;
    if ((grown = realloc(o->p, want)) == NULL)
        return -1;
    o->p = grown;
    o->cap = want;
    return 1;
}

/* Every zstd frame of <in> (as zstd -d: one after the other). */
static enum ww_unpack_result unpack_zstd(const unsigned char *in, size_t len, struct out *o)
{
    ZSTD_DCtx *z = ZSTD_createDCtx();
    ZSTD_inBuffer ib = {in, len, 0};
    enum ww_unpack_result res = WW_UNPACK_FAILED;
    size_t left;
    int r;

    if (z == NULL)
        return WW_UNPACK_FAILED;
    ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, WW_UNPACK_ZSTD_WINDOW_LOG);
    for (;;) {
        ZSTD_outBuffer ob;
        if ((r = room(o)) <= 0) {
            res = r == 0 ? WW_UNPACK_OVER : WW_UNPACK_FAILED;
            break;
        }
        ob = (ZSTD_outBuffer){o->p, o->cap, o->n};
        left = ZSTD_decompressStream(z, &ob, &ib);
        o->n = ob.pos;
        if (ZSTD_isError(left))
            break; /* not zstd as zstd -d reads it, or a window over the limit */
        if (ib.pos == ib.size && ob.pos < ob.size) {
            /* all read, all written (a frame that ends mid-input: the next one follows) */
            res = left == 0 ? WW_UNPACK_DONE : WW_UNPACK_FAILED; /* else the last one is cut */
            break;
        }
    }
    ZSTD_freeDCtx(z);
    return res;
}

/* bzip2 streams one after the other, as bzip2 -d: what follows the last one is ignored. */
static enum ww_unpack_result unpack_bzip2(const unsigned char *in, size_t len, struct out *o)
{
    size_t at = 0;
    int r = BZ_OK;

    if (len > UINT_MAX)
        return WW_UNPACK_FAILED;
    for (;;) {
        bz_stream s;
        memset(&s, 0, sizeof(s));
        if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
            return WW_UNPACK_FAILED;
        s.next_in = (char *)(uintptr_t)(in + at);
        s.avail_in = (unsigned)(len - at);
        for (;;) {
            int rr = room(o);
            if (rr <= 0) {
                BZ2_bzDecompressEnd(&s);
                return rr == 0 ? WW_UNPACK_OVER : WW_UNPACK_FAILED;
            }
            s.next_out = (char *)o->p + o->n;
            s.avail_out = (unsigned)(o->cap - o->n < UINT_MAX ? o->cap - o->n : UINT_MAX);
            r = BZ2_bzDecompress(&s);
            o->n = (size_t)((unsigned char *)s.next_out - o->p);
            if (r != BZ_OK || (s.avail_in == 0 && s.avail_out > 0))
                break; /* the stream's end, corrupt, or cut short */
        }
        BZ2_bzDecompressEnd(&s);
        if (r != BZ_STREAM_END)
            return WW_UNPACK_FAILED;
        at = len - s.avail_in;
        if (!(len - at >= 4 && memcmp(in + at, "BZh", 3) == 0))
            return WW_UNPACK_DONE; /* no other stream */
    }
}

/* Runs liblzma's decoder <s> (set up; ended here) over the <len> bytes at <in>, onto <o>. The
 * stream's first <fed> bytes are read from <hdr> instead (a copy of its header with a smaller
 * dictionary; 0: none). <finish>: all of <in> is the stream's and must end it (LZMA_FINISH: a cut
 * is LZMA_BUF_ERROR); else the stream may end before <in> does. *used (not NULL): the input it
 * took. */
static enum ww_unpack_result lzma_run(lzma_stream *s, const unsigned char *in, size_t len,
                                      const unsigned char *hdr, size_t fed, int finish,
                                      struct out *o, size_t *used)
{
    enum ww_unpack_result res = WW_UNPACK_FAILED;
    lzma_ret lr;
    int r;

    s->next_in = fed > 0 ? hdr : in;
    s->avail_in = fed > 0 ? fed : len;
    for (;;) {
        if (fed > 0 && s->avail_in == 0) { /* the header copy read: on with the stream */
            s->next_in = in + fed;
            s->avail_in = len - fed;
            fed = 0;
        }
        if ((r = room(o)) <= 0) {
            res = r == 0 ? WW_UNPACK_OVER : WW_UNPACK_FAILED;
            break;
        }
        s->next_out = o->p + o->n;
        s->avail_out = o->cap - o->n;
        lr = lzma_code(s, finish && fed == 0 ? LZMA_FINISH : LZMA_RUN);
        o->n = (size_t)(s->next_out - o->p);
        if (lr == LZMA_STREAM_END)
            res = WW_UNPACK_DONE;
        if (lr != LZMA_OK || (!finish && s->avail_in == 0 && fed == 0 && s->avail_out > 0))
            break; /* the end, corrupt, a dictionary too large, or cut short */
    }
    if (used != NULL)
        *used = (size_t)(s->next_in >= in && s->next_in <= in + len ? s->next_in - in : 0);
    lzma_end(s);
    return res;
}

/* One xz stream, or one LZMA "alone" stream (<alone>); *used: the input it took. An LZMA
 * dictionary over the memory limit is read as one of WW_UNPACK_LZMA_DICT_MAX (a copy of the
 * header): a match never reaches further back than the output kept, which is smaller. */
#define WW_UNPACK_LZMA_DICT_MAX (128u << 20)
static enum ww_unpack_result unpack_xz(const unsigned char *in, size_t len, struct out *o,
                                       int alone, size_t *used)
{
    lzma_stream s = LZMA_STREAM_INIT;
    unsigned char hdr[13];
    size_t fed = 0;

    *used = 0;
    if ((alone ? lzma_alone_decoder(&s, WW_UNPACK_LZMA_MEMLIMIT)
               : lzma_stream_decoder(&s, WW_UNPACK_LZMA_MEMLIMIT, 0)) != LZMA_OK)
        return WW_UNPACK_FAILED;
    if (alone && len >= sizeof(hdr)) {
        uint32_t dict =
            (uint32_t)in[1] | (uint32_t)in[2] << 8 | (uint32_t)in[3] << 16 | (uint32_t)in[4] << 24;
        if (dict > WW_UNPACK_LZMA_DICT_MAX) {
            memcpy(hdr, in, sizeof(hdr));
            hdr[1] = 0, hdr[2] = 0, hdr[3] = 0, hdr[4] = WW_UNPACK_LZMA_DICT_MAX >> 24;
            fed = sizeof(hdr);
        }
    }
    return lzma_run(&s, in, len, hdr, fed, 0, o, used);
}

/* The dictionary size of an lzip header's coded byte: 2^n minus n/16ths of 2^n/16. */
static uint64_t lzip_dict(unsigned char b)
{
    uint64_t base = UINT64_C(1) << (b & 0x1f);

    return base - (base / 16) * (b >> 5);
}

/* xz streams (padding between them) or, <lzip>, lzip members: all of <in>, one after the other,
 * as xz -d and lzip -d read a file. The first lzip member's dictionary over the memory limit is
 * read as WW_UNPACK_LZMA_DICT_MAX (a copy of the header), as for LZMA. */
static enum ww_unpack_result unpack_xz_all(const unsigned char *in, size_t len, struct out *o,
                                           int lzip)
{
    lzma_stream s = LZMA_STREAM_INIT;
    unsigned char hdr[6];
    size_t fed = 0;

    if ((lzip ? lzma_lzip_decoder(&s, WW_UNPACK_LZMA_MEMLIMIT, LZMA_CONCATENATED)
              : lzma_stream_decoder(&s, WW_UNPACK_LZMA_MEMLIMIT, LZMA_CONCATENATED)) != LZMA_OK)
        return WW_UNPACK_FAILED;
    if (lzip && len >= sizeof(hdr) && lzip_dict(in[5]) > WW_UNPACK_LZMA_DICT_MAX) {
        memcpy(hdr, in, sizeof(hdr));
        hdr[5] = 27; /* 2^27: WW_UNPACK_LZMA_DICT_MAX */
        fed = sizeof(hdr);
    }
    return lzma_run(&s, in, len, hdr, fed, 1, o, NULL); /* all of the input is there */
}

/* Bytes <p> (<n>) onto the output: 1, 0 at the limit (what fits is there), -1 out of memory. */
static int out_put(struct out *o, const unsigned char *p, size_t n)
{
    while (n > 0) {
        size_t k;
        int r = room(o);
        if (r <= 0)
            return r;
        k = o->cap - o->n < n ? o->cap - o->n : n;
        memcpy(o->p + o->n, p, k);
        o->n += k;
        p += k;
        n -= k;
    }
    return 1;
}

/* Unix compress (.Z), as ncompress and gzip -d (its unlzw.c) read it: "\x1f\x9d", a flags byte
 * (the largest code width, 9-16 bits; block mode, in which code 256 clears the table), then LZW
 * codes written least significant bit first, in groups of as many bytes as a code has bits: when
 * the width grows, or the table is cleared, the rest of the group is skipped. A last partial code
 * is padding. */
#define LZW_CODES 65536
static enum ww_unpack_result unpack_compress(const unsigned char *in, size_t len, struct out *o)
{
    uint16_t *prefix = calloc(LZW_CODES, sizeof(*prefix));
    unsigned char *suffix = calloc(LZW_CODES, 1), *stack = malloc(LZW_CODES);
    enum ww_unpack_result res = WW_UNPACK_FAILED;
    uint64_t total, pos = 0, epoch = 0; /* code bits; where the current run of groups began */
    unsigned maxbits, block, n_bits = 9, first = 1, clear = 0;
    uint32_t maxmax, maxcode = (1u << 9) - 1, free_ent, oldcode = 0;
    unsigned char finchar = 0;

    /* gzip -d's test of the flags: a width over 16 bits is an error; reserved bits a warning
     * (the data is still written); under 9 bits, 9-bit codes that never add a table entry */
    if (prefix == NULL || suffix == NULL || stack == NULL || len < 3 || in[0] != 0x1f ||
        in[1] != 0x9d || (in[2] & 0x1f) > 16)
        goto done;
    maxbits = in[2] & 0x1f;
    block = (in[2] & 0x80) != 0;
    maxmax = 1u << maxbits;
    free_ent = block ? 257 : 256;
    for (unsigned i = 0; i < 256; i++)
        suffix[i] = (unsigned char)i;
    in += 3;
    total = (uint64_t)(len - 3) * 8;
    for (;;) {
        size_t sp = LZW_CODES;
        uint32_t code = 0, incode;
        int r;

        if (clear || free_ent > maxcode) {
            /* a clear, or wider codes: the rest of the group is skipped */
            uint64_t g = (uint64_t)n_bits * 8;
            pos = epoch + (pos - epoch + g - 1) / g * g;
            epoch = pos;
            if (clear) /* 9 bits again (unlzw's maxcode then ignores maxbits: 9 grows to 10) */
                n_bits = 9, maxcode = (1u << 9) - 1;
            else
                n_bits++, maxcode = n_bits == maxbits ? maxmax : (1u << n_bits) - 1;
            clear = 0;
            continue;
        }
        if (pos > total || total - pos < n_bits) {
            res = WW_UNPACK_DONE;
            break;
        }
        if ((pos >> 3) + 4 <= len - 3) { /* least significant bit first; 24 bits reach */
            const unsigned char *q = in + (pos >> 3);
            uint32_t w =
                (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
            code = (w >> (pos & 7)) & ((1u << n_bits) - 1);
            pos += n_bits;
        } else {
            for (unsigned b = 0; b < n_bits; b++, pos++)
                code |= (uint32_t)((in[pos >> 3] >> (pos & 7)) & 1) << b;
        }
        if (first) {
            if (code >= 256)
                break; /* corrupt: the first code is a byte */
            first = 0;
            finchar = (unsigned char)code;
            oldcode = code;
            if ((r = out_put(o, &finchar, 1)) <= 0) {
                res = r == 0 ? WW_UNPACK_OVER : WW_UNPACK_FAILED;
                break;
            }
            continue;
        }
        if (code == 256 && block) {
            /* as unlzw: free_ent restarts at 256 and the next code defines entry 256 (never
             * read as a string: 256 is the clear code) with the code before the clear */
            free_ent = 256;
            clear = 1;
            continue;
        }
        incode = code;
        if (code >= free_ent) { /* KwKwK: the string just being defined */
            if (code > free_ent)
                break; /* corrupt */
            stack[--sp] = finchar;
            code = oldcode;
        }
        while (code >= 256) {
            if (sp == 0)
                goto done; /* a chain longer than the table: corrupt */
            stack[--sp] = suffix[code];
            code = prefix[code];
        }
        if (sp == 0)
            break;
        stack[--sp] = finchar = suffix[code];
        if ((r = out_put(o, stack + sp, LZW_CODES - sp)) <= 0) {
            res = r == 0 ? WW_UNPACK_OVER : WW_UNPACK_FAILED;
            break;
        }
        if (free_ent < maxmax) {
            prefix[free_ent] = (uint16_t)oldcode;
            suffix[free_ent] = finchar;
            free_ent++;
        }
        oldcode = incode;
    }
done:
    free(prefix);
    free(suffix);
    free(stack);
    return res;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define LZ4_LEGACY_BLOCK (8u << 20) /* a legacy frame's blocks decode to 8 MiB at most */

/* One lz4 frame at <in>: decoded onto <o>; *used: the input it took. */
static enum ww_unpack_result unpack_lz4_frame(const unsigned char *in, size_t len, struct out *o,
                                              size_t *used)
{
    LZ4F_dctx *d = NULL;
    enum ww_unpack_result res = WW_UNPACK_FAILED;
    size_t at = 0, hint = 1;
    int r;

    *used = 0;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
        return WW_UNPACK_FAILED;
    while (hint != 0) {
        size_t src = len - at, dst;
        if ((r = room(o)) <= 0) {
            res = r == 0 ? WW_UNPACK_OVER : WW_UNPACK_FAILED;
            break;
        }
        dst = o->cap - o->n;
        hint = LZ4F_decompress(d, o->p + o->n, &dst, in + at, &src, NULL);
        o->n += dst;
        at += src;
        if (LZ4F_isError(hint))
            break; /* corrupt, or a checksum that does not match */
        if (hint == 0)
            res = WW_UNPACK_DONE;
        else if (src == 0 && dst == 0)
            break; /* cut short: no input left to take */
    }
    LZ4F_freeDecompressionContext(d);
    *used = at;
    return res;
}

/* lz4 as lz4 -d reads a file: frames, legacy frames (lz4 -l, Linux's initramfs) and skippable
 * frames one after the other. */
static enum ww_unpack_result unpack_lz4(const unsigned char *in, size_t len, struct out *o)
{
    enum ww_unpack_result r = WW_UNPACK_DONE;
    char *tmp = NULL; /* a legacy block's decoded bytes: 8 MiB, one for the file */
    size_t at = 0, used;

    while (at < len && r == WW_UNPACK_DONE) {
        uint32_t magic = len - at >= 4 ? le32(in + at) : 0;

        if ((magic & 0xfffffff0u) == 0x184d2a50u) { /* skippable */
            if (len - at < 8 || le32(in + at + 4) > len - at - 8)
                r = WW_UNPACK_FAILED;
            else
                at += 8 + (size_t)le32(in + at + 4);
        } else if (magic == 0x184c2102u) { /* legacy: blocks of a 4-byte size, 8 MiB decoded */
            at += 4;
            while (r == WW_UNPACK_DONE && len - at >= 4) {
                uint32_t bsize = le32(in + at);
                int n, rr;
                if (bsize == 0x184c2102u || bsize == 0x184d2204u ||
                    (bsize & 0xfffffff0u) == 0x184d2a50u)
                    break; /* the next frame */
                if (bsize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK) || bsize > len - at - 4 ||
                    (tmp == NULL && (tmp = malloc(LZ4_LEGACY_BLOCK)) == NULL)) {
                    r = WW_UNPACK_FAILED;
                    break;
                }
                n = LZ4_decompress_safe((const char *)in + at + 4, tmp, (int)bsize,
                                        (int)LZ4_LEGACY_BLOCK);
                rr = n < 0 ? -1 : out_put(o, (unsigned char *)tmp, (size_t)n);
                if (rr <= 0)
                    r = rr == 0 ? WW_UNPACK_OVER : WW_UNPACK_FAILED;
                at += 4 + (size_t)bsize;
            }
            if (r == WW_UNPACK_DONE && len - at > 0 && len - at < 4)
                r = WW_UNPACK_FAILED;
        } else if (magic != 0x184d2204u) {
            r = WW_UNPACK_FAILED; /* anything else: lz4 -d fails there */
        } else if ((r = unpack_lz4_frame(in + at, len - at, o, &used)) == WW_UNPACK_DONE) {
            at += used;
        }
    }
    free(tmp);
    return r;
}

/* One deflate stream in zlib's format <wbits> (a gzip member: 16 + MAX_WBITS; raw: -MAX_WBITS);
 * *used: the input it took. */
static enum ww_unpack_result unpack_inflate(const unsigned char *in, size_t len, struct out *o,
                                            size_t *used, int wbits)
{
    z_stream zs;
    enum ww_unpack_result res = WW_UNPACK_FAILED;
    int zr = Z_OK, r;
    unsigned char plain[10];

    *used = 0;
    memset(&zs, 0, sizeof(zs));
    if (len > UINT_MAX || inflateInit2(&zs, wbits) != Z_OK)
        return WW_UNPACK_FAILED;
    if (wbits > MAX_WBITS && len >= 2 && in[0] == 0x1f && in[1] == 0x9e) {
        /* gzip 0.5's magic, which gzip -d still takes for a member (zlib does not): its header
         * is read here (an extra field, a name, a comment, a header CRC, which gzip checks over
         * 1f 9e), zlib is handed a plain header of today's magic, then the deflate data */
        size_t h = 10;
        if (len < 10 || in[2] != 8 || (in[3] & 0xe0) != 0)
            goto bad; /* another method; the flags gzip refuses */
        if (in[3] & 4)
            h = len >= 12 ? 12 + ((size_t)in[10] | (size_t)in[11] << 8) : SIZE_MAX;
        for (unsigned f = 8; f <= 16 && h < len; f <<= 1)
            if (in[3] & f) {
                const unsigned char *z = memchr(in + h, 0, len - h);
                h = z != NULL ? (size_t)(z - in) + 1 : SIZE_MAX;
            }
        if (h < len && (in[3] & 2))
            h += 2;
        if (h >= len)
            goto bad;
        memcpy(plain, in, 10);
        plain[1] = 0x8b;
        plain[3] = 0;
        zs.next_in = plain;
        zs.avail_in = sizeof(plain);
        zs.next_out = plain; /* nothing comes out of a header */
        zs.avail_out = 0;
        if (inflate(&zs, Z_NO_FLUSH) != Z_OK || zs.avail_in != 0)
            goto bad;
        in += h;
        len -= h;
        *used = h;
    }
    zs.next_in = (unsigned char *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    for (;;) {
        if ((r = room(o)) <= 0) {
            res = r == 0 ? WW_UNPACK_OVER : WW_UNPACK_FAILED;
            break;
        }
        zs.next_out = o->p + o->n;
        zs.avail_out = (uInt)(o->cap - o->n < UINT_MAX ? o->cap - o->n : UINT_MAX);
        zr = inflate(&zs, Z_NO_FLUSH);
        o->n = (size_t)(zs.next_out - o->p);
        if (zr == Z_STREAM_END)
            res = WW_UNPACK_DONE;
        if (zr != Z_OK || (zs.avail_in == 0 && zs.avail_out > 0))
            break; /* the member's end, corrupt, or cut short */
    }
    *used += len - zs.avail_in;
    inflateEnd(&zs);
    return res;
bad:
    inflateEnd(&zs);
    return WW_UNPACK_FAILED;
}

/* One gzip member (either magic gzip -d takes: 1f 8b, or gzip 0.5's 1f 9e); *used: the input
 * it took. */
static enum ww_unpack_result unpack_gzip(const unsigned char *in, size_t len, struct out *o,
                                         size_t *used)
{
    return unpack_inflate(in, len, o, used, 16 + MAX_WBITS);
}

/* pack (gzip -d's "unpack": 1f 1e, a Huffman code of one tree, System V's pack(1)), one member
 * as gzip 1.12 reads it: the tree's checks, its prefix table of up to 12 bits, the longer codes
 * walked bit by bit, the bytes it reads ahead (*used: the input it took, where gzip -d looks for
 * the next member). A code gzip would read outside its literals (a tree that does not fill up;
 * gzip reads what lies beyond its table then): WW_UNPACK_FAILED, as is a length that does not
 * match the header's (gzip -d has written the data, then fails). */
#define PACK_MAX_BITLEN 25
#define PACK_LITERALS 256
#define PACK_PEEK_MAX 12

static enum ww_unpack_result unpack_pack(const unsigned char *in, size_t len, struct out *o,
                                         size_t *used)
{
    int leaves[PACK_MAX_BITLEN + 1] = {0}, parents[PACK_MAX_BITLEN + 1] = {0};
    int lit_base[PACK_MAX_BITLEN + 1] = {0}, max_leaves = 1, n = 0, nodes = 0, max_len, L,
                                   peek_bits;
    unsigned char literal[PACK_LITERALS + 2], prefix_len[1u << PACK_PEEK_MAX];
    uint64_t orig_len, bitbuf = 0, out0 = o->n;
    size_t at = 7, base = 0;
    unsigned valid = 0, eob, peek_mask;
    int r;

    *used = 0;
    if (len < 7 || in[0] != 0x1f || in[1] != 0x1e)
        return WW_UNPACK_FAILED;
    orig_len = (uint64_t)in[2] << 24 | (uint64_t)in[3] << 16 | (uint64_t)in[4] << 8 | in[5];
    max_len = in[6];
    if (max_len == 0 || max_len > PACK_MAX_BITLEN || len < at + (size_t)max_len)
        return WW_UNPACK_FAILED; /* gzip: "Huffman code > 32 bits", or cut short */
    for (L = 1; L <= max_len; L++) {
        leaves[L] = in[at++];
        if (max_leaves - (L == max_len) < leaves[L])
            return WW_UNPACK_FAILED; /* "too many leaves in Huffman tree" */
        max_leaves = (max_leaves - leaves[L] + 1) * 2 - 1;
        n += leaves[L];
    }
    if (n >= PACK_LITERALS)
        return WW_UNPACK_FAILED;
    leaves[max_len]++; /* the last count is stored less 2; the end code is not sent */
    for (L = 1; L <= max_len; L++) {
        lit_base[L] = (int)base;
        for (int k = leaves[L]; k > 0; k--) {
            if (at >= len || base >= PACK_LITERALS)
                return WW_UNPACK_FAILED;
            literal[base++] = in[at++];
        }
    }
    leaves[max_len]++; /* the end code */
    for (L = max_len; L >= 1; L--) {
        /* at each length the parents come first, then the leaves: the canonical code */
        nodes >>= 1;
        parents[L] = nodes;
        lit_base[L] -= nodes;
        nodes += leaves[L];
    }
    peek_bits = max_len <= PACK_PEEK_MAX ? max_len : PACK_PEEK_MAX;
    {
        size_t fill = (size_t)1 << peek_bits;
        for (L = 1; L <= peek_bits; L++) {
            size_t k = (size_t)leaves[L] << (peek_bits - L);
            k = k < fill ? k : fill;
            memset(prefix_len + fill - k, L, k);
            fill -= k;
        }
        memset(prefix_len, 0, fill); /* longer codes: walked bit by bit */
    }
    peek_mask = (1u << peek_bits) - 1;
    eob = (unsigned)leaves[max_len] - 1;
    for (;;) {
        uint64_t peek;
        int idx;
        unsigned char c;

        while (valid < (unsigned)peek_bits) {
            if (at >= len)
                goto cut; /* gzip: "unexpected end of file", the data before it written */
            bitbuf = bitbuf << 8 | in[at++];
            valid += 8;
        }
        peek = (bitbuf >> (valid - (unsigned)peek_bits)) & peek_mask;
        L = prefix_len[peek];
        if (L > 0) {
            peek >>= peek_bits - L;
        } else {
            uint64_t mask = peek_mask;
            L = peek_bits;
            do {
                L++;
                mask = (mask << 1) + 1;
                if (L > max_len)
                    goto bad; /* gzip reads past its tables here */
                while (valid < (unsigned)L) {
                    if (at >= len)
                        goto cut;
                    bitbuf = bitbuf << 8 | in[at++];
                    valid += 8;
                }
                peek = (bitbuf >> (valid - (unsigned)L)) & mask;
            } while (peek < (uint64_t)parents[L]);
        }
        if (peek == eob && L == max_len)
            break;
        idx = (int)peek + lit_base[L];
        if (idx < 0 || (size_t)idx >= base)
            goto bad;
        c = literal[idx];
        if ((r = out_put(o, &c, 1)) <= 0)
            return r == 0 ? WW_UNPACK_OVER : WW_UNPACK_FAILED;
        valid -= (unsigned)L;
        bitbuf &= valid < 64 ? ((uint64_t)1 << valid) - 1 : UINT64_MAX;
    }
    *used = at;
    return o->n - out0 == orig_len ? WW_UNPACK_DONE : WW_UNPACK_FAILED;
cut:
bad:
    *used = at;
    return WW_UNPACK_FAILED;
}

/* A file as gzip -d (tar xzf, zcat) reads it: members one after the other, each told by its
 * magic: gzip (1f 8b, or gzip 0.5's 1f 9e), pack (1f 1e), then a Unix compress (.Z, 1f 9d)
 * stream that takes the rest. SCO's LZH (1f a0), which gzip -d also reads to the end, is not
 * decoded here: WW_UNPACK_FAILED with what came before. Other bytes after the first member are
 * ignored (gzip -d warns "trailing garbage ignored" and has written the data). */
static enum ww_unpack_result unpack_gzip_cli(const unsigned char *in, size_t len, struct out *o)
{
    size_t at = 0, used;

    while (at < len) {
        const unsigned char *p = in + at;
        size_t n = len - at;
        enum ww_unpack_result r;

        if (n >= 2 && p[0] == 0x1f && p[1] == 0x9d)
            return unpack_compress(p, n, o);
        if (n >= 2 && p[0] == 0x1f && p[1] == 0xa0)
            return WW_UNPACK_FAILED;
        if (n >= 2 && p[0] == 0x1f && p[1] == 0x1e)
            r = unpack_pack(p, n, o, &used);
        else if (n >= 2 && p[0] == 0x1f && (p[1] == 0x8b || (p[1] == 0x9e && n >= 3 && p[2] == 8)))
            r = unpack_gzip(p, n, o, &used); /* (gzip -d stops at another method, and fails) */
        else
            return at > 0 ? WW_UNPACK_DONE : WW_UNPACK_FAILED;
        if (r != WW_UNPACK_DONE)
            return r;
        at += used;
    }
    return WW_UNPACK_DONE;
}

static int zstd_magic(const unsigned char *p, size_t n)
{
    return n >= 4 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd && p[0] >= 0x25 && p[0] <= 0x28;
}

static int skippable(const unsigned char *p, size_t n)
{
    return n >= 8 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18;
}

/* A file as zstd -d reads it: streams of the kinds it knows, each told by its first bytes. */
static enum ww_unpack_result unpack_zstd_cli(const unsigned char *in, size_t len, struct out *o)
{
    static const unsigned char xz[] = {0xfd, '7', 'z', 'X', 'Z', 0};
    size_t at = 0, used;

    while (at < len) {
        const unsigned char *p = in + at;
        size_t n = len - at;
        enum ww_unpack_result r;

        if (skippable(p, n)) {
            uint32_t skip =
                (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
            if (skip > n - 8)
                return WW_UNPACK_FAILED;
            used = 8 + (size_t)skip;
            r = WW_UNPACK_DONE;
        } else if (zstd_magic(p, n)) {
            size_t fsize = ZSTD_findFrameCompressedSize(p, n);
            if (ZSTD_isError(fsize)) {
                /* corrupt or cut short: what it gives is written, as zstd -d writes it */
                r = unpack_zstd(p, n, o);
                return r == WW_UNPACK_OVER ? r : WW_UNPACK_FAILED;
            }
            r = unpack_zstd(p, fsize, o);
            used = fsize;
        } else if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
            r = unpack_gzip(p, n, o, &used);
        } else if (n >= sizeof(xz) && memcmp(p, xz, sizeof(xz)) == 0) {
            r = unpack_xz(p, n, o, 0, &used);
        } else if (n >= 2 && p[0] == 0x5d && p[1] == 0x00) {
            r = unpack_xz(p, n, o, 1, &used);
        } else if (n >= 4 && le32(p) == 0x184d2204u) {
            r = unpack_lz4_frame(p, n, o, &used); /* zstd -d built with liblz4 (Debian's) */
        } else {
            return WW_UNPACK_FAILED; /* anything else: it fails */
        }
        if (r != WW_UNPACK_DONE)
            return r;
        at += used;
    }
    return WW_UNPACK_DONE;
}

enum ww_unpack_result ww_unpack(enum ww_unpack_format fmt, const unsigned char *in, size_t len,
                                size_t limit, unsigned char **out, size_t *outlen)
{
    struct out o = {NULL, 0, 0, limit < SIZE_MAX ? limit + 1 : SIZE_MAX};
    enum ww_unpack_result r;
    size_t used;

    switch (fmt) {
    case WW_UNPACK_ZSTD:
        r = unpack_zstd(in, len, &o);
        break;
    case WW_UNPACK_BZIP2:
        r = unpack_bzip2(in, len, &o);
        break;
    case WW_UNPACK_LZMA:
        r = unpack_xz(in, len, &o, 1, &used);
        break;
    case WW_UNPACK_ZSTD_CLI:
        r = unpack_zstd_cli(in, len, &o);
        break;
    case WW_UNPACK_COMPRESS:
        r = unpack_compress(in, len, &o);
        break;
    case WW_UNPACK_LZ4:
        r = unpack_lz4(in, len, &o);
        break;
    case WW_UNPACK_GZIP_CLI:
        r = unpack_gzip_cli(in, len, &o);
        break;
    case WW_UNPACK_XZ:
    case WW_UNPACK_LZIP:
        r = unpack_xz_all(in, len, &o, fmt == WW_UNPACK_LZIP);
        break;
    default:
        r = WW_UNPACK_FAILED;
    }
    if (o.n > limit)
        o.n = limit; /* OVER: the first <limit> bytes */
    *out = o.p;
    *outlen = o.n;
    return r;
}

/* A raw LZMA1 stream of properties <props> (5 bytes): ending with an end marker, or after <usize>
 * bytes (UINT64_MAX: unknown, the marker ends it), with or without a marker then; a dictionary
 * over WW_UNPACK_LZMA_DICT_MAX read as one of that size, as for LZMA "alone". */
static enum ww_unpack_result unpack_lzma1(const unsigned char *props, const unsigned char *in,
                                          size_t len, uint64_t usize, struct out *o)
{
    lzma_filter pf = {LZMA_FILTER_LZMA1, NULL};
    lzma_options_lzma opt;
    lzma_filter f[2] = {{LZMA_FILTER_LZMA1EXT, &opt}, {LZMA_VLI_UNKNOWN, NULL}};
    lzma_stream s = LZMA_STREAM_INIT;

    if (lzma_properties_decode(&pf, NULL, props, 5) != LZMA_OK)
        return WW_UNPACK_FAILED;
    opt = *(const lzma_options_lzma *)pf.options;
    free(pf.options);
    if (opt.dict_size > WW_UNPACK_LZMA_DICT_MAX)
        opt.dict_size = WW_UNPACK_LZMA_DICT_MAX;
    opt.ext_flags = LZMA_LZMA1EXT_ALLOW_EOPM;
    opt.ext_size_low = (uint32_t)usize; /* (xz 5.4.1 has no lzma_ext_size_set) */
    opt.ext_size_high = (uint32_t)(usize >> 32);
    if (lzma_raw_decoder(&s, f) != LZMA_OK)
        return WW_UNPACK_FAILED;
    return lzma_run(&s, in, len, NULL, 0, 1, o, NULL);
}

/* A raw LZMA2 stream of dictionary property <prop> (7z's one byte) */
static enum ww_unpack_result unpack_lzma2_raw(unsigned prop, const unsigned char *in, size_t len,
                                              struct out *o)
{
    lzma_options_lzma opt;
    lzma_filter f[2] = {{LZMA_FILTER_LZMA2, &opt}, {LZMA_VLI_UNKNOWN, NULL}};
    lzma_stream s = LZMA_STREAM_INIT;

    if (prop > 40 || lzma_lzma_preset(&opt, 0))
        return WW_UNPACK_FAILED;
    opt.dict_size = prop == 40 ? UINT32_MAX : (2u | (prop & 1)) << (prop / 2 + 11);
    if (opt.dict_size > WW_UNPACK_LZMA_DICT_MAX)
        opt.dict_size = WW_UNPACK_LZMA_DICT_MAX;
    if (lzma_raw_decoder(&s, f) != LZMA_OK)
        return WW_UNPACK_FAILED;
    return lzma_run(&s, in, len, NULL, 0, 1, o, NULL);
}

#define PPMD_MEM_MAX 128 /* MiB: a PPMd member asking for more is not read (7-Zip's -mx9: 192) */

/* A zip member libarchive's zip reader undoes and libclamav does not: PPMd (method 98: 7-Zip,
 * WinZip; libarchive, so Windows 11's Explorer). The member alone is handed to it, as a zip of
 * its own (a local header, the data, a directory entry, the end record), with the directory's
 * CRC, which libarchive checks at the end. */
static enum ww_unpack_result unpack_zip_archive(unsigned method, unsigned flags, uint32_t crc,
                                                uint64_t usize, const unsigned char *in, size_t len,
                                                struct out *o)
{
    enum ww_unpack_result res = WW_UNPACK_FAILED;
    struct archive *a = NULL;
    struct archive_entry *ent;
    unsigned char *z, *p;
    size_t zl = 31 + len + 47 + 22;
    int r;

    if (len < 2 || usize >= UINT32_MAX || len >= UINT32_MAX - 200 ||
        ((((unsigned)in[0] | (unsigned)in[1] << 8) >> 4) & 0xff) + 1 > PPMD_MEM_MAX)
        return WW_UNPACK_FAILED; /* a size zip64 would carry, or more memory than allowed */
    if ((z = malloc(zl)) == NULL)
        return WW_UNPACK_FAILED;
    p = z;
#define PUT16(v) (*p++ = (unsigned char)(v), *p++ = (unsigned char)((v) >> 8))
#define PUT32(v) (PUT16((uint32_t)(v)&0xffff), PUT16((uint32_t)(v) >> 16))
    memcpy(p, "PK\3\4", 4), p += 4;
    PUT16(63), PUT16(flags & ~9u), PUT16(method), PUT16(0), PUT16(0x21);
    PUT32(crc), PUT32(len), PUT32(usize), PUT16(1), PUT16(0);
    *p++ = 'x';
    memcpy(p, in, len), p += len;
    memcpy(p, "PK\1\2", 4), p += 4;
    PUT16(63), PUT16(63), PUT16(flags & ~9u), PUT16(method), PUT16(0), PUT16(0x21);
    PUT32(crc), PUT32(len), PUT32(usize), PUT16(1), PUT16(0), PUT16(0), PUT16(0), PUT16(0);
    PUT32(0), PUT32(0);
    *p++ = 'x';
    memcpy(p, "PK\5\6", 4), p += 4;
    PUT16(0), PUT16(0), PUT16(1), PUT16(1), PUT32(47), PUT32(31 + len), PUT16(0);
#undef PUT16
#undef PUT32
    if ((a = archive_read_new()) == NULL ||
        archive_read_support_format_zip_seekable(a) != ARCHIVE_OK ||
        archive_read_open_memory(a, z, zl) != ARCHIVE_OK ||
        archive_read_next_header(a, &ent) != ARCHIVE_OK)
        goto done;
    for (;;) {
        la_ssize_t k;
        if ((r = room(o)) <= 0) {
            res = r == 0 ? WW_UNPACK_OVER : WW_UNPACK_FAILED;
            break;
        }
        k = archive_read_data(a, o->p + o->n, o->cap - o->n);
        if (k < 0)
            break; /* corrupt, a bad CRC (after the data), out of memory */
        if (k == 0) {
            res = WW_UNPACK_DONE;
            break;
        }
        o->n += (size_t)k;
    }
done:
    archive_read_free(a);
    free(z);
    return res;
}

struct ww_unpack_entries {
    struct archive *a;
};

struct ww_unpack_entries *ww_unpack_entries_open(enum ww_unpack_archive kind,
                                                 const unsigned char *in, size_t len)
{
    struct ww_unpack_entries *e = calloc(1, sizeof(*e));

    if (e == NULL || (e->a = archive_read_new()) == NULL ||
        (kind == WW_UNPACK_ARCHIVE_LHA  ? archive_read_support_format_lha(e->a)
         : kind == WW_UNPACK_ARCHIVE_7Z ? archive_read_support_format_7zip(e->a)
                                        : archive_read_support_format_cpio(e->a)) != ARCHIVE_OK ||
        archive_read_open_memory(e->a, in, len) != ARCHIVE_OK) {
        ww_unpack_entries_close(e);
        return NULL;
    }
    return e;
}

int ww_unpack_entries_next(struct ww_unpack_entries *e, size_t limit, enum ww_unpack_result *res,
                           unsigned char **out, size_t *outlen, int *encrypted)
{
    struct out o = {NULL, 0, 0, limit < SIZE_MAX ? limit + 1 : SIZE_MAX};
    struct archive_entry *ent;
    int r;

    *res = WW_UNPACK_FAILED;
    *out = NULL;
    *outlen = 0;
    *encrypted = 0;
    r = archive_read_next_header(e->a, &ent);
    if (r == ARCHIVE_EOF)
        return 0;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        return -1; /* a header that does not read: nothing after it is read either */
    if (archive_entry_is_data_encrypted(ent) > 0) {
        *encrypted = 1;
        return 1;
    }
    for (;;) {
        la_ssize_t k;
        if ((r = room(&o)) <= 0) {
            *res = r == 0 ? WW_UNPACK_OVER : WW_UNPACK_FAILED;
            break;
        }
        k = archive_read_data(e->a, o.p + o.n, o.cap - o.n);
        if (k <= 0) {
            *res = k == 0 ? WW_UNPACK_DONE : WW_UNPACK_FAILED; /* a bad CRC: after the data */
            break;
        }
        o.n += (size_t)k;
    }
    if (*res == WW_UNPACK_OVER)
        o.n = limit;
    if (o.n == 0) {
        free(o.p);
        o.p = NULL;
    }
    *out = o.p;
    *outlen = o.n;
    return 1;
}

long long ww_unpack_lha_find(const unsigned char *b, size_t len, size_t from)
{
    const unsigned char *p = b + (from + 2 < len ? from + 2 : len), *end = b + len;

    while (end - p >= 19 && (p = memchr(p, '-', (size_t)(end - p - 18))) != NULL) {
        const unsigned char *h = p - 2;
        if (p >= b + 2 && p[1] == 'l' && p[4] == '-' &&
            ((p[2] == 'h' && ((p[3] >= '0' && p[3] <= '7') || p[3] == 'd')) ||
             (p[2] == 'z' && (p[3] == 's' || p[3] == '4' || p[3] == '5')))) {
            unsigned level = h[20], sum = 0, n = h[0];
            if (level <= 1 && n >= 20 && (size_t)(end - h) >= (size_t)n + 2) {
                for (unsigned k = 0; k < n; k++)
                    sum += h[2 + k];
                if ((sum & 0xff) == h[1])
                    return (long long)(h - b);
            } else if (level == 2 && ((unsigned)h[0] | (unsigned)h[1] << 8) >= 24) {
                return (long long)(h - b);
            }
        }
        p++;
    }
    return -1;
}

/* 7z's variable-length number (7zFormat.txt): the first byte's high bits say how many bytes
 * follow */
static int sz_num(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    unsigned first, mask = 0x80;
    uint64_t val = 0;

    if (*p >= end)
        return 0;
    first = *(*p)++;
    for (int i = 0; i < 8; i++, mask >>= 1) {
        if ((first & mask) == 0) {
            *v = val | (uint64_t)(first & (mask - 1)) << (8 * i);
            return 1;
        }
        if (*p >= end)
            return 0;
        val |= (uint64_t) * (*p)++ << (8 * i);
    }
    *v = val;
    return 1;
}

/* The coders libclamav 1.4's 7z reader decodes (measured on 7-Zip's output: Copy, LZMA, LZMA2,
 * PPMd, the x86 BCJ and BCJ2 filters, ARM), and AES (libclamav tells an encrypted archive) */
static int sz_coder_known(const unsigned char *id, uint64_t n)
{
    static const struct {
        unsigned char n, id[4];
    } known[] = {{1, {0x00}},
                 {3, {0x03, 0x01, 0x01}},
                 {1, {0x21}},
                 {3, {0x03, 0x04, 0x01}},
                 {4, {0x03, 0x03, 0x01, 0x03}},
                 {4, {0x03, 0x03, 0x01, 0x1b}},
                 {4, {0x03, 0x03, 0x05, 0x01}},
                 {4, {0x06, 0xf1, 0x07, 0x01}}};

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (known[i].n == n && memcmp(known[i].id, id, n) == 0)
            return 1;
    return 0;
}

/* The folders of an UnpackInfo (its 0x0b byte read): each coder's id checked (sz_coder_known;
 * <unknown> counts the others), and, when <one> is given, the only coder's id and properties (an
 * encoded header's). 1 read, 0 not understood. */
struct sz_coder {
    const unsigned char *id, *props;
    uint64_t idlen, plen;
};

static int sz_folders(const unsigned char **p, const unsigned char *end, uint64_t *nfolders,
                      unsigned *unknown, struct sz_coder *one, uint64_t *outs)
{
    uint64_t nf, total_out = 0;

    if (!sz_num(p, end, &nf) || nf > 100000 || *p >= end || *(*p)++ != 0)
        return 0; /* (1: the folders are in another stream: not read here) */
    for (uint64_t f = 0; f < nf; f++) {
        uint64_t nc, tin = 0, tout = 0, k;
        if (!sz_num(p, end, &nc) || nc == 0 || nc > 64)
            return 0;
        for (uint64_t c = 0; c < nc; c++) {
            unsigned flags;
            uint64_t nin = 1, nout = 1, plen = 0, idlen;
            const unsigned char *id, *props = NULL;
            if (*p >= end)
                return 0;
            flags = *(*p)++;
            idlen = flags & 0x0f;
            if ((flags & 0xc0) != 0 || (uint64_t)(end - *p) < idlen)
                return 0;
            id = *p;
            *p += idlen;
            if ((flags & 0x10) &&
                (!sz_num(p, end, &nin) || !sz_num(p, end, &nout) || nin > 64 || nout > 64))
                return 0;
            if (flags & 0x20) {
                if (!sz_num(p, end, &plen) || (uint64_t)(end - *p) < plen)
                    return 0;
                props = *p;
                *p += plen;
            }
            tin += nin;
            tout += nout;
            if (!sz_coder_known(id, idlen))
                (*unknown)++;
            if (one != NULL)
                *one = (struct sz_coder){id, props, idlen, plen};
        }
        if (tout == 0 || tin + 1 < tout)
            return 0;
        for (k = 0; k + 1 < tout; k++) { /* the bind pairs */
            uint64_t a, b;
            if (!sz_num(p, end, &a) || !sz_num(p, end, &b))
                return 0;
        }
        if (tin - (tout - 1) > 1)
            for (k = 0; k < tin - (tout - 1); k++) { /* the packed streams' indexes */
                uint64_t a;
                if (!sz_num(p, end, &a))
                    return 0;
            }
        total_out += tout;
        if (one != NULL && (nf != 1 || nc != 1))
            return 0;
    }
    *nfolders = nf;
    *outs = total_out;
    return 1;
}

/* A digests block for <n> items: all-defined byte or a bit field, then a CRC for each defined */
static int sz_digests(const unsigned char **p, const unsigned char *end, uint64_t n)
{
    uint64_t defined = n;

    if (*p >= end)
        return 0;
    if (*(*p)++ == 0) {
        defined = 0;
        for (uint64_t i = 0; i < n; i++) {
            if (i % 8 == 0 && *p >= end)
                return 0;
            defined += ((*p)[0] >> (7 - i % 8)) & 1;
            if (i % 8 == 7 || i + 1 == n)
                (*p)++;
        }
    }
    if ((uint64_t)(end - *p) < defined * 4)
        return 0;
    *p += defined * 4;
    return 1;
}

/* A StreamsInfo (its 0x04 or the encoded header's first byte read) up to its UnpackInfo's
 * sizes: the pack position and the first pack size, the folders' coders (sz_folders), the
 * largest output of any coder (*largest, kept), and the last one's (an encoded header's). 1
 * read. */
static int sz_streams(const unsigned char **p, const unsigned char *end, uint64_t *pack_pos,
                      uint64_t *pack_size, unsigned *unknown, struct sz_coder *one,
                      uint64_t *unpack_size, uint64_t *largest, uint64_t *folders)
{
    uint64_t nps = 0, nf = 0, outs = 0, v;

    *pack_size = 0;
    *unpack_size = 0;
    if (*p < end && **p == 0x06) { /* PackInfo */
        (*p)++;
        if (!sz_num(p, end, pack_pos) || !sz_num(p, end, &nps) || nps > 100000)
            return 0;
        for (;;) {
            unsigned id;
            if (*p >= end)
                return 0;
            id = *(*p)++;
            if (id == 0)
                break;
            if (id == 0x09) {
                for (uint64_t i = 0; i < nps; i++)
                    if (!sz_num(p, end, i == 0 ? pack_size : &v))
                        return 0;
            } else if (id != 0x0a || !sz_digests(p, end, nps)) {
                return 0;
            }
        }
    }
    if (*p >= end || **p != 0x07) /* UnpackInfo */
        return *p < end && (**p == 0x00 || **p == 0x08);
    (*p)++;
    if (*p >= end || *(*p)++ != 0x0b || !sz_folders(p, end, &nf, unknown, one, &outs))
        return 0;
    *folders = nf;
    if (*p >= end || *(*p)++ != 0x0c)
        return 0;
    for (uint64_t i = 0; i < outs; i++) {
        if (!sz_num(p, end, &v))
            return 0;
        *largest = v > *largest ? v : *largest;
        if (i + 1 == outs)
            *unpack_size = v;
    }
    return 1;
}

int ww_unpack_7z_coders(const unsigned char *b, size_t len, struct ww_unpack_7z_info *info)
{
    uint64_t *largest = &info->largest, hf = 0;
    const unsigned char *h, *p, *end;
    unsigned char *dec = NULL;
    uint64_t off, size, pack_pos, pack_size, unpack_size;
    unsigned unknown = 0;
    int ok = -1;

    memset(info, 0, sizeof(*info));
    if (len < 32 || memcmp(b, "7z\xbc\xaf\x27\x1c", 6) != 0)
        return -1;
    off = le32(b + 12) | (uint64_t)le32(b + 16) << 32;
    size = le32(b + 20) | (uint64_t)le32(b + 24) << 32;
    if (off > len - 32 || size == 0 || size > len - 32 - off)
        return -1;
    info->header = size;
    h = b + 32 + off;
    end = h + size;
    if (h[0] == 0x17) {
        /* an encoded header: one LZMA folder, decoded here */
        struct sz_coder one = {0};
        struct out o = {NULL, 0, 0, 0};
        p = h + 1;
        int lzma2;
        if (!sz_streams(&p, end, &pack_pos, &pack_size, &unknown, &one, &unpack_size, largest,
                        &hf) ||
            unpack_size == 0 || pack_pos > len - 32 || pack_size > len - 32 - pack_pos)
            return -1;
        lzma2 = one.idlen == 1 && one.id[0] == 0x21 && one.plen == 1;
        if (!lzma2 && !(one.idlen == 3 && memcmp(one.id, "\x03\x01\x01", 3) == 0 && one.plen == 5))
            return -1; /* a header coded otherwise (AES: encrypted headers) */
        info->header = unpack_size;
        if (unpack_size > WW_UNPACK_7Z_HEADER_MAX)
            return -1; /* (review 17, D1: 10 KB of input asked 64 MiB of decoding) */
        o.most = (size_t)unpack_size + 1;
        if ((lzma2 ? unpack_lzma2_raw(one.props[0], b + 32 + pack_pos, (size_t)pack_size, &o)
                   : unpack_lzma1(one.props, b + 32 + pack_pos, (size_t)pack_size, unpack_size,
                                  &o)) != WW_UNPACK_DONE ||
            o.n != unpack_size) {
            free(o.p);
            return -1;
        }
        dec = o.p;
        h = dec;
        end = dec + o.n;
        unknown = 0;
    }
    p = h;
    if (p < end && *p++ == 0x01) {   /* the header */
        if (p < end && *p == 0x02) { /* archive properties: skipped */
            p++;
            for (;;) {
                uint64_t t, n;
                if (!sz_num(&p, end, &t))
                    goto done;
                if (t == 0)
                    break;
                if (!sz_num(&p, end, &n) || n > (uint64_t)(end - p))
                    goto done;
                p += n;
            }
        }
        if (p < end && *p == 0x04) { /* the main streams: their coders */
            p++;
            if (sz_streams(&p, end, &pack_pos, &pack_size, &unknown, NULL, &unpack_size, largest,
                           &info->folders))
                ok = unknown == 0;
        } else if (p < end && (*p == 0x05 || *p == 0x00)) {
            ok = 1; /* files only (empty ones), or none */
        }
    }
done:
    free(dec);
    return ok;
}

long long ww_unpack_7z_find(const unsigned char *b, size_t len, size_t from, int *zeroed)
{
    static const unsigned char sig[6] = {'7', 'z', 0xbc, 0xaf, 0x27, 0x1c};
    static const unsigned char zero[24];
    const unsigned char *p;

    *zeroed = 0;
    while (from < len && len - from >= 32 &&
           (p = memmem(b + from, len - from, sig, sizeof(sig))) != NULL) {
        size_t at = (size_t)(p - b);
        if (len - at >= 32 && p[6] == 0) { /* major version 0: 7-Zip opens no other */
            if (crc32(0, p + 12, 20) == le32(p + 8))
                return (long long)at;
            if (memcmp(p + 8, zero, 24) == 0) {
                *zeroed = 1; /* 7-Zip finds the header from the file's end (review 17, F4) */
                return (long long)at;
            }
        }
        from = at + 1;
    }
    return -1;
}

void ww_unpack_entries_close(struct ww_unpack_entries *e)
{
    if (e == NULL)
        return;
    if (e->a != NULL)
        archive_read_free(e->a);
    free(e);
}

enum ww_unpack_result ww_unpack_zip_member(unsigned method, unsigned flags, uint32_t crc,
                                           uint64_t usize, const unsigned char *in, size_t len,
                                           size_t limit, unsigned char **out, size_t *outlen)
{
    struct out o = {NULL, 0, 0, limit < SIZE_MAX ? limit + 1 : SIZE_MAX};
    enum ww_unpack_result r;

    *out = NULL;
    *outlen = 0;
    if ((flags & 1) || !(ww_filetype_zip_method_unpacked(method) || method == 8 || method == 12))
        return WW_UNPACK_FAILED;       /* encrypted, or not a method read here */
    if (method == 8 || method == 12) { /* libclamav's own: for ww_unpack_zip_longer's members */
        size_t used;
        r = method == 8 ? unpack_inflate(in, len, &o, &used, -MAX_WBITS)
                        : unpack_bzip2(in, len, &o);
        if (o.n > limit)
            o.n = limit;
        *out = o.p;
        *outlen = o.n;
        return r;
    }
    if (method == 98) {
        r = unpack_zip_archive(method, flags, crc, usize, in, len, &o);
        if (o.n > limit)
            o.n = limit;
        *out = o.p;
        *outlen = o.n;
        return r;
    }
    if (method == 93)
        return ww_unpack(WW_UNPACK_ZSTD, in, len, limit, out, outlen);
    if (method == 95)
        return ww_unpack(WW_UNPACK_XZ, in, len, limit, out, outlen);
    /* LZMA: major, minor, the properties' size (5), the properties, the stream: ended by a
     * marker (flag 2 says there is one) or by the size; the readers (Python's zipfile,
     * libarchive) take either */
    if (len < 9 || (in[2] | in[3] << 8) != 5)
        return WW_UNPACK_FAILED;
    r = unpack_lzma1(in + 4, in + 9, len - 9, (flags & 2) ? UINT64_MAX : usize, &o);
    if (o.n > limit)
        o.n = limit;
    *out = o.p;
    *outlen = o.n;
    return r;
}

int ww_unpack_bzip2_streams(const unsigned char *b, size_t len)
{
    const unsigned char *q = b + 1, *end = b + len;

    if (len < 14)
        return 0;
    while (end - q >= 10 && (q = memchr(q, 'B', (size_t)(end - q - 9))) != NULL) {
        if (q[1] == 'Z' && q[2] == 'h' && q[3] >= '1' && q[3] <= '9' &&
            memcmp(q + 4, "1AY&SY", 6) == 0)
            return 1;
        q++;
    }
    return 0;
}

/* One deflate stream in zlib's format <wbits> (gzip: 16 + MAX_WBITS; raw: -MAX_WBITS) at <in>,
 * decoded with the output thrown away until it ends or has given more than <most> bytes: 1 when it
 * ended (*got: the bytes it gave, *used: the input it took), else 0 (corrupt, cut short, or past
 * <most>). */
static int inflate_count(const unsigned char *in, size_t len, int wbits, uint64_t most,
                         uint64_t *got, size_t *used)
{
    unsigned char scratch[16384]; /* written, never read: only the count matters */
    z_stream zs;
    int zr = Z_OK;

    *got = 0;
    *used = 0;
    memset(&zs, 0, sizeof(zs));
    if (len > UINT_MAX || inflateInit2(&zs, wbits) != Z_OK)
        return 0;
    zs.next_in = (unsigned char *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    while (zr == Z_OK && *got <= most) {
        zs.next_out = scratch;
        zs.avail_out = sizeof(scratch);
        zr = inflate(&zs, Z_NO_FLUSH);
        *got += sizeof(scratch) - zs.avail_out;
        if (zr == Z_OK && zs.avail_in == 0 && zs.avail_out > 0)
            zr = Z_BUF_ERROR; /* cut short */
    }
    *used = len - zs.avail_in;
    inflateEnd(&zs);
    return zr == Z_STREAM_END;
}

int ww_unpack_zip_longer(unsigned method, const unsigned char *in, size_t len, uint64_t usize)
{
    uint64_t got = 0;
    size_t used;

    if (usize == UINT64_MAX || len > UINT_MAX)
        return 0;
    if (method == 8) {
        inflate_count(in, len, -MAX_WBITS, usize, &got, &used); /* ended or not: the count */
    } else if (method == 12) {
        unsigned char scratch[16384]; /* written, never read: only the count matters */
        bz_stream bs;
        int br = BZ_OK;
        memset(&bs, 0, sizeof(bs));
        if (BZ2_bzDecompressInit(&bs, 0, 0) != BZ_OK)
            return 0;
        bs.next_in = (char *)(uintptr_t)in;
        bs.avail_in = (unsigned)len;
        while (br == BZ_OK && got <= usize) {
            bs.next_out = (char *)scratch;
            bs.avail_out = sizeof(scratch);
            br = BZ2_bzDecompress(&bs);
            got += sizeof(scratch) - bs.avail_out;
            if (br == BZ_OK && bs.avail_in == 0 && bs.avail_out > 0)
                break; /* cut short */
        }
        BZ2_bzDecompressEnd(&bs);
    }
    return got > usize;
}

/* Whether b[at..] starts a member gzip -d reads after a gzip one and libclamav does not: gzip
 * 0.5's magic, pack, .Z, SCO's LZH */
static int gzip_cli_magic(const unsigned char *b, size_t len, size_t at)
{
    return len - at >= 3 && b[at] == 0x1f &&
           ((b[at + 1] == 0x9e && b[at + 2] == 8) || b[at + 1] == 0x1e || b[at + 1] == 0x9d ||
            b[at + 1] == 0xa0);
}

int ww_unpack_gzip_cli_more(const unsigned char *b, size_t len, size_t limit)
{
    size_t at = 0, used;
    uint64_t inflated = 0, got;
    const unsigned char *q;

    if (gzip_cli_magic(b, len, 0))
        return 1; /* the first member already: libclamav reads none of it */
    if (len < 20 || b[0] != 0x1f || b[1] != 0x8b)
        return 0;
    for (q = b + 18; (q = memchr(q, 0x1f, len - (size_t)(q - b))) != NULL; q++)
        if (gzip_cli_magic(b, len, (size_t)(q - b)))
            break;
    if (q == NULL)
        return 0; /* no such magic anywhere after the first member's least size */
    while (at + 2 <= len && b[at] == 0x1f && b[at + 1] == 0x8b) {
        if (!inflate_count(b + at, len - at, 16 + MAX_WBITS, limit - inflated, &got, &used) ||
            (inflated += got) > limit)
            return 0; /* corrupt, cut short, or past the limit: libclamav's reading stands */
        at += used;
    }
    return gzip_cli_magic(b, len, at);
}

int ww_unpack_zstd_cli_more(const unsigned char *b, size_t len)
{
    static const unsigned char xz[] = {0xfd, '7', 'z', 'X', 'Z'};
    const unsigned char *q;

    if (len < 8 || !((b[0] == 0x1f && b[1] == 0x8b) || memcmp(b, xz, sizeof(xz)) == 0 ||
                     (b[0] == 0x5d && b[1] == 0x00 && ww_filetype_lzma_header(b, len) > 0)))
        return 0;
    for (q = b + 1; (q = memmem(q, len - (size_t)(q - b), "\xb5\x2f\xfd", 3)) != NULL; q++)
        if (q[-1] >= 0x25 && q[-1] <= 0x28)
            return 1;
    return memmem(b + 1, len - 1, "\x04\x22\x4d\x18", 4) != NULL;
}

int ww_unpack_ar_next(const unsigned char *b, size_t len, size_t *pos, struct ww_ar_member *m)
{
    size_t at = *pos, i;
    const unsigned char *h;
    uint64_t size = 0, skip = 0;

    if (at >= len || (len - at == 1 && b[at] == '\n'))
        return 0; /* the end (a last pad byte, or none) */
    if (len - at < 60)
        return -1;
    h = b + at;
    if (h[58] != '`' || h[59] != '\n')
        return -1;
    for (i = 48; i < 58 && h[i] >= '0' && h[i] <= '9'; i++)
        size = size * 10 + (uint64_t)(h[i] - '0');
    if (i == 48)
        return -1;
    for (; i < 58; i++)
        if (h[i] != ' ')
            return -1;
    if (memcmp(h, "#1/", 3) == 0) { /* BSD: the name comes first in the data */
        for (i = 3; i < 16 && h[i] >= '0' && h[i] <= '9'; i++)
            skip = skip * 10 + (uint64_t)(h[i] - '0');
        if (i == 16)
            return -1; /* digits to the field's end: GNU ar reads on into the date */
    }
    at += 60;
    if (size > len - at || skip > size)
        return -1; /* cut short: ar x fails on it too, after what came before */
    m->at = at + (size_t)skip;
    m->len = (size_t)(size - skip);
    at += (size_t)size + (size & 1);
    *pos = at < len ? at : len; /* the last member's pad byte may be left out */
    return 1;
}

long long ww_unpack_rpm_payload(const unsigned char *b, size_t len)
{
    static const unsigned char lead[4] = {0xed, 0xab, 0xee, 0xdb};
    static const unsigned char hmagic[4] = {0x8e, 0xad, 0xe8, 0x01};
    uint64_t off = 96;
    int h;

    if (len < 96 || memcmp(b, lead, 4) != 0)
        return -1;
    /* the signature header, the header, and any more (libarchive's rpm filter reads headers
     * while they come, zero bytes between them and before the payload skipped: review 19, F12) */
    for (h = 0; h < 64; h++) {
        uint64_t nindex, hsize;
        while (h > 0 && off < len && b[off] == 0 && off - 96 < ((uint64_t)1 << 20))
            off++;
        if (off + 16 > len || memcmp(b + off, hmagic, 4) != 0)
            break;
        nindex = (uint64_t)b[off + 8] << 24 | (uint64_t)b[off + 9] << 16 |
                 (uint64_t)b[off + 10] << 8 | b[off + 11];
        hsize = (uint64_t)b[off + 12] << 24 | (uint64_t)b[off + 13] << 16 |
                (uint64_t)b[off + 14] << 8 | b[off + 15];
        if (nindex > 0xffff || hsize > ((uint64_t)256 << 20)) /* rpm's HEADER_*_MAX */
            return -1;
        off += 16 + 16 * nindex + hsize;
        if (off > len)
            return -1;
        if (h == 0)
            off = (off + 7) & ~(uint64_t)7; /* the signature header is padded to 8 bytes */
    }
    return h >= 2 && off <= len ? (long long)off : -1;
}

/* Whether <n> bytes at <p> are digits of base 16 (<hex>) or 8. */
static int digits_at(const unsigned char *p, size_t n, int hex)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (!((c >= '0' && c <= '7') || (hex && ((c >= '8' && c <= '9') || (c >= 'a' && c <= 'f') ||
                                                 (c >= 'A' && c <= 'F')))))
            return 0;
    }
    return 1;
}

/* Whether a stream of <kind> starts at <h> (<n> bytes to the end). */
static int found_valid(int kind, const unsigned char *h, size_t n)
{
    switch (kind) {
    case WW_FOUND_GZIP: /* (7-Zip takes any extra flags and OS byte: review 19, F9) */
        return n >= 18 && (h[3] & 0xe0) == 0;
    case WW_FOUND_XZ:
        return n >= 32 && h[6] == 0 && (h[7] & 0xf0) == 0 &&
               crc32(0L, h + 6, 2) ==
                   ((uLong)h[8] | (uLong)h[9] << 8 | (uLong)h[10] << 16 | (uLong)h[11] << 24);
    case WW_FOUND_BZIP2:
        return n >= 14 && h[3] >= '1' && h[3] <= '9' && memcmp(h + 4, "1AY&SY", 6) == 0;
    case WW_FOUND_ZSTD:
        return n >= 9 && (h[4] & 0x08) == 0;
    case WW_FOUND_CPIO:
        if (h[0] != '0') { /* binary: 26-byte header (its endianness by the magic), a link or
                            * more, a name of a byte or more ending in its only NUL, the data
                            * inside the file (any mode, any name bytes: 7-Zip takes them,
                            * review 19, F9) */
            int le = h[0] == 0xc7;
            unsigned ns, nlink;
            uint64_t fs;
            if (n < 28)
                return 0;
            nlink = le ? (unsigned)h[12] | (unsigned)h[13] << 8 : (unsigned)h[12] << 8 | h[13];
            ns = le ? (unsigned)h[20] | (unsigned)h[21] << 8 : (unsigned)h[20] << 8 | h[21];
            fs = le ? (uint64_t)(h[22] | h[23] << 8) << 16 | (uint64_t)(h[24] | h[25] << 8)
                    : (uint64_t)(h[22] << 8 | h[23]) << 16 | (uint64_t)(h[24] << 8 | h[25]);
            if (nlink == 0 || ns < 2 || 26 + (size_t)ns > n || h[26 + ns - 1] != 0 ||
                memchr(h + 26, 0, ns - 1) != NULL || 26 + (uint64_t)ns + fs > n)
                return 0;
            return 1;
        }
        return n >= 110 && (h[5] == '7' ? digits_at(h + 6, 6, 0) : digits_at(h + 6, 8, 1));
    }
    return 0;
}

long long ww_unpack_stream_find(const unsigned char *b, size_t len, size_t from, int *kind)
{
    static const struct {
        int kind;
        const char *magic;
        size_t mlen;
    } magics[] = {
        {WW_FOUND_GZIP, "\x1f\x8b\x08", 3},
        {WW_FOUND_XZ,
         "\xfd"
         "7zXZ\0",
         6},
        {WW_FOUND_BZIP2, "BZh", 3},
        {WW_FOUND_ZSTD, "\x28\xb5\x2f\xfd", 4},
        {WW_FOUND_CPIO, "070701", 6},
        {WW_FOUND_CPIO, "070702", 6},
        {WW_FOUND_CPIO, "070707", 6},
        {WW_FOUND_CPIO, "\xc7\x71", 2},
        {WW_FOUND_CPIO, "\x71\xc7", 2},
    };
    long long best = -1;

    *kind = 0;
    for (size_t m = 0; m < sizeof(magics) / sizeof(magics[0]); m++) {
        size_t at = from;
        while (at < len) {
            /* one that starts after the best so far cannot be the first */
            size_t end = best >= 0 && (size_t)best + magics[m].mlen < len
                             ? (size_t)best + magics[m].mlen - 1
                             : len;
            const unsigned char *h;
            if (at >= end || end - at < magics[m].mlen)
                break;
            h = memmem(b + at, end - at, magics[m].magic, magics[m].mlen);
            if (h == NULL)
                break;
            if (found_valid(magics[m].kind, h, (size_t)(b + len - h))) {
                best = h - b;
                *kind = magics[m].kind;
                break;
            }
            at = (size_t)(h - b) + 1;
        }
    }
    return best;
}
