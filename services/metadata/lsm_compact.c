/*
 * Writing tables and running compactions.
 *
 * lsm_write_tables turns an ordered stream of internal keys into SSTs:
 * only the newest version of each user key is kept (no reader ever
 * needs an older one: a reader holds the version it started on, and
 * that version still holds the inputs), tombstones are dropped when
 * nothing older can lie below, and the output is cut at about sst_bytes,
 * always between two user keys.  Each SST is stored with put-if-absent
 * under a fresh id; an id some crashed run already used is skipped.
 *
 * A compaction merges its inputs (the upper level's files, newer, before
 * the lower level's), writes the outputs, and commits one manifest edit
 * that removes the inputs and adds the outputs one level down.  A single
 * file with nothing under it simply moves down.  Readers are never
 * blocked: the new version is swapped in whole.
 */
#include "lsm_int.h"

#include "failpoint.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct table_out {
	struct lsm_sst_builder *b;
	struct lsm_file *files;
	size_t n, cap;
	uint64_t min_seq, max_seq;
	uint8_t *smallest, *largest;
	size_t smallest_len, largest_len;
};

static int keep_key(uint8_t **dst, size_t *dlen, const uint8_t *k, size_t n)
{
	uint8_t *p = realloc(*dst, n);

	if (p == NULL)
		return -ENOMEM;
	memcpy(p, k, n);
	*dst = p;
	*dlen = n;
	return 0;
}

/* Stores one SST under a fresh id; fills f. */
static int table_store(struct kv *kv, const uint8_t *p, size_t n,
		       struct lsm_file *f)
{
	char name[KV_NAME_MAX];
	int rc = -EEXIST;

	for (int tries = 0; rc == -EEXIST && tries < 40; tries++) {
		/* Ids taken by crashed runs are skipped in growing steps,
		 * so a long run of leftovers costs few requests; the next
		 * manifest records how far the ids went. */
		if (tries > 0)
			lsm_file_id_skip(kv, UINT64_C(1)
						 << (tries < 30 ? tries : 30));
		f->id = lsm_file_id_alloc(kv);
		if (f->id == 0)
			return -EAGAIN;
		lsm_name_sst(kv->prefix, f->id, name, sizeof(name));
		rc = lsm_put_retry(kv, name, p, n);
		if (rc < 0)
			lsm_inflight_done(kv, f, 1);
	}
	if (rc < 0) {
		log_err("metadata: flush: %s: not stored (%s)", name,
			strerror(-rc));
		return rc;
	}
	f->size = n;
	lsm_table_cache_insert(kv, f->id, p, n);
	return 0;
}

/* Finishes the open builder into one more output file. */
static int out_finish(struct kv *kv, struct table_out *o, const char *fp)
{
	struct lsm_file *f;
	uint8_t *p;
	size_t n;
	int rc;

	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 4;

		f = realloc(o->files, cap * sizeof(*f));
		if (f == NULL)
			return -ENOMEM;
		o->files = f;
		o->cap = cap;
	}
	f = &o->files[o->n];
	memset(f, 0, sizeof(*f));
	f->entries = lsm_sst_builder_count(o->b);
	rc = lsm_sst_builder_finish(o->b, &p, &n);
	lsm_sst_builder_free(o->b);
	o->b = NULL;
	if (rc < 0)
		return rc;
	rc = table_store(kv, p, n, f);
	free(p);
	if (rc < 0)
		return rc;
	FAILPOINT(fp);
	f->min_seq = o->min_seq;
	f->max_seq = o->max_seq;
	f->smallest = o->smallest;
	f->smallest_len = o->smallest_len;
	f->largest = o->largest;
	f->largest_len = o->largest_len;
	o->smallest = o->largest = NULL;
	o->n++;
	return 0;
}

