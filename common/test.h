/*
 * A small unit-test harness.  A test file defines cases with TEST(name),
 * lists them in TEST_MAIN(...), and gets a main() that runs each case,
 * prints one line per case and closes with "N passed, N failed".
 *
 *	TEST(empty_key_is_rejected) { CHECK(put("", 0) == -EINVAL); }
 *	TEST_MAIN(empty_key_is_rejected)
 */
#ifndef ZEROFS_TEST_H
#define ZEROFS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

extern int test_failed_checks;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n",         \
				__FILE__, __LINE__, #cond);                    \
			test_failed_checks++;                                  \
		}                                                              \
	} while (0)

/* CHECK for integers: prints both values when they differ. */
#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		long long va_ = (long long)(a), vb_ = (long long)(b);          \
		if (va_ != vb_) {                                              \
			fprintf(stderr, "  %s:%d: %s == %lld, want %lld\n",    \
				__FILE__, __LINE__, #a, va_, vb_);             \
			test_failed_checks++;                                  \
		}                                                              \
	} while (0)

int test_run(const char *file, const struct test_case *cases, int n);

/* Creates a new, empty directory /tmp/NAME.<random> and writes its path
 * to buf.  Returns 0, or a negative errno. */
int test_tmpdir(const char *name, char *buf, size_t len);

#define TEST_ENTRY_(name) { #name, name },
#define TEST_MAIN(...)                                                         \
	int test_failed_checks;                                                \
	int main(void)                                                         \
	{                                                                      \
		static const struct test_case cases_[] = { TEST_FOREACH_(      \
		    TEST_ENTRY_, __VA_ARGS__) };                               \
		return test_run(__FILE__, cases_,                              \
				(int)(sizeof(cases_) / sizeof(cases_[0])));    \
	}

/* Expands M(x) for each of up to 48 arguments. */
#define TEST_FOREACH_(M, ...)                                                  \
	TEST_FE_PICK_(                                                         \
	    __VA_ARGS__, TEST_FE48_, TEST_FE47_, TEST_FE46_, TEST_FE45_,       \
	    TEST_FE44_, TEST_FE43_, TEST_FE42_, TEST_FE41_, TEST_FE40_,        \
	    TEST_FE39_, TEST_FE38_, TEST_FE37_, TEST_FE36_, TEST_FE35_,        \
	    TEST_FE34_, TEST_FE33_, TEST_FE32_, TEST_FE31_, TEST_FE30_,        \
	    TEST_FE29_, TEST_FE28_, TEST_FE27_, TEST_FE26_, TEST_FE25_,        \
	    TEST_FE24_, TEST_FE23_, TEST_FE22_, TEST_FE21_, TEST_FE20_,        \
	    TEST_FE19_, TEST_FE18_, TEST_FE17_, TEST_FE16_, TEST_FE15_,        \
	    TEST_FE14_, TEST_FE13_, TEST_FE12_, TEST_FE11_, TEST_FE10_,        \
	    TEST_FE9_, TEST_FE8_, TEST_FE7_, TEST_FE6_, TEST_FE5_, TEST_FE4_,  \
	    TEST_FE3_, TEST_FE2_, TEST_FE1_)                                   \
	(M, __VA_ARGS__)
#define TEST_FE_PICK_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13,  \
		      _14, _15, _16, _17, _18, _19, _20, _21, _22, _23, _24,   \
		      _25, _26, _27, _28, _29, _30, _31, _32, _33, _34, _35,   \
		      _36, _37, _38, _39, _40, _41, _42, _43, _44, _45, _46,   \
		      _47, _48, N, ...)                                        \
	N
