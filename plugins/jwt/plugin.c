/*
 * plugin.c - the `jwt` plugin: OAuth 2.0 bearer tokens that are JWS-signed
 * JWTs (RFC 6750, 7515, 7519, 8725, 9068, 8705).  Options (docs/jwt.md):
 * algorithms, jwks_file, jwks_uri, jwks_refresh, jwks_min_interval,
 * jwks_timeout, public_key, hmac_secret_file, issuer, audience, leeway,
 * max_lifetime, typ, require_exp, required_claims, required_scopes,
 * identity_claim, copy_claims, token_header, token_cookie,
 * allow_query_token, require_cnf, jti_denylist, jti_once, cache_size.
 * Results: success (identity from `sub`), absent (no token), malformed (two
 * tokens, broken Bearer framing), deny (invalid_token, token_expired,
 * unknown_key, revoked, replay), forbidden (insufficient_scope),
 * unavailable (jwks_uri never fetched, replay store down).  Management
 * commands (`bast jwt keys|revoke|revoked|inspect`) are in admin.c.
 */
#include "jwt.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const known[] = {"algorithms",
                                    "jwks_file",
                                    "jwks_uri",
                                    "jwks_refresh",
                                    "jwks_min_interval",
                                    "jwks_timeout",
                                    "public_key",
                                    "hmac_secret_file",
                                    "issuer",
                                    "audience",
                                    "leeway",
                                    "max_lifetime",
                                    "typ",
                                    "require_exp",
                                    "required_claims",
                                    "required_scopes",
                                    "identity_claim",
                                    "copy_claims",
                                    "token_header",
                                    "token_cookie",
                                    "allow_query_token",
                                    "require_cnf",
                                    "jti_denylist",
                                    "jti_once",
                                    "revocation_store",
                                    "cache_size",
                                    NULL};

static char *
keep(jwt_inst *ji, const char *s)
{
    char *c;
    if (ji->npool == sizeof(ji->pool) / sizeof(ji->pool[0]) || !(c = strdup(s)))
        return NULL;
    ji->pool[ji->npool++] = c;
    return c;
}

/* Split a kept copy on spaces/commas into `out`. */
static int
split(jwt_inst *ji, const bast_option *o, const char **out, size_t *n,
      char *err, size_t errlen)
{
    char *s = keep(ji, o->value), *tok, *save = NULL;
    *n = 0;
    if (!s)
        return bast_opt_error(o, err, errlen, "out of memory");
    for (tok = strtok_r(s, " \t,", &save); tok;
         tok = strtok_r(NULL, " \t,", &save)) {
        if (*n == JWT_MAX_LIST)
            return bast_opt_error(o, err, errlen, "more than %d entries",
                                  JWT_MAX_LIST);
        out[(*n)++] = tok;
    }
    if (*n == 0)
        return bast_opt_error(o, err, errlen, "empty list");
    return 0;
}

static void
jwt_close(void *state)
{
    jwt_inst *ji = state;
    if (!ji)
        return;
    jwt_remote_close(ji->remote);
    jwt_keyset_unref(ji->keys);
    jwt_denylist_close(ji->deny);
    jwt_cache_free(ji->cache);
    jwt_sig_free(ji->sig);
    for (int h = 0; h < JWT_NHASH; h++)
        EVP_MD_free(ji->cr.md[h]);
    EVP_MAC_free(ji->cr.hmac);
    for (size_t i = 0; i < ji->npool; i++)
        free(ji->pool[i]);
    free(ji);
}

static int
read_secret(const bast_instance *inst, const bast_option *o, unsigned char *buf,
            size_t cap, size_t *len, char *err, size_t errlen)
{
    char path[4096], msg[256];
    FILE *f;
    size_t n;
    if (bast_inst_path(inst, o->value, path, sizeof(path)) < 0)
        return bast_opt_error(o, err, errlen, "path too long");
    if (bast_secret_file_check(path, msg, sizeof(msg)) < 0)
        return bast_opt_error(o, err, errlen, "%s", msg);
    if (!(f = fopen(path, "rb")))
        return bast_opt_error(o, err, errlen, "%s: cannot open", path);
    n = fread(buf, 1, cap, f);
    fclose(f);
    if (n == cap)
        return bast_opt_error(o, err, errlen, "secret longer than %zu bytes",
                              cap - 1);
    /* a trailing newline from an editor is not part of the secret */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    *len = n;
    return 0;
}

static int
load_jwks_file(jwt_inst *ji, const bast_option *o, char *err, size_t errlen)
{
    char path[4096], msg[256];
    FILE *f;
    char *buf;
    size_t n;
    int rc;
    if (bast_inst_path(ji->inst, o->value, path, sizeof(path)) < 0)
        return bast_opt_error(o, err, errlen, "path too long");
    if (!(f = fopen(path, "rb")))
        return bast_opt_error(o, err, errlen, "%s: cannot open", path);
    if (!(buf = malloc(JWT_MAX_JWKS + 1))) {
        fclose(f);
        return bast_opt_error(o, err, errlen, "out of memory");
    }
    n = fread(buf, 1, JWT_MAX_JWKS + 1, f);
    fclose(f);
    rc = jwt_keyset_add_jwks(ji->keys, &ji->cr, buf, n, ji->allowed, msg,
                             sizeof(msg));
    /* an oct key's secret may be in there */
    OPENSSL_cleanse(buf, n);
    free(buf);
    if (rc < 0)
        return bast_opt_error(o, err, errlen, "%s: %s", path, msg);
    return 0;
}

