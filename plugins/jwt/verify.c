/*
 * verify.c - one request through the `jwt` plugin: find the token, parse
 * the JOSE header, pick candidate keys by kid and alg, check the signature
 * (or find it in the verified-token cache), then the claims, revocation,
 * one-time jti, scopes, and report identity, scopes and copied claims.
 * Every failure sets an RFC 6750 challenge; nothing succeeds by default.
 */
#include "jwt.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SCOPES 64

typedef struct try_arg {
    jwt_inst *ji;
    const jwt_token *t;
    int error; /* an OpenSSL failure happened on some candidate */
} try_arg;

static int
try_key(const jwt_key *k, void *arg)
{
    try_arg *a = arg;
    int rc = jwt_sig_verify(a->ji->sig, a->t->alg, k,
                            (const unsigned char *)a->t->input, a->t->inlen,
                            a->t->sig, a->t->siglen);
    if (rc < 0)
        a->error = 1;
    return rc > 0;
}

static bast_res
challenge(jwt_inst *ji, bast_call *call, bast_res res, const char *error,
          const char *why)
{
    char ch[600];
    const char *word = NULL;
    switch (res) {
    case BAST_RES_DENY:
        word = "invalid_token";
        break;
    case BAST_RES_MALFORMED:
        word = "invalid_request";
        break;
    case BAST_RES_FORBIDDEN:
        word = "insufficient_scope";
        break;
    default:
        break;
    }
    if (error)
        bast_call_set_error(call, error, "%s", why ? why : error);
    if (res == BAST_RES_FORBIDDEN)
        snprintf(ch, sizeof(ch), "%s, error=\"%s\", scope=\"%s\"", ji->realm,
                 word, ji->rules.scopes_text ? ji->rules.scopes_text : "");
    else if (word)
        snprintf(ch, sizeof(ch), "%s, error=\"%s\"", ji->realm, word);
    else
        snprintf(ch, sizeof(ch), "%s", ji->realm);
    bast_call_add_challenge(call, ch);
    return res;
}

/* Signature against the static keys, then the fetched ones; an unknown kid
 * may refetch the JWKS once.  Returns SUCCESS, DENY or UNAVAILABLE. */
static bast_res
check_signature(jwt_inst *ji, const jwt_token *t, unsigned long *gen,
                const char **error, const char **why)
{
    try_arg a = {ji, t, 0};
    int seen = 0, s2 = 0, ok = 0, refetched = 0;
    jwt_keyset *rs;

    *gen = 0;
    if (ji->keys) {
        ok = jwt_keyset_each(ji->keys, t->kid, t->alg, try_key, &a, &seen);
        *gen = 0;
    }
    while (!ok && ji->remote) {
        if (!(rs = jwt_remote_get(ji->remote))) {
            if (seen)
                break;
            *error = "store_unavailable";
            *why = "jwks_uri has not been fetched yet";
            return BAST_RES_UNAVAILABLE;
        }
        ok = jwt_keyset_each(rs, t->kid, t->alg, try_key, &a, &s2);
        *gen = rs->gen;
        jwt_keyset_unref(rs);
        if (ok || s2 || refetched || !t->kid)
            break;
        /* a kid nobody knows: maybe the IdP rotated; ask once */
        refetched = 1;
        if (!jwt_remote_refetch(ji->remote))
            break;
    }
    seen |= s2;
    if (ok)
        return BAST_RES_SUCCESS;
    if (a.error) { /* allocation failures, never a property of the token */
        *error = "internal_error";
        *why = "signature check failed inside OpenSSL";
        return BAST_RES_UNAVAILABLE;
    }
    if (!seen) {
        *error = "unknown_key";
        *why = t->kid ? "no key with this kid for this alg"
                      : "no key for this alg";
        return BAST_RES_DENY;
    }
    *error = "invalid_token";
    *why = "bad signature";
    return BAST_RES_DENY;
}

