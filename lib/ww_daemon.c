/* lib/ww_daemon.c - detaching, per-database lock, pid file, signal flags and the job table. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_daemon.h"
#include "ww_feedback.h"
#include "ww_file.h"
#include "ww_license.h"
#include "ww_health.h"
#include "ww_log.h"
#include "ww_sched.h"
#include "ww_update.h"

static volatile sig_atomic_t daemon_stop;
static volatile sig_atomic_t daemon_reload;
static int daemon_pipe[2] = {-1, -1};
static char daemon_abort_pidfile[PATH_MAX]; /* removed by the last-resort exit */

/* Last resort when the job in flight ignores the stop request: the process must still end
 * within 5 s. SQLite's journal keeps the database consistent through _exit(). */
static void daemon_on_alarm(int sig)
{
    static const char msg[] = "webwardend: the job in flight did not stop in time; abandoned\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);

    (void)w;
    (void)sig;
    if (daemon_abort_pidfile[0] != '\0')
        unlink(daemon_abort_pidfile);
    _exit(1);
}

static void daemon_on_signal(int sig)
{
    int saved = errno;
    ssize_t w;

    if (sig == SIGHUP) {
        daemon_reload = 1;
    } else {
        if (!daemon_stop)
            alarm(WW_DAEMON_STOP_GRACE_S);
        daemon_stop = 1;
    }
    w = write(daemon_pipe[1], "x", 1); /* full pipe: a wake-up is already pending */
    (void)w;
    errno = saved;
}

int ww_daemon_signals_init(char *err, size_t errlen)
{
    struct sigaction sa;

    if (pipe(daemon_pipe) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return WW_EIO;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(daemon_pipe[i], F_SETFL, fcntl(daemon_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(daemon_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = daemon_on_signal;
    sigemptyset(&sa.sa_mask);
    /* Restarted system calls keep SQLite and curl simple; the flags are read between steps. */
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
        sigaction(SIGHUP, &sa, NULL) != 0) {
        snprintf(err, errlen, "sigaction: %s", strerror(errno));
        return WW_EIO;
    }
    sa.sa_handler = daemon_on_alarm;
    if (sigaction(SIGALRM, &sa, NULL) != 0) {
        snprintf(err, errlen, "sigaction: %s", strerror(errno));
        return WW_EIO;
    }
    signal(SIGPIPE, SIG_IGN);
    return WW_OK;
}

void ww_daemon_set_abort_pidfile(const char *path)
{
    snprintf(daemon_abort_pidfile, sizeof(daemon_abort_pidfile), "%s", path != NULL ? path : "");
}

void ww_daemon_stop_done(void)
{
    alarm(0);
}

const volatile sig_atomic_t *ww_daemon_stop_flag(void)
{
    return &daemon_stop;
}

int ww_daemon_wait(long timeout_ms)
{
    struct pollfd pfd = {.fd = daemon_pipe[0], .events = POLLIN};
    char drain[64];
    int bits;

    if (!daemon_stop && !daemon_reload && daemon_pipe[0] >= 0)
        poll(&pfd, 1, timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms);
    while (daemon_pipe[0] >= 0 && read(daemon_pipe[0], drain, sizeof(drain)) > 0)
        ;
    bits = (daemon_stop ? WW_DAEMON_STOP : 0) | (daemon_reload ? WW_DAEMON_RELOAD : 0);
    daemon_reload = 0;
    return bits;
}

int ww_daemon_make_parent_dir(const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    char *slash;

    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
        snprintf(err, errlen, "%s: path too long", path);
        return WW_EINVAL;
    }
    slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return WW_OK; /* relative name in the working folder, or a file in / */
    *slash = '\0';
    return ww_file_mkdir_p(dir, err, errlen);
}

int ww_daemon_write_pidfile(const char *path, char *err, size_t errlen)
{
    char text[32], why[WW_ERRLEN];
    int rc;
    int len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());

    if ((rc = ww_daemon_make_parent_dir(path, err, errlen)) != WW_OK)
        return rc;
    rc = ww_file_write_atomic(path, text, (size_t)len, 0644, why, sizeof(why));
    if (rc != WW_OK)
        snprintf(err, errlen, "cannot write pid file %s", why);
    return rc;
}

static long daemon_read_pid(int fd)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
    char *end;
    long pid;

    if (n <= 0)
        return 0;
    text[n] = '\0';
    pid = strtol(text, &end, 10);
    return pid > 0 && (*end == '\n' || *end == '\0') ? pid : 0;
}

static int daemon_lock_path(const char *db_path, char *out, size_t len, char *err, size_t errlen)
{
    if (snprintf(out, len, "%s.webwardend.lock", db_path) >= (int)len) {
        snprintf(err, errlen, "%s: path too long", db_path);
        return WW_EINVAL;
    }
    return WW_OK;
}

