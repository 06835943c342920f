/*
 * The disk cache: whole SSTs as files in one local directory.
 *
 * A copy of SST id lives in <dir>/<id as 16 lower-case hex digits>.sst.
 * It is written under a temporary name, <id>.<16-hex sequence>.tmp, and
 * renamed into place, so a copy is whole or absent; no fsync, since a
 * copy lost to a crash costs one download.  A file named LOCK, held with
 * flock() for the cache's life, keeps a second cache (in this process or
 * another) off the same directory: the two would delete each other's
 * files.  At open, every file of those two name forms is removed, since
 * nothing records which filesystem an earlier run's copies belonged to;
 * other files are left alone, so a mistyped directory loses nothing.
 *
 * The index (id -> size, in LRU order of opening) is in memory under one
 * mutex.  An insert reserves its bytes first, evicting least recently
 * opened copies until the resident and reserved bytes plus its own fit
 * the budget, then writes its file without the lock.  The budget counts
 * file lengths, not the blocks the filesystem allocates for them.  Names
 * are created, renamed, opened and unlinked under the mutex, so the index
 * and the directory agree; a descriptor opened before an eviction keeps
 * reading the unlinked file.
 */
#include "lsm_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define DC_BUCKETS_MIN 64
#define DC_NAME_MAX    48 /* "<16 hex>.<16 hex>.tmp" and the NUL fit */

struct dc_link {
	struct dc_link *prev, *next;
};

struct dc_file {
	struct dc_link lru; /* first: a link maps back to its file */
	struct dc_file *hnext;
	uint64_t sst, size;
};

struct lsm_disk_cache {
	pthread_mutex_t mu;
	int dirfd, lockfd;
	uint64_t budget, used, reserved;
	uint64_t tmp_seq;
	struct dc_file **buckets;
	size_t nbuckets, count; /* nbuckets: a power of two */
	struct dc_link lru;	/* next: most recently opened */
	uint64_t hits, misses, evictions;
};

static void dc_name_final(char *buf, uint64_t sst)
{
	snprintf(buf, DC_NAME_MAX, "%016" PRIx64 ".sst", sst);
}

static void dc_name_tmp(char *buf, uint64_t sst, uint64_t seq)
{
	snprintf(buf, DC_NAME_MAX, "%016" PRIx64 ".%016" PRIx64 ".tmp", sst,
		 seq);
}

static int dc_hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* 1 for a name this cache writes: a copy or a temporary file. */
static int dc_name_ours(const char *name)
{
	size_t n = strlen(name);

	if (n == 20)
		return dc_hex_run(name, 16) && strcmp(name + 16, ".sst") == 0;
	if (n == 37)
		return dc_hex_run(name, 16) && name[16] == '.' &&
		       dc_hex_run(name + 17, 16) &&
		       strcmp(name + 33, ".tmp") == 0;
	return 0;
}

/* The 64-bit finalizer of MurmurHash3, to spread sequential ids. */
static size_t dc_bucket_of(const struct lsm_disk_cache *dc, uint64_t sst)
{
	uint64_t h = sst;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (size_t)(h & (dc->nbuckets - 1));
}

static struct dc_file *dc_find(const struct lsm_disk_cache *dc, uint64_t sst)
{
	struct dc_file *f = dc->buckets[dc_bucket_of(dc, sst)];

	while (f != NULL && f->sst != sst)
		f = f->hnext;
	return f;
}

static void dc_link_remove(struct dc_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
}

static void dc_link_push_front(struct dc_link *head, struct dc_link *l)
{
	l->next = head->next;
	l->prev = head;
	head->next->prev = l;
	head->next = l;
}

/* Doubles the table once chains average more than one file; short of
 * memory it keeps its size and only lookups slow down. */
static void dc_grow(struct lsm_disk_cache *dc)
{
	size_t old = dc->nbuckets;
	struct dc_file **ob = dc->buckets, **nb;

	if (dc->count <= old)
		return;
	nb = calloc(old * 2, sizeof(*nb));
	if (nb == NULL)
		return;
	dc->buckets = nb;
	dc->nbuckets = old * 2;
	for (size_t i = 0; i < old; i++) {
		struct dc_file *f = ob[i], *next;

		for (; f != NULL; f = next) {
			size_t b = dc_bucket_of(dc, f->sst);

			next = f->hnext;
			f->hnext = nb[b];
			nb[b] = f;
		}
	}
	free(ob);
}

static void dc_index_add(struct lsm_disk_cache *dc, struct dc_file *f)
{
	size_t b;

	dc_grow(dc);
	b = dc_bucket_of(dc, f->sst);
	f->hnext = dc->buckets[b];
	dc->buckets[b] = f;
	dc_link_push_front(&dc->lru, &f->lru);
	dc->count++;
	dc->used += f->size;
}

