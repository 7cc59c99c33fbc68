/* t/check_sig.c - .ndb body signatures: the line parser (every supported form, bad lines) and
 * the streaming matcher (positions, chunk boundaries, gaps, alternatives, offsets). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww_common.h"
#include "ww_sig.h"

/* Signatures are written with text in quotes for readability: "'ab'__'cd'" becomes
 * "6162??6364"; outside quotes '_' stands for '?' and the rest is copied as is. */
static void sig_expand(const char *tmpl, char *out, size_t outlen)
{
    size_t n = 0;
    int quoted = 0;

    for (; *tmpl != '\0' && n + 3 < outlen; tmpl++) {
        if (*tmpl == '\'') {
            quoted = !quoted;
            continue;
        }
        if (quoted)
            n += (size_t)snprintf(out + n, outlen - n, "%02x", (unsigned char)*tmpl);
        else
            out[n++] = *tmpl == '_' ? '?' : *tmpl; /* '_' for '?': C has trigraphs */
    }
    out[n] = '\0';
}

static struct ww_sigdb *db_of(const char *const *tmpls, size_t n)
{
    struct ww_sigdb *db = ww_sigdb_create();
    char line[4096], err[WW_ERRLEN];
    size_t i;

    ck_assert_ptr_nonnull(db);
    for (i = 0; i < n; i++) {
        int rc;
        sig_expand(tmpls[i], line, sizeof(line));
        rc = ww_sigdb_add_line(db, line, err, sizeof(err));
        ck_assert_msg(rc == WW_OK, "add(\"%s\") = %d (%s), want WW_OK", line, rc, err);
    }
    ck_assert_int_eq(ww_sigdb_compile(db), WW_OK);
    return db;
}

static const char *scan_chunks(const struct ww_sigdb *db, const unsigned char *d, size_t n,
                               size_t chunk)
{
    struct ww_sigscan *s = ww_sigscan_create(db, (int64_t)n);
    const char *got = NULL;
    size_t off;

    ck_assert_ptr_nonnull(s);
    for (off = 0; off < n && got == NULL; off += chunk)
        got = ww_sigscan_feed(s, d + off, n - off < chunk ? n - off : chunk);
    if (got == NULL)
        got = ww_sigscan_finish(s);
    ww_sigscan_free(s);
    return got;
}

/* Fed in chunks but not finished: what the feeds alone find (a scan stopped at scan.max_size). */
static const char *scan_chunks_unfinished(const struct ww_sigdb *db, const unsigned char *d,
                                          size_t n, size_t chunk)
{
    struct ww_sigscan *s = ww_sigscan_create(db, -1);
    const char *got = NULL;
    size_t off;

    ck_assert_ptr_nonnull(s);
    for (off = 0; off < n && got == NULL; off += chunk)
        got = ww_sigscan_feed(s, d + off, n - off < chunk ? n - off : chunk);
    ww_sigscan_free(s);
    return got;
}

static const size_t chunk_sizes[] = {1, 2, 3, 4, 5, 7, 13, 64, 100000};
#define NCHUNKS (sizeof(chunk_sizes) / sizeof(chunk_sizes[0]))

/* ------------------------------------------------------------------ parser */

static const char *const good_lines[] = {
    "T.Plain:0:*:'hello'",
    "T.Upper:0:*:48454C4C4F",
    "T.Any:0:*:'he'__'llo'",
    "T.NibHi:0:*:'hel'6?'o'",
    "T.NibLo:0:*:'hel'?c'o'",
    "T.Star:0:*:'hello'*'world'",
    "T.Fixed:0:*:'hello'{3}'world'",
    "T.Range:0:*:'hello'{2-5}'world'",
    "T.AtMost:0:*:'hello'{-4}'world'",
    "T.AtLeast:0:*:'hello'{4-}'world'",
    "T.Alt1:0:*:'hel'(6c|4c)'o'",
    "T.AltN:0:*:'he'(6c6c|4c4c)'o'",
    "T.NotAlt:0:*:'hel'!(4c|58)'o'",
    "T.Off:0:10:'hello'",
    "T.OffRange:0:10,5:'hello'",
    "T.Eof:0:EOF-5:'hello'",
    "T.EofRange:0:EOF-9,4:'hello'",
    "T.Flevel:0:*:'hello':73",
    "T.Flevels:0:*:'hello':51:255",
    "T.Short:0:*:'ab'",
    "T.Mixed:0:*:'ab'__'cd'{1-3}'efgh'*'ij'(6b|4b)'lmnopqr'",
    "# a comment",
    "",
};

START_TEST(test_sig_parse_accepts_every_supported_form)
{
    struct ww_sigdb *db = ww_sigdb_create();
    char line[1024], err[WW_ERRLEN] = "";
    int rc;

    sig_expand(good_lines[_i], line, sizeof(line));
    rc = ww_sigdb_add_line(db, line, err, sizeof(err));
    ck_assert_msg(rc == WW_OK, "add(\"%s\") = %d \"%s\", want WW_OK", line, rc, err);
    ck_assert_uint_eq(ww_sigdb_count(db), line[0] == '#' || line[0] == '\0' ? 0 : 1);
    ck_assert_int_eq(ww_sigdb_compile(db), WW_OK);
    ww_sigdb_free(db);
}
END_TEST

static const char *const bad_lines[] = {
    "T:0:*",                         /* 3 fields */
    ":0:*:'hello'",                  /* no name */
    "T:1:*:'hello'",                 /* PE target */
    "T:00:*:'hello'",                /* target not "0" */
    "T:0:EP+10:'hello'",             /* entry point offset */
    "T:0:SL+4:'hello'",              /* section offset */
    "T:0:EOF-:'hello'",              /* EOF without n */
    "T:0:70000:'hello'",             /* offset over the cap */
    "T:0:10,x:'hello'",              /* bad shift */
    "T:0:*:414",                     /* odd digits */
    "T:0:*:41zz4243",                /* bad hex */
    "T:0:*:",                        /* empty */
    "T:0:*:*'hello'",                /* starts with a gap */
    "T:0:*:'hello'*",                /* ends with a gap */
    "T:0:*:'hello'{2}",              /* ends with a gap */
    "T:0:*:'hello'**'world'",        /* two gaps */
    "T:0:*:'hello'{2}*'world'",      /* two gaps */
    "T:0:*:'hello'{5",               /* unclosed */
    "T:0:*:'hello'{a}'world'",       /* not a number */
    "T:0:*:'hello'{5-2}'world'",     /* max < min */
    "T:0:*:'hello'{40000}'world'",   /* gap over the cap */
    "T:0:*:'hello'{0-40000}'world'", /* gap over the cap */
    "T:0:*:'he'(6c|6c6c)'o'",        /* variable-length alternatives */
    "T:0:*:'he'(6c|)'o'",            /* empty alternative */
    "T:0:*:'he'(6c|6?)'o'",          /* wildcard in an alternative */
    "T:0:*:'he'(6c|6d'o'",           /* unclosed alternative */
    "T:0:*:'he'(B)'llo'",            /* character class */
    "T:0:*:'hello'[1-2]'world'",     /* single-byte anchor form */
    "T:0:*:41??42??43",              /* no two exact bytes in a row */
    "T:0:*:(41|42)(43|44)",          /* only alternatives */
    "T:0:*:'hello'*41??42",          /* second part without anchor */
    "T:0:*:'hello':1:2:3",           /* 7 fields */
    "T\x01:0:*:'hello'",             /* control character in the name */
};

