/* t/fuzz_rep_json.c - libFuzzer target for the reputation answer parser (ww_rep_parse_rating).
 * Build and run: make fuzz-rep-json && ./t/fuzz_rep_json -max_total_time=60 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ww_common.h"
#include "ww_policy.h"
#include "ww_rep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ww_rating r;
    char why[160];

    if (ww_rep_parse_rating((const char *)data, size, &r, why, sizeof(why)) == WW_OK) {
        /* whatever parsed must be a rating the rest of the code can trust */
        if (r.score < 0 || r.score > 100 || r.ncategories < 0 ||
            r.ncategories > WW_REP_MAX_CATEGORIES)
            __builtin_trap();
        for (int i = 0; i < r.ncategories; i++)
            if (strnlen(r.categories[i], WW_REP_CATEGORY_LEN) == 0 ||
                strnlen(r.categories[i], WW_REP_CATEGORY_LEN) == WW_REP_CATEGORY_LEN)
                __builtin_trap(); /* empty or unterminated */
    }
    return 0;
}
