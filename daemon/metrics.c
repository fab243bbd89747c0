/*
 * metrics.c - bastd's Prometheus counters, rendered by GET /metrics in the
 * text exposition format 0.0.4:
 *   bastd_requests_total{app,decision,status}   verifications answered
 *   bastd_denials_total{app,error}              denials by error word
 *   bastd_module_results_total{app,module,result} what each module said
 *   bastd_dependency_errors_total{app,module} store/cache/key-source errors
 *   bastd_request_duration_seconds              latency histogram
 *   bastd_reloads_total{result}, bastd_config_generation,
 *   bastd_in_flight_requests, bastd_metrics_series_dropped_total
 * Store and cache failures are module results `unavailable`, also
 * counted on their own and as denials with their error word.  Series are
 * bounded (labels come from the configuration, and unknown app names are
 * folded into "_unknown" by the caller); past the bound they are dropped
 * and counted, never allocated without limit.
 */
#include "bastd.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NBUCKETS 256
#define MAX_SERIES 4096
#define MAX_LABELS 3

typedef struct series {
    struct series *next;
    char *key; /* label values joined by '\x1f' */
    atomic_ullong value;
} series;

typedef struct family {
    const char *name, *help;
    const char *labels[MAX_LABELS];
    size_t nlabels;
    pthread_rwlock_t lock;
    series *tab[NBUCKETS];
    size_t count;
} family;

/* Upper bounds in seconds: 50 us .. 2.5 s; verification is usually tens of
 * microseconds, remote key fetches and stores take milliseconds. */
static const double bounds[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                0.0025,  0.005,  0.01,    0.025,  0.05,
                                0.1,     0.25,   0.5,     1,      2.5};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

struct bastd_metrics {
    family requests, denials, modules, deps;
    atomic_ullong hist[NBOUNDS + 1];
    atomic_ullong hist_sum_ns;
    atomic_ullong reload_ok, reload_failed, dropped;
    atomic_ulong generation;
    atomic_long inflight;
    atomic_llong last_reload;
};

static void
family_init(family *f, const char *name, const char *help, const char *l0,
            const char *l1, const char *l2)
{
    memset(f, 0, sizeof *f);
    f->name = name;
    f->help = help;
    const char *l[MAX_LABELS] = {l0, l1, l2};
    for (size_t i = 0; i < MAX_LABELS && l[i]; i++)
        f->labels[f->nlabels++] = l[i];
    pthread_rwlock_init(&f->lock, NULL);
}

static void
family_free(family *f)
{
    for (size_t i = 0; i < NBUCKETS; i++) {
        series *s = f->tab[i];
        while (s) {
            series *n = s->next;
            free(s->key);
            free(s);
            s = n;
        }
    }
    pthread_rwlock_destroy(&f->lock);
}

static uint32_t
hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a: only spreads buckets */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static series *
find(family *f, const char *key, uint32_t h)
{
    for (series *s = f->tab[h % NBUCKETS]; s; s = s->next)
        if (strcmp(s->key, key) == 0)
            return s;
    return NULL;
}

static void
family_inc(bastd_metrics *m, family *f, const char *const *vals)
{
    char key[512];
    size_t off = 0;
    for (size_t i = 0; i < f->nlabels; i++) {
        const char *v = vals[i] ? vals[i] : "";
        int n =
            snprintf(key + off, sizeof key - off, "%s%s", i ? "\x1f" : "", v);
        if (n < 0 || (size_t)n >= sizeof key - off) {
            atomic_fetch_add(&m->dropped, 1);
            return;
        }
        off += (size_t)n;
    }
    uint32_t h = hash(key);
    pthread_rwlock_rdlock(&f->lock);
    series *s = find(f, key, h);
    pthread_rwlock_unlock(&f->lock);
    if (!s) {
        pthread_rwlock_wrlock(&f->lock);
        s = find(f, key, h);
        if (!s && f->count < MAX_SERIES && (s = calloc(1, sizeof *s))) {
            if ((s->key = strdup(key))) {
                s->next = f->tab[h % NBUCKETS];
                f->tab[h % NBUCKETS] = s;
                f->count++;
            } else {
                free(s);
                s = NULL;
            }
        }
        pthread_rwlock_unlock(&f->lock);
    }
    /* Series are never removed, so the pointer stays valid unlocked. */
    if (s)
        atomic_fetch_add(&s->value, 1);
    else
        atomic_fetch_add(&m->dropped, 1);
}

bastd_metrics *
bastd_metrics_new(void)
{
    bastd_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    family_init(&m->requests, "bastd_requests_total",
                "Verification requests answered.", "app", "decision", "status");
    family_init(&m->denials, "bastd_denials_total",
                "Denied verifications by error.", "app", "error", NULL);
    family_init(&m->modules, "bastd_module_results_total",
                "Results returned by each module instance.", "app", "module",
                "result");
    family_init(&m->deps, "bastd_dependency_errors_total",
                "Modules that could not reach their store, cache or key "
                "source (result unavailable).",
                "app", "module", NULL);
    return m;
}

void
bastd_metrics_free(bastd_metrics *m)
{
    if (!m)
        return;
    family_free(&m->requests);
    family_free(&m->denials);
    family_free(&m->modules);
    family_free(&m->deps);
    free(m);
}

void
bastd_metrics_request(bastd_metrics *m, const char *app, const char *decision,
                      int status, const char *error, double seconds)
{
    char st[16];
    snprintf(st, sizeof st, "%d", status);
    const char *v[] = {app, decision, st};
    family_inc(m, &m->requests, v);
    if (error) {
        const char *dv[] = {app, error};
        family_inc(m, &m->denials, dv);
    }
    size_t i = 0;
    while (i < NBOUNDS && seconds > bounds[i])
        i++;
    atomic_fetch_add(&m->hist[i], 1);
    atomic_fetch_add(&m->hist_sum_ns, (unsigned long long)(seconds * 1e9));
}

