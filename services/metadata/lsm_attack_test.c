/*
 * Adversarial tests of the LSM engine through kv.h: scans that outlive
 * compactions and garbage collection, point reads racing flushes and
 * compactions, checkpoints under churn, tiny sizes under many
 * operations, edge-sized keys, values and batches, a disk cache that
 * vanishes, and stores whose puts fail or lose their replies.  Each case
 * states one property the engine promises and fails when the engine
 * breaks it.
 */
#include "kv.h"

#include "lsm_int.h"
#include "lsm_key.h"
#include "lsm_manifest.h"
#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct objstore *store_new(void)
{
	static int n;
	struct objstore *os = NULL;
	char url[64];

	snprintf(url, sizeof(url), "mem://lsm_attack-%d-%d", (int)getpid(),
		 n++);
	if (objstore_open(url, &os) < 0)
		abort();
	return os;
}

/* Tiny sizes: many flushes, many compactions, collection at once. */
static struct kv_options tiny_opts(void)
{
	struct kv_options o = { .backoff_max_ms = 20,
				.memtable_bytes = 4096,
				.sst_bytes = 2048,
				.l0_trigger = 2,
				.l1_bytes = 8192,
				.compaction_jobs = 4,
				.gc_grace_ms = 0 };
	return o;
}

static int put_kv(struct kv *kv, const void *k, size_t kn, const void *v,
		  size_t vn)
{
	struct kv_batch *b = kv_batch_new();
	int rc = b == NULL ? -ENOMEM : kv_batch_put(b, k, kn, v, vn);

	if (rc == 0)
		rc = kv_write(kv, b, NULL);
	kv_batch_free(b);
	return rc;
}

static int put_s(struct kv *kv, const char *k, const char *v)
{
	return put_kv(kv, k, strlen(k), v, strlen(v));
}

static int get_s(struct kv *kv, const char *k, char *out, size_t cap)
{
	void *v = NULL;
	size_t n = 0;
	int rc = kv_get(kv, k, strlen(k), &v, &n);

	if (rc == 0) {
		n = n < cap - 1 ? n : cap - 1;
		memcpy(out, v, n);
		out[n] = 0;
	}
	free(v);
	return rc;
}

static void val_make(char *buf, size_t cap, int gen, int i)
{
	snprintf(buf, cap, "gen%03d-val%06d-padpadpadpadpadpadpadpadpad", gen,
		 i);
}

static int fill(struct kv *kv, int n, int gen)
{
	char k[32], v[96];
	int rc = 0;

	for (int i = 0; rc == 0 && i < n; i++) {
		snprintf(k, sizeof(k), "k%06d", i);
		val_make(v, sizeof(v), gen, i);
		rc = put_s(kv, k, v);
	}
	return rc;
}

/* ---- a scan that outlives compaction and collection ---- */

#define SCAN_KEYS 1500

struct churn {
	struct kv *kv;
	int rc;
};

static void *churn_run(void *arg)
{
	struct churn *c = arg;
	uint64_t deleted = 0;

	for (int g = 2; c->rc == 0 && g < 5; g++) {
		c->rc = fill(c->kv, SCAN_KEYS, g);
		if (c->rc == 0)
			c->rc = kv_flush(c->kv);
		if (c->rc == 0)
			c->rc = kv_compact_wait(c->kv);
		if (c->rc == 0)
			c->rc = kv_gc(c->kv, &deleted);
	}
	return NULL;
}

struct scan_check {
	struct kv *kv;
	int seen, bad, churned, churn_rc;
};

static int scan_check_cb(void *arg, const void *key, size_t klen,
			 const void *val, size_t vlen)
{
	struct scan_check *s = arg;
	char want_k[32], want_v[96];
	struct churn c = { .kv = s->kv };
	pthread_t t;

	snprintf(want_k, sizeof(want_k), "k%06d", s->seen);
	val_make(want_v, sizeof(want_v), 1, s->seen);
	if (klen != strlen(want_k) || memcmp(key, want_k, klen) != 0 ||
	    vlen != strlen(want_v) || memcmp(val, want_v, vlen) != 0)
		s->bad++;
	s->seen++;
	if (!s->churned) {
		/* Another thread rewrites everything, compacts and collects
		 * while this scan waits: its snapshot must stay readable. */
		s->churned = 1;
		if (pthread_create(&t, NULL, churn_run, &c) != 0)
			return -EAGAIN;
		pthread_join(t, NULL);
		s->churn_rc = c.rc;
	}
	return 0;
}

