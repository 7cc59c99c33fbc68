/* lib/ww_urldb.c - the local URL database: loader, lookup, squidGuard importer. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_rating.h"
#include "ww_url.h"
#include "ww_urldb.h"

#define URLDB_HEADER "webwarden-urldb"
#define URLDB_MAX_PATTERN 1024
#define URLDB_MAX_CATSETS 65535

struct urldb_entry {
    uint32_t key_off; /* into arena; NUL-terminated */
    uint32_t key_len;
    uint16_t catset; /* index into catsets */
    uint8_t score;
};

struct ww_urldb {
    atomic_int refs;
    char *arena; /* the file text, patterns cut out in place */
    size_t arena_len;
    char *version;
    struct urldb_entry *entries;
    size_t nentries;
    size_t nurls;    /* entries with a '/' (host/path); the rest are domains */
    uint32_t *slots; /* open addressing, entry index + 1; 0 = empty */
    size_t nslots;   /* power of two, >= 2 * nentries */
    char **catsets;  /* normalised "cat1,cat2" strings, pointing into arena */
    size_t ncatsets;
};

static uint64_t urldb_hash(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static const struct urldb_entry *urldb_find(const struct ww_urldb *db, const char *key, size_t len)
{
    size_t mask = db->nslots - 1;
    size_t i;

    if (db->nslots == 0)
        return NULL;
    for (i = urldb_hash(key, len) & mask; db->slots[i] != 0; i = (i + 1) & mask) {
        const struct urldb_entry *e = &db->entries[db->slots[i] - 1];
        if (e->key_len == len && memcmp(db->arena + e->key_off, key, len) == 0)
            return e;
    }
    return NULL;
}

struct ww_urldb *ww_urldb_ref(struct ww_urldb *db)
{
    if (db != NULL)
        atomic_fetch_add_explicit(&db->refs, 1, memory_order_relaxed);
    return db;
}

static void urldb_destroy(struct ww_urldb *db)
{
    free(db->arena);
    free(db->version);
    free(db->entries);
    free(db->slots);
    free(db->catsets);
    free(db);
}

void ww_urldb_unref(struct ww_urldb *db)
{
    if (db != NULL && atomic_fetch_sub_explicit(&db->refs, 1, memory_order_acq_rel) == 1)
        urldb_destroy(db);
}

const char *ww_urldb_version(const struct ww_urldb *db)
{
    return db->version;
}

size_t ww_urldb_count(const struct ww_urldb *db)
{
    return db->nentries;
}

/* ---- loading ---- */

static int urldb_fail(char *err, size_t errlen, const char *name, size_t line, const char *why)
{
    snprintf(err, errlen, "%s:%zu: %s", name, line, why);
    return WW_EINVAL;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Lower-cases the host part of a pattern in place and drops an "http://" or "https://" prefix;
 * returns the start of the normalised pattern, or NULL if it has no host. */
static char *urldb_normalise_pattern(char *p)
{
    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    else if (strncmp(p, "https://", 8) == 0)
        p += 8;
    while (*p == '.')
        p++;
    for (char *q = p; *q != '\0' && *q != '/'; q++)
        *q = (char)tolower((unsigned char)*q);
    if (*p == '\0' || *p == '/')
        return NULL;
    return p;
}

/* Normalises a category list in place: lower case, no empty names. 0 on success. */
static int urldb_normalise_cats(char *cats)
{
    size_t n = strlen(cats);

    if (n == 0)
        return 0;
    if (cats[0] == ',' || cats[n - 1] == ',' || strstr(cats, ",,") != NULL)
        return -1;
    for (char *q = cats; *q != '\0'; q++) {
        unsigned char ch = (unsigned char)*q;
        if (ch <= 0x20 || ch >= 0x7f)
            return -1;
        *q = (char)tolower(ch);
    }
    return 0;
}

struct urldb_builder {
    struct ww_urldb *db;
    size_t cap;
    uint32_t *cat_slots; /* interning of catsets: index + 1 */
    size_t ncat_slots;
    size_t catcap;
};

static int urldb_intern_cats(struct urldb_builder *b, char *cats, uint16_t *out)
{
    struct ww_urldb *db = b->db;
    size_t len = strlen(cats);
    size_t mask = b->ncat_slots - 1;
    size_t i;

    for (i = urldb_hash(cats, len) & mask; b->cat_slots[i] != 0; i = (i + 1) & mask) {
        if (strcmp(db->catsets[b->cat_slots[i] - 1], cats) == 0) {
            *out = (uint16_t)(b->cat_slots[i] - 1);
            return WW_OK;
        }
    }
    if (db->ncatsets >= URLDB_MAX_CATSETS)
        return WW_ETOOBIG;
    if (db->ncatsets == b->catcap) {
        size_t want = b->catcap != 0 ? b->catcap * 2 : 16;
        char **p = realloc(db->catsets, want * sizeof(*p));
        if (p == NULL)
            return WW_ENOMEM;
        db->catsets = p;
        b->catcap = want;
    }
    db->catsets[db->ncatsets] = cats;
    b->cat_slots[i] = (uint32_t)db->ncatsets + 1;
    *out = (uint16_t)db->ncatsets;
    db->ncatsets++;
    return WW_OK;
}

static int urldb_build_index(struct ww_urldb *db)
{
    size_t n = 16;

    while (n < db->nentries * 2)
        n <<= 1;
    db->slots = calloc(n, sizeof(*db->slots));
    if (db->slots == NULL)
        return WW_ENOMEM;
    db->nslots = n;
    for (size_t e = 0; e < db->nentries; e++) {
        const struct urldb_entry *ent = &db->entries[e];
        const char *key = db->arena + ent->key_off;
        size_t i;
        for (i = urldb_hash(key, ent->key_len) & (n - 1); db->slots[i] != 0;
             i = (i + 1) & (n - 1)) {
            const struct urldb_entry *o = &db->entries[db->slots[i] - 1];
            if (o->key_len == ent->key_len && memcmp(db->arena + o->key_off, key, o->key_len) == 0)
                break; /* a later line replaces an earlier one */
        }
        if (db->slots[i] == 0 && memchr(key, '/', ent->key_len) != NULL)
            db->nurls++;
        db->slots[i] = (uint32_t)e + 1;
    }
    return WW_OK;
}

/* Parses db->arena (NUL-terminated, db->arena_len bytes) in place. */
static int urldb_parse(struct urldb_builder *b, const char *name, char *err, size_t errlen)
{
    struct ww_urldb *db = b->db;
    char *line = db->arena;
    size_t lineno = 0;
    int have_header = 0;

    while (line != NULL && *line != '\0') {
        char *nl = strchr(line, '\n');
        char *next = nl != NULL ? nl + 1 : NULL;
        lineno++;
        if (nl != NULL)
            *nl = '\0';
        if (strlen(line) != (size_t)((nl != NULL ? nl : db->arena + db->arena_len) - line))
            return urldb_fail(err, errlen, name, lineno, "NUL byte in line");
        char *p = line;
        while (is_blank(*p))
            p++;
        line = next;
        if (*p == '\0' || *p == '#')
            continue;
        /* split into up to 3 fields */
        char *field[4] = {NULL, NULL, NULL, NULL};
        int nf = 0;
        while (*p != '\0' && nf < 4) {
            field[nf++] = p;
            while (*p != '\0' && !is_blank(*p))
                p++;
            if (*p != '\0')
                *p++ = '\0';
            while (is_blank(*p))
                p++;
        }
        if (!have_header) {
            char *end = NULL;
            if (nf != 3 || strcmp(field[0], URLDB_HEADER) != 0)
                return urldb_fail(err, errlen, name, lineno,
                                  "first line must be \"" URLDB_HEADER " 1 <version>\"");
            long fmt = strtol(field[1], &end, 10);
            if (*end != '\0' || fmt != WW_URLDB_FORMAT)
                return urldb_fail(err, errlen, name, lineno, "unsupported format (want 1)");
            db->version = strdup(field[2]);
            if (db->version == NULL)
                return WW_ENOMEM;
            have_header = 1;
            continue;
        }
        if (nf < 2 || nf > 3)
            return urldb_fail(err, errlen, name, lineno,
                              "want \"<host or host/path> <score> [cat1,cat2]\"");
        char *pattern = urldb_normalise_pattern(field[0]);
        if (pattern == NULL || strlen(pattern) > URLDB_MAX_PATTERN)
            return urldb_fail(err, errlen, name, lineno, "bad host or host/path");
        char *end = NULL;
        errno = 0;
        long score = strtol(field[1], &end, 10);
        if (end == field[1] || *end != '\0' || score < 0 || score > 100)
            return urldb_fail(err, errlen, name, lineno, "score must be an integer 0..100");
        char *cats = nf == 3 ? field[2] : field[1] + strlen(field[1]); /* "" */
        if (urldb_normalise_cats(cats) != 0)
            return urldb_fail(err, errlen, name, lineno, "bad category list");
        uint16_t catset;
        int rc = urldb_intern_cats(b, cats, &catset);
        if (rc == WW_ETOOBIG)
            return urldb_fail(err, errlen, name, lineno, "too many distinct category lists");
        if (rc != WW_OK)
            return rc;
        if (db->nentries == b->cap) {
            size_t want = b->cap != 0 ? b->cap * 2 : 1024;
            struct urldb_entry *e = realloc(db->entries, want * sizeof(*e));
            if (e == NULL)
                return WW_ENOMEM;
            db->entries = e;
            b->cap = want;
        }
        if ((size_t)(pattern - db->arena) > UINT32_MAX)
            return urldb_fail(err, errlen, name, lineno, "file too big");
        struct urldb_entry *e = &db->entries[db->nentries++];
        e->key_off = (uint32_t)(pattern - db->arena);
        e->key_len = (uint32_t)strlen(pattern);
        e->score = (uint8_t)score;
        e->catset = catset;
    }
    if (!have_header) {
        snprintf(err, errlen, "%s: empty file (no header line)", name);
        return WW_EINVAL;
    }
    return WW_OK;
}

/* Takes ownership of <text> (len bytes + NUL). */
static int urldb_load_owned(const char *name, char *text, size_t len, struct ww_urldb **out,
                            char *err, size_t errlen)
{
    struct urldb_builder b = {0};
    int rc = WW_ENOMEM;

    b.db = calloc(1, sizeof(*b.db));
    if (b.db == NULL) {
        free(text);
        snprintf(err, errlen, "%s: out of memory", name);
        return WW_ENOMEM;
    }
    atomic_init(&b.db->refs, 1);
    b.db->arena = text;
    b.db->arena_len = len;
    b.ncat_slots = 1u << 17; /* URLDB_MAX_CATSETS at load <= 0.5 */
    b.cat_slots = calloc(b.ncat_slots, sizeof(*b.cat_slots));
    if (b.cat_slots == NULL)
        goto cleanup;
    rc = urldb_parse(&b, name, err, errlen);
    if (rc == WW_OK)
        rc = urldb_build_index(b.db);
    if (rc == WW_OK) {
        *out = b.db;
        b.db = NULL;
    }
cleanup:
    if (rc == WW_ENOMEM)
        snprintf(err, errlen, "%s: out of memory", name);
    free(b.cat_slots);
    if (b.db != NULL)
        urldb_destroy(b.db);
    return rc;
}

int ww_urldb_load_buffer(const char *name, const char *text, size_t len, struct ww_urldb **out,
                         char *err, size_t errlen)
{
    char *copy = malloc(len + 1);

    if (copy == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        return WW_ENOMEM;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    return urldb_load_owned(name, copy, len, out, err, errlen);
}

int ww_urldb_load(const char *path, struct ww_urldb **out, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    char *text = NULL;
    struct stat st;
    size_t got;

    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return WW_EIO;
    }
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > UINT32_MAX - 1) {
        snprintf(err, errlen, "%s: not a regular file under 4 GiB", path);
        fclose(fp);
        return WW_EIO;
    }
    text = malloc((size_t)st.st_size + 1);
    if (text == NULL) {
        fclose(fp);
        snprintf(err, errlen, "%s: out of memory", path);
        return WW_ENOMEM;
    }
    got = fread(text, 1, (size_t)st.st_size, fp);
    if (ferror(fp)) {
        snprintf(err, errlen, "%s: read error", path);
        fclose(fp);
        free(text);
        return WW_EIO;
    }
    fclose(fp);
    text[got] = '\0';
    return urldb_load_owned(path, text, got, out, err, errlen);
}

/* ---- lookup ---- */

struct urldb_match {
    const struct ww_urldb *db;
    const struct urldb_entry *best;
    size_t best_host, best_path; /* rank: longer host, then longer path (+1 for url entries) */
    char key[WW_URL_MAX + 8];
};

static void urldb_consider(struct urldb_match *m, const struct urldb_entry *e, size_t host_len,
                           size_t path_rank)
{
    if (e == NULL)
        return;
    if (m->best == NULL || host_len > m->best_host ||
        (host_len == m->best_host && path_rank > m->best_path)) {
        m->best = e;
        m->best_host = host_len;
        m->best_path = path_rank;
    }
}

static int urldb_on_expression(const char *host, const char *path, void *arg)
{
    struct urldb_match *m = arg;
    size_t hl = strlen(host), pl = strlen(path);

    if (hl + pl >= sizeof(m->key))
        return 0;
    memcpy(m->key, host, hl);
    memcpy(m->key + hl, path, pl + 1);
    urldb_consider(m, urldb_find(m->db, m->key, hl + pl), hl, pl + 1);
    /* "host/dir" written without its slash also covers everything below "host/dir/" */
    if (pl > 1 && path[pl - 1] == '/')
        urldb_consider(m, urldb_find(m->db, m->key, hl + pl - 1), hl, pl);
    return 0;
}

static int urldb_is_ip(const char *host, size_t len)
{
    if (len > 0 && host[0] == '[')
        return 1;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)host[i]) && host[i] != '.')
            return 0;
    return 1;
}

