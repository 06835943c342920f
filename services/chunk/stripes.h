/*
 * A striped table of mutexes keyed by (inode, chunk index).  Writers and
 * truncation lock the stripes of the chunks they touch, always in
 * ascending stripe order, so two of them never deadlock, and hold them
 * until their metadata commit returns.
 */
#ifndef ZEROFS_CHUNK_STRIPES_H
#define ZEROFS_CHUNK_STRIPES_H

#include <pthread.h>
#include <stdint.h>

#define STRIPES_COUNT 1024u

struct stripes {
	pthread_mutex_t mu[STRIPES_COUNT];
};

/* The stripes one call holds, as a bitmap. */
struct stripe_set {
	uint64_t bits[STRIPES_COUNT / 64];
};

void stripes_init(struct stripes *st);
void stripes_fini(struct stripes *st);

/* Adds the stripes of chunks [first, first + count) of ino to set. */
void stripe_set_add(struct stripe_set *set, uint64_t ino, uint64_t first,
		    uint64_t count);

void stripes_lock(struct stripes *st, const struct stripe_set *set);
void stripes_unlock(struct stripes *st, const struct stripe_set *set);

#endif