TEST(a_scan_survives_a_compaction_and_gc_that_run_while_it_waits)
{
	struct objstore *os = store_new();
	struct kv_options o = tiny_opts();
	struct scan_check s = { 0 };
	struct kv *kv = NULL;

	/* A block cache smaller than the data, as in any large tree: the
	 * scan must fetch its blocks from the tables it started on. */
	o.block_cache_bytes = 1;
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK_EQ(fill(kv, SCAN_KEYS, 1), 0);
	CHECK_EQ(kv_flush(kv), 0);
	CHECK_EQ(kv_compact_wait(kv), 0);
	s.kv = kv;
	CHECK_EQ(kv_scan(kv, "k", 1, NULL, 0, scan_check_cb, &s), 0);
	CHECK_EQ(s.churn_rc, 0);
	CHECK_EQ(s.seen, SCAN_KEYS);
	CHECK_EQ(s.bad, 0);
	kv_close(kv);
	objstore_close(os);
}

/* ---- point reads racing a writer and its flushes ---- */

struct racer {
	struct kv *kv;
	int stop; /* atomic */
	long misses, errors;
};

static void *racer_run(void *arg)
{
	struct racer *r = arg;
	long misses = 0, errors = 0;
	void *v;
	size_t n;
	int rc;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		rc = kv_get(r->kv, "K", 1, &v, &n);
		misses += rc == -ENOENT;
		errors += rc != 0 && rc != -ENOENT;
		if (rc == 0)
			free(v);
	}
	__atomic_add_fetch(&r->misses, misses, __ATOMIC_RELAXED);
	__atomic_add_fetch(&r->errors, errors, __ATOMIC_RELAXED);
	return NULL;
}

TEST(an_always_present_key_is_never_missed_during_flushes_and_compactions)
{
	struct objstore *os = store_new();
	struct kv_options o = tiny_opts();
	struct racer r = { 0 };
	pthread_t t[4];
	char v[64];

	memset(v, 'v', sizeof(v));
	CHECK_EQ(kv_open(os, &o, &r.kv), 0);
	CHECK_EQ(put_kv(r.kv, "K", 1, v, sizeof(v)), 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, racer_run, &r), 0);
	for (int n = 0; n < 20000; n++)
		CHECK_EQ(put_kv(r.kv, "K", 1, v, sizeof(v)), 0);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(r.misses, 0);
	CHECK_EQ(r.errors, 0);
	kv_close(r.kv);
	objstore_close(os);
}

/* ---- checkpoints ---- */

static int ckpt_ssts_present(struct objstore *os, const char *ckpt,
			     int *missing, int *total)
{
	struct lsm_manifest m;
	char name[KV_NAME_MAX];
	void *p = NULL, *q;
	size_t n = 0, qn;
	int rc;

	lsm_name_ckpt("meta/", ckpt, name, sizeof(name));
	rc = objstore_get(os, name, &p, &n);
	if (rc < 0)
		return rc;
	lsm_manifest_init(&m);
	rc = lsm_manifest_decode(p, n, &m);
	free(p);
	for (int l = 0; rc == 0 && l < LSM_LEVELS; l++)
		for (size_t i = 0; i < m.nfiles[l]; i++) {
			lsm_name_sst("meta/", m.files[l][i].id, name,
				     sizeof(name));
			(*total)++;
			if (objstore_get(os, name, &q, &qn) < 0)
				(*missing)++;
			else
				free(q);
		}
	lsm_manifest_clear(&m);
	return rc;
}

