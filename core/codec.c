/*
 * codec.c - strict base64 / base64url (RFC 4648), constant-time compare,
 * the error strings, and bast_free.  Decoding is strict on purpose: a
 * wrong alphabet, whitespace, misplaced or (with BAST_B64_NOPAD) any
 * padding, and non-zero pad bits are all refused, so one credential has
 * exactly one encoding.
 */
#include "bast_int.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define BAST_ERR_STR_(name, text) text,
static const char *const err_text[] = {BAST_ERRORS(BAST_ERR_STR_)};
#undef BAST_ERR_STR_

const char *
bast_strerror(int err)
{
    if (err < 0 || err >= BAST_ERR__COUNT)
        return "unknown error";
    return err_text[err];
}

void
bast_free(void *p)
{
    free(p);
}

int
bast_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

static const char std_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
bast_b64_encoded_len(size_t n, unsigned flags)
{
    if (flags & BAST_B64_NOPAD)
        return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0) + 1;
    return (n + 2) / 3 * 4 + 1;
}

long
bast_b64_encode(const void *in, size_t n, char *out, size_t outlen,
                unsigned flags)
{
    const unsigned char *p = in;
    const char *a = (flags & BAST_B64_URL) ? url_alpha : std_alpha;
    size_t need = bast_b64_encoded_len(n, flags);
    if (outlen < need || need > (size_t)0x7fffffff)
        return -1;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
        out[o++] = a[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        if (!(flags & BAST_B64_NOPAD)) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (n - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
        if (!(flags & BAST_B64_NOPAD))
            out[o++] = '=';
    }
    out[o] = '\0';
    return (long)o;
}

static int
dec_char(unsigned char c, int url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

long
bast_b64_decode(const char *in, size_t n, void *outv, size_t outlen,
                unsigned flags)
{
    unsigned char *out = outv;
    int url = (flags & BAST_B64_URL) != 0;
    size_t pad = 0;
    if (n > (size_t)0x7fffffff)
        return -1;
    while (pad < 2 && n > pad && in[n - 1 - pad] == '=')
        pad++;
    if (pad) {
        if (flags & BAST_B64_NOPAD)
            return -1;
        if (n % 4 != 0)
            return -1;
    } else if (!(flags & BAST_B64_NOPAD) && n % 4 != 0) {
        return -1;
    }
    size_t m = n - pad; /* significant characters */
    if (m % 4 == 1)
        return -1;
    size_t need = m / 4 * 3 + (m % 4 ? m % 4 - 1 : 0);
    if (need > outlen)
        return -1;
    size_t o = 0, i = 0;
    for (; i + 3 < m; i += 4) {
        int a = dec_char((unsigned char)in[i], url),
            b = dec_char((unsigned char)in[i + 1], url),
            c = dec_char((unsigned char)in[i + 2], url),
            d = dec_char((unsigned char)in[i + 3], url);
        if ((a | b | c | d) < 0)
            return -1;
        unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6 |
                     (unsigned)d;
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    size_t rest = m - i;
    if (rest == 2) {
        int a = dec_char((unsigned char)in[i], url),
            b = dec_char((unsigned char)in[i + 1], url);
        if ((a | b) < 0 || (b & 15) != 0)
            return -1;
        out[o++] = (unsigned char)((unsigned)a << 2 | (unsigned)b >> 4);
    } else if (rest == 3) {
        int a = dec_char((unsigned char)in[i], url),
            b = dec_char((unsigned char)in[i + 1], url),
            c = dec_char((unsigned char)in[i + 2], url);
        if ((a | b | c) < 0 || (c & 3) != 0)
            return -1;
        unsigned v = (unsigned)a << 12 | (unsigned)b << 6 | (unsigned)c;
        out[o++] = (unsigned char)(v >> 10);
        out[o++] = (unsigned char)(v >> 2);
    }
    return (long)o;
}
