/*
 * sigv4.h - the canonical-request pieces of the aws-sigv4 profile
 * (sigv4_canon.c) shared with its verifier (profile_sigv4.c).
 */
#ifndef BAST_HMAC_SIGV4_H
#define BAST_HMAC_SIGV4_H

#include "hmac_int.h"

#define ALGO "AWS4-HMAC-SHA256"
#define CREQ_MAX (256 * 1024)
#define PAIRS_MAX 256
#define HEADERS_MAX 64
#define EXPIRES_MAX 604800
#define EMPTY_SHA256                                                           \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct sv4_buf {
    char *p;
    size_t n, cap;
    int oom;
} sv4_buf;

typedef struct qpair {
    char *k, *v;   /* AWS-encoded */
    char *dk, *dv; /* decoded */
    size_t dklen, dvlen;
} qpair;

typedef struct sv4_qlist {
    qpair p[PAIRS_MAX];
    size_t n;
} sv4_qlist;

/* Append to a buffer bounded by CREQ_MAX; `oom` is set on overflow. */
void sv4_put(sv4_buf *b, const char *s, size_t n);
void sv4_puts(sv4_buf *b, const char *s);
/* Path: dot segments and empty segments removed, then AWS-encoded. */
void sv4_canonical_uri(sv4_buf *b, const char *path);
/* Split a raw query into decoded and re-encoded pairs; -1 on a limit. */
int sv4_qlist_parse(sv4_qlist *q, const char *query);
void sv4_qlist_free(sv4_qlist *q);
/* Decoded value of the only pair `key`; NULL if absent, *dup if repeated. */
const char *sv4_qget(const sv4_qlist *q, const char *key, int *dup);
/* Sorted pairs, without X-Amz-Signature when `drop_signature`. */
void sv4_canonical_query(sv4_buf *b, sv4_qlist *q, int drop_signature);
/* Check SignedHeaders and write the canonical headers; -1 with *why. */
int sv4_canonical_headers(sv4_buf *b, const bast_request *req,
                          const char *signed_h, const char **why);

#endif
