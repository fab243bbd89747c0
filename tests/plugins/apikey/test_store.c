/*
 * test_store.c - unit test of the apikey plugin's key format, SQLite store
 * (migrations, issue/revoke/rotate, generation), verify index and
 * last-used batch, linked directly against the plugin's sources.  Prints
 * TAP-style "ok -" / "not ok -" lines for tests/run.
 */
#include "../../../plugins/apikey/ak.h"

#include <openssl/rand.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static int failures;

#define CHECK(cond, what)                                                      \
    do {                                                                       \
        if (cond)                                                              \
            printf("ok - %s\n", what);                                         \
        else {                                                                 \
            printf("not ok - %s (%s:%d)\n", what, __FILE__, __LINE__);         \
            failures++;                                                        \
        }                                                                      \
    } while (0)

static EVP_MD *md;
static EVP_MD_CTX *ctx;

static void
test_format(void)
{
    unsigned char zero[32] = {0}, one[32] = {0}, big[4] = {255, 255, 255, 255};
    char out[64], key[AK_KEY_MAX + 1], bad[AK_KEY_MAX + 1];
    size_t len, plen = 5, i, caught = 0;

    CHECK(ak_b58_fixed(zero, 32, out, 44) == 0 && strspn(out, "1") == 44 &&
              strlen(out) == 44,
          "base58: zero bytes are all '1' at fixed width");
    one[31] = 1;
    CHECK(ak_b58_fixed(one, 32, out, 44) == 0 && out[43] == '2' &&
              strspn(out, "1") == 43,
          "base58: value 1 is '1...12'");
    CHECK(ak_b58_fixed(big, 4, out, 5) == -1, "base58: overflow is refused");
    CHECK(ak_b58_fixed(big, 4, out, 6) == 0 && strcmp(out, "7YXq9G") == 0,
          "base58: 0xffffffff is 7YXq9G");

    CHECK(ak_key_generate("bast_", key, sizeof key) == 0, "generate a key");
    len = strlen(key);
    CHECK(len == 5 + AK_BODY_CHARS + AK_CHECK_CHARS &&
              strncmp(key, "bast_", 5) == 0,
          "key has the prefix and fixed length");
    CHECK(ak_key_check("bast_", plen, key, len) == AK_FMT_OK,
          "a fresh key passes the format check");
    CHECK(ak_key_check("acme_", plen, key, len) == AK_FMT_PREFIX,
          "another prefix is refused");
    CHECK(ak_key_check("bast_", plen, key, len - 1) == AK_FMT_LENGTH,
          "a short key is refused");
    memcpy(bad, key, len + 1);
    bad[10] = '0'; /* not in the base58 alphabet */
    CHECK(ak_key_check("bast_", plen, bad, len) == AK_FMT_CHARSET,
          "a character outside base58 is refused");
    /* CRC32 catches every single-character substitution. */
    for (i = plen; i < len; i++) {
        memcpy(bad, key, len + 1);
        bad[i] = bad[i] == 'z' ? 'y' : 'z';
        caught += ak_key_check("bast_", plen, bad, len) == AK_FMT_CHECKSUM;
    }
    CHECK(caught == len - plen, "every one-character typo fails the checksum");
    memcpy(bad, key, len + 1);
    bad[6] = key[7];
    bad[7] = key[6];
    CHECK(key[6] == key[7] ||
              ak_key_check("bast_", plen, bad, len) == AK_FMT_CHECKSUM,
          "a transposition fails the checksum");
    {
        static const char alpha[] =
            "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        int right = 1;
        for (int ch = 1; ch < 256; ch++) {
            int in = strchr(alpha, ch) != NULL, r;
            memcpy(bad, key, len + 1);
            bad[20] = (char)ch;
            r = ak_key_check("bast_", plen, bad, len);
            if (in ? r == AK_FMT_CHARSET : r != AK_FMT_CHARSET)
                right = 0;
        }
        CHECK(right, "exactly the 58 base58 characters are accepted");
    }
    CHECK(!ak_prefix_valid("") && !ak_prefix_valid("a b") &&
              ak_prefix_valid("acme-live_"),
          "prefix validation");
    ak_key_display("bast_", key, out, sizeof out);
    CHECK(strlen(out) == 5 + AK_SHOW_CHARS && strncmp(out, key, 13) == 0,
          "display prefix is the prefix and 8 digits");
    CHECK(ak_id_generate(out, sizeof out) == 0 && strlen(out) == AK_ID_MAX &&
              strncmp(out, "key_", 4) == 0,
          "key ids are key_ and 11 digits");
}

