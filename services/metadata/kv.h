/*
 * The key-value engine under the filesystem: ordered byte-string keys,
 * atomic batches applied in one total order, and a durability barrier.
 * The filesystem layer sees only this interface, so the engine behind it
 * (today an in-memory map with a write-ahead log and checkpoints in the
 * object store) can be replaced without the layer above changing.
 *
 * Readers may run concurrently with one another and with a writer; every
 * read sees a state between two whole batches.
 */
#ifndef ZEROFS_META_KV_H
#define ZEROFS_META_KV_H

#include "objstore.h"

#include <stddef.h>
#include <stdint.h>

struct kv;
struct kv_batch;

struct kv_options {
	/* Objects live under this prefix ("meta/" when NULL). */
	const char *prefix;
	/* WAL objects between checkpoints; 0 never checkpoints. */
	uint32_t checkpoint_every;
	/* Attempts per object upload before a sync gives up (0: 8), and the
	 * cap of the doubling delay between attempts (0: 2000 ms). */
	uint32_t upload_attempts;
	uint32_t backoff_max_ms;
};

struct kv_stats {
	uint64_t last_seq;	 /* last batch written */
	uint64_t durable_seq;	 /* last batch in the store */
	uint64_t ckpt_seq;	 /* sequence number of the newest checkpoint */
	uint64_t wal_objects;	 /* WAL objects uploaded since open */
	uint64_t checkpoints;	 /* checkpoints uploaded since open */
	uint64_t upload_retries; /* failed uploads that were retried */
	uint64_t keys;
	/* 1 once another writer took a name this engine needed (see
	 * kv_write): the engine then writes nothing more. */
	uint64_t fenced;
};

/* Recovers the state in os (newest checkpoint, then every WAL object after
 * it) and returns the engine in *out.  The store must outlive it.  Fails
 * with -EIO (damaged or missing object, logged with its name) or the
 * store's error. */
int kv_open(struct objstore *os, const struct kv_options *opt, struct kv **out);

/* Frees the engine.  Unsynced writes are dropped: call kv_sync first. */
void kv_close(struct kv *kv);

/* On success *val is malloc'd and owned by the caller.  -ENOENT if the key
 * is absent. */
int kv_get(struct kv *kv, const void *key, size_t klen, void **val,
	   size_t *vlen);

/* Called in ascending key order; a non-zero return stops the scan and
 * becomes kv_scan's return value.  The pointers are valid during the call
 * only, and the callback must not write to the engine. */
typedef int (*kv_scan_cb)(void *arg, const void *key, size_t klen,
			  const void *val, size_t vlen);

/* Visits the keys that start with prefix and are >= start (start NULL or
 * shorter than the prefix: from the prefix on). */
int kv_scan(struct kv *kv, const void *prefix, size_t plen, const void *start,
	    size_t slen, kv_scan_cb cb, void *arg);

/* A batch holds copies of its keys and values.  kv_batch_new returns NULL
 * when out of memory; put and del return 0 or -ENOMEM. */
struct kv_batch *kv_batch_new(void);
int kv_batch_put(struct kv_batch *b, const void *key, size_t klen,
		 const void *val, size_t vlen);
int kv_batch_del(struct kv_batch *b, const void *key, size_t klen);
size_t kv_batch_count(const struct kv_batch *b);
void kv_batch_free(struct kv_batch *b);

/* Applies every operation of b, in order, atomically.  *seq (may be NULL)
 * gets the batch's sequence number; numbers grow by one per batch.  The
 * batch stays the caller's.  Fails with -EROFS, changing nothing, once the
 * engine is fenced: another writer on the same store stored an object
 * under a name this engine needed (logged once). */
int kv_write(struct kv *kv, const struct kv_batch *b, uint64_t *seq);

/* Runs before a WAL object is uploaded, so that whatever its records point
 * at is stored first.  Returns 0 or a negative errno (the sync fails). */
typedef int (*kv_before_upload_cb)(void *arg);

/* The durability barrier: returns once every batch written before the call
 * is in the store.  Concurrent calls share uploads.  *seq (may be NULL)
 * gets the last durable sequence number.  On failure the unsynced batches
 * stay queued, in order, for the next call.  -EROFS once the engine is
 * fenced, from the sync that finds another writer's object on. */
int kv_sync(struct kv *kv, kv_before_upload_cb before_upload, void *arg,
	    uint64_t *seq);

void kv_stats_get(struct kv *kv, struct kv_stats *st);

#endif
