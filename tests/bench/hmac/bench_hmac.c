/*
 * bench_hmac.c - verifies per second of the hmac plugin's `bast` profile
 * through the full bast_verify() (config, loader, stack, replay store),
 * with the memory replay store (one thread and two) and with Redis when a
 * port is given, against the raw cost of the same crypto: SHA-256 of the
 * body and HMAC-SHA256 of the signed string with reused OpenSSL contexts,
 * measured in the same run.  Prints ratios; never fails on timing.
 * Usage: bench_hmac PLUGIN_DIR [REDIS_PORT] [N]
 */
#include "bast.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SECRET "bench-secret-0123456789abcdef"
#define NOW 1800000000
#define BODY_LEN 256

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
    chmod(path, mode);
}

/* A config dir with one app `b` (hmac, bast profile); replay spec or
 * NULL for memory. */
static void
make_conf(const char *dir, const char *replay)
{
    char p[512], text[256];

    mkdir(dir, 0755);
    snprintf(p, sizeof(p), "%s/conf.d", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/conf.d/b.conf", dir);
    write_file(p,
               "[app]\nrealm = bench\n\n[sig]\nplugin = hmac\n"
               "control = required\nsecrets_file = keys\n",
               0644);
    snprintf(p, sizeof(p), "%s/keys", dir);
    write_file(p, "bench-key bench-user " SECRET "\n", 0600);
    if (replay != NULL) {
        snprintf(p, sizeof(p), "%s/bast.conf", dir);
        snprintf(text, sizeof(text), "[bast]\nreplay = %s\n", replay);
        write_file(p, text, 0644);
    }
}

static char body[BODY_LEN];

/* n requests, each signed with its own nonce. */
static bast_request **
make_requests(size_t n)
{
    bast_request **r = calloc(n, sizeof(*r));
    char err[256];
    size_t i;

    for (i = 0; i < n; i++) {
        char *h = bast_sign("bast", "bench-key", SECRET, strlen(SECRET), "POST",
                            "/v1/charges", "expand=customer", body,
                            sizeof(body), NOW, err, sizeof(err));
        char *line, *save = NULL;
        if (h == NULL) {
            fprintf(stderr, "bast_sign: %s\n", err);
            exit(2);
        }
        r[i] = bast_request_new();
        bast_request_set_method(r[i], "POST");
        bast_request_set_path(r[i], "/v1/charges");
        bast_request_set_query(r[i], "expand=customer");
        bast_request_set_body(r[i], body, sizeof(body));
        bast_request_set_time(r[i], NOW);
        for (line = strtok_r(h, "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save)) {
            char *colon = strchr(line, ':');
            *colon = '\0';
            bast_request_add_header(r[i], line, colon + 2);
        }
        bast_free(h);
    }
    return r;
}

typedef struct job {
    const bast_ctx *ctx;
    bast_request **reqs;
    size_t from, to, allowed;
} job;

static void *
run_job(void *arg)
{
    job *j = arg;
    size_t i;

    for (i = j->from; i < j->to; i++)
        j->allowed += bast_verify(j->ctx, "b", j->reqs[i], NULL) == BAST_ALLOW;
    return NULL;
}

/* Verify every request once over `threads` threads; returns verifies/s. */
static double
bench_verify(const char *confdir, const char *plugin_dir, size_t n, int threads,
             const char *label)
{
    bast_options o;
    bast_ctx *ctx;
    bast_request **reqs = make_requests(n);
    pthread_t th[8];
    job jobs[8];
    char err[512];
    double t0, dt;
    size_t i, allowed = 0;
    int k;

    memset(&o, 0, sizeof(o));
    o.size = sizeof(o);
    o.plugin_dir = plugin_dir;
    ctx = bast_open(confdir, &o, err, sizeof(err));
    if (ctx == NULL) {
        fprintf(stderr, "bast_open: %s\n", err);
        exit(2);
    }
    t0 = now_s();
    for (k = 0; k < threads; k++) {
        jobs[k] = (job){ctx, reqs, n * (size_t)k / (size_t)threads,
                        n * (size_t)(k + 1) / (size_t)threads, 0};
        pthread_create(&th[k], NULL, run_job, &jobs[k]);
    }
    for (k = 0; k < threads; k++) {
        pthread_join(th[k], NULL);
        allowed += jobs[k].allowed;
    }
    dt = now_s() - t0;
    if (allowed != n)
        printf("  WARNING: %s: %zu of %zu allowed\n", label, allowed, n);
    for (i = 0; i < n; i++)
        bast_request_free(reqs[i]);
    free(reqs);
    bast_close(ctx);
    return (double)n / dt;
}

/* The same crypto with nothing around it: SHA-256 of the body, the signed
 * string, HMAC-SHA256 with a context keyed once. */
static double
bench_raw(size_t n)
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *hctx = EVP_MAC_CTX_new(mac);
    OSSL_PARAM params[2];
    unsigned char dg[32], out[32];
    unsigned int dlen;
    char msg[512], hex[65];
    size_t i, olen, acc = 0;
    double t0;
    int j;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    EVP_MAC_init(hctx, (const unsigned char *)SECRET, strlen(SECRET), params);
    t0 = now_s();
    for (i = 0; i < n; i++) {
        int len;
        EVP_DigestInit_ex2(mctx, md, NULL);
        EVP_DigestUpdate(mctx, body, sizeof(body));
        EVP_DigestFinal_ex(mctx, dg, &dlen);
        for (j = 0; j < 32; j++)
            snprintf(hex + 2 * j, 3, "%02x", dg[j]);
        len = snprintf(msg, sizeof(msg),
                       "POST\n/v1/charges?expand=customer\n20270115T080000Z\n"
                       "%032zx\n%s",
                       i, hex);
        EVP_MAC_init(hctx, NULL, 0, NULL);
        EVP_MAC_update(hctx, (unsigned char *)msg, (size_t)len);
        EVP_MAC_final(hctx, out, &olen, sizeof(out));
        acc += out[0];
    }
    t0 = now_s() - t0;
    if (acc == (size_t)-1)
        printf("%zu\n", acc);
    EVP_MAC_CTX_free(hctx);
    EVP_MAC_free(mac);
    EVP_MD_CTX_free(mctx);
    EVP_MD_free(md);
    return (double)n / t0;
}

int
main(int argc, char **argv)
{
    char dir[] = "/tmp/bast-bench-hmac.XXXXXX", mem[600], red[600];
    char spec[128], cmd[700];
    size_t n = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 50000;
    double raw, m1, m2, r1 = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: bench_hmac PLUGIN_DIR [REDIS_PORT] [N]\n");
        return 2;
    }
    memset(body, 'x', sizeof(body));
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(mem, sizeof(mem), "%s/mem", dir);
    make_conf(mem, NULL);
    raw = bench_raw(n);
    m1 = bench_verify(mem, argv[1], n, 1, "memory");
    m2 = bench_verify(mem, argv[1], n, 2, "memory, 2 threads");
    if (argc > 2 && atoi(argv[2]) > 0) {
        snprintf(red, sizeof(red), "%s/redis", dir);
        snprintf(spec, sizeof(spec), "redis://127.0.0.1:%s/0", argv[2]);
        make_conf(red, spec);
        r1 = bench_verify(red, argv[1], n / 5, 1, "redis");
    }
    printf("hmac `bast` profile, %d-byte body, %zu requests\n", BODY_LEN, n);
    printf("  raw SHA-256 + HMAC-SHA256 (reused contexts) %10.0f /s\n", raw);
    printf("  bast_verify, memory replay store            %10.0f /s  "
           "ratio %.2f (goal >= 0.40)\n",
           m1, m1 / raw);
    printf("  bast_verify, memory replay store, 2 threads %10.0f /s  "
           "ratio %.2f\n",
           m2, m2 / raw);
    if (r1 > 0)
        printf("  bast_verify, Redis replay store             %10.0f /s  "
               "ratio %.2f (one round trip per request)\n",
               r1, r1 / raw);
    else
        printf("  bast_verify, Redis replay store             skipped (no "
               "redis-server)\n");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
