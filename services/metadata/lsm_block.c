/*
 * Block building and reading (layout in lsm_block.h and FORMAT.md).  The
 * reader trusts nothing in the block: the restart array is checked whole
 * when the iterator is pointed at a block, and each entry's three
 * lengths are checked against the end of the entry area before a byte
 * of key or value is touched.  An entry at a restart point must store
 * its whole key, and a forward scan must land exactly on each restart
 * offset; either failing is corruption.  Because blocks carry a CRC in
 * the SST, these checks are what keeps a reader safe from a block that
 * passed its CRC by chance or was written by a broken writer, not the
 * first line of defence.
 */
#include "lsm_block.h"

#include "lsm_crc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void lsm_varint_put(struct wire_out *w, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;

	while (v >= 0x80) {
		b[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (uint8_t)v;
	wire_out_mem(w, b, n);
}

int lsm_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *q = *p;
	uint64_t r = 0;

	for (unsigned shift = 0; shift < 64 && q < end; shift += 7) {
		uint8_t c = *q++;

		/* The tenth byte may only carry the top bit. */
		if (shift == 63 && c > 1)
			return -EIO;
		r |= (uint64_t)(c & 0x7f) << shift;
		if ((c & 0x80) == 0) {
			*p = q;
			*v = r;
			return 0;
		}
	}
	return -EIO;
}

static uint32_t block_load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

void lsm_block_builder_init(struct lsm_block_builder *b,
			    uint32_t restart_interval)
{
	memset(b, 0, sizeof(*b));
	b->interval = restart_interval ? restart_interval : 1;
}

void lsm_block_builder_fini(struct lsm_block_builder *b)
{
	wire_out_free(&b->out);
	free(b->restarts);
	b->restarts = NULL;
}

static int block_restart_push(struct lsm_block_builder *b)
{
	if (b->nrestarts == b->restarts_cap) {
		size_t cap = b->restarts_cap ? 2 * b->restarts_cap : 16;
		uint32_t *r = realloc(b->restarts, cap * sizeof(*r));

		if (r == NULL)
			return -ENOMEM;
		b->restarts = r;
		b->restarts_cap = cap;
	}
	b->restarts[b->nrestarts++] = (uint32_t)b->out.len;
	b->since_restart = 0;
	return 0;
}

static size_t block_shared(const uint8_t *a, size_t an, const uint8_t *b,
			   size_t bn)
{
	size_t n = an < bn ? an : bn, i = 0;

	while (i < n && a[i] == b[i])
		i++;
	return i;
}

int lsm_block_builder_add(struct lsm_block_builder *b, const uint8_t *key,
			  size_t klen, const void *val, size_t vlen)
{
	size_t shared = 0;
	int rc;

	if (b->finished || klen < LSM_TRAILER || klen > LSM_BLOCK_KEY_MAX)
		return -EINVAL;
	/* Restart offsets are 32-bit: a block stays well under 4 GiB. */
	if (b->out.len + klen + vlen + 32 > UINT32_MAX / 2)
		return -EFBIG;
	if (b->count == 0 || b->since_restart >= b->interval) {
		rc = block_restart_push(b);
		if (rc < 0)
			return rc;
	} else {
		shared = block_shared(b->last, b->last_len, key, klen);
	}
	lsm_varint_put(&b->out, shared);
	lsm_varint_put(&b->out, klen - shared);
	lsm_varint_put(&b->out, vlen);
	wire_out_mem(&b->out, key + shared, klen - shared);
	wire_out_mem(&b->out, val, vlen);
	if (b->out.err)
		return b->out.err;
	memcpy(b->last + shared, key + shared, klen - shared);
	b->last_len = klen;
	b->since_restart++;
	b->count++;
	return 0;
}

size_t lsm_block_builder_bytes(const struct lsm_block_builder *b)
{
	return b->out.len + 4 * b->nrestarts + 4;
}

int lsm_block_builder_finish(struct lsm_block_builder *b, const uint8_t **out,
			     size_t *n)
{
	if (!b->finished) {
		for (size_t i = 0; i < b->nrestarts; i++)
			wire_out_u32(&b->out, b->restarts[i]);
		wire_out_u32(&b->out, (uint32_t)b->nrestarts);
		if (b->out.err)
			return b->out.err;
		b->finished = 1;
	}
	*out = b->out.p;
	*n = b->out.len;
	return 0;
}

