/*
 * nfscheck: checks through the libnfs client that the server under test
 * behaves as a filesystem should over NFSv3.  Each named check works in
 * its own directory under a base directory of this run and prints
 * "ok NAME" or "FAIL NAME" with one line per difference it found, naming
 * the path, what was expected and what came back.
 *
 *	nfscheck -p PORT [-H HOST] [-M MOUNTPORT] [-m MOUNT] [-d DIR]
 *		 [-s SEED] [-n N] CHECK...
 *
 * CHECK is sizes, tree, bigdir (N entries, 10,000 by default), rename,
 * remove, symlink, hardlink, truncate, attrs or all.
 */
#include "checkkit.h"

static int sizes_verify(struct nfs_context *c, const char *path, uint64_t key,
			uint64_t len)
{
	uint8_t got[crypto_hash_sha256_BYTES], want[crypto_hash_sha256_BYTES];
	char hgot[65], hwant[65];
	struct nfsfh *fh;
	int r;

	if (nfs_open(c, path, O_RDONLY, &fh) != 0) {
		differ("open %s: %s", path, nfs_get_error(c));
		return -1;
	}
	r = tool_read_sha256(c, fh, path, len, buf, BUF_SIZE, got);
	nfs_close(c, fh);
	if (r != 0) {
		differ("%s: could not read back %" PRIu64 " bytes", path, len);
		return -1;
	}
	tool_content_sha256(key, len, buf, BUF_SIZE, want);
	if (memcmp(got, want, sizeof(got)) != 0) {
		tool_hex(got, sizeof(got), hgot);
		tool_hex(want, sizeof(want), hwant);
		differ("%s: sha256 %s, want %s", path, hgot, hwant);
		return -1;
	}
	return 0;
}

/* Files of edge sizes, written and COMMITted, then read back through a
 * second, fresh client so no client-side cache can answer. */
static void check_sizes(void)
{
	static const uint64_t sizes[] = { 0, 1, 4095, (1u << 20) + 1,
					  64u << 20 };
	struct nfs_stat_64 st;
	struct nfs_context *c2;
	char name[64];

	nfs_mkdir(nfs, at("sizes"));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "sizes/%" PRIu64, sizes[i]);
		if (put_file(at(name), tool_key(seed, i), sizes[i]) != 0)
			continue;
		if (stat_path(at(name), &st) == 0 && st.nfs_size != sizes[i])
			differ("%s: size %" PRIu64 ", want %" PRIu64, at(name),
			       st.nfs_size, sizes[i]);
	}
	c2 = tool_mount(&target);
	if (!c2) {
		differ("a second client could not mount %s", target.mount);
		return;
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "sizes/%" PRIu64, sizes[i]);
		sizes_verify(c2, at(name), tool_key(seed, i), sizes[i]);
	}
	nfs_destroy_context(c2);
}

/* mkdir -p of a 5-deep tree, a file at the bottom, EEXIST on a repeat. */
static void check_tree(void)
{
	static const char *const dirs[] = { "t",	 "t/a",
					    "t/a/b",	 "t/a/b/c",
					    "t/a/b/c/d", "t/a/b/c/d/e" };
	struct nfs_stat_64 st;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (expect_rc("mkdir", at(dirs[i]),
			      nfs_mkdir2(nfs, at(dirs[i]), 0755), 0) != 0)
			return;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (stat_path(at(dirs[i]), &st) == 0 && !S_ISDIR(st.nfs_mode))
			differ("%s: mode 0%" PRIo64 " is not a directory",
			       at(dirs[i]), st.nfs_mode);
	}
	if (put_file(at("t/a/b/c/d/e/leaf"), tool_key(seed, 7), 5000) == 0)
		expect_content(at("t/a/b/c/d/e/leaf"), tool_key(seed, 7), 5000);
	expect_rc("mkdir again", at("t/a/b"), nfs_mkdir(nfs, at("t/a/b")),
		  -EEXIST);
}

/* What one listing of the big directory saw. */
struct listing {
	int *seen; /* times each f%05d name was returned */
	int extra; /* names that are not ours, nor "." or ".." */
	uint64_t cookie;
	char verf[NFS3_COOKIEVERFSIZE];
	int eof;
	int nfs_status;
	int entries; /* in the last reply */
};

