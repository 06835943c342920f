/*
 * Tests of the filesystem layer on a kv engine over the in-memory store:
 * the POSIX / RFC 1813 rules the NFS gateway relies on, stable READDIR
 * cookies under concurrent change, inode numbers across a reopen, and link
 * counts.
 */
#include "meta_int.h"

#include "test.h"

#include <errno.h>
#include <stdio.h>

struct env {
	struct objstore *os;
	struct kv *kv;
	struct meta_fs *fs;
	struct meta_handle root;
};

static const struct meta_fs_options fs_opt = { .chunk_size = 1 << 20,
					       .max_bytes = 1ull << 30 };

static void env_open(struct env *e)
{
	struct meta_inode root;

	if (kv_open(e->os, NULL, &e->kv) < 0 ||
	    meta_fs_open(e->kv, &fs_opt, &e->fs) < 0)
		abort();
	e->root.ino = META_ROOT_INO;
	meta_inode_get(e->fs, META_ROOT_INO, &root);
	e->root.gen = root.gen;
}

static void env_new(struct env *e)
{
	static int n;
	char url[64];

	snprintf(url, sizeof(url), "mem://meta_fs_test-%d", n++);
	if (objstore_open(url, &e->os) < 0)
		abort();
	env_open(e);
}

static void env_close_fs(struct env *e)
{
	meta_fs_close(e->fs);
	kv_close(e->kv);
}

static void env_free(struct env *e)
{
	env_close_fs(e);
	objstore_close(e->os);
}

static struct meta_handle hof(const struct meta_inode *in)
{
	return (struct meta_handle){ in->ino, in->gen };
}

/* Creates name in dir with type (GUARDED) and returns the result. */
static int mk(struct env *e, const struct meta_handle *dir, const char *name,
	      uint32_t type, struct meta_inode *out)
{
	struct meta_create c = { .type = type,
				 .mode = 0644,
				 .target = "target",
				 .how = META_GUARDED };
	struct meta_inode in, b, a;
	bool existed;

	return meta_fs_create(e->fs, dir, name, &c, out ? out : &in, &b, &a,
			      &existed);
}

static int rm(struct env *e, const struct meta_handle *dir, const char *name,
	      bool rmdir)
{
	struct meta_inode b, a;

	return meta_fs_remove(e->fs, dir, name, rmdir, &b, &a);
}

static int ren(struct env *e, const struct meta_handle *sd, const char *sn,
	       const struct meta_handle *dd, const char *dn)
{
	struct meta_inode wcc[4];

	return meta_fs_rename(e->fs, sd, sn, dd, dn, wcc);
}

static uint32_t nlink_of(struct env *e, uint64_t ino)
{
	struct meta_inode in;

	return meta_inode_get(e->fs, ino, &in) == 0 ? in.nlink : 0;
}

TEST(first_start_creates_a_root_directory_owned_by_root)
{
	struct env e;
	struct meta_inode in;
	struct meta_statfs st;

	env_new(&e);
	CHECK_EQ(meta_fs_getattr(e.fs, &e.root, &in), 0);
	CHECK_EQ(in.type, META_DIR);
	CHECK_EQ(in.mode, 0755);
	CHECK_EQ(in.uid, 0);
	CHECK_EQ(in.gid, 0);
	CHECK_EQ(in.nlink, 2);
	CHECK_EQ(meta_fs_statfs(e.fs, &e.root, &st, &in), 0);
	CHECK_EQ(st.chunk_size, 1 << 20);
	CHECK_EQ(st.total_bytes, 1ull << 30);
	CHECK_EQ(st.free_files, META_FILES_BUDGET - 1);
	env_free(&e);
}

