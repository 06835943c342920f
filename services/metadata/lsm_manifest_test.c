/*
 * Tests of the manifest: the byte layout against an encoder written here
 * from the specification, round trips, refusal of damaged and malformed
 * objects (behind a valid checksum too), edits that keep each level's
 * order, WAL ownership, object names and loading the newest manifest from
 * an in-memory store.
 */
#include "lsm_manifest.h"

#include "lsm_key.h"
#include "test.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>

/* A file whose user keys run from lo to hi, its seqs min..max. */
static void file_make(struct lsm_file *f, uint64_t id, const char *lo,
		      const char *hi, uint64_t min_seq, uint64_t max_seq)
{
	size_t ln = strlen(lo), hn = strlen(hi);

	memset(f, 0, sizeof(*f));
	f->id = id;
	f->size = 4096 + id;
	f->entries = 10 + id;
	f->min_seq = min_seq;
	f->max_seq = max_seq;
	f->smallest = malloc(ln + LSM_TRAILER);
	f->largest = malloc(hn + LSM_TRAILER);
	if (f->smallest == NULL || f->largest == NULL)
		abort();
	f->smallest_len = lsm_ikey_make(f->smallest, lo, ln, max_seq, 1);
	f->largest_len = lsm_ikey_make(f->largest, hi, hn, min_seq, 1);
}

/* Adds one file through an edit; returns apply's result. */
static int add1(struct lsm_manifest *m, int level, uint64_t id, const char *lo,
		const char *hi, uint64_t min_seq, uint64_t max_seq)
{
	struct lsm_file f;
	struct lsm_edit_add a = { .level = level, .file = &f };
	struct lsm_edit e = { .add = &a, .nadd = 1 };
	int rc;

	file_make(&f, id, lo, hi, min_seq, max_seq);
	rc = lsm_manifest_apply(m, &e);
	lsm_file_clear(&f);
	if (m->next_file <= id)
		m->next_file = id + 1;
	return rc;
}

static int del1(struct lsm_manifest *m, int level, uint64_t id)
{
	struct lsm_edit_del d = { .level = level, .id = id };
	struct lsm_edit e = { .del = &d, .ndel = 1 };

	return lsm_manifest_apply(m, &e);
}

/* Files on every level, overlapping ones on level 0, and five owners. */
static void manifest_big(struct lsm_manifest *m)
{
	uint64_t id = 1, seq = 1000;
	char lo[32], hi[32];

	lsm_manifest_init(m);
	m->number = 77;
	m->writer_epoch = 5;
	m->flushed_seq = 999;
	m->owners = calloc(5, sizeof(*m->owners));
	if (m->owners == NULL)
		abort();
	m->nowners = 5;
	for (int i = 0; i < 5; i++) {
		m->owners[i].epoch = (uint64_t)i + 1;
		m->owners[i].first_seq = (uint64_t)i * 100 + 1;
	}
	for (int i = 0; i < 8; i++, seq += 10)
		CHECK_EQ(add1(m, 0, id++, "a", "z", seq, seq + 9), 0);
	for (int l = 1; l < LSM_LEVELS; l++) {
		for (int i = 0; i < 20; i++) {
			snprintf(lo, sizeof(lo), "key%03d-lo", i);
			snprintf(hi, sizeof(hi), "key%03d-up", i);
			CHECK_EQ(add1(m, l, id++, lo, hi, 1, (uint64_t)i + 2),
				 0);
		}
	}
}

static int file_equal(const struct lsm_file *a, const struct lsm_file *b)
{
	return a->id == b->id && a->size == b->size &&
	       a->entries == b->entries && a->min_seq == b->min_seq &&
	       a->max_seq == b->max_seq && a->smallest_len == b->smallest_len &&
	       a->largest_len == b->largest_len &&
	       memcmp(a->smallest, b->smallest, a->smallest_len) == 0 &&
	       memcmp(a->largest, b->largest, a->largest_len) == 0;
}

static int manifest_equal(const struct lsm_manifest *a,
			  const struct lsm_manifest *b)
{
	if (a->number != b->number || a->writer_epoch != b->writer_epoch ||
	    a->flushed_seq != b->flushed_seq || a->next_file != b->next_file ||
	    a->nowners != b->nowners)
		return 0;
	for (size_t i = 0; i < a->nowners; i++)
		if (a->owners[i].epoch != b->owners[i].epoch ||
		    a->owners[i].first_seq != b->owners[i].first_seq)
			return 0;
	for (int l = 0; l < LSM_LEVELS; l++) {
		if (a->nfiles[l] != b->nfiles[l])
			return 0;
		for (size_t i = 0; i < a->nfiles[l]; i++)
			if (!file_equal(&a->files[l][i], &b->files[l][i]))
				return 0;
	}
	return 1;
}

