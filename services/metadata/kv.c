/*
 * The engine's front: opening and closing, reads, batches and writes.  A
 * write numbers its batch, appends the batch's record to the pending log
 * and applies it to the map, all under the write lock, so the order of
 * the log is the order readers observe.  Uploading the log is kv_sync.c's
 * job; rebuilding the map at open is kv_recover.c's.
 */
#include "kv_int.h"

#include "log.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kv_open(struct objstore *os, const struct kv_options *opt, struct kv **out)
{
	const char *prefix = opt && opt->prefix ? opt->prefix : "meta/";
	struct kv *kv;
	int rc;

	if (sodium_init() < 0 || strlen(prefix) >= KV_PREFIX_MAX)
		return -EINVAL;
	kv = calloc(1, sizeof(*kv));
	if (kv == NULL)
		return -ENOMEM;
	kv->os = os;
	if (opt != NULL)
		kv->opt = *opt;
	snprintf(kv->prefix, sizeof(kv->prefix), "%s", prefix);
	kv->opt.prefix = kv->prefix;
	if (kv->opt.upload_attempts == 0)
		kv->opt.upload_attempts = 8;
	if (kv->opt.backoff_max_ms == 0)
		kv->opt.backoff_max_ms = 2000;
	pthread_rwlock_init(&kv->lock, NULL);
	pthread_mutex_init(&kv->sync_mu, NULL);
	pthread_cond_init(&kv->sync_cv, NULL);
	rc = kv_map_new(&kv->map);
	if (rc == 0)
		rc = kv_recover(kv);
	if (rc < 0) {
		kv_close(kv);
		return rc;
	}
	*out = kv;
	return 0;
}

void kv_close(struct kv *kv)
{
	if (kv == NULL)
		return;
	kv_map_free(kv->map);
	wire_out_free(&kv->pending);
	pthread_cond_destroy(&kv->sync_cv);
	pthread_mutex_destroy(&kv->sync_mu);
	pthread_rwlock_destroy(&kv->lock);
	free(kv);
}

int kv_get(struct kv *kv, const void *key, size_t klen, void **val,
	   size_t *vlen)
{
	const struct kv_map_node *n;
	int rc = -ENOENT;

	pthread_rwlock_rdlock(&kv->lock);
	n = kv_map_find(kv->map, key, klen);
	if (n != NULL) {
		*val = malloc(n->vlen ? n->vlen : 1);
		rc = *val == NULL ? -ENOMEM : 0;
		if (rc == 0) {
			memcpy(*val, n->val, n->vlen);
			*vlen = n->vlen;
		}
	}
	pthread_rwlock_unlock(&kv->lock);
	return rc;
}

int kv_scan(struct kv *kv, const void *prefix, size_t plen, const void *start,
	    size_t slen, kv_scan_cb cb, void *arg)
{
	const struct kv_map_node *n;
	int rc = 0;

	if (start == NULL || slen < plen || memcmp(start, prefix, plen) != 0) {
		start = prefix;
		slen = plen;
	}
	pthread_rwlock_rdlock(&kv->lock);
	for (n = kv_map_seek(kv->map, start, slen); n != NULL;
	     n = kv_map_next(n)) {
		if (n->klen < plen || memcmp(n->key, prefix, plen) != 0)
			break;
		rc = cb(arg, n->key, n->klen, n->val, n->vlen);
		if (rc != 0)
			break;
	}
	pthread_rwlock_unlock(&kv->lock);
	return rc;
}

struct kv_batch *kv_batch_new(void)
{
	return calloc(1, sizeof(struct kv_batch));
}

static int batch_add(struct kv_batch *b, uint8_t kind, const void *key,
		     size_t klen, const void *val, size_t vlen)
{
	struct kv_op *op;

	if (klen > UINT32_MAX || vlen > UINT32_MAX)
		return -EINVAL;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;

		op = realloc(b->ops, cap * sizeof(*op));
		if (op == NULL)
			return -ENOMEM;
		b->ops = op;
		b->cap = cap;
	}
	op = &b->ops[b->n];
	op->kind = kind;
	op->key = malloc(klen ? klen : 1);
	op->val = malloc(vlen ? vlen : 1);
	if (op->key == NULL || op->val == NULL) {
		free(op->key);
		free(op->val);
		return -ENOMEM;
	}
	memcpy(op->key, key, klen);
	if (vlen)
		memcpy(op->val, val, vlen);
	op->klen = klen;
	op->vlen = vlen;
	b->n++;
	return 0;
}

