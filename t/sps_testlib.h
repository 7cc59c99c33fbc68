/* t/sps_testlib.h - the fake Smart Protection Server (t/fake_sps.py) as a child process of the
 * smart-scan tests. */
#ifndef SPS_TESTLIB_H
#define SPS_TESTLIB_H

#include <stdint.h>
#include <sys/types.h>

struct fake_sps {
    pid_t pid;
    int port;
    char base[64];    /* "http://127.0.0.1:<port>" (https:// with TLS) */
    char dir[64];     /* temporary folder holding the port and verdicts files */
    int tls;          /* 1: HTTPS with a self-signed certificate */
    char ca_file[96]; /* <dir>/cert.pem with TLS: the CA a client must trust */
};

/* Starts python3 t/fake_sps.py with verdicts <verdicts_json> (a JSON object text, or NULL) and
 * answer ttl <ttl_s>, and waits (deadline 20 s) for its port. 0 or -1. */
int fake_sps_start(struct fake_sps *f, const char *verdicts_json, int ttl_s);
/* Same over HTTPS with a fresh self-signed certificate for 127.0.0.1 (needs openssl). */
int fake_sps_start_tls(struct fake_sps *f, const char *verdicts_json, int ttl_s);
/* Stops it by PID (TERM, then KILL after 5 s) and removes its files. */
void fake_sps_stop(struct fake_sps *f);
/* POST /_mode {"mode": mode, "ms": ms}. 0 or -1. */
int fake_sps_mode(struct fake_sps *f, const char *mode, int ms);
/* Ends an unlimited "refuse" outage (SIGUSR1) and waits (deadline 5 s) until it answers. */
int fake_sps_back(struct fake_sps *f);
int fake_sps_reset(struct fake_sps *f);
/* File lookups (or health probes) counted since the last reset; -1 on error. */
long fake_sps_requests(struct fake_sps *f);
long fake_sps_health(struct fake_sps *f);

int64_t sps_now_ms(void);
void sps_sleep_ms(int ms);

#endif
