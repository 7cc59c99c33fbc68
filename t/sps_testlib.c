/* t/sps_testlib.c - the fake Smart Protection Server as a child process of the tests. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sps_testlib.h"
#include "ww_common.h"
#include "ww_http.h"

#ifndef WW_TEST_SRCDIR
#define WW_TEST_SRCDIR "."
#endif

int64_t sps_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sps_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int fake_sps_start(struct fake_sps *f, const char *verdicts_json, int ttl_s)
{
    const char *py = getenv("PYTHON3");
    const char *src = getenv("top_srcdir");
    char script[4096], portfile[128], vfile[128], ttl[16];
    int64_t deadline;

    memset(f, 0, sizeof(*f));
    signal(SIGPIPE, SIG_IGN);
    if (py == NULL || py[0] == '\0')
        py = "python3";
    if (src == NULL || src[0] == '\0')
        src = WW_TEST_SRCDIR;
    snprintf(script, sizeof(script), "%s/t/fake_sps.py", src);
    snprintf(f->dir, sizeof(f->dir), "/tmp/ww-fakesps-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(portfile, sizeof(portfile), "%s/port", f->dir);
    snprintf(vfile, sizeof(vfile), "%s/verdicts.json", f->dir);
    snprintf(ttl, sizeof(ttl), "%d", ttl_s);
    {
        FILE *fp = fopen(vfile, "w");
        if (fp == NULL)
            return -1;
        fputs(verdicts_json != NULL ? verdicts_json : "{}", fp);
        fclose(fp);
    }
    f->pid = fork();
    if (f->pid < 0)
        return -1;
    if (f->pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        execlp(py, py, script, "--port-file", portfile, "--verdicts", vfile, "--ttl", ttl,
               (char *)NULL);
        _exit(127);
    }
    deadline = sps_now_ms() + 20000;
    while (sps_now_ms() < deadline) {
        FILE *fp = fopen(portfile, "r");
        if (fp != NULL) {
            int ok = fscanf(fp, "%d", &f->port) == 1;
            fclose(fp);
            if (ok && f->port > 0) {
                snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%d", f->port);
                return 0;
            }
        }
        if (waitpid(f->pid, NULL, WNOHANG) == f->pid) {
            f->pid = 0;
            return -1;
        }
        sps_sleep_ms(20);
    }
    fake_sps_stop(f);
    return -1;
}

void fake_sps_stop(struct fake_sps *f)
{
    char path[160];

    if (f->pid > 0) {
        int64_t deadline = sps_now_ms() + 5000;
        kill(f->pid, SIGTERM);
        while (waitpid(f->pid, NULL, WNOHANG) != f->pid) {
            if (sps_now_ms() > deadline) {
                kill(f->pid, SIGKILL);
                waitpid(f->pid, NULL, 0);
                break;
            }
            sps_sleep_ms(10);
        }
        f->pid = 0;
    }
    if (f->dir[0] != '\0') {
        snprintf(path, sizeof(path), "%s/port", f->dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/verdicts.json", f->dir);
        unlink(path);
        rmdir(f->dir);
        f->dir[0] = '\0';
    }
}

static struct ww_http *control_client(void)
{
    struct ww_http_opts opts = {.timeout_ms = 5000, .tls_verify = 1, .appliance_id = "test"};
    return ww_http_create(&opts);
}

static json_t *control_get(struct fake_sps *f, const char *path)
{
    struct ww_http *h = control_client();
    struct ww_http_result res;
    char url[256];
    json_t *root = NULL;

    snprintf(url, sizeof(url), "%s%s", f->base, path);
    if (h != NULL && ww_http_get(h, url, &res) == WW_OK && res.status == 200)
        root = json_loadb(res.body, res.body_len, 0, NULL);
    ww_http_free(h);
    return root;
}

static int control_post(struct fake_sps *f, const char *path, const char *json)
{
    struct ww_http *h = control_client();
    struct ww_http_result res;
    char url[256];
    int rc = -1;

    snprintf(url, sizeof(url), "%s%s", f->base, path);
    if (h != NULL && ww_http_post_json(h, url, json, strlen(json), &res) == WW_OK &&
        res.status == 200)
        rc = 0;
    ww_http_free(h);
    return rc;
}

int fake_sps_mode(struct fake_sps *f, const char *mode, int ms)
{
    char json[128];

    snprintf(json, sizeof(json), "{\"mode\": \"%s\", \"ms\": %d}", mode, ms);
    if (control_post(f, "/_mode", json) != 0)
        return -1;
    if (strcmp(mode, "refuse") == 0) {
        /* the fake answers first and closes its socket just after: wait until it has */
        int64_t deadline = sps_now_ms() + 5000;
        while (sps_now_ms() < deadline) {
            json_t *root = control_get(f, "/_stats");
            if (root == NULL)
                return 0;
            json_decref(root);
            sps_sleep_ms(20);
        }
        return -1;
    }
    return 0;
}

int fake_sps_back(struct fake_sps *f)
{
    int64_t deadline = sps_now_ms() + 5000;

    if (f->pid <= 0 || kill(f->pid, SIGUSR1) != 0)
        return -1;
    while (sps_now_ms() < deadline) {
        json_t *root = control_get(f, "/_stats");
        if (root != NULL) {
            json_decref(root);
            return 0;
        }
        sps_sleep_ms(50);
    }
    return -1;
}

int fake_sps_reset(struct fake_sps *f)
{
    return control_post(f, "/_reset", "{}");
}

static long stats_counter(struct fake_sps *f, const char *name)
{
    json_t *root = control_get(f, "/_stats");
    json_t *v = root != NULL ? json_object_get(root, name) : NULL;
    long n = v != NULL && json_is_integer(v) ? (long)json_integer_value(v) : -1;

    json_decref(root);
    return n;
}

long fake_sps_requests(struct fake_sps *f)
{
    return stats_counter(f, "requests");
}

long fake_sps_health(struct fake_sps *f)
{
    return stats_counter(f, "health");
}
