/*
 * pam_bast.c - a Linux-PAM module that accepts bast credentials: the
 * password the conversation returns (or PAM_AUTHTOK set by an earlier
 * module) is sent as a bearer credential (`Authorization: Bearer <pw>`,
 * or the raw value in `header=NAME`) through the stack of one bast app.
 *   auth    required pam_bast.so app=NAME [confdir=DIR] [plugin_dir=DIR]
 *                    [map=FILE | allow_any] [header=NAME] [method=M]
 *                    [path=P] [tls] [debug] [use_first_pass|try_first_pass]
 *   account required pam_bast.so app=NAME [scope=S] [account=reverify|stored]
 *                    [missing_ok]
 * auth succeeds only on allow with an identity equal to PAM_USER, or one
 * that FILE maps to PAM_USER (lines `IDENTITY USER...`), or any identity
 * with allow_any.  Results: PAM_SUCCESS; PAM_AUTH_ERR (denied, identity
 * mismatch); PAM_AUTHINFO_UNAVAIL (configuration or dependency failure,
 * status 503); PAM_SERVICE_ERR (bad module arguments).  account verifies
 * the same credential again (catching revocation and expiry since auth;
 * `account=stored` only re-checks what auth kept) and the scope.  The
 * credential is never logged; copies are wiped.
 */
#include "bast.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stddef.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#define PB_EXPORT __attribute__((visibility("default")))
#define DATA_KEY "pam_bast"
#define MAX_TOKEN 16384
#define MAX_MAP (1 << 20)

typedef struct args {
    const char *app, *confdir, *plugin_dir, *map, *header, *method, *path;
    const char *scope;
    int allow_any, tls, debug, stored, missing_ok;
} args;

/* What auth keeps for account, owned by the PAM handle. */
typedef struct state {
    bast_ctx *ctx;
    char *token;
    char *identity;
    char *attrs;
} state;

static int
parse_args(pam_handle_t *pamh, int argc, const char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    a->header = "Authorization";
    a->method = "GET";
    a->path = "/";
    static const struct {
        const char *key;
        size_t off;
    } kv[] = {{"app=", offsetof(args, app)},
              {"confdir=", offsetof(args, confdir)},
              {"plugin_dir=", offsetof(args, plugin_dir)},
              {"map=", offsetof(args, map)},
              {"header=", offsetof(args, header)},
              {"method=", offsetof(args, method)},
              {"path=", offsetof(args, path)},
              {"scope=", offsetof(args, scope)}};
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        int known = 0;
        for (size_t k = 0; k < sizeof kv / sizeof kv[0]; k++) {
            size_t n = strlen(kv[k].key);
            if (strncmp(s, kv[k].key, n) == 0 && s[n]) {
                *(const char **)(void *)((char *)a + kv[k].off) = s + n;
                known = 1;
            }
        }
        if (known)
            continue;
        if (strcmp(s, "allow_any") == 0)
            a->allow_any = 1;
        else if (strcmp(s, "tls") == 0)
            a->tls = 1;
        else if (strcmp(s, "debug") == 0)
            a->debug = 1;
        else if (strcmp(s, "missing_ok") == 0)
            a->missing_ok = 1;
        else if (strcmp(s, "account=stored") == 0)
            a->stored = 1;
        else if (strcmp(s, "account=reverify") == 0)
            a->stored = 0;
        else if (strcmp(s, "use_first_pass") != 0 &&
                 strcmp(s, "try_first_pass") != 0) {
            pam_syslog(pamh, LOG_ERR, "unknown option '%s'", s);
            return -1;
        }
    }
    if (!a->app) {
        pam_syslog(pamh, LOG_ERR, "app=NAME is required");
        return -1;
    }
    if (a->map && a->map[0] != '/') {
        pam_syslog(pamh, LOG_ERR, "map=%s: must be an absolute path", a->map);
        return -1;
    }
    if (a->map && a->allow_any) {
        pam_syslog(pamh, LOG_ERR, "map= and allow_any exclude each other");
        return -1;
    }
    return 0;
}

static void
wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void
state_free(pam_handle_t *pamh, void *data, int status)
{
    (void)pamh;
    (void)status;
    state *st = data;
    if (!st)
        return;
    wipe_free(st->token);
    free(st->identity);
    bast_free(st->attrs);
    bast_close(st->ctx);
    free(st);
}

/* Does FILE map `identity` to `user`?  1 yes, 0 no, -1 unusable file.
 * The file decides who may log in as whom, so it must not be writable by
 * anyone but its owner, and the owner must be root or us. */
