/*
 * pam_fixed_test.c - a Linux-PAM module that returns what it is told, the
 * libpam twin of bast's `fixed` plugin, for the differential stack test
 * and the stack benchmark.  Arguments: `ret=NAME` (a PAM return code
 * named as in pam.conf brackets: success, auth_err, cred_insufficient,
 * acct_expired, service_err, module_unknown, ignore, ...; default
 * success) and `id=N`.  pam_sm_authenticate appends "N," to the PAM
 * environment variable TRACE so the driver reads which modules ran, in
 * order, with pam_getenv().  An argument `notrace` skips that (benchmark).
 * Built as $(B)/tests/stack/pam_fixed_test.so; not named test_* because
 * tests/run executes those.
 */
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
                        const char **argv) EXPORT;
int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc,
                   const char **argv) EXPORT;

static const struct {
    const char *name;
    int code;
} codes[] = {
    {"success", PAM_SUCCESS},
    {"service_err", PAM_SERVICE_ERR},
    {"perm_denied", PAM_PERM_DENIED},
    {"auth_err", PAM_AUTH_ERR},
    {"cred_insufficient", PAM_CRED_INSUFFICIENT},
    {"user_unknown", PAM_USER_UNKNOWN},
    {"new_authtok_reqd", PAM_NEW_AUTHTOK_REQD},
    {"acct_expired", PAM_ACCT_EXPIRED},
    {"ignore", PAM_IGNORE},
    {"abort", PAM_ABORT},
    {"module_unknown", PAM_MODULE_UNKNOWN},
};

static int
code_of(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(codes[i].name, name) == 0)
            return codes[i].code;
    /* A number is passed through, so out-of-range codes can be tested. */
    return atoi(name);
}

int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    const char *id = "?", *old;
    char buf[4096];
    int i, ret = PAM_SUCCESS, trace = 1;

    (void)flags;
    for (i = 0; i < argc; i++) {
        if (strncmp(argv[i], "ret=", 4) == 0)
            ret = code_of(argv[i] + 4);
        else if (strncmp(argv[i], "id=", 3) == 0)
            id = argv[i] + 3;
        else if (strcmp(argv[i], "notrace") == 0)
            trace = 0;
    }
    if (trace) {
        old = pam_getenv(pamh, "TRACE");
        /* A trace too long to record is a driver bug: make it visible. */
        if (snprintf(buf, sizeof(buf), "TRACE=%s%s,", old ? old : "", id) >=
                (int)sizeof(buf) ||
            pam_putenv(pamh, buf) != PAM_SUCCESS)
            return PAM_BUF_ERR;
    }
    return ret;
}

int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}
