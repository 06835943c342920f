/*
 * Tests of the metadata service over inproc:// with a mock flusher that
 * counts BARRIER calls: calls round-trip, errors come back as errnos, a
 * FLUSH runs the flusher's barrier first, and a restarted service finds
 * what the stopped one acknowledged.
 */
#include "meta_server.h"

#include "flusher.pb-c.h"
#include "metadata/metadata.h"
#include "test.h"

#include <errno.h>
#include <stdio.h>

static int barriers;

static int mock_barrier(void *arg, const ProtobufCMessage *req,
			struct rpc_reply *out)
{
	Zerofs__BarrierReply rep = ZEROFS__BARRIER_REPLY__INIT;

	(void)arg;
	(void)req;
	__atomic_add_fetch(&barriers, 1, __ATOMIC_RELAXED);
	return rpc_reply_pack(out, &rep.base);
}

static const struct rpc_method mock_methods[] = {
	{ ZEROFS__FLUSHER_METHOD__FLUSHER_BARRIER,
	  &zerofs__barrier_req__descriptor, mock_barrier },
};

struct env {
	struct config cfg;
	struct service_endpoints ep;
	struct rpc_server *flusher;
	struct rpc_client *cli;
	void *svc;
};

static void env_start(struct env *e)
{
	if (metadata_service_start(&e->cfg, &e->ep, &e->svc) < 0 ||
	    rpc_client_open(e->ep.metadata, &e->cli) < 0)
		abort();
}

static void env_stop(struct env *e)
{
	rpc_client_close(e->cli);
	metadata_service_stop(e->svc);
}

static void env_new(struct env *e, const char *name)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->cfg.storage.url, CONFIG_STR, "mem://%s", name);
	e->cfg.filesystem.chunk_size = 1 << 20;
	e->cfg.filesystem.max_size_gb = 1;
	e->cfg.lsm.flush_interval_secs = 3600;
	e->cfg.lsm.checkpoint_every = 4;
	snprintf(e->ep.metadata, CONFIG_STR, "inproc://%s-meta", name);
	snprintf(e->ep.flusher, CONFIG_STR, "inproc://%s-flusher", name);
	if (rpc_server_start("mock-flusher", e->ep.flusher, mock_methods, 1,
			     NULL, 2, &e->flusher) < 0)
		abort();
	env_start(e);
}

static void env_free(struct env *e)
{
	env_stop(e);
	rpc_server_stop(e->flusher);
}

static int call(struct env *e, uint32_t method, const ProtobufCMessage *req,
		const ProtobufCMessageDescriptor *desc, ProtobufCMessage **rep)
{
	char detail[160];

	return rpc_call(e->cli, method, req, desc, rep, detail, sizeof(detail));
}

static Zerofs__Handle root_fh = { PROTOBUF_C_MESSAGE_INIT(
				      &zerofs__handle__descriptor),
				  META_ROOT_INO, META_ROOT_GEN };

static int create(struct env *e, const char *name, Zerofs__Attr *out)
{
	Zerofs__CreateReq req = ZEROFS__CREATE_REQ__INIT;
	Zerofs__CreateReply *rep = NULL;
	int rc;

	req.dir = &root_fh;
	req.name = (char *)name;
	req.type = ZEROFS__FILE_TYPE__FT_REG;
	req.mode = 0644;
	req.how = ZEROFS__CREATE_HOW__CREATE_GUARDED;
	rc = call(e, ZEROFS__META_METHOD__META_CREATE, &req.base,
		  &zerofs__create_reply__descriptor, (ProtobufCMessage **)&rep);
	if (rc == 0) {
		*out = *rep->attr;
		protobuf_c_message_free_unpacked(&rep->base, NULL);
	}
	return rc;
}

