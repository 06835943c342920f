/*
 * The gateway end to end over TCP on 127.0.0.1, against mock metadata and
 * chunk services (an in-memory namespace of a few inodes) reached over
 * inproc://.  Calls are built byte by byte with the XDR encoder, so the
 * RPC-level answers (mismatches, garbage, closed connections) are checked
 * as a client sees them.
 */
#include "nfs/nfs.h"
#include "nfs/nfs_gw.h"
#include "log.h"
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/wait.h>
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

static int mock_read(void *arg, const ProtobufCMessage *m,
		     struct rpc_reply *out)
{
	const Zerofs__ReadReq *req = (const void *)m;
	Zerofs__ReadReply rep = ZEROFS__READ_REPLY__INIT;
	struct mock_inode *in;
	uint64_t end;
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

static int port_pick(void)
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
static bool env_up(void)
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

static int conn_open(void)
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

static int sock_read_cb(void *arg, void *buf, size_t n)
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
static void call_start(struct xdr_enc *e, uint32_t prog, uint32_t vers,
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
static int call_send(int fd, struct xdr_enc *e, struct oncrpc_record *rec,
		     struct xdr_dec *d)
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
static int mount_path(int fd, const char *path, struct nfs_fh *fh)
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

static struct nfs_fh root_fh(int fd)
{
	struct nfs_fh fh = { 0 };

	mount_path(fd, "/", &fh);
	return fh;
}

/* CREATE name (UNCHECKED, no attributes) in dir; returns the nfsstat3. */
static int create_file(int fd, const struct nfs_fh *dir, const char *name,
		       uint32_t type_proc, struct nfs_fh *out)
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

TEST(null_call_succeeds_with_an_empty_body)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	int fd = conn_open();

	CHECK(fd >= 0);
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_NULL);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_SUCCESS);
	CHECK_EQ(xdr_dec_left(&d), 0);
	oncrpc_record_fini(&rec);
	close(fd);
}

TEST(mount_of_root_returns_the_root_handle)
{
	struct nfs_fh fh = { 0 };
	int fd = conn_open();

	CHECK_EQ(mount_path(fd, "/", &fh), MNT3_OK);
	CHECK(fh.valid);
	CHECK_EQ(fh.ino, 1);
	CHECK_EQ(fh.gen, MOCK_GEN);
	close(fd);
}

TEST(mount_of_a_missing_path_is_noent)
{
	struct nfs_fh fh;
	int fd = conn_open();

	CHECK_EQ(mount_path(fd, "/nowhere", &fh), MNT3ERR_NOENT);
	close(fd);
}

TEST(mount_of_a_file_is_notdir_and_of_a_subdir_works)
{
	struct nfs_fh root, f, sub, got = { 0 };
	int fd = conn_open();

	root = root_fh(fd);
	CHECK_EQ(create_file(fd, &root, "mfile", NFSPROC3_CREATE, &f), NFS3_OK);
	CHECK_EQ(create_file(fd, &root, "mdir", NFSPROC3_MKDIR, &sub), NFS3_OK);
	CHECK_EQ(mount_path(fd, "/mfile", &got), MNT3ERR_NOTDIR);
	CHECK_EQ(mount_path(fd, "/mdir/", &got), MNT3_OK);
	CHECK_EQ(got.ino, sub.ino);
	close(fd);
}

static int write_file(int fd, const struct nfs_fh *fh, const char *s,
		      uint32_t *count, uint8_t *verf)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t st = 99, committed;
	bool b;

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_WRITE);
	nfs_fh_encode(&e, fh->ino, fh->gen);
	xdr_put_u64(&e, 0);
	xdr_put_u32(&e, (uint32_t)strlen(s));
	xdr_put_u32(&e, FILE_SYNC);
	xdr_put_string(&e, s);
	if (call_send(fd, &e, &rec, &d) == RPC_SUCCESS && xdr_u32(&d, &st) &&
	    st == NFS3_OK) {
		/* wcc_data: pre_op_attr (size, mtime, ctime), post_op_attr */
		CHECK(xdr_bool(&d, &b) && b && xdr_skip(&d, 24));
		CHECK(xdr_bool(&d, &b) && b && xdr_skip(&d, 84));
		CHECK(xdr_u32(&d, count) && xdr_u32(&d, &committed));
		CHECK_EQ(committed, FILE_SYNC);
		CHECK(xdr_opaque_fixed(&d, verf, 8));
	}
	oncrpc_record_fini(&rec);
	return (int)st;
}

