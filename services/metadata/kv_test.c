/*
 * Tests of the key-value engine on the in-memory store: reads and writes,
 * scans, batch atomicity, recovery of exactly the synced prefix,
 * memtable flushes and checkpoints, damaged objects, upload retries, and
 * concurrent writers with concurrent syncs.
 */
#include "kv.h"

#include "test.h"

#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>

static struct objstore *store_new(void)
{
	static int n;
	struct objstore *os = NULL;
	char url[64];

	snprintf(url, sizeof(url), "mem://kv_test-%d", n++);
	if (objstore_open(url, &os) < 0)
		abort();
	return os;
}

static struct kv *kv_new(struct objstore *os, uint32_t ckpt_every)
{
	struct kv_options opt = { .checkpoint_every = ckpt_every,
				  .backoff_max_ms = 20 };
	struct kv *kv = NULL;

	if (kv_open(os, &opt, &kv) < 0)
		abort();
	return kv;
}

static int put1(struct kv *kv, const char *k, const char *v)
{
	struct kv_batch *b = kv_batch_new();
	int rc = kv_batch_put(b, k, strlen(k), v, strlen(v));

	if (rc == 0)
		rc = kv_write(kv, b, NULL);
	kv_batch_free(b);
	return rc;
}

static int del1(struct kv *kv, const char *k)
{
	struct kv_batch *b = kv_batch_new();
	int rc = kv_batch_del(b, k, strlen(k));

	if (rc == 0)
		rc = kv_write(kv, b, NULL);
	kv_batch_free(b);
	return rc;
}

/* Returns 1 if key holds exactly want (want NULL: key is absent). */
static int has(struct kv *kv, const char *k, const char *want)
{
	void *v = NULL;
	size_t len = 0;
	int rc = kv_get(kv, k, strlen(k), &v, &len), ok;

	if (want == NULL)
		return rc == -ENOENT;
	ok = rc == 0 && len == strlen(want) && memcmp(v, want, len) == 0;
	free(v);
	return ok;
}

TEST(put_then_get_returns_the_value_and_delete_removes_it)
{
	struct objstore *os = store_new();
	struct kv *kv = kv_new(os, 0);

	CHECK_EQ(put1(kv, "a", "1"), 0);
	CHECK_EQ(put1(kv, "a", "22"), 0);
	CHECK(has(kv, "a", "22"));
	CHECK(has(kv, "b", NULL));
	CHECK_EQ(del1(kv, "a"), 0);
	CHECK(has(kv, "a", NULL));
	kv_close(kv);
	objstore_close(os);
}

struct scan_acc {
	char seen[16][16];
	int n;
	int stop_after;
};

static int scan_acc_cb(void *arg, const void *key, size_t klen, const void *val,
		       size_t vlen)
{
	struct scan_acc *a = arg;

	(void)val;
	(void)vlen;
	if (a->n < 16 && klen < 16)
		memcpy(a->seen[a->n], key, klen);
	a->n++;
	return a->stop_after && a->n >= a->stop_after ? 7 : 0;
}

TEST(scan_visits_keys_of_the_prefix_from_the_start_key_in_order)
{
	struct objstore *os = store_new();
	struct kv *kv = kv_new(os, 0);
	struct scan_acc a = { 0 };
	const char *keys[] = { "p/c", "p/a", "q/a", "p/b", "o/z", "p" };

	for (int i = 0; i < 6; i++)
		put1(kv, keys[i], "v");
	CHECK_EQ(kv_scan(kv, "p/", 2, "p/b", 3, scan_acc_cb, &a), 0);
	CHECK_EQ(a.n, 2);
	CHECK(strcmp(a.seen[0], "p/b") == 0);
	CHECK(strcmp(a.seen[1], "p/c") == 0);
	memset(&a, 0, sizeof(a));
	CHECK_EQ(kv_scan(kv, "p/", 2, NULL, 0, scan_acc_cb, &a), 0);
	CHECK_EQ(a.n, 3);
	CHECK(strcmp(a.seen[0], "p/a") == 0);
	kv_close(kv);
	objstore_close(os);
}

TEST(scan_stops_when_the_callback_returns_nonzero)
{
	struct objstore *os = store_new();
	struct kv *kv = kv_new(os, 0);
	struct scan_acc a = { .stop_after = 2 };

	for (int i = 0; i < 5; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%d", i);
		put1(kv, k, "v");
	}
	CHECK_EQ(kv_scan(kv, "k", 1, NULL, 0, scan_acc_cb, &a), 7);
	CHECK_EQ(a.n, 2);
	kv_close(kv);
	objstore_close(os);
}

