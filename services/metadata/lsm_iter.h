/*
 * One forward iterator shape for everything the engine reads in order:
 * a memtable, a block, an SST, a level, and the merge of them all.  Keys
 * are internal keys (lsm_key.h) in ascending internal order.  Key and
 * value pointers stay valid until the iterator moves or is freed.
 *
 * An iterator that hits an error (a block that fails its checksum, a
 * read that fails) becomes invalid and reports it in status(); a scan
 * must check status() when valid() turns 0.
 */
#ifndef ZEROFS_META_LSM_ITER_H
#define ZEROFS_META_LSM_ITER_H

#include <stddef.h>
#include <stdint.h>

struct lsm_iter;

struct lsm_iter_ops {
	/* Positions at the first entry >= the internal key. */
	void (*seek)(struct lsm_iter *it, const uint8_t *ikey, size_t n);
	void (*first)(struct lsm_iter *it);
	void (*next)(struct lsm_iter *it);
	int (*valid)(struct lsm_iter *it);
	const uint8_t *(*key)(struct lsm_iter *it, size_t *n);
	const uint8_t *(*value)(struct lsm_iter *it, size_t *n);
	/* 0, or the negative errno that made the iterator invalid. */
	int (*status)(struct lsm_iter *it);
	void (*free)(struct lsm_iter *it);
};

/* Every iterator's state starts with this. */
struct lsm_iter {
	const struct lsm_iter_ops *ops;
};

static inline void lsm_iter_seek(struct lsm_iter *it, const uint8_t *k,
				 size_t n)
{
	it->ops->seek(it, k, n);
}

static inline void lsm_iter_first(struct lsm_iter *it)
{
	it->ops->first(it);
}

static inline void lsm_iter_next(struct lsm_iter *it)
{
	it->ops->next(it);
}

static inline int lsm_iter_valid(struct lsm_iter *it)
{
	return it->ops->valid(it);
}

static inline const uint8_t *lsm_iter_key(struct lsm_iter *it, size_t *n)
{
	return it->ops->key(it, n);
}

static inline const uint8_t *lsm_iter_value(struct lsm_iter *it, size_t *n)
{
	return it->ops->value(it, n);
}

static inline int lsm_iter_status(struct lsm_iter *it)
{
	return it->ops->status(it);
}

static inline void lsm_iter_free(struct lsm_iter *it)
{
	if (it != NULL)
		it->ops->free(it);
}

/* Merges n children (which it takes over and frees) into one ascending
 * stream.  Children are given newest first; two children never hold the
 * same internal key.  Invalid with the first child error it meets.
 * NULL when out of memory (the children are freed then too). */
struct lsm_iter *lsm_iter_merge_new(struct lsm_iter **children, size_t n);

/* An iterator over nothing, reporting status err (0 for plain empty). */
struct lsm_iter *lsm_iter_empty_new(int err);

#endif
