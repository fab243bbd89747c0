/*
 * request.c - rebuilding the original request from a proxy's subrequest
 * (bastd).  Three dialects, chosen by the headers a *trusted* peer sends:
 * nginx auth_request (X-Original-Method, X-Original-URI, X-Real-IP,
 * X-Client-Cert), Traefik ForwardAuth (X-Forwarded-Method/-Uri/-For/-Host,
 * X-Forwarded-Tls-Client-Cert) and Envoy ext_authz (the check request's own
 * method, the path after /verify/<app>, X-Real-IP or X-Forwarded-For).
 * From an untrusted peer every proxy header is ignored.  Proxy, hop-by-hop
 * and X-Bast-* headers never reach the stack; all others pass in order.
 * Malformed or repeated proxy headers from a trusted peer are a 400.
 */
#include "bastd.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Headers that only a proxy may set.  Never passed on as the request's. */
enum {
    H_OMETHOD, /* X-Original-Method (nginx) */
    H_OURI,    /* X-Original-URI */
    H_REALIP,  /* X-Real-IP */
    H_CCERT,   /* X-Client-Cert: URL-escaped PEM */
    H_FMETHOD, /* X-Forwarded-Method (Traefik) */
    H_FURI,    /* X-Forwarded-Uri */
    H_FPROTO,  /* X-Forwarded-Proto */
    H_FHOST,   /* X-Forwarded-Host */
    H_FCERT,   /* X-Forwarded-Tls-Client-Cert: escaped PEM body(ies) */
    H_NSPECIAL,
    H_XFF = 100,
    H_DROP,
    H_PASS
};

static const char *const special[H_NSPECIAL] = {
    "X-Original-Method", "X-Original-URI",     "X-Real-IP",
    "X-Client-Cert",     "X-Forwarded-Method", "X-Forwarded-Uri",
    "X-Forwarded-Proto", "X-Forwarded-Host",   "X-Forwarded-Tls-Client-Cert"};

/* Hop-by-hop headers (RFC 9110 7.6.1) describe the subrequest's own
 * connection, not the original request. */
static const char *const hop[] = {"Connection",       "Keep-Alive",
                                  "Proxy-Connection", "TE",
                                  "Trailer",          "Transfer-Encoding",
                                  "Upgrade",          "Expect",
                                  "Forwarded",        NULL};

#define MAX_XFF_LINES 8

typedef struct scan {
    const char *v[H_NSPECIAL];
    int dup[H_NSPECIAL];
    const char *xff[MAX_XFF_LINES];
    size_t nxff;
    int xff_over;
    bast_request *req; /* second pass: where pass-through headers go */
    const char *host;  /* replaces Host (Traefik's X-Forwarded-Host) */
    int failed;
} scan;

static int
classify(const char *name)
{
    for (int i = 0; i < H_NSPECIAL; i++)
        if (strcasecmp(name, special[i]) == 0)
            return i;
    if (strcasecmp(name, "X-Forwarded-For") == 0)
        return H_XFF;
    if (strncasecmp(name, "X-Forwarded-", 12) == 0 ||
        strncasecmp(name, "X-Bast-", 7) == 0)
        return H_DROP;
    for (size_t i = 0; hop[i]; i++)
        if (strcasecmp(name, hop[i]) == 0)
            return H_DROP;
    return H_PASS;
}

static enum MHD_Result
collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    scan *s = cls;
    int k = classify(key);
    if (k < H_NSPECIAL) {
        if (s->v[k])
            s->dup[k] = 1;
        s->v[k] = value ? value : "";
    } else if (k == H_XFF) {
        if (s->nxff < MAX_XFF_LINES)
            s->xff[s->nxff++] = value ? value : "";
        else
            s->xff_over = 1;
    }
    return MHD_YES;
}

