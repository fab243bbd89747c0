/*
 * cmd_check.c - `bast check [--app APP] [--confdir DIR] [--quiet]`: load
 * the configuration exactly as a host would (all or nothing), print each
 * stack as it will run and every lint warning.  Exit 0 when it loads
 * (warnings included), 2 on any error, with one line naming file:line.
 */
#include "cli.h"

#include "bast.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void
usage(FILE *fp)
{
    fprintf(fp, "usage: bast check [--app APP] [--confdir DIR] [--quiet]\n"
                "Load and lint bast.conf and conf.d/*.conf (or one app and "
                "what it includes);\n"
                "print each stack as it will run and every warning.  Exit 0 "
                "when the\n"
                "configuration loads, 2 on any error.\n");
}

int
bast_cmd_check(int argc, char **argv)
{
    static const struct option lo[] = {{"app", required_argument, 0, 'a'},
                                       {"confdir", required_argument, 0, 'c'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    const char *app = NULL, *confdir = NULL;
    int quiet = 0, c;
    while ((c = getopt_long(argc, argv, "a:c:qh", lo, NULL)) != -1) {
        switch (c) {
        case 'a':
            app = optarg;
            break;
        case 'c':
            confdir = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    bast_options o = {sizeof(o), NULL, app};
    char err[1024];
    bast_ctx *ctx = bast_open(confdir, &o, err, sizeof(err));
    if (ctx == NULL) {
        fprintf(stderr, "bast: %s\n", err);
        return 2;
    }
    if (app && bast_app_count(ctx) == 0) {
        fprintf(stderr,
                "bast: no conf.d/%s.conf and no conf.d/other.conf: "
                "every request for '%s' is denied\n",
                app, app);
        bast_close(ctx);
        return 2;
    }
    if (!quiet)
        for (size_t i = 0; i < bast_app_count(ctx); i++) {
            char *d = bast_stack_describe(ctx, bast_app_name(ctx, i));
            if (d)
                fputs(d, stdout);
            bast_free(d);
        }
    for (size_t i = 0; i < bast_warning_count(ctx); i++)
        fprintf(stderr, "warning: %s\n", bast_warning(ctx, i));
    if (!quiet)
        printf("ok: %zu app%s loaded, %zu warning%s\n", bast_app_count(ctx),
               bast_app_count(ctx) == 1 ? "" : "s", bast_warning_count(ctx),
               bast_warning_count(ctx) == 1 ? "" : "s");
    bast_close(ctx);
    return 0;
}
