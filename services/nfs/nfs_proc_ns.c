/*
 * NFSv3 procedures on the namespace (RFC 1813 sections 3.3.3 and
 * 3.3.8-3.3.15): LOOKUP, CREATE, MKDIR, SYMLINK, MKNOD, REMOVE, RMDIR,
 * RENAME and LINK.  New objects belong to the caller's AUTH_SYS uid and
 * gid (0 and 0 for AUTH_NONE) unless the sattr3 says otherwise.
 */
#include "nfs/nfs_gw.h"

#include <errno.h>

#define NFS_MODE_FILE 0644
#define NFS_MODE_DIR  0755
#define NFS_MODE_LINK 0777

static int nfs_lookup_run(struct nfs_req *rq, const struct nfs_args *a,
			  struct nfs_res *r)
{
	Zerofs__LookupReq req = ZEROFS__LOOKUP_REQ__INIT;
	Zerofs__LookupReply *rep;
	Zerofs__Handle h;
	int rc;

	rc = nfs_fh_to_pb(&a->fh, &h);
	if (rc == 0)
		rc = nfs_name_check(a->name);
	if (rc < 0)
		return rc;
	req.dir = &h;
	req.name = (char *)a->name;
	rc = nfs_meta_call(rq, r, ZEROFS__META_METHOD__META_LOOKUP, &req.base,
			   &zerofs__lookup_reply__descriptor, &rep);
	if (rc < 0)
		return rc;
	if (rep->attr == NULL)
		return -EBADMSG;
	r->attr = rep->attr;
	r->after = rep->dir;
	r->has_fh = true;
	r->fh = (struct nfs_fh){ true, rep->attr->ino, rep->attr->gen };
	return 0;
}

static void nfs_lookup_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	if (r->status == NFS3_OK) {
		nfs_fh_encode(e, r->fh.ino, r->fh.gen);
		nfs_post_op_attr_encode(e, r->attr);
	}
	nfs_post_op_attr_encode(e, r->after);
}

const struct nfs_proc nfs_proc_lookup = {
	"LOOKUP",
	nfs_args_dirop_decode,
	nfs_lookup_run,
	nfs_lookup_encode,
};

/* Fills the parts of a CreateReq every kind of object shares and calls
 * the metadata service. */
static int nfs_make(struct nfs_req *rq, const struct nfs_args *a,
		    Zerofs__CreateReq *req, uint32_t mode, struct nfs_res *r)
{
	const struct oncrpc_cred *c = &rq->call->cred;
	Zerofs__CreateReply *rep;
	Zerofs__Handle h;
	int rc;

	rc = nfs_fh_to_pb(&a->fh, &h);
	if (rc == 0)
		rc = nfs_name_check_new(a->name);
	if (rc < 0)
		return rc;
	req->dir = &h;
	req->name = (char *)a->name;
	req->mode = a->sattr.set_mode ? a->sattr.mode & 07777 : mode;
	req->uid = a->sattr.set_uid ? a->sattr.uid : c->uid;
	req->gid = a->sattr.set_gid ? a->sattr.gid : c->gid;
	rc = nfs_meta_call(rq, r, ZEROFS__META_METHOD__META_CREATE, &req->base,
			   &zerofs__create_reply__descriptor, &rep);
	if (rc < 0)
		return rc;
	if (rep->attr == NULL)
		return -EBADMSG;
	r->attr = rep->attr;
	r->before = rep->dir_before;
	r->after = rep->dir_after;
	r->has_fh = true;
	r->fh = (struct nfs_fh){ true, rep->attr->ino, rep->attr->gen };
	return 0;
}

static void nfs_make_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	if (r->status == NFS3_OK) {
		nfs_post_op_fh_encode(e, r->has_fh, r->fh.ino, r->fh.gen);
		nfs_post_op_attr_encode(e, r->attr);
	}
	nfs_wcc_encode(e, r->before, r->after);
}

static bool nfs_create_decode(struct xdr_dec *d, struct nfs_args *a)
{
	if (!nfs_args_dirop_decode(d, a) || !xdr_enum(d, &a->how))
		return false;
	if (a->how == UNCHECKED || a->how == GUARDED)
		return nfs_sattr_decode(d, &a->sattr);
	if (a->how == EXCLUSIVE)
		return xdr_opaque_fixed(d, a->verf, NFS3_CREATEVERFSIZE);
	return false;
}

/* UNCHECKED with a size (an O_TRUNC open) cuts the file to it, new or
 * not. */
static int nfs_create_truncate(struct nfs_req *rq, const struct nfs_args *a,
			       struct nfs_res *r)
{
	Zerofs__ChunkTruncateReq req = ZEROFS__CHUNK_TRUNCATE_REQ__INIT;
	Zerofs__ChunkTruncateReply *rep;
	Zerofs__Handle h;
	int rc;

