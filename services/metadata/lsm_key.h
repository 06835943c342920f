/*
 * Internal keys of the LSM engine: the user's key followed by an 8-byte
 * trailer, (seq << 8 | kind) little-endian.  They sort by user key
 * (memcmp, a shorter key before its extensions) and then by sequence
 * number, newest first, so the first entry at or after
 * lsm_ikey(ukey, snapshot) is the newest version a reader at that
 * snapshot may see.  Memtables, SSTs, iterators and the manifest's key
 * ranges all use this one encoding (FORMAT.md).
 */
#ifndef ZEROFS_META_LSM_KEY_H
#define ZEROFS_META_LSM_KEY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LSM_KIND_DEL 0
#define LSM_KIND_PUT 1
#define LSM_TRAILER  8
#define LSM_SEQ_MAX  ((UINT64_C(1) << 56) - 1)
/* Longest user key the engine takes; longer keys fail with -EINVAL. */
#define LSM_KEY_MAX 4096

static inline uint64_t lsm_trailer(uint64_t seq, uint8_t kind)
{
	return seq << 8 | kind;
}

static inline void lsm_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t lsm_get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Writes ukey + trailer to buf (room for ulen + 8); returns the length. */
static inline size_t lsm_ikey_make(uint8_t *buf, const void *ukey, size_t ulen,
				   uint64_t seq, uint8_t kind)
{
	memcpy(buf, ukey, ulen);
	lsm_put_u64(buf + ulen, lsm_trailer(seq, kind));
	return ulen + LSM_TRAILER;
}

/* The parts of an internal key of n >= 8 bytes. */
static inline size_t lsm_ikey_ulen(size_t n)
{
	return n - LSM_TRAILER;
}

static inline uint64_t lsm_ikey_seq(const uint8_t *ik, size_t n)
{
	return lsm_get_u64(ik + n - LSM_TRAILER) >> 8;
}

static inline uint8_t lsm_ikey_kind(const uint8_t *ik, size_t n)
{
	return (uint8_t)lsm_get_u64(ik + n - LSM_TRAILER);
}

/* memcmp order of byte strings, a prefix first. */
static inline int lsm_ukey_cmp(const void *a, size_t an, const void *b,
			       size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	if (c != 0)
		return c;
	return an < bn ? -1 : an > bn;
}

static inline int lsm_ikey_cmp(const uint8_t *a, size_t an, const uint8_t *b,
			       size_t bn)
{
	int c = lsm_ukey_cmp(a, an - LSM_TRAILER, b, bn - LSM_TRAILER);
	uint64_t ta, tb;

	if (c != 0)
		return c;
	ta = lsm_get_u64(a + an - LSM_TRAILER);
	tb = lsm_get_u64(b + bn - LSM_TRAILER);
	return ta > tb ? -1 : ta < tb;
}

#endif
