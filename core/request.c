/*
 * request.c - the request a host hands to bast_verify(): method, path and
 * query as received, headers in order (names matched case-insensitively),
 * an optional body, the client certificate chain, the peer address, TLS,
 * and an optional evaluation instant.  Also its JSON form (DESIGN.md) and
 * the read-only accessors plugins use.  Headers are capped at 16 KiB in
 * all, the JSON text at 1 MiB.
 */
#include "bast_int.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bast_request *
bast_request_new(void)
{
    bast_request *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->method = strdup("GET");
    r->path = strdup("/");
    r->query = strdup("");
    if (!r->method || !r->path || !r->query) {
        bast_request_free(r);
        return NULL;
    }
    return r;
}

/* Header values and the body may be bearer secrets: wipe them before
 * their memory goes back to the allocator. */
static void
wipe_free(char *p, size_t n)
{
    if (p) {
        OPENSSL_cleanse(p, n);
        free(p);
    }
}

void
bast_request_free(bast_request *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nh; i++) {
        free(r->h[i].name);
        wipe_free(r->h[i].value, strlen(r->h[i].value));
    }
    free(r->h);
    free(r->method);
    free(r->path);
    wipe_free(r->query, strlen(r->query));
    wipe_free((char *)r->body, r->body_len);
    free(r->peer_cert);
    free(r->remote_addr);
    free(r);
}

static int
set_str(char **dst, const char *s)
{
    char *c = strdup(s ? s : "");
    if (c == NULL)
        return BAST_ERR_NOMEM;
    free(*dst);
    *dst = c;
    return BAST_ERR_OK;
}

int
bast_request_set_method(bast_request *r, const char *m)
{
    if (r == NULL || m == NULL || *m == '\0' || strlen(m) > 32)
        return BAST_ERR_INVAL;
    return set_str(&r->method, m);
}

int
bast_request_set_path(bast_request *r, const char *p)
{
    if (r == NULL || p == NULL)
        return BAST_ERR_INVAL;
    if (strlen(p) > BAST_MAX_HEADER_BYTES)
        return BAST_ERR_TOOBIG;
    return set_str(&r->path, *p ? p : "/");
}

int
bast_request_set_query(bast_request *r, const char *q)
{
    if (r == NULL)
        return BAST_ERR_INVAL;
    if (q && *q == '?')
        q++;
    if (q && strlen(q) > BAST_MAX_HEADER_BYTES)
        return BAST_ERR_TOOBIG;
    return set_str(&r->query, q);
}

int
bast_request_add_header(bast_request *r, const char *name, const char *value)
{
    if (r == NULL || name == NULL || value == NULL || *name == '\0')
        return BAST_ERR_INVAL;
    size_t add = strlen(name) + strlen(value) + 4;
    if (r->header_bytes + add > BAST_MAX_HEADER_BYTES)
        return BAST_ERR_TOOBIG;
    if (r->nh == r->caph) {
        size_t cap = r->caph ? r->caph * 2 : 8;
        struct bast__header *nh = realloc(r->h, cap * sizeof(*nh));
        if (nh == NULL)
            return BAST_ERR_NOMEM;
        r->h = nh;
        r->caph = cap;
    }
    char *n = strdup(name), *v = strdup(value);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return BAST_ERR_NOMEM;
    }
    r->h[r->nh].name = n;
    r->h[r->nh].value = v;
    r->nh++;
    r->header_bytes += add;
    return BAST_ERR_OK;
}

int
bast_request_set_body(bast_request *r, const void *body, size_t len)
{
    if (r == NULL || (body == NULL && len > 0))
        return BAST_ERR_INVAL;
    unsigned char *b = malloc(len ? len : 1);
    if (b == NULL)
        return BAST_ERR_NOMEM;
    if (len)
        memcpy(b, body, len);
    wipe_free((char *)r->body, r->body_len);
    r->body = b;
    r->body_len = len;
    r->has_body = 1;
    return BAST_ERR_OK;
}

