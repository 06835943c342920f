/*
 * RENAME, with POSIX's rules: renaming a name onto the inode it already
 * names does nothing; a file replaces a file and a directory replaces an
 * empty directory; a directory cannot move below itself.  Moving a
 * directory between parents updates its ".." and both parents' link
 * counts.  Everything, including the replaced inode's lost link, is one
 * batch.
 */
#include "meta_int.h"

#include <errno.h>
#include <string.h>

struct rename_op {
	struct meta_inode *sdir; /* source directory, as it will be */
	struct meta_inode *ddir; /* target directory (may alias sdir) */
	struct meta_dentry sde;
	struct meta_inode src;
	struct meta_dentry dde;
	struct meta_inode dst;
	int have_dst;
};

/* -EINVAL if dir is ino or lies below it. */
static int rename_loop_check(struct meta_fs *fs, uint64_t ino, uint64_t dir)
{
	struct meta_inode in;
	int rc;

	for (int depth = 0; depth < 4096; depth++) {
		if (dir == ino)
			return -EINVAL;
		if (dir == META_ROOT_INO)
			return 0;
		rc = meta_inode_get(fs, dir, &in);
		if (rc < 0)
			return rc;
		dir = in.parent;
	}
	return -ELOOP;
}

static int rename_dst_check(struct meta_fs *fs, const struct rename_op *op)
{
	int rc;

	if (op->src.type == META_DIR && op->dst.type != META_DIR)
		return -ENOTDIR;
	if (op->src.type != META_DIR && op->dst.type == META_DIR)
		return -EISDIR;
	if (op->dst.type != META_DIR)
		return 0;
	rc = meta_dir_empty(fs, op->dst.ino);
	return rc < 0 ? rc : rc ? 0 : -ENOTEMPTY;
}

static int rename_lookup(struct meta_fs *fs, const char *sname,
			 const char *dname, struct rename_op *op)
{
	int rc;

	rc = meta_dentry_get(fs, op->sdir->ino, sname, &op->sde);
	if (rc == 0)
		rc = meta_inode_get(fs, op->sde.ino, &op->src);
	if (rc < 0)
		return rc;
	rc = meta_dentry_get(fs, op->ddir->ino, dname, &op->dde);
	if (rc == 0)
		rc = meta_inode_get(fs, op->dde.ino, &op->dst);
	if (rc == -ENOENT)
		return 0;
	op->have_dst = rc == 0;
	return rc;
}

static int rename_batch(struct meta_fs *fs, struct kv_batch *b,
			const char *sname, const char *dname,
			struct rename_op *op, struct meta_super *sb)
{
	struct meta_time now = meta_now();
	int rc;

	rc = meta_del_entry(b, op->sdir->ino, sname, op->sde.cookie);
	if (rc == 0 && op->have_dst)
		rc = meta_del_entry(b, op->ddir->ino, dname, op->dde.cookie);
	if (rc == 0 && op->have_dst && op->dst.type == META_DIR) {
		op->ddir->nlink--;
		rc = meta_drop_inode(fs, b, &op->dst, sb);
	} else if (rc == 0 && op->have_dst) {
		op->dst.ctime = now;
		rc = --op->dst.nlink == 0 ? meta_drop_inode(fs, b, &op->dst, sb)
					  : meta_put_inode(b, &op->dst);
	}
	if (op->src.type == META_DIR && op->sdir != op->ddir) {
		op->src.parent = op->ddir->ino;
		op->sdir->nlink--;
		op->ddir->nlink++;
	}
	op->src.ctime = now;
	op->sdir->mtime = op->sdir->ctime = now;
	op->ddir->mtime = op->ddir->ctime = now;
	if (rc == 0)
		rc = meta_put_entry(b, op->ddir, dname, &op->src);
	if (rc == 0)
		rc = meta_put_inode(b, &op->src);
	if (rc == 0)
		rc = meta_put_inode(b, op->sdir);
	if (rc == 0 && op->ddir != op->sdir)
		rc = meta_put_inode(b, op->ddir);
	return rc;
}

static int rename_names_check(const char *sname, const char *dname)
{
	int rc;

	if (meta_is_dot(sname) || meta_is_dot(dname))
		return -EINVAL;
	rc = meta_name_check(sname);
	return rc ? rc : meta_name_check(dname);
}

static int rename_locked(struct meta_fs *fs, const struct meta_handle *sh,
			 const char *sname, const struct meta_handle *dh,
			 const char *dname, struct meta_inode *wcc)
{
	struct rename_op op = { .sdir = &wcc[1], .ddir = &wcc[3] };
	struct meta_super sb = fs->sb;
	struct kv_batch *b;
	int rc;

	rc = meta_dir_get(fs, sh, &wcc[0]);
	if (rc == 0)
		rc = meta_dir_get(fs, dh, &wcc[2]);
	wcc[1] = wcc[0];
	wcc[3] = wcc[2];
	if (rc == 0)
		rc = rename_names_check(sname, dname);
	if (sh->ino == dh->ino)
		op.ddir = op.sdir;
	if (rc == 0)
		rc = rename_lookup(fs, sname, dname, &op);
	if (rc < 0 || (op.have_dst && op.dst.ino == op.src.ino))
		return rc;
	if (op.src.type == META_DIR)
		rc = rename_loop_check(fs, op.src.ino, op.ddir->ino);
	if (rc == 0 && op.have_dst)
		rc = rename_dst_check(fs, &op);
	if (rc < 0)
		return rc;
	b = kv_batch_new();
	if (b == NULL)
		return -ENOMEM;
	rc = rename_batch(fs, b, sname, dname, &op, &sb);
	if (rc == 0)
		rc = meta_commit(fs, b, &sb);
	kv_batch_free(b);
	if (op.ddir == op.sdir)
		wcc[3] = wcc[1];
	return rc;
}

int meta_fs_rename(struct meta_fs *fs, const struct meta_handle *src_dir,
		   const char *src_name, const struct meta_handle *dst_dir,
		   const char *dst_name, struct meta_inode wcc[4])
{
	int rc;

	memset(wcc, 0, 4 * sizeof(wcc[0]));
	pthread_rwlock_wrlock(&fs->lock);
	rc = rename_locked(fs, src_dir, src_name, dst_dir, dst_name, wcc);
	pthread_rwlock_unlock(&fs->lock);
	if (rc < 0) {
		wcc[1] = wcc[0];
		wcc[3] = wcc[2];
	}
	return rc;
}
