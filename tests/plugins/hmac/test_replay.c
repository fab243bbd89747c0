/*
 * test_replay.c - the replay store on its own (core/replay*.c compiled in):
 * fresh/seen/expiry, the bound of memory:max=N, spec errors, threads
 * racing on the same ids (exactly one wins each), Redis down (unavailable
 * at once), and a real redis-server on a free loopback port: fresh/seen,
 * stopped -> unavailable, restarted -> recovers.  Prints ok/not ok lines.
 */
#include "replay.h"
#include "bast_plugin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int failures;

static void
check(int cond, const char *what)
{
    printf("%s - %s\n", cond ? "ok" : "not ok", what);
    if (!cond)
        failures++;
}

static int
chk(bast_replay *rs, const char *id, unsigned ttl, int64_t now)
{
    return bast__replay_check(rs, id, strlen(id), ttl, now);
}

static int
free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

static void
test_memory(void)
{
    bast_replay *rs = NULL;
    char err[256];

    check(bast__replay_open(&rs, NULL, err, sizeof(err)) == 0 && rs,
          "NULL spec opens the memory store");
    check(chk(rs, "k1/n1", 10, 1000) == BAST_REPLAY_FRESH, "first is fresh");
    check(chk(rs, "k1/n1", 10, 1005) == BAST_REPLAY_SEEN, "second is seen");
    check(chk(rs, "k1/n2", 10, 1005) == BAST_REPLAY_FRESH,
          "another id is fresh");
    check(chk(rs, "k1/n1", 10, 1010) == BAST_REPLAY_FRESH,
          "expired at now + ttl");
    check(chk(rs, "k1/n1", 10, 1011) == BAST_REPLAY_SEEN,
          "remembered again after expiry");
    check(bast__replay_check(rs, "a\0b", 3, 10, 1000) == BAST_REPLAY_FRESH &&
              bast__replay_check(rs, "a\0c", 3, 10, 1000) == BAST_REPLAY_FRESH,
          "binary ids are compared in full");
    check(bast__replay_check(NULL, "x", 1, 1, 1) == BAST_REPLAY_UNAVAILABLE,
          "no store is unavailable");
    bast__replay_close(rs);
    bast__replay_close(NULL);
}

static void
test_bound(void)
{
    bast_replay *rs = NULL;
    char err[256], id[32];
    int i, fresh = 0;

    check(bast__replay_open(&rs, "memory:max=3", err, sizeof(err)) == 0,
          "memory:max=3 opens");
    for (i = 0; i < 3; i++) {
        snprintf(id, sizeof(id), "id%d", i);
        fresh += chk(rs, id, 60, 100) == BAST_REPLAY_FRESH;
    }
    check(fresh == 3, "three ids fit");
    check(chk(rs, "id3", 60, 100) == BAST_REPLAY_UNAVAILABLE,
          "a full store fails closed");
    check(chk(rs, "id0", 60, 100) == BAST_REPLAY_SEEN,
          "a full store still reports replays");
    check(chk(rs, "id3", 60, 200) == BAST_REPLAY_FRESH,
          "expired entries make room");
    bast__replay_close(rs);
}

static void
test_specs(void)
{
    static const char *bad[] = {"memory:max=0",
                                "memory:max=x",
                                "memory:max=",
                                "memory:",
                                "mem",
                                "redis://",
                                "redis://h:99999/0",
                                "redis://h:1/0?bogus=1",
                                "redis://h:1/x",
                                "redis://u:@h:1/0",
                                "redis://h:1/0?timeout_ms=0"};
    bast_replay *rs = NULL;
    char err[256];
    size_t i;
    int refused = 0;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (bast__replay_open(&rs, bad[i], err, sizeof(err)) != 0 &&
            rs == NULL && strstr(err, "replay:") != NULL)
            refused++;
        bast__replay_close(rs);
        rs = NULL;
    }
    check(refused == (int)(sizeof(bad) / sizeof(bad[0])),
          "bad specs are refused with a message");
    check(bast__replay_open(&rs, "redis://[::1]:6379/2?timeout_ms=50", err,
                            sizeof(err)) == 0,
          "redis spec with v6 host, db and timeout parses");
    bast__replay_close(rs);
}

typedef struct race {
    bast_replay *rs;
    int base, n, fresh, other;
} race;

static void *
race_run(void *arg)
{
    race *r = arg;
    char id[32];
    int i;

    for (i = 0; i < r->n; i++) {
        int v;
        snprintf(id, sizeof(id), "race/%d", r->base + i);
        v = chk(r->rs, id, 60, 5000);
        if (v == BAST_REPLAY_FRESH)
            r->fresh++;
        else if (v != BAST_REPLAY_SEEN)
            r->other++;
    }
    return NULL;
}

