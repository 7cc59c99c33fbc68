/* lib/ww_update.c - one update pass: manifest, signature, download, verify, install, record. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_endpoint.h"
#include "ww_file.h"
#include "ww_http.h"
#include "ww_license.h"
#include "ww_log.h"
#include "ww_scan.h"
#include "ww_store.h"
#include "ww_update.h"
#include "ww_urldb.h"

#define UPDATE_MANIFEST_MAX (1LL << 20) /* PROTOCOL.md: bodies over 1 MiB are failures */
#define UPDATE_SIG_MAX 4096
#define UPDATE_VERSION_MAX 64

/* snprintf that says whether it fit (0) or truncated (-1); messages and paths here are cut
 * deliberately at their buffer's size, and update.dir is checked short enough up front. */
static int fmt_to(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fmt_to(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ---- versions ---- */

int ww_update_version_valid(const char *v)
{
    size_t len = v != NULL ? strnlen(v, UPDATE_VERSION_MAX) : 0;
    int digits = 0;

    if (len == 0 || len >= UPDATE_VERSION_MAX)
        return 0;
    for (size_t n = 0; n < len; n++) {
        if (v[n] >= '0' && v[n] <= '9') {
            digits++;
        } else if (v[n] == '.' && digits > 0) {
            digits = 0;
        } else {
            return 0;
        }
    }
    return digits > 0;
}

/* Next dot-separated part of *p (advancing past it): its digits without leading zeros. */
static void version_part(const char **p, const char **start, size_t *len)
{
    const char *s = *p;

    while (*s == '0' && s[1] >= '0' && s[1] <= '9')
        s++;
    *start = s;
    while (*s >= '0' && *s <= '9')
        s++;
    *len = (size_t)(s - *start);
    if (*len == 1 && **start == '0')
        *len = 0; /* "0" sorts like a missing part */
    *p = *s == '.' ? s + 1 : s;
}

int ww_update_version_cmp(const char *a, const char *b)
{
    int va = ww_update_version_valid(a), vb = ww_update_version_valid(b);

    if (!va || !vb) {
        if (va != vb)
            return va - vb;
        return strcmp(a != NULL ? a : "", b != NULL ? b : "");
    }
    while (*a != '\0' || *b != '\0') {
        const char *sa, *sb;
        size_t la, lb;
        int c;

        version_part(&a, &sa, &la);
        version_part(&b, &sb, &lb);
        if (la != lb)
            return la < lb ? -1 : 1; /* without leading zeros, longer is bigger */
        c = memcmp(sa, sb, la);
        if (c != 0)
            return c < 0 ? -1 : 1;
    }
    return 0;
}

/* ---- one pass's context ---- */

struct update_run {
    struct ww_store *st;
    const struct ww_conf *conf;
    struct ww_http *h;
    long (*time_left_ms)(void *arg);
    void *arg;
    char base[2048]; /* update.server without trailing '/' */
};

/* Timeout for the next request: update.timeout_s, or less when the caller's budget is shorter.
 * 0 when there is no time left at all. */
static int run_timeout_ms(const struct update_run *r)
{
    long left = r->time_left_ms != NULL ? r->time_left_ms(r->arg) : -1;
    long ms = (long)r->conf->update.timeout_s * 1000;

    if (ms <= 0)
        ms = 300000;
    if (left == 0)
        return 0;
    if (left > 0 && left < ms)
        ms = left;
    return (int)ms;
}

/* ---- small file helpers ---- */

/* Removes folder <path> and the plain files in it (our folders hold nothing else). */
static void rm_flat_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;

    if (d != NULL) {
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                unlinkat(dirfd(d), de->d_name, 0);
        }
        closedir(d);
    }
    rmdir(path);
}

/* ---- fetching ---- */

/* GET <url> into <fd>. WW_OK only for a 200 answer; else WW_E* and one line in <why>. */
static int run_fetch(struct update_run *r, const char *url, int fd, long long max_bytes,
                     long long *bytes, char *why, size_t whylen)
{
    struct ww_http_download_opts o = {max_bytes, 0, r->time_left_ms, r->arg};
    struct ww_http_download_status ds = {0, 0, 0};
    int rc;

    o.timeout_ms = run_timeout_ms(r);
    if (o.timeout_ms == 0) {
        fmt_to(why, whylen, "%s: no time left (stopping)", url);
        return WW_ETIMEOUT;
    }
    rc = ww_http_download(r->h, url, fd, &o, &ds);
    if (bytes != NULL)
        *bytes = ds.bytes;
    if (rc == WW_ETOOBIG) {
        fmt_to(why, whylen, "%s: larger than %lld bytes", url, max_bytes);
        return rc;
    }
    if (rc == WW_EUNAVAIL && ds.bytes > 0) {
        fmt_to(why, whylen, "%s: truncated download: connection lost after %lld bytes (%s)", url,
               ds.bytes, ww_http_last_error(r->h));
        return WW_EPROTO;
    }
    if (rc != WW_OK) {
        fmt_to(why, whylen, "%s: %s (%s)", url, ww_strerror(rc), ww_http_last_error(r->h));
        return rc;
    }
    if (ds.status != 200) {
        fmt_to(why, whylen, "%s: HTTP status %ld", url, ds.status);
        return ds.status == 404 ? WW_ENOTFOUND : WW_EUNAVAIL;
    }
    return WW_OK;
}

/* GET <path> (relative to the server) into a malloc'd NUL-terminated buffer. The bytes go
 * through an unlinked temporary file in <tmpdir>, so the same timeout, cancel and cap rules as
 * payloads apply. */
