/*
 * The harness the libnfs check tools share: one mounted client, a base
 * directory for the run, helpers that report each difference on its own
 * line ("  what: got X, want Y"), and a main() that runs the checks named
 * on the command line, printing "ok NAME" or "FAIL NAME" for each.  A
 * tool defines its checks in a table and calls checkkit_main.
 */
#ifndef ZEROFS_TOOLS_CHECKKIT_H
#define ZEROFS_TOOLS_CHECKKIT_H

#include "nfsclient.h"

#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define BUF_SIZE (1u << 20)

struct checkkit_check {
	const char *name;
	void (*fn)(void);
};

static struct tool_target target = { "127.0.0.1", 0, 0, "/" };
static struct nfs_context *nfs;
static char base[512];
static uint64_t seed = 1;
static int check_count = 10000; /* -n: how many, for checks that scale */
static uint8_t *buf;
static int check_errors;

static inline void differ(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Reports one difference; the current check will be marked FAIL. */
static inline void differ(const char *fmt, ...)
{
	va_list ap;

	fputs("  ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	check_errors++;
}

/* base/name, in one of a few rotating static buffers. */
static inline const char *at(const char *name)
{
	static char paths[8][1024];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, sizeof(paths[0]), "%s/%s", base, name);
	return p;
}

/* Expects call result r to be want (0 or a negative errno). */
static inline int expect_rc(const char *what, const char *path, int r, int want)
{
	if (r == want)
		return 0;
	differ("%s %s: got %d (%s), want %d (%s)", what, path, r,
	       r < 0 ? strerror(-r) : "success", want,
	       want < 0 ? strerror(-want) : "success");
	return -1;
}

static inline int stat_path(const char *path, struct nfs_stat_64 *st)
{
	int r = nfs_lstat64(nfs, path, st);

	if (r != 0)
		differ("lstat %s: %s", path, nfs_get_error(nfs));
	return r;
}

/* Creates path holding len bytes of content key, COMMITs it. */
static inline int put_file(const char *path, uint64_t key, uint64_t len)
{
	struct nfsfh *fh;
	int r = nfs_create(nfs, path, O_RDWR | O_CREAT | O_TRUNC, 0644, &fh);

	if (r != 0) {
		differ("create %s: %s", path, nfs_get_error(nfs));
		return r;
	}
	r = tool_write_content(nfs, fh, path, key, len, buf, BUF_SIZE);
	if (r == 0 && (r = nfs_fsync(nfs, fh)) != 0)
		differ("fsync %s: %s", path, nfs_get_error(nfs));
	else if (r != 0)
		differ("write %s failed", path);
	nfs_close(nfs, fh);
	return r;
}

/* Reads all of path into dst (at most cap bytes); sets *len. */
static inline int get_file(struct nfs_context *c, const char *path,
			   uint8_t *dst, size_t cap, size_t *len)
{
	struct nfsfh *fh;
	int r = nfs_open(c, path, O_RDONLY, &fh);

	*len = 0;
	if (r != 0) {
		differ("open %s: %s", path, nfs_get_error(c));
		return r;
	}
	while (*len < cap) {
		r = nfs_pread(c, fh, *len, cap - *len, dst + *len);
		if (r <= 0)
			break;
		*len += (size_t)r;
	}
	if (r < 0)
		differ("read %s at %zu: %s", path, *len, nfs_get_error(c));
	nfs_close(c, fh);
	return r < 0 ? r : 0;
}

/* Compares len bytes at off of got against want; names the first
 * differing offset. */
static inline int same_bytes(const char *path, const uint8_t *got,
			     const uint8_t *want, size_t off, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (got[off + i] != want[off + i]) {
			differ("%s: byte %zu is 0x%02x, want 0x%02x", path,
			       off + i, got[off + i], want[off + i]);
			return -1;
		}
	}
	return 0;
}

/* Expects path to hold exactly len bytes of content key (len small). */
static inline int expect_content(const char *path, uint64_t key, size_t len)
{
	static uint8_t got[BUF_SIZE], want[BUF_SIZE];
	size_t n;

	if (get_file(nfs, path, got, sizeof(got), &n) != 0)
		return -1;
	if (n != len) {
		differ("%s: %zu bytes, want %zu", path, n, len);
		return -1;
	}
	tool_content(key, 0, want, len);
	return same_bytes(path, got, want, 0, len);
}

static inline void expect_gone(const char *path)
{
	struct nfs_stat_64 st;

	expect_rc("lstat of removed", path, nfs_lstat64(nfs, path, &st),
		  -ENOENT);
}

static inline int checkkit_run(const char *prog,
			       const struct checkkit_check *checks, size_t n,
			       const char *name)
{
	int all = !strcmp(name, "all"), before;

	for (size_t i = 0; i < n; i++) {
		if (!all && strcmp(name, checks[i].name) != 0)
			continue;
		before = check_errors;
		checks[i].fn();
		printf("%s %s\n", check_errors == before ? "ok  " : "FAIL",
		       checks[i].name);
		fflush(stdout);
		if (!all)
			return 0;
	}
	if (!all) {
		fprintf(stderr, "%s: unknown check %s\n", prog, name);
		return -1;
	}
	return 0;
}

static inline void checkkit_usage(const char *prog,
				  const struct checkkit_check *checks, size_t n)
{
	fprintf(stderr,
		"usage: %s -p PORT [-H HOST] [-M MOUNTPORT] [-m MOUNT] "
		"[-d DIR] [-s SEED] [-n N] CHECK...\nchecks:",
		prog);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %s", checks[i].name);
	fprintf(stderr, " all\n");
	exit(2);
}

static inline void checkkit_option(int c, const char *arg)
{
	switch (c) {
	case 'H':
		target.host = arg;
		break;
	case 'p':
		target.port = atoi(arg);
		break;
	case 'M':
		target.mport = atoi(arg);
		break;
	case 'm':
		target.mount = arg;
		break;
	case 'd':
		snprintf(base, sizeof(base), "%s", arg);
		break;
	case 's':
		seed = strtoull(arg, NULL, 0);
		break;
	case 'n':
		check_count = atoi(arg);
		break;
	}
}

/* Parses the options, mounts, makes the base directory (it must not
 * exist yet) and runs every check named.  Exits 0 only if all passed. */
static inline int checkkit_main(const char *prog, int argc, char **argv,
				const struct checkkit_check *checks, size_t n)
{
	int c, rc = 0;

	snprintf(base, sizeof(base), "/%s.%d", prog, (int)getpid());
	while ((c = getopt(argc, argv, "H:p:M:m:d:s:n:")) != -1) {
		if (c == '?')
			checkkit_usage(prog, checks, n);
		checkkit_option(c, optarg);
	}
	if (target.port <= 0 || optind >= argc || check_count < 1 ||
	    check_count > 99999)
		checkkit_usage(prog, checks, n);
	buf = malloc(BUF_SIZE);
	if (!buf || sodium_init() < 0)
		return 1;
	nfs = tool_mount(&target);
	if (!nfs)
		return 1;
	if (expect_rc("mkdir", base, nfs_mkdir(nfs, base), 0) != 0)
		rc = 1;
	for (int i = optind; i < argc && rc == 0; i++)
		rc = checkkit_run(prog, checks, n, argv[i]) != 0;
	nfs_destroy_context(nfs);
	free(buf);
	return rc != 0 || check_errors != 0;
}

#endif