START_TEST(test_sig_parse_rejects_bad_line_with_reason)
{
    struct ww_sigdb *db = ww_sigdb_create();
    char line[1024], err[WW_ERRLEN] = "";
    int rc;

    sig_expand(bad_lines[_i], line, sizeof(line));
    rc = ww_sigdb_add_line(db, line, err, sizeof(err));
    ck_assert_msg(rc == WW_EINVAL && err[0] != '\0', "add(\"%s\") = %d \"%s\", want %d", line, rc,
                  err, WW_EINVAL);
    ck_assert_uint_eq(ww_sigdb_count(db), 0);
    /* a bad line leaves the database usable */
    ck_assert_int_eq(ww_sigdb_add_line(db, "T.Ok:0:*:68656c6c6f", err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_sigdb_compile(db), WW_OK);
    ck_assert_str_eq(scan_chunks(db, (const unsigned char *)"say hello", 9, 2), "T.Ok");
    ww_sigdb_free(db);
}
END_TEST

START_TEST(test_sig_parse_long_line_of_gaps_rejected_without_crash)
{
    struct ww_sigdb *db = ww_sigdb_create();
    char *line = malloc(200000), err[WW_ERRLEN];
    size_t n = 0;
    int i;

    n += (size_t)sprintf(line, "T:0:*:6162");
    for (i = 0; i < 10000; i++)
        n += (size_t)sprintf(line + n, "{1}6364");
    ck_assert_int_eq(ww_sigdb_add_line(db, line, err, sizeof(err)), WW_EINVAL);
    n = (size_t)sprintf(line, "T:0:*:6162");
    for (i = 0; i < 100; i++)
        n += (size_t)sprintf(line + n, "*6364");
    ck_assert_int_eq(ww_sigdb_add_line(db, line, err, sizeof(err)), WW_EINVAL);
    ck_assert_uint_eq(ww_sigdb_count(db), 0);
    free(line);
    ww_sigdb_free(db);
}
END_TEST

/* ------------------------------------------------------------------ matcher */

static const struct {
    const char *sig; /* "offset:hexsig" template */
    const char *data;
    int want;
} match_cases[] = {
    /* positions */
    {"*:'hello world'", "hello world and more", 1},
    {"*:'hello world'", "a long prefix then hello world in the middle of it", 1},
    {"*:'hello world'", "ends with hello world", 1},
    {"*:'hello world'", "hello world", 1},
    {"*:'hello world'", "hello worle", 0},
    {"*:'hello world'", "hellO world", 0},
    {"*:'hello world'", "hello worl", 0},
    /* anchors of each length class */
    {"*:'ab'", "xxabxx", 1},
    {"*:'ab'", "xxaxbx", 0},
    {"*:'abc'", "xxabcxx", 1},
    {"*:'abcd'", "abcd", 1},
    {"*:'abcdef'", "zabcdefz", 1},
    {"*:'abcdef'", "zabcdezf", 0},
    {"*:'abcdefg'", "zabcdefgz", 1},
    {"*:'abcdefghijklmnopqrstuvwxyz0123456789'", "..abcdefghijklmnopqrstuvwxyz0123456789..", 1},
    {"*:'abcdefghijklmnopqrstuvwxyz0123456789'", "..abcdefghijklmnopqrstuvwxyz0123456780..", 0},
    /* ?? and nibbles */
    {"*:'ab'__'cdef'", "abXcdef", 1},
    {"*:'ab'__'cdef'", "abcdef", 0},
    {"*:'ab'____'cdef'", "ab12cdef", 1},
    {"*:'abcd'6?'efgh'", "abcdlefgh", 1}, /* 'l' = 6c */
    {"*:'abcd'6?'efgh'", "abcdLefgh", 0}, /* 'L' = 4c */
    {"*:'abcd'?c'efgh'", "abcdLefgh", 1},
    {"*:'abcd'?c'efgh'", "abcdMefgh", 0},
    /* gaps */
    {"*:'hello'*'world'", "hello, dear world", 1},
    {"*:'hello'*'world'", "helloworld", 1},
    {"*:'hello'*'world'", "world, hello", 0},
    {"*:'hello'{3}'world'", "hello123world", 1},
    {"*:'hello'{3}'world'", "hello12world", 0},
    {"*:'hello'{3}'world'", "hello1234world", 0},
    {"*:'hello'{2-4}'world'", "hello12world", 1},
    {"*:'hello'{2-4}'world'", "hello1234world", 1},
    {"*:'hello'{2-4}'world'", "hello1world", 0},
    {"*:'hello'{2-4}'world'", "hello12345world", 0},
    {"*:'hello'{-3}'world'", "helloworld", 1},
    {"*:'hello'{-3}'world'", "hello123world", 1},
    {"*:'hello'{-3}'world'", "hello1234world", 0},
    {"*:'hello'{3-}'world'", "hello123world", 1},
    {"*:'hello'{3-}'world'", "hello and a long way to the world", 1},
    {"*:'hello'{3-}'world'", "hello12world", 0},
    {"*:'ab'{1-2}'cd'{1-2}'efgh'", "abXcdYYefgh", 1},
    {"*:'ab'{1-2}'cd'{1-2}'efgh'", "abXcdYYYefgh", 0},
    /* the anchor in a later segment: the left side is checked backwards */
    {"*:'ab'{0-3}'cdefghij'", "xxab12cdefghijxx", 1},
    {"*:'ab'{0-3}'cdefghij'", "xxab1234cdefghijxx", 0},
    {"*:'a1'*'b2'*'c3c3c3c3'*'d4'", "a1..b2..c3c3c3c3..d4", 1},
    {"*:'a1'*'b2'*'c3c3c3c3'*'d4'", "a1..c3c3c3c3..b2..d4", 0},
    /* pieces with bounded gaps inside, in order */
    {"*:'ab'{0-3}'cdefghij'*'kl'{1}'mnop'", "..ab1cdefghij...kl-mnop..", 1},
    {"*:'ab'{0-3}'cdefghij'*'kl'{1}'mnop'", "..kl-mnop..ab1cdefghij...", 0},
    {"*:'ab'{0-3}'cdefghij'*'kl'{1}'mnop'", "..ab1cdefghij...kl--mnop..", 0},
    {"*:'abcdefgh'*'abcdefgh'", "..abcdefgh..", 0},
    {"*:'abcdefgh'*'abcdefgh'", "..abcdefghabcdefgh", 1},
    {"*:'abcdefgh'{2-}'ijklmnop'", "abcdefgh-ijklmnop", 0},
    {"*:'abcdefgh'{2-}'ijklmnop'", "abcdefgh--ijklmnop", 1},
    /* alternatives */
    {"*:'hel'(6c|4c)'o!'", "say helLo!", 1},
    {"*:'hel'(6c|4c)'o!'", "say hello!", 1},
    {"*:'hel'(6c|4c)'o!'", "say helxo!", 0},
    {"*:'he'(6c6c|4c4c)'o!'", "heLLo!", 1},
    {"*:'he'(6c6c|4c4c)'o!'", "helLo!", 0},
    {"*:'hel'!(6c|4c)'o!'", "helxo!", 1},
    {"*:'hel'!(6c|4c)'o!'", "hello!", 0},
    /* offsets */
    {"0:'hello'", "hello world", 1},
    {"0:'hello'", " hello world", 0},
    {"6:'world'", "hello world", 1},
    {"5:'world'", "hello world", 0},
    {"4,3:'world'", "hello world", 1},
    {"4,1:'world'", "hello world", 0},
    {"0:'he'*'world'", "hello world", 1},
    {"0:'he'*'world'", "xhello world", 0},
    {"EOF-5:'world'", "hello world", 1},
    {"EOF-6:'world'", "hello world!", 1},
    {"EOF-6:'world'", "hello world", 0},
    {"EOF-7,2:'world'", "hello world!", 1},
    {"EOF-11:'he'*'rld'", "hello world", 1},
    {"EOF-10:'he'*'rld'", "hello world", 0},
};

START_TEST(test_sig_match_table_in_every_chunking)
{
    char line[1024];
    const char *tmpl[1] = {line};
    struct ww_sigdb *db;
    const unsigned char *d = (const unsigned char *)match_cases[_i].data;
    size_t n = strlen(match_cases[_i].data), c;

    snprintf(line, sizeof(line), "Case.%d:0:%s", _i, match_cases[_i].sig);
    db = db_of(tmpl, 1);
    for (c = 0; c < NCHUNKS; c++) {
        const char *got = scan_chunks(db, d, n, chunk_sizes[c]);
        ck_assert_msg((got != NULL) == match_cases[_i].want,
                      "sig \"%s\" on \"%s\" in chunks of %zu: got %s, want %s", match_cases[_i].sig,
                      match_cases[_i].data, chunk_sizes[c], got ? got : "no match",
                      match_cases[_i].want ? "match" : "no match");
    }
    ww_sigdb_free(db);
}
END_TEST

START_TEST(test_sig_shared_prefixes_report_the_right_name)
{
    static const char *const sigs[] = {
        "P.One:0:*:'prefix-common-1'",
        "P.Two:0:*:'prefix-common-2'",
        "P.Three:0:*:'prefix-common-3'",
        "P.Short:0:*:'pre'__'-xyz'",
    };
    struct ww_sigdb *db = db_of(sigs, 4);
    size_t c;

    for (c = 0; c < NCHUNKS; c++) {
        const char *got;
        got = scan_chunks(db, (const unsigned char *)"..prefix-common-2..", 19, chunk_sizes[c]);
        ck_assert_msg(got && strcmp(got, "P.Two") == 0, "chunk %zu: got %s", chunk_sizes[c], got);
        got = scan_chunks(db, (const unsigned char *)"..prefix-common-3", 17, chunk_sizes[c]);
        ck_assert_msg(got && strcmp(got, "P.Three") == 0, "chunk %zu: got %s", chunk_sizes[c], got);
        got = scan_chunks(db, (const unsigned char *)"..prefix-common-4..", 19, chunk_sizes[c]);
        ck_assert_msg(got == NULL, "chunk %zu: got %s, want none", chunk_sizes[c], got);
        got = scan_chunks(db, (const unsigned char *)"pre!-xyz", 8, chunk_sizes[c]);
        ck_assert_msg(got && strcmp(got, "P.Short") == 0, "chunk %zu: got %s", chunk_sizes[c], got);
    }
    ww_sigdb_free(db);
}
END_TEST

static uint64_t rng_state;
static uint32_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* 10,000 random signatures, a few of them planted in 1 MiB of random bytes at random places and
 * fed in random chunk sizes: each planted one is found, nothing else is. */
START_TEST(test_sig_many_random_sigs_find_planted_ones)
{
    enum { NSIGS = 10000, BODY = 1 << 20 };
    struct ww_sigdb *db = ww_sigdb_create();
    static unsigned char sigbytes[NSIGS][32];
    static size_t siglen[NSIGS];
    unsigned char *body = malloc(BODY);
    char line[128], err[WW_ERRLEN];
    int i, j, round;

    rng_state = 0x1234567 + (uint64_t)_i;
    for (i = 0; i < NSIGS; i++) {
        int n;
        /* run 0: long anchors only (the one-index fast loop); run 1: 6..32 bytes, so the
         * every-position, stride-4 and stride-8 indexes all take part */
        siglen[i] = _i == 0 ? 16 + rng_next() % 17 : 6 + rng_next() % 27;
        n = sprintf(line, "Rand.%d:0:*:", i);
        for (j = 0; j < (int)siglen[i]; j++) {
            sigbytes[i][j] = (unsigned char)rng_next();
            n += sprintf(line + n, "%02x", sigbytes[i][j]);
        }
        ck_assert_int_eq(ww_sigdb_add_line(db, line, err, sizeof(err)), WW_OK);
    }
    ck_assert_int_eq(ww_sigdb_compile(db), WW_OK);
    ck_assert_uint_eq(ww_sigdb_count(db), NSIGS);
    for (round = 0; round < 6; round++) {
        struct ww_sigscan *s = ww_sigscan_create(db, -1);
        int pick = (int)(rng_next() % NSIGS);
        size_t at = rng_next() % (BODY - 32), off = 0;
        const char *got = NULL;
        char want[32];

        for (i = 0; i < BODY; i++)
            body[i] = (unsigned char)rng_next();
        if (round < 5)
            memcpy(body + at, sigbytes[pick], siglen[pick]);
        while (off < BODY && got == NULL) {
            size_t n = 1 + rng_next() % 9000;
            if (n > BODY - off)
                n = BODY - off;
            got = ww_sigscan_feed(s, body + off, n);
            off += n;
        }
        if (got == NULL)
            got = ww_sigscan_finish(s);
        sprintf(want, "Rand.%d", pick);
        if (round < 5)
            ck_assert_msg(got != NULL && strcmp(got, want) == 0,
                          "round %d: planted %s at %zu, got %s", round, want, at, got);
        else
            ck_assert_msg(got == NULL, "round %d: nothing planted, got %s", round, got);
        ww_sigscan_free(s);
    }
    free(body);
    ww_sigdb_free(db);
}
END_TEST

/* Wide mode's window pick: the SIMD code the scan runs picks what the portable code (the one the
 * index is built with) picks, on random blocks and on blocks of repeats and ties. */
START_TEST(test_sig_wide_pick_simd_matches_portable)
{
    unsigned char b[16];
    unsigned sc, si, i, k;
    int simd = 0;

    rng_state = 0xfeedULL;
    for (i = 0; i < 2000000; i++) {
        for (k = 0; k < 16; k++)
            b[k] = (unsigned char)(i < 1000000 ? rng_next() : rng_next() % 3 * 0x7f);
        simd = ww_sig_wide_pick_check(b, &sc, &si);
        ck_assert_uint_lt(sc, 6);
        ck_assert_msg(sc == si, "block %u: portable pick %u, SIMD pick %u", i, sc, si);
    }
    memset(b, 0xff, sizeof(b)); /* every rank equal: the first window */
    ww_sig_wide_pick_check(b, &sc, &si);
    ck_assert_uint_eq(sc, 0);
    ck_assert_uint_eq(si, 0);
    fprintf(stderr, "wide pick: SIMD path %s\n", simd ? "compared" : "absent on this CPU");
}
END_TEST

/* Wide mode (every anchor >= 11 bytes; those of >= 16 keyed by picked windows): each signature,
 * planted at each of 16 offsets in a random body, fed in each chunk size, is found; so is one
 * that ends the body, even when the scan is never finished (as at scan.max_size: a window of
 * fed bytes does not wait for more), and a two-part one; nothing is found
 * in the body alone. Run through each scan path this CPU has (_i: portable, SSE4.1, AVX-512). */
START_TEST(test_sig_wide_mode_finds_every_alignment_and_chunking)
{
    enum { NS = 400, BODY = 300 };
    static const size_t chunks[] = {1, 2, 3, 5, 7, 8, 9, 13, 64, 100000};
    static unsigned char sig[NS][48];
    static size_t len[NS];
    struct ww_sigdb *db = ww_sigdb_create();
    unsigned char body[BODY];
    char line[256], err[WW_ERRLEN], want[32];
    size_t i, j, c, at;
    int n;

    if (_i > ww_sig_simd_max()) {
        fprintf(stderr, "wide mode: scan path %d absent on this CPU\n", _i);
        ww_sigdb_free(db);
        return;
    }
    ww_sig_simd_level = _i;
    rng_state = 0xabcdefULL;
    for (i = 0; i < NS; i++) {
        len[i] = 11 + rng_next() % 30; /* 11..40: stride 8 and wide */
        n = sprintf(line, "W.%zu:0:*:", i);
        for (j = 0; j < len[i]; j++) {
            sig[i][j] = (unsigned char)rng_next();
            n += sprintf(line + n, "%02x", sig[i][j]);
        }
        ck_assert_int_eq(ww_sigdb_add_line(db, line, err, sizeof(err)), WW_OK);
    }
    sig_expand("W.Two:0:*:'part-one-of-two!'*'and-part-two-too'", line, sizeof(line));
    ck_assert_int_eq(ww_sigdb_add_line(db, line, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_sigdb_compile(db), WW_OK);
    ck_assert_uint_gt(ww_sigdb_wide_filter_bytes(db), 0);
    for (j = 0; j < BODY; j++)
        body[j] = (unsigned char)rng_next();
    for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
        ck_assert_ptr_null(scan_chunks(db, body, BODY, chunks[c]));
    for (i = 0; i < NS; i += 7) {
        for (at = 100; at < 116; at++) {
            unsigned char b2[BODY];
            memcpy(b2, body, BODY);
            memcpy(b2 + at, sig[i], len[i]);
            sprintf(want, "W.%zu", i);
            for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
                const char *got = scan_chunks(db, b2, BODY, chunks[c]);
                ck_assert_msg(got != NULL && strcmp(got, want) == 0,
                              "%s (%zu bytes) at %zu, chunks of %zu: got %s", want, len[i], at,
                              chunks[c], got ? got : "nothing");
                got = scan_chunks(db, b2, at + len[i], chunks[c]); /* it ends the body */
                ck_assert_msg(got != NULL && strcmp(got, want) == 0,
                              "%s (%zu bytes) ending a body of %zu, chunks of %zu: got %s", want,
                              len[i], at + len[i], chunks[c], got ? got : "nothing");
                got = scan_chunks_unfinished(db, b2, at + len[i], chunks[c]);
                ck_assert_msg(got != NULL && strcmp(got, want) == 0,
                              "%s (%zu bytes) ending an unfinished body of %zu, chunks of %zu: "
                              "got %s",
                              want, len[i], at + len[i], chunks[c], got ? got : "nothing");
            }
        }
    }
    for (at = 0; at < 8; at++) {
        unsigned char b2[BODY];
        memcpy(b2, body, BODY);
        memcpy(b2 + 20 + at, "part-one-of-two!", 16);
        memcpy(b2 + 200 + at, "and-part-two-too", 16);
        for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            const char *got = scan_chunks(db, b2, BODY, chunks[c]);
            ck_assert_msg(got != NULL && strcmp(got, "W.Two") == 0, "at +%zu chunks %zu: %s", at,
                          chunks[c], got ? got : "nothing");
        }
        memcpy(b2 + 20 + at, "and-part-two-too", 16); /* the parts in the wrong order */
        memcpy(b2 + 200 + at, "part-one-of-two!", 16);
        for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
            ck_assert_ptr_null(scan_chunks(db, b2, BODY, chunks[c]));
    }
    ww_sig_simd_level = -1;
    ww_sigdb_free(db);
}
END_TEST