int ww_daemon_lock(const char *db_path, int *fd_out, char *err, size_t errlen)
{
    char path[PATH_MAX], text[32];
    int fd, rc, len;
    long other;

    *fd_out = -1;
    if ((rc = daemon_lock_path(db_path, path, sizeof(path), err, errlen)) != WW_OK)
        return rc;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open lock file %s: %s", path, strerror(errno));
        return WW_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK ? WW_EBUSY : WW_EIO;
        other = daemon_read_pid(fd);
        if (rc == WW_EBUSY && other > 0)
            snprintf(err, errlen, "another webwardend (pid %ld) already runs on %s (lock %s)",
                     other, db_path, path);
        else if (rc == WW_EBUSY)
            snprintf(err, errlen, "another webwardend already runs on %s (lock %s)", db_path, path);
        else
            snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len) {
        snprintf(err, errlen, "cannot write lock file %s: %s", path, strerror(errno));
        close(fd);
        return WW_EIO;
    }
    *fd_out = fd;
    return WW_OK;
}

void ww_daemon_unlock(int fd)
{
    int r;

    if (fd < 0)
        return;
    /* The file stays (unlinking a lock file races with the next locker); an empty one means
     * nobody runs, for ww_daemon_running_pid(). */
    r = ftruncate(fd, 0);
    (void)r;
    close(fd);
}

pid_t ww_daemon_running_pid(const char *db_path)
{
    char path[PATH_MAX], err[64];
    int fd;
    long pid;

    if (daemon_lock_path(db_path, path, sizeof(path), err, sizeof(err)) != WW_OK)
        return 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    pid = daemon_read_pid(fd);
    close(fd);
    if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
        return (pid_t)pid;
    return 0;
}

/* The starter's side of ww_daemon_detach(): waits for the daemon's report. Never returns. */
static void daemon_wait_ready(int fd)
{
    char msg[WW_ERRLEN + 8];
    size_t used = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    time_t deadline = time(NULL) + 30;
    int closed = 0;
    ssize_t n;

    while (!closed && used < sizeof(msg) - 1 && time(NULL) < deadline) {
        if (poll(&pfd, 1, 1000) <= 0)
            continue;
        n = read(fd, msg + used, sizeof(msg) - 1 - used);
        if (n <= 0)
            closed = 1;
        else
            used += (size_t)n;
    }
    msg[used] = '\0';
    if (strncmp(msg, "OK", 2) == 0)
        _exit(0);
    if (used > 0)
        fprintf(stderr, "webwardend: %s\n", msg + (strncmp(msg, "ERR ", 4) == 0 ? 4 : 0));
    else if (closed)
        fprintf(stderr, "webwardend: the daemon exited while starting (see daemon.log_file)\n");
    else
        fprintf(stderr, "webwardend: the daemon did not report a start within 30 s\n");
    _exit(1);
}

int ww_daemon_detach(const char *log_file, int *ready_fd, char *err, size_t errlen)
{
    int fds[2], null_fd, out_fd;
    pid_t pid;

    *ready_fd = -1;
    if (pipe(fds) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return WW_EIO;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return WW_EIO;
    }
    if (pid > 0) {
        close(fds[1]);
        waitpid(pid, NULL, 0);
        daemon_wait_ready(fds[0]);
    }
    close(fds[0]);
    setsid();
    /* The second fork drops session leadership: the daemon can never regain a terminal. */
    pid = fork();
    if (pid < 0)
        _exit(1);
    if (pid > 0)
        _exit(0);
    if (chdir("/") != 0)
        _exit(1);
    umask(027);
    null_fd = open("/dev/null", O_RDWR);
    out_fd = log_file[0] != '\0' ? open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640)
                                 : null_fd;
    if (null_fd < 0 || out_fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", log_file[0] ? log_file : "/dev/null",
                 strerror(errno));
        ww_daemon_ready(fds[1], err);
        _exit(1);
    }
    dup2(null_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
    if (out_fd != null_fd)
        close(out_fd);
    if (null_fd > STDERR_FILENO)
        close(null_fd);
    *ready_fd = fds[1];
    return WW_OK;
}

void ww_daemon_ready(int ready_fd, const char *err)
{
    char msg[WW_ERRLEN + 8];
    int len;
    ssize_t w;

    if (ready_fd < 0)
        return;
    len =
        err == NULL ? snprintf(msg, sizeof(msg), "OK") : snprintf(msg, sizeof(msg), "ERR %s", err);
    if (len >= (int)sizeof(msg))
        len = (int)sizeof(msg) - 1;
    w = write(ready_fd, msg, (size_t)len);
    (void)w;
    close(ready_fd);
}

/* ---- the periodic jobs ---- */

const char *const ww_daemon_job_names[] = {"feedback", "health", "update", "license", NULL};

