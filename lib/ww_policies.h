/* lib/ww_policies.h - named policies: who gets which filtering and scanning.
 *
 * webwarden.conf's [policy NAME] sections, in file order, each with
 *     match = group students, client 10.20.0.0/16, user alice
 * The terms of one match are OR'ed: a request matching any of them gets that policy. The first
 * policy (in file order) with a matching term wins; a request no policy matches gets the default
 * policy, which is the global keys. A policy overrides any of: sensitivity, unrated_action,
 * blocked_categories, extra approved/blocked list files (added to the global lists), block_types,
 * max_size, deep; whatever it does not set is the default policy's value (or, with
 * inherit = NAME, the earlier policy NAME's value).
 *
 * Matching: client terms are IPv4/IPv6 CIDRs in one binary trie (IPv4 as ::ffff:0:0/96), O(128)
 * per lookup whatever the count; user and group names are sorted tables (bsearch), lower case.
 * Compiled once with the config; read-only afterwards: share it between threads. */
#ifndef WW_POLICIES_H
#define WW_POLICIES_H

#include <stddef.h>
#include <stdint.h>

#include "ww_conf.h"

struct ww_list;
struct ww_rating;
struct ww_policy_decision;
struct ww_who;

/* True file type groups that block_types may name: the group names of lib/ww_filetype
 * (ww_filetype_group(), branch 'deep'), so a detected type t is blocked under policy p when
 * p->block_types & ww_ftype_bit(ww_filetype_group(t)). Bits, index i of ww_ftype_names. */
enum {
    WW_FTYPE_EXECUTABLE = 1 << 0,
    WW_FTYPE_ARCHIVE = 1 << 1,
    WW_FTYPE_OFFICE = 1 << 2,
    WW_FTYPE_PDF = 1 << 3,
    WW_FTYPE_RTF = 1 << 4,
    WW_FTYPE_CHM = 1 << 5,
    WW_FTYPE_MAIL = 1 << 6,
    WW_FTYPE_SCRIPT = 1 << 7,
    WW_FTYPE_HTML = 1 << 8,
    WW_FTYPE_TEXT = 1 << 9,
    WW_FTYPE_IMAGE = 1 << 10,
    WW_FTYPE_MEDIA = 1 << 11,
    WW_FTYPE_FONT = 1 << 12,
    WW_FTYPE_UNKNOWN = 1 << 13
};

/* "executable", "archive", ...: NULL-terminated, index i is bit 1 << i. */
extern const char *const ww_ftype_names[];

/* The bit of a type name (case-insensitive), 0 if unknown. */
unsigned int ww_ftype_bit(const char *name);

/* One policy's effective settings, read-only. */
struct ww_policy {
    const char *name; /* "default" for the global keys */
    int index;        /* 0 = default, then 1, 2 ... in file order */
    int line;         /* of its [policy NAME] line; 0 for the default */
    enum ww_sensitivity sensitivity;
    enum ww_action unrated_action;
    char *const *blocked_categories; /* NULL-terminated, lower case; borrowed from the config */
    unsigned int block_types;        /* WW_FTYPE_* bits; 0 = no file type is blocked.
                                        Enforced in RESPMOD by lib/ww_body (limits) */
    int64_t max_size;                /* scan.max_size for this policy */
    int deep;                        /* -1 = as configured globally, 0 = off, 1 = on
                                        (the deep scanner for this policy's responses) */
    const char *approved_path;       /* extra list files; "" = none */
    const char *blocked_path;
    struct ww_list *approved; /* loaded by ww_policies_load_lists; NULL = none */
    struct ww_list *blocked;
};

struct ww_policies; /* opaque */

/* Compiles conf->policies (the [policy NAME] sections ww_conf_load read) against the global keys
 * of <conf>. WW_OK and *out (caller owns it: ww_policies_free), or WW_EINVAL with
 * "file:line: reason" in <err>: a bad CIDR, an unknown term or type name, an unknown policy in
 * inherit, a term that can never apply because an earlier policy always wins for it. WW_ENOMEM.
 * <conf> must outlive the set (names, category lists and paths are borrowed). */
int ww_policies_create(const struct ww_conf *conf, struct ww_policies **out, char *err,
                       size_t errlen);
void ww_policies_free(struct ww_policies *set); /* NULL is a no-op; frees the loaded lists */

/* Loads every policy's extra approved/blocked list files (ww_list_load). WW_OK, or the first
 * error with "file:line: reason" in <err> (lists loaded so far stay; free the set). Call once,
 * before sharing the set between threads. */
int ww_policies_load_lists(struct ww_policies *set, char *err, size_t errlen);

/* Number of named policies (the default not counted). */
size_t ww_policies_count(const struct ww_policies *set);

/* Policy <i>: 0 = the default, 1..count the named ones in file order; NULL when out of range. */
const struct ww_policy *ww_policies_at(const struct ww_policies *set, size_t i);

/* The named policy (or "default"), NULL if there is none. */
const struct ww_policy *ww_policies_find(const struct ww_policies *set, const char *name);

/* The policy for <who>: the first in file order with a matching term, else the default. Never
 * NULL for a set; NULL only for a NULL set. *term (when not NULL) gets the matching term as
 * written ("client 10.20.0.0/16"), "" for the default. Pure, thread-safe, no allocation.
 * <who> may be NULL (nobody: the default). A set without named policies (ww_policies_count() 0)
 * gives the default whoever asks, so a caller may skip gathering <who> for it. */
const struct ww_policy *ww_policies_select(const struct ww_policies *set, const struct ww_who *who,
                                           const char **term);

/* The list step for a request under <pol>: the global approved list, then the policy's own, then
 * the global blocked list, then the policy's own (an approved entry wins over a blocked one, as
 * without policies). Returns WW_LISTED_APPROVED or WW_LISTED_BLOCKED with the matching entry in
 * *entry (borrowed from its list), or WW_LISTED_NONE. Any list may be NULL. Thread-safe. */
enum ww_listed { WW_LISTED_NONE = 0, WW_LISTED_APPROVED = 1, WW_LISTED_BLOCKED = 2 };
enum ww_listed ww_policy_lists_match(const struct ww_list *approved, const struct ww_list *blocked,
                                     const struct ww_policy *pol, const char *url,
                                     const char **entry);

#endif
