/*
 * Process plumbing shared by the service binaries and `zerofs run`.
 */
#include "service.h"

#include "log.h"

#include <errno.h>
#include <getopt.h>
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

void service_request_stop(void)
{
	kill(getpid(), SIGTERM);
}

static void service_usage(const char *prog, FILE *out)
{
	fprintf(out,
		"usage: %s -c FILE\n"
		"  -c FILE     the zerofs config file (`zerofs init` writes "
		"one)\n"
		"  -h, --help  show this help\n",
		prog);
}

/* Reports a bad command line on stderr, with the usage; returns -1. */
static int service_args_fail(const char *prog, const char *what,
			     const char *arg)
{
	fprintf(stderr, "%s: %s%s%s%s\n", prog, what, arg ? " '" : "",
		arg ? arg : "", arg ? "'" : "");
	service_usage(prog, stderr);
	return -1;
}

/* Reports the option getopt just refused: a short one by its letter
 * (it may sit inside a cluster like "-xc"), a long one as written. */
static int service_args_unknown(const char *prog, char **argv)
{
	char opt[3];

	if (optopt == 0)
		return service_args_fail(prog, "unknown option",
					 argv[optind - 1]);
	snprintf(opt, sizeof(opt), "-%c", optopt);
	return service_args_fail(prog, "unknown option", opt);
}

/* Returns 0 with the config loaded, SERVICE_ARGS_HELP after printing the
 * help on stdout, or -1 after printing what is wrong on stderr. */
static void *second_signal_main(void *arg)
{
	const char *name = arg;
	int sig = service_wait_signal();

	log_err("%s: %s during stop: exiting without storing what is held",
		name, strsignal(sig));
	_exit(1);
}

void service_arm_second_signal(const char *name)
{
	pthread_t th;

	if (pthread_create(&th, NULL, second_signal_main, (void *)name) == 0)
		pthread_detach(th);
	log_info("%s: stopping; a second signal exits without waiting for "
		 "the store",
		 name);
}

int service_parse_args(const char *prog, int argc, char **argv,
		       struct config *cfg)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	char err[512];
	int opt, rc;

	optind = 1;
	opterr = 0; /* the messages below say it better than getopt */
	while ((opt = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			service_usage(prog, stdout);
			return SERVICE_ARGS_HELP;
		}
		if (opt == 'c')
			path = optarg;
		else if (opt == ':')
			return service_args_fail(prog, "-c needs a FILE", NULL);
		else
			return service_args_unknown(prog, argv);
	}
	if (optind != argc)
		return service_args_fail(prog, "unexpected argument",
					 argv[optind]);
	if (path == NULL)
		return service_args_fail(prog, "-c FILE is required", NULL);
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

	rc = service_parse_args(name, argc, argv, &cfg);
	if (rc == SERVICE_ARGS_HELP)
		return 0;
	if (rc < 0)
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
	service_arm_second_signal(name);
	rc = stop(handle);
	if (rc < 0) {
		log_err("%s: stop: not everything is durable (%s)", name,
			strerror(-rc));
		return 1;
	}
	log_info("%s: stopped", name);
	return 0;
}
