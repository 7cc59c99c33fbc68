/* lib/ww_sig.c - ClamAV .ndb body signatures compiled into one anchor index and matched as the
 * body streams in.
 *
 * Shape of a compiled signature: a signature is a list of parts separated by unbounded gaps
 * ('*', '{n-}'); a part is a list of fixed-length segments separated by bounded gaps ('{n}',
 * '{n-m}', '{-n}'), so a part has a bounded extent; a segment is a run of byte positions, each
 * a value/mask pair ('??', 'a?', '?a' are masks), plus fixed-length alternative groups.
 *
 * Each part has an anchor: its best run of exact bytes (>= 2). All anchors go into ONE index
 * keyed by a short window of the anchor, so the cost per scanned byte does not depend on the
 * number of signatures:
 *   - anchors of >= 11 bytes: 4-byte windows, probed only at every 8th stream position (one of
 *     8 consecutive windows of the anchor always starts at such a position: 8 keys), through a
 *     blocked Bloom filter (3 bits in one 64-bit word) and then an open-addressing table of
 *     exact keys ("stride 8"); anchors of 7..10 bytes the same at every 4th position;
 *   - anchors of 4..6 bytes: the same structure, probed at every position;
 *   - anchors of 2..3 bytes: a direct 65536-entry table on a 2-byte window, every position.
 * Wide mode, when every indexed anchor has >= 11 bytes (the usual bulk, and the benchmark):
 * anchors of >= 16 bytes are keyed instead by the window each aligned 8-byte block of the
 * stream picks by its content (wide_pick_scalar: the lowest rank of its first 6 windows). The
 * blocks inside an anchor pick the same window for several of its alignments, so ~2.3 keys per
 * anchor instead of 8: a filter a quarter the size (512 KiB for 100,000 anchors), which stays in
 * the cache next to c-icap's buffers. The scan of a block is SIMD where the CPU has it (8 blocks
 * per step with AVX-512, one PHMINPOSUW per block with SSE4.1), portable C elsewhere; every
 * path picks the same windows (t/check_sig runs the same scans through each).
 * The index is the automaton's goto function collapsed to its dense form: the state after a
 * byte is the last 4 (or 2) bytes, so there is no dependent table walk per byte (a classic
 * Aho-Corasick trie with 100,000 anchors misses the cache on every step). An index hit checks
 * the whole anchor, then the part around it (a bounded backtracking over its gaps), then the
 * signature's progress from part to part (one small state per multi-part signature and scan).
 *
 * Everything compiled lives in arrays addressed by index (no pointers), so the database could
 * be written into one block and memory-mapped by c-icap's children. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_log.h"
#include "ww_sig.h"

#define SIG_NAME_MAX 256
#define SIG_MAX_PARTS 64
#define SIG_MAX_ALTS 64
#define SIG_MAX_SEGS 256
#define SIG_MAX_SPAN 32768       /* most bytes one part may cover (bounded gaps included) */
#define SIG_MAX_OFFSET 65536     /* largest n in "n", "n,m", "EOF-n" (and m) */
#define SIG_VERIFY_BUDGET 200000 /* backtracking steps per check; beyond that: no match */
#define SIG_PENDING_MAX 4096     /* checks waiting for more bytes, per scan */
/* Backtracking steps one scan may spend in all: 20 million plus 64 per byte fed. A body built
 * to hit an anchor with a wide bounded gap at every byte would otherwise cost
 * hits x gap width; past the cap the scan stops checking body signatures and the body is
 * incomplete (ww_sigscan_incomplete): never clean (issue 12). A part whose one check could cost
 * more than SIG_VERIFY_BUDGET steps is refused when loaded, so a check that runs out of its
 * budget can only be a bug or a body the loader did not foresee: incomplete as well. */
#ifndef SIG_SCAN_STEPS_FIXED /* t/fuzz_sigmatch is built with a smaller one: more runs a second */
#define SIG_SCAN_STEPS_FIXED 20000000ULL
#endif
#define SIG_SCAN_STEPS_PER_BYTE 64ULL
/* A step is one segment tried, plus one per this many bytes compared (a long segment or anchor
 * costs its length): the unit of both budgets, and of the loader's worst case. */
#define SIG_BYTES_PER_STEP 4
#define SIG_NONE UINT32_MAX
#define SIG_BLOCK 1024 /* positions filtered before their passes are looked up */
#ifndef SIG_PREFETCH
#define SIG_PREFETCH 32 /* filter words fetched ahead of their test in the long-anchor loop */
#endif
/* Wide mode (issue 15): each aligned 8-byte block of the stream probes ONE 4-byte window, the
 * one of its first SIG_WIDE_CAND that ranks lowest by content (wide_pick). An anchor of
 * SIG_WIDE_MIN bytes holds a whole block's candidates (SIG_WIDE_SPAN bytes) wherever it lies, and
 * the blocks inside it pick the same window for several alignments, so it needs ~2 keys instead
 * of stride 8's 8: a Bloom filter a quarter the size, which stays in the cache. */
#define SIG_WIDE_CAND 6
#define SIG_WIDE_SPAN (SIG_WIDE_CAND + 3)
#define SIG_WIDE_MIN (SIG_WIDE_SPAN + 7)
#define SIG_WIDE_MUL 0x9E3779B1u
#ifndef SIG_BLOOM_KEYS_PER_WORD
#define SIG_BLOOM_KEYS_PER_WORD 4 /* tuned: 4 beat 2 and 8 on the 100,000-signature bench */
#endif

enum { OFF_ANY, OFF_ABS, OFF_EOF };
enum { V_NO = 0, V_YES = 1, V_MORE = 2 };

struct sig_alt {    /* a fixed-length alternative group inside a segment */
    uint32_t pos;   /* first byte position in the segment */
    uint16_t len;   /* bytes of each alternative */
    uint8_t nalt;   /* how many alternatives */
    uint8_t negate; /* "!(...)": none of them may match */
    uint32_t bytes; /* nalt * len bytes in db->alt_bytes */
};

struct sig_seg {
    uint32_t bytes;            /* len values, then len masks, in db->seg_bytes */
    uint32_t len;              /* byte positions */
    uint32_t alt_first, nalt;  /* in db->alts */
    uint32_t gap_min, gap_max; /* bounded gap before this segment; 0 for a part's first */
};

struct sig_part {
    uint32_t seg_first, nseg;
    uint32_t sig;        /* owning signature */
    uint32_t index;      /* position of the part in its signature */
    uint32_t gap_min;    /* unbounded gap before the part: at least this many bytes */
    uint32_t anchor_seg; /* relative segment number of the anchor */
    uint32_t anchor_off; /* the anchor's first byte inside that segment */
    uint32_t anchor_len; /* bytes, >= 2 */
    uint32_t anchor;     /* the anchor's bytes in db->seg_bytes (values of the segment) */
    uint32_t left_max;   /* most bytes from the part's start to the anchor */
    uint32_t right_max;  /* most bytes from the anchor to the part's end */
    uint32_t span_max;   /* left_max + right_max */
};

struct sig_sig {
    uint32_t name; /* in db->names */
    uint32_t part_first, nparts;
    uint32_t off_kind;  /* OFF_* */
    uint32_t off_n;     /* ABS: start >= n; EOF: start >= size - n */
    uint32_t off_shift; /* ... and <= that + shift ("n,m") */
    uint32_t multi;     /* state slot for multi-part signatures, else SIG_NONE */
};

struct sig_entry { /* one index key's target: the part and where the window sits in its anchor */
    uint32_t part;
    uint32_t woff;
};

struct sig_slot {
    uint32_t key, first, count; /* count 0: empty slot */
};

struct sig_index4 {  /* 4-byte windows */
    uint64_t *bloom; /* 1 << bloom_log2 words */
    uint32_t bloom_log2;
    int eight; /* 8 bits per key (bloom_bits8), not 3: wide mode's indexes */
    struct sig_slot *slots;
    uint32_t slot_mask;
    struct sig_entry *entries;
    size_t nentries;
};

struct sig_key { /* build-time only */
    uint32_t key, part, woff;
};

struct ww_sigdb {
    struct sig_sig *sigs;
    size_t nsigs, sigs_cap;
    struct sig_part *parts;
    size_t nparts, parts_cap;
    struct sig_seg *segs;
    size_t nsegs, segs_cap;
    struct sig_alt *alts;
    size_t nalts, alts_cap;
    unsigned char *seg_bytes;
    size_t seg_bytes_len, seg_bytes_cap;
    unsigned char *alt_bytes;
    size_t alt_bytes_len, alt_bytes_cap;
    char *names;
    size_t names_len, names_cap;
    /* compiled */
    int compiled;
    struct sig_index4 stride8, stride4, every4; /* anchors >= 11, 7..10, 4..6 bytes */
    /* When every indexed anchor has >= 11 bytes ("wide mode"): anchors are keyed by the windows
     * the scan picks by content (wide_pick), one per 8-byte block; an anchor of 11-15 bytes also
     * by stride 8's window at the alignments where no whole block lies in it. */
    struct sig_index4 wide;
    int wide_mode;
    int simd;             /* ww_sig_simd_max(), asked once */
    uint32_t *idx2_first; /* 65537 offsets into idx2_entries, or NULL when no short anchor */
    uint64_t *idx2_bits;  /* 65536 bits: which 2-byte keys have entries (8 KiB, stays in L1) */
    struct sig_entry *idx2_entries;
    size_t nidx2;
    uint32_t *abs_sigs; /* signatures with a fixed start offset */
    size_t nabs;
    uint32_t *eof_sigs; /* signatures anchored to the end */
    size_t neof;
    size_t nmulti;      /* multi-part signatures (one state each per scan) */
    size_t history;     /* bytes a scan keeps from earlier feeds */
    size_t nshort;      /* indexed parts anchored on < 11 bytes (they keep wide mode off) */
    size_t n8parts;     /* parts with stride-8 keys */
    uint32_t short_sig; /* the first one's signature */
};

struct sig_multi {
    uint32_t next;      /* part waited for */
    uint64_t min_start; /* where it may start at the earliest */
};

struct sig_pending {
    uint32_t part;
    uint64_t at; /* anchor position in the stream */
};

struct ww_sigscan {
    const struct ww_sigdb *db;
    const char *threat;
    uint64_t end;        /* bytes fed so far */
    unsigned char *hist; /* history: hist_len bytes at hist + hist_off end at <end> */
    size_t hist_off, hist_len, hist_cap;
    struct sig_multi *multi;
    uint32_t *abs_open; /* fixed-offset signatures not decided yet */
    size_t nabs_open;
    struct sig_pending *pending;
    size_t npending, pending_cap;
    uint32_t *cand;         /* SIG_BLOCK * 4 filter passes: offset in the block << 2 | index */
    uint64_t *abs_next;     /* per abs_open entry: the first start not yet tried (one pass) */
    uint64_t steps;         /* backtracking steps spent */
    int exhausted;          /* steps over the cap: body signatures no longer checked */
    const char *incomplete; /* why some check could not be made, or NULL */
    uint64_t wnext;         /* wide mode: the next 8-byte block not probed yet (a multiple of 8) */
    uint64_t w8ahead;       /* wide mode: 1 + that block's stride-8 window when probed ahead */
    int finished;
};

/* What a check may read: the history and the current chunk, back to back in the stream. */
struct sig_view {
    const unsigned char *h;
    uint64_t h_start;
    const unsigned char *c;
    uint64_t c_start;
    uint64_t end;
    int final; /* no byte will come after <end> */
    long budget;
};

/* ---------------------------------------------------------------- building */

static int vec_grow(void **p, size_t *cap, size_t need, size_t elsz)
{
    size_t ncap;
    void *np;

    if (need <= *cap)
        return WW_OK;
    ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    np = realloc(*p, ncap * elsz);
    if (np == NULL)
        return WW_ENOMEM;
    *p = np;
    *cap = ncap;
    return WW_OK;
}