static bast_res
check_jti(jwt_inst *ji, json_t *claims, int64_t now, const char **error,
          const char **why)
{
    json_t *jti = json_object_get(claims, "jti");
    const char *id;
    if (jti && (!json_is_string(jti) || json_string_length(jti) == 0 ||
                json_string_length(jti) > 256)) {
        *error = "invalid_token";
        *why = "jti is not a short string";
        return BAST_RES_DENY;
    }
    id = jti ? json_string_value(jti) : NULL;
    if (ji->deny && id) {
        int rc = jwt_denylist_has(ji->deny, id);
        if (rc != 0) {
            *error = rc > 0 ? "revoked" : "store_unavailable";
            *why = rc > 0 ? "token revoked (jti denylist)"
                          : "jti denylist unreadable";
            return rc > 0 ? BAST_RES_DENY : BAST_RES_UNAVAILABLE;
        }
    }
    if (ji->revocation_store && id) {
        /* written by `bast jwt revoke` into the shared store (Redis) */
        char key[300];
        int n = snprintf(key, sizeof(key), "revoked/%s", id);
        int rc = bast_replay_peek(ji->inst, key, (size_t)n, now);
        if (rc != BAST_REPLAY_FRESH) {
            *error = rc == BAST_REPLAY_SEEN ? "revoked" : "store_unavailable";
            *why = rc == BAST_REPLAY_SEEN ? "token revoked (revocation store)"
                                          : "revocation store failed";
            return rc == BAST_REPLAY_SEEN ? BAST_RES_DENY
                                          : BAST_RES_UNAVAILABLE;
        }
    }
    if (ji->jti_once) {
        char key[600];
        json_t *iss = json_object_get(claims, "iss");
        json_t *exp = json_object_get(claims, "exp");
        long long ttl = 86400;
        int n, rc;
        if (!id) {
            *error = "invalid_token";
            *why = "jti_once: the token has no jti";
            return BAST_RES_DENY;
        }
        if (json_is_number(exp))
            ttl = (long long)json_number_value(exp) - now + ji->rules.leeway;
        if (ttl < 1)
            ttl = 1;
        if (ttl > 366LL * 86400)
            ttl = 366LL * 86400;
        /* jti is unique per issuer (RFC 7519 §4.1.7) */
        n = snprintf(key, sizeof(key), "jwt\n%s\n%s",
                     json_is_string(iss) ? json_string_value(iss) : "", id);
        if (n < 0 || (size_t)n >= sizeof(key)) {
            *error = "invalid_token";
            *why = "jti or iss too long";
            return BAST_RES_DENY;
        }
        rc = bast_replay_check(ji->inst, key, (size_t)n, (unsigned)ttl, now);
        if (rc == BAST_REPLAY_SEEN) {
            *error = "replay";
            *why = "jti already used";
            return BAST_RES_DENY;
        }
        if (rc != BAST_REPLAY_FRESH) {
            *error = "store_unavailable";
            *why = "replay store failed";
            return BAST_RES_UNAVAILABLE;
        }
    }
    return BAST_RES_SUCCESS;
}

