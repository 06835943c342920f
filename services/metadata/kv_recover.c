/*
 * Rebuilding the engine's state at open: the newest checkpoint, then every
 * WAL object after it, in sequence order.  Object names sort in replay
 * order, so one listing of each kind is enough and nothing else is read.
 * The WAL objects must continue the checkpoint without a gap; a gap or a
 * damaged object fails the open instead of yielding a partial state.
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
	uint64_t last;
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

static int recover_wal(struct kv *kv, const struct wal_ref *w)
{
	char name[KV_NAME_MAX];
	void *obj;
	size_t len;
	int rc;

	kv_name_wal(kv, w->first, w->last, name, sizeof(name));
	if (w->first != kv->last_seq + 1) {
		log_err("metadata: recover: %s: gap after sequence %" PRIu64,
			name, kv->last_seq);
		return -EIO;
	}
	rc = objstore_get(kv->os, name, &obj, &len);
	if (rc < 0) {
		log_err("metadata: recover: %s: cannot read (%s)", name,
			strerror(-rc));
		return rc;
	}
	rc = kv_wal_replay(kv, obj, len, w->first, w->last);
	free(obj);
	if (rc < 0) {
		log_err("metadata: recover: %s: damaged WAL object", name);
		return rc;
	}
	kv->last_seq = w->last;
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
	/* WAL objects a checkpoint covers may outlive it after a crash
	 * between the checkpoint's upload and their deletion. */
	for (size_t i = 0; rc == 0 && i < l.nwal; i++)
		if (l.wal[i].last > kv->ckpt_seq)
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
