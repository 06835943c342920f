/*
 * A randomized model test of the key-value engine: 100,000 random
 * operations (single puts and deletes, multi-operation batches, gets,
 * prefix scans with a start key, syncs, restarts that drop unsynced
 * batches, and with the LSM engine flushes, compaction waits and garbage
 * collection) run against the engine on a mem:// store and against a
 * plain model of it, and every read is compared whole.
 *
 * Values are a pure function of a never-reused operation number and a
 * length, so the model keeps no value bytes and the history of every
 * batch, by sequence number, is a few integers per operation.  A restart
 * may lose the batches after the last sync: the engine comes back at some
 * P between the last synced and the last written batch, and the model is
 * rebuilt from the history at exactly P.
 *
 * The seed is printed first; ZEROFS_SEED=<n> replays a run.  A mismatch
 * prints the step and the operation and ends the run.
 */
#include "kv.h"

#include "log.h"
#include "test.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define MODEL_KEYS	3000
#define MODEL_SHORT	100 /* keys that are prefixes of longer keys */
#define MODEL_STEPS	100000
#define MODEL_VAL_MAX	300
#define MODEL_BATCH_MAX 8
#define MODEL_KEY_MAX	24

struct hist_op {
	uint32_t key;
	uint32_t uid; /* names the value's bytes; 0 for a delete */
	uint16_t len;
};

struct slot {
	uint32_t uid; /* 0: absent */
	uint16_t len;
};

struct model {
	uint64_t seed, rng;
	long step;
	const char *op;
	int failed;
	char keys[MODEL_KEYS][MODEL_KEY_MAX];
	uint32_t order[MODEL_KEYS]; /* key ids in byte order of their keys */
	struct slot slots[MODEL_KEYS];
	struct hist_op *hops; /* every batch's operations, in order */
	size_t nhops, caphops;
	uint32_t *bstart; /* bstart[s]: batch s's first entry of hops */
	size_t capb;
	uint32_t next_uid;
	uint64_t last_written, last_synced;
	struct objstore *os;
	struct kv *kv;
	uint8_t buf[MODEL_VAL_MAX];
	long restarts, syncs, scans, gets, writes, flushes, checkpoints;
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

static uint32_t rnd(struct model *m, uint32_t n)
{
	return (uint32_t)(rng_next(&m->rng) % n);
}

/* Fills m->buf with the value of operation uid; a pure function. */
static const uint8_t *value_of(struct model *m, uint32_t uid, uint16_t len)
{
	uint64_t s = (m->seed ^ ((uint64_t)uid << 20)) | 1;

	for (uint16_t i = 0; i < len; i++)
		m->buf[i] = (uint8_t)(rng_next(&s) >> 56);
	return m->buf;
}

static void model_fail(struct model *m, const char *fmt, ...)
{
	va_list ap;

	if (m->failed)
		return;
	m->failed = 1;
	fprintf(stderr, "  seed %" PRIu64 " step %ld op %s: ", m->seed, m->step,
		m->op);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	CHECK(!"the engine matches the model");
}

static int key_cmp(const void *a, const void *b, void *arg)
{
	struct model *m = arg;

	return strcmp(m->keys[*(const uint32_t *)a],
		      m->keys[*(const uint32_t *)b]);
}

/* Short keys "x/NN" are prefixes of the long keys "x/NN/ID", so prefix
 * scans meet keys of every length. */
static void keys_init(struct model *m)
{
	for (uint32_t k = 0; k < MODEL_KEYS; k++) {
		if (k < MODEL_SHORT)
			snprintf(m->keys[k], MODEL_KEY_MAX, "%c/%02u",
				 'a' + k / 25, k % 25);
		else
			snprintf(m->keys[k], MODEL_KEY_MAX, "%c/%02u/%u",
				 'a' + k % 4, (k / 4) % 25, k);
		m->order[k] = k;
	}
	qsort_r(m->order, MODEL_KEYS, sizeof(m->order[0]), key_cmp, m);
}

static void hist_push(struct model *m, struct hist_op op)
{
	if (m->nhops == m->caphops) {
		m->caphops = m->caphops ? m->caphops * 2 : 4096;
		m->hops = realloc(m->hops, m->caphops * sizeof(*m->hops));
		if (m->hops == NULL)
			abort();
	}
	m->hops[m->nhops++] = op;
}

/* Records that batch seq ends where the history ends now. */
static void hist_seal(struct model *m, uint64_t seq)
{
	if (seq + 2 > m->capb) {
		m->capb = m->capb ? m->capb * 2 : 4096;
		m->bstart = realloc(m->bstart, m->capb * sizeof(*m->bstart));
		if (m->bstart == NULL)
			abort();
	}
	m->bstart[seq + 1] = (uint32_t)m->nhops;
}

static void slot_apply(struct model *m, const struct hist_op *op)
{
	m->slots[op->key] = (struct slot){ .uid = op->uid, .len = op->len };
}

/* Rebuilds the model from the history of batches 1..p. */
static void model_rebuild(struct model *m, uint64_t p)
{
	memset(m->slots, 0, sizeof(m->slots));
	m->nhops = m->bstart[p + 1];
	for (size_t i = 0; i < m->nhops; i++)
		slot_apply(m, &m->hops[i]);
	m->last_written = p;
}

static struct kv *engine_open(struct model *m)
{
	struct kv_options opt = {
		.checkpoint_every = 64,
		.backoff_max_ms = 5,
		.memtable_bytes = 64 << 10,
		.sst_bytes = 32 << 10,
		.l0_trigger = 2,
		.l1_bytes = 128 << 10,
		.block_cache_bytes = 256 << 10,
		.gc_grace_ms = 0,
	};
	struct kv *kv = NULL;
	int rc = kv_open(m->os, &opt, &kv);

