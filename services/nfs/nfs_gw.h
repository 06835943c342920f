/*
 * What the gateway's files share: the gateway itself (its clients of the
 * metadata and chunk services and its write verifier), one decoded call,
 * and the shape of a procedure: decode the arguments, run them against
 * the services, encode the result.
 *
 * Arguments decode into one flat struct that holds every field any
 * procedure takes, so each decoder is a chain of bounded XDR reads.  A
 * run returns 0 or a negative errno and leaves in the result the protobuf
 * replies it got; their attributes are encoded straight from them, and the
 * dispatcher frees them once the reply is written.
 */
#ifndef ZEROFS_NFS_GW_H
#define ZEROFS_NFS_GW_H

#include "metadata.pb-c.h"
#include "chunk.pb-c.h"
#include "nfs/nfs_const.h"
#include "nfs/oncrpc.h"
#include "nfs/xdr.h"
#include "rpc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct config;

/* The root directory every path starts from.  MOUNT asks for it with
 * GetAttrReq.root and takes the handle from the reply, so the generation
 * here is only a placeholder the metadata service ignores. */
#define NFS_ROOT_INO 1
#define NFS_ROOT_GEN 0

/* Longest name taken off the wire; longer than NFS3_NAME_MAX so that a
 * too-long name gets NFS3ERR_NAMETOOLONG rather than GARBAGE_ARGS. */
#define NFS_NAME_WIRE_MAX 1024

/* Largest READ and WRITE, as FSINFO announces them. */
#define NFS_IO_MAX (1u << 20)

struct nfs_gw {
	struct rpc_client *meta;
	struct rpc_client *chunk;
	uint8_t write_verf[NFS3_WRITEVERFSIZE];
};

/* A file handle as it arrived: valid is false for one of the wrong length
 * or version, which the run turns into NFS3ERR_BADHANDLE. */
struct nfs_fh {
	bool valid;
	uint64_t ino;
	uint32_t gen;
};

struct nfs_time {
	uint32_t sec;
	uint32_t nsec;
};

struct nfs_sattr {
	bool set_mode, set_uid, set_gid, set_size;
	uint32_t mode, uid, gid;
	uint64_t size;
	uint32_t atime_how, mtime_how; /* time_how */
	struct nfs_time atime, mtime;
};

struct nfs_args {
	struct nfs_fh fh; /* the object, or the directory of `name` */
	char name[NFS_NAME_WIRE_MAX + 1];
	struct nfs_fh fh2; /* RENAME's and LINK's target directory */
	char name2[NFS_NAME_WIRE_MAX + 1];
	struct nfs_sattr sattr;
	bool guard;
	struct nfs_time guard_ctime;
	uint64_t offset; /* READ, WRITE, COMMIT; READDIR's cookie */
	uint32_t count;	 /* also READDIRPLUS's dircount */
	uint32_t maxcount;
	uint32_t access;
	uint32_t stable;
	uint32_t how;  /* createmode3 */
	uint32_t type; /* ftype3 of MKNOD */
	uint32_t major, minor;
	uint8_t verf[NFS3_CREATEVERFSIZE];
	const uint8_t *data; /* WRITE's bytes, inside the call's record */
	uint32_t datalen;
	char path[NFS3_PATH_MAX + 1]; /* SYMLINK target, MOUNT dirpath */
	/* A string that decoded but no call may take (too long, or holding
	 * a NUL byte): the run is skipped and this is the answer. */
	int arg_err;
};

#define NFS_RES_OWNED 4

struct nfs_res {
	int err;		    /* what run returned */
	uint32_t status;	    /* nfsstat3 of err */
	const Zerofs__Attr *attr;   /* the object after the call */
	const Zerofs__Attr *before; /* wcc of the object or directory */
	const Zerofs__Attr *after;
	const Zerofs__Attr *before2; /* RENAME's target directory */
	const Zerofs__Attr *after2;
	bool has_fh;
	struct nfs_fh fh; /* a new or looked-up object */
	uint32_t access;
	uint32_t count;
	uint32_t committed;
	bool eof;
	const uint8_t *data;
	uint32_t datalen;
	const char *target;
	const Zerofs__ReadDirReply *dir;
	const Zerofs__StatFsReply *statfs;
	uint32_t nentries;		  /* READDIR entries that fit */
	uint8_t verf[NFS3_WRITEVERFSIZE]; /* the gateway's write verifier */
	ProtobufCMessage *owned[NFS_RES_OWNED];
	int nowned;
};

