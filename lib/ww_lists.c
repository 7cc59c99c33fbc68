/* lib/ww_lists.c - the approved and blocked lists: domains (with subdomains) and URL prefixes. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_lists.h"
#include "ww_url.h"

/* Both kinds of entry live in one open-addressing hash table keyed by text without scheme or
 * port: domains as "example.com" (no '/'), URL prefixes as "example.com/ads/" (always a '/').
 * A lookup probes each host suffix, then each prefix of "host/path?query", so its cost does not
 * grow with the number of entries. */
struct list_slot {
    uint64_t hash; /* 0 = empty slot */
    const char *key;
    size_t keylen;
    const char *entry; /* the line as written, for "blocked by <entry>" */
};

/* Strings live in fixed blocks that never move, so slots can point into them. */
struct list_block {
    struct list_block *next;
    size_t used, size;
    char data[];
};

struct ww_list {
    struct list_slot *slots;
    size_t nslots; /* power of two */
    size_t count;
    size_t max_prefix; /* longest URL-prefix key, bounds the probing in ww_list_match */
    /* Bit k set when some URL-prefix key is k bytes long: ww_list_match probes the table
     * only at those lengths, so a long path costs hashing, not a probe per byte. */
    unsigned char prefix_lens[WW_URL_MAX / 8];
    struct list_block *blocks;
};

#define LIST_BLOCK_SIZE (64 * 1024)

/* FNV-1a, 64 bit: incremental, so ww_list_match() hashes each longer prefix in O(1). */
#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fnv_add(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t slot_hash(uint64_t h)
{
    return h != 0 ? h : 1; /* 0 marks an empty slot */
}

static const struct list_slot *list_find(const struct ww_list *l, uint64_t h, const char *key,
                                         size_t keylen)
{
    if (l->nslots == 0)
        return NULL;
    h = slot_hash(h);
    for (size_t i = h & (l->nslots - 1);; i = (i + 1) & (l->nslots - 1)) {
        const struct list_slot *s = &l->slots[i];
        if (s->hash == 0)
            return NULL;
        if (s->hash == h && s->keylen == keylen && memcmp(s->key, key, keylen) == 0)
            return s;
    }
}

static char *list_strdup(struct ww_list *l, const char *s, size_t n)
{
    struct list_block *b = l->blocks;

    if (b == NULL || b->size - b->used < n + 1) {
        size_t size = n + 1 > LIST_BLOCK_SIZE ? n + 1 : LIST_BLOCK_SIZE;
        b = malloc(sizeof(*b) + size);
        if (b == NULL)
            return NULL;
        b->next = l->blocks;
        b->used = 0;
        b->size = size;
        l->blocks = b;
    }
    char *p = b->data + b->used;
    memcpy(p, s, n);
    p[n] = '\0';
    b->used += n + 1;
    return p;
}

static int list_grow(struct ww_list *l)
{
    size_t n = l->nslots == 0 ? 1024 : l->nslots * 2;
    struct list_slot *slots = calloc(n, sizeof(*slots));

    if (slots == NULL)
        return WW_ENOMEM;
    for (size_t i = 0; i < l->nslots; i++) {
        struct list_slot *s = &l->slots[i];
        if (s->hash == 0)
            continue;
        size_t j = s->hash & (n - 1);
        while (slots[j].hash != 0)
            j = (j + 1) & (n - 1);
        slots[j] = *s;
    }
    free(l->slots);
    l->slots = slots;
    l->nslots = n;
    return WW_OK;
}

/* Adds <key> unless present (a repeated entry keeps its first spelling). */
static int list_add(struct ww_list *l, const char *key, size_t keylen, const char *entry)
{
    uint64_t h = fnv_add(FNV_OFFSET, key, keylen);

    if (list_find(l, h, key, keylen) != NULL)
        return WW_OK;
    if ((l->count + 1) * 2 > l->nslots && list_grow(l) != WW_OK)
        return WW_ENOMEM;
    const char *k = list_strdup(l, key, keylen);
    const char *e = list_strdup(l, entry, strlen(entry));
    if (k == NULL || e == NULL)
        return WW_ENOMEM;
    h = slot_hash(h);
    size_t i = h & (l->nslots - 1);
    while (l->slots[i].hash != 0)
        i = (i + 1) & (l->nslots - 1);
    l->slots[i] = (struct list_slot){h, k, keylen, e};
    l->count++;
    if (memchr(key, '/', keylen) != NULL) {
        if (keylen > l->max_prefix)
            l->max_prefix = keylen;
        l->prefix_lens[keylen / 8] |= (unsigned char)(1u << (keylen % 8));
    }
    return WW_OK;
}

