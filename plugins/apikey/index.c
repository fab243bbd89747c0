/*
 * index.c - the in-memory verify index of the apikey plugin: every stored
 * key (revoked and expired ones too, so their errors stay distinct) in an
 * open-addressing table keyed by the key's SHA-256.  An index is built
 * once from the store and never changed after: the refresh thread builds a
 * new one and swaps the pointer.  Entries are compact (offsets into one
 * string arena) so 100,000 keys stay around ten megabytes.
 */
#include "ak.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ent {
    unsigned char digest[AK_DIGEST];
    int64_t expires_at, revoked_at;
    uint32_t id, user, name; /* arena offsets */
    uint32_t scopes;         /* first word; words are NUL-separated */
    uint32_t nscopes;
    uint32_t scopev; /* index of the first word in ix->scopev */
};

struct ak_index {
    struct ent *ents;
    size_t n, cap;
    char *arena;
    size_t alen, acap;
    const char **scopev;
    size_t nwords;
    uint32_t *slots; /* entry index + 1; 0 is empty */
    size_t mask;
};

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t c = *cap ? *cap : 64;
    void *q;
    if (need <= *cap)
        return 0;
    while (c < need)
        c *= 2;
    if (c > SIZE_MAX / size || !(q = realloc(*p, c * size)))
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Append n bytes and a NUL; returns the offset or -1. */
static long long
put(ak_index *ix, const char *s, size_t n)
{
    size_t off = ix->alen;
    if (off + n + 1 > UINT32_MAX ||
        grow((void **)&ix->arena, &ix->acap, off + n + 1, 1) != 0)
        return -1;
    memcpy(ix->arena + off, s, n);
    ix->arena[off + n] = '\0';
    ix->alen = off + n + 1;
    return (long long)off;
}

static int
add_row(void *arg, const unsigned char *hash, const char *id, const char *user,
        const char *name, const char *scopes, int64_t expires_at,
        int64_t revoked_at)
{
    ak_index *ix = arg;
    struct ent *e;
    long long o[3];
    const char *p = scopes;

    if (grow((void **)&ix->ents, &ix->cap, ix->n + 1, sizeof *ix->ents))
        return -1;
    e = &ix->ents[ix->n];
    memset(e, 0, sizeof *e);
    memcpy(e->digest, hash, AK_DIGEST);
    e->expires_at = expires_at;
    e->revoked_at = revoked_at;
    if ((o[0] = put(ix, id, strlen(id))) < 0 ||
        (o[1] = put(ix, user, strlen(user))) < 0 ||
        (o[2] = put(ix, name, strlen(name))) < 0)
        return -1;
    e->id = (uint32_t)o[0];
    e->user = (uint32_t)o[1];
    e->name = (uint32_t)o[2];
    e->scopes = (uint32_t)ix->alen;
    /* Scopes are stored space-separated; keep them as words. */
    for (;;) {
        size_t len;
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        len = strcspn(p, " ");
        if (put(ix, p, len) < 0)
            return -1;
        e->nscopes++;
        p += len;
    }
    ix->nwords += e->nscopes;
    ix->n++;
    return 0;
}

static uint64_t
slot_hash(const unsigned char *d)
{
    uint64_t h;
    memcpy(&h, d, sizeof h); /* a SHA-256 is already uniform */
    return h;
}

static int
finish(ak_index *ix)
{
    size_t cap = 16, i, k, w = 0;

    while (cap < ix->n * 2)
        cap *= 2;
    if (!(ix->slots = calloc(cap, sizeof *ix->slots)))
        return -1;
    ix->mask = cap - 1;
    for (i = 0; i < ix->n; i++) {
        k = (size_t)slot_hash(ix->ents[i].digest) & ix->mask;
        while (ix->slots[k])
            k = (k + 1) & ix->mask;
        ix->slots[k] = (uint32_t)(i + 1);
    }
    if (ix->nwords &&
        !(ix->scopev = malloc(ix->nwords * sizeof *ix->scopev)))
        return -1;
    for (i = 0; i < ix->n; i++) {
        struct ent *e = &ix->ents[i];
        const char *p = ix->arena + e->scopes;
        e->scopev = (uint32_t)w;
        for (k = 0; k < e->nscopes; k++) {
            ix->scopev[w++] = p;
            p += strlen(p) + 1;
        }
    }
    return 0;
}

ak_index *
ak_index_load(ak_store *st, int64_t *gen, char *err, size_t errlen)
{
    ak_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return NULL;
    if (ak_store_scan(st, gen, add_row, ix, err, errlen) != 0)
        goto bad;
    if (ix->n >= UINT32_MAX / 2 || finish(ix) != 0) {
        snprintf(err, errlen, "index: out of memory");
        goto bad;
    }
    return ix;
bad:
    ak_index_free(ix);
    return NULL;
}

int
ak_index_find(const ak_index *ix, const unsigned char digest[AK_DIGEST],
              ak_entry *out)
{
    size_t k = (size_t)slot_hash(digest) & ix->mask;
    uint32_t s;

    /* The probe depends on the digest, not on the key: learning where a
     * digest lands tells nothing about a stored key's secret.  The final
     * comparison is constant-time all the same. */
    while ((s = ix->slots[k]) != 0) {
        const struct ent *e = &ix->ents[s - 1];
        if (CRYPTO_memcmp(e->digest, digest, AK_DIGEST) == 0) {
            memcpy(out->digest, e->digest, AK_DIGEST);
            out->expires_at = e->expires_at;
            out->revoked_at = e->revoked_at;
            out->id = ix->arena + e->id;
            out->user = ix->arena + e->user;
            out->name = ix->arena + e->name;
            out->scopes = e->nscopes ? ix->scopev + e->scopev : NULL;
            out->nscopes = e->nscopes;
            return 1;
        }
        k = (k + 1) & ix->mask;
    }
    return 0;
}

size_t
ak_index_size(const ak_index *ix)
{
    return ix ? ix->n : 0;
}

void
ak_index_free(ak_index *ix)
{
    if (!ix)
        return;
    free(ix->ents);
    free(ix->arena);
    free(ix->scopev);
    free(ix->slots);
    free(ix);
}
