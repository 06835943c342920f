/*
 * A fault-injecting object store for tests: it wraps a real backend and
 * makes a seeded fraction of requests fail or hang.  It sits beside the
 * real stores (every test that uses it also passes against them plain);
 * it never stands in for one.
 *
 * Faults, each drawn per request from a seeded generator so a failing
 * run replays:
 *   fail_rate:   the request is not sent; it returns -EIO.
 *   lost_rate:   a put or delete is applied, then -EIO is returned, as
 *                when a reply is lost after the store acted on it.
 *   delay_rate:  the request is held delay_ms first (a slow or timed-out
 *                request; with timeout set it then fails with
 *                -ETIMEDOUT instead of being sent).
 */
#ifndef ZEROFS_OBJSTORE_FLAKY_H
#define ZEROFS_OBJSTORE_FLAKY_H

#include "objstore.h"

#include <stdint.h>

struct objstore_flaky_opts {
	double fail_rate;
	double lost_rate;
	double delay_rate;
	uint32_t delay_ms;
	int timeout;
	uint64_t seed;
};

/* Wraps inner (which stays the caller's: close the wrapper first, then
 * inner).  -ENOMEM. */
int objstore_flaky_new(struct objstore *inner,
		       const struct objstore_flaky_opts *o,
		       struct objstore **out);

/* Changes the rates while running (to heal the store, say). */
void objstore_flaky_set(struct objstore *os,
			const struct objstore_flaky_opts *o);

struct objstore_flaky_stats {
	uint64_t calls, failed, lost, delayed;
};

void objstore_flaky_stats(struct objstore *os, struct objstore_flaky_stats *st);

#endif
