/*
 * embed.c - a legacy daemon embedding libbast, in miniature: open the
 * configuration once, verify from several worker threads, reload on
 * SIGHUP (a bad configuration is reported and the old one keeps serving).
 *   embed CONFDIR APP SECONDS [THREADS]
 * Each worker verifies `Authorization: Bearer $EMBED_TOKEN` in a loop and
 * finally prints "thread N: allow A deny D last WHO" (WHO is the last
 * identity, or deny:STATUS:ERROR).  The reload pattern: a read lock around
 * each verification, a write lock only for the pointer swap, and the old
 * context closed after the swap, once no verification can still use it.
 */
#include <bast.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct host {
    pthread_rwlock_t lock;
    bast_ctx *ctx; /* guarded by lock */
    const char *app, *token;
    atomic_int stop;
};

struct worker {
    struct host *h;
    pthread_t tid;
    unsigned long allow, deny;
    char last[128];
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    while (!atomic_load(&w->h->stop)) {
        bast_request *req = bast_request_new(); /* one per request */
        char auth[1024];
        snprintf(auth, sizeof auth, "Bearer %s", w->h->token);
        bast_request_set_path(req, "/orders");
        if (*w->h->token)
            bast_request_add_header(req, "Authorization", auth);
        bast_result *res = NULL;
        pthread_rwlock_rdlock(&w->h->lock);
        if (bast_verify(w->h->ctx, w->h->app, req, &res) == BAST_ALLOW) {
            w->allow++;
            snprintf(w->last, sizeof w->last, "%s", bast_result_identity(res));
        } else {
            w->deny++;
            snprintf(w->last, sizeof w->last, "deny:%d:%s",
                     bast_result_status(res), bast_result_error(res));
        }
        bast_result_free(res); /* borrows from ctx: free inside the lock */
        pthread_rwlock_unlock(&w->h->lock);
        bast_request_free(req);
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: embed CONFDIR APP SECONDS [THREADS]\n");
        return 2;
    }
    const char *confdir = argv[1];
    int seconds = atoi(argv[3]), n = argc > 4 ? atoi(argv[4]) : 4;
    char err[512];
    struct host h = {.app = argv[2], .token = getenv("EMBED_TOKEN")};
    if (!h.token)
        h.token = "";
    pthread_rwlock_init(&h.lock, NULL);
    if (!(h.ctx = bast_open(confdir, NULL, err, sizeof err))) {
        fprintf(stderr, "embed: %s\n", err);
        return 1;
    }
    sigset_t set; /* blocked before the threads start, so they inherit it */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct worker *w = calloc((size_t)n, sizeof *w);
    for (int i = 0; w && i < n; i++) {
        w[i].h = &h;
        pthread_create(&w[i].tid, NULL, work, &w[i]);
    }
    printf("ready\n");
    fflush(stdout);
    time_t end = time(NULL) + seconds;
    while (w && time(NULL) < end) {
        struct timespec tick = {0, 100 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGTERM)
            break;
        if (sig != SIGHUP)
            continue;
        bast_ctx *fresh = bast_open(confdir, NULL, err, sizeof err);
        if (!fresh) {
            printf("reload failed: %s\n", err);
        } else {
            pthread_rwlock_wrlock(&h.lock);
            bast_ctx *old = h.ctx;
            h.ctx = fresh;
            pthread_rwlock_unlock(&h.lock);
            bast_close(old); /* no reader can hold it past the swap */
            printf("reloaded\n");
        }
        fflush(stdout);
    }
    atomic_store(&h.stop, 1);
    for (int i = 0; w && i < n; i++) {
        pthread_join(w[i].tid, NULL);
        printf("thread %d: allow %lu deny %lu last %s\n", i, w[i].allow,
               w[i].deny, w[i].last);
    }
    free(w);
    bast_close(h.ctx);
    pthread_rwlock_destroy(&h.lock);
    return 0;
}
