/*
 * The filesystem namespace and extent maps, on the key-value engine.
 * Every mutation is one kv batch written under one writer lock, so each is
 * atomic and all commit in one order; reads share the lock and see a state
 * between two mutations.  Types here are the service's own; the protobuf
 * messages stay at the RPC edge (meta_server.c).
 *
 * Every call returns 0 or a negative errno with POSIX / RFC 1813 meaning:
 * -ESTALE for a handle whose inode is gone or whose generation differs,
 * -ENOTDIR, -EISDIR, -EEXIST, -ENOENT, -ENOTEMPTY, -EINVAL,
 * -ENAMETOOLONG, -EPERM (hard link to a directory), -EAGAIN (SETATTR
 * guard mismatch).
 */
#ifndef ZEROFS_META_FS_H
#define ZEROFS_META_FS_H

#include "kv.h"

#include <stdbool.h>
#include <stdint.h>

#define META_NAME_MAX	255
#define META_TARGET_MAX 4096
#define META_ROOT_INO	1
/* The root's handle is fixed, so a gateway can name it without a call. */
#define META_ROOT_GEN	  1
#define META_READDIR_MAX  4096
#define META_EXTENTS_MAX  65536
#define META_FILES_BUDGET (1ull << 40)

/* Values match the proto's FileType (RFC 1813 ftype3). */
enum meta_type {
	META_REG = 1,
	META_DIR = 2,
	META_BLK = 3,
	META_CHR = 4,
	META_LNK = 5,
	META_SOCK = 6,
	META_FIFO = 7,
};

/* Values match the proto's CreateHow. */
enum meta_how {
	META_UNCHECKED = 0,
	META_GUARDED = 1,
	META_EXCLUSIVE = 2,
};

/* Bits of meta_setattr.valid; values match the proto's SetAttrBit. */
enum {
	META_SA_MODE = 1,
	META_SA_UID = 2,
	META_SA_GID = 4,
	META_SA_ATIME = 8,
	META_SA_MTIME = 16,
	META_SA_ATIME_NOW = 32,
	META_SA_MTIME_NOW = 64,
};

struct meta_time {
	int64_t sec;
	uint32_t nsec;
};

struct meta_handle {
	uint64_t ino;
	uint32_t gen;
};

struct meta_inode {
	uint64_t ino;
	uint32_t gen;
	uint32_t type;
	uint32_t mode;
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint64_t size;
	uint64_t used;
	uint32_t rdev_major;
	uint32_t rdev_minor;
	struct meta_time atime;
	struct meta_time mtime;
	struct meta_time ctime;
	uint64_t parent;      /* directories: the ino of ".." */
	uint64_t next_cookie; /* directories: the next entry's cookie */
	uint8_t verf[8];      /* exclusive create's verifier */
	uint8_t has_verf;
};

struct meta_create {
	uint32_t type;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint32_t rdev_major;
	uint32_t rdev_minor;
	const char *target; /* symlinks */
	uint32_t how;
	uint8_t verf[8];
};

struct meta_setattr {
	uint32_t valid;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	struct meta_time atime;
	struct meta_time mtime;
	bool guard;
	struct meta_time guard_ctime;
};

struct meta_extent {
	uint64_t index;
	uint64_t segment;
	uint32_t offset;
	uint32_t length;
};

struct meta_dirent {
	char name[META_NAME_MAX + 1];
	uint64_t ino;
	uint64_t cookie;
	struct meta_inode attr; /* filled when plus */
};

struct meta_statfs {
	uint64_t total_bytes;
	uint64_t free_bytes;
	uint64_t total_files;
	uint64_t free_files;
	uint32_t chunk_size;
};

