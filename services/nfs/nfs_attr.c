/*
 * NFSv3 attribute structures (RFC 1813 section 2.6): fattr3, post_op_attr,
 * wcc_data and post_op_fh3 out of the metadata service's Attr, and the
 * sattr3 a client sends.
 */
#include "nfs/nfs_gw.h"

#include <errno.h>
#include <string.h>

/* Every inode lives in one filesystem as far as the client can tell. */
#define NFS_FSID 1

static void nfs_time_encode(struct xdr_enc *e, int64_t sec, uint32_t nsec)
{
	xdr_put_u32(e, (uint32_t)sec);
	xdr_put_u32(e, nsec);
}

void nfs_fattr_encode(struct xdr_enc *e, const Zerofs__Attr *a)
{
	xdr_put_u32(e, (uint32_t)a->type);
	xdr_put_u32(e, a->mode & 07777);
	xdr_put_u32(e, a->nlink);
	xdr_put_u32(e, a->uid);
	xdr_put_u32(e, a->gid);
	xdr_put_u64(e, a->size);
	xdr_put_u64(e, a->used);
	xdr_put_u32(e, a->rdev_major);
	xdr_put_u32(e, a->rdev_minor);
	xdr_put_u64(e, NFS_FSID);
	xdr_put_u64(e, a->ino);
	nfs_time_encode(e, a->atime_sec, a->atime_nsec);
	nfs_time_encode(e, a->mtime_sec, a->mtime_nsec);
	nfs_time_encode(e, a->ctime_sec, a->ctime_nsec);
}

void nfs_post_op_attr_encode(struct xdr_enc *e, const Zerofs__Attr *a)
{
	xdr_put_bool(e, a != NULL);
	if (a != NULL)
		nfs_fattr_encode(e, a);
}

void nfs_wcc_encode(struct xdr_enc *e, const Zerofs__Attr *before,
		    const Zerofs__Attr *after)
{
	xdr_put_bool(e, before != NULL);
	if (before != NULL) {
		xdr_put_u64(e, before->size);
		nfs_time_encode(e, before->mtime_sec, before->mtime_nsec);
		nfs_time_encode(e, before->ctime_sec, before->ctime_nsec);
	}
	nfs_post_op_attr_encode(e, after);
}

void nfs_post_op_fh_encode(struct xdr_enc *e, bool has, uint64_t ino,
			   uint32_t gen)
{
	xdr_put_bool(e, has);
	if (has)
		nfs_fh_encode(e, ino, gen);
}

static bool nfs_set_u32_decode(struct xdr_dec *d, bool *set, uint32_t *v)
{
	*v = 0;
	return xdr_bool(d, set) && (!*set || xdr_u32(d, v));
}

static bool nfs_set_time_decode(struct xdr_dec *d, uint32_t *how,
				struct nfs_time *t)
{
	memset(t, 0, sizeof(*t));
	if (!xdr_enum(d, how) || *how > SET_TO_CLIENT_TIME)
		return false;
	if (*how != SET_TO_CLIENT_TIME)
		return true;
	return xdr_u32(d, &t->sec) && xdr_u32(d, &t->nsec);
}

bool nfs_sattr_decode(struct xdr_dec *d, struct nfs_sattr *s)
{
	memset(s, 0, sizeof(*s));
	return nfs_set_u32_decode(d, &s->set_mode, &s->mode) &&
	       nfs_set_u32_decode(d, &s->set_uid, &s->uid) &&
	       nfs_set_u32_decode(d, &s->set_gid, &s->gid) &&
	       xdr_bool(d, &s->set_size) &&
	       (!s->set_size || xdr_u64(d, &s->size)) &&
	       nfs_set_time_decode(d, &s->atime_how, &s->atime) &&
	       nfs_set_time_decode(d, &s->mtime_how, &s->mtime);
}

bool nfs_string_decode(struct xdr_dec *d, struct nfs_args *a, char *out,
		       size_t outlen)
{
	const uint8_t *p;
	uint32_t n;
	int err = 0;

	/* Any length the record holds: the record limit bounds it, and
	 * nothing is copied unless it fits. */
	if (!xdr_opaque_var(d, UINT32_MAX, &p, &n))
		return false;
	if (n >= outlen)
		err = -ENAMETOOLONG;
	else if (memchr(p, 0, n) != NULL)
		err = -EINVAL;
	if (err < 0) {
		out[0] = '\0';
		if (a->arg_err == 0)
			a->arg_err = err;
		return true;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

bool nfs_diropargs_decode(struct xdr_dec *d, struct nfs_args *a,
			  struct nfs_fh *fh, char *name)
{
	return nfs_fh_decode(d, fh) &&
	       nfs_string_decode(d, a, name, NFS_NAME_WIRE_MAX + 1);
}

int nfs_name_check(const char *name)
{
	size_t len = strlen(name);

	if (len > NFS3_NAME_MAX)
		return -ENAMETOOLONG;
	if (len == 0 || strchr(name, '/') != NULL)
		return -EINVAL;
	return 0;
}

int nfs_name_check_new(const char *name)
{
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	return nfs_name_check(name);
}

bool nfs_args_void_decode(struct xdr_dec *d, struct nfs_args *a)
{
	(void)a;
	return !d->err;
}

bool nfs_args_fh_decode(struct xdr_dec *d, struct nfs_args *a)
{
	return nfs_fh_decode(d, &a->fh);
}

bool nfs_args_dirop_decode(struct xdr_dec *d, struct nfs_args *a)
{
	return nfs_diropargs_decode(d, a, &a->fh, a->name);
}

void nfs_res_void_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	(void)e;
	(void)r;
}
