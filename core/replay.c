/*
 * replay.c - the replay store behind bast_replay_check(): the spec parser
 * and the in-memory backend.  Specs: "memory" or "memory:max=N" (default
 * and NULL; N live ids at most, default 1,000,000) and
 * "redis://host:port/db[?timeout_ms=N]" (replay_redis.c).  The memory
 * store keeps a 128-bit SHA-256 prefix of each id (so entries have a fixed
 * size and an attacker cannot aim ids at one bucket), in striped
 * open-addressing tables, each under its own mutex.  An entry lives until
 * `now + ttl` of the request that stored it.  A full store answers
 * BAST_REPLAY_UNAVAILABLE: forgetting a live id would let a replay through.
 */
#include "replay.h"
#include "bast_plugin.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The Redis backend (replay_redis.c); declared here because replay.h is
 * the only header the two files share. */
typedef struct bast_replay_redis bast_replay_redis;
int bast__replay_redis_open(bast_replay_redis **out, const char *spec,
                            char *err, size_t errlen);
int bast__replay_redis_check(bast_replay_redis *r, const void *key,
                             size_t keylen, unsigned ttl_seconds, int peek);
void bast__replay_redis_close(bast_replay_redis *r);

#define MEM_DEFAULT_MAX 1000000u
#define MEM_LIMIT_MAX 100000000u
#define MEM_STRIPES 64u
#define ID_LEN 16

typedef struct slot {
    unsigned char id[ID_LEN];
    int64_t expires; /* 0: empty */
} slot;

typedef struct stripe {
    pthread_mutex_t lock;
    slot *slots;
    size_t cap;    /* power of two, at least twice `max` */
    size_t used;   /* non-empty slots, live or expired */
    size_t max;    /* live ids this stripe may hold */
    int64_t swept; /* `now` of the last sweep that left the stripe full */
} stripe;

#define MD_POOL 16

struct bast_replay {
    bast_replay_redis *redis; /* NULL: memory */
    EVP_MD *sha256;
    /* digest contexts reused across checks: a thread takes a free one
     * (atomic flag) and makes a throw-away one when all are busy */
    atomic_bool md_busy[MD_POOL];
    EVP_MD_CTX *md_ctx[MD_POOL];
    stripe *stripes;
    size_t nstripes;
};

static size_t
pow2_at_least(size_t n)
{
    size_t c = 8;
    while (c < n)
        c <<= 1;
    return c;
}

static int
parse_memory_spec(const char *spec, size_t *max, char *err, size_t errlen)
{
    const char *p;
    char *end;
    unsigned long long v;

    *max = MEM_DEFAULT_MAX;
    if (strcmp(spec, "memory") == 0)
        return 0;
    if (strncmp(spec, "memory:max=", 11) != 0)
        goto bad;
    p = spec + 11;
    if (*p < '0' || *p > '9')
        goto bad;
    errno = 0;
    v = strtoull(p, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || v > MEM_LIMIT_MAX)
        goto bad;
    *max = (size_t)v;
    return 0;
bad:
    snprintf(err, errlen,
             "replay: '%s': expected memory, memory:max=N (1..%u) or "
             "redis://host:port/db",
             spec, MEM_LIMIT_MAX);
    return -1;
}

static int
memory_open(bast_replay *rs, size_t max, char *err, size_t errlen)
{
    size_t i, per;

    rs->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (rs->sha256 == NULL) {
        snprintf(err, errlen, "replay: SHA-256 is not available");
        return -1;
    }
    /* Small stores get one stripe so that `max` is exact; big ones spread
     * over stripes so that threads rarely wait on each other. */
    rs->nstripes = max >= 64u * MEM_STRIPES ? MEM_STRIPES : 1u;
    per = (max + rs->nstripes - 1) / rs->nstripes;
    rs->stripes = calloc(rs->nstripes, sizeof(*rs->stripes));
    if (rs->stripes == NULL)
        goto nomem;
    for (i = 0; i < rs->nstripes; i++) {
        stripe *s = &rs->stripes[i];
        s->max = per;
        s->cap = pow2_at_least(2 * per);
        s->swept = INT64_MIN;
        /* calloc maps zero pages lazily: memory grows with use */
        s->slots = calloc(s->cap, sizeof(slot));
        if (s->slots == NULL)
            goto nomem;
        pthread_mutex_init(&s->lock, NULL);
    }
    return 0;
nomem:
    snprintf(err, errlen, "replay: out of memory for %zu entries", max);
    return -1;
}

