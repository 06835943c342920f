/*
 * The engine's side of the object store: every request it makes goes
 * through these, so that a failed request is retried with a doubling,
 * capped delay and counted, and an object that exists already is told
 * apart from a lost answer.  Fencing is recorded here too.
 */
#include "lsm_int.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void lsm_sleep_ms(uint32_t ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

uint64_t lsm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void lsm_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, uint32_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cv, mu, &ts);
}

void lsm_fence(struct kv *kv, const char *name, const char *why)
{
	if (__atomic_exchange_n(&kv->fenced, 1, __ATOMIC_ACQ_REL) == 0)
		log_err("metadata: fenced: %s: %s; this instance stops writing",
			name, why);
}

int lsm_fenced(struct kv *kv)
{
	return __atomic_load_n(&kv->fenced, __ATOMIC_ACQUIRE);
}

/* Errors that no retry mends. */
static int lsm_final(int rc)
{
	return rc == 0 || rc == -EEXIST || rc == -EINVAL || rc == -ENOENT ||
	       rc == -ENOMEM;
}

static void lsm_backoff(struct kv *kv, uint32_t *delay)
{
	__atomic_add_fetch(&kv->upload_retries, 1, __ATOMIC_RELAXED);
	lsm_sleep_ms(*delay);
	*delay *= 2;
	if (*delay > kv->opt.backoff_max_ms)
		*delay = kv->opt.backoff_max_ms;
}

/* 0 if name holds exactly p[0..n), -EEXIST if it holds other bytes. */
static int lsm_put_same(struct kv *kv, const char *name, const void *p,
			size_t n)
{
	void *got;
	size_t len;
	int same, rc;

	rc = objstore_get(kv->os, name, &got, &len);
	if (rc < 0)
		return rc == -ENOENT ? -EIO : rc;
	same = len == n && memcmp(got, p, n) == 0;
	free(got);
	return same ? 0 : -EEXIST;
}

static int lsm_put_loop(struct kv *kv, const char *name, const void *p,
			size_t n, int same_ok)
{
	uint32_t delay = 10;
	int rc = -EIO;

	for (uint32_t i = 0; i < kv->opt.upload_attempts; i++) {
		if (i > 0)
			lsm_backoff(kv, &delay);
		rc = objstore_put_if_absent(kv->os, name, p, n);
		if (rc == -EEXIST && same_ok)
			rc = lsm_put_same(kv, name, p, n);
		if (lsm_final(rc))
			break;
		log_warn("metadata: upload: %s: failed (%s)", name,
			 strerror(-rc));
	}
	return rc;
}

int lsm_put_retry(struct kv *kv, const char *name, const void *p, size_t n)
{
	return lsm_put_loop(kv, name, p, n, 1);
}

int lsm_put_new(struct kv *kv, const char *name, const void *p, size_t n)
{
	return lsm_put_loop(kv, name, p, n, 0);
}

int lsm_get_retry(struct kv *kv, const char *name, void **p, size_t *n)
{
	uint32_t delay = 10;
	int rc = -EIO;

	for (uint32_t i = 0; i < kv->opt.upload_attempts; i++) {
		if (i > 0)
			lsm_backoff(kv, &delay);
		rc = objstore_get(kv->os, name, p, n);
		if (lsm_final(rc))
			break;
	}
	return rc;
}

struct lsm_names {
	size_t skip;
	char **v;
	size_t n, cap;
	int err;
};

static int lsm_names_cb(void *arg, const char *key, uint64_t size)
{
	struct lsm_names *ns = arg;
	char **v;

	(void)size;
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 64;
		v = realloc(ns->v, ns->cap * sizeof(*v));
		if (v == NULL)
			return ns->err = -ENOMEM;
		ns->v = v;
	}
	ns->v[ns->n] = strdup(key + ns->skip);
	if (ns->v[ns->n] == NULL)
		return ns->err = -ENOMEM;
	ns->n++;
	return 0;
}

void lsm_names_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int lsm_list_names(struct kv *kv, const char *dir, char ***names, size_t *n)
{
	struct lsm_names ns = { strlen(dir), NULL, 0, 0, 0 };
	uint32_t delay = 10;
	int rc = -EIO;

	for (uint32_t i = 0; i < kv->opt.upload_attempts; i++) {
		if (i > 0)
			lsm_backoff(kv, &delay);
		lsm_names_free(ns.v, ns.n);
		ns.v = NULL;
		ns.n = ns.cap = 0;
		ns.err = 0;
		rc = objstore_list(kv->os, dir, lsm_names_cb, &ns);
		if (ns.err)
			rc = ns.err;
		if (lsm_final(rc))
			break;
	}
	if (rc < 0) {
		lsm_names_free(ns.v, ns.n);
		return rc;
	}
	*names = ns.v;
	*n = ns.n;
	return 0;
}

struct shadow_ent {
	const uint8_t *key;
	size_t len;
	size_t i;
};

static int shadow_cmp(const void *a, const void *b)
{
	const struct shadow_ent *x = a, *y = b;
	int c = lsm_ukey_cmp(x->key, x->len, y->key, y->len);

	if (c != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

int lsm_shadow_mask(const uint8_t *const *keys, const size_t *lens, size_t n,
		    uint8_t *mask)
{
	struct shadow_ent *e;

	memset(mask, 0, n);
	if (n <= 16) {
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n && !mask[i]; j++)
				mask[i] =
				    lens[i] == lens[j] &&
				    memcmp(keys[i], keys[j], lens[i]) == 0;
		return 0;
	}
	e = malloc(n * sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		e[i] = (struct shadow_ent){ keys[i], lens[i], i };
	qsort(e, n, sizeof(*e), shadow_cmp);
	for (size_t i = 0; i + 1 < n; i++)
		if (e[i].len == e[i + 1].len &&
		    memcmp(e[i].key, e[i + 1].key, e[i].len) == 0)
			mask[e[i].i] = 1;
	free(e);
	return 0;
}
