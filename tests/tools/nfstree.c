/*
 * nfstree: moves whole trees through the libnfs client, for the
 * persistence and real-input tests.
 *
 *	nfstree -p PORT [-H HOST] [-M MOUNTPORT] [-m MOUNT] write DIR SEED N
 *	nfstree -p PORT ... verify DIR SEED N
 *	nfstree -p PORT ... put LOCALDIR NFSDIR
 *	nfstree -p PORT ... get NFSDIR LOCALDIR
 *
 * write makes N files of seed-derived sizes and content under DIR and
 * COMMITs each (nfs_fsync) before moving on, so every file it reported
 * is covered by a barrier.  verify checks every byte of them by SHA-256.
 * put copies a local tree (regular files, directories, symlinks, modes)
 * into NFSDIR; get copies an NFS tree out, so a script can diff the two.
 */
#include "nfsclient.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUF_SIZE      (1u << 20)
#define FILES_PER_DIR 50

static struct tool_target target = { "127.0.0.1", 0, 0, "/" };
static struct nfs_context *nfs;
static uint8_t *buf;

/* The size of file index of a set: mostly small, every tenth up to
 * 2 MiB so some files span several chunks, every 25th empty. */
static uint64_t set_size(uint64_t seed, uint64_t index)
{
	uint64_t h = tool_mix(tool_key(seed, index) ^ 0x5a5a);

	if (index % 25 == 3)
		return 0;
	if (index % 10 == 0)
		return h % (2u << 20);
	return h % 65536;
}

static void set_path(const char *dir, uint64_t index, char *out, size_t len,
		     int with_file)
{
	if (with_file)
		snprintf(out, len, "%s/d%03" PRIu64 "/f%05" PRIu64, dir,
			 index / FILES_PER_DIR, index);
	else
		snprintf(out, len, "%s/d%03" PRIu64, dir,
			 index / FILES_PER_DIR);
}

static int set_write_one(const char *path, uint64_t key, uint64_t len)
{
	struct nfsfh *fh;
	int r;

	if (nfs_create(nfs, path, O_RDWR | O_CREAT | O_TRUNC, 0644, &fh)) {
		fprintf(stderr, "create %s: %s\n", path, nfs_get_error(nfs));
		return -1;
	}
	r = tool_write_content(nfs, fh, path, key, len, buf, BUF_SIZE);
	if (r == 0 && nfs_fsync(nfs, fh) != 0) {
		fprintf(stderr, "fsync %s: %s\n", path, nfs_get_error(nfs));
		r = -1;
	}
	nfs_close(nfs, fh);
	return r;
}

static int set_write(const char *dir, uint64_t seed, uint64_t n)
{
	char path[1024];
	uint64_t bytes = 0;

	if (nfs_mkdir(nfs, dir) != 0) {
		fprintf(stderr, "mkdir %s: %s\n", dir, nfs_get_error(nfs));
		return 1;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (i % FILES_PER_DIR == 0) {
			set_path(dir, i, path, sizeof(path), 0);
			if (nfs_mkdir(nfs, path) != 0) {
				fprintf(stderr, "mkdir %s: %s\n", path,
					nfs_get_error(nfs));
				return 1;
			}
		}
		set_path(dir, i, path, sizeof(path), 1);
		if (set_write_one(path, tool_key(seed, i), set_size(seed, i)))
			return 1;
		bytes += set_size(seed, i);
	}
	printf("wrote and committed %" PRIu64 " files, %" PRIu64 " bytes\n", n,
	       bytes);
	return 0;
}

static int set_verify_one(const char *path, uint64_t key, uint64_t len)
{
	uint8_t got[crypto_hash_sha256_BYTES], want[crypto_hash_sha256_BYTES];
	char hgot[65], hwant[65];
	struct nfsfh *fh;
	int r;

	if (nfs_open(nfs, path, O_RDONLY, &fh) != 0) {
		fprintf(stderr, "open %s: %s\n", path, nfs_get_error(nfs));
		return -1;
	}
	r = tool_read_sha256(nfs, fh, path, len, buf, BUF_SIZE, got);
	nfs_close(nfs, fh);
	if (r != 0)
		return -1;
	tool_content_sha256(key, len, buf, BUF_SIZE, want);
	if (memcmp(got, want, sizeof(got)) != 0) {
		tool_hex(got, sizeof(got), hgot);
		tool_hex(want, sizeof(want), hwant);
		fprintf(stderr, "%s: sha256 %s, want %s\n", path, hgot, hwant);
		return -1;
	}
	return 0;
}

