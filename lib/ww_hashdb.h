/* lib/ww_hashdb.h - whole-body hash signatures (ClamAV .hdb MD5, .hsb SHA-1/SHA-256) in one
 * open-addressing table keyed by digest; built once, then read-only and thread-safe. */
#ifndef WW_HASHDB_H
#define WW_HASHDB_H

#include <stddef.h>
#include <stdint.h>

enum ww_hash_kind { WW_HASH_MD5 = 0, WW_HASH_SHA1 = 1, WW_HASH_SHA256 = 2, WW_HASH_KINDS = 3 };

#define WW_HASH_MAX_LEN 32 /* bytes of the longest digest (SHA-256) */

struct ww_hashdb; /* opaque */

/* Empty database; NULL if out of memory. Caller owns it: ww_hashdb_free(). */
struct ww_hashdb *ww_hashdb_create(void);
void ww_hashdb_free(struct ww_hashdb *db); /* NULL is a no-op */

/* Adds one line "hash:size:name[:flevel...]" (size may be "*"). The hash is MD5, SHA-1 or
 * SHA-256, told apart by its length (32, 40 or 64 hex digits) as ClamAV does, in an .hdb
 * (<is_hsb> 0) and an .hsb (1) alike. Empty lines and '#' comments are WW_OK
 * and add nothing. WW_OK, WW_ENOMEM, or WW_EINVAL with the reason in <err>. Not after
 * ww_hashdb_finish(). */
int ww_hashdb_add_line(struct ww_hashdb *db, const char *line, int is_hsb, char *err,
                       size_t errlen);

/* Builds the lookup table; afterwards the database is read-only. WW_OK or WW_ENOMEM. */
int ww_hashdb_finish(struct ww_hashdb *db);

/* Number of signatures of <kind> (or of every kind when kind is WW_HASH_KINDS). */
size_t ww_hashdb_count(const struct ww_hashdb *db, int kind);
size_t ww_hashdb_memory(const struct ww_hashdb *db); /* bytes held */

/* Name of a signature with this digest whose size is <size> or "*", or NULL. Borrowed from
 * <db>. Thread-safe after ww_hashdb_finish(). */
const char *ww_hashdb_lookup(const struct ww_hashdb *db, int kind, const unsigned char *digest,
                             uint64_t size);

/* 1 if some signature of <kind> could match a body of <size> bytes (its size, or "*"), else 0:
 * a scan computes only the digests that can match. <size> < 0 (unknown) is 1 when the kind has
 * any signature. Thread-safe after ww_hashdb_finish(). */
int ww_hashdb_size_used(const struct ww_hashdb *db, int kind, int64_t size);
/* The largest size a signature of <kind> names, UINT64_MAX when one is "*", 0 when the kind has
 * none: past that many bytes no signature of the kind can match any more. */
uint64_t ww_hashdb_max_size(const struct ww_hashdb *db, int kind);

/* Length in bytes of a digest of <kind>. */
size_t ww_hash_len(int kind);

#endif
