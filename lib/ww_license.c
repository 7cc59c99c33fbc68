/* lib/ww_license.c - activation code, license server, expiry and grace (see ww_license.h). */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ww_common.h"
#include "ww_endpoint.h"
#include "ww_license.h"
#include "ww_log.h"

/* Days before expiry from which the daily check warns. */
#define LICENSE_WARN_DAYS 30
#define LICENSE_MAX_GRACE_DAYS 3650

static const int license_groups[] = {2, 4, 5, 5, 5, 5, 5};

int ww_license_code_normalise(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
    char code[WW_LICENSE_CODE_LEN + 1];
    size_t len, pos = 0;

    if (in == NULL) {
        snprintf(err, errlen, "no activation code given");
        return WW_EINVAL;
    }
    while (isspace((unsigned char)*in))
        in++;
    len = strlen(in);
    while (len > 0 && isspace((unsigned char)in[len - 1]))
        len--;
    if (len != WW_LICENSE_CODE_LEN) {
        snprintf(err, errlen,
                 "activation code has %zu characters, want %d in the form "
                 "XX-XXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX",
                 len, WW_LICENSE_CODE_LEN);
        return WW_EINVAL;
    }
    for (size_t g = 0; g < sizeof(license_groups) / sizeof(license_groups[0]); g++) {
        if (g > 0) {
            if (in[pos] != '-') {
                snprintf(err, errlen,
                         "activation code: character %zu should be '-' (form "
                         "XX-XXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX)",
                         pos + 1);
                return WW_EINVAL;
            }
            code[pos] = '-';
            pos++;
        }
        for (int i = 0; i < license_groups[g]; i++, pos++) {
            unsigned char c = (unsigned char)in[pos];
            if (!isascii(c) || !isalnum(c)) {
                snprintf(err, errlen,
                         "activation code: character %zu should be a letter or digit (group %zu "
                         "has %d)",
                         pos + 1, g + 1, license_groups[g]);
                return WW_EINVAL;
            }
            code[pos] = (char)toupper(c);
        }
    }
    code[pos] = '\0';
    if (outlen <= pos) {
        snprintf(err, errlen, "activation code: output buffer too small");
        return WW_ETOOBIG;
    }
    memcpy(out, code, pos + 1);
    return WW_OK;
}

/* Howard Hinnant's days_from_civil / civil_from_days: exact for the proleptic Gregorian
 * calendar, without timegm() or the TZ environment. */
static long license_days_from_civil(long y, unsigned m, unsigned d)
{
    long era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static void license_civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
    long era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long)yoe + era * 400 + (*m <= 2);
}

static void license_format_day(long days, char *out, size_t len)
{
    long y;
    unsigned m, d;

    license_civil_from_days(days, &y, &m, &d);
    snprintf(out, len, "%04ld-%02u-%02u", y, m, d);
}

int ww_license_parse_date(const char *s, long *days)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, m, d, last;

    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return WW_EINVAL;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return WW_EINVAL;
    y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
    m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    if (y < 1970 || m < 1 || m > 12 || d < 1)
        return WW_EINVAL;
    last = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    if (d > last)
        return WW_EINVAL;
    *days = license_days_from_civil((long)y, m, d);
    return WW_OK;
}

static long license_today(time_t now)
{
    /* Floor division: UTC days since 1970-01-01. */
    return (long)(now >= 0 ? now / 86400 : -((-now + 86399) / 86400));
}

struct ww_http *ww_license_http_create(const struct ww_conf *conf, const char *appliance_id)
{
    struct ww_endpoint ep;

    ww_endpoint_init(&ep, conf, WW_SERVER_LICENSE, appliance_id);
    return ww_endpoint_http_create(&ep);
}

/* Copies optional string <key> of <root> into <out>: absent = "", not a string or too long =
 * failure. */
static int license_opt_string(json_t *root, const char *key, char *out, size_t outlen)
{
    json_t *v = json_object_get(root, key);

    out[0] = '\0';
    if (v == NULL)
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= outlen ||
        strlen(json_string_value(v)) != json_string_length(v))
        return -1;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int license_opt_int(json_t *root, const char *key, int max, int *out)
{
    json_t *v = json_object_get(root, key);

    *out = 0;
    if (v == NULL)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
        return -1;
    *out = (int)json_integer_value(v);
    return 0;
}

