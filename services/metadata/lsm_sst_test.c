/*
 * Tests of SST objects through builder and reader over an in-memory
 * source: round trips of 100k entries, point reads at several snapshots,
 * tombstones, iterator seeks, a seal hook, every single-byte flip and
 * every truncation reported as -EIO, the block cache serving a second
 * read, source errors passed through, and readers shared by threads.
 */
#include "lsm_sst.h"

#include "lsm_block.h"
#include "lsm_crc.h"
#include "lsm_key.h"

#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>

/* An object in memory; counts reads and any read outside the object. */
struct memsrc {
	struct lsm_src src;
	const uint8_t *p;
	int fail; /* nonzero: every read fails with it */
	int reads, outside;
};

static int memsrc_read(void *arg, uint64_t off, size_t len, uint8_t *buf)
{
	struct memsrc *m = arg;

	__atomic_fetch_add(&m->reads, 1, __ATOMIC_RELAXED);
	if (m->fail)
		return m->fail;
	if (off > m->src.size || len > m->src.size - off) {
		m->outside++;
		return -ERANGE;
	}
	memcpy(buf, m->p + off, len);
	return 0;
}

static void memsrc_init(struct memsrc *m, const uint8_t *p, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->src.read = memsrc_read;
	m->src.arg = m;
	m->src.size = n;
	m->p = p;
}

static size_t ukey_of(char *buf, int i)
{
	return (size_t)snprintf(buf, 64, "inode/%08d/name", i);
}

static size_t val_of(char *buf, int i)
{
	return (size_t)snprintf(buf, 64, "value of %d", i);
}

/* A table of n user keys (the even numbers 0, 2, ...: odd ones are
 * absent but sort inside), one put each at seq i + 1.  *obj malloc'd. */
static void sst_make(int n, const struct lsm_sst_opts *opt, uint8_t **obj,
		     size_t *len)
{
	struct lsm_sst_builder *b = NULL;
	uint8_t ik[128];
	char u[64], v[64];

	if (lsm_sst_builder_new(opt, &b) != 0)
		abort();
	for (int i = 0; i < n; i++) {
		size_t kn = lsm_ikey_make(ik, u, ukey_of(u, 2 * i),
					  (uint64_t)i + 1, LSM_KIND_PUT);

		if (lsm_sst_builder_add(b, ik, kn, v, val_of(v, 2 * i)) != 0)
			abort();
	}
	if (lsm_sst_builder_finish(b, obj, len) != 0)
		abort();
	lsm_sst_builder_free(b);
}

/* What get of key i at snap says: "-" for enoent, "del@S", or the value. */
static void get_str(struct lsm_sst *t, int i, uint64_t snap, char *out)
{
	char u[64];
	uint8_t kind = 9;
	uint64_t seq = 0;
	void *v = NULL;
	size_t vl = 0;
	int rc = lsm_sst_get(t, u, ukey_of(u, i), snap, &kind, &seq, &v, &vl);

	if (rc == -ENOENT)
		strcpy(out, "-");
	else if (rc != 0)
		snprintf(out, 64, "err %d", rc);
	else if (kind == LSM_KIND_DEL)
		snprintf(out, 64, "del@%d%s", (int)seq, v ? "+val" : "");
	else
		snprintf(out, 64, "%.*s", (int)vl, (char *)v);
	free(v);
}

/* A table built, held in memory and opened. */
struct fix {
	uint8_t *obj;
	size_t len;
	struct memsrc m;
	struct lsm_sst *t;
};

static void fix_load(struct fix *f, struct lsm_block_cache *c,
		     const struct lsm_seal *seal)
{
	memsrc_init(&f->m, f->obj, f->len);
	if (lsm_sst_open(&f->m.src, 1, c, seal, &f->t) != 0)
		abort();
}

/* sst_make's table of n keys. */
static void fix_open(struct fix *f, int n, const struct lsm_sst_opts *o,
		     struct lsm_block_cache *c)
{
	sst_make(n, o, &f->obj, &f->len);
	fix_load(f, c, o ? o->seal : NULL);
}