#define VEC_PUSH(db, arr, n, cap, out)                                                             \
    (vec_grow((void **)&(db)->arr, &(db)->cap, (db)->n + 1, sizeof(*(db)->arr)) != WW_OK           \
         ? NULL                                                                                    \
         : ((out) = &(db)->arr[(db)->n++]))

struct ww_sigdb *ww_sigdb_create(void)
{
    return calloc(1, sizeof(struct ww_sigdb));
}

static void index4_free(struct sig_index4 *ix)
{
    free(ix->bloom);
    free(ix->slots);
    free(ix->entries);
    memset(ix, 0, sizeof(*ix));
}

void ww_sigdb_free(struct ww_sigdb *db)
{
    if (db == NULL)
        return;
    free(db->sigs);
    free(db->parts);
    free(db->segs);
    free(db->alts);
    free(db->seg_bytes);
    free(db->alt_bytes);
    free(db->names);
    index4_free(&db->stride8);
    index4_free(&db->wide);
    index4_free(&db->stride4);
    index4_free(&db->every4);
    free(db->idx2_first);
    free(db->idx2_bits);
    free(db->idx2_entries);
    free(db->abs_sigs);
    free(db->eof_sigs);
    free(db);
}

/* Parses an unsigned decimal of at most <max>; advances *pp. */
static int parse_uint(const char **pp, uint32_t max, uint32_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;

    if (*p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max)
            return -1;
        p++;
    }
    *pp = p;
    *out = (uint32_t)v;
    return 0;
}

/* Build state of the signature being parsed; on error everything after the saved sizes is
 * dropped, so a bad line adds nothing. */
struct sig_build {
    struct ww_sigdb *db;
    struct sig_part *part; /* current part (index kept: arrays move) */
    size_t part_i, seg_i;
    int seg_open;
    char *err;
    size_t errlen;
};

static int build_fail(struct sig_build *b, const char *why)
{
    snprintf(b->err, b->errlen, "%s", why);
    return WW_EINVAL;
}

static int build_new_part(struct sig_build *b, uint32_t gap_min)
{
    struct ww_sigdb *db = b->db;
    struct sig_part *p;

    if (VEC_PUSH(db, parts, nparts, parts_cap, p) == NULL)
        return WW_ENOMEM;
    memset(p, 0, sizeof(*p));
    p->seg_first = (uint32_t)db->nsegs;
    p->gap_min = gap_min;
    p->sig = (uint32_t)db->nsigs;
    b->part_i = db->nparts - 1;
    return WW_OK;
}

static int build_new_seg(struct sig_build *b, uint32_t gap_min, uint32_t gap_max)
{
    struct ww_sigdb *db = b->db;
    struct sig_seg *s;

    if (db->parts[b->part_i].nseg >= SIG_MAX_SEGS)
        return build_fail(b, "more than 256 bounded gaps in one part");
    if (VEC_PUSH(db, segs, nsegs, segs_cap, s) == NULL)
        return WW_ENOMEM;
    memset(s, 0, sizeof(*s));
    s->bytes = (uint32_t)db->seg_bytes_len; /* positions are appended as values, masks follow */
    s->alt_first = (uint32_t)db->nalts;
    s->gap_min = gap_min;
    s->gap_max = gap_max;
    db->parts[b->part_i].nseg++;
    b->seg_i = db->nsegs - 1;
    b->seg_open = 1;
    return WW_OK;
}

/* Values and masks are stored [v0 v1 ... vn-1 m0 m1 ... mn-1]; while a segment grows its
 * positions are pushed as (value, mask) pairs and split at the segment's end. */
static int build_push_pos(struct sig_build *b, unsigned char val, unsigned char mask)
{
    struct ww_sigdb *db = b->db;

    if (vec_grow((void **)&db->seg_bytes, &db->seg_bytes_cap, db->seg_bytes_len + 2, 1) != WW_OK)
        return WW_ENOMEM;
    db->seg_bytes[db->seg_bytes_len++] = val;
    db->seg_bytes[db->seg_bytes_len++] = mask;
    db->segs[b->seg_i].len++;
    return WW_OK;
}

static int build_close_seg(struct sig_build *b)
{
    struct ww_sigdb *db = b->db;
    struct sig_seg *s = &db->segs[b->seg_i];
    unsigned char *p = db->seg_bytes + s->bytes, tmp[2 * 4096], *t = tmp;
    size_t i, n = s->len;

    if (!b->seg_open)
        return WW_OK;
    b->seg_open = 0;
    if (n * 2 > sizeof(tmp))
        t = malloc(n * 2);
    if (t == NULL)
        return WW_ENOMEM;
    for (i = 0; i < n; i++) {
        t[i] = p[2 * i];
        t[n + i] = p[2 * i + 1];
    }
    memcpy(p, t, n * 2);
    if (t != tmp)
        free(t);
    return WW_OK;
}

/* "(aa|bb)" / "(aabb|ccdd)" / "!(...)" at **pp (just past '('). */
static int build_alt(struct sig_build *b, const char **pp, int negate)
{
    struct ww_sigdb *db = b->db;
    const char *p = *pp;
    struct sig_alt *a;
    uint32_t len = 0, cur = 0, nalt = 0, i;
    size_t start = db->alt_bytes_len;

    for (;;) {
        int hi, lo;
        if (*p == '|' || *p == ')') {
            if (cur == 0)
                return build_fail(b, "empty alternative");
            if (nalt == 0)
                len = cur;
            else if (cur != len)
                return build_fail(b, "alternatives of different lengths are not supported");
            if (++nalt > SIG_MAX_ALTS)
                return build_fail(b, "too many alternatives");
            cur = 0;
            if (*p++ == ')')
                break;
            continue;
        }
        hi = ww_hex_val((unsigned char)p[0]);
        lo = hi < 0 ? -1 : ww_hex_val((unsigned char)p[1]);
        if (hi < 0 || lo < 0)
            return build_fail(b, (p[0] == 'B' || p[0] == 'L' || p[0] == 'W') && p[1] == ')'
                                     ? "character classes (B) (L) (W) are not supported"
                                     : "alternatives must be plain hex bytes");
        if (vec_grow((void **)&db->alt_bytes, &db->alt_bytes_cap, db->alt_bytes_len + 1, 1) !=
            WW_OK)
            return WW_ENOMEM;
        db->alt_bytes[db->alt_bytes_len++] = (unsigned char)(hi << 4 | lo);
        cur++;
        p += 2;
        if (cur > 255)
            return build_fail(b, "alternative longer than 255 bytes");
    }
    if (!b->seg_open) {
        int rc = build_new_seg(b, 0, 0);
        if (rc != WW_OK)
            return rc;
    }
    if (VEC_PUSH(db, alts, nalts, alts_cap, a) == NULL)
        return WW_ENOMEM;
    a->pos = db->segs[b->seg_i].len;
    a->len = (uint16_t)len;
    a->nalt = (uint8_t)nalt;
    a->negate = (uint8_t)negate;
    a->bytes = (uint32_t)start;
    db->segs[b->seg_i].nalt++;
    for (i = 0; i < len; i++) { /* the positions themselves accept anything */
        int rc = build_push_pos(b, 0, 0);
        if (rc != WW_OK)
            return rc;
    }
    *pp = p;
    return WW_OK;
}

/* Badness of a candidate window: bytes that fill real files (zeros, 0xff, spaces, NOP/INT3
 * padding) and repeats make a window hit often. */
static unsigned window_badness(const unsigned char *v, size_t n)
{
    unsigned bad = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (v[i] == 0x00 || v[i] == 0xff || v[i] == 0x20 || v[i] == 0x90 || v[i] == 0xcc)
            bad += 2;
        if (i > 0 && v[i] == v[i - 1])
            bad++;
    }
    return bad;
}

/* Most steps one try of segment <s> costs (seg_match). */
static uint64_t seg_cost(const struct ww_sigdb *db, const struct sig_seg *s)
{
    uint64_t bytes = s->len;
    uint32_t k;

    for (k = 0; k < s->nalt; k++)
        bytes += (uint64_t)db->alts[s->alt_first + k].nalt * (db->alts[s->alt_first + k].len + 1u);
    return 1 + bytes / SIG_BYTES_PER_STEP;
}

/* Worst-case steps of one check of part <p> matched from segment <from> (match_left down to the
 * first segment, match_right up to the last): a segment is tried once per combination of the
 * bounded gaps between it and <from>. Stops counting past SIG_VERIFY_BUDGET. */
static uint64_t part_cost(const struct ww_sigdb *db, const struct sig_part *p, uint32_t from)
{
    const struct sig_seg *segs = &db->segs[p->seg_first];
    uint64_t cost = 0, mult = 1;
    uint32_t k;

    for (k = from; k < p->nseg && cost <= SIG_VERIFY_BUDGET; k++) {
        if (k > from)
            mult *= (uint64_t)(segs[k].gap_max - segs[k].gap_min) + 1;
        if (mult > SIG_VERIFY_BUDGET)
            return SIG_VERIFY_BUDGET + 1;
        cost += mult * seg_cost(db, &segs[k]);
    }
    mult = 1;
    for (k = from; k > 0 && cost <= SIG_VERIFY_BUDGET; k--) {
        mult *= (uint64_t)(segs[k].gap_max - segs[k].gap_min) + 1;
        if (mult > SIG_VERIFY_BUDGET)
            return SIG_VERIFY_BUDGET + 1;
        cost += mult * seg_cost(db, &segs[k - 1]);
    }
    return cost;
}

/* Picks the part's anchor (longest run of exact bytes, least bad on ties) and its extents. */
static int build_finish_part(struct sig_build *b, int need_anchor)
{
    struct ww_sigdb *db = b->db;
    struct sig_part *p = &db->parts[b->part_i];
    uint32_t k, best_len = 0, best_seg = 0, best_off = 0;
    unsigned best_bad = 0;
    uint64_t left = 0, total = 0, cost;

    for (k = 0; k < p->nseg; k++) {
        const struct sig_seg *s = &db->segs[p->seg_first + k];
        const unsigned char *val = db->seg_bytes + s->bytes, *mask = val + s->len;
        uint32_t i = 0;

        while (i < s->len) {
            uint32_t j = i;
            while (j < s->len && mask[j] == 0xff)
                j++;
            if (j - i >= 2) {
                unsigned bad = window_badness(val + i, j - i);
                if (j - i > best_len || (j - i == best_len && bad < best_bad)) {
                    best_len = j - i;
                    best_seg = k;
                    best_off = i;
                    best_bad = bad;
                }
            }
            i = j + 1;
        }
    }
    if (best_len < 2)
        return build_fail(b, need_anchor ? "a part has no 2 consecutive exact bytes to anchor on"
                                         : "a part has no 2 consecutive exact bytes");
    p->anchor_seg = best_seg;
    p->anchor_off = best_off;
    p->anchor_len = best_len;
    p->anchor = db->segs[p->seg_first + best_seg].bytes + best_off;
    for (k = 0; k < p->nseg; k++) {
        const struct sig_seg *s = &db->segs[p->seg_first + k];
        if (k > 0)
            total += s->gap_max;
        if (k == best_seg)
            left = total + best_off;
        total += s->len;
    }
    if (total > SIG_MAX_SPAN)
        return build_fail(b, "a part spans more than 32768 bytes");
    /* Worst case of one check: every combination of the bounded gaps is tried, each costing
     * its segments' bytes (from the anchor, and from the start for an offset window). */
    cost = part_cost(db, p, p->anchor_seg);
    if (cost <= SIG_VERIFY_BUDGET) {
        uint64_t from_start = part_cost(db, p, 0);
        if (from_start > cost)
            cost = from_start;
    }
    if (cost > SIG_VERIFY_BUDGET)
        return build_fail(b, "worst-case check cost unbounded: its bounded gaps multiply past "
                             "200000 steps (narrow them, or split the part with '*')");
    p->left_max = (uint32_t)left;
    p->right_max = (uint32_t)(total - left);
    p->span_max = (uint32_t)total;
    return WW_OK;
}