static int
identity_ok(json_t *v)
{
    const char *s;
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > 256)
        return 0;
    for (s = json_string_value(v); *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

bast_res
jwt_verify(void *state, bast_call *call)
{
    jwt_inst *ji = state;
    const bast_request *req = bast_call_request(call);
    const char *tok = NULL, *why = NULL, *error = "invalid_token";
    const char *scopes[MAX_SCOPES];
    char scopebuf[JWT_MAX_TOKEN];
    unsigned char digest[32];
    int64_t now = bast_call_now(call);
    jwt_token t;
    jwt_verdict v = {BAST_RES_DENY, "invalid_token", NULL};
    json_t *claims = NULL, *exp;
    unsigned long gen = 0;
    size_t len = 0;
    int nscopes, cached = 0;
    unsigned long cache_gen = 0;
    bast_res res;

    res = jwt_extract(&ji->where, req, &tok, &len, &why);
    if (res == BAST_RES_ABSENT)
        return challenge(ji, call, res, NULL, NULL);
    if (res != BAST_RES_SUCCESS)
        return challenge(ji, call, res, "invalid_request", why);

    if (jwt_token_parse(tok, len, &t, &why) < 0)
        return challenge(ji, call, BAST_RES_DENY, "invalid_token", why);
    if (!(ji->allowed & JWT_ALG_BIT(t.alg))) {
        res = challenge(ji, call, BAST_RES_DENY, "invalid_token",
                        "alg not allowed here");
        goto done;
    }
    if (jwt_check_header(&ji->rules, &t, &v) < 0) {
        res = challenge(ji, call, v.res, v.error, v.why);
        goto done;
    }
    if (ji->cache) {
        /* an entry is good for the key set it was verified under: a
         * jwks_uri refetch (new generation) turns every entry into a miss */
        jwt_keyset *rs = ji->remote ? jwt_remote_get(ji->remote) : NULL;
        cache_gen = rs ? rs->gen : 0;
        jwt_keyset_unref(rs);
        SHA256((const unsigned char *)tok, len, digest);
        cached = jwt_cache_hit(ji->cache, digest, cache_gen, now);
    }
    if (!cached) {
        res = check_signature(ji, &t, &gen, &error, &why);
        if (res != BAST_RES_SUCCESS) {
            res = challenge(ji, call, res, error, why);
            goto done;
        }
    }
    if (!(claims = jwt_token_claims(&t, &why))) {
        res = challenge(ji, call, BAST_RES_DENY, "invalid_token", why);
        goto done;
    }
    if (jwt_check_claims(&ji->rules, claims, now, bast_req_peer_cert(req), &v) <
        0) {
        res = challenge(ji, call, v.res, v.error, v.why);
        goto done;
    }
    if (!identity_ok(json_object_get(claims, ji->identity_claim))) {
        res = challenge(ji, call, BAST_RES_DENY, "invalid_token",
                        "no usable identity claim");
        goto done;
    }
    res = check_jti(ji, claims, now, &error, &why);
    if (res != BAST_RES_SUCCESS) {
        res = challenge(ji, call, res, error, why);
        goto done;
    }
    nscopes =
        jwt_scopes(claims, scopebuf, sizeof(scopebuf), scopes, MAX_SCOPES);
    if (nscopes < 0) {
        res = challenge(ji, call, BAST_RES_DENY, "invalid_token",
                        "scope or scp malformed");
        goto done;
    }
    if (jwt_check_scopes(&ji->rules, scopes, (size_t)nscopes, &v) < 0) {
        res = challenge(ji, call, v.res, v.error, v.why);
        goto done;
    }
    /* only now, when everything holds, may the token be remembered */
    exp = json_object_get(claims, "exp");
    if (ji->cache && !cached && json_is_number(exp))
        jwt_cache_put(ji->cache, digest, cache_gen,
                      (int64_t)json_number_value(exp));

    if (bast_call_set_identity(call, json_string_value(json_object_get(
                                         claims, ji->identity_claim))) != 0) {
        res = challenge(ji, call, BAST_RES_UNAVAILABLE, "internal_error",
                        "cannot record the identity");
        goto done;
    }
    if (nscopes > 0)
        bast_call_set_attr_strv(call, "scopes", scopes, (size_t)nscopes);
    for (size_t i = 0; i < ji->ncopy; i++) {
        json_t *c = json_object_get(claims, ji->copy[i]);
        char *txt;
        if (!c || !(txt = json_dumps(c, JSON_ENCODE_ANY | JSON_COMPACT)))
            continue;
        bast_call_set_attr_json(call, ji->copy[i], txt);
        free(txt);
    }
    res = BAST_RES_SUCCESS;
done:
    json_decref(claims);
    jwt_token_clear(&t);
    return res;
}
