/*
 * control.c - compile a `control =` value into an action table, once, at
 * load time.  Simple flags (case-insensitive, as in libpam) are bracket
 * shorthands; the bracket form is pam.conf(5)'s `[value=action ...]` with
 * bast's result words.  Unlike libpam, a syntax error is a load error, not
 * a must-fail line.  Also the result names, HTTP statuses and default
 * error words shared by the core.
 */
#include "bast_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const res_names[BAST_RES__COUNT] = {
    "invalid",   "success",   "absent",      "deny",
    "forbidden", "malformed", "unavailable", "ignore"};

static const int res_http[BAST_RES__COUNT] = {503, 200, 401, 401,
                                              403, 400, 503, 401};

static const char *const res_errors[BAST_RES__COUNT] = {
    "module_error",
    NULL,
    "missing_credentials",
    "access_denied",
    "forbidden",
    "invalid_request",
    "temporarily_unavailable",
    "missing_credentials"};

const char *
bast__res_name(int res)
{
    if (res <= 0 || res >= BAST_RES__COUNT)
        return res_names[0];
    return res_names[res];
}

int
bast__res_from_name(const char *name)
{
    for (int i = 1; i < BAST_RES__COUNT; i++)
        if (strcmp(name, res_names[i]) == 0)
            return i;
    return -1;
}

int
bast__res_http(int res)
{
    if (res <= 0 || res >= BAST_RES__COUNT)
        return 503;
    return res_http[res];
}

const char *
bast__res_default_error(int res)
{
    if (res <= 0 || res >= BAST_RES__COUNT)
        return res_errors[0];
    return res_errors[res];
}

struct simple_flag {
    const char *name;
    bast_action success, ignore, other;
};

/* required   = [success=ok ignore=ignore default=bad]
 * requisite  = [success=ok ignore=ignore default=die]
 * sufficient = [success=done default=ignore]
 * optional   = [success=ok default=ignore]
 * binding    = [success=done ignore=ignore default=bad]   (OpenPAM) */
static const struct simple_flag flags[] = {
    {"required", BAST_ACT_OK, BAST_ACT_IGNORE, BAST_ACT_BAD},
    {"requisite", BAST_ACT_OK, BAST_ACT_IGNORE, BAST_ACT_DIE},
    {"sufficient", BAST_ACT_DONE, BAST_ACT_IGNORE, BAST_ACT_IGNORE},
    {"optional", BAST_ACT_OK, BAST_ACT_IGNORE, BAST_ACT_IGNORE},
    {"binding", BAST_ACT_DONE, BAST_ACT_IGNORE, BAST_ACT_BAD},
};

static int
parse_action(const char *s, size_t len, bast_action *out)
{
    static const struct {
        const char *w;
        bast_action a;
    } words[] = {{"ignore", BAST_ACT_IGNORE}, {"ok", BAST_ACT_OK},
                 {"done", BAST_ACT_DONE},     {"bad", BAST_ACT_BAD},
                 {"die", BAST_ACT_DIE},       {"reset", BAST_ACT_RESET}};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strlen(words[i].w) == len && memcmp(words[i].w, s, len) == 0) {
            *out = words[i].a;
            return 0;
        }
    if (len == 0 || len > 3 || s[0] == '0')
        return -1;
    int n = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        n = n * 10 + (s[i] - '0');
    }
    if (n < 1 || n > 255)
        return -1;
    *out = (bast_action)n;
    return 0;
}

static int
parse_bracket(const char *p, const char *end,
              bast_action actions[BAST_RES__COUNT], char *err, size_t errlen)
{
    int any = 0;
    while (p < end) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p >= end)
            break;
        const char *tok = p;
        while (p < end && !isspace((unsigned char)*p))
            p++;
        size_t tlen = (size_t)(p - tok);
        const char *eq = memchr(tok, '=', tlen);
        if (eq == NULL) {
            bast__seterr(err, errlen, "expected value=action, got '%.*s'",
                         (int)tlen, tok);
            return -1;
        }
        size_t vlen = (size_t)(eq - tok);
        const char *act = eq + 1;
        size_t alen = tlen - vlen - 1;
        bast_action a;
        if (parse_action(act, alen, &a) != 0) {
            bast__seterr(err, errlen,
                         "unknown action '%.*s' (ok done bad die ignore "
                         "reset or a jump 1-255)",
                         (int)alen, act);
            return -1;
        }
        if (vlen == 7 && memcmp(tok, "default", 7) == 0) {
            for (int i = 1; i < BAST_RES__COUNT; i++)
                if (actions[i] == BAST_ACT_UNSET)
                    actions[i] = a;
        } else {
            int r = -1;
            for (int i = 1; i < BAST_RES__COUNT; i++)
                if (strlen(res_names[i]) == vlen &&
                    memcmp(res_names[i], tok, vlen) == 0)
                    r = i;
            if (r < 0) {
                bast__seterr(err, errlen,
                             "unknown result '%.*s' (success absent deny "
                             "forbidden malformed unavailable ignore "
                             "default)",
                             (int)vlen, tok);
                return -1;
            }
            actions[r] = a;
        }
        any = 1;
    }
    if (!any) {
        bast__seterr(err, errlen, "empty bracket control");
        return -1;
    }
    return 0;
}

int
bast__control_parse(const char *text, bast_action actions[BAST_RES__COUNT],
                    char *err, size_t errlen)
{
    for (int i = 0; i < BAST_RES__COUNT; i++)
        actions[i] = BAST_ACT_UNSET;
    while (isspace((unsigned char)*text))
        text++;
    size_t len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len == 0) {
        bast__seterr(err, errlen, "empty control");
        return -1;
    }
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (strlen(flags[i].name) == len &&
            strncasecmp(flags[i].name, text, len) == 0) {
            for (int r = 1; r < BAST_RES__COUNT; r++)
                actions[r] = flags[i].other;
            actions[BAST_RES_SUCCESS] = flags[i].success;
            actions[BAST_RES_IGNORE] = flags[i].ignore;
            actions[0] = BAST_ACT_BAD;
            return 0;
        }
    }
    const char *p = text, *end = text + len;
    if (*p == '[') {
        if (end[-1] != ']') {
            bast__seterr(err, errlen, "bracket control without ']'");
            return -1;
        }
        p++;
        end--;
    } else if (memchr(text, '=', len) == NULL) {
        bast__seterr(err, errlen,
                     "unknown control '%.*s' (required requisite sufficient "
                     "optional binding or [value=action ...])",
                     (int)len, text);
        return -1;
    }
    if (memchr(p, '[', (size_t)(end - p)) ||
        memchr(p, ']', (size_t)(end - p))) {
        bast__seterr(err, errlen, "stray bracket in control");
        return -1;
    }
    if (parse_bracket(p, end, actions, err, errlen) != 0)
        return -1;
    for (int r = 1; r < BAST_RES__COUNT; r++)
        if (actions[r] == BAST_ACT_UNSET)
            actions[r] = BAST_ACT_BAD;
    actions[0] = BAST_ACT_BAD;
    return 0;
}
