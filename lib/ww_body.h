/* lib/ww_body.h - the response-body pipeline: bytes in, decisions out. One object per response
 * body owns the Content-Encoding decoder, the scan (lib/ww_scan), the held bytes (memory, then a
 * temp file) and the bounded stream window, and says after every step what the caller must do:
 * keep feeding, start releasing bytes, block, cut, or pass the rest unscanned. It knows nothing
 * of c-icap: modules/srv_webwarden_scan.c maps its callbacks to this object and back.
 *
 * The modes (docs/architecture.md):
 *   hold    every byte is held until the verdict (bodies up to limits.hold_max; with hold_all,
 *           up to limits.max_size, spooled to a temp file past hold_max);
 *   stream  past hold_max the scanned bytes go out while the rest arrives, all but the last
 *           chunk (at least WW_BODY_STREAM_KEEP bytes), so a verdict at the end (hash signature,
 *           smart scan) still keeps the download from completing: a late detection cuts it;
 *   pass    no verdict any more (over max_size, over the decode limits): "unscanned";
 *   block   infected before anything went out: the caller sends the block page;
 *   cut     infected after bytes went out: the caller breaks the response off. */
#ifndef WW_BODY_H
#define WW_BODY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ww_clamav.h"
#include "ww_deepscan.h"
#include "ww_conf.h"
#include "ww_scan.h"

/* A streamed body stays in memory: at most hold_max plus this much is held per body. When the
 * reader is slower than the writer, ww_body_room() takes fewer bytes (back-pressure). */
#define WW_BODY_STREAM_WINDOW (256 * 1024)
/* Bytes of a streamed body always held back until the end-of-body verdict. */
#define WW_BODY_STREAM_KEEP (16 * 1024)

/* Threat names of the pipeline's own verdicts. */
/* The body's true type is in the policy's block_types (issue 14): a block by policy. */
#define WW_THREAT_FILETYPE "Webwarden.Policy.BlockedFileType"
#define WW_THREAT_BOMB "Webwarden.Heuristic.DecompressionBomb" /* bomb_action = block */
#define WW_THREAT_OVERSIZE "Webwarden.Policy.Oversize"         /* oversize_action = block */
#define WW_THREAT_NO_PATTERNS "Webwarden.NoPatterns"           /* no_patterns_action = block */
/* A Content-Encoding that cannot be undone, when undecodable_action = block (issue 12). */
#define WW_THREAT_UNDECODABLE "Webwarden.Heuristic.UndecodableEncoding"
/* A partial response for an object never cut or blocked, when partial_action = block. */
#define WW_THREAT_PARTIAL "Webwarden.Policy.PartialContent"
/* Signature checks that spent a step budget, when budget_action = block (issue 12). */
#define WW_THREAT_BUDGET "Webwarden.Heuristic.ScanBudget"

/* The limits of one body: per request (a policy may change them), copied by ww_body_create. */
struct ww_body_limits {
    int64_t max_size;                  /* bytes scanned; past it oversize_action */
    int64_t hold_max;                  /* held whole up to this, streamed beyond (not hold_all) */
    int64_t max_expanded_size;         /* Content-Encoding decode caps */
    int max_ratio;                     /* (ww_decode_create) */
    enum ww_action bomb_action;        /* over a decode cap: block, or the rest passes unscanned */
    enum ww_action oversize_action;    /* past max_size: block, or the rest passes unscanned */
    enum ww_action no_patterns_action; /* no signature: block, or the body passes unscanned */
    enum ww_action undecodable_action; /* a coding not decodable: block, or passes unscanned */
    enum ww_action budget_action;      /* a check budget spent: block, or passes unscanned */
    enum ww_action partial_action;     /* a part of an object not cut before (ww_body_partial) */
    enum ww_action unsupported_action; /* deep scan: a format libclamav cannot open */
    int hold_all;                      /* hold every body up to max_size, never stream */
    int64_t hold_204_max;              /* a declared length up to this, with Allow: 204: hold_all */
    int64_t hold_memory;               /* hold_all: in memory up to this or hold_max, then a file */
    const char *tmp_dir;               /* spool folder; borrowed for the body's life */
    /* The requester's policy (ww_body_limits_apply_policy): true file type groups refused
     * (WW_FTYPE_* bits of lib/ww_policies.h, 0 = none), the policy's name for the reason
     * (borrowed for the body's life, NULL = "default"), and whether the deep scanner runs for
     * this request (1 = as configured globally, 0 = the policy says deep = off). */
    unsigned int block_types;
    const char *policy;
    int deep;
};

/* The [scan] settings of <conf> (borrowed: tmp_dir points into it). */
void ww_body_limits_from_conf(struct ww_body_limits *lim, const struct ww_conf *conf);