/* A body that passes the filter at nearly every block (copies of a signature's anchor with its
 * last byte changed: every window is a real key, every check fails at the end) makes the scan
 * queue hundreds of table lookups per feed (issue 15: they are looked up in batches). None may be
 * lost or run out of stream order: the real anchor planted anywhere in the flood (on both sides
 * of a batch's end, in either loop), and a two-part signature around the flood, are found by
 * every scan path, in wide mode and in the multi-index mode, fed in any chunk size. */
START_TEST(test_sig_flood_of_filter_passes_loses_no_hit)
{
    enum { BODY = 40000 };
    static const char one[] = "flood-anchor-16b";
    static const size_t at[] = {0, 1, 13, 4095, 4096, 8191, 20003, BODY - 16};
    static const size_t chunks[] = {7, 1000, 4096, 65536};
    static unsigned char body[BODY], b2[BODY];
    char err[WW_ERRLEN], line[256];
    int narrow, level;
    size_t i, c, k;

    for (i = 0; i < BODY; i++)
        body[i] = (unsigned char)(i % 16 == 15 ? '!' : one[i % 16]);
    for (narrow = 0; narrow < 2; narrow++) {
        struct ww_sigdb *db = ww_sigdb_create();
        ck_assert_int_eq(
            ww_sigdb_add_line(db, "P.One:0:*:666c6f6f642d616e63686f722d313662", err, sizeof(err)),
            WW_OK);
        sig_expand("P.Two:0:*:'first-part-here!'*'the-second-part!'", line, sizeof(line));
        ck_assert_int_eq(ww_sigdb_add_line(db, line, err, sizeof(err)), WW_OK);
        if (narrow) /* an anchor under 11 bytes: the multi-index scan instead of wide mode */
            ck_assert_int_eq(
                ww_sigdb_add_line(db, "Never:0:*:00112233445566778899", err, sizeof(err)), WW_OK);
        ck_assert_int_eq(ww_sigdb_compile(db), WW_OK);
        for (level = 0; level <= ww_sig_simd_max(); level++) {
            ww_sig_simd_level = level;
            for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
                struct ww_sigscan *sc = ww_sigscan_create(db, BODY);
                size_t off;
                ck_assert_ptr_nonnull(sc);
                for (off = 0; off < BODY; off += chunks[c])
                    ck_assert_ptr_null(ww_sigscan_feed(
                        sc, body + off, BODY - off < chunks[c] ? BODY - off : chunks[c]));
                ck_assert_ptr_null(ww_sigscan_finish(sc));
                /* the flood did reach the table: ~2 anchor checks of 16 bytes per 16 bytes */
                ck_assert_msg(ww_sigscan_steps(sc) > BODY / 8, "level %d narrow %d: %llu steps",
                              level, narrow, (unsigned long long)ww_sigscan_steps(sc));
                ww_sigscan_free(sc);
                for (k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
                    const char *got;
                    memcpy(b2, body, BODY);
                    memcpy(b2 + at[k], one, 16);
                    got = scan_chunks(db, b2, BODY, chunks[c]);
                    ck_assert_msg(got != NULL && strcmp(got, "P.One") == 0,
                                  "level %d narrow %d: anchor at %zu, chunks of %zu: got %s", level,
                                  narrow, at[k], chunks[c], got ? got : "nothing");
                }
                memcpy(b2, body, BODY);
                memcpy(b2 + 5, "first-part-here!", 16);
                memcpy(b2 + BODY - 21, "the-second-part!", 16);
                ck_assert_str_eq(scan_chunks(db, b2, BODY, chunks[c]), "P.Two");
                memcpy(b2 + 5, "the-second-part!", 16); /* the parts in the wrong order */
                memcpy(b2 + BODY - 21, "first-part-here!", 16);
                ck_assert_ptr_null(scan_chunks(db, b2, BODY, chunks[c]));
            }
        }
        ww_sig_simd_level = -1;
        ww_sigdb_free(db);
    }
}
END_TEST

