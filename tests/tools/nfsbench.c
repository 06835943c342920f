/*
 * nfsbench: fixed workloads timed through the libnfs client, or the same
 * workloads on a local directory so a run can print the two side by side.
 *
 *	nfsbench -p PORT [-H HOST] [-M MOUNTPORT] [-m MOUNT] WORKLOAD ARGS
 *	nfsbench -L LOCALDIR WORKLOAD ARGS
 *
 *	write FILE MIB	sequential 1 MiB writes, then one COMMIT (fsync)
 *	read FILE MIB	sequential 1 MiB reads of a file written before
 *	meta DIR N	create N empty files, stat each, remove each
 *
 * Prints one line: "WORKLOAD VALUE UNIT (details)", with MB = 10^6 bytes.
 * The local read first drops the file from the page cache
 * (posix_fadvise), so it measures the disk, not memory.
 */
#include "nfsclient.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define IO_SIZE (1u << 20)

static struct tool_target target = { "127.0.0.1", 0, 0, "/" };
static struct nfs_context *nfs;
static const char *local_dir;
static uint8_t *buf;

/* One open file, on NFS or on the local disk. */
struct bench_file {
	struct nfsfh *fh;
	int fd;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "nfsbench: %s %s: %s\n", what, path,
		local_dir ? strerror(errno) : nfs_get_error(nfs));
	exit(1);
}

/* The path of name: under LOCALDIR in local mode, as given on NFS. */
static const char *bench_path(const char *name, char *out, size_t len)
{
	if (local_dir)
		snprintf(out, len, "%s/%s", local_dir, name);
	else
		snprintf(out, len, "%s", name);
	return out;
}

static void bench_open(const char *path, int flags, struct bench_file *f)
{
	if (local_dir) {
		f->fd = open(path, flags, 0644);
		if (f->fd < 0)
			die("open", path);
	} else if (flags & O_CREAT) {
		if (nfs_create(nfs, path, flags, 0644, &f->fh) != 0)
			die("create", path);
	} else if (nfs_open(nfs, path, flags, &f->fh) != 0) {
		die("open", path);
	}
}

static void bench_close(struct bench_file *f)
{
	if (local_dir)
		close(f->fd);
	else
		nfs_close(nfs, f->fh);
}

static void bench_pwrite(struct bench_file *f, const char *path, uint64_t off,
			 size_t n)
{
	int r = local_dir ? (int)pwrite(f->fd, buf, n, (off_t)off)
			  : nfs_pwrite(nfs, f->fh, off, n, buf);

	if (r != (int)n)
		die("write", path);
}

static size_t bench_pread(struct bench_file *f, const char *path, uint64_t off,
			  size_t n)
{
	int r = local_dir ? (int)pread(f->fd, buf, n, (off_t)off)
			  : nfs_pread(nfs, f->fh, off, n, buf);

	if (r < 0)
		die("read", path);
	return (size_t)r;
}

static void bench_fsync(struct bench_file *f, const char *path)
{
	if (local_dir ? fsync(f->fd) : nfs_fsync(nfs, f->fh))
		die("fsync", path);
}

static void work_write(const char *name, uint64_t mib)
{
	struct bench_file f;
	char path[1024];
	double t0, secs;

	bench_path(name, path, sizeof(path));
	tool_content(tool_key(7, 7), 0, buf, IO_SIZE);
	t0 = now();
	bench_open(path, O_RDWR | O_CREAT | O_TRUNC, &f);
	for (uint64_t i = 0; i < mib; i++) {
		buf[0] = (uint8_t)i; /* no two blocks alike */
		bench_pwrite(&f, path, i * IO_SIZE, IO_SIZE);
	}
	bench_fsync(&f, path);
	bench_close(&f);
	secs = now() - t0;
	printf("write %.1f MB/s (%" PRIu64 " MiB in %.2f s, with COMMIT)\n",
	       (double)mib * IO_SIZE / 1e6 / secs, mib, secs);
}

static void work_read(const char *name, uint64_t mib)
{
	struct bench_file f;
	char path[1024];
	uint64_t off = 0;
	double t0, secs;
	size_t n;

	bench_path(name, path, sizeof(path));
	if (local_dir) {
		bench_open(path, O_RDONLY, &f);
		posix_fadvise(f.fd, 0, 0, POSIX_FADV_DONTNEED);
		bench_close(&f);
	}
	t0 = now();
	bench_open(path, O_RDONLY, &f);
	while ((n = bench_pread(&f, path, off, IO_SIZE)) > 0)
		off += n;
	bench_close(&f);
	secs = now() - t0;
	if (off != mib * IO_SIZE) {
		fprintf(stderr,
			"nfsbench: read %" PRIu64 " bytes, want %" PRIu64 "\n",
			off, mib * IO_SIZE);
		exit(1);
	}
	printf("read %.1f MB/s (%" PRIu64 " MiB in %.2f s)\n",
	       (double)off / 1e6 / secs, mib, secs);
}

static int bench_stat(const char *path)
{
	struct nfs_stat_64 nst;
	struct stat st;

	return local_dir ? lstat(path, &st) : nfs_lstat64(nfs, path, &nst);
}

static int bench_unlink(const char *path)
{
	return local_dir ? unlink(path) : nfs_unlink(nfs, path);
}

static int bench_mkdir(const char *path)
{
	return local_dir ? mkdir(path, 0755) : nfs_mkdir(nfs, path);
}

static void work_meta(const char *name, long n)
{
	char dir[1024], path[1100];
	struct bench_file f;
	double t0, secs;

	bench_path(name, dir, sizeof(dir));
	if (bench_mkdir(dir) != 0)
		die("mkdir", dir);
	t0 = now();
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/e%06ld", dir, i);
		bench_open(path, O_RDWR | O_CREAT | O_EXCL, &f);
		bench_close(&f);
	}
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/e%06ld", dir, i);
		if (bench_stat(path) != 0)
			die("stat", path);
	}
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/e%06ld", dir, i);
		if (bench_unlink(path) != 0)
			die("unlink", path);
	}
	secs = now() - t0;
	printf("meta %.0f ops/s (%ld creates, stats and removes in %.2f s)\n",
	       3.0 * (double)n / secs, n, secs);
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: nfsbench (-p PORT [-H HOST] [-M MOUNTPORT] [-m MOUNT] | "
	    "-L LOCALDIR) write|read FILE MIB | meta DIR N\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "H:p:M:m:L:")) != -1) {
		if (c == 'H')
			target.host = optarg;
		else if (c == 'p')
			target.port = atoi(optarg);
		else if (c == 'm')
			target.mount = optarg;
		else if (c == 'M')
			target.mport = atoi(optarg);
		else if (c == 'L')
			local_dir = optarg;
		else
			usage();
	}
	if ((target.port <= 0 && !local_dir) || argc - optind != 3)
		usage();
	buf = malloc(IO_SIZE);
	if (!buf)
		return 1;
	if (!local_dir && !(nfs = tool_mount(&target)))
		return 1;
	if (!strcmp(argv[optind], "write"))
		work_write(argv[optind + 1], strtoull(argv[optind + 2], 0, 0));
	else if (!strcmp(argv[optind], "read"))
		work_read(argv[optind + 1], strtoull(argv[optind + 2], 0, 0));
	else if (!strcmp(argv[optind], "meta"))
		work_meta(argv[optind + 1], atol(argv[optind + 2]));
	else
		usage();
	if (nfs)
		nfs_destroy_context(nfs);
	free(buf);
	return 0;
}
