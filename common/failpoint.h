/*
 * Failpoints: named places in the code where a crash test can stop the
 * process dead.  ZEROFS_FAILPOINTS="name=N[,name=N...]" in the
 * environment makes the Nth pass through failpoint `name` kill the
 * process with SIGKILL, as a power cut would: nothing after it runs, no
 * buffer is flushed.  Unset (the normal case), a failpoint costs one
 * load and a branch.
 */
#ifndef ZEROFS_FAILPOINT_H
#define ZEROFS_FAILPOINT_H

extern int failpoint_armed;

void failpoint_hit(const char *name);

#define FAILPOINT(name)                                                        \
	do {                                                                   \
		if (failpoint_armed)                                           \
			failpoint_hit(name);                                   \
	} while (0)

/* Reads ZEROFS_FAILPOINTS; called once before the first FAILPOINT (the
 * service main and the test programs do). */
void failpoint_init(void);

#endif