TEST(a_wrong_generation_or_missing_inode_is_stale)
{
	struct env e;
	struct meta_inode in;
	struct meta_handle h;

	env_new(&e);
	h = e.root;
	h.gen++;
	CHECK_EQ(meta_fs_getattr(e.fs, &h, &in), -ESTALE);
	h = (struct meta_handle){ 999, e.root.gen };
	CHECK_EQ(meta_fs_getattr(e.fs, &h, &in), -ESTALE);
	mk(&e, &e.root, "f", META_REG, &in);
	h = hof(&in);
	CHECK_EQ(rm(&e, &e.root, "f", false), 0);
	CHECK_EQ(meta_fs_getattr(e.fs, &h, &in), -ESTALE);
	env_free(&e);
}

TEST(bad_names_are_refused)
{
	struct env e;
	char longname[300];

	env_new(&e);
	memset(longname, 'x', 256);
	longname[256] = '\0';
	CHECK_EQ(mk(&e, &e.root, "", META_REG, NULL), -EINVAL);
	CHECK_EQ(mk(&e, &e.root, "a/b", META_REG, NULL), -EINVAL);
	CHECK_EQ(mk(&e, &e.root, longname, META_REG, NULL), -ENAMETOOLONG);
	longname[255] = '\0';
	CHECK_EQ(mk(&e, &e.root, longname, META_REG, NULL), 0);
	CHECK_EQ(mk(&e, &e.root, ".", META_DIR, NULL), -EEXIST);
	CHECK_EQ(mk(&e, &e.root, "..", META_REG, NULL), -EEXIST);
	env_free(&e);
}

TEST(lookup_understands_dot_and_dotdot)
{
	struct env e;
	struct meta_inode d, in, dir;
	struct meta_handle dh;

	env_new(&e);
	mk(&e, &e.root, "d", META_DIR, &d);
	dh = hof(&d);
	CHECK_EQ(meta_fs_lookup(e.fs, &dh, ".", &in, &dir), 0);
	CHECK_EQ(in.ino, d.ino);
	CHECK_EQ(meta_fs_lookup(e.fs, &dh, "..", &in, &dir), 0);
	CHECK_EQ(in.ino, META_ROOT_INO);
	CHECK_EQ(meta_fs_lookup(e.fs, &e.root, "..", &in, &dir), 0);
	CHECK_EQ(in.ino, META_ROOT_INO);
	CHECK_EQ(meta_fs_lookup(e.fs, &e.root, "d", &in, &dir), 0);
	CHECK_EQ(in.ino, d.ino);
	CHECK_EQ(meta_fs_lookup(e.fs, &e.root, "nope", &in, &dir), -ENOENT);
	env_free(&e);
}

TEST(operations_needing_a_directory_fail_on_a_file)
{
	struct env e;
	struct meta_inode f, in, dir;
	struct meta_handle fh;
	struct meta_dirent *ents;
	size_t n;
	bool eof;

	env_new(&e);
	mk(&e, &e.root, "f", META_REG, &f);
	fh = hof(&f);
	CHECK_EQ(meta_fs_lookup(e.fs, &fh, "x", &in, &dir), -ENOTDIR);
	CHECK_EQ(mk(&e, &fh, "x", META_REG, NULL), -ENOTDIR);
	CHECK_EQ(
	    meta_fs_readdir(e.fs, &fh, 0, 10, false, &ents, &n, &eof, &dir),
	    -ENOTDIR);
	env_free(&e);
}

TEST(create_unchecked_returns_an_existing_regular_file)
{
	struct env e;
	struct meta_create c = { .type = META_REG, .how = META_UNCHECKED };
	struct meta_inode f, in, b, a;
	bool existed = false;

	env_new(&e);
	mk(&e, &e.root, "f", META_REG, &f);
	CHECK_EQ(meta_fs_create(e.fs, &e.root, "f", &c, &in, &b, &a, &existed),
		 0);
	CHECK(existed);
	CHECK_EQ(in.ino, f.ino);
	CHECK_EQ(mk(&e, &e.root, "f", META_REG, NULL), -EEXIST);
	mk(&e, &e.root, "d", META_DIR, NULL);
	CHECK_EQ(meta_fs_create(e.fs, &e.root, "d", &c, &in, &b, &a, &existed),
		 -EEXIST);
	env_free(&e);
}

