/*
 * XDR (RFC 4506): a bounded decoding cursor and a growable encoder.
 *
 * The decoder reads big-endian items from a byte buffer it does not own.
 * Every decoder checks the remaining length before it touches a byte, and
 * a failure sets a sticky error flag: once set, every later call fails too,
 * so a whole structure can be decoded as a chain of calls joined with &&
 * and checked once.  Nothing is ever read through a cast pointer.
 *
 * The encoder appends to a heap buffer that grows as needed; an allocation
 * failure sets its own sticky flag, checked once before the buffer is sent.
 */
#ifndef ZEROFS_NFS_XDR_H
#define ZEROFS_NFS_XDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xdr_dec {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool err;
};

struct xdr_enc {
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool err;
};

void xdr_dec_init(struct xdr_dec *d, const uint8_t *buf, size_t len);

/* Bytes left to decode (0 once the error flag is set). */
size_t xdr_dec_left(const struct xdr_dec *d);

bool xdr_u32(struct xdr_dec *d, uint32_t *v);
bool xdr_i32(struct xdr_dec *d, int32_t *v);
bool xdr_u64(struct xdr_dec *d, uint64_t *v);
bool xdr_i64(struct xdr_dec *d, int64_t *v);
/* Accepts only 0 and 1, as section 4.4 requires. */
bool xdr_bool(struct xdr_dec *d, bool *v);
bool xdr_enum(struct xdr_dec *d, uint32_t *v);

/* Copies exactly n bytes into out and skips the padding to 4 bytes. */
bool xdr_opaque_fixed(struct xdr_dec *d, void *out, size_t n);

/* Variable-length opaque of at most max bytes.  *data points into the
 * decoder's buffer (no copy): it lives as long as that buffer does. */
bool xdr_opaque_var(struct xdr_dec *d, uint32_t max, const uint8_t **data,
		    uint32_t *len);

/* A string of at most max bytes, copied into out (of outlen bytes, at
 * least max + 1) and NUL-terminated.  A string holding a NUL byte is
 * refused, since no name or path may contain one. */
bool xdr_string(struct xdr_dec *d, uint32_t max, char *out, size_t outlen);

/* Skips n bytes plus their padding. */
bool xdr_skip(struct xdr_dec *d, size_t n);

/* The encoder starts empty; xdr_enc_fini frees its buffer. */
void xdr_enc_init(struct xdr_enc *e);
void xdr_enc_fini(struct xdr_enc *e);
/* Makes room for n more bytes; false (and the flag set) if it cannot. */
bool xdr_enc_reserve(struct xdr_enc *e, size_t n);

void xdr_put_u32(struct xdr_enc *e, uint32_t v);
void xdr_put_u64(struct xdr_enc *e, uint64_t v);
void xdr_put_bool(struct xdr_enc *e, bool v);
void xdr_put_opaque_fixed(struct xdr_enc *e, const void *data, size_t n);
void xdr_put_opaque_var(struct xdr_enc *e, const void *data, uint32_t n);
void xdr_put_string(struct xdr_enc *e, const char *s);

/* Overwrites the u32 at byte offset pos, which must already be written. */
void xdr_patch_u32(struct xdr_enc *e, size_t pos, uint32_t v);

/* Bytes a variable opaque of n bytes takes on the wire. */
static inline size_t xdr_opaque_size(size_t n)
{
	return 4 + ((n + 3) & ~(size_t)3);
}

#endif
