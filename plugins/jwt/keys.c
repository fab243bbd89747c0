/*
 * keys.c - verification keys of the `jwt` plugin: JWKS documents (RFC 7517,
 * RFC 7518 §6, RFC 8037 §2), PEM public keys and HMAC secrets, each turned
 * into an OpenSSL key once, at load or fetch.  Every key is bound to the
 * algorithms its kty/crv permits (RSA: RS*, PS*; EC: the one ES* of its
 * curve; OKP Ed25519: EdDSA; oct: HS* no longer than the secret), narrowed
 * by its own `alg` and by the instance's allow-list, so `none`, RSA/HMAC
 * key confusion and curve confusion cannot be expressed.
 */
#include "jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_RSA_BITS 2048 /* RFC 7518 §3.3 */

static const char *const hash_names[JWT_NHASH] = {"SHA256", "SHA384", "SHA512"};

jwt_keyset *
jwt_keyset_new(void)
{
    jwt_keyset *ks = calloc(1, sizeof(*ks));
    if (ks) {
        atomic_init(&ks->refs, 1);
        ks->gen = 1;
    }
    return ks;
}

void
jwt_keyset_ref(jwt_keyset *ks)
{
    atomic_fetch_add(&ks->refs, 1);
}

static void
key_clear(jwt_key *k)
{
    free(k->kid);
    EVP_PKEY_free(k->pkey);
    for (int h = 0; h < JWT_NHASH; h++)
        EVP_MAC_CTX_free(k->mac[h]);
    for (int i = 0; i < JWT_NALGS; i++)
        EVP_MD_CTX_free(k->tmpl[i]);
    memset(k, 0, sizeof(*k));
}

void
jwt_keyset_unref(jwt_keyset *ks)
{
    if (!ks || atomic_fetch_sub(&ks->refs, 1) != 1)
        return;
    for (size_t i = 0; i < ks->n; i++)
        key_clear(&ks->keys[i]);
    free(ks->keys);
    free(ks);
}

/* One verify context per algorithm of an asymmetric key. */
static int
templates(jwt_key *k, const jwt_crypto *cr)
{
    for (int i = 0; k->pkey && i < JWT_NALGS; i++) {
        const jwt_alg *a = &jwt_algs[i];
        EVP_PKEY_CTX *pc = NULL;
        if (!(k->algs & JWT_ALG_BIT(i)) || a->family == JWT_FAM_HMAC)
            continue;
        if (!(k->tmpl[i] = EVP_MD_CTX_new()) ||
            EVP_DigestVerifyInit(k->tmpl[i], &pc,
                                 a->family == JWT_FAM_ED ? NULL
                                                         : cr->md[a->hash],
                                 NULL, k->pkey) != 1)
            return -1;
        if (a->family == JWT_FAM_PSS &&
            (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) <= 0 ||
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) <= 0))
            return -1;
    }
    return 0;
}

/* Takes ownership of *k's contents (cleared on failure too). */
static int
keyset_push(jwt_keyset *ks, const jwt_crypto *cr, jwt_key *k, char *err,
            size_t errlen)
{
    if (templates(k, cr) < 0) {
        snprintf(err, errlen, "OpenSSL cannot prepare the key");
        key_clear(k);
        return -1;
    }
    if (ks->n >= JWT_MAX_KEYS) {
        snprintf(err, errlen, "more than %d keys", JWT_MAX_KEYS);
        key_clear(k);
        return -1;
    }
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 4;
        jwt_key *nk = realloc(ks->keys, cap * sizeof(*nk));
        if (!nk) {
            snprintf(err, errlen, "out of memory");
            key_clear(k);
            return -1;
        }
        ks->keys = nk;
        ks->cap = cap;
    }
    ks->keys[ks->n++] = *k;
    memset(k, 0, sizeof(*k));
    return 0;
}

/* A base64url member of a JWK, strict (RFC 7515 §2, no padding). */
static long
b64_member(json_t *jwk, const char *name, unsigned char *out, size_t outlen)
{
    json_t *v = json_object_get(jwk, name);
    const char *s;
    size_t n;
    if (!json_is_string(v))
        return -1;
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0 || n > outlen * 4 / 3 + 4)
        return -1;
    return bast_b64_decode(s, n, out, outlen, BAST_B64_URL | BAST_B64_NOPAD);
}

