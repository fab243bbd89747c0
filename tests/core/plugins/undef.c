/* undef.c - needs a symbol nothing provides: RTLD_NOW refuses it at load,
 * not in the middle of a request. */
#include "stub.h"

extern int bast_symbol_that_does_not_exist(void);

static bast_res
v(void *s, bast_call *c)
{
    (void)s;
    (void)c;
    return bast_symbol_that_does_not_exist() ? BAST_RES_SUCCESS : BAST_RES_DENY;
}

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "undef", "1", stub_open, v, stub_close,
                   NULL);
