/*
 * The configuration file loader.  libyaml parses the file into a document;
 * the loader walks its mappings against a table of known keys, each with a
 * setter that checks and stores one value, so every error can name the
 * file, the line of the offending node and the key's dotted path.  The
 * loader starts from the defaults (data under "zerofs-data" beside the
 * file, as `zerofs init` lays it out) and overrides what the file sets.
 */
#include "config.h"

#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define CONFIG_PATH_MAX 128 /* longest dotted key path */

/* Copies src into a zeroed dst; fails if it does not fit. */
static int config_str_set(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -ENAMETOOLONG;
	memset(dst, 0, size);
	memcpy(dst, src, n);
	return 0;
}

void config_defaults(struct config *cfg, const char *data_dir)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->cache.dir, sizeof(cfg->cache.dir), "%s/cache", data_dir);
	cfg->cache.disk_size_gb = 10;
	cfg->cache.memory_size_gb = 1;
	snprintf(cfg->storage.url, sizeof(cfg->storage.url), "file://%s/data",
		 data_dir);
	cfg->filesystem.max_size_gb = 100;
	cfg->filesystem.chunk_size = 256 * 1024;
	snprintf(cfg->servers.nfs.addrs[0], sizeof(cfg->servers.nfs.addrs[0]),
		 "127.0.0.1:2049");
	cfg->servers.nfs.naddrs = 1;
	cfg->lsm.flush_interval_secs = 30;
	cfg->lsm.checkpoint_every = 64;
	cfg->lsm.memtable_size_mb = 32;
	cfg->lsm.max_concurrent_compactions = 1;
	cfg->lsm.gc_grace_secs = 600;
	snprintf(cfg->services.metadata, sizeof(cfg->services.metadata),
		 "tcp://127.0.0.1:7101");
	snprintf(cfg->services.chunk, sizeof(cfg->services.chunk),
		 "tcp://127.0.0.1:7102");
	snprintf(cfg->services.flusher, sizeof(cfg->services.flusher),
		 "tcp://127.0.0.1:7103");
	cfg->log.level = LOG_INFO;
}

/* Parses "65535"-style ports: digits only, 1..65535. */
static int config_port_parse(const char *s, int *port)
{
	long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*port = (int)v;
	return 0;
}

int config_split_addr(const char *addr, char *host, size_t hostlen, int *port)
{
	const char *colon, *hstart = addr;
	size_t hlen;
	int p;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		hstart = addr + 1;
		hlen = (size_t)(close - hstart);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL)
			return -EINVAL;
		hlen = (size_t)(colon - addr);
		if (memchr(addr, ':', hlen) != NULL)
			return -EINVAL; /* IPv6 needs brackets */
	}
	if (hlen == 0 || memchr(hstart, '[', hlen) || memchr(hstart, ']', hlen))
		return -EINVAL;
	if (config_port_parse(colon + 1, &p) < 0)
		return -EINVAL;
	if (host != NULL) {
		if (hlen >= hostlen)
			return -EINVAL;
		memcpy(host, hstart, hlen);
		host[hlen] = '\0';
	}
	if (port != NULL)
		*port = p;
	return 0;
}

/*
 * Value checks.  Each setter returns 0, or -EINVAL with *why saying what
 * the value must be.  Every number has an upper bound as well as a lower
 * one: a huge value is a typo, and it would overflow the integer types the
 * services convert it to (a flush interval of 1e20 seconds wraps time_t).
 */
#define CONFIG_MAX_GB	    1e6	  /* sizes in GB */
#define CONFIG_MAX_INTERVAL 86400 /* seconds: one day */
#define CONFIG_MAX_COUNT    1e6	  /* counts such as checkpoint_every */

static const char config_not_number[] = "is not a number";

/* Parses a whole scalar as a number; overflow parses as an infinity,
 * which the caller's upper bound then rejects.  Blanks around the digits
 * (possible only when quoted) are refused at both ends alike. */
static int config_number(const char *v, double *out)
{
	char *end;

	if (isspace((unsigned char)v[0]))
		return -EINVAL;
	*out = strtod(v, &end);
	if (end == v || *end != '\0' || isnan(*out))
		return -EINVAL;
	return 0;
}

/* A number in [min, max], or in (min, max] when !inclusive; range is the
 * message for a number outside it. */