static enum MHD_Result
pass(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    scan *s = cls;
    if (classify(key) != H_PASS)
        return MHD_YES;
    if (s->host && strcasecmp(key, "Host") == 0)
        value = s->host;
    int rc = bast_request_add_header(s->req, key, value ? value : "");
    if (rc != BAST_ERR_OK) {
        s->failed = rc;
        return MHD_NO;
    }
    return MHD_YES;
}

/* The client address from X-Forwarded-For: the rightmost entry that is not
 * one of our trusted proxies (entries to its left are client-supplied).
 * Returns 0, 1 when there is no usable entry, -1 on a malformed list. */
static int
xff_client(const bastd *d, const scan *s, char *out, size_t outlen)
{
    char list[1024];
    size_t off = 0;
    for (size_t i = 0; i < s->nxff; i++) {
        int n = snprintf(list + off, sizeof list - off, "%s%s", i ? "," : "",
                         s->xff[i]);
        if (n < 0 || (size_t)n >= sizeof list - off)
            return -1;
        off += (size_t)n;
    }
    if (off == 0)
        return 1;
    char *ent[32];
    size_t n = 0;
    char *save = NULL;
    for (char *w = strtok_r(list, ",", &save); w;
         w = strtok_r(NULL, ",", &save)) {
        w += strspn(w, " \t");
        size_t l = strlen(w);
        while (l && (w[l - 1] == ' ' || w[l - 1] == '\t'))
            w[--l] = '\0';
        if (n == 32)
            return -1;
        ent[n++] = w;
    }
    if (n == 0)
        return 1;
    for (size_t i = n; i-- > 0;) {
        int t = bastd_trust_ip(&d->trust, ent[i]);
        if (t < 0)
            return -1;
        if (!t || i == 0)
            return bastd_ip_canon(ent[i], out, outlen) < 0 ? -1 : 0;
    }
    return 1;
}

/* Traefik sends each certificate's base64 body without the PEM lines,
 * comma-separated; rebuild PEM so the core sees one format. */
static void
append(char *out, size_t *off, const char *s, size_t n)
{
    memcpy(out + *off, s, n);
    *off += n;
}

static char *
pem_from_bodies(const char *v)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----\n";
    static const char end[] = "-----END CERTIFICATE-----\n";
    size_t len = strlen(v), parts = 1, off = 0;
    for (const char *p = v; *p; p++)
        parts += *p == ',';
    /* Exact bound: every body byte, a newline per started 64-byte line
     * (at most len/64 + 1 per part), and the two armour lines per part. */
    size_t cap = len + len / 64 + parts * (sizeof begin + sizeof end + 1) + 1;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    while (*v) {
        size_t n = strcspn(v, ",");
        if (n) {
            append(out, &off, begin, sizeof begin - 1);
            for (size_t i = 0; i < n; i += 64) {
                append(out, &off, v + i, n - i < 64 ? n - i : 64);
                append(out, &off, "\n", 1);
            }
            append(out, &off, end, sizeof end - 1);
        }
        v += n + (v[n] ? 1 : 0);
    }
    out[off] = '\0';
    return out;
}

static int
set_cert(bast_request *req, const char *escaped, int bodies)
{
    char *pem = strdup(escaped);
    if (!pem)
        return -1;
    MHD_http_unescape(pem);
    int rc = 0;
    if (bodies) {
        char *full = pem_from_bodies(pem);
        free(pem);
        if (!full)
            return -1;
        pem = full;
    }
    if (bast_request_set_peer_cert(req, pem) != BAST_ERR_OK)
        rc = -1;
    free(pem);
    return rc;
}

static int
set_uri(bast_request *req, const char *uri)
{
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    char *path = strndup(uri, plen);
    if (!path)
        return -1;
    int rc = bast_request_set_path(req, path) == BAST_ERR_OK &&
                     bast_request_set_query(req, q ? q + 1 : "") == BAST_ERR_OK
                 ? 0
                 : -1;
    free(path);
    return rc;
}

