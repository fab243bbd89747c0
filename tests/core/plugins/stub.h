/* stub.h - the open/verify/close of the loader's test plugins, which
 * differ only in what makes the loader refuse them.  Not a plugin. */
#ifndef BAST_TEST_STUB_H
#define BAST_TEST_STUB_H
#include "bast_plugin.h"

static int
stub_open(const bast_instance *i, const bast_option *p, size_t n, void **s,
          char *e, size_t l)
{
    (void)i;
    (void)p;
    (void)n;
    (void)e;
    (void)l;
    *s = 0;
    return 0;
}

static void
stub_close(void *s)
{
    (void)s;
}
#endif
