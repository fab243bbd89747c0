/*
 * extract.c - where the `jwt` plugin finds the bearer token (RFC 6750 §2):
 * `Authorization: Bearer <token68>` (scheme case-insensitive), and only
 * when configured another header (`token_header`), a cookie
 * (`token_cookie`) or the `access_token` query parameter
 * (`allow_query_token`).  No token: absent.  More than one token in any
 * mix of places, or a Bearer credential that is not one token68: malformed.
 */
#include "jwt.h"

#include <string.h>
#include <strings.h>

typedef struct found {
    const char *tok;
    size_t len;
    int count;
} found;

static int
is_token68(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0)
        return 0;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || strchr("-._~+/", c)))
            break;
    }
    while (i < n && s[i] == '=')
        i++;
    return i == n && s[0] != '=';
}

static void
add(found *f, const char *tok, size_t len)
{
    if (f->count++ == 0) {
        f->tok = tok;
        f->len = len;
    }
}

/* "Bearer <token>": 1 found, 0 another scheme, -1 broken framing. */
static int
bearer(const char *v, const char **tok, size_t *len)
{
    size_t n;
    while (*v == ' ' || *v == '\t')
        v++;
    if (strncasecmp(v, "Bearer", 6) != 0 ||
        (v[6] != ' ' && v[6] != '\t' && v[6] != '\0'))
        return 0;
    v += 6;
    while (*v == ' ' || *v == '\t')
        v++;
    n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (!is_token68(v, n))
        return -1;
    *tok = v;
    *len = n;
    return 1;
}

static int
from_cookies(const char *v, const char *name, found *f)
{
    size_t nl = strlen(name);
    while (*v) {
        size_t n;
        while (*v == ' ' || *v == ';')
            v++;
        n = strcspn(v, ";");
        if (n > nl && strncmp(v, name, nl) == 0 && v[nl] == '=') {
            size_t tl = n - nl - 1;
            while (tl > 0 && v[nl + 1 + tl - 1] == ' ')
                tl--;
            if (!is_token68(v + nl + 1, tl))
                return -1;
            add(f, v + nl + 1, tl);
        }
        v += n;
    }
    return 0;
}

static int
from_query(const char *q, found *f)
{
    while (*q) {
        size_t n = strcspn(q, "&");
        if (n > 13 && strncmp(q, "access_token=", 13) == 0) {
            if (!is_token68(q + 13, n - 13))
                return -1;
            add(f, q + 13, n - 13);
        }
        q += n;
        if (*q == '&')
            q++;
    }
    return 0;
}

bast_res
jwt_extract(const jwt_where *w, const bast_request *req, const char **tok,
            size_t *len, const char **why)
{
    found f = {0};
    size_t i, n = bast_req_header_count(req, "Authorization");

    for (i = 0; i < n; i++) {
        const char *t;
        size_t tl;
        const char *v = bast_req_header(req, "Authorization", i);
        int rc = v ? bearer(v, &t, &tl) : 0;
        if (rc < 0) {
            *why = "Authorization: Bearer needs exactly one token68";
            return BAST_RES_MALFORMED;
        }
        if (rc > 0)
            add(&f, t, tl);
    }
    if (w->header) {
        n = bast_req_header_count(req, w->header);
        for (i = 0; i < n; i++) {
            const char *v = bast_req_header(req, w->header, i), *t;
            size_t tl;
            int rc;
            if (!v)
                continue;
            rc = bearer(v, &t, &tl);
            if (rc == 0) { /* the raw token, without a scheme */
                while (*v == ' ')
                    v++;
                t = v;
                tl = strlen(v);
                while (tl > 0 && v[tl - 1] == ' ')
                    tl--;
                rc = is_token68(t, tl) ? 1 : -1;
            }
            if (rc < 0) {
                *why = "token header does not hold one token";
                return BAST_RES_MALFORMED;
            }
            add(&f, t, tl);
        }
    }
    if (w->cookie) {
        n = bast_req_header_count(req, "Cookie");
        for (i = 0; i < n; i++) {
            const char *v = bast_req_header(req, "Cookie", i);
            if (v && from_cookies(v, w->cookie, &f) < 0) {
                *why = "token cookie does not hold one token";
                return BAST_RES_MALFORMED;
            }
        }
    }
    if (w->query && bast_req_query(req) &&
        from_query(bast_req_query(req), &f) < 0) {
        *why = "access_token parameter does not hold one token";
        return BAST_RES_MALFORMED;
    }
    if (f.count == 0)
        return BAST_RES_ABSENT;
    if (f.count > 1) {
        *why = "more than one bearer token in the request";
        return BAST_RES_MALFORMED;
    }
    *tok = f.tok;
    *len = f.len;
    return BAST_RES_SUCCESS;
}
