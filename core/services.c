/*
 * services.c - what the core offers plugins besides the request and the
 * call: instance facts, option parsing helpers with file:line messages,
 * the secret-file permission check, logging, audit events and the replay
 * store entry point.  Logging goes to stderr (or syslog when the audit
 * sink is syslog); nothing here keeps global state.
 */
#include "bast_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

void
bast__seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void
bast__log(const bast_ctx *ctx, int level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (ctx && ctx->audit_syslog)
        syslog(LOG_AUTHPRIV | level, "bast: %s", buf);
    else
        fprintf(stderr, "bast: %s\n", buf);
}

void
bast__audit_line(const bast_ctx *ctx, const char *line)
{
    if (ctx == NULL || line == NULL)
        return;
    if (ctx->audit_syslog) {
        syslog(LOG_AUTHPRIV | LOG_INFO, "%s", line);
    } else if (ctx->audit_fd >= 0) {
        size_t n = strlen(line);
        char *buf = malloc(n + 2);
        if (buf == NULL)
            return;
        memcpy(buf, line, n);
        buf[n] = '\n';
        /* one write of one line on an O_APPEND descriptor: lines from
         * threads and processes do not interleave */
        ssize_t w = write(ctx->audit_fd, buf, n + 1);
        (void)w;
        free(buf);
    }
}

/* ---- instance --------------------------------------------------------- */

const char *
bast_inst_name(const bast_instance *inst)
{
    return inst->name;
}

const char *
bast_inst_app(const bast_instance *inst)
{
    return inst->app;
}

const char *
bast_inst_realm(const bast_instance *inst)
{
    return inst->realm;
}

const char *
bast_inst_confdir(const bast_instance *inst)
{
    return inst->ctx->confdir;
}

const char *
bast_inst_file(const bast_instance *inst)
{
    return inst->file;
}

int
bast_inst_line(const bast_instance *inst)
{
    return inst->line;
}

