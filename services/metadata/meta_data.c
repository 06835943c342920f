/*
 * Attributes and file data pointers: SETATTR, GET_EXTENTS, COMMIT_WRITE
 * and TRUNCATE.  An extent maps one chunk of a regular file to the frame
 * that holds it; the inode's `used` and the superblock's used-bytes
 * counter are the sums of the frames' lengths and change in the same
 * batch as the extents.
 */
#include "meta_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int regular_check(const struct meta_inode *in)
{
	if (in->type == META_DIR)
		return -EISDIR;
	return in->type == META_REG ? 0 : -EINVAL;
}

static int time_eq(struct meta_time a, struct meta_time b)
{
	return a.sec == b.sec && a.nsec == b.nsec;
}

static void setattr_apply(struct meta_inode *in, const struct meta_setattr *sa)
{
	struct meta_time now = meta_now();

	if (sa->valid & META_SA_MODE)
		in->mode = sa->mode & 07777;
	if (sa->valid & META_SA_UID)
		in->uid = sa->uid;
	if (sa->valid & META_SA_GID)
		in->gid = sa->gid;
	if (sa->valid & META_SA_ATIME)
		in->atime = sa->atime;
	if (sa->valid & META_SA_ATIME_NOW)
		in->atime = now;
	if (sa->valid & META_SA_MTIME)
		in->mtime = sa->mtime;
	if (sa->valid & META_SA_MTIME_NOW)
		in->mtime = now;
	if (sa->valid != 0)
		in->ctime = now;
}

int meta_fs_setattr(struct meta_fs *fs, const struct meta_handle *h,
		    const struct meta_setattr *sa, struct meta_inode *before,
		    struct meta_inode *after)
{
	struct kv_batch *b = NULL;
	int rc;

	pthread_rwlock_wrlock(&fs->lock);
	rc = meta_handle_get(fs, h, before);
	if (rc == 0 && sa->guard && !time_eq(before->ctime, sa->guard_ctime))
		rc = -EAGAIN;
	*after = *before;
	if (rc == 0 && sa->valid != 0) {
		setattr_apply(after, sa);
		b = kv_batch_new();
		rc = b == NULL ? -ENOMEM : meta_put_inode(b, after);
		if (rc == 0)
			rc = meta_commit(fs, b, NULL);
		kv_batch_free(b);
	}
	pthread_rwlock_unlock(&fs->lock);
	if (rc < 0)
		*after = *before;
	return rc;
}

struct extents_acc {
	struct meta_extent *ext;
	size_t n;
	uint64_t last; /* the last index wanted */
	int err;
};

static int extents_cb(void *arg, const void *key, size_t klen, const void *val,
		      size_t vlen)
{
	struct extents_acc *a = arg;
	struct wire_in r;
	uint64_t index;

	wire_in_init(&r, key, klen);
	wire_in_take(&r, 9);
	index = wire_in_be64(&r);
	if (r.err)
		return a->err = -EIO;
	if (index > a->last)
		return 1;
	if (meta_extent_decode(val, vlen, index, &a->ext[a->n]) < 0)
		return a->err = -EIO;
	a->n++;
	return 0;
}

int meta_fs_get_extents(struct meta_fs *fs, const struct meta_handle *h,
			uint64_t first, uint32_t count,
			struct meta_extent **ext, size_t *n,
			struct meta_inode *attr)
{
	struct extents_acc a = { 0 };
	struct meta_key prefix, start;
	int rc;

	if (count > META_EXTENTS_MAX)
		count = META_EXTENTS_MAX;
	a.ext = calloc(count ? count : 1, sizeof(*a.ext));
	if (a.ext == NULL)
		return -ENOMEM;
	a.last = first + count - 1 < first ? UINT64_MAX : first + count - 1;
	meta_key_prefix(&prefix, META_KEY_EXTENT, h->ino);
	meta_key_extent(&start, h->ino, first);
	pthread_rwlock_rdlock(&fs->lock);
	rc = meta_handle_get(fs, h, attr);
	if (rc == 0)
		rc = regular_check(attr);
	if (rc == 0 && count > 0)
		rc = kv_scan(fs->kv, prefix.b, prefix.len, start.b, start.len,
			     extents_cb, &a);
	pthread_rwlock_unlock(&fs->lock);
	rc = rc < 0 ? rc : a.err;
	if (rc < 0) {
		free(a.ext);
		return rc;
	}
	*ext = a.ext;
	*n = a.n;
	return 0;
}

/* The stored length of chunk `index`, or 0 for a hole. */
static int extent_len_get(struct meta_fs *fs, uint64_t ino, uint64_t index,
			  uint64_t *len)
{
	struct meta_extent e;
	struct meta_key k;
	size_t vlen;
	void *v;
	int rc;

	meta_key_extent(&k, ino, index);
	rc = kv_get(fs->kv, k.b, k.len, &v, &vlen);
	*len = 0;
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	rc = meta_extent_decode(v, vlen, index, &e);
	free(v);
	if (rc == 0)
		*len = e.length;
	return rc;
}

static int extent_put(struct kv_batch *b, uint64_t ino,
		      const struct meta_extent *e)
{
	struct wire_out w = { 0 };
	struct meta_key k;
	int rc;

	meta_key_extent(&k, ino, e->index);
	meta_extent_encode(&w, e);
	rc = w.err ? w.err : kv_batch_put(b, k.b, k.len, w.p, w.len);
	wire_out_free(&w);
	return rc;
}

