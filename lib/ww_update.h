/* lib/ww_update.h - pattern, urldb and engine updates from the update server (SPEC item 4,
 * PROTOCOL.md "Update"): fetch the manifest, verify, install atomically, record, roll back.
 *
 * Installed components live under update.dir: <dir>/pattern/<version>/ (a folder of signature
 * files) and <dir>/urldb/<version>.urldb; the store's components table says which one is current.
 * c-icap children notice a new current version themselves (they never read update.dir directly).
 * A failed update changes nothing on disk but temporary names (removed) and the store's kv:
 *   update.last_attempt  unix time of the last run
 *   update.result        ok | failed | not needed
 *   update.reason        one line for humans
 *   update.engine_available  the engine version the server announced last
 *   update.<name>.rolled_back  a version the admin rolled back, not reinstalled
 * Functions here block (network, disk); call them from webwardend or webwardenctl, never from the
 * request path. One update runs at a time per update.dir (a lock file); they are not thread-safe
 * on one store handle. */
#ifndef WW_UPDATE_H
#define WW_UPDATE_H

#include <stddef.h>

struct ww_conf;
struct ww_http;
struct ww_store;

/* The version of this build's scanning engine; a pattern whose min_engine is newer is refused. */
#define WW_ENGINE_VERSION "1.0.0"

/* Most files a pattern archive may hold. */
#define WW_UPDATE_MAX_FILES 1000
/* Versions kept on disk per component (older folders are pruned after an install). */
#define WW_UPDATE_KEEP 3

/* 1 if <v> is a version: dot-separated decimal numbers ("2026.11.27.1"), under 64 bytes. */
int ww_update_version_valid(const char *v);

/* Compares two valid versions as dot-separated numbers: <0, 0 or >0. Missing trailing parts
 * count as 0 ("1.0" == "1.0.0"); leading zeros are ignored; numbers of any length. An invalid
 * version sorts before every valid one (two invalid ones compare with strcmp). */
int ww_update_version_cmp(const char *a, const char *b);

/* Checks a manifest (<len> bytes of <body>) as an update run would before downloading: every
 * known component complete and sane, payloads within <max_download> bytes (0: no limit). WW_OK,
 * or WW_EPROTO / WW_ETOOBIG with the reason in <why>. Never crashes on any input (fuzzed). */
int ww_update_parse_manifest(const char *body, size_t len, long long max_download, char *why,
                             size_t whylen);

/* One update pass: GET <update.server>/v1/manifest (and /v1/manifest.sig, verified when
 * update.public_key is set), then for pattern and urldb entries newer than the installed version:
 * download (update.max_download, update.timeout_s), check size and SHA-256, validate (a pattern
 * must compile, a urldb must load), install atomically and record it in the store. The engine
 * entry is only recorded (update.engine_available).
 * <h> may be NULL: a client is then made from <conf> (and freed). <time_left_ms> may be NULL;
 * else it is asked how long the pass may still take (0 = stop now, -1 = no limit) - the daemon
 * passes its scheduler's clock so SIGTERM abandons a download within a second.
 * Returns WW_OK when the pass succeeded or nothing was needed, WW_EBUSY when another update
 * holds the lock (nothing recorded), else a negative WW_E* (the installed versions stay current,
 * the reason is in the kv and the events). <result> gets one line ("ok: pattern 2 installed",
 * "not needed: ...", "failed: ..."). */
int ww_update_run_once_until(struct ww_store *st, const struct ww_conf *conf, struct ww_http *h,
                             long (*time_left_ms)(void *arg), void *arg, char *result, size_t len);
int ww_update_run_once(struct ww_store *st, const struct ww_conf *conf, struct ww_http *h,
                       char *result, size_t len);

/* Makes the version installed before the current one of <component> ("pattern" or "urldb")
 * current again, after checking that its files still exist and still load. The version rolled
 * away from is remembered and not reinstalled by later runs (a newer one is). WW_OK with one line
 * in <msg>; WW_ENOTFOUND (no earlier version, or its files were pruned), WW_EINVAL (unknown
 * component, or the engine, which cannot be rolled back), WW_EBUSY, WW_EDB, with the reason. */
int ww_update_rollback(struct ww_store *st, const struct ww_conf *conf, const char *component,
                       char *msg, size_t len);

/* Human-readable status for `webwardenctl update status`: per component the current version
 * and the one before it, the engine line ("engine update available: X" when the server announced
 * a newer engine), last attempt, result and reason. WW_OK or WW_EDB; <out> always terminated. */
int ww_update_status_text(struct ww_store *st, char *out, size_t len);

#endif
