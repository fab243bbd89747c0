/*
 * fuzz_bastd.c - bastd's request mapping, through the path the daemon
 * really uses: the input is sent as raw bytes on a connection to bastd's
 * own HTTP handler (libmicrohttpd, started in-process on a unix socket,
 * a trusted peer), so the proxy dialects (nginx X-Original-*, Traefik
 * X-Forwarded-*, Envoy paths), X-Client-Cert unescaping, X-Real-IP and
 * X-Forwarded-For parsing, the app name in /verify/<app> and the body
 * limits are all reached.  The stack's answer depends on the mapped
 * method and path (a filter), so a wrong mapping changes the decision.
 * An input starting with '!' instead goes to the address parsers
 * (bastd_trust_parse, bastd_ip_canon, bastd_trust_ip): "!spec\nip".
 * The handler's http.c has no function separable from libmicrohttpd's
 * connection, hence the socket.
 */
#include "bastd.h"
#include "common.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static bastd d;
static char sock_path[108];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    fz_keep_plugins("fixed permit");
    fz_global_conf();
    fz_write_text("conf.d/app.conf",
                  "[app]\nrealm = fuzz\n\n[adm]\nplugin = fixed\n"
                  "control = requisite\nresult = deny\n"
                  "challenge = Bearer realm=\"fuzz\"\n"
                  "paths = /admin/*\nmethods = POST DELETE\n\n"
                  "[ok]\nplugin = permit\ncontrol = required\n"
                  "identity = alice\n",
                  0644);
    char err[512];
    bastd_log_init(BASTD_LOG_STDERR);
    d.confdir = fz_tmpdir();
    d.plugin_dir = fz_plugin_dir();
    d.max_body = 1 << 16;
    d.max_header = 16384;
    d.max_conn = 64;
    d.timeout = 5;
    d.threads = 1;
    d.drain_timeout = 1;
    if (bastd_trust_parse(&d.trust, "127.0.0.1/32 ::1/128 unix", err,
                          sizeof err) != 0)
        abort();
    pthread_mutex_init(&d.gen_lock, NULL);
    d.metrics = bastd_metrics_new();
    bastd_gen *g = calloc(1, sizeof *g);
    g->ctx = fz_open_or_die();
    atomic_store(&g->refs, 1);
    d.cur = g;
    snprintf(sock_path, sizeof sock_path, "%s/bastd.sock", fz_tmpdir());
    char spec[160];
    snprintf(spec, sizeof spec, "unix:%s", sock_path);
    int fd = bastd_listen(spec, 0600, NULL, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "fuzz: listen: %s\n", err);
        abort();
    }
    if (bastd_http_start(&d, fd) == NULL)
        abort();
    return 0;
}

static void
net_case(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    char *ip = strchr(s, '\n');
    if (ip)
        *ip++ = 0;
    bastd_trust t;
    char err[256], canon[64];
    memset(&t, 0, sizeof t);
    if (bastd_trust_parse(&t, s, err, sizeof err) == 0) {
        char *desc = bastd_trust_describe(&t);
        free(desc);
        if (ip)
            (void)bastd_trust_ip(&t, ip);
    }
    bastd_trust_free(&t);
    if (ip && bastd_ip_canon(ip, canon, sizeof canon) == 0 &&
        memchr(canon, 0, sizeof canon) == NULL)
        abort();
    free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 200000)
        return 0;
    if (size && data[0] == '!') {
        net_case(data + 1, size - 1);
        return 0;
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("fuzz: connect");
        abort();
    }
    size_t off = 0;
    while (off < size) {
        ssize_t w = send(c, data + off, size - off, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the daemon answered early and closed: fine */
        off += (size_t)w;
    }
    /* an empty line ends any header block left open, so most inputs are
     * whole requests the daemon answers at once (a blank line before a
     * request line is ignored, RFC 9112 2.2) */
    (void)send(c, "\r\n\r\n", 4, MSG_NOSIGNAL);
    shutdown(c, SHUT_WR);
    char buf[8192];
    struct pollfd p = {c, POLLIN, 0};
    /* read until the daemon closes, or until it has been quiet for 200 ms
     * (a request still waiting for its body: libmicrohttpd does not end a
     * half-closed connection before its timeout, which is not a bug) */
    while (poll(&p, 1, 200) > 0) {
        ssize_t r = recv(c, buf, sizeof buf, 0);
        if (r <= 0)
            break;
    }
    close(c);
    return 0;
}
