/*
 * The flusher's core.  States of a segment:
 *
 *   open --seal--> queued --uploader takes it--> uploading --put ok--> freed
 *                                                    |  ^
 *                                                    +--+ put failed: back
 *                                                         off, retry
 *
 * One mutex guards everything in struct engine.  The open segment takes
 * appends; sealing moves it to the tail of the queue.  One uploader thread
 * puts the queue's head, so segments reach the store in id order and
 * durable_below is simply one past the last uploaded id.  Until a segment
 * is freed, engine_read answers its frames from memory.
 */
#include "flusher/engine.h"

#include "flusher/epoch.h"
#include "flusher/segment.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct engine {
	struct objstore *os;
	struct engine_opts opts;
	uint32_t epoch;
	uint64_t next_id;
	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* the uploader: queue grew or stopping */
	pthread_cond_t done_cv; /* barriers and appends: a segment is stored */
	pthread_t uploader;
	struct segment *open;
	struct segment *head, *tail; /* sealed, not yet in the store */
	uint64_t sealed_below;	     /* every sealed id is below this */
	uint64_t durable_below;	     /* every id below this is stored */
	int stopping;
	int dead;    /* stop gave up on failing uploads */
	int refused; /* the last put's error when the store refused it */
	uint64_t put_failures; /* ever, so a barrier can see a fresh one */
	struct engine_stats stats;
};

void engine_opts_default(struct engine_opts *opts)
{
	opts->segment_target = 8u << 20;
	opts->max_pending = 64u << 20;
	opts->backoff_min_ms = 50;
	opts->backoff_max_ms = 10000;
	opts->stop_retry_secs = 60;
}

uint32_t engine_epoch(const struct engine *eng)
{
	return eng->epoch;
}

/* A full or read-only store will not heal by itself soon: a barrier
 * answers with the error instead of waiting, while the upload goes on
 * being retried. */
static int engine_err_refusal(int err)
{
	enum engine_err_class c = engine_err_classify(err);

	return c == ENGINE_ERR_SPACE || c == ENGINE_ERR_ACCESS;
}

enum engine_err_class engine_err_classify(int err)
{
	switch (-err) {
	case ETIMEDOUT:
	case EAGAIN:
	case ECONNRESET:
	case ECONNREFUSED:
	case EHOSTUNREACH:
		return ENGINE_ERR_TIMEOUT;
	case ENOSPC:
	case EDQUOT:
		return ENGINE_ERR_SPACE;
	case EACCES:
	case EPERM:
	case EROFS:
		return ENGINE_ERR_ACCESS;
	case ENOMEM:
		return ENGINE_ERR_MEMORY;
	default:
		return ENGINE_ERR_IO;
	}
}

