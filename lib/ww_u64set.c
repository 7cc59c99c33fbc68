/* lib/ww_u64set.c - a set of 64-bit keys (see ww_u64set.h). */
#include "config.h"

#include <stdlib.h>

#include "ww_u64set.h"

static size_t slot(uint64_t key, size_t cap)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 32) & (cap - 1);
}

int ww_u64set_add(struct ww_u64set *s, uint64_t key)
{
    size_t h;

    if (key == 0) {
        int was = s->zero;
        s->zero = 1;
        return !was;
    }
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        uint64_t *d = calloc(cap, sizeof(*d));
        if (d == NULL)
            return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (s->k[i] == 0)
                continue;
            for (h = slot(s->k[i], cap); d[h] != 0; h = (h + 1) & (cap - 1))
                ;
            d[h] = s->k[i];
        }
        free(s->k);
        s->k = d;
        s->cap = cap;
    }
    for (h = slot(key, s->cap); s->k[h] != 0; h = (h + 1) & (s->cap - 1))
        if (s->k[h] == key)
            return 0;
    s->k[h] = key;
    s->n++;
    return 1;
}

void ww_u64set_free(struct ww_u64set *s)
{
    free(s->k);
    *s = (struct ww_u64set){0};
}