void lsm_block_builder_reset(struct lsm_block_builder *b)
{
	b->out.len = 0;
	b->out.err = 0;
	b->nrestarts = 0;
	b->since_restart = 0;
	b->last_len = 0;
	b->count = 0;
	b->finished = 0;
}

static uint32_t block_restart(const struct lsm_block_iter *it, uint32_t i)
{
	return block_load32(it->data + it->restarts_off + 4 * (size_t)i);
}

static void block_fail(struct lsm_block_iter *it, int err)
{
	it->status = err;
	it->valid = 0;
}

/* Decodes the entry at off over the key held in it->key (it->klen bytes
 * of it; 0 at a restart point). */
static int block_entry_decode(struct lsm_block_iter *it, size_t off)
{
	const uint8_t *p = it->data + off, *end = it->data + it->restarts_off;
	uint64_t shared, unshared, vlen;
	size_t left;

	if (off >= it->restarts_off || lsm_varint_get(&p, end, &shared) < 0 ||
	    lsm_varint_get(&p, end, &unshared) < 0 ||
	    lsm_varint_get(&p, end, &vlen) < 0)
		return -EIO;
	left = (size_t)(end - p);
	if (shared > it->klen || unshared > LSM_BLOCK_KEY_MAX - shared ||
	    shared + unshared < LSM_TRAILER || unshared > left ||
	    vlen > left - unshared)
		return -EIO;
	memcpy(it->key + shared, p, unshared);
	it->klen = shared + unshared;
	it->val = p + unshared;
	it->vlen = vlen;
	it->cur = off;
	it->next = (size_t)(p + unshared + vlen - it->data);
	return 0;
}

/* Positions at restart point i; 0 or -EIO. */
static int block_restart_seek(struct lsm_block_iter *it, uint32_t i)
{
	it->restart = i;
	it->klen = 0;
	if (block_entry_decode(it, block_restart(it, i)) < 0) {
		block_fail(it, -EIO);
		return -EIO;
	}
	it->valid = 1;
	return 0;
}

static void block_iter_first(struct lsm_iter *base)
{
	struct lsm_block_iter *it = (struct lsm_block_iter *)base;

	if (it->status)
		return;
	it->valid = 0;
	if (it->nrestarts > 0)
		block_restart_seek(it, 0);
}

static void block_iter_next(struct lsm_iter *base)
{
	struct lsm_block_iter *it = (struct lsm_block_iter *)base;
	size_t off = it->next;

	if (!it->valid)
		return;
	if (off == it->restarts_off) {
		it->valid = 0;
		return;
	}
	if (it->restart + 1 < it->nrestarts) {
		uint32_t r = block_restart(it, it->restart + 1);

		/* The scan must meet each restart point exactly, and the
		 * entry there must stand alone. */
		if (off > r) {
			block_fail(it, -EIO);
			return;
		}
		if (off == r) {
			it->restart++;
			it->klen = 0;
		}
	}
	if (block_entry_decode(it, off) < 0)
		block_fail(it, -EIO);
}

/* The last restart point whose key is < target (0 if none is), by binary
 * search; -EIO if a restart entry does not decode. */
static int block_restart_find(struct lsm_block_iter *it, const uint8_t *k,
			      size_t n, uint32_t *found)
{
	uint32_t lo = 0, hi = it->nrestarts - 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;

		it->klen = 0;
		if (block_entry_decode(it, block_restart(it, mid)) < 0)
			return -EIO;
		if (lsm_ikey_cmp(it->key, it->klen, k, n) < 0)
			lo = mid;
		else
			hi = mid - 1;
	}
	*found = lo;
	return 0;
}

static void block_iter_seek(struct lsm_iter *base, const uint8_t *k, size_t n)
{
	struct lsm_block_iter *it = (struct lsm_block_iter *)base;
	uint32_t r = 0;

	if (it->status)
		return;
	it->valid = 0;
	if (n < LSM_TRAILER) {
		block_fail(it, -EINVAL);
		return;
	}
	if (it->nrestarts == 0)
		return;
	if (block_restart_find(it, k, n, &r) < 0) {
		block_fail(it, -EIO);
		return;
	}
	if (block_restart_seek(it, r) < 0)
		return;
	while (it->valid && lsm_ikey_cmp(it->key, it->klen, k, n) < 0)
		block_iter_next(base);
}