int ww_urldb_lookup(const struct ww_urldb *db, const char *canon, struct ww_rating *out)
{
    struct urldb_match m;
    const char *host = strstr(canon, "://");
    size_t hl;

    if (host == NULL)
        return WW_EINVAL;
    host += 3;
    hl = strcspn(host, "/?");
    if (hl == 0)
        return WW_EINVAL;
    if (host[0] != '[') { /* drop a port */
        const char *colon = memchr(host, ':', hl);
        if (colon != NULL)
            hl = (size_t)(colon - host);
    } else {
        const char *close = memchr(host, ']', hl);
        if (close != NULL)
            hl = (size_t)(close - host) + 1;
    }
    m.db = db;
    m.best = NULL;
    m.best_host = m.best_path = 0;
    /* Domain entries: the host and every parent domain, squidGuard's "domains" semantics. */
    if (db->nentries > db->nurls) {
        const char *h = host;
        size_t len = hl;
        int ip = urldb_is_ip(host, hl);
        while (len > 0) {
            const struct urldb_entry *e = urldb_find(db, h, len);
            if (e != NULL) {
                urldb_consider(&m, e, len, 0);
                break; /* the longest suffix ranks highest */
            }
            const char *dot = ip ? NULL : memchr(h, '.', len);
            if (dot == NULL)
                break;
            len -= (size_t)(dot + 1 - h);
            h = dot + 1;
        }
    }
    if (db->nurls > 0)
        ww_url_each_expression(canon, urldb_on_expression, &m);
    if (m.best == NULL)
        return WW_ENOTFOUND;
    ww_rating_init(out, WW_REP_SRC_LOCALDB, WW_OK);
    out->score = m.best->score;
    const char *cats = db->catsets[m.best->catset];
    while (*cats != '\0') {
        size_t n = strcspn(cats, ",");
        char name[WW_REP_CATEGORY_LEN];
        size_t cut = n < sizeof(name) - 1 ? n : sizeof(name) - 1;
        memcpy(name, cats, cut);
        name[cut] = '\0';
        ww_rating_add_category(out, name);
        cats += n;
        if (*cats == ',')
            cats++;
    }
    return WW_OK;
}

