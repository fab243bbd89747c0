/*
 * usage.c - the last-used batch of the apikey plugin.  verify() records
 * (key id, address, time) here under a short mutex, coalescing repeated
 * uses of one key from one address; the instance's background thread
 * takes the whole batch at once (so requests never wait for SQLite) and
 * writes it with ak_store_flush, at least every `last_used_flush` and at
 * close.  The batch is bounded: past `max` distinct pairs new ones are
 * dropped and counted until the next flush, which is asked for early.
 */
#include "ak.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 4096

struct ak_usage {
    pthread_mutex_t mu;
    ak_use *bucket[NBUCKETS];
    ak_use *all; /* the same entries, chained through `next` for take() */
    size_t n, max, dropped;
    uint64_t seq;
};

/* One allocation per entry: the node, then its three strings.  `use` is
 * first so an ak_use pointer is also the node's. */
typedef struct node {
    ak_use use;
    struct node *chain;
} node;

ak_usage *
ak_usage_new(size_t max)
{
    ak_usage *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    if (pthread_mutex_init(&u->mu, NULL) != 0) {
        free(u);
        return NULL;
    }
    u->max = max;
    return u;
}

void
ak_usage_list_free(ak_use *list)
{
    while (list) {
        ak_use *next = list->next;
        free(list); /* one allocation holds the node and its strings */
        list = next;
    }
}

void
ak_usage_free(ak_usage *u)
{
    if (!u)
        return;
    ak_usage_list_free(u->all);
    pthread_mutex_destroy(&u->mu);
    free(u);
}

/* FNV-1a: a bucket spreader, not a security measure (ids are random). */
static uint64_t
fnv(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ull;
    for (; *a; a++)
        h = (h ^ (unsigned char)*a) * 1099511628211ull;
    h = (h ^ 0xffu) * 1099511628211ull;
    for (; *b; b++)
        h = (h ^ (unsigned char)*b) * 1099511628211ull;
    return h;
}

int
ak_usage_record(ak_usage *u, const char *key_id, const char *user,
                const char *ip, int64_t at, int *full)
{
    uint64_t h = fnv(key_id, ip);
    size_t b = (size_t)(h % NBUCKETS), li = strlen(key_id), lu = strlen(user),
           lp = strlen(ip);
    node *nd;
    int ret = 1;

    *full = 0;
    pthread_mutex_lock(&u->mu);
    for (nd = (node *)u->bucket[b]; nd; nd = nd->chain)
        if (nd->use.hash == h && strcmp(nd->use.key_id, key_id) == 0 &&
            strcmp(nd->use.ip, ip) == 0) {
            if (at > nd->use.at)
                nd->use.at = at;
            nd->use.seq = ++u->seq;
            goto done;
        }
    if (u->n >= u->max) {
        u->dropped++;
        *full = 1;
        ret = 0;
        goto done;
    }
    if (!(nd = malloc(sizeof *nd + li + lu + lp + 3))) {
        ret = -1;
        goto done;
    }
    nd->use.hash = h;
    nd->use.at = at;
    nd->use.fresh = 0;
    nd->use.seq = ++u->seq;
    nd->use.key_id = (char *)(nd + 1);
    nd->use.user = nd->use.key_id + li + 1;
    nd->use.ip = nd->use.user + lu + 1;
    memcpy(nd->use.key_id, key_id, li + 1);
    memcpy(nd->use.user, user, lu + 1);
    memcpy(nd->use.ip, ip, lp + 1);
    nd->chain = (node *)u->bucket[b];
    u->bucket[b] = &nd->use;
    nd->use.next = u->all;
    u->all = &nd->use;
    if (++u->n >= u->max)
        *full = 1;
done:
    pthread_mutex_unlock(&u->mu);
    return ret;
}

static int
by_seq(const void *a, const void *b)
{
    const ak_use *x = *(const ak_use *const *)a, *y = *(const ak_use *const *)b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

ak_use *
ak_usage_take(ak_usage *u, size_t *dropped)
{
    ak_use *list, **v, *p;
    size_t n, i;

    pthread_mutex_lock(&u->mu);
    list = u->all;
    n = u->n;
    u->all = NULL;
    memset(u->bucket, 0, sizeof u->bucket);
    u->n = 0;
    if (dropped)
        *dropped = u->dropped;
    u->dropped = 0;
    pthread_mutex_unlock(&u->mu);

    /* Sort outside the lock; without memory, the list's own order (newest
     * first use first) is kept: only last_ip's tie-break suffers. */
    if (n < 2 || !(v = malloc(n * sizeof *v)))
        return list;
    for (i = 0, p = list; p && i < n; p = p->next)
        v[i++] = p;
    qsort(v, i, sizeof *v, by_seq);
    for (n = i, i = 0; i + 1 < n; i++)
        v[i]->next = v[i + 1];
    v[n - 1]->next = NULL;
    list = v[0];
    free(v);
    return list;
}
