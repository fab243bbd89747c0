/* undef.c - needs a symbol nothing provides: RTLD_NOW refuses it at load,
 * not in the middle of a request. */
#include "bast_plugin.h"

extern int bast_symbol_that_does_not_exist(void);

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
    return bast_symbol_that_does_not_exist() ? BAST_RES_SUCCESS : BAST_RES_DENY;
}
static void
c(void *s)
{
    (void)s;
}
BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "undef", "1", o, v, c, NULL);
