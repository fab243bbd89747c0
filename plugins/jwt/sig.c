/*
 * sig.c - JWS signature checks for the `jwt` plugin.  Digests and the HMAC
 * method are fetched once per instance (OpenSSL 3's implicit fetch by name
 * takes locks and does not scale across threads); each thread keeps its
 * own EVP_MD_CTX, found through a pthread key owned by the instance, so a
 * verify allocates no OpenSSL context.  ECDSA signatures arrive as R||S
 * (RFC 7518 §3.4) of exactly twice the curve size and are turned into DER.
 */
#include "jwt.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tls_ctx {
    EVP_MD_CTX *md;
    struct tls_ctx *prev, *next;
    jwt_sig *owner;
} tls_ctx;

struct jwt_sig {
    const jwt_crypto *cr;
    pthread_key_t key;
    pthread_mutex_t lock; /* guards the list of per-thread contexts */
    tls_ctx *all;
};

static void
tls_unlink(jwt_sig *s, tls_ctx *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        s->all = t->next;
    if (t->next)
        t->next->prev = t->prev;
}

/* A thread ends: free its context (close() frees the ones still alive). */
static void
tls_destroy(void *p)
{
    tls_ctx *t = p;
    jwt_sig *s = t->owner;
    pthread_mutex_lock(&s->lock);
    tls_unlink(s, t);
    pthread_mutex_unlock(&s->lock);
    EVP_MD_CTX_free(t->md);
    free(t);
}

jwt_sig *
jwt_sig_new(const jwt_crypto *cr, char *err, size_t errlen)
{
    jwt_sig *s = calloc(1, sizeof(*s));
    if (!s || pthread_key_create(&s->key, tls_destroy) != 0) {
        free(s);
        snprintf(err, errlen, "cannot create a thread key");
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->cr = cr;
    return s;
}

void
jwt_sig_free(jwt_sig *s)
{
    if (!s)
        return;
    /* after the delete no destructor runs for this key */
    pthread_key_delete(s->key);
    while (s->all) {
        tls_ctx *t = s->all;
        s->all = t->next;
        EVP_MD_CTX_free(t->md);
        free(t);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static EVP_MD_CTX *
thread_md(jwt_sig *s)
{
    tls_ctx *t = pthread_getspecific(s->key);
    if (t)
        return t->md;
    if (!(t = calloc(1, sizeof(*t))) || !(t->md = EVP_MD_CTX_new())) {
        free(t);
        return NULL;
    }
    t->owner = s;
    if (pthread_setspecific(s->key, t) != 0) {
        EVP_MD_CTX_free(t->md);
        free(t);
        return NULL;
    }
    pthread_mutex_lock(&s->lock);
    t->next = s->all;
    if (s->all)
        s->all->prev = t;
    s->all = t;
    pthread_mutex_unlock(&s->lock);
    return t->md;
}

static int
hmac_verify(const jwt_key *k, const jwt_alg *a, const unsigned char *in,
            size_t inlen, const unsigned char *sig, size_t siglen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    EVP_MAC_CTX *c;
    int ok = 0;

    if (siglen != a->size || !k->mac[a->hash])
        return 0;
    /* the keyed template was prepared at load; a copy costs no fetch */
    if (!(c = EVP_MAC_CTX_dup(k->mac[a->hash])))
        return -1;
    if (EVP_MAC_update(c, in, inlen) &&
        EVP_MAC_final(c, mac, &maclen, sizeof(mac)))
        ok = maclen == siglen && CRYPTO_memcmp(mac, sig, siglen) == 0;
    else
        ok = -1;
    EVP_MAC_CTX_free(c);
    OPENSSL_cleanse(mac, sizeof(mac));
    return ok;
}

/* R||S -> DER ECDSA-Sig-Value.  Returns the DER length or 0. */
static size_t
ec_der(const jwt_alg *a, const unsigned char *sig, size_t siglen,
       unsigned char *der, size_t derlen)
{
    ECDSA_SIG *es;
    BIGNUM *r, *s;
    unsigned char *p = der;
    int n;

    if (siglen != 2 * a->size)
        return 0;
    r = BN_bin2bn(sig, (int)a->size, NULL);
    s = BN_bin2bn(sig + a->size, (int)a->size, NULL);
    if (!r || !s || !(es = ECDSA_SIG_new())) {
        BN_free(r);
        BN_free(s);
        return 0;
    }
    ECDSA_SIG_set0(es, r, s);
    n = i2d_ECDSA_SIG(es, NULL);
    if (n <= 0 || (size_t)n > derlen)
        n = 0;
    else
        n = i2d_ECDSA_SIG(es, &p);
    ECDSA_SIG_free(es);
    return n > 0 ? (size_t)n : 0;
}

int
jwt_sig_verify(jwt_sig *s, int alg, const jwt_key *k,
               const unsigned char *input, size_t inlen,
               const unsigned char *sig, size_t siglen)
{
    const jwt_alg *a = &jwt_algs[alg];
    unsigned char der[160];
    EVP_MD_CTX *md;
    int rc;

    if (!(k->algs & JWT_ALG_BIT(alg)))
        return 0;
    if (a->family == JWT_FAM_HMAC)
        return hmac_verify(k, a, input, inlen, sig, siglen);
    if (!k->pkey || !(md = thread_md(s)))
        return -1;
    if (a->family == JWT_FAM_EC) {
        if (!(siglen = ec_der(a, sig, siglen, der, sizeof(der))))
            return 0;
        sig = der;
    } else if (a->family == JWT_FAM_ED && siglen != 64) {
        return 0;
    } else if ((a->family == JWT_FAM_RSA || a->family == JWT_FAM_PSS) &&
               siglen != (size_t)EVP_PKEY_get_size(k->pkey)) {
        return 0;
    }
    /* a copy of the key's template: no fetch, no provider init; the
     * template is only read (OpenSSL's const contract), so threads share it */
    if (!k->tmpl[alg] || EVP_MD_CTX_copy_ex(md, k->tmpl[alg]) != 1)
        return -1;
    rc = EVP_DigestVerify(md, sig, siglen, input, inlen);
    return rc == 1 ? 1 : 0;
}
