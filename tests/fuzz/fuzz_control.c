/*
 * fuzz_control.c - bast__control_parse on operator text (`control = ...`,
 * simple flags and the bracket form).  Properties: success fills every
 * result with a known action or a jump N >= 1, the invalid result 0 is
 * always `bad`; failure leaves a message.
 */
#include "bast_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    bast_action act[BAST_RES__COUNT];
    char err[256];
    err[0] = 0;
    if (bast__control_parse(text, act, err, sizeof err) == 0) {
        if (act[0] != BAST_ACT_BAD)
            abort();
        for (int r = 1; r < BAST_RES__COUNT; r++)
            if (act[r] == BAST_ACT_UNSET || act[r] < BAST_ACT_RESET)
                abort();
    } else if (err[0] == 0 || memchr(err, 0, sizeof err) == NULL) {
        abort();
    }
    for (int r = -1; r <= BAST_RES__COUNT; r++) {
        if (bast__res_name(r) == NULL)
            abort();
    }
    (void)bast__res_from_name(text);
    free(text);
    return 0;
}
