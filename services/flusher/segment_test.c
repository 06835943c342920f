/*
 * Unit tests of the segment layout: appending, sealing, the footer's
 * checks, and reads of appended frames.
 */
#include "flusher/segment.h"

#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct segment *segment_with_two_frames(void)
{
	struct segment *seg = segment_new(0x100000002ull);
	uint32_t off;

	segment_append(seg, "hello", 5, &off);
	segment_append(seg, "world!", 6, &off);
	return seg;
}

TEST(frames_are_placed_back_to_back)
{
	struct segment *seg = segment_new(1);
	uint32_t a, b;

	CHECK_EQ(segment_append(seg, "abc", 3, &a), 0);
	CHECK_EQ(segment_append(seg, "defgh", 5, &b), 0);
	CHECK_EQ(a, 0);
	CHECK_EQ(b, 3);
	CHECK_EQ(seg->len, 8);
	segment_free(seg);
}

TEST(an_appended_frame_reads_back)
{
	struct segment *seg = segment_with_two_frames();
	char buf[8] = { 0 };

	CHECK_EQ(segment_read(seg, 5, 6, buf), 0);
	CHECK(memcmp(buf, "world!", 6) == 0);
	segment_free(seg);
}

TEST(a_read_that_is_not_one_frame_is_refused)
{
	struct segment *seg = segment_with_two_frames();
	char buf[16];

	CHECK_EQ(segment_read(seg, 1, 4, buf), -ERANGE);
	CHECK_EQ(segment_read(seg, 0, 11, buf), -ERANGE);
	CHECK_EQ(segment_read(seg, 11, 1, buf), -ERANGE);
	segment_free(seg);
}

TEST(a_sealed_segment_has_index_and_footer)
{
	struct segment *seg = segment_with_two_frames();
	struct segment_footer f;
	struct segment_frame e;

	CHECK_EQ(segment_seal(seg), 0);
	CHECK_EQ(seg->len, 11 + 2 * SEGMENT_INDEX_ENTRY + SEGMENT_FOOTER_SIZE);
	CHECK_EQ(segment_footer_parse(seg->buf, seg->len, &f), 0);
	CHECK_EQ(f.nframes, 2);
	CHECK_EQ(f.index_offset, 11);
	CHECK_EQ(f.id, 0x100000002ull);
	segment_index_entry(seg->buf, &f, 1, &e);
	CHECK_EQ(e.offset, 5);
	CHECK_EQ(e.length, 6);
	segment_free(seg);
}

TEST(a_sealed_segment_takes_no_more_frames)
{
	struct segment *seg = segment_with_two_frames();
	uint32_t off;

	segment_seal(seg);
	CHECK_EQ(segment_append(seg, "x", 1, &off), -EINVAL);
	segment_free(seg);
}

TEST(a_damaged_index_fails_the_checksum)
{
	struct segment *seg = segment_with_two_frames();
	struct segment_footer f;

	segment_seal(seg);
	seg->buf[11] ^= 1;
	CHECK_EQ(segment_footer_parse(seg->buf, seg->len, &f), -EBADMSG);
	segment_free(seg);
}

TEST(a_short_or_foreign_object_has_no_footer)
{
	struct segment *seg = segment_with_two_frames();
	struct segment_footer f;

	segment_seal(seg);
	CHECK_EQ(segment_footer_parse(seg->buf, 10, &f), -EBADMSG);
	CHECK_EQ(segment_footer_parse(seg->buf, seg->len - 1, &f), -EBADMSG);
	seg->buf[seg->len - SEGMENT_FOOTER_SIZE] = 'X';
	CHECK_EQ(segment_footer_parse(seg->buf, seg->len, &f), -EBADMSG);
	segment_free(seg);
}

TEST(a_footer_with_an_impossible_frame_count_is_refused)
{
	struct segment *seg = segment_with_two_frames();
	struct segment_footer f;

	segment_seal(seg);
	seg->buf[seg->len - SEGMENT_FOOTER_SIZE + 12] = 200;
	CHECK_EQ(segment_footer_parse(seg->buf, seg->len, &f), -EBADMSG);
	segment_free(seg);
}

TEST(crc32c_matches_the_standard_check_value)
{
	CHECK_EQ(segment_crc32c("123456789", 9), 0xE3069283u);
}

TEST(segment_keys_are_sixteen_hex_digits)
{
	char key[SEGMENT_KEY_MAX];

	segment_key(0x100000002ull, key);
	CHECK(strcmp(key, "segments/0000000100000002") == 0);
}

TEST_MAIN(frames_are_placed_back_to_back, an_appended_frame_reads_back,
	  a_read_that_is_not_one_frame_is_refused,
	  a_sealed_segment_has_index_and_footer,
	  a_sealed_segment_takes_no_more_frames,
	  a_damaged_index_fails_the_checksum,
	  a_short_or_foreign_object_has_no_footer,
	  a_footer_with_an_impossible_frame_count_is_refused,
	  crc32c_matches_the_standard_check_value,
	  segment_keys_are_sixteen_hex_digits)