static void listing_name(struct listing *l, const char *name)
{
	char *end;
	long i;

	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return;
	i = name[0] == 'f' ? strtol(name + 1, &end, 10) : -1;
	if (i < 0 || i >= check_count || *end != '\0') {
		if (l->extra++ < 5)
			differ("unexpected entry \"%s\"", name);
		return;
	}
	l->seen[i]++;
}

/* libnfs decodes entries into memory that is not always aligned for
 * them, so each is copied out before its fields are read. */
static void readdir_copy(struct tool_call *call, void *data)
{
	READDIR3res *res = data;
	struct listing *l = call->out;
	entry3 e;

	l->nfs_status = res->status;
	if (res->status != NFS3_OK)
		return;
	l->entries = 0;
	for (entry3 *p = res->READDIR3res_u.resok.reply.entries; p;
	     p = e.nextentry, l->entries++) {
		memcpy(&e, p, sizeof(e));
		listing_name(l, e.name);
		l->cookie = e.cookie;
	}
	memcpy(l->verf, res->READDIR3res_u.resok.cookieverf, sizeof(l->verf));
	l->eof = res->READDIR3res_u.resok.reply.eof;
}

static void readdirplus_copy(struct tool_call *call, void *data)
{
	READDIRPLUS3res *res = data;
	struct listing *l = call->out;
	entryplus3 e;

	l->nfs_status = res->status;
	if (res->status != NFS3_OK)
		return;
	l->entries = 0;
	for (entryplus3 *p = res->READDIRPLUS3res_u.resok.reply.entries; p;
	     p = e.nextentry, l->entries++) {
		memcpy(&e, p, sizeof(e));
		listing_name(l, e.name);
		l->cookie = e.cookie;
	}
	memcpy(l->verf, res->READDIRPLUS3res_u.resok.cookieverf,
	       sizeof(l->verf));
	l->eof = res->READDIRPLUS3res_u.resok.reply.eof;
}

static void mnt_copy(struct tool_call *call, void *data)
{
	mountres3 *res = data;
	nfs_fh3 *fh = call->out;

	if (res->fhs_status != MNT3_OK) {
		snprintf(call->error, sizeof(call->error), "MNT status %d",
			 res->fhs_status);
		return;
	}
	fh->data.data_len = res->mountres3_u.mountinfo.fhandle.fhandle3_len;
	fh->data.data_val = malloc(fh->data.data_len);
	if (fh->data.data_val)
		memcpy(fh->data.data_val,
		       res->mountres3_u.mountinfo.fhandle.fhandle3_val,
		       fh->data.data_len);
}

/* The handle of path through MOUNT v3 MNT (caller frees data_val). */
static int mnt_handle(const char *path, nfs_fh3 *fh)
{
	struct rpc_context *rpc;
	struct tool_call call = { .copy = mnt_copy, .out = fh };
	int r;

	memset(fh, 0, sizeof(*fh));
	rpc =
	    tool_rpc_connect(target.host, target.port, MOUNT_PROGRAM, MOUNT_V3);
	if (!rpc)
		return -EIO;
	r = rpc_mount3_mnt_async(rpc, tool_call_cb, (char *)path, &call);
	if (r == 0)
		r = tool_rpc_wait(rpc, &call);
	if (r != 0 || !fh->data.data_val) {
		differ("MNT %s: %s", path, call.error);
		r = -EIO;
	}
	rpc_destroy_context(rpc);
	return r;
}

/* Lists dir page by page with raw READDIR (plus == 0) or READDIRPLUS,
 * with small replies so the listing takes many round trips. */
static int list_raw(struct rpc_context *rpc, nfs_fh3 *dir, int plus,
		    struct listing *l)
{
	const char *proc = plus ? "READDIRPLUS" : "READDIR";

