/*
 * Segment buffers and their on-store layout (see FORMAT.md): frames, an
 * index of (offset, length) pairs, and a fixed footer, all little-endian.
 * The footer lets a garbage collector walk a segment with no metadata.
 */
#include "flusher/segment.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit: the
 * index is small, so a table buys nothing worth its code. */
uint32_t segment_crc32c(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t crc = 0xFFFFFFFFu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
	}
	return crc ^ 0xFFFFFFFFu;
}

struct segment *segment_new(uint64_t id)
{
	struct segment *seg = calloc(1, sizeof(*seg));

	if (seg != NULL)
		seg->id = id;
	return seg;
}

void segment_free(struct segment *seg)
{
	if (seg == NULL)
		return;
	free(seg->buf);
	free(seg->frames);
	free(seg);
}

static int segment_reserve(struct segment *seg, size_t need)
{
	size_t cap = seg->cap ? seg->cap : 64 * 1024;
	uint8_t *buf;

	if (need <= seg->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	buf = realloc(seg->buf, cap);
	if (buf == NULL)
		return -ENOMEM;
	seg->buf = buf;
	seg->cap = cap;
	return 0;
}

static int segment_frames_grow(struct segment *seg)
{
	uint32_t cap = seg->frames_cap ? seg->frames_cap * 2 : 64;
	struct segment_frame *f;

	if (seg->nframes < seg->frames_cap)
		return 0;
	f = realloc(seg->frames, cap * sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	seg->frames = f;
	seg->frames_cap = cap;
	return 0;
}

int segment_append(struct segment *seg, const void *frame, uint32_t len,
		   uint32_t *offset)
{
	int rc;

	if (seg->sealed || len == 0)
		return -EINVAL;
	if (seg->len + len > SEGMENT_MAX_BYTES)
		return -EFBIG;
	rc = segment_reserve(seg, seg->len + len);
	if (rc == 0)
		rc = segment_frames_grow(seg);
	if (rc < 0)
		return rc;
	memcpy(seg->buf + seg->len, frame, len);
	seg->frames[seg->nframes].offset = (uint32_t)seg->len;
	seg->frames[seg->nframes].length = len;
	seg->nframes++;
	*offset = (uint32_t)seg->len;
	seg->len += len;
	seg->data_len = seg->len;
	return 0;
}

int segment_seal(struct segment *seg)
{
	size_t index_len = (size_t)seg->nframes * SEGMENT_INDEX_ENTRY;
	uint8_t *idx, *ft;
	int rc;

	if (seg->sealed)
		return -EINVAL;
	rc = segment_reserve(seg, seg->len + index_len + SEGMENT_FOOTER_SIZE);
	if (rc < 0)
		return rc;
	idx = seg->buf + seg->data_len;
	for (uint32_t i = 0; i < seg->nframes; i++) {
		put_le32(idx + i * SEGMENT_INDEX_ENTRY, seg->frames[i].offset);
		put_le32(idx + i * SEGMENT_INDEX_ENTRY + 4,
			 seg->frames[i].length);
	}
	ft = idx + index_len;
	memcpy(ft, SEGMENT_MAGIC, 8);
	put_le32(ft + 8, SEGMENT_VERSION);
	put_le32(ft + 12, seg->nframes);
	put_le64(ft + 16, seg->data_len);
	put_le64(ft + 24, seg->id);
	put_le32(ft + 32, segment_crc32c(idx, index_len));
	put_le32(ft + 36, 0);
	seg->len = seg->data_len + index_len + SEGMENT_FOOTER_SIZE;
	seg->sealed = 1;
	return 0;
}

/* Frames are few per segment and appended in offset order, so a binary
 * search finds the one that starts at offset. */
int segment_read(const struct segment *seg, uint32_t offset, uint32_t length,
		 void *buf)
{
	uint32_t lo = 0, hi = seg->nframes;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (seg->frames[mid].offset < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == seg->nframes || seg->frames[lo].offset != offset ||
	    seg->frames[lo].length != length)
		return -ERANGE;
	memcpy(buf, seg->buf + offset, length);
	return 0;
}

int segment_footer_parse(const uint8_t *obj, size_t len,
			 struct segment_footer *out)
{
	const uint8_t *ft;
	uint64_t index_len;

	if (len < SEGMENT_FOOTER_SIZE)
		return -EBADMSG;
	ft = obj + len - SEGMENT_FOOTER_SIZE;
	if (memcmp(ft, SEGMENT_MAGIC, 8) != 0)
		return -EBADMSG;
	out->version = get_le32(ft + 8);
	out->nframes = get_le32(ft + 12);
	out->index_offset = get_le64(ft + 16);
	out->id = get_le64(ft + 24);
	out->index_crc = get_le32(ft + 32);
	if (out->version != SEGMENT_VERSION)
		return -EBADMSG;
	index_len = (uint64_t)out->nframes * SEGMENT_INDEX_ENTRY;
	if (out->index_offset > len - SEGMENT_FOOTER_SIZE ||
	    index_len != len - SEGMENT_FOOTER_SIZE - out->index_offset)
		return -EBADMSG;
	if (segment_crc32c(obj + out->index_offset, index_len) !=
	    out->index_crc)
		return -EBADMSG;
	return 0;
}

void segment_index_entry(const uint8_t *obj, const struct segment_footer *f,
			 uint32_t i, struct segment_frame *out)
{
	const uint8_t *e = obj + f->index_offset + (size_t)i * 8;

	out->offset = get_le32(e);
	out->length = get_le32(e + 4);
}

void segment_key(uint64_t id, char *key)
{
	snprintf(key, SEGMENT_KEY_MAX, "segments/%016llx",
		 (unsigned long long)id);
}