TEST(every_sst_a_checkpoint_names_outlives_overwrites_compaction_and_gc)
{
	struct objstore *os = store_new();
	struct kv_options o = tiny_opts();
	struct kv *kv = NULL;
	int missing = 0, total = 0;
	uint64_t deleted = 0;

	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK_EQ(fill(kv, 800, 1), 0);
	CHECK_EQ(kv_checkpoint(kv, "c1"), 0);
	for (int g = 2; g < 6; g++) {
		CHECK_EQ(fill(kv, 800, g), 0);
		CHECK_EQ(kv_flush(kv), 0);
		CHECK_EQ(kv_compact_wait(kv), 0);
		CHECK_EQ(kv_gc(kv, &deleted), 0);
	}
	CHECK(deleted > 0);
	CHECK_EQ(ckpt_ssts_present(os, "c1", &missing, &total), 0);
	CHECK(total > 0);
	CHECK_EQ(missing, 0);
	CHECK_EQ(kv_checkpoint(kv, "c1"), -EEXIST);
	kv_close(kv);
	objstore_close(os);
}

/* ---- edge sizes ---- */

TEST(a_key_of_the_maximum_length_survives_flush_and_compaction)
{
	struct objstore *os = store_new();
	struct kv_options o = tiny_opts();
	struct kv *kv = NULL;
	uint8_t *k = malloc(LSM_KEY_MAX + 1);
	void *v = NULL;
	size_t n = 0;

	CHECK(k != NULL);
	memset(k, 'x', LSM_KEY_MAX + 1);
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK_EQ(put_kv(kv, k, LSM_KEY_MAX, "big", 3), 0);
	CHECK_EQ(put_kv(kv, k, LSM_KEY_MAX + 1, "too", 3), -EINVAL);
	CHECK_EQ(put_kv(kv, "x", 1, "one", 3), 0);
	CHECK_EQ(fill(kv, 300, 1), 0);
	CHECK_EQ(kv_flush(kv), 0);
	CHECK_EQ(kv_compact_wait(kv), 0);
	CHECK_EQ(kv_get(kv, k, LSM_KEY_MAX, &v, &n), 0);
	CHECK(n == 3 && v != NULL && memcmp(v, "big", 3) == 0);
	free(v);
	CHECK_EQ(kv_get(kv, "x", 1, &v, &n), 0);
	CHECK(n == 3 && memcmp(v, "one", 3) == 0);
	free(v);
	kv_close(kv);
	objstore_close(os);
	free(k);
}

TEST(a_value_of_one_mebibyte_reads_back_whole_from_a_tiny_sst)
{
	struct objstore *os = store_new();
	struct kv_options o = tiny_opts();
	struct kv *kv = NULL;
	size_t big = 1 << 20, n = 0;
	uint8_t *val = malloc(big);
	void *v = NULL;

	CHECK(val != NULL);
	for (size_t i = 0; i < big; i++)
		val[i] = (uint8_t)(i * 131 + (i >> 13));
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK_EQ(put_kv(kv, "big", 3, val, big), 0);
	CHECK_EQ(put_kv(kv, "empty", 5, "", 0), 0);
	CHECK_EQ(fill(kv, 200, 1), 0);
	CHECK_EQ(kv_flush(kv), 0);
	CHECK_EQ(kv_compact_wait(kv), 0);
	CHECK_EQ(kv_get(kv, "big", 3, &v, &n), 0);
	CHECK_EQ(n, big);
	CHECK(v != NULL && memcmp(v, val, big) == 0);
	free(v);
	CHECK_EQ(kv_get(kv, "empty", 5, &v, &n), 0);
	CHECK_EQ(n, 0);
	free(v);
	kv_close(kv);
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK_EQ(kv_get(kv, "big", 3, &v, &n), 0);
	CHECK(n == big && memcmp(v, val, big) == 0);
	free(v);
	kv_close(kv);
	objstore_close(os);
	free(val);
}

