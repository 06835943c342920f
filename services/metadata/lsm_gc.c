/*
 * Garbage collection: deletes the objects nothing needs any more.
 *
 *   SSTs      not in the current manifest nor in any checkpoint, and not
 *             being written by a running flush or compaction;
 *   WAL       objects wholly at or before the flushed point, and objects
 *             the manifest's owners do not admit (a deposed writer's);
 *   manifests older than the newest few, oldest first (the fence check
 *             of lsm_wal.c relies on that order).
 *
 * An object is deleted only once it has been seen unreferenced for
 * gc_grace_ms, so that a reader still on an older manifest (a scan that
 * began before a compaction, a read-only follower) finishes first.  A
 * writer that finds itself fenced deletes nothing: the newer writer's
 * objects are not in its manifest.
 */
#include "lsm_int.h"

#include "failpoint.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LSM_GC_KEEP_MANIFESTS 4

struct lsm_gc_seen {
	char *name;
	uint64_t since_ms;
	int live; /* seen in this pass */
};

void lsm_gc_free(struct kv *kv)
{
	for (size_t i = 0; i < kv->gc_nseen; i++)
		free(kv->gc_seen[i].name);
	free(kv->gc_seen);
	kv->gc_seen = NULL;
	kv->gc_nseen = kv->gc_cap = 0;
}

/* 1 once name has been unreferenced for the grace period. */
static int gc_due(struct kv *kv, const char *name, uint64_t now)
{
	struct lsm_gc_seen *s;

	for (size_t i = 0; i < kv->gc_nseen; i++) {
		s = &kv->gc_seen[i];
		if (strcmp(s->name, name) == 0) {
			s->live = 1;
			return now - s->since_ms >= kv->opt.gc_grace_ms;
		}
	}
	if (kv->opt.gc_grace_ms == 0)
		return 1;
	if (kv->gc_nseen == kv->gc_cap) {
		size_t cap = kv->gc_cap ? kv->gc_cap * 2 : 64;

		s = realloc(kv->gc_seen, cap * sizeof(*s));
		if (s == NULL)
			return 0;
		kv->gc_seen = s;
		kv->gc_cap = cap;
	}
	s = &kv->gc_seen[kv->gc_nseen];
	s->name = strdup(name);
	if (s->name == NULL)
		return 0;
	s->since_ms = now;
	s->live = 1;
	kv->gc_nseen++;
	return 0;
}

/* Forgets what this pass did not see again (deleted or referenced). */
static void gc_sweep_seen(struct kv *kv)
{
	size_t j = 0;

	for (size_t i = 0; i < kv->gc_nseen; i++) {
		if (kv->gc_seen[i].live) {
			kv->gc_seen[i].live = 0;
			kv->gc_seen[j++] = kv->gc_seen[i];
		} else {
			free(kv->gc_seen[i].name);
		}
	}
	kv->gc_nseen = j;
}

struct gc_refs {
	uint64_t *ids;
	size_t n, cap;
};

static int refs_add(struct gc_refs *r, uint64_t id)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		uint64_t *p = realloc(r->ids, cap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		r->ids = p;
		r->cap = cap;
	}
	r->ids[r->n++] = id;
	return 0;
}

static int refs_manifest(struct gc_refs *r, const struct lsm_manifest *m)
{
	int rc = 0;

	for (int l = 0; l < LSM_LEVELS; l++)
		for (size_t i = 0; rc == 0 && i < m->nfiles[l]; i++)
			rc = refs_add(r, m->files[l][i].id);
	return rc;
}

static int refs_has(const struct gc_refs *r, uint64_t id)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->ids[i] == id)
			return 1;
	return 0;
}

/* Every SST a version in this process still holds: a scan that began
 * before a compaction reads the tables it replaced. */
