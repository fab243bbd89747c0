/*
 * loader.c - find, check and dlopen scheme plugins.  A plugin name is a
 * plain word; its file is <plugin_dir>/<name>.so, an absolute path.  The
 * file must be a regular file owned by root or the running user and not
 * writable by group or others; it is loaded with RTLD_NOW|RTLD_LOCAL so a
 * missing symbol fails here, not mid-request; its one exported descriptor
 * must match our ABI exactly, be at least as large as the first published
 * descriptor, and claim no capability we do not know.  A `-name` plugin
 * that is absent loads as an entry without descriptor (it answers
 * `unavailable`).  Each .so is loaded once per context.
 */
#include "bast_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIN_DESC_SIZE (offsetof(bast_plugin, close) + sizeof(void *))

static int
valid_name(const char *n)
{
    if (!*n || strlen(n) > 64)
        return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

static int
load(const char *path, const char *name, int optional, struct bast__plugin *pl,
     char *err, size_t errlen)
{
    struct stat st;
    char eb[128];
    if (stat(path, &st) != 0) {
        if (optional && errno == ENOENT)
            return 0; /* `-name`: absent is not an error and is not logged */
        bast__seterr(err, errlen, "plugin '%s': %s: %s", name, path,
                     strerror_r(errno, eb, sizeof(eb)));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        bast__seterr(err, errlen, "plugin '%s': %s is not a regular file", name,
                     path);
        return -1;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        bast__seterr(err, errlen,
                     "plugin '%s': refusing %s: writable by group or others "
                     "(mode %04o)",
                     name, path, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        bast__seterr(err, errlen,
                     "plugin '%s': refusing %s: owned by uid %u, not root "
                     "or uid %u",
                     name, path, (unsigned)st.st_uid, (unsigned)geteuid());
        return -1;
    }
    pl->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (pl->dl == NULL) {
        bast__seterr(err, errlen, "plugin '%s': %s", name, dlerror());
        return -1;
    }
    const bast_plugin *d = dlsym(pl->dl, BAST_PLUGIN_SYMBOL);
    if (d == NULL) {
        bast__seterr(err, errlen, "plugin '%s': %s exports no %s", name, path,
                     BAST_PLUGIN_SYMBOL);
        return -1;
    }
    if (d->abi != BAST_PLUGIN_ABI) {
        bast__seterr(err, errlen,
                     "plugin '%s': ABI mismatch: core expects %u, %s has %u",
                     name, BAST_PLUGIN_ABI, path, d->abi);
        return -1;
    }
    if (d->size < MIN_DESC_SIZE) {
        bast__seterr(err, errlen,
                     "plugin '%s': descriptor too small: core expects at "
                     "least %zu bytes, %s has %u",
                     name, (size_t)MIN_DESC_SIZE, path, d->size);
        return -1;
    }
    if (d->caps & ~(uint32_t)BAST_CAP_KNOWN) {
        bast__seterr(err, errlen,
                     "plugin '%s': unknown capability bits 0x%x (core knows "
                     "0x%x)",
                     name, d->caps & ~(uint32_t)BAST_CAP_KNOWN,
                     (unsigned)BAST_CAP_KNOWN);
        return -1;
    }
    if (d->name == NULL || strcmp(d->name, name) != 0 || d->open == NULL ||
        d->verify == NULL || d->close == NULL) {
        bast__seterr(err, errlen,
                     "plugin '%s': %s: descriptor names '%s' or lacks "
                     "open/verify/close",
                     name, path, d->name ? d->name : "(null)");
        return -1;
    }
    pl->desc = d;
    return 0;
}

int
bast__plugin_get(bast_ctx *ctx, const char *name, int optional,
                 struct bast__plugin **out, char *err, size_t errlen)
{
    if (!valid_name(name)) {
        bast__seterr(err, errlen, "invalid plugin name '%s'", name);
        return -1;
    }
    for (size_t i = 0; i < ctx->nplugins; i++)
        if (strcmp(ctx->plugins[i]->name, name) == 0) {
            if (ctx->plugins[i]->desc == NULL && !optional) {
                bast__seterr(err, errlen, "plugin '%s': %s/%s.so is missing",
                             name, ctx->plugin_dir, name);
                return -1;
            }
            *out = ctx->plugins[i];
            return 0;
        }
    struct bast__plugin **l =
        realloc(ctx->plugins, (ctx->nplugins + 1) * sizeof(*l));
    if (l == NULL)
        return -1;
    ctx->plugins = l;
    struct bast__plugin *pl = calloc(1, sizeof(*pl));
    if (pl == NULL || (pl->name = strdup(name)) == NULL) {
        free(pl);
        bast__seterr(err, errlen, "out of memory");
        return -1;
    }
    ctx->plugins[ctx->nplugins++] = pl;
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s.so", ctx->plugin_dir, name);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        bast__seterr(err, errlen, "plugin '%s': path too long", name);
        return -1;
    }
    if (load(path, name, optional, pl, err, errlen) != 0)
        return -1;
    *out = pl;
    return 0;
}

void
bast__plugins_free(bast_ctx *ctx)
{
    for (size_t i = 0; i < ctx->nplugins; i++) {
        if (ctx->plugins[i]->dl)
            dlclose(ctx->plugins[i]->dl);
        free(ctx->plugins[i]->name);
        free(ctx->plugins[i]);
    }
    free(ctx->plugins);
    ctx->plugins = NULL;
    ctx->nplugins = 0;
}
