/*
 * The gateway's TCP side: listeners on every address of servers.nfs, a
 * reader thread per connection that reassembles records, and a shared
 * pool of workers that serve them.
 *
 * A reader hands each record to the pool and reads on, so one connection
 * can have several calls in flight.  Each call is charged its record and
 * an estimate of its reply; once a connection has NFS_CONN_CALLS calls
 * unanswered or NFS_CONN_BYTES charged, its reader stops reading the
 * socket until the writer drains, so a client that pipelines calls and
 * never reads its replies holds a bounded amount of memory and no work in
 * the shared pool.  Workers queue each reply whole for the connection's
 * writer thread, so replies never interleave and a client that stops
 * reading stalls only its own connection.
 *
 * A connection that misbehaves (a record over the limit, bytes that are
 * not a call), that sends no complete record for NFS_IDLE_MS, stops
 * halfway through one for NFS_STALL_MS, or takes no reply bytes for
 * NFS_SEND_MS is shut down; the calls it still has in the pool are
 * dropped rather than served, so its threads and descriptor go at once.
 * The acceptor joins finished readers, and refuses connections beyond
 * NFS_MAX_CONNS with a rate-limited warning.
 */
#include "nfs/nfs.h"
#include "nfs/nfs_gw.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NFS_WORKERS	   16
#define NFS_RECORD_LIMIT   (NFS_IO_MAX + (64u << 10))
#define NFS_READER_STACK   (256u << 10)
#define NFS_ACCEPT_POLL_MS 1000

struct nfs_server;

/* A reply waiting for the connection's writer; it owns buf.  cost is
 * what its call was charged, given back once the reply is sent. */
struct nfs_out {
	uint8_t *buf;
	size_t len;
	size_t cost;
	struct nfs_out *next;
};

struct nfs_conn {
	struct nfs_server *srv;
	int fd;
	pthread_t thread; /* the reader */
	pthread_t writer;
	pthread_mutex_t lock; /* inflight to closing */
	pthread_cond_t cond;
	int inflight;	/* calls read and not yet answered or dropped */
	size_t charged; /* their records and estimated replies */
	size_t held;	/* bytes of their records and replies now held */
	struct nfs_out *out_head, *out_tail;
	bool ending;  /* no more replies will come: the writer may end */
	bool closing; /* reader ended or a send failed: drop calls not served */
	bool in_record;	   /* the reader has begun a record */
	int64_t idle_from; /* when the reader began waiting for a record */
	int64_t progress;  /* when the last byte of the record came */
	bool done;	   /* the reader has ended: join it (under srv->lock) */
	struct nfs_conn *next;
};

/* A record on its way to a worker; the job owns buf. */
struct nfs_job {
	struct nfs_conn *conn;
	uint8_t *buf;
	size_t len;
	size_t cost;
	struct nfs_job *next;
};

struct nfs_server {
	struct nfs_gw gw;
	int lfds[CONFIG_MAX_ADDRS];
	int nlfds;
	int wake[2]; /* written once to stop the acceptor */
	pthread_t acceptor;
	pthread_t workers[NFS_WORKERS];
	int nworkers;
	pthread_mutex_t lock; /* the queue, the connection list, stopping */
	pthread_cond_t cond;
	struct nfs_job *head, *tail;
	struct nfs_conn *conns;
	int nconns;
	bool stopping;
	struct nfs_limits lim; /* as they were at start */
	struct nfs_ratelimit refused;
};

/* Waits until the socket is readable or the connection has been quiet
 * for too long: idle_ms without a complete record, or stall_ms without a
 * byte once a record has begun.  A client cannot hold a slot forever. */
