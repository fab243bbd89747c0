/* counter.c - not thread-safe on purpose: verify() does a racy
 * read-modify-write with a pause in the middle.  The core must serialise
 * it (no BAST_CAP_THREADSAFE), so the count comes out exact. */
#include "bast_plugin.h"

#include <sched.h>
#include <stdlib.h>

struct counter {
    volatile long n;
};

static int
o(const bast_instance *i, const bast_option *p, size_t n, void **s, char *e,
  size_t l)
{
    (void)i;
    (void)p;
    (void)n;
    (void)e;
    (void)l;
    *s = calloc(1, sizeof(struct counter));
    return *s ? 0 : -1;
}
static bast_res
v(void *s, bast_call *c)
{
    struct counter *k = s;
    long seen = k->n;
    sched_yield();
    k->n = seen + 1;
    bast_call_set_attr_int(c, "count", k->n);
    return BAST_RES_SUCCESS;
}
static void
c(void *s)
{
    free(s);
}
BAST_PLUGIN_DEFINE(0, "counter", "1", o, v, c, NULL);
