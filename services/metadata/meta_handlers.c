/*
 * The RPC edge of the metadata service, namespace half: one handler per
 * META_* method that names or changes directory entries,
 * each in three steps (decode and validate the request, run the
 * filesystem operation, encode the reply).  Protobuf types stop here; the
 * filesystem layer sees only its own.  Errors travel back as the negative
 * errno with a short detail naming the call and the object.
 */
#include "meta_server.h"

#include "log.h"
#include "metadata.pb-c.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SVC(arg) ((struct meta_service *)(arg))

Zerofs__Attr *meta_attr_out(const struct meta_inode *in, Zerofs__Attr *a)
{
	zerofs__attr__init(a);
	a->ino = in->ino;
	a->gen = in->gen;
	a->type = (Zerofs__FileType)in->type;
	a->mode = in->mode;
	a->nlink = in->nlink;
	a->uid = in->uid;
	a->gid = in->gid;
	a->size = in->size;
	a->used = in->used;
	a->rdev_major = in->rdev_major;
	a->rdev_minor = in->rdev_minor;
	a->atime_sec = in->atime.sec;
	a->atime_nsec = in->atime.nsec;
	a->mtime_sec = in->mtime.sec;
	a->mtime_nsec = in->mtime.nsec;
	a->ctime_sec = in->ctime.sec;
	a->ctime_nsec = in->ctime.nsec;
	a->parent = in->type == META_DIR ? in->parent : 0;
	return a;
}

/* A missing handle is a malformed request, not a stale one. */
int meta_handle_in(const Zerofs__Handle *fh, struct meta_handle *h)
{
	if (fh == NULL)
		return -EINVAL;
	h->ino = fh->ino;
	h->gen = fh->gen;
	return 0;
}

int meta_fail(struct rpc_reply *out, int rc, const char *call, const char *obj)
{
	log_debug("metadata: %s: %s: %s", call, obj, strerror(-rc));
	return rpc_reply_error(out, rc, "%s: %s: %s", call, obj, strerror(-rc));
}

int meta_h_getattr(void *arg, const ProtobufCMessage *m, struct rpc_reply *out)
{
	const Zerofs__GetAttrReq *req = (const Zerofs__GetAttrReq *)m;
	Zerofs__GetAttrReply rep = ZEROFS__GET_ATTR_REPLY__INIT;
	struct meta_handle h;
	struct meta_inode in;
	Zerofs__Attr a;
	int rc;

	/* `root` asks for the root directory whatever the handle says. */
	h.ino = META_ROOT_INO;
	h.gen = META_ROOT_GEN;
	rc = req->root ? 0 : meta_handle_in(req->fh, &h);
	if (rc == 0)
		rc = meta_fs_getattr(SVC(arg)->fs, &h, &in);
	if (rc < 0)
		return meta_fail(out, rc, "getattr", "handle");
	rep.attr = meta_attr_out(&in, &a);
	return rpc_reply_pack(out, &rep.base);
}

static void setattr_in(const Zerofs__SetAttrReq *req, struct meta_setattr *sa)
{
	sa->valid = req->valid;
	sa->mode = req->mode;
	sa->uid = req->uid;
	sa->gid = req->gid;
	sa->atime = (struct meta_time){ req->atime_sec, req->atime_nsec };
	sa->mtime = (struct meta_time){ req->mtime_sec, req->mtime_nsec };
	sa->guard = req->guard;
	sa->guard_ctime =
	    (struct meta_time){ req->guard_ctime_sec, req->guard_ctime_nsec };
}

int meta_h_setattr(void *arg, const ProtobufCMessage *m, struct rpc_reply *out)
{
	const Zerofs__SetAttrReq *req = (const Zerofs__SetAttrReq *)m;
	Zerofs__SetAttrReply rep = ZEROFS__SET_ATTR_REPLY__INIT;
	struct meta_inode before, after;
	struct meta_setattr sa;
	struct meta_handle h;
	Zerofs__Attr a[2];
	int rc;

	setattr_in(req, &sa);
	rc = meta_handle_in(req->fh, &h);
	if (rc == 0 &&
	    (sa.atime.nsec >= 1000000000u || sa.mtime.nsec >= 1000000000u))
		rc = -EINVAL;
	if (rc == 0)
		rc = meta_fs_setattr(SVC(arg)->fs, &h, &sa, &before, &after);
	if (rc < 0)
		return meta_fail(out, rc, "setattr", "handle");
	rep.before = meta_attr_out(&before, &a[0]);
	rep.attr = meta_attr_out(&after, &a[1]);
	return rpc_reply_pack(out, &rep.base);
}

int meta_h_lookup(void *arg, const ProtobufCMessage *m, struct rpc_reply *out)
{
	const Zerofs__LookupReq *req = (const Zerofs__LookupReq *)m;
	Zerofs__LookupReply rep = ZEROFS__LOOKUP_REPLY__INIT;
	struct meta_inode in, dir;
	struct meta_handle h;
	Zerofs__Attr a[2];
	int rc;

	rc = meta_handle_in(req->dir, &h);
	if (rc == 0)
		rc = meta_fs_lookup(SVC(arg)->fs, &h, req->name, &in, &dir);
	if (rc < 0)
		return meta_fail(out, rc, "lookup", req->name);
	rep.attr = meta_attr_out(&in, &a[0]);
	rep.dir = meta_attr_out(&dir, &a[1]);
	return rpc_reply_pack(out, &rep.base);
}