static void fix_close(struct fix *f)
{
	lsm_sst_close(f->t);
	free(f->obj);
}

/* Returns 1 if ukey i reads back as its put at seq i / 2 + 1. */
static int get_matches(struct lsm_sst *t, int i)
{
	char u[64], v[64];
	uint8_t kind = 9;
	uint64_t seq = 0;
	void *val = NULL;
	size_t vlen = 0, wv = val_of(v, i);
	int rc = lsm_sst_get(t, u, ukey_of(u, i), LSM_SEQ_MAX, &kind, &seq,
			     &val, &vlen);
	int ok = rc == 0 && kind == LSM_KIND_PUT &&
		 seq == (uint64_t)i / 2 + 1 && vlen == wv &&
		 memcmp(val, v, wv) == 0;

	free(val);
	return ok;
}

/* Walks the table; the number of entries matching sst_make's, or -1. */
static int iter_walk(struct lsm_iter *it)
{
	uint8_t ik[128];
	char u[64], v[64];
	int i = 0;

	for (lsm_iter_first(it); lsm_iter_valid(it); lsm_iter_next(it), i++) {
		size_t kn, vn, wk, wv = val_of(v, 2 * i);
		const uint8_t *k = lsm_iter_key(it, &kn);
		const uint8_t *val = lsm_iter_value(it, &vn);

		wk = lsm_ikey_make(ik, u, ukey_of(u, 2 * i), (uint64_t)i + 1,
				   LSM_KIND_PUT);
		if (kn != wk || memcmp(k, ik, kn) != 0 || vn != wv ||
		    memcmp(val, v, vn) != 0)
			return -1;
	}
	return i;
}

/* 1 if the iterator stands on entry i of sst_make's table. */
static int iter_at(struct lsm_iter *it, int i)
{
	uint8_t ik[128];
	char u[64];
	size_t kn, wn = lsm_ikey_make(ik, u, ukey_of(u, 2 * i), (uint64_t)i + 1,
				      LSM_KIND_PUT);
	const uint8_t *k = lsm_iter_valid(it) ? lsm_iter_key(it, &kn) : NULL;

	return k != NULL && kn == wn && memcmp(k, ik, wn) == 0;
}

TEST(a_hundred_thousand_entries_round_trip_through_the_iterator)
{
	struct fix f;
	struct lsm_iter *it;

	fix_open(&f, 100000, NULL, NULL);
	CHECK_EQ(lsm_sst_count(f.t), 100000);
	it = lsm_sst_iter_new(f.t);
	CHECK_EQ(iter_walk(it), 100000);
	CHECK_EQ(lsm_iter_status(it), 0);
	CHECK_EQ(f.m.outside, 0);
	/* The index and filter of ~600 blocks of 100k keys: well under 1 MiB.
	 */
	CHECK(lsm_sst_mem(f.t) > 100000 * 10 / 8 &&
	      lsm_sst_mem(f.t) < (1 << 20));
	lsm_iter_free(it);
	fix_close(&f);
}

TEST(every_key_of_a_hundred_thousand_is_found_by_get)
{
	struct fix f;
	int bad = 0;

	fix_open(&f, 100000, NULL, NULL);
	for (int i = 0; i < 200000; i += 2)
		bad += !get_matches(f.t, i);
	CHECK_EQ(bad, 0);
	fix_close(&f);
}

TEST(absent_keys_are_enoent_and_the_filter_spares_most_reads)
{
	struct fix f;
	int found = 0, reads;
	char got[64];

	fix_open(&f, 100000, NULL, NULL);
	reads = f.m.reads;
	for (int i = 1; i < 200000; i += 2) {
		get_str(f.t, i, LSM_SEQ_MAX, got);
		found += strcmp(got, "-") != 0;
	}
	CHECK_EQ(found, 0);
	fprintf(stderr, "  100000 absent keys cost %d block reads\n",
		f.m.reads - reads);
	CHECK(f.m.reads - reads < 2000);
	fix_close(&f);
}

