/* bench/engine_speed.c - scan speed of the pattern engine on random data.
 *
 *   bench/engine_speed DIR [MIB [CHUNK_KIB]]
 *   bench/engine_speed --scan DIR FILE...   (prints "FILE: NAME FOUND" or "FILE: OK")
 *
 * Loads DIR like webwarden_scan does (ww_engine_load_dir), then scans MIB MiB (default 512) of
 * random bytes fed in CHUNK_KIB KiB pieces (default 64) twice: through the body-signature
 * matcher alone (ww_sig, the .ndb files of DIR), and through the whole ww_scan API: once with
 * only the digests the hash signatures need for a body of that size, once with the SHA-256 that
 * smart scan needs. Prints MB/s (10^6 bytes/s), load time and the
 * compiled database size. One thread: the figures are per core. WW_SIG_SIMD=0, 1 or 2 caps the
 * matcher's path (portable, SSE4.1, AVX-512) to measure the others on this CPU. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww_common.h"
#include "ww_scan.h"
#include "ww_sig.h"

/* random bytes, scanned over and over: 64 MiB (from memory, as a download streams), or
 * WW_BENCH_BUF_KIB KiB (from the cache, as a request's body is when c-icap hands it over) */
static size_t BUF_BYTES = (size_t)64 << 20;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: on a shared machine wall time also counts other processes. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load_ndb(const char *dir, struct ww_sigdb *db)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[4096], *line = NULL, err[WW_ERRLEN];
    size_t cap = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        FILE *fp;
        ssize_t got;
        if (n < 5 || strcmp(de->d_name + n - 4, ".ndb") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        fp = fopen(path, "r");
        if (fp == NULL)
            continue;
        while ((got = getline(&line, &cap, fp)) >= 0) {
            while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
                line[--got] = '\0';
            if (ww_sigdb_add_line(db, line, err, sizeof(err)) == WW_ENOMEM)
                return -1;
        }
        fclose(fp);
    }
    free(line);
    closedir(d);
    return ww_sigdb_compile(db) == WW_OK ? 0 : -1;
}

/* --scan: how to try a new pattern on real files, like clamscan -d DIR FILE. */
static int scan_files(int argc, char **argv)
{
    struct ww_engine *e = NULL;
    char err[WW_ERRLEN];
    int i, found = 0;

    if (ww_engine_load_dir(argv[2], &e, NULL, err, sizeof(err)) != WW_OK) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    for (i = 3; i < argc; i++) {
        FILE *fp = fopen(argv[i], "rb");
        struct ww_scan *s;
        unsigned char buf[65536];
        size_t n;

        if (fp == NULL) {
            perror(argv[i]);
            continue;
        }
        s = ww_scan_create(e, -1, 0);
        if (s == NULL)
            return 2;
        while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
            ww_scan_feed(s, buf, n);
        fclose(fp);
        if (ww_scan_finish(s)) {
            printf("%s: %s FOUND\n", argv[i], ww_scan_threat(s));
            found = 1;
        } else {
            printf("%s: OK\n", argv[i]);
        }
        ww_scan_free(s);
    }
    ww_engine_unref(e);
    return found;
}

