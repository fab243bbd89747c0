/*
 * jwt.h - internal declarations shared by the files of the `jwt` plugin
 * (JWS compact tokens as OAuth bearer tokens).  plugin.c reads the options
 * and runs a request through extract.c (find the token), jose.c (split and
 * decode it), keys.c / remote.c (find the key), sig.c (check the
 * signature with per-thread OpenSSL contexts), claims.c (time, issuer,
 * audience, scopes, cnf) and revoke.c (jti denylist).  Nothing here is
 * exported from the .so.
 */
#ifndef BAST_JWT_H
#define BAST_JWT_H

#include "bast_plugin.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>

#define JWT_MAX_TOKEN 8192  /* DESIGN.md: tokens over 8 KiB are refused */
#define JWT_MAX_HEADER 2048 /* decoded JOSE header */
#define JWT_MAX_SIG 1024    /* RSA 8192 */
#define JWT_MAX_DEPTH 16    /* JSON nesting in header and claims */
#define JWT_MAX_KID 256
#define JWT_MAX_KEYS 64 /* keys in one JWKS */
#define JWT_MAX_JWKS (1 << 20)
#define JWT_MAX_LIST 32 /* audiences, scopes, claim names in options */

/* ---- algorithms (alg.c) ---------------------------------------------- */

enum jwt_family {
    JWT_FAM_HMAC,
    JWT_FAM_RSA,
    JWT_FAM_PSS,
    JWT_FAM_EC,
    JWT_FAM_ED
};
enum jwt_hash { JWT_SHA256, JWT_SHA384, JWT_SHA512, JWT_NHASH };

typedef struct jwt_alg {
    const char *name;  /* "RS256" */
    int family;        /* JWT_FAM_* */
    int hash;          /* JWT_SHA*, unused for EdDSA */
    size_t size;       /* EC: bytes of one coordinate; HMAC: output */
    const char *group; /* EC: OpenSSL group name */
} jwt_alg;

#define JWT_NALGS 13
extern const jwt_alg jwt_algs[JWT_NALGS];
/* Index of `name` (exact, case-sensitive as RFC 7515 says), or -1. */
int jwt_alg_find(const char *name, size_t len);
/* Parse "RS256 ES256" (spaces or commas) into a bit mask of jwt_algs. */
int jwt_alg_mask(const char *list, unsigned *mask, char *bad, size_t badlen);
#define JWT_ALG_BIT(i) (1u << (i))
unsigned jwt_alg_family_mask(int family, int hash_or_minus1);

/* ---- keys (keys.c) --------------------------------------------------- */

typedef struct jwt_key {
    char *kid;      /* NULL when the key has none */
    unsigned algs;  /* algorithms this key may verify (its kty/crv) */
    EVP_PKEY *pkey; /* RSA, EC, Ed25519 */
    EVP_MAC_CTX *mac[JWT_NHASH]; /* HMAC: one keyed template per hash */
    /* asymmetric: one verify context per algorithm, initialised at load
     * (key, prefetched digest, PSS padding) and only ever copied from:
     * a copy skips the provider fetches an init does per request */
    EVP_MD_CTX *tmpl[JWT_NALGS];
} jwt_key;

typedef struct jwt_keyset {
    jwt_key *keys;
    size_t n, cap;
    unsigned long gen; /* tells sets apart for the token cache */
    atomic_uint refs;
} jwt_keyset;

/* Digests and the HMAC method, fetched once per instance. */
typedef struct jwt_crypto {
    EVP_MD *md[JWT_NHASH];
    EVP_MAC *hmac;
} jwt_crypto;

jwt_keyset *jwt_keyset_new(void);
void jwt_keyset_ref(jwt_keyset *ks);
void jwt_keyset_unref(jwt_keyset *ks);
/* Parse a JWKS document; keys of unsupported types or use=enc are skipped,
 * a broken key of a supported type fails the whole set.  `allowed` limits
 * every key's algorithms.  Returns 0 or -1 with a message. */
