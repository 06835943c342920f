/*
 * Opening the filesystem, and the reads that need no listing: GETATTR,
 * LOOKUP, READLINK and STATFS.  On first start the superblock and the root
 * directory are written in one batch; afterwards the stored chunk size
 * wins over the configured one, since every extent was cut to it.
 *
 * Every open also starts a new generation and a new reservation of inode
 * numbers, durable before anything is served, so that a handle handed out
 * before a crash can never name an inode created after it (FORMAT.md).
 */
#include "meta_int.h"

#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* The generation after gen: each start's differs from every earlier one's
 * until the 32-bit counter wraps; 0 and the root's own are skipped. */
static uint32_t fs_gen_next(uint32_t gen)
{
	do
		gen++;
	while (gen == 0 || gen == META_ROOT_GEN);
	return gen;
}

/* Commits b with sb and waits until it is stored.  Only at open: nothing
 * else is pending then, so no record points at data the flusher holds and
 * the sync needs no barrier. */
static int fs_commit_durable(struct meta_fs *fs, struct kv_batch *b,
			     const struct meta_super *sb)
{
	int rc = meta_commit(fs, b, sb);

	if (rc == 0)
		rc = kv_sync(fs->kv, NULL, NULL, NULL);
	if (rc == 0)
		atomic_store(&fs->ino_durable, sb->ino_limit);
	else
		log_err("metadata: open: superblock: not stored (%s)",
			strerror(-rc));
	return rc;
}

static int fs_create(struct meta_fs *fs, const struct meta_fs_options *opt)
{
	struct meta_super sb = { 0 };
	struct meta_inode root = { 0 };
	struct kv_batch *b;
	int rc;

	/* A random first generation makes handles of an earlier filesystem
	 * in the same place stale rather than aliases. */
	sb.gen = fs_gen_next(randombytes_random());
	sb.chunk_size = opt->chunk_size;
	sb.next_ino = META_ROOT_INO + 1;
	sb.ino_limit = sb.next_ino + fs->ino_reserve;
	sb.inodes = 1;
	root.ino = META_ROOT_INO;
	root.gen = META_ROOT_GEN;
	root.type = META_DIR;
	root.mode = 0755;
	root.nlink = 2;
	root.parent = META_ROOT_INO;
	root.next_cookie = META_COOKIE_FIRST;
	root.atime = root.mtime = root.ctime = meta_now();
	b = kv_batch_new();
	if (b == NULL)
		return -ENOMEM;
	rc = meta_put_inode(b, &root);
	if (rc == 0)
		rc = fs_commit_durable(fs, b, &sb);
	kv_batch_free(b);
	if (rc == 0)
		log_info("metadata: open: filesystem: created, chunk size %u",
			 sb.chunk_size);
	return rc;
}

/* A new start: a new generation, and allocation resumes past every number
 * an earlier start may have handed out (its durable reservation), since
 * its creates after the last sync are lost but their handles may live. */
static int fs_start(struct meta_fs *fs)
{
	struct meta_super sb = fs->sb;
	struct kv_batch *b;
	int rc;

	sb.gen = fs_gen_next(sb.gen);
	if (sb.next_ino < sb.ino_limit)
		sb.next_ino = sb.ino_limit;
	sb.ino_limit = sb.next_ino + fs->ino_reserve;
	b = kv_batch_new();
	if (b == NULL)
		return -ENOMEM;
	rc = fs_commit_durable(fs, b, &sb);
	kv_batch_free(b);
	if (rc == 0)
		log_info("metadata: open: filesystem: generation %" PRIu32
			 ", inode numbers from %" PRIu64,
			 sb.gen, sb.next_ino);
	return rc;
}

static int fs_load(struct meta_fs *fs, const struct meta_fs_options *opt)
{
	struct meta_key k;
	void *v;
	size_t len;
	int rc;

	meta_key_super(&k);
	rc = kv_get(fs->kv, k.b, k.len, &v, &len);
	if (rc == -ENOENT)
		return fs_create(fs, opt);
	if (rc < 0)
		return rc;
	rc = meta_super_decode(v, len, &fs->sb);
	free(v);
	if (rc < 0) {
		log_err("metadata: open: superblock: undecodable");
		return rc;
	}
	if (opt->chunk_size != 0 && opt->chunk_size != fs->sb.chunk_size)
		log_warn("metadata: open: chunk_size: config says %u, the "
			 "filesystem keeps %u",
			 opt->chunk_size, fs->sb.chunk_size);
	return fs_start(fs);
}

/* The open's own sync runs no barrier, which is right only if the engine
 * holds nothing unsynced that might point at data. */
static int fs_kv_check(struct kv *kv)
{
	struct kv_stats st;

	kv_stats_get(kv, &st);
	if (st.last_seq == st.durable_seq)
		return 0;
	log_err("metadata: open: filesystem: the engine holds unsynced "
		"batches %" PRIu64 "..%" PRIu64,
		st.durable_seq + 1, st.last_seq);
	return -EINVAL;
}

int meta_fs_open(struct kv *kv, const struct meta_fs_options *opt,
		 struct meta_fs **out)
{
	struct meta_fs *fs;
	int rc;