static int
make_rec(ak_rec *r, const char *user, const char *scopes, char *key)
{
    memset(r, 0, sizeof *r);
    if (ak_key_generate("bast_", key, AK_KEY_MAX + 1) != 0 ||
        ak_id_generate(r->id, sizeof r->id) != 0 ||
        ak_key_digest(ctx, md, key, strlen(key), r->hash) != 0)
        return -1;
    r->user = (char *)user;
    r->name = (char *)"test";
    r->prefix = (char *)"bast_xxxxxxxx";
    r->scopes = (char *)scopes;
    r->created_at = 1000;
    return 0;
}

static int
count_rows(void *arg, const ak_rec *r)
{
    (void)r;
    ++*(int *)arg;
    return 0;
}

static void
test_store(const char *dir)
{
    char path[512], err[512], k1[AK_KEY_MAX + 1], k2[AK_KEY_MAX + 1],
        k3[AK_KEY_MAX + 1];
    ak_store *st = NULL;
    ak_rec a, b, c, got;
    ak_index *ix;
    ak_entry e;
    int64_t g0 = -1, g1 = -1, gen = -1;
    unsigned char d[AK_DIGEST];
    struct stat sb;
    sqlite3 *db;
    int n = 0;

    snprintf(path, sizeof path, "%s/keys.db", dir);
    CHECK(ak_store_open(path, &st, err, sizeof err) == 0, "create a store");
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
          "store file is mode 0600");
    CHECK(ak_store_generation(st, &g0, err, sizeof err) == 0 && g0 == 0,
          "a new store is at generation 0");
    make_rec(&a, "alice", "read write", k1);
    make_rec(&b, "alice", "", k2);
    make_rec(&c, "bob", "read", k3);
    CHECK(ak_store_insert(st, &a, err, sizeof err) == 0 &&
              ak_store_insert(st, &b, err, sizeof err) == 0 &&
              ak_store_insert(st, &c, err, sizeof err) == 0,
          "insert three keys (two for one user)");
    CHECK(ak_store_insert(st, &a, err, sizeof err) != 0,
          "inserting the same id twice fails");
    CHECK(ak_store_generation(st, &g1, err, sizeof err) == 0 && g1 == 3,
          "every insert bumps the generation once");
    CHECK(ak_store_list(st, "alice", count_rows, &n, err, sizeof err) == 0 &&
              n == 2,
          "list by user");
    CHECK(ak_store_get(st, a.id, &got, err, sizeof err) == 0 &&
              strcmp(got.user, "alice") == 0 &&
              strcmp(got.scopes, "read write") == 0 &&
              memcmp(got.hash, a.hash, AK_DIGEST) == 0,
          "get returns the stored fields");
    ak_rec_clear(&got);
    CHECK(ak_store_get(st, "key_nope", &got, err, sizeof err) == 1,
          "get of an unknown id says not found");
    CHECK(ak_store_revoke(st, b.id, 2000, err, sizeof err) == 1, "revoke");
    CHECK(ak_store_revoke(st, b.id, 2001, err, sizeof err) == 0,
          "revoke again says already revoked");
    CHECK(ak_store_revoke(st, "key_nope", 2001, err, sizeof err) == 2,
          "revoke of an unknown id says so");

    ix = ak_index_load(st, &gen, err, sizeof err);
    CHECK(ix && ak_index_size(ix) == 3 && gen == 4, "index loads all keys");
    CHECK(ix && ak_index_find(ix, a.hash, &e) && strcmp(e.user, "alice") == 0 &&
              e.nscopes == 2 && strcmp(e.scopes[1], "write") == 0 &&
              !e.revoked_at,
          "index finds a key with its scopes");
    CHECK(ix && ak_index_find(ix, b.hash, &e) && e.revoked_at == 2000 &&
              e.nscopes == 0,
          "index keeps revoked keys, marked");
    RAND_bytes(d, sizeof d);
    CHECK(ix && !ak_index_find(ix, d, &e), "an unknown digest is not found");
    ak_index_free(ix);

    {
        ak_rec next;
        char k4[AK_KEY_MAX + 1];
        make_rec(&next, "bob", "read", k4);
        CHECK(ak_store_rotate(st, c.id, &next, 5000, 3000, err, sizeof err) ==
                  0,
              "rotate");
        CHECK(ak_store_get(st, c.id, &got, err, sizeof err) == 0 &&
                  got.expires_at == 5000 && got.replaced_by &&
                  strcmp(got.replaced_by, next.id) == 0,
              "rotated key gets the grace expiry and a link");
        ak_rec_clear(&got);
        CHECK(ak_store_rotate(st, c.id, &next, 5000, 3000, err, sizeof err) ==
                  -3,
              "a key is rotated only once");
        CHECK(ak_store_rotate(st, b.id, &next, 5000, 3000, err, sizeof err) ==
                  -3,
              "a revoked key cannot be rotated");
        CHECK(ak_store_rotate(st, "key_nope", &next, 5000, 3000, err,
                              sizeof err) == -2,
              "rotating an unknown key says so");
    }

    {
        ak_usage *u = ak_usage_new(3);
        ak_use *list;
        int full, fresh = 0;
        size_t dropped = 0;
        CHECK(ak_usage_record(u, a.id, "alice", "10.0.0.1", 100, &full) == 1 &&
                  ak_usage_record(u, a.id, "alice", "10.0.0.1", 105, &full) ==
                      1 &&
                  ak_usage_record(u, a.id, "alice", "10.0.0.2", 103, &full) ==
                      1 &&
                  ak_usage_record(u, b.id, "alice", "", 101, &full) == 1 &&
                  full,
              "record uses; the batch reports full at its bound");
        CHECK(ak_usage_record(u, c.id, "bob", "", 1, &full) == 0,
              "past the bound a use is dropped");
        list = ak_usage_take(u, &dropped);
        CHECK(dropped == 1, "dropped uses are counted");
        CHECK(ak_store_flush(st, list, NULL, NULL, err, sizeof err) == 0,
              "flush a batch");
        for (ak_use *p = list; p; p = p->next)
            fresh += p->fresh;
        CHECK(fresh == 2, "two new addresses on the first flush");
        CHECK(ak_store_get(st, a.id, &got, err, sizeof err) == 0 &&
                  got.last_used_at == 105 && got.last_ip &&
                  strcmp(got.last_ip, "10.0.0.1") == 0,
              "last_used_at and last_ip written (the latest use)");
        ak_rec_clear(&got);
        ak_usage_list_free(list);
        ak_usage_record(u, a.id, "alice", "10.0.0.2", 90, &full);
        list = ak_usage_take(u, NULL);
        ak_store_flush(st, list, NULL, NULL, err, sizeof err);
        CHECK(!list->fresh, "a known address is not new again");
        CHECK(ak_store_get(st, a.id, &got, err, sizeof err) == 0 &&
                  got.last_used_at == 105,
              "an older use does not move last_used_at back");
        ak_rec_clear(&got);
        ak_usage_list_free(list);
        CHECK(ak_store_generation(st, &g1, err, sizeof err) == 0 && g1 == 5,
              "last-used writes do not bump the generation");
        ak_usage_free(u);
    }
    ak_store_close(st);

    /* Reopen: migrations are not re-run; a newer schema is refused. */
    CHECK(ak_store_open(path, &st, err, sizeof err) == 0, "reopen a store");
    ak_store_close(st);
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK(ak_store_open(path, &st, err, sizeof err) != 0 &&
              strstr(err, "newer"),
          "a store from a newer plugin is refused");
    snprintf(path, sizeof path, "%s/no/such/dir/keys.db", dir);
    CHECK(ak_store_open(path, &st, err, sizeof err) != 0 &&
              strstr(err, "cannot open"),
          "an unreachable store path is an error");
}

