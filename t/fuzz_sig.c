/* t/fuzz_sig.c - libFuzzer target: .ndb lines through the parser and compiler, then a scan.
 *
 * Input: signature lines, a NUL byte, then the body (fed in chunks whose sizes come from the
 * body's first byte). Not part of the build; after ./configure:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ilib t/fuzz_sig.c lib/ww_sig.c \
 *       lib/ww_log.c -o fuzz_sig && ./fuzz_sig -max_total_time=120 t/cases/patterns
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t sig_len = nul != NULL ? (size_t)(nul - data) : size;
    const uint8_t *body = nul != NULL ? nul + 1 : data;
    size_t body_len = nul != NULL ? size - sig_len - 1 : size;
    struct ww_sigdb *db = ww_sigdb_create();
    struct ww_sigscan *s;
    char *text = malloc(sig_len + 1), *line, *save = NULL, err[WW_ERRLEN];
    size_t off, chunk;

    if (db == NULL || text == NULL)
        goto out;
    memcpy(text, data, sig_len);
    text[sig_len] = '\0';
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
        ww_sigdb_add_line(db, line, err, sizeof(err));
    if (ww_sigdb_compile(db) != WW_OK || ww_sigdb_count(db) == 0)
        goto out;
    s = ww_sigscan_create(db, (int64_t)body_len);
    if (s == NULL)
        goto out;
    chunk = body_len > 0 ? (size_t)(body[0] % 17) + 1 : 1;
    for (off = 0; off < body_len; off += chunk)
        ww_sigscan_feed(s, body + off, body_len - off < chunk ? body_len - off : chunk);
    ww_sigscan_finish(s);
    ww_sigscan_free(s);
out:
    free(text);
    ww_sigdb_free(db);
    return 0;
}