/* Forgets f and unlinks its copy; the caller holds the mutex. */
static void dc_index_drop(struct lsm_disk_cache *dc, struct dc_file *f)
{
	struct dc_file **p = &dc->buckets[dc_bucket_of(dc, f->sst)];
	char name[DC_NAME_MAX];

	while (*p != f)
		p = &(*p)->hnext;
	*p = f->hnext;
	dc_link_remove(&f->lru);
	dc->count--;
	dc->used -= f->size;
	dc_name_final(name, f->sst);
	/* A copy already gone is what we wanted; nothing else can fail
	 * here that the caller could act on. */
	(void)unlinkat(dc->dirfd, name, 0);
	free(f);
}

/* Evicts the least recently opened copies until need more bytes fit.
 * 0, or -EAGAIN when bytes reserved by inserts in flight still leave no
 * room (the caller's copy is simply not made). */
static int dc_make_room(struct lsm_disk_cache *dc, uint64_t need)
{
	while (dc->used + dc->reserved + need > dc->budget) {
		if (dc->lru.prev == &dc->lru)
			return -EAGAIN;
		dc_index_drop(dc, (struct dc_file *)dc->lru.prev);
		dc->evictions++;
	}
	return 0;
}

/* Creates each missing component of path, like mkdir -p. */
static int dc_mkdirs(const char *path)
{
	char *p = strdup(path);
	int rc = 0;

	if (p == NULL)
		return -ENOMEM;
	for (char *s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			rc = -errno;
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/* Removes every copy and temporary file an earlier run left. */
static int dc_sweep(int dirfd)
{
	int fd = dup(dirfd), rc = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (dc_name_ours(de->d_name) &&
		    unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT)
			rc = -errno;
	}
	closedir(d);
	return rc;
}

/* Takes the directory's LOCK file; -EBUSY when another cache holds it. */
static int dc_lock(struct lsm_disk_cache *dc)
{
	dc->lockfd =
	    openat(dc->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (dc->lockfd < 0)
		return -errno;
	if (flock(dc->lockfd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	return 0;
}

static int dc_dir_open(struct lsm_disk_cache *dc, const char *dir)
{
	int rc = dc_mkdirs(dir);

	if (rc < 0)
		return rc;
	dc->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dc->dirfd < 0)
		return -errno;
	rc = dc_lock(dc);
	if (rc == 0)
		rc = dc_sweep(dc->dirfd);
	return rc;
}

static void dc_free(struct lsm_disk_cache *dc)
{
	if (dc->lockfd >= 0)
		close(dc->lockfd); /* releases the flock */
	if (dc->dirfd >= 0)
		close(dc->dirfd);
	if (dc->buckets != NULL) {
		for (size_t i = 0; i < dc->nbuckets; i++) {
			struct dc_file *f = dc->buckets[i], *next;

			for (; f != NULL; f = next) {
				next = f->hnext;
				free(f);
			}
		}
	}
	pthread_mutex_destroy(&dc->mu);
	free(dc->buckets);
	free(dc);
}

int lsm_disk_cache_open(const char *dir, uint64_t budget,
			struct lsm_disk_cache **out)
{
	struct lsm_disk_cache *dc;
	int rc;

	if (dir == NULL || dir[0] == '\0')
		return -EINVAL;
	dc = calloc(1, sizeof(*dc));
	if (dc == NULL)
		return -ENOMEM;
	dc->dirfd = dc->lockfd = -1;
	dc->budget = budget;
	dc->lru.prev = dc->lru.next = &dc->lru;
	pthread_mutex_init(&dc->mu, NULL);
	rc = dc_dir_open(dc, dir);
	if (rc < 0)
		goto free_dc;
	dc->buckets = calloc(DC_BUCKETS_MIN, sizeof(*dc->buckets));
	if (dc->buckets == NULL) {
		rc = -ENOMEM;
		goto free_dc;
	}
	dc->nbuckets = DC_BUCKETS_MIN;
	*out = dc;
	return 0;

free_dc:
	dc_free(dc);
	return rc;
}

void lsm_disk_cache_close(struct lsm_disk_cache *dc)
{
	/* The copies stay on disk: the next open removes them. */
	if (dc != NULL)
		dc_free(dc);
}

static int dc_write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes data whole under the temporary name; on failure removes it. */
static int dc_tmp_write(struct lsm_disk_cache *dc, const char *tmp,
			const void *data, size_t len)
{
	int fd = openat(dc->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			0600);
	int rc;

	if (fd < 0)
		return -errno;
	rc = dc_write_all(fd, data, len);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		(void)unlinkat(dc->dirfd, tmp, 0);
	return rc;
}

/* Renames the written temporary file into place and indexes f; the
 * caller holds the mutex.  Another insert of the same SST may have won
 * meanwhile: its copy holds the same bytes, so this one is dropped. */
static int dc_commit(struct lsm_disk_cache *dc, struct dc_file *f,
		     const char *tmp)
{
	char name[DC_NAME_MAX];

	if (dc_find(dc, f->sst) != NULL) {
		(void)unlinkat(dc->dirfd, tmp, 0);
		free(f);
		return 0;
	}
	dc_name_final(name, f->sst);
	if (renameat(dc->dirfd, tmp, dc->dirfd, name) < 0) {
		int rc = -errno;

		(void)unlinkat(dc->dirfd, tmp, 0);
		free(f);
		return rc;
	}
	dc_index_add(dc, f);
	return 0;
}

/* Reserves len bytes for f's copy and picks its temporary name.  1 when
 * the SST already has a copy, 0 when reserved, or a negative errno. */
static int dc_reserve(struct lsm_disk_cache *dc, struct dc_file *f, char *tmp)
{
	struct dc_file *have;
	int rc;

	pthread_mutex_lock(&dc->mu);
	have = dc_find(dc, f->sst);
	if (have != NULL) {
		dc_link_remove(&have->lru);
		dc_link_push_front(&dc->lru, &have->lru);
		rc = 1;
	} else {
		rc = dc_make_room(dc, f->size);
	}
	if (rc == 0) {
		dc->reserved += f->size;
		dc_name_tmp(tmp, f->sst, ++dc->tmp_seq);
	}
	pthread_mutex_unlock(&dc->mu);
	return rc;
}

int lsm_disk_cache_insert(struct lsm_disk_cache *dc, uint64_t sst,
			  const void *data, size_t len)
{
	char tmp[DC_NAME_MAX];
	struct dc_file *f;
	int rc;

	if (len > dc->budget)
		return -EFBIG;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->sst = sst;
	f->size = len;
	rc = dc_reserve(dc, f, tmp);
	if (rc != 0) {
		free(f);
		return rc < 0 ? rc : 0;
	}
	rc = dc_tmp_write(dc, tmp, data, len);
	pthread_mutex_lock(&dc->mu);
	dc->reserved -= len;
	if (rc == 0)
		rc = dc_commit(dc, f, tmp);
	else
		free(f);
	pthread_mutex_unlock(&dc->mu);
	return rc;
}

/* Opens f's copy and checks it is whole; the caller holds the mutex.  A
 * copy that vanished or shrank behind the cache's back is dropped. */
static int dc_file_open(struct lsm_disk_cache *dc, struct dc_file *f, int *fd)
{
	char name[DC_NAME_MAX];
	struct stat st;

	dc_name_final(name, f->sst);
	*fd = openat(dc->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		int rc = -errno;

		if (rc == -ENOENT)
			dc_index_drop(dc, f);
		return rc;
	}
	if (fstat(*fd, &st) < 0 || (uint64_t)st.st_size != f->size) {
		close(*fd);
		dc_index_drop(dc, f);
		return -ENOENT;
	}
	return 0;
}

int lsm_disk_cache_open_file(struct lsm_disk_cache *dc, uint64_t sst, int *fd,
			     uint64_t *size)
{
	struct dc_file *f;
	int rc = -ENOENT;

	pthread_mutex_lock(&dc->mu);
	f = dc_find(dc, sst);
	if (f != NULL) {
		*size = f->size;
		rc = dc_file_open(dc, f, fd);
	}
	if (rc == 0) {
		dc_link_remove(&f->lru);
		dc_link_push_front(&dc->lru, &f->lru);
		dc->hits++;
	} else if (rc == -ENOENT) {
		dc->misses++;
	}
	pthread_mutex_unlock(&dc->mu);
	return rc;
}

void lsm_disk_cache_remove(struct lsm_disk_cache *dc, uint64_t sst)
{
	struct dc_file *f;

	pthread_mutex_lock(&dc->mu);
	f = dc_find(dc, sst);
	if (f != NULL)
		dc_index_drop(dc, f);
	pthread_mutex_unlock(&dc->mu);
}

void lsm_disk_cache_stats(struct lsm_disk_cache *dc, struct lsm_cache_stats *st)
{
	pthread_mutex_lock(&dc->mu);
	*st = (struct lsm_cache_stats){ .bytes = dc->used,
					.entries = dc->count,
					.hits = dc->hits,
					.misses = dc->misses,
					.evictions = dc->evictions };
	pthread_mutex_unlock(&dc->mu);
}
