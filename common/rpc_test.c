/*
 * The service-call layer over real nng sockets: inproc:// and tcp:// on
 * 127.0.0.1.
 */
#include "rpc.h"

#include "metadata.pb-c.h"
#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

static int getattr_cb(void *arg, const ProtobufCMessage *m,
		      struct rpc_reply *out)
{
	const Zerofs__GetAttrReq *req = (const Zerofs__GetAttrReq *)m;
	Zerofs__GetAttrReply reply = ZEROFS__GET_ATTR_REPLY__INIT;
	Zerofs__Attr attr = ZEROFS__ATTR__INIT;

	(void)arg;
	if (req->fh == NULL)
		return rpc_reply_error(out, -EINVAL, "no handle");
	if (req->fh->ino == 404)
		return rpc_reply_error(out, -ENOENT, "ino %llu is gone",
				       (unsigned long long)req->fh->ino);
	if (req->fh->ino == 500)
		usleep(200 * 1000);
	attr.ino = req->fh->ino;
	attr.size = req->fh->ino * 2;
	reply.attr = &attr;
	return rpc_reply_pack(out, &reply.base);
}

static const struct rpc_method methods[] = {
	{ 0, NULL, NULL },
	{ ZEROFS__META_METHOD__META_GETATTR, &zerofs__get_attr_req__descriptor,
	  getattr_cb },
};

static int call_getattr(struct rpc_client *cli, uint64_t ino, uint64_t *size,
			char *detail)
{
	Zerofs__GetAttrReq req = ZEROFS__GET_ATTR_REQ__INIT;
	Zerofs__Handle fh = ZEROFS__HANDLE__INIT;
	ProtobufCMessage *reply;
	int rc;

	fh.ino = ino;
	req.fh = &fh;
	rc = rpc_call(cli, ZEROFS__META_METHOD__META_GETATTR, &req.base,
		      &zerofs__get_attr_reply__descriptor, &reply, detail, 160);
	if (rc == 0) {
		*size = ((Zerofs__GetAttrReply *)reply)->attr->size;
		protobuf_c_message_free_unpacked(reply, NULL);
	}
	return rc;
}

TEST(a_call_returns_the_handlers_reply)
{
	struct rpc_server *srv;
	struct rpc_client *cli;
	char detail[160];
	uint64_t size = 0;

	CHECK_EQ(
	    rpc_server_start("t", "inproc://rpc1", methods, 2, NULL, 2, &srv),
	    0);
	CHECK_EQ(rpc_client_open("inproc://rpc1", &cli), 0);
	CHECK_EQ(call_getattr(cli, 21, &size, detail), 0);
	CHECK_EQ(size, 42);
	rpc_client_close(cli);
	rpc_server_stop(srv);
}

TEST(a_handler_error_arrives_as_errno_and_detail)
{
	struct rpc_server *srv;
	struct rpc_client *cli;
	char detail[160];
	uint64_t size;

	CHECK_EQ(
	    rpc_server_start("t", "inproc://rpc2", methods, 2, NULL, 2, &srv),
	    0);
	CHECK_EQ(rpc_client_open("inproc://rpc2", &cli), 0);
	CHECK_EQ(call_getattr(cli, 404, &size, detail), -ENOENT);
	CHECK(strcmp(detail, "ino 404 is gone") == 0);
	rpc_client_close(cli);
	rpc_server_stop(srv);
}

TEST(an_unknown_method_is_enosys)
{
	Zerofs__GetAttrReq req = ZEROFS__GET_ATTR_REQ__INIT;
	struct rpc_server *srv;
	struct rpc_client *cli;
	ProtobufCMessage *reply;

	CHECK_EQ(
	    rpc_server_start("t", "inproc://rpc3", methods, 2, NULL, 1, &srv),
	    0);
	CHECK_EQ(rpc_client_open("inproc://rpc3", &cli), 0);
	CHECK_EQ(rpc_call(cli, 99, &req.base,
			  &zerofs__get_attr_reply__descriptor, &reply, NULL, 0),
		 -ENOSYS);
	CHECK(reply == NULL);
	/* An empty slot in the table is no method either. */
	CHECK_EQ(rpc_call(cli, 0, &req.base,
			  &zerofs__get_attr_reply__descriptor, &reply, NULL, 0),
		 -ENOSYS);
	rpc_client_close(cli);
	rpc_server_stop(srv);
}

TEST(a_call_to_nobody_times_out)
{
	struct rpc_client *cli;
	char detail[160];
	uint64_t size;

	CHECK_EQ(rpc_client_open("inproc://nobody", &cli), 0);
	rpc_client_set_timeout(cli, 100);
	CHECK_EQ(call_getattr(cli, 1, &size, detail), -ETIMEDOUT);
	rpc_client_close(cli);
}

struct slow_call {
	struct rpc_client *cli;
	int rc;
};

static void *slow_call_main(void *p)
{
	struct slow_call *c = p;
	uint64_t size;
	char detail[160];

	c->rc = call_getattr(c->cli, 500, &size, detail);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(calls_over_tcp_run_in_parallel_on_the_workers)
{
	struct slow_call calls[8];
	pthread_t th[8];
	struct rpc_server *srv;
	struct rpc_client *cli;
	double t0;

	char url[64];
	int rc = -1;

	srand((unsigned)getpid());
	for (int tries = 0; tries < 20 && rc != 0; tries++) {
		snprintf(url, sizeof(url), "tcp://127.0.0.1:%d",
			 20000 + rand() % 40000);
		rc = rpc_server_start("t", url, methods, 2, NULL, 8, &srv);
	}
	CHECK_EQ(rc, 0);
	if (rc != 0)
		return;
	CHECK_EQ(rpc_client_open(url, &cli), 0);
	t0 = now_s();
	for (int i = 0; i < 8; i++) {
		calls[i].cli = cli;
		pthread_create(&th[i], NULL, slow_call_main, &calls[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(calls[i].rc, 0);
	}
	/* Eight 200 ms calls on eight workers: well under their sum. */
	CHECK(now_s() - t0 < 1.0);
	rpc_client_close(cli);
	rpc_server_stop(srv);
}

TEST_MAIN(a_call_returns_the_handlers_reply,
	  a_handler_error_arrives_as_errno_and_detail,
	  an_unknown_method_is_enosys, a_call_to_nobody_times_out,
	  calls_over_tcp_run_in_parallel_on_the_workers)
