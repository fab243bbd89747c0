/*
 * users.c - the `basic` plugin's credentials file: htpasswd lines
 * `client-id:hash`, split at the last colon (hashes never hold one, so
 * client ids may), `#` comments and blank lines skipped.  Only modern
 * salted, slow hashes are accepted (bcrypt $2y$/$2b$, yescrypt $y$,
 * SHA-512-crypt $6$); {SHA}, $apr1$, $1$, DES crypt and plain text are
 * refused at load with file:line and the reason.
 */
#include "basic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

static int
crypt_alpha(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '.' || c == '/';
}

static int
all_of(const char *s, const char *extra)
{
    for (; *s != '\0'; s++)
        if (!crypt_alpha((unsigned char)*s) && strchr(extra, *s) == NULL)
            return 0;
    return 1;
}

const char *
basic_hash_refusal(const char *h)
{
    size_t n = strlen(h);

    if (n == 0)
        return "empty hash";
    if (n > BASIC_MAX_HASH)
        return "hash too long";
    if (strncmp(h, "{SHA}", 5) == 0)
        return "{SHA} is unsalted SHA-1, cheap to guess: store a bcrypt, "
               "yescrypt or SHA-512-crypt hash (htpasswd -B)";
    if (strncmp(h, "$apr1$", 6) == 0)
        return "$apr1$ is Apache's MD5-crypt, cheap to guess: store a bcrypt, "
               "yescrypt or SHA-512-crypt hash (htpasswd -B)";
    if (strncmp(h, "$1$", 3) == 0)
        return "$1$ is MD5-crypt, cheap to guess: store a bcrypt, yescrypt "
               "or SHA-512-crypt hash";
    if (strncmp(h, "$2a$", 4) == 0 || strncmp(h, "$2x$", 4) == 0)
        return "$2a$/$2x$ are bcrypt variants with known flaws: use $2y$ or "
               "$2b$";
    if (strncmp(h, "$2y$", 4) == 0 || strncmp(h, "$2b$", 4) == 0) {
        /* $2b$NN$ + 22 salt + 31 hash characters */
        if (n != 60 || h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' ||
            h[6] != '$' || !all_of(h + 7, ""))
            return "malformed bcrypt hash";
        return NULL;
    }
    if (strncmp(h, "$y$", 3) == 0)
        return all_of(h + 3, "$") ? NULL : "malformed yescrypt hash";
    if (strncmp(h, "$6$", 3) == 0)
        return all_of(h + 3, "$=") ? NULL : "malformed SHA-512-crypt hash";
    if (h[0] == '$' || h[0] == '{')
        return "hash scheme not accepted: store a bcrypt, yescrypt or "
               "SHA-512-crypt hash";
    if (n == 13 && all_of(h, ""))
        return "DES crypt uses only the first 8 characters of a secret: "
               "store a bcrypt, yescrypt or SHA-512-crypt hash";
    return "looks like a plain-text secret: store a bcrypt, yescrypt or "
           "SHA-512-crypt hash (htpasswd -B)";
}

const char *
basic_hash_kind(const char *h)
{
    if (h[0] == '$' && h[1] == '2')
        return "bcrypt";
    if (h[0] == '$' && h[1] == 'y')
        return "yescrypt";
    return "sha512crypt";
}

int
basic_text_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        unsigned char c = p[i];
        size_t k, len;
        unsigned cp;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return 0;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07u;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3fu);
        }
        /* overlong forms, surrogates, beyond U+10FFFF, C1 controls */
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
            (cp >= 0x80 && cp <= 0x9f))
            return 0;
        i += len;
    }
    return 1;
}

const char *
basic_id_refusal(const char *id, size_t n)
{
    if (n == 0)
        return "empty client id";
    if (n > BASIC_MAX_ID)
        return "client id longer than 255 bytes";
    if (id[0] == '#')
        return "a client id cannot start with '#'";
    if (!basic_text_ok(id, n))
        return "client id is not UTF-8 text without control characters";
    return NULL;
}

int
basic_file_check(const char *path, const struct stat *st, char *err,
                 size_t errlen)
{
    if (!S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    /* It holds hashes: others may read it, nobody else may change it. */
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        snprintf(err, errlen,
                 "%s: writable by group or others (chmod go-w): anyone who "
                 "can write it can add a client",
                 path);
        return -1;
    }
    return 0;
}

void
basic_users_free(basic_users *u)
{
    size_t i;

    if (u == NULL)
        return;
    for (i = 0; i < u->n; i++) {
        free(u->v[i].id);
        free(u->v[i].hash);
    }
    free(u->v);
    OPENSSL_cleanse(u->dummy, sizeof(u->dummy));
    free(u);
}

static int
cmp_user(const void *a, const void *b)
{
    const basic_user *x = a, *y = b;
    if (x->idlen != y->idlen)
        return x->idlen < y->idlen ? -1 : 1;
    return memcmp(x->id, y->id, x->idlen);
}

const basic_user *
basic_users_find(const basic_users *u, const char *id, size_t len)
{
    basic_user key = {(char *)id, len, NULL, 0};
    if (u->n == 0)
        return NULL;
    return bsearch(&key, u->v, u->n, sizeof(*u->v), cmp_user);
}

/* A throw-away hash with a real entry's kind, cost and salt (or a
 * default bcrypt one for an empty file). */
