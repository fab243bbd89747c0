/*
 * profile_webhooks.c - the webhook profiles, where the sender signs the
 * body for a receiver that knows one shared secret (the `secret` file,
 * several lines during rotation).  `stripe`: `Stripe-Signature:
 * t=<epoch>,v1=<hex>[,v1=...]` over "t.body", HMAC-SHA256 with the secret
 * text as key; any matching v1 passes.  `standard-webhooks`: `webhook-id`,
 * `webhook-timestamp`, `webhook-signature: v1,<base64> [v1,<base64>...]`
 * over "id.timestamp.body" with the base64-decoded `whsec_` key.  No
 * signature header: absent; garbled: malformed; then stale_timestamp,
 * body_unavailable, invalid_signature, replay (the event id, or Stripe's
 * timestamp and signature, kept for twice the window).
 */
#include "hmac_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define SIGS_MAX 8

static bast_res
malformed(bast_call *call, const char *scheme, const char *what)
{
    bast_call_set_error(call, "invalid_request", "%s", what);
    hmac_challenge(call, scheme);
    return BAST_RES_MALFORMED;
}

static bast_res
check_time(const hmac_state *st, bast_call *call, int64_t ts)
{
    int64_t now = bast_call_now(call);

    if (ts < now - st->window || ts > now + st->window) {
        bast_call_set_error(call, "stale_timestamp",
                            "the timestamp is %lld s from now (window %lld s)",
                            (long long)(ts - now), st->window);
        return BAST_RES_DENY;
    }
    return BAST_RES_SUCCESS;
}

static const unsigned char *
need_body(bast_call *call, size_t *len)
{
    int present = 0;
    const unsigned char *body;

    body = bast_req_body(bast_call_request(call), len, &present);
    if (!present) {
        bast_call_set_error(call, "body_unavailable",
                            "a webhook signature covers the body, which "
                            "this request does not carry");
        return NULL;
    }
    return body ? body : (const unsigned char *)"";
}

/* Compute the MAC with every secret and compare it with every offered
 * signature.  On a match, `which` receives the MAC (the replay id). */
static int
any_match(const hmac_state *st, const void *const *parts, const size_t *lens,
          size_t nparts, unsigned char (*sigs)[32], size_t nsigs,
          unsigned char which[32])
{
    const hmac_key *k = &st->ring.keys[0];
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t i, j;
    int match = 0;

    for (i = 0; i < k->nsecrets; i++) {
        if (hmac_mac(&k->secrets[i], parts, lens, nparts, mac, sizeof(mac)) !=
            32)
            continue;
        for (j = 0; j < nsigs; j++) {
            if (bast_ct_equal(mac, sigs[j], 32) && !match) {
                memcpy(which, mac, 32);
                match = 1;
            }
        }
    }
    OPENSSL_cleanse(mac, sizeof(mac));
    return match;
}

static bast_res
success(const hmac_state *st, bast_call *call, const char *id_attr,
        const char *id, int64_t ts)
{
    if (bast_call_set_identity(call, st->webhook_name) != 0 ||
        bast_call_set_attr_int(call, "webhook_timestamp", (long long)ts) != 0 ||
        (id_attr != NULL && bast_call_set_attr_str(call, id_attr, id) != 0))
        return BAST_RES_UNAVAILABLE;
    return BAST_RES_SUCCESS;
}

