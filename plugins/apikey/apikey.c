/*
 * apikey.c - the `apikey` plugin: long-lived bearer keys checked against an
 * SQLite store (docs/apikey.md).  Options: store (sqlite:PATH), prefix,
 * headers, allow_query_key, query_param, refresh, required_scopes, grace,
 * last_used_flush.  Results: absent (no key), malformed (two keys, empty
 * key), deny invalid_token (bad prefix, length or alphabet, refused before
 * hashing; or a checksum mismatch, told apart from an unknown key after
 * the in-memory lookup), deny unknown_key / revoked / token_expired,
 * forbidden insufficient_scope, unavailable store_unavailable (the store
 * could not be read for too long, so revocations might be missed), success
 * with the key's owner as identity and key_id / scopes as attributes.
 * Each instance owns a thread that polls the store's change counter every
 * `refresh` and swaps in a new immutable index, and writes the last-used
 * batch every `last_used_flush` and at close.
 */
#include "ak.h"
#include "bast_plugin.h"

#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "apikey_int.h"

static const char *const known[] = {
    "store",   "prefix",          "headers", "allow_query_key", "query_param",
    "refresh", "required_scopes", "grace",   "last_used_flush", "attributes",
    NULL};

static int64_t
mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* ---- the background thread -------------------------------------------- */

static void
on_new_ip(void *arg, const ak_use *u)
{
    ak_inst *a = arg;
    json_t *o = json_pack("{s:s, s:s, s:s}", "key_id", u->key_id, "user",
                          u->user, "address", u->ip);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    bast_audit_event(a->inst, "apikey.new_ip", text);
    free(text);
    json_decref(o);
}

static void
do_flush(ak_inst *a)
{
    size_t dropped = 0;
    ak_use *list = ak_usage_take(a->usage, &dropped);
    char err[256];

    if (dropped)
        bast_log(a->inst, 4, "last-used batch full: %zu uses not recorded",
                 dropped);
    if (list && ak_store_flush(a->st, list, on_new_ip, a, err, sizeof err))
        bast_log(a->inst, 3, "last-used update lost: %s", err);
    ak_usage_list_free(list);
}

/* The path must still name the file the connection has open.  A file
 * moved over a store in use (a backup "restored" with mv) or removed
 * leaves this process reading the old one, and reopening is no cure: the
 * old -wal and -shm files would be read with the new one.  So it counts
 * as a failed refresh (503 past the bound) until a reload opens it anew;
 * backups are restored with sqlite3's .restore, which takes the locks. */
static int
same_file(ak_inst *a, char *err, size_t errlen)
{
    struct stat sb;

    if (stat(a->conf.path, &sb) != 0 || sb.st_dev != a->st_dev ||
        sb.st_ino != a->st_ino) {
        snprintf(err, errlen,
                 "store: %.200s was replaced or removed while open; reload "
                 "to open the new file (restore backups with sqlite3 "
                 ".restore)",
                 a->conf.path);
        return -1;
    }
    return 0;
}

static void
do_refresh(ak_inst *a)
{
    char err[512];
    int64_t gen = 0;
    ak_index *ix, *old;
    int i;

    if (same_file(a, err, sizeof err) != 0 ||
        ak_store_generation(a->st, &gen, err, sizeof err) != 0)
        goto bad;
    if (gen != a->gen) {
        if (!(ix = ak_index_load(a->st, &gen, err, sizeof err)))
            goto bad;
        for (i = 0; i < AK_NSTRIPES; i++)
            pthread_rwlock_wrlock(&a->ixlock[i].lock);
        old = a->ix;
        a->ix = ix;
        for (i = 0; i < AK_NSTRIPES; i++)
            pthread_rwlock_unlock(&a->ixlock[i].lock);
        /* No reader can hold `old` once the write lock was granted. */
        ak_index_free(old);
        a->gen = gen;
    }
    if (a->failing)
        bast_log(a->inst, 6, "store readable again");
    a->failing = 0;
    a->last_ok = mono_now();
    atomic_store(&a->stale, 0);
    return;
bad:
    if (!a->failing)
        bast_log(a->inst, 4, "index refresh failed: %s", err);
    a->failing = 1;
    /* Past this the index may be missing revocations: fail closed. */
    if (mono_now() - a->last_ok > a->stale_after &&
        !atomic_exchange(&a->stale, 1))
        bast_log(a->inst, 3,
                 "store unreadable for over %llds: refusing"
                 " keys until it is back",
                 a->stale_after);
}

