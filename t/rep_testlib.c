/* t/rep_testlib.c - helpers of the reputation tests. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "rep_testlib.h"
#include "ww_common.h"
#include "ww_http.h"

#ifndef WW_TEST_SRCDIR
#define WW_TEST_SRCDIR "."
#endif

int64_t test_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int fake_start(struct fake_wrs *f, int tls)
{
    const char *py = getenv("PYTHON3");
    const char *src = getenv("top_srcdir");
    char script[4096], portfile[128];
    int64_t deadline;

    memset(f, 0, sizeof(*f));
    f->tls = tls;
    signal(SIGPIPE, SIG_IGN);
    if (py == NULL || py[0] == '\0')
        py = "python3";
    if (src == NULL || src[0] == '\0')
        src = WW_TEST_SRCDIR;
    snprintf(script, sizeof(script), "%s/t/fake_wrs.py", src);
    snprintf(f->dir, sizeof(f->dir), "/tmp/ww-fakewrs-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(portfile, sizeof(portfile), "%s/port", f->dir);
    snprintf(f->ca_file, sizeof(f->ca_file), "%s/cert.pem", f->dir);
    f->pid = fork();
    if (f->pid < 0)
        return -1;
    if (f->pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        if (tls)
            execlp(py, py, script, "--port-file", portfile, "--tls-dir", f->dir, (char *)NULL);
        else
            execlp(py, py, script, "--port-file", portfile, (char *)NULL);
        _exit(127);
    }
    deadline = test_now_ms() + 20000;
    while (test_now_ms() < deadline) {
        FILE *fp = fopen(portfile, "r");
        if (fp != NULL) {
            int ok = fscanf(fp, "%d", &f->port) == 1;
            fclose(fp);
            if (ok && f->port > 0) {
                snprintf(f->base, sizeof(f->base), "%s://127.0.0.1:%d", tls ? "https" : "http",
                         f->port);
                return 0;
            }
        }
        if (waitpid(f->pid, NULL, WNOHANG) == f->pid) {
            f->pid = 0;
            return -1;
        }
        sleep_ms(20);
    }
    fake_wrs_stop(f);
    return -1;
}

int fake_wrs_start(struct fake_wrs *f)
{
    return fake_start(f, 0);
}

int fake_wrs_start_tls(struct fake_wrs *f)
{
    return fake_start(f, 1);
}

void fake_wrs_stop(struct fake_wrs *f)
{
    char path[128];

    if (f->pid > 0) {
        int64_t deadline = test_now_ms() + 5000;
        kill(f->pid, SIGTERM);
        while (waitpid(f->pid, NULL, WNOHANG) != f->pid) {
            if (test_now_ms() > deadline) {
                kill(f->pid, SIGKILL);
                waitpid(f->pid, NULL, 0);
                break;
            }
            sleep_ms(10);
        }
        f->pid = 0;
    }
    if (f->dir[0] != '\0') {
        static const char *const files[] = {"port", "port.tmp", "cert.pem", "key.pem"};
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
            snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
            unlink(path);
        }
        rmdir(f->dir);
        f->dir[0] = '\0';
    }
}

static struct ww_http *control_client(const struct fake_wrs *f)
{
    struct ww_http_opts opts = {.timeout_ms = 5000, .tls_verify = 1, .appliance_id = "test"};
    if (f->tls)
        opts.ca_file = f->ca_file;
    return ww_http_create(&opts);
}

static json_t *control_get(struct fake_wrs *f, const char *path)
{
    struct ww_http *h = control_client(f);
    struct ww_http_result res;
    char url[256];
    json_t *root = NULL;

    snprintf(url, sizeof(url), "%s%s", f->base, path);
    if (h != NULL && ww_http_get(h, url, &res) == WW_OK && res.status == 200)
        root = json_loadb(res.body, res.body_len, 0, NULL);
    ww_http_free(h);
    return root;
}

static int control_post(struct fake_wrs *f, const char *path, const char *json)
{
    struct ww_http *h = control_client(f);
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

int fake_wrs_mode(struct fake_wrs *f, const char *mode, int ms)
{
    char json[128];

    snprintf(json, sizeof(json), "{\"mode\": \"%s\", \"ms\": %d}", mode, ms);
    return control_post(f, "/_mode", json);
}

int fake_wrs_reset(struct fake_wrs *f)
{
    return control_post(f, "/_reset", "{}");
}

long fake_wrs_requests(struct fake_wrs *f)
{
    json_t *root = control_get(f, "/_stats");
    long n = -1;

    if (root != NULL && json_is_integer(json_object_get(root, "requests")))
        n = (long)json_integer_value(json_object_get(root, "requests"));
    json_decref(root);
    return n;
}

int fake_wrs_last_header(struct fake_wrs *f, const char *name, char *out, size_t outlen)
{
    json_t *root = control_get(f, "/_stats");
    const char *key;
    json_t *val;

    out[0] = '\0';
    if (root == NULL)
        return -1;
    json_object_foreach(json_object_get(root, "last_headers"), key, val)
    {
        if (strcasecmp(key, name) == 0 && json_is_string(val))
            snprintf(out, outlen, "%s", json_string_value(val));
    }
    json_decref(root);
    return 0;
}

long fake_wrs_last_peer_port(struct fake_wrs *f)
{
    json_t *root = control_get(f, "/_stats");
    json_t *v = root != NULL ? json_object_get(root, "last_peer_port") : NULL;
    long port = v != NULL && json_is_integer(v) ? (long)json_integer_value(v) : -1;

    json_decref(root);
    return port;
}

int fake_wrs_last_url(struct fake_wrs *f, char *out, size_t outlen)
{
    json_t *root = control_get(f, "/_stats");
    json_t *u = root != NULL ? json_object_get(root, "last_url") : NULL;

    out[0] = '\0';
    if (u != NULL && json_is_string(u))
        snprintf(out, outlen, "%s", json_string_value(u));
    json_decref(root);
    return root != NULL ? 0 : -1;
}

void test_conf_init(struct ww_conf *c)
{
    static char *no_categories[] = {NULL};

    memset(c, 0, sizeof(*c));
    c->reputation.server = "";
    c->reputation.api_key = "";
    c->reputation.timeout_ms = 500;
    c->reputation.sensitivity = WW_SENS_MEDIUM;
    c->reputation.threshold[WW_SENS_LOW] = 50;
    c->reputation.threshold[WW_SENS_MEDIUM] = 65;
    c->reputation.threshold[WW_SENS_HIGH] = 80;
    c->reputation.unrated_action = WW_ACTION_ALLOW;
    c->reputation.blocked_categories = no_categories;
    c->reputation.backoff = 1;
    c->reputation.backoff_failures = 3;
    c->reputation.backoff_s = 30;
    c->reputation.backoff_max_s = 300;
    c->reputation.cache_entries = 100000;
    c->reputation.cache_ttl_s = 3600;
    c->reputation.tls_verify = 1;
    c->reputation.ca_file = "";
    c->urldb.file = "";
}

int test_closed_port(void)
{
    struct sockaddr_in sa = {0};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;

    if (fd < 0)
        return -1;
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd); /* bound but never listening: connects to it are refused */
    return port;
}