/* ---- squidGuard import ---- */

struct import_rec {
    char *key;
    uint16_t cat;
};

struct import_state {
    struct import_rec *recs;
    size_t n, cap;
    char **cats;
    int *scores;
    size_t ncats;
    size_t skipped;
};

static int import_cmp(const void *a, const void *b)
{
    const struct import_rec *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c != 0 ? c : (int)x->cat - (int)y->cat;
}

static int import_valid_category(const char *name)
{
    if (name[0] == '\0' || name[0] == '.')
        return 0;
    for (const char *p = name; *p != '\0'; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return 0;
    return strlen(name) < WW_REP_CATEGORY_LEN;
}

static int import_add(struct import_state *st, const char *key, uint16_t cat)
{
    if (st->n == st->cap) {
        size_t want = st->cap != 0 ? st->cap * 2 : 4096;
        struct import_rec *r = realloc(st->recs, want * sizeof(*r));
        if (r == NULL)
            return WW_ENOMEM;
        st->recs = r;
        st->cap = want;
    }
    st->recs[st->n].key = strdup(key);
    if (st->recs[st->n].key == NULL)
        return WW_ENOMEM;
    st->recs[st->n].cat = cat;
    st->n++;
    return WW_OK;
}

/* Reads one squidGuard list file; <is_urls>: entries are host/path prefixes. */
static int import_file(struct import_state *st, const char *path, int is_urls, uint16_t cat)
{
    FILE *fp = fopen(path, "r");
    char line[URLDB_MAX_PATTERN + 64];
    int rc = WW_OK;

    if (fp == NULL)
        return errno == ENOENT ? WW_OK : WW_EIO;
    while (rc == WW_OK && fgets(line, sizeof(line), fp) != NULL) {
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] != '\n' && !feof(fp)) {
            int ch; /* over-long line: skip the rest of it */
            while ((ch = fgetc(fp)) != EOF && ch != '\n')
                ;
            st->skipped++;
            continue;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                           line[len - 1] == '\t'))
            line[--len] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        if (strpbrk(p, " \t") != NULL) {
            st->skipped++;
            continue;
        }
        p = urldb_normalise_pattern(p);
        if (p == NULL || strlen(p) > URLDB_MAX_PATTERN) {
            st->skipped++;
            continue;
        }
        char key[URLDB_MAX_PATTERN + 2];
        if (is_urls && strchr(p, '/') == NULL)
            snprintf(key, sizeof(key), "%s/", p); /* a bare host in urls: that host's paths */
        else
            snprintf(key, sizeof(key), "%s", p);
        rc = import_add(st, key, cat);
    }
    if (ferror(fp))
        rc = WW_EIO;
    fclose(fp);
    return rc;
}

