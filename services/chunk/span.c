/*
 * Chunk range arithmetic.  Callers have checked that offset + len does not
 * overflow.
 */
#include "chunk/span.h"

uint64_t span_count(uint64_t offset, uint64_t len, uint32_t chunk_size)
{
	if (len == 0)
		return 0;
	return (offset + len - 1) / chunk_size - offset / chunk_size + 1;
}

void span_at(uint64_t offset, uint64_t len, uint32_t chunk_size, uint64_t i,
	     struct span *out)
{
	uint64_t index = offset / chunk_size + i;
	uint64_t start = index * chunk_size;
	uint64_t from = start > offset ? start : offset;
	uint64_t end = start + chunk_size;

	if (end > offset + len)
		end = offset + len;
	out->index = index;
	out->off = (uint32_t)(from - start);
	out->len = (uint32_t)(end - from);
	out->pos = from - offset;
}

void span_read_clamp(uint64_t offset, uint32_t count, uint64_t size,
		     uint32_t *n, int *eof)
{
	if (offset >= size) {
		*n = 0;
		*eof = 1;
		return;
	}
	*n = size - offset < count ? (uint32_t)(size - offset) : count;
	*eof = offset + *n >= size;
}

uint64_t span_chunks_for(uint64_t size, uint32_t chunk_size)
{
	return size / chunk_size + (size % chunk_size != 0);
}
