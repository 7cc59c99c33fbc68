/* lib/ww_conf.c - webwarden.conf loader: one key table drives parsing, defaults and dump. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_filetype.h"
#include "ww_log.h"
#include "ww_policies.h"

#ifndef WW_DATADIR
#define WW_DATADIR "/usr/local/share/webwarden"
#endif
#ifndef WW_DEFAULT_CONF
#define WW_DEFAULT_CONF "/usr/local/etc/webwarden/webwarden.conf"
#endif

/* Longest line we accept, newline excluded: a longer one is almost surely not a config file. */
#define CONF_LINE_MAX 4096

/* Sizes above this are refused: 64 GiB is far past any body a proxy should hold. */
#define CONF_SIZE_MAX ((int64_t)64 << 30)

enum conf_type {
    CT_STRING, /* char *, taken as written */
    CT_SECRET, /* char *, masked by ww_conf_dump */
    CT_SERVER, /* char *, "" or an http:// / https:// URL */
    CT_PATH,   /* char *, made absolute against the config file's folder */
    CT_CHOICE, /* char *, one of names[] (stored lower case) */
    CT_ENUM,   /* enum (int-sized), index into names[] */
    CT_INT,    /* int within [min, max] */
    CT_SIZE,   /* int64_t bytes within [min, max], K/M/G suffixes */
    CT_BOOL,   /* int 0/1 */
    CT_LIST    /* char **, NULL-terminated, lower case, never NULL */
};

/* Enums are written through an int: they must be int-sized. */
_Static_assert(sizeof(enum ww_sensitivity) == sizeof(int), "enum ww_sensitivity is int-sized");
_Static_assert(sizeof(enum ww_action) == sizeof(int), "enum ww_action is int-sized");

static const char *const log_levels[] = {"error", "warning", "info", "debug", NULL};
/* Index = enum value: keep in step with enum ww_sensitivity and enum ww_action. */
static const char *const sensitivities[] = {"low", "medium", "high", NULL};
static const char *const actions[] = {"allow", "block", NULL};
static const char *const range_policies[] = {"strip", "pass", NULL}; /* enum ww_range_policy */

struct conf_key {
    const char *section;
    const char *name;
    enum conf_type type;
    size_t offset;
    const char *def; /* default, written as in the file */
    int64_t min, max;
    const char *const *names; /* CT_CHOICE and CT_ENUM */
};

#define OFF(field) offsetof(struct ww_conf, field)
/* One line per key macro: the formatter would spread each over four. */
/* clang-format off */
#define K_STR(s, k, t, d) {#s, #k, t, OFF(s.k), d, 0, 0, NULL}
#define K_INT(s, k, d, lo, hi) {#s, #k, CT_INT, OFF(s.k), #d, lo, hi, NULL}
#define K_SIZE(s, k, d, lo, hi) {#s, #k, CT_SIZE, OFF(s.k), d, lo, hi, NULL}
#define K_BOOL(s, k, d) {#s, #k, CT_BOOL, OFF(s.k), d, 0, 1, NULL}
#define K_ENUM(s, k, t, d, n) {#s, #k, t, OFF(s.k), d, 0, 0, n}
/* clang-format on */
#define THRESHOLD(i) (OFF(reputation.threshold) + (i) * sizeof(int))

