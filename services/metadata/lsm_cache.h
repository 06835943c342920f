/*
 * The engine's two caches, each with a byte budget from the config.
 *
 * The block cache holds blocks of SSTs in memory, as read and checked
 * (after the seal is opened), keyed by (SST id, offset).  It is sharded
 * and LRU within each shard; a block handed out is pinned until it is
 * released, and a pinned block is never freed, even when evicted.
 *
 * The disk cache holds whole SSTs as files in a local directory, so that
 * a block the memory cache lacks costs a pread, not a request to the
 * store.  SSTs never change once written, so a copy never goes stale.
 * Files are evicted least recently opened first when the budget would
 * be exceeded; a file evicted while open stays readable through its
 * descriptor.  Leftovers of an earlier run are removed at open.
 */
#ifndef ZEROFS_META_LSM_CACHE_H
#define ZEROFS_META_LSM_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct lsm_block_cache;

/* A block pinned in the cache: data and len stay valid until released. */
struct lsm_cblock {
	const uint8_t *data;
	size_t len;
};

/* budget 0: a cache that keeps nothing (put still hands the block back
 * pinned, and it is freed at release).  -ENOMEM. */
int lsm_block_cache_new(size_t budget, struct lsm_block_cache **out);
/* Every block must have been released. */
void lsm_block_cache_free(struct lsm_block_cache *c);

/* The pinned block of (sst, off), or NULL on a miss.  Thread-safe. */
const struct lsm_cblock *lsm_block_cache_get(struct lsm_block_cache *c,
					     uint64_t sst, uint64_t off);

/* Takes over data (malloc'd) and returns it pinned.  If the block is
 * already cached (another thread raced), data is freed and the cached
 * one is returned.  NULL only when out of memory (data freed too). */
const struct lsm_cblock *lsm_block_cache_put(struct lsm_block_cache *c,
					     uint64_t sst, uint64_t off,
					     uint8_t *data, size_t len);

void lsm_block_cache_release(struct lsm_block_cache *c,
			     const struct lsm_cblock *b);

struct lsm_cache_stats {
	uint64_t bytes; /* bytes held (pinned ones included) */
	uint64_t entries;
	uint64_t hits, misses, evictions;
};

void lsm_block_cache_stats(struct lsm_block_cache *c,
			   struct lsm_cache_stats *st);

struct lsm_disk_cache;

/* Creates dir if needed and empties it of earlier files.  budget 0: a
 * cache that keeps nothing (every open is -ENOENT, every insert
 * -EFBIG).  Returns 0, -ENOMEM or the system's errno. */
int lsm_disk_cache_open(const char *dir, uint64_t budget,
			struct lsm_disk_cache **out);
void lsm_disk_cache_close(struct lsm_disk_cache *dc);

/* Stores a copy of SST `sst` (written whole to a temporary file, then
 * renamed), evicting others to stay in budget.  -EFBIG when len alone
 * exceeds the budget; the system's errno when the disk fails (the cache
 * then simply lacks the file). */
int lsm_disk_cache_insert(struct lsm_disk_cache *dc, uint64_t sst,
			  const void *data, size_t len);

/* A read-only descriptor of the copy of `sst` (the caller closes it), and
 * its size; -ENOENT if there is none. */
int lsm_disk_cache_open_file(struct lsm_disk_cache *dc, uint64_t sst, int *fd,
			     uint64_t *size);

/* Drops the copy (an SST garbage collection deleted). */
void lsm_disk_cache_remove(struct lsm_disk_cache *dc, uint64_t sst);

void lsm_disk_cache_stats(struct lsm_disk_cache *dc,
			  struct lsm_cache_stats *st);

#endif
