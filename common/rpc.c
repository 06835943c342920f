/*
 * The nng side of service calls.  A server is one REP socket and a fixed
 * set of worker threads, each looping receive, dispatch, send on its own
 * context.  A client is one REQ socket; every call opens a context for
 * itself, so concurrent calls from many threads share the connection.
 *
 * REQ resends are disabled: a request that is not idempotent (create,
 * rename) must never run twice because a reply was slow.
 *
 * Stopping never closes a socket under a waiting worker: closing with
 * operations pending can hang inside nng.  Workers wait for a call at
 * most RPC_POLL_MS at a time and leave when they see the stop flag; the
 * socket is closed once they all have.
 */
#include "rpc.h"

#include "log.h"
#include "rpc.pb-c.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RPC_POLL_MS 200

struct rpc_server {
	char name[32];
	atomic_int stopping;
	nng_socket sock;
	const struct rpc_method *methods;
	size_t nmethods;
	void *arg;
	int nworkers;
	pthread_t *threads;
};

struct rpc_client {
	nng_socket sock;
	int timeout_ms;
};

int rpc_reply_pack(struct rpc_reply *out, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);

	free(out->buf);
	out->buf = malloc(len ? len : 1);
	if (out->buf == NULL)
		return -ENOMEM;
	out->len = protobuf_c_message_pack(msg, out->buf);
	return 0;
}

int rpc_reply_error(struct rpc_reply *out, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->detail, sizeof(out->detail), fmt, ap);
	va_end(ap);
	return err;
}

