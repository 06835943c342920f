/*
 * Tests of the disk cache on temporary directories under /tmp: copies
 * read back whole, eviction in order of opening, the budget, leftovers
 * removed at open, copies evicted while open, bad directories, a disk
 * error in the middle of a write (through RLIMIT_FSIZE), a second cache
 * on one directory, and threads inserting and opening at once.
 */
#include "lsm_cache.h"

#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tmpdir_new(void)
{
	static char dir[64];

	if (test_tmpdir("lsm_diskcache_test", dir, sizeof(dir)) < 0)
		abort();
	return dir;
}

/* Removes dir and the files in it (the tests make no deeper trees). */
static void tmpdir_rm(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) < 0)
			rmdir(path);
	}
	closedir(d);
	rmdir(dir);
}

static int files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static int file_exists(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void file_write(const char *dir, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs("old", f);
	fclose(f);
}

static uint8_t *sst_bytes(uint64_t sst, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);

	if (b == NULL)
		abort();
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(sst * 13 + i * 3);
	return b;
}

static int sst_insert(struct lsm_disk_cache *dc, uint64_t sst, size_t len)
{
	uint8_t *b = sst_bytes(sst, len);
	int rc = lsm_disk_cache_insert(dc, sst, b, len);

	free(b);
	return rc;
}

/* 1 if the descriptor reads exactly the bytes of sst, len long. */
static int fd_holds(int fd, uint64_t sst, size_t len)
{
	uint8_t *want = sst_bytes(sst, len), *got = malloc(len + 1);
	ssize_t n = pread(fd, got, len + 1, 0);
	int ok = n == (ssize_t)len && memcmp(got, want, len) == 0;

	free(want);
	free(got);
	return ok;
}

/* 1 if the cache has a copy of sst holding its bytes. */
static int has_copy(struct lsm_disk_cache *dc, uint64_t sst, size_t len)
{
	uint64_t size = 0;
	int fd = -1, ok;

	if (lsm_disk_cache_open_file(dc, sst, &fd, &size) < 0)
		return 0;
	ok = size == len && fd_holds(fd, sst, len);
	close(fd);
	return ok;
}

static struct lsm_disk_cache *dc_new(const char *dir, uint64_t budget)
{
	struct lsm_disk_cache *dc = NULL;

	if (lsm_disk_cache_open(dir, budget, &dc) < 0)
		abort();
	return dc;
}

TEST(insert_then_open_file_reads_back_the_same_bytes)
{
	char *dir = tmpdir_new();
	struct lsm_disk_cache *dc = dc_new(dir, 1 << 20);
	struct lsm_cache_stats st;

	CHECK_EQ(sst_insert(dc, 0x2a, 10000), 0);
	CHECK(has_copy(dc, 0x2a, 10000));
	CHECK(file_exists(dir, "000000000000002a.sst"));
	lsm_disk_cache_stats(dc, &st);
	CHECK_EQ(st.bytes, 10000);
	CHECK_EQ(st.entries, 1);
	CHECK_EQ(st.hits, 1);
	lsm_disk_cache_close(dc);
	tmpdir_rm(dir);
}

TEST(open_file_of_an_sst_without_a_copy_is_enoent)
{
	char *dir = tmpdir_new();
	struct lsm_disk_cache *dc = dc_new(dir, 1 << 20);
	struct lsm_cache_stats st;
	uint64_t size;
	int fd;

	CHECK_EQ(sst_insert(dc, 1, 100), 0);
	CHECK_EQ(lsm_disk_cache_open_file(dc, 2, &fd, &size), -ENOENT);
	lsm_disk_cache_stats(dc, &st);
	CHECK_EQ(st.misses, 1);
	lsm_disk_cache_close(dc);
	tmpdir_rm(dir);
}

TEST(inserting_a_copy_twice_keeps_one)
{
	char *dir = tmpdir_new();
	struct lsm_disk_cache *dc = dc_new(dir, 1 << 20);
	struct lsm_cache_stats st;

	CHECK_EQ(sst_insert(dc, 3, 500), 0);
	CHECK_EQ(sst_insert(dc, 3, 500), 0);
	lsm_disk_cache_stats(dc, &st);
	CHECK_EQ(st.bytes, 500);
	CHECK_EQ(st.entries, 1);
	CHECK_EQ(files_in(dir), 2); /* the copy and LOCK */
	lsm_disk_cache_close(dc);
	tmpdir_rm(dir);
}

