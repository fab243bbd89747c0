/*
 * mtls.c - the `mtls` scheme: authenticate a client by its certificate.
 *
 * The chain comes from the request (bast_req_peer_cert: PEM, leaf first,
 * at most 64 KiB and 10 certificates) and is verified with OpenSSL against
 * the instance's store, loaded once at open: `ca_file` and/or `ca_dir`,
 * `crl_file` with `crl_check = leaf|chain`, `max_depth` intermediates, the
 * clientAuth purpose (and, with `require_eku = yes`, an explicit clientAuth
 * extended key usage), validity at the request's instant (`--now` works),
 * optional `pins` (`cert:` or `spki:` SHA-256, hex or base64).  Identity per
 * `identity = cn|dn|san_dns|san_uri|san_email|fingerprint`, checked against
 * `allow` (space-separated fnmatch patterns).  With `trusted_proxies`
 * (CIDRs) a certificate is used only when the request's remote address is
 * in one of them.  Results: absent (no certificate, or one from an
 * untrusted address), deny (unparsable, invalid, expired, revoked, wrong
 * CA or EKU, pin mismatch, no identity), forbidden (valid but not allowed),
 * success with attributes subject, issuer, serial, not_after, cert_sha256
 * and x5t#S256.
 */
#include "bast_plugin.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define MAX_PEM (64 * 1024)
#define MAX_CERTS 10
#define MAX_LIST 64

enum { ID_CN, ID_DN, ID_SAN_DNS, ID_SAN_URI, ID_SAN_EMAIL, ID_FP };
static const char *const id_names[] = {"cn",      "dn",        "san_dns",
                                       "san_uri", "san_email", "fingerprint",
                                       NULL};

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

static const char *const known[] = {
    "ca_file",  "ca_dir", "crl_file", "crl_check",       "max_depth",
    "identity", "allow",  "pins",     "trusted_proxies", "require_eku",
    NULL};

static void
mtls_close(void *state)
{
    mtls *m = state;
    size_t i;

    if (m == NULL)
        return;
    X509_STORE_free(m->store);
    EVP_MD_free(m->sha256);
    for (i = 0; i < m->nallow; i++)
        free(m->allow[i]);
    free(m->allow);
    free(m->pins);
    free(m->proxies);
    free(m);
}

/* Split a space-separated value into at most MAX_LIST words. */
static int
split_words(const bast_option *o, char ***out, size_t *n, char *err,
            size_t errlen)
{
    const char *p = o->value;
    char **v = NULL;
    size_t k = 0;

    while (*p != '\0') {
        size_t len;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        len = strcspn(p, " \t");
        if (k == MAX_LIST) {
            free(v);
            return bast_opt_error(o, err, errlen, "more than %d entries",
                                  MAX_LIST);
        }
        char **nv = realloc(v, (k + 1) * sizeof(*v));
        if (nv == NULL || (nv[k] = strndup(p, len)) == NULL) {
            size_t i;
            v = nv != NULL ? nv : v;
            for (i = 0; i < k; i++)
                free(v[i]);
            free(v);
            return bast_opt_error(o, err, errlen, "out of memory");
        }
        v = nv;
        k++;
        p += len;
    }
    if (k == 0) {
        free(v);
        return bast_opt_error(o, err, errlen, "empty list");
    }
    *out = v;
    *n = k;
    return 0;
}

static void
free_words(char **v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* An address into family + 16 bytes; IPv4-mapped IPv6 becomes IPv4. */
static int
parse_addr(const char *s, int *family, unsigned char addr[16])
{
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, s, addr) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, addr) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
                                                 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(addr, mapped, 12) == 0) {
            memmove(addr, addr + 12, 4);
            memset(addr + 4, 0, 12);
            *family = AF_INET;
        } else {
            *family = AF_INET6;
        }
        return 0;
    }
    return -1;
}

