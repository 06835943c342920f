/*
 * The metadata service's running state, shared by its start/stop code
 * (meta_server.c) and its RPC handlers (meta_handlers.c).
 */
#ifndef ZEROFS_META_SERVER_H
#define ZEROFS_META_SERVER_H

#include "kv.h"
#include "meta_fs.h"
#include "metadata.pb-c.h"
#include "rpc.h"

#include <pthread.h>
#include <stdatomic.h>

#define META_WORKERS 16

struct meta_service {
	struct objstore *os;
	struct kv *kv;
	struct meta_fs *fs;
	struct rpc_client *flusher;
	struct rpc_server *srv;

	pthread_t sync_thread;
	int sync_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping;
	double interval_secs;
	/* The newest flusher epoch a barrier answered with; 0 before any. */
	_Atomic uint32_t flusher_epoch;
	_Atomic int fenced_stop; /* the stop a fence asked for, once */
	/* Random at each start: what this start accepted but did not store
	 * dies with it, and callers learn that from a changed value. */
	uint32_t boot;
};

/* One handler per META_* method, indexed by method number. */
extern const struct rpc_method meta_methods[];
extern const size_t meta_nmethods;

/* Helpers of the handlers.  meta_attr_out fills a (owned by the caller)
 * and returns it; meta_handle_in fails with -EINVAL on a missing handle;
 * meta_fail records the detail and returns rc. */
Zerofs__Attr *meta_attr_out(const struct meta_inode *in, Zerofs__Attr *a);
int meta_handle_in(const Zerofs__Handle *fh, struct meta_handle *h);
int meta_fail(struct rpc_reply *out, int rc, const char *call, const char *obj);

/* Handlers, for the method table. */
int meta_h_getattr(void *arg, const ProtobufCMessage *m, struct rpc_reply *out);
int meta_h_setattr(void *arg, const ProtobufCMessage *m, struct rpc_reply *out);
int meta_h_lookup(void *arg, const ProtobufCMessage *m, struct rpc_reply *out);
int meta_h_create(void *arg, const ProtobufCMessage *m, struct rpc_reply *out);
int meta_h_remove(void *arg, const ProtobufCMessage *m, struct rpc_reply *out);
int meta_h_rename(void *arg, const ProtobufCMessage *m, struct rpc_reply *out);
int meta_h_link(void *arg, const ProtobufCMessage *m, struct rpc_reply *out);
int meta_h_readlink(void *arg, const ProtobufCMessage *m,
		    struct rpc_reply *out);

/* The durability barrier: flusher first, then the WAL.  *seq gets the
 * last durable sequence number and *flusher_epoch the epoch of the flusher
 * that covered it (either may be NULL). */
int meta_service_flush(struct meta_service *svc, uint64_t *seq,
		       uint32_t *flusher_epoch);

#endif