TEST(batches_get_consecutive_sequence_numbers)
{
	struct objstore *os = store_new();
	struct kv *kv = kv_new(os, 0);
	struct kv_batch *b = kv_batch_new();
	uint64_t s1 = 0, s2 = 0;

	kv_batch_put(b, "x", 1, "1", 1);
	CHECK_EQ(kv_write(kv, b, &s1), 0);
	CHECK_EQ(kv_write(kv, b, &s2), 0);
	CHECK_EQ(s1, 1);
	CHECK_EQ(s2, 2);
	kv_batch_free(b);
	kv_close(kv);
	objstore_close(os);
}

struct atom_ctx {
	struct kv *kv;
	int done;
	int torn;
};

static int count_cb(void *arg, const void *key, size_t klen, const void *val,
		    size_t vlen)
{
	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	(*(int *)arg)++;
	return 0;
}

static void *atom_reader(void *arg)
{
	struct atom_ctx *c = arg;

	while (!__atomic_load_n(&c->done, __ATOMIC_ACQUIRE)) {
		int na = 0;

		/* One scan over both prefixes sees one state. */
		kv_scan(c->kv, "", 0, NULL, 0, count_cb, &na);
		if (na % 2 != 0)
			c->torn++;
	}
	return NULL;
}

TEST(readers_never_see_half_of_a_batch)
{
	struct objstore *os = store_new();
	struct atom_ctx c = { .kv = kv_new(os, 0) };
	pthread_t t;

	pthread_create(&t, NULL, atom_reader, &c);
	for (int i = 0; i < 2000; i++) {
		struct kv_batch *b = kv_batch_new();
		char k[16];

		snprintf(k, sizeof(k), "a%06d", i);
		kv_batch_put(b, k, strlen(k), "v", 1);
		k[0] = 'b';
		kv_batch_put(b, k, strlen(k), "v", 1);
		CHECK_EQ(kv_write(c.kv, b, NULL), 0);
		kv_batch_free(b);
	}
	__atomic_store_n(&c.done, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	CHECK_EQ(c.torn, 0);
	kv_close(c.kv);
	objstore_close(os);
}

TEST(reopen_after_sync_recovers_exactly_the_synced_writes)
{
	struct objstore *os = store_new();
	struct kv *kv = kv_new(os, 0);
	uint64_t seq = 0;

	put1(kv, "a", "1");
	put1(kv, "b", "2");
	del1(kv, "a");
	CHECK_EQ(kv_sync(kv, NULL, NULL, &seq), 0);
	CHECK_EQ(seq, 3);
	put1(kv, "c", "unsynced");
	kv_close(kv);
	kv = kv_new(os, 0);
	CHECK(has(kv, "a", NULL));
	CHECK(has(kv, "b", "2"));
	CHECK(has(kv, "c", NULL));
	put1(kv, "d", "4");
	CHECK_EQ(kv_sync(kv, NULL, NULL, &seq), 0);
	CHECK_EQ(seq, 4);
	kv_close(kv);
	objstore_close(os);
}

static int list_count_cb(void *arg, const char *key, uint64_t size)
{
	(void)key;
	(void)size;
	(*(int *)arg)++;
	return 0;
}

static int objects_under(struct objstore *os, const char *prefix)
{
	int n = 0;

	objstore_list(os, prefix, list_count_cb, &n);
	return n;
}

TEST(a_flush_moves_the_wal_into_an_sst_and_reopen_reads_it_back)
{
	struct objstore *os = store_new();
	struct kv *kv = kv_new(os, 0);
	struct kv_stats st;
	uint64_t deleted = 0;

	for (int i = 0; i < 3; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%d", i);
		put1(kv, k, k);
		CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	}
	CHECK_EQ(objects_under(os, "meta/wal/"), 3);
	CHECK_EQ(kv_flush(kv), 0);
	kv_stats_get(kv, &st);
	CHECK_EQ(st.flushed_seq, 3);
	CHECK_EQ(st.level_files[0], 1);
	CHECK_EQ(objects_under(os, "meta/sst/"), 1);
	CHECK_EQ(kv_gc(kv, &deleted), 0);
	CHECK(deleted >= 2);
	CHECK(objects_under(os, "meta/wal/") <= 1);
	put1(kv, "k3", "k3");
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	kv_close(kv);
	kv = kv_new(os, 0);
	CHECK(has(kv, "k0", "k0"));
	CHECK(has(kv, "k1", "k1"));
	CHECK(has(kv, "k2", "k2"));
	CHECK(has(kv, "k3", "k3"));
	kv_stats_get(kv, &st);
	CHECK_EQ(st.last_seq, 4);
	kv_close(kv);
	objstore_close(os);
}

TEST(a_checkpoint_keeps_its_ssts_through_compaction_and_gc)
{
	struct objstore *os = store_new();
	struct kv *kv = kv_new(os, 0);
	struct kv_stats st;
	uint64_t deleted;
	char k[32];
	int live = 0;

	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < 50; i++) {
			snprintf(k, sizeof(k), "key%03d", i);
			put1(kv, k, round % 2 ? "odd" : "even");
		}
		CHECK_EQ(kv_flush(kv), 0);
		if (round == 0)
			CHECK_EQ(kv_checkpoint(kv, "first"), 0);
	}
	CHECK_EQ(kv_checkpoint(kv, "first"), -EEXIST);
	CHECK_EQ(kv_checkpoint(kv, "../x"), -EINVAL);
	CHECK_EQ(kv_compact_wait(kv), 0);
	CHECK_EQ(kv_gc(kv, &deleted), 0);
	/* The checkpoint's one SST survives beside the compacted tree. */
	kv_stats_get(kv, &st);
	CHECK(st.compactions >= 1);
	for (int l = 0; l < 8; l++)
		live += (int)st.level_files[l];
	CHECK_EQ(objects_under(os, "meta/sst/"), live + 1);
	CHECK(has(kv, "key007", "odd"));
	kv_close(kv);
	objstore_close(os);
}

