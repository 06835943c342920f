/*
 * The chunk service's shared state and the steps its handlers share:
 * the chunk size, fetching a decoded chunk, and logging a failure.
 */
#ifndef ZEROFS_CHUNK_SVC_H
#define ZEROFS_CHUNK_SVC_H

#include "chunk.pb-c.h"
#include "chunk/cache.h"
#include "chunk/stripes.h"
#include "metadata.pb-c.h"
#include "objstore.h"
#include "rpc.h"

#include <pthread.h>
#include <stdatomic.h>

/* The most bytes one READ answers or one WRITE carries. */
#define CHUNK_MAX_IO (8u << 20)

struct chunk_svc {
	struct objstore *os;
	struct rpc_client *meta;
	struct rpc_client *probe; /* short timeout: the start-up STATFS */
	struct rpc_client *flusher;
	struct rpc_server *srv;
	struct cache *cache;
	struct stripes stripes;
	pthread_mutex_t size_mu;
	uint32_t chunk_size; /* 0 until the metadata service answered */
	pthread_t size_thread;
	atomic_int stopping;
	/* The newest flusher epoch an append answered with. */
	_Atomic uint32_t epoch_seen;
};

/* The filesystem's chunk size, asked of the metadata service once. */
int chunk_size_get(struct chunk_svc *svc, struct rpc_client *cli, uint32_t *cs);

/* Decodes the frame extent e points at into payload (cs bytes of room),
 * from the cache, the flusher, or the store. */
int chunk_fetch(struct chunk_svc *svc, uint64_t ino, const Zerofs__Extent *e,
		uint32_t cs, uint8_t *payload, uint32_t *len);

/* Appends a frame of payload and fills e (index set by the caller). */
int chunk_store(struct chunk_svc *svc, const uint8_t *payload, uint32_t len,
		Zerofs__Extent *e);

/* GET_EXTENTS for [first, first + count); reply owned by the caller. */
int chunk_extents_get(struct chunk_svc *svc, const Zerofs__Handle *fh,
		      uint64_t first, uint32_t count,
		      Zerofs__GetExtentsReply **rep, char *detail, size_t dlen);

/* The extent of chunk index in rep, or NULL for a hole. */
const Zerofs__Extent *chunk_extent_find(const Zerofs__GetExtentsReply *rep,
					uint64_t index);

/* Logs "chunk: call: object: reason" unless err is the caller's fault,
 * and records the detail for the reply.  Returns err. */
int chunk_fail(struct rpc_reply *out, const char *call, uint64_t ino, int err,
	       const char *detail);

int chunk_read_cb(void *arg, const ProtobufCMessage *msg,
		  struct rpc_reply *out);
int chunk_write_cb(void *arg, const ProtobufCMessage *msg,
		   struct rpc_reply *out);
int chunk_truncate_cb(void *arg, const ProtobufCMessage *msg,
		      struct rpc_reply *out);

#endif
