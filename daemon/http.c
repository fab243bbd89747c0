/*
 * http.c - bastd's HTTP side on libmicrohttpd.  Routes: GET /healthz,
 * GET /metrics, and /verify/<app>[/original/path] which rebuilds the
 * original request from a proxy's subrequest and answers with the stack's
 * decision.  Three proxy dialects, chosen by the headers a *trusted* peer
 * sends: nginx auth_request (X-Original-Method, X-Original-URI, X-Real-IP,
 * X-Client-Cert), Traefik ForwardAuth (X-Forwarded-Method/-Uri/-For/-Host,
 * X-Forwarded-Tls-Client-Cert) and Envoy ext_authz (the check request's
 * own method, the path after /verify/<app>, X-Forwarded-For).  From an
 * untrusted peer every proxy header is ignored; X-Bast-* headers from the
 * client never reach the stack.  Answers: 200 with X-Bast-Identity,
 * X-Bast-Scheme, X-Bast-Attributes; a denial's status with one
 * WWW-Authenticate per challenge and {"error","error_description"}.
 */
#include "bastd.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { R_NONE, R_VERIFY, R_HEALTH, R_METRICS, R_NOTFOUND };

/* Per HTTP request: created by the URI callback, freed when completed. */
typedef struct hreq {
    char *uri; /* the request target exactly as received */
    int started, route;
    unsigned char *body;
    size_t blen;
    int has_body, too_big;
    struct timespec t0;
} hreq;

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

/* ---- responses --------------------------------------------------------- */

static enum MHD_Result
queue(struct MHD_Connection *c, unsigned status, const char *ctype,
      const char *body, size_t len, const bast_result *res)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    int ok = 1;
    if (ctype)
        ok &= MHD_add_response_header(r, "Content-Type", ctype) == MHD_YES;
    ok &= MHD_add_response_header(r, "Cache-Control", "no-store") == MHD_YES;
    for (size_t i = 0; res && i < bast_result_challenge_count(res); i++)
        ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                      bast_result_challenge(res, i)) == MHD_YES;
    enum MHD_Result ret = MHD_NO;
    if (ok)
        ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
queue_error(struct MHD_Connection *c, unsigned status, const char *error,
            const char *desc, const bast_result *res)
{
    json_t *o = json_pack("{s:s, s:s?}", "error", error ? error : "denied",
                          "error_description", desc);
    char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    static const char fallback[] = "{\"error\":\"server_error\"}";
    enum MHD_Result ret =
        queue(c, status, "application/json", txt ? txt : fallback,
              txt ? strlen(txt) : sizeof fallback - 1, res);
    free(txt);
    return ret;
}

static enum MHD_Result
queue_allow(struct MHD_Connection *c, const bast_result *res)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    const char *id = bast_result_identity(res);
    const char *scheme = bast_result_scheme(res);
    char *attrs = bast_result_attributes_json(res);
    /* An allow must carry its identity: if a header cannot be added (no
     * memory, or a value MHD refuses such as one with CR/LF), answer 500
     * rather than a 200 that nginx would pass without X-Bast-Identity. */
    int ok =
        MHD_add_response_header(r, "X-Bast-Identity", id ? id : "") ==
            MHD_YES &&
        MHD_add_response_header(r, "X-Bast-Scheme", scheme ? scheme : "") ==
            MHD_YES &&
        attrs &&
        MHD_add_response_header(r, "X-Bast-Attributes", attrs) == MHD_YES &&
        MHD_add_response_header(r, "Cache-Control", "no-store") == MHD_YES;
    bast_free(attrs);
    enum MHD_Result ret;
    if (ok && id && *id)
        ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    else
        ret = queue_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                          "cannot encode the identity", NULL);
    MHD_destroy_response(r);
    return ret;
}

