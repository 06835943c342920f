/*
 * A segment in memory: frames appended back to back, then sealed by adding
 * the index and the footer that FORMAT.md describes.  The buffer is what
 * the uploader writes whole to the store.  A segment is not thread-safe;
 * the engine guards it with its own lock.
 */
#ifndef ZEROFS_FLUSHER_SEGMENT_H
#define ZEROFS_FLUSHER_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#define SEGMENT_MAGIC	    "ZFSSEG\r\n"
#define SEGMENT_VERSION	    1u
#define SEGMENT_FOOTER_SIZE 40u
#define SEGMENT_INDEX_ENTRY 8u
#define SEGMENT_KEY_MAX	    32u
/* Offsets travel as 32-bit numbers, so a segment stays well below 4 GiB. */
#define SEGMENT_MAX_BYTES (1u << 30)

struct segment_frame {
	uint32_t offset;
	uint32_t length;
};

struct segment {
	uint64_t id;
	uint8_t *buf;	 /* frames, then (once sealed) index and footer */
	size_t len;	 /* bytes used in buf */
	size_t cap;	 /* bytes allocated for buf */
	size_t data_len; /* bytes of frames */
	struct segment_frame *frames;
	uint32_t nframes;
	uint32_t frames_cap;
	int sealed;
	struct segment *next; /* the engine's upload queue */
};

/* The footer, decoded. */
struct segment_footer {
	uint32_t version;
	uint32_t nframes;
	uint64_t index_offset;
	uint64_t id;
	uint32_t index_crc;
};

/* Returns a new empty segment (owned by the caller, freed with
 * segment_free) or NULL when memory runs out. */
struct segment *segment_new(uint64_t id);
void segment_free(struct segment *seg);

/* Copies the frame in; *offset gets its position.  -EINVAL when the
 * segment is sealed or the frame is empty, -EFBIG past SEGMENT_MAX_BYTES. */
int segment_append(struct segment *seg, const void *frame, uint32_t len,
		   uint32_t *offset);

/* Appends the index and the footer; the segment takes no more frames. */
int segment_seal(struct segment *seg);

/* Copies the frame at (offset, length) into buf; -ERANGE unless it is
 * exactly one appended frame. */
int segment_read(const struct segment *seg, uint32_t offset, uint32_t length,
		 void *buf);

/* Decodes the footer at the end of a whole segment object and checks its
 * magic, version, bounds and index checksum.  -EBADMSG if any fails. */
int segment_footer_parse(const uint8_t *obj, size_t len,
			 struct segment_footer *out);

/* Reads index entry i of a whole, parsed segment object. */
void segment_index_entry(const uint8_t *obj, const struct segment_footer *f,
			 uint32_t i, struct segment_frame *out);

/* Writes "segments/<16 hex digits>" into key (SEGMENT_KEY_MAX bytes). */
void segment_key(uint64_t id, char *key);

uint32_t segment_crc32c(const void *data, size_t len);

#endif