struct ww_policy;
/* The requester's policy on <lim> (lib/ww_policies): its scan.max_size, block_types and name,
 * and deep = on|off over clamav.enabled (-1 keeps it). <pol> NULL: <lim> is unchanged. */
void ww_body_limits_apply_policy(struct ww_body_limits *lim, const struct ww_policy *pol);

/* Applies a service's arguments ("hold_all=on&...", c-icap's icap://host/webwarden_scan?ARGS or a
 * ServiceAlias) to <lim>: hold_all=on|off overrides scan.hold_all. Unknown arguments are ignored
 * and logged (once a minute). The count of unknown arguments. <args> may be NULL. */
int ww_body_apply_args(struct ww_body_limits *lim, const char *args);

/* Whether a body is dropped (WW_BODY_DROP): the client sent Allow: 204, so it keeps its own copy,
 * and either <lim> holds every body (hold_all) or the declared length <content_length> (-1 =
 * unknown) is at most hold_204_max, which then sets hold_all for this body. Squid sends Allow: 204
 * only for a body it can keep whole (a known length under 64 KiB), so holding such a body cannot
 * stall it (bug 5352), and a threat anywhere in it gets the block page, not a cut. */
int ww_body_limits_drop(struct ww_body_limits *lim, int allow204, int64_t content_length);

/* ww_body_create flags */
#define WW_BODY_DROP                                                                               \
    1u                    /* the answer can only be "unchanged" (204) or a block page: scanned     \
                             bytes are dropped, never held or spooled (hold_all with Allow: 204) */
#define WW_BODY_SHA256 2u /* compute the decoded body's SHA-256 (smart scan looks it up) */

/* What the caller does next. ww_body_put and ww_body_end return one (or a negative WW_E*). */
enum ww_body_decision {
    WW_BODY_MORE = 0,  /* nothing new: keep feeding */
    WW_BODY_RELEASE,   /* streaming starts: bytes may go out from now on (ww_body_read) */
    WW_BODY_BLOCK,     /* infected (ww_body_threat), nothing went out: send the block page */
    WW_BODY_CUT,       /* infected after bytes went out: break the response off */
    WW_BODY_UNSCANNED, /* no verdict from here on (ww_body_reason); the rest passes: every held
                          byte may go out, or with WW_BODY_DROP the answer is 204 at the end */
    WW_BODY_CLEAN      /* end of body, scanned clean: every held byte may go out */
};

enum ww_body_state {
    WW_BODY_HOLDING,
    WW_BODY_STREAMING,
    WW_BODY_PASSING, /* unscanned */
    WW_BODY_BLOCKED,
    WW_BODY_CUT_OFF,
    WW_BODY_DONE_CLEAN
};

struct ww_body; /* one response body; one thread at a time */

/* A body that declared <declared> bytes (Content-Length, -1 unknown: a hint for the hash
 * signatures only, never a decision). NULL if out of memory. Caller owns it: ww_body_free. */
struct ww_body *ww_body_create(const struct ww_body_limits *lim, int64_t declared, unsigned flags);
void ww_body_free(struct ww_body *b); /* NULL is a no-op; an unlinked spool file goes with it */

/* Starts the scan with engine <e> (the body takes its own reference; NULL: no signature is
 * loaded, and no_patterns_action gives BLOCK or UNSCANNED at once) for a body whose
 * Content-Encoding header values are <codings>[0..n) (every header, in order; n = 0: none).
 * WW_BODY_MORE, WW_BODY_BLOCK (a declared length over max_size with oversize_action = block:
 * refused at once; with allow the declared length decides nothing), WW_BODY_UNSCANNED (the
 * coding cannot be decoded: not today, a coding Webwarden does not know is scanned as sent),
 * or WW_ENOMEM. */
int ww_body_start(struct ww_body *b, struct ww_engine *e, const char *const *codings, size_t n);

/* Passes the body unscanned from here on, for a reason the caller found (<reason> short, for the
 * access log; <detail> for the server log, NULL = <reason>). WW_BODY_UNSCANNED. */
int ww_body_pass(struct ww_body *b, const char *reason, const char *detail);

/* Refuses the body for a reason the caller found, a policy rather than a signature (e.g. a
 * resumed download of a URL that was cut, lib/ww_range.h): <threat> names it, <reason> short for
 * the access log, <detail> for the server log (NULL = <reason>). WW_BODY_BLOCK before any byte
 * went out, else WW_BODY_CUT. */
int ww_body_refuse(struct ww_body *b, const char *threat, const char *reason, const char *detail);

