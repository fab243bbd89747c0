/*
 * verify.c - bast_verify(): run an app's stack on a request.  The walker
 * (engine.c) decides; this file runs one module at a time for it: the
 * request filters, the missing `-name` plugin, the lock of a plugin that
 * is not thread-safe, the identity rule (a later module that authenticates
 * someone else gets `forbidden`/identity_mismatch unless bind_identity =
 * no), the trace with per-module microseconds, challenges of modules that
 * answered absent or deny, attributes of successful modules.  Then it
 * turns the walk into the result.  Also the bast_call setters plugins use.
 */
#include "bast_int.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct bast__app *
find_app(const bast_ctx *ctx, const char *name)
{
    size_t lo = 0, hi = ctx->napps;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, ctx->apps[mid].name);
        if (c == 0)
            return &ctx->apps[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static void
reset_module(bast_call *call)
{
    call->identity = NULL;
    call->error = NULL;
    call->desc = NULL;
    call->attr_mark = call->res->nattrs;
    call->challenge_mark = call->res->nchallenges;
}

static bast_res
run_one(void *ud, size_t idx)
{
    bast_call *call = ud;
    bast_result *res = call->res;
    const struct bast_instance *in = call->app->h[idx].inst;
    if ((in->npaths || in->nmethods) && !bast__filter_match(in, call->req))
        return BAST_RES_IGNORE; /* not for this request: not run */

    reset_module(call);
    /* one tick read per module: it starts where the previous one ended */
    uint64_t t0 = call->tick;
    int rv;
    const bast_plugin *d = in->plugin->desc;
    if (d == NULL) {
        rv = BAST_RES_UNAVAILABLE; /* `-name` whose .so is missing */
    } else if (in->serialise) {
        pthread_mutex_lock((pthread_mutex_t *)&in->lock);
        rv = d->verify(in->state, call);
        pthread_mutex_unlock((pthread_mutex_t *)&in->lock);
    } else {
        rv = d->verify(in->state, call);
    }
    uint64_t t1 = call->tick = bast__ticks(&call->ctx->clock);
    if (rv <= 0 || rv >= BAST_RES__COUNT) {
        bast__log(call->ctx, 3,
                  "%s/%s: plugin returned %d; treated as "
                  "unavailable",
                  in->app, in->name, rv);
        call->error = "module_error";
        rv = 0; /* the walker forces bad; reported as unavailable */
    }

    if (rv == BAST_RES_SUCCESS && call->identity) {
        if (call->principal == NULL) {
            call->principal = call->identity;
            res->identity = call->identity;
            res->scheme = in->plugin->name;
            res->module = in->name;
        } else if (in->bind_identity &&
                   strcmp(call->principal, call->identity) != 0) {
            rv = BAST_RES_FORBIDDEN;
            call->error = "identity_mismatch";
            call->desc = bast__result_strdup(
                res, "a later module authenticated a different principal");
        }
    }
    if (rv != BAST_RES_SUCCESS)
        res->nattrs = call->attr_mark; /* attributes only from successes */
    /* challenges tell a client how to retry: keep them from modules that
     * turned it away (RFC 6750 uses them on 401, 403 and 400 alike) */
    if (rv != BAST_RES_ABSENT && rv != BAST_RES_DENY &&
        rv != BAST_RES_FORBIDDEN && rv != BAST_RES_MALFORMED)
        res->nchallenges = call->challenge_mark;

    if (res->ntrace < res->captrace) {
        struct bast__trace *t = &res->trace[res->ntrace++];
        t->inst = in;
        t->result = rv ? rv : BAST_RES_UNAVAILABLE;
        t->error = call->error;
        t->desc = call->desc;
        t->us = bast__ticks_us(&call->ctx->clock, t0, t1);
    }
    return (bast_res)rv;
}

/* The trace entry of handler `idx`'s last run, for error details. */
static const struct bast__trace *
trace_of(const bast_result *res, const struct bast_instance *in)
{
    for (size_t i = res->ntrace; i-- > 0;)
        if (res->trace[i].inst == in)
            return &res->trace[i];
    return NULL;
}

static void
set_failure(bast_result *res, const struct bast__trace *t)
{
    res->status = bast__res_http(t->result);
    res->error = t->error ? t->error : bast__res_default_error(t->result);
    res->error_description = t->desc;
    res->module = t->inst->name;
    res->scheme = t->inst->plugin ? t->inst->plugin->name : NULL;
}

static void
finish(bast_result *res, const struct bast__app *app, const bast__walk *w)
{
    if (w->raw == BAST_RES_SUCCESS && w->positive) {
        res->decision = BAST_ALLOW;
        res->status = 200;
        if (res->module == NULL && w->status_idx < app->n) {
            const struct bast_instance *in = app->h[w->status_idx].inst;
            res->module = in->name;
            res->scheme = in->plugin->name;
        }
        return;
    }
    res->decision = BAST_DENY;
    res->identity = NULL;
    res->scheme = NULL;
    res->module = NULL;
    res->nattrs = 0;
    const struct bast__trace *t = NULL;
    if (w->status_idx < app->n && w->raw != BAST_RES_SUCCESS &&
        w->raw != BAST_RES_IGNORE)
        t = trace_of(res, app->h[w->status_idx].inst);
    if (t == NULL) {
        /* no decision: report the first failure a flag ignored; a
         * missing credential is not a failure worth naming when another
         * module saw a bad one */
        for (size_t i = 0; i < res->ntrace && t == NULL; i++)
            if (res->trace[i].result != BAST_RES_SUCCESS &&
                res->trace[i].result != BAST_RES_IGNORE &&
                res->trace[i].result != BAST_RES_ABSENT)
                t = &res->trace[i];
    }
    if (t) {
        set_failure(res, t);
    } else {
        res->status = 401;
        res->error = "missing_credentials";
        res->error_description = NULL;
    }
}

static void
audit(const bast_ctx *ctx, const bast_result *res, const bast_request *req)
{
    if (ctx->audit_fd < 0 && !ctx->audit_syslog)
        return;
    json_t *o =
        json_pack("{s:s, s:s?, s:s, s:i, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}",
                  "event", "decision", "app", res->app, "decision",
                  res->decision == BAST_ALLOW ? "allow" : "deny", "status",
                  res->status, "identity", res->identity, "module", res->module,
                  "error", res->error, "method", req->method, "path", req->path,
                  "remote_addr", req->remote_addr);
    char *line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    bast__audit_line(ctx, line);
    free(line);
    json_decref(o);
}

bast_decision
bast_verify(const bast_ctx *ctx, const char *app, const bast_request *req,
            bast_result **out)
{
    if (out)
        *out = NULL;
    if (ctx == NULL || app == NULL || req == NULL)
        return BAST_DENY;
    const struct bast__app *a = find_app(ctx, app);
    if (a == NULL)
        a = find_app(ctx, "other");
    bast_result *res = bast__result_new(app, a ? a->nmodules : 0);
    if (res == NULL)
        return BAST_DENY;
    res->app = a ? a->name : bast__result_strdup(res, app);
    if (a == NULL || a->nmodules == 0) {
        res->status = 401;
        res->error = a ? "missing_credentials" : "unknown_app";
        res->error_description =
            a ? "the stack has no modules" : "no configuration for this app";
    } else {
        bast_call call = {0};
        call.req = req;
        call.res = res;
        call.app = a;
        call.ctx = ctx;
        call.now = req->has_now ? req->now : (int64_t)time(NULL);
        call.tick = bast__ticks(&ctx->clock);
        bast__walk w;
        bast__stack_walk(a->h, a->n, run_one, &call, &w);
        res->raw = w.raw;
        finish(res, a, &w);
    }
    audit(ctx, res, req);
    bast_decision d = res->decision;
    if (out)
        *out = res;
    else
        bast_result_free(res);
    return d;
}

/* ---- what a module reports -------------------------------------------- */

const bast_request *
bast_call_request(const bast_call *call)
{
    return call->req;
}

int64_t
bast_call_now(const bast_call *call)
{
    return call->now;
}

const char *
bast_call_principal(const bast_call *call)
{
    return call->principal;
}

const char *
bast_call_realm(const bast_call *call)
{
    return call->app->realm;
}

int
bast_call_set_identity(bast_call *call, const char *identity)
{
    if (identity == NULL || *identity == '\0')
        return -1;
    if (call->principal && strcmp(call->principal, identity) == 0) {
        call->identity = call->principal; /* same principal: no copy */
        return 0;
    }
    call->identity = bast__result_strdup(call->res, identity);
    return call->identity ? 0 : -1;
}

void
bast_call_set_error(bast_call *call, const char *error, const char *fmt, ...)
{
    call->error = bast__result_strdup(call->res, error);
    call->desc = NULL;
    if (fmt) {
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        call->desc = bast__result_strdup(call->res, buf);
    }
}

int
bast_call_add_challenge(bast_call *call, const char *challenge)
{
    if (challenge == NULL || strpbrk(challenge, "\r\n"))
        return -1;
    return bast__result_add_challenge(call->res, challenge);
}

int
bast_call_set_attr_str(bast_call *call, const char *key, const char *value)
{
    if (value == NULL)
        return bast__attr_set(call->res, call->attr_mark, key, BAST_ATTR_JSON,
                              "null", 5, 0, 0);
    return bast__attr_set(call->res, call->attr_mark, key, BAST_ATTR_STR, value,
                          strlen(value) + 1, 0, 0);
}

int
bast_call_set_attr_int(bast_call *call, const char *key, long long value)
{
    return bast__attr_set(call->res, call->attr_mark, key, BAST_ATTR_INT, NULL,
                          0, 0, value);
}

int
bast_call_set_attr_strv(bast_call *call, const char *key,
                        const char *const *values, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (values[i] == NULL)
            return -1;
        len += strlen(values[i]) + 1;
    }
    char *packed = n ? bast__result_alloc(call->res, len) : NULL;
    if (n && packed == NULL)
        return -1;
    for (size_t i = 0, at = 0; i < n; i++) {
        size_t l = strlen(values[i]) + 1;
        memcpy(packed + at, values[i], l);
        at += l;
    }
    /* packed already lives in the arena: store it without a copy */
    return bast__attr_set(call->res, call->attr_mark, key, BAST_ATTR_STRV,
                          packed, 0, n, 0);
}

int
bast_call_set_attr_json(bast_call *call, const char *key, const char *json)
{
    if (json == NULL)
        return -1;
    json_t *v =
        json_loads(json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (v == NULL)
        return -1;
    json_decref(v);
    return bast__attr_set(call->res, call->attr_mark, key, BAST_ATTR_JSON, json,
                          strlen(json) + 1, 0, 0);
}