static int create_in(const Zerofs__CreateReq *req, struct meta_create *c)
{
	c->type = req->type;
	c->mode = req->mode;
	c->uid = req->uid;
	c->gid = req->gid;
	c->rdev_major = req->rdev_major;
	c->rdev_minor = req->rdev_minor;
	c->target = req->target;
	c->how = req->how;
	memset(c->verf, 0, sizeof(c->verf));
	if (req->how != ZEROFS__CREATE_HOW__CREATE_EXCLUSIVE)
		return 0;
	if (req->verf.len != sizeof(c->verf))
		return -EINVAL;
	memcpy(c->verf, req->verf.data, sizeof(c->verf));
	return 0;
}

int meta_h_create(void *arg, const ProtobufCMessage *m, struct rpc_reply *out)
{
	const Zerofs__CreateReq *req = (const Zerofs__CreateReq *)m;
	Zerofs__CreateReply rep = ZEROFS__CREATE_REPLY__INIT;
	struct meta_inode in, before, after;
	struct meta_create c;
	struct meta_handle h;
	Zerofs__Attr a[3];
	bool existed = false;
	int rc;

	rc = meta_handle_in(req->dir, &h);
	if (rc == 0)
		rc = create_in(req, &c);
	if (rc == 0)
		rc = meta_fs_create(SVC(arg)->fs, &h, req->name, &c, &in,
				    &before, &after, &existed);
	if (rc < 0)
		return meta_fail(out, rc, "create", req->name);
	rep.attr = meta_attr_out(&in, &a[0]);
	rep.dir_before = meta_attr_out(&before, &a[1]);
	rep.dir_after = meta_attr_out(&after, &a[2]);
	rep.existed = existed;
	return rpc_reply_pack(out, &rep.base);
}

int meta_h_remove(void *arg, const ProtobufCMessage *m, struct rpc_reply *out)
{
	const Zerofs__RemoveReq *req = (const Zerofs__RemoveReq *)m;
	Zerofs__RemoveReply rep = ZEROFS__REMOVE_REPLY__INIT;
	struct meta_inode before, after;
	struct meta_handle h;
	Zerofs__Attr a[2];
	int rc;

	rc = meta_handle_in(req->dir, &h);
	if (rc == 0)
		rc = meta_fs_remove(SVC(arg)->fs, &h, req->name, req->rmdir,
				    &before, &after);
	if (rc < 0)
		return meta_fail(out, rc, "remove", req->name);
	rep.dir_before = meta_attr_out(&before, &a[0]);
	rep.dir_after = meta_attr_out(&after, &a[1]);
	return rpc_reply_pack(out, &rep.base);
}

int meta_h_rename(void *arg, const ProtobufCMessage *m, struct rpc_reply *out)
{
	const Zerofs__RenameReq *req = (const Zerofs__RenameReq *)m;
	Zerofs__RenameReply rep = ZEROFS__RENAME_REPLY__INIT;
	struct meta_handle sh, dh;
	struct meta_inode wcc[4];
	Zerofs__Attr a[4];
	int rc;

	rc = meta_handle_in(req->src_dir, &sh);
	if (rc == 0)
		rc = meta_handle_in(req->dst_dir, &dh);
	if (rc == 0)
		rc = meta_fs_rename(SVC(arg)->fs, &sh, req->src_name, &dh,
				    req->dst_name, wcc);
	if (rc < 0)
		return meta_fail(out, rc, "rename", req->src_name);
	rep.src_before = meta_attr_out(&wcc[0], &a[0]);
	rep.src_after = meta_attr_out(&wcc[1], &a[1]);
	rep.dst_before = meta_attr_out(&wcc[2], &a[2]);
	rep.dst_after = meta_attr_out(&wcc[3], &a[3]);
	return rpc_reply_pack(out, &rep.base);
}

int meta_h_link(void *arg, const ProtobufCMessage *m, struct rpc_reply *out)
{
	const Zerofs__LinkReq *req = (const Zerofs__LinkReq *)m;
	Zerofs__LinkReply rep = ZEROFS__LINK_REPLY__INIT;
	struct meta_inode in, before, after;
	struct meta_handle h, dh;
	Zerofs__Attr a[3];
	int rc;

	rc = meta_handle_in(req->fh, &h);
	if (rc == 0)
		rc = meta_handle_in(req->dir, &dh);
	if (rc == 0)
		rc = meta_fs_link(SVC(arg)->fs, &h, &dh, req->name, &in,
				  &before, &after);
	if (rc < 0)
		return meta_fail(out, rc, "link", req->name);
	rep.attr = meta_attr_out(&in, &a[0]);
	rep.dir_before = meta_attr_out(&before, &a[1]);
	rep.dir_after = meta_attr_out(&after, &a[2]);
	return rpc_reply_pack(out, &rep.base);
}

int meta_h_readlink(void *arg, const ProtobufCMessage *m, struct rpc_reply *out)
{
	const Zerofs__ReadLinkReq *req = (const Zerofs__ReadLinkReq *)m;
	Zerofs__ReadLinkReply rep = ZEROFS__READ_LINK_REPLY__INIT;
	struct meta_handle h;
	struct meta_inode in;
	char *target = NULL;
	Zerofs__Attr a;
	int rc;

	rc = meta_handle_in(req->fh, &h);
	if (rc == 0)
		rc = meta_fs_readlink(SVC(arg)->fs, &h, &target, &in);
	if (rc < 0)
		return meta_fail(out, rc, "readlink", "handle");
	rep.target = target;
	rep.attr = meta_attr_out(&in, &a);
	rc = rpc_reply_pack(out, &rep.base);
	free(target);
	return rc;
}