static int import_score_for(const char *category_scores, const char *cat, int def)
{
    size_t cl = strlen(cat);
    const char *p = category_scores;

    while (p != NULL && *p != '\0') {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        if (eq != NULL && (size_t)(eq - p) == cl && strncasecmp(p, cat, cl) == 0)
            return atoi(eq + 1);
        p += n;
        if (*p == ',')
            p++;
    }
    return def;
}

static int import_check_scores(const char *category_scores, char *err, size_t errlen)
{
    const char *p = category_scores;

    while (p != NULL && *p != '\0') {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        char *end = NULL;
        long v = eq != NULL ? strtol(eq + 1, &end, 10) : -1;
        if (eq == NULL || eq == p || end != p + n || v < 0 || v > 100) {
            snprintf(err, errlen, "category scores: want \"category=0..100,...\" near \"%.*s\"",
                     (int)n, p);
            return WW_EINVAL;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return WW_OK;
}

static int import_write(struct import_state *st, FILE *fp, const char *dir, const char *version)
{
    fprintf(fp, "%s %d %s\n", URLDB_HEADER, WW_URLDB_FORMAT, version);
    fprintf(fp, "# imported from squidGuard lists in %s\n", dir);
    for (size_t i = 0; i < st->n;) {
        size_t j = i;
        int score = 0, ncat = 0;
        fprintf(fp, "%s", st->recs[i].key);
        for (; j < st->n && strcmp(st->recs[j].key, st->recs[i].key) == 0; j++) {
            int s = st->scores[st->recs[j].cat];
            if (s > 0 && (score == 0 || s < score))
                score = s;
        }
        fprintf(fp, " %d ", score);
        for (size_t k = i; k < j; k++) {
            if (k > i && st->recs[k].cat == st->recs[k - 1].cat)
                continue;
            if (ncat++ >= WW_REP_MAX_CATEGORIES)
                break;
            fprintf(fp, "%s%s", ncat > 1 ? "," : "", st->cats[st->recs[k].cat]);
        }
        fputc('\n', fp);
        i = j;
    }
    return ferror(fp) ? WW_EIO : WW_OK;
}

int ww_urldb_import_squidguard(const char *dir, const char *out_path, int default_score,
                               const char *category_scores, const char *version,
                               size_t *entries_out, char *err, size_t errlen)
{
    struct import_state st = {0};
    struct dirent **names = NULL;
    int nnames = -1, rc = WW_EINVAL;
    char tmp[4096] = "", vbuf[32];
    FILE *fp = NULL;

    if (default_score < 0 || default_score > 100) {
        snprintf(err, errlen, "default score %d: want 0..100", default_score);
        goto cleanup;
    }
    if (import_check_scores(category_scores, err, errlen) != WW_OK)
        goto cleanup;
    if (version == NULL) {
        time_t now = time(NULL);
        struct tm tm;
        strftime(vbuf, sizeof(vbuf), "%Y.%m.%d.%H%M%S", gmtime_r(&now, &tm));
        version = vbuf;
    }
    if (version[0] == '\0' || strpbrk(version, " \t\r\n") != NULL) {
        snprintf(err, errlen, "version \"%s\": want one word, e.g. 2026.11.27.1", version);
        goto cleanup;
    }
    rc = WW_EIO;
    nnames = scandir(dir, &names, NULL, alphasort);
    if (nnames < 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        goto cleanup;
    }
    rc = WW_ENOMEM;
    st.cats = calloc((size_t)nnames + 1, sizeof(*st.cats));
    st.scores = calloc((size_t)nnames + 1, sizeof(*st.scores));
    if (st.cats == NULL || st.scores == NULL)
        goto cleanup;
    for (int i = 0; i < nnames; i++) {
        char path[4096];
        struct stat sb;
        const char *cat = names[i]->d_name;
        snprintf(path, sizeof(path), "%s/%s", dir, cat);
        if (!import_valid_category(cat) || stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
            continue;
        if (st.ncats >= URLDB_MAX_CATSETS)
            break;
        uint16_t idx = (uint16_t)st.ncats;
        st.cats[idx] = strdup(cat);
        if (st.cats[idx] == NULL)
            goto cleanup;
        for (char *q = st.cats[idx]; *q != '\0'; q++)
            *q = (char)tolower((unsigned char)*q);
        st.scores[idx] = import_score_for(category_scores, cat, default_score);
        st.ncats++;
        static const char *const files[2] = {"domains", "urls"};
        for (int f = 0; f < 2; f++) {
            snprintf(path, sizeof(path), "%s/%s/%s", dir, cat, files[f]);
            rc = import_file(&st, path, f == 1, idx);
            if (rc != WW_OK) {
                snprintf(err, errlen, "%s: %s", path,
                         rc == WW_ENOMEM ? "out of memory" : strerror(errno));
                goto cleanup;
            }
        }
    }
    if (st.ncats == 0) {
        rc = WW_EINVAL;
        snprintf(err, errlen, "%s: no category folders (want <dir>/<category>/domains|urls)", dir);
        goto cleanup;
    }
    qsort(st.recs, st.n, sizeof(*st.recs), import_cmp);
    rc = WW_EIO;
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", out_path, (long)getpid());
    fp = fopen(tmp, "w");
    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        tmp[0] = '\0';
        goto cleanup;
    }
    rc = import_write(&st, fp, dir, version);
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
        rc = WW_EIO;
    if (fclose(fp) != 0)
        rc = WW_EIO;
    fp = NULL;
    if (rc != WW_OK || rename(tmp, out_path) != 0) {
        rc = WW_EIO;
        snprintf(err, errlen, "%s: %s", out_path, strerror(errno));
        goto cleanup;
    }
    tmp[0] = '\0';
    if (entries_out != NULL) {
        size_t distinct = 0;
        for (size_t i = 0; i < st.n; i++)
            if (i == 0 || strcmp(st.recs[i].key, st.recs[i - 1].key) != 0)
                distinct++;
        *entries_out = distinct;
    }
    rc = WW_OK;
cleanup:
    if (fp != NULL)
        fclose(fp);
    if (tmp[0] != '\0')
        unlink(tmp);
    for (size_t i = 0; i < st.n; i++)
        free(st.recs[i].key);
    free(st.recs);
    for (size_t i = 0; st.cats != NULL && i < st.ncats; i++)
        free(st.cats[i]);
    free(st.cats);
    free(st.scores);
    for (int i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    return rc;
}