/* Why wide mode exists: 20,000 anchors of 16-32 bytes need a Bloom filter of at most a quarter of
 * stride 8's (8 keys per anchor, 4 keys per 64-bit word: 512 KiB), so it stays in the cache. */
/* Wide mode against the stride-8 scan it replaces: the same 300 signatures of every shape
 * (long plain runs, '??' and nibble masks, bounded gaps, '*' between parts, alternatives), once
 * alone (wide mode) and once with a 10-byte signature that never matches (any anchor under 11
 * bytes turns wide mode off), scan the same bodies, each with one signature's bytes planted,
 * fed in random chunk sizes through each scan path: both give the same verdict every time. */
START_TEST(test_sig_wide_mode_agrees_with_stride8)
{
    enum { NS = 300, BODY = 3000, ROUNDS = 400 };
    static char sigs[NS][400];
    static unsigned char plant[NS][200];
    static size_t plant_len[NS];
    struct ww_sigdb *wide = ww_sigdb_create(), *narrow = ww_sigdb_create();
    unsigned char body[BODY];
    char err[WW_ERRLEN];
    size_t i, k;
    int level, round, found = 0;

    rng_state = 0x77aa55ULL;
    for (i = 0; i < NS; i++) {
        /* parts of 16..40 bytes, exact but for some masks after the first 18, joined by gaps */
        int parts = 1 + (int)(rng_next() % 3), p, n;
        n = sprintf(sigs[i], "S.%zu:0:*:", i);
        plant_len[i] = 0;
        for (p = 0; p < parts; p++) {
            size_t len = 16 + rng_next() % 25, j;
            if (p > 0) {
                unsigned gap = rng_next() % 4, g = rng_next() % 6;
                if (gap == 0) {
                    n += sprintf(sigs[i] + n, "*");
                } else if (gap == 1) {
                    n += sprintf(sigs[i] + n, "{%u}", g);
                } else if (gap == 2) {
                    n += sprintf(sigs[i] + n, "{%u-%u}", g, g + 3);
                } else {
                    n += sprintf(sigs[i] + n, "%02x(%02x|%02x)", plant[i][plant_len[i] - 1], 0x41,
                                 0x42);
                    plant[i][plant_len[i]] = plant[i][plant_len[i] - 1];
                    plant_len[i]++;
                    g = 0;
                    plant[i][plant_len[i]++] = 0x42;
                }
                for (j = 0; j < g; j++) /* what the planted copy puts in the gap */
                    plant[i][plant_len[i]++] = (unsigned char)rng_next();
            }
            for (j = 0; j < len; j++) {
                unsigned char c = (unsigned char)rng_next();
                unsigned m = rng_next() % 40;
                plant[i][plant_len[i]++] = c;
                if (m == 0 && j >= 18 && j + 1 < len) /* an exact run of 18 stays */
                    n += sprintf(sigs[i] + n, "??");
                else if (m == 1 && j >= 18 && j + 1 < len)
                    n += sprintf(sigs[i] + n, "%x?", c >> 4);
                else
                    n += sprintf(sigs[i] + n, "%02x", c);
            }
        }
        ck_assert_msg(ww_sigdb_add_line(wide, sigs[i], err, sizeof(err)) == WW_OK, "%s: %s",
                      sigs[i], err);
        ck_assert_int_eq(ww_sigdb_add_line(narrow, sigs[i], err, sizeof(err)), WW_OK);
    }
    ck_assert_int_eq(ww_sigdb_add_line(narrow, "Never:0:*:00112233445566778899", err, sizeof(err)),
                     WW_OK);
    ck_assert_int_eq(ww_sigdb_compile(wide), WW_OK);
    ck_assert_int_eq(ww_sigdb_compile(narrow), WW_OK);
    ck_assert_uint_gt(ww_sigdb_wide_filter_bytes(wide), 0);
    ck_assert_uint_eq(ww_sigdb_wide_filter_bytes(narrow), 0);
    for (level = 0; level <= ww_sig_simd_max(); level++) {
        ww_sig_simd_level = level;
        for (round = 0; round < ROUNDS; round++) {
            size_t pick = rng_next() % NS, at = rng_next() % (BODY - 200);
            const char *gw, *gn;
            struct ww_sigscan *sw = ww_sigscan_create(wide, -1),
                              *sn = ww_sigscan_create(narrow, -1);
            size_t off = 0;

            for (k = 0; k < BODY; k++)
                body[k] = (unsigned char)rng_next();
            if (round % 8 != 7)
                memcpy(body + at, plant[pick], plant_len[pick]);
            gw = gn = NULL;
            while (off < BODY) {
                size_t n = 1 + rng_next() % (round % 2 ? 20 : 2000);
                if (n > BODY - off)
                    n = BODY - off;
                if (gw == NULL)
                    gw = ww_sigscan_feed(sw, body + off, n);
                if (gn == NULL)
                    gn = ww_sigscan_feed(sn, body + off, n);
                off += n;
            }
            if (gw == NULL)
                gw = ww_sigscan_finish(sw);
            if (gn == NULL)
                gn = ww_sigscan_finish(sn);
            ck_assert_msg((gw == NULL && gn == NULL) || (gw && gn && strcmp(gw, gn) == 0),
                          "path %d round %d: %s planted at %zu: wide mode %s, stride 8 %s", level,
                          round, sigs[pick], at, gw ? gw : "clean", gn ? gn : "clean");
            found += gw != NULL;
            ww_sigscan_free(sw);
            ww_sigscan_free(sn);
        }
    }
    ww_sig_simd_level = -1;
    ck_assert_int_gt(found,
                     ROUNDS / 2); /* the planted copies match: the comparison means something */
    ww_sigdb_free(wide);
    ww_sigdb_free(narrow);
}
END_TEST

