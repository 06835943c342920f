/*
 * The gateway's defences against clients that hold resources without
 * using them, end to end over TCP on 127.0.0.1 against the mocks of
 * nfs_mock.h, with the limits shortened so the cases run in seconds:
 * idle and stalled connections are closed, connections over the limit are
 * refused with one warning, a client that never reads its replies holds a
 * bounded number of bytes, and a service that is down gets JUKEBOX and a
 * warning in bounded time.
 */
#include "nfs/nfs_mock.h"

#include <fcntl.h>
#include <stdlib.h>

#define TEST_IDLE_MS	1000
#define TEST_STALL_MS	300
#define TEST_MAX_CONNS	6
#define TEST_BACKEND_MS 500
#define TEST_CONN_BYTES (3u << 20)

/* Starts the gateway under the shortened limits (once). */
static bool lim_up(void)
{
	struct nfs_limits l;

	if (!env.up) {
		nfs_limits_get(&l);
		l.idle_ms = TEST_IDLE_MS;
		l.stall_ms = TEST_STALL_MS;
		l.max_conns = TEST_MAX_CONNS;
		l.backend_ms = TEST_BACKEND_MS;
		l.conn_bytes = TEST_CONN_BYTES;
		nfs_limits_set(&l);
	}
	return env_up();
}

static int lim_open(void)
{
	return lim_up() ? conn_open() : -1;
}

static int null_call(int fd)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	int rc;

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_NULL);
	rc = call_send(fd, &e, &rec, &d);
	oncrpc_record_fini(&rec);
	return rc;
}

/* Waits up to 5 s for the gateway to have at most n connections. */
static bool conns_at_most(int n)
{
	size_t bytes;
	int i, conns = -1;

	for (i = 0; i < 50; i++) {
		nfs_server_stats(env.gw, &conns, &bytes);
		if (conns <= n)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

/* Milliseconds until the server closes fd (at most the 10 s receive
 * timeout conn_open sets), or -1 if it never does. */
static int64_t ms_until_closed(int fd)
{
	int64_t t0 = nfs_now_ms();

	return conn_closed_by_server(fd) ? nfs_now_ms() - t0 : -1;
}

TEST(connection_that_sends_nothing_is_closed_after_the_idle_timeout)
{
	int fd = lim_open();
	int64_t ms;

	CHECK(fd >= 0);
	ms = ms_until_closed(fd);
	CHECK(ms >= TEST_IDLE_MS - 100);
	CHECK(ms < TEST_IDLE_MS + 2000);
	close(fd);
}

TEST(connection_stuck_inside_a_record_is_closed_after_the_stall_timeout)
{
	uint8_t b = 0x80;
	int fd = lim_open();
	int64_t ms;

	CHECK(send(fd, &b, 1, MSG_NOSIGNAL) == 1);
	ms = ms_until_closed(fd);
	CHECK(ms >= 0);
	CHECK(ms < TEST_IDLE_MS - 200);
	close(fd);
}

TEST(connection_that_keeps_calling_outlives_the_idle_timeout)
{
	int i, fd = lim_open();

	for (i = 0; i < 15; i++) {
		CHECK_EQ(null_call(fd), RPC_SUCCESS);
		usleep(150 * 1000);
	}
	close(fd);
}

/* Runs fn with the gateway's log lines going to a file; returns how many
 * of them hold `what`. */
static int log_lines_with(void (*fn)(void), const char *what)
{
	char path[] = "/tmp/nfs-limits-log-XXXXXX", line[1024];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO), n = 0, level;
	FILE *f;

	if (fd < 0 || saved < 0)
		return -1;
	level = zlog_level;
	zlog_level = LOG_WARNING;
	dup2(fd, STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	zlog_level = level;
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, what) != NULL;
	fclose(f);
	unlink(path);
	return n;
}

static int refused_closed;

static void conns_over_the_limit(void)
{
	int fds[TEST_MAX_CONNS + 3], i;

	for (i = 0; i < TEST_MAX_CONNS + 3; i++) {
		fds[i] = lim_open();
		/* A call each, so the first ones are counted before the
		 * next ones arrive. */
		if (i < TEST_MAX_CONNS && null_call(fds[i]) != RPC_SUCCESS)
			return;
	}
	for (i = TEST_MAX_CONNS; i < TEST_MAX_CONNS + 3; i++)
		refused_closed += conn_closed_by_server(fds[i]);
	for (i = 0; i < TEST_MAX_CONNS + 3; i++)
		close(fds[i]);
}

TEST(connections_over_the_limit_are_refused_with_one_warning)
{
	CHECK(lim_up());
	CHECK(conns_at_most(0));
	CHECK_EQ(log_lines_with(conns_over_the_limit, "refused"), 1);
	CHECK_EQ(refused_closed, 3);
	CHECK(conns_at_most(0));
}

static int read_call_send(int fd, const struct nfs_fh *f)
{
	struct xdr_enc e;
	int ok;

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_READ);
	nfs_fh_encode(&e, f->ino, f->gen);
	xdr_put_u64(&e, 0);
	xdr_put_u32(&e, NFS_IO_MAX);
	oncrpc_record_seal(&e);
	ok = send(fd, e.buf, e.len, MSG_NOSIGNAL) == (ssize_t)e.len;
	xdr_enc_fini(&e);
	return ok;
}

