/*
 * The durability barrier and group commit.
 *
 * One caller at a time is the uploader.  It takes the whole pending log
 * (every record up to the last sequence number S written so far), runs
 * before_upload, and stores the records as one WAL object named by their
 * first number.  Callers that arrive meanwhile wait; when the upload ends,
 * those whose target is covered by S return, and the first of the rest
 * becomes the next uploader.  A failed round leaves its records at the
 * front of the pending log, and the next round stores exactly the same
 * object again before anything newer, so nothing is lost or reordered and
 * a name never gets two different contents from this engine.
 *
 * Fencing: every object is created with put-if-absent.  A name that holds
 * other bytes was taken by another writer on the same store, which went on
 * from the same point with different records; so was one whose put won
 * while a checkpoint at or past its first number is stored (the other
 * writer checkpointed and pruned its own object of that name).  Either way
 * this engine is fenced: it logs once, keeps nothing more, and from then
 * on every write and sync fails with -EROFS.
 *
 * Every `checkpoint_every` WAL objects the uploader also snapshots the map
 * at S (under the same lock that takes the log, so the snapshot is exactly
 * the state at S, the end of the WAL object it stores first) and stores it
 * after the WAL object; the WAL objects and older checkpoints it covers
 * are then deleted.
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

/* Logs once and stops every later write and sync of this engine. */
static void kv_fence(struct kv *kv, const char *name, const char *why)
{
	if (__atomic_exchange_n(&kv->fenced, 1, __ATOMIC_ACQ_REL) == 0)
		log_err("metadata: fenced: %s: %s; this instance stops writing",
			name, why);
}

/* An object that already exists with the same bytes is a success: an
 * earlier attempt stored it and only its answer was lost.  Other bytes:
 * -EEXIST.  A failed read is returned as it is, so the put is retried. */
