/*
 * Tests of the memtable: versions and snapshots, tombstones, large
 * values inside a reservation, iteration order against a sorted copy,
 * seeks, memory accounting, a reader running lock-free beside the writer,
 * and a timing print of a million adds.
 */
#include "lsm_key.h"
#include "lsm_mem.h"

#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PERF_ADDS 200000
#else
#define PERF_ADDS 1000000
#endif

static struct lsm_mem *mem_make(void)
{
	struct lsm_mem *m = NULL;

	if (lsm_mem_new(&m) < 0)
		abort();
	return m;
}

static void add1(struct lsm_mem *m, uint64_t seq, uint8_t kind, const char *k,
		 const char *v)
{
	size_t vlen = v != NULL ? strlen(v) : 0;

	if (lsm_mem_reserve(m, 1, strlen(k) + vlen) < 0)
		abort();
	lsm_mem_add(m, seq, kind, k, strlen(k), v, vlen);
}

/* 1 if key at snap is a put of exactly want (want NULL: a tombstone). */
static int get_is(struct lsm_mem *m, const char *k, uint64_t snap,
		  const char *want)
{
	uint8_t kind = 0xee;
	void *val = NULL;
	size_t vlen = 0;
	int ok;

	if (lsm_mem_get(m, k, strlen(k), snap, &kind, &val, &vlen) != 0)
		return 0;
	if (want == NULL)
		ok = kind == LSM_KIND_DEL && val == NULL;
	else
		ok = kind == LSM_KIND_PUT && vlen == strlen(want) &&
		     memcmp(val, want, vlen) == 0;
	free(val);
	return ok;
}

