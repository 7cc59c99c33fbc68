/* lib/ww_deepmon.c - the deep scanner's monitor: load, watch, decide (see ww_deepmon.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_common.h"
#include "ww_deepmon.h"
#include "ww_log.h"
#include "ww_store.h"

struct ww_deepmon {
    const struct ww_conf *conf;
    struct ww_clamav_watch *watch;
    int had_engine; /* an engine is in force (loaded at create) */
    char pattern_dir[4096];
    /* Webwarden's pattern files in the engine: the installed pattern's folder and version
     * (lib/ww_update), else scan.patterns_dir and ""; what the fast engine has in force. */
    char pat_dir[1024];
    char pat_version[64];
    /* A reload was asked for and this monitor is still the one in force, so c-icap has not done
     * it: c-icap 0.5 ignores a reconfigure while children of the last one are still finishing
     * ("A reconfigure pending", mpmt_server.c), and Squid's idle keep-alive connections keep
     * them for up to KeepAliveTimeout. Asked again after 1, 2, 4, 8, then every 12 looks. */
    int pending;
    unsigned looks, wait;
};

/* An event, and with <kv_key> a kv row. The store is opened and closed again, so no handle
 * crosses c-icap's fork. A load (kv clamav.engine) settles an older refused reload. */
static void deepmon_record(const struct ww_deepmon *m, const char *level, const char *kv_key,
                           const char *msg)
{
    struct ww_store *st = NULL;
    char err[WW_ERRLEN];

    if (ww_store_open(m->conf->state.database, 0, &st, err, sizeof(err)) != WW_OK)
        return;
    ww_store_add_event(st, level, "clamav", msg);
    if (kv_key != NULL)
        ww_store_kv_set(st, kv_key, msg);
    if (kv_key != NULL && strcmp(kv_key, "clamav.engine") == 0)
        ww_store_kv_set(st, "clamav.reload_error", "");
    ww_store_close(st);
}

static void deepmon_limits(const struct ww_conf *conf, struct ww_clamav_limits *lim)
{
    lim->max_scan_size = conf->clamav.max_scan_size;
    lim->max_file_size = conf->clamav.max_file_size;
    lim->max_recursion = conf->clamav.max_recursion;
    lim->max_files = conf->clamav.max_files;
    lim->max_scan_time_ms = conf->clamav.max_scan_time_ms;
}

/* The pattern folder in force, as lib/ww_child finds it for the fast engine: the store's
 * installed pattern, else scan.patterns_dir (version ""). */
static void deepmon_patterns(const struct ww_deepmon *m, char *dir, size_t dirlen, char *version,
                             size_t versionlen)
{
    struct ww_store *st = NULL;
    struct ww_component pat;
    char err[WW_ERRLEN];

    snprintf(dir, dirlen, "%s", m->conf->scan.patterns_dir);
    version[0] = '\0';
    if (ww_store_open(m->conf->state.database, 0, &st, err, sizeof(err)) != WW_OK)
        return;
    if (ww_store_component_get(st, "pattern", &pat) == WW_OK && pat.path[0] != '\0') {
        snprintf(dir, dirlen, "%s", pat.path);
        snprintf(version, versionlen, "%s", pat.version);
    }
    ww_store_close(st);
}

/* Webwarden's pattern files join the engine only when there is a ClamAV database: with none the
 * deep scanner is off and the fast engine scans alone (docs/architecture.md). */
static const char *deepmon_pattern_arg(const struct ww_deepmon *m)
{
    struct ww_clamav_info info;

    if (m->pat_dir[0] == '\0' || ww_clamav_read_dir(m->conf->clamav.database_dir, &info) != WW_OK)
        return NULL;
    return m->pat_dir;
}

/* Loads ClamAV's databases with Webwarden's pattern files in force (copied for libclamav into
 * scan.tmp_dir, lib/ww_clamav). A pattern update or rollback is followed by ww_deepmon_check:
 * the children's fast engine swaps within a second, the deep engine at the next reload. */
static struct ww_clamav *deepmon_load(struct ww_deepmon *m)
{
    const struct ww_conf *conf = m->conf;
    struct ww_clamav *e = NULL;
    struct ww_clamav_limits lim;
    struct ww_clamav_info info;
    char err[WW_ERRLEN] = "", msg[WW_ERRLEN + 128];
    int rc;

    if (!conf->clamav.enabled) {
        deepmon_record(m, "info", "clamav.engine", "off: clamav.enabled = off");
        return NULL;
    }
    deepmon_limits(conf, &lim);
    memset(&info, 0, sizeof(info));
    rc = ww_clamav_load_tmp(conf->clamav.database_dir, deepmon_pattern_arg(m), conf->scan.tmp_dir,
                            &lim, &e, &info, err, sizeof(err));
    if (rc == WW_OK) {
        snprintf(msg, sizeof(msg),
                 "loaded: %u ClamAV signatures from %zu databases in %.200s, %u from pattern "
                 "%.64s in %.200s (%zu lines and %zu files libclamav refused), libclamav %s, "
                 "%ld ms",
                 info.clamav_sigs, info.ndbs, conf->clamav.database_dir, info.pattern_sigs,
                 m->pat_version[0] ? m->pat_version : "scan.patterns_dir",
                 m->pat_dir[0] ? m->pat_dir : "(none)", info.pattern_lines_skipped,
                 info.pattern_files_skipped, info.libclamav_version, info.load_ms);
        ww_log(WW_LOG_INFO, "deep scanner %s", msg);
        deepmon_record(m, "info", "clamav.engine", msg);
        return e;
    }
    snprintf(msg, sizeof(msg), "%s: %s",
             rc == WW_ENOTFOUND ? "none (the fast engine scans alone)" : "failed",
             err[0] ? err : ww_strerror(rc));
    ww_log(rc == WW_ENOTFOUND ? WW_LOG_WARN : WW_LOG_ERR, "deep scanner %s", msg);
    deepmon_record(m, rc == WW_ENOTFOUND ? "warning" : "error", "clamav.engine", msg);
    return NULL;
}

