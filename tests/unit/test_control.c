/*
 * test_control.c - control strings compile to the action tables libpam
 * builds: the simple flags, bracket defaults, later `default=` changing
 * nothing, unset slots becoming bad, and the syntax errors bast refuses
 * (where libpam would silently make the line must-fail).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bast_int.h"

#include <string.h>

static void
compile(const char *text, bast_action a[BAST_RES__COUNT])
{
    char err[256];
    int rc = bast__control_parse(text, a, err, sizeof(err));
    if (rc != 0)
        fail_msg("'%s' refused: %s", text, err);
}

static void
refused(const char *text, const char *needle)
{
    bast_action a[BAST_RES__COUNT];
    char err[256] = "";
    assert_int_equal(bast__control_parse(text, a, err, sizeof(err)), -1);
    if (strstr(err, needle) == NULL)
        fail_msg("'%s': message '%s' lacks '%s'", text, err, needle);
}

static void
test_simple_flags(void **state)
{
    (void)state;
    bast_action a[BAST_RES__COUNT];
    compile("required", a);
    assert_int_equal(a[BAST_RES_SUCCESS], BAST_ACT_OK);
    assert_int_equal(a[BAST_RES_IGNORE], BAST_ACT_IGNORE);
    assert_int_equal(a[BAST_RES_ABSENT], BAST_ACT_BAD);
    assert_int_equal(a[BAST_RES_DENY], BAST_ACT_BAD);
    compile("Requisite", a); /* flags are case-insensitive */
    assert_int_equal(a[BAST_RES_DENY], BAST_ACT_DIE);
    assert_int_equal(a[BAST_RES_IGNORE], BAST_ACT_IGNORE);
    compile("SUFFICIENT", a);
    assert_int_equal(a[BAST_RES_SUCCESS], BAST_ACT_DONE);
    assert_int_equal(a[BAST_RES_DENY], BAST_ACT_IGNORE);
    compile("optional", a);
    assert_int_equal(a[BAST_RES_SUCCESS], BAST_ACT_OK);
    assert_int_equal(a[BAST_RES_UNAVAILABLE], BAST_ACT_IGNORE);
    compile("binding", a);
    assert_int_equal(a[BAST_RES_SUCCESS], BAST_ACT_DONE);
    assert_int_equal(a[BAST_RES_DENY], BAST_ACT_BAD);
    assert_int_equal(a[BAST_RES_IGNORE], BAST_ACT_IGNORE);
}

static void
test_brackets(void **state)
{
    (void)state;
    bast_action a[BAST_RES__COUNT];
    compile("[success=done absent=ignore default=bad]", a);
    assert_int_equal(a[BAST_RES_SUCCESS], BAST_ACT_DONE);
    assert_int_equal(a[BAST_RES_ABSENT], BAST_ACT_IGNORE);
    assert_int_equal(a[BAST_RES_DENY], BAST_ACT_BAD);
    /* unlisted slots, ignore included, default to bad */
    compile("[success=ok]", a);
    assert_int_equal(a[BAST_RES_IGNORE], BAST_ACT_BAD);
    /* default fills only what is unset at that point; later pairs win */
    compile("[default=ok deny=die default=reset]", a);
    assert_int_equal(a[BAST_RES_DENY], BAST_ACT_DIE);
    assert_int_equal(a[BAST_RES_ABSENT], BAST_ACT_OK);
    compile("[default=ignore success=2]", a);
    assert_int_equal(a[BAST_RES_SUCCESS], 2);
    /* later pair for the same value overwrites */
    compile("[success=ok success=done]", a);
    assert_int_equal(a[BAST_RES_SUCCESS], BAST_ACT_DONE);
    /* value=action without brackets, as libpam accepts */
    compile("success=done default=bad", a);
    assert_int_equal(a[BAST_RES_SUCCESS], BAST_ACT_DONE);
    compile("[success=255 default=ignore]", a);
    assert_int_equal(a[BAST_RES_SUCCESS], 255);
    /* out-of-range results (index 0) are always bad */
    compile("[default=ok]", a);
    assert_int_equal(a[0], BAST_ACT_BAD);
}

static void
test_errors(void **state)
{
    (void)state;
    refused("requird", "unknown control 'requird'");
    refused("[success=donee]", "unknown action 'donee'");
    refused("[success=0]", "unknown action '0'");
    refused("[success=256]", "unknown action '256'");
    refused("[SUCCESS=ok]", "unknown result 'SUCCESS'");
    refused("[succes=ok]", "unknown result 'succes'");
    refused("[success]", "expected value=action");
    refused("[success=ok", "without ']'");
    refused("[]", "empty bracket");
    refused("", "empty control");
    refused("[default=]", "unknown action ''");
    refused("[success=ok]]", "stray bracket");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_flags),
        cmocka_unit_test(test_brackets),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