static int run_fetch_mem(struct update_run *r, const char *tmpdir, const char *path,
                         long long max_bytes, char **out, size_t *outlen, char *why, size_t whylen)
{
    char url[4096], tmp[PATH_MAX];
    long long bytes = 0;
    char *buf = NULL;
    int fd = -1, rc;

    *out = NULL;
    fmt_to(url, sizeof(url), "%s%s", r->base, path);
    fmt_to(tmp, sizeof(tmp), "%s/.tmp-fetch-XXXXXX", tmpdir);
    fd = mkstemp(tmp);
    if (fd < 0) {
        fmt_to(why, whylen, "%s: %s", tmp, strerror(errno));
        return WW_EIO;
    }
    unlink(tmp);
    rc = run_fetch(r, url, fd, max_bytes, &bytes, why, whylen);
    if (rc != WW_OK)
        goto cleanup;
    rc = WW_ENOMEM;
    buf = malloc((size_t)bytes + 1);
    if (buf == NULL)
        goto cleanup;
    if (pread(fd, buf, (size_t)bytes, 0) != (ssize_t)bytes) {
        fmt_to(why, whylen, "%s: read back: %s", path, strerror(errno));
        rc = WW_EIO;
        goto cleanup;
    }
    buf[bytes] = '\0';
    *out = buf;
    *outlen = (size_t)bytes;
    buf = NULL;
    rc = WW_OK;
cleanup:
    free(buf);
    close(fd);
    return rc;
}

/* ---- signature ---- */

/* Strict base64 (whitespace around it ignored) into <out>; decoded length or -1. */
static long b64_decode(const char *in, unsigned char *out, size_t outcap)
{
    size_t n, pad = 0;
    unsigned char *tmp;
    int len;

    while (isspace((unsigned char)*in))
        in++;
    n = strlen(in);
    while (n > 0 && isspace((unsigned char)in[n - 1]))
        n--;
    if (n == 0 || n % 4 != 0 || n / 4 * 3 > outcap + 2)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (!(isalnum(c) || c == '+' || c == '/' || (c == '=' && i >= n - 2)))
            return -1;
    }
    if (in[n - 1] == '=')
        pad = in[n - 2] == '=' ? 2 : 1;
    tmp = malloc(n / 4 * 3 + 1);
    if (tmp == NULL)
        return -1;
    len = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)n);
    if (len < 0 || (size_t)len < pad || (size_t)len - pad > outcap) {
        free(tmp);
        return -1;
    }
    len -= (int)pad;
    memcpy(out, tmp, (size_t)len);
    free(tmp);
    return len;
}

/* The Ed25519 key of update.public_key: base64 of the raw 32 bytes, or of the DER
 * SubjectPublicKeyInfo (what `openssl pkey -pubout -outform DER` writes). NULL if it is neither. */
static EVP_PKEY *update_public_key(const char *b64)
{
    unsigned char raw[256];
    long n = b64_decode(b64, raw, sizeof(raw));
    const unsigned char *p = raw;
    EVP_PKEY *k;

    if (n == 32)
        return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
    if (n <= 0)
        return NULL;
    k = d2i_PUBKEY(NULL, &p, n);
    if (k != NULL && EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(k);
        k = NULL;
    }
    return k;
}

/* WW_OK if <sig_b64> is a valid Ed25519 signature of <msg> by key <key_b64>. */
static int update_verify(const char *key_b64, const char *msg, size_t msglen, const char *sig_b64,
                         char *why, size_t whylen)
{
    unsigned char sig[128];
    long siglen = b64_decode(sig_b64, sig, sizeof(sig));
    EVP_PKEY *key = update_public_key(key_b64);
    EVP_MD_CTX *ctx = NULL;
    int rc = WW_EINVAL;

    if (key == NULL) {
        fmt_to(why, whylen, "update.public_key is not a base64 Ed25519 public key");
        goto cleanup;
    }
    if (siglen != 64) {
        fmt_to(why, whylen, "manifest signature: not a base64 Ed25519 signature");
        goto cleanup;
    }
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) != 1) {
        fmt_to(why, whylen, "manifest signature: cannot set up verification");
        goto cleanup;
    }
    if (EVP_DigestVerify(ctx, sig, (size_t)siglen, (const unsigned char *)msg, msglen) != 1) {
        fmt_to(why, whylen, "manifest signature does not match update.public_key");
        goto cleanup;
    }
    rc = WW_OK;
cleanup:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return rc;
}

/* ---- the manifest ---- */

enum { COMP_PATTERN, COMP_URLDB, COMP_ENGINE, COMP_N };
static const char *const comp_names[COMP_N] = {"pattern", "urldb", "engine"};

struct manifest_entry {
    int present;
    char version[UPDATE_VERSION_MAX];
    char url[2048];
    long long size;
    char sha256[65];
    char min_engine[UPDATE_VERSION_MAX]; /* "" = none */
};

static int is_hex64(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    }
    return i == 64;
}

/* Parses the manifest strictly: every entry of a known component must be complete and sane;
 * unknown components and fields are ignored (PROTOCOL.md: clients ignore unknown fields). */
