/*
 * jose.c - the JWS compact serialization (RFC 7515 §7.1) as the `jwt`
 * plugin reads it: exactly three base64url segments, strict (no padding,
 * zero pad bits, RFC 7515 §2), a JOSE header that is a JSON object without
 * duplicate members (RFC 8725 §3.1 / RFC 7515 §4), an `alg` from the table
 * (never `none`), a short string `kid`.  The payload is decoded only after
 * the signature holds.  Size and depth are limited everywhere.
 */
#include "jwt.h"

#include <string.h>

static int
depth_ok(json_t *v, int depth)
{
    const char *k;
    json_t *m;
    size_t i;
    if (depth > JWT_MAX_DEPTH)
        return 0;
    if (json_is_object(v)) {
        json_object_foreach(v, k, m) if (!depth_ok(m, depth + 1)) return 0;
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, m) if (!depth_ok(m, depth + 1)) return 0;
    }
    return 1;
}

json_t *
jwt_json_object(const char *text, size_t len, const char **why)
{
    json_error_t e;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    if (!v) {
        *why = strstr(e.text, "duplicate") ? "duplicate JSON member"
                                           : "not valid JSON";
        return NULL;
    }
    if (!json_is_object(v)) {
        *why = "not a JSON object";
    } else if (!depth_ok(v, 0)) {
        *why = "JSON nested too deep";
    } else {
        return v;
    }
    json_decref(v);
    return NULL;
}

void
jwt_token_clear(jwt_token *t)
{
    json_decref(t->hdr);
    t->hdr = NULL;
}

int
jwt_token_parse(const char *tok, size_t len, jwt_token *t, const char **why)
{
    char hdr[JWT_MAX_HEADER];
    const char *d1, *d2, *sig;
    long n, hn;
    json_t *alg, *kid, *typ;

    memset(t, 0, sizeof(*t));
    t->alg = -1;
    if (len > JWT_MAX_TOKEN) {
        *why = "token larger than 8 KiB";
        return -1;
    }
    d1 = memchr(tok, '.', len);
    d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok))) {
        *why = "not three dot-separated segments (JWE is not accepted)";
        return -1;
    }
    sig = d2 + 1;
    if (d1 == tok || d2 == d1 + 1 || sig == tok + len) {
        *why = "an empty segment (unsigned tokens are refused)";
        return -1;
    }
    hn = bast_b64_decode(tok, (size_t)(d1 - tok), hdr, sizeof(hdr),
                         BAST_B64_URL | BAST_B64_NOPAD);
    if (hn <= 0) {
        *why = "JOSE header: bad or oversized base64url";
        return -1;
    }
    n = bast_b64_decode(sig, (size_t)(tok + len - sig), t->sig, sizeof(t->sig),
                        BAST_B64_URL | BAST_B64_NOPAD);
    if (n <= 0) {
        *why = "signature: bad base64url";
        return -1;
    }
    t->siglen = (size_t)n;
    t->input = tok;
    t->inlen = (size_t)(d2 - tok);
    t->payload_b64 = d1 + 1;
    t->payload_len = (size_t)(d2 - d1 - 1);

    if (!(t->hdr = jwt_json_object(hdr, (size_t)hn, why)))
        return -1;
    alg = json_object_get(t->hdr, "alg");
    if (!json_is_string(alg) ||
        (t->alg = jwt_alg_find(json_string_value(alg),
                               json_string_length(alg))) < 0) {
        *why = "alg missing or not supported";
        goto bad;
    }
    kid = json_object_get(t->hdr, "kid");
    if (kid) {
        if (!json_is_string(kid) || json_string_length(kid) == 0 ||
            json_string_length(kid) > JWT_MAX_KID) {
            *why = "kid is not a short string";
            goto bad;
        }
        t->kid = json_string_value(kid);
    }
    typ = json_object_get(t->hdr, "typ");
    if (typ) {
        if (!json_is_string(typ)) {
            *why = "typ is not a string";
            goto bad;
        }
        t->typ = json_string_value(typ);
    }
    return 0;
bad:
    jwt_token_clear(t);
    return -1;
}

json_t *
jwt_token_claims(const jwt_token *t, const char **why)
{
    char buf[JWT_MAX_TOKEN];
    long n = bast_b64_decode(t->payload_b64, t->payload_len, buf, sizeof(buf),
                             BAST_B64_URL | BAST_B64_NOPAD);
    if (n <= 0) {
        *why = "payload: bad base64url";
        return NULL;
    }
    return jwt_json_object(buf, (size_t)n, why);
}
