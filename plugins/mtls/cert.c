/*
 * cert.c - certificate inspection for the `mtls` plugin: the PEM chain of
 * a request (bounded in size and count), the identity the options ask
 * for (CN, DN, a SAN, the fingerprint), pins, and the attributes of a
 * successful verification (subject, issuer, serial, not_after,
 * cert_sha256, x5t#S256).
 */
#include "mtls.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

int
mtls_blank(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return *s == '\0';
}

static const char pem_begin[] = "-----BEGIN CERTIFICATE-----";
static const char pem_end[] = "-----END CERTIFICATE-----";

/* The text must be PEM certificate blocks and whitespace, nothing else:
 * returns the number of blocks, or -1. */
static int
count_blocks(const char *p)
{
    int n = 0;

    for (;;) {
        const char *e;
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p == '\0')
            return n;
        if (strncmp(p, pem_begin, sizeof(pem_begin) - 1) != 0 ||
            (e = strstr(p, pem_end)) == NULL || ++n > MAX_CERTS)
            return -1;
        p = e + sizeof(pem_end) - 1;
    }
}

/* Parse PEM certificates, leaf first.  -1 on garbage or too many. */
int
mtls_parse_chain(const char *pem, X509 **leaf, STACK_OF(X509) * *rest)
{
    int want = count_blocks(pem);
    BIO *bio = want > 0 ? BIO_new_mem_buf(pem, (int)strlen(pem)) : NULL;
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *x;
    int n = 0, ret = -1;
    unsigned long e;

    *leaf = NULL;
    *rest = NULL;
    if (bio == NULL || sk == NULL)
        goto done;
    ERR_clear_error();
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (++n > MAX_CERTS || sk_X509_push(sk, x) <= 0) {
            X509_free(x);
            goto done;
        }
    }
    /* Running out of PEM blocks is the normal end; anything else is not. */
    e = ERR_peek_last_error();
    if (n != want || ERR_GET_LIB(e) != ERR_LIB_PEM ||
        ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
        goto done;
    *leaf = sk_X509_shift(sk);
    *rest = sk;
    sk = NULL;
    ret = 0;
done:
    ERR_clear_error();
    sk_X509_pop_free(sk, X509_free);
    BIO_free(bio);
    return ret;
}

const char *
mtls_verify_error_word(int e)
{
    switch (e) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return "certificate_expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return "certificate_not_yet_valid";
    case X509_V_ERR_CERT_REVOKED:
        return "certificate_revoked";
    default:
        return "invalid_certificate";
    }
}

static char *
utf8_of(const ASN1_STRING *s)
{
    unsigned char *u = NULL;
    int n = ASN1_STRING_to_UTF8(&u, s);
    char *r;

    if (n < 0)
        return NULL;
    /* An embedded NUL would let "a\0.evil" pass as "a". */
    if (memchr(u, '\0', (size_t)n) != NULL) {
        OPENSSL_free(u);
        return NULL;
    }
    r = strndup((const char *)u, (size_t)n);
    OPENSSL_free(u);
    return r;
}

char *
mtls_name_text(const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p, *r = NULL;
    long n;

    if (b == NULL)
        return NULL;
    /* RFC 2253 form, UTF-8 kept rather than escaped. */
    if (X509_NAME_print_ex(b, name, 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        n = BIO_get_mem_data(b, &p);
        if (n >= 0)
            r = strndup(p, (size_t)n);
    }
    BIO_free(b);
    return r;
}

void
mtls_hex_of(const unsigned char *h, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = d[h[i] >> 4];
        out[2 * i + 1] = d[h[i] & 15];
    }
    out[2 * n] = '\0';
}

int
mtls_allowed(const mtls *m, const char *id)
{
    size_t i;
    if (m->nallow == 0)
        return 1;
    for (i = 0; i < m->nallow; i++)
        if (fnmatch(m->allow[i], id, 0) == 0)
            return 1;
    return 0;
}

/* The identity the options ask for; for SANs, the first one on the
 * allow-list (or the first of its type when there is no list). */
char *
mtls_identity_of(const mtls *m, X509 *leaf, const char *fp_hex)
{
    char *r = NULL;

    if (m->id_kind == ID_FP)
        return strdup(fp_hex);
    if (m->id_kind == ID_DN)
        return mtls_name_text(X509_get_subject_name(leaf));
    if (m->id_kind == ID_CN) {
        const X509_NAME *nm = X509_get_subject_name(leaf);
        int i, last = -1;
        /* The last CN is the most specific one. */
        while ((i = X509_NAME_get_index_by_NID(nm, NID_commonName, last)) >= 0)
            last = i;
        if (last < 0)
            return NULL;
        return utf8_of(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, last)));
    }
    int type = m->id_kind == ID_SAN_DNS   ? GEN_DNS
               : m->id_kind == ID_SAN_URI ? GEN_URI
                                          : GEN_EMAIL;
    GENERAL_NAMES *gens =
        X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    int i;
    for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char *s;
        if (g->type != type)
            continue;
        s = utf8_of(g->d.ia5);
        if (s == NULL)
            continue;
        if (m->nallow == 0 || mtls_allowed(m, s)) {
            free(r);
            r = s;
            break;
        }
        if (r == NULL)
            r = s; /* kept to name it when nothing is allowed */
        else
            free(s);
    }
    GENERAL_NAMES_free(gens);
    return r;
}

int
mtls_pin_ok(const mtls *m, X509 *leaf, const unsigned char *cert_hash)
{
    unsigned char spki[EVP_MAX_MD_SIZE], *der = NULL;
    unsigned int sl = 0;
    int len, ok = 0;
    size_t i;

    len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &der);
    if (len <= 0 ||
        EVP_Digest(der, (size_t)len, spki, &sl, m->sha256, NULL) != 1 ||
        sl != 32) {
        OPENSSL_free(der);
        return 0;
    }
    OPENSSL_free(der);
    for (i = 0; i < m->npins; i++)
        ok |= CRYPTO_memcmp(m->pins[i].spki ? spki : cert_hash, m->pins[i].hash,
                            32) == 0;
    return ok;
}

int
mtls_set_attrs(bast_call *call, X509 *leaf, const unsigned char *h,
               const char *fp_hex)
{
    char *subj = mtls_name_text(X509_get_subject_name(leaf));
    char *iss = mtls_name_text(X509_get_issuer_name(leaf));
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
    char *serial = bn != NULL ? BN_bn2hex(bn) : NULL;
    char x5t[64];
    struct tm tm;
    int ret = -1;

    if (subj == NULL || iss == NULL || serial == NULL ||
        ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) != 1 ||
        bast_b64_encode(h, 32, x5t, sizeof(x5t),
                        BAST_B64_URL | BAST_B64_NOPAD) < 0)
        goto done;
    if (bast_call_set_attr_str(call, "subject", subj) != 0 ||
        bast_call_set_attr_str(call, "issuer", iss) != 0 ||
        bast_call_set_attr_str(call, "serial", serial) != 0 ||
        bast_call_set_attr_int(call, "not_after", (long long)timegm(&tm)) !=
            0 ||
        bast_call_set_attr_str(call, "cert_sha256", fp_hex) != 0 ||
        bast_call_set_attr_str(call, "x5t#S256", x5t) != 0)
        goto done;
    ret = 0;
done:
    free(subj);
    free(iss);
    OPENSSL_free(serial);
    BN_free(bn);
    return ret;
}
