/*
 * bench_apikey.c - benchmark of the apikey plugin: an app with one apikey
 * module and N keys (default 100,000) in its store; full bast_verify()
 * calls per second (result included) against a raw SHA-256 of the same key
 * text with a prefetched digest and a reused context, both measured in
 * this run, and the resident memory the loaded index adds to the process.
 * Usage: bench_apikey [NKEYS] [PLUGIN_DIR].  Prints; never fails on time.
 */
#include "../../../plugins/apikey/ak.h"
#include "bast.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NREQ 4096 /* distinct prepared requests, cycled */
#define ROUNDS 5
#define SLICE 0.3 /* seconds per measurement */

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A "Name: N kB" line of a /proc/self file, or -1. */
static long
proc_kb(const char *file, const char *name)
{
    char line[256];
    long kb = -1;
    size_t n = strlen(name);
    FILE *f = fopen(file, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            kb = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

static long
rss_kb(void)
{
    return proc_kb("/proc/self/status", "VmRSS");
}

/* Bulk-load n keys in one transaction (the admin path commits each key
 * with a full sync, which is right for operators and slow for 100,000). */
static char *
fill_store(const char *path, size_t n)
{
    char err[512], *keys = malloc(n * (AK_KEY_MAX + 1));
    ak_store *st = NULL;
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t i;

    if (!keys || !md || !ctx || ak_store_open(path, &st, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", st ? "setup" : err);
        exit(2);
    }
    ak_store_close(st);
    sqlite3_open(path, &db);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO keys (id, user, name, hash, prefix,"
                       " scopes, created_at) VALUES (?1, ?2, 'bench', ?3,"
                       " 'bast_', 'read write', 1)",
                       -1, &s, NULL);
    for (i = 0; i < n; i++) {
        char *k = keys + i * (AK_KEY_MAX + 1), id[AK_ID_MAX + 1], user[32];
        unsigned char h[AK_DIGEST];
        if (ak_key_generate("bast_", k, AK_KEY_MAX + 1) != 0 ||
            ak_id_generate(id, sizeof id) != 0 ||
            ak_key_digest(ctx, md, k, strlen(k), h) != 0)
            exit(2);
        snprintf(user, sizeof user, "user%zu", i % 1000);
        sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, user, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(s, 3, h, AK_DIGEST, SQLITE_TRANSIENT);
        if (sqlite3_step(s) != SQLITE_DONE) {
            fprintf(stderr, "bench: insert: %s\n", sqlite3_errmsg(db));
            exit(2);
        }
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    sqlite3_exec(db,
                 "UPDATE meta SET v = v + 1 WHERE k = 'generation';"
                 "COMMIT",
                 NULL, NULL, NULL);
    sqlite3_close(db);
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    return keys;
}

/* Two threads verifying at once, to show the plugin scales (the digest
 * contexts are per slot, the index is shared read-only). */
struct par {
    bast_ctx *ctx;
    bast_request **reqs;
    size_t nreq, iters, allowed, offset;
};

static void *
par_run(void *arg)
{
    struct par *p = arg;
    double t0 = now_s();
    size_t i;
    do {
        for (i = 0; i < 10000; i++, p->iters++) {
            bast_result *res = NULL;
            if (bast_verify(p->ctx, "bench",
                            p->reqs[(p->iters + p->offset) % p->nreq],
                            &res) == BAST_ALLOW)
                p->allowed++;
            bast_result_free(res);
        }
    } while (now_s() - t0 < SLICE);
    return NULL;
}

int
main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 100000;
    const char *plugdir = argc > 2 ? argv[2] : getenv("BAST_PLUGIN_DIR");
    char dir[] = "/tmp/bast-bench-apikey.XXXXXX", path[512], err[1024];
    bast_request *reqs[NREQ];
    bast_options o = {sizeof o, plugdir, "bench"};
    volatile unsigned char sink = 0;
    double t0, hs, vs, v2 = 0, ls = 0, fs, dt, topen;
    int round;
    long rss0, rss1, huge;
    size_t i, iters, total = 0, allowed = 0, nreq = n < NREQ ? n : NREQ;
    char *keys;
    FILE *f;
    bast_ctx *ctx, *ctx_lean, *ctx_floor;
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();

    if (n == 0 || !mkdtemp(dir) || !md || !mctx)
        return 2;
    snprintf(path, sizeof path, "%s/conf.d", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/conf.d/bench.conf", dir);
    if (!(f = fopen(path, "w")))
        return 2;
    fprintf(f, "[app]\nrealm = bench\n\n[keys]\nplugin = apikey\n"
               "control = required\nstore = sqlite:keys.db\n");
    fclose(f);
    /* The same module returning no attributes: the core builds each
     * attribute per request, and that is most of the difference. */
    snprintf(path, sizeof path, "%s/conf.d/lean.conf", dir);
    if (!(f = fopen(path, "w")))
        return 2;
    fprintf(f, "[app]\n[keys]\nplugin = apikey\ncontrol = required\n"
               "store = sqlite:keys.db\nattributes = none\n");
    fclose(f);
    /* The core's own cost per call: the same request through `fixed`,
     * which allows with an identity and does nothing else. */
    snprintf(path, sizeof path, "%s/conf.d/floor.conf", dir);
    if (!(f = fopen(path, "w")))
        return 2;
    fprintf(f, "[app]\nrealm = floor\n\n[any]\nplugin = fixed\n"
               "control = required\nresult = success\nidentity = user1\n");
    fclose(f);
    snprintf(path, sizeof path, "%s/keys.db", dir);
    keys = fill_store(path, n);

    rss0 = rss_kb();
    t0 = now_s();
    if (!(ctx = bast_open(dir, &o, err, sizeof err))) {
        fprintf(stderr, "bench: %s\n", err);
        return 2;
    }
    topen = now_s() - t0;
    rss1 = rss_kb();
    huge = proc_kb("/proc/self/smaps_rollup", "AnonHugePages");
    /* the comparison apps, each in its own context, opened after the
     * memory of the one-module app was measured */
    o.only_app = "lean";
    ctx_lean = bast_open(dir, &o, err, sizeof err);
    o.only_app = "floor";
    ctx_floor = bast_open(dir, &o, err, sizeof err);
    if (!ctx_lean || !ctx_floor) {
        fprintf(stderr, "bench: %s\n", err);
        return 2;
    }

    for (i = 0; i < nreq; i++) {
        char h[AK_KEY_MAX + 16];
        /* spread the prepared requests over the whole index */
        snprintf(h, sizeof h, "Bearer %s",
                 keys + (i * (n / nreq)) * (AK_KEY_MAX + 1));
        reqs[i] = bast_request_new();
        bast_request_set_method(reqs[i], "GET");
        bast_request_set_path(reqs[i], "/v1/things");
        bast_request_add_header(reqs[i], "Authorization", h);
    }

    /* Interleaved rounds, best of each: on a shared machine the load
     * changes between phases; the best round is the least disturbed. */
    hs = vs = fs = 0;
    for (round = 0; round < ROUNDS; round++) {
        double r;
        /* Baseline: SHA-256 of the same key texts, prefetched md, reused
         * context. */
        iters = 0;
        t0 = now_s();
        do {
            for (i = 0; i < 10000; i++, iters++) {
                const char *k =
                    keys + ((iters % nreq) * (n / nreq)) * (AK_KEY_MAX + 1);
                unsigned char d[AK_DIGEST];
                ak_key_digest(mctx, md, k, strlen(k), d);
                sink ^= d[0];
            }
        } while ((dt = now_s() - t0) < SLICE);
        if ((r = (double)iters / dt) > hs)
            hs = r;

        iters = 0;
        t0 = now_s();
        do {
            for (i = 0; i < 10000; i++, iters++) {
                bast_result *res = NULL;
                bast_verify(ctx_floor, "floor", reqs[iters % nreq], &res);
                bast_result_free(res);
            }
        } while ((dt = now_s() - t0) < SLICE);
        if ((r = (double)iters / dt) > fs)
            fs = r;

        iters = 0;
        t0 = now_s();
        do {
            for (i = 0; i < 10000; i++, iters++) {
                bast_result *res = NULL;
                if (bast_verify(ctx, "bench", reqs[iters % nreq], &res) ==
                    BAST_ALLOW)
                    allowed++;
                bast_result_free(res);
            }
        } while ((dt = now_s() - t0) < SLICE);
        total += iters;
        if ((r = (double)iters / dt) > vs)
            vs = r;

        iters = 0;
        t0 = now_s();
        do {
            for (i = 0; i < 10000; i++, iters++) {
                bast_result *res = NULL;
                if (bast_verify(ctx_lean, "lean", reqs[iters % nreq], &res) ==
                    BAST_ALLOW)
                    allowed++;
                bast_result_free(res);
            }
        } while ((dt = now_s() - t0) < SLICE);
        total += iters;
        if ((r = (double)iters / dt) > ls)
            ls = r;

        {
            struct par p[2] = {{ctx, reqs, nreq, 0, 0, 0},
                               {ctx, reqs, nreq, 0, 0, nreq / 2}};
            pthread_t th[2];
            t0 = now_s();
            for (i = 0; i < 2; i++)
                pthread_create(&th[i], NULL, par_run, &p[i]);
            for (i = 0; i < 2; i++)
                pthread_join(th[i], NULL);
            dt = now_s() - t0;
            total += p[0].iters + p[1].iters;
            allowed += p[0].allowed + p[1].allowed;
            if ((r = (double)(p[0].iters + p[1].iters) / dt) > v2)
                v2 = r;
        }
    }

    printf("apikey bench: %zu keys in the store\n", n);
    printf("  best of %d interleaved rounds of %.1f s each\n", ROUNDS, SLICE);
    printf("  raw SHA-256 of the key   %12.0f /s\n", hs);
    printf("  bast_verify() allow      %12.0f /s  (%zu of %zu allowed)\n", vs,
           allowed, total);
    printf("  same, attributes = none  %12.0f /s  (ratio %.3f)\n", ls, ls / hs);
    printf("  bast_verify() 2 threads  %12.0f /s  (%.2fx one thread)\n", v2,
           v2 / vs);
    printf("  bast_verify() `fixed`    %12.0f /s  (the core alone: an allow"
           " with an identity)\n",
           fs);
    printf("  ratio verify/sha256      %12.3f   (goal >= 0.25)\n", vs / hs);
    printf(
        "  ratio core-only/sha256   %12.3f   (the ceiling the core leaves)\n",
        fs / hs);
    printf("  plugin's own time        %12.0f ns per call\n",
           (1.0 / vs - 1.0 / fs) * 1e9);
    printf("  bast_open (index load)   %12.0f ms\n", topen * 1e3);
    printf("  RSS before open          %9ld kB\n", rss0);
    printf("  RSS with the index       %9ld kB  (+%ld kB, %.0f B/key;"
           " %ld kB on huge pages)\n",
           rss1, rss1 - rss0, (double)(rss1 - rss0) * 1024.0 / (double)n, huge);
    (void)sink;

    for (i = 0; i < nreq; i++)
        bast_request_free(reqs[i]);
    bast_close(ctx);
    bast_close(ctx_lean);
    bast_close(ctx_floor);
    free(keys);
    EVP_MD_CTX_free(mctx);
    EVP_MD_free(md);
    snprintf(err, sizeof err, "rm -rf '%s'", dir);
    if (system(err) != 0)
        fprintf(stderr, "bench: could not remove %s\n", dir);
    return allowed == total ? 0 : 1;
}