/* A 1 MiB file for READs to fill their replies from. */
static bool big_file(int fd, const char *name, struct nfs_fh *f)
{
	struct nfs_fh root = root_fh(fd);
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint8_t *data = calloc(1, NFS_IO_MAX);
	bool ok;

	if (create_file(fd, &root, name, NFSPROC3_CREATE, f) != NFS3_OK)
		return false;
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_WRITE);
	nfs_fh_encode(&e, f->ino, f->gen);
	xdr_put_u64(&e, 0);
	xdr_put_u32(&e, NFS_IO_MAX);
	xdr_put_u32(&e, FILE_SYNC);
	xdr_put_opaque_var(&e, data, NFS_IO_MAX);
	ok = call_send(fd, &e, &rec, &d) == RPC_SUCCESS;
	oncrpc_record_fini(&rec);
	free(data);
	return ok;
}

TEST(client_that_never_reads_replies_holds_a_bounded_number_of_bytes)
{
	struct nfs_fh f;
	int rcvbuf = 4096, i, conns, fd = lim_open(), lazy = lim_open();
	size_t bytes;
	int64_t t0;

	setsockopt(lazy, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	CHECK(big_file(fd, "big", &f));
	for (i = 0; i < 64; i++)
		CHECK(read_call_send(lazy, &f));
	usleep(500 * 1000);
	nfs_server_stats(env.gw, &conns, &bytes);
	CHECK(bytes >= NFS_IO_MAX);
	CHECK(bytes <= TEST_CONN_BYTES);
	t0 = nfs_now_ms();
	CHECK_EQ(null_call(fd), RPC_SUCCESS);
	CHECK(nfs_now_ms() - t0 < 1000);
	/* Its calls are dropped, not served: its slot goes at once. */
	close(lazy);
	t0 = nfs_now_ms();
	CHECK(conns_at_most(1));
	CHECK(nfs_now_ms() - t0 < 2000);
	close(fd);
}

TEST(calls_a_departed_client_left_queued_are_dropped_not_served)
{
	struct nfs_fh f;
	int rcvbuf = 4096, i, served, fd = lim_open(), gone = lim_open();
	int64_t t0;

	setsockopt(gone, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	CHECK(big_file(fd, "big2", &f));
	usleep(100 * 1000);
	served = atomic_load(&mock_reads);
	for (i = 0; i < 200; i++)
		CHECK(read_call_send(gone, &f));
	/* The client leaves with 200 calls asked: once its replies cannot
	 * be sent, the rest are dropped and its slot goes at once. */
	close(gone);
	t0 = nfs_now_ms();
	CHECK(conns_at_most(1));
	CHECK(nfs_now_ms() - t0 < 2000);
	usleep(200 * 1000);
	served = atomic_load(&mock_reads) - served;
	CHECK(served < 64);
	CHECK_EQ(null_call(fd), RPC_SUCCESS);
	close(fd);
}

static int getattr_status(int fd, const struct nfs_fh *fh)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t st = 99;

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_GETATTR);
	nfs_fh_encode(&e, fh->ino, fh->gen);
	if (call_send(fd, &e, &rec, &d) == RPC_SUCCESS)
		xdr_u32(&d, &st);
	oncrpc_record_fini(&rec);
	return (int)st;
}

static int down_status;
static int64_t down_ms;

static void getattr_with_metadata_down(void)
{
	struct nfs_fh root = { true, 1, MOCK_GEN };
	int fd = lim_open();
	int64_t t0 = nfs_now_ms();

	down_status = getattr_status(fd, &root);
	down_ms = nfs_now_ms() - t0;
	getattr_status(fd, &root); /* a second failure: not logged */
	close(fd);
}

TEST(service_that_is_down_gets_jukebox_and_a_warning_in_bounded_time)
{
	CHECK(lim_up());
	rpc_server_stop(env.meta);
	CHECK_EQ(log_lines_with(getattr_with_metadata_down, "metadata"), 1);
	CHECK_EQ(down_status, NFS3ERR_JUKEBOX);
	CHECK(down_ms < TEST_BACKEND_MS + 2000);
	nfs_service_stop(env.gw);
	rpc_server_stop(env.chunk);
	env.up = false;
}

TEST_MAIN(connection_that_sends_nothing_is_closed_after_the_idle_timeout,
	  connection_stuck_inside_a_record_is_closed_after_the_stall_timeout,
	  connection_that_keeps_calling_outlives_the_idle_timeout,
	  connections_over_the_limit_are_refused_with_one_warning,
	  client_that_never_reads_replies_holds_a_bounded_number_of_bytes,
	  calls_a_departed_client_left_queued_are_dropped_not_served,
	  service_that_is_down_gets_jukebox_and_a_warning_in_bounded_time)
