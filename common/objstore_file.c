/*
 * The local-directory object store, "file:///abs/dir": one file per object,
 * the key being its path below the root.
 *
 * Every object is first written to a unique file in a hidden temporary
 * directory inside the root (so it is on the same filesystem), flushed with
 * fsync, and only then given its name: rename() for put, link() for
 * put_if_absent, whose failure with EEXIST makes exactly one of racing
 * creators win.  The parent directory is fsync'ed after the name appears,
 * so an object that a put acknowledged survives a crash, and a reader
 * never sees a half-written object.  A crash can leave files behind in the
 * temporary directory; list never shows them, keys cannot name them, and
 * the next open removes those older than an hour.
 *
 * Keys whose paths collide with each other ("a" and "a/b") cannot both
 * exist here; the second put fails with the system's errno.
 */
#include "objstore.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_TMP_DIR  ".objstore-tmp"
#define FILE_PATH_MAX 1024
/* Seconds after which a temporary file is surely a crash's leftover. */
#define FILE_TMP_MAX_AGE 3600

extern const struct objstore_ops objstore_file_ops;

struct file_store {
	struct objstore base;
	int rootfd;
	atomic_uint tmp_seq;
	atomic_flag logged; /* set once the first failure was logged */
};

static struct file_store *file_of(struct objstore *os)
{
	return (struct file_store *)os;
}

/* Logs the store's first failure only: a full disk would otherwise fill
 * the log with one line per request. */
static int file_fail(struct file_store *fs, const char *call, const char *key,
		     int rc)
{
	if (!atomic_flag_test_and_set(&fs->logged))
		log_err("objstore: %s: %s: %s", call, key, strerror(-rc));
	return rc;
}

/* The temporary directory's name is reserved: no key may enter it. */
static int file_key_check(const char *key)
{
	size_t n = strlen(FILE_TMP_DIR);

	if (objstore_key_check(key) < 0)
		return -EINVAL;
	if (strncmp(key, FILE_TMP_DIR, n) == 0 &&
	    (key[n] == '\0' || key[n] == '/'))
		return -EINVAL;
	return 0;
}

static int file_fsync_at(int dirfd, const char *path)
{
	int fd, rc = 0;

	fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* fsyncs the directory that holds key ("." for a top-level key). */
static int file_fsync_parent(int rootfd, const char *key)
{
	char dir[FILE_PATH_MAX];
	const char *slash = strrchr(key, '/');

	if (slash == NULL)
		return file_fsync_at(rootfd, ".");
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - key), key);
	return file_fsync_at(rootfd, dir);
}

/* Creates every missing directory above key, fsyncing the parent of each
 * one it creates so the new name is durable. */
