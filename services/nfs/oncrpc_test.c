/*
 * Unit tests of record marking and of the RPC call-header decoder.
 */
#include "nfs/oncrpc.h"
#include "test.h"

#include <errno.h>

struct mem_stream {
	const uint8_t *buf;
	size_t len;
	size_t pos;
};

static int mem_read(void *arg, void *buf, size_t n)
{
	struct mem_stream *s = arg;

	if (s->len - s->pos < n)
		return -EPIPE;
	memcpy(buf, s->buf + s->pos, n);
	s->pos += n;
	return 0;
}

static void put_mark(struct xdr_enc *e, int last, uint32_t len)
{
	xdr_put_u32(e, (last ? RPC_RM_LAST : 0) | len);
}

TEST(fragments_are_reassembled_into_one_record)
{
	struct oncrpc_record r;
	struct xdr_enc e;
	struct mem_stream s;

	xdr_enc_init(&e);
	put_mark(&e, 0, 4);
	xdr_put_opaque_fixed(&e, "abcd", 4);
	put_mark(&e, 1, 4);
	xdr_put_opaque_fixed(&e, "efgh", 4);
	s = (struct mem_stream){ e.buf, e.len, 0 };
	oncrpc_record_init(&r, 1024);
	CHECK_EQ(oncrpc_record_read(&r, mem_read, &s), 0);
	CHECK_EQ(r.len, 8);
	CHECK(memcmp(r.buf, "abcdefgh", 8) == 0);
	oncrpc_record_fini(&r);
	xdr_enc_fini(&e);
}

TEST(record_over_the_limit_is_refused_before_allocation)
{
	struct oncrpc_record r;
	struct xdr_enc e;
	struct mem_stream s;

	xdr_enc_init(&e);
	put_mark(&e, 1, 0x7fffffff);
	s = (struct mem_stream){ e.buf, e.len, 0 };
	oncrpc_record_init(&r, 1 << 20);
	CHECK_EQ(oncrpc_record_read(&r, mem_read, &s), -EMSGSIZE);
	CHECK(r.buf == NULL);
	oncrpc_record_fini(&r);
	xdr_enc_fini(&e);
}

TEST(fragments_that_add_up_past_the_limit_are_refused)
{
	struct oncrpc_record r;
	struct xdr_enc e;
	struct mem_stream s;

	xdr_enc_init(&e);
	put_mark(&e, 0, 8);
	xdr_put_opaque_fixed(&e, "abcdefgh", 8);
	put_mark(&e, 1, 8);
	xdr_put_opaque_fixed(&e, "abcdefgh", 8);
	s = (struct mem_stream){ e.buf, e.len, 0 };
	oncrpc_record_init(&r, 12);
	CHECK_EQ(oncrpc_record_read(&r, mem_read, &s), -EMSGSIZE);
	oncrpc_record_fini(&r);
	xdr_enc_fini(&e);
}

TEST(truncated_record_reports_the_stream_end)
{
	struct oncrpc_record r;
	struct xdr_enc e;
	struct mem_stream s;

	xdr_enc_init(&e);
	put_mark(&e, 1, 100);
	xdr_put_opaque_fixed(&e, "abcd", 4);
	s = (struct mem_stream){ e.buf, e.len, 0 };
	oncrpc_record_init(&r, 1024);
	CHECK_EQ(oncrpc_record_read(&r, mem_read, &s), -EPIPE);
	oncrpc_record_fini(&r);
	xdr_enc_fini(&e);
}

static void put_call(struct xdr_enc *e, uint32_t rpcvers, uint32_t flavor)
{
	xdr_put_u32(e, 0x1234);
	xdr_put_u32(e, RPC_CALL);
	xdr_put_u32(e, rpcvers);
	xdr_put_u32(e, NFS_PROGRAM);
	xdr_put_u32(e, NFS_V3);
	xdr_put_u32(e, NFSPROC3_GETATTR);
	xdr_put_u32(e, flavor);
}

static void put_auth_sys(struct xdr_enc *e, const char *machine, uint32_t ngids)
{
	struct xdr_enc b;
	uint32_t i;

	xdr_enc_init(&b);
	xdr_put_u32(&b, 0);
	xdr_put_string(&b, machine);
	xdr_put_u32(&b, 1000);
	xdr_put_u32(&b, 100);
	xdr_put_u32(&b, ngids);
	for (i = 0; i < ngids; i++)
		xdr_put_u32(&b, 200 + i);
	xdr_put_opaque_var(e, b.buf, (uint32_t)b.len);
	xdr_put_u32(e, RPC_AUTH_NONE);
	xdr_put_u32(e, 0);
	xdr_enc_fini(&b);
}

static int decode(struct xdr_enc *e, struct oncrpc_call *c)
{
	struct xdr_dec d;

	xdr_dec_init(&d, e->buf, e->len);
	return oncrpc_call_decode(&d, c);
}

