/*
 * The memtable: a skiplist of internal keys in an arena, written by one
 * thread at a time (the engine serializes writers) and read by any number
 * of threads without a lock.  Entries are only ever added: a delete adds
 * a tombstone, an overwrite adds a newer version.  Readers pass a
 * snapshot sequence number and see nothing newer, which is how a batch
 * becomes visible all at once: the engine publishes its number only after
 * every entry of it is in.
 *
 * Adding is split so that a batch cannot fail halfway: lsm_mem_reserve
 * makes room for the whole batch (and may fail), after which lsm_mem_add
 * cannot.  A memtable is reference-counted; the last unref frees it.
 */
#ifndef ZEROFS_META_LSM_MEM_H
#define ZEROFS_META_LSM_MEM_H

#include "lsm_iter.h"

#include <stddef.h>
#include <stdint.h>

struct lsm_mem;

/* A new memtable with one reference; -ENOMEM. */
int lsm_mem_new(struct lsm_mem **out);
void lsm_mem_ref(struct lsm_mem *m);
void lsm_mem_unref(struct lsm_mem *m);

/* Makes sure the next adds of n entries with `bytes` bytes of keys and
 * values in all cannot fail; 0 or -ENOMEM. */
int lsm_mem_reserve(struct lsm_mem *m, size_t n, size_t bytes);

/* Adds one entry (kind LSM_KIND_PUT or LSM_KIND_DEL; val ignored for a
 * delete).  Writers only, one at a time, within a reservation.  A batch
 * never adds the same key twice with one sequence number. */
void lsm_mem_add(struct lsm_mem *m, uint64_t seq, uint8_t kind, const void *key,
		 size_t klen, const void *val, size_t vlen);

/* The newest entry for key with a number <= snap: 0 with *kind set, and
 * for a put *val malloc'd (owned by the caller) and *vlen; -ENOENT if the
 * memtable holds no version of key at or below snap; -ENOMEM. */
int lsm_mem_get(struct lsm_mem *m, const void *key, size_t klen, uint64_t snap,
		uint8_t *kind, void **val, size_t *vlen);

/* Bytes of arena in use (what the engine's budget counts). */
size_t lsm_mem_bytes(const struct lsm_mem *m);
uint64_t lsm_mem_count(const struct lsm_mem *m);
/* Smallest and largest sequence numbers added (0 when empty). */
uint64_t lsm_mem_min_seq(const struct lsm_mem *m);
uint64_t lsm_mem_max_seq(const struct lsm_mem *m);

/* An iterator over every entry (all versions, tombstones included) in
 * internal-key order; it holds a reference on m.  Entries added while it
 * runs may or may not be seen.  NULL when out of memory. */
struct lsm_iter *lsm_mem_iter_new(struct lsm_mem *m);

#endif
