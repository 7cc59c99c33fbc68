/* lib/ww_hashdb.c - hash signatures in contiguous arrays: entries, a name pool and an
 * open-addressing index of entry numbers (no pointers, so the whole table could be mapped). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_hashdb.h"

#define HASHDB_SIZE_ANY UINT64_MAX
#define HASHDB_NAME_MAX 256
#define HASHDB_EMPTY UINT32_MAX

struct hashdb_entry {
    unsigned char digest[WW_HASH_MAX_LEN]; /* zero-padded past the kind's length */
    uint64_t size;                         /* HASHDB_SIZE_ANY for "*" */
    uint32_t name_off;                     /* into names */
    uint8_t kind;
};

struct ww_hashdb {
    struct hashdb_entry *entries;
    size_t n, cap;
    char *names; /* NUL-terminated names, back to back */
    size_t names_len, names_cap;
    uint32_t *slots; /* entry number or HASHDB_EMPTY; power-of-two size */
    size_t nslots;
    size_t count[WW_HASH_KINDS];
    /* Per kind, built by ww_hashdb_finish(): the distinct fixed sizes, sorted, so that a scan
     * computes a digest only when some signature could match the body's size. */
    uint64_t *sizes[WW_HASH_KINDS];
    size_t nsizes[WW_HASH_KINDS];
    int any_size[WW_HASH_KINDS]; /* some signature of the kind has size "*" */
};

size_t ww_hash_len(int kind)
{
    switch (kind) {
    case WW_HASH_MD5:
        return 16;
    case WW_HASH_SHA1:
        return 20;
    case WW_HASH_SHA256:
        return 32;
    default:
        return 0;
    }
}

struct ww_hashdb *ww_hashdb_create(void)
{
    return calloc(1, sizeof(struct ww_hashdb));
}

void ww_hashdb_free(struct ww_hashdb *db)
{
    if (db == NULL)
        return;
    free(db->entries);
    free(db->names);
    free(db->slots);
    for (int k = 0; k < WW_HASH_KINDS; k++)
        free(db->sizes[k]);
    free(db);
}

/* Digests are uniformly distributed already: their first bytes make a good hash. The kind is
 * mixed in so that an MD5 and a SHA-256 prefix never share a probe chain by construction. */
static size_t hashdb_slot_of(const unsigned char *digest, int kind, size_t mask)
{
    uint64_t h;

    memcpy(&h, digest, sizeof(h));
    h ^= (uint64_t)kind * 0x9E3779B97F4A7C15ULL;
    h *= 0xFF51AFD7ED558CCDULL;
    return (size_t)(h >> 17) & mask;
}