static int config_number_in(const char *v, double min, int inclusive,
			    double max, const char *range, double *out,
			    const char **why)
{
	double d;

	if (config_number(v, &d) < 0) {
		*why = config_not_number;
		return -EINVAL;
	}
	if (d < min || (!inclusive && d == min) || d > max) {
		*why = range;
		return -EINVAL;
	}
	*out = d;
	return 0;
}

/* A whole number in [min, max]; range is the message otherwise. */
static int config_integer_in(const char *v, double min, double max,
			     const char *range, long *out, const char **why)
{
	double d;

	if (config_number_in(v, min, 1, max, range, &d, why) < 0)
		return -EINVAL;
	if (d != floor(d)) {
		*why = range;
		return -EINVAL;
	}
	*out = (long)d;
	return 0;
}

static int set_cache_dir(struct config *cfg, int i, const char *v,
			 const char **why)
{
	(void)i;
	if (v[0] != '/') {
		*why = "must be an absolute path";
		return -EINVAL;
	}
	if (config_str_set(cfg->cache.dir, sizeof(cfg->cache.dir), v) < 0) {
		*why = "is too long";
		return -EINVAL;
	}
	return 0;
}

static int set_cache_disk(struct config *cfg, int i, const char *v,
			  const char **why)
{
	(void)i;
	return config_number_in(v, 0, 1, CONFIG_MAX_GB,
				"must be a number >= 0 and <= 1000000",
				&cfg->cache.disk_size_gb, why);
}

static int set_cache_memory(struct config *cfg, int i, const char *v,
			    const char **why)
{
	(void)i;
	return config_number_in(v, 0, 0, CONFIG_MAX_GB,
				"must be a number > 0 and <= 1000000",
				&cfg->cache.memory_size_gb, why);
}

static int set_storage_url(struct config *cfg, int i, const char *v,
			   const char **why)
{
	(void)i;
	if (!(strncmp(v, "file:///", 8) == 0 ||
	      (strncmp(v, "mem://", 6) == 0 && v[6] != '\0'))) {
		*why = "must be file:///absolute/dir or mem://name";
		return -EINVAL;
	}
	if (config_str_set(cfg->storage.url, sizeof(cfg->storage.url), v) < 0) {
		*why = "is too long";
		return -EINVAL;
	}
	return 0;
}

static int set_fs_max(struct config *cfg, int i, const char *v,
		      const char **why)
{
	(void)i;
	return config_number_in(v, 0, 0, CONFIG_MAX_GB,
				"must be a number > 0 and <= 1000000",
				&cfg->filesystem.max_size_gb, why);
}

static int set_fs_chunk(struct config *cfg, int i, const char *v,
			const char **why)
{
	long kb;

	(void)i;
	if (config_integer_in(v, 4, 4096,
			      "must be a power of two from 4 to 4096", &kb,
			      why) < 0)
		return -EINVAL;
	if ((kb & (kb - 1)) != 0) {
		*why = "must be a power of two from 4 to 4096";
		return -EINVAL;
	}
	cfg->filesystem.chunk_size = (uint32_t)kb * 1024;
	return 0;
}

static int set_nfs_addr(struct config *cfg, int i, const char *v,
			const char **why)
{
	struct config_listen *l = &cfg->servers.nfs;

	if (i >= CONFIG_MAX_ADDRS) {
		*why = "holds more than 8 addresses";
		return -EINVAL;
	}
	if (config_split_addr(v, NULL, 0, NULL) < 0 ||
	    config_str_set(l->addrs[i], sizeof(l->addrs[i]), v) < 0) {
		*why = "must be host:port or [v6addr]:port, port 1..65535";
		return -EINVAL;
	}
	l->naddrs = i + 1;
	return 0;
}

static int set_lsm_flush(struct config *cfg, int i, const char *v,
			 const char **why)
{
	(void)i;
	/* Below 10 ms the metadata service would do little but flush. */
	return config_number_in(v, 0.01, 1, CONFIG_MAX_INTERVAL,
				"must be a number >= 0.01 and <= 86400",
				&cfg->lsm.flush_interval_secs, why);
}

static int set_lsm_checkpoint(struct config *cfg, int i, const char *v,
			      const char **why)
{
	long n;

	(void)i;
	if (config_integer_in(v, 1, CONFIG_MAX_COUNT,
			      "must be an integer from 1 to 1000000", &n,
			      why) < 0)
		return -EINVAL;
	cfg->lsm.checkpoint_every = (uint32_t)n;
	return 0;
}