int kv_batch_put(struct kv_batch *b, const void *key, size_t klen,
		 const void *val, size_t vlen)
{
	return batch_add(b, KV_OP_PUT, key, klen, val, vlen);
}

int kv_batch_del(struct kv_batch *b, const void *key, size_t klen)
{
	return batch_add(b, KV_OP_DEL, key, klen, NULL, 0);
}

size_t kv_batch_count(const struct kv_batch *b)
{
	return b->n;
}

void kv_batch_free(struct kv_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->ops[i].key);
		free(b->ops[i].val);
	}
	free(b->ops);
	free(b);
}

/* Allocates the map node of every put up front, so that applying the
 * batch under the lock cannot fail half-way. */
static int batch_nodes_new(struct kv *kv, const struct kv_batch *b,
			   struct kv_map_node **nodes)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct kv_op *op = &b->ops[i];

		nodes[i] = NULL;
		if (op->kind != KV_OP_PUT)
			continue;
		nodes[i] = kv_map_node_new(kv->map, op->key, op->klen, op->val,
					   op->vlen);
		if (nodes[i] == NULL) {
			while (i-- > 0)
				kv_map_node_free(nodes[i]);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Numbers, logs and applies the batch; called with the write lock held. */
static int batch_commit_locked(struct kv *kv, const struct kv_batch *b,
			       struct kv_map_node **nodes, uint64_t *seq)
{
	uint64_t s = kv->last_seq + 1;
	size_t mark = kv->pending.len;

	kv_record_encode(&kv->pending, s, b);
	if (kv->pending.err) {
		kv->pending.err = 0;
		kv->pending.len = mark;
		return -ENOMEM;
	}
	if (kv->pending_count++ == 0)
		kv->pending_first = s;
	for (size_t i = 0; i < b->n; i++) {
		if (nodes[i] != NULL)
			kv_map_insert(kv->map, nodes[i]);
		else
			kv_map_del(kv->map, b->ops[i].key, b->ops[i].klen);
	}
	kv->last_seq = s;
	*seq = s;
	return 0;
}

int kv_write(struct kv *kv, const struct kv_batch *b, uint64_t *seq)
{
	struct kv_map_node **nodes;
	uint64_t s = 0;
	int rc;

	nodes = calloc(b->n ? b->n : 1, sizeof(*nodes));
	if (nodes == NULL)
		return -ENOMEM;
	pthread_rwlock_wrlock(&kv->lock);
	/* A fenced engine changes nothing more, in memory either: nothing
	 * is acknowledged that could not be stored. */
	rc = __atomic_load_n(&kv->fenced, __ATOMIC_ACQUIRE) ? -EROFS : 0;
	if (rc == 0)
		rc = batch_nodes_new(kv, b, nodes);
	if (rc == 0)
		rc = batch_commit_locked(kv, b, nodes, &s);
	if (rc < 0)
		for (size_t i = 0; i < b->n; i++)
			kv_map_node_free(nodes[i]);
	pthread_rwlock_unlock(&kv->lock);
	free(nodes);
	if (rc == 0 && seq != NULL)
		*seq = s;
	return rc;
}

void kv_stats_get(struct kv *kv, struct kv_stats *st)
{
	pthread_rwlock_rdlock(&kv->lock);
	st->last_seq = kv->last_seq;
	st->keys = kv_map_count(kv->map);
	pthread_rwlock_unlock(&kv->lock);
	pthread_mutex_lock(&kv->sync_mu);
	st->durable_seq = kv->durable_seq;
	st->ckpt_seq = kv->ckpt_seq;
	st->wal_objects = kv->wal_objects;
	st->checkpoints = kv->checkpoints;
	st->upload_retries =
	    __atomic_load_n(&kv->upload_retries, __ATOMIC_RELAXED);
	st->fenced = (uint64_t)__atomic_load_n(&kv->fenced, __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&kv->sync_mu);
}
