/*
 * engine.c - the stack walker: a state machine with no I/O that follows
 * libpam's _pam_dispatch_aux (see shared/PAM-STACKING.md).  It walks the
 * flattened handler list with an impression (undef/positive/negative) and
 * a status that starts as "perm denied" (0 here), saves the pair when it
 * enters a substack level (what `reset` restores), lets `done`/`die`
 * leave the current level, counts a nested substack as one entry when
 * jumping, turns a jump past the end of its level into a negative "perm
 * denied", and ends with libpam's sanity check.  Running a module is the
 * caller's callback, so the walker can be tested alone.
 */
#include "bast_int.h"

#include <stdint.h>

enum { UNDEF = 0, POSITIVE = 1, NEGATIVE = -1 };

bast_action
bast__action_for(const struct bast_instance *inst, int res)
{
    if (res <= 0 || res >= BAST_RES__COUNT)
        return BAST_ACT_BAD;
    return inst->actions[res];
}

void
bast__stack_walk(const struct bast__handler *h, size_t n, bast__run_fn run,
                 void *ud, bast__walk *out)
{
    int impression = UNDEF, status = 0;
    size_t status_idx = SIZE_MAX;
    struct {
        int impression, status;
        size_t idx;
    } saved[BAST_MAX_DEPTH + 2];
    int prev_level = 0;

    saved[0].impression = UNDEF;
    saved[0].status = 0;
    saved[0].idx = SIZE_MAX;

    for (size_t i = 0; i < n; i++) {
        int level = h[i].level;
        if (prev_level < level) {
            saved[level].impression = impression;
            saved[level].status = status;
            saved[level].idx = status_idx;
        }
        prev_level = level;
        if (h[i].inst == NULL)
            continue; /* substack marker */

        int rv = run(ud, i);
        bast_action action;
        if (rv <= 0 || rv >= BAST_RES__COUNT) {
            rv = BAST_RES_UNAVAILABLE; /* out of range: fail closed */
            action = BAST_ACT_BAD;
        } else {
            action = h[i].inst->actions[rv];
        }

        int leave = 0;
        switch (action) {
        case BAST_ACT_RESET:
            impression = saved[level].impression;
            status = saved[level].status;
            status_idx = saved[level].idx;
            break;
        case BAST_ACT_OK:
        case BAST_ACT_DONE:
            if (impression == UNDEF ||
                (impression == POSITIVE && status == BAST_RES_SUCCESS)) {
                impression = POSITIVE;
                status = rv;
                status_idx = i;
            }
            if (impression == POSITIVE && action == BAST_ACT_DONE)
                leave = 1;
            break;
        case BAST_ACT_BAD:
        case BAST_ACT_DIE:
            if (impression != NEGATIVE) {
                impression = NEGATIVE;
                if (rv == BAST_RES_IGNORE) {
                    status = 0;
                    status_idx = SIZE_MAX;
                } else {
                    status = rv;
                    status_idx = i;
                }
            }
            if (action == BAST_ACT_DIE)
                leave = 1;
            break;
        case BAST_ACT_IGNORE:
            break;
        default: {
            /* jump: skip `action` entries at this level; an entry's
             * deeper lines (a substack) go with it */
            int left = action;
            while (i + 1 < n && h[i + 1].level >= level && left > 0) {
                do {
                    i++;
                } while (i + 1 < n && h[i + 1].level > level);
                left--;
            }
            if (left) {
                impression = NEGATIVE; /* bad jump, whatever came before */
                status = 0;
                status_idx = SIZE_MAX;
            }
            break;
        }
        }
        if (leave)
            while (i + 1 < n && h[i + 1].level >= level)
                i++;
    }
    if (status == BAST_RES_SUCCESS && impression != POSITIVE) {
        status = 0;
        status_idx = SIZE_MAX;
    }
    out->raw = status;
    out->positive = impression == POSITIVE;
    out->status_idx = status_idx;
}
