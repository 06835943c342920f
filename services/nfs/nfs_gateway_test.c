/*
 * The gateway end to end over TCP on 127.0.0.1, against the mock services
 * of nfs_mock.h.  Calls are built byte by byte, so the RPC-level answers
 * (mismatches, garbage, closed connections) are checked as a client sees
 * them.
 */
#include "nfs/nfs_mock.h"

TEST(null_call_succeeds_with_an_empty_body)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	int fd = conn_open();

	CHECK(fd >= 0);
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_NULL);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_SUCCESS);
	CHECK_EQ(xdr_dec_left(&d), 0);
	oncrpc_record_fini(&rec);
	close(fd);
}

TEST(mount_of_root_returns_the_root_handle)
{
	struct nfs_fh fh = { 0 };
	int fd = conn_open();

	CHECK_EQ(mount_path(fd, "/", &fh), MNT3_OK);
	CHECK(fh.valid);
	CHECK_EQ(fh.ino, 1);
	CHECK_EQ(fh.gen, MOCK_GEN);
	close(fd);
}

TEST(mount_of_a_missing_path_is_noent)
{
	struct nfs_fh fh;
	int fd = conn_open();

	CHECK_EQ(mount_path(fd, "/nowhere", &fh), MNT3ERR_NOENT);
	close(fd);
}

TEST(mount_of_a_file_is_notdir_and_of_a_subdir_works)
{
	struct nfs_fh root, f, sub, got = { 0 };
	int fd = conn_open();

	root = root_fh(fd);
	CHECK_EQ(create_file(fd, &root, "mfile", NFSPROC3_CREATE, &f), NFS3_OK);
	CHECK_EQ(create_file(fd, &root, "mdir", NFSPROC3_MKDIR, &sub), NFS3_OK);
	CHECK_EQ(mount_path(fd, "/mfile", &got), MNT3ERR_NOTDIR);
	CHECK_EQ(mount_path(fd, "/mdir/", &got), MNT3_OK);
	CHECK_EQ(got.ino, sub.ino);
	close(fd);
}

static int write_file(int fd, const struct nfs_fh *fh, const char *s,
		      uint32_t *count, uint8_t *verf)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t st = 99, committed;
	bool b;

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_WRITE);
	nfs_fh_encode(&e, fh->ino, fh->gen);
	xdr_put_u64(&e, 0);
	xdr_put_u32(&e, (uint32_t)strlen(s));
	xdr_put_u32(&e, FILE_SYNC);
	xdr_put_string(&e, s);
	if (call_send(fd, &e, &rec, &d) == RPC_SUCCESS && xdr_u32(&d, &st) &&
	    st == NFS3_OK) {
		/* wcc_data: pre_op_attr (size, mtime, ctime), post_op_attr */
		CHECK(xdr_bool(&d, &b) && b && xdr_skip(&d, 24));
		CHECK(xdr_bool(&d, &b) && b && xdr_skip(&d, 84));
		CHECK(xdr_u32(&d, count) && xdr_u32(&d, &committed));
		CHECK_EQ(committed, FILE_SYNC);
		CHECK(xdr_opaque_fixed(&d, verf, 8));
	}
	oncrpc_record_fini(&rec);
	return (int)st;
}

TEST(written_bytes_read_back_with_eof)
{
	struct oncrpc_record rec;
	struct nfs_fh root, f;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t st = 99, count = 0, n;
	const uint8_t *data;
	uint8_t verf[8];
	bool b, eof;
	int fd = conn_open();

	root = root_fh(fd);
	CHECK_EQ(create_file(fd, &root, "rw", NFSPROC3_CREATE, &f), NFS3_OK);
	CHECK_EQ(write_file(fd, &f, "hello", &count, verf), NFS3_OK);
	CHECK_EQ(count, 5);
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_READ);
	nfs_fh_encode(&e, f.ino, f.gen);
	xdr_put_u64(&e, 1);
	xdr_put_u32(&e, 100);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_SUCCESS);
	CHECK(xdr_u32(&d, &st) && xdr_bool(&d, &b) && b && xdr_skip(&d, 84));
	CHECK_EQ(st, NFS3_OK);
	CHECK(xdr_u32(&d, &count) && xdr_bool(&d, &eof) &&
	      xdr_opaque_var(&d, 100, &data, &n));
	CHECK_EQ(count, 4);
	CHECK(eof);
	CHECK(n == 4 && memcmp(data, "ello", 4) == 0);
	oncrpc_record_fini(&rec);
	close(fd);
}

