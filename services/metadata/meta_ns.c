/*
 * CREATE, REMOVE and LINK: the operations that add or drop one directory
 * entry.  Each validates under the writer lock, builds one batch (entry,
 * cookie index, inodes, superblock) and commits it whole.
 */
#include "meta_int.h"

#include <errno.h>
#include <string.h>

static int create_type_check(const struct meta_create *c)
{
	if (c->type < META_REG || c->type > META_FIFO)
		return -EINVAL;
	if (c->type == META_LNK) {
		if (c->target == NULL || c->target[0] == '\0')
			return -EINVAL;
		if (strlen(c->target) > META_TARGET_MAX)
			return -ENAMETOOLONG;
	}
	return c->how > META_EXCLUSIVE ? -EINVAL : 0;
}

/* The name exists: decides what CREATE answers. */
static int create_existing(struct meta_fs *fs, const struct meta_create *c,
			   const struct meta_dentry *de,
			   struct meta_inode *attr, bool *existed)
{
	int rc = meta_inode_get(fs, de->ino, attr);

	if (rc < 0)
		return rc;
	if (c->type != META_REG || attr->type != META_REG ||
	    c->how == META_GUARDED)
		return -EEXIST;
	if (c->how == META_EXCLUSIVE &&
	    (!attr->has_verf || memcmp(attr->verf, c->verf, 8) != 0))
		return -EEXIST;
	*existed = true;
	return 0;
}

static void create_inode_init(const struct meta_fs *fs,
			      const struct meta_create *c,
			      const struct meta_inode *dir,
			      struct meta_inode *in)
{
	memset(in, 0, sizeof(*in));
	in->ino = fs->sb.next_ino;
	in->gen = fs->sb.gen;
	in->type = c->type;
	in->mode = c->mode & 07777;
	in->nlink = c->type == META_DIR ? 2 : 1;
	in->uid = c->uid;
	in->gid = c->gid;
	in->atime = in->mtime = in->ctime = dir->mtime;
	if (c->type == META_DIR) {
		in->parent = dir->ino;
		in->next_cookie = META_COOKIE_FIRST;
	}
	if (c->type == META_CHR || c->type == META_BLK) {
		in->rdev_major = c->rdev_major;
		in->rdev_minor = c->rdev_minor;
	}
	if (c->type == META_LNK)
		in->size = strlen(c->target);
	if (c->how == META_EXCLUSIVE) {
		memcpy(in->verf, c->verf, 8);
		in->has_verf = 1;
	}
}

static int create_new(struct meta_fs *fs, const char *name,
		      const struct meta_create *c, struct meta_inode *dir,
		      struct meta_inode *in)
{
	struct meta_super sb = fs->sb;
	struct kv_batch *b = kv_batch_new();
	struct meta_key k;
	int rc;

	if (b == NULL)
		return -ENOMEM;
	dir->mtime = dir->ctime = meta_now();
	create_inode_init(fs, c, dir, in);
	sb.next_ino++;
	if (sb.next_ino > sb.ino_limit)
		sb.ino_limit = in->ino + fs->ino_reserve;
	sb.inodes++;
	if (c->type == META_DIR)
		dir->nlink++;
	rc = meta_put_entry(b, dir, name, in);
	if (rc == 0)
		rc = meta_put_inode(b, in);
	if (rc == 0)
		rc = meta_put_inode(b, dir);
	meta_key_link(&k, in->ino);
	if (rc == 0 && c->type == META_LNK)
		rc = kv_batch_put(b, k.b, k.len, c->target, in->size);
	if (rc == 0)
		rc = meta_commit(fs, b, &sb);
	kv_batch_free(b);
	return rc;
}

static int create_locked(struct meta_fs *fs, const struct meta_handle *dir,
			 const char *name, const struct meta_create *c,
			 struct meta_inode *attr, struct meta_inode *wcc,
			 bool *existed)
{
	struct meta_dentry de;
	int rc;

	rc = meta_dir_get(fs, dir, &wcc[0]);
	if (rc < 0)
		return rc;
	wcc[1] = wcc[0];
	if (meta_is_dot(name))
		return -EEXIST;
	rc = meta_name_check(name);
	if (rc == 0)
		rc = create_type_check(c);
	if (rc < 0)
		return rc;
	rc = meta_dentry_get(fs, dir->ino, name, &de);
	if (rc == 0)
		return create_existing(fs, c, &de, attr, existed);
	if (rc != -ENOENT)
		return rc;
	rc = create_new(fs, name, c, &wcc[1], attr);
	if (rc < 0)
		wcc[1] = wcc[0];
	return rc;
}

int meta_fs_create(struct meta_fs *fs, const struct meta_handle *dir,
		   const char *name, const struct meta_create *c,
		   struct meta_inode *attr, struct meta_inode *dir_before,
		   struct meta_inode *dir_after, bool *existed)
{
	struct meta_inode wcc[2] = { 0 };
	int rc;

	*existed = false;
	pthread_rwlock_wrlock(&fs->lock);
	rc = create_locked(fs, dir, name, c, attr, wcc, existed);
	pthread_rwlock_unlock(&fs->lock);
	/* Also for a file that existed: its own create may have failed to
	 * store the reservation. */
	if (rc == 0)
		rc = meta_ino_make_durable(fs, attr->ino);
	*dir_before = wcc[0];
	*dir_after = wcc[1];
	return rc;
}