TEST(written_bytes_read_back_with_eof)
{
	struct oncrpc_record rec;
	struct nfs_fh root, f;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t st = 99, count = 0, n;
	const uint8_t *data;
	uint8_t verf[8];
	bool b, eof;
	int fd = conn_open();

	root = root_fh(fd);
	CHECK_EQ(create_file(fd, &root, "rw", NFSPROC3_CREATE, &f), NFS3_OK);
	CHECK_EQ(write_file(fd, &f, "hello", &count, verf), NFS3_OK);
	CHECK_EQ(count, 5);
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_READ);
	nfs_fh_encode(&e, f.ino, f.gen);
	xdr_put_u64(&e, 1);
	xdr_put_u32(&e, 100);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_SUCCESS);
	CHECK(xdr_u32(&d, &st) && xdr_bool(&d, &b) && b && xdr_skip(&d, 84));
	CHECK_EQ(st, NFS3_OK);
	CHECK(xdr_u32(&d, &count) && xdr_bool(&d, &eof) &&
	      xdr_opaque_var(&d, 100, &data, &n));
	CHECK_EQ(count, 4);
	CHECK(eof);
	CHECK(n == 4 && memcmp(data, "ello", 4) == 0);
	oncrpc_record_fini(&rec);
	close(fd);
}

TEST(commit_returns_the_write_verifier)
{
	struct oncrpc_record rec;
	struct nfs_fh root, f;
	struct xdr_enc e;
	struct xdr_dec d;
	uint8_t verf[8], cverf[8];
	uint32_t st = 99, count;
	bool b;
	int fd = conn_open();

	root = root_fh(fd);
	CHECK_EQ(create_file(fd, &root, "c", NFSPROC3_CREATE, &f), NFS3_OK);
	CHECK_EQ(write_file(fd, &f, "x", &count, verf), NFS3_OK);
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_COMMIT);
	nfs_fh_encode(&e, f.ino, f.gen);
	xdr_put_u64(&e, 0);
	xdr_put_u32(&e, 0);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_SUCCESS);
	CHECK(xdr_u32(&d, &st) && st == NFS3_OK);
	CHECK(xdr_bool(&d, &b) && b && xdr_skip(&d, 24));
	CHECK(xdr_bool(&d, &b) && b && xdr_skip(&d, 84));
	CHECK(xdr_opaque_fixed(&d, cverf, 8));
	CHECK(memcmp(verf, cverf, 8) == 0);
	oncrpc_record_fini(&rec);
	close(fd);
}

/* One READDIR from cookie; appends the names to seen, returns the status
 * and sets *cookie to the last entry's and *eof. */
static int readdir_once(int fd, const struct nfs_fh *dir, uint32_t count,
			uint64_t *cookie, bool *eof, char *seen, size_t len)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t st = 99;
	uint64_t ino;
	char name[256];
	bool b, more;

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_READDIR);
	nfs_fh_encode(&e, dir->ino, dir->gen);
	xdr_put_u64(&e, *cookie);
	xdr_put_u64(&e, 0);
	xdr_put_u32(&e, count);
	if (call_send(fd, &e, &rec, &d) != RPC_SUCCESS || !xdr_u32(&d, &st) ||
	    st != NFS3_OK)
		goto out;
	CHECK(xdr_bool(&d, &b) && b && xdr_skip(&d, 84) && xdr_skip(&d, 8));
	while (xdr_bool(&d, &more) && more) {
		CHECK(xdr_u64(&d, &ino) && xdr_string(&d, 255, name, 256) &&
		      xdr_u64(&d, cookie));
		strncat(seen, name, len - strlen(seen) - 2);
		strcat(seen, ",");
	}
	CHECK(xdr_bool(&d, eof));
	CHECK(rec.len - 24 <= count); /* the RPC reply header is not counted */