static void reseal(struct wire_out *w)
{
	crypto_generichash(w->p + w->len - 32, 32, w->p, w->len - 32, NULL, 0);
}

/* The layout as the FORMAT fragment states it, written without any
 * check, so malformed manifests can be built. */
static void raw_encode(const struct lsm_manifest *m, uint32_t levels,
		       struct wire_out *w)
{
	uint8_t zero[32] = { 0 };

	wire_out_mem(w, "ZFSMMAN1", 8);
	wire_out_u32(w, 1);
	wire_out_u64(w, m->number);
	wire_out_u64(w, m->writer_epoch);
	wire_out_u64(w, m->flushed_seq);
	wire_out_u64(w, m->next_file);
	wire_out_u32(w, (uint32_t)m->nowners);
	for (size_t i = 0; i < m->nowners; i++) {
		wire_out_u64(w, m->owners[i].epoch);
		wire_out_u64(w, m->owners[i].first_seq);
	}
	wire_out_u32(w, levels);
	for (uint32_t l = 0; l < levels; l++) {
		size_t n = l < LSM_LEVELS ? m->nfiles[l] : 0;

		wire_out_u32(w, (uint32_t)n);
		for (size_t i = 0; i < n; i++) {
			const struct lsm_file *f = &m->files[l][i];

			wire_out_u64(w, f->id);
			wire_out_u64(w, f->size);
			wire_out_u64(w, f->entries);
			wire_out_u64(w, f->min_seq);
			wire_out_u64(w, f->max_seq);
			wire_out_u32(w, (uint32_t)f->smallest_len);
			wire_out_mem(w, f->smallest, f->smallest_len);
			wire_out_u32(w, (uint32_t)f->largest_len);
			wire_out_mem(w, f->largest, f->largest_len);
		}
	}
	wire_out_mem(w, zero, 32);
	reseal(w);
}

/* Decodes what raw_encode makes of m: the decoder's verdict. */
static int raw_decode(const struct lsm_manifest *m, uint32_t levels)
{
	struct wire_out w = { 0 };
	struct lsm_manifest d;
	int rc;

	raw_encode(m, levels, &w);
	lsm_manifest_init(&d);
	rc = lsm_manifest_decode(w.p, w.len, &d);
	lsm_manifest_clear(&d);
	wire_out_free(&w);
	return rc;
}

/* Sets level l to the given files, in the given order, bypassing apply. */
static void level_set(struct lsm_manifest *m, int l, const char *const *ranges,
		      size_t n)
{
	m->files[l] = calloc(n, sizeof(struct lsm_file));
	if (m->files[l] == NULL)
		abort();
	m->nfiles[l] = n;
	for (size_t i = 0; i < n; i++)
		file_make(&m->files[l][i], m->next_file++, ranges[2 * i],
			  ranges[2 * i + 1], 1, 1);
}

TEST(encode_then_decode_gives_back_every_field)
{
	struct lsm_manifest m, d;
	struct wire_out w = { 0 };

	manifest_big(&m);
	lsm_manifest_init(&d);
	CHECK_EQ(lsm_manifest_encode(&m, &w), 0);
	CHECK_EQ(lsm_manifest_decode(w.p, w.len, &d), 0);
	CHECK(manifest_equal(&m, &d));
	CHECK_EQ(d.nfiles[0], 8);
	CHECK_EQ(d.nfiles[LSM_LEVELS - 1], 20);
	wire_out_free(&w);
	lsm_manifest_clear(&m);
	lsm_manifest_clear(&d);
}

TEST(encoding_follows_the_documented_layout)
{
	struct lsm_manifest m;
	struct wire_out w = { 0 }, raw = { 0 };

	manifest_big(&m);
	CHECK_EQ(lsm_manifest_encode(&m, &w), 0);
	raw_encode(&m, LSM_LEVELS, &raw);
	CHECK_EQ(w.len, raw.len);
	CHECK(w.len == raw.len && memcmp(w.p, raw.p, w.len) == 0);
	wire_out_free(&w);
	wire_out_free(&raw);
	lsm_manifest_clear(&m);
}