static EVP_PKEY *
rsa_from_jwk(json_t *jwk, const char **why)
{
    unsigned char n[1100], e[16];
    long nl = b64_member(jwk, "n", n, sizeof(n));
    long el = b64_member(jwk, "e", e, sizeof(e));
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pc = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn = NULL, *be = NULL;

    if (nl <= 0 || el <= 0 || n[0] == 0 || e[0] == 0) {
        *why = "RSA key: bad n or e";
        return NULL;
    }
    bn = BN_bin2bn(n, (int)nl, NULL);
    be = BN_bin2bn(e, (int)el, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (!bn || !be || !bld ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)) ||
        !(pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) ||
        EVP_PKEY_fromdata_init(pc) <= 0 ||
        EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        *why = "RSA key: rejected by OpenSSL";
    } else {
        /* an even modulus or e = 1 would make "verification" meaningless */
        EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (!chk || EVP_PKEY_public_check(chk) != 1) {
            *why = "RSA key: not a valid public key";
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
        EVP_PKEY_CTX_free(chk);
    }
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(pc);
    BN_free(bn);
    BN_free(be);
    return pkey;
}

/* EC: x and y must be exactly the curve's size (RFC 7518 §6.2.1.2). */
static EVP_PKEY *
ec_from_jwk(json_t *jwk, const jwt_alg *a, const char **why)
{
    unsigned char pt[1 + 2 * 66], x[80], y[80];
    long xl = b64_member(jwk, "x", x, sizeof(x));
    long yl = b64_member(jwk, "y", y, sizeof(y));
    OSSL_PARAM params[3];
    EVP_PKEY_CTX *pc = NULL, *chk = NULL;
    EVP_PKEY *pkey = NULL;

    if (xl != (long)a->size || yl != (long)a->size) {
        *why = "EC key: x or y of the wrong length";
        return NULL;
    }
    pt[0] = 0x04;
    memcpy(pt + 1, x, a->size);
    memcpy(pt + 1 + a->size, y, a->size);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)a->group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt,
                                                  1 + 2 * a->size);
    params[2] = OSSL_PARAM_construct_end();
    if (!(pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ||
        EVP_PKEY_fromdata_init(pc) <= 0 ||
        EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        *why = "EC key: rejected by OpenSSL";
    } else if (!(chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) ||
               EVP_PKEY_public_check(chk) != 1) {
        *why = "EC key: point not on the curve";
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(pc);
    EVP_PKEY_CTX_free(chk);
    return pkey;
}

static EVP_PKEY *
ed_from_jwk(json_t *jwk, const char **why)
{
    unsigned char x[40];
    long xl = b64_member(jwk, "x", x, sizeof(x));
    EVP_PKEY *pkey = NULL;
    if (xl != 32)
        *why = "OKP key: x must be 32 bytes";
    else if (!(pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x,
                                                     32)))
        *why = "OKP key: rejected by OpenSSL";
    return pkey;
}

static int
hmac_templates(jwt_key *k, const jwt_crypto *cr, const unsigned char *sec,
               size_t len, unsigned allowed)
{
    for (int i = 0; i < JWT_NALGS; i++) {
        const jwt_alg *a = &jwt_algs[i];
        OSSL_PARAM p[2];
        if (a->family != JWT_FAM_HMAC || !(allowed & JWT_ALG_BIT(i)))
            continue;
        /* RFC 7518 §3.2: a key at least as long as the hash output */
        if (len < a->size)
            continue;
        p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                (char *)hash_names[a->hash], 0);
        p[1] = OSSL_PARAM_construct_end();
        k->mac[a->hash] = EVP_MAC_CTX_new(cr->hmac);
        if (!k->mac[a->hash] || !EVP_MAC_init(k->mac[a->hash], sec, len, p))
            return -1;
        k->algs |= JWT_ALG_BIT(i);
    }
    return 0;
}