static int
map_allows(pam_handle_t *pamh, const char *file, const char *identity,
           const char *user)
{
    FILE *f = fopen(file, "re");
    if (!f) {
        pam_syslog(pamh, LOG_ERR, "map %s: cannot open", file);
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) ||
        (st.st_mode & 022) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
        st.st_size > MAX_MAP) {
        pam_syslog(pamh, LOG_ERR,
                   "map %s: must be a regular file owned by root, not "
                   "group/world-writable, under 1 MiB",
                   file);
        fclose(f);
        return -1;
    }
    char line[1024];
    int found = 0, lineno = 0;
    while (!found && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            pam_syslog(pamh, LOG_ERR, "map %s:%d: line too long", file, lineno);
            fclose(f);
            return -1;
        }
        char *save = NULL, *w = strtok_r(line, " \t\r\n", &save);
        if (!w || *w == '#' || strcmp(w, identity) != 0)
            continue;
        while ((w = strtok_r(NULL, " \t\r\n", &save)) && *w != '#')
            if (strcmp(w, user) == 0)
                found = 1;
    }
    fclose(f);
    return found;
}

/* Verify `token` on the app's stack; *res receives the result. */
static bast_decision
run(const args *a, bast_ctx *ctx, const char *token, pam_handle_t *pamh,
    bast_result **res)
{
    *res = NULL;
    bast_request *req = bast_request_new();
    if (!req)
        return BAST_DENY;
    char *value = NULL;
    int auth = strcasecmp(a->header, "Authorization") == 0;
    if (asprintf(&value, "%s%s", auth ? "Bearer " : "", token) < 0) {
        bast_request_free(req);
        return BAST_DENY;
    }
    const void *item = NULL;
    int ok = bast_request_set_method(req, a->method) == BAST_ERR_OK &&
             bast_request_set_path(req, a->path) == BAST_ERR_OK &&
             bast_request_add_header(req, a->header, value) == BAST_ERR_OK;
    wipe_free(value);
    /* PAM_RHOST is passed on when it is an address (address rules). */
    if (ok && pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item) {
        const char *rhost = item;
        unsigned char bin[16];
        if (inet_pton(AF_INET, rhost, bin) == 1 ||
            inet_pton(AF_INET6, rhost, bin) == 1)
            bast_request_set_remote_addr(req, rhost);
    }
    bast_request_set_tls(req, a->tls);
    bast_decision dec = ok ? bast_verify(ctx, a->app, req, res) : BAST_DENY;
    bast_request_free(req);
    return dec;
}

static int
identity_ok(pam_handle_t *pamh, const args *a, const char *identity,
            const char *user)
{
    if (!identity || !*identity)
        return 0;
    if (a->allow_any || strcmp(identity, user) == 0)
        return 1;
    if (a->map)
        return map_allows(pamh, a->map, identity, user);
    return 0;
}

static const char *
or_none(const char *s)
{
    return s ? s : "-";
}

PB_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)flags;
    args a;
    if (parse_args(pamh, argc, argv, &a) < 0)
        return PAM_SERVICE_ERR;
    const char *user = NULL, *tok = NULL;
    int ret = pam_get_user(pamh, &user, NULL);
    if (ret != PAM_SUCCESS || !user || !*user)
        return PAM_USER_UNKNOWN;
    ret = pam_get_authtok(pamh, PAM_AUTHTOK, &tok, NULL);
    if (ret != PAM_SUCCESS)
        return ret == PAM_CONV_AGAIN ? PAM_INCOMPLETE : PAM_AUTH_ERR;
    size_t tlen = tok ? strnlen(tok, MAX_TOKEN + 1) : 0;
    if (tlen == 0 || tlen > MAX_TOKEN || strpbrk(tok, "\r\n")) {
        pam_syslog(pamh, LOG_NOTICE,
                   "app=%s user=%s: empty or unusable credential", a.app, user);
        return PAM_AUTH_ERR;
    }

    char err[1024] = "";
    bast_options o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.plugin_dir = a.plugin_dir;
    o.only_app = a.app;
    state *st = calloc(1, sizeof *st);
    if (!st)
        return PAM_BUF_ERR;
    st->ctx = bast_open(a.confdir, &o, err, sizeof err);
    if (!st->ctx) {
        pam_syslog(pamh, LOG_ERR, "app=%s: configuration: %s", a.app, err);
        free(st);
        return PAM_AUTHINFO_UNAVAIL;
    }
    bast_result *res = NULL;
    bast_decision dec = run(&a, st->ctx, tok, pamh, &res);
    int status = res ? bast_result_status(res) : 503;
    const char *id = res ? bast_result_identity(res) : NULL;
    ret = PAM_AUTH_ERR;
    if (dec != BAST_ALLOW) {
        pam_syslog(pamh, LOG_NOTICE, "app=%s user=%s: denied %d %s", a.app,
                   user, status, or_none(res ? bast_result_error(res) : NULL));
        if (status == 503)
            ret = PAM_AUTHINFO_UNAVAIL;
    } else {
        int m = identity_ok(pamh, &a, id, user);
        if (m < 0)
            ret = PAM_AUTHINFO_UNAVAIL;
        else if (!m)
            pam_syslog(pamh, LOG_NOTICE,
                       "app=%s user=%s: identity '%s' does not match", a.app,
                       user, or_none(id));
        else if (!(st->token = strdup(tok)) || !(st->identity = strdup(id)) ||
                 !(st->attrs = bast_result_attributes_json(res)))
            ret = PAM_BUF_ERR;
        else
            ret = PAM_SUCCESS;
    }
    if (ret == PAM_SUCCESS && a.debug)
        pam_syslog(pamh, LOG_DEBUG, "app=%s user=%s: identity '%s' via %s",
                   a.app, user, id, or_none(bast_result_module(res)));
    bast_result_free(res); /* before its ctx can go */
    if (ret == PAM_SUCCESS &&
        pam_set_data(pamh, DATA_KEY, st, state_free) != PAM_SUCCESS)
        ret = PAM_BUF_ERR;
    if (ret != PAM_SUCCESS) /* failed, or not handed to the PAM handle */
        state_free(pamh, st, 0);
    return ret;
}

