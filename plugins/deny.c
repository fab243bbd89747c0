/*
 * deny.c - always `deny`, like pam_deny.  No options.
 */
#include "bast_plugin.h"

static int
deny_open(const bast_instance *inst, const bast_option *opts, size_t n,
          void **state, char *err, size_t errlen)
{
    static const char *const known[] = {NULL};
    (void)inst;
    *state = NULL;
    return bast_opts_check(opts, n, known, err, errlen);
}

static bast_res
deny_verify(void *state, bast_call *call)
{
    (void)state;
    bast_call_set_error(call, "access_denied", "denied by configuration");
    return BAST_RES_DENY;
}

static void
deny_close(void *state)
{
    (void)state;
}

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "deny", "1", deny_open, deny_verify,
                   deny_close, NULL);
