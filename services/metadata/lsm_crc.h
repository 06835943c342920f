/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
 * every stored block of an SST.  Chosen over CRC-32 for its better error
 * detection on short messages and because it is the one most storage
 * formats and hardware share; computed here in portable C, eight bytes
 * per step, fast enough (over 1 GB/s) that checking a block costs
 * nothing next to fetching it.
 */
#ifndef ZEROFS_META_LSM_CRC_H
#define ZEROFS_META_LSM_CRC_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over n bytes at buf and returns the new value:
 * lsm_crc32c(lsm_crc32c(0, a, an), b, bn) is the CRC of a followed by b.
 * lsm_crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t lsm_crc32c(uint32_t crc, const void *buf, size_t n);

#endif
