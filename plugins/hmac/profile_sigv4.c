/*
 * profile_sigv4.c - the `aws-sigv4` profile: AWS Signature Version 4 as
 * AWS defines it, in the Authorization header (`AWS4-HMAC-SHA256
 * Credential=AKID/date/region/service/aws4_request, SignedHeaders=...,
 * Signature=...` with X-Amz-Date) or in a presigned URL (X-Amz-Algorithm,
 * X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
 * X-Amz-Signature).  The canonical request is rebuilt from the request as
 * received: the path with dot segments and repeated slashes removed and
 * every byte but unreserved ones and '/' percent-encoded (so an encoded
 * wire path is encoded twice, as AWS does outside S3); the query pairs
 * decoded, re-encoded and sorted; the signed headers lower-cased, trimmed,
 * spaces collapsed, repeated values joined with ','; the payload hash from
 * x-amz-content-sha256 or the body.  Keys are the secrets file's (access
 * key id, secret access key).  Results as the bast profile, plus
 * unsigned_payload (an Authorization request whose body is unsigned).
 * Presigned URLs skip the replay check: they are meant for reuse until
 * X-Amz-Expires runs out.
 */
#include "sigv4.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parsing the credential --------------------------------------------- */

typedef struct sv4 {
    char akid[HMAC_ID_MAX + 1];
    char date[9];
    char region[64];
    char service[64];
    char scope[256];
    char signed_headers[2048];
    char amzdate[17];
    unsigned char sig[32];
    long long expires; /* presigned only */
} sv4;

static int
copy_part(char *dst, size_t dstlen, const char *s, size_t n)
{
    if (n == 0 || n >= dstlen)
        return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

/* AKID/YYYYMMDD/region/service/aws4_request */
static int
parse_credential(sv4 *c, const char *cred, size_t n)
{
    const char *part[5], *end = cred + n, *p = cred;
    size_t len[5], i;

    for (i = 0; i < 5; i++) {
        const char *q = memchr(p, '/', (size_t)(end - p));
        if ((q == NULL) != (i == 4))
            return -1;
        part[i] = p;
        len[i] = q ? (size_t)(q - p) : (size_t)(end - p);
        p += len[i] + 1;
    }
    if (!hmac_token_ok(part[0], len[0], HMAC_ID_MAX) ||
        copy_part(c->akid, sizeof(c->akid), part[0], len[0]) != 0 ||
        len[1] != 8 || copy_part(c->date, sizeof(c->date), part[1], 8) ||
        !hmac_token_ok(part[2], len[2], 63) ||
        copy_part(c->region, sizeof(c->region), part[2], len[2]) != 0 ||
        !hmac_token_ok(part[3], len[3], 63) ||
        copy_part(c->service, sizeof(c->service), part[3], len[3]) != 0 ||
        len[4] != 12 || memcmp(part[4], "aws4_request", 12) != 0)
        return -1;
    snprintf(c->scope, sizeof(c->scope), "%s/%s/%s/aws4_request", c->date,
             c->region, c->service);
    return 0;
}

/* `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` */
static int
parse_authorization(sv4 *c, const char *h)
{
    const char *p = h + sizeof(ALGO);
    int have_c = 0, have_h = 0, have_s = 0;

    while (*p != '\0') {
        size_t n;
        while (*p == ' ' || *p == ',')
            p++;
        n = strcspn(p, ",");
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == 0)
            break;
        if (n > 11 && memcmp(p, "Credential=", 11) == 0 && !have_c++) {
            if (parse_credential(c, p + 11, n - 11) != 0)
                return -1;
        } else if (n > 14 && memcmp(p, "SignedHeaders=", 14) == 0 &&
                   !have_h++) {
            if (copy_part(c->signed_headers, sizeof(c->signed_headers), p + 14,
                          n - 14) != 0)
                return -1;
        } else if (n > 10 && memcmp(p, "Signature=", 10) == 0 && !have_s++) {
            if (hmac_unhex(p + 10, n - 10, c->sig, 32) != 0)
                return -1;
        } else {
            return -1;
        }
        p += n;
    }
    return have_c == 1 && have_h == 1 && have_s == 1 ? 0 : -1;
}

