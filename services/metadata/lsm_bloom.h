/*
 * Bloom filters over user keys, one per SST, so that a lookup of a key
 * the table lacks usually costs no block read.  A filter is built from
 * the 64-bit hashes of the keys and probed k times by double hashing;
 * the encoded filter is the bit array followed by one byte holding k,
 * so a reader needs no parameter from the writer.  A filter that does
 * not decode answers "may contain": a damaged or unknown filter costs a
 * block read, never a wrong answer.
 */
#ifndef ZEROFS_META_LSM_BLOOM_H
#define ZEROFS_META_LSM_BLOOM_H

#include <stddef.h>
#include <stdint.h>

/* Largest k a filter may carry; a larger byte is read as "not a filter
 * this reader knows" and every probe then says "may contain". */
#define LSM_BLOOM_K_MAX 30

/* The hash the filter is built from and probed with. */
uint64_t lsm_bloom_hash(const void *key, size_t n);

/* Builds the filter of n key hashes at bits_per_key bits each (at least
 * 1; 10 gives about 1 % false positives).  *out is malloc'd and owned by
 * the caller.  0 or -ENOMEM. */
int lsm_bloom_build(const uint64_t *hashes, size_t n, uint32_t bits_per_key,
		    uint8_t **out, size_t *outn);

/* 0 if the key of this hash is certainly not in the filter, else 1. */
int lsm_bloom_may_contain(const uint8_t *filter, size_t n, uint64_t hash);

#endif
