/*
 * replay.h - the replay store behind bast_replay_check(): "remember this
 * id for ttl seconds; tell me if it was already there".  One store per
 * context, chosen by `replay = memory | redis://host:port/db` in bast.conf
 * (default memory).  Core-internal; plugins use bast_replay_check().
 */
#ifndef BAST_REPLAY_H
#define BAST_REPLAY_H

#include <stddef.h>
#include <stdint.h>

typedef struct bast_replay bast_replay;

/* Open a store from its spec; NULL spec means "memory".  Returns 0, or
 * -1 with a one-line message in err (the caller prefixes file:line). */
int bast__replay_open(bast_replay **out, const char *spec, char *err,
                      size_t errlen);
/* BAST_REPLAY_FRESH, BAST_REPLAY_SEEN or BAST_REPLAY_UNAVAILABLE.
 * Thread-safe.  `now` is the request's instant (honours --now). */
int bast__replay_check(bast_replay *rs, const void *key, size_t keylen,
                       unsigned ttl_seconds, int64_t now);
/* Is the id there?  Like check, but never remembers it: FRESH when it is
 * not there, SEEN when it is (a revocation list reads this way). */
int bast__replay_peek(bast_replay *rs, const void *key, size_t keylen,
                      int64_t now);
void bast__replay_close(bast_replay *rs);

#endif
