/*
 * The write-ahead log in objects and the durability barrier.
 *
 * kv_write appends each batch's record to the pending log.  A barrier
 * (lsm_sync) makes one caller at a time the uploader: it takes every
 * pending record, runs before_upload (so the data the records point at
 * is stored first), and stores the records as one WAL object named by
 * its first sequence number and this writer's epoch.  Callers that
 * arrive meanwhile wait and return as soon as an upload covers them
 * (group commit); a memtable flush that stored the same records in an
 * SST covers them too.
 *
 * A failed upload is kept whole and stored again, the same bytes under
 * the same name, before anything newer: it may have been stored with
 * only the answer lost.  After every upload the uploader checks that its
 * manifest is still the newest (lsm_fence_check): if another writer
 * opened the store meanwhile, that writer did not see this object, so
 * the barrier must not be acknowledged.
 */
#include "lsm_int.h"

#include "failpoint.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define LSM_WAL_MAGIC	"ZFSMWAL2"
#define LSM_WAL_VERSION 2
#define LSM_SUM_LEN	32
#define LSM_WAL_HEAD	(8 + 4 + 4 + 8 + 8)

void lsm_record_encode(struct wire_out *w, uint64_t seq,
		       const struct kv_batch *b)
{
	wire_out_u64(w, seq);
	wire_out_u32(w, (uint32_t)b->n);
	for (size_t i = 0; i < b->n; i++) {
		const struct kv_op *op = &b->ops[i];

		wire_out_u8(w, op->kind);
		wire_out_u32(w, (uint32_t)op->klen);
		wire_out_u32(w, (uint32_t)op->vlen);
		wire_out_mem(w, op->key, op->klen);
		wire_out_mem(w, op->val, op->vlen);
	}
}

int lsm_wal_encode(const struct sync_round *r, struct wire_out *obj)
{
	uint8_t sum[LSM_SUM_LEN];

	wire_out_mem(obj, LSM_WAL_MAGIC, 8);
	wire_out_u32(obj, LSM_WAL_VERSION);
	wire_out_u32(obj, r->count);
	wire_out_u64(obj, r->first);
	wire_out_u64(obj, r->last);
	wire_out_mem(obj, r->recs.p, r->recs.len);
	if (obj->err)
		return obj->err;
	crypto_generichash(sum, sizeof(sum), obj->p, obj->len, NULL, 0);
	wire_out_mem(obj, sum, sizeof(sum));
	return obj->err;
}

/* Skips one record's operations, checking every length. */
static int record_skip(struct wire_in *r, uint32_t nops)
{
	for (uint32_t i = 0; i < nops; i++) {
		uint8_t kind = wire_in_u8(r);
		uint32_t klen = wire_in_u32(r), vlen = wire_in_u32(r);

		wire_in_take(r, klen);
		wire_in_take(r, vlen);
		if (r->err || (kind != KV_OP_PUT && kind != KV_OP_DEL))
			return -EIO;
	}
	return 0;
}

int lsm_wal_replay(const uint8_t *obj, size_t len, uint64_t first,
		   uint64_t from, uint64_t *last, lsm_record_cb cb, void *arg)
{
	uint8_t sum[LSM_SUM_LEN];
	struct wire_in r, ops;
	uint64_t hfirst, hlast;
	uint32_t count;
	int rc;

	if (len < LSM_WAL_HEAD + LSM_SUM_LEN ||
	    memcmp(obj, LSM_WAL_MAGIC, 8) != 0)
		return -EIO;
	crypto_generichash(sum, sizeof(sum), obj, len - LSM_SUM_LEN, NULL, 0);
	if (sodium_memcmp(sum, obj + len - LSM_SUM_LEN, LSM_SUM_LEN) != 0)
		return -EIO;
	wire_in_init(&r, obj + 8, len - 8 - LSM_SUM_LEN);
	if (wire_in_u32(&r) != LSM_WAL_VERSION)
		return -EIO;
	count = wire_in_u32(&r);
	hfirst = wire_in_u64(&r);
	hlast = wire_in_u64(&r);
	if (r.err || hfirst != first || hlast < first ||
	    count != hlast - first + 1)
		return -EIO;
	*last = hlast;
	for (uint64_t seq = first; seq <= hlast; seq++) {
		uint64_t got = wire_in_u64(&r);
		uint32_t nops = wire_in_u32(&r);

		if (r.err || got != seq)
			return -EIO;
		ops = r;
		rc = record_skip(&r, nops);
		if (rc == 0 && seq >= from)
			rc = cb(arg, seq, &ops, nops);
		if (rc < 0)
			return rc;
	}
	return wire_in_left(&r) == 0 ? 0 : -EIO;
}

