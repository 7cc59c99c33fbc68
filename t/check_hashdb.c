/* t/check_hashdb.c - hash signature lines (.hdb/.hsb) and the digest table. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_hashdb.h"

static void hex_to_bin(const char *hex, unsigned char *out)
{
    size_t i;
    for (i = 0; hex[2 * i] != '\0'; i++) {
        unsigned int v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
}

#define MD5_A "44d88612fea8a8f36de82e1278abb02f"
#define SHA256_A "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
#define SHA1_A "3395856ce81f2b7382dee72602f798b642f14140"

static struct ww_hashdb *db_of(const char *const *lines, int is_hsb)
{
    struct ww_hashdb *db = ww_hashdb_create();
    char err[WW_ERRLEN];
    size_t i;

    ck_assert_ptr_nonnull(db);
    for (i = 0; lines[i] != NULL; i++) {
        int rc = ww_hashdb_add_line(db, lines[i], is_hsb, err, sizeof(err));
        ck_assert_msg(rc == WW_OK, "add(\"%s\") = %d (%s), want WW_OK", lines[i], rc, err);
    }
    ck_assert_int_eq(ww_hashdb_finish(db), WW_OK);
    return db;
}

START_TEST(test_hashdb_md5_with_size_matches_only_that_size)
{
    static const char *const lines[] = {MD5_A ":68:Test.A", NULL};
    struct ww_hashdb *db = db_of(lines, 0);
    unsigned char d[16];
    const char *got;

    hex_to_bin(MD5_A, d);
    got = ww_hashdb_lookup(db, WW_HASH_MD5, d, 68);
    ck_assert_msg(got != NULL && strcmp(got, "Test.A") == 0, "lookup size 68: got %s", got);
    got = ww_hashdb_lookup(db, WW_HASH_MD5, d, 69);
    ck_assert_msg(got == NULL, "lookup size 69: got %s, want NULL", got);
    ck_assert_ptr_null(ww_hashdb_lookup(db, WW_HASH_SHA256, d, 68));
    ck_assert_uint_eq(ww_hashdb_count(db, WW_HASH_MD5), 1);
    ck_assert_uint_eq(ww_hashdb_count(db, WW_HASH_SHA256), 0);
    ww_hashdb_free(db);
}
END_TEST

START_TEST(test_hashdb_sha256_any_size_and_sha1_by_length)
{
    static const char *const lines[] = {SHA256_A ":*:Test.Any:73", SHA1_A ":68:Test.Sha1",
                                        "# comment", "", NULL};
    struct ww_hashdb *db = db_of(lines, 1);
    unsigned char d[32], d1[20];
    const char *got;

    hex_to_bin(SHA256_A, d);
    hex_to_bin(SHA1_A, d1);
    got = ww_hashdb_lookup(db, WW_HASH_SHA256, d, 12345);
    ck_assert_msg(got != NULL && strcmp(got, "Test.Any") == 0, "sha256 *: got %s", got);
    got = ww_hashdb_lookup(db, WW_HASH_SHA1, d1, 68);
    ck_assert_msg(got != NULL && strcmp(got, "Test.Sha1") == 0, "sha1: got %s", got);
    ck_assert_uint_eq(ww_hashdb_count(db, WW_HASH_KINDS), 2);
    d[31] ^= 1;
    ck_assert_ptr_null(ww_hashdb_lookup(db, WW_HASH_SHA256, d, 12345));
    ww_hashdb_free(db);
}
END_TEST

START_TEST(test_hashdb_same_digest_two_sizes_both_found)
{
    static const char *const lines[] = {MD5_A ":10:Ten", MD5_A ":20:Twenty", NULL};
    struct ww_hashdb *db = db_of(lines, 0);
    unsigned char d[16];
    const char *got;

    hex_to_bin(MD5_A, d);
    got = ww_hashdb_lookup(db, WW_HASH_MD5, d, 20);
    ck_assert_msg(got != NULL && strcmp(got, "Twenty") == 0, "size 20: got %s", got);
    got = ww_hashdb_lookup(db, WW_HASH_MD5, d, 10);
    ck_assert_msg(got != NULL && strcmp(got, "Ten") == 0, "size 10: got %s", got);
    ww_hashdb_free(db);
}
END_TEST

START_TEST(test_hashdb_size_used_names_only_signature_sizes)
{
    static const char *const md5[] = {MD5_A ":68:A", MD5_A ":1000:B", MD5_A ":68:C", NULL};
    static const char *const hsb[] = {SHA256_A ":*:Any", SHA1_A ":5:Five", NULL};
    struct ww_hashdb *dm = db_of(md5, 0), *dh = db_of(hsb, 1);

    ck_assert_int_eq(ww_hashdb_size_used(dm, WW_HASH_MD5, 68), 1);
    ck_assert_int_eq(ww_hashdb_size_used(dm, WW_HASH_MD5, 1000), 1);
    ck_assert_int_eq(ww_hashdb_size_used(dm, WW_HASH_MD5, 69), 0);
    ck_assert_int_eq(ww_hashdb_size_used(dm, WW_HASH_MD5, 0), 0);
    ck_assert_int_eq(ww_hashdb_size_used(dm, WW_HASH_MD5, -1), 1);    /* unknown: may be needed */
    ck_assert_int_eq(ww_hashdb_size_used(dm, WW_HASH_SHA256, -1), 0); /* no signature at all */
    ck_assert_uint_eq(ww_hashdb_max_size(dm, WW_HASH_MD5), 1000);
    ck_assert_uint_eq(ww_hashdb_max_size(dm, WW_HASH_SHA1), 0);
    ck_assert_int_eq(ww_hashdb_size_used(dh, WW_HASH_SHA256, 123456789), 1); /* "*" */
    ck_assert_uint_eq(ww_hashdb_max_size(dh, WW_HASH_SHA256), UINT64_MAX);
    ck_assert_int_eq(ww_hashdb_size_used(dh, WW_HASH_SHA1, 5), 1);
    ck_assert_int_eq(ww_hashdb_size_used(dh, WW_HASH_SHA1, 6), 0);
    ck_assert_int_eq(ww_hashdb_size_used(dh, WW_HASH_MD5, 5), 0);
    ww_hashdb_free(dm);
    ww_hashdb_free(dh);
}
END_TEST