out:
	oncrpc_record_fini(&rec);
	return (int)st;
}

TEST(readdir_resumes_from_the_last_cookie_that_fit)
{
	struct nfs_fh root, dir, f;
	char seen[256] = "", name[16];
	uint64_t cookie = 0;
	bool eof = false;
	int i, calls = 0, fd = conn_open();

	root = root_fh(fd);
	CHECK_EQ(create_file(fd, &root, "ld", NFSPROC3_MKDIR, &dir), NFS3_OK);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		CHECK_EQ(create_file(fd, &dir, name, NFSPROC3_CREATE, &f),
			 NFS3_OK);
	}
	while (!eof && calls++ < 10)
		CHECK_EQ(readdir_once(fd, &dir, 108 + 2 * 28, &cookie, &eof,
				      seen, sizeof(seen)),
			 NFS3_OK);
	CHECK_EQ(calls, 3);
	CHECK(strcmp(seen, "e0,e1,e2,e3,e4,") == 0);
	close(fd);
}

TEST(readdir_budget_below_one_entry_is_toosmall)
{
	struct nfs_fh root = { 0 };
	char seen[64] = "";
	uint64_t cookie = 0;
	bool eof;
	int fd = conn_open();

	root = root_fh(fd);
	CHECK_EQ(
	    readdir_once(fd, &root, 110, &cookie, &eof, seen, sizeof(seen)),
	    NFS3ERR_TOOSMALL);
	close(fd);
}

/* GETATTR with raw handle bytes; returns the nfsstat3. */
static int getattr_raw(int fd, const void *fh, uint32_t len)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t st = 99;

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_GETATTR);
	xdr_put_opaque_var(&e, fh, len);
	if (call_send(fd, &e, &rec, &d) == RPC_SUCCESS)
		xdr_u32(&d, &st);
	oncrpc_record_fini(&rec);
	return (int)st;
}

TEST(handle_of_the_wrong_length_is_badhandle_on_the_wire)
{
	int fd = conn_open();

	CHECK_EQ(getattr_raw(fd, "\1abc", 4), NFS3ERR_BADHANDLE);
	close(fd);
}

TEST(handle_of_an_old_generation_is_stale)
{
	struct xdr_enc h;
	int fd = conn_open();

	xdr_enc_init(&h);
	nfs_fh_encode(&h, 1, MOCK_GEN + 1);
	CHECK_EQ(getattr_raw(fd, h.buf + 4, 13), NFS3ERR_STALE);
	xdr_enc_fini(&h);
	close(fd);
}

/* Sends a call record and returns the raw reply words after the xid. */
static int raw_reply(int fd, struct xdr_enc *e, uint32_t *w, int n)
{
	struct oncrpc_record rec;
	struct xdr_dec d;
	uint32_t xid;
	int i;

	oncrpc_record_seal(e);
	if (send(fd, e->buf, e->len, MSG_NOSIGNAL) != (ssize_t)e->len)
		return -1;
	xdr_enc_fini(e);
	oncrpc_record_init(&rec, 1 << 16);
	if (oncrpc_record_read(&rec, sock_read_cb, &fd) < 0)
		return -1;
	xdr_dec_init(&d, rec.buf, rec.len);
	xdr_u32(&d, &xid);
	for (i = 0; i < n && xdr_u32(&d, &w[i]); i++)
		;
	oncrpc_record_fini(&rec);
	return i;
}

