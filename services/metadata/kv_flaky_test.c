/*
 * The engine on a faulty store (objstore_flaky over mem://): a fifth of
 * requests fail, a tenth are stored but answer -EIO, some are slow or
 * time out.  Random batches and syncs run on it; a failed sync keeps its
 * batches queued and a later one retries them.  At several points the
 * engine is closed without a sync and the store reopened through a
 * fault-free wrapper: the state must be exactly the batches 1..P for
 * some P between the last acknowledged sync and the last write.  At the
 * end the store heals, a sync succeeds, and a reopen finds exactly
 * everything written.
 *
 * Batch contents are a pure function of (seed, sequence number), so a
 * batch rewritten after a reopen is the same batch.  The seed is printed
 * first; ZEROFS_SEED=<n> replays the faults (thread timing aside).
 */
#include "kv.h"

#include "log.h"
#include "objstore_flaky.h"
#include "test.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define FLAKY_KEYS	  200
#define FLAKY_VAL_MAX	  200
#define FLAKY_BATCH_MAX	  3
#define FLAKY_PHASES	  6
#define FLAKY_PHASE_BATCH 300

struct flaky_run {
	uint64_t seed, rng;
	struct objstore *inner, *os;
	struct kv *kv;
	uint64_t written, acked;
	long sync_ok, sync_failed;
	int present[FLAKY_KEYS];
	size_t len[FLAKY_KEYS];
	uint8_t val[FLAKY_KEYS][FLAKY_VAL_MAX];
	uint8_t buf[FLAKY_VAL_MAX];
	uint32_t pos;
	int bad;
};

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Operation i of batch seq: its key, whether it deletes, its value in
 * r->buf.  g is the batch's generator. */
static void batch_op(struct flaky_run *r, uint64_t *g, uint32_t *key, int *del,
		     size_t *len)
{
	*key = (uint32_t)(rng_next(g) % FLAKY_KEYS);
	*del = rng_next(g) % 4 == 0;
	*len = *del ? 0 : (size_t)(rng_next(g) % (FLAKY_VAL_MAX + 1));
	for (size_t i = 0; i < *len; i++)
		r->buf[i] = (uint8_t)(rng_next(g) >> 56);
}

static uint64_t batch_gen(const struct flaky_run *r, uint64_t seq,
			  uint32_t *nops)
{
	uint64_t g = (r->seed ^ (seq * 0x9E3779B97F4A7C15ULL)) | 1;

	*nops = 1 + (uint32_t)(rng_next(&g) % FLAKY_BATCH_MAX);
	return g;
}

static void key_name(uint32_t k, char *buf, size_t len)
{
	snprintf(buf, len, "f/%03u", k);
}

static int batch_write(struct flaky_run *r, uint64_t seq)
{
	struct kv_batch *b = kv_batch_new();
	uint32_t n;
	uint64_t g = batch_gen(r, seq, &n), got = 0;
	int rc = b == NULL ? -ENOMEM : 0;

	for (uint32_t i = 0; i < n && rc == 0; i++) {
		char k[16];
		uint32_t key;
		size_t len;
		int del;

		batch_op(r, &g, &key, &del, &len);
		key_name(key, k, sizeof(k));
		rc = del ? kv_batch_del(b, k, strlen(k))
			 : kv_batch_put(b, k, strlen(k), r->buf, len);
	}
	if (rc == 0)
		rc = kv_write(r->kv, b, &got);
	kv_batch_free(b);
	if (rc == 0 && got != seq)
		rc = -EILSEQ;
	return rc;
}

/* The expected state after batches 1..p. */
static void expect_build(struct flaky_run *r, uint64_t p)
{
	memset(r->present, 0, sizeof(r->present));
	for (uint64_t seq = 1; seq <= p; seq++) {
		uint32_t n;
		uint64_t g = batch_gen(r, seq, &n);

		for (uint32_t i = 0; i < n; i++) {
			uint32_t key;
			size_t len;
			int del;

			batch_op(r, &g, &key, &del, &len);
			r->present[key] = !del;
			r->len[key] = len;
			memcpy(r->val[key], r->buf, len);
		}
	}
}

static void skip_absent(struct flaky_run *r)
{
	while (r->pos < FLAKY_KEYS && !r->present[r->pos])
		r->pos++;
}

