/*
 * READDIR and READDIRPLUS (RFC 1813 sections 3.3.16 and 3.3.17).
 *
 * The metadata service hands out entries with stable cookies; the gateway
 * asks for about as many as could fit and keeps those that do fit the
 * client's byte budget (count for READDIR, dircount and maxcount for
 * READDIRPLUS).  The rest are left for the next call, which resumes from
 * the last cookie sent.  The cookie verifier is always zero: cookies stay
 * valid for as long as their entries exist.
 */
#include "nfs/nfs_gw.h"

#include <errno.h>
#include <string.h>

/* Bytes of a fattr3 and of a post_op_fh3 holding one of our handles. */
#define NFS_FATTR_SIZE 84
#define NFS_PFH_SIZE   (4 + 4 + 16)
/* status, dir post_op_attr, cookieverf, end of list, eof. */
#define NFS_RDIR_FIXED (4 + 4 + NFS_FATTR_SIZE + 8 + 4 + 4)
/* The smallest entry: value_follows, fileid, empty name, cookie. */
#define NFS_RDIR_MIN_ENTRY (4 + 8 + 4 + 8)
#define NFS_RDIR_MAX_ASK   4096

static bool nfs_readdir_decode(struct xdr_dec *d, struct nfs_args *a)
{
	a->maxcount = 0;
	return nfs_fh_decode(d, &a->fh) && xdr_u64(d, &a->offset) &&
	       xdr_opaque_fixed(d, a->verf, NFS3_COOKIEVERFSIZE) &&
	       xdr_u32(d, &a->count);
}

static bool nfs_readdirplus_decode(struct xdr_dec *d, struct nfs_args *a)
{
	return nfs_fh_decode(d, &a->fh) && xdr_u64(d, &a->offset) &&
	       xdr_opaque_fixed(d, a->verf, NFS3_COOKIEVERFSIZE) &&
	       xdr_u32(d, &a->count) && xdr_u32(d, &a->maxcount);
}

static size_t nfs_entry_dir_size(const Zerofs__DirEntry *de)
{
	return 8 + xdr_opaque_size(strlen(de->name ? de->name : "")) + 8;
}

static size_t nfs_entry_size(const Zerofs__DirEntry *de, bool plus)
{
	size_t n = 4 + nfs_entry_dir_size(de);

	if (plus)
		n += 4 + (de->attr ? NFS_FATTR_SIZE + NFS_PFH_SIZE : 4);
	return n;
}

/* How many of the entries fit the budgets. */
static uint32_t nfs_entries_fit(const Zerofs__ReadDirReply *rep, bool plus,
				size_t budget, size_t dirbudget)
{
	size_t total = NFS_RDIR_FIXED, dir = 0, i;

	for (i = 0; i < rep->n_entries; i++) {
		total += nfs_entry_size(rep->entries[i], plus);
		dir += nfs_entry_dir_size(rep->entries[i]);
		if (total > budget || (i > 0 && plus && dir > dirbudget))
			break;
	}
	return (uint32_t)i;
}

static int nfs_readdir_list(struct nfs_req *rq, const struct nfs_args *a,
			    bool plus, struct nfs_res *r)
{
	Zerofs__ReadDirReq req = ZEROFS__READ_DIR_REQ__INIT;
	Zerofs__ReadDirReply *rep;
	size_t budget = plus ? a->maxcount : a->count;
	Zerofs__Handle h;
	int rc;

	rc = nfs_fh_to_pb(&a->fh, &h);
	if (rc < 0)
		return rc;
	req.dir = &h;
	req.cookie = a->offset;
	req.plus = plus;
	req.max_entries = budget / NFS_RDIR_MIN_ENTRY + 1;
	if (req.max_entries > NFS_RDIR_MAX_ASK)
		req.max_entries = NFS_RDIR_MAX_ASK;
	rc = nfs_meta_call(rq, r, ZEROFS__META_METHOD__META_READDIR, &req.base,
			   &zerofs__read_dir_reply__descriptor, &rep);
	if (rc < 0)
		return rc;
	r->dir = rep;
	r->attr = rep->dir;
	r->nentries = nfs_entries_fit(rep, plus, budget, a->count);
	if (r->nentries == 0 && rep->n_entries > 0)
		return -ENOBUFS;
	r->eof = rep->eof && r->nentries == rep->n_entries;
	return 0;
}

static int nfs_readdir_run(struct nfs_req *rq, const struct nfs_args *a,
			   struct nfs_res *r)
{
	return nfs_readdir_list(rq, a, false, r);
}

static int nfs_readdirplus_run(struct nfs_req *rq, const struct nfs_args *a,
			       struct nfs_res *r)
{
	return nfs_readdir_list(rq, a, true, r);
}

static void nfs_entries_encode(struct xdr_enc *e, const struct nfs_res *r,
			       bool plus)
{
	static const uint8_t zero_verf[NFS3_COOKIEVERFSIZE];
	const Zerofs__DirEntry *de;
	uint32_t i;

	nfs_post_op_attr_encode(e, r->attr);
	if (r->status != NFS3_OK)
		return;
	xdr_put_opaque_fixed(e, zero_verf, sizeof(zero_verf));
	for (i = 0; i < r->nentries; i++) {
		de = r->dir->entries[i];
		xdr_put_bool(e, true);
		xdr_put_u64(e, de->ino);
		xdr_put_string(e, de->name ? de->name : "");
		xdr_put_u64(e, de->cookie);
		if (!plus)
			continue;
		nfs_post_op_attr_encode(e, de->attr);
		nfs_post_op_fh_encode(e, de->attr != NULL,
				      de->attr ? de->attr->ino : 0,
				      de->attr ? de->attr->gen : 0);
	}
	xdr_put_bool(e, false);
	xdr_put_bool(e, r->eof);
}

static void nfs_readdir_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	nfs_entries_encode(e, r, false);
}

static void nfs_readdirplus_encode(struct xdr_enc *e, const struct nfs_res *r)
{
	nfs_entries_encode(e, r, true);
}

const struct nfs_proc nfs_proc_readdir = {
	"READDIR",
	nfs_readdir_decode,
	nfs_readdir_run,
	nfs_readdir_encode,
};

const struct nfs_proc nfs_proc_readdirplus = {
	"READDIRPLUS",
	nfs_readdirplus_decode,
	nfs_readdirplus_run,
	nfs_readdirplus_encode,
};
