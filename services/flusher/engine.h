/*
 * The flusher's core, free of any transport: frames go into the open
 * segment, sealed segments queue for one uploader thread, barriers wait
 * for the queue to drain up to a point.  The rpc handlers in server.c and
 * the unit tests call these functions directly.
 */
#ifndef ZEROFS_FLUSHER_ENGINE_H
#define ZEROFS_FLUSHER_ENGINE_H

#include "objstore.h"

#include <stddef.h>
#include <stdint.h>

struct engine;

/* Error classes with their own upload failure counter. */
enum engine_err_class {
	ENGINE_ERR_IO,	    /* EIO and unknown errors */
	ENGINE_ERR_TIMEOUT, /* ETIMEDOUT, EAGAIN, ECONNRESET, ... */
	ENGINE_ERR_SPACE,   /* ENOSPC, EDQUOT */
	ENGINE_ERR_ACCESS,  /* EACCES, EPERM, EROFS */
	ENGINE_ERR_MEMORY,  /* ENOMEM */
	ENGINE_ERR_COUNT
};

struct engine_opts {
	size_t segment_target; /* seal before a frame would pass this */
	size_t max_pending;    /* sealed, not uploaded: APPEND waits above */
	int backoff_min_ms;    /* first retry delay */
	int backoff_max_ms;    /* the cap of the exponential backoff */
	int stop_retry_secs;   /* at stop, how long failing uploads retry */
};

struct engine_stats {
	uint64_t uploads;
	uint64_t upload_failures[ENGINE_ERR_COUNT];
	uint64_t pending_bytes;
	uint64_t appends_waited; /* appends that met back-pressure */
};

/* The defaults: 8 MiB segments, 64 MiB pending, 50 ms .. 10 s backoff. */
void engine_opts_default(struct engine_opts *opts);

/* Claims an epoch on os and starts the uploader.  os stays the caller's
 * and must outlive the engine. */
int engine_open(struct objstore *os, const struct engine_opts *opts,
		struct engine **out);

/* Seals the open segment, uploads everything (retrying failures for up
 * to stop_retry_secs, then logging what is lost), stops the uploader and
 * frees the engine. */
/* Seals and stores what is held, then frees the engine.  Returns 0, or
 * -EIO when a segment could not be stored (its frames are lost). */
int engine_close(struct engine *eng);

uint32_t engine_epoch(const struct engine *eng);

/* Appends one frame (copied) and answers where it lives.  Waits while
 * too many bytes await upload.  -ESHUTDOWN once closing. */
int engine_append(struct engine *eng, const void *frame, uint32_t len,
		  uint64_t *segment, uint32_t *offset);

/* Copies a frame of a segment still in memory into buf (length bytes).
 * -ENOENT once the segment is in the store, -ERANGE for a wrong range. */
int engine_read(struct engine *eng, uint64_t segment, uint32_t offset,
		uint32_t length, void *buf);

/* Seals the open segment and waits until every segment sealed so far is
 * in the store; *durable_below gets an id below which all are stored.
 * When the store refuses puts (full, read-only, no access) it returns
 * that error at once instead of waiting; the uploads go on being retried
 * and a later barrier succeeds once the store takes them. */
int engine_barrier(struct engine *eng, uint64_t *durable_below);

void engine_stats_get(struct engine *eng, struct engine_stats *out);

enum engine_err_class engine_err_classify(int err);

#endif
