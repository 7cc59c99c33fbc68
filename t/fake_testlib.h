/* t/fake_testlib.h - a fake cloud server (t/fake_*.py on t/fakelib.py) as a child process of a
 * C test: start it on a free loopback port, talk to its control endpoints, stop it by PID.
 * t/rep_testlib.c, t/sps_testlib.c and t/cloud_testlib.c are thin wrappers around it. */
#ifndef FAKE_TESTLIB_H
#define FAKE_TESTLIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

/* Makes an empty folder /tmp/ww-<tag>-XXXXXX into <dir> (<len> bytes) for a fake's files (its
 * port file, its certificate, the caller's data files). 0 or -1. */
int fake_proc_mkdir(char *dir, size_t len, const char *tag);

/* Starts $PYTHON3 $top_srcdir/t/<script> --port-file <dir>/port [--tls-dir <dir>] <args...>
 * (<args>: NULL-terminated, or NULL), stdin from /dev/null, and waits (deadline 60 s) for the
 * port it writes. With <tls> the fake serves HTTPS with a self-signed certificate it writes to
 * <dir>/cert.pem. 0 with *pid and *port set, or -1 (nothing left running). */
int fake_proc_start(const char *script, const char *dir, int tls, const char *const *args,
                    pid_t *pid, int *port);

/* Stops *pid (TERM, then KILL after 5 s; 0 = nothing to stop), then removes every file in <dir>
 * and <dir> itself ("" = none); *pid and <dir> end up 0 and "". */
void fake_proc_stop(pid_t *pid, char *dir);

/* GET <base><path> from a fake's control side (<ca_file>: NULL or "" for plain HTTP); the
 * answer of a 200 as JSON (the caller json_decref()s it), NULL otherwise. */
json_t *fake_proc_get_json(const char *base, const char *path, const char *ca_file);

/* POST <json> to <base><path>. 0 when the fake answered 200, else -1. */
int fake_proc_post(const char *base, const char *path, const char *json, const char *ca_file);

int64_t fake_now_ms(void); /* CLOCK_MONOTONIC */
void fake_sleep_ms(int ms);

#endif
