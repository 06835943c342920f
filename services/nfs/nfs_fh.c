/*
 * File handles and the mapping of errnos to NFS and MOUNT status codes.
 *
 * A handle is 13 bytes: a version byte, then the inode number (8 bytes)
 * and its generation (4 bytes), big-endian.  It names an inode globally,
 * so any gateway replica can serve it; a stale generation is the metadata
 * service's to detect (ESTALE).
 */
#include "nfs/nfs_gw.h"

#include <errno.h>

#define NFS_FH_VERSION 1
#define NFS_FH_LEN     13

void nfs_fh_encode(struct xdr_enc *e, uint64_t ino, uint32_t gen)
{
	uint8_t b[NFS_FH_LEN];
	int i;

	b[0] = NFS_FH_VERSION;
	for (i = 0; i < 8; i++)
		b[1 + i] = (uint8_t)(ino >> (56 - 8 * i));
	for (i = 0; i < 4; i++)
		b[9 + i] = (uint8_t)(gen >> (24 - 8 * i));
	xdr_put_opaque_var(e, b, sizeof(b));
}

/* Fails only when the bytes are not an nfs_fh3 at all; a well-formed
 * opaque that is not one of ours decodes as an invalid handle. */
bool nfs_fh_decode(struct xdr_dec *d, struct nfs_fh *fh)
{
	const uint8_t *p;
	uint32_t len;
	int i;

	fh->valid = false;
	fh->ino = 0;
	fh->gen = 0;
	if (!xdr_opaque_var(d, NFS3_FHSIZE, &p, &len))
		return false;
	if (len != NFS_FH_LEN || p[0] != NFS_FH_VERSION)
		return true;
	for (i = 0; i < 8; i++)
		fh->ino = fh->ino << 8 | p[1 + i];
	for (i = 0; i < 4; i++)
		fh->gen = fh->gen << 8 | p[9 + i];
	fh->valid = true;
	return true;
}

int nfs_fh_to_pb(const struct nfs_fh *fh, Zerofs__Handle *h)
{
	zerofs__handle__init(h);
	if (!fh->valid)
		return -EBADF;
	h->ino = fh->ino;
	h->gen = fh->gen;
	return 0;
}

/* The one place errnos become nfsstat3.  Besides the obvious pairs the
 * gateway uses three errnos for NFS-only conditions: EBADF for a handle
 * that is not ours (NFS3ERR_BADHANDLE), ENOBUFS for a READDIR budget too
 * small for one entry (NFS3ERR_TOOSMALL) and EBADRQC for a MKNOD type
 * that cannot be made (NFS3ERR_BADTYPE).  EAGAIN is the metadata
 * service's failed SETATTR guard.  Unreachable services give
 * NFS3ERR_JUKEBOX so that clients retry. */
uint32_t nfs_status_from_errno(int err)
{
	static const struct {
		int err;
		uint32_t status;
	} map[] = {
		{ EPERM, NFS3ERR_PERM },
		{ ENOENT, NFS3ERR_NOENT },
		{ EIO, NFS3ERR_IO },
		{ ENXIO, NFS3ERR_NXIO },
		{ EACCES, NFS3ERR_ACCES },
		{ EEXIST, NFS3ERR_EXIST },
		{ EXDEV, NFS3ERR_XDEV },
		{ ENODEV, NFS3ERR_NODEV },
		{ ENOTDIR, NFS3ERR_NOTDIR },
		{ EISDIR, NFS3ERR_ISDIR },
		{ EINVAL, NFS3ERR_INVAL },
		{ EFBIG, NFS3ERR_FBIG },
		{ ENOSPC, NFS3ERR_NOSPC },
		{ EROFS, NFS3ERR_ROFS },
		{ EMLINK, NFS3ERR_MLINK },
		{ ENAMETOOLONG, NFS3ERR_NAMETOOLONG },
		{ ENOTEMPTY, NFS3ERR_NOTEMPTY },
		{ EDQUOT, NFS3ERR_DQUOT },
		{ ESTALE, NFS3ERR_STALE },
		{ EBADF, NFS3ERR_BADHANDLE },
		{ EAGAIN, NFS3ERR_NOT_SYNC },
		{ ENOBUFS, NFS3ERR_TOOSMALL },
		{ EBADRQC, NFS3ERR_BADTYPE },
		{ EOPNOTSUPP, NFS3ERR_NOTSUPP },
		{ ETIMEDOUT, NFS3ERR_JUKEBOX },
		{ ECONNREFUSED, NFS3ERR_JUKEBOX },
	};
	size_t i;

	if (err == 0)
		return NFS3_OK;
	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].err == err)
			return map[i].status;
	return NFS3ERR_SERVERFAULT;
}

uint32_t nfs_mount_status_from_errno(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return MNT3_OK;
	case EPERM:
		return MNT3ERR_PERM;
	case ENOENT:
		return MNT3ERR_NOENT;
	case EACCES:
		return MNT3ERR_ACCES;
	case ENOTDIR:
		return MNT3ERR_NOTDIR;
	case EINVAL:
		return MNT3ERR_INVAL;
	case ENAMETOOLONG:
		return MNT3ERR_NAMETOOLONG;
	case EIO:
		return MNT3ERR_IO;
	default:
		return MNT3ERR_SERVERFAULT;
	}
}