static int set_lsm_memtable(struct config *cfg, int i, const char *v,
			    const char **why)
{
	long n;

	(void)i;
	if (config_integer_in(v, 1, 4096, "must be an integer from 1 to 4096",
			      &n, why) < 0)
		return -EINVAL;
	cfg->lsm.memtable_size_mb = (uint32_t)n;
	return 0;
}

static int set_lsm_compactions(struct config *cfg, int i, const char *v,
			       const char **why)
{
	long n;

	(void)i;
	if (config_integer_in(v, 1, 8, "must be an integer from 1 to 8", &n,
			      why) < 0)
		return -EINVAL;
	cfg->lsm.max_concurrent_compactions = (uint32_t)n;
	return 0;
}

static int set_lsm_grace(struct config *cfg, int i, const char *v,
			 const char **why)
{
	(void)i;
	return config_number_in(v, 0, 1, CONFIG_MAX_INTERVAL,
				"must be a number >= 0 and <= 86400",
				&cfg->lsm.gc_grace_secs, why);
}

/* tcp://host:port, ipc:///path or inproc://name. */
static int config_endpoint(char *dst, size_t size, const char *v,
			   const char **why)
{
	*why = "must be tcp://host:port, ipc:///path or inproc://name";
	if (strncmp(v, "tcp://", 6) == 0) {
		if (config_split_addr(v + 6, NULL, 0, NULL) < 0)
			return -EINVAL;
	} else if (strncmp(v, "ipc:///", 7) != 0 &&
		   !(strncmp(v, "inproc://", 9) == 0 && v[9] != '\0')) {
		return -EINVAL;
	}
	if (config_str_set(dst, size, v) < 0) {
		*why = "is too long";
		return -EINVAL;
	}
	return 0;
}

static int set_svc_metadata(struct config *cfg, int i, const char *v,
			    const char **why)
{
	(void)i;
	return config_endpoint(cfg->services.metadata,
			       sizeof(cfg->services.metadata), v, why);
}

static int set_svc_chunk(struct config *cfg, int i, const char *v,
			 const char **why)
{
	(void)i;
	return config_endpoint(cfg->services.chunk, sizeof(cfg->services.chunk),
			       v, why);
}

static int set_svc_flusher(struct config *cfg, int i, const char *v,
			   const char **why)
{
	(void)i;
	return config_endpoint(cfg->services.flusher,
			       sizeof(cfg->services.flusher), v, why);
}

static int set_log_level(struct config *cfg, int i, const char *v,
			 const char **why)
{
	int level = zlog_parse_level(v);

	(void)i;
	if (level < 0) {
		*why = "must be error, warn, info or debug";
		return -EINVAL;
	}
	cfg->log.level = level;
	return 0;
}

typedef int (*config_set_fn)(struct config *cfg, int i, const char *v,
			     const char **why);

struct config_leaf {
	const char *key;
	config_set_fn set;
	int is_list; /* the value is a sequence of 1..CONFIG_MAX_ADDRS */
};

static const struct config_leaf config_leaves[] = {
	{ "cache.dir", set_cache_dir, 0 },
	{ "cache.disk_size_gb", set_cache_disk, 0 },
	{ "cache.memory_size_gb", set_cache_memory, 0 },
	{ "storage.url", set_storage_url, 0 },
	{ "filesystem.max_size_gb", set_fs_max, 0 },
	{ "filesystem.chunk_size_kb", set_fs_chunk, 0 },
	{ "servers.nfs.addresses", set_nfs_addr, 1 },
	{ "lsm.flush_interval_secs", set_lsm_flush, 0 },
	{ "lsm.checkpoint_every", set_lsm_checkpoint, 0 },
	{ "lsm.memtable_size_mb", set_lsm_memtable, 0 },
	{ "lsm.max_concurrent_compactions", set_lsm_compactions, 0 },
	{ "lsm.gc_grace_secs", set_lsm_grace, 0 },
	{ "services.metadata", set_svc_metadata, 0 },
	{ "services.chunk", set_svc_chunk, 0 },
	{ "services.flusher", set_svc_flusher, 0 },
	{ "log.level", set_log_level, 0 },
};

