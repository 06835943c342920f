/*
 * The chunk service's start and stop.  Start opens the store and the rpc
 * clients, begins serving at once, and learns the chunk size from the
 * metadata service in a background thread that retries until it answers
 * (a handler that comes first asks for itself).
 */
#include "chunk/chunk.h"

#include "chunk/svc.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_WORKERS	       16
#define CHUNK_CACHE_MIN	       (64ull << 20)
#define CHUNK_PROBE_TIMEOUT    1000
#define CHUNK_PROBE_PAUSE_USEC 200000

static const struct rpc_method chunk_methods[] = {
	{ ZEROFS__CHUNK_METHOD__CHUNK_READ, &zerofs__read_req__descriptor,
	  chunk_read_cb },
	{ ZEROFS__CHUNK_METHOD__CHUNK_WRITE, &zerofs__write_req__descriptor,
	  chunk_write_cb },
	{ ZEROFS__CHUNK_METHOD__CHUNK_TRUNCATE,
	  &zerofs__chunk_truncate_req__descriptor, chunk_truncate_cb },
};

static void *chunk_size_main(void *arg)
{
	struct chunk_svc *svc = arg;
	uint32_t cs;
	int rc, logged = 0;

	while (!atomic_load(&svc->stopping)) {
		rc = chunk_size_get(svc, svc->probe, &cs);
		if (rc == 0) {
			log_info("chunk: start: chunk size %u", cs);
			break;
		}
		if (!logged++)
			log_warn("chunk: start: statfs: %s; retrying",
				 strerror(-rc));
		usleep(CHUNK_PROBE_PAUSE_USEC);
	}
	return NULL;
}

/* A quarter of the configured memory cache, and never less than 64 MiB. */
static size_t chunk_cache_bytes(const struct config *cfg)
{
	double want = cfg->cache.memory_size_gb * (1ull << 30) / 4;

	return want < (double)CHUNK_CACHE_MIN ? CHUNK_CACHE_MIN : (size_t)want;
}

static int chunk_clients_open(struct chunk_svc *svc,
			      const struct service_endpoints *ep)
{
	int rc;

	rc = rpc_client_open(ep->metadata, &svc->meta);
	if (rc == 0)
		rc = rpc_client_open(ep->metadata, &svc->probe);
	if (rc == 0)
		rc = rpc_client_open(ep->flusher, &svc->flusher);
	if (rc == 0)
		rpc_client_set_timeout(svc->probe, CHUNK_PROBE_TIMEOUT);
	return rc;
}

static void chunk_svc_free(struct chunk_svc *svc)
{
	rpc_client_close(svc->flusher);
	rpc_client_close(svc->probe);
	rpc_client_close(svc->meta);
	cache_free(svc->cache);
	objstore_close(svc->os);
	stripes_fini(&svc->stripes);
	pthread_mutex_destroy(&svc->size_mu);
	free(svc);
}

int chunk_service_start(const struct config *cfg,
			const struct service_endpoints *ep, void **handle)
{
	struct chunk_svc *svc;
	int rc;

	svc = calloc(1, sizeof(*svc));
	if (svc == NULL)
		return -ENOMEM;
	pthread_mutex_init(&svc->size_mu, NULL);
	stripes_init(&svc->stripes);
	svc->cache = cache_new(chunk_cache_bytes(cfg));
	rc = svc->cache == NULL ? -ENOMEM : 0;
	if (rc == 0)
		rc = objstore_open(cfg->storage.url, &svc->os);
	if (rc == 0)
		rc = chunk_clients_open(svc, ep);
	if (rc < 0) {
		log_err("chunk: start: %s: %s", cfg->storage.url,
			strerror(-rc));
		goto free_svc;
	}
	rc = -pthread_create(&svc->size_thread, NULL, chunk_size_main, svc);
	if (rc < 0)
		goto free_svc;
	rc = rpc_server_start("chunk", ep->chunk, chunk_methods,
			      sizeof(chunk_methods) / sizeof(chunk_methods[0]),
			      svc, CHUNK_WORKERS, &svc->srv);
	if (rc < 0)
		goto join_size;
	*handle = svc;
	return 0;

join_size:
	atomic_store(&svc->stopping, 1);
	pthread_join(svc->size_thread, NULL);
free_svc:
	chunk_svc_free(svc);
	return rc;
}

/* Writes are acknowledged only after the flusher holds their frames and
 * the metadata service committed them, so stopping keeps nothing back. */
int chunk_service_stop(void *handle)
{
	struct chunk_svc *svc = handle;

	if (svc == NULL)
		return 0;
	rpc_server_stop(svc->srv);
	atomic_store(&svc->stopping, 1);
	pthread_join(svc->size_thread, NULL);
	chunk_svc_free(svc);
	return 0;
}
