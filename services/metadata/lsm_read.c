/*
 * Reads.  Both take the current version and the snapshot number of the
 * last whole batch, then read without an engine lock.
 *
 * A point read asks the memtable, the frozen memtables (newest first),
 * the level-0 tables whose key range holds the key (newest first), and
 * in each deeper level the one table whose range holds it; the first
 * version found decides (a tombstone means absent).  A scan merges all
 * of them and passes on the newest version of each key.
 */
#include "lsm_int.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int file_holds(const struct lsm_file *f, const void *key, size_t klen)
{
	return lsm_ukey_cmp(f->smallest, lsm_ikey_ulen(f->smallest_len), key,
			    klen) <= 0 &&
	       lsm_ukey_cmp(f->largest, lsm_ikey_ulen(f->largest_len), key,
			    klen) >= 0;
}

/* The table of a level >= 1 whose range may hold key, or NULL. */
static struct lsm_table *level_find(struct lsm_table **files, size_t n,
				    const void *key, size_t klen)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct lsm_file *f = &files[mid]->meta;

		if (lsm_ukey_cmp(f->largest, lsm_ikey_ulen(f->largest_len), key,
				 klen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n || !file_holds(&files[lo]->meta, key, klen))
		return NULL;
	return files[lo];
}

/* 0 found (kind set), -ENOENT not in this table, or an error. */
static int table_get(struct lsm_table *t, const void *key, size_t klen,
		     uint64_t snap, uint8_t *kind, void **val, size_t *vlen)
{
	struct lsm_sst *sst;
	uint64_t seq;
	int rc;

	rc = lsm_table_sst(t, &sst);
	if (rc < 0)
		return rc == -ENOENT ? -EIO : rc;
	return lsm_sst_get(sst, key, klen, snap, kind, &seq, val, vlen);
}

static int version_get_key(struct lsm_version *v, const void *key, size_t klen,
			   uint64_t snap, uint8_t *kind, void **val,
			   size_t *vlen)
{
	struct lsm_table *t;
	int rc;

	rc = lsm_mem_get(v->mem, key, klen, snap, kind, val, vlen);
	for (int i = 0; rc == -ENOENT && i < v->nimm; i++)
		rc = lsm_mem_get(v->imm[i], key, klen, snap, kind, val, vlen);
	for (size_t i = 0; rc == -ENOENT && i < v->nfiles[0]; i++)
		if (file_holds(&v->files[0][i]->meta, key, klen))
			rc = table_get(v->files[0][i], key, klen, snap, kind,
				       val, vlen);
	for (int l = 1; rc == -ENOENT && l < LSM_LEVELS; l++) {
		t = level_find(v->files[l], v->nfiles[l], key, klen);
		if (t != NULL)
			rc = table_get(t, key, klen, snap, kind, val, vlen);
	}
	return rc;
}

int kv_get(struct kv *kv, const void *key, size_t klen, void **val,
	   size_t *vlen)
{
	struct lsm_version *v;
	uint64_t snap;
	uint8_t kind = 0;
	int rc;

	if (klen == 0 || klen > LSM_KEY_MAX)
		return klen == 0 ? -ENOENT : -EINVAL;
	/* The version first, then the snapshot: every frozen memtable and
	 * table of the version holds only batches at or below it, so the
	 * newest version of a key at the snapshot is in the version (a
	 * flush keeps only each key's newest, which a later snapshot would
	 * need and this one must not see). */
	v = lsm_version_get(kv);
	snap = __atomic_load_n(&kv->visible_seq, __ATOMIC_ACQUIRE);
	*val = NULL;
	rc = version_get_key(v, key, klen, snap, &kind, val, vlen);
	lsm_version_put(v);
	if (rc == 0 && kind != LSM_KIND_PUT) {
		free(*val);
		*val = NULL;
		rc = -ENOENT;
	}
	return rc;
}

struct lsm_iter *lsm_version_iter(struct lsm_version *v)
{
	struct lsm_iter *kids[LSM_IMM_MAX + 1 + 64 + LSM_LEVELS];
	struct lsm_iter **k = kids, **heap = NULL;
	size_t n = 0, cap = sizeof(kids) / sizeof(kids[0]);
	size_t want = 1 + (size_t)v->nimm + v->nfiles[0] + LSM_LEVELS;
	struct lsm_sst *sst;
	struct lsm_iter *it;
	int rc = 0;