TEST(encode_appends_to_what_the_buffer_holds)
{
	struct lsm_manifest m, d;
	struct wire_out w = { 0 };

	manifest_big(&m);
	lsm_manifest_init(&d);
	wire_out_mem(&w, "head", 4);
	CHECK_EQ(lsm_manifest_encode(&m, &w), 0);
	CHECK_EQ(lsm_manifest_decode(w.p + 4, w.len - 4, &d), 0);
	CHECK(manifest_equal(&m, &d));
	wire_out_free(&w);
	lsm_manifest_clear(&m);
	lsm_manifest_clear(&d);
}

TEST(an_empty_manifest_round_trips)
{
	struct lsm_manifest m, d;
	struct wire_out w = { 0 };

	lsm_manifest_init(&m);
	lsm_manifest_init(&d);
	d.number = 9;
	CHECK_EQ(lsm_manifest_encode(&m, &w), 0);
	CHECK_EQ(lsm_manifest_decode(w.p, w.len, &d), 0);
	CHECK(manifest_equal(&m, &d));
	wire_out_free(&w);
}

TEST(every_truncation_is_rejected)
{
	struct lsm_manifest m, d;
	struct wire_out w = { 0 };
	int bad = 0;

	manifest_big(&m);
	lsm_manifest_init(&d);
	CHECK_EQ(lsm_manifest_encode(&m, &w), 0);
	for (size_t n = 0; n < w.len; n++)
		bad += lsm_manifest_decode(w.p, n, &d) != -EIO;
	CHECK_EQ(bad, 0);
	CHECK_EQ(d.nfiles[0], 0);
	wire_out_free(&w);
	lsm_manifest_clear(&m);
}

TEST(every_flipped_byte_is_rejected)
{
	struct lsm_manifest m, d;
	struct wire_out w = { 0 };
	int bad = 0;

	manifest_big(&m);
	lsm_manifest_init(&d);
	CHECK_EQ(lsm_manifest_encode(&m, &w), 0);
	for (size_t i = 0; i < w.len; i++) {
		w.p[i] ^= (uint8_t)(1u << (i % 8));
		bad += lsm_manifest_decode(w.p, w.len, &d) != -EIO;
		w.p[i] ^= (uint8_t)(1u << (i % 8));
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(lsm_manifest_decode(w.p, w.len, &d), 0);
	wire_out_free(&w);
	lsm_manifest_clear(&m);
	lsm_manifest_clear(&d);
}

/* Field offsets of a manifest without owners (FORMAT fragment). */
#define OFF_VERSION 8
#define OFF_OWNERS  44
#define OFF_LEVELS  48
#define OFF_L0	    52

static int patched_decode(const struct lsm_manifest *m, size_t off,
			  const void *val, size_t n)
{
	struct wire_out w = { 0 };
	struct lsm_manifest d;
	int rc;

	lsm_manifest_init(&d);
	if (lsm_manifest_encode(m, &w) < 0)
		abort();
	memcpy(w.p + off, val, n);
	reseal(&w);
	rc = lsm_manifest_decode(w.p, w.len, &d);
	lsm_manifest_clear(&d);
	wire_out_free(&w);
	return rc;
}

TEST(a_bad_magic_or_version_is_rejected_behind_a_good_checksum)
{
	struct lsm_manifest m;
	uint8_t two[4] = { 2, 0, 0, 0 };

	lsm_manifest_init(&m);
	CHECK_EQ(patched_decode(&m, 0, "ZFSMMAN2", 8), -EIO);
	CHECK_EQ(patched_decode(&m, OFF_VERSION, two, 4), -EIO);
	CHECK_EQ(patched_decode(&m, 0, "ZFSMMAN1", 8), 0);
}

TEST(a_huge_count_is_rejected_without_allocating)
{
	struct lsm_manifest m;
	uint8_t huge[4] = { 0xff, 0xff, 0xff, 0xff };

	lsm_manifest_init(&m);
	CHECK_EQ(patched_decode(&m, OFF_OWNERS, huge, 4), -EIO);
	CHECK_EQ(patched_decode(&m, OFF_L0, huge, 4), -EIO);
	CHECK_EQ(patched_decode(&m, OFF_L0 + 4 * (LSM_LEVELS - 1), huge, 4),
		 -EIO);
}

TEST(a_level_count_other_than_seven_is_rejected)
{
	struct lsm_manifest m;
	uint8_t six[4] = { 6, 0, 0, 0 };

	lsm_manifest_init(&m);
	CHECK_EQ(raw_decode(&m, LSM_LEVELS - 1), -EIO);
	CHECK_EQ(raw_decode(&m, LSM_LEVELS + 1), -EIO);
	CHECK_EQ(patched_decode(&m, OFF_LEVELS, six, 4), -EIO);
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), 0);
}