static const struct {
    const char *line;
    int is_hsb;
} bad_lines[] = {
    {"nocolon", 0},
    {MD5_A, 0},
    {MD5_A ":68", 0},
    {MD5_A ":68:", 0},
    {MD5_A ":x68:Name", 0},
    {MD5_A ":68x:Name", 0},
    {MD5_A ":99999999999999999999999:Name", 0},
    {"44d88612fea8a8f36de82e1278abb0zz:68:Name", 0},
    {"abc:68:Name", 1},
    {MD5_A "0:68:Name", 0}, /* 33 digits */
    {SHA256_A ":68:Bad\x01Name", 1},
};

/* ClamAV tells the kinds apart by length in .hdb and .hsb alike. */
START_TEST(test_hashdb_kind_by_length_in_hdb_and_hsb)
{
    static const char *const lines[] = {SHA256_A ":68:In.Hdb.256", SHA1_A ":*:In.Hdb.1",
                                        MD5_A ":68:In.Hdb.Md5", NULL};
    static const char *const hsb_lines[] = {MD5_A ":68:In.Hsb.Md5", NULL};
    unsigned char d[32];
    int is_hsb;

    for (is_hsb = 0; is_hsb <= 1; is_hsb++) {
        struct ww_hashdb *db = db_of(lines, is_hsb);
        ck_assert_uint_eq(ww_hashdb_count(db, WW_HASH_MD5), 1);
        ck_assert_uint_eq(ww_hashdb_count(db, WW_HASH_SHA1), 1);
        ck_assert_uint_eq(ww_hashdb_count(db, WW_HASH_SHA256), 1);
        hex_to_bin(SHA256_A, d);
        ck_assert_str_eq(ww_hashdb_lookup(db, WW_HASH_SHA256, d, 68), "In.Hdb.256");
        hex_to_bin(SHA1_A, d);
        ck_assert_str_eq(ww_hashdb_lookup(db, WW_HASH_SHA1, d, 5), "In.Hdb.1");
        hex_to_bin(MD5_A, d);
        ck_assert_str_eq(ww_hashdb_lookup(db, WW_HASH_MD5, d, 68), "In.Hdb.Md5");
        ww_hashdb_free(db);
    }
    {
        struct ww_hashdb *db = db_of(hsb_lines, 1);
        hex_to_bin(MD5_A, d);
        ck_assert_str_eq(ww_hashdb_lookup(db, WW_HASH_MD5, d, 68), "In.Hsb.Md5");
        ww_hashdb_free(db);
    }
}
END_TEST

