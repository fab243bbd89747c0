/*
 * sign.c - bast_sign(), the client side of the hmac plugin: the headers a
 * client adds to a request.  Profiles: `bast` (X-Api-Key, X-Timestamp,
 * X-Nonce, X-Body-Hash, X-Signature over METHOD "\n" path[?query] "\n"
 * timestamp "\n" nonce "\n" hex-sha256(body), HMAC-SHA256), `stripe`
 * (Stripe-Signature t=,v1= over "t.body") and `standard-webhooks`
 * (webhook-id = key_id, webhook-timestamp, webhook-signature v1,<base64>
 * over "id.timestamp.body"; a `whsec_` secret is base64-decoded).  Returns
 * "Name: value\n" lines for the caller to free, or NULL with errbuf set.
 */
#include "bast.h"
#include "bast_plugin.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIGN_FIELD_MAX 8192

static void seterr(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errbuf == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

static void
hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* A header value we emit must not smuggle a line break or control. */
static int
clean_field(const char *s, int allow_space)
{
    size_t n = 0;

    for (; *s != '\0'; s++, n++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || (c == ' ' && !allow_space))
            return 0;
    }
    return n > 0 && n <= SIGN_FIELD_MAX;
}

static int
hmac_sha256(const void *key, size_t keylen, const void *a, size_t alen,
            const void *b, size_t blen, const void *c, size_t clen,
            unsigned char out[32])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = NULL;
    OSSL_PARAM params[2];
    size_t outlen = 0;
    int ok = 0;

    if (mac == NULL)
        return 0;
    ctx = EVP_MAC_CTX_new(mac);
    params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (ctx != NULL && EVP_MAC_init(ctx, key, keylen, params) &&
        EVP_MAC_update(ctx, a, alen) && EVP_MAC_update(ctx, b, blen) &&
        EVP_MAC_update(ctx, c, clen) && EVP_MAC_final(ctx, out, &outlen, 32))
        ok = outlen == 32;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok;
}

static char *
sign_bast(const char *key_id, const void *secret, size_t secret_len,
          const char *method, const char *path, const char *query,
          const void *body, size_t body_len, int64_t now, char *errbuf,
          size_t errlen)
{
    unsigned char md[32], rnd[16];
    unsigned int mdlen = 0;
    char bodyhash[65], nonce[33], sig[65], ts[32];
    char *msg = NULL, *out = NULL;
    struct tm tm;
    time_t t = (time_t)now;
    int n;

    if (key_id == NULL || !clean_field(key_id, 0)) {
        seterr(errbuf, errlen, "sign: key id must be 1..%d visible chars",
               SIGN_FIELD_MAX);
        return NULL;
    }
    if (gmtime_r(&t, &tm) == NULL ||
        strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm) != 16) {
        seterr(errbuf, errlen, "sign: time out of range");
        return NULL;
    }
    if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
        !EVP_Digest(body_len ? body : "", body_len, md, &mdlen, EVP_sha256(),
                    NULL)) {
        seterr(errbuf, errlen, "sign: OpenSSL failure");
        return NULL;
    }
    hex(rnd, sizeof(rnd), nonce);
    hex(md, 32, bodyhash);
    n = asprintf(&msg, "%s\n%s%s%s\n%s\n%s\n%s", method, path,
                 *query ? "?" : "", query, ts, nonce, bodyhash);
    if (n < 0) {
        seterr(errbuf, errlen, "sign: out of memory");
        return NULL;
    }
    if (!hmac_sha256(secret, secret_len, msg, (size_t)n, "", 0, "", 0, md)) {
        seterr(errbuf, errlen, "sign: OpenSSL failure");
        goto done;
    }
    hex(md, 32, sig);
    if (asprintf(&out,
                 "X-Api-Key: %s\nX-Timestamp: %s\nX-Nonce: %s\n"
                 "X-Body-Hash: %s\nX-Signature: %s\n",
                 key_id, ts, nonce, bodyhash, sig) < 0) {
        out = NULL;
        seterr(errbuf, errlen, "sign: out of memory");
    }
done:
    OPENSSL_cleanse(md, sizeof(md));
    free(msg);
    return out;
}

