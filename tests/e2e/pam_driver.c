/*
 * pam_driver.c - drives a PAM service through the real libpam for the
 * pam_bast tests:  pam_driver CONFDIR SERVICE USER PASSWORD [acct]
 * pam_start_confdir() reads CONFDIR/SERVICE; the conversation answers every
 * echo-off prompt with PASSWORD.  Prints "auth: <pam_strerror>" and, with
 * `acct` after a successful auth, "acct: <pam_strerror>".  Exit 0 when
 * every step succeeded, 1 otherwise, 2 on usage.
 */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
                        "[acct]\n");
        return 2;
    }
    struct pam_conv pc = {conv, argv[4]};
    pam_handle_t *pamh = NULL;
    int rc = pam_start_confdir(argv[2], argv[3], &pc, argv[1], &pamh);
    if (rc != PAM_SUCCESS) {
        printf("start: %s\n", pam_strerror(pamh, rc));
        return 1;
    }
    rc = pam_authenticate(pamh, 0);
    printf("auth: %s\n", pam_strerror(pamh, rc));
    if (rc == PAM_SUCCESS && argc == 6 && strcmp(argv[5], "acct") == 0) {
        rc = pam_acct_mgmt(pamh, 0);
        printf("acct: %s\n", pam_strerror(pamh, rc));
    }
    pam_end(pamh, rc);
    return rc == PAM_SUCCESS ? 0 : 1;
}
