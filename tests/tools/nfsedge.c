/*
 * nfsedge: edge cases beyond the basic checks, through the libnfs client:
 * holes, overwrites that straddle chunk boundaries, extending writes past
 * the end, name lengths and unusual bytes in names, directory renames
 * (including the ones POSIX forbids), exclusive create and times that
 * writes must move.  Same options and output as nfscheck.
 *
 *	nfsedge -p PORT [-H HOST] [-M MOUNTPORT] [-m MOUNT] [-d DIR]
 *		CHECK...
 *
 * CHECK is sparse, overwrite, names, dirrename, exclusive, mtime,
 * bigoffset, longlink or all.
 */
#include "checkkit.h"

/* Chunk size of the test configs: overwrites aim at its boundaries. */
#define CHUNK (256u * 1024)

/* Writes len bytes of content key, taken from offset src_off of that
 * content, at offset off of the open file. */
static int write_at(struct nfsfh *fh, const char *path, uint64_t key,
		    uint64_t src_off, uint64_t off, size_t len, uint8_t *model)
{
	int r;

	tool_content(key, src_off, buf, len);
	r = nfs_pwrite(nfs, fh, off, len, buf);
	if (r != (int)len) {
		differ("write %s at %" PRIu64 ": %d (%s)", path, off, r,
		       nfs_get_error(nfs));
		return -1;
	}
	memcpy(model + off, buf, len);
	return 0;
}

/* Expects path to read exactly model[0, len). */
static void expect_model(const char *path, const uint8_t *model, size_t len)
{
	uint8_t *got = malloc(len + 1);
	size_t n;

	if (!got)
		return;
	if (get_file(nfs, path, got, len + 1, &n) == 0) {
		if (n != len)
			differ("%s: %zu bytes, want %zu", path, n, len);
		else
			same_bytes(path, got, model, 0, len);
	}
	free(got);
}

/* A few bytes far past the start: everything before them reads zeros,
 * and a hole in the middle of written data too. */
static void check_sparse(void)
{
	const size_t len = 10u * 1024 * 1024 + 7;
	uint8_t *model = calloc(1, len);
	const char *f = at("sparse");
	struct nfsfh *fh;

	if (!model)
		return;
	if (nfs_create(nfs, f, O_RDWR | O_CREAT | O_EXCL, 0644, &fh) != 0) {
		differ("create %s: %s", f, nfs_get_error(nfs));
		free(model);
		return;
	}
	if (write_at(fh, f, tool_key(seed, 61), 0, 100, 50, model) == 0 &&
	    write_at(fh, f, tool_key(seed, 62), 0, 3 * CHUNK + 5, 9, model) ==
		0 &&
	    write_at(fh, f, tool_key(seed, 63), 0, len - 4, 4, model) == 0 &&
	    nfs_fsync(nfs, fh) != 0)
		differ("fsync %s: %s", f, nfs_get_error(nfs));
	nfs_close(nfs, fh);
	expect_model(f, model, len);
	free(model);
}

/* Overwrites inside a file: across a chunk boundary, at the very start
 * and end, then a write past the end that leaves a gap of zeros. */
static void check_overwrite(void)
{
	const size_t first = 600000, len = 700000 + 1000;
	uint8_t *model = calloc(1, len);
	const char *f = at("over");
	uint64_t k = tool_key(seed, 71);
	struct nfsfh *fh;
	int r;

	if (!model || put_file(f, tool_key(seed, 70), first) != 0)
		goto free_model;
	tool_content(tool_key(seed, 70), 0, model, first);
	if (nfs_open(nfs, f, O_RDWR, &fh) != 0) {
		differ("open %s: %s", f, nfs_get_error(nfs));
		goto free_model;
	}
	r = write_at(fh, f, k, 0, CHUNK - 500, 1000, model) ||
	    write_at(fh, f, k, 5000, 0, 10, model) ||
	    write_at(fh, f, k, 9000, first - 5, 5, model) ||
	    write_at(fh, f, k, 10000, 2 * CHUNK - 1, 2, model) ||
	    write_at(fh, f, k, 10000, 700000, 1000, model);
	if (r == 0 && nfs_fsync(nfs, fh) != 0)
		differ("fsync %s: %s", f, nfs_get_error(nfs));
	nfs_close(nfs, fh);
	expect_model(f, model, len);
free_model:
	free(model);
}

