/*
 * cmd_verify.c - `bast verify`: build requests from a JSON file or stdin
 * (one object, an array, or one object per line) or from curl-like flags,
 * verify each in order with one context (so a replayed nonce is caught),
 * and print one result line of JSON per request.  Exit 0 when every
 * request is allowed, 1 when one is denied, 2 on usage or config errors.
 */
#include "cli.h"

#include "bast.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT (256u << 20)

static void
usage(FILE *fp)
{
    fprintf(fp,
            "usage: bast verify --app APP [--confdir DIR] [--request FILE|-]\n"
            "                   [-H 'Name: value']... [--method M] [--path P]\n"
            "                   [--query Q] [--body S | --body-file F]\n"
            "                   [--cert PEMFILE] [--remote-addr A] [--tls]\n"
            "                   [--now EPOCH]\n"
            "Verify a request against conf.d/APP.conf and print the result as "
            "JSON.\n"
            "--request reads the request as JSON (DESIGN.md): one object, an "
            "array, or one\n"
            "object per line, verified in order by one context, one result "
            "line each.\n"
            "Otherwise the flags build one request (--path may carry ?query).\n"
            "--now evaluates time-based rules at that instant.\n"
            "Exit status: 0 allow (every request), 1 deny, 2 usage or config "
            "error.\n");
}

static char *
read_all(const char *path, size_t max, size_t *len)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap >= max) {
                free(buf);
                buf = NULL;
                errno = EFBIG;
                break;
            }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    if (fp != stdin)
        fclose(fp);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

struct flags {
    const char *method, *path, *query, *body, *body_file, *cert, *addr;
    const char **headers;
    size_t nheaders;
    int tls;
};

static bast_request *
from_flags(const struct flags *f, char *err, size_t errlen)
{
    bast_request *r = bast_request_new();
    if (r == NULL)
        return NULL;
    int rc = 0;
    if (f->method)
        rc |= bast_request_set_method(r, f->method);
    if (f->path) {
        const char *q = strchr(f->path, '?');
        if (q && f->query == NULL) {
            char *p = strndup(f->path, (size_t)(q - f->path));
            rc |= p ? bast_request_set_path(r, p) : 1;
            rc |= bast_request_set_query(r, q + 1);
            free(p);
        } else {
            rc |= bast_request_set_path(r, f->path);
        }
    }
    if (f->query)
        rc |= bast_request_set_query(r, f->query);
    for (size_t i = 0; i < f->nheaders && rc == 0; i++) {
        const char *h = f->headers[i], *colon = strchr(h, ':');
        if (colon == NULL || colon == h) {
            snprintf(err, errlen, "-H '%s': expected 'Name: value'", h);
            bast_request_free(r);
            return NULL;
        }
        char *name = strndup(h, (size_t)(colon - h));
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        rc |= name ? bast_request_add_header(r, name, v) : 1;
        free(name);
    }
    if (f->body)
        rc |= bast_request_set_body(r, f->body, strlen(f->body));
    if (f->body_file) {
        size_t n;
        char *b = read_all(f->body_file, 64u << 20, &n);
        if (b == NULL) {
            snprintf(err, errlen, "--body-file %s: %s", f->body_file,
                     strerror(errno));
            bast_request_free(r);
            return NULL;
        }
        rc |= bast_request_set_body(r, b, n);
        free(b);
    }
    if (f->cert) {
        size_t n;
        char *pem = read_all(f->cert, 256u << 10, &n);
        if (pem == NULL) {
            snprintf(err, errlen, "--cert %s: %s", f->cert, strerror(errno));
            bast_request_free(r);
            return NULL;
        }
        rc |= bast_request_set_peer_cert(r, pem);
        free(pem);
    }
    if (f->addr)
        rc |= bast_request_set_remote_addr(r, f->addr);
    bast_request_set_tls(r, f->tls);
    if (rc != 0) {
        snprintf(err, errlen,
                 "invalid request (a value too large or "
                 "empty: headers are limited to 16 KiB)");
        bast_request_free(r);
        return NULL;
    }
    return r;
}

/* Verify one request and print its result.  Returns 0 allow, 1 deny. */
static int
run(const bast_ctx *ctx, const char *app, bast_request *req, int has_now,
    long long now)
{
    if (has_now)
        bast_request_set_time(req, now);
    bast_result *res = NULL;
    bast_decision d = bast_verify(ctx, app, req, &res);
    char *js = bast_result_to_json(res);
    if (js)
        puts(js);
    else
        puts("{\"decision\":\"deny\",\"status\":500,\"error\":"
             "\"out_of_memory\"}");
    bast_free(js);
    bast_result_free(res);
    return d == BAST_ALLOW ? 0 : 1;
}

