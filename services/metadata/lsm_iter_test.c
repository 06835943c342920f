/*
 * Tests of the merge iterator and the empty iterator: the merge of sorted
 * children equals their sorted union, seeks, ties between children, a
 * child that fails partway or at once, zero and one child, memtables as
 * children, and a timing print of a merge over sixteen children.
 */
#include "lsm_iter.h"
#include "lsm_key.h"
#include "lsm_mem.h"

#include "test.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct ent {
	uint8_t ik[24];
	size_t n;
	uint32_t val;
};

/* A test child over a sorted array of entries (which it does not own)
 * that turns invalid with -EIO once it has moved fail_after times. */
struct vec_iter {
	struct lsm_iter it;
	const struct ent *e;
	size_t n, pos, moves, fail_after;
	int err;
};

static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	return lsm_ikey_cmp(x->ik, x->n, y->ik, y->n);
}

static struct vec_iter *vec_of(struct lsm_iter *it)
{
	return (struct vec_iter *)it;
}

static void vec_moved(struct vec_iter *v)
{
	if (v->moves++ >= v->fail_after)
		v->err = -EIO;
}

static void vec_seek(struct lsm_iter *it, const uint8_t *ik, size_t n)
{
	struct vec_iter *v = vec_of(it);
	struct ent probe = { .n = n };

	memcpy(probe.ik, ik, n);
	for (v->pos = 0; v->pos < v->n; v->pos++) {
		if (ent_cmp(&v->e[v->pos], &probe) >= 0)
			break;
	}
	vec_moved(v);
}

static void vec_first(struct lsm_iter *it)
{
	vec_of(it)->pos = 0;
	vec_moved(vec_of(it));
}

static void vec_next(struct lsm_iter *it)
{
	vec_of(it)->pos++;
	vec_moved(vec_of(it));
}

static int vec_valid(struct lsm_iter *it)
{
	struct vec_iter *v = vec_of(it);

	return v->err == 0 && v->pos < v->n;
}

static const uint8_t *vec_key(struct lsm_iter *it, size_t *n)
{
	struct vec_iter *v = vec_of(it);

	*n = v->e[v->pos].n;
	return v->e[v->pos].ik;
}

static const uint8_t *vec_value(struct lsm_iter *it, size_t *n)
{
	struct vec_iter *v = vec_of(it);

	*n = sizeof(v->e[v->pos].val);
	return (const uint8_t *)&v->e[v->pos].val;
}

static int vec_status(struct lsm_iter *it)
{
	return vec_of(it)->err;
}

static void vec_free(struct lsm_iter *it)
{
	free(it);
}

static const struct lsm_iter_ops vec_ops = {
	.seek = vec_seek,
	.first = vec_first,
	.next = vec_next,
	.valid = vec_valid,
	.key = vec_key,
	.value = vec_value,
	.status = vec_status,
	.free = vec_free,
};

