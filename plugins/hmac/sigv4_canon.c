/*
 * sigv4_canon.c - the canonical request of AWS Signature Version 4, piece
 * by piece: AWS URI encoding (unreserved bytes kept, the rest %XX upper
 * case), the canonical URI (dot and empty segments removed, then encoded,
 * so an encoded wire path is encoded twice as AWS does outside S3), the
 * canonical query (pairs decoded, re-encoded, sorted by key then value)
 * and the canonical headers (lower-case sorted names, values trimmed with
 * inner spaces collapsed, repeated headers joined with ',').
 */
#include "sigv4.h"

#include <stdlib.h>
#include <string.h>

void
sv4_put(sv4_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        char *np;
        while (cap < b->n + n + 1)
            cap *= 2;
        if (cap > CREQ_MAX || (np = realloc(b->p, cap)) == NULL) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void
sv4_puts(sv4_buf *b, const char *s)
{
    sv4_put(b, s, strlen(s));
}

/* AWS URI encoding: unreserved bytes as they are, '/' when asked, every
 * other byte %XX with upper-case hex. */
static void
put_enc(sv4_buf *b, const char *s, size_t n, int keep_slash)
{
    static const char hexd[] = "0123456789ABCDEF";
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~' || (c == '/' && keep_slash)) {
            sv4_put(b, (const char *)&c, 1);
        } else {
            char e[3] = {'%', hexd[c >> 4], hexd[c & 15]};
            sv4_put(b, e, 3);
        }
    }
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode into a new string; a '%' not followed by two hex digits
 * stays a literal '%'. */
static char *
pct_decode(const char *s, size_t n, size_t *outlen)
{
    char *o = malloc(n + 1);
    size_t i, j = 0;

    if (o == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            o[j++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            o[j++] = s[i];
        }
    }
    o[j] = '\0';
    *outlen = j;
    return o;
}

/* ---- canonical URI -------------------------------------------------- */

/* Remove dot segments and empty segments (AWS collapses repeated
 * slashes), then encode. */
void
sv4_canonical_uri(sv4_buf *b, const char *path)
{
    const char *segs[512];
    size_t lens[512], nseg = 0, i, plen = strlen(path);
    const char *p = path, *end = path + plen;

    while (p < end) {
        const char *q = memchr(p, '/', (size_t)(end - p));
        size_t n = q ? (size_t)(q - p) : (size_t)(end - p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (nseg > 0)
                nseg--;
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (nseg == sizeof(segs) / sizeof(segs[0])) {
                b->oom = 1;
                return;
            }
            segs[nseg] = p;
            lens[nseg++] = n;
        }
        p += n + (q != NULL);
    }
    sv4_put(b, "/", 1);
    for (i = 0; i < nseg; i++) {
        if (i > 0)
            sv4_put(b, "/", 1);
        put_enc(b, segs[i], lens[i], 0);
    }
    if (nseg > 0 && plen > 0 && path[plen - 1] == '/')
        sv4_put(b, "/", 1);
}

/* ---- canonical query ------------------------------------------------ */

void
sv4_qlist_free(sv4_qlist *q)
{
    size_t i;

    for (i = 0; i < q->n; i++) {
        free(q->p[i].k);
        free(q->p[i].v);
        free(q->p[i].dk);
        free(q->p[i].dv);
    }
    q->n = 0;
}

