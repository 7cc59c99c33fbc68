/* lib/ww_body.c - the response-body pipeline (see ww_body.h): decode, scan, hold, stream. */
#include "ww_body.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_counters.h"
#include "ww_decode.h"
#include "ww_filetype.h"
#include "ww_log.h"
#include "ww_policies.h"

/* ---- the held body: memory up to a cap, then an unlinked temp file ---- */

struct hold {
    /* While fd < 0: a ring of mem_cap bytes holding the mem_len bytes not read back yet, from
     * mem[mem_head] on. A streamed body cycles through the same few KiB instead of sweeping a
     * window of hold_max + WW_BODY_STREAM_WINDOW bytes, so its copies stay in the core's cache
     * with the signature filter (issue 15), and nothing is ever moved to make room. */
    char *mem;
    size_t mem_len, mem_cap, mem_head;
    int fd;       /* -1 until spilled */
    int64_t size; /* bytes stored */
    int64_t rpos; /* bytes already read back */
};

static void hold_init(struct hold *h)
{
    memset(h, 0, sizeof(*h));
    h->fd = -1;
}

static void hold_cleanup(struct hold *h)
{
    free(h->mem);
    if (h->fd >= 0)
        close(h->fd);
    hold_init(h);
}

/* Writes at an explicit offset: the file shrinks when drained, the fd offset would lie. */
static int write_all(int fd, const char *p, size_t len, int64_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return WW_EIO;
        p += n;
        off += n;
        len -= (size_t)n;
    }
    return WW_OK;
}

/* How many of the ring's first <len> unread bytes lie before its end (the rest wrap to mem[0]). */
static size_t ring_first(const struct hold *h, size_t len)
{
    size_t first = h->mem_cap - h->mem_head;
    return first < len ? first : len;
}

/* The ring's first <len> unread bytes into <out>. */
static void ring_copy_out(const struct hold *h, char *out, size_t len)
{
    size_t first = ring_first(h, len);
    memcpy(out, h->mem + h->mem_head, first);
    memcpy(out + first, h->mem, len - first);
}

/* Appends <len> bytes; moves everything to a temp file in <dir> once memory would pass <cap>.
 * WW_OK, or WW_EIO / WW_ENOMEM (logged). */
static int hold_append(struct hold *h, const char *data, size_t len, size_t cap, const char *dir)
{
    if (len == 0)
        return WW_OK;
    if (h->fd < 0 && h->mem_len + len <= cap) {
        size_t tail, first;
        if (h->mem_len + len > h->mem_cap) {
            /* grow: doubling, but up to 128 KiB no more than 32 KiB past the need (a 60 KiB hold
             * gets 96 KiB, not 128; a larger one doubles, so its copies stay linear); the unread
             * bytes move to the front of the new ring */
            size_t need = h->mem_len + len, want = h->mem_cap ? h->mem_cap * 2 : 16384;
            char *p;
            while (want < need)
                want *= 2;
            if (want > need + 32768 && need <= 128 * 1024)
                want = (need + 32768 + 4095) / 4096 * 4096;
            if (want > cap)
                want = cap;
            if (h->mem_head + h->mem_len <= h->mem_cap) {
                /* not wrapped (a held body, read back from nothing yet): realloc often grows it
                 * in place, and the bytes stay where they are */
                p = realloc(h->mem, want);
            } else {
                p = malloc(want);
                if (p != NULL) {
                    ring_copy_out(h, p, h->mem_len);
                    free(h->mem);
                    h->mem_head = 0;
                }
            }
            if (p == NULL) {
                ww_log(WW_LOG_ERR, "body: out of memory holding a body");
                return WW_ENOMEM;
            }
            h->mem = p;
            h->mem_cap = want;
        }
        tail = (h->mem_head + h->mem_len) % h->mem_cap;
        first = h->mem_cap - tail < len ? h->mem_cap - tail : len;
        memcpy(h->mem + tail, data, first);
        memcpy(h->mem, data + first, len - first);
        h->mem_len += len;
        h->size += (int64_t)len;
        return WW_OK;
    }
    if (h->fd < 0) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/webwarden-body-XXXXXX", dir[0] ? dir : "/tmp");
        h->fd = mkstemp(path);
        if (h->fd < 0) {
            ww_log(WW_LOG_ERR, "body: cannot create a spool file in %s: %s", dir, strerror(errno));
            return WW_EIO;
        }
        unlink(path); /* nothing is left behind, even if the process crashes */
        /* the file starts with the unread bytes (the ring's two pieces): offsets count from the
         * next one to read */
        if (h->mem_len > 0) {
            size_t first = ring_first(h, h->mem_len);
            if (write_all(h->fd, h->mem + h->mem_head, first, 0) != WW_OK ||
                write_all(h->fd, h->mem, h->mem_len - first, (int64_t)first) != WW_OK)
                goto fail;
        }
        h->rpos = 0;
        h->size = (int64_t)h->mem_len;
        free(h->mem);
        h->mem = NULL;
        h->mem_len = h->mem_cap = h->mem_head = 0;
    }
    if (write_all(h->fd, data, len, h->size) != WW_OK)
        goto fail;
    h->size += (int64_t)len;
    return WW_OK;
fail:
    ww_log(WW_LOG_ERR, "body: cannot write the spool file in %s: %s", dir, strerror(errno));
    return WW_EIO;
}

