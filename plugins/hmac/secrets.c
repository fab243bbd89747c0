/*
 * secrets.c - the hmac plugin's keyring.  The server must recompute
 * signatures, so secrets are stored as they are, in a file nobody but the
 * owner may read (bast_secret_file_check).  Format of `secrets_file`, one
 * key per line, '#' comments:  `keyid owner secret [secret...]`, newest
 * secret first, up to 8 per key for rotation; ids and secrets are visible
 * ASCII without spaces, secrets at least 16 characters.  Webhook profiles
 * read `secret`: one secret per line (Standard Webhooks: `whsec_<base64>`).
 * hmac_ring_save rewrites the file atomically for `bast hmac` commands.
 */
#include "hmac_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_MAX (4L * 1024 * 1024)
#define KEYS_MAX 100000

int
hmac_token_ok(const char *s, size_t n, size_t max)
{
    size_t i;

    if (n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return 0;
    }
    return 1;
}

/* Read a secrets file after checking who may read it. */
static char *
slurp(const char *path, char *err, size_t errlen)
{
    char why[256];
    FILE *f;
    char *buf;
    size_t n;

    if (bast_secret_file_check(path, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc((size_t)FILE_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    n = fread(buf, 1, (size_t)FILE_MAX + 1, f);
    if (ferror(f) || n > (size_t)FILE_MAX) {
        fclose(f);
        OPENSSL_cleanse(buf, n);
        free(buf);
        snprintf(err, errlen, "%s: unreadable or over %ld bytes", path,
                 FILE_MAX);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static int
key_cmp(const void *a, const void *b)
{
    return strcmp(((const hmac_key *)a)->id, ((const hmac_key *)b)->id);
}

int
hmac_key_add_secret(hmac_key *k, const unsigned char *bytes, size_t len)
{
    hmac_secret *s;

    if (k->nsecrets >= HMAC_SECRETS_PER_KEY)
        return -1;
    s = &k->secrets[k->nsecrets];
    s->bytes = malloc(len ? len : 1);
    if (s->bytes == NULL)
        return -1;
    memcpy(s->bytes, bytes, len);
    s->len = len;
    k->nsecrets++;
    return 0;
}

static hmac_key *
ring_push(hmac_keyring *ring, const char *id, size_t idlen, const char *owner,
          size_t olen)
{
    hmac_key *nk, *k;

    if (ring->n >= KEYS_MAX)
        return NULL;
    nk = realloc(ring->keys, (ring->n + 1) * sizeof(*nk));
    if (nk == NULL)
        return NULL;
    ring->keys = nk;
    k = &nk[ring->n];
    memset(k, 0, sizeof(*k));
    k->id = strndup(id, idlen);
    k->owner = strndup(owner, olen);
    if (k->id == NULL || k->owner == NULL) {
        free(k->id);
        free(k->owner);
        return NULL;
    }
    ring->n++;
    return k;
}

hmac_key *
hmac_ring_push(hmac_keyring *ring, const char *id, const char *owner)
{
    return ring_push(ring, id, strlen(id), owner, strlen(owner));
}

/* Split the next whitespace-separated token out of [*p, end). */
static const char *
token(const char **p, const char *end, size_t *len)
{
    const char *s = *p, *t;

    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    t = s;
    while (t < end && *t != ' ' && *t != '\t')
        t++;
    *len = (size_t)(t - s);
    *p = t;
    return *len ? s : NULL;
}

int
hmac_ring_load(hmac_keyring *ring, const char *path, char *err, size_t errlen)
{
    char *buf = slurp(path, err, errlen), *line, *next;
    int lineno = 0, ret = -1;
    size_t i;

    if (buf == NULL)
        return -1;
    for (line = buf; line != NULL && *line != '\0'; line = next) {
        const char *p = line, *end, *id, *owner, *sec;
        size_t idlen, olen, slen;
        hmac_key *k;

        lineno++;
        next = strchr(line, '\n');
        end = next ? next : line + strlen(line);
        if (next != NULL)
            next++;
        if (end > line && end[-1] == '\r')
            end--;
        id = token(&p, end, &idlen);
        if (id == NULL || *id == '#')
            continue;
        owner = token(&p, end, &olen);
        if (!hmac_token_ok(id, idlen, HMAC_ID_MAX) || owner == NULL ||
            !hmac_token_ok(owner, olen, HMAC_ID_MAX)) {
            snprintf(err, errlen,
                     "%s:%d: expected `keyid owner secret...` (visible "
                     "ASCII, at most %d chars each)",
                     path, lineno, HMAC_ID_MAX);
            goto done;
        }
        k = ring_push(ring, id, idlen, owner, olen);
        if (k == NULL) {
            snprintf(err, errlen, "%s:%d: out of memory or too many keys", path,
                     lineno);
            goto done;
        }
        while ((sec = token(&p, end, &slen)) != NULL) {
            if (slen < HMAC_SECRET_MIN || slen > HMAC_SECRET_MAX ||
                !hmac_token_ok(sec, slen, HMAC_SECRET_MAX) ||
                hmac_key_add_secret(k, (const unsigned char *)sec, slen) != 0) {
                snprintf(err, errlen,
                         "%s:%d: key '%s': each secret is %d..%d visible "
                         "chars, at most %d per key",
                         path, lineno, k->id, HMAC_SECRET_MIN, HMAC_SECRET_MAX,
                         HMAC_SECRETS_PER_KEY);
                goto done;
            }
        }
        if (k->nsecrets == 0) {
            snprintf(err, errlen, "%s:%d: key '%s' has no secret", path, lineno,
                     k->id);
            goto done;
        }
    }
    if (ring->n > 0)
        qsort(ring->keys, ring->n, sizeof(hmac_key), key_cmp);
    for (i = 1; i < ring->n; i++) {
        if (strcmp(ring->keys[i - 1].id, ring->keys[i].id) == 0) {
            snprintf(err, errlen, "%s: key id '%s' appears twice", path,
                     ring->keys[i].id);
            goto done;
        }
    }
    ret = 0;
done:
    OPENSSL_cleanse(buf, strlen(buf));
    free(buf);
    return ret;
}

int
hmac_ring_load_webhook(hmac_keyring *ring, const char *path, int stdwh,
                       char *err, size_t errlen)
{
    char *buf = slurp(path, err, errlen), *line, *next;
    unsigned char raw[HMAC_SECRET_MAX];
    int lineno = 0, ret = -1;
    hmac_key *k;

    if (buf == NULL)
        return -1;
    k = ring_push(ring, "", 0, "", 0);
    if (k == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto done;
    }
    for (line = buf; line != NULL && *line != '\0'; line = next) {
        const char *p = line, *end, *sec;
        size_t slen, extra;
        long dl;

        lineno++;
        next = strchr(line, '\n');
        end = next ? next : line + strlen(line);
        if (next != NULL)
            next++;
        if (end > line && end[-1] == '\r')
            end--;
        sec = token(&p, end, &slen);
        if (sec == NULL || *sec == '#')
            continue;
        if (token(&p, end, &extra) != NULL)
            goto bad;
        if (!hmac_token_ok(sec, slen, HMAC_SECRET_MAX))
            goto bad;
        if (stdwh) {
            /* Standard Webhooks: the key is the base64 after whsec_ */
            if (slen < 7 || memcmp(sec, "whsec_", 6) != 0)
                goto bad;
            dl = bast_b64_decode(sec + 6, slen - 6, raw, sizeof(raw), 0);
            if (dl < HMAC_SECRET_MIN ||
                hmac_key_add_secret(k, raw, (size_t)dl) != 0)
                goto bad;
        } else if (slen < HMAC_SECRET_MIN ||
                   hmac_key_add_secret(k, (const unsigned char *)sec, slen) !=
                       0) {
            goto bad;
        }
    }
    if (k->nsecrets == 0) {
        snprintf(err, errlen, "%s: no secret", path);
        goto done;
    }
    ret = 0;
    goto done;
bad:
    snprintf(err, errlen,
             "%s:%d: expected one secret per line (%s, at most %d per file)",
             path, lineno,
             stdwh ? "whsec_<base64> of at least 16 bytes"
                   : "at least 16 visible chars",
             HMAC_SECRETS_PER_KEY);
done:
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(buf, strlen(buf));
    free(buf);
    return ret;
}

int
hmac_ring_prepare(hmac_keyring *ring, EVP_MAC *mac, const char *mdname,
                  char *err, size_t errlen)
{
    OSSL_PARAM params[2];
    size_t i, j;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)mdname, 0);
    params[1] = OSSL_PARAM_construct_end();
    for (i = 0; i < ring->n; i++) {
        for (j = 0; j < ring->keys[i].nsecrets; j++) {
            hmac_secret *s = &ring->keys[i].secrets[j];
            s->tmpl = EVP_MAC_CTX_new(mac);
            s->pool = hmac_pool_new();
            if (s->tmpl == NULL || s->pool == NULL ||
                !EVP_MAC_init(s->tmpl, s->bytes, s->len, params)) {
                snprintf(err, errlen, "HMAC-%s cannot be keyed", mdname);
                return -1;
            }
        }
    }
    return 0;
}

const hmac_key *
hmac_ring_find(const hmac_keyring *ring, const char *id)
{
    hmac_key probe;

    if (ring->n == 0)
        return NULL;
    probe.id = (char *)id;
    return bsearch(&probe, ring->keys, ring->n, sizeof(hmac_key), key_cmp);
}

void
hmac_ring_free(hmac_keyring *ring)
{
    size_t i, j;

    for (i = 0; i < ring->n; i++) {
        hmac_key *k = &ring->keys[i];
        for (j = 0; j < k->nsecrets; j++) {
            OPENSSL_cleanse(k->secrets[j].bytes, k->secrets[j].len);
            free(k->secrets[j].bytes);
            EVP_MAC_CTX_free(k->secrets[j].tmpl);
            hmac_pool_free(k->secrets[j].pool, hmac_free_mac_ctx);
        }
        free(k->id);
        free(k->owner);
    }
    free(ring->keys);
    ring->keys = NULL;
    ring->n = 0;
}

int
hmac_ring_save(const hmac_keyring *ring, const char *path, char *err,
               size_t errlen)
{
    char tmp[4096], dir[4096];
    size_t i, j;
    FILE *f = NULL;
    int fd, dfd, ok;

    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp) ||
        snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    fd = mkstemp(tmp);
    if (fd < 0 || fchmod(fd, 0600) != 0 || (f = fdopen(fd, "w")) == NULL) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        return -1;
    }
    fprintf(f, "# bast hmac secrets: keyid owner secret... (newest first)\n");
    for (i = 0; i < ring->n; i++) {
        const hmac_key *k = &ring->keys[i];
        fprintf(f, "%s %s", k->id, k->owner);
        for (j = 0; j < k->nsecrets; j++)
            fprintf(f, " %.*s", (int)k->secrets[j].len,
                    (const char *)k->secrets[j].bytes);
        fputc('\n', f);
    }
    ok = fflush(f) == 0 && fsync(fd) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    /* make the rename itself durable */
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}
