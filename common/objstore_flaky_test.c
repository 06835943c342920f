/*
 * Tests of the fault-injecting store: each kind of fault has the effect
 * the header promises on the store underneath, rates change live, the
 * same seed gives the same faults, and closing it leaves the inner store
 * open.
 */
#include "objstore_flaky.h"

#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

static struct objstore *inner_new(void)
{
	static int n;
	struct objstore *os = NULL;
	char url[64];

	snprintf(url, sizeof(url), "mem://objstore_flaky_test-%d", n++);
	if (objstore_open(url, &os) < 0)
		abort();
	return os;
}

static struct objstore *flaky_new(struct objstore *inner,
				  struct objstore_flaky_opts o)
{
	struct objstore *os = NULL;

	if (objstore_flaky_new(inner, &o, &os) < 0)
		abort();
	return os;
}

static int exists(struct objstore *os, const char *key)
{
	void *data = NULL;
	size_t len = 0;

	if (objstore_get(os, key, &data, &len) < 0)
		return 0;
	free(data);
	return 1;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

TEST(a_store_without_faults_passes_every_request_through)
{
	struct objstore *in = inner_new();
	struct objstore *os = flaky_new(in, (struct objstore_flaky_opts){ 0 });
	struct objstore_flaky_stats st;
	void *data = NULL;
	size_t len = 0;

	CHECK_EQ(objstore_put(os, "a", "xyz", 3), 0);
	CHECK_EQ(objstore_put_if_absent(os, "a", "q", 1), -EEXIST);
	CHECK_EQ(objstore_get(os, "a", &data, &len), 0);
	CHECK(len == 3 && data != NULL && memcmp(data, "xyz", 3) == 0);
	free(data);
	CHECK_EQ(objstore_get(os, "missing", &data, &len), -ENOENT);
	CHECK_EQ(objstore_del(os, "a"), 0);
	CHECK(!exists(in, "a"));
	objstore_flaky_stats(os, &st);
	CHECK_EQ(st.calls, 5);
	CHECK_EQ(st.failed + st.lost + st.delayed, 0);
	objstore_close(os);
	objstore_close(in);
}

TEST(a_failed_put_stores_nothing_and_returns_eio)
{
	struct objstore *in = inner_new();
	struct objstore *os =
	    flaky_new(in, (struct objstore_flaky_opts){ .fail_rate = 1.0 });
	struct objstore_flaky_stats st;

	CHECK_EQ(objstore_put(os, "a", "1", 1), -EIO);
	CHECK(!exists(in, "a"));
	objstore_flaky_stats(os, &st);
	CHECK_EQ(st.failed, 1);
	objstore_close(os);
	objstore_close(in);
}

TEST(a_failed_delete_leaves_the_object_in_place)
{
	struct objstore *in = inner_new();
	struct objstore *os =
	    flaky_new(in, (struct objstore_flaky_opts){ .fail_rate = 1.0 });

	CHECK_EQ(objstore_put(in, "a", "1", 1), 0);
	CHECK_EQ(objstore_del(os, "a"), -EIO);
	CHECK(exists(in, "a"));
	objstore_close(os);
	objstore_close(in);
}

TEST(a_lost_put_is_stored_yet_answers_eio)
{
	struct objstore *in = inner_new();
	struct objstore *os =
	    flaky_new(in, (struct objstore_flaky_opts){ .lost_rate = 1.0 });
	struct objstore_flaky_stats st;

	CHECK_EQ(objstore_put_if_absent(os, "a", "1", 1), -EIO);
	CHECK(exists(in, "a"));
	CHECK_EQ(objstore_put(in, "b", "2", 1), 0);
	CHECK_EQ(objstore_del(os, "b"), -EIO);
	CHECK(!exists(in, "b"));
	objstore_flaky_stats(os, &st);
	CHECK_EQ(st.lost, 2);
	CHECK_EQ(st.failed, 0);
	objstore_close(os);
	objstore_close(in);
}

TEST(a_lost_reply_to_a_read_returns_eio_and_no_data)
{
	struct objstore *in = inner_new();
	struct objstore *os =
	    flaky_new(in, (struct objstore_flaky_opts){ .lost_rate = 1.0 });
	void *data = (void *)1;
	size_t len = 7, got = 7;
	char buf[4];

	CHECK_EQ(objstore_put(in, "a", "1234", 4), 0);
	CHECK_EQ(objstore_get(os, "a", &data, &len), -EIO);
	CHECK(data == NULL);
	CHECK_EQ(len, 0);
	CHECK_EQ(objstore_get_range(os, "a", 0, 4, buf, &got), -EIO);
	CHECK_EQ(got, 0);
	objstore_close(os);
	objstore_close(in);
}

TEST(a_delayed_request_takes_at_least_the_delay_and_then_succeeds)
{
	struct objstore *in = inner_new();
	struct objstore *os =
	    flaky_new(in, (struct objstore_flaky_opts){ .delay_rate = 1.0,
							.delay_ms = 50 });
	struct objstore_flaky_stats st;
	double t0 = now_ms();

	CHECK_EQ(objstore_put(os, "a", "1", 1), 0);
	CHECK(now_ms() - t0 >= 50.0);
	CHECK(exists(in, "a"));
	objstore_flaky_stats(os, &st);
	CHECK_EQ(st.delayed, 1);
	objstore_close(os);
	objstore_close(in);
}

TEST(a_timed_out_request_waits_then_fails_with_etimedout_unsent)
{
	struct objstore *in = inner_new();
	struct objstore *os = flaky_new(
	    in, (struct objstore_flaky_opts){
		    .delay_rate = 1.0, .delay_ms = 30, .timeout = 1 });
	double t0 = now_ms();

	CHECK_EQ(objstore_put(os, "a", "1", 1), -ETIMEDOUT);
	CHECK(now_ms() - t0 >= 30.0);
	CHECK(!exists(in, "a"));
	objstore_close(os);
	objstore_close(in);
}

static int list_count_cb(void *arg, const char *key, uint64_t size)
{
	(void)key;
	(void)size;
	(*(int *)arg)++;
	return 0;
}

TEST(a_failed_listing_calls_back_nothing)
{
	struct objstore *in = inner_new();
	struct objstore *os =
	    flaky_new(in, (struct objstore_flaky_opts){ .fail_rate = 1.0 });
	int n = 0;

	CHECK_EQ(objstore_put(in, "x/a", "1", 1), 0);
	CHECK_EQ(objstore_list(os, "x/", list_count_cb, &n), -EIO);
	CHECK_EQ(n, 0);
	objstore_close(os);
	objstore_close(in);
}

/* Runs 400 puts through a store with these rates; writes each result
 * into out and returns how many were stored in the inner store. */
static int run_puts(uint64_t seed, int *out)
{
	struct objstore *in = inner_new();
	struct objstore *os = flaky_new(
	    in, (struct objstore_flaky_opts){
		    .fail_rate = 0.2, .lost_rate = 0.1, .seed = seed });
	int stored = 0;

	for (int i = 0; i < 400; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%d", i);
		out[i] = objstore_put(os, key, "v", 1);
		stored += exists(in, key);
	}
	objstore_close(os);
	objstore_close(in);
	return stored;
}

TEST(the_same_seed_gives_the_same_faults_and_another_seed_others)
{
	int a[400], b[400], c[400];
	int sa = run_puts(42, a), sb = run_puts(42, b);
	int fails = 0;

	CHECK(memcmp(a, b, sizeof(a)) == 0);
	CHECK_EQ(sa, sb);
	run_puts(43, c);
	CHECK(memcmp(a, c, sizeof(a)) != 0);
	for (int i = 0; i < 400; i++)
		fails += a[i] != 0;
	/* 30 % of 400 fail in some way; 120 +- a generous margin. */
	CHECK(fails > 70 && fails < 170);
	/* Lost puts are stored: a third of the failures. */
	CHECK(sa > 400 - fails && sa < 400);
}

TEST(changing_the_rates_live_heals_and_breaks_the_store)
{
	struct objstore *in = inner_new();
	struct objstore_flaky_opts o = { .fail_rate = 1.0, .seed = 7 };
	struct objstore *os = flaky_new(in, o);

	CHECK_EQ(objstore_put(os, "a", "1", 1), -EIO);
	o.fail_rate = 0;
	objstore_flaky_set(os, &o);
	CHECK_EQ(objstore_put(os, "a", "1", 1), 0);
	o.fail_rate = 1.0;
	objstore_flaky_set(os, &o);
	CHECK_EQ(objstore_put(os, "b", "1", 1), -EIO);
	CHECK(exists(in, "a"));
	CHECK(!exists(in, "b"));
	objstore_close(os);
	objstore_close(in);
}

TEST(closing_the_wrapper_leaves_the_inner_store_usable)
{
	struct objstore *in = inner_new();
	struct objstore *os = flaky_new(in, (struct objstore_flaky_opts){ 0 });

	CHECK_EQ(objstore_put(os, "a", "1", 1), 0);
	objstore_close(os);
	CHECK(exists(in, "a"));
	CHECK_EQ(objstore_put(in, "b", "2", 1), 0);
	objstore_close(in);
}

TEST_MAIN(a_store_without_faults_passes_every_request_through,
	  a_failed_put_stores_nothing_and_returns_eio,
	  a_failed_delete_leaves_the_object_in_place,
	  a_lost_put_is_stored_yet_answers_eio,
	  a_lost_reply_to_a_read_returns_eio_and_no_data,
	  a_delayed_request_takes_at_least_the_delay_and_then_succeeds,
	  a_timed_out_request_waits_then_fails_with_etimedout_unsent,
	  a_failed_listing_calls_back_nothing,
	  the_same_seed_gives_the_same_faults_and_another_seed_others,
	  changing_the_rates_live_heals_and_breaks_the_store,
	  closing_the_wrapper_leaves_the_inner_store_usable)
