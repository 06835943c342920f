/*
 * Opening the store as its writer.
 *
 * 1. Load the newest manifest (none: a new, empty tree).
 * 2. Claim: store the next manifest with the writer epoch raised.  From
 *    then on the previous writer fails its next fence check, so it
 *    acknowledges no barrier whose WAL object this open did not see.
 * 3. List the WAL and replay, from the manifest's flushed point on, the
 *    chain of objects the manifest's owners admit: the one holding
 *    flushed + 1, then each that starts where the last one ended.
 * 4. Store one more manifest naming this epoch the owner of the WAL
 *    from the next sequence number on, so that objects a deposed writer
 *    stores late are never replayed.
 * Nothing else is read: no SST is opened until a read needs it.
 */
#include "lsm_int.h"

#include "failpoint.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LSM_CLAIM_TRIES 16

struct wal_obj {
	uint64_t first, epoch;
	char *name;
};

static int wal_cmp(const void *a, const void *b)
{
	const struct wal_obj *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* Loads the newest manifest into m (-ENOENT: none), naming the object
 * in the log when it cannot be read or is damaged. */
static int newest_load(struct kv *kv, struct lsm_manifest *m)
{
	char dir[KV_NAME_MAX], name[KV_NAME_MAX], **names = NULL;
	uint64_t num, best = 0;
	size_t n = 0, len;
	void *p;
	int rc;

	snprintf(dir, sizeof(dir), "%smanifest/", kv->prefix);
	rc = lsm_list_names(kv, dir, &names, &n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (lsm_parse_manifest(names[i], &num) == 0 && num > best)
			best = num;
	lsm_names_free(names, n);
	if (rc < 0 || best == 0)
		return rc < 0 ? rc : -ENOENT;
	lsm_name_manifest(kv->prefix, best, name, sizeof(name));
	rc = lsm_get_retry(kv, name, &p, &len);
	if (rc == 0) {
		rc = lsm_manifest_decode(p, len, m);
		free(p);
		if (rc == 0 && m->number != best)
			rc = -EIO;
	}
	if (rc < 0)
		log_err("metadata: open: %s: %s", name,
			rc == -EIO ? "damaged" : strerror(-rc));
	return rc == -ENOENT ? -EIO : rc;
}

static int lsm_claim(struct kv *kv)
{
	struct lsm_manifest m;
	int rc;

	for (int i = 0; i < LSM_CLAIM_TRIES; i++) {
		lsm_manifest_init(&m);
		rc = newest_load(kv, &m);
		if (rc == -ENOENT) {
			lsm_manifest_init(&m);
			rc = 0;
		}
		if (rc < 0) {
			lsm_manifest_clear(&m);
			return rc;
		}
		m.number++;
		m.writer_epoch++;
		if (m.next_file == 0)
			m.next_file = 1;
		rc = lsm_manifest_put(kv, &m, 1);
		if (rc == 0) {
			kv->man = m;
			kv->epoch = m.writer_epoch;
			kv->next_file = m.next_file;
			kv->flushed_seq = m.flushed_seq;
			return 0;
		}
		lsm_manifest_clear(&m);
		if (rc != -EROFS)
			return rc;
		/* Another writer opened at the same moment: try again on
		 * top of its manifest. */
		__atomic_store_n(&kv->fenced, 0, __ATOMIC_RELEASE);
	}
	return -EBUSY;
}

struct replay_ops {
	uint8_t *kind;
	const uint8_t **key, **val;
	size_t *klen, *vlen;
	uint8_t *mask;
};

static void replay_ops_free(struct replay_ops *o)
{
	free(o->kind);
	free(o->key);
	free(o->val);
	free(o->klen);
	free(o->vlen);
	free(o->mask);
}

/* Reads a record's operations into arrays (pointing into the object). */
static int replay_ops_read(struct wire_in *r, uint32_t n, struct replay_ops *o,
			   size_t *bytes)
{
	size_t m = (size_t)n + 1;

	o->kind = malloc(m);
	o->mask = malloc(m);
	o->key = malloc(m * sizeof(*o->key));
	o->val = malloc(m * sizeof(*o->val));
	o->klen = malloc(m * sizeof(*o->klen));
	o->vlen = malloc(m * sizeof(*o->vlen));
	if (!o->kind || !o->mask || !o->key || !o->val || !o->klen || !o->vlen)
		return -ENOMEM;
	*bytes = 0;
	for (uint32_t i = 0; i < n; i++) {
		o->kind[i] = wire_in_u8(r);
		o->klen[i] = wire_in_u32(r);
		o->vlen[i] = wire_in_u32(r);
		o->key[i] = wire_in_take(r, o->klen[i]);
		o->val[i] = wire_in_take(r, o->vlen[i]);
		if (r->err || o->klen[i] == 0 || o->klen[i] > LSM_KEY_MAX)
			return -EIO;
		*bytes += o->klen[i] + o->vlen[i];
	}
	return lsm_shadow_mask(o->key, o->klen, n, o->mask);
}

static int replay_cb(void *arg, uint64_t seq, struct wire_in *r, uint32_t nops)
{
	struct kv *kv = arg;
	struct replay_ops o = { 0 };
	size_t bytes;
	int rc;

	if (seq != kv->last_seq + 1)
		return -EIO;
	rc = replay_ops_read(r, nops, &o, &bytes);
	if (rc == 0)
		rc = lsm_mem_reserve(kv->mem, nops, bytes);
	for (uint32_t i = 0; rc == 0 && i < nops; i++)
		if (!o.mask[i])
			lsm_mem_add(kv->mem, seq, o.kind[i], o.key[i],
				    o.klen[i], o.val[i], o.vlen[i]);
	replay_ops_free(&o);
	if (rc == 0)
		kv->last_seq = seq;
	return rc;
}

/* Replays one object from kv->last_seq + 1 on; *last gets its end. */
static int replay_one(struct kv *kv, const struct wal_obj *o, uint64_t *last)
{
	char name[KV_NAME_MAX];
	void *p;
	size_t n;
	int rc;

	snprintf(name, sizeof(name), "%swal/%s", kv->prefix, o->name);
	rc = lsm_get_retry(kv, name, &p, &n);
	if (rc < 0) {
		log_err("metadata: open: %s: cannot read (%s)", name,
			strerror(-rc));
		return rc == -ENOENT ? -EIO : rc;
	}
	rc = lsm_wal_replay(p, n, o->first, kv->last_seq + 1, last, replay_cb,
			    kv);
	free(p);
	if (rc < 0)
		log_err("metadata: open: %s: damaged (%s)", name,
			strerror(-rc));
	return rc;
}

/* Memtables fill during a long replay too: flush them as they fill. */
static int replay_room(struct kv *kv)
{
	int rc;

	if (lsm_mem_bytes(kv->mem) < kv->opt.memtable_bytes)
		return 0;
	rc = lsm_freeze(kv);
	while (rc == 0 && kv->cur->nimm > 0)
		rc = lsm_flush_one(kv);
	return rc;
}

static int replay_chain(struct kv *kv, struct wal_obj *w, size_t n)
{
	uint64_t last;
	size_t i = n;
	int rc;

	/* The admitted object with the largest first number at or before
	 * the next wanted one; then each that starts right after. */
	for (size_t j = 0; j < n; j++)
		if (w[j].first <= kv->last_seq + 1 &&
		    lsm_manifest_owner(&kv->man, w[j].first) == w[j].epoch)
			i = j;
	while (i < n) {
		rc = replay_one(kv, &w[i], &last);
		if (rc < 0)
			return rc;
		rc = replay_room(kv);
		if (rc < 0)
			return rc;
		for (i = 0; i < n; i++)
			if (w[i].first == last + 1 &&
			    lsm_manifest_owner(&kv->man, w[i].first) ==
				w[i].epoch)
				break;
	}
	/* An admitted object past the end of the chain means one before it
	 * is missing: acknowledged batches would be lost, so refuse. */
	for (size_t j = 0; j < n; j++) {
		if (w[j].first > kv->last_seq + 1 &&
		    lsm_manifest_owner(&kv->man, w[j].first) == w[j].epoch) {
			log_err("metadata: open: %swal/%s: an object before it "
				"is missing",
				kv->prefix, w[j].name);
			return -EIO;
		}
	}
	return 0;
}

static int lsm_replay(struct kv *kv)
{
	char dir[KV_NAME_MAX], **names = NULL;
	struct wal_obj *w = NULL;
	size_t n = 0, nw = 0;
	int rc;

	snprintf(dir, sizeof(dir), "%swal/", kv->prefix);
	rc = lsm_list_names(kv, dir, &names, &n);
	if (rc < 0)
		return rc;
	w = calloc(n + 1, sizeof(*w));
	if (w == NULL) {
		rc = -ENOMEM;
		goto free_names;
	}
	for (size_t i = 0; i < n; i++)
		if (lsm_parse_wal(names[i], &w[nw].first, &w[nw].epoch) == 0)
			w[nw++].name = names[i];
	qsort(w, nw, sizeof(*w), wal_cmp);
	rc = replay_chain(kv, w, nw);
	free(w);
free_names:
	lsm_names_free(names, n);
	return rc;
}

/* The first version: an empty memtable and the manifest's tables. */
static int version_first(struct kv *kv)
{
	struct lsm_version *v = calloc(1, sizeof(*v));
	int rc;

	if (v == NULL)
		return -ENOMEM;
	v->refs = 1;
	rc = lsm_mem_new(&v->mem);
	if (rc == 0)
		rc = lsm_version_set_files(kv, v, &kv->man);
	if (rc < 0) {
		lsm_version_put(v);
		return rc;
	}
	kv->cur = v;
	kv->mem = v->mem;
	return 0;
}

/* Names this epoch the owner of the WAL from the next number on. */
static int lsm_own(struct kv *kv)
{
	struct lsm_owner *o;
	struct lsm_manifest *m = &kv->man;
	int rc;

	struct lsm_owner prev = { 0, 0 };
	int replaced = 0;

	/* The previous writer wrote nothing after its own start: its entry
	 * owns nothing, so this epoch takes its place. */
	if (m->nowners > 0 &&
	    m->owners[m->nowners - 1].first_seq == kv->last_seq + 1) {
		prev = m->owners[m->nowners - 1];
		m->owners[m->nowners - 1].epoch = kv->epoch;
		replaced = 1;
	} else {
		o = realloc(m->owners, (m->nowners + 1) * sizeof(*o));
		if (o == NULL)
			return -ENOMEM;
		m->owners = o;
		o[m->nowners].epoch = kv->epoch;
		o[m->nowners].first_seq = kv->last_seq + 1;
		m->nowners++;
	}
	pthread_mutex_lock(&kv->man_mu);
	rc = lsm_manifest_commit(kv, NULL, 0);
	pthread_mutex_unlock(&kv->man_mu);
	if (rc < 0 && replaced)
		kv->man.owners[kv->man.nowners - 1] = prev;
	else if (rc < 0)
		kv->man.nowners--;
	return rc;
}

int lsm_recover(struct kv *kv)
{
	int rc;

	/* Failures to read or store a manifest were logged, with its name,
	 * where they happened. */
	rc = lsm_claim(kv);
	if (rc == -EBUSY)
		log_err("metadata: open: %smanifest/: other writers kept "
			"claiming the store first",
			kv->prefix);
	if (rc < 0)
		return rc;
	FAILPOINT("lsm.open.claim");
	kv->last_seq = kv->man.flushed_seq;
	kv->frozen_top = kv->last_seq;
	rc = version_first(kv);
	if (rc == 0)
		rc = lsm_replay(kv);
	if (rc < 0)
		return rc;
	kv->visible_seq = kv->last_seq;
	kv->pending_first = kv->last_seq + 1;
	kv->durable_seq = kv->last_seq;
	rc = lsm_own(kv);
	if (rc == 0)
		log_info("metadata: open: %s: epoch %" PRIu64
			 ", manifest %" PRIu64 ", at batch %" PRIu64,
			 kv->prefix, kv->epoch, kv->man.number, kv->last_seq);
	return rc;
}