static int expect_cb(void *arg, const void *key, size_t klen, const void *val,
		     size_t vlen)
{
	struct flaky_run *r = arg;
	char want[16];

	skip_absent(r);
	if (r->pos == FLAKY_KEYS) {
		r->bad = 1;
		return -1;
	}
	key_name(r->pos, want, sizeof(want));
	if (klen != strlen(want) || memcmp(key, want, klen) != 0 ||
	    vlen != r->len[r->pos] || memcmp(val, r->val[r->pos], vlen) != 0) {
		r->bad = 1;
		return -1;
	}
	r->pos++;
	return 0;
}

/* Returns 1 if the engine holds exactly the batches 1..p. */
static int state_is(struct flaky_run *r, uint64_t p)
{
	int rc;

	expect_build(r, p);
	r->pos = 0;
	r->bad = 0;
	rc = kv_scan(r->kv, "f/", 2, NULL, 0, expect_cb, r);
	skip_absent(r);
	return rc == 0 && !r->bad && r->pos == FLAKY_KEYS;
}

static struct kv *engine_open(struct objstore *os, int *rc)
{
	struct kv_options opt = {
		.upload_attempts = 2,
		.backoff_max_ms = 4,
		.memtable_bytes = 64 << 10,
		.sst_bytes = 32 << 10,
		.l0_trigger = 2,
		.l1_bytes = 128 << 10,
		.block_cache_bytes = 256 << 10,
		.gc_grace_ms = 0,
	};
	struct kv *kv = NULL;

	*rc = kv_open(os, &opt, &kv);
	return *rc == 0 ? kv : NULL;
}

static struct objstore *flaky_wrap(struct objstore *inner)
{
	struct objstore_flaky_opts o = { 0 };
	struct objstore *os = NULL;

	if (objstore_flaky_new(inner, &o, &os) < 0)
		abort();
	return os;
}

static uint64_t seed_get(void)
{
	const char *env = getenv("ZEROFS_SEED");
	struct timespec ts;

	if (env != NULL && *env != '\0')
		return strtoull(env, NULL, 10);
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
		(uint64_t)getpid()) |
	       1;
}

static struct objstore *inner_new(void)
{
	static int n;
	struct objstore *os = NULL;
	char url[64];

	snprintf(url, sizeof(url), "mem://kv_flaky_test-%d", n++);
	if (objstore_open(url, &os) < 0)
		abort();
	return os;
}

/* Breaks the current wrapper and writes one phase of batches, syncing
 * every few; a failed sync leaves its batches for the next one. */
static void phase_run(struct flaky_run *r, int phase)
{
	struct objstore_flaky_opts o = { .fail_rate = 0.2,
					 .lost_rate = 0.1,
					 .delay_rate = 0.05,
					 .delay_ms = 2,
					 .timeout = phase & 1,
					 .seed = r->seed + (uint64_t)phase };
	uint32_t until_sync = 1;

	objstore_flaky_set(r->os, &o);
	for (int i = 0; i < FLAKY_PHASE_BATCH; i++) {
		uint64_t seq = 0;
		int rc = batch_write(r, r->written + 1);

		CHECK_EQ(rc, 0);
		if (rc < 0)
			return;
		r->written++;
		if (--until_sync > 0)
			continue;
		until_sync = 1 + (uint32_t)(rng_next(&r->rng) % 5);
		rc = kv_sync(r->kv, NULL, NULL, &seq);
		CHECK(rc != -EROFS);
		if (rc == 0) {
			CHECK_EQ(seq, r->written);
			r->acked = seq;
			r->sync_ok++;
		} else {
			r->sync_failed++;
		}
	}
}

/* Closes the engine without a sync and reopens the store through a
 * fault-free wrapper: it must hold exactly the batches 1..P, with P
 * between the last acknowledged sync and the last write. */
static void reopen_check(struct flaky_run *r)
{
	struct kv_stats st;
	int rc;

	kv_close(r->kv);
	objstore_close(r->os);
	r->os = flaky_wrap(r->inner);
	r->kv = engine_open(r->os, &rc);
	CHECK_EQ(rc, 0);
	if (r->kv == NULL)
		return;
	kv_stats_get(r->kv, &st);
	CHECK(st.last_seq >= r->acked);
	CHECK(st.last_seq <= r->written);
	CHECK(state_is(r, st.last_seq));
	r->written = st.last_seq;
	r->acked = st.last_seq;
}

