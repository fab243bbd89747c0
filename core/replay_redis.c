/*
 * replay_redis.c - the Redis backend of the replay store, for several
 * processes or hosts that must see each other's ids.  Spec:
 * "redis://[[user:]password@]host:port/db[?timeout_ms=N]" (port 6379,
 * db 0 and 200 ms by default; the timeout bounds connect and each
 * command; a password is sent with AUTH on every new connection).  One
 * check is `SET bast:replay:<key> 1 NX EX ttl`: "OK" is fresh, nil is a
 * replay,
 * anything else (no server, timeout, error reply) is
 * BAST_REPLAY_UNAVAILABLE, so the caller fails closed.  Connections sit in
 * a small pool under a mutex; a broken one is dropped and the next check
 * connects again, which is how the store recovers after a Redis restart.
 */
#include "replay.h"
#include "bast_plugin.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

typedef struct bast_replay_redis bast_replay_redis;
int bast__replay_redis_open(bast_replay_redis **out, const char *spec,
                            char *err, size_t errlen);
int bast__replay_redis_check(bast_replay_redis *r, const void *key,
                             size_t keylen, unsigned ttl_seconds, int peek);
void bast__replay_redis_close(bast_replay_redis *r);

#define POOL_MAX 8
#define KEY_PREFIX "bast:replay:"
#define KEY_MAX 4096

struct bast_replay_redis {
    char host[256];
    char user[128], pass[256]; /* AUTH when pass is set */
    int port;
    long db;
    struct timeval timeout;
    pthread_mutex_t lock;
    redisContext *pool[POOL_MAX];
    size_t npool;
};

static int
parse_num(const char *s, size_t n, long min, long max, long *out)
{
    long v = 0;
    size_t i;

    if (n == 0 || n > 9)
        return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* redis://[[user:]password@]host[:port][/db][?timeout_ms=N]; host may
 * be [v6]. */
static int
parse_spec(bast_replay_redis *r, const char *spec, char *err, size_t errlen)
{
    const char *p = spec + 8, *host, *end, *at;
    size_t hlen, auth = strcspn(p, "/?");
    long v;

    at = memchr(p, '@', auth);
    if (at != NULL) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t ulen = colon ? (size_t)(colon - p) : 0;
        const char *pw = colon ? colon + 1 : p;
        size_t plen = (size_t)(at - pw);
        if (ulen >= sizeof(r->user) || plen == 0 || plen >= sizeof(r->pass))
            goto bad;
        memcpy(r->user, p, ulen);
        r->user[ulen] = '\0';
        memcpy(r->pass, pw, plen);
        r->pass[plen] = '\0';
        p = at + 1;
    }
    if (*p == '[') {
        host = ++p;
        end = strchr(p, ']');
        if (end == NULL)
            goto bad;
        hlen = (size_t)(end - host);
        p = end + 1;
    } else {
        host = p;
        hlen = strcspn(p, ":/?");
        p += hlen;
    }
    if (hlen == 0 || hlen >= sizeof(r->host) || memchr(host, '@', hlen))
        goto bad;
    memcpy(r->host, host, hlen);
    r->host[hlen] = '\0';
    if (*p == ':') {
        size_t n = strcspn(++p, "/?");
        if (parse_num(p, n, 1, 65535, &v) != 0)
            goto bad;
        r->port = (int)v;
        p += n;
    }
    if (*p == '/') {
        size_t n = strcspn(++p, "?");
        if (n > 0 && parse_num(p, n, 0, 100000, &r->db) != 0)
            goto bad;
        p += n;
    }
    if (*p == '?') {
        p++;
        if (strncmp(p, "timeout_ms=", 11) != 0)
            goto bad;
        p += 11;
        if (parse_num(p, strlen(p), 1, 60000, &v) != 0)
            goto bad;
        r->timeout.tv_sec = v / 1000;
        r->timeout.tv_usec = (v % 1000) * 1000;
        p += strlen(p);
    }
    if (*p != '\0')
        goto bad;
    return 0;
bad:
    /* never echo a password into a log line */
    snprintf(err, errlen,
             "replay: '%s': expected "
             "redis://[[user:]password@]host:port/db[?timeout_ms=N]",
             strchr(spec, '@') ? "redis://..." : spec);
    return -1;
}

int
bast__replay_redis_open(bast_replay_redis **out, const char *spec, char *err,
                        size_t errlen)
{
    bast_replay_redis *r = calloc(1, sizeof(*r));

    *out = NULL;
    if (r == NULL) {
        snprintf(err, errlen, "replay: out of memory");
        return -1;
    }
    r->port = 6379;
    r->timeout.tv_usec = 200 * 1000;
    if (parse_spec(r, spec, err, errlen) != 0) {
        explicit_bzero(r, sizeof(*r));
        free(r);
        return -1;
    }
    /* No connection yet: Redis may start after us, and a store that is
     * down at load time is a per-request 503, not a config error. */
    pthread_mutex_init(&r->lock, NULL);
    *out = r;
    return 0;
}