static int
parse_cidr(const char *word, struct cidr *c)
{
    char buf[64];
    char *slash, *end;
    long bits;
    int max;

    if (strlen(word) >= sizeof(buf))
        return -1;
    strcpy(buf, word);
    slash = strchr(buf, '/');
    if (slash != NULL)
        *slash++ = '\0';
    if (parse_addr(buf, &c->family, c->addr) != 0)
        return -1;
    max = c->family == AF_INET ? 32 : 128;
    if (slash == NULL) {
        c->bits = max;
        return 0;
    }
    if (!isdigit((unsigned char)*slash))
        return -1;
    bits = strtol(slash, &end, 10);
    if (*end != '\0' || bits < 0 || bits > max)
        return -1;
    c->bits = (int)bits;
    return 0;
}

static int
cidr_match(const struct cidr *c, int family, const unsigned char *a)
{
    int full = c->bits / 8, rest = c->bits % 8;

    if (c->family != family || memcmp(c->addr, a, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (c->addr[full] & mask) == (a[full] & mask);
}

static int
hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* `cert:VALUE` or `spki:VALUE`; VALUE hex (colons allowed) or base64(url). */
static int
parse_pin(const char *word, struct pin *p)
{
    static const unsigned b64flags[] = {0, BAST_B64_NOPAD, BAST_B64_URL,
                                        BAST_B64_URL | BAST_B64_NOPAD};
    const char *v;
    char hex[65];
    size_t i, k = 0;

    if (strncmp(word, "cert:", 5) == 0)
        p->spki = 0;
    else if (strncmp(word, "spki:", 5) == 0)
        p->spki = 1;
    else
        return -1;
    v = word + 5;
    for (i = 0; v[i] != '\0' && k < sizeof(hex); i++) {
        if (v[i] == ':')
            continue;
        if (hexval((unsigned char)v[i]) < 0)
            break;
        hex[k++] = v[i];
    }
    if (v[i] == '\0' && k == 64) {
        for (i = 0; i < 32; i++)
            p->hash[i] = (unsigned char)(hexval(hex[2 * i]) * 16 +
                                         hexval(hex[2 * i + 1]));
        return 0;
    }
    for (i = 0; i < sizeof(b64flags) / sizeof(b64flags[0]); i++) {
        unsigned char out[48];
        if (bast_b64_decode(v, strlen(v), out, sizeof(out), b64flags[i]) ==
            32) {
            memcpy(p->hash, out, 32);
            return 0;
        }
    }
    return -1;
}

static int
load_store(mtls *m, const bast_instance *inst, const bast_option *ca_file,
           const bast_option *ca_dir, const bast_option *crl, char *err,
           size_t errlen)
{
    char path[4096];

    m->store = X509_STORE_new();
    if (m->store == NULL)
        return bast_opt_error(ca_file ? ca_file : ca_dir, err, errlen,
                              "out of memory");
    if (ca_file != NULL) {
        if (bast_inst_path(inst, ca_file->value, path, sizeof(path)) != 0 ||
            X509_STORE_load_file(m->store, path) != 1)
            return bast_opt_error(ca_file, err, errlen,
                                  "cannot load CA certificates from '%s'",
                                  ca_file->value);
    }
    if (ca_dir != NULL) {
        if (bast_inst_path(inst, ca_dir->value, path, sizeof(path)) != 0 ||
            X509_STORE_load_path(m->store, path) != 1)
            return bast_opt_error(ca_dir, err, errlen,
                                  "cannot use CA directory '%s'",
                                  ca_dir->value);
    }
    if (crl != NULL) {
        X509_LOOKUP *lk = X509_STORE_add_lookup(m->store, X509_LOOKUP_file());
        if (lk == NULL ||
            bast_inst_path(inst, crl->value, path, sizeof(path)) != 0 ||
            X509_load_crl_file(lk, path, X509_FILETYPE_PEM) <= 0)
            return bast_opt_error(crl, err, errlen,
                                  "cannot load CRLs from '%s'", crl->value);
    }
    return 0;
}

static int
mtls_open(const bast_instance *inst, const bast_option *opts, size_t nopts,
          void **state, char *err, size_t errlen)
{
    const bast_option *ca_file, *ca_dir, *crl, *o;
    mtls *m;
    long long v;
    size_t i;
    int ret = -1;

    *state = NULL;
    if (bast_opts_check(opts, nopts, known, err, errlen) != 0)
        return -1;
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m->depth = 3;
    m->require_eku = 1;
    ERR_clear_error();

    ca_file = bast_opts_get(opts, nopts, "ca_file");
    ca_dir = bast_opts_get(opts, nopts, "ca_dir");
    crl = bast_opts_get(opts, nopts, "crl_file");
    if (ca_file == NULL && ca_dir == NULL) {
        snprintf(err, errlen, "%s:%d: ca_file: ca_file or ca_dir is required",
                 bast_inst_file(inst), bast_inst_line(inst));
        goto done;
    }
    if (load_store(m, inst, ca_file, ca_dir, crl, err, errlen) != 0)
        goto done;
    m->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (m->sha256 == NULL) {
        snprintf(err, errlen, "mtls: SHA-256 is not available");
        goto done;
    }
    /* Strict X.509 checks; no partial chains: the anchor must be in the
     * configured store. */
    m->vflags = X509_V_FLAG_X509_STRICT;
    if ((o = bast_opts_get(opts, nopts, "crl_check")) != NULL) {
        if (crl == NULL && ca_dir == NULL) {
            bast_opt_error(o, err, errlen, "needs crl_file or ca_dir");
            goto done;
        }
        if (strcmp(o->value, "leaf") == 0)
            m->vflags |= X509_V_FLAG_CRL_CHECK;
        else if (strcmp(o->value, "chain") == 0)
            m->vflags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
        else {
            bast_opt_error(o, err, errlen, "expected leaf or chain, got '%s'",
                           o->value);
            goto done;
        }
    } else if (crl != NULL) {
        m->vflags |= X509_V_FLAG_CRL_CHECK;
    }
    if ((o = bast_opts_get(opts, nopts, "max_depth")) != NULL) {
        if (bast_opt_int(o, 0, MAX_CERTS - 2, &v, err, errlen) != 0)
            goto done;
        m->depth = (int)v;
    }
    if ((o = bast_opts_get(opts, nopts, "require_eku")) != NULL &&
        bast_opt_bool(o, &m->require_eku, err, errlen) != 0)
        goto done;
    if ((o = bast_opts_get(opts, nopts, "identity")) != NULL) {
        for (i = 0; id_names[i] != NULL; i++)
            if (strcmp(o->value, id_names[i]) == 0)
                break;
        if (id_names[i] == NULL) {
            bast_opt_error(o, err, errlen,
                           "expected cn, dn, san_dns, san_uri, san_email or "
                           "fingerprint, got '%s'",
                           o->value);
            goto done;
        }
        m->id_kind = (int)i;
    }
    if ((o = bast_opts_get(opts, nopts, "allow")) != NULL &&
        split_words(o, &m->allow, &m->nallow, err, errlen) != 0)
        goto done;
    if ((o = bast_opts_get(opts, nopts, "pins")) != NULL) {
        char **w;
        size_t n;
        if (split_words(o, &w, &n, err, errlen) != 0)
            goto done;
        m->pins = calloc(n, sizeof(*m->pins));
        for (i = 0; m->pins != NULL && i < n; i++)
            if (parse_pin(w[i], &m->pins[i]) != 0)
                break;
        m->npins = n;
        if (m->pins == NULL || i < n) {
            if (m->pins == NULL)
                bast_opt_error(o, err, errlen, "out of memory");
            else
                bast_opt_error(o, err, errlen,
                               "'%s': expected cert:SHA256 or spki:SHA256 "
                               "(64 hex digits or base64)",
                               w[i]);
            free_words(w, n);
            goto done;
        }
        free_words(w, n);
    }
    if ((o = bast_opts_get(opts, nopts, "trusted_proxies")) != NULL) {
        char **w;
        size_t n;
        if (split_words(o, &w, &n, err, errlen) != 0)
            goto done;
        m->proxies = calloc(n, sizeof(*m->proxies));
        for (i = 0; m->proxies != NULL && i < n; i++)
            if (parse_cidr(w[i], &m->proxies[i]) != 0)
                break;
        m->nproxies = n;
        if (m->proxies == NULL || i < n) {
            bast_opt_error(o, err, errlen, "'%s': not an address or CIDR",
                           m->proxies == NULL ? "" : w[i]);
            free_words(w, n);
            goto done;
        }
        free_words(w, n);
    }
    *state = m;
    m = NULL;
    ret = 0;
done:
    ERR_clear_error();
    mtls_close(m);
    return ret;
}

/* ---- per request ------------------------------------------------------- */

static int
blank(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return *s == '\0';
}

/* Parse PEM certificates, leaf first.  -1 on garbage or too many. */
static int
parse_chain(const char *pem, X509 **leaf, STACK_OF(X509) **rest)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)strlen(pem));
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
    if (n == 0 || ERR_GET_LIB(e) != ERR_LIB_PEM ||
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

static const char *
verify_error_word(int e)
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

static char *
name_text(const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p, *r = NULL;
    long n;

    if (b == NULL)
        return NULL;
    /* RFC 2253 form, UTF-8 kept rather than escaped. */
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >=
        0) {
        n = BIO_get_mem_data(b, &p);
        if (n >= 0)
            r = strndup(p, (size_t)n);
    }
    BIO_free(b);
    return r;
}

