/*
 * Storing manifests, and the calls that wait for the background: flush,
 * compaction and checkpoints.
 *
 * Every manifest is created with put-if-absent under the next number.
 * Losing that race means another writer opened the store (it raised
 * the epoch in a manifest of that number), so this writer is fenced and
 * stores nothing more.  The owners of the WAL (lsm_manifest.h) are
 * pruned to those that recovery from the new flushed point can need.
 */
#include "lsm_int.h"

#include "failpoint.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* After storing manifest n: 0 while n - 1 still exists.  Collection
 * deletes manifests oldest first and keeps the newest few, so a missing
 * predecessor means a newer writer collected past n and this put only
 * re-created a number that writer had used and deleted. */
static int lsm_manifest_prev_check(struct kv *kv, uint64_t n)
{
	char name[KV_NAME_MAX];
	int rc;

	if (n <= 1)
		return 0;
	lsm_name_manifest(kv->prefix, n - 1, name, sizeof(name));
	rc = lsm_exists(kv, name);
	if (rc == 0) {
		lsm_fence(kv, name, "another writer collected it");
		return -EROFS;
	}
	return rc < 0 ? rc : 0;
}

int lsm_manifest_store(struct kv *kv, struct lsm_manifest *m)
{
	return lsm_manifest_put(kv, m, 0);
}

int lsm_manifest_put(struct kv *kv, struct lsm_manifest *m, int claim)
{
	struct wire_out obj = { 0 };
	char name[KV_NAME_MAX];
	int rc;

	lsm_name_manifest(kv->prefix, m->number, name, sizeof(name));
	rc = lsm_manifest_encode(m, &obj);
	FAILPOINT("lsm.manifest.put");
	if (rc == 0)
		rc = claim ? lsm_put_new(kv, name, obj.p, obj.len)
			   : lsm_put_retry(kv, name, obj.p, obj.len);
	if (rc == 0)
		rc = lsm_manifest_prev_check(kv, m->number);
	if (rc == -EEXIST) {
		wire_out_free(&obj);
		lsm_fence(kv, name, "another writer stored it first");
		return -EROFS;
	}
	if (rc < 0 && obj.err == 0 && m->number == kv->man.number + 1) {
		/* Perhaps stored with only the answer lost: settled before
		 * this writer uses the number again or checks for a fence. */
		wire_out_free(&kv->man_unsure);
		kv->man_unsure = obj;
		obj = (struct wire_out){ 0 };
	}
	wire_out_free(&obj);
	if (rc < 0)
		log_err("metadata: manifest: %s: not stored (%s)", name,
			strerror(-rc));
	return rc;
}

int lsm_manifest_resolve(struct kv *kv)
{
	char name[KV_NAME_MAX];
	int rc;

	if (kv->man_unsure.len == 0)
		return 0;
	lsm_name_manifest(kv->prefix, kv->man.number + 1, name, sizeof(name));
	rc = lsm_put_retry(kv, name, kv->man_unsure.p, kv->man_unsure.len);
	if (rc == -EEXIST) {
		lsm_fence(kv, name, "another writer stored it first");
		return -EROFS;
	}
	if (rc == 0)
		rc = lsm_manifest_prev_check(kv, kv->man.number + 1);
	if (rc < 0)
		return rc;
	/* Stored now or before: a state as valid as any this writer
	 * stores, superseded by the next one, which takes the next number
	 * and holds only what this writer's memory holds. */
	kv->man.number++;
	wire_out_free(&kv->man_unsure);
	return 0;
}

/* Keeps the owners from the one that owns flushed + 1 on. */
static void owners_prune(struct lsm_manifest *m)
{
	size_t keep = 0;

	for (size_t i = 0; i < m->nowners; i++)
		if (m->owners[i].first_seq <= m->flushed_seq + 1)
			keep = i;
	if (keep == 0)
		return;
	memmove(m->owners, m->owners + keep,
		(m->nowners - keep) * sizeof(m->owners[0]));
	m->nowners -= keep;
}

int lsm_manifest_commit(struct kv *kv, const struct lsm_edit *e,
			uint64_t flushed_seq)
{
	struct lsm_manifest m;
	int rc;

	if (lsm_fenced(kv))
		return -EROFS;
	rc = lsm_manifest_resolve(kv);
	if (rc < 0)
		return rc;
	lsm_manifest_init(&m);
	rc = lsm_manifest_copy(&m, &kv->man);
	if (rc == 0 && e != NULL)
		rc = lsm_manifest_apply(&m, e);
	if (rc < 0)
		goto clear;
	m.number = kv->man.number + 1;
	if (flushed_seq > m.flushed_seq)
		m.flushed_seq = flushed_seq;
	pthread_mutex_lock(&kv->bg_mu);
	m.next_file = kv->next_file;
	pthread_mutex_unlock(&kv->bg_mu);
	owners_prune(&m);
	rc = lsm_manifest_store(kv, &m);
	if (rc < 0)
		goto clear;
	lsm_manifest_clear(&kv->man);
	kv->man = m;
	__atomic_store_n(&kv->flushed_seq, m.flushed_seq, __ATOMIC_RELEASE);
	return 0;
clear:
	lsm_manifest_clear(&m);
	return rc;
}

