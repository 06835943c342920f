/*
 * CHUNK_WRITE: under the stripe locks of the touched chunks, build one
 * frame per chunk (merging a partial chunk with its old bytes), append
 * them to the flusher, and commit them with one META_COMMIT_WRITE.  The
 * locks stay held until the commit returns, so two partial writes to one
 * chunk never lose each other's bytes.  A stable write then runs the
 * metadata barrier.
 *
 * The reply names the oldest flusher epoch that holds the write's frames.
 * If the flusher restarts before it stores them they are gone; the
 * barrier then reports a newer epoch, and a stable write is done again
 * rather than acknowledged as durable.
 */
#include "chunk/svc.h"

#include "chunk/span.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct chunk_write {
	struct chunk_svc *svc;
	const Zerofs__WriteReq *req;
	uint32_t cs;
	Zerofs__GetExtentsReply *old; /* only when a chunk is partial */
	Zerofs__Extent *ext;
	Zerofs__Extent **extp;
	uint64_t n;
	uint8_t *buf;	/* cs bytes for merging a partial chunk */
	uint32_t epoch; /* oldest flusher epoch of the frames appended */
	uint32_t boot;	/* the metadata service's start that committed */
	char detail[160];
};

/* Attempts at a stable write whose frames a restarting flusher lost. */
#define CHUNK_WRITE_TRIES 3

/* The payload of chunk s after the write: the request's bytes for a whole
 * chunk, else the old payload with the new bytes laid over it. */
static int chunk_write_payload(struct chunk_write *w, const struct span *s,
			       const uint8_t **payload, uint32_t *len)
{
	const Zerofs__Extent *e;
	uint32_t old_len = 0;
	int rc;

	if (s->off == 0 && s->len == w->cs) {
		*payload = w->req->data.data + s->pos;
		*len = w->cs;
		return 0;
	}
	e = w->old != NULL ? chunk_extent_find(w->old, s->index) : NULL;
	if (e != NULL) {
		rc = chunk_fetch(w->svc, w->req->fh->ino, e, w->cs, w->buf,
				 &old_len);
		if (rc < 0)
			return rc;
	}
	memset(w->buf + old_len, 0, w->cs - old_len);
	memcpy(w->buf + s->off, w->req->data.data + s->pos, s->len);
	*payload = w->buf;
	*len = s->off + s->len > old_len ? s->off + s->len : old_len;
	return 0;
}

static int chunk_write_frames(struct chunk_write *w)
{
	struct cache_key key = { .ino = w->req->fh->ino };
	const uint8_t *payload;
	struct span s;
	uint32_t len;
	int rc;

	for (uint64_t i = 0; i < w->n; i++) {
		span_at(w->req->offset, w->req->data.len, w->cs, i, &s);
		rc = chunk_write_payload(w, &s, &payload, &len);
		if (rc == 0)
			rc = chunk_store(w->svc, payload, len, &w->ext[i]);
		if (rc < 0)
			return rc;
		w->ext[i].index = s.index;
		w->extp[i] = &w->ext[i];
		if (i == 0 || (uint32_t)(w->ext[i].segment >> 32) < w->epoch)
			w->epoch = (uint32_t)(w->ext[i].segment >> 32);
		/* Keyed by the new frame: until the commit lands no extent
		 * names it, so no reader can be served it early. */
		key.index = s.index;
		key.segment = w->ext[i].segment;
		key.offset = w->ext[i].offset;
		cache_put(w->svc->cache, &key, payload, len);
	}
	return 0;
}

static int chunk_write_commit(struct chunk_write *w,
			      Zerofs__CommitWriteReply **rep)
{
	Zerofs__CommitWriteReq req = ZEROFS__COMMIT_WRITE_REQ__INIT;

	req.fh = w->req->fh;
	req.extents = w->extp;
	req.n_extents = w->n;
	req.end = w->req->offset + w->req->data.len;
	return rpc_call(w->svc->meta, ZEROFS__META_METHOD__META_COMMIT_WRITE,
			&req.base, &zerofs__commit_write_reply__descriptor,
			(ProtobufCMessage **)rep, w->detail, sizeof(w->detail));
}

