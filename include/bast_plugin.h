/*
 * bast_plugin.h - the ABI between libbast and scheme plugins.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * `bast_plugin_entry`, a const bast_plugin descriptor (BAST_PLUGIN_DEFINE).
 * The core dlopens it with RTLD_NOW|RTLD_LOCAL, refuses a descriptor whose
 * `abi` differs from BAST_PLUGIN_ABI, whose `size` is smaller than the
 * first published descriptor, or whose `caps` has bits it does not know.
 *
 * Life cycle: open() once per configured instance at load time, with the
 * instance's options in file order (everything but the core's keys); it
 * prepares everything (keys, digests, tables) and rejects unknown or
 * repeated keys by name.  verify() once per request; it returns a result,
 * never an error code, and reports detail through the bast_call setters.
 * close() when the context is freed.  A plugin that does not set
 * BAST_CAP_THREADSAFE has its verify() serialised by the core.
 *
 * The services below are exported by libbast (link with -lbast).
 */
#ifndef BAST_PLUGIN_H
#define BAST_PLUGIN_H

#include "bast.h"
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BAST_PLUGIN_ABI 1
#define BAST_PLUGIN_SYMBOL "bast_plugin_entry"

/* Results a module returns.  0 is not a valid answer: read as unavailable. */
typedef enum bast_res {
    BAST_RES_INVALID = 0,
    BAST_RES_SUCCESS,
    BAST_RES_ABSENT,
    BAST_RES_DENY,
    BAST_RES_FORBIDDEN,
    BAST_RES_MALFORMED,
    BAST_RES_UNAVAILABLE,
    BAST_RES_IGNORE,
    BAST_RES__COUNT
} bast_res;

/* Capability flags.  Unknown bits make the core refuse the plugin. */
#define BAST_CAP_THREADSAFE (1u << 0) /* verify() may run concurrently */
#define BAST_CAP_KNOWN (BAST_CAP_THREADSAFE)

/* One option of an instance: `key = value` at `file:line`.  The strings
 * stay valid until the instance's close(), so a plugin may keep them. */
typedef struct bast_option {
    const char *key;
    const char *value;
    const char *file;
    int line;
} bast_option;

typedef struct bast_instance bast_instance; /* a configured module */
typedef struct bast_call bast_call;         /* one module's view of a request */

typedef struct bast_plugin {
    uint32_t abi;  /* BAST_PLUGIN_ABI */
    uint32_t size; /* sizeof(bast_plugin); the struct only grows at the end */
    uint32_t caps; /* BAST_CAP_* */
    const char *name;
    const char *version;
    /* Prepare an instance; on failure return -1 with a one-line message
     * in err (use bast_opt_error to name file:line and key). */
    int (*open)(const bast_instance *inst, const bast_option *opts,
                size_t nopts, void **state, char *err, size_t errlen);
    bast_res (*verify)(void *state, bast_call *call);
    void (*close)(void *state);
    /* Optional: `bast <plugin> ...` management commands.  Returns an exit
     * code (0 ok, 1 failure, 2 usage); prints to stdout/stderr. */
    int (*admin)(void *state, const bast_instance *inst, int argc, char **argv);
} bast_plugin;

#define BAST_PLUGIN_DEFINE(...)                                                \
    __attribute__((visibility("default")))                                     \
    const bast_plugin bast_plugin_entry = {BAST_PLUGIN_ABI,                    \
                                           sizeof(bast_plugin), __VA_ARGS__}

/* ---- the instance ---------------------------------------------------- */

BAST_API const char *bast_inst_name(const bast_instance *inst);
BAST_API const char *bast_inst_app(const bast_instance *inst);
BAST_API const char *bast_inst_realm(const bast_instance *inst);
BAST_API const char *bast_inst_confdir(const bast_instance *inst);
BAST_API const char *bast_inst_file(const bast_instance *inst);
BAST_API int bast_inst_line(const bast_instance *inst);
/* Resolve `path` against the config directory when it is relative.
 * Returns 0, or -1 when it does not fit in `buf`. */
BAST_API int bast_inst_path(const bast_instance *inst, const char *path,
                            char *buf, size_t len);

/* Log levels follow syslog: 3 error, 4 warning, 6 info, 7 debug. */
BAST_API void bast_log(const bast_instance *inst, int level, const char *fmt,
                       ...) __attribute__((format(printf, 3, 4)));
/* An audit event: `fields_json` is a JSON object text (or NULL) merged
 * into the line {"event": ..., "app": ..., "module": ...}. */
BAST_API void bast_audit_event(const bast_instance *inst, const char *event,
                               const char *fields_json);

/* ---- options --------------------------------------------------------- */

