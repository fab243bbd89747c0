/*
 * admin.c - `bast hmac add|list|rotate|revoke --app A --module M ...`,
 * management of the keys of a `bast` or `aws-sigv4` instance (secrets
 * file or SQLite store).
 *   add KEYID OWNER        new key with a fresh secret (printed once)
 *   list [--json]          key ids, owners, number of secrets (never the
 *                          secrets themselves)
 *   rotate KEYID [--keep N] new secret first, keep N secrets in all
 *                          (default 2: the new one and the previous)
 *   revoke KEYID [--old]   drop the key, or with --old every secret but
 *                          the newest
 * A file is re-read, changed and written atomically (0600, rename);
 * comments are not kept; the store changes in one transaction.  Running
 * servers see it after a reload.
 * Exit 0 ok, 1 failure, 2 usage.
 */
#include "hmac_int.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEW_SECRET_BYTES 32

static int
usage(void)
{
    fprintf(stderr, "usage: bast hmac add KEYID OWNER | list [--json] |\n"
                    "       rotate KEYID [--keep N] | revoke KEYID [--old]\n"
                    "       (with --app APP --module NAME)\n");
    return 2;
}

/* A fresh secret: 32 random bytes as base64url, printable and space-free
 * as the file format needs. */
static int
new_secret(char *out, size_t outlen)
{
    unsigned char rnd[NEW_SECRET_BYTES];
    long n;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return -1;
    n = bast_b64_encode(rnd, sizeof(rnd), out, outlen,
                        BAST_B64_URL | BAST_B64_NOPAD);
    OPENSSL_cleanse(rnd, sizeof(rnd));
    return n > 0 ? 0 : -1;
}

static hmac_key *
find_mut(hmac_keyring *ring, const char *id)
{
    size_t i;

    for (i = 0; i < ring->n; i++)
        if (strcmp(ring->keys[i].id, id) == 0)
            return &ring->keys[i];
    return NULL;
}

static void
drop_secret(hmac_key *k, size_t i)
{
    OPENSSL_cleanse(k->secrets[i].bytes, k->secrets[i].len);
    free(k->secrets[i].bytes);
    memmove(&k->secrets[i], &k->secrets[i + 1],
            (k->nsecrets - i - 1) * sizeof(k->secrets[0]));
    k->nsecrets--;
}

/* Put `secret` first in k's list. */
static int
push_front(hmac_key *k, const char *secret)
{
    unsigned char *b = (unsigned char *)strdup(secret);

    if (b == NULL)
        return -1;
    if (k->nsecrets == HMAC_SECRETS_PER_KEY)
        drop_secret(k, k->nsecrets - 1);
    memmove(&k->secrets[1], &k->secrets[0],
            k->nsecrets * sizeof(k->secrets[0]));
    memset(&k->secrets[0], 0, sizeof(k->secrets[0]));
    k->secrets[0].bytes = b;
    k->secrets[0].len = strlen(secret);
    k->nsecrets++;
    return 0;
}

static void
json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

static int
cmd_list(const hmac_keyring *ring, int json)
{
    size_t i;

    if (json)
        putchar('[');
    for (i = 0; i < ring->n; i++) {
        const hmac_key *k = &ring->keys[i];
        if (json) {
            printf("%s{\"key_id\": ", i ? ", " : "");
            json_str(k->id);
            printf(", \"owner\": ");
            json_str(k->owner);
            printf(", \"secrets\": %zu}", k->nsecrets);
        } else {
            printf("%s %s %zu\n", k->id, k->owner, k->nsecrets);
        }
    }
    if (json)
        printf("]\n");
    return 0;
}

static int
cmd_add(hmac_keyring *ring, const char *id, const char *owner, char *secret)
{
    hmac_key *nk, *k;

    if (!hmac_token_ok(id, strlen(id), HMAC_ID_MAX) ||
        !hmac_token_ok(owner, strlen(owner), HMAC_ID_MAX)) {
        fprintf(stderr,
                "bast hmac: key id and owner are 1..%d visible "
                "chars without spaces\n",
                HMAC_ID_MAX);
        return 2;
    }
    if (find_mut(ring, id) != NULL) {
        fprintf(stderr, "bast hmac: key id '%s' exists (use rotate)\n", id);
        return 1;
    }
    nk = realloc(ring->keys, (ring->n + 1) * sizeof(*nk));
    if (nk == NULL)
        return 1;
    ring->keys = nk;
    k = &nk[ring->n];
    memset(k, 0, sizeof(*k));
    k->id = strdup(id);
    k->owner = strdup(owner);
    ring->n++;
    if (k->id == NULL || k->owner == NULL || push_front(k, secret) != 0)
        return 1;
    return 0;
}