static int
parse_presigned(sv4 *c, const sv4_qlist *q)
{
    const char *alg, *cred, *date, *exp, *sh, *sig;
    int dup = 0;
    char *end;

    alg = sv4_qget(q, "X-Amz-Algorithm", &dup);
    cred = sv4_qget(q, "X-Amz-Credential", &dup);
    date = sv4_qget(q, "X-Amz-Date", &dup);
    exp = sv4_qget(q, "X-Amz-Expires", &dup);
    sh = sv4_qget(q, "X-Amz-SignedHeaders", &dup);
    sig = sv4_qget(q, "X-Amz-Signature", &dup);
    if (dup || alg == NULL || cred == NULL || date == NULL || exp == NULL ||
        sh == NULL || sig == NULL || strcmp(alg, ALGO) != 0 ||
        parse_credential(c, cred, strlen(cred)) != 0 ||
        copy_part(c->amzdate, sizeof(c->amzdate), date, strlen(date)) != 0 ||
        copy_part(c->signed_headers, sizeof(c->signed_headers), sh,
                  strlen(sh)) != 0 ||
        hmac_unhex(sig, strlen(sig), c->sig, 32) != 0 || *exp < '0' ||
        *exp > '9')
        return -1;
    c->expires = strtoll(exp, &end, 10);
    if (*end != '\0' || c->expires < 1 || c->expires > EXPIRES_MAX)
        return -1;
    return 0;
}

/* ---- signing --------------------------------------------------------------
 */

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service),
 * "aws4_request"); the signature is HMAC(kSigning, string to sign). */
static int
sign(const hmac_state *st, const hmac_secret *s, const sv4 *c, const char *sts,
     size_t stslen, unsigned char out[32])
{
    unsigned char k[HMAC_SECRET_MAX + 4], a[32], b[32];
    int ok;

    memcpy(k, "AWS4", 4);
    memcpy(k + 4, s->bytes, s->len);
    ok = hmac_mac_key(st->mac, "SHA256", k, s->len + 4, c->date, 8, a, 32) &&
         hmac_mac_key(st->mac, "SHA256", a, 32, c->region, strlen(c->region), b,
                      32) &&
         hmac_mac_key(st->mac, "SHA256", b, 32, c->service, strlen(c->service),
                      a, 32) &&
         hmac_mac_key(st->mac, "SHA256", a, 32, "aws4_request", 12, b, 32) &&
         hmac_mac_key(st->mac, "SHA256", b, 32, sts, stslen, out, 32);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(a, sizeof(a));
    OPENSSL_cleanse(b, sizeof(b));
    return ok;
}

/* Does `creq` (complete canonical request) carry c's signature under
 * one of the key's secrets? */
static int
matches(const hmac_state *st, const hmac_key *key, const sv4 *c,
        const sv4_buf *creq)
{
    unsigned char md[32], mac[32];
    char sts[512], hexmd[65];
    size_t i;
    int n, match = 0;

    if (hmac_digest(st, creq->p, creq->n, md) != 32)
        return 0;
    hmac_hex(md, 32, hexmd);
    n = snprintf(sts, sizeof(sts), ALGO "\n%s\n%s\n%s", c->amzdate, c->scope,
                 hexmd);
    if (n < 0 || (size_t)n >= sizeof(sts))
        return 0;
    for (i = 0; i < key->nsecrets; i++) {
        if (sign(st, &key->secrets[i], c, sts, (size_t)n, mac) &&
            bast_ct_equal(mac, c->sig, 32))
            match = 1;
    }
    OPENSSL_cleanse(mac, sizeof(mac));
    return match;
}

static bast_res
malformed(bast_call *call, const char *what)
{
    bast_call_set_error(call, "invalid_request", "%s", what);
    hmac_challenge(call, ALGO);
    return BAST_RES_MALFORMED;
}

static bast_res
deny(bast_call *call, const char *error, const char *what)
{
    bast_call_set_error(call, error, "%s", what);
    return BAST_RES_DENY;
}

/* The Authorization header that is ours: NULL when none, *dup when ours
 * is one of several Authorization headers. */