TEST(the_last_write_wins_in_a_batch_of_ten_thousand_operations_on_few_keys)
{
	struct objstore *os = store_new();
	struct kv_options o = tiny_opts();
	struct kv_batch *b = kv_batch_new();
	struct kv *kv = NULL;
	char k[8], v[32], got[64];

	CHECK(b != NULL);
	for (int i = 0; i < 10000; i++) {
		snprintf(k, sizeof(k), "f%d", i % 3);
		snprintf(v, sizeof(v), "v%d", i);
		if (i % 7 == 3)
			CHECK_EQ(kv_batch_del(b, k, strlen(k)), 0);
		else
			CHECK_EQ(kv_batch_put(b, k, strlen(k), v, strlen(v)),
				 0);
	}
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK_EQ(kv_write(kv, b, NULL), 0);
	/* 9999 % 3 == 0 and 9999 % 7 == 3: a delete; 9998 % 3 == 2,
	 * 9997 % 3 == 1, neither a delete. */
	CHECK_EQ(get_s(kv, "f0", got, sizeof(got)), -ENOENT);
	CHECK_EQ(get_s(kv, "f2", got, sizeof(got)), 0);
	CHECK(strcmp(got, "v9998") == 0);
	CHECK_EQ(get_s(kv, "f1", got, sizeof(got)), 0);
	CHECK(strcmp(got, "v9997") == 0);
	CHECK_EQ(kv_sync(kv, NULL, NULL, NULL), 0);
	kv_close(kv);
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK_EQ(get_s(kv, "f0", got, sizeof(got)), -ENOENT);
	CHECK_EQ(get_s(kv, "f2", got, sizeof(got)), 0);
	CHECK(strcmp(got, "v9998") == 0);
	CHECK_EQ(kv_flush(kv), 0);
	CHECK_EQ(get_s(kv, "f1", got, sizeof(got)), 0);
	CHECK(strcmp(got, "v9997") == 0);
	kv_close(kv);
	kv_batch_free(b);
	objstore_close(os);
}

static int count_cb(void *arg, const void *key, size_t klen, const void *val,
		    size_t vlen)
{
	char *out = arg;

	(void)val;
	(void)vlen;
	strncat(out, key, klen);
	strcat(out, ",");
	return 0;
}

static void scan_s(struct kv *kv, const char *prefix, const char *start,
		   char *out)
{
	out[0] = 0;
	if (kv_scan(kv, prefix, strlen(prefix), start,
		    start ? strlen(start) : 0, count_cb, out) != 0)
		strcpy(out, "ERR");
}

