/* lib/ww_counters.c - shared-memory request counters (see ww_counters.h).
 *
 * Why a mapped file and not the state store: a SQLite write per request would serialise every
 * child on the database's write lock; why not one shared counter set: every child's cores would
 * fight over the same cache lines. One slot per process, each counter a 64-bit atomic, gives
 * increments that touch only the process's own lines, and a reader that needs no lock. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_counters.h"
#include "ww_log.h"

/* "WWCTR" and the layout: bump the last byte when enum ww_ctr or the slot layout changes. */
#define WW_COUNTERS_LAYOUT 0x5757435452000003ULL

struct ctr_slot {
    _Atomic int32_t owner; /* pid, 0 = never used */
    int32_t pad;
    _Atomic uint64_t v[WW_CTR_N];
} __attribute__((aligned(64))); /* slots never share a cache line */

struct ctr_file {
    _Atomic uint64_t layout; /* WW_COUNTERS_LAYOUT once initialised */
    uint64_t nslots, nctr;
    char pad[40];
    struct ctr_slot slot[WW_COUNTERS_SLOTS];
};

static struct ctr_file *ctr_map;
static struct ctr_slot *ctr_mine;

int ww_counters_path(const char *db_path, char *out, size_t len)
{
    int n = snprintf(out, len, "%s.counters", db_path);

    return n < 0 || (size_t)n >= len ? WW_ETOOBIG : WW_OK;
}

static int ctr_pid_alive(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

/* A file of another Webwarden layout (an upgrade added counters): replaced by an empty one of
 * this layout, atomically (rename), by the one process that holds the lock on the old file while
 * it is still the one at <path>. Processes of the old version keep the old file mapped; readers
 * see zeros from the new one on (a counter reset, as after any restart of the service). */
static int ctr_replace_old_layout(const char *path, int fd)
{
    char tmp[4096];
    struct stat at_path, mine;
    int nfd, rc = -1;

    if (flock(fd, LOCK_EX) != 0)
        return -1;
    /* Still the file at <path>? Another process may have replaced it while we waited. */
    if (stat(path, &at_path) == 0 && fstat(fd, &mine) == 0 && at_path.st_ino == mine.st_ino &&
        at_path.st_dev == mine.st_dev) {
        if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
            goto done;
        nfd = mkstemp(tmp);
        if (nfd < 0)
            goto done;
        /* The old file's group (c-icap's) keeps access; when we may not set it, the mode's
         * group bits still follow the folder's setgid, as for a first creation. */
        if (fchown(nfd, (uid_t)-1, mine.st_gid) != 0)
            ww_log(WW_LOG_WARN, "counters: %s: cannot keep its group: %s", path, strerror(errno));
        if (fchmod(nfd, 0660) == 0 && rename(tmp, path) == 0)
            rc = 0;
        else
            unlink(tmp);
        close(nfd);
        if (rc == 0)
            ww_log(WW_LOG_INFO, "counters: %s was of another Webwarden version: started anew",
                   path);
    } else {
        rc = 0; /* already replaced */
    }
done:
    flock(fd, LOCK_UN);
    return rc;
}

/* Opens <path> (created when missing), replacing a file of an older or newer Webwarden layout
 * (same magic, another layout byte). A file of no Webwarden layout is left alone: attach refuses
 * it. The descriptor, or -1 with errno set. */
static int ctr_open_current(const char *path)
{
    for (int tries = 0; tries < 5; tries++) {
        uint64_t layout = 0;
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);

        if (fd < 0)
            return -1;
        if (pread(fd, &layout, sizeof(layout), 0) != (ssize_t)sizeof(layout) || layout == 0 ||
            layout == WW_COUNTERS_LAYOUT || (layout >> 8) != (WW_COUNTERS_LAYOUT >> 8))
            return fd;
        if (ctr_replace_old_layout(path, fd) != 0) {
            close(fd);
            return -1;
        }
        close(fd); /* open the new one */
    }
    errno = EBUSY;
    return -1;
}

int ww_counters_attach(const char *path, char *err, size_t errlen)
{
    struct ctr_file *f;
    struct stat sb;
    uint64_t want = WW_COUNTERS_LAYOUT, zero = 0;
    int32_t me = (int32_t)getpid();
    int fd;

    if (ctr_map != NULL)
        return WW_OK;
    fd = ctr_open_current(path);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return WW_EIO;
    }
    /* Growing only: two processes sizing a new file at once both write the same size. */
    if (fstat(fd, &sb) != 0 ||
        ((size_t)sb.st_size < sizeof(*f) && ftruncate(fd, (off_t)sizeof(*f)) != 0)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return WW_EIO;
    }
    f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (f == MAP_FAILED) {
        snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
        return WW_EIO;
    }
    f->nslots = WW_COUNTERS_SLOTS; /* same values from every writer: a benign race */
    f->nctr = WW_CTR_N;
    if (!atomic_compare_exchange_strong(&f->layout, &zero, want) && zero != want) {
        snprintf(err, errlen, "%s: written by another version of webwarden; remove it", path);
        munmap(f, sizeof(*f));
        return WW_EINVAL;
    }
    for (int pass = 0; pass < 2 && ctr_mine == NULL; pass++) {
        for (size_t i = 0; i < WW_COUNTERS_SLOTS; i++) {
            int32_t owner = atomic_load(&f->slot[i].owner);
            /* First pass: a never-used slot; second: one whose process is gone. */
            if ((pass == 0 && owner != 0) || (pass == 1 && (owner == 0 || ctr_pid_alive(owner))))
                continue;
            if (atomic_compare_exchange_strong(&f->slot[i].owner, &owner, me)) {
                ctr_mine = &f->slot[i];
                break;
            }
        }
    }
    if (ctr_mine == NULL) {
        snprintf(err, errlen, "%s: all %d slots belong to running processes", path,
                 WW_COUNTERS_SLOTS);
        munmap(f, sizeof(*f));
        return WW_EBUSY;
    }
    ctr_map = f;
    return WW_OK;
}

