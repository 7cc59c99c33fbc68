/* t/sps_testlib.c - the fake Smart Protection Server as a child process of the tests. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "fake_testlib.h"
#include "sps_testlib.h"

int64_t sps_now_ms(void)
{
    return fake_now_ms();
}

void sps_sleep_ms(int ms)
{
    fake_sleep_ms(ms);
}

static int sps_start(struct fake_sps *f, const char *verdicts_json, int ttl_s, int tls)
{
    char vfile[128], ttl[16];
    const char *args[] = {"--verdicts", vfile, "--ttl", ttl, NULL};
    FILE *fp;

    memset(f, 0, sizeof(*f));
    f->tls = tls;
    if (fake_proc_mkdir(f->dir, sizeof(f->dir), "fakesps") != 0)
        return -1;
    snprintf(vfile, sizeof(vfile), "%s/verdicts.json", f->dir);
    snprintf(f->ca_file, sizeof(f->ca_file), "%s/cert.pem", f->dir);
    snprintf(ttl, sizeof(ttl), "%d", ttl_s);
    fp = fopen(vfile, "w");
    if (fp == NULL || fputs(verdicts_json != NULL ? verdicts_json : "{}", fp) < 0) {
        if (fp != NULL)
            fclose(fp);
        fake_sps_stop(f);
        return -1;
    }
    fclose(fp);
    if (fake_proc_start("fake_sps.py", f->dir, tls, args, &f->pid, &f->port) != 0) {
        fake_sps_stop(f);
        return -1;
    }
    snprintf(f->base, sizeof(f->base), "%s://127.0.0.1:%d", tls ? "https" : "http", f->port);
    return 0;
}

int fake_sps_start(struct fake_sps *f, const char *verdicts_json, int ttl_s)
{
    return sps_start(f, verdicts_json, ttl_s, 0);
}

int fake_sps_start_tls(struct fake_sps *f, const char *verdicts_json, int ttl_s)
{
    return sps_start(f, verdicts_json, ttl_s, 1);
}

void fake_sps_stop(struct fake_sps *f)
{
    fake_proc_stop(&f->pid, f->dir);
}

static json_t *control_get(struct fake_sps *f, const char *path)
{
    return fake_proc_get_json(f->base, path, f->tls ? f->ca_file : NULL);
}

static int control_post(struct fake_sps *f, const char *path, const char *json)
{
    return fake_proc_post(f->base, path, json, f->tls ? f->ca_file : NULL);
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
