/*
 * Tests of handles across crashes: a "crash" closes the engine without a
 * sync, so every batch since the last one is lost, as after SIGKILL.  A
 * handle handed out before it must never name an inode created after it:
 * each open takes a new generation and resumes inode numbers past the
 * stored reservation, and a create that crosses the reservation syncs
 * (after the barrier) before it returns.
 */
#include "meta_int.h"

#include "test.h"

#include <errno.h>
#include <stdio.h>

#define STARTS 20

struct env {
	struct objstore *os;
	struct kv *kv;
	struct meta_fs *fs;
	struct meta_fs_options opt;
	struct meta_handle root;
};

static void env_open(struct env *e)
{
	if (kv_open(e->os, NULL, &e->kv) < 0 ||
	    meta_fs_open(e->kv, &e->opt, &e->fs) < 0)
		abort();
	e->root = (struct meta_handle){ META_ROOT_INO, META_ROOT_GEN };
}

static void env_new(struct env *e, uint32_t reserve)
{
	static int n;
	char url[64];

	memset(e, 0, sizeof(*e));
	e->opt.chunk_size = 1 << 20;
	e->opt.max_bytes = 1ull << 30;
	e->opt.ino_reserve = reserve;
	snprintf(url, sizeof(url), "mem://meta_crash_test-%d", n++);
	if (objstore_open(url, &e->os) < 0)
		abort();
	env_open(e);
}

/* Drops everything not synced, as a killed process would. */
static void env_crash(struct env *e)
{
	meta_fs_close(e->fs);
	kv_close(e->kv);
	env_open(e);
}

static void env_free(struct env *e)
{
	meta_fs_close(e->fs);
	kv_close(e->kv);
	objstore_close(e->os);
}

static int mk(struct env *e, const char *name, struct meta_inode *out)
{
	struct meta_create c = { .type = META_REG,
				 .mode = 0644,
				 .how = META_GUARDED };
	struct meta_inode b, a;
	bool existed;

	return meta_fs_create(e->fs, &e->root, name, &c, out, &b, &a, &existed);
}

static struct meta_handle hof(const struct meta_inode *in)
{
	return (struct meta_handle){ in->ino, in->gen };
}

static uint64_t durable_seq(struct kv *kv)
{
	struct kv_stats st;

	kv_stats_get(kv, &st);
	return st.durable_seq;
}

TEST(a_handle_created_before_a_crash_is_stale_after_reopen)
{
	struct env e;
	struct meta_inode a, b, got;
	struct meta_handle ha;

	env_new(&e, 0);
	CHECK_EQ(mk(&e, "a", &a), 0);
	ha = hof(&a);
	env_crash(&e);
	CHECK_EQ(meta_fs_getattr(e.fs, &ha, &got), -ESTALE);
	CHECK_EQ(mk(&e, "b", &b), 0);
	CHECK_EQ(meta_fs_getattr(e.fs, &ha, &got), -ESTALE);
	CHECK(b.ino != a.ino || b.gen != a.gen);
	CHECK_EQ(
	    meta_fs_getattr(e.fs, &(struct meta_handle){ b.ino, b.gen }, &got),
	    0);
	env_free(&e);
}

TEST(inode_numbers_and_generations_differ_across_many_crashes)
{
	struct env e;
	struct meta_inode in[STARTS], got;

	env_new(&e, 0);
	for (int i = 0; i < STARTS; i++) {
		CHECK_EQ(mk(&e, "f", &in[i]), 0);
		env_crash(&e);
	}
	for (int i = 0; i < STARTS; i++) {
		for (int j = 0; j < i; j++) {
			CHECK(in[i].ino != in[j].ino);
			CHECK(in[i].gen != in[j].gen);
		}
		CHECK_EQ(meta_fs_getattr(
			     e.fs,
			     &(struct meta_handle){ in[i].ino, in[i].gen },
			     &got),
			 -ESTALE);
	}
	env_free(&e);
}

TEST(generations_differ_across_clean_reopens_and_the_root_keeps_its_own)
{
	struct env e;
	struct meta_inode in[STARTS], root;

	env_new(&e, 0);
	for (int i = 0; i < STARTS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		CHECK_EQ(mk(&e, name, &in[i]), 0);
		CHECK_EQ(kv_sync(e.kv, NULL, NULL, NULL), 0);
		env_crash(&e);
		CHECK_EQ(meta_fs_getattr(e.fs, &e.root, &root), 0);
		CHECK_EQ(root.gen, META_ROOT_GEN);
	}
	for (int i = 0; i < STARTS; i++) {
		struct meta_inode got;

		CHECK_EQ(meta_fs_getattr(
			     e.fs,
			     &(struct meta_handle){ in[i].ino, in[i].gen },
			     &got),
			 0);
		for (int j = 0; j < i; j++)
			CHECK(in[i].gen != in[j].gen);
	}
	env_free(&e);
}

struct barrier {
	struct kv *kv;
	int calls;
	int saw_unsynced; /* calls made before the records were stored */
};

static int barrier_cb(void *arg)
{
	struct barrier *br = arg;
	struct kv_stats st;

	kv_stats_get(br->kv, &st);
	br->calls++;
	br->saw_unsynced += st.durable_seq < st.last_seq;
	return 0;
}

