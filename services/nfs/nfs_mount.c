/*
 * MOUNT version 3 (RFC 1813 appendix I), served on the NFS port.
 *
 * MNT resolves the path from the root directory one component at a time,
 * so "/" and every existing directory can be mounted.  The gateway keeps
 * no list of mounts (any replica must answer alike), so DUMP is empty and
 * UMNT and UMNTALL have nothing to forget.  EXPORT lists "/" for everyone.
 */
#include "nfs/nfs_gw.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int nfs_mount_void_run(struct nfs_req *rq, const struct nfs_args *a,
			      struct nfs_res *r)
{
	(void)rq;
	(void)a;
	(void)r;
	return 0;
}

const struct nfs_proc nfs_mount_null = {
	"MOUNT NULL",
	nfs_args_void_decode,
	nfs_mount_void_run,
	nfs_res_void_encode,
};

static bool nfs_mount_path_decode(struct xdr_dec *d, struct nfs_args *a)
{
	return nfs_string_decode(d, a, a->path, MNTPATHLEN + 1);
}

/* Moves cur to the entry `name` inside it; *type gets its file type. */
static int nfs_mount_step(struct nfs_req *rq, struct nfs_fh *cur,
			  const char *name, uint32_t *type)
{
	Zerofs__LookupReq req = ZEROFS__LOOKUP_REQ__INIT;
	Zerofs__LookupReply *rep;
	struct nfs_res tmp = { 0 };
	Zerofs__Handle h;
	int rc;

	rc = nfs_name_check(name);
	if (rc < 0)
		return rc;
	nfs_fh_to_pb(cur, &h);
	req.dir = &h;
	req.name = (char *)name;
	rc = nfs_meta_call(rq, &tmp, ZEROFS__META_METHOD__META_LOOKUP,
			   &req.base, &zerofs__lookup_reply__descriptor, &rep);
	if (rc == 0 && rep->attr == NULL)
		rc = -EBADMSG;
	if (rc == 0) {
		*cur = (struct nfs_fh){ true, rep->attr->ino, rep->attr->gen };
		*type = rep->attr->type;
	}
	nfs_res_free(&tmp);
	return rc;
}

/* The root's generation is the filesystem's to choose, so the root is
 * asked for by name (GetAttrReq.root) rather than by handle. */
static int nfs_mount_root(struct nfs_req *rq, struct nfs_fh *cur,
			  uint32_t *type)
{
	Zerofs__GetAttrReq req = ZEROFS__GET_ATTR_REQ__INIT;
	Zerofs__GetAttrReply *rep;
	struct nfs_res tmp = { 0 };
	Zerofs__Handle h;
	int rc;

	*cur = (struct nfs_fh){ true, NFS_ROOT_INO, NFS_ROOT_GEN };
	nfs_fh_to_pb(cur, &h);
	req.fh = &h;
	req.root = true;
	rc =
	    nfs_meta_call(rq, &tmp, ZEROFS__META_METHOD__META_GETATTR,
			  &req.base, &zerofs__get_attr_reply__descriptor, &rep);
	if (rc == 0 && rep->attr == NULL)
		rc = -EBADMSG;
	if (rc == 0) {
		*cur = (struct nfs_fh){ true, rep->attr->ino, rep->attr->gen };
		*type = rep->attr->type;
	}
	nfs_res_free(&tmp);
	return rc;
}

static int nfs_mount_mnt_run(struct nfs_req *rq, const struct nfs_args *a,
			     struct nfs_res *r)
{
	char path[sizeof(a->path)], *save = NULL, *name;
	struct nfs_fh cur;
	uint32_t type = 0;
	int rc;

	snprintf(path, sizeof(path), "%s", a->path);
	rc = nfs_mount_root(rq, &cur, &type);
	for (name = strtok_r(path, "/", &save); rc == 0 && name != NULL;
	     name = strtok_r(NULL, "/", &save)) {
		if (type != ZEROFS__FILE_TYPE__FT_DIR)
			return -ENOTDIR;
		if (strcmp(name, ".") != 0)
			rc = nfs_mount_step(rq, &cur, name, &type);
	}
	if (rc < 0)
		return rc;
	if (type != ZEROFS__FILE_TYPE__FT_DIR)
		return -ENOTDIR;
	r->has_fh = true;
	r->fh = cur;
	return 0;
}

static void nfs_mount_mnt_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	xdr_put_u32(e, nfs_mount_status_from_errno(r->err));
	if (r->err != 0)
		return;
	nfs_fh_encode(e, r->fh.ino, r->fh.gen);
	xdr_put_u32(e, 2);
	xdr_put_u32(e, RPC_AUTH_SYS);
	xdr_put_u32(e, RPC_AUTH_NONE);
}

const struct nfs_proc nfs_mount_mnt = {
	"MNT",
	nfs_mount_path_decode,
	nfs_mount_mnt_run,
	nfs_mount_mnt_encode,
};

static void nfs_mount_dump_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	(void)r;
	xdr_put_bool(e, false);
}

const struct nfs_proc nfs_mount_dump = {
	"DUMP",
	nfs_args_void_decode,
	nfs_mount_void_run,
	nfs_mount_dump_encode,
};

const struct nfs_proc nfs_mount_umnt = {
	"UMNT",
	nfs_mount_path_decode,
	nfs_mount_void_run,
	nfs_res_void_encode,
};

const struct nfs_proc nfs_mount_umntall = {
	"UMNTALL",
	nfs_args_void_decode,
	nfs_mount_void_run,
	nfs_res_void_encode,
};

static void nfs_mount_export_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	(void)r;
	xdr_put_bool(e, true);
	xdr_put_string(e, "/");
	xdr_put_bool(e, false); /* no groups: exported to every host */
	xdr_put_bool(e, false);
}

const struct nfs_proc nfs_mount_export = {
	"EXPORT",
	nfs_args_void_decode,
	nfs_mount_void_run,
	nfs_mount_export_encode,
};