TEST(create_exclusive_accepts_a_retry_with_the_same_verifier_only)
{
	struct env e;
	struct meta_create c = { .type = META_REG,
				 .how = META_EXCLUSIVE,
				 .verf = { 1, 2, 3, 4, 5, 6, 7, 8 } };
	struct meta_inode f, in, b, a;
	bool existed = false;

	env_new(&e);
	CHECK_EQ(meta_fs_create(e.fs, &e.root, "f", &c, &f, &b, &a, &existed),
		 0);
	CHECK(!existed);
	CHECK_EQ(meta_fs_create(e.fs, &e.root, "f", &c, &in, &b, &a, &existed),
		 0);
	CHECK(existed);
	CHECK_EQ(in.ino, f.ino);
	c.verf[0] = 9;
	CHECK_EQ(meta_fs_create(e.fs, &e.root, "f", &c, &in, &b, &a, &existed),
		 -EEXIST);
	env_free(&e);
}

TEST(create_makes_every_type_and_directories_raise_parent_nlink)
{
	struct env e;
	struct meta_create c = { .type = META_CHR,
				 .rdev_major = 4,
				 .rdev_minor = 64 };
	struct meta_inode in, b, a;
	char *target = NULL;
	bool existed;

	env_new(&e);
	CHECK_EQ(
	    meta_fs_create(e.fs, &e.root, "tty", &c, &in, &b, &a, &existed), 0);
	CHECK_EQ(in.rdev_major, 4);
	CHECK_EQ(in.rdev_minor, 64);
	CHECK_EQ(mk(&e, &e.root, "s", META_SOCK, NULL), 0);
	CHECK_EQ(mk(&e, &e.root, "p", META_FIFO, NULL), 0);
	CHECK_EQ(mk(&e, &e.root, "l", META_LNK, &in), 0);
	CHECK_EQ(meta_fs_readlink(e.fs, &(struct meta_handle){ in.ino, in.gen },
				  &target, &in),
		 0);
	CHECK(target != NULL && strcmp(target, "target") == 0);
	free(target);
	CHECK_EQ(in.size, 6);
	CHECK_EQ(mk(&e, &e.root, "d", META_DIR, &in), 0);
	CHECK_EQ(in.nlink, 2);
	CHECK_EQ(in.parent, META_ROOT_INO);
	CHECK_EQ(nlink_of(&e, META_ROOT_INO), 3);
	CHECK_EQ(mk(&e, &e.root, "bad", 9, NULL), -EINVAL);
	env_free(&e);
}

TEST(remove_follows_the_posix_rules)
{
	struct env e;
	struct meta_inode d;
	struct meta_handle dh;

	env_new(&e);
	mk(&e, &e.root, "f", META_REG, NULL);
	mk(&e, &e.root, "d", META_DIR, &d);
	dh = hof(&d);
	mk(&e, &dh, "inner", META_REG, NULL);
	CHECK_EQ(rm(&e, &e.root, "d", false), -EISDIR);
	CHECK_EQ(rm(&e, &e.root, "f", true), -ENOTDIR);
	CHECK_EQ(rm(&e, &e.root, "d", true), -ENOTEMPTY);
	CHECK_EQ(rm(&e, &e.root, ".", true), -EINVAL);
	CHECK_EQ(rm(&e, &e.root, "..", true), -ENOTEMPTY);
	CHECK_EQ(rm(&e, &e.root, "zz", false), -ENOENT);
	CHECK_EQ(rm(&e, &dh, "inner", false), 0);
	CHECK_EQ(rm(&e, &e.root, "d", true), 0);
	CHECK_EQ(nlink_of(&e, META_ROOT_INO), 2);
	CHECK_EQ(rm(&e, &e.root, "f", false), 0);
	env_free(&e);
}

