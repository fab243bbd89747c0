/*
 * cmd_admin.c - `bast <plugin> <subcommand> --app APP --module NAME
 * [--confdir DIR] ...`: open the app's configuration, find the instance
 * and hand the rest of the words to its plugin's management entry.  The
 * three options may stand anywhere; everything else is the plugin's.
 */
#include "cli.h"

#include "bast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
take(const char *name, int *i, int argc, char **argv, const char **out)
{
    size_t n = strlen(name);
    if (strcmp(argv[*i], name) == 0) {
        if (*i + 1 >= argc)
            return -1;
        *out = argv[++*i];
        return 1;
    }
    if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=') {
        *out = argv[*i] + n + 1;
        return 1;
    }
    return 0;
}

int
bast_cmd_admin(const char *plugin, int argc, char **argv)
{
    const char *app = NULL, *module = NULL, *confdir = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof(*rest));
    int nrest = 0, help = 0;
    if (rest == NULL)
        return 1;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = take("--app", &i, argc, argv, &app)) ||
            (r = take("--module", &i, argc, argv, &module)) ||
            (r = take("--confdir", &i, argc, argv, &confdir))) {
            if (r < 0) {
                fprintf(stderr, "bast %s: %s needs a value\n", plugin, argv[i]);
                free(rest);
                return 2;
            }
            continue;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            help = 1;
        rest[nrest++] = argv[i];
    }
    if (app == NULL || module == NULL) {
        fprintf(help ? stdout : stderr,
                "usage: bast %s SUBCOMMAND --app APP --module NAME "
                "[--confdir DIR] ...\n"
                "Runs a management command of the `%s` plugin on the "
                "instance [NAME] of\n"
                "conf.d/APP.conf.  `bast %s --app APP --module NAME --help` "
                "lists its subcommands.\n",
                plugin, plugin, plugin);
        free(rest);
        return help ? 0 : 2;
    }
    bast_options o = {sizeof(o), NULL, app};
    char err[1024];
    bast_ctx *ctx = bast_open(confdir, &o, err, sizeof(err));
    if (ctx == NULL) {
        fprintf(stderr, "bast: %s\n", err);
        free(rest);
        return 2;
    }
    int rc = bast_admin(ctx, app, module, plugin, nrest, rest);
    bast_close(ctx);
    free(rest);
    return rc;
}