static char *
encode_dup(const char *s, size_t n)
{
    sv4_buf b = {NULL, 0, 0, 0};

    put_enc(&b, s, n, 0);
    sv4_put(&b, "", 0);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* Split the raw query into decoded and re-encoded pairs; -1 on a limit. */
int
sv4_qlist_parse(sv4_qlist *q, const char *query)
{
    const char *p = query;

    while (*p != '\0') {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        size_t kl = eq ? (size_t)(eq - p) : n;
        qpair *e;

        if (n > 0) {
            if (q->n == PAIRS_MAX)
                return -1;
            e = &q->p[q->n++];
            memset(e, 0, sizeof(*e));
            e->dk = pct_decode(p, kl, &e->dklen);
            e->dv = eq ? pct_decode(eq + 1, n - kl - 1, &e->dvlen)
                       : pct_decode("", 0, &e->dvlen);
            if (e->dk == NULL || e->dv == NULL)
                return -1;
            e->k = encode_dup(e->dk, e->dklen);
            e->v = encode_dup(e->dv, e->dvlen);
            if (e->k == NULL || e->v == NULL)
                return -1;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return 0;
}

static int
qpair_cmp(const void *a, const void *b)
{
    const qpair *x = a, *y = b;
    int c = strcmp(x->k, y->k);

    return c ? c : strcmp(x->v, y->v);
}

/* The decoded value of the only pair named `key`; NULL when absent,
 * *dup when repeated. */
const char *
sv4_qget(const sv4_qlist *q, const char *key, int *dup)
{
    const char *v = NULL;
    size_t i;

    for (i = 0; i < q->n; i++) {
        if (strcmp(q->p[i].dk, key) == 0) {
            if (v != NULL)
                *dup = 1;
            v = q->p[i].dv;
        }
    }
    return v;
}

void
sv4_canonical_query(sv4_buf *b, sv4_qlist *q, int drop_signature)
{
    size_t i;
    int first = 1;

    qsort(q->p, q->n, sizeof(qpair), qpair_cmp);
    for (i = 0; i < q->n; i++) {
        if (drop_signature && strcmp(q->p[i].dk, "X-Amz-Signature") == 0)
            continue;
        if (!first)
            sv4_put(b, "&", 1);
        first = 0;
        sv4_puts(b, q->p[i].k);
        sv4_put(b, "=", 1);
        sv4_puts(b, q->p[i].v);
    }
}

/* ---- canonical headers ---------------------------------------------- */

/* Trim and collapse runs of spaces, as AWS does with header values. */
static void
put_trimmed(sv4_buf *b, const char *v)
{
    int space = 0, started = 0;

    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = started;
            continue;
        }
        if (space)
            sv4_put(b, " ", 1);
        space = 0;
        started = 1;
        sv4_put(b, v, 1);
    }
}

/* Checks SignedHeaders (lower case, sorted, unique, host included) and
 * writes the canonical headers.  0, or -1 with *why set. */
int
sv4_canonical_headers(sv4_buf *b, const bast_request *req, const char *signed_h,
                      const char **why)
{
    char name[128], prev[128] = "";
    const char *p = signed_h;
    int host = 0, count = 0;

    if (*p == '\0') {
        *why = "SignedHeaders is empty";
        return -1;
    }
    while (*p != '\0') {
        size_t n = strcspn(p, ";"), i, nv;
        if (n == 0 || n >= sizeof(name) || ++count > HEADERS_MAX) {
            *why = "SignedHeaders is malformed";
            return -1;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        for (i = 0; i < n; i++) {
            if ((name[i] >= 'A' && name[i] <= 'Z') || name[i] <= ' ' ||
                name[i] == ':' || (unsigned char)name[i] >= 0x7f) {
                *why = "SignedHeaders names must be lower case";
                return -1;
            }
        }
        if (prev[0] != '\0' && strcmp(prev, name) >= 0) {
            *why = "SignedHeaders must be sorted and unique";
            return -1;
        }
        nv = bast_req_header_count(req, name);
        if (nv == 0) {
            *why = "a signed header is missing from the request";
            return -1;
        }
        host |= strcmp(name, "host") == 0;
        sv4_puts(b, name);
        sv4_put(b, ":", 1);
        for (i = 0; i < nv; i++) {
            const char *v = bast_req_header(req, name, i);
            if (i > 0)
                sv4_put(b, ",", 1);
            put_trimmed(b, v ? v : "");
        }
        sv4_put(b, "\n", 1);
        memcpy(prev, name, n + 1);
        p += n;
        if (*p == ';')
            p++;
    }
    if (!host) {
        *why = "SignedHeaders must include host";
        return -1;
    }
    return 0;
}