/* ---- mapping the subrequest to a bast_request ---------------------------- */

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
static char *
pem_from_bodies(const char *v)
{
    size_t cap = strlen(v) * 2 + 128, off = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    while (*v) {
        size_t n = strcspn(v, ",");
        off += (size_t)snprintf(out + off, cap - off,
                                "-----BEGIN CERTIFICATE-----\n");
        for (size_t i = 0; i < n; i += 64)
            off += (size_t)snprintf(out + off, cap - off, "%.*s\n",
                                    (int)(n - i < 64 ? n - i : 64), v + i);
        off += (size_t)snprintf(out + off, cap - off,
                                "-----END CERTIFICATE-----\n");
        v += n + (v[n] ? 1 : 0);
    }
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

/* Build the request.  Returns NULL with a 400 reason in `why` (or `why`
 * empty for an internal failure). */
static bast_request *
build_request(bastd *d, struct MHD_Connection *c, hreq *h, const char *method,
              const char *rest, char *why, size_t whylen)
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

/* App names are config file names: no slashes, no leading dot. */
static int
app_ok(const char *a, size_t n)
{
    if (n == 0 || n > 128 || a[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = a[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
            return 0;
    }
    return 1;
}

static int
app_loaded(const bast_ctx *ctx, const char *app)
{
    size_t lo = 0, hi = bast_app_count(ctx);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(bast_app_name(ctx, mid), app);
        if (cmp == 0)
            return 1;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static double
since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static enum MHD_Result
serve_verify(bastd *d, struct MHD_Connection *c, hreq *h, const char *method)
{
    const char *a = h->uri + strlen("/verify/");
    size_t alen = strcspn(a, "/?");
    char app[129];
    if (!app_ok(a, alen))
        return queue_error(c, MHD_HTTP_NOT_FOUND, "not_found",
                           "no such application", NULL);
    memcpy(app, a, alen);
    app[alen] = '\0';
    const char *rest_end = a + alen + strcspn(a + alen, "?");
    char *rest = strndup(a + alen, (size_t)(rest_end - (a + alen)));
    if (!rest)
        return MHD_NO;
    if (h->too_big) {
        free(rest);
        return queue_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "invalid_request",
                           "request body too large", NULL);
    }

    char desc[128];
    bast_request *req = build_request(d, c, h, method, rest, desc, sizeof desc);
    free(rest);
    if (!req) {
        if (!*desc)
            return queue_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                               "server_error", "out of memory", NULL);
        bastd_metrics_request(d->metrics, "_bastd", "deny", 400,
                              "invalid_request", since(&h->t0));
        return queue_error(c, MHD_HTTP_BAD_REQUEST, "invalid_request", desc,
                           NULL);
    }

    bastd_gen *g = bastd_gen_acquire(d);
    bast_result *res = NULL;
    bast_decision dec = bast_verify(g->ctx, app, req, &res);
    bast_request_free(req);
    enum MHD_Result ret;
    if (!res) {
        ret = queue_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error",
                          "verification failed", NULL);
    } else {
        const char *label = app_loaded(g->ctx, app) ? app : "_unknown";
        for (size_t i = 0; i < bast_result_trace_count(res); i++)
            bastd_metrics_module(d->metrics, label,
                                 bast_result_trace_module(res, i),
                                 bast_result_trace_result(res, i));
        int status = bast_result_status(res);
        if (dec == BAST_ALLOW && status == 200) {
            ret = queue_allow(c, res);
        } else {
            /* Fail closed: a deny that claims 2xx is still a denial. */
            if (status < 400 || status > 599)
                status = 401;
            ret = queue_error(c, (unsigned)status, bast_result_error(res),
                              bast_result_error_description(res), res);
        }
        bastd_metrics_request(
            d->metrics, label, dec == BAST_ALLOW ? "allow" : "deny",
            dec == BAST_ALLOW ? 200 : status,
            dec == BAST_ALLOW ? NULL : bast_result_error(res), since(&h->t0));
    }
    /* Results borrow from the ctx: free before releasing the generation. */
    bast_result_free(res);
    bastd_gen_release(g);
    return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
        const char *method, const char *version, const char *upload,
        size_t *upload_size, void **req_cls)
{
    (void)url;
    (void)version;
    bastd *d = cls;
    hreq *h = *req_cls;
    if (!h)
        return MHD_NO; /* out of memory in the URI callback */
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (!h->started) {
        h->started = 1;
        clock_gettime(CLOCK_MONOTONIC, &h->t0);
        size_t plen = strcspn(h->uri, "?");
        if (strncmp(h->uri, "/verify/", 8) == 0)
            h->route = R_VERIFY;
        else if (plen == 8 && strncmp(h->uri, "/healthz", 8) == 0)
            h->route = R_HEALTH;
        else if (plen == 8 && strncmp(h->uri, "/metrics", 8) == 0)
            h->route = R_METRICS;
        else
            h->route = R_NOTFOUND;
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     "Transfer-Encoding");
        h->has_body = cl || te; /* an empty body is still a body */
        if (h->route == R_VERIFY && cl &&
            strtoull(cl, NULL, 10) > (unsigned long long)d->max_body)
            return queue_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "invalid_request",
                               "request body too large", NULL);
        /* Answer on a later call, once the request is fully read: an
         * answer queued now makes libmicrohttpd close the connection. */
        return MHD_YES;
    }
    if (*upload_size) {
        if (h->route != R_VERIFY || h->too_big ||
            h->blen + *upload_size > d->max_body) {
            h->too_big = 1;
        } else {
            unsigned char *nb = realloc(h->body, h->blen + *upload_size);
            if (!nb)
                return MHD_NO;
            memcpy(nb + h->blen, upload, *upload_size);
            h->body = nb;
            h->blen += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    switch (h->route) {
    case R_VERIFY:
        return serve_verify(d, c, h, method);
    case R_HEALTH:
    case R_METRICS:
        if (!get)
            return queue_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                               "invalid_request", "use GET", NULL);
        if (h->route == R_HEALTH)
            return queue(c, MHD_HTTP_OK, "text/plain", "ok\n", 3, NULL);
        size_t len = 0;
        char *txt = bastd_metrics_render(d->metrics, &len);
        if (!txt)
            return MHD_NO;
        enum MHD_Result r =
            queue(c, MHD_HTTP_OK, "text/plain; version=0.0.4", txt, len, NULL);
        free(txt);
        return r;
    default:
        return queue_error(c, MHD_HTTP_NOT_FOUND, "not_found", "no such path",
                           NULL);
    }
}

