/*
 * cmd_sign.c - `bast sign`: the client side of the hmac plugin.  Prints
 * the headers that sign one request, one `Name: value` per line, through
 * bast_sign().  Options: --profile bast|stripe|standard-webhooks (default
 * bast), --key-id (the message id for standard-webhooks), --secret-file
 * (one trailing newline is dropped), --method, --path, --query, --body or
 * --body-file, --now EPOCH.  Exit 0 ok, 1 failure, 2 usage.
 */
#include "cli.h"
#include "bast.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_MAX 4096
#define BODY_MAX (64L * 1024 * 1024)

static void
usage(FILE *f)
{
    fprintf(f, "usage: bast sign [--profile bast|stripe|standard-webhooks] "
               "--key-id ID\n"
               "                 --secret-file F [--method M] --path P "
               "[--query Q]\n"
               "                 [--body S | --body-file F] [--now EPOCH]\n"
               "Prints the headers that sign the request, one `Name: value` "
               "per line.\n"
               "  --profile      signing scheme (default bast)\n"
               "  --key-id       key id (bast) or message id "
               "(standard-webhooks)\n"
               "  --secret-file  file holding the shared secret\n"
               "  --method       HTTP method (default GET)\n"
               "  --path         request path as sent on the wire\n"
               "  --query        query string as sent, without '?'\n"
               "  --body         body text; --body-file reads it from a file\n"
               "  --now          sign at this instant (seconds since the "
               "epoch)\n");
}

/* Read a whole file of at most `max` bytes; NULL on error. */
static char *
read_file(const char *path, long max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, r;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (n == cap) {
            char *nb;
            if ((long)cap >= max)
                goto fail;
            cap = cap ? cap * 2 : 4096;
            if ((long)cap > max)
                cap = (size_t)max + 1;
            nb = realloc(buf, cap + 1);
            if (nb == NULL)
                goto fail;
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(f) || (long)n > max)
        goto fail;
    fclose(f);
    buf = buf ? buf : malloc(1);
    if (buf == NULL)
        return NULL;
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    fclose(f);
    free(buf);
    errno = errno ? errno : EFBIG;
    return NULL;
}

int
bast_cmd_sign(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"profile", required_argument, NULL, 'p'},
        {"key-id", required_argument, NULL, 'k'},
        {"secret-file", required_argument, NULL, 's'},
        {"method", required_argument, NULL, 'm'},
        {"path", required_argument, NULL, 'P'},
        {"query", required_argument, NULL, 'q'},
        {"body", required_argument, NULL, 'b'},
        {"body-file", required_argument, NULL, 'B'},
        {"now", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *profile = "bast", *key_id = NULL, *secret_file = NULL;
    const char *method = "GET", *path = NULL, *query = "";
    const char *body_text = NULL, *body_file = NULL;
    char *secret = NULL, *body = NULL, *headers = NULL, *end;
    char err[256];
    size_t secret_len = 0, body_len = 0;
    long long now = 0;
    int c, ret = 2;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            profile = optarg;
            break;
        case 'k':
            key_id = optarg;
            break;
        case 's':
            secret_file = optarg;
            break;
        case 'm':
            method = optarg;
            break;
        case 'P':
            path = optarg;
            break;
        case 'q':
            query = optarg;
            break;
        case 'b':
            body_text = optarg;
            break;
        case 'B':
            body_file = optarg;
            break;
        case 'n':
            errno = 0;
            now = strtoll(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || now <= 0) {
                fprintf(stderr, "bast sign: --now: not an epoch time\n");
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "bast sign: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || secret_file == NULL ||
        (body_text != NULL && body_file != NULL) ||
        (strcmp(profile, "bast") == 0 && (key_id == NULL || path == NULL)) ||
        (strcmp(profile, "standard-webhooks") == 0 && key_id == NULL)) {
        usage(stderr);
        return 2;
    }
    secret = read_file(secret_file, SECRET_MAX, &secret_len);
    if (secret == NULL) {
        fprintf(stderr, "bast sign: %s: %s\n", secret_file, strerror(errno));
        return 1;
    }
    /* editors add a final newline that is not part of the secret */
    if (secret_len > 0 && secret[secret_len - 1] == '\n')
        secret[--secret_len] = '\0';
    if (secret_len > 0 && secret[secret_len - 1] == '\r')
        secret[--secret_len] = '\0';
    if (body_file != NULL) {
        body = read_file(body_file, BODY_MAX, &body_len);
        if (body == NULL) {
            fprintf(stderr, "bast sign: %s: %s\n", body_file, strerror(errno));
            ret = 1;
            goto done;
        }
    } else if (body_text != NULL) {
        body_len = strlen(body_text);
    }
    headers = bast_sign(profile, key_id, secret, secret_len, method,
                        path ? path : "/", query, body ? body : body_text,
                        body_len, (int64_t)now, err, sizeof(err));
    if (headers == NULL) {
        fprintf(stderr, "bast %s\n", err);
        ret = 1;
        goto done;
    }
    fputs(headers, stdout);
    ret = fflush(stdout) == 0 ? 0 : 1;
done:
    if (secret != NULL)
        explicit_bzero(secret, secret_len);
    free(secret);
    free(body);
    bast_free(headers);
    return ret;
}
