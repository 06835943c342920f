/*
 * Unit tests of the flusher's core on memory stores: appends and reads
 * from memory, barriers and the objects they leave, epochs, retries of a
 * failing store and back-pressure.  A small wrapper store injects put
 * failures and holds puts back on demand.
 */
#include "flusher/engine.h"

#include "flusher/segment.h"
#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A store that fails its first `fail_puts` puts with `err` (EIO unless
 * set) and, while `held` is set, makes puts wait. */
struct fault_store {
	struct objstore base;
	struct objstore *inner;
	atomic_int fail_puts;
	atomic_int puts;
	int err;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int held;
};

static int fault_put(struct objstore *os, const char *key, const void *data,
		     size_t len, int if_absent)
{
	struct fault_store *fs = (struct fault_store *)os;

	pthread_mutex_lock(&fs->mu);
	while (fs->held)
		pthread_cond_wait(&fs->cv, &fs->mu);
	pthread_mutex_unlock(&fs->mu);
	atomic_fetch_add(&fs->puts, 1);
	if (atomic_fetch_sub(&fs->fail_puts, 1) > 0)
		return fs->err != 0 ? fs->err : -EIO;
	return fs->inner->ops->put(fs->inner, key, data, len, if_absent);
}

static int fault_get(struct objstore *os, const char *key, void **data,
		     size_t *len)
{
	struct objstore *in = ((struct fault_store *)os)->inner;

	return in->ops->get(in, key, data, len);
}

static int fault_get_range(struct objstore *os, const char *key, uint64_t off,
			   size_t len, void *buf, size_t *got)
{
	struct objstore *in = ((struct fault_store *)os)->inner;

	return in->ops->get_range(in, key, off, len, buf, got);
}

static int fault_del(struct objstore *os, const char *key)
{
	struct objstore *in = ((struct fault_store *)os)->inner;

	return in->ops->del(in, key);
}

static int fault_list(struct objstore *os, const char *prefix,
		      objstore_list_cb cb, void *arg)
{
	struct objstore *in = ((struct fault_store *)os)->inner;

	return in->ops->list(in, prefix, cb, arg);
}

static void fault_close(struct objstore *os)
{
	(void)os;
}

static const struct objstore_ops fault_ops = {
	.scheme = "fault",
	.put = fault_put,
	.get = fault_get,
	.get_range = fault_get_range,
	.del = fault_del,
	.list = fault_list,
	.close = fault_close,
};

static void fault_init(struct fault_store *fs, const char *url, int fail)
{
	memset(fs, 0, sizeof(*fs));
	fs->base.ops = &fault_ops;
	CHECK_EQ(objstore_open(url, &fs->inner), 0);
	atomic_store(&fs->fail_puts, fail);
	pthread_mutex_init(&fs->mu, NULL);
	pthread_cond_init(&fs->cv, NULL);
}

static void fault_hold(struct fault_store *fs, int held)
{
	pthread_mutex_lock(&fs->mu);
	fs->held = held;
	pthread_cond_broadcast(&fs->cv);
	pthread_mutex_unlock(&fs->mu);
}

static struct engine *engine_on(struct objstore *os, size_t target,
				size_t pending)
{
	struct engine_opts opts;
	struct engine *eng = NULL;

	engine_opts_default(&opts);
	opts.backoff_min_ms = 5;
	opts.backoff_max_ms = 20;
	if (target != 0)
		opts.segment_target = target;
	if (pending != 0)
		opts.max_pending = pending;
	CHECK_EQ(engine_open(os, &opts, &eng), 0);
	return eng;
}

TEST(an_appended_frame_reads_back_from_memory)
{
	struct objstore *os;
	struct engine *eng;
	uint64_t seg;
	uint32_t off;
	char buf[5];

	objstore_open("mem://engine-read", &os);
	eng = engine_on(os, 0, 0);
	CHECK_EQ(engine_append(eng, "frame", 5, &seg, &off), 0);
	CHECK_EQ(seg >> 32, engine_epoch(eng));
	CHECK_EQ(engine_read(eng, seg, off, 5, buf), 0);
	CHECK(memcmp(buf, "frame", 5) == 0);
	engine_close(eng);
	objstore_close(os);
}

