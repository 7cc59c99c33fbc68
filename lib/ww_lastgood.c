/* lib/ww_lastgood.c - the last good configuration in the state store (see ww_lastgood.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_lastgood.h"
#include "ww_log.h"
#include "ww_store.h"

#define KEY_TEXT "config.lastgood"
#define KEY_META "config.lastgood_meta" /* "SAVED_EPOCH LENGTH ABS_PATH" */
#define KEY_REJECTED "config.rejected"
#define DEFAULT_DB "/var/lib/webwarden/state.db"

/* <path> made absolute the way ww_conf_load names a config (no symlinks resolved). */
static void abs_path(const char *path, char *out, size_t outlen)
{
    char cwd[PATH_MAX];

    if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL ||
        strlen(cwd) + 1 + strlen(path) >= outlen) {
        snprintf(out, outlen, "%s", path);
        return;
    }
    memcpy(out, cwd, strlen(cwd));
    out[strlen(cwd)] = '/';
    memcpy(out + strlen(cwd) + 1, path, strlen(path) + 1);
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

void ww_lastgood_state_db(const char *path, char *out, size_t outlen)
{
    char line[4096], section[64] = "", abs[PATH_MAX];
    FILE *fp = fopen(path, "r");

    snprintf(out, outlen, "%s", DEFAULT_DB);
    if (fp == NULL)
        return;
    while (fgets(line, sizeof(line), fp) != NULL) {
        char *l = trim(line), *eq;
        if (*l == '[') {
            snprintf(section, sizeof(section), "%.*s", (int)strcspn(l + 1, "]"), l + 1);
            continue;
        }
        if (*l == '#' || *l == ';' || strcasecmp(section, "state") != 0)
            continue;
        eq = strchr(l, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        if (strcmp(trim(l), "database") != 0 || *trim(eq + 1) == '\0')
            continue;
        l = trim(eq + 1);
        if (l[0] == '/') {
            snprintf(out, outlen, "%s", l);
        } else { /* relative to the config's folder */
            char *slash;
            abs_path(path, abs, sizeof(abs));
            slash = strrchr(abs, '/');
            if (slash != NULL)
                *slash = '\0';
            snprintf(out, outlen, "%s/%s", abs, l);
        }
    }
    fclose(fp);
}

/* The whole text of <path> (at most WW_LASTGOOD_MAX bytes): malloc'ed, NUL-terminated, or NULL. */
static char *read_text(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "r");
    char *buf;

    if (fp == NULL)
        return NULL;
    buf = malloc(WW_LASTGOOD_MAX + 1);
    if (buf != NULL) {
        *len = fread(buf, 1, WW_LASTGOOD_MAX + 1, fp);
        if (ferror(fp) || *len > WW_LASTGOOD_MAX || *len == 0) {
            free(buf);
            buf = NULL;
        } else {
            buf[*len] = '\0';
        }
    }
    fclose(fp);
    return buf;
}

/* After a good load: the copy in the store, the rejection cleared. Failures are logged only. */
static void lastgood_save(const struct ww_conf *conf, const char *path)
{
    struct ww_store *st = NULL;
    char err[WW_ERRLEN] = "", meta[PATH_MAX + 64];
    size_t len = 0;
    char *text = read_text(path, &len);

    if (text == NULL || memchr(text, '\0', len) != NULL) {
        ww_log(WW_LOG_WARN,
               "%s: no copy kept as the last good configuration (unreadable, empty "
               "or over 1 MiB)",
               conf->path);
        free(text);
        return;
    }
    if (ww_store_open(conf->state.database, 0, &st, err, sizeof(err)) != WW_OK) {
        ww_log(WW_LOG_WARN, "%s: no copy kept as the last good configuration: %s", conf->path, err);
        free(text);
        return;
    }
    snprintf(meta, sizeof(meta), "%" PRId64 " %zu %s", (int64_t)time(NULL), len, conf->path);
    /* the meta last: ww_lastgood_reconfigure_wait takes its change for "loaded" */
    if (ww_store_kv_set(st, KEY_TEXT, text) != WW_OK ||
        ww_store_kv_set(st, KEY_REJECTED, "") != WW_OK ||
        ww_store_kv_set(st, KEY_META, meta) != WW_OK)
        ww_log(WW_LOG_WARN, "%s: the last good configuration could not be stored in %s", conf->path,
               conf->state.database);
    ww_store_close(st);
    free(text);
}

/* After a failed load: the copy of the same file, loaded as that file. WW_OK with *out and the
 * rejection text in <msg>, or an error (no copy, another file's copy, a copy that does not
 * load). */
static int lastgood_fallback(const char *path, unsigned flags, const char *why,
                             struct ww_conf **out, char *msg, size_t msglen)
{
    struct ww_store *st = NULL;
    char db[PATH_MAX], abs[PATH_MAX], meta[PATH_MAX + 64], err[WW_ERRLEN] = "", when[64];
    char *text = NULL;
    int64_t saved = 0;
    size_t len = 0;
    int off = 0, rc;
    time_t t;
    struct tm tm;