TEST(rpc_version_other_than_2_is_denied_with_2_to_2)
{
	struct xdr_enc e;
	uint32_t w[5];
	int fd = conn_open();

	xdr_enc_init(&e);
	xdr_put_u32(&e, 0);
	xdr_put_u32(&e, 42);
	xdr_put_u32(&e, RPC_CALL);
	xdr_put_u32(&e, 3);
	CHECK_EQ(raw_reply(fd, &e, w, 5), 5);
	CHECK_EQ(w[1], RPC_MSG_DENIED);
	CHECK_EQ(w[2], RPC_MISMATCH);
	CHECK(w[3] == 2 && w[4] == 2);
	close(fd);
}

TEST(unknown_flavor_is_denied_as_bad_credential)
{
	struct xdr_enc e;
	uint32_t w[4];
	int fd = conn_open();

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_NULL);
	xdr_patch_u32(&e, 28, 6);
	CHECK_EQ(raw_reply(fd, &e, w, 4), 4);
	CHECK_EQ(w[1], RPC_MSG_DENIED);
	CHECK_EQ(w[2], RPC_AUTH_ERROR);
	CHECK_EQ(w[3], RPC_AUTH_BADCRED);
	close(fd);
}

TEST(unserved_program_version_and_procedure_are_told_apart)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t lo = 0, hi = 0;
	int fd = conn_open();

	call_start(&e, 100099, 1, 0);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_PROG_UNAVAIL);
	oncrpc_record_fini(&rec);
	call_start(&e, NFS_PROGRAM, 2, 0);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_PROG_MISMATCH);
	CHECK(xdr_u32(&d, &lo) && xdr_u32(&d, &hi));
	CHECK(lo == 3 && hi == 3);
	oncrpc_record_fini(&rec);
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_COUNT);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_PROC_UNAVAIL);
	oncrpc_record_fini(&rec);
	call_start(&e, MOUNT_PROGRAM, MOUNT_V3, MOUNTPROC3_EXPORT + 1);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_PROC_UNAVAIL);
	oncrpc_record_fini(&rec);
	close(fd);
}

TEST(arguments_cut_short_are_garbage_args)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	int fd = conn_open();

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_READ);
	xdr_put_u32(&e, 13);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_GARBAGE_ARGS);
	oncrpc_record_fini(&rec);
	close(fd);
}

static bool conn_closed_by_server(int fd)
{
	uint8_t b;

	return recv(fd, &b, 1, 0) == 0;
}

TEST(record_claiming_2_gib_closes_only_its_connection)
{
	static const uint8_t mark[] = { 0xff, 0xff, 0xff, 0xff };
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	int fd = conn_open(), other = conn_open();

	CHECK(send(fd, mark, sizeof(mark), MSG_NOSIGNAL) == 4);
	CHECK(conn_closed_by_server(fd));
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_NULL);
	CHECK_EQ(call_send(other, &e, &rec, &d), RPC_SUCCESS);
	oncrpc_record_fini(&rec);
	close(fd);
	close(other);
}

TEST(reply_message_from_a_client_closes_the_connection)
{
	struct xdr_enc e;
	int fd = conn_open();

	xdr_enc_init(&e);
	xdr_put_u32(&e, 0);
	xdr_put_u32(&e, 42);
	xdr_put_u32(&e, RPC_REPLY);
	xdr_put_u32(&e, 0);
	oncrpc_record_seal(&e);
	CHECK(send(fd, e.buf, e.len, MSG_NOSIGNAL) == (ssize_t)e.len);
	CHECK(conn_closed_by_server(fd));
	xdr_enc_fini(&e);
	close(fd);
}

/* A small deterministic generator, so a failure can be replayed. */
static uint32_t fuzz_next(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

/* One call of a random procedure with random arguments, half of them
 * opening with a valid handle so that decoding gets past it.  Returns
 * the accept_stat, or -1 if the connection broke. */
static int fuzz_call(int fd, uint32_t *st, const struct nfs_fh *root)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t i, n, mount = fuzz_next(st) % 4 == 0;
	int rc;

	if (mount)
		call_start(&e, MOUNT_PROGRAM, MOUNT_V3, fuzz_next(st) % 6);
	else
		call_start(&e, NFS_PROGRAM, NFS_V3, fuzz_next(st) % 22);
	if (fuzz_next(st) % 2)
		nfs_fh_encode(&e, root->ino, root->gen);
	n = fuzz_next(st) % 24;
	for (i = 0; i < n; i++)
		xdr_put_u32(&e, fuzz_next(st) % 3 ? fuzz_next(st) % 300
						  : fuzz_next(st));
	rc = call_send(fd, &e, &rec, &d);
	oncrpc_record_fini(&rec);
	return rc;
}

