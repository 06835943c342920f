/*
 * A skiplist of byte-string keys.  Each node gets a random height with
 * probability 1/4 per extra level, which keeps searches near log4(n) hops
 * and the average node small.  The head is a node with no key and the
 * maximum height.
 */
#include "kv_map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct kv_map {
	struct kv_map_node *head;
	int height;
	size_t count;
	uint64_t rng;
};

static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	/* An empty key may come with a null pointer; memcmp must not see it. */
	int c = n ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int map_height_pick(struct kv_map *m)
{
	int h = 1;

	/* xorshift64: fast, and the map's writer is single-threaded. */
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	for (uint64_t r = m->rng; h < KV_MAP_MAX_HEIGHT && (r & 3) == 0;
	     r >>= 2)
		h++;
	return h;
}

int kv_map_new(struct kv_map **out)
{
	struct kv_map *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return -ENOMEM;
	m->head = calloc(1, sizeof(*m->head) +
				KV_MAP_MAX_HEIGHT * sizeof(m->head->next[0]));
	if (m->head == NULL) {
		free(m);
		return -ENOMEM;
	}
	m->head->height = KV_MAP_MAX_HEIGHT;
	m->height = 1;
	m->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)m;
	*out = m;
	return 0;
}

void kv_map_node_free(struct kv_map_node *n)
{
	if (n == NULL)
		return;
	free(n->key);
	free(n->val);
	free(n);
}

void kv_map_free(struct kv_map *m)
{
	struct kv_map_node *n, *next;

	if (m == NULL)
		return;
	for (n = m->head->next[0]; n != NULL; n = next) {
		next = n->next[0];
		kv_map_node_free(n);
	}
	free(m->head);
	free(m);
}

struct kv_map_node *kv_map_node_new(struct kv_map *m, const void *key,
				    size_t klen, const void *val, size_t vlen)
{
	int h = map_height_pick(m);
	struct kv_map_node *n;

	n = calloc(1, sizeof(*n) + (size_t)h * sizeof(n->next[0]));
	if (n == NULL)
		return NULL;
	n->height = h;
	n->key = malloc(klen ? klen : 1);
	n->val = malloc(vlen ? vlen : 1);
	if (n->key == NULL || n->val == NULL) {
		kv_map_node_free(n);
		return NULL;
	}
	if (klen)
		memcpy(n->key, key, klen);
	if (vlen)
		memcpy(n->val, val, vlen);
	n->klen = klen;
	n->vlen = vlen;
	return n;
}

/* Fills prev[i] with the last node at level i whose key is < key. */
static void map_path_find(const struct kv_map *m, const void *key, size_t klen,
			  struct kv_map_node **prev)
{
	struct kv_map_node *x = m->head;

	for (int i = m->height - 1; i >= 0; i--) {
		while (x->next[i] != NULL &&
		       key_cmp(x->next[i]->key, x->next[i]->klen, key, klen) <
			   0)
			x = x->next[i];
		prev[i] = x;
	}
}

void kv_map_insert(struct kv_map *m, struct kv_map_node *n)
{
	struct kv_map_node *prev[KV_MAP_MAX_HEIGHT];
	struct kv_map_node *at;
	uint8_t *tmp;

	map_path_find(m, n->key, n->klen, prev);
	at = prev[0]->next[0];
	if (at != NULL && key_cmp(at->key, at->klen, n->key, n->klen) == 0) {
		tmp = at->val;
		at->val = n->val;
		at->vlen = n->vlen;
		n->val = tmp;
		kv_map_node_free(n);
		return;
	}
	for (int i = m->height; i < n->height; i++)
		prev[i] = m->head;
	if (n->height > m->height)
		m->height = n->height;
	for (int i = 0; i < n->height; i++) {
		n->next[i] = prev[i]->next[i];
		prev[i]->next[i] = n;
	}
	m->count++;
}

int kv_map_del(struct kv_map *m, const void *key, size_t klen)
{
	struct kv_map_node *prev[KV_MAP_MAX_HEIGHT];
	struct kv_map_node *at;

	map_path_find(m, key, klen, prev);
	at = prev[0]->next[0];
	if (at == NULL || key_cmp(at->key, at->klen, key, klen) != 0)
		return -ENOENT;
	for (int i = 0; i < at->height; i++)
		if (prev[i]->next[i] == at)
			prev[i]->next[i] = at->next[i];
	while (m->height > 1 && m->head->next[m->height - 1] == NULL)
		m->height--;
	kv_map_node_free(at);
	m->count--;
	return 0;
}

const struct kv_map_node *kv_map_seek(const struct kv_map *m, const void *key,
				      size_t klen)
{
	struct kv_map_node *prev[KV_MAP_MAX_HEIGHT];

	map_path_find(m, key, klen, prev);
	return prev[0]->next[0];
}

const struct kv_map_node *kv_map_find(const struct kv_map *m, const void *key,
				      size_t klen)
{
	const struct kv_map_node *n = kv_map_seek(m, key, klen);

	if (n == NULL || key_cmp(n->key, n->klen, key, klen) != 0)
		return NULL;
	return n;
}

size_t kv_map_count(const struct kv_map *m)
{
	return m->count;
}