static void deadline_after_ms(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Moves the open segment, if it holds frames, to the upload queue.
 * Called with mu held. */
static int engine_seal_locked(struct engine *eng)
{
	struct segment *seg = eng->open;
	int rc;

	if (seg == NULL || seg->nframes == 0)
		return 0;
	rc = segment_seal(seg);
	if (rc < 0)
		return rc;
	eng->open = NULL;
	if (eng->tail != NULL)
		eng->tail->next = seg;
	else
		eng->head = seg;
	eng->tail = seg;
	eng->sealed_below = seg->id + 1;
	eng->stats.pending_bytes += seg->len;
	pthread_cond_signal(&eng->work_cv);
	return 0;
}

/* Whether the uploader should keep retrying a failing put.  While running
 * it never gives up (no one was told the data is durable yet); at stop it
 * retries until stop_retry_secs have passed.  Called with mu held. */
static int engine_retry_allowed(struct engine *eng,
				const struct timespec *stop_deadline)
{
	struct timespec now;

	if (!eng->stopping)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec < stop_deadline->tv_sec ||
	       (now.tv_sec == stop_deadline->tv_sec &&
		now.tv_nsec < stop_deadline->tv_nsec);
}

/* Puts one sealed segment, retrying with exponential backoff.  Returns 0
 * once it is stored, or the last error when stop gave up on it. */
static int engine_upload(struct engine *eng, struct segment *seg)
{
	struct timespec until, stop_deadline = { 0, 0 };
	long delay = eng->opts.backoff_min_ms;
	char key[SEGMENT_KEY_MAX];
	int rc, attempt = 0;

	segment_key(seg->id, key);
	for (;;) {
		rc = objstore_put(eng->os, key, seg->buf, seg->len);
		if (rc == 0)
			return 0;
		attempt++;
		pthread_mutex_lock(&eng->mu);
		eng->stats.upload_failures[engine_err_classify(rc)]++;
		eng->refused = engine_err_refusal(rc) ? rc : 0;
		eng->put_failures++;
		pthread_cond_broadcast(&eng->done_cv);
		if (eng->stopping && stop_deadline.tv_sec == 0)
			deadline_after_ms(&stop_deadline,
					  eng->opts.stop_retry_secs * 1000L);
		if (!engine_retry_allowed(eng, &stop_deadline)) {
			pthread_mutex_unlock(&eng->mu);
			return rc;
		}
		log_warn(
		    "flusher: upload: %s: %s (attempt %d, retry in %ld ms)",
		    key, strerror(-rc), attempt, delay);
		deadline_after_ms(&until, delay);
		/* Stop wakes the wait early; the next failure then starts
		 * the stop deadline. */
		pthread_cond_timedwait(&eng->work_cv, &eng->mu, &until);
		pthread_mutex_unlock(&eng->mu);
		delay = delay * 2 > eng->opts.backoff_max_ms
			    ? eng->opts.backoff_max_ms
			    : delay * 2;
	}
}

/* Drops the stored head of the queue and wakes whoever waits on it.
 * Called with mu held. */
static void engine_retire_head(struct engine *eng)
{
	struct segment *seg = eng->head;

	eng->head = seg->next;
	if (eng->head == NULL)
		eng->tail = NULL;
	eng->stats.pending_bytes -= seg->len;
	eng->stats.uploads++;
	eng->durable_below = seg->id + 1;
	eng->refused = 0;
	segment_free(seg);
	pthread_cond_broadcast(&eng->done_cv);
}

static void *engine_uploader_main(void *arg)
{
	struct engine *eng = arg;
	struct segment *seg;
	char key[SEGMENT_KEY_MAX];
	int rc;

	pthread_mutex_lock(&eng->mu);
	for (;;) {
		while (eng->head == NULL && !eng->stopping)
			pthread_cond_wait(&eng->work_cv, &eng->mu);
		if (eng->head == NULL)
			break;
		seg = eng->head;
		pthread_mutex_unlock(&eng->mu);
		/* Sealed segments never change, so the put reads the buffer
		 * without the lock. */
		rc = engine_upload(eng, seg);
		pthread_mutex_lock(&eng->mu);
		if (rc < 0) {
			segment_key(seg->id, key);
			log_err("flusher: stop: %s: %s; giving up, its frames "
				"are lost",
				key, strerror(-rc));
			eng->dead = 1;
			pthread_cond_broadcast(&eng->done_cv);
			break;
		}
		engine_retire_head(eng);
	}
	pthread_mutex_unlock(&eng->mu);
	return NULL;
}

/* Makes room for a frame of len bytes in the open segment: seals a
 * non-empty segment the frame would push past the target, and starts a
 * new one.  Called with mu held. */
static int engine_room_locked(struct engine *eng, uint32_t len)
{
	int rc;

	if (eng->open != NULL && eng->open->nframes > 0 &&
	    eng->open->len + len > eng->opts.segment_target) {
		rc = engine_seal_locked(eng);
		if (rc < 0)
			return rc;
	}
	if (eng->open != NULL)
		return 0;
	if ((eng->next_id & 0xFFFFFFFFu) == 0xFFFFFFFFu)
		return -EOVERFLOW;
	eng->open = segment_new(eng->next_id);
	if (eng->open == NULL)
		return -ENOMEM;
	eng->next_id++;
	return 0;
}

int engine_append(struct engine *eng, const void *frame, uint32_t len,
		  uint64_t *segment, uint32_t *offset)
{
	int rc, waited = 0;

	if (len == 0 || len > SEGMENT_MAX_BYTES / 2)
		return -EINVAL;
	pthread_mutex_lock(&eng->mu);
	while (eng->stats.pending_bytes >= eng->opts.max_pending &&
	       !eng->stopping) {
		waited = 1;
		pthread_cond_wait(&eng->done_cv, &eng->mu);
	}
	eng->stats.appends_waited += (uint64_t)waited;
	rc = eng->stopping ? -ESHUTDOWN : engine_room_locked(eng, len);
	if (rc == 0)
		rc = segment_append(eng->open, frame, len, offset);
	if (rc == 0)
		*segment = eng->open->id;
	pthread_mutex_unlock(&eng->mu);
	return rc;
}

static struct segment *engine_find_locked(struct engine *eng, uint64_t id)
{
	if (eng->open != NULL && eng->open->id == id)
		return eng->open;
	for (struct segment *s = eng->head; s != NULL; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

int engine_read(struct engine *eng, uint64_t segment, uint32_t offset,
		uint32_t length, void *buf)
{
	struct segment *seg;
	int rc;

	pthread_mutex_lock(&eng->mu);
	seg = engine_find_locked(eng, segment);
	rc = seg == NULL ? -ENOENT : segment_read(seg, offset, length, buf);
	pthread_mutex_unlock(&eng->mu);
	return rc;
}

int engine_barrier(struct engine *eng, uint64_t *durable_below)
{
	uint64_t target, failures;
	int rc;

	pthread_mutex_lock(&eng->mu);
	rc = engine_seal_locked(eng);
	target = eng->sealed_below;
	failures = eng->put_failures;
	/* Barriers that come while one waits seal only what arrived since,
	 * and all of them wait on the same uploads.  A refusal counts only
	 * when a put failed after this barrier began. */
	while (rc == 0 && eng->durable_below < target && !eng->dead &&
	       !(eng->refused != 0 && eng->put_failures != failures))
		pthread_cond_wait(&eng->done_cv, &eng->mu);
	if (rc == 0 && eng->durable_below < target)
		rc = eng->refused != 0 && !eng->dead ? eng->refused : -EIO;
	*durable_below = eng->durable_below;
	pthread_mutex_unlock(&eng->mu);
	return rc;
}

void engine_stats_get(struct engine *eng, struct engine_stats *out)
{
	pthread_mutex_lock(&eng->mu);
	*out = eng->stats;
	pthread_mutex_unlock(&eng->mu);
}

static int engine_sync_init(struct engine *eng)
{
	pthread_condattr_t attr;
	int rc;

	rc = pthread_condattr_init(&attr);
	if (rc != 0)
		return -rc;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&eng->mu, NULL);
	pthread_cond_init(&eng->work_cv, &attr);
	pthread_cond_init(&eng->done_cv, &attr);
	pthread_condattr_destroy(&attr);
	return 0;
}

static void engine_sync_fini(struct engine *eng)
{
	pthread_cond_destroy(&eng->done_cv);
	pthread_cond_destroy(&eng->work_cv);
	pthread_mutex_destroy(&eng->mu);
}

int engine_open(struct objstore *os, const struct engine_opts *opts,
		struct engine **out)
{
	struct engine *eng;
	int rc;

	eng = calloc(1, sizeof(*eng));
	if (eng == NULL)
		return -ENOMEM;
	eng->os = os;
	eng->opts = *opts;
	rc = epoch_claim(os, &eng->epoch);
	if (rc < 0)
		goto free_eng;
	eng->next_id = (uint64_t)eng->epoch << 32;
	eng->sealed_below = eng->next_id;
	eng->durable_below = eng->next_id;
	rc = engine_sync_init(eng);
	if (rc < 0)
		goto free_eng;
	rc = -pthread_create(&eng->uploader, NULL, engine_uploader_main, eng);
	if (rc < 0)
		goto fini_sync;
	*out = eng;
	return 0;

fini_sync:
	engine_sync_fini(eng);
free_eng:
	free(eng);
	return rc;
}

int engine_close(struct engine *eng)
{
	struct segment *seg;
	int rc = 0;

	if (eng == NULL)
		return 0;
	pthread_mutex_lock(&eng->mu);
	if (engine_seal_locked(eng) < 0 && (rc = -EIO) < 0)
		log_err("flusher: stop: segment %016llx: cannot seal, its "
			"frames are lost",
			(unsigned long long)eng->open->id);
	eng->stopping = 1;
	pthread_cond_broadcast(&eng->work_cv);
	pthread_cond_broadcast(&eng->done_cv);
	pthread_mutex_unlock(&eng->mu);
	pthread_join(eng->uploader, NULL);
	/* What is still queued was never stored. */
	while ((seg = eng->head) != NULL) {
		eng->head = seg->next;
		segment_free(seg);
		rc = -EIO;
	}
	segment_free(eng->open);
	engine_sync_fini(eng);
	free(eng);
	return rc;
}