TEST(random_arguments_get_answers_and_the_server_lives_on)
{
	struct oncrpc_record rec;
	struct nfs_fh root;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t st = 12345;
	int i, rc, fd = conn_open();

	root = root_fh(fd);
	for (i = 0; i < 2000; i++) {
		rc = fuzz_call(fd, &st, &root);
		if (rc != RPC_SUCCESS && rc != RPC_GARBAGE_ARGS) {
			CHECK_EQ(rc, RPC_SUCCESS);
			break;
		}
	}
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_NULL);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_SUCCESS);
	oncrpc_record_fini(&rec);
	close(fd);
}

/* Runs a shell command line and returns its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* libnfs 4.0 takes what comes before a URL's last slash as the export,
 * so a file at the root is written "//name" (export "/"). */
TEST(libnfs_tools_copy_list_and_read_back_a_file)
{
	char dir[] = "/tmp/nfs-gateway-test-XXXXXX";

	CHECK(env_up());
	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ(sh("head -c 300000 /dev/urandom > %s/in", dir), 0);
	CHECK_EQ(sh("timeout 20 nfs-cp %s/in 'nfs://127.0.0.1//tool"
		    "?nfsport=%d&mountport=%d&version=3' >/dev/null 2>&1",
		    dir, env.port, env.port),
		 0);
	CHECK_EQ(sh("timeout 20 nfs-cat 'nfs://127.0.0.1//tool"
		    "?nfsport=%d&mountport=%d&version=3' > %s/out 2>/dev/null",
		    env.port, env.port, dir),
		 0);
	CHECK_EQ(sh("cmp -s %s/in %s/out", dir, dir), 0);
	CHECK_EQ(sh("timeout 20 nfs-ls 'nfs://127.0.0.1/"
		    "?nfsport=%d&mountport=%d&version=3' 2>/dev/null "
		    "| grep -q ' tool$'",
		    env.port, env.port),
		 0);
	sh("rm -rf %s", dir);
}

TEST(stop_closes_open_connections)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	int fd = conn_open();

	/* One call first, so the connection is served, not still queued. */
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_NULL);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_SUCCESS);
	oncrpc_record_fini(&rec);
	nfs_service_stop(env.gw);
	CHECK(conn_closed_by_server(fd));
	close(fd);
	rpc_server_stop(env.chunk);
	rpc_server_stop(env.meta);
	env.up = false;
}

TEST_MAIN(null_call_succeeds_with_an_empty_body,
	  mount_of_root_returns_the_root_handle,
	  mount_of_a_missing_path_is_noent,
	  mount_of_a_file_is_notdir_and_of_a_subdir_works,
	  written_bytes_read_back_with_eof, commit_returns_the_write_verifier,
	  readdir_resumes_from_the_last_cookie_that_fit,
	  readdir_budget_below_one_entry_is_toosmall,
	  handle_of_the_wrong_length_is_badhandle_on_the_wire,
	  handle_of_an_old_generation_is_stale,
	  rpc_version_other_than_2_is_denied_with_2_to_2,
	  unknown_flavor_is_denied_as_bad_credential,
	  unserved_program_version_and_procedure_are_told_apart,
	  arguments_cut_short_are_garbage_args,
	  record_claiming_2_gib_closes_only_its_connection,
	  reply_message_from_a_client_closes_the_connection,
	  libnfs_tools_copy_list_and_read_back_a_file,
	  random_arguments_get_answers_and_the_server_lives_on,
	  stop_closes_open_connections)
