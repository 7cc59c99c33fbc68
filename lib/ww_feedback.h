/* lib/ww_feedback.h - the feedback worker: uploads the state store's feedback queue to the
 * feedback server (PROTOCOL.md "Feedback") in batches, deleting rows only once confirmed.
 *
 * Exactly once per event, across lost answers and restarts: a batch's id is made from the
 * appliance id and the span of row ids it carries ("<appliance>-<first>-<last>"), and the span
 * of a batch that was sent but not confirmed is remembered in the store (kv
 * feedback.pending_batch), so the next run sends the same rows (or what is left of them) under
 * the same id, and the server, which counts a batch id once, does not count them twice. */
#ifndef WW_FEEDBACK_H
#define WW_FEEDBACK_H

#include <stddef.h>

#include "ww_conf.h"
#include "ww_http.h"
#include "ww_store.h"

/* Store key of the sent-but-unconfirmed batch: "<first id> <last id>", "" when none. */
#define WW_FEEDBACK_PENDING_KEY "feedback.pending_batch"

/* A client with the feedback section's settings (timeout_ms, api_key; TLS settings of the
 * [reputation] section, which apply to every cloud server) and <appliance_id> (copied). NULL if
 * out of memory. The caller owns it: ww_http_free(). */
struct ww_http *ww_feedback_http_create(const struct ww_conf *conf, const char *appliance_id);

/* One pass of the worker. While the queue has rows and <budget_ms> is not used up: peek a batch
 * (feedback.batch_size rows, oldest first), POST it to <feedback.server>/v1/feedback, and delete
 * its rows after a 200 {"accepted": n} with 0 <= n <= rows. The first batch is always tried;
 * each request is bounded by <h>'s timeout, so the pass takes at most budget_ms plus one
 * timeout. <h> is borrowed (make it with ww_feedback_http_create).
 * Returns WW_OK with "sent N events in B batches; Q queued" (or "queue empty", or
 * "not configured" when feedback.server is "") in <result>; on any failure the rows of the
 * failed batch stay queued and the error comes back (WW_ETIMEOUT, WW_EUNAVAIL for refused or
 * 5xx, WW_EPROTO for a malformed answer, WW_EDB) with a line such as
 * "feedback server unavailable: timeout; 1234 events kept". Single-threaded use of <st>. */
int ww_feedback_run_for(struct ww_store *st, const struct ww_conf *conf, struct ww_http *h,
                        long budget_ms, char *result, size_t len);

/* ww_feedback_run_for() with a budget of feedback.timeout_ms. */
int ww_feedback_run_once(struct ww_store *st, const struct ww_conf *conf, struct ww_http *h,
                         char *result, size_t len);

/* Checks the server's answer <body> (<len> bytes) to a batch of <n> events: {"accepted": 0..n}.
 * WW_OK, or WW_EPROTO with the reason in <why>. Never crashes on any input (fuzzed). */
int ww_feedback_parse_answer(const char *body, size_t len, size_t n, char *why, size_t whylen);

/* The JSON body of a batch of <n> events with id <batch_id>, into *out (caller frees it with
 * free()). WW_OK, WW_ENOMEM. Exposed for the tests. */
int ww_feedback_batch_json(const char *batch_id, const struct ww_feedback_event *ev, size_t n,
                           char **out);

#endif
