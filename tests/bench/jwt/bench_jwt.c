/*
 * bench_jwt.c - verifies per second of the jwt plugin through the whole
 * bast_verify() (extraction, JOSE parsing, key lookup, signature, claims),
 * for each algorithm, against a raw OpenSSL EVP_DigestVerify of the same
 * signing input with a pre-parsed key and a prefetched digest (HMAC:
 * one-shot HMAC()), measured in the same run with 1 and 2 threads; and,
 * when built with Debian's libjwt, libjwt 1.10's jwt_decode() on the same
 * RS256 token (it parses the PEM key on every call).  Prints ratios (also
 * of thread CPU time per verify, which a busy machine does not distort)
 * and never fails on timing.
 * Usage: bench_jwt CONFDIR KEYDIR TOKENS [SECONDS_PER_CASE]
 *   TOKENS: "ALG token" lines; KEYDIR: <kid>.pub.pem and hs.key (mint.py).
 */
#include "bast_plugin.h" /* bast_b64_decode */

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef HAVE_LIBJWT
#include <jwt.h>
#endif

typedef struct bcase {
    char alg[16];
    char *token;
    size_t inlen; /* signing input length */
    unsigned char sig[1024];
    size_t siglen;
    EVP_PKEY *pkey;   /* NULL for HS* */
    const EVP_MD *md; /* prefetched; NULL for EdDSA */
    unsigned char secret[128];
    size_t secretlen;
    bast_request *req;
} bcase;

static const bast_ctx *g_ctx;
static double g_seconds = 0.2;
static char *g_pem; /* RS256 public key text, for libjwt */
static size_t g_pemlen;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
raw_verify(const bcase *c)
{
    if (!c->pkey) {
        unsigned char mac[64];
        unsigned int ml = 0;
        const EVP_MD *md = strcmp(c->alg, "HS256") == 0   ? EVP_sha256()
                           : strcmp(c->alg, "HS384") == 0 ? EVP_sha384()
                                                          : EVP_sha512();
        HMAC(md, c->secret, (int)c->secretlen, (const unsigned char *)c->token,
             c->inlen, mac, &ml);
        return ml == c->siglen && CRYPTO_memcmp(mac, c->sig, ml) == 0;
    }
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    int ok = EVP_DigestVerifyInit(m, &pc, c->md, NULL, c->pkey) == 1;
    if (ok && c->alg[0] == 'P')
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) > 0 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) > 0;
    ok = ok && EVP_DigestVerify(m, c->sig, c->siglen,
                                (const unsigned char *)c->token, c->inlen) == 1;
    EVP_MD_CTX_free(m);
    return ok;
}

static int
bast_one(const bcase *c)
{
    return bast_verify(g_ctx, "bench", c->req, NULL) == BAST_ALLOW;
}

#ifdef HAVE_LIBJWT
static int
libjwt_one(const bcase *c)
{
    jwt_t *j = NULL;
    int ok = jwt_decode(&j, c->token, (const unsigned char *)g_pem,
                        (int)g_pemlen) == 0;
    jwt_free(j);
    return ok;
}
#endif

typedef struct job {
    const bcase *c;
    int (*fn)(const bcase *);
    long n;
    int bad;
    double cpu; /* thread CPU seconds: what a busy machine does not steal */
} job;

static double
cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double g_cpu_us; /* CPU microseconds per call of the last rate1() */

static void *
worker(void *arg)
{
    job *j = arg;
    double end = now_s() + g_seconds, c0 = cpu_s();
    long n = 0;
    while (1) {
        for (int i = 0; i < 16; i++)
            if (!j->fn(j->c))
                j->bad = 1;
        n += 16;
        if (now_s() >= end)
            break;
    }
    j->n = n;
    j->cpu = cpu_s() - c0;
    return NULL;
}

