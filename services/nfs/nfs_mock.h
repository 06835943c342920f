/*
 * What the gateway's end-to-end tests share: mock metadata and chunk
 * services (an in-memory namespace of a few inodes, reached over
 * inproc://), the gateway started once on a free 127.0.0.1 port, and
 * helpers that build calls byte by byte with the XDR encoder.  Included
 * by one test file each; not part of the gateway.
 */
#ifndef ZEROFS_NFS_MOCK_H
#define ZEROFS_NFS_MOCK_H

#include "nfs/nfs.h"
#include "nfs/nfs_gw.h"
#include "log.h"
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MOCK_INODES 32
#define MOCK_GEN    7
#define MOCK_DATA   (1 << 20)

struct mock_inode {
	bool used;
	Zerofs__Attr attr;
	uint64_t parent;
	char name[64];
	uint8_t data[MOCK_DATA];
};

static struct mock_inode mock[MOCK_INODES];
static pthread_mutex_t mock_lock = PTHREAD_MUTEX_INITIALIZER;

/* The inode a handle names, or NULL; *err gets ESTALE for a wrong gen. */
static struct mock_inode *mock_get(const Zerofs__Handle *h, int *err)
{
	*err = -ESTALE;
	if (h == NULL || h->ino == 0 || h->ino >= MOCK_INODES ||
	    !mock[h->ino].used || mock[h->ino].attr.gen != h->gen)
		return NULL;
	return &mock[h->ino];
}

static struct mock_inode *mock_find(uint64_t dir, const char *name)
{
	int i;

	for (i = 2; i < MOCK_INODES; i++)
		if (mock[i].used && mock[i].parent == dir &&
		    strcmp(mock[i].name, name) == 0)
			return &mock[i];
	return NULL;
}

static int mock_getattr(void *arg, const ProtobufCMessage *m,
			struct rpc_reply *out)
{
	const Zerofs__GetAttrReq *req = (const void *)m;
	Zerofs__GetAttrReply rep = ZEROFS__GET_ATTR_REPLY__INIT;
	struct mock_inode *in = req->root ? &mock[1] : NULL;
	int err = 0;

	(void)arg;
	if (in == NULL)
		in = mock_get(req->fh, &err);
	if (in == NULL)
		return rpc_reply_error(out, err, "getattr");
	rep.attr = &in->attr;
	return rpc_reply_pack(out, &rep.base);
}

static int mock_lookup(void *arg, const ProtobufCMessage *m,
		       struct rpc_reply *out)
{
	const Zerofs__LookupReq *req = (const void *)m;
	Zerofs__LookupReply rep = ZEROFS__LOOKUP_REPLY__INIT;
	struct mock_inode *d, *in;
	int err;

	(void)arg;
	d = mock_get(req->dir, &err);
	if (d == NULL)
		return rpc_reply_error(out, err, "lookup");
	if (d->attr.type != ZEROFS__FILE_TYPE__FT_DIR)
		return rpc_reply_error(out, -ENOTDIR, "lookup");
	in = mock_find(d->attr.ino, req->name);
	if (in == NULL)
		return rpc_reply_error(out, -ENOENT, "lookup");
	rep.attr = &in->attr;
	rep.dir = &d->attr;
	return rpc_reply_pack(out, &rep.base);
}

static int mock_create(void *arg, const ProtobufCMessage *m,
		       struct rpc_reply *out)
{
	const Zerofs__CreateReq *req = (const void *)m;
	Zerofs__CreateReply rep = ZEROFS__CREATE_REPLY__INIT;
	struct mock_inode *d;
	int i, err;

	(void)arg;
	d = mock_get(req->dir, &err);
	if (d == NULL)
		return rpc_reply_error(out, err, "create");
	if (mock_find(d->attr.ino, req->name) != NULL)
		return rpc_reply_error(out, -EEXIST, "create");
	for (i = 2; i < MOCK_INODES && mock[i].used; i++)
		;
	if (i == MOCK_INODES)
		return rpc_reply_error(out, -ENOSPC, "create");
	memset(&mock[i], 0, sizeof(mock[i]));
	mock[i].used = true;
	mock[i].parent = d->attr.ino;
	snprintf(mock[i].name, sizeof(mock[i].name), "%s", req->name);
	zerofs__attr__init(&mock[i].attr);
	mock[i].attr.ino = (uint64_t)i;
	mock[i].attr.gen = MOCK_GEN;
	mock[i].attr.type = req->type;
	mock[i].attr.mode = req->mode;
	mock[i].attr.uid = req->uid;
	mock[i].attr.gid = req->gid;
	mock[i].attr.nlink = 1;
	rep.attr = &mock[i].attr;
	rep.dir_after = &d->attr;
	return rpc_reply_pack(out, &rep.base);
}