TEST(commit_returns_the_write_verifier)
{
	struct oncrpc_record rec;
	struct nfs_fh root, f;
	struct xdr_enc e;
	struct xdr_dec d;
	uint8_t verf[8], cverf[8];
	uint32_t st = 99, count;
	bool b;
	int fd = conn_open();

	root = root_fh(fd);
	CHECK_EQ(create_file(fd, &root, "c", NFSPROC3_CREATE, &f), NFS3_OK);
	CHECK_EQ(write_file(fd, &f, "x", &count, verf), NFS3_OK);
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_COMMIT);
	nfs_fh_encode(&e, f.ino, f.gen);
	xdr_put_u64(&e, 0);
	xdr_put_u32(&e, 0);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_SUCCESS);
	CHECK(xdr_u32(&d, &st) && st == NFS3_OK);
	CHECK(xdr_bool(&d, &b) && b && xdr_skip(&d, 24));
	CHECK(xdr_bool(&d, &b) && b && xdr_skip(&d, 84));
	CHECK(xdr_opaque_fixed(&d, cverf, 8));
	CHECK(memcmp(verf, cverf, 8) == 0);
	oncrpc_record_fini(&rec);
	close(fd);
}

/* One READDIR from cookie; appends the names to seen, returns the status
 * and sets *cookie to the last entry's and *eof. */
static int readdir_once(int fd, const struct nfs_fh *dir, uint32_t count,
			uint64_t *cookie, bool *eof, char *seen, size_t len)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t st = 99;
	uint64_t ino;
	char name[256];
	bool b, more;

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_READDIR);
	nfs_fh_encode(&e, dir->ino, dir->gen);
	xdr_put_u64(&e, *cookie);
	xdr_put_u64(&e, 0);
	xdr_put_u32(&e, count);
	if (call_send(fd, &e, &rec, &d) != RPC_SUCCESS || !xdr_u32(&d, &st) ||
	    st != NFS3_OK)
		goto out;
	CHECK(xdr_bool(&d, &b) && b && xdr_skip(&d, 84) && xdr_skip(&d, 8));
	while (xdr_bool(&d, &more) && more) {
		CHECK(xdr_u64(&d, &ino) && xdr_string(&d, 255, name, 256) &&
		      xdr_u64(&d, cookie));
		strncat(seen, name, len - strlen(seen) - 2);
		strcat(seen, ",");
	}
	CHECK(xdr_bool(&d, eof));
	CHECK(rec.len - 24 <= count); /* the RPC reply header is not counted */
out:
	oncrpc_record_fini(&rec);
	return (int)st;
}

TEST(readdir_resumes_from_the_last_cookie_that_fit)
{
	struct nfs_fh root, dir, f;
	char seen[256] = "", name[16];
	uint64_t cookie = 0;
	bool eof = false;
	int i, calls = 0, fd = conn_open();

	root = root_fh(fd);
	CHECK_EQ(create_file(fd, &root, "ld", NFSPROC3_MKDIR, &dir), NFS3_OK);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		CHECK_EQ(create_file(fd, &dir, name, NFSPROC3_CREATE, &f),
			 NFS3_OK);
	}
	while (!eof && calls++ < 10)
		CHECK_EQ(readdir_once(fd, &dir, 108 + 2 * 28, &cookie, &eof,
				      seen, sizeof(seen)),
			 NFS3_OK);
	CHECK_EQ(calls, 3);
	CHECK(strcmp(seen, "e0,e1,e2,e3,e4,") == 0);
	close(fd);
}

TEST(readdir_budget_below_one_entry_is_toosmall)
{
	struct nfs_fh root = { 0 };
	char seen[64] = "";
	uint64_t cookie = 0;
	bool eof;
	int fd = conn_open();

	root = root_fh(fd);
	CHECK_EQ(
	    readdir_once(fd, &root, 110, &cookie, &eof, seen, sizeof(seen)),
	    NFS3ERR_TOOSMALL);
	close(fd);
}

