/*
 * Tests of the single-writer fence as the engine promises it: opening a
 * store raises the writer epoch, so the writer that opened it before is
 * fenced at its next write or sync (-EROFS, kv_stats.fenced 1) and can
 * no longer store anything, while everything it had acknowledged is in
 * the new writer's state.  Checked plainly and with the old writer
 * writing and syncing continuously in a thread while the new one opens.
 *
 * Both engines share one mem:// bucket: the memory store shares a
 * bucket by name within a process, as two clients share a bucket.
 */
#include "kv.h"

#include "log.h"
#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define RACE_MAX    100000 /* the old writer's rounds, at most */
#define RACE_BEFORE 50	   /* its acked rounds before the new one opens */

static void store_name(char *url, size_t len)
{
	static int n;

	snprintf(url, len, "mem://kv_fence2_test-%d", n++);
}

static struct kv *kv_new(const char *url, struct objstore **os)
{
	struct kv_options opt = {
		.upload_attempts = 3,
		.backoff_max_ms = 2,
		.memtable_bytes = 64 << 10,
		.sst_bytes = 32 << 10,
		.l0_trigger = 2,
		.l1_bytes = 128 << 10,
		.block_cache_bytes = 256 << 10,
	};
	struct kv *kv = NULL;

	if (objstore_open(url, os) < 0 || kv_open(*os, &opt, &kv) < 0)
		abort();
	return kv;
}

static int put1(struct kv *kv, const char *k, const char *v)
{
	struct kv_batch *b = kv_batch_new();
	int rc =
	    b == NULL ? -ENOMEM : kv_batch_put(b, k, strlen(k), v, strlen(v));

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
		ok = rc == -ENOENT;
	else
		ok =
		    rc == 0 && len == strlen(want) && memcmp(v, want, len) == 0;
	free(v);
	return ok;
}

static uint64_t fenced(struct kv *kv)
{
	struct kv_stats st;

	kv_stats_get(kv, &st);
	return st.fenced;
}

static void keyf(char *buf, size_t len, const char *who, int i)
{
	snprintf(buf, len, "%s/%05d", who, i);
}

/* Writes n keys who/00000.. and syncs after each; returns how many
 * syncs succeeded before the first failure. */
static int write_synced(struct kv *kv, const char *who, int n)
{
	char k[32];

	for (int i = 0; i < n; i++) {
		keyf(k, sizeof(k), who, i);
		if (put1(kv, k, k) < 0 || kv_sync(kv, NULL, NULL, NULL) < 0)
			return i;
	}
	return n;
}

/* Returns 1 if keys who/00000 .. who/(n-1) all hold their names. */
static int holds(struct kv *kv, const char *who, int n)
{
	char k[32];

	for (int i = 0; i < n; i++) {
		keyf(k, sizeof(k), who, i);
		if (!has(kv, k, k))
			return 0;
	}
	return 1;
}

TEST(opening_a_store_fences_its_previous_writer_and_keeps_what_it_acked)
{
	struct objstore *osa, *osb, *osc;
	struct kv *a, *b, *c;
	char url[64];
	int wrc;

	zlog_level = LOG_ERR;
	store_name(url, sizeof(url));
	a = kv_new(url, &osa);
	CHECK_EQ(write_synced(a, "a", 5), 5);
	b = kv_new(url, &osb);
	CHECK(holds(b, "a", 5));
	wrc = put1(a, "a/late", "late");
	CHECK(wrc == 0 || wrc == -EROFS);
	CHECK_EQ(kv_sync(a, NULL, NULL, NULL), -EROFS);
	CHECK_EQ(fenced(a), 1);
	CHECK_EQ(put1(a, "a/later", "later"), -EROFS);
	CHECK_EQ(fenced(b), 0);
	CHECK_EQ(write_synced(b, "b", 3), 3);
	kv_close(b);
	kv_close(a);
	c = kv_new(url, &osc);
	CHECK(holds(c, "a", 5));
	CHECK(holds(c, "b", 3));
	CHECK(has(c, "a/late", NULL));
	CHECK(has(c, "a/later", NULL));
	kv_close(c);
	objstore_close(osa);
	objstore_close(osb);
	objstore_close(osc);
}

struct racer {
	struct kv *kv;
	int acked; /* rounds whose sync succeeded: a/00000 .. a/(acked-1) */
	int err;   /* the first failure */
	int done, stop;
};

static void *racer_main(void *arg)
{
	struct racer *r = arg;
	char k[32];

	for (int i = 0; i < RACE_MAX && r->err == 0 &&
			!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
	     i++) {
		keyf(k, sizeof(k), "a", i);
		r->err = put1(r->kv, k, k);
		if (r->err == 0)
			r->err = kv_sync(r->kv, NULL, NULL, NULL);
		if (r->err == 0)
			__atomic_store_n(&r->acked, i + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Waits up to two seconds for the racer to stop by itself, then stops
 * it. */
static void racer_finish(struct racer *r, pthread_t t)
{
	for (int i = 0; i < 200 && !__atomic_load_n(&r->done, __ATOMIC_ACQUIRE);
	     i++)
		sleep_ms(10);
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
}

TEST(a_writer_syncing_while_another_opens_is_fenced_and_loses_no_ack)
{
	struct objstore *osa, *osb, *osc;
	struct racer r = { 0 };
	struct kv *b, *c;
	pthread_t t;
	char url[64];

	zlog_level = LOG_ERR;
	store_name(url, sizeof(url));
	r.kv = kv_new(url, &osa);
	pthread_create(&t, NULL, racer_main, &r);
	/* The new writer opens while the old one is in full swing. */
	for (int i = 0;
	     i < 2000 &&
	     __atomic_load_n(&r.acked, __ATOMIC_ACQUIRE) < RACE_BEFORE;
	     i++)
		sleep_ms(1);
	b = kv_new(url, &osb);
	CHECK_EQ(write_synced(b, "b", 10), 10);
	racer_finish(&r, t);
	CHECK_EQ(r.err, -EROFS);
	CHECK_EQ(fenced(r.kv), 1);
	CHECK(r.acked >= RACE_BEFORE && r.acked < RACE_MAX);
	CHECK_EQ(fenced(b), 0);
	kv_close(b);
	kv_close(r.kv);
	c = kv_new(url, &osc);
	CHECK(holds(c, "a", r.acked));
	CHECK(holds(c, "b", 10));
	printf("  the first writer acked %d rounds before it was fenced\n",
	       r.acked);
	kv_close(c);
	objstore_close(osa);
	objstore_close(osb);
	objstore_close(osc);
}

TEST_MAIN(opening_a_store_fences_its_previous_writer_and_keeps_what_it_acked,
	  a_writer_syncing_while_another_opens_is_fenced_and_loses_no_ack)
