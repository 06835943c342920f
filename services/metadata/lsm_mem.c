/*
 * The memtable: a skiplist whose nodes live in an arena of large blocks.
 *
 * One writer at a time adds nodes; any number of readers walk the list
 * without a lock.  Nodes are never removed or changed once linked, so a
 * reader only has to see a node whole before it sees a pointer to it: the
 * writer fills a node, sets the node's own next pointers, and then links
 * it in with release stores, bottom level first; readers follow pointers
 * with acquire loads.  A reader that meets a half-linked node sees it on
 * the lower levels only, which changes how fast it finds a key, never
 * what it finds.
 *
 * A node holds its key as an internal key (user key + 8-byte trailer,
 * lsm_key.h) so an iterator can hand out a pointer into the node, and
 * the value right after it.  The arena hands out memory from blocks of
 * MEM_BLOCK_SIZE; a reservation larger than that gets a block of its own.
 * Memory goes back only when the last reference drops.
 */
#include "lsm_mem.h"

#include "lsm_key.h"

#include <assert.h>
#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEM_HEIGHT_MAX 12
#define MEM_BLOCK_SIZE (256u * 1024u)
#define MEM_ALIGN      alignof(void *)

struct mem_node {
	uint32_t vlen;
	uint16_t klen; /* internal key length, user key + trailer */
	uint8_t height;
	/* next[height] follows, then klen key bytes, then vlen value bytes.
	 * next[] is read by other threads only through __atomic loads. */
	struct mem_node *next[];
};

struct mem_block {
	struct mem_block *prev;
	size_t size;
	alignas(max_align_t) unsigned char data[];
};

struct lsm_mem {
	int refs;
	int height;   /* levels in use; read by readers */
	uint64_t rng; /* xorshift state, writer only */
	struct mem_block *blocks;
	unsigned char *pos; /* next free byte of the newest block */
	unsigned char *end; /* end of the newest block */
	/* Bytes of blocks handed out or left behind as a block's unusable
	 * tail: all block memory but the free rest of the newest block. */
	size_t bytes;
	uint64_t count;	       /* entries; read by anyone */
	uint64_t min_seq;      /* read by anyone */
	uint64_t max_seq;      /* read by anyone */
	struct mem_node *head; /* no key; a tower of MEM_HEIGHT_MAX */
};

/* The largest node for an entry, headroom for alignment included: what a
 * reservation counts per entry on top of its key and value bytes. */
#define MEM_NODE_MAX                                                           \
	(sizeof(struct mem_node) + MEM_HEIGHT_MAX * sizeof(void *) +           \
	 LSM_TRAILER + MEM_ALIGN - 1)

static unsigned char *mem_node_key(const struct mem_node *x)
{
	return (unsigned char *)&x->next[x->height];
}

static struct mem_node *mem_next(const struct mem_node *x, int level)
{
	return __atomic_load_n(&x->next[level], __ATOMIC_ACQUIRE);
}

static uint64_t mem_be64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* lsm_ukey_cmp, with the first eight bytes compared as one big-endian
 * word: most keys differ there, and the search spends its time here. */
static int mem_ukey_cmp(const unsigned char *a, size_t an,
			const unsigned char *b, size_t bn)
{
	if (an >= 8 && bn >= 8) {
		uint64_t x = mem_be64(a), y = mem_be64(b);

		if (x != y)
			return x < y ? -1 : 1;
		return lsm_ukey_cmp(a + 8, an - 8, b + 8, bn - 8);
	}
	return lsm_ukey_cmp(a, an, b, bn);
}

/* Compares node x's internal key with (ukey, trailer), lsm_ikey_cmp
 * order, without building the searched key. */
static int mem_node_cmp(const struct mem_node *x, const void *ukey, size_t ulen,
			uint64_t trailer)
{
	const unsigned char *k = mem_node_key(x);
	size_t xlen = lsm_ikey_ulen(x->klen);
	int c = mem_ukey_cmp(k, xlen, ukey, ulen);
	uint64_t t;

	if (c != 0)
		return c;
	t = lsm_get_u64(k + xlen);
	return t > trailer ? -1 : t < trailer;
}

