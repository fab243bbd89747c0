/* badabi.c - a plugin built for another ABI: the loader must refuse it. */
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
__attribute__((visibility("default"))) const bast_plugin bast_plugin_entry = {
    BAST_PLUGIN_ABI + 41, sizeof(bast_plugin), 0, "badabi", "1", o, v, c, NULL};
