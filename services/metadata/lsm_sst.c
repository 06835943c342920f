/*
 * SST objects (layout in FORMAT.md, "SST object"): data blocks, then the
 * filter block, then the index block, then a fixed 56-byte footer.  Each
 * stored block is seal(contents + type byte) followed by the CRC-32C of
 * those stored bytes, so damage is found before the seal is opened.
 *
 * The builder assembles the object in one growing buffer.  The reader
 * loads the footer, the index (decoded into arrays for binary search)
 * and the filter once at open and checks that the blocks tile the object
 * exactly, so every byte of a table is covered by some check; after open
 * it holds no mutable state and may be shared between threads.
 */
#include "lsm_sst.h"

#include "lsm_block.h"
#include "lsm_bloom.h"
#include "lsm_crc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SST_FOOTER  56
#define SST_VERSION 1
#define SST_MAGIC   "ZFSSST01"
/* Footer bytes the footer's own CRC covers: the handles, count, version. */
#define SST_FOOTER_CRCD 44

struct sst_handle {
	uint64_t off;  /* of the stored block */
	uint64_t size; /* stored (sealed) bytes, the CRC not counted */
};

struct lsm_sst_builder {
	struct lsm_sst_opts opt;
	struct lsm_seal seal;
	struct wire_out obj;
	struct lsm_block_builder data, index;
	uint64_t *hashes; /* of each distinct user key, for the filter */
	size_t nhash, hcap;
	uint64_t count;
	int err; /* sticky: a failed step leaves the table unfinishable */
	int finished;
	size_t last_len;
	uint8_t last[LSM_BLOCK_KEY_MAX];
};

int lsm_sst_builder_new(const struct lsm_sst_opts *opt,
			struct lsm_sst_builder **out)
{
	struct lsm_sst_builder *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	if (opt != NULL)
		b->opt = *opt;
	if (b->opt.block_bytes == 0)
		b->opt.block_bytes = 4096;
	if (b->opt.restart_interval == 0)
		b->opt.restart_interval = 16;
	if (b->opt.bloom_bits == 0)
		b->opt.bloom_bits = 10;
	if (b->opt.seal != NULL)
		b->seal = *b->opt.seal;
	b->opt.seal = NULL;
	lsm_block_builder_init(&b->data, b->opt.restart_interval);
	lsm_block_builder_init(&b->index, b->opt.restart_interval);
	*out = b;
	return 0;
}

void lsm_sst_builder_free(struct lsm_sst_builder *b)
{
	if (b == NULL)
		return;
	lsm_block_builder_fini(&b->data);
	lsm_block_builder_fini(&b->index);
	wire_out_free(&b->obj);
	free(b->hashes);
	free(b);
}

/* Finishes the block in bb, appends its type byte and stores it. */
static int sst_block_flush(struct lsm_sst_builder *b,
			   struct lsm_block_builder *bb, struct sst_handle *h)
{
	const uint8_t *p;
	size_t n;
	int rc = lsm_block_builder_finish(bb, &p, &n);

	if (rc < 0)
		return rc;
	wire_out_u8(&bb->out, LSM_BLOCK_PLAIN);
	if (bb->out.err)
		return bb->out.err;
	h->off = b->obj.len;
	rc =
	    lsm_block_seal(&b->obj, &b->seal, bb->out.p, bb->out.len, &h->size);
	lsm_block_builder_reset(bb);
	return rc;
}

/* Stores the data block and gives it an index entry keyed by its last
 * internal key, which is the last key added. */
static int sst_data_flush(struct lsm_sst_builder *b)
{
	struct sst_handle h;
	struct wire_out v = { 0 };
	int rc = sst_block_flush(b, &b->data, &h);

	if (rc < 0)
		return rc;
	lsm_varint_put(&v, h.off);
	lsm_varint_put(&v, h.size);
	rc = v.err;
	if (rc == 0)
		rc = lsm_block_builder_add(&b->index, b->last, b->last_len, v.p,
					   v.len);
	wire_out_free(&v);
	return rc;
}

