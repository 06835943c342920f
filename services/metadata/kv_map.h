/*
 * The in-memory sorted map under the key-value engine: a skiplist of byte
 * strings in memcmp order (a shorter key before its extensions).  It has no
 * lock of its own; the engine serializes writers and lets readers share.
 *
 * Inserting is split in two so that a batch can be applied atomically:
 * kv_map_node_new allocates (and may fail) before the engine takes its
 * lock; kv_map_insert then never fails.
 */
#ifndef ZEROFS_META_KV_MAP_H
#define ZEROFS_META_KV_MAP_H

#include <stddef.h>
#include <stdint.h>

#define KV_MAP_MAX_HEIGHT 24

struct kv_map_node {
	uint8_t *key;
	size_t klen;
	uint8_t *val;
	size_t vlen;
	int height;
	struct kv_map_node *next[];
};

struct kv_map;

int kv_map_new(struct kv_map **out);
void kv_map_free(struct kv_map *m);

/* Allocates a node holding copies of key and val; the caller owns it until
 * it hands it to kv_map_insert (or frees it with kv_map_node_free). */
struct kv_map_node *kv_map_node_new(struct kv_map *m, const void *key,
				    size_t klen, const void *val, size_t vlen);
void kv_map_node_free(struct kv_map_node *n);

/* Takes ownership of n.  If the key is present its value is replaced (and
 * n is freed), else n is linked in. */
void kv_map_insert(struct kv_map *m, struct kv_map_node *n);

/* Returns 0, or -ENOENT if the key was absent. */
int kv_map_del(struct kv_map *m, const void *key, size_t klen);

/* The node of key, or NULL. */
const struct kv_map_node *kv_map_find(const struct kv_map *m, const void *key,
				      size_t klen);

/* The first node whose key is >= key (klen 0: the first node), or NULL. */
const struct kv_map_node *kv_map_seek(const struct kv_map *m, const void *key,
				      size_t klen);

static inline const struct kv_map_node *kv_map_next(const struct kv_map_node *n)
{
	return n->next[0];
}

size_t kv_map_count(const struct kv_map *m);

#endif
