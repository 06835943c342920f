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
	/* Kept for the configuration's sake; the LSM engine takes no
	 * checkpoints on its own (see kv_checkpoint). */
	uint32_t checkpoint_every;
	/* Attempts per object upload before a sync gives up (0: 8), and the
	 * cap of the doubling delay between attempts (0: 2000 ms). */
	uint32_t upload_attempts;
	uint32_t backoff_max_ms;

	/* The LSM engine's sizes; 0 takes the default in brackets. */
	size_t memtable_bytes;	  /* a memtable is frozen past this [32 MiB] */
	uint32_t max_immutables;  /* frozen memtables before writes wait [2] */
	size_t sst_bytes;	  /* target size of one SST [16 MiB] */
	uint32_t l0_trigger;	  /* L0 files that start a compaction [4] */
	uint32_t l0_stop;	  /* L0 files at which writes wait [12] */
	uint64_t l1_bytes;	  /* target size of level 1 [128 MiB] */
	uint32_t compaction_jobs; /* compactions run at once [1] */
	size_t block_cache_bytes; /* memory budget of decoded blocks [64 MiB]*/
	const char *disk_cache_dir; /* SST copies on local disk (NULL: none) */
	uint64_t disk_cache_bytes;  /* its budget [1 GiB] */
	uint32_t gc_grace_ms;	    /* unreferenced objects live this long
				       before they are deleted (0: at once;
				       the service sets 10 min) */
	/* Runs before any upload that makes records durable (a WAL object or
	 * a manifest after a memtable flush); NULL: nothing to wait for.
	 * kv_sync's own callback, when given, takes its place for that
	 * sync. */
	int (*before_upload)(void *arg);
	void *before_upload_arg;
};

struct kv_stats {
	uint64_t last_seq;	 /* last batch written */
	uint64_t durable_seq;	 /* last batch in the store */
	uint64_t ckpt_seq;	 /* sequence number of the newest checkpoint */
	uint64_t wal_objects;	 /* WAL objects uploaded since open */
	uint64_t checkpoints;	 /* checkpoints uploaded since open */
	uint64_t upload_retries; /* failed uploads that were retried */
	uint64_t keys;		 /* entries in memtables and SSTs (with
				    shadowed versions and tombstones) */
	/* 1 once another writer took a name this engine needed (see
	 * kv_write): the engine then writes nothing more. */
	uint64_t fenced;

	uint64_t epoch;		 /* this writer's epoch */
	uint64_t manifest;	 /* number of the current manifest */
	uint64_t flushed_seq;	 /* last batch in the SSTs */
	uint64_t flushes;	 /* memtables written as SSTs since open */
	uint64_t compactions;	 /* compactions finished since open */
	uint64_t stalls;	 /* writes that waited for a flush */
	uint64_t gc_deleted;	 /* objects deleted by garbage collection */
	uint32_t level_files[8]; /* SSTs per level */
	uint64_t level_bytes[8]; /* their bytes */
	uint64_t mem_bytes;	 /* memtables, index and filter blocks */
	uint64_t block_cache_bytes;
	uint64_t block_cache_hits, block_cache_misses;
	uint64_t disk_cache_bytes;
};

/* Opens the store as its one writer: loads the newest manifest, raises
 * the writer epoch in a new manifest (put-if-absent), replays the WAL
 * objects after it, and returns the engine in *out.  An opener that
 * another opener overtakes before it is done fails with -EROFS.  The store must
 * outlive it. Fails with -EIO (damaged or missing object, logged with its name)
 * or the store's error. */
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

/* Checks the store for a newer writer: 0 while this engine is still the
 * writer, -EROFS once it is fenced (it then writes nothing more), or the
 * store's error.  Syncs check on their own; this is for an idle writer. */
int kv_fence_check(struct kv *kv);

/* Freezes the memtable and returns once it is an SST named by a stored
 * manifest (a durability barrier too).  0, or the upload's error. */
int kv_flush(struct kv *kv);

/* Returns once no compaction is due or running (tests and benchmarks). */
int kv_compact_wait(struct kv *kv);

/* Pins the current manifest as the checkpoint `name` ([A-Za-z0-9._-],
 * at most 64 bytes): garbage collection keeps every object it names
 * until the checkpoint is deleted.  Flushes first.  -EEXIST if taken. */
int kv_checkpoint(struct kv *kv, const char *name);

/* Deletes the SSTs, WAL objects and manifests that neither the current
 * manifest nor a checkpoint references and that have been unreferenced
 * for gc_grace_ms.  *deleted (may be NULL) gets the count.  It also runs
 * on its own in the background. */
int kv_gc(struct kv *kv, uint64_t *deleted);

#endif
