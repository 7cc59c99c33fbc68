/* lib/ww_clock.c - the monotonic clock (see ww_clock.h). */
#include "config.h"

#include <time.h>

#include "ww_clock.h"

int64_t ww_clock_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