static int
parse_keep(const char *s, size_t *keep)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < 1 || v > HMAC_SECRETS_PER_KEY)
        return -1;
    *keep = (size_t)v;
    return 0;
}

int
hmac_admin(void *state, const bast_instance *inst, int argc, char **argv)
{
    const hmac_state *st = state;
    hmac_keyring ring = {NULL, 0};
    hmac_change ch = {NULL, NULL, NULL, 0, 0};
    char err[512], secret[64] = "";
    const char *cmd;
    hmac_key *k;
    size_t keep = 2;
    int ret = 1, changed = 0, i;

    (void)inst;
    if (argc < 1)
        return usage();
    cmd = argv[0];
    if (st == NULL || st->profile == PROF_STRIPE || st->profile == PROF_STDWH) {
        fprintf(stderr, "bast hmac: webhook secrets are set by the sender; "
                        "edit the `secret` file\n");
        return 1;
    }
    if ((st->master_path != NULL
             ? hmac_store_load(&ring, st->secrets_path, st->master_path, err,
                               sizeof(err))
             : hmac_ring_load(&ring, st->secrets_path, err, sizeof(err))) !=
        0) {
        fprintf(stderr, "bast hmac: %s\n", err);
        return 1;
    }
    if (strcmp(cmd, "list") == 0) {
        if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json") != 0))
            ret = usage();
        else
            ret = cmd_list(&ring, argc == 2);
        goto done;
    }
    if ((strcmp(cmd, "add") == 0 && argc != 3) ||
        (strcmp(cmd, "add") != 0 && argc < 2)) {
        ret = usage();
        goto done;
    }
    if (strcmp(cmd, "add") == 0) {
        if (new_secret(secret, sizeof(secret)) != 0)
            goto done;
        ret = cmd_add(&ring, argv[1], argv[2], secret);
        changed = ret == 0;
        ch = (hmac_change){argv[1], argv[2], secret, 0, 0};
    } else if (strcmp(cmd, "rotate") == 0 || strcmp(cmd, "revoke") == 0) {
        int old = 0;
        for (i = 2; i < argc; i++) {
            if (cmd[1] == 'o' && strcmp(argv[i], "--keep") == 0 &&
                i + 1 < argc && parse_keep(argv[i + 1], &keep) == 0)
                i++;
            else if (cmd[1] == 'e' && strcmp(argv[i], "--old") == 0)
                old = 1;
            else {
                ret = usage();
                goto done;
            }
        }
        k = find_mut(&ring, argv[1]);
        if (k == NULL) {
            fprintf(stderr, "bast hmac: no key id '%s'\n", argv[1]);
            goto done;
        }
        if (cmd[1] == 'o') {
            if (new_secret(secret, sizeof(secret)) != 0 ||
                push_front(k, secret) != 0)
                goto done;
            while (k->nsecrets > keep)
                drop_secret(k, k->nsecrets - 1);
            ch = (hmac_change){argv[1], k->owner, secret, keep, 0};
        } else if (old) {
            while (k->nsecrets > 1)
                drop_secret(k, k->nsecrets - 1);
            ch = (hmac_change){argv[1], k->owner, NULL, 1, 0};
        } else {
            ch = (hmac_change){argv[1], NULL, NULL, 0, 1};
            while (k->nsecrets > 0)
                drop_secret(k, 0);
            free(k->id);
            free(k->owner);
            memmove(k, k + 1,
                    (size_t)(ring.keys + ring.n - (k + 1)) * sizeof(*k));
            ring.n--;
        }
        changed = 1;
        ret = 0;
    } else {
        ret = usage();
        goto done;
    }
    if (changed) {
        if ((st->master_path != NULL
                 ? hmac_store_apply(st->secrets_path, st->master_path, &ch, err,
                                    sizeof(err))
                 : hmac_ring_save(&ring, st->secrets_path, err, sizeof(err))) !=
            0) {
            fprintf(stderr, "bast hmac: %s\n", err);
            ret = 1;
            goto done;
        }
        if (secret[0] != '\0')
            printf("key_id: %s\nsecret: %s\n", argv[1], secret);
        else
            printf("ok\n");
    }
done:
    OPENSSL_cleanse(secret, sizeof(secret));
    hmac_ring_free(&ring);
    return ret;
}