TEST(trailing_bytes_are_rejected_behind_a_good_checksum)
{
	struct lsm_manifest m, d;
	struct wire_out w = { 0 };

	manifest_big(&m);
	lsm_manifest_init(&d);
	CHECK_EQ(lsm_manifest_encode(&m, &w), 0);
	w.len -= 32;
	wire_out_u8(&w, 0);
	wire_out_mem(&w, (uint8_t[32]){ 0 }, 32);
	reseal(&w);
	CHECK_EQ(lsm_manifest_decode(w.p, w.len, &d), -EIO);
	wire_out_free(&w);
	lsm_manifest_clear(&m);
}

TEST(owners_out_of_order_are_rejected)
{
	struct lsm_manifest m;
	struct wire_out w = { 0 };

	lsm_manifest_init(&m);
	m.owners = calloc(2, sizeof(*m.owners));
	m.nowners = 2;
	m.owners[0] = (struct lsm_owner){ .epoch = 1, .first_seq = 10 };
	m.owners[1] = (struct lsm_owner){ .epoch = 2, .first_seq = 10 };
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), -EIO);
	CHECK_EQ(lsm_manifest_encode(&m, &w), -EINVAL);
	m.owners[1] = (struct lsm_owner){ .epoch = 1, .first_seq = 11 };
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), -EIO);
	m.owners[1] = (struct lsm_owner){ .epoch = 2, .first_seq = 11 };
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), 0);
	wire_out_free(&w);
	lsm_manifest_clear(&m);
}

TEST(unsorted_files_of_a_lower_level_are_rejected)
{
	static const char *const r[] = { "m", "n", "a", "b" };
	struct lsm_manifest m;
	struct wire_out w = { 0 };

	lsm_manifest_init(&m);
	level_set(&m, 2, r, 2);
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), -EIO);
	CHECK_EQ(lsm_manifest_encode(&m, &w), -EINVAL);
	wire_out_free(&w);
	lsm_manifest_clear(&m);
}

TEST(overlapping_files_of_a_lower_level_are_rejected)
{
	static const char *const overlap[] = { "a", "m", "k", "z" };
	static const char *const shared[] = { "a", "m", "m", "z" };
	static const char *const apart[] = { "a", "m", "ma", "z" };
	struct lsm_manifest m;

	lsm_manifest_init(&m);
	level_set(&m, 1, overlap, 2);
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), -EIO);
	lsm_manifest_clear(&m);
	level_set(&m, 1, shared, 2);
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), -EIO);
	lsm_manifest_clear(&m);
	level_set(&m, 1, apart, 2);
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), 0);
	lsm_manifest_clear(&m);
}

TEST(level_zero_out_of_newest_first_order_is_rejected)
{
	static const char *const r[] = { "a", "z", "a", "z" };
	struct lsm_manifest m;

	lsm_manifest_init(&m);
	level_set(&m, 0, r, 2);
	m.files[0][0].max_seq = 5;
	m.files[0][1].max_seq = 9;
	m.files[0][1].min_seq = 6;
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), -EIO);
	m.files[0][0].max_seq = 10;
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), 0);
	lsm_manifest_clear(&m);
}

TEST(keys_shorter_than_a_trailer_are_rejected)
{
	static const char *const r[] = { "a", "b" };
	struct lsm_manifest m;

	lsm_manifest_init(&m);
	level_set(&m, 1, r, 1);
	m.files[1][0].smallest_len = 7;
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), -EIO);
	m.files[1][0].smallest_len = 0;
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), -EIO);
	m.files[1][0].smallest_len = 9;
	m.files[1][0].largest_len = 3;
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), -EIO);
	lsm_manifest_clear(&m);
}

TEST(duplicate_ids_and_ids_not_below_next_file_are_rejected)
{
	static const char *const r[] = { "a", "b", "c", "d" };
	struct lsm_manifest m;
	struct wire_out w = { 0 };

	lsm_manifest_init(&m);
	level_set(&m, 1, r, 2);
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), 0);
	m.files[1][1].id = m.files[1][0].id;
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), -EIO);
	m.files[1][1].id = m.next_file;
	CHECK_EQ(raw_decode(&m, LSM_LEVELS), -EIO);
	CHECK_EQ(lsm_manifest_encode(&m, &w), -EINVAL);
	CHECK_EQ(w.len, 0);
	wire_out_free(&w);
	lsm_manifest_clear(&m);
}

