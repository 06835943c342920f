/*
 * Unit tests of the object store.  Every behaviour of the contract runs
 * against both backends: a fresh temporary directory for file:// and a
 * fresh bucket for mem://.  The file backend's own promises (temporary
 * files stay hidden, failures come back clean and are logged once) have
 * cases of their own.
 */
#include "objstore.h"

#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char test_dir[256];

static int remove_cb(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void tree_remove(const char *dir)
{
	nftw(dir, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static struct objstore *file_store_new(void)
{
	struct objstore *os = NULL;
	char url[300];

	if (test_tmpdir("objstore_test", test_dir, sizeof(test_dir)) < 0)
		return NULL;
	snprintf(url, sizeof(url), "file://%s/store", test_dir);
	if (objstore_open(url, &os) < 0)
		return NULL;
	return os;
}

static void file_store_free(struct objstore *os)
{
	objstore_close(os);
	tree_remove(test_dir);
}

static struct objstore *mem_store_new(void)
{
	static int seq;
	struct objstore *os = NULL;
	char url[64];

	snprintf(url, sizeof(url), "mem://objstore_test-%d", seq++);
	if (objstore_open(url, &os) < 0)
		return NULL;
	return os;
}

/* Runs one behaviour against each backend. */
static void each_backend(void (*fn)(struct objstore *os))
{
	struct objstore *os = file_store_new();

	CHECK(os != NULL);
	if (os != NULL) {
		fn(os);
		file_store_free(os);
	}
	os = mem_store_new();
	CHECK(os != NULL);
	if (os != NULL) {
		fn(os);
		objstore_close(os);
	}
}

/* Checks that key holds exactly want. */
static void check_object(struct objstore *os, const char *key, const void *want,
			 size_t wantlen)
{
	void *data = NULL;
	size_t len = 0;

	CHECK_EQ(objstore_get(os, key, &data, &len), 0);
	CHECK_EQ(len, wantlen);
	CHECK(data != NULL);
	if (data != NULL && len == wantlen)
		CHECK(memcmp(data, want, len) == 0);
	free(data);
}

static void round_trip(struct objstore *os)
{
	CHECK_EQ(objstore_put(os, "dir/sub/obj", "hello", 5), 0);
	check_object(os, "dir/sub/obj", "hello", 5);
}

TEST(put_then_get_returns_the_same_bytes)
{
	each_backend(round_trip);
}

static void missing_get(struct objstore *os)
{
	void *data = (void *)1;
	size_t len = 1, got = 1;
	char buf[4];

	CHECK_EQ(objstore_get(os, "nothing/here", &data, &len), -ENOENT);
	CHECK(data == NULL);
	CHECK_EQ(objstore_get_range(os, "nothing", 0, 4, buf, &got), -ENOENT);
}

TEST(get_of_a_missing_key_is_enoent)
{
	each_backend(missing_get);
}

static void overwrite(struct objstore *os)
{
	CHECK_EQ(objstore_put(os, "k", "one", 3), 0);
	CHECK_EQ(objstore_put(os, "k", "second", 6), 0);
	check_object(os, "k", "second", 6);
}

TEST(put_overwrites_an_existing_object)
{
	each_backend(overwrite);
}

static void if_absent_twice(struct objstore *os)
{
	CHECK_EQ(objstore_put_if_absent(os, "m/1", "first", 5), 0);
	CHECK_EQ(objstore_put_if_absent(os, "m/1", "other", 5), -EEXIST);
	check_object(os, "m/1", "first", 5);
}

TEST(put_if_absent_on_an_existing_key_fails_and_keeps_content)
{
	each_backend(if_absent_twice);
}

#define RACERS 8
#define ROUNDS 20

struct racer {
	struct objstore *os;
	pthread_barrier_t *start;
	int id;
	int wins[ROUNDS];
	int other[ROUNDS]; /* neither a win nor -EEXIST */
};

static void *racer_run(void *arg)
{
	struct racer *r = arg;
	char key[32], val[32];

	for (int i = 0; i < ROUNDS; i++) {
		int rc;

		snprintf(key, sizeof(key), "race/%d", i);
		snprintf(val, sizeof(val), "racer-%d", r->id);
		pthread_barrier_wait(r->start);
		rc = objstore_put_if_absent(r->os, key, val, strlen(val));
		r->wins[i] = rc == 0;
		r->other[i] = rc != 0 && rc != -EEXIST;
	}
	return NULL;
}

/* Checks round i: one winner, whose content the key holds. */
static void race_check_round(struct objstore *os, struct racer *r, int i)
{
	int winners = 0, winner = -1;
	char key[32], val[32];

	for (int t = 0; t < RACERS; t++) {
		winners += r[t].wins[i];
		if (r[t].wins[i])
			winner = t;
		CHECK_EQ(r[t].other[i], 0);
	}
	CHECK_EQ(winners, 1);
	snprintf(key, sizeof(key), "race/%d", i);
	snprintf(val, sizeof(val), "racer-%d", winner);
	check_object(os, key, val, strlen(val));
}

static void if_absent_race(struct objstore *os)
{
	struct racer r[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t start;

	pthread_barrier_init(&start, NULL, RACERS);
	for (int t = 0; t < RACERS; t++) {
		r[t] = (struct racer){ .os = os, .start = &start, .id = t };
		pthread_create(&th[t], NULL, racer_run, &r[t]);
	}
	for (int t = 0; t < RACERS; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < ROUNDS; i++)
		race_check_round(os, r, i);
}

TEST(racing_put_if_absent_has_exactly_one_winner)
{
	each_backend(if_absent_race);
}

static void ranges(struct objstore *os)
{
	char buf[16];
	size_t got = 99;

	CHECK_EQ(objstore_put(os, "r", "0123456789", 10), 0);
	CHECK_EQ(objstore_get_range(os, "r", 2, 3, buf, &got), 0);
	CHECK_EQ(got, 3);
	CHECK(memcmp(buf, "234", 3) == 0);
	CHECK_EQ(objstore_get_range(os, "r", 8, 5, buf, &got), 0);
	CHECK_EQ(got, 2);
	CHECK(memcmp(buf, "89", 2) == 0);
	CHECK_EQ(objstore_get_range(os, "r", 10, 5, buf, &got), 0);
	CHECK_EQ(got, 0);
	CHECK_EQ(objstore_get_range(os, "r", 1000, 5, buf, &got), 0);
	CHECK_EQ(got, 0);
}

TEST(get_range_reads_inside_across_and_past_the_end)
{
	each_backend(ranges);
}

struct listing {
	char keys[16][64];
	uint64_t sizes[16];
	int n;
	int stop_after; /* 0: never stop */
};

static int listing_cb(void *arg, const char *key, uint64_t size)
{
	struct listing *l = arg;

	if (l->n < 16) {
		snprintf(l->keys[l->n], sizeof(l->keys[0]), "%s", key);
		l->sizes[l->n] = size;
	}
	l->n++;
	if (l->stop_after && l->n == l->stop_after)
		return 42;
	return 0;
}

static void listing_expect(struct objstore *os, const char *prefix,
			   const char *const *want, int nwant)
{
	struct listing l = { .n = 0 };

	CHECK_EQ(objstore_list(os, prefix, listing_cb, &l), 0);
	CHECK_EQ(l.n, nwant);
	for (int i = 0; i < nwant && i < l.n; i++) {
		if (strcmp(l.keys[i], want[i]) != 0)
			fprintf(stderr, "  list %s [%d]: got %s, want %s\n",
				prefix, i, l.keys[i], want[i]);
		CHECK(strcmp(l.keys[i], want[i]) == 0);
		CHECK_EQ(l.sizes[i], strlen(want[i]));
	}
}

/* "x-c" < "x/b" < "x0" in bytes, although a naive directory walk would
 * visit the directory "x" before the file "x-c". */
static const char *const list_keys[] = { "w",	   "x-c", "x/b",
					 "x/b2/c", "x0",  "y/z/w" };

static void list_order(struct objstore *os)
{
	static const char *const xs[] = { "x-c", "x/b", "x/b2/c", "x0" };
	static const char *const xdir[] = { "x/b", "x/b2/c" };
	static const char *const yz[] = { "y/z/w" };
	int n = (int)(sizeof(list_keys) / sizeof(list_keys[0]));

	for (int i = n - 1; i >= 0; i--) {
		const char *k = list_keys[i];

		CHECK_EQ(objstore_put(os, k, k, strlen(k)), 0);
	}
	listing_expect(os, "", list_keys, n);
	listing_expect(os, "x", xs, 4);
	listing_expect(os, "x/", xdir, 2);
	listing_expect(os, "y/z", yz, 1);
	listing_expect(os, "q", NULL, 0);
}

TEST(list_is_in_byte_order_and_filters_by_prefix)
{
	each_backend(list_order);
}

static void list_stop(struct objstore *os)
{
	struct listing l = { .n = 0, .stop_after = 2 };

	for (int i = 0; i < 4; i++)
		CHECK_EQ(objstore_put(os, list_keys[i], "v", 1), 0);
	CHECK_EQ(objstore_list(os, "", listing_cb, &l), 42);
	CHECK_EQ(l.n, 2);
}

TEST(a_callback_that_returns_nonzero_stops_the_listing)
{
	each_backend(list_stop);
}

static const char *const bad_keys[] = {
	"",   "/abs", "a//b", "a/./b",	   "../up", "a/..",
	"a/", ".",    "..",   "tab\there", "nl\n",  "high\x80",
};

static void bad_keys_rejected(struct objstore *os)
{
	char big[600], buf[4];
	void *data;
	size_t len;

	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		const char *k = bad_keys[i];

		CHECK_EQ(objstore_put(os, k, "v", 1), -EINVAL);
		CHECK_EQ(objstore_put_if_absent(os, k, "v", 1), -EINVAL);
		CHECK_EQ(objstore_get(os, k, &data, &len), -EINVAL);
		CHECK_EQ(objstore_get_range(os, k, 0, 1, buf, &len), -EINVAL);
		CHECK_EQ(objstore_del(os, k), -EINVAL);
	}
	memset(big, 'k', 513);
	big[513] = '\0';
	CHECK_EQ(objstore_put(os, big, "v", 1), -EINVAL);
}

TEST(malformed_keys_are_rejected_with_einval)
{
	each_backend(bad_keys_rejected);
}

TEST(key_check_accepts_names_up_to_512_bytes)
{
	char key[513];

	memset(key, 'a', 512);
	key[512] = '\0';
	CHECK_EQ(objstore_key_check(key), 0);
	CHECK_EQ(objstore_key_check("segments/00.1/..x/~a b"), 0);
	CHECK_EQ(objstore_key_check(NULL), -EINVAL);
}

static void del_missing(struct objstore *os)
{
	void *data;
	size_t len;

	CHECK_EQ(objstore_del(os, "never/was"), 0);
	CHECK_EQ(objstore_put(os, "gone", "x", 1), 0);
	CHECK_EQ(objstore_del(os, "gone"), 0);
	CHECK_EQ(objstore_get(os, "gone", &data, &len), -ENOENT);
	CHECK_EQ(objstore_del(os, "gone"), 0);
}

TEST(del_removes_and_del_of_a_missing_key_succeeds)
{
	each_backend(del_missing);
}

static void empty_object(struct objstore *os)
{
	struct listing l = { .n = 0 };

	CHECK_EQ(objstore_put(os, "empty", "", 0), 0);
	check_object(os, "empty", "", 0);
	CHECK_EQ(objstore_list(os, "", listing_cb, &l), 0);
	CHECK_EQ(l.n, 1);
	CHECK_EQ(l.sizes[0], 0);
}

TEST(an_empty_object_round_trips)
{
	each_backend(empty_object);
}

static void big_object(struct objstore *os)
{
	size_t len = 5u << 20;
	unsigned char *buf = malloc(len);
	struct listing l = { .n = 0 };
	uint32_t x = 12345;

	CHECK(buf != NULL);
	if (buf == NULL)
		return;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	CHECK_EQ(objstore_put(os, "big/5mib", buf, len), 0);
	check_object(os, "big/5mib", buf, len);
	CHECK_EQ(objstore_list(os, "big/", listing_cb, &l), 0);
	CHECK_EQ(l.n, 1);
	CHECK_EQ(l.sizes[0], len);
	free(buf);
}

TEST(a_5_mib_object_round_trips)
{
	each_backend(big_object);
}

TEST(unknown_schemes_and_relative_paths_are_rejected)
{
	struct objstore *os = (struct objstore *)1;

	CHECK_EQ(objstore_open("s4://bucket", &os), -EINVAL);
	CHECK(os == NULL);
	CHECK_EQ(objstore_open("file://relative/dir", &os), -EINVAL);
	CHECK_EQ(objstore_open("/no/scheme", &os), -EINVAL);
	CHECK_EQ(objstore_open("mem://", &os), -EINVAL);
}

TEST(two_opens_of_one_mem_name_share_objects)
{
	struct objstore *a = NULL, *b = NULL;

	CHECK_EQ(objstore_open("mem://shared", &a), 0);
	CHECK_EQ(objstore_open("mem://shared", &b), 0);
	if (a == NULL || b == NULL)
		return;
	CHECK_EQ(objstore_put(a, "k", "v", 1), 0);
	check_object(b, "k", "v", 1);
	objstore_close(a);
	check_object(b, "k", "v", 1);
	objstore_close(b);
}

static int list_count(struct objstore *os, const char *prefix)
{
	struct listing l = { .n = 0 };

	CHECK_EQ(objstore_list(os, prefix, listing_cb, &l), 0);
	return l.n;
}

TEST(file_temp_files_left_by_a_crash_are_never_listed)
{
	struct objstore *os = file_store_new();
	char path[400];
	int fd;

	CHECK(os != NULL);
	if (os == NULL)
		return;
	snprintf(path, sizeof(path), "%s/store/.objstore-tmp/1-0", test_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(objstore_put(os, "real", "x", 1), 0);
	CHECK_EQ(list_count(os, ""), 1);
	CHECK_EQ(list_count(os, ".objstore-tmp"), 0);
	CHECK_EQ(objstore_put(os, ".objstore-tmp/1-0", "x", 1), -EINVAL);
	CHECK_EQ(objstore_del(os, ".objstore-tmp/1-0"), -EINVAL);
	file_store_free(os);
}

/* Creates a temporary file in the store's hidden directory, aged by age
 * seconds. */
static void tmp_file_make(const char *name, time_t age)
{
	struct timespec ts[2] = { { .tv_sec = time(NULL) - age },
				  { .tv_sec = time(NULL) - age } };
	char path[400];
	int fd;

	snprintf(path, sizeof(path), "%s/store/.objstore-tmp/%s", test_dir,
		 name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(futimens(fd, ts), 0);
	close(fd);
}

TEST(file_open_sweeps_only_old_temp_files)
{
	struct objstore *os = file_store_new();
	char url[300], path[400];

	CHECK(os != NULL);
	if (os == NULL)
		return;
	tmp_file_make("old", 7200);
	tmp_file_make("fresh", 10);
	objstore_close(os);
	snprintf(url, sizeof(url), "file://%s/store", test_dir);
	CHECK_EQ(objstore_open(url, &os), 0);
	snprintf(path, sizeof(path), "%s/store/.objstore-tmp/old", test_dir);
	CHECK(access(path, F_OK) != 0);
	snprintf(path, sizeof(path), "%s/store/.objstore-tmp/fresh", test_dir);
	CHECK_EQ(access(path, F_OK), 0);
	file_store_free(os);
}

TEST(file_put_leaves_no_temp_file_behind)
{
	struct objstore *os = file_store_new();
	char path[400];
	struct stat st;

	CHECK(os != NULL);
	if (os == NULL)
		return;
	CHECK_EQ(objstore_put(os, "a", "x", 1), 0);
	CHECK_EQ(objstore_put_if_absent(os, "b", "x", 1), 0);
	CHECK_EQ(objstore_put_if_absent(os, "b", "y", 1), -EEXIST);
	snprintf(path, sizeof(path), "%s/store/.objstore-tmp", test_dir);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_nlink, 2); /* "." and the root's entry: no subdirs */
	CHECK_EQ(rmdir(path), 0); /* fails unless empty */
	file_store_free(os);
}

TEST(file_objects_survive_closing_and_reopening_the_store)
{
	struct objstore *os = file_store_new();
	char url[300];

	CHECK(os != NULL);
	if (os == NULL)
		return;
	CHECK_EQ(objstore_put(os, "keep/me", "data", 4), 0);
	objstore_close(os);
	snprintf(url, sizeof(url), "file://%s/store", test_dir);
	CHECK_EQ(objstore_open(url, &os), 0);
	check_object(os, "keep/me", "data", 4);
	file_store_free(os);
}

/* Runs fn with stderr sent to a file; returns how many lines of it hold
 * needle. */
static int stderr_count(void (*fn)(struct objstore *), struct objstore *os,
			const char *needle)
{
	char path[300], line[1024];
	int saved = dup(STDERR_FILENO), fd, n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/stderr", test_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, STDERR_FILENO);
	close(fd);
	fn(os);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fopen(path, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	if (f != NULL)
		fclose(f);
	return n;
}

static int refused_rc[2];

/* With files capped at 4 KiB, an 8 KiB object cannot be written. */
static void refused_puts(struct objstore *os)
{
	static char big[8192];
	struct rlimit saved, small;

	getrlimit(RLIMIT_FSIZE, &saved);
	small = saved;
	small.rlim_cur = 4096;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &small);
	refused_rc[0] = objstore_put(os, "big", big, sizeof(big));
	refused_rc[1] = objstore_put(os, "big", big, sizeof(big));
	setrlimit(RLIMIT_FSIZE, &saved);
	signal(SIGXFSZ, SIG_DFL);
}

TEST(file_a_refused_write_fails_cleanly_and_is_logged_once)
{
	struct objstore *os = file_store_new();
	void *data;
	size_t len;

	CHECK(os != NULL);
	if (os == NULL)
		return;
	CHECK_EQ(stderr_count(refused_puts, os, "objstore: put: big: "), 1);
	CHECK_EQ(refused_rc[0], -EFBIG);
	CHECK_EQ(refused_rc[1], -EFBIG);
	CHECK_EQ(objstore_get(os, "big", &data, &len), -ENOENT);
	CHECK_EQ(list_count(os, ""), 0);
	CHECK_EQ(objstore_put(os, "small", "ok", 2), 0);
	file_store_free(os);
}

TEST(file_a_read_only_directory_gives_eacces)
{
	struct objstore *os = file_store_new();
	char root[300], probe[320];
	int fd;

	CHECK(os != NULL);
	if (os == NULL)
		return;
	snprintf(root, sizeof(root), "%s/store", test_dir);
	chmod(root, 0555);
	snprintf(root, sizeof(root), "%s/store/.objstore-tmp", test_dir);
	chmod(root, 0555);
	snprintf(probe, sizeof(probe), "%s/probe", root);
	fd = open(probe, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0) {
		/* Privileged: permissions cannot refuse us. */
		printf("     (skipped: permissions do not bind this user)\n");
		close(fd);
		unlink(probe);
	} else {
		CHECK_EQ(objstore_put(os, "denied", "x", 1), -EACCES);
	}
	chmod(root, 0755);
	snprintf(root, sizeof(root), "%s/store", test_dir);
	chmod(root, 0755);
	file_store_free(os);
}

TEST(file_open_creates_the_missing_directory)
{
	char dir[300], url[320];
	struct objstore *os = NULL;
	struct stat st;

	CHECK_EQ(test_tmpdir("objstore_test", dir, sizeof(dir)), 0);
	snprintf(url, sizeof(url), "file://%s/a/b/c", dir);
	CHECK_EQ(objstore_open(url, &os), 0);
	snprintf(url, sizeof(url), "%s/a/b/c", dir);
	CHECK_EQ(stat(url, &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	objstore_close(os);
	tree_remove(dir);
}

TEST_MAIN(put_then_get_returns_the_same_bytes, get_of_a_missing_key_is_enoent,
	  put_overwrites_an_existing_object,
	  put_if_absent_on_an_existing_key_fails_and_keeps_content,
	  racing_put_if_absent_has_exactly_one_winner,
	  get_range_reads_inside_across_and_past_the_end,
	  list_is_in_byte_order_and_filters_by_prefix,
	  a_callback_that_returns_nonzero_stops_the_listing,
	  malformed_keys_are_rejected_with_einval,
	  key_check_accepts_names_up_to_512_bytes,
	  del_removes_and_del_of_a_missing_key_succeeds,
	  an_empty_object_round_trips, a_5_mib_object_round_trips,
	  unknown_schemes_and_relative_paths_are_rejected,
	  two_opens_of_one_mem_name_share_objects,
	  file_temp_files_left_by_a_crash_are_never_listed,
	  file_open_sweeps_only_old_temp_files,
	  file_put_leaves_no_temp_file_behind,
	  file_objects_survive_closing_and_reopening_the_store,
	  file_a_refused_write_fails_cleanly_and_is_logged_once,
	  file_a_read_only_directory_gives_eacces,
	  file_open_creates_the_missing_directory)
