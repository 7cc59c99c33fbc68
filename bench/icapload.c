/* bench/icapload.c - closed-loop ICAP load generator: REQMOD/RESPMOD over keep-alive, latency
 * percentiles. One thread per connection, plain sockets, no c-icap library. Loopback only. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IL_MAX_THREADS 256
#define IL_MAX_SECONDS 600
#define IL_MAX_URLS 1000000
#define IL_MAX_BODIES 100000              /* -F: bodies in the list */
#define IL_MAX_BODY (1024L * 1024 * 1024) /* 1 GiB: a body file is read into memory */
#define IL_RBUF 65536                     /* also the longest ICAP header block accepted */
#define IL_CHUNK 32768                    /* chunk size of the res-body we send */
#define IL_POLL_SLICE_MS 50               /* how often a blocked worker looks at the stop flag */

/* Log-linear latency histogram in ns: exact below 128 ns, then 64 sub-buckets per power of
 * two (relative error under 1.6%) up to 2^41 ns (~37 min), far above any request timeout. */
#define HIST_SUB 64
#define HIST_LINEAR 128
#define HIST_MAX_MSB 41
#define HIST_BUCKETS (HIST_LINEAR + (HIST_MAX_MSB - 6) * HIST_SUB)

enum il_mode { IL_REQMOD, IL_RESPMOD };

/* Outcome of one request attempt. */
enum il_rc {
    RQ_DONE,        /* a final ICAP response was read completely */
    RQ_TIMEOUT,     /* the per-request timeout passed */
    RQ_ERROR,       /* connect failure, protocol error, reset, premature close */
    RQ_IDLE_CLOSED, /* a reused connection was closed before any answer byte: retry once */
    RQ_ABORT        /* the measured window ended while the request was in flight */
};

struct il_opts {
    char xheaders[4096]; /* -x: extra ICAP header lines, each ending in CRLF */
    const char *host;
    int port;
    const char *service;
    enum il_mode mode;
    char **urls; /* owned, nurls entries */
    size_t nurls;
    const char *content_type;
    long preview; /* bytes, 0 = no preview */
    int allow204;
    int conc;
    long duration_s; /* 0 = not given */
    long long count; /* 0 = not given */
    long warmup_s;
    long timeout_ms;
    const char *label;
    int json;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    /* RESPMOD bodies (-f: one; -F: a list, sent round-robin across all connections). */
    struct il_body *bodies;
    size_t nbodies;
    size_t bodies_bytes; /* sum of their lengths */
};

#define IL_ALLOW204_SQUID 2 /* il_opts.allow204: as Squid (send_allow204) */

/* One RESPMOD body, pre-encoded as ICAP chunks: the whole body (no preview), or the preview
 * part (ending in "0" or "0; ieof") and the rest sent after "100 Continue". */
struct il_body {
    char *ctype; /* owned: its Content-Type */
    char *url;   /* owned, NULL: the URL of -u/-U */
    size_t body_len;
    char *full_enc, *prev_enc, *rest_enc;
    size_t full_enc_len, prev_enc_len, rest_enc_len;
    size_t prev_body_len; /* body bytes inside prev_enc */
    int prev_is_eof;      /* the whole body fits in the preview */
};

struct il_hist {
    uint64_t b[HIST_BUCKETS];
    uint64_t n;
    uint64_t max_ns;
    long double sum_ns;
};

struct il_stats {
    uint64_t done; /* final responses counted in the window */
    uint64_t st204, st200, st_other;
    uint64_t st_by_code[600];
    uint64_t errors, timeouts, reconnects;
    uint64_t unfinished;           /* still in flight when the window closed: not in the figures */
    uint64_t body_sent, body_recv; /* body bytes (decoded chunk data) */
    struct il_hist hist;
};

enum il_pstate { P_HDR, P_SKIP, P_CHUNK_SIZE, P_CHUNK_DATA, P_CHUNK_CRLF, P_TRAILER, P_DONE };

struct il_seg {
    const char *p;
    size_t len;
};

struct il_worker {
    pthread_t tid;
    int joined;
    int id;
    int fd;
    int reused; /* the connection already carried a complete exchange */
    size_t url_i;
    char *rbuf; /* IL_RBUF bytes */
    size_t rs, re;
    char *hdr; /* request headers built per request */
    size_t hdr_cap;
    struct il_stats st;
    int64_t last_done_ns;
};

/* Per-request parse and send state. */
struct il_req {
    enum il_pstate ps;
    size_t skip;      /* encapsulated header bytes still to skip */
    int has_body;     /* the response carries a chunked body */
    size_t chunk_rem; /* bytes left in the current chunk */
    int status;
    int conn_close;
    int got_any;  /* received at least one byte of the answer */
    int cont_ok;  /* a 100 Continue may come */
    int cont_got; /* 100 Continue received */
    struct il_seg seg[4];
    int nseg, seg_i;
    size_t seg_off;
    size_t body_sent;
    size_t body_recv;
    const struct il_body *b; /* RESPMOD: the body of this request */
};

