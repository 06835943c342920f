/*
 * Striped chunk locks.  A set is a bitmap, so locking it in ascending
 * order and without duplicates is a walk over its bits.
 */
#include "chunk/stripes.h"

#include <string.h>

void stripes_init(struct stripes *st)
{
	for (unsigned i = 0; i < STRIPES_COUNT; i++)
		pthread_mutex_init(&st->mu[i], NULL);
}

void stripes_fini(struct stripes *st)
{
	for (unsigned i = 0; i < STRIPES_COUNT; i++)
		pthread_mutex_destroy(&st->mu[i]);
}

static unsigned stripe_of(uint64_t ino, uint64_t index)
{
	uint64_t h = (ino * 0x9E3779B97F4A7C15ull) ^ index;

	h ^= h >> 31;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 27;
	return (unsigned)(h % STRIPES_COUNT);
}

void stripe_set_add(struct stripe_set *set, uint64_t ino, uint64_t first,
		    uint64_t count)
{
	if (count >= STRIPES_COUNT) {
		memset(set->bits, 0xFF, sizeof(set->bits));
		return;
	}
	for (uint64_t i = 0; i < count; i++) {
		unsigned s = stripe_of(ino, first + i);

		set->bits[s / 64] |= 1ull << (s % 64);
	}
}

void stripes_lock(struct stripes *st, const struct stripe_set *set)
{
	for (unsigned s = 0; s < STRIPES_COUNT; s++)
		if (set->bits[s / 64] & (1ull << (s % 64)))
			pthread_mutex_lock(&st->mu[s]);
}

void stripes_unlock(struct stripes *st, const struct stripe_set *set)
{
	for (unsigned s = STRIPES_COUNT; s-- > 0;)
		if (set->bits[s / 64] & (1ull << (s % 64)))
			pthread_mutex_unlock(&st->mu[s]);
}