bast_res
hmac_verify_stripe(const hmac_state *st, bast_call *call)
{
    const bast_request *req = bast_call_request(call);
    unsigned char sigs[SIGS_MAX][32], which[32];
    const char *h, *p, *tstr = NULL;
    const unsigned char *body;
    size_t nsigs = 0, tlen = 0, blen = 0;
    int dup = 0, ntime = 0;
    int64_t ts = 0;
    bast_res r;

    h = hmac_header1(req, "Stripe-Signature", &dup);
    if (h == NULL) {
        hmac_challenge(call, "Stripe-Signature");
        return BAST_RES_ABSENT;
    }
    if (dup)
        return malformed(call, "Stripe-Signature",
                         "Stripe-Signature is repeated or too long");
    for (p = h; *p != '\0';) {
        size_t n = strcspn(p, ","), klen;
        const char *eq = memchr(p, '=', n);
        if (eq == NULL)
            return malformed(call, "Stripe-Signature",
                             "Stripe-Signature items are key=value");
        klen = (size_t)(eq - p);
        if (klen == 1 && *p == 't') {
            tstr = eq + 1;
            tlen = n - 2;
            ntime++;
        } else if (klen == 2 && memcmp(p, "v1", 2) == 0) {
            if (nsigs == SIGS_MAX ||
                hmac_unhex(eq + 1, n - 3, sigs[nsigs], 32) != 0)
                return malformed(call, "Stripe-Signature",
                                 "bad or too many v1 signatures");
            nsigs++;
        }
        /* other schemes (v0, test-mode) are not ours to check */
        p += n;
        if (*p == ',')
            p++;
    }
    if (ntime != 1 || nsigs == 0 || hmac_parse_epoch(tstr, tlen, &ts) != 0)
        return malformed(call, "Stripe-Signature",
                         "Stripe-Signature needs one t= and a v1=");
    if ((r = check_time(st, call, ts)) != BAST_RES_SUCCESS)
        return r;
    if ((body = need_body(call, &blen)) == NULL)
        return BAST_RES_DENY;
    {
        const void *parts[] = {tstr, ".", body};
        size_t lens[] = {tlen, 1, blen};
        if (!any_match(st, parts, lens, 3, sigs, nsigs, which)) {
            bast_call_set_error(call, "invalid_signature",
                                "no v1 signature matches");
            return BAST_RES_DENY;
        }
    }
    /* Stripe sends no event nonce: the signed (t, body) pair is the id */
    r = hmac_replay(st, call, "stripe", (const char *)which, sizeof(which),
                    2 * st->window);
    if (r != BAST_RES_SUCCESS)
        return r;
    return success(st, call, NULL, NULL, ts);
}

bast_res
hmac_verify_stdwh(const hmac_state *st, bast_call *call)
{
    const bast_request *req = bast_call_request(call);
    unsigned char sigs[SIGS_MAX][32], which[32], raw[64];
    const char *h, *id, *tstr, *p;
    const unsigned char *body;
    size_t nsigs = 0, idlen, blen = 0;
    int dup = 0;
    int64_t ts = 0;
    bast_res r;

    h = hmac_header1(req, "webhook-signature", &dup);
    if (h == NULL) {
        hmac_challenge(call, "webhook-signature");
        return BAST_RES_ABSENT;
    }
    id = hmac_header1(req, "webhook-id", &dup);
    tstr = hmac_header1(req, "webhook-timestamp", &dup);
    if (dup || id == NULL || tstr == NULL)
        return malformed(call, "webhook-signature",
                         "webhook-signature needs one webhook-id and one "
                         "webhook-timestamp");
    idlen = strlen(id);
    if (!hmac_token_ok(id, idlen, HMAC_ID_MAX) ||
        hmac_parse_epoch(tstr, strlen(tstr), &ts) != 0)
        return malformed(call, "webhook-signature",
                         "bad webhook-id or webhook-timestamp");
    for (p = h; *p != '\0';) {
        size_t n;
        long dl;
        while (*p == ' ')
            p++;
        n = strcspn(p, " ");
        if (n == 0)
            break;
        if (n > 3 && memcmp(p, "v1,", 3) == 0) {
            dl = bast_b64_decode(p + 3, n - 3, raw, sizeof(raw), 0);
            if (dl != 32 || nsigs == SIGS_MAX)
                return malformed(call, "webhook-signature",
                                 "bad or too many v1 signatures");
            memcpy(sigs[nsigs++], raw, 32);
        } else if (memchr(p, ',', n) == NULL) {
            return malformed(call, "webhook-signature",
                             "webhook-signature items are version,signature");
        }
        /* v1a (asymmetric) and later versions are not ours to check */
        p += n;
    }
    if (nsigs == 0) {
        bast_call_set_error(call, "invalid_signature",
                            "no v1 signature offered");
        return BAST_RES_DENY;
    }
    if ((r = check_time(st, call, ts)) != BAST_RES_SUCCESS)
        return r;
    if ((body = need_body(call, &blen)) == NULL)
        return BAST_RES_DENY;
    {
        const void *parts[] = {id, ".", tstr, ".", body};
        size_t lens[] = {idlen, 1, strlen(tstr), 1, blen};
        if (!any_match(st, parts, lens, 5, sigs, nsigs, which)) {
            bast_call_set_error(call, "invalid_signature",
                                "no v1 signature matches");
            return BAST_RES_DENY;
        }
    }
    r = hmac_replay(st, call, "webhook-id", id, idlen, 2 * st->window);
    if (r != BAST_RES_SUCCESS)
        return r;
    return success(st, call, "webhook_id", id, ts);
}