static int out_add(struct kv *kv, struct table_out *o, const uint8_t *k,
		   size_t kn, const uint8_t *v, size_t vn)
{
	uint64_t seq = lsm_ikey_seq(k, kn);
	int rc;

	if (o->b == NULL) {
		rc = lsm_sst_builder_new(&kv->sst_opt, &o->b);
		if (rc < 0)
			return rc;
		o->min_seq = UINT64_MAX;
		o->max_seq = 0;
		rc = keep_key(&o->smallest, &o->smallest_len, k, kn);
		if (rc < 0)
			return rc;
	}
	rc = lsm_sst_builder_add(o->b, k, kn, v, vn);
	if (rc == 0)
		rc = keep_key(&o->largest, &o->largest_len, k, kn);
	o->min_seq = seq < o->min_seq ? seq : o->min_seq;
	o->max_seq = seq > o->max_seq ? seq : o->max_seq;
	return rc;
}

static void out_free(struct kv *kv, struct table_out *o, int failed)
{
	lsm_sst_builder_free(o->b);
	free(o->smallest);
	free(o->largest);
	if (!failed)
		return;
	lsm_inflight_done(kv, o->files, o->n);
	for (size_t i = 0; i < o->n; i++)
		lsm_file_clear(&o->files[i]);
	free(o->files);
}

int lsm_write_tables(struct kv *kv, struct lsm_iter *it, int drop_dels,
		     int split, const char *fp, struct lsm_file **out,
		     size_t *nout)
{
	struct table_out o = { 0 };
	uint8_t *last = NULL;
	size_t last_len = 0, kn, vn;
	const uint8_t *k, *v;
	int have = 0, rc = 0;

	for (lsm_iter_first(it); rc == 0 && lsm_iter_valid(it);
	     lsm_iter_next(it)) {
		k = lsm_iter_key(it, &kn);
		if (have && last_len == lsm_ikey_ulen(kn) &&
		    memcmp(last, k, last_len) == 0)
			continue;
		rc = keep_key(&last, &last_len, k, lsm_ikey_ulen(kn));
		have = 1;
		if (rc < 0 ||
		    (drop_dels && lsm_ikey_kind(k, kn) == LSM_KIND_DEL))
			continue;
		if (split && o.b != NULL &&
		    lsm_sst_builder_bytes(o.b) >= kv->opt.sst_bytes)
			rc = out_finish(kv, &o, fp);
		v = lsm_iter_value(it, &vn);
		if (rc == 0)
			rc = out_add(kv, &o, k, kn, v, vn);
	}
	if (rc == 0)
		rc = lsm_iter_status(it);
	if (rc == 0 && o.b != NULL)
		rc = out_finish(kv, &o, fp);
	free(last);
	out_free(kv, &o, rc < 0);
	if (rc < 0)
		return rc;
	*out = o.files;
	*nout = o.n;
	return 0;
}

/* The tables of the compaction's inputs, from the current version (the
 * manifest copy's indexes are mapped by id).  NULL-filled when missing. */
static int inputs_find(struct lsm_version *v, const struct lsm_compaction *c,
		       const struct lsm_manifest *m, struct lsm_table **t[2])
{
	for (int s = 0; s < 2; s++) {
		int l = c->level + s;

		t[s] = calloc(c->nin[s] + 1, sizeof(*t[s]));
		if (t[s] == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < c->nin[s]; i++) {
			uint64_t id = m->files[l][c->in[s][i]].id;

			for (size_t j = 0; j < v->nfiles[l]; j++)
				if (v->files[l][j]->meta.id == id)
					t[s][i] = v->files[l][j];
			if (t[s][i] == NULL)
				return -ESTALE;
		}
	}
	return 0;
}

static struct lsm_iter *inputs_iter(const struct lsm_compaction *c,
				    struct lsm_table **t[2])
{
	struct lsm_iter **kids;
	struct lsm_iter *it;
	struct lsm_sst *sst;
	size_t n = 0;
	int rc;

	kids = calloc(c->nin[0] + 2, sizeof(*kids));
	if (kids == NULL)
		return NULL;
	if (c->level == 0) {
		for (size_t i = 0; i < c->nin[0]; i++) {
			rc = lsm_table_sst(t[0][i], &sst);
			kids[n++] = rc < 0 ? lsm_iter_empty_new(rc)
					   : lsm_sst_iter_new(sst);
		}
	} else {
		kids[n++] = lsm_level_iter_new(t[0], c->nin[0]);
	}
	if (c->nin[1] > 0)
		kids[n++] = lsm_level_iter_new(t[1], c->nin[1]);
	for (size_t i = 0; i < n; i++)
		if (kids[i] == NULL)
			kids[i] = lsm_iter_empty_new(-ENOMEM);
	it = lsm_iter_merge_new(kids, n);
	free(kids);
	return it;
}