static int set_verify(const char *dir, uint64_t seed, uint64_t n)
{
	char path[1024];
	uint64_t bad = 0;

	for (uint64_t i = 0; i < n; i++) {
		set_path(dir, i, path, sizeof(path), 1);
		if (set_verify_one(path, tool_key(seed, i),
				   set_size(seed, i)) != 0)
			bad++;
	}
	if (bad) {
		fprintf(stderr, "%" PRIu64 " of %" PRIu64 " files differ\n",
			bad, n);
		return 1;
	}
	printf("verified %" PRIu64 " files\n", n);
	return 0;
}

static int put_file(const char *src, const char *dst, mode_t mode)
{
	struct nfsfh *fh;
	uint64_t off = 0;
	ssize_t n = 0;
	int fd = open(src, O_RDONLY), r = 0;

	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", src, strerror(errno));
		return -1;
	}
	if (nfs_create(nfs, dst, O_RDWR | O_CREAT | O_EXCL, 0600, &fh)) {
		fprintf(stderr, "create %s: %s\n", dst, nfs_get_error(nfs));
		close(fd);
		return -1;
	}
	while (r == 0 && (n = read(fd, buf, BUF_SIZE)) > 0) {
		if (nfs_pwrite(nfs, fh, off, (uint64_t)n, buf) != n) {
			fprintf(stderr, "write %s at %" PRIu64 ": %s\n", dst,
				off, nfs_get_error(nfs));
			r = -1;
		}
		off += (uint64_t)n;
	}
	if (n < 0) {
		fprintf(stderr, "read %s: %s\n", src, strerror(errno));
		r = -1;
	}
	nfs_close(nfs, fh);
	close(fd);
	if (r == 0 && nfs_chmod(nfs, dst, (int)(mode & 07777)) != 0) {
		fprintf(stderr, "chmod %s: %s\n", dst, nfs_get_error(nfs));
		r = -1;
	}
	return r;
}

static int put_tree(const char *src, const char *dst);

