/*
 * The engine's front: opening and closing, batches, writes and the
 * entry points of the background work.  Reads are lsm_read.c's, the WAL
 * lsm_wal.c's, recovery lsm_recover.c's.
 */
#include "lsm_int.h"

#include "failpoint.h"
#include "log.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1024 * 1024)

static void lsm_defaults(struct kv_options *o)
{
	if (o->upload_attempts == 0)
		o->upload_attempts = 8;
	if (o->backoff_max_ms == 0)
		o->backoff_max_ms = 2000;
	if (o->memtable_bytes == 0)
		o->memtable_bytes = 32 * MiB;
	if (o->max_immutables == 0)
		o->max_immutables = 2;
	if (o->max_immutables > LSM_IMM_MAX - 1)
		o->max_immutables = LSM_IMM_MAX - 1;
	if (o->sst_bytes == 0)
		o->sst_bytes = 16 * MiB;
	if (o->l0_trigger == 0)
		o->l0_trigger = 4;
	/* Writers wait at l0_stop for a compaction that starts at
	 * l0_trigger: a stop at or below the trigger would wait forever. */
	if (o->l0_stop == 0)
		o->l0_stop = 3 * o->l0_trigger;
	if (o->l0_stop <= o->l0_trigger)
		o->l0_stop = o->l0_trigger + 1;
	if (o->l1_bytes == 0)
		o->l1_bytes = 128 * (uint64_t)MiB;
	if (o->compaction_jobs == 0)
		o->compaction_jobs = 1;
	if (o->compaction_jobs > LSM_JOBS_MAX)
		o->compaction_jobs = LSM_JOBS_MAX;
	if (o->block_cache_bytes == 0)
		o->block_cache_bytes = 64 * MiB;
	if (o->disk_cache_bytes == 0)
		o->disk_cache_bytes = 1024 * (uint64_t)MiB;
}

static int lsm_caches_open(struct kv *kv)
{
	int rc;

	rc = lsm_block_cache_new(kv->opt.block_cache_bytes, &kv->bcache);
	if (rc < 0 || kv->opt.disk_cache_dir == NULL)
		return rc;
	rc = lsm_disk_cache_open(kv->opt.disk_cache_dir,
				 kv->opt.disk_cache_bytes, &kv->dcache);
	if (rc == -EBUSY)
		log_err("metadata: open: disk cache %s: another zerofs "
			"instance holds its LOCK; give each instance its own "
			"cache.dir",
			kv->opt.disk_cache_dir);
	else if (rc < 0)
		log_err("metadata: open: disk cache %s: %s (cache.dir)",
			kv->opt.disk_cache_dir, strerror(-rc));
	return rc;
}

static struct kv *lsm_new(struct objstore *os, const struct kv_options *opt)
{
	const char *prefix = opt && opt->prefix ? opt->prefix : "meta/";
	struct kv *kv;

	if (strlen(prefix) >= KV_PREFIX_MAX)
		return NULL;
	kv = calloc(1, sizeof(*kv));
	if (kv == NULL)
		return NULL;
	kv->os = os;
	if (opt != NULL)
		kv->opt = *opt;
	snprintf(kv->prefix, sizeof(kv->prefix), "%s", prefix);
	kv->opt.prefix = kv->prefix;
	kv->opt.disk_cache_dir = NULL;
	if (opt != NULL && opt->disk_cache_dir != NULL)
		kv->opt.disk_cache_dir = strdup(opt->disk_cache_dir);
	lsm_defaults(&kv->opt);
	kv->pick_opt.l0_trigger = kv->opt.l0_trigger;
	kv->pick_opt.l1_bytes = kv->opt.l1_bytes;
	kv->pick_opt.fanout = 10;
	kv->pick_opt.max_input_bytes = 4 * kv->opt.sst_bytes;
	lsm_manifest_init(&kv->man);
	pthread_mutex_init(&kv->write_mu, NULL);
	pthread_cond_init(&kv->stall_cv, NULL);
	pthread_mutex_init(&kv->ver_mu, NULL);
	pthread_mutex_init(&kv->man_mu, NULL);
	pthread_mutex_init(&kv->sync_mu, NULL);
	pthread_cond_init(&kv->sync_cv, NULL);
	pthread_mutex_init(&kv->bg_mu, NULL);
	pthread_cond_init(&kv->bg_cv, NULL);
	pthread_cond_init(&kv->idle_cv, NULL);
	pthread_mutex_init(&kv->gc_mu, NULL);
	pthread_mutex_init(&kv->live_mu, NULL);
	return kv;
}

int kv_open(struct objstore *os, const struct kv_options *opt, struct kv **out)
{
	struct kv *kv;
	int rc;

	if (sodium_init() < 0)
		return -EINVAL;
	kv = lsm_new(os, opt);
	if (kv == NULL)
		return -ENOMEM;
	rc = lsm_caches_open(kv);
	if (rc == 0)
		rc = lsm_recover(kv);
	if (rc == 0)
		rc = lsm_bg_start(kv);
	if (rc < 0) {
		kv_close(kv);
		return rc;
	}
	*out = kv;
	return 0;
}