int ww_hashdb_add_line(struct ww_hashdb *db, const char *line, int is_hsb, char *err, size_t errlen)
{
    unsigned char digest[WW_HASH_MAX_LEN] = {0};
    const char *p = line, *colon, *name, *name_end;
    size_t hexlen, i, name_len;
    uint64_t size;
    int kind;
    struct hashdb_entry *e;

    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '\n' || *p == '\r' || *p == '#')
        return WW_OK;
    colon = strchr(p, ':');
    if (colon == NULL) {
        snprintf(err, errlen, "no ':' after the hash");
        return WW_EINVAL;
    }
    hexlen = (size_t)(colon - p);
    /* As ClamAV reads them (hm_addhash_str): the digest's length says its kind in .hdb and
     * .hsb alike; ClamAV's own unit_tests/input/clamav.hdb holds SHA-256 lines. */
    (void)is_hsb;
    if (hexlen == 32)
        kind = WW_HASH_MD5;
    else if (hexlen == 40)
        kind = WW_HASH_SHA1;
    else if (hexlen == 64)
        kind = WW_HASH_SHA256;
    else {
        snprintf(err, errlen,
                 "hash of %zu hex digits (want 32 for MD5, 40 for SHA-1 or 64 for "
                 "SHA-256)",
                 hexlen);
        return WW_EINVAL;
    }
    for (i = 0; i < hexlen; i += 2) {
        int hi = ww_hex_val((unsigned char)p[i]), lo = ww_hex_val((unsigned char)p[i + 1]);
        if (hi < 0 || lo < 0) {
            snprintf(err, errlen, "bad hex digit in the hash");
            return WW_EINVAL;
        }
        digest[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    p = colon + 1;
    if (*p == '*' && p[1] == ':') {
        size = HASHDB_SIZE_ANY;
        p += 2;
    } else {
        size = 0;
        if (*p < '0' || *p > '9') {
            snprintf(err, errlen, "size is neither a number nor '*'");
            return WW_EINVAL;
        }
        while (*p >= '0' && *p <= '9') {
            if (size > (UINT64_MAX - 9) / 10) {
                snprintf(err, errlen, "size too large");
                return WW_EINVAL;
            }
            size = size * 10 + (uint64_t)(*p - '0');
            p++;
        }
        if (*p != ':') {
            snprintf(err, errlen, "no ':' after the size");
            return WW_EINVAL;
        }
        p++;
    }
    name = p;
    name_end = name + strcspn(name, ":\r\n");
    name_len = (size_t)(name_end - name);
    if (name_len == 0 || name_len >= HASHDB_NAME_MAX) {
        snprintf(err, errlen, "threat name empty or longer than %d bytes", HASHDB_NAME_MAX - 1);
        return WW_EINVAL;
    }
    for (i = 0; i < name_len; i++) {
        if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] == 0x7f) {
            snprintf(err, errlen, "control character in the threat name");
            return WW_EINVAL;
        }
    }
    if (db->slots != NULL) {
        snprintf(err, errlen, "database already finished");
        return WW_EINVAL;
    }
    if (db->n == db->cap) {
        size_t ncap = db->cap ? db->cap * 2 : 256;
        void *ne = realloc(db->entries, ncap * sizeof(*db->entries));
        if (ne == NULL)
            return WW_ENOMEM;
        db->entries = ne;
        db->cap = ncap;
    }
    if (db->names_len + name_len + 1 > db->names_cap) {
        size_t ncap = db->names_cap ? db->names_cap * 2 : 4096;
        void *nn;
        while (ncap < db->names_len + name_len + 1)
            ncap *= 2;
        nn = realloc(db->names, ncap);
        if (nn == NULL)
            return WW_ENOMEM;
        db->names = nn;
        db->names_cap = ncap;
    }
    if (db->names_len > UINT32_MAX - HASHDB_NAME_MAX || db->n >= UINT32_MAX - 1) {
        snprintf(err, errlen, "too many hash signatures");
        return WW_ETOOBIG;
    }
    e = &db->entries[db->n++];
    memcpy(e->digest, digest, sizeof(digest));
    e->size = size;
    e->kind = (uint8_t)kind;
    e->name_off = (uint32_t)db->names_len;
    memcpy(db->names + db->names_len, name, name_len);
    db->names[db->names_len + name_len] = '\0';
    db->names_len += name_len + 1;
    db->count[kind]++;
    return WW_OK;
}

static int size_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The sorted distinct fixed sizes of each kind, and whether any signature of it has size "*". */
static int hashdb_index_sizes(struct ww_hashdb *db)
{
    size_t i, k;

    for (k = 0; k < WW_HASH_KINDS; k++) {
        free(db->sizes[k]);
        db->sizes[k] = NULL;
        db->nsizes[k] = 0;
        db->any_size[k] = 0;
        if (db->count[k] > 0) {
            db->sizes[k] = malloc(db->count[k] * sizeof(*db->sizes[k]));
            if (db->sizes[k] == NULL)
                return WW_ENOMEM;
        }
    }
    for (i = 0; i < db->n; i++) {
        const struct hashdb_entry *e = &db->entries[i];
        if (e->size == HASHDB_SIZE_ANY)
            db->any_size[e->kind] = 1;
        else
            db->sizes[e->kind][db->nsizes[e->kind]++] = e->size;
    }
    for (k = 0; k < WW_HASH_KINDS; k++) {
        size_t n = db->nsizes[k], j = 0;
        uint64_t *v = db->sizes[k];
        if (n == 0)
            continue;
        qsort(v, n, sizeof(*v), size_cmp);
        for (i = 1; i < n; i++)
            if (v[i] != v[j])
                v[++j] = v[i];
        db->nsizes[k] = j + 1;
    }
    return WW_OK;
}