/* The ring's first <n> unread bytes count as read (n <= mem_len); an empty ring starts over. */
static void hold_skip(struct hold *h, size_t n)
{
    h->mem_head = (h->mem_head + n) % h->mem_cap;
    h->mem_len -= n;
    h->rpos += (int64_t)n;
    if (h->rpos == h->size)
        h->mem_len = h->mem_head = h->size = h->rpos = 0;
}

/* Next held bytes into <buf>: the count (0 = nothing held right now), or WW_EIO. */
static int hold_read(struct hold *h, char *buf, size_t len)
{
    int64_t avail = h->size - h->rpos;
    size_t n;

    if (avail <= 0 || len == 0)
        return 0;
    n = avail < (int64_t)len ? (size_t)avail : len;
    if (h->fd < 0) {
        ring_copy_out(h, buf, n);
        hold_skip(h, n);
        return (int)n;
    } else {
        ssize_t r = pread(h->fd, buf, n, (off_t)h->rpos);
        if (r <= 0)
            return WW_EIO;
        n = (size_t)r;
    }
    h->rpos += (int64_t)n;
    if (h->rpos == h->size) {
        /* Passing a spooled body through: all sent, so the file can start over. */
        if (ftruncate(h->fd, 0) == 0)
            h->size = h->rpos = 0;
    }
    return (int)n;
}

/* Streaming keeps only a small tail held: once this much was given back, the unsent rest moves
 * to the front, so a long download never fills the spool folder. */
#define HOLD_COMPACT_AT (256 * 1024)

/* A spooled body as it streams out: once HOLD_COMPACT_AT bytes were read back, the unread rest
 * moves to the front of the file and the file shrinks. Memory holds compact in hold_append. */
static int hold_compact(struct hold *h)
{
    int64_t keep = h->size - h->rpos;
    char buf[16384];
    int64_t done = 0;

    if (h->fd < 0 || h->rpos < HOLD_COMPACT_AT)
        return WW_OK;
    /* The kept tail starts after everything copied, so chunks never overlap. */
    while (done < keep) {
        size_t n = keep - done < (int64_t)sizeof(buf) ? (size_t)(keep - done) : sizeof(buf);
        ssize_t r = pread(h->fd, buf, n, (off_t)(h->rpos + done));
        if (r <= 0 || pwrite(h->fd, buf, (size_t)r, (off_t)done) != r)
            return WW_EIO;
        done += r;
    }
    if (ftruncate(h->fd, (off_t)keep) != 0)
        return WW_EIO;
    h->size = keep;
    h->rpos = 0;
    return WW_OK;
}

/* ---- the body ---- */

#define RELEASE_ALL INT64_MAX

struct ww_body {
    struct ww_body_limits lim;
    unsigned flags;
    enum ww_body_state state;
    struct ww_scan *scan;  /* NULL once passing */
    struct ww_decode *dec; /* Content-Encoding gzip/deflate: the scanner sees the decoded file */
    /* With a Content-Encoding, the bytes as received are scanned too: what a client saves without
     * decoding, what a stream that turns invalid leaves undecoded, what its headers and metadata
     * hold (a gzip comment, a zstd skippable frame) never reach the decoded scan. */
    struct ww_scan *raw;
    struct hold hold;
    int64_t declared; /* Content-Length, -1 if unknown: a hint for the digests only */
    int64_t received; /* bytes put */
    int64_t limit;    /* bytes that may go out (RELEASE_ALL: every one) */
    int64_t sent;     /* bytes read back */
    int finished;     /* ww_scan_finish ran */
    char threat[256];
    char reason[112];
    char detail[160];
    struct ww_deepscan *deep; /* NULL: no deep scanner */
    /* With a Content-Encoding and a deep scanner: the bytes as received, watched for an archive
     * hidden in them (a zip in a gzip header's extra field, which decoding drops) */
    struct ww_deepscan *raw_deep;
    enum ww_action deep_limit_action;
    const char *scanner; /* who found the threat */
    const char *deep_outcome;
    enum ww_unscanned deep_kind; /* what the deep scanner could not do, when it could not */
    /* The true type, told from the first decoded bytes whatever the deep scanner does, for
     * limits.block_types (issue 14). */
    unsigned char peek[WW_FILETYPE_PEEK];
    size_t peek_len;
    int ftype;        /* enum ww_filetype, -1 until told */
    int type_blocked; /* 1: refused by block_types (reason set) */
    /* block_types has "archive" and the body is of a type an archive may hide in (an image, a
     * text...): every decoded byte is searched for an archive's signature (a polyglot). */
    int embed_on;
    struct ww_filetype_embed embed;
};

static int body_refused(struct ww_body *b, const char *detail);
static int body_infected(struct ww_body *b, const char *threat);
static int body_unscanned(struct ww_body *b, const char *reason, const char *detail);