static int parse_hexsig(struct sig_build *b, const char *p, const char *end, int off_kind)
{
    struct ww_sigdb *db = b->db;
    uint32_t nparts = 0;
    int rc;

    rc = build_new_part(b, 0);
    if (rc != WW_OK)
        return rc;
    nparts = 1;
    while (p < end) {
        if (*p == '*' || *p == '{') {
            uint32_t lo = 0, hi = UINT32_MAX;
            int unbounded = 0;

            if (b->seg_open != 1)
                return build_fail(b, "a gap at the start of the signature or after another gap");
            if (*p == '*') {
                unbounded = 1;
                p++;
            } else {
                p++;
                if (*p == '-') {
                    p++;
                    if (parse_uint(&p, SIG_MAX_SPAN, &hi) != 0)
                        return build_fail(b, "bad {-n} gap");
                } else {
                    if (parse_uint(&p, UINT32_MAX - 1, &lo) != 0)
                        return build_fail(b, "bad {n...} gap");
                    if (*p == '-') {
                        p++;
                        if (*p == '}')
                            unbounded = 1;
                        else if (parse_uint(&p, SIG_MAX_SPAN, &hi) != 0 || hi < lo)
                            return build_fail(b, "bad {n-m} gap");
                    } else {
                        hi = lo;
                    }
                    if (!unbounded && lo > SIG_MAX_SPAN)
                        return build_fail(b, "bounded gap over 32768 bytes");
                }
                if (*p != '}')
                    return build_fail(b, "missing '}'");
                p++;
            }
            rc = build_close_seg(b);
            if (rc != WW_OK)
                return rc;
            if (unbounded) {
                rc = build_finish_part(b, 1);
                if (rc != WW_OK)
                    return rc;
                if (++nparts > SIG_MAX_PARTS)
                    return build_fail(b, "more than 64 parts");
                rc = build_new_part(b, lo);
                if (rc != WW_OK)
                    return rc;
                db->parts[b->part_i].index = nparts - 1;
            } else {
                rc = build_new_seg(b, lo, hi);
                if (rc != WW_OK)
                    return rc;
                b->seg_open = 2; /* open but still empty: a gap may not follow */
            }
            continue;
        }
        if (b->seg_open == 2)
            b->seg_open = 1;
        if (*p == '(' || (*p == '!' && p[1] == '(')) {
            int negate = *p == '!';
            p += negate ? 2 : 1;
            rc = build_alt(b, &p, negate);
            if (rc != WW_OK)
                return rc;
            continue;
        }
        if (*p == '[')
            return build_fail(b, "[x-y] single-byte anchors are not supported");
        if (end - p < 2)
            return build_fail(b, "odd number of hex digits");
        {
            int hi = p[0] == '?' ? 0 : ww_hex_val((unsigned char)p[0]);
            int lo = p[1] == '?' ? 0 : ww_hex_val((unsigned char)p[1]);
            unsigned char mask =
                (unsigned char)((p[0] == '?' ? 0 : 0xf0) | (p[1] == '?' ? 0 : 0x0f));

            if (hi < 0 || lo < 0)
                return build_fail(b, "bad character in the hex signature");
            if (!b->seg_open) {
                rc = build_new_seg(b, 0, 0);
                if (rc != WW_OK)
                    return rc;
            }
            rc = build_push_pos(b, (unsigned char)(hi << 4 | lo), mask);
            if (rc != WW_OK)
                return rc;
            p += 2;
        }
    }
    if (!b->seg_open || b->seg_open == 2 || db->segs[b->seg_i].len == 0)
        return build_fail(b, "the signature is empty or ends with a gap");
    rc = build_close_seg(b);
    if (rc != WW_OK)
        return rc;
    rc = build_finish_part(b, 1);
    if (rc != WW_OK)
        return rc;
    (void)off_kind;
    return WW_OK;
}

/* "*", "n", "n,m", "EOF-n", "EOF-n,m". */
static int parse_offset(struct sig_build *b, const char *p, const char *end, struct sig_sig *s)
{
    uint32_t n = 0, m = 0;

    if (end - p == 1 && *p == '*') {
        s->off_kind = OFF_ANY;
        return WW_OK;
    }
    if (end - p > 4 && memcmp(p, "EOF-", 4) == 0) {
        s->off_kind = OFF_EOF;
        p += 4;
    } else if (*p >= '0' && *p <= '9') {
        s->off_kind = OFF_ABS;
    } else {
        return build_fail(b, "offset not supported (only *, n, n,m, EOF-n)");
    }
    if (parse_uint(&p, SIG_MAX_OFFSET, &n) != 0)
        return build_fail(b, "offset over 65536 or malformed");
    if (p < end && *p == ',') {
        p++;
        if (parse_uint(&p, SIG_MAX_OFFSET, &m) != 0)
            return build_fail(b, "offset shift over 65536 or malformed");
    }
    if (p != end)
        return build_fail(b, "malformed offset");
    s->off_n = n;
    s->off_shift = m;
    return WW_OK;
}

int ww_sigdb_add_line(struct ww_sigdb *db, const char *line, char *err, size_t errlen)
{
    struct sig_build b = {db, NULL, 0, 0, 0, err, errlen};
    const char *f[6], *p = line;
    size_t nf = 0, name_len, i;
    size_t save_sigs = db->nsigs, save_parts = db->nparts, save_segs = db->nsegs,
           save_alts = db->nalts, save_sb = db->seg_bytes_len, save_ab = db->alt_bytes_len,
           save_names = db->names_len;
    struct sig_sig sig;
    struct sig_sig *sp;
    int rc;

    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '#')
        return WW_OK;
    if (db->compiled)
        return build_fail(&b, "database already compiled");
    /* name:target:offset:hexsig[:min_flevel[:max_flevel]] */
    f[nf++] = line;
    for (p = line; *p != '\0'; p++) {
        if (*p == ':') {
            if (nf == 6)
                return build_fail(&b, "more than 6 fields");
            f[nf++] = p + 1;
        }
    }
    if (nf < 4)
        return build_fail(&b, "fewer than 4 fields (name:target:offset:hexsig)");
    name_len = (size_t)(f[1] - 1 - f[0]);
    if (name_len == 0 || name_len >= SIG_NAME_MAX)
        return build_fail(&b, "threat name empty or longer than 255 bytes");
    for (i = 0; i < name_len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            return build_fail(&b, "control character in the threat name");
    if (!(f[2] - 1 - f[1] == 1 && f[1][0] == '0'))
        return build_fail(&b, "target type other than 0 (any file) is not supported");
    memset(&sig, 0, sizeof(sig));
    rc = parse_offset(&b, f[2], f[3] - 1, &sig);
    if (rc != WW_OK)
        return rc;
    rc = parse_hexsig(&b, f[3], nf > 4 ? f[4] - 1 : f[3] + strlen(f[3]), (int)sig.off_kind);
    if (rc != WW_OK)
        goto undo;
    rc = WW_ENOMEM;
    if (vec_grow((void **)&db->names, &db->names_cap, db->names_len + name_len + 1, 1) != WW_OK)
        goto undo;
    sig.name = (uint32_t)db->names_len;
    memcpy(db->names + db->names_len, line, name_len);
    db->names[db->names_len + name_len] = '\0';
    db->names_len += name_len + 1;
    sig.part_first = (uint32_t)save_parts;
    sig.nparts = (uint32_t)(db->nparts - save_parts);
    sig.multi = SIG_NONE;
    if (VEC_PUSH(db, sigs, nsigs, sigs_cap, sp) == NULL)
        goto undo;
    *sp = sig;
    if (db->seg_bytes_len > UINT32_MAX / 2 || db->nparts > UINT32_MAX / 2) {
        rc = build_fail(&b, "database too large");
        goto undo;
    }
    return WW_OK;
undo:
    db->nsigs = save_sigs;
    db->nparts = save_parts;
    db->nsegs = save_segs;
    db->nalts = save_alts;
    db->seg_bytes_len = save_sb;
    db->alt_bytes_len = save_ab;
    db->names_len = save_names;
    return rc;
}

/* ---------------------------------------------------------------- compiling */

static inline uint64_t key_hash(uint32_t w)
{
    return (uint64_t)w * 0x9E3779B97F4A7C15ULL;
}

static inline uint64_t bloom_bits(uint64_t h)
{
    return (1ULL << ((h >> 20) & 63)) | (1ULL << ((h >> 26) & 63)) | (1ULL << ((h >> 32) & 63));
}

#define SIG_BLOOM_MIX2 0xD6E8FEB86659FD93ULL
/* Wide mode's 8 bits per key: the low 6 bits of each byte of a second mix of the hash (the word is
 * the hash's top bits). At ~3.5 keys per word a random probe passes about 1 in 400 instead of 1
 * in 170 with 3 bits (each pass is a table lookup that misses the cache); the AVX-512 loop tests
 * all 8 with one bit shuffle (bloom_test8), which reads positions from bytes just so. */
static inline uint64_t bloom_mix(uint64_t h)
{
    return ((h << 32) | (h >> 32)) * SIG_BLOOM_MIX2;
}

/* The bits that the low 4 bytes of <g> name. */
static inline uint64_t bloom_bits4(uint64_t g)
{
    return 1ULL << (g & 63) | 1ULL << ((g >> 8) & 63) | 1ULL << ((g >> 16) & 63) |
           1ULL << ((g >> 24) & 63);
}

static inline uint64_t bloom_bits8(uint64_t h)
{
    uint64_t g = bloom_mix(h);
    return bloom_bits4(g) | bloom_bits4(g >> 32);
}

static inline uint64_t index_bits(const struct sig_index4 *ix, uint64_t h)
{
    return ix->eight ? bloom_bits8(h) : bloom_bits(h);
}

/* Whether filter word <word> has the 8 bits of <h>: the first 4, then (1 probe in ~30) the other
 * 4. The portable and SSE4.1 loops test this way; building 8 bits for every block cost them a
 * fifth of their speed. */
static inline int bloom_has8(uint64_t word, uint64_t h)
{
    uint64_t g = bloom_mix(h), lo = bloom_bits4(g), hi;
    if (__builtin_expect((word & lo) != lo, 1))
        return 0;
    hi = bloom_bits4(g >> 32);
    return (word & hi) == hi;
}

/* Whether hash <h> passes the filter of <ix>. */
static inline int index_pass(const struct sig_index4 *ix, uint64_t h)
{
    uint64_t word = ix->bloom[h >> (64 - ix->bloom_log2)], bits;
    if (ix->eight)
        return bloom_has8(word, h);
    bits = bloom_bits(h);
    return (word & bits) == bits;
}

/* Which of the block's first SIG_WIDE_CAND windows it probes: the lowest rank. The rank of
 * window j is the top 13 bits of its 4 bytes (host order) times SIG_WIDE_MUL, mod 2^32, then j
 * in the low 3 bits (so the first wins a tie, and the SIMD paths read j from the minimum).
 * Reads b[0..SIG_WIDE_SPAN - 1]. A rank of all 4 bytes keeps the picks spread over the key
 * space: ranked by 2 bytes, the picks of random bodies landed on the few prefixes that rank
 * lowest, where the anchors' keys are too, and a third of the probes found a real key to check.
 * The build and every scan path must pick alike: t/check_sig runs the same scans through each
 * path this CPU has. */
static inline unsigned wide_rank(const unsigned char *b, unsigned j)
{
    uint32_t w;
    memcpy(&w, b + j, sizeof(w));
    return (((w * SIG_WIDE_MUL) >> 16) & 0xfff8) | j;
}

static inline unsigned wide_pick_scalar(const unsigned char *b)
{
    unsigned j, best = wide_rank(b, 0);

    for (j = 1; j < SIG_WIDE_CAND; j++) {
        unsigned r = wide_rank(b, j);
        if (r < best)
            best = r;
    }
    return best & 7;
}

