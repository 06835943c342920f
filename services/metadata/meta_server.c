/*
 * The metadata service's life: start opens the store, the engine and the
 * filesystem, connects to the flusher and serves every META_* method; a
 * thread runs the durability barrier every lsm.flush_interval_secs; stop
 * stops serving, runs a last barrier and closes everything.
 *
 * The barrier always asks the flusher first (FLUSHER_BARRIER), so that no
 * WAL record reaches the store before the data frames it points at.
 */
#include "meta_server.h"

#include "flusher.pb-c.h"
#include "log.h"
#include "service.h"
#include "metadata/metadata.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int flusher_barrier_cb(void *arg)
{
	struct meta_service *svc = arg;
	Zerofs__BarrierReq req = ZEROFS__BARRIER_REQ__INIT;
	ProtobufCMessage *reply = NULL;
	char detail[160] = "";
	uint32_t epoch;
	int rc;

	rc = rpc_call(svc->flusher, ZEROFS__FLUSHER_METHOD__FLUSHER_BARRIER,
		      &req.base, &zerofs__barrier_reply__descriptor, &reply,
		      detail, sizeof(detail));
	if (rc < 0) {
		log_err("metadata: sync: flusher barrier: %s (%s)",
			strerror(-rc), detail);
		return rc;
	}
	/* Epochs only grow: a newer flusher never reports an older one. */
	epoch = ((Zerofs__BarrierReply *)reply)->epoch;
	if (epoch > atomic_load(&svc->flusher_epoch))
		atomic_store(&svc->flusher_epoch, epoch);
	protobuf_c_message_free_unpacked(reply, NULL);
	return 0;
}

/* Another instance opened the store: this one can store nothing more,
 * so it stops (its final sync fails, and it exits 1) rather than go on
 * answering from a namespace that no longer is the filesystem's. */
static void meta_service_fenced(struct meta_service *svc)
{
	struct kv_stats st;

	kv_stats_get(svc->kv, &st);
	if (!st.fenced || atomic_exchange(&svc->fenced_stop, 1))
		return;
	log_err("metadata: fenced: epoch %" PRIu64 ": another instance took "
		"over the store; stopping",
		st.epoch);
	service_request_stop();
}

int meta_service_flush(struct meta_service *svc, uint64_t *seq,
		       uint32_t *flusher_epoch)
{
	int rc;

	rc = kv_sync(svc->kv, flusher_barrier_cb, svc, seq);
	if (rc == -EROFS)
		meta_service_fenced(svc);
	/* With nothing pending kv_sync asks no barrier; the caller still
	 * needs to know which flusher the durable state stands on. */
	if (rc == 0 && atomic_load(&svc->flusher_epoch) == 0)
		rc = flusher_barrier_cb(svc);
	if (flusher_epoch != NULL)
		*flusher_epoch = atomic_load(&svc->flusher_epoch);
	return rc;
}