static void
build_realm(jwt_inst *ji)
{
    const char *r = bast_inst_realm(ji->inst);
    size_t j = 0;
    j += (size_t)snprintf(ji->realm, sizeof(ji->realm), "Bearer realm=\"");
    for (; r && *r && j < sizeof(ji->realm) - 4; r++) {
        if (*r == '"' || *r == '\\')
            ji->realm[j++] = '\\';
        ji->realm[j++] = *r;
    }
    ji->realm[j++] = '"';
    ji->realm[j] = '\0';
}

static int
opt_dur(const bast_option *o, long long min, long long max, long long *out,
        char *err, size_t errlen)
{
    return o ? bast_opt_duration(o, min, max, out, err, errlen) : 0;
}

static int
opt_flag(const bast_option *o, int *out, char *err, size_t errlen)
{
    return o ? bast_opt_bool(o, out, err, errlen) : 0;
}

static int
jwt_open(const bast_instance *inst, const bast_option *opts, size_t nopts,
         void **state, char *err, size_t errlen)
{
#define OPT(k) bast_opts_get(opts, nopts, k)
    static const char *const hashes[JWT_NHASH] = {"SHA256", "SHA384", "SHA512"};
    const bast_option *o, *o_jwks = OPT("jwks_file"), *o_uri = OPT("jwks_uri");
    const bast_option *o_pem = OPT("public_key");
    const bast_option *o_sec = OPT("hmac_secret_file");
    jwt_inst *ji;
    long long n;
    char bad[40];

    *state = NULL;
    if (bast_opts_check(opts, nopts, known, err, errlen) < 0)
        return -1;
    if (!(ji = calloc(1, sizeof(*ji)))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ji->inst = inst;
    ji->rules.leeway = 60;
    ji->rules.require_exp = 1;
    ji->identity_claim = "sub";
    build_realm(ji);

    if (!o_jwks && !o_uri && !o_pem && !o_sec) {
        snprintf(err, errlen,
                 "%s:%d: jwt: no keys (jwks_file, jwks_uri, public_key or "
                 "hmac_secret_file)",
                 bast_inst_file(inst), bast_inst_line(inst));
        goto fail;
    }
    if ((o = OPT("algorithms"))) {
        if (jwt_alg_mask(o->value, &ji->allowed, bad, sizeof(bad)) < 0) {
            bast_opt_error(o, err, errlen, "unknown algorithm '%s'", bad);
            goto fail;
        }
    } else if (o_pem || o_sec) {
        bast_opt_error(o_pem ? o_pem : o_sec, err, errlen,
                       "needs an explicit `algorithms` list");
        goto fail;
    } else {
        /* key sets alone: every asymmetric algorithm; HMAC only by name */
        ji->allowed =
            ~jwt_alg_family_mask(JWT_FAM_HMAC, -1) & ((1u << JWT_NALGS) - 1);
    }

    for (int h = 0; h < JWT_NHASH; h++)
        if (!(ji->cr.md[h] = EVP_MD_fetch(NULL, hashes[h], NULL))) {
            snprintf(err, errlen, "jwt: cannot fetch %s", hashes[h]);
            goto fail;
        }
    ji->rules.sha256 = ji->cr.md[JWT_SHA256];
    if (!(ji->cr.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) ||
        !(ji->sig = jwt_sig_new(&ji->cr, err, errlen))) {
        snprintf(err, errlen, "jwt: cannot prepare OpenSSL");
        goto fail;
    }

    if (o_jwks || o_pem || o_sec) {
        if (!(ji->keys = jwt_keyset_new()))
            goto nomem;
    }
    if (o_jwks && load_jwks_file(ji, o_jwks, err, errlen) < 0)
        goto fail;
    if (o_pem) {
        char path[4096], msg[300];
        if (bast_inst_path(inst, o_pem->value, path, sizeof(path)) < 0 ||
            jwt_keyset_add_pem(ji->keys, &ji->cr, path, ji->allowed, msg,
                               sizeof(msg)) < 0) {
            bast_opt_error(o_pem, err, errlen, "%s", msg);
            goto fail;
        }
    }
    if (o_sec) {
        unsigned char sec[1025];
        size_t sl = 0;
        char msg[200];
        int rc = read_secret(inst, o_sec, sec, sizeof(sec), &sl, err, errlen);
        if (rc == 0 && jwt_keyset_add_secret(ji->keys, &ji->cr, sec, sl,
                                             ji->allowed, msg, sizeof(msg)) < 0)
            rc = bast_opt_error(o_sec, err, errlen, "%s", msg);
        OPENSSL_cleanse(sec, sizeof(sec));
        if (rc < 0)
            goto fail;
    }

    if ((o = OPT("leeway")) &&
        bast_opt_duration(o, 0, 3600, &ji->rules.leeway, err, errlen) < 0)
        goto fail;
    if (opt_dur(OPT("max_lifetime"), 1, 366LL * 86400, &ji->rules.max_lifetime,
                err, errlen) < 0 ||
        opt_flag(OPT("require_exp"), &ji->rules.require_exp, err, errlen) < 0 ||
        opt_flag(OPT("require_cnf"), &ji->rules.require_cnf, err, errlen) < 0 ||
        opt_flag(OPT("allow_query_token"), &ji->where.query, err, errlen) < 0 ||
        opt_flag(OPT("jti_once"), &ji->jti_once, err, errlen) < 0 ||
        opt_flag(OPT("revocation_store"), &ji->revocation_store, err, errlen) <
            0)
        goto fail;
    if ((o = OPT("issuer")) && !(ji->rules.issuer = keep(ji, o->value)))
        goto nomem;
    if ((o = OPT("typ")) && !(ji->rules.typ = keep(ji, o->value)))
        goto nomem;
    if ((o = OPT("identity_claim")) &&
        !(ji->identity_claim = keep(ji, o->value)))
        goto nomem;
    if ((o = OPT("token_header")) && !(ji->where.header = keep(ji, o->value)))
        goto nomem;
    if ((o = OPT("token_cookie")) && !(ji->where.cookie = keep(ji, o->value)))
        goto nomem;
    if ((o = OPT("audience")) &&
        split(ji, o, ji->rules.audience, &ji->rules.naud, err, errlen) < 0)
        goto fail;
    if ((o = OPT("required_claims")) &&
        split(ji, o, ji->rules.required, &ji->rules.nrequired, err, errlen) < 0)
        goto fail;
    if ((o = OPT("copy_claims")) &&
        split(ji, o, ji->copy, &ji->ncopy, err, errlen) < 0)
        goto fail;
    if ((o = OPT("required_scopes"))) {
        if (!(ji->rules.scopes_text = keep(ji, o->value)) ||
            split(ji, o, ji->rules.scopes, &ji->rules.nscopes, err, errlen) < 0)
            goto fail;
        for (const char *p = ji->rules.scopes_text; *p; p++)
            if (*p == '"' || *p == '\\') {
                bast_opt_error(o, err, errlen, "quote or backslash in a scope");
                goto fail;
            }
    }
    if ((o = OPT("jti_denylist"))) {
        char path[4096], msg[300];
        if (bast_inst_path(inst, o->value, path, sizeof(path)) < 0 ||
            !(ji->deny = jwt_denylist_open(path, msg, sizeof(msg)))) {
            bast_opt_error(o, err, errlen, "%s", msg);
            goto fail;
        }
    }
    if ((o = OPT("cache_size"))) {
        if (bast_opt_int(o, 0, 1 << 20, &n, err, errlen) < 0)
            goto fail;
        if (n > 0 && !(ji->cache = jwt_cache_new((size_t)n)))
            goto nomem;
    }
    if (o_uri) {
        jwt_remote_conf rc = {0};
        char msg[300];
        rc.refresh = 300;
        rc.min_interval = 30;
        rc.timeout = 5;
        if (strncmp(o_uri->value, "https://", 8) != 0 &&
            strncmp(o_uri->value, "http://", 7) != 0) {
            bast_opt_error(o_uri, err, errlen, "must be an http(s) URL");
            goto fail;
        }
        if (opt_dur(OPT("jwks_refresh"), 1, 7 * 86400, &rc.refresh, err,
                    errlen) < 0 ||
            opt_dur(OPT("jwks_min_interval"), 1, 86400, &rc.min_interval, err,
                    errlen) < 0 ||
            opt_dur(OPT("jwks_timeout"), 1, 60, &rc.timeout, err, errlen) < 0)
            goto fail;
        if (rc.min_interval > rc.refresh)
            rc.min_interval = rc.refresh;
        rc.uri = o_uri->value;
        rc.allowed = ji->allowed;
        rc.crypto = &ji->cr;
        rc.inst = inst;
        if (!(ji->remote = jwt_remote_open(&rc, msg, sizeof(msg)))) {
            bast_opt_error(o_uri, err, errlen, "%s", msg);
            goto fail;
        }
    } else if (OPT("jwks_refresh") || OPT("jwks_min_interval") ||
               OPT("jwks_timeout")) {
        o = OPT("jwks_refresh")        ? OPT("jwks_refresh")
            : OPT("jwks_min_interval") ? OPT("jwks_min_interval")
                                       : OPT("jwks_timeout");
        bast_opt_error(o, err, errlen, "only with jwks_uri");
        goto fail;
    }
    if (ji->keys && ji->keys->n == 0 && !ji->remote) {
        snprintf(err, errlen, "%s:%d: jwt: no usable key for the algorithms",
                 bast_inst_file(inst), bast_inst_line(inst));
        goto fail;
    }
    *state = ji;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
fail:
    jwt_close(ji);
    return -1;
#undef OPT
}

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "jwt", BAST_VERSION, jwt_open,
                   jwt_verify, jwt_close, jwt_admin);
