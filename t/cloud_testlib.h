/* t/cloud_testlib.h - the fake cloud (t/fake_cloud.py) as a child process of a test, and a
 * clock. */
#ifndef CLOUD_TESTLIB_H
#define CLOUD_TESTLIB_H

#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

struct fake_cloud {
    pid_t pid;
    int port;
    char base[64]; /* "http://127.0.0.1:<port>" */
    char dir[64];  /* temporary folder holding the port file */
};

/* Starts python3 t/fake_cloud.py and waits (deadline 20 s) for its port. 0 or -1. */
int fake_cloud_start(struct fake_cloud *f);
/* Stops it by PID (TERM, then KILL after 5 s) and removes its files. */
void fake_cloud_stop(struct fake_cloud *f);
/* POST /_mode {"mode": mode, "ms": ms}. 0 or -1. */
int fake_cloud_mode(struct fake_cloud *f, const char *mode, int ms);
/* POST <path> with <json> to the control side. 0 or -1. */
int fake_cloud_post(struct fake_cloud *f, const char *path, const char *json);
/* GET /_stats; the caller json_decref()s it. NULL on error. */
json_t *fake_cloud_stats(struct fake_cloud *f);
/* An integer of /_stats; -1 on error. */
long fake_cloud_stat(struct fake_cloud *f, const char *name);

int64_t cloud_now_ms(void);
void cloud_sleep_ms(int ms);

#endif