int
bast_request_set_peer_cert(bast_request *r, const char *pem)
{
    if (r == NULL)
        return BAST_ERR_INVAL;
    if (pem && strlen(pem) > 256u * 1024)
        return BAST_ERR_TOOBIG;
    if (pem == NULL || *pem == '\0') {
        free(r->peer_cert);
        r->peer_cert = NULL;
        return BAST_ERR_OK;
    }
    return set_str(&r->peer_cert, pem);
}

int
bast_request_set_remote_addr(bast_request *r, const char *a)
{
    if (r == NULL || (a && strlen(a) > 64))
        return BAST_ERR_INVAL;
    if (a == NULL) {
        free(r->remote_addr);
        r->remote_addr = NULL;
        return BAST_ERR_OK;
    }
    return set_str(&r->remote_addr, a);
}

void
bast_request_set_tls(bast_request *r, int tls)
{
    if (r)
        r->tls = tls != 0;
}

void
bast_request_set_time(bast_request *r, int64_t now)
{
    if (r) {
        r->now = now;
        r->has_now = 1;
    }
}

/* ---- JSON form ---------------------------------------------------------- */

static int
json_fail(char *err, size_t errlen, int code, const char *msg)
{
    bast__seterr(err, errlen, "request: %s", msg);
    return code;
}

static int
from_json_obj(bast_request *r, json_t *o, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        int rc = BAST_ERR_OK;
        if (strcmp(key, "method") == 0 || strcmp(key, "path") == 0 ||
            strcmp(key, "query") == 0 || strcmp(key, "body") == 0 ||
            strcmp(key, "body_base64") == 0 ||
            strcmp(key, "peer_cert_pem") == 0 ||
            strcmp(key, "remote_addr") == 0) {
            if (!json_is_string(v))
                return json_fail(err, errlen, BAST_ERR_PARSE,
                                 "a string member is not a string");
            const char *s = json_string_value(v);
            if (strcmp(key, "method") == 0)
                rc = bast_request_set_method(r, s);
            else if (strcmp(key, "path") == 0)
                rc = bast_request_set_path(r, s);
            else if (strcmp(key, "query") == 0)
                rc = bast_request_set_query(r, s);
            else if (strcmp(key, "body") == 0)
                rc = bast_request_set_body(r, s, json_string_length(v));
            else if (strcmp(key, "peer_cert_pem") == 0)
                rc = bast_request_set_peer_cert(r, s);
            else if (strcmp(key, "remote_addr") == 0)
                rc = bast_request_set_remote_addr(r, s);
            else {
                size_t n = json_string_length(v);
                unsigned char *buf = malloc(n / 4 * 3 + 3);
                if (buf == NULL)
                    return BAST_ERR_NOMEM;
                long got = bast_b64_decode(s, n, buf, n / 4 * 3 + 3, 0);
                if (got < 0) {
                    free(buf);
                    return json_fail(err, errlen, BAST_ERR_PARSE,
                                     "body_base64 is not base64");
                }
                rc = bast_request_set_body(r, buf, (size_t)got);
                free(buf);
            }
        } else if (strcmp(key, "tls") == 0) {
            if (!json_is_boolean(v))
                return json_fail(err, errlen, BAST_ERR_PARSE,
                                 "tls is not a boolean");
            bast_request_set_tls(r, json_is_true(v));
        } else if (strcmp(key, "now") == 0) {
            if (!json_is_integer(v))
                return json_fail(err, errlen, BAST_ERR_PARSE,
                                 "now is not an integer");
            bast_request_set_time(r, (int64_t)json_integer_value(v));
        } else if (strcmp(key, "headers") == 0) {
            if (!json_is_array(v))
                return json_fail(err, errlen, BAST_ERR_PARSE,
                                 "headers is not an array");
            size_t i;
            json_t *pair;
            json_array_foreach(v, i, pair)
            {
                if (!json_is_array(pair) || json_array_size(pair) != 2 ||
                    !json_is_string(json_array_get(pair, 0)) ||
                    !json_is_string(json_array_get(pair, 1)))
                    return json_fail(err, errlen, BAST_ERR_PARSE,
                                     "a header is not [name, value]");
                rc = bast_request_add_header(
                    r, json_string_value(json_array_get(pair, 0)),
                    json_string_value(json_array_get(pair, 1)));
                if (rc != BAST_ERR_OK)
                    break;
            }
        } else {
            bast__seterr(err, errlen, "request: unknown member '%s'", key);
            return BAST_ERR_PARSE;
        }
        if (rc == BAST_ERR_TOOBIG)
            return json_fail(err, errlen, rc, "headers over 16 KiB");
        if (rc != BAST_ERR_OK) {
            bast__seterr(err, errlen, "request: %s: %s", key,
                         bast_strerror(rc));
            return rc;
        }
    }
    if (json_object_get(o, "body") && json_object_get(o, "body_base64"))
        return json_fail(err, errlen, BAST_ERR_PARSE,
                         "body and body_base64 both given");
    return BAST_ERR_OK;
}

