/*
 * Tests of what keeps two engines on one store from corrupting it: WAL
 * objects named by their first sequence number alone, so that two writers
 * going on from the same point need the same name and only one put wins;
 * the loser is fenced (every later write and sync fails with -EROFS) and
 * the store reopens on the winner's state.  Also: a store written in the
 * early naming ("<first>-<last>") still opens, and a round whose answer
 * was lost does not fence its own engine.
 */
#include "kv_int.h"

#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>

static struct objstore *store_new(void)
{
	static int n;
	struct objstore *os = NULL;
	char url[64];

	snprintf(url, sizeof(url), "mem://kv_fence_test-%d", n++);
	if (objstore_open(url, &os) < 0)
		abort();
	return os;
}

static struct kv *kv_new(struct objstore *os, uint32_t ckpt_every)
{
	struct kv_options opt = { .checkpoint_every = ckpt_every,
				  .upload_attempts = 3,
				  .backoff_max_ms = 2 };
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

static int fenced(struct kv *kv)
{
	struct kv_stats st;

	kv_stats_get(kv, &st);
	return (int)st.fenced;
}

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

static int keys_under(struct kv *kv, const char *prefix)
{
	int n = 0;

	kv_scan(kv, prefix, strlen(prefix), NULL, 0, count_cb, &n);
	return n;
}

TEST(the_second_engine_to_sync_is_fenced_and_writes_nothing_more)
{
	struct objstore *os = store_new();
	struct kv *a = kv_new(os, 0), *b = kv_new(os, 0);
	uint64_t seq = 0;

	CHECK_EQ(put1(a, "a1", "A"), 0);
	CHECK_EQ(put1(b, "b1", "B"), 0);
	CHECK_EQ(kv_sync(a, NULL, NULL, NULL), 0);
	CHECK_EQ(kv_sync(b, NULL, NULL, &seq), -EROFS);
	CHECK_EQ(seq, 0);
	CHECK(fenced(b));
	CHECK(!fenced(a));
	CHECK_EQ(put1(b, "b2", "B"), -EROFS);
	CHECK(has(b, "b2", NULL));
	CHECK_EQ(kv_sync(b, NULL, NULL, NULL), -EROFS);
	CHECK_EQ(put1(a, "a2", "A"), 0);
	CHECK_EQ(kv_sync(a, NULL, NULL, NULL), 0);
	kv_close(a);
	kv_close(b);
	objstore_close(os);
}

TEST(reopening_after_two_writers_recovers_exactly_the_winners_synced_state)
{
	struct objstore *os = store_new();
	struct kv *a = kv_new(os, 0), *b = kv_new(os, 0);

	put1(a, "a1", "A");
	put1(b, "b1", "B");
	CHECK_EQ(kv_sync(b, NULL, NULL, NULL), 0);
	CHECK_EQ(kv_sync(a, NULL, NULL, NULL), -EROFS);
	put1(b, "b2", "B");
	CHECK_EQ(kv_sync(b, NULL, NULL, NULL), 0);
	put1(b, "b3", "unsynced");
	kv_close(a);
	kv_close(b);
	a = kv_new(os, 0);
	CHECK(has(a, "b1", "B"));
	CHECK(has(a, "b2", "B"));
	CHECK(has(a, "b3", NULL));
	CHECK(has(a, "a1", NULL));
	put1(a, "a4", "A");
	CHECK_EQ(kv_sync(a, NULL, NULL, NULL), 0);
	kv_close(a);
	objstore_close(os);
}

TEST(a_writer_behind_a_checkpoint_that_freed_its_name_is_fenced)
{
	struct objstore *os = store_new();
	struct kv *a = kv_new(os, 1), *b = kv_new(os, 1);
	struct kv_stats st;

	put1(a, "a1", "A");
	CHECK_EQ(kv_sync(a, NULL, NULL, NULL), 0);
	kv_stats_get(a, &st);
	CHECK_EQ(st.ckpt_seq, 1);
	/* a's checkpoint deleted meta/wal/...1, so b's put of it wins. */
	put1(b, "b1", "B");
	CHECK_EQ(kv_sync(b, NULL, NULL, NULL), -EROFS);
	CHECK(fenced(b));
	put1(a, "a2", "A");
	CHECK_EQ(kv_sync(a, NULL, NULL, NULL), 0);
	kv_close(a);
	kv_close(b);
	a = kv_new(os, 1);
	CHECK(has(a, "a1", "A"));
	CHECK(has(a, "a2", "A"));
	CHECK(has(a, "b1", NULL));
	kv_close(a);
	objstore_close(os);
}

#define RACE_ROUNDS 40

struct racer {
	struct kv *kv;
	const char *prefix;
	int synced; /* rounds whose sync succeeded */
	int failed; /* first failure's error, 0 if none */
};

static void *racer_main(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < RACE_ROUNDS && r->failed == 0; i++) {
		char k[32];

		snprintf(k, sizeof(k), "%s%03d", r->prefix, i);
		r->failed = put1(r->kv, k, k);
		if (r->failed == 0)
			r->failed = kv_sync(r->kv, NULL, NULL, NULL);
		if (r->failed == 0)
			r->synced++;
	}
	return NULL;
}

