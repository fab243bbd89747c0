/*
 * describe.c - what `bast check` shows: each stack as it will run (with
 * levels, controls and where each entry was written), and the lint run at
 * load: empty stacks, stacks that can never allow, modules that can never
 * run, Basic without a `paths` restriction, and `sufficient` modules after
 * which nothing can change the decision.  Also bast_admin(), which hands
 * a management command to the plugin of one instance.
 */
#include "bast_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void warn(bast_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
warn(bast_ctx *ctx, const char *fmt, ...)
{
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < ctx->nwarnings; i++)
        if (strcmp(ctx->warnings[i], buf) == 0)
            return;
    char **l = realloc(ctx->warnings, (ctx->nwarnings + 1) * sizeof(*l));
    if (l == NULL)
        return;
    ctx->warnings = l;
    if ((l[ctx->nwarnings] = strdup(buf)) != NULL)
        ctx->nwarnings++;
}

static int
always_ends(const struct bast_instance *in)
{
    for (int r = 1; r < BAST_RES__COUNT; r++)
        if (in->actions[r] != BAST_ACT_DONE && in->actions[r] != BAST_ACT_DIE)
            return 0;
    return in->npaths == 0 && in->nmethods == 0;
}

static int
passive(const struct bast_instance *in)
{
    /* cannot change the decision once a sufficient success has ended it,
     * nor block one: only ignore/ok actions on failure */
    for (int r = 1; r < BAST_RES__COUNT; r++)
        if (r != BAST_RES_SUCCESS && in->actions[r] != BAST_ACT_IGNORE)
            return 0;
    return 1;
}

static void
lint_app(bast_ctx *ctx, const struct bast__app *a)
{
    if (a->nmodules == 0) {
        warn(ctx, "%s: the stack has no modules: every request is denied",
             a->name);
        return;
    }
    int can_allow = 0, jumps = 0;
    for (size_t i = 0; i < a->n; i++) {
        const struct bast_instance *in = a->h[i].inst;
        if (in == NULL)
            continue;
        bast_action s = in->actions[BAST_RES_SUCCESS];
        if (s == BAST_ACT_OK || s == BAST_ACT_DONE)
            can_allow = 1;
        for (int r = 1; r < BAST_RES__COUNT; r++)
            if (in->actions[r] > 0)
                jumps = 1;
        if (in->plugin && strcmp(in->plugin->name, "basic") == 0 &&
            in->npaths == 0)
            warn(ctx,
                 "%s:%d: [%s]: basic without a `paths` restriction: "
                 "Basic belongs on the token endpoint only (e.g. paths = "
                 "/oauth/token)",
                 in->file, in->line, in->name);
    }
    if (!can_allow)
        warn(ctx,
             "%s: no module's success maps to ok or done: the stack "
             "can never allow",
             a->name);
    if (jumps)
        return;
    for (size_t i = 0; i < a->n; i++) {
        const struct bast_instance *in = a->h[i].inst;
        if (in == NULL || a->h[i].level != 0)
            continue;
        if (always_ends(in) && i + 1 < a->n) {
            const struct bast_instance *next = NULL;
            for (size_t k = i + 1; k < a->n && next == NULL; k++)
                next = a->h[k].inst;
            if (next)
                warn(ctx,
                     "%s: [%s] ends the stack on every result: [%s] "
                     "and what follows can never run",
                     a->name, in->name, next->name);
            break;
        }
        if (in->actions[BAST_RES_SUCCESS] == BAST_ACT_DONE && i + 1 < a->n) {
            int all_passive = 1;
            for (size_t k = i + 1; k < a->n && all_passive; k++)
                if (a->h[k].inst && !passive(a->h[k].inst))
                    all_passive = 0;
            if (all_passive)
                warn(ctx,
                     "%s: after [%s] (success=done) only modules that "
                     "ignore failures follow: they cannot change the "
                     "decision",
                     a->name, in->name);
        }
    }
}

