/*
 * Calls from the gateway to the metadata and chunk services, and the
 * bookkeeping of the protobuf replies a result keeps until it is encoded.
 *
 * Failures that are not the client's doing (a service that does not
 * answer, a malformed reply) are logged here as warnings, with the
 * service's detail, at most one line per NFS_LOG_INTERVAL_MS; the dispatcher
 * logs the client's own errors (a missing name, a stale handle) at debug level.
 */
#include "nfs/nfs_gw.h"

#include "log.h"

#include <errno.h>
#include <string.h>

bool nfs_err_is_client(int err)
{
	switch (-err) {
	case ETIMEDOUT:
	case ECONNREFUSED:
	case EIO:
	case EBADMSG:
	case ENOMEM:
	case ENOSYS:
		return false;
	default:
		return true;
	}
}

static int nfs_res_keep(struct nfs_res *r, ProtobufCMessage *msg)
{
	if (r->nowned == NFS_RES_OWNED) {
		protobuf_c_message_free_unpacked(msg, NULL);
		return -ENOMEM;
	}
	r->owned[r->nowned++] = msg;
	return 0;
}

void nfs_res_free(struct nfs_res *r)
{
	int i;

	for (i = 0; i < r->nowned; i++)
		protobuf_c_message_free_unpacked(r->owned[i], NULL);
	r->nowned = 0;
}

/* A service that is down fails every call for as long as it is down:
 * one line per interval says so, with the count of failures left out. */
static void nfs_call_warn(struct nfs_req *rq, const char *svc, uint32_t method,
			  int rc, const char *detail)
{
	static struct nfs_ratelimit rl =
	    NFS_RATELIMIT_INIT(NFS_LOG_INTERVAL_MS);
	unsigned long dropped;

	if (!nfs_ratelimit_pass(&rl, nfs_now_ms(), &dropped))
		return;
	log_warn("nfs: %s: xid %u: %s %u: %s (%s); %lu more service "
		 "failures not logged",
		 rq->proc, rq->call->xid, svc, method, strerror(-rc), detail,
		 dropped);
}

static int nfs_call(struct nfs_req *rq, struct nfs_res *r,
		    struct rpc_client *cli, const char *svc, uint32_t method,
		    const ProtobufCMessage *req,
		    const ProtobufCMessageDescriptor *desc, void *reply)
{
	ProtobufCMessage *msg = NULL;
	char detail[160] = "";
	int rc;

	rc = rpc_call(cli, method, req, desc, &msg, detail, sizeof(detail));
	if (rc < 0) {
		if (!nfs_err_is_client(rc))
			nfs_call_warn(rq, svc, method, rc, detail);
		return rc;
	}
	rc = nfs_res_keep(r, msg);
	if (rc < 0)
		return rc;
	*(ProtobufCMessage **)reply = msg;
	return 0;
}

int nfs_meta_call(struct nfs_req *rq, struct nfs_res *r, uint32_t method,
		  const ProtobufCMessage *req,
		  const ProtobufCMessageDescriptor *desc, void *reply)
{
	return nfs_call(rq, r, rq->gw->meta, "metadata", method, req, desc,
			reply);
}

int nfs_chunk_call(struct nfs_req *rq, struct nfs_res *r, uint32_t method,
		   const ProtobufCMessage *req,
		   const ProtobufCMessageDescriptor *desc, void *reply)
{
	return nfs_call(rq, r, rq->gw->chunk, "chunk", method, req, desc,
			reply);
}

int nfs_getattr(struct nfs_req *rq, struct nfs_res *r, const struct nfs_fh *fh,
		const Zerofs__Attr **attr)
{
	Zerofs__GetAttrReq req = ZEROFS__GET_ATTR_REQ__INIT;
	Zerofs__GetAttrReply *rep;
	Zerofs__Handle h;
	int rc;

	rc = nfs_fh_to_pb(fh, &h);
	if (rc < 0)
		return rc;
	req.fh = &h;
	rc = nfs_meta_call(rq, r, ZEROFS__META_METHOD__META_GETATTR, &req.base,
			   &zerofs__get_attr_reply__descriptor, &rep);
	if (rc < 0)
		return rc;
	if (rep->attr == NULL)
		return -EBADMSG;
	*attr = rep->attr;
	return 0;
}
