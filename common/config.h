/*
 * The configuration file: YAML with the sections cache, storage,
 * filesystem, servers.nfs, lsm, services and log.  "${VAR}" anywhere in a
 * scalar is replaced from the environment; an unset variable, an unknown
 * key, a value of the wrong type or out of range fails the load with an
 * error that names the file, the line and the key.
 */
#ifndef ZEROFS_CONFIG_H
#define ZEROFS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_ADDRS 8
#define CONFIG_STR	 1024

struct config_listen {
	char addrs[CONFIG_MAX_ADDRS][128]; /* "host:port" */
	int naddrs;
};

struct config {
	char path[CONFIG_STR]; /* the file it came from */
	struct {
		char dir[CONFIG_STR];
		double disk_size_gb;
		double memory_size_gb;
	} cache;
	struct {
		char url[CONFIG_STR]; /* file:///abs/dir or mem://name */
	} storage;
	struct {
		double max_size_gb;
		uint32_t chunk_size; /* bytes; fixed when the fs is created */
	} filesystem;
	struct {
		struct config_listen nfs;
	} servers;
	struct {
		double flush_interval_secs; /* periodic durability barrier */
		uint32_t checkpoint_every;  /* accepted; no longer used */
		uint32_t memtable_size_mb; /* a memtable is flushed past this */
		uint32_t max_concurrent_compactions;
		double gc_grace_secs; /* unreferenced objects live this long */
	} lsm;
	struct {
		/* Where each service listens and is reached when it runs as
		 * its own process: tcp://host:port or ipc:///path. */
		char metadata[CONFIG_STR];
		char chunk[CONFIG_STR];
		char flusher[CONFIG_STR];
	} services;
	struct {
		int level; /* syslog level */
	} log;
};

/* Fills cfg with the defaults that `zerofs init` writes (data under
 * data_dir). */
void config_defaults(struct config *cfg, const char *data_dir);

/* Loads path into cfg.  On failure returns a negative errno and writes one
 * line to err: "FILE:LINE: KEY: reason", or "FILE: cannot open: reason"
 * when the file cannot be read at all. */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);

/* Writes the commented starting file for `zerofs init` to buf, with its
 * data and cache under data_dir.  Returns the length, or -ENOSPC. */
int config_template(const char *data_dir, char *buf, size_t len);

/* Splits "host:port" into its parts; returns 0 or -EINVAL. */
int config_split_addr(const char *addr, char *host, size_t hostlen, int *port);

#endif
