/*
 * request.c - the apikey instance's options and where a key is found in a
 * request.  `headers` lists where keys come from, comma-separated, each
 * `Name` (the whole value is the key) or `Name: Scheme` (the value is
 * `Scheme <key>`; other schemes in that header belong to other plugins and
 * are not counted); `allow_query_key = yes` adds the query parameter
 * `query_param`.  Every place is counted, so a request carrying two keys
 * (two headers, a header and a parameter) is refused as ambiguous.
 */
#include "apikey_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_HEADERS "Authorization: Bearer, X-Api-Key"

ak_inst *
ak_inst_new(const bast_instance *inst)
{
    /* aligned: the digest pool keeps one cache line per slot */
    ak_inst *a = aligned_alloc(_Alignof(ak_inst), sizeof *a);
    pthread_rwlockattr_t ra;
    pthread_condattr_t ca;
    int i;

    if (!a)
        return NULL;
    memset(a, 0, sizeof *a);
    a->inst = inst;
    /* Writers first: a steady stream of verifies must not starve the
     * index swap (glibc prefers readers by default). */
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    for (i = 0; i < AK_NSTRIPES; i++)
        pthread_rwlock_init(&a->ixlock[i].lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&a->mu, NULL);
    a->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    a->usage = ak_usage_new(200000);
    if (!a->md || !a->usage)
        goto bad;
    for (i = 0; i < AK_NPOOL; i++)
        if (!(a->pool[i].ctx = EVP_MD_CTX_new()))
            goto bad;
    return a;
bad:
    ak_inst_free(a);
    return NULL;
}

unsigned
ak_stripe(void)
{
    /* glibc's pthread_t is the thread's control block address: distinct
     * per live thread; mix it so neighbouring threads spread out */
    uint64_t t = (uint64_t)(uintptr_t)pthread_self();
    return (unsigned)((t * 0x9E3779B97F4A7C15ull) >> 32) % AK_NSTRIPES;
}

void
ak_inst_free(ak_inst *a)
{
    size_t i;
    if (!a)
        return;
    ak_index_free(a->ix);
    ak_store_close(a->st);
    ak_usage_free(a->usage);
    for (i = 0; i < AK_NPOOL; i++)
        EVP_MD_CTX_free(a->pool[i].ctx);
    EVP_MD_free((EVP_MD *)a->md);
    for (i = 0; i < a->nhdrs; i++) {
        free(a->hdrs[i].name);
        free(a->hdrs[i].scheme);
    }
    for (i = 0; i < a->nreq; i++)
        free(a->req[i]);
    free(a->query_param);
    free(a->ch_plain);
    free(a->ch_invalid);
    free(a->ch_request);
    free(a->ch_scope);
    for (i = 0; i < AK_NSTRIPES; i++)
        pthread_rwlock_destroy(&a->ixlock[i].lock);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

static int
is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static char *
trimdup(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return strndup(s, n);
}

static int
token_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return 0;
    return 1;
}

static int
parse_headers(ak_inst *a, const bast_option *o, const char *v, char *err,
              size_t errlen)
{
    while (*v) {
        size_t n = strcspn(v, ","), c;
        ak_hdr *h;
        if (a->nhdrs == AK_NHDRS)
            return bast_opt_error(o, err, errlen, "more than %d headers",
                                  AK_NHDRS);
        h = &a->hdrs[a->nhdrs++];
        c = strcspn(v, ":,");
        if (c < n) {
            h->name = trimdup(v, c);
            h->scheme = trimdup(v + c + 1, n - c - 1);
        } else {
            h->name = trimdup(v, n);
        }
        if (!h->name || (c < n && !h->scheme))
            return bast_opt_error(o, err, errlen, "out of memory");
        if (!token_ok(h->name) || (h->scheme && !token_ok(h->scheme)))
            return bast_opt_error(o, err, errlen,
                                  "expected `Name` or `Name: Scheme` items,"
                                  " comma-separated");
        /* A value read by two entries would count as two keys. */
        for (size_t j = 0; j + 1 < a->nhdrs; j++)
            if (strcasecmp(a->hdrs[j].name, h->name) == 0 &&
                (!a->hdrs[j].scheme || !h->scheme ||
                 strcasecmp(a->hdrs[j].scheme, h->scheme) == 0))
                return bast_opt_error(o, err, errlen, "%s listed twice",
                                      h->name);
        v += n;
        if (*v == ',')
            v++;
    }
    if (a->nhdrs == 0 && !a->allow_query)
        return bast_opt_error(o, err, errlen, "no header to read keys from");
    return 0;
}