/* The first node >= (ukey, trailer), or NULL; with prev non-NULL also the
 * last node before it on every level.  A node that ended the walk on one
 * level is often the next one met on the level below; it is known to be
 * >= the key and is not compared again. */
static struct mem_node *mem_find_ge(struct lsm_mem *m, const void *ukey,
				    size_t ulen, uint64_t trailer,
				    struct mem_node **prev)
{
	struct mem_node *x = m->head;
	struct mem_node *stop = NULL;
	int level = __atomic_load_n(&m->height, __ATOMIC_ACQUIRE) - 1;

	for (;;) {
		struct mem_node *nx = mem_next(x, level);

		if (nx != NULL && nx != stop &&
		    mem_node_cmp(nx, ukey, ulen, trailer) < 0) {
			x = nx;
			continue;
		}
		stop = nx;
		if (prev != NULL)
			prev[level] = x;
		if (level == 0)
			return nx;
		level--;
	}
}

int lsm_mem_new(struct lsm_mem **out)
{
	struct lsm_mem *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return -ENOMEM;
	m->head = calloc(1, sizeof(*m->head) + MEM_HEIGHT_MAX * sizeof(void *));
	if (m->head == NULL) {
		free(m);
		return -ENOMEM;
	}
	m->refs = 1;
	m->height = 1;
	m->head->height = MEM_HEIGHT_MAX;
	/* A fixed seed keeps runs reproducible; heights need spread, not
	 * secrecy. */
	m->rng = UINT64_C(0x9e3779b97f4a7c15);
	*out = m;
	return 0;
}

void lsm_mem_ref(struct lsm_mem *m)
{
	__atomic_fetch_add(&m->refs, 1, __ATOMIC_RELAXED);
}

