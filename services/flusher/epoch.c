/*
 * Claiming a flusher epoch: list the epochs already taken, then create the
 * next one with put-if-absent.  Two flushers racing for one number see one
 * win and the other retry with the number after it.
 */
#include "flusher/epoch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Gives up after this many lost races in a row: a store where every
 * put-if-absent fails with EEXIST is broken, not busy. */
#define EPOCH_MAX_RACES 1000

static int epoch_highest_cb(void *arg, const char *key, uint64_t size)
{
	uint32_t *highest = arg;
	const char *digits = key + strlen(EPOCH_PREFIX);
	char *end;
	unsigned long long v;

	(void)size;
	if (strncmp(key, EPOCH_PREFIX, strlen(EPOCH_PREFIX)) != 0)
		return 0;
	errno = 0;
	v = strtoull(digits, &end, 10);
	if (errno != 0 || *end != '\0' || end == digits || v > UINT32_MAX)
		return 0; /* not ours: ignore rather than fail the start */
	if (v > *highest)
		*highest = (uint32_t)v;
	return 0;
}

int epoch_claim(struct objstore *os, uint32_t *epoch)
{
	uint32_t next, highest = 0;
	char key[64], body[64];
	int rc, len;

	rc = objstore_list(os, EPOCH_PREFIX, epoch_highest_cb, &highest);
	if (rc < 0)
		return rc;
	len = snprintf(body, sizeof(body), "claimed %lld\n",
		       (long long)time(NULL));
	next = highest;
	for (int race = 0; race < EPOCH_MAX_RACES; race++) {
		if (next == UINT32_MAX)
			return -EOVERFLOW;
		next++;
		snprintf(key, sizeof(key), EPOCH_PREFIX "%010u", next);
		rc = objstore_put_if_absent(os, key, body, (size_t)len);
		if (rc == 0) {
			*epoch = next;
			return 0;
		}
		if (rc != -EEXIST)
			return rc;
	}
	return -EEXIST;
}
