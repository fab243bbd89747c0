/*
 * admin.c - `bast apikey issue|list|show|revoke|rotate` on the instance's
 * store.  issue --user U --name N [--scopes "a b"] [--expires 90d];
 * list [--user U]; show ID; revoke ID; rotate ID [--grace 24h]
 * [--expires D]; --json everywhere.  The raw key is printed once, by issue
 * and rotate, and is never stored; list and show print no hashes.
 * Exit 0 ok, 1 failure (message on stderr), 2 usage.
 */
#include "ak.h"
#include "bast_plugin.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIELD_MAX 256
#define SCOPE_MAX 128
#define SCOPES_MAX 32

typedef struct args {
    const char *user, *name, *scopes, *expires, *grace, *id;
    int json;
} args;

static int
usage_to(FILE *f, const char *msg)
{
    if (msg)
        fprintf(stderr, "bast apikey: %s\n", msg);
    fprintf(f, "usage: bast apikey --app APP --module NAME COMMAND\n"
               "  issue --user U --name N [--scopes \"a b\"] [--expires 90d]"
               " [--json]\n"
               "  list [--user U] [--json]\n"
               "  show ID [--json]\n"
               "  revoke ID [--json]\n"
               "  rotate ID [--grace 24h] [--expires D] [--json]\n");
    return 2;
}

static int
usage(const char *msg)
{
    return usage_to(stderr, msg);
}

static int
parse_args(int argc, char **argv, args *a)
{
    static const char *const names[] = {"--user", "--name", "--scopes",
                                        "--expires", "--grace"};
    const char **slot[] = {&a->user, &a->name, &a->scopes, &a->expires,
                           &a->grace};
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i], *val = NULL;
        size_t k, n = strcspn(w, "=");
        if (strcmp(w, "--json") == 0) {
            a->json = 1;
            continue;
        }
        if (w[0] != '-') {
            if (a->id)
                return usage("more than one key id");
            a->id = w;
            continue;
        }
        for (k = 0; k < sizeof names / sizeof names[0]; k++)
            if (strlen(names[k]) == n && strncmp(w, names[k], n) == 0)
                break;
        if (k == sizeof names / sizeof names[0]) {
            fprintf(stderr, "bast apikey: unknown option %s\n", w);
            return usage(NULL);
        }
        if (w[n] == '=')
            val = w + n + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            fprintf(stderr, "bast apikey: %s needs a value\n", names[k]);
            return usage(NULL);
        }
        if (*slot[k]) {
            fprintf(stderr, "bast apikey: %s given twice\n", names[k]);
            return usage(NULL);
        }
        *slot[k] = val;
    }
    return 0;
}

/* Owner and key names: UTF-8, no control bytes, bounded. */
static int
field_ok(const char *what, const char *s)
{
    json_t *t;
    if (!s || !*s || strlen(s) > FIELD_MAX) {
        fprintf(stderr, "bast apikey: --%s: 1 to %d characters\n", what,
                FIELD_MAX);
        return 0;
    }
    /* jansson refuses invalid UTF-8: the same test the JSON output needs */
    if (!(t = json_string(s))) {
        fprintf(stderr, "bast apikey: --%s: not valid UTF-8\n", what);
        return 0;
    }
    json_decref(t);
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            fprintf(stderr, "bast apikey: --%s: control characters\n", what);
            return 0;
        }
    return 1;
}

/* Scopes: space-separated words of visible ASCII; normalised into out. */
static int
scopes_norm(const char *in, char *out, size_t len)
{
    size_t j = 0, words = 0;
    out[0] = '\0';
    while (in && *in) {
        size_t n;
        while (*in == ' ' || *in == '\t')
            in++;
        if (!*in)
            break;
        n = strcspn(in, " \t");
        for (size_t i = 0; i < n; i++)
            if (in[i] < 0x21 || in[i] > 0x7e || in[i] == '"' || in[i] == '\\') {
                fprintf(stderr, "bast apikey: --scopes: bad character\n");
                return -1;
            }
        if (n > SCOPE_MAX || ++words > SCOPES_MAX || j + n + 2 > len) {
            fprintf(stderr, "bast apikey: --scopes: too many or too long\n");
            return -1;
        }
        if (j)
            out[j++] = ' ';
        memcpy(out + j, in, n);
        j += n;
        out[j] = '\0';
        in += n;
    }
    return 0;
}