int main(int argc, char **argv)
{
    struct ww_engine *e = NULL;
    struct ww_engine_stats st;
    struct ww_sigdb *db;
    char err[WW_ERRLEN];
    unsigned char *buf;
    size_t mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 512;
    size_t chunk = (argc > 3 ? strtoul(argv[3], NULL, 10) : 64) * 1024;
    size_t total = mib << 20, done, i;
    uint64_t x = 88172645463325252ULL;
    double t0, t;
    int hits = 0;

    if (getenv("WW_SIG_SIMD") != NULL)
        ww_sig_simd_level = atoi(getenv("WW_SIG_SIMD"));

    if (argc > 3 && strcmp(argv[1], "--scan") == 0)
        return scan_files(argc, argv);
    if (argc < 2 || mib == 0 || chunk == 0) {
        fprintf(stderr, "usage: %s DIR [MIB [CHUNK_KIB]]\n       %s --scan DIR FILE...\n", argv[0],
                argv[0]);
        return 2;
    }
    t0 = now_s();
    if (ww_engine_load_dir(argv[1], &e, &st, err, sizeof(err)) != WW_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("load: %.2f s; %zu hash + %zu body signatures, %zu skipped, %zu files; "
           "compiled %.1f MiB\n",
           now_s() - t0, st.hash_sigs, st.body_sigs, st.skipped, st.files,
           (double)st.memory_bytes / (1 << 20));
    printf("%s\n", st.matcher);
    if (getenv("WW_BENCH_BUF_KIB") != NULL && atol(getenv("WW_BENCH_BUF_KIB")) > 0)
        BUF_BYTES = ((size_t)atol(getenv("WW_BENCH_BUF_KIB")) << 10) & ~(size_t)7;
    buf = malloc(BUF_BYTES);
    if (buf == NULL)
        return 1;
    for (i = 0; i < BUF_BYTES; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(buf + i, &x, 8);
    }

    db = ww_sigdb_create();
    if (db == NULL || load_ndb(argv[1], db) != 0) {
        fprintf(stderr, "%s: cannot load the .ndb files\n", argv[1]);
        return 1;
    }
    if (ww_sigdb_count(db) > 0) {
        struct ww_sigscan *s = ww_sigscan_create(db, -1);
        double c0 = cpu_s(), c, evict_s = 0;
        /* WW_BENCH_EVICT_KIB: that many KiB written between two chunks, as a server's other work
         * pushes the filter out of the core's caches between two requests (not timed) */
        size_t evict = getenv("WW_BENCH_EVICT_KIB") != NULL
                           ? (size_t)atol(getenv("WW_BENCH_EVICT_KIB")) << 10
                           : 0;
        unsigned char *ev = evict > 0 ? malloc(evict) : NULL;
        t0 = now_s();
        for (done = 0; done < total; done += chunk) {
            size_t off = done % BUF_BYTES, n = chunk;
            if (n > BUF_BYTES - off)
                n = BUF_BYTES - off;
            if (ev != NULL) {
                double e0 = cpu_s();
                memset(ev, (int)done, evict);
                evict_s += cpu_s() - e0;
            }
            if (ww_sigscan_feed(s, buf + off, n) != NULL) {
                /* a random short signature can really occur: count it, go on scanning */
                hits++;
                ww_sigscan_free(s);
                s = ww_sigscan_create(db, -1);
                if (s == NULL)
                    return 1;
            }
        }
        if (ww_sigscan_finish(s) != NULL)
            hits++;
        t = now_s() - t0 - evict_s;
        c = cpu_s() - c0 - evict_s;
        free(ev);
        ww_sigscan_free(s);
        printf("body matcher: %zu MiB in %.3f s CPU (%.3f s wall) = %.0f MB/s per core "
               "(%zu signatures, index %.1f MiB, %d chunks with a match)\n",
               mib, c, t, (double)total / c / 1e6, ww_sigdb_count(db),
               (double)ww_sigdb_memory(db) / (1 << 20), hits);
    }
    ww_sigdb_free(db);

    /* The whole API twice: as webwarden_scan runs it for a body of known size (digests only
     * where a hash signature names that size), and with the SHA-256 smart scan needs. */
    for (i = 0; i < 2; i++) {
        struct ww_scan *s = ww_scan_create(e, (int64_t)total, i == 0 ? 0 : WW_SCAN_SHA256);
        double c0 = cpu_s(), c;
        if (s == NULL)
            return 1;
        t0 = now_s();
        for (done = 0; done < total; done += chunk) {
            size_t off = done % BUF_BYTES, n = chunk;
            if (n > BUF_BYTES - off)
                n = BUF_BYTES - off;
            ww_scan_feed(s, buf + off, n);
        }
        hits = ww_scan_finish(s);
        t = now_s() - t0;
        c = cpu_s() - c0;
        printf("ww_scan (%s): %zu MiB in %.3f s CPU (%.3f s wall) = %.0f MB/s per core "
               "(threat: %s)\n",
               i == 0 ? "matcher + digests the signatures need"
                      : "matcher + SHA-256 for smart scan",
               mib, c, t, (double)total / c / 1e6, hits ? ww_scan_threat(s) : "none");
        ww_scan_free(s);
    }
    free(buf);
    ww_engine_unref(e);
    return 0;
}
