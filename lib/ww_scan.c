/* lib/ww_scan.c - the conventional-scan engine: loads a folder of ClamAV-style signature files
 * into an immutable, reference-counted database and scans bodies against it as they stream. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ww_common.h"
#include "ww_counters.h"
#include "ww_hashdb.h"
#include "ww_log.h"
#include "ww_scan.h"
#include "ww_sig.h"

struct ww_engine {
    atomic_size_t refs; /* each scan holds one, so a swapped-out engine lives until it ends */
    struct ww_hashdb *hashdb;
    struct ww_sigdb *sigdb;
    struct ww_engine_stats stats;
};

/* Bytes scanned reach /metrics at least every this many bytes of a body, and at its end. */
#define SCAN_COUNT_BYTES (1u << 20)

struct ww_scan {
    struct ww_engine *engine;         /* one reference, dropped by ww_scan_free() */
    struct ww_sigscan *sig;           /* NULL when the engine has no body signature */
    EVP_MD_CTX *md[WW_HASH_KINDS];    /* NULL for kinds no signature of this body's size uses */
    uint64_t md_until[WW_HASH_KINDS]; /* a kind's digest is dropped once fed passes this */
    int64_t declared;                 /* total_size given to ww_scan_create, -1 if unknown */
    uint64_t fed;                     /* bytes fed so far */
    uint64_t counted;                 /* of them, added to WW_CTR_SCAN_BYTES */
    const char *threat;               /* borrowed from the engine */
    int finished;
    char sha256_hex[2 * 32 + 1];
};

enum file_kind { FILE_NONE, FILE_HDB, FILE_HSB, FILE_NDB, FILE_UNSUPPORTED };

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls > lx && strcmp(s + ls - lx, suffix) == 0;
}

static enum file_kind file_kind_of(const char *name)
{
    static const char *const unsupported[] = {
        ".ldb", ".mdb", ".msb", ".imp", ".cdb",  ".idb", ".cbc",  ".pdb", ".gdb", ".wdb",
        ".ftm", ".fp",  ".sfp", ".ign", ".ign2", ".yar", ".yara", ".crb", ".cat", ".pwdb",
        ".hdu", ".hsu", ".ndu", ".ldu", ".mdu",  ".msu", ".cvd",  ".cld"};
    size_t i;

    if (name[0] == '.')
        return FILE_NONE;
    if (ends_with(name, ".hdb"))
        return FILE_HDB;
    if (ends_with(name, ".hsb"))
        return FILE_HSB;
    if (ends_with(name, ".ndb"))
        return FILE_NDB;
    for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
        if (ends_with(name, unsupported[i]))
            return FILE_UNSUPPORTED;
    return FILE_NONE;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads one signature file; bad or unsupported lines are counted in stats.skipped and reported
 * in ONE warning for the file (a public set may hold thousands we cannot use). WW_OK, WW_EIO
 * (reason in err) or WW_ENOMEM. */
static int engine_load_file(struct ww_engine *e, const char *path, enum file_kind kind, char *err,
                            size_t errlen)
{
    FILE *fp = fopen(path, "r");
    char *line = NULL, first_reason[WW_ERRLEN] = "";
    size_t cap = 0, lineno = 0, skipped = 0, first_line = 0;
    ssize_t got;
    int rc = WW_OK;

    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return WW_EIO;
    }
    while ((got = getline(&line, &cap, fp)) >= 0) {
        char why[WW_ERRLEN] = "";
        int lrc;

        lineno++;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if ((size_t)got != strlen(line)) {
            lrc = WW_EINVAL;
            snprintf(why, sizeof(why), "NUL byte in the line");
        } else if (kind == FILE_NDB)
            lrc = ww_sigdb_add_line(e->sigdb, line, why, sizeof(why));
        else
            lrc = ww_hashdb_add_line(e->hashdb, line, kind == FILE_HSB, why, sizeof(why));
        if (lrc == WW_ENOMEM) {
            rc = WW_ENOMEM;
            snprintf(err, errlen, "%s: out of memory", path);
            goto cleanup;
        }
        if (lrc != WW_OK) {
            if (skipped++ == 0) {
                first_line = lineno;
                snprintf(first_reason, sizeof(first_reason), "%s", why);
            }
        }
    }
    if (ferror(fp)) {
        rc = WW_EIO;
        snprintf(err, errlen, "%s: read error", path);
        goto cleanup;
    }
    e->stats.files++;
    e->stats.skipped += skipped;
    if (skipped > 0 && e->stats.first_skipped[0] == '\0')
        snprintf(e->stats.first_skipped, sizeof(e->stats.first_skipped), "%s:%zu: %s", path,
                 first_line, first_reason);
    if (skipped > 0)
        ww_log(WW_LOG_WARN, "%s: %zu signature line(s) skipped, first at line %zu: %s", path,
               skipped, first_line, first_reason);
cleanup:
    free(line);
    fclose(fp);
    return rc;
}