/* One call being served. */
struct nfs_req {
	struct nfs_gw *gw;
	const struct oncrpc_call *call;
	const char *proc; /* its name, for log lines */
};

struct nfs_proc {
	const char *name;
	bool (*decode)(struct xdr_dec *d, struct nfs_args *a);
	int (*run)(struct nfs_req *rq, const struct nfs_args *a,
		   struct nfs_res *r);
	void (*encode)(struct xdr_enc *e, const struct nfs_res *r);
};

/* nfs_fh.c: the handle layout and the one errno mapping. */
void nfs_fh_encode(struct xdr_enc *e, uint64_t ino, uint32_t gen);
bool nfs_fh_decode(struct xdr_dec *d, struct nfs_fh *fh);
/* Fills a protobuf Handle; -EBADF for a handle that was not valid. */
int nfs_fh_to_pb(const struct nfs_fh *fh, Zerofs__Handle *h);
uint32_t nfs_status_from_errno(int err);
uint32_t nfs_mount_status_from_errno(int err);

/* nfs_attr.c: attribute encoders and the sattr3 decoder. */
void nfs_fattr_encode(struct xdr_enc *e, const Zerofs__Attr *a);
void nfs_post_op_attr_encode(struct xdr_enc *e, const Zerofs__Attr *a);
void nfs_wcc_encode(struct xdr_enc *e, const Zerofs__Attr *before,
		    const Zerofs__Attr *after);
void nfs_post_op_fh_encode(struct xdr_enc *e, bool has, uint64_t ino,
			   uint32_t gen);
bool nfs_sattr_decode(struct xdr_dec *d, struct nfs_sattr *s);
bool nfs_diropargs_decode(struct xdr_dec *d, struct nfs_args *a,
			  struct nfs_fh *fh, char *name);
/* A name or path of any length the record holds, copied into out (outlen
 * bytes) when it fits and holds no NUL byte; otherwise out is empty and
 * a->arg_err gets -ENAMETOOLONG or -EINVAL, so the client hears a status
 * instead of GARBAGE_ARGS.  False only when the bytes are not there. */
bool nfs_string_decode(struct xdr_dec *d, struct nfs_args *a, char *out,
		       size_t outlen);
/* 0, or -ENAMETOOLONG / -EINVAL for a name no directory may hold;
 * nfs_name_check_new also refuses "." and "..", which cannot be made,
 * removed or renamed. */
int nfs_name_check(const char *name);
int nfs_name_check_new(const char *name);
bool nfs_args_void_decode(struct xdr_dec *d, struct nfs_args *a);
bool nfs_args_fh_decode(struct xdr_dec *d, struct nfs_args *a);
bool nfs_args_dirop_decode(struct xdr_dec *d, struct nfs_args *a);
void nfs_res_void_encode(struct xdr_enc *e, const struct nfs_res *r);
/* The ACCESS3 bits of want that the caller holds on an object. */
uint32_t nfs_access_compute(const Zerofs__Attr *a,
			    const struct oncrpc_cred *cred, uint32_t want);

/* nfs_call.c: calls to the services.  On success *reply belongs to the
 * result r, which frees it after the reply is encoded.  Failures other
 * than ordinary client errors are logged here, once. */
int nfs_meta_call(struct nfs_req *rq, struct nfs_res *r, uint32_t method,
		  const ProtobufCMessage *req,
		  const ProtobufCMessageDescriptor *desc, void *reply);
int nfs_chunk_call(struct nfs_req *rq, struct nfs_res *r, uint32_t method,
		   const ProtobufCMessage *req,
		   const ProtobufCMessageDescriptor *desc, void *reply);
