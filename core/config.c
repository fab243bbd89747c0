/*
 * config.c - read conf.d/<app>.conf files with inih and turn them into
 * stacks.  Each file is read once into sections (name, line, keys with
 * their lines), checked (reserved keys, repeated keys and sections, over-
 * long lines, [app] first), its module instances opened, and each app's
 * stack flattened: `include` splices another file's entries at the same
 * level, `substack` adds a marker and the file's entries one level down.
 * Cycles and nesting over 16 are errors.  Every error names file:line
 * and the key; the caller frees everything on error (never half-applied).
 */
#include "bast_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct kv {
    char *key, *value;
    int line;
};

struct section {
    char *name;
    int line;
    struct kv *kv;
    size_t nkv;
};

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
    struct section *sec;
    size_t nsec;
    struct entry *ent;
    size_t nent;
    int expanding; /* cycle detection */
};

/* ---- reading one file ------------------------------------------------- */

struct reader {
    const char *buf;
    size_t len, pos;
    int line;
    struct bast__file *f;
    char *err;
    size_t errlen;
    int failed;
};

static int fail(struct reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct reader *r, const char *fmt, ...)
{
    if (!r->failed) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        bast__seterr(r->err, r->errlen, "%s:%d: %s", r->f->rel, r->line, msg);
        r->failed = 1;
    }
    return 0;
}

static int
add_section(struct reader *r, const char *name, size_t len)
{
    for (size_t i = 0; i < r->f->nsec; i++)
        if (strlen(r->f->sec[i].name) == len &&
            memcmp(r->f->sec[i].name, name, len) == 0)
            return fail(r, "[%.*s]: repeated section (first at line %d)",
                        (int)len, name, r->f->sec[i].line);
    struct section *s = realloc(r->f->sec, (r->f->nsec + 1) * sizeof(*s));
    if (s == NULL)
        return fail(r, "out of memory");
    r->f->sec = s;
    s = &s[r->f->nsec];
    memset(s, 0, sizeof(*s));
    s->name = strndup(name, len);
    s->line = r->line;
    if (s->name == NULL)
        return fail(r, "out of memory");
    r->f->nsec++;
    return 1;
}

static char *
read_line(char *str, int num, void *stream)
{
    struct reader *r = stream;
    if (r->pos >= r->len || r->failed)
        return NULL;
    const char *start = r->buf + r->pos;
    const char *nl = memchr(start, '\n', r->len - r->pos);
    size_t n = nl ? (size_t)(nl - start) : r->len - r->pos;
    r->pos += n + (nl ? 1 : 0);
    r->line++;
    if (memchr(start, '\0', n)) {
        fail(r, "NUL byte in file");
        return NULL;
    }
    if (n > BAST_MAX_LINE || (int)n >= num) {
        fail(r, "line longer than %d characters", BAST_MAX_LINE);
        return NULL;
    }
    memcpy(str, start, n);
    str[n] = '\0';
    /* register sections here, where the line number is known, so empty
     * and repeated sections are caught too */
    const char *p = str;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '[') {
        const char *end = strchr(p, ']');
        if (end == NULL) {
            fail(r, "section header without ']'");
            return NULL;
        }
        size_t len = (size_t)(end - p - 1);
        if (len == 0) {
            fail(r, "empty section name");
            return NULL;
        }
        for (const char *c = p + 1; c < end; c++)
            if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_' ||
                  *c == '.')) {
                fail(r, "[%.*s]: section names use letters, digits, - _ .",
                     (int)len, p + 1);
                return NULL;
            }
        if (!add_section(r, p + 1, len))
            return NULL;
    }
    return str;
}

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
    struct reader *r = user;
    if (r->failed)
        return 0;
    if (r->f->nsec == 0 || strcmp(section, r->f->sec[r->f->nsec - 1].name))
        return fail(r, "%s: key outside a section", name);
    struct section *s = &r->f->sec[r->f->nsec - 1];
    for (size_t i = 0; i < s->nkv; i++)
        if (strcmp(s->kv[i].key, name) == 0)
            return fail(r,
                        "%s: repeated key (first at line %d; indented lines "
                        "continue a value and count as a repeat)",
                        name, s->kv[i].line);
    struct kv *kv = realloc(s->kv, (s->nkv + 1) * sizeof(*kv));
    if (kv == NULL)
        return fail(r, "out of memory");
    s->kv = kv;
    kv[s->nkv].key = strdup(name);
    kv[s->nkv].value = strdup(value);
    kv[s->nkv].line = r->line;
    s->nkv++;
    if (!kv[s->nkv - 1].key || !kv[s->nkv - 1].value)
        return fail(r, "out of memory");
    return 1;
}