static void engine_free(struct ww_engine *e)
{
    if (e == NULL)
        return;
    ww_hashdb_free(e->hashdb);
    ww_sigdb_free(e->sigdb);
    free(e);
}

int ww_engine_load_dir(const char *dir, struct ww_engine **out, struct ww_engine_stats *stats,
                       char *err, size_t errlen)
{
    struct ww_engine *e = NULL;
    DIR *d = NULL;
    struct dirent *de;
    char **names = NULL, *path = NULL;
    size_t n = 0, cap = 0, i;
    int rc = WW_ENOMEM;

    *out = NULL;
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        goto nomem;
    atomic_init(&e->refs, 1);
    e->hashdb = ww_hashdb_create();
    e->sigdb = ww_sigdb_create();
    if (e->hashdb == NULL || e->sigdb == NULL)
        goto nomem;
    d = opendir(dir);
    if (d == NULL) {
        rc = WW_EIO;
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        goto cleanup;
    }
    /* Sorted so that the first of two same-digest signatures always wins the same way. */
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (file_kind_of(de->d_name) == FILE_NONE)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = realloc(names, ncap * sizeof(*names));
            if (nn == NULL)
                goto nomem;
            names = nn;
            cap = ncap;
        }
        names[n] = strdup(de->d_name);
        if (names[n] == NULL)
            goto nomem;
        n++;
    }
    if (errno != 0) {
        rc = WW_EIO;
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        goto cleanup;
    }
    if (n > 0)
        qsort(names, n, sizeof(*names), name_cmp);
    for (i = 0; i < n; i++) {
        enum file_kind kind = file_kind_of(names[i]);

        free(path);
        path = malloc(strlen(dir) + strlen(names[i]) + 2);
        if (path == NULL)
            goto nomem;
        sprintf(path, "%s/%s", dir, names[i]);
        if (kind == FILE_UNSUPPORTED) {
            ww_log(WW_LOG_WARN, "%s: signature format not supported, file ignored", path);
            continue;
        }
        rc = engine_load_file(e, path, kind, err, errlen);
        if (rc != WW_OK)
            goto cleanup;
    }
    rc = WW_ENOMEM;
    if (ww_hashdb_finish(e->hashdb) != WW_OK || ww_sigdb_compile(e->sigdb) != WW_OK)
        goto nomem;
    e->stats.hash_sigs = ww_hashdb_count(e->hashdb, WW_HASH_KINDS);
    e->stats.body_sigs = ww_sigdb_count(e->sigdb);
    ww_sigdb_describe_matcher(e->sigdb, e->stats.matcher, sizeof(e->stats.matcher));
    e->stats.memory_bytes = sizeof(*e) + ww_hashdb_memory(e->hashdb) + ww_sigdb_memory(e->sigdb);
    if (e->stats.hash_sigs + e->stats.body_sigs == 0) {
        rc = WW_ENOTFOUND;
        snprintf(err, errlen, "%s: no signatures", dir);
        goto cleanup;
    }
    if (stats != NULL)
        *stats = e->stats;
    *out = e;
    e = NULL;
    rc = WW_OK;
    goto cleanup;
nomem:
    rc = WW_ENOMEM;
    snprintf(err, errlen, "%s: out of memory", dir);
cleanup:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(path);
    if (d != NULL)
        closedir(d);
    engine_free(e);
    return rc;
}

struct ww_engine *ww_engine_ref(struct ww_engine *e)
{
    if (e != NULL)
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
    return e;
}

void ww_engine_unref(struct ww_engine *e)
{
    if (e == NULL)
        return;
    /* acq_rel: the thread that frees must see every other holder's last reads finished. */
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        engine_free(e);
}

void ww_engine_get_stats(const struct ww_engine *e, struct ww_engine_stats *stats)
{
    if (e == NULL) {
        memset(stats, 0, sizeof(*stats));
        return;
    }
    *stats = e->stats;
}

static const EVP_MD *scan_md_of(int kind)
{
    switch (kind) {
    case WW_HASH_MD5:
        return EVP_md5();
    case WW_HASH_SHA1:
        return EVP_sha1();
    default:
        return EVP_sha256();
    }
}

/* Which digests a body needs: the SHA-256 when the caller asks (smart scan), and a kind's digest
 * only when some signature of that kind names the body's size (or "*"). With the size unknown, a
 * kind's digest runs until the body passes the largest size its signatures name. The digests
 * are most of the cost of a clean scan, so most bodies compute none. */
struct ww_scan *ww_scan_create(struct ww_engine *e, int64_t total_size, unsigned flags)
{
    struct ww_scan *s = calloc(1, sizeof(*s));
    int k;

