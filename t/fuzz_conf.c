/* t/fuzz_conf.c - libFuzzer target: any bytes as webwarden.conf must load or fail cleanly.
 * Build (not part of make): clang -fsanitize=fuzzer,address -Ilib -I. lib/ww_conf.c lib/ww_log.c
 * t/fuzz_conf.c -o fuzz_conf */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz_conf.XXXXXX";
    char err[WW_ERRLEN];
    struct ww_conf *conf = NULL;
    char *dump = NULL;
    int fd = mkstemp(path);
    FILE *fp;
    int rc;

    if (fd < 0)
        abort();
    fp = fdopen(fd, "w");
    if (fp == NULL || fwrite(data, 1, size, fp) != size || fclose(fp) != 0)
        abort();
    rc = ww_conf_load(path, &conf, err, sizeof(err));
    if (rc == WW_OK) {
        /* A loaded config dumps, and the dump loads again. */
        if (conf == NULL || ww_conf_dump(conf, &dump) != WW_OK)
            abort();
        fp = fopen(path, "w");
        if (fp == NULL || fputs(dump, fp) < 0 || fclose(fp) != 0)
            abort();
        ww_conf_free(conf);
        conf = NULL;
        if (ww_conf_load(path, &conf, err, sizeof(err)) != WW_OK) {
            fprintf(stderr, "dump does not reload: %s\n%s", err, dump);
            abort();
        }
        free(dump);
    } else if (conf != NULL || strlen(err) == 0) {
        abort(); /* a failure leaves *out untouched and always says why */
    }
    ww_conf_free(conf);
    unlink(path);
    return 0;
}