void
bastd_metrics_module(bastd_metrics *m, const char *app, const char *module,
                     const char *result)
{
    const char *v[] = {app, module, result};
    family_inc(m, &m->modules, v);
    if (result && strcmp(result, "unavailable") == 0)
        family_inc(m, &m->deps, v);
}

void
bastd_metrics_generation(bastd_metrics *m, unsigned long gen)
{
    atomic_store(&m->generation, gen);
    atomic_store(&m->last_reload, (long long)time(NULL));
}

void
bastd_metrics_reload(bastd_metrics *m, int ok, unsigned long gen)
{
    atomic_fetch_add(ok ? &m->reload_ok : &m->reload_failed, 1);
    if (ok)
        bastd_metrics_generation(m, gen);
}

void
bastd_metrics_inflight(bastd_metrics *m, int delta)
{
    atomic_fetch_add(&m->inflight, delta);
}

long
bastd_metrics_inflight_now(bastd_metrics *m)
{
    return atomic_load(&m->inflight);
}

/* A growable text buffer; on allocation failure it stops growing and the
 * render returns NULL. */
typedef struct buf {
    char *p;
    size_t len, cap;
    int failed;
} buf;

static void put(buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(buf *b, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !b->failed; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = (b->cap + (size_t)n + 1) * 2;
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
}

/* Label values escaped as the exposition format wants: \\ \" \n. */
static void
put_label(buf *b, const char *v, size_t n)
{
    put(b, "\"");
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '\\' || c == '"')
            put(b, "\\%c", c);
        else if (c == '\n')
            put(b, "\\n");
        else
            put(b, "%c", c);
    }
    put(b, "\"");
}

static int
cmp_series(const void *a, const void *b)
{
    return strcmp((*(series *const *)a)->key, (*(series *const *)b)->key);
}

static void
render_family(buf *b, family *f)
{
    put(b, "# HELP %s %s\n# TYPE %s counter\n", f->name, f->help, f->name);
    pthread_rwlock_rdlock(&f->lock);
    size_t count = f->count, n = 0;
    series **all = count ? malloc(count * sizeof *all) : NULL;
    if (all)
        for (size_t i = 0; i < NBUCKETS; i++)
            for (series *s = f->tab[i]; s; s = s->next)
                all[n++] = s;
    pthread_rwlock_unlock(&f->lock);
    if (count && !all) {
        b->failed = 1;
        return;
    }
    if (n > 1)
        qsort(all, n, sizeof *all, cmp_series);
    for (size_t i = 0; i < n; i++) {
        put(b, "%s{", f->name);
        const char *v = all[i]->key;
        for (size_t l = 0; l < f->nlabels; l++) {
            size_t len = strcspn(v, "\x1f");
            put(b, "%s%s=", l ? "," : "", f->labels[l]);
            put_label(b, v, len);
            v += len + (v[len] ? 1 : 0);
        }
        put(b, "} %llu\n", (unsigned long long)atomic_load(&all[i]->value));
    }
    free(all);
}

char *
bastd_metrics_render(bastd_metrics *m, size_t *len)
{
    buf b = {malloc(8192), 0, 8192, 0};
    if (!b.p)
        return NULL;
    b.p[0] = '\0';
    render_family(&b, &m->requests);
    render_family(&b, &m->denials);
    render_family(&b, &m->modules);
    render_family(&b, &m->deps);

    const char *h = "bastd_request_duration_seconds";
    put(&b, "# HELP %s Time to answer a verification.\n# TYPE %s histogram\n",
        h, h);
    unsigned long long cum = 0;
    for (size_t i = 0; i <= NBOUNDS; i++) {
        cum += atomic_load(&m->hist[i]);
        if (i < NBOUNDS)
            put(&b, "%s_bucket{le=\"%g\"} %llu\n", h, bounds[i], cum);
        else
            put(&b, "%s_bucket{le=\"+Inf\"} %llu\n", h, cum);
    }
    put(&b, "%s_sum %.9f\n%s_count %llu\n", h,
        (double)atomic_load(&m->hist_sum_ns) / 1e9, h, cum);

    put(&b,
        "# HELP bastd_reloads_total Configuration reloads (SIGHUP).\n"
        "# TYPE bastd_reloads_total counter\n"
        "bastd_reloads_total{result=\"ok\"} %llu\n"
        "bastd_reloads_total{result=\"failed\"} %llu\n",
        (unsigned long long)atomic_load(&m->reload_ok),
        (unsigned long long)atomic_load(&m->reload_failed));
    put(&b,
        "# HELP bastd_config_generation Configuration in service (1 = "
        "first load).\n# TYPE bastd_config_generation gauge\n"
        "bastd_config_generation %lu\n"
        "# HELP bastd_config_load_timestamp_seconds When it was loaded.\n"
        "# TYPE bastd_config_load_timestamp_seconds gauge\n"
        "bastd_config_load_timestamp_seconds %lld\n",
        atomic_load(&m->generation), (long long)atomic_load(&m->last_reload));
    put(&b,
        "# HELP bastd_in_flight_requests Verifications running now.\n"
        "# TYPE bastd_in_flight_requests gauge\n"
        "bastd_in_flight_requests %ld\n"
        "# HELP bastd_metrics_series_dropped_total Increments lost to the "
        "series bound.\n# TYPE bastd_metrics_series_dropped_total counter\n"
        "bastd_metrics_series_dropped_total %llu\n",
        atomic_load(&m->inflight),
        (unsigned long long)atomic_load(&m->dropped));
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}
