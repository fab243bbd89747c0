/*
 * claims.c - the claim and header rules of the `jwt` plugin (RFC 7519 §4.1,
 * RFC 8725, RFC 9068, RFC 8705 §3): `exp` required unless require_exp = no,
 * `nbf` and `iat` against the leeway, max_lifetime, exact `iss`, any-of
 * `aud`, `typ`, no `crit` (no extension is understood), required claims,
 * and the `cnf.x5t#S256` certificate binding.  Time claims must be JSON
 * numbers; anything else is invalid_token.  Expiry alone is token_expired.
 */
#include "jwt.h"

#include <math.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int
fail(jwt_verdict *v, bast_res res, const char *error, const char *why)
{
    v->res = res;
    v->error = error;
    v->why = why;
    return -1;
}

int
jwt_check_header(const jwt_rules *r, const jwt_token *t, jwt_verdict *v)
{
    if (json_object_get(t->hdr, "crit"))
        return fail(v, BAST_RES_DENY, "invalid_token",
                    "crit names an extension this server does not know");
    if (r->typ) {
        const char *typ = t->typ;
        /* RFC 7515 §4.1.9: "application/" may be omitted; compare
         * case-insensitively */
        if (typ && strncasecmp(typ, "application/", 12) == 0)
            typ += 12;
        if (!typ || strcasecmp(typ, r->typ) != 0)
            return fail(v, BAST_RES_DENY, "invalid_token", "wrong typ");
    }
    return 0;
}

/* A NumericDate: 1 present, 0 absent, -1 not a number or out of range. */
static int
numeric_date(json_t *c, const char *name, int64_t *out)
{
    json_t *v = json_object_get(c, name);
    double d;
    if (!v)
        return 0;
    if (!json_is_number(v))
        return -1;
    d = json_number_value(v);
    if (!isfinite(d) || d < 0 || d > 253402300799.0) /* year 9999 */
        return -1;
    *out = (int64_t)floor(d);
    return 1;
}

static int
audience_ok(const jwt_rules *r, json_t *aud)
{
    size_t i, j;
    json_t *a;
    if (json_is_string(aud)) {
        for (j = 0; j < r->naud; j++)
            if (strcmp(json_string_value(aud), r->audience[j]) == 0)
                return 1;
        return 0;
    }
    if (!json_is_array(aud))
        return 0;
    json_array_foreach(aud, i, a)
    {
        if (!json_is_string(a))
            return 0; /* a malformed member spoils the claim */
    }
    json_array_foreach(aud, i,
                       a) for (j = 0; j < r->naud;
                               j++) if (strcmp(json_string_value(a),
                                               r->audience[j]) == 0) return 1;
    return 0;
}

/* SHA-256 of the leaf certificate's DER, base64url (RFC 8705 §3.1). */
static int
cert_thumbprint(const EVP_MD *sha256, const char *pem, char *out, size_t outlen)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    unsigned char md[32];
    unsigned int mdlen = 0;
    int ok = x && X509_digest(x, sha256, md, &mdlen) && mdlen == 32 &&
             bast_b64_encode(md, 32, out, outlen,
                             BAST_B64_URL | BAST_B64_NOPAD) == 43;
    X509_free(x);
    BIO_free(b);
    return ok ? 0 : -1;
}

static int
check_cnf(const jwt_rules *r, json_t *claims, const char *pem, jwt_verdict *v)
{
    json_t *cnf = json_object_get(claims, "cnf");
    json_t *x5t = cnf ? json_object_get(cnf, "x5t#S256") : NULL;
    char have[64];

    /* a bound token is checked even where binding is not required:
     * presenting it without its certificate is the theft it prevents */
    if (!x5t) {
        if (r->require_cnf)
            return fail(v, BAST_RES_DENY, "invalid_token",
                        "token is not certificate-bound (no cnf.x5t#S256)");
        return 0;
    }
    if (!json_is_string(x5t) || json_string_length(x5t) != 43)
        return fail(v, BAST_RES_DENY, "invalid_token", "bad cnf.x5t#S256");
    if (!pem || !*pem)
        return fail(v, BAST_RES_DENY, "invalid_token",
                    "certificate-bound token without a client certificate");
    if (cert_thumbprint(r->sha256, pem, have, sizeof(have)) < 0)
        return fail(v, BAST_RES_DENY, "invalid_token",
                    "client certificate does not parse");
    if (!bast_ct_equal(have, json_string_value(x5t), 43))
        return fail(v, BAST_RES_DENY, "invalid_token",
                    "token bound to another certificate");
    return 0;
}