int ww_body_apply_args(struct ww_body_limits *lim, const char *args)
{
    static struct ww_log_limit loglim;
    const char *p = args;
    int unknown = 0;

    while (p != NULL && *p != '\0') {
        size_t n = strcspn(p, "&");
        if (n == sizeof("hold_all=on") - 1 && strncmp(p, "hold_all=on", n) == 0) {
            lim->hold_all = 1;
        } else if (n == sizeof("hold_all=off") - 1 && strncmp(p, "hold_all=off", n) == 0) {
            lim->hold_all = 0;
        } else if (n > 0) {
            unknown++;
            if (ww_log_limit_allow(&loglim, 0, 60000))
                ww_log(WW_LOG_WARN,
                       "webwarden_scan: service argument \"%.*s\" unknown (known: hold_all=on|off)",
                       (int)(n < 200 ? n : 200), p);
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return unknown;
}

void ww_body_limits_from_conf(struct ww_body_limits *lim, const struct ww_conf *conf)
{
    memset(lim, 0, sizeof(*lim));
    lim->max_size = conf->scan.max_size;
    lim->hold_max = conf->scan.hold_max;
    lim->max_expanded_size = conf->scan.max_expanded_size;
    lim->max_ratio = conf->scan.max_ratio;
    lim->bomb_action = conf->scan.bomb_action;
    lim->oversize_action = conf->scan.oversize_action;
    lim->no_patterns_action = conf->scan.no_patterns_action;
    lim->undecodable_action = conf->scan.undecodable_action;
    lim->budget_action = conf->scan.budget_action;
    lim->unsupported_action = conf->clamav.unsupported_action;
    lim->partial_action = conf->scan.partial_action;
    lim->hold_all = conf->scan.hold_all;
    lim->hold_204_max = conf->scan.hold_204_max;
    lim->hold_memory = conf->scan.hold_memory;
    lim->tmp_dir = conf->scan.tmp_dir != NULL ? conf->scan.tmp_dir : "/tmp";
    lim->deep = 1; /* as configured: clamav.enabled and a loaded engine decide */
}

int ww_body_limits_drop(struct ww_body_limits *lim, int allow204, int64_t content_length)
{
    if (!allow204)
        return 0;
    if (content_length >= 0 && content_length <= lim->hold_204_max)
        lim->hold_all = 1;
    return lim->hold_all;
}

void ww_body_limits_apply_policy(struct ww_body_limits *lim, const struct ww_policy *pol)
{
    if (pol == NULL)
        return;
    lim->max_size = pol->max_size; /* scan.max_size, or the policy's own */
    lim->block_types = pol->block_types;
    lim->policy = pol->name;
    if (pol->deep >= 0)
        lim->deep = pol->deep;
}

struct ww_body *ww_body_create(const struct ww_body_limits *lim, int64_t declared, unsigned flags)
{
    struct ww_body *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return NULL;
    b->lim = *lim;
    if (b->lim.tmp_dir == NULL)
        b->lim.tmp_dir = "/tmp";
    b->flags = flags;
    b->state = WW_BODY_HOLDING;
    b->declared = declared;
    b->ftype = -1;
    hold_init(&b->hold);
    return b;
}

void ww_body_free(struct ww_body *b)
{
    if (b == NULL)
        return;
    ww_scan_free(b->scan);
    ww_scan_free(b->raw);
    ww_decode_free(b->dec);
    ww_deepscan_free(b->deep);
    ww_deepscan_free(b->raw_deep);
    hold_cleanup(&b->hold);
    free(b);
}

/* The one place decoders are made: from every Content-Encoding header value of the response,
 * in order, each a comma-separated list: the whole chain (gzip, x-gzip, deflate, br, zstd),
 * undone from the last applied (issue 12). A coding that cannot be undone goes to
 * undecodable_action, never scanned as sent. WW_BODY_MORE, WW_BODY_BLOCK or WW_BODY_UNSCANNED
 * (a coding that cannot be decoded), or WW_ENOMEM. */
static int body_decoders_create(struct ww_body *b, const char *const *codings, size_t n)
{
    struct ww_encodings encs;
    char detail[120];

    ww_encodings_init(&encs);
    for (size_t i = 0; i < n; i++)
        if (codings[i] != NULL)
            ww_encodings_add_value(&encs, codings[i], ww_header_value_len(codings[i]));
    if (encs.undecodable) {
        snprintf(detail, sizeof(detail), "Content-Encoding \"%.63s\" cannot be decoded", encs.bad);
        if (b->lim.block_types != 0) {
            /* The true type cannot be told: under a policy that refuses types, a coding the
             * gateway cannot undo must not carry one past it (issue 14). */
            snprintf(b->reason, sizeof(b->reason), "file type unknown blocked by policy %.60s",
                     b->lim.policy != NULL ? b->lim.policy : "default");
            snprintf(b->detail, sizeof(b->detail), "%s: the true type cannot be told", detail);
            b->type_blocked = 1;
            return body_infected(b, WW_THREAT_FILETYPE);
        }
        if (b->lim.undecodable_action == WW_ACTION_BLOCK) {
            snprintf(b->reason, sizeof(b->reason), "Content-Encoding not decodable");
            snprintf(b->detail, sizeof(b->detail), "%s (scan.undecodable_action = block)", detail);
            return body_infected(b, WW_THREAT_UNDECODABLE);
        }
        return body_unscanned(b, "Content-Encoding not decodable", detail);
    }
    if (encs.n > 0) {
        b->dec = ww_decode_create_chain(&encs, b->lim.max_expanded_size, b->lim.max_ratio);
        if (b->dec == NULL)
            return WW_ENOMEM;
    }
    return WW_BODY_MORE;
}

int ww_body_start(struct ww_body *b, struct ww_engine *e, const char *const *codings, size_t n)
{
    int d = body_decoders_create(b, codings, n);

    if (d != WW_BODY_MORE)
        return d;
    if (e == NULL) {
        /* A fresh install waiting for its first pattern: never silently clean. */
        if (b->lim.no_patterns_action == WW_ACTION_BLOCK) {
            snprintf(b->reason, sizeof(b->reason), "no patterns");
            snprintf(b->detail, sizeof(b->detail),
                     "no malware patterns loaded (scan.no_patterns_action = block)");
            return body_infected(b, WW_THREAT_NO_PATTERNS);
        }
        return body_unscanned(b, "no patterns",
                              "no malware patterns loaded (scan.no_patterns_action = allow)");
    }
    if (b->declared > b->lim.max_size && b->lim.oversize_action == WW_ACTION_BLOCK) {
        /* Refused whatever the body really holds: a lying length only gets the page. */
        char detail[160];
        snprintf(detail, sizeof(detail), "Content-Length %" PRId64 " over scan.max_size %" PRId64,
                 b->declared, b->lim.max_size);
        return body_refused(b, detail);
    }
    /* The hash signatures are of the decoded file, whose size Content-Length does not give. */
    b->scan = ww_scan_create(e, b->dec == NULL && b->declared >= 0 ? b->declared : -1,
                             (b->flags & WW_BODY_SHA256) ? WW_SCAN_SHA256 : 0);
    if (b->scan == NULL)
        return WW_ENOMEM;
    if (b->dec != NULL) { /* Content-Length is the size of these bytes: hash signatures apply */
        b->raw = ww_scan_create(e, b->declared, 0);
        if (b->raw == NULL)
            return WW_ENOMEM;
        b->raw_deep = ww_deepscan_watcher(b->deep);
    }
    return d;
}

/* An archive hidden in the body (block_types has "archive"): 1 when found in <p> (reason set). */
static int body_embed_check(struct ww_body *b, const void *p, size_t len)
{
    int64_t at = -1;
    enum ww_filetype t = ww_filetype_embed_feed(&b->embed, p, len, &at);

    if (t == WW_FT_UNKNOWN)
        return 0;
    b->type_blocked = 1;
    b->embed_on = 0;
    snprintf(b->reason, sizeof(b->reason), "file type %s+%s blocked by policy %.50s",
             ww_filetype_name((enum ww_filetype)b->ftype), ww_filetype_name(t),
             b->lim.policy != NULL ? b->lim.policy : "default");
    snprintf(b->detail, sizeof(b->detail),
             "a %s archive hidden at byte %" PRId64 " of a %s body: archive is in block_types of "
             "policy %.50s",
             ww_filetype_name(t), at, ww_filetype_name((enum ww_filetype)b->ftype),
             b->lim.policy != NULL ? b->lim.policy : "default");
    return 1;
}

/* Tells the true type from the bytes peeked so far and checks it against the policy's
 * block_types: 1 when the type is refused (reason set), else 0. Once per body. */
static int body_type_told(struct ww_body *b)
{
    enum ww_filetype t = ww_filetype_detect(b->peek, b->peek_len);
    const char *group = ww_filetype_group(t);

    b->ftype = (int)t;
    if (b->lim.block_types == 0)
        return 0;
    if ((b->lim.block_types & ww_ftype_bit(group)) == 0) {
        /* Not refused by its start; an archive appended to an image is still an archive. Office
         * documents (OOXML and ODF are zips) and executables (installers) are left to their own
         * group. */
        b->embed_on = (b->lim.block_types & WW_FTYPE_ARCHIVE) != 0 &&
                      strcmp(group, "office") != 0 && strcmp(group, "executable") != 0;
        if (b->embed_on) {
            ww_filetype_embed_init(&b->embed);
            if (strcmp(group, "text") == 0 || strcmp(group, "html") == 0)
                ww_filetype_embed_text(&b->embed);
            return body_embed_check(b, b->peek, b->peek_len);
        }
        return 0;
    }
    b->type_blocked = 1;
    snprintf(b->reason, sizeof(b->reason), "file type %s blocked by policy %.60s",
             ww_filetype_name(t), b->lim.policy != NULL ? b->lim.policy : "default");
    snprintf(b->detail, sizeof(b->detail),
             "the body's true type %s (%s) is in block_types of policy %.60s", ww_filetype_name(t),
             group, b->lim.policy != NULL ? b->lim.policy : "default");
    return 1;
}

/* The fast engine's threat: in the decoded body, else in the bytes as received, else NULL. */
static const char *body_fast_threat(const struct ww_body *b)
{
    const char *t = b->scan != NULL ? ww_scan_threat(b->scan) : NULL;

    return t != NULL ? t : b->raw != NULL ? ww_scan_threat(b->raw) : NULL;
}

/* The one place the decoded body passes, in order (identity or after Content-Encoding): its
 * first bytes tell the true type. 1 = a signature matched or the type is refused. */
static int body_decoded(struct ww_body *b, const void *data, size_t len)
{
    if (b->ftype < 0) {
        size_t n = sizeof(b->peek) - b->peek_len < len ? sizeof(b->peek) - b->peek_len : len;
        memcpy(b->peek + b->peek_len, data, n);
        b->peek_len += n;
        if (b->peek_len == sizeof(b->peek) && body_type_told(b))
            return 1; /* refused before any of these bytes is kept */
        if (b->embed_on && n < len && body_embed_check(b, (const char *)data + n, len - n))
            return 1;
    } else if (b->embed_on && body_embed_check(b, data, len)) {
        return 1;
    }
    /* A failure to keep a body for the deep scanner makes its result "unscanned" at the end. */
    ww_deepscan_feed(b->deep, data, len);
    return ww_scan_feed(b->scan, data, len);
}

static int decode_sink(const void *data, size_t len, void *arg)
{
    return body_decoded(arg, data, len); /* non-zero (a match) stops decoding */
}

/* Feeds received bytes to the scanner, decoded when the body has a Content-Encoding, and then
 * also as received (b->raw). 1 = a signature matched, 2 = the true type is refused (block_types),
 * 0 = nothing yet, WW_ETOOBIG = a decode limit was passed. A body that is not valid for its coding
 * is scanned as it is from there on (logged). */
static int body_feed(struct ww_body *b, const char *data, size_t len)
{
    int rc;

    if (b->raw != NULL && ww_scan_feed(b->raw, data, len))
        return 1;
    ww_deepscan_feed(b->raw_deep, data, len); /* a failure: UNSCANNED at the end if it mattered */
    if (b->dec == NULL) {
        rc = body_decoded(b, data, len);
        return rc == 1 && b->type_blocked ? 2 : rc;
    }
    rc = ww_decode_feed(b->dec, data, len, decode_sink, b);
    if (b->type_blocked)
        return 2;
    if (ww_scan_threat(b->scan) != NULL)
        return 1;
    if (rc == WW_ETOOBIG)
        return WW_ETOOBIG;
    if (rc != WW_OK) {
        ww_log(WW_LOG_WARN,
               "body: Content-Encoding data invalid after %" PRId64
               " bytes: the rest is scanned as it is (and all of it as received)",
               ww_decode_bytes_in(b->dec));
        ww_decode_free(b->dec);
        b->dec = NULL;
        return body_decoded(b, data, len);
    }
    return 0;
}

/* Memory a held body may use before it goes to a temp file: whole bodies (hold_all) spool beyond
 * hold_memory (or hold_max, if larger); otherwise a body streams once it passes hold_max and the
 * window keeps it in memory. */
static size_t hold_cap(const struct ww_body *b)
{
    if (b->lim.hold_all)
        return (size_t)(b->lim.hold_memory > b->lim.hold_max ? b->lim.hold_memory
                                                             : b->lim.hold_max);
    return (size_t)(b->lim.hold_max + WW_BODY_STREAM_WINDOW);
}

/* Keeps bytes for the answer: held, spooled past hold_cap, or dropped (WW_BODY_DROP). */
static int body_keep(struct ww_body *b, const char *data, size_t len)
{
    if (b->flags & WW_BODY_DROP)
        return WW_OK;
    return hold_append(&b->hold, data, len, hold_cap(b), b->lim.tmp_dir);
}

/* Streaming: every received byte but the last max(<len>, STREAM_KEEP) may go out. Never lowers
 * the limit. */
static void stream_set_limit(struct ww_body *b, size_t len)
{
    int64_t keep = (int64_t)len > WW_BODY_STREAM_KEEP ? (int64_t)len : WW_BODY_STREAM_KEEP;
    int64_t lim = b->received - keep;

    if (lim > b->limit)
        b->limit = lim;
}

/* The verdict is "infected by <threat>": a block while nothing could go out, else a cut. */
static int body_infected(struct ww_body *b, const char *threat)
{
    size_t i, n = 0;

    if (threat == NULL || threat[0] == '\0')
        threat = "Unknown";
    for (i = 0; threat[i] != '\0' && n + 1 < sizeof(b->threat); i++) {
        unsigned char c = (unsigned char)threat[i];
        if (c == '\t')
            c = ' ';
        else if (c < 0x20 || c == 0x7f)
            continue; /* no CR, LF or other control byte reaches a header or a log */
        b->threat[n++] = c == ';' ? '_' : (char)c;
    }
    b->threat[n] = '\0';
    hold_cleanup(&b->hold);
    if (b->state == WW_BODY_STREAMING) {
        b->state = WW_BODY_CUT_OFF;
        b->limit = b->sent;
        return WW_BODY_CUT;
    }
    b->state = WW_BODY_BLOCKED;
    return WW_BODY_BLOCK;
}

/* From here the body passes without a verdict. */
static int body_unscanned(struct ww_body *b, const char *reason, const char *detail)
{
    snprintf(b->reason, sizeof(b->reason), "%s", reason);
    snprintf(b->detail, sizeof(b->detail), "%s", detail != NULL ? detail : reason);
    ww_scan_free(b->scan);
    b->scan = NULL;
    ww_scan_free(b->raw);
    b->raw = NULL;
    b->state = WW_BODY_PASSING;
    if (!(b->flags & WW_BODY_DROP))
        b->limit = RELEASE_ALL;
    return WW_BODY_UNSCANNED;
}

int ww_body_pass(struct ww_body *b, const char *reason, const char *detail)
{
    return body_unscanned(b, reason, detail);
}

int ww_body_refuse(struct ww_body *b, const char *threat, const char *reason, const char *detail)
{
    snprintf(b->reason, sizeof(b->reason), "%s", reason);
    snprintf(b->detail, sizeof(b->detail), "%s", detail != NULL ? detail : reason);
    return body_infected(b, threat);
}

int ww_body_uncut(struct ww_body *b)
{
    if (b->state != WW_BODY_CUT_OFF)
        return WW_BODY_MORE;
    if (b->sent > 0)
        return WW_BODY_CUT;
    b->state = WW_BODY_BLOCKED;
    return WW_BODY_BLOCK;
}

int ww_body_partial(struct ww_body *b)
{
    if (b->lim.partial_action != WW_ACTION_BLOCK)
        return WW_BODY_MORE;
    return ww_body_refuse(b, WW_THREAT_PARTIAL, "partial content",
                          "a partial response (206 / Content-Range) for an object not cut or "
                          "blocked before: only a part could be scanned (scan.partial_action = "
                          "block)");
}

/* Refused by scan.oversize_action = block: a block (or a cut) by policy, not malware. */
static int body_refused(struct ww_body *b, const char *detail)
{
    snprintf(b->reason, sizeof(b->reason), "over scan.max_size");
    snprintf(b->detail, sizeof(b->detail), "%s", detail);
    return body_infected(b, WW_THREAT_OVERSIZE);
}

/* More bytes than scan.max_size arrived: the policy decides, the current bytes included. */
static int body_oversize(struct ww_body *b, const char *data, size_t len)
{
    char detail[160];
    int d, rc;

    snprintf(detail, sizeof(detail), "%" PRId64 " bytes over scan.max_size %" PRId64, b->received,
             b->lim.max_size);
    if (b->lim.oversize_action == WW_ACTION_BLOCK)
        return body_refused(b, detail);
    d = body_unscanned(b, "over scan.max_size", detail);
    rc = body_keep(b, data, len);
    return rc != WW_OK ? rc : d;
}

int ww_body_put(struct ww_body *b, const void *data, size_t len)
{
    int rc;

    b->received += (int64_t)len;
    if (b->state == WW_BODY_BLOCKED || b->state == WW_BODY_CUT_OFF ||
        b->state == WW_BODY_DONE_CLEAN)
        return WW_BODY_MORE; /* the verdict is final: the rest is read and dropped */
    if (b->state == WW_BODY_PASSING)
        return body_keep(b, data, len);
    if (b->scan == NULL)
        return WW_EINVAL; /* ww_body_start was not called */
    if (b->received > b->lim.max_size)
        return body_oversize(b, data, len);
    switch (body_feed(b, data, len)) {
    case 1:
        /* Infected whatever follows: when nothing went out yet the block page goes now. */
        b->scanner = "fast";
        return body_infected(b, body_fast_threat(b));
    case 2:
        return body_infected(b, WW_THREAT_FILETYPE); /* by policy, known at the start */
    case WW_ETOOBIG:
        if (b->lim.bomb_action == WW_ACTION_BLOCK)
            return body_infected(b, WW_THREAT_BOMB);
        rc = body_unscanned(b, "over the decode limits", NULL);
        return body_keep(b, data, len) != WW_OK ? WW_EIO : rc;
    }
    rc = body_keep(b, data, len);
    if (rc != WW_OK)
        return rc;
    if (b->state == WW_BODY_STREAMING) {
        /* Everything but the last bytes is scanned and may go: the tail waits for the hash
         * signatures at the end, so a late match still keeps the download from completing. */
        stream_set_limit(b, len);
        return WW_BODY_MORE;
    }
    if (!b->lim.hold_all && b->received > b->lim.hold_max) {
        /* Squid 5.7 stops reading the origin once its 64 KiB pipe is full and waits for us (bug
         * 5352): the answer starts now and streams what is scanned, keeping the last chunk. */
        b->state = WW_BODY_STREAMING;
        stream_set_limit(b, len);
        return WW_BODY_RELEASE;
    }
    return WW_BODY_MORE;
}

size_t ww_body_room(struct ww_body *b, size_t avail)
{
    struct hold *h = &b->hold;
    int64_t room, window = b->lim.hold_max + WW_BODY_STREAM_WINDOW;

    if ((b->state != WW_BODY_STREAMING && b->state != WW_BODY_PASSING) || h->fd >= 0)
        return avail;
    if (b->limit <= b->sent)
        return avail;
    room = window - (int64_t)h->mem_len;
    if (room <= 0)
        return 0;
    return room < (int64_t)avail ? (size_t)room : avail;
}

void ww_body_set_deep(struct ww_body *b, struct ww_deepscan *d, enum ww_action limit_action)
{
    ww_deepscan_free(b->deep);
    b->deep = d;
    b->deep_limit_action = limit_action;
}

const char *ww_body_scanner(const struct ww_body *b)
{
    return b->scanner != NULL ? b->scanner : "-";
}

const char *ww_body_type(const struct ww_body *b)
{
    /* The deep scanner's name says more ("image+zip": a polyglot), unless the policy refused
     * the body before the deep scanner saw a byte. */
    if (b->deep != NULL && !b->type_blocked)
        return ww_deepscan_type_name(b->deep);
    return b->ftype >= 0 ? ww_filetype_name((enum ww_filetype)b->ftype) : "-";
}

int ww_body_type_blocked(const struct ww_body *b)
{
    return b->type_blocked;
}

const char *ww_body_deep(const struct ww_body *b)
{
    return b->deep_outcome != NULL ? b->deep_outcome : "-";
}

/* The deep scanner at the end of a body the fast engine found clean: 1 and <threat> when it
 * blocks (a finding, or a limit hit under limit_action block), else 0 (a limit hit under allow
 * leaves the reason set: the body is unscanned, not clean). */
static int body_deep_end(struct ww_body *b, char *threat, size_t threatlen)
{
    struct ww_deep_result r;
    enum ww_action action;
    int ran;

    if (b->deep == NULL) {
        b->deep_outcome = "off";
        return 0;
    }
    ran = ww_deepscan_finish(b->deep, &r);
    if (b->raw_deep != NULL && (ran == 0 || r.verdict == WW_DEEP_CLEAN)) {
        /* an archive hidden in the bytes as received says more than the decoded body did */
        struct ww_deep_result rr;
        if (ww_deepscan_finish(b->raw_deep, &rr) == 1 &&
            (ran == 0 || rr.verdict != WW_DEEP_CLEAN)) {
            r = rr;
            ran = 1;
        }
    }
    if (ran == 0) {
        b->deep_outcome = "skipped";
        return 0;
    }
    if (r.verdict == WW_DEEP_CLEAN) {
        b->deep_outcome = "clean";
        return 0;
    }
    b->scanner = "clamav";
    snprintf(threat, threatlen, "%s", r.threat);
    if (r.verdict == WW_DEEP_INFECTED) {
        b->deep_outcome = "infected";
        ww_ctr_add(WW_CTR_DETECT_CLAMAV, 1); /* a limit hit below is no detection */
        return 1;
    }
    b->deep_outcome = "unscanned";
    b->deep_kind =
        strstr(r.threat, "MaxFileSize") != NULL || strstr(r.threat, "MaxScanSize") != NULL
            ? WW_UNSCANNED_DEEP_SIZE
        : strncmp(r.threat, "Webwarden.DeepScan.Unsupported.", 31) == 0
            ? WW_UNSCANNED_DEEP_UNSUPPORTED
        : strncmp(r.threat, "Heuristics.Encrypted", 20) == 0       ? WW_UNSCANNED_DEEP_ENCRYPTED
        : strncmp(r.threat, "Heuristics.Limits.Exceeded", 26) == 0 ? WW_UNSCANNED_DEEP_LIMIT
                                                                   : WW_UNSCANNED_DEEP_ERROR;
    /* Too large for the deep scanner follows the size policy (scan.oversize_action, as a body
     * past scan.max_size does); a format libclamav cannot open clamav.unsupported_action; the
     * other limits (nesting, members, time) and encrypted archives clamav.limit_action. */
    if (strstr(r.threat, "MaxFileSize") != NULL || strstr(r.threat, "MaxScanSize") != NULL)
        action = b->lim.oversize_action;
    else if (strncmp(r.threat, "Webwarden.DeepScan.Unsupported.", 31) == 0)
        action = b->lim.unsupported_action; /* zstd, lz4, lzip, LZMA-packed zip members */
    else
        action = b->deep_limit_action;
    snprintf(b->reason, sizeof(b->reason), "deep scan incomplete");
    snprintf(b->detail, sizeof(b->detail), "%s body: %.100s (%s)", ww_body_type(b), r.threat,
             action == WW_ACTION_BLOCK ? "block" : "allow");
    return action == WW_ACTION_BLOCK;
}

int ww_body_end(struct ww_body *b, int answer_started, ww_body_smart_fn smart, void *arg)
{
    char threat[256];
    int infected;

    if (b->state != WW_BODY_HOLDING && b->state != WW_BODY_STREAMING)
        return WW_BODY_MORE; /* decided before */
    if (b->scan == NULL)
        return WW_EINVAL;
    if (b->ftype < 0 && body_type_told(b)) {
        /* A body shorter than the peek: its type is known only now, and it is still held. */
        if (b->state == WW_BODY_STREAMING && !answer_started)
            b->state = WW_BODY_HOLDING;
        return body_infected(b, WW_THREAT_FILETYPE);
    }
    infected = ww_scan_finish(b->scan);
    if (b->raw != NULL && ww_scan_finish(b->raw))
        infected = 1;
    b->finished = 1;
    /* The deep scanner's end-of-body verdict is combined here, before smart scan. */
    if (infected) {
        b->scanner = "fast";
        snprintf(threat, sizeof(threat), "%s", body_fast_threat(b));
    } else {
        threat[0] = '\0';
        infected = body_deep_end(b, threat, sizeof(threat));
    }
    if (!infected && smart != NULL) {
        threat[0] = '\0';
        infected = smart(arg, ww_scan_sha256(b->scan), threat, sizeof(threat));
        if (infected)
            b->scanner = "smart";
    }
    if (infected) {
        if (b->state == WW_BODY_STREAMING && !answer_started)
            b->state = WW_BODY_HOLDING; /* nothing committed yet: the page is still possible */
        return body_infected(b, threat[0] ? threat : NULL);
    }
    if (ww_scan_incomplete(b->scan) != NULL ||
        (b->raw != NULL && ww_scan_incomplete(b->raw) != NULL)) {
        /* Not every signature was checked: unscanned, never clean (issue 12). */
        char detail[120];

        snprintf(detail, sizeof(detail), "%.110s",
                 ww_scan_incomplete(b->scan) != NULL ? ww_scan_incomplete(b->scan)
                                                     : ww_scan_incomplete(b->raw));
        if (b->lim.budget_action == WW_ACTION_BLOCK) {
            snprintf(b->reason, sizeof(b->reason), "scan budget spent");
            snprintf(b->detail, sizeof(b->detail), "%.110s (scan.budget_action = block)", detail);
            if (b->state == WW_BODY_STREAMING && !answer_started)
                b->state = WW_BODY_HOLDING;
            return body_infected(b, WW_THREAT_BUDGET);
        }
        return body_unscanned(b, "scan budget spent", detail);
    }
    b->state = WW_BODY_DONE_CLEAN;
    b->limit = RELEASE_ALL;
    return WW_BODY_CLEAN;
}

int ww_body_read(struct ww_body *b, void *buf, size_t len)
{
    int64_t room = b->limit - b->sent;
    int n;

    if (room <= 0)
        return 0;
    n = hold_read(&b->hold, buf, room < (int64_t)len ? (size_t)room : len);
    if (n < 0)
        return WW_EIO;
    /* A spooled body's file shrinks as it drains; in memory the ring just moves on. */
    if (n > 0 && (b->state == WW_BODY_STREAMING || b->state == WW_BODY_PASSING) &&
        hold_compact(&b->hold) != WW_OK)
        return WW_EIO;
    b->sent += n;
    return n;
}

int ww_body_peek(const struct ww_body *b, size_t max, struct iovec iov[2])
{
    const struct hold *h = &b->hold;
    int64_t ready = ww_body_ready(b);
    size_t n, first;

    if (h->fd >= 0 || ready <= 0 || max == 0)
        return 0;
    n = (size_t)ready;
    if (n > max)
        n = max;
    first = ring_first(h, n);
    iov[0].iov_base = h->mem + h->mem_head;
    iov[0].iov_len = first;
    if (first == n)
        return 1;
    iov[1].iov_base = h->mem;
    iov[1].iov_len = n - first;
    return 2;
}

int ww_body_skip(struct ww_body *b, size_t n)
{
    struct hold *h = &b->hold;

    if (h->fd >= 0 || (int64_t)n > b->limit - b->sent || n > h->mem_len)
        return WW_EINVAL;
    if (n > 0)
        hold_skip(h, n);
    b->sent += (int64_t)n;
    return WW_OK;
}

int64_t ww_body_ready(const struct ww_body *b)
{
    int64_t room = b->limit - b->sent, avail = b->hold.size - b->hold.rpos;

    if (room <= 0 || avail <= 0)
        return 0;
    return avail < room ? avail : room;
}

size_t ww_body_send_min(int after, size_t round)
{
    return after ? round : WW_BODY_SEND_BATCH;
}

int ww_body_send_wait(const struct ww_body *b, int after, int refused)
{
    return !after && !refused && ww_body_ready(b) > 0;
}

int ww_body_drained(const struct ww_body *b)
{
    return b->limit == RELEASE_ALL && b->hold.size == b->hold.rpos;
}

enum ww_body_state ww_body_state(const struct ww_body *b)
{
    return b->state;
}

int64_t ww_body_received(const struct ww_body *b)
{
    return b->received;
}

int64_t ww_body_sent(const struct ww_body *b)
{
    return b->sent;
}

const char *ww_body_threat(const struct ww_body *b)
{
    return b->threat;
}

const char *ww_body_sha256(const struct ww_body *b)
{
    const char *s = b->scan != NULL && b->finished ? ww_scan_sha256(b->scan) : NULL;

    return s != NULL ? s : "-";
}

const char *ww_body_reason(const struct ww_body *b)
{
    return b->reason;
}

enum ww_unscanned ww_body_unscanned_kind(const struct ww_body *b)
{
    static const struct {
        const char *reason;
        enum ww_unscanned kind;
    } kinds[] = {
        {"over scan.max_size", WW_UNSCANNED_SIZE},
        {"Content-Encoding not decodable", WW_UNSCANNED_UNDECODABLE},
        {"over the decode limits", WW_UNSCANNED_DECODE_LIMIT},
        {"no patterns", WW_UNSCANNED_NO_PATTERNS},
        {"scan budget spent", WW_UNSCANNED_BUDGET},
        {WW_BODY_REASON_PARTIAL, WW_UNSCANNED_PARTIAL},
    };

    if (b == NULL || b->reason[0] == '\0')
        return WW_UNSCANNED_NONE;
    if (b->deep_kind != WW_UNSCANNED_NONE && strcmp(b->reason, "deep scan incomplete") == 0)
        return b->deep_kind;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(b->reason, kinds[i].reason) == 0)
            return kinds[i].kind;
    return WW_UNSCANNED_OTHER;
}

const char *ww_unscanned_name(enum ww_unscanned k)
{
    static const char *const names[WW_UNSCANNED_N] = {
        [WW_UNSCANNED_NONE] = "",
        [WW_UNSCANNED_SIZE] = "size",
        [WW_UNSCANNED_UNDECODABLE] = "undecodable",
        [WW_UNSCANNED_DECODE_LIMIT] = "decode_limit",
        [WW_UNSCANNED_NO_PATTERNS] = "no_patterns",
        [WW_UNSCANNED_BUDGET] = "budget",
        [WW_UNSCANNED_PARTIAL] = "partial",
        [WW_UNSCANNED_DEEP_SIZE] = "deep_size",
        [WW_UNSCANNED_DEEP_LIMIT] = "deep_limit",
        [WW_UNSCANNED_DEEP_ENCRYPTED] = "deep_encrypted",
        [WW_UNSCANNED_DEEP_UNSUPPORTED] = "deep_unsupported",
        [WW_UNSCANNED_DEEP_ERROR] = "deep_error",
        [WW_UNSCANNED_OTHER] = "other",
    };
    return (unsigned)k < WW_UNSCANNED_N ? names[k] : "other";
}

const char *ww_body_detail(const struct ww_body *b)
{
    return b->detail;
}

void ww_body_explain(const struct ww_body *b, char *out, size_t outlen)
{
    const char *why = b->reason[0] ? b->reason : "malware detected";

    if (b->state == WW_BODY_PASSING)
        snprintf(out, outlen, "%s", b->reason);
    else if (b->state == WW_BODY_CUT_OFF)
        snprintf(out, outlen, "%s after %" PRId64 " bytes went out: download cut", why, b->sent);
    else if (b->state == WW_BODY_BLOCKED && b->type_blocked)
        snprintf(out, outlen, "%s", b->reason);
    else if (b->state == WW_BODY_BLOCKED && b->reason[0])
        snprintf(out, outlen, "%s: not scanned", b->reason);
    else if (b->state == WW_BODY_BLOCKED)
        snprintf(out, outlen, "malware detected: %s", b->threat);
    else if (outlen > 0)
        out[0] = '\0';
}
