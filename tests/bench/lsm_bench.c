/*
 * lsm_bench [-n KEYS] [-f FILES]: the metadata engine against LevelDB on
 * the same disk in one run, and the namespace rate of the filesystem layer
 * against the local filesystem.  Prints "NAME: zerofs X UNIT, leveldb|local
 * Y UNIT, ratio X/Y" per workload; lines starting with '#' are details.
 *
 * Key-value (KEYS, 1,000,000): random puts of 20-byte keys (the decimal of
 * 0..KEYS-1, in a seeded random order) with 100-byte values (a seeded
 * generator's bytes, so reads can be checked and nothing compresses), one
 * put per batch, the last one durable; a cold start; random gets of every
 * key, each verified; one full scan; 10,000 scans of 100 keys.  Each engine
 * runs in its own forked child, so the peak RSS wait4 gives is its own.
 *
 * Namespace (FILES, 1,000,000): create, stat and unlink of FILES files in
 * one directory and spread over 1000, each phase timed, the mutating ones
 * ending with a durability step (kv_sync; syncfs).  Everything lives in
 * one temporary directory ($TMPDIR or /tmp), removed at the end.
 */
#include "metadata/kv.h"
#include "metadata/meta_fs.h"

#include <leveldb/c.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEY_LEN	       20
#define VAL_LEN	       100
#define SHORT_SCANS    10000
#define SHORT_SCAN_LEN 100
#define CACHE_BYTES    (64u << 20)
#define META_DIRS      1000

static uint64_t opt_keys = 1000000;
static uint64_t opt_files = 1000000;
static char tmp_root[4096];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void key_of(uint64_t i, char *k)
{
	for (int d = KEY_LEN - 1; d >= 0; d--) {
		k[d] = (char)('0' + i % 10);
		i /= 10;
	}
}

static void val_of(uint64_t i, uint8_t *v)
{
	uint64_t s = i ^ 0x5a5a5a5a12345678ull, r;

	for (size_t off = 0; off < VAL_LEN; off += sizeof(r)) {
		r = splitmix(&s);
		memcpy(v + off, &r,
		       VAL_LEN - off < sizeof(r) ? VAL_LEN - off : sizeof(r));
	}
}

/* A permutation of 0..n-1 from seed (Fisher-Yates); malloc'd, owned by
 * the caller, NULL when out of memory. */
static uint32_t *perm_new(uint64_t n, uint64_t seed)
{
	uint32_t *p = malloc((n ? n : 1) * sizeof(*p));

	if (p == NULL)
		return NULL;
	for (uint64_t i = 0; i < n; i++)
		p[i] = (uint32_t)i;
	for (uint64_t i = n; i > 1; i--) {
		uint64_t j = splitmix(&seed) % i;
		uint32_t t = p[i - 1];

		p[i - 1] = p[j];
		p[j] = t;
	}
	return p;
}

/* ---- the two engines behind one table, so both run the same loops ---- */

struct eng {
	const struct eng_ops *ops;
	struct objstore *os; /* ours */
	struct kv *kv;
	leveldb_t *db; /* LevelDB */
	leveldb_options_t *lopt;
	leveldb_cache_t *lcache;
	leveldb_writeoptions_t *wopt, *wsync;
	leveldb_readoptions_t *ropt;
};

struct eng_ops {
	const char *name;
	int (*open)(struct eng *e);
	void (*close)(struct eng *e);
	/* With sync, the put ends with the engine's durability step. */
	int (*put)(struct eng *e, const char *k, const void *v, int sync);
	/* 0 equal, 1 absent or different, or a negative errno. */
	int (*check)(struct eng *e, const char *k, const void *want);
	int (*scan)(struct eng *e, const char *start, kv_scan_cb cb, void *arg);
};

