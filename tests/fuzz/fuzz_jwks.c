/*
 * fuzz_jwks.c - the jwt plugin's JWKS reader: the input is the document
 * of `jwks_file` (as a jwks_uri fetch would deliver it), opened as a new
 * context per input; when it loads, the seed tokens (RS256, PS256, ES256,
 * EdDSA, HS256) are verified against it, so a mangled key that still
 * loads is also used.  Properties: load refuses with a message or gives
 * keys that never crash verification.
 */
#include "common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define NTOK 8
static bast_request *reqs[NTOK];
static size_t nreqs;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_keep_plugins("jwt");
    fz_global_conf();
    fz_write_text("conf.d/a.conf",
                  "[app]\n\n[tok]\nplugin = jwt\ncontrol = required\n"
                  "jwks_file = k.jwks\ncache_size = 0\n",
                  0644);
    char *toks = fz_read_data("jwt.tokens", NULL);
    for (char *save = NULL, *t = strtok_r(toks, "\n", &save); t && nreqs < NTOK;
         t = strtok_r(NULL, "\n", &save)) {
        char line[8192];
        int n = snprintf(line, sizeof line, "Authorization: Bearer %s\n", t);
        reqs[nreqs++] = fz_request((const uint8_t *)line, (size_t)n);
    }
    free(toks);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    fz_write("k.jwks", data, size, 0600);
    char err[1024];
    err[0] = 0;
    bast_ctx *ctx = fz_open(err, sizeof err);
    if (ctx == NULL) {
        if (err[0] == 0)
            abort();
        return 0;
    }
    for (size_t i = 0; i < nreqs; i++)
        if (reqs[i])
            fz_verify(ctx, "a", reqs[i]);
    bast_close(ctx);
    return 0;
}
