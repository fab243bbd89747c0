/*
 * fuzz_basic.c - the basic plugin's Authorization: Basic parser (RFC 7617
 * framing, strict base64, the id:secret split, form-decoding of RFC 6749
 * 2.3.1, UTF-8) against a users file with a cheap SHA-512-crypt entry
 * (1000 rounds, so a found password does not stall the fuzzer).  The
 * first byte picks the app: "a" with the success cache, "b" without it
 * and with require_tls.
 */
#include "common.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static bast_ctx *ctx;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_keep_plugins("basic");
    fz_global_conf();
    fz_copy_data("basic.users", 0600);
    fz_write_text("conf.d/a.conf",
                  "[app]\nrealm = fuzz\n\n[cli]\nplugin = basic\n"
                  "control = required\nusers_file = basic.users\n",
                  0644);
    fz_write_text("conf.d/b.conf",
                  "[app]\n\n[cli]\nplugin = basic\ncontrol = required\n"
                  "users_file = basic.users\nrequire_tls = yes\n"
                  "cache_ttl = 0\n",
                  0644);
    ctx = fz_open_or_die();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_two_apps(ctx, data, size);
    return 0;
}