TEST(a_copy_is_deep_and_equal)
{
	struct lsm_manifest m, c;

	manifest_big(&m);
	CHECK_EQ(lsm_manifest_copy(&c, &m), 0);
	CHECK(manifest_equal(&m, &c));
	CHECK(c.owners != m.owners);
	CHECK(c.files[1][0].smallest != m.files[1][0].smallest);
	lsm_manifest_clear(&m);
	CHECK_EQ(c.nfiles[3], 20);
	CHECK_EQ(
	    lsm_ikey_seq(c.files[3][0].smallest, c.files[3][0].smallest_len),
	    2);
	lsm_manifest_clear(&c);
}

TEST(apply_keeps_level_zero_newest_first)
{
	struct lsm_manifest m;

	lsm_manifest_init(&m);
	CHECK_EQ(add1(&m, 0, 1, "a", "c", 1, 10), 0);
	CHECK_EQ(add1(&m, 0, 3, "b", "d", 21, 30), 0);
	CHECK_EQ(add1(&m, 0, 2, "a", "z", 11, 20), 0);
	CHECK_EQ(add1(&m, 0, 4, "a", "z", 11, 20), 0);
	CHECK_EQ(m.nfiles[0], 4);
	CHECK_EQ(m.files[0][0].id, 3);
	CHECK_EQ(m.files[0][1].id, 4);
	CHECK_EQ(m.files[0][2].id, 2);
	CHECK_EQ(m.files[0][3].id, 1);
	lsm_manifest_clear(&m);
}

TEST(apply_keeps_lower_levels_sorted_by_smallest_key)
{
	struct lsm_manifest m;

	lsm_manifest_init(&m);
	CHECK_EQ(add1(&m, 1, 1, "m", "n", 1, 1), 0);
	CHECK_EQ(add1(&m, 1, 2, "x", "y", 1, 1), 0);
	CHECK_EQ(add1(&m, 1, 3, "a", "b", 1, 1), 0);
	CHECK_EQ(add1(&m, 1, 4, "c", "d", 1, 1), 0);
	CHECK_EQ(m.files[1][0].id, 3);
	CHECK_EQ(m.files[1][1].id, 4);
	CHECK_EQ(m.files[1][2].id, 1);
	CHECK_EQ(m.files[1][3].id, 2);
	lsm_manifest_clear(&m);
}

TEST(apply_refuses_an_overlapping_add_and_changes_nothing)
{
	struct lsm_manifest m, before;
	struct lsm_file f[2];
	struct lsm_edit_del d = { .level = 0, .id = 1 };
	struct lsm_edit_add a[2] = { { .level = 1, .file = &f[0] },
				     { .level = 1, .file = &f[1] } };
	struct lsm_edit e = { .del = &d, .ndel = 1, .add = a, .nadd = 2 };

	lsm_manifest_init(&m);
	CHECK_EQ(add1(&m, 0, 1, "a", "z", 1, 5), 0);
	CHECK_EQ(add1(&m, 1, 2, "c", "f", 1, 1), 0);
	CHECK_EQ(add1(&m, 1, 3, "x", "y", 1, 1), 0);
	CHECK_EQ(lsm_manifest_copy(&before, &m), 0);
	file_make(&f[0], 10, "a", "b", 1, 1);
	file_make(&f[1], 11, "f", "g", 1, 1); /* shares "f" with id 2 */
	CHECK_EQ(lsm_manifest_apply(&m, &e), -EINVAL);
	CHECK(manifest_equal(&m, &before));
	lsm_file_clear(&f[1]);
	file_make(&f[1], 11, "g", "h", 1, 1);
	CHECK_EQ(lsm_manifest_apply(&m, &e), 0);
	CHECK_EQ(m.nfiles[0], 0);
	CHECK_EQ(m.nfiles[1], 4);
	CHECK_EQ(m.files[1][0].id, 10);
	CHECK_EQ(m.files[1][2].id, 11);
	lsm_file_clear(&f[0]);
	lsm_file_clear(&f[1]);
	lsm_manifest_clear(&m);
	lsm_manifest_clear(&before);
}