static int nfs_conn_wait(struct nfs_conn *c)
{
	const struct nfs_limits *l = &c->srv->lim;
	struct pollfd pfd = { c->fd, POLLIN, 0 };
	int64_t now, until;
	int n;

	for (;;) {
		until = c->idle_from + l->idle_ms;
		if (c->in_record && c->progress + l->stall_ms < until)
			until = c->progress + l->stall_ms;
		now = nfs_now_ms();
		if (now >= until)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)(until - now));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int nfs_conn_read_cb(void *arg, void *buf, size_t n)
{
	struct nfs_conn *c = arg;
	uint8_t *p = buf;
	ssize_t got;

	int rc;

	while (n > 0) {
		rc = nfs_conn_wait(c);
		if (rc < 0)
			return rc;
		got = recv(c->fd, p, n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EPIPE;
		c->in_record = true;
		c->progress = nfs_now_ms();
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* Writes a whole reply; only the connection's writer calls it. */
static int nfs_conn_send(struct nfs_conn *c, const uint8_t *buf, size_t len)
{
	ssize_t put;

	while (len > 0) {
		put = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (put < 0 && errno == EINTR)
			continue;
		if (put < 0)
			return -errno;
		buf += put;
		len -= (size_t)put;
	}
	return 0;
}

/* One call fewer in flight, its charge and the `held` bytes it still had
 * given back: wakes a reader waiting for room or for the last reply. */
static void nfs_conn_call_done(struct nfs_conn *c, size_t cost, size_t held)
{
	pthread_mutex_lock(&c->lock);
	c->inflight--;
	c->charged -= cost;
	c->held -= held;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Hands a reply to the writer, so that a client that does not read its
 * replies blocks only its own connection, never a worker.  The call's
 * record, `reclen` bytes, has been freed. */
static void nfs_conn_reply_queue(struct nfs_conn *c, struct xdr_enc *e,
				 size_t cost, size_t reclen)
{
	struct nfs_out *o = calloc(1, sizeof(*o));

	if (o == NULL) {
		shutdown(c->fd, SHUT_RDWR);
		nfs_conn_call_done(c, cost, reclen);
		return;
	}
	o->buf = e->buf;
	o->len = e->len;
	o->cost = cost;
	xdr_enc_init(e);
	pthread_mutex_lock(&c->lock);
	c->held = c->held - reclen + o->len;
	if (c->out_tail != NULL)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static struct nfs_out *nfs_conn_reply_next(struct nfs_conn *c)
{
	struct nfs_out *o;

	pthread_mutex_lock(&c->lock);
	while (c->out_head == NULL && !c->ending)
		pthread_cond_wait(&c->cond, &c->lock);
	o = c->out_head;
	if (o != NULL) {
		c->out_head = o->next;
		if (c->out_head == NULL)
			c->out_tail = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	return o;
}

static void *nfs_conn_writer_main(void *arg)
{
	struct nfs_conn *c = arg;
	struct nfs_out *o;
	bool broken = false;

	while ((o = nfs_conn_reply_next(c)) != NULL) {
		if (!broken && nfs_conn_send(c, o->buf, o->len) < 0) {
			/* The client is gone: what it still has queued is
			 * dropped, not served, and the reader stops. */
			broken = true;
			pthread_mutex_lock(&c->lock);
			c->closing = true;
			pthread_cond_broadcast(&c->cond);
			pthread_mutex_unlock(&c->lock);
			shutdown(c->fd, SHUT_RDWR);
		}
		nfs_conn_call_done(c, o->cost, o->len);
		free(o->buf);
		free(o);
	}
	return NULL;
}

static void nfs_job_serve(struct nfs_server *srv, struct nfs_job *job)
{
	struct nfs_conn *c = job->conn;
	struct xdr_enc e;
	bool closing;
	int rc = -ECONNABORTED;

	/* Nobody will read the reply of a connection that is closing: its
	 * calls go at once instead of holding it and the pool. */
	pthread_mutex_lock(&c->lock);
	closing = c->closing;
	pthread_mutex_unlock(&c->lock);
	xdr_enc_init(&e);
	if (!closing)
		rc = nfs_dispatch(&srv->gw, job->buf, job->len, &e);
	free(job->buf);
	if (rc == 0) {
		nfs_conn_reply_queue(c, &e, job->cost, job->len);
	} else {
		if (!closing)
			log_debug("nfs: call: connection %d: %s; closing",
				  c->fd, strerror(-rc));
		shutdown(c->fd, SHUT_RDWR);
		nfs_conn_call_done(c, job->cost, job->len);
	}
	xdr_enc_fini(&e);
	free(job);
}

static void *nfs_worker_main(void *arg)
{
	struct nfs_server *srv = arg;
	struct nfs_job *job;

	for (;;) {
		pthread_mutex_lock(&srv->lock);
		while (srv->head == NULL && !srv->stopping)
			pthread_cond_wait(&srv->cond, &srv->lock);
		job = srv->head;
		if (job != NULL) {
			srv->head = job->next;
			if (srv->head == NULL)
				srv->tail = NULL;
		}
		pthread_mutex_unlock(&srv->lock);
		if (job == NULL)
			return NULL;
		nfs_job_serve(srv, job);
	}
}

/* Waits until the connection may take one more call costing cost bytes:
 * a call always fits when none is in flight, however large it is.
 * Returns -EPIPE, taking nothing, once the connection is closing. */
static int nfs_conn_admit(struct nfs_conn *c, size_t cost, size_t reclen)
{
	const struct nfs_limits *l = &c->srv->lim;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	while (!c->closing &&
	       (c->inflight >= l->conn_calls ||
		(c->inflight > 0 && c->charged + cost > l->conn_bytes)))
		pthread_cond_wait(&c->cond, &c->lock);
	if (c->closing) {
		rc = -EPIPE;
	} else {
		c->inflight++;
		c->charged += cost;
		c->held += reclen;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Hands the record's buffer to a new job; the record starts afresh. */
static int nfs_conn_enqueue(struct nfs_conn *c, struct oncrpc_record *rec)
{
	struct nfs_server *srv = c->srv;
	struct nfs_job *job;

	job = calloc(1, sizeof(*job));
	if (job == NULL)
		return -ENOMEM;
	job->cost = rec->len + nfs_reply_estimate(rec->buf, rec->len);
	if (nfs_conn_admit(c, job->cost, rec->len) < 0) {
		free(job);
		return -EPIPE;
	}
	job->conn = c;
	job->buf = rec->buf;
	job->len = rec->len;
	rec->buf = NULL;
	rec->cap = 0;
	rec->len = 0;
	pthread_mutex_lock(&srv->lock);
	if (srv->tail != NULL)
		srv->tail->next = job;
	else
		srv->head = job;
	srv->tail = job;
	pthread_cond_signal(&srv->cond);
	pthread_mutex_unlock(&srv->lock);
	return 0;
}

/* Reads records until the stream ends or misbehaves, then waits for the
 * calls it handed out and lets the writer finish. */
static void nfs_conn_read_loop(struct nfs_conn *c)
{
	struct oncrpc_record rec;
	int rc;

	oncrpc_record_init(&rec, NFS_RECORD_LIMIT);
	do {
		/* The idle clock starts once the gateway wants a record,
		 * not while it made the reader wait for room. */
		c->in_record = false;
		c->idle_from = nfs_now_ms();
		rc = oncrpc_record_read(&rec, nfs_conn_read_cb, c);
		if (rc == 0)
			rc = nfs_conn_enqueue(c, &rec);
	} while (rc == 0);
	if (rc != -EPIPE && rc != -ECONNRESET)
		log_debug("nfs: connection: fd %d: %s; closing", c->fd,
			  rc == -ETIMEDOUT ? "idle" : strerror(-rc));
	oncrpc_record_fini(&rec);
	pthread_mutex_lock(&c->lock);
	c->closing = true;
	pthread_mutex_unlock(&c->lock);
}

static void *nfs_conn_main(void *arg)
{
	struct nfs_conn *c = arg;
	pthread_attr_t attr;
	bool writer;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, NFS_READER_STACK);
	writer =
	    pthread_create(&c->writer, &attr, nfs_conn_writer_main, c) == 0;
	pthread_attr_destroy(&attr);
	if (writer)
		nfs_conn_read_loop(c);
	else
		log_warn("nfs: connection: fd %d: no writer thread", c->fd);
	shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_lock(&c->lock);
	while (c->inflight > 0)
		pthread_cond_wait(&c->cond, &c->lock);
	c->ending = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (writer)
		pthread_join(c->writer, NULL);
	pthread_mutex_lock(&c->srv->lock);
	c->done = true;
	pthread_mutex_unlock(&c->srv->lock);
	return NULL;
}

static void nfs_conn_free(struct nfs_conn *c)
{
	pthread_join(c->thread, NULL);
	close(c->fd);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Joins and frees the connections whose readers have ended. */
static void nfs_conns_reap(struct nfs_server *srv)
{
	struct nfs_conn **pp, *c, *dead = NULL;

	pthread_mutex_lock(&srv->lock);
	for (pp = &srv->conns; (c = *pp) != NULL;) {
		if (!c->done) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		c->next = dead;
		dead = c;
		srv->nconns--;
	}
	pthread_mutex_unlock(&srv->lock);
	while ((c = dead) != NULL) {
		dead = c->next;
		nfs_conn_free(c);
	}
}

static int nfs_conn_start(struct nfs_server *srv, int fd)
{
	struct timeval sndto = { srv->lim.send_ms / 1000,
				 srv->lim.send_ms % 1000 * 1000 };
	struct nfs_conn *c;
	pthread_attr_t attr;
	int one = 1, rc;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->srv = srv;
	c->fd = fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A client that takes no reply bytes for this long is given up on:
	 * its writer's send fails and the connection closes. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sndto, sizeof(sndto));
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, NFS_READER_STACK);
	pthread_mutex_lock(&srv->lock);
	rc = -pthread_create(&c->thread, &attr, nfs_conn_main, c);
	if (rc == 0) {
		c->next = srv->conns;
		srv->conns = c;
		srv->nconns++;
	}
	pthread_mutex_unlock(&srv->lock);
	pthread_attr_destroy(&attr);
	if (rc < 0) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		free(c);
	}
	return rc;
}

/* A full gateway is news for the operator, but a client can make it at
 * will: one warning per interval, with the count of refusals since. */
static void nfs_accept_refuse(struct nfs_server *srv, int fd, int n)
{
	unsigned long dropped;

	close(fd);
	if (nfs_ratelimit_pass(&srv->refused, nfs_now_ms(), &dropped))
		log_warn("nfs: accept: %d connections open: refused (and %lu "
			 "more since the last warning)",
			 n, dropped);
}

static void nfs_accept_one(struct nfs_server *srv, int lfd)
{
	int fd, n, rc;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		       errno == ENOMEM)) {
		/* The listener stays readable: pause rather than spin. */
		log_warn("nfs: accept: %s", strerror(errno));
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
		nfs_conns_reap(srv);
		return;
	}
	if (fd < 0)
		return;
	nfs_conns_reap(srv);
	pthread_mutex_lock(&srv->lock);
	n = srv->nconns;
	pthread_mutex_unlock(&srv->lock);
	if (n >= srv->lim.max_conns) {
		nfs_accept_refuse(srv, fd, n);
		return;
	}
	rc = nfs_conn_start(srv, fd);
	if (rc < 0) {
		log_warn("nfs: accept: fd %d: %s", fd, strerror(-rc));
		close(fd);
	}
}

static void *nfs_acceptor_main(void *arg)
{
	struct nfs_server *srv = arg;
	struct pollfd pfd[CONFIG_MAX_ADDRS + 1];
	int i, n;

	for (i = 0; i < srv->nlfds; i++)
		pfd[i] = (struct pollfd){ srv->lfds[i], POLLIN, 0 };
	pfd[srv->nlfds] = (struct pollfd){ srv->wake[0], POLLIN, 0 };
	for (;;) {
		n = poll(pfd, (nfds_t)srv->nlfds + 1, NFS_ACCEPT_POLL_MS);
		if (pfd[srv->nlfds].revents != 0)
			return NULL;
		if (n <= 0) {
			nfs_conns_reap(srv);
			continue;
		}
		for (i = 0; i < srv->nlfds; i++)
			if (pfd[i].revents & POLLIN)
				nfs_accept_one(srv, pfd[i].fd);
	}
}

static void nfs_listeners_close(struct nfs_server *srv)
{
	int i;

	for (i = 0; i < srv->nlfds; i++)
		close(srv->lfds[i]);
	srv->nlfds = 0;
}

static void nfs_workers_stop(struct nfs_server *srv)
{
	int i;

	pthread_mutex_lock(&srv->lock);
	srv->stopping = true;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->lock);
	for (i = 0; i < srv->nworkers; i++)
		pthread_join(srv->workers[i], NULL);
	srv->nworkers = 0;
}

static int nfs_threads_start(struct nfs_server *srv)
{
	int rc;

	while (srv->nworkers < NFS_WORKERS) {
		rc = pthread_create(&srv->workers[srv->nworkers], NULL,
				    nfs_worker_main, srv);
		if (rc != 0)
			goto stop_workers;
		srv->nworkers++;
	}
	rc = pthread_create(&srv->acceptor, NULL, nfs_acceptor_main, srv);
	if (rc != 0)
		goto stop_workers;
	return 0;
stop_workers:
	nfs_workers_stop(srv);
	return -rc;
}

static int nfs_clients_open(struct nfs_server *srv,
			    const struct service_endpoints *ep)
{
	int rc;

	rc = rpc_client_open(ep->metadata, &srv->gw.meta);
	if (rc < 0)
		return rc;
	rc = rpc_client_open(ep->chunk, &srv->gw.chunk);
	if (rc < 0) {
		rpc_client_close(srv->gw.meta);
		return rc;
	}
	/* Shorter than the rpc default: a service that is down gets the
	 * client NFS3ERR_JUKEBOX, and a retry, in reasonable time. */
	rpc_client_set_timeout(srv->gw.meta, srv->lim.backend_ms);
	rpc_client_set_timeout(srv->gw.chunk, srv->lim.backend_ms);
	return 0;
}

void nfs_server_stats(void *handle, int *conns, size_t *bytes_max)
{
	struct nfs_server *srv = handle;
	struct nfs_conn *c;

	*bytes_max = 0;
	nfs_conns_reap(srv);
	pthread_mutex_lock(&srv->lock);
	*conns = srv->nconns;
	for (c = srv->conns; c != NULL; c = c->next) {
		pthread_mutex_lock(&c->lock);
		if (c->held > *bytes_max)
			*bytes_max = c->held;
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&srv->lock);
}

int nfs_service_start(const struct config *cfg,
		      const struct service_endpoints *ep, void **handle)
{
	struct nfs_server *srv;
	int rc;

	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return -ENOMEM;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->cond, NULL);
	nfs_limits_get(&srv->lim);
	srv->refused =
	    (struct nfs_ratelimit)NFS_RATELIMIT_INIT(NFS_LOG_INTERVAL_MS);
	nfs_malloc_tune();
	nfs_verf_make(srv->gw.write_verf);
	rc = nfs_clients_open(srv, ep);
	if (rc < 0)
		goto free_srv;
	if (pipe2(srv->wake, O_CLOEXEC) < 0) {
		rc = -errno;
		goto close_clients;
	}
	rc = nfs_listen_all(srv->lfds, &srv->nlfds, cfg);
	if (rc < 0)
		goto close_listeners;
	rc = nfs_threads_start(srv);
	if (rc < 0)
		goto close_listeners;
	log_info("nfs: start: %d listeners, %d workers", srv->nlfds,
		 NFS_WORKERS);
	*handle = srv;
	return 0;
close_listeners:
	nfs_listeners_close(srv);
	close(srv->wake[0]);
	close(srv->wake[1]);
close_clients:
	rpc_client_close(srv->gw.chunk);
	rpc_client_close(srv->gw.meta);
free_srv:
	pthread_cond_destroy(&srv->cond);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	return rc;
}

/* Shuts every connection down and joins its reader, which first waits
 * for its calls still in the pool. */
static void nfs_conns_close(struct nfs_server *srv)
{
	struct nfs_conn *c, *all;

	pthread_mutex_lock(&srv->lock);
	for (c = srv->conns; c != NULL; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	all = srv->conns;
	srv->conns = NULL;
	srv->nconns = 0;
	pthread_mutex_unlock(&srv->lock);
	while ((c = all) != NULL) {
		all = c->next;
		nfs_conn_free(c);
	}
}

/* The gateway holds nothing that needs storing: it always succeeds. */
int nfs_service_stop(void *handle)
{
	struct nfs_server *srv = handle;
	char b = 0;

	if (srv == NULL)
		return 0;
	if (write(srv->wake[1], &b, 1) < 0)
		log_warn("nfs: stop: wake: %s", strerror(errno));
	pthread_join(srv->acceptor, NULL);
	nfs_listeners_close(srv);
	nfs_conns_close(srv);
	nfs_workers_stop(srv);
	close(srv->wake[0]);
	close(srv->wake[1]);
	rpc_client_close(srv->gw.chunk);
	rpc_client_close(srv->gw.meta);
	pthread_cond_destroy(&srv->cond);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	return 0;
}
