/*
 * test_threads.c - one context shared by threads.  The `counter` plugin
 * is not thread-safe (a racy read-modify-write), so the core must run its
 * verify() under the instance's lock: after T threads x N verifies the
 * count is exactly T*N.  Also checks every result of every thread.
 */
#include "bast.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define THREADS 4
#define PER 3000

static bast_ctx *ctx;
static int failures[THREADS];

static void *
worker(void *arg)
{
    int id = (int)(long)arg;
    bast_request *req = bast_request_new();
    for (int i = 0; i < PER; i++) {
        bast_result *res = NULL;
        if (bast_verify(ctx, "t", req, &res) != BAST_ALLOW ||
            bast_result_status(res) != 200)
            failures[id]++;
        bast_result_free(res);
    }
    bast_request_free(req);
    return NULL;
}

int
main(void)
{
    char dir[] = "/tmp/bast-threads.XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    char path[512];
    snprintf(path, sizeof(path), "%s/conf.d", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/conf.d/t.conf", dir);
    FILE *fp = fopen(path, "w");
    fprintf(fp, "[count]\nplugin = counter\ncontrol = required\n");
    fclose(fp);
    char pdir[512];
    snprintf(pdir, sizeof(pdir), "%s/tests/core/plugins", getenv("B"));
    bast_options o = {sizeof(o), pdir, NULL};
    char err[512];
    ctx = bast_open(dir, &o, err, sizeof(err));
    if (ctx == NULL) {
        printf("not ok - open: %s\n", err);
        return 1;
    }
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    int bad = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        bad += failures[i];
    }
    printf("%s - %d threads x %d verifies all allowed (%d failed)\n",
           bad ? "not ok" : "ok", THREADS, PER, bad);
    bast_request *req = bast_request_new();
    bast_result *res = NULL;
    bast_verify(ctx, "t", req, &res);
    char *attrs = bast_result_attributes_json(res);
    char want[64];
    snprintf(want, sizeof(want), "{\"count\":%d}", THREADS * PER + 1);
    int same = strcmp(attrs, want) == 0;
    printf("%s - a plugin without BAST_CAP_THREADSAFE is serialised "
           "(count %s, want %s)\n",
           same ? "ok" : "not ok", attrs, want);
    bast_free(attrs);
    bast_result_free(res);
    bast_request_free(req);
    bast_close(ctx);
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    if (system(path) != 0)
        return 1;
    return bad || !same;
}