/* A store written by the first schema (version 1) is upgraded in place at
 * open, keeping its keys.  The fixture is version 1 as it shipped. */
static void
test_migration(const char *dir)
{
    char path[512], err[512], key[AK_KEY_MAX + 1];
    ak_store *st = NULL;
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    ak_rec r, got;
    int v = -1, ok;

    snprintf(path, sizeof path, "%s/v1.db", dir);
    make_rec(&r, "old", "a b", key);
    sqlite3_open(path, &db);
    ok = sqlite3_exec(db,
                      "CREATE TABLE keys (id TEXT PRIMARY KEY, user TEXT NOT "
                      "NULL, name TEXT NOT NULL, hash BLOB NOT NULL UNIQUE "
                      "CHECK (length(hash) = 32), prefix TEXT NOT NULL, "
                      "scopes TEXT NOT NULL DEFAULT '', created_at INTEGER "
                      "NOT NULL, expires_at INTEGER, last_used_at INTEGER, "
                      "last_ip TEXT, revoked_at INTEGER);"
                      "CREATE INDEX keys_user ON keys(user, created_at);"
                      "CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT "
                      "NULL);"
                      "INSERT INTO meta VALUES ('generation', 7);"
                      "PRAGMA user_version = 1;",
                      NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_prepare_v2(db,
                       "INSERT INTO keys (id, user, name, hash, prefix, "
                       "scopes, created_at) VALUES (?1, 'old', 'n', ?2, 'p', "
                       "'a b', 5)",
                       -1, &s, NULL);
    sqlite3_bind_text(s, 1, r.id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, r.hash, AK_DIGEST, SQLITE_STATIC);
    ok &= sqlite3_step(s) == SQLITE_DONE;
    sqlite3_finalize(s);
    sqlite3_close(db);
    CHECK(ok, "a version 1 store fixture");

    CHECK(ak_store_open(path, &st, err, sizeof err) == 0,
          "open upgrades a version 1 store");
    sqlite3_open(path, &db);
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    CHECK(v == 2, "schema version is 2 after the upgrade");
    CHECK(st && ak_store_get(st, r.id, &got, err, sizeof err) == 0 &&
              strcmp(got.user, "old") == 0 && !got.replaced_by,
          "the old key survives, with the new column empty");
    ak_rec_clear(&got);
    {
        ak_usage *u = ak_usage_new(4);
        ak_use *list;
        int full;
        ak_usage_record(u, r.id, "old", "10.9.9.9", 9, &full);
        list = ak_usage_take(u, NULL);
        CHECK(st &&
                  ak_store_flush(st, list, NULL, NULL, err, sizeof err) == 0 &&
                  list->fresh,
              "the new key_ips table works");
        ak_usage_list_free(list);
        ak_usage_free(u);
    }
    ak_store_close(st);
}

static void
test_many(const char *dir)
{
    char path[512], err[512], key[AK_KEY_MAX + 1];
    ak_store *st = NULL;
    ak_index *ix;
    ak_entry e;
    ak_rec r;
    int64_t gen;
    unsigned char first[AK_DIGEST], last[AK_DIGEST];
    int i, ok = 1;

    snprintf(path, sizeof path, "%s/many.db", dir);
    if (ak_store_open(path, &st, err, sizeof err) != 0) {
        CHECK(0, err);
        return;
    }
    for (i = 0; i < 2000 && ok; i++) {
        ok = make_rec(&r, "u", "s", key) == 0 &&
             ak_store_insert(st, &r, err, sizeof err) == 0;
        if (i == 0)
            memcpy(first, r.hash, AK_DIGEST);
        memcpy(last, r.hash, AK_DIGEST);
    }
    CHECK(ok, "insert 2000 keys");
    ix = ak_index_load(st, &gen, err, sizeof err);
    CHECK(ix && ak_index_size(ix) == 2000 && ak_index_find(ix, first, &e) &&
              ak_index_find(ix, last, &e),
          "index of 2000 keys finds the first and the last");
    ak_index_free(ix);
    ak_store_close(st);
}

static double
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A well-formed key one digit away from `key`: last body digit changed,
 * check digits recomputed.  Such a key passes the format check. */
static void
near_miss(const char *key, char *out)
{
    size_t b = 5 + AK_BODY_CHARS;
    uLong crc;
    unsigned char be[4];

    memcpy(out, key, b);
    out[b - 1] = out[b - 1] == '2' ? '3' : '2';
    crc = crc32(0L, (const Bytef *)out, (uInt)b);
    be[0] = (unsigned char)(crc >> 24);
    be[1] = (unsigned char)(crc >> 16);
    be[2] = (unsigned char)(crc >> 8);
    be[3] = (unsigned char)crc;
    ak_b58_fixed(be, 4, out + b, AK_CHECK_CHARS);
}

/* Rejecting a key costs the same whether or not it shares all but one
 * digit with a stored key: the lookup is by SHA-256 of the whole text, so
 * nearness in the key is not nearness in the digest.  Medians of
 * interleaved runs; the bound is loose so a loaded machine cannot flake. */
static void
test_timing(const char *dir)
{
    enum { NK = 64, ROUNDS = 4001 };
    char path[512], err[512], keys[NK][AK_KEY_MAX + 1],
        near[NK][AK_KEY_MAX + 1], rnd[NK][AK_KEY_MAX + 1];
    static double tn[ROUNDS], tr[ROUNDS];
    ak_store *st = NULL;
    ak_index *ix;
    ak_entry e;
    ak_rec r;
    int64_t gen;
    unsigned char d[AK_DIGEST];
    int i, found = 0, formed = 1;
    double mn, mr;

    snprintf(path, sizeof path, "%s/timing.db", dir);
    if (ak_store_open(path, &st, err, sizeof err) != 0) {
        CHECK(0, err);
        return;
    }
    for (i = 0; i < NK; i++) {
        make_rec(&r, "u", "", keys[i]);
        ak_store_insert(st, &r, err, sizeof err);
        near_miss(keys[i], near[i]);
        ak_key_generate("bast_", rnd[i], sizeof rnd[i]);
        formed &=
            ak_key_check("bast_", 5, near[i], strlen(near[i])) == AK_FMT_OK;
    }
    CHECK(formed, "near-miss keys are well-formed (pass the checksum)");
    ix = ak_index_load(st, &gen, err, sizeof err);
    if (!ix) {
        CHECK(0, err);
        ak_store_close(st);
        return;
    }
    for (i = 0; i < ROUNDS; i++) {
        const char *a = near[i % NK], *b = rnd[i % NK];
        double t0 = now_ns();
        ak_key_digest(ctx, md, a, strlen(a), d);
        found += ak_index_find(ix, d, &e);
        tn[i] = now_ns() - t0;
        t0 = now_ns();
        ak_key_digest(ctx, md, b, strlen(b), d);
        found += ak_index_find(ix, d, &e);
        tr[i] = now_ns() - t0;
    }
    qsort(tn, ROUNDS, sizeof tn[0], cmp_d);
    qsort(tr, ROUNDS, sizeof tr[0], cmp_d);
    mn = tn[ROUNDS / 2];
    mr = tr[ROUNDS / 2];
    CHECK(found == 0, "near misses and random keys are all unknown");
    printf("# median reject: near miss %.0f ns, random %.0f ns\n", mn, mr);
    CHECK(mn < 2 * mr && mr < 2 * mn,
          "a near miss takes as long to reject as a random key");
    ak_index_free(ix);
    ak_store_close(st);
}

int
main(void)
{
    char dir[] = "/tmp/apikey-unit.XXXXXX";
    char cmd[600];

    md = EVP_MD_fetch(NULL, "SHA256", NULL);
    ctx = EVP_MD_CTX_new();
    if (!mkdtemp(dir) || !md || !ctx) {
        printf("not ok - setup\n");
        return 1;
    }
    test_format();
    test_store(dir);
    test_migration(dir);
    test_many(dir);
    test_timing(dir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    return failures ? 1 : 0;
}
