/*
 * Versions and tables.  A version is built, swapped in under ver_mu and
 * never changed again; readers reference it and read without locks.  A
 * table opens its SST lazily, the first time a read needs it: from the
 * disk cache when there is one (fetching the whole object into it on a
 * miss), else by ranged reads of the object.
 */
#include "lsm_int.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct lsm_version *lsm_version_get(struct kv *kv)
{
	struct lsm_version *v;

	pthread_mutex_lock(&kv->ver_mu);
	v = kv->cur;
	__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&kv->ver_mu);
	return v;
}

static void version_free_files(struct lsm_version *v)
{
	for (int l = 0; l < LSM_LEVELS; l++) {
		for (size_t i = 0; i < v->nfiles[l]; i++)
			lsm_table_put(v->files[l][i]);
		free(v->files[l]);
		v->files[l] = NULL;
		v->nfiles[l] = 0;
	}
}

void lsm_version_put(struct lsm_version *v)
{
	if (v == NULL || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (v->mem != NULL)
		lsm_mem_unref(v->mem);
	for (int i = 0; i < v->nimm; i++)
		lsm_mem_unref(v->imm[i]);
	version_free_files(v);
	free(v);
}

struct lsm_version *lsm_version_clone(const struct lsm_version *v)
{
	struct lsm_version *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->refs = 1;
	n->mem = v->mem;
	lsm_mem_ref(n->mem);
	n->nimm = v->nimm;
	for (int i = 0; i < v->nimm; i++) {
		n->imm[i] = v->imm[i];
		n->imm_top[i] = v->imm_top[i];
		lsm_mem_ref(n->imm[i]);
	}
	for (int l = 0; l < LSM_LEVELS; l++) {
		if (v->nfiles[l] == 0)
			continue;
		n->files[l] = malloc(v->nfiles[l] * sizeof(*n->files[l]));
		if (n->files[l] == NULL) {
			lsm_version_put(n);
			return NULL;
		}
		for (size_t i = 0; i < v->nfiles[l]; i++) {
			n->files[l][i] = v->files[l][i];
			__atomic_add_fetch(&n->files[l][i]->refs, 1,
					   __ATOMIC_RELAXED);
		}
		n->nfiles[l] = v->nfiles[l];
	}
	return n;
}

void lsm_version_install(struct kv *kv, struct lsm_version *v)
{
	struct lsm_version *old;

	pthread_mutex_lock(&kv->ver_mu);
	old = kv->cur;
	kv->cur = v;
	pthread_mutex_unlock(&kv->ver_mu);
	lsm_version_put(old);
}

int lsm_version_update(struct kv *kv, lsm_version_edit_fn fn, void *arg)
{
	struct lsm_version *v, *old = NULL;
	int rc = -ENOMEM;

	pthread_mutex_lock(&kv->ver_mu);
	v = lsm_version_clone(kv->cur);
	if (v != NULL)
		rc = fn(kv, v, arg);
	if (rc == 0) {
		old = kv->cur;
		kv->cur = v;
	}
	pthread_mutex_unlock(&kv->ver_mu);
	lsm_version_put(rc == 0 ? old : v);
	return rc;
}

static int live_add(struct kv *kv, uint64_t id)
{
	uint64_t *p;
	int rc = 0;

	pthread_mutex_lock(&kv->live_mu);
	if (kv->nlive == kv->live_cap) {
		size_t cap = kv->live_cap ? kv->live_cap * 2 : 64;

		p = realloc(kv->live, cap * sizeof(*p));
		if (p == NULL) {
			rc = -ENOMEM;
			goto unlock;
		}
		kv->live = p;
		kv->live_cap = cap;
	}
	kv->live[kv->nlive++] = id;
unlock:
	pthread_mutex_unlock(&kv->live_mu);
	return rc;
}

static void live_del(struct kv *kv, uint64_t id)
{
	pthread_mutex_lock(&kv->live_mu);
	for (size_t i = 0; i < kv->nlive; i++)
		if (kv->live[i] == id) {
			kv->live[i] = kv->live[--kv->nlive];
			break;
		}
	pthread_mutex_unlock(&kv->live_mu);
}

int lsm_live_ids(struct kv *kv, uint64_t **ids, size_t *n)
{
	pthread_mutex_lock(&kv->live_mu);
	*n = kv->nlive;
	*ids = malloc((kv->nlive + 1) * sizeof(**ids));
	if (*ids != NULL && kv->nlive > 0)
		memcpy(*ids, kv->live, kv->nlive * sizeof(**ids));
	pthread_mutex_unlock(&kv->live_mu);
	return *ids == NULL ? -ENOMEM : 0;
}

static struct lsm_table *table_new(struct kv *kv, const struct lsm_file *f)
{
	struct lsm_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if (live_add(kv, f->id) < 0) {
		free(t);
		return NULL;
	}
	if (lsm_file_copy(&t->meta, f) < 0) {
		live_del(kv, f->id);
		free(t);
		return NULL;
	}
	t->refs = 1;
	t->kv = kv;
	t->fd = -1;
	pthread_mutex_init(&t->mu, NULL);
	return t;
}

void lsm_table_put(struct lsm_table *t)
{
	if (t == NULL || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (t->sst != NULL)
		lsm_sst_close(t->sst);
	if (t->fd >= 0)
		close(t->fd);
	if (__atomic_load_n(&t->doomed, __ATOMIC_ACQUIRE) &&
	    t->kv->dcache != NULL)
		lsm_disk_cache_remove(t->kv->dcache, t->meta.id);
	live_del(t->kv, t->meta.id);
	lsm_file_clear(&t->meta);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* The table of id among v's files, or NULL. */
static struct lsm_table *version_find(const struct lsm_version *v, uint64_t id)
{
	for (int l = 0; l < LSM_LEVELS; l++)
		for (size_t i = 0; i < v->nfiles[l]; i++)
			if (v->files[l][i]->meta.id == id)
				return v->files[l][i];
	return NULL;
}

int lsm_version_set_files(struct kv *kv, struct lsm_version *v,
			  const struct lsm_manifest *m)
{
	struct lsm_version old = *v;
	struct lsm_table *t;
	int rc = 0;

	for (int l = 0; l < LSM_LEVELS; l++) {
		v->files[l] = NULL;
		v->nfiles[l] = 0;
		if (m->nfiles[l] == 0)
			continue;
		v->files[l] = calloc(m->nfiles[l], sizeof(*v->files[l]));
		if (v->files[l] == NULL) {
			rc = -ENOMEM;
			continue;
		}
		for (size_t i = 0; i < m->nfiles[l]; i++) {
			t = version_find(&old, m->files[l][i].id);
			if (t != NULL)
				__atomic_add_fetch(&t->refs, 1,
						   __ATOMIC_RELAXED);
			else
				t = table_new(kv, &m->files[l][i]);
			if (t == NULL) {
				rc = -ENOMEM;
				break;
			}
			v->files[l][v->nfiles[l]++] = t;
		}
	}
	version_free_files(&old);
	return rc;
}

static int src_fd_read(void *arg, uint64_t off, size_t len, uint8_t *buf)
{
	struct lsm_table *t = arg;
	ssize_t n;

	while (len > 0) {
		n = pread(t->fd, buf, len, (off_t)off);
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int src_store_read(void *arg, uint64_t off, size_t len, uint8_t *buf)
{
	struct lsm_table *t = arg;
	struct kv *kv = t->kv;
	char name[KV_NAME_MAX];
	size_t got = 0;
	int rc = -EIO;

	lsm_name_sst(kv->prefix, t->meta.id, name, sizeof(name));
	for (uint32_t i = 0; i < kv->opt.upload_attempts; i++) {
		if (i > 0)
			lsm_sleep_ms(10u << (i < 6 ? i : 6));
		rc = objstore_get_range(kv->os, name, off, len, buf, &got);
		if (rc == 0 && got != len)
			rc = -EIO;
		if (rc == 0 || rc == -ENOENT)
			break;
	}
	/* A table a version names is never missing but by damage. */
	return rc == -ENOENT ? -EIO : rc;
}

/* Gives t a local copy through the disk cache, fetching it on a miss;
 * without one (no cache, too big, disk trouble) reads go to the store. */
static void table_src(struct lsm_table *t)
{
	struct kv *kv = t->kv;
	char name[KV_NAME_MAX];
	uint64_t size;
	void *p;
	size_t n;

	t->src.arg = t;
	t->src.size = t->meta.size;
	t->src.read = src_store_read;
	if (kv->dcache == NULL)
		return;
	if (lsm_disk_cache_open_file(kv->dcache, t->meta.id, &t->fd, &size) <
	    0) {
		lsm_name_sst(kv->prefix, t->meta.id, name, sizeof(name));
		if (lsm_get_retry(kv, name, &p, &n) < 0)
			return;
		lsm_disk_cache_insert(kv->dcache, t->meta.id, p, n);
		free(p);
		if (lsm_disk_cache_open_file(kv->dcache, t->meta.id, &t->fd,
					     &size) < 0)
			return;
	}
	if (size != t->meta.size) {
		close(t->fd);
		t->fd = -1;
		return;
	}
	t->src.read = src_fd_read;
}

int lsm_table_sst(struct lsm_table *t, struct lsm_sst **out)
{
	char name[KV_NAME_MAX];
	int rc = 0;

	pthread_mutex_lock(&t->mu);
	if (t->sst == NULL) {
		table_src(t);
		rc = lsm_sst_open(&t->src, t->meta.id, t->kv->bcache, NULL,
				  &t->sst);
		if (rc < 0) {
			lsm_name_sst(t->kv->prefix, t->meta.id, name,
				     sizeof(name));
			log_err("metadata: read: %s: cannot open (%s)", name,
				strerror(-rc));
			if (t->fd >= 0)
				close(t->fd);
			t->fd = -1;
			t->sst = NULL;
		}
	}
	*out = t->sst;
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void lsm_table_cache_insert(struct kv *kv, uint64_t id, const uint8_t *p,
			    size_t n)
{
	if (kv->dcache != NULL)
		lsm_disk_cache_insert(kv->dcache, id, p, n);
}

/* A level of disjoint tables read as one run. */
struct level_iter {
	struct lsm_iter it;
	struct lsm_table **files;
	size_t n, i;
	struct lsm_iter *cur;
	int err;
};

static int level_open(struct level_iter *li, size_t i)
{
	struct lsm_sst *sst;
	int rc;

	lsm_iter_free(li->cur);
	li->cur = NULL;
	li->i = i;
	if (i >= li->n)
		return 0;
	rc = lsm_table_sst(li->files[i], &sst);
	if (rc == 0) {
		li->cur = lsm_sst_iter_new(sst);
		if (li->cur == NULL)
			rc = -ENOMEM;
	}
	if (rc < 0)
		li->err = rc;
	return rc;
}

/* Moves on to the next tables while the current one is exhausted. */
static void level_skip(struct level_iter *li)
{
	while (li->cur != NULL && !lsm_iter_valid(li->cur)) {
		int rc = lsm_iter_status(li->cur);

		if (rc < 0) {
			li->err = rc;
			return;
		}
		if (level_open(li, li->i + 1) < 0 || li->cur == NULL)
			return;
		lsm_iter_first(li->cur);
	}
}

static void level_seek(struct lsm_iter *it, const uint8_t *k, size_t n)
{
	struct level_iter *li = (struct level_iter *)it;
	size_t lo = 0, hi = li->n;

	li->err = 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct lsm_file *f = &li->files[mid]->meta;

		if (lsm_ikey_cmp(f->largest, f->largest_len, k, n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (level_open(li, lo) < 0 || li->cur == NULL)
		return;
	lsm_iter_seek(li->cur, k, n);
	level_skip(li);
}

static void level_first(struct lsm_iter *it)
{
	struct level_iter *li = (struct level_iter *)it;

	li->err = 0;
	if (level_open(li, 0) < 0 || li->cur == NULL)
		return;
	lsm_iter_first(li->cur);
	level_skip(li);
}

static void level_next(struct lsm_iter *it)
{
	struct level_iter *li = (struct level_iter *)it;

	lsm_iter_next(li->cur);
	level_skip(li);
}

static int level_valid(struct lsm_iter *it)
{
	struct level_iter *li = (struct level_iter *)it;

	return li->err == 0 && li->cur != NULL && lsm_iter_valid(li->cur);
}

static const uint8_t *level_key(struct lsm_iter *it, size_t *n)
{
	return lsm_iter_key(((struct level_iter *)it)->cur, n);
}

static const uint8_t *level_value(struct lsm_iter *it, size_t *n)
{
	return lsm_iter_value(((struct level_iter *)it)->cur, n);
}

static int level_status(struct lsm_iter *it)
{
	return ((struct level_iter *)it)->err;
}

static void level_free(struct lsm_iter *it)
{
	struct level_iter *li = (struct level_iter *)it;

	lsm_iter_free(li->cur);
	free(li);
}

static const struct lsm_iter_ops level_ops = {
	level_seek, level_first, level_next,   level_valid,
	level_key,  level_value, level_status, level_free,
};

struct lsm_iter *lsm_level_iter_new(struct lsm_table **files, size_t n)
{
	struct level_iter *li = calloc(1, sizeof(*li));

	if (li == NULL)
		return NULL;
	li->it.ops = &level_ops;
	li->files = files;
	li->n = n;
	return &li->it;
}
