/* lib/ww_license.h - the license: activation code format, online check and activation against
 * the license server (PROTOCOL.md "License"), the daily re-check, and the expiry/grace rules.
 *
 * Rules (docs/license.md): full function until the expiry date (inclusive, UTC) plus the grace
 * period (license.grace_days, 90); after that, updates stop with a reason while proxying,
 * filtering and scanning with the installed patterns go on. Without any license, updates are
 * not allowed; filtering and scanning never depend on the license. A failed server operation
 * never changes the stored license. A full activation code is never logged or put into an error
 * text: only its last 5 characters (ww_log_mask_secret). */
#ifndef WW_LICENSE_H
#define WW_LICENSE_H

#include <stddef.h>
#include <time.h>

#include "ww_conf.h"
#include "ww_http.h"
#include "ww_store.h"

/* "XX-XXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX": 37 characters with the NUL-less hyphens. */
#define WW_LICENSE_CODE_LEN 37

/* Checks the shape of activation code <in> (groups of 2, 4, 5, 5, 5, 5, 5 letters A-Z or digits,
 * joined by '-'; lower case accepted; blanks around it ignored) and writes it upper-cased to <out>
 * (at least WW_LICENSE_CODE_LEN + 1 bytes). WW_OK, or WW_EINVAL with the reason in <err> (the code
 * itself is not repeated there). Offline, pure. */
int ww_license_code_normalise(const char *in, char *out, size_t outlen, char *err, size_t errlen);

/* A client with the license section's settings (timeout_ms, api_key; TLS settings of the
 * [reputation] section). NULL if out of memory. The caller owns it: ww_http_free(). */
struct ww_http *ww_license_http_create(const struct ww_conf *conf, const char *appliance_id);

/* POST <license.server>/v1/license/check for <code> (format-checked first). WW_OK with *lic
 * filled from the answer (code normalised, checked_at = now) - whatever its status - or:
 * WW_EINVAL (bad code format, or license.server is ""), WW_ETIMEOUT, WW_EUNAVAIL (refused,
 * non-200), WW_EPROTO (not the stated JSON: status not active|expired|invalid, a date not
 * YYYY-MM-DD, a wrong type), each with a line in <err>. Reads nothing from and writes nothing to
 * the store. Blocks at most <h>'s timeout. */
int ww_license_check(const struct ww_conf *conf, struct ww_http *h, const char *code,
                     struct ww_license *lic, char *err, size_t errlen);

/* POST <license.server>/v1/license/activate for <code>. Stores code and details only when the
 * answer's status is "active" (WW_OK). A valid answer of another status gives WW_ENOTFOUND with
 * "activation refused: code is expired|invalid" in <err>; every other failure as
 * ww_license_check. In all those cases the stored license is left exactly as it was. *lic gets
 * the answer when there was one. */
int ww_license_activate(struct ww_store *st, const struct ww_conf *conf, struct ww_http *h,
                        const char *code, struct ww_license *lic, char *err, size_t errlen);

/* The daily background job: re-checks the stored code online and stores the new status and
 * details (the code itself stays), then adds an event when the license expires within 30 days,
 * has expired and is in its grace period, or is past it (at most one such event a day).
 * "no license" / "not configured" are WW_OK. On a server failure the stored license is not
 * touched and the error comes back with a line in <result>. */
int ww_license_run_once(struct ww_store *st, const struct ww_conf *conf, struct ww_http *h,
                        char *result, size_t len);

/* Where a license stands at <now>. */
enum ww_license_phase {
    WW_LICENSE_NONE = 0,  /* no activation code stored */
    WW_LICENSE_INVALID,   /* the server said invalid, or the stored expiry is not a date */
    WW_LICENSE_ACTIVE,    /* before or on the expiry date */
    WW_LICENSE_GRACE,     /* expired, within grace_days after the expiry date */
    WW_LICENSE_PAST_GRACE /* updates stop */
};

struct ww_license_state {
    enum ww_license_phase phase;
    int days_left;       /* to the expiry date: 0 on that day, negative after it */
    int grace_days_left; /* to the end of the grace period, same convention */
};

/* Computes the state of <lic> at <now> with a grace period of <grace_days> (< 0 counts as 0).
 * Pure. */
void ww_license_state(const struct ww_license *lic, time_t now, int grace_days,
                      struct ww_license_state *out);

/* "none", "invalid", "active", "grace", "past-grace". */
const char *ww_license_phase_name(enum ww_license_phase phase);

/* One line for status: "active, expires 2027-11-27 (365 days left)", "expired 2027-11-27, grace
 * until 2028-02-25 (12 days left)", ... Pure. */
void ww_license_describe(const struct ww_license *lic, time_t now, int grace_days, char *out,
                         size_t len);

/* 1 if updates may run at <now> (active, or expired within <grace_days>), else 0 with the reason
 * in <why> ("license expired on ... and its 90-day grace period ended on ...: updates stopped").
 * A missing license means no updates; filtering and scanning are not affected. Pure. */
int ww_license_updates_allowed(const struct ww_license *lic, time_t now, int grace_days, char *why,
                               size_t len);

/* Parses a license server answer (<len> bytes of <body>) into <lic>: status, product, edition,
 * expires, seats, grace_days; the code and checked_at are left to the caller. WW_OK, or
 * WW_EPROTO with the reason in <why>. Never crashes on any input (fuzzed). */
int ww_license_parse_answer(const char *body, size_t len, struct ww_license *lic, char *why,
                            size_t whylen);

/* Days since 1970-01-01 of date "YYYY-MM-DD" (validated: month, day of month, leap years).
 * WW_OK or WW_EINVAL. */
int ww_license_parse_date(const char *s, long *days);

#endif