/* Which scan path probe_wide takes: -1 the best this CPU has; 0 portable, 1 SSE4.1, 2 AVX-512
 * (lower if the CPU lacks it). Tests set it to run the same scans through each path. */
int ww_sig_simd_level = -1;

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SIG_HAVE_SSE41 1
/* The same pick in one PHMINPOSUW: the 6 windows of b[0..8] (two 8-byte loads), hashed, packed
 * to 16 bits, the last two lanes forced to 0xffff (above any real rank). */
__attribute__((target("sse4.1"))) static inline unsigned wide_pick_sse41(const unsigned char *b)
{
    __m128i v = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)b),
                                   _mm_loadl_epi64((const __m128i *)(const void *)(b + 1)));
    __m128i wa = _mm_shuffle_epi8(v, _mm_setr_epi8(0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6));
    __m128i wb = _mm_shuffle_epi8(v, _mm_setr_epi8(4, 5, 6, 7, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0,
                                                   0)); /* b[5..8] is b[1..8]'s 4..7 */
    const __m128i mul = _mm_set1_epi32((int)SIG_WIDE_MUL);
    __m128i x = _mm_packus_epi32(_mm_srli_epi32(_mm_mullo_epi32(wa, mul), 16),
                                 _mm_srli_epi32(_mm_mullo_epi32(wb, mul), 16));

    x = _mm_and_si128(x, _mm_set1_epi16((short)0xfff8));
    x = _mm_or_si128(x, _mm_set_epi16(-1, -1, 5, 4, 3, 2, 1, 0));
    return (unsigned)_mm_extract_epi16(_mm_minpos_epu16(x), 1);
}

static int cpu_avx512(void)
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bitalg");
}
#endif

int ww_sig_simd_max(void)
{
#ifdef SIG_HAVE_SSE41
    if (cpu_avx512())
        return 2;
    if (__builtin_cpu_supports("sse4.1"))
        return 1;
#endif
    return 0;
}

int ww_sig_wide_pick_check(const unsigned char *b, unsigned *scalar, unsigned *simd)
{
    *scalar = wide_pick_scalar(b);
#ifdef SIG_HAVE_SSE41
    if (__builtin_cpu_supports("sse4.1")) {
        *simd = wide_pick_sse41(b);
        return 1;
    }
#endif
    *simd = *scalar;
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    const struct sig_key *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->part != y->part)
        return x->part < y->part ? -1 : 1;
    return x->woff < y->woff ? -1 : x->woff > y->woff;
}

static int index4_build(struct sig_index4 *ix, struct sig_key *keys, size_t n, int eight)
{
    size_t words = 64, nslots = 16, i, nkeys = 0;
    uint32_t cur = 0;

    ix->eight = eight;
    if (n == 0)
        return WW_OK;
    qsort(keys, n, sizeof(*keys), key_cmp);
    /* ~4 keys per 64-bit word, 3 of 64 bits each: a random probe passes about 1 in 200, and
     * the filter stays small enough for the cache (2 MiB for 100,000 anchors). */
    while (words * SIG_BLOOM_KEYS_PER_WORD < n)
        words *= 2;
    ix->bloom_log2 = 0;
    while ((1UL << ix->bloom_log2) < words)
        ix->bloom_log2++;
    for (i = 0; i < n; i++)
        if (i == 0 || keys[i].key != keys[i - 1].key)
            nkeys++;
    while (nslots < nkeys + nkeys / 4) /* load <= 0.8: probes stay short, memory halves */
        nslots *= 2;
    ix->bloom = calloc(words, sizeof(*ix->bloom));
    ix->slots = calloc(nslots, sizeof(*ix->slots));
    ix->entries = malloc(n * sizeof(*ix->entries));
    if (ix->bloom == NULL || ix->slots == NULL || ix->entries == NULL)
        return WW_ENOMEM;
    ix->slot_mask = (uint32_t)(nslots - 1);
    ix->nentries = n;
    for (i = 0; i < n; i++) {
        uint64_t h = key_hash(keys[i].key);
        ix->entries[i].part = keys[i].part;
        ix->entries[i].woff = keys[i].woff;
        ix->bloom[h >> (64 - ix->bloom_log2)] |= index_bits(ix, h);
        if (i == 0 || keys[i].key != keys[i - 1].key) { /* keys are sorted: a run per key */
            cur = (uint32_t)(h >> 32) & ix->slot_mask;
            while (ix->slots[cur].count != 0)
                cur = (cur + 1) & ix->slot_mask;
            ix->slots[cur].key = keys[i].key;
            ix->slots[cur].first = (uint32_t)i;
        }
        ix->slots[cur].count++;
    }
    return WW_OK;
}

static inline uint32_t load32(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, sizeof(w)); /* host order: the scan loads the same way */
    return w;
}

static int sig_part_is_indexed(const struct ww_sigdb *db, const struct sig_part *p)
{
    const struct sig_sig *s = &db->sigs[p->sig];
    if (s->off_kind == OFF_EOF)
        return 0;
    if (s->off_kind == OFF_ABS && p->index == 0)
        return 0;
    return 1;
}

/* 2: one byte 4 times (runs of it fill real files: a body of them would hit the table at every
 * block): never a key. 1: mostly zeros, 0xff, spaces, NOPs: a key only where nothing better
 * covers as many alignments. 0: the rest. */
static unsigned wide_window_bad(const unsigned char *w)
{
    if (w[0] == w[1] && w[1] == w[2] && w[2] == w[3])
        return 2;
    return window_badness(w, 4) >= 6;
}

/* Wide-mode keys of anchor <a> (<L> >= 11 bytes) into out[] (room for 8): for each of the 8
 * alignments the anchor can have against the stream's 8-byte blocks, the windows that the blocks
 * lying wholly inside it pick (the first 8 such blocks); then as few windows as cover every such
 * alignment (greedy; filler last, wide_window_bad). An anchor of >= SIG_WIDE_MIN bytes has a block
 * at every alignment; a shorter one (11-15 bytes) only where al + SIG_WIDE_SPAN <= L (al: the
 * block's start in the anchor), and the caller keys the others by stride 8. Returns the number of
 * keys, or 0 when some alignment with a block has no usable window (the anchor then goes to
 * stride 8 alone, which picks its least bad windows). */
static size_t wide_keys(const unsigned char *a, uint32_t L, uint32_t part, struct sig_key *out)
{
    uint32_t opt[8][8], nopt[8] = {0}, al, t, k, n = 0;
    unsigned covered = 0, want = 0;

    for (al = 0; al < 8; al++) {
        if (al + SIG_WIDE_SPAN > L)
            continue; /* no block at this alignment */
        want |= 1u << al;
        for (t = 0; t < 8; t++) {
            uint32_t st = al + 8 * t, p;
            if (st + SIG_WIDE_SPAN > L)
                break;
            p = st + wide_pick_scalar(a + st);
            if (wide_window_bad(a + p) == 2)
                continue;
            for (k = 0; k < nopt[al] && opt[al][k] != p; k++)
                ;
            if (k == nopt[al])
                opt[al][nopt[al]++] = p;
        }
        if (nopt[al] == 0)
            return 0;
    }
    while (covered != want) {
        uint32_t best = 0, best_n = 0, best_bad = 2;
        for (al = 0; al < 8; al++) {
            if ((covered | ~want) & (1u << al))
                continue;
            for (k = 0; k < nopt[al]; k++) {
                uint32_t p = opt[al][k], cnt = 0, a2, k2;
                for (a2 = 0; a2 < 8; a2++) {
                    if ((covered | ~want) & (1u << a2))
                        continue;
                    for (k2 = 0; k2 < nopt[a2] && opt[a2][k2] != p; k2++)
                        ;
                    cnt += k2 < nopt[a2];
                }
                unsigned bad = wide_window_bad(a + p);
                if (cnt > best_n ||
                    (cnt == best_n && (bad < best_bad || (bad == best_bad && p < best)))) {
                    best_n = cnt;
                    best = p;
                    best_bad = bad;
                }
            }
        }
        for (al = 0; al < 8; al++)
            for (k = 0; k < nopt[al]; k++)
                if (opt[al][k] == best)
                    covered |= 1u << al;
        out[n].key = load32(a + best);
        out[n].part = part;
        out[n++].woff = best;
    }
    return n;
}

int ww_sigdb_compile(struct ww_sigdb *db)
{
    struct sig_key *k8s = NULL, *k4s = NULL, *k4 = NULL, *k2 = NULL, *kw = NULL;
    size_t n8s = 0, n4s = 0, n4 = 0, n2 = 0, nw = 0, i, hist = 8;
    int rc = WW_ENOMEM;

    if (db->compiled)
        return WW_OK;
    k8s = malloc((db->nparts * 8 + 1) * sizeof(*k8s));
    k4s = malloc((db->nparts * 4 + 1) * sizeof(*k4s));
    k4 = malloc((db->nparts + 1) * sizeof(*k4));
    k2 = malloc((db->nparts + 1) * sizeof(*k2));
    kw = malloc((db->nparts * 8 + 1) * sizeof(*kw));
    db->abs_sigs = malloc((db->nsigs + 1) * sizeof(*db->abs_sigs));
    db->eof_sigs = malloc((db->nsigs + 1) * sizeof(*db->eof_sigs));
    if (k8s == NULL || k4s == NULL || k4 == NULL || k2 == NULL || kw == NULL ||
        db->abs_sigs == NULL || db->eof_sigs == NULL)
        goto cleanup;
    /* Wide mode only when every indexed anchor is long: then the scan has one loop, over the
     * 8-byte blocks, probing stride 8's window and the picked one (probe_wide). */
    db->wide_mode = 1;
    for (i = 0; i < db->nparts; i++)
        if (sig_part_is_indexed(db, &db->parts[i]) && db->parts[i].anchor_len < 11) {
            if (db->nshort++ == 0)
                db->short_sig = db->parts[i].sig;
            db->wide_mode = 0;
        }
    if (db->wide_mode && hist < 16)
        hist = 16; /* a block cut by a chunk's end is probed from the history in the next feed */
    for (i = 0; i < db->nsigs; i++) {
        struct sig_sig *s = &db->sigs[i];
        if (s->nparts > 1)
            s->multi = (uint32_t)db->nmulti++;
        if (s->off_kind == OFF_ABS) {
            size_t need = (size_t)s->off_n + s->off_shift + db->parts[s->part_first].span_max;
            db->abs_sigs[db->nabs++] = (uint32_t)i;
            if (need > hist)
                hist = need;
        } else if (s->off_kind == OFF_EOF) {
            db->eof_sigs[db->neof++] = (uint32_t)i;
            if (s->off_n > hist)
                hist = s->off_n;
        }
    }
    for (i = 0; i < db->nparts; i++) {
        const struct sig_part *p = &db->parts[i];
        const unsigned char *a = db->seg_bytes + p->anchor;
        uint32_t L = p->anchor_len, off, best = 0, j;
        unsigned bad, best_bad = ~0u;

        if (!sig_part_is_indexed(db, p))
            continue;
        /* room to re-check the part around an anchor found near a chunk's end */
        if ((size_t)p->span_max + 8 > hist)
            hist = (size_t)p->span_max + 8;
        if (db->wide_mode) {
            /* the blocks inside the anchor pick its wide keys; an alignment with no block in it
             * (11-15 bytes: j + SIG_WIDE_SPAN > L) probes the stride-8 window at the block's
             * start, so such an anchor adds 16 - L keys to stride 8, not 8 */
            size_t n = wide_keys(a, L, (uint32_t)i, kw + nw), m = 0;
            for (j = 0; j < 8 && n > 0; j++)
                if (j + SIG_WIDE_SPAN > L && wide_window_bad(a + j) == 2)
                    n = 0; /* a filler window at a block's start: stride 8 picks better */
            if (n > 0) {
                for (j = 0; j < 8; j++)
                    if (j + SIG_WIDE_SPAN > L) {
                        k8s[n8s + m].key = load32(a + j);
                        k8s[n8s + m].part = (uint32_t)i;
                        k8s[n8s + m++].woff = j;
                    }
                nw += n;
                n8s += m;
                db->n8parts += m > 0;
                continue;
            }
        }
        if (L >= 7) {
            /* stride S: the S windows starting in [best, best + S) - one of them begins at a
             * multiple of S wherever the anchor lies in the stream */
            uint32_t S = L >= 11 ? 8 : 4;
            struct sig_key *k = S == 8 ? k8s + n8s : k4s + n4s;

            for (off = 0; off + S + 3 <= L; off++) {
                bad = window_badness(a + off, S + 3);
                if (bad < best_bad) {
                    best_bad = bad;
                    best = off;
                }
            }
            for (j = 0; j < S; j++) {
                k[j].key = load32(a + best + j);
                k[j].part = (uint32_t)i;
                k[j].woff = best + j;
            }
            if (S == 8) {
                n8s += S;
                db->n8parts++;
            } else
                n4s += S;
        } else if (L >= 4) {
            for (off = 0; off + 4 <= L; off++) {
                bad = window_badness(a + off, 4);
                if (bad < best_bad) {
                    best_bad = bad;
                    best = off;
                }
            }
            k4[n4].key = load32(a + best);
            k4[n4].part = (uint32_t)i;
            k4[n4++].woff = best;
        } else {
            for (off = 0; off + 2 <= L; off++) {
                bad = window_badness(a + off, 2);
                if (bad < best_bad) {
                    best_bad = bad;
                    best = off;
                }
            }
            k2[n2].key = (uint32_t)a[best] | (uint32_t)a[best + 1] << 8;
            k2[n2].part = (uint32_t)i;
            k2[n2++].woff = best;
        }
    }
    db->wide_mode = nw > 0; /* else the stride-8 loop alone (probe_chunk) */
    db->simd = ww_sig_simd_max();
    if (index4_build(&db->wide, kw, nw, 1) != WW_OK ||
        index4_build(&db->stride8, k8s, n8s, db->wide_mode) != WW_OK ||
        index4_build(&db->stride4, k4s, n4s, 0) != WW_OK ||
        index4_build(&db->every4, k4, n4, 0) != WW_OK)
        goto cleanup;
    if (n2 > 0) {
        qsort(k2, n2, sizeof(*k2), key_cmp);
        db->idx2_first = calloc(65537, sizeof(*db->idx2_first));
        db->idx2_bits = calloc(65536 / 64, sizeof(*db->idx2_bits));
        db->idx2_entries = malloc(n2 * sizeof(*db->idx2_entries));
        if (db->idx2_first == NULL || db->idx2_bits == NULL || db->idx2_entries == NULL)
            goto cleanup;
        for (i = 0; i < n2; i++) {
            db->idx2_entries[i].part = k2[i].part;
            db->idx2_entries[i].woff = k2[i].woff;
            db->idx2_first[k2[i].key + 1]++;
            db->idx2_bits[k2[i].key >> 6] |= 1ULL << (k2[i].key & 63);
        }
        for (i = 0; i < 65536; i++)
            db->idx2_first[i + 1] += db->idx2_first[i];
        db->nidx2 = n2;
    }
    db->history = hist;
    db->compiled = 1;
    rc = WW_OK;
cleanup:
    free(k8s);
    free(k4s);
    free(k4);
    free(k2);
    free(kw);
    return rc;
}