static int mock_readdir(void *arg, const ProtobufCMessage *m,
			struct rpc_reply *out)
{
	const Zerofs__ReadDirReq *req = (const void *)m;
	Zerofs__ReadDirReply rep = ZEROFS__READ_DIR_REPLY__INIT;
	Zerofs__DirEntry ents[MOCK_INODES], *ptrs[MOCK_INODES];
	struct mock_inode *d;
	int i, err;

	(void)arg;
	d = mock_get(req->dir, &err);
	if (d == NULL)
		return rpc_reply_error(out, err, "readdir");
	rep.entries = ptrs;
	rep.eof = true;
	for (i = 2; i < MOCK_INODES; i++) {
		if (!mock[i].used || mock[i].parent != d->attr.ino ||
		    (uint64_t)i <= req->cookie)
			continue;
		if (rep.n_entries == req->max_entries) {
			rep.eof = false;
			break;
		}
		zerofs__dir_entry__init(&ents[rep.n_entries]);
		ents[rep.n_entries].name = mock[i].name;
		ents[rep.n_entries].ino = (uint64_t)i;
		ents[rep.n_entries].cookie = (uint64_t)i;
		ents[rep.n_entries].attr = req->plus ? &mock[i].attr : NULL;
		ptrs[rep.n_entries] = &ents[rep.n_entries];
		rep.n_entries++;
	}
	rep.dir = &d->attr;
	return rpc_reply_pack(out, &rep.base);
}

static int mock_flush(void *arg, const ProtobufCMessage *m,
		      struct rpc_reply *out)
{
	Zerofs__FlushReply rep = ZEROFS__FLUSH_REPLY__INIT;

	(void)arg;
	(void)m;
	rep.seq = 1;
	return rpc_reply_pack(out, &rep.base);
}

/* READs the mock chunk service has served, so a test can tell served
 * calls from dropped ones. */
static atomic_int mock_reads;

static int mock_read(void *arg, const ProtobufCMessage *m,
		     struct rpc_reply *out)
{
	const Zerofs__ReadReq *req = (const void *)m;
	Zerofs__ReadReply rep = ZEROFS__READ_REPLY__INIT;
	struct mock_inode *in;
	uint64_t end;

	atomic_fetch_add(&mock_reads, 1);
	int err;

	(void)arg;
	in = mock_get(req->fh, &err);
	if (in == NULL)
		return rpc_reply_error(out, err, "read");
	end = req->offset + req->count;
	if (end > in->attr.size)
		end = in->attr.size;
	if (req->offset < end) {
		rep.data.data = in->data + req->offset;
		rep.data.len = end - req->offset;
	}
	rep.eof = end >= in->attr.size;
	rep.attr = &in->attr;
	return rpc_reply_pack(out, &rep.base);
}

static int mock_write(void *arg, const ProtobufCMessage *m,
		      struct rpc_reply *out)
{
	const Zerofs__WriteReq *req = (const void *)m;
	Zerofs__WriteReply rep = ZEROFS__WRITE_REPLY__INIT;
	struct mock_inode *in;
	Zerofs__Attr before;
	int err;

	(void)arg;
	in = mock_get(req->fh, &err);
	if (in == NULL)
		return rpc_reply_error(out, err, "write");
	if (req->offset + req->data.len > MOCK_DATA)
		return rpc_reply_error(out, -EFBIG, "write");
	before = in->attr;
	memcpy(in->data + req->offset, req->data.data, req->data.len);
	if (req->offset + req->data.len > in->attr.size)
		in->attr.size = req->offset + req->data.len;
	rep.before = &before;
	rep.attr = &in->attr;
	rep.committed = req->stable;
	return rpc_reply_pack(out, &rep.base);
}

static int mock_setattr(void *arg, const ProtobufCMessage *m,
			struct rpc_reply *out)
{
	const Zerofs__SetAttrReq *req = (const void *)m;
	Zerofs__SetAttrReply rep = ZEROFS__SET_ATTR_REPLY__INIT;
	struct mock_inode *in;
	Zerofs__Attr before;
	int err;

	(void)arg;
	in = mock_get(req->fh, &err);
	if (in == NULL)
		return rpc_reply_error(out, err, "setattr");
	before = in->attr;
	if (req->valid & ZEROFS__SET_ATTR_BIT__SA_MODE)
		in->attr.mode = req->mode;
	if (req->valid & ZEROFS__SET_ATTR_BIT__SA_MTIME)
		in->attr.mtime_sec = req->mtime_sec;
	rep.before = &before;
	rep.attr = &in->attr;
	return rpc_reply_pack(out, &rep.base);
}

