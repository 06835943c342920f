/*
 * What the LSM engine's files share: the engine's state, versions and
 * tables.  FORMAT.md describes the objects; this describes the threads.
 *
 * Writers: kv_write holds write_mu while it numbers a batch, appends its
 * record to the pending WAL log and adds it to the memtable, then
 * publishes the number in visible_seq.  Readers take no engine lock but
 * ver_mu, briefly, to reference the current version, and read at
 * snapshot visible_seq: a batch appears whole or not at all.
 *
 * A version is an immutable, reference-counted view: the memtable, the
 * frozen memtables being flushed, and the tables of each level.  The
 * background threads (one flusher of frozen memtables, compaction_jobs
 * compactors, the garbage collector) build a new version and swap it in
 * under ver_mu; a reader holding the old one goes on undisturbed, and
 * the tables it references stay open until its last reference goes.
 *
 * The manifest: man_mu serializes every manifest write (flush,
 * compaction, open, checkpoint) and the fencing check of a WAL upload,
 * so that `man` is always the newest manifest this writer stored.
 *
 * Lock order: write_mu, then man_mu, then ver_mu, then sync_mu.
 */
#ifndef ZEROFS_META_LSM_INT_H
#define ZEROFS_META_LSM_INT_H

#include "kv.h"
#include "lsm_cache.h"
#include "lsm_iter.h"
#include "lsm_key.h"
#include "lsm_manifest.h"
#include "lsm_mem.h"
#include "lsm_pick.h"
#include "lsm_sst.h"
#include "wire.h"

#include <pthread.h>

#define KV_PREFIX_MAX 128
#define KV_NAME_MAX   (KV_PREFIX_MAX + 96)
#define KV_OP_PUT     LSM_KIND_PUT
#define KV_OP_DEL     LSM_KIND_DEL
#define LSM_IMM_MAX   8
#define LSM_JOBS_MAX  8

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
	size_t bytes;
};

/* One SST as the engine uses it: its manifest entry and, once a read
 * needed it, the open reader. */
struct lsm_table {
	int refs; /* atomic */
	struct kv *kv;
	struct lsm_file meta;
	pthread_mutex_t mu; /* guards the lazy open */
	struct lsm_sst *sst;
	struct lsm_src src;
	int fd;	    /* a disk cache copy, or -1: ranged reads */
	int doomed; /* no manifest references it: drop the cached copy */
};

struct lsm_version {
	int refs; /* atomic */
	struct lsm_mem *mem;
	struct lsm_mem *imm[LSM_IMM_MAX]; /* newest first */
	uint64_t imm_top[LSM_IMM_MAX];	  /* last batch each one holds */
	int nimm;
	struct lsm_table **files[LSM_LEVELS]; /* as in the manifest */
	size_t nfiles[LSM_LEVELS];
};

/* A WAL upload: records first..last, encoded. */
struct sync_round {
	struct wire_out recs;
	uint64_t first;
	uint64_t last;
	uint32_t count;
};

struct kv {
	struct objstore *os;
	struct kv_options opt;
	char prefix[KV_PREFIX_MAX];
	struct lsm_block_cache *bcache;
	struct lsm_disk_cache *dcache;
	struct lsm_sst_opts sst_opt;
	struct lsm_pick_opts pick_opt;

	pthread_mutex_t write_mu;
	pthread_cond_t stall_cv; /* with write_mu: room in the pipeline */
	uint64_t last_seq;
	uint64_t visible_seq;	 /* atomic */
	struct wire_out pending; /* records not yet in a WAL object */
	uint64_t pending_first;	 /* seq of its first record */
	uint32_t pending_count;

	pthread_mutex_t ver_mu;
	struct lsm_version *cur;
	struct lsm_mem *mem; /* cur->mem; only writers (write_mu) change it */
	uint64_t frozen_top; /* last_seq when the memtable was last frozen */

	pthread_mutex_t man_mu;
	struct lsm_manifest man; /* the newest this writer stored */
	uint64_t next_file;
	uint64_t epoch;
	uint64_t flushed_seq; /* atomic copy of man.flushed_seq */
	/* A manifest whose put failed without a definite answer: it may be
	 * stored.  Its number is man.number + 1 until resolved. */
	struct wire_out man_unsure;

