/*
 * apikey_int.h - the apikey instance, shared by apikey.c (life cycle and
 * verify) and request.c (options and finding the key in a request).
 */
#ifndef APIKEY_INT_H
#define APIKEY_INT_H

#include "ak.h"
#include "bast_plugin.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#define AK_NPOOL 16   /* reusable digest contexts; more threads get their own */
#define AK_NHDRS 8    /* configured header names */
#define AK_NREQ 32    /* required scopes */
#define AK_NSTRIPES 8 /* index lock stripes, one per thread hash */

#define AK_ATTR_KEY_ID (1u << 0)
#define AK_ATTR_KEY_NAME (1u << 1)
#define AK_ATTR_SCOPES (1u << 2)

typedef struct ak_hdr {
    char *name;
    char *scheme; /* "Bearer" for `Authorization: Bearer`; NULL: raw value */
} ak_hdr;

typedef struct ak_inst {
    const bast_instance *inst;
    ak_conf conf;
    size_t plen;
    ak_hdr hdrs[AK_NHDRS];
    size_t nhdrs;
    int allow_query;
    char *query_param;
    char *req[AK_NREQ];
    size_t nreq;
    unsigned attrs; /* AK_ATTR_* returned on success */
    long long refresh, flush, stale_after;
    char *ch_plain, *ch_invalid, *ch_request, *ch_scope; /* challenges */

    const EVP_MD *md;
    /* one cache line per slot: threads taking different slots must not
     * bounce one line between cores */
    struct {
        _Alignas(64) atomic_int busy;
        EVP_MD_CTX *ctx;
    } pool[AK_NPOOL];

    /* The index: a reader holds one stripe of the lock shared while it
     * uses an entry; the refresh thread takes every stripe exclusively
     * only to swap the pointer.  Striped (one cache line each, picked by
     * thread) so concurrent readers do not bounce one lock word. */
    struct {
        _Alignas(64) pthread_rwlock_t lock;
    } ixlock[AK_NSTRIPES];
    ak_index *ix;
    int64_t gen;      /* thread-only after open */
    int failing;      /* thread-only */
    int64_t last_ok;  /* thread-only: monotonic second of the last
                         good refresh */
    atomic_int stale; /* set by the thread past stale_after */

    ak_store *st; /* the thread's connection (and open/close) */
    dev_t st_dev; /* the file it has open (see same_file) */
    ino_t st_ino;
    ak_usage *usage;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu; /* guards stop, flush_now; cv wakes the thread */
    pthread_cond_t cv;
    int stop, flush_now;
} ak_inst;

ak_inst *ak_inst_new(const bast_instance *inst);
/* This thread's stripe (of the index lock, and first digest slot). */
unsigned ak_stripe(void);
void ak_inst_free(ak_inst *a);
int ak_parse_options(ak_inst *a, const bast_option *opts, size_t n, char *err,
                     size_t errlen);
/* Find the presented key: returns how many candidates the request holds
 * (0 absent, >1 ambiguous); *key and *len give the one found (into the
 * request or into qbuf for a decoded query parameter). */
size_t ak_find_key(const ak_inst *a, const bast_request *req, char *qbuf,
                   size_t qlen, const char **key, size_t *len);

#endif
