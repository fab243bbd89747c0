/*
 * bench_stack.c - dispatch cost of bast's stack engine against libpam's,
 * measured in the same run.  For stacks of 1, 8 and 32 modules that all
 * succeed under `required`, it times bast_verify() over the `fixed`
 * plugin (with and without asking for the result object) and libpam's
 * pam_authenticate() on one reused handle over pam_fixed_test.so (the
 * same "return what you are told" module, trace off).  Prints ns per
 * call, ns per module and the bast/libpam ratio; never passes or fails
 * on timing.  Usage: bench_stack PAM_MODULE [SECONDS_PER_CASE]; the
 * plugin directory comes from BAST_PLUGIN_DIR.
 */
#include "bast.h"

#include <limits.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const int sizes[] = {1, 8, 32};

static int
conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
        void *data)
{
    (void)n;
    (void)msg;
    (void)resp;
    (void)data;
    return PAM_CONV_ERR;
}

static const struct pam_conv conv = {conv_fn, NULL};

static double
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
write_configs(const char *dir, const char *module)
{
    char path[PATH_MAX + 64];
    FILE *fb, *fp;

    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        snprintf(path, sizeof(path), "%s/bast/conf.d/s%d.conf", dir, sizes[s]);
        fb = fopen(path, "w");
        snprintf(path, sizeof(path), "%s/pam/s%d", dir, sizes[s]);
        fp = fopen(path, "w");
        if (fb == NULL || fp == NULL) {
            if (fb)
                fclose(fb);
            if (fp)
                fclose(fp);
            return -1;
        }
        fprintf(fb, "[app]\nrealm = bench\n");
        for (int i = 0; i < sizes[s]; i++) {
            fprintf(fb,
                    "\n[m%d]\nplugin = fixed\ncontrol = required\n"
                    "result = success\nidentity = bench\n",
                    i);
            fprintf(fp, "auth required %s ret=success id=%d notrace\n", module,
                    i);
        }
        if (fclose(fb) != 0 || fclose(fp) != 0)
            return -1;
    }
    return 0;
}

/* ns per call of one case: the best of three rounds of secs/3 each, so
 * a burst of other load on the machine does not decide the ratio. */
typedef int (*call_fn)(void *arg);

static double
measure(call_fn fn, void *arg, double secs)
{
    double best = -1;

    for (int i = 0; i < 1000; i++) /* warm up */
        if (fn(arg) != 0)
            return -1;
    for (int round = 0; round < 3; round++) {
        long n = 0, batch = 256;
        double t0 = now_ns(), t1;
        do {
            for (long i = 0; i < batch; i++)
                if (fn(arg) != 0)
                    return -1;
            n += batch;
            t1 = now_ns();
        } while (t1 - t0 < secs / 3 * 1e9);
        if (best < 0 || (t1 - t0) / (double)n < best)
            best = (t1 - t0) / (double)n;
    }
    return best;
}

struct bast_case {
    bast_ctx *ctx;
    const char *app;
    bast_request *req;
};

static int
call_bast(void *arg)
{
    struct bast_case *c = arg;
    bast_result *res = NULL;
    int ok = bast_verify(c->ctx, c->app, c->req, &res) == BAST_ALLOW;
    bast_result_free(res);
    return ok ? 0 : -1;
}

static int
call_bast_nores(void *arg)
{
    struct bast_case *c = arg;
    return bast_verify(c->ctx, c->app, c->req, NULL) == BAST_ALLOW ? 0 : -1;
}

static int
call_pam(void *arg)
{
    return pam_authenticate(arg, PAM_SILENT) == PAM_SUCCESS ? 0 : -1;
}

int
main(int argc, char **argv)
{
    char dir[] = "/tmp/bench-stack.XXXXXX", path[PATH_MAX + 64], err[512];
    double secs = argc > 2 ? atof(argv[2]) : 0.5;
    bast_options opts;
    bast_ctx *ctx = NULL;
    bast_request *req = bast_request_new();
    int rc = 1;

    if (argc < 2 || req == NULL) {
        fprintf(stderr, "usage: bench_stack PAM_MODULE [SECONDS]\n");
        return 2;
    }
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/bast", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/bast/conf.d", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/pam", dir);
    mkdir(path, 0755);
    chmod(dir, 0755);
    if (write_configs(dir, argv[1]) != 0) {
        perror("bench_stack: writing configs");
        goto out;
    }
    memset(&opts, 0, sizeof(opts));
    opts.size = sizeof(opts);
    opts.plugin_dir = getenv("BAST_PLUGIN_DIR");
    snprintf(path, sizeof(path), "%s/bast", dir);
    if ((ctx = bast_open(path, &opts, err, sizeof(err))) == NULL) {
        fprintf(stderr, "bench_stack: %s\n", err);
        goto out;
    }
    bast_request_set_method(req, "GET");
    bast_request_set_path(req, "/");
    double first[3] = {0, 0, 0};
    printf("stack dispatch, %.1f s per case (ns per call; lower is better)\n",
           secs);
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        char app[16];
        struct bast_case bc;
        pam_handle_t *h = NULL;
        double tb, tn, tp;

        snprintf(app, sizeof(app), "s%d", sizes[s]);
        bc.ctx = ctx;
        bc.app = app;
        bc.req = req;
        snprintf(path, sizeof(path), "%s/pam", dir);
        if (pam_start_confdir(app, "bench", &conv, path, &h) != PAM_SUCCESS) {
            fprintf(stderr, "bench_stack: pam_start_confdir failed\n");
            goto out;
        }
        tb = measure(call_bast, &bc, secs);
        tn = measure(call_bast_nores, &bc, secs);
        tp = measure(call_pam, h, secs);
        pam_end(h, PAM_SUCCESS);
        if (tb < 0 || tn < 0 || tp < 0) {
            fprintf(stderr, "bench_stack: a stack of %d did not allow\n",
                    sizes[s]);
            goto out;
        }
        printf("%d module%s:\n", sizes[s], sizes[s] > 1 ? "s" : "");
        printf("  bast_verify + result  %8.0f ns/call %7.0f ns/module  "
               "%.2fx libpam\n",
               tb, tb / sizes[s], tb / tp);
        printf("  bast_verify (no out)  %8.0f ns/call %7.0f ns/module  "
               "%.2fx libpam\n",
               tn, tn / sizes[s], tn / tp);
        printf("  libpam authenticate   %8.0f ns/call %7.0f ns/module  "
               "1.00x (baseline)\n",
               tp, tp / sizes[s]);
        if (s == 0) {
            first[0] = tb;
            first[1] = tn;
            first[2] = tp;
        } else {
            /* The fixed cost per call (libpam's audit hook, bast's result
             * allocation) cancels out in the cost of each added module. */
            double k = sizes[s] - sizes[0];
            double mb = (tb - first[0]) / k, mn = (tn - first[1]) / k,
                   mp = (tp - first[2]) / k;
            printf("each added module (%d vs %d):\n", sizes[s], sizes[0]);
            printf("  bast + result %6.0f ns, bast %6.0f ns, libpam %6.0f ns"
                   "  (bast/libpam %.2fx)\n",
                   mb, mn, mp, mp > 0 ? mb / mp : 0.0);
        }
    }
    rc = 0;
out:
    bast_close(ctx);
    bast_request_free(req);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    if (system(path) != 0)
        fprintf(stderr, "bench_stack: could not remove %s\n", dir);
    return rc;
}
