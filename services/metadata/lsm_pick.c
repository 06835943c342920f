/*
 * The leveled compaction picker.  It scores every level but the last,
 * tries the levels from the highest score down (1.0 or more only), and
 * returns the first set of inputs none of whose files is busy.
 *
 * Level 0 files overlap one another, and a reader takes the newer of two
 * versions from the newer file.  Compacting a newer level-0 file into
 * level 1 while an older overlapping one stays in level 0 would put the
 * newer version below the older one, so a level-0 pick is always a run of
 * files ending at the oldest: from the oldest file up to the first busy
 * one.  Every level-1 file overlapping their user-key range joins them.
 *
 * A level i >= 1 pick starts with the first file after the level's
 * cursor (wrapping to the start), so repeated compactions walk the whole
 * key space round-robin instead of grinding one hot range, adds the
 * overlapping files of level i + 1, then widens the level-i side to the
 * files inside the inputs' whole range when that stays within
 * max_input_bytes and pulls in no further level-(i + 1) file: more work
 * per compaction for the same rewrite of the level below.
 *
 * Ranges are compared by user key only: two versions of one user key
 * must never end up in two files of one level >= 1.
 */
#include "lsm_pick.h"

#include "lsm_key.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PICK_L0_TRIGGER 4
#define PICK_L1_BYTES	(UINT64_C(128) << 20)
#define PICK_FANOUT	10
#define PICK_MAX_INPUT	(UINT64_C(64) << 20)

/* A range of user keys, pointing into files' internal keys. */
struct pick_range {
	const uint8_t *lo;
	size_t lolen;
	const uint8_t *hi;
	size_t hilen;
};

/* Zero options take their defaults. */
static void pick_opts_resolve(const struct lsm_pick_opts *o,
			      struct lsm_pick_opts *r)
{
	r->l0_trigger = o && o->l0_trigger ? o->l0_trigger : PICK_L0_TRIGGER;
	r->l1_bytes = o && o->l1_bytes ? o->l1_bytes : PICK_L1_BYTES;
	r->fanout = o && o->fanout ? o->fanout : PICK_FANOUT;
	r->max_input_bytes =
	    o && o->max_input_bytes ? o->max_input_bytes : PICK_MAX_INPUT;
}

static uint64_t files_bytes(const struct lsm_file *f, size_t first, size_t end)
{
	uint64_t sum = 0;

	for (size_t i = first; i < end; i++)
		sum += f[i].size;
	return sum;
}

static double level_score(const struct lsm_manifest *m,
			  const struct lsm_pick_opts *r, int l)
{
	double target = (double)r->l1_bytes;

	if (l == 0)
		return (double)m->nfiles[0] / r->l0_trigger;
	if (l >= LSM_LEVELS - 1)
		return 0;
	for (int i = 1; i < l; i++)
		target *= r->fanout;
	return (double)files_bytes(m->files[l], 0, m->nfiles[l]) / target;
}

double lsm_pick_score(const struct lsm_manifest *m,
		      const struct lsm_pick_opts *o)
{
	struct lsm_pick_opts r;
	double best = 0;

	pick_opts_resolve(o, &r);
	for (int l = 0; l < LSM_LEVELS - 1; l++) {
		double s = level_score(m, &r, l);

		if (s > best)
			best = s;
	}
	return best;
}

static int id_busy(uint64_t id, const uint64_t *busy, size_t nbusy)
{
	for (size_t i = 0; i < nbusy; i++)
		if (busy[i] == id)
			return 1;
	return 0;
}

static int files_busy(const struct lsm_file *f, size_t first, size_t end,
		      const uint64_t *busy, size_t nbusy)
{
	for (size_t i = first; i < end; i++)
		if (id_busy(f[i].id, busy, nbusy))
			return 1;
	return 0;
}

static void range_extend(struct pick_range *r, const struct lsm_file *f)
{
	size_t lo = lsm_ikey_ulen(f->smallest_len);
	size_t hi = lsm_ikey_ulen(f->largest_len);

	if (r->lo == NULL ||
	    lsm_ukey_cmp(f->smallest, lo, r->lo, r->lolen) < 0) {
		r->lo = f->smallest;
		r->lolen = lo;
	}
	if (r->hi == NULL ||
	    lsm_ukey_cmp(f->largest, hi, r->hi, r->hilen) > 0) {
		r->hi = f->largest;
		r->hilen = hi;
	}
}

static void range_of(struct pick_range *r, const struct lsm_file *f,
		     size_t first, size_t end)
{
	for (size_t i = first; i < end; i++)
		range_extend(r, &f[i]);
}

