/*
 * Tests of the block cache: hits and misses, the byte budget, LRU order,
 * pinned blocks under eviction, a budget of zero, racing puts of one
 * block, and threads hammering get/put/release (run under the
 * sanitizers to catch races, leaks and use after free).
 */
#include "lsm_cache.h"

#include "test.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* 32 KiB is one shard: eviction order is exact LRU, easy to predict. */
#define ONE_SHARD (32u * 1024)
#define BLK	  4000

/* A block whose bytes depend on (sst, off), so a mixed-up block shows. */
static uint8_t *block_new(uint64_t sst, uint64_t off, size_t len)
{
	uint8_t *b = malloc(len);

	if (b == NULL)
		abort();
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(sst * 31 + off * 7 + i);
	return b;
}

static int block_ok(const struct lsm_cblock *b, uint64_t sst, uint64_t off,
		    size_t len)
{
	if (b == NULL || b->len != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (b->data[i] != (uint8_t)(sst * 31 + off * 7 + i))
			return 0;
	return 1;
}

static struct lsm_block_cache *cache_new(size_t budget)
{
	struct lsm_block_cache *c = NULL;

	if (lsm_block_cache_new(budget, &c) < 0)
		abort();
	return c;
}

/* Puts a block and releases it at once. */
static void put_unpinned(struct lsm_block_cache *c, uint64_t sst, uint64_t off)
{
	const struct lsm_cblock *b =
	    lsm_block_cache_put(c, sst, off, block_new(sst, off, BLK), BLK);

	if (b == NULL)
		abort();
	lsm_block_cache_release(c, b);
}

/* 1 if (sst, off) is cached; leaves nothing pinned. */
static int cached(struct lsm_block_cache *c, uint64_t sst, uint64_t off)
{
	const struct lsm_cblock *b = lsm_block_cache_get(c, sst, off);
	int ok = block_ok(b, sst, off, BLK);

	lsm_block_cache_release(c, b);
	return ok;
}

TEST(get_after_put_returns_the_same_bytes)
{
	struct lsm_block_cache *c = cache_new(1 << 20);
	struct lsm_cache_stats st;
	const struct lsm_cblock *b;

	put_unpinned(c, 7, 4096);
	b = lsm_block_cache_get(c, 7, 4096);
	CHECK(block_ok(b, 7, 4096, BLK));
	lsm_block_cache_release(c, b);
	lsm_block_cache_stats(c, &st);
	CHECK_EQ(st.hits, 1);
	CHECK_EQ(st.misses, 0);
	CHECK_EQ(st.entries, 1);
	CHECK(st.bytes >= BLK);
	lsm_block_cache_free(c);
}

TEST(get_misses_for_another_offset_or_another_sst)
{
	struct lsm_block_cache *c = cache_new(1 << 20);
	struct lsm_cache_stats st;

	put_unpinned(c, 7, 4096);
	CHECK(lsm_block_cache_get(c, 7, 0) == NULL);
	CHECK(lsm_block_cache_get(c, 8, 4096) == NULL);
	CHECK(lsm_block_cache_get(c, 4096, 7) == NULL);
	lsm_block_cache_stats(c, &st);
	CHECK_EQ(st.misses, 3);
	CHECK_EQ(st.hits, 0);
	lsm_block_cache_free(c);
}

TEST(a_second_put_of_a_cached_block_returns_the_cached_one)
{
	struct lsm_block_cache *c = cache_new(1 << 20);
	const struct lsm_cblock *a, *b;
	struct lsm_cache_stats st;

	a = lsm_block_cache_put(c, 1, 0, block_new(1, 0, BLK), BLK);
	b = lsm_block_cache_put(c, 1, 0, block_new(9, 9, BLK), BLK);
	CHECK(a == b);
	CHECK(block_ok(b, 1, 0, BLK));
	lsm_block_cache_stats(c, &st);
	CHECK_EQ(st.entries, 1);
	lsm_block_cache_release(c, a);
	lsm_block_cache_release(c, b);
	lsm_block_cache_free(c);
}

TEST(bytes_never_exceed_the_budget_after_puts_of_unpinned_blocks)
{
	size_t budget = 256 * 1024;
	struct lsm_block_cache *c = cache_new(budget);
	struct lsm_cache_stats st;
	int over = 0;

	for (uint64_t i = 0; i < 500; i++) {
		put_unpinned(c, i % 13, i * 4096);
		lsm_block_cache_stats(c, &st);
		over += st.bytes > budget;
	}
	CHECK_EQ(over, 0);
	CHECK(st.evictions > 0);
	/* Sharding leaves some slack, but most of the budget is used. */
	CHECK(st.bytes > budget / 2);
	CHECK_EQ(st.entries + st.evictions, 500);
	lsm_block_cache_free(c);
}

TEST(a_recently_used_block_survives_while_older_ones_are_evicted)
{
	struct lsm_block_cache *c = cache_new(ONE_SHARD);
	int n = 0;

	/* Fill the cache exactly: one more block would not fit. */
	for (; n < 64; n++) {
		struct lsm_cache_stats st;

		put_unpinned(c, 1, (uint64_t)n);
		lsm_block_cache_stats(c, &st);
		if (st.evictions > 0)
			break;
	}
	CHECK(n > 2);
	CHECK(!cached(c, 1, 0));
	/* Block 1 is now the oldest; touching it makes 2 the oldest. */
	CHECK(cached(c, 1, 1));
	put_unpinned(c, 1, 100);
	CHECK(cached(c, 1, 1));
	CHECK(!cached(c, 1, 2));
	CHECK(cached(c, 1, 3));
	CHECK(cached(c, 1, 100));
	lsm_block_cache_free(c);
}

TEST(a_pinned_block_is_not_evicted_and_stays_readable_until_released)
{
	struct lsm_block_cache *c = cache_new(ONE_SHARD);
	const struct lsm_cblock *p, *again;
	struct lsm_cache_stats st;

	p = lsm_block_cache_put(c, 5, 5, block_new(5, 5, BLK), BLK);
	for (uint64_t i = 0; i < 100; i++)
		put_unpinned(c, 6, i);
	CHECK(block_ok(p, 5, 5, BLK));
	again = lsm_block_cache_get(c, 5, 5);
	CHECK(again == p);
	lsm_block_cache_release(c, again);
	lsm_block_cache_stats(c, &st);
	CHECK(st.bytes <= ONE_SHARD);
	CHECK(st.evictions >= 90);
	lsm_block_cache_release(c, p);
	/* Unpinned now, it is the most recent entry: others go first. */
	put_unpinned(c, 6, 1000);
	CHECK(cached(c, 5, 5));
	lsm_block_cache_free(c);
}

TEST(releasing_the_last_pins_brings_the_cache_back_within_budget)
{
	struct lsm_block_cache *c = cache_new(ONE_SHARD);
	const struct lsm_cblock *p[20];
	struct lsm_cache_stats st;

	for (int i = 0; i < 20; i++)
		p[i] = lsm_block_cache_put(c, 2, (uint64_t)i,
					   block_new(2, (uint64_t)i, BLK), BLK);
	lsm_block_cache_stats(c, &st);
	CHECK(st.bytes > ONE_SHARD); /* pinned blocks are never dropped */
	for (int i = 0; i < 20; i++) {
		CHECK(block_ok(p[i], 2, (uint64_t)i, BLK));
		lsm_block_cache_release(c, p[i]);
	}
	lsm_block_cache_stats(c, &st);
	CHECK(st.bytes <= ONE_SHARD);
	CHECK(st.entries > 0);
	CHECK(cached(c, 2, 19));
	lsm_block_cache_free(c);
}

TEST(a_zero_budget_hands_blocks_back_but_keeps_none)
{
	struct lsm_block_cache *c = cache_new(0);
	const struct lsm_cblock *b;
	struct lsm_cache_stats st;

	b = lsm_block_cache_put(c, 3, 0, block_new(3, 0, BLK), BLK);
	CHECK(block_ok(b, 3, 0, BLK));
	CHECK(lsm_block_cache_get(c, 3, 0) == NULL);
	lsm_block_cache_stats(c, &st);
	CHECK_EQ(st.bytes, 0);
	CHECK_EQ(st.entries, 0);
	lsm_block_cache_release(c, b);
	lsm_block_cache_free(c);
}

TEST(a_block_larger_than_the_budget_is_handed_back_but_not_kept)
{
	struct lsm_block_cache *c = cache_new(ONE_SHARD);
	size_t big = ONE_SHARD + 1;
	const struct lsm_cblock *b;
	struct lsm_cache_stats st;

	put_unpinned(c, 4, 1);
	b = lsm_block_cache_put(c, 4, 0, block_new(4, 0, big), big);
	CHECK(block_ok(b, 4, 0, big));
	lsm_block_cache_release(c, b);
	CHECK(lsm_block_cache_get(c, 4, 0) == NULL);
	CHECK(cached(c, 4, 1)); /* nothing was evicted for it */
	lsm_block_cache_stats(c, &st);
	CHECK_EQ(st.evictions, 0);
	lsm_block_cache_free(c);
}

struct race {
	struct lsm_block_cache *c;
	pthread_barrier_t *start;
	uint64_t off;
	const struct lsm_cblock *got;
};

static void *race_put_cb(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(r->start);
	r->got = lsm_block_cache_put(r->c, 9, r->off, block_new(9, r->off, BLK),
				     BLK);
	return NULL;
}

TEST(racing_puts_of_one_block_all_get_the_same_block)
{
	enum { THREADS = 8, ROUNDS = 50 };
	struct lsm_block_cache *c = cache_new(8 << 20);
	pthread_barrier_t start;
	struct lsm_cache_stats st;
	int differ = 0;

	pthread_barrier_init(&start, NULL, THREADS);
	for (uint64_t round = 0; round < ROUNDS; round++) {
		struct race r[THREADS];
		pthread_t t[THREADS];

		for (int i = 0; i < THREADS; i++) {
			r[i] = (struct race){ c, &start, round, NULL };
			pthread_create(&t[i], NULL, race_put_cb, &r[i]);
		}
		for (int i = 0; i < THREADS; i++)
			pthread_join(t[i], NULL);
		for (int i = 0; i < THREADS; i++) {
			differ += r[i].got != r[0].got;
			CHECK(block_ok(r[i].got, 9, round, BLK));
			lsm_block_cache_release(c, r[i].got);
		}
	}
	CHECK_EQ(differ, 0);
	lsm_block_cache_stats(c, &st);
	CHECK_EQ(st.entries, ROUNDS);
	pthread_barrier_destroy(&start);
	lsm_block_cache_free(c);
}

struct hammer {
	struct lsm_block_cache *c;
	uint64_t seed;
	uint64_t gets, bad;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One step: get (or put on a miss) a random block, sometimes holding a
 * second one pinned across the next step, and check its bytes. */
static void hammer_step(struct hammer *h, const struct lsm_cblock **held)
{
	uint64_t sst, off;
	const struct lsm_cblock *b;

	h->seed = h->seed * 6364136223846793005ULL + 1442695040888963407ULL;
	sst = (h->seed >> 33) % 8;
	off = ((h->seed >> 40) % 64) * 4096;
	b = lsm_block_cache_get(h->c, sst, off);
	h->gets++;
	if (b == NULL)
		b = lsm_block_cache_put(h->c, sst, off,
					block_new(sst, off, 1000), 1000);
	h->bad += !block_ok(b, sst, off, 1000);
	if ((h->seed >> 20) % 4 == 0) {
		lsm_block_cache_release(h->c, *held);
		*held = b;
	} else {
		lsm_block_cache_release(h->c, b);
	}
}

static void *hammer_cb(void *arg)
{
	struct hammer *h = arg;
	const struct lsm_cblock *held = NULL;
	double end = now_s() + 2.0;

	for (int i = 0; i < 50000000; i++) {
		if (i % 1024 == 0 && now_s() > end)
			break;
		hammer_step(h, &held);
	}
	lsm_block_cache_release(h->c, held);
	return NULL;
}

TEST(threads_hammering_get_put_release_see_only_their_own_bytes)
{
	enum { THREADS = 4 };
	/* 512 blocks of ~1 KiB contend for a quarter of that room. */
	size_t budget = 128 * 1024;
	struct lsm_block_cache *c = cache_new(budget);
	struct hammer h[THREADS];
	pthread_t t[THREADS];
	struct lsm_cache_stats st;
	uint64_t gets = 0, bad = 0;

	for (int i = 0; i < THREADS; i++) {
		h[i] = (struct hammer){ c, (uint64_t)i * 7919 + 1, 0, 0 };
		pthread_create(&t[i], NULL, hammer_cb, &h[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		gets += h[i].gets;
		bad += h[i].bad;
	}
	lsm_block_cache_stats(c, &st);
	CHECK_EQ(bad, 0);
	CHECK(gets > 1000);
	CHECK_EQ(st.hits + st.misses, gets);
	CHECK(st.hits > 0);
	CHECK(st.evictions > 0);
	CHECK(st.bytes <= budget);
	lsm_block_cache_free(c);
}

TEST_MAIN(get_after_put_returns_the_same_bytes,
	  get_misses_for_another_offset_or_another_sst,
	  a_second_put_of_a_cached_block_returns_the_cached_one,
	  bytes_never_exceed_the_budget_after_puts_of_unpinned_blocks,
	  a_recently_used_block_survives_while_older_ones_are_evicted,
	  a_pinned_block_is_not_evicted_and_stays_readable_until_released,
	  releasing_the_last_pins_brings_the_cache_back_within_budget,
	  a_zero_budget_hands_blocks_back_but_keeps_none,
	  a_block_larger_than_the_budget_is_handed_back_but_not_kept,
	  racing_puts_of_one_block_all_get_the_same_block,
	  threads_hammering_get_put_release_see_only_their_own_bytes)