	for (int pages = 0; !l->eof; pages++) {
		struct tool_call call = { .out = l };
		int r;

		if (plus) {
			READDIRPLUS3args a = { .dir = *dir,
					       .cookie = l->cookie,
					       .dircount = 2048,
					       .maxcount = 8192 };

			memcpy(a.cookieverf, l->verf, sizeof(a.cookieverf));
			call.copy = readdirplus_copy;
			r = rpc_nfs3_readdirplus_async(rpc, tool_call_cb, &a,
						       &call);
		} else {
			READDIR3args a = { .dir = *dir,
					   .cookie = l->cookie,
					   .count = 4096 };

			memcpy(a.cookieverf, l->verf, sizeof(a.cookieverf));
			call.copy = readdir_copy;
			r = rpc_nfs3_readdir_async(rpc, tool_call_cb, &a,
						   &call);
		}
		if (r == 0)
			r = tool_rpc_wait(rpc, &call);
		if (r != 0 || l->nfs_status != NFS3_OK) {
			differ("%s page %d: %s (nfsstat3 %d)", proc, pages,
			       call.error, l->nfs_status);
			return -1;
		}
		if (!l->eof && l->entries == 0) {
			differ("%s page %d: no entries and no eof", proc,
			       pages);
			return -1;
		}
	}
	return 0;
}

/* Every name of the big directory seen exactly once? */
static void listing_judge(const char *how, struct listing *l)
{
	int bad = 0;

	for (int i = 0; i < check_count; i++) {
		if (l->seen[i] == 1)
			continue;
		if (bad++ < 5)
			differ("%s: f%05d listed %d times, want once", how, i,
			       l->seen[i]);
	}
	if (bad > 5)
		differ("%s: %d names in all listed other than once", how, bad);
	if (l->extra)
		differ("%s: %d unexpected names", how, l->extra);
}

static void bigdir_list_raw(const char *mntpath, nfs_fh3 *fh, int plus)
{
	struct listing l = { 0 };
	struct rpc_context *rpc;

	l.seen = calloc((size_t)check_count, sizeof(int));
	rpc = tool_rpc_connect(target.host, target.port, NFS_PROGRAM, NFS_V3);
	if (rpc && l.seen && list_raw(rpc, fh, plus, &l) == 0)
		listing_judge(plus ? "READDIRPLUS" : "READDIR", &l);
	else
		differ("%s of %s could not complete",
		       plus ? "READDIRPLUS" : "READDIR", mntpath);
	if (rpc)
		rpc_destroy_context(rpc);
	free(l.seen);
}

static void bigdir_list_opendir(void)
{
	struct listing l = { 0 };
	struct nfsdir *d;
	struct nfsdirent *e;

	l.seen = calloc((size_t)check_count, sizeof(int));
	if (!l.seen || nfs_opendir(nfs, at("big"), &d) != 0) {
		differ("opendir %s: %s", at("big"), nfs_get_error(nfs));
		free(l.seen);
		return;
	}
	while ((e = nfs_readdir(nfs, d)) != NULL)
		listing_name(&l, e->name);
	nfs_closedir(nfs, d);
	listing_judge("nfs_opendir", &l);
	free(l.seen);
}

/* A directory of check_count files, listed completely three ways. */
static void check_bigdir(void)
{
	char name[64], mntpath[1200];
	struct nfsfh *fh;
	nfs_fh3 dirfh;

	if (expect_rc("mkdir", at("big"), nfs_mkdir(nfs, at("big")), 0))
		return;
	for (int i = 0; i < check_count; i++) {
		snprintf(name, sizeof(name), "big/f%05d", i);
		if (nfs_create(nfs, at(name), O_RDWR | O_CREAT | O_EXCL, 0644,
			       &fh) != 0) {
			differ("create %s: %s", at(name), nfs_get_error(nfs));
			return;
		}
		nfs_close(nfs, fh);
	}
	bigdir_list_opendir();
	snprintf(mntpath, sizeof(mntpath), "%s%s",
		 strcmp(target.mount, "/") ? target.mount : "", at("big"));
	if (mnt_handle(mntpath, &dirfh) != 0)
		return;
	bigdir_list_raw(mntpath, &dirfh, 0);
	bigdir_list_raw(mntpath, &dirfh, 1);
	free(dirfh.data.data_val);
}

/* Rename within a directory, across directories, over an existing
 * file; the old names vanish and the data moves with the name. */