static int get_rc(struct lsm_mem *m, const char *k, uint64_t snap)
{
	uint8_t kind;
	void *val = NULL;
	size_t vlen;
	int rc = lsm_mem_get(m, k, strlen(k), snap, &kind, &val, &vlen);

	free(val);
	return rc;
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

/* The big-endian bytes of v, so keys made from it sort as numbers. */
static uint64_t mem_be64(uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	memcpy(&v, b, sizeof(v));
	return v;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(newest_version_of_each_of_many_keys_is_read_back)
{
	struct lsm_mem *m = mem_make();
	char k[32], v[32];
	uint64_t seq = 1;

	for (int ver = 0; ver < 3; ver++) {
		for (int i = 0; i < 2000; i++) {
			snprintf(k, sizeof(k), "key-%05d", (i * 7919) % 2000);
			snprintf(v, sizeof(v), "v%d-%d", (i * 7919) % 2000,
				 ver);
			add1(m, seq++, LSM_KIND_PUT, k, v);
		}
	}
	for (int i = 0; i < 2000; i++) {
		snprintf(k, sizeof(k), "key-%05d", i);
		snprintf(v, sizeof(v), "v%d-2", i);
		CHECK(get_is(m, k, LSM_SEQ_MAX, v));
	}
	CHECK_EQ(lsm_mem_count(m), 6000);
	CHECK_EQ(lsm_mem_min_seq(m), 1);
	CHECK_EQ(lsm_mem_max_seq(m), 6000);
	lsm_mem_unref(m);
}

TEST(get_at_a_snapshot_between_versions_sees_the_older_one)
{
	struct lsm_mem *m = mem_make();

	add1(m, 10, LSM_KIND_PUT, "a", "ten");
	add1(m, 20, LSM_KIND_PUT, "a", "twenty");
	add1(m, 30, LSM_KIND_PUT, "a", "thirty");
	CHECK(get_is(m, "a", 10, "ten"));
	CHECK(get_is(m, "a", 19, "ten"));
	CHECK(get_is(m, "a", 20, "twenty"));
	CHECK(get_is(m, "a", 29, "twenty"));
	CHECK(get_is(m, "a", 1000, "thirty"));
	CHECK_EQ(get_rc(m, "a", 9), -ENOENT);
	lsm_mem_unref(m);
}

TEST(get_of_a_missing_key_or_a_prefix_finds_nothing)
{
	struct lsm_mem *m = mem_make();

	add1(m, 1, LSM_KIND_PUT, "abc", "x");
	add1(m, 2, LSM_KIND_PUT, "abd", "y");
	CHECK_EQ(get_rc(m, "ab", 10), -ENOENT);
	CHECK_EQ(get_rc(m, "abcd", 10), -ENOENT);
	CHECK_EQ(get_rc(m, "zzz", 10), -ENOENT);
	CHECK_EQ(get_rc(m, "", 10), -ENOENT);
	CHECK(get_is(m, "abc", 10, "x"));
	lsm_mem_unref(m);
}

TEST(a_tombstone_hides_older_puts_only_from_its_snapshot_on)
{
	struct lsm_mem *m = mem_make();

	add1(m, 5, LSM_KIND_PUT, "k", "old");
	add1(m, 6, LSM_KIND_DEL, "k", NULL);
	add1(m, 9, LSM_KIND_PUT, "k", "new");
	CHECK(get_is(m, "k", 5, "old"));
	CHECK(get_is(m, "k", 6, NULL));
	CHECK(get_is(m, "k", 8, NULL));
	CHECK(get_is(m, "k", 9, "new"));
	lsm_mem_unref(m);
}

TEST(an_empty_value_reads_back_as_an_empty_put)
{
	struct lsm_mem *m = mem_make();

	add1(m, 1, LSM_KIND_PUT, "e", "");
	CHECK(get_is(m, "e", 1, ""));
	lsm_mem_unref(m);
}

static uint8_t *big_value(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n);

	if (p == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131 + seed);
	return p;
}

TEST(large_values_added_inside_one_reservation_read_back_whole)
{
	struct lsm_mem *m = mem_make();
	size_t sizes[3] = { 1 << 20, 3 << 20, 300 * 1024 };
	uint8_t *vals[3];
	char k[16];

	for (int i = 0; i < 3; i++)
		vals[i] = big_value(sizes[i], (unsigned)i);
	CHECK_EQ(lsm_mem_reserve(m, 3, sizes[0] + sizes[1] + sizes[2] + 6), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(k, sizeof(k), "b%d", i);
		lsm_mem_add(m, 1, LSM_KIND_PUT, k, 2, vals[i], sizes[i]);
	}
	for (int i = 0; i < 3; i++) {
		uint8_t kind;
		void *v = NULL;
		size_t vlen = 0;

		snprintf(k, sizeof(k), "b%d", i);
		CHECK_EQ(lsm_mem_get(m, k, 2, 1, &kind, &v, &vlen), 0);
		CHECK_EQ(vlen, sizes[i]);
		CHECK(v != NULL && memcmp(v, vals[i], sizes[i]) == 0);
		free(v);
		free(vals[i]);
	}
	CHECK(lsm_mem_bytes(m) >= sizes[0] + sizes[1] + sizes[2]);
	lsm_mem_unref(m);
}

TEST(a_reservation_too_large_to_exist_fails_with_enomem)
{
	struct lsm_mem *m = mem_make();

	CHECK_EQ(lsm_mem_reserve(m, 1, SIZE_MAX - 16), -ENOMEM);
	CHECK_EQ(lsm_mem_reserve(m, SIZE_MAX / 2, 0), -ENOMEM);
	CHECK_EQ(lsm_mem_reserve(m, 1, 10), 0);
	lsm_mem_unref(m);
}

TEST(memory_in_use_grows_with_adds)
{
	struct lsm_mem *m = mem_make();
	char k[32];
	size_t last = lsm_mem_bytes(m);
	int grew = 0;

	CHECK_EQ(last, 0);
	for (int i = 0; i < 5000; i++) {
		size_t now;

		snprintf(k, sizeof(k), "grow-%d", i);
		add1(m, (uint64_t)i + 1, LSM_KIND_PUT, k, "0123456789");
		now = lsm_mem_bytes(m);
		CHECK(now >= last + strlen(k) + 10 + LSM_TRAILER);
		grew += now > last;
		last = now;
	}
	CHECK_EQ(grew, 5000);
	/* Far below a block per add: the arena packs nodes. */
	CHECK(last < 5000 * 200);
	lsm_mem_unref(m);
}

struct ref_key {
	uint8_t ik[32];
	size_t n;
};

static int ref_key_cmp(const void *a, const void *b)
{
	const struct ref_key *x = a, *y = b;

	return lsm_ikey_cmp(x->ik, x->n, y->ik, y->n);
}

/* Adds n random entries to m and returns their internal keys, sorted. */
static struct ref_key *ref_fill(struct lsm_mem *m, size_t n)
{
	struct ref_key *ref = calloc(n, sizeof(*ref));
	uint64_t rng = 42;
	char k[16];

	if (ref == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		/* Short keys repeat, so one key gets several versions. */
		int len = snprintf(k, sizeof(k), "%x",
				   (unsigned)(rng_next(&rng) % 3000));
		uint8_t kind =
		    rng_next(&rng) % 4 == 0 ? LSM_KIND_DEL : LSM_KIND_PUT;

		ref[i].n =
		    lsm_ikey_make(ref[i].ik, k, (size_t)len, i + 1, kind);
		if (lsm_mem_reserve(m, 1, (size_t)len + 4) < 0)
			abort();
		lsm_mem_add(m, i + 1, kind, k, (size_t)len, "vvvv", 4);
	}
	qsort(ref, n, sizeof(*ref), ref_key_cmp);
	return ref;
}

TEST(iteration_order_equals_a_sorted_reference)
{
	struct lsm_mem *m = mem_make();
	struct ref_key *ref = ref_fill(m, 10000);
	struct lsm_iter *it = lsm_mem_iter_new(m);
	size_t i = 0, n;

	CHECK(it != NULL);
	for (lsm_iter_first(it); lsm_iter_valid(it); lsm_iter_next(it), i++) {
		const uint8_t *k = lsm_iter_key(it, &n);

		if (i >= 10000)
			break;
		CHECK(n == ref[i].n && memcmp(k, ref[i].ik, n) == 0);
	}
	CHECK_EQ(i, 10000);
	CHECK_EQ(lsm_iter_status(it), 0);
	lsm_iter_free(it);
	free(ref);
	lsm_mem_unref(m);
}

TEST(seek_lands_on_the_first_entry_at_or_after_the_key)
{
	struct lsm_mem *m = mem_make();
	struct ref_key *ref = ref_fill(m, 4000);
	struct lsm_iter *it = lsm_mem_iter_new(m);
	uint64_t rng = 7;
	uint8_t probe[32];
	const uint8_t *got;
	char k[16];
	size_t n;

	for (int t = 0; t < 2000; t++) {
		int len = snprintf(k, sizeof(k), "%x",
				   (unsigned)(rng_next(&rng) % 3100));
		struct ref_key want = { .n = 0 };
		size_t lo = 0, hi = 4000;

		want.n = lsm_ikey_make(want.ik, k, (size_t)len,
				       rng_next(&rng) % 4500, LSM_KIND_PUT);
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (ref_key_cmp(&ref[mid], &want) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		memcpy(probe, want.ik, want.n);
		lsm_iter_seek(it, probe, want.n);
		if (lo == 4000) {
			CHECK(!lsm_iter_valid(it));
			continue;
		}
		CHECK(lsm_iter_valid(it));
		if (!lsm_iter_valid(it))
			continue;
		got = lsm_iter_key(it, &n);
		CHECK(n == ref[lo].n && memcmp(got, ref[lo].ik, n) == 0);
	}
	lsm_iter_free(it);
	free(ref);
	lsm_mem_unref(m);
}

TEST(an_iterator_keeps_the_memtable_after_its_last_other_reference)
{
	struct lsm_mem *m = mem_make();
	struct lsm_iter *it;
	size_t n;
	const uint8_t *v;

	add1(m, 3, LSM_KIND_PUT, "held", "value");
	it = lsm_mem_iter_new(m);
	lsm_mem_unref(m);
	CHECK(it != NULL);
	lsm_iter_first(it);
	CHECK(lsm_iter_valid(it));
	v = lsm_iter_value(it, &n);
	CHECK(n == 5 && memcmp(v, "value", 5) == 0);
	lsm_iter_key(it, &n);
	CHECK_EQ(n, 4 + LSM_TRAILER);
	lsm_iter_next(it);
	CHECK(!lsm_iter_valid(it));
	lsm_iter_free(it);
}

/*
 * The race: entry i (seq i + 1) is key i % RACE_KEYS, a tombstone when its
 * seq is a multiple of 5, else a put of "<key>:<seq>".  The writer
 * publishes each seq after its add; a reader at the published snapshot S
 * must find exactly the S entries numbered <= S, each with its own value.
 */
#define RACE_KEYS    1000
#define RACE_ENTRIES 200000

struct race {
	struct lsm_mem *m;
	uint64_t published; /* atomic */
	int done;	    /* atomic */
	long bad;	    /* reader-only until joined */
	long scans;
};

static void race_key(char *k, uint64_t id)
{
	snprintf(k, 16, "r%06u", (unsigned)id);
}

static int race_value_ok(uint64_t id, uint64_t seq, uint8_t kind,
			 const uint8_t *v, size_t vlen)
{
	char want[40];
	int n = snprintf(want, sizeof(want), "%u:%llu", (unsigned)id,
			 (unsigned long long)seq);

	if (seq % 5 == 0)
		return kind == LSM_KIND_DEL && vlen == 0;
	return kind == LSM_KIND_PUT && vlen == (size_t)n &&
	       memcmp(v, want, vlen) == 0;
}

/* One full scan at snap: order, values, and the count of entries <= snap.
 * Returns the number of entries seen at any seq. */
static uint64_t race_scan(struct race *r, struct lsm_iter *it, uint64_t snap)
{
	uint8_t last[32];
	size_t lastn = 0, n, vlen;
	uint64_t seen = 0, at_snap = 0;

	for (lsm_iter_first(it); lsm_iter_valid(it); lsm_iter_next(it)) {
		const uint8_t *k = lsm_iter_key(it, &n);
		const uint8_t *v = lsm_iter_value(it, &vlen);
		uint64_t seq = lsm_ikey_seq(k, n);

		if (n != 7 + LSM_TRAILER ||
		    (lastn > 0 && lsm_ikey_cmp(last, lastn, k, n) >= 0)) {
			r->bad++;
			break;
		}
		memcpy(last, k, n);
		lastn = n;
		seen++;
		if (seq > snap)
			continue;
		at_snap++;
		r->bad += !race_value_ok(strtoul((const char *)k + 1, NULL, 10),
					 seq, lsm_ikey_kind(k, n), v, vlen);
	}
	r->bad += at_snap != snap;
	return seen;
}

/* Gets of a few keys at snap against the version the numbering implies. */
static void race_gets(struct race *r, uint64_t snap, uint64_t *rng)
{
	char k[16];

	for (int i = 0; i < 200; i++) {
		uint64_t id = rng_next(rng) % RACE_KEYS, seq;
		uint8_t kind;
		void *v = NULL;
		size_t vlen = 0;
		int rc;

		race_key(k, id);
		rc = lsm_mem_get(r->m, k, 7, snap, &kind, &v, &vlen);
		if (id + 1 > snap) {
			r->bad += rc != -ENOENT;
			continue;
		}
		seq = id + 1 + (snap - id - 1) / RACE_KEYS * RACE_KEYS;
		r->bad += rc != 0 || !race_value_ok(id, seq, kind, v, vlen);
		free(v);
	}
}

static void *race_reader(void *arg)
{
	struct race *r = arg;
	struct lsm_iter *it = lsm_mem_iter_new(r->m);
	uint64_t rng = 5, seen_before = 0;
	int last = 0;

	while (it != NULL && !last) {
		uint64_t snap, seen;

		last = __atomic_load_n(&r->done, __ATOMIC_ACQUIRE);
		snap = __atomic_load_n(&r->published, __ATOMIC_ACQUIRE);
		seen = race_scan(r, it, snap);
		/* A second scan at the same snapshot never finds fewer. */
		r->bad += seen < seen_before || race_scan(r, it, snap) < seen;
		seen_before = seen;
		race_gets(r, snap, &rng);
		r->scans++;
	}
	r->bad += it == NULL;
	lsm_iter_free(it);
	return NULL;
}

TEST(a_reader_beside_the_writer_sees_only_consistent_entries)
{
	struct race r = { .m = mem_make() };
	pthread_t reader;
	char k[16], v[40];

	CHECK_EQ(pthread_create(&reader, NULL, race_reader, &r), 0);
	for (uint64_t seq = 1; seq <= RACE_ENTRIES; seq++) {
		uint64_t id = (seq - 1) % RACE_KEYS;
		int n = snprintf(v, sizeof(v), "%u:%llu", (unsigned)id,
				 (unsigned long long)seq);

		race_key(k, id);
		if (lsm_mem_reserve(r.m, 1, 7 + (size_t)n) < 0)
			abort();
		lsm_mem_add(r.m, seq,
			    seq % 5 == 0 ? LSM_KIND_DEL : LSM_KIND_PUT, k, 7, v,
			    (size_t)n);
		__atomic_store_n(&r.published, seq, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&r.done, 1, __ATOMIC_RELEASE);
	pthread_join(reader, NULL);
	printf("  reader: %ld scans beside the writer\n", r.scans);
	CHECK_EQ(r.bad, 0);
	CHECK(r.scans >= 1);
	lsm_mem_unref(r.m);
}

/* Adds n entries of 20-byte keys and 100-byte values, random or in
 * ascending order, and prints the rate; random keys at this size are
 * bound by memory latency, ascending ones by the arena. */
static void perf_run(int ascending)
{
	struct lsm_mem *m = mem_make();
	uint64_t rng = 99;
	uint8_t key[20], val[100];
	double t0, dt;
	uint8_t kind;
	void *v = NULL;
	size_t vlen = 0;

	memset(val, 'v', sizeof(val));
	t0 = now_s();
	for (uint64_t i = 0; i < PERF_ADDS; i++) {
		uint64_t r = ascending ? mem_be64(i) : rng_next(&rng);

		memset(key, 'k', sizeof(key));
		memcpy(key, &r, sizeof(r));
		memcpy(val, &i, sizeof(i));
		if (lsm_mem_reserve(m, 1, sizeof(key) + sizeof(val)) < 0)
			abort();
		lsm_mem_add(m, i + 1, LSM_KIND_PUT, key, sizeof(key), val,
			    sizeof(val));
	}
	dt = now_s() - t0;
	printf("  %d adds, %s 20-byte keys, 100-byte values: %.2f s, "
	       "%.0f adds/s, %zu arena bytes\n",
	       PERF_ADDS, ascending ? "ascending" : "random", dt,
	       PERF_ADDS / dt, lsm_mem_bytes(m));
	CHECK_EQ(lsm_mem_count(m), PERF_ADDS);
	CHECK_EQ(
	    lsm_mem_get(m, key, sizeof(key), LSM_SEQ_MAX, &kind, &v, &vlen), 0);
	CHECK(vlen == sizeof(val) && memcmp(v, val, vlen) == 0);
	free(v);
	lsm_mem_unref(m);
}

TEST(adds_of_random_keys_are_timed)
{
	perf_run(0);
}

TEST(adds_of_ascending_keys_are_timed)
{
	perf_run(1);
}

TEST_MAIN(newest_version_of_each_of_many_keys_is_read_back,
	  get_at_a_snapshot_between_versions_sees_the_older_one,
	  get_of_a_missing_key_or_a_prefix_finds_nothing,
	  a_tombstone_hides_older_puts_only_from_its_snapshot_on,
	  an_empty_value_reads_back_as_an_empty_put,
	  large_values_added_inside_one_reservation_read_back_whole,
	  a_reservation_too_large_to_exist_fails_with_enomem,
	  memory_in_use_grows_with_adds,
	  iteration_order_equals_a_sorted_reference,
	  seek_lands_on_the_first_entry_at_or_after_the_key,
	  an_iterator_keeps_the_memtable_after_its_last_other_reference,
	  a_reader_beside_the_writer_sees_only_consistent_entries,
	  adds_of_random_keys_are_timed, adds_of_ascending_keys_are_timed)