void ww_sigdb_describe_matcher(const struct ww_sigdb *db, char *out, size_t outlen)
{
    static const char *const path[] = {"portable", "SSE4.1", "AVX-512"};

    if (!db->compiled || db->nsigs == 0) {
        snprintf(out, outlen, "no body signatures");
    } else if (db->wide_mode && db->stride8.nentries > 0) {
        snprintf(out, outlen,
                 "body matcher: wide mode (%s), %zu KiB filter; %zu parts also by stride 8",
                 path[ww_sig_simd_max()], ww_sigdb_wide_filter_bytes(db) / 1024, db->n8parts);
    } else if (db->wide_mode) {
        snprintf(out, outlen, "body matcher: wide mode (%s), %zu KiB filter",
                 path[ww_sig_simd_max()], ww_sigdb_wide_filter_bytes(db) / 1024);
    } else if (db->nshort > 0) {
        snprintf(out, outlen,
                 "body matcher: multi-index (slower): %zu signature parts anchor on fewer than 11 "
                 "exact bytes, the first in %s",
                 db->nshort, db->names + db->sigs[db->short_sig].name);
    } else {
        snprintf(out, outlen, "body matcher: stride 8");
    }
}

size_t ww_sigdb_stride8_keys(const struct ww_sigdb *db)
{
    return db->stride8.nentries;
}

size_t ww_sigdb_wide_filter_bytes(const struct ww_sigdb *db)
{
    return db->wide.bloom != NULL ? ((size_t)1 << db->wide.bloom_log2) * sizeof(uint64_t) : 0;
}

size_t ww_sigdb_count(const struct ww_sigdb *db)
{
    return db != NULL ? db->nsigs : 0;
}

static size_t index4_memory(const struct sig_index4 *ix)
{
    if (ix->bloom == NULL)
        return 0;
    return ((size_t)1 << ix->bloom_log2) * sizeof(*ix->bloom) +
           ((size_t)ix->slot_mask + 1) * sizeof(*ix->slots) + ix->nentries * sizeof(*ix->entries);
}

size_t ww_sigdb_memory(const struct ww_sigdb *db)
{
    if (db == NULL)
        return 0;
    return sizeof(*db) + db->nsigs * sizeof(*db->sigs) + db->nparts * sizeof(*db->parts) +
           db->nsegs * sizeof(*db->segs) + db->nalts * sizeof(*db->alts) + db->seg_bytes_len +
           db->alt_bytes_len + db->names_len + index4_memory(&db->stride8) +
           index4_memory(&db->wide) + index4_memory(&db->stride4) + index4_memory(&db->every4) +
           (db->idx2_first ? 65537 * sizeof(uint32_t) + 8192 : 0) +
           db->nidx2 * sizeof(*db->idx2_entries) + (db->nabs + db->neof) * sizeof(uint32_t);
}

/* ---------------------------------------------------------------- matching */

/* Byte at stream position <pos>, or -1 when it is not held (before history or not yet fed). */
static inline int view_byte(const struct sig_view *v, uint64_t pos)
{
    if (pos >= v->end)
        return -1;
    if (pos >= v->c_start)
        return v->c[pos - v->c_start];
    if (pos >= v->h_start)
        return v->h[pos - v->h_start];
    return -1;
}

/* Segment <s> at stream position <pos>. A try costs a step (the caller's) plus one per
 * SIG_BYTES_PER_STEP bytes compared, taken from v->budget: a part made of one long segment, hit
 * at every byte, is as costly as its length (part_cost() bounds a check alike). */
static int seg_match(const struct ww_sigdb *db, struct sig_view *v, const struct sig_seg *s,
                     uint64_t pos)
{
    const unsigned char *val = db->seg_bytes + s->bytes, *mask = val + s->len;
    uint32_t i, k, compared;
    int r = V_YES;

    if (pos < v->h_start)
        return V_NO;
    for (i = 0; i < s->len; i++) {
        int c = view_byte(v, pos + i);
        if (c < 0) {
            r = v->final ? V_NO : V_MORE;
            break;
        }
        if (((unsigned char)c & mask[i]) != val[i]) {
            r = V_NO;
            break;
        }
    }
    compared = i;
    for (k = 0; k < s->nalt && r == V_YES; k++) {
        const struct sig_alt *a = &db->alts[s->alt_first + k];
        const unsigned char *ab = db->alt_bytes + a->bytes;
        int any = 0;
        uint32_t j, x;

        for (j = 0; j < a->nalt && !any; j++) {
            for (x = 0; x < a->len; x++)
                if (view_byte(v, pos + a->pos + x) != ab[j * a->len + x])
                    break;
            compared += x + 1;
            any = x == a->len;
        }
        if (any == (int)a->negate)
            r = V_NO;
    }
    if (compared >= SIG_BYTES_PER_STEP) {
        v->budget -= (long)(compared / SIG_BYTES_PER_STEP);
        if (v->budget < 0)
            return V_NO;
    }
    return r;
}

/* Segment <k> of <p> starting at <pos>, then the rest to the right; the part's end in *end. */
static int match_right(const struct ww_sigdb *db, struct sig_view *v, const struct sig_part *p,
                       uint32_t k, uint64_t pos, uint64_t *end)
{
    const struct sig_seg *s = &db->segs[p->seg_first + k];
    const struct sig_seg *next;
    uint64_t e, g;
    int r, more = 0;

    if (--v->budget < 0)
        return V_NO;
    r = seg_match(db, v, s, pos);
    if (r != V_YES)
        return r;
    e = pos + s->len;
    if (k + 1 == p->nseg) {
        *end = e;
        return V_YES;
    }
    next = s + 1;
    for (g = next->gap_min; g <= next->gap_max; g++) {
        r = match_right(db, v, p, k + 1, e + g, end);
        if (r == V_YES)
            return V_YES;
        if (r == V_MORE)
            more = 1;
        if (v->budget < 0)
            return V_NO;
    }
    return more ? V_MORE : V_NO;
}

/* Segment <k> ending at <e>, then the rest to the left; a start in [lo, hi] into *start. */
static int match_left(const struct ww_sigdb *db, struct sig_view *v, const struct sig_part *p,
                      uint32_t k, uint64_t e, uint64_t lo, uint64_t hi, uint64_t *start)
{
    const struct sig_seg *s = &db->segs[p->seg_first + k];
    uint64_t pos, g;

    if (--v->budget < 0 || e < s->len)
        return V_NO;
    pos = e - s->len;
    if (pos < lo)
        return V_NO; /* further left only gets lower */
    if (seg_match(db, v, s, pos) != V_YES)
        return V_NO;
    if (k == 0) {
        if (pos > hi)
            return V_NO;
        *start = pos;
        return V_YES;
    }
    for (g = s->gap_min; g <= s->gap_max && g <= pos; g++) {
        if (match_left(db, v, p, k - 1, pos - g, lo, hi, start) == V_YES)
            return V_YES;
        if (v->budget < 0)
            return V_NO;
    }
    return V_NO;
}

/* Part <p> with its anchor at stream position <at>, starting in [lo, hi]. */
static int verify_anchored(const struct ww_sigdb *db, struct sig_view *v, const struct sig_part *p,
                           uint64_t at, uint64_t lo, uint64_t hi, uint64_t *start, uint64_t *end)
{
    const struct sig_seg *a = &db->segs[p->seg_first + p->anchor_seg];
    uint64_t s, g;
    int left = V_NO;

    if (at < p->anchor_off)
        return V_NO;
    s = at - p->anchor_off;
    if (p->anchor_seg == 0) {
        if (s < lo || s > hi)
            return V_NO;
        *start = s;
        left = V_YES;
    } else {
        for (g = a->gap_min; g <= a->gap_max && g <= s && left != V_YES; g++) {
            left = match_left(db, v, p, p->anchor_seg - 1, s - g, lo, hi, start);
            if (v->budget < 0)
                return V_NO;
        }
        if (left != V_YES)
            return V_NO;
    }
    return match_right(db, v, p, p->anchor_seg, s, end);
}

/* Part <p> starting anywhere in [lo, hi] (no anchor known): fixed-offset and EOF signatures. */
static int search_part(const struct ww_sigdb *db, struct sig_view *v, const struct sig_part *p,
                       uint64_t lo, uint64_t hi, uint64_t *start, uint64_t *end)
{
    uint64_t s;
    int more = 0;

    for (s = lo; s <= hi && s < v->end; s++) {
        int r = match_right(db, v, p, 0, s, end);
        if (r == V_YES) {
            *start = s;
            return V_YES;
        }
        if (r == V_MORE)
            more = 1;
        if (v->budget < 0)
            return V_NO;
    }
    if (!v->final && hi >= v->end)
        more = 1;
    return more ? V_MORE : V_NO;
}