/* Runs with the stripes held. */
static int chunk_write_locked(struct chunk_write *w,
			      Zerofs__CommitWriteReply **rep)
{
	const Zerofs__WriteReq *req = w->req;
	int partial = req->offset % w->cs != 0 ||
		      (req->offset + req->data.len) % w->cs != 0;
	int rc = 0;

	if (partial)
		rc = chunk_extents_get(w->svc, req->fh, req->offset / w->cs,
				       (uint32_t)w->n, &w->old, w->detail,
				       sizeof(w->detail));
	if (rc == 0)
		rc = chunk_write_frames(w);
	if (rc == 0)
		rc = chunk_write_commit(w, rep);
	return rc;
}

/* The barrier; *epoch gets the epoch of the flusher that covered it and
 * *boot the metadata service's start that made it durable. */
static int chunk_write_flush(struct chunk_svc *svc, uint32_t *epoch,
			     uint32_t *boot, char *detail, size_t dlen)
{
	Zerofs__FlushReq req = ZEROFS__FLUSH_REQ__INIT;
	Zerofs__FlushReply *rep;
	int rc;

	rc = rpc_call(svc->meta, ZEROFS__META_METHOD__META_FLUSH, &req.base,
		      &zerofs__flush_reply__descriptor,
		      (ProtobufCMessage **)&rep, detail, dlen);
	if (rc == 0) {
		*epoch = rep->flusher_epoch;
		*boot = rep->meta_boot;
		zerofs__flush_reply__free_unpacked(rep, NULL);
	}
	return rc;
}

/* A write of no bytes changes nothing: it answers the attributes. */
static int chunk_write_empty(struct chunk_write *w,
			     Zerofs__CommitWriteReply **rep)
{
	Zerofs__GetAttrReq req = ZEROFS__GET_ATTR_REQ__INIT;
	Zerofs__GetAttrReply *ga;
	int rc;

	req.fh = w->req->fh;
	rc = rpc_call(w->svc->meta, ZEROFS__META_METHOD__META_GETATTR,
		      &req.base, &zerofs__get_attr_reply__descriptor,
		      (ProtobufCMessage **)&ga, w->detail, sizeof(w->detail));
	if (rc < 0)
		return rc;
	*rep = calloc(1, sizeof(**rep));
	if (*rep == NULL) {
		zerofs__get_attr_reply__free_unpacked(ga, NULL);
		return -ENOMEM;
	}
	zerofs__commit_write_reply__init(*rep);
	(*rep)->attr = ga->attr; /* moved: freed with *rep below */
	ga->attr = NULL;
	zerofs__get_attr_reply__free_unpacked(ga, NULL);
	return 0;
}

static int chunk_write_run(struct chunk_write *w,
			   Zerofs__CommitWriteReply **rep)
{
	struct stripe_set set = { { 0 } };
	int rc;

	if (w->n == 0) {
		w->epoch = atomic_load(&w->svc->epoch_seen);
		return chunk_write_empty(w, rep);
	}
	w->ext = calloc(w->n, sizeof(*w->ext));
	w->extp = calloc(w->n, sizeof(*w->extp));
	w->buf = malloc(w->cs);
	if (w->ext == NULL || w->extp == NULL || w->buf == NULL)
		return -ENOMEM;
	for (uint64_t i = 0; i < w->n; i++)
		zerofs__extent__init(&w->ext[i]);
	stripe_set_add(&set, w->req->fh->ino, w->req->offset / w->cs, w->n);
	stripes_lock(&w->svc->stripes, &set);
	rc = chunk_write_locked(w, rep);
	stripes_unlock(&w->svc->stripes, &set);
	return rc;
}

