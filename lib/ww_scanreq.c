/* lib/ww_scanreq.c - one RESPMOD request: setup from the header values, the smart-scan hook, the
 * report of its outcome and the block-page fields (lib/ww_scanreq.h). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ww_common.h"
#include "ww_counters.h"
#include "ww_log.h"
#include "ww_scanreq.h"

_Static_assert(WW_CTR_UNSCANNED_LAST - WW_CTR_UNSCANNED_FIRST ==
                   WW_UNSCANNED_N - 1 - WW_UNSCANNED_SIZE,
               "a counter for every kind of unscanned answer");

struct ww_scanreq {
    struct ww_scanreq_env env; /* copied at start; its pointers are borrowed */
    struct ww_body *body;      /* NULL until started (or without a body) */
    const struct ww_policy *policy;
    int64_t expected; /* Content-Length, -1 if unknown */
    int drop;
    int started;
    enum ww_range_verdict range; /* whole, a part, or a refused resume (issue 12) */
    const char *smart;           /* webwarden:smart once the hook ran, NULL before */
    struct timespec t0;
    /* The validators, copied at the start: the module's header buffers may be packed by the
     * time the body ends. */
    char etag[128];
    char last_modified[64];
    char url[]; /* as long as the URL (at most WW_URL_MAX with its NUL): read only */
};

struct ww_scanreq *ww_scanreq_create(const char *url)
{
    /* Only the URL's bytes are allocated and cleared, not WW_URL_MAX: every request has one. */
    size_t n = url != NULL ? strnlen(url, WW_URL_MAX - 1) : 0;
    struct ww_scanreq *sq = calloc(1, sizeof(*sq) + n + 1);

    if (sq == NULL)
        return NULL;
    sq->expected = -1;
    if (n > 0)
        memcpy(sq->url, url, n);
    clock_gettime(CLOCK_MONOTONIC, &sq->t0);
    return sq;
}

void ww_scanreq_free(struct ww_scanreq *sq)
{
    if (sq == NULL)
        return;
    ww_body_free(sq->body);
    free(sq);
}

struct ww_body *ww_scanreq_body(const struct ww_scanreq *sq)
{
    return sq != NULL ? sq->body : NULL;
}

int ww_scanreq_drop(const struct ww_scanreq *sq)
{
    return sq != NULL && sq->drop;
}

const char *ww_scanreq_url(const struct ww_scanreq *sq)
{
    return sq != NULL ? sq->url : "";
}

/* A partial response (206, Content-Range; issue 12): a URL that was cut or blocked in the last
 * day is WW_RANGE_BLOCK; any other part is scanned as partial content and logged so at its end. */
static enum ww_range_verdict scanreq_range(struct ww_scanreq *sq,
                                           const struct ww_scanreq_headers *h)
{
    int status = 0, known;

    if (h->status_line != NULL && strncmp(h->status_line, "HTTP/", 5) == 0) {
        /* "HTTP/1.1 206 Partial Content": the code after the version (sscanf cost a
         * microsecond a response) */
        const char *c = h->status_line + 5;
        c += strcspn(c, " \t");
        c += strspn(c, " \t");
        for (int k = 0; k < 4 && c[k] >= '0' && c[k] <= '9'; k++)
            status = status * 10 + (c[k] - '0'); /* a fourth digit: no 2xx code of ours */
    }
    if (ww_range_response(status, h->content_range, 0) == WW_RANGE_WHOLE)
        return WW_RANGE_WHOLE;
    known = ww_child_range_lookup(sq->env.rt, sq->url, NULL);
    if (known < 0)
        ww_log(WW_LOG_WARN,
               "%s: a partial response for %s: the state store cannot say whether it was cut "
               "before: scanned as partial content",
               sq->env.svc, sq->url);
    return ww_range_response(status, h->content_range, known == 1);
}