TEST(scans_with_start_keys_before_inside_and_after_the_prefix_are_exact)
{
	struct objstore *os = store_new();
	struct kv_options o = tiny_opts();
	struct kv *kv = NULL;
	const char *keys[] = { "a", "b", "b\x01", "ba", "bb", "bc", "c" };
	char out[256];
	struct kv_batch *b = kv_batch_new();

	CHECK_EQ(kv_open(os, &o, &kv), 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CHECK_EQ(put_s(kv, keys[i], "v"), 0);
	CHECK_EQ(kv_batch_del(b, "zz-absent", 9), 0);
	CHECK_EQ(kv_batch_del(b, "bz", 2), 0);
	CHECK_EQ(kv_write(kv, b, NULL), 0);
	kv_batch_free(b);
	for (int round = 0; round < 2; round++) {
		scan_s(kv, "b", NULL, out);
		CHECK(strcmp(out, "b,b\x01,ba,bb,bc,") == 0);
		scan_s(kv, "b", "a", out); /* before: from the prefix */
		CHECK(strcmp(out, "b,b\x01,ba,bb,bc,") == 0);
		scan_s(kv, "b", "bab", out); /* inside, between keys */
		CHECK(strcmp(out, "bb,bc,") == 0);
		scan_s(kv, "b", "bb", out); /* inside, on a key */
		CHECK(strcmp(out, "bb,bc,") == 0);
		scan_s(kv, "b", "c", out); /* after */
		CHECK(strcmp(out, "") == 0);
		scan_s(kv, "", "bc", out);
		CHECK(strcmp(out, "bc,c,") == 0);
		scan_s(kv, "bz", NULL, out);
		CHECK(strcmp(out, "") == 0);
		CHECK_EQ(kv_flush(kv), 0);
		CHECK_EQ(kv_compact_wait(kv), 0);
	}
	kv_close(kv);
	objstore_close(os);
}

/* ---- a store that fails one kind of request ---- */

struct picky {
	struct objstore base;
	struct objstore *inner;
	int fail_puts; /* atomic: puts return -EIO, not applied */
	int lose_puts; /* atomic: puts applied, then -EIO */
};

static int picky_put(struct objstore *os, const char *key, const void *data,
		     size_t len, int if_absent)
{
	struct picky *p = (struct picky *)os;
	int rc;

	if (__atomic_load_n(&p->fail_puts, __ATOMIC_ACQUIRE))
		return -EIO;
	rc = p->inner->ops->put(p->inner, key, data, len, if_absent);
	if (rc == 0 && __atomic_load_n(&p->lose_puts, __ATOMIC_ACQUIRE))
		return -EIO;
	return rc;
}

static int picky_get(struct objstore *os, const char *key, void **data,
		     size_t *len)
{
	struct picky *p = (struct picky *)os;

	return objstore_get(p->inner, key, data, len);
}

static int picky_get_range(struct objstore *os, const char *key, uint64_t off,
			   size_t len, void *buf, size_t *got)
{
	struct picky *p = (struct picky *)os;

	return objstore_get_range(p->inner, key, off, len, buf, got);
}

static int picky_del(struct objstore *os, const char *key)
{
	return objstore_del(((struct picky *)os)->inner, key);
}

static int picky_list(struct objstore *os, const char *prefix,
		      objstore_list_cb cb, void *arg)
{
	return objstore_list(((struct picky *)os)->inner, prefix, cb, arg);
}

static const struct objstore_ops picky_ops = {
	.scheme = "picky",
	.put = picky_put,
	.get = picky_get,
	.get_range = picky_get_range,
	.del = picky_del,
	.list = picky_list,
	.close = NULL, /* never closed: the test owns the wrapper */
};

static void picky_set(int *flag, int v)
{
	__atomic_store_n(flag, v, __ATOMIC_RELEASE);
}

/* Batch s puts "p%04d" (s % 97) = s and, every third, deletes another. */
static int seq_write(struct kv *kv, uint64_t s)
{
	struct kv_batch *b = kv_batch_new();
	char k[16], v[32];
	int rc;

	snprintf(k, sizeof(k), "p%04d", (int)(s % 97));
	snprintf(v, sizeof(v), "s%llu", (unsigned long long)s);
	rc = b == NULL ? -ENOMEM : kv_batch_put(b, k, strlen(k), v, strlen(v));
	snprintf(k, sizeof(k), "p%04d", (int)((s * 7) % 97));
	if (rc == 0 && s % 3 == 0)
		rc = kv_batch_del(b, k, strlen(k));
	if (rc == 0)
		rc = kv_write(kv, b, NULL);
	kv_batch_free(b);
	return rc;
}

struct prefix_check {
	char got[97][32];
	int have[97];
};

static int prefix_cb(void *arg, const void *key, size_t klen, const void *val,
		     size_t vlen)
{
	struct prefix_check *pc = arg;
	int i = atoi((const char *)key + 1);

	if (klen != 5 || i < 0 || i >= 97 || vlen >= 32)
		return -EINVAL;
	pc->have[i] = 1;
	memcpy(pc->got[i], val, vlen);
	pc->got[i][vlen] = 0;
	return 0;
}

/* The state after batches 1..p, as the engine shows it: 1 if equal. */
static int state_is_prefix(struct kv *kv, uint64_t p)
{
	struct prefix_check pc = { 0 }, want = { 0 };
	char k[16];

	for (uint64_t s = 1; s <= p; s++) {
		int i = (int)(s % 97);

		want.have[i] = 1;
		snprintf(want.got[i], 32, "s%llu", (unsigned long long)s);
		if (s % 3 == 0) {
			snprintf(k, sizeof(k), "%d", (int)((s * 7) % 97));
			want.have[atoi(k)] = 0;
		}
	}
	if (kv_scan(kv, "p", 1, NULL, 0, prefix_cb, &pc) != 0)
		return 0;
	for (int i = 0; i < 97; i++)
		if (pc.have[i] != want.have[i] ||
		    (pc.have[i] && strcmp(pc.got[i], want.got[i]) != 0))
			return 0;
	return 1;
}

static int state_prefix_between(struct kv *kv, uint64_t lo, uint64_t hi)
{
	for (uint64_t p = lo; p <= hi; p++)
		if (state_is_prefix(kv, p))
			return 1;
	return 0;
}

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

/* kv_flush in a thread: 1 if it returned within ms (its result in *rc).
 * Either way *heal is cleared and the thread joined before returning. */
static int flush_within(struct kv *kv, int ms, int *rc, int *heal)
{
	struct timed_flush t = { .kv = kv };
	struct timespec ts;
	pthread_t th;
	int done;

	if (pthread_create(&th, NULL, timed_flush_run, &t) != 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	done = pthread_timedjoin_np(th, NULL, &ts) == 0;
	picky_set(heal, 0);
	if (!done)
		pthread_join(th, NULL);
	*rc = t.rc;
	return done;
}

TEST(a_flush_on_a_store_that_fails_every_put_returns_an_error)
{
	struct objstore *inner = store_new();
	struct picky pk = { .base.ops = &picky_ops, .inner = inner };
	struct kv_options o = tiny_opts();
	struct kv *kv = NULL;
	uint64_t s = 0;
	int rc = 0;

	o.upload_attempts = 2;
	o.backoff_max_ms = 2;
	CHECK_EQ(kv_open(&pk.base, &o, &kv), 0);
	while (s < 20)
		CHECK_EQ(seq_write(kv, ++s), 0);
	picky_set(&pk.fail_puts, 1);
	/* kv.h: "0, or the upload's error"; the store heals after 5 s
	 * whatever happens, so a flush that hangs ends the case. */
	CHECK(flush_within(kv, 5000, &rc, &pk.fail_puts));
	CHECK(rc < 0 || pk.fail_puts == 0);
	CHECK_EQ(kv_flush(kv), 0);
	CHECK(state_is_prefix(kv, s));
	kv_close(kv);
	objstore_close(inner);
}

TEST(failing_and_lost_puts_during_flush_and_compaction_lose_no_acked_batch)
{
	struct objstore *inner = store_new();
	struct picky pk = { .base.ops = &picky_ops, .inner = inner };
	struct kv_options o = tiny_opts();
	struct kv *kv = NULL;
	uint64_t s = 0, acked = 0;

	o.upload_attempts = 2;
	o.backoff_max_ms = 2;
	CHECK_EQ(kv_open(&pk.base, &o, &kv), 0);
	while (s < 600)
		CHECK_EQ(seq_write(kv, ++s), 0);
	CHECK_EQ(kv_sync(kv, NULL, NULL, &acked), 0);
	CHECK_EQ(acked, s);
	picky_set(&pk.fail_puts, 1);
	while (s < 620)
		CHECK_EQ(seq_write(kv, ++s), 0);
	CHECK(kv_sync(kv, NULL, NULL, NULL) < 0);
	picky_set(&pk.fail_puts, 0);
	picky_set(&pk.lose_puts, 1);
	while (s < 900)
		CHECK_EQ(seq_write(kv, ++s), 0);
	if (kv_sync(kv, NULL, NULL, NULL) == 0)
		acked = s;
	picky_set(&pk.lose_puts, 0);
	CHECK_EQ(kv_compact_wait(kv), 0);
	kv_close(kv);
	CHECK_EQ(kv_open(inner, &o, &kv), 0);
	CHECK(state_prefix_between(kv, acked, s));
	kv_close(kv);
	objstore_close(inner);
}

/* ---- tiny sizes, many operations ---- */

#define TINY_KEYS 400
#define TINY_OPS  30000

TEST(tiny_sizes_under_many_writes_keep_every_key_and_compaction_settles)
{
	struct objstore *os = store_new();
	struct kv_options o = tiny_opts();
	static int model[TINY_KEYS]; /* -1 absent, else the op that wrote */
	struct kv *kv = NULL;
	struct kv_stats st;
	uint64_t rng = 88172645463325252ULL;
	char k[16], v[32], got[64];
	int bad = 0;

	for (int i = 0; i < TINY_KEYS; i++)
		model[i] = -1;
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	for (int n = 0; n < TINY_OPS; n++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		int key = (int)(rng % TINY_KEYS);
		struct kv_batch *b = kv_batch_new();

		snprintf(k, sizeof(k), "t%05d", key);
		snprintf(v, sizeof(v), "op%d", n);
		if (rng % 5 == 0) {
			kv_batch_del(b, k, strlen(k));
			model[key] = -1;
		} else {
			kv_batch_put(b, k, strlen(k), v, strlen(v));
			model[key] = n;
		}
		CHECK_EQ(kv_write(kv, b, NULL), 0);
		kv_batch_free(b);
	}
	CHECK_EQ(kv_flush(kv), 0);
	CHECK_EQ(kv_compact_wait(kv), 0);
	for (int i = 0; i < TINY_KEYS; i++) {
		int rc;

		snprintf(k, sizeof(k), "t%05d", i);
		rc = get_s(kv, k, got, sizeof(got));
		snprintf(v, sizeof(v), "op%d", model[i]);
		if (model[i] < 0 ? rc != -ENOENT
				 : rc != 0 || strcmp(got, v) != 0)
			bad++;
	}
	CHECK_EQ(bad, 0);
	kv_stats_get(kv, &st);
	CHECK_EQ(st.last_seq, TINY_OPS);
	CHECK(st.compactions > 0);
	CHECK(st.level_files[0] < o.l0_trigger);
	kv_close(kv);
	objstore_close(os);
}

TEST(reads_still_work_from_the_store_once_the_disk_cache_directory_is_gone)
{
	struct objstore *os = store_new();
	struct kv_options o = tiny_opts();
	struct kv *kv = NULL;
	char dir[256], cmd[300], k[32], want[96], got[96];
	int bad = 0;

	CHECK_EQ(test_tmpdir("lsm_attack_dcache", dir, sizeof(dir)), 0);
	o.disk_cache_dir = dir;
	o.block_cache_bytes = 1;
	CHECK_EQ(kv_open(os, &o, &kv), 0);
	CHECK_EQ(fill(kv, 600, 1), 0);
	CHECK_EQ(kv_flush(kv), 0);
	CHECK_EQ(kv_compact_wait(kv), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(fill(kv, 300, 2), 0);
	CHECK_EQ(kv_flush(kv), 0);
	CHECK_EQ(kv_compact_wait(kv), 0);
	for (int i = 0; i < 600; i++) {
		snprintf(k, sizeof(k), "k%06d", i);
		val_make(want, sizeof(want), i < 300 ? 2 : 1, i);
		if (get_s(kv, k, got, sizeof(got)) != 0 ||
		    strcmp(got, want) != 0)
			bad++;
	}
	CHECK_EQ(bad, 0);
	kv_close(kv);
	objstore_close(os);
}

TEST_MAIN(a_scan_survives_a_compaction_and_gc_that_run_while_it_waits,
	  an_always_present_key_is_never_missed_during_flushes_and_compactions,
	  tiny_sizes_under_many_writes_keep_every_key_and_compaction_settles,
	  reads_still_work_from_the_store_once_the_disk_cache_directory_is_gone,
	  a_flush_on_a_store_that_fails_every_put_returns_an_error,
	  failing_and_lost_puts_during_flush_and_compaction_lose_no_acked_batch,
	  a_key_of_the_maximum_length_survives_flush_and_compaction,
	  a_value_of_one_mebibyte_reads_back_whole_from_a_tiny_sst,
	  the_last_write_wins_in_a_batch_of_ten_thousand_operations_on_few_keys,
	  scans_with_start_keys_before_inside_and_after_the_prefix_are_exact,
	  every_sst_a_checkpoint_names_outlives_overwrites_compaction_and_gc)