static int sst_hash_push(struct lsm_sst_builder *b, const uint8_t *ukey,
			 size_t ulen)
{
	if (b->nhash == b->hcap) {
		size_t cap = b->hcap ? 2 * b->hcap : 1024;
		uint64_t *h = realloc(b->hashes, cap * sizeof(*h));

		if (h == NULL)
			return -ENOMEM;
		b->hashes = h;
		b->hcap = cap;
	}
	b->hashes[b->nhash++] = lsm_bloom_hash(ukey, ulen);
	return 0;
}

static int sst_add_checked(struct lsm_sst_builder *b, const uint8_t *ikey,
			   size_t klen, const void *val, size_t vlen)
{
	size_t ulen = lsm_ikey_ulen(klen);
	int rc = 0;

	if (b->count == 0 || lsm_ikey_ulen(b->last_len) != ulen ||
	    memcmp(b->last, ikey, ulen) != 0)
		rc = sst_hash_push(b, ikey, ulen);
	if (rc == 0)
		rc = lsm_block_builder_add(&b->data, ikey, klen, val, vlen);
	if (rc < 0)
		return rc;
	memcpy(b->last, ikey, klen);
	b->last_len = klen;
	b->count++;
	if (lsm_block_builder_bytes(&b->data) >= b->opt.block_bytes)
		return sst_data_flush(b);
	return 0;
}

int lsm_sst_builder_add(struct lsm_sst_builder *b, const uint8_t *ikey,
			size_t klen, const void *val, size_t vlen)
{
	int rc;

	if (b->err)
		return b->err;
	if (b->finished || klen < LSM_TRAILER || klen > LSM_BLOCK_KEY_MAX)
		return -EINVAL;
	if (b->count > 0 && lsm_ikey_cmp(ikey, klen, b->last, b->last_len) <= 0)
		return -EINVAL;
	rc = sst_add_checked(b, ikey, klen, val, vlen);
	if (rc < 0)
		b->err = rc;
	return rc;
}

uint64_t lsm_sst_builder_bytes(const struct lsm_sst_builder *b)
{
	return b->obj.len + lsm_block_builder_bytes(&b->data) +
	       lsm_block_builder_bytes(&b->index) +
	       (uint64_t)b->nhash * b->opt.bloom_bits / 8 + 3 * LSM_BLOCK_CRC +
	       2 + SST_FOOTER;
}

uint64_t lsm_sst_builder_count(const struct lsm_sst_builder *b)
{
	return b->count;
}

static int sst_filter_flush(struct lsm_sst_builder *b, struct sst_handle *h)
{
	uint8_t *f = NULL, *body;
	size_t n = 0;
	int rc =
	    lsm_bloom_build(b->hashes, b->nhash, b->opt.bloom_bits, &f, &n);

	if (rc < 0)
		return rc;
	body = realloc(f, n + 1);
	if (body == NULL) {
		free(f);
		return -ENOMEM;
	}
	body[n] = LSM_BLOCK_PLAIN;
	h->off = b->obj.len;
	rc = lsm_block_seal(&b->obj, &b->seal, body, n + 1, &h->size);
	free(body);
	return rc;
}

static void sst_footer_put(struct lsm_sst_builder *b,
			   const struct sst_handle *index,
			   const struct sst_handle *filter)
{
	size_t start = b->obj.len;

	wire_out_u64(&b->obj, index->off);
	wire_out_u64(&b->obj, index->size);
	wire_out_u64(&b->obj, filter->off);
	wire_out_u64(&b->obj, filter->size);
	wire_out_u64(&b->obj, b->count);
	wire_out_u32(&b->obj, SST_VERSION);
	if (b->obj.err)
		return;
	wire_out_u32(&b->obj, lsm_crc32c(0, b->obj.p + start, SST_FOOTER_CRCD));
	wire_out_mem(&b->obj, SST_MAGIC, 8);
}

static int sst_finish_steps(struct lsm_sst_builder *b)
{
	struct sst_handle index, filter;
	int rc = 0;

	if (b->data.count > 0)
		rc = sst_data_flush(b);
	if (rc == 0)
		rc = sst_filter_flush(b, &filter);
	if (rc == 0)
		rc = sst_block_flush(b, &b->index, &index);
	if (rc == 0) {
		sst_footer_put(b, &index, &filter);
		rc = b->obj.err;
	}
	return rc;
}