/* The path of a URL-prefix key as origins see it (issue 12): up to the query, ASCII letters
 * folded to lower case (IIS and other origins fold case), '\\' and its escape %5c are '/'
 * (IIS takes both as a separator), and ";parameters" are dropped from each segment (servlet
 * containers ignore "/admin;jsessionid=1/"). The query is kept as it is. Applied to entries and
 * to looked-up URLs alike. Returns the bytes written to <out> (cut to <cap> - 1), NUL-ended. */
static size_t list_norm_path(const char *p, char *out, size_t cap)
{
    size_t n = 0;
    int in_query = 0, in_param = 0;

    for (; *p != '\0' && n + 1 < cap; p++) {
        char c = *p;

        if (!in_query && c == '?') {
            in_query = 1;
            in_param = 0;
        } else if (!in_query) {
            if (c == '%' && p[1] == '5' && (p[2] == 'c' || p[2] == 'C')) {
                c = '\\';
                p += 2;
            }
            if (c == '\\')
                c = '/';
            if (c == '/') {
                in_param = 0;
            } else if (c == ';' || in_param) {
                in_param = 1;
                continue;
            }
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return n;
}

/* Hosts a domain entry may name: letters, digits, '-', '_', dots, or a bracketed IPv6. */
static int valid_domain(const char *h)
{
    if (h[0] == '[')
        return 1;
    for (const char *p = h; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
              *p == '.'))
            return 0;
    return 1;
}

/* Turns one trimmed, non-empty line into a key; *why says what is wrong. */
static int list_parse_entry(struct ww_list *l, const char *line, const char **why)
{
    char url[WW_URL_MAX], canon[WW_URL_MAX], host[WW_URL_MAX], path[WW_URL_MAX], key[WW_URL_MAX];
    const char *e = line;
    int is_domain = strchr(line, '/') == NULL;

    if (strlen(line) >= WW_URL_MAX - 16) {
        *why = "entry too long";
        return WW_EINVAL;
    }
    for (const char *p = line; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f) {
            *why = "space or control character inside the entry";
            return WW_EINVAL;
        }
    if (is_domain) {
        if (strncmp(e, "*.", 2) == 0)
            e += 2;
        else if (e[0] == '.')
            e += 1;
        if (e[0] == '\0' || e[0] == '.' || e[0] == '*') {
            *why = "empty or malformed domain";
            return WW_EINVAL;
        }
        snprintf(url, sizeof(url), "http://%s/", e);
    } else {
        snprintf(url, sizeof(url), "%s%s", strstr(e, "://") != NULL ? "" : "http://", e);
    }
    int rc = ww_url_canon(url, canon, sizeof(canon));
    if (rc == WW_ETOOBIG) {
        *why = "entry too long";
        return rc;
    }
    if (rc != WW_OK || ww_url_host(canon, host, sizeof(host)) != WW_OK ||
        ww_url_path(canon, path, sizeof(path)) != WW_OK) {
        *why = is_domain ? "not a valid domain" : "not a valid URL";
        return WW_EINVAL;
    }
    if (is_domain) {
        const char *auth = strstr(canon, "://") + 3; /* "host/" exactly: no port, no query */
        if (strcmp(path, "/") != 0 || strncmp(auth, host, strlen(host)) != 0 ||
            auth[strlen(host)] != '/' || !valid_domain(host)) {
            *why = "not a valid domain (only letters, digits, '-', '_' and dots)";
            return WW_EINVAL;
        }
        return list_add(l, host, strlen(host), line);
    }
    /* Ports are ignored on both sides: blocking example.com/x must not miss :8080/x. */
    size_t hl = strlen(host);
    if (hl + strlen(path) + 1 >= sizeof(key)) {
        *why = "entry too long";
        return WW_ETOOBIG;
    }
    memcpy(key, host, hl);
    size_t n = hl + list_norm_path(path, key + hl, sizeof(key) - hl);
    return list_add(l, key, n, line);
}

int ww_list_load(const char *path, struct ww_list **out, char *err, size_t errlen)
{
    struct ww_list *l = NULL;
    FILE *fp = NULL;
    char *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0;
    int rc = WW_ENOMEM;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    *out = NULL;
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        goto cleanup;
    rc = WW_OK;
    if (path == NULL || path[0] == '\0')
        goto done;
    fp = fopen(path, "r");
    if (fp == NULL) {
        rc = WW_EIO;
        if (err != NULL)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    ssize_t n;
    while ((n = getline(&line, &cap, fp)) >= 0) {
        const char *why = NULL;
        lineno++;
        if (memchr(line, '\0', (size_t)n) != NULL) {
            rc = WW_EINVAL;
            why = "NUL byte in line";
        } else {
            char *hash = strchr(line, '#'), *s = line, *e;
            if (hash != NULL)
                *hash = '\0';
            while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
                s++;
            e = s + strlen(s);
            while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
                e--;
            *e = '\0';
            if (*s == '\0')
                continue;
            rc = list_parse_entry(l, s, &why);
        }
        if (rc != WW_OK) {
            if (err != NULL)
                snprintf(err, errlen, "%s:%lu: %s", path, lineno,
                         why != NULL ? why : ww_strerror(rc));
            goto cleanup;
        }
    }
    if (ferror(fp)) {
        rc = WW_EIO;
        if (err != NULL)
            snprintf(err, errlen, "%s: read error", path);
        goto cleanup;
    }
done:
    *out = l;
    l = NULL;
cleanup:
    ww_list_free(l);
    free(line);
    if (fp != NULL)
        fclose(fp);
    return rc;
}

void ww_list_free(struct ww_list *l)
{
    if (l == NULL)
        return;
    while (l->blocks != NULL) {
        struct list_block *b = l->blocks;
        l->blocks = b->next;
        free(b);
    }
    free(l->slots);
    free(l);
}

size_t ww_list_count(const struct ww_list *l)
{
    return l != NULL ? l->count : 0;
}

static int host_is_ipv4(const char *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(h[i] == '.' || (h[i] >= '0' && h[i] <= '9')))
            return 0;
    return n > 0;
}

int ww_list_match(const struct ww_list *l, const char *canon, const char **entry)
{
    const struct list_slot *s;
    const char *sep, *h, *p, *hend;

    if (entry != NULL)
        *entry = NULL;
    if (l == NULL || l->count == 0 || canon == NULL)
        return 0;
    sep = strstr(canon, "://");
    if (sep == NULL)
        return 0;
    h = sep + 3;
    p = strchr(h, '/');
    if (p == NULL)
        return 0;
    hend = p;
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t)(p - h));
        if (close != NULL)
            hend = close + 1;
    } else {
        const char *colon = memchr(h, ':', (size_t)(p - h));
        if (colon != NULL)
            hend = colon;
    }
    size_t hn = (size_t)(hend - h);
    if (hn == 0)
        return 0;

    /* Domains: the host, then every parent on a label boundary (never inside a label, so
     * evil.com does not match notevil.com). IP addresses only match exactly. */
    int ip = *h == '[' || host_is_ipv4(h, hn);
    for (size_t i = 0; i < hn; i++) {
        if (i > 0 && (ip || h[i - 1] != '.'))
            continue;
        s = list_find(l, fnv_add(FNV_OFFSET, h + i, hn - i), h + i, hn - i);
        if (s != NULL)
            goto found;
    }

    /* URL prefixes: "host/path?query" hashed one more byte at a time, probed at each length. */
    if (l->max_prefix == 0)
        return 0;
    char key[WW_URL_MAX];
    if (hn >= sizeof(key))
        return 0;
    memcpy(key, h, hn);
    size_t klen = hn + list_norm_path(p, key + hn, sizeof(key) - hn);
    uint64_t hash = fnv_add(FNV_OFFSET, key, hn);
    for (size_t k = hn; k < klen && k < l->max_prefix; k++) {
        hash = fnv_add(hash, key + k, 1);
        if (!(l->prefix_lens[(k + 1) / 8] & (1u << ((k + 1) % 8))))
            continue;
        s = list_find(l, hash, key, k + 1);
        if (s != NULL)
            goto found;
    }
    return 0;
found:
    if (entry != NULL)
        *entry = s->entry;
    return 1;
}
