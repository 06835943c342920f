/*
 * NFSv3 procedures on file contents (RFC 1813 sections 3.3.5-3.3.7 and
 * 3.3.21): READLINK, READ, WRITE and COMMIT.  Data goes through the chunk
 * service; COMMIT is the metadata service's durability barrier.
 */
#include "nfs/nfs_gw.h"

#include <errno.h>

static int nfs_readlink_run(struct nfs_req *rq, const struct nfs_args *a,
			    struct nfs_res *r)
{
	Zerofs__ReadLinkReq req = ZEROFS__READ_LINK_REQ__INIT;
	Zerofs__ReadLinkReply *rep;
	Zerofs__Handle h;
	int rc;

	rc = nfs_fh_to_pb(&a->fh, &h);
	if (rc < 0)
		return rc;
	req.fh = &h;
	rc = nfs_meta_call(rq, r, ZEROFS__META_METHOD__META_READLINK, &req.base,
			   &zerofs__read_link_reply__descriptor, &rep);
	if (rc < 0)
		return rc;
	r->attr = rep->attr;
	r->target = rep->target ? rep->target : "";
	return 0;
}

static void nfs_readlink_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	nfs_post_op_attr_encode(e, r->attr);
	if (r->status == NFS3_OK)
		xdr_put_string(e, r->target);
}

const struct nfs_proc nfs_proc_readlink = {
	"READLINK",
	nfs_args_fh_decode,
	nfs_readlink_run,
	nfs_readlink_encode,
};

/* READ3args and COMMIT3args share one layout: file, offset, count. */
static bool nfs_fh_range_decode(struct xdr_dec *d, struct nfs_args *a)
{
	return nfs_fh_decode(d, &a->fh) && xdr_u64(d, &a->offset) &&
	       xdr_u32(d, &a->count);
}

static int nfs_read_run(struct nfs_req *rq, const struct nfs_args *a,
			struct nfs_res *r)
{
	Zerofs__ReadReq req = ZEROFS__READ_REQ__INIT;
	Zerofs__ReadReply *rep;
	Zerofs__Handle h;
	int rc;

	rc = nfs_fh_to_pb(&a->fh, &h);
	if (rc < 0)
		return rc;
	req.fh = &h;
	req.offset = a->offset;
	req.count = a->count < NFS_IO_MAX ? a->count : NFS_IO_MAX;
	rc = nfs_chunk_call(rq, r, ZEROFS__CHUNK_METHOD__CHUNK_READ, &req.base,
			    &zerofs__read_reply__descriptor, &rep);
	if (rc < 0)
		return rc;
	if (rep->data.len > req.count)
		return -EBADMSG;
	r->attr = rep->attr;
	r->data = rep->data.data;
	r->datalen = (uint32_t)rep->data.len;
	r->eof = rep->eof;
	return 0;
}

static void nfs_read_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	/* One allocation for the data rather than a doubling per step. */
	xdr_enc_reserve(e, 128 + xdr_opaque_size(r->datalen));
	nfs_post_op_attr_encode(e, r->attr);
	if (r->status != NFS3_OK)
		return;
	xdr_put_u32(e, r->datalen);
	xdr_put_bool(e, r->eof);
	xdr_put_opaque_var(e, r->data, r->datalen);
}

const struct nfs_proc nfs_proc_read = {
	"READ",
	nfs_fh_range_decode,
	nfs_read_run,
	nfs_read_encode,
};

/* Folds the flusher epoch that holds (WRITE) or covered (COMMIT) the data,
 * and the start of the metadata service that committed it, into the
 * gateway's verifier.  A flusher or metadata service that restarts loses
 * what it had not stored; the new epoch or start changes the verifier
 * COMMIT answers, and the client resends every write it had not seen
 * committed. */
static void nfs_verf_fold(uint8_t *verf, uint32_t epoch, uint32_t boot)
{
	uint64_t mix = (uint64_t)epoch * 0x9e3779b97f4a7c15ull ^
		       (uint64_t)boot * 0xc2b2ae3d27d4eb4full;

	for (int i = 0; i < NFS3_WRITEVERFSIZE; i++)
		verf[i] ^= (uint8_t)(mix >> (8 * i));
}

static bool nfs_write_decode(struct xdr_dec *d, struct nfs_args *a)
{
	return nfs_fh_decode(d, &a->fh) && xdr_u64(d, &a->offset) &&
	       xdr_u32(d, &a->count) && xdr_enum(d, &a->stable) &&
	       a->stable <= FILE_SYNC &&
	       xdr_opaque_var(d, NFS_IO_MAX, &a->data, &a->datalen);
}

static int nfs_write_run(struct nfs_req *rq, const struct nfs_args *a,
			 struct nfs_res *r)
{
	Zerofs__WriteReq req = ZEROFS__WRITE_REQ__INIT;
	Zerofs__WriteReply *rep;
	Zerofs__Handle h;
	int rc;

	rc = nfs_fh_to_pb(&a->fh, &h);
	if (rc < 0)
		return rc;
	if (a->count > a->datalen)
		return -EINVAL;
	if (a->offset > (uint64_t)INT64_MAX - a->count)
		return -EFBIG;
	req.fh = &h;
	req.offset = a->offset;
	req.data.data = (uint8_t *)a->data;
	req.data.len = a->count;
	req.stable = (Zerofs__Stable)a->stable;
	rc = nfs_chunk_call(rq, r, ZEROFS__CHUNK_METHOD__CHUNK_WRITE, &req.base,
			    &zerofs__write_reply__descriptor, &rep);
	if (rc < 0)
		return rc;
	r->before = rep->before;
	r->after = rep->attr;
	r->count = a->count;
	nfs_verf_fold(r->verf, rep->flusher_epoch, rep->meta_boot);
	r->committed = (uint32_t)rep->committed;
	if (r->committed < a->stable)
		r->committed = a->stable;
	return 0;
}

static void nfs_write_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	nfs_wcc_encode(e, r->before, r->after);
	if (r->status != NFS3_OK)
		return;
	xdr_put_u32(e, r->count);
	xdr_put_u32(e, r->committed);
	xdr_put_opaque_fixed(e, r->verf, NFS3_WRITEVERFSIZE);
}

const struct nfs_proc nfs_proc_write = {
	"WRITE",
	nfs_write_decode,
	nfs_write_run,
	nfs_write_encode,
};

static int nfs_commit_run(struct nfs_req *rq, const struct nfs_args *a,
			  struct nfs_res *r)
{
	Zerofs__FlushReq req = ZEROFS__FLUSH_REQ__INIT;
	Zerofs__FlushReply *rep;
	int rc;

	rc = nfs_getattr(rq, r, &a->fh, &r->before);
	if (rc < 0)
		return rc;
	r->after = r->before;
	rc = nfs_meta_call(rq, r, ZEROFS__META_METHOD__META_FLUSH, &req.base,
			   &zerofs__flush_reply__descriptor, &rep);
	if (rc == 0)
		nfs_verf_fold(r->verf, rep->flusher_epoch, rep->meta_boot);
	return rc;
}

static void nfs_commit_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	nfs_wcc_encode(e, r->before, r->after);
	if (r->status == NFS3_OK)
		xdr_put_opaque_fixed(e, r->verf, NFS3_WRITEVERFSIZE);
}

const struct nfs_proc nfs_proc_commit = {
	"COMMIT",
	nfs_fh_range_decode,
	nfs_commit_run,
	nfs_commit_encode,
};
