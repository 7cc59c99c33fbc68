/* t/fuzz_sigmatch.c - libFuzzer target: signature loading plus matching, with the cost bound
 * (issue 12).
 *
 * Input: one flags byte, signature lines (.ndb "name:0:offset:hexsig", or .hdb/.hsb
 * "hash:size:name", told apart by a first field of 32, 40 or 64 hex digits), a NUL byte, then
 * the body. The body is scanned twice: whole, and in feeds of random sizes (the PRNG is seeded
 * from the input). Traps (abort) when:
 *   - a scan spends more steps than ww_sigscan_step_limit() of its bytes, or spends more than
 *     its budget (ww_sigscan_step_budget) without saying it is incomplete;
 *   - the body holds an exact copy of a plain loaded signature ("name:0:*:<hex>"; flags bit 0
 *     plants one) and the verdict is clean: neither a detection nor incomplete;
 *   - both scans are complete and only one of them found a threat (feeds must not matter);
 *   - a hash line of the body itself (flags bit 1 adds one) is not found by its digest.
 * Built by `make fuzz` (mk/fuzz.am); seeds in t/fuzz-cases/fuzz_sigmatch/.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ww_common.h"
#include "ww_hashdb.h"
#include "ww_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct plain {
    unsigned char *bytes;
    size_t len;
};

/* The length of the leading run of hex digits of <s>. */
static size_t hex_run(const char *s)
{
    size_t n = 0;
    while (ww_hex_val((unsigned char)s[n]) >= 0)
        n++;
    return n;
}

/* "name:0:*:<hex>[:...]" with only hex digits: its bytes into <p> (first one kept). */
static void plain_note(const char *line, struct plain *p)
{
    const char *f = line, *hex;
    size_t n, i;
    int colons = 0;

    if (p->bytes != NULL)
        return;
    for (; *f != '\0' && colons < 3; f++)
        if (*f == ':')
            colons++;
    if (colons < 3 || strncmp(strchr(line, ':'), ":0:*:", 5) != 0)
        return;
    hex = f;
    n = hex_run(hex);
    if (n < 4 || n % 2 != 0 || (hex[n] != '\0' && hex[n] != ':'))
        return;
    p->bytes = malloc(n / 2);
    if (p->bytes == NULL)
        return;
    for (i = 0; i < n / 2; i++)
        p->bytes[i] = (unsigned char)(ww_hex_val((unsigned char)hex[2 * i]) << 4 |
                                      ww_hex_val((unsigned char)hex[2 * i + 1]));
    p->len = n / 2;
}

static uint32_t rng_next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* One scan of <body>; <rng> NULL feeds it whole. The threat (borrowed) or NULL; *incomplete. */
static const char *scan_once(const struct ww_sigdb *db, const unsigned char *body, size_t len,
                             uint32_t *rng, int *incomplete)
{
    struct ww_sigscan *s = ww_sigscan_create(db, (int64_t)len);
    const char *got = NULL;
    size_t off = 0;

    if (s == NULL)
        abort(); /* out of memory on a tiny database: not expected under the fuzzer's limit */
    while (off < len && got == NULL) {
        size_t n = rng == NULL ? len : (size_t)(rng_next(rng) % (1u << (rng_next(rng) % 12))) + 1;
        if (n > len - off)
            n = len - off;
        got = ww_sigscan_feed(s, body + off, n);
        off += n;
        if (ww_sigscan_steps(s) > ww_sigscan_step_limit(off))
            abort(); /* a feed overshot the cost bound */
    }
    if (got == NULL)
        got = ww_sigscan_finish(s);
    if (ww_sigscan_steps(s) > ww_sigscan_step_limit(off))
        abort();
    *incomplete = ww_sigscan_incomplete(s) != NULL;
    if (ww_sigscan_steps(s) > ww_sigscan_step_budget(off) && !*incomplete && got == NULL)
        abort(); /* the budget was spent and the body came out clean */
    ww_sigscan_free(s);
    return got;
}

