/*
 * remote.c - `jwks_uri` for the `jwt` plugin: the key set is fetched with
 * libcurl (http/https only, no redirects to other protocols, size and time
 * limited), parsed once, and swapped in by reference count.  A background
 * thread refetches when Cache-Control max-age (clamped to
 * [jwks_min_interval, jwks_refresh]) runs out; a failed fetch keeps the
 * old keys and retries after jwks_min_interval.  An unknown kid triggers
 * one immediate refetch at most every jwks_min_interval.  Until a fetch
 * has succeeded the instance answers `unavailable`.  Each fetch is an
 * audit event `jwt.jwks_fetch` (uri, ok, error, keys).
 */
#include "jwt.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct jwt_remote {
    jwt_remote_conf c;
    char *uri;
    pthread_mutex_t lock; /* guards cur, next_at, last_try, stop */
    pthread_cond_t wake;
    pthread_mutex_t fetching; /* one fetch at a time */
    jwt_keyset *cur;
    unsigned long gen;
    long long next_at, last_try; /* monotonic seconds */
    int stop, thread_started;
    pthread_t thread;
};

typedef struct body {
    char *buf;
    size_t len;
    long long max_age; /* -1: none given */
} body;

static long long
mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

static size_t
on_data(char *p, size_t sz, size_t nm, void *arg)
{
    body *b = arg;
    size_t n = sz * nm;
    char *nb;
    if (b->len + n > JWT_MAX_JWKS)
        return 0; /* too big: curl aborts the transfer */
    if (!(nb = realloc(b->buf, b->len + n + 1)))
        return 0;
    memcpy(nb + b->len, p, n);
    b->buf = nb;
    b->len += n;
    b->buf[b->len] = '\0';
    return n;
}

/* Cache-Control: max-age=N (no-store / no-cache read as 0). */
static size_t
on_header(char *p, size_t sz, size_t nm, void *arg)
{
    body *b = arg;
    size_t n = sz * nm;
    char line[512], *v;
    if (n < 14 || n >= sizeof(line) || strncasecmp(p, "cache-control:", 14))
        return n;
    memcpy(line, p, n);
    line[n] = '\0';
    for (v = line + 14; *v; v++) {
        if (strncasecmp(v, "no-store", 8) == 0 ||
            strncasecmp(v, "no-cache", 8) == 0)
            b->max_age = 0;
        else if (strncasecmp(v, "max-age=", 8) == 0 && b->max_age != 0) {
            char *end;
            long long m;
            errno = 0;
            m = strtoll(v + 8, &end, 10);
            if (!errno && end != v + 8 && m >= 0)
                b->max_age = m;
        }
    }
    return n;
}

/* Fetch and parse; installs the new set.  0 or -1 with a message. */
static int
fetch(jwt_remote *r, long long *max_age, char *err, size_t errlen)
{
    body b = {NULL, 0, -1};
    CURL *h = curl_easy_init();
    CURLcode cc;
    long code = 0;
    jwt_keyset *ks = NULL, *old;
    int ret = -1;

    if (!h) {
        snprintf(err, errlen, "curl_easy_init failed");
        return -1;
    }
    curl_easy_setopt(h, CURLOPT_URL, r->uri);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)r->c.timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)r->c.timeout);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)JWT_MAX_JWKS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &b);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "bast-jwt/" BAST_VERSION);
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "%s: %s", r->uri, curl_easy_strerror(cc));
        goto done;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
        snprintf(err, errlen, "%s: HTTP status %ld", r->uri, code);
        goto done;
    }
    if (!(ks = jwt_keyset_new()) ||
        jwt_keyset_add_jwks(ks, r->c.crypto, b.buf ? b.buf : "", b.len,
                            r->c.allowed, err, errlen) < 0)
        goto done;
    pthread_mutex_lock(&r->lock);
    ks->gen = ++r->gen;
    old = r->cur;
    r->cur = ks;
    pthread_mutex_unlock(&r->lock);
    ks = NULL;
    jwt_keyset_unref(old);
    *max_age = b.max_age;
    ret = 0;
done:
    jwt_keyset_unref(ks);
    free(b.buf);
    curl_easy_cleanup(h);
    return ret;
}

/* An audit line per fetch: key rotations and IdP outages are events an
 * operator wants in the same trail as the requests. */
