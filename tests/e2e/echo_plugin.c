/*
 * echo_plugin.c - a test-only plugin (built to $B/tests/e2e/echo.so, never
 * installed) that answers success and reports the request it was given as
 * attributes: method, path, query, remote_addr, tls, peer_cert, body and
 * headers ("Name: value" in order).  The e2e tests read them back from
 * X-Bast-Attributes to check how bastd rebuilt the original request.
 * Options: identity = NAME (default "echo").
 */
#include "bast_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
echo_open(const bast_instance *inst, const bast_option *opts, size_t n,
          void **state, char *err, size_t errlen)
{
    static const char *const known[] = {"identity", NULL};
    (void)inst;
    if (bast_opts_check(opts, n, known, err, errlen) != 0)
        return -1;
    const bast_option *id = bast_opts_get(opts, n, "identity");
    *state = strdup(id ? id->value : "echo");
    return *state ? 0 : -1;
}

static bast_res
echo_verify(void *state, bast_call *call)
{
    const bast_request *r = bast_call_request(call);
    size_t nh = bast_req_nheaders(r), blen = 0;
    int present = 0;
    const unsigned char *body = bast_req_body(r, &blen, &present);
    char **lines = calloc(nh + 1, sizeof *lines);
    if (!lines)
        return BAST_RES_UNAVAILABLE;
    for (size_t i = 0; i < nh; i++) {
        const char *name, *value;
        bast_req_header_at(r, i, &name, &value);
        if (asprintf(&lines[i], "%s: %s", name, value) < 0)
            lines[i] = NULL;
    }
    bast_call_set_attr_str(call, "method", bast_req_method(r));
    bast_call_set_attr_str(call, "path", bast_req_path(r));
    bast_call_set_attr_str(call, "query", bast_req_query(r));
    if (bast_req_remote_addr(r))
        bast_call_set_attr_str(call, "remote_addr", bast_req_remote_addr(r));
    if (bast_req_peer_cert(r))
        bast_call_set_attr_str(call, "peer_cert", bast_req_peer_cert(r));
    bast_call_set_attr_int(call, "tls", bast_req_tls(r));
    bast_call_set_attr_int(call, "body_present", present);
    if (present) {
        char *b = strndup((const char *)body, blen);
        if (b)
            bast_call_set_attr_str(call, "body", b);
        free(b);
    }
    bast_call_set_attr_strv(call, "headers", (const char *const *)lines, nh);
    for (size_t i = 0; i < nh; i++)
        free(lines[i]);
    free(lines);
    bast_call_set_identity(call, state);
    return BAST_RES_SUCCESS;
}

static void
echo_close(void *state)
{
    free(state);
}

BAST_PLUGIN_DEFINE(BAST_CAP_THREADSAFE, "echo", "1", echo_open, echo_verify,
                   echo_close, NULL);