struct meta_fs_options {
	uint32_t chunk_size; /* recorded on the first start only */
	uint64_t max_bytes;  /* reported by statfs */
	/* Inode numbers reserved ahead (0: 65536); tests make it small. */
	uint32_t ino_reserve;
	/* The durability barrier (the flusher's) that a sync made while
	 * serving runs first: a create that crosses the reservation syncs
	 * before it is acknowledged.  NULL: such a create is not synced (the
	 * number may then recur after a crash; its handle cannot, because the
	 * generation differs). */
	kv_before_upload_cb before_upload;
	void *before_upload_arg;
};

struct meta_fs;

/* Opens the filesystem in kv, creating the superblock and the root
 * directory on first start.  Every open takes a new inode generation and
 * reserves inode numbers past any an earlier start may have handed out,
 * and makes both durable (kv_sync without a barrier: the kv must be freshly
 * opened, with nothing unsynced, else -EINVAL) before it returns, so before
 * anything is served.  The kv must outlive fs. */
int meta_fs_open(struct kv *kv, const struct meta_fs_options *opt,
		 struct meta_fs **out);
void meta_fs_close(struct meta_fs *fs);

int meta_fs_getattr(struct meta_fs *fs, const struct meta_handle *h,
		    struct meta_inode *attr);
int meta_fs_setattr(struct meta_fs *fs, const struct meta_handle *h,
		    const struct meta_setattr *sa, struct meta_inode *before,
		    struct meta_inode *after);
int meta_fs_lookup(struct meta_fs *fs, const struct meta_handle *dir,
		   const char *name, struct meta_inode *attr,
		   struct meta_inode *dir_attr);
int meta_fs_create(struct meta_fs *fs, const struct meta_handle *dir,
		   const char *name, const struct meta_create *c,
		   struct meta_inode *attr, struct meta_inode *dir_before,
		   struct meta_inode *dir_after, bool *existed);
int meta_fs_remove(struct meta_fs *fs, const struct meta_handle *dir,
		   const char *name, bool rmdir, struct meta_inode *dir_before,
		   struct meta_inode *dir_after);
/* wcc[0..3]: source dir before and after, target dir before and after. */
int meta_fs_rename(struct meta_fs *fs, const struct meta_handle *src_dir,
		   const char *src_name, const struct meta_handle *dst_dir,
		   const char *dst_name, struct meta_inode wcc[4]);
int meta_fs_link(struct meta_fs *fs, const struct meta_handle *h,
		 const struct meta_handle *dir, const char *name,
		 struct meta_inode *attr, struct meta_inode *dir_before,
		 struct meta_inode *dir_after);
/* *target is malloc'd and owned by the caller. */
int meta_fs_readlink(struct meta_fs *fs, const struct meta_handle *h,
		     char **target, struct meta_inode *attr);
/* Entries with cookie > cookie, at most max (0: META_READDIR_MAX).
 * *ents is malloc'd (owned by the caller), *n entries long. */
int meta_fs_readdir(struct meta_fs *fs, const struct meta_handle *dir,
		    uint64_t cookie, uint32_t max, bool plus,
		    struct meta_dirent **ents, size_t *n, bool *eof,
		    struct meta_inode *dir_attr);
int meta_fs_statfs(struct meta_fs *fs, const struct meta_handle *h,
		   struct meta_statfs *st, struct meta_inode *attr);
/* The extents of chunks first..first+count-1 that are not holes, in
 * index order; *ext is malloc'd and owned by the caller. */
int meta_fs_get_extents(struct meta_fs *fs, const struct meta_handle *h,
			uint64_t first, uint32_t count,
			struct meta_extent **ext, size_t *n,
			struct meta_inode *attr);
int meta_fs_commit_write(struct meta_fs *fs, const struct meta_handle *h,
			 const struct meta_extent *ext, size_t n, uint64_t end,
			 struct meta_inode *before, struct meta_inode *after);
/* boundary may be NULL. */
int meta_fs_truncate(struct meta_fs *fs, const struct meta_handle *h,
		     uint64_t size, uint64_t drop_from,
		     const struct meta_extent *boundary,
		     struct meta_inode *before, struct meta_inode *after);

#endif
