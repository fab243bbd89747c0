/*
 * test_jwt_threads.c - the jwt plugin under concurrent bast_verify() calls
 * on one context: four threads verify the RFC 7515 A.1-A.3 tokens (and a
 * corrupted one) through a jwks_file instance, and through a jwks_uri
 * instance whose key set a background thread refetches every second from
 * a `python3 -m http.server` started here (both with the token cache on),
 * while a token with an unknown kid asks for rate-limited refetches.  Every
 * decision must be right; the sanitizer build checks the per-thread contexts,
 * the shared templates and the key set swaps.  Prints ok / not ok lines.
 */
#include "bast_plugin.h" /* bast_b64_encode */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define THREADS 4
#define NOW 1300819000LL

static bast_ctx *ctx;
static char toks[3][1024];
static char bad[1024], unknown[1200];
static double deadline;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
one(const char *app, const char *tok)
{
    char hdr[1200];
    bast_request *r = bast_request_new();
    int d;
    snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
    bast_request_add_header(r, "Authorization", hdr);
    bast_request_set_time(r, NOW);
    d = bast_verify(ctx, app, r, NULL) == BAST_ALLOW;
    bast_request_free(r);
    return d;
}

static void *
worker(void *arg)
{
    long wrong = 0, n = 0;
    (void)arg;
    while (now_s() < deadline) {
        for (int i = 0; i < 3; i++) {
            wrong += !one("file", toks[i]);
            wrong += !one("uri", toks[i]);
        }
        wrong += one("file", bad) + one("uri", bad) + one("uri", unknown);
        n += 9;
    }
    return (void *)(wrong ? -1L : n);
}

static int
free_port(void)
{
    struct sockaddr_in a = {0};
    socklen_t l = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM, 0), p;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, (struct sockaddr *)&a, sizeof(a));
    getsockname(s, (struct sockaddr *)&a, &l);
    p = ntohs(a.sin_port);
    close(s);
    return p;
}

static int
port_open(int port)
{
    struct sockaddr_in a = {0};
    int s = socket(AF_INET, SOCK_STREAM, 0), ok;
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(s);
    return ok;
}

static int
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

int
main(void)
{
    const char *top = getenv("TOP"), *dir = getenv("TESTDIR");
    char path[4096], cmd[8192], conf[1024], err[512], line[4096];
    char portstr[16];
    pthread_t t[THREADS];
    int port = free_port(), n = 0, failed = 0;
    long total = 0;
    pid_t srv = 0;
    FILE *f;

    if (!top || !dir) {
        printf("not ok - TOP and TESTDIR must be set\n");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/tests/plugins/jwt/rfc_tokens.txt", top);
    if (!(f = fopen(path, "r")))
        return 1;
    while (n < 3 && fgets(line, sizeof(line), f)) {
        char name[64], kid[64];
        if (line[0] != '#' &&
            sscanf(line, "%63s %63s %1023s", name, kid, toks[n]) == 3)
            n++;
    }
    fclose(f);
    snprintf(bad, sizeof(bad), "%s", toks[1]);
    bad[strlen(bad) - 5] ^= 1; /* still base64url, wrong signature */
    {
        /* A.2's payload and signature under a header naming a kid nobody
         * has: unknown_key, and a refetch request each time */
        const char *hdr = "{\"alg\":\"RS256\",\"kid\":\"nobody\"}";
        long hl = bast_b64_encode(hdr, strlen(hdr), unknown, sizeof(unknown),
                                  BAST_B64_URL | BAST_B64_NOPAD);
        snprintf(unknown + hl, sizeof(unknown) - (size_t)hl, "%s",
                 strchr(toks[1], '.'));
    }

    snprintf(cmd, sizeof(cmd),
             "mkdir -p %s/c/conf.d %s/www && chmod 755 %s/c %s/c/conf.d && "
             "cp %s/tests/plugins/jwt/rfc7515.jwks %s/c/keys.jwks && "
             "cp %s/tests/plugins/jwt/rfc7515.jwks %s/www/jwks.json",
             dir, dir, dir, dir, top, dir, top, dir);
    if (system(cmd) != 0)
        return 1;
    snprintf(path, sizeof(path), "%s/c/conf.d/file.conf", dir);
    write_file(path, "[app]\nrealm = file\n\n[bearer]\nplugin = jwt\n"
                     "control = required\njwks_file = keys.jwks\n"
                     "algorithms = HS256 RS256 ES256\nidentity_claim = iss\n"
                     "cache_size = 16\n");
    snprintf(conf, sizeof(conf),
             "[app]\nrealm = uri\n\n[bearer]\nplugin = jwt\n"
             "control = required\njwks_uri = http://127.0.0.1:%d/jwks.json\n"
             "jwks_refresh = 1s\njwks_min_interval = 1s\ncache_size = 16\n"
             "algorithms = HS256 RS256 ES256\nidentity_claim = iss\n",
             port);
    snprintf(path, sizeof(path), "%s/c/conf.d/uri.conf", dir);
    write_file(path, conf);

    snprintf(portstr, sizeof(portstr), "%d", port);
    snprintf(path, sizeof(path), "%s/www", dir);
    {
        char *argv[] = {
            "/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
            "--directory",      path, portstr,       NULL};
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
        if (posix_spawn(&srv, argv[0], &fa, NULL, argv, environ) != 0) {
            printf("not ok - cannot start python3 http.server\n");
            return 1;
        }
        posix_spawn_file_actions_destroy(&fa);
    }
    for (int i = 0; i < 100 && !port_open(port); i++)
        usleep(50000);

    snprintf(path, sizeof(path), "%s/c", dir);
    if (!(ctx = bast_open(path, NULL, err, sizeof(err)))) {
        printf("not ok - bast_open: %s\n", err);
        kill(srv, SIGTERM);
        return 1;
    }
    printf("ok - context with a jwks_file and a jwks_uri instance\n");
    deadline = now_s() + 2.5;
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++) {
        void *rv;
        pthread_join(t[i], &rv);
        if ((long)rv < 0)
            failed = 1;
        else
            total += (long)rv;
    }
    printf("%s - %d threads, %ld verifies, every decision right\n",
           failed ? "not ok" : "ok", THREADS, total);
    bast_close(ctx);
    printf("ok - context closed with the refresh thread running\n");
    kill(srv, SIGTERM);
    waitpid(srv, NULL, 0);
    return failed;
}