struct ww_deepmon *ww_deepmon_create(const struct ww_conf *conf, const char *pattern_dir,
                                     struct ww_clamav **engine)
{
    struct ww_deepmon *m = calloc(1, sizeof(*m));

    *engine = NULL;
    if (m == NULL)
        return NULL;
    m->conf = conf;
    snprintf(m->pattern_dir, sizeof(m->pattern_dir), "%s", pattern_dir != NULL ? pattern_dir : "");
    deepmon_patterns(m, m->pat_dir, sizeof(m->pat_dir), m->pat_version, sizeof(m->pat_version));
    *engine = deepmon_load(m);
    m->had_engine = *engine != NULL;
    m->watch = ww_clamav_watch_create(conf->clamav.database_dir, m->pat_dir);
    return m;
}

void ww_deepmon_free(struct ww_deepmon *m)
{
    if (m == NULL)
        return;
    ww_clamav_watch_free(m->watch);
    free(m);
}

/* Nothing changed since the last look: a reload asked for and not done is asked again. */
static enum ww_deepmon_action deepmon_ask_again(struct ww_deepmon *m)
{
    static const char msg[] = "reload not done yet: c-icap is still finishing the children of its "
                              "last reload (connections kept alive hold them); asked again";

    if (!m->pending || ++m->looks < m->wait)
        return WW_DEEPMON_KEEP;
    if (m->wait == 1) { /* once per reload asked for */
        ww_log(WW_LOG_WARN, "deep scanner %s", msg);
        deepmon_record(m, "warning", NULL, msg);
    }
    m->looks = 0;
    m->wait = m->wait * 2 > 12 ? 12 : m->wait * 2;
    return WW_DEEPMON_RELOAD;
}

enum ww_deepmon_action ww_deepmon_check(struct ww_deepmon *m)
{
    struct ww_clamav *e = NULL;
    struct ww_clamav_limits lim;
    char err[WW_ERRLEN] = "", msg[WW_ERRLEN + 64], dir[sizeof(m->pat_dir)], version[64];
    int rc, changed, pattern_changed;

    if (m == NULL || m->watch == NULL)
        return WW_DEEPMON_KEEP;
    changed = ww_clamav_watch_changed(m->watch);
    deepmon_patterns(m, dir, sizeof(dir), version, sizeof(version));
    pattern_changed = strcmp(dir, m->pat_dir) != 0 || strcmp(version, m->pat_version) != 0;
    if (!changed && !pattern_changed)
        return deepmon_ask_again(m);
    if (pattern_changed) {
        /* tried once per version: a version that does not load is not retried every look */
        snprintf(m->pat_dir, sizeof(m->pat_dir), "%s", dir);
        snprintf(m->pat_version, sizeof(m->pat_version), "%s", version);
        ww_clamav_watch_free(m->watch);
        m->watch = ww_clamav_watch_create(m->conf->clamav.database_dir, m->pat_dir);
    }
    deepmon_limits(m->conf, &lim);
    rc = ww_clamav_load_tmp(m->conf->clamav.database_dir, deepmon_pattern_arg(m),
                            m->conf->scan.tmp_dir, &lim, &e, NULL, err, sizeof(err));
    ww_clamav_unref(e); /* a test load: the new process generation loads it for itself */
    if (rc == WW_OK || (rc == WW_ENOTFOUND && m->had_engine)) {
        if (pattern_changed && !changed)
            snprintf(msg, sizeof(msg),
                     "pattern %.64s in force (%.200s): reloading (c-icap reconfigure, children "
                     "replaced gracefully)",
                     version[0] ? version : "scan.patterns_dir", dir);
        else
            snprintf(msg, sizeof(msg),
                     "databases changed in %.200s: reloading (c-icap reconfigure, children "
                     "replaced gracefully)",
                     m->conf->clamav.database_dir);
        ww_log(WW_LOG_ERR, "deep scanner %s", msg);
        deepmon_record(m, "info", NULL, msg);
        m->pending = 1;
        m->looks = 0;
        m->wait = 1;
        return WW_DEEPMON_RELOAD;
    }
    m->pending = 0; /* the folder no longer loads: a reload now would lose the engine in force */
    if (rc != WW_ENOTFOUND) {
        snprintf(msg, sizeof(msg), "new databases do not load, the engine in force stays: %s",
                 err[0] ? err : ww_strerror(rc));
        ww_log(WW_LOG_ERR, "deep scanner %s", msg);
        deepmon_record(m, "error", "clamav.reload_error", msg);
    }
    return WW_DEEPMON_KEEP;
}
