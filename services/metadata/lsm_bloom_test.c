/*
 * Tests of the bloom filter: no false negatives, a false-positive rate
 * near 1 % at 10 bits per key, a filter that carries its own k, and
 * filters that do not decode answering "may contain".
 */
#include "lsm_bloom.h"

#include "test.h"

#include <stdio.h>

#define NKEYS 100000

static size_t key_make(char *buf, size_t cap, const char *tag, int i)
{
	return (size_t)snprintf(buf, cap, "%s/dir/%08d", tag, i);
}

/* The filter of NKEYS keys "in/dir/N" at bpk bits per key. */
static uint8_t *filter_of_keys(uint32_t bpk, size_t *n)
{
	uint64_t *h = malloc(NKEYS * sizeof(*h));
	uint8_t *f = NULL;
	char k[64];

	if (h == NULL)
		abort();
	for (int i = 0; i < NKEYS; i++)
		h[i] = lsm_bloom_hash(k, key_make(k, sizeof(k), "in", i));
	if (lsm_bloom_build(h, NKEYS, bpk, &f, n) != 0)
		abort();
	free(h);
	return f;
}

/* Share of NKEYS absent keys the filter lets through. */
static double false_positive_rate(const uint8_t *f, size_t n)
{
	int fp = 0;
	char k[64];

	for (int i = 0; i < NKEYS; i++)
		fp += lsm_bloom_may_contain(
		    f, n, lsm_bloom_hash(k, key_make(k, sizeof(k), "out", i)));
	return (double)fp / NKEYS;
}

TEST(every_added_key_of_a_hundred_thousand_may_be_contained)
{
	size_t n = 0;
	uint8_t *f = filter_of_keys(10, &n);
	int missing = 0;
	char k[64];

	for (int i = 0; i < NKEYS; i++)
		missing += !lsm_bloom_may_contain(
		    f, n, lsm_bloom_hash(k, key_make(k, sizeof(k), "in", i)));
	CHECK_EQ(missing, 0);
	free(f);
}

TEST(ten_bits_per_key_give_about_one_percent_false_positives)
{
	size_t n = 0;
	uint8_t *f = filter_of_keys(10, &n);
	double r = false_positive_rate(f, n);

	fprintf(stderr, "  false positives at 10 bits/key: %.3f %%\n", r * 100);
	/* Theory: (1 - e^(-7/10))^7 = 0.82 %. */
	CHECK(r > 0.004 && r < 0.015);
	CHECK_EQ(n, NKEYS * 10 / 8 + 1);
	free(f);
}

TEST(more_bits_per_key_give_fewer_false_positives)
{
	size_t n6 = 0, n16 = 0;
	uint8_t *f6 = filter_of_keys(6, &n6), *f16 = filter_of_keys(16, &n16);
	double r6 = false_positive_rate(f6, n6);
	double r16 = false_positive_rate(f16, n16);

	fprintf(stderr, "  6 bits/key: %.3f %%, 16 bits/key: %.3f %%\n",
		r6 * 100, r16 * 100);
	CHECK(r6 > 0.03 && r6 < 0.08);
	CHECK(r16 < 0.002);
	free(f6);
	free(f16);
}

TEST(the_filter_carries_k_in_its_last_byte)
{
	uint64_t h = lsm_bloom_hash("a", 1);
	uint8_t *f = NULL;
	size_t n = 0;

	CHECK_EQ(lsm_bloom_build(&h, 1, 10, &f, &n), 0);
	CHECK_EQ(n, 64 / 8 + 1);
	CHECK_EQ(f[n - 1], 7);
	free(f);
	CHECK_EQ(lsm_bloom_build(&h, 1, 20, &f, &n), 0);
	CHECK_EQ(f[n - 1], 14);
	free(f);
}

TEST(a_filter_of_no_keys_contains_nothing)
{
	uint8_t *f = NULL;
	size_t n = 0;
	int any = 0;
	char k[64];

	CHECK_EQ(lsm_bloom_build(NULL, 0, 10, &f, &n), 0);
	for (int i = 0; i < 1000; i++)
		any += lsm_bloom_may_contain(
		    f, n, lsm_bloom_hash(k, key_make(k, sizeof(k), "x", i)));
	CHECK_EQ(any, 0);
	free(f);
}

TEST(a_filter_that_does_not_decode_may_contain_anything)
{
	uint8_t zeros[9] = { 0 };
	uint8_t bad_k[9] = { 0, 0, 0, 0, 0, 0, 0, 0, LSM_BLOOM_K_MAX + 1 };
	uint64_t h = lsm_bloom_hash("key", 3);

	CHECK_EQ(lsm_bloom_may_contain(NULL, 0, h), 1);
	CHECK_EQ(lsm_bloom_may_contain(zeros, 1, h), 1);
	/* k = 0 and k too large are not filters this reader knows. */
	CHECK_EQ(lsm_bloom_may_contain(zeros, sizeof(zeros), h), 1);
	CHECK_EQ(lsm_bloom_may_contain(bad_k, sizeof(bad_k), h), 1);
	bad_k[8] = 1;
	CHECK_EQ(lsm_bloom_may_contain(bad_k, sizeof(bad_k), h), 0);
}

TEST(similar_keys_hash_apart)
{
	uint64_t a = lsm_bloom_hash("dir/00000001", 12);
	uint64_t b = lsm_bloom_hash("dir/00000002", 12);
	uint64_t c = lsm_bloom_hash("dir/0000000", 11);

	CHECK(a != b && a != c && b != c);
	CHECK_EQ(__builtin_popcountll(a ^ b) > 16, 1);
	CHECK(lsm_bloom_hash("", 0) != lsm_bloom_hash("\0", 1));
}

TEST_MAIN(every_added_key_of_a_hundred_thousand_may_be_contained,
	  ten_bits_per_key_give_about_one_percent_false_positives,
	  more_bits_per_key_give_fewer_false_positives,
	  the_filter_carries_k_in_its_last_byte,
	  a_filter_of_no_keys_contains_nothing,
	  a_filter_that_does_not_decode_may_contain_anything,
	  similar_keys_hash_apart)