static int manifest_parse(const char *body, size_t len, long long max_download,
                          struct manifest_entry ent[COMP_N], char *why, size_t whylen)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr), *comps, *c;
    size_t i;
    int rc = WW_EPROTO;

    memset(ent, 0, sizeof(struct manifest_entry) * COMP_N);
    if (root == NULL) {
        fmt_to(why, whylen, "manifest: not JSON: %s (line %d)", jerr.text, jerr.line);
        return WW_EPROTO;
    }
    comps = json_object_get(root, "components");
    if (!json_is_object(root) || !json_is_array(comps)) {
        fmt_to(why, whylen, "manifest: no \"components\" array");
        goto cleanup;
    }
    json_array_foreach(comps, i, c)
    {
        const char *name = NULL, *version = NULL, *url = NULL, *sha = NULL, *min_engine = NULL;
        json_int_t size = -1;
        struct manifest_entry *e = NULL;
        int k;

        if (json_unpack_ex(c, &jerr, 0, "{s:s, s:s, s?s, s?I, s?s, s?s}", "name", &name, "version",
                           &version, "url", &url, "size", &size, "sha256", &sha, "min_engine",
                           &min_engine) != 0) {
            fmt_to(why, whylen, "manifest: components[%zu]: %s", i, jerr.text);
            goto cleanup;
        }
        for (k = 0; k < COMP_N; k++) {
            if (strcmp(name, comp_names[k]) == 0)
                e = &ent[k];
        }
        if (e == NULL)
            continue;
        if (e->present) {
            fmt_to(why, whylen, "manifest: component \"%s\" listed twice", name);
            goto cleanup;
        }
        if (!ww_update_version_valid(version)) {
            fmt_to(why, whylen, "manifest: %s: bad version \"%.64s\"", name, version);
            goto cleanup;
        }
        if (min_engine != NULL && !ww_update_version_valid(min_engine)) {
            fmt_to(why, whylen, "manifest: %s: bad min_engine \"%.64s\"", name, min_engine);
            goto cleanup;
        }
        e->present = 1;
        fmt_to(e->version, sizeof(e->version), "%s", version);
        fmt_to(e->min_engine, sizeof(e->min_engine), "%s", min_engine ? min_engine : "");
        if (e == &ent[COMP_ENGINE])
            continue; /* announces a version, carries no payload */
        if (url == NULL || url[0] == '\0' || strlen(url) >= sizeof(e->url) ||
            strpbrk(url, " \t\r\n\"\\<>") != NULL) {
            fmt_to(why, whylen, "manifest: %s: missing or bad url", name);
            goto cleanup;
        }
        if (sha == NULL || !is_hex64(sha)) {
            fmt_to(why, whylen, "manifest: %s: sha256 is not 64 hex digits", name);
            goto cleanup;
        }
        if (size < 0) {
            fmt_to(why, whylen, "manifest: %s: missing or negative size", name);
            goto cleanup;
        }
        if (max_download > 0 && size > max_download) {
            fmt_to(why, whylen, "%s %s: %lld bytes, over update.max_download (%lld)", name, version,
                   (long long)size, max_download);
            rc = WW_ETOOBIG;
            goto cleanup;
        }
        fmt_to(e->url, sizeof(e->url), "%s", url);
        e->size = (long long)size;
        for (char *p = e->sha256; (*p = (char)tolower((unsigned char)*sha)) != '\0'; p++, sha++)
            ;
    }
    rc = WW_OK;
cleanup:
    json_decref(root);
    return rc;
}

int ww_update_parse_manifest(const char *body, size_t len, long long max_download, char *why,
                             size_t whylen)
{
    struct manifest_entry ent[COMP_N];

    return manifest_parse(body, len, max_download, ent, why, whylen);
}

/* ---- the lock ---- */

static int update_lock(const char *dir, int *fd_out, char *why, size_t whylen)
{
    char path[PATH_MAX];
    int fd;

    fmt_to(path, sizeof(path), "%s/.update.lock", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fmt_to(why, whylen, "%s: %s", path, strerror(errno));
        return WW_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        fmt_to(why, whylen, "another update is running (%s)", path);
        return WW_EBUSY;
    }
    *fd_out = fd;
    return WW_OK;
}

/* ---- pattern archives ---- */

static int pattern_name_ok(const char *name)
{
    if (name[0] == '\0' || name[0] == '.' || strlen(name) > 200)
        return 0;
    for (const char *p = name; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
            return 0;
    }
    return 1;
}

/* Extracts tar or tar.gz <archive_path> into the empty folder <dir>. Only plain files at the top
 * level (a leading "./" is fine) with tame names: absolute paths, "..", links, devices, nested
 * folders and more than WW_UPDATE_MAX_FILES files are refused, as is more than <max_bytes> of
 * content (a gzip bomb). Every file is fsync'd. */
