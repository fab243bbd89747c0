/* badabi.c - a plugin built for another ABI: the loader must refuse it. */
#include "stub.h"

static bast_res
v(void *s, bast_call *c)
{
    (void)s;
    (void)c;
    return BAST_RES_SUCCESS;
}

__attribute__((visibility("default")))
const bast_plugin bast_plugin_entry = {BAST_PLUGIN_ABI + 41,
                                       sizeof(bast_plugin),
                                       0,
                                       "badabi",
                                       "1",
                                       stub_open,
                                       v,
                                       stub_close,
                                       NULL};
