/*
 * test_replay_peek.c - the memory replay store's peek: it reports what
 * check remembered, honours expiry, and never remembers by itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bast_int.h"

static void
test_peek(void **state)
{
    (void)state;
    bast_replay *rs = NULL;
    char err[200];
    assert_int_equal(bast__replay_open(&rs, "memory", err, sizeof(err)), 0);
    assert_int_equal(bast__replay_peek(rs, "a", 1, 1000), BAST_REPLAY_FRESH);
    /* peeking did not remember it */
    assert_int_equal(bast__replay_check(rs, "a", 1, 10, 1000),
                     BAST_REPLAY_FRESH);
    assert_int_equal(bast__replay_peek(rs, "a", 1, 1005), BAST_REPLAY_SEEN);
    assert_int_equal(bast__replay_peek(rs, "b", 1, 1005), BAST_REPLAY_FRESH);
    /* expired at 1010 */
    assert_int_equal(bast__replay_peek(rs, "a", 1, 1010), BAST_REPLAY_FRESH);
    assert_int_equal(bast__replay_peek(NULL, "a", 1, 1010),
                     BAST_REPLAY_UNAVAILABLE);
    bast__replay_close(rs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_peek)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