static int
parse_scopes(ak_inst *a, const bast_option *o, char *err, size_t errlen)
{
    const char *p = o->value;
    for (;;) {
        size_t n;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return 0;
        n = strcspn(p, " \t");
        if (a->nreq == AK_NREQ)
            return bast_opt_error(o, err, errlen, "more than %d scopes",
                                  AK_NREQ);
        if (!(a->req[a->nreq++] = strndup(p, n)))
            return bast_opt_error(o, err, errlen, "out of memory");
        p += n;
    }
}

/* `attributes`: which of key_id, key_name, scopes a success returns, or
 * `none` (each one is built per request by the core: a cost to pay only
 * for what the host uses). */
static int
parse_attrs(ak_inst *a, const bast_option *o, char *err, size_t errlen)
{
    static const char *const names[] = {"key_id", "key_name", "scopes"};
    const char *p = o->value;
    int none = 0;

    a->attrs = 0;
    for (;;) {
        size_t n, k;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        n = strcspn(p, " \t");
        if (n == 4 && strncmp(p, "none", 4) == 0) {
            none = 1;
        } else {
            for (k = 0; k < 3; k++)
                if (strlen(names[k]) == n && strncmp(p, names[k], n) == 0)
                    break;
            if (k == 3)
                return bast_opt_error(o, err, errlen,
                                      "unknown attribute '%.*s' (key_id,"
                                      " key_name, scopes, none)",
                                      (int)n, p);
            a->attrs |= 1u << k;
        }
        p += n;
    }
    if (none == !!a->attrs)
        return bast_opt_error(o, err, errlen,
                              "list attributes, or `none` alone");
    return 0;
}

/* A quoted-string for a challenge: realm names come from config files. */
static void
quote(char *out, size_t len, const char *s)
{
    size_t j = 0;
    for (; *s && j + 3 < len; s++) {
        if (*s == '"' || *s == '\\')
            out[j++] = '\\';
        out[j++] = *s;
    }
    out[j] = '\0';
}

static int
make_challenges(ak_inst *a)
{
    const char *scheme = "ApiKey", *realm = bast_inst_realm(a->inst);
    char q[256], scopes[512] = "";
    size_t i;

    for (i = 0; i < a->nhdrs; i++)
        if (a->hdrs[i].scheme) {
            scheme = a->hdrs[i].scheme;
            break;
        }
    quote(q, sizeof q, realm && *realm ? realm : bast_inst_app(a->inst));
    for (i = 0; i < a->nreq; i++) {
        size_t l = strlen(scopes);
        snprintf(scopes + l, sizeof scopes - l, "%s%s", i ? " " : "",
                 a->req[i]);
    }
    if (asprintf(&a->ch_plain, "%s realm=\"%s\"", scheme, q) < 0)
        a->ch_plain = NULL;
    if (asprintf(&a->ch_invalid, "%s realm=\"%s\", error=\"invalid_token\"",
                 scheme, q) < 0)
        a->ch_invalid = NULL;
    if (asprintf(&a->ch_request, "%s realm=\"%s\", error=\"invalid_request\"",
                 scheme, q) < 0)
        a->ch_request = NULL;
    if (asprintf(&a->ch_scope,
                 "%s realm=\"%s\", error=\"insufficient_scope\","
                 " scope=\"%s\"",
                 scheme, q, scopes) < 0)
        a->ch_scope = NULL;
    return a->ch_plain && a->ch_invalid && a->ch_request && a->ch_scope ? 0
                                                                        : -1;
}

