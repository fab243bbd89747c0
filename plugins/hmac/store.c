/*
 * store.c - the hmac plugin's SQLite key store, for operators who do not
 * want shared secrets in clear on disk.  Options `store_file` (the
 * database, created 0600 on first use) and `master_key_file` (32 bytes as
 * 64 hex characters, mode 0600).  Each secret is sealed with AES-256-GCM
 * under the master key, a fresh 96-bit nonce per row, and the key id,
 * owner and row number as associated data, so rows cannot be swapped
 * between keys.  Loaded and decrypted once at open; `bast hmac` commands
 * change the database in a transaction.  A row that does not decrypt is a
 * load error (wrong master key or tampering), never a skipped key.
 */
#include "hmac_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MK_LEN 32
#define IV_LEN 12
#define TAG_LEN 16

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS hmac_keys ("
    " key_id TEXT NOT NULL, owner TEXT NOT NULL, seq INTEGER NOT NULL,"
    " iv BLOB NOT NULL, sealed BLOB NOT NULL, created INTEGER NOT NULL,"
    " PRIMARY KEY (key_id, seq))";

static int
read_master(const char *path, unsigned char key[MK_LEN], char *err,
            size_t errlen)
{
    char why[256], text[160];
    size_t n;
    FILE *f;

    if (bast_secret_file_check(path, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    if (hmac_unhex(text, n, key, MK_LEN) != 0) {
        OPENSSL_cleanse(text, sizeof(text));
        snprintf(err, errlen, "%s: expected 64 hex characters (32 bytes)",
                 path);
        return -1;
    }
    OPENSSL_cleanse(text, sizeof(text));
    return 0;
}

/* Associated data: binds a sealed secret to its key id, owner and row. */
static int
aad(char *buf, size_t len, const char *id, const char *owner, long long seq)
{
    int n = snprintf(buf, len, "bast-hmac-v1%c%s%c%s%c%lld", 0, id, 0, owner, 0,
                     seq);
    return n > 0 && (size_t)n < len ? n : -1;
}

/* AES-256-GCM; `out` gets ciphertext then tag.  Returns its length. */
static int
seal(const unsigned char *mk, const unsigned char *iv, const char *ad,
     int adlen, const unsigned char *in, int inlen, unsigned char *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, m = 0, ok;

    ok = c != NULL && EVP_EncryptInit_ex2(c, EVP_aes_256_gcm(), mk, iv, NULL) &&
         EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)ad, adlen) &&
         EVP_EncryptUpdate(c, out, &n, in, inlen) &&
         EVP_EncryptFinal_ex(c, out + n, &m) &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out + n + m);
    EVP_CIPHER_CTX_free(c);
    return ok ? n + m + TAG_LEN : -1;
}

static int
unseal(const unsigned char *mk, const unsigned char *iv, const char *ad,
       int adlen, const unsigned char *in, int inlen, unsigned char *out)
{
    EVP_CIPHER_CTX *c;
    int n = 0, m = 0, ok;

    if (inlen < TAG_LEN || inlen - TAG_LEN > HMAC_SECRET_MAX)
        return -1;
    c = EVP_CIPHER_CTX_new();
    ok = c != NULL && EVP_DecryptInit_ex2(c, EVP_aes_256_gcm(), mk, iv, NULL) &&
         EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)ad, adlen) &&
         EVP_DecryptUpdate(c, out, &n, in, inlen - TAG_LEN) &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
                             (void *)(in + inlen - TAG_LEN)) &&
         EVP_DecryptFinal_ex(c, out + n, &m) > 0;
    EVP_CIPHER_CTX_free(c);
    return ok ? n + m : -1;
}