int
jwt_check_claims(const jwt_rules *r, json_t *c, int64_t now, const char *pem,
                 jwt_verdict *v)
{
    int64_t exp = 0, nbf = 0, iat = 0;
    int has_exp = numeric_date(c, "exp", &exp);
    int has_nbf = numeric_date(c, "nbf", &nbf);
    int has_iat = numeric_date(c, "iat", &iat);
    int64_t lw = (int64_t)r->leeway;

    if (has_exp < 0 || has_nbf < 0 || has_iat < 0)
        return fail(v, BAST_RES_DENY, "invalid_token",
                    "exp, nbf or iat is not a number");
    if (!has_exp && r->require_exp)
        return fail(v, BAST_RES_DENY, "invalid_token", "no exp claim");
    if (has_nbf && now + lw < nbf)
        return fail(v, BAST_RES_DENY, "invalid_token", "not yet valid (nbf)");
    if (has_iat && iat > now + lw)
        return fail(v, BAST_RES_DENY, "invalid_token",
                    "issued in the future (iat)");
    if (r->max_lifetime > 0) {
        if (!has_exp)
            return fail(v, BAST_RES_DENY, "invalid_token",
                        "max_lifetime needs exp");
        if (exp - (has_iat ? iat : now) > (int64_t)r->max_lifetime)
            return fail(v, BAST_RES_DENY, "invalid_token",
                        "lifetime longer than max_lifetime");
    }
    if (r->issuer) {
        json_t *iss = json_object_get(c, "iss");
        if (!json_is_string(iss) ||
            strcmp(json_string_value(iss), r->issuer) != 0)
            return fail(v, BAST_RES_DENY, "invalid_token", "wrong issuer");
    }
    if (r->naud > 0 && !audience_ok(r, json_object_get(c, "aud")))
        return fail(v, BAST_RES_DENY, "invalid_token", "wrong audience");
    for (size_t i = 0; i < r->nrequired; i++)
        if (!json_object_get(c, r->required[i]))
            return fail(v, BAST_RES_DENY, "invalid_token",
                        "a required claim is missing");
    if (check_cnf(r, c, pem, v) < 0)
        return -1;
    /* expiry last, so a forged or misdirected old token reads invalid */
    if (has_exp && now >= exp + lw)
        return fail(v, BAST_RES_DENY, "token_expired", "token expired");
    return 0;
}

static int
push_scope(const char *s, size_t n, char *buf, size_t buflen, size_t *used,
           const char **out, size_t max, size_t *cnt)
{
    if (n == 0)
        return 0;
    if (*cnt >= max || *used + n + 1 > buflen)
        return -1;
    memcpy(buf + *used, s, n);
    buf[*used + n] = '\0';
    out[(*cnt)++] = buf + *used;
    *used += n + 1;
    return 0;
}

static int
split_scopes(const char *s, char *buf, size_t buflen, size_t *used,
             const char **out, size_t max, size_t *cnt)
{
    while (*s) {
        size_t n;
        while (*s == ' ')
            s++;
        n = strcspn(s, " ");
        if (push_scope(s, n, buf, buflen, used, out, max, cnt) < 0)
            return -1;
        s += n;
    }
    return 0;
}

int
jwt_scopes(json_t *c, char *buf, size_t buflen, const char **out, size_t max)
{
    json_t *scope = json_object_get(c, "scope");
    json_t *scp = json_object_get(c, "scp");
    size_t used = 0, cnt = 0, i;
    json_t *s;

    if (scope) {
        if (!json_is_string(scope) ||
            split_scopes(json_string_value(scope), buf, buflen, &used, out, max,
                         &cnt) < 0)
            return -1;
    } else if (json_is_string(scp)) {
        if (split_scopes(json_string_value(scp), buf, buflen, &used, out, max,
                         &cnt) < 0)
            return -1;
    } else if (json_is_array(scp)) {
        json_array_foreach(scp, i, s)
        {
            if (!json_is_string(s) ||
                push_scope(json_string_value(s), json_string_length(s), buf,
                           buflen, &used, out, max, &cnt) < 0)
                return -1;
        }
    } else if (scp) {
        return -1;
    }
    return (int)cnt;
}

int
jwt_check_scopes(const jwt_rules *r, const char *const *have, size_t n,
                 jwt_verdict *v)
{
    for (size_t i = 0; i < r->nscopes; i++) {
        size_t j = 0;
        while (j < n && strcmp(have[j], r->scopes[i]) != 0)
            j++;
        if (j == n)
            return fail(v, BAST_RES_FORBIDDEN, "insufficient_scope",
                        "a required scope is missing");
    }
    return 0;
}