static void names_try(const char *name, int want)
{
	char path[1024];
	struct nfsfh *fh;
	int r;

	snprintf(path, sizeof(path), "%s/names/%s", base, name);
	r = nfs_create(nfs, path, O_RDWR | O_CREAT | O_EXCL, 0644, &fh);
	if (r == 0)
		nfs_close(nfs, fh);
	if (expect_rc("create", path, r, want) == 0 && want == 0)
		expect_content(path, 0, 0);
}

/* Names of 255 bytes work, 256 fail with ENAMETOOLONG; spaces, UTF-8
 * and control bytes are just bytes. */
static void check_names(void)
{
	char longest[257];
	struct nfsdirent *e;
	struct nfsdir *d;
	int seen = 0;

	nfs_mkdir(nfs, at("names"));
	memset(longest, 'n', 256);
	longest[256] = '\0';
	names_try(longest, -ENAMETOOLONG);
	longest[255] = '\0';
	names_try(longest, 0);
	names_try("with space\tand tab", 0);
	names_try("caf\xc3\xa9 \xe2\x9c\x93", 0);
	names_try("-leading-dash", 0);
	if (nfs_opendir(nfs, at("names"), &d) != 0) {
		differ("opendir %s: %s", at("names"), nfs_get_error(nfs));
		return;
	}
	while ((e = nfs_readdir(nfs, d)) != NULL)
		seen += strcmp(e->name, ".") && strcmp(e->name, "..");
	nfs_closedir(nfs, d);
	if (seen != 4)
		differ("%s lists %d names, want 4", at("names"), seen);
}

/* Moving directories: the subtree moves along; into its own subtree is
 * EINVAL; over a non-empty directory ENOTEMPTY (or EEXIST); over an
 * empty one works; file over directory EISDIR; directory over file
 * ENOTDIR. */
static void check_dirrename(void)
{
	uint64_t k = tool_key(seed, 81);
	int r;

	nfs_mkdir(nfs, at("dr"));
	nfs_mkdir(nfs, at("dr/a"));
	nfs_mkdir(nfs, at("dr/a/b"));
	nfs_mkdir(nfs, at("dr/x"));
	if (put_file(at("dr/a/b/f"), k, 1000) != 0)
		return;
	if (expect_rc("rename dir", at("dr/a"),
		      nfs_rename(nfs, at("dr/a"), at("dr/x/a2")), 0) == 0) {
		expect_gone(at("dr/a"));
		expect_content(at("dr/x/a2/b/f"), k, 1000);
	}
	expect_rc("rename into own subtree", at("dr/x/a2"),
		  nfs_rename(nfs, at("dr/x/a2"), at("dr/x/a2/b/in")), -EINVAL);
	nfs_mkdir(nfs, at("dr/full"));
	put_file(at("dr/full/g"), k, 10);
	r = nfs_rename(nfs, at("dr/x/a2"), at("dr/full"));
	if (r != -ENOTEMPTY && r != -EEXIST)
		expect_rc("rename over non-empty dir", at("dr/full"), r,
			  -ENOTEMPTY);
	nfs_mkdir(nfs, at("dr/empty"));
	if (expect_rc("rename over empty dir", at("dr/empty"),
		      nfs_rename(nfs, at("dr/x/a2"), at("dr/empty")), 0) == 0)
		expect_content(at("dr/empty/b/f"), k, 1000);
	expect_rc("rename file over dir", at("dr/full"),
		  nfs_rename(nfs, at("dr/full/g"), at("dr/empty")), -EISDIR);
	expect_rc("rename dir over file", at("dr/full/g"),
		  nfs_rename(nfs, at("dr/empty/b"), at("dr/full/g")), -ENOTDIR);
}

/* O_EXCL create of an existing name fails and leaves the data alone. */
static void check_exclusive(void)
{
	uint64_t k = tool_key(seed, 91);
	struct nfsfh *fh;
	int r;

	if (put_file(at("excl"), k, 777) != 0)
		return;
	r = nfs_create(nfs, at("excl"), O_RDWR | O_CREAT | O_EXCL, 0644, &fh);
	if (r == 0)
		nfs_close(nfs, fh);
	expect_rc("exclusive create of existing", at("excl"), r, -EEXIST);
	expect_content(at("excl"), k, 777);
}

/* A write moves mtime and ctime forward from a time set in the past;
 * a directory's mtime moves when an entry is added. */