#define TEST_FE1_(M, a)	      M(a)
#define TEST_FE2_(M, a, ...)  M(a) TEST_FE1_(M, __VA_ARGS__)
#define TEST_FE3_(M, a, ...)  M(a) TEST_FE2_(M, __VA_ARGS__)
#define TEST_FE4_(M, a, ...)  M(a) TEST_FE3_(M, __VA_ARGS__)
#define TEST_FE5_(M, a, ...)  M(a) TEST_FE4_(M, __VA_ARGS__)
#define TEST_FE6_(M, a, ...)  M(a) TEST_FE5_(M, __VA_ARGS__)
#define TEST_FE7_(M, a, ...)  M(a) TEST_FE6_(M, __VA_ARGS__)
#define TEST_FE8_(M, a, ...)  M(a) TEST_FE7_(M, __VA_ARGS__)
#define TEST_FE9_(M, a, ...)  M(a) TEST_FE8_(M, __VA_ARGS__)
#define TEST_FE10_(M, a, ...) M(a) TEST_FE9_(M, __VA_ARGS__)
#define TEST_FE11_(M, a, ...) M(a) TEST_FE10_(M, __VA_ARGS__)
#define TEST_FE12_(M, a, ...) M(a) TEST_FE11_(M, __VA_ARGS__)
#define TEST_FE13_(M, a, ...) M(a) TEST_FE12_(M, __VA_ARGS__)
#define TEST_FE14_(M, a, ...) M(a) TEST_FE13_(M, __VA_ARGS__)
#define TEST_FE15_(M, a, ...) M(a) TEST_FE14_(M, __VA_ARGS__)
#define TEST_FE16_(M, a, ...) M(a) TEST_FE15_(M, __VA_ARGS__)
#define TEST_FE17_(M, a, ...) M(a) TEST_FE16_(M, __VA_ARGS__)
#define TEST_FE18_(M, a, ...) M(a) TEST_FE17_(M, __VA_ARGS__)
#define TEST_FE19_(M, a, ...) M(a) TEST_FE18_(M, __VA_ARGS__)
#define TEST_FE20_(M, a, ...) M(a) TEST_FE19_(M, __VA_ARGS__)
#define TEST_FE21_(M, a, ...) M(a) TEST_FE20_(M, __VA_ARGS__)
#define TEST_FE22_(M, a, ...) M(a) TEST_FE21_(M, __VA_ARGS__)
#define TEST_FE23_(M, a, ...) M(a) TEST_FE22_(M, __VA_ARGS__)
#define TEST_FE24_(M, a, ...) M(a) TEST_FE23_(M, __VA_ARGS__)
#define TEST_FE25_(M, a, ...) M(a) TEST_FE24_(M, __VA_ARGS__)
#define TEST_FE26_(M, a, ...) M(a) TEST_FE25_(M, __VA_ARGS__)
#define TEST_FE27_(M, a, ...) M(a) TEST_FE26_(M, __VA_ARGS__)
#define TEST_FE28_(M, a, ...) M(a) TEST_FE27_(M, __VA_ARGS__)
#define TEST_FE29_(M, a, ...) M(a) TEST_FE28_(M, __VA_ARGS__)
#define TEST_FE30_(M, a, ...) M(a) TEST_FE29_(M, __VA_ARGS__)
#define TEST_FE31_(M, a, ...) M(a) TEST_FE30_(M, __VA_ARGS__)
#define TEST_FE32_(M, a, ...) M(a) TEST_FE31_(M, __VA_ARGS__)
#define TEST_FE33_(M, a, ...) M(a) TEST_FE32_(M, __VA_ARGS__)
#define TEST_FE34_(M, a, ...) M(a) TEST_FE33_(M, __VA_ARGS__)
#define TEST_FE35_(M, a, ...) M(a) TEST_FE34_(M, __VA_ARGS__)
#define TEST_FE36_(M, a, ...) M(a) TEST_FE35_(M, __VA_ARGS__)
#define TEST_FE37_(M, a, ...) M(a) TEST_FE36_(M, __VA_ARGS__)
#define TEST_FE38_(M, a, ...) M(a) TEST_FE37_(M, __VA_ARGS__)
#define TEST_FE39_(M, a, ...) M(a) TEST_FE38_(M, __VA_ARGS__)
#define TEST_FE40_(M, a, ...) M(a) TEST_FE39_(M, __VA_ARGS__)
#define TEST_FE41_(M, a, ...) M(a) TEST_FE40_(M, __VA_ARGS__)
#define TEST_FE42_(M, a, ...) M(a) TEST_FE41_(M, __VA_ARGS__)
#define TEST_FE43_(M, a, ...) M(a) TEST_FE42_(M, __VA_ARGS__)
#define TEST_FE44_(M, a, ...) M(a) TEST_FE43_(M, __VA_ARGS__)
#define TEST_FE45_(M, a, ...) M(a) TEST_FE44_(M, __VA_ARGS__)
#define TEST_FE46_(M, a, ...) M(a) TEST_FE45_(M, __VA_ARGS__)
#define TEST_FE47_(M, a, ...) M(a) TEST_FE46_(M, __VA_ARGS__)
#define TEST_FE48_(M, a, ...) M(a) TEST_FE47_(M, __VA_ARGS__)

#endif
