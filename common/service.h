/*
 * What every service shares: where the other services are reached, and
 * the main() of a service that runs as its own process.
 *
 * A service is a library with a start and a stop.  `zerofs run` starts all
 * of them in one process, wired over inproc://; each service's own binary
 * starts just that one, wired over the tcp:// or ipc:// URLs of the
 * config's `services` section.
 */
#ifndef ZEROFS_SERVICE_H
#define ZEROFS_SERVICE_H

#include "config.h"

struct service_endpoints {
	char metadata[CONFIG_STR];
	char chunk[CONFIG_STR];
	char flusher[CONFIG_STR];
};

void service_endpoints_from_config(const struct config *cfg,
				   struct service_endpoints *ep);
void service_endpoints_inproc(struct service_endpoints *ep);

/* A service's start and stop.  start returns 0 or a negative errno and
 * leaves the service running in its own threads; stop makes everything
 * the service acknowledged durable, then frees it, and returns 0, or a
 * negative errno when something it held could not be made durable. */
typedef int (*service_start_fn)(const struct config *cfg,
				const struct service_endpoints *ep,
				void **handle);
typedef int (*service_stop_fn)(void *handle);

/* Blocks SIGTERM, SIGINT and SIGPIPE in the calling thread (and so in
 * every thread it starts afterwards). */
void service_block_signals(void);

/* Waits for SIGTERM or SIGINT and returns the signal number. */
int service_wait_signal(void);

/* Asks this process to stop as if it had been sent SIGTERM: the waiting
 * main() then stops every service the usual way.  For a service that can
 * no longer do its work at all (a fenced metadata writer). */
void service_request_stop(void);

/* Called once stopping has begun: a second SIGTERM or SIGINT then ends
 * the process at once with exit status 1, for when stopping waits on a
 * store that does not answer.  What was not yet stored stays unstored;
 * what was acknowledged as durable is already in the store. */
void service_arm_second_signal(const char *name);

/* service_parse_args' answer when -h or --help printed the usage. */
#define SERVICE_ARGS_HELP 1

/* Loads the config named by "-c FILE" in argv, sets the log level, and
 * fills cfg.  Returns 0; SERVICE_ARGS_HELP after printing the usage on
 * stdout; or -1 after printing the usage or the config error on stderr.
 */
int service_parse_args(const char *prog, int argc, char **argv,
		       struct config *cfg);

/* main() of a one-service binary: parse args, start, wait for a signal,
 * stop, exit 0 (1 if it could not start or could not stop cleanly). */
int service_main(const char *name, int argc, char **argv,
		 service_start_fn start, service_stop_fn stop);

#endif
