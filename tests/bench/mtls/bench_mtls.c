/*
 * bench_mtls.c - verifications per second of the mtls plugin through
 * bast_verify(), as a ratio to raw X509_verify_cert() on the same chain
 * and trust store measured in the same run (once with the chain already
 * parsed, once parsing its PEM as the plugin must); and of the basic
 * plugin with and without its success cache.  Prints numbers only; it
 * never fails on timing.
 * Usage: bench_mtls CONFDIR PLUGIN_DIR CHAIN.pem CA.pem CLIENT_ID SECRET
 * (apps `mtls`, `basic` and `basic_nocache` in CONFDIR; run.sh makes them).
 * BENCH_SECONDS (default 1) sets the length of each measurement.
 * Last, BENCH_THREADS threads (default 2) verify both kinds of request
 * at once: the rate and its ratio to one thread; any request that is not
 * allowed makes the program exit 1, so tests use it for thread safety.
 */
#include "bast.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

static double seconds = 1.0;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n + 1)) == NULL) {
        if (f != NULL)
            fclose(f);
        return NULL;
    }
    buf[fread(buf, 1, (size_t)n, f)] = '\0';
    fclose(f);
    return buf;
}

/* Run fn until `seconds` have passed; returns calls per second, or -1 if
 * a call failed. */
typedef int (*bench_fn)(void *arg);
static double
rate(bench_fn fn, void *arg)
{
    double start = now_s(), t;
    long n = 0;

    do {
        if (fn(arg) != 0)
            return -1;
        n++;
    } while ((t = now_s()) - start < seconds);
    return (double)n / (t - start);
}

struct via_bast {
    const bast_ctx *ctx;
    const char *app;
    const bast_request *req;
};

static int
run_bast(void *arg)
{
    struct via_bast *v = arg;
    return bast_verify(v->ctx, v->app, v->req, NULL) == BAST_ALLOW ? 0 : -1;
}

struct raw {
    X509_STORE *store;
    const char *pem;
    X509 *leaf;
    STACK_OF(X509) * chain;
};

static int
verify_parsed(X509_STORE *store, X509 *leaf, STACK_OF(X509) * chain)
{
    X509_STORE_CTX *xc = X509_STORE_CTX_new();
    int ok = xc != NULL && X509_STORE_CTX_init(xc, store, leaf, chain) == 1;

    if (ok) {
        X509_STORE_CTX_set_purpose(xc, X509_PURPOSE_SSL_CLIENT);
        ok = X509_verify_cert(xc) == 1;
    }
    X509_STORE_CTX_free(xc);
    return ok ? 0 : -1;
}

static int
parse_pem(const char *pem, X509 **leaf, STACK_OF(X509) * *chain)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x;

    *leaf = NULL;
    *chain = sk_X509_new_null();
    while (b != NULL && *chain != NULL &&
           (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (*leaf == NULL)
            *leaf = x;
        else
            sk_X509_push(*chain, x);
    }
    ERR_clear_error();
    BIO_free(b);
    return *leaf != NULL ? 0 : -1;
}

static int
run_raw(void *arg)
{
    struct raw *r = arg;
    return verify_parsed(r->store, r->leaf, r->chain);
}

static int
run_raw_pem(void *arg)
{
    struct raw *r = arg;
    X509 *leaf;
    STACK_OF(X509) * chain;
    int ret = parse_pem(r->pem, &leaf, &chain) == 0
                  ? verify_parsed(r->store, leaf, chain)
                  : -1;
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    return ret;
}

/* One thread of the concurrent run: mtls and cached Basic in turn. */
struct mixed {
    const bast_ctx *ctx;
    const bast_request *mreq, *breq;
    long n;
    int failed;
};

static void *
run_mixed(void *arg)
{
    struct mixed *m = arg;
    double start = now_s();

    do {
        if (bast_verify(m->ctx, "mtls", m->mreq, NULL) != BAST_ALLOW ||
            bast_verify(m->ctx, "basic", m->breq, NULL) != BAST_ALLOW) {
            m->failed = 1;
            break;
        }
        m->n += 2;
    } while (now_s() - start < seconds);
    return NULL;
}

static double
rate_threads(struct mixed *tmpl, int nthreads, int *failed)
{
    pthread_t th[64];
    struct mixed m[64];
    double start = now_s();
    long total = 0;
    int i;

    for (i = 0; i < nthreads; i++) {
        m[i] = *tmpl;
        if (pthread_create(&th[i], NULL, run_mixed, &m[i]) != 0)
            break;
    }
    nthreads = i;
    for (i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        total += m[i].n;
        *failed |= m[i].failed;
    }
    return (double)total / (now_s() - start);
}