TEST(removing_the_last_link_drops_the_inode_and_its_extents)
{
	struct env e;
	struct meta_extent ext[2] = { { 0, 7, 0, 100 }, { 1, 7, 100, 50 } };
	struct meta_inode f, b, a;
	struct meta_statfs st;
	struct meta_handle fh;
	struct meta_key k;
	void *v;
	size_t len;

	env_new(&e);
	mk(&e, &e.root, "f", META_REG, &f);
	fh = hof(&f);
	CHECK_EQ(meta_fs_commit_write(e.fs, &fh, ext, 2, 2000, &b, &a), 0);
	CHECK_EQ(a.used, 150);
	meta_fs_statfs(e.fs, &e.root, &st, &b);
	CHECK_EQ(st.free_bytes, (1ull << 30) - 150);
	CHECK_EQ(rm(&e, &e.root, "f", false), 0);
	meta_key_extent(&k, f.ino, 1);
	CHECK_EQ(kv_get(e.kv, k.b, k.len, &v, &len), -ENOENT);
	meta_fs_statfs(e.fs, &e.root, &st, &b);
	CHECK_EQ(st.free_bytes, 1ull << 30);
	CHECK_EQ(st.free_files, META_FILES_BUDGET - 1);
	env_free(&e);
}

TEST(hard_links_count_and_directories_cannot_be_linked)
{
	struct env e;
	struct meta_inode f, d, in, b, a;
	struct meta_handle fh, dh;

	env_new(&e);
	mk(&e, &e.root, "f", META_REG, &f);
	mk(&e, &e.root, "d", META_DIR, &d);
	fh = hof(&f);
	dh = hof(&d);
	CHECK_EQ(meta_fs_link(e.fs, &fh, &dh, "g", &in, &b, &a), 0);
	CHECK_EQ(in.nlink, 2);
	CHECK_EQ(meta_fs_link(e.fs, &fh, &dh, "g", &in, &b, &a), -EEXIST);
	CHECK_EQ(meta_fs_link(e.fs, &dh, &e.root, "d2", &in, &b, &a), -EPERM);
	CHECK_EQ(rm(&e, &e.root, "f", false), 0);
	CHECK_EQ(nlink_of(&e, f.ino), 1);
	CHECK_EQ(meta_fs_getattr(e.fs, &fh, &in), 0);
	CHECK_EQ(rm(&e, &dh, "g", false), 0);
	CHECK_EQ(meta_fs_getattr(e.fs, &fh, &in), -ESTALE);
	env_free(&e);
}

TEST(rename_replaces_files_and_empty_directories_only)
{
	struct env e;
	struct meta_inode f, g, in, dir;

	env_new(&e);
	mk(&e, &e.root, "f", META_REG, &f);
	mk(&e, &e.root, "g", META_REG, &g);
	mk(&e, &e.root, "d", META_DIR, NULL);
	mk(&e, &e.root, "e", META_DIR, &in);
	mk(&e, &(struct meta_handle){ in.ino, in.gen }, "x", META_REG, NULL);
	CHECK_EQ(ren(&e, &e.root, "f", &e.root, "d"), -EISDIR);
	CHECK_EQ(ren(&e, &e.root, "d", &e.root, "f"), -ENOTDIR);
	CHECK_EQ(ren(&e, &e.root, "d", &e.root, "e"), -ENOTEMPTY);
	CHECK_EQ(ren(&e, &e.root, "f", &e.root, "g"), 0);
	CHECK_EQ(meta_fs_lookup(e.fs, &e.root, "g", &in, &dir), 0);
	CHECK_EQ(in.ino, f.ino);
	CHECK_EQ(meta_inode_get(e.fs, g.ino, &in), -ENOENT);
	CHECK_EQ(meta_fs_lookup(e.fs, &e.root, "f", &in, &dir), -ENOENT);
	CHECK_EQ(nlink_of(&e, META_ROOT_INO), 4);
	mk(&e, &e.root, "d2", META_DIR, NULL);
	CHECK_EQ(ren(&e, &e.root, "d2", &e.root, "d"), 0);
	CHECK_EQ(nlink_of(&e, META_ROOT_INO), 4);
	env_free(&e);
}

