/*
 * mac.c - small helpers every profile of the hmac plugin uses: the MAC
 * over several parts from a template keyed at load time, strict hex,
 * single-header lookup (a repeated signing header is malformed), and the
 * replay check of (key id, nonce) through the core's shared store.
 */
#include "hmac_int.h"

#include <openssl/core_names.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hmac_pool {
    atomic_bool busy[HMAC_POOL];
    void *obj[HMAC_POOL];
};

hmac_pool *
hmac_pool_new(void)
{
    hmac_pool *p = calloc(1, sizeof(*p));
    size_t i;

    if (p != NULL)
        for (i = 0; i < HMAC_POOL; i++)
            atomic_init(&p->busy[i], false);
    return p;
}

void
hmac_pool_free(hmac_pool *p, void (*free_obj)(void *))
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < HMAC_POOL; i++)
        if (p->obj[i] != NULL)
            free_obj(p->obj[i]);
    free(p);
}

void
hmac_free_mac_ctx(void *ctx)
{
    EVP_MAC_CTX_free(ctx);
}

void
hmac_free_md_ctx(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

/* A free slot of the pool, or -1 when every slot is busy. */
static int
pool_take(hmac_pool *p)
{
    int i;

    for (i = 0; i < HMAC_POOL; i++) {
        if (!atomic_load_explicit(&p->busy[i], memory_order_relaxed) &&
            !atomic_exchange_explicit(&p->busy[i], true, memory_order_acquire))
            return i;
    }
    return -1;
}

static void
pool_give(hmac_pool *p, int i)
{
    atomic_store_explicit(&p->busy[i], false, memory_order_release);
}

size_t
hmac_mac(const hmac_secret *s, const void *const *parts, const size_t *lens,
         size_t n, unsigned char *out, size_t outsize)
{
    int slot = s->pool ? pool_take(s->pool) : -1;
    EVP_MAC_CTX *ctx = NULL;
    size_t i, outlen = 0;

    if (slot >= 0 && s->pool->obj[slot] != NULL) {
        ctx = s->pool->obj[slot];
        /* a NULL key re-initialises HMAC with the key it already has */
        if (!EVP_MAC_init(ctx, NULL, 0, NULL))
            goto done;
    } else {
        /* EVP_MAC_CTX_dup takes a non-const pointer but only reads it */
        ctx = EVP_MAC_CTX_dup(s->tmpl);
        if (ctx == NULL)
            goto done;
        if (slot >= 0)
            s->pool->obj[slot] = ctx;
    }
    for (i = 0; i < n; i++) {
        if (lens[i] > 0 && !EVP_MAC_update(ctx, parts[i], lens[i]))
            goto done;
    }
    if (!EVP_MAC_final(ctx, out, &outlen, outsize))
        outlen = 0;
done:
    if (slot >= 0)
        pool_give(s->pool, slot);
    else
        EVP_MAC_CTX_free(ctx);
    return outlen;
}

size_t
hmac_digest(const hmac_state *st, const void *data, size_t len,
            unsigned char *out)
{
    int slot = pool_take(st->mdpool);
    EVP_MD_CTX *ctx = slot >= 0 ? st->mdpool->obj[slot] : NULL;
    unsigned int outlen = 0;

    if (ctx == NULL) {
        ctx = EVP_MD_CTX_new();
        if (slot >= 0)
            st->mdpool->obj[slot] = ctx;
    }
    if (ctx == NULL || !EVP_DigestInit_ex2(ctx, st->md, NULL) ||
        !EVP_DigestUpdate(ctx, len ? data : "", len) ||
        !EVP_DigestFinal_ex(ctx, out, &outlen))
        outlen = 0;
    if (slot >= 0)
        pool_give(st->mdpool, slot);
    else
        EVP_MD_CTX_free(ctx);
    return outlen;
}

size_t
hmac_mac_key(EVP_MAC *mac, const char *mdname, const void *key, size_t keylen,
             const void *data, size_t len, unsigned char *out, size_t outsize)
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    OSSL_PARAM params[2];
    size_t outlen = 0;

    if (ctx == NULL)
        return 0;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)mdname, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!EVP_MAC_init(ctx, key, keylen, params) ||
        !EVP_MAC_update(ctx, data, len) ||
        !EVP_MAC_final(ctx, out, &outlen, outsize))
        outlen = 0;
    EVP_MAC_CTX_free(ctx);
    return outlen;
}