static void *
run(void *arg)
{
    ak_inst *a = arg;
    int64_t now = mono_now();
    int64_t next_refresh = now + a->refresh, next_flush = now + a->flush;

    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        struct timespec dl = {.tv_sec = (time_t)(next_refresh < next_flush
                                                     ? next_refresh
                                                     : next_flush)};
        int early;
        if (!a->flush_now)
            pthread_cond_timedwait(&a->cv, &a->mu, &dl);
        if (a->stop)
            break;
        early = a->flush_now;
        a->flush_now = 0;
        pthread_mutex_unlock(&a->mu);
        now = mono_now();
        if (early || now >= next_flush) {
            do_flush(a);
            next_flush = now + a->flush;
        }
        if (now >= next_refresh) {
            do_refresh(a);
            next_refresh = now + a->refresh;
        }
        pthread_mutex_lock(&a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* ---- verify ------------------------------------------------------------ */

static EVP_MD_CTX *
ctx_get(ak_inst *a, int *slot)
{
    /* start at this thread's stripe: threads rarely try the same slot */
    unsigned first = ak_stripe() * (AK_NPOOL / AK_NSTRIPES);
    for (int k = 0; k < AK_NPOOL; k++) {
        int i = (int)((first + (unsigned)k) % AK_NPOOL);
        if (!atomic_exchange(&a->pool[i].busy, 1)) {
            *slot = i;
            return a->pool[i].ctx;
        }
    }
    *slot = -1; /* more threads than slots: a private context */
    return EVP_MD_CTX_new();
}

static void
ctx_put(ak_inst *a, EVP_MD_CTX *ctx, int slot)
{
    if (slot < 0)
        EVP_MD_CTX_free(ctx);
    else
        atomic_store(&a->pool[slot].busy, 0);
}

/* FNV-1a of the address: a tag for the hint, not a security measure. */
static uint32_t
ip_hash(const char *ip)
{
    uint32_t h = 2166136261u;
    for (; *ip; ip++)
        h = (h ^ (unsigned char)*ip) * 16777619u;
    return h;
}

static bast_res
fail_with(ak_inst *a, bast_call *call, bast_res res, const char *error,
          const char *desc)
{
    bast_call_set_error(call, error, "%s", desc);
    if (res == BAST_RES_DENY)
        bast_call_add_challenge(call, a->ch_invalid);
    else if (res == BAST_RES_FORBIDDEN)
        bast_call_add_challenge(call, a->ch_scope);
    else if (res == BAST_RES_MALFORMED)
        bast_call_add_challenge(call, a->ch_request);
    return res;
}

static int
has_scope(const ak_entry *e, const char *want)
{
    for (size_t i = 0; i < e->nscopes; i++)
        if (strcmp(e->scopes[i], want) == 0)
            return 1;
    return 0;
}

/* Judge one presented key (the request holds exactly this one). */
static bast_res
check_key(ak_inst *a, bast_call *call, const char *key, size_t klen)
{
    const bast_request *req = bast_call_request(call);
    const char *addr = bast_req_remote_addr(req);
    unsigned char digest[AK_DIGEST];
    size_t i;
    ak_entry e;
    EVP_MD_CTX *ctx;
    int slot, rc, full = 0;
    int64_t now = bast_call_now(call);
    uint64_t hint;
    unsigned stripe;
    pthread_rwlock_t *lock;
    bast_res res;

    if (klen > AK_KEY_MAX)
        return fail_with(a, call, BAST_RES_DENY, "invalid_token",
                         "API key too long");
    switch (ak_key_shape(a->conf.prefix, a->plen, key, klen)) {
    case AK_FMT_OK:
        break;
    case AK_FMT_PREFIX:
        return fail_with(a, call, BAST_RES_DENY, "invalid_token",
                         "not a key of this issuer (prefix)");
    default:
        return fail_with(a, call, BAST_RES_DENY, "invalid_token",
                         "not a well-formed API key");
    }
    if (atomic_load_explicit(&a->stale, memory_order_relaxed)) {
        bast_call_set_error(call, "store_unavailable",
                            "key store not readable for over %llds",
                            a->stale_after);
        return BAST_RES_UNAVAILABLE;
    }
    ctx = ctx_get(a, &slot);
    rc = ctx ? ak_key_digest(ctx, a->md, key, klen, digest) : -1;
    if (ctx)
        ctx_put(a, ctx, slot);
    if (rc != 0) {
        bast_call_set_error(call, "internal_error", "SHA-256 failed");
        return BAST_RES_UNAVAILABLE;
    }

    stripe = ak_stripe();
    lock = &a->ixlock[stripe].lock;
    pthread_rwlock_rdlock(lock);
    if (!ak_index_find(a->ix, digest, &e)) {
        /* The CRC is checked only here: a key found in the index was
         * issued, so its check digits are right by construction, and the
         * success path saves a CRC that costs about as much as the hash.
         * Every key that is not found pays for it, so a typo and an
         * unknown key are told apart in the same time. */
        if (!ak_key_checksum_ok(a->plen, key))
            res = fail_with(a, call, BAST_RES_DENY, "invalid_token",
                            "API key checksum mismatch");
        else
            res = fail_with(a, call, BAST_RES_DENY, "unknown_key",
                            "no such API key");
        goto done;
    }
    if (e.revoked_at) {
        res = fail_with(a, call, BAST_RES_DENY, "revoked", "API key revoked");
        goto done;
    }
    if (e.expires_at && now >= e.expires_at) {
        res = fail_with(a, call, BAST_RES_DENY, "token_expired",
                        "API key expired");
        goto done;
    }
    /* A key that authenticated is a use, even when scopes then refuse.
     * The hint is stored only after the batch holds the use, so a skipped
     * use is always one some batch already has. */
    hint = ((uint64_t)ip_hash(addr ? addr : "") << 32) | (uint32_t)now;
    if (atomic_load_explicit(e.hint, memory_order_relaxed) != hint) {
        rc = ak_usage_record(a->usage, e.id, e.user, addr ? addr : "", now,
                             &full);
        if (rc > 0)
            atomic_store_explicit(e.hint, hint, memory_order_relaxed);
        else if (rc < 0)
            bast_log(a->inst, 4, "last-used: out of memory");
    }
    for (i = 0; i < a->nreq; i++)
        if (!has_scope(&e, a->req[i])) {
            bast_call_set_error(call, "insufficient_scope",
                                "API key %s lacks scope %s", e.id, a->req[i]);
            bast_call_add_challenge(call, a->ch_scope);
            res = BAST_RES_FORBIDDEN;
            goto done;
        }
    if (bast_call_set_identity(call, e.user) != 0 ||
        ((a->attrs & AK_ATTR_KEY_ID) &&
         bast_call_set_attr_str(call, "key_id", e.id) != 0) ||
        ((a->attrs & AK_ATTR_KEY_NAME) &&
         bast_call_set_attr_str(call, "key_name", e.name) != 0) ||
        ((a->attrs & AK_ATTR_SCOPES) &&
         bast_call_set_attr_strv(call, "scopes", e.scopes, e.nscopes) != 0)) {
        bast_call_set_error(call, "internal_error", "out of memory");
        res = BAST_RES_UNAVAILABLE;
        goto done;
    }
    res = BAST_RES_SUCCESS;
done:
    pthread_rwlock_unlock(lock);
    if (full) {
        pthread_mutex_lock(&a->mu);
        a->flush_now = 1;
        pthread_cond_signal(&a->cv);
        pthread_mutex_unlock(&a->mu);
    }
    return res;
}

static bast_res
verify(void *state, bast_call *call)
{
    ak_inst *a = state;
    char qbuf[AK_KEY_MAX + 2];
    const char *key = NULL;
    size_t klen = 0, count;
    bast_res res;

    count =
        ak_find_key(a, bast_call_request(call), qbuf, sizeof qbuf, &key, &klen);
    if (count == 0) {
        bast_call_add_challenge(call, a->ch_plain);
        return BAST_RES_ABSENT;
    }
    if (count > 1)
        res = fail_with(a, call, BAST_RES_MALFORMED, "invalid_request",
                        "more than one API key in the request");
    else if (klen == 0)
        res = fail_with(a, call, BAST_RES_MALFORMED, "invalid_request",
                        "empty API key");
    else
        res = check_key(a, call, key, klen);
    if (key == qbuf) /* a key decoded from the query string */
        OPENSSL_cleanse(qbuf, sizeof qbuf);
    return res;
}

/* ---- open / close / admin ---------------------------------------------- */

static void
close_inst(void *state)
{
    ak_inst *a = state;
    if (!a)
        return;
    if (a->thread_started) {
        pthread_mutex_lock(&a->mu);
        a->stop = 1;
        pthread_cond_signal(&a->cv);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->thread, NULL);
    }
    /* The last batch: a clean stop loses no last-used update. */
    if (a->st && a->usage)
        do_flush(a);
    ak_inst_free(a);
}

static int
open_inst(const bast_instance *inst, const bast_option *opts, size_t nopts,
          void **state, char *err, size_t errlen)
{
    ak_inst *a;
    int64_t gen = 0;
    struct stat sb;

    *state = NULL;
    if (bast_opts_check(opts, nopts, known, err, errlen) != 0)
        return -1;
    if (!(a = ak_inst_new(inst))) {
        snprintf(err, errlen, "apikey: out of memory");
        return -1;
    }
    if (ak_parse_options(a, opts, nopts, err, errlen) != 0)
        goto bad;
    if (ak_store_open(a->conf.path, &a->st, err, errlen) != 0)
        goto bad;
    /* Whoever can write the store can mint keys. */
    if (stat(a->conf.path, &sb) != 0 || (sb.st_mode & 022)) {
        snprintf(err, errlen, "%s:%d: store: %s is group- or world-writable",
                 bast_inst_file(inst), bast_inst_line(inst), a->conf.path);
        goto bad;
    }
    a->st_dev = sb.st_dev;
    a->st_ino = sb.st_ino;
    if (!(a->ix = ak_index_load(a->st, &gen, err, errlen)))
        goto bad;
    a->gen = gen;
    a->last_ok = mono_now();
    if (pthread_create(&a->thread, NULL, run, a) != 0) {
        snprintf(err, errlen, "apikey: cannot start the refresh thread");
        goto bad;
    }
    a->thread_started = 1;
    *state = a;
    return 0;
bad:
    close_inst(a);
    return -1;
}

static int
admin(void *state, const bast_instance *inst, int argc, char **argv)
{
    ak_inst *a = state;
    return ak_admin(&a->conf, inst, argc, argv);
}

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "apikey", "1.0", open_inst, verify,
                   close_inst, admin);
