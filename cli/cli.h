/*
 * cli.h - subcommands of the `bast` command.  Each returns the process
 * exit code: 0 allow/ok, 1 deny/failure, 2 usage or configuration error.
 */
#ifndef BAST_CLI_H
#define BAST_CLI_H

int bast_cmd_verify(int argc, char **argv);
int bast_cmd_check(int argc, char **argv);
int bast_cmd_sign(int argc, char **argv);
/* `bast <plugin> <subcommand> --app A --module M ...` */
int bast_cmd_admin(const char *plugin, int argc, char **argv);

#endif
