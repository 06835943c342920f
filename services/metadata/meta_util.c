/*
 * Helpers every filesystem operation uses: reading inodes and entries,
 * checking handles and names, and adding the keys of inodes, entries and
 * the superblock to a batch.
 */
#include "meta_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int meta_inode_get(struct meta_fs *fs, uint64_t ino, struct meta_inode *in)
{
	struct meta_key k;
	void *v;
	size_t len;
	int rc;

	meta_key_inode(&k, ino);
	rc = kv_get(fs->kv, k.b, k.len, &v, &len);
	if (rc < 0)
		return rc;
	rc = meta_inode_decode(v, len, ino, in);
	free(v);
	return rc;
}

int meta_dentry_get(struct meta_fs *fs, uint64_t parent, const char *name,
		    struct meta_dentry *de)
{
	struct meta_key k;
	struct wire_in r;
	void *v;
	size_t len;
	int rc;

	meta_key_dirent(&k, parent, name);
	rc = kv_get(fs->kv, k.b, k.len, &v, &len);
	if (rc < 0)
		return rc;
	wire_in_init(&r, v, len);
	wire_in_u8(&r);
	de->ino = wire_in_u64(&r);
	de->cookie = wire_in_u64(&r);
	de->type = wire_in_u8(&r);
	rc = r.err || wire_in_left(&r) != 0 ? -EIO : 0;
	free(v);
	return rc;
}

int meta_handle_get(struct meta_fs *fs, const struct meta_handle *h,
		    struct meta_inode *in)
{
	int rc = meta_inode_get(fs, h->ino, in);

	if (rc == -ENOENT || (rc == 0 && in->gen != h->gen))
		return -ESTALE;
	return rc;
}

int meta_dir_get(struct meta_fs *fs, const struct meta_handle *h,
		 struct meta_inode *in)
{
	int rc = meta_handle_get(fs, h, in);

	if (rc == 0 && in->type != META_DIR)
		return -ENOTDIR;
	return rc;
}

int meta_name_check(const char *name)
{
	size_t n = strnlen(name, META_NAME_MAX + 1);

	if (n == 0 || strchr(name, '/') != NULL)
		return -EINVAL;
	return n > META_NAME_MAX ? -ENAMETOOLONG : 0;
}

int meta_is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

struct meta_time meta_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (struct meta_time){ ts.tv_sec, (uint32_t)ts.tv_nsec };
}

int meta_put_inode(struct kv_batch *b, const struct meta_inode *in)
{
	struct wire_out w = { 0 };
	struct meta_key k;
	int rc;

	meta_key_inode(&k, in->ino);
	meta_inode_encode(&w, in);
	rc = w.err ? w.err : kv_batch_put(b, k.b, k.len, w.p, w.len);
	wire_out_free(&w);
	return rc;
}

int meta_put_super(struct kv_batch *b, const struct meta_super *sb)
{
	struct wire_out w = { 0 };
	struct meta_key k;
	int rc;

	meta_key_super(&k);
	meta_super_encode(&w, sb);
	rc = w.err ? w.err : kv_batch_put(b, k.b, k.len, w.p, w.len);
	wire_out_free(&w);
	return rc;
}

int meta_put_entry(struct kv_batch *b, struct meta_inode *dir, const char *name,
		   const struct meta_inode *child)
{
	uint64_t cookie = dir->next_cookie++;
	struct wire_out w = { 0 };
	struct meta_key k;
	int rc;

	meta_key_dirent(&k, dir->ino, name);
	wire_out_u8(&w, 1);
	wire_out_u64(&w, child->ino);
	wire_out_u64(&w, cookie);
	wire_out_u8(&w, (uint8_t)child->type);
	rc = w.err ? w.err : kv_batch_put(b, k.b, k.len, w.p, w.len);
	w.len = 0;
	meta_key_cookie(&k, dir->ino, cookie);
	wire_out_u8(&w, 1);
	wire_out_u64(&w, child->ino);
	wire_out_mem(&w, name, strlen(name));
	if (rc == 0)
		rc = w.err ? w.err : kv_batch_put(b, k.b, k.len, w.p, w.len);
	wire_out_free(&w);
	return rc;
}

int meta_del_entry(struct kv_batch *b, uint64_t dir, const char *name,
		   uint64_t cookie)
{
	struct meta_key k;
	int rc;

	meta_key_dirent(&k, dir, name);
	rc = kv_batch_del(b, k.b, k.len);
	meta_key_cookie(&k, dir, cookie);
	return rc ? rc : kv_batch_del(b, k.b, k.len);
}

static int extent_del_cb(void *arg, const void *key, size_t klen,
			 const void *val, size_t vlen)
{
	(void)val;
	(void)vlen;
	return kv_batch_del(arg, key, klen);
}

int meta_drop_inode(struct meta_fs *fs, struct kv_batch *b,
		    const struct meta_inode *in, struct meta_super *sb)
{
	struct meta_key k;
	int rc;

	meta_key_inode(&k, in->ino);
	rc = kv_batch_del(b, k.b, k.len);
	meta_key_link(&k, in->ino);
	if (rc == 0 && in->type == META_LNK)
		rc = kv_batch_del(b, k.b, k.len);
	meta_key_prefix(&k, META_KEY_EXTENT, in->ino);
	if (rc == 0 && in->type == META_REG)
		rc = kv_scan(fs->kv, k.b, k.len, NULL, 0, extent_del_cb, b);
	sb->used_bytes -= in->used < sb->used_bytes ? in->used : sb->used_bytes;
	sb->inodes--;
	return rc;
}

static int any_cb(void *arg, const void *key, size_t klen, const void *val,
		  size_t vlen)
{
	(void)arg;
	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	return 1;
}

int meta_dir_empty(struct meta_fs *fs, uint64_t dir)
{
	struct meta_key k;
	int rc;

	meta_key_prefix(&k, META_KEY_DIRENT, dir);
	rc = kv_scan(fs->kv, k.b, k.len, NULL, 0, any_cb, NULL);
	return rc < 0 ? rc : rc == 0;
}

int meta_commit(struct meta_fs *fs, struct kv_batch *b,
		const struct meta_super *sb)
{
	int rc = 0;

	if (sb != NULL)
		rc = meta_put_super(b, sb);
	if (rc == 0)
		rc = kv_write(fs->kv, b, NULL);
	if (rc == 0 && sb != NULL)
		fs->sb = *sb;
	return rc;
}
