/* t/fuzz_manifest_json.c - libFuzzer target for the update server's manifest
 * (ww_update_parse_manifest), with and without a download limit (first byte). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "ww_common.h"
#include "ww_update.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    int rc;

    if (size == 0)
        return 0;
    rc = ww_update_parse_manifest((const char *)data + 1, size - 1, (data[0] & 1) ? 4096 : 0, why,
                                  sizeof(why));
    if (rc != WW_OK && rc != WW_EPROTO && rc != WW_ETOOBIG)
        __builtin_trap();
    return 0;
}
