/*
 * index.c - the in-memory verify index of the apikey plugin: every stored
 * key (revoked and expired ones too, so their errors stay distinct) in an
 * open-addressing table keyed by the key's SHA-256.  An index is built
 * once from the store and never changed after: the refresh thread builds a
 * new one and swaps the pointer.  Lookups are dominated by cache and TLB
 * misses at 100,000 keys, so each key is one contiguous block (digest,
 * times, then its strings) and each slot carries a 32-bit tag of the
 * digest: a lookup touches one slot line and one block.
 */
#include "ak.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef struct blk {
    unsigned char digest[AK_DIGEST];
    int64_t expires_at, revoked_at;
    uint32_t user, name, scopes; /* offsets into text; id is at 0 */
    uint32_t nscopes;
    ak_hint hint; /* the one mutable field: see ak_entry */
    char text[];  /* id\0user\0name\0scope\0scope\0... */
} blk;

typedef struct slot {
    uint32_t tag; /* digest bytes 8..11 */
    uint32_t blk; /* block offset / 8, plus 1; 0 is empty */
} slot;

struct ak_index {
    unsigned char *arena; /* 8-aligned blocks */
    size_t alen, acap, n;
    slot *slots;
    size_t mask;
    size_t arena_map, slots_map; /* mmap sizes when on huge pages, or 0 */
};

#define HUGE_PAGE ((size_t)2 << 20)

/* Memory for a finished table: on transparent huge pages when it is big
 * enough to matter.  A lookup is two dependent random reads (slot, block);
 * under virtualisation each 4 KiB TLB miss costs a nested page walk, and
 * with 100,000 keys those misses were most of the lookup's time. */
static void *
big_alloc(size_t size, size_t *mapped)
{
    size_t len;
    unsigned char *p, *a;

    *mapped = 0;
    if (size < HUGE_PAGE / 2)
        return calloc(1, size);
    len = (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return calloc(1, size);
    /* keep the 2 MiB-aligned part, give back the rest */
    a = (unsigned char *)(((uintptr_t)p + HUGE_PAGE - 1) &
                          ~(uintptr_t)(HUGE_PAGE - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    if (a + len < p + len + HUGE_PAGE)
        munmap(a + len, (size_t)(p + len + HUGE_PAGE - (a + len)));
    (void)madvise(a, len, MADV_HUGEPAGE); /* a hint: fine if refused */
    *mapped = len;
    return a;
}

static void
big_free(void *p, size_t mapped)
{
    if (mapped)
        munmap(p, mapped);
    else
        free(p);
}

static int
reserve(ak_index *ix, size_t more)
{
    size_t c = ix->acap ? ix->acap : 1 << 16;
    unsigned char *p;
    if (ix->alen + more <= ix->acap)
        return 0;
    while (c < ix->alen + more)
        c *= 2;
    if (!(p = realloc(ix->arena, c)))
        return -1;
    ix->arena = p;
    ix->acap = c;
    return 0;
}

static int
add_row(void *arg, const unsigned char *hash, const char *id, const char *user,
        const char *name, const char *scopes, int64_t expires_at,
        int64_t revoked_at)
{
    ak_index *ix = arg;
    size_t li = strlen(id), lu = strlen(user), ln = strlen(name),
           ls = strlen(scopes), size, j = 0;
    const char *p = scopes;
    blk *b;

    size = (sizeof *b + li + lu + ln + ls + 4 + 7) & ~(size_t)7;
    if (ix->alen + size >= (size_t)UINT32_MAX * 8 || reserve(ix, size) != 0)
        return -1;
    b = (blk *)(void *)(ix->arena + ix->alen);
    memcpy(b->digest, hash, AK_DIGEST);
    b->expires_at = expires_at;
    atomic_init(&b->hint, 0);
    b->revoked_at = revoked_at;
    b->nscopes = 0;
    memcpy(b->text, id, li + 1);
    b->user = (uint32_t)(li + 1);
    memcpy(b->text + b->user, user, lu + 1);
    b->name = (uint32_t)(b->user + lu + 1);
    memcpy(b->text + b->name, name, ln + 1);
    b->scopes = (uint32_t)(b->name + ln + 1);
    /* Scopes are stored space-separated; keep them as NUL-ended words. */
    for (;;) {
        size_t len;
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        len = strcspn(p, " ");
        memcpy(b->text + b->scopes + j, p, len);
        b->text[b->scopes + j + len] = '\0';
        j += len + 1;
        b->nscopes++;
        p += len;
    }
    /* Advance by what was written (scopes may shrink when normalised),
     * rounded as finish() walks it. */
    ix->alen += (sizeof *b + b->scopes + j + 7) & ~(size_t)7;
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

static uint32_t
slot_tag(const unsigned char *d)
{
    uint32_t t;
    memcpy(&t, d + 8, sizeof t);
    return t;
}

static int
finish(ak_index *ix)
{
    size_t cap = 16, k, off;
    unsigned char *arena;

    while (cap < ix->n * 2)
        cap *= 2;
    if (!(ix->slots = big_alloc(cap * sizeof *ix->slots, &ix->slots_map)))
        return -1;
    /* move the blocks to their final place (the build grew by realloc) */
    if (ix->alen) {
        if (!(arena = big_alloc(ix->alen, &ix->arena_map)))
            return -1;
        memcpy(arena, ix->arena, ix->alen);
        free(ix->arena);
        ix->arena = arena;
        ix->acap = ix->alen;
    }
    ix->mask = cap - 1;
    for (off = 0; off < ix->alen;) {
        const blk *b = (const blk *)(const void *)(ix->arena + off);
        const char *s = b->text + b->scopes;
        uint32_t i;
        k = (size_t)slot_hash(b->digest) & ix->mask;
        while (ix->slots[k].blk)
            k = (k + 1) & ix->mask;
        ix->slots[k].tag = slot_tag(b->digest);
        ix->slots[k].blk = (uint32_t)(off / 8 + 1);
        for (i = 0; i < b->nscopes; i++)
            s += strlen(s) + 1;
        off += ((size_t)(s - b->text) + sizeof *b + 7) & ~(size_t)7;
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
    if (finish(ix) != 0) {
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
    uint32_t tag = slot_tag(digest);
    const slot *s;

    /* The probe depends on the digest, not on the key: where a digest
     * lands tells nothing about a stored key's secret.  The final
     * comparison is constant-time all the same. */
    for (; (s = &ix->slots[k])->blk; k = (k + 1) & ix->mask) {
        const blk *b;
        const char *p;
        size_t i;
        if (s->tag != tag)
            continue;
        b = (const blk *)(const void *)(ix->arena + (size_t)(s->blk - 1) * 8);
        if (CRYPTO_memcmp(b->digest, digest, AK_DIGEST) != 0)
            continue;
        /* the index is read-only to readers except this atomic */
        out->hint = (ak_hint *)&b->hint;
        out->expires_at = b->expires_at;
        out->revoked_at = b->revoked_at;
        out->id = b->text;
        out->user = b->text + b->user;
        out->name = b->text + b->name;
        p = b->text + b->scopes;
        out->nscopes = 0;
        for (i = 0; i < b->nscopes; i++) {
            if (i < AK_SCOPES_MAX)
                out->scopes[out->nscopes++] = p;
            p += strlen(p) + 1;
        }
        return 1;
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
    big_free(ix->arena, ix->arena_map);
    big_free(ix->slots, ix->slots_map);
    free(ix);
}