int
ak_parse_options(ak_inst *a, const bast_option *opts, size_t n, char *err,
                 size_t errlen)
{
    const bast_option *o;
    const char *v;
    static const bast_option none = {"", "", "", 0};

    if (!(o = bast_opts_get(opts, n, "store"))) {
        snprintf(err, errlen, "%s:%d: store: required (store = sqlite:PATH)",
                 bast_inst_file(a->inst), bast_inst_line(a->inst));
        return -1;
    }
    if (strncmp(o->value, "sqlite:", 7) != 0 || !o->value[7])
        return bast_opt_error(o, err, errlen, "expected sqlite:PATH");
    if (bast_inst_path(a->inst, o->value + 7, a->conf.path,
                       sizeof a->conf.path) != 0)
        return bast_opt_error(o, err, errlen, "path too long");

    v = "bast_";
    if ((o = bast_opts_get(opts, n, "prefix")) &&
        !ak_prefix_valid(v = o->value))
        return bast_opt_error(o, err, errlen,
                              "1 to %d characters of A-Z a-z 0-9 _ -",
                              AK_PREFIX_MAX);
    snprintf(a->conf.prefix, sizeof a->conf.prefix, "%s", v);
    a->plen = strlen(a->conf.prefix);

    if ((o = bast_opts_get(opts, n, "allow_query_key")) &&
        bast_opt_bool(o, &a->allow_query, err, errlen) != 0)
        return -1;
    v = "api_key";
    if ((o = bast_opts_get(opts, n, "query_param")) && !token_ok(v = o->value))
        return bast_opt_error(o, err, errlen, "not a parameter name");
    if (!(a->query_param = strdup(v)))
        return bast_opt_error(o ? o : &none, err, errlen, "out of memory");
    o = bast_opts_get(opts, n, "headers");
    if (parse_headers(a, o ? o : &none, o ? o->value : DEFAULT_HEADERS, err,
                      errlen) != 0)
        return -1;
    a->attrs = AK_ATTR_KEY_ID | AK_ATTR_SCOPES;
    if ((o = bast_opts_get(opts, n, "attributes")) &&
        parse_attrs(a, o, err, errlen) != 0)
        return -1;
    if ((o = bast_opts_get(opts, n, "required_scopes")) &&
        parse_scopes(a, o, err, errlen) != 0)
        return -1;

    a->refresh = 2;
    a->flush = 2;
    a->conf.grace = 86400;
    if ((o = bast_opts_get(opts, n, "refresh")) &&
        bast_opt_duration(o, 1, 3600, &a->refresh, err, errlen) != 0)
        return -1;
    if ((o = bast_opts_get(opts, n, "last_used_flush")) &&
        bast_opt_duration(o, 1, 3600, &a->flush, err, errlen) != 0)
        return -1;
    if ((o = bast_opts_get(opts, n, "grace")) &&
        bast_opt_duration(o, 0, 365LL * 86400, &a->conf.grace, err, errlen) !=
            0)
        return -1;
    /* Past this the index may be missing revocations: fail closed. */
    a->stale_after = a->refresh * 5 < 10 ? 10 : a->refresh * 5;
    if (make_challenges(a) != 0) {
        snprintf(err, errlen, "apikey: out of memory");
        return -1;
    }
    return 0;
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

/* Count `name=` parameters in the raw query; decode the last into qbuf
 * (a value longer than qbuf is cut at qlen-1 bytes: too long anyway). */
static size_t
query_keys(const char *q, const char *name, char *qbuf, size_t qlen,
           size_t *len)
{
    size_t count = 0, nl = strlen(name);
    while (*q) {
        size_t n = strcspn(q, "&");
        if (n > nl && strncmp(q, name, nl) == 0 && q[nl] == '=') {
            size_t i, j = 0;
            for (i = nl + 1; i < n && j + 1 < qlen; i++) {
                int hi, lo;
                if (q[i] == '%' && i + 2 < n && (hi = hexval(q[i + 1])) >= 0 &&
                    (lo = hexval(q[i + 2])) >= 0) {
                    qbuf[j++] = (char)(hi * 16 + lo);
                    i += 2;
                } else {
                    qbuf[j++] = q[i];
                }
            }
            qbuf[j] = '\0';
            *len = j;
            count++;
        } else if (n == nl && strncmp(q, name, nl) == 0) {
            qbuf[0] = '\0'; /* `api_key` with no value: an empty key */
            *len = 0;
            count++;
        }
        q += n;
        if (*q == '&')
            q++;
    }
    return count;
}

size_t
ak_find_key(const ak_inst *a, const bast_request *req, char *qbuf, size_t qlen,
            const char **key, size_t *len)
{
    size_t count = 0, h, i, nh = bast_req_nheaders(req);

    /* one pass over the request's headers, each against every entry */
    for (i = 0; i < nh; i++) {
        const char *name, *value;
        if (bast_req_header_at(req, i, &name, &value) != 0 || !value)
            continue;
        for (h = 0; h < a->nhdrs; h++) {
            const ak_hdr *hd = &a->hdrs[h];
            const char *v = value;
            size_t sl, vl;
            if (strcasecmp(name, hd->name) != 0)
                continue;
            while (*v == ' ' || *v == '\t')
                v++;
            if (hd->scheme) {
                sl = strlen(hd->scheme);
                /* Another scheme in this header is not ours to judge. */
                if (strncasecmp(v, hd->scheme, sl) != 0 ||
                    (v[sl] != ' ' && v[sl] != '\t' && v[sl] != '\0'))
                    continue;
                v += sl;
                while (*v == ' ' || *v == '\t')
                    v++;
            }
            vl = strlen(v);
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            *key = v;
            *len = vl;
            count++;
        }
    }
    if (a->allow_query) {
        const char *q = bast_req_query(req);
        size_t c = q ? query_keys(q, a->query_param, qbuf, qlen, len) : 0;
        if (c) {
            *key = qbuf;
            count += c;
        }
    }
    return count;
}