TEST(auth_sys_call_header_is_decoded)
{
	struct xdr_enc e;
	struct oncrpc_call c;

	xdr_enc_init(&e);
	put_call(&e, 2, RPC_AUTH_SYS);
	put_auth_sys(&e, "host", 2);
	CHECK_EQ(decode(&e, &c), 0);
	CHECK_EQ(c.xid, 0x1234);
	CHECK_EQ(c.prog, NFS_PROGRAM);
	CHECK_EQ(c.proc, NFSPROC3_GETATTR);
	CHECK_EQ(c.cred.uid, 1000);
	CHECK_EQ(c.cred.gid, 100);
	CHECK_EQ(c.cred.ngids, 2);
	CHECK_EQ(c.cred.gids[1], 201);
	CHECK(strcmp(c.cred.machine, "host") == 0);
	xdr_enc_fini(&e);
}

TEST(auth_none_call_is_root_without_groups)
{
	struct xdr_enc e;
	struct oncrpc_call c;

	xdr_enc_init(&e);
	put_call(&e, 2, RPC_AUTH_NONE);
	xdr_put_u32(&e, 0);
	xdr_put_u32(&e, RPC_AUTH_NONE);
	xdr_put_u32(&e, 0);
	CHECK_EQ(decode(&e, &c), 0);
	CHECK_EQ(c.cred.uid, 0);
	CHECK_EQ(c.cred.ngids, 0);
	xdr_enc_fini(&e);
}

TEST(wrong_rpc_version_is_a_mismatch)
{
	struct xdr_enc e;
	struct oncrpc_call c;

	xdr_enc_init(&e);
	put_call(&e, 3, RPC_AUTH_NONE);
	CHECK_EQ(decode(&e, &c), -EPROTONOSUPPORT);
	CHECK_EQ(c.xid, 0x1234);
	xdr_enc_fini(&e);
}

TEST(reply_message_is_not_a_call)
{
	struct xdr_enc e;
	struct oncrpc_call c;

	xdr_enc_init(&e);
	xdr_put_u32(&e, 1);
	xdr_put_u32(&e, RPC_REPLY);
	xdr_put_u32(&e, 0);
	CHECK_EQ(decode(&e, &c), -EBADMSG);
	xdr_enc_fini(&e);
}

TEST(unknown_flavor_is_a_bad_credential)
{
	struct xdr_enc e;
	struct oncrpc_call c;

	xdr_enc_init(&e);
	put_call(&e, 2, 6);
	xdr_put_u32(&e, 0);
	xdr_put_u32(&e, RPC_AUTH_NONE);
	xdr_put_u32(&e, 0);
	CHECK_EQ(decode(&e, &c), -EACCES);
	CHECK_EQ(c.proc, NFSPROC3_GETATTR);
	xdr_enc_fini(&e);
}

TEST(too_many_groups_is_a_bad_credential)
{
	struct xdr_enc e;
	struct oncrpc_call c;

	xdr_enc_init(&e);
	put_call(&e, 2, RPC_AUTH_SYS);
	put_auth_sys(&e, "host", 17);
	CHECK_EQ(decode(&e, &c), -EACCES);
	xdr_enc_fini(&e);
}

TEST(machine_name_over_255_bytes_is_a_bad_credential)
{
	struct xdr_enc e;
	struct oncrpc_call c;
	char name[300];

	memset(name, 'm', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	xdr_enc_init(&e);
	put_call(&e, 2, RPC_AUTH_SYS);
	put_auth_sys(&e, name, 0);
	CHECK_EQ(decode(&e, &c), -EACCES);
	xdr_enc_fini(&e);
}

TEST(truncated_call_header_is_garbage_at_every_byte)
{
	struct xdr_enc e;
	struct oncrpc_call c;
	struct xdr_dec d;
	size_t cut;

	xdr_enc_init(&e);
	put_call(&e, 2, RPC_AUTH_SYS);
	put_auth_sys(&e, "host", 3);
	for (cut = 0; cut < e.len; cut++) {
		xdr_dec_init(&d, e.buf, cut);
		CHECK(oncrpc_call_decode(&d, &c) < 0);
	}
	xdr_enc_fini(&e);
}

TEST(sealed_reply_carries_its_record_mark)
{
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t mark, xid, type, stat;

	xdr_enc_init(&e);
	oncrpc_reply_rpc_mismatch(&e, 9);
	CHECK_EQ(oncrpc_record_seal(&e), 0);
	xdr_dec_init(&d, e.buf, e.len);
	CHECK(xdr_u32(&d, &mark) && xdr_u32(&d, &xid) && xdr_u32(&d, &type) &&
	      xdr_u32(&d, &stat));
	CHECK_EQ(mark, RPC_RM_LAST | (e.len - 4));
	CHECK_EQ(xid, 9);
	CHECK_EQ(type, RPC_REPLY);
	CHECK_EQ(stat, RPC_MSG_DENIED);
	xdr_enc_fini(&e);
}

TEST_MAIN(fragments_are_reassembled_into_one_record,
	  record_over_the_limit_is_refused_before_allocation,
	  fragments_that_add_up_past_the_limit_are_refused,
	  truncated_record_reports_the_stream_end,
	  auth_sys_call_header_is_decoded,
	  auth_none_call_is_root_without_groups,
	  wrong_rpc_version_is_a_mismatch, reply_message_is_not_a_call,
	  unknown_flavor_is_a_bad_credential,
	  too_many_groups_is_a_bad_credential,
	  machine_name_over_255_bytes_is_a_bad_credential,
	  truncated_call_header_is_garbage_at_every_byte,
	  sealed_reply_carries_its_record_mark)