void
bast__config_lint(bast_ctx *ctx)
{
    for (size_t i = 0; i < ctx->napps; i++)
        lint_app(ctx, &ctx->apps[i]);
}

static const char *
action_word(bast_action a, char *buf, size_t len)
{
    switch (a) {
    case BAST_ACT_IGNORE:
        return "ignore";
    case BAST_ACT_OK:
        return "ok";
    case BAST_ACT_DONE:
        return "done";
    case BAST_ACT_BAD:
        return "bad";
    case BAST_ACT_DIE:
        return "die";
    case BAST_ACT_RESET:
        return "reset";
    default:
        snprintf(buf, len, "%d", a);
        return buf;
    }
}

char *
bast_stack_describe(const bast_ctx *ctx, const char *app)
{
    const struct bast__app *a = NULL;
    for (size_t i = 0; ctx && i < ctx->napps; i++)
        if (strcmp(ctx->apps[i].name, app) == 0)
            a = &ctx->apps[i];
    if (a == NULL)
        return NULL;
    char *out = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&out, &len);
    if (fp == NULL)
        return NULL;
    fprintf(fp, "app %s (conf.d/%s.conf), realm \"%s\", %zu module%s\n",
            a->name, a->name, a->realm, a->nmodules,
            a->nmodules == 1 ? "" : "s");
    size_t num = 0;
    for (size_t i = 0; i < a->n; i++) {
        const struct bast_instance *in = a->h[i].inst;
        int indent = 2 + 4 * a->h[i].level;
        if (in == NULL) {
            fprintf(fp, "%*s(substack)\n", indent, "");
            continue;
        }
        char b[8];
        fprintf(fp, "%*s%2zu. %-20s %-8s %-12s", indent, "", ++num, in->name,
                in->plugin->desc ? in->plugin->name : "(missing)", in->control);
        fprintf(fp, " [");
        for (int r = 1; r < BAST_RES__COUNT; r++)
            fprintf(fp, "%s%s=%s", r > 1 ? " " : "", bast__res_name(r),
                    action_word(in->actions[r], b, sizeof(b)));
        fprintf(fp, "]");
        if (in->npaths) {
            fprintf(fp, " paths:");
            for (size_t k = 0; k < in->npaths; k++)
                fprintf(fp, " %s", in->paths[k]);
        }
        if (in->nmethods) {
            fprintf(fp, " methods:");
            for (size_t k = 0; k < in->nmethods; k++)
                fprintf(fp, " %s", in->methods[k]);
        }
        if (!in->bind_identity)
            fprintf(fp, " bind_identity=no");
        fprintf(fp, "  (%s:%d)\n", in->file, in->line);
    }
    fclose(fp);
    return out;
}

int
bast_admin(bast_ctx *ctx, const char *app, const char *module,
           const char *plugin, int argc, char **argv)
{
    if (ctx == NULL || app == NULL || module == NULL)
        return 2;
    for (size_t i = 0; i < ctx->napps; i++) {
        const struct bast__app *a = &ctx->apps[i];
        if (strcmp(a->name, app) != 0)
            continue;
        for (size_t k = 0; k < a->n; k++) {
            const struct bast_instance *in = a->h[k].inst;
            if (in == NULL || strcmp(in->name, module) != 0)
                continue;
            const bast_plugin *d = in->plugin->desc;
            if (d == NULL || (plugin && strcmp(in->plugin->name, plugin))) {
                fprintf(stderr, "bast: %s/%s uses plugin '%s', not '%s'\n", app,
                        module, in->plugin->name, plugin ? plugin : "?");
                return 2;
            }
            if (d->size < offsetof(bast_plugin, admin) + sizeof(void *) ||
                d->admin == NULL) {
                fprintf(stderr,
                        "bast: plugin '%s' has no management "
                        "commands\n",
                        in->plugin->name);
                return 2;
            }
            return d->admin(in->state, in, argc, argv);
        }
        fprintf(stderr, "bast: app '%s' has no module [%s]\n", app, module);
        return 2;
    }
    fprintf(stderr, "bast: no app '%s'\n", app);
    return 2;
}
