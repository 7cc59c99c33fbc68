/* lib/ww_notify.h - systemd's readiness protocol (sd_notify) without libsystemd: one datagram
 * to the AF_UNIX socket named by $NOTIFY_SOCKET ("/path" or "@abstract"), as systemd's
 * Type=notify services send it (see sd_notify(3)). */
#ifndef WW_NOTIFY_H
#define WW_NOTIFY_H

/* Sends <state> ("READY=1", "STOPPING=1", "RELOADING=1", "STATUS=...", lines joined with \n).
 * Returns 1 if sent, 0 when $NOTIFY_SOCKET is unset or empty (not run by systemd: nothing to
 * do), or WW_EINVAL (bad socket name) / WW_EIO (send failed). Never blocks (datagram,
 * MSG_DONTWAIT). Thread-safe. */
int ww_notify(const char *state);

#endif
