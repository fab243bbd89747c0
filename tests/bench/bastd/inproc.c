/*
 * inproc.c - the in-process baseline of the bastd benchmark: the same
 * verification bastd does, called with bast_verify() directly from
 * THREADS threads for SECONDS.
 *   bastd_inproc CONFDIR APP SECONDS THREADS ['Name: value']
 * Prints "rps N" (verifications per second, all threads) and the count of
 * denials, which should be 0 for a valid credential.
 */
#include <bast.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct run {
    bast_ctx *ctx;
    const char *app, *hname, *hvalue;
    atomic_int stop;
    atomic_ulong done, denied;
};

static void *
loop(void *arg)
{
    struct run *r = arg;
    unsigned long n = 0, d = 0;
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        /* Build the request every time, as bastd does per HTTP request. */
        bast_request *req = bast_request_new();
        bast_request_set_method(req, "GET");
        bast_request_set_path(req, "/bench");
        bast_request_set_remote_addr(req, "127.0.0.1");
        if (r->hname)
            bast_request_add_header(req, r->hname, r->hvalue);
        bast_result *res = NULL;
        if (bast_verify(r->ctx, r->app, req, &res) != BAST_ALLOW)
            d++;
        bast_result_free(res);
        bast_request_free(req);
        n++;
    }
    atomic_fetch_add(&r->done, n);
    atomic_fetch_add(&r->denied, d);
    return NULL;
}

int
main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bastd_inproc CONFDIR APP SECONDS THREADS "
                        "['Name: value']\n");
        return 2;
    }
    char err[512], name[256] = "";
    struct run r = {.app = argv[2]};
    if (argc > 5) {
        const char *colon = strchr(argv[5], ':');
        if (!colon || (size_t)(colon - argv[5]) >= sizeof name)
            return 2;
        memcpy(name, argv[5], (size_t)(colon - argv[5]));
        r.hname = name;
        r.hvalue = colon + 1 + strspn(colon + 1, " ");
    }
    if (!(r.ctx = bast_open(argv[1], NULL, err, sizeof err))) {
        fprintf(stderr, "bastd_inproc: %s\n", err);
        return 1;
    }
    int secs = atoi(argv[3]), nt = atoi(argv[4]);
    if (nt < 1 || nt > 64 || secs < 1)
        return 2;
    pthread_t t[64];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < nt; i++)
        pthread_create(&t[i], NULL, loop, &r);
    struct timespec d = {secs, 0};
    nanosleep(&d, NULL);
    atomic_store(&r.stop, 1);
    for (int i = 0; i < nt; i++)
        pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double el =
        (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("rps %.0f denied %lu\n", (double)atomic_load(&r.done) / el,
           atomic_load(&r.denied));
    bast_close(r.ctx);
    return 0;
}