static int mock_truncate(void *arg, const ProtobufCMessage *m,
			 struct rpc_reply *out)
{
	const Zerofs__ChunkTruncateReq *req = (const void *)m;
	Zerofs__ChunkTruncateReply rep = ZEROFS__CHUNK_TRUNCATE_REPLY__INIT;
	struct mock_inode *in;
	Zerofs__Attr before;
	int err;

	(void)arg;
	in = mock_get(req->fh, &err);
	if (in == NULL)
		return rpc_reply_error(out, err, "truncate");
	if (req->size > MOCK_DATA)
		return rpc_reply_error(out, -EFBIG, "truncate");
	before = in->attr;
	if (req->size > in->attr.size)
		memset(in->data + in->attr.size, 0, req->size - in->attr.size);
	in->attr.size = req->size;
	rep.before = &before;
	rep.attr = &in->attr;
	return rpc_reply_pack(out, &rep.base);
}

/* Handlers run on several threads; one lock keeps the namespace whole. */
#define MOCK_LOCKED(fn)                                                        \
	static int fn##_locked(void *arg, const ProtobufCMessage *m,           \
			       struct rpc_reply *out)                          \
	{                                                                      \
		int rc;                                                        \
		pthread_mutex_lock(&mock_lock);                                \
		rc = fn(arg, m, out);                                          \
		pthread_mutex_unlock(&mock_lock);                              \
		return rc;                                                     \
	}
MOCK_LOCKED(mock_getattr)
MOCK_LOCKED(mock_lookup)
MOCK_LOCKED(mock_create)
MOCK_LOCKED(mock_readdir)
MOCK_LOCKED(mock_read)
MOCK_LOCKED(mock_write)
MOCK_LOCKED(mock_setattr)
MOCK_LOCKED(mock_truncate)

static const struct rpc_method mock_meta_methods[] = {
	{ ZEROFS__META_METHOD__META_GETATTR, &zerofs__get_attr_req__descriptor,
	  mock_getattr_locked },
	{ ZEROFS__META_METHOD__META_LOOKUP, &zerofs__lookup_req__descriptor,
	  mock_lookup_locked },
	{ ZEROFS__META_METHOD__META_CREATE, &zerofs__create_req__descriptor,
	  mock_create_locked },
	{ ZEROFS__META_METHOD__META_READDIR, &zerofs__read_dir_req__descriptor,
	  mock_readdir_locked },
	{ ZEROFS__META_METHOD__META_FLUSH, &zerofs__flush_req__descriptor,
	  mock_flush },
	{ ZEROFS__META_METHOD__META_SETATTR, &zerofs__set_attr_req__descriptor,
	  mock_setattr_locked },
};

static const struct rpc_method mock_chunk_methods[] = {
	{ ZEROFS__CHUNK_METHOD__CHUNK_READ, &zerofs__read_req__descriptor,
	  mock_read_locked },
	{ ZEROFS__CHUNK_METHOD__CHUNK_WRITE, &zerofs__write_req__descriptor,
	  mock_write_locked },
	{ ZEROFS__CHUNK_METHOD__CHUNK_TRUNCATE,
	  &zerofs__chunk_truncate_req__descriptor, mock_truncate_locked },
};

static struct {
	bool up;
	int port;
	void *gw;
	struct rpc_server *meta, *chunk;
} env;