static int nng_to_errno(int rv)
{
	switch (rv) {
	case NNG_ETIMEDOUT:
		return -ETIMEDOUT;
	case NNG_ECONNREFUSED:
		return -ECONNREFUSED;
	case NNG_ENOMEM:
		return -ENOMEM;
	case NNG_ECLOSED:
		return -ESHUTDOWN;
	case NNG_EADDRINUSE:
		return -EADDRINUSE;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static const struct rpc_method *find_method(const struct rpc_server *srv,
					    uint32_t id)
{
	const struct rpc_method *m = NULL;

	if (id < srv->nmethods && srv->methods[id].id == id)
		m = &srv->methods[id];
	for (size_t i = 0; m == NULL && i < srv->nmethods; i++)
		if (srv->methods[i].id == id)
			m = &srv->methods[i];
	/* A table may leave slots empty; an empty slot is no method. */
	if (m != NULL && (m->fn == NULL || m->req_desc == NULL))
		return NULL;
	return m;
}

/* Runs one call and fills `reply`; the bytes it packs stay in `out`. */
static void dispatch(struct rpc_server *srv, nng_msg *msg, Zerofs__Reply *reply,
		     struct rpc_reply *out)
{
	const struct rpc_method *m;
	ProtobufCMessage *req;
	Zerofs__Call *call;
	int err;

	call = zerofs__call__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
	if (call == NULL) {
		reply->err = EBADMSG;
		snprintf(out->detail, sizeof(out->detail), "undecodable call");
		return;
	}
	m = find_method(srv, call->method);
	if (m == NULL) {
		reply->err = ENOSYS;
		snprintf(out->detail, sizeof(out->detail), "no method %u",
			 call->method);
		goto free_call;
	}
	req = protobuf_c_message_unpack(m->req_desc, NULL, call->body.len,
					call->body.data);
	if (req == NULL) {
		reply->err = EBADMSG;
		snprintf(out->detail, sizeof(out->detail), "undecodable %s",
			 m->req_desc->short_name);
		goto free_call;
	}
	err = m->fn(srv->arg, req, out);
	protobuf_c_message_free_unpacked(req, NULL);
	if (err < 0) {
		reply->err = -err;
	} else {
		reply->body.data = out->buf;
		reply->body.len = out->len;
	}
free_call:
	zerofs__call__free_unpacked(call, NULL);
}

static int serve_one(struct rpc_server *srv, nng_ctx ctx, nng_aio *aio)
{
	Zerofs__Reply reply = ZEROFS__REPLY__INIT;
	struct rpc_reply out = { 0 };
	nng_msg *msg;
	int rv;

	nng_aio_set_timeout(aio, RPC_POLL_MS);
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	if (rv == NNG_ETIMEDOUT)
		return 0;
	if (rv != 0)
		return rv;
	msg = nng_aio_get_msg(aio);
	dispatch(srv, msg, &reply, &out);
	reply.detail = out.detail;
	nng_msg_clear(msg);
	rv = nng_msg_realloc(msg, zerofs__reply__get_packed_size(&reply));
	if (rv == 0) {
		zerofs__reply__pack(&reply, nng_msg_body(msg));
		nng_aio_set_msg(aio, msg);
		nng_aio_set_timeout(aio, NNG_DURATION_DEFAULT);
		nng_ctx_send(ctx, aio);
		nng_aio_wait(aio);
		rv = nng_aio_result(aio);
	}
	if (rv != 0)
		nng_msg_free(msg);
	free(out.buf);
	return rv == NNG_ECLOSED ? rv : 0;
}

static void *worker_main(void *p)
{
	struct rpc_server *srv = p;
	nng_aio *aio;
	nng_ctx ctx;

	if (nng_aio_alloc(&aio, NULL, NULL) != 0)
		return NULL;
	if (nng_ctx_open(&ctx, srv->sock) != 0) {
		nng_aio_free(aio);
		return NULL;
	}
	while (!atomic_load(&srv->stopping) &&
	       serve_one(srv, ctx, aio) != NNG_ECLOSED)
		;
	nng_ctx_close(ctx);
	nng_aio_free(aio);
	return NULL;
}

int rpc_server_start(const char *name, const char *url,
		     const struct rpc_method *methods, size_t nmethods,
		     void *arg, int nworkers, struct rpc_server **out)
{
	struct rpc_server *srv;
	int rv;

	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return -ENOMEM;
	snprintf(srv->name, sizeof(srv->name), "%s", name);
	srv->methods = methods;
	srv->nmethods = nmethods;
	srv->arg = arg;
	rv = nng_rep0_open(&srv->sock);
	if (rv != 0)
		goto free_srv;
	nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ, RPC_MAX_MSG);
	rv = nng_listen(srv->sock, url, NULL, 0);
	if (rv != 0) {
		log_err("%s: listen: %s: %s", name, url, nng_strerror(rv));
		goto close_sock;
	}
	srv->threads = calloc((size_t)nworkers, sizeof(pthread_t));
	if (srv->threads == NULL) {
		rv = NNG_ENOMEM;
		goto close_sock;
	}
	for (; srv->nworkers < nworkers; srv->nworkers++)
		if (pthread_create(&srv->threads[srv->nworkers], NULL,
				   worker_main, srv) != 0)
			break;
	if (srv->nworkers == 0) {
		rv = NNG_ENOMEM;
		goto free_threads;
	}
	log_debug("%s: listening on %s", name, url);
	*out = srv;
	return 0;

free_threads:
	free(srv->threads);
close_sock:
	nng_close(srv->sock);
free_srv:
	free(srv);
	return nng_to_errno(rv);
}

void rpc_server_stop(struct rpc_server *srv)
{
	if (srv == NULL)
		return;
	atomic_store(&srv->stopping, 1);
	for (int i = 0; i < srv->nworkers; i++)
		pthread_join(srv->threads[i], NULL);
	nng_close(srv->sock);
	free(srv->threads);
	free(srv);
}

int rpc_client_open(const char *url, struct rpc_client **out)
{
	struct rpc_client *cli;
	int rv;

	cli = calloc(1, sizeof(*cli));
	if (cli == NULL)
		return -ENOMEM;
	cli->timeout_ms = 120000;
	rv = nng_req0_open(&cli->sock);
	if (rv != 0)
		goto free_cli;
	nng_socket_set_ms(cli->sock, NNG_OPT_REQ_RESENDTIME,
			  NNG_DURATION_INFINITE);
	nng_socket_set_size(cli->sock, NNG_OPT_RECVMAXSZ, RPC_MAX_MSG);
	nng_socket_set_ms(cli->sock, NNG_OPT_RECONNMINT, 20);
	nng_socket_set_ms(cli->sock, NNG_OPT_RECONNMAXT, 1000);
	rv = nng_dial(cli->sock, url, NULL, NNG_FLAG_NONBLOCK);
	if (rv != 0) {
		log_err("rpc: dial: %s: %s", url, nng_strerror(rv));
		nng_close(cli->sock);
		goto free_cli;
	}
	*out = cli;
	return 0;

free_cli:
	free(cli);
	return nng_to_errno(rv);
}

void rpc_client_close(struct rpc_client *cli)
{
	if (cli == NULL)
		return;
	nng_close(cli->sock);
	free(cli);
}

void rpc_client_set_timeout(struct rpc_client *cli, int ms)
{
	cli->timeout_ms = ms;
}

static int call_exchange(struct rpc_client *cli, nng_msg **msgp)
{
	nng_aio *aio;
	nng_ctx ctx;
	int rv;

	rv = nng_aio_alloc(&aio, NULL, NULL);
	if (rv != 0)
		return rv;
	rv = nng_ctx_open(&ctx, cli->sock);
	if (rv != 0)
		goto free_aio;
	nng_aio_set_timeout(aio, cli->timeout_ms);
	nng_aio_set_msg(aio, *msgp);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	if (rv != 0)
		goto close_ctx; /* the message is still ours */
	*msgp = NULL;
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	if (rv == 0)
		*msgp = nng_aio_get_msg(aio);
close_ctx:
	nng_ctx_close(ctx);
free_aio:
	nng_aio_free(aio);
	return rv;
}

static int unpack_reply(nng_msg *msg, const ProtobufCMessageDescriptor *desc,
			ProtobufCMessage **reply, char *detail, size_t dlen)
{
	Zerofs__Reply *r;
	int err = 0;

	r = zerofs__reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
	if (r == NULL) {
		snprintf(detail, dlen, "undecodable reply");
		return -EBADMSG;
	}
	if (r->err != 0) {
		snprintf(detail, dlen, "%s", r->detail);
		err = r->err > 0 ? -r->err : -EIO;
	} else {
		*reply = protobuf_c_message_unpack(desc, NULL, r->body.len,
						   r->body.data);
		if (*reply == NULL) {
			snprintf(detail, dlen, "undecodable %s",
				 desc->short_name);
			err = -EBADMSG;
		}
	}
	zerofs__reply__free_unpacked(r, NULL);
	return err;
}

int rpc_call(struct rpc_client *cli, uint32_t method,
	     const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *reply_desc,
	     ProtobufCMessage **reply, char *detail, size_t detail_len)
{
	Zerofs__Call call = ZEROFS__CALL__INIT;
	char scratch[8];
	nng_msg *msg;
	uint8_t *body;
	int rv, err;

	if (detail == NULL) {
		detail = scratch;
		detail_len = sizeof(scratch);
	}
	detail[0] = '\0';
	*reply = NULL;
	call.method = method;
	call.body.len = protobuf_c_message_get_packed_size(req);
	body = malloc(call.body.len ? call.body.len : 1);
	if (body == NULL)
		return -ENOMEM;
	protobuf_c_message_pack(req, body);
	call.body.data = body;
	rv = nng_msg_alloc(&msg, zerofs__call__get_packed_size(&call));
	if (rv != 0) {
		free(body);
		return -ENOMEM;
	}
	zerofs__call__pack(&call, nng_msg_body(msg));
	free(body);
	rv = call_exchange(cli, &msg);
	if (rv != 0) {
		if (msg != NULL)
			nng_msg_free(msg);
		snprintf(detail, detail_len, "%s", nng_strerror(rv));
		return nng_to_errno(rv);
	}
	err = unpack_reply(msg, reply_desc, reply, detail, detail_len);
	nng_msg_free(msg);
	return err;
}
