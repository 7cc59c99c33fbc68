/* lib/ww_u64set.h - a set of 64-bit keys (open addressing, doubling): "seen before?" for the
 * image readers (lib/ww_iso: directories read; lib/ww_udf: directories and files). */
#ifndef WW_U64SET_H
#define WW_U64SET_H

#include <stddef.h>
#include <stdint.h>

struct ww_u64set {
    uint64_t *k; /* 0 marks an empty slot; the key 0 is kept in <zero> */
    size_t cap, n;
    int zero;
};

/* 1 when <key> was not in <s> (now it is), 0 when it was, -1 out of memory (not added). A set
 * starts zeroed ({0}). */
int ww_u64set_add(struct ww_u64set *s, uint64_t key);
void ww_u64set_free(struct ww_u64set *s); /* empties it */

#endif
