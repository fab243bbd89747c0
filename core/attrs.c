/*
 * attrs.c - a result's attributes as a flat list (key, type, value) with
 * their strings in the result's arena.  Building JSON values for every
 * attribute of every request cost more than some whole verifications, and
 * most hosts never read them, so the JSON object is made only when the
 * result is printed.  A key set twice by one module keeps the last value;
 * across modules the first module to set a key wins.
 */
#include "bast_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int
bast__attr_set(bast_result *res, size_t mark, const char *key, int type,
               const char *s, size_t len, size_t n, long long i)
{
    if (key == NULL || *key == '\0')
        return -1;
    struct bast__attr *a = NULL;
    for (size_t k = mark; k < res->nattrs; k++)
        if (strcmp(res->attrs[k].key, key) == 0)
            a = &res->attrs[k];
    if (a == NULL) {
        if (res->nattrs == res->capattrs) {
            size_t cap = res->capattrs * 2;
            struct bast__attr *na;
            if (res->attrs == res->attrs0) {
                na = malloc(cap * sizeof(*na));
                if (na)
                    memcpy(na, res->attrs0, sizeof(res->attrs0));
            } else {
                na = realloc(res->attrs, cap * sizeof(*na));
            }
            if (na == NULL)
                return -1;
            res->attrs = na;
            res->capattrs = cap;
        }
        a = &res->attrs[res->nattrs];
        a->key = bast__result_strdup(res, key);
        if (a->key == NULL)
            return -1;
        res->nattrs++;
    }
    a->type = type;
    a->i = i;
    a->n = n;
    a->s = s;
    if (s && len) {
        char *copy = bast__result_alloc(res, len);
        if (copy == NULL)
            return -1;
        memcpy(copy, s, len);
        a->s = copy;
    }
    return 0;
}

static json_t *
value(const struct bast__attr *a)
{
    switch (a->type) {
    case BAST_ATTR_STR:
        return json_string(a->s);
    case BAST_ATTR_INT:
        return json_integer((json_int_t)a->i);
    case BAST_ATTR_STRV: {
        json_t *arr = json_array();
        const char *p = a->s;
        for (size_t k = 0; arr && k < a->n; k++) {
            json_array_append_new(arr, json_string(p));
            p += strlen(p) + 1;
        }
        return arr;
    }
    default:
        return json_loads(a->s, JSON_DECODE_ANY, NULL);
    }
}

void *
bast__attrs_json(const bast_result *res)
{
    json_t *o = json_object();
    for (size_t k = 0; o && k < res->nattrs; k++) {
        const struct bast__attr *a = &res->attrs[k];
        if (json_object_get(o, a->key) == NULL)
            json_object_set_new(o, a->key, value(a));
    }
    return o;
}
