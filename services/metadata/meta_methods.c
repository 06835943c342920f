/*
 * The RPC edge of the metadata service, data half: READDIR, STATFS, the
 * extent calls and FLUSH, and the table that maps every META_* method
 * number to its request type and handler.
 */
#include "meta_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SVC(arg) ((struct meta_service *)(arg))

/* Holds the reply's entries while it is packed. */
struct readdir_out {
	Zerofs__DirEntry *ents;
	Zerofs__DirEntry **ptrs;
	Zerofs__Attr *attrs;
};

static int readdir_pack(const struct meta_dirent *ents, size_t n, bool plus,
			Zerofs__ReadDirReply *rep, struct readdir_out *o)
{
	o->ents = calloc(n ? n : 1, sizeof(*o->ents));
	o->ptrs = calloc(n ? n : 1, sizeof(*o->ptrs));
	o->attrs = calloc(n ? n : 1, sizeof(*o->attrs));
	if (o->ents == NULL || o->ptrs == NULL || o->attrs == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		zerofs__dir_entry__init(&o->ents[i]);
		o->ents[i].name = (char *)ents[i].name;
		o->ents[i].ino = ents[i].ino;
		o->ents[i].cookie = ents[i].cookie;
		if (plus)
			o->ents[i].attr =
			    meta_attr_out(&ents[i].attr, &o->attrs[i]);
		o->ptrs[i] = &o->ents[i];
	}
	rep->entries = o->ptrs;
	rep->n_entries = n;
	return 0;
}

static int h_readdir(void *arg, const ProtobufCMessage *m,
		     struct rpc_reply *out)
{
	const Zerofs__ReadDirReq *req = (const Zerofs__ReadDirReq *)m;
	Zerofs__ReadDirReply rep = ZEROFS__READ_DIR_REPLY__INIT;
	struct readdir_out o = { 0 };
	struct meta_dirent *ents = NULL;
	struct meta_inode dir;
	struct meta_handle h;
	bool eof = false;
	Zerofs__Attr a;
	size_t n = 0;
	int rc;

	rc = meta_handle_in(req->dir, &h);
	if (rc == 0)
		rc = meta_fs_readdir(SVC(arg)->fs, &h, req->cookie,
				     req->max_entries, req->plus, &ents, &n,
				     &eof, &dir);
	if (rc == 0)
		rc = readdir_pack(ents, n, req->plus, &rep, &o);
	if (rc == 0) {
		rep.eof = eof;
		rep.dir = meta_attr_out(&dir, &a);
		rc = rpc_reply_pack(out, &rep.base);
	}
	free(o.ents);
	free(o.ptrs);
	free(o.attrs);
	free(ents);
	return rc < 0 ? meta_fail(out, rc, "readdir", "handle") : 0;
}

static int h_statfs(void *arg, const ProtobufCMessage *m, struct rpc_reply *out)
{
	const Zerofs__StatFsReq *req = (const Zerofs__StatFsReq *)m;
	Zerofs__StatFsReply rep = ZEROFS__STAT_FS_REPLY__INIT;
	struct meta_statfs st;
	struct meta_handle h;
	struct meta_inode in;
	Zerofs__Attr a;
	int rc;

	/* The figures are filesystem-wide: without a handle, the root's. */
	h.ino = META_ROOT_INO;
	h.gen = META_ROOT_GEN;
	rc = req->fh != NULL ? meta_handle_in(req->fh, &h) : 0;
	if (rc == 0)
		rc = meta_fs_statfs(SVC(arg)->fs, &h, &st, &in);
	if (rc < 0)
		return meta_fail(out, rc, "statfs", "handle");
	rep.total_bytes = st.total_bytes;
	rep.free_bytes = st.free_bytes;
	rep.total_files = st.total_files;
	rep.free_files = st.free_files;
	rep.chunk_size = st.chunk_size;
	rep.attr = meta_attr_out(&in, &a);
	return rpc_reply_pack(out, &rep.base);
}

static void extent_out(const struct meta_extent *e, Zerofs__Extent *x)
{
	zerofs__extent__init(x);
	x->index = e->index;
	x->segment = e->segment;
	x->offset = e->offset;
	x->length = e->length;
}

static void extent_in(const Zerofs__Extent *x, struct meta_extent *e)
{
	e->index = x->index;
	e->segment = x->segment;
	e->offset = x->offset;
	e->length = x->length;
}

static int extents_pack(const struct meta_extent *ext, size_t n,
			const struct meta_inode *in, struct rpc_reply *out)
{
	Zerofs__GetExtentsReply rep = ZEROFS__GET_EXTENTS_REPLY__INIT;
	Zerofs__Extent *xs = calloc(n ? n : 1, sizeof(*xs));
	Zerofs__Extent **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	Zerofs__Attr a;
	int rc = -ENOMEM;

	if (xs != NULL && ptrs != NULL) {
		for (size_t i = 0; i < n; i++) {
			extent_out(&ext[i], &xs[i]);
			ptrs[i] = &xs[i];
		}
		rep.attr = meta_attr_out(in, &a);
		rep.extents = ptrs;
		rep.n_extents = n;
		rc = rpc_reply_pack(out, &rep.base);
	}
	free(xs);
	free(ptrs);
	return rc;
}