	pthread_mutex_t sync_mu;
	pthread_cond_t sync_cv;
	int uploading;
	uint64_t durable_seq;
	/* A round whose upload failed: stored again, the same bytes under
	 * the same name, before anything newer.  Uploader only. */
	struct sync_round retry;

	/* Background work: bg_mu guards everything below. */
	pthread_mutex_t bg_mu;
	pthread_cond_t bg_cv;	/* work for the threads */
	pthread_cond_t idle_cv; /* a job ended */
	int stopping;
	int flushing;		 /* the flusher holds a frozen memtable */
	int bg_error;		 /* the last background failure, for the log */
	uint64_t flush_failures; /* flushes that failed since open */
	int njobs;		 /* compactions running */
	uint64_t busy[256];	 /* ids of files in running compactions */
	size_t nbusy;
	/* SST ids handed out to flushes and compactions that have not yet
	 * committed or given up: garbage collection leaves them alone. */
	uint64_t inflight[512];
	size_t ninflight;
	struct lsm_pick_cursor cursor;
	pthread_t flush_thread;
	pthread_t job_threads[LSM_JOBS_MAX];
	int njob_threads;
	pthread_t gc_thread;
	int threads_started;

	/* Ids of every table some version in this process still holds
	 * (a scan may read an old one): garbage collection spares them. */
	pthread_mutex_t live_mu;
	uint64_t *live;
	size_t nlive, live_cap;

	/* Garbage collection: unreferenced objects by first sight. */
	pthread_mutex_t gc_mu;
	struct lsm_gc_seen *gc_seen;
	size_t gc_nseen, gc_cap;

	int fenced; /* atomic */

	uint64_t wal_objects;
	uint64_t checkpoints;
	uint64_t upload_retries;
	uint64_t flushes;
	uint64_t compactions;
	uint64_t stalls;
	uint64_t gc_deleted;
};

/* lsm_util.c: the store with retries, fencing, small helpers. */
void lsm_sleep_ms(uint32_t ms);
uint64_t lsm_now_ms(void);
/* Waits on cv (mu held) for at most ms milliseconds. */
void lsm_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, uint32_t ms);
/* put_if_absent with retries; an existing object with the same bytes is
 * a success (an earlier attempt whose answer was lost); other bytes:
 * -EEXIST. */
int lsm_put_retry(struct kv *kv, const char *name, const void *p, size_t n);
/* The same, but an existing object is -EEXIST whatever its bytes: for
 * names two parties may fill with equal bytes (two openers' claims, a
 * checkpoint taken twice), where "same bytes" does not mean "mine". */
int lsm_put_new(struct kv *kv, const char *name, const void *p, size_t n);
int lsm_get_retry(struct kv *kv, const char *name, void **p, size_t *n);
/* The names under dir (without dir), in the store's order; *names and
 * each name malloc'd: free with lsm_names_free. */
int lsm_list_names(struct kv *kv, const char *dir, char ***names, size_t *n);
void lsm_names_free(char **v, size_t n);
void lsm_fence(struct kv *kv, const char *name, const char *why);
/* mask[i] = 1 when a later one of the n keys equals key i: in a batch
 * only the last write of a key enters the memtable.  0 or -ENOMEM. */
int lsm_shadow_mask(const uint8_t *const *keys, const size_t *lens, size_t n,
		    uint8_t *mask);
int lsm_fenced(struct kv *kv);

/* lsm_wal.c: records, WAL objects, the barrier. */
void lsm_record_encode(struct wire_out *w, uint64_t seq,
		       const struct kv_batch *b);
int lsm_wal_encode(const struct sync_round *r, struct wire_out *obj);
/* Checks a WAL object; calls apply for each record with seq >= from. */
typedef int (*lsm_record_cb)(void *arg, uint64_t seq, struct wire_in *ops,
			     uint32_t nops);
int lsm_wal_replay(const uint8_t *obj, size_t len, uint64_t first,
		   uint64_t from, uint64_t *last, lsm_record_cb cb, void *arg);
/* Drops pending records numbered <= seq. */
void lsm_pending_trim(struct kv *kv, uint64_t seq);
int lsm_sync(struct kv *kv, kv_before_upload_cb cb, void *arg, uint64_t *seq);
/* Under man_mu: 0 while this writer's manifest is the newest, -EROFS
 * (and fenced) once another writer stored one after it. */
