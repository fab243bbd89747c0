/*
 * config.c - turn conf.d/<app>.conf files into stacks.  Each file is read
 * once into sections (conffile.c), checked (reserved keys, [app] first,
 * exactly one of plugin/include/substack), its module instances opened
 * (controls compiled, filters parsed, plugins loaded), and each app's
 * stack flattened: `include` splices another file's entries at the same
 * level, `substack` adds a marker and the file's entries one level down.
 * Cycles and nesting over 16 are errors.  Every error names file:line
 * and the key; the caller frees everything on error (never half-applied).
 */
#include "bast_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { ENT_MODULE, ENT_INCLUDE, ENT_SUBSTACK };

struct entry {
    int kind;
    struct bast_instance *inst; /* ENT_MODULE */
    char *target;               /* ENT_INCLUDE / ENT_SUBSTACK */
    const char *name;
    int line;
};

struct bast__file {
    char *app;
    char *rel; /* "conf.d/<app>.conf" */
    char *realm;
    struct bast__sections s;
    struct entry *ent;
    size_t nent;
    int expanding; /* cycle detection */
};

/* ---- from sections to entries ---------------------------------------- */

static const char *const reserved[] = {
    "plugin",        "control", "include", "substack",
    "bind_identity", "paths",   "methods", NULL};

static int
is_reserved(const char *k)
{
    for (const char *const *p = reserved; *p; p++)
        if (strcmp(*p, k) == 0)
            return 1;
    return 0;
}

static int
valid_app_name(const char *n)
{
    if (!*n || strlen(n) > 100 || n[0] == '.')
        return 0;
    for (const char *p = n; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' ||
              *p == '.'))
            return 0;
    return 1;
}

static const char *
kv_get(const struct bast__section *s, const char *key, int *line)
{
    for (size_t i = 0; i < s->nkv; i++)
        if (strcmp(s->kv[i].key, key) == 0) {
            if (line)
                *line = s->kv[i].line;
            return s->kv[i].value;
        }
    return NULL;
}

static void
instance_free(struct bast_instance *in)
{
    if (in == NULL)
        return;
    if (in->opened && in->plugin && in->plugin->desc)
        in->plugin->desc->close(in->state);
    if (in->serialise)
        pthread_mutex_destroy(&in->lock);
    free(in->name);
    free(in->app);
    free(in->realm);
    free(in->file);
    free(in->control);
    for (size_t i = 0; i < in->npaths; i++)
        free(in->paths[i]);
    free(in->paths);
    for (size_t i = 0; i < in->nmethods; i++)
        free(in->methods[i]);
    free(in->methods);
    free(in->opts);
    free(in);
}

#define FERR(line, ...)                                                        \
    do {                                                                       \
        char m_[512];                                                          \
        snprintf(m_, sizeof(m_), __VA_ARGS__);                                 \
        bast__seterr(err, errlen, "%s:%d: %s", f->rel, (line), m_);            \
        return -1;                                                             \
    } while (0)

