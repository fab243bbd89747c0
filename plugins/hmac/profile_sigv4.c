/*
 * profile_sigv4.c - AWS Signature Version 4 (placeholder).
 */
#include "hmac_int.h"

bast_res
hmac_verify_sigv4(const hmac_state *st, bast_call *call)
{
    (void)st;
    bast_call_set_error(call, "internal_error", "aws-sigv4 not built");
    return BAST_RES_UNAVAILABLE;
}