int ww_scanreq_start(struct ww_scanreq *sq, const struct ww_scanreq_env *env,
                     const struct ww_policy *policy, const struct ww_scanreq_headers *h)
{
    const char *codings[WW_SCANREQ_CODINGS];
    struct ww_body_limits lim;
    struct ww_engine *engine;
    unsigned flags = 0;
    size_t n = h->ncodings;
    int d;

    sq->env = *env;
    sq->policy = policy;
    sq->started = 1;
    snprintf(sq->etag, sizeof(sq->etag), "%s", h->etag != NULL ? h->etag : "");
    snprintf(sq->last_modified, sizeof(sq->last_modified), "%s",
             h->last_modified != NULL ? h->last_modified : "");
    ww_body_limits_from_conf(&lim, env->conf);
    /* hold_all=on|off: one c-icap serves a Squid with and one without the bug-5352 fixes. */
    ww_body_apply_args(&lim, h->args);
    ww_body_limits_apply_policy(&lim, policy); /* max_size, block_types, deep = on|off */
    sq->drop = ww_body_limits_drop(&lim, h->allow204, h->content_length);
    if (!h->has_body)
        return WW_BODY_CLEAN;
    sq->expected = h->content_length;
    /* The SHA-256 is computed for every body only while smart scan may look it up. */
    if (env->smart != NULL && ww_child_scan_method(env->rt) == WW_SCAN_SMART)
        flags |= WW_BODY_SHA256;
    if (sq->drop)
        flags |= WW_BODY_DROP;
    /* Content-Length is a hint only: the bytes received decide (scan.oversize_action). */
    sq->body = ww_body_create(&lim, sq->expected, flags);
    if (sq->body == NULL)
        return WW_ENOMEM;
    if (lim.deep) /* the policy's deep = off leaves the deep scanner out */
        ww_body_set_deep(sq->body,
                         ww_deepscan_create(env->deep, env->deep_types,
                                            env->conf->clamav.max_file_size, lim.tmp_dir),
                         env->conf->clamav.limit_action);
    sq->range = scanreq_range(sq, h);
    if (sq->range == WW_RANGE_BLOCK)
        /* A part of an object that was cut or blocked: the page, before any byte. */
        return ww_body_refuse(sq->body, WW_THREAT_RESUMED, "resumed download of a blocked file",
                              "a partial response (206 / Content-Range) for a URL cut or blocked "
                              "in the last day");
    if (sq->range == WW_RANGE_PARTIAL && (d = ww_body_partial(sq->body)) != WW_BODY_MORE)
        return d; /* scan.partial_action = block: any other part, refused before any byte */
    if (n > WW_SCANREQ_CODINGS) /* more lines than kept: one might hide a coding (issue 12) */
        n = WW_SCANREQ_CODINGS;
    if (n > 0) /* h->codings may be NULL when there is no Content-Encoding line */
        memcpy(codings, h->codings, n * sizeof(codings[0]));
    if (h->ncodings > WW_SCANREQ_CODINGS)
        codings[n - 1] = WW_SCANREQ_TOO_MANY_CODINGS;
    /* The tick may swap the engine; the body keeps its own reference. NULL: no patterns at all
     * (scan.no_patterns_action decides in ww_body_start). */
    engine = ww_child_engine_ref(env->rt);
    d = ww_body_start(sq->body, engine, codings, n);
    ww_engine_unref(engine);
    return d;
}

/* The smart-scan hook of the pipeline (ww_body_smart_fn): 1 if the Smart Protection Server calls
 * the body malicious (threat name in <threat>), else 0 - a skipped lookup (timeout, server down,
 * bad answer) leaves the local verdict standing. Records webwarden:smart
 * (off|skipped|clean|unknown|malicious). With the method conventional no request waits at all. */
static int scanreq_smart(void *arg, const char *sha256, char *threat, size_t threatlen)
{
    struct ww_scanreq *sq = arg;
    struct ww_file_verdict v;

    if (sq->env.smart == NULL || ww_child_scan_method(sq->env.rt) != WW_SCAN_SMART) {
        sq->smart = "off";
        return 0;
    }
    if (sha256 == NULL) { /* smart scan came back on while this body streamed: no digest */
        sq->smart = "skipped";
        return 0;
    }
    ww_filerep_lookup(sq->env.smart, sha256, &v); /* failures logged inside, once a minute */
    sq->smart = ww_filerep_verdict_name(v.verdict);
    snprintf(threat, threatlen, "%s", v.name);
    return v.verdict == WW_FILEREP_MALICIOUS;
}

