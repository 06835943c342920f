/*
 * Blocks of an SST: a run of entries in internal-key order, each key
 * stored as the length it shares with the previous key plus the rest
 * (prefix compression), with a restart point every restart_interval
 * entries where the whole key is stored, so a reader can binary-search
 * the restart points and decode forward from one.  Data blocks and the
 * index block share this layout (FORMAT.md, "SST object"):
 *
 *	entry*   varint shared, varint unshared, varint value length,
 *	         key[shared..shared+unshared), value
 *	restart* u32 LE offset of each restart entry, ascending, first 0
 *	count    u32 LE number of restarts (0 only for an empty block)
 *
 * The reader checks every length against the block before it uses it;
 * a block that does not parse makes its iterator invalid with status
 * -EIO, never a read outside the buffer.  Keys are internal keys
 * (lsm_key.h): at least LSM_TRAILER and at most LSM_BLOCK_KEY_MAX bytes.
 */
#ifndef ZEROFS_META_LSM_BLOCK_H
#define ZEROFS_META_LSM_BLOCK_H

#include "lsm_iter.h"
#include "lsm_key.h"
#include "lsm_sst.h"
#include "wire.h"

#include <stddef.h>
#include <stdint.h>

#define LSM_BLOCK_KEY_MAX (LSM_KEY_MAX + LSM_TRAILER)

/* A stored block is seal(contents + type byte) followed by the CRC-32C
 * (u32 LE) of those stored bytes.  Type 0 is the only one: plain. */
#define LSM_BLOCK_PLAIN 0
#define LSM_BLOCK_CRC	4

/* Appends v as a varint: 7 bits a byte, low first, high bit "more". */
void lsm_varint_put(struct wire_out *w, uint64_t v);

/* Reads a varint of at most 64 bits from [*p, end) and advances *p;
 * 0, or -EIO if it runs past end or overflows. */
int lsm_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v);

struct lsm_block_builder {
	struct wire_out out; /* the block so far; its buffer is reused */
	uint32_t *restarts;
	size_t nrestarts, restarts_cap;
	uint32_t interval, since_restart;
	uint8_t last[LSM_BLOCK_KEY_MAX];
	size_t last_len;
	uint64_t count;
	int finished;
};

/* restart_interval 0 is taken as 1. */
void lsm_block_builder_init(struct lsm_block_builder *b,
			    uint32_t restart_interval);
void lsm_block_builder_fini(struct lsm_block_builder *b);

/* Appends an entry; the caller adds keys in ascending order, each of
 * LSM_TRAILER..LSM_BLOCK_KEY_MAX bytes (-EINVAL otherwise).  0 or
 * -ENOMEM. */
int lsm_block_builder_add(struct lsm_block_builder *b, const uint8_t *key,
			  size_t klen, const void *val, size_t vlen);

/* Size of the block if it were finished now. */
size_t lsm_block_builder_bytes(const struct lsm_block_builder *b);

/* Appends the restart array and count; *out points into the builder and
 * stays valid until the next reset or fini.  0 or -ENOMEM. */
int lsm_block_builder_finish(struct lsm_block_builder *b, const uint8_t **out,
			     size_t *n);

/* Empties the builder for the next block, keeping its buffers. */
void lsm_block_builder_reset(struct lsm_block_builder *b);

/* A block iterator, to embed (init/fini) or to allocate (new).  It reads
 * the block in place and never owns it. */
struct lsm_block_iter {
	struct lsm_iter base;
	const uint8_t *data;
	size_t restarts_off; /* entries end here */
	uint32_t nrestarts;
	size_t cur, next; /* offsets of this entry and of the one after */
	uint32_t restart; /* index of the restart at or before cur */
	int status;
	int valid;
	const uint8_t *val;
	size_t vlen;
	size_t klen;
	uint8_t key[LSM_BLOCK_KEY_MAX];
};

/* Points the iterator at a block of n bytes (data must outlive it).  A
 * block whose restart array does not parse leaves the iterator invalid
 * with status -EIO; it is then still to be finished with fini. */
void lsm_block_iter_init(struct lsm_block_iter *it, const uint8_t *data,
			 size_t n);
void lsm_block_iter_fini(struct lsm_block_iter *it);

/* An allocated iterator over the block (data must outlive it); freed by
 * lsm_iter_free.  NULL when out of memory. */
struct lsm_iter *lsm_block_iter_new(const uint8_t *data, size_t n);

/* Appends the stored form of body (n bytes: the contents and their type
 * byte) to w: sealed when seal has a seal function, then its CRC.
 * *stored is the stored size, the CRC not counted.  0, -ENOMEM or the
 * seal's error. */
int lsm_block_seal(struct wire_out *w, const struct lsm_seal *seal,
		   const uint8_t *body, size_t n, uint64_t *stored);

/* Takes over raw (malloc'd: n stored bytes and the 4-byte CRC), checks
 * the CRC, opens the seal and checks the type byte.  *out (malloc'd,
 * owned by the caller) is the opened block with its type byte, *outn
 * its length (at least 1).  0, -EIO for any damage (a seal that does not
 * open included), or -ENOMEM. */
int lsm_block_unseal(const struct lsm_seal *seal, uint8_t *raw, size_t n,
		     uint8_t **out, size_t *outn);

#endif
