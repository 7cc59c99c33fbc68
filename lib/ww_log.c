/* lib/ww_log.c - logging with a pluggable sink. */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ww_clock.h"
#include "ww_common.h"
#include "ww_log.h"

static ww_log_sink log_sink;
static int log_max_level = WW_LOG_INFO;

void ww_log_set_sink(ww_log_sink sink, int max_level)
{
    log_sink = sink;
    log_max_level = max_level;
}

void ww_vlog(int level, const char *fmt, va_list ap)
{
    char line[1024];

    if (level > log_max_level)
        return;
    vsnprintf(line, sizeof(line), fmt, ap);
    if (log_sink != NULL) {
        log_sink(level, line);
        return;
    }
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
    static const char *const names[] = {"", "error", "warning", "info", "info", "debug"};
    const char *name = level >= 1 && level <= 5 ? names[level] : "debug";
    fprintf(stderr, "%s webwarden %s: %s\n", stamp, name, line);
}

void ww_log(int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ww_vlog(level, fmt, ap);
    va_end(ap);
}

void ww_log_mask_secret(const char *secret, char *out, size_t outlen)
{
    size_t len = secret != NULL ? strlen(secret) : 0;
    size_t keep = len > 5 ? 5 : 0;
    size_t i;

    if (outlen == 0)
        return;
    for (i = 0; i + keep < len && i + 1 < outlen; i++)
        out[i] = '*';
    if (keep > 0 && i + keep < outlen) {
        memcpy(out + i, secret + len - keep, keep);
        i += keep;
    }
    out[i < outlen ? i : outlen - 1] = '\0';
}

const char *ww_strerror(int rc)
{
    switch (rc) {
    case WW_OK:
        return "ok";
    case WW_ENOMEM:
        return "out of memory";
    case WW_EIO:
        return "i/o error";
    case WW_EINVAL:
        return "invalid input";
    case WW_ETOOBIG:
        return "too big";
    case WW_EDB:
        return "database error";
    case WW_ETIMEOUT:
        return "timeout";
    case WW_EPROTO:
        return "malformed answer";
    case WW_ENOTFOUND:
        return "not found";
    case WW_EBUSY:
        return "busy";
    case WW_EUNAVAIL:
        return "unavailable";
    default:
        return "unknown error";
    }
}

int ww_log_limit_allow(struct ww_log_limit *l, int kind, int64_t interval_ms)
{
    int64_t now = ww_clock_ms(), last;

    if (kind < 0 || kind >= WW_LOG_LIMIT_KINDS)
        kind = WW_LOG_LIMIT_KINDS - 1;
    last = atomic_load_explicit(&l->last_ms[kind], memory_order_relaxed);
    if (last != 0 && now - last < interval_ms)
        return 0;
    return atomic_compare_exchange_strong(&l->last_ms[kind], &last, now);
}
