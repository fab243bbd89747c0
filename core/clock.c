/*
 * clock.c - the tick counter behind the trace's per-module microseconds.
 * clock_gettime is not always served by the vDSO (on virtual machines it
 * can cost over 100 ns, more than a whole module), so on x86-64 with an
 * invariant TSC the counter is rdtsc, calibrated against CLOCK_MONOTONIC
 * once per context; elsewhere it is CLOCK_MONOTONIC in nanoseconds.
 */
#include "bast_int.h"

#include <time.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

static uint64_t
mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int
invariant_tsc(void)
{
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (__get_cpuid(0x80000000u, &a, &b, &c, &d) == 0 || a < 0x80000007u)
        return 0;
    __get_cpuid(0x80000007u, &a, &b, &c, &d);
    return (d >> 8) & 1;
#else
    return 0;
#endif
}

uint64_t
bast__ticks(const struct bast__clock *c)
{
#if defined(__x86_64__)
    if (c->tsc)
        return __rdtsc();
#endif
    (void)c;
    return mono_ns();
}

void
bast__clock_start(struct bast__clock *c)
{
    c->tsc = invariant_tsc();
    c->ns_per_tick = 1.0;
    c->t0 = mono_ns();
    c->c0 = bast__ticks(c);
}

void
bast__clock_finish(struct bast__clock *c)
{
    if (!c->tsc)
        return;
    uint64_t t1, c1;
    /* calibrate over at least 2 ms: loading usually took longer */
    do {
        t1 = mono_ns();
        c1 = bast__ticks(c);
    } while (t1 - c->t0 < 2000000u);
    if (c1 <= c->c0) {
        c->tsc = 0; /* not monotonic here: fall back */
        return;
    }
    c->ns_per_tick = (double)(t1 - c->t0) / (double)(c1 - c->c0);
}

long
bast__ticks_us(const struct bast__clock *c, uint64_t from, uint64_t to)
{
    if (to <= from)
        return 0;
    return (long)((double)(to - from) * c->ns_per_tick / 1000.0);
}