static int
duration(const char *flag, const char *v, long long min, long long *out)
{
    bast_option o = {flag, v, "command line", 0};
    char err[256];
    if (bast_opt_duration(&o, min, 100LL * 365 * 86400, out, err, sizeof err) !=
        0) {
        fprintf(stderr, "bast apikey: %s\n", err);
        return -1;
    }
    return 0;
}

static void
fmt_time(int64_t t, char *buf, size_t len)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!t || !gmtime_r(&tt, &tm) ||
        !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, len, "-");
}

static const char *
status(const ak_rec *r, int64_t now)
{
    if (r->revoked_at)
        return "revoked";
    if (r->expires_at && now >= r->expires_at)
        return "expired";
    if (r->replaced_by)
        return "rotating";
    return "active";
}

static json_t *
jtime(int64_t t)
{
    return t ? json_integer(t) : json_null();
}

static json_t *
rec_json(const ak_rec *r, int64_t now)
{
    json_t *sc = json_array(), *o;
    const char *p = r->scopes;
    while (p && *p) {
        size_t n = strcspn(p, " ");
        json_array_append_new(sc, json_stringn(p, n));
        p += n;
        while (*p == ' ')
            p++;
    }
    o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o}",
                  "id", r->id, "user", r->user, "name", r->name, "prefix",
                  r->prefix, "scopes", sc, "status", status(r, now),
                  "created_at", json_integer(r->created_at), "expires_at",
                  jtime(r->expires_at), "last_used_at", jtime(r->last_used_at),
                  "revoked_at", jtime(r->revoked_at), "last_ip",
                  r->last_ip ? json_string(r->last_ip) : json_null());
    if (o && r->replaced_by)
        json_object_set_new(o, "replaced_by", json_string(r->replaced_by));
    return o;
}

static void
print_json(json_t *o)
{
    char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (t)
        printf("%s\n", t);
    free(t);
}

static void
print_rec(const ak_rec *r, int64_t now)
{
    char c[32], e[32], u[32], v[32];
    fmt_time(r->created_at, c, sizeof c);
    fmt_time(r->expires_at, e, sizeof e);
    fmt_time(r->last_used_at, u, sizeof u);
    fmt_time(r->revoked_at, v, sizeof v);
    printf("id:          %s\nuser:        %s\nname:        %s\n"
           "prefix:      %s...\nscopes:      %s\nstatus:      %s\n"
           "created:     %s\nexpires:     %s\nlast used:   %s\n"
           "last ip:     %s\nrevoked:     %s\n",
           r->id, r->user, r->name, r->prefix, r->scopes, status(r, now), c, e,
           u, r->last_ip ? r->last_ip : "-", v);
    if (r->replaced_by)
        printf("replaced by: %s\n", r->replaced_by);
}

/* Make a key and its record; key is wiped by the caller. */
static int
new_key(const ak_conf *c, ak_rec *r, char *key, size_t keylen)
{
    char disp[AK_PREFIX_MAX + AK_SHOW_CHARS + 1];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    int ret = -1;

    if (ctx && md && ak_key_generate(c->prefix, key, keylen) == 0 &&
        ak_id_generate(r->id, sizeof r->id) == 0 &&
        ak_key_digest(ctx, md, key, strlen(key), r->hash) == 0) {
        ak_key_display(c->prefix, key, disp, sizeof disp);
        ret = (r->prefix = strdup(disp)) ? 0 : -1;
    }
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    if (ret != 0)
        fprintf(stderr, "bast apikey: cannot generate a key\n");
    return ret;
}

/* Print a new key once.  -1 when it could not be printed: the key is
 * stored but nobody has it, so say which id to revoke. */
static int
print_new(const ak_rec *r, const char *key, int json, const char *old)
{
    if (json) {
        json_t *o = rec_json(r, r->created_at);
        char *t;
        if (o) {
            json_object_set_new(o, "key", json_string(key));
            if (old)
                json_object_set_new(o, "replaces", json_string(old));
        }
        t = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!t) {
            fprintf(stderr,
                    "bast apikey: key %s stored but not printed:"
                    " revoke it\n",
                    r->id);
            return -1;
        }
        printf("%s\n", t);
        OPENSSL_cleanse(t, strlen(t));
        free(t);
    } else {
        print_rec(r, r->created_at);
        printf("key:         %s\n", key);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr,
                "bast apikey: key %s stored but not printed:"
                " revoke it\n",
                r->id);
        return -1;
    }
    fprintf(stderr, "bast apikey: store this key now: it is not shown again\n");
    return 0;
}