static void md5_hex(const unsigned char *d, size_t len, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;

    EVP_Digest(d, len, md, &n, EVP_md5(), NULL);
    for (i = 0; i < n && i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul;
    size_t sig_len, body_len;
    unsigned flags;
    struct ww_sigdb *db = ww_sigdb_create();
    struct ww_hashdb *hdb = ww_hashdb_create();
    struct plain plain = {NULL, 0};
    unsigned char *body = NULL;
    char *text = NULL, *line, *save = NULL, err[WW_ERRLEN], md5[33] = "";
    uint32_t rng;
    int inc_whole = 0, inc_fed = 0;
    const char *whole, *fed;

    if (size < 1 || db == NULL || hdb == NULL)
        goto out;
    flags = data[0];
    data++;
    size--;
    nul = memchr(data, 0, size);
    sig_len = nul != NULL ? (size_t)(nul - data) : size;
    body_len = nul != NULL ? size - sig_len - 1 : 0;
    text = malloc(sig_len + 1);
    body = malloc(body_len + 1);
    if (text == NULL || body == NULL)
        goto out;
    memcpy(text, data, sig_len);
    text[sig_len] = '\0';
    if (body_len > 0)
        memcpy(body, nul + 1, body_len);
    for (line = strtok_r(text, "\r\n", &save); line != NULL; line = strtok_r(NULL, "\r\n", &save)) {
        size_t h = hex_run(line);
        if ((h == 32 || h == 40 || h == 64) && line[h] == ':') {
            ww_hashdb_add_line(hdb, line, h != 32, err, sizeof(err));
        } else if (ww_sigdb_add_line(db, line, err, sizeof(err)) == WW_OK) {
            plain_note(line, &plain);
        }
    }
    if (ww_sigdb_compile(db) != WW_OK)
        goto out;
    /* Planted: the body holds the plain signature's bytes at an offset the input chooses. */
    if ((flags & 1) && plain.bytes != NULL && plain.len <= body_len) {
        size_t at = body_len > plain.len ? (size_t)(flags >> 2) % (body_len - plain.len + 1) : 0;
        memcpy(body + at, plain.bytes, plain.len);
    }
    if (flags & 2) {
        char hl[80];
        md5_hex(body, body_len, md5);
        snprintf(hl, sizeof(hl), "%s:%zu:Fuzz.Body.Md5", md5, body_len);
        if (ww_hashdb_add_line(hdb, hl, 0, err, sizeof(err)) != WW_OK)
            abort(); /* a well-formed hash line refused */
    }
    if (ww_hashdb_finish(hdb) != WW_OK)
        goto out;
    if (flags & 2) {
        unsigned char dig[16];
        size_t i;
        for (i = 0; i < 16; i++)
            dig[i] = (unsigned char)(ww_hex_val(md5[2 * i]) << 4 | ww_hex_val(md5[2 * i + 1]));
        if (ww_hashdb_lookup(hdb, WW_HASH_MD5, dig, body_len) == NULL)
            abort(); /* the body's own hash signature not found */
    }
    if (ww_sigdb_count(db) == 0)
        goto out;
    rng = 2166136261u ^ (uint32_t)size ^ (uint32_t)flags << 24;
    if (rng == 0)
        rng = 1;
    whole = scan_once(db, body, body_len, NULL, &inc_whole);
    fed = scan_once(db, body, body_len, &rng, &inc_fed);
    if (plain.bytes != NULL && plain.len <= body_len &&
        memmem(body, body_len, plain.bytes, plain.len) != NULL &&
        ((whole == NULL && !inc_whole) || (fed == NULL && !inc_fed)))
        abort(); /* a loaded signature's exact bytes are in the body, and it came out clean */
    if (!inc_whole && !inc_fed && (whole == NULL) != (fed == NULL))
        abort(); /* the verdict depends on how the body was fed */
out:
    free(plain.bytes);
    free(text);
    free(body);
    ww_hashdb_free(hdb);
    ww_sigdb_free(db);
    return 0;
}
