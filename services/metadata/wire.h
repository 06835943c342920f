/*
 * Bounded byte cursors for the metadata service's stored formats.  A writer
 * grows a malloc'd buffer; a reader checks every length before it copies
 * and keeps a sticky error flag, so a decoder reads field after field and
 * checks once at the end.  Values are little-endian; the big-endian helpers
 * exist for keys, whose byte order must be their numeric order.
 */
#ifndef ZEROFS_META_WIRE_H
#define ZEROFS_META_WIRE_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct wire_out {
	uint8_t *p; /* malloc'd; the owner frees it */
	size_t len;
	size_t cap;
	int err; /* -ENOMEM once any append failed */
};

struct wire_in {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err; /* -EBADMSG once any read ran past the end */
};

static inline int wire_out_reserve(struct wire_out *w, size_t n)
{
	size_t cap = w->cap ? w->cap : 64;
	uint8_t *p;

	if (w->err)
		return w->err;
	if (w->len + n <= w->cap)
		return 0;
	while (cap < w->len + n)
		cap *= 2;
	p = realloc(w->p, cap);
	if (p == NULL)
		return w->err = -ENOMEM;
	w->p = p;
	w->cap = cap;
	return 0;
}

static inline void wire_out_mem(struct wire_out *w, const void *src, size_t n)
{
	if (n == 0 || wire_out_reserve(w, n) < 0)
		return;
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static inline void wire_out_u8(struct wire_out *w, uint8_t v)
{
	wire_out_mem(w, &v, 1);
}

static inline void wire_out_u32(struct wire_out *w, uint32_t v)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	wire_out_mem(w, b, 4);
}

static inline void wire_out_u64(struct wire_out *w, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	wire_out_mem(w, b, 8);
}

static inline void wire_out_be64(struct wire_out *w, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	wire_out_mem(w, b, 8);
}

static inline void wire_out_free(struct wire_out *w)
{
	free(w->p);
	memset(w, 0, sizeof(*w));
}

static inline void wire_in_init(struct wire_in *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

/* Returns a pointer to the next n bytes, or NULL (and sets err) if fewer
 * are left. */
static inline const uint8_t *wire_in_take(struct wire_in *r, size_t n)
{
	const uint8_t *p;

	if (r->err || n > r->len - r->off) {
		r->err = -EBADMSG;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static inline uint8_t wire_in_u8(struct wire_in *r)
{
	const uint8_t *p = wire_in_take(r, 1);

	return p ? p[0] : 0;
}

static inline uint32_t wire_in_u32(struct wire_in *r)
{
	const uint8_t *p = wire_in_take(r, 4);
	uint32_t v = 0;

	for (int i = 0; p != NULL && i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static inline uint64_t wire_in_u64(struct wire_in *r)
{
	const uint8_t *p = wire_in_take(r, 8);
	uint64_t v = 0;

	for (int i = 0; p != NULL && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline uint64_t wire_in_be64(struct wire_in *r)
{
	const uint8_t *p = wire_in_take(r, 8);
	uint64_t v = 0;

	for (int i = 0; p != NULL && i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline size_t wire_in_left(const struct wire_in *r)
{
	return r->len - r->off;
}

#endif