TEST(insert_evicts_the_least_recently_opened_copies_first)
{
	char *dir = tmpdir_new();
	struct lsm_disk_cache *dc = dc_new(dir, 3000);
	struct lsm_cache_stats st;

	CHECK_EQ(sst_insert(dc, 1, 1000), 0);
	CHECK_EQ(sst_insert(dc, 2, 1000), 0);
	CHECK_EQ(sst_insert(dc, 3, 1000), 0);
	CHECK(has_copy(dc, 1, 1000)); /* 2 is now the oldest */
	CHECK_EQ(sst_insert(dc, 4, 1000), 0);
	CHECK(!has_copy(dc, 2, 1000));
	CHECK(!file_exists(dir, "0000000000000002.sst"));
	CHECK_EQ(sst_insert(dc, 5, 1500), 0); /* 3 and 1 must go */
	CHECK(!has_copy(dc, 3, 1000));
	CHECK(!has_copy(dc, 1, 1000));
	CHECK(has_copy(dc, 4, 1000));
	CHECK(has_copy(dc, 5, 1500));
	lsm_disk_cache_stats(dc, &st);
	CHECK_EQ(st.bytes, 2500);
	CHECK_EQ(st.evictions, 3);
	CHECK_EQ(files_in(dir), 3);
	lsm_disk_cache_close(dc);
	tmpdir_rm(dir);
}

TEST(a_copy_larger_than_the_budget_is_efbig_and_evicts_nothing)
{
	char *dir = tmpdir_new();
	struct lsm_disk_cache *dc = dc_new(dir, 3000);

	CHECK_EQ(sst_insert(dc, 1, 1000), 0);
	CHECK_EQ(sst_insert(dc, 2, 3001), -EFBIG);
	CHECK(has_copy(dc, 1, 1000));
	CHECK_EQ(files_in(dir), 2);
	lsm_disk_cache_close(dc);
	tmpdir_rm(dir);
}

TEST(a_zero_budget_keeps_nothing)
{
	char *dir = tmpdir_new();
	struct lsm_disk_cache *dc = dc_new(dir, 0);
	uint64_t size;
	int fd;

	CHECK_EQ(sst_insert(dc, 1, 1), -EFBIG);
	CHECK_EQ(lsm_disk_cache_open_file(dc, 1, &fd, &size), -ENOENT);
	lsm_disk_cache_close(dc);
	tmpdir_rm(dir);
}

TEST(open_removes_the_leftovers_of_an_earlier_run_and_nothing_else)
{
	char *dir = tmpdir_new();
	struct lsm_disk_cache *dc;

	file_write(dir, "0000000000000007.sst");
	file_write(dir, "0000000000000007.0000000000000001.tmp");
	file_write(dir, "notes.txt");
	file_write(dir, "0000000000000007.SST");
	dc = dc_new(dir, 1 << 20);
	CHECK(!file_exists(dir, "0000000000000007.sst"));
	CHECK(!file_exists(dir, "0000000000000007.0000000000000001.tmp"));
	CHECK(file_exists(dir, "notes.txt"));
	CHECK(file_exists(dir, "0000000000000007.SST"));
	CHECK(!has_copy(dc, 7, 3));
	lsm_disk_cache_close(dc);
	tmpdir_rm(dir);
}

TEST(a_copy_evicted_while_open_stays_readable)
{
	char *dir = tmpdir_new();
	struct lsm_disk_cache *dc = dc_new(dir, 1000);
	uint64_t size = 0;
	int fd = -1;

	CHECK_EQ(sst_insert(dc, 1, 1000), 0);
	CHECK_EQ(lsm_disk_cache_open_file(dc, 1, &fd, &size), 0);
	CHECK_EQ(size, 1000);
	CHECK_EQ(sst_insert(dc, 2, 1000), 0);
	CHECK(!file_exists(dir, "0000000000000001.sst"));
	CHECK(fd_holds(fd, 1, 1000));
	close(fd);
	lsm_disk_cache_close(dc);
	tmpdir_rm(dir);
}