int jwt_keyset_add_jwks(jwt_keyset *ks, const jwt_crypto *cr, const char *text,
                        size_t len, unsigned allowed, char *err, size_t errlen);
/* A PEM public key (SPKI or certificate) for the algorithms of `allowed`
 * its type permits. */
int jwt_keyset_add_pem(jwt_keyset *ks, const jwt_crypto *cr, const char *path,
                       unsigned allowed, char *err, size_t errlen);
/* An HMAC secret (raw bytes of a file); shorter than a hash's output is
 * refused for that hash. */
int jwt_keyset_add_secret(jwt_keyset *ks, const jwt_crypto *cr,
                          const unsigned char *secret, size_t len,
                          unsigned allowed, char *err, size_t errlen);
/* Candidate keys for (kid, alg): calls `fn` for each, stops when it
 * returns non-zero and returns that value; 0 when none matched.  With a
 * kid only keys with that kid; without one, every key for `alg`.
 * *seen_kid tells whether any key could answer that kid at all. */
int jwt_keyset_each(const jwt_keyset *ks, const char *kid, int alg,
                    int (*fn)(const jwt_key *k, void *arg), void *arg,
                    int *seen_kid);

/* ---- signature (sig.c) ----------------------------------------------- */

typedef struct jwt_sig jwt_sig; /* per-instance: crypto + per-thread ctxs */
jwt_sig *jwt_sig_new(const jwt_crypto *cr, char *err, size_t errlen);
void jwt_sig_free(jwt_sig *s);
/* 1 valid, 0 invalid, -1 internal failure (fail closed). */
int jwt_sig_verify(jwt_sig *s, int alg, const jwt_key *k,
                   const unsigned char *input, size_t inlen,
                   const unsigned char *sig, size_t siglen);

/* ---- the token (jose.c) ---------------------------------------------- */

typedef struct jwt_token {
    const char *input; /* header.payload, signed bytes */
    size_t inlen;
    const char *payload_b64;
    size_t payload_len;
    unsigned char sig[JWT_MAX_SIG];
    size_t siglen;
    json_t *hdr;     /* owned */
    int alg;         /* index in jwt_algs */
    const char *kid; /* borrowed from hdr, or NULL */
    const char *typ; /* borrowed from hdr, or NULL */
} jwt_token;

/* Split and decode; the header is parsed, the payload is not (the claims
 * are read only once the signature holds).  0 or -1 with *why. */
int jwt_token_parse(const char *tok, size_t len, jwt_token *t,
                    const char **why);
/* Decode and parse the payload into a JSON object (caller owns). */
json_t *jwt_token_claims(const jwt_token *t, const char **why);
void jwt_token_clear(jwt_token *t);
/* Strict JSON: duplicate members refused, an object, depth limited. */
json_t *jwt_json_object(const char *text, size_t len, const char **why);

/* ---- extraction (extract.c) ------------------------------------------ */

typedef struct jwt_where {
    const char *header; /* token_header, or NULL */
    const char *cookie; /* token_cookie, or NULL */
    int query;          /* allow_query_token */
} jwt_where;

/* BAST_RES_SUCCESS with the token, BAST_RES_ABSENT, or BAST_RES_MALFORMED
 * with *why. */
bast_res jwt_extract(const jwt_where *w, const bast_request *req,
                     const char **tok, size_t *len, const char **why);

/* ---- claims (claims.c) ----------------------------------------------- */

typedef struct jwt_rules {
    const char *issuer;
    const char *audience[JWT_MAX_LIST];
    size_t naud;
    const char *typ;
    const char *required[JWT_MAX_LIST];
    size_t nrequired;
    const char *scopes[JWT_MAX_LIST]; /* required_scopes */
    size_t nscopes;
    const char *scopes_text;        /* for the challenge */
    long long leeway, max_lifetime; /* max_lifetime 0: no limit */
    int require_exp, require_cnf;
    const EVP_MD *sha256; /* prefetched, for certificate thumbprints */
} jwt_rules;