static struct lsm_iter *vec_new(const struct ent *e, size_t n,
				size_t fail_after)
{
	struct vec_iter *v = calloc(1, sizeof(*v));

	if (v == NULL)
		abort();
	v->it.ops = &vec_ops;
	v->e = e;
	v->n = n;
	v->fail_after = fail_after;
	return &v->it;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static void ent_set(struct ent *e, uint32_t id, uint64_t seq, uint32_t val)
{
	char k[16];
	int len = snprintf(k, sizeof(k), "%x", id);

	e->n = lsm_ikey_make(e->ik, k, (size_t)len, seq, LSM_KIND_PUT);
	e->val = val;
}

/* Deals n distinct random entries round-robin to kids arrays (each
 * sorted) and returns all of them sorted: the expected union. */
static struct ent *deal(size_t n, size_t kids, struct ent **part, size_t *pn)
{
	struct ent *all = calloc(n, sizeof(*all));
	uint64_t rng = 1234;

	if (all == NULL)
		abort();
	for (size_t c = 0; c < kids; c++) {
		part[c] = calloc(n / kids + 1, sizeof(**part));
		pn[c] = 0;
	}
	for (size_t i = 0; i < n; i++) {
		size_t c = i % kids;

		/* Distinct seqs make every internal key distinct. */
		ent_set(&all[i], (uint32_t)(rng_next(&rng) % 5000), i + 1,
			(uint32_t)i);
		part[c][pn[c]++] = all[i];
	}
	for (size_t c = 0; c < kids; c++)
		qsort(part[c], pn[c], sizeof(**part), ent_cmp);
	qsort(all, n, sizeof(*all), ent_cmp);
	return all;
}

static struct lsm_iter *merge_of_parts(struct ent **part, size_t *pn,
				       size_t kids, size_t fail_kid,
				       size_t fail_after)
{
	struct lsm_iter *it[32];

	for (size_t c = 0; c < kids; c++)
		it[c] = vec_new(part[c], pn[c],
				c == fail_kid ? fail_after : SIZE_MAX);
	return lsm_iter_merge_new(it, kids);
}

static void parts_free(struct ent **part, size_t kids)
{
	for (size_t c = 0; c < kids; c++)
		free(part[c]);
}

/* Walks it from where it is and counts the entries that match all[from..]
 * in order; stops at the first mismatch. */
static size_t walk_matches(struct lsm_iter *it, const struct ent *all,
			   size_t from, size_t n)
{
	size_t i = from, kn, vn;

	for (; lsm_iter_valid(it) && i < n; lsm_iter_next(it), i++) {
		const uint8_t *k = lsm_iter_key(it, &kn);
		const uint8_t *v = lsm_iter_value(it, &vn);
		uint32_t val;

		if (kn != all[i].n || memcmp(k, all[i].ik, kn) != 0 ||
		    vn != sizeof(val))
			break;
		memcpy(&val, v, sizeof(val));
		if (val != all[i].val)
			break;
	}
	return i - from;
}

TEST(merge_of_several_sorted_children_equals_the_sorted_union)
{
	struct ent *part[12];
	size_t pn[12];
	struct ent *all = deal(20000, 12, part, pn);
	struct lsm_iter *it = merge_of_parts(part, pn, 12, SIZE_MAX, 0);

	CHECK(it != NULL);
	lsm_iter_first(it);
	CHECK_EQ(walk_matches(it, all, 0, 20000), 20000);
	CHECK(!lsm_iter_valid(it));
	CHECK_EQ(lsm_iter_status(it), 0);
	/* first starts over. */
	lsm_iter_first(it);
	CHECK_EQ(walk_matches(it, all, 0, 20000), 20000);
	lsm_iter_free(it);
	parts_free(part, 12);
	free(all);
}

TEST(merge_seek_lands_on_the_first_entry_at_or_after_the_key)
{
	struct ent *part[5];
	size_t pn[5];
	struct ent *all = deal(3000, 5, part, pn);
	struct lsm_iter *it = merge_of_parts(part, pn, 5, SIZE_MAX, 0);
	uint64_t rng = 77;

	for (int t = 0; t < 300; t++) {
		struct ent probe;
		size_t lo = 0;

		ent_set(&probe, (uint32_t)(rng_next(&rng) % 5200),
			rng_next(&rng) % 3100, 0);
		while (lo < 3000 && ent_cmp(&all[lo], &probe) < 0)
			lo++;
		lsm_iter_seek(it, probe.ik, probe.n);
		/* From the landing point on, the rest of the union follows. */
		CHECK_EQ(walk_matches(it, all, lo, 3000), 3000 - lo);
		CHECK(!lsm_iter_valid(it));
	}
	lsm_iter_free(it);
	parts_free(part, 5);
	free(all);
}

TEST(a_child_failing_partway_stops_the_merge_with_its_status)
{
	struct ent *part[4];
	size_t pn[4];
	struct ent *all = deal(4000, 4, part, pn);
	struct lsm_iter *it = merge_of_parts(part, pn, 4, 2, 300);
	size_t got;

	lsm_iter_first(it);
	got = walk_matches(it, all, 0, 4000);
	/* What came out before the failure is a prefix of the union; the
	 * failing child yielded 300 entries before its failing step, so at
	 * least those and no more than the whole union came first. */
	CHECK(got >= 300 && got < 4000);
	CHECK(!lsm_iter_valid(it));
	CHECK_EQ(lsm_iter_status(it), -EIO);
	lsm_iter_next(it);
	CHECK(!lsm_iter_valid(it));
	CHECK_EQ(lsm_iter_status(it), -EIO);
	lsm_iter_free(it);
	parts_free(part, 4);
	free(all);
}

TEST(a_child_failing_at_its_first_step_makes_the_merge_invalid_at_once)
{
	struct ent *part[3];
	size_t pn[3];
	struct ent *all = deal(300, 3, part, pn);
	struct lsm_iter *it = merge_of_parts(part, pn, 3, 1, 0);

	lsm_iter_first(it);
	CHECK(!lsm_iter_valid(it));
	CHECK_EQ(lsm_iter_status(it), -EIO);
	lsm_iter_seek(it, all[10].ik, all[10].n);
	CHECK(!lsm_iter_valid(it));
	CHECK_EQ(lsm_iter_status(it), -EIO);
	lsm_iter_free(it);
	parts_free(part, 3);
	free(all);
}

TEST(equal_keys_in_two_children_come_out_once_from_the_lower_index)
{
	struct ent newer[3], older[3];
	struct lsm_iter *kids[2];
	struct lsm_iter *it;
	size_t vn;
	uint32_t val;

	for (uint32_t i = 0; i < 3; i++) {
		ent_set(&newer[i], i * 2, 7, 100 + i);
		ent_set(&older[i], i * 2 + (i == 1 ? 0 : 1), 7, 200 + i);
	}
	kids[0] = vec_new(newer, 3, SIZE_MAX);
	kids[1] = vec_new(older, 3, SIZE_MAX);
	it = lsm_iter_merge_new(kids, 2);
	/* Keys 0, 1, 2 (tie), 4, 5: the tie on key 2 yields child 0's. */
	uint32_t want[5] = { 100, 200, 101, 102, 202 };
	int i = 0;

	for (lsm_iter_first(it); lsm_iter_valid(it); lsm_iter_next(it), i++) {
		memcpy(&val, lsm_iter_value(it, &vn), sizeof(val));
		if (i < 5)
			CHECK_EQ(val, want[i]);
	}
	CHECK_EQ(i, 5);
	CHECK_EQ(lsm_iter_status(it), 0);
	lsm_iter_free(it);
}

TEST(merge_of_no_children_is_empty_and_clean)
{
	struct lsm_iter *it = lsm_iter_merge_new(NULL, 0);

	CHECK(it != NULL);
	lsm_iter_first(it);
	CHECK(!lsm_iter_valid(it));
	CHECK_EQ(lsm_iter_status(it), 0);
	lsm_iter_free(it);
}

TEST(merge_of_one_child_yields_that_childs_entries)
{
	struct ent *part[1];
	size_t pn[1];
	struct ent *all = deal(500, 1, part, pn);
	struct lsm_iter *it = merge_of_parts(part, pn, 1, SIZE_MAX, 0);

	lsm_iter_first(it);
	CHECK_EQ(walk_matches(it, all, 0, 500), 500);
	CHECK(!lsm_iter_valid(it));
	lsm_iter_free(it);
	parts_free(part, 1);
	free(all);
}

TEST(a_missing_child_fails_the_merge_and_frees_the_others)
{
	struct ent e[1];
	struct lsm_iter *kids[3];

	ent_set(&e[0], 1, 1, 1);
	kids[0] = vec_new(e, 1, SIZE_MAX);
	kids[1] = NULL;
	kids[2] = vec_new(e, 1, SIZE_MAX);
	/* LeakSanitizer checks that kids 0 and 2 were freed. */
	CHECK(lsm_iter_merge_new(kids, 3) == NULL);
}

TEST(the_empty_iterator_is_never_valid_and_reports_its_status)
{
	struct lsm_iter *ok = lsm_iter_empty_new(0);
	struct lsm_iter *bad = lsm_iter_empty_new(-EIO);
	uint8_t k[LSM_TRAILER] = { 0 };

	lsm_iter_first(ok);
	lsm_iter_seek(bad, k, sizeof(k));
	CHECK(!lsm_iter_valid(ok));
	CHECK(!lsm_iter_valid(bad));
	CHECK_EQ(lsm_iter_status(ok), 0);
	CHECK_EQ(lsm_iter_status(bad), -EIO);
	lsm_iter_free(ok);
	lsm_iter_free(bad);
}

TEST(a_failed_empty_child_makes_the_merge_fail)
{
	struct ent e[2];
	struct lsm_iter *kids[2];
	struct lsm_iter *it;

	ent_set(&e[0], 1, 1, 1);
	ent_set(&e[1], 2, 1, 2);
	kids[0] = vec_new(e, 2, SIZE_MAX);
	kids[1] = lsm_iter_empty_new(-EIO);
	it = lsm_iter_merge_new(kids, 2);
	lsm_iter_first(it);
	CHECK(!lsm_iter_valid(it));
	CHECK_EQ(lsm_iter_status(it), -EIO);
	lsm_iter_free(it);
}

/* Three memtables, the newest first, holding versions of the same keys:
 * the merge lists every version, newest first within a key. */
TEST(merge_over_memtables_lists_all_versions_in_internal_order)
{
	struct lsm_mem *m[3];
	struct lsm_iter *kids[3];
	struct lsm_iter *it;
	char k[16];
	size_t n, count = 0;
	uint8_t last[16];
	size_t lastn = 0;

	for (int t = 0; t < 3; t++) {
		CHECK_EQ(lsm_mem_new(&m[t]), 0);
		CHECK_EQ(lsm_mem_reserve(m[t], 100, 100 * 8), 0);
		for (int i = 0; i < 100; i++) {
			snprintf(k, sizeof(k), "k%03d", i);
			lsm_mem_add(m[t], (uint64_t)(3 - t) * 1000 + i,
				    LSM_KIND_PUT, k, 4, "v", 1);
		}
		kids[t] = lsm_mem_iter_new(m[t]);
		lsm_mem_unref(m[t]);
	}
	it = lsm_iter_merge_new(kids, 3);
	for (lsm_iter_first(it); lsm_iter_valid(it); lsm_iter_next(it)) {
		const uint8_t *key = lsm_iter_key(it, &n);

		if (lastn > 0)
			CHECK(lsm_ikey_cmp(last, lastn, key, n) < 0);
		/* Within a key, versions come from memtable 0, 1, 2. */
		CHECK_EQ(lsm_ikey_seq(key, n) / 1000, 3 - count % 3);
		memcpy(last, key, n);
		lastn = n;
		count++;
	}
	CHECK_EQ(count, 300);
	lsm_iter_free(it);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(a_scan_merging_sixteen_children_is_timed)
{
	struct ent *part[16];
	size_t pn[16];
	struct ent *all = deal(400000, 16, part, pn);
	struct lsm_iter *it = merge_of_parts(part, pn, 16, SIZE_MAX, 0);
	double t0 = now_s(), dt;
	size_t got;

	lsm_iter_first(it);
	got = walk_matches(it, all, 0, 400000);
	dt = now_s() - t0;
	printf("  merged 400000 entries from 16 children: %.3f s, "
	       "%.0f entries/s\n",
	       dt, (double)got / dt);
	CHECK_EQ(got, 400000);
	lsm_iter_free(it);
	parts_free(part, 16);
	free(all);
}

TEST_MAIN(merge_of_several_sorted_children_equals_the_sorted_union,
	  merge_seek_lands_on_the_first_entry_at_or_after_the_key,
	  a_child_failing_partway_stops_the_merge_with_its_status,
	  a_child_failing_at_its_first_step_makes_the_merge_invalid_at_once,
	  equal_keys_in_two_children_come_out_once_from_the_lower_index,
	  merge_of_no_children_is_empty_and_clean,
	  merge_of_one_child_yields_that_childs_entries,
	  a_missing_child_fails_the_merge_and_frees_the_others,
	  the_empty_iterator_is_never_valid_and_reports_its_status,
	  a_failed_empty_child_makes_the_merge_fail,
	  merge_over_memtables_lists_all_versions_in_internal_order,
	  a_scan_merging_sixteen_children_is_timed)
