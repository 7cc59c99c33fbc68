/* t/fuzz_filetype.c - libFuzzer target for lib/ww_filetype.c (make fuzz, mk/fuzz.am): the true
 * type of a body's first bytes, the hidden-archive finder fed in two chunks, and the zip end
 * record and central directory readers the deep scanner trusts (bodies are the attacker's).
 * Checks more than "no crash": the finder reports the same first signature whatever the split,
 * inside the body, with the bytes before the second chunk that a caller did not keep, and a tar
 * header exactly where GNU tar starts reading; a zip start is inside
 * the body, before its central directory. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_filetype.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ww_filetype_embed a, b;
    enum ww_filetype ta, tb1, tb2;
    int64_t at_a, at_b1, at_b2, at_b, start, tar_at;
    struct ww_zip_end z;
    size_t split = size > 0 ? data[0] % (size + 1) : 0;

    if ((unsigned)ww_filetype_detect(data, size) >= WW_FT_COUNT)
        abort();
    ww_filetype_embed_init(&a);
    ww_filetype_embed_init(&b);
    if (size > 1 && (data[1] & 1)) { /* a text body's finder: binary cpio headers too */
        ww_filetype_embed_text(&a);
        ww_filetype_embed_text(&b);
    }
    ta = ww_filetype_embed_feed(&a, data, size, &at_a);
    tb1 = ww_filetype_embed_feed(&b, data, split, &at_b1);
    tb2 = tb1 != WW_FT_UNKNOWN ? WW_FT_UNKNOWN
                               : ww_filetype_embed_feed(&b, data + split, size - split, &at_b2);
    at_b = tb1 != WW_FT_UNKNOWN ? at_b1 : at_b2;
    if ((ta == WW_FT_UNKNOWN) != (tb1 == WW_FT_UNKNOWN && tb2 == WW_FT_UNKNOWN))
        abort(); /* found whole, missed split (or the other way) */
    /* the same place, or (the two chunks parted inside the 512-byte block that holds it, while
     * tar headers were looked for) that block's start: it might have been a tar header */
    if (ta != WW_FT_UNKNOWN &&
        (at_a < 0 || (size_t)at_a >= size ||
         (at_a != at_b && !(at_b % 512 == 0 && at_b < at_a && at_a < at_b + 512 &&
                            at_b < (int64_t)split && (int64_t)split < at_b + 512))))
        abort();
    if (tb2 != WW_FT_UNKNOWN && at_b2 < (int64_t)split) {
        /* found in the second chunk, begun in the first: the finder hands back every byte of
         * the first chunk from the archive's start on, as they were (a caller kept none) */
        size_t hl = 0;
        const unsigned char *h = ww_filetype_embed_head(&b, tb2, &hl);
        if (h == NULL || (int64_t)hl < (int64_t)split - at_b2 || (size_t)at_b2 + hl > size ||
            memcmp(h, data + at_b2, hl) != 0)
            abort();
    }
    /* the finder's tar header is where GNU tar starts reading, and none is missed */
    tar_at = ww_filetype_tar_start(data, size);
    if (ta == WW_FT_TAR && at_a != tar_at)
        abort();
    if (tar_at >= 0 && (ta == WW_FT_UNKNOWN || at_a > tar_at))
        abort();
    start = ww_filetype_zip_start(data, size, (int64_t)size, &z);
    if (start >= 0 && (z.cd_at < start || z.cd_size <= 0 || (uint64_t)z.cd_at + z.cd_size > size))
        abort();
    if (size > 16) { /* the same record read from a tail of a longer body */
        int64_t s2 = ww_filetype_zip_start(data + 16, size - 16, (int64_t)size, &z);
        if (s2 >= 0 && (z.cd_at < s2 || z.cd_size <= 0 || (uint64_t)z.cd_at + z.cd_size > size))
            abort();
    }
    {
        uint64_t largest;
        struct ww_zip_local l;
        (void)ww_filetype_zip_members(data, size, &largest, NULL, NULL);
        if (ww_filetype_zip_local(data, size, &l) && (l.head_len > size || l.name_len > size - 30))
            abort(); /* a header that does not fit is not one */
        if (tar_at >= 0) {
            /* the copy a view rewrites reads the same again: nothing left to rewrite, and
             * nothing unusual that was not (from where GNU tar starts reading) */
            const uint8_t *t = data + tar_at;
            size_t n = size - (size_t)tar_at;
            unsigned char *o = malloc(n);
            struct ww_tar_view v, again;
            (void)ww_filetype_tar_unusual(t, n);
            for (int skip = 0; o != NULL && skip < 2; skip++) {
                memcpy(o, t, n);
                ww_filetype_tar_view(t, n, o, skip, &v);
                ww_filetype_tar_view(o, n, NULL, 0, &again);
                if (!v.unusual && (again.unusual || again.changes != 0))
                    abort();
            }
            free(o);
        }
    }
    return 0;
}