    if (s == NULL)
        return NULL;
    s->engine = ww_engine_ref(e);
    s->declared = total_size >= 0 ? total_size : -1;
    for (k = 0; k < WW_HASH_KINDS; k++) {
        int forced = k == WW_HASH_SHA256 && (flags & WW_SCAN_SHA256);

        if (!forced && !ww_hashdb_size_used(e->hashdb, k, s->declared))
            continue;
        s->md_until[k] = forced || s->declared >= 0 ? UINT64_MAX : ww_hashdb_max_size(e->hashdb, k);
        s->md[k] = EVP_MD_CTX_new();
        if (s->md[k] == NULL || EVP_DigestInit_ex(s->md[k], scan_md_of(k), NULL) != 1)
            goto fail;
    }
    if (ww_sigdb_count(e->sigdb) > 0) {
        s->sig = ww_sigscan_create(e->sigdb, s->declared);
        if (s->sig == NULL)
            goto fail;
    }
    return s;
fail:
    ww_scan_free(s);
    return NULL;
}

/* Adds the bytes fed since the last call to the shared counter (lib/ww_counters): threads of a
 * child share its slot, so an add per 4 KiB chunk had them fight over one cache line. */
static void scan_count_bytes(struct ww_scan *s)
{
    ww_ctr_add(WW_CTR_SCAN_BYTES, s->fed - s->counted);
    s->counted = s->fed;
}

int ww_scan_feed(struct ww_scan *s, const void *data, size_t len)
{
    int k;

    if (s->finished || len == 0)
        return s->threat != NULL;
    s->fed += len;
    for (k = 0; k < WW_HASH_KINDS; k++) {
        if (s->md[k] == NULL)
            continue;
        if (s->fed > s->md_until[k]) { /* bigger than any signature of the kind: no match */
            EVP_MD_CTX_free(s->md[k]);
            s->md[k] = NULL;
            continue;
        }
        EVP_DigestUpdate(s->md[k], data, len);
    }
    if (s->fed - s->counted >= SCAN_COUNT_BYTES) /* one shared atomic per MiB, not per chunk */
        scan_count_bytes(s);
    if (s->threat == NULL && s->sig != NULL &&
        (s->threat = ww_sigscan_feed(s->sig, data, len)) != NULL)
        ww_ctr_add(WW_CTR_DETECT_SIGNATURE, 1);
    return s->threat != NULL;
}

/* A body whose length is not the size it declared, when a digest skipped for the declared size
 * would have been needed for the real one: the hash signatures cannot be checked. */
static int scan_size_unverified(const struct ww_scan *s)
{
    int k;

    if (s->declared < 0 || (uint64_t)s->declared == s->fed)
        return 0;
    for (k = 0; k < WW_HASH_KINDS; k++)
        if (s->md[k] == NULL && !ww_hashdb_size_used(s->engine->hashdb, k, s->declared) &&
            ww_hashdb_size_used(s->engine->hashdb, k, (int64_t)s->fed))
            return 1;
    return 0;
}

int ww_scan_finish(struct ww_scan *s)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen, i;
    int k, had_threat;

    if (s->finished)
        return s->threat != NULL;
    s->finished = 1;
    had_threat = s->threat != NULL; /* counted in ww_scan_feed */
    if (s->threat == NULL && s->sig != NULL)
        s->threat = ww_sigscan_finish(s->sig);
    for (k = 0; k < WW_HASH_KINDS; k++) {
        const char *name;

        if (s->md[k] == NULL || EVP_DigestFinal_ex(s->md[k], digest, &dlen) != 1)
            continue;
        if (k == WW_HASH_SHA256) {
            for (i = 0; i < dlen && i < 32; i++) {
                s->sha256_hex[2 * i] = hex[digest[i] >> 4];
                s->sha256_hex[2 * i + 1] = hex[digest[i] & 15];
            }
            s->sha256_hex[2 * i] = '\0';
        }
        name = ww_hashdb_lookup(s->engine->hashdb, k, digest, s->fed);
        if (s->threat == NULL && name != NULL)
            s->threat = name;
    }
    scan_count_bytes(s);
    if (s->threat == NULL && scan_size_unverified(s))
        s->threat = WW_THREAT_SIZE_MISMATCH;
    ww_ctr_add(WW_CTR_DETECT_SIGNATURE, !had_threat && s->threat != NULL);
    return s->threat != NULL;
}

const char *ww_scan_threat(const struct ww_scan *s)
{
    return s->threat;
}

const char *ww_scan_incomplete(const struct ww_scan *s)
{
    return s->sig != NULL ? ww_sigscan_incomplete(s->sig) : NULL;
}

const char *ww_scan_sha256(const struct ww_scan *s)
{
    return s->finished && s->sha256_hex[0] != '\0' ? s->sha256_hex : NULL;
}

void ww_scan_free(struct ww_scan *s)
{
    int k;

    if (s == NULL)
        return;
    scan_count_bytes(s);
    for (k = 0; k < WW_HASH_KINDS; k++)
        EVP_MD_CTX_free(s->md[k]);
    ww_sigscan_free(s->sig);
    ww_engine_unref(s->engine);
    free(s);
}
