/* lib/ww_conf.h - webwarden.conf: one INI file shared by the modules, webwardend and webwardenctl.
 *
 * Keys are written "[section] key = value"; the issues name them "section.key". Every key has a
 * default, so an empty file is a valid config. Relative paths are taken relative to the folder of
 * the config file. An unknown section or key, or a bad value, is an error naming file and line.
 * The struct is plain data, read-only once loaded: share it freely between threads. */
#ifndef WW_CONF_H
#define WW_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "ww_range.h"

enum ww_sensitivity { WW_SENS_LOW = 0, WW_SENS_MEDIUM = 1, WW_SENS_HIGH = 2 };
enum ww_action { WW_ACTION_ALLOW = 0, WW_ACTION_BLOCK = 1 };

struct ww_policies; /* lib/ww_policies.h */

/* The keys of a [policy NAME] section: index into ww_conf_policy.lines. */
enum ww_policy_key {
    WW_PK_MATCH,
    WW_PK_INHERIT,
    WW_PK_APPROVED,
    WW_PK_BLOCKED,
    WW_PK_SENSITIVITY,
    WW_PK_UNRATED_ACTION,
    WW_PK_BLOCKED_CATEGORIES,
    WW_PK_BLOCK_TYPES,
    WW_PK_MAX_SIZE,
    WW_PK_DEEP,
    WW_PK_COUNT
};

/* One [policy NAME] section as written; lib/ww_policies compiles them into the set. */
struct ww_conf_policy {
    char *name;     /* lower case */
    int line;       /* of the [policy NAME] line */
    char **match;   /* terms, lower case: "group students", "client 10.20.0.0/16", "user alice" */
    char *inherit;  /* "" = the default policy */
    char *approved; /* extra list files, absolute; "" = none */
    char *blocked;
    enum ww_sensitivity sensitivity;
    enum ww_action unrated_action;
    char **blocked_categories;
    char **block_types; /* "executable", "archive" ... (ww_ftype_names) */
    int64_t max_size;
    int deep;
    int lines[WW_PK_COUNT]; /* line of each key, 0 = not set: the value is inherited */
};

struct ww_conf {
    char *path; /* the file this came from (absolute), or "" for built-in defaults */