TEST(apply_refuses_a_missing_or_repeated_delete)
{
	struct lsm_manifest m, before;
	struct lsm_edit_del d[2] = { { .level = 1, .id = 1 },
				     { .level = 1, .id = 1 } };
	struct lsm_edit e = { .del = d, .ndel = 2 };

	lsm_manifest_init(&m);
	CHECK_EQ(add1(&m, 1, 1, "a", "b", 1, 1), 0);
	CHECK_EQ(lsm_manifest_copy(&before, &m), 0);
	CHECK_EQ(lsm_manifest_apply(&m, &e), -EINVAL);
	CHECK_EQ(del1(&m, 2, 1), -EINVAL);
	CHECK_EQ(del1(&m, 1, 9), -EINVAL);
	CHECK_EQ(del1(&m, LSM_LEVELS, 1), -EINVAL);
	CHECK(manifest_equal(&m, &before));
	CHECK_EQ(del1(&m, 1, 1), 0);
	CHECK_EQ(m.nfiles[1], 0);
	lsm_manifest_clear(&m);
	lsm_manifest_clear(&before);
}

TEST(apply_moves_a_file_down_a_level_in_one_edit)
{
	struct lsm_manifest m;
	struct lsm_file f;
	struct lsm_edit_del d = { .level = 1, .id = 1 };
	struct lsm_edit_add a = { .level = 2, .file = &f };
	struct lsm_edit e = { .del = &d, .ndel = 1, .add = &a, .nadd = 1 };

	lsm_manifest_init(&m);
	CHECK_EQ(add1(&m, 1, 1, "a", "b", 1, 1), 0);
	CHECK_EQ(lsm_file_copy(&f, &m.files[1][0]), 0);
	CHECK_EQ(lsm_manifest_apply(&m, &e), 0);
	CHECK_EQ(m.nfiles[1], 0);
	CHECK_EQ(m.nfiles[2], 1);
	CHECK(file_equal(&m.files[2][0], &f));
	lsm_file_clear(&f);
	lsm_manifest_clear(&m);
}

TEST(apply_refuses_an_id_already_present)
{
	struct lsm_manifest m;

	lsm_manifest_init(&m);
	CHECK_EQ(add1(&m, 1, 1, "a", "b", 1, 1), 0);
	CHECK_EQ(add1(&m, 2, 1, "a", "b", 1, 1), -EINVAL);
	CHECK_EQ(add1(&m, 0, 1, "a", "b", 1, 1), -EINVAL);
	CHECK_EQ(m.nfiles[0] + m.nfiles[2], 0);
	lsm_manifest_clear(&m);
}

TEST(the_owner_of_a_seq_is_the_last_entry_at_or_below_it)
{
	struct lsm_owner o[3] = { { .epoch = 1, .first_seq = 1 },
				  { .epoch = 4, .first_seq = 100 },
				  { .epoch = 7, .first_seq = 250 } };
	struct lsm_manifest m;

	lsm_manifest_init(&m);
	CHECK_EQ(lsm_manifest_owner(&m, 5), 0);
	m.owners = o;
	m.nowners = 3;
	CHECK_EQ(lsm_manifest_owner(&m, 0), 0);
	CHECK_EQ(lsm_manifest_owner(&m, 1), 1);
	CHECK_EQ(lsm_manifest_owner(&m, 99), 1);
	CHECK_EQ(lsm_manifest_owner(&m, 100), 4);
	CHECK_EQ(lsm_manifest_owner(&m, 249), 4);
	CHECK_EQ(lsm_manifest_owner(&m, 250), 7);
	CHECK_EQ(lsm_manifest_owner(&m, UINT64_MAX), 7);
}

TEST(names_are_zero_padded_under_the_prefix)
{
	char b[LSM_NAME_MAX];

	lsm_name_manifest("fs/", 42, b, sizeof(b));
	CHECK(strcmp(b, "fs/manifest/00000000000000000042") == 0);
	lsm_name_sst("fs/", UINT64_MAX, b, sizeof(b));
	CHECK(strcmp(b, "fs/sst/18446744073709551615") == 0);
	lsm_name_wal("fs/", 7, 3, b, sizeof(b));
	CHECK(strcmp(b, "fs/wal/00000000000000000007-0000000003") == 0);
	lsm_name_ckpt("fs/", "before-upgrade", b, sizeof(b));
	CHECK(strcmp(b, "fs/ckpt/before-upgrade") == 0);
}

