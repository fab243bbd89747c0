/*
 * basic.c - the `basic` scheme: HTTP Basic for OAuth client
 * authentication at a token endpoint (RFC 7617, RFC 6749 section 2.3.1).
 * Options: users_file (htpasswd form, see users.c), require_tls (yes),
 * cache_ttl (60s, 0 = no cache), cache_size (1024 entries).  Exactly one
 * `Authorization: Basic` header, base64 decoded strictly, split at the
 * first colon, id and secret form-url-decoded (`+` is a space, %XX), UTF-8
 * kept.  Results: absent (no Basic credentials), malformed (two
 * Authorization headers, a broken header), deny (`tls_required`;
 * `invalid_client` for bad encoding, unknown id or wrong secret), success
 * with the client id as identity.  The file is re-read when it changes
 * (checked at most once a second), which also empties the cache.
 */
#include "basic.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define MAX_HEADER 4096

struct centry {
    unsigned char key[32]; /* HMAC-SHA256(salt, id NUL secret) */
    unsigned long long gen;
    long long expires; /* monotonic seconds */
};

typedef struct basic {
    const bast_instance *inst;
    char path[4096];
    int require_tls;
    long long ttl;
    size_t ncache;
    EVP_MAC *mac;
    EVP_MAC_CTX *mac_tmpl; /* keyed with a random per-instance salt */
    pthread_rwlock_t lock; /* guards users and gen */
    basic_users *users;
    unsigned long long gen;
    pthread_mutex_t reload_mu; /* guards st and checked */
    struct stat st;
    long long checked;
    pthread_mutex_t cache_mu;
    struct centry *cache;
} basic;

static const char *const known[] = {"users_file", "require_tls", "cache_ttl",
                                    "cache_size", NULL};

static long long
mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

const char *
basic_path(const void *state)
{
    return ((const basic *)state)->path;
}

static void
basic_close(void *state)
{
    basic *b = state;

    if (b == NULL)
        return;
    pthread_rwlock_destroy(&b->lock);
    pthread_mutex_destroy(&b->reload_mu);
    pthread_mutex_destroy(&b->cache_mu);
    basic_users_free(b->users);
    EVP_MAC_CTX_free(b->mac_tmpl);
    EVP_MAC_free(b->mac);
    if (b->cache != NULL)
        OPENSSL_cleanse(b->cache, b->ncache * sizeof(*b->cache));
    free(b->cache);
    free(b);
}

