/* lib/ww_daemon.h - what webwardend needs around its scheduler: detaching, the per-database lock,
 * the pid file, signal flags and the table of periodic jobs.
 *
 * Process-wide: meant for the one daemon process, called from its main thread only. */
#ifndef WW_DAEMON_H
#define WW_DAEMON_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

struct ww_conf;
struct ww_sched;
struct ww_store;

/* Seconds a stopping daemon allows the job in flight before it gives up on it (SIGTERM must
 * end the process within 5 s; systemd's default is 90 s, tests expect 5). */
#define WW_DAEMON_STOP_GRACE_S 4

/* Detaches from the terminal: fork, setsid, fork, chdir("/"), umask 027, stdin from /dev/null,
 * stdout and stderr to <log_file> (appended, created 0640) or /dev/null when it is "".
 * Returns WW_OK in the daemon (grandchild) with *ready_fd set: report there with
 * ww_daemon_ready() once started, so the command that started it can exit 0 or show the error
 * and exit 1. The original process never returns: it waits (at most 30 s) for that report.
 * WW_EIO with the reason in <err> if nothing could be forked or the log opened. */
int ww_daemon_detach(const char *log_file, int *ready_fd, char *err, size_t errlen);

/* Tells the waiting starter "started" (<err> NULL) or the error, and closes <ready_fd>.
 * A no-op for ready_fd < 0 (foreground). */
void ww_daemon_ready(int ready_fd, const char *err);

/* Takes the lock "<db_path>.webwardend.lock" (flock, held until ww_daemon_unlock or exit) and
 * writes our pid into it. WW_EBUSY when another process holds it, <err> naming its pid;
 * WW_EIO when the file cannot be opened. *fd_out is the lock's descriptor. */
int ww_daemon_lock(const char *db_path, int *fd_out, char *err, size_t errlen);
void ww_daemon_unlock(int fd); /* fd < 0 is a no-op */

/* The pid in "<db_path>.webwardend.lock" if that process is alive, else 0 (for status). */
pid_t ww_daemon_running_pid(const char *db_path);

/* Writes our pid to <path> (through a temporary file and rename), creating its folder (0755).
 * WW_OK, or WW_EIO with the reason in <err>. */
int ww_daemon_write_pidfile(const char *path, char *err, size_t errlen);

/* mkdir -p of the folder holding <path> (mode 0755 for created folders). WW_OK or WW_EIO. */
int ww_daemon_make_parent_dir(const char *path, char *err, size_t errlen);

/* Signals: SIGTERM and SIGINT set the stop flag, SIGHUP the reload flag; SIGPIPE is ignored.
 * Handlers only set flags, write one byte to a self-pipe and (on stop) arm the alarm below.
 * Call once, at start. */
int ww_daemon_signals_init(char *err, size_t errlen);
/* A stop request also arms a WW_DAEMON_STOP_GRACE_S alarm: if the daemon is still running then
 * (a job ignoring ww_sched_time_left_ms), it removes <path> (the pid file; copied) and
 * _exit(1)s. ww_daemon_stop_done() disarms it once the orderly shutdown is through. */
void ww_daemon_set_abort_pidfile(const char *path);
void ww_daemon_stop_done(void);
/* The flag the scheduler watches (ww_sched_create's <stop>). */
const volatile sig_atomic_t *ww_daemon_stop_flag(void);

/* What woke ww_daemon_wait() (bit mask). */
enum { WW_DAEMON_STOP = 1, WW_DAEMON_RELOAD = 2 };
/* Sleeps up to <timeout_ms> or until a signal arrives; returns the pending WW_DAEMON_* bits and
 * clears RELOAD (STOP stays set). */
int ww_daemon_wait(long timeout_ms);

/* What the daemon's jobs see (the <ctx> of each): the config in force (replaced on SIGHUP),
 * the store and the scheduler, all borrowed and owned by webwardend's main. */
struct ww_daemon_env {
    const struct ww_conf *conf;
    struct ww_store *st;
    struct ww_sched *sched;
};

/* Adds the periodic jobs (feedback, health, update, license) with intervals and timeouts taken
 * from env->conf, or, when they are already in env->sched, updates them. WW_OK or WW_E*. */
int ww_daemon_jobs_sync(struct ww_daemon_env *env);

/* Names of the daemon's jobs, NULL-terminated (for `webwardenctl status`). */
extern const char *const ww_daemon_job_names[];

#endif