static void deadline_after(struct timespec *ts, double secs)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)secs;
	ts->tv_nsec += (long)((secs - floor(secs)) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *sync_main(void *arg)
{
	struct meta_service *svc = arg;
	struct timespec ts;
	int rc;

	pthread_mutex_lock(&svc->mu);
	while (!svc->stopping) {
		deadline_after(&ts, svc->interval_secs);
		pthread_cond_timedwait(&svc->cv, &svc->mu, &ts);
		if (svc->stopping)
			break;
		pthread_mutex_unlock(&svc->mu);
		rc = meta_service_flush(svc, NULL, NULL);
		if (rc == 0 && kv_fence_check(svc->kv) == -EROFS)
			rc = -EROFS;
		if (rc == -EROFS)
			meta_service_fenced(svc);
		else if (rc < 0)
			log_err("metadata: periodic sync: wal: %s",
				strerror(-rc));
		pthread_mutex_lock(&svc->mu);
	}
	pthread_mutex_unlock(&svc->mu);
	return NULL;
}

static int service_open(struct meta_service *svc, const struct config *cfg,
			const struct service_endpoints *ep)
{
	struct kv_options kopt = {
		.checkpoint_every = cfg->lsm.checkpoint_every,
		/* A quarter of each cache budget goes to the tree's blocks
		 * and tables; the rest is the chunk service's. */
		.block_cache_bytes =
		    (size_t)(cfg->cache.memory_size_gb * 268435456.0),
		.disk_cache_bytes =
		    (uint64_t)(cfg->cache.disk_size_gb * 268435456.0),
		.gc_grace_ms = (uint32_t)(cfg->lsm.gc_grace_secs * 1000),
		.memtable_bytes = (size_t)cfg->lsm.memtable_size_mb << 20,
		.compaction_jobs = cfg->lsm.max_concurrent_compactions,
		.before_upload = flusher_barrier_cb,
		.before_upload_arg = svc,
	};
	char cache_dir[CONFIG_STR + 16];
	struct meta_fs_options fopt = {
		.chunk_size = cfg->filesystem.chunk_size,
		.max_bytes =
		    (uint64_t)(cfg->filesystem.max_size_gb * 1073741824.0),
		/* The sync a create runs when it raises the inode limit
		 * must store the data frames first, like every sync. */
		.before_upload = flusher_barrier_cb,
		.before_upload_arg = svc,
	};
	int rc;

	rc = objstore_open(cfg->storage.url, &svc->os);
	if (rc < 0) {
		log_err("metadata: start: %s: cannot open store (%s)",
			cfg->storage.url, strerror(-rc));
		return rc;
	}
	if (cfg->cache.disk_size_gb > 0 && cfg->cache.dir[0] != '\0') {
		snprintf(cache_dir, sizeof(cache_dir), "%s/lsm",
			 cfg->cache.dir);
		kopt.disk_cache_dir = cache_dir;
	}
	/* The tree's background flushes call the flusher from the start. */
	rc = rpc_client_open(ep->flusher, &svc->flusher);
	if (rc < 0) {
		log_err("metadata: start: %s: %s", ep->flusher, strerror(-rc));
		return rc;
	}
	/* kv_open logs its own failures, naming the object or directory. */
	rc = kv_open(svc->os, &kopt, &svc->kv);
	if (rc == 0)
		rc = meta_fs_open(svc->kv, &fopt, &svc->fs);
	return rc;
}

int metadata_service_start(const struct config *cfg,
			   const struct service_endpoints *ep, void **handle)
{
	struct meta_service *svc = calloc(1, sizeof(*svc));
	int rc;

	if (svc == NULL)
		return -ENOMEM;
	pthread_mutex_init(&svc->mu, NULL);
	pthread_cond_init(&svc->cv, NULL);
	svc->boot = randombytes_random();
	svc->interval_secs = cfg->lsm.flush_interval_secs > 0
				 ? cfg->lsm.flush_interval_secs
				 : 5.0;
	rc = service_open(svc, cfg, ep);
	if (rc == 0)
		rc = rpc_server_start("metadata", ep->metadata, meta_methods,
				      meta_nmethods, svc, META_WORKERS,
				      &svc->srv);
	if (rc == 0)
		rc = -pthread_create(&svc->sync_thread, NULL, sync_main, svc);
	if (rc < 0) {
		log_err("metadata: start: %s: %s", ep->metadata, strerror(-rc));
		metadata_service_stop(svc);
		return rc;
	}
	svc->sync_started = 1;
	log_info("metadata: start: %s: serving", ep->metadata);
	*handle = svc;
	return 0;
}

int metadata_service_stop(void *handle)
{
	struct meta_service *svc = handle;
	uint64_t seq = 0;
	int rc = 0;

	if (svc == NULL)
		return 0;
	if (svc->srv != NULL)
		rpc_server_stop(svc->srv);
	pthread_mutex_lock(&svc->mu);
	svc->stopping = 1;
	pthread_cond_broadcast(&svc->cv);
	pthread_mutex_unlock(&svc->mu);
	if (svc->sync_started)
		pthread_join(svc->sync_thread, NULL);
	if (svc->kv != NULL && svc->flusher != NULL) {
		rc = meta_service_flush(svc, &seq, NULL);
		if (rc < 0)
			log_err("metadata: stop: wal: final sync failed (%s)",
				strerror(-rc));
		else
			log_info("metadata: stop: wal: durable at %" PRIu64,
				 seq);
	}
	rpc_client_close(svc->flusher);
	meta_fs_close(svc->fs);
	kv_close(svc->kv);
	objstore_close(svc->os);
	pthread_cond_destroy(&svc->cv);
	pthread_mutex_destroy(&svc->mu);
	free(svc);
	return rc;
}
