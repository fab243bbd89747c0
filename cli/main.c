/*
 * main.c - the `bast` command: dispatch to a subcommand.  verify and check
 * are the core's; sign is the HMAC client; every other word names a plugin
 * whose management commands run on one configured instance.
 */
#include "cli.h"

#include "bast.h"

#include <stdio.h>
#include <string.h>

static void
usage(FILE *fp)
{
    fprintf(fp,
            "usage: bast <command> [options]\n"
            "\n"
            "commands:\n"
            "  verify   verify a request against an app's stack; prints the "
            "result JSON\n"
            "  check    load and lint the configuration; print each stack\n"
            "  sign     sign a request with the HMAC `bast` profile (client "
            "side)\n"
            "  apikey | hmac | basic | <plugin>  SUBCOMMAND --app APP "
            "--module NAME ...\n"
            "           manage the keys or secrets of one configured "
            "instance\n"
            "\n"
            "Every command takes --confdir DIR (default $BAST_CONFDIR, else "
            "/etc/bast)\n"
            "and --help.  Exit status: 0 allow/ok, 1 deny/failure, 2 usage "
            "or config error.\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("bast %s\n", BAST_VERSION);
        return 0;
    }
    if (strcmp(cmd, "verify") == 0)
        return bast_cmd_verify(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return bast_cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "sign") == 0)
        return bast_cmd_sign(argc - 1, argv + 1);
    if (cmd[0] != '-')
        return bast_cmd_admin(cmd, argc - 1, argv + 1);
    usage(stderr);
    return 2;
}