int lsm_sst_builder_finish(struct lsm_sst_builder *b, uint8_t **obj,
			   size_t *len)
{
	int rc;

	if (b->err)
		return b->err;
	if (b->finished)
		return -EINVAL;
	rc = sst_finish_steps(b);
	if (rc < 0) {
		b->err = rc;
		return rc;
	}
	b->finished = 1;
	*obj = b->obj.p;
	*len = b->obj.len;
	memset(&b->obj, 0, sizeof(b->obj));
	return 0;
}

/* A data block as the reader's index knows it: where it is and the end
 * of its last key in lsm_sst.keys (the key starts where the previous
 * block's ends). */
struct sst_block {
	struct sst_handle h;
	size_t key_end;
};

struct lsm_sst {
	const struct lsm_src *src;
	uint64_t id;
	struct lsm_block_cache *cache;
	struct lsm_seal seal;
	uint64_t count;
	uint64_t data_end; /* data blocks fill [0, data_end) */
	uint8_t *filter;   /* opened filter block; its contents */
	size_t filter_len; /* exclude the type byte */
	size_t nblocks, blocks_cap;
	struct sst_block *blocks;
	uint8_t *keys; /* the blocks' last keys, end to end */
	size_t keys_len, keys_cap;
};

static uint32_t sst_load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Reads the stored block at h, checks its CRC, opens its seal and checks
 * its type.  *out (malloc'd, owned by the caller) is the opened block,
 * *n its length with the type byte (at least 1). */
static int sst_block_fetch(const struct lsm_sst *t, const struct sst_handle *h,
			   uint8_t **out, size_t *n)
{
	uint8_t *raw = malloc(h->size + LSM_BLOCK_CRC);
	int rc;

	if (raw == NULL)
		return -ENOMEM;
	rc = t->src->read(t->src->arg, h->off, h->size + LSM_BLOCK_CRC, raw);
	if (rc < 0) {
		free(raw);
		return rc;
	}
	return lsm_block_unseal(&t->seal, raw, h->size, out, n);
}

/* Reads and checks the footer; the blocks it names must sit exactly
 * between the data and the footer: filter, then index. */
static int sst_footer_read(struct lsm_sst *t, struct sst_handle *index,
			   struct sst_handle *filter)
{
	uint64_t size = t->src->size, tail = size - SST_FOOTER;
	uint8_t f[SST_FOOTER];
	struct wire_in r;
	int rc;

	if (size < SST_FOOTER)
		return -EIO;
	rc = t->src->read(t->src->arg, tail, SST_FOOTER, f);
	if (rc < 0)
		return rc;
	if (memcmp(f + SST_FOOTER - 8, SST_MAGIC, 8) != 0 ||
	    lsm_crc32c(0, f, SST_FOOTER_CRCD) != sst_load32(f + 44))
		return -EIO;
	wire_in_init(&r, f, sizeof(f));
	index->off = wire_in_u64(&r);
	index->size = wire_in_u64(&r);
	filter->off = wire_in_u64(&r);
	filter->size = wire_in_u64(&r);
	t->count = wire_in_u64(&r);
	if (wire_in_u32(&r) != SST_VERSION)
		return -EIO;
	/* Each size is below the object's before the sums are formed. */
	if (index->size >= size || filter->size >= size || index->off >= size ||
	    filter->off >= size ||
	    index->off + index->size + LSM_BLOCK_CRC != tail ||
	    filter->off + filter->size + LSM_BLOCK_CRC != index->off)
		return -EIO;
	t->data_end = filter->off;
	return 0;
}

static int sst_key_push(struct lsm_sst *t, const uint8_t *k, size_t n)
{
	if (t->keys_len + n > t->keys_cap) {
		size_t cap = t->keys_cap ? 2 * t->keys_cap : 4096;
		uint8_t *p;

		while (cap < t->keys_len + n)
			cap *= 2;
		p = realloc(t->keys, cap);
		if (p == NULL)
			return -ENOMEM;
		t->keys = p;
		t->keys_cap = cap;
	}
	memcpy(t->keys + t->keys_len, k, n);
	t->keys_len += n;
	return 0;
}

static int sst_blocks_grow(struct lsm_sst *t)
{
	size_t cap = t->blocks_cap ? 2 * t->blocks_cap : 64;
	struct sst_block *b = realloc(t->blocks, cap * sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	t->blocks = b;
	t->blocks_cap = cap;
	return 0;
}

static const uint8_t *sst_block_key(const struct lsm_sst *t, size_t i,
				    size_t *n)
{
	size_t start = i ? t->blocks[i - 1].key_end : 0;

	*n = t->blocks[i].key_end - start;
	return t->keys + start;
}

/* Takes one index entry: its handle must start where the previous block
 * ended, and its key must sort after the previous one. */
static int sst_index_entry(struct lsm_sst *t, struct lsm_block_iter *it,
			   uint64_t *next_off)
{
	const uint8_t *v = it->val, *end = it->val + it->vlen;
	struct sst_handle h;
	const uint8_t *pk;
	size_t i = t->nblocks, pn = 0;

	if (lsm_varint_get(&v, end, &h.off) < 0 ||
	    lsm_varint_get(&v, end, &h.size) < 0 || v != end ||
	    h.off != *next_off || h.size < 1 || h.size > t->data_end - h.off ||
	    t->data_end - h.off - h.size < LSM_BLOCK_CRC)
		return -EIO;
	pk = i > 0 ? sst_block_key(t, i - 1, &pn) : NULL;
	if (pk != NULL && lsm_ikey_cmp(pk, pn, it->key, it->klen) >= 0)
		return -EIO;
	if ((i == t->blocks_cap && sst_blocks_grow(t) < 0) ||
	    sst_key_push(t, it->key, it->klen) < 0)
		return -ENOMEM;
	t->blocks[i] = (struct sst_block){ h, t->keys_len };
	t->nblocks++;
	*next_off = h.off + h.size + LSM_BLOCK_CRC;
	return 0;
}

static int sst_index_parse(struct lsm_sst *t, const uint8_t *p, size_t n)
{
	struct lsm_block_iter *it = malloc(sizeof(*it));
	uint64_t next_off = 0;
	int rc = 0;

	if (it == NULL)
		return -ENOMEM;
	lsm_block_iter_init(it, p, n);
	for (lsm_iter_first(&it->base); rc == 0 && it->valid;
	     lsm_iter_next(&it->base))
		rc = sst_index_entry(t, it, &next_off);
	if (rc == 0)
		rc = it->status;
	/* The data blocks must cover the data area exactly. */
	if (rc == 0 && next_off != t->data_end)
		rc = -EIO;
	lsm_block_iter_fini(it);
	free(it);
	return rc;
}

static int sst_meta_load(struct lsm_sst *t)
{
	struct sst_handle index, filter;
	uint8_t *p = NULL;
	size_t n = 0;
	int rc = sst_footer_read(t, &index, &filter);

	if (rc == 0)
		rc = sst_block_fetch(t, &index, &p, &n);
	if (rc < 0)
		return rc;
	rc = sst_index_parse(t, p, n - 1);
	free(p);
	if (rc == 0)
		rc = sst_block_fetch(t, &filter, &t->filter, &t->filter_len);
	if (rc == 0)
		t->filter_len--;
	return rc;
}

int lsm_sst_open(const struct lsm_src *src, uint64_t id,
		 struct lsm_block_cache *cache, const struct lsm_seal *seal,
		 struct lsm_sst **out)
{
	struct lsm_sst *t = calloc(1, sizeof(*t));
	int rc;

	if (t == NULL)
		return -ENOMEM;
	t->src = src;
	t->id = id;
	t->cache = cache;
	if (seal != NULL)
		t->seal = *seal;
	rc = sst_meta_load(t);
	if (rc < 0) {
		lsm_sst_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

void lsm_sst_close(struct lsm_sst *t)
{
	if (t == NULL)
		return;
	free(t->filter);
	free(t->blocks);
	free(t->keys);
	free(t);
}

size_t lsm_sst_mem(const struct lsm_sst *t)
{
	return sizeof(*t) + t->filter_len + 1 + t->keys_cap +
	       t->blocks_cap * sizeof(*t->blocks);
}

uint64_t lsm_sst_count(const struct lsm_sst *t)
{
	return t->count;
}

/* The first data block whose last key is >= k: the only block that can
 * hold the first entry >= k.  nblocks if there is none. */
static size_t sst_block_find(const struct lsm_sst *t, const uint8_t *k,
			     size_t n)
{
	size_t lo = 0, hi = t->nblocks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2, mn;
		const uint8_t *mk = sst_block_key(t, mid, &mn);

		if (lsm_ikey_cmp(mk, mn, k, n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A data block held for reading: pinned in the cache, or owned. */
struct sst_bref {
	const uint8_t *data;
	size_t len; /* contents, the type byte not counted */
	const struct lsm_cblock *cb;
	uint8_t *own;
};

static void sst_bref_put(struct lsm_sst *t, struct sst_bref *r)
{
	if (r->cb != NULL)
		lsm_block_cache_release(t->cache, r->cb);
	free(r->own);
	memset(r, 0, sizeof(*r));
}

/* Gets data block i: from the cache, else read, checked and opened (and
 * then put in the cache, which keeps opened blocks type byte and all). */
static int sst_bref_get(struct lsm_sst *t, size_t i, struct sst_bref *r)
{
	uint64_t off = t->blocks[i].h.off;
	uint8_t *buf = NULL;
	size_t n = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if (t->cache != NULL)
		r->cb = lsm_block_cache_get(t->cache, t->id, off);
	if (r->cb == NULL) {
		rc = sst_block_fetch(t, &t->blocks[i].h, &buf, &n);
		if (rc < 0)
			return rc;
		if (t->cache == NULL) {
			r->own = buf;
			r->data = buf;
			r->len = n - 1;
			return 0;
		}
		r->cb = lsm_block_cache_put(t->cache, t->id, off, buf, n);
		if (r->cb == NULL)
			return -ENOMEM;
	}
	r->data = r->cb->data;
	r->len = r->cb->len - 1;
	return 0;
}

/* The entry the block iterator stands on, if it is a version of ukey. */
static int sst_entry_take(struct lsm_block_iter *it, const void *ukey,
			  size_t ulen, uint8_t *kind, uint64_t *seq, void **val,
			  size_t *vlen)
{
	uint8_t k;
	void *v;

	if (!it->valid)
		return it->status ? it->status : -ENOENT;
	if (lsm_ikey_ulen(it->klen) != ulen || memcmp(it->key, ukey, ulen) != 0)
		return -ENOENT;
	k = lsm_ikey_kind(it->key, it->klen);
	if (k != LSM_KIND_PUT && k != LSM_KIND_DEL)
		return -EIO;
	*kind = k;
	*seq = lsm_ikey_seq(it->key, it->klen);
	*val = NULL;
	*vlen = 0;
	if (k == LSM_KIND_DEL)
		return 0;
	v = malloc(it->vlen ? it->vlen : 1);
	if (v == NULL)
		return -ENOMEM;
	memcpy(v, it->val, it->vlen);
	*val = v;
	*vlen = it->vlen;
	return 0;
}

/* The seek key is ukey with trailer (snap << 8 | 0xff): it sorts before
 * every version numbered <= snap (whatever its kind) and after every
 * newer one, so the first entry at or after it is the version wanted. */
int lsm_sst_get(struct lsm_sst *t, const void *ukey, size_t ulen, uint64_t snap,
		uint8_t *kind, uint64_t *seq, void **val, size_t *vlen)
{
	uint8_t sk[LSM_BLOCK_KEY_MAX];
	struct lsm_block_iter it;
	struct sst_bref r;
	size_t n, i;
	int rc;

	if (ulen > LSM_KEY_MAX)
		return -EINVAL;
	if (!lsm_bloom_may_contain(t->filter, t->filter_len,
				   lsm_bloom_hash(ukey, ulen)))
		return -ENOENT;
	if (snap > LSM_SEQ_MAX)
		snap = LSM_SEQ_MAX;
	n = lsm_ikey_make(sk, ukey, ulen, snap, 0xff);
	i = sst_block_find(t, sk, n);
	if (i == t->nblocks)
		return -ENOENT;
	rc = sst_bref_get(t, i, &r);
	if (rc < 0)
		return rc;
	lsm_block_iter_init(&it, r.data, r.len);
	lsm_iter_seek(&it.base, sk, n);
	rc = sst_entry_take(&it, ukey, ulen, kind, seq, val, vlen);
	lsm_block_iter_fini(&it);
	sst_bref_put(t, &r);
	return rc;
}

/* The table's iterator: a position in the index (blk) and a block
 * iterator over that data block, which stays pinned while it is read.
 * An error is sticky: the iterator stays invalid with it. */
struct sst_iter {
	struct lsm_iter base;
	struct lsm_sst *t;
	size_t blk;
	int loaded;
	int status;
	struct sst_bref ref;
	struct lsm_block_iter bi;
};

static void sst_iter_load(struct sst_iter *it, size_t i)
{
	int rc;

	if (it->loaded) {
		lsm_block_iter_fini(&it->bi);
		sst_bref_put(it->t, &it->ref);
		it->loaded = 0;
	}
	it->blk = i;
	if (i >= it->t->nblocks)
		return;
	rc = sst_bref_get(it->t, i, &it->ref);
	if (rc < 0) {
		it->status = rc;
		return;
	}
	lsm_block_iter_init(&it->bi, it->ref.data, it->ref.len);
	it->loaded = 1;
}

/* Moves on to the next block while the current one has nothing left. */
static void sst_iter_skip(struct sst_iter *it)
{
	while (it->status == 0 && it->loaded && !it->bi.valid &&
	       it->bi.status == 0) {
		sst_iter_load(it, it->blk + 1);
		if (it->loaded)
			lsm_iter_first(&it->bi.base);
	}
	if (it->status == 0 && it->loaded && it->bi.status != 0)
		it->status = it->bi.status;
}

static void sst_iter_first(struct lsm_iter *base)
{
	struct sst_iter *it = (struct sst_iter *)base;

	if (it->status)
		return;
	sst_iter_load(it, 0);
	if (it->loaded)
		lsm_iter_first(&it->bi.base);
	sst_iter_skip(it);
}

static void sst_iter_seek(struct lsm_iter *base, const uint8_t *k, size_t n)
{
	struct sst_iter *it = (struct sst_iter *)base;

	if (it->status)
		return;
	if (n < LSM_TRAILER) {
		sst_iter_load(it, it->t->nblocks);
		it->status = -EINVAL;
		return;
	}
	sst_iter_load(it, sst_block_find(it->t, k, n));
	if (it->loaded)
		lsm_iter_seek(&it->bi.base, k, n);
	sst_iter_skip(it);
}

static int sst_iter_valid(struct lsm_iter *base)
{
	struct sst_iter *it = (struct sst_iter *)base;

	return it->status == 0 && it->loaded && it->bi.valid;
}

static void sst_iter_next(struct lsm_iter *base)
{
	struct sst_iter *it = (struct sst_iter *)base;

	if (!sst_iter_valid(base))
		return;
	lsm_iter_next(&it->bi.base);
	sst_iter_skip(it);
}

static const uint8_t *sst_iter_key(struct lsm_iter *base, size_t *n)
{
	return lsm_iter_key(&((struct sst_iter *)base)->bi.base, n);
}

static const uint8_t *sst_iter_value(struct lsm_iter *base, size_t *n)
{
	return lsm_iter_value(&((struct sst_iter *)base)->bi.base, n);
}

static int sst_iter_status(struct lsm_iter *base)
{
	return ((struct sst_iter *)base)->status;
}

static void sst_iter_free(struct lsm_iter *base)
{
	struct sst_iter *it = (struct sst_iter *)base;

	sst_iter_load(it, it->t->nblocks);
	free(it);
}

static const struct lsm_iter_ops sst_iter_ops = {
	.seek = sst_iter_seek,
	.first = sst_iter_first,
	.next = sst_iter_next,
	.valid = sst_iter_valid,
	.key = sst_iter_key,
	.value = sst_iter_value,
	.status = sst_iter_status,
	.free = sst_iter_free,
};

struct lsm_iter *lsm_sst_iter_new(struct lsm_sst *t)
{
	struct sst_iter *it = calloc(1, sizeof(*it));

	if (it == NULL)
		return NULL;
	it->base.ops = &sst_iter_ops;
	it->t = t;
	return &it->base;
}
