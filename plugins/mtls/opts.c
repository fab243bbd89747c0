/*
 * opts.c - option parsing for the `mtls` plugin: word lists, CIDRs of
 * trusted proxies, certificate/SPKI pins, and the CA/CRL store built once
 * at open.
 */
#include "mtls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/x509_vfy.h>

/* Split a space-separated value into at most MAX_LIST words. */
int
mtls_split_words(const bast_option *o, char ***out, size_t *n, char *err,
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

void
mtls_free_words(char **v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* An address into family + 16 bytes; IPv4-mapped IPv6 becomes IPv4. */
int
mtls_parse_addr(const char *s, int *family, unsigned char addr[16])
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

int
mtls_parse_cidr(const char *word, struct cidr *c)
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
    if (mtls_parse_addr(buf, &c->family, c->addr) != 0)
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

int
mtls_cidr_match(const struct cidr *c, int family, const unsigned char *a)
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
int
mtls_parse_pin(const char *word, struct pin *p)
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

int
mtls_load_store(mtls *m, const bast_instance *inst, const bast_option *ca_file,
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
        struct stat st;
        /* OpenSSL looks into the folder lazily: check it exists now. */
        if (bast_inst_path(inst, ca_dir->value, path, sizeof(path)) != 0 ||
            stat(path, &st) != 0 || !S_ISDIR(st.st_mode) ||
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
