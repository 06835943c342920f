/*
 * The durability barrier and group commit.
 *
 * One caller at a time is the uploader.  It takes the whole pending log
 * (every record up to the last sequence number S written so far), runs
 * before_upload, and stores the records as one WAL object named by their
 * first and last numbers.  Callers that arrive meanwhile wait; when the
 * upload ends, those whose target is covered by S return, and the first
 * of the rest becomes the next uploader.  A failed round puts its records
 * back in front of the pending log, so nothing is lost or reordered.
 *
 * Every `checkpoint_every` WAL objects the uploader also snapshots the map
 * at S (under the same lock that takes the log, so the snapshot is exactly
 * the state at S) and stores it after the WAL object; the WAL objects and
 * older checkpoints it covers are then deleted.
 */
#include "kv_int.h"

#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sync_round {
	struct wire_out recs; /* the records taken from the pending log */
	uint64_t first;
	uint64_t last;
	uint32_t count;
	struct wire_out ckpt; /* the checkpoint object, when one is due */
};

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* An object that already exists with the same bytes is a success: an
 * earlier attempt stored it and only its answer was lost. */
static int put_same_check(struct kv *kv, const char *name,
			  const struct wire_out *obj)
{
	void *got;
	size_t len;
	int same;

	if (objstore_get(kv->os, name, &got, &len) < 0)
		return -EEXIST;
	same = len == obj->len && memcmp(got, obj->p, len) == 0;
	free(got);
	return same ? 0 : -EEXIST;
}

static int put_retry(struct kv *kv, const char *name,
		     const struct wire_out *obj)
{
	uint32_t delay = 10;
	int rc = -EIO;

	for (uint32_t i = 0; i < kv->opt.upload_attempts; i++) {
		if (i > 0) {
			__atomic_add_fetch(&kv->upload_retries, 1,
					   __ATOMIC_RELAXED);
			sleep_ms(delay);
			delay *= 2;
			if (delay > kv->opt.backoff_max_ms)
				delay = kv->opt.backoff_max_ms;
		}
		rc = objstore_put_if_absent(kv->os, name, obj->p, obj->len);
		if (rc == -EEXIST)
			rc = put_same_check(kv, name, obj);
		if (rc == 0 || rc == -EEXIST || rc == -EINVAL)
			break;
		log_warn("metadata: sync: %s: upload failed (%s)", name,
			 strerror(-rc));
	}
	return rc;
}

static int ckpt_due(const struct kv *kv)
{
	return kv->opt.checkpoint_every > 0 &&
	       kv->wal_since_ckpt + 1 >= kv->opt.checkpoint_every;
}

/* Copies the pending log (and snapshots the map when a checkpoint is
 * due).  The records stay pending until round_consume drops them, so a
 * failed round leaves the log exactly as it was. */
static int round_take(struct kv *kv, struct sync_round *r)
{
	int due;

	pthread_mutex_lock(&kv->sync_mu);
	due = ckpt_due(kv);
	pthread_mutex_unlock(&kv->sync_mu);
	pthread_rwlock_rdlock(&kv->lock);
	wire_out_mem(&r->recs, kv->pending.p, kv->pending.len);
	r->first = kv->pending_first;
	r->count = kv->pending_count;
	r->last = kv->last_seq;
	if (r->count > 0 && due)
		kv_ckpt_encode(kv->map, r->last, &r->ckpt);
	pthread_rwlock_unlock(&kv->lock);
	return r->recs.err ? r->recs.err : r->ckpt.err;
}

/* Drops the uploaded records from the front of the pending log. */
static void round_consume(struct kv *kv, const struct sync_round *r)
{
	pthread_rwlock_wrlock(&kv->lock);
	memmove(kv->pending.p, kv->pending.p + r->recs.len,
		kv->pending.len - r->recs.len);
	kv->pending.len -= r->recs.len;
	kv->pending_count -= r->count;
	kv->pending_first = r->last + 1;
	pthread_rwlock_unlock(&kv->lock);
}

static void round_free(struct sync_round *r)
{
	wire_out_free(&r->recs);
	wire_out_free(&r->ckpt);
}

struct prune_ctx {
	struct kv *kv;
	size_t skip;
	uint64_t seq;
	int wal;
};

