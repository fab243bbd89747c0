/*
 * hmac_int.h - what the files of the hmac plugin share: the instance
 * state, the keyring read from the secrets file, the MAC helpers and one
 * verify function per profile.  Nothing here is exported: the plugin's one
 * public symbol is the descriptor in hmac.c.
 */
#ifndef BAST_HMAC_INT_H
#define BAST_HMAC_INT_H

#include "bast_plugin.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define HMAC_ID_MAX 128     /* key ids, owners, nonces, message ids */
#define HMAC_SECRET_MIN 16  /* bytes; shorter shared secrets are refused */
#define HMAC_SECRET_MAX 512 /* bytes */
#define HMAC_SECRETS_PER_KEY 8
#define HMAC_HEADER_MAX 16384 /* any one header we parse */

typedef enum hmac_profile {
    PROF_BAST = 1,
    PROF_SIGV4,
    PROF_STRIPE,
    PROF_STDWH
} hmac_profile;

#define HMAC_POOL 16 /* contexts kept per secret and per digest */

/* Contexts reused across requests: a thread takes a free slot (atomic
 * flag), uses it and gives it back; when all are busy it makes a
 * throw-away copy.  Reusing saves the allocations and key setup that
 * dominate a small HMAC. */
typedef struct hmac_pool hmac_pool;

/* One shared secret with its HMAC context keyed once at load time. */
typedef struct hmac_secret {
    unsigned char *bytes;
    size_t len;
    EVP_MAC_CTX *tmpl;
    hmac_pool *pool; /* of EVP_MAC_CTX copies of tmpl */
} hmac_secret;

typedef struct hmac_key {
    char *id;
    char *owner;
    hmac_secret secrets[HMAC_SECRETS_PER_KEY]; /* newest first */
    size_t nsecrets;
} hmac_key;

typedef struct hmac_keyring {
    hmac_key *keys; /* sorted by id */
    size_t n;
} hmac_keyring;

typedef struct hmac_state {
    const bast_instance *inst;
    hmac_profile profile;
    long long window;   /* seconds, checked both ways */
    int trust_declared; /* bast: accept X-Body-Hash when no body */
    const char *mdname; /* "SHA256", "SHA384", "SHA512" */
    size_t mdlen;
    EVP_MD *md;             /* `digest`; SHA-256 outside the bast profile */
    EVP_MAC *mac;           /* HMAC */
    hmac_pool *mdpool;      /* EVP_MD_CTX for `md` */
    char *secrets_path;     /* bast, aws-sigv4: file or SQLite store */
    char *master_path;      /* the store's master key; NULL: a file */
    char *webhook_name;     /* stripe, standard-webhooks: the identity */
    char *region, *service; /* aws-sigv4: required scope, NULL = any */
    hmac_keyring ring;      /* webhooks: one key with id "" */
} hmac_state;

/* ---- secrets.c ---------------------------------------------------------- */

/* Load `path` (mode checked) into `ring`: lines `keyid owner secret...`.
 * Returns 0, or -1 with "path:line: message" in err. */
int hmac_ring_load(hmac_keyring *ring, const char *path, char *err,
                   size_t errlen);
/* Load a webhook secret file: one secret per line (newest first). */
int hmac_ring_load_webhook(hmac_keyring *ring, const char *path, int stdwh,
                           char *err, size_t errlen);
/* Key the HMAC templates of every secret with `mdname`. */
int hmac_ring_prepare(hmac_keyring *ring, EVP_MAC *mac, const char *mdname,
                      char *err, size_t errlen);
const hmac_key *hmac_ring_find(const hmac_keyring *ring, const char *id);
/* Append a key (keys must then be pushed in sorted order, or sorted). */
hmac_key *hmac_ring_push(hmac_keyring *ring, const char *id, const char *owner);
int hmac_key_add_secret(hmac_key *k, const unsigned char *bytes, size_t len);
void hmac_ring_free(hmac_keyring *ring);
/* Write the ring atomically (temp file, fsync, rename), mode 0600. */
int hmac_ring_save(const hmac_keyring *ring, const char *path, char *err,
                   size_t errlen);
/* Printable id/owner/secret text: visible ASCII, no spaces. */
int hmac_token_ok(const char *s, size_t n, size_t max);

/* ---- store.c: SQLite with AES-256-GCM sealed secrets ------------------- */

/* One `bast hmac` change: a new newest secret (with owner), keep only the
 * `keep` newest (0: all), or remove the key. */
typedef struct hmac_change {
    const char *key_id;
    const char *owner;
    const char *secret;
    size_t keep;
    int remove;
} hmac_change;

int hmac_store_load(hmac_keyring *ring, const char *path, const char *mkpath,
                    char *err, size_t errlen);
int hmac_store_apply(const char *path, const char *mkpath,
                     const hmac_change *ch, char *err, size_t errlen);

/* ---- mac.c -------------------------------------------------------------- */

/* MAC over the concatenation of `n` parts with the secret's keyed
 * context.  Returns the MAC length, or 0 on failure. */
size_t hmac_mac(const hmac_secret *s, const void *const *parts,
                const size_t *lens, size_t n, unsigned char *out,
                size_t outsize);
/* Digest of `data` with the state's `md`; returns its length or 0. */
size_t hmac_digest(const hmac_state *st, const void *data, size_t len,
                   unsigned char *out);
hmac_pool *hmac_pool_new(void);
/* Free the pool and its objects with `free_obj`. */
void hmac_pool_free(hmac_pool *p, void (*free_obj)(void *));
void hmac_free_mac_ctx(void *ctx);
void hmac_free_md_ctx(void *ctx);
/* One-shot HMAC with a key given now (SigV4 key derivation). */
size_t hmac_mac_key(EVP_MAC *mac, const char *mdname, const void *key,
                    size_t keylen, const void *data, size_t len,
                    unsigned char *out, size_t outsize);
/* Strict hex (either case) of exactly `n` bytes; 0 or -1. */
int hmac_unhex(const char *s, size_t slen, unsigned char *out, size_t n);
void hmac_hex(const unsigned char *in, size_t n, char *out);
/* The single value of header `name`: NULL when absent; *dup set when the
 * header is repeated or longer than HMAC_HEADER_MAX. */
const char *hmac_header1(const bast_request *req, const char *name, int *dup);
/* ISO 8601 basic UTC `20261128T120000Z` to seconds; 0 or -1. */
int hmac_parse_ts(const char *s, int64_t *out);
/* Seconds since the epoch as sent by webhooks (1..10 digits); 0 or -1. */
int hmac_parse_epoch(const char *s, size_t n, int64_t *out);
/* Set `challenge` on the call: `<scheme> realm="<realm>"`. */
void hmac_challenge(bast_call *call, const char *scheme);
/* Remember `a`/`b` (length-prefixed, so ids cannot be confused) for ttl
 * seconds; reports replay/unavailable on the call.  BAST_RES_SUCCESS when
 * fresh. */
bast_res hmac_replay(const hmac_state *st, bast_call *call, const char *a,
                     const char *b, size_t blen, long long ttl);

/* ---- the profiles -------------------------------------------------------- */

bast_res hmac_verify_bast(const hmac_state *st, bast_call *call);
bast_res hmac_verify_sigv4(const hmac_state *st, bast_call *call);
bast_res hmac_verify_stripe(const hmac_state *st, bast_call *call);
bast_res hmac_verify_stdwh(const hmac_state *st, bast_call *call);

/* ---- admin.c ------------------------------------------------------------- */

int hmac_admin(void *state, const bast_instance *inst, int argc, char **argv);

#endif
