/*
 * bast_int.h - declarations shared by the files of libbast.  Never
 * installed.  The context (bast_ctx) is immutable after bast_open; all
 * per-request state lives in bast_result and bast_call.
 */
#ifndef BAST_INT_H
#define BAST_INT_H

#include "bast.h"
#include "bast_plugin.h"
#include "replay.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#define BAST_MAX_DEPTH 16 /* include/substack nesting */
#define BAST_MAX_CONF_BYTES (1u << 20)
#define BAST_MAX_LINE 199 /* inih's INI_MAX_LINE is 200 with NUL */
#define BAST_MAX_HEADER_BYTES (16u * 1024)
#define BAST_MAX_REQUEST_BYTES (1u << 20)

/* Actions: negative codes, or a jump count N >= 1.  0 = unset. */
enum {
    BAST_ACT_UNSET = 0,
    BAST_ACT_IGNORE = -1,
    BAST_ACT_OK = -2,
    BAST_ACT_DONE = -3,
    BAST_ACT_BAD = -4,
    BAST_ACT_DIE = -5,
    BAST_ACT_RESET = -6
};
typedef short bast_action;

/* control.c */
int bast__control_parse(const char *text, bast_action actions[BAST_RES__COUNT],
                        char *err, size_t errlen);
const char *bast__res_name(int res); /* "success"...; "invalid" for others */
int bast__res_from_name(const char *name); /* -1 if unknown */
int bast__res_http(int res);
const char *bast__res_default_error(int res);

/* A loaded plugin (one per .so per context). */
struct bast__plugin {
    char *name;
    void *dl;
    const bast_plugin *desc; /* NULL: an optional `-name` that is missing */
};

/* A configured module instance: one section of one file. */
struct bast_instance {
    bast_ctx *ctx;
    char *name;  /* section name */
    char *app;   /* file's app name */
    char *realm; /* file's realm */
    char *file;  /* path relative to confdir, for messages */
    int line;
    char *control; /* as written, for describe */
    bast_action actions[BAST_RES__COUNT];
    struct bast__plugin *plugin; /* plugin->desc NULL: missing optional */
    void *state;
    int opened;
    int bind_identity;
    char **paths;
    size_t npaths;
    char **methods;
    size_t nmethods;
    bast_option *opts;
    size_t nopts;
    int serialise;
    pthread_mutex_t lock;
};

/* A flattened stack entry. */
struct bast__handler {
    struct bast_instance *inst; /* NULL: substack marker */
    int level;
};

struct bast__app {
    char *name;
    char *realm;
    struct bast__handler *h;
    size_t n;
    size_t nmodules; /* entries with an instance */
};

struct bast__file; /* config.c */

/* conffile.c: one INI file as sections, every key with its line */
struct bast__kv {
    char *key, *value;
    int line;
};
struct bast__section {
    char *name;
    int line;
    struct bast__kv *kv;
    size_t nkv;
};
struct bast__sections {
    struct bast__section *sec;
    size_t nsec;
};
/* Read `path` (named `rel` in messages); all or nothing. */
int bast__conf_read(struct bast__sections *s, const char *path, const char *rel,
                    char *err, size_t errlen);
void bast__sections_free(struct bast__sections *s);
/* bast.conf's [bast]: values into the caller's buffers (empty if unset) */
int bast__global_conf(const char *confdir, char *plugin_dir, size_t pdlen,
                      char *audit, size_t alen, char *replay, size_t rlen,
                      char *err, size_t errlen);

/* clock.c: cheap ticks for the trace (rdtsc where invariant) */
struct bast__clock {
    int tsc;
    double ns_per_tick;
    uint64_t t0, c0;
};
void bast__clock_start(struct bast__clock *c);
void bast__clock_finish(struct bast__clock *c);
uint64_t bast__ticks(const struct bast__clock *c);
long bast__ticks_us(const struct bast__clock *c, uint64_t from, uint64_t to);

struct bast_ctx {
    char *confdir;
    char *plugin_dir;
    struct bast__app *apps; /* sorted by name */
    size_t napps;
    struct bast__file **files;
    size_t nfiles;
    struct bast__plugin **plugins;
    size_t nplugins;
    char **warnings;
    size_t nwarnings;
    bast_replay *replay;
    _Atomic int_least64_t replay_failed_at; /* last logged failure (s) */
    struct bast__clock clock;
    int audit_fd; /* -1: off */
    int audit_syslog;
    int log_stderr;
};

