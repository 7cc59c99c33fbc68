/* lib/ww_range.h - partial content and resumed downloads (issue 12 part 1).
 *
 * A download cut after a late detection must not be completed by resuming it: the client sends
 * `Range: bytes=N-` (curl -C -, wget --tries) and the origin answers 206 with the tail, which
 * alone looks clean. Two defences, both decided here:
 *  - REQMOD, scan.range = strip (default): Range and If-Range are removed from the request, so
 *    the whole object is fetched and scanned; pass leaves them.
 *  - RESPMOD: a partial response (206, or any Content-Range) for a URL Webwarden cut or blocked
 *    within WW_RANGE_TTL_S gets the block page (WW_THREAT_RESUMED). The validators (ETag,
 *    Last-Modified) are remembered for the admin but never unblock: an origin that serves malware
 *    chooses its own validators. A partial response for a URL not remembered is scanned as
 *    partial content and logged so ("partial content"): its bytes alone are not the file; with
 *    scan.partial_action = block it is refused (ww_body_partial), so a resume under another URL
 *    (a query string the origin ignores) cannot complete a cut file either. */
#ifndef WW_RANGE_H
#define WW_RANGE_H

#include <stddef.h>
#include <stdint.h>

#define WW_RANGE_TTL_S 86400 /* how long a cut or blocked URL is remembered (1 day) */
#define WW_THREAT_RESUMED "Webwarden.Policy.ResumedBlocked"

enum ww_range_policy { WW_RANGE_STRIP = 0, WW_RANGE_PASS = 1 };

/* `Range: bytes=first-last` (last -1: open end; first -1: a suffix of <last> bytes). */
struct ww_range_req {
    int64_t first, last;
    int count; /* ranges in the set */
};
/* Parses a Range value (after "Range:"). WW_OK with the first range of the set, WW_EINVAL for
 * anything else (another unit, a bad number, first > last, an empty set). */
int ww_range_parse(const char *value, struct ww_range_req *out);

/* `Content-Range: bytes first-last/total` (total -1 for '*'); `bytes * /total` (unsatisfied)
 * gives first = last = -1. */
struct ww_content_range {
    int64_t first, last, total;
};
/* WW_OK or WW_EINVAL (last < first, last >= a known total, another unit, garbage). */
int ww_range_parse_content_range(const char *value, struct ww_content_range *out);

/* REQMOD: 1 when the request's Range / If-Range headers must be removed (policy strip and
 * either is present, well-formed or not), else 0. */
int ww_range_strip(enum ww_range_policy policy, int has_range, int has_if_range);

enum ww_range_verdict {
    WW_RANGE_WHOLE = 0, /* a whole object: scanned as usual */
    WW_RANGE_PARTIAL,   /* a part of an object not remembered: scanned as partial content */
    WW_RANGE_BLOCK      /* a part of an object that was cut or blocked: the block page */
};
/* RESPMOD: the response with HTTP <status> and a Content-Range header (<content_range>, NULL =
 * none) for a URL <remembered> (1) or not (0). A malformed Content-Range counts as partial. */
enum ww_range_verdict ww_range_response(int status, const char *content_range, int remembered);

/* A remembered URL is still in force at <now> when it was written at <at> (TTL). */
int ww_range_memo_live(int64_t at, int64_t now, int64_t ttl_s);

#endif
