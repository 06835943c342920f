/*
 * The object store, behind one table of operations.  Backends: a local
 * directory ("file:///abs/path") for the embedded default and tests, and
 * memory ("mem://name") for unit tests.  S3 comes later behind the same
 * table.
 *
 * Objects are immutable once written and always written whole: a reader
 * sees the complete object or none.  Keys are '/'-separated relative names
 * ("segments/0000000100000003"); they never start with '/' and never hold
 * ".." components.  Every call returns 0 or a negative errno:
 * -ENOENT for a missing object, -EEXIST when put_if_absent lost, -EINVAL for
 * a bad key, -EIO (or the system's errno) for a backend failure.
 */
#ifndef ZEROFS_OBJSTORE_H
#define ZEROFS_OBJSTORE_H

#include <stddef.h>
#include <stdint.h>

struct objstore;

/* Called once per key, in ascending byte order of key.  A non-zero return
 * stops the listing and becomes list's return value. */
typedef int (*objstore_list_cb)(void *arg, const char *key, uint64_t size);

struct objstore_ops {
	const char *scheme;
	int (*open)(const char *rest, struct objstore **out);
	/* Writes the object whole.  With if_absent, fails with -EEXIST if the
	 * key exists; exactly one of two racing creators wins. */
	int (*put)(struct objstore *os, const char *key, const void *data,
		   size_t len, int if_absent);
	/* *data is malloc'd and owned by the caller. */
	int (*get)(struct objstore *os, const char *key, void **data,
		   size_t *len);
	/* Reads up to len bytes at off into buf; *got is short at the end of
	 * the object. */
	int (*get_range)(struct objstore *os, const char *key, uint64_t off,
			 size_t len, void *buf, size_t *got);
	/* Deleting a missing object succeeds. */
	int (*del)(struct objstore *os, const char *key);
	int (*list)(struct objstore *os, const char *prefix,
		    objstore_list_cb cb, void *arg);
	void (*close)(struct objstore *os);
};

/* Every backend's state starts with this. */
struct objstore {
	const struct objstore_ops *ops;
};

/* Opens the store a URL names; fails with -EINVAL (unknown scheme or bad
 * URL) or the backend's error. */
int objstore_open(const char *url, struct objstore **out);

static inline int objstore_put(struct objstore *os, const char *key,
			       const void *data, size_t len)
{
	return os->ops->put(os, key, data, len, 0);
}

static inline int objstore_put_if_absent(struct objstore *os, const char *key,
					 const void *data, size_t len)
{
	return os->ops->put(os, key, data, len, 1);
}

static inline int objstore_get(struct objstore *os, const char *key,
			       void **data, size_t *len)
{
	return os->ops->get(os, key, data, len);
}

static inline int objstore_get_range(struct objstore *os, const char *key,
				     uint64_t off, size_t len, void *buf,
				     size_t *got)
{
	return os->ops->get_range(os, key, off, len, buf, got);
}

static inline int objstore_del(struct objstore *os, const char *key)
{
	return os->ops->del(os, key);
}

static inline int objstore_list(struct objstore *os, const char *prefix,
				objstore_list_cb cb, void *arg)
{
	return os->ops->list(os, prefix, cb, arg);
}

static inline void objstore_close(struct objstore *os)
{
	if (os != NULL)
		os->ops->close(os);
}

/* Returns 0 if key is a valid object name, else -EINVAL. */
int objstore_key_check(const char *key);

#endif