TEST(a_barrier_stores_the_segment_with_its_footer)
{
	struct segment_footer f;
	struct segment_frame e;
	char key[SEGMENT_KEY_MAX];
	struct objstore *os;
	struct engine *eng;
	uint64_t seg, below;
	uint32_t off;
	uint8_t *obj = NULL;
	size_t len = 0;

	objstore_open("mem://engine-barrier", &os);
	eng = engine_on(os, 0, 0);
	engine_append(eng, "first", 5, &seg, &off);
	engine_append(eng, "second", 6, &seg, &off);
	CHECK_EQ(engine_barrier(eng, &below), 0);
	CHECK(below > seg);
	segment_key(seg, key);
	CHECK_EQ(objstore_get(os, key, (void **)&obj, &len), 0);
	CHECK_EQ(segment_footer_parse(obj, len, &f), 0);
	CHECK_EQ(f.nframes, 2);
	CHECK_EQ(f.id, seg);
	segment_index_entry(obj, &f, 1, &e);
	CHECK_EQ(e.offset, off);
	CHECK(memcmp(obj, "firstsecond", 11) == 0);
	free(obj);
	engine_close(eng);
	objstore_close(os);
}

TEST(an_uploaded_segment_is_no_longer_read_from_memory)
{
	struct objstore *os;
	struct engine *eng;
	uint64_t seg, below;
	uint32_t off;
	char buf[5];

	objstore_open("mem://engine-gone", &os);
	eng = engine_on(os, 0, 0);
	engine_append(eng, "frame", 5, &seg, &off);
	engine_barrier(eng, &below);
	CHECK_EQ(engine_read(eng, seg, off, 5, buf), -ENOENT);
	engine_close(eng);
	objstore_close(os);
}

TEST(two_starts_on_one_store_use_different_segment_ids)
{
	struct objstore *os;
	struct engine *a, *b;
	uint64_t sa, sb;
	uint32_t off;

	objstore_open("mem://engine-epochs", &os);
	a = engine_on(os, 0, 0);
	engine_append(a, "x", 1, &sa, &off);
	engine_close(a);
	b = engine_on(os, 0, 0);
	engine_append(b, "x", 1, &sb, &off);
	CHECK(sa != sb);
	CHECK(engine_epoch(b) > (uint32_t)(sa >> 32));
	engine_close(b);
	objstore_close(os);
}

TEST(a_failing_store_is_retried_until_the_barrier_completes)
{
	char key[SEGMENT_KEY_MAX];
	struct engine_stats st;
	struct fault_store fs;
	struct engine *eng;
	uint64_t seg, below;
	uint32_t off;
	size_t len;
	void *obj;

	fault_init(&fs, "mem://engine-retry", 0);
	eng = engine_on(&fs.base, 0, 0);
	atomic_store(&fs.fail_puts, 3);
	engine_append(eng, "frame", 5, &seg, &off);
	CHECK_EQ(engine_barrier(eng, &below), 0);
	engine_stats_get(eng, &st);
	CHECK_EQ(st.upload_failures[ENGINE_ERR_IO], 3);
	CHECK_EQ(st.uploads, 1);
	segment_key(seg, key);
	CHECK_EQ(objstore_get(fs.inner, key, &obj, &len), 0);
	free(obj);
	engine_close(eng);
	objstore_close(fs.inner);
}

TEST(a_full_store_fails_the_barrier_with_enospc_and_keeps_the_frames)
{
	struct fault_store fs;
	struct engine *eng;
	uint64_t seg, below;
	char buf[5];
	uint32_t off;

	fault_init(&fs, "mem://engine-full", 0);
	fs.err = -ENOSPC;
	eng = engine_on(&fs.base, 0, 0);
	atomic_store(&fs.fail_puts, 1000000);
	engine_append(eng, "frame", 5, &seg, &off);
	CHECK_EQ(engine_barrier(eng, &below), -ENOSPC);
	CHECK(below <= seg);
	/* Not stored, so still served from memory. */
	CHECK_EQ(engine_read(eng, seg, off, 5, buf), 0);
	CHECK(memcmp(buf, "frame", 5) == 0);
	/* Space comes back: the retried upload lands, a barrier succeeds. */
	atomic_store(&fs.fail_puts, 0);
	CHECK_EQ(engine_barrier(eng, &below), 0);
	CHECK(below > seg);
	engine_close(eng);
	objstore_close(fs.inner);
}

