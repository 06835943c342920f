/*
 * Getting chunk frames in and out: the chunk size, fetching a decoded
 * chunk (cache, then the flusher's memory, then the store) and appending a
 * new frame to the flusher.
 */
#include "chunk/svc.h"

#include "chunk/frame.h"
#include "flusher.pb-c.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int chunk_size_get(struct chunk_svc *svc, struct rpc_client *cli, uint32_t *cs)
{
	Zerofs__StatFsReq req = ZEROFS__STAT_FS_REQ__INIT;
	Zerofs__StatFsReply *rep;
	int rc = 0;

	pthread_mutex_lock(&svc->size_mu);
	if (svc->chunk_size == 0) {
		rc = rpc_call(cli, ZEROFS__META_METHOD__META_STATFS, &req.base,
			      &zerofs__stat_fs_reply__descriptor,
			      (ProtobufCMessage **)&rep, NULL, 0);
		if (rc == 0 && rep->chunk_size == 0)
			rc = -EPROTO;
		if (rc == 0)
			svc->chunk_size = rep->chunk_size;
		if (rep != NULL)
			zerofs__stat_fs_reply__free_unpacked(rep, NULL);
	}
	*cs = svc->chunk_size;
	pthread_mutex_unlock(&svc->size_mu);
	return rc;
}

/* Reads the frame from the flusher, or from the store when the flusher
 * says the segment is already there. */
static int chunk_frame_load(struct chunk_svc *svc, const Zerofs__Extent *e,
			    uint8_t *frame)
{
	Zerofs__FrameReadReq req = ZEROFS__FRAME_READ_REQ__INIT;
	Zerofs__FrameReadReply *rep;
	char key[40];
	size_t got;
	int rc;

	req.segment = e->segment;
	req.offset = e->offset;
	req.length = e->length;
	rc = rpc_call(svc->flusher, ZEROFS__FLUSHER_METHOD__FLUSHER_READ,
		      &req.base, &zerofs__frame_read_reply__descriptor,
		      (ProtobufCMessage **)&rep, NULL, 0);
	if (rc == 0) {
		if (rep->data.len == e->length)
			memcpy(frame, rep->data.data, e->length);
		else
			rc = -EBADMSG;
		zerofs__frame_read_reply__free_unpacked(rep, NULL);
		return rc;
	}
	if (rc != -ENOENT)
		return rc;
	snprintf(key, sizeof(key), "segments/%016llx",
		 (unsigned long long)e->segment);
	rc =
	    objstore_get_range(svc->os, key, e->offset, e->length, frame, &got);
	if (rc == 0 && got != e->length)
		rc = -EIO; /* the segment is shorter than the extent says */
	/* An extent names a segment the store does not have: its flusher
	 * died before storing it.  That is lost data, not a missing file. */
	if (rc == -ENOENT) {
		log_err("chunk: read: %s: lost with its flusher", key);
		rc = -EIO;
	}
	return rc;
}

int chunk_fetch(struct chunk_svc *svc, uint64_t ino, const Zerofs__Extent *e,
		uint32_t cs, uint8_t *payload, uint32_t *len)
{
	struct cache_key key = { ino, e->index, e->segment, e->offset };
	uint8_t *frame;
	int rc;

	if (cache_get(svc->cache, &key, payload, cs, len) == 0)
		return 0;
	if (e->length < FRAME_HEADER_SIZE || e->length > frame_size_max(cs))
		return -EBADMSG;
	frame = malloc(e->length);
	if (frame == NULL)
		return -ENOMEM;
	rc = chunk_frame_load(svc, e, frame);
	if (rc == 0)
		rc = frame_decode(frame, e->length, cs, payload, len);
	if (rc == 0)
		cache_put(svc->cache, &key, payload, *len);
	free(frame);
	return rc;
}

int chunk_store(struct chunk_svc *svc, const uint8_t *payload, uint32_t len,
		Zerofs__Extent *e)
{
	Zerofs__AppendReq req = ZEROFS__APPEND_REQ__INIT;
	Zerofs__AppendReply *rep;
	uint8_t *frame;
	size_t flen;
	int rc;

	rc = frame_encode(payload, len, &frame, &flen);
	if (rc < 0)
		return rc;
	req.frame.data = frame;
	req.frame.len = flen;
	rc = rpc_call(svc->flusher, ZEROFS__FLUSHER_METHOD__FLUSHER_APPEND,
		      &req.base, &zerofs__append_reply__descriptor,
		      (ProtobufCMessage **)&rep, NULL, 0);
	free(frame);
	if (rc < 0)
		return rc;
	e->segment = rep->segment;
	e->offset = rep->offset;
	e->length = rep->length;
	if ((uint32_t)(rep->segment >> 32) > atomic_load(&svc->epoch_seen))
		atomic_store(&svc->epoch_seen, (uint32_t)(rep->segment >> 32));
	if (rep->length != flen)
		rc = -EPROTO;
	zerofs__append_reply__free_unpacked(rep, NULL);
	return rc;
}

int chunk_extents_get(struct chunk_svc *svc, const Zerofs__Handle *fh,
		      uint64_t first, uint32_t count,
		      Zerofs__GetExtentsReply **rep, char *detail, size_t dlen)
{
	Zerofs__GetExtentsReq req = ZEROFS__GET_EXTENTS_REQ__INIT;
	int rc;

	req.fh = (Zerofs__Handle *)fh;
	req.first = first;
	req.count = count;
	rc = rpc_call(svc->meta, ZEROFS__META_METHOD__META_GET_EXTENTS,
		      &req.base, &zerofs__get_extents_reply__descriptor,
		      (ProtobufCMessage **)rep, detail, dlen);
	if (rc == 0 && (*rep)->attr == NULL) {
		zerofs__get_extents_reply__free_unpacked(*rep, NULL);
		*rep = NULL;
		snprintf(detail, dlen, "extents without attributes");
		rc = -EPROTO;
	}
	return rc;
}

const Zerofs__Extent *chunk_extent_find(const Zerofs__GetExtentsReply *rep,
					uint64_t index)
{
	for (size_t i = 0; i < rep->n_extents; i++)
		if (rep->extents[i]->index == index)
			return rep->extents[i];
	return NULL;
}

int chunk_fail(struct rpc_reply *out, const char *call, uint64_t ino, int err,
	       const char *detail)
{
	const char *why = detail != NULL && detail[0] ? detail : strerror(-err);

	/* A stale handle or a missing file is the client's news, not ours. */
	if (err != -ESTALE && err != -ENOENT && err != -EINVAL &&
	    err != -EISDIR && err != -EFBIG)
		log_err("chunk: %s: ino %llu: %s", call,
			(unsigned long long)ino, why);
	return rpc_reply_error(out, err, "%s", why);
}