static const char *
find_authorization(const bast_request *req, int *dup)
{
    size_t n = bast_req_header_count(req, "Authorization"), i;
    const char *ours = NULL;

    for (i = 0; i < n; i++) {
        const char *v = bast_req_header(req, "Authorization", i);
        if (v != NULL && strncmp(v, ALGO " ", sizeof(ALGO)) == 0)
            ours = v;
    }
    if (ours != NULL && (n > 1 || strlen(ours) > HMAC_HEADER_MAX))
        *dup = 1;
    return ours;
}

static int
bodiless(const bast_request *req)
{
    const char *m = bast_req_method(req);

    return m != NULL && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0);
}

/* The payload hash for an Authorization request: x-amz-content-sha256
 * or the body's.  Sets *declared when the body could not be checked. */
static bast_res
payload_hash(const hmac_state *st, bast_call *call, char out[65], int *declared)
{
    const bast_request *req = bast_call_request(call);
    const unsigned char *body;
    unsigned char md[32], tmp[32];
    const char *h;
    size_t len = 0;
    int present = 0, dup = 0;

    *declared = 0;
    h = hmac_header1(req, "x-amz-content-sha256", &dup);
    if (dup)
        return malformed(call, "x-amz-content-sha256 is repeated");
    if (h != NULL && strcmp(h, "UNSIGNED-PAYLOAD") == 0)
        return deny(call, "unsigned_payload",
                    "the body is not signed (UNSIGNED-PAYLOAD)");
    if (h != NULL && (hmac_unhex(h, strlen(h), tmp, 32) != 0))
        return malformed(call, "x-amz-content-sha256 is not a SHA-256");
    body = bast_req_body(req, &len, &present);
    if (present) {
        if (hmac_digest(st, body, len, md) != 32)
            return BAST_RES_UNAVAILABLE;
        if (h != NULL && !bast_ct_equal(md, tmp, 32))
            return deny(call, "body_hash_mismatch",
                        "the body does not match x-amz-content-sha256");
        hmac_hex(md, 32, out);
        return BAST_RES_SUCCESS;
    }
    /* a GET or HEAD carries no body: its hash is the empty one */
    if (h == NULL && bodiless(req)) {
        memcpy(out, EMPTY_SHA256, sizeof(EMPTY_SHA256));
        return BAST_RES_SUCCESS;
    }
    if (h == NULL || !st->trust_declared)
        return deny(call, "body_unavailable",
                    "the body is not available to check the signature");
    hmac_hex(tmp, 32, out);
    *declared = 1;
    return BAST_RES_SUCCESS;
}

