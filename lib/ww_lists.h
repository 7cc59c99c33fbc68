/* lib/ww_lists.h - the approved and blocked lists: domains (with subdomains) and URL prefixes. */
#ifndef WW_LISTS_H
#define WW_LISTS_H

#include <stddef.h>

struct ww_list; /* immutable once loaded: lookups are thread-safe */

/* Reads <path>: one entry a line, '#' starts a comment, blank lines ignored. An entry without
 * "/" (e.g. "example.com", "*.example.com", ".example.com") matches that host and every
 * subdomain; an entry with a path ("example.com/ads/", "http://example.com/x") matches canonical
 * URLs starting with it (scheme and port ignored; in the path, before any '?', case is folded,
 * '\\' and %5c count as '/' and ";parameters" of a segment are ignored, on both sides, as IIS
 * and servlet origins read a path). Entries are canonicalised like URLs. A line that is not
 * a valid entry is an error "file:line: reason". An empty <path> gives an empty list. */
int ww_list_load(const char *path, struct ww_list **out, char *err, size_t errlen);
void ww_list_free(struct ww_list *l); /* NULL is a no-op */
size_t ww_list_count(const struct ww_list *l);

/* 1 if the canonical URL <canon> matches an entry (borrowed text of that entry, valid while the
 * list lives, into *entry when not NULL), else 0. Cost: O(host labels + path segments). */
int ww_list_match(const struct ww_list *l, const char *canon, const char **entry);

#endif