struct ww_sigscan *ww_sigscan_create(const struct ww_sigdb *db, int64_t total_size)
{
    struct ww_sigscan *s = calloc(1, sizeof(*s));
    size_t i;

    if (s == NULL)
        return NULL;
    s->db = db;
    s->hist_cap = 2 * db->history;
    s->hist = malloc(s->hist_cap);
    s->multi = calloc(db->nmulti + 1, sizeof(*s->multi));
    s->abs_open = malloc((db->nabs + 1) * sizeof(*s->abs_open));
    s->abs_next = malloc((db->nabs + 1) * sizeof(*s->abs_next));
    if (db->stride4.bloom != NULL || db->every4.bloom != NULL || db->idx2_first != NULL) {
        s->cand = malloc(SIG_BLOCK * 4 * sizeof(*s->cand));
        if (s->cand == NULL) {
            ww_sigscan_free(s);
            return NULL;
        }
    }
    if (s->hist == NULL || s->multi == NULL || s->abs_open == NULL || s->abs_next == NULL) {
        ww_sigscan_free(s);
        return NULL;
    }
    memcpy(s->abs_open, db->abs_sigs, db->nabs * sizeof(*s->abs_open));
    s->nabs_open = db->nabs;
    for (i = 0; i < db->nabs; i++) { /* their part 0 is checked in place, not by anchor */
        const struct sig_sig *sig = &db->sigs[db->abs_sigs[i]];
        s->abs_next[i] = sig->off_n;
        if (sig->multi != SIG_NONE)
            s->multi[sig->multi].next = SIG_NONE;
    }
    return s;
}

void ww_sigscan_free(struct ww_sigscan *s)
{
    if (s == NULL)
        return;
    free(s->hist);
    free(s->multi);
    free(s->abs_open);
    free(s->abs_next);
    free(s->pending);
    free(s->cand);
    free(s);
}

/* A part matched at [start, end): the signature is found, or waits for its next part. */
static void part_matched(struct ww_sigscan *s, const struct sig_part *p, uint64_t end)
{
    const struct ww_sigdb *db = s->db;
    const struct sig_sig *sig = &db->sigs[p->sig];

    if (p->index + 1 == sig->nparts) {
        if (s->threat == NULL)
            s->threat = db->names + sig->name;
        return;
    }
    /* parts of one signature are consecutive in db->parts */
    s->multi[sig->multi].next = p->index + 1;
    s->multi[sig->multi].min_start = end + p[1].gap_min;
}

static int sig_has_pending(const struct ww_sigscan *s, uint32_t sig)
{
    size_t i;
    for (i = 0; i < s->npending; i++)
        if (s->db->parts[s->pending[i].part].sig == sig)
            return 1;
    return 0;
}

/* The first reason a check could not be made; the caller logs it once, with the URL. */
static void scan_incomplete(struct ww_sigscan *s, const char *why)
{
    if (s->incomplete == NULL)
        s->incomplete = why;
}

static void pending_add(struct ww_sigscan *s, uint32_t part, uint64_t at)
{
    /* Over the cap the check is dropped: only a body built to pile up unfinished anchor hits at
     * chunk ends gets there (documented limit). */
    if (s->npending == s->pending_cap && s->pending_cap < SIG_PENDING_MAX) {
        size_t ncap = s->pending_cap ? s->pending_cap * 4 : 16;
        void *np = realloc(s->pending, ncap * sizeof(*s->pending));
        if (np != NULL) {
            s->pending = np;
            s->pending_cap = ncap;
        }
    }
    if (s->npending < s->pending_cap) {
        s->pending[s->npending].part = part;
        s->pending[s->npending++].at = at;
    } else {
        scan_incomplete(s, "too many signature checks waiting for more bytes");
    }
}

/* Lowest start allowed for part <p> now, or 1 with *skip when the part is not awaited. */
static int part_window(const struct ww_sigscan *s, const struct sig_part *p, uint64_t *lo)
{
    const struct sig_sig *sig = &s->db->sigs[p->sig];

    *lo = 0;
    if (sig->multi == SIG_NONE)
        return 1;
    if (s->multi[sig->multi].next != p->index)
        return 0;
    *lo = s->multi[sig->multi].min_start;
    return 1;
}

/* Counts <steps> against the scan's budget; past it no check starts any more. */
static void scan_add(struct ww_sigscan *s, const struct sig_view *v, uint64_t steps)
{
    s->steps += steps;
    if (s->steps > SIG_SCAN_STEPS_FIXED + SIG_SCAN_STEPS_PER_BYTE * v->end && !s->exhausted) {
        s->exhausted = 1;
        scan_incomplete(s, "the scan's step budget was spent (a body made of near-matches)");
    }
}

static void scan_spent(struct ww_sigscan *s, const struct sig_view *v)
{
    if (v->budget < 0)
        scan_incomplete(s, "a signature check ran out of its step budget");
    scan_add(s, v, (uint64_t)(SIG_VERIFY_BUDGET - (v->budget > 0 ? v->budget : 0)));
}

static void check_entry(struct ww_sigscan *s, struct sig_view *v, uint64_t pos,
                        const struct sig_entry *en)
{
    const struct ww_sigdb *db = s->db;
    const struct sig_part *p = &db->parts[en->part];
    const unsigned char *anchor = db->seg_bytes + p->anchor;
    uint64_t at, lo, st, e;
    uint32_t i;
    int r;

    if (pos < en->woff || s->exhausted || !part_window(s, p, &lo))
        return;
    at = pos - en->woff;
    for (i = 0; i < p->anchor_len; i++) {
        int c = view_byte(v, at + i);
        if (c < 0)
            break; /* not all fed yet (or before the history): the full check decides */
        if (c != anchor[i])
            break;
    }
    /* an anchor as long as a part, hit by a body of its prefix, costs that much */
    scan_add(s, v, i / SIG_BYTES_PER_STEP);
    if (i < p->anchor_len && view_byte(v, at + i) >= 0)
        return;
    if (s->exhausted)
        return;
    if (db->sigs[p->sig].multi != SIG_NONE && sig_has_pending(s, p->sig)) {
        pending_add(s, en->part, at); /* keep the signature's hits in stream order */
        return;
    }
    v->budget = SIG_VERIFY_BUDGET;
    r = verify_anchored(db, v, p, at, lo, UINT64_MAX, &st, &e);
    scan_spent(s, v);
    if (r == V_YES)
        part_matched(s, p, e);
    else if (r == V_MORE)
        pending_add(s, en->part, at);
}

static void pending_run(struct ww_sigscan *s, struct sig_view *v)
{
    const struct ww_sigdb *db = s->db;
    size_t i, keep = 0;

    for (i = 0; i < s->npending; i++) {
        struct sig_pending pe = s->pending[i];
        const struct sig_part *p = &db->parts[pe.part];
        uint64_t lo, st, e;
        int r;

        if (s->threat != NULL || s->exhausted || !part_window(s, p, &lo))
            continue;
        v->budget = SIG_VERIFY_BUDGET;
        r = verify_anchored(db, v, p, pe.at, lo, UINT64_MAX, &st, &e);
        scan_spent(s, v);
        if (r == V_YES)
            part_matched(s, p, e);
        else if (r == V_MORE)
            s->pending[keep++] = pe;
    }
    s->npending = s->threat != NULL ? 0 : keep;
}

/* Part <p> starting in [*next, hi], each start tried once: only when every byte the part may
 * cover is there (or no more will come), so a window costs one pass however the body is fed.
 * *next moves past the starts tried. */
static int search_part_once(const struct ww_sigdb *db, struct sig_view *v, const struct sig_part *p,
                            uint64_t *next, uint64_t hi, uint64_t *end)
{
    uint64_t s, last = hi;

    if (!v->final) {
        if (v->end < p->span_max)
            return V_MORE;
        if (v->end - p->span_max < last)
            last = v->end - p->span_max;
    }
    for (s = *next; s <= last; s++) {
        if (match_right(db, v, p, 0, s, end) == V_YES)
            return V_YES;
        if (v->budget < 0) {
            if (!v->final)
                v->budget = 0; /* spent, not lost: the next feed goes on from here */
            break;
        }
    }
    *next = s;
    return s > hi || v->final ? V_NO : V_MORE;
}

static void abs_run(struct ww_sigscan *s, struct sig_view *v)
{
    const struct ww_sigdb *db = s->db;
    size_t i, keep = 0;

    for (i = 0; i < s->nabs_open; i++) {
        const struct sig_sig *sig = &db->sigs[s->abs_open[i]];
        const struct sig_part *p = &db->parts[sig->part_first];
        uint64_t e, next = s->abs_next[i];
        int r;

        if (s->threat != NULL || s->exhausted)
            break;
        v->budget = SIG_VERIFY_BUDGET;
        r = search_part_once(db, v, p, &next, (uint64_t)sig->off_n + sig->off_shift, &e);
        scan_spent(s, v);
        if (r == V_YES) {
            part_matched(s, p, e);
        } else if (r == V_MORE) {
            s->abs_open[keep] = s->abs_open[i];
            s->abs_next[keep++] = next;
        }
    }
    s->nabs_open = s->threat != NULL || s->exhausted ? 0 : keep;
}

static void eof_run(struct ww_sigscan *s, struct sig_view *v)
{
    const struct ww_sigdb *db = s->db;
    size_t i;

    for (i = 0; i < db->neof && s->threat == NULL && !s->exhausted; i++) {
        const struct sig_sig *sig = &db->sigs[db->eof_sigs[i]];
        uint64_t lo, hi, st, e = 0;
        uint32_t k;

        if (sig->off_n > v->end)
            continue;
        lo = v->end - sig->off_n;
        hi = lo + sig->off_shift;
        v->budget = SIG_VERIFY_BUDGET;
        for (k = 0; k < sig->nparts; k++) {
            const struct sig_part *p = &db->parts[sig->part_first + k];
            if (k > 0) {
                lo = e + p->gap_min;
                hi = v->end;
            }
            if (search_part(db, v, p, lo, hi, &st, &e) != V_YES)
                break;
        }
        if (k == sig->nparts)
            s->threat = db->names + sig->name;
        else if (v->budget < 0)
            scan_incomplete(s, "an end-of-body signature check ran out of its step budget");
        scan_spent(s, v);
    }
}

static void probe4_table(struct ww_sigscan *s, struct sig_view *v, const struct sig_index4 *ix,
                         uint64_t pos, uint32_t w, uint64_t h)
{
    uint32_t slot = (uint32_t)(h >> 32) & ix->slot_mask;

    while (ix->slots[slot].count != 0) {
        if (ix->slots[slot].key == w) {
            uint32_t j, first = ix->slots[slot].first, n = ix->slots[slot].count;
            for (j = 0; j < n && s->threat == NULL; j++)
                check_entry(s, v, pos, &ix->entries[first + j]);
            return;
        }
        slot = (slot + 1) & ix->slot_mask;
    }
}

/* Filter passes, looked up in their table in a batch: each pass's slot is
 * asked for when the pass is found, so the table's cache misses (a pass is most often a false
 * one, and the table does not stay in the cache) overlap with the scan of the next blocks
 * instead of stopping it (a fifth of the AVX-512 loop's speed, issue 15). In stream order:
 * multi-part signatures rely on it. */
#define SIG_PASS_MAX (2 * SIG_PREFETCH + 64) /* room for a batch of either loop */
struct sig_pass {
    const struct sig_index4 *ix;
    size_t off; /* the window's offset in the chunk */
    uint32_t w;
    uint64_t h;
};

static inline void pass_add(struct sig_pass *pass, size_t *np, const struct sig_index4 *ix,
                            const unsigned char *d, size_t off)
{
    struct sig_pass *p = &pass[(*np)++];
    p->ix = ix;
    p->off = off;
    p->w = load32(d + off);
    p->h = key_hash(p->w);
    __builtin_prefetch(&ix->slots[(uint32_t)(p->h >> 32) & ix->slot_mask]);
}

