/* t/fuzz_decode.c - libFuzzer target: the Content-Encoding chain (issue 12).
 *
 * Input: a Content-Encoding header line, a NUL byte, then the body (fed in chunks whose sizes
 * come from the body's first byte). Checks the bounds the scanner relies on: never more out than
 * max_expanded, never past the ratio once its floor is passed, and a chain that stopped stays
 * stopped. Built by `make fuzz` (mk/fuzz.am); seeds in t/fuzz-cases/fuzz_decode/.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_decode.h"

#define FUZZ_MAX_OUT (4 << 20)
#define FUZZ_RATIO 100

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct count {
    size_t out;
};

static int count_sink(const void *p, size_t len, void *arg)
{
    struct count *c = arg;

    (void)p;
    c->out += len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t hdr_len = nul != NULL ? (size_t)(nul - data) : size;
    const uint8_t *body = nul != NULL ? nul + 1 : data + size;
    size_t body_len = nul != NULL ? size - hdr_len - 1 : 0, off, chunk;
    char *line = malloc(hdr_len + 1);
    struct ww_encodings e;
    struct ww_decode *d;
    struct count c = {0};
    int rc = WW_OK;

    if (line == NULL)
        return 0;
    memcpy(line, data, hdr_len);
    line[hdr_len] = '\0';
    ww_encodings_init(&e);
    ww_encodings_add_line(&e, line);
    ww_encodings_add_value(&e, line, hdr_len);
    free(line);
    if (e.n > WW_DECODE_MAX_CODINGS || memchr(e.bad, '\0', sizeof(e.bad)) == NULL)
        abort();
    d = ww_decode_create_chain(&e, FUZZ_MAX_OUT, FUZZ_RATIO);
    if (d == NULL)
        return 0;
    chunk = body_len > 0 ? (size_t)(body[0] % 61) + 1 : 1;
    for (off = 0; off < body_len && rc == WW_OK; off += chunk)
        rc = ww_decode_feed(d, body + off, body_len - off < chunk ? body_len - off : chunk,
                            count_sink, &c);
    if (c.out > FUZZ_MAX_OUT || (int64_t)c.out != ww_decode_bytes_out(d))
        abort();
    if (c.out > (1u << 20) && (int64_t)c.out / (ww_decode_bytes_in(d) + 1) > FUZZ_RATIO + 1)
        abort();
    if (rc != WW_OK && ww_decode_feed(d, body, body_len > 0 ? 1 : 0, count_sink, &c) != rc)
        abort(); /* errors are sticky */
    ww_decode_finish(d);
    ww_decode_free(d);
    return 0;
}