static int pattern_extract(const char *archive_path, const char *dir, long long max_bytes,
                           char *why, size_t whylen)
{
    struct archive *a = archive_read_new();
    struct archive_entry *ae;
    long long total = 0;
    int files = 0, rc = WW_EINVAL, r, fd = -1;
    char buf[65536], path[PATH_MAX];

    if (a == NULL) {
        fmt_to(why, whylen, "pattern archive: out of memory");
        return WW_ENOMEM;
    }
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, archive_path, 65536) != ARCHIVE_OK) {
        fmt_to(why, whylen, "pattern archive: %s", archive_error_string(a));
        goto cleanup;
    }
    while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(ae);
        mode_t type = archive_entry_filetype(ae);
        la_ssize_t n;

        if (name == NULL) {
            fmt_to(why, whylen, "pattern archive: entry without a name");
            goto cleanup;
        }
        if (name[0] == '/' || strstr(name, "..") != NULL) {
            fmt_to(why, whylen, "pattern archive: unsafe path \"%.200s\"", name);
            goto cleanup;
        }
        while (name[0] == '.' && name[1] == '/')
            name += 2;
        if (type == AE_IFDIR && (name[0] == '\0' || strcmp(name, ".") == 0))
            continue; /* the archive's own top folder "./" */
        if (type != AE_IFREG || archive_entry_hardlink(ae) != NULL ||
            archive_entry_symlink(ae) != NULL) {
            fmt_to(why, whylen, "pattern archive: \"%.200s\" is not a plain file", name);
            goto cleanup;
        }
        if (!pattern_name_ok(name)) {
            fmt_to(why, whylen, "pattern archive: refused file name \"%.200s\"", name);
            goto cleanup;
        }
        if (++files > WW_UPDATE_MAX_FILES) {
            fmt_to(why, whylen, "pattern archive: more than %d files", WW_UPDATE_MAX_FILES);
            goto cleanup;
        }
        fmt_to(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            fmt_to(why, whylen, "%s: %s", path, strerror(errno));
            rc = errno == EEXIST ? WW_EINVAL : WW_EIO;
            goto cleanup;
        }
        while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
            total += n;
            if (total > max_bytes) {
                fmt_to(why, whylen, "pattern archive: content over %lld bytes", max_bytes);
                goto cleanup;
            }
            for (la_ssize_t off = 0; off < n;) {
                ssize_t w = write(fd, buf + off, (size_t)(n - off));
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0) {
                    fmt_to(why, whylen, "%s: write: %s", path, strerror(errno));
                    rc = WW_EIO;
                    goto cleanup;
                }
                off += w;
            }
        }
        if (n < 0) {
            fmt_to(why, whylen, "pattern archive: %s", archive_error_string(a));
            goto cleanup;
        }
        if (fsync(fd) != 0 || close(fd) != 0) {
            fd = -1;
            fmt_to(why, whylen, "%s: %s", path, strerror(errno));
            rc = WW_EIO;
            goto cleanup;
        }
        fd = -1;
    }
    if (r != ARCHIVE_EOF) {
        fmt_to(why, whylen, "pattern archive: %s", archive_error_string(a));
        goto cleanup;
    }
    if (files == 0) {
        fmt_to(why, whylen, "pattern archive: no files");
        goto cleanup;
    }
    rc = WW_OK;
cleanup:
    if (fd >= 0)
        close(fd);
    archive_read_free(a);
    return rc;
}

/* A pattern folder must compile completely: a line the engine skips means the package is not
 * for this engine (min_engine should have said so) or is damaged. */
static int pattern_check(const char *dir, char *why, size_t whylen)
{
    struct ww_engine *e = NULL;
    struct ww_engine_stats stats;
    char err[WW_ERRLEN] = "";
    int rc;

    memset(&stats, 0, sizeof(stats));
    rc = ww_engine_load_dir(dir, &e, &stats, err, sizeof(err));
    if (rc != WW_OK) {
        fmt_to(why, whylen, "pattern does not compile: %s", err);
        return rc;
    }
    ww_engine_get_stats(e, &stats);
    ww_engine_unref(e);
    if (stats.skipped > 0) {
        fmt_to(why, whylen, "pattern does not compile: %zu bad signature lines", stats.skipped);
        return WW_EINVAL;
    }
    return WW_OK;
}

static int urldb_check(const char *path, char *why, size_t whylen)
{
    struct ww_urldb *db = NULL;
    char err[WW_ERRLEN] = "";
    int rc = ww_urldb_load(path, &db, err, sizeof(err));

    if (rc != WW_OK)
        fmt_to(why, whylen, "urldb does not load: %s", err);
    ww_urldb_unref(db);
    return rc;
}

/* ---- installing ---- */

/* Renames <from> to <to>, first moving an existing <to> (left by an install that was never
 * recorded) out of the way; then makes the rename durable. */
static int install_rename(const char *from, const char *to, const char *parent, int is_dir,
                          char *why, size_t whylen)
{
    char old[PATH_MAX] = "";
    struct stat sb;

    if (lstat(to, &sb) == 0) {
        fmt_to(old, sizeof(old), "%s/.tmp-old-%ld-%d", parent, (long)time(NULL), (int)getpid());
        if (rename(to, old) != 0) {
            fmt_to(why, whylen, "%s: %s", to, strerror(errno));
            return WW_EIO;
        }
    }
    if (rename(from, to) != 0) {
        fmt_to(why, whylen, "rename to %s: %s", to, strerror(errno));
        if (old[0] != '\0')
            rename(old, to);
        return WW_EIO;
    }
    if (old[0] != '\0') {
        if (is_dir)
            rm_flat_dir(old);
        else
            unlink(old);
    }
    if (ww_file_fsync_path(parent, 1) != 0) {
        fmt_to(why, whylen, "%s: fsync: %s", parent, strerror(errno));
        return WW_EIO;
    }
    return WW_OK;
}

struct keep_set {
    char paths[WW_UPDATE_KEEP + 1][1024];
    int n;
    int seen;
};

static void keep_collect(const struct ww_component *c, void *arg)
{
    struct keep_set *k = arg;

    /* The current one always stays, plus the newest WW_UPDATE_KEEP installs. */
    if ((c->current || k->seen < WW_UPDATE_KEEP) && k->n < WW_UPDATE_KEEP + 1)
        fmt_to(k->paths[k->n++], sizeof(k->paths[0]), "%s", c->path);
    k->seen++;
}

/* Removes installed versions of <name> beyond the newest WW_UPDATE_KEEP (never the current one),
 * and temporary names left by a run that died (we hold the lock: none is in use). */
