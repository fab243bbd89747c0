/*
 * fuzz_b64.c - bast_b64_decode / bast_b64_encode under all four flag
 * combinations (the first byte picks them).  Properties: a strict decode
 * that succeeds re-encodes to exactly its input (one text per value, so
 * no two tokens alias); any bytes encode and decode back to themselves;
 * a too-small output buffer is refused, never overrun.
 */
#include "bast_plugin.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0] & 3u;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;

    /* decode: exact-size heap buffer so ASan sees any overrun */
    size_t cap = n / 4 * 3 + 3;
    unsigned char *out = malloc(cap);
    long got = bast_b64_decode(in, n, out, cap, flags);
    if (got >= 0) {
        if ((size_t)got > cap)
            abort();
        size_t elen = bast_b64_encoded_len((size_t)got, flags);
        char *enc = malloc(elen);
        long e = bast_b64_encode(out, (size_t)got, enc, elen, flags);
        if (e < 0 || (size_t)e != n || memcmp(enc, in, n) != 0)
            abort(); /* strict decoding must be canonical */
        free(enc);
        /* one byte short must be refused, not overrun */
        if (got > 0) {
            unsigned char *small = malloc((size_t)got - 1);
            if (bast_b64_decode(in, n, small, (size_t)got - 1, flags) >= 0)
                abort();
            free(small);
        }
    }
    free(out);

    /* encode then decode the raw bytes */
    size_t elen = bast_b64_encoded_len(n, flags);
    char *enc = malloc(elen);
    long e = bast_b64_encode(in, n, enc, elen, flags);
    if (e < 0 || (size_t)e + 1 > elen || enc[e] != 0)
        abort();
    unsigned char *back = malloc(n + 1);
    long d = bast_b64_decode(enc, (size_t)e, back, n + 1, flags);
    if (d != (long)n || memcmp(back, in, n) != 0)
        abort();
    if (elen > 1) {
        char *tiny = malloc(elen - 1);
        if (bast_b64_encode(in, n, tiny, elen - 1, flags) >= 0)
            abort();
        free(tiny);
    }
    free(back);
    free(enc);
    return 0;
}
