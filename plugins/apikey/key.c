/*
 * key.c - the API key format: `<prefix><body><check>`.  The body is 32
 * bytes from the CSPRNG written as exactly 44 base58 digits (fixed width,
 * so every key of a prefix has one length); the check is CRC32 of
 * prefix+body as 6 base58 digits.  CRC32 is not a security measure: it
 * lets the plugin and secret scanners reject a mistyped or made-up key
 * without a store lookup.  The secret's protection is its 256 bits and
 * that only its SHA-256 is stored.
 */
#include "ak.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>
#include <zlib.h>

static const char b58[] =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Base58 digit values by ASCII code, -1 for bytes outside the alphabet.
 * A table rather than range tests: presented keys are random text, and
 * branches on random text mispredict (measured 2x slower). */
/* clang-format off */
static const signed char b58_tab[128] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8, -1, -1, -1, -1, -1, -1, /* 1-9 */
    -1,  9, 10, 11, 12, 13, 14, 15, 16, -1, 17, 18, 19, 20, 21, -1, /* A-O */
    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, -1, -1, -1, -1, -1, /* P-Z */
    -1, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, -1, 44, 45, 46, /* a-o */
    47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, -1, -1, -1, -1, -1, /* p-z */
};
/* clang-format on */

/* The value of base58 digit c, or a negative number. */
static int
b58_val(unsigned char c)
{
    return b58_tab[c & 127] | -(int)(c >> 7);
}

int
ak_prefix_valid(const char *prefix)
{
    size_t n = strlen(prefix);
    if (n == 0 || n > AK_PREFIX_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)prefix[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int
ak_b58_fixed(const unsigned char *in, size_t n, char *out, size_t w)
{
    unsigned char dig[64];
    if (w > sizeof dig)
        return -1;
    memset(dig, 0, w);
    /* Schoolbook base conversion: dig = dig * 256 + byte, per byte.  The
     * loop count depends only on n and w, never on the value. */
    for (size_t i = 0; i < n; i++) {
        unsigned carry = in[i];
        for (size_t j = w; j-- > 0;) {
            carry += (unsigned)dig[j] * 256u;
            dig[j] = (unsigned char)(carry % 58u);
            carry /= 58u;
        }
        if (carry) {
            OPENSSL_cleanse(dig, sizeof dig);
            return -1;
        }
    }
    for (size_t j = 0; j < w; j++)
        out[j] = b58[dig[j]];
    out[w] = '\0';
    OPENSSL_cleanse(dig, sizeof dig);
    return 0;
}

static void
check_digits(const char *text, size_t len, char out[AK_CHECK_CHARS + 1])
{
    uLong crc = crc32(0L, (const Bytef *)text, (uInt)len);
    unsigned char be[4] = {(unsigned char)(crc >> 24),
                           (unsigned char)(crc >> 16),
                           (unsigned char)(crc >> 8), (unsigned char)crc};
    (void)ak_b58_fixed(be, sizeof be, out, AK_CHECK_CHARS);
}

int
ak_key_generate(const char *prefix, char *out, size_t outlen)
{
    unsigned char raw[AK_SECRET_BYTES];
    size_t plen = strlen(prefix);
    int ret = -1;

    if (!ak_prefix_valid(prefix) ||
        outlen < plen + AK_BODY_CHARS + AK_CHECK_CHARS + 1)
        return -1;
    if (RAND_priv_bytes(raw, sizeof raw) != 1)
        goto done;
    memcpy(out, prefix, plen);
    if (ak_b58_fixed(raw, sizeof raw, out + plen, AK_BODY_CHARS) != 0)
        goto done;
    check_digits(out, plen + AK_BODY_CHARS, out + plen + AK_BODY_CHARS);
    ret = 0;
done:
    OPENSSL_cleanse(raw, sizeof raw);
    return ret;
}

int
ak_id_generate(char *out, size_t outlen)
{
    unsigned char raw[8];
    size_t plen = sizeof AK_ID_PREFIX - 1;

    if (outlen < AK_ID_MAX + 1 || RAND_bytes(raw, sizeof raw) != 1)
        return -1;
    memcpy(out, AK_ID_PREFIX, plen);
    return ak_b58_fixed(raw, sizeof raw, out + plen, AK_ID_CHARS);
}

int
ak_key_shape(const char *prefix, size_t plen, const char *key, size_t len)
{
    size_t i;
    int bad = 0;

    if (len < plen || memcmp(key, prefix, plen) != 0)
        return AK_FMT_PREFIX;
    if (len != plen + AK_BODY_CHARS + AK_CHECK_CHARS)
        return AK_FMT_LENGTH;
    for (i = plen; i < len; i++)
        bad |= b58_val((unsigned char)key[i]);
    return bad < 0 ? AK_FMT_CHARSET : AK_FMT_OK;
}

int
ak_key_checksum_ok(size_t plen, const char *key)
{
    uint64_t check = 0;
    size_t i, b = plen + AK_BODY_CHARS;

    /* Decode the check digits rather than encode the CRC: it is the
     * cheaper direction, and a value over 32 bits simply mismatches. */
    for (i = b; i < b + AK_CHECK_CHARS; i++)
        check = check * 58 + (uint64_t)(b58_val((unsigned char)key[i]) & 63);
    return check == (uint64_t)crc32(0L, (const Bytef *)key, (uInt)b);
}

int
ak_key_check(const char *prefix, size_t plen, const char *key, size_t len)
{
    int r = ak_key_shape(prefix, plen, key, len);
    if (r == AK_FMT_OK && !ak_key_checksum_ok(plen, key))
        r = AK_FMT_CHECKSUM;
    return r;
}

void
ak_key_display(const char *prefix, const char *key, char *out, size_t outlen)
{
    size_t plen = strlen(prefix);
    size_t n = plen + AK_SHOW_CHARS;
    if (outlen == 0)
        return;
    if (n >= outlen)
        n = outlen - 1;
    if (n > strlen(key))
        n = strlen(key);
    memcpy(out, key, n);
    out[n] = '\0';
}

int
ak_key_digest(EVP_MD_CTX *ctx, const EVP_MD *md, const char *key, size_t len,
              unsigned char out[AK_DIGEST])
{
    unsigned int olen = 0;
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, key, len) != 1 ||
        EVP_DigestFinal_ex(ctx, out, &olen) != 1 || olen != AK_DIGEST)
        return -1;
    return 0;
}