    struct {
        char *log_level;  /* error|warning|info|debug (default info) */
        char *block_page; /* HTML template of the block page (default WW_DATADIR/block.html) */
        int block_events_interval_s; /* a blocked URL's repeats: one event per interval (60) */
    } gateway;
    struct {
        char *database; /* SQLite state database (default /var/lib/webwarden/state.db) */
    } state;
    struct {
        char *pid_file; /* default /run/webwarden/webwardend.pid */
        char *log_file; /* "" = stderr (default) */
    } daemon;
    struct {
        char *approved; /* one entry a line: domain (and its subdomains) or URL prefix; "" = none */
        char *blocked;
    } lists;
    struct {
        char *server;   /* base URL; "" = no reputation server (every URL is unrated) */
        char *api_key;  /* "" = none */
        int timeout_ms; /* 500: whole lookup, DNS+connect+TLS+body */
        enum ww_sensitivity sensitivity; /* medium */
        int threshold[3];                /* block score <= threshold[sensitivity]; 50, 65, 80 */
        enum ww_action unrated_action;   /* allow */
        char **blocked_categories;       /* NULL-terminated, lower case; never NULL */
        int backoff;          /* 1 = on (default): stop calling after failures for a while */
        int backoff_failures; /* consecutive failures that start a back-off (3) */
        int backoff_s;        /* first back-off period (30), doubled up to backoff_max_s */
        int backoff_max_s;    /* 300 */
        int cache_entries;    /* LRU bound per c-icap child (100000) */
        int cache_ttl_s;      /* TTL when the server gives none (3600) */
        int tls_verify;       /* 1 */
        char *ca_file;        /* "" = system store */
    } reputation;
    struct {
        char *file; /* local URL database; "" = none */
    } urldb;
    struct {
        /* no_patterns_action: no signature at all: allow (passed unscanned) or block */
        enum ww_action no_patterns_action;
        char *patterns_dir;             /* folder of signature files (.hdb .hsb .ndb) */
        int64_t max_size;               /* bodies over this pass unscanned (default 50M) */
        int64_t hold_max;               /* held whole up to this, streamed beyond (default 60K) */
        int hold_all;                   /* 1: hold whole bodies up to max_size (fixed Squid) */
        int direct_send;                /* 1: a body's rest written by the module (default) */
        int64_t hold_204_max;           /* with Allow: 204, held whole up to this (default 64K) */
        int64_t hold_memory;            /* a whole-held body in memory up to this (default 1M) */
        int64_t max_expanded_size;      /* Content-Encoding decode cap (default 100M) */
        int max_ratio;                  /* decode ratio cap (default 100) */
        enum ww_action bomb_action;     /* over a decode cap: block (default) or allow */
        enum ww_action oversize_action; /* over max_size: block (default) or allow unscanned */
        char *tmp_dir;                  /* spool folder (default /tmp) */
        char **deep_types; /* true file types and groups for the deep scanner (ww_filetype) */
        /* a Content-Encoding not decodable: block (default) or allow (passed unscanned) */
        enum ww_action undecodable_action;
        /* a body signature check budget spent: block (default) or allow (passed unscanned) */
        enum ww_action budget_action;
        /* a request for a part of an object (Range, If-Range): strip (default: the whole object
         * is fetched and scanned) or pass (lib/ww_range.h) */
        enum ww_range_policy range;
        /* a partial response for an object never cut or blocked: allow (default: scanned, passed
         * as unscanned "partial content") or block (Webwarden.Policy.PartialContent) */
        enum ww_action partial_action;
    } scan;
    struct {
        char *database_dir;    /* ClamAV databases (freshclam's folder; default /var/lib/clamav) */
        int enabled;           /* 1 (default): deep scan with libclamav when databases exist */
        int64_t max_scan_size; /* bytes scanned in one body, members included (100M) */
        int64_t max_file_size; /* largest body or member scanned (25M) */
        int max_recursion;     /* archive nesting (16) */
        int max_files;         /* members of one body (10000) */
        int max_scan_time_ms;  /* per body (120000) */
        enum ww_action limit_action; /* a limit hit: block (default) or allow, as unscanned */
        /* a format libclamav cannot open (zstd, lz4, lzip, .Z, lzop; a zip member packed with LZMA,
         * PPMd, xz or zstd): allow (default: package downloads use zstd) or block, as unscanned */
        enum ww_action unsupported_action;
        int max_age_days; /* status: ATTENTION when the newest database is older (7) */
    } clamav;
    struct {
        char *server;
        char *api_key;
        int timeout_ms;           /* 1500 */
        int health_interval_s;    /* 300 */
        int failures_to_fallback; /* 3 */
        int auto_recover;         /* 0 = off; N = back to smart after N good checks */
        int tls_verify;           /* not set in the file: reputation.tls_verify */
        char *ca_file;            /* not set in the file: reputation.ca_file */
    } smart_scan;
    struct {
        char *server;
        char *api_key;
        int interval_s; /* 300 */
        int max_queued; /* 100000 */
        int batch_size; /* 500 */
        int timeout_ms; /* 10000 */
        int tls_verify; /* not set in the file: reputation.tls_verify */
        char *ca_file;  /* not set in the file: reputation.ca_file */
    } feedback;
    struct {
        char *server;
        char *api_key;
        int interval_s;       /* 3600 */
        char *public_key;     /* base64 Ed25519 public key; "" = no signature check */
        int64_t max_download; /* 200M */
        int timeout_s;        /* 300 */
        char *dir;            /* where installed components live (default next to state db) */
        int tls_verify;       /* not set in the file: reputation.tls_verify */
        char *ca_file;        /* not set in the file: reputation.ca_file */
        /* 1: install unsigned updates when public_key is "" (unsafe; status: ATTENTION) */
        int allow_unsigned;
    } update;
    struct {
        int user_strip_domain;        /* 0 (default): "user alice" matches only "alice"; 1: also
                                         "EXAMPLE\\alice" and "alice@EXAMPLE.ORG" */
        int username_base64;          /* 0: X-Client-Username is plain (Squid's default) */
        int authenticated_user_plain; /* 1: X-Authenticated-User is plain, never decoded */
        int groups_base64;            /* 0: X-Authenticated-Groups is plain (adaptation_meta) */
    } identity;
    struct {
        char *server;
        char *api_key;
        int grace_days;       /* 90 */
        int check_interval_s; /* 86400 */
        int timeout_ms;       /* 10000 */
        int tls_verify;       /* not set in the file: reputation.tls_verify */
        char *ca_file;        /* not set in the file: reputation.ca_file */
    } license;
    struct {
        char *listen; /* webwardend's /metrics: "host:port", "" = off (default 127.0.0.1:9478) */
    } metrics;

    struct ww_conf_policy *policies; /* [policy NAME] sections in file order */
    size_t npolicies;
    struct ww_policies *policy_set; /* compiled from them; never NULL once loaded or created */
};

/* A config holding every default; NULL if out of memory. Caller owns it: ww_conf_free(). */
struct ww_conf *ww_conf_create_defaults(void);

/* Reads <path>. WW_OK and *out set (caller owns it), or WW_EIO / WW_EINVAL with
 * "file:line: reason" in <err> and *out untouched. Not thread-safe with itself (uses no globals,
 * but call it from one thread at a time per config). */
int ww_conf_load(const char *path, struct ww_conf **out, char *err, size_t errlen);
/* The same from <len> bytes of config text (a kept copy, lib/ww_lastgood) as if it were the
 * file <as_path>: relative paths resolve against its folder and errors name it. */
int ww_conf_load_text(const char *text, size_t len, const char *as_path, struct ww_conf **out,
                      char *err, size_t errlen);

/* The file to use: <cli_path> if not NULL, else $WEBWARDEN_CONF if set, else the compiled-in
 * default. Borrowed string (static or from the arguments/environment). */
const char *ww_conf_pick_path(const char *cli_path);

void ww_conf_free(struct ww_conf *conf); /* NULL is a no-op */

/* Writes the effective config as INI text (for `webwardenctl config`), secrets masked. */
int ww_conf_dump(const struct ww_conf *conf, char **text_out);

#endif
