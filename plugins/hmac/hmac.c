/*
 * hmac.c - the `hmac` plugin: signed requests.  This file is the glue:
 * options, load-time preparation and dispatch to one profile.  Options:
 * profile (bast | aws-sigv4 | stripe | standard-webhooks; default bast),
 * secrets_file, or store_file with master_key_file (bast, aws-sigv4),
 * secret and webhook_name (webhook profiles), window (default 300 s, both
 * directions), digest (sha256|sha384|sha512, bast only),
 * trust_declared_body_hash (bast and aws-sigv4, default no), region and
 * service (aws-sigv4: required credential scope).  Results: success
 * (identity = the key's owner or webhook_name), absent (no signature
 * header), malformed (garbled or repeated headers), deny
 * (invalid_signature, unknown_key, stale_timestamp, body_hash_mismatch,
 * replay, body_unavailable), unavailable (store_unavailable).
 */
#include "hmac_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const known_opts[] = {"profile",
                                         "secrets_file",
                                         "secret",
                                         "webhook_name",
                                         "window",
                                         "digest",
                                         "trust_declared_body_hash",
                                         "region",
                                         "store_file",
                                         "master_key_file",
                                         "service",
                                         NULL};

static void
state_free(hmac_state *st)
{
    if (st == NULL)
        return;
    hmac_ring_free(&st->ring);
    EVP_MD_free(st->md);
    EVP_MAC_free(st->mac);
    hmac_pool_free(st->mdpool, hmac_free_md_ctx);
    free(st->secrets_path);
    free(st->master_path);
    free(st->webhook_name);
    free(st->region);
    free(st->service);
    free(st);
}

static int
parse_profile(const bast_option *o, hmac_profile *out, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        hmac_profile p;
    } names[] = {{"bast", PROF_BAST},
                 {"aws-sigv4", PROF_SIGV4},
                 {"stripe", PROF_STRIPE},
                 {"standard-webhooks", PROF_STDWH}};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(o->value, names[i].name) == 0) {
            *out = names[i].p;
            return 0;
        }
    }
    return bast_opt_error(o, err, errlen,
                          "'%s': expected bast, aws-sigv4, stripe or "
                          "standard-webhooks",
                          o->value);
}

/* An option that means nothing for this profile is refused, so a typo in
 * the profile does not silently drop a check the operator asked for. */
static int
only_for(const bast_option *opts, size_t n, const char *key, int allowed,
         const char *which, char *err, size_t errlen)
{
    const bast_option *o = bast_opts_get(opts, n, key);

    if (o != NULL && !allowed)
        return bast_opt_error(o, err, errlen, "only for profile %s", which);
    return 0;
}

static int
dup_opt(const bast_option *opts, size_t n, const char *key, char **out)
{
    const bast_option *o = bast_opts_get(opts, n, key);

    if (o == NULL)
        return 0;
    *out = strdup(o->value);
    return *out == NULL ? -1 : 0;
}

