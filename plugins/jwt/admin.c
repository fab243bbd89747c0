/*
 * admin.c - `bast jwt SUBCOMMAND --app APP --module NAME` for operators:
 * `keys` lists the keys the instance verifies with (kid, source,
 * algorithms; a jwks_uri set as fetched at this load), `revoke JTI...`
 * appends to the instance's jti_denylist (running contexts re-read it
 * within a second), `revoked` lists it, `inspect TOKEN` decodes a token
 * and says whether its signature holds with these keys (claims are not
 * judged).  `--json` gives machine-readable output.  Exit 0 ok, 1 failure,
 * 2 usage.
 */
#include "jwt.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
usage(FILE *f)
{
    fprintf(f, "usage: bast jwt keys|revoked [--json] --app APP --module M\n"
               "       bast jwt revoke JTI... [--ttl DURATION] --app APP "
               "--module M\n"
               "       bast jwt inspect TOKEN [--json] --app APP "
               "--module M\n");
}

static json_t *
key_json(const jwt_key *k, const char *source)
{
    json_t *o = json_object(), *a = json_array();
    for (int i = 0; i < JWT_NALGS; i++)
        if (k->algs & JWT_ALG_BIT(i))
            json_array_append_new(a, json_string(jwt_algs[i].name));
    json_object_set_new(o, "kid", k->kid ? json_string(k->kid) : json_null());
    json_object_set_new(o, "source", json_string(source));
    json_object_set_new(o, "algorithms", a);
    return o;
}

static void
add_keys(json_t *arr, const jwt_keyset *ks, const char *source)
{
    for (size_t i = 0; ks && i < ks->n; i++)
        json_array_append_new(arr, key_json(&ks->keys[i], source));
}

static int
print(json_t *v, int as_json, int (*text)(json_t *))
{
    int rc = 0;
    if (as_json) {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s)
            printf("%s\n", s);
        free(s);
    } else {
        rc = text(v);
    }
    json_decref(v);
    return rc;
}

static int
keys_text(json_t *arr)
{
    size_t i, j;
    json_t *k, *a;
    json_array_foreach(arr, i, k)
    {
        const char *kid = json_string_value(json_object_get(k, "kid"));
        printf("%-24s %-9s", kid ? kid : "-",
               json_string_value(json_object_get(k, "source")));
        json_array_foreach(json_object_get(k, "algorithms"), j, a)
            printf(" %s", json_string_value(a));
        printf("\n");
    }
    return 0;
}

static int
lines_text(json_t *arr)
{
    size_t i;
    json_t *s;
    json_array_foreach(arr, i, s) printf("%s\n", json_string_value(s));
    return 0;
}

/* Revoke into the replay store for `ttl` seconds: the store forgets the
 * jti when the token could no longer be valid anyway. */
static int
revoke_in_store(jwt_inst *ji, const char *jti, long long ttl)
{
    char key[300];
    int n = snprintf(key, sizeof(key), "revoked/%s", jti);
    int rc = bast_replay_check(ji->inst, key, (size_t)n, (unsigned)ttl,
                               (int64_t)time(NULL));
    if (rc == BAST_REPLAY_UNAVAILABLE) {
        fprintf(stderr, "bast jwt: the replay store failed\n");
        return 1;
    }
    return 0;
}

static int
cmd_revoke(jwt_inst *ji, int argc, char **argv)
{
    int fd = -1, rc = 0, nj = 0;
    long long ttl = ji->rules.max_lifetime ? ji->rules.max_lifetime : 86400;
    const char *jtis[64];
    if (!ji->deny && !ji->revocation_store) {
        fprintf(stderr, "bast jwt: the instance has no jti_denylist and no "
                        "revocation_store\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc) {
            bast_option o = {"--ttl", argv[++i], "command line", 0};
            char err[300];
            if (bast_opt_duration(&o, 1, 366LL * 86400, &ttl, err,
                                  sizeof(err)) != 0) {
                fprintf(stderr, "bast jwt: %s\n", err);
                return 2;
            }
            continue;
        }
        const char *p = argv[i];
        size_t n = strlen(p);
        if (n == 0 || n > 256 || *p == '#' || nj == 64)
            goto bad;
        for (; *p; p++)
            if ((unsigned char)*p < 0x21 || *p == 0x7f)
                goto bad;
        jtis[nj++] = argv[i];
        continue;
    bad:
        fprintf(stderr, "bast jwt: not a jti: '%s'\n", argv[i]);
        return 2;
    }
    if (nj == 0) {
        usage(stderr);
        return 2;
    }
    if (ji->deny &&
        (fd = open(jwt_denylist_path(ji->deny), O_WRONLY | O_APPEND)) < 0) {
        perror("bast jwt: jti_denylist");
        return 1;
    }
    /* one short write per jti: appends of this size are atomic */
    for (int i = 0; i < nj && rc == 0; i++) {
        char line[300];
        int n = snprintf(line, sizeof(line), "%s\n", jtis[i]);
        if (fd >= 0 && write(fd, line, (size_t)n) != n)
            rc = 1;
        else if (ji->revocation_store && revoke_in_store(ji, jtis[i], ttl))
            rc = 1;
        else
            printf("revoked %s\n", jtis[i]);
    }
    if (fd >= 0 && close(fd) < 0)
        rc = 1;
    return rc;
}