static int
run_json(const bast_ctx *ctx, const char *app, const char *text, size_t len,
         int has_now, long long now)
{
    int any_deny = 0, count = 0;
    size_t pos = 0;
    char err[512];
    while (pos < len && isspace((unsigned char)text[pos]))
        pos++;
    int array = pos < len && text[pos] == '[';
    while (pos < len) {
        json_error_t je;
        json_t *v =
            json_loadb(text + pos, len - pos,
                       JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &je);
        if (v == NULL) {
            fprintf(stderr, "bast verify: request %d: %s (line %d)\n",
                    count + 1, je.text, je.line);
            return 2;
        }
        pos += (size_t)je.position;
        size_t n = array ? json_array_size(v) : 1;
        if (array && !json_is_array(v)) {
            json_decref(v);
            return 2;
        }
        for (size_t i = 0; i < n; i++) {
            json_t *o = array ? json_array_get(v, i) : v;
            char *s = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
            bast_request *r =
                s ? bast_request_from_json(s, strlen(s), err, sizeof(err))
                  : NULL;
            free(s);
            count++;
            if (r == NULL) {
                fprintf(stderr, "bast verify: request %d: %s\n", count, err);
                json_decref(v);
                return 2;
            }
            any_deny |= run(ctx, app, r, has_now, now);
            bast_request_free(r);
        }
        json_decref(v);
        while (pos < len && isspace((unsigned char)text[pos]))
            pos++;
        if (array && pos < len) {
            fprintf(stderr, "bast verify: text after the request array\n");
            return 2;
        }
    }
    if (count == 0) {
        fprintf(stderr, "bast verify: no request in the input\n");
        return 2;
    }
    return any_deny;
}

int
bast_cmd_verify(int argc, char **argv)
{
    static const struct option lo[] = {
        {"app", required_argument, 0, 'a'},
        {"confdir", required_argument, 0, 'c'},
        {"request", required_argument, 0, 'r'},
        {"header", required_argument, 0, 'H'},
        {"method", required_argument, 0, 'X'},
        {"path", required_argument, 0, 'p'},
        {"query", required_argument, 0, 'q'},
        {"body", required_argument, 0, 'd'},
        {"body-file", required_argument, 0, 'D'},
        {"cert", required_argument, 0, 'C'},
        {"remote-addr", required_argument, 0, 'R'},
        {"tls", no_argument, 0, 'T'},
        {"now", required_argument, 0, 'n'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    struct flags f = {0};
    const char *app = NULL, *confdir = NULL, *request = NULL;
    int has_now = 0, flags_used = 0, c;
    long long now = 0;
    f.headers = calloc((size_t)argc + 1, sizeof(*f.headers));
    if (f.headers == NULL)
        return 2;
    int rc = 2;
    while ((c = getopt_long(argc, argv, "a:c:r:H:X:p:q:d:D:C:R:Tn:h", lo,
                            NULL)) != -1) {
        switch (c) {
        case 'a':
            app = optarg;
            break;
        case 'c':
            confdir = optarg;
            break;
        case 'r':
            request = optarg;
            break;
        case 'H':
            f.headers[f.nheaders++] = optarg;
            flags_used = 1;
            break;
        case 'X':
            f.method = optarg;
            flags_used = 1;
            break;
        case 'p':
            f.path = optarg;
            flags_used = 1;
            break;
        case 'q':
            f.query = optarg;
            flags_used = 1;
            break;
        case 'd':
            f.body = optarg;
            flags_used = 1;
            break;
        case 'D':
            f.body_file = optarg;
            flags_used = 1;
            break;
        case 'C':
            f.cert = optarg;
            flags_used = 1;
            break;
        case 'R':
            f.addr = optarg;
            flags_used = 1;
            break;
        case 'T':
            f.tls = 1;
            flags_used = 1;
            break;
        case 'n': {
            char *end;
            errno = 0;
            now = strtoll(optarg, &end, 10);
            if (errno || *end || end == optarg || now < 0) {
                fprintf(stderr, "bast verify: --now: expected seconds "
                                "since the epoch\n");
                goto done;
            }
            has_now = 1;
            break;
        }
        case 'h':
            usage(stdout);
            rc = 0;
            goto done;
        default:
            usage(stderr);
            goto done;
        }
    }
    if (app == NULL || optind != argc) {
        fprintf(stderr, "bast verify: %s\n",
                app ? "unexpected argument" : "--app is required");
        usage(stderr);
        goto done;
    }
    if (request && flags_used) {
        fprintf(stderr, "bast verify: --request cannot be mixed with "
                        "request flags\n");
        goto done;
    }
    if (f.body && f.body_file) {
        fprintf(stderr, "bast verify: --body and --body-file exclude each "
                        "other\n");
        goto done;
    }
    char *text = NULL;
    size_t len = 0;
    if (request) {
        text = read_all(request, MAX_INPUT, &len);
        if (text == NULL) {
            fprintf(stderr, "bast verify: %s: %s\n", request, strerror(errno));
            goto done;
        }
    }
    bast_options o = {sizeof(o), NULL, app};
    char err[1024];
    bast_ctx *ctx = bast_open(confdir, &o, err, sizeof(err));
    if (ctx == NULL) {
        fprintf(stderr, "bast: %s\n", err);
        free(text);
        goto done;
    }
    if (text) {
        rc = run_json(ctx, app, text, len, has_now, now);
        free(text);
    } else {
        bast_request *r = from_flags(&f, err, sizeof(err));
        if (r == NULL) {
            fprintf(stderr, "bast verify: %s\n", err);
        } else {
            rc = run(ctx, app, r, has_now, now);
            bast_request_free(r);
        }
    }
    bast_close(ctx);
done:
    free(f.headers);
    return rc;
}