/* The settings of job <i> of ww_daemon_job_names. */
static void daemon_job_settings(const struct ww_conf *conf, int i, const char **server,
                                int *interval_s, int *timeout_s)
{
    int timeout_ms = 0;

    switch (i) {
    case 0:
        *server = conf->feedback.server;
        *interval_s = conf->feedback.interval_s;
        /* Room for several batches: a busy gateway queues more than one batch per interval.
         * ww_feedback_run_for starts no batch later than one request timeout before the end. */
        timeout_ms = 3 * conf->feedback.timeout_ms;
        break;
    case 1:
        *server = conf->smart_scan.server;
        *interval_s = conf->smart_scan.health_interval_s;
        timeout_ms = conf->smart_scan.timeout_ms;
        break;
    case 2:
        *server = conf->update.server;
        *interval_s = conf->update.interval_s;
        timeout_ms = conf->update.timeout_s * 1000 * 4; /* manifest, signature and two payloads */
        break;
    default:
        *server = conf->license.server;
        *interval_s = conf->license.check_interval_s;
        timeout_ms = conf->license.timeout_ms;
        break;
    }
    /* A job's budget is its requests' timeout rounded up to seconds, plus 1 s for the store. */
    *timeout_s = (timeout_ms + 999) / 1000 + 1;
    if (*interval_s < 1)
        *interval_s = 1;
}

/* A client for one run of a cloud job, with the appliance id header; NULL with <result> set. */
static struct ww_http *daemon_job_http(const struct ww_daemon_env *env, int license, char *result,
                                       size_t len)
{
    struct ww_http *h;
    char app[128] = "";

    if (ww_store_appliance_id(env->st, app, sizeof(app)) != WW_OK) {
        snprintf(result, len, "cannot read the appliance id from the state database");
        return NULL;
    }
    h = license ? ww_license_http_create(env->conf, app) : ww_feedback_http_create(env->conf, app);
    if (h == NULL)
        snprintf(result, len, "out of memory");
    return h;
}

static int daemon_job_feedback(void *ctx, char *result, size_t len)
{
    const struct ww_daemon_env *env = ctx;
    const struct ww_conf *conf = env->conf;
    struct ww_http *h;
    long left, budget_ms;
    int rc;

    if (conf->feedback.server == NULL || conf->feedback.server[0] == '\0') {
        snprintf(result, len, "not configured");
        return WW_OK;
    }
    left = ww_sched_time_left_ms(env->sched);
    if (left == 0) {
        snprintf(result, len, "skipped: stopping");
        return WW_ETIMEOUT;
    }
    /* The last batch may start one request timeout before the job's end, no later. */
    budget_ms = left < 0 ? conf->feedback.timeout_ms : left - conf->feedback.timeout_ms;
    if (budget_ms < 0)
        budget_ms = 0;
    h = daemon_job_http(env, 0, result, len);
    if (h == NULL)
        return WW_ENOMEM;
    rc = ww_feedback_run_for(env->st, conf, h, budget_ms, result, len);
    ww_http_free(h);
    return rc;
}

/* One Smart Protection Server health check; falls back to conventional scan after
 * smart_scan.failures_to_fallback failures in a row (lib/ww_health.c). */
static int daemon_job_health(void *ctx, char *result, size_t len)
{
    const struct ww_daemon_env *env = ctx;

    return ww_health_run_once(env->st, env->conf, NULL, result, len);
}

/* The scheduler's clock for the job in flight: a stop request or the job's timeout abandons a
 * download within about a second. */
static long daemon_time_left_ms(void *arg)
{
    const struct ww_daemon_env *env = arg;
    return ww_sched_time_left_ms(env->sched);
}

static int daemon_job_update(void *ctx, char *result, size_t len)
{
    struct ww_daemon_env *env = ctx;

    if (env->conf->update.server == NULL || env->conf->update.server[0] == '\0') {
        snprintf(result, len, "not configured");
        return WW_OK;
    }
    return ww_update_run_once_until(env->st, env->conf, NULL, daemon_time_left_ms, env, result,
                                    len);
}

static int daemon_job_license(void *ctx, char *result, size_t len)
{
    const struct ww_daemon_env *env = ctx;
    struct ww_http *h = daemon_job_http(env, 1, result, len);
    int rc;

    if (h == NULL)
        return WW_ENOMEM;
    rc = ww_license_run_once(env->st, env->conf, h, result, len);
    ww_http_free(h);
    return rc;
}

static const ww_sched_job_fn daemon_job_fns[] = {daemon_job_feedback, daemon_job_health,
                                                 daemon_job_update, daemon_job_license};

int ww_daemon_jobs_sync(struct ww_daemon_env *env)
{
    const char *server;
    int interval_s, timeout_s, rc;

    for (int i = 0; ww_daemon_job_names[i] != NULL; i++) {
        daemon_job_settings(env->conf, i, &server, &interval_s, &timeout_s);
        rc = ww_sched_update(env->sched, ww_daemon_job_names[i], interval_s, timeout_s);
        if (rc == WW_ENOTFOUND)
            rc = ww_sched_add(env->sched, ww_daemon_job_names[i], interval_s, timeout_s,
                              daemon_job_fns[i], env);
        if (rc != WW_OK)
            return rc;
    }
    return WW_OK;
}