struct first_key {
	char key[256];
};

static int first_key_cb(void *arg, const char *key, uint64_t size)
{
	(void)size;
	snprintf(((struct first_key *)arg)->key, 256, "%s", key);
	return 1;
}

/* Flips one byte in the middle of the first object under prefix. */
static void object_damage(struct objstore *os, const char *prefix)
{
	struct first_key f = { "" };
	uint8_t *data;
	size_t len;

	objstore_list(os, prefix, first_key_cb, &f);
	if (objstore_get(os, f.key, (void **)&data, &len) < 0)
		abort();
	data[len / 2] ^= 0x40;
	objstore_del(os, f.key);
	objstore_put(os, f.key, data, len);
	free(data);
}

static int last_key_cb(void *arg, const char *key, uint64_t size)
{
	(void)size;
	snprintf(((struct first_key *)arg)->key, 256, "%s", key);
	return 0;
}

/* Flips one byte in the middle of the last object under prefix. */
static void object_damage_last(struct objstore *os, const char *prefix)
{
	struct first_key f = { "" };
	uint8_t *data;
	size_t len;

	objstore_list(os, prefix, last_key_cb, &f);
	if (objstore_get(os, f.key, (void **)&data, &len) < 0)
		abort();
	data[len / 2] ^= 0x40;
	objstore_del(os, f.key);
	objstore_put(os, f.key, data, len);
	free(data);
}

TEST(a_damaged_wal_object_fails_the_open)
{
	struct objstore *os = store_new();
	struct kv *kv = kv_new(os, 0);
	struct kv_options opt = { 0 };

	put1(kv, "a", "some value");
	kv_sync(kv, NULL, NULL, NULL);
	kv_close(kv);
	object_damage(os, "meta/wal/");
	kv = NULL;
	CHECK_EQ(kv_open(os, &opt, &kv), -EIO);
	CHECK(kv == NULL);
	objstore_close(os);
}

TEST(a_damaged_manifest_fails_the_open)
{
	struct objstore *os = store_new();
	struct kv *kv = kv_new(os, 0);
	struct kv_options opt = { 0 };
	uint64_t deleted;

	put1(kv, "a", "some value");
	CHECK_EQ(kv_flush(kv), 0);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(kv_flush(kv), 0);
	kv_close(kv);
	kv = kv_new(os, 0);
	CHECK_EQ(kv_gc(kv, &deleted), 0);
	kv_close(kv);
	/* Only the newest few manifests remain; damage the newest. */
	object_damage_last(os, "meta/manifest/");
	kv = NULL;
	CHECK_EQ(kv_open(os, &opt, &kv), -EIO);
	CHECK(kv == NULL);
	objstore_close(os);
}

