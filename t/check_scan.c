/* t/check_scan.c - the engine API: loading a folder, hash and body signatures, streaming,
 * SHA-256, reference counting. EICAR is built at run time from hex so no file here holds it. */
#include "config.h"

#include <check.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_scan.h"

#ifndef WW_TEST_CASES
#define WW_TEST_CASES "t/cases"
#endif
#define PATTERNS_DIR WW_TEST_CASES "/patterns"

static const char eicar_hex[] =
    "58354f2150254041505b345c505a58353428505e2937434329377d24"
    "45494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a";
#define EICAR_LEN 68
#define EICAR_SHA256 "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"

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

static char tmpdir[64];

static void dir_make(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ww-check-scan-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void dir_remove(void)
{
    if (tmpdir[0] != '\0')
        nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    tmpdir[0] = '\0';
}

static void file_write(const char *name, const char *content)
{
    char path[256];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(content, fp);
    fclose(fp);
}

static struct ww_engine *engine_load(const char *dir, struct ww_engine_stats *st)
{
    struct ww_engine *e = NULL;
    char err[WW_ERRLEN] = "";
    int rc = ww_engine_load_dir(dir, &e, st, err, sizeof(err));

    ck_assert_msg(rc == WW_OK && e != NULL, "load_dir(%s) = %d \"%s\", want WW_OK", dir, rc, err);
    return e;
}

/* Scans <p> fed in chunks of <chunk> bytes; returns the threat name (static copy) or NULL. */
static const char *scan_buf(struct ww_engine *e, const unsigned char *p, size_t n, size_t chunk,
                            int64_t total, char *sha_out)
{
    static char name[256];
    struct ww_scan *s = ww_scan_create(e, total, sha_out != NULL ? WW_SCAN_SHA256 : 0);
    size_t off;
    const char *threat;

    ck_assert_ptr_nonnull(s);
    for (off = 0; off < n; off += chunk)
        ww_scan_feed(s, p + off, n - off < chunk ? n - off : chunk);
    ww_scan_finish(s);
    threat = ww_scan_threat(s);
    if (sha_out != NULL)
        snprintf(sha_out, 65, "%s", ww_scan_sha256(s) ? ww_scan_sha256(s) : "(null)");
    if (threat != NULL)
        snprintf(name, sizeof(name), "%s", threat);
    ww_scan_free(s);
    return threat != NULL ? name : NULL;
}

START_TEST(test_scan_eicar_found_by_hash_with_its_sha256)
{
    struct ww_engine_stats st;
    struct ww_engine *e = engine_load(PATTERNS_DIR, &st);
    unsigned char eicar[EICAR_LEN];
    char sha[65];
    const char *got;

    eicar_fill(eicar);
    got = scan_buf(e, eicar, EICAR_LEN, EICAR_LEN, EICAR_LEN, sha);
    ck_assert_msg(got != NULL && strcasestr(got, "EICAR") != NULL, "EICAR: threat %s, want *EICAR*",
                  got);
    ck_assert_str_eq(sha, EICAR_SHA256);
    got = scan_buf(e, eicar, EICAR_LEN, 1, -1, sha);
    ck_assert_msg(got != NULL, "EICAR fed byte by byte: no threat");
    ck_assert_str_eq(sha, EICAR_SHA256);
    ck_assert(st.hash_sigs >= 3);
    ck_assert(st.files >= 2);
    ck_assert(st.memory_bytes > 0);
    ww_engine_unref(e);
}
END_TEST

START_TEST(test_scan_hash_size_star_and_wrong_size)
{
    struct ww_engine *e;
    unsigned char body[1000];
    char line[256];

    random_fill(body, sizeof(body), 7);
    dir_make();
    /* SHA-256 and MD5 of the 1000 random bytes, computed with a first scan over a folder
     * whose only signature cannot match. */
    file_write("x.hdb", "00000000000000000000000000000000:1:Never\n");
    e = engine_load(tmpdir, NULL);
    {
        char sha[65];
        ck_assert_ptr_null(scan_buf(e, body, sizeof(body), 100, -1, sha));
        ww_engine_unref(e);
        snprintf(line, sizeof(line), "%s:*:Star.Size\n", sha);
        file_write("a.hsb", line);
        e = engine_load(tmpdir, NULL);
        ck_assert_str_eq(scan_buf(e, body, sizeof(body), 333, -1, NULL), "Star.Size");
        ck_assert_ptr_null(scan_buf(e, body, sizeof(body) - 1, 333, -1, NULL));
        ww_engine_unref(e);
        snprintf(line, sizeof(line), "%s:999:Wrong.Size\n", sha);
        file_write("a.hsb", line);
        e = engine_load(tmpdir, NULL);
        ck_assert_ptr_null(scan_buf(e, body, sizeof(body), 1000, -1, NULL));
        ww_engine_unref(e);
    }
    dir_remove();
}
END_TEST

START_TEST(test_scan_sha256_computed_without_hsb)
{
    struct ww_engine *e;
    char sha[65];

    dir_make();
    file_write("x.hdb", "00000000000000000000000000000000:1:Never\n");
    e = engine_load(tmpdir, NULL);
    ck_assert_ptr_null(scan_buf(e, (const unsigned char *)"abc", 3, 3, 3, sha));
    ck_assert_str_eq(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_ptr_null(scan_buf(e, (const unsigned char *)"", 0, 1, 0, sha));
    ck_assert_str_eq(sha, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ww_engine_unref(e);
    dir_remove();
}
END_TEST

START_TEST(test_scan_md5_hdb_matches)
{
    struct ww_engine *e;

    dir_make();
    /* MD5("abc") */
    file_write("m.hdb", "900150983cd24fb0d6963f7d28e17f72:3:Abc.Md5\n");
    e = engine_load(tmpdir, NULL);
    ck_assert_str_eq(scan_buf(e, (const unsigned char *)"abc", 3, 1, -1, NULL), "Abc.Md5");
    ck_assert_ptr_null(scan_buf(e, (const unsigned char *)"abd", 3, 1, -1, NULL));
    ww_engine_unref(e);
    dir_remove();
}
END_TEST

START_TEST(test_scan_load_missing_folder_is_eio)
{
    struct ww_engine *e = NULL;
    char err[WW_ERRLEN] = "";
    int rc = ww_engine_load_dir("/nonexistent/ww-patterns", &e, NULL, err, sizeof(err));

    ck_assert_msg(rc == WW_EIO && e == NULL && strstr(err, "/nonexistent/ww-patterns") != NULL,
                  "load_dir(missing) = %d \"%s\", want WW_EIO naming the folder", rc, err);
}
END_TEST

START_TEST(test_scan_load_folder_without_signatures_is_einval)
{
    struct ww_engine *e = NULL;
    char err[WW_ERRLEN] = "", want[128];
    int rc;

    dir_make();
    file_write("readme.txt", "not a signature file\n");
    file_write("bad.hdb", "garbage line\nmore:garbage\n");
    file_write("logic.ldb", "Sig;Engine:51-255,Target:0;0;41424344\n");
    rc = ww_engine_load_dir(tmpdir, &e, NULL, err, sizeof(err));
    snprintf(want, sizeof(want), "%s: no signatures", tmpdir);
    ck_assert_msg(rc == WW_ENOTFOUND && e == NULL && strcmp(err, want) == 0,
                  "load_dir = %d \"%s\", want WW_ENOTFOUND \"%s\"", rc, err, want);
    dir_remove();
}
END_TEST

START_TEST(test_scan_load_counts_skipped_lines_and_files)
{
    struct ww_engine_stats st;
    struct ww_engine *e;

    dir_make();
    file_write("a.hdb", "900150983cd24fb0d6963f7d28e17f72:3:Abc.Md5\nbad\n\nalso:bad:line\n");
    file_write("b.hsb", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad:*:A\n");
    file_write("c.ldb", "Sig;Engine:51-255,Target:0;0;41424344\n");
    e = engine_load(tmpdir, &st);
    ck_assert_uint_eq(st.hash_sigs, 2);
    ck_assert_uint_eq(st.skipped, 2);
    ck_assert_uint_eq(st.files, 2);
    {
        struct ww_engine_stats st2;
        ww_engine_get_stats(e, &st2);
        ck_assert_uint_eq(st2.hash_sigs, st.hash_sigs);
        ck_assert_uint_eq(st2.memory_bytes, st.memory_bytes);
    }
    ww_engine_unref(e);
    dir_remove();
}
END_TEST

/* Threads keep scanning with their own references while the owner drops its one: the engine
 * must stay valid until the last scan ends (ASan builds catch a use after free). */
static void *scan_thread(void *arg)
{
    struct ww_engine *e = arg;
    unsigned char eicar[EICAR_LEN];
    int i, found = 0;

    eicar_fill(eicar);
    for (i = 0; i < 200; i++) {
        struct ww_scan *s = ww_scan_create(e, -1, 0);
        if (s == NULL)
            break;
        ww_scan_feed(s, eicar, 30);
        ww_scan_feed(s, eicar + 30, EICAR_LEN - 30);
        found += ww_scan_finish(s);
        ww_scan_free(s);
    }
    ww_engine_unref(e);
    return (void *)(intptr_t)found;
}

START_TEST(test_scan_engine_outlives_owner_while_threads_scan)
{
    struct ww_engine *e = engine_load(PATTERNS_DIR, NULL);
    pthread_t th[4];
    int i;

    for (i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, scan_thread, ww_engine_ref(e)), 0);
    ww_engine_unref(e);
    for (i = 0; i < 4; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        ck_assert_msg((intptr_t)ret == 200, "thread %d found %d of 200", i, (int)(intptr_t)ret);
    }
}
END_TEST

START_TEST(test_scan_eicar_found_by_body_signature_inside_random_file)
{
    enum { BODY = 1 << 20 };
    struct ww_engine_stats st;
    struct ww_engine *e = engine_load(PATTERNS_DIR, &st);
    unsigned char *body = malloc(BODY);
    static const size_t chunks[] = {4096, 65536, 1000003, 7, 1};
    size_t c;

    ck_assert(st.body_sigs >= 1);
    random_fill(body, BODY, 42);
    eicar_fill(body + 500000);
    for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        /* byte by byte over the first 600 KiB only: enough to cross the EICAR */
        size_t n = chunks[c] == 1 ? 600000 : BODY;
        const char *got = scan_buf(e, body, n, chunks[c], -1, NULL);
        ck_assert_msg(got != NULL && strncmp(got, "Eicar-Test-Signature", 20) == 0,
                      "EICAR at 500000 of %zu bytes in chunks of %zu: got %s", n, chunks[c], got);
    }
    random_fill(body, BODY, 42);
    ck_assert_ptr_null(scan_buf(e, body, BODY, 65536, -1, NULL));
    free(body);
    ww_engine_unref(e);
}
END_TEST

START_TEST(test_scan_eicar_split_at_every_point)
{
    struct ww_engine *e = engine_load(PATTERNS_DIR, NULL);
    unsigned char buf[EICAR_LEN + 1];
    size_t cut;

    eicar_fill(buf);
    buf[EICAR_LEN] = '\n'; /* the hashes no longer match: the body signature must */
    for (cut = 1; cut < EICAR_LEN + 1; cut++) {
        struct ww_scan *s = ww_scan_create(e, -1, 0);
        int r;
        ck_assert_ptr_nonnull(s);
        ww_scan_feed(s, buf, cut);
        ww_scan_feed(s, buf + cut, sizeof(buf) - cut);
        r = ww_scan_finish(s);
        ck_assert_msg(r == 1 && ww_scan_threat(s) != NULL &&
                          strncmp(ww_scan_threat(s), "Eicar-Test-Signature", 20) == 0,
                      "EICAR+LF cut at %zu: %d %s", cut, r, ww_scan_threat(s));
        ww_scan_free(s);
    }
    ww_engine_unref(e);
}
END_TEST

START_TEST(test_scan_folder_of_10000_random_sigs_finds_planted)
{
    enum { NSIGS = 10000, BODY = 256 * 1024 };
    struct ww_engine_stats st;
    struct ww_engine *e;
    char path[256];
    static unsigned char sig[NSIGS][24];
    unsigned char *body = malloc(BODY);
    FILE *fp;
    int i, j;

    dir_make();
    snprintf(path, sizeof(path), "%s/random.ndb", tmpdir);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    random_fill(&sig[0][0], sizeof(sig), 99);
    for (i = 0; i < NSIGS; i++) {
        fprintf(fp, "Random.%d:0:*:", i);
        for (j = 0; j < 24; j++)
            fprintf(fp, "%02x", sig[i][j]);
        fprintf(fp, "\n");
    }
    fprintf(fp, "Bad.Line:3:*:41424344\n");
    fclose(fp);
    e = engine_load(tmpdir, &st);
    ck_assert_uint_eq(st.body_sigs, NSIGS);
    ck_assert_uint_eq(st.skipped, 1);
    for (i = 0; i < NSIGS; i += 1999) {
        char want[32];
        const char *got;
        random_fill(body, BODY, (uint64_t)i + 1000);
        memcpy(body + (size_t)(i * 13) % (BODY - 24), sig[i], 24);
        sprintf(want, "Random.%d", i);
        got = scan_buf(e, body, BODY, 4000, BODY, NULL);
        ck_assert_msg(got != NULL && strcmp(got, want) == 0, "planted %s: got %s", want, got);
    }
    random_fill(body, BODY, 5);
    ck_assert_ptr_null(scan_buf(e, body, BODY, 4000, BODY, NULL));
    free(body);
    ww_engine_unref(e);
    dir_remove();
}
END_TEST

START_TEST(test_scan_eicar_found_by_hsb_and_hdb_alone)
{
    struct ww_engine *e;
    unsigned char eicar[EICAR_LEN];

    eicar_fill(eicar);
    dir_make();
    file_write("e.hsb", EICAR_SHA256 ":68:Win.Test.EICAR_HSB-1\n");
    e = engine_load(tmpdir, NULL);
    ck_assert_str_eq(scan_buf(e, eicar, EICAR_LEN, 10, -1, NULL), "Win.Test.EICAR_HSB-1");
    ck_assert_ptr_null(scan_buf(e, eicar, EICAR_LEN - 1, 10, -1, NULL));
    ww_engine_unref(e);
    dir_remove();
    dir_make();
    file_write("e.hdb", "44d88612fea8a8f36de82e1278abb02f:68:Win.Test.EICAR_HDB-1\n");
    e = engine_load(tmpdir, NULL);
    ck_assert_str_eq(scan_buf(e, eicar, EICAR_LEN, 1, EICAR_LEN, NULL), "Win.Test.EICAR_HDB-1");
    ww_engine_unref(e);
    dir_remove();
}
END_TEST

/* ClamAV's own unit_tests/input/clamav.hdb carries SHA-256 lines: alone in the folder they
 * load (no "no signatures") and match, as do SHA-1 lines in an .hdb and MD5 lines in an .hsb. */
START_TEST(test_scan_hdb_with_sha256_and_sha1_lines_alone_loads_and_matches)
{
    struct ww_engine *e;
    struct ww_engine_stats st;
    unsigned char eicar[EICAR_LEN];

    eicar_fill(eicar);
    dir_make();
    file_write("clamav.hdb", EICAR_SHA256 ":68:Clamav.Test.File-256\n");
    e = engine_load(tmpdir, &st);
    ck_assert_uint_eq(st.hash_sigs, 1);
    ck_assert_uint_eq(st.skipped, 0);
    ck_assert_str_eq(scan_buf(e, eicar, EICAR_LEN, 7, -1, NULL), "Clamav.Test.File-256");
    ww_engine_unref(e);
    dir_remove();
    dir_make();
    /* SHA-1 of the EICAR file in an .hdb, its MD5 in an .hsb */
    file_write("s.hdb", "3395856ce81f2b7382dee72602f798b642f14140:68:Eicar.Sha1.In.Hdb\n");
    e = engine_load(tmpdir, NULL);
    ck_assert_str_eq(scan_buf(e, eicar, EICAR_LEN, 7, -1, NULL), "Eicar.Sha1.In.Hdb");
    ww_engine_unref(e);
    dir_remove();
    dir_make();
    file_write("m.hsb", "44d88612fea8a8f36de82e1278abb02f:68:Eicar.Md5.In.Hsb\n");
    e = engine_load(tmpdir, NULL);
    ck_assert_str_eq(scan_buf(e, eicar, EICAR_LEN, 7, -1, NULL), "Eicar.Md5.In.Hsb");
    ww_engine_unref(e);
    dir_remove();
}
END_TEST

/* A clean verdict whose SHA-256 was computed: "- " and 64 hex digits. */
static void assert_clean_with_digest(const char *got)
{
    ck_assert_msg(strncmp(got, "- ", 2) == 0 && strlen(got) == 2 + 64 && strchr(got, '(') == NULL,
                  "got \"%s\", want \"- <sha256>\"", got);
}

/* Scans <n> bytes of <p> declared as <total> with <flags>: the threat (or "-") and the SHA-256
 * (or "(null)", not computed) as one static "threat sha" string. */
static const char *scan_digest(struct ww_engine *e, const unsigned char *p, size_t n, int64_t total,
                               unsigned flags)
{
    static char out[512];
    struct ww_scan *s = ww_scan_create(e, total, flags);

    ck_assert_ptr_nonnull(s);
    ww_scan_feed(s, p, n / 2);
    ww_scan_feed(s, p + n / 2, n - n / 2);
    ww_scan_finish(s);
    snprintf(out, sizeof(out), "%s %s", ww_scan_threat(s) ? ww_scan_threat(s) : "-",
             ww_scan_sha256(s) ? ww_scan_sha256(s) : "(null)");
    ww_scan_free(s);
    return out;
}

START_TEST(test_scan_digest_only_for_sizes_a_signature_names)
{
    struct ww_engine *e;
    unsigned char eicar[EICAR_LEN], body[1000];

    eicar_fill(eicar);
    random_fill(body, sizeof(body), 3);
    dir_make();
    file_write("e.hsb", EICAR_SHA256 ":68:Win.Test.EICAR_HSB-1\n");
    e = engine_load(tmpdir, NULL);
    /* No .hsb line names 1000 bytes: no digest, unless smart scan asks for it. */
    ck_assert_str_eq(scan_digest(e, body, sizeof(body), sizeof(body), 0), "- (null)");
    assert_clean_with_digest(scan_digest(e, body, 68, 68, 0)); /* the size of a signature */
    assert_clean_with_digest(scan_digest(e, body, sizeof(body), sizeof(body), WW_SCAN_SHA256));
    ck_assert_str_eq(scan_digest(e, eicar, EICAR_LEN, EICAR_LEN, 0),
                     "Win.Test.EICAR_HSB-1 " EICAR_SHA256);
    ck_assert_str_eq(scan_digest(e, eicar, EICAR_LEN, -1, 0), "Win.Test.EICAR_HSB-1 " EICAR_SHA256);
    /* Size unknown: the digest stops once the body is larger than any signature names. */
    ck_assert_str_eq(scan_digest(e, body, sizeof(body), -1, 0), "- (null)");
    ww_engine_unref(e);
    dir_remove();
}
END_TEST

START_TEST(test_scan_body_not_the_declared_size_is_reported)
{
    struct ww_engine *e;
    unsigned char eicar[EICAR_LEN], body[1000];

    eicar_fill(eicar);
    random_fill(body, sizeof(body), 4);
    dir_make();
    file_write("e.hsb", EICAR_SHA256 ":68:Win.Test.EICAR_HSB-1\n");
    e = engine_load(tmpdir, NULL);
    /* 68 real bytes declared as 1000: the skipped digest was needed for the real size. */
    ck_assert_str_eq(scan_digest(e, eicar, EICAR_LEN, 1000, 0), WW_THREAT_SIZE_MISMATCH " (null)");
    /* A wrong size that no signature names either way is no finding. */
    ck_assert_str_eq(scan_digest(e, body, 999, 1000, 0), "- (null)");
    ck_assert_str_eq(scan_digest(e, body, 1000, 500, 0), "- (null)");
    /* Declared 68 but 1000 came: the digest ran over all of them, and matched nothing. */
    assert_clean_with_digest(scan_digest(e, body, 1000, 68, 0));
    ww_engine_unref(e);
    dir_remove();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scan");
    TCase *tc = tcase_create("hash");
    TCase *tl = tcase_create("load");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_scan_eicar_found_by_hash_with_its_sha256);
    tcase_add_test(tc, test_scan_hash_size_star_and_wrong_size);
    tcase_add_test(tc, test_scan_eicar_found_by_hsb_and_hdb_alone);
    tcase_add_test(tc, test_scan_sha256_computed_without_hsb);
    tcase_add_test(tc, test_scan_md5_hdb_matches);
    tcase_add_test(tc, test_scan_hdb_with_sha256_and_sha1_lines_alone_loads_and_matches);
    tcase_add_test(tc, test_scan_digest_only_for_sizes_a_signature_names);
    tcase_add_test(tc, test_scan_body_not_the_declared_size_is_reported);
    tcase_add_test(tc, test_scan_engine_outlives_owner_while_threads_scan);
    tcase_add_test(tc, test_scan_eicar_found_by_body_signature_inside_random_file);
    tcase_add_test(tc, test_scan_eicar_split_at_every_point);
    tcase_add_test(tc, test_scan_folder_of_10000_random_sigs_finds_planted);
    tcase_add_test(tl, test_scan_load_missing_folder_is_eio);
    tcase_add_test(tl, test_scan_load_folder_without_signatures_is_einval);
    tcase_add_test(tl, test_scan_load_counts_skipped_lines_and_files);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, tl);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
