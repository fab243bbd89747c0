/*
 * cache.c - the optional verified-token cache of the `jwt` plugin
 * (`cache_size` entries).  It remembers that the signature of a token,
 * keyed by the SHA-256 of the whole token, held with key set `gen`; the
 * claims are still checked on every request.  Entries are dropped at the
 * token's `exp`; the table is direct-mapped (a new token evicts the one in
 * its slot) and split in shards, each with its own lock, so threads rarely
 * meet.
 */
#include "jwt.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 16

typedef struct entry {
    unsigned char digest[32];
    unsigned long gen;
    int64_t exp; /* 0: empty */
} entry;

typedef struct shard {
    pthread_mutex_t lock;
    entry *e;
    size_t n;
} shard;

struct jwt_cache {
    shard s[SHARDS];
};

jwt_cache *
jwt_cache_new(size_t entries)
{
    jwt_cache *c = calloc(1, sizeof(*c));
    size_t per = (entries + SHARDS - 1) / SHARDS;
    if (!c)
        return NULL;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&c->s[i].lock, NULL);
        c->s[i].n = per;
        if (!(c->s[i].e = calloc(per, sizeof(entry)))) {
            jwt_cache_free(c);
            return NULL;
        }
    }
    return c;
}

void
jwt_cache_free(jwt_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SHARDS; i++) {
        free(c->s[i].e);
        pthread_mutex_destroy(&c->s[i].lock);
    }
    free(c);
}

static entry *
slot(jwt_cache *c, const unsigned char d[32], shard **sh)
{
    size_t h;
    memcpy(&h, d + 8, sizeof(h));
    *sh = &c->s[d[0] % SHARDS];
    return &(*sh)->e[h % (*sh)->n];
}

int
jwt_cache_hit(jwt_cache *c, const unsigned char digest[32], unsigned long gen,
              int64_t now)
{
    shard *sh;
    entry *e = slot(c, digest, &sh);
    int hit;
    pthread_mutex_lock(&sh->lock);
    hit = e->exp > now && e->gen == gen &&
          CRYPTO_memcmp(e->digest, digest, 32) == 0;
    if (e->exp && e->exp <= now)
        e->exp = 0;
    pthread_mutex_unlock(&sh->lock);
    return hit;
}

void
jwt_cache_put(jwt_cache *c, const unsigned char digest[32], unsigned long gen,
              int64_t exp)
{
    shard *sh;
    entry *e = slot(c, digest, &sh);
    pthread_mutex_lock(&sh->lock);
    memcpy(e->digest, digest, 32);
    e->gen = gen;
    e->exp = exp;
    pthread_mutex_unlock(&sh->lock);
}
