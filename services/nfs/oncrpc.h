/*
 * ONC RPC version 2 (RFC 5531) over a byte stream: record marking
 * (section 11), the call header with its credentials (sections 8 and 9,
 * appendix A) and the reply headers.
 *
 * The record reader pulls bytes through a callback, so the same code reads
 * a socket in the server and a memory buffer in the tests.  It refuses a
 * record larger than its limit as soon as a fragment header says so, and
 * grows its buffer only as bytes actually arrive, so a header that claims
 * gigabytes costs nothing.
 */
#ifndef ZEROFS_NFS_ONCRPC_H
#define ZEROFS_NFS_ONCRPC_H

#include "nfs/nfs_const.h"
#include "nfs/xdr.h"

#include <stddef.h>
#include <stdint.h>

/* Reads exactly n bytes into buf; returns 0, or a negative errno (-EPIPE
 * when the stream ended). */
typedef int (*oncrpc_read_fn)(void *arg, void *buf, size_t n);

/* One reassembled record.  The buffer belongs to the record and is reused
 * from one record to the next; oncrpc_record_fini frees it. */
struct oncrpc_record {
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t limit;
};

void oncrpc_record_init(struct oncrpc_record *r, size_t limit);
void oncrpc_record_fini(struct oncrpc_record *r);

/* Reads the fragments of the next record.  Returns 0, -EMSGSIZE when the
 * record would exceed the limit, -ENOMEM, or the read callback's error. */
int oncrpc_record_read(struct oncrpc_record *r, oncrpc_read_fn read_fn,
		       void *arg);

/* The caller as AUTH_SYS describes it (AUTH_NONE: uid and gid 0). */
struct oncrpc_cred {
	uint32_t flavor;
	uint32_t uid;
	uint32_t gid;
	uint32_t ngids;
	uint32_t gids[RPC_AUTH_GIDS_MAX];
	char machine[RPC_AUTH_MACHINE_MAX + 1];
};

struct oncrpc_call {
	uint32_t xid;
	uint32_t prog;
	uint32_t vers;
	uint32_t proc;
	struct oncrpc_cred cred;
};

/* Decodes a call header up to the procedure's arguments, which the cursor
 * is left at.  Returns 0; -EBADMSG when the bytes are not a call (the
 * connection should close); -EPROTONOSUPPORT when rpcvers is not 2 (only
 * call->xid is valid); -EACCES when the credential is of an unknown flavor
 * or malformed (xid, prog, vers and proc are valid). */
int oncrpc_call_decode(struct xdr_dec *d, struct oncrpc_call *call);

/* Reply headers.  Each starts a record: it leaves room for the record mark
 * that oncrpc_record_seal fills in once the body is written. */
void oncrpc_reply_accepted(struct xdr_enc *e, uint32_t xid, uint32_t stat);
void oncrpc_reply_prog_mismatch(struct xdr_enc *e, uint32_t xid, uint32_t low,
				uint32_t high);
void oncrpc_reply_rpc_mismatch(struct xdr_enc *e, uint32_t xid);
void oncrpc_reply_auth_error(struct xdr_enc *e, uint32_t xid, uint32_t stat);

/* Writes the record mark of a single-fragment record over the first four
 * bytes.  Returns 0, or -ENOMEM if the encoder failed. */
int oncrpc_record_seal(struct xdr_enc *e);

#endif