static int refs_live(struct kv *kv, struct gc_refs *r)
{
	uint64_t *ids;
	size_t n;
	int rc;

	rc = lsm_live_ids(kv, &ids, &n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = refs_add(r, ids[i]);
	free(ids);
	return rc;
}

/* Every SST a checkpoint names. */
static int refs_checkpoints(struct kv *kv, struct gc_refs *r)
{
	char dir[KV_NAME_MAX], name[KV_NAME_MAX], **names = NULL;
	struct lsm_manifest m;
	size_t n = 0;
	void *p;
	size_t len;
	int rc;

	snprintf(dir, sizeof(dir), "%sckpt/", kv->prefix);
	rc = lsm_list_names(kv, dir, &names, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		snprintf(name, sizeof(name), "%s%s", dir, names[i]);
		rc = lsm_get_retry(kv, name, &p, &len);
		if (rc < 0)
			break;
		lsm_manifest_init(&m);
		rc = lsm_manifest_decode(p, len, &m);
		free(p);
		if (rc == 0)
			rc = refs_manifest(r, &m);
		lsm_manifest_clear(&m);
	}
	lsm_names_free(names, n);
	return rc;
}

/* A copy of the manifest and every SST id in use; fails when fenced. */
static int gc_snapshot(struct kv *kv, struct lsm_manifest *m, struct gc_refs *r)
{
	int rc;

	pthread_mutex_lock(&kv->man_mu);
	rc = lsm_fenced(kv) ? -EROFS : lsm_fence_check(kv);
	if (rc == 0)
		rc = lsm_manifest_copy(m, &kv->man);
	if (rc == 0)
		rc = refs_manifest(r, m);
	pthread_mutex_lock(&kv->bg_mu);
	for (size_t i = 0; rc == 0 && i < kv->ninflight; i++)
		rc = refs_add(r, kv->inflight[i]);
	pthread_mutex_unlock(&kv->bg_mu);
	pthread_mutex_unlock(&kv->man_mu);
	if (rc == 0)
		rc = refs_live(kv, r);
	return rc == 0 ? refs_checkpoints(kv, r) : rc;
}

static int gc_delete(struct kv *kv, const char *dir, const char *base,
		     uint64_t now, uint64_t *deleted)
{
	char name[KV_NAME_MAX];
	int rc;

	snprintf(name, sizeof(name), "%s%s", dir, base);
	if (!gc_due(kv, name, now))
		return 0;
	FAILPOINT("lsm.gc.delete");
	if (lsm_fenced(kv))
		return -EROFS;
	rc = objstore_del(kv->os, name);
	if (rc == 0)
		(*deleted)++;
	return rc;
}

static int gc_ssts(struct kv *kv, const struct gc_refs *r, uint64_t next,
		   uint64_t now, uint64_t *deleted)
{
	char dir[KV_NAME_MAX], **names = NULL;
	size_t n = 0;
	uint64_t id;
	int rc;

	snprintf(dir, sizeof(dir), "%ssst/", kv->prefix);
	rc = lsm_list_names(kv, dir, &names, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (lsm_parse_sst(names[i], &id) < 0 || refs_has(r, id) ||
		    id >= next)
			continue;
		rc = gc_delete(kv, dir, names[i], now, deleted);
		if (rc == 0 && kv->dcache != NULL)
			lsm_disk_cache_remove(kv->dcache, id);
	}
	lsm_names_free(names, n);
	return rc;
}

/* The admitted WAL object that holds flushed + 1 stays, and every
 * admitted one after it; the rest goes. */
static int gc_wal(struct kv *kv, const struct lsm_manifest *m, uint64_t now,
		  uint64_t *deleted)
{
	char dir[KV_NAME_MAX], **names = NULL;
	uint64_t first, epoch, keep = 0;
	size_t n = 0;
	int rc;

	snprintf(dir, sizeof(dir), "%swal/", kv->prefix);
	rc = lsm_list_names(kv, dir, &names, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (lsm_parse_wal(names[i], &first, &epoch) == 0 &&
		    first <= m->flushed_seq + 1 && first > keep &&
		    lsm_manifest_owner(m, first) == epoch)
			keep = first;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (lsm_parse_wal(names[i], &first, &epoch) < 0 ||
		    epoch > kv->epoch)
			continue;
		if (lsm_manifest_owner(m, first) == epoch &&
		    (first == keep || first > m->flushed_seq + 1))
			continue;
		rc = gc_delete(kv, dir, names[i], now, deleted);
	}
	lsm_names_free(names, n);
	return rc;
}

static int gc_manifests(struct kv *kv, const struct lsm_manifest *m,
			uint64_t now, uint64_t *deleted)
{
	char dir[KV_NAME_MAX], **names = NULL;
	uint64_t num;
	size_t n = 0;
	int rc;

	snprintf(dir, sizeof(dir), "%smanifest/", kv->prefix);
	rc = lsm_list_names(kv, dir, &names, &n);
	if (rc < 0)
		return rc;
	/* The store lists in ascending order: oldest deleted first. */
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (lsm_parse_manifest(names[i], &num) == 0 &&
		    num + LSM_GC_KEEP_MANIFESTS <= m->number)
			rc = gc_delete(kv, dir, names[i], now, deleted);
	lsm_names_free(names, n);
	return rc;
}

int kv_gc(struct kv *kv, uint64_t *deleted)
{
	struct gc_refs r = { 0 };
	struct lsm_manifest m;
	uint64_t now = lsm_now_ms(), count = 0;
	int rc;

	lsm_manifest_init(&m);
	pthread_mutex_lock(&kv->gc_mu);
	rc = gc_snapshot(kv, &m, &r);
	if (rc == 0)
		rc = gc_ssts(kv, &r, m.next_file, now, &count);
	if (rc == 0)
		rc = gc_wal(kv, &m, now, &count);
	if (rc == 0)
		rc = gc_manifests(kv, &m, now, &count);
	if (rc == 0)
		gc_sweep_seen(kv);
	pthread_mutex_unlock(&kv->gc_mu);
	lsm_manifest_clear(&m);
	free(r.ids);
	__atomic_add_fetch(&kv->gc_deleted, count, __ATOMIC_RELAXED);
	if (deleted != NULL)
		*deleted = count;
	if (count > 0)
		log_info("metadata: gc: %s: %" PRIu64 " objects deleted",
			 kv->prefix, count);
	if (rc < 0 && rc != -EROFS)
		log_warn("metadata: gc: %s: stopped (%s)", kv->prefix,
			 strerror(-rc));
	return rc;
}
