/*
 * The fault-injecting object store (objstore_flaky.h).  Every request
 * draws its fate from one xorshift64* generator under a mutex, so the
 * sequence of faults is a pure function of the seed and of the order of
 * requests: a single-threaded run replays exactly.
 *
 * Each request makes two draws, whatever the rates, so that changing one
 * rate does not shift the draws of the other: the first picks a delay,
 * the second picks failure (below fail_rate), a lost reply (below
 * fail_rate + lost_rate) or success.  A read has no effect to lose, so a
 * lost reply to a read is a failure that was sent: the read runs, its
 * result is thrown away and -EIO returned.  A timed-out request is
 * counted as delayed and as failed; it is never sent.
 */
#include "objstore_flaky.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

enum flaky_fate {
	FLAKY_SEND,
	FLAKY_FAIL,
	FLAKY_LOSE,
	FLAKY_TIMEOUT,
};

struct flaky_store {
	struct objstore base;
	struct objstore *inner;
	pthread_mutex_t mu;
	struct objstore_flaky_opts o;
	uint64_t rng;
	struct objstore_flaky_stats st;
};

static const struct objstore_ops objstore_flaky_ops;

static struct flaky_store *flaky_of(struct objstore *os)
{
	return (struct flaky_store *)os;
}

/* xorshift64* with a state that is never zero. */
static double flaky_draw(struct flaky_store *f)
{
	uint64_t x = f->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	f->rng = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static void flaky_seed(struct flaky_store *f, uint64_t seed)
{
	f->rng = seed != 0 ? seed : 0x9E3779B97F4A7C15ULL;
}

static void flaky_sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Draws one request's fate and counts it; sleeps (without the mutex)
 * when the request is delayed. */
static enum flaky_fate flaky_fate_draw(struct flaky_store *f)
{
	enum flaky_fate fate = FLAKY_SEND;
	uint32_t delay = 0;
	double d, u;

	pthread_mutex_lock(&f->mu);
	f->st.calls++;
	d = flaky_draw(f);
	u = flaky_draw(f);
	if (d < f->o.delay_rate) {
		f->st.delayed++;
		delay = f->o.delay_ms;
		if (f->o.timeout) {
			fate = FLAKY_TIMEOUT;
			f->st.failed++;
		}
	}
	if (fate == FLAKY_SEND && u < f->o.fail_rate) {
		fate = FLAKY_FAIL;
		f->st.failed++;
	} else if (fate == FLAKY_SEND && u < f->o.fail_rate + f->o.lost_rate) {
		fate = FLAKY_LOSE;
		f->st.lost++;
	}
	pthread_mutex_unlock(&f->mu);
	if (delay > 0)
		flaky_sleep_ms(delay);
	return fate;
}

/* The error a request that was not sent returns, or 0 to send it. */
static int flaky_unsent_rc(enum flaky_fate fate)
{
	if (fate == FLAKY_TIMEOUT)
		return -ETIMEDOUT;
	return fate == FLAKY_FAIL ? -EIO : 0;
}

static int flaky_put(struct objstore *os, const char *key, const void *data,
		     size_t len, int if_absent)
{
	struct flaky_store *f = flaky_of(os);
	enum flaky_fate fate = flaky_fate_draw(f);
	int rc = flaky_unsent_rc(fate);

	if (rc < 0)
		return rc;
	rc = f->inner->ops->put(f->inner, key, data, len, if_absent);
	return fate == FLAKY_LOSE ? -EIO : rc;
}

static int flaky_get(struct objstore *os, const char *key, void **data,
		     size_t *len)
{
	struct flaky_store *f = flaky_of(os);
	enum flaky_fate fate = flaky_fate_draw(f);
	int rc = flaky_unsent_rc(fate);

	*data = NULL;
	*len = 0;
	if (rc < 0)
		return rc;
	rc = f->inner->ops->get(f->inner, key, data, len);
	if (fate == FLAKY_LOSE) {
		if (rc == 0)
			free(*data);
		*data = NULL;
		*len = 0;
		return -EIO;
	}
	return rc;
}

static int flaky_get_range(struct objstore *os, const char *key, uint64_t off,
			   size_t len, void *buf, size_t *got)
{
	struct flaky_store *f = flaky_of(os);
	enum flaky_fate fate = flaky_fate_draw(f);
	int rc = flaky_unsent_rc(fate);

	*got = 0;
	if (rc < 0)
		return rc;
	rc = f->inner->ops->get_range(f->inner, key, off, len, buf, got);
	if (fate == FLAKY_LOSE) {
		*got = 0;
		return -EIO;
	}
	return rc;
}

static int flaky_del(struct objstore *os, const char *key)
{
	struct flaky_store *f = flaky_of(os);
	enum flaky_fate fate = flaky_fate_draw(f);
	int rc = flaky_unsent_rc(fate);

	if (rc < 0)
		return rc;
	rc = f->inner->ops->del(f->inner, key);
	return fate == FLAKY_LOSE ? -EIO : rc;
}

/* A listing whose reply is lost has already called back; the caller
 * sees entries and then -EIO, as when a paged listing breaks off. */
static int flaky_list(struct objstore *os, const char *prefix,
		      objstore_list_cb cb, void *arg)
{
	struct flaky_store *f = flaky_of(os);
	enum flaky_fate fate = flaky_fate_draw(f);
	int rc = flaky_unsent_rc(fate);

	if (rc < 0)
		return rc;
	rc = f->inner->ops->list(f->inner, prefix, cb, arg);
	return fate == FLAKY_LOSE ? -EIO : rc;
}

/* Frees the wrapper alone: the inner store is the caller's. */
static void flaky_close(struct objstore *os)
{
	struct flaky_store *f = flaky_of(os);

	pthread_mutex_destroy(&f->mu);
	free(f);
}

static const struct objstore_ops objstore_flaky_ops = {
	.scheme = "flaky",
	.put = flaky_put,
	.get = flaky_get,
	.get_range = flaky_get_range,
	.del = flaky_del,
	.list = flaky_list,
	.close = flaky_close,
};

int objstore_flaky_new(struct objstore *inner,
		       const struct objstore_flaky_opts *o,
		       struct objstore **out)
{
	struct flaky_store *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (f == NULL)
		return -ENOMEM;
	f->base.ops = &objstore_flaky_ops;
	f->inner = inner;
	pthread_mutex_init(&f->mu, NULL);
	if (o != NULL)
		f->o = *o;
	flaky_seed(f, f->o.seed);
	*out = &f->base;
	return 0;
}

/* The generator is reseeded only when the seed changes, so healing a
 * store and breaking it again goes on with the same stream of draws. */
void objstore_flaky_set(struct objstore *os,
			const struct objstore_flaky_opts *o)
{
	struct flaky_store *f = flaky_of(os);

	pthread_mutex_lock(&f->mu);
	if (o->seed != f->o.seed)
		flaky_seed(f, o->seed);
	f->o = *o;
	pthread_mutex_unlock(&f->mu);
}

void objstore_flaky_stats(struct objstore *os, struct objstore_flaky_stats *st)
{
	struct flaky_store *f = flaky_of(os);

	pthread_mutex_lock(&f->mu);
	*st = f->st;
	pthread_mutex_unlock(&f->mu);
}