/* What the log and status say about the scan a set gets: wide mode, wide mode with stride 8
 * for short parts, or the slower scan with the count and the first signature to blame. */
START_TEST(test_sig_describe_matcher_names_the_mode_and_the_culprit)
{
    static const char *const wide_only[] = {"A:0:*:'an-anchor-of-24-bytes!!'"};
    static const char *const with_s8[] = {"A:0:*:'an-anchor-of-24-bytes!!'",
                                          "B:0:*:'twelve-bytes'"};
    static const char *const slow[] = {"A:0:*:'an-anchor-of-24-bytes!!'", "Short.One:0:*:'tiny'",
                                       "Short.Two:0:*:'ab'"};
    struct ww_sigdb *db;
    char d[256];

    db = db_of(wide_only, 1);
    ww_sigdb_describe_matcher(db, d, sizeof(d));
    ck_assert_msg(strncmp(d, "body matcher: wide mode (", 25) == 0 && strstr(d, "stride") == NULL,
                  "%s", d);
    ww_sigdb_free(db);
    db = db_of(with_s8, 2);
    ww_sigdb_describe_matcher(db, d, sizeof(d));
    ck_assert_msg(strstr(d, "wide mode") != NULL && strstr(d, "1 parts also by stride 8") != NULL,
                  "%s", d);
    ww_sigdb_free(db);
    db = db_of(slow, 3);
    ww_sigdb_describe_matcher(db, d, sizeof(d));
    ck_assert_str_eq(d, "body matcher: multi-index (slower): 2 signature parts anchor on fewer "
                        "than 11 exact bytes, the first in Short.One");
    ww_sigdb_free(db);
    db = ww_sigdb_create();
    ck_assert_int_eq(ww_sigdb_compile(db), WW_OK);
    ww_sigdb_describe_matcher(db, d, sizeof(d));
    ck_assert_str_eq(d, "no body signatures");
    ww_sigdb_free(db);
}
END_TEST

