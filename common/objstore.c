/*
 * The front of the object store: picks the backend a URL's scheme names and
 * checks object keys, so every backend accepts exactly the same names.
 */
#include "objstore.h"

#include <errno.h>
#include <string.h>

extern const struct objstore_ops objstore_file_ops;
extern const struct objstore_ops objstore_mem_ops;

static const struct objstore_ops *const objstore_backends[] = {
	&objstore_file_ops,
	&objstore_mem_ops,
};

#define OBJSTORE_KEY_MAX 512

int objstore_open(const char *url, struct objstore **out)
{
	const char *sep;
	size_t n;

	*out = NULL;
	if (url == NULL)
		return -EINVAL;
	sep = strstr(url, "://");
	if (sep == NULL || sep == url)
		return -EINVAL;
	n = (size_t)(sep - url);
	for (size_t i = 0;
	     i < sizeof(objstore_backends) / sizeof(objstore_backends[0]);
	     i++) {
		const struct objstore_ops *ops = objstore_backends[i];

		if (strlen(ops->scheme) == n &&
		    strncmp(ops->scheme, url, n) == 0)
			return ops->open(sep + 3, out);
	}
	return -EINVAL;
}

/* A component is the text between two '/' separators. */
static int objstore_component_check(const char *start, size_t len)
{
	if (len == 0)
		return -EINVAL;
	if (len == 1 && start[0] == '.')
		return -EINVAL;
	if (len == 2 && start[0] == '.' && start[1] == '.')
		return -EINVAL;
	return 0;
}

int objstore_key_check(const char *key)
{
	const char *start;
	size_t len;

	if (key == NULL)
		return -EINVAL;
	len = strnlen(key, OBJSTORE_KEY_MAX + 1);
	if (len == 0 || len > OBJSTORE_KEY_MAX)
		return -EINVAL;
	start = key;
	for (const char *p = key;; p++) {
		if (*p == '/' || *p == '\0') {
			if (objstore_component_check(start,
						     (size_t)(p - start)) < 0)
				return -EINVAL;
			if (*p == '\0')
				return 0;
			start = p + 1;
		} else if ((unsigned char)*p < 0x20 ||
			   (unsigned char)*p > 0x7e) {
			return -EINVAL;
		}
	}
}