bast_request *
bastd_build_request(bastd *d, struct MHD_Connection *c, const bastd_sub *h,
                    const char *method, const char *rest, char *why,
                    size_t whylen)
{
    *why = '\0';
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *peer = ci ? ci->client_addr : NULL;
    int trusted = bastd_trust_peer(&d->trust, peer);
    scan s;
    memset(&s, 0, sizeof s);
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect, &s);
    if (!trusted) { /* the client is not a proxy: it speaks for itself */
        memset(s.v, 0, sizeof s.v);
        s.nxff = 0;
        s.xff_over = 0;
    }
    for (int i = 0; i < H_NSPECIAL; i++)
        if (trusted && s.dup[i]) {
            snprintf(why, whylen, "bad or repeated %s header", special[i]);
            return NULL;
        }
    if (s.xff_over) {
        snprintf(why, whylen, "bad or repeated %s header", "X-Forwarded-For");
        return NULL;
    }
    int nginx = s.v[H_OURI] || s.v[H_OMETHOD];
    int traefik = !nginx && (s.v[H_FURI] || s.v[H_FMETHOD]);

    bast_request *req = bast_request_new();
    if (!req)
        return NULL;
    char addr[64] = "";
    const char *m = method, *uri = NULL, *cert = NULL;
    int bodies = 0;
    if (nginx) {
        m = s.v[H_OMETHOD] ? s.v[H_OMETHOD] : method;
        uri = s.v[H_OURI];
        cert = s.v[H_CCERT];
    } else if (traefik) {
        m = s.v[H_FMETHOD] ? s.v[H_FMETHOD] : method;
        uri = s.v[H_FURI];
        cert = s.v[H_FCERT];
        bodies = 1;
        s.host = s.v[H_FHOST];
    } else {
        cert = s.v[H_CCERT];
    }
    if (s.v[H_REALIP] && !traefik) {
        if (bastd_ip_canon(s.v[H_REALIP], addr, sizeof addr) < 0) {
            snprintf(why, whylen, "bad or repeated %s header", "X-Real-IP");
            goto fail;
        }
    } else if (!nginx) {
        int rc = xff_client(d, &s, addr, sizeof addr);
        if (rc < 0) {
            snprintf(why, whylen, "bad or repeated %s header",
                     "X-Forwarded-For");
            goto fail;
        }
    }
    if (!*addr && bastd_peer_text(peer, addr, sizeof addr) < 0)
        addr[0] = '\0';

    char *own = NULL; /* Envoy form: the path after /verify/<app> */
    if (!uri) {
        const char *q = strchr(h->uri, '?');
        if (asprintf(&own, "%s%s%s", *rest ? rest : "/", q ? "?" : "",
                     q ? q + 1 : "") < 0)
            goto fail;
        uri = own;
    }
    int bad_uri = *uri != '/' && strcmp(uri, "*") != 0;
    int rc = bad_uri ? -1 : set_uri(req, uri);
    free(own);
    if (bad_uri) {
        snprintf(why, whylen, "bad request target");
        goto fail;
    }
    if (rc < 0 || bast_request_set_method(req, m) != BAST_ERR_OK) {
        snprintf(why, whylen, "bad method or request target");
        goto fail;
    }
    if (*addr && bast_request_set_remote_addr(req, addr) != BAST_ERR_OK)
        goto fail;
    if (cert && *cert && set_cert(req, cert, bodies) < 0) {
        snprintf(why, whylen, "bad client certificate header");
        goto fail;
    }
    bast_request_set_tls(
        req, (s.v[H_FPROTO] && strcasecmp(s.v[H_FPROTO], "https") == 0) ||
                 (cert && *cert));
    if (h->has_body &&
        bast_request_set_body(req, h->blen ? h->body : (const void *)"",
                              h->blen) != BAST_ERR_OK)
        goto fail;
    s.req = req;
    MHD_get_connection_values(c, MHD_HEADER_KIND, pass, &s);
    if (s.failed) {
        if (s.failed != BAST_ERR_NOMEM)
            snprintf(why, whylen, "request headers too large");
        goto fail;
    }
    return req;
fail:
    bast_request_free(req);
    return NULL;
}
