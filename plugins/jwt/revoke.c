/*
 * revoke.c - the `jti_denylist` file of the `jwt` plugin: one revoked `jti`
 * per line (`#` comments, blank lines ignored).  It is read at open and
 * re-read when its mtime, size or inode change, checked at most once a
 * second; the set is swapped under a lock, so readers never see half a
 * list.  A list that became unreadable fails closed.
 */
#include "jwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_LINE 512
#define MAX_ENTRIES 1000000

typedef struct dlset {
    char **ids; /* sorted */
    size_t n;
} dlset;

struct jwt_denylist {
    char *path;
    pthread_rwlock_t lock;
    dlset *set; /* NULL when the file became unreadable */
    struct stat st;
    pthread_mutex_t check;
    atomic_llong last_check; /* monotonic seconds */
};

static void
set_free(dlset *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    free(s->ids);
    free(s);
}

static int
cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static dlset *
load(const char *path, struct stat *st)
{
    FILE *f = fopen(path, "r");
    dlset *s = calloc(1, sizeof(*s));
    char line[MAX_LINE];
    size_t cap = 0;

    if (!f || !s || fstat(fileno(f), st) < 0)
        goto bad;
    while (fgets(line, sizeof(line), f)) {
        size_t n = strcspn(line, "\r\n");
        char *p = line;
        line[n] = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        n = strlen(p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            p[--n] = '\0';
        if (n == 0 || *p == '#')
            continue;
        if (s->n == cap) {
            char **ni;
            cap = cap ? cap * 2 : 64;
            if (cap > MAX_ENTRIES || !(ni = realloc(s->ids, cap * sizeof(*ni))))
                goto bad;
            s->ids = ni;
        }
        if (!(s->ids[s->n] = strdup(p)))
            goto bad;
        s->n++;
    }
    if (ferror(f))
        goto bad;
    fclose(f);
    if (s->n)
        qsort(s->ids, s->n, sizeof(*s->ids), cmp);
    return s;
bad:
    if (f)
        fclose(f);
    set_free(s);
    return NULL;
}

static long long
mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

jwt_denylist *
jwt_denylist_open(const char *path, char *err, size_t errlen)
{
    jwt_denylist *d = calloc(1, sizeof(*d));
    if (!d || !(d->path = strdup(path))) {
        free(d);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!(d->set = load(path, &d->st))) {
        snprintf(err, errlen, "%s: cannot read", path);
        free(d->path);
        free(d);
        return NULL;
    }
    pthread_rwlock_init(&d->lock, NULL);
    pthread_mutex_init(&d->check, NULL);
    atomic_init(&d->last_check, mono());
    return d;
}

void
jwt_denylist_close(jwt_denylist *d)
{
    if (!d)
        return;
    set_free(d->set);
    pthread_rwlock_destroy(&d->lock);
    pthread_mutex_destroy(&d->check);
    free(d->path);
    free(d);
}

static void
maybe_reload(jwt_denylist *d)
{
    long long now = mono();
    struct stat st;
    if (now == atomic_load(&d->last_check) ||
        pthread_mutex_trylock(&d->check) != 0)
        return;
    atomic_store(&d->last_check, now);
    if (stat(d->path, &st) < 0 || st.st_mtim.tv_sec != d->st.st_mtim.tv_sec ||
        st.st_mtim.tv_nsec != d->st.st_mtim.tv_nsec ||
        st.st_size != d->st.st_size || st.st_ino != d->st.st_ino || !d->set) {
        dlset *ns = load(d->path, &st), *old;
        pthread_rwlock_wrlock(&d->lock);
        old = d->set;
        d->set = ns;
        if (ns)
            d->st = st;
        pthread_rwlock_unlock(&d->lock);
        set_free(old);
    }
    pthread_mutex_unlock(&d->check);
}

int
jwt_denylist_has(jwt_denylist *d, const char *jti)
{
    int rc;
    maybe_reload(d);
    pthread_rwlock_rdlock(&d->lock);
    if (!d->set)
        rc = -1;
    else
        rc = d->set->n &&
             bsearch(&jti, d->set->ids, d->set->n, sizeof(char *), cmp);
    pthread_rwlock_unlock(&d->lock);
    return rc;
}

const char *
jwt_denylist_path(const jwt_denylist *d)
{
    return d->path;
}

int
jwt_denylist_each(jwt_denylist *d, json_t *arr)
{
    int rc = 0;
    maybe_reload(d);
    pthread_rwlock_rdlock(&d->lock);
    if (!d->set)
        rc = -1;
    else
        for (size_t i = 0; i < d->set->n; i++)
            json_array_append_new(arr, json_string(d->set->ids[i]));
    pthread_rwlock_unlock(&d->lock);
    return rc;
}