/* GETATTR with raw handle bytes; returns the nfsstat3. */
static int getattr_raw(int fd, const void *fh, uint32_t len)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t st = 99;

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_GETATTR);
	xdr_put_opaque_var(&e, fh, len);
	if (call_send(fd, &e, &rec, &d) == RPC_SUCCESS)
		xdr_u32(&d, &st);
	oncrpc_record_fini(&rec);
	return (int)st;
}

TEST(handle_of_the_wrong_length_is_badhandle_on_the_wire)
{
	int fd = conn_open();

	CHECK_EQ(getattr_raw(fd, "\1abc", 4), NFS3ERR_BADHANDLE);
	close(fd);
}

TEST(handle_of_an_old_generation_is_stale)
{
	struct xdr_enc h;
	int fd = conn_open();

	xdr_enc_init(&h);
	nfs_fh_encode(&h, 1, MOCK_GEN + 1);
	CHECK_EQ(getattr_raw(fd, h.buf + 4, 13), NFS3ERR_STALE);
	xdr_enc_fini(&h);
	close(fd);
}

/* Sends a call record and returns the raw reply words after the xid. */
static int raw_reply(int fd, struct xdr_enc *e, uint32_t *w, int n)
{
	struct oncrpc_record rec;
	struct xdr_dec d;
	uint32_t xid;
	int i;

	oncrpc_record_seal(e);
	if (send(fd, e->buf, e->len, MSG_NOSIGNAL) != (ssize_t)e->len)
		return -1;
	xdr_enc_fini(e);
	oncrpc_record_init(&rec, 1 << 16);
	if (oncrpc_record_read(&rec, sock_read_cb, &fd) < 0)
		return -1;
	xdr_dec_init(&d, rec.buf, rec.len);
	xdr_u32(&d, &xid);
	for (i = 0; i < n && xdr_u32(&d, &w[i]); i++)
		;
	oncrpc_record_fini(&rec);
	return i;
}

TEST(rpc_version_other_than_2_is_denied_with_2_to_2)
{
	struct xdr_enc e;
	uint32_t w[5];
	int fd = conn_open();

	xdr_enc_init(&e);
	xdr_put_u32(&e, 0);
	xdr_put_u32(&e, 42);
	xdr_put_u32(&e, RPC_CALL);
	xdr_put_u32(&e, 3);
	CHECK_EQ(raw_reply(fd, &e, w, 5), 5);
	CHECK_EQ(w[1], RPC_MSG_DENIED);
	CHECK_EQ(w[2], RPC_MISMATCH);
	CHECK(w[3] == 2 && w[4] == 2);
	close(fd);
}

TEST(unknown_flavor_is_denied_as_bad_credential)
{
	struct xdr_enc e;
	uint32_t w[4];
	int fd = conn_open();

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_NULL);
	xdr_patch_u32(&e, 28, 6);
	CHECK_EQ(raw_reply(fd, &e, w, 4), 4);
	CHECK_EQ(w[1], RPC_MSG_DENIED);
	CHECK_EQ(w[2], RPC_AUTH_ERROR);
	CHECK_EQ(w[3], RPC_AUTH_BADCRED);
	close(fd);
}

TEST(unserved_program_version_and_procedure_are_told_apart)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t lo = 0, hi = 0;
	int fd = conn_open();

	call_start(&e, 100099, 1, 0);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_PROG_UNAVAIL);
	oncrpc_record_fini(&rec);
	call_start(&e, NFS_PROGRAM, 2, 0);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_PROG_MISMATCH);
	CHECK(xdr_u32(&d, &lo) && xdr_u32(&d, &hi));
	CHECK(lo == 3 && hi == 3);
	oncrpc_record_fini(&rec);
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_COUNT);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_PROC_UNAVAIL);
	oncrpc_record_fini(&rec);
	call_start(&e, MOUNT_PROGRAM, MOUNT_V3, MOUNTPROC3_EXPORT + 1);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_PROC_UNAVAIL);
	oncrpc_record_fini(&rec);
	close(fd);
}

TEST(arguments_cut_short_are_garbage_args)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	int fd = conn_open();

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_READ);
	xdr_put_u32(&e, 13);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_GARBAGE_ARGS);
	oncrpc_record_fini(&rec);
	close(fd);
}