	nfs_fh_to_pb(&r->fh, &h);
	req.fh = &h;
	req.size = a->sattr.size;
	rc = nfs_chunk_call(rq, r, ZEROFS__CHUNK_METHOD__CHUNK_TRUNCATE,
			    &req.base,
			    &zerofs__chunk_truncate_reply__descriptor, &rep);
	if (rc < 0)
		return rc;
	if (rep->attr != NULL)
		r->attr = rep->attr;
	return 0;
}

static int nfs_create_run(struct nfs_req *rq, const struct nfs_args *a,
			  struct nfs_res *r)
{
	Zerofs__CreateReq req = ZEROFS__CREATE_REQ__INIT;
	int rc;

	req.type = ZEROFS__FILE_TYPE__FT_REG;
	if (a->how == UNCHECKED)
		req.how = ZEROFS__CREATE_HOW__CREATE_UNCHECKED;
	else if (a->how == GUARDED)
		req.how = ZEROFS__CREATE_HOW__CREATE_GUARDED;
	else
		req.how = ZEROFS__CREATE_HOW__CREATE_EXCLUSIVE;
	if (a->how == EXCLUSIVE) {
		req.verf.data = (uint8_t *)a->verf;
		req.verf.len = NFS3_CREATEVERFSIZE;
	}
	rc = nfs_make(rq, a, &req, NFS_MODE_FILE, r);
	if (rc < 0 || a->how != UNCHECKED || !a->sattr.set_size)
		return rc;
	return nfs_create_truncate(rq, a, r);
}

const struct nfs_proc nfs_proc_create = {
	"CREATE",
	nfs_create_decode,
	nfs_create_run,
	nfs_make_encode,
};

static bool nfs_mkdir_decode(struct xdr_dec *d, struct nfs_args *a)
{
	return nfs_args_dirop_decode(d, a) && nfs_sattr_decode(d, &a->sattr);
}

static int nfs_mkdir_run(struct nfs_req *rq, const struct nfs_args *a,
			 struct nfs_res *r)
{
	Zerofs__CreateReq req = ZEROFS__CREATE_REQ__INIT;

	req.type = ZEROFS__FILE_TYPE__FT_DIR;
	req.how = ZEROFS__CREATE_HOW__CREATE_GUARDED;
	return nfs_make(rq, a, &req, NFS_MODE_DIR, r);
}

const struct nfs_proc nfs_proc_mkdir = {
	"MKDIR",
	nfs_mkdir_decode,
	nfs_mkdir_run,
	nfs_make_encode,
};

static bool nfs_symlink_decode(struct xdr_dec *d, struct nfs_args *a)
{
	return nfs_args_dirop_decode(d, a) && nfs_sattr_decode(d, &a->sattr) &&
	       nfs_string_decode(d, a, a->path, sizeof(a->path));
}

static int nfs_symlink_run(struct nfs_req *rq, const struct nfs_args *a,
			   struct nfs_res *r)
{
	Zerofs__CreateReq req = ZEROFS__CREATE_REQ__INIT;

	if (a->path[0] == '\0')
		return -EINVAL;
	req.type = ZEROFS__FILE_TYPE__FT_LNK;
	req.how = ZEROFS__CREATE_HOW__CREATE_GUARDED;
	req.target = (char *)a->path;
	return nfs_make(rq, a, &req, NFS_MODE_LINK, r);
}

const struct nfs_proc nfs_proc_symlink = {
	"SYMLINK",
	nfs_symlink_decode,
	nfs_symlink_run,
	nfs_make_encode,
};

/* The mknoddata3 union: devices carry sattr3 and specdata3, sockets and
 * FIFOs sattr3 alone, every other type nothing. */
static bool nfs_mknod_decode(struct xdr_dec *d, struct nfs_args *a)
{
	if (!nfs_args_dirop_decode(d, a) || !xdr_enum(d, &a->type))
		return false;
	if (a->type == NF3CHR || a->type == NF3BLK)
		return nfs_sattr_decode(d, &a->sattr) &&
		       xdr_u32(d, &a->major) && xdr_u32(d, &a->minor);
	if (a->type == NF3SOCK || a->type == NF3FIFO)
		return nfs_sattr_decode(d, &a->sattr);
	return true;
}

static int nfs_mknod_run(struct nfs_req *rq, const struct nfs_args *a,
			 struct nfs_res *r)
{
	Zerofs__CreateReq req = ZEROFS__CREATE_REQ__INIT;

	if (a->type != NF3CHR && a->type != NF3BLK && a->type != NF3SOCK &&
	    a->type != NF3FIFO)
		return -EBADRQC;
	req.type = (Zerofs__FileType)a->type;
	req.how = ZEROFS__CREATE_HOW__CREATE_GUARDED;
	req.rdev_major = a->major;
	req.rdev_minor = a->minor;
	return nfs_make(rq, a, &req, NFS_MODE_FILE, r);
}

const struct nfs_proc nfs_proc_mknod = {
	"MKNOD",
	nfs_mknod_decode,
	nfs_mknod_run,
	nfs_make_encode,
};