void lsm_mem_unref(struct lsm_mem *m)
{
	struct mem_block *b, *prev;

	if (m == NULL || __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (b = m->blocks; b != NULL; b = prev) {
		prev = b->prev;
		free(b);
	}
	free(m->head);
	free(m);
}

static void mem_bytes_add(struct lsm_mem *m, size_t n)
{
	__atomic_store_n(&m->bytes, m->bytes + n, __ATOMIC_RELAXED);
}

/* Adds a block of at least want bytes and makes it the one the arena
 * allocates from; the rest of the old block stays counted as used, since
 * its memory is held until the memtable goes. */
static int mem_arena_grow(struct lsm_mem *m, size_t want)
{
	size_t size = want > MEM_BLOCK_SIZE ? want : MEM_BLOCK_SIZE;
	struct mem_block *b = malloc(sizeof(*b) + size);

	if (b == NULL)
		return -ENOMEM;
	if (m->pos != NULL)
		mem_bytes_add(m, (size_t)(m->end - m->pos));
	b->prev = m->blocks;
	b->size = size;
	m->blocks = b;
	m->pos = b->data;
	m->end = b->data + size;
	return 0;
}

int lsm_mem_reserve(struct lsm_mem *m, size_t n, size_t bytes)
{
	size_t need;

	if (n > SIZE_MAX / MEM_NODE_MAX ||
	    bytes > SIZE_MAX - n * MEM_NODE_MAX - sizeof(struct mem_block))
		return -ENOMEM;
	need = n * MEM_NODE_MAX + bytes;
	if (m->pos != NULL && (size_t)(m->end - m->pos) >= need)
		return 0;
	return mem_arena_grow(m, need);
}

/* Room for size bytes at pointer alignment.  Inside a reservation it
 * always fits; a caller that skipped lsm_mem_reserve gets a new block,
 * and the process stops if even that fails, since add cannot report. */
static void *mem_arena_alloc(struct lsm_mem *m, size_t size)
{
	size_t pad = (MEM_ALIGN - (uintptr_t)m->pos % MEM_ALIGN) % MEM_ALIGN;
	unsigned char *p;

	if (m->pos == NULL || (size_t)(m->end - m->pos) < pad + size) {
		if (mem_arena_grow(m, size + MEM_ALIGN) < 0) {
			fprintf(stderr, "metadata: memtable: add outside "
					"a reservation ran out of memory\n");
			abort();
		}
		pad = 0;
	}
	p = m->pos + pad;
	m->pos = p + size;
	mem_bytes_add(m, pad + size);
	return p;
}

/* Height with probability 1/4 of each extra level. */
static int mem_height_pick(struct lsm_mem *m)
{
	uint64_t x = m->rng;
	int h = 1;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	m->rng = x;
	while (h < MEM_HEIGHT_MAX && (x & 3) == 0) {
		h++;
		x >>= 2;
	}
	return h;
}

static struct mem_node *mem_node_make(struct lsm_mem *m, uint64_t seq,
				      uint8_t kind, const void *key,
				      size_t klen, const void *val, size_t vlen)
{
	int h = mem_height_pick(m);
	size_t tower = (size_t)h * sizeof(void *);
	struct mem_node *x;

	x = mem_arena_alloc(m, sizeof(*x) + tower + klen + LSM_TRAILER + vlen);
	x->vlen = (uint32_t)vlen;
	x->klen = (uint16_t)(klen + LSM_TRAILER);
	x->height = (uint8_t)h;
	lsm_ikey_make(mem_node_key(x), key, klen, seq, kind);
	if (vlen > 0)
		memcpy(mem_node_key(x) + x->klen, val, vlen);
	return x;
}

/* Counters other threads may read; only the writer changes them. */
static void mem_stats_note(struct lsm_mem *m, uint64_t seq)
{
	if (m->count == 0 || seq < m->min_seq)
		__atomic_store_n(&m->min_seq, seq, __ATOMIC_RELAXED);
	if (seq > m->max_seq)
		__atomic_store_n(&m->max_seq, seq, __ATOMIC_RELAXED);
	__atomic_store_n(&m->count, m->count + 1, __ATOMIC_RELAXED);
}

void lsm_mem_add(struct lsm_mem *m, uint64_t seq, uint8_t kind, const void *key,
		 size_t klen, const void *val, size_t vlen)
{
	struct mem_node *prev[MEM_HEIGHT_MAX];
	struct mem_node *x;

	assert(klen <= LSM_KEY_MAX && vlen <= UINT32_MAX);
	assert(seq <= LSM_SEQ_MAX);
	if (kind == LSM_KIND_DEL)
		vlen = 0;
	mem_find_ge(m, key, klen, lsm_trailer(seq, kind), prev);
	x = mem_node_make(m, seq, kind, key, klen, val, vlen);
	for (int i = m->height; i < x->height; i++)
		prev[i] = m->head;
	/* x is private until the first release store below publishes it. */
	for (int i = 0; i < x->height; i++) {
		x->next[i] =
		    __atomic_load_n(&prev[i]->next[i], __ATOMIC_RELAXED);
		__atomic_store_n(&prev[i]->next[i], x, __ATOMIC_RELEASE);
	}
	if (x->height > m->height)
		__atomic_store_n(&m->height, x->height, __ATOMIC_RELEASE);
	mem_stats_note(m, seq);
}

int lsm_mem_get(struct lsm_mem *m, const void *key, size_t klen, uint64_t snap,
		uint8_t *kind, void **val, size_t *vlen)
{
	uint64_t top =
	    lsm_trailer(snap < LSM_SEQ_MAX ? snap : LSM_SEQ_MAX, 0xff);
	struct mem_node *x = mem_find_ge(m, key, klen, top, NULL);
	const unsigned char *k;

	if (x == NULL)
		return -ENOENT;
	k = mem_node_key(x);
	if (lsm_ukey_cmp(k, lsm_ikey_ulen(x->klen), key, klen) != 0)
		return -ENOENT;
	*kind = lsm_ikey_kind(k, x->klen);
	*val = NULL;
	*vlen = 0;
	if (*kind == LSM_KIND_DEL)
		return 0;
	/* One byte at least, so an empty value is a non-NULL buffer. */
	*val = malloc(x->vlen > 0 ? x->vlen : 1);
	if (*val == NULL)
		return -ENOMEM;
	memcpy(*val, k + x->klen, x->vlen);
	*vlen = x->vlen;
	return 0;
}

size_t lsm_mem_bytes(const struct lsm_mem *m)
{
	return __atomic_load_n(&m->bytes, __ATOMIC_RELAXED);
}

uint64_t lsm_mem_count(const struct lsm_mem *m)
{
	return __atomic_load_n(&m->count, __ATOMIC_RELAXED);
}

uint64_t lsm_mem_min_seq(const struct lsm_mem *m)
{
	return __atomic_load_n(&m->min_seq, __ATOMIC_RELAXED);
}

uint64_t lsm_mem_max_seq(const struct lsm_mem *m)
{
	return __atomic_load_n(&m->max_seq, __ATOMIC_RELAXED);
}

/* The iterator: a node pointer and a reference that keeps the arena. */
struct mem_iter {
	struct lsm_iter it;
	struct lsm_mem *m;
	struct mem_node *cur;
};

static struct mem_iter *mem_iter_of(struct lsm_iter *it)
{
	return (struct mem_iter *)it;
}

/* A key shorter than a trailer is not an internal key; it is taken as a
 * user key at the newest version, so the seek lands before all of its
 * entries rather than reading past the buffer. */
static void mem_iter_seek(struct lsm_iter *it, const uint8_t *ik, size_t n)
{
	struct mem_iter *mi = mem_iter_of(it);

	if (n < LSM_TRAILER) {
		mi->cur = mem_find_ge(mi->m, ik, n, UINT64_MAX, NULL);
		return;
	}
	mi->cur = mem_find_ge(mi->m, ik, lsm_ikey_ulen(n),
			      lsm_get_u64(ik + lsm_ikey_ulen(n)), NULL);
}

static void mem_iter_first(struct lsm_iter *it)
{
	struct mem_iter *mi = mem_iter_of(it);

	mi->cur = mem_next(mi->m->head, 0);
}

static void mem_iter_next(struct lsm_iter *it)
{
	struct mem_iter *mi = mem_iter_of(it);

	if (mi->cur != NULL)
		mi->cur = mem_next(mi->cur, 0);
}

static int mem_iter_valid(struct lsm_iter *it)
{
	return mem_iter_of(it)->cur != NULL;
}

static const uint8_t *mem_iter_key(struct lsm_iter *it, size_t *n)
{
	struct mem_node *x = mem_iter_of(it)->cur;

	*n = x->klen;
	return mem_node_key(x);
}

static const uint8_t *mem_iter_value(struct lsm_iter *it, size_t *n)
{
	struct mem_node *x = mem_iter_of(it)->cur;

	*n = x->vlen;
	return mem_node_key(x) + x->klen;
}

static int mem_iter_status(struct lsm_iter *it)
{
	(void)it;
	return 0;
}

static void mem_iter_free(struct lsm_iter *it)
{
	struct mem_iter *mi = mem_iter_of(it);

	lsm_mem_unref(mi->m);
	free(mi);
}

static const struct lsm_iter_ops mem_iter_ops = {
	.seek = mem_iter_seek,
	.first = mem_iter_first,
	.next = mem_iter_next,
	.valid = mem_iter_valid,
	.key = mem_iter_key,
	.value = mem_iter_value,
	.status = mem_iter_status,
	.free = mem_iter_free,
};

/* The iterator starts unpositioned (invalid) until seek or first. */
struct lsm_iter *lsm_mem_iter_new(struct lsm_mem *m)
{
	struct mem_iter *mi = calloc(1, sizeof(*mi));

	if (mi == NULL)
		return NULL;
	mi->it.ops = &mem_iter_ops;
	lsm_mem_ref(m);
	mi->m = m;
	return &mi->it;
}