void kv_close(struct kv *kv)
{
	if (kv == NULL)
		return;
	lsm_bg_stop(kv);
	if (kv->cur != NULL)
		lsm_version_put(kv->cur);
	lsm_gc_free(kv);
	lsm_manifest_clear(&kv->man);
	lsm_pick_cursor_clear(&kv->cursor);
	wire_out_free(&kv->pending);
	wire_out_free(&kv->retry.recs);
	wire_out_free(&kv->man_unsure);
	if (kv->bcache != NULL)
		lsm_block_cache_free(kv->bcache);
	if (kv->dcache != NULL)
		lsm_disk_cache_close(kv->dcache);
	free((char *)kv->opt.disk_cache_dir);
	pthread_cond_destroy(&kv->idle_cv);
	pthread_cond_destroy(&kv->bg_cv);
	pthread_mutex_destroy(&kv->bg_mu);
	pthread_mutex_destroy(&kv->gc_mu);
	pthread_mutex_destroy(&kv->live_mu);
	free(kv->live);
	pthread_cond_destroy(&kv->sync_cv);
	pthread_mutex_destroy(&kv->sync_mu);
	pthread_mutex_destroy(&kv->man_mu);
	pthread_mutex_destroy(&kv->ver_mu);
	pthread_cond_destroy(&kv->stall_cv);
	pthread_mutex_destroy(&kv->write_mu);
	free(kv);
}

struct kv_batch *kv_batch_new(void)
{
	return calloc(1, sizeof(struct kv_batch));
}

static int batch_add(struct kv_batch *b, uint8_t kind, const void *key,
		     size_t klen, const void *val, size_t vlen)
{
	struct kv_op *op;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		struct kv_op *ops = realloc(b->ops, cap * sizeof(*ops));

		if (ops == NULL)
			return -ENOMEM;
		b->ops = ops;
		b->cap = cap;
	}
	op = &b->ops[b->n];
	op->kind = kind;
	op->klen = klen;
	op->vlen = vlen;
	op->key = malloc(klen + vlen + 1);
	if (op->key == NULL)
		return -ENOMEM;
	if (klen > 0)
		memcpy(op->key, key, klen);
	op->val = op->key + klen;
	if (vlen > 0)
		memcpy(op->val, val, vlen);
	b->n++;
	b->bytes += klen + vlen;
	return 0;
}

int kv_batch_put(struct kv_batch *b, const void *key, size_t klen,
		 const void *val, size_t vlen)
{
	return batch_add(b, KV_OP_PUT, key, klen, val, vlen);
}

int kv_batch_del(struct kv_batch *b, const void *key, size_t klen)
{
	return batch_add(b, KV_OP_DEL, key, klen, NULL, 0);
}

size_t kv_batch_count(const struct kv_batch *b)
{
	return b->n;
}

void kv_batch_free(struct kv_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->ops[i].key);
	free(b->ops);
	free(b);
}

static int batch_check(const struct kv_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->ops[i].klen == 0 || b->ops[i].klen > LSM_KEY_MAX ||
		    b->ops[i].vlen > UINT32_MAX / 2)
			return -EINVAL;
	return 0;
}

/* Which operations of b a later one of the same key overrides; *mask
 * malloc'd (owned by the caller). */
static int batch_mask(const struct kv_batch *b, uint8_t **mask)
{
	const uint8_t **keys = malloc((b->n + 1) * sizeof(*keys));
	size_t *lens = malloc((b->n + 1) * sizeof(*lens));
	int rc = -ENOMEM;

	*mask = malloc(b->n + 1);
	if (keys != NULL && lens != NULL && *mask != NULL) {
		for (size_t i = 0; i < b->n; i++) {
			keys[i] = b->ops[i].key;
			lens[i] = b->ops[i].klen;
		}
		rc = lsm_shadow_mask(keys, lens, b->n, *mask);
	}
	free(keys);
	free(lens);
	if (rc < 0) {
		free(*mask);
		*mask = NULL;
	}
	return rc;
}

static size_t version_l0(struct kv *kv, int *nimm)
{
	size_t n;

	pthread_mutex_lock(&kv->ver_mu);
	n = kv->cur->nfiles[0];
	*nimm = kv->cur->nimm;
	pthread_mutex_unlock(&kv->ver_mu);
	return n;
}

/* Waits (write_mu held) until the memtable has room, freezing it when
 * full.  Long stalls give up with the background's error, if any. */
