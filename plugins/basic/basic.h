/*
 * basic.h - internals shared by the files of the `basic` plugin: the
 * credentials file (users.c), the verifier (basic.c) and the management
 * commands (admin.c).  Nothing here is exported from the .so.
 */
#ifndef BAST_BASIC_H
#define BAST_BASIC_H

#include "bast_plugin.h"

#include <crypt.h>
#include <stddef.h>
#include <sys/stat.h>

#define BASIC_MAX_ID 255
#define BASIC_MAX_SECRET 1024
#define BASIC_MAX_HASH 255
#define BASIC_MAX_LINE 1024
#define BASIC_MAX_FILE (16 * 1024 * 1024)

typedef struct basic_user {
    char *id; /* decoded client id, UTF-8, may contain ':' */
    size_t idlen;
    char *hash; /* $2y$, $2b$, $y$ or $6$ */
    int line;
} basic_user;

typedef struct basic_users {
    basic_user *v; /* sorted by (idlen, id) for bsearch */
    size_t n;
    /* Unknown ids are checked against this, so they cost what a real
     * entry costs: the kind, cost and salt of the first entry of the
     * file's most common hash kind. */
    char dummy[CRYPT_OUTPUT_SIZE];
} basic_users;

/* Load `path`.  A missing file gives an empty table when `missing_ok`.
 * On failure NULL with "path:line: why" in err.  `st` (may be NULL)
 * receives the file's identity (st_ino 0 when missing). */
basic_users *basic_users_load(const char *path, int missing_ok, struct stat *st,
                              char *err, size_t errlen);
void basic_users_free(basic_users *u);
const basic_user *basic_users_find(const basic_users *u, const char *id,
                                   size_t len);
/* NULL when `hash` is an accepted kind, else why it is refused. */
const char *basic_hash_refusal(const char *hash);
/* The name of an accepted hash's kind: bcrypt, yescrypt, sha512crypt. */
const char *basic_hash_kind(const char *hash);
/* 1 when s[0..n) is valid UTF-8 without control characters. */
int basic_text_ok(const char *s, size_t n);
/* Check an id for the file: non-empty, text, <= BASIC_MAX_ID, no
 * leading '#'.  NULL or why not. */
const char *basic_id_refusal(const char *id, size_t n);
/* The file must be a regular file not writable by group or others. */
int basic_file_check(const char *path, const struct stat *st, char *err,
                     size_t errlen);

int basic_admin(void *state, const bast_instance *inst, int argc, char **argv);
/* The resolved users_file path of an open instance. */
const char *basic_path(const void *state);

#endif