/* 2000 user keys, each with puts at seq 10 and 30 and a delete at 20;
 * key 7 has a delete at 40 on top. */
static void sst_make_versions(const struct lsm_sst_opts *opt, uint8_t **obj,
			      size_t *len)
{
	static const uint64_t seqs[] = { 40, 30, 20, 10 };
	struct lsm_sst_builder *b = NULL;
	uint8_t ik[128];
	char u[64], v[64];

	if (lsm_sst_builder_new(opt, &b) != 0)
		abort();
	for (int i = 0; i < 2000; i++)
		for (int j = 0; j < 4; j++) {
			uint8_t kind =
			    seqs[j] % 20 ? LSM_KIND_PUT : LSM_KIND_DEL;
			size_t un = ukey_of(u, i), kn;

			if (seqs[j] == 40 && i != 7)
				continue;
			kn = lsm_ikey_make(ik, u, un, seqs[j], kind);
			snprintf(v, sizeof(v), "%d@%d", i, (int)seqs[j]);
			if (lsm_sst_builder_add(b, ik, kn, v, strlen(v)) != 0)
				abort();
		}
	if (lsm_sst_builder_finish(b, obj, len) != 0)
		abort();
	lsm_sst_builder_free(b);
}

static void fix_versions(struct fix *f, const struct lsm_sst_opts *o,
			 struct lsm_block_cache *c)
{
	sst_make_versions(o, &f->obj, &f->len);
	fix_load(f, c, NULL);
}

static int versions_check(struct lsm_sst *t, int i)
{
	static const struct {
		uint64_t snap;
		const char *want; /* %d: the key's number */
	} cases[] = { { 9, "-" },	{ 10, "%d@10" },  { 19, "%d@10" },
		      { 20, "del@20" }, { 29, "del@20" }, { 30, "%d@30" },
		      { 39, "%d@30" } };
	char got[64], want[64];
	int bad = 0;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		snprintf(want, sizeof(want), cases[c].want, i);
		get_str(t, i, cases[c].snap, got);
		bad += strcmp(got, want) != 0;
	}
	return bad;
}

TEST(get_at_an_older_snapshot_sees_the_version_of_that_time)
{
	struct fix f;
	int bad = 0;

	fix_versions(&f, NULL, NULL);
	for (int i = 0; i < 2000; i++)
		bad += versions_check(f.t, i);
	CHECK_EQ(bad, 0);
	fix_close(&f);
}

TEST(a_version_numbered_exactly_snap_is_seen_whatever_its_kind)
{
	struct fix f;
	char got[64];

	fix_versions(&f, NULL, NULL);
	get_str(f.t, 7, 40, got);
	CHECK(strcmp(got, "del@40") == 0);
	get_str(f.t, 7, 39, got);
	CHECK(strcmp(got, "7@30") == 0);
	get_str(f.t, 7, UINT64_MAX, got);
	CHECK(strcmp(got, "del@40") == 0);
	get_str(f.t, 8, UINT64_MAX, got);
	CHECK(strcmp(got, "8@30") == 0);
	fix_close(&f);
}

TEST(the_iterator_returns_tombstones_as_kind_del)
{
	struct fix f;
	struct lsm_iter *it;
	int dels = 0, puts = 0;

	fix_versions(&f, NULL, NULL);
	it = lsm_sst_iter_new(f.t);
	for (lsm_iter_first(it); lsm_iter_valid(it); lsm_iter_next(it)) {
		size_t kn;
		const uint8_t *k = lsm_iter_key(it, &kn);
		uint8_t kind = lsm_ikey_kind(k, kn);

		dels += kind == LSM_KIND_DEL;
		puts += kind == LSM_KIND_PUT;
	}
	CHECK_EQ(lsm_iter_status(it), 0);
	CHECK_EQ(dels, 2001);
	CHECK_EQ(puts, 4000);
	lsm_iter_free(it);
	fix_close(&f);
}

