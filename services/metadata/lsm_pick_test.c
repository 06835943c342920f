/*
 * Tests of the compaction picker on hand-built trees: when a compaction
 * is due and which level goes first, which files a pick takes (the oldest
 * of level 0, the overlapping files below, a widened upper side), busy
 * files, bottommost detection and the round-robin cursor.
 */
#include "lsm_pick.h"

#include "lsm_key.h"
#include "test.h"

#include <errno.h>

/* Small targets: level 1 holds 1000 bytes, level 2 10000, and so on. */
static const struct lsm_pick_opts opts = {
	.l0_trigger = 4,
	.l1_bytes = 1000,
	.fanout = 10,
	.max_input_bytes = 500,
};

/* Adds a file of user keys lo..hi with sequence numbers up to seq. */
static void put(struct lsm_manifest *m, int level, uint64_t id, const char *lo,
		const char *hi, uint64_t seq, uint64_t size)
{
	size_t ln = strlen(lo), hn = strlen(hi);
	uint8_t s[64], l[64];
	struct lsm_file f = {
		.id = id,
		.size = size,
		.entries = 1,
		.min_seq = seq,
		.max_seq = seq,
		.smallest = s,
		.smallest_len = lsm_ikey_make(s, lo, ln, seq, LSM_KIND_PUT),
		.largest = l,
		.largest_len = lsm_ikey_make(l, hi, hn, seq, LSM_KIND_PUT),
	};
	struct lsm_edit_add a = { .level = level, .file = &f };
	struct lsm_edit e = { .add = &a, .nadd = 1 };

	CHECK_EQ(lsm_manifest_apply(m, &e), 0);
	if (m->next_file <= id)
		m->next_file = id + 1;
}

/* The id of input k of side `side` of c. */
static uint64_t in_id(const struct lsm_manifest *m,
		      const struct lsm_compaction *c, int side, size_t k)
{
	return m->files[c->level + side][c->in[side][k]].id;
}

/* Level 1 with five files of 300 bytes, "b".."c", "d".."e", ... */
static void level1_five(struct lsm_manifest *m)
{
	static const char *const r[] = { "b", "c", "d", "e", "f",
					 "g", "h", "i", "j", "k" };

	for (int i = 0; i < 5; i++)
		put(m, 1, 10 + (uint64_t)i, r[2 * i], r[2 * i + 1], 1, 300);
}

TEST(nothing_is_picked_while_every_level_is_under_target)
{
	struct lsm_manifest m;
	struct lsm_compaction c;

	lsm_manifest_init(&m);
	for (uint64_t i = 1; i <= 3; i++)
		put(&m, 0, i, "a", "z", i * 10, 100);
	put(&m, 1, 4, "a", "m", 1, 999);
	put(&m, 2, 5, "a", "m", 1, 9999);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, NULL, 0, &c), 0);
	CHECK(lsm_pick_score(&m, &opts) < 1.0);
	CHECK(c.in[0] == NULL && c.in[1] == NULL);
	lsm_manifest_clear(&m);
}

TEST(level_zero_is_compacted_once_it_reaches_the_trigger)
{
	struct lsm_manifest m;
	struct lsm_compaction c;

	lsm_manifest_init(&m);
	for (uint64_t i = 1; i <= 4; i++)
		put(&m, 0, i, "a", "z", i * 10, 100);
	CHECK(lsm_pick_score(&m, &opts) == 1.0);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, NULL, 0, &c), 1);
	CHECK_EQ(c.level, 0);
	CHECK_EQ(c.nin[0], 4);
	CHECK_EQ(c.nin[1], 0);
	CHECK(c.score == 1.0);
	CHECK_EQ(c.bottommost, 1);
	lsm_compaction_clear(&c);
	lsm_manifest_clear(&m);
}

TEST(a_level_over_its_target_is_compacted_into_the_next)
{
	struct lsm_manifest m;
	struct lsm_compaction c;

	lsm_manifest_init(&m);
	put(&m, 1, 1, "a", "b", 1, 900);
	put(&m, 2, 2, "a", "b", 1, 6000);
	put(&m, 2, 3, "c", "d", 1, 6000);
	put(&m, 3, 4, "c", "c", 1, 10);
	CHECK(lsm_pick_score(&m, &opts) == 1.2);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, NULL, 0, &c), 1);
	CHECK_EQ(c.level, 2);
	CHECK_EQ(c.nin[0], 1);
	CHECK_EQ(in_id(&m, &c, 0, 0), 2);
	CHECK_EQ(c.nin[1], 0);
	lsm_compaction_clear(&c);
	lsm_manifest_clear(&m);
}