/* GETATTR of fh, kept in r->attr. */
int nfs_getattr(struct nfs_req *rq, struct nfs_res *r, const struct nfs_fh *fh,
		const Zerofs__Attr **attr);
void nfs_res_free(struct nfs_res *r);

/* The procedures, one per file group; nfs_dispatch.c indexes them. */
extern const struct nfs_proc nfs_proc_null, nfs_proc_getattr, nfs_proc_setattr,
    nfs_proc_lookup, nfs_proc_access, nfs_proc_readlink, nfs_proc_read,
    nfs_proc_write, nfs_proc_create, nfs_proc_mkdir, nfs_proc_symlink,
    nfs_proc_mknod, nfs_proc_remove, nfs_proc_rmdir, nfs_proc_rename,
    nfs_proc_link, nfs_proc_readdir, nfs_proc_readdirplus, nfs_proc_fsstat,
    nfs_proc_fsinfo, nfs_proc_pathconf, nfs_proc_commit;
extern const struct nfs_proc nfs_mount_null, nfs_mount_mnt, nfs_mount_dump,
    nfs_mount_umnt, nfs_mount_umntall, nfs_mount_export;

/* nfs_ratelimit.c: at most one log line per interval for an event that a
 * client or a failing service can repeat at will; the lines left out are
 * counted and the count is told with the next line. */
struct nfs_ratelimit {
	pthread_mutex_t lock;
	int64_t interval_ms;
	int64_t last_ms; /* when the last line was let through */
	bool any;	 /* a line was ever let through */
	unsigned long dropped;
};

/* The interval of every rate-limited warning. */
#define NFS_LOG_INTERVAL_MS 10000

#define NFS_RATELIMIT_INIT(ms)                                                 \
	{                                                                      \
		PTHREAD_MUTEX_INITIALIZER, (ms), 0, false, 0                   \
	}

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t nfs_now_ms(void);
/* True when a line may be logged at now_ms; *dropped gets the number of
 * events refused since the last line that passed. */
bool nfs_ratelimit_pass(struct nfs_ratelimit *rl, int64_t now_ms,
			unsigned long *dropped);

/* nfs_setup.c: the limits a connection lives under.  They are read when
 * the gateway starts; tests shorten them with nfs_limits_set first. */
struct nfs_limits {
	int idle_ms;	   /* no complete record for this long: close */
	int stall_ms;	   /* a record begun and no byte for this long: close */
	int send_ms;	   /* a reply that makes no progress this long: close */
	int max_conns;	   /* more connections are refused at accept */
	int conn_calls;	   /* calls read and not yet answered, per connection */
	size_t conn_bytes; /* bytes those calls may hold, per connection */
	int backend_ms;	   /* timeout of each call to a service */
};

void nfs_limits_get(struct nfs_limits *l);
void nfs_limits_set(const struct nfs_limits *l);
/* nfs_server.c, for tests: the connections open, and the most bytes of
 * requests and replies any one of them holds for its unanswered calls. */
void nfs_server_stats(void *handle, int *conns, size_t *bytes_max);

/* Whether an errno is the client's doing (logged at debug level) rather
 * than the gateway's or a service's (logged as a warning). */
bool nfs_err_is_client(int err);

/* nfs_dispatch.c: serves one call record and writes the whole reply
 * record, record mark included, into e.  Returns 0, or a negative errno
 * (-EBADMSG: not a call) when the connection must close instead. */
int nfs_dispatch(struct nfs_gw *gw, const uint8_t *rec, size_t len,
		 struct xdr_enc *e);

/* What the reply to a call record may weigh: NFS_REPLY_BASE, plus the
 * count READ, READDIR or READDIRPLUS asks for (at most NFS_IO_MAX).  The
 * server charges a connection this before it serves the call. */
#define NFS_REPLY_BASE (4u << 10)
size_t nfs_reply_estimate(const uint8_t *rec, size_t len);

/* nfs_setup.c: what the server sets up once at start. */
int nfs_listen_all(int *fds, int *nfds, const struct config *cfg);
void nfs_verf_make(uint8_t *verf);
void nfs_malloc_tune(void);

#endif