/* Sections appear in this order in ww_conf_dump and in etc/webwarden.conf. */
static const struct conf_key conf_keys[] = {
    K_ENUM(gateway, log_level, CT_CHOICE, "info", log_levels),
    K_STR(gateway, block_page, CT_PATH, WW_DATADIR "/block.html"),
    K_INT(gateway, block_events_interval_s, 60, 1, 86400),

    K_STR(state, database, CT_PATH, "/var/lib/webwarden/state.db"),

    K_STR(daemon, pid_file, CT_PATH, "/run/webwarden/webwardend.pid"),
    K_STR(daemon, log_file, CT_PATH, ""),

    K_STR(lists, approved, CT_PATH, ""),
    K_STR(lists, blocked, CT_PATH, ""),

    K_STR(reputation, server, CT_SERVER, ""),
    K_STR(reputation, api_key, CT_SECRET, ""),
    K_INT(reputation, timeout_ms, 500, 1, 60000),
    K_ENUM(reputation, sensitivity, CT_ENUM, "medium", sensitivities),
    {"reputation", "threshold_low", CT_INT, THRESHOLD(0), "50", 0, 100, NULL},
    {"reputation", "threshold_medium", CT_INT, THRESHOLD(1), "65", 0, 100, NULL},
    {"reputation", "threshold_high", CT_INT, THRESHOLD(2), "80", 0, 100, NULL},
    K_ENUM(reputation, unrated_action, CT_ENUM, "allow", actions),
    K_STR(reputation, blocked_categories, CT_LIST, ""),
    K_BOOL(reputation, backoff, "on"),
    K_INT(reputation, backoff_failures, 3, 1, 1000),
    K_INT(reputation, backoff_s, 30, 1, 86400),
    K_INT(reputation, backoff_max_s, 300, 1, 86400),
    K_INT(reputation, cache_entries, 100000, 1, 10000000),
    K_INT(reputation, cache_ttl_s, 3600, 1, 604800),
    K_BOOL(reputation, tls_verify, "on"),
    K_STR(reputation, ca_file, CT_PATH, ""),

    K_STR(urldb, file, CT_PATH, ""),

    K_STR(scan, patterns_dir, CT_PATH, "/var/lib/webwarden/patterns"),
    K_ENUM(scan, no_patterns_action, CT_ENUM, "allow", actions),
    K_SIZE(scan, max_size, "50M", 1, CONF_SIZE_MAX),
    K_SIZE(scan, hold_max, "60K", 0, CONF_SIZE_MAX),
    K_BOOL(scan, hold_all, "off"),
    K_BOOL(scan, direct_send, "on"),
    K_SIZE(scan, hold_204_max, "64K", 0, CONF_SIZE_MAX),
    K_SIZE(scan, hold_memory, "1M", 0, CONF_SIZE_MAX),
    K_SIZE(scan, max_expanded_size, "100M", 1, CONF_SIZE_MAX),
    K_INT(scan, max_ratio, 100, 1, 100000),
    K_ENUM(scan, bomb_action, CT_ENUM, "block", actions),
    K_ENUM(scan, oversize_action, CT_ENUM, "allow", actions),
    K_ENUM(scan, undecodable_action, CT_ENUM, "block", actions),
    K_ENUM(scan, budget_action, CT_ENUM, "block", actions),
    K_ENUM(scan, range, CT_ENUM, "strip", range_policies),
    K_ENUM(scan, partial_action, CT_ENUM, "allow", actions),
    K_STR(scan, tmp_dir, CT_PATH, "/tmp"),
    K_STR(scan, deep_types, CT_LIST, WW_FILETYPE_DEEP_DEFAULT),

    K_STR(clamav, database_dir, CT_PATH, "/var/lib/clamav"),
    K_BOOL(clamav, enabled, "on"),
    K_SIZE(clamav, max_scan_size, "100M", 1, CONF_SIZE_MAX),
    K_SIZE(clamav, max_file_size, "25M", 1, CONF_SIZE_MAX),
    K_INT(clamav, max_recursion, 16, 1, 100),
    K_INT(clamav, max_files, 10000, 1, 1000000),
    K_INT(clamav, max_scan_time_ms, 120000, 1, 3600000),
    K_ENUM(clamav, limit_action, CT_ENUM, "block", actions),
    K_ENUM(clamav, unsupported_action, CT_ENUM, "allow", actions),
    K_INT(clamav, max_age_days, 7, 1, 3650),

    K_STR(smart_scan, server, CT_SERVER, ""),
    K_STR(smart_scan, api_key, CT_SECRET, ""),
    K_INT(smart_scan, timeout_ms, 1500, 1, 60000),
    K_INT(smart_scan, health_interval_s, 300, 1, 86400),
    K_INT(smart_scan, failures_to_fallback, 3, 1, 1000),
    K_INT(smart_scan, auto_recover, 0, 0, 1000),
    K_BOOL(smart_scan, tls_verify, "on"), /* unset: [reputation]'s (conf_inherit_tls) */
    K_STR(smart_scan, ca_file, CT_PATH, ""),

    K_STR(feedback, server, CT_SERVER, ""),
    K_STR(feedback, api_key, CT_SECRET, ""),
    K_INT(feedback, interval_s, 300, 1, 86400),
    K_INT(feedback, max_queued, 100000, 1, 100000000),
    K_INT(feedback, batch_size, 500, 1, 100000),
    K_INT(feedback, timeout_ms, 10000, 1, 600000),
    K_BOOL(feedback, tls_verify, "on"), /* unset: [reputation]'s (conf_inherit_tls) */
    K_STR(feedback, ca_file, CT_PATH, ""),

    K_STR(update, server, CT_SERVER, ""),
    K_STR(update, api_key, CT_SECRET, ""),
    K_INT(update, interval_s, 3600, 1, 604800),
    K_STR(update, public_key, CT_STRING, ""),
    K_SIZE(update, max_download, "200M", 1, CONF_SIZE_MAX),
    K_INT(update, timeout_s, 300, 1, 86400),
    K_STR(update, dir, CT_PATH, ""),
    K_BOOL(update, tls_verify, "on"), /* unset: [reputation]'s (conf_inherit_tls) */
    K_STR(update, ca_file, CT_PATH, ""),
    K_BOOL(update, allow_unsigned, "no"),

    K_STR(license, server, CT_SERVER, ""),
    K_STR(license, api_key, CT_SECRET, ""),
    K_INT(license, grace_days, 90, 0, 3650),
    K_INT(license, check_interval_s, 86400, 1, 31536000),
    K_INT(license, timeout_ms, 10000, 1, 600000),
    K_BOOL(license, tls_verify, "on"), /* unset: [reputation]'s (conf_inherit_tls) */
    K_STR(license, ca_file, CT_PATH, ""),

    K_STR(metrics, listen, CT_STRING, "127.0.0.1:9478"),
    K_BOOL(identity, user_strip_domain, "off"),
    K_BOOL(identity, username_base64, "off"),
    K_BOOL(identity, authenticated_user_plain, "off"),
    K_BOOL(identity, groups_base64, "off"),
};

#define CONF_NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

/* The keys of a [policy NAME] section, in enum ww_policy_key order; offsets into struct
 * ww_conf_policy. A key not set is inherited: the defaults here only fill the struct. */
#define PK(k, t, d, lo, hi, n)                                                                     \
    {                                                                                              \
        "policy", #k, t, offsetof(struct ww_conf_policy, k), d, lo, hi, n                          \
    }
