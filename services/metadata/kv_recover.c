/*
 * Rebuilding the engine's state at open: the newest checkpoint, then every
 * WAL object after it, in sequence order.  One listing of each kind is
 * enough and nothing else is read.  A WAL object's name gives its first
 * sequence number (and, in the early naming, its last); its header gives
 * the last.  The WAL objects must continue the checkpoint without a gap
 * or an overlap; either, or a damaged object, fails the open instead of
 * yielding a partial state.
 */
#include "kv_int.h"

#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wal_ref {
	uint64_t first;
	uint64_t last; /* 0 unless the name holds it */
	char base[48]; /* the name after "<prefix>wal/" */
};

struct recover_list {
	size_t skip; /* length of the listed prefix */
	uint64_t ckpt_seq;
	int have_ckpt;
	struct wal_ref *wal;
	size_t nwal, cap;
	int err;
};

static int ckpt_list_cb(void *arg, const char *key, uint64_t size)
{
	struct recover_list *l = arg;
	uint64_t seq;

	(void)size;
	if (kv_name_parse_ckpt(key + l->skip, &seq) < 0)
		return 0; /* not ours: a temporary or foreign object */
	if (!l->have_ckpt || seq > l->ckpt_seq)
		l->ckpt_seq = seq;
	l->have_ckpt = 1;
	return 0;
}

static int wal_list_cb(void *arg, const char *key, uint64_t size)
{
	struct recover_list *l = arg;
	struct wal_ref ref;

	(void)size;
	if (kv_name_parse_wal(key + l->skip, &ref.first, &ref.last) < 0)
		return 0;
	snprintf(ref.base, sizeof(ref.base), "%s", key + l->skip);
	if (l->nwal == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct wal_ref *w = realloc(l->wal, cap * sizeof(*w));

		if (w == NULL)
			return -ENOMEM;
		l->wal = w;
		l->cap = cap;
	}
	l->wal[l->nwal++] = ref;
	return 0;
}

static int recover_ckpt(struct kv *kv, uint64_t seq)
{
	char name[KV_NAME_MAX];
	void *obj;
	size_t len;
	int rc;

	kv_name_ckpt(kv, seq, name, sizeof(name));
	rc = objstore_get(kv->os, name, &obj, &len);
	if (rc < 0) {
		log_err("metadata: recover: %s: cannot read (%s)", name,
			strerror(-rc));
		return rc;
	}
	rc = kv_ckpt_load(kv, obj, len, seq);
	free(obj);
	if (rc < 0)
		log_err("metadata: recover: %s: damaged checkpoint", name);
	return rc;
}

static int wal_ref_cmp(const void *a, const void *b)
{
	const struct wal_ref *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

static int recover_wal(struct kv *kv, const struct wal_ref *w)
{
	char name[KV_NAME_MAX];
	uint64_t last = w->last;
	void *obj;
	size_t len;
	int rc;

	snprintf(name, sizeof(name), "%swal/%s", kv->prefix, w->base);
	if (w->first != kv->last_seq + 1) {
		log_err("metadata: recover: %s: %s sequence %" PRIu64, name,
			w->first > kv->last_seq ? "gap after" : "overlaps",
			kv->last_seq);
		return -EIO;
	}
	rc = objstore_get(kv->os, name, &obj, &len);
	if (rc < 0) {
		log_err("metadata: recover: %s: cannot read (%s)", name,
			strerror(-rc));
		return rc;
	}
	rc = kv_wal_replay(kv, obj, len, w->first, &last);
	free(obj);
	if (rc < 0) {
		log_err("metadata: recover: %s: damaged WAL object", name);
		return rc;
	}
	kv->last_seq = last;
	kv->wal_since_ckpt++;
	return 0;
}

int kv_recover(struct kv *kv)
{
	struct recover_list l = { 0 };
	char dir[KV_NAME_MAX];
	int rc;

	snprintf(dir, sizeof(dir), "%sckpt/", kv->prefix);
	l.skip = strlen(dir);
	rc = objstore_list(kv->os, dir, ckpt_list_cb, &l);
	if (rc == 0 && l.have_ckpt)
		rc = recover_ckpt(kv, l.ckpt_seq);
	if (rc < 0)
		return rc;
	kv->last_seq = kv->ckpt_seq = l.ckpt_seq;
	snprintf(dir, sizeof(dir), "%swal/", kv->prefix);
	l.skip = strlen(dir);
	rc = objstore_list(kv->os, dir, wal_list_cb, &l);
	if (rc == 0 && l.nwal > 1)
		qsort(l.wal, l.nwal, sizeof(*l.wal), wal_ref_cmp);
	/* WAL objects a checkpoint covers may outlive it after a crash
	 * between the checkpoint's upload and their deletion.  A checkpoint
	 * is taken at the end of an upload, so a WAL object that starts at
	 * or before it ends there too: it is covered whole. */
	for (size_t i = 0; rc == 0 && i < l.nwal; i++)
		if (l.wal[i].first > kv->ckpt_seq)
			rc = recover_wal(kv, &l.wal[i]);
	free(l.wal);
	if (rc < 0)
		return rc;
	kv->durable_seq = kv->last_seq;
	log_info("metadata: recover: %s: at sequence %" PRIu64
		 " (checkpoint %" PRIu64 ", %u WAL objects)",
		 kv->prefix, kv->last_seq, kv->ckpt_seq, kv->wal_since_ckpt);
	return 0;
}
