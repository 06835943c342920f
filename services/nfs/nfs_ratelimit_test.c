/*
 * The log rate limiter: the first event passes, events inside the interval
 * are counted instead, and the next line that passes reports their count.
 */
#include "nfs/nfs_gw.h"
#include "test.h"

TEST(first_event_passes_with_nothing_dropped)
{
	struct nfs_ratelimit rl = NFS_RATELIMIT_INIT(10000);
	unsigned long dropped = 99;

	CHECK(nfs_ratelimit_pass(&rl, 5, &dropped));
	CHECK_EQ(dropped, 0);
}

TEST(events_inside_the_interval_are_held_back)
{
	struct nfs_ratelimit rl = NFS_RATELIMIT_INIT(10000);
	unsigned long dropped;

	CHECK(nfs_ratelimit_pass(&rl, 1000, &dropped));
	CHECK(!nfs_ratelimit_pass(&rl, 1001, &dropped));
	CHECK(!nfs_ratelimit_pass(&rl, 10999, &dropped));
}

TEST(next_line_after_the_interval_counts_the_held_back_events)
{
	struct nfs_ratelimit rl = NFS_RATELIMIT_INIT(10000);
	unsigned long dropped;
	int i;

	CHECK(nfs_ratelimit_pass(&rl, 0, &dropped));
	for (i = 0; i < 7; i++)
		CHECK(!nfs_ratelimit_pass(&rl, 100 + i, &dropped));
	CHECK(nfs_ratelimit_pass(&rl, 10000, &dropped));
	CHECK_EQ(dropped, 7);
	CHECK(!nfs_ratelimit_pass(&rl, 10001, &dropped));
	CHECK(nfs_ratelimit_pass(&rl, 20001, &dropped));
	CHECK_EQ(dropped, 1);
}

TEST_MAIN(first_event_passes_with_nothing_dropped,
	  events_inside_the_interval_are_held_back,
	  next_line_after_the_interval_counts_the_held_back_events)
