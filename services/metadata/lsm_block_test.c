/*
 * Tests of SST blocks: round trips of many keys with long shared
 * prefixes at several restart intervals, seeks to every key and between
 * keys, the empty block, and damaged blocks (truncated, flipped bytes, a
 * bad restart array) that must give -EIO and never a read outside the
 * block (each damaged block sits in a buffer of exactly its size, so
 * AddressSanitizer catches any stray read).
 */
#include "lsm_block.h"

#include "test.h"

#include <errno.h>
#include <stdio.h>

#define PREFIX "inode/0000000000000042/directory-entries/some-long-name-"

/* Internal key i of a test block: the user key of i / 3, three versions
 * each (seq 300 - i % 3), newest first. */
static size_t ikey_of(uint8_t *buf, int i)
{
	char u[128];
	int n = snprintf(u, sizeof(u), PREFIX "%06d", i / 3);

	return lsm_ikey_make(buf, u, (size_t)n, (uint64_t)(300 - i % 3),
			     i % 3 == 2 ? LSM_KIND_DEL : LSM_KIND_PUT);
}

static size_t val_of(char *buf, int i)
{
	return (size_t)snprintf(buf, 64, "value-%d", i * 7);
}

/* A malloc'd copy of a block of n keys, exactly its size. */
static uint8_t *block_build(int n, uint32_t interval, size_t *len)
{
	struct lsm_block_builder b;
	const uint8_t *out;
	uint8_t k[256], *copy;
	char v[64];

	lsm_block_builder_init(&b, interval);
	for (int i = 0; i < n; i++)
		if (lsm_block_builder_add(&b, k, ikey_of(k, i), v,
					  val_of(v, i)) != 0)
			abort();
	if (lsm_block_builder_finish(&b, &out, len) != 0)
		abort();
	copy = malloc(*len ? *len : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, out, *len);
	lsm_block_builder_fini(&b);
	return copy;
}

/* Walks the whole block; returns the number of entries that match ikey_of
 * and val_of in order, or -1 at the first mismatch. */
static int block_walk(struct lsm_iter *it)
{
	uint8_t k[256];
	char v[64];
	int i = 0;

	for (lsm_iter_first(it); lsm_iter_valid(it); lsm_iter_next(it), i++) {
		size_t kn, vn, wk = ikey_of(k, i), wv = val_of(v, i);
		const uint8_t *key = lsm_iter_key(it, &kn);
		const uint8_t *val = lsm_iter_value(it, &vn);

		if (kn != wk || memcmp(key, k, kn) != 0 || vn != wv ||
		    memcmp(val, v, vn) != 0)
			return -1;
	}
	return i;
}

static void round_trip(int n, uint32_t interval)
{
	size_t len = 0;
	uint8_t *blk = block_build(n, interval, &len);
	struct lsm_iter *it = lsm_block_iter_new(blk, len);

	CHECK_EQ(block_walk(it), n);
	CHECK_EQ(lsm_iter_status(it), 0);
	lsm_iter_free(it);
	free(blk);
}

TEST(many_keys_with_long_shared_prefixes_round_trip)
{
	round_trip(3000, 16);
}

TEST(every_restart_interval_round_trips)
{
	round_trip(500, 1);
	round_trip(500, 2);
	round_trip(500, 7);
	round_trip(500, 1000);
	round_trip(1, 16);
}

TEST(prefix_compression_makes_shared_prefixes_cheap)
{
	size_t len = 0;
	uint8_t *blk = block_build(1600, 16, &len);

	/* Keys are 71 bytes; stored, most cost a few bytes plus the value. */
	CHECK(len < 1600 * 30);
	free(blk);
}

TEST(seek_to_every_key_lands_on_it)
{
	size_t len = 0;
	uint8_t *blk = block_build(1000, 16, &len), k[256];
	struct lsm_iter *it = lsm_block_iter_new(blk, len);
	int bad = 0;

	for (int i = 0; i < 1000; i++) {
		size_t n = ikey_of(k, i), kn;
		const uint8_t *key;

		lsm_iter_seek(it, k, n);
		key = lsm_iter_valid(it) ? lsm_iter_key(it, &kn) : NULL;
		bad += key == NULL || kn != n || memcmp(key, k, n) != 0;
	}
	CHECK_EQ(bad, 0);
	lsm_iter_free(it);
	free(blk);
}

