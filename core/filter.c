/*
 * filter.c - the per-instance request filters `paths` (space-separated
 * fnmatch globs; `*` also crosses `/`, so `/admin/<anything>` covers the whole
 * subtree) and `methods` (exact, upper-cased in the config).  A request
 * that matches no glob or method gets `ignore` without the plugin being
 * called.  Paths are compared after normalisation (percent-decoding of
 * unreserved characters, upper-case hex in the remaining escapes, dot
 * segments and repeated slashes removed) so `/%61dmin/./x` cannot slip
 * past a filter meant for the admin tree.
 */
#include "bast_int.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

static int
add_word(char ***list, size_t *n, const char *w, size_t len)
{
    char **l = realloc(*list, (*n + 1) * sizeof(*l));
    if (l == NULL)
        return -1;
    *list = l;
    l[*n] = strndup(w, len);
    if (l[*n] == NULL)
        return -1;
    (*n)++;
    return 0;
}

int
bast__filter_parse(struct bast_instance *inst, const char *key,
                   const char *value, char *err, size_t errlen)
{
    int is_paths = strcmp(key, "paths") == 0;
    const char *p = value;
    size_t count = 0;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        size_t len = (size_t)(p - w);
        if (is_paths) {
            if (w[0] != '/') {
                bast__seterr(err, errlen, "'%.*s' does not start with /",
                             (int)len, w);
                return -1;
            }
            if (add_word(&inst->paths, &inst->npaths, w, len))
                return -1;
        } else {
            for (size_t i = 0; i < len; i++)
                if (!isalpha((unsigned char)w[i])) {
                    bast__seterr(err, errlen, "'%.*s' is not a method",
                                 (int)len, w);
                    return -1;
                }
            if (add_word(&inst->methods, &inst->nmethods, w, len))
                return -1;
            char *m = inst->methods[inst->nmethods - 1];
            for (; *m; m++)
                *m = (char)toupper((unsigned char)*m);
        }
        count++;
    }
    if (count == 0) {
        bast__seterr(err, errlen, "empty list");
        return -1;
    }
    return 0;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
bast__path_normalise(const char *in, char *out, size_t outlen)
{
    /* pass 1: decode unreserved escapes, squeeze slashes */
    size_t o = 0;
    if (outlen < 2)
        return -1;
    if (in[0] != '/')
        out[o++] = '/';
    for (size_t i = 0; in[i]; i++) {
        char c = in[i];
        if (c == '%' && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
            int v = hexval(in[i + 1]) * 16 + hexval(in[i + 2]);
            if (isalnum(v) || v == '-' || v == '.' || v == '_' || v == '~') {
                c = (char)v;
                i += 2;
            } else {
                if (o + 3 >= outlen)
                    return -1;
                out[o++] = '%';
                out[o++] = (char)toupper((unsigned char)in[i + 1]);
                out[o++] = (char)toupper((unsigned char)in[i + 2]);
                i += 2;
                continue;
            }
        }
        if (c == '/' && o > 0 && out[o - 1] == '/')
            continue;
        if (o + 1 >= outlen)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    /* pass 2: remove dot segments (RFC 3986 5.2.4), writing in place
     * behind the reader; `starts` remembers where each kept segment
     * began so `..` can drop it */
    size_t starts[512], top = 0, w = 0, r = 1;
    int trailing = 0;
    while (r <= o) {
        size_t end = r;
        while (end < o && out[end] != '/')
            end++;
        size_t len = end - r;
        int last = end >= o;
        trailing = 0;
        if (len == 0 || (len == 1 && out[r] == '.')) {
            trailing = last;
        } else if (len == 2 && out[r] == '.' && out[r + 1] == '.') {
            if (top > 0)
                w = starts[--top];
            trailing = last;
        } else {
            if (top == sizeof(starts) / sizeof(starts[0]))
                return -1;
            starts[top++] = w;
            out[w++] = '/';
            memmove(out + w, out + r, len);
            w += len;
        }
        r = end + 1;
    }
    if (trailing || w == 0)
        out[w++] = '/';
    out[w] = '\0';
    return 0;
}

int
bast__filter_match(const struct bast_instance *inst, const bast_request *req)
{
    if (inst->nmethods) {
        int hit = 0;
        for (size_t i = 0; i < inst->nmethods && !hit; i++)
            hit = strcmp(inst->methods[i], req->method) == 0;
        if (!hit)
            return 0;
    }
    if (inst->npaths) {
        char norm[2048];
        if (bast__path_normalise(req->path, norm, sizeof(norm)) != 0)
            return 1; /* too long to normalise: let the module decide */
        for (size_t i = 0; i < inst->npaths; i++)
            if (fnmatch(inst->paths[i], norm, 0) == 0)
                return 1;
        return 0;
    }
    return 1;
}
