/*
 * stackgen.h - random stacks for the differential test against libpam.
 * A stack is a set of files (file 0 is the application); each file is a
 * list of entries: a `fixed` module with a control and a result, a
 * missing `-name` plugin, or an include/substack of another file.  The
 * same stack is written twice: as a bast confdir (conf.d/<name>.conf)
 * and as a libpam confdir (one service file per stack file, absolute
 * include/substack paths because of Debian's patch 031_pam_include).
 */
#ifndef STACKGEN_H
#define STACKGEN_H

#include <stdint.h>
#include <stdio.h>

#define SG_MAXF 24 /* files per stack */
#define SG_MAXE 8  /* entries per file */
#define SG_CTL 200 /* control text */
#define SG_NRES 7  /* bast results, in bast_res order from 1 */

/* SG_FILTERED: a module whose `methods` filter the request misses; bast
 * answers ignore without running it, libpam runs a silent ret=ignore. */
enum { SG_MOD, SG_MISSING, SG_FILTERED, SG_INCLUDE, SG_SUBSTACK };
#define SG_IS_MODULE(kind) ((kind) <= SG_FILTERED)

typedef struct sg_entry {
    int kind;
    int id;     /* module id (SG_IS_MODULE kinds); trace key */
    int res;    /* 1..7 as bast_res (SG_MOD) */
    int target; /* file index (SG_INCLUDE, SG_SUBSTACK) */
    int filter; /* which `methods`/`paths` filter (0: none) */
    char bast_ctl[SG_CTL];
    char pam_ctl[SG_CTL];
} sg_entry;

typedef struct sg_file {
    sg_entry e[SG_MAXE];
    int n;
    int done; /* finished: may be included again without a cycle */
} sg_file;

typedef struct sg_stack {
    sg_file f[SG_MAXF];
    int nf;
    int nids;
} sg_stack;

typedef struct sg_rng {
    uint64_t s;
} sg_rng;

uint64_t sg_next(sg_rng *r);
/* A uniform integer in [0, n). */
int sg_below(sg_rng *r, int n);

/* Fill `st` with a random stack. */
void sg_generate(sg_stack *st, sg_rng *r);

/* The PAM return code standing for bast result `res` (1..7). */
int sg_pam_code(int res);
/* The word of a PAM code / bast result (for messages). */
const char *sg_pam_name(int code);
const char *sg_bast_name(int res);

/*
 * Write stack `st` named `name` into `bastdir`/conf.d and `pamdir`
 * (absolute), using `pam_module` (absolute path of pam_fixed_test.so).
 * Returns 0 or -1 (errno set).
 */
int sg_write(const sg_stack *st, const char *name, const char *bastdir,
             const char *pamdir, const char *pam_module);

/* Shrinking helpers: drop the idx-th pair of a bracket control (both
 * syntaxes; -1 when there is no such pair or it is the last one), or
 * make the control a simple flag (0..3: required requisite sufficient
 * optional). */
int sg_drop_pair(sg_entry *e, int idx);
void sg_set_flag(sg_entry *e, int flag);

/* A one-line description like "required deny; substack{ ... }". */
void sg_describe(const sg_stack *st, int file, char *buf, size_t len);

/* Remove directory tree `path` (best effort). */
void sg_rmtree(const char *path);

#endif
