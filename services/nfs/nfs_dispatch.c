/*
 * From one RPC record to one reply record: the call header is checked,
 * the program, version and procedure picked from the tables below, and the
 * procedure's decode, run and encode steps called in turn.  Every answer
 * the RFCs define for a call that cannot be served (RPC_MISMATCH,
 * AUTH_BADCRED, PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS)
 * is built here; only bytes that are not a call at all close the
 * connection.
 */
#include "nfs/nfs_gw.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct nfs_proc *const nfs_procs[NFSPROC3_COUNT] = {
	[NFSPROC3_NULL] = &nfs_proc_null,
	[NFSPROC3_GETATTR] = &nfs_proc_getattr,
	[NFSPROC3_SETATTR] = &nfs_proc_setattr,
	[NFSPROC3_LOOKUP] = &nfs_proc_lookup,
	[NFSPROC3_ACCESS] = &nfs_proc_access,
	[NFSPROC3_READLINK] = &nfs_proc_readlink,
	[NFSPROC3_READ] = &nfs_proc_read,
	[NFSPROC3_WRITE] = &nfs_proc_write,
	[NFSPROC3_CREATE] = &nfs_proc_create,
	[NFSPROC3_MKDIR] = &nfs_proc_mkdir,
	[NFSPROC3_SYMLINK] = &nfs_proc_symlink,
	[NFSPROC3_MKNOD] = &nfs_proc_mknod,
	[NFSPROC3_REMOVE] = &nfs_proc_remove,
	[NFSPROC3_RMDIR] = &nfs_proc_rmdir,
	[NFSPROC3_RENAME] = &nfs_proc_rename,
	[NFSPROC3_LINK] = &nfs_proc_link,
	[NFSPROC3_READDIR] = &nfs_proc_readdir,
	[NFSPROC3_READDIRPLUS] = &nfs_proc_readdirplus,
	[NFSPROC3_FSSTAT] = &nfs_proc_fsstat,
	[NFSPROC3_FSINFO] = &nfs_proc_fsinfo,
	[NFSPROC3_PATHCONF] = &nfs_proc_pathconf,
	[NFSPROC3_COMMIT] = &nfs_proc_commit,
};

static const struct nfs_proc *const nfs_mount_procs[] = {
	[MOUNTPROC3_NULL] = &nfs_mount_null,
	[MOUNTPROC3_MNT] = &nfs_mount_mnt,
	[MOUNTPROC3_DUMP] = &nfs_mount_dump,
	[MOUNTPROC3_UMNT] = &nfs_mount_umnt,
	[MOUNTPROC3_UMNTALL] = &nfs_mount_umntall,
	[MOUNTPROC3_EXPORT] = &nfs_mount_export,
};

struct nfs_program {
	uint32_t prog;
	uint32_t vers;
	const struct nfs_proc *const *procs;
	uint32_t nprocs;
	bool nfsstat; /* results open with an nfsstat3 the dispatcher writes */
};

static const struct nfs_program nfs_programs[] = {
	{ NFS_PROGRAM, NFS_V3, nfs_procs, NFSPROC3_COUNT, true },
	{ MOUNT_PROGRAM, MOUNT_V3, nfs_mount_procs,
	  sizeof(nfs_mount_procs) / sizeof(nfs_mount_procs[0]), false },
};

/* Runs a decoded call and encodes its result after the reply header. */
static void nfs_proc_serve(struct nfs_gw *gw, const struct oncrpc_call *call,
			   const struct nfs_program *pg,
			   const struct nfs_proc *proc, struct xdr_dec *d,
			   struct xdr_enc *e)
{
	struct nfs_req rq = { gw, call, proc->name };
	struct nfs_res r;
	struct nfs_args *a;

	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		oncrpc_reply_accepted(e, call->xid, RPC_SYSTEM_ERR);
		return;
	}
	if (!proc->decode(d, a)) {
		log_debug("nfs: %s: xid %u: arguments do not decode",
			  proc->name, call->xid);
		oncrpc_reply_accepted(e, call->xid, RPC_GARBAGE_ARGS);
		free(a);
		return;
	}
	memset(&r, 0, sizeof(r));
	memcpy(r.verf, gw->write_verf, sizeof(r.verf));
	r.err = a->arg_err < 0 ? a->arg_err : proc->run(&rq, a, &r);
	r.status = nfs_status_from_errno(r.err);
	if (r.err < 0 && nfs_err_is_client(r.err))
		log_debug("nfs: %s: ino %llu: %s", proc->name,
			  (unsigned long long)a->fh.ino, strerror(-r.err));
	oncrpc_reply_accepted(e, call->xid, RPC_SUCCESS);
	if (pg->nfsstat && proc != &nfs_proc_null)
		xdr_put_u32(e, r.status);
	proc->encode(e, &r);
	nfs_res_free(&r);
	free(a);
}

