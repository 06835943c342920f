/*
 * Failpoints (failpoint.h): a small table parsed from the environment,
 * counted down with atomics so that any thread may be the one to stop
 * the process.
 */
#include "failpoint.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAILPOINT_MAX	   16
#define FAILPOINT_NAME_MAX 64

struct failpoint {
	char name[FAILPOINT_NAME_MAX];
	long left;
};

int failpoint_armed;
static struct failpoint failpoints[FAILPOINT_MAX];
static int nfailpoints;

static void failpoint_parse_one(const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);
	struct failpoint *fp;
	size_t nlen;

	if (eq == NULL || nfailpoints == FAILPOINT_MAX)
		return;
	nlen = (size_t)(eq - s);
	if (nlen == 0 || nlen >= FAILPOINT_NAME_MAX)
		return;
	fp = &failpoints[nfailpoints];
	memcpy(fp->name, s, nlen);
	fp->name[nlen] = '\0';
	fp->left = strtol(eq + 1, NULL, 10);
	if (fp->left > 0)
		nfailpoints++;
}

void failpoint_init(void)
{
	const char *env = getenv("ZEROFS_FAILPOINTS");

	nfailpoints = 0;
	while (env != NULL && *env != '\0') {
		size_t n = strcspn(env, ",");

		failpoint_parse_one(env, n);
		env += n + (env[n] == ',');
	}
	failpoint_armed = nfailpoints > 0;
}

void failpoint_hit(const char *name)
{
	for (int i = 0; i < nfailpoints; i++) {
		struct failpoint *fp = &failpoints[i];

		if (strcmp(fp->name, name) != 0)
			continue;
		if (__atomic_sub_fetch(&fp->left, 1, __ATOMIC_ACQ_REL) != 0)
			continue;
		fprintf(stderr, "failpoint: %s: stopping the process\n", name);
		kill(getpid(), SIGKILL);
		pause();
	}
}
