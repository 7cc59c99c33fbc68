/* lib/ww_deepmon.h - the deep scanner's monitor (c-icap's main process): loads the libclamav
 * engine from [clamav] once before the children fork, watches clamav.database_dir, and decides
 * on a change whether the new databases replace the engine in force. Every result is an event
 * (source "clamav") and a kv row (clamav.engine, clamav.reload_error) in the state store, for
 * webwardenctl status. How a reload happens (c-icap reconfigure) is the module's business. */
#ifndef WW_DEEPMON_H
#define WW_DEEPMON_H

#include "ww_clamav.h"
#include "ww_conf.h"

struct ww_deepmon; /* one per process; one thread */

/* Loads the engine for <conf> (borrowed for the monitor's life) into *engine (caller owns the
 * reference: ww_clamav_unref; NULL when clamav.enabled is off, no database exists, or the load
 * failed: the fast engine then scans alone) and starts watching. <pattern_dir> names Webwarden's
 * pattern folder in the messages only. NULL if out of memory. */
struct ww_deepmon *ww_deepmon_create(const struct ww_conf *conf, const char *pattern_dir,
                                     struct ww_clamav **engine);
void ww_deepmon_free(struct ww_deepmon *m); /* NULL is a no-op */

enum ww_deepmon_action {
    WW_DEEPMON_KEEP = 0, /* nothing changed, or the new databases do not load (recorded) */
    WW_DEEPMON_RELOAD    /* the folder changed and its databases load (or all went away while
                            an engine is in force): replace the engine */
};
/* One look at the folder: a change is test-loaded (the test engine is dropped again). After
 * WW_DEEPMON_RELOAD, the same monitor looked at again means the reload was not done (a reload
 * replaces the monitor): it is asked for again, after 1, 2, 4, 8, then every 12 looks, until
 * done, or until the folder changes again (test-loaded again; no longer loading, KEEP). */
enum ww_deepmon_action ww_deepmon_check(struct ww_deepmon *m);

#endif
