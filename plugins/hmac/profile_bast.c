/*
 * profile_bast.c - the native `bast` profile.  The client sends X-Api-Key
 * (key id), X-Timestamp (ISO 8601 basic UTC, 20261128T120000Z), X-Nonce
 * (8..128 visible chars, unique per key id), X-Body-Hash (hex digest of
 * the body) and X-Signature = hex HMAC(secret, METHOD "\n" path[?query]
 * "\n" timestamp "\n" nonce "\n" body-hash), path and query as received.
 * Digest SHA-256 unless `digest` says otherwise.  No X-Signature: absent;
 * a missing, repeated or garbled header: malformed; then stale_timestamp,
 * unknown_key, invalid_signature, body_hash_mismatch, replay (the nonce is
 * kept per key id for twice the window), in that order.
 */
#include "hmac_int.h"

#include <openssl/crypto.h>
#include <string.h>

#define NONCE_MIN 8

static bast_res
malformed(bast_call *call, const char *what)
{
    bast_call_set_error(call, "invalid_request", "%s", what);
    hmac_challenge(call, "HMAC");
    return BAST_RES_MALFORMED;
}

/* Check the body against the declared hash.  Behind a proxy that passes
 * no body, the declared hash is trusted only when the instance says so,
 * and it is then handed to the upstream to check. */
static bast_res
check_body(const hmac_state *st, bast_call *call, const unsigned char *bh)
{
    const bast_request *req = bast_call_request(call);
    char lower[2 * EVP_MAX_MD_SIZE + 1];
    unsigned char md[EVP_MAX_MD_SIZE];
    const unsigned char *body;
    const char *method;
    size_t len = 0;
    int present = 0;

    body = bast_req_body(req, &len, &present);
    if (present) {
        if (hmac_digest(st, body, len, md) != st->mdlen) {
            bast_call_set_error(call, "internal_error", "digest failed");
            return BAST_RES_UNAVAILABLE;
        }
        if (!bast_ct_equal(md, bh, st->mdlen)) {
            bast_call_set_error(call, "body_hash_mismatch",
                                "the body does not match X-Body-Hash");
            return BAST_RES_DENY;
        }
        return BAST_RES_SUCCESS;
    }
    /* a GET or HEAD the proxy passed without a body: it had none, so
     * only the empty body's hash is accepted */
    method = bast_req_method(req);
    if (method != NULL &&
        (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) &&
        hmac_digest(st, "", 0, md) == st->mdlen &&
        bast_ct_equal(md, bh, st->mdlen))
        return BAST_RES_SUCCESS;
    if (!st->trust_declared) {
        bast_call_set_error(call, "body_unavailable",
                            "the body is not available to check X-Body-Hash");
        return BAST_RES_DENY;
    }
    hmac_hex(bh, st->mdlen, lower);
    if (bast_call_set_attr_str(call, "declared_body_hash", lower) != 0)
        return BAST_RES_UNAVAILABLE;
    return BAST_RES_SUCCESS;
}

bast_res
hmac_verify_bast(const hmac_state *st, bast_call *call)
{
    const bast_request *req = bast_call_request(call);
    const char *sig_h, *keyid, *ts_h, *nonce, *bh_h, *method, *path, *query;
    unsigned char sig[EVP_MAX_MD_SIZE], bh[EVP_MAX_MD_SIZE];
    unsigned char mac[EVP_MAX_MD_SIZE];
    const hmac_key *key;
    int dup = 0, match = 0;
    int64_t ts, now;
    size_t i, nlen;
    bast_res r;

    sig_h = hmac_header1(req, "X-Signature", &dup);
    if (sig_h == NULL) {
        hmac_challenge(call, "HMAC");
        return BAST_RES_ABSENT;
    }
    keyid = hmac_header1(req, "X-Api-Key", &dup);
    ts_h = hmac_header1(req, "X-Timestamp", &dup);
    nonce = hmac_header1(req, "X-Nonce", &dup);
    bh_h = hmac_header1(req, "X-Body-Hash", &dup);
    if (dup)
        return malformed(call, "a signing header is repeated or too long");
    if (keyid == NULL || ts_h == NULL || nonce == NULL || bh_h == NULL)
        return malformed(call, "X-Signature needs X-Api-Key, X-Timestamp, "
                               "X-Nonce and X-Body-Hash");
    nlen = strlen(nonce);
    if (!hmac_token_ok(keyid, strlen(keyid), HMAC_ID_MAX))
        return malformed(call, "X-Api-Key is not a key id");
    if (nlen < NONCE_MIN || !hmac_token_ok(nonce, nlen, HMAC_ID_MAX))
        return malformed(call, "X-Nonce must be 8..128 visible chars");
    if (hmac_parse_ts(ts_h, &ts) != 0)
        return malformed(call, "X-Timestamp is not YYYYMMDDTHHMMSSZ");
    if (hmac_unhex(bh_h, strlen(bh_h), bh, st->mdlen) != 0)
        return malformed(call, "X-Body-Hash is not a hex digest");
    if (hmac_unhex(sig_h, strlen(sig_h), sig, st->mdlen) != 0)
        return malformed(call, "X-Signature is not a hex HMAC");

    now = bast_call_now(call);
    if (ts < now - st->window || ts > now + st->window) {
        bast_call_set_error(call, "stale_timestamp",
                            "X-Timestamp is %lld s from now (window %lld s)",
                            (long long)(ts - now), st->window);
        return BAST_RES_DENY;
    }
    key = hmac_ring_find(&st->ring, keyid);
    if (key == NULL) {
        bast_call_set_error(call, "unknown_key", "no such key id");
        return BAST_RES_DENY;
    }

    method = bast_req_method(req);
    path = bast_req_path(req);
    query = bast_req_query(req);
    method = method ? method : "";
    path = path ? path : "";
    query = query ? query : "";
    {
        const void *parts[] = {method, "\n", path,  "?",  query, "\n",
                               ts_h,   "\n", nonce, "\n", bh_h};
        size_t lens[] = {strlen(method), 1, strlen(path), *query ? 1 : 0,
                         strlen(query),  1, strlen(ts_h), 1,
                         nlen,           1, strlen(bh_h)};
        /* every secret of the key is tried (rotation); no early exit so
         * the time does not tell which one matched */
        for (i = 0; i < key->nsecrets; i++) {
            size_t n =
                hmac_mac(&key->secrets[i], parts, lens, 11, mac, sizeof(mac));
            if (n == st->mdlen && bast_ct_equal(mac, sig, st->mdlen))
                match = 1;
        }
    }
    OPENSSL_cleanse(mac, sizeof(mac));
    if (!match) {
        bast_call_set_error(call, "invalid_signature",
                            "X-Signature does not match");
        return BAST_RES_DENY;
    }
    r = check_body(st, call, bh);
    if (r != BAST_RES_SUCCESS)
        return r;
    /* only a valid signature may spend a nonce, so forged requests cannot
     * burn the nonces of a real client */
    r = hmac_replay(st, call, keyid, nonce, nlen, 2 * st->window);
    if (r != BAST_RES_SUCCESS)
        return r;
    if (bast_call_set_identity(call, key->owner) != 0 ||
        bast_call_set_attr_str(call, "key_id", keyid) != 0)
        return BAST_RES_UNAVAILABLE;
    return BAST_RES_SUCCESS;
}