static int
cmd_issue(const ak_conf *c, ak_store *st, const args *a)
{
    char key[AK_KEY_MAX + 1], scopes[SCOPES_MAX * (SCOPE_MAX + 1) + 1],
        err[512];
    ak_rec r = {0};
    long long exp = 0;
    int ret = 1;

    if (a->id || a->grace)
        return usage("issue takes --user, --name, --scopes, --expires");
    if (!field_ok("user", a->user) || !field_ok("name", a->name))
        return 2;
    if (scopes_norm(a->scopes, scopes, sizeof scopes) != 0 ||
        (a->expires && duration("--expires", a->expires, 1, &exp) != 0))
        return 2;
    r.created_at = (int64_t)time(NULL);
    r.expires_at = exp ? r.created_at + exp : 0;
    if (new_key(c, &r, key, sizeof key) != 0)
        goto done;
    r.user = (char *)a->user;
    r.name = (char *)a->name;
    r.scopes = scopes;
    if (ak_store_insert(st, &r, err, sizeof err) != 0) {
        fprintf(stderr, "bast apikey: %s\n", err);
        r.user = r.name = r.scopes = NULL;
        goto done;
    }
    ret = print_new(&r, key, a->json, NULL) == 0 ? 0 : 1;
    r.user = r.name = r.scopes = NULL;
done:
    OPENSSL_cleanse(key, sizeof key);
    ak_rec_clear(&r);
    return ret;
}

typedef struct lister {
    int json;
    int64_t now;
    json_t *arr;
    size_t n;
} lister;

static int
list_one(void *arg, const ak_rec *r)
{
    lister *l = arg;
    char e[32], u[32];
    if (l->json)
        return json_array_append_new(l->arr, rec_json(r, l->now));
    if (l->n++ == 0)
        printf("%-16s %-16s %-16s %-22s %-9s %-20s %-20s %s\n", "ID", "USER",
               "NAME", "PREFIX", "STATUS", "EXPIRES", "LAST USED", "SCOPES");
    fmt_time(r->expires_at, e, sizeof e);
    fmt_time(r->last_used_at, u, sizeof u);
    printf("%-16s %-16s %-16s %-22s %-9s %-20s %-20s %s\n", r->id, r->user,
           r->name, r->prefix, status(r, l->now), e, u, r->scopes);
    return 0;
}

static int
cmd_list(ak_store *st, const args *a)
{
    lister l = {a->json, (int64_t)time(NULL), json_array(), 0};
    char err[512];
    int ret = 0;
    if (a->id || a->name || a->scopes || a->expires || a->grace)
        ret = usage("list takes only --user");
    else if (ak_store_list(st, a->user, list_one, &l, err, sizeof err) != 0) {
        fprintf(stderr, "bast apikey: %s\n", err);
        ret = 1;
    } else if (a->json) {
        print_json(l.arr);
    } else if (l.n == 0) {
        fprintf(stderr, "bast apikey: no keys%s%s\n",
                a->user ? " for user " : "", a->user ? a->user : "");
    }
    json_decref(l.arr);
    return ret;
}

static int
get_or_fail(ak_store *st, const char *id, ak_rec *r)
{
    char err[512];
    int rc = ak_store_get(st, id, r, err, sizeof err);
    if (rc == 1)
        fprintf(stderr, "bast apikey: no such key: %s\n", id);
    else if (rc < 0)
        fprintf(stderr, "bast apikey: %s\n", err);
    return rc;
}

static int
cmd_show(ak_store *st, const args *a)
{
    ak_rec r;
    if (!a->id || a->user || a->name || a->scopes || a->expires || a->grace)
        return usage("show takes one key id");
    if (get_or_fail(st, a->id, &r) != 0)
        return 1;
    if (a->json) {
        json_t *o = rec_json(&r, (int64_t)time(NULL));
        print_json(o);
        json_decref(o);
    } else {
        print_rec(&r, (int64_t)time(NULL));
    }
    ak_rec_clear(&r);
    return 0;
}

