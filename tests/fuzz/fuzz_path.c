/*
 * fuzz_path.c - bast__path_normalise, the path filter's view of the wire
 * path.  Properties on success: the output fits, starts with '/', has no
 * empty, "." or ".." segment (so `paths = /admin/...` cannot be dodged with
 * //admin or /x/../admin).  Run at two buffer sizes so the length
 * checks are exercised.
 */
#include "bast_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const char *out, size_t outlen)
{
    size_t n = strlen(out);
    if (n >= outlen || out[0] != '/')
        abort();
    for (size_t i = 0; i < n; i++) {
        if (out[i] != '/')
            continue;
        const char *s = out + i + 1;
        size_t len = strcspn(s, "/");
        int last = s[len] == 0;
        if (len == 0 && !(last && i + 1 == n))
            abort(); /* "//" */
        if ((len == 1 && s[0] == '.') ||
            (len == 2 && s[0] == '.' && s[1] == '.'))
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = 0;
    size_t sizes[2] = {2048, size % 64 + 2};
    for (int k = 0; k < 2; k++) {
        char *out = malloc(sizes[k]);
        if (bast__path_normalise(in, out, sizes[k]) == 0)
            check(out, sizes[k]);
        free(out);
    }
    free(in);
    return 0;
}