START_TEST(test_sig_wide_filter_is_small)
{
    enum { NS = 20000 };
    struct ww_sigdb *db = ww_sigdb_create();
    char line[128], err[WW_ERRLEN];
    size_t i, j, len;
    int n;

    rng_state = 0x5eedULL;
    for (i = 0; i < NS; i++) {
        len = 16 + rng_next() % 17;
        n = sprintf(line, "F.%zu:0:*:", i);
        for (j = 0; j < len; j++)
            n += sprintf(line + n, "%02x", (unsigned char)rng_next());
        ck_assert_int_eq(ww_sigdb_add_line(db, line, err, sizeof(err)), WW_OK);
    }
    ck_assert_int_eq(ww_sigdb_compile(db), WW_OK);
    fprintf(stderr, "wide filter for %d anchors: %zu bytes\n", NS, ww_sigdb_wide_filter_bytes(db));
    ck_assert_uint_gt(ww_sigdb_wide_filter_bytes(db), 0);
    ck_assert_uint_le(ww_sigdb_wide_filter_bytes(db), 128 * 1024);
    ww_sigdb_free(db);
}
END_TEST

/* Anchors of 11-15 bytes in wide mode: the blocks that lie wholly inside one (L - 8 of the 8
 * alignments) pick its wide keys, and only the other 16 - L alignments need stride 8's window
 * (before, all 8 did). Each is still found wherever it lies: the alignment and chunking test
 * plants 11-40 byte signatures at every offset. */
START_TEST(test_sig_wide_short_anchors_need_few_stride8_keys)
{
    enum { NS = 5000 };
    struct ww_sigdb *db = ww_sigdb_create();
    char line[128], err[WW_ERRLEN], d[256];
    size_t i, j, len, want = 0;
    int n;

    rng_state = 0x5151ULL;
    for (i = 0; i < NS; i++) {
        len = 11 + rng_next() % 5;
        want += 16 - len;
        n = sprintf(line, "S.%zu:0:*:", i);
        for (j = 0; j < len; j++)
            n += sprintf(line + n, "%02x", (unsigned char)(rng_next() | 1));
        ck_assert_int_eq(ww_sigdb_add_line(db, line, err, sizeof(err)), WW_OK);
    }
    ck_assert_int_eq(ww_sigdb_compile(db), WW_OK);
    ww_sigdb_describe_matcher(db, d, sizeof(d));
    fprintf(stderr, "%d anchors of 11-15 bytes: %zu stride-8 keys (%zu needed); %s\n", NS,
            ww_sigdb_stride8_keys(db), want, d);
    ck_assert_uint_gt(ww_sigdb_wide_filter_bytes(db), 0);
    ck_assert_uint_eq(ww_sigdb_stride8_keys(db), want);
    ck_assert_msg(strstr(d, "5000 parts also by stride 8") != NULL, "%s", d);
    ww_sigdb_free(db);
}
END_TEST