/* verifies per second with `threads` threads; -1 if any call failed */
static double
rate1(const bcase *c, int (*fn)(const bcase *), int threads)
{
    pthread_t t[2];
    job j[2];
    double t0 = now_s(), el, cpu = 0;
    long total = 0;
    for (int i = 0; i < threads; i++) {
        j[i] = (job){c, fn, 0, 0, 0};
        pthread_create(&t[i], NULL, worker, &j[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += j[i].n;
        cpu += j[i].cpu;
        if (j[i].bad)
            return -1;
    }
    el = now_s() - t0;
    g_cpu_us = total ? cpu / (double)total * 1e6 : 0;
    return (double)total / el;
}

/* The best of ROUNDS runs, each configuration measured in turn with the
 * others, so a busy machine disturbs both sides of a ratio alike. */
#define ROUNDS 3
static double g_cpu_a, g_cpu_b; /* best CPU us per call of rates() */
static void
rates(const bcase *c, int (*a)(const bcase *), int (*b)(const bcase *),
      int threads, double *ra, double *rb)
{
    *ra = *rb = 0;
    g_cpu_a = g_cpu_b = 1e9;
    for (int r = 0; r < ROUNDS; r++) {
        double x = rate1(c, a, threads), ca = g_cpu_us;
        double y = rate1(c, b, threads), cb = g_cpu_us;
        g_cpu_a = ca < g_cpu_a ? ca : g_cpu_a;
        g_cpu_b = cb < g_cpu_b ? cb : g_cpu_b;
        if (x < 0 || y < 0) {
            *ra = x < 0 ? -1 : *ra;
            *rb = y < 0 ? -1 : *rb;
            return;
        }
        *ra = x > *ra ? x : *ra;
        *rb = y > *rb ? y : *rb;
    }
}

static const char *
kid_of(const char *alg)
{
    if (alg[0] == 'R' || alg[0] == 'P')
        return "rsa";
    if (!strcmp(alg, "ES256"))
        return "ec256";
    if (!strcmp(alg, "ES384"))
        return "ec384";
    if (!strcmp(alg, "ES512"))
        return "ec521";
    if (!strcmp(alg, "EdDSA"))
        return "ed";
    return "hs";
}

static int
prepare(bcase *c, const char *keydir)
{
    char path[4096], hdr[9000];
    const char *dot = strrchr(c->token, '.');
    const char *kid = kid_of(c->alg);
    long n;
    FILE *f;

    c->inlen = (size_t)(dot - c->token);
    n = bast_b64_decode(dot + 1, strlen(dot + 1), c->sig, sizeof(c->sig),
                        BAST_B64_URL | BAST_B64_NOPAD);
    if (n <= 0)
        return -1;
    c->siglen = (size_t)n;
    if (!strcmp(kid, "hs")) {
        snprintf(path, sizeof(path), "%s/hs.key", keydir);
        if (!(f = fopen(path, "rb")))
            return -1;
        c->secretlen = fread(c->secret, 1, sizeof(c->secret), f);
        fclose(f);
    } else {
        snprintf(path, sizeof(path), "%s/%s.pub.pem", keydir, kid);
        if (!(f = fopen(path, "r")))
            return -1;
        c->pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        fclose(f);
        if (!c->pkey)
            return -1;
        if (strcmp(c->alg, "EdDSA"))
            c->md = EVP_MD_fetch(NULL,
                                 strstr(c->alg, "256")   ? "SHA256"
                                 : strstr(c->alg, "384") ? "SHA384"
                                                         : "SHA512",
                                 NULL);
    }
    if (c->alg[0] == 'E' && c->alg[1] == 'S') { /* R||S -> DER */
        size_t h = c->siglen / 2;
        ECDSA_SIG *es = ECDSA_SIG_new();
        unsigned char *p = c->sig;
        ECDSA_SIG_set0(es, BN_bin2bn(c->sig, (int)h, NULL),
                       BN_bin2bn(c->sig + h, (int)h, NULL));
        c->siglen = (size_t)i2d_ECDSA_SIG(es, &p);
        ECDSA_SIG_free(es);
    }
    snprintf(hdr, sizeof(hdr), "Bearer %s", c->token);
    c->req = bast_request_new();
    bast_request_set_method(c->req, "GET");
    bast_request_set_path(c->req, "/bench");
    bast_request_add_header(c->req, "Authorization", hdr);
    return 0;
}

int
main(int argc, char **argv)
{
    char err[512], line[10000];
    bcase cases[16];
    size_t n = 0;
    bast_ctx *ctx;
    FILE *f;

    if (argc < 4) {
        fprintf(stderr, "usage: bench_jwt CONFDIR KEYDIR TOKENS [SECONDS]\n");
        return 2;
    }
    if (argc > 4)
        g_seconds = atof(argv[4]);
    if (!(ctx = bast_open(argv[1], NULL, err, sizeof(err)))) {
        fprintf(stderr, "bench_jwt: %s\n", err);
        return 2;
    }
    g_ctx = ctx;
    if (!(f = fopen(argv[3], "r")))
        return 2;
    while (n < 16 && fgets(line, sizeof(line), f)) {
        char alg[16], tok[9900];
        if (sscanf(line, "%15s %9899s", alg, tok) != 2)
            continue;
        memset(&cases[n], 0, sizeof(cases[n]));
        snprintf(cases[n].alg, sizeof(cases[n].alg), "%s", alg);
        cases[n].token = strdup(tok);
        if (prepare(&cases[n], argv[2]) < 0) {
            fprintf(stderr, "bench_jwt: cannot prepare %s\n", alg);
            return 2;
        }
        n++;
    }
    fclose(f);
    {
        char path[4096];
        snprintf(path, sizeof(path), "%s/rsa.pub.pem", argv[2]);
        if ((f = fopen(path, "rb"))) {
            g_pem = calloc(1, 8192);
            g_pemlen = fread(g_pem, 1, 8191, f);
            fclose(f);
        }
    }

    printf("jwt: verifies/s, bast_verify() (whole stack) vs raw OpenSSL "
           "(EVP_DigestVerify, pre-parsed key; HS*: HMAC()),\n"
           "best of %d runs of %.2f s each, interleaved\n",
           ROUNDS, g_seconds);
    printf("%-6s %10s %10s %6s | %10s %10s %6s | %s\n", "alg", "raw 1t",
           "bast 1t", "ratio", "raw 2t", "bast 2t", "ratio", "bast 2t/1t");
    for (size_t i = 0; i < n; i++) {
        double r1, b1, r2, b2;
        double cr, cb;
        rates(&cases[i], raw_verify, bast_one, 1, &r1, &b1);
        cr = g_cpu_a;
        cb = g_cpu_b;
        rates(&cases[i], raw_verify, bast_one, 2, &r2, &b2);
        if (r1 < 0 || b1 < 0 || r2 < 0 || b2 < 0) {
            printf("%-6s FAILED to verify (raw %s, bast %s)\n", cases[i].alg,
                   r1 < 0 ? "no" : "ok", b1 < 0 ? "no" : "ok");
            continue;
        }
        printf("%-6s %10.0f %10.0f %6.2f | %10.0f %10.0f %6.2f | %9.2fx | "
               "%.1f %.1f %.2f\n",
               cases[i].alg, r1, b1, b1 / r1, r2, b2, b2 / r2, b2 / b1, cr, cb,
               cr / cb);
    }
#ifdef HAVE_LIBJWT
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cases[i].alg, "RS256"))
            continue;
        double l1, b1;
        rates(&cases[i], libjwt_one, bast_one, 1, &l1, &b1);
        if (l1 < 0)
            printf("libjwt: jwt_decode failed on the RS256 token\n");
        else
            printf("RS256: bast_verify %.0f/s vs libjwt 1.10 jwt_decode "
                   "%.0f/s (PEM parsed per call): %.1fx\n",
                   b1, l1, b1 / l1);
    }
#else
    printf("libjwt: not built (Debian's libjwt-dev missing)\n");
#endif
    for (size_t i = 0; i < n; i++) {
        EVP_PKEY_free(cases[i].pkey);
        EVP_MD_free((EVP_MD *)cases[i].md);
        bast_request_free(cases[i].req);
        free(cases[i].token);
    }
    free(g_pem);
    bast_close(ctx);
    return 0;
}
