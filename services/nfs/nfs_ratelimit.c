/*
 * Rate-limited logging for events a client or a failing service can repeat
 * as fast as it likes (refused connections, services that do not answer):
 * one line per interval tells the operator it happens and how often,
 * without letting the log itself become the load.
 */
#include "nfs/nfs_gw.h"

#include <time.h>

int64_t nfs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool nfs_ratelimit_pass(struct nfs_ratelimit *rl, int64_t now_ms,
			unsigned long *dropped)
{
	bool pass;

	pthread_mutex_lock(&rl->lock);
	pass = !rl->any || now_ms - rl->last_ms >= rl->interval_ms;
	if (pass) {
		*dropped = rl->dropped;
		rl->dropped = 0;
		rl->last_ms = now_ms;
		rl->any = true;
	} else {
		rl->dropped++;
	}
	pthread_mutex_unlock(&rl->lock);
	return pass;
}