int ww_license_parse_answer(const char *body, size_t len, struct ww_license *lic, char *why,
                            size_t whylen)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    long days;
    int rc = WW_EPROTO;

    if (root == NULL) {
        snprintf(why, whylen, "not JSON (%s)", jerr.text);
        goto cleanup;
    }
    if (!json_is_object(root)) {
        snprintf(why, whylen, "not a JSON object");
        goto cleanup;
    }
    if (license_opt_string(root, "status", lic->status, sizeof(lic->status)) != 0 ||
        (strcmp(lic->status, "active") != 0 && strcmp(lic->status, "expired") != 0 &&
         strcmp(lic->status, "invalid") != 0)) {
        snprintf(why, whylen, "status is not active, expired or invalid");
        goto cleanup;
    }
    if (license_opt_string(root, "product", lic->product, sizeof(lic->product)) != 0 ||
        license_opt_string(root, "edition", lic->edition, sizeof(lic->edition)) != 0) {
        snprintf(why, whylen, "product or edition is not a short string");
        goto cleanup;
    }
    if (license_opt_string(root, "expires", lic->expires, sizeof(lic->expires)) != 0 ||
        (lic->expires[0] != '\0' && ww_license_parse_date(lic->expires, &days) != WW_OK) ||
        (lic->expires[0] == '\0' && strcmp(lic->status, "invalid") != 0)) {
        snprintf(why, whylen, "expires is not a date YYYY-MM-DD");
        goto cleanup;
    }
    if (license_opt_int(root, "seats", INT_MAX, &lic->seats) != 0 ||
        license_opt_int(root, "grace_days", LICENSE_MAX_GRACE_DAYS, &lic->grace_days) != 0) {
        snprintf(why, whylen, "seats or grace_days is not a number in range");
        goto cleanup;
    }
    rc = WW_OK;
cleanup:
    json_decref(root);
    return rc;
}

static const char *license_reason(int rc)
{
    switch (rc) {
    case WW_ETIMEOUT:
        return "timeout";
    case WW_EUNAVAIL:
        return "unreachable";
    case WW_ETOOBIG:
        return "answer too big";
    case WW_EPROTO:
        return "not an HTTP answer";
    default:
        return ww_strerror(rc);
    }
}

/* POSTs {"activation_code": code} to <path>; parses the answer into <lic>. */
static int license_call(const struct ww_conf *conf, struct ww_http *h, const char *path,
                        const char *code_in, struct ww_license *lic, char *err, size_t errlen)
{
    struct ww_license got;
    struct ww_http_result res;
    char code[WW_LICENSE_CODE_LEN + 1], url[2048], why[256];
    const char *server = conf->license.server;
    json_t *req = NULL;
    char *body = NULL;
    int rc;

    rc = ww_license_code_normalise(code_in, code, sizeof(code), err, errlen);
    if (rc != WW_OK)
        return rc;
    if (server == NULL || server[0] == '\0') {
        snprintf(err, errlen, "no license server configured ([license] server)");
        return WW_EINVAL;
    }
    if (ww_endpoint_join(server, path, url, sizeof(url)) != WW_OK) {
        snprintf(err, errlen, "license.server too long");
        return WW_EINVAL;
    }
    rc = WW_ENOMEM;
    req = json_pack("{s:s}", "activation_code", code);
    body = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
    if (body == NULL) {
        snprintf(err, errlen, "out of memory");
        goto cleanup;
    }
    rc = ww_http_post_json(h, url, body, strlen(body), &res);
    if (rc != WW_OK) {
        const char *detail = ww_http_last_error(h);
        if ((rc == WW_EUNAVAIL || rc == WW_EPROTO) && detail[0] != '\0')
            snprintf(err, errlen, "license server unavailable: %s (%s)", license_reason(rc),
                     detail);
        else
            snprintf(err, errlen, "license server unavailable: %s", license_reason(rc));
        goto cleanup;
    }
    if (res.status != 200) {
        rc = WW_EUNAVAIL;
        snprintf(err, errlen, "license server unavailable: HTTP %ld", res.status);
        goto cleanup;
    }
    memset(&got, 0, sizeof(got));
    rc = ww_license_parse_answer(res.body, res.body_len, &got, why, sizeof(why));
    if (rc != WW_OK) {
        snprintf(err, errlen, "license server answer malformed: %s", why);
        goto cleanup;
    }
    memcpy(got.activation_code, code, sizeof(code));
    got.checked_at = time(NULL);
    *lic = got;
cleanup:
    free(body);
    json_decref(req);
    return rc;
}

int ww_license_check(const struct ww_conf *conf, struct ww_http *h, const char *code,
                     struct ww_license *lic, char *err, size_t errlen)
{
    return license_call(conf, h, "/v1/license/check", code, lic, err, errlen);
}