static void chunk_write_reset(struct chunk_write *w)
{
	if (w->old != NULL)
		zerofs__get_extents_reply__free_unpacked(w->old, NULL);
	free(w->ext);
	free(w->extp);
	free(w->buf);
	w->old = NULL;
	w->ext = NULL;
	w->extp = NULL;
	w->buf = NULL;
}

/* One attempt: write, then for a stable write the barrier.  Returns 1
 * when the barrier stood on a newer flusher than the one holding the
 * frames, or on a newer start of the metadata service than the one that
 * committed them: the write may be lost and must be done again. */
static int chunk_write_try(struct chunk_write *w, Zerofs__CommitWriteReply **cr)
{
	uint32_t epoch = 0, boot = 0;
	int rc;

	rc = chunk_write_run(w, cr);
	if (rc < 0)
		return rc;
	w->boot = (*cr)->meta_boot;
	if (w->req->stable == ZEROFS__STABLE__UNSTABLE)
		return 0;
	rc = chunk_write_flush(w->svc, &epoch, &boot, w->detail,
			       sizeof(w->detail));
	if (rc < 0)
		return rc;
	if (w->n == 0)
		w->boot = boot;
	return boot != w->boot || (w->n > 0 && epoch != w->epoch);
}

static int chunk_write_do(struct chunk_write *w, Zerofs__CommitWriteReply **cr)
{
	int rc = 1;

	for (int i = 0; i < CHUNK_WRITE_TRIES && rc == 1; i++) {
		if (*cr != NULL)
			zerofs__commit_write_reply__free_unpacked(*cr, NULL);
		*cr = NULL;
		chunk_write_reset(w);
		rc = chunk_write_try(w, cr);
	}
	if (rc == 1) {
		snprintf(w->detail, sizeof(w->detail),
			 "the flusher or metadata service restarted %d times "
			 "during the write",
			 CHUNK_WRITE_TRIES);
		rc = -EIO;
	}
	return rc;
}

static int chunk_write_reply(struct chunk_write *w,
			     Zerofs__CommitWriteReply *cr,
			     struct rpc_reply *out)
{
	Zerofs__WriteReply rep = ZEROFS__WRITE_REPLY__INIT;

	rep.committed = w->req->stable == ZEROFS__STABLE__UNSTABLE
			    ? ZEROFS__STABLE__UNSTABLE
			    : ZEROFS__STABLE__FILE_SYNC;
	rep.before = cr->before;
	rep.attr = cr->attr;
	rep.flusher_epoch = w->epoch;
	rep.meta_boot = w->boot;
	return rpc_reply_pack(out, &rep.base);
}

int chunk_write_cb(void *arg, const ProtobufCMessage *msg,
		   struct rpc_reply *out)
{
	const Zerofs__WriteReq *req = (const Zerofs__WriteReq *)msg;
	struct chunk_write w = { .svc = arg, .req = req };
	Zerofs__CommitWriteReply *cr = NULL;
	int rc;

	if (req->fh == NULL)
		return rpc_reply_error(out, -EINVAL, "write: no file handle");
	if (req->data.len > CHUNK_MAX_IO)
		return rpc_reply_error(out, -EINVAL, "write: %zu bytes",
				       req->data.len);
	if (req->offset > INT64_MAX - req->data.len)
		return rpc_reply_error(out, -EFBIG, "write: past 2^63 bytes");
	rc = chunk_size_get(w.svc, w.svc->meta, &w.cs);
	if (rc < 0)
		return chunk_fail(out, "write: statfs", req->fh->ino, rc, NULL);
	w.n = span_count(req->offset, req->data.len, w.cs);
	rc = chunk_write_do(&w, &cr);
	if (rc < 0)
		rc = chunk_fail(out, "write", req->fh->ino, rc, w.detail);
	else
		rc = chunk_write_reply(&w, cr, out);
	if (cr != NULL)
		zerofs__commit_write_reply__free_unpacked(cr, NULL);
	chunk_write_reset(&w);
	return rc;
}
