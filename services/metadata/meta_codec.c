/*
 * The filesystem's keys and values.  A key starts with one byte naming its
 * kind, then big-endian inode numbers (so byte order is numeric order and
 * all keys of one inode are adjacent), then a name or a second number.
 * Values are little-endian and open with a version byte.  FORMAT.md is the
 * specification.
 */
#include "meta_int.h"

#include <errno.h>
#include <string.h>

#define META_VAL_VERSION 1
/* The superblock gained the inode number reservation in version 2. */
#define META_SUPER_VERSION 2

static void key_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

void meta_key_super(struct meta_key *k)
{
	k->b[0] = META_KEY_SUPER;
	k->len = 1;
}

void meta_key_prefix(struct meta_key *k, uint8_t kind, uint64_t ino)
{
	k->b[0] = kind;
	key_be64(k->b + 1, ino);
	k->len = 9;
}

void meta_key_inode(struct meta_key *k, uint64_t ino)
{
	meta_key_prefix(k, META_KEY_INODE, ino);
}

void meta_key_link(struct meta_key *k, uint64_t ino)
{
	meta_key_prefix(k, META_KEY_LINK, ino);
}

void meta_key_dirent(struct meta_key *k, uint64_t parent, const char *name)
{
	size_t n = strnlen(name, META_NAME_MAX);

	meta_key_prefix(k, META_KEY_DIRENT, parent);
	memcpy(k->b + 9, name, n);
	k->len = 9 + n;
}

void meta_key_cookie(struct meta_key *k, uint64_t parent, uint64_t cookie)
{
	meta_key_prefix(k, META_KEY_COOKIE, parent);
	key_be64(k->b + 9, cookie);
	k->len = 17;
}

void meta_key_extent(struct meta_key *k, uint64_t ino, uint64_t index)
{
	meta_key_prefix(k, META_KEY_EXTENT, ino);
	key_be64(k->b + 9, index);
	k->len = 17;
}

static void time_encode(struct wire_out *w, struct meta_time t)
{
	wire_out_u64(w, (uint64_t)t.sec);
	wire_out_u32(w, t.nsec);
}

static struct meta_time time_decode(struct wire_in *r)
{
	struct meta_time t;

	t.sec = (int64_t)wire_in_u64(r);
	t.nsec = wire_in_u32(r);
	return t;
}

void meta_inode_encode(struct wire_out *w, const struct meta_inode *in)
{
	wire_out_u8(w, META_VAL_VERSION);
	wire_out_u32(w, in->gen);
	wire_out_u8(w, (uint8_t)in->type);
	wire_out_u32(w, in->mode);
	wire_out_u32(w, in->nlink);
	wire_out_u32(w, in->uid);
	wire_out_u32(w, in->gid);
	wire_out_u64(w, in->size);
	wire_out_u64(w, in->used);
	wire_out_u32(w, in->rdev_major);
	wire_out_u32(w, in->rdev_minor);
	time_encode(w, in->atime);
	time_encode(w, in->mtime);
	time_encode(w, in->ctime);
	wire_out_u64(w, in->parent);
	wire_out_u64(w, in->next_cookie);
	wire_out_u8(w, in->has_verf);
	wire_out_mem(w, in->verf, sizeof(in->verf));
}

int meta_inode_decode(const void *p, size_t len, uint64_t ino,
		      struct meta_inode *in)
{
	struct wire_in r;
	const uint8_t *verf;

	wire_in_init(&r, p, len);
	if (wire_in_u8(&r) != META_VAL_VERSION)
		return -EIO;
	memset(in, 0, sizeof(*in));
	in->ino = ino;
	in->gen = wire_in_u32(&r);
	in->type = wire_in_u8(&r);
	in->mode = wire_in_u32(&r);
	in->nlink = wire_in_u32(&r);
	in->uid = wire_in_u32(&r);
	in->gid = wire_in_u32(&r);
	in->size = wire_in_u64(&r);
	in->used = wire_in_u64(&r);
	in->rdev_major = wire_in_u32(&r);
	in->rdev_minor = wire_in_u32(&r);
	in->atime = time_decode(&r);
	in->mtime = time_decode(&r);
	in->ctime = time_decode(&r);
	in->parent = wire_in_u64(&r);
	in->next_cookie = wire_in_u64(&r);
	in->has_verf = wire_in_u8(&r);
	verf = wire_in_take(&r, sizeof(in->verf));
	if (r.err || wire_in_left(&r) != 0)
		return -EIO;
	memcpy(in->verf, verf, sizeof(in->verf));
	return 0;
}

void meta_super_encode(struct wire_out *w, const struct meta_super *sb)
{
	wire_out_u8(w, META_SUPER_VERSION);
	wire_out_u32(w, sb->gen);
	wire_out_u32(w, sb->chunk_size);
	wire_out_u64(w, sb->next_ino);
	wire_out_u64(w, sb->used_bytes);
	wire_out_u64(w, sb->inodes);
	wire_out_u64(w, sb->ino_limit);
}

/* Version 1 had no reservation: nothing past next_ino was handed out. */
int meta_super_decode(const void *p, size_t len, struct meta_super *sb)
{
	struct wire_in r;
	uint8_t version;

	wire_in_init(&r, p, len);
	version = wire_in_u8(&r);
	if (version != META_VAL_VERSION && version != META_SUPER_VERSION)
		return -EIO;
	sb->gen = wire_in_u32(&r);
	sb->chunk_size = wire_in_u32(&r);
	sb->next_ino = wire_in_u64(&r);
	sb->used_bytes = wire_in_u64(&r);
	sb->inodes = wire_in_u64(&r);
	sb->ino_limit =
	    version == META_SUPER_VERSION ? wire_in_u64(&r) : sb->next_ino;
	return r.err || wire_in_left(&r) != 0 ? -EIO : 0;
}

void meta_extent_encode(struct wire_out *w, const struct meta_extent *e)
{
	wire_out_u8(w, META_VAL_VERSION);
	wire_out_u64(w, e->segment);
	wire_out_u32(w, e->offset);
	wire_out_u32(w, e->length);
}

int meta_extent_decode(const void *p, size_t len, uint64_t index,
		       struct meta_extent *e)
{
	struct wire_in r;

	wire_in_init(&r, p, len);
	if (wire_in_u8(&r) != META_VAL_VERSION)
		return -EIO;
	e->index = index;
	e->segment = wire_in_u64(&r);
	e->offset = wire_in_u32(&r);
	e->length = wire_in_u32(&r);
	return r.err || wire_in_left(&r) != 0 ? -EIO : 0;
}
