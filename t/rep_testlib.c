/* t/rep_testlib.c - helpers of the reputation tests. */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "fake_testlib.h"
#include "rep_testlib.h"

int64_t test_now_ms(void)
{
    return fake_now_ms();
}

static int fake_start(struct fake_wrs *f, int tls)
{
    memset(f, 0, sizeof(*f));
    f->tls = tls;
    if (fake_proc_mkdir(f->dir, sizeof(f->dir), "fakewrs") != 0)
        return -1;
    snprintf(f->ca_file, sizeof(f->ca_file), "%s/cert.pem", f->dir);
    if (fake_proc_start("fake_wrs.py", f->dir, tls, NULL, &f->pid, &f->port) != 0) {
        fake_wrs_stop(f);
        return -1;
    }
    snprintf(f->base, sizeof(f->base), "%s://127.0.0.1:%d", tls ? "https" : "http", f->port);
    return 0;
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
    fake_proc_stop(&f->pid, f->dir);
}

static json_t *control_get(struct fake_wrs *f, const char *path)
{
    return fake_proc_get_json(f->base, path, f->tls ? f->ca_file : NULL);
}

static int control_post(struct fake_wrs *f, const char *path, const char *json)
{
    return fake_proc_post(f->base, path, json, f->tls ? f->ca_file : NULL);
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
