/*
 * The block cache: SST blocks in memory, keyed by (SST id, offset).
 *
 * A hash of the key picks one of up to 16 shards; each shard is a
 * chained hash table plus an LRU list under its own mutex, so readers of
 * different blocks rarely wait for one another.  The byte budget is split
 * evenly across the shards.  A small budget gets fewer shards (never less
 * than CACHE_SHARD_MIN bytes each, unless the whole budget is smaller),
 * so that a shard can hold at least a few blocks of the usual 4 KiB.
 *
 * Entries are pinned while handed out.  The LRU list holds only the
 * entries that are in the table and unpinned: those are the candidates
 * for eviction.  A pinned entry is never evicted, since dropping it would
 * free no memory while a reader still holds it; when its last pin goes
 * it joins the LRU front and the shard evicts down to its budget.  An
 * entry that never entered the table (budget 0, or a block larger than
 * its shard's whole budget) is freed at its last release.
 *
 * Each entry costs its block's length plus the entry's own size against
 * the budget, and the bytes the statistics report are those of the
 * entries in the table, pinned or not.  A hit allocates nothing: it takes the
 * shard lock, bumps a pin count and, for an unpinned entry, unlinks it from the
 * LRU list.
 */
#include "lsm_cache.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SHARDS_MAX  16
#define CACHE_SHARD_MIN	  (32u * 1024)
#define CACHE_BUCKETS_MIN 64
#define CACHE_LINE	  64

struct cache_link {
	struct cache_link *prev, *next;
};

struct cache_entry {
	struct lsm_cblock blk; /* first: a released block maps back here */
	struct cache_entry *hnext;
	struct cache_link lru; /* linked only while in the table, unpinned */
	uint64_t sst, off, hash;
	size_t charge;
	uint32_t pins;
	bool in_table;
};

struct cache_shard {
	_Alignas(CACHE_LINE) pthread_mutex_t mu;
	struct cache_entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	size_t usage, budget;
	struct cache_link lru; /* next: most recently released */
	_Atomic uint64_t hits, misses, evictions;
};

struct lsm_block_cache {
	unsigned shard_bits;
	struct cache_shard shard[CACHE_SHARDS_MAX];
};

/* The 64-bit finalizer of MurmurHash3: every input bit reaches every
 * output bit, so sequential ids and aligned offsets spread evenly. */
static uint64_t cache_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t cache_hash(uint64_t sst, uint64_t off)
{
	return cache_mix(sst * 0x9e3779b97f4a7c15ULL + cache_mix(off));
}

/* The top bits pick the shard; the low bits pick the bucket. */
static struct cache_shard *cache_shard_of(struct lsm_block_cache *c,
					  uint64_t hash)
{
	if (c->shard_bits == 0)
		return &c->shard[0];
	return &c->shard[hash >> (64 - c->shard_bits)];
}

static void cache_link_remove(struct cache_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = l;
}

static void cache_link_push_front(struct cache_link *head, struct cache_link *l)
{
	l->next = head->next;
	l->prev = head;
	head->next->prev = l;
	head->next = l;
}

static struct cache_entry *cache_entry_of_lru(struct cache_link *l)
{
	return (struct cache_entry *)((char *)l -
				      offsetof(struct cache_entry, lru));
}

static struct cache_entry **cache_bucket(struct cache_shard *s, uint64_t hash)
{
	return &s->buckets[hash & (s->nbuckets - 1)];
}

static struct cache_entry *cache_find(struct cache_shard *s, uint64_t hash,
				      uint64_t sst, uint64_t off)
{
	struct cache_entry *e = *cache_bucket(s, hash);

	while (e != NULL && (e->hash != hash || e->sst != sst || e->off != off))
		e = e->hnext;
	return e;
}

/* Doubles the table once the chains average more than one entry.  When
 * memory is short the table keeps its size: lookups get slower, not
 * wrong. */
static void cache_grow(struct cache_shard *s)
{
	size_t n = s->nbuckets * 2;
	struct cache_entry **b;

	if (s->count <= s->nbuckets)
		return;
	b = calloc(n, sizeof(*b));
	if (b == NULL)
		return;
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct cache_entry *e = s->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

static void cache_unhash(struct cache_shard *s, struct cache_entry *e)
{
	struct cache_entry **p = cache_bucket(s, e->hash);

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	e->in_table = false;
	s->count--;
	s->usage -= e->charge;
}

/* Evicts unpinned entries, least recently released first, until the
 * shard is within budget.  The victims are chained on *dead, to be freed
 * after the lock is dropped. */
static void cache_evict(struct cache_shard *s, struct cache_entry **dead)
{
	while (s->usage > s->budget && s->lru.prev != &s->lru) {
		struct cache_entry *e = cache_entry_of_lru(s->lru.prev);

		cache_link_remove(&e->lru);
		cache_unhash(s, e);
		e->hnext = *dead;
		*dead = e;
		atomic_fetch_add_explicit(&s->evictions, 1,
					  memory_order_relaxed);
	}
}

static void cache_entries_free(struct cache_entry *e)
{
	while (e != NULL) {
		struct cache_entry *next = e->hnext;

		free((void *)e->blk.data);
		free(e);
		e = next;
	}
}

static int cache_shard_init(struct cache_shard *s, size_t budget)
{
	s->buckets = calloc(CACHE_BUCKETS_MIN, sizeof(*s->buckets));
	if (s->buckets == NULL)
		return -ENOMEM;
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		free(s->buckets);
		return -ENOMEM;
	}
	s->nbuckets = CACHE_BUCKETS_MIN;
	s->budget = budget;
	s->lru.prev = s->lru.next = &s->lru;
	return 0;
}