static int
build_module(bast_ctx *ctx, struct bast__file *f, const struct bast__section *s,
             struct entry *e, char *err, size_t errlen)
{
    int pline = 0, cline = 0;
    const char *plugin = kv_get(s, "plugin", &pline);
    const char *control = kv_get(s, "control", &cline);
    if (control == NULL)
        FERR(s->line,
             "[%s]: control: missing (required, requisite, "
             "sufficient, optional, binding or [...])",
             s->name);
    struct bast_instance *in = calloc(1, sizeof(*in));
    if (in == NULL)
        FERR(s->line, "out of memory");
    e->inst = in;
    in->ctx = ctx;
    in->name = strdup(s->name);
    in->app = strdup(f->app);
    in->realm = strdup(f->realm);
    in->file = strdup(f->rel);
    in->control = strdup(control);
    in->line = s->line;
    in->bind_identity = 1;
    if (!in->name || !in->app || !in->realm || !in->file || !in->control)
        FERR(s->line, "out of memory");
    char msg[400];
    if (bast__control_parse(control, in->actions, msg, sizeof(msg)) != 0)
        FERR(cline, "control: %s", msg);
    in->opts = calloc(s->nkv ? s->nkv : 1, sizeof(*in->opts));
    if (in->opts == NULL)
        FERR(s->line, "out of memory");
    for (size_t i = 0; i < s->nkv; i++) {
        const struct bast__kv *kv = &s->kv[i];
        if (strcmp(kv->key, "bind_identity") == 0) {
            bast_option o = {kv->key, kv->value, f->rel, kv->line};
            if (bast_opt_bool(&o, &in->bind_identity, err, errlen) != 0)
                return -1;
        } else if (strcmp(kv->key, "paths") == 0 ||
                   strcmp(kv->key, "methods") == 0) {
            if (bast__filter_parse(in, kv->key, kv->value, msg, sizeof(msg)) !=
                0)
                FERR(kv->line, "%s: %s", kv->key, msg);
        } else if (!is_reserved(kv->key)) {
            in->opts[in->nopts++] =
                (bast_option){kv->key, kv->value, f->rel, kv->line};
        }
    }
    int optional = plugin[0] == '-';
    if (bast__plugin_get(ctx, plugin + optional, optional, &in->plugin, msg,
                         sizeof(msg)) != 0)
        FERR(pline, "plugin: %s", msg);
    if (in->plugin->desc == NULL)
        return 0; /* missing `-name`: answers unavailable */
    const bast_plugin *d = in->plugin->desc;
    if (!(d->caps & BAST_CAP_THREADSAFE)) {
        if (pthread_mutex_init(&in->lock, NULL) != 0)
            FERR(s->line, "cannot create a lock");
        in->serialise = 1;
    }
    char perr[512] = "";
    if (d->open(in, in->opts, in->nopts, &in->state, perr, sizeof(perr)) != 0) {
        if (strncmp(perr, f->rel, strlen(f->rel)) == 0)
            bast__seterr(err, errlen, "%s", perr);
        else
            bast__seterr(err, errlen, "%s:%d: [%s]: %s", f->rel, s->line,
                         s->name, perr[0] ? perr : "plugin refused to open");
        return -1;
    }
    in->opened = 1;
    return 0;
}

static int
build_entries(bast_ctx *ctx, struct bast__file *f, char *err, size_t errlen)
{
    f->ent = calloc(f->s.nsec ? f->s.nsec : 1, sizeof(*f->ent));
    if (f->ent == NULL)
        FERR(0, "out of memory");
    for (size_t i = 0; i < f->s.nsec; i++) {
        const struct bast__section *s = &f->s.sec[i];
        if (strcmp(s->name, "app") == 0) {
            if (i != 0)
                FERR(s->line, "[app] must be the first section");
            for (size_t k = 0; k < s->nkv; k++) {
                if (strcmp(s->kv[k].key, "realm") != 0)
                    FERR(s->kv[k].line,
                         "%s: unknown key in [app] (only "
                         "realm)",
                         s->kv[k].key);
                if (strchr(s->kv[k].value, '"') ||
                    strchr(s->kv[k].value, '\\') || !*s->kv[k].value)
                    FERR(s->kv[k].line, "realm: must be non-empty, "
                                        "without quotes or backslashes");
                free(f->realm);
                f->realm = strdup(s->kv[k].value);
                if (f->realm == NULL)
                    FERR(s->line, "out of memory");
            }
            continue;
        }
        struct entry *e = &f->ent[f->nent++];
        e->name = s->name;
        e->line = s->line;
        int pl = 0, il = 0, sl = 0;
        const char *plugin = kv_get(s, "plugin", &pl);
        const char *inc = kv_get(s, "include", &il);
        const char *sub = kv_get(s, "substack", &sl);
        int kinds = !!plugin + !!inc + !!sub;
        if (kinds != 1)
            FERR(s->line,
                 "[%s]: needs exactly one of plugin, include, "
                 "substack",
                 s->name);
        if (plugin) {
            e->kind = ENT_MODULE;
            if (build_module(ctx, f, s, e, err, errlen) != 0)
                return -1;
            continue;
        }
        e->kind = inc ? ENT_INCLUDE : ENT_SUBSTACK;
        const char *key = inc ? "include" : "substack";
        int line = inc ? il : sl;
        for (size_t k = 0; k < s->nkv; k++)
            if (strcmp(s->kv[k].key, key) != 0)
                FERR(s->kv[k].line, "%s: only %s may be set in an %s section",
                     s->kv[k].key, key, key);
        if (!valid_app_name(inc ? inc : sub))
            FERR(line, "%s: '%s' is not an app name", key, inc ? inc : sub);
        e->target = strdup(inc ? inc : sub);
        if (e->target == NULL)
            FERR(line, "out of memory");
    }
    return 0;
}

