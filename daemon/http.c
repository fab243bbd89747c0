/*
 * http.c - bastd's HTTP side on libmicrohttpd.  Routes: GET /healthz,
 * GET /metrics, and /verify/<app>[/original/path] which rebuilds the
 * original request (request.c) and answers with the stack's decision:
 * 200 with X-Bast-Identity, X-Bast-Scheme, X-Bast-Attributes; a denial's
 * status with one WWW-Authenticate per challenge and
 * {"error","error_description"}; 400 for bad proxy headers, 413 for a body
 * over --max-body, 404 for unknown paths and app names.
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
    bastd_sub sub = {h->uri, h->body, h->blen, h->has_body};
    bast_request *req =
        bastd_build_request(d, c, &sub, method, rest, desc, sizeof desc);
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