TEST(remove_drops_the_copy_and_its_bytes)
{
	char *dir = tmpdir_new();
	struct lsm_disk_cache *dc = dc_new(dir, 1 << 20);
	struct lsm_cache_stats st;

	CHECK_EQ(sst_insert(dc, 9, 700), 0);
	lsm_disk_cache_remove(dc, 9);
	lsm_disk_cache_remove(dc, 10); /* no copy: nothing happens */
	CHECK(!has_copy(dc, 9, 700));
	CHECK(!file_exists(dir, "0000000000000009.sst"));
	lsm_disk_cache_stats(dc, &st);
	CHECK_EQ(st.bytes, 0);
	CHECK_EQ(st.entries, 0);
	lsm_disk_cache_close(dc);
	tmpdir_rm(dir);
}

TEST(an_empty_directory_name_is_einval)
{
	struct lsm_disk_cache *dc = NULL;

	CHECK_EQ(lsm_disk_cache_open("", 1000, &dc), -EINVAL);
	CHECK_EQ(lsm_disk_cache_open(NULL, 1000, &dc), -EINVAL);
	CHECK(dc == NULL);
}

TEST(a_relative_directory_is_created_and_stays_in_use_after_chdir)
{
	char *dir = tmpdir_new(), sub[128];
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct lsm_disk_cache *dc;

	CHECK(here >= 0);
	CHECK_EQ(chdir(dir), 0);
	dc = dc_new("cache/", 1 << 20);
	CHECK_EQ(fchdir(here), 0);
	close(here);
	CHECK_EQ(sst_insert(dc, 5, 64), 0);
	snprintf(sub, sizeof(sub), "%s/cache", dir);
	CHECK(file_exists(sub, "0000000000000005.sst"));
	CHECK(has_copy(dc, 5, 64));
	lsm_disk_cache_close(dc);
	tmpdir_rm(sub);
	tmpdir_rm(dir);
}

TEST(nested_missing_directories_are_created)
{
	char *dir = tmpdir_new(), path[128];
	struct lsm_disk_cache *dc;

	snprintf(path, sizeof(path), "%s/a/b", dir);
	dc = dc_new(path, 1 << 20);
	CHECK_EQ(sst_insert(dc, 1, 10), 0);
	CHECK(file_exists(path, "0000000000000001.sst"));
	lsm_disk_cache_close(dc);
	tmpdir_rm(path);
	snprintf(path, sizeof(path), "%s/a", dir);
	tmpdir_rm(path);
	tmpdir_rm(dir);
}

TEST(a_directory_under_a_regular_file_fails_cleanly)
{
	char *dir = tmpdir_new(), path[128];
	struct lsm_disk_cache *dc = NULL;

	file_write(dir, "file");
	snprintf(path, sizeof(path), "%s/file/sub", dir);
	CHECK_EQ(lsm_disk_cache_open(path, 1000, &dc), -ENOTDIR);
	CHECK(dc == NULL);
	snprintf(path, sizeof(path), "%s/file", dir);
	CHECK_EQ(lsm_disk_cache_open(path, 1000, &dc), -ENOTDIR);
	CHECK(dc == NULL);
	CHECK_EQ(files_in(dir), 1);
	tmpdir_rm(dir);
}

TEST(insert_into_a_vanished_directory_fails_and_indexes_nothing)
{
	char *dir = tmpdir_new();
	struct lsm_disk_cache *dc = dc_new(dir, 1 << 20);
	struct lsm_cache_stats st;

	tmpdir_rm(dir);
	CHECK(access(dir, F_OK) < 0);
	CHECK(sst_insert(dc, 1, 100) < 0);
	CHECK(!has_copy(dc, 1, 100));
	lsm_disk_cache_stats(dc, &st);
	CHECK_EQ(st.bytes, 0);
	CHECK_EQ(st.entries, 0);
	lsm_disk_cache_close(dc);
}