/* Looks the passes up; 1 when one of them found a threat. */
static int pass_run(struct ww_sigscan *s, struct sig_view *v, const struct sig_pass *pass,
                    size_t *np)
{
    size_t k, n = *np;

    *np = 0;
    for (k = 0; k < n; k++) {
        probe4_table(s, v, pass[k].ix, v->c_start + pass[k].off, pass[k].w, pass[k].h);
        if (s->threat != NULL)
            return 1;
    }
    return 0;
}

static inline void probe4(struct ww_sigscan *s, struct sig_view *v, const struct sig_index4 *ix,
                          uint64_t pos, uint32_t w)
{
    uint64_t h = key_hash(w);

    if (index_pass(ix, h))
        probe4_table(s, v, ix, pos, w, h);
}

/* Every 4-byte-window index that looks at stream position <pos>. */
static inline void probe_all4(struct ww_sigscan *s, struct sig_view *v, uint64_t pos, uint32_t w)
{
    const struct ww_sigdb *db = s->db;

    if (db->stride8.bloom != NULL && pos % 8 == 0)
        probe4(s, v, &db->stride8, pos, w);
    if (db->stride4.bloom != NULL && pos % 4 == 0 && s->threat == NULL)
        probe4(s, v, &db->stride4, pos, w);
    if (db->every4.bloom != NULL && s->threat == NULL)
        probe4(s, v, &db->every4, pos, w);
}

static void probe2(struct ww_sigscan *s, struct sig_view *v, uint64_t pos, uint32_t key)
{
    const struct ww_sigdb *db = s->db;
    uint32_t j;

    if (!((db->idx2_bits[key >> 6] >> (key & 63)) & 1))
        return;
    for (j = db->idx2_first[key]; j < db->idx2_first[key + 1] && s->threat == NULL; j++)
        check_entry(s, v, pos, &db->idx2_entries[j]);
}

/* Windows that start before the chunk and end in it (at most 3 positions). */
static void probe_boundary(struct ww_sigscan *s, struct sig_view *v)
{
    const struct ww_sigdb *db = s->db;
    uint64_t pos = v->c_start >= 3 ? v->c_start - 3 : 0;

    for (; pos < v->c_start && s->threat == NULL; pos++) {
        int b[4], i;
        for (i = 0; i < 4; i++)
            b[i] = view_byte(v, pos + (uint64_t)i);
        if (db->idx2_first != NULL && pos + 1 == v->c_start && b[0] >= 0 && b[1] >= 0)
            probe2(s, v, pos, (uint32_t)b[0] | (uint32_t)b[1] << 8);
        if (b[0] < 0 || b[1] < 0 || b[2] < 0 || b[3] < 0)
            continue;
        {
            unsigned char wb[4] = {(unsigned char)b[0], (unsigned char)b[1], (unsigned char)b[2],
                                   (unsigned char)b[3]};
            probe_all4(s, v, pos, load32(wb));
        }
    }
}

/* Filter of <ix> at chunk offsets from + first, every <step>, below <end>; each pass is
 * appended to cand[] as (offset in block << 2 | tier). Returns the new count. */
static size_t filter_pass(const struct sig_index4 *ix, const unsigned char *d, size_t from,
                          size_t end, size_t first, size_t step, uint32_t tier, uint32_t *cand,
                          size_t n)
{
    const uint64_t *bloom = ix->bloom;
    unsigned shift;
    size_t j;

    if (bloom == NULL)
        return n;
    shift = 64 - ix->bloom_log2;
    for (j = from + first; j < end; j += step) {
        uint32_t w = load32(d + j);
        uint64_t h = key_hash(w), bits = bloom_bits(h);
        cand[n] = (uint32_t)(j - from) << 2 | tier;
        n += (bloom[h >> shift] & bits) == bits;
    }
    return n;
}

static void probe_chunk(struct ww_sigscan *s, struct sig_view *v, const unsigned char *d,
                        size_t len)
{
    const struct ww_sigdb *db = s->db;
    const struct sig_index4 *s8 = &db->stride8;
    size_t i;

    if (db->stride4.bloom == NULL && db->every4.bloom == NULL && db->idx2_first == NULL) {
        /* The hot loop when every anchor is long (the benchmark, most real sets' bulk): one
         * probe per 8 bytes, no dependent loads. */
        const uint64_t *bloom = s8->bloom;
        unsigned shift = 64 - s8->bloom_log2;

        uint64_t hs[SIG_PREFETCH];
        struct sig_pass pass[SIG_PASS_MAX];
        size_t np = 0;

        if (bloom == NULL || len < 4)
            return;
        /* In batches: every filter word of the batch is asked for before the first is tested,
         * so the cache misses of a large filter overlap instead of queueing (issue 15). */
        for (i = (size_t)((8 - v->c_start % 8) % 8); i + 4 <= len;) {
            size_t n = 0, j = i, k;

            for (; n < SIG_PREFETCH && j + 4 <= len; n++, j += 8) {
                hs[n] = key_hash(load32(d + j));
                __builtin_prefetch(&bloom[hs[n] >> shift]);
            }
            for (k = 0; k < n; k++) {
                uint64_t h = hs[k], bits = bloom_bits(h);
                if ((bloom[h >> shift] & bits) == bits)
                    pass_add(pass, &np, s8, d, i + 8 * k);
            }
            if (np > SIG_PASS_MAX - SIG_PREFETCH && pass_run(s, v, pass, &np))
                return;
            i = j;
        }
        pass_run(s, v, pass, &np);
        return;
    }
    /* Several indexes: per block, one tight loop per index only runs its filter and notes the
     * positions that pass (no branch on the result, so the cache misses of many probes
     * overlap; interleaving the indexes in one loop was 20x slower), then the passes are
     * sorted and looked up in stream order (multi-part signatures rely on it). */
    for (i = 0; i + 2 <= len && s->threat == NULL; i += SIG_BLOCK) {
        size_t end = i + SIG_BLOCK < len ? i + SIG_BLOCK : len, end4, j, k, n = 0;
        uint64_t base = v->c_start + i;

        end4 = len >= 3 && end > len - 3 ? len - 3 : end; /* windows of 4 within the chunk */
        if (len < 4)
            end4 = i;
        n = filter_pass(&db->stride8, d, i, end4, (size_t)((8 - base % 8) % 8), 8, 0, s->cand, n);
        n = filter_pass(&db->stride4, d, i, end4, (size_t)((4 - base % 4) % 4), 4, 1, s->cand, n);
        n = filter_pass(&db->every4, d, i, end4, 0, 1, 2, s->cand, n);
        if (db->idx2_first != NULL) {
            size_t end2 = end < len ? end : len - 1;
            for (j = i; j < end2; j++) {
                uint32_t key = (uint32_t)d[j] | (uint32_t)d[j + 1] << 8;
                s->cand[n] = (uint32_t)(j - i) << 2 | 3;
                n += (db->idx2_bits[key >> 6] >> (key & 63)) & 1;
            }
        }
        for (k = 1; k < n; k++) { /* few passes per block: insertion sort */
            uint32_t c = s->cand[k];
            size_t m = k;
            while (m > 0 && s->cand[m - 1] > c) {
                s->cand[m] = s->cand[m - 1];
                m--;
            }
            s->cand[m] = c;
        }
        for (k = 0; k < n; k++) { /* their table slots asked for at once: the misses overlap */
            size_t j2 = i + (s->cand[k] >> 2);
            unsigned tier = s->cand[k] & 3;
            if (tier != 3) {
                const struct sig_index4 *ix = tier == 0   ? &db->stride8
                                              : tier == 1 ? &db->stride4
                                                          : &db->every4;
                __builtin_prefetch(
                    &ix->slots[(uint32_t)(key_hash(load32(d + j2)) >> 32) & ix->slot_mask]);
            }
        }
        for (k = 0; k < n && s->threat == NULL; k++) {
            size_t j2 = i + (s->cand[k] >> 2);
            uint64_t pos = v->c_start + j2;
            unsigned tier = s->cand[k] & 3;

            if (tier == 3) {
                probe2(s, v, pos, (uint32_t)d[j2] | (uint32_t)d[j2 + 1] << 8);
            } else {
                uint32_t w = load32(d + j2);
                const struct sig_index4 *ix = tier == 0   ? &db->stride8
                                              : tier == 1 ? &db->stride4
                                                          : &db->every4;
                probe4_table(s, v, ix, pos, w, key_hash(w));
            }
        }
    }
}

/* Wide mode: stride 8's window (the block's first) and the block's picked window, at stream
 * position <pos> (a multiple of 8), from <b> (SIG_WIDE_SPAN bytes). */
static void wide_block(struct ww_sigscan *s, struct sig_view *v, uint64_t pos,
                       const unsigned char *b)
{
    const struct ww_sigdb *db = s->db;
    unsigned j = wide_pick_scalar(b);

    if (db->stride8.bloom != NULL && s->w8ahead != pos + 1)
        probe4(s, v, &db->stride8, pos, load32(b));
    if (s->threat == NULL)
        probe4(s, v, &db->wide, pos + j, load32(b + j));
}

/* The blocks wholly inside chunk <d> from offset <i> on, in batches: every filter word of a
 * batch is asked for before the first is tested, so the cache misses overlap. Returns the offset
 * of the first block not probed (its SIG_WIDE_SPAN bytes are not all in the chunk). */
static inline __attribute__((always_inline)) size_t
wide_loop(struct ww_sigscan *s, struct sig_view *v, const unsigned char *d, size_t len, size_t i,
          unsigned (*pick)(const unsigned char *))
{
    const struct ww_sigdb *db = s->db;
    const uint64_t *bw = db->wide.bloom, *b8 = db->stride8.bloom;
    unsigned sw = 64 - db->wide.bloom_log2, s8 = b8 != NULL ? 64 - db->stride8.bloom_log2 : 0;
    uint64_t hw[SIG_PREFETCH], h8[SIG_PREFETCH];
    unsigned char jw[SIG_PREFETCH];
    struct sig_pass pass[SIG_PASS_MAX];
    size_t np = 0;

    while (i + SIG_WIDE_SPAN <= len) {
        size_t n = 0, j = i, k;

        for (; n < SIG_PREFETCH && j + SIG_WIDE_SPAN <= len; n++, j += 8) {
            unsigned p = pick(d + j);
            jw[n] = (unsigned char)p;
            hw[n] = key_hash(load32(d + j + p));
            __builtin_prefetch(&bw[hw[n] >> sw]);
            if (b8 != NULL) {
                h8[n] = key_hash(load32(d + j));
                __builtin_prefetch(&b8[h8[n] >> s8]);
            }
        }
        for (k = 0; k < n; k++) {
            size_t at = i + 8 * k;
            /* wide mode's stride 8: 8 bits too */
            if (b8 != NULL && bloom_has8(b8[h8[k] >> s8], h8[k]))
                pass_add(pass, &np, &db->stride8, d, at);
            if (bloom_has8(bw[hw[k] >> sw], hw[k]))
                pass_add(pass, &np, &db->wide, d, at + jw[k]);
        }
        if (np > SIG_PASS_MAX - 2 * SIG_PREFETCH && pass_run(s, v, pass, &np))
            return j;
        i = j;
    }
    pass_run(s, v, pass, &np);
    return i;
}

static size_t wide_loop_scalar(struct ww_sigscan *s, struct sig_view *v, const unsigned char *d,
                               size_t len, size_t i)
{
    return wide_loop(s, v, d, len, i, wide_pick_scalar);
}

#ifdef SIG_HAVE_SSE41
__attribute__((target("sse4.1"))) static size_t wide_loop_sse41(struct ww_sigscan *s,
                                                                struct sig_view *v,
                                                                const unsigned char *d, size_t len,
                                                                size_t i)
{
    return wide_loop(s, v, d, len, i, wide_pick_sse41);
}
#endif