static int nfs_unlink(struct nfs_req *rq, const struct nfs_args *a, bool rmdir,
		      struct nfs_res *r)
{
	Zerofs__RemoveReq req = ZEROFS__REMOVE_REQ__INIT;
	Zerofs__RemoveReply *rep;
	Zerofs__Handle h;
	int rc;

	rc = nfs_fh_to_pb(&a->fh, &h);
	if (rc == 0)
		rc = nfs_name_check_new(a->name);
	if (rc < 0)
		return rc;
	req.dir = &h;
	req.name = (char *)a->name;
	req.rmdir = rmdir;
	rc = nfs_meta_call(rq, r, ZEROFS__META_METHOD__META_REMOVE, &req.base,
			   &zerofs__remove_reply__descriptor, &rep);
	if (rc < 0)
		return rc;
	r->before = rep->dir_before;
	r->after = rep->dir_after;
	return 0;
}

static int nfs_remove_run(struct nfs_req *rq, const struct nfs_args *a,
			  struct nfs_res *r)
{
	return nfs_unlink(rq, a, false, r);
}

static int nfs_rmdir_run(struct nfs_req *rq, const struct nfs_args *a,
			 struct nfs_res *r)
{
	return nfs_unlink(rq, a, true, r);
}

static void nfs_dir_wcc_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	nfs_wcc_encode(e, r->before, r->after);
}

const struct nfs_proc nfs_proc_remove = {
	"REMOVE",
	nfs_args_dirop_decode,
	nfs_remove_run,
	nfs_dir_wcc_encode,
};

const struct nfs_proc nfs_proc_rmdir = {
	"RMDIR",
	nfs_args_dirop_decode,
	nfs_rmdir_run,
	nfs_dir_wcc_encode,
};

static bool nfs_rename_decode(struct xdr_dec *d, struct nfs_args *a)
{
	return nfs_args_dirop_decode(d, a) &&
	       nfs_diropargs_decode(d, a, &a->fh2, a->name2);
}

static int nfs_rename_run(struct nfs_req *rq, const struct nfs_args *a,
			  struct nfs_res *r)
{
	Zerofs__RenameReq req = ZEROFS__RENAME_REQ__INIT;
	Zerofs__RenameReply *rep;
	Zerofs__Handle src, dst;
	int rc;

	rc = nfs_fh_to_pb(&a->fh, &src);
	if (rc == 0)
		rc = nfs_fh_to_pb(&a->fh2, &dst);
	if (rc == 0)
		rc = nfs_name_check_new(a->name);
	if (rc == 0)
		rc = nfs_name_check_new(a->name2);
	if (rc < 0)
		return rc;
	req.src_dir = &src;
	req.src_name = (char *)a->name;
	req.dst_dir = &dst;
	req.dst_name = (char *)a->name2;
	rc = nfs_meta_call(rq, r, ZEROFS__META_METHOD__META_RENAME, &req.base,
			   &zerofs__rename_reply__descriptor, &rep);
	if (rc < 0)
		return rc;
	r->before = rep->src_before;
	r->after = rep->src_after;
	r->before2 = rep->dst_before;
	r->after2 = rep->dst_after;
	return 0;
}

static void nfs_rename_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	nfs_wcc_encode(e, r->before, r->after);
	nfs_wcc_encode(e, r->before2, r->after2);
}

const struct nfs_proc nfs_proc_rename = {
	"RENAME",
	nfs_rename_decode,
	nfs_rename_run,
	nfs_rename_encode,
};

static bool nfs_link_decode(struct xdr_dec *d, struct nfs_args *a)
{
	return nfs_fh_decode(d, &a->fh) &&
	       nfs_diropargs_decode(d, a, &a->fh2, a->name2);
}

static int nfs_link_run(struct nfs_req *rq, const struct nfs_args *a,
			struct nfs_res *r)
{
	Zerofs__LinkReq req = ZEROFS__LINK_REQ__INIT;
	Zerofs__LinkReply *rep;
	Zerofs__Handle fh, dir;
	int rc;

	rc = nfs_fh_to_pb(&a->fh, &fh);
	if (rc == 0)
		rc = nfs_fh_to_pb(&a->fh2, &dir);
	if (rc == 0)
		rc = nfs_name_check_new(a->name2);
	if (rc < 0)
		return rc;
	req.fh = &fh;
	req.dir = &dir;
	req.name = (char *)a->name2;
	rc = nfs_meta_call(rq, r, ZEROFS__META_METHOD__META_LINK, &req.base,
			   &zerofs__link_reply__descriptor, &rep);
	if (rc < 0)
		return rc;
	r->attr = rep->attr;
	r->before = rep->dir_before;
	r->after = rep->dir_after;
	return 0;
}

static void nfs_link_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	nfs_post_op_attr_encode(e, r->attr);
	nfs_wcc_encode(e, r->before, r->after);
}

const struct nfs_proc nfs_proc_link = {
	"LINK",
	nfs_link_decode,
	nfs_link_run,
	nfs_link_encode,
};
