/*
 * NFSv3 procedures on attributes and on the filesystem as a whole
 * (RFC 1813 sections 3.3.0-3.3.2, 3.3.4 and 3.3.18-3.3.20): NULL,
 * GETATTR, SETATTR, ACCESS, FSSTAT, FSINFO and PATHCONF.
 */
#include "nfs/nfs_gw.h"

#include <errno.h>

static int nfs_null_run(struct nfs_req *rq, const struct nfs_args *a,
			struct nfs_res *r)
{
	(void)rq;
	(void)a;
	(void)r;
	return 0;
}

const struct nfs_proc nfs_proc_null = {
	"NULL",
	nfs_args_void_decode,
	nfs_null_run,
	nfs_res_void_encode,
};

static int nfs_getattr_run(struct nfs_req *rq, const struct nfs_args *a,
			   struct nfs_res *r)
{
	return nfs_getattr(rq, r, &a->fh, &r->attr);
}

static void nfs_getattr_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	if (r->status == NFS3_OK)
		nfs_fattr_encode(e, r->attr);
}

const struct nfs_proc nfs_proc_getattr = {
	"GETATTR",
	nfs_args_fh_decode,
	nfs_getattr_run,
	nfs_getattr_encode,
};

static bool nfs_setattr_decode(struct xdr_dec *d, struct nfs_args *a)
{
	return nfs_fh_decode(d, &a->fh) && nfs_sattr_decode(d, &a->sattr) &&
	       xdr_bool(d, &a->guard) &&
	       (!a->guard || (xdr_u32(d, &a->guard_ctime.sec) &&
			      xdr_u32(d, &a->guard_ctime.nsec)));
}

/* The guard when the size changes too: the chunk service takes no guard,
 * so the ctime is compared here first. */
static int nfs_guard_check(struct nfs_req *rq, const struct nfs_args *a,
			   struct nfs_res *r)
{
	const Zerofs__Attr *attr;
	int rc;

	rc = nfs_getattr(rq, r, &a->fh, &attr);
	if (rc < 0)
		return rc;
	r->before = r->after = attr;
	if ((uint32_t)attr->ctime_sec != a->guard_ctime.sec ||
	    attr->ctime_nsec != a->guard_ctime.nsec)
		return -EAGAIN;
	return 0;
}

static int nfs_size_set(struct nfs_req *rq, const struct nfs_args *a,
			struct nfs_res *r)
{
	Zerofs__ChunkTruncateReq req = ZEROFS__CHUNK_TRUNCATE_REQ__INIT;
	Zerofs__ChunkTruncateReply *rep;
	Zerofs__Handle h;
	int rc;

	rc = nfs_fh_to_pb(&a->fh, &h);
	if (rc < 0)
		return rc;
	req.fh = &h;
	req.size = a->sattr.size;
	rc = nfs_chunk_call(rq, r, ZEROFS__CHUNK_METHOD__CHUNK_TRUNCATE,
			    &req.base,
			    &zerofs__chunk_truncate_reply__descriptor, &rep);
	if (rc < 0)
		return rc;
	if (r->before == NULL)
		r->before = rep->before;
	r->after = rep->attr;
	return 0;
}

static uint32_t nfs_sattr_valid(const struct nfs_sattr *s,
				Zerofs__SetAttrReq *req)
{
	uint32_t v = 0;

	v |= s->set_mode ? ZEROFS__SET_ATTR_BIT__SA_MODE : 0;
	v |= s->set_uid ? ZEROFS__SET_ATTR_BIT__SA_UID : 0;
	v |= s->set_gid ? ZEROFS__SET_ATTR_BIT__SA_GID : 0;
	if (s->atime_how == SET_TO_SERVER_TIME)
		v |= ZEROFS__SET_ATTR_BIT__SA_ATIME_NOW;
	if (s->atime_how == SET_TO_CLIENT_TIME)
		v |= ZEROFS__SET_ATTR_BIT__SA_ATIME;
	if (s->mtime_how == SET_TO_SERVER_TIME)
		v |= ZEROFS__SET_ATTR_BIT__SA_MTIME_NOW;
	if (s->mtime_how == SET_TO_CLIENT_TIME)
		v |= ZEROFS__SET_ATTR_BIT__SA_MTIME;
	req->mode = s->mode & 07777;
	req->uid = s->uid;
	req->gid = s->gid;
	req->atime_sec = s->atime.sec;
	req->atime_nsec = s->atime.nsec;
	req->mtime_sec = s->mtime.sec;
	req->mtime_nsec = s->mtime.nsec;
	return v;
}