/* The byte length of the pending records numbered <= seq. */
static size_t pending_prefix(const struct kv *kv, uint64_t seq, uint32_t *count)
{
	struct wire_in r;
	size_t off = 0;

	*count = 0;
	wire_in_init(&r, kv->pending.p, kv->pending.len);
	while (wire_in_left(&r) > 0) {
		uint64_t s = wire_in_u64(&r);
		uint32_t nops = wire_in_u32(&r);

		if (s > seq || record_skip(&r, nops) < 0)
			break;
		off = r.off;
		(*count)++;
	}
	return off;
}

void lsm_pending_trim(struct kv *kv, uint64_t seq)
{
	uint32_t count;
	size_t n;

	pthread_mutex_lock(&kv->write_mu);
	if (seq >= kv->pending_first) {
		n = pending_prefix(kv, seq, &count);
		if (n > 0)
			memmove(kv->pending.p, kv->pending.p + n,
				kv->pending.len - n);
		kv->pending.len -= n;
		kv->pending_count -= count;
		kv->pending_first = seq + 1;
	}
	pthread_mutex_unlock(&kv->write_mu);
}

int lsm_exists(struct kv *kv, const char *name)
{
	uint8_t b;
	size_t got;
	int rc = -EIO;

	for (uint32_t i = 0; i < kv->opt.upload_attempts; i++) {
		if (i > 0)
			lsm_sleep_ms(10u << (i < 6 ? i : 6));
		rc = objstore_get_range(kv->os, name, 0, 1, &b, &got);
		if (rc == 0 || rc == -ENOENT)
			return rc == 0;
	}
	return rc;
}

/* Manifests are deleted oldest first, so while this writer's newest
 * manifest k still exists, k + 1 missing means nobody ever stored it. */
int lsm_fence_check(struct kv *kv)
{
	char name[KV_NAME_MAX];
	int rc;

	rc = lsm_manifest_resolve(kv);
	if (rc < 0)
		return rc;
	lsm_name_manifest(kv->prefix, kv->man.number + 1, name, sizeof(name));
	rc = lsm_exists(kv, name);
	if (rc == 1) {
		lsm_fence(kv, name, "another writer stored a newer manifest");
		return -EROFS;
	}
	if (rc < 0)
		return rc;
	lsm_name_manifest(kv->prefix, kv->man.number, name, sizeof(name));
	rc = lsm_exists(kv, name);
	if (rc == 0) {
		lsm_fence(kv, name, "another writer deleted this manifest");
		return -EROFS;
	}
	return rc < 0 ? rc : 0;
}

/* Takes the round to store: a failed one first, else every pending
 * record.  *covered: what is durable once it is stored. */
static int round_take(struct kv *kv, struct sync_round *r, uint64_t *covered)
{
	uint64_t flushed = __atomic_load_n(&kv->flushed_seq, __ATOMIC_ACQUIRE);

	if (kv->retry.count > 0 && kv->retry.last > flushed) {
		*r = kv->retry;
		kv->retry = (struct sync_round){ 0 };
		*covered = r->last;
		return 0;
	}
	wire_out_free(&kv->retry.recs);
	kv->retry = (struct sync_round){ 0 };
	/* A flush may have stored records that are still pending (its trim
	 * comes after its manifest).  Starting past them keeps this round
	 * from reusing the name of a dropped retry round, which may be
	 * stored with other bytes. */
	lsm_pending_trim(kv, flushed);
	pthread_mutex_lock(&kv->write_mu);
	wire_out_mem(&r->recs, kv->pending.p, kv->pending.len);
	r->first = kv->pending_first;
	r->count = kv->pending_count;
	r->last = kv->pending_first + kv->pending_count - 1;
	*covered = r->last;
	pthread_mutex_unlock(&kv->write_mu);
	return r->recs.err;
}