static int lsm_make_room(struct kv *kv)
{
	uint64_t since = 0;
	int nimm;

	for (;;) {
		size_t l0 = version_l0(kv, &nimm);
		int full = lsm_mem_bytes(kv->mem) >= kv->opt.memtable_bytes;

		if (lsm_fenced(kv))
			return -EROFS;
		if (!full && l0 < kv->opt.l0_stop)
			return 0;
		if (full && (uint32_t)nimm < kv->opt.max_immutables &&
		    lsm_freeze(kv) == 0)
			continue;
		if (since == 0) {
			since = lsm_now_ms();
			kv->stalls++;
		} else if (lsm_now_ms() - since > 10000 && kv->bg_error) {
			return kv->bg_error;
		}
		lsm_bg_kick(kv);
		lsm_cond_wait_ms(&kv->stall_cv, &kv->write_mu, 100);
	}
}

static void lsm_apply(struct kv *kv, const struct kv_batch *b, uint64_t seq,
		      const uint8_t *mask)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct kv_op *op = &b->ops[i];

		if (mask[i])
			continue;
		lsm_mem_add(kv->mem, seq, op->kind, op->key, op->klen, op->val,
			    op->vlen);
	}
}

int kv_write(struct kv *kv, const struct kv_batch *b, uint64_t *seq)
{
	uint8_t small[1] = { 0 }, *mask = small;
	size_t mark;
	int rc;

	rc = batch_check(b);
	if (rc == 0 && b->n > 1)
		rc = batch_mask(b, &mask);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&kv->write_mu);
	rc = lsm_make_room(kv);
	if (rc == 0)
		rc = lsm_mem_reserve(kv->mem, b->n, b->bytes);
	if (rc < 0)
		goto unlock;
	mark = kv->pending.len;
	lsm_record_encode(&kv->pending, kv->last_seq + 1, b);
	if (kv->pending.err) {
		kv->pending.err = 0;
		kv->pending.len = mark;
		rc = -ENOMEM;
		goto unlock;
	}
	kv->last_seq++;
	if (kv->pending_count++ == 0)
		kv->pending_first = kv->last_seq;
	lsm_apply(kv, b, kv->last_seq, mask);
	__atomic_store_n(&kv->visible_seq, kv->last_seq, __ATOMIC_RELEASE);
	if (seq != NULL)
		*seq = kv->last_seq;
unlock:
	pthread_mutex_unlock(&kv->write_mu);
	if (mask != small)
		free(mask);
	return rc;
}

void kv_stats_get(struct kv *kv, struct kv_stats *st)
{
	struct lsm_version *v;
	struct lsm_cache_stats cs;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&kv->write_mu);
	st->last_seq = kv->last_seq;
	pthread_mutex_unlock(&kv->write_mu);
	pthread_mutex_lock(&kv->sync_mu);
	st->durable_seq = kv->durable_seq;
	pthread_mutex_unlock(&kv->sync_mu);
	st->flushed_seq = __atomic_load_n(&kv->flushed_seq, __ATOMIC_ACQUIRE);
	if (st->flushed_seq > st->durable_seq)
		st->durable_seq = st->flushed_seq;
	pthread_mutex_lock(&kv->man_mu);
	st->epoch = kv->epoch;
	st->manifest = kv->man.number;
	pthread_mutex_unlock(&kv->man_mu);
	v = lsm_version_get(kv);
	st->keys = lsm_mem_count(v->mem);
	st->mem_bytes = lsm_mem_bytes(v->mem);
	for (int i = 0; i < v->nimm; i++) {
		st->keys += lsm_mem_count(v->imm[i]);
		st->mem_bytes += lsm_mem_bytes(v->imm[i]);
	}
	for (int l = 0; l < LSM_LEVELS && l < 8; l++) {
		st->level_files[l] = (uint32_t)v->nfiles[l];
		for (size_t i = 0; i < v->nfiles[l]; i++) {
			st->level_bytes[l] += v->files[l][i]->meta.size;
			st->keys += v->files[l][i]->meta.entries;
			if (v->files[l][i]->sst != NULL)
				st->mem_bytes +=
				    lsm_sst_mem(v->files[l][i]->sst);
		}
	}
	lsm_version_put(v);
	st->wal_objects = __atomic_load_n(&kv->wal_objects, __ATOMIC_RELAXED);
	st->checkpoints = __atomic_load_n(&kv->checkpoints, __ATOMIC_RELAXED);
	st->upload_retries =
	    __atomic_load_n(&kv->upload_retries, __ATOMIC_RELAXED);
	st->fenced = (uint64_t)lsm_fenced(kv);
	st->flushes = __atomic_load_n(&kv->flushes, __ATOMIC_RELAXED);
	st->compactions = __atomic_load_n(&kv->compactions, __ATOMIC_RELAXED);
	st->stalls = kv->stalls;
	st->gc_deleted = __atomic_load_n(&kv->gc_deleted, __ATOMIC_RELAXED);
	lsm_block_cache_stats(kv->bcache, &cs);
	st->block_cache_bytes = cs.bytes;
	st->block_cache_hits = cs.hits;
	st->block_cache_misses = cs.misses;
	if (kv->dcache != NULL) {
		lsm_disk_cache_stats(kv->dcache, &cs);
		st->disk_cache_bytes = cs.bytes;
	}
}