/* ---- files and stacks ------------------------------------------------- */

static void
file_free(struct bast__file *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->nent; i++) {
        instance_free(f->ent[i].inst);
        free(f->ent[i].target);
    }
    free(f->ent);
    bast__sections_free(&f->s);
    free(f->app);
    free(f->rel);
    free(f->realm);
    free(f);
}

static struct bast__file *
find_file(bast_ctx *ctx, const char *app)
{
    for (size_t i = 0; i < ctx->nfiles; i++)
        if (strcmp(ctx->files[i]->app, app) == 0)
            return ctx->files[i];
    return NULL;
}

/* Load conf.d/<app>.conf once.  *out NULL with 0 when it does not exist
 * and `may_miss`. */
static int
load_file(bast_ctx *ctx, const char *app, int may_miss, struct bast__file **out,
          char *err, size_t errlen)
{
    *out = find_file(ctx, app);
    if (*out)
        return 0;
    char path[4096];
    snprintf(path, sizeof(path), "%s/conf.d/%s.conf", ctx->confdir, app);
    struct stat st;
    if (may_miss && stat(path, &st) != 0 && errno == ENOENT)
        return 0;
    struct bast__file *f = calloc(1, sizeof(*f));
    struct bast__file **l = realloc(ctx->files, (ctx->nfiles + 1) * sizeof(*l));
    if (f == NULL || l == NULL) {
        free(f);
        bast__seterr(err, errlen, "out of memory");
        return -1;
    }
    ctx->files = l;
    ctx->files[ctx->nfiles++] = f;
    f->app = strdup(app);
    f->realm = strdup(app);
    f->rel = malloc(strlen(app) + 16);
    if (!f->app || !f->realm || !f->rel) {
        bast__seterr(err, errlen, "out of memory");
        return -1;
    }
    sprintf(f->rel, "conf.d/%s.conf", app);
    if (bast__conf_read(&f->s, path, f->rel, err, errlen) != 0 ||
        build_entries(ctx, f, err, errlen) != 0)
        return -1;
    *out = f;
    return 0;
}

struct flat {
    struct bast__handler *h;
    size_t n, cap;
    size_t nmodules;
};

static int
push(struct flat *fl, struct bast_instance *inst, int level)
{
    if (fl->n == fl->cap) {
        size_t cap = fl->cap ? fl->cap * 2 : 8;
        struct bast__handler *h = realloc(fl->h, cap * sizeof(*h));
        if (h == NULL)
            return -1;
        fl->h = h;
        fl->cap = cap;
    }
    fl->h[fl->n].inst = inst;
    fl->h[fl->n].level = level;
    fl->n++;
    if (inst)
        fl->nmodules++;
    return 0;
}

