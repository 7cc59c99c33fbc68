/* lib/ww_feedback.c - the feedback worker (see ww_feedback.h). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ww_clock.h"
#include "ww_common.h"
#include "ww_endpoint.h"
#include "ww_feedback.h"
#include "ww_log.h"

#define FEEDBACK_MAX_BATCH 10000

struct ww_http *ww_feedback_http_create(const struct ww_conf *conf, const char *appliance_id)
{
    struct ww_endpoint ep;

    ww_endpoint_init(&ep, conf, WW_SERVER_FEEDBACK, appliance_id);
    return ww_endpoint_http_create(&ep);
}

/* A JSON string of <s>; bytes that are not valid UTF-8 (jansson refuses them) become '?'. */
static json_t *feedback_string(const char *s)
{
    json_t *j = json_string(s);
    char *copy;

    if (j != NULL)
        return j;
    copy = strdup(s);
    if (copy == NULL)
        return NULL;
    for (char *p = copy; *p != '\0'; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

/* "a,b, c" -> ["a", "b", "c"]; empty names are skipped. */
static json_t *feedback_categories(const char *csv)
{
    json_t *arr = json_array();
    const char *p = csv;

    while (arr != NULL && *p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        char name[sizeof(((struct ww_feedback_event *)0)->categories)];

        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n > 0 && n < sizeof(name)) {
            memcpy(name, p, n);
            name[n] = '\0';
            if (json_array_append_new(arr, feedback_string(name)) != 0) {
                json_decref(arr);
                return NULL;
            }
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return arr;
}

static void feedback_time(time_t at, char *when, size_t len)
{
    struct tm tm;

    if (gmtime_r(&at, &tm) == NULL || strftime(when, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(when, len, "1970-01-01T00:00:00Z");
}

/* "time" is the last lookup, "first_seen" the first, "count" how many (protocol.md); "scanner"
 * which scanner found the threat, only when one did. */
static json_t *feedback_event_json(const struct ww_feedback_event *e)
{
    char when[32], first[32];
    json_t *o;

    feedback_time(e->at, when, sizeof(when));
    feedback_time(e->first_seen != 0 && e->first_seen <= e->at ? e->first_seen : e->at, first,
                  sizeof(first));
    o = json_pack("{s:o, s:i, s:o, s:s, s:o, s:s, s:I, s:s}", "url", feedback_string(e->url),
                  "score", e->score, "categories", feedback_categories(e->categories), "action",
                  e->action, "threat",
                  e->threat[0] != '\0' ? feedback_string(e->threat) : json_null(), "time", when,
                  "count", (json_int_t)(e->count > 0 ? e->count : 1), "first_seen", first);
    if (o != NULL && e->threat[0] != '\0' && e->scanner[0] != '\0' &&
        json_object_set_new(o, "scanner", feedback_string(e->scanner)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int ww_feedback_batch_json(const char *batch_id, const struct ww_feedback_event *ev, size_t n,
                           char **out)
{
    json_t *root = NULL, *events = json_array();
    int rc = WW_ENOMEM;

    *out = NULL;
    if (events == NULL)
        goto cleanup;
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(events, feedback_event_json(&ev[i])) != 0)
            goto cleanup;
    root = json_pack("{s:s, s:O}", "batch_id", batch_id, "events", events);
    if (root == NULL)
        goto cleanup;
    *out = json_dumps(root, JSON_COMPACT);
    if (*out != NULL)
        rc = WW_OK;
cleanup:
    json_decref(events);
    json_decref(root);
    return rc;
}

int ww_feedback_parse_answer(const char *body, size_t len, size_t n, char *why, size_t whylen)
{
    json_error_t jerr;
    json_t *root;
    json_int_t accepted = -1;
    int rc = WW_OK;

    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root) ||
        json_unpack_ex(root, &jerr, 0, "{s:I}", "accepted", &accepted) != 0 || accepted < 0 ||
        (uint64_t)accepted > n) {
        snprintf(why, whylen, "malformed answer (%s)",
                 root == NULL || accepted == -1 ? jerr.text : "accepted out of range");
        rc = WW_EPROTO;
    }
    json_decref(root);
    return rc;
}

/* The answer to a batch of <n> events: 200 {"accepted": 0..n}. */
static int feedback_check_answer(const struct ww_http_result *res, size_t n, char *why,
                                 size_t whylen)
{
    if (res->status != 200) {
        snprintf(why, whylen, "HTTP %ld", res->status);
        return WW_EUNAVAIL;
    }
    return ww_feedback_parse_answer(res->body, res->body_len, n, why, whylen);
}

/* The remembered unconfirmed batch span, or 0 0. */
static int feedback_pending_get(struct ww_store *st, int64_t *first, int64_t *last)
{
    char v[64];
    int rc = ww_store_kv_get(st, WW_FEEDBACK_PENDING_KEY, v, sizeof(v));

    *first = *last = 0;
    if (rc != WW_OK)
        return rc;
    if (sscanf(v, "%" SCNd64 " %" SCNd64, first, last) != 2 || *first <= 0 || *last < *first)
        *first = *last = 0;
    return WW_OK;
}

static int feedback_pending_set(struct ww_store *st, int64_t first, int64_t last)
{
    char v[64] = "";

    if (first > 0)
        snprintf(v, sizeof(v), "%" PRId64 " %" PRId64, first, last);
    return ww_store_kv_set(st, WW_FEEDBACK_PENDING_KEY, v);
}

/* Forgets the unconfirmed span <first>-<last> - only if it is still the one recorded: a
 * `webwardenctl feedback flush` running beside the daemon must not erase the other's span. */
static int feedback_pending_clear(struct ww_store *st, int64_t first, int64_t last)
{
    int64_t f, l;
    int rc = feedback_pending_get(st, &f, &l);

    if (rc != WW_OK || f != first || l != last)
        return rc;
    return feedback_pending_set(st, 0, 0);
}

static const char *feedback_reason(int rc)
{
    switch (rc) {
    case WW_ETIMEOUT:
        return "timeout";
    case WW_EUNAVAIL:
        return "unreachable";
    case WW_ETOOBIG:
        return "answer too big";
    case WW_EPROTO:
        return "not an HTTP answer";
    default:
        return ww_strerror(rc);
    }
}

int ww_feedback_run_for(struct ww_store *st, const struct ww_conf *conf, struct ww_http *h,
                        long budget_ms, char *result, size_t len)
{
    struct ww_feedback_event *ev = NULL;
    struct ww_http_result res;
    char app[128] = "", url[2048], batch_id[256], why[256] = "", done[128] = "";
    char *body = NULL;
    const char *server = conf->feedback.server;
    size_t limit, cap, n;
    int64_t sent = 0, batches = 0, queued = 0, dropped = 0, pfirst, plast;
    long start = (long)ww_clock_ms();
    int rc;

    if (server == NULL || server[0] == '\0') {
        snprintf(result, len, "not configured");
        return WW_OK;
    }
    limit = conf->feedback.batch_size > 0 ? (size_t)conf->feedback.batch_size : 500;
    if (limit > FEEDBACK_MAX_BATCH)
        limit = FEEDBACK_MAX_BATCH;
    if (ww_endpoint_join(server, "/v1/feedback", url, sizeof(url)) != WW_OK) {
        snprintf(result, len, "feedback.server too long");
        return WW_EINVAL;
    }
    rc = ww_store_appliance_id(st, app, sizeof(app));
    if (rc != WW_OK)
        goto store_failed;
    cap = limit;
    ev = calloc(cap, sizeof(*ev));
    if (ev == NULL) {
        snprintf(result, len, "out of memory");
        return WW_ENOMEM;
    }
    for (;;) {
        int64_t first, last;
        size_t want = limit;

        rc = feedback_pending_get(st, &pfirst, &plast);
        if (rc == WW_OK)
            rc = ww_store_feedback_seal(st); /* what we read now no child merges into */
        if (rc != WW_OK)
            goto store_failed;
        /* A batch sent earlier without confirmation goes again first, the same rows under
         * the same id, however batch_size changed since. */
        if (pfirst > 0 && plast - pfirst + 1 > (int64_t)want)
            want = plast - pfirst + 1 > FEEDBACK_MAX_BATCH ? FEEDBACK_MAX_BATCH
                                                           : (size_t)(plast - pfirst + 1);
        if (want > cap) {
            struct ww_feedback_event *bigger = realloc(ev, want * sizeof(*ev));
            if (bigger == NULL) {
                rc = WW_ENOMEM;
                snprintf(result, len, "out of memory");
                goto cleanup;
            }
            ev = bigger;
            cap = want;
        }
        rc = ww_store_feedback_peek(st, ev, want, &n);
        if (rc != WW_OK)
            goto store_failed;
        if (n == 0)
            break;
        if (pfirst > 0 && ev[0].id <= plast) {
            /* Rows of that batch dropped (queue full) since are simply not sent again. */
            while (n > 0 && ev[n - 1].id > plast)
                n--;
            first = pfirst;
            last = plast;
        } else {
            if (n > limit)
                n = limit;
            first = ev[0].id;
            last = ev[n - 1].id;
            rc = feedback_pending_set(st, first, last);
            if (rc != WW_OK)
                goto store_failed;
        }
        snprintf(batch_id, sizeof(batch_id), "%s-%" PRId64 "-%" PRId64, app, first, last);
        free(body);
        rc = ww_feedback_batch_json(batch_id, ev, n, &body);
        if (rc != WW_OK) {
            snprintf(why, sizeof(why), "out of memory");
            goto failed;
        }
        rc = ww_http_post_json(h, url, body, strlen(body), &res);
        if (rc != WW_OK) {
            const char *detail = ww_http_last_error(h);
            if ((rc == WW_EUNAVAIL || rc == WW_EPROTO) && detail[0] != '\0')
                snprintf(why, sizeof(why), "%s (%s)", feedback_reason(rc), detail);
            else
                snprintf(why, sizeof(why), "%s", feedback_reason(rc));
            goto failed;
        }
        rc = feedback_check_answer(&res, n, why, sizeof(why));
        if (rc != WW_OK)
            goto failed;
        rc = ww_store_feedback_delete_upto(st, last);
        if (rc == WW_OK)
            rc = feedback_pending_clear(st, first, last);
        if (rc != WW_OK)
            goto store_failed;
        ww_store_counter_add(st, "feedback_sent", (int64_t)n);
        sent += (int64_t)n;
        batches++;
        if ((long)ww_clock_ms() - start >= budget_ms)
            break;
    }
    rc = ww_store_feedback_stats(st, &queued, &dropped);
    if (rc != WW_OK)
        goto store_failed;
    if (batches == 0)
        snprintf(result, len, "queue empty");
    else
        snprintf(result, len, "sent %" PRId64 " events in %" PRId64 " batch%s; %" PRId64 " queued",
                 sent, batches, batches == 1 ? "" : "es", queued);
    goto cleanup;

failed:
    if (batches > 0)
        snprintf(done, sizeof(done), "sent %" PRId64 " events, then ", sent);
    if (ww_store_feedback_stats(st, &queued, &dropped) != WW_OK)
        queued = -1;
    snprintf(result, len, "%sfeedback server %s: %s; %" PRId64 " event%s kept", done,
             rc == WW_EPROTO && strncmp(why, "malformed", 9) == 0 ? "answer bad" : "unavailable",
             why, queued, queued == 1 ? "" : "s");
    ww_log(WW_LOG_WARN, "feedback: %s", result);
    goto cleanup;

store_failed:
    snprintf(result, len, "feedback queue: database error (%s); nothing lost", ww_strerror(rc));
cleanup:
    free(body);
    free(ev);
    return rc;
}

int ww_feedback_run_once(struct ww_store *st, const struct ww_conf *conf, struct ww_http *h,
                         char *result, size_t len)
{
    return ww_feedback_run_for(st, conf, h, conf->feedback.timeout_ms, result, len);
}