/* Format "file:line: key: <message>" into err.  Returns -1. */
BAST_API int bast_opt_error(const bast_option *o, char *err, size_t errlen,
                            const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Reject keys not in the NULL-terminated `known`, and repeated keys. */
BAST_API int bast_opts_check(const bast_option *opts, size_t n,
                             const char *const *known, char *err,
                             size_t errlen);
/* Last option named `key`, or NULL. */
BAST_API const bast_option *bast_opts_get(const bast_option *opts, size_t n,
                                          const char *key);
/* yes/no/true/false/on/off/1/0 (case-insensitive). */
BAST_API int bast_opt_bool(const bast_option *o, int *out, char *err,
                           size_t errlen);
/* A decimal integer in [min, max]. */
BAST_API int bast_opt_int(const bast_option *o, long long min, long long max,
                          long long *out, char *err, size_t errlen);
/* A duration: "300", "300s", "5m", "2h", "1d" -> seconds in [min, max]. */
BAST_API int bast_opt_duration(const bast_option *o, long long min,
                               long long max, long long *out, char *err,
                               size_t errlen);
/* A file that holds secrets: regular, not group/world-writable, not
 * readable by others.  Returns 0 or -1 with a message. */
BAST_API int bast_secret_file_check(const char *path, char *err, size_t errlen);

/* ---- the request (read-only) ----------------------------------------- */

BAST_API const bast_request *bast_call_request(const bast_call *call);
BAST_API const char *bast_req_method(const bast_request *req);
BAST_API const char *bast_req_path(const bast_request *req);
BAST_API const char *bast_req_query(const bast_request *req); /* "" if none */
/* Number of headers named `name` (case-insensitive). */
BAST_API size_t bast_req_header_count(const bast_request *req,
                                      const char *name);
/* The idx-th value of header `name`, or NULL. */
BAST_API const char *bast_req_header(const bast_request *req, const char *name,
                                     size_t idx);
/* All headers in order. */
BAST_API size_t bast_req_nheaders(const bast_request *req);
BAST_API int bast_req_header_at(const bast_request *req, size_t i,
                                const char **name, const char **value);
/* Body bytes; returns NULL with *len 0 when the request carries no body
 * (as behind nginx auth_request).  `present` tells the two apart. */
BAST_API const unsigned char *bast_req_body(const bast_request *req,
                                            size_t *len, int *present);
BAST_API const char *bast_req_peer_cert(const bast_request *req);
BAST_API const char *bast_req_remote_addr(const bast_request *req);
BAST_API int bast_req_tls(const bast_request *req);

/* ---- the call: time, principal, and what the module reports ---------- */

/* The request's instant: --now / bast_request_set_time, else the clock. */
BAST_API int64_t bast_call_now(const bast_call *call);
/* The principal set by an earlier module of the stack, or NULL. */
BAST_API const char *bast_call_principal(const bast_call *call);
BAST_API const char *bast_call_realm(const bast_call *call);
/* Set by the module on success (copied). */
BAST_API int bast_call_set_identity(bast_call *call, const char *identity);
/* `error` is a short word (invalid_token, replay, ...); description is
 * free text (printf format, may be NULL). */
BAST_API void bast_call_set_error(bast_call *call, const char *error,
                                  const char *desc_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A WWW-Authenticate challenge, e.g. `Bearer realm="x"` (copied). */
BAST_API int bast_call_add_challenge(bast_call *call, const char *challenge);
/* Attributes, kept only when the module's result is success. */
BAST_API int bast_call_set_attr_str(bast_call *call, const char *key,
                                    const char *value);
BAST_API int bast_call_set_attr_int(bast_call *call, const char *key,
                                    long long value);
BAST_API int bast_call_set_attr_strv(bast_call *call, const char *key,
                                     const char *const *values, size_t n);
/* Any JSON value given as text. */
BAST_API int bast_call_set_attr_json(bast_call *call, const char *key,
                                     const char *json);

/* ---- helpers ---------------------------------------------------------- */

/* Constant-time equality of two buffers of the same length: 1 if equal. */
BAST_API int bast_ct_equal(const void *a, const void *b, size_t len);

#define BAST_B64_URL (1u << 0)   /* base64url alphabet */
#define BAST_B64_NOPAD (1u << 1) /* encode: no '='; decode: '=' refused */
/* Encoded length (with NUL) for n bytes. */
BAST_API size_t bast_b64_encoded_len(size_t n, unsigned flags);
/* Returns the length written (without NUL), or -1 if out is too small. */
BAST_API long bast_b64_encode(const void *in, size_t n, char *out,
                              size_t outlen, unsigned flags);
/* Strict: wrong alphabet, bad padding, non-zero pad bits, whitespace
 * -> -1.  Returns the number of bytes written. */
BAST_API long bast_b64_decode(const char *in, size_t n, void *out,
                              size_t outlen, unsigned flags);

/* Replay store ("remember this id for ttl seconds"), shared by all
 * plugins of a context; configured by `replay` in bast.conf. */
#define BAST_REPLAY_FRESH 1        /* first time seen: now remembered */
#define BAST_REPLAY_SEEN 0         /* already there: a replay */
#define BAST_REPLAY_UNAVAILABLE -1 /* the store failed: fail closed */
BAST_API int bast_replay_check(const bast_instance *inst, const void *id,
                               size_t idlen, unsigned ttl_seconds, int64_t now);
/* Is the id there?  Never remembers it: BAST_REPLAY_SEEN when it is,
 * BAST_REPLAY_FRESH when not (for lists written with bast_replay_check,
 * such as revocations). */
BAST_API int bast_replay_peek(const bast_instance *inst, const void *id,
                              size_t idlen, int64_t now);

#ifdef __cplusplus
}
#endif
#endif