int
jwt_keyset_add_secret(jwt_keyset *ks, const jwt_crypto *cr,
                      const unsigned char *secret, size_t len, unsigned allowed,
                      char *err, size_t errlen)
{
    jwt_key k = {0};
    unsigned hs = allowed & jwt_alg_family_mask(JWT_FAM_HMAC, -1);
    if (!hs) {
        snprintf(err, errlen, "no HS256/HS384/HS512 in algorithms");
        return -1;
    }
    for (int i = 0; i < JWT_NALGS; i++)
        if ((hs & JWT_ALG_BIT(i)) && len < jwt_algs[i].size) {
            snprintf(err, errlen,
                     "secret of %zu bytes is shorter than %s needs (%zu)", len,
                     jwt_algs[i].name, jwt_algs[i].size);
            return -1;
        }
    if (hmac_templates(&k, cr, secret, len, hs) < 0) {
        key_clear(&k);
        snprintf(err, errlen, "cannot prepare HMAC");
        return -1;
    }
    return keyset_push(ks, cr, &k, err, errlen);
}

static unsigned
pkey_algs(EVP_PKEY *pkey, const char **why)
{
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        if (EVP_PKEY_get_bits(pkey) < MIN_RSA_BITS) {
            *why = "RSA key shorter than 2048 bits";
            return 0;
        }
        return jwt_alg_family_mask(JWT_FAM_RSA, -1) |
               jwt_alg_family_mask(JWT_FAM_PSS, -1);
    }
    if (EVP_PKEY_is_a(pkey, "ED25519"))
        return jwt_alg_family_mask(JWT_FAM_ED, -1);
    if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[32];
        size_t gl = 0;
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, sizeof(group), &gl))
            return 0;
        for (int i = 0; i < JWT_NALGS; i++)
            if (jwt_algs[i].family == JWT_FAM_EC &&
                (strcmp(group, jwt_algs[i].group) == 0 ||
                 (i == 9 && strcmp(group, "prime256v1") == 0) ||
                 (i == 10 && strcmp(group, "secp384r1") == 0) ||
                 (i == 11 && strcmp(group, "secp521r1") == 0)))
                return JWT_ALG_BIT(i);
        *why = "EC key on an unsupported curve";
        return 0;
    }
    *why = "unsupported key type";
    return 0;
}

/* One JWK.  Returns 0 added, 1 skipped (not ours), -1 broken. */
static int
add_jwk(jwt_keyset *ks, const jwt_crypto *cr, json_t *jwk, unsigned allowed,
        const char **why)
{
    jwt_key k = {0};
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    json_t *use = json_object_get(jwk, "use");
    json_t *ops = json_object_get(jwk, "key_ops");
    json_t *alg = json_object_get(jwk, "alg");
    json_t *kid = json_object_get(jwk, "kid");
    char err[128];

    if (!json_is_object(jwk) || !kty) {
        *why = "a key without kty";
        return -1;
    }
    if (use &&
        (!json_is_string(use) || strcmp(json_string_value(use), "sig") != 0))
        return 1;
    if (ops) {
        size_t i;
        json_t *op;
        int verify = 0;
        if (!json_is_array(ops))
            return -1;
        json_array_foreach(ops, i, op) if (json_is_string(op) &&
                                           strcmp(json_string_value(op),
                                                  "verify") == 0) verify = 1;
        if (!verify)
            return 1;
    }
    if (kid && (!json_is_string(kid) || json_string_length(kid) == 0 ||
                json_string_length(kid) > JWT_MAX_KID)) {
        *why = "a kid that is not a short string";
        return -1;
    }
    if (alg) {
        const char *an = json_string_value(alg);
        int ai = an ? jwt_alg_find(an, strlen(an)) : -1;
        if (ai < 0)
            return 1; /* an algorithm we do not do: the key is not ours */
        allowed &= JWT_ALG_BIT(ai);
    }

    if (strcmp(kty, "RSA") == 0) {
        k.pkey = rsa_from_jwk(jwk, why);
        if (!k.pkey)
            return -1;
        k.algs = pkey_algs(k.pkey, why);
        if (!k.algs) {
            key_clear(&k);
            return -1;
        }
    } else if (strcmp(kty, "EC") == 0) {
        int ai = -1;
        for (int i = 0; crv && i < JWT_NALGS; i++)
            if (jwt_algs[i].family == JWT_FAM_EC &&
                strcmp(crv, jwt_algs[i].group) == 0)
                ai = i;
        if (ai < 0)
            return 1; /* secp256k1 and friends: not ours */
        if (!(k.pkey = ec_from_jwk(jwk, &jwt_algs[ai], why)))
            return -1;
        k.algs = JWT_ALG_BIT(ai);
    } else if (strcmp(kty, "OKP") == 0) {
        if (!crv || strcmp(crv, "Ed25519") != 0)
            return 1;
        if (!(k.pkey = ed_from_jwk(jwk, why)))
            return -1;
        k.algs = jwt_alg_family_mask(JWT_FAM_ED, -1);
    } else if (strcmp(kty, "oct") == 0) {
        unsigned char sec[512];
        long sl = b64_member(jwk, "k", sec, sizeof(sec));
        int rc;
        if (sl <= 0) {
            *why = "oct key: bad k";
            return -1;
        }
        rc = hmac_templates(&k, cr, sec, (size_t)sl, allowed);
        OPENSSL_cleanse(sec, sizeof(sec));
        if (rc < 0) {
            key_clear(&k);
            *why = "oct key: cannot prepare HMAC";
            return -1;
        }
    } else {
        return 1;
    }
    k.algs &= allowed;
    if (!k.algs) {
        key_clear(&k);
        return 1; /* none of its algorithms is allowed here */
    }
    if (kid && !(k.kid = strdup(json_string_value(kid)))) {
        key_clear(&k);
        *why = "out of memory";
        return -1;
    }
    if (keyset_push(ks, cr, &k, err, sizeof(err)) < 0) {
        *why = "too many keys, or OpenSSL refused the key";
        return -1;
    }
    return 0;
}

