/*
 * common.h - helpers the fuzz targets share: a private temporary config
 * directory, the instrumented plugin directory next to the target binary
 * (plugins are dlopened once here and kept, so a target that opens and
 * closes contexts per input does not make libFuzzer register their
 * coverage again and again), a context opener, and the "mini request"
 * format most targets read:
 *
 *   one line per header "Name: value", or a pseudo-line ":method M",
 *   ":path P", ":query Q", ":addr A", ":notls"; then an empty line; then
 *   the body (kept as bytes, NULs included).
 *
 * Every request is evaluated at FZ_NOW so seeds with real timestamps stay
 * valid for ever.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include "bast.h"

#include <stddef.h>
#include <stdint.h>

#define FZ_NOW 1800000000 /* 2027-01-15T08:00:00Z */

/* The per-process temporary directory (created on first use, removed at
 * exit). */
const char *fz_tmpdir(void);
/* Write `len` bytes to <tmpdir>/<rel> with `mode`; aborts on failure. */
void fz_write(const char *rel, const void *data, size_t len, unsigned mode);
/* Write a NUL-terminated text. */
void fz_write_text(const char *rel, const char *text, unsigned mode);
/* Path of <tmpdir>/<rel> (static buffer, overwritten by the next call). */
const char *fz_path(const char *rel);
/* bast.conf: audit off, a small memory replay store (the default one
 * reserves a million slots, slow to open per input under ASan). */
void fz_global_conf(void);
/* Copy tests/fuzz/data/<name> to <tmpdir>/<name> with `mode`. */
void fz_copy_data(const char *name, unsigned mode);
/* Read tests/fuzz/data/<name> (NUL-terminated, caller frees). */
char *fz_read_data(const char *name, size_t *len);
/* The instrumented plugins: <dir of the binary>/../plugins. */
const char *fz_plugin_dir(void);
/* dlopen these plugins once and keep them (names separated by spaces). */
void fz_keep_plugins(const char *names);
/* Keep these plugins and make them the only ones a context can load: a
 * private plugin dir <tmpdir>/plugins of symlinks, used by fz_open from
 * then on.  For targets whose input names plugins (config): any other
 * instrumented plugin would be dlclosed with the context while libFuzzer
 * still reads its coverage counters, and could write files (a store). */
void fz_only_plugins(const char *names);
/* Open <tmpdir> with the fuzz plugin dir; NULL with the message in err. */
bast_ctx *fz_open(char *err, size_t errlen);
/* Like fz_open, but aborts with the message when the config fails. */
bast_ctx *fz_open_or_die(void);
/* Parse the mini request format; NULL when a setter refuses the input. */
bast_request *fz_request(const uint8_t *data, size_t size);
/* Verify and exercise every result accessor (reads each string, so a
 * dangling pointer shows up under ASan). */
void fz_verify(const bast_ctx *ctx, const char *app, const bast_request *req);
/* The plugin targets' input: one byte picks app "a" or "b" (two configs
 * of the plugin), the rest is a request in the mini format. */
void fz_two_apps(const bast_ctx *ctx, const uint8_t *data, size_t size);

#endif