int lsm_fence_check(struct kv *kv);

/* lsm_version.c: versions and tables. */
struct lsm_version *lsm_version_get(struct kv *kv);
void lsm_version_put(struct lsm_version *v);
/* A copy of v with the same references (each one taken again). */
struct lsm_version *lsm_version_clone(const struct lsm_version *v);
/* Installs v as current (takes the caller's reference). */
void lsm_version_install(struct kv *kv, struct lsm_version *v);
/* Replaces the current version by a copy that fn edited, all under
 * ver_mu, so that two updates never build on the same old version and
 * one undo the other.  fn must not block; 0 or its error (nothing
 * changes then). */
typedef int (*lsm_version_edit_fn)(struct kv *kv, struct lsm_version *v,
				   void *arg);
int lsm_version_update(struct kv *kv, lsm_version_edit_fn fn, void *arg);
/* Rebuilds v's levels from manifest m, reusing v's open tables. */
int lsm_version_set_files(struct kv *kv, struct lsm_version *v,
			  const struct lsm_manifest *m);
void lsm_table_put(struct lsm_table *t);
int lsm_table_sst(struct lsm_table *t, struct lsm_sst **out);
struct lsm_iter *lsm_level_iter_new(struct lsm_table **files, size_t n);
/* Sets up a new table's disk cache copy from the bytes just uploaded. */
void lsm_table_cache_insert(struct kv *kv, uint64_t id, const uint8_t *p,
			    size_t n);

/* Copies the ids of live tables into r (lsm_gc.c's list). */
int lsm_live_ids(struct kv *kv, uint64_t **ids, size_t *n);

/* lsm_read.c */
struct lsm_iter *lsm_version_iter(struct lsm_version *v);

/* lsm_bg.c: background threads. */
int lsm_bg_start(struct kv *kv);
void lsm_bg_stop(struct kv *kv);
void lsm_bg_kick(struct kv *kv);
/* Freezes the memtable (write_mu held); -EAGAIN if no room. */
int lsm_freeze(struct kv *kv);
int lsm_flush_one(struct kv *kv);
/* A new SST id, in flight until lsm_inflight_done; 0 when too many are. */
uint64_t lsm_file_id_alloc(struct kv *kv);
void lsm_inflight_done(struct kv *kv, const struct lsm_file *f, size_t n);
/* Moves the next SST id on by n (past ids crashed runs left taken). */
void lsm_file_id_skip(struct kv *kv, uint64_t n);

/* lsm_compact.c */
int lsm_compact_run(struct kv *kv, const struct lsm_compaction *c,
		    const struct lsm_manifest *m);
/* Writes entries of `it` as SSTs of up to sst_bytes (one only when
 * split is 0); each is uploaded and described in out (malloc'd). */
int lsm_write_tables(struct kv *kv, struct lsm_iter *it, int drop_dels,
		     int split, const char *failpoint, struct lsm_file **out,
		     size_t *nout);

/* lsm_manifest_io.c: storing manifests. */
/* Stores m (its number set by the caller) with put-if-absent: -EROFS
 * (fenced) if another writer took the number.  man_mu held. */
int lsm_manifest_store(struct kv *kv, struct lsm_manifest *m);
/* lsm_manifest_store, or with claim set the put of an opener's claim,
 * which an equal object already there loses. */
int lsm_manifest_put(struct kv *kv, struct lsm_manifest *m, int claim);
/* 1 if the object exists, 0 if not, or the store's error. */
int lsm_exists(struct kv *kv, const char *name);
/* Settles a manifest put of unknown outcome (man_mu held): if the store
 * holds its bytes, this writer stored it and moves past its number; if
 * the number is free, nothing was stored; other bytes: fenced. */
int lsm_manifest_resolve(struct kv *kv);
/* Applies e to the newest manifest and stores it; man_mu held. */
int lsm_manifest_commit(struct kv *kv, const struct lsm_edit *e,
			uint64_t flushed_seq);

/* lsm_recover.c */
int lsm_recover(struct kv *kv);

/* lsm_gc.c */
void lsm_gc_free(struct kv *kv);

#endif