	if (rc < 0)
		model_fail(m, "kv_open: %d", rc);
	return kv;
}

/* Writes one batch of nops operations; deletes make up del_pct % of
 * them.  A key may appear twice in a batch: the later operation wins. */
static void op_write(struct model *m, uint32_t nops, uint32_t del_pct)
{
	struct hist_op ops[MODEL_BATCH_MAX];
	struct kv_batch *b = kv_batch_new();
	uint64_t seq = 0;
	int rc = b == NULL ? -ENOMEM : 0;

	for (uint32_t i = 0; i < nops && rc == 0; i++) {
		struct hist_op *op = &ops[i];
		const char *k;

		op->key = rnd(m, MODEL_KEYS);
		k = m->keys[op->key];
		if (rnd(m, 100) < del_pct) {
			*op = (struct hist_op){ .key = op->key };
			rc = kv_batch_del(b, k, strlen(k));
			continue;
		}
		op->uid = ++m->next_uid;
		op->len = (uint16_t)rnd(m, MODEL_VAL_MAX + 1);
		rc = kv_batch_put(b, k, strlen(k),
				  value_of(m, op->uid, op->len), op->len);
	}
	if (rc == 0)
		rc = kv_write(m->kv, b, &seq);
	kv_batch_free(b);
	if (rc < 0 || seq != m->last_written + 1) {
		model_fail(m, "kv_write: %d, seq %" PRIu64 " after %" PRIu64,
			   rc, seq, m->last_written);
		return;
	}
	for (uint32_t i = 0; i < nops; i++) {
		hist_push(m, ops[i]);
		slot_apply(m, &ops[i]);
	}
	m->last_written = seq;
	hist_seal(m, seq);
	m->writes++;
}

/* Compares what the engine returned for key k with the model. */
static int value_check(struct model *m, uint32_t k, const void *val,
		       size_t vlen)
{
	const struct slot *s = &m->slots[k];

	if (s->uid == 0) {
		model_fail(m, "key %s is present, the model has none",
			   m->keys[k]);
		return -1;
	}
	if (vlen != s->len ||
	    memcmp(val, value_of(m, s->uid, s->len), vlen) != 0) {
		model_fail(m, "key %s: %zu bytes, want %u (operation %u)",
			   m->keys[k], vlen, s->len, s->uid);
		return -1;
	}
	return 0;
}

static void op_get(struct model *m)
{
	uint32_t k = rnd(m, MODEL_KEYS);
	const char *key = m->keys[k];
	void *val = NULL;
	size_t vlen = 0;
	int rc = kv_get(m->kv, key, strlen(key), &val, &vlen);

	m->gets++;
	if (rc == -ENOENT && m->slots[k].uid != 0)
		model_fail(m, "key %s is absent, the model has it", key);
	else if (rc == 0)
		value_check(m, k, val, vlen);
	else if (rc != -ENOENT)
		model_fail(m, "kv_get %s: %d", key, rc);
	free(val);
}

/* A scan's expectations: the model's keys in order, walked as the
 * engine calls back. */
struct scan_ctx {
	struct model *m;
	uint32_t want[MODEL_KEYS];
	uint32_t nwant, pos, stop_after;
};

static int scan_cb(void *arg, const void *key, size_t klen, const void *val,
		   size_t vlen)
{
	struct scan_ctx *c = arg;
	const char *want;

	if (c->pos == c->nwant) {
		model_fail(c->m, "scan: extra key %.*s after %u", (int)klen,
			   (const char *)key, c->pos);
		return -1;
	}
	want = c->m->keys[c->want[c->pos]];
	if (klen != strlen(want) || memcmp(key, want, klen) != 0) {
		model_fail(c->m, "scan: key %u is %.*s, want %s", c->pos,
			   (int)klen, (const char *)key, want);
		return -1;
	}
	if (value_check(c->m, c->want[c->pos], val, vlen) < 0)
		return -1;
	c->pos++;
	return c->pos == c->stop_after ? 7 : 0;
}

static int has_prefix(const char *s, const char *p, size_t plen)
{
	return strlen(s) >= plen && memcmp(s, p, plen) == 0;
}

/* The model's side of kv_scan: keys with the prefix and >= start, where
 * a start shorter than the prefix is ignored. */
static void scan_expect(struct scan_ctx *c, const char *p, size_t plen,
			const char *start, size_t slen)
{
	struct model *m = c->m;

	c->nwant = 0;
	for (uint32_t i = 0; i < MODEL_KEYS; i++) {
		uint32_t k = m->order[i];
		const char *key = m->keys[k];
		size_t klen = strlen(key);
		size_t n = klen < slen ? klen : slen;

		if (m->slots[k].uid == 0 || !has_prefix(key, p, plen))
			continue;
		if (start != NULL && slen >= plen &&
		    (memcmp(key, start, n) < 0 ||
		     (memcmp(key, start, n) == 0 && klen < slen)))
			continue;
		c->want[c->nwant++] = k;
	}
}

static void scan_run(struct model *m, const char *p, size_t plen,
		     const char *start, size_t slen, uint32_t stop_after)
{
	static struct scan_ctx c;
	int rc, want_rc;

	c.m = m;
	c.pos = 0;
	c.stop_after = stop_after;
	scan_expect(&c, p, plen, start, slen);
	rc = kv_scan(m->kv, p, plen, start, slen, scan_cb, &c);
	if (m->failed)
		return;
	want_rc = stop_after != 0 && c.nwant >= stop_after ? 7 : 0;
	if (rc != want_rc)
		model_fail(m, "kv_scan(%.*s, %.*s): %d, want %d", (int)plen, p,
			   (int)slen, start ? start : "", rc, want_rc);
	else if (want_rc == 0 && c.pos != c.nwant)
		model_fail(m, "kv_scan(%.*s, %.*s): %u keys, want %u",
			   (int)plen, p, (int)slen, start ? start : "", c.pos,
			   c.nwant);
}

/* A prefix cut from a random key; a start that is NULL, or cut from a
 * key with that prefix, or shorter than the prefix; sometimes a callback
 * that stops the scan early. */
static void op_scan(struct model *m)
{
	const char *pk = m->keys[rnd(m, MODEL_KEYS)];
	const char *sk = m->keys[rnd(m, MODEL_KEYS)];
	size_t plen = rnd(m, (uint32_t)strlen(pk) + 1), slen = 0;
	const char *start = NULL;
	uint32_t how = rnd(m, 10);

	m->scans++;
	if (how < 4 && has_prefix(sk, pk, plen)) {
		start = sk;
		slen = plen + rnd(m, (uint32_t)(strlen(sk) - plen) + 1);
	} else if (how < 6 && plen > 0) {
		start = pk;
		slen = rnd(m, (uint32_t)plen);
	}
	scan_run(m, pk, plen, start, slen, how == 9 ? 1 + rnd(m, 20) : 0);
}

static void op_sync(struct model *m)
{
	uint64_t seq = 0;
	int rc = kv_sync(m->kv, NULL, NULL, &seq);

	m->syncs++;
	if (rc < 0 || seq != m->last_written) {
		model_fail(m,
			   "kv_sync: %d, durable %" PRIu64 ", written %" PRIu64,
			   rc, seq, m->last_written);
		return;
	}
	m->last_synced = seq;
}

/* Closes without a sync and reopens: the engine is back at some P in
 * [last synced, last written], equal to the history at P. */
static void op_restart(struct model *m)
{
	struct kv_stats st;

	m->restarts++;
	kv_close(m->kv);
	m->kv = engine_open(m);
	if (m->kv == NULL)
		return;
	kv_stats_get(m->kv, &st);
	if (st.last_seq < m->last_synced || st.last_seq > m->last_written) {
		model_fail(m,
			   "reopened at %" PRIu64 ", synced %" PRIu64
			   ", written %" PRIu64,
			   st.last_seq, m->last_synced, m->last_written);
		return;
	}
	model_rebuild(m, st.last_seq);
	m->last_synced = st.last_seq;
	scan_run(m, "", 0, NULL, 0, 0);
}

/* The LSM engine's own calls: a flush and a checkpoint are durability
 * barriers too; a compaction wait and a collection change no visible
 * state. */
static void op_lsm(struct model *m, uint32_t which)
{
	int rc;

	m->flushes++;
	if (which == 0) {
		m->op = "flush";
		rc = kv_flush(m->kv);
		if (rc == 0)
			m->last_synced = m->last_written;
	} else if (which == 1) {
		m->op = "compact_wait";
		rc = kv_compact_wait(m->kv);
	} else if (which == 2) {
		m->op = "gc";
		rc = kv_gc(m->kv, NULL);
	} else {
		char name[32];

		/* A checkpoint flushes first: a barrier like kv_flush. */
		m->op = "checkpoint";
		snprintf(name, sizeof(name), "model-%ld", m->checkpoints++);
		rc = kv_checkpoint(m->kv, name);
		if (rc == 0)
			m->last_synced = m->last_written;
	}
	if (rc < 0)
		model_fail(m, "%d", rc);
}

/* One random step; the mix favours writes and reads, with a restart
 * about every thousand steps. */
static void model_step(struct model *m)
{
	uint32_t r = rnd(m, 1000);

	if (r < 300) {
		m->op = "put";
		op_write(m, 1, 0);
	} else if (r < 380) {
		m->op = "delete";
		op_write(m, 1, 100);
	} else if (r < 500) {
		m->op = "batch";
		op_write(m, 2 + rnd(m, MODEL_BATCH_MAX - 1), 30);
	} else if (r < 800) {
		m->op = "get";
		op_get(m);
	} else if (r < 920) {
		m->op = "scan";
		op_scan(m);
	} else if (r < 993) {
		m->op = "sync";
		op_sync(m);
	} else if (r < 994) {
		m->op = "restart";
		op_restart(m);
	} else {
		op_lsm(m, (r - 994) / 2 + (r == 999));
	}
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

TEST(a_hundred_thousand_random_operations_match_the_model)
{
	static struct model m;
	char url[64];

	/* Every restart logs its recovery; only warnings matter here. */
	zlog_level = LOG_WARNING;
	m.seed = seed_get();
	m.rng = m.seed;
	printf("kv_model_test: seed %" PRIu64 " (ZEROFS_SEED replays)\n",
	       m.seed);
	keys_init(&m);
	hist_seal(&m, 0);
	snprintf(url, sizeof(url), "mem://kv_model_test-%" PRIu64, m.seed);
	if (objstore_open(url, &m.os) < 0)
		abort();
	m.op = "open";
	m.kv = engine_open(&m);
	for (m.step = 0; m.step < MODEL_STEPS && m.kv != NULL && !m.failed;
	     m.step++)
		model_step(&m);
	printf("  %ld writes, %ld gets, %ld scans, %ld syncs, %ld restarts, "
	       "%ld LSM calls, last seq %" PRIu64 "\n",
	       m.writes, m.gets, m.scans, m.syncs, m.restarts, m.flushes,
	       m.last_written);
	CHECK(m.failed || m.restarts > 20);
	kv_close(m.kv);
	objstore_close(m.os);
	free(m.hops);
	free(m.bstart);
}

TEST_MAIN(a_hundred_thousand_random_operations_match_the_model)