TEST(the_last_level_is_never_compacted)
{
	struct lsm_manifest m;
	struct lsm_compaction c;

	lsm_manifest_init(&m);
	put(&m, LSM_LEVELS - 1, 1, "a", "b", 1, UINT64_C(1) << 60);
	CHECK(lsm_pick_score(&m, &opts) == 0);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, NULL, 0, &c), 0);
	lsm_manifest_clear(&m);
}

TEST(the_highest_score_goes_first)
{
	struct lsm_manifest m;
	struct lsm_compaction c;

	lsm_manifest_init(&m);
	for (uint64_t i = 1; i <= 5; i++)
		put(&m, 0, i, "a", "z", i * 10, 10);
	put(&m, 1, 6, "a", "b", 1, 2000);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, NULL, 0, &c), 1);
	CHECK_EQ(c.level, 1);
	CHECK(c.score == 2.0);
	lsm_compaction_clear(&c);
	put(&m, 0, 7, "a", "z", 70, 10);
	put(&m, 0, 8, "a", "z", 80, 10);
	put(&m, 0, 9, "a", "z", 90, 10);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, NULL, 0, &c), 1);
	CHECK_EQ(c.level, 0);
	CHECK(c.score == 2.0);
	lsm_compaction_clear(&c);
	lsm_manifest_clear(&m);
}

TEST(a_level_zero_pick_takes_the_oldest_files_up_to_a_busy_one)
{
	struct lsm_manifest m;
	struct lsm_compaction c;
	uint64_t busy[] = { 3 };

	lsm_manifest_init(&m);
	for (uint64_t i = 1; i <= 6; i++)
		put(&m, 0, i, "a", "z", i * 10, 10);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, busy, 1, &c), 1);
	CHECK_EQ(c.level, 0);
	CHECK_EQ(c.nin[0], 2);
	CHECK_EQ(in_id(&m, &c, 0, 0), 2);
	CHECK_EQ(in_id(&m, &c, 0, 1), 1);
	lsm_compaction_clear(&c);
	lsm_manifest_clear(&m);
}

TEST(level_zero_is_left_alone_while_its_oldest_file_is_busy)
{
	struct lsm_manifest m;
	struct lsm_compaction c;
	uint64_t busy[] = { 1 };

	lsm_manifest_init(&m);
	for (uint64_t i = 1; i <= 6; i++)
		put(&m, 0, i, "a", "z", i * 10, 10);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, busy, 1, &c), 0);
	lsm_manifest_clear(&m);
}

TEST(overlapping_level_one_files_join_a_level_zero_pick)
{
	struct lsm_manifest m;
	struct lsm_compaction c;

	lsm_manifest_init(&m);
	put(&m, 0, 1, "c", "f", 10, 10);
	put(&m, 0, 2, "e", "h", 20, 10);
	put(&m, 0, 3, "d", "d", 30, 10);
	put(&m, 0, 4, "g", "g", 40, 10);
	put(&m, 1, 5, "a", "b", 1, 10);
	put(&m, 1, 6, "bb", "c", 1, 10);
	put(&m, 1, 7, "g", "k", 1, 10);
	put(&m, 1, 8, "m", "n", 1, 10);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, NULL, 0, &c), 1);
	CHECK_EQ(c.level, 0);
	CHECK_EQ(c.nin[0], 4);
	CHECK_EQ(c.nin[1], 2);
	CHECK_EQ(in_id(&m, &c, 1, 0), 6);
	CHECK_EQ(in_id(&m, &c, 1, 1), 7);
	lsm_compaction_clear(&c);
	lsm_manifest_clear(&m);
}

TEST(a_busy_overlapping_level_one_file_holds_back_level_zero)
{
	struct lsm_manifest m;
	struct lsm_compaction c;
	uint64_t busy[] = { 7 };

	lsm_manifest_init(&m);
	for (uint64_t i = 1; i <= 4; i++)
		put(&m, 0, i, "c", "h", i * 10, 10);
	put(&m, 1, 6, "a", "b", 1, 10);
	put(&m, 1, 7, "g", "k", 1, 10);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, busy, 1, &c), 0);
	busy[0] = 6;
	CHECK_EQ(lsm_pick(&m, &opts, NULL, busy, 1, &c), 1);
	CHECK_EQ(c.nin[1], 1);
	lsm_compaction_clear(&c);
	lsm_manifest_clear(&m);
}