/* Replaces chunk e->index's extent in b, moving the used counters by the
 * difference.  `old` is the length it replaces. */
static int extent_replace(struct kv_batch *b, struct meta_inode *in,
			  struct meta_super *sb, const struct meta_extent *e,
			  uint64_t old)
{
	in->used = in->used - (old < in->used ? old : in->used) + e->length;
	sb->used_bytes = sb->used_bytes -
			 (old < sb->used_bytes ? old : sb->used_bytes) +
			 e->length;
	return extent_put(b, in->ino, e);
}

/* The length chunk ext[i].index had before ext[i]: an earlier extent of
 * the same request, else the stored one. */
static int commit_old_len(struct meta_fs *fs, uint64_t ino,
			  const struct meta_extent *ext, size_t i,
			  uint64_t *old)
{
	for (size_t j = i; j-- > 0;) {
		if (ext[j].index == ext[i].index) {
			*old = ext[j].length;
			return 0;
		}
	}
	return extent_len_get(fs, ino, ext[i].index, old);
}

static int commit_locked(struct meta_fs *fs, const struct meta_handle *h,
			 const struct meta_extent *ext, size_t n, uint64_t end,
			 struct meta_inode *before, struct meta_inode *after)
{
	struct meta_super sb = fs->sb;
	struct kv_batch *b;
	uint64_t old;
	int rc;

	rc = meta_handle_get(fs, h, before);
	*after = *before;
	if (rc == 0)
		rc = regular_check(before);
	if (rc < 0)
		return rc;
	b = kv_batch_new();
	if (b == NULL)
		return -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = commit_old_len(fs, h->ino, ext, i, &old);
		if (rc == 0)
			rc = extent_replace(b, after, &sb, &ext[i], old);
	}
	if (end > after->size)
		after->size = end;
	after->mtime = after->ctime = meta_now();
	if (rc == 0)
		rc = meta_put_inode(b, after);
	if (rc == 0)
		rc = meta_commit(fs, b, &sb);
	kv_batch_free(b);
	return rc;
}

int meta_fs_commit_write(struct meta_fs *fs, const struct meta_handle *h,
			 const struct meta_extent *ext, size_t n, uint64_t end,
			 struct meta_inode *before, struct meta_inode *after)
{
	int rc;

	if (n > META_EXTENTS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (ext[i].length == 0)
			return -EINVAL;
	memset(before, 0, sizeof(*before));
	pthread_rwlock_wrlock(&fs->lock);
	rc = commit_locked(fs, h, ext, n, end, before, after);
	pthread_rwlock_unlock(&fs->lock);
	if (rc < 0)
		*after = *before;
	return rc;
}

struct drop_ctx {
	struct kv_batch *b;
	struct meta_inode *in;
	struct meta_super *sb;
	int err;
};

static int drop_cb(void *arg, const void *key, size_t klen, const void *val,
		   size_t vlen)
{
	struct drop_ctx *d = arg;
	struct meta_extent e;
	uint64_t len;

	if (meta_extent_decode(val, vlen, 0, &e) < 0)
		return d->err = -EIO;
	len = e.length;
	d->in->used -= len < d->in->used ? len : d->in->used;
	d->sb->used_bytes -= len < d->sb->used_bytes ? len : d->sb->used_bytes;
	return d->err = kv_batch_del(d->b, key, klen);
}

static int truncate_batch(struct meta_fs *fs, struct kv_batch *b,
			  uint64_t drop_from, const struct meta_extent *bnd,
			  struct meta_inode *in, struct meta_super *sb)
{
	struct drop_ctx d = { b, in, sb, 0 };
	struct meta_key prefix, start;
	uint64_t old = 0;
	int rc;

	meta_key_prefix(&prefix, META_KEY_EXTENT, in->ino);
	meta_key_extent(&start, in->ino, drop_from);
	rc = kv_scan(fs->kv, prefix.b, prefix.len, start.b, start.len, drop_cb,
		     &d);
	if (rc == 0)
		rc = d.err;
	if (rc == 0 && bnd != NULL && bnd->index < drop_from)
		rc = extent_len_get(fs, in->ino, bnd->index, &old);
	if (rc == 0 && bnd != NULL)
		rc = extent_replace(b, in, sb, bnd, old);
	return rc;
}

int meta_fs_truncate(struct meta_fs *fs, const struct meta_handle *h,
		     uint64_t size, uint64_t drop_from,
		     const struct meta_extent *boundary,
		     struct meta_inode *before, struct meta_inode *after)
{
	struct meta_super sb;
	struct kv_batch *b = NULL;
	int rc;

	if (boundary != NULL && boundary->length == 0)
		return -EINVAL;
	memset(before, 0, sizeof(*before));
	pthread_rwlock_wrlock(&fs->lock);
	sb = fs->sb;
	rc = meta_handle_get(fs, h, before);
	*after = *before;
	if (rc == 0)
		rc = regular_check(before);
	if (rc == 0)
		b = kv_batch_new();
	if (rc == 0 && b == NULL)
		rc = -ENOMEM;
	if (rc == 0)
		rc = truncate_batch(fs, b, drop_from, boundary, after, &sb);
	after->size = size;
	after->mtime = after->ctime = meta_now();
	if (rc == 0)
		rc = meta_put_inode(b, after);
	if (rc == 0)
		rc = meta_commit(fs, b, &sb);
	pthread_rwlock_unlock(&fs->lock);
	kv_batch_free(b);
	if (rc < 0)
		*after = *before;
	return rc;
}
