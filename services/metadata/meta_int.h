/*
 * What the filesystem layer's files share: its state, the key encoding
 * (FORMAT.md explains it) and the helpers every operation uses.
 */
#ifndef ZEROFS_META_INT_H
#define ZEROFS_META_INT_H

#include "meta_fs.h"
#include "wire.h"

#include <pthread.h>
#include <stdatomic.h>

#define META_KEY_SUPER	'S'
#define META_KEY_INODE	'I'
#define META_KEY_DIRENT 'D'
#define META_KEY_COOKIE 'C'
#define META_KEY_LINK	'L'
#define META_KEY_EXTENT 'E'

/* The first cookie of a real entry: 1 and 2 are "." and "..". */
#define META_COOKIE_FIRST 3

/* Inode numbers reserved ahead of use, per open and per crossing. */
#define META_INO_RESERVE 65536

struct meta_super {
	uint32_t gen; /* of the inodes this start creates; raised per open */
	uint32_t chunk_size;
	uint64_t next_ino;
	uint64_t used_bytes;
	uint64_t inodes;
	uint64_t ino_limit; /* numbers below it may have been handed out */
};

struct meta_fs {
	struct kv *kv;
	pthread_rwlock_t lock; /* mutations write, reads share */
	struct meta_super sb;  /* as last committed */
	uint64_t max_bytes;
	uint64_t ino_reserve;
	kv_before_upload_cb before_upload;
	void *before_upload_arg;
	/* An ino_limit known to be in the store: creates below it need no
	 * sync of their own. */
	_Atomic uint64_t ino_durable;
	atomic_flag warned_no_barrier;
};

struct meta_key {
	uint8_t b[1 + 8 + 8 + META_NAME_MAX];
	size_t len;
};

/* A directory entry's value. */
struct meta_dentry {
	uint64_t ino;
	uint64_t cookie;
	uint32_t type;
};

void meta_key_super(struct meta_key *k);
void meta_key_inode(struct meta_key *k, uint64_t ino);
void meta_key_dirent(struct meta_key *k, uint64_t parent, const char *name);
void meta_key_cookie(struct meta_key *k, uint64_t parent, uint64_t cookie);
void meta_key_link(struct meta_key *k, uint64_t ino);
void meta_key_extent(struct meta_key *k, uint64_t ino, uint64_t index);
/* The prefix of every key of one kind and one inode. */
void meta_key_prefix(struct meta_key *k, uint8_t kind, uint64_t ino);

void meta_inode_encode(struct wire_out *w, const struct meta_inode *in);
int meta_inode_decode(const void *p, size_t len, uint64_t ino,
		      struct meta_inode *in);
void meta_super_encode(struct wire_out *w, const struct meta_super *sb);
int meta_super_decode(const void *p, size_t len, struct meta_super *sb);
void meta_extent_encode(struct wire_out *w, const struct meta_extent *e);
int meta_extent_decode(const void *p, size_t len, uint64_t index,
		       struct meta_extent *e);

/* Reads: -ENOENT when absent. */
int meta_inode_get(struct meta_fs *fs, uint64_t ino, struct meta_inode *in);
int meta_dentry_get(struct meta_fs *fs, uint64_t parent, const char *name,
		    struct meta_dentry *de);
/* -ESTALE unless the inode exists with the handle's generation. */
int meta_handle_get(struct meta_fs *fs, const struct meta_handle *h,
		    struct meta_inode *in);
/* meta_handle_get, then -ENOTDIR unless it is a directory. */
int meta_dir_get(struct meta_fs *fs, const struct meta_handle *h,
		 struct meta_inode *in);
/* 0, -EINVAL (empty, or holds '/') or -ENAMETOOLONG. */
int meta_name_check(const char *name);
int meta_is_dot(const char *name);
struct meta_time meta_now(void);

/* Batch helpers; each returns 0 or -ENOMEM. */
int meta_put_inode(struct kv_batch *b, const struct meta_inode *in);
int meta_put_super(struct kv_batch *b, const struct meta_super *sb);
/* Adds entry name -> child in dir (taking the dir's next cookie). */
int meta_put_entry(struct kv_batch *b, struct meta_inode *dir, const char *name,
		   const struct meta_inode *child);
/* Deletes entry name (with cookie) from dir. */
int meta_del_entry(struct kv_batch *b, uint64_t dir, const char *name,
		   uint64_t cookie);
/* Deletes the inode, its symlink target and extents; adjusts sb. */
int meta_drop_inode(struct meta_fs *fs, struct kv_batch *b,
		    const struct meta_inode *in, struct meta_super *sb);
/* 1 if dir has no entries, 0 if it has, or a negative errno. */
int meta_dir_empty(struct meta_fs *fs, uint64_t dir);

/* Makes a new inode's number durable before its create is acknowledged,
 * if it lies past the reservation known to be stored (FORMAT.md). */
int meta_ino_make_durable(struct meta_fs *fs, uint64_t ino);

/* Writes b and, on success, makes sb the committed superblock (sb may be
 * NULL when unchanged). */
int meta_commit(struct meta_fs *fs, struct kv_batch *b,
		const struct meta_super *sb);

#endif
