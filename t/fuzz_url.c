/* t/fuzz_url.c - libFuzzer target for lib/ww_url.c (not part of the build). After ./configure:
 *   clang -g -fsanitize=fuzzer,address,undefined -Ilib -I. lib/ww_url.c lib/ww_log.c \
 *       t/fuzz_url.c -o fuzz_url && ./fuzz_url -max_total_time=120 -max_len=20000
 * Checks more than "no crash": canonical URLs are fixed points of ww_url_canon, and their
 * host/path split and lookup expressions always work. Crashes found become cases in
 * t/check_url.c. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_url.h"

static int count_expression(const char *host, const char *path, void *arg)
{
    size_t *n = arg;

    if (host[0] == '\0' || path[0] != '/')
        abort();
    (*n)++;
    return 0;
}

static void check_canonical(const char *canon)
{
    static char again[WW_URL_MAX], host[WW_URL_MAX], path[WW_URL_MAX];
    size_t n = 0;

    if (ww_url_canon(canon, again, sizeof(again)) != WW_OK || strcmp(again, canon) != 0)
        abort(); /* not idempotent */
    if (ww_url_host(canon, host, sizeof(host)) != WW_OK ||
        ww_url_path(canon, path, sizeof(path)) != WW_OK)
        abort();
    ww_url_each_expression(canon, count_expression, &n);
    if (n == 0 || n > 30)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char out[WW_URL_MAX];
    char *in = malloc(size + 1);

    if (in == NULL)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0'; /* inputs stop at the first NUL, as C strings do */

    if (ww_url_canon(in, out, sizeof(out)) == WW_OK)
        check_canonical(out);
    /* Small buffers must fail cleanly, never write past their end. */
    char small[24];
    if (ww_url_canon(in, small, sizeof(small)) == WW_OK)
        check_canonical(small);

    /* The first byte picks the request shape; the rest is split at the first '\n' into target
     * and Host header. */
    static const char *const methods[] = {"GET", "CONNECT", "POST", "connect"};
    const char *method = methods[size > 0 ? data[0] % 4 : 0];
    char *target = size > 0 ? in + 1 : in;
    char *host = strchr(target, '\n');
    if (host != NULL)
        *host++ = '\0';
    if (ww_url_from_request(method, target, host, out, sizeof(out)) == WW_OK)
        check_canonical(out);

    /* Expressions on arbitrary text must not crash either. */
    size_t n = 0;
    ww_url_each_expression(in, count_expression, &n);
    free(in);
    return 0;
}