static void install_prune(struct ww_store *st, const char *name, const char *cdir)
{
    struct keep_set keep;
    DIR *d = opendir(cdir);
    struct dirent *de;
    char path[PATH_MAX];

    memset(&keep, 0, sizeof(keep));
    if (d == NULL || ww_store_component_history(st, name, keep_collect, &keep) != WW_OK) {
        if (d != NULL)
            closedir(d);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        char ver[UPDATE_VERSION_MAX];
        int kept = 0, tmp = strncmp(de->d_name, ".tmp-", 5) == 0;
        size_t n = strlen(de->d_name);

        fmt_to(ver, sizeof(ver), "%.*s", (int)(n > 6 ? n : 0), de->d_name);
        if (strcmp(name, "urldb") == 0 && n > 6 && strcmp(de->d_name + n - 6, ".urldb") == 0)
            ver[n - 6] = '\0';
        if (!tmp && !ww_update_version_valid(ver) && !ww_update_version_valid(de->d_name))
            continue; /* not ours */
        fmt_to(path, sizeof(path), "%s/%s", cdir, de->d_name);
        for (int i = 0; i < keep.n; i++)
            kept |= strcmp(keep.paths[i], path) == 0;
        if (kept)
            continue;
        if (de->d_type == DT_DIR)
            rm_flat_dir(path);
        else
            unlink(path);
        ww_log(WW_LOG_DEBUG, "update: pruned %s", path);
    }
    closedir(d);
}

/* Downloads, verifies and installs component <k> (<e> from the manifest). WW_OK with the new
 * path in <c>; else the reason in <why>, nothing installed and no temporary name left. */
static int install_component(struct update_run *r, int k, const struct manifest_entry *e,
                             struct ww_component *c, char *why, size_t whylen)
{
    const struct ww_conf *conf = r->conf;
    char cdir[PATH_MAX], tmp[PATH_MAX], tmpdir[PATH_MAX] = "", final[PATH_MAX], url[4096];
    char hex[65] = "";
    long long bytes = 0, max_bytes;
    int fd = -1, rc;

    fmt_to(cdir, sizeof(cdir), "%s/%s", conf->update.dir, comp_names[k]);
    if (ww_file_mkdir_p(cdir, NULL, 0) != WW_OK) {
        fmt_to(why, whylen, "%s: %s", cdir, strerror(errno));
        return WW_EIO;
    }
    if (strncmp(e->url, "http://", 7) == 0 || strncmp(e->url, "https://", 8) == 0)
        fmt_to(url, sizeof(url), "%s", e->url);
    else
        fmt_to(url, sizeof(url), "%s%s%s", r->base, e->url[0] == '/' ? "" : "/", e->url);
    fmt_to(tmp, sizeof(tmp), "%s/.tmp-download-XXXXXX", cdir);
    fd = mkstemp(tmp);
    if (fd < 0) {
        fmt_to(why, whylen, "%s: %s", tmp, strerror(errno));
        tmp[0] = '\0';
        rc = WW_EIO;
        goto cleanup;
    }
    fchmod(fd, 0644); /* c-icap's children read it, perhaps as another user */
    rc = run_fetch(r, url, fd, e->size, &bytes, why, whylen);
    if (rc == WW_ETOOBIG)
        fmt_to(why, whylen, "%s %s: download larger than the announced %lld bytes", comp_names[k],
               e->version, e->size);
    if (rc != WW_OK)
        goto cleanup;
    if (bytes != e->size) {
        fmt_to(why, whylen, "%s %s: truncated download: %lld of %lld bytes", comp_names[k],
               e->version, bytes, e->size);
        rc = WW_EPROTO;
        goto cleanup;
    }
    if (fsync(fd) != 0) {
        fmt_to(why, whylen, "%s: fsync: %s", tmp, strerror(errno));
        rc = WW_EIO;
        goto cleanup;
    }
    close(fd);
    fd = -1;
    rc = ww_file_sha256(tmp, hex);
    if (rc != WW_OK) {
        fmt_to(why, whylen, "%s: cannot read back", tmp);
        goto cleanup;
    }
    if (strcmp(hex, e->sha256) != 0) {
        fmt_to(why, whylen, "%s %s: SHA-256 mismatch (got %.16s..., want %.16s...)", comp_names[k],
               e->version, hex, e->sha256);
        rc = WW_EPROTO;
        goto cleanup;
    }
    if (k == COMP_PATTERN) {
        fmt_to(tmpdir, sizeof(tmpdir), "%s/.tmp-%s-XXXXXX", cdir, e->version);
        if (mkdtemp(tmpdir) == NULL) {
            fmt_to(why, whylen, "%s: %s", tmpdir, strerror(errno));
            tmpdir[0] = '\0';
            rc = WW_EIO;
            goto cleanup;
        }
        chmod(tmpdir, 0755);
        max_bytes = conf->update.max_download > 0 ? conf->update.max_download * 4 : 1LL << 32;
        rc = pattern_extract(tmp, tmpdir, max_bytes, why, whylen);
        if (rc == WW_OK)
            rc = pattern_check(tmpdir, why, whylen);
        if (rc == WW_OK && ww_file_fsync_path(tmpdir, 1) != 0) {
            fmt_to(why, whylen, "%s: fsync: %s", tmpdir, strerror(errno));
            rc = WW_EIO;
        }
        if (rc != WW_OK)
            goto cleanup;
        fmt_to(final, sizeof(final), "%s/%s", cdir, e->version);
        rc = install_rename(tmpdir, final, cdir, 1, why, whylen);
        if (rc != WW_OK)
            goto cleanup;
        tmpdir[0] = '\0';
    } else {
        rc = urldb_check(tmp, why, whylen);
        if (rc != WW_OK)
            goto cleanup;
        fmt_to(final, sizeof(final), "%s/%s.urldb", cdir, e->version);
        rc = install_rename(tmp, final, cdir, 0, why, whylen);
        if (rc != WW_OK)
            goto cleanup;
    }
    memset(c, 0, sizeof(*c));
    fmt_to(c->name, sizeof(c->name), "%s", comp_names[k]);
    fmt_to(c->version, sizeof(c->version), "%s", e->version);
    if (strlen(final) >= sizeof(c->path)) {
        fmt_to(why, whylen, "%s: path too long for the store", final);
        rc = WW_ETOOBIG;
    } else {
        fmt_to(c->path, sizeof(c->path), "%s", final);
        fmt_to(c->sha256, sizeof(c->sha256), "%s", hex);
        rc = ww_store_component_install(r->st, c);
        if (rc != WW_OK)
            fmt_to(why, whylen, "%s %s: cannot record the install in the store", comp_names[k],
                   e->version);
    }
    if (rc != WW_OK) {
        /* Not recorded, so nobody uses it: it goes, the current version stays. */
        if (k == COMP_PATTERN)
            rm_flat_dir(final);
        else
            unlink(final);
    }
cleanup:
    if (fd >= 0)
        close(fd);
    if (tmp[0] != '\0')
        unlink(tmp); /* no-op once renamed (urldb) */
    if (tmpdir[0] != '\0')
        rm_flat_dir(tmpdir);
    return rc;
}

