/*
 * ak.h - internal declarations shared by the files of the apikey plugin:
 * the key format (key.c), the SQLite store (store.c), the in-memory index
 * (index.c) and the last-used batch (usage.c).  None of these depend on
 * libbast, so tests link them directly; only apikey.c and admin.c talk to
 * the core.  Nothing here is exported from the plugin (-fvisibility=hidden).
 */
#ifndef AK_H
#define AK_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <stdatomic.h>

/* ---- key format (key.c) ------------------------------------------------
 * <prefix><body: 32 CSPRNG bytes as 44 base58 digits><check: 6 digits>
 * where check is CRC32 of prefix+body, so a typo or a forged-looking key is
 * refused without a store lookup.  The store keeps SHA-256 of the whole
 * text, never the text. */
#define AK_SECRET_BYTES 32
#define AK_BODY_CHARS 44
#define AK_CHECK_CHARS 6
#define AK_PREFIX_MAX 32
#define AK_KEY_MAX (AK_PREFIX_MAX + AK_BODY_CHARS + AK_CHECK_CHARS)
#define AK_ID_PREFIX "key_"
#define AK_ID_CHARS 11 /* 8 random bytes */
#define AK_ID_MAX (sizeof AK_ID_PREFIX - 1 + AK_ID_CHARS)
#define AK_SHOW_CHARS 8 /* body digits kept as the display prefix */
#define AK_DIGEST 32

/* Key check results. */
enum {
    AK_FMT_OK = 0,
    AK_FMT_PREFIX,
    AK_FMT_LENGTH,
    AK_FMT_CHARSET,
    AK_FMT_CHECKSUM
};

int ak_prefix_valid(const char *prefix);
/* Encode n bytes as exactly w base58 digits (leading '1's pad).  -1 when w
 * digits cannot hold the value. */
int ak_b58_fixed(const unsigned char *in, size_t n, char *out, size_t w);
/* A fresh key into out[AK_KEY_MAX+1]; 0 or -1 (CSPRNG failure). */
int ak_key_generate(const char *prefix, char *out, size_t outlen);
/* A fresh key id "key_XXXXXXXXXXX" into out[AK_ID_MAX+1]. */
int ak_id_generate(char *out, size_t outlen);
/* Check a presented key's form without any lookup: AK_FMT_*. */
int ak_key_check(const char *prefix, size_t plen, const char *key, size_t len);
/* The two halves: prefix, length and alphabet (AK_FMT_*); then the CRC
 * (1 right) of a key that has the shape. */
int ak_key_shape(const char *prefix, size_t plen, const char *key, size_t len);
int ak_key_checksum_ok(size_t plen, const char *key);
/* "bast_4Xk9Pq2w" (prefix + AK_SHOW_CHARS digits) into out. */
void ak_key_display(const char *prefix, const char *key, char *out,
                    size_t outlen);
/* SHA-256 of the key text with a prepared md and a reusable ctx. */
int ak_key_digest(EVP_MD_CTX *ctx, const EVP_MD *md, const char *key,
                  size_t len, unsigned char out[AK_DIGEST]);

/* ---- the store (store.c) ---------------------------------------------- */
typedef struct ak_store ak_store;

/* One key as stored (the admin view; never holds the raw key). */
typedef struct ak_rec {
    char id[AK_ID_MAX + 1];
    char *user, *name, *prefix, *scopes, *last_ip, *replaced_by;
    unsigned char hash[AK_DIGEST];
    int64_t created_at, expires_at, last_used_at, revoked_at; /* 0: none */
} ak_rec;
void ak_rec_clear(ak_rec *r);

/* Open (create with mode 0600 when missing) and migrate.  0 or -1. */
int ak_store_open(const char *path, ak_store **out, char *err, size_t errlen);
void ak_store_close(ak_store *st);
/* The change counter bumped by every issue/revoke/rotate. */
int ak_store_generation(ak_store *st, int64_t *gen, char *err, size_t errlen);
int ak_store_insert(ak_store *st, const ak_rec *r, char *err, size_t errlen);
/* 1 revoked now, 0 already revoked, -1 error (err says; 2 no such key). */
int ak_store_revoke(ak_store *st, const char *id, int64_t now, char *err,
                    size_t errlen);