static void check_rename(void)
{
	uint64_t k1 = tool_key(seed, 11), k2 = tool_key(seed, 12);

	nfs_mkdir(nfs, at("r"));
	nfs_mkdir(nfs, at("r/d1"));
	nfs_mkdir(nfs, at("r/d2"));
	if (put_file(at("r/a"), k1, 3000) == 0 &&
	    expect_rc("rename", at("r/a"),
		      nfs_rename(nfs, at("r/a"), at("r/b")), 0) == 0) {
		expect_gone(at("r/a"));
		expect_content(at("r/b"), k1, 3000);
	}
	if (put_file(at("r/d1/x"), k2, 70000) == 0 &&
	    expect_rc("rename", at("r/d1/x"),
		      nfs_rename(nfs, at("r/d1/x"), at("r/d2/y")), 0) == 0) {
		expect_gone(at("r/d1/x"));
		expect_content(at("r/d2/y"), k2, 70000);
	}
	if (put_file(at("r/p"), k1, 100) == 0 &&
	    put_file(at("r/q"), k2, 200) == 0 &&
	    expect_rc("rename over existing", at("r/q"),
		      nfs_rename(nfs, at("r/p"), at("r/q")), 0) == 0) {
		expect_gone(at("r/p"));
		expect_content(at("r/q"), k1, 100);
	}
}

/* unlink and rmdir, and rmdir of a non-empty directory refused. */
static void check_remove(void)
{
	nfs_mkdir(nfs, at("rm"));
	if (put_file(at("rm/f"), tool_key(seed, 21), 10) == 0) {
		expect_rc("unlink", at("rm/f"), nfs_unlink(nfs, at("rm/f")), 0);
		expect_gone(at("rm/f"));
		expect_rc("unlink again", at("rm/f"),
			  nfs_unlink(nfs, at("rm/f")), -ENOENT);
	}
	nfs_mkdir(nfs, at("rm/d"));
	if (put_file(at("rm/d/g"), tool_key(seed, 22), 10) != 0)
		return;
	expect_rc("rmdir non-empty", at("rm/d"), nfs_rmdir(nfs, at("rm/d")),
		  -ENOTEMPTY);
	expect_content(at("rm/d/g"), tool_key(seed, 22), 10);
	expect_rc("unlink", at("rm/d/g"), nfs_unlink(nfs, at("rm/d/g")), 0);
	expect_rc("rmdir emptied", at("rm/d"), nfs_rmdir(nfs, at("rm/d")), 0);
	expect_gone(at("rm/d"));
}

static void check_symlink(void)
{
	const char *target_text = "../some/where/../target name";
	struct nfs_stat_64 st;
	char got[1024] = "";

	if (expect_rc("symlink", at("sl"),
		      nfs_symlink(nfs, target_text, at("sl")), 0) != 0)
		return;
	if (nfs_readlink(nfs, at("sl"), got, sizeof(got) - 1) != 0)
		differ("readlink %s: %s", at("sl"), nfs_get_error(nfs));
	else if (strcmp(got, target_text) != 0)
		differ("readlink %s: \"%s\", want \"%s\"", at("sl"), got,
		       target_text);
	if (stat_path(at("sl"), &st) != 0)
		return;
	if (!S_ISLNK(st.nfs_mode))
		differ("%s: mode 0%" PRIo64 " is not a symlink", at("sl"),
		       st.nfs_mode);
	if (st.nfs_size != strlen(target_text))
		differ("%s: size %" PRIu64 ", want %zu", at("sl"), st.nfs_size,
		       strlen(target_text));
}

static void expect_links(const char *path, uint64_t nlink, uint64_t ino)
{
	struct nfs_stat_64 st;

	if (stat_path(path, &st) != 0)
		return;
	if (st.nfs_nlink != nlink)
		differ("%s: nlink %" PRIu64 ", want %" PRIu64, path,
		       st.nfs_nlink, nlink);
	if (st.nfs_ino != ino)
		differ("%s: inode %" PRIu64 ", want %" PRIu64, path, st.nfs_ino,
		       ino);
}

