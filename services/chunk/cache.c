/*
 * The chunk cache: a chained hash table on (inode, index) for lookups and
 * a doubly linked list in use order for eviction, under one mutex.  Gets
 * copy out, so no entry is ever referenced outside the lock.
 */
#include "chunk/cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_BUCKETS 8192u

struct cache_entry {
	struct cache_key key;
	struct cache_entry *hnext;	 /* hash chain */
	struct cache_entry *prev, *next; /* use order, most recent first */
	uint32_t len;
	uint8_t data[];
};

struct cache {
	pthread_mutex_t mu;
	size_t max_bytes, bytes, entries;
	struct cache_entry *head, *tail;
	struct cache_entry *buckets[CACHE_BUCKETS];
};

static size_t cache_bucket(uint64_t ino, uint64_t index)
{
	uint64_t h =
	    ino * 0x9E3779B97F4A7C15ull ^ index * 0xC2B2AE3D27D4EB4Full;

	return (size_t)((h ^ (h >> 29)) % CACHE_BUCKETS);
}

struct cache *cache_new(size_t max_bytes)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->mu, NULL);
	c->max_bytes = max_bytes;
	return c;
}

void cache_free(struct cache *c)
{
	struct cache_entry *e, *next;

	if (c == NULL)
		return;
	for (e = c->head; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static struct cache_entry **cache_slot(struct cache *c, uint64_t ino,
				       uint64_t index)
{
	struct cache_entry **p = &c->buckets[cache_bucket(ino, index)];

	while (*p != NULL && ((*p)->key.ino != ino || (*p)->key.index != index))
		p = &(*p)->hnext;
	return p;
}

static void cache_unlink(struct cache *c, struct cache_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void cache_push_front(struct cache *c, struct cache_entry *e)
{
	e->next = c->head;
	e->prev = NULL;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

/* Removes the entry from both structures and frees it; mu held. */
static void cache_remove(struct cache *c, struct cache_entry *e)
{
	struct cache_entry **p = cache_slot(c, e->key.ino, e->key.index);

	*p = e->hnext;
	cache_unlink(c, e);
	c->bytes -= e->len;
	c->entries--;
	free(e);
}

int cache_get(struct cache *c, const struct cache_key *key, void *buf,
	      uint32_t cap, uint32_t *len)
{
	struct cache_entry *e;
	int rc = -ENOENT;

	pthread_mutex_lock(&c->mu);
	e = *cache_slot(c, key->ino, key->index);
	if (e != NULL && e->key.segment == key->segment &&
	    e->key.offset == key->offset && e->len <= cap) {
		memcpy(buf, e->data, e->len);
		*len = e->len;
		cache_unlink(c, e);
		cache_push_front(c, e);
		rc = 0;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int cache_put(struct cache *c, const struct cache_key *key, const void *data,
	      uint32_t len)
{
	struct cache_entry *e, *old;

	if (len > c->max_bytes) {
		cache_drop(c, key->ino, key->index);
		return 0;
	}
	e = malloc(sizeof(*e) + len);
	if (e == NULL)
		return -ENOMEM;
	e->key = *key;
	e->len = len;
	memcpy(e->data, data, len);
	pthread_mutex_lock(&c->mu);
	old = *cache_slot(c, key->ino, key->index);
	if (old != NULL)
		cache_remove(c, old);
	while (c->bytes + len > c->max_bytes && c->tail != NULL)
		cache_remove(c, c->tail);
	e->hnext = c->buckets[cache_bucket(key->ino, key->index)];
	c->buckets[cache_bucket(key->ino, key->index)] = e;
	cache_push_front(c, e);
	c->bytes += len;
	c->entries++;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

void cache_drop(struct cache *c, uint64_t ino, uint64_t index)
{
	struct cache_entry *e;

	pthread_mutex_lock(&c->mu);
	e = *cache_slot(c, ino, index);
	if (e != NULL)
		cache_remove(c, e);
	pthread_mutex_unlock(&c->mu);
}

void cache_drop_from(struct cache *c, uint64_t ino, uint64_t first)
{
	struct cache_entry *e, *next;

	pthread_mutex_lock(&c->mu);
	for (e = c->head; e != NULL; e = next) {
		next = e->next;
		if (e->key.ino == ino && e->key.index >= first)
			cache_remove(c, e);
	}
	pthread_mutex_unlock(&c->mu);
}

size_t cache_bytes(struct cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->bytes;
	pthread_mutex_unlock(&c->mu);
	return n;
}

size_t cache_entries(struct cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->entries;
	pthread_mutex_unlock(&c->mu);
	return n;
}