/* Insert `next` and make `old_id` expire at old_expires (if sooner), in
 * one transaction.  -1 error, -2 no such key, -3 key not active. */
int ak_store_rotate(ak_store *st, const char *old_id, const ak_rec *next,
                    int64_t old_expires, int64_t now, char *err, size_t errlen);
/* 0 found, 1 not found, -1 error. */
int ak_store_get(ak_store *st, const char *id, ak_rec *out, char *err,
                 size_t errlen);
/* Calls fn for each key of `user` (all when NULL), ordered by creation. */
int ak_store_list(ak_store *st, const char *user,
                  int (*fn)(void *arg, const ak_rec *r), void *arg, char *err,
                  size_t errlen);

/* Calls fn for every key with the fields the verify index needs, and sets
 * *gen to the generation they belong to (one read transaction). */
typedef int (*ak_scan_fn)(void *arg, const unsigned char *hash, const char *id,
                          const char *user, const char *name,
                          const char *scopes, int64_t expires_at,
                          int64_t revoked_at);
int ak_store_scan(ak_store *st, int64_t *gen, ak_scan_fn fn, void *arg,
                  char *err, size_t errlen);

/* ---- the index (index.c) ----------------------------------------------- */
#define AK_SCOPES_MAX 32 /* scopes per key (admin refuses more) */
typedef _Atomic uint64_t ak_hint;
typedef struct ak_entry {
    /* What verify last recorded for this key, (ip hash << 32 | second):
     * a use that matches it is already in a last-used batch, so the hot
     * path skips the batch's lock for repeated uses in one second. */
    ak_hint *hint;
    int64_t expires_at, revoked_at; /* 0: none */
    const char *id, *user, *name;
    const char *scopes[AK_SCOPES_MAX]; /* nscopes words */
    size_t nscopes;
} ak_entry;
typedef struct ak_index ak_index;

/* Read every key in one read transaction.  NULL with err on failure. */
ak_index *ak_index_load(ak_store *st, int64_t *gen, char *err, size_t errlen);
/* 1 and *out filled (borrowing from ix) when digest is a stored key. */
int ak_index_find(const ak_index *ix, const unsigned char digest[AK_DIGEST],
                  ak_entry *out);
size_t ak_index_size(const ak_index *ix);
void ak_index_free(ak_index *ix);

/* ---- last-used batch (usage.c) ----------------------------------------- */
typedef struct ak_usage ak_usage;
typedef struct ak_use {
    struct ak_use *next;
    uint64_t hash, seq; /* seq: order of the latest use in the batch */
    int64_t at;
    char *key_id, *user, *ip; /* ip "" when unknown */
    int fresh; /* set by ak_store_flush: first use from this ip */
} ak_use;

ak_usage *ak_usage_new(size_t max);
void ak_usage_free(ak_usage *u);
/* Record a use; 1 recorded, 0 dropped (batch full), -1 no memory.
 * *full is set when the batch wants an early flush. */
int ak_usage_record(ak_usage *u, const char *key_id, const char *user,
                    const char *ip, int64_t at, int *full);
/* Take everything recorded so far, ordered by latest use (oldest first,
 * so writing in list order leaves each key's latest address); the caller
 * frees it with ak_usage_list_free.  Recording goes on in a fresh batch. */
ak_use *ak_usage_take(ak_usage *u, size_t *dropped);
void ak_usage_list_free(ak_use *list);
/* Write a taken batch: last_used_at/last_ip per key, and (key, ip) pairs
 * never seen before into key_ips; on_new_ip runs for each such pair after
 * the commit.  0 or -1. */
int ak_store_flush(ak_store *st, ak_use *list,
                   void (*on_new_ip)(void *arg, const ak_use *u), void *arg,
                   char *err, size_t errlen);

/* ---- management commands (admin.c) ------------------------------------ */
struct bast_instance;
typedef struct ak_conf {
    char path[4096];                /* the SQLite file */
    char prefix[AK_PREFIX_MAX + 1]; /* key prefix */
    long long grace;                /* default rotation grace, seconds */
} ak_conf;
int ak_admin(const ak_conf *c, const struct bast_instance *inst, int argc,
             char **argv);

#endif