#define CONFIG_NLEAVES (sizeof(config_leaves) / sizeof(config_leaves[0]))

static const struct config_leaf *config_leaf_find(const char *path)
{
	for (size_t i = 0; i < CONFIG_NLEAVES; i++)
		if (strcmp(config_leaves[i].key, path) == 0)
			return &config_leaves[i];
	return NULL;
}

/* Whether path names a section: a mapping that holds known keys. */
static int config_is_section(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < CONFIG_NLEAVES; i++)
		if (strncmp(config_leaves[i].key, path, n) == 0 &&
		    config_leaves[i].key[n] == '.')
			return 1;
	return 0;
}

/*
 * The walk over the parsed document.
 */
struct config_ctx {
	const char *file;
	yaml_document_t *doc;
	struct config *cfg;
	char *err;
	size_t errlen;
	int have_url;
	int storage_line; /* where a missing storage.url is reported */
};

/* Writes "FILE:LINE: KEY: reason" to the error buffer; returns -EINVAL. */
static int config_fail(struct config_ctx *c, size_t line, const char *key,
		       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int config_fail(struct config_ctx *c, size_t line, const char *key,
		       const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(c->err, c->errlen, "%s:%zu: %s: ", c->file, line, key);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static size_t config_line(const yaml_node_t *node)
{
	return node->start_mark.line + 1;
}

/* Length of the variable name at s, or 0 if s does not start one. */
static size_t config_var_len(const char *s)
{
	size_t n = 0;

	if (!(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') ||
	      (s[0] >= 'a' && s[0] <= 'z')))
		return 0;
	while (s[n] == '_' || (s[n] >= 'A' && s[n] <= 'Z') ||
	       (s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9'))
		n++;
	return n;
}

/* Replaces each ${NAME} in in from the environment.  On an unset variable
 * returns -ENOENT with its name in name; -ENAMETOOLONG if out is short. */
static int config_expand(const char *in, char *out, size_t outlen, char *name,
			 size_t namelen)
{
	size_t o = 0;

	while (*in != '\0') {
		size_t vlen =
		    in[0] == '$' && in[1] == '{' ? config_var_len(in + 2) : 0;
		const char *val;
		size_t n;

		if (vlen == 0 || in[2 + vlen] != '}') {
			if (o + 1 >= outlen)
				return -ENAMETOOLONG;
			out[o++] = *in++;
			continue;
		}
		snprintf(name, namelen, "%.*s", (int)vlen, in + 2);
		val = getenv(name);
		if (val == NULL)
			return -ENOENT;
		n = strlen(val);
		if (o + n >= outlen)
			return -ENAMETOOLONG;
		memcpy(out + o, val, n);
		o += n;
		in += vlen + 3;
	}
	out[o] = '\0';
	return 0;
}

/* Expands a scalar node and hands it to the leaf's setter. */
static int config_scalar_set(struct config_ctx *c, const char *path,
			     const struct config_leaf *leaf, int i,
			     yaml_node_t *node)
{
	char value[CONFIG_STR], name[CONFIG_PATH_MAX];
	const char *why = "is invalid";
	int rc;

	if (node->type != YAML_SCALAR_NODE)
		return config_fail(
		    c, config_line(node), path,
		    "expected a single value, got a %s",
		    node->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
	rc = config_expand((const char *)node->data.scalar.value, value,
			   sizeof(value), name, sizeof(name));
	if (rc == -ENOENT)
		return config_fail(c, config_line(node), path,
				   "environment variable %s is not set", name);
	if (rc < 0)
		return config_fail(c, config_line(node), path,
				   "value is too long");
	if (leaf->set(c->cfg, i, value, &why) < 0)
		return config_fail(c, config_line(node), path, "\"%s\" %s",
				   value, why);
	return 0;
}

static int config_list_set(struct config_ctx *c, const char *path,
			   const struct config_leaf *leaf, yaml_node_t *node)
{
	yaml_node_item_t *it;
	int i = 0, rc;

	if (node->type != YAML_SEQUENCE_NODE)
		return config_fail(c, config_line(node), path,
				   "expected a list");
	for (it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++, i++) {
		rc = config_scalar_set(c, path, leaf, i,
				       yaml_document_get_node(c->doc, *it));
		if (rc < 0)
			return rc;
	}
	if (i == 0)
		return config_fail(c, config_line(node), path,
				   "needs at least one entry");
	return 0;
}

static int config_mapping_walk(struct config_ctx *c, const char *prefix,
			       yaml_node_t *map);

/* Applies the value of one key, path being the key's dotted path. */
static int config_value_apply(struct config_ctx *c, const char *path,
			      yaml_node_t *key, yaml_node_t *val)
{
	const struct config_leaf *leaf = config_leaf_find(path);

	if (strcmp(path, "storage.url") == 0)
		c->have_url = 1;
	if (strcmp(path, "storage") == 0)
		c->storage_line = (int)config_line(key);
	if (leaf != NULL && leaf->is_list)
		return config_list_set(c, path, leaf, val);
	if (leaf != NULL)
		return config_scalar_set(c, path, leaf, 0, val);
	if (!config_is_section(path))
		return config_fail(c, config_line(key), path, "unknown key");
	/* "section:" with nothing under it is an empty section. */
	if (val->type == YAML_SCALAR_NODE && val->data.scalar.length == 0)
		return 0;
	if (val->type != YAML_MAPPING_NODE)
		return config_fail(c, config_line(val), path,
				   "expected a mapping of keys");
	return config_mapping_walk(c, path, val);
}

/* Fails if the key of pair p repeats one of an earlier pair. */
static int config_dup_check(struct config_ctx *c, const char *path,
			    yaml_node_t *map, yaml_node_pair_t *p)
{
	yaml_node_t *key = yaml_document_get_node(c->doc, p->key);

	for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, q->key);

		if (k->type == YAML_SCALAR_NODE &&
		    strcmp((char *)k->data.scalar.value,
			   (char *)key->data.scalar.value) == 0)
			return config_fail(c, config_line(key), path,
					   "duplicate key (first on line %zu)",
					   config_line(k));
	}
	return 0;
}

static int config_mapping_walk(struct config_ctx *c, const char *prefix,
			       yaml_node_t *map)
{
	char path[CONFIG_PATH_MAX];
	yaml_node_pair_t *p;
	int rc;

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *key = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(c->doc, p->value);

		if (key->type != YAML_SCALAR_NODE)
			return config_fail(c, config_line(key),
					   prefix[0] ? prefix : "(top)",
					   "a key must be a plain name");
		snprintf(path, sizeof(path), "%s%s%s", prefix,
			 prefix[0] ? "." : "", (char *)key->data.scalar.value);
		rc = config_dup_check(c, path, map, p);
		if (rc == 0)
			rc = config_value_apply(c, path, key, val);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Walks the root of the document, then checks for required keys. */
static int config_doc_apply(struct config_ctx *c)
{
	yaml_node_t *root = yaml_document_get_root_node(c->doc);
	int rc;

	c->storage_line = 1;
	if (root != NULL && !(root->type == YAML_SCALAR_NODE &&
			      root->data.scalar.length == 0)) {
		if (root->type != YAML_MAPPING_NODE)
			return config_fail(c, config_line(root), "(top)",
					   "expected a mapping of sections");
		rc = config_mapping_walk(c, "", root);
		if (rc < 0)
			return rc;
	}
	if (!c->have_url)
		return config_fail(c, (size_t)c->storage_line, "storage.url",
				   "required key is missing");
	return 0;
}

/* Parses the first document and checks that no second one follows. */
static int config_parse(struct config_ctx *c, yaml_parser_t *parser)
{
	yaml_document_t extra;
	int more;

	if (!yaml_parser_load(parser, c->doc))
		goto syntax_error;
	if (!yaml_parser_load(parser, &extra)) {
		yaml_document_delete(c->doc);
		goto syntax_error;
	}
	more = yaml_document_get_root_node(&extra) != NULL;
	yaml_document_delete(&extra);
	if (more) {
		yaml_document_delete(c->doc);
		return config_fail(c, parser->mark.line + 1, "(top)",
				   "only one YAML document is allowed");
	}
	return 0;
syntax_error:
	return config_fail(
	    c, parser->problem_mark.line + 1, "(syntax)", "%s%s%s",
	    parser->problem ? parser->problem : "bad YAML",
	    parser->context ? " " : "", parser->context ? parser->context : "");
}

/* The defaults for a file at path: data in "zerofs-data" beside it. */
static void config_defaults_for(struct config *cfg, const char *path)
{
	char dir[CONFIG_STR], *abs, *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	abs = realpath(dir, NULL);
	snprintf(dir, sizeof(dir), "%s/zerofs-data",
		 abs != NULL && strcmp(abs, "/") != 0 ? abs : "");
	free(abs);
	config_defaults(cfg, dir);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
}

int config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct config_ctx c = {
		.file = path, .cfg = cfg, .err = err, .errlen = errlen
	};
	yaml_document_t doc;
	yaml_parser_t parser;
	FILE *f;
	int rc;

	f = fopen(path, "rb");
	if (f == NULL) {
		/* No line to name: the file itself could not be read. */
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 strerror(-rc));
		return rc;
	}
	config_defaults_for(cfg, path);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	c.doc = &doc;
	rc = config_parse(&c, &parser);
	if (rc == 0) {
		rc = config_doc_apply(&c);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

/*
 * The starting file `zerofs init` writes.  Paths are double-quoted so any
 * directory name survives; every line stays within 80 columns.
 */
static const char config_template_fmt[] =
    "# zerofs configuration.  Every key except storage.url is optional;\n"
    "# the values below are the defaults.  \"${NAME}\" inside a value is\n"
    "# replaced by the environment variable NAME.\n"
    "\n"
    "cache:\n"
    "  # Directory of the local read cache; one per running instance.\n"
    "  dir: \"%s/cache\"\n"
    "  # Disk space the read cache may use, in GB (0 turns it off); a\n"
    "  # quarter of it holds copies of the metadata tree's tables.\n"
    "  disk_size_gb: 10\n"
    "  # Memory the read cache may use, in GB; a quarter of it caches\n"
    "  # the metadata tree's blocks.\n"
    "  memory_size_gb: 1\n"
    "\n"
    "storage:\n"
    "  # Where the objects live: file:///absolute/dir, or mem://name\n"
    "  # (memory only, gone when the process stops: for tests).\n"
    "  url: \"file://%s/data\"\n"
    "\n"
    "filesystem:\n"
    "  # Largest size the filesystem reports, in GB.\n"
    "  max_size_gb: 100\n"
    "  # Data chunk size in KB, a power of two from 4 to 4096 (fixed at "
    "creation).\n"
    "  chunk_size_kb: 256\n"
    "\n"
    "servers:\n"
    "  nfs:\n"
    "    # host:port pairs the NFSv3 server listens on ([::1]:2049 for "
    "IPv6).\n"
    "    addresses: [\"127.0.0.1:2049\"]\n"
    "\n"
    "lsm:\n"
    "  # Seconds between periodic flushes that make every write durable\n"
    "  # (0.01 to 86400).\n"
    "  flush_interval_secs: 30\n"
    "  # Megabytes of metadata kept in memory before they are written as\n"
    "  # a sorted table (1 to 4096; up to three such tables are held).\n"
    "  memtable_size_mb: 32\n"
    "  # Metadata compactions that may run at once (1 to 8).\n"
    "  max_concurrent_compactions: 1\n"
    "  # Seconds an object nothing references is kept before it is\n"
    "  # deleted, so that slow readers finish first (0 to 86400; the\n"
    "  # collector looks every 60 s).\n"
    "  gc_grace_secs: 600\n"
    "\n"
    "services:\n"
    "  # Metadata service endpoint when services run as separate "
    "processes.\n"
    "  metadata: \"tcp://127.0.0.1:7101\"\n"
    "  # Chunk service endpoint when services run as separate processes.\n"
    "  chunk: \"tcp://127.0.0.1:7102\"\n"
    "  # Flusher service endpoint when services run as separate "
    "processes.\n"
    "  flusher: \"tcp://127.0.0.1:7103\"\n"
    "\n"
    "log:\n"
    "  # Least severe messages logged: error, warn, info or debug.\n"
    "  level: info\n";

/* Escapes s for a double-quoted YAML scalar. */
static int config_yaml_quote(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		if (o + 3 > outlen)
			return -ENOSPC;
		if (*s == '"' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o] = '\0';
	return 0;
}

int config_template(const char *data_dir, char *buf, size_t len)
{
	char q[2 * CONFIG_STR];
	int n;

	if (config_yaml_quote(data_dir, q, sizeof(q)) < 0)
		return -ENOSPC;
	n = snprintf(buf, len, config_template_fmt, q, q);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}