int ww_hashdb_finish(struct ww_hashdb *db)
{
    size_t nslots = 16, i;

    if (hashdb_index_sizes(db) != WW_OK)
        return WW_ENOMEM;

    while (nslots < db->n * 2)
        nslots *= 2;
    free(db->slots);
    db->slots = malloc(nslots * sizeof(*db->slots));
    if (db->slots == NULL)
        return WW_ENOMEM;
    db->nslots = nslots;
    memset(db->slots, 0xff, nslots * sizeof(*db->slots));
    for (i = 0; i < db->n; i++) {
        size_t s = hashdb_slot_of(db->entries[i].digest, db->entries[i].kind, nslots - 1);
        while (db->slots[s] != HASHDB_EMPTY)
            s = (s + 1) & (nslots - 1);
        db->slots[s] = (uint32_t)i;
    }
    return WW_OK;
}

size_t ww_hashdb_count(const struct ww_hashdb *db, int kind)
{
    if (db == NULL)
        return 0;
    if (kind >= 0 && kind < WW_HASH_KINDS)
        return db->count[kind];
    return db->n;
}

size_t ww_hashdb_memory(const struct ww_hashdb *db)
{
    if (db == NULL)
        return 0;
    return sizeof(*db) + db->n * sizeof(*db->entries) + db->names_len +
           db->nslots * sizeof(*db->slots) +
           (db->nsizes[0] + db->nsizes[1] + db->nsizes[2]) * sizeof(uint64_t);
}

int ww_hashdb_size_used(const struct ww_hashdb *db, int kind, int64_t size)
{
    if (db == NULL || kind < 0 || kind >= WW_HASH_KINDS || db->count[kind] == 0)
        return 0;
    if (size < 0 || db->any_size[kind] || db->sizes[kind] == NULL)
        return 1; /* unknown size, "*", or not finished yet: the digest may be needed */
    uint64_t key = (uint64_t)size;
    return bsearch(&key, db->sizes[kind], db->nsizes[kind], sizeof(key), size_cmp) != NULL;
}

uint64_t ww_hashdb_max_size(const struct ww_hashdb *db, int kind)
{
    if (db == NULL || kind < 0 || kind >= WW_HASH_KINDS || db->count[kind] == 0)
        return 0;
    if (db->any_size[kind] || db->sizes[kind] == NULL)
        return UINT64_MAX;
    return db->nsizes[kind] > 0 ? db->sizes[kind][db->nsizes[kind] - 1] : 0;
}

const char *ww_hashdb_lookup(const struct ww_hashdb *db, int kind, const unsigned char *digest,
                             uint64_t size)
{
    unsigned char key[WW_HASH_MAX_LEN] = {0};
    size_t s, len = ww_hash_len(kind);

    if (db == NULL || db->slots == NULL || len == 0 || db->count[kind] == 0)
        return NULL;
    memcpy(key, digest, len);
    s = hashdb_slot_of(key, kind, db->nslots - 1);
    while (db->slots[s] != HASHDB_EMPTY) {
        const struct hashdb_entry *e = &db->entries[db->slots[s]];
        if (e->kind == kind && memcmp(e->digest, key, sizeof(key)) == 0 &&
            (e->size == HASHDB_SIZE_ANY || e->size == size))
            return db->names + e->name_off;
        s = (s + 1) & (db->nslots - 1);
    }
    return NULL;
}
