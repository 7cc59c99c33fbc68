/* t/cloud_testlib.c - the fake cloud as a child process of a test (see cloud_testlib.h). */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cloud_testlib.h"
#include "ww_common.h"
#include "ww_http.h"

#ifndef WW_TEST_SRCDIR
#define WW_TEST_SRCDIR "."
#endif

int64_t cloud_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cloud_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int fake_cloud_start(struct fake_cloud *f)
{
    const char *py = getenv("PYTHON3");
    const char *src = getenv("top_srcdir");
    char script[4096], portfile[128];
    int64_t deadline;

    memset(f, 0, sizeof(*f));
    signal(SIGPIPE, SIG_IGN);
    if (py == NULL || py[0] == '\0')
        py = "python3";
    if (src == NULL || src[0] == '\0')
        src = WW_TEST_SRCDIR;
    snprintf(script, sizeof(script), "%s/t/fake_cloud.py", src);
    snprintf(f->dir, sizeof(f->dir), "/tmp/ww-fakecloud-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(portfile, sizeof(portfile), "%s/port", f->dir);
    f->pid = fork();
    if (f->pid < 0)
        return -1;
    if (f->pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        execlp(py, py, script, "--port-file", portfile, (char *)NULL);
        _exit(127);
    }
    deadline = cloud_now_ms() + 20000;
    while (cloud_now_ms() < deadline) {
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
        cloud_sleep_ms(20);
    }
    fake_cloud_stop(f);
    return -1;
}

void fake_cloud_stop(struct fake_cloud *f)
{
    char path[128];

    if (f->pid > 0) {
        int64_t deadline = cloud_now_ms() + 5000;
        kill(f->pid, SIGTERM);
        while (waitpid(f->pid, NULL, WNOHANG) != f->pid) {
            if (cloud_now_ms() > deadline) {
                kill(f->pid, SIGKILL);
                waitpid(f->pid, NULL, 0);
                break;
            }
            cloud_sleep_ms(10);
        }
        f->pid = 0;
    }
    if (f->dir[0] != '\0') {
        snprintf(path, sizeof(path), "%s/port", f->dir);
        unlink(path);
        rmdir(f->dir);
        f->dir[0] = '\0';
    }
}

static struct ww_http *cloud_control_client(void)
{
    struct ww_http_opts opts = {.timeout_ms = 5000, .tls_verify = 1, .appliance_id = "test"};
    return ww_http_create(&opts);
}

int fake_cloud_post(struct fake_cloud *f, const char *path, const char *json)
{
    struct ww_http *h = cloud_control_client();
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

int fake_cloud_mode(struct fake_cloud *f, const char *mode, int ms)
{
    char json[128];

    snprintf(json, sizeof(json), "{\"mode\": \"%s\", \"ms\": %d}", mode, ms);
    return fake_cloud_post(f, "/_mode", json);
}

json_t *fake_cloud_stats(struct fake_cloud *f)
{
    struct ww_http *h = cloud_control_client();
    struct ww_http_result res;
    char url[256];
    json_t *root = NULL;

    snprintf(url, sizeof(url), "%s/_stats", f->base);
    if (h != NULL && ww_http_get(h, url, &res) == WW_OK && res.status == 200)
        root = json_loadb(res.body, res.body_len, 0, NULL);
    ww_http_free(h);
    return root;
}

long fake_cloud_stat(struct fake_cloud *f, const char *name)
{
    json_t *root = fake_cloud_stats(f);
    json_t *v = json_object_get(root, name);
    long n = json_is_integer(v) ? (long)json_integer_value(v) : -1;

    json_decref(root);
    return n;
}