TEST(busy_files_and_busy_overlaps_are_skipped_in_a_level)
{
	struct lsm_manifest m;
	struct lsm_compaction c;
	uint64_t busy[] = { 10, 21 };

	lsm_manifest_init(&m);
	level1_five(&m);
	put(&m, 2, 21, "d", "d", 1, 10);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, busy, 2, &c), 1);
	CHECK_EQ(c.level, 1);
	CHECK_EQ(c.nin[0], 1);
	CHECK_EQ(in_id(&m, &c, 0, 0), 12);
	lsm_compaction_clear(&c);
	lsm_manifest_clear(&m);
}

TEST(a_level_pick_takes_the_overlapping_files_below)
{
	struct lsm_manifest m;
	struct lsm_compaction c;

	lsm_manifest_init(&m);
	level1_five(&m);
	put(&m, 2, 20, "a", "a", 1, 10);
	put(&m, 2, 21, "bb", "bc", 1, 10);
	put(&m, 2, 22, "bd", "cc", 1, 10);
	put(&m, 2, 23, "d", "d", 1, 10);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, NULL, 0, &c), 1);
	CHECK_EQ(c.level, 1);
	CHECK_EQ(c.nin[0], 1);
	CHECK_EQ(in_id(&m, &c, 0, 0), 10);
	CHECK_EQ(c.nin[1], 2);
	CHECK_EQ(in_id(&m, &c, 1, 0), 21);
	CHECK_EQ(in_id(&m, &c, 1, 1), 22);
	lsm_compaction_clear(&c);
	lsm_manifest_clear(&m);
}

TEST(the_upper_side_widens_within_the_byte_budget)
{
	struct lsm_manifest m;
	struct lsm_compaction c;
	struct lsm_pick_opts wide = opts;

	lsm_manifest_init(&m);
	put(&m, 1, 1, "b", "c", 1, 200);
	put(&m, 1, 2, "d", "e", 1, 200);
	put(&m, 1, 3, "f", "g", 1, 200);
	put(&m, 1, 4, "x", "y", 1, 500);
	put(&m, 2, 5, "a", "ee", 1, 10);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, NULL, 0, &c), 1);
	CHECK_EQ(c.nin[0], 2);
	CHECK_EQ(in_id(&m, &c, 0, 1), 2);
	CHECK_EQ(c.nin[1], 1);
	lsm_compaction_clear(&c);
	wide.max_input_bytes = 399;
	CHECK_EQ(lsm_pick(&m, &wide, NULL, NULL, 0, &c), 1);
	CHECK_EQ(c.nin[0], 1);
	lsm_compaction_clear(&c);
	lsm_manifest_clear(&m);
}

TEST(bottommost_says_whether_a_deeper_level_holds_the_range)
{
	struct lsm_manifest m;
	struct lsm_compaction c;

	lsm_manifest_init(&m);
	put(&m, 1, 1, "b", "d", 1, 2000);
	put(&m, 2, 2, "a", "c", 1, 10);
	put(&m, 3, 3, "x", "y", 1, 10);
	put(&m, 5, 4, "e", "f", 1, 10);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, NULL, 0, &c), 1);
	CHECK_EQ(c.bottommost, 1);
	lsm_compaction_clear(&c);
	/* "a" lies in the inputs' range only through level 2's file. */
	put(&m, 4, 5, "a", "a", 1, 10);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, NULL, 0, &c), 1);
	CHECK_EQ(c.bottommost, 0);
	lsm_compaction_clear(&c);
	lsm_manifest_clear(&m);
}

TEST(bottommost_of_a_level_zero_pick_looks_below_level_one)
{
	struct lsm_manifest m;
	struct lsm_compaction c;

	lsm_manifest_init(&m);
	for (uint64_t i = 1; i <= 4; i++)
		put(&m, 0, i, "c", "h", i * 10, 10);
	put(&m, 1, 5, "a", "z", 1, 10);
	put(&m, 2, 6, "zz", "zz", 1, 10);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, NULL, 0, &c), 1);
	CHECK_EQ(c.bottommost, 1);
	lsm_compaction_clear(&c);
	put(&m, 2, 7, "y", "y", 1, 10);
	CHECK_EQ(lsm_pick(&m, &opts, NULL, NULL, 0, &c), 1);
	CHECK_EQ(c.bottommost, 0);
	lsm_compaction_clear(&c);
	lsm_manifest_clear(&m);
}

