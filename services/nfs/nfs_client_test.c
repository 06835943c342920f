/*
 * Clients against the gateway and the mock services of nfs_mock.h: the
 * libnfs tools (nfs-cp, nfs-cat, nfs-ls) as real clients, and a bounded
 * run of calls with random arguments that must all be answered.
 */
#include "nfs/nfs_mock.h"

#include <poll.h>
#include <stdarg.h>
#include <sys/wait.h>

#define MANY_CONNS 1100
#define MAX_CONNS  1024

/* Counts the connections the server has closed by now, marking them. */
static int closed_count(int *fds, int n)
{
	int i, closed = 0;
	uint8_t b;

	for (i = 0; i < n; i++) {
		if (fds[i] >= 0 && recv(fds[i], &b, 1, MSG_DONTWAIT) == 0) {
			close(fds[i]);
			fds[i] = -1;
		}
		closed += fds[i] < 0;
	}
	return closed;
}

/* A NULL call on a new connection, tried for up to five seconds while
 * the server reaps the connections that just went away. */
static bool null_served_soon(void)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	int i, rc = -1, fd;

	for (i = 0; i < 50 && rc != RPC_SUCCESS; i++) {
		fd = conn_open();
		call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_NULL);
		rc = call_send(fd, &e, &rec, &d);
		oncrpc_record_fini(&rec);
		close(fd);
		if (rc != RPC_SUCCESS)
			usleep(100 * 1000);
	}
	return rc == RPC_SUCCESS;
}

TEST(connections_beyond_1024_are_closed_at_accept)
{
	static int fds[MANY_CONNS];
	int i, closed = 0;

	for (i = 0; i < MANY_CONNS; i++)
		fds[i] = conn_open();
	/* The acceptor works through the backlog; give it up to 5 s. */
	for (i = 0; i < 50 && closed < MANY_CONNS - MAX_CONNS; i++) {
		usleep(100 * 1000);
		closed = closed_count(fds, MANY_CONNS);
	}
	usleep(200 * 1000);
	CHECK_EQ(closed_count(fds, MANY_CONNS), MANY_CONNS - MAX_CONNS);
	for (i = 0; i < MANY_CONNS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	CHECK(null_served_soon());
}

/* A small deterministic generator, so a failure can be replayed. */
static uint32_t fuzz_next(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

/* One call of a random procedure with random arguments, half of them
 * opening with a valid handle so that decoding gets past it.  Returns
 * the accept_stat, or -1 if the connection broke. */
static int fuzz_call(int fd, uint32_t *st, const struct nfs_fh *root)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t i, n, mount = fuzz_next(st) % 4 == 0;
	int rc;

	if (mount)
		call_start(&e, MOUNT_PROGRAM, MOUNT_V3, fuzz_next(st) % 6);
	else
		call_start(&e, NFS_PROGRAM, NFS_V3, fuzz_next(st) % 22);
	if (fuzz_next(st) % 2)
		nfs_fh_encode(&e, root->ino, root->gen);
	n = fuzz_next(st) % 24;
	for (i = 0; i < n; i++)
		xdr_put_u32(&e, fuzz_next(st) % 3 ? fuzz_next(st) % 300
						  : fuzz_next(st));
	rc = call_send(fd, &e, &rec, &d);
	oncrpc_record_fini(&rec);
	return rc;
}

TEST(random_arguments_get_answers_and_the_server_lives_on)
{
	struct oncrpc_record rec;
	struct nfs_fh root;
	struct xdr_enc e;
	struct xdr_dec d;
	uint32_t st = 12345;
	int i, rc, fd = conn_open();

	root = root_fh(fd);
	for (i = 0; i < 2000; i++) {
		rc = fuzz_call(fd, &st, &root);
		if (rc != RPC_SUCCESS && rc != RPC_GARBAGE_ARGS) {
			CHECK_EQ(rc, RPC_SUCCESS);
			break;
		}
	}
	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_NULL);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_SUCCESS);
	oncrpc_record_fini(&rec);
	close(fd);
}

/* Runs a shell command line and returns its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* libnfs 4.0 takes what comes before a URL's last slash as the export,
 * so a file at the root is written "//name" (export "/"). */
TEST(libnfs_tools_copy_list_and_read_back_a_file)
{
	char dir[64];

	CHECK(env_up());
	CHECK_EQ(test_tmpdir("nfs-gateway-test", dir, sizeof(dir)), 0);
	CHECK_EQ(sh("head -c 300000 /dev/urandom > %s/in", dir), 0);
	CHECK_EQ(sh("timeout 20 nfs-cp %s/in 'nfs://127.0.0.1//tool"
		    "?nfsport=%d&mountport=%d&version=3' >/dev/null 2>&1",
		    dir, env.port, env.port),
		 0);
	CHECK_EQ(sh("timeout 20 nfs-cat 'nfs://127.0.0.1//tool"
		    "?nfsport=%d&mountport=%d&version=3' > %s/out 2>/dev/null",
		    env.port, env.port, dir),
		 0);
	CHECK_EQ(sh("cmp -s %s/in %s/out", dir, dir), 0);
	CHECK_EQ(sh("timeout 20 nfs-ls 'nfs://127.0.0.1/"
		    "?nfsport=%d&mountport=%d&version=3' 2>/dev/null "
		    "| grep -q ' tool$'",
		    env.port, env.port),
		 0);
	sh("rm -rf %s", dir);
}

TEST(gateway_stops_cleanly_after_the_clients)
{
	struct oncrpc_record rec;
	struct xdr_enc e;
	struct xdr_dec d;
	int fd = conn_open();

	call_start(&e, NFS_PROGRAM, NFS_V3, NFSPROC3_NULL);
	CHECK_EQ(call_send(fd, &e, &rec, &d), RPC_SUCCESS);
	oncrpc_record_fini(&rec);
	env_down();
	CHECK(conn_closed_by_server(fd));
	close(fd);
}

TEST_MAIN(connections_beyond_1024_are_closed_at_accept,
	  libnfs_tools_copy_list_and_read_back_a_file,
	  random_arguments_get_answers_and_the_server_lives_on,
	  gateway_stops_cleanly_after_the_clients)
