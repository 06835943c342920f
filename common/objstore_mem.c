/*
 * The in-memory object store, "mem://name".  Named buckets live in one
 * process-wide registry for the life of the process, the way a bucket
 * outlives its clients: every open of the same name sees the same objects,
 * so services started in one process share a store, and a service that is
 * stopped and started again finds what it wrote.
 *
 * A bucket is a sorted array of keys behind a mutex.  Calls copy data in
 * and out under the mutex, so readers always see whole objects.  list
 * copies the matching keys first and calls back without the mutex, so a
 * callback may use the store (garbage collection deletes while it lists).
 */
#include "objstore.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MEM_NAME_MAX 256

extern const struct objstore_ops objstore_mem_ops;

struct mem_object {
	char *key;
	void *data;
	size_t len;
};

struct mem_bucket {
	struct mem_bucket *next;
	char *name;
	pthread_mutex_t lock;
	struct mem_object *objs; /* sorted by key */
	size_t n, cap;
};

struct mem_store {
	struct objstore base;
	struct mem_bucket *bucket;
};

static pthread_mutex_t mem_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mem_bucket *mem_registry;

static struct mem_bucket *mem_bucket_of(struct objstore *os)
{
	return ((struct mem_store *)os)->bucket;
}

/* Returns the bucket called name, creating it on first use. */
static struct mem_bucket *mem_bucket_get(const char *name)
{
	struct mem_bucket *b;

	pthread_mutex_lock(&mem_registry_lock);
	for (b = mem_registry; b != NULL; b = b->next)
		if (strcmp(b->name, name) == 0)
			goto unlock_registry;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		goto unlock_registry;
	b->name = strdup(name);
	if (b->name == NULL) {
		free(b);
		b = NULL;
		goto unlock_registry;
	}
	pthread_mutex_init(&b->lock, NULL);
	b->next = mem_registry;
	mem_registry = b;
unlock_registry:
	pthread_mutex_unlock(&mem_registry_lock);
	return b;
}

/* Binary search: the index of key, or where it would be inserted (and
 * *found is 0). */
static size_t mem_bucket_find(const struct mem_bucket *b, const char *key,
			      int *found)
{
	size_t lo = 0, hi = b->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(b->objs[mid].key, key);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int mem_bucket_insert(struct mem_bucket *b, size_t at, char *key,
			     void *data, size_t len)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct mem_object *v = realloc(b->objs, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		b->objs = v;
		b->cap = cap;
	}
	memmove(&b->objs[at + 1], &b->objs[at], (b->n - at) * sizeof(*b->objs));
	b->objs[at] =
	    (struct mem_object){ .key = key, .data = data, .len = len };
	b->n++;
	return 0;
}

static int mem_put(struct objstore *os, const char *key, const void *data,
		   size_t len, int if_absent)
{
	struct mem_bucket *b = mem_bucket_of(os);
	void *copy;
	size_t at;
	int found, rc = 0;

	if (objstore_key_check(key) < 0)
		return -EINVAL;
	copy = malloc(len > 0 ? len : 1);
	if (copy == NULL)
		return -ENOMEM;
	if (len > 0)
		memcpy(copy, data, len);
	pthread_mutex_lock(&b->lock);
	at = mem_bucket_find(b, key, &found);
	if (found && if_absent) {
		rc = -EEXIST;
	} else if (found) {
		free(b->objs[at].data);
		b->objs[at].data = copy;
		b->objs[at].len = len;
		copy = NULL;
	} else {
		char *k = strdup(key);

		rc = k == NULL ? -ENOMEM
			       : mem_bucket_insert(b, at, k, copy, len);
		if (rc == 0)
			copy = NULL;
		else
			free(k);
	}
	pthread_mutex_unlock(&b->lock);
	free(copy);
	return rc;
}

