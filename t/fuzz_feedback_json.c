/* t/fuzz_feedback_json.c - libFuzzer target for the feedback server's answer to a batch
 * (ww_feedback_parse_answer). The first byte is the batch size. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "ww_common.h"
#include "ww_feedback.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[160];
    int rc;

    if (size == 0)
        return 0;
    rc = ww_feedback_parse_answer((const char *)data + 1, size - 1, data[0], why, sizeof(why));
    if (rc != WW_OK && rc != WW_EPROTO)
        __builtin_trap();
    return 0;
}
