/*
 * test_threads.c - the apikey plugin under concurrent bast_verify() calls
 * while another connection revokes and issues keys: the refresh thread
 * swaps indexes under the readers.  Every answer must be one the store
 * allowed at some point (allow as the right user, or deny `revoked` for a
 * revoked key); after the refresh interval every change is visible; after
 * bast_close the last-used batch is in the store.  Built against libbast;
 * TAP-style output for tests/run.  Meant for the sanitizer build too.
 */
#include "../../../plugins/apikey/ak.h"
#include "bast.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NKEYS 64
#define NTHREADS 4

static int failures;
#define CHECK(cond, what)                                                      \
    do {                                                                       \
        if (cond)                                                              \
            printf("ok - %s\n", what);                                         \
        else {                                                                 \
            printf("not ok - %s (%s:%d)\n", what, __FILE__, __LINE__);         \
            failures++;                                                        \
        }                                                                      \
    } while (0)

static char keys[2 * NKEYS][AK_KEY_MAX + 1];
static char ids[2 * NKEYS][AK_ID_MAX + 1];
static bast_ctx *ctx;
static atomic_int stop, wrong, calls;
static EVP_MD *md;

static unsigned char hashes[2 * NKEYS][AK_DIGEST];

/* Make key i (before any thread runs: workers read keys[] unlocked). */
static int
gen(int i)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    int rc = -1;
    if (mctx && ak_key_generate("bast_", keys[i], sizeof keys[i]) == 0 &&
        ak_id_generate(ids[i], sizeof ids[i]) == 0 &&
        ak_key_digest(mctx, md, keys[i], strlen(keys[i]), hashes[i]) == 0)
        rc = 0;
    EVP_MD_CTX_free(mctx);
    return rc;
}

static int
issue(ak_store *st, int i, char *err, size_t errlen)
{
    char user[16];
    ak_rec r = {0};

    snprintf(user, sizeof user, "user%d", i);
    memcpy(r.id, ids[i], sizeof r.id);
    memcpy(r.hash, hashes[i], AK_DIGEST);
    r.user = user;
    r.name = (char *)"t";
    r.prefix = (char *)"bast_";
    r.scopes = (char *)"s";
    r.created_at = (int64_t)time(NULL);
    return ak_store_insert(st, &r, err, errlen);
}

/* verify KEY i; returns the decision, checks the answer is a legal one */
static int
ask(int i, const char *addr, char *error, size_t elen)
{
    bast_request *req = bast_request_new();
    bast_result *res = NULL;
    char h[AK_KEY_MAX + 16], user[16];
    int d;

    snprintf(h, sizeof h, "Bearer %s", keys[i]);
    snprintf(user, sizeof user, "user%d", i);
    bast_request_add_header(req, "Authorization", h);
    if (addr)
        bast_request_set_remote_addr(req, addr);
    d = bast_verify(ctx, "t", req, &res) == BAST_ALLOW;
    if (d && strcmp(bast_result_identity(res), user) != 0)
        atomic_fetch_add(&wrong, 1);
    if (!d && error)
        snprintf(error, elen, "%s",
                 bast_result_error(res) ? bast_result_error(res) : "?");
    bast_result_free(res);
    bast_request_free(req);
    return d;
}

static void *
worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    char addr[32], err[64];
    while (!atomic_load(&stop)) {
        int i = (int)(rand_r(&seed) % (2 * NKEYS));
        snprintf(addr, sizeof addr, "10.0.%u.%u", seed % 4, (unsigned)i % 8);
        /* early keys: allowed until revoked; untouched ones: always
         * allowed; late ones: unknown until issued, then allowed */
        if (!ask(i, addr, err, sizeof err) &&
            ((i < NKEYS / 2 && strcmp(err, "revoked") != 0) ||
             (i >= NKEYS / 2 && i < NKEYS) ||
             (i >= NKEYS && strcmp(err, "unknown_key") != 0)))
            atomic_fetch_add(&wrong, 1);
        atomic_fetch_add(&calls, 1);
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    char dir[] = "/tmp/apikey-threads.XXXXXX", path[600], err[1024];
    const char *plugdir = getenv("BAST_PLUGIN_DIR");
    bast_options o = {sizeof o, plugdir, NULL};
    pthread_t th[NTHREADS];
    ak_store *st = NULL;
    ak_rec r;
    FILE *f;
    int i, ok, n;

    (void)argc;
    (void)argv;
    md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!plugdir || !mkdtemp(dir) || !md) {
        printf("not ok - setup (BAST_PLUGIN_DIR set?)\n");
        return 1;
    }
    chmod(dir, 0755);
    snprintf(path, sizeof path, "%s/conf.d", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/conf.d/t.conf", dir);
    if (!(f = fopen(path, "w")))
        return 1;
    fprintf(f, "[app]\n[k]\nplugin = apikey\ncontrol = required\n"
               "store = sqlite:t.db\nrefresh = 1\nlast_used_flush = 1\n");
    fclose(f);
    snprintf(path, sizeof path, "%s/t.db", dir);
    if (ak_store_open(path, &st, err, sizeof err) != 0) {
        printf("not ok - store: %s\n", err);
        return 1;
    }
    for (i = 0, ok = 1; i < 2 * NKEYS; i++)
        ok &= gen(i) == 0;
    for (i = 0; i < NKEYS; i++)
        ok &= issue(st, i, err, sizeof err) == 0;
    CHECK(ok, "issue the first keys");
    if (!(ctx = bast_open(dir, &o, err, sizeof err))) {
        printf("not ok - bast_open: %s\n", err);
        return 1;
    }
    for (i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 1));
    /* while they run: revoke the first half of the early keys, issue the
     * late ones, in another connection, with pauses so refreshes land
     * in the middle of verifies */
    for (i = 0, ok = 1; i < NKEYS / 2; i++) {
        ok &= ak_store_revoke(st, ids[i], (int64_t)time(NULL), err,
                              sizeof err) == 1;
        ok &= issue(st, NKEYS + i, err, sizeof err) == 0;
        usleep(50000);
    }
    CHECK(ok, "revoke and issue while verifies run");
    sleep(2);
    atomic_store(&stop, 1);
    for (i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    printf("# %d verifies in %d threads\n", atomic_load(&calls), NTHREADS);
    CHECK(atomic_load(&wrong) == 0,
          "every answer is one the store allowed at that time");

    for (i = 0, n = 0; i < NKEYS / 2; i++) {
        char e[64] = "";
        n += !ask(i, NULL, e, sizeof e) && strcmp(e, "revoked") == 0;
    }
    CHECK(n == NKEYS / 2, "every revocation visible after the interval");
    for (i = NKEYS, n = 0; i < NKEYS + NKEYS / 2; i++)
        n += ask(i, NULL, NULL, 0);
    CHECK(n == NKEYS / 2, "every new key visible after the interval");
    for (i = NKEYS / 2, n = 0; i < NKEYS; i++)
        n += ask(i, "192.0.2.1", NULL, 0);
    CHECK(n == NKEYS / 2, "untouched keys still allowed");

    bast_close(ctx);
    ok = ak_store_get(st, ids[NKEYS - 1], &r, err, sizeof err) == 0 &&
         r.last_ip && strcmp(r.last_ip, "192.0.2.1") == 0 && r.last_used_at;
    ak_rec_clear(&r);
    CHECK(ok, "the last uses are in the store after bast_close");
    ak_store_close(st);
    EVP_MD_free(md);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    if (system(path) != 0)
        printf("# could not remove %s\n", dir);
    return failures ? 1 : 0;
}