    ww_lastgood_state_db(path, db, sizeof(db));
    rc = ww_store_open(db, (flags & WW_LASTGOOD_READONLY) ? WW_STORE_READONLY : 0, &st, err,
                       sizeof(err));
    if (rc != WW_OK)
        goto cleanup;
    rc = WW_ENOTFOUND;
    abs_path(path, abs, sizeof(abs));
    if (ww_store_kv_get(st, KEY_META, meta, sizeof(meta)) != WW_OK ||
        sscanf(meta, "%" SCNd64 " %zu %n", &saved, &len, &off) != 2 || off <= 0 ||
        strcmp(meta + off, abs) != 0 || len == 0 || len > WW_LASTGOOD_MAX)
        goto cleanup; /* none, or another file's */
    rc = WW_ENOMEM;
    text = malloc(WW_LASTGOOD_MAX + 1);
    if (text == NULL)
        goto cleanup;
    rc = ww_store_kv_get(st, KEY_TEXT, text, WW_LASTGOOD_MAX + 1);
    if (rc != WW_OK || strlen(text) != len) {
        rc = WW_EINVAL; /* cut or changed: not the copy the meta describes */
        goto cleanup;
    }
    rc = ww_conf_load_text(text, len, path, out, err, sizeof(err));
    if (rc != WW_OK) {
        ww_log(WW_LOG_ERR, "%s: the last good configuration does not load either: %s", path, err);
        goto cleanup;
    }
    t = (time_t)saved;
    if (gmtime_r(&t, &tm) == NULL ||
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(when, sizeof(when), "%" PRId64, saved);
    snprintf(msg, msglen, "configuration rejected: %.600s; serving the configuration loaded at %s",
             why, when);
    if (!(flags & WW_LASTGOOD_READONLY) && ww_store_kv_set(st, KEY_REJECTED, msg) != WW_OK)
        ww_log(WW_LOG_WARN, "%s: the rejection could not be recorded in %s", path, db);
cleanup:
    free(text);
    ww_store_close(st);
    return rc;
}

int ww_lastgood_load(const char *path, unsigned flags, struct ww_conf **out, int *fallback,
                     char *err, size_t errlen)
{
    char why[WW_ERRLEN] = "", msg[1024] = "";
    int rc;

    *fallback = 0;
    rc = ww_conf_load(path, out, why, sizeof(why));
    if (rc == WW_OK) {
        if (!(flags & WW_LASTGOOD_READONLY))
            lastgood_save(*out, path);
        return WW_OK;
    }
    if (path != NULL && lastgood_fallback(path, flags, why[0] ? why : ww_strerror(rc), out, msg,
                                          sizeof(msg)) == WW_OK) {
        *fallback = 1;
        snprintf(err, errlen, "%s", msg);
        return WW_OK;
    }
    snprintf(err, errlen, "%s", why);
    return rc;
}

int ww_lastgood_reconfigure(const char *ctl_path, char *err, size_t errlen)
{
    static const char cmd[] = "reconfigure";
    struct stat sb;
    ssize_t n;
    int fd;

    if (ctl_path == NULL || ctl_path[0] == '\0')
        ctl_path = WW_CICAP_CTL_DEFAULT;
    if (stat(ctl_path, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", ctl_path, strerror(errno));
        return WW_EIO;
    }
    if (!S_ISFIFO(sb.st_mode)) {
        snprintf(err, errlen,
                 "%s: not c-icap's control socket (a FIFO: c-icap.conf CommandsSocket)", ctl_path);
        return WW_EIO;
    }
    /* O_NONBLOCK: ENXIO at once when no c-icap has it open, never a hang. */
    fd = open(ctl_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", ctl_path,
                 errno == ENXIO ? "no c-icap is reading it (not running?)" : strerror(errno));
        return WW_EIO;
    }
    n = write(fd, cmd, sizeof(cmd) - 1);
    close(fd);
    if (n != (ssize_t)sizeof(cmd) - 1) {
        snprintf(err, errlen, "%s: %s", ctl_path, n < 0 ? strerror(errno) : "short write");
        return WW_EIO;
    }
    return WW_OK;
}

/* The store's config.lastgood_meta into <out> ("" when none): 0, or -1 when the store does not
 * open. */
static int lastgood_meta(const char *state_db, char *out, size_t outlen)
{
    struct ww_store *st = NULL;
    char err[WW_ERRLEN];

    out[0] = '\0';
    if (ww_store_open(state_db, WW_STORE_READONLY, &st, err, sizeof(err)) != WW_OK)
        return -1;
    if (ww_store_kv_get(st, KEY_META, out, outlen) != WW_OK)
        out[0] = '\0';
    ww_store_close(st);
    return 0;
}

int ww_lastgood_reconfigure_wait(const char *ctl_path, const char *state_db, long wait_ms,
                                 int *done, char *err, size_t errlen)
{
    char before[PATH_MAX + 64], now[PATH_MAX + 64];
    const struct timespec step = {0, 100 * 1000 * 1000};
    int known, rc;
    long t;

    *done = -1;
    known = state_db != NULL && lastgood_meta(state_db, before, sizeof(before)) == 0;
    rc = ww_lastgood_reconfigure(ctl_path, err, errlen);
    if (rc != WW_OK || !known || wait_ms <= 0)
        return rc;
    for (t = 100; t <= wait_ms; t += 100) {
        nanosleep(&step, NULL);
        if (lastgood_meta(state_db, now, sizeof(now)) == 0 && strcmp(now, before) != 0) {
            *done = 1;
            return WW_OK;
        }
        /* c-icap ignores a reconfigure while its last one's children finish: ask again */
        if (t % 2000 == 0 && (rc = ww_lastgood_reconfigure(ctl_path, err, errlen)) != WW_OK)
            return rc;
    }
    *done = 0;
    return WW_OK;
}