static int
nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
hmac_unhex(const char *s, size_t slen, unsigned char *out, size_t n)
{
    size_t i;

    if (slen != 2 * n)
        return -1;
    for (i = 0; i < n; i++) {
        int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

void
hmac_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

const char *
hmac_header1(const bast_request *req, const char *name, int *dup)
{
    size_t n = bast_req_header_count(req, name);
    const char *v;

    if (n == 0)
        return NULL;
    v = bast_req_header(req, name, 0);
    if (n > 1 || v == NULL || strlen(v) > HMAC_HEADER_MAX)
        *dup = 1;
    return v;
}

bast_res
hmac_replay(const hmac_state *st, bast_call *call, const char *a, const char *b,
            size_t blen, long long ttl)
{
    char buf[2 * HMAC_ID_MAX + 600];
    size_t alen = strlen(a);
    int n, r;

    if (alen > HMAC_ID_MAX || blen > 512)
        return BAST_RES_MALFORMED;
    n = snprintf(buf, sizeof(buf), "hmac:%zu:%s:", alen, a);
    if (n < 0 || (size_t)n + blen > sizeof(buf))
        return BAST_RES_MALFORMED;
    memcpy(buf + n, b, blen);
    if (ttl < 1)
        ttl = 1;
    r = bast_replay_check(st->inst, buf, (size_t)n + blen, (unsigned)ttl,
                          bast_call_now(call));
    if (r == BAST_REPLAY_FRESH)
        return BAST_RES_SUCCESS;
    if (r == BAST_REPLAY_SEEN) {
        bast_call_set_error(call, "replay",
                            "this signed request was already received");
        return BAST_RES_DENY;
    }
    bast_call_set_error(call, "store_unavailable",
                        "the replay store cannot be reached");
    return BAST_RES_UNAVAILABLE;
}

int
hmac_parse_ts(const char *s, int64_t *out)
{
    struct tm tm, back;
    time_t t;
    int v[6], i;
    static const int pos[6] = {0, 4, 6, 9, 11, 13}, len[6] = {4, 2, 2, 2, 2, 2};

    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    for (i = 0; i < 6; i++) {
        int j;
        v[i] = 0;
        for (j = 0; j < len[i]; j++) {
            char c = s[pos[i] + j];
            if (c < '0' || c > '9')
                return -1;
            v[i] = v[i] * 10 + (c - '0');
        }
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    t = timegm(&tm);
    /* timegm normalises 30 February into March: refuse what moved */
    if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL ||
        back.tm_year != tm.tm_year || back.tm_mon != v[1] - 1 ||
        back.tm_mday != v[2] || back.tm_hour != v[3] || back.tm_min != v[4] ||
        back.tm_sec != v[5])
        return -1;
    *out = (int64_t)t;
    return 0;
}

int
hmac_parse_epoch(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    size_t i;

    if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
        return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

void
hmac_challenge(bast_call *call, const char *scheme)
{
    char buf[512];
    const char *realm = bast_call_realm(call);

    if (realm != NULL && *realm != '\0' && strlen(realm) < 400 &&
        strpbrk(realm, "\"\\") == NULL)
        snprintf(buf, sizeof(buf), "%s realm=\"%s\"", scheme, realm);
    else
        snprintf(buf, sizeof(buf), "%s", scheme);
    bast_call_add_challenge(call, buf);
}