static uint64_t
id_index(const unsigned char *id)
{
    uint64_t h = 0;
    memcpy(&h, id, sizeof(h));
    return h;
}

/* Probe from the id's home slot: the slot holding the id, or the first
 * empty slot.  The table is never more than half full, so this ends. */
static slot *
probe(slot *slots, size_t cap, const unsigned char *id)
{
    size_t i = (size_t)id_index(id) & (cap - 1);
    for (;;) {
        slot *s = &slots[i];
        if (s->expires == 0 || memcmp(s->id, id, ID_LEN) == 0)
            return s;
        i = (i + 1) & (cap - 1);
    }
}

/* Drop expired entries by rebuilding the table (linear probing has no
 * cheap delete).  On allocation failure the old table stays. */
static void
sweep(stripe *s, int64_t now)
{
    slot *fresh = calloc(s->cap, sizeof(slot));
    size_t i, used = 0;

    if (fresh == NULL)
        return;
    for (i = 0; i < s->cap; i++) {
        slot *o = &s->slots[i];
        if (o->expires != 0 && o->expires > now) {
            *probe(fresh, s->cap, o->id) = *o;
            used++;
        }
    }
    free(s->slots);
    s->slots = fresh;
    s->used = used;
}

/* The 128-bit id of a key: a SHA-256 prefix, so ids have a fixed size
 * and cannot be aimed at one bucket. */
static int
key_id(bast_replay *rs, const void *key, size_t keylen,
       unsigned char md[EVP_MAX_MD_SIZE])
{
    EVP_MD_CTX *ctx = NULL;
    unsigned int mdlen = 0;
    int i, pick = -1, ok;

    for (i = 0; i < MD_POOL && pick < 0; i++) {
        if (!atomic_load_explicit(&rs->md_busy[i], memory_order_relaxed) &&
            !atomic_exchange_explicit(&rs->md_busy[i], true,
                                      memory_order_acquire))
            pick = i;
    }
    if (pick >= 0) {
        if (rs->md_ctx[pick] == NULL)
            rs->md_ctx[pick] = EVP_MD_CTX_new();
        ctx = rs->md_ctx[pick];
    } else {
        ctx = EVP_MD_CTX_new();
    }
    ok = ctx != NULL && EVP_DigestInit_ex2(ctx, rs->sha256, NULL) &&
         EVP_DigestUpdate(ctx, keylen ? key : "", keylen) &&
         EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen > ID_LEN;
    if (pick >= 0)
        atomic_store_explicit(&rs->md_busy[pick], false, memory_order_release);
    else
        EVP_MD_CTX_free(ctx);
    return ok;
}

