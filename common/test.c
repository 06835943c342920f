/*
 * The runner behind TEST_MAIN.  Each case runs in order; a case fails when
 * any of its checks failed.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

int test_run(const char *file, const struct test_case *cases, int n)
{
	int passed = 0, failed = 0;

	for (int i = 0; i < n; i++) {
		int before = test_failed_checks;

		cases[i].fn();
		if (test_failed_checks == before) {
			printf("ok   %s\n", cases[i].name);
			passed++;
		} else {
			printf("FAIL %s\n", cases[i].name);
			failed++;
		}
		fflush(stdout);
	}
	printf("%s: %d passed, %d failed\n", file, passed, failed);
	return failed ? 1 : 0;
}

int test_tmpdir(const char *name, char *buf, size_t len)
{
	/* mkdtemp's template: six characters it replaces. */
	int n = snprintf(buf, len, "/tmp/%s.XXXXXX", name);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return mkdtemp(buf) != NULL ? 0 : -errno;
}
