/*
 * Calls between services: protobuf-c messages over nng REQ/REP.
 *
 * A request travels as a zerofs.Call (method number + packed request) and
 * its answer as a zerofs.Reply (positive errno, short detail, packed reply),
 * both defined in proto/rpc.proto.  A server runs a pool of worker threads,
 * each on its own nng context, so many calls are in flight at once and a
 * handler may block (on another service, on the store) without stalling
 * the rest.  A client is safe to share between threads: each call opens its
 * own context.
 */
#ifndef ZEROFS_RPC_H
#define ZEROFS_RPC_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* Messages larger than this are refused by both ends. */
#define RPC_MAX_MSG (16u << 20)

struct rpc_server;
struct rpc_client;

/* What a handler answers.  The handler packs its reply message with
 * rpc_reply_pack (the buffer then belongs to the rpc layer) or reports an
 * error with rpc_reply_error. */
struct rpc_reply {
	uint8_t *buf;
	size_t len;
	char detail[160];
};

/* A handler returns 0 or a negative errno; on error the reply body is
 * ignored and the errno and detail travel back to the caller. */
typedef int (*rpc_handler_fn)(void *arg, const ProtobufCMessage *req,
			      struct rpc_reply *out);

struct rpc_method {
	uint32_t id;
	const ProtobufCMessageDescriptor *req_desc;
	rpc_handler_fn fn;
};

int rpc_reply_pack(struct rpc_reply *out, const ProtobufCMessage *msg);

/* Records a detail for the caller and returns err (a negative errno), so a
 * handler can write `return rpc_reply_error(out, -ENOENT, "...", ...);`. */
int rpc_reply_error(struct rpc_reply *out, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Listens on url (tcp://, ipc:// or inproc://) and serves the methods with
 * nworkers threads.  `name` prefixes log lines.  The methods table must
 * outlive the server. */
int rpc_server_start(const char *name, const char *url,
		     const struct rpc_method *methods, size_t nmethods,
		     void *arg, int nworkers, struct rpc_server **out);

/* Stops accepting calls, waits for running handlers, frees the server. */
void rpc_server_stop(struct rpc_server *srv);

/* Dials url in the background: calls made before the server is up wait for
 * it, up to the call timeout. */
int rpc_client_open(const char *url, struct rpc_client **out);
void rpc_client_close(struct rpc_client *cli);

/* Calls `method` with `req` and waits for the answer.  On success *reply
 * holds the unpacked reply, owned by the caller, who frees it with
 * protobuf_c_message_free_unpacked(*reply, NULL).  On failure returns a
 * negative errno: the remote handler's, or -ETIMEDOUT, -ECONNREFUSED, -EIO
 * for transport failures; `detail` (may be NULL) gets the explanation. */
int rpc_call(struct rpc_client *cli, uint32_t method,
	     const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *reply_desc,
	     ProtobufCMessage **reply, char *detail, size_t detail_len);

/* The timeout of every call, in milliseconds (default 120000). */
void rpc_client_set_timeout(struct rpc_client *cli, int ms);

#endif