static void nfs_call_route(struct nfs_gw *gw, const struct oncrpc_call *call,
			   struct xdr_dec *d, struct xdr_enc *e)
{
	const struct nfs_program *pg = NULL;
	size_t i;

	for (i = 0; i < sizeof(nfs_programs) / sizeof(nfs_programs[0]); i++)
		if (nfs_programs[i].prog == call->prog)
			pg = &nfs_programs[i];
	if (pg == NULL) {
		oncrpc_reply_accepted(e, call->xid, RPC_PROG_UNAVAIL);
		return;
	}
	if (call->vers != pg->vers) {
		oncrpc_reply_prog_mismatch(e, call->xid, pg->vers, pg->vers);
		return;
	}
	if (call->proc >= pg->nprocs) {
		oncrpc_reply_accepted(e, call->xid, RPC_PROC_UNAVAIL);
		return;
	}
	nfs_proc_serve(gw, call, pg, pg->procs[call->proc], d, e);
}

int nfs_dispatch(struct nfs_gw *gw, const uint8_t *rec, size_t len,
		 struct xdr_enc *e)
{
	struct oncrpc_call call;
	struct xdr_dec d;
	int rc;

	xdr_dec_init(&d, rec, len);
	rc = oncrpc_call_decode(&d, &call);
	if (rc == -EBADMSG)
		return rc;
	if (rc == -EPROTONOSUPPORT)
		oncrpc_reply_rpc_mismatch(e, call.xid);
	else if (rc == -EACCES)
		oncrpc_reply_auth_error(e, call.xid, RPC_AUTH_BADCRED);
	else
		nfs_call_route(gw, &call, &d, e);
	return oncrpc_record_seal(e);
}

/* The largest reply READ, READDIR and READDIRPLUS may ask for, taken from
 * their counts; what any other reply weighs at most, roughly. */
static uint32_t nfs_reply_count(struct xdr_dec *d, uint32_t proc)
{
	uint8_t verf[NFS3_COOKIEVERFSIZE];
	uint32_t count = 0, maxcount = 0;
	struct nfs_fh fh;
	uint64_t u;

	if (proc == NFSPROC3_READ && nfs_fh_decode(d, &fh) && xdr_u64(d, &u) &&
	    xdr_u32(d, &count))
		return count;
	if (proc == NFSPROC3_READDIR && nfs_fh_decode(d, &fh) &&
	    xdr_u64(d, &u) && xdr_opaque_fixed(d, verf, sizeof(verf)) &&
	    xdr_u32(d, &count))
		return count;
	if (proc == NFSPROC3_READDIRPLUS && nfs_fh_decode(d, &fh) &&
	    xdr_u64(d, &u) && xdr_opaque_fixed(d, verf, sizeof(verf)) &&
	    xdr_u32(d, &count) && xdr_u32(d, &maxcount))
		return maxcount;
	return 0;
}

size_t nfs_reply_estimate(const uint8_t *rec, size_t len)
{
	struct oncrpc_call call;
	struct xdr_dec d;
	uint32_t count = 0;

	xdr_dec_init(&d, rec, len);
	if (oncrpc_call_decode(&d, &call) == 0 && call.prog == NFS_PROGRAM)
		count = nfs_reply_count(&d, call.proc);
	return NFS_REPLY_BASE + (count < NFS_IO_MAX ? count : NFS_IO_MAX);
}