int
jwt_keyset_add_jwks(jwt_keyset *ks, const jwt_crypto *cr, const char *text,
                    size_t len, unsigned allowed, char *err, size_t errlen)
{
    const char *why = NULL;
    json_t *doc, *keys, *jwk;
    size_t i;
    int ret = -1;

    if (len > JWT_MAX_JWKS) {
        snprintf(err, errlen, "JWKS larger than %d bytes", JWT_MAX_JWKS);
        return -1;
    }
    if (!(doc = jwt_json_object(text, len, &why))) {
        snprintf(err, errlen, "JWKS: %s", why);
        return -1;
    }
    keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        snprintf(err, errlen, "JWKS: no \"keys\" array");
        goto done;
    }
    json_array_foreach(keys, i, jwk)
    {
        why = "bad key";
        if (add_jwk(ks, cr, jwk, allowed, &why) < 0) {
            snprintf(err, errlen, "JWKS key %zu: %s", i, why);
            goto done;
        }
    }
    ret = 0;
done:
    json_decref(doc);
    return ret;
}

int
jwt_keyset_add_pem(jwt_keyset *ks, const jwt_crypto *cr, const char *path,
                   unsigned allowed, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *pkey = NULL;
    jwt_key k = {0};
    const char *why = "no usable key";

    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    if (!pkey) {
        X509 *x;
        rewind(f);
        if ((x = PEM_read_X509(f, NULL, NULL, NULL))) {
            pkey = X509_get_pubkey(x);
            X509_free(x);
        }
    }
    fclose(f);
    if (!pkey) {
        snprintf(err, errlen, "%s: no PEM public key or certificate", path);
        return -1;
    }
    k.pkey = pkey;
    k.algs = pkey_algs(pkey, &why) & allowed;
    if (!k.algs) {
        key_clear(&k);
        snprintf(err, errlen, "%s: %s for the configured algorithms", path,
                 why);
        return -1;
    }
    return keyset_push(ks, cr, &k, err, errlen);
}

int
jwt_keyset_each(const jwt_keyset *ks, const char *kid, int alg,
                int (*fn)(const jwt_key *k, void *arg), void *arg,
                int *seen_kid)
{
    *seen_kid = 0;
    for (size_t i = 0; i < ks->n; i++) {
        const jwt_key *k = &ks->keys[i];
        int rc;
        /* a key without a kid (a PEM file, a secret) answers any kid */
        if (kid && k->kid && strcmp(k->kid, kid) != 0)
            continue;
        *seen_kid = 1;
        if (!(k->algs & JWT_ALG_BIT(alg)))
            continue;
        if ((rc = fn(k, arg)) != 0)
            return rc;
    }
    return 0;
}