	if (want > cap) {
		heap = malloc(want * sizeof(*heap));
		if (heap == NULL)
			return NULL;
		k = heap;
	}
	k[n++] = lsm_mem_iter_new(v->mem);
	for (int i = 0; i < v->nimm; i++)
		k[n++] = lsm_mem_iter_new(v->imm[i]);
	for (size_t i = 0; i < v->nfiles[0]; i++) {
		rc = lsm_table_sst(v->files[0][i], &sst);
		k[n++] =
		    rc < 0 ? lsm_iter_empty_new(rc) : lsm_sst_iter_new(sst);
	}
	for (int l = 1; l < LSM_LEVELS; l++)
		if (v->nfiles[l] > 0)
			k[n++] = lsm_level_iter_new(v->files[l], v->nfiles[l]);
	for (size_t i = 0; i < n; i++)
		if (k[i] == NULL)
			k[i] = lsm_iter_empty_new(-ENOMEM);
	it = lsm_iter_merge_new(k, n);
	free(heap);
	return it;
}

struct scan_state {
	uint8_t *last; /* user key of the last version decided */
	size_t last_len, last_cap;
	int have_last;
};

static int scan_same(struct scan_state *s, const uint8_t *k, size_t n)
{
	uint8_t *p;

	if (s->have_last && s->last_len == n && memcmp(s->last, k, n) == 0)
		return 1;
	if (n > s->last_cap) {
		p = realloc(s->last, n);
		if (p == NULL)
			return -ENOMEM;
		s->last = p;
		s->last_cap = n;
	}
	memcpy(s->last, k, n);
	s->last_len = n;
	s->have_last = 1;
	return 0;
}

static int scan_run(struct lsm_iter *it, uint64_t snap, const void *prefix,
		    size_t plen, kv_scan_cb cb, void *arg)
{
	struct scan_state s = { 0 };
	const uint8_t *k, *val;
	size_t kn, vn, un;
	int rc = 0;

	for (; rc == 0 && lsm_iter_valid(it); lsm_iter_next(it)) {
		k = lsm_iter_key(it, &kn);
		un = lsm_ikey_ulen(kn);
		if (un < plen || (plen > 0 && memcmp(k, prefix, plen) != 0))
			break;
		if (lsm_ikey_seq(k, kn) > snap)
			continue;
		rc = scan_same(&s, k, un);
		if (rc != 0) {
			rc = rc == 1 ? 0 : rc;
			continue;
		}
		if (lsm_ikey_kind(k, kn) != LSM_KIND_PUT)
			continue;
		val = lsm_iter_value(it, &vn);
		rc = cb(arg, k, un, val, vn);
	}
	if (rc == 0)
		rc = lsm_iter_status(it);
	free(s.last);
	return rc;
}

int kv_scan(struct kv *kv, const void *prefix, size_t plen, const void *start,
	    size_t slen, kv_scan_cb cb, void *arg)
{
	struct lsm_version *v;
	struct lsm_iter *it;
	uint8_t *seek;
	uint64_t snap;
	int rc;

	if (start == NULL || slen < plen) {
		start = prefix;
		slen = plen;
	}
	if (plen == 0)
		start = start != NULL ? start : "";
	rc = plen > 0 ? memcmp(start, prefix, plen) : 0;
	if (rc > 0)
		return 0;
	if (rc < 0) {
		start = prefix;
		slen = plen;
	}
	if (slen > LSM_KEY_MAX)
		return -EINVAL;
	seek = malloc(slen + LSM_TRAILER);
	if (seek == NULL)
		return -ENOMEM;
	v = lsm_version_get(kv); /* before the snapshot: see kv_get */
	snap = __atomic_load_n(&kv->visible_seq, __ATOMIC_ACQUIRE);
	it = lsm_version_iter(v);
	if (it == NULL) {
		rc = -ENOMEM;
		goto put_version;
	}
	lsm_iter_seek(it, seek,
		      lsm_ikey_make(seek, start, slen, LSM_SEQ_MAX, 0xff));
	rc = scan_run(it, snap, prefix, plen, cb, arg);
	lsm_iter_free(it);
put_version:
	lsm_version_put(v);
	free(seek);
	return rc;
}
