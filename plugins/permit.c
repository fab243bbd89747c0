/*
 * permit.c - always `success`, like pam_permit.  Option: identity = NAME
 * (the principal it reports; none by default).
 */
#include "bast_plugin.h"

static int
permit_open(const bast_instance *inst, const bast_option *opts, size_t n,
            void **state, char *err, size_t errlen)
{
    static const char *const known[] = {"identity", NULL};
    (void)inst;
    if (bast_opts_check(opts, n, known, err, errlen) != 0)
        return -1;
    const bast_option *o = bast_opts_get(opts, n, "identity");
    /* option values live as long as the context */
    *state = o ? (void *)o->value : NULL;
    return 0;
}

static bast_res
permit_verify(void *state, bast_call *call)
{
    if (state)
        bast_call_set_identity(call, state);
    return BAST_RES_SUCCESS;
}

static void
permit_close(void *state)
{
    (void)state;
}

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "permit", "1", permit_open,
                   permit_verify, permit_close, NULL);
