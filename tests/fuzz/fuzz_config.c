/*
 * fuzz_config.c - the config loader on operator input: the fuzz input is
 * conf.d/app.conf (INI, core keys, controls in both forms, filters,
 * include/substack of the fixed base.conf and other files) and is opened
 * with the test plugins fixed, permit and deny.  Properties: a load either
 * fails with a one-line message or gives a context whose stack can be
 * described and verified; nothing is half-applied (no leak, no crash).
 */
#include "common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static bast_request *req;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_only_plugins("fixed permit deny");
    fz_global_conf();
    fz_write_text("conf.d/base.conf",
                  "[app]\nrealm = base\n\n[b1]\nplugin = fixed\n"
                  "control = sufficient\nresult = success\n"
                  "identity = carol\n\n[b2]\nplugin = deny\n"
                  "control = required\n",
                  0644);
    fz_write_text("conf.d/loop.conf", "[app]\n\n[l]\ninclude = app\n", 0644);
    static const uint8_t r[] = ":method POST\n:path /admin/x\n"
                               "Authorization: Bearer x\n\nbody";
    req = fz_request(r, sizeof r - 1);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    fz_write("conf.d/app.conf", data, size, 0644);
    char err[1024];
    err[0] = 0;
    bast_ctx *ctx = fz_open(err, sizeof err);
    if (ctx == NULL) {
        if (err[0] == 0 || memchr(err, 0, sizeof err) == NULL)
            abort(); /* a refusal always says why */
        return 0;
    }
    for (size_t i = 0; i < bast_warning_count(ctx); i++)
        if (bast_warning(ctx, i) == NULL)
            abort();
    char *d = bast_stack_describe(ctx, "app");
    bast_free(d);
    fz_verify(ctx, "app", req);
    bast_close(ctx);
    return 0;
}
