/* lib/ww_who.c - identity from the proxy's ICAP headers, normalised for policy matching. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ww_common.h"
#include "ww_who.h"

void ww_who_init(struct ww_who *who)
{
    memset(who, 0, sizeof(*who));
}

int ww_who_parse_ip(const char *text, unsigned char ip16[16])
{
    char buf[64];
    size_t len = strlen(text);
    struct in_addr v4;

    if (len >= sizeof(buf) || len == 0)
        return WW_EINVAL;
    if (text[0] == '[') { /* "[2001:db8::1]" */
        if (len < 3 || text[len - 1] != ']')
            return WW_EINVAL;
        memcpy(buf, text + 1, len - 2);
        buf[len - 2] = '\0';
    } else {
        memcpy(buf, text, len + 1);
    }
    if (inet_pton(AF_INET, buf, &v4) == 1) {
        memset(ip16, 0, 10);
        ip16[10] = ip16[11] = 0xff;
        memcpy(ip16 + 12, &v4, 4);
        return WW_OK;
    }
    if (inet_pton(AF_INET6, buf, ip16) == 1)
        return WW_OK;
    return WW_EINVAL;
}

static int who_is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* <in, len> trimmed of spaces and tabs. */
static void who_trim(const char **in, size_t *len)
{
    while (*len > 0 && who_is_space(**in)) {
        (*in)++;
        (*len)--;
    }
    while (*len > 0 && who_is_space((*in)[*len - 1]))
        (*len)--;
}

int ww_who_set_ip(struct ww_who *who, const char *value)
{
    const char *v = value;
    size_t len = strlen(value), n = 0;
    char text[sizeof(who->ip_text)];

    who_trim(&v, &len);
    for (size_t i = 0; i < len && n + 1 < sizeof(text); i++)
        if ((unsigned char)v[i] > ' ' && (unsigned char)v[i] < 0x7f)
            text[n++] = v[i];
    text[n] = '\0';
    memcpy(who->ip_text, text, n + 1);
    who->has_ip = 0;
    if (n != len || ww_who_parse_ip(text, who->ip) != WW_OK)
        return WW_EINVAL;
    who->has_ip = 1;
    return WW_OK;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* 1 when <s> is valid UTF-8 (a name decoded from base64 is text, never random bytes). */
static int who_utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p != '\0') {
        int more = *p < 0x80             ? 0
                   : (*p & 0xe0) == 0xc0 ? 1
                   : (*p & 0xf0) == 0xe0 ? 2
                   : (*p & 0xf8) == 0xf0 ? 3
                                         : -1;
        if (more < 0 || (more == 1 && *p < 0xc2))
            return 0;
        p++;
        for (; more > 0; more--, p++)
            if ((*p & 0xc0) != 0x80)
                return 0;
    }
    return 1;
}

/* Strict base64 (RFC 4648, padding optional) of printable text: WW_OK and the text in <out>, or
 * WW_EINVAL when <in> is not base64 or decodes to anything but printable ASCII/UTF-8 bytes. */
static int who_b64_text(const char *in, size_t len, char *out, size_t outlen)
{
    unsigned int acc = 0;
    int bits = 0;
    size_t n = 0;

    while (len > 0 && in[len - 1] == '=')
        len--;
    if (len == 0 || len % 4 == 1)
        return WW_EINVAL;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            return WW_EINVAL;
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            unsigned char ch = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
            if (ch < 0x20 || ch == 0x7f || n + 1 >= outlen)
                return WW_EINVAL;
            out[n++] = (char)ch;
        }
    }
    out[n] = '\0';
    return who_utf8_ok(out) ? WW_OK : WW_EINVAL;
}

/* The name in <in, len> normalised into <out>: URI forms unwrapped, lower case. */
static int who_norm(const char *in, size_t len, char *out, size_t outlen)
{
    const char *sep;
    size_t n = 0;
    int winnt = 0;

    who_trim(&in, &len);
    sep = len > 3 ? memchr(in, ':', len) : NULL;
    if (sep != NULL && (size_t)(sep - in) + 3 <= len && sep[1] == '/' && sep[2] == '/') {
        /* "Local://alice", "WinNT://DOMAIN/alice", "scheme://x" (draft-stecher-icap-subid) */
        winnt = sep - in == 5 && strncasecmp(in, "winnt", 5) == 0;
        len -= (size_t)(sep + 3 - in);
        in = sep + 3;
    }
    if (len == 0 || len >= outlen)
        return WW_EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch < 0x20 || ch == 0x7f)
            return WW_EINVAL;
        if (ch >= 'A' && ch <= 'Z')
            ch = (unsigned char)(ch - 'A' + 'a');
        if (winnt && ch == '/') {
            ch = '\\'; /* WinNT://DOMAIN/alice is DOMAIN\alice */
            winnt = 0;
        }
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    return WW_OK;
}

