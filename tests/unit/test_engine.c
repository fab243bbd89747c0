/*
 * test_engine.c - the stack walker alone, on handler lists built in the
 * test: the rows of shared/PAM-STACKING.md §10 that do not need a config
 * file, with bast's words (deny for auth_err, absent for
 * cred_insufficient, unavailable for module_unknown).  Raw 0 is libpam's
 * PAM_PERM_DENIED.  Each row checks the final status, the impression and
 * which modules ran.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bast_int.h"

#include <stdio.h>
#include <string.h>

#define MARK "substack"

struct row {
    int level;
    const char *control; /* MARK for a substack marker */
    int result;
};

struct run {
    const struct row *rows;
    char ran[64];
};

static bast_res
run_fn(void *ud, size_t idx)
{
    struct run *r = ud;
    char b[8];
    snprintf(b, sizeof(b), "%zu,", idx);
    strcat(r->ran, b);
    return (bast_res)r->rows[idx].result;
}

static void
walk(const struct row *rows, size_t n, int raw, int positive, const char *ran)
{
    struct bast_instance inst[16];
    struct bast__handler h[16];
    memset(inst, 0, sizeof(inst));
    for (size_t i = 0; i < n; i++) {
        h[i].level = rows[i].level;
        h[i].inst = NULL;
        if (strcmp(rows[i].control, MARK) == 0)
            continue;
        char err[200];
        if (bast__control_parse(rows[i].control, inst[i].actions, err,
                                sizeof(err)) != 0)
            fail_msg("%s: %s", rows[i].control, err);
        h[i].inst = &inst[i];
    }
    struct run r = {rows, ""};
    bast__walk w;
    bast__stack_walk(h, n, run_fn, &r, &w);
    assert_int_equal(w.raw, raw);
    assert_int_equal(w.positive, positive);
    assert_string_equal(r.ran, ran);
}

#define WALK(rows, raw, pos, ran)                                              \
    walk(rows, sizeof(rows) / sizeof(rows[0]), raw, pos, ran)

enum {
    S = BAST_RES_SUCCESS,
    A = BAST_RES_ABSENT,
    D = BAST_RES_DENY,
    F = BAST_RES_FORBIDDEN,
    U = BAST_RES_UNAVAILABLE,
    I = BAST_RES_IGNORE
};

static void
test_basic_rows(void **state)
{
    (void)state;
    /* E02 only ignores */
    const struct row e02[] = {{0, "required", I}, {0, "optional", I}};
    WALK(e02, 0, 0, "0,1,");
    /* E03 lone optional failure: perm denied, not its own code */
    const struct row e03[] = {{0, "optional", D}};
    WALK(e03, 0, 0, "0,");
    /* E04 lone optional success decides */
    const struct row e04[] = {{0, "optional", S}};
    WALK(e04, S, 1, "0,");
    /* E05 first failure wins */
    const struct row e05[] = {
        {0, "required", D}, {0, "required", F}, {0, "requisite", A}};
    WALK(e05, D, 0, "0,1,2,");
    /* E06 sufficient after required failure does not stop */
    const struct row e06[] = {
        {0, "required", D}, {0, "sufficient", S}, {0, "required", S}};
    WALK(e06, D, 0, "0,1,2,");
    /* E07 sufficient after success stops */
    const struct row e07[] = {
        {0, "required", S}, {0, "sufficient", S}, {0, "required", D}};
    WALK(e07, S, 1, "0,1,");
    /* E08 requisite stops, earlier failure code wins */
    const struct row e08[] = {
        {0, "required", D}, {0, "requisite", F}, {0, "required", S}};
    WALK(e08, D, 0, "0,1,");
    /* E09 optional failure is not a prior failure for sufficient */
    const struct row e09[] = {
        {0, "optional", D}, {0, "sufficient", S}, {0, "required", D}};
    WALK(e09, S, 1, "0,1,");
    /* E10 lone sufficient failure */
    const struct row e10[] = {{0, "sufficient", D}};
    WALK(e10, 0, 0, "0,");
    /* E14 ignore=ok returns ignore */
    const struct row e14[] = {{0, "[success=ok ignore=ok default=bad]", I}};
    WALK(e14, I, 1, "0,");
    /* E15 default=ok stores a failure as positive; sufficient ends it */
    const struct row e15[] = {
        {0, "[default=ok]", D}, {0, "sufficient", S}, {0, "required", S}};
    WALK(e15, D, 1, "0,1,");
    /* E16 success mapped to bad: sanity check */
    const struct row e16[] = {{0, "required", S},
                              {0, "[success=bad default=ok]", S}};
    WALK(e16, 0, 0, "0,1,");
    /* E19 unlisted ignore defaults to bad */
    const struct row e19[] = {{0, "required", S}, {0, "[success=ok]", I}};
    WALK(e19, 0, 0, "0,1,");
    /* E36 requisite + ignore is ignored */
    const struct row e36[] = {{0, "requisite", I}, {0, "required", S}};
    WALK(e36, S, 1, "0,1,");
    /* E37 ignore routed to die reports perm denied */
    const struct row e37[] = {{0, "[success=done default=die]", I},
                              {0, "required", S}};
    WALK(e37, 0, 0, "0,");
    /* E40 case-insensitive flags */
    const struct row e40[] = {{0, "Required", S}, {0, "SUFFICIENT", S}};
    WALK(e40, S, 1, "0,1,");
    /* E42 value=action without brackets */
    const struct row e42[] = {{0, "success=done", S}, {0, "required", D}};
    WALK(e42, S, 1, "0,");
}