static int
make_dummy(basic_users *u)
{
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    unsigned char rnd[16];
    char phrase[33];
    const char *s = NULL, *h;
    size_t i;
    int ret = -1;

    if (cd == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1)
        goto done;
    for (i = 0; i < sizeof(rnd); i++)
        snprintf(phrase + 2 * i, 3, "%02x", rnd[i]);
    if (u->n > 0) {
        /* The most common kind in the file (its first entry by line), so
         * an unknown id looks like most known ones. */
        size_t count[3] = {0, 0, 0}, best = 0;
        int first[3] = {0, 0, 0};
        const char *pick[3] = {NULL, NULL, NULL};
        for (i = 0; i < u->n; i++) {
            const char *k = basic_hash_kind(u->v[i].hash);
            size_t j = k[0] == 'b' ? 0 : k[0] == 'y' ? 1 : 2;
            count[j]++;
            if (pick[j] == NULL || u->v[i].line < first[j]) {
                pick[j] = u->v[i].hash;
                first[j] = u->v[i].line;
            }
        }
        for (i = 1; i < 3; i++)
            if (count[i] > count[best])
                best = i;
        s = pick[best];
    } else {
        s = crypt_gensalt_rn("$2b$", 0, NULL, 0, setting, sizeof(setting));
    }
    if (s == NULL)
        goto done;
    h = crypt_rn(phrase, s, cd, (int)sizeof(*cd));
    if (h == NULL || h[0] == '*' || strlen(h) >= sizeof(u->dummy))
        goto done;
    strcpy(u->dummy, h);
    ret = 0;
done:
    if (cd != NULL)
        OPENSSL_cleanse(cd, sizeof(*cd));
    free(cd);
    return ret;
}

static int
add_line(basic_users *u, char *line, int lineno, const char *path, size_t *cap,
         char *err, size_t errlen)
{
    char *colon = strrchr(line, ':');
    const char *why;
    size_t idlen;

    if (colon == NULL) {
        snprintf(err, errlen, "%s:%d: no ':' between client id and hash", path,
                 lineno);
        return -1;
    }
    idlen = (size_t)(colon - line);
    if ((why = basic_id_refusal(line, idlen)) != NULL ||
        (why = basic_hash_refusal(colon + 1)) != NULL) {
        snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
        return -1;
    }
    if (u->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        basic_user *nv = realloc(u->v, nc * sizeof(*nv));
        if (nv == NULL)
            goto nomem;
        u->v = nv;
        *cap = nc;
    }
    basic_user *e = &u->v[u->n];
    e->id = strndup(line, idlen);
    e->hash = strdup(colon + 1);
    e->idlen = idlen;
    e->line = lineno;
    if (e->id == NULL || e->hash == NULL) {
        free(e->id);
        free(e->hash);
        goto nomem;
    }
    u->n++;
    return 0;
nomem:
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
}

basic_users *
basic_users_load(const char *path, int missing_ok, struct stat *st, char *err,
                 size_t errlen)
{
    basic_users *u = calloc(1, sizeof(*u));
    FILE *f = NULL;
    struct stat sb;
    char *line = NULL;
    size_t cap = 0, lcap = 0, i;
    ssize_t len;
    int lineno = 0, ok = 0;

    if (st == NULL)
        st = &sb;
    memset(st, 0, sizeof(*st));
    if (u == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    f = fopen(path, "re");
    if (f == NULL) {
        if (errno == ENOENT && missing_ok) {
            ok = 1;
            goto done;
        }
        snprintf(err, errlen, "%s: cannot open: %s", path,
                 errno == ENOENT ? "no such file" : "permission or I/O error");
        goto done;
    }
    if (fstat(fileno(f), st) != 0 || basic_file_check(path, st, err, errlen))
        goto done;
    if (st->st_size > BASIC_MAX_FILE) {
        snprintf(err, errlen, "%s: larger than 16 MiB", path);
        goto done;
    }
    while ((len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if ((size_t)len > BASIC_MAX_LINE || strlen(line) != (size_t)len) {
            snprintf(err, errlen, "%s:%d: line too long or holds a NUL", path,
                     lineno);
            goto done;
        }
        if (len == 0 || line[0] == '#')
            continue;
        if (add_line(u, line, lineno, path, &cap, err, errlen) != 0)
            goto done;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        goto done;
    }
    if (u->n > 1)
        qsort(u->v, u->n, sizeof(*u->v), cmp_user);
    for (i = 1; i < u->n; i++) {
        if (cmp_user(&u->v[i - 1], &u->v[i]) == 0) {
            int a = u->v[i - 1].line, b = u->v[i].line;
            snprintf(err, errlen,
                     "%s:%d: client id repeated (first at line %d)", path,
                     a > b ? a : b, a < b ? a : b);
            goto done;
        }
    }
    ok = 1;
done:
    if (line != NULL)
        OPENSSL_cleanse(line, lcap);
    free(line);
    if (f != NULL)
        fclose(f);
    if (ok && make_dummy(u) != 0) {
        snprintf(err, errlen,
                 "%s: libcrypt cannot hash with the file's "
                 "first entry's settings",
                 path);
        ok = 0;
    }
    if (!ok) {
        basic_users_free(u);
        return NULL;
    }
    return u;
}
