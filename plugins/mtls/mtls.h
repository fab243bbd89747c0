/*
 * mtls.h - internals shared by the files of the `mtls` plugin: option
 * parsing (opts.c), certificate inspection (cert.c) and the verifier
 * (mtls.c).  Nothing here is exported from the .so.
 */
#ifndef BAST_MTLS_H
#define BAST_MTLS_H

#include "bast_plugin.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#define MAX_PEM (64 * 1024)
#define MAX_CERTS 10
#define MAX_LIST 64

enum { ID_CN, ID_DN, ID_SAN_DNS, ID_SAN_URI, ID_SAN_EMAIL, ID_FP };

struct cidr {
    int family;
    int bits;
    unsigned char addr[16];
};

struct pin {
    int spki; /* 1: SHA-256 of SubjectPublicKeyInfo, 0: of the certificate */
    unsigned char hash[32];
};

typedef struct mtls {
    X509_STORE *store;
    EVP_MD *sha256;
    unsigned long vflags;
    int depth;
    int id_kind;
    int require_eku;
    char **allow;
    size_t nallow;
    struct pin *pins;
    size_t npins;
    struct cidr *proxies;
    size_t nproxies;
} mtls;

/* opts.c */
int mtls_split_words(const bast_option *o, char ***out, size_t *n, char *err,
                     size_t errlen);
void mtls_free_words(char **v, size_t n);
int mtls_parse_addr(const char *s, int *family, unsigned char addr[16]);
int mtls_parse_cidr(const char *word, struct cidr *c);
int mtls_cidr_match(const struct cidr *c, int family, const unsigned char *a);
int mtls_parse_pin(const char *word, struct pin *p);
int mtls_load_store(mtls *m, const bast_instance *inst,
                    const bast_option *ca_file, const bast_option *ca_dir,
                    const bast_option *crl, char *err, size_t errlen);

/* cert.c */
int mtls_blank(const char *s);
int mtls_parse_chain(const char *pem, X509 **leaf, STACK_OF(X509) * *rest);
const char *mtls_verify_error_word(int e);
char *mtls_name_text(const X509_NAME *name);
void mtls_hex_of(const unsigned char *h, size_t n, char *out);
int mtls_allowed(const mtls *m, const char *id);
char *mtls_identity_of(const mtls *m, X509 *leaf, const char *fp_hex);
int mtls_pin_ok(const mtls *m, X509 *leaf, const unsigned char *cert_hash);
int mtls_set_attrs(bast_call *call, X509 *leaf, const unsigned char *h,
                   const char *fp_hex);

#endif
