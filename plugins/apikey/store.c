/*
 * store.c - the SQLite key store of the apikey plugin.  One file per store
 * (created mode 0600), WAL journal, synchronous=FULL so an acknowledged
 * issue or revoke survives a crash, a busy timeout so several processes
 * (bastd, the bast command) share it.  The schema is versioned with
 * PRAGMA user_version and upgraded step by step at open, each step in its
 * own IMMEDIATE transaction.  Every change that the verify index must see
 * bumps meta.generation in the same transaction, which is what the
 * index refresh polls.  Keys are stored as SHA-256 of the key text.
 */
#include "ak.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ak_store {
    sqlite3 *db;
};

/* Migrations: entry i brings user_version from i to i+1.  Append only. */
static const char *const migrations[] = {
    /* 1: keys and the change counter */
    "CREATE TABLE keys ("
    " id TEXT PRIMARY KEY,"
    " user TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
    " prefix TEXT NOT NULL,"
    " scopes TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL,"
    " expires_at INTEGER,"
    " last_used_at INTEGER,"
    " last_ip TEXT,"
    " revoked_at INTEGER);"
    "CREATE INDEX keys_user ON keys(user, created_at);"
    "CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);"
    "INSERT INTO meta VALUES ('generation', 0);",
    /* 2: rotation links and the addresses each key was used from */
    "ALTER TABLE keys ADD COLUMN replaced_by TEXT;"
    "CREATE TABLE key_ips ("
    " key_id TEXT NOT NULL,"
    " ip TEXT NOT NULL,"
    " first_seen INTEGER NOT NULL,"
    " PRIMARY KEY (key_id, ip)) WITHOUT ROWID;",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

static int
fail(ak_store *st, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "store: %s: %s", what,
             st && st->db ? sqlite3_errmsg(st->db) : "no database");
    return -1;
}

static int
exec(ak_store *st, const char *sql, char *err, size_t errlen)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail(st, err, errlen, sql);
    return 0;
}

static void
rollback(ak_store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
user_version(ak_store *st, int *v, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
    if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        *v = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
        return 0;
    }
    sqlite3_finalize(s);
    return fail(st, err, errlen, "reading the schema version");
}

static int
migrate(ak_store *st, char *err, size_t errlen)
{
    int v;
    char sql[64];

    if (user_version(st, &v, err, errlen) != 0)
        return -1;
    while (v < NMIGRATIONS) {
        /* Re-read inside the write lock: another process may have
         * migrated between our read and our BEGIN. */
        if (exec(st, "BEGIN IMMEDIATE", err, errlen) != 0)
            return -1;
        if (user_version(st, &v, err, errlen) != 0)
            goto bad;
        if (v >= NMIGRATIONS) {
            rollback(st);
            break;
        }
        if (exec(st, migrations[v], err, errlen) != 0)
            goto bad;
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
        if (exec(st, sql, err, errlen) != 0 ||
            exec(st, "COMMIT", err, errlen) != 0)
            goto bad;
        v++;
    }
    if (v > NMIGRATIONS) {
        snprintf(err, errlen,
                 "store: schema version %d is newer than this plugin's %d", v,
                 NMIGRATIONS);
        return -1;
    }
    return 0;
bad:
    rollback(st);
    return -1;
}

int
ak_store_open(const char *path, ak_store **out, char *err, size_t errlen)
{
    ak_store *st;
    struct stat sb;
    int fd;

    *out = NULL;
    /* Create a missing file ourselves so it starts 0600 (SQLite gives the
     * -wal and -shm files the same mode).  Only when missing: closing any
     * descriptor of a file drops every POSIX lock this process holds on
     * it, including those of SQLite connections already open on it, which
     * lets another process take the WAL away under them. */
    if (stat(path, &sb) != 0) {
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                  0600);
        if (fd < 0 && errno != EEXIST) {
            char eb[128];
            snprintf(err, errlen, "store: cannot open %s: %s", path,
                     strerror_r(errno, eb, sizeof eb));
            return -1;
        }
        if (fd >= 0)
            close(fd);
    }
    if (!(st = calloc(1, sizeof *st))) {
        snprintf(err, errlen, "store: out of memory");
        return -1;
    }
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX |
                            SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK) {
        fail(st, err, errlen, path);
        goto bad;
    }
    sqlite3_extended_result_codes(st->db, 1);
    if (sqlite3_busy_timeout(st->db, 5000) != SQLITE_OK ||
        exec(st, "PRAGMA journal_mode = WAL", err, errlen) != 0 ||
        exec(st, "PRAGMA synchronous = FULL", err, errlen) != 0 ||
        exec(st, "PRAGMA foreign_keys = ON", err, errlen) != 0 ||
        migrate(st, err, errlen) != 0)
        goto bad;
    *out = st;
    return 0;
