/* lib/ww_blockagg.c - block events aggregated per process (see ww_blockagg.h). */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ww_blockagg.h"

struct agg_entry {
    struct ww_block_row row; /* count: blocks not yet written */
    uint64_t hash;
    time_t window; /* when the last row of this key was written (or the key was new) */
    int used;
    int fresh; /* new key: written at the next flush whatever the interval */
};

struct ww_blockagg {
    pthread_mutex_t mtx;
    int interval_s;
    size_t max_keys, cap; /* cap: table slots, a power of two >= 2 * max_keys */
    size_t used;
    struct agg_entry *tab;
    struct agg_entry *tmp; /* the flush's rebuild, same size */
    struct ww_block_row *out;
    uint64_t over_count, over_keys; /* blocks (and key additions) that did not fit */
    time_t over_first, over_last;
};

struct ww_blockagg *ww_blockagg_create(int interval_s, size_t max_keys)
{
    struct ww_blockagg *a = calloc(1, sizeof(*a));

    if (a == NULL)
        return NULL;
    a->interval_s = interval_s >= 1 ? interval_s : 1;
    a->max_keys = max_keys > 0 ? max_keys : WW_BLOCKAGG_KEYS;
    a->cap = 16;
    while (a->cap < 2 * a->max_keys)
        a->cap *= 2;
    a->tab = calloc(a->cap, sizeof(*a->tab));
    a->tmp = calloc(a->cap, sizeof(*a->tmp));
    a->out = calloc(a->max_keys + 1, sizeof(*a->out));
    if (a->tab == NULL || a->tmp == NULL || a->out == NULL ||
        pthread_mutex_init(&a->mtx, NULL) != 0) {
        free(a->tab);
        free(a->tmp);
        free(a->out);
        free(a);
        return NULL;
    }
    return a;
}

void ww_blockagg_free(struct ww_blockagg *a)
{
    if (a == NULL)
        return;
    pthread_mutex_destroy(&a->mtx);
    free(a->tab);
    free(a->tmp);
    free(a->out);
    free(a);
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s != NULL && *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return (h ^ 0xff) * 0x100000001b3ULL; /* a separator: ("ab","c") differs from ("a","bc") */
}

static void copy_cut(char *dst, size_t dstlen, const char *src)
{
    snprintf(dst, dstlen, "%s", src != NULL ? src : "");
}

static int entry_is(const struct agg_entry *e, uint64_t h, const struct ww_block_row *k)
{
    return e->hash == h && strcmp(e->row.url, k->url) == 0 &&
           strcmp(e->row.policy, k->policy) == 0 && strcmp(e->row.reason, k->reason) == 0 &&
           strcmp(e->row.source, k->source) == 0;
}

void ww_blockagg_add(struct ww_blockagg *a, const char *source, const char *url, const char *policy,
                     const char *reason, time_t now)
{
    struct ww_block_row k;
    uint64_t h;
    size_t i;

    if (a == NULL)
        return;
    /* The key as it will be stored (cut to the row's sizes), so long URLs compare as kept. */
    copy_cut(k.source, sizeof(k.source), source);
    copy_cut(k.url, sizeof(k.url), url);
    copy_cut(k.policy, sizeof(k.policy), policy != NULL && policy[0] ? policy : "default");
    copy_cut(k.reason, sizeof(k.reason), reason);
    h = fnv(fnv(fnv(fnv(0xcbf29ce484222325ULL, k.source), k.url), k.policy), k.reason);
    pthread_mutex_lock(&a->mtx);
    for (i = (size_t)h & (a->cap - 1); a->tab[i].used; i = (i + 1) & (a->cap - 1)) {
        struct agg_entry *e = &a->tab[i];
        if (entry_is(e, h, &k)) {
            if (e->row.count == 0)
                e->row.first = now;
            e->row.count++;
            e->row.last = now;
            pthread_mutex_unlock(&a->mtx);
            return;
        }
    }
    if (a->used >= a->max_keys) { /* a flood of different URLs: counted, not itemized */
        if (a->over_count == 0)
            a->over_first = now;
        a->over_count++;
        a->over_keys++; /* an upper bound: repeats of one unkept URL count again */
        a->over_last = now;
        pthread_mutex_unlock(&a->mtx);
        return;
    }
    a->tab[i].row = k;
    a->tab[i].row.count = 1;
    a->tab[i].row.keys = 1;
    a->tab[i].row.first = a->tab[i].row.last = now;
    a->tab[i].hash = h;
    a->tab[i].window = now;
    a->tab[i].used = 1;
    a->tab[i].fresh = 1;
    a->used++;
    pthread_mutex_unlock(&a->mtx);
}

size_t ww_blockagg_flush(struct ww_blockagg *a, time_t now, int all,
                         void (*fn)(const struct ww_block_row *row, void *arg), void *arg)
{
    size_t n = 0, i, kept = 0;

    if (a == NULL)
        return 0;
    pthread_mutex_lock(&a->mtx);
    memset(a->tmp, 0, a->cap * sizeof(*a->tmp));
    for (i = 0; i < a->cap; i++) {
        struct agg_entry *e = &a->tab[i];
        int due;
        size_t j;
        if (!e->used)
            continue;
        due = e->row.count > 0 && (all || e->fresh || now - e->window >= a->interval_s);
        if (due) {
            a->out[n++] = e->row;
            e->row.count = 0;
            e->fresh = 0;
            e->window = now;
        } else if (e->row.count == 0 && now - e->window >= a->interval_s) {
            continue; /* quiet for a whole interval: forgotten, its next block is news */
        }
        if (all && e->row.count == 0)
            continue;
        /* Kept: into the rebuilt table (dropping forgotten keys without tombstones). */
        for (j = (size_t)e->hash & (a->cap - 1); a->tmp[j].used; j = (j + 1) & (a->cap - 1))
            ;
        a->tmp[j] = *e;
        kept++;
    }
    {
        struct agg_entry *t = a->tab;
        a->tab = a->tmp;
        a->tmp = t;
    }
    a->used = kept;
    if (a->over_count > 0) {
        struct ww_block_row *s = &a->out[n++];
        memset(s, 0, sizeof(*s));
        copy_cut(s->source, sizeof(s->source), "gateway");
        copy_cut(s->policy, sizeof(s->policy), "-");
        s->count = a->over_count;
        s->keys = a->over_keys;
        s->first = a->over_first;
        s->last = a->over_last;
        a->over_count = a->over_keys = 0;
    }
    pthread_mutex_unlock(&a->mtx);
    for (i = 0; i < n && fn != NULL; i++)
        fn(&a->out[i], arg);
    return n;
}

void ww_blockagg_message(const struct ww_block_row *row, char *out, size_t outlen)
{
    char t1[16] = "", t2[16] = "";
    struct tm tm;

    if (localtime_r(&row->first, &tm) != NULL)
        strftime(t1, sizeof(t1), "%H:%M:%S", &tm);
    if (localtime_r(&row->last, &tm) != NULL)
        strftime(t2, sizeof(t2), "%H:%M:%S", &tm);
    if (row->url[0] == '\0')
        snprintf(out, outlen,
                 "blocked %" PRIu64 " more times %s-%s (%" PRIu64
                 " URLs not itemized: too many different blocked URLs in one interval)",
                 row->count, t1, t2, row->keys);
    else if (row->count == 1)
        snprintf(out, outlen, "blocked %.300s (policy %s): %s", row->url, row->policy, row->reason);
    else
        snprintf(out, outlen, "blocked %.300s (policy %s): %s: %" PRIu64 " times %s-%s", row->url,
                 row->policy, row->reason, row->count, t1, t2);
}
