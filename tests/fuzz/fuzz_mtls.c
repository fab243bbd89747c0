/*
 * fuzz_mtls.c - the mtls plugin's certificate input: the PEM chain a host
 * passes (leaf first), its split into certificates, the chain check
 * against the seed CA, identity extraction (CN, DN, SAN URI) and the
 * allow-list.  The first byte picks the form: 0 mini request whose body
 * is the PEM text (app "a", identity cn), 1 the same on app "b" (san_uri,
 * allow-list, trusted_proxies), 2 and 3 raw DER that the harness wraps in
 * PEM (apps "a" and "c": dn, no EKU needed), so mutations reach the
 * certificate fields rather than the base64.
 */
#include "common.h"
#include "bast_plugin.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static bast_ctx *ctx;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_keep_plugins("mtls");
    fz_global_conf();
    fz_copy_data("mtls-ca.pem", 0644);
    fz_write_text("conf.d/a.conf",
                  "[app]\n\n[cert]\nplugin = mtls\ncontrol = required\n"
                  "ca_file = mtls-ca.pem\nidentity = cn\n",
                  0644);
    fz_write_text("conf.d/b.conf",
                  "[app]\n\n[cert]\nplugin = mtls\ncontrol = required\n"
                  "ca_file = mtls-ca.pem\nidentity = san_uri\n"
                  "allow = spiffe://example.org/*\n"
                  "trusted_proxies = 127.0.0.0/8 ::1\n",
                  0644);
    fz_write_text("conf.d/c.conf",
                  "[app]\n\n[cert]\nplugin = mtls\ncontrol = required\n"
                  "ca_file = mtls-ca.pem\nidentity = dn\n"
                  "require_eku = no\nmax_depth = 1\n",
                  0644);
    ctx = fz_open_or_die();
    return 0;
}

static void
der_case(const uint8_t *der, size_t n, const char *app)
{
    size_t elen = bast_b64_encoded_len(n, 0);
    size_t cap = elen + elen / 64 + 128;
    char *b64 = malloc(elen), *pem = malloc(cap);
    if (bast_b64_encode(der, n, b64, elen, 0) < 0)
        abort();
    size_t o = (size_t)snprintf(pem, cap, "-----BEGIN CERTIFICATE-----\n");
    for (size_t i = 0, L = strlen(b64); i < L; i += 64) {
        size_t k = L - i < 64 ? L - i : 64;
        memcpy(pem + o, b64 + i, k);
        o += k;
        pem[o++] = '\n';
    }
    snprintf(pem + o, cap - o, "-----END CERTIFICATE-----\n");
    bast_request *req = fz_request(NULL, 0);
    if (bast_request_set_peer_cert(req, pem) == 0)
        fz_verify(ctx, app, req);
    bast_request_free(req);
    free(b64);
    free(pem);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    int v = data[0] & 3;
    if (v >= 2) {
        der_case(data + 1, size - 1, v == 2 ? "a" : "c");
        return 0;
    }
    /* mini request: headers, then the PEM chain as the "body" */
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    bast_request *req = fz_request(p, n);
    if (req == NULL)
        return 0;
    size_t blen;
    int present;
    const unsigned char *b = bast_req_body(req, &blen, &present);
    if (present) {
        char *pem = malloc(blen + 1);
        memcpy(pem, b, blen);
        pem[blen] = 0;
        bast_request_set_peer_cert(req, pem);
        free(pem);
    }
    fz_verify(ctx, v ? "b" : "a", req);
    bast_request_free(req);
    return 0;
}