static int
expand(bast_ctx *ctx, struct bast__file *f, int level, int depth,
       struct flat *fl, char *err, size_t errlen)
{
    f->expanding = 1;
    for (size_t i = 0; i < f->nent; i++) {
        struct entry *e = &f->ent[i];
        if (e->kind == ENT_MODULE) {
            if (push(fl, e->inst, level) != 0)
                FERR(e->line, "out of memory");
            continue;
        }
        const char *key = e->kind == ENT_INCLUDE ? "include" : "substack";
        if (depth + 1 > BAST_MAX_DEPTH)
            FERR(e->line, "%s: nesting deeper than %d", key, BAST_MAX_DEPTH);
        struct bast__file *t;
        if (load_file(ctx, e->target, 1, &t, err, errlen) != 0)
            return -1;
        if (t == NULL)
            FERR(e->line, "%s: conf.d/%s.conf does not exist", key, e->target);
        if (t->expanding)
            FERR(e->line, "%s: '%s' includes itself (a cycle)", key, e->target);
        int sub = e->kind == ENT_SUBSTACK;
        if (sub && push(fl, NULL, level) != 0)
            FERR(e->line, "out of memory");
        if (expand(ctx, t, level + sub, depth + 1, fl, err, errlen) != 0)
            return -1;
    }
    f->expanding = 0;
    return 0;
}

static int
app_cmp(const void *a, const void *b)
{
    return strcmp(((const struct bast__app *)a)->name,
                  ((const struct bast__app *)b)->name);
}

static int
add_app(bast_ctx *ctx, const char *name, char *err, size_t errlen)
{
    struct bast__file *f;
    if (load_file(ctx, name, 0, &f, err, errlen) != 0)
        return -1;
    struct flat fl = {0};
    if (expand(ctx, f, 0, 0, &fl, err, errlen) != 0) {
        free(fl.h);
        return -1;
    }
    struct bast__app *a = realloc(ctx->apps, (ctx->napps + 1) * sizeof(*a));
    if (a == NULL) {
        free(fl.h);
        return -1;
    }
    ctx->apps = a;
    a = &a[ctx->napps++];
    a->name = f->app;
    a->realm = f->realm;
    a->h = fl.h;
    a->n = fl.n;
    a->nmodules = fl.nmodules;
    return 0;
}

static int
has_conf_suffix(const char *n)
{
    size_t l = strlen(n);
    return l > 5 && strcmp(n + l - 5, ".conf") == 0;
}

int
bast__config_load(bast_ctx *ctx, const char *only_app, char *err, size_t errlen)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/conf.d", ctx->confdir);
    if (only_app) {
        if (!valid_app_name(only_app)) {
            bast__seterr(err, errlen, "'%s' is not an app name", only_app);
            return -1;
        }
        char path[4200];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s.conf", dir, only_app);
        const char *name = only_app;
        if (stat(path, &st) != 0) {
            snprintf(path, sizeof(path), "%s/other.conf", dir);
            if (stat(path, &st) != 0)
                return 0; /* unknown app, no `other`: every request denied */
            name = "other";
        }
        return add_app(ctx, name, err, errlen);
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        char eb[128];
        bast__seterr(err, errlen, "%s: %s", dir,
                     strerror_r(errno, eb, sizeof(eb)));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !has_conf_suffix(de->d_name))
            continue;
        char **l = realloc(names, (n + 1) * sizeof(*l));
        if (l == NULL) {
            rc = -1;
            break;
        }
        names = l;
        if ((names[n] = strndup(de->d_name, strlen(de->d_name) - 5)) == NULL) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!valid_app_name(names[i])) {
            bast__seterr(err, errlen,
                         "conf.d/%s.conf: '%s' is not a valid app name "
                         "(letters, digits, - _ .)",
                         names[i], names[i]);
            rc = -1;
            break;
        }
        rc = add_app(ctx, names[i], err, errlen);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc == 0 && ctx->napps > 1)
        qsort(ctx->apps, ctx->napps, sizeof(*ctx->apps), app_cmp);
    return rc;
}

void
bast__config_free(bast_ctx *ctx)
{
    for (size_t i = 0; i < ctx->napps; i++)
        free(ctx->apps[i].h);
    free(ctx->apps);
    ctx->apps = NULL;
    ctx->napps = 0;
    for (size_t i = 0; i < ctx->nfiles; i++)
        file_free(ctx->files[i]);
    free(ctx->files);
    ctx->files = NULL;
    ctx->nfiles = 0;
}