static void check_hardlink(void)
{
	uint64_t key = tool_key(seed, 31);
	struct nfs_stat_64 st;

	if (put_file(at("h1"), key, 9000) != 0 || stat_path(at("h1"), &st))
		return;
	if (expect_rc("link", at("h2"), nfs_link(nfs, at("h1"), at("h2")), 0) !=
	    0)
		return;
	expect_links(at("h1"), 2, st.nfs_ino);
	expect_links(at("h2"), 2, st.nfs_ino);
	expect_content(at("h2"), key, 9000);
	expect_rc("unlink", at("h1"), nfs_unlink(nfs, at("h1")), 0);
	expect_links(at("h2"), 1, st.nfs_ino);
	expect_content(at("h2"), key, 9000);
}

/* Truncates path to len and expects its bytes to equal model[0, len). */
static void truncate_step(const char *path, uint8_t *model, size_t len)
{
	static uint8_t got[BUF_SIZE];
	size_t n;

	if (expect_rc("truncate", path, nfs_truncate(nfs, path, len), 0))
		return;
	if (get_file(nfs, path, got, sizeof(got), &n) != 0)
		return;
	if (n != len) {
		differ("%s after truncate to %zu: %zu bytes", path, len, n);
		return;
	}
	same_bytes(path, got, model, 0, len);
}

/* Truncate up (the new range reads zeros) and down, across chunk
 * boundaries, and up again: cut data must not come back. */
static void check_truncate(void)
{
	static uint8_t model[BUF_SIZE];
	uint64_t key = tool_key(seed, 41);
	const size_t first = 300000;

	if (put_file(at("tr"), key, first) != 0)
		return;
	memset(model, 0, sizeof(model));
	tool_content(key, 0, model, first);
	truncate_step(at("tr"), model, 700000);
	truncate_step(at("tr"), model, 5000);
	memset(model + 5000, 0, sizeof(model) - 5000);
	truncate_step(at("tr"), model, 400000);
	truncate_step(at("tr"), model, 0);
}

static void expect_attr(const char *path, const char *what, uint64_t got,
			uint64_t want)
{
	if (got != want)
		differ("%s: %s %" PRIu64 " (0%" PRIo64 "), want %" PRIu64
		       " (0%" PRIo64 ")",
		       path, what, got, got, want, want);
}

/* chmod, chown and utimes, each visible in GETATTR. */
static void check_attrs(void)
{
	struct timeval tv[2] = { { 1000000000, 250000 }, { 1200000000, 0 } };
	struct nfs_stat_64 st;
	const char *f = at("attr");

	if (put_file(f, tool_key(seed, 51), 10) != 0)
		return;
	expect_rc("chmod", f, nfs_chmod(nfs, f, 0640), 0);
	if (stat_path(f, &st) == 0)
		expect_attr(f, "mode", st.nfs_mode & 07777, 0640);
	expect_rc("chmod", f, nfs_chmod(nfs, f, 04751), 0);
	if (stat_path(f, &st) == 0)
		expect_attr(f, "mode", st.nfs_mode & 07777, 04751);
	expect_rc("chown", f, nfs_chown(nfs, f, 1234, 5678), 0);
	if (stat_path(f, &st) == 0) {
		expect_attr(f, "uid", st.nfs_uid, 1234);
		expect_attr(f, "gid", st.nfs_gid, 5678);
	}
	expect_rc("utimes", f, nfs_utimes(nfs, f, tv), 0);
	if (stat_path(f, &st) == 0) {
		expect_attr(f, "atime", st.nfs_atime, 1000000000);
		expect_attr(f, "atime_nsec", st.nfs_atime_nsec, 250000000);
		expect_attr(f, "mtime", st.nfs_mtime, 1200000000);
	}
	if (expect_rc("mkdir", at("attrdir"),
		      nfs_mkdir2(nfs, at("attrdir"), 0711), 0) == 0 &&
	    stat_path(at("attrdir"), &st) == 0)
		expect_attr(at("attrdir"), "mode", st.nfs_mode & 07777, 0711);
}

static const struct checkkit_check checks[] = {
	{ "sizes", check_sizes },	{ "tree", check_tree },
	{ "bigdir", check_bigdir },	{ "rename", check_rename },
	{ "remove", check_remove },	{ "symlink", check_symlink },
	{ "hardlink", check_hardlink }, { "truncate", check_truncate },
	{ "attrs", check_attrs },
};

int main(int argc, char **argv)
{
	return checkkit_main("nfscheck", argc, argv, checks,
			     sizeof(checks) / sizeof(checks[0]));
}