static const struct conf_key policy_keys[WW_PK_COUNT] = {
    [WW_PK_MATCH] = PK(match, CT_LIST, "", 0, 0, NULL),
    [WW_PK_INHERIT] = PK(inherit, CT_STRING, "", 0, 0, NULL),
    [WW_PK_APPROVED] = PK(approved, CT_PATH, "", 0, 0, NULL),
    [WW_PK_BLOCKED] = PK(blocked, CT_PATH, "", 0, 0, NULL),
    [WW_PK_SENSITIVITY] = PK(sensitivity, CT_ENUM, "medium", 0, 0, sensitivities),
    [WW_PK_UNRATED_ACTION] = PK(unrated_action, CT_ENUM, "allow", 0, 0, actions),
    [WW_PK_BLOCKED_CATEGORIES] = PK(blocked_categories, CT_LIST, "", 0, 0, NULL),
    [WW_PK_BLOCK_TYPES] = PK(block_types, CT_LIST, "", 0, 0, NULL),
    [WW_PK_MAX_SIZE] = PK(max_size, CT_SIZE, "50M", 1, CONF_SIZE_MAX, NULL),
    [WW_PK_DEEP] = PK(deep, CT_BOOL, "off", 0, 1, NULL),
};
#undef PK

static void *conf_field(struct ww_conf *conf, const struct conf_key *k)
{
    return (char *)conf + k->offset;
}

static const void *conf_field_const(const struct ww_conf *conf, const struct conf_key *k)
{
    return (const char *)conf + k->offset;
}

static void conf_list_free(char **list)
{
    if (list == NULL)
        return;
    for (char **p = list; *p != NULL; p++)
        free(*p);
    free(list);
}

/* Frees the strings and lists of the fields <keys> describe in the struct at <base>. */
static void conf_free_fields(void *base, const struct conf_key *keys, size_t nkeys)
{
    for (size_t i = 0; i < nkeys; i++) {
        const struct conf_key *k = &keys[i];
        void *field = (char *)base + k->offset;
        switch (k->type) {
        case CT_STRING:
        case CT_SECRET:
        case CT_SERVER:
        case CT_PATH:
        case CT_CHOICE:
            free(*(char **)field);
            break;
        case CT_LIST:
            conf_list_free(*(char ***)field);
            break;
        default:
            break;
        }
    }
}

void ww_conf_free(struct ww_conf *conf)
{
    if (conf == NULL)
        return;
    ww_policies_free(conf->policy_set);
    for (size_t i = 0; i < conf->npolicies; i++) {
        conf_free_fields(&conf->policies[i], policy_keys, WW_PK_COUNT);
        free(conf->policies[i].name);
    }
    free(conf->policies);
    for (size_t i = 0; i < CONF_NKEYS; i++) {
        const struct conf_key *k = &conf_keys[i];
        switch (k->type) {
        case CT_STRING:
        case CT_SECRET:
        case CT_SERVER:
        case CT_PATH:
        case CT_CHOICE:
            free(*(char **)conf_field(conf, k));
            break;
        case CT_LIST:
            conf_list_free(*(char ***)conf_field(conf, k));
            break;
        default:
            break;
        }
    }
    free(conf->path);
    free(conf);
}

/* Parsing context: enough to name the file and line in an error and to resolve paths. */
struct conf_ctx {
    const char *file;     /* as the caller named it, for messages */
    const char *base_dir; /* absolute folder of the file, or NULL: paths stay as written */
    int line;
    char *err;
    size_t errlen;
};

