/* src/webwardend.c - the background daemon: runs the periodic jobs of lib/ on one schedule. */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ww_common.h"
#include "ww_conf.h"
#include "ww_daemon.h"
#include "ww_log.h"
#include "ww_metrics.h"
#include "ww_notify.h"
#include "ww_sched.h"
#include "ww_store.h"

/* Longest sleep of the main loop: bounds the effect of a wall-clock jump. */
#define WWD_MAX_SLEEP_MS 60000

static void wwd_usage(FILE *fp)
{
    fprintf(fp,
            "usage: webwardend [-c FILE] [--foreground]\n"
            "  -c, --config FILE  config file (else $WEBWARDEN_CONF, else %s)\n"
            "  -f, --foreground   stay in the foreground, log to stderr (systemd, tests)\n"
            "  -V, --version      print the version\n"
            "  -h, --help         this help\n"
            "Signals: TERM/INT stop (within 5 s), HUP re-reads the config.\n",
            WW_DEFAULT_CONF);
}

/* One line per message, on stderr: the terminal, the journal, or daemon.log_file. */
static void wwd_log_sink(int level, const char *line)
{
    static const char *const names[] = {"", "error", "warning", "info", "info", "debug"};
    char stamp[32];
    struct tm tm;
    time_t now = time(NULL);

    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
    fprintf(stderr, "%s webwardend[%ld] %s: %s\n", stamp, (long)getpid(),
            level >= 1 && level <= 5 ? names[level] : "debug", line);
    fflush(stderr);
}

static int wwd_log_level(const struct ww_conf *conf)
{
    const char *l = conf->gateway.log_level;

    if (strcmp(l, "error") == 0)
        return WW_LOG_ERR;
    if (strcmp(l, "warning") == 0)
        return WW_LOG_WARN;
    if (strcmp(l, "debug") == 0)
        return WW_LOG_DEBUG;
    return WW_LOG_INFO;
}