TEST(parsers_read_back_what_names_write)
{
	uint64_t a = 0, b = 0;

	CHECK_EQ(lsm_parse_manifest("00000000000000000042", &a), 0);
	CHECK_EQ(a, 42);
	CHECK_EQ(lsm_parse_sst("18446744073709551615", &a), 0);
	CHECK(a == UINT64_MAX);
	CHECK_EQ(lsm_parse_wal("00000000000000000007-0000000003", &a, &b), 0);
	CHECK_EQ(a, 7);
	CHECK_EQ(b, 3);
	CHECK_EQ(lsm_parse_wal("00000000000000000000-9999999999", &a, &b), 0);
	CHECK_EQ(b, 9999999999LL);
}

TEST(parsers_refuse_anything_else)
{
	static const char *const num[] = {
		"",
		"42",
		"0000000000000000042",
		"000000000000000000420",
		"0000000000000000004x",
		"-0000000000000000042",
		" 0000000000000000042",
		"00000000000000000042.tmp",
		"18446744073709551616",
		"99999999999999999999",
	};
	static const char *const wal[] = {
		"00000000000000000007",
		"00000000000000000007-000000003",
		"00000000000000000007-00000000003",
		"00000000000000000007_0000000003",
		"0000000000000000007-00000000003",
		"00000000000000000007-000000000x",
		"00000000000000000007-0000000003/",
		"99999999999999999999-0000000003",
	};
	uint64_t a = 5, b = 6;

	for (size_t i = 0; i < sizeof(num) / sizeof(num[0]); i++) {
		CHECK_EQ(lsm_parse_manifest(num[i], &a), -EINVAL);
		CHECK_EQ(lsm_parse_sst(num[i], &a), -EINVAL);
	}
	for (size_t i = 0; i < sizeof(wal) / sizeof(wal[0]); i++)
		CHECK_EQ(lsm_parse_wal(wal[i], &a, &b), -EINVAL);
	CHECK_EQ(a, 5);
	CHECK_EQ(b, 6);
}

TEST(checkpoint_names_are_checked)
{
	char longest[LSM_CKPT_NAME_MAX + 2];

	CHECK_EQ(lsm_ckpt_name_check("nightly-2026.12_04"), 0);
	CHECK_EQ(lsm_ckpt_name_check("..."), 0);
	CHECK_EQ(lsm_ckpt_name_check(""), -EINVAL);
	CHECK_EQ(lsm_ckpt_name_check("."), -EINVAL);
	CHECK_EQ(lsm_ckpt_name_check(".."), -EINVAL);
	CHECK_EQ(lsm_ckpt_name_check("a/b"), -EINVAL);
	CHECK_EQ(lsm_ckpt_name_check("a b"), -EINVAL);
	CHECK_EQ(lsm_ckpt_name_check("caf\xc3\xa9"), -EINVAL);
	memset(longest, 'x', sizeof(longest));
	longest[LSM_CKPT_NAME_MAX] = '\0';
	CHECK_EQ(lsm_ckpt_name_check(longest), 0);
	longest[LSM_CKPT_NAME_MAX] = 'x';
	longest[LSM_CKPT_NAME_MAX + 1] = '\0';
	CHECK_EQ(lsm_ckpt_name_check(longest), -EINVAL);
}

static struct objstore *store_new(void)
{
	static int n;
	struct objstore *os = NULL;
	char url[64];

	snprintf(url, sizeof(url), "mem://lsm_manifest_test-%d", n++);
	if (objstore_open(url, &os) < 0)
		abort();
	return os;
}

static int store_manifest(struct objstore *os, const char *prefix,
			  struct lsm_manifest *m, uint64_t number)
{
	struct wire_out w = { 0 };
	char key[LSM_NAME_MAX];
	int rc;

	m->number = number;
	lsm_name_manifest(prefix, number, key, sizeof(key));
	rc = lsm_manifest_encode(m, &w);
	if (rc == 0)
		rc = objstore_put_if_absent(os, key, w.p, w.len);
	wire_out_free(&w);
	return rc;
}

TEST(load_newest_picks_the_highest_number)
{
	struct objstore *os = store_new();
	struct lsm_manifest m, d;
	uint64_t nums[] = { 3, 12, 9, 100, 11 };

	manifest_big(&m);
	lsm_manifest_init(&d);
	for (size_t i = 0; i < 5; i++)
		CHECK_EQ(store_manifest(os, "fs/", &m, nums[i]), 0);
	/* Neither another prefix nor a stray name may win. */
	CHECK_EQ(store_manifest(os, "fs2/", &m, 500), 0);
	CHECK_EQ(objstore_put(os, "fs/manifest/99999999999999999999", "x", 1),
		 0);
	CHECK_EQ(
	    objstore_put(os, "fs/manifest/00000000000000000200.tmp", "x", 1),
	    0);
	CHECK_EQ(lsm_manifest_load_newest(os, "fs/", &d), 0);
	CHECK_EQ(d.number, 100);
	m.number = 100;
	CHECK(manifest_equal(&m, &d));
	CHECK_EQ(lsm_manifest_load(os, "fs/", 9, &d), 0);
	CHECK_EQ(d.number, 9);
	CHECK_EQ(lsm_manifest_load(os, "fs/", 10, &d), -ENOENT);
	lsm_manifest_clear(&m);
	lsm_manifest_clear(&d);
	objstore_close(os);
}

