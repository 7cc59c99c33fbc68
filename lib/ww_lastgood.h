/* lib/ww_lastgood.h - the last good configuration, for services that cannot keep one in memory.
 *
 * c-icap unloads its services on reconfigure (SIGHUP, `reconfigure` on its control socket), so a
 * webwarden.conf that no longer loads would leave both services answering 500. Instead, every
 * successful load keeps a copy of the config text in the state store (kv config.lastgood, with
 * when and from which path: config.lastgood_meta), and a load that fails records why (kv
 * config.rejected: "FILE:LINE: reason; serving the configuration loaded at TIME", shown by
 * `webwardenctl status` as ATTENTION) and loads that copy instead, as if it were the file
 * (relative paths resolve against the file's folder). The copy covers webwarden.conf itself;
 * list files and the block page are read from their paths as they are.
 *
 * The state store of a file that does not load is found by reading its [state] database key
 * leniently (else the default /var/lib/webwarden/state.db). */
#ifndef WW_LASTGOOD_H
#define WW_LASTGOOD_H

#include <stddef.h>

#include "ww_conf.h"

#define WW_LASTGOOD_READONLY 1u       /* never write the store (webwardenctl) */
#define WW_LASTGOOD_MAX (1024 * 1024) /* a config text kept up to this size */

/* Loads <path> (ww_conf_load). On success: WW_OK, *out, *fallback 0, and (unless READONLY) the
 * copy saved and any rejection cleared. On failure, when a copy of the same path exists and
 * loads: WW_OK, *out from the copy, *fallback 1 and the rejection in <err> ("configuration
 * rejected: FILE:LINE: reason; serving the configuration loaded at TIME"), recorded unless
 * READONLY. Otherwise the load's error code with "FILE:LINE: reason" in <err>. */
int ww_lastgood_load(const char *path, unsigned flags, struct ww_conf **out, int *fallback,
                     char *err, size_t errlen);

/* The state database named by the config file <path>, which may not load: its [state]
 * database (relative to the file's folder), else the default. */
void ww_lastgood_state_db(const char *path, char *out, size_t outlen);

/* c-icap's control socket on Debian (c-icap.conf CommandsSocket). */
#define WW_CICAP_CTL_DEFAULT "/var/run/c-icap/c-icap.ctl"

/* Asks the c-icap whose control socket (a FIFO) is <ctl_path> to reconfigure: WW_OK, or WW_EIO
 * with why in <err> (no such socket, no c-icap reading it). Never blocks. Check the config
 * first (webwardenctl reload does). */
int ww_lastgood_reconfigure(const char *ctl_path, char *err, size_t errlen);

/* ww_lastgood_reconfigure, then waits up to <wait_ms> for the services to load the config again
 * (the store <state_db>'s config.lastgood_meta changes: each good load writes it), asking again
 * every 2 s: c-icap 0.5 ignores a reconfigure while the children of its last one are still
 * finishing ("A reconfigure pending"; an idle keep-alive connection, as Squid keeps them, holds
 * such a child). *done: 1 loaded, 0 not within <wait_ms>, -1 not known (<wait_ms> <= 0, or the
 * store does not open). WW_EIO as ww_lastgood_reconfigure. */
int ww_lastgood_reconfigure_wait(const char *ctl_path, const char *state_db, long wait_ms,
                                 int *done, char *err, size_t errlen);

#endif
