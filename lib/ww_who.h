/* lib/ww_who.h - who is asking: the client address, user name and groups that the proxy puts in
 * the ICAP request headers (X-Client-IP, X-Client-Username / X-Authenticated-User,
 * X-Authenticated-Groups), normalised for policy matching.
 *
 * Only the ICAP request headers may feed this: the encapsulated HTTP request is the client's own
 * text, and a client can write any X-Client-IP or X-Authenticated-User into it. */
#ifndef WW_WHO_H
#define WW_WHO_H

#include <stddef.h>

#include "ww_conf.h"

#define WW_WHO_NAME_MAX 256  /* a user or group name, normalised, with its NUL */
#define WW_WHO_GROUPS_MAX 32 /* groups kept from the headers; more are dropped (counted) */

/* Plain data: fill with ww_who_init() and the setters, then read. */
struct ww_who {
    int has_ip;
    unsigned char ip[16];       /* IPv6, or an IPv4 address as ::ffff:a.b.c.d */
    char ip_text[64];           /* as received, cleaned, for logs ("" = none) */
    char user[WW_WHO_NAME_MAX]; /* "alice", "example\\alice", "alice@example.org"; "" = none */
    char groups[WW_WHO_GROUPS_MAX][WW_WHO_NAME_MAX];
    int ngroups;
    int groups_dropped; /* names past WW_WHO_GROUPS_MAX or too long */
    int user_rank;      /* which header gave <user>: 2 X-Client-Username, 1 X-Authenticated-User */
};

void ww_who_init(struct ww_who *who); /* nobody: no address, no user, no group */

/* Parses an address: "10.1.2.3", "2001:db8::1", "[2001:db8::1]", "::ffff:10.1.2.3" (the same as
 * 10.1.2.3). WW_OK and 16 bytes in <ip16>, or WW_EINVAL. Thread-safe. */
int ww_who_parse_ip(const char *text, unsigned char ip16[16]);

/* X-Client-IP. WW_OK, or WW_EINVAL (unparseable: the request has no address, ip_text keeps the
 * cleaned value for the log). */
int ww_who_set_ip(struct ww_who *who, const char *value);

/* A user header's value. <base64>: 1 = the value is base64 (Squid's icap_client_username_encode
 * on, the ICAP draft's X-Authenticated-User), and a value that does not decode to printable text
 * is taken as plain (c-icap and other clients send plain names); 0 = plain. The draft's URI forms
 * become names: "Local://alice" -> "alice", "WinNT://EXAMPLE/alice" -> "example\\alice"; other
 * "scheme://x" -> "x". Lower-cased. WW_OK, or WW_EINVAL for an empty or unusable name (then no
 * user is set). */
int ww_who_set_user(struct ww_who *who, const char *value, int base64);

/* One X-Authenticated-Groups header: names separated by ',' (each may be a URI form as above).
 * <base64>: 1 = the value may be base64 of that list (the ICAP draft; taken as plain when it does
 * not decode to text); 0 = plain, as Squid's adaptation_meta sends it. Adds to the groups already
 * set (several headers). WW_OK, or WW_EINVAL when nothing usable was found. */
int ww_who_add_groups(struct ww_who *who, const char *value, int base64);

/* One ICAP request header (name case-insensitive). X-Client-IP (the first one counts),
 * X-Client-Username (base64 when <conf> identity.username_base64), X-Authenticated-User (base64
 * or plain, plain only with identity.authenticated_user_plain; X-Client-Username wins over it
 * whatever the order), X-Authenticated-Groups (every
 * one adds; base64 when identity.groups_base64). Any other header is ignored. WW_OK, or WW_EINVAL
 * for an identity header whose value is unusable (the request keeps what it had). Feed it the
 * ICAP headers only, never the encapsulated HTTP request's. */
int ww_who_add_header(struct ww_who *who, const struct ww_conf *conf, const char *name,
                      const char *value);

/* "ip=10.1.2.3 user=alice groups=staff,admins" for logs and url-check: "-" for what is missing.
 * Control bytes cannot appear (the setters refuse them). */
void ww_who_format(const struct ww_who *who, char *out, size_t outlen);

/* <name> without its "domain\\" prefix or "@realm" suffix, into <out> (a bare name stays). */
void ww_who_bare_name(const char *name, char *out, size_t outlen);

/* Normalises a name as written in a config (lower case, URI forms as above) into <out>: WW_OK or
 * WW_EINVAL (empty, control bytes, too long). */
int ww_who_norm_name(const char *name, char *out, size_t outlen);

#endif
