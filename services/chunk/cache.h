/*
 * The memory cache of decoded chunks: least recently used out first,
 * bounded in bytes, safe to share between threads.  An entry is keyed by
 * (inode, chunk index) and remembers which frame it came from, so a
 * lookup for another frame of the same chunk misses: a chunk rewritten by
 * another replica is never served stale.
 */
#ifndef ZEROFS_CHUNK_CACHE_H
#define ZEROFS_CHUNK_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct cache;

struct cache_key {
	uint64_t ino;
	uint64_t index;
	uint64_t segment; /* where the frame lives */
	uint32_t offset;
};

/* Returns a cache that holds at most max_bytes of payload, or NULL. */
struct cache *cache_new(size_t max_bytes);
void cache_free(struct cache *c);

/* Copies the payload into buf (cap bytes of room) and sets *len.
 * -ENOENT on a miss, or when the entry holds another frame. */
int cache_get(struct cache *c, const struct cache_key *key, void *buf,
	      uint32_t cap, uint32_t *len);

/* Copies the payload in, replacing any entry of the chunk.  A payload
 * larger than the whole cache is not kept. */
int cache_put(struct cache *c, const struct cache_key *key, const void *data,
	      uint32_t len);

/* Forgets chunk index of ino. */
void cache_drop(struct cache *c, uint64_t ino, uint64_t index);

/* Forgets every chunk of ino from index first on. */
void cache_drop_from(struct cache *c, uint64_t ino, uint64_t first);

/* Bytes of payload held and entries held. */
size_t cache_bytes(struct cache *c);
size_t cache_entries(struct cache *c);

#endif
