/* lib/ww_urlcheck.h - the URL decision, once, for webwarden_url (REQMOD) and `webwardenctl
 * url-check`: approved list -> blocked list -> reputation (local URL database -> per-process
 * cache -> reputation server within reputation.timeout_ms, with back-off) -> policy
 * (ww_policy). It returns the verdict with the path that decided it, in the source vocabulary
 * of ww_rating.h, so the module's headers and access log and the CLI's text and JSON agree.
 *
 * Life cycle in c-icap: ww_urlcheck_create() in the monitor (the lists, shared copy-on-write by
 * the children), ww_urlcheck_open_reputation() in each child after fork (HTTP clients and cache
 * are per process), ww_urlcheck_tick() from the child's 1 s tick (urldb hot reload and the
 * reputation server's state for `webwardenctl status`). The CLI does create + open + decide. */
#ifndef WW_URLCHECK_H
#define WW_URLCHECK_H

#include <stddef.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_policy.h"
#include "ww_rating.h"

struct ww_store;
struct ww_feedback_event;
struct ww_urlcheck; /* opaque */

/* What is decided. One struct, so a new input (the client's identity for per-user policies, a
 * Range flag) is one field here and one use in ww_urlcheck.c. Zero-initialise it. */
struct ww_urlcheck_input {
    const char *url; /* canonical URL (ww_url_canon(), ww_cicap_request_url()); borrowed */
    const struct ww_policy *policy; /* the requester's named policy (ww_policies_select() on
                                       the identity from the proxy's ICAP headers); its extra
                                       lists and reputation settings decide. NULL = default */
    int has_range;    /* the request has a Range header (a part of the object, a resume) */
    int has_if_range; /* ... an If-Range header */
};

/* Which step decided. */
enum ww_urlcheck_by {
    WW_URLCHECK_APPROVED = 1, /* approved list: allow */
    WW_URLCHECK_BLOCKED,      /* blocked list: block */
    WW_URLCHECK_REPUTATION    /* the rating and the policy */
};

struct ww_urlcheck_verdict {
    enum ww_action action;
    enum ww_urlcheck_by by;
    struct ww_rating rating;      /* source WW_REP_SRC_LIST when a list decided */
    char reason[WW_URL_MAX + 64]; /* "approved list: <entry>", "blocked list: <entry>", or the
                                     policy's reason; plain text: escape it for a page */
    const char *policy;           /* the policy that decided: its name, "default" for none */
    const char *source;           /* ww_rating_source_token(): "list", "localdb", "cache",
                                      "server", "timeout", "failure", "backoff", "none" */
    char path[WW_URL_MAX + 96];   /* the source with its detail, for url-check: "list (blocked:
                                      x.example)", "server (http://...)", "timeout (no answer
                                      within 500 ms)", "failure (refused)", "localdb", ... */
    char score[16];               /* "42"; "-" when a list decided */
    char category[400];           /* "malware,phishing"; "unrated" for score 0; "-" for a list */
    long us;                      /* time spent deciding, microseconds */
    char ms[24];                  /* the same in milliseconds, "%ld.%03ld": "0.012" */
    int strip_range; /* allowed, and scan.range = strip: remove Range and If-Range from the
                        request (ww_range_strip), so the whole object is fetched and scanned */
};

/* Loads the approved and blocked lists named in <conf> (borrowed: it must outlive the object),
 * and the extra lists of its named policies (ww_policies_load_lists: into conf->policy_set).
 * WW_OK and *out (caller owns it: ww_urlcheck_free), or WW_E* with "[lists] approved: file:line:
 * reason" in <err>. Logs the list sizes at info level. */
int ww_urlcheck_create(const struct ww_conf *conf, struct ww_urlcheck **out, char *err,
                       size_t errlen);

/* NULL is a no-op; no decision may be running. */
void ww_urlcheck_free(struct ww_urlcheck *uc);

/* Makes the reputation lookup, once (later calls return WW_OK at once): the local URL database
 * is <st>'s installed urldb component when there is one, else urldb.file; the appliance id
 * comes from <st>. <st> may be NULL (no store yet). WW_OK; or the urldb's load error with the
 * reason in <err>, the lookup then being made without a local database (requests go to the
 * server, as the module has always done); WW_ENOMEM: no lookup (decisions are unrated until a
 * later call succeeds). Thread-safe; blocks while the urldb file loads. */
int ww_urlcheck_open_reputation(struct ww_urlcheck *uc, struct ww_store *st, char *err,
                                size_t errlen);

/* Frees the reputation lookup (a c-icap child's exit); the lists stay. No decision may run. */
void ww_urlcheck_close_reputation(struct ww_urlcheck *uc);

/* Decides <in>. Always fills <out> (its strings NUL-terminated; the bytes after each NUL are
 * left as they were, not cleared: a verdict is 17 KB and is made per request). Blocks at most
 * reputation.timeout_ms; thread-safe. A lookup that failed is logged by ww_rep (rate-limited),
 * nothing else is logged here. */
void ww_urlcheck_decide(struct ww_urlcheck *uc, const struct ww_urlcheck_input *in,
                        struct ww_urlcheck_verdict *out);

/* The feedback event of a decision made by the reputation (0 when a list decided: lists are the
 * admin's, not news for the cloud). Fills <ev> (every field; the strings' bytes after their NUL
 * are not cleared) and returns 1 to queue it. */
int ww_urlcheck_feedback_event(const struct ww_urlcheck_input *in,
                               const struct ww_urlcheck_verdict *v, struct ww_feedback_event *ev);

/* The local URL database in use: "path (version V, N entries)", or "" when none. Borrowed until
 * the next ww_urlcheck_tick() or open; call it from the thread that calls those. */
const char *ww_urlcheck_urldb_desc(const struct ww_urlcheck *uc);

/* A c-icap child's tick (its main thread only; <st> open, the caller holds its lock):
 * - urldb hot reload: when <st>'s urldb component has a version other than the one in use,
 *   load it and swap it in (decisions running finish with the old one); a version that fails
 *   to load is logged once and not retried, the database in use stays;
 * - the reputation server's state as this process sees it, in the kv row WW_REP_STATE_KEY
 *   (ww_status_rep_state_encode), when it changes, else at most once a minute. */
void ww_urlcheck_tick(struct ww_urlcheck *uc, struct ww_store *st);

#endif
