/* t/fake_testlib.c - a fake cloud server as a child process of a C test (see fake_testlib.h). */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_testlib.h"
#include "ww_common.h"
#include "ww_http.h"

#ifndef WW_TEST_SRCDIR
#define WW_TEST_SRCDIR "."
#endif

/* Most arguments a fake is started with, besides the script and the port file. */
#define FAKE_ARGS_MAX 16

int64_t fake_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fake_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int fake_proc_mkdir(char *dir, size_t len, const char *tag)
{
    if ((size_t)snprintf(dir, len, "/tmp/ww-%s-XXXXXX", tag) >= len) {
        dir[0] = '\0';
        return -1;
    }
    if (mkdtemp(dir) == NULL) {
        dir[0] = '\0';
        return -1;
    }
    return 0;
}

int fake_proc_start(const char *script, const char *dir, int tls, const char *const *args,
                    pid_t *pid, int *port)
{
    const char *py = getenv("PYTHON3");
    const char *src = getenv("top_srcdir");
    const char *argv[FAKE_ARGS_MAX + 8];
    char path[4096], portfile[4096];
    size_t n = 0;
    int64_t deadline;

    *pid = 0;
    *port = 0;
    signal(SIGPIPE, SIG_IGN); /* a fake that hangs up must not kill the test */
    if (py == NULL || py[0] == '\0')
        py = "python3";
    if (src == NULL || src[0] == '\0')
        src = WW_TEST_SRCDIR;
    snprintf(path, sizeof(path), "%s/t/%s", src, script);
    snprintf(portfile, sizeof(portfile), "%s/port", dir);
    argv[n++] = py;
    argv[n++] = path;
    argv[n++] = "--port-file";
    argv[n++] = portfile;
    if (tls) {
        argv[n++] = "--tls-dir";
        argv[n++] = dir;
    }
    for (size_t i = 0; args != NULL && args[i] != NULL; i++) {
        if (i >= FAKE_ARGS_MAX)
            return -1;
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    *pid = fork();
    if (*pid < 0) {
        *pid = 0;
        return -1;
    }
    if (*pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        execvp(py, (char *const *)argv);
        _exit(127);
    }
    deadline = fake_now_ms() + 60000; /* python starts slowly on a loaded machine */
    while (fake_now_ms() < deadline) {
        FILE *fp = fopen(portfile, "r");
        if (fp != NULL) {
            int ok = fscanf(fp, "%d", port) == 1;
            fclose(fp);
            if (ok && *port > 0)
                return 0;
        }
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            *pid = 0;
            return -1;
        }
        fake_sleep_ms(20);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = 0;
    *port = 0;
    return -1;
}

void fake_proc_stop(pid_t *pid, char *dir)
{
    if (*pid > 0) {
        int64_t deadline = fake_now_ms() + 5000;
        kill(*pid, SIGTERM);
        while (waitpid(*pid, NULL, WNOHANG) != *pid) {
            if (fake_now_ms() > deadline) {
                kill(*pid, SIGKILL);
                waitpid(*pid, NULL, 0);
                break;
            }
            fake_sleep_ms(10);
        }
        *pid = 0;
    }
    if (dir[0] != '\0') {
        DIR *d = opendir(dir);
        struct dirent *e;
        char path[4096];
        while (d != NULL && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
        if (d != NULL)
            closedir(d);
        rmdir(dir);
        dir[0] = '\0';
    }
}

static struct ww_http *fake_control_client(const char *ca_file)
{
    struct ww_http_opts opts = {.timeout_ms = 5000, .tls_verify = 1, .appliance_id = "test"};

    opts.ca_file = ca_file;
    return ww_http_create(&opts);
}

json_t *fake_proc_get_json(const char *base, const char *path, const char *ca_file)
{
    struct ww_http *h = fake_control_client(ca_file);
    struct ww_http_result res;
    char url[512];
    json_t *root = NULL;

    snprintf(url, sizeof(url), "%s%s", base, path);
    if (h != NULL && ww_http_get(h, url, &res) == WW_OK && res.status == 200)
        root = json_loadb(res.body, res.body_len, 0, NULL);
    ww_http_free(h);
    return root;
}

int fake_proc_post(const char *base, const char *path, const char *json, const char *ca_file)
{
    struct ww_http *h = fake_control_client(ca_file);
    struct ww_http_result res;
    char url[512];
    int rc = -1;

    snprintf(url, sizeof(url), "%s%s", base, path);
    if (h != NULL && ww_http_post_json(h, url, json, strlen(json), &res) == WW_OK &&
        res.status == 200)
        rc = 0;
    ww_http_free(h);
    return rc;
}