PB_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}

/* Does the attribute object grant `scope`?  Accepts `scopes` (an array)
 * and `scope` (a space-separated string, as in OAuth). */
static int
has_scope(const char *attrs, const char *scope)
{
    json_t *o = json_loads(attrs ? attrs : "{}", 0, NULL);
    int found = 0;
    json_t *arr = json_object_get(o, "scopes"),
           *s = json_object_get(o, "scope");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, i);
        if (json_is_string(v) && strcmp(json_string_value(v), scope) == 0)
            found = 1;
    }
    if (json_is_string(s)) {
        char *copy = strdup(json_string_value(s)), *save = NULL;
        for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; w;
             w = strtok_r(NULL, " ", &save))
            if (strcmp(w, scope) == 0)
                found = 1;
        free(copy);
    }
    json_decref(o);
    return found;
}

PB_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)flags;
    args a;
    if (parse_args(pamh, argc, argv, &a) < 0)
        return PAM_SERVICE_ERR;
    const void *data = NULL;
    const char *user = NULL;
    if (pam_get_data(pamh, DATA_KEY, &data) != PAM_SUCCESS || !data) {
        /* No bast credential was verified on this handle. */
        if (a.missing_ok)
            return PAM_IGNORE;
        pam_syslog(pamh, LOG_NOTICE, "app=%s: no bast authentication to check",
                   a.app);
        return PAM_PERM_DENIED;
    }
    const state *st = data;
    if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user)
        return PAM_USER_UNKNOWN;
    if (identity_ok(pamh, &a, st->identity, user) != 1) {
        pam_syslog(pamh, LOG_NOTICE,
                   "app=%s user=%s: identity '%s' does not "
                   "match",
                   a.app, user, st->identity);
        return PAM_PERM_DENIED;
    }
    int ret = PAM_SUCCESS;
    char *attrs = NULL;
    if (!a.stored) {
        bast_result *res = NULL;
        bast_decision dec = run(&a, st->ctx, st->token, pamh, &res);
        const char *err = res ? bast_result_error(res) : NULL;
        if (dec != BAST_ALLOW) {
            pam_syslog(pamh, LOG_NOTICE, "app=%s user=%s: account: %s", a.app,
                       user, or_none(err));
            ret = err && strcmp(err, "token_expired") == 0 ? PAM_ACCT_EXPIRED
                                                           : PAM_PERM_DENIED;
        } else if (strcmp(or_none(bast_result_identity(res)), st->identity) !=
                   0) {
            ret = PAM_PERM_DENIED;
        } else if (!(attrs = bast_result_attributes_json(res))) {
            ret = PAM_BUF_ERR;
        }
        bast_result_free(res);
    }
    if (ret == PAM_SUCCESS && a.scope &&
        !has_scope(attrs ? attrs : st->attrs, a.scope)) {
        pam_syslog(pamh, LOG_NOTICE, "app=%s user=%s: scope '%s' missing",
                   a.app, user, a.scope);
        ret = PAM_PERM_DENIED;
    }
    bast_free(attrs);
    return ret;
}