TEST(seek_between_keys_lands_on_the_next_one)
{
	size_t len = 0;
	uint8_t *blk = block_build(999, 16, &len), k[256], w[256];
	struct lsm_iter *it = lsm_block_iter_new(blk, len);
	int bad = 0;

	/* Between version seq 300 and 299 of each user key; then a user key
	 * that sorts after the whole block. */
	for (int i = 0; i + 1 < 999; i += 3) {
		size_t n = ikey_of(k, i), wn = ikey_of(w, i + 1), kn;
		const uint8_t *key;

		lsm_put_u64(k + n - 8, lsm_trailer(299, 0xff));
		lsm_iter_seek(it, k, n);
		key = lsm_iter_valid(it) ? lsm_iter_key(it, &kn) : NULL;
		bad += key == NULL || kn != wn || memcmp(key, w, wn) != 0;
	}
	CHECK_EQ(bad, 0);
	lsm_iter_seek(it, (const uint8_t *)"zzzzzzzzzz", 10);
	CHECK_EQ(lsm_iter_valid(it), 0);
	CHECK_EQ(lsm_iter_status(it), 0);
	lsm_iter_seek(it, (const uint8_t *)"\0\0\0\0\0\0\0\0", 8);
	CHECK_EQ(lsm_iter_valid(it), 1);
	lsm_iter_free(it);
	free(blk);
}

TEST(an_empty_block_is_four_bytes_and_holds_nothing)
{
	size_t len = 0;
	uint8_t *blk = block_build(0, 16, &len), k[256];
	struct lsm_iter *it = lsm_block_iter_new(blk, len);

	CHECK_EQ(len, 4);
	lsm_iter_first(it);
	CHECK_EQ(lsm_iter_valid(it), 0);
	lsm_iter_seek(it, k, ikey_of(k, 0));
	CHECK_EQ(lsm_iter_valid(it), 0);
	CHECK_EQ(lsm_iter_status(it), 0);
	lsm_iter_free(it);
	free(blk);
}

/* Runs every read on a block of len bytes (copied to a buffer of exactly
 * that size); returns the final status. */
static int block_damaged_read(const uint8_t *src, size_t len, int nkeys)
{
	uint8_t *blk = malloc(len ? len : 1), k[256];
	struct lsm_iter *it;
	int st;

	memcpy(blk, src, len);
	it = lsm_block_iter_new(blk, len);
	block_walk(it);
	st = lsm_iter_status(it);
	for (int i = 0; i < nkeys && st == 0; i += 5) {
		lsm_iter_seek(it, k, ikey_of(k, i));
		st = lsm_iter_status(it);
	}
	lsm_iter_free(it);
	free(blk);
	return st;
}

TEST(every_truncation_of_a_block_gives_eio)
{
	size_t len = 0;
	uint8_t *blk = block_build(200, 16, &len);
	int ok = 0;

	for (size_t n = 0; n < len; n++)
		ok += block_damaged_read(blk, n, 200) != -EIO;
	CHECK_EQ(ok, 0);
	free(blk);
}

TEST(flipped_bytes_in_the_restart_array_give_eio)
{
	size_t len = 0;
	uint8_t *blk = block_build(200, 16, &len);
	size_t start = len - 4 - 4 * 13; /* 200 keys: 13 restarts */
	int ok = 0;

	CHECK_EQ(blk[len - 4], 13);
	for (size_t i = start; i < len; i++) {
		blk[i] ^= 0xff;
		ok += block_damaged_read(blk, len, 200) != -EIO;
		blk[i] ^= 0xff;
	}
	CHECK_EQ(ok, 0);
	free(blk);
}