static void
test_jumps_and_reset(void **state)
{
    (void)state;
    /* E20/E21 Debian common-auth pattern */
    const struct row e20[] = {{0, "[success=1 default=ignore]", S},
                              {0, "requisite", D},
                              {0, "required", S}};
    WALK(e20, S, 1, "0,2,");
    const struct row e21[] = {{0, "[success=1 default=ignore]", D},
                              {0, "requisite", D},
                              {0, "required", S}};
    WALK(e21, D, 0, "0,1,");
    /* E22 jump past the end: perm denied overrides the earlier code */
    const struct row e22[] = {{0, "required", D},
                              {0, "[success=3 default=ignore]", S},
                              {0, "required", S}};
    WALK(e22, 0, 0, "0,1,");
    /* E23 a jump counts a substack as one entry */
    const struct row e23[] = {{0, "[success=1 default=ignore]", S},
                              {0, MARK, 0},
                              {1, "required", D},
                              {1, "required", D},
                              {0, "required", S}};
    WALK(e23, S, 1, "0,4,");
    /* E24 a jump counts included lines one by one */
    const struct row e24[] = {{0, "[success=1 default=ignore]", S},
                              {0, "required", D},
                              {0, "required", F},
                              {0, "required", S}};
    WALK(e24, F, 0, "0,2,3,");
    /* E25 die inside a substack ends only the substack */
    const struct row e25[] = {{0, MARK, 0},
                              {1, "requisite", D},
                              {1, "required", S},
                              {0, "required", S}};
    WALK(e25, D, 0, "1,3,");
    /* E26 done inside a substack ends only the substack */
    const struct row e26[] = {{0, MARK, 0},
                              {1, "sufficient", S},
                              {1, "required", D},
                              {0, "required", F}};
    WALK(e26, F, 0, "1,3,");
    /* E27 done inside an include ends the whole stack */
    const struct row e27[] = {
        {0, "sufficient", S}, {0, "required", D}, {0, "required", F}};
    WALK(e27, S, 1, "0,");
    /* E28 reset in a substack restores the state at substack entry */
    const struct row e28[] = {{0, "required", S},
                              {0, MARK, 0},
                              {1, "required", D},
                              {1, "[default=reset]", S},
                              {1, "required", S}};
    WALK(e28, S, 1, "0,2,3,4,");
    /* E29 top-level reset wipes an earlier failure */
    const struct row e29[] = {
        {0, "required", D}, {0, "[default=reset]", S}, {0, "required", S}};
    WALK(e29, S, 1, "0,1,2,");
    /* E38 substack success cannot undo an earlier parent failure */
    const struct row e38[] = {{0, "required", D},
                              {0, MARK, 0},
                              {1, "sufficient", S},
                              {0, "required", S}};
    WALK(e38, D, 0, "0,2,3,");
    /* E39 a jump cannot leave a substack */
    const struct row e39[] = {{0, MARK, 0},
                              {1, "[success=2 default=ignore]", S},
                              {1, "required", S},
                              {0, "required", S}};
    WALK(e39, 0, 0, "1,3,");
    /* E45 empty substack contributes nothing */
    const struct row e45[] = {{0, MARK, 0}, {0, "optional", S}};
    WALK(e45, S, 1, "1,");
    /* E46 parent requisite after a successful substack */
    const struct row e46[] = {{0, MARK, 0},
                              {1, "required", S},
                              {0, "requisite", A},
                              {0, "required", D}};
    WALK(e46, A, 0, "1,2,");
    /* E30 analogue: unavailable (a missing -plugin) under required */
    const struct row e30[] = {{0, "required", U}, {0, "required", S}};
    WALK(e30, U, 0, "0,1,");
}

static void
test_out_of_range(void **state)
{
    (void)state;
    /* E33: an out-of-range result is bad whatever the control */
    const struct row e33[] = {{0, "sufficient", 99}, {0, "required", S}};
    WALK(e33, U, 0, "0,1,");
    const struct row zero[] = {{0, "optional", 0}, {0, "required", S}};
    WALK(zero, U, 0, "0,1,");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_rows),
        cmocka_unit_test(test_jumps_and_reset),
        cmocka_unit_test(test_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
