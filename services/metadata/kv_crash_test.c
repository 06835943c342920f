/*
 * Crash tests of the key-value engine with real processes on a file://
 * store.  A forked child writes batches whose contents are a pure
 * function of (seed, sequence number), syncs every few batches and
 * reports each acknowledged sync through a pipe.  It dies by SIGKILL,
 * either from the parent after a random delay or at a failpoint armed
 * through ZEROFS_FAILPOINTS.  After every death the parent reopens the
 * store and checks that the engine came back at some P no older than the
 * last acknowledged sync, holding exactly the state after batches 1..P.
 * The next child goes on from P, so one store lives through every crash.
 *
 * The seed is printed first; ZEROFS_SEED=<n> replays a run (the kill
 * delays come from it too, though timing still varies).
 */
#include "kv.h"

#include "failpoint.h"
#include "log.h"
#include "test.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CRASH_KEYS	400
#define CRASH_VAL_MAX	1000
#define CRASH_BATCH_MAX 4
#define CRASH_CHILD_MAX 300 /* batches a child writes before it exits */
#define CRASH_KILLS	16
#define CRASH_KILL_MS	80 /* the longest delay before a kill */

/* Exit codes of a child that did not die. */
#define CHILD_DONE  0
#define CHILD_OPEN  2
#define CHILD_WRITE 3
#define CHILD_SYNC  4
#define CHILD_START 5

static const char *const crash_points[] = {
	"lsm.wal.put",		"lsm.wal.acked",      "lsm.manifest.put",
	"lsm.flush.sst",	"lsm.flush.manifest", "lsm.compact.sst",
	"lsm.compact.manifest", "lsm.gc.delete",      "lsm.open.claim",
};
#define CRASH_NPOINTS (sizeof(crash_points) / sizeof(crash_points[0]))

struct crash {
	uint64_t seed, rng;
	char dir[128];
	char url[160];
	uint64_t p;	/* where the store stands after the last check */
	uint64_t acked; /* the newest acknowledged sync, ever */
	int failed;
	long children, killed, exited;
	long fired[CRASH_NPOINTS];
	uint8_t val[CRASH_VAL_MAX];
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

/* The generator of batch seq's contents. */
static uint64_t batch_rng(const struct crash *c, uint64_t seq)
{
	return (c->seed ^ (seq * 0x9E3779B97F4A7C15ULL)) | 1;
}

/* One operation of a batch: key, whether it deletes, and the value
 * (written into c->val). */
static void batch_op(struct crash *c, uint64_t *g, uint32_t *key, int *del,
		     size_t *len)
{
	*key = (uint32_t)(rng_next(g) % CRASH_KEYS);
	*del = rng_next(g) % 5 == 0;
	*len = *del ? 0 : (size_t)(rng_next(g) % (CRASH_VAL_MAX + 1));
	for (size_t i = 0; i < *len; i++)
		c->val[i] = (uint8_t)(rng_next(g) >> 56);
}

static uint32_t batch_nops(uint64_t *g)
{
	return 1 + (uint32_t)(rng_next(g) % CRASH_BATCH_MAX);
}

static void key_name(uint32_t k, char *buf, size_t len)
{
	snprintf(buf, len, "k/%03u", k);
}

static struct kv_batch *batch_build(struct crash *c, uint64_t seq)
{
	struct kv_batch *b = kv_batch_new();
	uint64_t g = batch_rng(c, seq);
	uint32_t n = batch_nops(&g);

	for (uint32_t i = 0; i < n && b != NULL; i++) {
		char k[16];
		uint32_t key;
		size_t len;
		int del, rc;

		batch_op(c, &g, &key, &del, &len);
		key_name(key, k, sizeof(k));
		rc = del ? kv_batch_del(b, k, strlen(k))
			 : kv_batch_put(b, k, strlen(k), c->val, len);
		if (rc < 0) {
			kv_batch_free(b);
			b = NULL;
		}
	}
	return b;
}

static struct kv *engine_open(struct crash *c, struct objstore **os)
{
	struct kv_options opt = {
		.checkpoint_every = 64,
		.upload_attempts = 3,
		.backoff_max_ms = 5,
		.memtable_bytes = 64 << 10,
		.sst_bytes = 32 << 10,
		.l0_trigger = 2,
		.l1_bytes = 128 << 10,
		.block_cache_bytes = 256 << 10,
		.gc_grace_ms = 0,
	};
	struct kv *kv = NULL;