static int remove_check(struct meta_fs *fs, const struct meta_inode *child,
			bool rmdir)
{
	int rc;

	if (!rmdir)
		return child->type == META_DIR ? -EISDIR : 0;
	if (child->type != META_DIR)
		return -ENOTDIR;
	rc = meta_dir_empty(fs, child->ino);
	return rc < 0 ? rc : rc ? 0 : -ENOTEMPTY;
}

/* Takes one link away from `in` within batch b: the inode goes when its
 * last link does (a directory has no other). */
static int unlink_inode(struct meta_fs *fs, struct kv_batch *b,
			struct meta_inode *in, struct meta_super *sb,
			struct meta_time now)
{
	if (in->type == META_DIR || in->nlink <= 1)
		return meta_drop_inode(fs, b, in, sb);
	in->nlink--;
	in->ctime = now;
	return meta_put_inode(b, in);
}

static int remove_locked(struct meta_fs *fs, const struct meta_handle *dir,
			 const char *name, bool rmdir, struct meta_inode *wcc)
{
	struct meta_super sb = fs->sb;
	struct meta_inode child;
	struct meta_dentry de;
	struct kv_batch *b;
	int rc;

	rc = meta_dir_get(fs, dir, &wcc[0]);
	wcc[1] = wcc[0];
	if (rc < 0)
		return rc;
	if (meta_is_dot(name))
		return strcmp(name, ".") == 0 ? -EINVAL : -ENOTEMPTY;
	rc = meta_name_check(name);
	if (rc == 0)
		rc = meta_dentry_get(fs, dir->ino, name, &de);
	if (rc == 0)
		rc = meta_inode_get(fs, de.ino, &child);
	if (rc == 0)
		rc = remove_check(fs, &child, rmdir);
	if (rc < 0)
		return rc;
	b = kv_batch_new();
	if (b == NULL)
		return -ENOMEM;
	wcc[1].mtime = wcc[1].ctime = meta_now();
	if (child.type == META_DIR)
		wcc[1].nlink--;
	rc = meta_del_entry(b, dir->ino, name, de.cookie);
	if (rc == 0)
		rc = unlink_inode(fs, b, &child, &sb, wcc[1].mtime);
	if (rc == 0)
		rc = meta_put_inode(b, &wcc[1]);
	if (rc == 0)
		rc = meta_commit(fs, b, &sb);
	kv_batch_free(b);
	if (rc < 0)
		wcc[1] = wcc[0];
	return rc;
}

int meta_fs_remove(struct meta_fs *fs, const struct meta_handle *dir,
		   const char *name, bool rmdir, struct meta_inode *dir_before,
		   struct meta_inode *dir_after)
{
	struct meta_inode wcc[2] = { 0 };
	int rc;

	pthread_rwlock_wrlock(&fs->lock);
	rc = remove_locked(fs, dir, name, rmdir, wcc);
	pthread_rwlock_unlock(&fs->lock);
	*dir_before = wcc[0];
	*dir_after = wcc[1];
	return rc;
}

static int link_locked(struct meta_fs *fs, const struct meta_handle *h,
		       const struct meta_handle *dir, const char *name,
		       struct meta_inode *in, struct meta_inode *wcc)
{
	struct meta_dentry de;
	struct kv_batch *b;
	int rc;

	rc = meta_handle_get(fs, h, in);
	if (rc == 0 && in->type == META_DIR)
		rc = -EPERM;
	if (rc == 0)
		rc = meta_dir_get(fs, dir, &wcc[0]);
	wcc[1] = wcc[0];
	if (rc == 0 && meta_is_dot(name))
		rc = -EEXIST;
	if (rc == 0)
		rc = meta_name_check(name);
	if (rc == 0)
		rc = meta_dentry_get(fs, dir->ino, name, &de);
	if (rc != -ENOENT)
		return rc == 0 ? -EEXIST : rc;
	b = kv_batch_new();
	if (b == NULL)
		return -ENOMEM;
	in->nlink++;
	in->ctime = wcc[1].mtime = wcc[1].ctime = meta_now();
	rc = meta_put_entry(b, &wcc[1], name, in);
	if (rc == 0)
		rc = meta_put_inode(b, in);
	if (rc == 0)
		rc = meta_put_inode(b, &wcc[1]);
	if (rc == 0)
		rc = meta_commit(fs, b, NULL);
	kv_batch_free(b);
	return rc;
}

int meta_fs_link(struct meta_fs *fs, const struct meta_handle *h,
		 const struct meta_handle *dir, const char *name,
		 struct meta_inode *attr, struct meta_inode *dir_before,
		 struct meta_inode *dir_after)
{
	struct meta_inode wcc[2] = { 0 };
	int rc;

	pthread_rwlock_wrlock(&fs->lock);
	rc = link_locked(fs, h, dir, name, attr, wcc);
	pthread_rwlock_unlock(&fs->lock);
	*dir_before = wcc[0];
	*dir_after = wcc[1];
	return rc;
}
