/*
 * The merge of several sorted iterators into one, and the empty iterator.
 *
 * The merge keeps its valid children in a binary min-heap ordered by
 * (internal key, child index): a step costs O(log n) key comparisons, so
 * a scan over a memtable, the immutables and every level stays cheap
 * when there are a dozen or more children.  Children come newest first,
 * so on the (unexpected) tie of two equal internal keys the lower index,
 * the newer source, is returned and the other entry is skipped.
 *
 * The first child error the merge meets, at a seek, a first or a next,
 * makes it invalid with that status until the next seek or first, which
 * reposition every child and start over.
 */
#include "lsm_iter.h"

#include "lsm_key.h"

#include <errno.h>
#include <stdlib.h>

struct merge_iter {
	struct lsm_iter it;
	int err;
	size_t n;		/* children */
	size_t hn;		/* children in the heap: valid ones */
	size_t *heap;		/* child indexes, heap[0] the smallest */
	struct lsm_iter **kids; /* owned */
};

static struct merge_iter *merge_of(struct lsm_iter *it)
{
	return (struct merge_iter *)it;
}

/* Compares children a and b by their current keys, then by index. */
static int merge_cmp(struct merge_iter *mi, size_t a, size_t b)
{
	size_t an, bn;
	const uint8_t *ak = lsm_iter_key(mi->kids[a], &an);
	const uint8_t *bk = lsm_iter_key(mi->kids[b], &bn);
	int c = lsm_ikey_cmp(ak, an, bk, bn);

	if (c != 0)
		return c;
	return a < b ? -1 : a > b;
}

static void merge_sift_down(struct merge_iter *mi, size_t i)
{
	size_t *h = mi->heap;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i, t;

		if (l < mi->hn && merge_cmp(mi, h[l], h[min]) < 0)
			min = l;
		if (r < mi->hn && merge_cmp(mi, h[r], h[min]) < 0)
			min = r;
		if (min == i)
			return;
		t = h[i];
		h[i] = h[min];
		h[min] = t;
		i = min;
	}
}

/* Child at heap slot i has moved forward: keep it in order, or drop it
 * from the heap when it ran out.  An error it reports stops the merge. */
static void merge_slot_fix(struct merge_iter *mi, size_t i)
{
	struct lsm_iter *kid = mi->kids[mi->heap[i]];
	int rc = lsm_iter_status(kid);

	if (rc != 0) {
		mi->err = rc;
		return;
	}
	if (!lsm_iter_valid(kid))
		mi->heap[i] = mi->heap[--mi->hn];
	if (i < mi->hn)
		merge_sift_down(mi, i);
}

/* Builds the heap from scratch after every child was repositioned. */
static void merge_heap_build(struct merge_iter *mi)
{
	mi->err = 0;
	mi->hn = 0;
	for (size_t i = 0; i < mi->n; i++) {
		struct lsm_iter *kid = mi->kids[i];
		int rc = lsm_iter_status(kid);

		if (rc != 0 && mi->err == 0)
			mi->err = rc;
		if (rc == 0 && lsm_iter_valid(kid))
			mi->heap[mi->hn++] = i;
	}
	if (mi->err != 0)
		return;
	for (size_t i = mi->hn / 2; i-- > 0;)
		merge_sift_down(mi, i);
}

static void merge_seek(struct lsm_iter *it, const uint8_t *ik, size_t n)
{
	struct merge_iter *mi = merge_of(it);

	for (size_t i = 0; i < mi->n; i++)
		lsm_iter_seek(mi->kids[i], ik, n);
	merge_heap_build(mi);
}

static void merge_first(struct lsm_iter *it)
{
	struct merge_iter *mi = merge_of(it);

	for (size_t i = 0; i < mi->n; i++)
		lsm_iter_first(mi->kids[i]);
	merge_heap_build(mi);
}

static int merge_valid(struct lsm_iter *it)
{
	struct merge_iter *mi = merge_of(it);

	return mi->err == 0 && mi->hn > 0;
}

/* Slot 1 or 2 of the heap holding the second smallest child, or 0. */
static size_t merge_second(struct merge_iter *mi)
{
	if (mi->hn < 2)
		return 0;
	if (mi->hn == 2 || merge_cmp(mi, mi->heap[1], mi->heap[2]) < 0)
		return 1;
	return 2;
}

/* Moves every other child off the top child's key: such an entry is a
 * duplicate the newer (top) child already returns. */