/* A request counts as in flight from its request line until its answer
 * is sent: SIGTERM's drain waits for exactly these. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)c;
    bastd *d = cls;
    hreq *h = calloc(1, sizeof *h);
    if (h && !(h->uri = strdup(uri))) {
        free(h);
        h = NULL;
    }
    if (h)
        bastd_metrics_inflight(d->metrics, 1);
    return h;
}

static void
on_done(void *cls, struct MHD_Connection *c, void **req_cls,
        enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    bastd *d = cls;
    hreq *h = *req_cls;
    if (h) {
        bastd_metrics_inflight(d->metrics, -1);
        free(h->uri);
        free(h->body);
        free(h);
        *req_cls = NULL;
    }
}

__attribute__((format(printf, 2, 0))) static void
on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    bastd_vlog(4, fmt, ap);
}

struct MHD_Daemon *
bastd_http_start(bastd *d, int fd)
{
    unsigned flags =
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    /* libmicrohttpd keeps a request's headers in a per-connection pool;
     * its size is our header limit (plus room for the response). */
    size_t pool = d->max_header + 16384;
    struct MHD_OptionItem ops[10];
    size_t n = 0;
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER,
                                       (intptr_t)on_log, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK,
                                       (intptr_t)on_uri, d};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED,
                                       (intptr_t)on_done, d};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                       (intptr_t)d->max_conn, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                       (intptr_t)d->timeout, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                       (intptr_t)pool, NULL};
    if (d->threads > 1)
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE,
                                           (intptr_t)d->threads, NULL};
    ops[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, d, MHD_OPTION_ARRAY,
                            ops, MHD_OPTION_END);
}