static void check_mtime(void)
{
	struct timeval past[2] = { { 1000000, 0 }, { 1000000, 0 } };
	struct nfs_stat_64 st;
	const char *f = at("mt");
	struct nfsfh *fh;
	uint8_t byte = 'x';

	if (put_file(f, tool_key(seed, 95), 100) != 0 ||
	    expect_rc("utimes", f, nfs_utimes(nfs, f, past), 0) != 0 ||
	    nfs_open(nfs, f, O_RDWR, &fh) != 0)
		return;
	if (nfs_pwrite(nfs, fh, 50, 1, &byte) != 1 || nfs_fsync(nfs, fh))
		differ("write %s: %s", f, nfs_get_error(nfs));
	nfs_close(nfs, fh);
	if (stat_path(f, &st) == 0 && st.nfs_mtime <= 1000000)
		differ("%s: mtime %" PRIu64 " did not move on write", f,
		       st.nfs_mtime);
	if (expect_rc("utimes", base, nfs_utimes(nfs, base, past), 0) == 0 &&
	    put_file(at("mt2"), 0, 0) == 0 && stat_path(base, &st) == 0 &&
	    st.nfs_mtime <= 1000000)
		differ("%s: directory mtime %" PRIu64 " did not move on "
		       "create",
		       base, st.nfs_mtime);
}

/* 64-bit offsets: a few bytes written past 5 GiB read back there, the
 * size follows them, and the bytes just before are a hole of zeros. */
static void check_bigoffset(void)
{
	const uint64_t off = (5ull << 30) + 1;
	uint8_t model[16] = { 0 }, got[16];
	const char *f = at("bigoff");
	struct nfs_stat_64 st;
	struct nfsfh *fh;
	int r;

	if (nfs_create(nfs, f, O_RDWR | O_CREAT | O_EXCL, 0644, &fh) != 0) {
		differ("create %s: %s", f, nfs_get_error(nfs));
		return;
	}
	tool_content(tool_key(seed, 97), 0, model + 8, 4);
	r = nfs_pwrite(nfs, fh, off, 4, model + 8);
	if (r != 4 || nfs_fsync(nfs, fh) != 0)
		differ("write %s at %" PRIu64 ": %s", f, off,
		       nfs_get_error(nfs));
	r = nfs_pread(nfs, fh, off - 8, sizeof(got), got);
	nfs_close(nfs, fh);
	if (r != 12)
		differ("read %s at %" PRIu64 ": %d bytes, want 12", f, off - 8,
		       r);
	else
		same_bytes(f, got, model, 0, 12);
	if (stat_path(f, &st) == 0 && st.nfs_size != off + 4)
		differ("%s: size %" PRIu64 ", want %" PRIu64, f, st.nfs_size,
		       off + 4);
}

/* A symlink whose target is 3500 bytes long reads back whole.  (libnfs
 * cannot send a SYMLINK call much longer than that: its buffer for
 * calls without bulk data is about 4 KiB.) */
#define LONGLINK_LEN 3500

static void check_longlink(void)
{
	char target_text[LONGLINK_LEN + 1], got[4096] = "";
	const char *l = at("longlink");

	for (int i = 0; i < LONGLINK_LEN; i++)
		target_text[i] = i % 50 == 49 ? '/' : 'a' + i % 26;
	target_text[LONGLINK_LEN] = '\0';
	if (nfs_symlink(nfs, target_text, l) != 0) {
		differ("symlink %s with a %d-byte target: %s", l, LONGLINK_LEN,
		       nfs_get_error(nfs));
		return;
	}
	if (nfs_readlink(nfs, l, got, sizeof(got) - 1) != 0)
		differ("readlink %s: %s", l, nfs_get_error(nfs));
	else if (strcmp(got, target_text) != 0)
		differ("readlink %s: %zu bytes back, want the %d written", l,
		       strlen(got), LONGLINK_LEN);
}

static const struct checkkit_check checks[] = {
	{ "sparse", check_sparse },	  { "overwrite", check_overwrite },
	{ "names", check_names },	  { "dirrename", check_dirrename },
	{ "exclusive", check_exclusive }, { "mtime", check_mtime },
	{ "bigoffset", check_bigoffset }, { "longlink", check_longlink },
};

int main(int argc, char **argv)
{
	return checkkit_main("nfsedge", argc, argv, checks,
			     sizeof(checks) / sizeof(checks[0]));
}