static int
basic_open(const bast_instance *inst, const bast_option *opts, size_t nopts,
           void **state, char *err, size_t errlen)
{
    const bast_option *o;
    basic *b;
    unsigned char salt[32];
    char e2[512];
    long long v;
    OSSL_PARAM params[2];

    *state = NULL;
    if (bast_opts_check(opts, nopts, known, err, errlen) != 0)
        return -1;
    o = bast_opts_get(opts, nopts, "users_file");
    if (o == NULL) {
        snprintf(err, errlen, "%s:%d: users_file: required",
                 bast_inst_file(inst), bast_inst_line(inst));
        return -1;
    }
    b = calloc(1, sizeof(*b));
    if (b == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    b->inst = inst;
    b->require_tls = 1;
    b->ttl = 60;
    b->ncache = 1024;
    pthread_rwlock_init(&b->lock, NULL);
    pthread_mutex_init(&b->reload_mu, NULL);
    pthread_mutex_init(&b->cache_mu, NULL);
    if (bast_inst_path(inst, o->value, b->path, sizeof(b->path)) != 0) {
        bast_opt_error(o, err, errlen, "path too long");
        goto fail;
    }
    /* A missing file is every client unknown: `bast basic add` makes it. */
    b->users = basic_users_load(b->path, 1, &b->st, e2, sizeof(e2));
    if (b->users == NULL) {
        bast_opt_error(o, err, errlen, "%s", e2);
        goto fail;
    }
    if (b->st.st_ino == 0)
        bast_log(inst, 4, "users_file %s does not exist: no client can log in",
                 b->path);
    b->checked = mono_now();
    if ((o = bast_opts_get(opts, nopts, "require_tls")) != NULL &&
        bast_opt_bool(o, &b->require_tls, err, errlen) != 0)
        goto fail;
    if ((o = bast_opts_get(opts, nopts, "cache_ttl")) != NULL &&
        bast_opt_duration(o, 0, 86400, &b->ttl, err, errlen) != 0)
        goto fail;
    if ((o = bast_opts_get(opts, nopts, "cache_size")) != NULL) {
        if (bast_opt_int(o, 0, 1000000, &v, err, errlen) != 0)
            goto fail;
        b->ncache = (size_t)v;
    }
    if (b->ttl == 0)
        b->ncache = 0;
    if (b->ncache > 0) {
        b->cache = calloc(b->ncache, sizeof(*b->cache));
        b->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        b->mac_tmpl = b->mac != NULL ? EVP_MAC_CTX_new(b->mac) : NULL;
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                     (char *)"SHA256", 0);
        params[1] = OSSL_PARAM_construct_end();
        if (b->cache == NULL || b->mac_tmpl == NULL ||
            RAND_bytes(salt, sizeof(salt)) != 1 ||
            EVP_MAC_init(b->mac_tmpl, salt, sizeof(salt), params) != 1) {
            snprintf(err, errlen, "basic: cannot set up the cache");
            OPENSSL_cleanse(salt, sizeof(salt));
            goto fail;
        }
        OPENSSL_cleanse(salt, sizeof(salt));
    }
    *state = b;
    return 0;
fail:
    basic_close(b);
    return -1;
}

/* ---- file changes ------------------------------------------------------ */

static int
same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
           a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* At most once a second: when the file changed, load it and swap it in
 * (a new generation, so every cached success is dropped).  A file that
 * no longer loads keeps the old table and is logged; a removed one
 * empties the table. */
static void
maybe_reload(basic *b)
{
    struct stat st;
    long long now = mono_now();
    basic_users *nu, *old;
    char err[512];

    pthread_mutex_lock(&b->reload_mu);
    if (now == b->checked) {
        pthread_mutex_unlock(&b->reload_mu);
        return;
    }
    b->checked = now;
    if (stat(b->path, &st) != 0)
        memset(&st, 0, sizeof(st));
    if (same_file(&st, &b->st)) {
        pthread_mutex_unlock(&b->reload_mu);
        return;
    }
    b->st = st;
    nu = basic_users_load(b->path, 1, NULL, err, sizeof(err));
    if (nu == NULL) {
        bast_log(b->inst, 3, "users_file not reloaded, old entries kept: %s",
                 err);
        pthread_mutex_unlock(&b->reload_mu);
        return;
    }
    pthread_rwlock_wrlock(&b->lock);
    old = b->users;
    b->users = nu;
    b->gen++;
    pthread_rwlock_unlock(&b->lock);
    pthread_mutex_unlock(&b->reload_mu);
    basic_users_free(old);
    bast_log(b->inst, 6, "users_file %s reloaded: %zu clients", b->path, nu->n);
}

/* ---- the success cache ------------------------------------------------- */

static int
cache_key(const basic *b, const char *id, size_t idlen, const char *sec,
          size_t seclen, unsigned char key[32])
{
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(b->mac_tmpl);
    size_t out = 0;
    int ok;

    ok = c != NULL && EVP_MAC_update(c, (const unsigned char *)id, idlen) &&
         EVP_MAC_update(c, (const unsigned char *)"", 1) &&
         EVP_MAC_update(c, (const unsigned char *)sec, seclen) &&
         EVP_MAC_final(c, key, &out, 32) && out == 32;
    EVP_MAC_CTX_free(c);
    return ok ? 0 : -1;
}