static int round_store(struct kv *kv, const struct sync_round *r)
{
	struct wire_out obj = { 0 };
	char name[KV_NAME_MAX];
	int rc;

	lsm_name_wal(kv->prefix, r->first, kv->epoch, name, sizeof(name));
	rc = lsm_wal_encode(r, &obj);
	FAILPOINT("lsm.wal.put");
	if (rc == 0)
		rc = lsm_put_retry(kv, name, obj.p, obj.len);
	wire_out_free(&obj);
	if (rc == -EEXIST) {
		lsm_fence(kv, name, "another writer stored it first");
		return -EROFS;
	}
	if (rc == 0) {
		pthread_mutex_lock(&kv->man_mu);
		rc = lsm_fence_check(kv);
		pthread_mutex_unlock(&kv->man_mu);
	}
	if (rc < 0 && rc != -EROFS)
		log_err("metadata: sync: %s: not stored (%s)", name,
			strerror(-rc));
	return rc;
}

/* One upload; on success *covered is the last durable number. */
static int round_run(struct kv *kv, kv_before_upload_cb cb, void *arg,
		     uint64_t *covered)
{
	struct sync_round r = { 0 };
	int rc;

	rc = round_take(kv, &r, covered);
	if (rc < 0 || r.count == 0)
		goto free_round;
	rc = cb != NULL ? cb(arg) : 0;
	if (rc == 0)
		rc = round_store(kv, &r);
	if (rc < 0) {
		if (rc != -EROFS) {
			kv->retry = r;
			return rc;
		}
		goto free_round;
	}
	FAILPOINT("lsm.wal.acked");
	lsm_pending_trim(kv, r.last);
	__atomic_add_fetch(&kv->wal_objects, 1, __ATOMIC_RELAXED);
free_round:
	wire_out_free(&r.recs);
	return rc;
}

static uint64_t lsm_durable(struct kv *kv)
{
	uint64_t f = __atomic_load_n(&kv->flushed_seq, __ATOMIC_ACQUIRE);

	return f > kv->durable_seq ? f : kv->durable_seq;
}

int lsm_sync(struct kv *kv, kv_before_upload_cb cb, void *arg, uint64_t *seq)
{
	uint64_t target, covered;
	int rc = 0;

	if (cb == NULL) {
		cb = kv->opt.before_upload;
		arg = kv->opt.before_upload_arg;
	}
	pthread_mutex_lock(&kv->write_mu);
	target = kv->last_seq;
	pthread_mutex_unlock(&kv->write_mu);
	pthread_mutex_lock(&kv->sync_mu);
	while (rc == 0) {
		if (lsm_fenced(kv)) {
			rc = -EROFS;
			break;
		}
		if (lsm_durable(kv) >= target)
			break;
		if (kv->uploading) {
			pthread_cond_wait(&kv->sync_cv, &kv->sync_mu);
			continue;
		}
		kv->uploading = 1;
		pthread_mutex_unlock(&kv->sync_mu);
		rc = round_run(kv, cb, arg, &covered);
		pthread_mutex_lock(&kv->sync_mu);
		kv->uploading = 0;
		if (rc == 0 && covered > kv->durable_seq)
			kv->durable_seq = covered;
		pthread_cond_broadcast(&kv->sync_cv);
	}
	if (seq != NULL)
		*seq = lsm_durable(kv);
	pthread_mutex_unlock(&kv->sync_mu);
	return rc;
}

int kv_sync(struct kv *kv, kv_before_upload_cb before_upload, void *arg,
	    uint64_t *seq)
{
	return lsm_sync(kv, before_upload, arg, seq);
}
