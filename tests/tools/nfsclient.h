/*
 * What the libnfs test tools share: mounting a path of the server under
 * test, content that any range of a file can be regenerated from a seed
 * (so 64 MiB files need no copy in memory to be verified), SHA-256 over
 * it, and waiting for raw RPC calls on a libnfs rpc context.  The tools
 * are one file each (that is how the build makes them), so these helpers
 * live here as static functions.
 */
#ifndef ZEROFS_TOOLS_NFSCLIENT_H
#define ZEROFS_TOOLS_NFSCLIENT_H

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-mount.h>
#include <nfsc/libnfs-raw-nfs.h>
#include <sodium.h>

/* Seconds any single NFS call may take before the tool reports it. */
#define TOOL_CALL_SECS 120

struct tool_target {
	const char *host;
	int port;  /* NFS */
	int mport; /* MOUNT; 0: the NFS port */
	const char *mount;
};

/* Mounts t->mount and returns a context the caller frees with
 * nfs_destroy_context, or NULL after printing why. */
static inline struct nfs_context *tool_mount(const struct tool_target *t)
{
	char url[1024];
	struct nfs_context *nfs = nfs_init_context();
	struct nfs_url *u;

	if (!nfs) {
		fprintf(stderr, "nfs_init_context failed\n");
		return NULL;
	}
	snprintf(url, sizeof(url),
		 "nfs://%s%s?nfsport=%d&mountport=%d&version=3&autoreconnect=0",
		 t->host, t->mount, t->port, t->mport ? t->mport : t->port);
	u = nfs_parse_url_dir(nfs, url);
	if (!u) {
		fprintf(stderr, "bad url %s: %s\n", url, nfs_get_error(nfs));
		goto destroy_nfs;
	}
	nfs_set_timeout(nfs, TOOL_CALL_SECS * 1000);
	if (nfs_mount(nfs, u->server, u->path) != 0) {
		fprintf(stderr, "mount %s:%s (port %d) failed: %s\n", u->server,
			u->path, t->port, nfs_get_error(nfs));
		nfs_destroy_url(u);
		goto destroy_nfs;
	}
	nfs_destroy_url(u);
	return nfs;

destroy_nfs:
	nfs_destroy_context(nfs);
	return NULL;
}

static inline uint64_t tool_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The bytes [off, off + len) of the file whose content key is key: each
 * aligned 8-byte word is a hash of the key and the word's index, so any
 * range can be regenerated on its own. */
static inline void tool_content(uint64_t key, uint64_t off, uint8_t *buf,
				size_t len)
{
	uint64_t w = tool_mix(key ^ tool_mix(off / 8));

	for (size_t i = 0; i < len; i++) {
		uint64_t pos = off + i;

		if (i > 0 && pos % 8 == 0)
			w = tool_mix(key ^ tool_mix(pos / 8));
		buf[i] = (uint8_t)(w >> (8 * (pos % 8)));
	}
}

/* The content key of file number index in a set made from seed. */
static inline uint64_t tool_key(uint64_t seed, uint64_t index)
{
	return tool_mix(seed * 0x100000001b3ull + index);
}

static inline void tool_hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* Writes len bytes of content key at off through fh, in pieces of at
 * most bufsize.  Returns 0 or a negative errno (message printed). */
static inline int tool_write_content(struct nfs_context *nfs, struct nfsfh *fh,
				     const char *path, uint64_t key,
				     uint64_t len, uint8_t *buf, size_t bufsize)
{
	uint64_t off = 0;

	while (off < len) {
		size_t n = len - off < bufsize ? (size_t)(len - off) : bufsize;
		int r;

		tool_content(key, off, buf, n);
		r = nfs_pwrite(nfs, fh, off, n, buf);
		if (r <= 0) {
			fprintf(stderr, "%s: write at %" PRIu64 ": %s\n", path,
				off, r < 0 ? nfs_get_error(nfs) : "wrote 0");
			return r < 0 ? r : -EIO;
		}
		off += (uint64_t)r;
	}
	return 0;
}

/* Reads the whole of fh (expected size len) into a SHA-256.  Returns 0,
 * or a negative errno after printing why (a short or long file too). */
