/*
 * Chunk range arithmetic: which chunks a byte range touches, and which
 * part of each.  Pure functions, shared by reads, writes and truncation.
 */
#ifndef ZEROFS_CHUNK_SPAN_H
#define ZEROFS_CHUNK_SPAN_H

#include <stdint.h>

/* The part of one chunk a byte range covers. */
struct span {
	uint64_t index; /* chunk number in the file */
	uint32_t off;	/* first byte within the chunk */
	uint32_t len;	/* bytes within the chunk */
	uint64_t pos;	/* where those bytes start within the range */
};

/* How many chunks [offset, offset + len) touches (0 for len 0). */
uint64_t span_count(uint64_t offset, uint64_t len, uint32_t chunk_size);

/* Fills out with the i-th chunk (from 0) the range touches. */
void span_at(uint64_t offset, uint64_t len, uint32_t chunk_size, uint64_t i,
	     struct span *out);

/* Clamps a read of count bytes at offset to a file of size bytes: *n gets
 * the bytes to return, *eof whether they reach the end of file. */
void span_read_clamp(uint64_t offset, uint32_t count, uint64_t size,
		     uint32_t *n, int *eof);

/* The first chunk wholly past a file of size bytes: ceil(size / cs). */
uint64_t span_chunks_for(uint64_t size, uint32_t chunk_size);

#endif