static int nfs_meta_setattr(struct nfs_req *rq, const struct nfs_args *a,
			    bool guard, struct nfs_res *r)
{
	Zerofs__SetAttrReq req = ZEROFS__SET_ATTR_REQ__INIT;
	Zerofs__SetAttrReply *rep;
	Zerofs__Handle h;
	int rc;

	rc = nfs_fh_to_pb(&a->fh, &h);
	if (rc < 0)
		return rc;
	req.fh = &h;
	req.valid = nfs_sattr_valid(&a->sattr, &req);
	req.guard = guard;
	req.guard_ctime_sec = a->guard_ctime.sec;
	req.guard_ctime_nsec = a->guard_ctime.nsec;
	rc = nfs_meta_call(rq, r, ZEROFS__META_METHOD__META_SETATTR, &req.base,
			   &zerofs__set_attr_reply__descriptor, &rep);
	if (rc < 0)
		return rc;
	if (r->before == NULL)
		r->before = rep->before;
	r->after = rep->attr;
	return 0;
}

static int nfs_setattr_run(struct nfs_req *rq, const struct nfs_args *a,
			   struct nfs_res *r)
{
	const struct nfs_sattr *s = &a->sattr;
	bool other = s->set_mode || s->set_uid || s->set_gid ||
		     s->atime_how != DONT_CHANGE || s->mtime_how != DONT_CHANGE;
	int rc;

	if (!a->fh.valid)
		return -EBADF;
	if (s->set_size && a->guard) {
		rc = nfs_guard_check(rq, a, r);
		if (rc < 0)
			return rc;
	}
	if (s->set_size) {
		rc = nfs_size_set(rq, a, r);
		if (rc < 0)
			return rc;
	}
	if (other || !s->set_size)
		return nfs_meta_setattr(rq, a, a->guard && !s->set_size, r);
	return 0;
}

static void nfs_setattr_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	nfs_wcc_encode(e, r->before, r->after);
}

const struct nfs_proc nfs_proc_setattr = {
	"SETATTR",
	nfs_setattr_decode,
	nfs_setattr_run,
	nfs_setattr_encode,
};

/* Owner, group or other: the class of mode bits that applies. */
static uint32_t nfs_access_class(const Zerofs__Attr *a,
				 const struct oncrpc_cred *c)
{
	uint32_t i;

	if (c->uid == a->uid)
		return (a->mode >> 6) & 7;
	if (c->gid == a->gid)
		return (a->mode >> 3) & 7;
	for (i = 0; i < c->ngids && i < RPC_AUTH_GIDS_MAX; i++)
		if (c->gids[i] == a->gid)
			return (a->mode >> 3) & 7;
	return a->mode & 7;
}

uint32_t nfs_access_compute(const Zerofs__Attr *a, const struct oncrpc_cred *c,
			    uint32_t want)
{
	bool dir = a->type == ZEROFS__FILE_TYPE__FT_DIR;
	uint32_t perm, got = 0;

	if (c->uid == 0) {
		got = ACCESS3_READ | ACCESS3_LOOKUP | ACCESS3_MODIFY |
		      ACCESS3_EXTEND | ACCESS3_DELETE | ACCESS3_EXECUTE;
		if (!dir && (a->mode & 0111) == 0)
			got &= ~(uint32_t)ACCESS3_EXECUTE;
		return want & got;
	}
	perm = nfs_access_class(a, c);
	if (perm & 4)
		got |= ACCESS3_READ;
	if (perm & 2)
		got |= ACCESS3_MODIFY | ACCESS3_EXTEND |
		       (dir ? ACCESS3_DELETE : 0);
	if (perm & 1)
		got |= dir ? ACCESS3_LOOKUP : ACCESS3_EXECUTE;
	return want & got;
}

static bool nfs_access_decode(struct xdr_dec *d, struct nfs_args *a)
{
	return nfs_fh_decode(d, &a->fh) && xdr_u32(d, &a->access);
}

static int nfs_access_run(struct nfs_req *rq, const struct nfs_args *a,
			  struct nfs_res *r)
{
	int rc;

