/*
 * main.c - bastd: the bast verification daemon for proxies that can call
 * out (nginx auth_request, Traefik ForwardAuth, Envoy ext_authz).
 *   bastd --confdir DIR --listen ADDR [--trusted-proxies CIDRS]
 *         [--log stderr|syslog] [--max-body N] [--threads N] ...
 * Exit codes: 0 after SIGTERM/SIGINT, 1 on a startup failure (bad
 * configuration, cannot listen), 2 on usage errors.  SIGHUP reloads: a new
 * context is opened beside the old one and swapped in; requests in flight
 * finish on the one they started with; a configuration that fails to load
 * is logged and the running one keeps serving.  SIGTERM stops accepting,
 * waits for in-flight requests (--drain-timeout), and exits.
 *
 * Threading: libmicrohttpd's internal polling threads in a pool of one per
 * core (--threads).  Verification is CPU work of microseconds, and nginx
 * opens a new upstream connection per auth subrequest unless keepalive is
 * configured, so thread-per-connection would pay a thread creation per
 * request; a pool keeps one epoll loop per core instead.  Stacks that
 * block on a remote store want more threads than cores: raise --threads.
 */
#include "bastd.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static int log_target = BASTD_LOG_STDERR; /* set once before any thread */

void
bastd_log_init(int target)
{
    log_target = target;
    if (target == BASTD_LOG_SYSLOG)
        openlog("bastd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
bastd_vlog(int level, const char *fmt, va_list ap)
{
    if (log_target == BASTD_LOG_SYSLOG) {
        vsyslog(level, fmt, ap);
        return;
    }
    static const char *const names[] = {"emerg",   "alert",  "crit", "error",
                                        "warning", "notice", "info", "debug"};
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') /* MHD's messages end with one */
        msg[--n] = '\0';
    fprintf(stderr, "bastd[%ld]: %s: %s\n", (long)getpid(), names[level & 7],
            msg);
}

void
bastd_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bastd_vlog(level, fmt, ap);
    va_end(ap);
}

/* ---- configuration generations ------------------------------------------ */

bastd_gen *
bastd_gen_acquire(bastd *d)
{
    /* The lock makes "read the pointer, take a ref" one step, so a reload
     * cannot drop the last ref between the two. */
    pthread_mutex_lock(&d->gen_lock);
    bastd_gen *g = d->cur;
    atomic_fetch_add(&g->refs, 1);
    pthread_mutex_unlock(&d->gen_lock);
    return g;
}

void
bastd_gen_release(bastd_gen *g)
{
    if (g && atomic_fetch_sub(&g->refs, 1) == 1) {
        bast_close(g->ctx);
        free(g);
    }
}

static bastd_gen *
load(bastd *d, unsigned long id)
{
    char err[1024] = "";
    bast_options o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.plugin_dir = d->plugin_dir;
    bast_ctx *ctx = bast_open(d->confdir, &o, err, sizeof err);
    if (!ctx) {
        bastd_log(3, "configuration %s not loaded: %s",
                  d->confdir ? d->confdir : "(default)",
                  *err ? err : "unknown error");
        return NULL;
    }
    for (size_t i = 0; i < bast_warning_count(ctx); i++)
        bastd_log(4, "%s", bast_warning(ctx, i));
    bastd_gen *g = calloc(1, sizeof *g);
    if (!g) {
        bast_close(ctx);
        bastd_log(3, "out of memory");
        return NULL;
    }
    g->ctx = ctx;
    g->id = id;
    atomic_store(&g->refs, 1); /* the "current" slot's reference */
    bastd_log(6, "configuration generation %lu: %zu application(s)", id,
              bast_app_count(ctx));
    return g;
}

static void
reload(bastd *d, unsigned long *next_id)
{
    bastd_gen *g = load(d, *next_id);
    if (!g) {
        bastd_metrics_reload(d->metrics, 0, 0);
        bastd_log(4, "reload failed; still serving generation %lu", d->cur->id);
        return;
    }
    (*next_id)++;
    pthread_mutex_lock(&d->gen_lock);
    bastd_gen *old = d->cur;
    d->cur = g;
    pthread_mutex_unlock(&d->gen_lock);
    bastd_metrics_reload(d->metrics, 1, g->id);
    bastd_gen_release(old); /* closed now, or by its last request */
}

/* ---- command line ------------------------------------------------------ */

static void
usage(FILE *f)
{
    fprintf(
        f,
        "usage: bastd --confdir DIR --listen ADDR [options]\n"
        "  --confdir DIR           bast.conf and conf.d/ (default "
        "$BAST_CONFDIR or " BAST_DEFAULT_CONFDIR ")\n"
        "  --listen ADDR           127.0.0.1:PORT, [::1]:PORT, unix:/path or\n"
        "                          systemd (socket activation)\n"
        "                          (default 127.0.0.1:8089)\n"
        "  --socket-mode MODE      unix socket mode, octal (default 0660)\n"
        "  --socket-owner U[:G]    unix socket owner and group\n"
        "  --trusted-proxies LIST  CIDRs (and `unix`) allowed to send\n"
        "                          X-Real-IP, X-Forwarded-*, X-Client-Cert\n"
        "                          (default \"127.0.0.1/32 ::1/128 unix\";\n"
        "                          \"none\" trusts no one)\n"
        "  --log stderr|syslog     where to log (default stderr)\n"
        "  --threads N             worker threads (default: cores)\n"
        "  --max-body N            largest request body passed on, bytes\n"
        "                          (default 1048576)\n"
        "  --max-header N          header bytes per request (default "
        "32768)\n"
        "  --max-connections N     concurrent connections (default 1024)\n"
        "  --timeout S             idle connection timeout (default 30)\n"
        "  --drain-timeout S       wait on SIGTERM for requests (default "
        "10)\n"
        "  --plugin-dir DIR        plugin directory (default: bast.conf)\n"
        "  --help, --version\n"
        "Signals: HUP reloads the configuration, TERM/INT drain and exit.\n");
}

static int
num(const char *opt, const char *s, unsigned long long min,
    unsigned long long max, int base, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || end == s || *end || *s == '-' || v < min || v > max) {
        fprintf(stderr,
                "bastd: %s: expected a number in [%llu, %llu], got "
                "'%s'\n",
                opt, min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"confdir", required_argument, 0, 'c'},
        {"listen", required_argument, 0, 'l'},
        {"trusted-proxies", required_argument, 0, 't'},
        {"log", required_argument, 0, 'L'},
        {"max-body", required_argument, 0, 'b'},
        {"max-header", required_argument, 0, 'H'},
        {"max-connections", required_argument, 0, 'C'},
        {"timeout", required_argument, 0, 'T'},
        {"drain-timeout", required_argument, 0, 'D'},
        {"threads", required_argument, 0, 'n'},
        {"socket-mode", required_argument, 0, 'm'},
        {"socket-owner", required_argument, 0, 'o'},
        {"plugin-dir", required_argument, 0, 'p'},
        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0}};
    bastd d;
    memset(&d, 0, sizeof d);
    d.confdir = getenv("BAST_CONFDIR");
    d.listen = "127.0.0.1:8089";
    d.max_body = 1 << 20;
    d.max_header = 32768;
    d.max_conn = 1024;
    d.timeout = 30;
    d.drain_timeout = 10;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    d.threads = ncpu > 0 ? (unsigned)ncpu : 1;
    const char *trusted = "127.0.0.1/32 ::1/128 unix", *owner = NULL;
    unsigned mode = 0660;
    int target = BASTD_LOG_STDERR, ch;
    unsigned long long v;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'c':
            d.confdir = optarg;
            break;
        case 'l':
            d.listen = optarg;
            break;
        case 't':
            trusted = optarg;
            break;
        case 'p':
            d.plugin_dir = optarg;
            break;
        case 'o':
            owner = optarg;
            break;
        case 'L':
            if (strcmp(optarg, "stderr") == 0)
                target = BASTD_LOG_STDERR;
            else if (strcmp(optarg, "syslog") == 0)
                target = BASTD_LOG_SYSLOG;
            else {
                fprintf(stderr, "bastd: --log: stderr or syslog\n");
                return 2;
            }
            break;
        case 'b':
            if (num("--max-body", optarg, 0, 64ull << 20, 10, &v) < 0)
                return 2;
            d.max_body = (size_t)v;
            break;
        case 'H':
            if (num("--max-header", optarg, 1024, 1 << 20, 10, &v) < 0)
                return 2;
            d.max_header = (size_t)v;
            break;
        case 'C':
            if (num("--max-connections", optarg, 1, 65536, 10, &v) < 0)
                return 2;
            d.max_conn = (unsigned)v;
            break;
        case 'T':
            if (num("--timeout", optarg, 1, 3600, 10, &v) < 0)
                return 2;
            d.timeout = (unsigned)v;
            break;
        case 'D':
            if (num("--drain-timeout", optarg, 0, 3600, 10, &v) < 0)
                return 2;
            d.drain_timeout = (unsigned)v;
            break;
        case 'n':
            if (num("--threads", optarg, 1, 1024, 10, &v) < 0)
                return 2;
            d.threads = (unsigned)v;
            break;
        case 'm':
            if (num("--socket-mode", optarg, 0, 0777, 8, &v) < 0)
                return 2;
            mode = (unsigned)v;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("bastd " BAST_VERSION "\n");
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    char err[512];
    if (bastd_trust_parse(&d.trust, trusted, err, sizeof err) < 0) {
        fprintf(stderr, "bastd: %s\n", err);
        return 2;
    }
    bastd_log_init(target);

    int rc = 1, fd = -1;
    struct MHD_Daemon *mhd = NULL;
    unsigned long next_id = 1;
    pthread_mutex_init(&d.gen_lock, NULL);
    if (!(d.metrics = bastd_metrics_new()))
        goto done;
    if (!(d.cur = load(&d, next_id++)))
        goto done;
    bastd_metrics_generation(d.metrics, d.cur->id);
    if ((fd = bastd_listen(d.listen, mode, owner, err, sizeof err)) < 0) {
        bastd_log(3, "%s", err);
        goto done;
    }
    /* Block the signals before any thread exists, so every worker inherits
     * the mask and only sigwaitinfo() below sees them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!(mhd = bastd_http_start(&d, fd))) {
        bastd_log(3, "cannot start the HTTP server on %s", d.listen);
        goto done;
    }
    char *tl = bastd_trust_describe(&d.trust);
    bastd_log(6, "listening on %s with %u thread(s); trusted proxies: %s",
              d.listen, d.threads, tl ? tl : "?");
    free(tl);

    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig < 0)
            continue; /* EINTR */
        if (sig == SIGHUP) {
            bastd_log(6, "SIGHUP: reloading");
            reload(&d, &next_id);
            continue;
        }
        bastd_log(6, "%s: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    MHD_quiesce_daemon(mhd);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (bastd_metrics_inflight_now(d.metrics) > 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec >= (time_t)d.drain_timeout) {
            bastd_log(4, "drain timeout: %ld request(s) still running",
                      bastd_metrics_inflight_now(d.metrics));
            break;
        }
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    rc = 0;
done:
    if (mhd)
        MHD_stop_daemon(mhd);
    if (fd >= 0)
        close(fd);
    if (fd >= 0 && strncmp(d.listen, "unix:", 5) == 0)
        unlink(d.listen + 5);
    bastd_gen_release(d.cur);
    bastd_metrics_free(d.metrics);
    bastd_trust_free(&d.trust);
    pthread_mutex_destroy(&d.gen_lock);
    if (rc == 0)
        bastd_log(6, "stopped");
    return rc;
}