static void cache_shard_fini(struct cache_shard *s)
{
	for (size_t i = 0; i < s->nbuckets; i++) {
		/* Every block must have been released. */
		for (struct cache_entry *e = s->buckets[i]; e; e = e->hnext)
			assert(e->pins == 0);
		cache_entries_free(s->buckets[i]);
	}
	free(s->buckets);
	pthread_mutex_destroy(&s->mu);
}

/* Halves the shard count while a shard would get less than
 * CACHE_SHARD_MIN. */
static unsigned cache_shard_bits_pick(size_t budget)
{
	unsigned bits = 4;

	while (bits > 0 && budget >> bits < CACHE_SHARD_MIN)
		bits--;
	return bits;
}

int lsm_block_cache_new(size_t budget, struct lsm_block_cache **out)
{
	struct lsm_block_cache *c;
	unsigned n;

	/* The shards are aligned to cache lines, so the whole must be. */
	c = aligned_alloc(_Alignof(struct lsm_block_cache), sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	memset(c, 0, sizeof(*c));
	c->shard_bits = cache_shard_bits_pick(budget);
	n = 1u << c->shard_bits;
	for (unsigned i = 0; i < n; i++) {
		if (cache_shard_init(&c->shard[i], budget / n) < 0) {
			while (i-- > 0)
				cache_shard_fini(&c->shard[i]);
			free(c);
			return -ENOMEM;
		}
	}
	*out = c;
	return 0;
}

void lsm_block_cache_free(struct lsm_block_cache *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < 1u << c->shard_bits; i++)
		cache_shard_fini(&c->shard[i]);
	free(c);
}

const struct lsm_cblock *lsm_block_cache_get(struct lsm_block_cache *c,
					     uint64_t sst, uint64_t off)
{
	uint64_t hash = cache_hash(sst, off);
	struct cache_shard *s = cache_shard_of(c, hash);
	struct cache_entry *e;

	pthread_mutex_lock(&s->mu);
	e = cache_find(s, hash, sst, off);
	if (e != NULL && e->pins++ == 0)
		cache_link_remove(&e->lru);
	pthread_mutex_unlock(&s->mu);
	atomic_fetch_add_explicit(e != NULL ? &s->hits : &s->misses, 1,
				  memory_order_relaxed);
	return e != NULL ? &e->blk : NULL;
}

/* Puts the new, pinned entry e in the table unless it could never fit;
 * evicts to make room. */
static void cache_insert(struct cache_shard *s, struct cache_entry *e,
			 struct cache_entry **dead)
{
	struct cache_entry **b;

	if (e->charge > s->budget)
		return;
	cache_grow(s);
	b = cache_bucket(s, e->hash);
	e->hnext = *b;
	*b = e;
	e->in_table = true;
	s->count++;
	s->usage += e->charge;
	cache_evict(s, dead);
}

const struct lsm_cblock *lsm_block_cache_put(struct lsm_block_cache *c,
					     uint64_t sst, uint64_t off,
					     uint8_t *data, size_t len)
{
	uint64_t hash = cache_hash(sst, off);
	struct cache_shard *s = cache_shard_of(c, hash);
	struct cache_entry *e = malloc(sizeof(*e)), *old, *dead = NULL;

	if (e == NULL) {
		free(data);
		return NULL;
	}
	*e = (struct cache_entry){ .blk = { data, len },
				   .lru = { &e->lru, &e->lru },
				   .sst = sst,
				   .off = off,
				   .hash = hash,
				   .charge = len + sizeof(*e),
				   .pins = 1 };
	pthread_mutex_lock(&s->mu);
	old = cache_find(s, hash, sst, off);
	if (old != NULL) {
		if (old->pins++ == 0)
			cache_link_remove(&old->lru);
	} else {
		cache_insert(s, e, &dead);
	}
	pthread_mutex_unlock(&s->mu);
	cache_entries_free(dead);
	if (old == NULL)
		return &e->blk;
	e->hnext = NULL;
	cache_entries_free(e);
	return &old->blk;
}

void lsm_block_cache_release(struct lsm_block_cache *c,
			     const struct lsm_cblock *b)
{
	/* blk is the first member, so the block's address is the entry's. */
	struct cache_entry *e = (struct cache_entry *)b, *dead = NULL;
	struct cache_shard *s;

	if (b == NULL)
		return;
	s = cache_shard_of(c, e->hash);
	pthread_mutex_lock(&s->mu);
	assert(e->pins > 0);
	if (--e->pins == 0) {
		if (e->in_table) {
			cache_link_push_front(&s->lru, &e->lru);
			cache_evict(s, &dead);
		} else {
			e->hnext = NULL;
			dead = e;
		}
	}
	pthread_mutex_unlock(&s->mu);
	cache_entries_free(dead);
}

void lsm_block_cache_stats(struct lsm_block_cache *c,
			   struct lsm_cache_stats *st)
{
	*st = (struct lsm_cache_stats){ 0 };
	for (unsigned i = 0; i < 1u << c->shard_bits; i++) {
		struct cache_shard *s = &c->shard[i];

		pthread_mutex_lock(&s->mu);
		st->bytes += s->usage;
		st->entries += s->count;
		pthread_mutex_unlock(&s->mu);
		st->hits +=
		    atomic_load_explicit(&s->hits, memory_order_relaxed);
		st->misses +=
		    atomic_load_explicit(&s->misses, memory_order_relaxed);
		st->evictions +=
		    atomic_load_explicit(&s->evictions, memory_order_relaxed);
	}
}