START_TEST(test_hashdb_bad_line_rejected_with_reason)
{
    struct ww_hashdb *db = ww_hashdb_create();
    char err[WW_ERRLEN] = "";
    int rc = ww_hashdb_add_line(db, bad_lines[_i].line, bad_lines[_i].is_hsb, err, sizeof(err));

    ck_assert_msg(rc == WW_EINVAL && err[0] != '\0', "add(\"%s\", hsb=%d) = %d \"%s\", want %d",
                  bad_lines[_i].line, bad_lines[_i].is_hsb, rc, err, WW_EINVAL);
    ck_assert_uint_eq(ww_hashdb_count(db, WW_HASH_KINDS), 0);
    ww_hashdb_free(db);
}
END_TEST

START_TEST(test_hashdb_many_entries_all_found)
{
    struct ww_hashdb *db = ww_hashdb_create();
    char line[128], err[WW_ERRLEN];
    unsigned char d[32];
    int i, j;

    for (i = 0; i < 20000; i++) {
        int n = 0;
        for (j = 0; j < 32; j++)
            n += sprintf(line + n, "%02x", (unsigned)((i * 131 + j * 7 + (i >> 8) * j) & 0xff));
        sprintf(line + n, ":%d:Sig.%d", i, i);
        ck_assert_int_eq(ww_hashdb_add_line(db, line, 1, err, sizeof(err)), WW_OK);
    }
    ck_assert_int_eq(ww_hashdb_finish(db), WW_OK);
    for (i = 0; i < 20000; i += 97) {
        char want[32];
        const char *got;
        for (j = 0; j < 32; j++)
            d[j] = (unsigned char)((i * 131 + j * 7 + (i >> 8) * j) & 0xff);
        sprintf(want, "Sig.%d", i);
        got = ww_hashdb_lookup(db, WW_HASH_SHA256, d, (uint64_t)i);
        ck_assert_msg(got != NULL && strcmp(got, want) == 0, "entry %d: got %s, want %s", i, got,
                      want);
    }
    ck_assert(ww_hashdb_memory(db) > 20000 * 32);
    ww_hashdb_free(db);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hashdb");
    TCase *tc = tcase_create("hashdb");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_hashdb_md5_with_size_matches_only_that_size);
    tcase_add_test(tc, test_hashdb_sha256_any_size_and_sha1_by_length);
    tcase_add_test(tc, test_hashdb_same_digest_two_sizes_both_found);
    tcase_add_test(tc, test_hashdb_size_used_names_only_signature_sizes);
    tcase_add_loop_test(tc, test_hashdb_bad_line_rejected_with_reason, 0,
                        (int)(sizeof(bad_lines) / sizeof(bad_lines[0])));
    tcase_add_test(tc, test_hashdb_many_entries_all_found);
    tcase_add_test(tc, test_hashdb_kind_by_length_in_hdb_and_hsb);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
