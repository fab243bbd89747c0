/*
 * fuzz_hmac.c - the hmac plugin's four profiles on one context; the first
 * byte picks the app: 0 `bast` (X-Api-Key, X-Timestamp, X-Nonce,
 * X-Body-Hash, X-Signature), 1 `aws-sigv4` (Authorization AWS4-HMAC-SHA256
 * and presigned query), 2 `stripe` (Stripe-Signature), 3
 * `standard-webhooks` (webhook-id/-timestamp/-signature).  The rest is a
 * mini request with a body (common.h); seeds carry valid signatures at
 * FZ_NOW, so the fuzzer starts past the MAC check.
 */
#include "common.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static bast_ctx *ctx;
static const char *const apps[4] = {"bast", "sigv4", "stripe", "stdwh"};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_keep_plugins("hmac");
    fz_global_conf();
    fz_copy_data("hmac.secrets", 0600);
    fz_copy_data("hmac.stripe", 0600);
    fz_copy_data("hmac.stdwh", 0600);
    fz_write_text("conf.d/bast.conf",
                  "[app]\n\n[sig]\nplugin = hmac\ncontrol = required\n"
                  "profile = bast\nsecrets_file = hmac.secrets\n"
                  "window = 300\n",
                  0644);
    fz_write_text("conf.d/sigv4.conf",
                  "[app]\n\n[sig]\nplugin = hmac\ncontrol = required\n"
                  "profile = aws-sigv4\nsecrets_file = hmac.secrets\n"
                  "region = eu-west-1\nservice = execute-api\n",
                  0644);
    fz_write_text("conf.d/stripe.conf",
                  "[app]\n\n[sig]\nplugin = hmac\ncontrol = required\n"
                  "profile = stripe\nsecret = hmac.stripe\n"
                  "webhook_name = stripe\n",
                  0644);
    fz_write_text("conf.d/stdwh.conf",
                  "[app]\n\n[sig]\nplugin = hmac\ncontrol = required\n"
                  "profile = standard-webhooks\nsecret = hmac.stdwh\n"
                  "webhook_name = hooks\n",
                  0644);
    ctx = fz_open_or_die();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    bast_request *req = fz_request(data + 1, size - 1);
    if (req == NULL)
        return 0;
    fz_verify(ctx, apps[data[0] & 3], req);
    bast_request_free(req);
    return 0;
}
