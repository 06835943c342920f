/*
 * CHUNK_TRUNCATE: set a file's size.  When the new end falls inside a
 * chunk whose payload reaches past it, the chunk is rewritten cut at the
 * end, so a later growth reads zeros there.  The stripes of every chunk
 * from the new end to the old end are held until META_TRUNCATE returns:
 * a partial write racing with the truncation cannot bring back bytes the
 * truncation dropped.
 */
#include "chunk/svc.h"

#include "chunk/span.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Tries again this many times when the file grew while the locks were
 * being taken. */
#define TRUNCATE_TRIES 8

struct chunk_trunc {
	struct chunk_svc *svc;
	const Zerofs__ChunkTruncateReq *req;
	uint32_t cs;
	Zerofs__Extent boundary;
	int has_boundary;
	char detail[160];
};

/* Cuts the boundary chunk's payload at the new end if it reaches past. */
static int chunk_trunc_cut(struct chunk_trunc *t,
			   const Zerofs__GetExtentsReply *ext)
{
	uint64_t index = t->req->size / t->cs;
	uint32_t tail = (uint32_t)(t->req->size % t->cs), len;
	const Zerofs__Extent *e;
	uint8_t *payload;
	int rc;

	e = tail != 0 ? chunk_extent_find(ext, index) : NULL;
	if (e == NULL)
		return 0;
	payload = malloc(t->cs);
	if (payload == NULL)
		return -ENOMEM;
	rc = chunk_fetch(t->svc, t->req->fh->ino, e, t->cs, payload, &len);
	if (rc == 0 && len > tail) {
		zerofs__extent__init(&t->boundary);
		rc = chunk_store(t->svc, payload, tail, &t->boundary);
		t->boundary.index = index;
		t->has_boundary = rc == 0;
	}
	free(payload);
	return rc;
}

static int chunk_trunc_commit(struct chunk_trunc *t,
			      Zerofs__TruncateReply **rep)
{
	Zerofs__TruncateReq req = ZEROFS__TRUNCATE_REQ__INIT;

	req.fh = t->req->fh;
	req.size = t->req->size;
	req.drop_from = span_chunks_for(t->req->size, t->cs);
	if (t->has_boundary)
		req.boundary = &t->boundary;
	return rpc_call(t->svc->meta, ZEROFS__META_METHOD__META_TRUNCATE,
			&req.base, &zerofs__truncate_reply__descriptor,
			(ProtobufCMessage **)rep, t->detail, sizeof(t->detail));
}

/* One try: lock [new end, hi) and, if the file still ends below hi, cut
 * and commit.  *hi is raised to the file's current end when it grew. */
static int chunk_trunc_try(struct chunk_trunc *t, uint64_t *hi,
			   Zerofs__TruncateReply **rep)
{
	uint64_t first = t->req->size / t->cs, now;
	struct stripe_set set = { { 0 } };
	Zerofs__GetExtentsReply *ext = NULL;
	int rc;

	stripe_set_add(&set, t->req->fh->ino, first, *hi - first);
	stripes_lock(&t->svc->stripes, &set);
	rc = chunk_extents_get(t->svc, t->req->fh, first, 1, &ext, t->detail,
			       sizeof(t->detail));
	if (rc < 0)
		goto unlock;
	now = span_chunks_for(ext->attr->size, t->cs);
	if (now > *hi) {
		*hi = now;
		rc = -EAGAIN;
		goto free_ext;
	}
	rc = chunk_trunc_cut(t, ext);
	if (rc == 0)
		rc = chunk_trunc_commit(t, rep);
free_ext:
	zerofs__get_extents_reply__free_unpacked(ext, NULL);
unlock:
	stripes_unlock(&t->svc->stripes, &set);
	return rc;
}

static int chunk_trunc_run(struct chunk_trunc *t, Zerofs__TruncateReply **rep)
{
	Zerofs__GetExtentsReply *ext = NULL;
	uint64_t first = t->req->size / t->cs, hi;
	int rc;

	rc = chunk_extents_get(t->svc, t->req->fh, first, 1, &ext, t->detail,
			       sizeof(t->detail));
	if (rc < 0)
		return rc;
	hi = span_chunks_for(ext->attr->size, t->cs);
	zerofs__get_extents_reply__free_unpacked(ext, NULL);
	if (hi <= first)
		hi = first + 1;
	for (int i = 0; i < TRUNCATE_TRIES; i++) {
		rc = chunk_trunc_try(t, &hi, rep);
		if (rc != -EAGAIN)
			break;
	}
	return rc;
}

int chunk_truncate_cb(void *arg, const ProtobufCMessage *msg,
		      struct rpc_reply *out)
{
	const Zerofs__ChunkTruncateReq *req =
	    (const Zerofs__ChunkTruncateReq *)msg;
	Zerofs__ChunkTruncateReply rep = ZEROFS__CHUNK_TRUNCATE_REPLY__INIT;
	struct chunk_trunc t = { .svc = arg, .req = req };
	Zerofs__TruncateReply *tr = NULL;
	int rc;

	if (req->fh == NULL)
		return rpc_reply_error(out, -EINVAL, "truncate: no handle");
	if (req->size > INT64_MAX)
		return rpc_reply_error(out, -EFBIG, "truncate: past 2^63");
	rc = chunk_size_get(t.svc, t.svc->meta, &t.cs);
	if (rc < 0)
		return chunk_fail(out, "truncate: statfs", req->fh->ino, rc,
				  NULL);
	rc = chunk_trunc_run(&t, &tr);
	cache_drop_from(t.svc->cache, req->fh->ino, req->size / t.cs);
	if (rc < 0)
		return chunk_fail(out, "truncate", req->fh->ino, rc, t.detail);
	rep.before = tr->before;
	rep.attr = tr->attr;
	rc = rpc_reply_pack(out, &rep.base);
	zerofs__truncate_reply__free_unpacked(tr, NULL);
	return rc;
}
