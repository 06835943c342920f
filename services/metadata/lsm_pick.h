/*
 * The compaction picker: a pure function from the tree's shape to the
 * next compaction worth running.  Leveled (FORMAT.md argues why): level 0
 * holds whole flushed memtables and is compacted into level 1 once it has
 * l0_trigger files; level i >= 1 is compacted into i + 1 once it holds
 * more than l1_bytes * fanout^(i-1) bytes.  The level with the highest
 * score (its size over its target) goes first.
 */
#ifndef ZEROFS_META_LSM_PICK_H
#define ZEROFS_META_LSM_PICK_H

#include "lsm_manifest.h"

#include <stddef.h>
#include <stdint.h>

struct lsm_pick_opts {
	uint32_t l0_trigger; /* [4] */
	uint64_t l1_bytes;   /* [128 MiB] */
	uint32_t fanout;     /* [10] */
	/* Most bytes of input files of the upper level at i >= 1 [64 MiB]. */
	uint64_t max_input_bytes;
};

/* Where each level's round-robin left off (an internal key, the largest
 * of the last file compacted out of it); the caller keeps it between
 * calls and the picker advances it. */
struct lsm_pick_cursor {
	uint8_t *key[LSM_LEVELS]; /* malloc'd, NULL: from the start */
	size_t len[LSM_LEVELS];
};

struct lsm_compaction {
	int level; /* inputs from level and level + 1 */
	/* Indexes into m->files[level] and m->files[level + 1], ascending;
	 * malloc'd. */
	size_t *in[2];
	size_t nin[2];
	/* 1 when no level below level + 1 holds a key in the inputs' range,
	 * so tombstones and shadowed versions may be dropped. */
	int bottommost;
	double score;
};

/* Picks the most urgent compaction whose files are none of busy[]
 * (ids of files in compactions already running): 1 with *c filled, 0
 * when nothing is due, -ENOMEM. */
int lsm_pick(const struct lsm_manifest *m, const struct lsm_pick_opts *o,
	     struct lsm_pick_cursor *cur, const uint64_t *busy, size_t nbusy,
	     struct lsm_compaction *c);
void lsm_compaction_clear(struct lsm_compaction *c);
void lsm_pick_cursor_clear(struct lsm_pick_cursor *cur);

/* The highest level score (1.0 or more: a compaction is due). */
double lsm_pick_score(const struct lsm_manifest *m,
		      const struct lsm_pick_opts *o);

#endif
