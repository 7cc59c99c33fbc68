/* t/fuzz_license_json.c - libFuzzer target for the license server's answer
 * (ww_license_parse_answer). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ww_common.h"
#include "ww_license.h"
#include "ww_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ww_license lic;
    char why[160];
    long days;

    memset(&lic, 0, sizeof(lic));
    if (ww_license_parse_answer((const char *)data, size, &lic, why, sizeof(why)) != WW_OK)
        return 0;
    /* what was accepted must be a license the store and status can show */
    if (strnlen(lic.status, sizeof(lic.status)) == sizeof(lic.status) ||
        strnlen(lic.product, sizeof(lic.product)) == sizeof(lic.product) ||
        strnlen(lic.edition, sizeof(lic.edition)) == sizeof(lic.edition) ||
        strnlen(lic.expires, sizeof(lic.expires)) == sizeof(lic.expires) || lic.seats < 0 ||
        lic.grace_days < 0)
        __builtin_trap();
    if (strcmp(lic.status, "invalid") != 0 && ww_license_parse_date(lic.expires, &days) != WW_OK)
        __builtin_trap();
    return 0;
}
