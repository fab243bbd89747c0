/*
 * bast.h - the host API of libbast.
 *
 * A host opens a configuration directory once (bast_open), builds one
 * request per incoming HTTP request, and asks bast_verify() for a decision
 * on one application's stack.  The context is immutable after bast_open and
 * may be shared by any number of threads; every per-request state lives in
 * the bast_result.  BAST_DENY is 0, so a misread value never allows.
 *
 * Ownership: `const char *` results are borrowed from the handle they came
 * from; `char *` results belong to the caller and are freed with
 * bast_free().  Inputs are copied.  Every *_free(NULL) is a no-op.
 * This header depends on nothing but the C library.
 */
#ifndef BAST_H
#define BAST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define BAST_API __attribute__((visibility("default")))
#else
#define BAST_API
#endif

#define BAST_VERSION "0.1.0"

typedef struct bast_ctx bast_ctx;
typedef struct bast_request bast_request;
typedef struct bast_result bast_result;

/* The decision.  BAST_DENY is the zero value on purpose. */
typedef enum bast_decision { BAST_DENY = 0, BAST_ALLOW = 1 } bast_decision;

/* Error codes of the host API: one X-macro gives the enum and the strings. */
#define BAST_ERRORS(X)                                                         \
    X(OK, "success")                                                           \
    X(NOMEM, "out of memory")                                                  \
    X(INVAL, "invalid argument")                                               \
    X(CONFIG, "configuration error")                                           \
    X(NOAPP, "no such application")                                            \
    X(NOMODULE, "no such module")                                              \
    X(IO, "input/output error")                                                \
    X(PARSE, "cannot parse input")                                             \
    X(TOOBIG, "input too large")

#define BAST_ERR_ENUM_(name, text) BAST_ERR_##name,
typedef enum bast_err { BAST_ERRORS(BAST_ERR_ENUM_) BAST_ERR__COUNT } bast_err;
#undef BAST_ERR_ENUM_

/* Text for an error code; never NULL (unknown codes get a generic text). */
BAST_API const char *bast_strerror(int err);

/* Options for bast_open(); zero-initialise and set `size`. */
typedef struct bast_options {
    size_t size;            /* sizeof(bast_options) */
    const char *plugin_dir; /* NULL: env BAST_PLUGIN_DIR, bast.conf, default */
    const char *only_app;   /* NULL: load every conf.d/<app>.conf */
} bast_options;

/*
 * Load bast.conf and conf.d/ under `confdir` (NULL: env BAST_CONFDIR, else
 * /etc/bast).  All or nothing: on failure NULL is returned and `errbuf`
 * holds one line naming file:line and the key.  `opts` may be NULL.
 */
BAST_API bast_ctx *bast_open(const char *confdir, const bast_options *opts,
                             char *errbuf, size_t errlen);
BAST_API void bast_close(bast_ctx *ctx);

/* Number of warnings found while loading (lint), and the i-th one. */
BAST_API size_t bast_warning_count(const bast_ctx *ctx);
BAST_API const char *bast_warning(const bast_ctx *ctx, size_t i);

/* Loaded application names, in sorted order (borrowed from ctx). */
BAST_API size_t bast_app_count(const bast_ctx *ctx);
BAST_API const char *bast_app_name(const bast_ctx *ctx, size_t i);

/* A human-readable listing of the stack `app` will run; caller frees. */
BAST_API char *bast_stack_describe(const bast_ctx *ctx, const char *app);

/* ---- requests ---------------------------------------------------------- */

BAST_API bast_request *bast_request_new(void);
BAST_API void bast_request_free(bast_request *req);
/* Setters return BAST_ERR_OK, BAST_ERR_NOMEM or BAST_ERR_TOOBIG. */
BAST_API int bast_request_set_method(bast_request *req, const char *method);
BAST_API int bast_request_set_path(bast_request *req, const char *path);
BAST_API int bast_request_set_query(bast_request *req, const char *query);
BAST_API int bast_request_add_header(bast_request *req, const char *name,
                                     const char *value);
BAST_API int bast_request_set_body(bast_request *req, const void *body,
                                   size_t len);
BAST_API int bast_request_set_peer_cert(bast_request *req, const char *pem);
BAST_API int bast_request_set_remote_addr(bast_request *req, const char *a);
BAST_API void bast_request_set_tls(bast_request *req, int tls);
/* Evaluate time-based rules at this instant (seconds since the epoch). */
BAST_API void bast_request_set_time(bast_request *req, int64_t now);

/*
 * Parse one request in the JSON form of DESIGN.md.  NULL on failure with
 * a message in errbuf.  Inputs over 1 MiB are refused.
 */
BAST_API bast_request *bast_request_from_json(const char *json, size_t len,
                                              char *errbuf, size_t errlen);

/* ---- verification ------------------------------------------------------ */

/*
 * Run `app`'s stack on `req`.  Returns the decision; when `out` is not
 * NULL it receives a result the caller frees with bast_result_free().
 * The result borrows strings from `ctx`: free it before closing `ctx`.
 * An unknown app (and no `other`) is denied.  Thread-safe.
 */
BAST_API bast_decision bast_verify(const bast_ctx *ctx, const char *app,
                                   const bast_request *req, bast_result **out);

BAST_API void bast_result_free(bast_result *res);
BAST_API bast_decision bast_result_decision(const bast_result *res);
BAST_API int bast_result_status(const bast_result *res);
BAST_API const char *bast_result_app(const bast_result *res);
/* Identity, scheme and attributes are set only on allow (else NULL). */
BAST_API const char *bast_result_identity(const bast_result *res);
BAST_API const char *bast_result_scheme(const bast_result *res);
BAST_API const char *bast_result_module(const bast_result *res);
BAST_API const char *bast_result_error(const bast_result *res);
BAST_API const char *bast_result_error_description(const bast_result *res);
BAST_API size_t bast_result_challenge_count(const bast_result *res);
BAST_API const char *bast_result_challenge(const bast_result *res, size_t i);
/* Attributes as a JSON object text ("{}" when none); caller frees. */
BAST_API char *bast_result_attributes_json(const bast_result *res);
/* Trace: modules run, in order. */
BAST_API size_t bast_result_trace_count(const bast_result *res);
BAST_API const char *bast_result_trace_module(const bast_result *res, size_t i);
BAST_API const char *bast_result_trace_result(const bast_result *res, size_t i);
/* The whole result as one line of JSON (DESIGN.md); caller frees. */
BAST_API char *bast_result_to_json(const bast_result *res);

/*
 * Run a plugin's management command (`bast apikey issue ...`) on the
 * instance `module` of `app`.  The instance's plugin must be `plugin`.
 * Returns a process exit code; messages go to stdout/stderr.
 */
BAST_API int bast_admin(bast_ctx *ctx, const char *app, const char *module,
                        const char *plugin, int argc, char **argv);

/*
 * HMAC client side: the headers a client adds to sign a request with the
 * `bast` profile (DESIGN.md).  Returns "Name: value\n" lines the caller
 * frees, or NULL with a message in errbuf.  `now` 0 means the clock.
 */
BAST_API char *bast_sign(const char *profile, const char *key_id,
                         const void *secret, size_t secret_len,
                         const char *method, const char *path,
                         const char *query, const void *body, size_t body_len,
                         int64_t now, char *errbuf, size_t errlen);

BAST_API void bast_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