static struct il_opts g_opt;
static atomic_int g_stop;          /* 1: start no new request */
static atomic_llong g_tickets;     /* requests left to start in -n mode */
static atomic_llong g_abort_at_ns; /* in-flight requests give up after this (0 = never) */
static atomic_ullong g_body_next;  /* -F: the next body, round-robin over all connections */
static int64_t g_measure_start_ns, g_measure_end_ns;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("icapload: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static int hist_index(uint64_t v)
{
    if (v < HIST_LINEAR)
        return (int)v;
    int msb = 63 - __builtin_clzll(v);
    if (msb > HIST_MAX_MSB)
        return HIST_BUCKETS - 1;
    int sub = (int)((v >> (msb - 6)) & (HIST_SUB - 1));
    int i = HIST_LINEAR + (msb - 7) * HIST_SUB + sub;
    return i < HIST_BUCKETS ? i : HIST_BUCKETS - 1;
}

/* Middle of bucket i, in ns. */
static double hist_value(int i)
{
    if (i < HIST_LINEAR)
        return i;
    int msb = (i - HIST_LINEAR) / HIST_SUB + 7;
    int sub = (i - HIST_LINEAR) % HIST_SUB;
    uint64_t width = (uint64_t)1 << (msb - 6);
    return (double)((HIST_SUB + (uint64_t)sub) * width + width / 2);
}

static void hist_add(struct il_hist *h, uint64_t v)
{
    h->b[hist_index(v)]++;
    h->n++;
    h->sum_ns += v;
    if (v > h->max_ns)
        h->max_ns = v;
}

/* Latency in ns at quantile q (0..1), never above the largest sample. */
static double hist_quantile(const struct il_hist *h, double q)
{
    if (h->n == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)h->n + 0.999999);
    if (want < 1)
        want = 1;
    uint64_t acc = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        acc += h->b[i];
        if (acc >= want) {
            double v = hist_value(i);
            return v > (double)h->max_ns ? (double)h->max_ns : v;
        }
    }
    return (double)h->max_ns;
}

static void hist_merge(struct il_hist *dst, const struct il_hist *src)
{
    for (int i = 0; i < HIST_BUCKETS; i++)
        dst->b[i] += src->b[i];
    dst->n += src->n;
    dst->sum_ns += src->sum_ns;
    if (src->max_ns > dst->max_ns)
        dst->max_ns = src->max_ns;
}

/* ---- setup: files, body encoding, address ---- */

/* Whole file into memory, at most <cap> bytes. Exits with a message on any failure. */
static char *file_slurp(const char *path, long cap, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    struct stat sb;
    char *buf = NULL;

    if (fp == NULL)
        die("%s: %s", path, strerror(errno));
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode))
        die("%s: not a regular file", path);
    if (sb.st_size > cap)
        die("%s: %lld bytes, more than the %ld allowed", path, (long long)sb.st_size, cap);
    buf = malloc((size_t)sb.st_size + 1);
    if (buf == NULL)
        die("out of memory");
    *len = fread(buf, 1, (size_t)sb.st_size, fp);
    if (*len != (size_t)sb.st_size || ferror(fp))
        die("%s: short read", path);
    buf[*len] = '\0';
    fclose(fp);
    return buf;
}

static int url_is_sane(const char *u)
{
    if (*u == '\0' || strlen(u) > 8192)
        return 0;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return 0;
    return 1;
}

static void urls_add(struct il_opts *o, const char *u, const char *where)
{
    if (!url_is_sane(u))
        die("%s: bad URL \"%.80s\" (empty, over 8192 bytes, or with spaces or control bytes)",
            where, u);
    if (o->nurls >= IL_MAX_URLS)
        die("%s: more than %d URLs", where, IL_MAX_URLS);
    char **n = realloc(o->urls, (o->nurls + 1) * sizeof(*n));
    if (n == NULL || (n[o->nurls] = strdup(u)) == NULL)
        die("out of memory");
    o->urls = n;
    o->nurls++;
}