bast_res
hmac_verify_sigv4(const hmac_state *st, bast_call *call)
{
    const bast_request *req = bast_call_request(call);
    const char *auth, *why = NULL, *method, *path, *query;
    char payload[65];
    sv4_qlist *q = NULL;
    sv4_buf creq = {NULL, 0, 0, 0};
    const hmac_key *key;
    sv4 c;
    int dup = 0, authdup = 0, presigned, declared = 0, match = 0;
    int64_t ts, now = bast_call_now(call);
    size_t base;
    bast_res r;

    memset(&c, 0, sizeof(c));
    auth = find_authorization(req, &authdup);
    query = bast_req_query(req);
    query = query ? query : "";
    q = calloc(1, sizeof(*q));
    if (q == NULL)
        return BAST_RES_UNAVAILABLE;
    if (strlen(query) > HMAC_HEADER_MAX || sv4_qlist_parse(q, query) != 0) {
        r = malformed(call, "the query string is too long");
        goto done;
    }
    presigned = sv4_qget(q, "X-Amz-Signature", &dup) != NULL ||
                sv4_qget(q, "X-Amz-Algorithm", &dup) != NULL;
    dup = 0;
    if (auth == NULL && !presigned) {
        hmac_challenge(call, ALGO);
        r = BAST_RES_ABSENT;
        goto done;
    }
    if (auth != NULL && (presigned || authdup)) {
        r = malformed(call, "one AWS4-HMAC-SHA256 signature per request");
        goto done;
    }
    if (auth != NULL) {
        const char *d = hmac_header1(req, "X-Amz-Date", &dup);
        if (parse_authorization(&c, auth) != 0 || d == NULL || dup ||
            copy_part(c.amzdate, sizeof(c.amzdate), d, strlen(d)) != 0) {
            r = malformed(call, "the Authorization header or X-Amz-Date is "
                                "malformed");
            goto done;
        }
    } else if (parse_presigned(&c, q) != 0) {
        r = malformed(call, "the presigned URL parameters are malformed");
        goto done;
    }
    if (hmac_parse_ts(c.amzdate, &ts) != 0 ||
        memcmp(c.amzdate, c.date, 8) != 0) {
        r = malformed(call, "X-Amz-Date is not the credential's date");
        goto done;
    }
    if ((st->region && strcmp(st->region, c.region) != 0) ||
        (st->service && strcmp(st->service, c.service) != 0)) {
        r = deny(call, "invalid_scope",
                 "the credential scope's region or "
                 "service is not this one");
        goto done;
    }
    if (ts > now + st->window || (!presigned && ts < now - st->window)) {
        r = deny(call, "stale_timestamp", "X-Amz-Date is out of the window");
        goto done;
    }
    if (presigned && now > ts + c.expires) {
        r = deny(call, "expired", "the presigned URL has expired");
        goto done;
    }
    key = hmac_ring_find(&st->ring, c.akid);
    if (key == NULL) {
        r = deny(call, "unknown_key", "no such access key id");
        goto done;
    }

    method = bast_req_method(req);
    path = bast_req_path(req);
    sv4_puts(&creq, method ? method : "");
    sv4_put(&creq, "\n", 1);
    sv4_canonical_uri(&creq, path ? path : "/");
    sv4_put(&creq, "\n", 1);
    sv4_canonical_query(&creq, q, presigned);
    sv4_put(&creq, "\n", 1);
    if (sv4_canonical_headers(&creq, req, c.signed_headers, &why) != 0) {
        r = malformed(call, why);
        goto done;
    }
    sv4_put(&creq, "\n", 1);
    sv4_puts(&creq, c.signed_headers);
    sv4_put(&creq, "\n", 1);
    base = creq.n;
    if (presigned) {
        /* a presigned URL signs UNSIGNED-PAYLOAD (S3) or the body's hash
         * (other SDKs); without the body, the empty body's hash is tried
         * only for methods that carry none */
        const unsigned char *body;
        unsigned char md[32];
        size_t len = 0;
        int present = 0;
        sv4_puts(&creq, "UNSIGNED-PAYLOAD");
        match = !creq.oom && matches(st, key, &c, &creq);
        body = bast_req_body(req, &len, &present);
        payload[0] = '\0';
        if (present && hmac_digest(st, body, len, md) == 32)
            hmac_hex(md, 32, payload);
        else if (!present && bodiless(req))
            memcpy(payload, EMPTY_SHA256, sizeof(EMPTY_SHA256));
        if (!match && payload[0] != '\0') {
            creq.n = base;
            sv4_puts(&creq, payload);
            match = !creq.oom && matches(st, key, &c, &creq);
        }
    } else {
        r = payload_hash(st, call, payload, &declared);
        if (r != BAST_RES_SUCCESS)
            goto done;
        sv4_puts(&creq, payload);
        match = !creq.oom && matches(st, key, &c, &creq);
    }
    if (creq.oom) {
        r = malformed(call, "the request is too large to canonicalise");
        goto done;
    }
    if (!match) {
        r = deny(call, "invalid_signature", "the signature does not match");
        goto done;
    }
    if (!presigned) {
        r = hmac_replay(st, call, c.akid, (const char *)c.sig, 32,
                        2 * st->window);
        if (r != BAST_RES_SUCCESS)
            goto done;
    }
    r = BAST_RES_UNAVAILABLE;
    if (bast_call_set_identity(call, key->owner) != 0 ||
        bast_call_set_attr_str(call, "key_id", c.akid) != 0 ||
        bast_call_set_attr_str(call, "region", c.region) != 0 ||
        bast_call_set_attr_str(call, "service", c.service) != 0 ||
        (declared &&
         bast_call_set_attr_str(call, "declared_body_hash", payload) != 0))
        goto done;
    r = BAST_RES_SUCCESS;
done:
    if (q != NULL) {
        sv4_qlist_free(q);
        free(q);
    }
    free(creq.p);
    return r;
}