int ww_license_activate(struct ww_store *st, const struct ww_conf *conf, struct ww_http *h,
                        const char *code, struct ww_license *lic, char *err, size_t errlen)
{
    struct ww_license got;
    char masked[WW_LICENSE_CODE_LEN + 1], msg[256];
    int rc = license_call(conf, h, "/v1/license/activate", code, &got, err, errlen);

    if (rc != WW_OK)
        return rc;
    *lic = got;
    ww_log_mask_secret(got.activation_code, masked, sizeof(masked));
    if (strcmp(got.status, "active") != 0) {
        snprintf(err, errlen, "activation refused: code %s is %s", masked, got.status);
        return WW_ENOTFOUND;
    }
    rc = ww_store_license_set(st, &got);
    if (rc != WW_OK) {
        snprintf(err, errlen, "could not store the license: database error");
        return rc;
    }
    snprintf(msg, sizeof(msg), "license activated: code %s, %s %s, expires %s", masked, got.product,
             got.edition, got.expires);
    (void)ww_store_add_event(st, "info", "license", msg); /* the license is stored either way */
    return WW_OK;
}

void ww_license_state(const struct ww_license *lic, time_t now, int grace_days,
                      struct ww_license_state *out)
{
    long exp, today = license_today(now);

    memset(out, 0, sizeof(*out));
    if (grace_days < 0)
        grace_days = 0;
    if (lic == NULL || lic->activation_code[0] == '\0') {
        out->phase = WW_LICENSE_NONE;
        return;
    }
    if (strcmp(lic->status, "invalid") == 0 || ww_license_parse_date(lic->expires, &exp) != WW_OK) {
        out->phase = WW_LICENSE_INVALID;
        return;
    }
    out->days_left = (int)(exp - today);
    out->grace_days_left = (int)(exp + grace_days - today);
    if (out->days_left >= 0)
        out->phase = WW_LICENSE_ACTIVE;
    else if (out->grace_days_left >= 0)
        out->phase = WW_LICENSE_GRACE;
    else
        out->phase = WW_LICENSE_PAST_GRACE;
}

const char *ww_license_phase_name(enum ww_license_phase phase)
{
    switch (phase) {
    case WW_LICENSE_NONE:
        return "none";
    case WW_LICENSE_INVALID:
        return "invalid";
    case WW_LICENSE_ACTIVE:
        return "active";
    case WW_LICENSE_GRACE:
        return "grace";
    case WW_LICENSE_PAST_GRACE:
        return "past-grace";
    }
    return "unknown";
}

void ww_license_describe(const struct ww_license *lic, time_t now, int grace_days, char *out,
                         size_t len)
{
    struct ww_license_state s;
    char grace_end[32] = "";
    long exp;

    if (grace_days < 0)
        grace_days = 0;
    ww_license_state(lic, now, grace_days, &s);
    if (s.phase == WW_LICENSE_ACTIVE || s.phase == WW_LICENSE_GRACE ||
        s.phase == WW_LICENSE_PAST_GRACE) {
        (void)ww_license_parse_date(lic->expires, &exp);
        license_format_day(exp + grace_days, grace_end, sizeof(grace_end));
    }
    switch (s.phase) {
    case WW_LICENSE_NONE:
        snprintf(out, len, "no license (updates need one: webwardenctl license activate CODE)");
        break;
    case WW_LICENSE_INVALID:
        snprintf(out, len, "invalid (updates stopped; filtering and scanning continue)");
        break;
    case WW_LICENSE_ACTIVE:
        snprintf(out, len, "active, expires %s (%d day%s left)", lic->expires, s.days_left,
                 s.days_left == 1 ? "" : "s");
        break;
    case WW_LICENSE_GRACE:
        snprintf(out, len, "expired %s, grace period until %s (%d day%s left)", lic->expires,
                 grace_end, s.grace_days_left, s.grace_days_left == 1 ? "" : "s");
        break;
    case WW_LICENSE_PAST_GRACE:
        snprintf(out, len,
                 "expired %s, grace period ended %s: updates stopped; filtering and scanning "
                 "continue",
                 lic->expires, grace_end);
        break;
    }
}