/* Copies one entry of a local directory; symlinks are copied as links. */
static int put_entry(const char *src, const char *dst)
{
	struct stat st;
	char target_text[4096];
	ssize_t n;

	if (lstat(src, &st) != 0) {
		fprintf(stderr, "lstat %s: %s\n", src, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return put_tree(src, dst);
	if (S_ISREG(st.st_mode))
		return put_file(src, dst, st.st_mode);
	if (!S_ISLNK(st.st_mode)) {
		fprintf(stderr, "%s: not a file, directory or symlink\n", src);
		return -1;
	}
	n = readlink(src, target_text, sizeof(target_text) - 1);
	if (n < 0)
		return -1;
	target_text[n] = '\0';
	if (nfs_symlink(nfs, target_text, dst) != 0) {
		fprintf(stderr, "symlink %s: %s\n", dst, nfs_get_error(nfs));
		return -1;
	}
	return 0;
}

/* The directory is made writable first and given its mode last, so a
 * read-only source directory can still be filled. */
static int put_tree(const char *src, const char *dst)
{
	char s[4096], d[4096];
	struct dirent *e;
	struct stat st;
	DIR *dir;
	int r = 0;

	if (stat(src, &st) != 0 || !(dir = opendir(src))) {
		fprintf(stderr, "opendir %s: %s\n", src, strerror(errno));
		return -1;
	}
	if (nfs_mkdir2(nfs, dst, 0700) != 0) {
		fprintf(stderr, "mkdir %s: %s\n", dst, nfs_get_error(nfs));
		closedir(dir);
		return -1;
	}
	while (r == 0 && (e = readdir(dir)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(s, sizeof(s), "%s/%s", src, e->d_name);
		snprintf(d, sizeof(d), "%s/%s", dst, e->d_name);
		r = put_entry(s, d);
	}
	closedir(dir);
	if (r == 0 && nfs_chmod(nfs, dst, (int)(st.st_mode & 07777)) != 0) {
		fprintf(stderr, "chmod %s: %s\n", dst, nfs_get_error(nfs));
		r = -1;
	}
	return r;
}

static int get_file(const char *src, const char *dst, mode_t mode)
{
	struct nfsfh *fh;
	uint64_t off = 0;
	int fd, r;

	if (nfs_open(nfs, src, O_RDONLY, &fh) != 0) {
		fprintf(stderr, "open %s: %s\n", src, nfs_get_error(nfs));
		return -1;
	}
	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		fprintf(stderr, "create %s: %s\n", dst, strerror(errno));
		nfs_close(nfs, fh);
		return -1;
	}
	while ((r = nfs_pread(nfs, fh, off, BUF_SIZE, buf)) > 0) {
		if (write(fd, buf, (size_t)r) != r) {
			r = -EIO;
			break;
		}
		off += (uint64_t)r;
	}
	if (r < 0)
		fprintf(stderr, "read %s at %" PRIu64 ": %s\n", src, off,
			nfs_get_error(nfs));
	nfs_close(nfs, fh);
	if (fchmod(fd, mode & 07777) != 0)
		r = -errno;
	close(fd);
	return r < 0 ? -1 : 0;
}

static int get_tree(const char *src, const char *dst, mode_t mode);

static int get_entry(const char *src, const char *dst)
{
	struct nfs_stat_64 st;
	char *target_text = NULL;
	int r;

	if (nfs_lstat64(nfs, src, &st) != 0) {
		fprintf(stderr, "lstat %s: %s\n", src, nfs_get_error(nfs));
		return -1;
	}
	if (S_ISDIR(st.nfs_mode))
		return get_tree(src, dst, (mode_t)st.nfs_mode);
	if (S_ISREG(st.nfs_mode))
		return get_file(src, dst, (mode_t)st.nfs_mode);
	if (!S_ISLNK(st.nfs_mode)) {
		fprintf(stderr,
			"%s: mode 0%" PRIo64 " is not a file, "
			"directory or symlink\n",
			src, st.nfs_mode);
		return -1;
	}
	if (nfs_readlink2(nfs, src, &target_text) != 0) {
		fprintf(stderr, "readlink %s: %s\n", src, nfs_get_error(nfs));
		return -1;
	}
	r = symlink(target_text, dst);
	if (r != 0)
		fprintf(stderr, "symlink %s: %s\n", dst, strerror(errno));
	free(target_text);
	return r;
}

static int get_tree(const char *src, const char *dst, mode_t mode)
{
	char s[4096], d[4096];
	struct nfsdirent *e;
	struct nfsdir *dir;
	int r = 0;

	if (nfs_opendir(nfs, src, &dir) != 0) {
		fprintf(stderr, "opendir %s: %s\n", src, nfs_get_error(nfs));
		return -1;
	}
	if (mkdir(dst, 0700) != 0) {
		fprintf(stderr, "mkdir %s: %s\n", dst, strerror(errno));
		nfs_closedir(nfs, dir);
		return -1;
	}
	while (r == 0 && (e = nfs_readdir(nfs, dir)) != NULL) {
		if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
			continue;
		snprintf(s, sizeof(s), "%s/%s", strcmp(src, "/") ? src : "",
			 e->name);
		snprintf(d, sizeof(d), "%s/%s", dst, e->name);
		r = get_entry(s, d);
	}
	nfs_closedir(nfs, dir);
	if (r == 0 && chmod(dst, mode & 07777) != 0)
		r = -1;
	return r;
}

static void usage(void)
{
	fprintf(stderr, "usage: nfstree -p PORT [-H HOST] [-M MOUNTPORT] [-m "
			"MOUNT] CMD ARGS\n"
			"  write DIR SEED N | verify DIR SEED N |\n"
			"  put LOCALDIR NFSDIR | get NFSDIR LOCALDIR\n");
	exit(2);
}

static int run(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct nfs_stat_64 st;

	if ((!strcmp(cmd, "write") || !strcmp(cmd, "verify")) && argc == 4) {
		uint64_t seed = strtoull(argv[2], NULL, 0);
		uint64_t n = strtoull(argv[3], NULL, 0);

		if (!strcmp(cmd, "write"))
			return set_write(argv[1], seed, n);
		return set_verify(argv[1], seed, n);
	}
	if (!strcmp(cmd, "put") && argc == 3)
		return put_tree(argv[1], argv[2]) != 0;
	if (!strcmp(cmd, "get") && argc == 3) {
		if (nfs_stat64(nfs, argv[1], &st) != 0) {
			fprintf(stderr, "stat %s: %s\n", argv[1],
				nfs_get_error(nfs));
			return 1;
		}
		return get_tree(argv[1], argv[2], (mode_t)st.nfs_mode) != 0;
	}
	usage();
	return 2;
}

int main(int argc, char **argv)
{
	int c, rc;

	while ((c = getopt(argc, argv, "H:p:M:m:")) != -1) {
		if (c == 'H')
			target.host = optarg;
		else if (c == 'p')
			target.port = atoi(optarg);
		else if (c == 'm')
			target.mount = optarg;
		else if (c == 'M')
			target.mport = atoi(optarg);
		else
			usage();
	}
	if (target.port <= 0 || optind >= argc)
		usage();
	buf = malloc(BUF_SIZE);
	if (!buf || sodium_init() < 0)
		return 1;
	nfs = tool_mount(&target);
	if (!nfs)
		return 1;
	rc = run(argc - optind, argv + optind);
	nfs_destroy_context(nfs);
	free(buf);
	return rc;
}
