/* lib/ww_log.h - logging with a pluggable sink (c-icap's log in modules, stderr in tools). */
#ifndef WW_LOG_H
#define WW_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum { WW_LOG_ERR = 1, WW_LOG_WARN = 2, WW_LOG_INFO = 3, WW_LOG_DEBUG = 5 };

/* A sink receives one formatted line without trailing newline. Must be thread-safe. */
typedef void (*ww_log_sink)(int level, const char *line);

/* Installs <sink> (NULL restores the default: stderr with a timestamp) and the highest
 * level that is passed on. Call once at start, before threads. */
void ww_log_set_sink(ww_log_sink sink, int max_level);

/* printf-style; thread-safe; lines are cut at 1024 bytes. */
void ww_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ww_vlog(int level, const char *fmt, va_list ap);

/* Hides all but the last 5 characters of a secret (activation codes, API keys) into <out>:
 * "XX-XXXX-...-A1B2C" becomes "********************************A1B2C". */
void ww_log_mask_secret(const char *secret, char *out, size_t outlen);

/* Rate limit for failure lines on the request path: one line per kind per interval, shared by
 * the threads of a process. Zero-initialise it (static or calloc'd storage). */
enum { WW_LOG_LIMIT_KINDS = 16 };
struct ww_log_limit {
    _Atomic int64_t last_ms[WW_LOG_LIMIT_KINDS];
};
/* 1 if a line of <kind> (0..15; others share the last slot) may be written now, and books it;
 * 0 if one was written less than <interval_ms> ago. Lock-free, thread-safe. */
int ww_log_limit_allow(struct ww_log_limit *l, int kind, int64_t interval_ms);

#endif