int ww_scanreq_end(struct ww_scanreq *sq, int answer_started)
{
    int d = ww_body_end(sq->body, answer_started, scanreq_smart, sq);

    if (d == WW_BODY_CLEAN && ww_body_reason(sq->body)[0] == '\0' && sq->range == WW_RANGE_PARTIAL)
        /* A part's bytes alone are not the file: nothing found, but not clean. */
        ww_body_pass(sq->body, WW_BODY_REASON_PARTIAL,
                     "a partial response (206 / Content-Range): only a part was scanned");
    return d;
}

static void report_attr(struct ww_scanreq_report *out, const char *name, const char *value)
{
    if (out->nattrs < WW_SCANREQ_ATTRS) {
        out->attrs[out->nattrs].name = name;
        out->attrs[out->nattrs].value = value;
        out->nattrs++;
    }
}

/* A block (the page replaces the response) or a cut (bytes went out: the response is broken
 * off): logged; whatever cut or blocked it is remembered so a resumed download cannot complete
 * it (a refused resume is remembered already); a detection goes to the events. */
static void report_block(struct ww_scanreq *sq, int cut)
{
    const struct ww_body *b = sq->body;
    const char *threat = ww_body_threat(b), *reason = ww_body_reason(b);
    char via[64];

    if (cut)
        ww_log(WW_LOG_ERR,
               "%s: BLOCKED %s: threat %s found after %" PRId64 " of %" PRId64
               " bytes were sent: download cut, scanner=%s type=%s%s%s",
               sq->env.svc, sq->url, threat, ww_body_sent(b), ww_body_received(b),
               ww_body_scanner(b), ww_body_type(b), reason[0] ? ": " : "", ww_body_detail(b));
    else
        ww_log(WW_LOG_ERR,
               "%s: BLOCKED %s: threat %s, sha256 %s, %" PRId64 " bytes, scanner=%s type=%s%s%s",
               sq->env.svc, sq->url, threat, ww_body_sha256(b), ww_body_received(b),
               ww_body_scanner(b), ww_body_type(b), reason[0] ? ": " : "", ww_body_detail(b));
    if (sq->range != WW_RANGE_BLOCK && strcmp(threat, WW_THREAT_PARTIAL) != 0)
        ww_child_range_remember(sq->env.rt, sq->url, threat, sq->etag, sq->last_modified);
    if (ww_body_type_blocked(b)) /* block_types: an event naming the policy (aggregated) */
        ww_child_block_add(sq->env.rt, "scan", sq->url,
                           sq->policy != NULL ? sq->policy->name : NULL, reason);
    if (reason[0] != '\0')
        return; /* a policy, not a detection */
    /* "scanner=clamav type=zip": which scanner found it, and the body's true type. */
    snprintf(via, sizeof(via), "scanner=%s type=%s", ww_body_scanner(b), ww_body_type(b));
    ww_child_detection_add_full(sq->env.rt, sq->url, threat,
                                sq->policy != NULL ? sq->policy->name : NULL, via,
                                cut ? ww_body_sent(b) : -1);
}