int
bast_inst_path(const bast_instance *inst, const char *path, char *buf,
               size_t len)
{
    int n;
    if (path[0] == '/')
        n = snprintf(buf, len, "%s", path);
    else
        n = snprintf(buf, len, "%s/%s", inst->ctx->confdir, path);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

void
bast_log(const bast_instance *inst, int level, const char *fmt, ...)
{
    char buf[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    bast__log(inst->ctx, level, "%s/%s: %s", inst->app, inst->name, buf);
}

void
bast_audit_event(const bast_instance *inst, const char *event,
                 const char *fields_json)
{
    const bast_ctx *ctx = inst->ctx;
    if (ctx->audit_fd < 0 && !ctx->audit_syslog)
        return;
    json_t *o = NULL;
    if (fields_json)
        o = json_loads(fields_json, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    json_object_set_new(o, "event", json_string(event));
    json_object_set_new(o, "app", json_string(inst->app));
    json_object_set_new(o, "module", json_string(inst->name));
    char *line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    bast__audit_line(ctx, line);
    free(line);
    json_decref(o);
}

/* The context's store sees "<app>/<instance>/<id>": instances do not
 * see each other's ids, and hosts sharing Redis with the same config do. */
static int
replay_key(const bast_instance *inst, const void *id, size_t idlen,
           char key[1200], size_t *keylen)
{
    if (inst->ctx->replay == NULL || idlen > 1024)
        return -1;
    int n = snprintf(key, 1200, "%s/%s/", inst->app, inst->name);
    if (n < 0 || (size_t)n + idlen > 1200)
        return -1;
    memcpy(key + n, id, idlen);
    *keylen = (size_t)n + idlen;
    return 0;
}

/* A failing store fails every request closed; say so in the log, at
 * most once a second per context, so an operator with audit off sees it. */
static int
replay_result(const bast_instance *inst, int rc)
{
    if (rc == BAST_REPLAY_UNAVAILABLE) {
        int_least64_t t = (int_least64_t)time(NULL);
        int_least64_t last = atomic_load(&inst->ctx->replay_failed_at);
        if (t != last && atomic_compare_exchange_strong(
                             &inst->ctx->replay_failed_at, &last, t))
            bast_log(inst, 3, "replay store unavailable: failing closed");
    }
    return rc;
}

int
bast_replay_check(const bast_instance *inst, const void *id, size_t idlen,
                  unsigned ttl, int64_t now)
{
    char key[1200];
    size_t n;
    if (replay_key(inst, id, idlen, key, &n) != 0)
        return BAST_REPLAY_UNAVAILABLE;
    return replay_result(
        inst, bast__replay_check(inst->ctx->replay, key, n, ttl, now));
}

int
bast_replay_peek(const bast_instance *inst, const void *id, size_t idlen,
                 int64_t now)
{
    char key[1200];
    size_t n;
    if (replay_key(inst, id, idlen, key, &n) != 0)
        return BAST_REPLAY_UNAVAILABLE;
    return replay_result(inst,
                         bast__replay_peek(inst->ctx->replay, key, n, now));
}

/* ---- options ---------------------------------------------------------- */

int
bast_opt_error(const bast_option *o, char *err, size_t errlen, const char *fmt,
               ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (o)
        bast__seterr(err, errlen, "%s:%d: %s: %s", o->file, o->line, o->key,
                     msg);
    else
        bast__seterr(err, errlen, "%s", msg);
    return -1;
}

int
bast_opts_check(const bast_option *opts, size_t n, const char *const *known,
                char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        int ok = 0;
        for (const char *const *k = known; k && *k; k++)
            if (strcmp(*k, opts[i].key) == 0)
                ok = 1;
        if (!ok)
            return bast_opt_error(&opts[i], err, errlen, "unknown key");
        for (size_t j = 0; j < i; j++)
            if (strcmp(opts[j].key, opts[i].key) == 0)
                return bast_opt_error(&opts[i], err, errlen,
                                      "repeated key (first at line %d)",
                                      opts[j].line);
    }
    return 0;
}

const bast_option *
bast_opts_get(const bast_option *opts, size_t n, const char *key)
{
    const bast_option *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(opts[i].key, key) == 0)
            found = &opts[i];
    return found;
}

int
bast_opt_bool(const bast_option *o, int *out, char *err, size_t errlen)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(o->value, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(o->value, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return bast_opt_error(o, err, errlen, "expected yes or no, got '%s'",
                          o->value);
}

int
bast_opt_int(const bast_option *o, long long min, long long max, long long *out,
             char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long long v = strtoll(o->value, &end, 10);
    const char *digits = o->value + (o->value[0] == '-' && min < 0);
    if (errno || end == o->value || *end != '\0' ||
        !isdigit((unsigned char)*digits) || v < min || v > max)
        return bast_opt_error(o, err, errlen,
                              "expected an integer in %lld..%lld, got '%s'",
                              min, max, o->value);
    *out = v;
    return 0;
}

int
bast_opt_duration(const bast_option *o, long long min, long long max,
                  long long *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long long v = strtoll(o->value, &end, 10);
    long long mul = 1;
    if (!errno && end != o->value && isdigit((unsigned char)o->value[0])) {
        if (*end == 's' || *end == '\0')
            mul = 1;
        else if (*end == 'm')
            mul = 60;
        else if (*end == 'h')
            mul = 3600;
        else if (*end == 'd')
            mul = 86400;
        else
            mul = 0;
        if (*end != '\0' && end[1] != '\0')
            mul = 0;
        if (mul && v <= max / mul && v * mul >= min && v * mul <= max) {
            *out = v * mul;
            return 0;
        }
    }
    return bast_opt_error(o, err, errlen,
                          "expected a duration in %lld..%lld seconds "
                          "(e.g. 300, 5m, 2h, 1d), got '%s'",
                          min, max, o->value);
}

int
bast_secret_file_check(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        char eb[128];
        bast__seterr(err, errlen, "%s: %s", path,
                     strerror_r(errno, eb, sizeof(eb)));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        bast__seterr(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH | S_IROTH)) {
        bast__seterr(
            err, errlen,
            "%s: holds secrets but is %s (mode %04o); chmod 600 it", path,
            (st.st_mode & (S_IWGRP | S_IWOTH)) ? "writable by group or others"
                                               : "readable by others",
            (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}