static int file_overlaps(const struct lsm_file *f, const struct pick_range *r)
{
	return lsm_ukey_cmp(f->largest, lsm_ikey_ulen(f->largest_len), r->lo,
			    r->lolen) >= 0 &&
	       lsm_ukey_cmp(f->smallest, lsm_ikey_ulen(f->smallest_len), r->hi,
			    r->hilen) <= 0;
}

/* The files of level l >= 1 that overlap r: [*first, *end), contiguous
 * because the level is sorted and disjoint. */
static void level_overlap(const struct lsm_manifest *m, int l,
			  const struct pick_range *r, size_t *first,
			  size_t *end)
{
	const struct lsm_file *f = m->files[l];
	size_t n = m->nfiles[l], i = 0;

	while (i < n && !file_overlaps(&f[i], r) &&
	       lsm_ukey_cmp(f[i].smallest, lsm_ikey_ulen(f[i].smallest_len),
			    r->hi, r->hilen) <= 0)
		i++;
	*first = i;
	while (i < n && file_overlaps(&f[i], r))
		i++;
	*end = i;
}

/* 1 when no level below level + 1 holds a key in r. */
static int range_bottommost(const struct lsm_manifest *m, int level,
			    const struct pick_range *r)
{
	for (int l = level + 2; l < LSM_LEVELS; l++)
		for (size_t i = 0; i < m->nfiles[l]; i++)
			if (file_overlaps(&m->files[l][i], r))
				return 0;
	return 1;
}

/* c->in[side] = first, first + 1, ..., end - 1 (malloc'd). */
static int comp_inputs_set(struct lsm_compaction *c, int side, size_t first,
			   size_t end)
{
	c->nin[side] = 0;
	c->in[side] = NULL;
	if (end == first)
		return 0;
	c->in[side] = malloc((end - first) * sizeof(size_t));
	if (c->in[side] == NULL)
		return -ENOMEM;
	for (size_t i = first; i < end; i++)
		c->in[side][i - first] = i;
	c->nin[side] = end - first;
	return 0;
}

/* Fills c with level's [a0, e0) and level + 1's [a1, e1): 1 or -ENOMEM. */
static int comp_fill(const struct lsm_manifest *m, int level, size_t a0,
		     size_t e0, size_t a1, size_t e1, struct lsm_compaction *c)
{
	struct pick_range r = { 0 };

	c->level = level;
	if (comp_inputs_set(c, 0, a0, e0) < 0 ||
	    comp_inputs_set(c, 1, a1, e1) < 0) {
		lsm_compaction_clear(c);
		return -ENOMEM;
	}
	range_of(&r, m->files[level], a0, e0);
	range_of(&r, m->files[level + 1], a1, e1);
	c->bottommost = range_bottommost(m, level, &r);
	return 1;
}

static int pick_l0(const struct lsm_manifest *m, const uint64_t *busy,
		   size_t nbusy, struct lsm_compaction *c)
{
	const struct lsm_file *f = m->files[0];
	size_t n = m->nfiles[0], k = n, first, end;
	struct pick_range r = { 0 };

	while (k > 0 && !id_busy(f[k - 1].id, busy, nbusy))
		k--;
	if (k == n)
		return 0;
	range_of(&r, f, k, n);
	level_overlap(m, 1, &r, &first, &end);
	if (files_busy(m->files[1], first, end, busy, nbusy))
		return 0;
	return comp_fill(m, 0, k, n, first, end, c);
}

/* Widens level l's inputs [*a, *e) to the files inside the whole range
 * of both sides, if that is within the byte budget, touches no busy
 * file and leaves level l + 1's inputs [a1, e1) as they are. */
static void pick_expand(const struct lsm_manifest *m,
			const struct lsm_pick_opts *r, int l, size_t *a,
			size_t *e, size_t a1, size_t e1, const uint64_t *busy,
			size_t nbusy)
{
	struct pick_range all = { 0 }, upper = { 0 };
	size_t xa, xe, ya, ye;

	range_of(&all, m->files[l], *a, *e);
	range_of(&all, m->files[l + 1], a1, e1);
	level_overlap(m, l, &all, &xa, &xe);
	if (xe - xa <= *e - *a ||
	    files_bytes(m->files[l], xa, xe) > r->max_input_bytes ||
	    files_busy(m->files[l], xa, xe, busy, nbusy))
		return;
	range_of(&upper, m->files[l], xa, xe);
	level_overlap(m, l + 1, &upper, &ya, &ye);
	if (ya != a1 || ye != e1)
		return;
	*a = xa;
	*e = xe;
}