TEST(a_missing_wal_object_is_a_gap_that_fails_the_open)
{
	struct objstore *os = store_new();
	struct kv *kv = kv_new(os, 0);
	struct kv_options opt = { 0 };
	struct first_key f = { "" };

	put1(kv, "a", "1");
	kv_sync(kv, NULL, NULL, NULL);
	put1(kv, "b", "2");
	kv_sync(kv, NULL, NULL, NULL);
	kv_close(kv);
	objstore_list(os, "meta/wal/", first_key_cb, &f);
	objstore_del(os, f.key);
	CHECK_EQ(kv_open(os, &opt, &kv), -EIO);
	objstore_close(os);
}

/* A store that fails its next `fail_puts` puts with -EIO. */
struct faulty_store {
	struct objstore base;
	struct objstore *inner;
	int fail_puts;
};

static int faulty_put(struct objstore *os, const char *key, const void *data,
		      size_t len, int if_absent)
{
	struct faulty_store *f = (struct faulty_store *)os;

	if (f->fail_puts > 0) {
		f->fail_puts--;
		return -EIO;
	}
	return f->inner->ops->put(f->inner, key, data, len, if_absent);
}

static int faulty_get(struct objstore *os, const char *key, void **data,
		      size_t *len)
{
	struct faulty_store *f = (struct faulty_store *)os;

	return objstore_get(f->inner, key, data, len);
}

static int faulty_get_range(struct objstore *os, const char *key, uint64_t off,
			    size_t len, void *buf, size_t *got)
{
	struct faulty_store *f = (struct faulty_store *)os;

	return objstore_get_range(f->inner, key, off, len, buf, got);
}

static int faulty_del(struct objstore *os, const char *key)
{
	return objstore_del(((struct faulty_store *)os)->inner, key);
}

static int faulty_list(struct objstore *os, const char *prefix,
		       objstore_list_cb cb, void *arg)
{
	struct faulty_store *f = (struct faulty_store *)os;

	return objstore_list(f->inner, prefix, cb, arg);
}

static const struct objstore_ops faulty_ops = {
	.scheme = "faulty",
	.put = faulty_put,
	.get = faulty_get,
	.get_range = faulty_get_range,
	.del = faulty_del,
	.list = faulty_list,
};

TEST(failed_uploads_are_retried_and_counted)
{
	struct faulty_store f = { { &faulty_ops }, store_new(), 3 };
	struct kv *kv = kv_new(&f.base, 0);
	struct kv_stats st;

	put1(kv, "a", "1");
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	kv_stats_get(kv, &st);
	CHECK_EQ(st.upload_retries, 3);
	CHECK_EQ(st.durable_seq, 1);
	kv_close(kv);
	kv = kv_new(f.inner, 0);
	CHECK(has(kv, "a", "1"));
	kv_close(kv);
	objstore_close(f.inner);
}

TEST(a_sync_that_runs_out_of_attempts_keeps_its_records_for_the_next)
{
	struct faulty_store f = { { &faulty_ops }, store_new(), 0 };
	struct kv_options opt = { .upload_attempts = 2, .backoff_max_ms = 1 };
	struct kv *kv = NULL;

	CHECK_EQ(kv_open(&f.base, &opt, &kv), 0);
	f.fail_puts = 100;
	put1(kv, "a", "1");
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), -EIO);
	put1(kv, "b", "2");
	f.fail_puts = 0;
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	kv_close(kv);
	/* The failed round's object is stored again as it was, then "b". */
	CHECK_EQ(objects_under(f.inner, "meta/wal/"), 2);
	kv = kv_new(f.inner, 0);
	CHECK(has(kv, "a", "1"));
	CHECK(has(kv, "b", "2"));
	kv_close(kv);
	objstore_close(f.inner);
}

static int before_fail_cb(void *arg)
{
	(*(int *)arg)++;
	return -ECONNREFUSED;
}