	if (opt->chunk_size == 0)
		return -EINVAL;
	rc = fs_kv_check(kv);
	if (rc < 0)
		return rc;
	fs = calloc(1, sizeof(*fs));
	if (fs == NULL)
		return -ENOMEM;
	fs->kv = kv;
	fs->max_bytes = opt->max_bytes;
	fs->ino_reserve =
	    opt->ino_reserve ? opt->ino_reserve : META_INO_RESERVE;
	fs->before_upload = opt->before_upload;
	fs->before_upload_arg = opt->before_upload_arg;
	atomic_flag_clear(&fs->warned_no_barrier);
	pthread_rwlock_init(&fs->lock, NULL);
	rc = fs_load(fs, opt);
	if (rc < 0) {
		meta_fs_close(fs);
		return rc;
	}
	*out = fs;
	return 0;
}

/* Called after the create's batch is written and the lock released.  The
 * sync covers every batch written before it, so the ino_limit committed
 * when it starts is stored when it returns. */
int meta_ino_make_durable(struct meta_fs *fs, uint64_t ino)
{
	uint64_t limit, cur;
	int rc;

	if (ino < atomic_load(&fs->ino_durable))
		return 0;
	if (fs->before_upload == NULL) {
		if (!atomic_flag_test_and_set(&fs->warned_no_barrier))
			log_warn("metadata: create: inode %" PRIu64
				 ": reservation not synced, no barrier given",
				 ino);
		return 0;
	}
	pthread_rwlock_rdlock(&fs->lock);
	limit = fs->sb.ino_limit;
	pthread_rwlock_unlock(&fs->lock);
	rc = kv_sync(fs->kv, fs->before_upload, fs->before_upload_arg, NULL);
	if (rc < 0) {
		log_err("metadata: create: inode %" PRIu64
			": reservation not stored (%s)",
			ino, strerror(-rc));
		return rc;
	}
	cur = atomic_load(&fs->ino_durable);
	while (cur < limit &&
	       !atomic_compare_exchange_weak(&fs->ino_durable, &cur, limit))
		;
	return 0;
}

void meta_fs_close(struct meta_fs *fs)
{
	if (fs == NULL)
		return;
	pthread_rwlock_destroy(&fs->lock);
	free(fs);
}

int meta_fs_getattr(struct meta_fs *fs, const struct meta_handle *h,
		    struct meta_inode *attr)
{
	int rc;

	pthread_rwlock_rdlock(&fs->lock);
	rc = meta_handle_get(fs, h, attr);
	pthread_rwlock_unlock(&fs->lock);
	return rc;
}

static int lookup_locked(struct meta_fs *fs, const struct meta_handle *dir,
			 const char *name, struct meta_inode *attr,
			 struct meta_inode *dir_attr)
{
	struct meta_dentry de;
	int rc;

	rc = meta_dir_get(fs, dir, dir_attr);
	if (rc < 0)
		return rc;
	if (strcmp(name, ".") == 0) {
		*attr = *dir_attr;
		return 0;
	}
	if (strcmp(name, "..") == 0)
		return meta_inode_get(fs, dir_attr->parent, attr);
	rc = meta_name_check(name);
	if (rc == 0)
		rc = meta_dentry_get(fs, dir->ino, name, &de);
	if (rc == 0)
		rc = meta_inode_get(fs, de.ino, attr);
	return rc;
}

int meta_fs_lookup(struct meta_fs *fs, const struct meta_handle *dir,
		   const char *name, struct meta_inode *attr,
		   struct meta_inode *dir_attr)
{
	int rc;

	pthread_rwlock_rdlock(&fs->lock);
	rc = lookup_locked(fs, dir, name, attr, dir_attr);
	pthread_rwlock_unlock(&fs->lock);
	return rc;
}

int meta_fs_readlink(struct meta_fs *fs, const struct meta_handle *h,
		     char **target, struct meta_inode *attr)
{
	struct meta_key k;
	size_t len;
	void *v;
	int rc;

	pthread_rwlock_rdlock(&fs->lock);
	rc = meta_handle_get(fs, h, attr);
	if (rc == 0 && attr->type != META_LNK)
		rc = -EINVAL;
	meta_key_link(&k, h->ino);
	if (rc == 0)
		rc = kv_get(fs->kv, k.b, k.len, &v, &len);
	pthread_rwlock_unlock(&fs->lock);
	if (rc < 0)
		return rc;
	*target = malloc(len + 1);
	if (*target == NULL) {
		free(v);
		return -ENOMEM;
	}
	memcpy(*target, v, len);
	(*target)[len] = '\0';
	free(v);
	return 0;
}

int meta_fs_statfs(struct meta_fs *fs, const struct meta_handle *h,
		   struct meta_statfs *st, struct meta_inode *attr)
{
	int rc;

	pthread_rwlock_rdlock(&fs->lock);
	rc = meta_handle_get(fs, h, attr);
	st->total_bytes = fs->max_bytes;
	st->free_bytes = fs->max_bytes > fs->sb.used_bytes
			     ? fs->max_bytes - fs->sb.used_bytes
			     : 0;
	st->total_files = META_FILES_BUDGET;
	st->free_files = META_FILES_BUDGET - fs->sb.inodes;
	st->chunk_size = fs->sb.chunk_size;
	pthread_rwlock_unlock(&fs->lock);
	return rc;
}
