/*
 * fuzz_apikey.c - the apikey plugin's request side: where the key is
 * looked for (Authorization Bearer, X-Api-Key, the query parameter when
 * allowed), the key format check (prefix, base58 body, CRC check digits),
 * the digest lookup in the index and the scope check.  The store holds
 * the seed key (tests/fuzz/data/apikey.key) so seeds reach success.  The
 * first byte picks the app: "a" headers only with required scopes, "b"
 * with the query key allowed.
 */
#include "common.h"

#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static bast_ctx *ctx;

/* The plugin made the schema; add the seed key the way `bast apikey
 * issue` would (SHA-256 of the key text) and bump the generation. */
static void
add_key(const char *db_path)
{
    size_t n;
    char *key = fz_read_data("apikey.key", &n);
    while (n && (key[n - 1] == '\n' || key[n - 1] == '\r'))
        key[--n] = 0;
    unsigned char h[32];
    unsigned hl = 0;
    if (!EVP_Digest(key, n, h, &hl, EVP_sha256(), NULL))
        abort();
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    if (sqlite3_open(db_path, &db) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO keys (id, user, name, hash, prefix,"
                           " scopes, created_at) VALUES ('key_fuzz0000001',"
                           " 'alice', 'fuzz', ?1, 'bast_', 'read write', 1)",
                           -1, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "fuzz: store: %s\n", sqlite3_errmsg(db));
        abort();
    }
    sqlite3_bind_blob(s, 1, h, 32, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE)
        abort();
    sqlite3_finalize(s);
    sqlite3_exec(db, "UPDATE meta SET v = v + 1 WHERE k = 'generation'", NULL,
                 NULL, NULL);
    sqlite3_close(db);
    free(key);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_keep_plugins("apikey");
    fz_global_conf();
    fz_write_text("conf.d/a.conf",
                  "[app]\nrealm = fuzz\n\n[key]\nplugin = apikey\n"
                  "control = required\nstore = sqlite:keys.db\n"
                  "required_scopes = read\n",
                  0644);
    fz_write_text("conf.d/b.conf",
                  "[app]\n\n[key]\nplugin = apikey\ncontrol = required\n"
                  "store = sqlite:keys.db\nallow_query_key = yes\n"
                  "headers = X-Api-Key, Authorization: Bearer\n",
                  0644);
    bast_close(fz_open_or_die()); /* creates and migrates the store */
    add_key(fz_path("keys.db"));
    ctx = fz_open_or_die();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_two_apps(ctx, data, size);
    return 0;
}
