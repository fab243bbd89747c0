/* badcaps.c - claims a capability the core does not know: refused. */
#include "stub.h"

static bast_res
v(void *s, bast_call *c)
{
    (void)s;
    (void)c;
    return BAST_RES_SUCCESS;
}

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE | (1u << 7), "badcaps", "1", stub_open,
                   v, stub_close, NULL);