static inline int tool_read_sha256(struct nfs_context *nfs, struct nfsfh *fh,
				   const char *path, uint64_t len, uint8_t *buf,
				   size_t bufsize,
				   uint8_t digest[crypto_hash_sha256_BYTES])
{
	crypto_hash_sha256_state st;
	uint64_t off = 0;
	int r;

	crypto_hash_sha256_init(&st);
	for (;;) {
		r = nfs_pread(nfs, fh, off, bufsize, buf);
		if (r < 0) {
			fprintf(stderr, "%s: read at %" PRIu64 ": %s\n", path,
				off, nfs_get_error(nfs));
			return r;
		}
		if (r == 0)
			break;
		crypto_hash_sha256_update(&st, buf, (size_t)r);
		off += (uint64_t)r;
	}
	crypto_hash_sha256_final(&st, digest);
	if (off != len) {
		fprintf(stderr,
			"%s: read %" PRIu64 " bytes, want %" PRIu64 "\n", path,
			off, len);
		return -EIO;
	}
	return 0;
}

/* The SHA-256 of len bytes of content key. */
static inline void tool_content_sha256(uint64_t key, uint64_t len, uint8_t *buf,
				       size_t bufsize,
				       uint8_t digest[crypto_hash_sha256_BYTES])
{
	crypto_hash_sha256_state st;
	uint64_t off = 0;

	crypto_hash_sha256_init(&st);
	while (off < len) {
		size_t n = len - off < bufsize ? (size_t)(len - off) : bufsize;

		tool_content(key, off, buf, n);
		crypto_hash_sha256_update(&st, buf, n);
		off += n;
	}
	crypto_hash_sha256_final(&st, digest);
}

/* A raw RPC call in flight: the callback fills it, tool_rpc_wait waits. */
struct tool_call {
	int done;
	int status;
	void *data;
	void (*copy)(struct tool_call *call, void *data);
	void *out;
	char error[256];
};

static inline void tool_call_cb(struct rpc_context *rpc, int status, void *data,
				void *private_data)
{
	struct tool_call *call = private_data;

	(void)rpc;
	call->done = 1;
	call->status = status;
	if (status == RPC_STATUS_SUCCESS && call->copy)
		call->copy(call, data);
	else if (status == RPC_STATUS_ERROR && data)
		snprintf(call->error, sizeof(call->error), "%s",
			 (const char *)data);
	else if (status != RPC_STATUS_SUCCESS)
		snprintf(call->error, sizeof(call->error), "cancelled");
}

/* Services rpc until call is done, at most TOOL_CALL_SECS.  Returns 0 if
 * the call completed with success, else -EIO with call->error set. */
static inline int tool_rpc_wait(struct rpc_context *rpc, struct tool_call *call)
{
	time_t end = time(NULL) + TOOL_CALL_SECS;

	while (!call->done) {
		struct pollfd pfd = { .fd = rpc_get_fd(rpc),
				      .events = (short)rpc_which_events(rpc) };

		if (time(NULL) > end) {
			snprintf(call->error, sizeof(call->error),
				 "no reply in %d s", TOOL_CALL_SECS);
			return -ETIMEDOUT;
		}
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR) {
			snprintf(call->error, sizeof(call->error), "poll: %s",
				 strerror(errno));
			return -EIO;
		}
		if (rpc_service(rpc, pfd.revents) < 0) {
			snprintf(call->error, sizeof(call->error), "%s",
				 rpc_get_error(rpc));
			return -EIO;
		}
	}
	return call->status == RPC_STATUS_SUCCESS ? 0 : -EIO;
}

/* Connects a raw rpc context to host:port for program/version.  Returns
 * it (caller frees with rpc_destroy_context) or NULL after printing. */
static inline struct rpc_context *tool_rpc_connect(const char *host, int port,
						   int program, int version)
{
	struct rpc_context *rpc = rpc_init_context();
	struct tool_call call = { 0 };

	if (!rpc) {
		fprintf(stderr, "rpc_init_context failed\n");
		return NULL;
	}
	if (rpc_connect_port_async(rpc, host, port, program, version,
				   tool_call_cb, &call) != 0 ||
	    tool_rpc_wait(rpc, &call) != 0) {
		fprintf(stderr, "connect %s:%d: %s%s\n", host, port, call.error,
			rpc_get_error(rpc));
		rpc_destroy_context(rpc);
		return NULL;
	}
	return rpc;
}

#endif