void ww_counters_detach(void)
{
    if (ctr_map == NULL)
        return;
    ctr_mine = NULL;
    munmap(ctr_map, sizeof(*ctr_map));
    ctr_map = NULL;
}

void ww_ctr_add(enum ww_ctr c, uint64_t n)
{
    struct ctr_slot *s = ctr_mine;

    if (s != NULL && (unsigned)c < WW_CTR_N)
        atomic_fetch_add_explicit(&s->v[c], n, memory_order_relaxed);
}

void ww_ctr_scan_latency_us(uint64_t us)
{
    static const double bounds[WW_SCAN_LAT_NBOUNDS] = {WW_SCAN_LAT_BOUNDS};
    size_t b = 0;

    while (b < WW_SCAN_LAT_NBOUNDS && (double)us > bounds[b] * 1e6)
        b++;
    ww_ctr_add(WW_CTR_SCAN_LAT_SUM_US, us);
    ww_ctr_add((enum ww_ctr)(WW_CTR_SCAN_LAT_BUCKET0 + b), 1);
}

int ww_counters_read(const char *path, uint64_t *out, char *err, size_t errlen)
{
    struct ctr_file *f;
    struct stat sb;
    int fd, rc = WW_OK;

    memset(out, 0, WW_CTR_N * sizeof(*out));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? WW_ENOTFOUND : WW_EIO;
    }
    if (fstat(fd, &sb) != 0 || (size_t)sb.st_size < sizeof(*f)) {
        snprintf(err, errlen, "%s: not a counters file (size)", path);
        close(fd);
        return WW_EINVAL;
    }
    f = mmap(NULL, sizeof(*f), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (f == MAP_FAILED) {
        snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
        return WW_EIO;
    }
    if (atomic_load(&f->layout) != WW_COUNTERS_LAYOUT) {
        snprintf(err, errlen, "%s: written by another version of webwarden", path);
        rc = WW_EINVAL;
        goto cleanup;
    }
    for (size_t i = 0; i < WW_COUNTERS_SLOTS; i++) {
        if (atomic_load_explicit(&f->slot[i].owner, memory_order_relaxed) == 0)
            continue;
        for (size_t c = 0; c < WW_CTR_N; c++)
            out[c] += atomic_load_explicit(&f->slot[i].v[c], memory_order_relaxed);
    }
cleanup:
    munmap(f, sizeof(*f));
    return rc;
}

void ww_ctr_scan_done(const char *action, const struct timespec *t0)
{
    struct timespec t1;
    int64_t us;

    if (ctr_mine == NULL)
        return;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    us = (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000;
    if (strcmp(action, "block") == 0)
        ww_ctr_add(WW_CTR_SCAN_BLOCK, 1);
    else if (strcmp(action, "unscanned") == 0)
        ww_ctr_add(WW_CTR_SCAN_UNSCANNED, 1);
    else
        ww_ctr_add(WW_CTR_SCAN_CLEAN, 1);
    ww_ctr_scan_latency_us(us > 0 ? (uint64_t)us : 0);
}

void ww_ctr_rep_result(int rc)
{
    ww_ctr_add(rc == WW_OK ? WW_CTR_REP_SERVER_OK : WW_CTR_REP_SERVER_FAILED, 1);
    if (rc == WW_ETIMEOUT)
        ww_ctr_add(WW_CTR_REP_TIMEOUT, 1);
}

void ww_ctr_smart_result(int rc, int malicious)
{
    ww_ctr_add(rc == WW_OK ? WW_CTR_SMART_OK : WW_CTR_SMART_FAILED, 1);
    if (rc == WW_ETIMEOUT)
        ww_ctr_add(WW_CTR_SMART_TIMEOUT, 1);
    if (rc == WW_OK && malicious)
        ww_ctr_add(WW_CTR_DETECT_SMART, 1);
}

void ww_counters_attach_db(const char *db_path)
{
    char path[4096], err[WW_ERRLEN] = "";
    int rc = ww_counters_path(db_path, path, sizeof(path));

    if (rc == WW_OK)
        rc = ww_counters_attach(path, err, sizeof(err));
    if (rc != WW_OK)
        ww_log(WW_LOG_WARN, "metrics: no request counters in this process: %s",
               err[0] != '\0' ? err : ww_strerror(rc));
}