static bast_request *
from_json_value(json_t *value, char *err, size_t errlen)
{
    json_t *o = value;
    if (!json_is_object(o)) {
        bast__seterr(err, errlen, "request: not a JSON object");
        return NULL;
    }
    bast_request *r = bast_request_new();
    if (r == NULL) {
        bast__seterr(err, errlen, "request: out of memory");
        return NULL;
    }
    if (from_json_obj(r, o, err, errlen) != BAST_ERR_OK) {
        bast_request_free(r);
        return NULL;
    }
    return r;
}

bast_request *
bast_request_from_json(const char *text, size_t len, char *err, size_t errlen)
{
    if (text == NULL || len > BAST_MAX_REQUEST_BYTES) {
        bast__seterr(err, errlen, "request: over 1 MiB");
        return NULL;
    }
    json_error_t je;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        bast__seterr(err, errlen, "request: line %d: %s", je.line, je.text);
        return NULL;
    }
    bast_request *r = from_json_value(o, err, errlen);
    json_decref(o);
    return r;
}

/* ---- accessors for plugins ---------------------------------------------- */

const char *
bast_req_method(const bast_request *r)
{
    return r->method;
}

const char *
bast_req_path(const bast_request *r)
{
    return r->path;
}

const char *
bast_req_query(const bast_request *r)
{
    return r->query;
}

size_t
bast_req_header_count(const bast_request *r, const char *name)
{
    size_t c = 0;
    for (size_t i = 0; i < r->nh; i++)
        if (strcasecmp(r->h[i].name, name) == 0)
            c++;
    return c;
}

const char *
bast_req_header(const bast_request *r, const char *name, size_t idx)
{
    for (size_t i = 0; i < r->nh; i++)
        if (strcasecmp(r->h[i].name, name) == 0 && idx-- == 0)
            return r->h[i].value;
    return NULL;
}

size_t
bast_req_nheaders(const bast_request *r)
{
    return r->nh;
}

int
bast_req_header_at(const bast_request *r, size_t i, const char **name,
                   const char **value)
{
    if (i >= r->nh)
        return -1;
    *name = r->h[i].name;
    *value = r->h[i].value;
    return 0;
}

const unsigned char *
bast_req_body(const bast_request *r, size_t *len, int *present)
{
    if (present)
        *present = r->has_body;
    if (len)
        *len = r->body_len;
    return r->has_body ? r->body : NULL;
}

const char *
bast_req_peer_cert(const bast_request *r)
{
    return r->peer_cert;
}

const char *
bast_req_remote_addr(const bast_request *r)
{
    return r->remote_addr;
}

int
bast_req_tls(const bast_request *r)
{
    return r->tls;
}