static int prune_cb(void *arg, const char *key, uint64_t size)
{
	struct prune_ctx *p = arg;
	uint64_t a, b;

	(void)size;
	if (p->wal && kv_name_parse_wal(key + p->skip, &a, &b) == 0 &&
	    b <= p->seq)
		objstore_del(p->kv->os, key);
	if (!p->wal && kv_name_parse_ckpt(key + p->skip, &a) == 0 && a < p->seq)
		objstore_del(p->kv->os, key);
	return 0;
}

/* Deletes what the checkpoint at seq covers.  A failed delete leaves an
 * object that recovery skips and the next checkpoint retries. */
static void ckpt_prune(struct kv *kv, uint64_t seq)
{
	struct prune_ctx p = { kv, 0, seq, 1 };
	char dir[KV_NAME_MAX];

	snprintf(dir, sizeof(dir), "%swal/", kv->prefix);
	p.skip = strlen(dir);
	objstore_list(kv->os, dir, prune_cb, &p);
	snprintf(dir, sizeof(dir), "%sckpt/", kv->prefix);
	p.skip = strlen(dir);
	p.wal = 0;
	objstore_list(kv->os, dir, prune_cb, &p);
}

/* Stores the checkpoint after its WAL object.  Failing here loses
 * nothing (the WAL holds every record), so it is logged and retried at
 * the next round. */
static void round_ckpt(struct kv *kv, struct sync_round *r)
{
	char name[KV_NAME_MAX];
	int rc;

	kv_name_ckpt(kv, r->last, name, sizeof(name));
	rc = put_retry(kv, name, &r->ckpt);
	if (rc < 0) {
		log_err("metadata: checkpoint: %s: not stored (%s)", name,
			strerror(-rc));
		return;
	}
	pthread_mutex_lock(&kv->sync_mu);
	kv->ckpt_seq = r->last;
	kv->wal_since_ckpt = 0;
	kv->checkpoints++;
	pthread_mutex_unlock(&kv->sync_mu);
	ckpt_prune(kv, r->last);
}

/* One upload; on success *covered is the last durable sequence number. */
static int round_run(struct kv *kv, kv_before_upload_cb cb, void *arg,
		     uint64_t *covered)
{
	struct sync_round r = { 0 };
	struct wire_out obj = { 0 };
	char name[KV_NAME_MAX];
	int rc;

	rc = round_take(kv, &r);
	*covered = r.last;
	if (rc < 0 || r.count == 0)
		goto free_round;
	rc = cb != NULL ? cb(arg) : 0;
	if (rc < 0)
		goto free_round;
	rc = kv_wal_encode(r.recs.p, r.recs.len, r.count, r.first,
			   r.first + r.count - 1, &obj);
	kv_name_wal(kv, r.first, r.first + r.count - 1, name, sizeof(name));
	if (rc == 0)
		rc = put_retry(kv, name, &obj);
	wire_out_free(&obj);
	if (rc < 0) {
		log_err("metadata: sync: %s: not stored (%s)", name,
			strerror(-rc));
		goto free_round;
	}
	round_consume(kv, &r);
	pthread_mutex_lock(&kv->sync_mu);
	kv->wal_objects++;
	kv->wal_since_ckpt++;
	pthread_mutex_unlock(&kv->sync_mu);
	if (r.ckpt.len > 0)
		round_ckpt(kv, &r);
free_round:
	round_free(&r);
	return rc;
}

int kv_sync(struct kv *kv, kv_before_upload_cb before_upload, void *arg,
	    uint64_t *seq)
{
	uint64_t target, covered;
	int rc = 0;

	pthread_rwlock_rdlock(&kv->lock);
	target = kv->last_seq;
	pthread_rwlock_unlock(&kv->lock);
	pthread_mutex_lock(&kv->sync_mu);
	while (kv->durable_seq < target && rc == 0) {
		if (kv->uploading) {
			pthread_cond_wait(&kv->sync_cv, &kv->sync_mu);
			continue;
		}
		kv->uploading = 1;
		pthread_mutex_unlock(&kv->sync_mu);
		rc = round_run(kv, before_upload, arg, &covered);
		pthread_mutex_lock(&kv->sync_mu);
		kv->uploading = 0;
		if (rc == 0 && covered > kv->durable_seq)
			kv->durable_seq = covered;
		pthread_cond_broadcast(&kv->sync_cv);
	}
	if (seq != NULL)
		*seq = kv->durable_seq;
	pthread_mutex_unlock(&kv->sync_mu);
	return rc;
}
