/* t/rep_testlib.h - helpers of the reputation tests: the fake WRS server (t/fake_wrs.py) as a
 * child process, a config filled by hand, a clock. */
#ifndef REP_TESTLIB_H
#define REP_TESTLIB_H

#include <stdint.h>
#include <sys/types.h>

#include "ww_conf.h"

struct fake_wrs {
    pid_t pid;
    int port;
    char base[64];    /* "http://127.0.0.1:<port>" */
    char dir[64];     /* temporary folder holding the port file (and cert.pem with TLS) */
    int tls;          /* 1: HTTPS with a self-signed certificate */
    char ca_file[96]; /* <dir>/cert.pem when tls: the CA a client must trust */
};

/* Starts python3 t/fake_wrs.py and waits (deadline 20 s) for its port. 0 or -1. */
int fake_wrs_start(struct fake_wrs *f);
/* Same over HTTPS with a fresh self-signed certificate for 127.0.0.1 (needs openssl). */
int fake_wrs_start_tls(struct fake_wrs *f);
/* Stops it by PID (TERM, then KILL after 5 s) and removes its files. */
void fake_wrs_stop(struct fake_wrs *f);
/* POST /_mode {"mode": mode, "ms": ms}. 0 or -1. */
int fake_wrs_mode(struct fake_wrs *f, const char *mode, int ms);
/* POST /_reset. 0 or -1. */
int fake_wrs_reset(struct fake_wrs *f);
/* Rating requests counted since the last reset; -1 on error. */
long fake_wrs_requests(struct fake_wrs *f);
/* Header <name> of the last rating request into <out> ("" if absent). 0 or -1. */
int fake_wrs_last_header(struct fake_wrs *f, const char *name, char *out, size_t outlen);
/* Client port of the last rating request (same port = same kept-alive connection); -1. */
long fake_wrs_last_peer_port(struct fake_wrs *f);
/* The last rating request's url parameter. 0 or -1. */
int fake_wrs_last_url(struct fake_wrs *f, char *out, size_t outlen);

/* The reputation.* and urldb.* fields of <c> set to the documented defaults, everything else
 * zero/empty (tests build only the fields they use). Strings point to static storage. */
void test_conf_init(struct ww_conf *c);

int64_t test_now_ms(void);

/* A loopback TCP port on which nothing listens now (connects are refused). */
int test_closed_port(void);

#endif