static int zfs_open(struct eng *e)
{
	char url[4300], cache[4300];
	struct kv_options o = { .block_cache_bytes = CACHE_BYTES,
				.disk_cache_dir = cache };
	int rc;

	snprintf(url, sizeof(url), "file://%s/store", tmp_root);
	snprintf(cache, sizeof(cache), "%s/cache", tmp_root);
	if (mkdir(cache, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (e->os == NULL && (rc = objstore_open(url, &e->os)) < 0)
		return rc;
	return kv_open(e->os, &o, &e->kv);
}

/* Closes the engine; the store stays open for the next kv_open. */
static void zfs_close(struct eng *e)
{
	kv_close(e->kv);
	e->kv = NULL;
}

static int zfs_put(struct eng *e, const char *k, const void *v, int sync)
{
	struct kv_batch *b = kv_batch_new();
	int rc;

	if (b == NULL)
		return -ENOMEM;
	rc = kv_batch_put(b, k, KEY_LEN, v, VAL_LEN);
	if (rc == 0)
		rc = kv_write(e->kv, b, NULL);
	kv_batch_free(b);
	return rc == 0 && sync ? kv_sync(e->kv, NULL, NULL, NULL) : rc;
}

static int zfs_check(struct eng *e, const char *k, const void *want)
{
	void *v = NULL;
	size_t vl = 0;
	int rc = kv_get(e->kv, k, KEY_LEN, &v, &vl);

	if (rc == -ENOENT)
		return 1;
	if (rc < 0)
		return rc;
	rc = vl != VAL_LEN || memcmp(v, want, VAL_LEN) != 0;
	free(v);
	return rc;
}

static int zfs_scan(struct eng *e, const char *start, kv_scan_cb cb, void *arg)
{
	/* An empty prefix, not NULL: every key matches it. */
	int rc = kv_scan(e->kv, "", 0, start, start ? KEY_LEN : 0, cb, arg);

	return rc > 0 ? 0 : rc;
}

static const struct eng_ops zfs_ops = { "zerofs", zfs_open,  zfs_close,
					zfs_put,  zfs_check, zfs_scan };

static int ldb_err(const char *what, char *err)
{
	if (err == NULL)
		return 0;
	fprintf(stderr, "lsm_bench: leveldb %s: %s\n", what, err);
	leveldb_free(err);
	return -EIO;
}

/* Defaults but create_if_missing and the cache size; plain puts do not
 * sync.  The options live as long as the open database. */
static int ldb_open(struct eng *e)
{
	char path[4300], *err = NULL;

	snprintf(path, sizeof(path), "%s/leveldb", tmp_root);
	e->lopt = leveldb_options_create();
	e->lcache = leveldb_cache_create_lru(CACHE_BYTES);
	leveldb_options_set_create_if_missing(e->lopt, 1);
	leveldb_options_set_cache(e->lopt, e->lcache);
	e->wopt = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(e->wopt, 0);
	e->wsync = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(e->wsync, 1);
	e->ropt = leveldb_readoptions_create();
	e->db = leveldb_open(e->lopt, path, &err);
	return ldb_err("open", err);
}

static void ldb_close(struct eng *e)
{
	if (e->db != NULL)
		leveldb_close(e->db);
	e->db = NULL;
	leveldb_options_destroy(e->lopt);
	e->lopt = NULL;
	leveldb_cache_destroy(e->lcache);
	leveldb_writeoptions_destroy(e->wopt);
	leveldb_writeoptions_destroy(e->wsync);
	leveldb_readoptions_destroy(e->ropt);
}

/* LevelDB's durability step: the put itself, with sync on. */
static int ldb_put(struct eng *e, const char *k, const void *v, int sync)
{
	char *err = NULL;

	leveldb_put(e->db, sync ? e->wsync : e->wopt, k, KEY_LEN, v, VAL_LEN,
		    &err);
	return ldb_err("put", err);
}

static int ldb_check(struct eng *e, const char *k, const void *want)
{
	char *err = NULL, *v;
	size_t vl = 0;
	int rc;

	v = leveldb_get(e->db, e->ropt, k, KEY_LEN, &vl, &err);
	if (err != NULL)
		return ldb_err("get", err);
	if (v == NULL)
		return 1;
	rc = vl != VAL_LEN || memcmp(v, want, VAL_LEN) != 0;
	leveldb_free(v);
	return rc;
}

static int ldb_scan(struct eng *e, const char *start, kv_scan_cb cb, void *arg)
{
	leveldb_iterator_t *it = leveldb_create_iterator(e->db, e->ropt);
	const char *k, *v;
	size_t kl, vl;
	char *err = NULL;

	if (start != NULL)
		leveldb_iter_seek(it, start, KEY_LEN);
	else
		leveldb_iter_seek_to_first(it);
	for (; leveldb_iter_valid(it); leveldb_iter_next(it)) {
		k = leveldb_iter_key(it, &kl);
		v = leveldb_iter_value(it, &vl);
		if (cb(arg, k, kl, v, vl) != 0)
			break;
	}
	leveldb_iter_get_error(it, &err);
	leveldb_iter_destroy(it);
	return ldb_err("scan", err);
}

static const struct eng_ops ldb_ops = { "leveldb", ldb_open,  ldb_close,
					ldb_put,   ldb_check, ldb_scan };

/* What a child reports; ops/s unless said otherwise. */
struct kv_result {
	double put, settle_s, reopen_s, get, scan_keys, short_scans;
	uint64_t mismatches;
	struct kv_stats st;
};

/* Puts every key once (get 0; the last put is durable), or gets and
 * checks each (get 1, counting wrong values in *bad), in a seeded order. */
static int kv_points(struct eng *e, int get, double *rate, uint64_t *bad)
{
	uint32_t *order = perm_new(opt_keys, get ? 2 : 1);
	uint8_t v[VAL_LEN];
	char k[KEY_LEN];
	double t0 = now();
	int rc = 0;

	if (order == NULL)
		return -ENOMEM;
	for (uint64_t i = 0; i < opt_keys && rc >= 0; i++) {
		key_of(order[i], k);
		val_of(order[i], v);
		rc = get ? e->ops->check(e, k, v)
			 : e->ops->put(e, k, v, i + 1 == opt_keys);
		*bad += rc == 1;
	}
	*rate = (double)opt_keys / (now() - t0);
	free(order);
	return rc < 0 ? rc : 0;
}

/* A scan's expectations: keys next, next+1, ... each with its value's
 * length, at most limit of them. */
struct scan_state {
	uint64_t next, seen, limit, bad;
};

static int scan_visit_cb(void *arg, const void *k, size_t kl, const void *v,
			 size_t vl)
{
	struct scan_state *s = arg;
	char want[KEY_LEN];

	(void)v;
	key_of(s->next, want);
	if (kl != KEY_LEN || vl != VAL_LEN || memcmp(k, want, KEY_LEN) != 0)
		s->bad++;
	s->next++;
	return ++s->seen >= s->limit;
}

static int kv_scans(struct eng *e, struct kv_result *r)
{
	struct scan_state s = { 0, 0, UINT64_MAX, 0 };
	uint64_t span =
	    opt_keys > SHORT_SCAN_LEN ? opt_keys - SHORT_SCAN_LEN : 1;
	uint64_t seed = 3;
	char k[KEY_LEN];
	double t0 = now();
	int rc = e->ops->scan(e, NULL, scan_visit_cb, &s);

	r->scan_keys = (double)s.seen / (now() - t0);
	r->mismatches += s.bad + (s.seen != opt_keys);
	t0 = now();
	for (int i = 0; i < SHORT_SCANS && rc == 0; i++) {
		uint64_t from = splitmix(&seed) % span;
		uint64_t want = opt_keys - from < SHORT_SCAN_LEN
				    ? opt_keys - from
				    : SHORT_SCAN_LEN;

		s = (struct scan_state){ from, 0, SHORT_SCAN_LEN, 0 };
		key_of(from, k);
		rc = e->ops->scan(e, k, scan_visit_cb, &s);
		r->mismatches += s.bad + (s.seen != want);
	}
	r->short_scans = SHORT_SCANS / (now() - t0);
	return rc;
}

/* Lets the store settle before the cold start (memtable to SSTs, then
 * compactions), as a long-running store would be.  Only the LSM engine has
 * these calls; LevelDB writes its log into a table when it reopens. */
static int kv_settle(struct eng *e, struct kv_result *r)
{
	int rc = 0;
	double t0 = now();

	if (e->kv != NULL) {
		rc = kv_flush(e->kv);
		if (rc == 0)
			rc = kv_compact_wait(e->kv);
		if (rc == 0) /* no grace: LevelDB deletes inputs at once */
			rc = kv_gc(e->kv, NULL);
	}
	r->settle_s = now() - t0;
	if (e->kv != NULL)
		kv_stats_get(e->kv, &r->st);
	return rc;
}

static int kv_workloads(struct eng *e, struct kv_result *r)
{
	int rc = e->ops->open(e);

	if (rc == 0)
		rc = kv_points(e, 0, &r->put, &r->mismatches);
	if (rc == 0)
		rc = kv_settle(e, r);
	if (rc == 0) {
		r->reopen_s = now();
		e->ops->close(e);
		rc = e->ops->open(e);
		r->reopen_s = now() - r->reopen_s;
	}
	if (rc == 0)
		rc = kv_points(e, 1, &r->get, &r->mismatches);
	if (rc == 0)
		rc = kv_scans(e, r);
	return rc;
}

/* ---- the namespace workloads ---- */

struct meta_result {
	double ops[2][3]; /* [one dir, spread][create, stat, unlink] */
};

/* One side of the namespace workloads.  op runs phase 0 (create), 1 (stat)
 * or 2 (unlink) on one name in directory d; sync ends phases 0 and 2. */
struct ns {
	int (*op)(struct ns *n, uint32_t d, const char *name, int phase);
	int (*sync)(struct ns *n);
	uint32_t ndirs;
	struct kv *kv; /* ours */
	struct meta_fs *fs;
	struct meta_handle dirs[META_DIRS];
	int fds[META_DIRS]; /* the local disk */
};

static int ns_phases(struct ns *n, double ops[3])
{
	char name[32];
	double t0;
	int rc = 0;

	for (int p = 0; p < 3 && rc == 0; p++) {
		t0 = now();
		for (uint64_t i = 0; i < opt_files && rc == 0; i++) {
			snprintf(name, sizeof(name), "f%010llu",
				 (unsigned long long)i);
			rc = n->op(n, (uint32_t)(i % n->ndirs), name, p);
		}
		if (rc == 0 && p != 1)
			rc = n->sync(n);
		ops[p] = (double)opt_files / (now() - t0);
	}
	return rc;
}

static int ns_zfs_op(struct ns *n, uint32_t d, const char *name, int phase)
{
	static const struct meta_create c = { .type = META_REG,
					      .mode = 0644,
					      .how = META_GUARDED };
	struct meta_inode in, b, a;
	bool existed;
	int rc;

	if (phase == 0)
		return meta_fs_create(n->fs, &n->dirs[d], name, &c, &in, &b, &a,
				      &existed);
	if (phase == 2)
		return meta_fs_remove(n->fs, &n->dirs[d], name, false, &b, &a);
	rc = meta_fs_lookup(n->fs, &n->dirs[d], name, &in, &a);
	return rc == 0 && in.type != META_REG ? -EIO : rc;
}

static int ns_zfs_sync(struct ns *n)
{
	return kv_sync(n->kv, NULL, NULL, NULL);
}

static int ns_zfs_dirs(struct ns *n)
{
	static const struct meta_create c = { .type = META_DIR,
					      .mode = 0755,
					      .how = META_GUARDED };
	struct meta_handle root = { META_ROOT_INO, META_ROOT_GEN };
	struct meta_inode in, b, a;
	char name[32];
	bool existed;
	int rc = 0;

	n->dirs[0] = root;
	for (uint32_t d = 0; d < n->ndirs && n->ndirs > 1 && rc == 0; d++) {
		snprintf(name, sizeof(name), "d%04u", d);
		rc = meta_fs_create(n->fs, &root, name, &c, &in, &b, &a,
				    &existed);
		n->dirs[d] = (struct meta_handle){ in.ino, in.gen };
	}
	return rc == 0 ? ns_zfs_sync(n) : rc;
}

/* Stands in for the flusher's barrier, which the service always has: with
 * one, a create that crosses the inode reservation syncs, as it does when
 * serving.  There is no file data here for it to wait for. */
static int ns_barrier_cb(void *arg)
{
	(void)arg;
	return 0;
}

static int ns_zfs_run(uint32_t ndirs, double ops[3])
{
	const struct meta_fs_options fo = { .chunk_size = 1 << 20,
					    .max_bytes = 1ull << 40,
					    .before_upload = ns_barrier_cb };
	struct ns n = { .op = ns_zfs_op, .sync = ns_zfs_sync, .ndirs = ndirs };
	struct kv_options ko = { .block_cache_bytes = CACHE_BYTES };
	char url[4300], cache[4300];
	struct objstore *os;
	int rc;

	snprintf(url, sizeof(url), "file://%s/meta%u-store", tmp_root, ndirs);
	snprintf(cache, sizeof(cache), "%s/meta%u-cache", tmp_root, ndirs);
	ko.disk_cache_dir = cache;
	if (mkdir(cache, 0755) < 0)
		return -errno;
	rc = objstore_open(url, &os);
	if (rc < 0)
		return rc;
	rc = kv_open(os, &ko, &n.kv);
	if (rc < 0)
		goto close_store;
	rc = meta_fs_open(n.kv, &fo, &n.fs);
	if (rc < 0)
		goto close_kv;
	rc = ns_zfs_dirs(&n);
	if (rc == 0)
		rc = ns_phases(&n, ops);
	meta_fs_close(n.fs);
close_kv:
	kv_close(n.kv);
close_store:
	objstore_close(os);
	return rc;
}

static int ns_local_op(struct ns *n, uint32_t d, const char *name, int phase)
{
	struct stat st;
	int fd;

	if (phase == 0) {
		fd = openat(n->fds[d], name, O_CREAT | O_EXCL | O_WRONLY, 0644);
		return fd < 0 ? -errno : close(fd);
	}
	if (phase == 2)
		return unlinkat(n->fds[d], name, 0) < 0 ? -errno : 0;
	if (fstatat(n->fds[d], name, &st, 0) < 0)
		return -errno;
	return S_ISREG(st.st_mode) ? 0 : -EIO;
}

static int ns_local_sync(struct ns *n)
{
	return syncfs(n->fds[0]) < 0 ? -errno : 0;
}

/* Makes the directories under top and opens each: 1000 descriptors, in
 * the usual soft limit of 1024. */
static int ns_local_dirs(struct ns *n, const char *top)
{
	char name[32];
	int rootfd, rc = 0;

	if (mkdir(top, 0755) < 0 ||
	    (rootfd = open(top, O_RDONLY | O_DIRECTORY)) < 0)
		return -errno;
	for (uint32_t d = 0; d < n->ndirs && rc == 0; d++) {
		snprintf(name, sizeof(name), "d%04u", d);
		if (n->ndirs == 1)
			n->fds[d] = dup(rootfd);
		else if (mkdirat(rootfd, name, 0755) == 0)
			n->fds[d] = openat(rootfd, name, O_RDONLY);
		if (n->fds[d] < 0)
			rc = -errno;
	}
	if (rc == 0 && syncfs(rootfd) < 0)
		rc = -errno;
	close(rootfd);
	return rc;
}

static int ns_local_run(uint32_t ndirs, double ops[3])
{
	struct ns n = { .op = ns_local_op,
			.sync = ns_local_sync,
			.ndirs = ndirs };
	char top[4300];
	int rc;

	memset(n.fds, -1, sizeof(n.fds));
	snprintf(top, sizeof(top), "%s/local%u", tmp_root, ndirs);
	rc = ns_local_dirs(&n, top);
	if (rc == 0)
		rc = ns_phases(&n, ops);
	for (uint32_t d = 0; d < META_DIRS; d++)
		if (n.fds[d] >= 0)
			close(n.fds[d]);
	return rc;
}

/* Runs fn in a forked child that writes len bytes of result into a pipe;
 * fills out and *ru (the child's own usage).  0, or -1 (logged). */
static int child_run(const char *what, int (*fn)(void *out, void *arg),
		     void *arg, void *out, size_t len, struct rusage *ru)
{
	int fd[2], status = 0;
	ssize_t got;
	pid_t pid;

	fflush(NULL);
	if (pipe(fd) < 0 || (pid = fork()) < 0) {
		perror("lsm_bench: pipe/fork");
		return -1;
	}
	if (pid == 0) {
		int rc = fn(out, arg);

		close(fd[0]);
		if (rc == 0 && write(fd[1], out, len) != (ssize_t)len)
			rc = -EIO;
		if (rc != 0)
			fprintf(stderr, "lsm_bench: %s: %s\n", what,
				rc > 0 ? "wrong values read" : strerror(-rc));
		_exit(rc == 0 ? 0 : 1);
	}
	close(fd[1]);
	got = read(fd[0], out, len);
	close(fd[0]);
	if (wait4(pid, &status, 0, ru) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || got != (ssize_t)len) {
		fprintf(stderr, "lsm_bench: %s failed\n", what);
		return -1;
	}
	return 0;
}

static int kv_child(void *out, void *arg)
{
	struct eng e = { .ops = arg };
	struct kv_result *r = out;
	int rc;

	rc = kv_workloads(&e, r);
	if (e.kv != NULL || e.lopt != NULL)
		e.ops->close(&e);
	objstore_close(e.os);
	return rc == 0 && r->mismatches > 0 ? 1 : rc;
}

static int meta_child(void *out, void *arg)
{
	int (*run)(uint32_t, double[3]) = arg ? ns_local_run : ns_zfs_run;
	struct meta_result *r = out;
	int rc = run(1, r->ops[0]);

	return rc == 0 ? run(META_DIRS, r->ops[1]) : rc;
}

static void line(const char *name, double z, double p, const char *peer,
		 const char *unit)
{
	printf("%s: zerofs %.1f %s, %s %.1f %s, ratio %.3f\n", name, z, unit,
	       peer, p, unit, p > 0 ? z / p : 0);
}

/* nftw's callback takes no argument; tree_total is the sum when counting,
 * and UINT64_MAX asks the walk to remove what it visits. */
static uint64_t tree_total;

static int tree_cb(const char *path, const struct stat *st, int type,
		   struct FTW *ftw)
{
	(void)ftw;
	if (tree_total != UINT64_MAX)
		tree_total += type == FTW_F ? (uint64_t)st->st_size : 0;
	else if ((type == FTW_DP ? rmdir(path) : unlink(path)) < 0)
		fprintf(stderr, "lsm_bench: remove %s: %m\n", path);
	return 0;
}

/* Bytes in the files under path. */
static uint64_t du(const char *path)
{
	tree_total = 0;
	return nftw(path, tree_cb, 16, FTW_PHYS) < 0 ? 0 : tree_total;
}

static void kv_report(const struct kv_result *z, const struct kv_result *l,
		      const struct rusage ru[2])
{
	char path[4300];
	uint64_t zs, ls;

	line("random put", z->put, l->put, "leveldb", "ops/s");
	line("random get", z->get, l->get, "leveldb", "ops/s");
	line("full scan", z->scan_keys, l->scan_keys, "leveldb", "keys/s");
	line("short scans", z->short_scans, l->short_scans, "leveldb",
	     "scans/s");
	printf("peak RSS: zerofs %.1f MiB, leveldb %.1f MiB\n",
	       ru[0].ru_maxrss / 1024.0, ru[1].ru_maxrss / 1024.0);
	snprintf(path, sizeof(path), "%s/store", tmp_root);
	zs = du(path);
	snprintf(path, sizeof(path), "%s/leveldb", tmp_root);
	ls = du(path);
	printf("store bytes: zerofs %.1f MiB, leveldb %.1f MiB\n",
	       zs / 1048576.0, ls / 1048576.0);
	printf("# settle (flush + compactions) before the cold start: "
	       "zerofs %.2f s; close + open: zerofs %.2f s, leveldb %.2f s\n",
	       z->settle_s, z->reopen_s, l->reopen_s);
	printf("# zerofs before the cold start: flushes %llu, compactions "
	       "%llu, stalls %llu\n",
	       (unsigned long long)z->st.flushes,
	       (unsigned long long)z->st.compactions,
	       (unsigned long long)z->st.stalls);
}

static int kv_bench(void)
{
	struct kv_result r[2];
	struct rusage ru[2];

	memset(r, 0, sizeof(r));
	if (child_run("zerofs kv", kv_child, (void *)&zfs_ops, &r[0],
		      sizeof(r[0]), &ru[0]) < 0 ||
	    child_run("leveldb", kv_child, (void *)&ldb_ops, &r[1],
		      sizeof(r[1]), &ru[1]) < 0)
		return -1;
	kv_report(&r[0], &r[1], ru);
	return 0;
}

static int meta_bench(void)
{
	static const char *const phase[3] = { "create", "stat", "unlink" };
	static const char *const where[2] = { "1 dir", "1000 dirs" };
	struct meta_result r[2];
	struct rusage ru[2];
	char name[64];

	memset(r, 0, sizeof(r));
	if (child_run("zerofs meta", meta_child, NULL, &r[0], sizeof(r[0]),
		      &ru[0]) < 0 ||
	    child_run("local meta", meta_child, (void *)1, &r[1], sizeof(r[1]),
		      &ru[1]) < 0)
		return -1;
	for (int w = 0; w < 2; w++) {
		for (int p = 0; p < 3; p++) {
			snprintf(name, sizeof(name), "meta %s (%s)", phase[p],
				 where[w]);
			line(name, r[0].ops[w][p], r[1].ops[w][p], "local",
			     "ops/s");
		}
	}
	printf("# meta peak RSS: zerofs %.1f MiB, local %.1f MiB\n",
	       ru[0].ru_maxrss / 1024.0, ru[1].ru_maxrss / 1024.0);
	return 0;
}

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: lsm_bench [-n KEYS] [-f FILES]\n");
	exit(2);
}

/* Reads a count in 1..2^32-1 (the permutations hold 32-bit numbers). */
static uint64_t parse_count(const char *arg)
{
	char *end;
	unsigned long long v = strtoull(arg, &end, 10);

	if (end == arg || *end != '\0' || v == 0 || v > UINT32_MAX)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int c, rc;

	while ((c = getopt(argc, argv, "n:f:")) != -1) {
		if (c == 'n')
			opt_keys = parse_count(optarg);
		else if (c == 'f')
			opt_files = parse_count(optarg);
		else
			usage();
	}
	if (optind != argc)
		usage();
	snprintf(tmp_root, sizeof(tmp_root), "%s/lsm_bench.XXXXXX", base);
	if (mkdtemp(tmp_root) == NULL) {
		perror("lsm_bench: mkdtemp");
		return 1;
	}
	printf("# lsm_bench: %llu keys, %llu files, in %s\n",
	       (unsigned long long)opt_keys, (unsigned long long)opt_files,
	       tmp_root);
	rc = kv_bench();
	if (rc == 0)
		rc = meta_bench();
	tree_total = UINT64_MAX;
	nftw(tmp_root, tree_cb, 16, FTW_DEPTH | FTW_PHYS);
	return rc == 0 ? 0 : 1;
}