/* ---- the pass ---- */

static void appendf(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void appendf(char *out, size_t len, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;

    if (n + 1 >= len)
        return;
    va_start(ap, fmt);
    vsnprintf(out + n, len - n, fmt, ap);
    va_end(ap);
}

/* Records the outcome of a pass in the kv, the log and (installs, failures) the events. */
static void run_record(struct ww_store *st, const char *result, const char *reason,
                       const char *installed)
{
    char now[32];

    fmt_to(now, sizeof(now), "%lld", (long long)time(NULL));
    ww_store_kv_set(st, "update.last_attempt", now);
    ww_store_kv_set(st, "update.result", result);
    ww_store_kv_set(st, "update.reason", reason);
    if (installed[0] != '\0') {
        ww_log(WW_LOG_INFO, "update: installed %s", installed);
        ww_store_add_event(st, "info", "update", installed);
    }
    if (strcmp(result, "failed") == 0) {
        ww_log(WW_LOG_ERR, "update failed: %s", reason);
        char msg[512];
        fmt_to(msg, sizeof(msg), "update failed: %s", reason);
        ww_store_add_event(st, "error", "update", msg);
    } else if (installed[0] == '\0') {
        ww_log(WW_LOG_INFO, "update: %s: %s", result, reason);
    }
}

/* The running engine is this build's: recorded so the components table shows it. */
static void record_engine(struct ww_store *st)
{
    struct ww_component c;

    if (ww_store_component_get(st, "engine", &c) == WW_OK &&
        strcmp(c.version, WW_ENGINE_VERSION) == 0)
        return;
    memset(&c, 0, sizeof(c));
    fmt_to(c.name, sizeof(c.name), "engine");
    fmt_to(c.version, sizeof(c.version), "%s", WW_ENGINE_VERSION);
    ww_store_component_install(st, &c);
}

int ww_update_run_once_until(struct ww_store *st, const struct ww_conf *conf, struct ww_http *h,
                             long (*time_left_ms)(void *arg), void *arg, char *result, size_t len)
{
    struct update_run r;
    struct manifest_entry ent[COMP_N];
    struct ww_http *own = NULL;
    char why[WW_ERRLEN] = "", reason[1024] = "", installed[512] = "", current[256] = "";
    char appliance[128] = "", cdir[PATH_MAX], *manifest = NULL, *sig = NULL;
    size_t mlen = 0, slen = 0;
    int lock_fd = -1, rc = WW_OK, failed = 0;

    memset(&r, 0, sizeof(r));
    r.st = st;
    r.conf = conf;
    r.time_left_ms = time_left_ms;
    r.arg = arg;
    if (conf->update.server == NULL || conf->update.server[0] == '\0') {
        fmt_to(result, len, "not configured: update.server is empty");
        return WW_OK;
    }
    fmt_to(r.base, sizeof(r.base), "%.*s", (int)ww_endpoint_base_len(conf->update.server),
           conf->update.server);
    if (conf->update.dir != NULL && strlen(conf->update.dir) > PATH_MAX - 256) {
        fmt_to(why, sizeof(why), "update.dir is longer than %d bytes", PATH_MAX - 256);
        rc = WW_EINVAL;
        goto fail;
    }
    if (conf->update.dir == NULL || conf->update.dir[0] == '\0' ||
        ww_file_mkdir_p(conf->update.dir, NULL, 0) != WW_OK) {
        fmt_to(why, sizeof(why), "update.dir \"%s\": %s", conf->update.dir ? conf->update.dir : "",
               strerror(errno));
        rc = WW_EIO;
        goto fail;
    }
    rc = update_lock(conf->update.dir, &lock_fd, why, sizeof(why));
    if (rc == WW_EBUSY) {
        fmt_to(result, len, "busy: %s", why);
        return rc;
    }
    if (rc != WW_OK)
        goto fail;
    record_engine(st);
    /* The license decides whether updates run at all (expired past its grace period: no);
     * every refused attempt is recorded with the license's reason. */
    {
        struct ww_license lic;

        if (ww_store_license_get(st, &lic) != WW_OK) {
            fmt_to(why, sizeof(why), "cannot read the license from the state store");
            rc = WW_EDB;
            goto fail;
        }
        if (!ww_license_updates_allowed(&lic, time(NULL), conf->license.grace_days, why,
                                        sizeof(why))) {
            rc = WW_EUNAVAIL;
            goto fail;
        }
        why[0] = '\0';
    }
    if (h == NULL) {
        struct ww_endpoint ep;
        ww_store_appliance_id(st, appliance, sizeof(appliance));
        ww_endpoint_init(&ep, conf, WW_SERVER_UPDATE, appliance);
        own = ww_endpoint_http_create(&ep);
        if (own == NULL) {
            fmt_to(why, sizeof(why), "cannot create an HTTP client");
            rc = WW_ENOMEM;
            goto fail;
        }
        h = own;
    }
    r.h = h;

    rc = run_fetch_mem(&r, conf->update.dir, "/v1/manifest", UPDATE_MANIFEST_MAX, &manifest, &mlen,
                       why, sizeof(why));
    if (rc != WW_OK)
        goto fail;
    if (conf->update.public_key != NULL && conf->update.public_key[0] != '\0') {
        rc = run_fetch_mem(&r, conf->update.dir, "/v1/manifest.sig", UPDATE_SIG_MAX, &sig, &slen,
                           why, sizeof(why));
        if (rc != WW_OK) {
            char tmp[WW_ERRLEN];
            fmt_to(tmp, sizeof(tmp), "manifest signature missing: %s", why);
            fmt_to(why, sizeof(why), "%s", tmp);
            goto fail;
        }
        rc = update_verify(conf->update.public_key, manifest, mlen, sig, why, sizeof(why));
        if (rc != WW_OK)
            goto fail;
    }
    rc = manifest_parse(manifest, mlen, conf->update.max_download, ent, why, sizeof(why));
    if (rc != WW_OK)
        goto fail;

    if (ent[COMP_ENGINE].present) {
        ww_store_kv_set(st, "update.engine_available", ent[COMP_ENGINE].version);
        if (ww_update_version_cmp(ent[COMP_ENGINE].version, WW_ENGINE_VERSION) > 0)
            appendf(current, sizeof(current), "%sengine update available: %s",
                    current[0] ? "; " : "", ent[COMP_ENGINE].version);
    }
    for (int k = COMP_PATTERN; k <= COMP_URLDB; k++) {
        const struct manifest_entry *e = &ent[k];
        struct ww_component cur, c;
        char key[64], skip[UPDATE_VERSION_MAX] = "";
        int have = ww_store_component_get(st, comp_names[k], &cur) == WW_OK;

        if (!e->present)
            continue;
        fmt_to(key, sizeof(key), "update.%s.rolled_back", comp_names[k]);
        ww_store_kv_get(st, key, skip, sizeof(skip));
        if (have && ww_update_version_cmp(e->version, cur.version) <= 0) {
            appendf(current, sizeof(current), "%s%s %s is current", current[0] ? "; " : "",
                    comp_names[k], cur.version);
            continue;
        }
        if (skip[0] != '\0' && ww_update_version_cmp(e->version, skip) <= 0) {
            appendf(current, sizeof(current),
                    "%s%s %s was rolled back by the admin, not reinstalled", current[0] ? "; " : "",
                    comp_names[k], e->version);
            continue;
        }
        if (e->min_engine[0] != '\0' &&
            ww_update_version_cmp(e->min_engine, WW_ENGINE_VERSION) > 0) {
            appendf(reason, sizeof(reason), "%s%s %s needs engine %s or newer, this engine is %s",
                    reason[0] ? "; " : "", comp_names[k], e->version, e->min_engine,
                    WW_ENGINE_VERSION);
            failed = 1;
            continue;
        }
        why[0] = '\0';
        rc = install_component(&r, k, e, &c, why, sizeof(why));
        if (rc != WW_OK) {
            appendf(reason, sizeof(reason), "%s%s", reason[0] ? "; " : "", why);
            failed = 1;
            continue;
        }
        appendf(installed, sizeof(installed), "%s%s %s (was %s)", installed[0] ? ", " : "",
                comp_names[k], e->version, have ? cur.version : "none");
        if (skip[0] != '\0')
            ww_store_kv_set(st, key, "");
        fmt_to(cdir, sizeof(cdir), "%s/%s", conf->update.dir, comp_names[k]);
        install_prune(st, comp_names[k], cdir);
    }
    goto done;
fail:
    failed = 1;
    fmt_to(reason, sizeof(reason), "%s", why);
done:
    if (failed) {
        if (installed[0] != '\0') {
            char tmp[1024];
            fmt_to(tmp, sizeof(tmp), "%s (installed: %s)", reason, installed);
            fmt_to(reason, sizeof(reason), "%s", tmp);
        }
        run_record(st, "failed", reason, installed);
        fmt_to(result, len, "failed: %s", reason);
        if (rc == WW_OK)
            rc = WW_EINVAL;
    } else if (installed[0] != '\0') {
        fmt_to(reason, sizeof(reason), "installed %s%s%s", installed, current[0] ? "; " : "",
               current);
        run_record(st, "ok", reason, installed);
        fmt_to(result, len, "ok: %s", reason);
        rc = WW_OK;
    } else {
        fmt_to(reason, sizeof(reason), "%s", current[0] ? current : "nothing offered");
        run_record(st, "not needed", reason, "");
        fmt_to(result, len, "not needed: %s", reason);
        rc = WW_OK;
    }
    free(manifest);
    free(sig);
    ww_http_free(own);
    if (lock_fd >= 0)
        close(lock_fd);
    return rc;
}

int ww_update_run_once(struct ww_store *st, const struct ww_conf *conf, struct ww_http *h,
                       char *result, size_t len)
{
    return ww_update_run_once_until(st, conf, h, NULL, NULL, result, len);
}

/* ---- rollback ---- */

struct hist_pick {
    struct ww_component current, previous;
    int have_current, have_previous;
};

/* History comes newest first; the row right after the current one is what the store's rollback
 * makes current. */
static void hist_pick_fn(const struct ww_component *c, void *arg)
{
    struct hist_pick *p = arg;

    if (p->have_current && !p->have_previous) {
        p->previous = *c;
        p->have_previous = 1;
    }
    if (c->current && !p->have_current) {
        p->current = *c;
        p->have_current = 1;
    }
}

int ww_update_rollback(struct ww_store *st, const struct ww_conf *conf, const char *component,
                       char *msg, size_t len)
{
    struct hist_pick pick;
    struct ww_component now;
    struct stat sb;
    char why[WW_ERRLEN] = "", key[64], ev[512];
    int lock_fd = -1, rc;

    memset(&pick, 0, sizeof(pick));
    if (component == NULL ||
        (strcmp(component, "pattern") != 0 && strcmp(component, "urldb") != 0)) {
        fmt_to(msg, len, "%s: %s", component != NULL ? component : "(null)",
               component != NULL && strcmp(component, "engine") == 0
                   ? "the engine is part of this build and cannot be rolled back"
                   : "unknown component (pattern or urldb)");
        return WW_EINVAL;
    }
    if (conf->update.dir != NULL && conf->update.dir[0] != '\0' &&
        ww_file_mkdir_p(conf->update.dir, NULL, 0) == WW_OK) {
        rc = update_lock(conf->update.dir, &lock_fd, why, sizeof(why));
        if (rc != WW_OK) {
            fmt_to(msg, len, "%s", why);
            return rc;
        }
    }
    rc = ww_store_component_history(st, component, hist_pick_fn, &pick);
    if (rc != WW_OK) {
        fmt_to(msg, len, "%s: cannot read the history from the store", component);
        goto cleanup;
    }
    if (!pick.have_current || !pick.have_previous) {
        fmt_to(msg, len, "%s: no earlier version to roll back to", component);
        rc = WW_ENOTFOUND;
        goto cleanup;
    }
    if (pick.previous.path[0] == '\0' || stat(pick.previous.path, &sb) != 0) {
        fmt_to(msg, len, "%s %s: its files are gone (%s): cannot roll back", component,
               pick.previous.version, pick.previous.path);
        rc = WW_ENOTFOUND;
        goto cleanup;
    }
    rc = strcmp(component, "pattern") == 0 ? pattern_check(pick.previous.path, why, sizeof(why))
                                           : urldb_check(pick.previous.path, why, sizeof(why));
    if (rc != WW_OK) {
        fmt_to(msg, len, "%s %s: %s: not rolled back", component, pick.previous.version, why);
        goto cleanup;
    }
    rc = ww_store_component_rollback(st, component, &now);
    if (rc != WW_OK) {
        fmt_to(msg, len, "%s: the store refused the rollback (%s)", component, ww_strerror(rc));
        goto cleanup;
    }
    fmt_to(key, sizeof(key), "update.%s.rolled_back", component);
    ww_store_kv_set(st, key, pick.current.version);
    fmt_to(ev, sizeof(ev), "%s rolled back from %s to %s", component, pick.current.version,
           now.version);
    ww_log(WW_LOG_INFO, "update: %s", ev);
    ww_store_add_event(st, "warning", "update", ev);
    fmt_to(msg, len, "%s (%s is not reinstalled; a newer version will be)", ev,
           pick.current.version);
cleanup:
    if (lock_fd >= 0)
        close(lock_fd);
    return rc;
}

/* ---- status ---- */

int ww_update_status_text(struct ww_store *st, char *out, size_t len)
{
    char v[512], when[64];
    int rc = WW_OK;

    out[0] = '\0';
    for (int k = 0; k < COMP_N; k++) {
        struct hist_pick pick;
        char key[64], skip[UPDATE_VERSION_MAX] = "";

        memset(&pick, 0, sizeof(pick));
        if (ww_store_component_history(st, comp_names[k], hist_pick_fn, &pick) != WW_OK)
            rc = WW_EDB;
        if (!pick.have_current) {
            appendf(out, len, "%-8s %s\n", comp_names[k],
                    k == COMP_ENGINE ? WW_ENGINE_VERSION " (this build)" : "none installed");
        } else {
            struct tm tm;
            gmtime_r(&pick.current.installed_at, &tm);
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
            appendf(out, len, "%-8s %s installed %s", comp_names[k], pick.current.version, when);
            if (pick.have_previous)
                appendf(out, len, ", previous %s", pick.previous.version);
            appendf(out, len, "\n");
        }
        fmt_to(key, sizeof(key), "update.%s.rolled_back", comp_names[k]);
        if (k != COMP_ENGINE && ww_store_kv_get(st, key, skip, sizeof(skip)) == WW_OK &&
            skip[0] != '\0')
            appendf(out, len, "%-8s %s was rolled back; it is not reinstalled\n", "", skip);
    }
    if (ww_store_kv_get(st, "update.engine_available", v, sizeof(v)) == WW_OK && v[0] != '\0') {
        if (ww_update_version_cmp(v, WW_ENGINE_VERSION) > 0)
            appendf(out, len,
                    "engine update available: %s (running %s; install a newer "
                    "webwarden)\n",
                    v, WW_ENGINE_VERSION);
        else
            appendf(out, len, "engine announced: %s (running %s, up to date)\n", v,
                    WW_ENGINE_VERSION);
    }
    if (ww_store_kv_get(st, "update.last_attempt", v, sizeof(v)) != WW_OK)
        rc = WW_EDB;
    if (v[0] == '\0') {
        appendf(out, len, "last attempt: never\n");
    } else {
        time_t t = (time_t)strtoll(v, NULL, 10);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        appendf(out, len, "last attempt: %s\n", when);
        ww_store_kv_get(st, "update.result", v, sizeof(v));
        appendf(out, len, "result: %s\n", v);
        ww_store_kv_get(st, "update.reason", v, sizeof(v));
        appendf(out, len, "reason: %s\n", v);
    }
    return rc;
}