/* Takes the tables of the newest manifest; man_mu held. */
static int compact_edit(struct kv *kv, struct lsm_version *v, void *arg)
{
	(void)arg;
	return lsm_version_set_files(kv, v, &kv->man);
}

/* Commits the edit and swaps in the new version; man_mu taken here. */
static int compact_commit(struct kv *kv, const struct lsm_compaction *c,
			  const struct lsm_manifest *m,
			  const struct lsm_file *out, size_t nout)
{
	struct lsm_edit_del *del;
	struct lsm_edit_add *add;
	struct lsm_edit e = { 0 };
	int rc = -ENOMEM;

	del = calloc(c->nin[0] + c->nin[1] + 1, sizeof(*del));
	add = calloc(nout + 1, sizeof(*add));
	if (del == NULL || add == NULL)
		goto free_edit;
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < c->nin[s]; i++) {
			del[e.ndel].level = c->level + s;
			del[e.ndel++].id =
			    m->files[c->level + s][c->in[s][i]].id;
		}
	for (size_t i = 0; i < nout; i++) {
		add[i].level = c->level + 1;
		add[i].file = &out[i];
	}
	e.del = del;
	e.add = add;
	e.nadd = nout;
	pthread_mutex_lock(&kv->man_mu);
	rc = lsm_manifest_commit(kv, &e, 0);
	if (rc == 0) {
		FAILPOINT("lsm.compact.manifest");
		rc = lsm_version_update(kv, compact_edit, NULL);
	}
	pthread_mutex_unlock(&kv->man_mu);
free_edit:
	free(del);
	free(add);
	return rc;
}

static void inputs_doom(const struct lsm_compaction *c, struct lsm_table **t[2])
{
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < c->nin[s]; i++)
			__atomic_store_n(&t[s][i]->doomed, 1, __ATOMIC_RELEASE);
}

int lsm_compact_run(struct kv *kv, const struct lsm_compaction *c,
		    const struct lsm_manifest *m)
{
	struct lsm_table **t[2] = { NULL, NULL };
	struct lsm_file *out = NULL;
	struct lsm_version *v;
	struct lsm_iter *it;
	size_t nout = 0;
	int rc, moved = 0;

	v = lsm_version_get(kv);
	rc = inputs_find(v, c, m, t);
	if (rc < 0)
		goto put_version;
	if (c->level > 0 && c->nin[0] == 1 && c->nin[1] == 0) {
		out = calloc(1, sizeof(*out));
		rc = out == NULL ? -ENOMEM : lsm_file_copy(out, &t[0][0]->meta);
		nout = rc == 0;
		moved = 1;
	} else {
		it = inputs_iter(c, t);
		rc = it == NULL
			 ? -ENOMEM
			 : lsm_write_tables(kv, it, c->bottommost, 1,
					    "lsm.compact.sst", &out, &nout);
		lsm_iter_free(it);
	}
	if (rc == 0)
		rc = compact_commit(kv, c, m, out, nout);
	if (!moved)
		lsm_inflight_done(kv, out, nout);
	if (rc == 0 && !moved)
		inputs_doom(c, t);
	if (rc == 0) {
		__atomic_add_fetch(&kv->compactions, 1, __ATOMIC_RELAXED);
		log_info("metadata: compaction: level %d to %d: %zu + %zu "
			 "tables in, %zu out%s",
			 c->level, c->level + 1, c->nin[0], c->nin[1], nout,
			 moved ? " (moved)" : "");
	}
	for (size_t i = 0; i < nout; i++)
		lsm_file_clear(&out[i]);
	free(out);
put_version:
	free(t[0]);
	free(t[1]);
	lsm_version_put(v);
	return rc;
}