static int file_mkdir_parents(int rootfd, const char *key)
{
	char path[FILE_PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s", key);
	for (char *p = strchr(path, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdirat(rootfd, path, 0755) == 0) {
			rc = file_fsync_parent(rootfd, path);
			if (rc < 0)
				return rc;
		} else if (errno != EEXIST) {
			return -errno;
		}
		*p = '/';
	}
	return 0;
}

static int file_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Creates a fresh temporary file holding data, flushed to disk.  Its path
 * relative to the root goes to tmp. */
static int file_tmp_write(struct file_store *fs, const void *data, size_t len,
			  char *tmp, size_t tmplen)
{
	int fd, rc;

	do {
		unsigned seq = atomic_fetch_add(&fs->tmp_seq, 1);

		snprintf(tmp, tmplen, "%s/%ld-%u", FILE_TMP_DIR, (long)getpid(),
			 seq);
		fd = openat(fs->rootfd, tmp,
			    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	} while (fd < 0 && errno == EEXIST);
	if (fd < 0)
		return -errno;
	rc = file_write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		unlinkat(fs->rootfd, tmp, 0);
	return rc;
}

/* Gives the temporary file its key; creates missing parents on demand. */
static int file_tmp_publish(int rootfd, const char *tmp, const char *key,
			    int if_absent)
{
	for (int attempt = 0;; attempt++) {
		int rc = if_absent ? linkat(rootfd, tmp, rootfd, key, 0)
				   : renameat(rootfd, tmp, rootfd, key);

		if (rc == 0)
			return 0;
		if (errno != ENOENT || attempt > 0)
			return -errno;
		rc = file_mkdir_parents(rootfd, key);
		if (rc < 0)
			return rc;
	}
}

static int file_put(struct objstore *os, const char *key, const void *data,
		    size_t len, int if_absent)
{
	struct file_store *fs = file_of(os);
	char tmp[128];
	int rc;

	if (file_key_check(key) < 0)
		return -EINVAL;
	rc = file_tmp_write(fs, data, len, tmp, sizeof(tmp));
	if (rc < 0)
		return file_fail(fs, "put", key, rc);
	rc = file_tmp_publish(fs->rootfd, tmp, key, if_absent);
	if (if_absent || rc < 0)
		unlinkat(fs->rootfd, tmp, 0);
	if (rc == -EEXIST && if_absent)
		return rc;
	if (rc == 0)
		rc = file_fsync_parent(fs->rootfd, key);
	if (rc < 0)
		return file_fail(fs, "put", key, rc);
	return 0;
}

/* Opens key for reading; a directory or a missing path is -ENOENT. */
static int file_open_object(struct file_store *fs, const char *key,
			    struct stat *st)
{
	int fd = openat(fs->rootfd, key, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	if (fstat(fd, st) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

/* Reads up to len bytes at off; a short count means end of file. */
static int file_pread_all(int fd, void *buf, size_t len, uint64_t off,
			  size_t *got)
{
	char *p = buf;

	*got = 0;
	while (*got < len) {
		ssize_t n = pread(fd, p + *got, len - *got, (off_t)off + *got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

static int file_get(struct objstore *os, const char *key, void **data,
		    size_t *len)
{
	struct file_store *fs = file_of(os);
	struct stat st;
	void *buf;
	size_t got;
	int fd, rc;

	*data = NULL;
	*len = 0;
	if (file_key_check(key) < 0)
		return -EINVAL;
	fd = file_open_object(fs, key, &st);
	if (fd < 0)
		return fd == -ENOENT ? fd : file_fail(fs, "get", key, fd);
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	rc = file_pread_all(fd, buf, (size_t)st.st_size, 0, &got);
	close(fd);
	if (rc < 0) {
		free(buf);
		return file_fail(fs, "get", key, rc);
	}
	*data = buf;
	*len = got;
	return 0;
}

static int file_get_range(struct objstore *os, const char *key, uint64_t off,
			  size_t len, void *buf, size_t *got)
{
	struct file_store *fs = file_of(os);
	struct stat st;
	int fd, rc;

	*got = 0;
	if (file_key_check(key) < 0)
		return -EINVAL;
	fd = file_open_object(fs, key, &st);
	if (fd < 0)
		return fd == -ENOENT ? fd : file_fail(fs, "get", key, fd);
	rc = 0;
	if (off < (uint64_t)st.st_size)
		rc = file_pread_all(fd, buf, len, off, got);
	close(fd);
	return rc < 0 ? file_fail(fs, "get", key, rc) : 0;
}

static int file_del(struct objstore *os, const char *key)
{
	struct file_store *fs = file_of(os);
	int rc;

	if (file_key_check(key) < 0)
		return -EINVAL;
	if (unlinkat(fs->rootfd, key, 0) == 0)
		return file_fsync_parent(fs->rootfd, key);
	rc = -errno;
	/* A missing key, or one that names a directory, holds no object. */
	if (rc == -ENOENT || rc == -ENOTDIR || rc == -EISDIR)
		return 0;
	return file_fail(fs, "del", key, rc);
}

/*
 * Listing.  Keys come out in ascending byte order although the tree is
 * walked one directory at a time: inside a directory, a subdirectory "d"
 * sorts as "d/", which is where every key below it sorts among its
 * siblings.
 */
struct file_entry {
	char *sortname; /* name, plus '/' for a directory */
	int is_dir;
	uint64_t size;
};

struct file_walk {
	const char *prefix;
	size_t prefixlen;
	objstore_list_cb cb;
	void *arg;
	char key[FILE_PATH_MAX];
};

static int file_entry_cmp(const void *a, const void *b)
{
	const struct file_entry *x = a, *y = b;

	return strcmp(x->sortname, y->sortname);
}

/* Whether anything below (or at) path can match the prefix. */
static int file_walk_wants(const struct file_walk *w, const char *path)
{
	size_t n = strlen(path);

	return strncmp(path, w->prefix, n < w->prefixlen ? n : w->prefixlen) ==
	       0;
}

static void file_entries_free(struct file_entry *ents, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ents[i].sortname);
	free(ents);
}

/* Classifies one directory entry; returns 1 to keep it, 0 to skip it. */
static int file_entry_make(int dirfd, const struct dirent *de,
			   struct file_entry *e)
{
	struct stat st;

	if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
		return 0;
	if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0; /* deleted while we listed */
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return 0;
	e->is_dir = S_ISDIR(st.st_mode);
	e->size = (uint64_t)st.st_size;
	if (asprintf(&e->sortname, "%s%s", de->d_name, e->is_dir ? "/" : "") <
	    0)
		return -ENOMEM;
	return 1;
}

/* Reads a directory whole, sorted.  *ents is malloc'd; the caller frees it
 * with file_entries_free. */
static int file_dir_read(int dirfd, struct file_entry **ents, size_t *n)
{
	struct file_entry *v = NULL, *grown;
	size_t cap = 0, cnt = 0;
	struct dirent *de;
	int fd, rc = 0;
	DIR *dir;

	/* The walk keeps using dirfd after the stream is closed. */
	fd = dup(dirfd);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (dir == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while (rc >= 0 && (de = readdir(dir)) != NULL) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 32;
			grown = realloc(v, cap * sizeof(*v));
			if (grown == NULL) {
				rc = -ENOMEM;
				break;
			}
			v = grown;
		}
		rc = file_entry_make(dirfd, de, &v[cnt]);
		if (rc > 0)
			cnt++;
	}
	closedir(dir);
	if (rc < 0) {
		file_entries_free(v, cnt);
		return rc;
	}
	qsort(v, cnt, sizeof(*v), file_entry_cmp);
	*ents = v;
	*n = cnt;
	return 0;
}

static int file_walk_dir(struct file_walk *w, int dirfd, size_t keylen);

/* Visits one entry of a directory whose path is w->key[0..keylen). */
static int file_walk_entry(struct file_walk *w, int dirfd, size_t keylen,
			   const struct file_entry *e)
{
	size_t n = strlen(e->sortname);
	int fd;

	if (keylen + n >= sizeof(w->key))
		return 0;
	memcpy(w->key + keylen, e->sortname, n + 1);
	if (keylen == 0 && strcmp(w->key, FILE_TMP_DIR "/") == 0)
		return 0;
	if (!file_walk_wants(w, w->key))
		return 0;
	if (!e->is_dir) {
		if (objstore_key_check(w->key) < 0)
			return 0;
		return w->cb(w->arg, w->key, e->size);
	}
	w->key[keylen + n - 1] = '\0';
	fd = openat(dirfd, w->key + keylen, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	w->key[keylen + n - 1] = '/';
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	return file_walk_dir(w, fd, keylen + n);
}

/* Walks the directory dirfd (which it closes). */
static int file_walk_dir(struct file_walk *w, int dirfd, size_t keylen)
{
	struct file_entry *ents = NULL;
	size_t n = 0;
	int rc;

	rc = file_dir_read(dirfd, &ents, &n);
	if (rc < 0) {
		close(dirfd);
		return rc;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = file_walk_entry(w, dirfd, keylen, &ents[i]);
		w->key[keylen] = '\0';
	}
	file_entries_free(ents, n);
	close(dirfd);
	return rc;
}

static int file_list(struct objstore *os, const char *prefix,
		     objstore_list_cb cb, void *arg)
{
	struct file_store *fs = file_of(os);
	struct file_walk *w;
	int fd, rc;

	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->prefix = prefix != NULL ? prefix : "";
	w->prefixlen = strlen(w->prefix);
	w->cb = cb;
	w->arg = arg;
	fd = openat(fs->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		rc = file_fail(fs, "list", w->prefix, -errno);
	else
		rc = file_walk_dir(w, fd, 0);
	free(w);
	return rc;
}

/* Creates dir and its missing parents (an absolute path). */
static int file_mkdir_root(const char *dir)
{
	char path[FILE_PATH_MAX];

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = strchr(path + 1, '/');; p = strchr(p + 1, '/')) {
		if (p != NULL)
			*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (p == NULL)
			return 0;
		*p = '/';
	}
}

/* Removes temporary files that a crashed writer left behind.  Only old
 * ones: another process may share the directory and be writing now. */
static void file_tmp_sweep(int rootfd)
{
	time_t cutoff = time(NULL) - FILE_TMP_MAX_AGE;
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int fd;

	fd = openat(rootfd, FILE_TMP_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_mtime < cutoff)
			unlinkat(fd, de->d_name, 0);
	}
	closedir(dir);
}

/* rest is what follows "file://": an absolute directory path. */
static int file_open(const char *rest, struct objstore **out)
{
	struct file_store *fs;
	int rc;

	if (rest[0] != '/' || strlen(rest) >= FILE_PATH_MAX)
		return -EINVAL;
	rc = file_mkdir_root(rest);
	if (rc < 0)
		goto fail;
	fs = calloc(1, sizeof(*fs));
	if (fs == NULL)
		return -ENOMEM;
	fs->base.ops = &objstore_file_ops;
	atomic_flag_clear(&fs->logged);
	fs->rootfd = open(rest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->rootfd < 0) {
		rc = -errno;
		goto free_fs;
	}
	if (mkdirat(fs->rootfd, FILE_TMP_DIR, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		goto close_root;
	}
	file_tmp_sweep(fs->rootfd);
	*out = &fs->base;
	return 0;
close_root:
	close(fs->rootfd);
free_fs:
	free(fs);
fail:
	log_err("objstore: open: %s: %s", rest, strerror(-rc));
	return rc;
}

static void file_close(struct objstore *os)
{
	struct file_store *fs = file_of(os);

	close(fs->rootfd);
	free(fs);
}

const struct objstore_ops objstore_file_ops = {
	.scheme = "file",
	.open = file_open,
	.put = file_put,
	.get = file_get,
	.get_range = file_get_range,
	.del = file_del,
	.list = file_list,
	.close = file_close,
};