TEST(rename_onto_the_same_inode_does_nothing)
{
	struct env e;
	struct meta_inode f, in, b, a, dir;
	struct meta_handle fh;

	env_new(&e);
	mk(&e, &e.root, "f", META_REG, &f);
	fh = hof(&f);
	meta_fs_link(e.fs, &fh, &e.root, "g", &in, &b, &a);
	CHECK_EQ(ren(&e, &e.root, "f", &e.root, "g"), 0);
	CHECK_EQ(meta_fs_lookup(e.fs, &e.root, "f", &in, &dir), 0);
	CHECK_EQ(meta_fs_lookup(e.fs, &e.root, "g", &in, &dir), 0);
	CHECK_EQ(in.nlink, 2);
	env_free(&e);
}

TEST(moving_a_directory_updates_dotdot_and_both_parents)
{
	struct env e;
	struct meta_inode a, b, c, in, dir;
	struct meta_handle ah, bh, ch;

	env_new(&e);
	mk(&e, &e.root, "a", META_DIR, &a);
	mk(&e, &e.root, "b", META_DIR, &b);
	ah = hof(&a);
	bh = hof(&b);
	mk(&e, &ah, "c", META_DIR, &c);
	ch = hof(&c);
	CHECK_EQ(nlink_of(&e, a.ino), 3);
	CHECK_EQ(ren(&e, &ah, "c", &bh, "c"), 0);
	CHECK_EQ(nlink_of(&e, a.ino), 2);
	CHECK_EQ(nlink_of(&e, b.ino), 3);
	CHECK_EQ(meta_fs_lookup(e.fs, &ch, "..", &in, &dir), 0);
	CHECK_EQ(in.ino, b.ino);
	CHECK_EQ(ren(&e, &e.root, "b", &ch, "b"), -EINVAL);
	CHECK_EQ(ren(&e, &e.root, "b", &bh, "x"), -EINVAL);
	CHECK_EQ(ren(&e, &e.root, ".", &bh, "x"), -EINVAL);
	env_free(&e);
}

TEST(setattr_changes_mode_owner_times_and_ctime)
{
	struct env e;
	struct meta_setattr sa = { .valid = META_SA_MODE | META_SA_UID |
					    META_SA_MTIME | META_SA_ATIME_NOW,
				   .mode = 0104755,
				   .uid = 42,
				   .mtime = { 1000, 5 } };
	struct meta_inode f, b, a;
	struct meta_handle fh;

	env_new(&e);
	mk(&e, &e.root, "f", META_REG, &f);
	fh = hof(&f);
	CHECK_EQ(meta_fs_setattr(e.fs, &fh, &sa, &b, &a), 0);
	CHECK_EQ(a.mode, 04755);
	CHECK_EQ(a.uid, 42);
	CHECK_EQ(a.mtime.sec, 1000);
	CHECK_EQ(a.mtime.nsec, 5);
	CHECK(a.atime.sec >= f.atime.sec);
	CHECK(a.ctime.sec > 1000);
	sa.guard = true;
	sa.guard_ctime = b.ctime;
	CHECK_EQ(meta_fs_setattr(e.fs, &fh, &sa, &b, &a), -EAGAIN);
	sa.guard_ctime = b.ctime;
	sa.valid = META_SA_GID;
	sa.gid = 7;
	CHECK_EQ(meta_fs_setattr(e.fs, &fh, &sa, &b, &a), 0);
	CHECK_EQ(a.gid, 7);
	env_free(&e);
}