static void
test_threads(void)
{
    bast_replay *rs = NULL;
    pthread_t th[4];
    race r[4];
    char err[256];
    int i, fresh = 0, other = 0;

    check(bast__replay_open(&rs, "memory:max=100000", err, sizeof(err)) == 0,
          "memory:max=100000 opens (striped)");
    /* every thread walks the same 20000 ids: each id is fresh once */
    for (i = 0; i < 4; i++) {
        r[i] = (race){rs, 0, 20000, 0, 0};
        pthread_create(&th[i], NULL, race_run, &r[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        fresh += r[i].fresh;
        other += r[i].other;
    }
    check(fresh == 20000 && other == 0,
          "4 threads racing on 20000 ids: each fresh exactly once");
    bast__replay_close(rs);
}

static int
redis_start_args(int port, const char *extra)
{
    char cmd[700];

    snprintf(cmd, sizeof(cmd),
             "redis-server --port %d --bind 127.0.0.1 --save '' %s "
             "--appendonly no --daemonize yes --pidfile %s/redis.pid "
             "--logfile %s/redis.log >/dev/null 2>&1 && "
             "for i in $(seq 50); do redis-cli -p %d ping >/dev/null 2>&1 "
             "&& exit 0; sleep 0.1; done; exit 1",
             port, extra, getenv("TESTDIR") ? getenv("TESTDIR") : "/tmp",
             getenv("TESTDIR") ? getenv("TESTDIR") : "/tmp", port);
    return system(cmd) == 0;
}

static int
redis_start(int port)
{
    return redis_start_args(port, "");
}

static void
redis_stop(int port)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd),
             "redis-cli -p %d shutdown nosave "
             ">/dev/null 2>&1",
             port);
    if (system(cmd) != 0)
        printf("# redis-cli shutdown reported failure\n");
    usleep(200 * 1000);
}

static void
test_redis(void)
{
    bast_replay *rs = NULL;
    char err[256], spec[128];
    int port = free_port();

    snprintf(spec, sizeof(spec), "redis://127.0.0.1:%d/3?timeout_ms=300", port);
    check(bast__replay_open(&rs, spec, err, sizeof(err)) == 0,
          "redis store opens while redis is down");
    check(chk(rs, "r/1", 10, 1) == BAST_REPLAY_UNAVAILABLE,
          "redis down: unavailable");
    if (system("command -v redis-server >/dev/null 2>&1") != 0) {
        printf("skip - redis-server not installed\n");
        bast__replay_close(rs);
        return;
    }
    check(redis_start(port), "redis-server started");
    check(chk(rs, "r/1", 10, 1) == BAST_REPLAY_FRESH, "redis: fresh");
    check(chk(rs, "r/1", 10, 1) == BAST_REPLAY_SEEN, "redis: seen");
    check(chk(rs, "r/2", 0, 1) == BAST_REPLAY_FRESH, "redis: ttl 0 is 1 s");
    redis_stop(port);
    check(chk(rs, "r/3", 10, 1) == BAST_REPLAY_UNAVAILABLE,
          "redis stopped: unavailable");
    check(redis_start(port), "redis-server restarted");
    check(chk(rs, "r/3", 10, 1) == BAST_REPLAY_FRESH,
          "redis restarted: the store recovers");
    check(chk(rs, "r/3", 10, 1) == BAST_REPLAY_SEEN,
          "redis restarted: seen again");
    redis_stop(port);
    bast__replay_close(rs);
}

static void
test_redis_auth(void)
{
    bast_replay *ok = NULL, *bad = NULL, *none = NULL;
    char err[256], spec[160];
    int port = free_port();

    if (system("command -v redis-server >/dev/null 2>&1") != 0)
        return;
    check(redis_start_args(port, "--requirepass 'pw-0123456789'"),
          "redis-server with requirepass started");
    snprintf(spec, sizeof(spec), "redis://:pw-0123456789@127.0.0.1:%d/0", port);
    check(bast__replay_open(&ok, spec, err, sizeof(err)) == 0,
          "spec with a password opens");
    snprintf(spec, sizeof(spec), "redis://default:wrong@127.0.0.1:%d/0", port);
    check(bast__replay_open(&bad, spec, err, sizeof(err)) == 0,
          "spec with user and password opens");
    snprintf(spec, sizeof(spec), "redis://127.0.0.1:%d/0", port);
    check(bast__replay_open(&none, spec, err, sizeof(err)) == 0,
          "spec without a password opens");
    check(chk(ok, "a/1", 10, 1) == BAST_REPLAY_FRESH &&
              chk(ok, "a/1", 10, 1) == BAST_REPLAY_SEEN,
          "right password: fresh then seen");
    check(chk(bad, "a/2", 10, 1) == BAST_REPLAY_UNAVAILABLE,
          "wrong password: unavailable");
    check(chk(none, "a/3", 10, 1) == BAST_REPLAY_UNAVAILABLE,
          "no password: unavailable");
    bast__replay_close(bad);
    check(bast__replay_open(&bad, "redis://:s3cret@h:x/0", err, sizeof(err)) !=
                  0 &&
              strstr(err, "s3cret") == NULL,
          "a bad spec's message does not show the password");
    snprintf(spec, sizeof(spec),
             "redis-cli -p %d -a pw-0123456789 --no-auth-warning shutdown "
             "nosave >/dev/null 2>&1",
             port);
    if (system(spec) != 0)
        printf("# redis-cli shutdown reported failure\n");
    bast__replay_close(ok);
    bast__replay_close(bad);
    bast__replay_close(none);
}

int
main(void)
{
    test_memory();
    test_bound();
    test_specs();
    test_threads();
    test_redis();
    test_redis_auth();
    return failures ? 1 : 0;
}
