/* lib/ww_range.c - Range, Content-Range and the partial-content decisions (see ww_range.h). */
#include "config.h"

#include "ww_range.h"

#include <ctype.h>
#include <strings.h>

#include "ww_common.h"

static const char *range_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A decimal number without sign; NULL on none or overflow. */
static const char *range_num(const char *p, int64_t *out)
{
    int64_t v = 0;

    if (!isdigit((unsigned char)*p))
        return NULL;
    for (; isdigit((unsigned char)*p); p++) {
        if (v > (INT64_MAX - 9) / 10)
            return NULL;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return p;
}

static int range_unit(const char **p, char sep)
{
    const char *q = range_ws(*p);

    if (strncasecmp(q, "bytes", 5) != 0)
        return 0;
    q += 5;
    if (sep == '=') {
        q = range_ws(q);
        if (*q != '=')
            return 0;
        q++;
    } else if (*q != ' ' && *q != '\t') {
        return 0;
    }
    *p = range_ws(q);
    return 1;
}

int ww_range_parse(const char *value, struct ww_range_req *out)
{
    const char *p = value;
    int n = 0;

    if (value == NULL || out == NULL || !range_unit(&p, '='))
        return WW_EINVAL;
    for (;;) {
        int64_t first = -1, last = -1;
        p = range_ws(p);
        if (*p == '-') { /* suffix: the last N bytes */
            p = range_num(p + 1, &last);
            if (p == NULL || last == 0)
                return WW_EINVAL;
        } else {
            p = range_num(p, &first);
            if (p == NULL || *p != '-')
                return WW_EINVAL;
            p++;
            if (isdigit((unsigned char)*p)) {
                p = range_num(p, &last);
                if (p == NULL || last < first)
                    return WW_EINVAL;
            }
        }
        if (n == 0) {
            out->first = first;
            out->last = last;
        }
        n++;
        p = range_ws(p);
        if (*p == '\0' || *p == '\r' || *p == '\n')
            break;
        if (*p != ',')
            return WW_EINVAL;
        p++;
    }
    out->count = n;
    return WW_OK;
}

int ww_range_parse_content_range(const char *value, struct ww_content_range *out)
{
    const char *p = value;

    if (value == NULL || out == NULL || !range_unit(&p, ' '))
        return WW_EINVAL;
    out->first = out->last = out->total = -1;
    if (*p == '*') {
        p++;
    } else {
        p = range_num(p, &out->first);
        if (p == NULL || *p != '-')
            return WW_EINVAL;
        p = range_num(p + 1, &out->last);
        if (p == NULL || out->last < out->first)
            return WW_EINVAL;
    }
    if (*p != '/')
        return WW_EINVAL;
    p++;
    if (*p == '*') {
        if (out->first < 0) /* both unknown: says nothing */
            return WW_EINVAL;
        p++;
    } else {
        p = range_num(p, &out->total);
        if (p == NULL || (out->last >= 0 && out->last >= out->total))
            return WW_EINVAL;
    }
    p = range_ws(p);
    return *p == '\0' || *p == '\r' || *p == '\n' ? WW_OK : WW_EINVAL;
}

int ww_range_strip(enum ww_range_policy policy, int has_range, int has_if_range)
{
    return policy == WW_RANGE_STRIP && (has_range || has_if_range);
}

enum ww_range_verdict ww_range_response(int status, const char *content_range, int remembered)
{
    if (status != 206 && content_range == NULL)
        return WW_RANGE_WHOLE;
    return remembered ? WW_RANGE_BLOCK : WW_RANGE_PARTIAL;
}

int ww_range_memo_live(int64_t at, int64_t now, int64_t ttl_s)
{
    return at <= now + 60 && now - at < ttl_s; /* a clock stepped back a little still counts */
}
