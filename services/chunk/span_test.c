/*
 * Unit tests of chunk range arithmetic at every boundary: ranges inside
 * one chunk, on chunk edges, across chunks, and read clamping.
 */
#include "chunk/span.h"

#include "test.h"

TEST(an_empty_range_touches_no_chunk)
{
	CHECK_EQ(span_count(100, 0, 64), 0);
}

TEST(a_range_inside_one_chunk_touches_one)
{
	struct span s;

	CHECK_EQ(span_count(10, 20, 64), 1);
	span_at(10, 20, 64, 0, &s);
	CHECK_EQ(s.index, 0);
	CHECK_EQ(s.off, 10);
	CHECK_EQ(s.len, 20);
	CHECK_EQ(s.pos, 0);
}

TEST(a_whole_aligned_chunk_is_one_full_span)
{
	struct span s;

	CHECK_EQ(span_count(128, 64, 64), 1);
	span_at(128, 64, 64, 0, &s);
	CHECK_EQ(s.index, 2);
	CHECK_EQ(s.off, 0);
	CHECK_EQ(s.len, 64);
}

TEST(a_range_ending_on_a_boundary_does_not_touch_the_next_chunk)
{
	CHECK_EQ(span_count(0, 64, 64), 1);
	CHECK_EQ(span_count(63, 1, 64), 1);
	CHECK_EQ(span_count(63, 2, 64), 2);
}

TEST(a_range_across_chunks_splits_at_each_boundary)
{
	struct span s;

	CHECK_EQ(span_count(60, 140, 64), 4);
	span_at(60, 140, 64, 0, &s);
	CHECK_EQ(s.index, 0);
	CHECK_EQ(s.off, 60);
	CHECK_EQ(s.len, 4);
	span_at(60, 140, 64, 1, &s);
	CHECK_EQ(s.index, 1);
	CHECK_EQ(s.off, 0);
	CHECK_EQ(s.len, 64);
	CHECK_EQ(s.pos, 4);
	span_at(60, 140, 64, 3, &s);
	CHECK_EQ(s.index, 3);
	CHECK_EQ(s.off, 0);
	CHECK_EQ(s.len, 8);
	CHECK_EQ(s.pos, 132);
}

TEST(a_read_past_the_end_returns_nothing_and_eof)
{
	uint32_t n = 9;
	int eof = 0;

	span_read_clamp(100, 10, 100, &n, &eof);
	CHECK_EQ(n, 0);
	CHECK_EQ(eof, 1);
}

TEST(a_read_across_the_end_is_cut_and_reports_eof)
{
	uint32_t n;
	int eof;

	span_read_clamp(90, 20, 100, &n, &eof);
	CHECK_EQ(n, 10);
	CHECK_EQ(eof, 1);
}

TEST(a_read_ending_exactly_at_the_end_reports_eof)
{
	uint32_t n;
	int eof;

	span_read_clamp(90, 10, 100, &n, &eof);
	CHECK_EQ(n, 10);
	CHECK_EQ(eof, 1);
}

TEST(a_read_before_the_end_is_whole_without_eof)
{
	uint32_t n;
	int eof;

	span_read_clamp(0, 10, 100, &n, &eof);
	CHECK_EQ(n, 10);
	CHECK_EQ(eof, 0);
}

TEST(chunks_for_a_size_round_up)
{
	CHECK_EQ(span_chunks_for(0, 64), 0);
	CHECK_EQ(span_chunks_for(1, 64), 1);
	CHECK_EQ(span_chunks_for(64, 64), 1);
	CHECK_EQ(span_chunks_for(65, 64), 2);
}

TEST_MAIN(an_empty_range_touches_no_chunk, a_range_inside_one_chunk_touches_one,
	  a_whole_aligned_chunk_is_one_full_span,
	  a_range_ending_on_a_boundary_does_not_touch_the_next_chunk,
	  a_range_across_chunks_splits_at_each_boundary,
	  a_read_past_the_end_returns_nothing_and_eof,
	  a_read_across_the_end_is_cut_and_reports_eof,
	  a_read_ending_exactly_at_the_end_reports_eof,
	  a_read_before_the_end_is_whole_without_eof,
	  chunks_for_a_size_round_up)
