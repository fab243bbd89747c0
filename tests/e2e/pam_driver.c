/*
 * pam_driver.c - drives a PAM service through the real libpam for the
 * pam_bast tests:  pam_driver CONFDIR SERVICE USER PASSWORD [acct|acctonly]
 * pam_start_confdir() reads CONFDIR/SERVICE; the conversation answers every
 * prompt with PASSWORD.  Prints "auth: <pam_strerror>" and, with `acct`
 * after a successful auth, "acct: <pam_strerror>" (`acctonly` runs only
 * the account phase).  Env PAM_DRIVER_BETWEEN: a shell command run between
 * the two phases.  Env PAM_DRIVER_LOG: a file that receives every syslog
 * line (this program's syslog() replaces libc's for libpam's
 * pam_syslog, so the test can read what the module logs).  Exit 0 when
 * every step succeeded, 1 otherwise, 2 on usage.
 */
#include <security/pam_appl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
EXPORT void __syslog_chk(int pri, int flag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

EXPORT void
vsyslog(int pri, const char *fmt, va_list ap)
{
    const char *path = getenv("PAM_DRIVER_LOG");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (!f)
        return;
    fprintf(f, "<%d> ", pri);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fclose(f);
}

EXPORT void
syslog(int pri, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsyslog(pri, fmt, ap);
    va_end(ap);
}

EXPORT void
__vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    vsyslog(pri, fmt, ap);
}

EXPORT void
__syslog_chk(int pri, int flag, const char *fmt, ...)
{
    (void)flag;
    va_list ap;
    va_start(ap, fmt);
    vsyslog(pri, fmt, ap);
    va_end(ap);
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
     void *data)
{
    struct pam_response *r = calloc((size_t)n, sizeof *r);
    if (!r)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
            msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
            r[i].resp = strdup(data);
            if (!r[i].resp) {
                for (int j = 0; j < i; j++)
                    free(r[j].resp);
                free(r);
                return PAM_BUF_ERR;
            }
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

int
main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: pam_driver CONFDIR SERVICE USER PASSWORD "
                        "[acct|acctonly]\n");
        return 2;
    }
    const char *mode = argc == 6 ? argv[5] : "";
    struct pam_conv pc = {conv, argv[4]};
    pam_handle_t *pamh = NULL;
    int rc = pam_start_confdir(argv[2], argv[3], &pc, argv[1], &pamh);
    if (rc != PAM_SUCCESS) {
        printf("start: %s\n", pam_strerror(pamh, rc));
        return 1;
    }
    if (strcmp(mode, "acctonly") != 0) {
        rc = pam_authenticate(pamh, 0);
        printf("auth: %s\n", pam_strerror(pamh, rc));
    }
    if (rc == PAM_SUCCESS && *mode) {
        const char *between = getenv("PAM_DRIVER_BETWEEN");
        if (between && system(between) != 0)
            printf("between: failed\n");
        rc = pam_acct_mgmt(pamh, 0);
        printf("acct: %s\n", pam_strerror(pamh, rc));
    }
    fflush(stdout);
    pam_end(pamh, rc);
    return rc == PAM_SUCCESS ? 0 : 1;
}
