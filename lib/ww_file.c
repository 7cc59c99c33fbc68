/* lib/ww_file.c - mkdir -p, write-temp-then-rename, SHA-256 of a file (see ww_file.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ww_common.h"
#include "ww_file.h"

static void file_err(char *err, size_t errlen, const char *fmt, const char *what)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, fmt, what, strerror(errno));
}

int ww_file_mkdir_p(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf)) {
        errno = n == 0 ? ENOENT : ENAMETOOLONG;
        file_err(err, errlen, "cannot create folder \"%s\": %s", path);
        return WW_EINVAL;
    }
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            file_err(err, errlen, "cannot create folder %s: %s", buf);
            return WW_EIO;
        }
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
        file_err(err, errlen, "cannot create folder %s: %s", buf);
        return WW_EIO;
    }
    return WW_OK;
}

int ww_file_fsync_path(const char *path, int is_dir)
{
    int fd = open(path, (is_dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    int rc, saved;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* The folder of <path> into <dir> ("." for a bare name). */
static void file_dir_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        snprintf(dir, len, ".");
    else if (slash == path)
        snprintf(dir, len, "/");
    else
        snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

int ww_file_commit(int fd, const char *tmp, const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];

    if (fsync(fd) != 0) {
        file_err(err, errlen, "%s: fsync: %s", tmp);
        close(fd);
        unlink(tmp);
        return WW_EIO;
    }
    if (close(fd) != 0) {
        file_err(err, errlen, "%s: %s", tmp);
        unlink(tmp);
        return WW_EIO;
    }
    if (rename(tmp, path) != 0) {
        file_err(err, errlen, "%s: %s", path);
        unlink(tmp);
        return WW_EIO;
    }
    file_dir_of(path, dir, sizeof(dir));
    if (ww_file_fsync_path(dir, 1) != 0) {
        file_err(err, errlen, "%s: fsync: %s", dir);
        return WW_EIO;
    }
    return WW_OK;
}

int ww_file_write_atomic(const char *path, const void *data, size_t len, int mode, char *err,
                         size_t errlen)
{
    char tmp[PATH_MAX];
    const char *p = data;
    int fd;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: path too long", path);
        return WW_EINVAL;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        file_err(err, errlen, "%s: %s", tmp);
        return WW_EIO;
    }
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            file_err(err, errlen, "%s: write: %s", tmp);
            close(fd);
            unlink(tmp);
            return WW_EIO;
        }
        p += w;
        len -= (size_t)w;
    }
    return ww_file_commit(fd, tmp, path, err, errlen);
}

int ww_file_sha256(const char *path, char hex[65])
{
    unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int fd = -1, rc = ctx == NULL ? WW_ENOMEM : WW_EIO;
    ssize_t n = 0;

    hex[0] = '\0';
    if (ctx == NULL)
        goto cleanup;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto cleanup;
    while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0 && EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
            goto cleanup;
    }
    if (n < 0 || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
        goto cleanup;
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    rc = WW_OK;
cleanup:
    if (fd >= 0)
        close(fd);
    EVP_MD_CTX_free(ctx);
    return rc;
}
