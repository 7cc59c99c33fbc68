/* lib/ww_sig.c - placeholder until body signatures land: every .ndb line is unsupported. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "ww_common.h"
#include "ww_sig.h"

struct ww_sigdb {
    size_t n;
};
struct ww_sigscan {
    int unused;
};

struct ww_sigdb *ww_sigdb_create(void)
{
    return calloc(1, sizeof(struct ww_sigdb));
}
void ww_sigdb_free(struct ww_sigdb *db)
{
    free(db);
}
int ww_sigdb_add_line(struct ww_sigdb *db, const char *line, char *err, size_t errlen)
{
    if (line[0] == '\0' || line[0] == '#' || line[0] == '\n' || line[0] == '\r')
        return WW_OK;
    snprintf(err, errlen, "body signatures not supported yet");
    return WW_EINVAL;
}
int ww_sigdb_compile(struct ww_sigdb *db)
{
    return WW_OK;
}
size_t ww_sigdb_count(const struct ww_sigdb *db)
{
    return db ? db->n : 0;
}
size_t ww_sigdb_memory(const struct ww_sigdb *db)
{
    return sizeof(*db);
}
struct ww_sigscan *ww_sigscan_create(const struct ww_sigdb *db, int64_t total_size)
{
    return calloc(1, sizeof(struct ww_sigscan));
}
const char *ww_sigscan_feed(struct ww_sigscan *s, const unsigned char *data, size_t len)
{
    return NULL;
}
const char *ww_sigscan_finish(struct ww_sigscan *s)
{
    return NULL;
}
void ww_sigscan_free(struct ww_sigscan *s)
{
    free(s);
}