static int
slurp(const char *path, const char *rel, char **out, size_t *len, char *err,
      size_t errlen)
{
    char eb[128];
    FILE *fp = fopen(path, "re");
    struct stat st;
    if (fp == NULL) {
        bast__seterr(err, errlen, "%s: %s", rel,
                     strerror_r(errno, eb, sizeof(eb)));
        return -1;
    }
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        bast__seterr(err, errlen, "%s: not a regular file", rel);
        return -1;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        fclose(fp);
        bast__seterr(err, errlen,
                     "%s: writable by group or others (mode %04o): anyone "
                     "could change this stack",
                     rel, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    if ((size_t)st.st_size > BAST_MAX_CONF_BYTES) {
        fclose(fp);
        bast__seterr(err, errlen, "%s: larger than 1 MiB", rel);
        return -1;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, fp) : 0;
    fclose(fp);
    if (buf == NULL) {
        bast__seterr(err, errlen, "%s: out of memory", rel);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* Parse `path` into sections.  Used for app files and bast.conf. */
static int
parse_file(struct bast__file *f, const char *path, char *err, size_t errlen)
{
    char *buf;
    size_t len;
    if (slurp(path, f->rel, &buf, &len, err, errlen) != 0)
        return -1;
    struct reader r = {buf, len, 0, 0, f, err, errlen, 0};
    char *line = malloc(BAST_MAX_LINE + 2);
    int rc = line ? ini_parse_stream(read_line, &r, on_key, &r) : -2;
    free(line);
    free(buf);
    if (r.failed)
        return -1;
    if (rc != 0) {
        bast__seterr(err, errlen,
                     "%s:%d: syntax error (expected "
                     "[section], key = value or a comment)",
                     f->rel, rc > 0 ? rc : r.line);
        return -1;
    }
    return 0;
}

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
kv_get(const struct section *s, const char *key, int *line)
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
build_module(bast_ctx *ctx, struct bast__file *f, const struct section *s,
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
        const struct kv *kv = &s->kv[i];
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
    f->ent = calloc(f->nsec ? f->nsec : 1, sizeof(*f->ent));
    if (f->ent == NULL)
        FERR(0, "out of memory");
    for (size_t i = 0; i < f->nsec; i++) {
        const struct section *s = &f->sec[i];
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
    for (size_t i = 0; i < f->nsec; i++) {
        for (size_t k = 0; k < f->sec[i].nkv; k++) {
            free(f->sec[i].kv[k].key);
            free(f->sec[i].kv[k].value);
        }
        free(f->sec[i].kv);
        free(f->sec[i].name);
    }
    free(f->sec);
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
    if (parse_file(f, path, err, errlen) != 0 ||
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

/* bast.conf: [bast] plugin_dir, audit, replay.  Values are returned in
 * the caller's buffers; absent keys leave them empty. */
int bast__global_conf(const char *confdir, char *plugin_dir, size_t pdlen,
                      char *audit, size_t alen, char *replay, size_t rlen,
                      char *err, size_t errlen);

int
bast__global_conf(const char *confdir, char *plugin_dir, size_t pdlen,
                  char *audit, size_t alen, char *replay, size_t rlen,
                  char *err, size_t errlen)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof(path), "%s/bast.conf", confdir);
    if (stat(path, &st) != 0 && errno == ENOENT)
        return 0;
    struct bast__file f = {0};
    f.rel = (char *)"bast.conf";
    int rc = parse_file(&f, path, err, errlen);
    for (size_t i = 0; rc == 0 && i < f.nsec; i++) {
        const struct section *s = &f.sec[i];
        if (strcmp(s->name, "bast") != 0) {
            bast__seterr(err, errlen,
                         "bast.conf:%d: [%s]: unknown section "
                         "(only [bast])",
                         s->line, s->name);
            rc = -1;
            break;
        }
        for (size_t k = 0; rc == 0 && k < s->nkv; k++) {
            const struct kv *kv = &s->kv[k];
            char *dst = NULL;
            size_t dl = 0;
            if (strcmp(kv->key, "plugin_dir") == 0) {
                dst = plugin_dir;
                dl = pdlen;
            } else if (strcmp(kv->key, "audit") == 0) {
                dst = audit;
                dl = alen;
            } else if (strcmp(kv->key, "replay") == 0) {
                dst = replay;
                dl = rlen;
            }
            if (dst == NULL) {
                bast__seterr(err, errlen,
                             "bast.conf:%d: %s: unknown key "
                             "(plugin_dir, audit, replay)",
                             kv->line, kv->key);
                rc = -1;
            } else if (snprintf(dst, dl, "%s", kv->value) >= (int)dl) {
                bast__seterr(err, errlen, "bast.conf:%d: %s: too long",
                             kv->line, kv->key);
                rc = -1;
            }
        }
    }
    f.rel = NULL;
    for (size_t i = 0; i < f.nsec; i++) {
        for (size_t k = 0; k < f.sec[i].nkv; k++) {
            free(f.sec[i].kv[k].key);
            free(f.sec[i].kv[k].value);
        }
        free(f.sec[i].kv);
        free(f.sec[i].name);
    }
    free(f.sec);
    return rc;
}