static inline int port_pick(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd, port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Starts the mocks and the gateway once; the last case stops them. */
static inline bool env_up(void)
{
	struct service_endpoints ep;
	struct config cfg;

	if (env.up)
		return true;
	/* The mocks lack methods on purpose; their refusals are not news. */
	zlog_level = LOG_ERR;
	mock[1].used = true;
	zerofs__attr__init(&mock[1].attr);
	mock[1].attr.ino = 1;
	mock[1].attr.gen = MOCK_GEN;
	mock[1].attr.type = ZEROFS__FILE_TYPE__FT_DIR;
	mock[1].attr.mode = 0755;
	mock[1].attr.nlink = 2;
	snprintf(ep.metadata, sizeof(ep.metadata), "inproc://nfs-test-meta");
	snprintf(ep.chunk, sizeof(ep.chunk), "inproc://nfs-test-chunk");
	snprintf(ep.flusher, sizeof(ep.flusher), "inproc://nfs-test-flusher");
	if (rpc_server_start("mock-meta", ep.metadata, mock_meta_methods, 6,
			     NULL, 4, &env.meta) < 0 ||
	    rpc_server_start("mock-chunk", ep.chunk, mock_chunk_methods, 3,
			     NULL, 4, &env.chunk) < 0)
		return false;
	config_defaults(&cfg, "/tmp/nfs-gateway-test");
	env.port = port_pick();
	snprintf(cfg.servers.nfs.addrs[0], sizeof(cfg.servers.nfs.addrs[0]),
		 "127.0.0.1:%d", env.port);
	if (nfs_service_start(&cfg, &ep, &env.gw) < 0)
		return false;
	env.up = true;
	return true;
}

static inline int conn_open(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 10 };
	int fd;

	if (!env_up())
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)env.port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline int sock_read_cb(void *arg, void *buf, size_t n)
{
	int fd = *(int *)arg;
	uint8_t *p = buf;
	ssize_t got;

	while (n > 0) {
		got = recv(fd, p, n, 0);
		if (got <= 0)
			return -EPIPE;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* Starts a call record: room for the mark, then the call header. */
static inline void call_start(struct xdr_enc *e, uint32_t prog, uint32_t vers,
			      uint32_t proc)
{
	xdr_enc_init(e);
	xdr_put_u32(e, 0);
	xdr_put_u32(e, 42);
	xdr_put_u32(e, RPC_CALL);
	xdr_put_u32(e, RPC_VERSION);
	xdr_put_u32(e, prog);
	xdr_put_u32(e, vers);
	xdr_put_u32(e, proc);
	xdr_put_u32(e, RPC_AUTH_NONE);
	xdr_put_u32(e, 0);
	xdr_put_u32(e, RPC_AUTH_NONE);
	xdr_put_u32(e, 0);
}

/* Sends the call, reads the reply record into rec and leaves d at the
 * reply's body after checking xid, REPLY and MSG_ACCEPTED.  Returns the
 * accept_stat, or -1. */
static inline int call_send(int fd, struct xdr_enc *e,
			    struct oncrpc_record *rec, struct xdr_dec *d)
{
	uint32_t xid, type, stat, vf, vl, astat;

	oncrpc_record_seal(e);
	if (send(fd, e->buf, e->len, MSG_NOSIGNAL) != (ssize_t)e->len)
		return -1;
	xdr_enc_fini(e);
	oncrpc_record_init(rec, 4 << 20);
	if (oncrpc_record_read(rec, sock_read_cb, &fd) < 0)
		return -1;
	xdr_dec_init(d, rec->buf, rec->len);
	if (!xdr_u32(d, &xid) || !xdr_u32(d, &type) || !xdr_u32(d, &stat) ||
	    xid != 42 || type != RPC_REPLY || stat != RPC_MSG_ACCEPTED)
		return -1;
	if (!xdr_u32(d, &vf) || !xdr_u32(d, &vl) || !xdr_u32(d, &astat))
		return -1;
	return (int)astat;
}

/* MNT of path; returns the mountstat3 and fills fh on success. */
static inline int mount_path(int fd, const char *path, struct nfs_fh *fh)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t st = 99;

	call_start(&e, MOUNT_PROGRAM, MOUNT_V3, MOUNTPROC3_MNT);
	xdr_put_string(&e, path);
	if (call_send(fd, &e, &rec, &d) == RPC_SUCCESS && xdr_u32(&d, &st) &&
	    st == MNT3_OK)
		nfs_fh_decode(&d, fh);
	oncrpc_record_fini(&rec);
	return (int)st;
}

static inline struct nfs_fh root_fh(int fd)
{
	struct nfs_fh fh = { 0 };

	mount_path(fd, "/", &fh);
	return fh;
}

/* CREATE name (UNCHECKED, no attributes) in dir; returns the nfsstat3. */
static inline int create_file(int fd, const struct nfs_fh *dir,
			      const char *name, uint32_t type_proc,
			      struct nfs_fh *out)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t st = 99;
	bool has;
	int i;

	call_start(&e, NFS_PROGRAM, NFS_V3, type_proc);
	nfs_fh_encode(&e, dir->ino, dir->gen);
	xdr_put_string(&e, name);
	if (type_proc == NFSPROC3_CREATE)
		xdr_put_u32(&e, UNCHECKED);
	for (i = 0; i < 6; i++)
		xdr_put_u32(&e, 0); /* sattr3: nothing set */
	if (call_send(fd, &e, &rec, &d) == RPC_SUCCESS && xdr_u32(&d, &st) &&
	    st == NFS3_OK && xdr_bool(&d, &has) && has)
		nfs_fh_decode(&d, out);
	oncrpc_record_fini(&rec);
	return (int)st;
}

/* Stops the gateway and the mocks. */
static inline void env_down(void)
{
	nfs_service_stop(env.gw);
	rpc_server_stop(env.chunk);
	rpc_server_stop(env.meta);
	env.up = false;
}

/* True once the server has closed the connection. */
static inline bool conn_closed_by_server(int fd)
{
	uint8_t b;

	return recv(fd, &b, 1, 0) == 0;
}

#endif