static size_t
cache_slot(const basic *b, const unsigned char key[32])
{
    unsigned long long x;
    memcpy(&x, key, sizeof(x));
    return (size_t)(x % b->ncache);
}

static int
cache_hit(basic *b, const unsigned char key[32], unsigned long long gen)
{
    struct centry *e = &b->cache[cache_slot(b, key)];
    int hit;

    pthread_mutex_lock(&b->cache_mu);
    hit = e->gen == gen && e->expires > mono_now() &&
          CRYPTO_memcmp(e->key, key, 32) == 0;
    pthread_mutex_unlock(&b->cache_mu);
    return hit;
}

static void
cache_put(basic *b, const unsigned char key[32], unsigned long long gen)
{
    struct centry *e = &b->cache[cache_slot(b, key)];

    pthread_mutex_lock(&b->cache_mu);
    memcpy(e->key, key, 32);
    e->gen = gen;
    e->expires = mono_now() + b->ttl;
    pthread_mutex_unlock(&b->cache_mu);
}

/* ---- parsing ----------------------------------------------------------- */

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* application/x-www-form-urlencoded decoding in place; -1 on a bad %. */
static long
form_decode(char *s, size_t n)
{
    size_t i, k = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '+') {
            s[k++] = ' ';
        } else if (s[i] == '%') {
            int hi, lo;
            if (n - i < 3 || (hi = hexval((unsigned char)s[i + 1])) < 0 ||
                (lo = hexval((unsigned char)s[i + 2])) < 0)
                return -1;
            s[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            s[k++] = s[i];
        }
    }
    return (long)k;
}

/* The token of an `Authorization: Basic` value, or NULL when the value is
 * another scheme (*bad = 0) or broken Basic (*bad = 1). */
static const char *
basic_token(const char *v, size_t *len, int *bad)
{
    const char *p;
    size_t n;

    *bad = 0;
    if (strncasecmp(v, "Basic", 5) != 0 ||
        (v[5] != ' ' && v[5] != '\t' && v[5] != '\0'))
        return NULL;
    *bad = 1;
    p = v + 5;
    while (*p == ' ')
        p++;
    n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0 || p == v + 5 || memchr(p, ' ', n) || memchr(p, '\t', n))
        return NULL;
    *bad = 0;
    *len = n;
    return p;
}

static void
challenge(bast_call *call)
{
    const char *realm = bast_call_realm(call);
    char buf[512];
    size_t k = 0;

    /* realm is a quoted-string: escape '"' and '\'. */
    for (; realm != NULL && *realm != '\0' && k + 3 < 256; realm++) {
        if (*realm == '"' || *realm == '\\')
            buf[k++] = '\\';
        buf[k++] = *realm;
    }
    buf[k] = '\0';
    char ch[600];
    snprintf(ch, sizeof(ch), "Basic realm=\"%s\", charset=\"UTF-8\"", buf);
    bast_call_add_challenge(call, ch);
}

static bast_res
deny(bast_call *call, const char *desc)
{
    bast_call_set_error(call, "invalid_client", "%s", desc);
    challenge(call);
    return BAST_RES_DENY;
}

/* Compare the secret with the entry's hash (or the dummy): 1 on match. */
static int
check_hash(const char *secret, const char *hash, int known_id)
{
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    const char *out;
    int ok = 0;

    if (cd == NULL)
        return -1;
    out = crypt_rn(secret, hash, cd, (int)sizeof(*cd));
    if (out != NULL && out[0] != '*' && strlen(out) == strlen(hash))
        ok = CRYPTO_memcmp(out, hash, strlen(hash)) == 0;
    OPENSSL_cleanse(cd, sizeof(*cd));
    free(cd);
    return out == NULL ? -1 : ok && known_id;
}

