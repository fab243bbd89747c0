/*
 * fuzz_jwt.c - the jwt plugin's request side: the Bearer framing of
 * Authorization, cookies and the access_token query parameter, the JOSE
 * header, the payload and its claims, and the signature check (RSA, PSS,
 * EC, EdDSA, HMAC keys from the seed JWKS and secret).  The first byte
 * picks the app: "a" strict (issuer, audience, typ, scopes, claims
 * copied), "b" with cookie and query tokens, another identity claim,
 * jti_once and no leeway.  The rest is a mini request (common.h).
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
    fz_keep_plugins("jwt");
    fz_global_conf();
    fz_copy_data("jwt.jwks", 0644);
    fz_copy_data("jwt-hs.secret", 0600);
    fz_write_text("conf.d/a.conf",
                  "[app]\nrealm = fuzz\n\n[tok]\nplugin = jwt\n"
                  "control = required\njwks_file = jwt.jwks\n"
                  "hmac_secret_file = jwt-hs.secret\n"
                  "algorithms = RS256 PS256 ES256 EdDSA HS256\n"
                  "issuer = https://issuer.example\naudience = api\n"
                  "typ = at+jwt\nrequired_scopes = read\n"
                  "required_claims = email\ncopy_claims = email scope\n"
                  "cache_size = 0\n",
                  0644);
    fz_write_text("conf.d/b.conf",
                  "[app]\n\n[tok]\nplugin = jwt\ncontrol = requisite\n"
                  "jwks_file = jwt.jwks\nhmac_secret_file = jwt-hs.secret\n"
                  "algorithms = RS256 PS256 ES256 EdDSA HS256\n"
                  "token_cookie = session\nallow_query_token = yes\n"
                  "identity_claim = client_id\njti_once = yes\n"
                  "leeway = 0\nmax_lifetime = 2h\ncache_size = 16\n",
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