TEST(a_frame_past_the_target_size_starts_a_new_segment)
{
	struct objstore *os;
	struct engine *eng;
	uint64_t s1, s2, s3;
	uint32_t off;
	char frame[600] = { 0 };

	objstore_open("mem://engine-target", &os);
	eng = engine_on(os, 1000, 0);
	engine_append(eng, frame, 600, &s1, &off);
	engine_append(eng, frame, 400, &s2, &off);
	engine_append(eng, frame, 1, &s3, &off);
	CHECK(s1 == s2);
	CHECK_EQ(off, 0);
	CHECK_EQ(s3, s1 + 1);
	engine_close(eng);
	objstore_close(os);
}

struct append_job {
	struct engine *eng;
	atomic_int done;
	int rc;
};

static void *append_job_main(void *arg)
{
	struct append_job *job = arg;
	uint64_t seg;
	uint32_t off;

	job->rc = engine_append(job->eng, "late", 4, &seg, &off);
	atomic_store(&job->done, 1);
	return NULL;
}

TEST(appends_wait_while_too_much_awaits_upload)
{
	struct append_job job = { 0 };
	struct engine_stats st;
	struct fault_store fs;
	uint64_t seg, below;
	char frame[100] = { 0 };
	pthread_t t;
	uint32_t off;

	fault_init(&fs, "mem://engine-pressure", 0);
	job.eng = engine_on(&fs.base, 150, 150);
	fault_hold(&fs, 1);
	for (int i = 0; i < 3; i++) /* two sealed: past max_pending */
		engine_append(job.eng, frame, 100, &seg, &off);
	pthread_create(&t, NULL, append_job_main, &job);
	usleep(100 * 1000);
	CHECK_EQ(atomic_load(&job.done), 0);
	fault_hold(&fs, 0);
	pthread_join(t, NULL);
	CHECK_EQ(job.rc, 0);
	engine_stats_get(job.eng, &st);
	CHECK(st.appends_waited >= 1);
	CHECK_EQ(engine_barrier(job.eng, &below), 0);
	engine_close(job.eng);
	objstore_close(fs.inner);
}

static int count_cb(void *arg, const char *key, uint64_t size)
{
	(void)key;
	(void)size;
	(*(int *)arg)++;
	return 0;
}

TEST(closing_uploads_the_open_segment)
{
	struct objstore *os;
	struct engine *eng;
	uint64_t seg;
	uint32_t off;
	int n = 0;

	objstore_open("mem://engine-close", &os);
	eng = engine_on(os, 0, 0);
	engine_append(eng, "frame", 5, &seg, &off);
	engine_close(eng);
	objstore_list(os, "segments/", count_cb, &n);
	CHECK_EQ(n, 1);
	objstore_close(os);
}

TEST(a_barrier_with_nothing_to_seal_returns_at_once)
{
	struct objstore *os;
	struct engine *eng;
	uint64_t below;

	objstore_open("mem://engine-empty", &os);
	eng = engine_on(os, 0, 0);
	CHECK_EQ(engine_barrier(eng, &below), 0);
	CHECK_EQ(below, (uint64_t)engine_epoch(eng) << 32);
	engine_close(eng);
	objstore_close(os);
}

TEST_MAIN(an_appended_frame_reads_back_from_memory,
	  a_barrier_stores_the_segment_with_its_footer,
	  an_uploaded_segment_is_no_longer_read_from_memory,
	  two_starts_on_one_store_use_different_segment_ids,
	  a_failing_store_is_retried_until_the_barrier_completes,
	  a_full_store_fails_the_barrier_with_enospc_and_keeps_the_frames,
	  a_frame_past_the_target_size_starts_a_new_segment,
	  appends_wait_while_too_much_awaits_upload,
	  closing_uploads_the_open_segment,
	  a_barrier_with_nothing_to_seal_returns_at_once)