static char *
sign_stripe(const void *secret, size_t secret_len, const void *body,
            size_t body_len, int64_t now, char *errbuf, size_t errlen)
{
    unsigned char md[32];
    char ts[32], sig[65], *out = NULL;
    int n = snprintf(ts, sizeof(ts), "%lld", (long long)now);

    if (!hmac_sha256(secret, secret_len, ts, (size_t)n, ".", 1,
                     body_len ? body : "", body_len, md)) {
        seterr(errbuf, errlen, "sign: OpenSSL failure");
        return NULL;
    }
    hex(md, 32, sig);
    if (asprintf(&out, "Stripe-Signature: t=%s,v1=%s\n", ts, sig) < 0) {
        out = NULL;
        seterr(errbuf, errlen, "sign: out of memory");
    }
    return out;
}

static char *
sign_stdwebhooks(const char *msg_id, const void *secret, size_t secret_len,
                 const void *body, size_t body_len, int64_t now, char *errbuf,
                 size_t errlen)
{
    unsigned char md[32], key[256];
    char ts[32], sig[64], *pre = NULL, *out = NULL;
    const unsigned char *k = secret;
    size_t klen = secret_len;
    long dl;
    int n;

    if (msg_id == NULL || !clean_field(msg_id, 0) || strchr(msg_id, '.')) {
        seterr(errbuf, errlen,
               "sign: the message id (--key-id) must be "
               "visible chars without '.'");
        return NULL;
    }
    if (secret_len > 6 && memcmp(secret, "whsec_", 6) == 0) {
        dl = bast_b64_decode((const char *)secret + 6, secret_len - 6, key,
                             sizeof(key), 0);
        if (dl <= 0) {
            seterr(errbuf, errlen, "sign: whsec_ secret is not base64");
            return NULL;
        }
        k = key;
        klen = (size_t)dl;
    }
    snprintf(ts, sizeof(ts), "%lld", (long long)now);
    n = asprintf(&pre, "%s.%s.", msg_id, ts);
    if (n < 0) {
        seterr(errbuf, errlen, "sign: out of memory");
        return NULL;
    }
    if (!hmac_sha256(k, klen, pre, (size_t)n, body_len ? body : "", body_len,
                     "", 0, md) ||
        bast_b64_encode(md, 32, sig, sizeof(sig), 0) < 0) {
        seterr(errbuf, errlen, "sign: OpenSSL failure");
        goto done;
    }
    if (asprintf(&out,
                 "webhook-id: %s\nwebhook-timestamp: %s\n"
                 "webhook-signature: v1,%s\n",
                 msg_id, ts, sig) < 0) {
        out = NULL;
        seterr(errbuf, errlen, "sign: out of memory");
    }
done:
    OPENSSL_cleanse(key, sizeof(key));
    free(pre);
    return out;
}

BAST_API char *
bast_sign(const char *profile, const char *key_id, const void *secret,
          size_t secret_len, const char *method, const char *path,
          const char *query, const void *body, size_t body_len, int64_t now,
          char *errbuf, size_t errlen)
{
    if (errbuf != NULL && errlen > 0)
        errbuf[0] = '\0';
    if (profile == NULL)
        profile = "bast";
    if (secret == NULL || secret_len == 0) {
        seterr(errbuf, errlen, "sign: empty secret");
        return NULL;
    }
    if (body == NULL && body_len != 0) {
        seterr(errbuf, errlen, "sign: body length without a body");
        return NULL;
    }
    if (now == 0)
        now = (int64_t)time(NULL);
    if (now < 0) {
        seterr(errbuf, errlen, "sign: time out of range");
        return NULL;
    }
    if (strcmp(profile, "stripe") == 0)
        return sign_stripe(secret, secret_len, body, body_len, now, errbuf,
                           errlen);
    if (strcmp(profile, "standard-webhooks") == 0)
        return sign_stdwebhooks(key_id, secret, secret_len, body, body_len, now,
                                errbuf, errlen);
    if (strcmp(profile, "bast") != 0) {
        seterr(errbuf, errlen,
               "sign: unknown profile '%s' (bast, stripe, standard-webhooks)",
               profile);
        return NULL;
    }
    if (query == NULL)
        query = "";
    if (method == NULL || !clean_field(method, 0) || path == NULL ||
        path[0] != '/' || !clean_field(path, 0) ||
        (*query && !clean_field(query, 0))) {
        seterr(errbuf, errlen,
               "sign: method and path (starting with '/') "
               "are required; no spaces or controls");
        return NULL;
    }
    return sign_bast(key_id, secret, secret_len, method, path, query, body,
                     body_len, now, errbuf, errlen);
}