/* The response is a part of an object (206 or Content-Range) that was never cut or blocked
 * (lib/ww_range.h: WW_RANGE_PARTIAL): with limits.partial_action = block it is refused
 * (WW_THREAT_PARTIAL, reason "partial content": WW_BODY_BLOCK before any byte went out, else
 * WW_BODY_CUT); with allow WW_BODY_MORE: it is scanned, and the caller logs a clean end as
 * unscanned. Before or after ww_body_start. */
int ww_body_partial(struct ww_body *b);

/* The caller's answer had not started after all when a detection cut the stream (c-icap had sent
 * nothing yet: no byte was read back with ww_body_read): the cut becomes a block, so the caller
 * can still send the block page instead of failing the request (an ICAP error that a proxy with
 * bypass=on answers by delivering the response unscanned). WW_BODY_BLOCK then; WW_BODY_CUT when
 * bytes went out; WW_BODY_MORE when the body is not cut. */
int ww_body_uncut(struct ww_body *b);

/* Takes <len> body bytes (a count ww_body_room allowed). A decision, or WW_EIO / WW_ENOMEM (a
 * spool file that cannot be written: the request fails). After BLOCK or CUT the bytes are read
 * and dropped. */
int ww_body_put(struct ww_body *b, const void *data, size_t len);

/* How many of <avail> offered bytes to take now: all while held for a verdict or spooled, else
 * what fits the stream window (back-pressure: the caller leaves the rest with the writer). Always
 * <avail> when nothing could go out, so a body never waits on itself. */
size_t ww_body_room(struct ww_body *b, size_t avail);

/* The smart-scan hook: called at the end of a body the local patterns found clean, with its
 * SHA-256 (NULL when it was not computed). 1 and the threat name in <threat> when the body is
 * malicious, else 0. It may block (the caller bounds it). */
typedef int (*ww_body_smart_fn)(void *arg, const char *sha256, char *threat, size_t threatlen);

/* The body ended. <answer_started>: the caller already committed its answer's headers (a block
 * page is no longer possible). WW_BODY_CLEAN, BLOCK or CUT, or WW_BODY_MORE when the verdict
 * was given before (passing, blocked, cut: see ww_body_state). <smart> may be NULL. */
int ww_body_end(struct ww_body *b, int answer_started, ww_body_smart_fn smart, void *arg);

/* The deep scanner for this body (lib/ww_clamav; the body takes ownership of <d>, NULL: none):
 * it sees the decoded bytes, tells the true type, and at the end of a body the fast engine found
 * clean gives its verdict before smart scan. A deep limit hit is "unscanned" (ww_body_reason
 * "deep scan incomplete"): <limit_action> (for a body or member too large, limits.oversize_action)
 * block gives BLOCK/CUT by policy; allow gives CLEAN with the reason set (the caller logs it as
 * unscanned, never as clean). Before ww_body_start. */
void ww_body_set_deep(struct ww_body *b, struct ww_deepscan *d, enum ww_action limit_action);
/* "fast", "clamav" or "smart": which scanner gave the BLOCK/CUT ("-" before). Static string. */
const char *ww_body_scanner(const struct ww_body *b);
/* The body's true type name (ww_filetype; "image+zip" for an archive hidden in an image, from
 * the deep scanner), told from its first WW_FILETYPE_PEEK decoded bytes (or all of a shorter
 * body at its end) with or without a deep scanner; "-" before. Borrowed until the body is
 * freed. */
const char *ww_body_type(const struct ww_body *b);
/* The deep scan's outcome: "off", "skipped" (type not deep-scanned), "clean", "infected",
 * "unscanned", or "-" before the end. Static string. */
const char *ww_body_deep(const struct ww_body *b);
/* 1 when the body was refused because its true type is in limits.block_types (threat
 * WW_THREAT_FILETYPE, reason "file type pe blocked by policy guests"), else 0. The type is known
 * from the first decoded bytes, so this is normally a block page; a body shorter than
 * WW_FILETYPE_PEEK is told at its end (still held: the page). */
int ww_body_type_blocked(const struct ww_body *b);
/* Copies up to <len> releasable bytes into <buf>: the count (0: none right now), or WW_EIO. */
int ww_body_read(struct ww_body *b, void *buf, size_t len);

/* The bytes ww_body_read would copy out now, in place: at most <max> of them, in up to two
 * pieces of the memory ring (iov[0], then what wraps to its start), for a caller that writes
 * them straight to a socket. Returns the number of pieces: 0 when no byte is ready, or when the
 * body is held in a file (ww_body_read reads those). Nothing counts as sent until ww_body_skip. */
int ww_body_peek(const struct ww_body *b, size_t max, struct iovec iov[2]);
/* The first <n> bytes ww_body_peek showed count as sent. WW_OK, or WW_EINVAL (more bytes than
 * are ready, or a spooled body): nothing changes then. */
