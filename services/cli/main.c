/*
 * The zerofs command.  `zerofs init` writes a commented starting config;
 * `zerofs run -c FILE` runs every service in this one process, wired over
 * inproc://, until SIGTERM or SIGINT.  Services start in dependency order
 * (the flusher first, the NFS gateway last, so nothing is reachable before
 * what it calls is up) and stop in the reverse order, so the gateway stops
 * taking requests before the services behind it make their state durable.
 */
#include "chunk/chunk.h"
#include "config.h"
#include "flusher/flusher.h"
#include "log.h"
#include "metadata/metadata.h"
#include "nfs/nfs.h"
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZEROFS_VERSION "0.1.0"

static const char cli_usage_text[] =
    "usage: zerofs COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  init [PATH|-]   write a commented config to PATH (default\n"
    "                  ./zerofs.yaml; \"-\" for stdout), data beside it\n"
    "  run -c FILE     run every service in this process\n"
    "\n"
    "options:\n"
    "  --help          show this help\n"
    "  --version       show the version\n";

static void cli_usage(FILE *out)
{
	fputs(cli_usage_text, out);
}

/*
 * zerofs init
 */

/* The data directory for a config at path: "zerofs-data" in the absolute
 * directory that holds it (the current directory for "-"). */
static int cli_data_dir(const char *path, char *out, size_t outlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	char *abs;
	int n;

	if (strcmp(path, "-") == 0 || slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	abs = realpath(dir, NULL);
	if (abs == NULL)
		return -errno;
	n = snprintf(out, outlen, "%s/zerofs-data",
		     strcmp(abs, "/") == 0 ? "" : abs);
	free(abs);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

static int cli_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Creates path with text in it, refusing to replace an existing file. */
static int cli_write_new(const char *path, const char *text, size_t len)
{
	int fd, rc;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	rc = cli_write_all(fd, text, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		unlink(path);
	return rc;
}

/* prog is how the command was invoked (argv[0]), so the printed run
 * command works as typed, e.g. "build/bin/zerofs". */
static int cli_init(const char *prog, int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "./zerofs.yaml";
	char data_dir[PATH_MAX], text[8192];
	int len, rc;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1] != 0)) {
		cli_usage(stderr);
		return 2;
	}
	rc = cli_data_dir(path, data_dir, sizeof(data_dir));
	len = rc < 0 ? rc : config_template(data_dir, text, sizeof(text));
	if (len < 0) {
		fprintf(stderr, "zerofs: init: %s: %s\n", path, strerror(-len));
		return 1;
	}
	if (strcmp(path, "-") == 0) {
		rc = cli_write_all(STDOUT_FILENO, text, (size_t)len);
		if (rc < 0)
			fprintf(stderr, "zerofs: init: stdout: %s\n",
				strerror(-rc));
		return rc < 0 ? 1 : 0;
	}
	rc = cli_write_new(path, text, (size_t)len);
	if (rc < 0) {
		fprintf(stderr, "zerofs: init: %s: %s\n", path,
			rc == -EEXIST ? "already exists; not overwriting it"
				      : strerror(-rc));
		return 1;
	}
	printf("wrote %s (data in %s)\nstart it with: %s run -c %s\n", path,
	       data_dir, prog, path);
	return 0;
}

/*
 * zerofs run
 */

struct cli_service {
	const char *name;
	service_start_fn start;
	service_stop_fn stop;
};

/* Start order; they stop in the reverse order. */
static const struct cli_service cli_services[] = {
	{ "flusher", flusher_service_start, flusher_service_stop },
	{ "metadata", metadata_service_start, metadata_service_stop },
	{ "chunk", chunk_service_start, chunk_service_stop },
	{ "nfs", nfs_service_start, nfs_service_stop },
};

#define CLI_NSERVICES (sizeof(cli_services) / sizeof(cli_services[0]))

/* Stops the first n services, last started first.  Returns 0, or the
 * first error of a service that could not make everything durable. */
static int cli_services_stop(void **handles, size_t n)
{
	int rc = 0, err;

	while (n-- > 0) {
		log_info("zerofs: stopping %s", cli_services[n].name);
		err = cli_services[n].stop(handles[n]);
		if (err < 0) {
			log_err("zerofs: stop: %s: not everything is durable "
				"(%s)",
				cli_services[n].name, strerror(-err));
			if (rc == 0)
				rc = err;
		}
	}
	return rc;
}

/* Starts every service; if one fails, stops those already started. */
static int cli_services_start(const struct config *cfg,
			      const struct service_endpoints *ep,
			      void **handles)
{
	for (size_t i = 0; i < CLI_NSERVICES; i++) {
		int rc = cli_services[i].start(cfg, ep, &handles[i]);

		if (rc < 0) {
			log_err("zerofs: start: %s: %s", cli_services[i].name,
				strerror(-rc));
			cli_services_stop(handles, i);
			return rc;
		}
		log_info("zerofs: started %s", cli_services[i].name);
	}
	return 0;
}

static int cli_run(int argc, char **argv)
{
	void *handles[CLI_NSERVICES] = { 0 };
	struct service_endpoints ep;
	struct config cfg;
	int rc, sig;

	/* > 0: it printed the help on stdout; nothing to run. */
	rc = service_parse_args("zerofs run", argc, argv, &cfg);
	if (rc != 0)
		return rc == SERVICE_ARGS_HELP ? 0 : 2;
	service_block_signals();
	service_endpoints_inproc(&ep);
	if (cli_services_start(&cfg, &ep, handles) < 0)
		return 1;
	log_info("zerofs: running with %s (nfs on %s)", cfg.path,
		 cfg.servers.nfs.addrs[0]);
	sig = service_wait_signal();
	log_info("zerofs: stopping on %s", strsignal(sig));
	service_arm_second_signal("zerofs");
	if (cli_services_stop(handles, CLI_NSERVICES) < 0)
		return 1;
	log_info("zerofs: stopped");
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (cmd == NULL) {
		cli_usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		cli_usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("zerofs %s\n", ZEROFS_VERSION);
		return 0;
	}
	if (strcmp(cmd, "init") == 0)
		return cli_init(argv[0], argc - 1, argv + 1);
	if (strcmp(cmd, "run") == 0)
		return cli_run(argc - 1, argv + 1);
	fprintf(stderr, "zerofs: unknown command \"%s\"\n", cmd);
	cli_usage(stderr);
	return 2;
}
