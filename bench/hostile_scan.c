/* bench/hostile_scan.c - the worst bodies an attacker can build against the body-signature
 * matcher, timed against a clean body of the same size (issue 12, part 3).
 *
 *   bench/hostile_scan [KIB [ROUNDS]]     (default 300 KiB, 5 rounds; the median is printed)
 *
 * Signatures: EICAR, one with a wide bounded gap ('ABABABAB'{0-30000}...), 300 fixed-offset
 * windows (0,60000) and 10 end-of-body windows (EOF-60000,60000). Bodies: random bytes (clean),
 * the gap signature's anchor repeated (spends the per-scan budget), and near-matches of every
 * offset signature. Prints CPU ms per body, the ratio to the clean body, and whether the scan
 * said the body was incomplete (unscanned, never clean). One thread: per core. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww_common.h"
#include "ww_sig.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add(struct ww_sigdb *db, const char *line)
{
    char err[WW_ERRLEN];

    if (ww_sigdb_add_line(db, line, err, sizeof(err)) != WW_OK) {
        fprintf(stderr, "hostile_scan: %s: %s\n", line, err);
        exit(1);
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median CPU seconds of <rounds> scans of <body> in 64 KiB feeds; *incomplete set if any. */
static double time_scan(const struct ww_sigdb *db, const unsigned char *body, size_t len,
                        int rounds, const char **threat, int *incomplete)
{
    double t[32];
    int r;

    for (r = 0; r < rounds; r++) {
        struct ww_sigscan *s = ww_sigscan_create(db, (int64_t)len);
        double t0 = cpu_s();
        const char *got = NULL;

        for (size_t off = 0; off < len && got == NULL; off += 65536)
            got = ww_sigscan_feed(s, body + off, len - off < 65536 ? len - off : 65536);
        if (got == NULL)
            got = ww_sigscan_finish(s);
        t[r] = cpu_s() - t0;
        *threat = got;
        *incomplete = ww_sigscan_incomplete(s) != NULL;
        ww_sigscan_free(s);
    }
    qsort(t, (size_t)rounds, sizeof(t[0]), cmp_d);
    return t[rounds / 2];
}

static void run(const struct ww_sigdb *db, unsigned char *body, size_t len, int rounds)
{
    const char *threat;
    double clean, t;
    int inc;
    unsigned x = 12345;

    printf("body %zu KiB, %d rounds (median), 64 KiB feeds, %zu signatures\n", len / 1024, rounds,
           ww_sigdb_count(db));
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        body[i] = (unsigned char)(x >> 16);
    }
    clean = time_scan(db, body, len, rounds, &threat, &inc);
    printf("  %-26s %9.2f ms  x%-7.1f %s%s\n", "clean (random bytes)", clean * 1e3, 1.0,
           threat != NULL ? threat : "clean", inc ? ", INCOMPLETE" : "");
    for (size_t i = 0; i < len; i++)
        body[i] = (unsigned char)(i % 2 ? 'B' : 'A');
    t = time_scan(db, body, len, rounds, &threat, &inc);
    printf("  %-26s %9.2f ms  x%-7.1f %s%s\n", "anchor flood (ABAB...)", t * 1e3, t / clean,
           threat != NULL ? threat : "no threat", inc ? ", incomplete (unscanned)" : "");
    for (size_t i = 0; i < len; i++)
        body[i] = (unsigned char)(i % 3 == 0 ? 'q' : i % 3 == 1 ? 0 : 'e');
    t = time_scan(db, body, len, rounds, &threat, &inc);
    printf("  %-26s %9.2f ms  x%-7.1f %s%s\n", "offset near-matches", t * 1e3, t / clean,
           threat != NULL ? threat : "no threat", inc ? ", incomplete (unscanned)" : "");
}

int main(int argc, char **argv)
{
    size_t len = (size_t)(argc > 1 ? atol(argv[1]) : 300) * 1024;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    struct ww_sigdb *small = ww_sigdb_create(), *db = ww_sigdb_create();
    unsigned char *body = malloc(len);
    char line[256];

    if (small == NULL || db == NULL || body == NULL || len < 65536 || rounds < 1 || rounds > 31)
        return 2;
    /* 1: EICAR and the wide-gap signature only; 2: plus 300 offset and 10 EOF windows */
    add(small, "Eicar:0:*:4549434152");
    add(small, "Flood:0:*:4142414241424142{0-30000}5a??5a");
    add(db, "Eicar:0:*:4549434152");
    add(db, "Flood:0:*:4142414241424142{0-30000}5a??5a");
    for (int i = 0; i < 300; i++) {
        snprintf(line, sizeof(line), "Off%d:0:0,60000:71%02x%02x{0-20}7a7a", i, i / 256, i % 256);
        add(db, line);
    }
    for (int i = 0; i < 10; i++) {
        snprintf(line, sizeof(line), "Eof%d:0:EOF-60000,60000:65%02x{0-20}7a7a", i, i);
        add(db, line);
    }
    if (ww_sigdb_compile(small) != WW_OK || ww_sigdb_compile(db) != WW_OK)
        return 1;
    run(small, body, len, rounds);
    run(db, body, len, rounds);
    free(body);
    ww_sigdb_free(small);
    ww_sigdb_free(db);
    return 0;
}
