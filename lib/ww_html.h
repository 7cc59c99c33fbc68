/* lib/ww_html.h - HTML escaping and the block-page template. */
#ifndef WW_HTML_H
#define WW_HTML_H

#include <stddef.h>

/* Escapes & < > " ' (and drops NUL/control bytes other than TAB/LF) from <in> into <out>,
 * always NUL-terminated, cut at a whole entity. Returns the length written. */
size_t ww_html_escape(const char *in, char *out, size_t outlen);

struct ww_page_var {
    const char *name;  /* placeholder {{name}} in the template */
    const char *value; /* raw text; escaped when inserted; NULL = "" */
};

/* Fills <tmpl>: each {{name}} is replaced by the HTML-escaped value of that var; unknown
 * placeholders become "". *out is malloc'd (caller frees), *outlen its length.
 * WW_OK or WW_ENOMEM. */
int ww_page_render(const char *tmpl, const struct ww_page_var *vars, size_t nvars, char **out,
                   size_t *outlen);

/* Reads a whole template file (<= 1 MiB) into a malloc'd string; WW_EIO with reason in err. */
int ww_page_load(const char *path, char **out, char *err, size_t errlen);

#endif
