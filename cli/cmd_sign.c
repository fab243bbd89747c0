/*
 * cmd_sign.c - `bast sign`: placeholder until the hmac work lands.
 */
#include "cli.h"
#include <stdio.h>

int
bast_cmd_sign(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bast sign: not available in this build\n");
    return 2;
}