TEST(record_claiming_2_gib_closes_only_its_connection)
{
	static const uint8_t mark[] = { 0xff, 0xff, 0xff, 0xff };
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	int fd = conn_open(), other = conn_open();

	CHECK(send(fd, mark, sizeof(mark), MSG_NOSIGNAL) == 4);
	CHECK(conn_closed_by_server(fd));
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_NULL);
	CHECK_EQ(call_send(other, &e, &rec, &d), RPC_SUCCESS);
	oncrpc_record_fini(&rec);
	close(fd);
	close(other);
}

TEST(reply_message_from_a_client_closes_the_connection)
{
	struct xdr_enc e;
	int fd = conn_open();

	xdr_enc_init(&e);
	xdr_put_u32(&e, 0);
	xdr_put_u32(&e, 42);
	xdr_put_u32(&e, RPC_REPLY);
	xdr_put_u32(&e, 0);
	oncrpc_record_seal(&e);
	CHECK(send(fd, e.buf, e.len, MSG_NOSIGNAL) == (ssize_t)e.len);
	CHECK(conn_closed_by_server(fd));
	xdr_enc_fini(&e);
	close(fd);
}

/* Writes `len` zero bytes at offset 0 in one WRITE; returns nfsstat3. */
static int write_fill(int fd, const struct nfs_fh *fh, uint32_t len)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t st = 99;
	uint8_t *data = calloc(1, len);

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_WRITE);
	nfs_fh_encode(&e, fh->ino, fh->gen);
	xdr_put_u64(&e, 0);
	xdr_put_u32(&e, len);
	xdr_put_u32(&e, UNSTABLE);
	xdr_put_opaque_var(&e, data, len);
	if (call_send(fd, &e, &rec, &d) == RPC_SUCCESS)
		xdr_u32(&d, &st);
	oncrpc_record_fini(&rec);
	free(data);
	return (int)st;
}

TEST(client_that_stops_reading_stalls_only_its_connection)
{
	struct oncrpc_record rec;
	struct nfs_fh root, f;
	struct xdr_enc e;
	struct xdr_dec d;
	int i, rc, fd = conn_open(), lazy = conn_open();

	root = root_fh(fd);
	CHECK_EQ(create_file(fd, &root, "big", NFSPROC3_CREATE, &f), NFS3_OK);
	CHECK_EQ(write_fill(fd, &f, NFS_IO_MAX), NFS3_OK);
	/* 64 MiB of READ replies that are never read. */
	for (i = 0; i < 64; i++) {
		call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_READ);
		nfs_fh_encode(&e, f.ino, f.gen);
		xdr_put_u64(&e, 0);
		xdr_put_u32(&e, NFS_IO_MAX);
		oncrpc_record_seal(&e);
		CHECK(send(lazy, e.buf, e.len, MSG_NOSIGNAL) == (ssize_t)e.len);
		xdr_enc_fini(&e);
	}
	usleep(200 * 1000);
	for (i = 0, rc = RPC_SUCCESS; i < 20 && rc == RPC_SUCCESS; i++) {
		call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_GETATTR);
		nfs_fh_encode(&e, f.ino, f.gen);
		rc = call_send(fd, &e, &rec, &d);
		oncrpc_record_fini(&rec);
	}
	CHECK_EQ(rc, RPC_SUCCESS);
	close(lazy);
	close(fd);
}

/* Sends a call whose arguments are already in e; returns the nfsstat3. */
static int status_of(int fd, struct xdr_enc *e)
{
	struct oncrpc_record rec;
	struct xdr_dec d;
	uint32_t st = 99;

	if (call_send(fd, e, &rec, &d) == RPC_SUCCESS)
		xdr_u32(&d, &st);
	oncrpc_record_fini(&rec);
	return (int)st;
}

TEST(size_change_with_a_stale_guard_is_not_sync)
{
	struct nfs_fh root, f;
	struct xdr_enc e;
	int fd = conn_open();

	root = root_fh(fd);
	CHECK_EQ(create_file(fd, &root, "guarded", NFSPROC3_CREATE, &f),
		 NFS3_OK);
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_SETATTR);
	nfs_fh_encode(&e, f.ino, f.gen);
	xdr_put_u32(&e, 0); /* mode, uid, gid: unchanged */
	xdr_put_u32(&e, 0);
	xdr_put_u32(&e, 0);
	xdr_put_u32(&e, 1); /* size 0 */
	xdr_put_u64(&e, 0);
	xdr_put_u32(&e, DONT_CHANGE);
	xdr_put_u32(&e, DONT_CHANGE);
	xdr_put_u32(&e, 1); /* guard: a ctime the file never had */
	xdr_put_u32(&e, 12345);
	xdr_put_u32(&e, 6789);
	CHECK_EQ(status_of(fd, &e), NFS3ERR_NOT_SYNC);
	close(fd);
}

