/*
 * CRC-32C by slicing-by-8: eight 256-entry tables, where table k gives
 * the CRC contribution of a byte followed by k zero bytes, so eight input
 * bytes fold into the register with eight lookups and no data-dependent
 * branch.  The tables are built once, on first use.
 */
#include "lsm_crc.h"

#include <pthread.h>

#define LSM_CRC_POLY 0x82F63B78u

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_tables_build(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int b = 0; b < 8; b++)
			c = (c >> 1) ^ (LSM_CRC_POLY & (0u - (c & 1)));
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++) {
			uint32_t prev = crc_table[k - 1][i];

			crc_table[k][i] =
			    (prev >> 8) ^ crc_table[0][prev & 0xff];
		}
}

/* Loads 4 bytes little-endian whatever the host's byte order. */
static inline uint32_t crc_load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint32_t crc_step8(uint32_t c, const uint8_t *p)
{
	uint32_t lo = crc_load32(p) ^ c, hi = crc_load32(p + 4);

	return crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
	       crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
	       crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
	       crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
}

uint32_t lsm_crc32c(uint32_t crc, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;

	pthread_once(&crc_once, crc_tables_build);
	for (; n >= 8; n -= 8, p += 8)
		c = crc_step8(c, p);
	for (; n > 0; n--, p++)
		c = (c >> 8) ^ crc_table[0][(c ^ *p) & 0xff];
	return ~c;
}
