/*
 * badopen.c - a fault-injection plugin whose open() fails on purpose:
 * `mode = fail` returns -1 with a message, `mode = silent` returns -1
 * and leaves the message empty, `mode = abort` crashes the process (a
 * plugin bug), `mode = ok` opens normally and succeeds at every request
 * (so a stack can show it loaded).  Built to
 * $(B)/tests/fault/plugins/badopen.so; never installed.
 */
#include "bast_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
bo_open(const bast_instance *inst, const bast_option *opts, size_t n,
        void **state, char *err, size_t errlen)
{
    static const char *const known[] = {"mode", NULL};
    (void)inst;
    *state = NULL;
    if (bast_opts_check(opts, n, known, err, errlen) != 0)
        return -1;
    const bast_option *o = bast_opts_get(opts, n, "mode");
    const char *m = o ? o->value : "fail";
    if (strcmp(m, "ok") == 0)
        return 0;
    if (strcmp(m, "abort") == 0)
        abort();
    if (strcmp(m, "silent") == 0) {
        if (errlen)
            err[0] = '\0';
        return -1;
    }
    return bast_opt_error(o, err, errlen, "cannot open: injected failure");
}

static bast_res
bo_verify(void *state, bast_call *call)
{
    (void)state;
    return bast_call_set_identity(call, "opened") == 0 ? BAST_RES_SUCCESS
                                                       : BAST_RES_UNAVAILABLE;
}

static void
bo_close(void *state)
{
    (void)state;
}

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "badopen", "0", bo_open, bo_verify,
                   bo_close, NULL);