static void
audit(jwt_remote *r, int rc, const char *err)
{
    json_t *o = json_object();
    jwt_keyset *ks = jwt_remote_get(r);
    char *txt;
    json_object_set_new(o, "uri", json_string(r->uri));
    json_object_set_new(o, "ok", json_boolean(rc == 0));
    if (rc < 0)
        json_object_set_new(o, "error", json_string(err));
    json_object_set_new(o, "keys", json_integer(ks ? (json_int_t)ks->n : 0));
    jwt_keyset_unref(ks);
    if ((txt = json_dumps(o, JSON_COMPACT))) {
        bast_audit_event(r->c.inst, "jwt.jwks_fetch", txt);
        free(txt);
    }
    json_decref(o);
}

/* Run one fetch and plan the next one.  Caller holds r->fetching. */
static int
fetch_and_plan(jwt_remote *r)
{
    char err[256];
    long long age = -1, wait;
    int rc;

    pthread_mutex_lock(&r->lock);
    r->last_try = mono();
    pthread_mutex_unlock(&r->lock);
    rc = fetch(r, &age, err, sizeof(err));
    audit(r, rc, err);
    if (rc < 0) {
        bast_log(r->c.inst, 4, "jwks_uri: %s; keeping the previous keys", err);
        wait = r->c.min_interval;
    } else {
        wait = age < 0 ? r->c.refresh : age;
        if (wait < r->c.min_interval)
            wait = r->c.min_interval;
        if (wait > r->c.refresh)
            wait = r->c.refresh;
    }
    pthread_mutex_lock(&r->lock);
    r->next_at = mono() + wait;
    pthread_mutex_unlock(&r->lock);
    return rc;
}

static void *
refresher(void *arg)
{
    jwt_remote *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        long long now = mono();
        if (now >= r->next_at) {
            pthread_mutex_unlock(&r->lock);
            pthread_mutex_lock(&r->fetching);
            fetch_and_plan(r);
            pthread_mutex_unlock(&r->fetching);
            pthread_mutex_lock(&r->lock);
            continue;
        }
        {
            /* CLOCK_MONOTONIC condvar: wall-clock jumps do not matter */
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += (time_t)(r->next_at - now);
            pthread_cond_timedwait(&r->wake, &r->lock, &ts);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

jwt_remote *
jwt_remote_open(const jwt_remote_conf *c, char *err, size_t errlen)
{
    jwt_remote *r = calloc(1, sizeof(*r));
    pthread_condattr_t ca;

    if (!r || !(r->uri = strdup(c->uri))) {
        free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->c = *c;
    r->c.uri = r->uri;
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->fetching, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->wake, &ca);
    pthread_condattr_destroy(&ca);
    /* the first fetch at load; a failure is logged, not a load error:
     * the instance answers unavailable until the IdP is reachable */
    pthread_mutex_lock(&r->fetching);
    fetch_and_plan(r);
    pthread_mutex_unlock(&r->fetching);
    if (pthread_create(&r->thread, NULL, refresher, r) != 0) {
        snprintf(err, errlen, "cannot start the jwks_uri refresh thread");
        jwt_remote_close(r);
        return NULL;
    }
    r->thread_started = 1;
    return r;
}

void
jwt_remote_close(jwt_remote *r)
{
    if (!r)
        return;
    if (r->thread_started) {
        pthread_mutex_lock(&r->lock);
        r->stop = 1;
        pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
    }
    jwt_keyset_unref(r->cur);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->fetching);
    free(r->uri);
    free(r);
}

jwt_keyset *
jwt_remote_get(jwt_remote *r)
{
    jwt_keyset *ks;
    pthread_mutex_lock(&r->lock);
    ks = r->cur;
    if (ks)
        jwt_keyset_ref(ks);
    pthread_mutex_unlock(&r->lock);
    return ks;
}

int
jwt_remote_refetch(jwt_remote *r)
{
    long long now = mono();
    int due, rc;
    pthread_mutex_lock(&r->lock);
    due = now - r->last_try >= r->c.min_interval;
    pthread_mutex_unlock(&r->lock);
    /* rate limit, and never queue behind a fetch already running */
    if (!due || pthread_mutex_trylock(&r->fetching) != 0)
        return 0;
    pthread_mutex_lock(&r->lock);
    due = mono() - r->last_try >= r->c.min_interval;
    pthread_mutex_unlock(&r->lock);
    rc = due ? fetch_and_plan(r) : -1;
    pthread_mutex_unlock(&r->fetching);
    if (rc == 0) {
        pthread_mutex_lock(&r->lock);
        pthread_cond_signal(&r->wake); /* the thread re-plans */
        pthread_mutex_unlock(&r->lock);
    }
    return rc == 0;
}
