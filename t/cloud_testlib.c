/* t/cloud_testlib.c - the fake cloud as a child process of a test (see cloud_testlib.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cloud_testlib.h"
#include "fake_testlib.h"

int64_t cloud_now_ms(void)
{
    return fake_now_ms();
}

void cloud_sleep_ms(int ms)
{
    fake_sleep_ms(ms);
}

int fake_cloud_start(struct fake_cloud *f)
{
    memset(f, 0, sizeof(*f));
    if (fake_proc_mkdir(f->dir, sizeof(f->dir), "fakecloud") != 0)
        return -1;
    if (fake_proc_start("fake_cloud.py", f->dir, 0, NULL, &f->pid, &f->port) != 0) {
        fake_cloud_stop(f);
        return -1;
    }
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%d", f->port);
    return 0;
}

void fake_cloud_stop(struct fake_cloud *f)
{
    fake_proc_stop(&f->pid, f->dir);
}

int fake_cloud_post(struct fake_cloud *f, const char *path, const char *json)
{
    return fake_proc_post(f->base, path, json, NULL);
}

int fake_cloud_mode(struct fake_cloud *f, const char *mode, int ms)
{
    char json[128];

    snprintf(json, sizeof(json), "{\"mode\": \"%s\", \"ms\": %d}", mode, ms);
    return fake_cloud_post(f, "/_mode", json);
}

json_t *fake_cloud_stats(struct fake_cloud *f)
{
    return fake_proc_get_json(f->base, "/_stats", NULL);
}

long fake_cloud_stat(struct fake_cloud *f, const char *name)
{
    json_t *root = fake_cloud_stats(f);
    json_t *v = json_object_get(root, name);
    long n = json_is_integer(v) ? (long)json_integer_value(v) : -1;

    json_decref(root);
    return n;
}
