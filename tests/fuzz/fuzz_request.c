/*
 * fuzz_request.c - bast_request_from_json (the request JSON of `bast
 * verify --request` and of hosts), then the parsed request through a
 * stack with path and method filters and identity binding, and the
 * result back to JSON.  Properties: no crash or leak; a result's
 * decision, status and identity agree (fz_verify).
 */
#include "common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static bast_ctx *ctx;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_keep_plugins("fixed permit");
    fz_global_conf();
    fz_write_text("conf.d/app.conf",
                  "[app]\nrealm = fuzz\n\n"
                  "[admin]\nplugin = fixed\ncontrol = requisite\n"
                  "result = deny\npaths = /admin/* /v1/*/secret\n"
                  "methods = POST DELETE\n\n"
                  "[who]\nplugin = fixed\ncontrol = [success=ok "
                  "absent=ignore default=bad]\nresult = success\n"
                  "identity = alice\npaths = /v1/*\n\n"
                  "[again]\nplugin = permit\ncontrol = optional\n"
                  "identity = bob\n\n"
                  "[rest]\nplugin = permit\ncontrol = required\n"
                  "identity = alice\n",
                  0644);
    ctx = fz_open_or_die();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    bast_request *req =
        bast_request_from_json((const char *)data, size, err, sizeof err);
    if (req == NULL) {
        if (memchr(err, 0, sizeof err) == NULL)
            abort();
        return 0;
    }
    fz_verify(ctx, "app", req);
    fz_verify(ctx, "nosuchapp", req);
    bast_request_free(req);
    return 0;
}
