/*
 * Tests of the WAL's byte layer: records wrapped in WAL objects, replay
 * from a chosen sequence number, and refusal of damaged objects.  The
 * barrier around it (group commit, retries, fencing) is exercised
 * through kv.h in kv_test.c, kv_fence2_test.c and kv_flaky_test.c.
 */
#include "lsm_int.h"

#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Encodes batches first..first+n-1, batch i putting key "k<i>" and, for
 * odd i, deleting key "d<i>". */
static int wal_make(uint64_t first, uint32_t n, struct wire_out *obj)
{
	struct sync_round r = { .first = first,
				.last = first + n - 1,
				.count = n };
	char k[32];
	int rc;

	for (uint32_t i = 0; i < n; i++) {
		struct kv_batch *b = kv_batch_new();
		uint64_t seq = first + i;

		snprintf(k, sizeof(k), "k%llu", (unsigned long long)seq);
		kv_batch_put(b, k, strlen(k), "value", 5);
		if (seq % 2) {
			snprintf(k, sizeof(k), "d%llu",
				 (unsigned long long)seq);
			kv_batch_del(b, k, strlen(k));
		}
		lsm_record_encode(&r.recs, seq, b);
		kv_batch_free(b);
	}
	rc = lsm_wal_encode(&r, obj);
	wire_out_free(&r.recs);
	return rc;
}

struct seen {
	uint64_t seqs[64];
	uint32_t ops[64];
	int n;
	int fail_at; /* return an error at this record (0: never) */
};

static int seen_cb(void *arg, uint64_t seq, struct wire_in *ops, uint32_t n)
{
	struct seen *s = arg;

	(void)ops;
	if (s->fail_at != 0 && (uint64_t)s->fail_at == seq)
		return -ENOMEM;
	s->seqs[s->n] = seq;
	s->ops[s->n++] = n;
	return 0;
}

TEST(a_wal_object_replays_every_record_in_order)
{
	struct wire_out obj = { 0 };
	struct seen s = { .n = 0 };
	uint64_t last = 0;

	CHECK_EQ(wal_make(10, 5, &obj), 0);
	CHECK_EQ(lsm_wal_replay(obj.p, obj.len, 10, 10, &last, seen_cb, &s), 0);
	CHECK_EQ(last, 14);
	CHECK_EQ(s.n, 5);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(s.seqs[i], 10 + (uint64_t)i);
	CHECK_EQ(s.ops[0], 1);
	CHECK_EQ(s.ops[1], 2);
	wire_out_free(&obj);
}

TEST(replay_from_a_later_number_skips_the_records_before_it)
{
	struct wire_out obj = { 0 };
	struct seen s = { .n = 0 };
	uint64_t last = 0;

	CHECK_EQ(wal_make(10, 5, &obj), 0);
	CHECK_EQ(lsm_wal_replay(obj.p, obj.len, 10, 13, &last, seen_cb, &s), 0);
	CHECK_EQ(last, 14);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(s.seqs[0], 13);
	wire_out_free(&obj);
}

TEST(an_object_under_the_wrong_first_number_is_refused)
{
	struct wire_out obj = { 0 };
	struct seen s = { .n = 0 };
	uint64_t last = 0;

	CHECK_EQ(wal_make(10, 3, &obj), 0);
	CHECK_EQ(lsm_wal_replay(obj.p, obj.len, 11, 11, &last, seen_cb, &s),
		 -EIO);
	CHECK_EQ(s.n, 0);
	wire_out_free(&obj);
}

TEST(every_truncation_and_every_flipped_byte_is_refused)
{
	struct wire_out obj = { 0 };
	uint64_t last;

	CHECK_EQ(wal_make(1, 4, &obj), 0);
	for (size_t n = 0; n < obj.len; n++) {
		struct seen s = { .n = 0 };

		CHECK_EQ(lsm_wal_replay(obj.p, n, 1, 1, &last, seen_cb, &s),
			 -EIO);
		CHECK_EQ(s.n, 0);
	}
	for (size_t i = 0; i < obj.len; i++) {
		struct seen s = { .n = 0 };

		obj.p[i] ^= 0x10;
		CHECK_EQ(
		    lsm_wal_replay(obj.p, obj.len, 1, 1, &last, seen_cb, &s),
		    -EIO);
		CHECK_EQ(s.n, 0);
		obj.p[i] ^= 0x10;
	}
	wire_out_free(&obj);
}

TEST(an_error_of_the_callback_stops_the_replay_with_it)
{
	struct wire_out obj = { 0 };
	struct seen s = { .n = 0, .fail_at = 3 };
	uint64_t last = 0;

	CHECK_EQ(wal_make(1, 5, &obj), 0);
	CHECK_EQ(lsm_wal_replay(obj.p, obj.len, 1, 1, &last, seen_cb, &s),
		 -ENOMEM);
	CHECK_EQ(s.n, 2);
	wire_out_free(&obj);
}

TEST(wal_names_carry_first_number_and_epoch_and_sort_by_first)
{
	char a[LSM_NAME_MAX], b[LSM_NAME_MAX];
	uint64_t first, epoch;

	lsm_name_wal("meta/", 9, 7, a, sizeof(a));
	lsm_name_wal("meta/", 11, 2, b, sizeof(b));
	CHECK(strcmp(a, b) < 0);
	CHECK(strcmp(b, "meta/wal/00000000000000000011-0000000002") == 0);
	CHECK_EQ(lsm_parse_wal(b + 9, &first, &epoch), 0);
	CHECK_EQ(first, 11);
	CHECK_EQ(epoch, 2);
	CHECK_EQ(lsm_parse_wal("00000000000000000011", &first, &epoch),
		 -EINVAL);
}

TEST_MAIN(a_wal_object_replays_every_record_in_order,
	  replay_from_a_later_number_skips_the_records_before_it,
	  an_object_under_the_wrong_first_number_is_refused,
	  every_truncation_and_every_flipped_byte_is_refused,
	  an_error_of_the_callback_stops_the_replay_with_it,
	  wal_names_carry_first_number_and_epoch_and_sort_by_first)
