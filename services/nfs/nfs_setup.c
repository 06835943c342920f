/*
 * What the gateway sets up once when it starts: its listening sockets, its
 * write verifier, the malloc tuning its buffers want, and the limits every
 * connection lives under (constants, which tests may shorten).
 */
#include "nfs/nfs.h"
#include "nfs/nfs_gw.h"

#include "log.h"

#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NFS_MAX_CONNS  1024
#define NFS_CONN_CALLS 8
#define NFS_CONN_BYTES (4u << 20)
#define NFS_IDLE_MS    (120 * 1000)
#define NFS_STALL_MS   (30 * 1000)
#define NFS_SEND_MS    (120 * 1000)
#define NFS_BACKEND_MS (30 * 1000)
/* Few malloc arenas, and 1 MiB buffers always from mmap: otherwise every
 * thread that ever held a record keeps an arena of freed megabytes, and
 * the resident size only grows with the load the gateway has seen. */
#define NFS_ARENA_MAX	   4
#define NFS_MMAP_THRESHOLD (256 << 10)

static pthread_mutex_t nfs_limits_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nfs_limits nfs_limits_now = {
	.idle_ms = NFS_IDLE_MS,
	.stall_ms = NFS_STALL_MS,
	.send_ms = NFS_SEND_MS,
	.max_conns = NFS_MAX_CONNS,
	.conn_calls = NFS_CONN_CALLS,
	.conn_bytes = NFS_CONN_BYTES,
	.backend_ms = NFS_BACKEND_MS,
};

void nfs_limits_get(struct nfs_limits *l)
{
	pthread_mutex_lock(&nfs_limits_lock);
	*l = nfs_limits_now;
	pthread_mutex_unlock(&nfs_limits_lock);
}

void nfs_limits_set(const struct nfs_limits *l)
{
	pthread_mutex_lock(&nfs_limits_lock);
	nfs_limits_now = *l;
	pthread_mutex_unlock(&nfs_limits_lock);
}

static int nfs_listen_one(const char *addr)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char host[128], port[16];
	int fd = -1, one = 1, p, rc;

	rc = config_split_addr(addr, host, sizeof(host), &p);
	if (rc < 0)
		return rc;
	snprintf(port, sizeof(port), "%d", p);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host[0] ? host : NULL, port, &hints, &ai) != 0)
		return -EADDRNOTAVAIL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto free_ai;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		rc = -errno;
		close(fd);
		goto free_ai;
	}
	rc = fd;
free_ai:
	freeaddrinfo(ai);
	return rc;
}

int nfs_listen_all(int *fds, int *nfds, const struct config *cfg)
{
	const struct config_listen *l = &cfg->servers.nfs;
	int i, fd;

	for (i = 0; i < l->naddrs; i++) {
		fd = nfs_listen_one(l->addrs[i]);
		if (fd < 0) {
			log_err("nfs: listen: %s: %s", l->addrs[i],
				strerror(-fd));
			return fd;
		}
		fds[(*nfds)++] = fd;
	}
	return *nfds > 0 ? 0 : -EINVAL;
}

/* A fresh verifier each start: a client that sees it change resends the
 * writes it had not committed, which a restart may have lost. */
void nfs_verf_make(uint8_t *verf)
{
	struct timespec ts;
	uint64_t v;
	int i;

	if (getrandom(verf, NFS3_WRITEVERFSIZE, 0) == NFS3_WRITEVERFSIZE)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	v = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	v ^= (uint64_t)getpid() << 48;
	for (i = 0; i < NFS3_WRITEVERFSIZE; i++)
		verf[i] = (uint8_t)(v >> (8 * i));
}

void nfs_malloc_tune(void)
{
#ifdef M_ARENA_MAX
	mallopt(M_ARENA_MAX, NFS_ARENA_MAX);
#endif
	mallopt(M_MMAP_THRESHOLD, NFS_MMAP_THRESHOLD);
}
