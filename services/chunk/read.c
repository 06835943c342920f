/*
 * CHUNK_READ: ask the metadata service where the chunks live, clamp to
 * the file size, and gather the bytes.  Holes and the part of a chunk past
 * its payload read as zeros without touching the store.
 */
#include "chunk/svc.h"

#include "chunk/span.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Fills data (n bytes from offset, zeroed by the caller) from the chunks
 * rep points at. */
static int chunk_read_gather(struct chunk_svc *svc, uint64_t ino,
			     const Zerofs__GetExtentsReply *rep,
			     uint64_t offset, uint32_t n, uint32_t cs,
			     uint8_t *data)
{
	uint64_t count = span_count(offset, n, cs);
	const Zerofs__Extent *e;
	uint8_t *payload;
	uint32_t plen;
	struct span s;
	int rc = 0;

	payload = malloc(cs);
	if (payload == NULL)
		return -ENOMEM;
	for (uint64_t i = 0; i < count && rc == 0; i++) {
		span_at(offset, n, cs, i, &s);
		e = chunk_extent_find(rep, s.index);
		if (e == NULL)
			continue;
		rc = chunk_fetch(svc, ino, e, cs, payload, &plen);
		if (rc == 0 && plen > s.off)
			memcpy(data + s.pos, payload + s.off,
			       plen - s.off < s.len ? plen - s.off : s.len);
	}
	free(payload);
	return rc;
}

int chunk_read_cb(void *arg, const ProtobufCMessage *msg, struct rpc_reply *out)
{
	const Zerofs__ReadReq *req = (const Zerofs__ReadReq *)msg;
	Zerofs__ReadReply rep = ZEROFS__READ_REPLY__INIT;
	struct chunk_svc *svc = arg;
	Zerofs__GetExtentsReply *ext = NULL;
	uint32_t cs, count, n;
	char detail[160] = "";
	uint8_t *data = NULL;
	int rc, eof;

	if (req->fh == NULL)
		return rpc_reply_error(out, -EINVAL, "read: no file handle");
	rc = chunk_size_get(svc, svc->meta, &cs);
	if (rc < 0)
		return chunk_fail(out, "read: statfs", req->fh->ino, rc, NULL);
	count = req->count < CHUNK_MAX_IO ? req->count : CHUNK_MAX_IO;
	/* No file reaches 2^63 bytes: from there on a read is at end of
	 * file, and asking for no bytes still answers size and eof. */
	if (req->offset > INT64_MAX)
		count = 0;
	rc = chunk_extents_get(svc, req->fh, req->offset / cs,
			       (uint32_t)span_count(req->offset, count, cs),
			       &ext, detail, sizeof(detail));
	if (rc < 0)
		return chunk_fail(out, "read: extents", req->fh->ino, rc,
				  detail);
	span_read_clamp(req->offset, count, ext->attr->size, &n, &eof);
	data = calloc(1, n ? n : 1);
	rc = data == NULL ? -ENOMEM : 0;
	if (rc == 0)
		rc = chunk_read_gather(svc, req->fh->ino, ext, req->offset, n,
				       cs, data);
	if (rc < 0) {
		rc = chunk_fail(out, "read: fetch", req->fh->ino, rc, NULL);
		goto free_data;
	}
	rep.data.data = data;
	rep.data.len = n;
	rep.eof = eof;
	rep.attr = ext->attr;
	rc = rpc_reply_pack(out, &rep.base);
free_data:
	free(data);
	zerofs__get_extents_reply__free_unpacked(ext, NULL);
	return rc;
}