typedef struct inspect_arg {
    jwt_inst *ji;
    const jwt_token *t;
} inspect_arg;

static int
try_key(const jwt_key *k, void *arg)
{
    inspect_arg *a = arg;
    return jwt_sig_verify(a->ji->sig, a->t->alg, k,
                          (const unsigned char *)a->t->input, a->t->inlen,
                          a->t->sig, a->t->siglen) > 0;
}

static int
cmd_inspect(jwt_inst *ji, const char *tok, int as_json)
{
    jwt_token t;
    const char *why = NULL, *verdict = "unknown_key";
    inspect_arg a = {ji, &t};
    json_t *out, *claims;
    int seen = 0, s2 = 0, ok = 0;
    jwt_keyset *rs = ji->remote ? jwt_remote_get(ji->remote) : NULL;

    if (jwt_token_parse(tok, strlen(tok), &t, &why) < 0) {
        fprintf(stderr, "bast jwt: %s\n", why);
        jwt_keyset_unref(rs);
        return 1;
    }
    if (!(ji->allowed & JWT_ALG_BIT(t.alg)))
        verdict = "alg_not_allowed";
    else {
        if (ji->keys)
            ok = jwt_keyset_each(ji->keys, t.kid, t.alg, try_key, &a, &seen);
        if (!ok && rs)
            ok = jwt_keyset_each(rs, t.kid, t.alg, try_key, &a, &s2);
        verdict = ok ? "valid" : (seen || s2) ? "invalid" : "unknown_key";
    }
    claims = jwt_token_claims(&t, &why);
    out = json_object();
    json_object_set(out, "header", t.hdr);
    json_object_set_new(out, "claims",
                        claims ? claims : json_string(why ? why : "?"));
    json_object_set_new(out, "signature", json_string(verdict));
    if (!as_json) {
        char *h = json_dumps(t.hdr, JSON_INDENT(2) | JSON_SORT_KEYS);
        char *c =
            claims ? json_dumps(claims, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
        printf("header: %s\nclaims: %s\nsignature: %s\n", h ? h : "?",
               c ? c : (why ? why : "?"), verdict);
        free(h);
        free(c);
        json_decref(out);
    } else {
        print(out, 1, NULL);
    }
    jwt_token_clear(&t);
    jwt_keyset_unref(rs);
    return strcmp(verdict, "valid") == 0 ? 0 : 1;
}

int
jwt_admin(void *state, const bast_instance *inst, int argc, char **argv)
{
    jwt_inst *ji = state;
    int as_json = 0, n = 0;
    char *words[8];
    (void)inst;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (n < 8)
            words[n++] = argv[i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (n == 1 && strcmp(words[0], "keys") == 0) {
        json_t *arr = json_array();
        jwt_keyset *rs = ji->remote ? jwt_remote_get(ji->remote) : NULL;
        add_keys(arr, ji->keys, "file");
        add_keys(arr, rs, "jwks_uri");
        jwt_keyset_unref(rs);
        return print(arr, as_json, keys_text);
    }
    if (n == 1 && strcmp(words[0], "revoked") == 0) {
        json_t *arr = json_array();
        if (!ji->deny) {
            json_decref(arr);
            fprintf(stderr, "bast jwt: the instance has no jti_denylist\n");
            return 1;
        }
        if (jwt_denylist_each(ji->deny, arr) < 0) {
            json_decref(arr);
            fprintf(stderr, "bast jwt: cannot read the jti_denylist\n");
            return 1;
        }
        return print(arr, as_json, lines_text);
    }
    if (n >= 1 && strcmp(words[0], "revoke") == 0)
        return cmd_revoke(ji, n, words);
    if (n == 2 && strcmp(words[0], "inspect") == 0)
        return cmd_inspect(ji, words[1], as_json);
    usage(stderr);
    return 2;
}