#ifdef SIG_HAVE_SSE41
#define SIG_AVX512 "avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,avx512bitalg"

/* The AVX-512 loop's byte table: bytes 8b..8b+3 in qword b (block b's window 0; its picked
 * window j is those plus j; byte 64 is the next step's first). */
static const unsigned char wide_wbase[64] = {
#define Q(b) 8 * (b), 8 * (b) + 1, 8 * (b) + 2, 8 * (b) + 3, 0, 0, 0, 0
    Q(0), Q(1), Q(2), Q(3), Q(4), Q(5), Q(6), Q(7)};
#undef Q

/* Which of the 8 windows (one per qword of <w>) pass the Bloom filter <bloom> (shift: 64 - its
 * log2 words): key_hash, bloom_bits8 and the word test of probe4, 8 at once. One bit shuffle
 * reads, for each byte of a window's mix, that bit of its filter word: a block passes when its
 * byte of the result is all ones. */
__attribute__((target(SIG_AVX512))) static inline __mmask8
bloom_test8(__m512i w, const uint64_t *bloom, __m128i shift)
{
    __m512i h = _mm512_mullo_epi64(w, _mm512_set1_epi64((long long)0x9E3779B97F4A7C15ULL));
    __m512i g =
        _mm512_mullo_epi64(_mm512_rol_epi64(h, 32), _mm512_set1_epi64((long long)SIG_BLOOM_MIX2));
    __m512i gw = _mm512_i64gather_epi64(_mm512_srl_epi64(h, shift), (const void *)bloom, 8);
    __mmask64 got = _mm512_bitshuffle_epi64_mask(gw, g); /* bit (byte & 63) of each */

    return _mm512_cmpeq_epi64_mask(_mm512_movm_epi8(got), _mm512_set1_epi64(-1));
}

/* wide_loop, 8 blocks a step, no per-block branch: the ranks of the windows at every byte
 * from 4 loads 1 byte apart (round 14: 3 byte permutes before, 5,200 -> 6,600 MB/s with the
 * body in the cache), the picks by a vertical minimum, the windows by a byte permute, the
 * filter words by one gather. Passes (rare) go to probe4_table in stream order, as wide_loop
 * does. */
__attribute__((target(SIG_AVX512))) static size_t wide_loop_avx512(struct ww_sigscan *s,
                                                                   struct sig_view *v,
                                                                   const unsigned char *d,
                                                                   size_t len, size_t i)
{
    const struct ww_sigdb *db = s->db;
    const uint64_t *bw = db->wide.bloom, *b8 = db->stride8.bloom;
    const __m128i sw = _mm_cvtsi32_si128((int)(64 - db->wide.bloom_log2));
    const __m128i s8 = _mm_cvtsi32_si128(b8 != NULL ? (int)(64 - db->stride8.bloom_log2) : 0);
    const __m512i wbase = _mm512_loadu_si512(wide_wbase);
    const __m512i mul = _mm512_set1_epi32((int)SIG_WIDE_MUL);
    const __m512i hi = _mm512_set1_epi32((int)0xfff80000u);
    const __m512i j0 = _mm512_set1_epi64(4LL << 32 | 0), j1 = _mm512_set1_epi64(5LL << 32 | 1);
    const __m512i j2 = _mm512_set1_epi64((long long)0xffffffff00000002ULL);
    const __m512i j3 = _mm512_set1_epi64((long long)0xffffffff00000003ULL);
    /* byte 0 of each qword into its bytes 0-3, zeros above (bit 7 of the index set); the
     * byte shuffle indexes within 16 bytes, so the odd qwords read byte 8 */
    const __m512i bcast =
        _mm512_set4_epi64((long long)0x8080808008080808ULL, (long long)0x8080808000000000ULL,
                          (long long)0x8080808008080808ULL, (long long)0x8080808000000000ULL);
    const __m512i hi6 = _mm512_set1_epi64(0xfff80000LL); /* windows 6, 7: hi 0, j all ones */
    const __m512i m32 = _mm512_set1_epi64(0xffffffffLL);
    struct sig_pass pass[SIG_PASS_MAX];
    size_t np = 0;

    while (i + 64 + 3 <= len) { /* the loads of windows 64..66 read 3 bytes past the step */
        /* dword k of l<o>: the window at byte 4k+o, i.e. window o (k = 2b) or o+4 (k = 2b+1) of
         * block b; windows 6 and 7 (o = 2, 3, k odd) rank above any other (all ones) */
        __m512i a = _mm512_loadu_si512(d + i);
        __m512i nx = _mm512_maskz_loadu_epi8(1, d + i + 64);
        __m512i r0 = _mm512_mullo_epi32(a, mul);
        __m512i r1 = _mm512_mullo_epi32(_mm512_loadu_si512(d + i + 1), mul);
        __m512i r2 = _mm512_mullo_epi32(_mm512_loadu_si512(d + i + 2), mul);
        __m512i r3 = _mm512_mullo_epi32(_mm512_loadu_si512(d + i + 3), mul);
        __m512i m, pick, widx, w;
        __mmask8 mw, m8 = 0;

        r0 = _mm512_ternarylogic_epi32(r0, hi, j0, 0xea); /* (r & hi) | j */
        r1 = _mm512_ternarylogic_epi32(r1, hi, j1, 0xea);
        r2 = _mm512_ternarylogic_epi32(r2, hi6, j2, 0xea);
        r3 = _mm512_ternarylogic_epi32(r3, hi6, j3, 0xea);
        m = _mm512_min_epu32(_mm512_min_epu32(r0, r1), _mm512_min_epu32(r2, r3));
        m = _mm512_min_epu32(m, _mm512_srli_epi64(m, 32));
        pick = _mm512_and_si512(m, _mm512_set1_epi64(7)); /* qword b: block b's window */
        widx = _mm512_add_epi8(wbase, _mm512_shuffle_epi8(pick, bcast)); /* + pick, 4 bytes */
        w = _mm512_maskz_permutex2var_epi8(0x0f0f0f0f0f0f0f0fULL, a, widx, nx);
        mw = bloom_test8(w, bw, sw);
        if (b8 != NULL)
            m8 = bloom_test8(_mm512_and_si512(a, m32), b8, s8);
        if ((mw | m8) != 0) {
            uint64_t pk[8];
            unsigned k;
            _mm512_storeu_si512((void *)pk, pick);
            for (k = 0; k < 8; k++) {
                if (m8 & (1u << k))
                    pass_add(pass, &np, &db->stride8, d, i + 8 * k);
                if (mw & (1u << k))
                    pass_add(pass, &np, &db->wide, d, i + 8 * k + pk[k]);
            }
            if (np > SIG_PASS_MAX - 16 && pass_run(s, v, pass, &np))
                return i + 64;
        }
        i += 64;
    }
    if (pass_run(s, v, pass, &np))
        return i;
    return wide_loop_sse41(s, v, d, len, i); /* the last blocks */
}
#endif

/* Wide mode's scan of a chunk: first the blocks that the last chunk's end cut (from the history
 * and this chunk; they come first in the stream), then the chunk's own, in stream order. A block
 * is probed once its SIG_WIDE_SPAN bytes are all there; the stride-8 window of the block the
 * chunk's end cuts, once its 4 bytes are, so that no window of fed bytes waits for more (a scan
 * stopped at scan.max_size sees what a finished one sees). It starts the block's position: the
 * block's pick, later, cannot come before it. */
static void probe_wide(struct ww_sigscan *s, struct sig_view *v, const unsigned char *d, size_t len)
{
    unsigned char b[16];
    size_t i;

    while (s->wnext < v->c_start && s->wnext + SIG_WIDE_SPAN <= v->end && s->threat == NULL) {
        unsigned k;
        memset(b, 0, sizeof(b));
        for (k = 0; k < SIG_WIDE_SPAN; k++)
            b[k] = (unsigned char)view_byte(v, s->wnext + k); /* the history keeps >= 16 bytes */
        wide_block(s, v, s->wnext, b);
        s->wnext += 8;
    }
    if (s->threat == NULL && s->wnext >= v->c_start) {
        int level = s->db->simd;
        if (ww_sig_simd_level >= 0 && ww_sig_simd_level < level)
            level = ww_sig_simd_level;
        i = (size_t)(s->wnext - v->c_start);
#ifdef SIG_HAVE_SSE41
        if (level == 2)
            i = wide_loop_avx512(s, v, d, len, i);
        else if (level == 1)
            i = wide_loop_sse41(s, v, d, len, i);
        else
#endif
            i = wide_loop_scalar(s, v, d, len, i);
        s->wnext = v->c_start + i;
    }
    if (s->threat == NULL && s->db->stride8.bloom != NULL && s->wnext + 4 <= v->end &&
        s->w8ahead != s->wnext + 1) {
        unsigned k;
        for (k = 0; k < 4; k++)
            b[k] = (unsigned char)view_byte(v, s->wnext + k);
        probe4(s, v, &s->db->stride8, s->wnext, load32(b));
        s->w8ahead = s->wnext + 1;
    }
}

static void history_append(struct ww_sigscan *s, const unsigned char *d, size_t len)
{
    size_t H = s->db->history;

    if (len >= H) {
        memcpy(s->hist, d + len - H, H);
        s->hist_off = 0;
        s->hist_len = H;
    } else {
        if (s->hist_off + s->hist_len + len > s->hist_cap) {
            size_t keep = s->hist_len < H - len ? s->hist_len : H - len;
            memmove(s->hist, s->hist + s->hist_off + s->hist_len - keep, keep);
            s->hist_off = 0;
            s->hist_len = keep;
        }
        memcpy(s->hist + s->hist_off + s->hist_len, d, len);
        s->hist_len += len;
    }
    s->end += len;
}

static void view_init(struct ww_sigscan *s, struct sig_view *v, const unsigned char *d, size_t len)
{
    v->h = s->hist + s->hist_off;
    v->h_start = s->end - s->hist_len;
    v->c = d;
    v->c_start = s->end;
    v->end = s->end + len;
    v->final = d == NULL;
    v->budget = SIG_VERIFY_BUDGET;
}

const char *ww_sigscan_feed(struct ww_sigscan *s, const unsigned char *data, size_t len)
{
    struct sig_view v;

    if (s->threat != NULL || s->finished || len == 0)
        return s->threat;
    view_init(s, &v, data, len);
    if (s->npending > 0)
        pending_run(s, &v);
    if (s->nabs_open > 0 && s->threat == NULL)
        abs_run(s, &v);
    if (s->db->wide_mode) {
        if (s->threat == NULL)
            probe_wide(s, &v, data, len);
    } else {
        if (s->threat == NULL && s->end > 0)
            probe_boundary(s, &v);
        if (s->threat == NULL)
            probe_chunk(s, &v, data, len);
    }
    history_append(s, data, len);
    return s->threat;
}

const char *ww_sigscan_finish(struct ww_sigscan *s)
{
    struct sig_view v;

    if (s->threat != NULL || s->finished)
        return s->threat;
    s->finished = 1;
    view_init(s, &v, NULL, 0);
    if (s->npending > 0)
        pending_run(s, &v);
    if (s->nabs_open > 0 && s->threat == NULL)
        abs_run(s, &v);
    if (s->threat == NULL)
        eof_run(s, &v);
    return s->threat;
}

const char *ww_sigscan_incomplete(const struct ww_sigscan *s)
{
    return s->incomplete;
}

uint64_t ww_sigscan_steps(const struct ww_sigscan *s)
{
    return s->steps;
}

uint64_t ww_sigscan_step_budget(uint64_t bytes)
{
    return SIG_SCAN_STEPS_FIXED + SIG_SCAN_STEPS_PER_BYTE * bytes;
}

uint64_t ww_sigscan_step_limit(uint64_t bytes)
{
    return ww_sigscan_step_budget(bytes) + SIG_VERIFY_BUDGET + SIG_MAX_SPAN / SIG_BYTES_PER_STEP;
}