void ww_scanreq_report(struct ww_scanreq *sq, int d, struct ww_scanreq_report *out)
{
    const struct ww_body *b = sq->body;
    const char *action = "allow", *threat = "-", *sha256 = "-";
    struct timespec t1;
    int64_t size;

    memset(out, 0, sizeof(*out));
    if (b == NULL)
        out->outcome = WW_SCANREQ_NO_BODY;
    else if (d == WW_BODY_BLOCK || d == WW_BODY_CUT)
        out->outcome = d == WW_BODY_CUT ? WW_SCANREQ_CUT : WW_SCANREQ_BLOCKED;
    else if (d == WW_BODY_UNSCANNED || ww_body_reason(b)[0] != '\0')
        out->outcome = WW_SCANREQ_UNSCANNED; /* a deep-scan limit, a part: not clean */
    else
        out->outcome = WW_SCANREQ_CLEAN;
    if (sq->smart != NULL)
        report_attr(out, "webwarden:smart", sq->smart);
    switch (out->outcome) {
    case WW_SCANREQ_NO_BODY:
        break;
    case WW_SCANREQ_CLEAN:
        report_attr(out, "webwarden:reason", "-");
        sha256 = ww_body_sha256(b);
        break;
    case WW_SCANREQ_UNSCANNED:
        ww_log(WW_LOG_WARN, "%s: UNSCANNED %s: %s", sq->env.svc, sq->url, ww_body_detail(b));
        report_attr(out, "webwarden:reason", ww_body_reason(b));
        action = "unscanned";
        ww_ctr_add(WW_CTR_UNSCANNED_FIRST + (ww_body_unscanned_kind(b) - WW_UNSCANNED_SIZE), 1);
        break;
    case WW_SCANREQ_BLOCKED:
    case WW_SCANREQ_CUT:
        report_block(sq, out->outcome == WW_SCANREQ_CUT);
        ww_body_explain(b, out->reason, sizeof(out->reason));
        report_attr(out, "webwarden:reason", out->reason);
        action = "block";
        threat = ww_body_threat(b);
        sha256 = ww_body_sha256(b);
        break;
    }
    report_attr(out, "webwarden:action", action);
    report_attr(out, "webwarden:threat", threat);
    report_attr(out, "webwarden:sha256", sha256);
    report_attr(out, "webwarden:url", sq->url);
    report_attr(out, "webwarden:type", b != NULL ? ww_body_type(b) : "-");
    report_attr(out, "webwarden:scanner", b != NULL ? ww_body_scanner(b) : "-");
    report_attr(out, "webwarden:deep", b != NULL ? ww_body_deep(b) : "-");
    size = b != NULL ? ww_body_received(b) : 0;
    snprintf(out->size, sizeof(out->size), "%" PRId64, size > sq->expected ? size : sq->expected);
    report_attr(out, "webwarden:size", out->size);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    snprintf(out->ms, sizeof(out->ms), "%ld",
             (long)(t1.tv_sec - sq->t0.tv_sec) * 1000 + (t1.tv_nsec - sq->t0.tv_nsec) / 1000000);
    report_attr(out, "webwarden:ms", out->ms);
    ww_ctr_scan_done(action, &sq->t0);
}

void ww_scanreq_page(const struct ww_scanreq *sq, const char *svc, const char *when,
                     struct ww_scanreq_page *pg)
{
    const char *threat = ww_body_threat(sq->body);
    size_t i = 0;

    ww_body_explain(sq->body, pg->reason, sizeof(pg->reason));
    pg->vars[i++] = (struct ww_page_var){"title", ww_body_reason(sq->body)[0] ? "Download blocked"
                                                                              : "Malware blocked"};
    pg->vars[i++] = (struct ww_page_var){"url", sq->url};
    pg->vars[i++] = (struct ww_page_var){"reason", pg->reason};
    pg->vars[i++] = (struct ww_page_var){"category", "-"};
    pg->vars[i++] = (struct ww_page_var){"score", "-"};
    pg->vars[i++] = (struct ww_page_var){"threat", threat};
    pg->vars[i++] = (struct ww_page_var){"service", svc};
    pg->vars[i++] = (struct ww_page_var){"time", when};
    pg->vars[i++] =
        (struct ww_page_var){"policy", sq->policy != NULL ? sq->policy->name : "default"};
    snprintf(pg->infection, sizeof(pg->infection),
             "X-Infection-Found: Type=0; Resolution=2; Threat=%s;", threat);
    snprintf(pg->virus_id, sizeof(pg->virus_id), "X-Virus-ID: %s", threat);
}
