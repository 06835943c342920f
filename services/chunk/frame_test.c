/*
 * Unit tests of frame encoding and the decoder's bounds checks.
 */
#include "chunk/frame.h"

#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *frame_of(const char *s, size_t *len)
{
	uint8_t *f = NULL;

	CHECK_EQ(frame_encode(s, (uint32_t)strlen(s), &f, len), 0);
	return f;
}

TEST(an_encoded_frame_decodes_to_its_payload)
{
	uint8_t payload[16];
	uint32_t plen = 0;
	size_t len;
	uint8_t *f = frame_of("chunk bytes", &len);

	CHECK_EQ(len, FRAME_HEADER_SIZE + 11);
	CHECK_EQ(frame_decode(f, len, 16, payload, &plen), 0);
	CHECK_EQ(plen, 11);
	CHECK(memcmp(payload, "chunk bytes", 11) == 0);
	free(f);
}

TEST(an_empty_payload_is_a_valid_frame)
{
	uint8_t payload[4];
	uint32_t plen = 7;
	size_t len;
	uint8_t *f = frame_of("", &len);

	CHECK_EQ(frame_decode(f, len, 4, payload, &plen), 0);
	CHECK_EQ(plen, 0);
	free(f);
}

TEST(a_frame_shorter_than_its_header_is_refused)
{
	uint8_t payload[16];
	uint32_t plen;
	size_t len;
	uint8_t *f = frame_of("abc", &len);

	CHECK_EQ(frame_decode(f, FRAME_HEADER_SIZE - 1, 16, payload, &plen),
		 -EBADMSG);
	free(f);
}

TEST(a_truncated_body_is_refused)
{
	uint8_t payload[16];
	uint32_t plen;
	size_t len;
	uint8_t *f = frame_of("abcdef", &len);

	CHECK_EQ(frame_decode(f, len - 1, 16, payload, &plen), -EBADMSG);
	free(f);
}

TEST(a_payload_longer_than_the_chunk_is_refused)
{
	uint8_t payload[16];
	uint32_t plen;
	size_t len;
	uint8_t *f = frame_of("abcdef", &len);

	CHECK_EQ(frame_decode(f, len, 5, payload, &plen), -EBADMSG);
	free(f);
}

TEST(an_unknown_version_or_codec_is_refused)
{
	uint8_t payload[16];
	uint32_t plen;
	size_t len;
	uint8_t *f = frame_of("abc", &len);

	f[0] = 2;
	CHECK_EQ(frame_decode(f, len, 16, payload, &plen), -EBADMSG);
	f[0] = FRAME_VERSION;
	f[1] = 9;
	CHECK_EQ(frame_decode(f, len, 16, payload, &plen), -EBADMSG);
	free(f);
}

TEST(a_payload_length_that_disagrees_with_the_body_is_refused)
{
	uint8_t payload[16];
	uint32_t plen;
	size_t len;
	uint8_t *f = frame_of("abc", &len);

	f[4] = 2;
	CHECK_EQ(frame_decode(f, len, 16, payload, &plen), -EBADMSG);
	free(f);
}

TEST_MAIN(an_encoded_frame_decodes_to_its_payload,
	  an_empty_payload_is_a_valid_frame,
	  a_frame_shorter_than_its_header_is_refused,
	  a_truncated_body_is_refused,
	  a_payload_longer_than_the_chunk_is_refused,
	  an_unknown_version_or_codec_is_refused,
	  a_payload_length_that_disagrees_with_the_body_is_refused)