static int lookup(struct env *e, const char *name, uint64_t *ino)
{
	Zerofs__LookupReq req = ZEROFS__LOOKUP_REQ__INIT;
	Zerofs__LookupReply *rep = NULL;
	int rc;

	req.dir = &root_fh;
	req.name = (char *)name;
	rc = call(e, ZEROFS__META_METHOD__META_LOOKUP, &req.base,
		  &zerofs__lookup_reply__descriptor, (ProtobufCMessage **)&rep);
	if (rc == 0) {
		*ino = rep->attr->ino;
		protobuf_c_message_free_unpacked(&rep->base, NULL);
	}
	return rc;
}

static int flush(struct env *e)
{
	Zerofs__FlushReq req = ZEROFS__FLUSH_REQ__INIT;
	ProtobufCMessage *rep = NULL;
	int rc;

	rc = call(e, ZEROFS__META_METHOD__META_FLUSH, &req.base,
		  &zerofs__flush_reply__descriptor, &rep);
	if (rc == 0)
		protobuf_c_message_free_unpacked(rep, NULL);
	return rc;
}

TEST(create_then_lookup_round_trips_over_rpc)
{
	struct env e;
	Zerofs__Attr a;
	uint64_t ino = 0;

	env_new(&e, "srv1");
	CHECK_EQ(create(&e, "f", &a), 0);
	CHECK_EQ(a.type, ZEROFS__FILE_TYPE__FT_REG);
	CHECK_EQ(a.mode, 0644);
	CHECK_EQ(lookup(&e, "f", &ino), 0);
	CHECK_EQ(ino, a.ino);
	env_free(&e);
}

TEST(errors_come_back_as_errnos)
{
	struct env e;
	Zerofs__GetAttrReq req = ZEROFS__GET_ATTR_REQ__INIT;
	Zerofs__Handle bad = ZEROFS__HANDLE__INIT;
	ProtobufCMessage *rep = NULL;
	Zerofs__Attr a;
	uint64_t ino;

	env_new(&e, "srv2");
	CHECK_EQ(lookup(&e, "missing", &ino), -ENOENT);
	CHECK_EQ(create(&e, "f", &a), 0);
	CHECK_EQ(create(&e, "f", &a), -EEXIST);
	CHECK_EQ(call(&e, ZEROFS__META_METHOD__META_GETATTR, &req.base,
		      &zerofs__get_attr_reply__descriptor, &rep),
		 -EINVAL);
	bad.ino = 1;
	bad.gen = 77;
	req.fh = &bad;
	CHECK_EQ(call(&e, ZEROFS__META_METHOD__META_GETATTR, &req.base,
		      &zerofs__get_attr_reply__descriptor, &rep),
		 -ESTALE);
	CHECK_EQ(
	    call(&e, 0, &req.base, &zerofs__get_attr_reply__descriptor, &rep),
	    -ENOSYS);
	env_free(&e);
}

TEST(flush_runs_the_flusher_barrier_first)
{
	struct env e;
	Zerofs__Attr a;
	int before;

	env_new(&e, "srv3");
	create(&e, "f", &a);
	before = __atomic_load_n(&barriers, __ATOMIC_RELAXED);
	CHECK_EQ(flush(&e), 0);
	CHECK(__atomic_load_n(&barriers, __ATOMIC_RELAXED) > before);
	env_free(&e);
}

TEST(a_restarted_service_finds_what_was_acknowledged_before_stop)
{
	struct env e;
	Zerofs__Attr a;
	uint64_t ino = 0;

	env_new(&e, "srv4");
	CHECK_EQ(create(&e, "kept", &a), 0);
	env_stop(&e);
	env_start(&e);
	CHECK_EQ(lookup(&e, "kept", &ino), 0);
	CHECK_EQ(ino, a.ino);
	env_free(&e);
}

TEST_MAIN(create_then_lookup_round_trips_over_rpc, errors_come_back_as_errnos,
	  flush_runs_the_flusher_barrier_first,
	  a_restarted_service_finds_what_was_acknowledged_before_stop)