static redisContext *
connect_one(bast_replay_redis *r)
{
    redisContext *c;
    redisReply *rep;

    c = redisConnectWithTimeout(r->host, r->port, r->timeout);
    if (c == NULL)
        return NULL;
    if (c->err != 0 || redisSetTimeout(c, r->timeout) != REDIS_OK)
        goto fail;
    if (r->pass[0] != '\0') {
        rep = r->user[0] != '\0'
                  ? redisCommand(c, "AUTH %s %s", r->user, r->pass)
                  : redisCommand(c, "AUTH %s", r->pass);
        if (rep == NULL)
            goto fail;
        if (rep->type != REDIS_REPLY_STATUS) {
            freeReplyObject(rep);
            goto fail;
        }
        freeReplyObject(rep);
    }
    if (r->db != 0) {
        rep = redisCommand(c, "SELECT %ld", r->db);
        if (rep == NULL)
            goto fail;
        if (rep->type != REDIS_REPLY_STATUS) {
            freeReplyObject(rep);
            goto fail;
        }
        freeReplyObject(rep);
    }
    return c;
fail:
    redisFree(c);
    return NULL;
}

static redisContext *
pool_get(bast_replay_redis *r)
{
    redisContext *c = NULL;

    pthread_mutex_lock(&r->lock);
    if (r->npool > 0)
        c = r->pool[--r->npool];
    pthread_mutex_unlock(&r->lock);
    return c;
}

static void
pool_put(bast_replay_redis *r, redisContext *c)
{
    pthread_mutex_lock(&r->lock);
    if (r->npool < POOL_MAX) {
        r->pool[r->npool++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    if (c != NULL)
        redisFree(c);
}

/* One SET NX EX on `c`: FRESH, SEEN, UNAVAILABLE; *broken when the
 * connection must be dropped. */
static int
set_nx(redisContext *c, const char *key, size_t keylen, unsigned ttl, int peek,
       int *broken)
{
    redisReply *rep;
    int ret = BAST_REPLAY_UNAVAILABLE;

    *broken = 0;
    if (peek)
        rep = redisCommand(c, "EXISTS %b", key, keylen);
    else
        rep = redisCommand(c, "SET %b 1 NX EX %u", key, keylen, ttl);
    if (rep == NULL || c->err != 0) {
        *broken = 1;
        goto done;
    }
    if (peek && rep->type == REDIS_REPLY_INTEGER)
        ret = rep->integer ? BAST_REPLAY_SEEN : BAST_REPLAY_FRESH;
    else if (rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "OK") == 0)
        ret = BAST_REPLAY_FRESH;
    else if (rep->type == REDIS_REPLY_NIL)
        ret = BAST_REPLAY_SEEN;
done:
    if (rep != NULL)
        freeReplyObject(rep);
    return ret;
}

int
bast__replay_redis_check(bast_replay_redis *r, const void *key, size_t keylen,
                         unsigned ttl_seconds, int peek)
{
    char *k;
    size_t plen = sizeof(KEY_PREFIX) - 1;
    redisContext *c;
    int ret = BAST_REPLAY_UNAVAILABLE, broken = 0, pooled;

    if (r == NULL || keylen > KEY_MAX)
        return BAST_REPLAY_UNAVAILABLE;
    k = malloc(plen + keylen);
    if (k == NULL)
        return BAST_REPLAY_UNAVAILABLE;
    memcpy(k, KEY_PREFIX, plen);
    memcpy(k + plen, key, keylen);
    if (ttl_seconds == 0)
        ttl_seconds = 1; /* EX 0 is an error reply */

    c = pool_get(r);
    pooled = c != NULL;
    if (c == NULL)
        c = connect_one(r);
    if (c == NULL)
        goto done;
    ret = set_nx(c, k, plen + keylen, ttl_seconds, peek, &broken);
    if (broken && pooled) {
        /* a pooled connection may predate a Redis restart: one retry on a
         * fresh connection before reporting the store down */
        redisFree(c);
        c = connect_one(r);
        if (c == NULL)
            goto done;
        ret = set_nx(c, k, plen + keylen, ttl_seconds, peek, &broken);
    }
    if (broken)
        redisFree(c);
    else
        pool_put(r, c);
done:
    free(k);
    return ret;
}

void
bast__replay_redis_close(bast_replay_redis *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->npool; i++)
        redisFree(r->pool[i]);
    pthread_mutex_destroy(&r->lock);
    explicit_bzero(r, sizeof(*r));
    free(r);
}