static void merge_skip_equal(struct merge_iter *mi)
{
	size_t kn, sn, s;
	const uint8_t *k = lsm_iter_key(mi->kids[mi->heap[0]], &kn);

	while (mi->err == 0 && (s = merge_second(mi)) != 0) {
		struct lsm_iter *kid = mi->kids[mi->heap[s]];
		const uint8_t *sk = lsm_iter_key(kid, &sn);

		if (lsm_ikey_cmp(k, kn, sk, sn) != 0)
			return;
		lsm_iter_next(kid);
		merge_slot_fix(mi, s);
	}
}

static void merge_next(struct lsm_iter *it)
{
	struct merge_iter *mi = merge_of(it);

	if (!merge_valid(it))
		return;
	merge_skip_equal(mi);
	if (mi->err != 0)
		return;
	lsm_iter_next(mi->kids[mi->heap[0]]);
	merge_slot_fix(mi, 0);
}

static const uint8_t *merge_key(struct lsm_iter *it, size_t *n)
{
	struct merge_iter *mi = merge_of(it);

	return lsm_iter_key(mi->kids[mi->heap[0]], n);
}

static const uint8_t *merge_value(struct lsm_iter *it, size_t *n)
{
	struct merge_iter *mi = merge_of(it);

	return lsm_iter_value(mi->kids[mi->heap[0]], n);
}

static int merge_status(struct lsm_iter *it)
{
	return merge_of(it)->err;
}

static void merge_free(struct lsm_iter *it)
{
	struct merge_iter *mi = merge_of(it);

	for (size_t i = 0; i < mi->n; i++)
		lsm_iter_free(mi->kids[i]);
	free(mi->kids);
	free(mi->heap);
	free(mi);
}

static const struct lsm_iter_ops merge_ops = {
	.seek = merge_seek,
	.first = merge_first,
	.next = merge_next,
	.valid = merge_valid,
	.key = merge_key,
	.value = merge_value,
	.status = merge_status,
	.free = merge_free,
};

static void merge_children_free(struct lsm_iter **children, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lsm_iter_free(children[i]);
}

/* A NULL child stands for a child that could not be made, out of memory:
 * the merge then fails the same way.  One child needs no merge and is
 * returned as it is; none gives the empty iterator.  The merge starts
 * unpositioned, like its children, until seek or first. */
struct lsm_iter *lsm_iter_merge_new(struct lsm_iter **children, size_t n)
{
	struct merge_iter *mi;

	for (size_t i = 0; i < n; i++) {
		if (children[i] == NULL)
			goto fail_children;
	}
	if (n == 0)
		return lsm_iter_empty_new(0);
	if (n == 1)
		return children[0];
	mi = calloc(1, sizeof(*mi));
	if (mi == NULL)
		goto fail_children;
	mi->kids = malloc(n * sizeof(*mi->kids));
	mi->heap = malloc(n * sizeof(*mi->heap));
	if (mi->kids == NULL || mi->heap == NULL)
		goto fail_merge;
	mi->it.ops = &merge_ops;
	mi->n = n;
	for (size_t i = 0; i < n; i++)
		mi->kids[i] = children[i];
	return &mi->it;

fail_merge:
	free(mi->kids);
	free(mi->heap);
	free(mi);
fail_children:
	merge_children_free(children, n);
	return NULL;
}

/* The empty iterator: never valid, with a fixed status. */
struct empty_iter {
	struct lsm_iter it;
	int err;
};

static void empty_seek(struct lsm_iter *it, const uint8_t *ik, size_t n)
{
	(void)it;
	(void)ik;
	(void)n;
}

static void empty_move(struct lsm_iter *it)
{
	(void)it;
}

static int empty_valid(struct lsm_iter *it)
{
	(void)it;
	return 0;
}

/* Never called on a valid iterator, as none is; an empty key is the
 * harmless answer to a caller that asks anyway. */
static const uint8_t *empty_bytes(struct lsm_iter *it, size_t *n)
{
	(void)it;
	*n = 0;
	return NULL;
}

static int empty_status(struct lsm_iter *it)
{
	return ((struct empty_iter *)it)->err;
}

static void empty_free(struct lsm_iter *it)
{
	free(it);
}

static const struct lsm_iter_ops empty_ops = {
	.seek = empty_seek,
	.first = empty_move,
	.next = empty_move,
	.valid = empty_valid,
	.key = empty_bytes,
	.value = empty_bytes,
	.status = empty_status,
	.free = empty_free,
};

struct lsm_iter *lsm_iter_empty_new(int err)
{
	struct empty_iter *ei = malloc(sizeof(*ei));

	if (ei == NULL)
		return NULL;
	ei->it.ops = &empty_ops;
	ei->err = err;
	return &ei->it;
}
