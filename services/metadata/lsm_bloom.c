/*
 * The bloom filter: m bits (a multiple of 8, at least 64 so a table of a
 * few keys still filters), k = bits_per_key * ln 2 probes, the k that
 * minimises the false-positive rate for that many bits per key.  Probes
 * are h, h + d, h + 2d, ... modulo m, with d a rotation of the key's
 * 64-bit hash: two independent-enough hashes give the accuracy of k
 * (Kirsch and Mitzenmacher) at the cost of one.
 */
#include "lsm_bloom.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A 64-bit finaliser: every input bit flips each output bit with
 * probability near one half. */
static uint64_t bloom_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static uint64_t bloom_load(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint64_t lsm_bloom_hash(const void *key, size_t n)
{
	const uint8_t *p = key;
	uint64_t h = bloom_mix(UINT64_C(0x9e3779b97f4a7c15) ^ n);

	for (; n >= 8; n -= 8, p += 8)
		h = bloom_mix(h ^ bloom_load(p, 8)) +
		    UINT64_C(0x9e3779b97f4a7c15);
	if (n > 0)
		h = bloom_mix(h ^ bloom_load(p, n));
	return h;
}

static uint64_t bloom_delta(uint64_t h)
{
	return h >> 33 | h << 31;
}

static void bloom_set(uint8_t *bits, uint64_t m, uint32_t k, uint64_t h)
{
	uint64_t d = bloom_delta(h);

	for (uint32_t i = 0; i < k; i++, h += d) {
		uint64_t b = h % m;

		bits[b / 8] |= (uint8_t)(1u << (b % 8));
	}
}

int lsm_bloom_build(const uint64_t *hashes, size_t n, uint32_t bits_per_key,
		    uint8_t **out, size_t *outn)
{
	uint64_t m;
	uint32_t k;
	uint8_t *f;

	if (bits_per_key == 0)
		bits_per_key = 1;
	m = (uint64_t)n * bits_per_key;
	if (m < 64)
		m = 64;
	m = (m + 7) / 8 * 8;
	/* k = bits_per_key * ln 2, rounded, within [1, K_MAX]. */
	k = (uint32_t)(bits_per_key * 69u + 50u) / 100u;
	if (k < 1)
		k = 1;
	if (k > LSM_BLOOM_K_MAX)
		k = LSM_BLOOM_K_MAX;
	f = calloc(1, m / 8 + 1);
	if (f == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		bloom_set(f, m, k, hashes[i]);
	f[m / 8] = (uint8_t)k;
	*out = f;
	*outn = m / 8 + 1;
	return 0;
}

int lsm_bloom_may_contain(const uint8_t *filter, size_t n, uint64_t hash)
{
	uint64_t m, h = hash, d = bloom_delta(hash);
	uint32_t k;

	if (filter == NULL || n < 2)
		return 1;
	k = filter[n - 1];
	if (k == 0 || k > LSM_BLOOM_K_MAX)
		return 1;
	m = (uint64_t)(n - 1) * 8;
	for (uint32_t i = 0; i < k; i++, h += d) {
		uint64_t b = h % m;

		if ((filter[b / 8] & (1u << (b % 8))) == 0)
			return 0;
	}
	return 1;
}