TEST(load_newest_finds_nothing_in_an_empty_store)
{
	struct objstore *os = store_new();
	struct lsm_manifest d;

	lsm_manifest_init(&d);
	CHECK_EQ(lsm_manifest_load_newest(os, "fs/", &d), -ENOENT);
	CHECK_EQ(objstore_put(os, "fs/manifest/junk", "x", 1), 0);
	CHECK_EQ(lsm_manifest_load_newest(os, "fs/", &d), -ENOENT);
	objstore_close(os);
}

TEST(load_newest_refuses_a_damaged_newest_manifest)
{
	struct objstore *os = store_new();
	struct lsm_manifest m, d;
	char key[LSM_NAME_MAX];

	manifest_big(&m);
	lsm_manifest_init(&d);
	CHECK_EQ(store_manifest(os, "fs/", &m, 1), 0);
	lsm_name_manifest("fs/", 2, key, sizeof(key));
	CHECK_EQ(objstore_put(os, key, "ZFSMMAN1 damaged", 16), 0);
	CHECK_EQ(lsm_manifest_load_newest(os, "fs/", &d), -EIO);
	CHECK_EQ(d.nfiles[0], 0);
	lsm_manifest_clear(&m);
	objstore_close(os);
}

TEST(a_manifest_under_another_number_is_refused)
{
	struct objstore *os = store_new();
	struct lsm_manifest m, d;
	struct wire_out w = { 0 };
	char key[LSM_NAME_MAX];

	manifest_big(&m);
	lsm_manifest_init(&d);
	CHECK_EQ(lsm_manifest_encode(&m, &w), 0);
	lsm_name_manifest("fs/", m.number + 1, key, sizeof(key));
	CHECK_EQ(objstore_put(os, key, w.p, w.len), 0);
	CHECK_EQ(lsm_manifest_load_newest(os, "fs/", &d), -EIO);
	CHECK_EQ(lsm_manifest_load(os, "fs/", m.number + 1, &d), -EIO);
	wire_out_free(&w);
	lsm_manifest_clear(&m);
	objstore_close(os);
}

TEST_MAIN(encode_then_decode_gives_back_every_field,
	  encoding_follows_the_documented_layout,
	  encode_appends_to_what_the_buffer_holds,
	  an_empty_manifest_round_trips, every_truncation_is_rejected,
	  every_flipped_byte_is_rejected,
	  a_bad_magic_or_version_is_rejected_behind_a_good_checksum,
	  a_huge_count_is_rejected_without_allocating,
	  a_level_count_other_than_seven_is_rejected,
	  trailing_bytes_are_rejected_behind_a_good_checksum,
	  owners_out_of_order_are_rejected,
	  unsorted_files_of_a_lower_level_are_rejected,
	  overlapping_files_of_a_lower_level_are_rejected,
	  level_zero_out_of_newest_first_order_is_rejected,
	  keys_shorter_than_a_trailer_are_rejected,
	  duplicate_ids_and_ids_not_below_next_file_are_rejected,
	  a_copy_is_deep_and_equal, apply_keeps_level_zero_newest_first,
	  apply_keeps_lower_levels_sorted_by_smallest_key,
	  apply_refuses_an_overlapping_add_and_changes_nothing,
	  apply_refuses_a_missing_or_repeated_delete,
	  apply_moves_a_file_down_a_level_in_one_edit,
	  apply_refuses_an_id_already_present,
	  the_owner_of_a_seq_is_the_last_entry_at_or_below_it,
	  names_are_zero_padded_under_the_prefix,
	  parsers_read_back_what_names_write, parsers_refuse_anything_else,
	  checkpoint_names_are_checked, load_newest_picks_the_highest_number,
	  load_newest_finds_nothing_in_an_empty_store,
	  load_newest_refuses_a_damaged_newest_manifest,
	  a_manifest_under_another_number_is_refused)