static int h_get_extents(void *arg, const ProtobufCMessage *m,
			 struct rpc_reply *out)
{
	const Zerofs__GetExtentsReq *req = (const Zerofs__GetExtentsReq *)m;
	struct meta_extent *ext = NULL;
	struct meta_handle h;
	struct meta_inode in;
	size_t n = 0;
	int rc;

	rc = meta_handle_in(req->fh, &h);
	if (rc == 0)
		rc = meta_fs_get_extents(SVC(arg)->fs, &h, req->first,
					 req->count, &ext, &n, &in);
	if (rc == 0)
		rc = extents_pack(ext, n, &in, out);
	free(ext);
	return rc < 0 ? meta_fail(out, rc, "get_extents", "handle") : 0;
}

static int h_commit_write(void *arg, const ProtobufCMessage *m,
			  struct rpc_reply *out)
{
	const Zerofs__CommitWriteReq *req = (const Zerofs__CommitWriteReq *)m;
	Zerofs__CommitWriteReply rep = ZEROFS__COMMIT_WRITE_REPLY__INIT;
	struct meta_inode before, after;
	struct meta_extent *ext;
	struct meta_handle h;
	Zerofs__Attr a[2];
	int rc;

	rc = meta_handle_in(req->fh, &h);
	if (rc < 0 || req->n_extents > META_EXTENTS_MAX)
		return meta_fail(out, -EINVAL, "commit_write", "request");
	ext = calloc(req->n_extents ? req->n_extents : 1, sizeof(*ext));
	if (ext == NULL)
		return meta_fail(out, -ENOMEM, "commit_write", "extents");
	for (size_t i = 0; i < req->n_extents; i++)
		extent_in(req->extents[i], &ext[i]);
	rc = meta_fs_commit_write(SVC(arg)->fs, &h, ext, req->n_extents,
				  req->end, &before, &after);
	free(ext);
	if (rc < 0)
		return meta_fail(out, rc, "commit_write", "handle");
	rep.before = meta_attr_out(&before, &a[0]);
	rep.attr = meta_attr_out(&after, &a[1]);
	rep.meta_boot = SVC(arg)->boot;
	return rpc_reply_pack(out, &rep.base);
}

static int h_truncate(void *arg, const ProtobufCMessage *m,
		      struct rpc_reply *out)
{
	const Zerofs__TruncateReq *req = (const Zerofs__TruncateReq *)m;
	Zerofs__TruncateReply rep = ZEROFS__TRUNCATE_REPLY__INIT;
	struct meta_inode before, after;
	struct meta_extent bnd;
	struct meta_handle h;
	Zerofs__Attr a[2];
	int rc;

	rc = meta_handle_in(req->fh, &h);
	if (req->boundary != NULL)
		extent_in(req->boundary, &bnd);
	if (rc == 0)
		rc = meta_fs_truncate(
		    SVC(arg)->fs, &h, req->size, req->drop_from,
		    req->boundary ? &bnd : NULL, &before, &after);
	if (rc < 0)
		return meta_fail(out, rc, "truncate", "handle");
	rep.before = meta_attr_out(&before, &a[0]);
	rep.attr = meta_attr_out(&after, &a[1]);
	return rpc_reply_pack(out, &rep.base);
}

static int h_flush(void *arg, const ProtobufCMessage *m, struct rpc_reply *out)
{
	Zerofs__FlushReply rep = ZEROFS__FLUSH_REPLY__INIT;
	uint64_t seq = 0;
	uint32_t epoch = 0;
	int rc;

	(void)m;
	rc = meta_service_flush(SVC(arg), &seq, &epoch);
	if (rc < 0)
		return meta_fail(out, rc, "flush", "wal");
	rep.seq = seq;
	rep.flusher_epoch = epoch;
	rep.meta_boot = SVC(arg)->boot;
	return rpc_reply_pack(out, &rep.base);
}

/* No entry for method 0 (META_NONE): the rpc layer answers ENOSYS. */
#define METHOD(num, desc, fn)                                                  \
	{                                                                      \
		ZEROFS__META_METHOD__##num, &zerofs__##desc##__descriptor, fn  \
	}

const struct rpc_method meta_methods[] = {
	METHOD(META_GETATTR, get_attr_req, meta_h_getattr),
	METHOD(META_SETATTR, set_attr_req, meta_h_setattr),
	METHOD(META_LOOKUP, lookup_req, meta_h_lookup),
	METHOD(META_CREATE, create_req, meta_h_create),
	METHOD(META_REMOVE, remove_req, meta_h_remove),
	METHOD(META_RENAME, rename_req, meta_h_rename),
	METHOD(META_LINK, link_req, meta_h_link),
	METHOD(META_READLINK, read_link_req, meta_h_readlink),
	METHOD(META_READDIR, read_dir_req, h_readdir),
	METHOD(META_STATFS, stat_fs_req, h_statfs),
	METHOD(META_GET_EXTENTS, get_extents_req, h_get_extents),
	METHOD(META_COMMIT_WRITE, commit_write_req, h_commit_write),
	METHOD(META_TRUNCATE, truncate_req, h_truncate),
	METHOD(META_FLUSH, flush_req, h_flush),
};

const size_t meta_nmethods = sizeof(meta_methods) / sizeof(meta_methods[0]);