static int
hmac_open(const bast_instance *inst, const bast_option *opts, size_t nopts,
          void **state, char *err, size_t errlen)
{
    hmac_state *st;
    const bast_option *o, *store;
    char path[4096], why[512];
    int webhook, ret = -1;

    *state = NULL;
    if (bast_opts_check(opts, nopts, known_opts, err, errlen) != 0)
        return -1;
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        snprintf(err, errlen, "hmac: out of memory");
        return -1;
    }
    st->inst = inst;
    st->profile = PROF_BAST;
    st->window = 300;
    st->mdname = "SHA256";
    st->mdlen = 32;
    if ((o = bast_opts_get(opts, nopts, "profile")) != NULL &&
        parse_profile(o, &st->profile, err, errlen) != 0)
        goto done;
    webhook = st->profile == PROF_STRIPE || st->profile == PROF_STDWH;
    if (only_for(opts, nopts, "digest", st->profile == PROF_BAST, "bast", err,
                 errlen) != 0 ||
        only_for(opts, nopts, "trust_declared_body_hash",
                 st->profile == PROF_BAST || st->profile == PROF_SIGV4,
                 "bast or aws-sigv4", err, errlen) != 0 ||
        only_for(opts, nopts, "region", st->profile == PROF_SIGV4, "aws-sigv4",
                 err, errlen) != 0 ||
        only_for(opts, nopts, "service", st->profile == PROF_SIGV4, "aws-sigv4",
                 err, errlen) != 0 ||
        only_for(opts, nopts, "secrets_file", !webhook, "bast or aws-sigv4",
                 err, errlen) != 0 ||
        only_for(opts, nopts, "secret", webhook, "stripe or standard-webhooks",
                 err, errlen) != 0 ||
        only_for(opts, nopts, "webhook_name", webhook,
                 "stripe or standard-webhooks", err, errlen) != 0)
        goto done;
    if ((o = bast_opts_get(opts, nopts, "window")) != NULL &&
        bast_opt_duration(o, 1, 86400, &st->window, err, errlen) != 0)
        goto done;
    if ((o = bast_opts_get(opts, nopts, "digest")) != NULL) {
        if (strcasecmp(o->value, "sha256") == 0) {
            st->mdname = "SHA256";
            st->mdlen = 32;
        } else if (strcasecmp(o->value, "sha384") == 0) {
            st->mdname = "SHA384";
            st->mdlen = 48;
        } else if (strcasecmp(o->value, "sha512") == 0) {
            st->mdname = "SHA512";
            st->mdlen = 64;
        } else {
            bast_opt_error(o, err, errlen,
                           "'%s': expected sha256, sha384 or sha512", o->value);
            goto done;
        }
    }
    if ((o = bast_opts_get(opts, nopts, "trust_declared_body_hash")) != NULL &&
        bast_opt_bool(o, &st->trust_declared, err, errlen) != 0)
        goto done;
    if (dup_opt(opts, nopts, "region", &st->region) != 0 ||
        dup_opt(opts, nopts, "service", &st->service) != 0 ||
        dup_opt(opts, nopts, "webhook_name", &st->webhook_name) != 0) {
        snprintf(err, errlen, "hmac: out of memory");
        goto done;
    }
    /* digests and the MAC are fetched once: implicit fetches per request
     * cost time and do not scale across threads */
    st->md = EVP_MD_fetch(NULL, st->mdname, NULL);
    st->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    st->mdpool = hmac_pool_new();
    if (st->md == NULL || st->mac == NULL || st->mdpool == NULL) {
        snprintf(err, errlen, "hmac: OpenSSL lacks %s or HMAC", st->mdname);
        goto done;
    }

    if (only_for(opts, nopts, "store_file", !webhook, "bast or aws-sigv4", err,
                 errlen) != 0 ||
        only_for(opts, nopts, "master_key_file",
                 bast_opts_get(opts, nopts, "store_file") != NULL,
                 "with store_file", err, errlen) != 0)
        goto done;
    o = bast_opts_get(opts, nopts, webhook ? "secret" : "secrets_file");
    store = webhook ? NULL : bast_opts_get(opts, nopts, "store_file");
    if ((o == NULL) == (store == NULL)) {
        snprintf(err, errlen, "%s:%d: hmac: profile needs %s",
                 bast_inst_file(inst), bast_inst_line(inst),
                 webhook ? "`secret`"
                         : "one of `secrets_file` and `store_file`");
        goto done;
    }
    if (webhook && st->webhook_name == NULL) {
        snprintf(err, errlen,
                 "%s:%d: hmac: webhook profiles need `webhook_name` (the "
                 "identity of the sender)",
                 bast_inst_file(inst), bast_inst_line(inst));
        goto done;
    }
    if (store != NULL) {
        const bast_option *mk = bast_opts_get(opts, nopts, "master_key_file");
        o = store;
        if (mk == NULL) {
            bast_opt_error(o, err, errlen, "needs master_key_file");
            goto done;
        }
        if (bast_inst_path(inst, mk->value, path, sizeof(path)) != 0 ||
            (st->master_path = strdup(path)) == NULL) {
            bast_opt_error(mk, err, errlen, "path too long or no memory");
            goto done;
        }
    }
    if (bast_inst_path(inst, o->value, path, sizeof(path)) != 0) {
        bast_opt_error(o, err, errlen, "path too long");
        goto done;
    }
    if (store != NULL ? hmac_store_load(&st->ring, path, st->master_path, why,
                                        sizeof(why))
        : webhook
            ? hmac_ring_load_webhook(&st->ring, path, st->profile == PROF_STDWH,
                                     why, sizeof(why))
            : hmac_ring_load(&st->ring, path, why, sizeof(why))) {
        bast_opt_error(o, err, errlen, "%s", why);
        goto done;
    }
    st->secrets_path = strdup(path);
    if (st->secrets_path == NULL) {
        snprintf(err, errlen, "hmac: out of memory");
        goto done;
    }
    /* SigV4 keys are derived per date and scope, so only the other
     * profiles key their HMAC templates now */
    if (st->profile != PROF_SIGV4 &&
        hmac_ring_prepare(&st->ring, st->mac, st->mdname, why, sizeof(why)) !=
            0) {
        bast_opt_error(o, err, errlen, "%s", why);
        goto done;
    }
    *state = st;
    st = NULL;
    ret = 0;
done:
    state_free(st);
    return ret;
}

static bast_res
hmac_verify(void *state, bast_call *call)
{
    const hmac_state *st = state;

    switch (st->profile) {
    case PROF_BAST:
        return hmac_verify_bast(st, call);
    case PROF_SIGV4:
        return hmac_verify_sigv4(st, call);
    case PROF_STRIPE:
        return hmac_verify_stripe(st, call);
    case PROF_STDWH:
        return hmac_verify_stdwh(st, call);
    }
    return BAST_RES_UNAVAILABLE;
}

static void
hmac_close(void *state)
{
    state_free(state);
}

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "hmac", "0.1.0", hmac_open, hmac_verify,
                   hmac_close, hmac_admin);