/* Every 2nd byte of the body hits the anchor of a signature with a wide bounded gap: the scan
 * must end in bounded time (the per-scan check budget), not after hits x gap width steps. */
START_TEST(test_sig_near_match_flood_ends_in_bounded_time)
{
    static const char *const sigs[] = {"Flood:0:*:'ABABABAB'{0-30000}'Z'__'Z'"};
    struct ww_sigdb *db = db_of(sigs, 1);
    enum { BODY = 256 * 1024 };
    unsigned char *body = malloc(BODY);
    struct timespec t0, t1;
    double secs;
    size_t i;

    for (i = 0; i < BODY; i++)
        body[i] = (unsigned char)(i % 2 ? 'B' : 'A');
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_ptr_null(scan_chunks(db, body, BODY, 65536));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_msg(secs < 30, "flood of %d bytes took %.1f s, want < 30", BODY, secs);
    /* a real match early in the body is still found */
    memcpy(body + 200, "Z!Z", 3);
    ck_assert_str_eq(scan_chunks(db, body, BODY, 65536), "Flood");
    free(body);
    ww_sigdb_free(db);
}
END_TEST

/* Issue 12, part 3: the flood above spends the scan's step budget, after which body signatures
 * are no longer checked. EICAR later in that body must not come out clean: either it is found,
 * or the scan says it is incomplete (the module's scan.budget_action). */
START_TEST(test_sig_budget_spent_is_never_clean)
{
    static const char *const sigs[] = {"Flood:0:*:'ABABABAB'{0-30000}'Z'__'Z'",
                                       "Eicar:0:*:'EICAR-STANDARD-ANTIVIRUS-TEST-FILE'"};
    struct ww_sigdb *db = db_of(sigs, 2);
    enum { BODY = 300 * 1024 };
    unsigned char *body = malloc(BODY);
    struct ww_sigscan *sc;
    const char *got = NULL;
    size_t i, off;

    for (i = 0; i < BODY; i++)
        body[i] = (unsigned char)(i % 2 ? 'B' : 'A');
    memcpy(body + BODY - 100, "EICAR-STANDARD-ANTIVIRUS-TEST-FILE", 34);
    sc = ww_sigscan_create(db, BODY);
    for (off = 0; off < BODY && got == NULL; off += 65536)
        got = ww_sigscan_feed(sc, body + off, BODY - off < 65536 ? BODY - off : 65536);
    if (got == NULL)
        got = ww_sigscan_finish(sc);
    ck_assert_msg(got != NULL || ww_sigscan_incomplete(sc) != NULL,
                  "EICAR after a near-match flood came out clean");
    if (got == NULL)
        ck_assert_ptr_nonnull(strstr(ww_sigscan_incomplete(sc), "budget"));
    ww_sigscan_free(sc);
    /* a body without near-matches is complete */
    memset(body, 'x', BODY);
    sc = ww_sigscan_create(db, BODY);
    ck_assert_ptr_null(ww_sigscan_feed(sc, body, BODY));
    ck_assert_ptr_null(ww_sigscan_finish(sc));
    ck_assert_ptr_null(ww_sigscan_incomplete(sc));
    ww_sigscan_free(sc);
    free(body);
    ww_sigdb_free(db);
}
END_TEST

/* One long segment of wildcards between an anchor and a byte that never matches: every hit of
 * the 2-byte anchor compared 30,000 bytes, counted as one step, so a 1 MiB body of the anchor
 * cost ~1.5e10 byte compares, uncounted (found reading the cost model for t/fuzz_sigmatch.c).
 * Compared bytes now count (a step per 4), so the scan's budget bounds it: incomplete, within
 * ww_sigscan_step_limit(), in bounded time. */
START_TEST(test_sig_long_segment_costs_its_length)
{
    enum { WILD = 30000, BODY = 1 << 20 };
    char *line = malloc(64 + 2 * WILD), err[WW_ERRLEN] = "";
    unsigned char *body = malloc(BODY);
    struct ww_sigdb *db = ww_sigdb_create();
    struct ww_sigscan *sc;
    struct timespec t0, t1;
    const char *got = NULL;
    double secs;
    size_t i, n;

    n = (size_t)sprintf(line, "Long:0:*:4142");
    for (i = 0; i < WILD; i++, n += 2)
        memcpy(line + n, "??", 2);
    strcpy(line + n, "43");
    ck_assert_int_eq(ww_sigdb_add_line(db, line, err, sizeof(err)), WW_OK);
    ck_assert_int_eq(ww_sigdb_compile(db), WW_OK);
    for (i = 0; i < BODY; i++)
        body[i] = (unsigned char)(i % 2 ? 'B' : 'A');
    sc = ww_sigscan_create(db, BODY);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < BODY && got == NULL; i += 65536)
        got = ww_sigscan_feed(sc, body + i, 65536);
    if (got == NULL)
        got = ww_sigscan_finish(sc);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_ptr_null(got);
    ck_assert_msg(ww_sigscan_incomplete(sc) != NULL, "a 1 MiB flood of 30000-byte checks: clean");
    ck_assert_msg(ww_sigscan_steps(sc) <= ww_sigscan_step_limit(BODY), "steps %llu > limit %llu",
                  (unsigned long long)ww_sigscan_steps(sc),
                  (unsigned long long)ww_sigscan_step_limit(BODY));
    ck_assert_msg(secs < 10, "1 MiB of 30000-byte checks took %.1f s, want < 10", secs);
    ww_sigscan_free(sc);
    /* a real match is still found */
    memset(body + 1000, 'x', WILD + 10);
    memcpy(body + 1000, "AB", 2);
    body[1000 + 2 + WILD] = 'C';
    ck_assert_str_eq(scan_chunks(db, body, BODY, 4096), "Long");
    free(line);
    free(body);
    ww_sigdb_free(db);
}
END_TEST

/* Fixed-offset windows went on being searched after the scan's budget was spent (each window
 * spends up to one check's budget per feed), and end-of-body windows were not counted at all:
 * 20 windows whose every start costs ~180,000 steps, over 256 KiB fed 1 KiB at a time, were
 * ~10^9 steps. Now the budget stops them too: within ww_sigscan_step_limit(), incomplete. */
