/*
 * XDR decoding cursor and encoder; see xdr.h for the rules they keep.
 */
#include "xdr.h"

#include <stdlib.h>
#include <string.h>

/* XDR units are 4 bytes; opaque data is padded up to the next unit. */
static size_t xdr_pad(size_t n)
{
	return (4 - (n & 3)) & 3;
}

static bool xdr_fail(struct xdr_dec *d)
{
	d->err = true;
	return false;
}

static bool xdr_enc_fail(struct xdr_enc *e)
{
	e->err = true;
	return false;
}

void xdr_dec_init(struct xdr_dec *d, const uint8_t *buf, size_t len)
{
	d->buf = buf;
	d->len = len;
	d->pos = 0;
	d->err = false;
}

size_t xdr_dec_left(const struct xdr_dec *d)
{
	return d->err ? 0 : d->len - d->pos;
}

/* Claims n bytes, or sets the flag if fewer remain. */
static const uint8_t *xdr_take(struct xdr_dec *d, size_t n)
{
	const uint8_t *p;

	if (d->err || d->len - d->pos < n) {
		xdr_fail(d);
		return NULL;
	}
	p = d->buf + d->pos;
	d->pos += n;
	return p;
}

bool xdr_u32(struct xdr_dec *d, uint32_t *v)
{
	const uint8_t *p = xdr_take(d, 4);

	if (p == NULL)
		return false;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	     p[3];
	return true;
}

bool xdr_i32(struct xdr_dec *d, int32_t *v)
{
	uint32_t u;

	if (!xdr_u32(d, &u))
		return false;
	*v = (int32_t)u;
	return true;
}

bool xdr_u64(struct xdr_dec *d, uint64_t *v)
{
	uint32_t hi, lo;

	if (!xdr_u32(d, &hi) || !xdr_u32(d, &lo))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

bool xdr_i64(struct xdr_dec *d, int64_t *v)
{
	uint64_t u;

	if (!xdr_u64(d, &u))
		return false;
	*v = (int64_t)u;
	return true;
}

bool xdr_bool(struct xdr_dec *d, bool *v)
{
	uint32_t u;

	if (!xdr_u32(d, &u))
		return false;
	if (u > 1)
		return xdr_fail(d);
	*v = u == 1;
	return true;
}

bool xdr_enum(struct xdr_dec *d, uint32_t *v)
{
	return xdr_u32(d, v);
}

bool xdr_skip(struct xdr_dec *d, size_t n)
{
	if (n > SIZE_MAX - 3)
		return xdr_fail(d);
	return xdr_take(d, n + xdr_pad(n)) != NULL;
}

bool xdr_opaque_fixed(struct xdr_dec *d, void *out, size_t n)
{
	const uint8_t *p;

	if (n > SIZE_MAX - 3)
		return xdr_fail(d);
	p = xdr_take(d, n + xdr_pad(n));
	if (p == NULL)
		return false;
	memcpy(out, p, n);
	return true;
}

bool xdr_opaque_var(struct xdr_dec *d, uint32_t max, const uint8_t **data,
		    uint32_t *len)
{
	const uint8_t *p;
	uint32_t n;

	if (!xdr_u32(d, &n))
		return false;
	if (n > max)
		return xdr_fail(d);
	p = xdr_take(d, (size_t)n + xdr_pad(n));
	if (p == NULL)
		return false;
	*data = p;
	*len = n;
	return true;
}

bool xdr_string(struct xdr_dec *d, uint32_t max, char *out, size_t outlen)
{
	const uint8_t *p;
	uint32_t n;

	if (outlen == 0 || max > outlen - 1)
		return xdr_fail(d);
	if (!xdr_opaque_var(d, max, &p, &n))
		return false;
	if (memchr(p, 0, n) != NULL)
		return xdr_fail(d);
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

void xdr_enc_init(struct xdr_enc *e)
{
	memset(e, 0, sizeof(*e));
}

void xdr_enc_fini(struct xdr_enc *e)
{
	free(e->buf);
	memset(e, 0, sizeof(*e));
}

bool xdr_enc_reserve(struct xdr_enc *e, size_t n)
{
	size_t cap;
	uint8_t *nb;

	if (e->err)
		return false;
	if (e->cap - e->len >= n)
		return true;
	cap = e->cap ? e->cap : 256;
	while (cap - e->len < n) {
		if (cap > SIZE_MAX / 2)
			return xdr_enc_fail(e);
		cap *= 2;
	}
	nb = realloc(e->buf, cap);
	if (nb == NULL)
		return xdr_enc_fail(e);
	e->buf = nb;
	e->cap = cap;
	return true;
}

static void xdr_put_bytes(struct xdr_enc *e, const void *p, size_t n)
{
	size_t pad = xdr_pad(n);

	if (!xdr_enc_reserve(e, n + pad))
		return;
	if (n > 0)
		memcpy(e->buf + e->len, p, n);
	memset(e->buf + e->len + n, 0, pad);
	e->len += n + pad;
}

void xdr_put_u32(struct xdr_enc *e, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

	xdr_put_bytes(e, b, 4);
}

void xdr_put_u64(struct xdr_enc *e, uint64_t v)
{
	xdr_put_u32(e, (uint32_t)(v >> 32));
	xdr_put_u32(e, (uint32_t)v);
}

void xdr_put_bool(struct xdr_enc *e, bool v)
{
	xdr_put_u32(e, v ? 1 : 0);
}

void xdr_put_opaque_fixed(struct xdr_enc *e, const void *data, size_t n)
{
	xdr_put_bytes(e, data, n);
}

void xdr_put_opaque_var(struct xdr_enc *e, const void *data, uint32_t n)
{
	xdr_put_u32(e, n);
	xdr_put_bytes(e, data, n);
}

void xdr_put_string(struct xdr_enc *e, const char *s)
{
	xdr_put_opaque_var(e, s, (uint32_t)strlen(s));
}

void xdr_patch_u32(struct xdr_enc *e, size_t pos, uint32_t v)
{
	if (e->err || pos + 4 > e->len)
		return;
	e->buf[pos] = v >> 24;
	e->buf[pos + 1] = v >> 16;
	e->buf[pos + 2] = v >> 8;
	e->buf[pos + 3] = v;
}