bad:
    ak_store_close(st);
    return -1;
}

void
ak_store_close(ak_store *st)
{
    if (!st)
        return;
    sqlite3_close(st->db);
    free(st);
}

int
ak_store_generation(ak_store *st, int64_t *gen, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int ret = -1;
    if (sqlite3_prepare_v2(st->db, "SELECT v FROM meta WHERE k = 'generation'",
                           -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        *gen = sqlite3_column_int64(s, 0);
        ret = 0;
    } else {
        fail(st, err, errlen, "reading the generation");
    }
    sqlite3_finalize(s);
    return ret;
}

static int
bump(ak_store *st, char *err, size_t errlen)
{
    return exec(st, "UPDATE meta SET v = v + 1 WHERE k = 'generation'", err,
                errlen);
}

static void
bind_time(sqlite3_stmt *s, int i, int64_t t)
{
    if (t)
        sqlite3_bind_int64(s, i, t);
    else
        sqlite3_bind_null(s, i);
}

static int
insert_rec(ak_store *st, const ak_rec *r, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO keys (id, user, name, hash, prefix,"
                           " scopes, created_at, expires_at)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                           -1, &s, NULL) != SQLITE_OK)
        return fail(st, err, errlen, "insert");
    sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, r->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 4, r->hash, AK_DIGEST, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, r->prefix, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, r->scopes ? r->scopes : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, r->created_at);
    bind_time(s, 8, r->expires_at);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : fail(st, err, errlen, "insert");
}

int
ak_store_insert(ak_store *st, const ak_rec *r, char *err, size_t errlen)
{
    if (exec(st, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    if (insert_rec(st, r, err, errlen) != 0 || bump(st, err, errlen) != 0 ||
        exec(st, "COMMIT", err, errlen) != 0) {
        rollback(st);
        return -1;
    }
    return 0;
}

int
ak_store_revoke(ak_store *st, const char *id, int64_t now, char *err,
                size_t errlen)
{
    ak_rec r = {0};
    int found, ret = -1, rc;
    sqlite3_stmt *s = NULL;

    if (exec(st, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    found = ak_store_get(st, id, &r, err, errlen);
    if (found != 0) {
        if (found == 1) {
            snprintf(err, errlen, "no such key: %s", id);
            ret = 2;
        }
        goto done;
    }
    if (r.revoked_at) {
        ret = 0;
        goto done;
    }
    if (sqlite3_prepare_v2(st->db,
                           "UPDATE keys SET revoked_at = ?2 WHERE id = ?1", -1,
                           &s, NULL) != SQLITE_OK) {
        fail(st, err, errlen, "revoke");
        goto done;
    }
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
        fail(st, err, errlen, "revoke");
        goto done;
    }
    if (bump(st, err, errlen) != 0 || exec(st, "COMMIT", err, errlen) != 0)
        goto done;
    ret = 1;
done:
    sqlite3_finalize(s);
    rollback(st);
    ak_rec_clear(&r);
    return ret;
}

int
ak_store_rotate(ak_store *st, const char *old_id, const ak_rec *next,
                int64_t old_expires, int64_t now, char *err, size_t errlen)
{
    ak_rec r = {0};
    sqlite3_stmt *s = NULL;
    int found, ret = -1;

    if (exec(st, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    found = ak_store_get(st, old_id, &r, err, errlen);
    if (found != 0) {
        if (found == 1) {
            snprintf(err, errlen, "no such key: %s", old_id);
            ret = -2;
        }
        goto done;
    }
    if (r.revoked_at || (r.expires_at && r.expires_at <= now) ||
        r.replaced_by) {
        snprintf(err, errlen, "key %s is %s", old_id,
                 r.revoked_at    ? "revoked"
                 : r.replaced_by ? "already rotated"
                                 : "expired");
        ret = -3;
        goto done;
    }
    if (r.expires_at && r.expires_at < old_expires)
        old_expires = r.expires_at;
    if (insert_rec(st, next, err, errlen) != 0)
        goto done;
    if (sqlite3_prepare_v2(st->db,
                           "UPDATE keys SET expires_at = ?2, replaced_by = ?3"
                           " WHERE id = ?1",
                           -1, &s, NULL) != SQLITE_OK) {
        fail(st, err, errlen, "rotate");
        goto done;
    }
    sqlite3_bind_text(s, 1, old_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, old_expires);
    sqlite3_bind_text(s, 3, next->id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        fail(st, err, errlen, "rotate");
        goto done;
    }
    if (bump(st, err, errlen) != 0 || exec(st, "COMMIT", err, errlen) != 0)
        goto done;
    ret = 0;
done:
    sqlite3_finalize(s);
    rollback(st);
    ak_rec_clear(&r);
    return ret;
}

void
ak_rec_clear(ak_rec *r)
{
    free(r->user);
    free(r->name);
    free(r->prefix);
    free(r->scopes);
    free(r->last_ip);
    free(r->replaced_by);
    memset(r, 0, sizeof *r);
}

static char *
col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? strdup((const char *)t) : NULL;
}

#define REC_COLS                                                               \
    "id, user, name, hash, prefix, scopes, created_at, expires_at,"            \
    " last_used_at, last_ip, revoked_at, replaced_by"

static int
read_rec(sqlite3_stmt *s, ak_rec *r)
{
    const unsigned char *id = sqlite3_column_text(s, 0);
    const void *h = sqlite3_column_blob(s, 3);

    memset(r, 0, sizeof *r);
    if (!id || strlen((const char *)id) > AK_ID_MAX ||
        sqlite3_column_bytes(s, 3) != AK_DIGEST || !h)
        return -1;
    memcpy(r->id, id, strlen((const char *)id) + 1);
    memcpy(r->hash, h, AK_DIGEST);
    r->user = col_text(s, 1);
    r->name = col_text(s, 2);
    r->prefix = col_text(s, 4);
    r->scopes = col_text(s, 5);
    r->created_at = sqlite3_column_int64(s, 6);
    r->expires_at = sqlite3_column_int64(s, 7);
    r->last_used_at = sqlite3_column_int64(s, 8);
    r->last_ip = col_text(s, 9);
    r->revoked_at = sqlite3_column_int64(s, 10);
    r->replaced_by = col_text(s, 11);
    if (!r->user || !r->name || !r->prefix || !r->scopes) {
        ak_rec_clear(r);
        return -1;
    }
    return 0;
}

int
ak_store_get(ak_store *st, const char *id, ak_rec *out, char *err,
             size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc, ret = -1;

    memset(out, 0, sizeof *out);
    if (sqlite3_prepare_v2(st->db,
                           "SELECT " REC_COLS " FROM keys WHERE id = ?1", -1,
                           &s, NULL) != SQLITE_OK)
        return fail(st, err, errlen, "get");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
        ret = 1;
    else if (rc == SQLITE_ROW && read_rec(s, out) == 0)
        ret = 0;
    else
        fail(st, err, errlen, "get");
    sqlite3_finalize(s);
    return ret;
}

int
ak_store_list(ak_store *st, const char *user,
              int (*fn)(void *arg, const ak_rec *r), void *arg, char *err,
              size_t errlen)
{
    sqlite3_stmt *s = NULL;
    ak_rec r;
    int rc, ret = -1;

    if (sqlite3_prepare_v2(st->db,
                           "SELECT " REC_COLS " FROM keys"
                           " WHERE ?1 IS NULL OR user = ?1"
                           " ORDER BY created_at, id",
                           -1, &s, NULL) != SQLITE_OK)
        return fail(st, err, errlen, "list");
    if (user)
        sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (read_rec(s, &r) != 0) {
            snprintf(err, errlen, "store: a damaged row in keys");
            goto done;
        }
        rc = fn(arg, &r);
        ak_rec_clear(&r);
        if (rc != 0)
            goto done;
    }
    if (rc != SQLITE_DONE) {
        fail(st, err, errlen, "list");
        goto done;
    }
    ret = 0;
done:
    sqlite3_finalize(s);
    return ret;
}

/* Rows for the verify index and the generation they belong to, read in
 * one transaction so the two agree. */
int
ak_store_scan(ak_store *st, int64_t *gen, ak_scan_fn fn, void *arg, char *err,
              size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc, ret = -1;

    if (exec(st, "BEGIN", err, errlen) != 0)
        return -1;
    if (ak_store_generation(st, gen, err, errlen) != 0)
        goto done;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT hash, id, user, name, scopes, expires_at,"
                           " revoked_at FROM keys",
                           -1, &s, NULL) != SQLITE_OK) {
        fail(st, err, errlen, "loading keys");
        goto done;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *t[4];
        const void *h = sqlite3_column_blob(s, 0);
        int i;
        if (sqlite3_column_bytes(s, 0) != AK_DIGEST || !h)
            continue; /* the CHECK constraint makes this unreachable */
        for (i = 0; i < 4; i++)
            t[i] = sqlite3_column_text(s, i + 1);
        if (!t[0] || !t[1] || !t[2] || !t[3])
            continue;
        if (fn(arg, h, (const char *)t[0], (const char *)t[1],
               (const char *)t[2], (const char *)t[3],
               sqlite3_column_int64(s, 5), sqlite3_column_int64(s, 6)) != 0) {
            snprintf(err, errlen, "store: out of memory loading keys");
            goto done;
        }
    }
    if (rc != SQLITE_DONE) {
        fail(st, err, errlen, "loading keys");
        goto done;
    }
    ret = 0;
done:
    sqlite3_finalize(s);
    rollback(st);
    return ret;
}

int
ak_store_flush(ak_store *st, ak_use *list,
               void (*on_new_ip)(void *arg, const ak_use *u), void *arg,
               char *err, size_t errlen)
{
    sqlite3_stmt *upd = NULL, *ins = NULL;
    ak_use *u;
    int ret = -1;

    if (!list)
        return 0;
    if (exec(st, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    /* Only move last_used_at forward: another process may have flushed
     * a later use of the same key. */
    if (sqlite3_prepare_v2(st->db,
                           "UPDATE keys SET last_used_at = ?2,"
                           " last_ip = CASE WHEN ?3 = '' THEN last_ip"
                           " ELSE ?3 END"
                           " WHERE id = ?1 AND (last_used_at IS NULL"
                           " OR last_used_at <= ?2)",
                           -1, &upd, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db,
                           "INSERT OR IGNORE INTO key_ips (key_id, ip,"
                           " first_seen) VALUES (?1, ?2, ?3)",
                           -1, &ins, NULL) != SQLITE_OK) {
        fail(st, err, errlen, "last-used update");
        goto done;
    }
    for (u = list; u; u = u->next) {
        u->fresh = 0;
        sqlite3_bind_text(upd, 1, u->key_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(upd, 2, u->at);
        sqlite3_bind_text(upd, 3, u->ip, -1, SQLITE_STATIC);
        if (sqlite3_step(upd) != SQLITE_DONE) {
            fail(st, err, errlen, "last-used update");
            goto done;
        }
        sqlite3_reset(upd);
        if (!u->ip[0])
            continue;
        sqlite3_bind_text(ins, 1, u->key_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, u->ip, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, u->at);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            fail(st, err, errlen, "address update");
            goto done;
        }
        /* The primary key makes this 1 only for the first process and
         * the first flush that sees the pair: one event per pair. */
        u->fresh = sqlite3_changes(st->db) == 1;
        sqlite3_reset(ins);
    }
    if (exec(st, "COMMIT", err, errlen) != 0)
        goto done;
    ret = 0;
done:
    sqlite3_finalize(upd);
    sqlite3_finalize(ins);
    rollback(st);
    if (ret == 0 && on_new_ip)
        for (u = list; u; u = u->next)
            if (u->fresh)
                on_new_ip(arg, u);
    return ret;
}
