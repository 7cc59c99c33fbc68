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

/* Webwarden's own pattern folder is not loaded into the deep engine: a pattern update swaps the
 * fast engine in each child within a second, and a deep copy would stay stale until the next
 * reload (wrong verdicts after a rollback). Signatures meant for archive members go into
 * clamav.database_dir. */
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
    rc = ww_clamav_load(conf->clamav.database_dir, NULL, &lim, &e, &info, err, sizeof(err));
    if (rc == WW_OK) {
        snprintf(msg, sizeof(msg),
                 "loaded: %u ClamAV signatures from %zu databases in %.200s, %u from %.200s (%zu "
                 "files libclamav refused), libclamav %s, %ld ms",
                 info.clamav_sigs, info.ndbs, conf->clamav.database_dir, info.pattern_sigs,
                 m->pattern_dir, info.pattern_files_skipped, info.libclamav_version, info.load_ms);
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
    *engine = deepmon_load(m);
    m->had_engine = *engine != NULL;
    m->watch = ww_clamav_watch_create(conf->clamav.database_dir, NULL);
    return m;
}

void ww_deepmon_free(struct ww_deepmon *m)
{
    if (m == NULL)
        return;
    ww_clamav_watch_free(m->watch);
    free(m);
}

enum ww_deepmon_action ww_deepmon_check(struct ww_deepmon *m)
{
    struct ww_clamav *e = NULL;
    struct ww_clamav_limits lim;
    char err[WW_ERRLEN] = "", msg[WW_ERRLEN + 64];
    int rc;

    if (m == NULL || m->watch == NULL || !ww_clamav_watch_changed(m->watch))
        return WW_DEEPMON_KEEP;
    deepmon_limits(m->conf, &lim);
    rc = ww_clamav_load(m->conf->clamav.database_dir, NULL, &lim, &e, NULL, err, sizeof(err));
    ww_clamav_unref(e); /* a test load: the new process generation loads it for itself */
    if (rc == WW_OK || (rc == WW_ENOTFOUND && m->had_engine)) {
        snprintf(msg, sizeof(msg),
                 "databases changed in %.200s: reloading (c-icap reconfigure, children replaced "
                 "gracefully)",
                 m->conf->clamav.database_dir);
        ww_log(WW_LOG_ERR, "deep scanner %s", msg);
        deepmon_record(m, "info", NULL, msg);
        return WW_DEEPMON_RELOAD;
    }
    if (rc != WW_ENOTFOUND) {
        snprintf(msg, sizeof(msg), "new databases do not load, the engine in force stays: %s",
                 err[0] ? err : ww_strerror(rc));
        ww_log(WW_LOG_ERR, "deep scanner %s", msg);
        deepmon_record(m, "error", "clamav.reload_error", msg);
    }
    return WW_DEEPMON_KEEP;
}
