/* lib/ww_scanreq.h - one RESPMOD request around its body pipeline (lib/ww_body): the setup from
 * the response's header values (limits, the policy's max_size, hold_all, the Content-Encoding
 * list, the partial-response verdict of lib/ww_range), the smart-scan hook, and the report of its
 * outcome (access-log attributes, the server log line, the event, the range memory and the
 * block-page fields). It knows nothing of c-icap: modules/srv_webwarden_scan.c reads the
 * headers, calls this, and maps what it returns. */
#ifndef WW_SCANREQ_H
#define WW_SCANREQ_H

#include <stddef.h>
#include <stdint.h>

#include "ww_body.h"
#include "ww_child.h"
#include "ww_clamav.h"
#include "ww_deepscan.h"
#include "ww_conf.h"
#include "ww_filerep.h"
#include "ww_html.h"
#include "ww_policies.h"
#include "ww_range.h"

/* Content-Encoding header lines kept; one more is the sign that a coding may hide (issue 12). */
#define WW_SCANREQ_CODINGS 8
#define WW_SCANREQ_TOO_MANY_CODINGS "x-too-many-content-encoding-lines"

/* What the child gives every request (borrowed for the request's life). */
struct ww_scanreq_env {
    const char *svc;            /* log prefix, "webwarden_scan" */
    const struct ww_conf *conf; /* [scan] and [clamav] limits */
    struct ww_child *rt;        /* signatures, scan method, range memory, detection queue */
    struct ww_clamav *deep;     /* the deep scanner, NULL = none */
    uint64_t deep_types;        /* the file types it scans (ww_filetype_set_parse) */
    struct ww_filerep *smart;   /* this child's smart-scan lookup, NULL = none configured */
};

/* The response's header values, as the module read them (borrowed during ww_scanreq_start). */
struct ww_scanreq_headers {
    const char *status_line;   /* "HTTP/1.1 206 Partial Content", NULL = none */
    const char *content_range; /* NULL = absent, likewise below */
    const char *etag;
    const char *last_modified;
    const char *const *codings; /* every Content-Encoding value in order, at most */
    size_t ncodings;            /* WW_SCANREQ_CODINGS + 1 (the module stops reading there) */
    int64_t content_length;     /* -1 = unknown */
    const char *args;           /* the service's arguments (hold_all=on|off), NULL = none */
    int has_body;
    int allow204; /* the proxy sent Allow: 204 */
};

struct ww_scanreq; /* one request; one thread at a time */

/* A request for <url> (copied, cut to WW_URL_MAX), its clock started now. NULL if out of
 * memory. Caller owns it: ww_scanreq_free (NULL is a no-op). */
struct ww_scanreq *ww_scanreq_create(const char *url);
void ww_scanreq_free(struct ww_scanreq *sq);

/* Sets the request up under <policy> (NULL = the [scan] defaults) and starts its body scan: the
 * limits of scan.* with the service's hold_all= and the policy's max_size; "drop" (hold_all with
 * Allow: 204: nothing is kept to send); the SHA-256 only while smart scan may look it up; the deep
 * scanner; a partial response (206 / Content-Range) of a URL cut or blocked in the last day is
 * refused before any byte, and any other one too with scan.partial_action = block. Returns
 * WW_BODY_CLEAN when there is no body (answer 204, report it), WW_BODY_MORE (feed the body),
 * WW_BODY_BLOCK (send the block page), WW_BODY_UNSCANNED (passed before any byte: answer 204), or
 * WW_ENOMEM. Never blocks on I/O (the range memory is read from the child's queue and store). */
int ww_scanreq_start(struct ww_scanreq *sq, const struct ww_scanreq_env *env,
                     const struct ww_policy *policy, const struct ww_scanreq_headers *h);

/* The body pipeline, NULL before ww_scanreq_start (or without a body). Borrowed. */
struct ww_body *ww_scanreq_body(const struct ww_scanreq *sq);
/* 1 when the answer can only be 204 or the block page (hold_all with Allow: 204). */
int ww_scanreq_drop(const struct ww_scanreq *sq);
const char *ww_scanreq_url(const struct ww_scanreq *sq); /* borrowed */

/* The body ended: ww_body_end with the smart-scan hook (a body the local patterns found clean,
 * while the scan method is smart: at most smart_scan.timeout_ms), and a part's bytes
 * (WW_RANGE_PARTIAL) are never clean: CLEAN then carries the reason "partial content", which the
 * report makes "unscanned". Returns what ww_body_end returns. */
int ww_scanreq_end(struct ww_scanreq *sq, int answer_started);

/* How a request ended, for the module's statistics. */
enum ww_scanreq_outcome {
    WW_SCANREQ_NO_BODY = 0, /* nothing to scan: allowed, not counted */
    WW_SCANREQ_CLEAN,
    WW_SCANREQ_BLOCKED,
    WW_SCANREQ_CUT, /* blocked after bytes went out */
    WW_SCANREQ_UNSCANNED
};

#define WW_SCANREQ_ATTRS 12
struct ww_scanreq_report {
    enum ww_scanreq_outcome outcome;
    /* The access-log attributes ("webwarden:action" ...) in order; a value NULL or "" is "-".
     * Values are borrowed from this report and the request until either goes. */
    struct {
        const char *name, *value;
    } attrs[WW_SCANREQ_ATTRS];
    size_t nattrs;
    char reason[400], size[24], ms[24];
};

/* Reports the request's end after <d> (a decision of ww_scanreq_start, ww_body_put or
 * ww_scanreq_end: WW_BODY_CLEAN, BLOCK, CUT or UNSCANNED): the server log line (BLOCKED or
 * UNSCANNED with the URL), the scan counters, the range memory of a URL cut or blocked, the event
 * of a detection (not of a policy such as scan.oversize_action: those name a reason), and the
 * access-log attributes in <out>. A CLEAN body that carries a reason (a deep-scan limit, a part)
 * is reported unscanned. */
void ww_scanreq_report(struct ww_scanreq *sq, int d, struct ww_scanreq_report *out);

/* The fields of a blocked request's page and ICAP headers. */
#define WW_SCANREQ_PAGE_VARS 9
struct ww_scanreq_page {
    struct ww_page_var vars[WW_SCANREQ_PAGE_VARS]; /* raw: ww_page_render escapes them */
    char reason[400];
    char infection[512]; /* "X-Infection-Found: Type=0; Resolution=2; Threat=NAME;" */
    char virus_id[512];  /* "X-Virus-ID: NAME" */
};
/* Fills <pg> for the blocked request <sq>: title, url, reason, threat, policy ("default" without
 * one), service <svc> and time <when>. Values are borrowed from <pg>, <sq> and the arguments. */
void ww_scanreq_page(const struct ww_scanreq *sq, const char *svc, const char *when,
                     struct ww_scanreq_page *pg);

#endif