TEST(a_failing_before_upload_fails_the_sync_and_uploads_nothing)
{
	struct objstore *os = store_new();
	struct kv *kv = kv_new(os, 0);
	int calls = 0;

	put1(kv, "a", "1");
	CHECK_EQ(kv_sync(kv, before_fail_cb, &calls, NULL), -ECONNREFUSED);
	CHECK_EQ(calls, 1);
	CHECK_EQ(objects_under(os, "meta/wal/"), 0);
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	CHECK_EQ(objects_under(os, "meta/wal/"), 1);
	kv_close(kv);
	objstore_close(os);
}

#define NWRITERS 4
#define NPERW	 500

struct conc_ctx {
	struct kv *kv;
	int id;
	int failed;
	int calls;
};

static int before_count_cb(void *arg)
{
	__atomic_add_fetch((int *)arg, 1, __ATOMIC_RELAXED);
	return 0;
}

static void *conc_writer(void *arg)
{
	struct conc_ctx *c = arg;

	for (int i = 0; i < NPERW; i++) {
		char k[32];
		uint64_t seq;

		snprintf(k, sizeof(k), "w%d/%06d", c->id, i);
		if (put1(c->kv, k, k) < 0)
			c->failed++;
		if (i % 10 == 0 &&
		    kv_sync(c->kv, before_count_cb, &c->calls, &seq) < 0)
			c->failed++;
	}
	return NULL;
}

TEST(concurrent_writers_and_syncs_lose_nothing)
{
	struct objstore *os = store_new();
	struct conc_ctx c[NWRITERS];
	pthread_t t[NWRITERS];
	struct kv *kv = kv_new(os, 5);
	int n = 0, calls = 0;

	for (int i = 0; i < NWRITERS; i++) {
		c[i] = (struct conc_ctx){ kv, i, 0, 0 };
		pthread_create(&t[i], NULL, conc_writer, &c[i]);
	}
	for (int i = 0; i < NWRITERS; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(c[i].failed, 0);
		calls += c[i].calls;
	}
	CHECK(calls > 0);
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	kv_close(kv);
	kv = kv_new(os, 5);
	kv_scan(kv, "w", 1, NULL, 0, count_cb, &n);
	CHECK_EQ(n, NWRITERS * NPERW);
	CHECK(has(kv, "w3/000499", "w3/000499"));
	kv_close(kv);
	objstore_close(os);
}

TEST(the_last_write_of_a_key_in_a_large_batch_wins_also_after_replay)
{
	struct objstore *os = store_new();
	struct kv *kv = kv_new(os, 0);
	struct kv_batch *b = kv_batch_new();
	char k[16], v[16];

	for (int i = 0; i < 200; i++) {
		snprintf(k, sizeof(k), "key%d", i % 7);
		snprintf(v, sizeof(v), "v%d", i);
		CHECK_EQ(kv_batch_put(b, k, strlen(k), v, strlen(v)), 0);
	}
	CHECK_EQ(kv_batch_del(b, "key3", 4), 0);
	CHECK_EQ(kv_write(kv, b, NULL), 0);
	kv_batch_free(b);
	CHECK(has(kv, "key0", "v196"));
	CHECK(has(kv, "key6", "v195"));
	CHECK(has(kv, "key3", NULL));
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	kv_close(kv);
	kv = kv_new(os, 0);
	CHECK(has(kv, "key0", "v196"));
	CHECK(has(kv, "key3", NULL));
	kv_close(kv);
	objstore_close(os);
}

TEST_MAIN(put_then_get_returns_the_value_and_delete_removes_it,
	  scan_visits_keys_of_the_prefix_from_the_start_key_in_order,
	  scan_stops_when_the_callback_returns_nonzero,
	  batches_get_consecutive_sequence_numbers,
	  readers_never_see_half_of_a_batch,
	  reopen_after_sync_recovers_exactly_the_synced_writes,
	  a_flush_moves_the_wal_into_an_sst_and_reopen_reads_it_back,
	  a_checkpoint_keeps_its_ssts_through_compaction_and_gc,
	  a_damaged_wal_object_fails_the_open,
	  a_damaged_manifest_fails_the_open,
	  a_missing_wal_object_is_a_gap_that_fails_the_open,
	  failed_uploads_are_retried_and_counted,
	  a_sync_that_runs_out_of_attempts_keeps_its_records_for_the_next,
	  a_failing_before_upload_fails_the_sync_and_uploads_nothing,
	  concurrent_writers_and_syncs_lose_nothing,
	  the_last_write_of_a_key_in_a_large_batch_wins_also_after_replay)