TEST(iterator_seek_lands_on_the_first_entry_at_or_after_the_key)
{
	struct lsm_sst_opts o = { .block_bytes = 512 };
	uint8_t ik[128];
	struct fix f;
	struct lsm_iter *it;
	char u[64];
	int bad = 0, n = 0;

	fix_open(&f, 5000, &o, NULL);
	it = lsm_sst_iter_new(f.t);
	for (int i = 0; i < 10000; i++) {
		/* Key i (absent when odd) at any snapshot lands on the first
		 * even key >= i: entry (i + 1) / 2, or the end. */
		int want = (i + 1) / 2;

		lsm_iter_seek(
		    it, ik,
		    lsm_ikey_make(ik, u, ukey_of(u, i), LSM_SEQ_MAX, 0xff));
		if (want == 5000)
			bad += lsm_iter_valid(it) || lsm_iter_status(it);
		else
			bad += !iter_at(it, want);
	}
	CHECK_EQ(bad, 0);
	/* Below the newest version of key 0 (seq 1): seq 0 is past it. */
	lsm_iter_seek(it, ik, lsm_ikey_make(ik, u, ukey_of(u, 0), 0, 1));
	CHECK(iter_at(it, 1));
	/* And next runs on to the end across every block. */
	for (; lsm_iter_valid(it); n++)
		lsm_iter_next(it);
	CHECK_EQ(n, 4999);
	CHECK_EQ(lsm_iter_status(it), 0);
	lsm_iter_free(it);
	fix_close(&f);
}

TEST(an_empty_table_opens_and_holds_nothing)
{
	struct lsm_sst_builder *b = NULL;
	struct fix f;
	struct lsm_iter *it;
	char got[64];

	CHECK_EQ(lsm_sst_builder_new(NULL, &b), 0);
	CHECK_EQ(lsm_sst_builder_finish(b, &f.obj, &f.len), 0);
	lsm_sst_builder_free(b);
	fix_load(&f, NULL, NULL);
	CHECK_EQ(lsm_sst_count(f.t), 0);
	get_str(f.t, 0, 5, got);
	CHECK(strcmp(got, "-") == 0);
	it = lsm_sst_iter_new(f.t);
	lsm_iter_first(it);
	CHECK_EQ(lsm_iter_valid(it), 0);
	CHECK_EQ(lsm_iter_status(it), 0);
	lsm_iter_free(it);
	fix_close(&f);
}

TEST(the_builder_refuses_keys_out_of_order_or_malformed)
{
	struct lsm_sst_builder *b = NULL;
	uint8_t k1[16], k2[16], big[LSM_BLOCK_KEY_MAX + 1] = { 0 };

	lsm_ikey_make(k1, "b", 1, 5, LSM_KIND_PUT);
	CHECK_EQ(lsm_sst_builder_new(NULL, &b), 0);
	CHECK_EQ(lsm_sst_builder_add(b, k1, 9, "v", 1), 0);
	CHECK_EQ(lsm_sst_builder_add(b, k1, 9, "v", 1), -EINVAL);
	lsm_ikey_make(k2, "b", 1, 6, LSM_KIND_PUT); /* newer sorts first */
	CHECK_EQ(lsm_sst_builder_add(b, k2, 9, "v", 1), -EINVAL);
	lsm_ikey_make(k2, "a", 1, 1, LSM_KIND_PUT);
	CHECK_EQ(lsm_sst_builder_add(b, k2, 9, "v", 1), -EINVAL);
	CHECK_EQ(lsm_sst_builder_add(b, k2, 7, "v", 1), -EINVAL);
	CHECK_EQ(lsm_sst_builder_add(b, big, sizeof(big), "v", 1), -EINVAL);
	lsm_ikey_make(k2, "b", 1, 4, LSM_KIND_DEL);
	CHECK_EQ(lsm_sst_builder_add(b, k2, 9, NULL, 0), 0);
	CHECK_EQ(lsm_sst_builder_count(b), 2);
	lsm_sst_builder_free(b);
}

