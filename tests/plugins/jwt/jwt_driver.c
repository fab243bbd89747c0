/*
 * jwt_driver.c - a long-lived host for the jwt plugin's tests: opens one
 * context (argv[1] confdir) and verifies, for app argv[2], one request per
 * stdin line (the JSON form of DESIGN.md, optionally preceded by
 * "@EPOCH " to set the request's time), printing one result line each and
 * flushing, so a test can change the world (rotate a JWKS, stop a server)
 * between two requests of the same context.  Not named test_*: the runner
 * does not run it by itself.
 */
#include "bast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
    char err[512], *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bast_ctx *ctx;

    if (argc != 3) {
        fprintf(stderr, "usage: jwt_driver CONFDIR APP\n");
        return 2;
    }
    if (!(ctx = bast_open(argv[1], NULL, err, sizeof(err)))) {
        fprintf(stderr, "jwt_driver: %s\n", err);
        return 2;
    }
    while ((n = getline(&line, &cap, stdin)) > 0) {
        char *json = line, *out;
        long long now = 0;
        bast_request *req;
        bast_result *res = NULL;

        if (line[0] == '@') {
            now = strtoll(line + 1, &json, 10);
            json += strspn(json, " ");
        }
        if (!(req = bast_request_from_json(json, strlen(json), err,
                                           sizeof(err)))) {
            printf("{\"driver_error\": \"bad request\"}\n");
            fflush(stdout);
            continue;
        }
        if (now)
            bast_request_set_time(req, now);
        bast_verify(ctx, argv[2], req, &res);
        out = res ? bast_result_to_json(res) : NULL;
        printf("%s\n", out ? out : "{\"driver_error\": \"no result\"}");
        fflush(stdout);
        bast_free(out);
        bast_result_free(res);
        bast_request_free(req);
    }
    free(line);
    bast_close(ctx);
    return 0;
}