int ww_body_skip(struct ww_body *b, size_t n);
/* 1 when every held byte may go out (clean or passing) and all of them were read. */
int ww_body_drained(const struct ww_body *b);
/* How many bytes ww_body_read would give back now (held in memory or in a file). */
int64_t ww_body_ready(const struct ww_body *b);

/* A caller that writes the ready bytes itself (modules/: scan.direct_send), in writes of its own
 * beside the ICAP server's rounds of <round> bytes. <after>: the request's body has been read.
 * ww_body_send_min: a write of its own is worth it above this many ready bytes: after the body,
 * more than one round; while the body is read, WW_BODY_SEND_BATCH (fewer writes, and still one
 * every few reads: Squid 5.7 stops sending a body whose answer does not flow).
 * ww_body_send_wait: 1 when the ready bytes short of that should wait for more input instead of
 * going out in the server's round: only while the body is read, and only when the caller took all
 * the input offered (<refused> 0): a server left with nothing to read or write stops. */
#define WW_BODY_SEND_BATCH ((size_t)16 * 1024)
size_t ww_body_send_min(int after, size_t round);
int ww_body_send_wait(const struct ww_body *b, int after, int refused);

enum ww_body_state ww_body_state(const struct ww_body *b);
int64_t ww_body_received(const struct ww_body *b); /* bytes put */
int64_t ww_body_sent(const struct ww_body *b);     /* bytes read back */
/* The threat of a BLOCK or CUT ("" before), safe in a header or a log field: no control bytes,
 * ';' (which ends a field of X-Infection-Found) made '_', "Unknown" for a nameless one.
 * Borrowed until ww_body_free. */
const char *ww_body_threat(const struct ww_body *b);
/* The decoded body's SHA-256 after the end-of-body scan, else "-". Borrowed. */
const char *ww_body_sha256(const struct ww_body *b);
/* Why the body passes unscanned, or was blocked or cut by a policy rather than a signature (then
 * ww_body_threat is WW_THREAT_OVERSIZE): a short reason for the access log ("over
 * scan.max_size") and a detail for the server log. "" otherwise. Borrowed. */
const char *ww_body_reason(const struct ww_body *b);
const char *ww_body_detail(const struct ww_body *b);
/* Why a body passes unscanned, in a few kinds an operator can count (Prometheus's
 * webwarden_unscanned_total{reason}): told from ww_body_reason and, for the deep scanner, the
 * name of what it could not do. WW_UNSCANNED_NONE when the reason is empty. */
enum ww_unscanned {
    WW_UNSCANNED_NONE,
    WW_UNSCANNED_SIZE,             /* over scan.max_size */
    WW_UNSCANNED_UNDECODABLE,      /* a Content-Encoding not decodable */
    WW_UNSCANNED_DECODE_LIMIT,     /* over the decode limits (scan.bomb_action = allow) */
    WW_UNSCANNED_NO_PATTERNS,      /* no patterns loaded yet */
    WW_UNSCANNED_BUDGET,           /* the matcher's check budget spent */
    WW_UNSCANNED_PARTIAL,          /* a 206 part */
    WW_UNSCANNED_DEEP_SIZE,        /* deep scan: a body or member over clamav.max_file_size or
                                    * max_scan_size */
    WW_UNSCANNED_DEEP_LIMIT,       /* deep scan: nesting, members or time */
    WW_UNSCANNED_DEEP_ENCRYPTED,   /* deep scan: an encrypted archive or document */
    WW_UNSCANNED_DEEP_UNSUPPORTED, /* deep scan: a format it cannot open */
    WW_UNSCANNED_DEEP_ERROR,       /* deep scan: anything else (out of memory, a libclamav error) */
    WW_UNSCANNED_OTHER,
    WW_UNSCANNED_N
};
#define WW_BODY_REASON_PARTIAL "partial content"
enum ww_unscanned ww_body_unscanned_kind(const struct ww_body *b);
/* The kind's label value: "size", "undecodable", "decode_limit", "no_patterns", "budget",
 * "partial", "deep_size", "deep_limit", "deep_encrypted", "deep_unsupported", "deep_error",
 * "other" ("" for NONE). Static string. */
const char *ww_unscanned_name(enum ww_unscanned k);
/* The verdict in words, for the access log and the block page: "malware detected: THREAT",
 * "over scan.max_size: not scanned", "... after N bytes went out: download cut", or the reason
 * of an unscanned body; "" while undecided or clean. Written to <out> (<outlen> bytes). */
void ww_body_explain(const struct ww_body *b, char *out, size_t outlen);

#endif
