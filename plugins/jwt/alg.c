/*
 * alg.c - the JWS algorithms the `jwt` plugin knows (RFC 7518 §3, RFC 8037
 * §3.1) and the `algorithms` option's parser.  `none` is not in the table,
 * so no spelling of it can ever be selected.
 */
#include "jwt.h"

#include <stdio.h>
#include <string.h>

const jwt_alg jwt_algs[JWT_NALGS] = {
    {"HS256", JWT_FAM_HMAC, JWT_SHA256, 32, NULL},
    {"HS384", JWT_FAM_HMAC, JWT_SHA384, 48, NULL},
    {"HS512", JWT_FAM_HMAC, JWT_SHA512, 64, NULL},
    {"RS256", JWT_FAM_RSA, JWT_SHA256, 0, NULL},
    {"RS384", JWT_FAM_RSA, JWT_SHA384, 0, NULL},
    {"RS512", JWT_FAM_RSA, JWT_SHA512, 0, NULL},
    {"PS256", JWT_FAM_PSS, JWT_SHA256, 0, NULL},
    {"PS384", JWT_FAM_PSS, JWT_SHA384, 0, NULL},
    {"PS512", JWT_FAM_PSS, JWT_SHA512, 0, NULL},
    {"ES256", JWT_FAM_EC, JWT_SHA256, 32, "P-256"},
    {"ES384", JWT_FAM_EC, JWT_SHA384, 48, "P-384"},
    {"ES512", JWT_FAM_EC, JWT_SHA512, 66, "P-521"},
    {"EdDSA", JWT_FAM_ED, -1, 0, NULL},
};

int
jwt_alg_find(const char *name, size_t len)
{
    for (int i = 0; i < JWT_NALGS; i++)
        if (strlen(jwt_algs[i].name) == len &&
            memcmp(jwt_algs[i].name, name, len) == 0)
            return i;
    return -1;
}

unsigned
jwt_alg_family_mask(int family, int hash)
{
    unsigned m = 0;
    for (int i = 0; i < JWT_NALGS; i++)
        if (jwt_algs[i].family == family &&
            (hash < 0 || jwt_algs[i].hash == hash))
            m |= JWT_ALG_BIT(i);
    return m;
}

int
jwt_alg_mask(const char *list, unsigned *mask, char *bad, size_t badlen)
{
    const char *p = list;
    *mask = 0;
    while (*p) {
        size_t n;
        int i;
        p += strspn(p, " \t,");
        n = strcspn(p, " \t,");
        if (n == 0)
            break;
        i = jwt_alg_find(p, n);
        if (i < 0) {
            snprintf(bad, badlen, "%.*s", (int)(n > 32 ? 32 : n), p);
            return -1;
        }
        *mask |= JWT_ALG_BIT(i);
        p += n;
    }
    if (*mask == 0) {
        snprintf(bad, badlen, "(empty)");
        return -1;
    }
    return 0;
}