/* Waits on the background's idle_cv up to 100 ms; bg_mu held. */
static void idle_wait(struct kv *kv)
{
	lsm_cond_wait_ms(&kv->idle_cv, &kv->bg_mu, 100);
}

static uint64_t flush_failures(struct kv *kv)
{
	uint64_t n;

	pthread_mutex_lock(&kv->bg_mu);
	n = kv->flush_failures;
	pthread_mutex_unlock(&kv->bg_mu);
	return n;
}

/* Freezes the memtable once there is room among the frozen ones
 * (write_mu held); a flush failing meanwhile ends the wait with its
 * error, so a dead store never holds the caller forever. */
static int flush_freeze(struct kv *kv, uint64_t failures)
{
	int nimm;

	for (;;) {
		if (lsm_fenced(kv))
			return -EROFS;
		pthread_mutex_lock(&kv->ver_mu);
		nimm = kv->cur->nimm;
		pthread_mutex_unlock(&kv->ver_mu);
		if ((uint32_t)nimm < kv->opt.max_immutables)
			return lsm_freeze(kv);
		if (flush_failures(kv) != failures)
			return kv->bg_error ? kv->bg_error : -EIO;
		lsm_bg_kick(kv);
		lsm_cond_wait_ms(&kv->stall_cv, &kv->write_mu, 100);
	}
}

int kv_flush(struct kv *kv)
{
	uint64_t target, failures;
	int rc = 0;

	pthread_mutex_lock(&kv->bg_mu);
	failures = kv->flush_failures;
	pthread_mutex_unlock(&kv->bg_mu);
	pthread_mutex_lock(&kv->write_mu);
	target = kv->last_seq;
	rc = flush_freeze(kv, failures);
	pthread_mutex_unlock(&kv->write_mu);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&kv->bg_mu);
	pthread_cond_broadcast(&kv->bg_cv);
	while (__atomic_load_n(&kv->flushed_seq, __ATOMIC_ACQUIRE) < target) {
		/* A flush that failed since this call began reports its
		 * error; the background goes on trying on its own. */
		if (lsm_fenced(kv) || kv->flush_failures != failures) {
			rc = lsm_fenced(kv) ? -EROFS : kv->bg_error;
			break;
		}
		idle_wait(kv);
	}
	pthread_mutex_unlock(&kv->bg_mu);
	return rc;
}

int kv_compact_wait(struct kv *kv)
{
	double score;
	int rc = 0, nimm;

	for (;;) {
		pthread_mutex_lock(&kv->man_mu);
		score = lsm_pick_score(&kv->man, &kv->pick_opt);
		pthread_mutex_unlock(&kv->man_mu);
		pthread_mutex_lock(&kv->ver_mu);
		nimm = kv->cur->nimm;
		pthread_mutex_unlock(&kv->ver_mu);
		pthread_mutex_lock(&kv->bg_mu);
		if (lsm_fenced(kv))
			rc = -EROFS;
		else if (kv->njobs == 0 && !kv->flushing && kv->bg_error)
			rc = kv->bg_error;
		else if (score < 1.0 && kv->njobs == 0 && !kv->flushing &&
			 nimm == 0)
			rc = 1;
		if (rc == 0) {
			pthread_cond_broadcast(&kv->bg_cv);
			idle_wait(kv);
		}
		pthread_mutex_unlock(&kv->bg_mu);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
}

int kv_fence_check(struct kv *kv)
{
	int rc;

	pthread_mutex_lock(&kv->man_mu);
	rc = lsm_fenced(kv) ? -EROFS : lsm_fence_check(kv);
	pthread_mutex_unlock(&kv->man_mu);
	return rc;
}

int kv_checkpoint(struct kv *kv, const char *name)
{
	struct wire_out obj = { 0 };
	char oname[KV_NAME_MAX];
	int rc;

	if (lsm_ckpt_name_check(name) < 0)
		return -EINVAL;
	rc = kv_flush(kv);
	if (rc < 0)
		return rc;
	lsm_name_ckpt(kv->prefix, name, oname, sizeof(oname));
	pthread_mutex_lock(&kv->man_mu);
	rc = lsm_manifest_encode(&kv->man, &obj);
	if (rc == 0)
		rc = lsm_put_new(kv, oname, obj.p, obj.len);
	pthread_mutex_unlock(&kv->man_mu);
	wire_out_free(&obj);
	if (rc == 0)
		__atomic_add_fetch(&kv->checkpoints, 1, __ATOMIC_RELAXED);
	else
		log_err("metadata: checkpoint: %s: not stored (%s)", oname,
			strerror(-rc));
	return rc;
}