static void urls_load(struct il_opts *o, const char *path)
{
    size_t len;
    char *buf = file_slurp(path, 256L * 1024 * 1024, &len);
    char *save = NULL;
    unsigned line = 0;
    char where[512];

    for (char *l = strtok_r(buf, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        line++;
        size_t n = strlen(l);
        while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t'))
            l[--n] = '\0';
        while (*l == ' ' || *l == '\t')
            l++;
        if (*l == '\0' || *l == '#')
            continue;
        snprintf(where, sizeof(where), "%s:%u", path, line);
        urls_add(o, l, where);
    }
    free(buf);
    if (o->nurls == 0)
        die("%s: no URL in the file", path);
}

/* ICAP chunked encoding of body[0..len) in IL_CHUNK pieces, then <last> ("0\r\n\r\n"). */
static char *chunk_encode(const char *body, size_t len, const char *last, size_t *out_len)
{
    size_t nchunks = (len + IL_CHUNK - 1) / IL_CHUNK;
    size_t cap = len + nchunks * 16 + strlen(last) + 1;
    char *out = malloc(cap);
    size_t o = 0;

    if (out == NULL)
        die("out of memory");
    for (size_t off = 0; off < len; off += IL_CHUNK) {
        size_t n = len - off < IL_CHUNK ? len - off : IL_CHUNK;
        o += (size_t)snprintf(out + o, cap - o, "%zx\r\n", n);
        memcpy(out + o, body + off, n);
        o += n;
        memcpy(out + o, "\r\n", 2);
        o += 2;
    }
    o += (size_t)snprintf(out + o, cap - o, "%s", last);
    *out_len = o;
    return out;
}

static int ctype_is_sane(const char *t)
{
    if (*t == '\0' || strlen(t) > 256)
        return 0;
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            return 0;
    return 1;
}

/* Adds the body read from <path>, sent with Content-Type <ctype> and <url> (NULL: -u/-U). */
static void body_prepare(struct il_opts *o, const char *path, const char *ctype, const char *url)
{
    size_t len;
    char *body;
    struct il_body *b;

    if (o->nbodies >= IL_MAX_BODIES)
        die("%s: more than %d bodies", path, IL_MAX_BODIES);
    body = file_slurp(path, IL_MAX_BODY - (long)o->bodies_bytes, &len);
    b = realloc(o->bodies, (o->nbodies + 1) * sizeof(*b));
    if (b == NULL)
        die("out of memory");
    o->bodies = b;
    b = &o->bodies[o->nbodies++];
    memset(b, 0, sizeof(*b));
    o->bodies_bytes += len;
    b->ctype = strdup(ctype);
    b->url = url != NULL ? strdup(url) : NULL;
    if (b->ctype == NULL || (url != NULL && b->url == NULL))
        die("out of memory");
    b->body_len = len;
    b->full_enc = chunk_encode(body, len, "0\r\n\r\n", &b->full_enc_len);
    if (o->preview > 0) {
        b->prev_is_eof = len <= (size_t)o->preview;
        b->prev_body_len = b->prev_is_eof ? len : (size_t)o->preview;
        b->prev_enc =
            chunk_encode(body, b->prev_body_len, b->prev_is_eof ? "0; ieof\r\n\r\n" : "0\r\n\r\n",
                         &b->prev_enc_len);
        b->rest_enc = chunk_encode(body + b->prev_body_len, len - b->prev_body_len, "0\r\n\r\n",
                                   &b->rest_enc_len);
    }
    free(body);
}

/* -F: one body a line, "PATH [CONTENT-TYPE [URL]]" separated by blanks, # comments; a
 * relative PATH is taken from the list's folder. */
static void bodies_load(struct il_opts *o, const char *list)
{
    size_t len;
    char *buf = file_slurp(list, 16L * 1024 * 1024, &len);
    char *save = NULL, dir[4096] = ".", path[8192], where[4200];
    const char *slash = strrchr(list, '/');
    unsigned line = 0;

    if (slash != NULL)
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - list == 0 ? 1 : slash - list), list);
    for (char *l = strtok_r(buf, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        char *fsave = NULL, *f[4];
        int nf = 0;
        line++;
        snprintf(where, sizeof(where), "%s:%u", list, line);
        for (char *t = strtok_r(l, " \t\r", &fsave); t != NULL && nf < 4;
             t = strtok_r(NULL, " \t\r", &fsave))
            f[nf++] = t;
        if (nf == 0 || f[0][0] == '#')
            continue;
        if (nf > 3)
            die("%s: more than PATH CONTENT-TYPE URL", where);
        if (nf > 1 && !ctype_is_sane(f[1]))
            die("%s: bad content type", where);
        if (nf > 2 && !url_is_sane(f[2]))
            die("%s: bad URL", where);
        if (f[0][0] == '/')
            snprintf(path, sizeof(path), "%s", f[0]);
        else
            snprintf(path, sizeof(path), "%s/%s", dir, f[0]);
        body_prepare(o, path, nf > 1 ? f[1] : o->content_type, nf > 2 ? f[2] : NULL);
    }
    free(buf);
    if (o->nbodies == 0)
        die("%s: no body in the list", list);
}

static int addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return 0;
}

static void addr_resolve(struct il_opts *o)
{
    struct addrinfo hints, *res = NULL;
    char port[16];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", o->port);
    rc = getaddrinfo(o->host, port, &hints, &res);
    if (rc != 0)
        die("%s: %s", o->host, gai_strerror(rc));
    /* A load generator aimed elsewhere is a denial-of-service tool: loopback only. */
    if (!addr_is_loopback(res->ai_addr))
        die("%s: not a loopback address (only 127.0.0.0/8 and ::1 are allowed)", o->host);
    memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
    o->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
}

/* ---- one connection, one request ---- */

static void conn_close(struct il_worker *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    w->reused = 0;
    w->rs = w->re = 0;
}

/* Poll timeout in ms towards <deadline>, in slices so the abort time is noticed. */
static int poll_ms(int64_t deadline)
{
    int64_t left = deadline - now_ns();
    if (left <= 0)
        return 0;
    int64_t ms = (left + 999999) / 1000000;
    return ms > IL_POLL_SLICE_MS ? IL_POLL_SLICE_MS : (int)ms;
}

static int aborted(void)
{
    long long at = atomic_load(&g_abort_at_ns);
    return at != 0 && now_ns() >= at;
}

/* Non-blocking connect bounded by <deadline>. RQ_DONE when connected. */
static enum il_rc conn_open(struct il_worker *w, int64_t deadline)
{
    int one = 1, err = 0;
    socklen_t elen = sizeof(err);
    int fd = socket(g_opt.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return RQ_ERROR;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&g_opt.addr, g_opt.addrlen) != 0) {
        if (errno != EINPROGRESS) {
            close(fd);
            return RQ_ERROR;
        }
        for (;;) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            if (now_ns() >= deadline) {
                close(fd);
                return RQ_TIMEOUT;
            }
            if (aborted()) {
                close(fd);
                return RQ_ABORT;
            }
            int n = poll(&pf, 1, poll_ms(deadline));
            if (n < 0 && errno != EINTR) {
                close(fd);
                return RQ_ERROR;
            }
            if (n > 0)
                break;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
            close(fd);
            return RQ_ERROR;
        }
    }
    w->fd = fd;
    w->reused = 0;
    w->rs = w->re = 0;
    return RQ_DONE;
}