TEST(the_cursor_walks_round_robin_through_a_level)
{
	struct lsm_manifest m;
	struct lsm_compaction c;
	struct lsm_pick_cursor cur = { 0 };
	static const uint64_t want[] = { 10, 11, 12, 13, 14, 10, 11 };

	lsm_manifest_init(&m);
	level1_five(&m);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK_EQ(lsm_pick(&m, &opts, &cur, NULL, 0, &c), 1);
		CHECK_EQ(c.nin[0], 1);
		CHECK_EQ(in_id(&m, &c, 0, 0), want[i]);
		lsm_compaction_clear(&c);
	}
	lsm_pick_cursor_clear(&cur);
	lsm_manifest_clear(&m);
}

TEST(the_cursor_resumes_after_its_key_when_the_level_changed)
{
	struct lsm_edit_del d = { .level = 1, .id = 10 };
	struct lsm_edit del10 = { .del = &d, .ndel = 1 };
	struct lsm_manifest m;
	struct lsm_compaction c;
	struct lsm_pick_cursor cur = { 0 };

	lsm_manifest_init(&m);
	level1_five(&m);
	CHECK_EQ(lsm_pick(&m, &opts, &cur, NULL, 0, &c), 1);
	CHECK_EQ(in_id(&m, &c, 0, 0), 10);
	lsm_compaction_clear(&c);
	CHECK_EQ(lsm_manifest_apply(&m, &del10), 0);
	put(&m, 1, 30, "ca", "cb", 1, 300);
	put(&m, 1, 31, "a", "a", 1, 300);
	CHECK_EQ(lsm_pick(&m, &opts, &cur, NULL, 0, &c), 1);
	CHECK_EQ(in_id(&m, &c, 0, 0), 30);
	lsm_compaction_clear(&c);
	lsm_pick_cursor_clear(&cur);
	lsm_manifest_clear(&m);
}

TEST(zero_options_take_the_defaults)
{
	struct lsm_manifest m;
	struct lsm_pick_opts zero = { 0 };
	struct lsm_compaction c;

	lsm_manifest_init(&m);
	put(&m, 1, 1, "a", "b", 1, UINT64_C(128) << 20);
	put(&m, 2, 2, "a", "b", 1, UINT64_C(640) << 20);
	CHECK(lsm_pick_score(&m, &zero) == 1.0);
	CHECK(lsm_pick_score(&m, NULL) == 1.0);
	for (uint64_t i = 3; i <= 5; i++)
		put(&m, 0, i, "a", "z", i * 10, 10);
	CHECK(lsm_pick_score(&m, &zero) == 1.0);
	put(&m, 0, 6, "a", "z", 60, 10);
	put(&m, 0, 7, "a", "z", 70, 10);
	CHECK(lsm_pick_score(&m, &zero) == 1.25);
	CHECK_EQ(lsm_pick(&m, &zero, NULL, NULL, 0, &c), 1);
	CHECK_EQ(c.level, 0);
	lsm_compaction_clear(&c);
	lsm_manifest_clear(&m);
}

TEST_MAIN(nothing_is_picked_while_every_level_is_under_target,
	  level_zero_is_compacted_once_it_reaches_the_trigger,
	  a_level_over_its_target_is_compacted_into_the_next,
	  the_last_level_is_never_compacted, the_highest_score_goes_first,
	  a_level_zero_pick_takes_the_oldest_files_up_to_a_busy_one,
	  level_zero_is_left_alone_while_its_oldest_file_is_busy,
	  overlapping_level_one_files_join_a_level_zero_pick,
	  a_busy_overlapping_level_one_file_holds_back_level_zero,
	  busy_files_and_busy_overlaps_are_skipped_in_a_level,
	  a_level_pick_takes_the_overlapping_files_below,
	  the_upper_side_widens_within_the_byte_budget,
	  bottommost_says_whether_a_deeper_level_holds_the_range,
	  bottommost_of_a_level_zero_pick_looks_below_level_one,
	  the_cursor_walks_round_robin_through_a_level,
	  the_cursor_resumes_after_its_key_when_the_level_changed,
	  zero_options_take_the_defaults)
