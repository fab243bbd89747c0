/* badcaps.c - claims a capability the core does not know: refused. */
#include "bast_plugin.h"

static int
o(const bast_instance *i, const bast_option *p, size_t n, void **s, char *e,
  size_t l)
{
    (void)i;
    (void)p;
    (void)n;
    (void)e;
    (void)l;
    *s = 0;
    return 0;
}
static bast_res
v(void *s, bast_call *c)
{
    (void)s;
    (void)c;
    return BAST_RES_SUCCESS;
}
static void
c(void *s)
{
    (void)s;
}
BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE | (1u << 7), "badcaps", "1", o, v, c,
                   NULL);
