/*
 * What the engine's files share: the engine's state, and the encoders and
 * decoders of its objects (their byte layouts are in FORMAT.md).
 *
 * Locking: `lock` (an rwlock) guards the map, last_seq and the pending
 * log; kv_write holds it for writing while it numbers, logs and applies a
 * batch, so the log order is the apply order.  `sync_mu` guards the
 * group-commit state; it is never held across an upload.
 */
#ifndef ZEROFS_META_KV_INT_H
#define ZEROFS_META_KV_INT_H

#include "kv.h"
#include "kv_map.h"
#include "wire.h"

#include <pthread.h>

#define KV_PREFIX_MAX 128
#define KV_NAME_MAX   (KV_PREFIX_MAX + 64)
#define KV_OP_PUT     1
#define KV_OP_DEL     2

struct kv {
	struct objstore *os;
	struct kv_options opt;
	char prefix[KV_PREFIX_MAX];

	pthread_rwlock_t lock;
	struct kv_map *map;
	uint64_t last_seq;
	struct wire_out pending; /* encoded records not yet uploaded */
	uint64_t pending_first;	 /* seq of its first record */
	uint32_t pending_count;

	pthread_mutex_t sync_mu;
	pthread_cond_t sync_cv;
	int uploading;
	uint64_t durable_seq;
	uint64_t ckpt_seq;
	uint32_t wal_since_ckpt;

	/* A round whose upload failed is retried as the very same object
	 * (records pending_first..retry_last, the first retry_len bytes of
	 * the pending log) before anything newer: it may have been stored
	 * with only the answer lost, and its name must then hold its bytes.
	 * Only the uploader touches these; retry_last 0: none. */
	uint64_t retry_last;
	size_t retry_len;
	uint32_t retry_count;

	/* Set once another writer has stored an object under a name this
	 * engine needed; from then on writes and syncs fail with -EROFS.
	 * Read and set with atomics. */
	int fenced;

	uint64_t wal_objects;
	uint64_t checkpoints;
	uint64_t upload_retries;
};

struct kv_op {
	uint8_t kind;
	uint8_t *key;
	size_t klen;
	uint8_t *val;
	size_t vlen;
};

struct kv_batch {
	struct kv_op *ops;
	size_t n, cap;
};

/* Object names: "<prefix>wal/<first>" and "<prefix>ckpt/<seq>", each
 * number 20 zero-padded decimal digits.  A WAL object is named by its
 * first sequence number alone, so two writers that continue from the same
 * point need the same name and put-if-absent lets only one of them in. */
void kv_name_wal(const struct kv *kv, uint64_t first, char *buf, size_t len);
void kv_name_ckpt(const struct kv *kv, uint64_t seq, char *buf, size_t len);
int kv_name_parse_wal(const char *base, uint64_t *first, uint64_t *last);
int kv_name_parse_ckpt(const char *base, uint64_t *seq);

/* Appends one batch's record to w. */
void kv_record_encode(struct wire_out *w, uint64_t seq,
		      const struct kv_batch *b);

/* Wraps `count` encoded records in a WAL object; *obj is malloc'd. */
int kv_wal_encode(const uint8_t *recs, size_t len, uint32_t count,
		  uint64_t first, uint64_t last, struct wire_out *obj);

/* Checks a WAL object and replays its records into the map; they must be
 * numbered from first on without a gap.  *last is the last number the
 * name promises (0: none, as in the current naming) and gets the one the
 * object's header holds. */
int kv_wal_replay(struct kv *kv, const uint8_t *obj, size_t len, uint64_t first,
		  uint64_t *last);

/* Encodes the whole map, consistent at seq, as a checkpoint object. */
int kv_ckpt_encode(const struct kv_map *map, uint64_t seq,
		   struct wire_out *obj);

/* Checks a checkpoint object and loads it into the (empty) map. */
int kv_ckpt_load(struct kv *kv, const uint8_t *obj, size_t len, uint64_t seq);

/* Applies a put or delete to the map; 0 or -ENOMEM. */
int kv_map_apply(struct kv_map *map, uint8_t kind, const void *key, size_t klen,
		 const void *val, size_t vlen);

/* Recovery, called by kv_open. */
int kv_recover(struct kv *kv);

#endif