TEST(commit_write_sets_size_times_and_replaces_extents)
{
	struct env e;
	struct meta_extent ext[1] = { { 3, 9, 0, 400 } }, *got;
	struct meta_inode f, b, a;
	struct meta_handle fh;
	size_t n;

	env_new(&e);
	mk(&e, &e.root, "f", META_REG, &f);
	fh = hof(&f);
	CHECK_EQ(meta_fs_commit_write(e.fs, &fh, ext, 1, 5000, &b, &a), 0);
	CHECK_EQ(a.size, 5000);
	ext[0].length = 300;
	CHECK_EQ(meta_fs_commit_write(e.fs, &fh, ext, 1, 10, &b, &a), 0);
	CHECK_EQ(a.size, 5000);
	CHECK_EQ(a.used, 300);
	CHECK_EQ(meta_fs_get_extents(e.fs, &fh, 0, 10, &got, &n, &a), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(got[0].index, 3);
	CHECK_EQ(got[0].length, 300);
	free(got);
	CHECK_EQ(meta_fs_get_extents(e.fs, &fh, 4, 10, &got, &n, &a), 0);
	CHECK_EQ(n, 0);
	free(got);
	CHECK_EQ(meta_fs_commit_write(e.fs, &e.root, ext, 1, 10, &b, &a),
		 -EISDIR);
	mk(&e, &e.root, "l", META_LNK, &f);
	fh = hof(&f);
	CHECK_EQ(meta_fs_commit_write(e.fs, &fh, ext, 1, 10, &b, &a), -EINVAL);
	env_free(&e);
}

TEST(truncate_drops_extents_and_replaces_the_boundary)
{
	struct env e;
	struct meta_extent ext[3] = { { 0, 1, 0, 10 },
				      { 1, 1, 10, 20 },
				      { 2, 1, 30, 40 } };
	struct meta_extent bnd = { 1, 2, 0, 5 }, *got;
	struct meta_inode f, b, a;
	struct meta_handle fh;
	size_t n;

	env_new(&e);
	mk(&e, &e.root, "f", META_REG, &f);
	fh = hof(&f);
	meta_fs_commit_write(e.fs, &fh, ext, 3, 3000, &b, &a);
	CHECK_EQ(a.used, 70);
	CHECK_EQ(meta_fs_truncate(e.fs, &fh, 1500, 2, &bnd, &b, &a), 0);
	CHECK_EQ(a.size, 1500);
	CHECK_EQ(a.used, 15);
	CHECK_EQ(meta_fs_get_extents(e.fs, &fh, 0, 10, &got, &n, &a), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(got[1].segment, 2);
	free(got);
	CHECK_EQ(meta_fs_truncate(e.fs, &fh, 0, 0, NULL, &b, &a), 0);
	CHECK_EQ(a.used, 0);
	CHECK_EQ(a.size, 0);
	env_free(&e);
}

TEST(readdir_lists_dot_dotdot_then_entries_with_eof)
{
	struct env e;
	struct meta_dirent *ents;
	struct meta_inode dir;
	size_t n;
	bool eof;

	env_new(&e);
	mk(&e, &e.root, "a", META_REG, NULL);
	mk(&e, &e.root, "b", META_DIR, NULL);
	CHECK_EQ(
	    meta_fs_readdir(e.fs, &e.root, 0, 100, true, &ents, &n, &eof, &dir),
	    0);
	CHECK_EQ(n, 4);
	CHECK(eof);
	CHECK(strcmp(ents[0].name, ".") == 0 && ents[0].cookie == 1);
	CHECK(strcmp(ents[1].name, "..") == 0 && ents[1].cookie == 2);
	CHECK(strcmp(ents[2].name, "a") == 0 && ents[2].cookie == 3);
	CHECK_EQ(ents[3].attr.type, META_DIR);
	free(ents);
	CHECK_EQ(
	    meta_fs_readdir(e.fs, &e.root, 2, 1, false, &ents, &n, &eof, &dir),
	    0);
	CHECK_EQ(n, 1);
	CHECK(!eof);
	free(ents);
	env_free(&e);
}

#define BIG 10000

TEST(a_large_directory_lists_completely_while_it_changes)
{
	static unsigned char seen[BIG + 1000];
	struct env e;
	struct meta_dirent *ents;
	struct meta_inode dir;
	uint64_t cookie = 0;
	int added = 0, pages = 0;
	char name[32];
	size_t n;
	bool eof = false;

	env_new(&e);
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < BIG; i++) {
		snprintf(name, sizeof(name), "f%05d", i);
		mk(&e, &e.root, name, META_REG, NULL);
	}
	while (!eof && pages < 1000) {
		CHECK_EQ(meta_fs_readdir(e.fs, &e.root, cookie, 100, false,
					 &ents, &n, &eof, &dir),
			 0);
		for (size_t i = 0; i < n; i++) {
			int k;

			if (sscanf(ents[i].name, "f%d", &k) == 1)
				seen[k]++;
			cookie = ents[i].cookie;
		}
		free(ents);
		/* Between pages: drop an odd entry and add a new one. */
		snprintf(name, sizeof(name), "f%05d", 2 * pages + 1);
		rm(&e, &e.root, name, false);
		snprintf(name, sizeof(name), "f%05d", BIG + added++);
		mk(&e, &e.root, name, META_REG, NULL);
		pages++;
	}
	CHECK(eof);
	for (int i = 0; i < BIG; i += 2)
		CHECK_EQ(seen[i], 1);
	for (int i = 1; i < BIG + added; i++)
		CHECK(seen[i] <= 1);
	env_free(&e);
}

TEST(inode_numbers_are_not_reused_across_a_reopen)
{
	struct env e;
	struct meta_inode a, b;

	env_new(&e);
	mk(&e, &e.root, "a", META_REG, &a);
	rm(&e, &e.root, "a", false);
	CHECK_EQ(kv_sync(e.kv, NULL, NULL, NULL), 0);
	env_close_fs(&e);
	env_open(&e);
	mk(&e, &e.root, "b", META_REG, &b);
	CHECK(b.ino > a.ino);
	env_free(&e);
}

TEST(the_stored_chunk_size_wins_over_a_new_config)
{
	struct env e;
	struct meta_fs_options other = { .chunk_size = 4096, .max_bytes = 1 };
	struct meta_fs *fs2;
	struct meta_statfs st;
	struct meta_inode in;

	env_new(&e);
	CHECK_EQ(meta_fs_open(e.kv, &other, &fs2), 0);
	CHECK_EQ(meta_fs_statfs(fs2, &e.root, &st, &in), 0);
	CHECK_EQ(st.chunk_size, 1 << 20);
	meta_fs_close(fs2);
	env_free(&e);
}

TEST_MAIN(first_start_creates_a_root_directory_owned_by_root,
	  a_wrong_generation_or_missing_inode_is_stale, bad_names_are_refused,
	  lookup_understands_dot_and_dotdot,
	  operations_needing_a_directory_fail_on_a_file,
	  create_unchecked_returns_an_existing_regular_file,
	  create_exclusive_accepts_a_retry_with_the_same_verifier_only,
	  create_makes_every_type_and_directories_raise_parent_nlink,
	  remove_follows_the_posix_rules,
	  removing_the_last_link_drops_the_inode_and_its_extents,
	  hard_links_count_and_directories_cannot_be_linked,
	  rename_replaces_files_and_empty_directories_only,
	  rename_onto_the_same_inode_does_nothing,
	  moving_a_directory_updates_dotdot_and_both_parents,
	  setattr_changes_mode_owner_times_and_ctime,
	  commit_write_sets_size_times_and_replaces_extents,
	  truncate_drops_extents_and_replaces_the_boundary,
	  readdir_lists_dot_dotdot_then_entries_with_eof,
	  a_large_directory_lists_completely_while_it_changes,
	  inode_numbers_are_not_reused_across_a_reopen,
	  the_stored_chunk_size_wins_over_a_new_config)
