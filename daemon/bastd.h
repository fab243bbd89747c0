/*
 * bastd.h - internal declarations of the bastd daemon, shared by its four
 * files: main.c (command line, signals, reload), http.c (the
 * libmicrohttpd handler that maps a proxy's subrequest to a bast_request),
 * net.c (listen sockets, trusted-proxy CIDRs) and metrics.c (Prometheus
 * counters).  Nothing here is installed.
 */
#ifndef BASTD_H
#define BASTD_H

#include "bast.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* ---- logging (log target chosen once at startup) ---------------------- */

enum { BASTD_LOG_STDERR, BASTD_LOG_SYSLOG };
void bastd_log_init(int target);
/* Levels follow syslog: 3 error, 4 warning, 6 info, 7 debug. */
void bastd_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void bastd_vlog(int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* ---- addresses ------------------------------------------------------- */

typedef struct bastd_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    unsigned prefix;
} bastd_cidr;

typedef struct bastd_trust {
    bastd_cidr *v;
    size_t n;
    int unix_peers; /* the word `unix`: peers on a unix socket */
} bastd_trust;

/* Parse "127.0.0.1/32,::1/128 unix" (commas or spaces; "none" = empty).
 * Returns 0, or -1 with a message. */
int bastd_trust_parse(bastd_trust *t, const char *spec, char *err,
                      size_t errlen);
void bastd_trust_free(bastd_trust *t);
/* The list as text, for the startup log line; caller frees. */
char *bastd_trust_describe(const bastd_trust *t);
/* Is the peer `sa` trusted?  Unknown families are not. */
int bastd_trust_peer(const bastd_trust *t, const struct sockaddr *sa);
/* Is the textual IP `ip` trusted?  -1 when it is not an IP address. */
int bastd_trust_ip(const bastd_trust *t, const char *ip);
/* An IP literal in canonical text form into buf; -1 if not an address. */
int bastd_ip_canon(const char *ip, char *buf, size_t len);
/* The peer's IP as text (v4-mapped v6 shown as v4); -1 for non-IP peers. */
int bastd_peer_text(const struct sockaddr *sa, char *buf, size_t len);

/* Open, bind and listen on ADDR: "127.0.0.1:PORT", "[::1]:PORT",
 * "unix:/path" (created with `mode`, chowned to `owner` when not NULL) or
 * "systemd" (the socket systemd passed as fd 3).
 * Returns the socket, or -1 with a message. */
int bastd_listen(const char *spec, unsigned mode, const char *owner, char *err,
                 size_t errlen);

/* ---- metrics ----------------------------------------------------------- */

typedef struct bastd_metrics bastd_metrics;
bastd_metrics *bastd_metrics_new(void);
void bastd_metrics_free(bastd_metrics *m);
void bastd_metrics_request(bastd_metrics *m, const char *app,
                           const char *decision, int status, const char *error,
                           double seconds);
void bastd_metrics_module(bastd_metrics *m, const char *app, const char *module,
                          const char *result);
/* The configuration in service (the first load is no reload). */
void bastd_metrics_generation(bastd_metrics *m, unsigned long gen);
void bastd_metrics_reload(bastd_metrics *m, int ok, unsigned long gen);
void bastd_metrics_inflight(bastd_metrics *m, int delta);
long bastd_metrics_inflight_now(bastd_metrics *m);
/* The exposition text; caller frees. */
char *bastd_metrics_render(bastd_metrics *m, size_t *len);

/* ---- the daemon ------------------------------------------------------ */

/* One loaded configuration.  `refs` counts the daemon's "current" slot
 * plus every request that runs on it; the last release closes the ctx,
 * so an in-flight request keeps its configuration across a reload. */
typedef struct bastd_gen {
    bast_ctx *ctx;
    atomic_ulong refs;
    unsigned long id;
} bastd_gen;

typedef struct bastd {
    /* options, fixed after startup */
    const char *confdir;
    const char *plugin_dir;
    const char *listen;
    size_t max_body;
    size_t max_header;
    unsigned max_conn;
    unsigned timeout;
    unsigned threads;
    unsigned drain_timeout;
    bastd_trust trust;
    /* state */
    pthread_mutex_t gen_lock; /* guards `cur` while a ref is taken */
    bastd_gen *cur;
    bastd_metrics *metrics;
} bastd;

bastd_gen *bastd_gen_acquire(bastd *d);
void bastd_gen_release(bastd_gen *g);

/* What arrived on /verify/...: the request target as received and the
 * body (present or not), borrowed for the call below. */
typedef struct bastd_sub {
    const char *uri;
    const unsigned char *body;
    size_t blen;
    int has_body;
} bastd_sub;

struct MHD_Connection;
/* Rebuild the original request from the subrequest on `c` (request.c).
 * `rest` is the path after /verify/<app>.  NULL with a 400 reason in `why`,
 * or with `why` empty on an internal failure.  Caller frees. */
bast_request *bastd_build_request(bastd *d, struct MHD_Connection *c,
                                  const bastd_sub *h, const char *method,
                                  const char *rest, char *why, size_t whylen);

/* Start the HTTP server on socket `fd`; NULL on failure (logged). */
struct MHD_Daemon *bastd_http_start(bastd *d, int fd);

#endif
