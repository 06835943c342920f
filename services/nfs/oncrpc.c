/*
 * ONC RPC record marking, call-header decoding and reply headers; see
 * oncrpc.h.
 */
#include "nfs/oncrpc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Bytes read into the record per step: the buffer grows by at most this
 * much ahead of the data that actually arrived. */
#define ONCRPC_READ_STEP (64u << 10)

void oncrpc_record_init(struct oncrpc_record *r, size_t limit)
{
	memset(r, 0, sizeof(*r));
	r->limit = limit;
}

void oncrpc_record_fini(struct oncrpc_record *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

static int oncrpc_record_grow(struct oncrpc_record *r, size_t need)
{
	size_t cap = r->cap ? r->cap : ONCRPC_READ_STEP;
	uint8_t *nb;

	if (need <= r->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > r->limit)
		cap = r->limit;
	nb = realloc(r->buf, cap);
	if (nb == NULL)
		return -ENOMEM;
	r->buf = nb;
	r->cap = cap;
	return 0;
}

/* Appends a fragment of n bytes, already checked against the limit. */
static int oncrpc_fragment_read(struct oncrpc_record *r, size_t n,
				oncrpc_read_fn read_fn, void *arg)
{
	size_t step;
	int rc;

	while (n > 0) {
		step = n < ONCRPC_READ_STEP ? n : ONCRPC_READ_STEP;
		rc = oncrpc_record_grow(r, r->len + step);
		if (rc < 0)
			return rc;
		rc = read_fn(arg, r->buf + r->len, step);
		if (rc < 0)
			return rc;
		r->len += step;
		n -= step;
	}
	return 0;
}

int oncrpc_record_read(struct oncrpc_record *r, oncrpc_read_fn read_fn,
		       void *arg)
{
	uint8_t hb[4];
	uint32_t mark;
	size_t n;
	int rc;

	r->len = 0;
	for (;;) {
		rc = read_fn(arg, hb, sizeof(hb));
		if (rc < 0)
			return rc;
		mark = (uint32_t)hb[0] << 24 | (uint32_t)hb[1] << 16 |
		       (uint32_t)hb[2] << 8 | hb[3];
		n = mark & RPC_RM_LENMASK;
		if (n > r->limit - r->len)
			return -EMSGSIZE;
		rc = oncrpc_fragment_read(r, n, read_fn, arg);
		if (rc < 0)
			return rc;
		if (mark & RPC_RM_LAST)
			return 0;
	}
}

/* AUTH_SYS body (RFC 5531 appendix A), decoded from its own bytes so a
 * body that lies about its inner lengths cannot run past itself. */
static int oncrpc_auth_sys_decode(const uint8_t *body, uint32_t len,
				  struct oncrpc_cred *c)
{
	struct xdr_dec d;
	uint32_t stamp, i;

	xdr_dec_init(&d, body, len);
	if (!xdr_u32(&d, &stamp) ||
	    !xdr_string(&d, RPC_AUTH_MACHINE_MAX, c->machine,
			sizeof(c->machine)) ||
	    !xdr_u32(&d, &c->uid) || !xdr_u32(&d, &c->gid) ||
	    !xdr_u32(&d, &c->ngids) || c->ngids > RPC_AUTH_GIDS_MAX)
		return -EACCES;
	for (i = 0; i < c->ngids; i++)
		if (!xdr_u32(&d, &c->gids[i]))
			return -EACCES;
	return xdr_dec_left(&d) == 0 ? 0 : -EACCES;
}

static int oncrpc_cred_decode(uint32_t flavor, const uint8_t *body,
			      uint32_t len, struct oncrpc_cred *c)
{
	memset(c, 0, sizeof(*c));
	c->flavor = flavor;
	if (flavor == RPC_AUTH_NONE)
		return 0;
	if (flavor == RPC_AUTH_SYS)
		return oncrpc_auth_sys_decode(body, len, c);
	return -EACCES;
}

int oncrpc_call_decode(struct xdr_dec *d, struct oncrpc_call *call)
{
	uint32_t type, rpcvers, flavor, vflavor, len, vlen;
	const uint8_t *body, *vbody;

	memset(call, 0, sizeof(*call));
	if (!xdr_u32(d, &call->xid) || !xdr_u32(d, &type) || type != RPC_CALL ||
	    !xdr_u32(d, &rpcvers))
		return -EBADMSG;
	if (rpcvers != RPC_VERSION)
		return -EPROTONOSUPPORT;
	if (!xdr_u32(d, &call->prog) || !xdr_u32(d, &call->vers) ||
	    !xdr_u32(d, &call->proc) || !xdr_u32(d, &flavor) ||
	    !xdr_opaque_var(d, RPC_AUTH_BODY_MAX, &body, &len) ||
	    !xdr_u32(d, &vflavor) ||
	    !xdr_opaque_var(d, RPC_AUTH_BODY_MAX, &vbody, &vlen))
		return -EBADMSG;
	return oncrpc_cred_decode(flavor, body, len, &call->cred);
}

static void oncrpc_reply_start(struct xdr_enc *e, uint32_t xid,
			       uint32_t reply_stat)
{
	xdr_put_u32(e, 0); /* the record mark, sealed later */
	xdr_put_u32(e, xid);
	xdr_put_u32(e, RPC_REPLY);
	xdr_put_u32(e, reply_stat);
}

void oncrpc_reply_accepted(struct xdr_enc *e, uint32_t xid, uint32_t stat)
{
	oncrpc_reply_start(e, xid, RPC_MSG_ACCEPTED);
	xdr_put_u32(e, RPC_AUTH_NONE); /* the verifier: AUTH_NONE, empty */
	xdr_put_u32(e, 0);
	xdr_put_u32(e, stat);
}

void oncrpc_reply_prog_mismatch(struct xdr_enc *e, uint32_t xid, uint32_t low,
				uint32_t high)
{
	oncrpc_reply_accepted(e, xid, RPC_PROG_MISMATCH);
	xdr_put_u32(e, low);
	xdr_put_u32(e, high);
}

void oncrpc_reply_rpc_mismatch(struct xdr_enc *e, uint32_t xid)
{
	oncrpc_reply_start(e, xid, RPC_MSG_DENIED);
	xdr_put_u32(e, RPC_MISMATCH);
	xdr_put_u32(e, RPC_VERSION);
	xdr_put_u32(e, RPC_VERSION);
}

void oncrpc_reply_auth_error(struct xdr_enc *e, uint32_t xid, uint32_t stat)
{
	oncrpc_reply_start(e, xid, RPC_MSG_DENIED);
	xdr_put_u32(e, RPC_AUTH_ERROR);
	xdr_put_u32(e, stat);
}

int oncrpc_record_seal(struct xdr_enc *e)
{
	if (e->err || e->len < 4 || e->len - 4 > RPC_RM_LENMASK)
		return -ENOMEM;
	xdr_patch_u32(e, 0, RPC_RM_LAST | (uint32_t)(e->len - 4));
	return 0;
}