static int mem_get(struct objstore *os, const char *key, void **data,
		   size_t *len)
{
	struct mem_bucket *b = mem_bucket_of(os);
	void *copy = NULL;
	size_t at;
	int found, rc = 0;

	*data = NULL;
	*len = 0;
	if (objstore_key_check(key) < 0)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	at = mem_bucket_find(b, key, &found);
	if (!found) {
		rc = -ENOENT;
		goto unlock_bucket;
	}
	copy = malloc(b->objs[at].len > 0 ? b->objs[at].len : 1);
	if (copy == NULL) {
		rc = -ENOMEM;
		goto unlock_bucket;
	}
	memcpy(copy, b->objs[at].data, b->objs[at].len);
	*data = copy;
	*len = b->objs[at].len;
unlock_bucket:
	pthread_mutex_unlock(&b->lock);
	return rc;
}

static int mem_get_range(struct objstore *os, const char *key, uint64_t off,
			 size_t len, void *buf, size_t *got)
{
	struct mem_bucket *b = mem_bucket_of(os);
	const struct mem_object *o;
	size_t at;
	int found;

	*got = 0;
	if (objstore_key_check(key) < 0)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	at = mem_bucket_find(b, key, &found);
	if (!found) {
		pthread_mutex_unlock(&b->lock);
		return -ENOENT;
	}
	o = &b->objs[at];
	if (off < o->len) {
		*got = o->len - (size_t)off < len ? o->len - (size_t)off : len;
		memcpy(buf, (const char *)o->data + off, *got);
	}
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static int mem_del(struct objstore *os, const char *key)
{
	struct mem_bucket *b = mem_bucket_of(os);
	size_t at;
	int found;

	if (objstore_key_check(key) < 0)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	at = mem_bucket_find(b, key, &found);
	if (found) {
		free(b->objs[at].key);
		free(b->objs[at].data);
		memmove(&b->objs[at], &b->objs[at + 1],
			(b->n - at - 1) * sizeof(*b->objs));
		b->n--;
	}
	pthread_mutex_unlock(&b->lock);
	return 0;
}

/* Copies the keys that start with prefix, in order, with their sizes; the
 * caller frees the keys and the array. */
static int mem_list_snapshot(struct mem_bucket *b, const char *prefix,
			     struct mem_object **out, size_t *n)
{
	size_t plen = strlen(prefix), at, cnt = 0;
	struct mem_object *v = NULL;
	int found, rc = 0;

	pthread_mutex_lock(&b->lock);
	at = mem_bucket_find(b, prefix, &found);
	v = malloc((b->n - at + 1) * sizeof(*v));
	if (v == NULL) {
		rc = -ENOMEM;
		goto unlock_bucket;
	}
	for (; at < b->n && strncmp(b->objs[at].key, prefix, plen) == 0; at++) {
		v[cnt].key = strdup(b->objs[at].key);
		v[cnt].len = b->objs[at].len;
		if (v[cnt].key == NULL) {
			rc = -ENOMEM;
			break;
		}
		cnt++;
	}
unlock_bucket:
	pthread_mutex_unlock(&b->lock);
	*out = v;
	*n = cnt;
	return rc;
}

static int mem_list(struct objstore *os, const char *prefix,
		    objstore_list_cb cb, void *arg)
{
	struct mem_object *v;
	size_t n;
	int rc;

	rc = mem_list_snapshot(mem_bucket_of(os), prefix ? prefix : "", &v, &n);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = cb(arg, v[i].key, v[i].len);
	for (size_t i = 0; i < n; i++)
		free(v[i].key);
	free(v);
	return rc;
}

/* rest is what follows "mem://": the bucket's name. */
static int mem_open(const char *rest, struct objstore **out)
{
	struct mem_store *ms;

	if (rest[0] == '\0' || strlen(rest) > MEM_NAME_MAX)
		return -EINVAL;
	ms = calloc(1, sizeof(*ms));
	if (ms == NULL)
		return -ENOMEM;
	ms->base.ops = &objstore_mem_ops;
	ms->bucket = mem_bucket_get(rest);
	if (ms->bucket == NULL) {
		free(ms);
		return -ENOMEM;
	}
	*out = &ms->base;
	return 0;
}

static void mem_close(struct objstore *os)
{
	free(os);
}

const struct objstore_ops objstore_mem_ops = {
	.scheme = "mem",
	.open = mem_open,
	.put = mem_put,
	.get = mem_get,
	.get_range = mem_get_range,
	.del = mem_del,
	.list = mem_list,
	.close = mem_close,
};