START_TEST(test_sig_offset_windows_stop_at_the_scan_budget)
{
    enum { NSIG = 20, BODY = 256 * 1024 };
    char tmpl[2 * NSIG][96];
    const char *sigs[2 * NSIG];
    unsigned char *body = malloc(BODY);
    struct ww_sigdb *db;
    struct ww_sigscan *sc;
    const char *got = NULL;
    size_t i;

    for (i = 0; i < NSIG; i++) {
        snprintf(tmpl[i], sizeof(tmpl[i]), "Abs%zu:0:0,60000:'AB'{0-1900}'Z'{0-90}'%c'", i,
                 (char)('a' + i));
        snprintf(tmpl[NSIG + i], sizeof(tmpl[0]),
                 "Eof%zu:0:EOF-60000,60000:'AB'{0-1900}'Z'{0-90}'%c'", i, (char)('a' + i));
        sigs[i] = tmpl[i];
        sigs[NSIG + i] = tmpl[NSIG + i];
    }
    db = db_of(sigs, 2 * NSIG);
    for (i = 0; i < BODY; i++) /* 'AB' then a 'Z' every 64 bytes: every start is a near-match */
        body[i] = (unsigned char)(i % 64 == 63 ? 'Z' : i % 2 ? 'B' : 'A');
    sc = ww_sigscan_create(db, BODY);
    for (i = 0; i < BODY && got == NULL; i += 1024)
        got = ww_sigscan_feed(sc, body + i, 1024);
    if (got == NULL)
        got = ww_sigscan_finish(sc);
    ck_assert_ptr_null(got);
    ck_assert_msg(ww_sigscan_incomplete(sc) != NULL, "windows over near-matches: clean");
    ck_assert_msg(ww_sigscan_steps(sc) <= ww_sigscan_step_limit(BODY), "steps %llu > limit %llu",
                  (unsigned long long)ww_sigscan_steps(sc),
                  (unsigned long long)ww_sigscan_step_limit(BODY));
    ww_sigscan_free(sc);
    free(body);
    ww_sigdb_free(db);
}
END_TEST

/* A part whose bounded gaps multiply past the per-check budget could cost more than any check
 * may spend: refused when loaded, with the reason (the loader adds file:line). */
START_TEST(test_sig_parse_rejects_unbounded_cost)
{
    struct ww_sigdb *db = ww_sigdb_create();
    char line[512], err[WW_ERRLEN] = "";

    sig_expand("Wide:0:*:'ab'{0-1000}'cd'{0-1000}'ef'", line, sizeof(line));
    ck_assert_int_eq(ww_sigdb_add_line(db, line, err, sizeof(err)), WW_EINVAL);
    ck_assert_msg(strstr(err, "worst-case") != NULL, "reason: %s", err);
    sig_expand("Fine:0:*:'ab'{0-30000}'cd'", line, sizeof(line));
    ck_assert_int_eq(ww_sigdb_add_line(db, line, err, sizeof(err)), WW_OK);
    sig_expand("Split:0:*:'ab'{0-1000}'cd'*'ef'{0-1000}'gh'", line, sizeof(line));
    ck_assert_int_eq(ww_sigdb_add_line(db, line, err, sizeof(err)), WW_OK);
    ww_sigdb_free(db);
}
END_TEST

/* 300 fixed-offset signatures with wide windows ("0,60000") over a 64 KiB body fed in 1 KiB
 * chunks: each start is tried once (one pass), not every window again on every feed (about 3 s
 * of CPU before). They are still found, at either end of their window and across chunks. */
START_TEST(test_sig_offset_windows_cost_one_pass)
{
    enum { NSIG = 300, BODY = 65536 };
    char tmpl[NSIG][128];
    const char *sigs[NSIG + 1];
    struct ww_sigdb *db;
    unsigned char *body = malloc(BODY);
    struct timespec t0, t1;
    double secs;
    size_t i;

    for (i = 0; i < NSIG; i++) {
        snprintf(tmpl[i], sizeof(tmpl[i]), "Off%zu:0:0,60000:'q%03zu'{0-20}'zz'", i, i);
        sigs[i] = tmpl[i];
    }
    sigs[NSIG] = "OffEnd:0:EOF-5000,4000:'tail-marker'";
    db = db_of(sigs, NSIG + 1);
    for (i = 0; i < BODY; i++)
        body[i] = (unsigned char)(i % 3 ? 'q' : '0'); /* near-matches: 'q0' everywhere */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_ptr_null(scan_chunks(db, body, BODY, 1024));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_msg(secs < 1.5, "300 offset windows over 64 KiB took %.2f s, want < 1.5", secs);
    memcpy(body + 59990, "q123zz", 6); /* starts at 59990: inside 0,60000 */
    ck_assert_str_eq(scan_chunks(db, body, BODY, 1024), "Off123");
    ck_assert_str_eq(scan_chunks(db, body, BODY, 7), "Off123");
    memcpy(body + 59990, "q000", 4);
    memcpy(body + 1021, "q007", 4); /* across a 1 KiB boundary, gap of 5 */
    memcpy(body + 1030, "zz", 2);
    ck_assert_str_eq(scan_chunks(db, body, BODY, 1024), "Off7");
    free(body);
    ww_sigdb_free(db);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sig");
    TCase *tp = tcase_create("parse");
    TCase *tm = tcase_create("match");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tp, test_sig_parse_accepts_every_supported_form, 0,
                        (int)(sizeof(good_lines) / sizeof(good_lines[0])));
    tcase_add_loop_test(tp, test_sig_parse_rejects_bad_line_with_reason, 0,
                        (int)(sizeof(bad_lines) / sizeof(bad_lines[0])));
    tcase_add_test(tp, test_sig_parse_long_line_of_gaps_rejected_without_crash);
    tcase_add_loop_test(tm, test_sig_match_table_in_every_chunking, 0,
                        (int)(sizeof(match_cases) / sizeof(match_cases[0])));
    tcase_add_test(tm, test_sig_shared_prefixes_report_the_right_name);
    tcase_add_test(tm, test_sig_near_match_flood_ends_in_bounded_time);
    tcase_add_test(tm, test_sig_budget_spent_is_never_clean);
    tcase_add_test(tm, test_sig_long_segment_costs_its_length);
    tcase_add_test(tm, test_sig_offset_windows_stop_at_the_scan_budget);
    tcase_add_test(tp, test_sig_parse_rejects_unbounded_cost);
    tcase_add_test(tm, test_sig_offset_windows_cost_one_pass);
    tcase_add_loop_test(tm, test_sig_many_random_sigs_find_planted_ones, 0, 2);
    tcase_add_test(tm, test_sig_wide_pick_simd_matches_portable);
    tcase_add_loop_test(tm, test_sig_wide_mode_finds_every_alignment_and_chunking, 0, 3);
    tcase_add_test(tm, test_sig_wide_filter_is_small);
    tcase_add_test(tm, test_sig_wide_short_anchors_need_few_stride8_keys);
    tcase_add_test(tm, test_sig_describe_matcher_names_the_mode_and_the_culprit);
    tcase_add_test(tm, test_sig_wide_mode_agrees_with_stride8);
    tcase_add_test(tm, test_sig_flood_of_filter_passes_loses_no_hit);
    suite_add_tcase(s, tp);
    suite_add_tcase(s, tm);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