/* Host part of an absolute http(s) URL into <out>, for the HTTP Host header. */
static void url_host(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    p = p != NULL ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* Whether this request says "Allow: 204". Squid (Adaptation::Icap::ModXact::shouldAllow204) does
 * only when it can back the whole body up: no body, or a known length under its 64 KiB pipe. */
static int send_allow204(const struct il_opts *o, const struct il_body *b)
{
    if (o->allow204 != IL_ALLOW204_SQUID)
        return o->allow204;
    return o->mode == IL_REQMOD || (b != NULL && b->body_len < 64 * 1024);
}

/* Build the ICAP + encapsulated HTTP headers of one request into w->hdr. */
static size_t req_build(struct il_worker *w, const char *url, const struct il_body *b)
{
    char host[1024], http_req[10240], http_res[512];
    int hl, rl = 0;
    const struct il_opts *o = &g_opt;

    url_host(url, host, sizeof(host));
    hl = snprintf(http_req, sizeof(http_req),
                  "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: icapload/1\r\nAccept: */*\r\n\r\n",
                  url, host);
    if (o->mode == IL_RESPMOD)
        rl = snprintf(http_res, sizeof(http_res),
                      "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                      b->ctype, b->body_len);
    char pv[64] = "";
    if (o->mode == IL_RESPMOD && o->preview > 0)
        snprintf(pv, sizeof(pv), "Preview: %ld\r\n", o->preview);
    char enc[128];
    if (o->mode == IL_REQMOD)
        snprintf(enc, sizeof(enc), "req-hdr=0, null-body=%d", hl);
    else
        snprintf(enc, sizeof(enc), "req-hdr=0, res-hdr=%d, res-body=%d", hl, hl + rl);
    int n = snprintf(w->hdr, w->hdr_cap,
                     "%s icap://%s:%d/%s ICAP/1.0\r\nHost: %s:%d\r\n%s%s%sEncapsulated: %s\r\n\r\n"
                     "%s%s",
                     o->mode == IL_REQMOD ? "REQMOD" : "RESPMOD", o->host, o->port, o->service,
                     o->host, o->port, send_allow204(o, b) ? "Allow: 204\r\n" : "", o->xheaders, pv,
                     enc, http_req, o->mode == IL_RESPMOD ? http_res : "");
    return n < 0 || (size_t)n >= w->hdr_cap ? 0 : (size_t)n;
}

static void seg_push(struct il_req *r, const char *p, size_t len)
{
    if (len > 0 && r->nseg < 4) {
        r->seg[r->nseg].p = p;
        r->seg[r->nseg].len = len;
        r->nseg++;
    }
}

static int out_pending(const struct il_req *r)
{
    return r->seg_i < r->nseg;
}

/* Write what the socket takes. 0, or -1 on a socket error. */
static int out_flush(struct il_worker *w, struct il_req *r)
{
    while (r->seg_i < r->nseg) {
        const struct il_seg *s = &r->seg[r->seg_i];
        ssize_t n = send(w->fd, s->p + r->seg_off, s->len - r->seg_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno == EINTR)
                continue;
            return -1;
        }
        r->seg_off += (size_t)n;
        if (r->seg_off == s->len) {
            r->seg_i++;
            r->seg_off = 0;
        }
    }
    return 0;
}

/* Parse "ICAP/1.0 NNN reason" and the headers we need from hdr[0..len). -1 if malformed. */
static int icap_head_parse(struct il_req *r, char *hdr, size_t len)
{
    char *save = NULL, *line;
    long last_off = -1;
    const char *last_name = NULL;

    hdr[len] = '\0';
    line = strtok_r(hdr, "\r\n", &save);
    if (line == NULL || strncmp(line, "ICAP/1.", 7) != 0 || strlen(line) < 12 || line[8] != ' ')
        return -1;
    char *end;
    long code = strtol(line + 9, &end, 10);
    if (end != line + 12 || code < 100 || code > 599)
        return -1;
    r->status = (int)code;
    r->conn_close = 0;
    r->skip = 0;
    r->has_body = 0;
    while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
        char *colon;
        if (*line == ' ' || *line == '\t')
            continue; /* a folded continuation (X-Violations-Found's fields) */
        colon = strchr(line, ':');
        if (colon == NULL)
            return -1;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (strcasecmp(line, "Connection") == 0 && strcasestr(v, "close") != NULL) {
            r->conn_close = 1;
        } else if (strcasecmp(line, "Encapsulated") == 0) {
            /* "res-hdr=0, res-body=161": the last entry names the body, its offset is the
             * length of all encapsulated headers before it. */
            char *s2 = NULL;
            long prev = -1;
            for (char *t = strtok_r(v, ",", &s2); t != NULL; t = strtok_r(NULL, ",", &s2)) {
                while (*t == ' ')
                    t++;
                char *eq = strchr(t, '=');
                if (eq == NULL)
                    return -1;
                *eq = '\0';
                long off = strtol(eq + 1, &end, 10);
                if (end == eq + 1 || off < 0 || off < prev || off > 1024L * 1024)
                    return -1;
                prev = off;
                last_off = off;
                last_name = t;
            }
        }
    }
    if (last_name != NULL) {
        r->skip = (size_t)last_off;
        r->has_body = strstr(last_name, "-body") != NULL && strcmp(last_name, "null-body") != 0;
    }
    return 0;
}

