/*
 * Sorted tables (SSTs): the immutable files a memtable is flushed to and
 * compactions write.  One SST is one object in the store.  Its layout
 * (FORMAT.md): data blocks of prefix-compressed internal keys with
 * restart points, a bloom filter block over the user keys, an index block
 * with one entry per data block, and a fixed-size footer with the
 * format version.  Every block carries a CRC-32C; every block passes
 * through the seal hook, so that once encryption exists each block is
 * sealed with the filesystem's data key.
 *
 * A builder assembles the whole object in memory (an SST is a few MiB).
 * A reader keeps the footer, index and filter in memory and fetches data
 * blocks through the block cache from a source: a local copy in the disk
 * cache or ranged reads of the object.  Readers are safe to share
 * between threads.
 */
#ifndef ZEROFS_META_LSM_SST_H
#define ZEROFS_META_LSM_SST_H

#include "lsm_cache.h"
#include "lsm_iter.h"

#include <stddef.h>
#include <stdint.h>

/* Seals each block before it is stored and opens it after it is read.
 * Both return 0 with *out malloc'd (owned by the caller), or a negative
 * errno (-EBADMSG: the block does not open).  With no seal hook blocks
 * are stored as they are. */
struct lsm_seal {
	int (*seal)(void *arg, const uint8_t *in, size_t n, uint8_t **out,
		    size_t *outn);
	int (*open)(void *arg, const uint8_t *in, size_t n, uint8_t **out,
		    size_t *outn);
	void *arg;
};

struct lsm_sst_opts {
	uint32_t block_bytes;	     /* data block target [4096] */
	uint32_t restart_interval;   /* keys between restart points [16] */
	uint32_t bloom_bits;	     /* filter bits per key [10] */
	const struct lsm_seal *seal; /* NULL: none */
};

struct lsm_sst_builder;

/* opt NULL: the defaults.  -ENOMEM. */
int lsm_sst_builder_new(const struct lsm_sst_opts *opt,
			struct lsm_sst_builder **out);

/* Adds an entry; internal keys must come strictly ascending (-EINVAL
 * otherwise).  0 or -ENOMEM. */
int lsm_sst_builder_add(struct lsm_sst_builder *b, const uint8_t *ikey,
			size_t klen, const void *val, size_t vlen);

/* Bytes the object would have if finished now (about). */
uint64_t lsm_sst_builder_bytes(const struct lsm_sst_builder *b);
uint64_t lsm_sst_builder_count(const struct lsm_sst_builder *b);

/* Finishes the table: *obj (malloc'd, owned by the caller) is the whole
 * object.  The builder must still be freed. */
int lsm_sst_builder_finish(struct lsm_sst_builder *b, uint8_t **obj,
			   size_t *len);
void lsm_sst_builder_free(struct lsm_sst_builder *b);

/* Where a reader gets bytes: read fills exactly len bytes at off, or
 * returns a negative errno.  Called from many threads at once. */
struct lsm_src {
	int (*read)(void *arg, uint64_t off, size_t len, uint8_t *buf);
	void *arg;
	uint64_t size; /* of the whole object */
};

struct lsm_sst;

/* Opens the table `id` (the cache key) over src, which must outlive it;
 * cache may be NULL; seal must match the builder's.  Fails with -EIO
 * (logged by the caller) for a bad footer, magic, version, checksum or
 * layout, or with the source's error. */
int lsm_sst_open(const struct lsm_src *src, uint64_t id,
		 struct lsm_block_cache *cache, const struct lsm_seal *seal,
		 struct lsm_sst **out);
void lsm_sst_close(struct lsm_sst *t);

/* The newest entry for ukey with a number <= snap: 0 with *kind and
 * *seq set, and for a put *val malloc'd (owned by the caller); -ENOENT;
 * -EIO for a damaged block; the source's error.  Consults the filter
 * first, so a key the table lacks usually costs no block read. */
int lsm_sst_get(struct lsm_sst *t, const void *ukey, size_t ulen, uint64_t snap,
		uint8_t *kind, uint64_t *seq, void **val, size_t *vlen);

/* An iterator over every entry; the table must outlive it.  NULL when
 * out of memory. */
struct lsm_iter *lsm_sst_iter_new(struct lsm_sst *t);

/* Memory the open table holds (index and filter). */
size_t lsm_sst_mem(const struct lsm_sst *t);
uint64_t lsm_sst_count(const struct lsm_sst *t);

#endif