	if (objstore_open(c->url, os) < 0)
		return NULL;
	if (kv_open(*os, &opt, &kv) < 0) {
		objstore_close(*os);
		*os = NULL;
		return NULL;
	}
	return kv;
}

static void child_report(int fd, uint64_t seq)
{
	if (write(fd, &seq, sizeof(seq)) != (ssize_t)sizeof(seq))
		_exit(CHILD_SYNC);
}

/* Every failpoint must stop a child at least once. */
#define CRASH_EXPECT_FIRED 1

/* Flushes and collections every so often, so that the flush, compaction
 * and collection failpoints are passed many times. */
static void child_lsm(struct kv *kv, uint64_t i, int fd)
{
	struct kv_stats st;

	if (i % 100 == 99) {
		if (kv_flush(kv) < 0)
			_exit(CHILD_SYNC);
		kv_stats_get(kv, &st);
		child_report(fd, st.last_seq);
	}
	if (i % 50 == 49 && kv_gc(kv, NULL) < 0)
		_exit(CHILD_SYNC);
}

/* The child: writes from c->p on, reports every acknowledged sync, and
 * exits (without exit handlers) unless it is killed first. */
static void child_run(struct crash *c, int fd, const char *fp)
{
	struct objstore *os = NULL;
	struct kv_stats st;
	struct kv *kv;
	uint32_t until_sync = 1;
	uint64_t seq = 0;

	if (fp != NULL)
		setenv("ZEROFS_FAILPOINTS", fp, 1);
	else
		unsetenv("ZEROFS_FAILPOINTS");
	failpoint_init();
	kv = engine_open(c, &os);
	if (kv == NULL)
		_exit(CHILD_OPEN);
	kv_stats_get(kv, &st);
	if (st.last_seq != c->p)
		_exit(CHILD_START);
	for (uint64_t i = 0; i < CRASH_CHILD_MAX; i++) {
		struct kv_batch *b = batch_build(c, c->p + 1 + i);

		if (b == NULL || kv_write(kv, b, &seq) < 0 ||
		    seq != c->p + 1 + i)
			_exit(CHILD_WRITE);
		kv_batch_free(b);
		if (--until_sync == 0) {
			if (kv_sync(kv, NULL, NULL, &seq) < 0)
				_exit(CHILD_SYNC);
			child_report(fd, seq);
			until_sync = 1 + (uint32_t)(rng_next(&c->rng) % 8);
		}
		child_lsm(kv, i, fd);
	}
	if (kv_sync(kv, NULL, NULL, &seq) < 0)
		_exit(CHILD_SYNC);
	child_report(fd, seq);
	kv_close(kv);
	objstore_close(os);
	_exit(CHILD_DONE);
}

/* Reads every number the child reported; the pipe ends when it died. */
static void acks_drain(struct crash *c, int fd)
{
	uint64_t seq;

	while (read(fd, &seq, sizeof(seq)) == (ssize_t)sizeof(seq))
		if (seq > c->acked)
			c->acked = seq;
}

/* Runs one child with failpoint fp (NULL: none), killing it after
 * kill_ms when that is not 0.  Returns its wait status, or -1. */
static int child_spawn(struct crash *c, const char *fp, uint32_t kill_ms)
{
	int pfd[2], status = -1;
	pid_t pid;

	if (pipe(pfd) < 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		child_run(c, pfd[1], fp);
	}
	close(pfd[1]);
	if (pid > 0) {
		if (kill_ms > 0) {
			struct timespec ts = { 0, (long)kill_ms * 1000000L };

			nanosleep(&ts, NULL);
			kill(pid, SIGKILL);
		}
		acks_drain(c, pfd[0]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	close(pfd[0]);
	c->children++;
	return status;
}

static void crash_fail(struct crash *c, const char *what, uint64_t a,
		       uint64_t b)
{
	c->failed = 1;
	fprintf(stderr,
		"  seed %" PRIu64 " child %ld: %s (%" PRIu64 ", %" PRIu64 ")\n",
		c->seed, c->children, what, a, b);
	CHECK(!"the store holds exactly the batches up to P");
}

/* The expected state: every key's value after batches 1..p. */
struct expect {
	int present[CRASH_KEYS];
	size_t len[CRASH_KEYS];
	uint8_t val[CRASH_KEYS][CRASH_VAL_MAX];
	uint32_t pos;
	int bad;
};

static void expect_build(struct crash *c, struct expect *e, uint64_t p)
{
	memset(e->present, 0, sizeof(e->present));
	e->pos = 0;
	e->bad = 0;
	for (uint64_t seq = 1; seq <= p; seq++) {
		uint64_t g = batch_rng(c, seq);
		uint32_t n = batch_nops(&g);

		for (uint32_t i = 0; i < n; i++) {
			uint32_t key;
			size_t len;
			int del;

			batch_op(c, &g, &key, &del, &len);
			e->present[key] = !del;
			e->len[key] = len;
			memcpy(e->val[key], c->val, len);
		}
	}
}

/* Walks the expected keys as the engine calls back in order. */
static int expect_cb(void *arg, const void *key, size_t klen, const void *val,
		     size_t vlen)
{
	struct expect *e = arg;
	char want[16];

	while (e->pos < CRASH_KEYS && !e->present[e->pos])
		e->pos++;
	if (e->pos == CRASH_KEYS) {
		e->bad = 1;
		return -1;
	}
	key_name(e->pos, want, sizeof(want));
	if (klen != strlen(want) || memcmp(key, want, klen) != 0 ||
	    vlen != e->len[e->pos] || memcmp(val, e->val[e->pos], vlen) != 0) {
		e->bad = 1;
		return -1;
	}
	e->pos++;
	return 0;
}

/* Reopens the store after a death and checks it; c->p becomes the
 * point the store came back at. */
static void crash_verify(struct crash *c)
{
	static struct expect e;
	struct objstore *os = NULL;
	struct kv_stats st;
	struct kv *kv = engine_open(c, &os);
	int rc;

	if (kv == NULL) {
		crash_fail(c, "reopening failed", 0, 0);
		return;
	}
	kv_stats_get(kv, &st);
	if (st.last_seq < c->acked)
		crash_fail(c, "reopened before an acknowledged sync",
			   st.last_seq, c->acked);
	expect_build(c, &e, st.last_seq);
	rc = kv_scan(kv, "k/", 2, NULL, 0, expect_cb, &e);
	while (e.pos < CRASH_KEYS && !e.present[e.pos])
		e.pos++;
	if (rc != 0 || e.bad || e.pos != CRASH_KEYS)
		crash_fail(c, "the state differs from batches 1..P at key",
			   st.last_seq, e.pos);
	c->p = st.last_seq;
	kv_close(kv);
	objstore_close(os);
}

/* Checks how a child ended: killed, or exited after all its batches.
 * Returns 1 if it was killed. */
static int child_classify(struct crash *c, int status)
{
	if (status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return 1;
	if (status != -1 && WIFEXITED(status) &&
	    WEXITSTATUS(status) == CHILD_DONE)
		return 0;
	crash_fail(c, "the child failed (wait status)", (uint64_t)status, 0);
	return 0;
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

static int rm_cb(const char *path, const struct stat *sb, int type,
		 struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void crash_init(struct crash *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	zlog_level = LOG_WARNING;
	c->seed = seed_get();
	c->rng = c->seed;
	printf("%s: seed %" PRIu64 " (ZEROFS_SEED replays)\n", name, c->seed);
	if (test_tmpdir("kv_crash_test", c->dir, sizeof(c->dir)) < 0)
		abort();
	snprintf(c->url, sizeof(c->url), "file://%s", c->dir);
}

static void crash_fini(struct crash *c)
{
	nftw(c->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

TEST(sigkill_at_random_moments_keeps_every_acknowledged_sync)
{
	static struct crash c;

	crash_init(&c, "kill");
	for (int i = 0; i < CRASH_KILLS && !c.failed; i++) {
		uint32_t ms = 1 + (uint32_t)(rng_next(&c.rng) % CRASH_KILL_MS);
		int st = child_spawn(&c, NULL, ms);

		if (child_classify(&c, st))
			c.killed++;
		else
			c.exited++;
		crash_verify(&c);
	}
	printf("  %ld children: %ld killed, %ld finished; at %" PRIu64
	       ", %" PRIu64 " acknowledged\n",
	       c.children, c.killed, c.exited, c.p, c.acked);
	CHECK(c.failed || c.killed >= CRASH_KILLS / 2);
	CHECK(c.p > 0);
	crash_fini(&c);
}

/* The Nth pass through each failpoint, for a few N. */
static const int crash_counts[] = { 1, 3 };
#define CRASH_NCOUNTS (sizeof(crash_counts) / sizeof(crash_counts[0]))

TEST(death_at_every_failpoint_keeps_every_acknowledged_sync)
{
	static struct crash c;
	char fp[96];

	crash_init(&c, "failpoints");
	for (size_t i = 0; i < CRASH_NPOINTS && !c.failed; i++) {
		for (size_t j = 0; j < CRASH_NCOUNTS && !c.failed; j++) {
			int st;

			snprintf(fp, sizeof(fp), "%s=%d", crash_points[i],
				 crash_counts[j]);
			st = child_spawn(&c, fp, 0);
			if (child_classify(&c, st))
				c.fired[i]++;
			crash_verify(&c);
		}
		printf("  %-22s fired %ld of %zu\n", crash_points[i],
		       c.fired[i], CRASH_NCOUNTS);
	}
	for (size_t i = 0; i < CRASH_NPOINTS; i++)
		CHECK(c.failed || !CRASH_EXPECT_FIRED || c.fired[i] > 0);
	crash_fini(&c);
}

TEST_MAIN(sigkill_at_random_moments_keeps_every_acknowledged_sync,
	  death_at_every_failpoint_keeps_every_acknowledged_sync)