TEST(the_size_estimate_is_close_to_the_finished_object)
{
	struct lsm_sst_builder *b = NULL;
	uint8_t ik[128], *obj = NULL;
	char u[64], v[64];
	size_t len = 0;
	uint64_t est;

	CHECK_EQ(lsm_sst_builder_new(NULL, &b), 0);
	for (int i = 0; i < 20000; i++) {
		size_t kn =
		    lsm_ikey_make(ik, u, ukey_of(u, i), 1, LSM_KIND_PUT);

		lsm_sst_builder_add(b, ik, kn, v, val_of(v, i));
	}
	est = lsm_sst_builder_bytes(b);
	CHECK_EQ(lsm_sst_builder_finish(b, &obj, &len), 0);
	fprintf(stderr, "  estimate %llu, object %zu\n",
		(unsigned long long)est, len);
	CHECK(est > len * 95 / 100 && est < len * 105 / 100);
	lsm_sst_builder_free(b);
	free(obj);
}

TEST(keys_of_the_longest_length_round_trip)
{
	struct lsm_sst_builder *b = NULL;
	static uint8_t u[LSM_KEY_MAX], ik[LSM_BLOCK_KEY_MAX];
	uint8_t kind = 9;
	size_t vl = 0;
	struct fix f;
	uint64_t seq = 0;
	void *v = NULL;

	CHECK_EQ(lsm_sst_builder_new(NULL, &b), 0);
	for (int i = 0; i < 20; i++) {
		memset(u, 'a' + i, sizeof(u));
		lsm_ikey_make(ik, u, sizeof(u), 3, LSM_KIND_PUT);
		CHECK_EQ(lsm_sst_builder_add(b, ik, sizeof(ik), u, 100), 0);
	}
	CHECK_EQ(lsm_sst_builder_finish(b, &f.obj, &f.len), 0);
	lsm_sst_builder_free(b);
	fix_load(&f, NULL, NULL);
	memset(u, 'a' + 13, sizeof(u));
	CHECK_EQ(lsm_sst_get(f.t, u, sizeof(u), 3, &kind, &seq, &v, &vl), 0);
	CHECK(vl == 100 && memcmp(v, u, 100) == 0);
	free(v);
	fix_close(&f);
}

/* A stand-in cipher: XOR with a key byte and a 16-byte tag (the CRC-32C
 * of the plain bytes and the key, four times), so a block sealed with
 * another key or altered after sealing does not open. */