static int block_iter_valid(struct lsm_iter *base)
{
	return ((struct lsm_block_iter *)base)->valid;
}

static const uint8_t *block_iter_key(struct lsm_iter *base, size_t *n)
{
	struct lsm_block_iter *it = (struct lsm_block_iter *)base;

	*n = it->klen;
	return it->key;
}

static const uint8_t *block_iter_value(struct lsm_iter *base, size_t *n)
{
	struct lsm_block_iter *it = (struct lsm_block_iter *)base;

	*n = it->vlen;
	return it->val;
}

static int block_iter_status(struct lsm_iter *base)
{
	return ((struct lsm_block_iter *)base)->status;
}

static void block_iter_free(struct lsm_iter *base)
{
	free(base);
}

static const struct lsm_iter_ops block_iter_ops = {
	.seek = block_iter_seek,
	.first = block_iter_first,
	.next = block_iter_next,
	.valid = block_iter_valid,
	.key = block_iter_key,
	.value = block_iter_value,
	.status = block_iter_status,
	.free = block_iter_free,
};

/* Checks the restart array: a count that fits, offsets that ascend from
 * 0 inside the entry area.  0 or -EIO. */
static int block_restarts_check(struct lsm_block_iter *it, size_t n)
{
	uint32_t count, prev = 0;

	if (n < 4)
		return -EIO;
	count = block_load32(it->data + n - 4);
	if (count > (n - 4) / 4)
		return -EIO;
	it->nrestarts = count;
	it->restarts_off = n - 4 - 4 * (size_t)count;
	/* No restart means no entry: the entry area must be empty. */
	if (count == 0)
		return it->restarts_off == 0 ? 0 : -EIO;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t r = block_restart(it, i);

		if ((i == 0 && r != 0) || (i > 0 && r <= prev) ||
		    r >= it->restarts_off)
			return -EIO;
		prev = r;
	}
	return 0;
}

void lsm_block_iter_init(struct lsm_block_iter *it, const uint8_t *data,
			 size_t n)
{
	it->base.ops = &block_iter_ops;
	it->data = data;
	it->nrestarts = 0;
	it->restarts_off = 0;
	it->cur = it->next = 0;
	it->restart = 0;
	it->status = 0;
	it->valid = 0;
	it->val = NULL;
	it->vlen = 0;
	it->klen = 0;
	if (block_restarts_check(it, n) < 0) {
		it->nrestarts = 0;
		it->restarts_off = 0;
		it->status = -EIO;
	}
}

void lsm_block_iter_fini(struct lsm_block_iter *it)
{
	it->valid = 0;
	it->data = NULL;
}

struct lsm_iter *lsm_block_iter_new(const uint8_t *data, size_t n)
{
	struct lsm_block_iter *it = malloc(sizeof(*it));

	if (it == NULL)
		return NULL;
	lsm_block_iter_init(it, data, n);
	return &it->base;
}

int lsm_block_seal(struct wire_out *w, const struct lsm_seal *seal,
		   const uint8_t *body, size_t n, uint64_t *stored)
{
	uint8_t *sealed = NULL;
	size_t sn = n;
	int rc;

	if (seal != NULL && seal->seal != NULL) {
		rc = seal->seal(seal->arg, body, n, &sealed, &sn);
		if (rc < 0)
			return rc;
		body = sealed;
	}
	wire_out_mem(w, body, sn);
	wire_out_u32(w, lsm_crc32c(0, body, sn));
	free(sealed);
	*stored = sn;
	return w->err;
}

/* The CRC is checked before the seal is opened, so damage costs no
 * cipher work; a seal that still does not open (a wrong key, or bytes
 * altered along with their CRC) is damage all the same. */
int lsm_block_unseal(const struct lsm_seal *seal, uint8_t *raw, size_t n,
		     uint8_t **out, size_t *outn)
{
	uint8_t *open = raw;
	size_t on = n;
	int rc;

	if (lsm_crc32c(0, raw, n) != block_load32(raw + n)) {
		free(raw);
		return -EIO;
	}
	if (seal != NULL && seal->open != NULL) {
		rc = seal->open(seal->arg, raw, n, &open, &on);
		free(raw);
		if (rc < 0)
			return rc == -ENOMEM ? rc : -EIO;
	}
	if (on < 1 || open[on - 1] != LSM_BLOCK_PLAIN) {
		free(open);
		return -EIO;
	}
	*out = open;
	*outn = on;
	return 0;
}