static void
hex_of(const unsigned char *h, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = d[h[i] >> 4];
        out[2 * i + 1] = d[h[i] & 15];
    }
    out[2 * n] = '\0';
}

static int
allowed(const mtls *m, const char *id)
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
static char *
identity_of(const mtls *m, X509 *leaf, const char *fp_hex)
{
    char *r = NULL;

    if (m->id_kind == ID_FP)
        return strdup(fp_hex);
    if (m->id_kind == ID_DN)
        return name_text(X509_get_subject_name(leaf));
    if (m->id_kind == ID_CN) {
        const X509_NAME *nm = X509_get_subject_name(leaf);
        int i, last = -1;
        /* The last CN is the most specific one. */
        while ((i = X509_NAME_get_index_by_NID(nm, NID_commonName, last)) >=
               0)
            last = i;
        if (last < 0)
            return NULL;
        return utf8_of(
            X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, last)));
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
        if (m->nallow == 0 || allowed(m, s)) {
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

static int
pin_ok(const mtls *m, X509 *leaf, const unsigned char *cert_hash)
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
        ok |= CRYPTO_memcmp(m->pins[i].spki ? spki : cert_hash,
                            m->pins[i].hash, 32) == 0;
    return ok;
}

static int
set_attrs(bast_call *call, X509 *leaf, const unsigned char *h,
          const char *fp_hex)
{
    char *subj = name_text(X509_get_subject_name(leaf));
    char *iss = name_text(X509_get_issuer_name(leaf));
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

static bast_res
mtls_verify(void *state, bast_call *call)
{
    const mtls *m = state;
    const bast_request *req = bast_call_request(call);
    const char *pem = bast_req_peer_cert(req);
    X509 *leaf = NULL;
    STACK_OF(X509) *chain = NULL;
    X509_STORE_CTX *xc = NULL;
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hl = 0;
    char fp[65], *id = NULL;
    bast_res res = BAST_RES_UNAVAILABLE;

    if (pem == NULL || blank(pem))
        return BAST_RES_ABSENT;
    if (m->nproxies > 0) {
        const char *ra = bast_req_remote_addr(req);
        unsigned char a[16];
        int fam;
        size_t i;
        for (i = 0; ra != NULL && parse_addr(ra, &fam, a) == 0 &&
                    i < m->nproxies;
             i++)
            if (cidr_match(&m->proxies[i], fam, a))
                break;
        if (ra == NULL || i >= m->nproxies) {
            bast_call_set_error(call, "untrusted_proxy",
                                "certificate from %s ignored: not a trusted "
                                "proxy",
                                ra != NULL ? ra : "an unknown address");
            return BAST_RES_ABSENT;
        }
    }
    if (strlen(pem) > MAX_PEM || parse_chain(pem, &leaf, &chain) != 0) {
        bast_call_set_error(call, "invalid_certificate",
                            "the client certificate chain does not parse "
                            "(PEM, at most %d certificates and %d bytes)",
                            MAX_CERTS, MAX_PEM);
        return BAST_RES_DENY;
    }
    xc = X509_STORE_CTX_new();
    if (xc == NULL ||
        X509_STORE_CTX_init(xc, m->store, leaf, chain) != 1) {
        bast_call_set_error(call, "internal_error", "out of memory");
        goto done;
    }
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(xc);
    X509_VERIFY_PARAM_set_flags(vp, m->vflags);
    X509_VERIFY_PARAM_set_depth(vp, m->depth);
    X509_VERIFY_PARAM_set_time(vp, (time_t)bast_call_now(call));
    X509_STORE_CTX_set_purpose(xc, X509_PURPOSE_SSL_CLIENT);
    if (X509_verify_cert(xc) != 1) {
        int e = X509_STORE_CTX_get_error(xc);
        if (e == X509_V_OK) /* failed without a reason: fail closed */
            e = X509_V_ERR_UNSPECIFIED;
        bast_call_set_error(call, verify_error_word(e), "%s (depth %d)",
                            X509_verify_cert_error_string(e),
                            X509_STORE_CTX_get_error_depth(xc));
        res = BAST_RES_DENY;
        goto done;
    }
    if (m->require_eku &&
        ((X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) == 0 ||
         (X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT) == 0)) {
        bast_call_set_error(call, "invalid_certificate",
                            "the certificate has no clientAuth extended key "
                            "usage");
        res = BAST_RES_DENY;
        goto done;
    }
    if (X509_digest(leaf, m->sha256, h, &hl) != 1 || hl != 32) {
        bast_call_set_error(call, "internal_error", "SHA-256 failed");
        goto done;
    }
    hex_of(h, 32, fp);
    if (m->npins > 0 && !pin_ok(m, leaf, h)) {
        bast_call_set_error(call, "pin_mismatch",
                            "certificate %s matches no configured pin", fp);
        res = BAST_RES_DENY;
        goto done;
    }
    id = identity_of(m, leaf, fp);
    if (id == NULL || *id == '\0') {
        bast_call_set_error(call, "invalid_certificate",
                            "the certificate has no %s to take the identity "
                            "from",
                            id_names[m->id_kind]);
        res = BAST_RES_DENY;
        goto done;
    }
    if (!allowed(m, id)) {
        bast_call_set_error(call, "not_allowed",
                            "certificate identity '%s' is not on the "
                            "allow-list",
                            id);
        res = BAST_RES_FORBIDDEN;
        goto done;
    }
    if (set_attrs(call, leaf, h, fp) != 0 ||
        bast_call_set_identity(call, id) != 0) {
        bast_call_set_error(call, "internal_error", "out of memory");
        goto done;
    }
    res = BAST_RES_SUCCESS;
done:
    ERR_clear_error();
    free(id);
    X509_STORE_CTX_free(xc);
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    return res;
}

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "mtls", "0.1.0", mtls_open,
                   mtls_verify, mtls_close, NULL);