int ww_who_norm_name(const char *name, char *out, size_t outlen)
{
    return who_norm(name, strlen(name), out, outlen);
}

int ww_who_set_user(struct ww_who *who, const char *value, int base64)
{
    char decoded[WW_WHO_NAME_MAX];
    const char *v = value;
    size_t len = strlen(value);

    who->user[0] = '\0';
    who_trim(&v, &len);
    if (base64 && who_b64_text(v, len, decoded, sizeof(decoded)) == WW_OK) {
        v = decoded;
        len = strlen(decoded);
    }
    if (who_norm(v, len, who->user, sizeof(who->user)) != WW_OK) {
        who->user[0] = '\0';
        return WW_EINVAL;
    }
    return WW_OK;
}

int ww_who_add_groups(struct ww_who *who, const char *value, int base64)
{
    char decoded[4096];
    const char *v = value, *item;
    size_t len = strlen(value);
    int added = 0;

    who_trim(&v, &len);
    if (base64 && who_b64_text(v, len, decoded, sizeof(decoded)) == WW_OK) {
        v = decoded;
        len = strlen(decoded);
    }
    for (item = v; item < v + len;) {
        const char *end = memchr(item, ',', (size_t)(v + len - item));
        size_t ilen;

        if (end == NULL)
            end = v + len;
        ilen = (size_t)(end - item);
        who_trim(&item, &ilen);
        if (ilen > 0) {
            if (who->ngroups < WW_WHO_GROUPS_MAX &&
                who_norm(item, ilen, who->groups[who->ngroups], WW_WHO_NAME_MAX) == WW_OK) {
                who->ngroups++;
                added++;
            } else {
                who->groups_dropped++;
            }
        }
        item = end + 1;
    }
    return added > 0 ? WW_OK : WW_EINVAL;
}

void ww_who_bare_name(const char *name, char *out, size_t outlen)
{
    const char *start = strrchr(name, '\\');
    const char *at;
    size_t len;

    start = start != NULL ? start + 1 : name;
    at = strchr(start, '@');
    len = at != NULL ? (size_t)(at - start) : strlen(start);
    if (outlen == 0)
        return;
    if (len >= outlen)
        len = outlen - 1;
    memcpy(out, start, len);
    out[len] = '\0';
}

int ww_who_add_header(struct ww_who *who, const struct ww_conf *conf, const char *name,
                      const char *value)
{
    struct ww_who tmp;

    if (name == NULL || value == NULL)
        return WW_OK;
    if (strcasecmp(name, "X-Client-IP") == 0) {
        if (who->has_ip || who->ip_text[0] != '\0')
            return WW_OK; /* the first one counts */
        return ww_who_set_ip(who, value);
    }
    if (strcasecmp(name, "X-Client-Username") == 0 ||
        strcasecmp(name, "X-Authenticated-User") == 0) {
        int rank = name[2] == 'C' || name[2] == 'c' ? 2 : 1;
        /* X-Authenticated-User: base64 as the ICAP draft has it (plain text is taken when the
         * value is not base64 text), or plain only: a proxy that sends it unencoded leaves no
         * doubt then that a login "YWRtaW4" is not "admin" */
        int base64 =
            rank == 2 ? conf->identity.username_base64 : !conf->identity.authenticated_user_plain;
        if (who->user_rank >= rank)
            return WW_OK;
        ww_who_init(&tmp);
        if (ww_who_set_user(&tmp, value, base64) != WW_OK)
            return WW_EINVAL;
        memcpy(who->user, tmp.user, sizeof(who->user));
        who->user_rank = rank;
        return WW_OK;
    }
    if (strcasecmp(name, "X-Authenticated-Groups") == 0)
        return ww_who_add_groups(who, value, conf->identity.groups_base64);
    return WW_OK;
}

void ww_who_format(const struct ww_who *who, char *out, size_t outlen)
{
    size_t n;

    snprintf(out, outlen, "ip=%s user=%s groups=", who->has_ip ? who->ip_text : "-",
             who->user[0] != '\0' ? who->user : "-");
    n = strlen(out);
    for (int i = 0; i < who->ngroups && n + 1 < outlen; i++) {
        snprintf(out + n, outlen - n, "%s%s", i > 0 ? "," : "", who->groups[i]);
        n = strlen(out);
    }
    if (who->ngroups == 0 && n + 1 < outlen)
        snprintf(out + n, outlen - n, "-");
}