int ww_license_updates_allowed(const struct ww_license *lic, time_t now, int grace_days, char *why,
                               size_t len)
{
    struct ww_license_state s;
    char grace_end[32] = "";
    long exp;

    if (grace_days < 0)
        grace_days = 0;
    ww_license_state(lic, now, grace_days, &s);
    switch (s.phase) {
    case WW_LICENSE_ACTIVE:
    case WW_LICENSE_GRACE:
        ww_license_describe(lic, now, grace_days, why, len);
        return 1;
    case WW_LICENSE_NONE:
        /* Open-source use: nothing was ever activated, so nothing can expire. Only a license
         * that was activated and then lapsed (or was refused) stops updates. */
        snprintf(why, len, "no license activated: updates run unlicensed");
        return 1;
    case WW_LICENSE_INVALID:
        snprintf(why, len,
                 "license invalid: updates stopped; filtering and scanning continue with the "
                 "installed patterns");
        return 0;
    case WW_LICENSE_PAST_GRACE:
        (void)ww_license_parse_date(lic->expires, &exp);
        license_format_day(exp + grace_days, grace_end, sizeof(grace_end));
        snprintf(why, len,
                 "license expired on %s and its %d-day grace period ended on %s: updates "
                 "stopped; filtering and scanning continue with the installed patterns",
                 lic->expires, grace_days, grace_end);
        return 0;
    }
    snprintf(why, len, "license state unknown");
    return 0;
}

/* Adds the day's expiry event for <lic> once a day per phase (kv license.notice). */
static void license_notice(struct ww_store *st, const struct ww_license *lic, time_t now,
                           int grace_days)
{
    struct ww_license_state s;
    char key_val[64], old[64] = "", line[256];
    const char *level = "warning";

    ww_license_state(lic, now, grace_days, &s);
    if (s.phase == WW_LICENSE_NONE ||
        (s.phase == WW_LICENSE_ACTIVE && s.days_left > LICENSE_WARN_DAYS))
        return;
    snprintf(key_val, sizeof(key_val), "%s %ld", ww_license_phase_name(s.phase),
             license_today(now));
    if (ww_store_kv_get(st, "license.notice", old, sizeof(old)) == WW_OK &&
        strcmp(old, key_val) == 0)
        return;
    if (s.phase == WW_LICENSE_ACTIVE) {
        snprintf(line, sizeof(line), "license expires on %s (%d day%s left)", lic->expires,
                 s.days_left, s.days_left == 1 ? "" : "s");
    } else {
        (void)ww_license_updates_allowed(lic, now, grace_days, line, sizeof(line));
        if (s.phase == WW_LICENSE_GRACE) {
            char d[200];
            ww_license_describe(lic, now, grace_days, d, sizeof(d));
            snprintf(line, sizeof(line), "license %s; updates continue until then", d);
        } else {
            level = "error";
        }
    }
    if (ww_store_add_event(st, level, "license", line) == WW_OK)
        (void)ww_store_kv_set(st, "license.notice", key_val);
    ww_log(s.phase == WW_LICENSE_ACTIVE || s.phase == WW_LICENSE_GRACE ? WW_LOG_WARN : WW_LOG_ERR,
           "license: %s", line);
}

int ww_license_run_once(struct ww_store *st, const struct ww_conf *conf, struct ww_http *h,
                        char *result, size_t len)
{
    struct ww_license old, got;
    char err[WW_ERRLEN], desc[200];
    time_t now = time(NULL);
    int rc = ww_store_license_get(st, &old);

    if (rc != WW_OK) {
        snprintf(result, len, "license: database error");
        return rc;
    }
    if (old.activation_code[0] == '\0') {
        snprintf(result, len, "no license");
        return WW_OK;
    }
    if (conf->license.server == NULL || conf->license.server[0] == '\0') {
        ww_license_describe(&old, now, conf->license.grace_days, desc, sizeof(desc));
        license_notice(st, &old, now, conf->license.grace_days);
        snprintf(result, len, "not configured; stored license: %s", desc);
        return WW_OK;
    }
    rc = ww_license_check(conf, h, old.activation_code, &got, err, sizeof(err));
    if (rc != WW_OK) {
        ww_license_describe(&old, now, conf->license.grace_days, desc, sizeof(desc));
        license_notice(st, &old, now, conf->license.grace_days);
        snprintf(result, len, "%s; stored license kept: %s", err, desc);
        return rc;
    }
    /* Keep the stored spelling of the code: the check normalised the same code. */
    memcpy(got.activation_code, old.activation_code, sizeof(got.activation_code));
    rc = ww_store_license_set(st, &got);
    if (rc != WW_OK) {
        snprintf(result, len, "license: database error");
        return rc;
    }
    license_notice(st, &got, now, conf->license.grace_days);
    ww_license_describe(&got, now, conf->license.grace_days, desc, sizeof(desc));
    snprintf(result, len, "checked: %s", desc);
    return WW_OK;
}