/* Runs two engines writing and syncing at once; returns the winner. */
static int race(struct objstore *os, uint32_t ckpt_every)
{
	struct racer r[2] = { { kv_new(os, ckpt_every), "a/", 0, 0 },
			      { kv_new(os, ckpt_every), "b/", 0, 0 } };
	pthread_t t[2];
	int winner;

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, racer_main, &r[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(fenced(r[0].kv) + fenced(r[1].kv), 1);
	winner = fenced(r[0].kv) ? 1 : 0;
	CHECK_EQ(r[winner].failed, 0);
	CHECK_EQ(r[winner].synced, RACE_ROUNDS);
	CHECK_EQ(r[!winner].failed, -EROFS);
	CHECK_EQ(r[!winner].synced, 0);
	kv_close(r[0].kv);
	kv_close(r[1].kv);
	return winner;
}

TEST(two_engines_racing_on_one_store_leave_exactly_one_writable)
{
	static const uint32_t every[] = { 0, 1, 3 };

	for (size_t i = 0; i < sizeof(every) / sizeof(every[0]); i++) {
		struct objstore *os = store_new();
		int w = race(os, every[i]);
		struct kv *kv = kv_new(os, every[i]);

		CHECK_EQ(keys_under(kv, w ? "b/" : "a/"), RACE_ROUNDS);
		CHECK_EQ(keys_under(kv, w ? "a/" : "b/"), 0);
		kv_close(kv);
		objstore_close(os);
	}
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

static int exists(struct objstore *os, const char *key)
{
	void *obj;
	size_t len;

	if (objstore_get(os, key, &obj, &len) < 0)
		return 0;
	free(obj);
	return 1;
}

/* Renames every WAL object to the early form "<first>-<last>". */
static int early_rename_cb(void *arg, const char *key, uint64_t size)
{
	struct objstore *os = arg;
	uint64_t first, last;
	char name[KV_NAME_MAX];
	void *obj;
	size_t len;

	(void)size;
	if (kv_name_parse_wal(key + 9, &first, &last) < 0 || last != 0)
		return 0;
	if (objstore_get(os, key, &obj, &len) < 0)
		abort();
	memcpy(&last, (uint8_t *)obj + 24, 8); /* header: last, LE */
	snprintf(name, sizeof(name), "meta/wal/%020llu-%020llu",
		 (unsigned long long)first, (unsigned long long)last);
	objstore_put(os, name, obj, len);
	objstore_del(os, key);
	free(obj);
	return 0;
}

TEST(a_store_in_the_early_wal_naming_still_opens_and_goes_on_in_the_new)
{
	struct objstore *os = store_new();
	struct kv *kv = kv_new(os, 0);
	struct kv_stats st;

	put1(kv, "k1", "1");
	put1(kv, "k2", "2");
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	put1(kv, "k3", "3");
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	kv_close(kv);
	objstore_list(os, "meta/wal/", early_rename_cb, os);
	CHECK(exists(os, "meta/wal/00000000000000000001-"
			 "00000000000000000002"));
	CHECK(exists(os, "meta/wal/00000000000000000003-"
			 "00000000000000000003"));
	kv = kv_new(os, 0);
	CHECK(has(kv, "k1", "1"));
	CHECK(has(kv, "k3", "3"));
	put1(kv, "k4", "4");
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	kv_close(kv);
	CHECK(exists(os, "meta/wal/00000000000000000004"));
	kv = kv_new(os, 1);
	CHECK(has(kv, "k2", "2"));
	CHECK(has(kv, "k4", "4"));
	kv_stats_get(kv, &st);
	CHECK_EQ(st.last_seq, 4);
	/* A checkpoint prunes WAL objects of both namings. */
	put1(kv, "k5", "5");
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	CHECK_EQ(objects_under(os, "meta/wal/"), 0);
	kv_close(kv);
	objstore_close(os);
}

/* A store that stores the next `lose` puts but answers -EIO. */
struct lossy_store {
	struct objstore base;
	struct objstore *inner;
	int lose;
};

static int lossy_put(struct objstore *os, const char *key, const void *data,
		     size_t len, int if_absent)
{
	struct lossy_store *l = (struct lossy_store *)os;
	int rc = l->inner->ops->put(l->inner, key, data, len, if_absent);

	if (l->lose > 0) {
		l->lose--;
		return -EIO;
	}
	return rc;
}

static int lossy_get(struct objstore *os, const char *key, void **data,
		     size_t *len)
{
	return objstore_get(((struct lossy_store *)os)->inner, key, data, len);
}

static int lossy_del(struct objstore *os, const char *key)
{
	return objstore_del(((struct lossy_store *)os)->inner, key);
}

static int lossy_list(struct objstore *os, const char *prefix,
		      objstore_list_cb cb, void *arg)
{
	return objstore_list(((struct lossy_store *)os)->inner, prefix, cb,
			     arg);
}

static const struct objstore_ops lossy_ops = {
	.scheme = "lossy",
	.put = lossy_put,
	.get = lossy_get,
	.del = lossy_del,
	.list = lossy_list,
};

TEST(a_stored_round_whose_answer_was_lost_does_not_fence_its_engine)
{
	struct lossy_store l = { { &lossy_ops }, store_new(), 100 };
	struct kv *kv = kv_new(&l.base, 0);

	put1(kv, "a", "1");
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), -EIO);
	put1(kv, "b", "2");
	l.lose = 0;
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	CHECK(!fenced(kv));
	kv_close(kv);
	kv = kv_new(l.inner, 0);
	CHECK(has(kv, "a", "1"));
	CHECK(has(kv, "b", "2"));
	kv_close(kv);
	objstore_close(l.inner);
}

TEST_MAIN(the_second_engine_to_sync_is_fenced_and_writes_nothing_more,
	  reopening_after_two_writers_recovers_exactly_the_winners_synced_state,
	  a_writer_behind_a_checkpoint_that_freed_its_name_is_fenced,
	  two_engines_racing_on_one_store_leave_exactly_one_writable,
	  a_store_in_the_early_wal_naming_still_opens_and_goes_on_in_the_new,
	  a_stored_round_whose_answer_was_lost_does_not_fence_its_engine)