/* Consume received bytes w->rbuf[rs..re). -1 on a protocol error. */
static int in_parse(struct il_worker *w, struct il_req *r)
{
    while (r->ps != P_DONE) {
        char *p = w->rbuf + w->rs;
        size_t avail = w->re - w->rs;
        char *eol;

        switch (r->ps) {
        case P_HDR: {
            char *e = avail >= 4 ? memmem(p, avail, "\r\n\r\n", 4) : NULL;
            if (e == NULL)
                return 0;
            size_t hlen = (size_t)(e - p) + 4;
            char save = p[hlen - 1];
            if (icap_head_parse(r, p, hlen - 1) != 0)
                return -1;
            p[hlen - 1] = save;
            w->rs += hlen;
            if (r->status == 100) {
                if (!r->cont_ok || r->cont_got)
                    return -1;
                r->cont_got = 1;
                seg_push(r, r->b->rest_enc, r->b->rest_enc_len);
                r->body_sent += r->b->body_len - r->b->prev_body_len;
                continue;
            }
            r->ps = P_SKIP;
            break;
        }
        case P_SKIP: {
            size_t n = avail < r->skip ? avail : r->skip;
            w->rs += n;
            r->skip -= n;
            if (r->skip > 0)
                return 0;
            r->ps = r->has_body ? P_CHUNK_SIZE : P_DONE;
            break;
        }
        case P_CHUNK_SIZE:
        case P_TRAILER:
            eol = avail >= 2 ? memmem(p, avail, "\r\n", 2) : NULL;
            if (eol == NULL)
                return avail > 4096 ? -1 : 0;
            if (r->ps == P_TRAILER) {
                r->ps = eol == p ? P_DONE : P_TRAILER;
            } else {
                char *end;
                unsigned long long sz = strtoull(p, &end, 16);
                if (end == p || (end < eol && *end != ';' && *end != ' ') || sz > (1ULL << 40))
                    return -1;
                r->chunk_rem = (size_t)sz;
                r->ps = sz == 0 ? P_TRAILER : P_CHUNK_DATA;
            }
            w->rs += (size_t)(eol - p) + 2;
            break;
        case P_CHUNK_DATA: {
            size_t n = avail < r->chunk_rem ? avail : r->chunk_rem;
            w->rs += n;
            r->chunk_rem -= n;
            r->body_recv += n;
            if (r->chunk_rem > 0)
                return 0;
            r->ps = P_CHUNK_CRLF;
            break;
        }
        case P_CHUNK_CRLF:
            if (avail < 2)
                return 0;
            if (p[0] != '\r' || p[1] != '\n')
                return -1;
            w->rs += 2;
            r->ps = P_CHUNK_SIZE;
            break;
        case P_DONE:
            break;
        }
    }
    return 0;
}

/* One request/response exchange on w's connection (opened if needed), bounded by <deadline>. */
static enum il_rc req_run(struct il_worker *w, const char *url, const struct il_body *b,
                          int64_t deadline, struct il_req *r)
{
    enum il_rc rc;
    size_t hl;

    memset(r, 0, sizeof(*r));
    r->ps = P_HDR;
    r->b = b;
    if (w->fd < 0 && (rc = conn_open(w, deadline)) != RQ_DONE)
        return rc;
    if (b != NULL && b->url != NULL)
        url = b->url;
    hl = req_build(w, url, b);
    if (hl == 0)
        return RQ_ERROR;
    seg_push(r, w->hdr, hl);
    if (g_opt.mode == IL_RESPMOD) {
        if (g_opt.preview > 0) {
            seg_push(r, b->prev_enc, b->prev_enc_len);
            r->body_sent = b->prev_body_len;
            r->cont_ok = !b->prev_is_eof;
        } else {
            seg_push(r, b->full_enc, b->full_enc_len);
            r->body_sent = b->body_len;
        }
    }
    for (;;) {
        struct pollfd pf = {.fd = w->fd, .events = POLLIN};
        if (out_pending(r))
            pf.events |= POLLOUT;
        if (now_ns() >= deadline)
            return RQ_TIMEOUT;
        if (aborted())
            return RQ_ABORT;
        int n = poll(&pf, 1, poll_ms(deadline));
        if (n < 0 && errno != EINTR)
            return RQ_ERROR;
        if (n <= 0)
            continue;
        if ((pf.revents & POLLOUT) && out_flush(w, r) != 0)
            return RQ_ERROR;
        if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (w->re == IL_RBUF) {
                if (w->rs == 0)
                    return RQ_ERROR; /* an ICAP header block over IL_RBUF */
                memmove(w->rbuf, w->rbuf + w->rs, w->re - w->rs);
                w->re -= w->rs;
                w->rs = 0;
            }
            ssize_t got = recv(w->fd, w->rbuf + w->re, IL_RBUF - w->re, 0);
            if (got < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    continue;
                return !r->got_any && w->reused ? RQ_IDLE_CLOSED : RQ_ERROR;
            }
            if (got == 0)
                return !r->got_any && w->reused ? RQ_IDLE_CLOSED : RQ_ERROR;
            r->got_any = 1;
            w->re += (size_t)got;
            if (in_parse(w, r) != 0)
                return RQ_ERROR;
            if (r->ps == P_DONE) {
                /* Answered before we finished sending, or extra bytes: the connection is
                 * out of step; the exchange itself counts. */
                if (out_pending(r) || w->rs != w->re)
                    r->conn_close = 1;
                w->rs = w->re = 0;
                return RQ_DONE;
            }
        }
    }
}

/* ---- workers ---- */

static void stats_count(struct il_stats *st, const struct il_req *r, int64_t lat_ns)
{
    st->done++;
    if (r->status == 204)
        st->st204++;
    else if (r->status == 200)
        st->st200++;
    else
        st->st_other++;
    st->st_by_code[r->status]++;
    st->body_sent += r->body_sent;
    st->body_recv += r->body_recv;
    hist_add(&st->hist, (uint64_t)lat_ns);
}

