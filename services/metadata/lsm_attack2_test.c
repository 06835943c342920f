/*
 * Second round of adversarial tests of the LSM engine through kv.h:
 * flushes on a store that stays down, a fenced writer that still stores
 * objects, checkpoint names taken twice, orphan SSTs left by crashed
 * runs at the ids the next run hands out, engines that open one store
 * at the same moment, many takeovers without writes, and scans whose
 * callback stops them or whose prefix is all 0xff bytes.  Each case
 * states one property the engine promises and fails when it breaks it.
 */
#include "kv.h"

#include "lsm_int.h"
#include "lsm_manifest.h"
#include "failpoint.h"
#include "objstore_flaky.h"
#include "test.h"

#include <errno.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static struct objstore *store_open(char *url, size_t cap)
{
	static int n;
	struct objstore *os = NULL;

	snprintf(url, cap, "mem://lsm_attack2-%d-%d", (int)getpid(), n++);
	if (objstore_open(url, &os) < 0)
		abort();
	return os;
}

static struct objstore *store_new(void)
{
	char url[64];

	return store_open(url, sizeof(url));
}

static struct kv_options small_opts(void)
{
	struct kv_options o = { .upload_attempts = 2,
				.backoff_max_ms = 2,
				.memtable_bytes = 64 * 1024,
				.sst_bytes = 16 * 1024,
				.l0_trigger = 4,
				.gc_grace_ms = 0 };
	return o;
}

static int put_s(struct kv *kv, const char *k, const char *v)
{
	struct kv_batch *b = kv_batch_new();
	int rc =
	    b == NULL ? -ENOMEM : kv_batch_put(b, k, strlen(k), v, strlen(v));

	if (rc == 0)
		rc = kv_write(kv, b, NULL);
	kv_batch_free(b);
	return rc;
}

static int has_s(struct kv *kv, const char *k)
{
	void *v = NULL;
	size_t n = 0;
	int rc = kv_get(kv, k, strlen(k), &v, &n);

	free(v);
	return rc == 0;
}

static int exists(struct objstore *os, const char *name)
{
	void *p = NULL;
	size_t n = 0;
	int rc = objstore_get(os, name, &p, &n);

	free(p);
	return rc == 0;
}

/* ---- kv_flush on a store that stays down ---- */

struct timed_flush {
	struct kv *kv;
	int rc;
};

static void *timed_flush_run(void *arg)
{
	struct timed_flush *t = arg;

	t->rc = kv_flush(t->kv);
	return NULL;
}

/* kv_flush in a thread: 1 if it returned within ms (*rc its result).
 * If not, the store is healed so that the thread ends and is joined. */
