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
#include "mtls.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

static const char *const id_names[] = {
    "cn", "dn", "san_dns", "san_uri", "san_email", "fingerprint", NULL};

static const char *const known[] = {
    "ca_file",         "ca_dir",      "crl_file", "crl_check",
    "max_depth",       "identity",    "allow",    "pins",
    "trusted_proxies", "require_eku", NULL};

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
    if (mtls_load_store(m, inst, ca_file, ca_dir, crl, err, errlen) != 0)
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
        mtls_split_words(o, &m->allow, &m->nallow, err, errlen) != 0)
        goto done;
    if ((o = bast_opts_get(opts, nopts, "pins")) != NULL) {
        char **w;
        size_t n;
        if (mtls_split_words(o, &w, &n, err, errlen) != 0)
            goto done;
        m->pins = calloc(n, sizeof(*m->pins));
        for (i = 0; m->pins != NULL && i < n; i++)
            if (mtls_parse_pin(w[i], &m->pins[i]) != 0)
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
            mtls_free_words(w, n);
            goto done;
        }
        mtls_free_words(w, n);
    }
    if ((o = bast_opts_get(opts, nopts, "trusted_proxies")) != NULL) {
        char **w;
        size_t n;
        if (mtls_split_words(o, &w, &n, err, errlen) != 0)
            goto done;
        m->proxies = calloc(n, sizeof(*m->proxies));
        for (i = 0; m->proxies != NULL && i < n; i++)
            if (mtls_parse_cidr(w[i], &m->proxies[i]) != 0)
                break;
        m->nproxies = n;
        if (m->proxies == NULL || i < n) {
            bast_opt_error(o, err, errlen, "'%s': not an address or CIDR",
                           m->proxies == NULL ? "" : w[i]);
            mtls_free_words(w, n);
            goto done;
        }
        mtls_free_words(w, n);
    }
    *state = m;
    m = NULL;
    ret = 0;
done:
    ERR_clear_error();
    mtls_close(m);
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

    if (pem == NULL || mtls_blank(pem))
        return BAST_RES_ABSENT;
    if (m->nproxies > 0) {
        const char *ra = bast_req_remote_addr(req);
        unsigned char a[16];
        int fam;
        size_t i;
        for (i = 0;
             ra != NULL && mtls_parse_addr(ra, &fam, a) == 0 && i < m->nproxies;
             i++)
            if (mtls_cidr_match(&m->proxies[i], fam, a))
                break;
        if (ra == NULL || i >= m->nproxies) {
            bast_call_set_error(call, "untrusted_proxy",
                                "certificate from %s ignored: not a trusted "
                                "proxy",
                                ra != NULL ? ra : "an unknown address");
            return BAST_RES_ABSENT;
        }
    }
    if (strlen(pem) > MAX_PEM || mtls_parse_chain(pem, &leaf, &chain) != 0) {
        bast_call_set_error(call, "invalid_certificate",
                            "the client certificate chain does not parse "
                            "(PEM, at most %d certificates and %d bytes)",
                            MAX_CERTS, MAX_PEM);
        return BAST_RES_DENY;
    }
    xc = X509_STORE_CTX_new();
    if (xc == NULL || X509_STORE_CTX_init(xc, m->store, leaf, chain) != 1) {
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
        bast_call_set_error(call, mtls_verify_error_word(e), "%s (depth %d)",
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
    mtls_hex_of(h, 32, fp);
    if (m->npins > 0 && !mtls_pin_ok(m, leaf, h)) {
        bast_call_set_error(call, "pin_mismatch",
                            "certificate %s matches no configured pin", fp);
        res = BAST_RES_DENY;
        goto done;
    }
    id = mtls_identity_of(m, leaf, fp);
    if (id == NULL || *id == '\0') {
        bast_call_set_error(call, "invalid_certificate",
                            "the certificate has no %s to take the identity "
                            "from",
                            id_names[m->id_kind]);
        res = BAST_RES_DENY;
        goto done;
    }
    if (!mtls_allowed(m, id)) {
        bast_call_set_error(call, "not_allowed",
                            "certificate identity '%s' is not on the "
                            "allow-list",
                            id);
        res = BAST_RES_FORBIDDEN;
        goto done;
    }
    if (mtls_set_attrs(call, leaf, h, fp) != 0 ||
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

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "mtls", "0.1.0", mtls_open, mtls_verify,
                   mtls_close, NULL);