static int conf_fail(struct conf_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int conf_fail(struct conf_ctx *ctx, const char *fmt, ...)
{
    char reason[WW_ERRLEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (ctx->err != NULL && ctx->errlen > 0) {
        if (ctx->line > 0)
            snprintf(ctx->err, ctx->errlen, "%s:%d: %s", ctx->file, ctx->line, reason);
        else
            snprintf(ctx->err, ctx->errlen, "%s: %s", ctx->file, reason);
    }
    return WW_EINVAL;
}

/* Digits only, optional leading '-'; no spaces, no '+', no hex: what an admin writes. */
static int conf_parse_int64(const char *s, int64_t *out, const char **rest)
{
    int neg = 0;
    int64_t v = 0;

    if (*s == '-') {
        neg = 1;
        s++;
    }
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        int d = *s - '0';
        if (v > (INT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = neg ? -v : v;
    *rest = s;
    return 0;
}

static const char *conf_names_joined(const char *const *names, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; names[i] != NULL; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i > 0 ? "|" : "", names[i]);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    return buf;
}

static int conf_name_index(const char *const *names, const char *value)
{
    for (int i = 0; names[i] != NULL; i++)
        if (strcasecmp(names[i], value) == 0)
            return i;
    return -1;
}

/* names[idx], or "" when <idx> is out of range (a caller stored a bad enum value). */
static const char *conf_name_at(const char *const *names, int idx)
{
    for (int i = 0; names[i] != NULL; i++)
        if (i == idx)
            return names[i];
    return "";
}

static void conf_lower(char *s)
{
    for (; *s != '\0'; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static int conf_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Trims in place; returns the start of the trimmed text. */
static char *conf_trim(char *s)
{
    size_t len;

    while (conf_is_space(*s))
        s++;
    len = strlen(s);
    while (len > 0 && conf_is_space(s[len - 1]))
        s[--len] = '\0';
    return s;
}

/* "a, B,,c" -> {"a", "b", "c", NULL}; NULL only if out of memory. */
static char **conf_list_parse(const char *value)
{
    size_t n = 1;
    char *copy = strdup(value);
    char **list = NULL;
    size_t used = 0;

    if (copy == NULL)
        return NULL;
    for (const char *p = value; *p != '\0'; p++)
        if (*p == ',')
            n++;
    list = calloc(n + 1, sizeof(*list));
    if (list == NULL)
        goto fail;
    for (char *item = copy, *next; item != NULL; item = next) {
        next = strchr(item, ',');
        if (next != NULL)
            *next++ = '\0';
        item = conf_trim(item);
        if (*item == '\0')
            continue;
        list[used] = strdup(item);
        if (list[used] == NULL)
            goto fail;
        conf_lower(list[used++]);
    }
    free(copy);
    return list;
fail:
    free(copy);
    conf_list_free(list);
    return NULL;
}

/* <value> made absolute against <base_dir> (no base: as written). "" stays "". */
static char *conf_path_resolve(const char *base_dir, const char *value)
{
    char *out;
    size_t blen, vlen;

    if (value[0] == '\0' || value[0] == '/' || base_dir == NULL)
        return strdup(value);
    while (value[0] == '.' && value[1] == '/')
        value += 2;
    blen = strlen(base_dir);
    vlen = strlen(value);
    out = malloc(blen + vlen + 2);
    if (out == NULL)
        return NULL;
    memcpy(out, base_dir, blen);
    if (blen == 0 || out[blen - 1] != '/')
        out[blen++] = '/';
    memcpy(out + blen, value, vlen + 1);
    if (vlen == 0 || strcmp(value, ".") == 0) { /* "." or "./" = the folder itself */
        if (blen > 1)
            blen--;
        out[blen] = '\0';
    }
    return out;
}

static int conf_server_ok(const char *v)
{
    const char *host;

    if (v[0] == '\0')
        return 1;
    if (strncasecmp(v, "http://", 7) == 0)
        host = v + 7;
    else if (strncasecmp(v, "https://", 8) == 0)
        host = v + 8;
    else
        return 0;
    if (*host == '\0' || *host == '/')
        return 0;
    for (const char *p = v; *p != '\0'; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return 0;
    return 1;
}

static void conf_size_format(int64_t v, char *buf, size_t len)
{
    static const char suffix[] = "GMK";
    for (int i = 0; i < 3; i++) {
        int64_t unit = (int64_t)1 << (10 * (3 - i));
        if (v != 0 && v % unit == 0) {
            snprintf(buf, len, "%lld%c", (long long)(v / unit), suffix[i]);
            return;
        }
    }
    snprintf(buf, len, "%lld", (long long)v);
}

/* Stores <value> (already trimmed and unquoted) into <field>, described by <k>. */
static int conf_set_field(void *field, const struct conf_key *k, const char *value,
                          struct conf_ctx *ctx)
{
    char names[128];
    char *s = NULL;
    int64_t v;
    const char *rest;
    int idx;

    switch (k->type) {
    case CT_SERVER:
        if (!conf_server_ok(value))
            return conf_fail(ctx,
                             "%s.%s: \"%s\" is not a server URL: write http://host[:port][/path]"
                             " or https://..., or leave it empty for no server",
                             k->section, k->name, value);
        /* fall through */
    case CT_STRING:
    case CT_SECRET:
        s = strdup(value);
        break;
    case CT_PATH:
        s = conf_path_resolve(ctx->base_dir, value);
        break;
    case CT_CHOICE:
        idx = conf_name_index(k->names, value);
        if (idx < 0)
            return conf_fail(ctx, "%s.%s: \"%s\" is not one of %s", k->section, k->name, value,
                             conf_names_joined(k->names, names, sizeof(names)));
        s = strdup(k->names[idx]);
        break;
    case CT_ENUM:
        idx = conf_name_index(k->names, value);
        if (idx < 0)
            return conf_fail(ctx, "%s.%s: \"%s\" is not one of %s", k->section, k->name, value,
                             conf_names_joined(k->names, names, sizeof(names)));
        memcpy(field, &idx, sizeof(int));
        return WW_OK;
    case CT_INT:
        if (conf_parse_int64(value, &v, &rest) != 0 || *rest != '\0' || v < k->min || v > k->max)
            return conf_fail(ctx, "%s.%s: \"%s\" is not a whole number from %lld to %lld",
                             k->section, k->name, value, (long long)k->min, (long long)k->max);
        *(int *)field = (int)v;
        return WW_OK;
    case CT_SIZE: {
        int64_t unit = 1;
        char lo[32], hi[32];
        int ok = conf_parse_int64(value, &v, &rest) == 0 && v >= 0;
        if (ok && *rest != '\0') {
            const char *units = "kmg";
            const char *u = strchr(units, *rest | 0x20);
            if (u == NULL || *u == '\0')
                ok = 0;
            else
                unit = (int64_t)1 << (10 * (u - units + 1));
            ok = ok && rest[1] == '\0' && v <= INT64_MAX / unit;
        }
        if (ok) {
            v *= unit;
            ok = v >= k->min && v <= k->max;
        }
        if (!ok) {
            conf_size_format(k->min, lo, sizeof(lo));
            conf_size_format(k->max, hi, sizeof(hi));
            return conf_fail(ctx,
                             "%s.%s: \"%s\" is not a size from %s to %s (bytes, or a number"
                             " with K, M or G for KiB, MiB, GiB, e.g. 60K or 50M)",
                             k->section, k->name, value, lo, hi);
        }
        *(int64_t *)field = v;
        return WW_OK;
    }
    case CT_BOOL:
        if (strcasecmp(value, "on") == 0 || strcasecmp(value, "yes") == 0 ||
            strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0)
            *(int *)field = 1;
        else if (strcasecmp(value, "off") == 0 || strcasecmp(value, "no") == 0 ||
                 strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
            *(int *)field = 0;
        else
            return conf_fail(ctx, "%s.%s: \"%s\" is not one of on|off|yes|no|true|false|1|0",
                             k->section, k->name, value);
        return WW_OK;
    case CT_LIST: {
        char **list = conf_list_parse(value);
        if (list == NULL)
            return WW_ENOMEM;
        conf_list_free(*(char ***)field);
        *(char ***)field = list;
        return WW_OK;
    }
    }
    if (s == NULL)
        return WW_ENOMEM;
    free(*(char **)field);
    *(char **)field = s;
    return WW_OK;
}

static int conf_set(struct ww_conf *conf, const struct conf_key *k, const char *value,
                    struct conf_ctx *ctx)
{
    return conf_set_field(conf_field(conf, k), k, value, ctx);
}

/* Every key at its default, before the derived ones (update.dir) are filled in. */
static struct ww_conf *conf_create_raw(void)
{
    struct ww_conf *conf = calloc(1, sizeof(*conf));
    struct conf_ctx ctx = {"(defaults)", NULL, 0, NULL, 0};

    if (conf == NULL)
        return NULL;
    conf->path = strdup("");
    if (conf->path == NULL)
        goto fail;
    for (size_t i = 0; i < CONF_NKEYS; i++)
        if (conf_set(conf, &conf_keys[i], conf_keys[i].def, &ctx) != WW_OK)
            goto fail;
    return conf;
fail:
    ww_conf_free(conf);
    return NULL;
}

/* Fills in defaults that depend on other keys. */
static int conf_finish(struct ww_conf *conf)
{
    if (conf->update.dir[0] == '\0') {
        const char *db = conf->state.database;
        const char *slash = strrchr(db, '/');
        size_t dlen = slash != NULL ? (size_t)(slash - db) : 0;
        char *dir = malloc(dlen + sizeof("/updates"));
        if (dir == NULL)
            return WW_ENOMEM;
        if (slash == NULL) /* a bare file name: "updates" beside it, in the current folder */
            memcpy(dir, "updates", sizeof("updates"));
        else {
            memcpy(dir, db, dlen);
            memcpy(dir + dlen, "/updates", sizeof("/updates"));
        }
        free(conf->update.dir);
        conf->update.dir = dir;
    }
    return WW_OK;
}

struct ww_conf *ww_conf_create_defaults(void)
{
    struct ww_conf *conf = conf_create_raw();

    if (conf != NULL && (conf_finish(conf) != WW_OK ||
                         ww_policies_create(conf, &conf->policy_set, NULL, 0) != WW_OK)) {
        ww_conf_free(conf);
        return NULL;
    }
    return conf;
}

static const struct conf_key *conf_find(const char *section, const char *name)
{
    for (size_t i = 0; i < CONF_NKEYS; i++)
        if (strcmp(conf_keys[i].section, section) == 0 && strcmp(conf_keys[i].name, name) == 0)
            return &conf_keys[i];
    return NULL;
}

static int conf_section_known(const char *section)
{
    for (size_t i = 0; i < CONF_NKEYS; i++)
        if (strcmp(conf_keys[i].section, section) == 0)
            return 1;
    return 0;
}

/* "[policy NAME]": a new policy, every key at its default and none set. */
static int conf_policy_begin(struct ww_conf *conf, char *name, char *section, size_t section_len,
                             struct conf_ctx *ctx)
{
    struct ww_conf_policy *grown, *pol;
    size_t len = strlen(name);

    conf_lower(name);
    if (len == 0 || len > 63 || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != len)
        return conf_fail(
            ctx, "a policy name is 1 to 63 letters, digits, '.', '_' or '-', got \"%s\"", name);
    if (strcmp(name, "default") == 0)
        return conf_fail(ctx, "[policy default] is the global keys: name this policy otherwise");
    for (size_t i = 0; i < conf->npolicies; i++)
        if (strcmp(conf->policies[i].name, name) == 0)
            return conf_fail(ctx, "[policy %s] is defined twice (first on line %d)", name,
                             conf->policies[i].line);
    grown = realloc(conf->policies, (conf->npolicies + 1) * sizeof(*grown));
    if (grown == NULL)
        return WW_ENOMEM;
    conf->policies = grown;
    pol = &conf->policies[conf->npolicies];
    memset(pol, 0, sizeof(*pol));
    conf->npolicies++; /* from here ww_conf_free frees what is set */
    pol->line = ctx->line;
    pol->name = strdup(name);
    if (pol->name == NULL)
        return WW_ENOMEM;
    for (int i = 0; i < WW_PK_COUNT; i++)
        if (conf_set_field((char *)pol + policy_keys[i].offset, &policy_keys[i], policy_keys[i].def,
                           ctx) != WW_OK)
            return WW_ENOMEM;
    snprintf(section, section_len, "policy");
    return WW_OK;
}

/* "key = value" inside the newest [policy NAME]. */
static int conf_policy_key(struct ww_conf *conf, const char *key, char *value, struct conf_ctx *ctx)
{
    struct ww_conf_policy *pol = &conf->policies[conf->npolicies - 1];
    size_t vlen = strlen(value);
    int i;

    for (i = 0; i < WW_PK_COUNT; i++)
        if (strcmp(policy_keys[i].name, key) == 0)
            break;
    if (i == WW_PK_COUNT)
        return conf_fail(ctx,
                         "unknown key \"%s\" in [policy %s] (known: match, inherit, approved,"
                         " blocked, sensitivity, unrated_action, blocked_categories, block_types,"
                         " max_size, deep)",
                         key, pol->name);
    if (pol->lines[i] > 0)
        return conf_fail(ctx, "[policy %s] %s is set twice (first on line %d)", pol->name, key,
                         pol->lines[i]);
    pol->lines[i] = ctx->line;
    if (value[0] == '"') {
        if (vlen < 2 || value[vlen - 1] != '"')
            return conf_fail(
                ctx, "policy.%s: the value opens a quote (\") but does not end with one", key);
        value[vlen - 1] = '\0';
        value++;
    }
    return conf_set_field((char *)pol + policy_keys[i].offset, &policy_keys[i], value, ctx);
}

/* One line, newline removed. <section> holds the current section name ("" before the first). */
static int conf_line(struct ww_conf *conf, char *line, char *section, size_t section_len,
                     int *seen_line, struct conf_ctx *ctx)
{
    char *p = conf_trim(line);
    char *eq, *key, *value;
    const struct conf_key *k;
    size_t vlen;

    if (*p == '\0' || *p == '#' || *p == ';')
        return WW_OK;
    if (*p == '[') {
        char *end = strchr(p, ']');
        if (end == NULL || end[1] != '\0')
            return conf_fail(ctx, "a section line must be [name], got \"%s\"", p);
        *end = '\0';
        p = conf_trim(p + 1);
        if (strncmp(p, "policy", 6) == 0 && conf_is_space(p[6]))
            return conf_policy_begin(conf, conf_trim(p + 7), section, section_len, ctx);
        if (!conf_section_known(p))
            return conf_fail(ctx,
                             "unknown section [%s] (known: gateway, state, daemon, lists,"
                             " reputation, urldb, scan, clamav, smart_scan, feedback, update,"
                             " license, metrics, identity, policy NAME)",
                             p);
        snprintf(section, section_len, "%s", p); /* known names are short */
        return WW_OK;
    }
    eq = strchr(p, '=');
    if (eq == NULL)
        return conf_fail(ctx, "expected \"key = value\" or \"[section]\", got \"%s\"", p);
    *eq = '\0';
    key = conf_trim(p);
    value = conf_trim(eq + 1);
    if (*key == '\0')
        return conf_fail(ctx, "a key name is missing before \"=\"");
    if (section[0] == '\0')
        return conf_fail(ctx, "key \"%s\" is outside a section: put a [section] line above it",
                         key);
    if (strcmp(section, "policy") == 0)
        return conf_policy_key(conf, key, value, ctx);
    k = conf_find(section, key);
    if (k == NULL)
        return conf_fail(ctx, "unknown key \"%s\" in section [%s]", key, section);
    if (seen_line[k - conf_keys] > 0)
        return conf_fail(ctx, "%s.%s is set twice (first on line %d)", k->section, k->name,
                         seen_line[k - conf_keys]);
    seen_line[k - conf_keys] = ctx->line;
    vlen = strlen(value);
    if (value[0] == '"') {
        if (vlen < 2 || value[vlen - 1] != '"')
            return conf_fail(ctx, "%s.%s: the value opens a quote (\") but does not end with one",
                             k->section, k->name);
        value[vlen - 1] = '\0';
        value++;
    }
    return conf_set(conf, k, value, ctx);
}

/* Rules between keys, checked once the whole file is read. */
static int conf_check_cross(const struct ww_conf *conf, const int *seen_line, struct conf_ctx *ctx)
{
    if (conf->reputation.backoff_max_s < conf->reputation.backoff_s) {
        const struct conf_key *a = conf_find("reputation", "backoff_s");
        const struct conf_key *b = conf_find("reputation", "backoff_max_s");
        int la = seen_line[a - conf_keys], lb = seen_line[b - conf_keys];
        ctx->line = la > lb ? la : lb;
        return conf_fail(ctx,
                         "reputation.backoff_max_s (%d) must not be below"
                         " reputation.backoff_s (%d)",
                         conf->reputation.backoff_max_s, conf->reputation.backoff_s);
    }
    {
        uint64_t set;
        char why[WW_ERRLEN];
        if (ww_filetype_set_parse((const char *const *)conf->scan.deep_types, &set, why,
                                  sizeof(why)) != WW_OK) {
            ctx->line = seen_line[conf_find("scan", "deep_types") - conf_keys];
            return conf_fail(ctx, "scan.deep_types: %s", why);
        }
    }
    return WW_OK;
}

/* The TLS keys of [reputation] are the default of every other server's section: a section that
 * does not set tls_verify or ca_file itself takes [reputation]'s (as before those sections had
 * them). An explicit "ca_file =" there means the system store. */
static int conf_inherit_tls(struct ww_conf *conf, const int *seen_line)
{
    static const char *const sections[] = {"smart_scan", "feedback", "update", "license"};
    const struct conf_key *rep_verify = conf_find("reputation", "tls_verify");
    const struct conf_key *rep_ca = conf_find("reputation", "ca_file");

    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        const struct conf_key *v = conf_find(sections[i], "tls_verify");
        const struct conf_key *c = conf_find(sections[i], "ca_file");
        if (seen_line[v - conf_keys] == 0)
            *(int *)conf_field(conf, v) = *(const int *)conf_field_const(conf, rep_verify);
        if (seen_line[c - conf_keys] == 0) {
            char *copy = strdup(*(char *const *)conf_field_const(conf, rep_ca));
            if (copy == NULL)
                return WW_ENOMEM;
            free(*(char **)conf_field(conf, c));
            *(char **)conf_field(conf, c) = copy;
        }
    }
    return WW_OK;
}

/* Absolute form of <path> and of its folder, without resolving symlinks. */
static int conf_abs_path(const char *path, char **abs_out, char **dir_out)
{
    char cwd[PATH_MAX];
    char *abs = NULL, *slash;
    size_t plen = strlen(path);

    if (path[0] == '/') {
        abs = strdup(path);
    } else {
        size_t clen;
        if (getcwd(cwd, sizeof(cwd)) == NULL)
            return WW_EIO;
        clen = strlen(cwd);
        abs = malloc(clen + plen + 2);
        if (abs != NULL) {
            memcpy(abs, cwd, clen);
            abs[clen] = '/';
            memcpy(abs + clen + 1, path, plen + 1);
        }
    }
    if (abs == NULL)
        return WW_ENOMEM;
    *dir_out = strdup(abs);
    if (*dir_out == NULL) {
        free(abs);
        return WW_ENOMEM;
    }
    slash = strrchr(*dir_out, '/');
    slash[slash == *dir_out ? 1 : 0] = '\0'; /* "/x.conf" -> "/" */
    *abs_out = abs;
    return WW_OK;
}

/* ww_conf_load, reading <given> (NULL: opens <path>) with <path> naming the file and its
 * folder. */
static int conf_load(const char *path, FILE *given, struct ww_conf **out, char *err, size_t errlen);

int ww_conf_load(const char *path, struct ww_conf **out, char *err, size_t errlen)
{
    return conf_load(path, NULL, out, err, errlen);
}

int ww_conf_load_text(const char *text, size_t len, const char *as_path, struct ww_conf **out,
                      char *err, size_t errlen)
{
    FILE *fp;
    int rc;

    if (text == NULL || len == 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: empty configuration text", as_path ? as_path : "(null)");
        return WW_EINVAL;
    }
    fp = fmemopen((void *)text, len, "r");
    if (fp == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %s", as_path ? as_path : "(null)", strerror(errno));
        return WW_ENOMEM;
    }
    rc = conf_load(as_path, fp, out, err, errlen);
    fclose(fp);
    return rc;
}

static int conf_load(const char *path, FILE *given, struct ww_conf **out, char *err, size_t errlen)
{
    struct ww_conf *conf = NULL;
    FILE *fp = NULL;
    char *line = NULL, *abs = NULL, *dir = NULL;
    size_t cap = 0;
    ssize_t len;
    char section[32] = "";
    int seen_line[CONF_NKEYS] = {0};
    struct conf_ctx ctx = {path, NULL, 0, err, errlen};
    int rc = WW_EINVAL;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL || out == NULL) {
        ctx.file = path != NULL ? path : "(null)";
        conf_fail(&ctx, "no config file or result given");
        goto cleanup;
    }
    rc = WW_EIO;
    fp = given != NULL ? given : fopen(path, "r");
    if (fp == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    rc = conf_abs_path(path, &abs, &dir);
    if (rc != WW_OK) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %s", path, rc == WW_EIO ? strerror(errno) : "out of memory");
        goto cleanup;
    }
    ctx.base_dir = dir;
    rc = WW_ENOMEM;
    conf = conf_create_raw();
    if (conf == NULL)
        goto cleanup;
    free(conf->path);
    conf->path = abs;
    abs = NULL;
    errno = 0;
    while ((len = getline(&line, &cap, fp)) >= 0) {
        ctx.line++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len > CONF_LINE_MAX) {
            rc = conf_fail(&ctx, "line is longer than %d characters", CONF_LINE_MAX);
            goto cleanup;
        }
        if (memchr(line, '\0', (size_t)len) != NULL) {
            rc = conf_fail(&ctx, "line contains a NUL byte: not a text file");
            goto cleanup;
        }
        rc = conf_line(conf, line, section, sizeof(section), seen_line, &ctx);
        if (rc != WW_OK)
            goto cleanup;
        errno = 0;
    }
    if (ferror(fp)) {
        rc = WW_EIO;
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %s", path, strerror(errno != 0 ? errno : EIO));
        goto cleanup;
    }
    ctx.line = 0;
    rc = conf_check_cross(conf, seen_line, &ctx);
    if (rc != WW_OK)
        goto cleanup;
    rc = conf_inherit_tls(conf, seen_line);
    if (rc != WW_OK)
        goto cleanup;
    rc = conf_finish(conf);
    if (rc != WW_OK)
        goto cleanup;
    rc = ww_policies_create(conf, &conf->policy_set, err, errlen);
    if (rc != WW_OK)
        goto cleanup;
    *out = conf; /* ownership moves to the caller */
    conf = NULL;
cleanup:
    if (rc == WW_ENOMEM && err != NULL && errlen > 0 && err[0] == '\0')
        snprintf(err, errlen, "%s: out of memory", path != NULL ? path : "(null)");
    ww_conf_free(conf);
    free(line);
    free(abs);
    free(dir);
    if (fp != NULL && fp != given)
        fclose(fp);
    return rc;
}

const char *ww_conf_pick_path(const char *cli_path)
{
    const char *env;

    if (cli_path != NULL)
        return cli_path;
    env = getenv("WEBWARDEN_CONF");
    if (env != NULL && env[0] != '\0')
        return env;
    return WW_DEFAULT_CONF;
}

/* Writes one value so that ww_conf_load reads it back unchanged. */
static void conf_dump_value(FILE *fp, const char *v)
{
    size_t len = strlen(v);

    if (len > 0 && (conf_is_space(v[0]) || conf_is_space(v[len - 1]) || v[0] == '"'))
        fprintf(fp, "\"%s\"", v);
    else
        fputs(v, fp);
}

/* The [policy NAME] sections: the keys each one sets, as ww_conf_load reads them back. */
static void conf_dump_policies(FILE *fp, const struct ww_conf *conf)
{
    for (size_t i = 0; i < conf->npolicies; i++) {
        const struct ww_conf_policy *pol = &conf->policies[i];

        fprintf(fp, "\n[policy %s]\n", pol->name);
        for (int j = 0; j < WW_PK_COUNT; j++) {
            const struct conf_key *k = &policy_keys[j];
            const void *field = (const char *)pol + k->offset;
            char buf[64];

            if (pol->lines[j] == 0)
                continue;
            fprintf(fp, "%s = ", k->name);
            switch (k->type) {
            case CT_ENUM: {
                int idx;
                memcpy(&idx, field, sizeof(int));
                fputs(conf_name_at(k->names, idx), fp);
                break;
            }
            case CT_BOOL:
                fputs(*(const int *)field ? "on" : "off", fp);
                break;
            case CT_SIZE:
                conf_size_format(*(const int64_t *)field, buf, sizeof(buf));
                fputs(buf, fp);
                break;
            case CT_LIST: {
                char *const *list = *(char **const *)field;
                for (size_t n = 0; list != NULL && list[n] != NULL; n++)
                    fprintf(fp, "%s%s", n > 0 ? ", " : "", list[n]);
                break;
            }
            default: {
                const char *v = *(char *const *)field;
                conf_dump_value(fp, v != NULL ? v : "");
                break;
            }
            }
            fputc('\n', fp);
        }
    }
}

int ww_conf_dump(const struct ww_conf *conf, char **text_out)
{
    char *text = NULL;
    size_t text_len = 0;
    FILE *fp;
    const char *section = "";

    if (conf == NULL || text_out == NULL)
        return WW_EINVAL;
    fp = open_memstream(&text, &text_len);
    if (fp == NULL)
        return WW_ENOMEM;
    fputs("# effective webwarden configuration from ", fp);
    for (const char *p = conf->path != NULL && conf->path[0] != '\0' ? conf->path : "(defaults)";
         *p != '\0'; p++)
        fputc((unsigned char)*p < ' ' ? '?' : *p, fp); /* keep the comment on one line */
    fputc('\n', fp);
    for (size_t i = 0; i < CONF_NKEYS; i++) {
        const struct conf_key *k = &conf_keys[i];
        const void *field = conf_field_const(conf, k);
        char buf[64];

        if (strcmp(section, k->section) != 0) {
            section = k->section;
            fprintf(fp, "\n[%s]\n", section);
        }
        fprintf(fp, "%s = ", k->name);
        switch (k->type) {
        case CT_STRING:
        case CT_SERVER:
        case CT_PATH:
        case CT_CHOICE: {
            const char *v = *(char *const *)field;
            conf_dump_value(fp, v != NULL ? v : "");
            break;
        }
        case CT_SECRET: {
            const char *v = *(char *const *)field;
            size_t mlen = (v != NULL ? strlen(v) : 0) + 1;
            char *masked = malloc(mlen);
            if (masked == NULL) {
                fclose(fp);
                free(text);
                return WW_ENOMEM;
            }
            ww_log_mask_secret(v != NULL ? v : "", masked, mlen);
            fputs(masked, fp);
            free(masked);
            break;
        }
        case CT_ENUM: {
            int idx;
            memcpy(&idx, field, sizeof(int));
            fputs(conf_name_at(k->names, idx), fp);
            break;
        }
        case CT_INT:
        case CT_BOOL:
            if (k->type == CT_BOOL)
                fputs(*(const int *)field ? "on" : "off", fp);
            else
                fprintf(fp, "%d", *(const int *)field);
            break;
        case CT_SIZE:
            conf_size_format(*(const int64_t *)field, buf, sizeof(buf));
            fputs(buf, fp);
            break;
        case CT_LIST: {
            char *const *list = *(char **const *)field;
            for (size_t j = 0; list != NULL && list[j] != NULL; j++)
                fprintf(fp, "%s%s", j > 0 ? ", " : "", list[j]);
            break;
        }
        }
        fputc('\n', fp);
    }
    conf_dump_policies(fp, conf);
    if (fclose(fp) != 0) {
        free(text);
        return WW_ENOMEM;
    }
    *text_out = text; /* caller frees with free() */
    return WW_OK;
}
