/*
 * Frame encoding and decoding.  The decoder checks every length against
 * the bytes it was given before it copies anything.
 */
#include "chunk/frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void frame_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t frame_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int frame_encode(const void *payload, uint32_t len, uint8_t **frame,
		 size_t *frame_len)
{
	uint8_t *f = malloc(FRAME_HEADER_SIZE + (size_t)len);

	if (f == NULL)
		return -ENOMEM;
	f[0] = FRAME_VERSION;
	f[1] = FRAME_CODEC_NONE;
	f[2] = 0;
	f[3] = 0;
	frame_put_le32(f + 4, len);
	frame_put_le32(f + 8, len);
	if (len > 0)
		memcpy(f + FRAME_HEADER_SIZE, payload, len);
	*frame = f;
	*frame_len = FRAME_HEADER_SIZE + (size_t)len;
	return 0;
}

int frame_decode(const uint8_t *frame, size_t frame_len, uint32_t chunk_size,
		 uint8_t *payload, uint32_t *len)
{
	uint32_t plen, blen;

	if (frame_len < FRAME_HEADER_SIZE)
		return -EBADMSG;
	if (frame[0] != FRAME_VERSION || frame[1] != FRAME_CODEC_NONE ||
	    frame[2] != 0 || frame[3] != 0)
		return -EBADMSG;
	plen = frame_get_le32(frame + 4);
	blen = frame_get_le32(frame + 8);
	if (blen != frame_len - FRAME_HEADER_SIZE || plen != blen ||
	    plen > chunk_size)
		return -EBADMSG;
	memcpy(payload, frame + FRAME_HEADER_SIZE, plen);
	*len = plen;
	return 0;
}
