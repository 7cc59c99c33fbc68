/* lib/ww_prom.c - Prometheus text exposition writer (see ww_prom.h). */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_prom.h"

struct ww_prom {
    char *buf;
    size_t len, size, cap;
    int err;
};

struct ww_prom *ww_prom_create(size_t cap)
{
    struct ww_prom *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->cap = cap > 0 ? cap : 1 << 20;
    p->size = 4096;
    p->buf = malloc(p->size);
    if (p->buf == NULL) {
        free(p);
        return NULL;
    }
    p->buf[0] = '\0';
    return p;
}

void ww_prom_free(struct ww_prom *p)
{
    if (p == NULL)
        return;
    free(p->buf);
    free(p);
}

static void prom_put(struct ww_prom *p, const char *s, size_t n)
{
    if (p->err != WW_OK)
        return;
    if (p->len + n > p->cap) {
        p->err = WW_ETOOBIG;
        return;
    }
    if (p->len + n + 1 > p->size) {
        size_t want = p->size;
        char *bigger;

        while (p->len + n + 1 > want)
            want *= 2;
        if (want > p->cap + 1)
            want = p->cap + 1;
        bigger = realloc(p->buf, want);
        if (bigger == NULL) {
            p->err = WW_ENOMEM;
            return;
        }
        p->buf = bigger;
        p->size = want;
    }
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

static void prom_puts(struct ww_prom *p, const char *s)
{
    prom_put(p, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void prom_printf(struct ww_prom *p, const char *fmt,
                                                              ...)
{
    char tmp[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        if (p->err == WW_OK)
            p->err = WW_EINVAL;
        return;
    }
    prom_put(p, tmp, (size_t)n);
}

static int prom_name_ok(const char *name)
{
    if (name == NULL || name[0] == '\0' || (name[0] >= '0' && name[0] <= '9'))
        return 0;
    for (const char *c = name; *c != '\0'; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == ':'))
            return 0;
    return 1;
}

/* Label values escape \, " and newline; help text escapes \ and newline only. */
static void prom_escaped(struct ww_prom *p, const char *s, int quote)
{
    const char *run = s;

    for (; *s != '\0'; s++) {
        const char *rep = NULL;

        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '\n')
            rep = "\\n";
        else if (*s == '"' && quote)
            rep = "\\\"";
        if (rep == NULL)
            continue;
        prom_put(p, run, (size_t)(s - run));
        prom_puts(p, rep);
        run = s + 1;
    }
    prom_put(p, run, (size_t)(s - run));
}

void ww_prom_family(struct ww_prom *p, const char *name, const char *type, const char *help)
{
    if (p == NULL || p->err != WW_OK)
        return;
    if (!prom_name_ok(name)) {
        p->err = WW_EINVAL;
        return;
    }
    prom_puts(p, "# HELP ");
    prom_puts(p, name);
    prom_puts(p, " ");
    prom_escaped(p, help != NULL ? help : "", 0);
    prom_puts(p, "\n# TYPE ");
    prom_puts(p, name);
    prom_puts(p, " ");
    prom_puts(p, type);
    prom_puts(p, "\n");
}

/* The shortest of %.15g, %.17g that reads back as <v>: 0.005, not 0.0050000000000000001. */
static void prom_double(char *out, size_t len, double v)
{
    snprintf(out, len, "%.15g", v);
    if (strtod(out, NULL) != v)
        snprintf(out, len, "%.17g", v);
}

static void prom_value(struct ww_prom *p, double v)
{
    char num[64];

    if (isnan(v))
        prom_puts(p, "NaN");
    else if (isinf(v))
        prom_puts(p, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 9007199254740992.0) /* 2^53: exact as an integer */
        prom_printf(p, "%.0f", v);
    else {
        prom_double(num, sizeof(num), v);
        prom_puts(p, num);
    }
}

/* <name>{labels[,extra_key="extra_val"]} */
static void prom_series(struct ww_prom *p, const char *name, const char *const *labels,
                        const char *extra_key, const char *extra_val)
{
    int first = 1;

    if (!prom_name_ok(name)) {
        if (p->err == WW_OK)
            p->err = WW_EINVAL;
        return;
    }
    prom_puts(p, name);
    for (size_t i = 0; labels != NULL && labels[i] != NULL && labels[i + 1] != NULL; i += 2) {
        if (!prom_name_ok(labels[i]) || strchr(labels[i], ':') != NULL) {
            if (p->err == WW_OK)
                p->err = WW_EINVAL;
            return;
        }
        prom_puts(p, first ? "{" : ",");
        prom_puts(p, labels[i]);
        prom_puts(p, "=\"");
        prom_escaped(p, labels[i + 1], 1);
        prom_puts(p, "\"");
        first = 0;
    }
    if (extra_key != NULL) {
        prom_puts(p, first ? "{" : ",");
        prom_puts(p, extra_key);
        prom_puts(p, "=\"");
        prom_puts(p, extra_val);
        prom_puts(p, "\"");
        first = 0;
    }
    if (!first)
        prom_puts(p, "}");
    prom_puts(p, " ");
}

void ww_prom_sample(struct ww_prom *p, const char *name, const char *const *labels, double value)
{
    if (p == NULL || p->err != WW_OK)
        return;
    prom_series(p, name, labels, NULL, NULL);
    prom_value(p, value);
    prom_puts(p, "\n");
}

void ww_prom_histogram(struct ww_prom *p, const char *name, const char *const *labels,
                       const double *le, const uint64_t *counts, size_t n, double sum)
{
    char series[256], bound[64];
    uint64_t cum = 0;

    if (p == NULL || p->err != WW_OK)
        return;
    if (snprintf(series, sizeof(series), "%s_bucket", name) >= (int)sizeof(series)) {
        p->err = WW_EINVAL;
        return;
    }
    for (size_t i = 0; i <= n; i++) {
        cum += counts[i];
        if (i < n)
            prom_double(bound, sizeof(bound), le[i]);
        prom_series(p, series, labels, "le", i < n ? bound : "+Inf");
        prom_printf(p, "%llu\n", (unsigned long long)cum);
    }
    snprintf(series, sizeof(series), "%s_sum", name);
    prom_series(p, series, labels, NULL, NULL);
    prom_value(p, sum);
    prom_puts(p, "\n");
    snprintf(series, sizeof(series), "%s_count", name);
    prom_series(p, series, labels, NULL, NULL);
    prom_printf(p, "%llu\n", (unsigned long long)cum);
}

int ww_prom_error(const struct ww_prom *p)
{
    return p == NULL ? WW_EINVAL : p->err;
}

const char *ww_prom_text(const struct ww_prom *p)
{
    return p->buf;
}

size_t ww_prom_len(const struct ww_prom *p)
{
    return p->len;
}

char *ww_prom_take(struct ww_prom *p, size_t *len)
{
    char *out;

    if (p == NULL || p->err != WW_OK)
        return NULL;
    out = p->buf;
    *len = p->len;
    p->buf = malloc(4096);
    p->size = 4096;
    p->len = 0;
    if (p->buf == NULL)
        p->err = WW_ENOMEM;
    else
        p->buf[0] = '\0';
    return out;
}