int
main(int argc, char **argv)
{
    bast_options opts = {sizeof(opts), NULL, NULL};
    char err[512], hdr[1200], cred[600];
    struct via_bast vb;
    struct raw raw = {0};
    bast_request *mreq, *breq;
    bast_ctx *ctx;
    double r_bast, r_raw, r_pem, r_cache, r_nocache;

    if (argc != 7) {
        fprintf(stderr, "usage: bench_mtls CONFDIR PLUGIN_DIR CHAIN.pem "
                        "CA.pem CLIENT_ID SECRET\n");
        return 2;
    }
    if (getenv("BENCH_SECONDS") != NULL)
        seconds = atof(getenv("BENCH_SECONDS"));
    if (seconds <= 0)
        seconds = 1.0;
    opts.plugin_dir = argv[2];
    ctx = bast_open(argv[1], &opts, err, sizeof(err));
    raw.pem = slurp(argv[3]);
    raw.store = X509_STORE_new();
    if (ctx == NULL || raw.pem == NULL || raw.store == NULL ||
        X509_STORE_load_file(raw.store, argv[4]) != 1 ||
        parse_pem(raw.pem, &raw.leaf, &raw.chain) != 0) {
        fprintf(stderr, "bench_mtls: setup failed: %s\n",
                ctx == NULL ? err : "chain or CA file");
        return 1;
    }

    mreq = bast_request_new();
    bast_request_set_method(mreq, "GET");
    bast_request_set_path(mreq, "/");
    bast_request_set_tls(mreq, 1);
    bast_request_set_peer_cert(mreq, raw.pem);
    vb = (struct via_bast){ctx, "mtls", mreq};
    r_bast = rate(run_bast, &vb);
    r_raw = rate(run_raw, &raw);
    r_pem = rate(run_raw_pem, &raw);
    if (r_bast < 0 || r_raw < 0 || r_pem < 0) {
        fprintf(stderr, "bench_mtls: a verification failed\n");
        return 1;
    }
    printf("mtls: bast_verify %.0f/s; raw X509_verify_cert (parsed chain) "
           "%.0f/s, ratio %.2f; PEM parse + X509_verify_cert %.0f/s, "
           "ratio %.2f\n",
           r_bast, r_raw, r_bast / r_raw, r_pem, r_bast / r_pem);

    snprintf(cred, sizeof(cred), "%s:%s", argv[5], argv[6]);
    strcpy(hdr, "Basic ");
    EVP_EncodeBlock((unsigned char *)hdr + 6, (const unsigned char *)cred,
                    (int)strlen(cred));
    breq = bast_request_new();
    bast_request_set_method(breq, "POST");
    bast_request_set_path(breq, "/oauth/token");
    bast_request_set_tls(breq, 1);
    bast_request_add_header(breq, "Authorization", hdr);
    vb = (struct via_bast){ctx, "basic_nocache", breq};
    r_nocache = rate(run_bast, &vb);
    vb.app = "basic";
    r_cache = rate(run_bast, &vb);
    if (r_cache < 0 || r_nocache < 0) {
        fprintf(stderr, "bench_mtls: a Basic verification failed\n");
        return 1;
    }
    printf("basic: without cache %.0f/s; with cache %.0f/s, ratio %.1f\n",
           r_nocache, r_cache, r_cache / r_nocache);

    int nthreads = getenv("BENCH_THREADS") ? atoi(getenv("BENCH_THREADS")) : 2;
    int failed = 0;
    if (nthreads < 1 || nthreads > 64)
        nthreads = 2;
    struct mixed tmpl = {ctx, mreq, breq, 0, 0};
    double one = rate_threads(&tmpl, 1, &failed);
    double many = rate_threads(&tmpl, nthreads, &failed);
    if (failed) {
        fprintf(stderr, "bench_mtls: a concurrent verification failed\n");
        return 1;
    }
    printf("mtls + cached basic: 1 thread %.0f/s; %d threads %.0f/s, "
           "ratio %.2f\n",
           one, nthreads, many, many / one);

    bast_request_free(mreq);
    bast_request_free(breq);
    X509_free(raw.leaf);
    sk_X509_pop_free(raw.chain, X509_free);
    X509_STORE_free(raw.store);
    free((char *)raw.pem);
    bast_close(ctx);
    return 0;
}