static int
cmd_revoke(ak_store *st, const args *a)
{
    char err[512];
    int rc;
    if (!a->id || a->user || a->name || a->scopes || a->expires || a->grace)
        return usage("revoke takes one key id");
    rc = ak_store_revoke(st, a->id, (int64_t)time(NULL), err, sizeof err);
    if (rc < 0 || rc == 2) {
        fprintf(stderr, "bast apikey: %s\n", err);
        return 1;
    }
    if (a->json) {
        json_t *o = json_pack("{s:s, s:b, s:b}", "id", a->id, "revoked", 1,
                              "already", rc == 0);
        print_json(o);
        json_decref(o);
    } else
        printf("%s: %s\n", a->id, rc == 0 ? "already revoked" : "revoked");
    return 0;
}

static int
cmd_rotate(const ak_conf *c, ak_store *st, const args *a)
{
    char key[AK_KEY_MAX + 1], err[512];
    ak_rec old, r = {0};
    long long grace = c->grace, exp = 0;
    int64_t now = (int64_t)time(NULL);
    int rc, ret = 1;

    if (!a->id || a->user || a->name || a->scopes)
        return usage("rotate takes one key id, --grace and --expires");
    if ((a->grace && duration("--grace", a->grace, 0, &grace) != 0) ||
        (a->expires && duration("--expires", a->expires, 1, &exp) != 0))
        return 2;
    if (get_or_fail(st, a->id, &old) != 0)
        return 1;
    r.created_at = now;
    /* The replacement keeps the old key's lifetime unless told. */
    if (exp)
        r.expires_at = now + exp;
    else if (old.expires_at)
        r.expires_at = now + (old.expires_at - old.created_at);
    if (new_key(c, &r, key, sizeof key) != 0)
        goto done;
    r.user = old.user;
    r.name = old.name;
    r.scopes = old.scopes;
    rc = ak_store_rotate(st, a->id, &r, now + grace, now, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "bast apikey: %s\n", err);
    } else {
        if (print_new(&r, key, a->json, a->id) != 0)
            goto clear;
        if (!a->json) {
            char t[32];
            int64_t until = now + grace;
            if (old.expires_at && old.expires_at < until)
                until = old.expires_at;
            fmt_time(until, t, sizeof t);
            printf("old key %s stays valid until %s\n", a->id, t);
        }
        ret = 0;
    }
clear:
    r.user = r.name = r.scopes = NULL;
done:
    OPENSSL_cleanse(key, sizeof key);
    ak_rec_clear(&r);
    ak_rec_clear(&old);
    return ret;
}

int
ak_admin(const ak_conf *c, const struct bast_instance *inst, int argc,
         char **argv)
{
    ak_store *st = NULL;
    char err[512];
    const char *cmd;
    args a;
    int ret;

    (void)inst;
    if (argc < 1)
        return usage("a command is needed");
    cmd = argv[0];
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
            (i == 0 && strcmp(argv[i], "help") == 0)) {
            usage_to(stdout, NULL);
            return 0;
        }
    if (strcmp(cmd, "issue") && strcmp(cmd, "list") && strcmp(cmd, "show") &&
        strcmp(cmd, "revoke") && strcmp(cmd, "rotate")) {
        fprintf(stderr, "bast apikey: unknown command %s\n", cmd);
        return usage(NULL);
    }
    if ((ret = parse_args(argc, argv, &a)) != 0)
        return ret;
    if (ak_store_open(c->path, &st, err, sizeof err) != 0) {
        fprintf(stderr, "bast apikey: %s\n", err);
        return 1;
    }
    if (strcmp(cmd, "issue") == 0)
        ret = cmd_issue(c, st, &a);
    else if (strcmp(cmd, "list") == 0)
        ret = cmd_list(st, &a);
    else if (strcmp(cmd, "show") == 0)
        ret = cmd_show(st, &a);
    else if (strcmp(cmd, "revoke") == 0)
        ret = cmd_revoke(st, &a);
    else
        ret = cmd_rotate(c, st, &a);
    ak_store_close(st);
    return ret;
}
