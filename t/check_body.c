/* t/check_body.c - the response-body pipeline without c-icap: hold, stream, cut, late
 * detection, hold_all with and without 204, decode limits, max_size and oversize_action, lying
 * lengths, back-pressure. EICAR is built at run time from hex so no file here holds it. */
#include "config.h"

#include <check.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ww_body.h"
#include "ww_common.h"
#include "ww_policies.h"

static const char eicar_hex[] =
    "58354f2150254041505b345c505a58353428505e2937434329377d24"
    "45494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a";
#define EICAR_LEN 68
/* The end-of-body marker: only an EOF-anchored signature names it, so it is found at the end. */
#define TAIL "WW-TAIL-MARK"
#define TAIL_HEX "57572d5441494c2d4d41524b"

static char tmpdir[64];
static struct ww_engine *engine;

static void eicar_fill(unsigned char *out)
{
    size_t i;
    for (i = 0; i < EICAR_LEN; i++) {
        unsigned int v;
        sscanf(eicar_hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
}

/* Deterministic pseudo-random bytes (xorshift), so a failure can be replayed. */
static void random_fill(unsigned char *p, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    size_t i;
    for (i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)(x >> 24);
    }
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void setup(void)
{
    char path[256], err[WW_ERRLEN] = "";
    FILE *fp;

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ww-check-body-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(path, sizeof(path), "%s/test.ndb", tmpdir);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "Eicar-Test-Signature:0:*:%s\n", eicar_hex);
    fprintf(fp, "Test.Tail:0:EOF-%d:%s\n", (int)strlen(TAIL), TAIL_HEX);
    fclose(fp);
    ck_assert_int_eq(ww_engine_load_dir(tmpdir, &engine, NULL, err, sizeof(err)), WW_OK);
}

static void teardown(void)
{
    ww_engine_unref(engine);
    engine = NULL;
    nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void limits(struct ww_body_limits *lim)
{
    memset(lim, 0, sizeof(*lim));
    lim->max_size = 50 * 1024 * 1024;
    lim->hold_max = 60 * 1024;
    lim->max_expanded_size = 100 * 1024 * 1024;
    lim->max_ratio = 100;
    lim->bomb_action = WW_ACTION_BLOCK;
    lim->oversize_action = WW_ACTION_ALLOW;
    lim->tmp_dir = tmpdir;
}

static struct ww_body *body_new(const struct ww_body_limits *lim, int64_t declared, unsigned flags,
                                const char *coding)
{
    struct ww_body *b = ww_body_create(lim, declared, flags);
    const char *codings[1] = {coding};

    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(ww_body_start(b, engine, codings, coding != NULL ? 1 : 0), WW_BODY_MORE);
    return b;
}

/* What a reader got back, and the decisions seen on the way. */
struct run {
    unsigned char *out;
    size_t out_len;
    int release_at; /* byte count when RELEASE came, -1 never */
    int last;       /* the last decision other than MORE, or the error */
    size_t last_at; /* bytes put when it came */
    int end;        /* ww_body_end's answer */
};

static void drain(struct ww_body *b, struct run *r)
{
    unsigned char buf[8192];
    int n;

    while ((n = ww_body_read(b, buf, sizeof(buf))) > 0) {
        memcpy(r->out + r->out_len, buf, (size_t)n);
        r->out_len += (size_t)n;
    }
    ck_assert_int_ge(n, 0);
}

/* Puts <data> in <chunk>-byte pieces, reading everything releasable after each (a reader that
 * keeps up), then ends the body with <answer_started> when RELEASE came. */
static void run_body(struct ww_body *b, const unsigned char *data, size_t len, size_t chunk,
                     struct run *r)
{
    size_t off = 0;

    memset(r, 0, sizeof(*r));
    r->out = malloc(len + (size_t)ww_body_received(b) + 1);
    ck_assert_ptr_nonnull(r->out);
    r->release_at = -1;
    while (off < len) {
        size_t n = len - off < chunk ? len - off : chunk;
        int d;
        ck_assert_uint_eq(ww_body_room(b, n), n); /* a reader that keeps up never stalls */
        d = ww_body_put(b, data + off, n);
        off += n;
        ck_assert_int_ge(d, 0);
        if (d == WW_BODY_RELEASE)
            r->release_at = (int)off;
        else if (d != WW_BODY_MORE) {
            r->last = d;
            r->last_at = off;
        }
        if (r->release_at >= 0 || ww_body_state(b) == WW_BODY_PASSING)
            drain(b, r);
        if (ww_body_state(b) == WW_BODY_STREAMING)
            /* The tail of the scanned bytes is always held back for the end-of-body verdict. */
            ck_assert_int_ge(ww_body_received(b) - ww_body_sent(b), WW_BODY_STREAM_KEEP);
    }
    r->end = ww_body_end(b, r->release_at >= 0, NULL, NULL);
    drain(b, r);
}

static void free_run(struct run *r)
{
    free(r->out);
}

START_TEST(test_body_small_clean_held_until_the_end_then_released_whole)
{
    struct ww_body_limits lim;
    unsigned char data[20000];
    struct ww_body *b;
    struct run r;

    limits(&lim);
    random_fill(data, sizeof(data), 1);
    b = body_new(&lim, sizeof(data), 0, NULL);
    /* Preview, then more: nothing may be read before the verdict. */
    ck_assert_int_eq(ww_body_put(b, data, 1024), WW_BODY_MORE);
    ck_assert_int_eq(ww_body_read(b, (char[16]){0}, 16), 0);
    run_body(b, data + 1024, sizeof(data) - 1024, 4096, &r);
    ck_assert_int_eq(r.release_at, -1);
    ck_assert_int_eq(r.end, WW_BODY_CLEAN);
    ck_assert_uint_eq(r.out_len, sizeof(data) - 1024 + 1024);
    ck_assert_int_eq(ww_body_drained(b), 1);
    ww_body_free(b);
    free_run(&r);
}
END_TEST

START_TEST(test_body_eicar_in_held_body_blocks_at_once_and_releases_nothing)
{
    struct ww_body_limits lim;
    unsigned char data[30000];
    struct ww_body *b;
    struct run r;

    limits(&lim);
    random_fill(data, sizeof(data), 2);
    eicar_fill(data + 10000);
    b = body_new(&lim, sizeof(data), 0, NULL);
    run_body(b, data, sizeof(data), 4096, &r);
    ck_assert_int_eq(r.last, WW_BODY_BLOCK);
    ck_assert_uint_eq(r.last_at, 12288);   /* the chunk that completed it, not the end */
    ck_assert_int_eq(r.end, WW_BODY_MORE); /* decided before */
    ck_assert_int_eq(ww_body_state(b), WW_BODY_BLOCKED);
    ck_assert_str_eq(ww_body_threat(b), "Eicar-Test-Signature");
    ck_assert_uint_eq(r.out_len, 0);
    ck_assert_int_eq(ww_body_received(b), sizeof(data));
    ww_body_free(b);
    free_run(&r);
}
END_TEST

START_TEST(test_body_detection_at_the_end_of_a_held_body_blocks)
{
    struct ww_body_limits lim;
    unsigned char data[50000];
    struct ww_body *b;
    struct run r;

    limits(&lim);
    random_fill(data, sizeof(data), 3);
    memcpy(data + sizeof(data) - strlen(TAIL), TAIL, strlen(TAIL));
    b = body_new(&lim, -1, 0, NULL);
    run_body(b, data, sizeof(data), 4096, &r);
    ck_assert_int_eq(r.last, 0);
    ck_assert_int_eq(r.end, WW_BODY_BLOCK);
    ck_assert_str_eq(ww_body_threat(b), "Test.Tail");
    ck_assert_uint_eq(r.out_len, 0);
    ww_body_free(b);
    free_run(&r);
}
END_TEST

START_TEST(test_body_over_hold_max_streams_with_the_tail_held_and_arrives_whole)
{
    struct ww_body_limits lim;
    size_t len = 400 * 1024;
    unsigned char *data = malloc(len);
    struct ww_body *b;
    struct run r;

    limits(&lim);
    random_fill(data, len, 4);
    b = body_new(&lim, (int64_t)len, 0, NULL);
    run_body(b, data, len, 4096, &r);
    ck_assert_int_eq(r.release_at, 61440 + 4096); /* the first chunk past hold_max */
    ck_assert_int_eq(r.end, WW_BODY_CLEAN);
    ck_assert_uint_eq(r.out_len, len);
    ck_assert_int_eq(memcmp(r.out, data, len), 0);
    ck_assert_int_eq(ww_body_drained(b), 1);
    ww_body_free(b);
    free_run(&r);
    free(data);
}
END_TEST

START_TEST(test_body_late_detection_while_streaming_cuts)
{
    struct ww_body_limits lim;
    size_t len = 300 * 1024;
    unsigned char *data = malloc(len);
    unsigned char buf[64];
    struct ww_body *b;
    struct run r;

    limits(&lim);
    random_fill(data, len, 5);
    memcpy(data + len - strlen(TAIL), TAIL, strlen(TAIL));
    b = body_new(&lim, (int64_t)len, 0, NULL);
    run_body(b, data, len, 4096, &r);
    ck_assert_int_ge(r.release_at, 0);
    ck_assert_int_eq(r.end, WW_BODY_CUT);
    ck_assert_int_eq(ww_body_state(b), WW_BODY_CUT_OFF);
    ck_assert_str_eq(ww_body_threat(b), "Test.Tail");
    /* The download never completes: the held tail is gone, nothing more is released. */
    ck_assert_uint_le(r.out_len, len - WW_BODY_STREAM_KEEP);
    ck_assert_int_eq(ww_body_sent(b), (int64_t)r.out_len);
    ck_assert_int_eq(ww_body_read(b, buf, sizeof(buf)), 0);
    ck_assert_int_eq(ww_body_drained(b), 0);
    ww_body_free(b);
    free_run(&r);
    free(data);
}
END_TEST

START_TEST(test_body_late_detection_before_the_answer_started_still_blocks)
{
    struct ww_body_limits lim;
    size_t len = 100 * 1024;
    unsigned char *data = malloc(len);
    struct ww_body *b;

    limits(&lim);
    random_fill(data, len, 6);
    memcpy(data + len - strlen(TAIL), TAIL, strlen(TAIL));
    b = body_new(&lim, (int64_t)len, 0, NULL);
    ck_assert_int_eq(ww_body_put(b, data, len), WW_BODY_RELEASE);
    ck_assert_int_eq(ww_body_end(b, 0, NULL, NULL), WW_BODY_BLOCK);
    ck_assert_int_eq(ww_body_state(b), WW_BODY_BLOCKED);
    ww_body_free(b);
    free(data);
}
END_TEST

START_TEST(test_body_eicar_mid_stream_cuts_at_once)
{
    struct ww_body_limits lim;
    size_t len = 300 * 1024;
    unsigned char *data = malloc(len);
    struct ww_body *b;
    struct run r;

    limits(&lim);
    random_fill(data, len, 7);
    eicar_fill(data + 200 * 1024);
    b = body_new(&lim, (int64_t)len, 0, NULL);
    run_body(b, data, len, 4096, &r);
    ck_assert_int_eq(r.last, WW_BODY_CUT);
    ck_assert_uint_eq(r.last_at, 200 * 1024 + 4096);
    ck_assert_uint_lt(r.out_len, 200 * 1024);
    ck_assert_int_eq(r.end, WW_BODY_MORE);
    ww_body_free(b);
    free_run(&r);
    free(data);
}
END_TEST

START_TEST(test_body_back_pressure_when_the_reader_stalls)
{
    struct ww_body_limits lim;
    size_t len = 1024 * 1024, off = 0, taken_stalled = 0;
    unsigned char *data = malloc(len), buf[65536];
    struct ww_body *b;
    int d, n;

    limits(&lim);
    random_fill(data, len, 8);
    b = body_new(&lim, (int64_t)len, 0, NULL);
    /* Nobody reads: once streaming, the window fills and no more is taken. */
    while (off < len) {
        size_t want = 8192, room = ww_body_room(b, want);
        if (room == 0)
            break;
        d = ww_body_put(b, data + off, room);
        ck_assert_int_ge(d, 0);
        off += room;
        if (ww_body_state(b) == WW_BODY_STREAMING)
            taken_stalled += room;
    }
    ck_assert_int_eq(ww_body_state(b), WW_BODY_STREAMING);
    ck_assert_uint_lt(off, len);
    ck_assert_uint_le(off, lim.hold_max + WW_BODY_STREAM_WINDOW);
    ck_assert_uint_gt(taken_stalled, 0);
    /* The reader catches up: there is room again, and what went out is what came in. */
    n = ww_body_read(b, buf, sizeof(buf));
    ck_assert_int_eq(n, (int)sizeof(buf));
    ck_assert_int_eq(memcmp(buf, data, sizeof(buf)), 0);
    ck_assert_uint_gt(ww_body_room(b, 8192), 0);
    ww_body_free(b);
    free(data);
}
END_TEST

/* The streamed body's memory is a ring: random puts and reads wrap it, grow it while wrapped
 * and, when a caller puts past the room it was given, spill it to the file in order. What comes
 * out is what went in, byte for byte. */
START_TEST(test_body_ring_keeps_order_through_wraps_growth_and_spill)
{
    struct ww_body_limits lim;
    size_t len = 3 * 1024 * 1024, off = 0, got = 0, stall_end = 0, spill_end = 0;
    unsigned char *data = malloc(len), *out = malloc(len), buf[12000];
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    struct ww_body *b;
    int d, n;

    limits(&lim);
    lim.hold_max = 10000;
    random_fill(data, len, 9);
    b = body_new(&lim, (int64_t)len, 0, NULL);
    while (off < len) {
        /* 0-1 MiB: a reader that lags now and then; 1 MiB on: one that stalls until there is no
         * room (the ring grows to its cap), then catches up (the full ring wraps); 2 MiB on: a
         * caller that puts past the room while nobody reads, so the wrapped ring goes to the
         * file; then to the end. */
        int stalled = off >= 1024 * 1024 && stall_end == 0;
        int spilling = off >= 2 * 1024 * 1024 && spill_end == 0;
        size_t want, room;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        want = 1 + x % 9000;
        if (want > len - off)
            want = len - off;
        room = spilling ? want : ww_body_room(b, want);
        if (stalled && room == 0)
            stall_end = off;
        if (spilling &&
            off > (size_t)(2 * 1024 * 1024 + lim.hold_max) + WW_BODY_STREAM_WINDOW + 20000)
            spill_end = off;
        if (room > 0) {
            d = ww_body_put(b, data + off, room);
            ck_assert_int_ge(d, 0);
            off += room;
        }
        if (!stalled && !spilling && (x >> 40) % 4 != 0) {
            size_t rd = 1 + (x >> 20) % sizeof(buf);
            while (rd > 0 && (n = ww_body_read(b, buf, rd)) > 0) {
                memcpy(out + got, buf, (size_t)n);
                got += (size_t)n;
                rd -= (size_t)n;
            }
        }
    }
    ck_assert_uint_gt(stall_end, 0);
    ck_assert_uint_gt(spill_end, 0);
    ck_assert_int_eq(ww_body_end(b, 1, NULL, NULL), WW_BODY_CLEAN);
    while ((n = ww_body_read(b, buf, sizeof(buf))) > 0) {
        memcpy(out + got, buf, (size_t)n);
        got += (size_t)n;
    }
    ck_assert_int_ge(n, 0);
    ck_assert_uint_eq(got, len);
    ck_assert_int_eq(memcmp(out, data, len), 0);
    ck_assert_int_eq(ww_body_drained(b), 1);
    ww_body_free(b);
    free(out);
    free(data);
}
END_TEST

/* EICAR right past hold_max, before the caller read any byte back (c-icap had sent nothing): the
 * cut used to fail the request (ICAP 500, which Squid with bypass=on answers by delivering the
 * response unscanned; found attacking the gateway with tiny chunks across the hold boundary).
 * ww_body_uncut turns it into a block while nothing went out; once bytes went out, a cut. */
START_TEST(test_body_cut_before_any_byte_went_out_becomes_a_block)
{
    struct ww_body_limits lim;
    size_t len = 70 * 1024;
    unsigned char *data = malloc(len), buf[4096];
    struct ww_body *b;
    int d = WW_BODY_MORE, round;

    limits(&lim);
    for (round = 0; round < 2; round++) {
        size_t off = 0, release = 0;
        random_fill(data, len, 30);
        b = body_new(&lim, (int64_t)len, 0, NULL);
        while (off < len && (d = ww_body_put(b, data + off, 1024)) != WW_BODY_CUT) {
            ck_assert_int_ge(d, 0);
            off += 1024;
            if (d == WW_BODY_RELEASE) {
                release = off;
                eicar_fill(data + off + 100); /* in the next chunk, after the release */
            }
            if (round == 1 && release > 0)
                ck_assert_int_ge(ww_body_read(b, buf, sizeof(buf)), 0); /* a reader that reads */
        }
        ck_assert_msg(d == WW_BODY_CUT, "round %d: %d after %zu bytes, state %d", round, d, off,
                      (int)ww_body_state(b));
        if (round == 0) {
            ck_assert_int_eq(ww_body_sent(b), 0);
            ck_assert_int_eq(ww_body_uncut(b), WW_BODY_BLOCK);
            ck_assert_int_eq(ww_body_state(b), WW_BODY_BLOCKED);
            ck_assert_str_eq(ww_body_threat(b), "Eicar-Test-Signature");
            ck_assert_int_eq(ww_body_read(b, buf, sizeof(buf)), 0);
            ck_assert_int_eq(ww_body_end(b, 0, NULL, NULL), WW_BODY_MORE); /* decided before */
        } else {
            ck_assert_int_gt(ww_body_sent(b), 0);
            ck_assert_int_eq(ww_body_uncut(b), WW_BODY_CUT);
            ck_assert_int_eq(ww_body_state(b), WW_BODY_CUT_OFF);
        }
        ww_body_free(b);
    }
    free(data);
}
END_TEST

START_TEST(test_body_hold_all_spools_and_never_streams)
{
    struct ww_body_limits lim;
    size_t len = 500 * 1024;
    unsigned char *data = malloc(len);
    struct ww_body *b;
    struct run r;

    limits(&lim);
    lim.hold_all = 1;
    random_fill(data, len, 9);
    b = body_new(&lim, (int64_t)len, 0, NULL);
    run_body(b, data, len, 4096, &r);
    ck_assert_int_eq(r.release_at, -1);
    ck_assert_int_eq(r.end, WW_BODY_CLEAN);
    ck_assert_uint_eq(r.out_len, len);
    ck_assert_int_eq(memcmp(r.out, data, len), 0);
    ww_body_free(b);
    free_run(&r);

    /* A late detection in a body far over hold_max still gets the block page. */
    memcpy(data + len - strlen(TAIL), TAIL, strlen(TAIL));
    b = body_new(&lim, (int64_t)len, 0, NULL);
    run_body(b, data, len, 4096, &r);
    ck_assert_int_eq(r.end, WW_BODY_BLOCK);
    ck_assert_uint_eq(r.out_len, 0);
    ww_body_free(b);
    free_run(&r);
    free(data);
}
END_TEST

/* hold_all without 204: up to hold_memory in memory, only past it a file (a tmp_dir that does not
 * exist shows which: the spill fails there). */
START_TEST(test_body_hold_all_in_memory_up_to_hold_memory)
{
    struct ww_body_limits lim;
    size_t len = 900 * 1024, off;
    unsigned char *data = malloc(len);
    struct ww_body *b;
    struct run r;
    int d = WW_BODY_MORE;

    limits(&lim);
    lim.hold_all = 1;
    lim.hold_memory = 1024 * 1024;
    lim.tmp_dir = "/nonexistent/webwarden-check-body";
    random_fill(data, len, 13);
    b = body_new(&lim, (int64_t)len, 0, NULL);
    run_body(b, data, len, 4096, &r);
    ck_assert_int_eq(r.end, WW_BODY_CLEAN);
    ck_assert_uint_eq(r.out_len, len);
    ck_assert_int_eq(memcmp(r.out, data, len), 0);
    ww_body_free(b);
    free_run(&r);

    lim.hold_memory = 100 * 1024; /* past it, the spill: into a folder that is not there */
    b = body_new(&lim, (int64_t)len, 0, NULL);
    for (off = 0; off < len && d == WW_BODY_MORE; off += 4096)
        d = ww_body_put(b, data + off, 4096);
    ck_assert_int_eq(d, WW_EIO);
    ck_assert_uint_gt(off, 100 * 1024);
    ck_assert_uint_le(off, 104 * 1024);
    ww_body_free(b);
    free(data);
}
END_TEST

START_TEST(test_body_hold_all_with_204_keeps_nothing)
{
    struct ww_body_limits lim;
    size_t len = 500 * 1024;
    unsigned char *data = malloc(len);
    struct ww_body *b;
    struct run r;

    limits(&lim);
    lim.hold_all = 1;
    lim.max_size = 300 * 1024;
    random_fill(data, len, 10);
    memcpy(data + 200 * 1024 - strlen(TAIL), TAIL, strlen(TAIL));
    b = body_new(&lim, 200 * 1024, WW_BODY_DROP, NULL);
    run_body(b, data, 200 * 1024, 4096, &r);
    ck_assert_int_eq(r.end, WW_BODY_BLOCK);
    ck_assert_uint_eq(r.out_len, 0);
    ww_body_free(b);
    free_run(&r);

    /* Clean, or over max_size: nothing to read back, the answer is 204. */
    random_fill(data, len, 11);
    b = body_new(&lim, (int64_t)len, WW_BODY_DROP, NULL);
    run_body(b, data, len, 4096, &r);
    ck_assert_int_eq(r.last, WW_BODY_UNSCANNED);
    ck_assert_int_eq(ww_body_state(b), WW_BODY_PASSING);
    ck_assert_uint_eq(r.out_len, 0);
    ck_assert_int_eq(ww_body_drained(b), 0);
    ww_body_free(b);
    free_run(&r);
    free(data);
}
END_TEST

/* gzip of <len> bytes (zlib windowBits 31). */
static unsigned char *gz(const void *data, size_t len, size_t *outlen)
{
    z_stream zs;
    size_t cap = compressBound(len) + 64;
    unsigned char *out = malloc(cap);

    ck_assert_ptr_nonnull(out);
    memset(&zs, 0, sizeof(zs));
    ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (unsigned char *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *outlen = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

/* A folded Content-Encoding (obs-fold: c-icap keeps the field as one entry with CR LF SP inside):
 * "gzip,<CRLF> gzip" is two codings, and "<CRLF> gzip" right after the colon is one; a lone CR
 * (which c-icap also keeps inside) is whitespace too. Read up to the first CR, the first was one
 * gzip and the second none: EICAR under the other gzip passed unscanned. */
START_TEST(test_body_folded_content_encoding_is_read_whole)
{
    static const char *const folds[] = {"gzip,\r\n gzip", "\r\n\tgzip, \r\n gzip",
                                        "gzip\r\n , gzip", "gzip,\rgzip"};
    struct ww_body_limits lim;
    unsigned char data[40000], *z1, *z2;
    size_t zlen1, zlen2, i;
    struct ww_body *b;
    struct run r;

    limits(&lim);
    memset(data, 'a', sizeof(data));
    eicar_fill(data + 30000);
    z1 = gz(data, sizeof(data), &zlen1);
    z2 = gz(z1, zlen1, &zlen2); /* gzip, gzip */
    for (i = 0; i < sizeof(folds) / sizeof(folds[0]); i++) {
        b = body_new(&lim, (int64_t)zlen2, 0, folds[i]);
        run_body(b, z2, zlen2, 512, &r);
        ck_assert_msg(r.last == WW_BODY_BLOCK || r.end == WW_BODY_BLOCK,
                      "Content-Encoding \"%s\": EICAR under two gzips not found", folds[i]);
        ww_body_free(b);
        free_run(&r);
    }
    free(z1);
    free(z2);
}
END_TEST

/* Puts <first> bytes of <data>, then the rest, then ends the body: BLOCK if a put or the end
 * blocked, else the end's decision. */
static int put_in_two(struct ww_body *b, const unsigned char *data, size_t len, size_t first)
{
    int d = ww_body_put(b, data, first);

    if (d == WW_BODY_BLOCK)
        return d;
    d = ww_body_put(b, data + first, len - first);
    if (d == WW_BODY_BLOCK)
        return d;
    return ww_body_end(b, 0, NULL, NULL);
}

/* A body that stops being valid for its coding: the decoder took the first piece's bytes and gave
 * nothing back, and the next piece failed. Only that piece was scanned as received, so EICAR
 * across the two passed as clean, through Squid too (its preview ended inside it). The bytes as
 * received are scanned now, whatever the decoder makes of them. */
START_TEST(test_body_encoding_that_turns_invalid_is_scanned_as_received)
{
    static const char *const codings[] = {"deflate", "gzip", "br", "zstd"};
    static const size_t firsts[] = {1, 4, 8};
    struct ww_body_limits lim;
    unsigned char eicar[EICAR_LEN], stored[5 + 1015 + EICAR_LEN];
    struct ww_body *b;
    size_t i, j;

    limits(&lim);
    eicar_fill(eicar);
    for (i = 0; i < sizeof(codings) / sizeof(codings[0]); i++)
        for (j = 0; j < sizeof(firsts) / sizeof(firsts[0]); j++) {
            b = body_new(&lim, EICAR_LEN, 0, codings[i]);
            ck_assert_msg(put_in_two(b, eicar, EICAR_LEN, firsts[j]) == WW_BODY_BLOCK,
                          "EICAR as %s in pieces of %zu and the rest: not blocked", codings[i],
                          firsts[j]);
            ww_body_free(b);
        }
    /* Squid's case: a stored deflate block of 1015 'A', then EICAR read as the next block's
     * header; the 1024-byte preview ends after "X5O!". */
    memcpy(stored, "\x00\xf7\x03\x08\xfc", 5);
    memset(stored + 5, 'A', 1015);
    memcpy(stored + 5 + 1015, eicar, EICAR_LEN);
    b = body_new(&lim, sizeof(stored), 0, "deflate");
    ck_assert_int_eq(put_in_two(b, stored, sizeof(stored), 1024), WW_BODY_BLOCK);
    ck_assert_str_eq(ww_body_threat(b), "Eicar-Test-Signature");
    ww_body_free(b);
}
END_TEST

/* Bytes of an encoded body that decoding drops (a gzip comment): scanned as received. */
START_TEST(test_body_gzip_comment_is_scanned)
{
    struct ww_body_limits lim;
    unsigned char *z, *withc;
    size_t zlen, n;
    struct ww_body *b;
    struct run r;

    limits(&lim);
    z = gz("hello", 5, &zlen);
    withc = malloc(zlen + EICAR_LEN + 1);
    ck_assert_ptr_nonnull(withc);
    memcpy(withc, z, 10); /* zlib's gzip header: 10 bytes, no flags */
    withc[3] |= 0x10;     /* FCOMMENT: a zero-ended comment follows the header */
    eicar_fill(withc + 10);
    withc[10 + EICAR_LEN] = 0;
    memcpy(withc + 11 + EICAR_LEN, z + 10, zlen - 10);
    n = zlen + EICAR_LEN + 1;
    b = body_new(&lim, (int64_t)n, 0, "gzip");
    run_body(b, withc, n, 7, &r);
    ck_assert_msg(r.last == WW_BODY_BLOCK || r.end == WW_BODY_BLOCK,
                  "EICAR in a gzip comment: not blocked");
    ww_body_free(b);
    free_run(&r);
    /* Decoding still works around the comment: a clean comment gives a clean body. */
    memset(withc + 10, 'c', EICAR_LEN);
    b = body_new(&lim, (int64_t)n, 0, "gzip");
    run_body(b, withc, n, 7, &r);
    ck_assert_int_eq(r.end, WW_BODY_CLEAN);
    ck_assert_uint_eq(r.out_len, n);
    ww_body_free(b);
    free_run(&r);
    free(withc);
    free(z);
}
END_TEST

START_TEST(test_body_gzip_is_scanned_decoded_and_released_as_sent)
{
    struct ww_body_limits lim;
    unsigned char data[40000], *z;
    size_t zlen;
    struct ww_body *b;
    struct run r;

    limits(&lim);
    memset(data, 'a', sizeof(data));
    eicar_fill(data + 30000);
    z = gz(data, sizeof(data), &zlen);
    b = body_new(&lim, (int64_t)zlen, 0, "gzip");
    run_body(b, z, zlen, 512, &r);
    ck_assert_int_eq(r.last == WW_BODY_BLOCK || r.end == WW_BODY_BLOCK, 1);
    ww_body_free(b);
    free_run(&r);
    free(z);

    memset(data + 30000, 'b', EICAR_LEN);
    z = gz(data, sizeof(data), &zlen);
    b = body_new(&lim, (int64_t)zlen, 0, "x-gzip");
    run_body(b, z, zlen, 512, &r);
    ck_assert_int_eq(r.end, WW_BODY_CLEAN);
    ck_assert_uint_eq(r.out_len, zlen); /* the client gets the bytes as sent */
    ck_assert_int_eq(memcmp(r.out, z, zlen), 0);
    ww_body_free(b);
    free_run(&r);
    free(z);
}
END_TEST

/* A policy's block_types (issue 14): the true type from the first decoded bytes, never the
 * name; refused with the page before any byte went out, a type not listed passes clean. */
START_TEST(test_body_policy_block_types_refuse_the_true_type_at_the_start)
{
    struct ww_body_limits lim;
    struct ww_policy pol;
    unsigned char data[200000], *z;
    size_t zlen;
    struct ww_body *b;
    struct run r;
    char words[200];

    memset(&pol, 0, sizeof(pol));
    pol.name = "guests";
    pol.max_size = 1000000;
    pol.deep = 0;
    pol.block_types = WW_FTYPE_EXECUTABLE | WW_FTYPE_ARCHIVE;
    limits(&lim);
    ww_body_limits_apply_policy(&lim, &pol);
    ck_assert_int_eq(lim.max_size, 1000000);
    ck_assert_int_eq(lim.deep, 0);
    ck_assert_str_eq(lim.policy, "guests");

    /* A PE far past hold_max: refused at its first 1 KiB, nothing released. */
    random_fill(data, sizeof(data), 7);
    memcpy(data, "MZ\x90\x00", 4);
    b = body_new(&lim, (int64_t)sizeof(data), 0, NULL);
    run_body(b, data, sizeof(data), 4096, &r);
    ck_assert_int_eq(r.last, WW_BODY_BLOCK);
    ck_assert_uint_le(r.last_at, 4096);
    ck_assert_int_eq(r.release_at, -1);
    ck_assert_uint_eq(r.out_len, 0);
    ck_assert_int_eq(ww_body_type_blocked(b), 1);
    ck_assert_str_eq(ww_body_threat(b), WW_THREAT_FILETYPE);
    ck_assert_str_eq(ww_body_type(b), "pe");
    ww_body_explain(b, words, sizeof(words));
    ck_assert_str_eq(words, "file type pe blocked by policy guests");
    ww_body_free(b);
    free_run(&r);

    /* The same PE gzip-encoded: the decoded bytes decide. */
    z = gz(data, sizeof(data), &zlen);
    b = body_new(&lim, (int64_t)zlen, 0, "gzip");
    run_body(b, z, zlen, 512, &r);
    ck_assert_int_eq(r.last == WW_BODY_BLOCK || r.end == WW_BODY_BLOCK, 1);
    ck_assert_int_eq(ww_body_type_blocked(b), 1);
    ck_assert_uint_eq(r.out_len, 0);
    ww_body_free(b);
    free_run(&r);
    free(z);

    /* A zip shorter than the peek: told at its end, still held: the page. */
    b = body_new(&lim, 30, 0, NULL);
    run_body(b,
             (const unsigned char *)"PK\x03\x04\x14\x00\x00\x00\x08\x00"
                                    "abcdefghijklmnopqrst",
             30, 30, &r);
    ck_assert_int_eq(r.end, WW_BODY_BLOCK);
    ck_assert_str_eq(ww_body_type(b), "zip");
    ck_assert_uint_eq(r.out_len, 0);
    ww_body_free(b);
    free_run(&r);

    /* A PDF is not in the set: clean, whole. */
    memcpy(data, "%PDF-1.7\n", 9);
    b = body_new(&lim, (int64_t)sizeof(data), 0, NULL);
    run_body(b, data, sizeof(data), 4096, &r);
    ck_assert_int_eq(r.end, WW_BODY_CLEAN);
    ck_assert_int_eq(ww_body_type_blocked(b), 0);
    ck_assert_str_eq(ww_body_type(b), "pdf");
    ck_assert_uint_eq(r.out_len, sizeof(data));
    ww_body_free(b);
    free_run(&r);

    /* A coding that cannot be undone hides the type: refused under block_types. */
    {
        const char *codings[1] = {"x-webwarden-unknown"};
        b = ww_body_create(&lim, -1, 0);
        ck_assert_int_eq(ww_body_start(b, engine, codings, 1), WW_BODY_BLOCK);
        ck_assert_int_eq(ww_body_type_blocked(b), 1);
        ck_assert_str_eq(ww_body_reason(b), "file type unknown blocked by policy guests");
        ww_body_free(b);
    }

    /* A polyglot: a PNG with a zip inside; the start says image, "archive" still refuses it. */
    random_fill(data, sizeof(data), 11);
    memcpy(data, "\x89PNG\r\n\x1a\n", 8);
    memcpy(data + 30000, "PK\x03\x04\x14\x00", 6);
    b = body_new(&lim, (int64_t)sizeof(data), 0, NULL);
    run_body(b, data, sizeof(data), 4096, &r);
    ck_assert_int_eq(r.last, WW_BODY_BLOCK);
    ck_assert_int_eq(r.release_at, -1);
    ck_assert_uint_eq(r.out_len, 0);
    ck_assert_str_eq(ww_body_reason(b), "file type image+zip blocked by policy guests");
    ww_body_free(b);
    free_run(&r);
    /* ... found after streaming started: the download is cut. */
    memset(data + 30000, 'x', 6);
    memcpy(data + 150000, "Rar!\x1a\x07", 6);
    b = body_new(&lim, (int64_t)sizeof(data), 0, NULL);
    run_body(b, data, sizeof(data), 4096, &r);
    ck_assert_int_eq(r.last, WW_BODY_CUT);
    ck_assert_uint_lt(r.out_len, 150000);
    ck_assert_int_eq(ww_body_type_blocked(b), 1);
    ww_body_free(b);
    free_run(&r);
    /* The same image without the archive: clean. */
    memset(data + 150000, 'x', 6);
    b = body_new(&lim, (int64_t)sizeof(data), 0, NULL);
    run_body(b, data, sizeof(data), 4096, &r);
    ck_assert_int_eq(r.end, WW_BODY_CLEAN);
    ck_assert_uint_eq(r.out_len, sizeof(data));
    ww_body_free(b);
    free_run(&r);

    /* Without block_types the same PE passes (the default policy). */
    limits(&lim);
    memcpy(data, "MZ\x90\x00", 4);
    b = body_new(&lim, (int64_t)sizeof(data), 0, NULL);
    run_body(b, data, sizeof(data), 4096, &r);
    ck_assert_int_eq(r.end, WW_BODY_CLEAN);
    ck_assert_str_eq(ww_body_type(b), "pe");
    ck_assert_uint_eq(r.out_len, sizeof(data));
    ww_body_free(b);
    free_run(&r);

    /* deep = -1 keeps the global switch; NULL changes nothing. */
    pol.deep = -1;
    limits(&lim);
    lim.deep = 1;
    ww_body_limits_apply_policy(&lim, &pol);
    ck_assert_int_eq(lim.deep, 1);
    pol.deep = 1;
    lim.deep = 0;
    ww_body_limits_apply_policy(&lim, &pol);
    ck_assert_int_eq(lim.deep, 1);
    ww_body_limits_apply_policy(&lim, NULL);
    ck_assert_int_eq(lim.deep, 1);
}
END_TEST

START_TEST(test_body_decode_limit_hit_is_unscanned_or_blocked_by_bomb_action)
{
    struct ww_body_limits lim;
    size_t len = 4 * 1024 * 1024, zlen;
    unsigned char *data = calloc(1, len), *z;
    struct ww_body *b;
    struct run r;

    limits(&lim);
    lim.max_expanded_size = 1024 * 1024;
    lim.bomb_action = WW_ACTION_ALLOW;
    z = gz(data, len, &zlen);
    b = body_new(&lim, (int64_t)zlen, 0, "gzip");
    run_body(b, z, zlen, 1024, &r);
    ck_assert_int_eq(r.last, WW_BODY_UNSCANNED);
    ck_assert_str_eq(ww_body_reason(b), "over the decode limits");
    ck_assert_int_eq(ww_body_unscanned_kind(b), WW_UNSCANNED_DECODE_LIMIT);
    ck_assert_int_eq(ww_body_state(b), WW_BODY_PASSING);
    ck_assert_uint_eq(r.out_len, zlen); /* never silently clean, but delivered: the policy */
    ww_body_free(b);
    free_run(&r);

    lim.bomb_action = WW_ACTION_BLOCK;
    b = body_new(&lim, (int64_t)zlen, 0, "gzip");
    run_body(b, z, zlen, 1024, &r);
    ck_assert_int_eq(r.last, WW_BODY_BLOCK);
    ck_assert_str_eq(ww_body_threat(b), WW_THREAT_BOMB);
    ck_assert_uint_eq(r.out_len, 0);
    ww_body_free(b);
    free_run(&r);
    free(z);
    free(data);
}
END_TEST

/* Why a body passes unscanned, in the kinds webwarden_unscanned_total counts: each reason its
 * own, every kind a distinct label; a clean body none. */
START_TEST(test_body_unscanned_kinds)
{
    struct ww_body_limits lim;
    struct ww_body *b;
    const char *none[1] = {NULL}, *bad[1] = {"x-unknown"};

    limits(&lim);
    b = body_new(&lim, -1, 0, NULL);
    ck_assert_int_eq(ww_body_unscanned_kind(b), WW_UNSCANNED_NONE);
    ww_body_pass(b, WW_BODY_REASON_PARTIAL, "a part");
    ck_assert_int_eq(ww_body_unscanned_kind(b), WW_UNSCANNED_PARTIAL);
    ww_body_free(b);
    b = body_new(&lim, -1, 0, NULL);
    ww_body_pass(b, "a reason nobody counts", NULL);
    ck_assert_int_eq(ww_body_unscanned_kind(b), WW_UNSCANNED_OTHER);
    ww_body_free(b);
    lim.undecodable_action = WW_ACTION_ALLOW;
    b = ww_body_create(&lim, -1, 0);
    ck_assert_int_eq(ww_body_start(b, engine, bad, 1), WW_BODY_UNSCANNED);
    ck_assert_int_eq(ww_body_unscanned_kind(b), WW_UNSCANNED_UNDECODABLE);
    ww_body_free(b);
    lim.no_patterns_action = WW_ACTION_ALLOW;
    b = ww_body_create(&lim, -1, 0);
    ck_assert_int_eq(ww_body_start(b, NULL, none, 0), WW_BODY_UNSCANNED);
    ck_assert_int_eq(ww_body_unscanned_kind(b), WW_UNSCANNED_NO_PATTERNS);
    ww_body_free(b);
    ck_assert_str_eq(ww_unscanned_name(WW_UNSCANNED_NONE), "");
    for (int k = WW_UNSCANNED_SIZE; k < WW_UNSCANNED_N; k++) {
        ck_assert_msg(ww_unscanned_name((enum ww_unscanned)k)[0] != '\0', "kind %d", k);
        for (int j = WW_UNSCANNED_SIZE; j < k; j++)
            ck_assert_str_ne(ww_unscanned_name((enum ww_unscanned)j),
                             ww_unscanned_name((enum ww_unscanned)k));
    }
}
END_TEST

START_TEST(test_body_over_max_size_passes_unscanned_from_there)
{
    struct ww_body_limits lim;
    size_t len = 200 * 1024;
    unsigned char *data = malloc(len);
    struct ww_body *b;
    struct run r;

    limits(&lim);
    lim.max_size = 100 * 1024;
    random_fill(data, len, 12);
    b = body_new(&lim, (int64_t)len, 0, NULL);
    run_body(b, data, len, 4096, &r);
    ck_assert_int_eq(r.last, WW_BODY_UNSCANNED);
    ck_assert_uint_eq(r.last_at, 100 * 1024 + 4096);
    ck_assert_str_eq(ww_body_reason(b), "over scan.max_size");
    ck_assert_int_eq(ww_body_unscanned_kind(b), WW_UNSCANNED_SIZE);
    ck_assert_ptr_nonnull(strstr(ww_body_detail(b), "over scan.max_size 102400"));
    ck_assert_int_eq(r.end, WW_BODY_MORE);
    ck_assert_uint_eq(r.out_len, len);
    ck_assert_int_eq(memcmp(r.out, data, len), 0);
    ck_assert_int_eq(ww_body_drained(b), 1);
    ww_body_free(b);
    free_run(&r);
    free(data);
}
END_TEST

START_TEST(test_body_declared_length_decides_nothing)
{
    struct ww_body_limits lim;
    unsigned char data[EICAR_LEN + 1];
    struct ww_body *b;
    struct run r;

    /* Content-Length: 60000000 over max_size, 69 bytes of EICAR sent, oversize_action = allow
     * (with block the declared length alone is refused): scanned, blocked. */
    limits(&lim);
    lim.max_size = 5 * 1024 * 1024;
    eicar_fill(data);
    data[EICAR_LEN] = '\n';
    b = body_new(&lim, 60000000, 0, NULL);
    run_body(b, data, sizeof(data), 4096, &r);
    ck_assert_int_eq(r.last, WW_BODY_BLOCK);
    ck_assert_uint_eq(r.out_len, 0);
    ww_body_free(b);
    free_run(&r);
}
END_TEST

START_TEST(test_body_oversize_action_block_refuses_what_it_cannot_scan)
{
    struct ww_body_limits lim;
    size_t len = 300 * 1024;
    unsigned char *data = malloc(len);
    const char *none[1] = {NULL};
    struct ww_body *b;
    struct run r;

    limits(&lim);
    lim.oversize_action = WW_ACTION_BLOCK;
    random_fill(data, len, 13);

    /* Unknown length, crossing max_size while held: the block page. */
    lim.max_size = 30 * 1024;
    b = body_new(&lim, -1, 0, NULL);
    run_body(b, data, 50 * 1024, 4096, &r);
    ck_assert_int_eq(r.last, WW_BODY_BLOCK);
    ck_assert_uint_eq(r.last_at, 32768);
    ck_assert_str_eq(ww_body_threat(b), WW_THREAT_OVERSIZE);
    ck_assert_str_eq(ww_body_reason(b), "over scan.max_size");
    ck_assert_uint_eq(r.out_len, 0);
    ww_body_free(b);
    free_run(&r);

    /* Crossing it while streaming: the download is cut, the rest never goes out. */
    lim.max_size = 200 * 1024;
    b = body_new(&lim, -1, 0, NULL);
    run_body(b, data, len, 4096, &r);
    ck_assert_int_ge(r.release_at, 0);
    ck_assert_int_eq(r.last, WW_BODY_CUT);
    ck_assert_uint_lt(r.out_len, 200 * 1024);
    ck_assert_int_eq(ww_body_state(b), WW_BODY_CUT_OFF);
    ww_body_free(b);
    free_run(&r);

    /* A declared length over max_size: refused before any byte, whatever the body holds. */
    b = ww_body_create(&lim, 60000000, 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(ww_body_start(b, engine, none, 0), WW_BODY_BLOCK);
    ck_assert_str_eq(ww_body_threat(b), WW_THREAT_OVERSIZE);
    ck_assert_ptr_nonnull(strstr(ww_body_detail(b), "Content-Length 60000000"));
    ck_assert_int_eq(ww_body_put(b, data, 100), WW_BODY_MORE);
    ck_assert_int_eq(ww_body_read(b, data, 100), 0);
    ww_body_free(b);

    /* Exactly max_size bytes are scanned, not refused. */
    lim.max_size = 40 * 1024;
    b = body_new(&lim, 40 * 1024, 0, NULL);
    run_body(b, data, 40 * 1024, 4096, &r);
    ck_assert_int_eq(r.end, WW_BODY_CLEAN);
    ck_assert_uint_eq(r.out_len, 40 * 1024);
    ww_body_free(b);
    free_run(&r);
    free(data);
}
END_TEST

/* scan.partial_action (issue 12): a 206 for an object never cut or blocked. allow (the default):
 * scanned as usual, EICAR in it still blocks, a clean part ends CLEAN (the module logs it as
 * unscanned, "partial content"); block: refused before any byte, whatever it holds. */
START_TEST(test_body_partial_action_allow_scans_block_refuses)
{
    struct ww_body_limits lim;
    struct ww_conf *conf = ww_conf_create_defaults();
    char path[128], err[WW_ERRLEN] = "";
    unsigned char data[20000];
    const char *none[1] = {NULL};
    struct ww_body *b;
    struct run r;
    FILE *fp;

    ck_assert_ptr_nonnull(conf);
    ww_body_limits_from_conf(&lim, conf);
    ck_assert_int_eq(lim.partial_action, WW_ACTION_ALLOW); /* the default */
    ww_conf_free(conf);
    conf = NULL;
    snprintf(path, sizeof(path), "%s/partial.conf", tmpdir);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "[scan]\npartial_action = block\n");
    fclose(fp);
    ck_assert_msg(ww_conf_load(path, &conf, err, sizeof(err)) == WW_OK, "%s", err);
    ww_body_limits_from_conf(&lim, conf);
    ck_assert_int_eq(lim.partial_action, WW_ACTION_BLOCK);
    ww_conf_free(conf);

    random_fill(data, sizeof(data), 21);
    limits(&lim);
    b = body_new(&lim, sizeof(data), 0, NULL);
    ck_assert_int_eq(ww_body_partial(b), WW_BODY_MORE);
    run_body(b, data, sizeof(data), 4096, &r);
    ck_assert_int_eq(r.end, WW_BODY_CLEAN);
    ck_assert_uint_eq(r.out_len, sizeof(data));
    ww_body_free(b);
    free_run(&r);
    eicar_fill(data + 5000);
    b = body_new(&lim, sizeof(data), 0, NULL);
    ck_assert_int_eq(ww_body_partial(b), WW_BODY_MORE);
    run_body(b, data, sizeof(data), 4096, &r);
    ck_assert_int_eq(r.last, WW_BODY_BLOCK);
    ww_body_free(b);
    free_run(&r);

    lim.partial_action = WW_ACTION_BLOCK;
    random_fill(data, sizeof(data), 22);
    b = ww_body_create(&lim, sizeof(data), 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(ww_body_partial(b), WW_BODY_BLOCK);
    ck_assert_str_eq(ww_body_threat(b), WW_THREAT_PARTIAL);
    ck_assert_str_eq(ww_body_reason(b), "partial content");
    ck_assert_ptr_nonnull(strstr(ww_body_detail(b), "scan.partial_action"));
    ck_assert_int_eq(ww_body_start(b, engine, none, 0), WW_BODY_MORE);
    ck_assert_int_eq(ww_body_put(b, data, 100), WW_BODY_MORE);
    ck_assert_int_eq(ww_body_read(b, data, 100), 0);
    ck_assert_int_eq(ww_body_state(b), WW_BODY_BLOCKED);
    ww_body_free(b);
}
END_TEST

/* Allow: 204 with a declared length up to hold_204_max: held whole and dropped (Squid sends it
 * only for a body it keeps whole); an unknown or longer length, or no 204, leaves it streaming. */
START_TEST(test_body_allow204_up_to_hold_204_max_holds_whole)
{
    struct ww_body_limits lim;
    size_t len = 64 * 1024;
    unsigned char *data = malloc(len);
    struct ww_body *b;
    struct run r;

    limits(&lim);
    lim.hold_204_max = 64 * 1024;
    ck_assert_int_eq(ww_body_limits_drop(&lim, 0, 100), 0);
    ck_assert_int_eq(ww_body_limits_drop(&lim, 1, -1), 0);
    ck_assert_int_eq(ww_body_limits_drop(&lim, 1, 64 * 1024 + 1), 0);
    ck_assert_int_eq(lim.hold_all, 0);
    ck_assert_int_eq(ww_body_limits_drop(&lim, 0, 64 * 1024), 0);
    ck_assert_int_eq(lim.hold_all, 0);
    ck_assert_int_eq(ww_body_limits_drop(&lim, 1, 64 * 1024), 1);
    ck_assert_int_eq(lim.hold_all, 1);
    ck_assert_int_eq(ww_body_limits_drop(&lim, 1, -1), 1); /* hold_all already: any length */
    lim.hold_all = 0;
    lim.hold_204_max = 0;
    ck_assert_int_eq(ww_body_limits_drop(&lim, 1, 1), 0);

    /* A threat in the last bytes of a 64 KiB body: over hold_max, so streamed and cut without
     * 204; with it, held whole and the block page. */
    random_fill(data, len, 12);
    memcpy(data + len - strlen(TAIL), TAIL, strlen(TAIL));
    limits(&lim);
    lim.hold_204_max = 64 * 1024;
    ck_assert_int_eq(ww_body_limits_drop(&lim, 0, (int64_t)len), 0);
    b = body_new(&lim, (int64_t)len, 0, NULL);
    run_body(b, data, len, 4096, &r);
    ck_assert_int_eq(r.end, WW_BODY_CUT);
    ck_assert_uint_gt(r.out_len, 0);
    ww_body_free(b);
    free_run(&r);
    ck_assert_int_eq(ww_body_limits_drop(&lim, 1, (int64_t)len), 1);
    b = body_new(&lim, (int64_t)len, WW_BODY_DROP, NULL);
    run_body(b, data, len, 4096, &r);
    ck_assert_int_eq(r.end, WW_BODY_BLOCK);
    ck_assert_uint_eq(r.out_len, 0);
    ww_body_free(b);
    free_run(&r);
    free(data);
}
END_TEST

START_TEST(test_body_service_arguments_set_hold_all)
{
    struct ww_body_limits lim;

    limits(&lim);
    ck_assert_int_eq(ww_body_apply_args(&lim, NULL), 0);
    ck_assert_int_eq(lim.hold_all, 0);
    ck_assert_int_eq(ww_body_apply_args(&lim, "hold_all=on"), 0);
    ck_assert_int_eq(lim.hold_all, 1);
    ck_assert_int_eq(ww_body_apply_args(&lim, "x=1&hold_all=off&hold_all=onx&"), 2);
    ck_assert_int_eq(lim.hold_all, 0);
    ck_assert_int_eq(ww_body_apply_args(&lim, "hold_all=on&&"), 0);
    ck_assert_int_eq(lim.hold_all, 1);
}
END_TEST

static int smart_named(void *arg, const char *sha256, char *threat, size_t threatlen)
{
    snprintf(threat, threatlen, "%s", (const char *)arg);
    return 1;
}

START_TEST(test_body_verdict_in_words_and_a_threat_safe_in_a_header)
{
    struct ww_body_limits lim;
    size_t len = 200 * 1024;
    unsigned char *data = malloc(len), buf[70000];
    char why[400];
    struct ww_body *b;

    limits(&lim);
    random_fill(data, len, 14);
    b = body_new(&lim, -1, 0, NULL);
    ww_body_explain(b, why, sizeof(why));
    ck_assert_str_eq(why, "");
    ck_assert_int_eq(ww_body_put(b, data, 1000), WW_BODY_MORE);
    /* A server-supplied name cannot add a header or end a field of X-Infection-Found. */
    ck_assert_int_eq(ww_body_end(b, 0, smart_named, "Bad;Name\r\nX-Evil: 1\tz"), WW_BODY_BLOCK);
    ck_assert_str_eq(ww_body_threat(b), "Bad_NameX-Evil: 1 z");
    ww_body_explain(b, why, sizeof(why));
    ck_assert_str_eq(why, "malware detected: Bad_NameX-Evil: 1 z");
    ww_body_free(b);

    b = body_new(&lim, -1, 0, NULL);
    ck_assert_int_eq(ww_body_put(b, data, len / 2), WW_BODY_RELEASE);
    ck_assert_int_eq(ww_body_read(b, buf, sizeof(buf)), 0); /* the last chunk is held back */
    ck_assert_int_eq(ww_body_put(b, data + len / 2, len / 2), WW_BODY_MORE);
    ck_assert_int_eq(ww_body_read(b, buf, sizeof(buf)), (int)sizeof(buf));
    ck_assert_int_eq(ww_body_end(b, 1, smart_named, ""), WW_BODY_CUT);
    ck_assert_str_eq(ww_body_threat(b), "Unknown");
    ww_body_explain(b, why, sizeof(why));
    ck_assert_str_eq(why, "malware detected after 70000 bytes went out: download cut");
    ww_body_free(b);

    lim.max_size = 1000;
    b = body_new(&lim, -1, 0, NULL);
    ck_assert_int_eq(ww_body_put(b, data, 2000), WW_BODY_UNSCANNED);
    ww_body_explain(b, why, sizeof(why));
    ck_assert_str_eq(why, "over scan.max_size");
    ww_body_free(b);

    lim.oversize_action = WW_ACTION_BLOCK;
    b = body_new(&lim, -1, 0, NULL);
    ck_assert_int_eq(ww_body_put(b, data, 2000), WW_BODY_BLOCK);
    ww_body_explain(b, why, sizeof(why));
    ck_assert_str_eq(why, "over scan.max_size: not scanned");
    ww_body_free(b);
    free(data);
}
END_TEST

static int smart_calls;
static char smart_sha[80];

static int smart_malicious(void *arg, const char *sha256, char *threat, size_t threatlen)
{
    smart_calls++;
    snprintf(smart_sha, sizeof(smart_sha), "%s", sha256 != NULL ? sha256 : "(null)");
    snprintf(threat, threatlen, "%s", (const char *)arg);
    return 1;
}

START_TEST(test_body_smart_hook_decides_a_locally_clean_body)
{
    struct ww_body_limits lim;
    unsigned char data[EICAR_LEN];
    struct ww_body *b;

    limits(&lim);
    eicar_fill(data);
    memset(data, 'z', 8); /* no longer EICAR: locally clean */
    smart_calls = 0;
    b = body_new(&lim, sizeof(data), WW_BODY_SHA256, NULL);
    ck_assert_int_eq(ww_body_put(b, data, sizeof(data)), WW_BODY_MORE);
    ck_assert_int_eq(ww_body_end(b, 0, smart_malicious, "Cloud.Threat"), WW_BODY_BLOCK);
    ck_assert_int_eq(smart_calls, 1);
    ck_assert_uint_eq(strlen(smart_sha), 64);
    ck_assert_str_eq(ww_body_sha256(b), smart_sha);
    ck_assert_str_eq(ww_body_threat(b), "Cloud.Threat");
    ww_body_free(b);

    /* Found locally: the hook is not asked. */
    eicar_fill(data);
    b = body_new(&lim, sizeof(data), WW_BODY_SHA256, NULL);
    ck_assert_int_eq(ww_body_put(b, data, sizeof(data)), WW_BODY_BLOCK);
    ck_assert_int_eq(ww_body_end(b, 0, smart_malicious, "Cloud.Threat"), WW_BODY_MORE);
    ck_assert_int_eq(smart_calls, 1);
    ww_body_free(b);
}
END_TEST

/* The bytes peeked and skipped in place (modules/ writes them to the socket itself): in stream
 * order across the ring's wrap, never more than ww_body_read would give (nothing unscanned,
 * nothing before the verdict of a held body), none of a spooled or a blocked body. */
static size_t peek_len(const struct iovec *iov, int n)
{
    return n > 0 ? iov[0].iov_len + (n > 1 ? iov[1].iov_len : 0) : 0;
}

static void peek_take(struct ww_body *b, size_t max, unsigned char *out, size_t *out_len,
                      int *wrapped)
{
    struct iovec iov[2];
    int n = ww_body_peek(b, max, iov);
    size_t len = peek_len(iov, n);
    int64_t sent = ww_body_sent(b);

    ck_assert_int_ge(n, 0);
    ck_assert_uint_le(len, max);
    if (n == 2)
        (*wrapped)++;
    if (n > 0) {
        memcpy(out + *out_len, iov[0].iov_base, iov[0].iov_len);
        if (n > 1)
            memcpy(out + *out_len + iov[0].iov_len, iov[1].iov_base, iov[1].iov_len);
    }
    if (len < max) { /* all that was ready: one byte more is refused, and changes nothing */
        ck_assert_int_eq(ww_body_skip(b, len + 1), WW_EINVAL);
        ck_assert_int_eq(ww_body_sent(b), sent);
    }
    ck_assert_int_eq(ww_body_skip(b, len), WW_OK);
    ck_assert_int_eq(ww_body_sent(b), sent + (int64_t)len);
    *out_len += len;
}

START_TEST(test_body_peek_and_skip_in_place)
{
    struct ww_body_limits lim;
    size_t len = 700 * 1024 + 123, off = 0, got = 0;
    unsigned char *data = malloc(len), *out = malloc(len), buf[1000];
    struct iovec iov[2];
    struct ww_body *b;
    int wrapped = 0, step = 0, d, n;

    limits(&lim);
    random_fill(data, len, 21);
    b = body_new(&lim, (int64_t)len, 0, NULL);
    while (off < len) {
        size_t k = len - off < 4096 ? len - off : 4096;
        d = ww_body_put(b, data + off, k);
        off += k;
        ck_assert_int_ge(d, 0);
        if (ww_body_state(b) != WW_BODY_STREAMING) {
            ck_assert_int_eq(ww_body_peek(b, SIZE_MAX, iov), 0); /* held: nothing before */
            continue;
        }
        /* never the tail kept for the end's verdict; in memory, ready is what peek shows */
        n = ww_body_peek(b, SIZE_MAX, iov);
        ck_assert_int_eq(ww_body_ready(b), (int64_t)peek_len(iov, n));
        ck_assert_int_le(ww_body_sent(b) + (int64_t)peek_len(iov, n),
                         ww_body_received(b) - WW_BODY_STREAM_KEEP);
        if (step++ % 3 == 2) { /* ww_body_read in odd sizes moves the ring's start around */
            int r = ww_body_read(b, buf, sizeof(buf));
            ck_assert_int_ge(r, 0);
            memcpy(out + got, buf, (size_t)r);
            got += (size_t)r;
        } else {
            peek_take(b, step % 2 ? 5000 : SIZE_MAX, out, &got, &wrapped);
        }
    }
    ck_assert_int_eq(ww_body_end(b, 1, NULL, NULL), WW_BODY_CLEAN);
    while (got < len) {
        size_t before = got;
        peek_take(b, SIZE_MAX, out, &got, &wrapped);
        ck_assert_uint_gt(got, before);
    }
    ck_assert_int_eq(ww_body_peek(b, SIZE_MAX, iov), 0);
    ck_assert_int_eq(ww_body_send_wait(b, 0, 0), 0); /* nothing ready: nothing waits */
    ck_assert_int_eq(memcmp(out, data, len), 0);
    ck_assert_int_gt(wrapped, 0); /* the ring's wrap was crossed in place */
    ck_assert(ww_body_drained(b));
    ww_body_free(b);

    /* A body held whole: nothing before the verdict, all of it after a clean one. */
    got = 0;
    b = body_new(&lim, 30000, 0, NULL);
    ck_assert_int_eq(ww_body_put(b, data, 30000), WW_BODY_MORE);
    ck_assert_int_eq(ww_body_peek(b, SIZE_MAX, iov), 0);
    ck_assert_int_eq(ww_body_skip(b, 1), WW_EINVAL);
    ck_assert_int_eq(ww_body_end(b, 0, NULL, NULL), WW_BODY_CLEAN);
    /* ready bytes wait for a batch only while the body is read and all input was taken */
    ck_assert_int_eq(ww_body_send_wait(b, 0, 0), 1);
    ck_assert_int_eq(ww_body_send_wait(b, 0, 1), 0); /* input refused: the server needs a write */
    ck_assert_int_eq(ww_body_send_wait(b, 1, 0), 0); /* after the body nothing waits */
    ck_assert_uint_eq(ww_body_send_min(1, 4064), 4064);
    ck_assert_uint_eq(ww_body_send_min(0, 4064), WW_BODY_SEND_BATCH);
    peek_take(b, SIZE_MAX, out, &got, &wrapped);
    ck_assert_uint_eq(got, 30000);
    ck_assert_int_eq(memcmp(out, data, 30000), 0);
    ww_body_free(b);

    /* A threat: blocked, nothing to peek. */
    memcpy(data + 20000 - strlen(TAIL), TAIL, strlen(TAIL));
    b = body_new(&lim, 20000, 0, NULL);
    ww_body_put(b, data, 20000);
    ck_assert_int_eq(ww_body_end(b, 0, NULL, NULL), WW_BODY_BLOCK);
    ck_assert_int_eq(ww_body_peek(b, SIZE_MAX, iov), 0);
    ww_body_free(b);

    /* A body spooled to a file: not in place; ww_body_read still gives it back. */
    random_fill(data, len, 22);
    lim.hold_all = 1;
    lim.hold_memory = 100 * 1024;
    got = 0;
    b = body_new(&lim, (int64_t)len, 0, NULL);
    for (off = 0; off < len; off += 4096)
        ck_assert_int_eq(ww_body_put(b, data + off, len - off < 4096 ? len - off : 4096),
                         WW_BODY_MORE);
    ck_assert_int_eq(ww_body_ready(b), 0); /* nothing before the verdict */
    ck_assert_int_eq(ww_body_end(b, 0, NULL, NULL), WW_BODY_CLEAN);
    ck_assert_int_eq(ww_body_peek(b, SIZE_MAX, iov), 0);
    ck_assert_int_eq(ww_body_skip(b, 1), WW_EINVAL);
    ck_assert_int_eq(ww_body_ready(b), (int64_t)len); /* ready, from the file */
    while ((n = ww_body_read(b, buf, sizeof(buf))) > 0) {
        memcpy(out + got, buf, (size_t)n);
        got += (size_t)n;
    }
    ck_assert_uint_eq(got, len);
    ck_assert_int_eq(memcmp(out, data, len), 0);
    ww_body_free(b);
    free(data);
    free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("body");
    TCase *tc = tcase_create("pipeline");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_body_small_clean_held_until_the_end_then_released_whole);
    tcase_add_test(tc, test_body_eicar_in_held_body_blocks_at_once_and_releases_nothing);
    tcase_add_test(tc, test_body_detection_at_the_end_of_a_held_body_blocks);
    tcase_add_test(tc, test_body_over_hold_max_streams_with_the_tail_held_and_arrives_whole);
    tcase_add_test(tc, test_body_late_detection_while_streaming_cuts);
    tcase_add_test(tc, test_body_late_detection_before_the_answer_started_still_blocks);
    tcase_add_test(tc, test_body_eicar_mid_stream_cuts_at_once);
    tcase_add_test(tc, test_body_back_pressure_when_the_reader_stalls);
    tcase_add_test(tc, test_body_ring_keeps_order_through_wraps_growth_and_spill);
    tcase_add_test(tc, test_body_hold_all_spools_and_never_streams);
    tcase_add_test(tc, test_body_hold_all_with_204_keeps_nothing);
    tcase_add_test(tc, test_body_hold_all_in_memory_up_to_hold_memory);
    tcase_add_test(tc, test_body_peek_and_skip_in_place);
    tcase_add_test(tc, test_body_gzip_is_scanned_decoded_and_released_as_sent);
    tcase_add_test(tc, test_body_folded_content_encoding_is_read_whole);
    tcase_add_test(tc, test_body_policy_block_types_refuse_the_true_type_at_the_start);
    tcase_add_test(tc, test_body_decode_limit_hit_is_unscanned_or_blocked_by_bomb_action);
    tcase_add_test(tc, test_body_unscanned_kinds);
    tcase_add_test(tc, test_body_over_max_size_passes_unscanned_from_there);
    tcase_add_test(tc, test_body_declared_length_decides_nothing);
    tcase_add_test(tc, test_body_smart_hook_decides_a_locally_clean_body);
    tcase_add_test(tc, test_body_oversize_action_block_refuses_what_it_cannot_scan);
    tcase_add_test(tc, test_body_service_arguments_set_hold_all);
    tcase_add_test(tc, test_body_allow204_up_to_hold_204_max_holds_whole);
    tcase_add_test(tc, test_body_encoding_that_turns_invalid_is_scanned_as_received);
    tcase_add_test(tc, test_body_gzip_comment_is_scanned);
    tcase_add_test(tc, test_body_partial_action_allow_scans_block_refuses);
    tcase_add_test(tc, test_body_cut_before_any_byte_went_out_becomes_a_block);
    tcase_add_test(tc, test_body_verdict_in_words_and_a_threat_safe_in_a_header);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