TEST(mknod_of_a_regular_file_is_badtype)
{
	struct nfs_fh root;
	struct xdr_enc e;
	int fd = conn_open();

	root = root_fh(fd);
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_MKNOD);
	nfs_fh_encode(&e, root.ino, root.gen);
	xdr_put_string(&e, "node");
	xdr_put_u32(&e, NF3REG);
	CHECK_EQ(status_of(fd, &e), NFS3ERR_BADTYPE);
	close(fd);
}

TEST(name_over_255_bytes_is_nametoolong)
{
	struct nfs_fh root;
	struct xdr_enc e;
	char name[300];
	int fd = conn_open();

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	root = root_fh(fd);
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_LOOKUP);
	nfs_fh_encode(&e, root.ino, root.gen);
	xdr_put_string(&e, name);
	CHECK_EQ(status_of(fd, &e), NFS3ERR_NAMETOOLONG);
	close(fd);
}

TEST(symlink_target_over_4096_bytes_is_nametoolong)
{
	struct nfs_fh root;
	struct xdr_enc e;
	char target[5000];
	int i, fd = conn_open();

	memset(target, 't', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	root = root_fh(fd);
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_SYMLINK);
	nfs_fh_encode(&e, root.ino, root.gen);
	xdr_put_string(&e, "longlink");
	for (i = 0; i < 6; i++)
		xdr_put_u32(&e, 0); /* sattr3: nothing set */
	xdr_put_string(&e, target);
	CHECK_EQ(status_of(fd, &e), NFS3ERR_NAMETOOLONG);
	close(fd);
}

TEST(name_holding_a_nul_byte_is_inval)
{
	struct nfs_fh root;
	struct xdr_enc e;
	int fd = conn_open();

	root = root_fh(fd);
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_LOOKUP);
	nfs_fh_encode(&e, root.ino, root.gen);
	xdr_put_opaque_var(&e, "a\0b", 3);
	CHECK_EQ(status_of(fd, &e), NFS3ERR_INVAL);
	close(fd);
}

TEST(stop_closes_open_connections)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	int fd = conn_open();

	/* One call first, so the connection is served, not still queued. */
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_NULL);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_SUCCESS);
	oncrpc_record_fini(&rec);
	nfs_service_stop(env.gw);
	CHECK(conn_closed_by_server(fd));
	close(fd);
	rpc_server_stop(env.chunk);
	rpc_server_stop(env.meta);
	env.up = false;
}

TEST_MAIN(null_call_succeeds_with_an_empty_body,
	  mount_of_root_returns_the_root_handle,
	  mount_of_a_missing_path_is_noent,
	  mount_of_a_file_is_notdir_and_of_a_subdir_works,
	  written_bytes_read_back_with_eof, commit_returns_the_write_verifier,
	  readdir_resumes_from_the_last_cookie_that_fit,
	  readdir_budget_below_one_entry_is_toosmall,
	  handle_of_the_wrong_length_is_badhandle_on_the_wire,
	  handle_of_an_old_generation_is_stale,
	  rpc_version_other_than_2_is_denied_with_2_to_2,
	  unknown_flavor_is_denied_as_bad_credential,
	  unserved_program_version_and_procedure_are_told_apart,
	  arguments_cut_short_are_garbage_args,
	  record_claiming_2_gib_closes_only_its_connection,
	  reply_message_from_a_client_closes_the_connection,
	  client_that_stops_reading_stalls_only_its_connection,
	  size_change_with_a_stale_guard_is_not_sync,
	  mknod_of_a_regular_file_is_badtype,
	  name_over_255_bytes_is_nametoolong,
	  symlink_target_over_4096_bytes_is_nametoolong,
	  name_holding_a_nul_byte_is_inval, stop_closes_open_connections)