static int put_same_check(struct kv *kv, const char *name,
			  const struct wire_out *obj)
{
	void *got;
	size_t len;
	int same, rc;

	rc = objstore_get(kv->os, name, &got, &len);
	if (rc < 0)
		return rc;
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
	r->first = kv->pending_first;
	if (kv->retry_last != 0) {
		wire_out_mem(&r->recs, kv->pending.p, kv->retry_len);
		r->count = kv->retry_count;
		r->last = kv->retry_last;
	} else {
		wire_out_mem(&r->recs, kv->pending.p, kv->pending.len);
		r->count = kv->pending_count;
		r->last = kv->last_seq;
	}
	/* A checkpoint only at the end of what this round stores, so that
	 * every WAL object starting at or before it also ends there. */
	if (r->count > 0 && due && r->last == kv->last_seq)
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
	/* A WAL object starting at or before the checkpoint ends there too
	 * (checkpoints are taken at the end of an upload). */
	if (p->wal && kv_name_parse_wal(key + p->skip, &a, &b) == 0 &&
	    a <= p->seq)
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
 * the next round; only another writer's checkpoint of the same number
 * fails the round (-EROFS). */
static int round_ckpt(struct kv *kv, struct sync_round *r)
{
	char name[KV_NAME_MAX];
	int rc;

	kv_name_ckpt(kv, r->last, name, sizeof(name));
	rc = put_retry(kv, name, &r->ckpt);
	if (rc == -EEXIST) {
		kv_fence(kv, name, "another writer stored it first");
		return -EROFS;
	}
	if (rc < 0) {
		log_err("metadata: checkpoint: %s: not stored (%s)", name,
			strerror(-rc));
		return 0;
	}
	pthread_mutex_lock(&kv->sync_mu);
	kv->ckpt_seq = r->last;
	kv->wal_since_ckpt = 0;
	kv->checkpoints++;
	pthread_mutex_unlock(&kv->sync_mu);
	ckpt_prune(kv, r->last);
	return 0;
}

struct ckpt_past_ctx {
	size_t skip;
	uint64_t first;
	uint64_t seq;
	int found;
};

static int ckpt_past_cb(void *arg, const char *key, uint64_t size)
{
	struct ckpt_past_ctx *c = arg;
	uint64_t seq;

	(void)size;
	if (kv_name_parse_ckpt(key + c->skip, &seq) == 0 && seq >= c->first) {
		c->seq = seq;
		c->found = 1;
		return 1;
	}
	return 0;
}

/* Called after a WAL object named by `first` was stored.  Its name was
 * free, but a writer that went past `first` may have freed it: such a
 * writer stores a checkpoint before deleting what it covers, so that
 * checkpoint is listed now.  This engine's own checkpoints all lie below
 * `first`.  The object left behind is covered by that checkpoint, which
 * recovery and pruning treat as covering it whole. */
static int wal_name_check(struct kv *kv, uint64_t first)
{
	struct ckpt_past_ctx c = { 0, first, 0, 0 };
	char dir[KV_NAME_MAX], name[KV_NAME_MAX], why[96];
	int rc;

	snprintf(dir, sizeof(dir), "%sckpt/", kv->prefix);
	c.skip = strlen(dir);
	rc = objstore_list(kv->os, dir, ckpt_past_cb, &c);
	if (!c.found)
		return rc < 0 ? rc : 0;
	kv_name_ckpt(kv, c.seq, name, sizeof(name));
	snprintf(why, sizeof(why), "another writer went past sequence %" PRIu64,
		 first);
	kv_fence(kv, name, why);
	return -EROFS;
}

/* Remembers a round whose object may or may not be stored, so that the
 * next round stores the very same object. */
static void round_keep(struct kv *kv, const struct sync_round *r)
{
	kv->retry_last = r->last;
	kv->retry_len = r->recs.len;
	kv->retry_count = r->count;
}

/* Stores the round's records as one WAL object named by its first
 * number; -EROFS when another writer holds that name. */
static int round_wal(struct kv *kv, const struct sync_round *r)
{
	struct wire_out obj = { 0 };
	char name[KV_NAME_MAX];
	int rc;

	kv_name_wal(kv, r->first, name, sizeof(name));
	rc = kv_wal_encode(r->recs.p, r->recs.len, r->count, r->first, r->last,
			   &obj);
	if (rc == 0)
		rc = put_retry(kv, name, &obj);
	wire_out_free(&obj);
	if (rc == -EEXIST) {
		kv_fence(kv, name, "another writer stored it first");
		return -EROFS;
	}
	if (rc == 0)
		rc = wal_name_check(kv, r->first);
	if (rc == 0) {
		kv->retry_last = 0;
	} else if (rc != -EROFS) {
		log_err("metadata: sync: %s: not stored (%s)", name,
			strerror(-rc));
		round_keep(kv, r);
	}
	return rc;
}

/* One upload; on success *covered is the last durable sequence number. */
static int round_run(struct kv *kv, kv_before_upload_cb cb, void *arg,
		     uint64_t *covered)
{
	struct sync_round r = { 0 };
	int rc;

	rc = round_take(kv, &r);
	*covered = r.last;
	if (rc < 0 || r.count == 0)
		goto free_round;
	rc = cb != NULL ? cb(arg) : 0;
	if (rc == 0)
		rc = round_wal(kv, &r);
	if (rc < 0)
		goto free_round;
	round_consume(kv, &r);
	pthread_mutex_lock(&kv->sync_mu);
	kv->wal_objects++;
	kv->wal_since_ckpt++;
	pthread_mutex_unlock(&kv->sync_mu);
	if (r.ckpt.len > 0)
		rc = round_ckpt(kv, &r);
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
	while (rc == 0) {
		if (__atomic_load_n(&kv->fenced, __ATOMIC_ACQUIRE)) {
			rc = -EROFS;
			break;
		}
		if (kv->durable_seq >= target)
			break;
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
