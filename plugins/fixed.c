/*
 * fixed.c - the "return what you're told" module that drives stack tests
 * (like OpenPAM's test module).  Options: result = success | absent | deny
 * | forbidden | malformed | unavailable | ignore (required); identity =
 * NAME (set on success); error = WORD and challenge = TEXT (reported with
 * the result, for tests of error and challenge handling).
 */
#include "bast_plugin.h"

#include <stdlib.h>
#include <string.h>

struct fixed {
    bast_res result;
    const char *identity, *error, *challenge;
};

static const char *const names[] = {"success",   "absent",    "deny",
                                    "forbidden", "malformed", "unavailable",
                                    "ignore"};

static int
fixed_open(const bast_instance *inst, const bast_option *opts, size_t n,
           void **state, char *err, size_t errlen)
{
    static const char *const known[] = {"result", "identity", "error",
                                        "challenge", NULL};
    (void)inst;
    if (bast_opts_check(opts, n, known, err, errlen) != 0)
        return -1;
    const bast_option *r = bast_opts_get(opts, n, "result");
    if (r == NULL)
        return bast_opt_error(NULL, err, errlen,
                              "result: missing (success, absent, deny, "
                              "forbidden, malformed, unavailable, ignore)");
    struct fixed *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(r->value, names[i]) == 0)
            f->result = (bast_res)(BAST_RES_SUCCESS + i);
    if (f->result == BAST_RES_INVALID) {
        free(f);
        return bast_opt_error(r, err, errlen, "unknown result '%s'", r->value);
    }
    const bast_option *o;
    /* option values live as long as the context: borrow them */
    if ((o = bast_opts_get(opts, n, "identity")) != NULL)
        f->identity = o->value;
    if ((o = bast_opts_get(opts, n, "error")) != NULL)
        f->error = o->value;
    if ((o = bast_opts_get(opts, n, "challenge")) != NULL)
        f->challenge = o->value;
    *state = f;
    return 0;
}

static bast_res
fixed_verify(void *state, bast_call *call)
{
    const struct fixed *f = state;
    if (f->identity && f->result == BAST_RES_SUCCESS)
        bast_call_set_identity(call, f->identity);
    if (f->error)
        bast_call_set_error(call, f->error, NULL);
    if (f->challenge)
        bast_call_add_challenge(call, f->challenge);
    return f->result;
}

static void
fixed_close(void *state)
{
    free(state);
}

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "fixed", "1", fixed_open, fixed_verify,
                   fixed_close, NULL);