/* Tries file i of level l as the seed: 1 (c filled), 0 or -ENOMEM. */
static int pick_level_try(const struct lsm_manifest *m,
			  const struct lsm_pick_opts *r, int l, size_t i,
			  const uint64_t *busy, size_t nbusy,
			  struct lsm_compaction *c)
{
	struct pick_range seed = { 0 };
	size_t a = i, e = i + 1, a1, e1;

	if (id_busy(m->files[l][i].id, busy, nbusy))
		return 0;
	range_of(&seed, m->files[l], a, e);
	level_overlap(m, l + 1, &seed, &a1, &e1);
	if (files_busy(m->files[l + 1], a1, e1, busy, nbusy))
		return 0;
	pick_expand(m, r, l, &a, &e, a1, e1, busy, nbusy);
	return comp_fill(m, l, a, e, a1, e1, c);
}

/* The first file of level l whose user keys lie after the cursor's; 0
 * when there is none (the walk wraps) or no cursor. */
static size_t cursor_start(const struct lsm_manifest *m,
			   const struct lsm_pick_cursor *cur, int l)
{
	const struct lsm_file *f = m->files[l];

	if (cur == NULL || cur->key[l] == NULL || cur->len[l] < LSM_TRAILER)
		return 0;
	for (size_t i = 0; i < m->nfiles[l]; i++)
		if (lsm_ukey_cmp(f[i].largest, lsm_ikey_ulen(f[i].largest_len),
				 cur->key[l], lsm_ikey_ulen(cur->len[l])) > 0)
			return i;
	return 0;
}

/* The cursor moves to the largest key of the last level-l input. */
static int cursor_advance(const struct lsm_manifest *m,
			  struct lsm_pick_cursor *cur, int l,
			  const struct lsm_compaction *c)
{
	const struct lsm_file *f;
	uint8_t *k;

	if (cur == NULL)
		return 0;
	f = &m->files[l][c->in[0][c->nin[0] - 1]];
	k = malloc(f->largest_len);
	if (k == NULL)
		return -ENOMEM;
	memcpy(k, f->largest, f->largest_len);
	free(cur->key[l]);
	cur->key[l] = k;
	cur->len[l] = f->largest_len;
	return 0;
}

static int pick_level(const struct lsm_manifest *m,
		      const struct lsm_pick_opts *r,
		      struct lsm_pick_cursor *cur, int l, const uint64_t *busy,
		      size_t nbusy, struct lsm_compaction *c)
{
	size_t n = m->nfiles[l], start = cursor_start(m, cur, l);
	int rc = 0;

	for (size_t t = 0; t < n && rc == 0; t++)
		rc = pick_level_try(m, r, l, (start + t) % n, busy, nbusy, c);
	if (rc > 0 && cursor_advance(m, cur, l, c) < 0) {
		lsm_compaction_clear(c);
		rc = -ENOMEM;
	}
	return rc;
}

/* Levels by descending score, the upper level first on ties. */
static void levels_by_score(const double *score, int *order)
{
	for (int i = 0; i < LSM_LEVELS; i++) {
		int j = i;

		while (j > 0 && score[order[j - 1]] < score[i]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
}

/* c's previous contents are overwritten, not freed. */
int lsm_pick(const struct lsm_manifest *m, const struct lsm_pick_opts *o,
	     struct lsm_pick_cursor *cur, const uint64_t *busy, size_t nbusy,
	     struct lsm_compaction *c)
{
	struct lsm_pick_opts r;
	double score[LSM_LEVELS];
	int order[LSM_LEVELS];

	memset(c, 0, sizeof(*c));
	pick_opts_resolve(o, &r);
	for (int l = 0; l < LSM_LEVELS; l++)
		score[l] = level_score(m, &r, l);
	levels_by_score(score, order);
	for (int k = 0; k < LSM_LEVELS && score[order[k]] >= 1.0; k++) {
		int l = order[k], rc;

		rc = l == 0 ? pick_l0(m, busy, nbusy, c)
			    : pick_level(m, &r, cur, l, busy, nbusy, c);
		if (rc > 0)
			c->score = score[l];
		if (rc != 0)
			return rc;
	}
	return 0;
}

void lsm_compaction_clear(struct lsm_compaction *c)
{
	free(c->in[0]);
	free(c->in[1]);
	memset(c, 0, sizeof(*c));
}

void lsm_pick_cursor_clear(struct lsm_pick_cursor *cur)
{
	for (int l = 0; l < LSM_LEVELS; l++)
		free(cur->key[l]);
	memset(cur, 0, sizeof(*cur));
}