typedef struct jwt_verdict {
    bast_res res;
    const char *error; /* invalid_token, token_expired, ... */
    const char *why;   /* description */
} jwt_verdict;

/* Header checks that do not need the key (typ, crit). */
int jwt_check_header(const jwt_rules *r, const jwt_token *t, jwt_verdict *v);
/* Time, issuer, audience, required claims, cnf binding. */
int jwt_check_claims(const jwt_rules *r, json_t *claims, int64_t now,
                     const char *peer_cert_pem, jwt_verdict *v);
/* Scopes from `scope` (space-separated) or `scp` (array or string).
 * Fills up to `max` borrowed pointers into `buf` copies; returns count
 * or -1 when malformed. */
int jwt_scopes(json_t *claims, char *buf, size_t buflen, const char **out,
               size_t max);
int jwt_check_scopes(const jwt_rules *r, const char *const *have, size_t n,
                     jwt_verdict *v);

/* ---- jwks_uri (remote.c) --------------------------------------------- */

typedef struct jwt_remote jwt_remote;
typedef struct jwt_remote_conf {
    const char *uri;
    long long refresh;      /* upper bound between fetches */
    long long min_interval; /* lower bound, also for unknown-kid refetch */
    long long timeout;
    unsigned allowed;
    const jwt_crypto *crypto;
    const bast_instance *inst;
} jwt_remote_conf;

jwt_remote *jwt_remote_open(const jwt_remote_conf *c, char *err, size_t errlen);
void jwt_remote_close(jwt_remote *r);
/* The current key set (a reference the caller drops), or NULL when no
 * fetch ever succeeded. */
jwt_keyset *jwt_remote_get(jwt_remote *r);
/* An unknown kid arrived: refetch now unless one ran within
 * min_interval.  Returns 1 when a new set was installed. */
int jwt_remote_refetch(jwt_remote *r);

/* ---- revocation (revoke.c) ------------------------------------------- */

typedef struct jwt_denylist jwt_denylist;
jwt_denylist *jwt_denylist_open(const char *path, char *err, size_t errlen);
void jwt_denylist_close(jwt_denylist *d);
/* 1 revoked, 0 not, -1 the list cannot be read (fail closed). */
int jwt_denylist_has(jwt_denylist *d, const char *jti);
const char *jwt_denylist_path(const jwt_denylist *d);
/* Append every listed jti to a JSON array; -1 when unreadable. */
int jwt_denylist_each(jwt_denylist *d, json_t *arr);

/* ---- token cache (cache.c) ------------------------------------------- */

typedef struct jwt_cache jwt_cache;
jwt_cache *jwt_cache_new(size_t entries);
void jwt_cache_free(jwt_cache *c);
/* 1 when this exact token's signature was verified before with key set
 * `gen` and its exp is still ahead of `now`. */
int jwt_cache_hit(jwt_cache *c, const unsigned char digest[32],
                  unsigned long gen, int64_t now);
void jwt_cache_put(jwt_cache *c, const unsigned char digest[32],
                   unsigned long gen, int64_t exp);

/* ---- the instance (plugin.c) and a request (verify.c) ----------------- */

typedef struct jwt_inst {
    const bast_instance *inst;
    jwt_crypto cr;
    jwt_sig *sig;
    jwt_keyset *keys; /* from files; NULL when only jwks_uri */
    jwt_remote *remote;
    jwt_denylist *deny;
    jwt_cache *cache;
    jwt_rules rules;
    jwt_where where;
    unsigned allowed;
    int jti_once;
    int revocation_store; /* revoked jtis in the context's replay store */
    const char *identity_claim;
    const char *copy[JWT_MAX_LIST];
    size_t ncopy;
    char *pool[16]; /* owned copies of option strings */
    size_t npool;
    char realm[300]; /* `Bearer realm="..."`, escaped */
} jwt_inst;

bast_res jwt_verify(void *state, bast_call *call);
int jwt_admin(void *state, const bast_instance *inst, int argc, char **argv);

#endif
