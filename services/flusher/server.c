/*
 * The flusher service: the rpc face of the engine.  Each method decodes
 * its request, calls the engine and packs the reply; the engine does the
 * work and keeps the state.
 */
#include "flusher/flusher.h"

#include "flusher.pb-c.h"
#include "flusher/engine.h"
#include "log.h"
#include "rpc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FLUSHER_WORKERS 16

struct flusher_service {
	struct objstore *os;
	struct engine *eng;
	struct rpc_server *srv;
};

static int flusher_append_cb(void *arg, const ProtobufCMessage *msg,
			     struct rpc_reply *out)
{
	const Zerofs__AppendReq *req = (const Zerofs__AppendReq *)msg;
	Zerofs__AppendReply rep = ZEROFS__APPEND_REPLY__INIT;
	struct flusher_service *fs = arg;
	int rc;

	if (req->frame.len == 0 || req->frame.len > UINT32_MAX)
		return rpc_reply_error(out, -EINVAL, "frame of %zu bytes",
				       req->frame.len);
	rc = engine_append(fs->eng, req->frame.data, (uint32_t)req->frame.len,
			   &rep.segment, &rep.offset);
	if (rc < 0) {
		log_err("flusher: append: frame of %zu bytes: %s",
			req->frame.len, strerror(-rc));
		return rpc_reply_error(out, rc, "append: %s", strerror(-rc));
	}
	rep.length = (uint32_t)req->frame.len;
	return rpc_reply_pack(out, &rep.base);
}

static int flusher_read_cb(void *arg, const ProtobufCMessage *msg,
			   struct rpc_reply *out)
{
	const Zerofs__FrameReadReq *req = (const Zerofs__FrameReadReq *)msg;
	Zerofs__FrameReadReply rep = ZEROFS__FRAME_READ_REPLY__INIT;
	struct flusher_service *fs = arg;
	uint8_t *buf;
	int rc;

	if (req->length == 0 || req->length > RPC_MAX_MSG / 2)
		return rpc_reply_error(out, -EINVAL, "frame of %u bytes",
				       req->length);
	buf = malloc(req->length);
	if (buf == NULL)
		return rpc_reply_error(out, -ENOMEM, "no memory");
	rc = engine_read(fs->eng, req->segment, req->offset, req->length, buf);
	if (rc == 0) {
		rep.data.data = buf;
		rep.data.len = req->length;
		rc = rpc_reply_pack(out, &rep.base);
	} else {
		rc = rpc_reply_error(out, rc, "segment %016llx at %u+%u: %s",
				     (unsigned long long)req->segment,
				     req->offset, req->length, strerror(-rc));
	}
	free(buf);
	return rc;
}

static int flusher_barrier_cb(void *arg, const ProtobufCMessage *msg,
			      struct rpc_reply *out)
{
	Zerofs__BarrierReply rep = ZEROFS__BARRIER_REPLY__INIT;
	struct flusher_service *fs = arg;
	int rc;

	(void)msg;
	rep.epoch = engine_epoch(fs->eng);
	rc = engine_barrier(fs->eng, &rep.durable_below);
	if (rc < 0) {
		log_err("flusher: barrier: segments: %s", strerror(-rc));
		return rpc_reply_error(out, rc, "barrier: %s", strerror(-rc));
	}
	return rpc_reply_pack(out, &rep.base);
}

static const struct rpc_method flusher_methods[] = {
	{ ZEROFS__FLUSHER_METHOD__FLUSHER_APPEND,
	  &zerofs__append_req__descriptor, flusher_append_cb },
	{ ZEROFS__FLUSHER_METHOD__FLUSHER_READ,
	  &zerofs__frame_read_req__descriptor, flusher_read_cb },
	{ ZEROFS__FLUSHER_METHOD__FLUSHER_BARRIER,
	  &zerofs__barrier_req__descriptor, flusher_barrier_cb },
};

int flusher_service_start(const struct config *cfg,
			  const struct service_endpoints *ep, void **handle)
{
	struct flusher_service *fs;
	struct engine_opts opts;
	int rc;

	fs = calloc(1, sizeof(*fs));
	if (fs == NULL)
		return -ENOMEM;
	rc = objstore_open(cfg->storage.url, &fs->os);
	if (rc < 0) {
		log_err("flusher: start: %s: %s", cfg->storage.url,
			strerror(-rc));
		goto free_fs;
	}
	engine_opts_default(&opts);
	rc = engine_open(fs->os, &opts, &fs->eng);
	if (rc < 0) {
		log_err("flusher: start: epoch: %s", strerror(-rc));
		goto close_os;
	}
	rc = rpc_server_start("flusher", ep->flusher, flusher_methods,
			      sizeof(flusher_methods) /
				  sizeof(flusher_methods[0]),
			      fs, FLUSHER_WORKERS, &fs->srv);
	if (rc < 0)
		goto close_eng;
	log_info("flusher: start: epoch %u", engine_epoch(fs->eng));
	*handle = fs;
	return 0;

close_eng:
	engine_close(fs->eng);
close_os:
	objstore_close(fs->os);
free_fs:
	free(fs);
	return rc;
}

int flusher_service_stop(void *handle)
{
	struct flusher_service *fs = handle;
	int rc;

	if (fs == NULL)
		return 0;
	rpc_server_stop(fs->srv);
	rc = engine_close(fs->eng);
	objstore_close(fs->os);
	free(fs);
	return rc;
}