TEST(a_write_error_midway_leaves_no_partial_file_and_no_entry)
{
	char *dir = tmpdir_new();
	struct lsm_disk_cache *dc = dc_new(dir, 1 << 20);
	struct rlimit old, small;
	struct lsm_cache_stats st;
	void (*old_xfsz)(int) = signal(SIGXFSZ, SIG_IGN);
	int rc;

	/* Files may grow to 4 KiB: the write past it fails with EFBIG,
	 * as a full disk fails with ENOSPC. */
	getrlimit(RLIMIT_FSIZE, &old);
	small = old;
	small.rlim_cur = 4096;
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
	rc = sst_insert(dc, 1, 64 * 1024);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, old_xfsz);
	CHECK_EQ(rc, -EFBIG);
	CHECK_EQ(files_in(dir), 1); /* LOCK alone */
	CHECK(!has_copy(dc, 1, 64 * 1024));
	lsm_disk_cache_stats(dc, &st);
	CHECK_EQ(st.bytes, 0);
	CHECK_EQ(st.entries, 0);
	CHECK_EQ(sst_insert(dc, 1, 64 * 1024), 0);
	CHECK(has_copy(dc, 1, 64 * 1024));
	lsm_disk_cache_close(dc);
	tmpdir_rm(dir);
}

TEST(a_second_cache_on_the_same_directory_is_ebusy)
{
	char *dir = tmpdir_new();
	struct lsm_disk_cache *dc = dc_new(dir, 1 << 20), *other = NULL;

	CHECK_EQ(sst_insert(dc, 1, 10), 0);
	CHECK_EQ(lsm_disk_cache_open(dir, 1 << 20, &other), -EBUSY);
	CHECK(other == NULL);
	CHECK(has_copy(dc, 1, 10)); /* the refused open removed nothing */
	lsm_disk_cache_close(dc);
	dc = dc_new(dir, 1 << 20); /* free again once closed */
	lsm_disk_cache_close(dc);
	tmpdir_rm(dir);
}

struct worker {
	struct lsm_disk_cache *dc;
	uint64_t seed;
	int bad, opened;
};

static void *worker_cb(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 400; i++) {
		uint64_t sst, size;
		int fd, rc;

		w->seed = w->seed * 6364136223846793005ULL + 1;
		sst = (w->seed >> 33) % 24;
		if (lsm_disk_cache_open_file(w->dc, sst, &fd, &size) == 0) {
			w->bad += size != 1000 + sst * 100 ||
				  !fd_holds(fd, sst, (size_t)size);
			w->opened++;
			close(fd);
			continue;
		}
		/* -EAGAIN: inserts in flight held the room; no copy made. */
		rc = sst_insert(w->dc, sst, 1000 + sst * 100);
		w->bad += rc < 0 && rc != -EAGAIN;
		if ((w->seed >> 20) % 16 == 0)
			lsm_disk_cache_remove(w->dc, sst);
	}
	return NULL;
}

TEST(threads_inserting_and_opening_at_once_keep_index_and_disk_agreed)
{
	enum { THREADS = 4 };
	char *dir = tmpdir_new();
	uint64_t budget = 20000;
	struct lsm_disk_cache *dc = dc_new(dir, budget);
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct lsm_cache_stats st;
	int bad = 0, opened = 0;

	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ dc, (uint64_t)i * 104729 + 3, 0, 0 };
		pthread_create(&t[i], NULL, worker_cb, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		bad += w[i].bad;
		opened += w[i].opened;
	}
	lsm_disk_cache_stats(dc, &st);
	CHECK_EQ(bad, 0);
	CHECK(opened > 0);
	CHECK(st.evictions > 0);
	CHECK(st.bytes <= budget);
	CHECK_EQ(files_in(dir), (int)st.entries + 1);
	lsm_disk_cache_close(dc);
	tmpdir_rm(dir);
}

TEST_MAIN(insert_then_open_file_reads_back_the_same_bytes,
	  open_file_of_an_sst_without_a_copy_is_enoent,
	  inserting_a_copy_twice_keeps_one,
	  insert_evicts_the_least_recently_opened_copies_first,
	  a_copy_larger_than_the_budget_is_efbig_and_evicts_nothing,
	  a_zero_budget_keeps_nothing,
	  open_removes_the_leftovers_of_an_earlier_run_and_nothing_else,
	  a_copy_evicted_while_open_stays_readable,
	  remove_drops_the_copy_and_its_bytes,
	  an_empty_directory_name_is_einval,
	  a_relative_directory_is_created_and_stays_in_use_after_chdir,
	  nested_missing_directories_are_created,
	  a_directory_under_a_regular_file_fails_cleanly,
	  insert_into_a_vanished_directory_fails_and_indexes_nothing,
	  a_write_error_midway_leaves_no_partial_file_and_no_entry,
	  a_second_cache_on_the_same_directory_is_ebusy,
	  threads_inserting_and_opening_at_once_keep_index_and_disk_agreed)
