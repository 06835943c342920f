/*
 * Unit tests of the chunk cache: hits, misses on another frame, eviction
 * in least-recently-used order, and invalidation.
 */
#include "chunk/cache.h"

#include "test.h"

#include <errno.h>
#include <string.h>

static struct cache_key key_of(uint64_t ino, uint64_t index, uint64_t seg)
{
	struct cache_key k = { ino, index, seg, 0 };

	return k;
}

TEST(a_put_chunk_is_found_again)
{
	struct cache *c = cache_new(1024);
	struct cache_key k = key_of(1, 2, 3);
	char buf[16];
	uint32_t len = 0;

	CHECK_EQ(cache_put(c, &k, "payload", 7), 0);
	CHECK_EQ(cache_get(c, &k, buf, sizeof(buf), &len), 0);
	CHECK_EQ(len, 7);
	CHECK(memcmp(buf, "payload", 7) == 0);
	cache_free(c);
}

TEST(a_lookup_for_another_frame_of_the_chunk_misses)
{
	struct cache *c = cache_new(1024);
	struct cache_key k = key_of(1, 2, 3), other = key_of(1, 2, 4);
	char buf[16];
	uint32_t len;

	cache_put(c, &k, "old", 3);
	CHECK_EQ(cache_get(c, &other, buf, sizeof(buf), &len), -ENOENT);
	cache_free(c);
}

TEST(the_least_recently_used_chunk_goes_first)
{
	struct cache *c = cache_new(30);
	struct cache_key a = key_of(1, 0, 1), b = key_of(1, 1, 1),
			 d = key_of(1, 2, 1);
	char buf[16];
	uint32_t len;

	cache_put(c, &a, "aaaaaaaaaa", 10);
	cache_put(c, &b, "bbbbbbbbbb", 10);
	cache_get(c, &a, buf, sizeof(buf), &len); /* b is now oldest */
	cache_put(c, &d, "dddddddddddd", 12);
	CHECK_EQ(cache_get(c, &b, buf, sizeof(buf), &len), -ENOENT);
	CHECK_EQ(cache_get(c, &a, buf, sizeof(buf), &len), 0);
	CHECK_EQ(cache_get(c, &d, buf, sizeof(buf), &len), 0);
	CHECK(cache_bytes(c) <= 30);
	cache_free(c);
}

TEST(a_new_frame_of_a_chunk_replaces_the_old)
{
	struct cache *c = cache_new(1024);
	struct cache_key k1 = key_of(1, 2, 3), k2 = key_of(1, 2, 4);

	cache_put(c, &k1, "old", 3);
	cache_put(c, &k2, "newer", 5);
	CHECK_EQ(cache_entries(c), 1);
	CHECK_EQ(cache_bytes(c), 5);
	cache_free(c);
}

TEST(a_dropped_chunk_misses)
{
	struct cache *c = cache_new(1024);
	struct cache_key k = key_of(1, 2, 3);
	char buf[16];
	uint32_t len;

	cache_put(c, &k, "x", 1);
	cache_drop(c, 1, 2);
	CHECK_EQ(cache_get(c, &k, buf, sizeof(buf), &len), -ENOENT);
	CHECK_EQ(cache_bytes(c), 0);
	cache_free(c);
}

TEST(dropping_from_an_index_keeps_earlier_chunks_and_other_files)
{
	struct cache *c = cache_new(1024);
	struct cache_key k0 = key_of(1, 0, 1), k5 = key_of(1, 5, 1),
			 o5 = key_of(2, 5, 1);
	char buf[16];
	uint32_t len;

	cache_put(c, &k0, "a", 1);
	cache_put(c, &k5, "b", 1);
	cache_put(c, &o5, "c", 1);
	cache_drop_from(c, 1, 3);
	CHECK_EQ(cache_get(c, &k0, buf, sizeof(buf), &len), 0);
	CHECK_EQ(cache_get(c, &k5, buf, sizeof(buf), &len), -ENOENT);
	CHECK_EQ(cache_get(c, &o5, buf, sizeof(buf), &len), 0);
	cache_free(c);
}

TEST(a_chunk_larger_than_the_cache_is_not_kept)
{
	struct cache *c = cache_new(4);
	struct cache_key k = key_of(1, 2, 3);

	CHECK_EQ(cache_put(c, &k, "toolarge", 8), 0);
	CHECK_EQ(cache_entries(c), 0);
	cache_free(c);
}

TEST_MAIN(a_put_chunk_is_found_again,
	  a_lookup_for_another_frame_of_the_chunk_misses,
	  the_least_recently_used_chunk_goes_first,
	  a_new_frame_of_a_chunk_replaces_the_old, a_dropped_chunk_misses,
	  dropping_from_an_index_keeps_earlier_chunks_and_other_files,
	  a_chunk_larger_than_the_cache_is_not_kept)