static int
memory_check(bast_replay *rs, const void *key, size_t keylen,
             unsigned ttl_seconds, int64_t now)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    stripe *s;
    slot *e;
    int64_t expires;
    int ret = BAST_REPLAY_UNAVAILABLE;

    if (!key_id(rs, key, keylen, md))
        return BAST_REPLAY_UNAVAILABLE;
    /* a zero ttl would make an entry that never existed */
    expires = now + (int64_t)(ttl_seconds ? ttl_seconds : 1);
    if (expires == 0)
        expires = 1;
    s = &rs->stripes[md[ID_LEN] % rs->nstripes];

    pthread_mutex_lock(&s->lock);
    e = probe(s->slots, s->cap, md);
    if (e->expires != 0) {
        if (e->expires > now) {
            ret = BAST_REPLAY_SEEN;
        } else {
            e->expires = expires;
            ret = BAST_REPLAY_FRESH;
        }
        goto done;
    }
    if (s->used >= s->max) {
        /* a full stripe is swept at most once per second, so a flood
         * costs one rebuild per second rather than one per request */
        if (s->swept == now)
            goto done;
        sweep(s, now);
        if (s->used >= s->max) {
            s->swept = now;
            goto done; /* full of live ids: fail closed */
        }
        e = probe(s->slots, s->cap, md);
    }
    memcpy(e->id, md, ID_LEN);
    e->expires = expires;
    s->used++;
    ret = BAST_REPLAY_FRESH;
done:
    pthread_mutex_unlock(&s->lock);
    return ret;
}

int
bast__replay_open(bast_replay **out, const char *spec, char *err, size_t errlen)
{
    bast_replay *rs;
    size_t max;
    int i;

    *out = NULL;
    if (spec == NULL || *spec == '\0')
        spec = "memory";
    rs = calloc(1, sizeof(*rs));
    if (rs == NULL) {
        snprintf(err, errlen, "replay: out of memory");
        return -1;
    }
    for (i = 0; i < MD_POOL; i++)
        atomic_init(&rs->md_busy[i], false);
    if (strncmp(spec, "redis://", 8) == 0) {
        if (bast__replay_redis_open(&rs->redis, spec, err, errlen) != 0)
            goto fail;
    } else if (parse_memory_spec(spec, &max, err, errlen) != 0 ||
               memory_open(rs, max, err, errlen) != 0) {
        goto fail;
    }
    *out = rs;
    return 0;
fail:
    bast__replay_close(rs);
    return -1;
}

int
bast__replay_check(bast_replay *rs, const void *key, size_t keylen,
                   unsigned ttl_seconds, int64_t now)
{
    if (rs == NULL || key == NULL)
        return BAST_REPLAY_UNAVAILABLE;
    if (rs->redis != NULL)
        return bast__replay_redis_check(rs->redis, key, keylen, ttl_seconds, 0);
    return memory_check(rs, key, keylen, ttl_seconds, now);
}

static int
memory_peek(bast_replay *rs, const void *key, size_t keylen, int64_t now)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    if (!key_id(rs, key, keylen, md))
        return BAST_REPLAY_UNAVAILABLE;
    stripe *s = &rs->stripes[md[ID_LEN] % rs->nstripes];
    pthread_mutex_lock(&s->lock);
    const slot *e = probe(s->slots, s->cap, md);
    int ret = e->expires != 0 && e->expires > now ? BAST_REPLAY_SEEN
                                                  : BAST_REPLAY_FRESH;
    pthread_mutex_unlock(&s->lock);
    return ret;
}

int
bast__replay_peek(bast_replay *rs, const void *key, size_t keylen, int64_t now)
{
    if (rs == NULL || key == NULL)
        return BAST_REPLAY_UNAVAILABLE;
    if (rs->redis != NULL)
        return bast__replay_redis_check(rs->redis, key, keylen, 0, 1);
    return memory_peek(rs, key, keylen, now);
}

void
bast__replay_close(bast_replay *rs)
{
    size_t i;

    if (rs == NULL)
        return;
    bast__replay_redis_close(rs->redis);
    if (rs->stripes != NULL) {
        for (i = 0; i < rs->nstripes; i++) {
            if (rs->stripes[i].slots != NULL) {
                pthread_mutex_destroy(&rs->stripes[i].lock);
                free(rs->stripes[i].slots);
            }
        }
        free(rs->stripes);
    }
    for (i = 0; i < MD_POOL; i++)
        EVP_MD_CTX_free(rs->md_ctx[i]);
    EVP_MD_free(rs->sha256);
    free(rs);
}