TEST(flipped_bytes_anywhere_never_read_outside_the_block)
{
	size_t len = 0;
	uint8_t *blk = block_build(100, 16, &len);
	int eio = 0, other = 0;

	for (size_t i = 0; i < len; i++)
		for (int mask = 1; mask < 256; mask <<= 1) {
			int st;

			blk[i] ^= (uint8_t)mask;
			st = block_damaged_read(blk, len, 100);
			eio += st == -EIO;
			other += st != 0 && st != -EIO;
			blk[i] ^= (uint8_t)mask;
		}
	/* Flips inside keys or values can yield another well-formed block
	 * (the SST's CRC catches those); the structure checks catch many. */
	fprintf(stderr, "  %d of %zu bit flips detected by the block alone\n",
		eio, len * 8);
	CHECK(eio > 0);
	CHECK_EQ(other, 0);
	free(blk);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

TEST(a_restart_count_too_large_for_the_block_gives_eio)
{
	size_t len = 0;
	uint8_t *blk = block_build(50, 16, &len);

	put32(blk + len - 4, (uint32_t)len);
	CHECK_EQ(block_damaged_read(blk, len, 50), -EIO);
	put32(blk + len - 4, UINT32_MAX);
	CHECK_EQ(block_damaged_read(blk, len, 50), -EIO);
	put32(blk + len - 4, 0);
	CHECK_EQ(block_damaged_read(blk, len, 50), -EIO);
	free(blk);
}

TEST(a_restart_point_inside_an_entry_gives_eio)
{
	size_t len = 0;
	uint8_t *blk = block_build(50, 16, &len);
	size_t r1 = len - 4 - 4 * 4 + 4; /* the second of 4 restarts */
	uint32_t v = (uint32_t)blk[r1] | (uint32_t)blk[r1 + 1] << 8;

	put32(blk + r1, v + 1);
	CHECK_EQ(block_damaged_read(blk, len, 50), -EIO);
	free(blk);
}

TEST(a_seek_key_shorter_than_a_trailer_is_invalid)
{
	size_t len = 0;
	uint8_t *blk = block_build(10, 16, &len);
	struct lsm_iter *it = lsm_block_iter_new(blk, len);

	lsm_iter_seek(it, (const uint8_t *)"abc", 3);
	CHECK_EQ(lsm_iter_valid(it), 0);
	CHECK_EQ(lsm_iter_status(it), -EINVAL);
	lsm_iter_free(it);
	free(blk);
}

TEST(the_builder_refuses_keys_without_a_trailer_or_too_long)
{
	struct lsm_block_builder b;
	static uint8_t big[LSM_BLOCK_KEY_MAX + 1];

	lsm_block_builder_init(&b, 16);
	CHECK_EQ(lsm_block_builder_add(&b, big, 7, "v", 1), -EINVAL);
	CHECK_EQ(lsm_block_builder_add(&b, big, sizeof(big), "v", 1), -EINVAL);
	CHECK_EQ(lsm_block_builder_add(&b, big, sizeof(big) - 1, "v", 1), 0);
	lsm_block_builder_fini(&b);
}

TEST(varints_round_trip_and_overlong_ones_are_refused)
{
	static const uint64_t vals[] = { 0,   1,	  127,	     128,
					 300, UINT32_MAX, UINT64_MAX };
	uint8_t bad[11];
	const uint8_t *p;
	uint64_t v;

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		struct wire_out w = { 0 };

		lsm_varint_put(&w, vals[i]);
		p = w.p;
		CHECK_EQ(lsm_varint_get(&p, w.p + w.len, &v), 0);
		CHECK(v == vals[i] && p == w.p + w.len);
		p = w.p;
		CHECK_EQ(lsm_varint_get(&p, w.p + w.len - 1, &v), -EIO);
		wire_out_free(&w);
	}
	memset(bad, 0xff, sizeof(bad));
	p = bad;
	CHECK_EQ(lsm_varint_get(&p, bad + sizeof(bad), &v), -EIO);
	bad[9] = 0x02; /* a 65th bit */
	p = bad;
	CHECK_EQ(lsm_varint_get(&p, bad + sizeof(bad), &v), -EIO);
}

TEST_MAIN(many_keys_with_long_shared_prefixes_round_trip,
	  every_restart_interval_round_trips,
	  prefix_compression_makes_shared_prefixes_cheap,
	  seek_to_every_key_lands_on_it,
	  seek_between_keys_lands_on_the_next_one,
	  an_empty_block_is_four_bytes_and_holds_nothing,
	  every_truncation_of_a_block_gives_eio,
	  flipped_bytes_in_the_restart_array_give_eio,
	  flipped_bytes_anywhere_never_read_outside_the_block,
	  a_restart_count_too_large_for_the_block_gives_eio,
	  a_restart_point_inside_an_entry_gives_eio,
	  a_seek_key_shorter_than_a_trailer_is_invalid,
	  the_builder_refuses_keys_without_a_trailer_or_too_long,
	  varints_round_trip_and_overlong_ones_are_refused)
