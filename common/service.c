/*
 * Process plumbing shared by the service binaries and `zerofs run`.
 */
#include "service.h"

#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void service_endpoints_from_config(const struct config *cfg,
				   struct service_endpoints *ep)
{
	snprintf(ep->metadata, sizeof(ep->metadata), "%s",
		 cfg->services.metadata);
	snprintf(ep->chunk, sizeof(ep->chunk), "%s", cfg->services.chunk);
	snprintf(ep->flusher, sizeof(ep->flusher), "%s", cfg->services.flusher);
}

void service_endpoints_inproc(struct service_endpoints *ep)
{
	snprintf(ep->metadata, sizeof(ep->metadata), "inproc://metadata");
	snprintf(ep->chunk, sizeof(ep->chunk), "inproc://chunk");
	snprintf(ep->flusher, sizeof(ep->flusher), "inproc://flusher");
}

void service_block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int service_wait_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	while (sigwait(&set, &sig) != 0)
		;
	return sig;
}

int service_parse_args(const char *prog, int argc, char **argv,
		       struct config *cfg)
{
	const char *path = NULL;
	char err[512];
	int opt, rc;

	optind = 1;
	while ((opt = getopt(argc, argv, "c:h")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s -c FILE\n", prog);
			return -1;
		}
	}
	if (path == NULL || optind != argc) {
		fprintf(stderr, "usage: %s -c FILE\n", prog);
		return -1;
	}
	rc = config_load(path, cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return -1;
	}
	zlog_level = cfg->log.level;
	return 0;
}

int service_main(const char *name, int argc, char **argv,
		 service_start_fn start, service_stop_fn stop)
{
	struct service_endpoints ep;
	struct config cfg;
	void *handle;
	int rc, sig;

	if (service_parse_args(name, argc, argv, &cfg) < 0)
		return 2;
	service_block_signals();
	service_endpoints_from_config(&cfg, &ep);
	rc = start(&cfg, &ep, &handle);
	if (rc < 0) {
		log_err("%s: start: %s", name, strerror(-rc));
		return 1;
	}
	log_info("%s: started", name);
	sig = service_wait_signal();
	log_info("%s: stopping on %s", name, strsignal(sig));
	stop(handle);
	log_info("%s: stopped", name);
	return 0;
}