static void *worker_main(void *arg)
{
    struct il_worker *w = arg;
    struct il_req r;

    while (!atomic_load(&g_stop)) {
        if (g_opt.count > 0 && atomic_fetch_sub(&g_tickets, 1) <= 0)
            break;
        const char *url = g_opt.urls[w->url_i];
        w->url_i = (w->url_i + 1) % g_opt.nurls;
        /* Bodies round-robin over all connections: each is sent equally often. */
        const struct il_body *b =
            g_opt.nbodies > 0 ? &g_opt.bodies[atomic_fetch_add(&g_body_next, 1) % g_opt.nbodies]
                              : NULL;
        int64_t t0 = now_ns();
        int64_t deadline = t0 + (int64_t)g_opt.timeout_ms * 1000000;
        enum il_rc rc = req_run(w, url, b, deadline, &r);
        if (rc == RQ_IDLE_CLOSED) {
            /* The server closed an idle keep-alive connection: not an error, retry once. */
            conn_close(w);
            w->st.reconnects++;
            rc = req_run(w, url, b, deadline, &r);
            if (rc == RQ_IDLE_CLOSED)
                rc = RQ_ERROR;
        }
        int64_t t1 = now_ns();
        int in_window =
            t1 >= g_measure_start_ns && (g_measure_end_ns == 0 || t1 <= g_measure_end_ns);
        switch (rc) {
        case RQ_DONE:
            if (in_window) {
                stats_count(&w->st, &r, t1 - t0);
                w->last_done_ns = t1;
            }
            if (r.conn_close) {
                conn_close(w);
                w->st.reconnects++;
            } else {
                w->reused = 1;
            }
            break;
        case RQ_TIMEOUT:
        case RQ_ERROR:
            if (in_window) {
                if (rc == RQ_TIMEOUT)
                    w->st.timeouts++;
                else
                    w->st.errors++;
            }
            conn_close(w);
            if (rc == RQ_ERROR) {
                /* Do not spin on a refused connection. */
                struct timespec ts = {0, 10 * 1000000};
                nanosleep(&ts, NULL);
            }
            break;
        case RQ_ABORT:
            w->st.unfinished++;
            conn_close(w);
            break;
        case RQ_IDLE_CLOSED:
            conn_close(w);
            break;
        }
    }
    conn_close(w);
    return NULL;
}

/* ---- command line and report ---- */

static void usage(FILE *f)
{
    fputs("Usage: icapload [options]\n"
          "Closed-loop ICAP load generator: C keep-alive connections, one request in flight on\n"
          "each, one thread each. Loopback servers only.\n"
          "  -i HOST      ICAP server address, loopback only (default 127.0.0.1)\n"
          "  -P PORT      ICAP port (default 1344)\n"
          "  -s SERVICE   ICAP service name (default echo)\n"
          "  -m MODE      reqmod or respmod (default: respmod with -f, else reqmod)\n"
          "  -u URL       URL of the HTTP request (default http://www.example.com/)\n"
          "  -U FILE      file of URLs, one a line (# comments), used round-robin\n"
          "  -f FILE      RESPMOD: the HTTP response body to send\n"
          "  -T TYPE      RESPMOD: Content-Type of that body (default application/octet-stream)\n"
          "  -F LIST      RESPMOD: a list of bodies, one a line \"PATH [CONTENT-TYPE [URL]]\"\n"
          "               (# comments, paths relative to the list), sent round-robin\n"
          "  -p BYTES     RESPMOD preview size, 0 = no preview (default 0)\n"
          "  -a MODE      on, off or squid: send \"Allow: 204\" always (default), never, or as\n"
          "               Squid does: only for REQMOD and for a RESPMOD body under 64 KiB\n"
          "  -x HEADER    add \"Name: value\" to every ICAP request's headers (repeatable), e.g.\n"
          "               X-Client-IP or X-Client-Username as a proxy sends them\n"
          "  -c N         concurrent connections/threads, 1-256 (default 1)\n"
          "  -d SECONDS   measured duration, 1-600 (default 10 unless -n is given)\n"
          "  -n COUNT     stop after COUNT requests (all runs end within 600 s anyway)\n"
          "  -W SECONDS   warm-up before the measured window, not counted (default 0)\n"
          "  -t MS        per-request timeout, 1-600000 (default 5000)\n"
          "  -l LABEL     label printed with the results\n"
          "  --json       print a JSON object on stdout (the human line goes to stderr)\n"
          "  -h, --help   this text\n"
          "Exit status: 0 when at least one request completed, 1 when none did, 2 on bad usage.\n",
          f);
}

static long num_arg(const char *s, const char *what, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        die("%s: \"%s\" is not a whole number from %ld to %ld", what, s, lo, hi);
    return v;
}

