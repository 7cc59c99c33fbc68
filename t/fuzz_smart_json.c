/* t/fuzz_smart_json.c - libFuzzer target for the Smart Protection Server's answers: the file
 * verdict (ww_filerep_parse_verdict) and the health answer (ww_filerep_parse_health). The first
 * byte picks the parser. Run: make fuzz && ./t/fuzz_smart_json -max_total_time=60 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ww_common.h"
#include "ww_filerep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ww_file_verdict v;
    char why[160];

    if (size == 0)
        return 0;
    if (data[0] & 1) {
        if (ww_filerep_parse_health((const char *)data + 1, size - 1, why, sizeof(why)) == WW_OK &&
            strcmp(why, "ok") != 0)
            __builtin_trap();
        return 0;
    }
    if (ww_filerep_parse_verdict((const char *)data + 1, size - 1, &v, why, sizeof(why)) == WW_OK) {
        /* what parsed must be a verdict the module can act on */
        size_t n = strnlen(v.name, sizeof(v.name));
        if (n == sizeof(v.name) || v.ttl_s < -1 || (v.verdict == WW_FILEREP_MALICIOUS && n == 0) ||
            (v.verdict != WW_FILEREP_MALICIOUS && v.verdict != WW_FILEREP_CLEAN &&
             v.verdict != WW_FILEREP_UNKNOWN))
            __builtin_trap();
    } else if (v.verdict != WW_FILEREP_SKIPPED) {
        __builtin_trap(); /* a refused answer leaves the lookup "skipped" */
    }
    return 0;
}