static int flush_within(struct kv *kv, int ms, int *rc, struct objstore *fl)
{
	struct objstore_flaky_opts healed = { .seed = 1 };
	struct timed_flush t = { .kv = kv, .rc = 1 };
	struct timespec ts;
	pthread_t th;
	int done;

	if (pthread_create(&th, NULL, timed_flush_run, &t) != 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	done = pthread_timedjoin_np(th, NULL, &ts) == 0;
	if (!done) {
		objstore_flaky_set(fl, &healed);
		pthread_join(th, NULL);
	}
	*rc = t.rc;
	return done;
}

static int frozen_count(struct kv *kv)
{
	int n;

	pthread_mutex_lock(&kv->ver_mu);
	n = kv->cur->nimm;
	pthread_mutex_unlock(&kv->ver_mu);
	return n;
}

/* Rounds of write + flush on a dead store, and how long each flush may
 * take (the flusher's backoff reaches 5 s; rounds past the eighth frozen
 * memtable wait forever, which -DDEAD_ROUNDS=10 -DDEAD_WAIT_MS=12000
 * shows). */
#ifndef DEAD_ROUNDS
#define DEAD_ROUNDS 4
#endif
#ifndef DEAD_WAIT_MS
#define DEAD_WAIT_MS 6000
#endif

TEST(every_flush_on_a_store_that_stays_down_returns_an_error)
{
	struct objstore *inner = store_new(), *fl = NULL;
	struct objstore_flaky_opts down = { .fail_rate = 1.0, .seed = 1 };
	struct objstore_flaky_opts up = { .seed = 1 };
	struct kv_options o = small_opts();
	struct kv *kv = NULL;
	char k[32];
	int rc = 0, returned = 1, most = 0;

	CHECK_EQ(objstore_flaky_new(inner, &up, &fl), 0);
	o.upload_attempts = 1;
	CHECK_EQ(kv_open(fl, &o, &kv), 0);
	objstore_flaky_set(fl, &down);
	/* Each round: one write, then a flush that must fail and return
	 * (kv.h: "0, or the upload's error"). */
	for (int i = 0; i < DEAD_ROUNDS && returned; i++) {
		snprintf(k, sizeof(k), "k%02d", i);
		CHECK_EQ(put_s(kv, k, "v"), 0);
		returned = flush_within(kv, DEAD_WAIT_MS, &rc, fl);
		if (!returned)
			fprintf(stderr, "  flush %d hung with %d frozen\n", i,
				frozen_count(kv));
		CHECK(returned);
		CHECK(!returned || rc < 0);
		if (frozen_count(kv) > most)
			most = frozen_count(kv);
	}
	/* FORMAT.md: "at most 2 frozen ones"; memory stays under 3
	 * memtables while a flush is slow. */
	CHECK(most <= 2);
	objstore_flaky_set(fl, &up);
	CHECK_EQ(kv_flush(kv), 0);
	CHECK(has_s(kv, "k00"));
	kv_close(kv);
	objstore_close(fl);
	objstore_close(inner);
}

/* ---- a fenced writer ---- */

TEST(a_fenced_writer_neither_flushes_nor_stores_a_checkpoint)
{
	struct objstore *os = store_new();
	struct kv_options o = small_opts();
	struct kv *a = NULL, *b = NULL;
	char name[KV_NAME_MAX];

	CHECK_EQ(kv_open(os, &o, &a), 0);
	CHECK_EQ(put_s(a, "a", "1"), 0);
	CHECK_EQ(kv_sync(a, NULL, NULL, NULL), 0);
	CHECK_EQ(kv_open(os, &o, &b), 0);
	CHECK_EQ(kv_fence_check(a), -EROFS);
	/* FORMAT.md: every later write, sync, flush and compaction of a
	 * fenced writer fails with -EROFS; it writes nothing more. */
	CHECK_EQ(kv_flush(a), -EROFS);
	CHECK_EQ(kv_checkpoint(a, "late"), -EROFS);
	lsm_name_ckpt("meta/", "late", name, sizeof(name));
	CHECK(!exists(os, name));
	kv_close(a);
	kv_close(b);
	objstore_close(os);
}

TEST(a_checkpoint_name_taken_twice_is_eexist_even_when_nothing_changed)
{
	struct objstore *os = store_new();
	struct kv_options o = small_opts();
	struct kv *kv = NULL;

	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK_EQ(put_s(kv, "a", "1"), 0);
	CHECK_EQ(kv_checkpoint(kv, "c1"), 0);
	/* kv.h: "-EEXIST if taken". */
	CHECK_EQ(kv_checkpoint(kv, "c1"), -EEXIST);
	kv_close(kv);
	objstore_close(os);
}

/* ---- orphan SSTs of crashed runs at the next ids ---- */

#define ORPHANS 40

/* Stores junk SSTs at the ids from the manifest's next_file on, as
 * crashed runs that uploaded a table but no manifest leave them. */
static uint64_t orphans_plant(struct objstore *os, const struct kv_options *o)
{
	struct kv *kv = NULL;
	char name[KV_NAME_MAX], junk[64];
	uint64_t next = 0;

	if (kv_open(os, o, &kv) < 0)
		return 0;
	next = kv->man.next_file;
	kv_close(kv);
	for (int i = 0; i < ORPHANS; i++) {
		lsm_name_sst("meta/", next + (uint64_t)i, name, sizeof(name));
		snprintf(junk, sizeof(junk), "orphan of crashed run %d", i);
		if (objstore_put(os, name, junk, strlen(junk)) < 0)
			return 0;
	}
	return next;
}

TEST(forty_orphan_ssts_at_the_next_ids_do_not_fail_a_flush)
{
	struct objstore *os = store_new();
	struct kv_options o = small_opts();
	struct kv *kv = NULL;

	CHECK(orphans_plant(os, &o) > 0);
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK_EQ(put_s(kv, "a", "1"), 0);
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	/* An id found taken is skipped (FORMAT.md); a flush succeeds. */
	CHECK_EQ(kv_flush(kv), 0);
	kv_close(kv);
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK(kv == NULL || has_s(kv, "a"));
	kv_close(kv);
	objstore_close(os);
}

TEST(a_store_with_forty_orphan_ssts_opens_when_replay_must_flush)
{
	struct objstore *os = store_new();
	struct kv_options o = small_opts(), big = small_opts();
	struct kv *kv = NULL;
	char k[32], v[200];
	int rc = 0;

	big.memtable_bytes = 8 << 20;
	CHECK(orphans_plant(os, &o) > 0);
	CHECK_EQ(kv_open(os, &big, &kv), 0);
	for (int i = 0; rc == 0 && i < 2000; i++) {
		snprintf(k, sizeof(k), "k%05d", i);
		memset(v, 'a' + i % 26, sizeof(v) - 1);
		v[sizeof(v) - 1] = 0;
		rc = put_s(kv, k, v);
	}
	CHECK_EQ(rc, 0);
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	kv_close(kv);
	kv = NULL;
	/* Replay with a 64 KiB memtable flushes on the spot; the orphans
	 * must not make the store impossible to open, now or later. */
	for (int round = 0; round < 2; round++) {
		CHECK_EQ(kv_open(os, &o, &kv), 0);
		CHECK(kv == NULL || has_s(kv, "k01999"));
		kv_close(kv);
		kv = NULL;
	}
	objstore_close(os);
}

/* ---- crashed runs that each leave an orphan SST ---- */

#define CRASHED_RUNS 18

/* A child: opens, writes key run<i>, syncs, and flushes with the
 * failpoint after the SST upload armed; the process dies there. */
static void crash_child(const char *url, int i)
{
	struct kv_options o = small_opts();
	struct objstore *os = NULL;
	struct kv *kv = NULL;
	char k[32];

	setenv("ZEROFS_FAILPOINTS", "lsm.flush.sst=1", 1);
	failpoint_init();
	if (objstore_open(url, &os) < 0 || kv_open(os, &o, &kv) < 0)
		_exit(2);
	snprintf(k, sizeof(k), "run%02d", i);
	if (put_s(kv, k, "v") < 0 || kv_sync(kv, NULL, NULL, NULL) < 0)
		_exit(3);
	kv_flush(kv);
	_exit(4);
}

static int crash_run(const char *url, int i)
{
	int status = 0;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		crash_child(url, i);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : -EIO;
}

TEST(eighteen_runs_that_crash_after_a_flush_upload_leave_a_usable_store)
{
	struct kv_options o = small_opts();
	struct objstore *os = NULL;
	struct kv *kv = NULL;
	char dir[256], url[300];
	int rc = 0;

	CHECK_EQ(test_tmpdir("lsm_attack2", dir, sizeof(dir)), 0);
	snprintf(url, sizeof(url), "file://%s", dir);
	/* Each run must get as far as the failpoint, after its upload. */
	for (int i = 0; i < CRASHED_RUNS; i++) {
		rc = crash_run(url, i);
		if (rc < 0)
			fprintf(stderr,
				"  run %d did not reach the failpoint\n", i);
		CHECK_EQ(rc, 0);
	}
	CHECK_EQ(objstore_open(url, &os), 0);
	/* Every batch was synced: an open must find all of them, and a
	 * flush must succeed (an id found taken is skipped). */
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	if (kv != NULL) {
		CHECK(has_s(kv, "run00") && has_s(kv, "run17"));
		CHECK_EQ(kv_flush(kv), 0);
		kv_close(kv);
	}
	kv = NULL;
	objstore_close(os);
}

/* A child: with fp armed, opens (and dies there); without, opens,
 * writes key run<i>, syncs and exits 0. */
static void open_child(const char *url, int i, const char *fp)
{
	struct kv_options o = small_opts();
	struct objstore *os = NULL;
	struct kv *kv = NULL;
	char k[32];

	if (fp != NULL)
		setenv("ZEROFS_FAILPOINTS", fp, 1);
	else
		unsetenv("ZEROFS_FAILPOINTS");
	failpoint_init();
	if (objstore_open(url, &os) < 0 || kv_open(os, &o, &kv) < 0)
		_exit(2);
	snprintf(k, sizeof(k), "run%02d", i);
	if (put_s(kv, k, "v") < 0 || kv_sync(kv, NULL, NULL, NULL) < 0)
		_exit(3);
	_exit(fp != NULL ? 4 : 0);
}

static int open_run(const char *url, int i, const char *fp)
{
	int status = 0;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		open_child(url, i, fp);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (fp != NULL)
		return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL
			   ? 0
			   : -EIO;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

TEST(opens_that_crash_at_the_claim_or_the_owner_manifest_lose_nothing)
{
	static const char *fps[] = { NULL, "lsm.open.claim=1",
				     "lsm.manifest.put=2",
				     "lsm.manifest.put=1" };
	struct kv_options o = small_opts();
	struct objstore *os = NULL;
	struct kv *kv = NULL;
	char dir[256], url[300], k[32];

	CHECK_EQ(test_tmpdir("lsm_attack2", dir, sizeof(dir)), 0);
	snprintf(url, sizeof(url), "file://%s", dir);
	for (int i = 0; i < 24; i++)
		CHECK_EQ(open_run(url, i, fps[i % 4]), 0);
	CHECK_EQ(objstore_open(url, &os), 0);
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	for (int i = 0; kv != NULL && i < 24; i += 4) {
		snprintf(k, sizeof(k), "run%02d", i);
		CHECK(has_s(kv, k));
	}
	CHECK(kv == NULL || kv_gc(kv, NULL) == 0);
	kv_close(kv);
	kv = NULL;
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK(kv == NULL || has_s(kv, "run20"));
	kv_close(kv);
	objstore_close(os);
}

/* ---- engines opening one store at the same moment ---- */

#define RACERS	    3
#define RACE_WRITES 60

struct racer {
	const char *url;
	int id;
	pthread_barrier_t *bar;
	int open_rc;
	int acked; /* writes 0..acked-1 were acknowledged by a sync */
	int final_rc;
};

static void *racer_run(void *arg)
{
	struct racer *r = arg;
	struct kv_options o = small_opts();
	struct objstore *os = NULL;
	struct kv *kv = NULL;
	char k[32];
	int rc;

	if (objstore_open(r->url, &os) < 0)
		abort();
	pthread_barrier_wait(r->bar);
	r->open_rc = kv_open(os, &o, &kv);
	for (int i = 0; r->open_rc == 0 && i < RACE_WRITES; i++) {
		snprintf(k, sizeof(k), "w%d-%03d", r->id, i);
		rc = put_s(kv, k, "x");
		if (rc == 0)
			rc = kv_sync(kv, NULL, NULL, NULL);
		r->final_rc = rc;
		if (rc < 0)
			break;
		r->acked = i + 1;
	}
	kv_close(kv);
	objstore_close(os);
	return NULL;
}

static int race_round(void)
{
	struct racer r[RACERS];
	pthread_barrier_t bar;
	pthread_t th[RACERS];
	struct objstore *os;
	struct kv_options o = small_opts();
	struct kv *kv = NULL;
	char url[64], k[32];
	int bad = 0, survivors = 0;

	os = store_open(url, sizeof(url));
	pthread_barrier_init(&bar, NULL, RACERS);
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){ .url = url, .id = i, .bar = &bar };
		pthread_create(&th[i], NULL, racer_run, &r[i]);
	}
	for (int i = 0; i < RACERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	for (int i = 0; i < RACERS; i++) {
		/* An opener superseded by a later one before it finished
		 * may fail with -EROFS; nothing else. */
		bad += r[i].open_rc != 0 && r[i].open_rc != -EROFS;
		survivors += r[i].open_rc == 0 && r[i].acked == RACE_WRITES;
		if (r[i].final_rc < 0 && r[i].final_rc != -EROFS)
			bad++;
	}
	bad += survivors < 1;
	if (kv_open(os, &o, &kv) < 0)
		bad++;
	for (int i = 0; kv != NULL && i < RACERS; i++)
		for (int j = 0; j < r[i].acked; j++) {
			snprintf(k, sizeof(k), "w%d-%03d", i, j);
			if (!has_s(kv, k)) {
				fprintf(stderr, "  acked %s lost\n", k);
				bad++;
			}
		}
	for (int i = 0; bad > 0 && i < RACERS; i++)
		fprintf(stderr, "  racer %d: open %d, acked %d, last %d\n", i,
			r[i].open_rc, r[i].acked, r[i].final_rc);
	kv_close(kv);
	objstore_close(os);
	return bad;
}

TEST(three_engines_opening_at_once_leave_one_writer_and_lose_no_ack)
{
	for (int round = 0; round < 8; round++)
		CHECK_EQ(race_round(), 0);
}

/* ---- two openers that load the same newest manifest ---- */

/* A store that passes every request to inner; the wrappers below embed
 * it and replace only put. */
struct wrap {
	struct objstore base;
	struct objstore *inner;
};

static int wrap_get(struct objstore *os, const char *key, void **data,
		    size_t *len)
{
	struct wrap *w = (struct wrap *)os;

	return w->inner->ops->get(w->inner, key, data, len);
}

static int wrap_get_range(struct objstore *os, const char *key, uint64_t off,
			  size_t len, void *buf, size_t *got)
{
	struct wrap *w = (struct wrap *)os;

	return w->inner->ops->get_range(w->inner, key, off, len, buf, got);
}

static int wrap_del(struct objstore *os, const char *key)
{
	struct wrap *w = (struct wrap *)os;

	return w->inner->ops->del(w->inner, key);
}

static int wrap_list(struct objstore *os, const char *prefix,
		     objstore_list_cb cb, void *arg)
{
	struct wrap *w = (struct wrap *)os;

	return w->inner->ops->list(w->inner, prefix, cb, arg);
}

/* A store that passes everything to inner, except that the first put of
 * the claim manifest waits until every opener has reached it: both
 * openers have then loaded the same newest manifest, as two services
 * started at the same moment do. */
struct gated {
	struct wrap w;
	pthread_barrier_t *bar;
	int passed;
};

static int gated_put(struct objstore *os, const char *key, const void *data,
		     size_t len, int if_absent)
{
	struct gated *g = (struct gated *)os;

	if (!g->passed && strstr(key, "manifest/") != NULL) {
		g->passed = 1;
		pthread_barrier_wait(g->bar);
	}
	return g->w.inner->ops->put(g->w.inner, key, data, len, if_absent);
}

static const struct objstore_ops gated_ops = {
	.scheme = "gated",
	.put = gated_put,
	.get = wrap_get,
	.get_range = wrap_get_range,
	.del = wrap_del,
	.list = wrap_list,
};

struct opener {
	struct gated g;
	struct kv *kv;
	int rc;
};

static void *opener_run(void *arg)
{
	struct opener *op = arg;
	struct kv_options o = small_opts();

	op->rc = kv_open(&op->g.w.base, &o, &op->kv);
	return NULL;
}

/* Opens two engines on os whose claims race on the same number: 0 when
 * at least one opened and any other was overtaken (-EROFS). */
static int open_pair(struct objstore *os, struct opener op[2])
{
	static pthread_barrier_t bar;
	pthread_t th[2];

	pthread_barrier_init(&bar, NULL, 2);
	for (int i = 0; i < 2; i++) {
		op[i] = (struct opener){ 0 };
		op[i].g = (struct gated){ .w.base.ops = &gated_ops,
					  .w.inner = os,
					  .bar = &bar };
		pthread_create(&th[i], NULL, opener_run, &op[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	/* An opener overtaken between its claim and its owner manifest
	 * fails with -EROFS (kv.h); any other failure, or none opening,
	 * is wrong. */
	for (int i = 0; i < 2; i++)
		if (op[i].rc != 0 && op[i].rc != -EROFS)
			return -EIO;
	return op[0].rc == 0 || op[1].rc == 0 ? 0 : -EIO;
}

TEST(two_engines_whose_claims_race_never_share_one_epoch)
{
	struct objstore *os = store_new();
	struct kv_options o = small_opts();
	struct opener op[2];
	struct kv_stats a, b;
	struct kv *kv = NULL;

	/* A store in use: both openers load its newest manifest. */
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK_EQ(put_s(kv, "old", "1"), 0);
	CHECK_EQ(kv_flush(kv), 0);
	kv_close(kv);
	CHECK_EQ(open_pair(os, op), 0);
	if (op[0].kv != NULL && op[1].kv != NULL) {
		kv_stats_get(op[0].kv, &a);
		kv_stats_get(op[1].kv, &b);
		/* FORMAT.md: losing the claim race means loading again and
		 * retrying; two writers never hold the same epoch. */
		CHECK(a.epoch != b.epoch);
		CHECK(kv_fence_check(op[0].kv) == -EROFS ||
		      kv_fence_check(op[1].kv) == -EROFS);
	}
	kv_close(op[0].kv);
	kv_close(op[1].kv);
	objstore_close(os);
}

TEST(a_sync_acknowledged_by_one_of_two_racing_openers_is_never_lost)
{
	struct objstore *os = store_new();
	struct kv_options o = small_opts();
	struct opener op[2];
	struct kv *kv = NULL;
	int b_rc, a_rc;

	CHECK_EQ(open_pair(os, op), 0);
	if (op[0].kv == NULL || op[1].kv == NULL) {
		kv_close(op[0].kv);
		kv_close(op[1].kv);
		objstore_close(os);
		return;
	}
	/* B makes "b" durable through a WAL object; A makes "a" durable
	 * through a flush.  Both may not succeed: at most one is the
	 * writer.  Whatever was acknowledged must be in a later open. */
	CHECK_EQ(put_s(op[1].kv, "b", "1"), 0);
	b_rc = kv_sync(op[1].kv, NULL, NULL, NULL);
	CHECK_EQ(put_s(op[0].kv, "a", "1"), 0);
	a_rc = kv_flush(op[0].kv);
	CHECK(a_rc < 0 || b_rc < 0);
	kv_close(op[0].kv);
	kv_close(op[1].kv);
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	if (kv != NULL) {
		CHECK(b_rc < 0 || has_s(kv, "b"));
		CHECK(a_rc < 0 || has_s(kv, "a"));
	}
	kv_close(kv);
	objstore_close(os);
}

/* ---- a write stalled at level 0 ---- */

struct timed_write {
	struct kv *kv;
	int rc;
};

static void *timed_write_run(void *arg)
{
	struct timed_write *t = arg;

	t->rc = put_s(t->kv, "stalled", "v");
	return NULL;
}

TEST(a_write_never_waits_forever_when_l0_stop_is_below_the_trigger)
{
	struct objstore *os = store_new();
	struct kv_options o = small_opts();
	struct timed_write t = { .rc = 1 };
	struct kv *kv = NULL, *other = NULL;
	struct timespec ts;
	pthread_t th;
	int done;

	o.l0_trigger = 4;
	o.l0_stop = 2;
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(put_s(kv, i ? "b" : "a", "v"), 0);
		CHECK_EQ(kv_flush(kv), 0);
	}
	t.kv = kv;
	pthread_create(&th, NULL, timed_write_run, &t);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 4;
	done = pthread_timedjoin_np(th, NULL, &ts) == 0;
	/* Two level-0 files, a stop at two and a trigger at four: no
	 * compaction ever starts, so an accepted setting must not leave
	 * writers waiting forever (or kv_open must refuse it). */
	CHECK(done);
	if (!done) {
		/* A newer writer fences this one: the stalled write then
		 * returns -EROFS and the case can clean up. */
		CHECK_EQ(kv_open(os, &o, &other), 0);
		kv_fence_check(kv);
		pthread_join(th, NULL);
		kv_close(other);
	}
	kv_close(kv);
	objstore_close(os);
}

/* ---- a deposed writer whose manifests the new writer collected ---- */

TEST(a_deposed_writer_never_acks_after_the_new_one_collected_its_manifests)
{
	struct objstore *os = store_new();
	struct kv_options o = small_opts();
	struct kv *a = NULL, *b = NULL, *c = NULL;
	uint64_t deleted = 0;
	char k[16];
	int flush_rc, sync_rc;

	CHECK_EQ(kv_open(os, &o, &a), 0);
	CHECK_EQ(put_s(a, "a", "1"), 0);
	CHECK_EQ(kv_sync(a, NULL, NULL, NULL), 0);
	/* A new writer opens while a is idle (paused, partitioned), works
	 * long enough to collect the manifests a last knew. */
	CHECK_EQ(kv_open(os, &o, &b), 0);
	for (int i = 0; i < 6; i++) {
		snprintf(k, sizeof(k), "b%d", i);
		CHECK_EQ(put_s(b, k, "1"), 0);
		CHECK_EQ(kv_flush(b), 0);
	}
	CHECK_EQ(kv_gc(b, &deleted), 0);
	/* a wakes up and writes: nothing it acknowledges may be lost, so
	 * it must find itself fenced. */
	CHECK_EQ(put_s(a, "z1", "1"), 0);
	flush_rc = kv_flush(a);
	CHECK_EQ(flush_rc, -EROFS);
	sync_rc = put_s(a, "z2", "1");
	if (sync_rc == 0)
		sync_rc = kv_sync(a, NULL, NULL, NULL);
	CHECK_EQ(sync_rc, -EROFS);
	kv_close(a);
	kv_close(b);
	CHECK_EQ(kv_open(os, &o, &c), 0);
	if (c != NULL) {
		CHECK(has_s(c, "b5"));
		CHECK(flush_rc < 0 || has_s(c, "z1"));
		CHECK(sync_rc < 0 || has_s(c, "z2"));
	}
	kv_close(c);
	objstore_close(os);
}

TEST(a_deposed_writer_that_wakes_up_never_takes_the_store_back)
{
	struct objstore *os = store_new();
	struct kv_options o = small_opts();
	struct kv *a = NULL, *b = NULL, *c = NULL;
	uint64_t deleted = 0;
	char k[16];
	int b_rc;

	CHECK_EQ(kv_open(os, &o, &a), 0);
	CHECK_EQ(kv_open(os, &o, &b), 0);
	for (int i = 0; i < 6; i++) {
		snprintf(k, sizeof(k), "b%d", i);
		CHECK_EQ(put_s(b, k, "1"), 0);
		CHECK_EQ(kv_flush(b), 0);
	}
	CHECK_EQ(kv_gc(b, &deleted), 0);
	/* a, deposed, flushes until its manifest numbers reach b's. */
	for (int i = 0; i < 8; i++) {
		snprintf(k, sizeof(k), "z%d", i);
		if (put_s(a, k, "1") < 0 || kv_flush(a) < 0)
			break;
	}
	/* b is the writer: a later flush of b succeeds, and its data is
	 * what a later open finds. */
	CHECK_EQ(put_s(b, "b-last", "1"), 0);
	b_rc = kv_flush(b);
	CHECK_EQ(b_rc, 0);
	kv_close(a);
	kv_close(b);
	CHECK_EQ(kv_open(os, &o, &c), 0);
	if (c != NULL) {
		CHECK(has_s(c, "b5"));
		CHECK(b_rc < 0 || has_s(c, "b-last"));
	}
	kv_close(c);
	objstore_close(os);
}

/* ---- a manifest put whose answer was lost, then collection ---- */

/* mode 1: the next manifest put is applied but answered -EIO, then
 * mode 2: puts of new names fail (-EIO), puts of existing names reach
 * the store (and get its -EEXIST).  mode 0: everything passes. */
struct lossy {
	struct wrap w;
	int mode; /* atomic */
};

static int lossy_put(struct objstore *os, const char *key, const void *data,
		     size_t len, int if_absent)
{
	struct lossy *l = (struct lossy *)os;
	int mode = __atomic_load_n(&l->mode, __ATOMIC_ACQUIRE), rc;
	uint8_t b;
	size_t got;

	if (mode == 1 && strstr(key, "manifest/") != NULL) {
		rc =
		    l->w.inner->ops->put(l->w.inner, key, data, len, if_absent);
		__atomic_store_n(&l->mode, 2, __ATOMIC_RELEASE);
		return rc == 0 ? -EIO : rc;
	}
	if (mode == 2 &&
	    l->w.inner->ops->get_range(l->w.inner, key, 0, 1, &b, &got) != 0)
		return -EIO;
	return l->w.inner->ops->put(l->w.inner, key, data, len, if_absent);
}

static const struct objstore_ops lossy_ops = {
	.scheme = "lossy",
	.put = lossy_put,
	.get = wrap_get,
	.get_range = wrap_get_range,
	.del = wrap_del,
	.list = wrap_list,
};

TEST(gc_after_a_flush_manifest_lost_its_answer_keeps_the_tables_it_names)
{
	struct objstore *inner = store_new();
	struct lossy l = { .w.base.ops = &lossy_ops, .w.inner = inner };
	struct kv_options o = small_opts();
	struct kv *kv = NULL;
	uint64_t deleted = 0;
	char k[16];
	int missing = 0;

	o.upload_attempts = 1;
	CHECK_EQ(kv_open(&l.w.base, &o, &kv), 0);
	for (int i = 0; i < 50; i++) {
		snprintf(k, sizeof(k), "k%02d", i);
		CHECK_EQ(put_s(kv, k, "v"), 0);
	}
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	__atomic_store_n(&l.mode, 1, __ATOMIC_RELEASE);
	/* The SST is stored, its manifest too, but the answer is lost. */
	CHECK(kv_flush(kv) < 0);
	/* Collection settles the unsure manifest (it is stored) and must
	 * then keep every SST that manifest names. */
	kv_gc(kv, &deleted);
	kv_close(kv);
	__atomic_store_n(&l.mode, 0, __ATOMIC_RELEASE);
	CHECK_EQ(kv_open(inner, &o, &kv), 0);
	for (int i = 0; kv != NULL && i < 50; i++) {
		snprintf(k, sizeof(k), "k%02d", i);
		missing += !has_s(kv, k);
	}
	/* Every batch was acknowledged by kv_sync. */
	CHECK_EQ(missing, 0);
	kv_close(kv);
	objstore_close(inner);
}

/* ---- many takeovers without writes ---- */

TEST(forty_takeovers_without_writes_keep_the_store_openable_and_whole)
{
	struct objstore *os = store_new();
	struct kv_options o = small_opts();
	struct kv *kv = NULL;
	uint64_t deleted = 0;
	struct kv_stats st;

	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK_EQ(put_s(kv, "first", "1"), 0);
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	kv_close(kv);
	for (int i = 0; i < 40; i++) {
		kv = NULL;
		CHECK_EQ(kv_open(os, &o, &kv), 0);
		if (kv == NULL)
			break;
		if (i % 7 == 0)
			CHECK_EQ(kv_gc(kv, &deleted), 0);
		kv_close(kv);
	}
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK(has_s(kv, "first"));
	kv_stats_get(kv, &st);
	CHECK(kv->man.nowners <= 2);
	CHECK_EQ(put_s(kv, "last", "2"), 0);
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	kv_close(kv);
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK(has_s(kv, "first") && has_s(kv, "last"));
	kv_close(kv);
	objstore_close(os);
}

/* ---- scans ---- */

static int stop_cb(void *arg, const void *key, size_t klen, const void *val,
		   size_t vlen)
{
	int *calls = arg;

	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	(*calls)++;
	return 7;
}

TEST(a_scan_whose_callback_stops_it_at_once_returns_that_value_every_time)
{
	struct objstore *os = store_new();
	struct kv_options o = small_opts();
	struct kv *kv = NULL;
	char k[32];
	int calls;

	CHECK_EQ(kv_open(os, &o, &kv), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(k, sizeof(k), "s%04d", i);
		CHECK_EQ(put_s(kv, k, "v"), 0);
		if (i == 150)
			CHECK_EQ(kv_flush(kv), 0);
	}
	for (int i = 0; i < 300; i += 37) {
		snprintf(k, sizeof(k), "s%04d", i);
		calls = 0;
		CHECK_EQ(kv_scan(kv, "s", 1, k, strlen(k), stop_cb, &calls), 7);
		CHECK_EQ(calls, 1);
	}
	kv_close(kv);
	objstore_close(os);
}

struct collect {
	int n;
	int bad;
	const uint8_t *prefix;
	size_t plen;
};

static int collect_cb(void *arg, const void *key, size_t klen, const void *val,
		      size_t vlen)
{
	struct collect *c = arg;

	(void)val;
	(void)vlen;
	c->n++;
	if (klen < c->plen || memcmp(key, c->prefix, c->plen) != 0)
		c->bad++;
	return 0;
}

static int put_raw(struct kv *kv, const uint8_t *k, size_t n)
{
	struct kv_batch *b = kv_batch_new();
	int rc = b == NULL ? -ENOMEM : kv_batch_put(b, k, n, "v", 1);

	if (rc == 0)
		rc = kv_write(kv, b, NULL);
	kv_batch_free(b);
	return rc;
}

TEST(prefix_scans_over_all_ff_prefixes_see_exactly_their_keys)
{
	struct objstore *os = store_new();
	struct kv_options o = small_opts();
	struct kv *kv = NULL;
	static const uint8_t keys[][4] = {
		{ 0xfe, 0xff, 0xff, 0xff }, { 0xff, 0x00, 0, 0 },
		{ 0xff, 0xff, 0x00, 0 },    { 0xff, 0xff, 0xff, 0x00 },
		{ 0xff, 0xff, 0xff, 0xff },
	};
	static const uint8_t ff[4] = { 0xff, 0xff, 0xff, 0xff };
	struct collect c;

	CHECK_EQ(kv_open(os, &o, &kv), 0);
	for (size_t i = 0; i < 5; i++)
		CHECK_EQ(put_raw(kv, keys[i], 4), 0);
	CHECK_EQ(kv_flush(kv), 0);
	for (size_t plen = 1; plen <= 4; plen++) {
		c = (struct collect){ .prefix = ff, .plen = plen };
		CHECK_EQ(kv_scan(kv, ff, plen, NULL, 0, collect_cb, &c), 0);
		CHECK_EQ(c.n, (int)(5 - plen));
		CHECK_EQ(c.bad, 0);
	}
	kv_close(kv);
	objstore_close(os);
}

TEST_MAIN(every_flush_on_a_store_that_stays_down_returns_an_error,
	  a_fenced_writer_neither_flushes_nor_stores_a_checkpoint,
	  a_checkpoint_name_taken_twice_is_eexist_even_when_nothing_changed,
	  forty_orphan_ssts_at_the_next_ids_do_not_fail_a_flush,
	  a_store_with_forty_orphan_ssts_opens_when_replay_must_flush,
	  eighteen_runs_that_crash_after_a_flush_upload_leave_a_usable_store,
	  opens_that_crash_at_the_claim_or_the_owner_manifest_lose_nothing,
	  three_engines_opening_at_once_leave_one_writer_and_lose_no_ack,
	  two_engines_whose_claims_race_never_share_one_epoch,
	  a_sync_acknowledged_by_one_of_two_racing_openers_is_never_lost,
	  a_write_never_waits_forever_when_l0_stop_is_below_the_trigger,
	  a_deposed_writer_never_acks_after_the_new_one_collected_its_manifests,
	  a_deposed_writer_that_wakes_up_never_takes_the_store_back,
	  gc_after_a_flush_manifest_lost_its_answer_keeps_the_tables_it_names,
	  forty_takeovers_without_writes_keep_the_store_openable_and_whole,
	  a_scan_whose_callback_stops_it_at_once_returns_that_value_every_time,
	  prefix_scans_over_all_ff_prefixes_see_exactly_their_keys)