static void opts_parse(struct il_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'J'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *body = NULL, *body_list = NULL, *url = NULL, *url_file = NULL, *mode = NULL;
    int c;

    o->host = "127.0.0.1";
    o->port = 1344;
    o->service = "echo";
    o->content_type = "application/octet-stream";
    o->allow204 = 1;
    o->conc = 1;
    o->timeout_ms = 5000;
    o->label = "";
    while ((c = getopt_long(argc, argv, "i:P:s:m:u:U:f:F:T:p:a:x:c:d:n:W:t:l:h", longopts, NULL)) !=
           -1) {
        switch (c) {
        case 'i':
            o->host = optarg;
            break;
        case 'P':
            o->port = (int)num_arg(optarg, "-P", 1, 65535);
            break;
        case 's':
            o->service = optarg;
            break;
        case 'm':
            mode = optarg;
            break;
        case 'u':
            url = optarg;
            break;
        case 'U':
            url_file = optarg;
            break;
        case 'f':
            body = optarg;
            break;
        case 'F':
            body_list = optarg;
            break;
        case 'T':
            o->content_type = optarg;
            break;
        case 'x': {
            size_t have = strlen(o->xheaders);
            if (strchr(optarg, ':') == NULL || strpbrk(optarg, "\r\n") != NULL ||
                have + strlen(optarg) + 3 > sizeof(o->xheaders)) {
                fprintf(stderr, "icapload: -x wants one \"Name: value\" line (4 KiB in all)\n");
                exit(2);
            }
            snprintf(o->xheaders + have, sizeof(o->xheaders) - have, "%s\r\n", optarg);
            break;
        }
        case 'p':
            o->preview = num_arg(optarg, "-p", 0, 1024 * 1024);
            break;
        case 'a':
            if (strcmp(optarg, "on") == 0)
                o->allow204 = 1;
            else if (strcmp(optarg, "off") == 0)
                o->allow204 = 0;
            else if (strcmp(optarg, "squid") == 0)
                o->allow204 = IL_ALLOW204_SQUID;
            else
                die("-a: \"%s\": use on, off or squid", optarg);
            break;
        case 'c':
            o->conc = (int)num_arg(optarg, "-c", 1, IL_MAX_THREADS);
            break;
        case 'd':
            o->duration_s = num_arg(optarg, "-d", 1, IL_MAX_SECONDS);
            break;
        case 'n':
            o->count = num_arg(optarg, "-n", 1, 1000000000L);
            break;
        case 'W':
            o->warmup_s = num_arg(optarg, "-W", 0, IL_MAX_SECONDS);
            break;
        case 't':
            o->timeout_ms = num_arg(optarg, "-t", 1, 600000);
            break;
        case 'l':
            o->label = optarg;
            break;
        case 'J':
            o->json = 1;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (optind < argc)
        die("unexpected argument \"%s\" (see -h)", argv[optind]);
    if (mode == NULL)
        o->mode = body != NULL || body_list != NULL ? IL_RESPMOD : IL_REQMOD;
    else if (strcasecmp(mode, "reqmod") == 0)
        o->mode = IL_REQMOD;
    else if (strcasecmp(mode, "respmod") == 0)
        o->mode = IL_RESPMOD;
    else
        die("-m: \"%s\": use reqmod or respmod", mode);
    if (body != NULL && body_list != NULL)
        die("give -f or -F, not both");
    if (o->mode == IL_RESPMOD && body == NULL && body_list == NULL)
        die("respmod needs a body file (-f) or a list of them (-F)");
    if (o->mode == IL_REQMOD && (body != NULL || body_list != NULL || o->preview > 0))
        die("-f, -F and -p are for respmod only");
    if (url != NULL && url_file != NULL)
        die("give -u or -U, not both");
    for (const char *p = o->service; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            die("-s: service name with spaces or control bytes");
    for (const char *p = o->content_type; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            die("-T: content type with control bytes");
    if (o->duration_s == 0 && o->count == 0)
        o->duration_s = 10;
    if (o->warmup_s + o->duration_s > IL_MAX_SECONDS)
        die("warm-up plus duration is over %d s", IL_MAX_SECONDS);
    if (url_file != NULL)
        urls_load(o, url_file);
    else
        urls_add(o, url != NULL ? url : "http://www.example.com/", "-u");
    if (body != NULL)
        body_prepare(o, body, o->content_type, NULL);
    else if (body_list != NULL)
        bodies_load(o, body_list);
    addr_resolve(o);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void report(const struct il_stats *t, double elapsed_s)
{
    const struct il_opts *o = &g_opt;
    double rps = elapsed_s > 0 ? (double)t->done / elapsed_s : 0;
    double mib_s = elapsed_s > 0 ? (double)t->body_sent / elapsed_s / (1024.0 * 1024.0) : 0;
    double p50 = hist_quantile(&t->hist, 0.50) / 1e6, p90 = hist_quantile(&t->hist, 0.90) / 1e6;
    double p99 = hist_quantile(&t->hist, 0.99) / 1e6, mx = (double)t->hist.max_ns / 1e6;
    double mean = t->hist.n ? (double)(t->hist.sum_ns / t->hist.n) / 1e6 : 0;
    const char *mode = o->mode == IL_REQMOD ? "REQMOD" : "RESPMOD";

    fprintf(o->json ? stderr : stdout,
            "%s%s%s %s c=%d %.1fs: %" PRIu64 " responses (204: %" PRIu64 ", 200: %" PRIu64
            ", other: %" PRIu64 "), errors %" PRIu64 ", timeouts %" PRIu64 ", unfinished %" PRIu64
            "; %.1f req/s, %.1f MiB/s body sent; latency ms p50 %.3f p90 %.3f p99 %.3f max %.3f\n",
            o->label, *o->label ? ": " : "", mode, o->service, o->conc, elapsed_s, t->done,
            t->st204, t->st200, t->st_other, t->errors, t->timeouts, t->unfinished, rps, mib_s, p50,
            p90, p99, mx);
    if (!o->json)
        return;
    printf("{\"label\":");
    json_str(stdout, o->label);
    printf(",\"mode\":\"%s\",\"service\":", mode);
    json_str(stdout, o->service);
    printf(
        ",\"concurrency\":%d,\"elapsed_s\":%.3f,\"body_bytes\":%zu,\"bodies\":%zu,\"preview\":%ld,"
        "\"allow204\":%s,\"timeout_ms\":%ld,\"requests\":%" PRIu64 ",\"status\":{\"200\":%" PRIu64
        ",\"204\":%" PRIu64 ",\"other\":%" PRIu64 ",\"by_code\":{",
        o->conc, elapsed_s, o->nbodies == 1 ? o->bodies[0].body_len : o->bodies_bytes, o->nbodies,
        o->preview,
        o->allow204 == IL_ALLOW204_SQUID ? "\"squid\""
        : o->allow204                    ? "true"
                                         : "false",
        o->timeout_ms, t->done, t->st200, t->st204, t->st_other);
    int first = 1;
    for (int i = 100; i < 600; i++)
        if (t->st_by_code[i] != 0) {
            printf("%s\"%d\":%" PRIu64, first ? "" : ",", i, t->st_by_code[i]);
            first = 0;
        }
    printf("}},\"errors\":%" PRIu64 ",\"timeouts\":%" PRIu64 ",\"unfinished\":%" PRIu64
           ",\"reconnects\":%" PRIu64 ",\"rps\":%.1f,\"body_bytes_sent\":%" PRIu64
           ",\"body_bytes_received\":%" PRIu64
           ",\"body_mib_per_s\":%.2f,\"latency_ms\":{\"p50\":%.4f,\"p90\":%.4f,\"p99\":%.4f,"
           "\"max\":%.4f,\"mean\":%.4f}}\n",
           t->errors, t->timeouts, t->unfinished, t->reconnects, rps, t->body_sent, t->body_recv,
           mib_s, p50, p90, p99, mx, mean);
}

int main(int argc, char **argv)
{
    struct il_worker *ws;
    struct il_stats *tot;
    int started = 0, rc = 1;

    signal(SIGPIPE, SIG_IGN);
    opts_parse(&g_opt, argc, argv);
    ws = calloc((size_t)g_opt.conc, sizeof(*ws));
    tot = calloc(1, sizeof(*tot));
    if (ws == NULL || tot == NULL)
        die("out of memory");

    int64_t t0 = now_ns();
    g_measure_start_ns = t0 + (int64_t)g_opt.warmup_s * 1000000000;
    /* Every run ends: by its duration, or at the hard cap of IL_MAX_SECONDS. */
    long run_s = g_opt.duration_s > 0 ? g_opt.duration_s : IL_MAX_SECONDS - g_opt.warmup_s;
    int64_t end = g_measure_start_ns + (int64_t)run_s * 1000000000;
    g_measure_end_ns = end;
    atomic_store(&g_tickets, g_opt.count > 0 ? g_opt.count : 0);

    for (int i = 0; i < g_opt.conc; i++) {
        struct il_worker *w = &ws[i];
        w->id = i;
        w->fd = -1;
        w->url_i = (size_t)i % g_opt.nurls;
        w->rbuf = malloc(IL_RBUF + 1);
        w->hdr_cap = 32768;
        w->hdr = malloc(w->hdr_cap);
        if (w->rbuf == NULL || w->hdr == NULL)
            die("out of memory");
        if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
            fprintf(stderr, "icapload: could not start thread %d: %s\n", i, strerror(errno));
            break;
        }
        started++;
    }
    if (started == 0)
        die("no worker thread started");

    /* Wait for the end of the window, or for -n to be used up (all workers gone). */
    for (;;) {
        struct timespec ts = {0, 20 * 1000000};
        if (now_ns() >= end)
            break;
        if (g_opt.count > 0 && atomic_load(&g_tickets) <= 0) {
            /* Tickets are gone: workers stop after their last request. */
            int alive = 0;
            for (int i = 0; i < started; i++)
                if (!ws[i].joined && pthread_tryjoin_np(ws[i].tid, NULL) == 0)
                    ws[i].joined = 1;
                else if (!ws[i].joined)
                    alive++;
            if (alive == 0)
                break;
        }
        nanosleep(&ts, NULL);
    }
    int64_t finished = now_ns();
    atomic_store(&g_stop, 1);
    atomic_store(&g_abort_at_ns, (long long)end);
    int64_t last = 0;
    for (int i = 0; i < started; i++) {
        if (!ws[i].joined)
            pthread_join(ws[i].tid, NULL);
        tot->done += ws[i].st.done;
        tot->st204 += ws[i].st.st204;
        tot->st200 += ws[i].st.st200;
        tot->st_other += ws[i].st.st_other;
        for (int k = 0; k < 600; k++)
            tot->st_by_code[k] += ws[i].st.st_by_code[k];
        tot->errors += ws[i].st.errors;
        tot->timeouts += ws[i].st.timeouts;
        tot->reconnects += ws[i].st.reconnects;
        tot->unfinished += ws[i].st.unfinished;
        tot->body_sent += ws[i].st.body_sent;
        tot->body_recv += ws[i].st.body_recv;
        hist_merge(&tot->hist, &ws[i].st.hist);
        if (ws[i].last_done_ns > last)
            last = ws[i].last_done_ns;
        free(ws[i].rbuf);
        free(ws[i].hdr);
    }
    /* Duration mode: the whole window; -n mode ended early: until the last response. */
    int64_t stop = finished >= end ? end : (last > 0 ? last : finished);
    if (stop < g_measure_start_ns)
        stop = g_measure_start_ns;
    report(tot, (double)(stop - g_measure_start_ns) / 1e9);
    rc = tot->done > 0 ? 0 : 1;

    for (size_t i = 0; i < g_opt.nurls; i++)
        free(g_opt.urls[i]);
    free(g_opt.urls);
    for (size_t i = 0; i < g_opt.nbodies; i++) {
        free(g_opt.bodies[i].ctype);
        free(g_opt.bodies[i].url);
        free(g_opt.bodies[i].full_enc);
        free(g_opt.bodies[i].prev_enc);
        free(g_opt.bodies[i].rest_enc);
    }
    free(g_opt.bodies);
    free(ws);
    free(tot);
    return rc;
}
