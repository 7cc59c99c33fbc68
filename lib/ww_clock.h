/* lib/ww_clock.h - the monotonic clock, for deadlines, budgets and rate limits (never the wall
 * clock, which an admin or NTP may step). Thread-safe, never blocks. */
#ifndef WW_CLOCK_H
#define WW_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC: only differences mean something. */
int64_t ww_clock_ms(void);

#endif