/* After logrotate moved daemon.log_file away (SIGHUP): write to a fresh file of that name. */
static void wwd_reopen_log(const char *log_file)
{
    int fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

    if (fd < 0) {
        ww_log(WW_LOG_WARN, "cannot reopen log file %s; still writing to the old one", log_file);
        return;
    }
    fflush(stderr);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

/* SIGHUP: the new config replaces the old one only if it loads; settings that need a restart
 * (database, pid file, log file) keep their old values and say so. */
static void wwd_reload(struct ww_daemon_env *env, struct ww_conf **conf, const char *path,
                       int detached, struct ww_metrics_server *metrics)
{
    struct ww_conf *fresh = NULL;
    char err[WW_ERRLEN] = "";
    int rc;

    if (detached && (*conf)->daemon.log_file[0] != '\0')
        wwd_reopen_log((*conf)->daemon.log_file);
    rc = ww_conf_load(path, &fresh, err, sizeof(err));
    if (rc != WW_OK) {
        ww_log(WW_LOG_ERR, "reload failed, the config in force stays: %s", err);
        return;
    }
    if (strcmp(fresh->state.database, (*conf)->state.database) != 0)
        ww_log(WW_LOG_WARN, "state.database changed to %s: needs a restart, still using %s",
               fresh->state.database, (*conf)->state.database);
    if (strcmp(fresh->daemon.pid_file, (*conf)->daemon.pid_file) != 0 ||
        strcmp(fresh->daemon.log_file, (*conf)->daemon.log_file) != 0)
        ww_log(WW_LOG_WARN, "daemon.pid_file and daemon.log_file change at the next restart");
    if (strcmp(fresh->metrics.listen, (*conf)->metrics.listen) != 0)
        ww_log(WW_LOG_WARN, "metrics.listen changed to \"%s\": needs a restart, still \"%s\"",
               fresh->metrics.listen, (*conf)->metrics.listen);
    env->conf = fresh;
    rc = ww_daemon_jobs_sync(env);
    if (rc != WW_OK) {
        env->conf = *conf;
        ww_daemon_jobs_sync(env);
        ww_conf_free(fresh);
        ww_log(WW_LOG_ERR, "reload failed (job table: %s), the config in force stays",
               ww_strerror(rc));
        return;
    }
    ww_log_set_sink(wwd_log_sink, wwd_log_level(fresh));
    ww_metrics_server_set_grace(metrics, fresh->license.grace_days);
    ww_conf_free(*conf);
    *conf = fresh;
    ww_log(WW_LOG_INFO, "config reloaded from %s", path);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"foreground", no_argument, NULL, 'f'},
                                         {"version", no_argument, NULL, 'V'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *cli_conf = NULL;
    int foreground = 0, opt, rc, ready_fd = -1, lock_fd = -1, exit_code = 1, bits;
    struct ww_conf *conf = NULL;
    struct ww_store *st = NULL;
    struct ww_sched *sched = NULL;
    struct ww_metrics_server *metrics = NULL;
    struct ww_daemon_env env = {0};
    char err[WW_ERRLEN] = "", conf_path[4096] = "", pid_file[4096] = "";

    while ((opt = getopt_long(argc, argv, "c:fVh", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            cli_conf = optarg;
            break;
        case 'f':
            foreground = 1;
            break;
        case 'V':
            printf("webwardend %s\n", WW_VERSION);
            return 0;
        case 'h':
            wwd_usage(stdout);
            return 0;
        default:
            wwd_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "webwardend: unexpected argument '%s'\n", argv[optind]);
        wwd_usage(stderr);
        return 2;
    }

    snprintf(conf_path, sizeof(conf_path), "%s", ww_conf_pick_path(cli_conf));
    rc = ww_conf_load(conf_path, &conf, err, sizeof(err));
    if (rc != WW_OK) {
        fprintf(stderr, "webwardend: %s\n", err);
        return 1;
    }
    /* Reloads happen after chdir("/"): keep the absolute path the loader resolved. */
    if (conf->path != NULL && conf->path[0] != '\0')
        snprintf(conf_path, sizeof(conf_path), "%s", conf->path);
    ww_log_set_sink(wwd_log_sink, wwd_log_level(conf));

    if (!foreground && ww_daemon_detach(conf->daemon.log_file, &ready_fd, err, sizeof(err)) != 0) {
        fprintf(stderr, "webwardend: %s\n", err);
        goto cleanup;
    }
    if (ww_daemon_signals_init(err, sizeof(err)) != WW_OK ||
        ww_daemon_make_parent_dir(conf->state.database, err, sizeof(err)) != WW_OK ||
        ww_daemon_lock(conf->state.database, &lock_fd, err, sizeof(err)) != WW_OK ||
        ww_store_open(conf->state.database, WW_STORE_MIGRATE, &st, err, sizeof(err)) != WW_OK)
        goto cleanup;
    ww_daemon_set_abort_pidfile(conf->daemon.pid_file);
    if (ww_daemon_write_pidfile(conf->daemon.pid_file, err, sizeof(err)) != WW_OK)
        goto cleanup;
    snprintf(pid_file, sizeof(pid_file), "%s", conf->daemon.pid_file);

    sched = ww_sched_create(st, NULL, NULL, 0, ww_daemon_stop_flag());
    if (sched == NULL) {
        snprintf(err, sizeof(err), "out of memory");
        goto cleanup;
    }
    env.conf = conf;
    env.st = st;
    env.sched = sched;
    rc = ww_daemon_jobs_sync(&env);
    if (rc != WW_OK) {
        snprintf(err, sizeof(err), "cannot set up the jobs: %s", ww_strerror(rc));
        goto cleanup;
    }
    rc = ww_metrics_server_start(conf->metrics.listen, conf->state.database,
                                 conf->license.grace_days, &metrics, err, sizeof(err));
    if (rc == WW_EBUSY && strcmp(conf->metrics.listen, WW_METRICS_DEFAULT_LISTEN) == 0) {
        /* Several gateways (or test runs) on one host: only an address the admin chose is
         * worth refusing to start for. */
        ww_log(WW_LOG_WARN, "%s; no /metrics (set metrics.listen to another port)", err);
        err[0] = '\0';
    } else if (rc != WW_OK) {
        char why[WW_ERRLEN];
        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, sizeof(err), "%.200s: %.300s", conf_path, why);
        goto cleanup;
    }
    ww_log(WW_LOG_INFO, "started (version %s, config %s, database %s)", WW_VERSION, conf_path,
           conf->state.database);
    ww_daemon_ready(ready_fd, NULL);
    ready_fd = -1;
    /* systemd's Type=notify: the database exists and is migrated, so c-icap may start. */
    if (ww_notify("READY=1\nSTATUS=running the jobs") < 0)
        ww_log(WW_LOG_WARN, "cannot tell systemd we are ready (NOTIFY_SOCKET=%s)",
               getenv("NOTIFY_SOCKET"));

    for (;;) {
        bits = ww_daemon_wait(ww_sched_wait_ms(sched, WWD_MAX_SLEEP_MS));
        if (bits & WW_DAEMON_STOP)
            break;
        if (bits & WW_DAEMON_RELOAD)
            wwd_reload(&env, &conf, conf_path, !foreground, metrics);
        ww_sched_run_due(sched);
    }
    ww_log(WW_LOG_INFO, "stopping");
    ww_notify("STOPPING=1");
    exit_code = 0;

cleanup:
    if (exit_code != 0 && err[0] != '\0') {
        ww_log(WW_LOG_ERR, "%s", err);
        ww_daemon_ready(ready_fd, err);
    }
    ww_metrics_server_stop(metrics);
    ww_sched_free(sched);
    ww_store_close(st);
    if (pid_file[0] != '\0')
        unlink(pid_file);
    ww_daemon_unlock(lock_fd);
    ww_daemon_stop_done();
    if (exit_code == 0)
        ww_log(WW_LOG_INFO, "stopped");
    ww_conf_free(conf);
    return exit_code;
}