	rc = nfs_getattr(rq, r, &a->fh, &r->attr);
	if (rc < 0)
		return rc;
	r->access = nfs_access_compute(r->attr, &rq->call->cred, a->access);
	return 0;
}

static void nfs_access_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	nfs_post_op_attr_encode(e, r->attr);
	if (r->status == NFS3_OK)
		xdr_put_u32(e, r->access);
}

const struct nfs_proc nfs_proc_access = {
	"ACCESS",
	nfs_access_decode,
	nfs_access_run,
	nfs_access_encode,
};

static int nfs_fsstat_run(struct nfs_req *rq, const struct nfs_args *a,
			  struct nfs_res *r)
{
	Zerofs__StatFsReq req = ZEROFS__STAT_FS_REQ__INIT;
	Zerofs__StatFsReply *rep;
	Zerofs__Handle h;
	int rc;

	rc = nfs_fh_to_pb(&a->fh, &h);
	if (rc < 0)
		return rc;
	req.fh = &h;
	rc = nfs_meta_call(rq, r, ZEROFS__META_METHOD__META_STATFS, &req.base,
			   &zerofs__stat_fs_reply__descriptor, &rep);
	if (rc < 0)
		return rc;
	r->statfs = rep;
	r->attr = rep->attr;
	return 0;
}

static void nfs_fsstat_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	const Zerofs__StatFsReply *s = r->statfs;

	nfs_post_op_attr_encode(e, r->attr);
	if (r->status != NFS3_OK)
		return;
	xdr_put_u64(e, s->total_bytes);
	xdr_put_u64(e, s->free_bytes);
	xdr_put_u64(e, s->free_bytes); /* abytes: no reserved space */
	xdr_put_u64(e, s->total_files);
	xdr_put_u64(e, s->free_files);
	xdr_put_u64(e, s->free_files);
	xdr_put_u32(e, 0); /* invarsec: the numbers change at any time */
}

const struct nfs_proc nfs_proc_fsstat = {
	"FSSTAT",
	nfs_args_fh_decode,
	nfs_fsstat_run,
	nfs_fsstat_encode,
};

static int nfs_fsinfo_run(struct nfs_req *rq, const struct nfs_args *a,
			  struct nfs_res *r)
{
	return nfs_getattr(rq, r, &a->fh, &r->attr);
}

static void nfs_fsinfo_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	nfs_post_op_attr_encode(e, r->attr);
	if (r->status != NFS3_OK)
		return;
	xdr_put_u32(e, NFS_IO_MAX); /* rtmax */
	xdr_put_u32(e, NFS_IO_MAX); /* rtpref */
	xdr_put_u32(e, 4096);	    /* rtmult */
	xdr_put_u32(e, NFS_IO_MAX); /* wtmax */
	xdr_put_u32(e, NFS_IO_MAX); /* wtpref */
	xdr_put_u32(e, 4096);	    /* wtmult */
	xdr_put_u32(e, 64u << 10);  /* dtpref */
	xdr_put_u64(e, INT64_MAX);  /* maxfilesize */
	xdr_put_u32(e, 0);	    /* time_delta: 1 ns */
	xdr_put_u32(e, 1);
	xdr_put_u32(e, FSF3_LINK | FSF3_SYMLINK | FSF3_HOMOGENEOUS |
			   FSF3_CANSETTIME);
}

const struct nfs_proc nfs_proc_fsinfo = {
	"FSINFO",
	nfs_args_fh_decode,
	nfs_fsinfo_run,
	nfs_fsinfo_encode,
};

static void nfs_pathconf_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	nfs_post_op_attr_encode(e, r->attr);
	if (r->status != NFS3_OK)
		return;
	xdr_put_u32(e, UINT32_MAX);    /* linkmax: nlink is 32 bits */
	xdr_put_u32(e, NFS3_NAME_MAX); /* name_max */
	xdr_put_bool(e, true);	       /* no_trunc */
	xdr_put_bool(e, true);	       /* chown_restricted */
	xdr_put_bool(e, false);	       /* case_insensitive */
	xdr_put_bool(e, true);	       /* case_preserving */
}

const struct nfs_proc nfs_proc_pathconf = {
	"PATHCONF",
	nfs_args_fh_decode,
	nfs_fsinfo_run,
	nfs_pathconf_encode,
};
