/*
 * READDIR.  Entries are listed in cookie order from the per-directory
 * cookie index, not in name order: an entry keeps its cookie for as long
 * as it exists and new entries get larger cookies, so a listing resumed
 * from any cookie neither repeats nor skips an entry that stayed, however
 * many entries come and go between the pages.
 */
#include "meta_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct readdir_acc {
	struct meta_dirent *ents;
	size_t n;
	size_t max; /* one more than asked, to learn whether it is the end */
	int err;
};

static int readdir_cb(void *arg, const void *key, size_t klen, const void *val,
		      size_t vlen)
{
	struct readdir_acc *a = arg;
	struct meta_dirent *e = &a->ents[a->n];
	struct wire_in kr, vr;
	size_t nlen;

	wire_in_init(&kr, key, klen);
	wire_in_take(&kr, 9);
	e->cookie = wire_in_be64(&kr);
	wire_in_init(&vr, val, vlen);
	wire_in_u8(&vr);
	e->ino = wire_in_u64(&vr);
	nlen = wire_in_left(&vr);
	if (kr.err || vr.err || nlen == 0 || nlen > META_NAME_MAX)
		return a->err = -EIO;
	memcpy(e->name, wire_in_take(&vr, nlen), nlen);
	e->name[nlen] = '\0';
	return ++a->n == a->max;
}

static void readdir_dot(struct readdir_acc *a, const char *name, uint64_t ino,
			uint64_t cookie)
{
	struct meta_dirent *e = &a->ents[a->n++];

	strcpy(e->name, name);
	e->ino = ino;
	e->cookie = cookie;
}

static int readdir_attrs(struct meta_fs *fs, struct readdir_acc *a)
{
	int rc;

	for (size_t i = 0; i < a->n; i++) {
		rc = meta_inode_get(fs, a->ents[i].ino, &a->ents[i].attr);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int readdir_locked(struct meta_fs *fs, const struct meta_handle *dir,
			  uint64_t cookie, bool plus, struct readdir_acc *a,
			  struct meta_inode *dir_attr)
{
	struct meta_key prefix, start;
	int rc;

	rc = meta_dir_get(fs, dir, dir_attr);
	if (rc < 0)
		return rc;
	if (cookie < 1)
		readdir_dot(a, ".", dir->ino, 1);
	if (cookie < 2 && a->n < a->max)
		readdir_dot(a, "..", dir_attr->parent, 2);
	meta_key_prefix(&prefix, META_KEY_COOKIE, dir->ino);
	meta_key_cookie(&start, dir->ino,
			cookie < META_COOKIE_FIRST ? META_COOKIE_FIRST
						   : cookie + 1);
	if (a->n < a->max)
		rc = kv_scan(fs->kv, prefix.b, prefix.len, start.b, start.len,
			     readdir_cb, a);
	if (rc < 0 || a->err < 0)
		return rc < 0 ? rc : a->err;
	return plus ? readdir_attrs(fs, a) : 0;
}

int meta_fs_readdir(struct meta_fs *fs, const struct meta_handle *dir,
		    uint64_t cookie, uint32_t max, bool plus,
		    struct meta_dirent **ents, size_t *n, bool *eof,
		    struct meta_inode *dir_attr)
{
	struct readdir_acc a = { 0 };
	int rc;

	if (max == 0 || max > META_READDIR_MAX)
		max = META_READDIR_MAX;
	a.max = (size_t)max + 1;
	a.ents = calloc(a.max, sizeof(*a.ents));
	if (a.ents == NULL)
		return -ENOMEM;
	pthread_rwlock_rdlock(&fs->lock);
	rc = readdir_locked(fs, dir, cookie, plus, &a, dir_attr);
	pthread_rwlock_unlock(&fs->lock);
	if (rc < 0) {
		free(a.ents);
		return rc;
	}
	*eof = a.n < a.max;
	*n = *eof ? a.n : a.n - 1;
	*ents = a.ents;
	return 0;
}
