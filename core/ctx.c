/*
 * ctx.c - open and close a context: resolve the config directory and the
 * plugin directory (bast_options, then env BAST_PLUGIN_DIR, then
 * bast.conf, then the compiled-in default), open the audit sink and the
 * replay store, load every app (or one), lint.  All or nothing: any error
 * frees what was built and returns NULL with one line in errbuf.
 */
#include "bast_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#ifndef BAST_DEFAULT_PLUGIN_DIR
#define BAST_DEFAULT_PLUGIN_DIR "/usr/local/lib/bast/plugins"
#endif
#ifndef BAST_DEFAULT_CONFDIR
#define BAST_DEFAULT_CONFDIR "/etc/bast"
#endif

static int
open_audit(bast_ctx *ctx, const char *spec, char *err, size_t errlen)
{
    ctx->audit_fd = -1;
    if (*spec == '\0' || strcmp(spec, "off") == 0)
        return 0;
    if (strcmp(spec, "syslog") == 0) {
        ctx->audit_syslog = 1;
        return 0;
    }
    if (strcmp(spec, "stderr") == 0) {
        ctx->audit_fd = dup(STDERR_FILENO);
        return ctx->audit_fd < 0 ? -1 : 0;
    }
    if (spec[0] != '/') {
        bast__seterr(err, errlen,
                     "bast.conf: audit: expected syslog, "
                     "stderr, off or an absolute path, got '%s'",
                     spec);
        return -1;
    }
    ctx->audit_fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (ctx->audit_fd < 0) {
        char eb[128];
        bast__seterr(err, errlen, "bast.conf: audit: %s: %s", spec,
                     strerror_r(errno, eb, sizeof(eb)));
        return -1;
    }
    return 0;
}

bast_ctx *
bast_open(const char *confdir, const bast_options *opts, char *err,
          size_t errlen)
{
    char pdir[PATH_MAX] = "", audit[PATH_MAX] = "", replay[1024] = "";
    char real[PATH_MAX];
    const char *only = NULL, *want_pdir = NULL;
    if (opts && opts->size >=
                    offsetof(bast_options, only_app) + sizeof(opts->only_app)) {
        only = opts->only_app;
        want_pdir = opts->plugin_dir;
    }
    if (confdir == NULL)
        confdir = getenv("BAST_CONFDIR");
    if (confdir == NULL || *confdir == '\0')
        confdir = BAST_DEFAULT_CONFDIR;
    if (realpath(confdir, real) == NULL) {
        char eb[128];
        bast__seterr(err, errlen, "%s: %s", confdir,
                     strerror_r(errno, eb, sizeof(eb)));
        return NULL;
    }
    bast_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        bast__seterr(err, errlen, "out of memory");
        return NULL;
    }
    ctx->audit_fd = -1;
    bast__clock_start(&ctx->clock);
    ctx->confdir = strdup(real);
    if (ctx->confdir == NULL)
        goto nomem;
    if (bast__global_conf(ctx->confdir, pdir, sizeof(pdir), audit,
                          sizeof(audit), replay, sizeof(replay), err,
                          errlen) != 0)
        goto fail;
    if (strchr(replay, '@') != NULL) {
        /* the replay spec carries a password: bast.conf now holds a
         * secret and gets the secret-file rule */
        char path[PATH_MAX + 16], msg[PATH_MAX + 128];
        snprintf(path, sizeof(path), "%s/bast.conf", ctx->confdir);
        if (bast_secret_file_check(path, msg, sizeof(msg)) != 0) {
            bast__seterr(err, errlen,
                         "bast.conf: replay: a password in the "
                         "spec makes this a secret file: %s",
                         msg);
            goto fail;
        }
    }
    if (want_pdir == NULL || *want_pdir == '\0')
        want_pdir = getenv("BAST_PLUGIN_DIR");
    if (want_pdir == NULL || *want_pdir == '\0')
        want_pdir = pdir[0] ? pdir : BAST_DEFAULT_PLUGIN_DIR;
    if (realpath(want_pdir, real) == NULL) {
        char eb[128];
        bast__seterr(err, errlen, "plugin_dir %s: %s", want_pdir,
                     strerror_r(errno, eb, sizeof(eb)));
        goto fail;
    }
    ctx->plugin_dir = strdup(real);
    if (ctx->plugin_dir == NULL)
        goto nomem;
    if (open_audit(ctx, audit, err, errlen) != 0)
        goto fail;
    char rerr[400];
    if (bast__replay_open(&ctx->replay, replay[0] ? replay : NULL, rerr,
                          sizeof(rerr)) != 0) {
        bast__seterr(err, errlen, "bast.conf: replay: %s", rerr);
        goto fail;
    }
    if (bast__config_load(ctx, only, err, errlen) != 0)
        goto fail;
    bast__config_lint(ctx);
    bast__clock_finish(&ctx->clock);
    return ctx;
nomem:
    bast__seterr(err, errlen, "out of memory");
fail:
    bast_close(ctx);
    return NULL;
}

void
bast_close(bast_ctx *ctx)
{
    if (ctx == NULL)
        return;
    bast__config_free(ctx);
    bast__plugins_free(ctx);
    if (ctx->replay)
        bast__replay_close(ctx->replay);
    if (ctx->audit_fd >= 0)
        close(ctx->audit_fd);
    for (size_t i = 0; i < ctx->nwarnings; i++)
        free(ctx->warnings[i]);
    free(ctx->warnings);
    free(ctx->confdir);
    free(ctx->plugin_dir);
    free(ctx);
}

size_t
bast_warning_count(const bast_ctx *ctx)
{
    return ctx ? ctx->nwarnings : 0;
}

const char *
bast_warning(const bast_ctx *ctx, size_t i)
{
    return ctx && i < ctx->nwarnings ? ctx->warnings[i] : NULL;
}

size_t
bast_app_count(const bast_ctx *ctx)
{
    return ctx ? ctx->napps : 0;
}

const char *
bast_app_name(const bast_ctx *ctx, size_t i)
{
    return ctx && i < ctx->napps ? ctx->apps[i].name : NULL;
}