TEST(a_flaky_store_loses_no_acked_batch_and_heals_to_everything_written)
{
	static struct flaky_run r;
	uint64_t seq = 0;
	int rc;

	zlog_level = LOG_ERR;
	r.seed = seed_get();
	r.rng = r.seed;
	printf("kv_flaky_test: seed %" PRIu64 " (ZEROFS_SEED replays)\n",
	       r.seed);
	r.inner = inner_new();
	r.os = flaky_wrap(r.inner);
	r.kv = engine_open(r.os, &rc);
	CHECK_EQ(rc, 0);
	for (int phase = 0; phase < FLAKY_PHASES && r.kv != NULL; phase++) {
		phase_run(&r, phase);
		reopen_check(&r);
	}
	if (r.kv != NULL) {
		phase_run(&r, FLAKY_PHASES);
		objstore_flaky_set(r.os, &(struct objstore_flaky_opts){ 0 });
		CHECK_EQ(kv_sync(r.kv, NULL, NULL, &seq), 0);
		CHECK_EQ(seq, r.written);
		r.acked = r.written;
		reopen_check(&r);
		CHECK(r.kv != NULL && state_is(&r, r.written));
	}
	printf("  %ld syncs acknowledged, %ld failed; %" PRIu64
	       " batches at the end\n",
	       r.sync_ok, r.sync_failed, r.written);
	CHECK(r.sync_failed > 0);
	CHECK(r.sync_ok > 0);
	if (r.kv != NULL)
		kv_close(r.kv);
	objstore_close(r.os);
	objstore_close(r.inner);
}

/* Fills a store with a few synced batches through a healthy engine. */
static void store_fill(struct flaky_run *r, uint64_t n)
{
	int rc;

	r->os = flaky_wrap(r->inner);
	r->kv = engine_open(r->os, &rc);
	if (r->kv == NULL)
		abort();
	for (uint64_t seq = 1; seq <= n; seq++)
		CHECK_EQ(batch_write(r, seq), 0);
	CHECK_EQ(kv_sync(r->kv, NULL, NULL, NULL), 0);
	kv_close(r->kv);
	r->kv = NULL;
}

TEST(opening_a_store_that_fails_everything_fails_cleanly_then_works_healed)
{
	static struct flaky_run r;
	struct objstore_flaky_opts dead = { .fail_rate = 1.0, .seed = 3 };
	struct objstore_flaky_opts mute = { .lost_rate = 1.0, .seed = 4 };
	int rc;

	r.seed = seed_get();
	r.inner = inner_new();
	store_fill(&r, 20);
	objstore_flaky_set(r.os, &dead);
	CHECK(engine_open(r.os, &rc) == NULL);
	CHECK(rc < 0);
	objstore_flaky_set(r.os, &mute);
	CHECK(engine_open(r.os, &rc) == NULL);
	CHECK(rc < 0);
	objstore_flaky_set(r.os, &(struct objstore_flaky_opts){ 0 });
	r.kv = engine_open(r.os, &rc);
	CHECK_EQ(rc, 0);
	CHECK(r.kv != NULL && state_is(&r, 20));
	if (r.kv != NULL)
		kv_close(r.kv);
	objstore_close(r.os);
	objstore_close(r.inner);
}

TEST(opening_an_empty_store_that_fails_everything_fails_cleanly)
{
	struct objstore *inner = inner_new(), *os = flaky_wrap(inner);
	struct objstore_flaky_opts dead = { .fail_rate = 1.0, .seed = 5 };
	struct kv *kv;
	int rc;

	objstore_flaky_set(os, &dead);
	CHECK(engine_open(os, &rc) == NULL);
	CHECK(rc < 0);
	objstore_flaky_set(os, &(struct objstore_flaky_opts){ 0 });
	kv = engine_open(os, &rc);
	CHECK_EQ(rc, 0);
	if (kv != NULL)
		kv_close(kv);
	objstore_close(os);
	objstore_close(inner);
}

TEST_MAIN(a_flaky_store_loses_no_acked_batch_and_heals_to_everything_written,
	  opening_a_store_that_fails_everything_fails_cleanly_then_works_healed,
	  opening_an_empty_store_that_fails_everything_fails_cleanly)