static bast_res
basic_verify(void *state, bast_call *call)
{
    basic *b = state;
    const bast_request *req = bast_call_request(call);
    size_t nh = bast_req_header_count(req, "Authorization"), i, tlen = 0;
    const char *tok = NULL;
    char dec[MAX_HEADER], hash[CRYPT_OUTPUT_SIZE], *colon;
    unsigned char key[32];
    unsigned long long gen;
    const basic_user *u;
    long n, idn, secn;
    int bad = 0, nbasic = 0, known_id, r;
    bast_res res = BAST_RES_DENY;

    for (i = 0; i < nh; i++) {
        const char *v = bast_req_header(req, "Authorization", i);
        int bd = 0;
        const char *t = v != NULL ? basic_token(v, &tlen, &bd) : NULL;
        if (t != NULL || bd) {
            nbasic++;
            tok = t;
            bad = bd;
        }
    }
    if (nbasic == 0) {
        challenge(call);
        return BAST_RES_ABSENT;
    }
    if (nh > 1 || bad) {
        bast_call_set_error(call, "invalid_request",
                            nh > 1 ? "more than one Authorization header"
                                   : "Authorization: Basic needs one token");
        return BAST_RES_MALFORMED;
    }
    if (b->require_tls && !bast_req_tls(req)) {
        bast_call_set_error(call, "tls_required",
                            "Basic credentials sent without TLS");
        return BAST_RES_DENY;
    }
    if (tlen >= MAX_HEADER)
        return deny(call, "credentials too long");
    n = bast_b64_decode(tok, tlen, dec, sizeof(dec) - 1, 0);
    if (n < 0)
        return deny(call, "credentials are not valid base64");
    dec[n] = '\0';
    colon = memchr(dec, ':', (size_t)n);
    if (colon == NULL) {
        res = deny(call, "no ':' between client id and secret");
        goto done;
    }
    /* RFC 7617: no control characters in user-id or password. */
    if (!basic_text_ok(dec, (size_t)n)) {
        res = deny(call, "credentials are not UTF-8 text");
        goto done;
    }
    idn = form_decode(dec, (size_t)(colon - dec));
    secn = form_decode(colon + 1, (size_t)(n - (colon + 1 - dec)));
    if (idn < 0 || secn < 0) {
        res = deny(call, "bad %-encoding in client id or secret");
        goto done;
    }
    dec[idn] = '\0';
    colon[1 + secn] = '\0';
    const char *id = dec, *secret = colon + 1;
    if (basic_id_refusal(id, (size_t)idn) != NULL ||
        !basic_text_ok(secret, (size_t)secn) || secn > BASIC_MAX_SECRET) {
        res = deny(call, "client id or secret is not valid text");
        goto done;
    }

    maybe_reload(b);
    pthread_rwlock_rdlock(&b->lock);
    gen = b->gen;
    u = basic_users_find(b->users, id, (size_t)idn);
    known_id = u != NULL;
    strcpy(hash, u != NULL ? u->hash : b->users->dummy);
    pthread_rwlock_unlock(&b->lock);

    int keyed = b->ncache > 0 && known_id &&
                cache_key(b, id, (size_t)idn, secret, (size_t)secn, key) == 0;
    if (keyed && cache_hit(b, key, gen)) {
        r = 1;
    } else {
        r = check_hash(secret, hash, known_id);
        if (r == 1 && keyed)
            cache_put(b, key, gen);
    }
    if (r < 0) {
        bast_call_set_error(call, "internal_error", "libcrypt failed");
        res = BAST_RES_UNAVAILABLE;
    } else if (r == 0) {
        res = deny(call, "unknown client or wrong secret");
    } else if (bast_call_set_identity(call, id) != 0) {
        bast_call_set_error(call, "internal_error", "out of memory");
        res = BAST_RES_UNAVAILABLE;
    } else {
        res = BAST_RES_SUCCESS;
    }
done:
    OPENSSL_cleanse(dec, sizeof(dec));
    OPENSSL_cleanse(key, sizeof(key));
    return res;
}

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "basic", "0.1.0", basic_open,
                   basic_verify, basic_close, basic_admin);
