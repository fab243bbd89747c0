/*
 * result.c - the result of one bast_verify(): decision, HTTP status,
 * identity, scheme, deciding module, error and description, challenges,
 * attributes (a jansson object) and the trace.  Strings the result owns
 * live in a small arena that is freed with it; instance and app names are
 * borrowed from the context.  Also the JSON form printed by `bast verify`.
 */
#include "bast_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct bast__chunk {
    struct bast__chunk *next;
    size_t used, cap;
    char data[];
};

/* A result, its trace and a first arena come in one allocation: the
 * common verify allocates nothing else. */
#define FIRST_ARENA 448

static struct bast__chunk *
embedded_chunk(const bast_result *res)
{
    return (struct bast__chunk *)(void *)(res->trace + res->captrace);
}

bast_result *
bast__result_new(const char *app, size_t nmodules)
{
    size_t nt = nmodules ? nmodules : 1;
    bast_result *res = malloc(sizeof(*res) + nt * sizeof(*res->trace) +
                              sizeof(struct bast__chunk) + FIRST_ARENA);
    if (res == NULL)
        return NULL;
    memset(res, 0, sizeof(*res));
    res->attrs = res->attrs0;
    res->capattrs = BAST_ATTRS_INLINE;
    res->decision = BAST_DENY;
    res->status = 401;
    res->app = app;
    res->captrace = nt;
    res->trace = (struct bast__trace *)(void *)(res + 1);
    struct bast__chunk *c = embedded_chunk(res);
    c->next = NULL;
    c->used = 0;
    c->cap = FIRST_ARENA;
    res->chunks = c;
    return res;
}

void
bast_result_free(bast_result *res)
{
    if (res == NULL)
        return;
    struct bast__chunk *c = res->chunks, *first = embedded_chunk(res);
    while (c) {
        struct bast__chunk *next = c->next;
        if (c != first)
            free(c);
        c = next;
    }
    if (res->attrs != res->attrs0)
        free(res->attrs);
    free(res->challenges);
    free(res);
}

const char *
bast__result_strdup(bast_result *res, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = bast__result_alloc(res, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *
bast__result_alloc(bast_result *res, size_t n)
{
    struct bast__chunk *c = res->chunks;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > 1024 ? n : 1024;
        struct bast__chunk *nc = malloc(sizeof(*nc) + cap);
        if (nc == NULL)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        nc->next = res->chunks;
        res->chunks = nc;
        c = nc;
    }
    char *p = c->data + c->used;
    c->used += n;
    return p;
}

int
bast__result_add_challenge(bast_result *res, const char *ch)
{
    for (size_t i = 0; i < res->nchallenges; i++)
        if (strcmp(res->challenges[i], ch) == 0)
            return 0;
    if (res->nchallenges == res->capchallenges) {
        size_t cap = res->capchallenges ? res->capchallenges * 2 : 4;
        const char **n = realloc(res->challenges, cap * sizeof(*n));
        if (n == NULL)
            return -1;
        res->challenges = n;
        res->capchallenges = cap;
    }
    const char *c = bast__result_strdup(res, ch);
    if (c == NULL)
        return -1;
    res->challenges[res->nchallenges++] = c;
    return 0;
}

int
bast__result_raw(const bast_result *res)
{
    return res->raw;
}

bast_decision
bast_result_decision(const bast_result *res)
{
    return res && res->decision == BAST_ALLOW ? BAST_ALLOW : BAST_DENY;
}

int
bast_result_status(const bast_result *res)
{
    return res ? res->status : 500;
}

const char *
bast_result_app(const bast_result *res)
{
    return res ? res->app : NULL;
}

const char *
bast_result_identity(const bast_result *res)
{
    return res ? res->identity : NULL;
}

const char *
bast_result_scheme(const bast_result *res)
{
    return res ? res->scheme : NULL;
}

const char *
bast_result_module(const bast_result *res)
{
    return res ? res->module : NULL;
}

const char *
bast_result_error(const bast_result *res)
{
    return res ? res->error : NULL;
}

const char *
bast_result_error_description(const bast_result *res)
{
    return res ? res->error_description : NULL;
}

size_t
bast_result_challenge_count(const bast_result *res)
{
    return res ? res->nchallenges : 0;
}

const char *
bast_result_challenge(const bast_result *res, size_t i)
{
    return res && i < res->nchallenges ? res->challenges[i] : NULL;
}

char *
bast_result_attributes_json(const bast_result *res)
{
    if (res == NULL || res->nattrs == 0)
        return strdup("{}");
    json_t *o = bast__attrs_json(res);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

size_t
bast_result_trace_count(const bast_result *res)
{
    return res ? res->ntrace : 0;
}

const char *
bast_result_trace_module(const bast_result *res, size_t i)
{
    return res && i < res->ntrace ? res->trace[i].inst->name : NULL;
}

const char *
bast_result_trace_result(const bast_result *res, size_t i)
{
    return res && i < res->ntrace ? bast__res_name(res->trace[i].result) : NULL;
}

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

char *
bast_result_to_json(const bast_result *res)
{
    if (res == NULL)
        return NULL;
    json_t *o = json_object();
    json_t *ch = json_array();
    json_t *tr = json_array();
    if (o == NULL || ch == NULL || tr == NULL) {
        json_decref(o);
        json_decref(ch);
        json_decref(tr);
        return NULL;
    }
    json_object_set_new(
        o, "decision",
        json_string(res->decision == BAST_ALLOW ? "allow" : "deny"));
    json_object_set_new(o, "status", json_integer(res->status));
    json_object_set_new(o, "app", str_or_null(res->app));
    json_object_set_new(o, "identity", str_or_null(res->identity));
    json_object_set_new(o, "scheme", str_or_null(res->scheme));
    json_object_set_new(o, "module", str_or_null(res->module));
    json_object_set_new(o, "error", str_or_null(res->error));
    json_object_set_new(o, "error_description",
                        str_or_null(res->error_description));
    for (size_t i = 0; i < res->nchallenges; i++)
        json_array_append_new(ch, json_string(res->challenges[i]));
    json_object_set_new(o, "challenges", ch);
    json_t *attrs = res->nattrs ? bast__attrs_json(res) : json_object();
    json_object_set_new(o, "attributes", attrs ? attrs : json_object());
    for (size_t i = 0; i < res->ntrace; i++) {
        const struct bast__trace *t = &res->trace[i];
        const char *plugin = t->inst->plugin ? t->inst->plugin->name : NULL;
        json_array_append_new(
            tr, json_pack("{s:s, s:s?, s:s, s:s, s:s?, s:I}", "module",
                          t->inst->name, "plugin", plugin, "control",
                          t->inst->control, "result", bast__res_name(t->result),
                          "error", t->error, "us", (json_int_t)t->us));
    }
    json_object_set_new(o, "trace", tr);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}
