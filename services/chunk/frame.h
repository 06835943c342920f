/*
 * Frames: one chunk's bytes behind a small header (version, codec,
 * payload and body lengths).  The layout is specified in
 * services/flusher/FORMAT.md, section "Frame".
 */
#ifndef ZEROFS_CHUNK_FRAME_H
#define ZEROFS_CHUNK_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_VERSION	  1u
#define FRAME_CODEC_NONE  0u
#define FRAME_HEADER_SIZE 12u

/* The largest frame a chunk of chunk_size bytes encodes to. */
static inline size_t frame_size_max(uint32_t chunk_size)
{
	return FRAME_HEADER_SIZE + (size_t)chunk_size;
}

/* Encodes len payload bytes into a new frame.  *frame is malloc'd and
 * owned by the caller.  Returns 0 or -ENOMEM. */
int frame_encode(const void *payload, uint32_t len, uint8_t **frame,
		 size_t *frame_len);

/* Decodes a frame into payload (chunk_size bytes of room); *len gets the
 * payload length.  -EBADMSG for a frame that is short, of an unknown
 * version or codec, inconsistent, or longer than the chunk. */
int frame_decode(const uint8_t *frame, size_t frame_len, uint32_t chunk_size,
		 uint8_t *payload, uint32_t *len);

#endif
