/* lib/ww_statedir.c - group sharing of the state folder and the starter patterns (see the .h).
 *
 * Every file is opened first (O_NOFOLLOW, O_NONBLOCK) and changed through its descriptor, so
 * the object checked is the object changed: a name swapped for a symbolic link between a stat
 * and a chmod cannot redirect the change. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_statedir.h"

int ww_statedir_group_id(const char *group, gid_t *gid, char *err, size_t errlen)
{
    struct group gr, *found = NULL;
    char buf[16384], *end = NULL;
    long n;

    if (group == NULL || group[0] == '\0') {
        snprintf(err, errlen, "empty group name");
        return WW_EINVAL;
    }
    if (getgrnam_r(group, &gr, buf, sizeof(buf), &found) == 0 && found != NULL) {
        *gid = found->gr_gid;
        return WW_OK;
    }
    errno = 0;
    n = strtol(group, &end, 10);
    if (errno == 0 && *end == '\0' && n >= 0 && n < INT_MAX) {
        *gid = (gid_t)n;
        return WW_OK;
    }
    snprintf(err, errlen, "group %s does not exist", group);
    return WW_ENOTFOUND;
}

/* Sets group <gid> and permission bits <mode> on the open file <fd> (<path> for messages),
 * each only if it differs. */
static int statedir_fix(int fd, const struct stat *sb, const char *path, gid_t gid, mode_t mode,
                        char *err, size_t errlen)
{
    if (sb->st_gid != gid && fchown(fd, (uid_t)-1, gid) != 0) {
        snprintf(err, errlen, "%s: cannot give it to group %ld: %s", path, (long)gid,
                 strerror(errno));
        return WW_EIO;
    }
    /* chown may clear the setgid bit, so the mode is set after it. */
    if ((sb->st_mode & 07777) != mode && fchmod(fd, mode) != 0) {
        snprintf(err, errlen, "%s: chmod %04o: %s", path, (unsigned)mode, strerror(errno));
        return WW_EIO;
    }
    return WW_OK;
}

/* One database file: absent is fine (-wal, -shm), anything but a plain file is refused. */
static int statedir_share_file(const char *path, gid_t gid, char *err, size_t errlen)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    int rc;

    if (fd < 0) {
        if (errno == ENOENT)
            return WW_OK;
        if (errno == ELOOP) {
            snprintf(err, errlen, "%s: a symbolic link in the place of a database file: refused",
                     path);
            return WW_EINVAL;
        }
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return WW_EIO;
    }
    if (fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return WW_EIO;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_nlink != 1) {
        snprintf(err, errlen, "%s: not a plain file with one link: refused", path);
        close(fd);
        return WW_EINVAL;
    }
    rc = statedir_fix(fd, &sb, path, gid, 0660, err, errlen);
    close(fd);
    return rc;
}

int ww_statedir_share(const char *db_path, gid_t gid, char *err, size_t errlen)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char dir[PATH_MAX], path[PATH_MAX];
    const char *slash = strrchr(db_path, '/');
    struct stat sb;
    int fd, rc;

    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == db_path)
        snprintf(dir, sizeof(dir), "/");
    else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - db_path), db_path) >=
             (int)sizeof(dir)) {
        snprintf(err, errlen, "%s: path too long", db_path);
        return WW_EINVAL;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return WW_EIO;
    }
    /* rwx and setgid for the group; the owner and others keep theirs. */
    rc = statedir_fix(fd, &sb, dir, gid, (sb.st_mode & 07777) | S_ISGID | S_IRWXG, err, errlen);
    close(fd);
    if (rc != WW_OK)
        return rc;
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (snprintf(path, sizeof(path), "%s%s", db_path, suffixes[i]) >= (int)sizeof(path)) {
            snprintf(err, errlen, "%s: path too long", db_path);
            return WW_EINVAL;
        }
        rc = statedir_share_file(path, gid, err, errlen);
        if (rc != WW_OK)
            return rc;
    }
    return WW_OK;
}

/* 1 if <dir> holds a name not starting with '.', 0 if not, -1 if it cannot be read. */
static int statedir_has_files(const char *dir)
{
    DIR *d = opendir(dir);
    const struct dirent *e;
    int found = 0;

    if (d == NULL)
        return -1;
    while (!found && (e = readdir(d)) != NULL)
        found = e->d_name[0] != '.';
    closedir(d);
    return found;
}

/* Copies the regular file <from> to <to> through "<to>.tmp" and a rename. */
static int statedir_copy(const char *from, const char *to, char *err, size_t errlen)
{
    char tmp[PATH_MAX], buf[65536];
    int in = -1, out = -1, rc = WW_EIO;
    ssize_t n = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", to) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "%s: path too long", to);
        return WW_EINVAL;
    }
    in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(err, errlen, "%s: %s", from, strerror(errno));
        goto cleanup;
    }
    unlink(tmp); /* a leftover of an interrupted copy */
    out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (out < 0 || fchmod(out, 0644) != 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    while ((n = read(in, buf, sizeof(buf))) > 0) {
        for (ssize_t done = 0, w; done < n; done += w) {
            w = write(out, buf + done, (size_t)(n - done));
            if (w < 0) {
                snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
                goto cleanup;
            }
        }
    }
    if (n < 0) {
        snprintf(err, errlen, "%s: %s", from, strerror(errno));
        goto cleanup;
    }
    if (fsync(out) != 0 || close(out) != 0) {
        out = -1;
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    out = -1;
    if (rename(tmp, to) != 0) {
        snprintf(err, errlen, "%s: %s", to, strerror(errno));
        goto cleanup;
    }
    rc = WW_OK;
cleanup:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (rc != WW_OK)
        unlink(tmp);
    return rc;
}

int ww_statedir_seed_patterns(const char *patterns_dir, const char *starter_dir, int *copied,
                              char *err, size_t errlen)
{
    char from[PATH_MAX], to[PATH_MAX];
    const struct dirent *e;
    struct stat sb;
    DIR *d = NULL;
    int rc;

    *copied = 0;
    if (mkdir(patterns_dir, 0755) == 0) {
        /* Readable by c-icap's children whatever the umask; keep the setgid bit the parent
         * folder handed down. */
        if (stat(patterns_dir, &sb) != 0 ||
            chmod(patterns_dir, (sb.st_mode & S_ISGID) | 0755) != 0) {
            snprintf(err, errlen, "%s: %s", patterns_dir, strerror(errno));
            return WW_EIO;
        }
    } else if (errno != EEXIST) {
        snprintf(err, errlen, "cannot create folder %s: %s", patterns_dir, strerror(errno));
        return WW_EIO;
    }
    rc = statedir_has_files(patterns_dir);
    if (rc != 0) {
        if (rc < 0) {
            snprintf(err, errlen, "%s: %s", patterns_dir, strerror(errno));
            return WW_EIO;
        }
        return WW_OK; /* the admin's or the updater's patterns: never overwritten */
    }
    d = opendir(starter_dir);
    if (d == NULL)
        return WW_OK;
    rc = WW_OK;
    while (rc == WW_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(from, sizeof(from), "%s/%s", starter_dir, e->d_name) >= (int)sizeof(from) ||
            snprintf(to, sizeof(to), "%s/%s", patterns_dir, e->d_name) >= (int)sizeof(to)) {
            snprintf(err, errlen, "%s/%s: path too long", patterns_dir, e->d_name);
            rc = WW_EINVAL;
            break;
        }
        if (stat(from, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        rc = statedir_copy(from, to, err, errlen);
        if (rc == WW_OK)
            (*copied)++;
    }
    closedir(d);
    return rc;
}