TEST(a_create_past_the_reservation_syncs_after_the_barrier)
{
	struct env e;
	struct barrier br = { 0 };
	struct meta_inode in;
	uint64_t before;
	char name[16];

	env_new(&e, 4);
	meta_fs_close(e.fs);
	br.kv = e.kv;
	e.opt.before_upload = barrier_cb;
	e.opt.before_upload_arg = &br;
	CHECK_EQ(meta_fs_open(e.kv, &e.opt, &e.fs), 0);
	/* This open reserved [6, 10): four creates need no sync. */
	before = durable_seq(e.kv);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		CHECK_EQ(mk(&e, name, &in), 0);
	}
	CHECK_EQ(br.calls, 0);
	CHECK_EQ(durable_seq(e.kv), before);
	CHECK_EQ(mk(&e, "past", &in), 0);
	CHECK_EQ(in.ino, 10);
	CHECK_EQ(br.calls, 1);
	CHECK_EQ(br.saw_unsynced, 1);
	CHECK(durable_seq(e.kv) > before);
	env_free(&e);
}

TEST(numbers_past_a_synced_crossing_are_not_reused_after_a_crash)
{
	struct env e;
	struct barrier br = { 0 };
	struct meta_inode in, last = { 0 }, next;
	char name[16];

	env_new(&e, 4);
	meta_fs_close(e.fs);
	br.kv = e.kv;
	e.opt.before_upload = barrier_cb;
	e.opt.before_upload_arg = &br;
	CHECK_EQ(meta_fs_open(e.kv, &e.opt, &e.fs), 0);
	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		CHECK_EQ(mk(&e, name, &in), 0);
		if (in.ino > last.ino)
			last = in;
	}
	CHECK_EQ(br.calls, 1);
	env_crash(&e);
	CHECK_EQ(mk(&e, "after", &next), 0);
	CHECK(next.ino > last.ino);
	env_free(&e);
}

TEST(without_a_barrier_a_recurring_number_still_has_a_stale_old_handle)
{
	struct env e;
	struct meta_inode in[3], again, got;
	struct meta_handle old;

	/* Reserve 2: the third create crosses, and with no barrier it is
	 * not synced, so the crash loses the new reservation. */
	env_new(&e, 2);
	CHECK_EQ(mk(&e, "a", &in[0]), 0);
	CHECK_EQ(mk(&e, "b", &in[1]), 0);
	CHECK_EQ(mk(&e, "c", &in[2]), 0);
	old = hof(&in[2]);
	env_crash(&e);
	CHECK_EQ(mk(&e, "d", &again), 0);
	CHECK_EQ(again.ino, old.ino);
	CHECK(again.gen != old.gen);
	CHECK_EQ(meta_fs_getattr(e.fs, &old, &got), -ESTALE);
	env_free(&e);
}

TEST(a_version_1_superblock_opens_and_resumes_past_its_next_inode)
{
	struct wire_out v1 = { 0 };
	struct env e;
	struct kv_batch *b = kv_batch_new();
	struct meta_key k;
	struct meta_inode in;

	/* Version 1: gen, chunk size, next_ino, used bytes, inodes. */
	wire_out_u8(&v1, 1);
	wire_out_u32(&v1, 7);
	wire_out_u32(&v1, 1 << 20);
	wire_out_u64(&v1, 50);
	wire_out_u64(&v1, 0);
	wire_out_u64(&v1, 1);
	env_new(&e, 0);
	meta_key_super(&k);
	CHECK_EQ(kv_batch_put(b, k.b, k.len, v1.p, v1.len), 0);
	CHECK_EQ(kv_write(e.kv, b, NULL), 0);
	CHECK_EQ(kv_sync(e.kv, NULL, NULL, NULL), 0);
	kv_batch_free(b);
	wire_out_free(&v1);
	env_crash(&e);
	CHECK_EQ(mk(&e, "f", &in), 0);
	CHECK_EQ(in.ino, 50);
	CHECK_EQ(in.gen, 8);
	env_free(&e);
}

TEST(opening_on_an_engine_with_unsynced_batches_is_refused)
{
	struct env e;
	struct meta_inode in;
	struct meta_fs *fs2 = NULL;

	env_new(&e, 0);
	CHECK_EQ(mk(&e, "f", &in), 0);
	CHECK_EQ(meta_fs_open(e.kv, &e.opt, &fs2), -EINVAL);
	CHECK(fs2 == NULL);
	env_free(&e);
}

TEST_MAIN(a_handle_created_before_a_crash_is_stale_after_reopen,
	  inode_numbers_and_generations_differ_across_many_crashes,
	  generations_differ_across_clean_reopens_and_the_root_keeps_its_own,
	  a_create_past_the_reservation_syncs_after_the_barrier,
	  numbers_past_a_synced_crossing_are_not_reused_after_a_crash,
	  without_a_barrier_a_recurring_number_still_has_a_stale_old_handle,
	  a_version_1_superblock_opens_and_resumes_past_its_next_inode,
	  opening_on_an_engine_with_unsynced_batches_is_refused)