/* Open (creating 0600 when missing) and check the database file. */
static sqlite3 *
db_open(const char *path, char *err, size_t errlen)
{
    char why[256];
    sqlite3 *db = NULL;
    int fd;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    if (bast_secret_file_check(path, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(db, 2000) != SQLITE_OK ||
        sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path,
                 db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

int
hmac_store_load(hmac_keyring *ring, const char *path, const char *mkpath,
                char *err, size_t errlen)
{
    unsigned char mk[MK_LEN], plain[HMAC_SECRET_MAX];
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    hmac_key *k = NULL;
    char ad[2 * HMAC_ID_MAX + 64];
    int ret = -1, rc;

    if (read_master(mkpath, mk, err, errlen) != 0)
        return -1;
    db = db_open(path, err, errlen);
    if (db == NULL)
        goto done;
    if (sqlite3_prepare_v2(db,
                           "SELECT key_id, owner, seq, iv, sealed FROM "
                           "hmac_keys ORDER BY key_id, seq DESC",
                           -1, &q, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
        goto done;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(q, 0);
        const char *owner = (const char *)sqlite3_column_text(q, 1);
        long long seq = sqlite3_column_int64(q, 2);
        const void *iv = sqlite3_column_blob(q, 3);
        const void *sealed = sqlite3_column_blob(q, 4);
        int adlen, n;

        if (id == NULL || owner == NULL || iv == NULL || sealed == NULL ||
            sqlite3_column_bytes(q, 3) != IV_LEN ||
            !hmac_token_ok(id, strlen(id), HMAC_ID_MAX) ||
            !hmac_token_ok(owner, strlen(owner), HMAC_ID_MAX) ||
            (adlen = aad(ad, sizeof(ad), id, owner, seq)) < 0 ||
            (n = unseal(mk, iv, ad, adlen, sealed, sqlite3_column_bytes(q, 4),
                        plain)) < HMAC_SECRET_MIN) {
            snprintf(err, errlen,
                     "%s: key '%s' does not decrypt (wrong master key or a "
                     "tampered row)",
                     path, id ? id : "?");
            goto done;
        }
        if (k == NULL || strcmp(k->id, id) != 0) {
            k = hmac_ring_push(ring, id, owner);
            if (k == NULL) {
                snprintf(err, errlen, "%s: out of memory", path);
                goto done;
            }
        }
        /* rows beyond the per-key limit are older secrets: not loaded */
        if (k->nsecrets < HMAC_SECRETS_PER_KEY &&
            hmac_key_add_secret(k, plain, (size_t)n) != 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto done;
        }
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
        goto done;
    }
    ret = 0;
done:
    OPENSSL_cleanse(mk, sizeof(mk));
    OPENSSL_cleanse(plain, sizeof(plain));
    sqlite3_finalize(q);
    sqlite3_close(db);
    return ret;
}

/* Insert a new sealed secret as the key's newest row. */
static int
insert_secret(sqlite3 *db, const unsigned char *mk, const char *id,
              const char *owner, const char *secret)
{
    unsigned char iv[IV_LEN], sealed[HMAC_SECRET_MAX + TAG_LEN];
    sqlite3_stmt *q = NULL;
    char ad[2 * HMAC_ID_MAX + 64];
    long long seq = 1;
    int adlen, n, ok = 0;

    if (sqlite3_prepare_v2(db,
                           "SELECT coalesce(max(seq), 0) + 1 FROM hmac_keys "
                           "WHERE key_id = ?",
                           -1, &q, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        seq = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    if (RAND_bytes(iv, IV_LEN) != 1 ||
        (adlen = aad(ad, sizeof(ad), id, owner, seq)) < 0 ||
        (n = seal(mk, iv, ad, adlen, (const unsigned char *)secret,
                  (int)strlen(secret), sealed)) < 0 ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO hmac_keys (key_id, owner, seq, iv, "
                           "sealed, created) VALUES (?, ?, ?, ?, ?, "
                           "strftime('%s','now'))",
                           -1, &q, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, seq);
    sqlite3_bind_blob(q, 4, iv, IV_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(q, 5, sealed, n, SQLITE_STATIC);
    ok = sqlite3_step(q) == SQLITE_DONE;
    sqlite3_finalize(q);
    return ok ? 0 : -1;
}

/* Run one statement with a key id and an optional integer. */
static int
exec_id(sqlite3 *db, const char *sql, const char *id, long long n)
{
    sqlite3_stmt *q = NULL;
    int ok;

    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(q) > 1)
        sqlite3_bind_int64(q, 2, n);
    ok = sqlite3_step(q) == SQLITE_DONE;
    sqlite3_finalize(q);
    return ok ? 0 : -1;
}

int
hmac_store_apply(const char *path, const char *mkpath, const hmac_change *ch,
                 char *err, size_t errlen)
{
    unsigned char mk[MK_LEN];
    sqlite3 *db = NULL;
    int ret = -1;

    if (read_master(mkpath, mk, err, errlen) != 0)
        return -1;
    db = db_open(path, err, errlen);
    if (db == NULL)
        goto done;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto sqlerr;
    if (ch->secret != NULL &&
        insert_secret(db, mk, ch->key_id, ch->owner, ch->secret) != 0)
        goto sqlerr;
    if (ch->keep > 0 &&
        exec_id(db,
                "DELETE FROM hmac_keys WHERE key_id = ?1 AND seq NOT IN "
                "(SELECT seq FROM hmac_keys WHERE key_id = ?1 "
                "ORDER BY seq DESC LIMIT ?2)",
                ch->key_id, (long long)ch->keep) != 0)
        goto sqlerr;
    if (ch->remove && exec_id(db, "DELETE FROM hmac_keys WHERE key_id = ?",
                              ch->key_id, 0) != 0)
        goto sqlerr;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto sqlerr;
    ret = 0;
    goto done;
sqlerr:
    snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
done:
    OPENSSL_cleanse(mk, sizeof(mk));
    sqlite3_close(db);
    return ret;
}