/* config.c: fill ctx->files and ctx->apps; instances are opened there. */
int bast__config_load(bast_ctx *ctx, const char *only_app, char *err,
                      size_t errlen);
void bast__config_free(bast_ctx *ctx);
void bast__config_lint(bast_ctx *ctx);

/* loader.c */
int bast__plugin_get(bast_ctx *ctx, const char *name, int optional,
                     struct bast__plugin **out, char *err, size_t errlen);
void bast__plugins_free(bast_ctx *ctx);

/* filter.c */
int bast__filter_parse(struct bast_instance *inst, const char *key,
                       const char *value, char *err, size_t errlen);
int bast__filter_match(const struct bast_instance *inst,
                       const bast_request *req);
/* Normalise a request path for matching: decode unreserved %XX, drop
 * dot segments and repeated slashes.  Returns 0, or -1 if it does not
 * fit. */
int bast__path_normalise(const char *in, char *out, size_t outlen);

/* engine.c: the pure stack walker. */
typedef bast_res (*bast__run_fn)(void *ud, size_t idx);
typedef struct bast__walk {
    int raw;           /* final status: a bast_res, or 0 = perm denied */
    int positive;      /* impression was positive at the end */
    size_t status_idx; /* handler whose result is `raw`, or SIZE_MAX */
} bast__walk;
void bast__stack_walk(const struct bast__handler *h, size_t n, bast__run_fn run,
                      void *ud, bast__walk *out);
/* The action a result gets (out-of-range results are forced to bad). */
bast_action bast__action_for(const struct bast_instance *inst, int res);

/* request.c */
struct bast__header {
    char *name;
    char *value;
};
struct bast_request {
    char *method;
    char *path;
    char *query;
    struct bast__header *h;
    size_t nh, caph;
    size_t header_bytes;
    unsigned char *body;
    size_t body_len;
    int has_body;
    char *peer_cert;
    char *remote_addr;
    int tls;
    int64_t now;
    int has_now;
};

/* result.c */
struct bast__trace {
    const struct bast_instance *inst;
    int result;
    const char *error;
    const char *desc;
    long us;
};
struct bast__chunk;

/* attrs.c: attributes as a flat list in the result, turned into JSON only
 * when asked for (most hosts read identity and decision only) */
enum { BAST_ATTR_STR, BAST_ATTR_INT, BAST_ATTR_STRV, BAST_ATTR_JSON };
struct bast__attr {
    const char *key;
    int type;
    long long i;
    const char *s; /* STR, JSON text; STRV: n strings, each NUL-ended */
    size_t n;
};
#define BAST_ATTRS_INLINE 6

struct bast_result {
    bast_decision decision;
    int status;
    int raw;
    const char *app;
    const char *identity;
    const char *scheme;
    const char *module;
    const char *error;
    const char *error_description;
    const char **challenges;
    size_t nchallenges, capchallenges;
    struct bast__attr *attrs; /* attrs0, or a heap array when it grew */
    size_t nattrs, capattrs;
    struct bast__attr attrs0[BAST_ATTRS_INLINE];
    struct bast__trace *trace;
    size_t ntrace, captrace;
    struct bast__chunk *chunks;
};
bast_result *bast__result_new(const char *app, size_t nmodules);
const char *bast__result_strdup(bast_result *res, const char *s);
char *bast__result_alloc(bast_result *res, size_t n);
/* Set an attribute of the module whose attributes start at `mark`: the
 * same key set again by that module replaces its value.  Strings are
 * copied (STRV: `s` holds n NUL-ended strings in `len` bytes). */
int bast__attr_set(bast_result *res, size_t mark, const char *key, int type,
                   const char *s, size_t len, size_t n, long long i);
/* The attributes as a jansson object (first module wins a key). */
void *bast__attrs_json(const bast_result *res);
int bast__result_add_challenge(bast_result *res, const char *c);
int bast__result_raw(const bast_result *res);

/* The per-request view one module gets (verify.c). */
struct bast_call {
    const bast_request *req;
    bast_result *res;
    const struct bast__app *app;
    const bast_ctx *ctx;
    int64_t now;
    const char *principal;
    /* what the current module reported */
    const char *identity;
    const char *error;
    const char *desc;
    size_t attr_mark; /* first attribute of the current module */
    size_t challenge_mark;
    uint64_t tick; /* end of the previous module */
};

/* services.c */
void bast__log(const bast_ctx *ctx, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void bast__audit_line(const bast_ctx *ctx, const char *json_line);
void bast__seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
