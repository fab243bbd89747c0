/*
 * badresult.c - a fault-injection plugin that answers whatever its
 * `value` option says, as a raw integer: 0 (the invalid zero result),
 * 8 (one past the last result), 99, -1, or a valid one.  It checks that
 * the core never reads an out-of-range answer as a success.  Built to
 * $(B)/tests/fault/plugins/badresult.so; never installed.
 */
#include "bast_plugin.h"

#include <stdlib.h>

static int
br_open(const bast_instance *inst, const bast_option *opts, size_t n,
        void **state, char *err, size_t errlen)
{
    static const char *const known[] = {"value", NULL};
    long long v = 0;
    (void)inst;
    if (bast_opts_check(opts, n, known, err, errlen) != 0)
        return -1;
    const bast_option *o = bast_opts_get(opts, n, "value");
    if (o) { /* by hand: bast_opt_int takes no sign */
        char *end;
        v = strtoll(o->value, &end, 10);
        if (end == o->value || *end != '\0')
            return bast_opt_error(o, err, errlen, "expected an integer");
    }
    int *s = malloc(sizeof *s);
    if (s == NULL)
        return -1;
    *s = (int)v;
    *state = s;
    return 0;
}

static bast_res
br_verify(void *state, bast_call *call)
{
    /* an identity set before a bad answer must not leak into the result */
    bast_call_set_identity(call, "mallory");
    return (bast_res) * (int *)state;
}

static void
br_close(void *state)
{
    free(state);
}

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "badresult", "0", br_open, br_verify,
                   br_close, NULL);
