/* lib/ww_html.c - HTML escaping and the block-page template. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ww_common.h"
#include "ww_html.h"

#define PAGE_MAX (1024 * 1024)

/* The replacement for one byte: an entity, "" to drop it, or NULL to copy it. */
static const char *html_entity(unsigned char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    case '\t':
    case '\n':
        return NULL;
    default:
        return c < 0x20 || c == 0x7f ? "" : NULL;
    }
}

size_t ww_html_escape(const char *in, char *out, size_t outlen)
{
    size_t len = 0;

    if (out == NULL || outlen == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)(in != NULL ? in : ""); *p != '\0'; p++) {
        const char *ent = html_entity(*p);
        size_t n = ent != NULL ? strlen(ent) : 1;
        if (len + n >= outlen)
            break; /* never half an entity */
        if (ent != NULL)
            memcpy(out + len, ent, n);
        else
            out[len] = (char)*p;
        len += n;
    }
    out[len] = '\0';
    return len;
}

/* Growable output for ww_page_render. */
struct page_buf {
    char *data;
    size_t len, cap;
};

static int page_put(struct page_buf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap * 2;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (d == NULL)
            return WW_ENOMEM;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return WW_OK;
}

static int page_put_escaped(struct page_buf *b, const char *value)
{
    int rc = WW_OK;

    for (const unsigned char *p = (const unsigned char *)value; *p != '\0' && rc == WW_OK; p++) {
        const char *ent = html_entity(*p);
        rc = ent != NULL ? page_put(b, ent, strlen(ent)) : page_put(b, (const char *)p, 1);
    }
    return rc;
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

int ww_page_render(const char *tmpl, const struct ww_page_var *vars, size_t nvars, char **out,
                   size_t *outlen)
{
    struct page_buf b = {NULL, 0, 256};
    int rc = WW_ENOMEM;
    const char *p = tmpl != NULL ? tmpl : "";

    *out = NULL;
    if (outlen != NULL)
        *outlen = 0;
    b.data = malloc(b.cap);
    if (b.data == NULL)
        goto cleanup;
    b.data[0] = '\0';
    while (*p != '\0') {
        const char *open = strstr(p, "{{");
        if (open == NULL) {
            rc = page_put(&b, p, strlen(p));
            if (rc != WW_OK)
                goto cleanup;
            break;
        }
        rc = page_put(&b, p, (size_t)(open - p));
        if (rc != WW_OK)
            goto cleanup;
        /* "{{ name }}": spaces around the name are allowed. Anything else is not a
         * placeholder and is copied as written. */
        const char *n = open + 2;
        while (*n == ' ')
            n++;
        const char *ne = n;
        while (is_name_char(*ne))
            ne++;
        const char *close = ne;
        while (*close == ' ')
            close++;
        if (ne == n || strncmp(close, "}}", 2) != 0) {
            /* One '{' only: "{{{a}}}" is a literal '{' then the placeholder. */
            rc = page_put(&b, open, 1);
            if (rc != WW_OK)
                goto cleanup;
            p = open + 1;
            continue;
        }
        for (size_t i = 0; i < nvars; i++) {
            if (vars[i].name != NULL && strlen(vars[i].name) == (size_t)(ne - n) &&
                memcmp(vars[i].name, n, (size_t)(ne - n)) == 0) {
                if (vars[i].value != NULL) {
                    rc = page_put_escaped(&b, vars[i].value);
                    if (rc != WW_OK)
                        goto cleanup;
                }
                break; /* the first var of a name wins; unknown names become "" */
            }
        }
        p = close + 2;
    }
    rc = WW_OK;
    *out = b.data;
    if (outlen != NULL)
        *outlen = b.len;
    b.data = NULL;
cleanup:
    free(b.data);
    return rc;
}

int ww_page_load(const char *path, char **out, char *err, size_t errlen)
{
    FILE *fp = NULL;
    char *data = NULL;
    int rc = WW_EIO;
    struct stat st;

    *out = NULL;
    if (err == NULL)
        errlen = 0; /* snprintf(NULL, 0, ...) writes nothing */
    if (path == NULL || path[0] == '\0') {
        snprintf(err, errlen, "no template file given");
        goto cleanup;
    }
    fp = fopen(path, "rb");
    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        goto cleanup;
    }
    if (st.st_size > PAGE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes", path, PAGE_MAX);
        goto cleanup;
    }
    rc = WW_ENOMEM;
    data = malloc(PAGE_MAX + 2);
    if (data == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto cleanup;
    }
    rc = WW_EIO;
    /* Read to EOF rather than trusting st_size: the file may grow while we read. */
    size_t n = fread(data, 1, PAGE_MAX + 1, fp);
    if (ferror(fp)) {
        snprintf(err, errlen, "%s: read error", path);
        goto cleanup;
    }
    if (n > PAGE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes", path, PAGE_MAX);
        goto cleanup;
    }
    if (memchr(data, '\0', n) != NULL) {
        snprintf(err, errlen, "%s: contains a NUL byte", path);
        goto cleanup;
    }
    data[n] = '\0';
    char *shrunk = realloc(data, n + 1);
    *out = shrunk != NULL ? shrunk : data;
    data = NULL;
    rc = WW_OK;
cleanup:
    free(data);
    if (fp != NULL)
        fclose(fp);
    return rc;
}