static int xor_seal(void *arg, const uint8_t *in, size_t n, uint8_t **out,
		    size_t *outn)
{
	uint8_t key = *(const uint8_t *)arg, *p = malloc(n + 16);
	uint32_t tag = lsm_crc32c(lsm_crc32c(0, &key, 1), in, n);

	if (p == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		p[i] = in[i] ^ key;
	for (int i = 0; i < 16; i++)
		p[n + i] = (uint8_t)(tag >> (8 * (i % 4)));
	*out = p;
	*outn = n + 16;
	return 0;
}

static int xor_open(void *arg, const uint8_t *in, size_t n, uint8_t **out,
		    size_t *outn)
{
	uint8_t key = *(const uint8_t *)arg, *p;
	uint32_t tag;

	if (n < 16)
		return -EBADMSG;
	p = malloc(n - 16 ? n - 16 : 1);
	if (p == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n - 16; i++)
		p[i] = in[i] ^ key;
	tag = lsm_crc32c(lsm_crc32c(0, &key, 1), p, n - 16);
	for (int i = 0; i < 16; i++)
		if (in[n - 16 + i] != (uint8_t)(tag >> (8 * (i % 4)))) {
			free(p);
			return -EBADMSG;
		}
	*out = p;
	*outn = n - 16;
	return 0;
}

static uint8_t key_a = 0x5a, key_b = 0xa7;
static const struct lsm_seal seal_a = { xor_seal, xor_open, &key_a };
static const struct lsm_seal seal_b = { xor_seal, xor_open, &key_b };

static int contains(const uint8_t *p, size_t n, const char *s)
{
	return memmem(p, n, s, strlen(s)) != NULL;
}

TEST(a_sealed_table_reads_back_through_the_seal_and_hides_its_keys)
{
	struct lsm_sst_opts o = { .seal = &seal_a };
	uint8_t *obj = NULL, *plain = NULL;
	size_t len = 0, plen = 0;
	struct memsrc m;
	struct lsm_sst *t = NULL;
	struct lsm_iter *it;
	int bad = 0;

	sst_make(3000, NULL, &plain, &plen);
	sst_make(3000, &o, &obj, &len);
	CHECK(contains(plain, plen, "inode/00000000/name"));
	CHECK(contains(plain, plen, "value of 42"));
	CHECK(!contains(obj, len, "inode/00000000/name"));
	CHECK(!contains(obj, len, "value of 42"));
	memsrc_init(&m, obj, len);
	CHECK_EQ(lsm_sst_open(&m.src, 1, NULL, &seal_a, &t), 0);
	for (int i = 0; i < 6000; i += 2)
		bad += !get_matches(t, i);
	CHECK_EQ(bad, 0);
	it = lsm_sst_iter_new(t);
	CHECK_EQ(iter_walk(it), 3000);
	lsm_iter_free(it);
	lsm_sst_close(t);
	free(obj);
	free(plain);
}

TEST(a_sealed_table_opened_with_another_seal_or_none_is_eio)
{
	struct lsm_sst_opts o = { .seal = &seal_a };
	uint8_t *obj = NULL;
	size_t len = 0;
	struct memsrc m;
	struct lsm_sst *t = NULL;

	sst_make(300, &o, &obj, &len);
	memsrc_init(&m, obj, len);
	CHECK_EQ(lsm_sst_open(&m.src, 1, NULL, &seal_b, &t), -EIO);
	CHECK_EQ(lsm_sst_open(&m.src, 1, NULL, NULL, &t), -EIO);
	free(obj);
}

TEST(a_block_altered_with_its_crc_recomputed_fails_in_the_seal)
{
	struct lsm_sst_opts o = { .seal = &seal_a };
	uint8_t *obj = NULL;
	size_t len = 0, end;
	struct memsrc m;
	struct lsm_sst *t = NULL;
	uint32_t crc;
	int bad = 0;
	char got[64];

	sst_make(2000, &o, &obj, &len);
	/* The first data block ends where the next starts: find its end by
	 * its CRC, flip a byte inside and recompute the CRC. */
	for (end = 16; end + 4 <= len; end++)
		if (lsm_crc32c(0, obj, end) ==
		    (uint32_t)(obj[end] | obj[end + 1] << 8 |
			       obj[end + 2] << 16 |
			       (uint32_t)obj[end + 3] << 24))
			break;
	CHECK(end + 4 < len);
	obj[end / 2] ^= 0x01;
	crc = lsm_crc32c(0, obj, end);
	for (int i = 0; i < 4; i++)
		obj[end + i] = (uint8_t)(crc >> (8 * i));
	memsrc_init(&m, obj, len);
	CHECK_EQ(lsm_sst_open(&m.src, 1, NULL, &seal_a, &t), 0);
	for (int i = 0; i < 4000; i += 2) {
		get_str(t, i, LSM_SEQ_MAX, got);
		bad += strcmp(got, "err -5") == 0;
	}
	CHECK(bad > 0);
	lsm_sst_close(t);
	free(obj);
}

/* Whether reading the table in src finds damage: open, a full scan, and
 * a get of every key; 1 if any of them says -EIO. */
static int damage_found(struct memsrc *m, const struct lsm_seal *seal, int n)
{
	struct lsm_sst *t = NULL;
	struct lsm_iter *it;
	int rc = lsm_sst_open(&m->src, 1, NULL, seal, &t), found;

	if (rc < 0)
		return rc == -EIO;
	it = lsm_sst_iter_new(t);
	found = iter_walk(it) != n || lsm_iter_status(it) == -EIO;
	lsm_iter_free(it);
	for (int i = 0; i < 2 * n && !found; i += 2)
		found = !get_matches(t, i);
	lsm_sst_close(t);
	return found;
}

static void every_flip_is_found(const struct lsm_sst_opts *o)
{
	uint8_t *obj = NULL, *copy;
	size_t len = 0;
	struct memsrc m;
	int missed = 0, outside = 0;

	sst_make(100, o, &obj, &len);
	copy = malloc(len);
	memcpy(copy, obj, len);
	for (size_t i = 0; i < len; i++)
		for (int k = 0; k < 3; k++) {
			/* One bit, a run of bits, the whole byte. */
			copy[i] ^= (uint8_t)(k == 0   ? 0x01
					     : k == 1 ? 0x1c
						      : 0xff);
			memsrc_init(&m, copy, len);
			missed += !damage_found(&m, o->seal, 100);
			outside += m.outside;
			copy[i] = obj[i];
		}
	memsrc_init(&m, copy, len);
	CHECK_EQ(damage_found(&m, o->seal, 100), 0);
	CHECK_EQ(missed, 0);
	CHECK_EQ(outside, 0);
	free(copy);
	free(obj);
}

TEST(every_flipped_byte_of_a_small_table_is_reported_as_eio)
{
	struct lsm_sst_opts o = { .block_bytes = 256 };

	every_flip_is_found(&o);
}

TEST(every_flipped_byte_of_a_small_sealed_table_is_reported_as_eio)
{
	struct lsm_sst_opts o = { .block_bytes = 256, .seal = &seal_a };

	every_flip_is_found(&o);
}

TEST(every_truncation_and_an_extension_of_a_table_fail_to_open)
{
	struct lsm_sst_opts o = { .block_bytes = 256 };
	uint8_t *obj = NULL, *big;
	size_t len = 0;
	struct memsrc m;
	struct lsm_sst *t = NULL;
	int opened = 0;

	sst_make(100, &o, &obj, &len);
	for (size_t n = 0; n < len; n++) {
		memsrc_init(&m, obj, n);
		opened += lsm_sst_open(&m.src, 1, NULL, NULL, &t) != -EIO;
		CHECK_EQ(m.outside, 0);
	}
	CHECK_EQ(opened, 0);
	big = calloc(1, len + 56);
	memcpy(big, obj, len);
	memsrc_init(&m, big, len + 56);
	CHECK_EQ(lsm_sst_open(&m.src, 1, NULL, NULL, &t), -EIO);
	free(big);
	free(obj);
}

TEST(a_failing_source_passes_its_error_through)
{
	uint8_t *obj = NULL, kind;
	size_t len = 0, vl;
	struct memsrc m;
	struct lsm_sst *t = NULL;
	struct lsm_iter *it;
	uint64_t seq;
	void *v = NULL;
	char u[64];

	sst_make(1000, NULL, &obj, &len);
	memsrc_init(&m, obj, len);
	m.fail = -ETIMEDOUT;
	CHECK_EQ(lsm_sst_open(&m.src, 1, NULL, NULL, &t), -ETIMEDOUT);
	m.fail = 0;
	CHECK_EQ(lsm_sst_open(&m.src, 1, NULL, NULL, &t), 0);
	m.fail = -ETIMEDOUT;
	CHECK_EQ(lsm_sst_get(t, u, ukey_of(u, 10), 99, &kind, &seq, &v, &vl),
		 -ETIMEDOUT);
	it = lsm_sst_iter_new(t);
	lsm_iter_first(it);
	CHECK_EQ(lsm_iter_valid(it), 0);
	CHECK_EQ(lsm_iter_status(it), -ETIMEDOUT);
	/* An error is sticky: a later seek does not revive the iterator. */
	m.fail = 0;
	lsm_iter_first(it);
	CHECK_EQ(lsm_iter_status(it), -ETIMEDOUT);
	lsm_iter_free(it);
	lsm_sst_close(t);
	free(obj);
}

TEST(a_second_read_of_a_block_is_served_by_the_block_cache)
{
	struct lsm_block_cache *c = NULL;
	struct lsm_cache_stats st;
	uint8_t *obj = NULL;
	size_t len = 0;
	struct memsrc m;
	struct lsm_sst *t = NULL;
	struct lsm_iter *it;
	int reads;

	sst_make(5000, NULL, &obj, &len);
	memsrc_init(&m, obj, len);
	CHECK_EQ(lsm_block_cache_new(8 << 20, &c), 0);
	CHECK_EQ(lsm_sst_open(&m.src, 7, c, NULL, &t), 0);
	reads = m.reads;
	CHECK(get_matches(t, 420));
	CHECK_EQ(m.reads, reads + 1);
	CHECK(get_matches(t, 420));
	CHECK(get_matches(t, 422));
	CHECK_EQ(m.reads, reads + 1);
	lsm_block_cache_stats(c, &st);
	CHECK(st.hits >= 2 && st.misses == 1 && st.entries == 1);
	/* A scan fills the cache; a second scan reads nothing. */
	it = lsm_sst_iter_new(t);
	CHECK_EQ(iter_walk(it), 5000);
	reads = m.reads;
	CHECK_EQ(iter_walk(it), 5000);
	CHECK_EQ(m.reads, reads);
	lsm_iter_free(it);
	lsm_sst_close(t);
	lsm_block_cache_free(c);
	free(obj);
}

struct reader_arg {
	struct lsm_sst *t;
	int start, bad;
};

static void *reader_run(void *p)
{
	struct reader_arg *a = p;

	for (int i = 0; i < 20000; i++)
		a->bad += !get_matches(a->t, 2 * ((a->start + 7 * i) % 10000));
	return NULL;
}

TEST(threads_share_one_reader_and_its_cache)
{
	struct lsm_block_cache *c = NULL;
	uint8_t *obj = NULL;
	size_t len = 0;
	struct memsrc m;
	struct lsm_sst *t = NULL;
	struct reader_arg a[4];
	pthread_t th[4];
	int bad = 0;

	sst_make(10000, NULL, &obj, &len);
	memsrc_init(&m, obj, len);
	CHECK_EQ(lsm_block_cache_new(1 << 20, &c), 0);
	CHECK_EQ(lsm_sst_open(&m.src, 3, c, NULL, &t), 0);
	for (int i = 0; i < 4; i++) {
		a[i] = (struct reader_arg){ t, i * 2500, 0 };
		pthread_create(&th[i], NULL, reader_run, &a[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		bad += a[i].bad;
	}
	CHECK_EQ(bad, 0);
	lsm_sst_close(t);
	lsm_block_cache_free(c);
	free(obj);
}

TEST_MAIN(a_hundred_thousand_entries_round_trip_through_the_iterator,
	  every_key_of_a_hundred_thousand_is_found_by_get,
	  absent_keys_are_enoent_and_the_filter_spares_most_reads,
	  get_at_an_older_snapshot_sees_the_version_of_that_time,
	  a_version_numbered_exactly_snap_is_seen_whatever_its_kind,
	  the_iterator_returns_tombstones_as_kind_del,
	  iterator_seek_lands_on_the_first_entry_at_or_after_the_key,
	  an_empty_table_opens_and_holds_nothing,
	  the_builder_refuses_keys_out_of_order_or_malformed,
	  the_size_estimate_is_close_to_the_finished_object,
	  keys_of_the_longest_length_round_trip,
	  a_sealed_table_reads_back_through_the_seal_and_hides_its_keys,
	  a_sealed_table_opened_with_another_seal_or_none_is_eio,
	  a_block_altered_with_its_crc_recomputed_fails_in_the_seal,
	  every_flipped_byte_of_a_small_table_is_reported_as_eio,
	  every_flipped_byte_of_a_small_sealed_table_is_reported_as_eio,
	  every_truncation_and_an_extension_of_a_table_fail_to_open,
	  a_failing_source_passes_its_error_through,
	  a_second_read_of_a_block_is_served_by_the_block_cache,
	  threads_share_one_reader_and_its_cache)
