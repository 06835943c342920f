/*
 * Unit tests of the configuration loader: the template round trip, every
 * kind of error with the line and key it must name, ${VAR} substitution,
 * and address splitting.
 */
#include "config.h"

#include "test.h"

#include <errno.h>
#include <ftw.h>
#include <syslog.h>
#include <unistd.h>

static char test_dir[256];
static char test_file[300];
static char test_err[512];
static struct config test_cfg;

static int remove_cb(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* Writes text to a fresh file and loads it into test_cfg. */
static int load_text(const char *text)
{
	FILE *f;

	if (test_dir[0] == '\0') {
		if (test_tmpdir("config_test", test_dir, sizeof(test_dir)) < 0)
			return -EIO;
	}
	snprintf(test_file, sizeof(test_file), "%s/zerofs.yaml", test_dir);
	f = fopen(test_file, "w");
	if (f == NULL)
		return -EIO;
	fputs(text, f);
	fclose(f);
	test_err[0] = '\0';
	return config_load(test_file, &test_cfg, test_err, sizeof(test_err));
}

/* Checks that the last error starts with "FILE:LINE: KEY: " and holds
 * reason. */
static void check_error(int line, const char *key, const char *reason)
{
	char want[512];

	snprintf(want, sizeof(want), "%s:%d: %s: ", test_file, line, key);
	if (strncmp(test_err, want, strlen(want)) != 0 ||
	    strstr(test_err, reason) == NULL)
		fprintf(stderr, "  got \"%s\"\n  want \"%s...%s...\"\n",
			test_err, want, reason);
	CHECK(strncmp(test_err, want, strlen(want)) == 0);
	CHECK(strstr(test_err, reason) != NULL);
}

static void check_config_equal(const struct config *a, const struct config *b)
{
	CHECK(strcmp(a->cache.dir, b->cache.dir) == 0);
	CHECK(a->cache.disk_size_gb == b->cache.disk_size_gb);
	CHECK(a->cache.memory_size_gb == b->cache.memory_size_gb);
	CHECK(strcmp(a->storage.url, b->storage.url) == 0);
	CHECK(a->filesystem.max_size_gb == b->filesystem.max_size_gb);
	CHECK_EQ(a->filesystem.chunk_size, b->filesystem.chunk_size);
	CHECK_EQ(a->servers.nfs.naddrs, b->servers.nfs.naddrs);
	for (int i = 0; i < a->servers.nfs.naddrs; i++)
		CHECK(strcmp(a->servers.nfs.addrs[i],
			     b->servers.nfs.addrs[i]) == 0);
	CHECK(a->lsm.flush_interval_secs == b->lsm.flush_interval_secs);
	CHECK_EQ(a->lsm.checkpoint_every, b->lsm.checkpoint_every);
	CHECK_EQ(a->lsm.memtable_size_mb, b->lsm.memtable_size_mb);
	CHECK_EQ(a->lsm.max_concurrent_compactions,
		 b->lsm.max_concurrent_compactions);
	CHECK(a->lsm.gc_grace_secs == b->lsm.gc_grace_secs);
	CHECK(strcmp(a->services.metadata, b->services.metadata) == 0);
	CHECK(strcmp(a->services.chunk, b->services.chunk) == 0);
	CHECK(strcmp(a->services.flusher, b->services.flusher) == 0);
	CHECK_EQ(a->log.level, b->log.level);
}

TEST(the_template_loads_and_equals_the_defaults)
{
	static char buf[8192];
	struct config want;
	const char *data = "/srv/my data/\"zerofs\"";

	CHECK(config_template(data, buf, sizeof(buf)) > 0);
	CHECK_EQ(load_text(buf), 0);
	config_defaults(&want, data);
	check_config_equal(&test_cfg, &want);
	CHECK(strcmp(test_cfg.storage.url,
		     "file:///srv/my data/\"zerofs\"/data") == 0);
	CHECK(strcmp(test_cfg.servers.nfs.addrs[0], "127.0.0.1:2049") == 0);
	CHECK(strcmp(test_cfg.path, test_file) == 0);
}

/* Each key line of the template follows a comment line, and no line is
 * wider than 80 columns. */
TEST(the_template_comments_every_key_within_80_columns)
{
	static char buf[8192];
	char *line, *save = NULL, *prev = NULL;
	int keys = 0;

	CHECK(config_template("/d", buf, sizeof(buf)) > 0);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *t = line + strspn(line, " ");

		CHECK(strlen(line) <= 80);
		if (*t != '#' && strchr(t, ':') != NULL &&
		    strchr(t, ':')[1] == ' ') {
			keys++;
			CHECK(prev != NULL && prev[strspn(prev, " ")] == '#');
		}
		prev = line;
	}
	CHECK_EQ(keys, 15);
}

TEST(the_template_reports_a_buffer_too_small)
{
	char buf[64];

	CHECK_EQ(config_template("/d", buf, sizeof(buf)), -ENOSPC);
}

TEST(a_file_with_only_storage_url_gets_defaults_beside_it)
{
	char want[400];

	CHECK_EQ(load_text("storage:\n  url: mem://x\n"), 0);
	CHECK(strcmp(test_cfg.storage.url, "mem://x") == 0);
	snprintf(want, sizeof(want), "%s/zerofs-data/cache", test_dir);
	CHECK(strcmp(test_cfg.cache.dir, want) == 0);
	CHECK_EQ(test_cfg.filesystem.chunk_size, 256 * 1024);
	CHECK_EQ(test_cfg.lsm.checkpoint_every, 64);
	CHECK_EQ(test_cfg.log.level, LOG_INFO);
}

TEST(every_key_can_be_set)
{
	CHECK_EQ(load_text("cache: {dir: /c, disk_size_gb: 0, "
			   "memory_size_gb: 0.5}\n"
			   "storage: {url: 'file:///s'}\n"
			   "filesystem: {max_size_gb: 7, chunk_size_kb: 4096}\n"
			   "servers:\n  nfs:\n    addresses:\n"
			   "      - 127.0.0.1:12049\n      - '[::1]:2050'\n"
			   "lsm: {flush_interval_secs: 0.25, "
			   "checkpoint_every: 1}\n"
			   "services: {metadata: 'ipc:///tmp/m', "
			   "chunk: 'inproc://c', flusher: 'tcp://[::1]:9'}\n"
			   "log: {level: debug}\n"),
		 0);
	CHECK(strcmp(test_cfg.cache.dir, "/c") == 0);
	CHECK(test_cfg.cache.disk_size_gb == 0);
	CHECK(test_cfg.cache.memory_size_gb == 0.5);
	CHECK(strcmp(test_cfg.storage.url, "file:///s") == 0);
	CHECK(test_cfg.filesystem.max_size_gb == 7);
	CHECK_EQ(test_cfg.filesystem.chunk_size, 4096 * 1024);
	CHECK_EQ(test_cfg.servers.nfs.naddrs, 2);
	CHECK(strcmp(test_cfg.servers.nfs.addrs[1], "[::1]:2050") == 0);
	CHECK(test_cfg.lsm.flush_interval_secs == 0.25);
	CHECK_EQ(test_cfg.lsm.checkpoint_every, 1);
	CHECK(strcmp(test_cfg.services.metadata, "ipc:///tmp/m") == 0);
	CHECK(strcmp(test_cfg.services.chunk, "inproc://c") == 0);
	CHECK(strcmp(test_cfg.services.flusher, "tcp://[::1]:9") == 0);
	CHECK_EQ(test_cfg.log.level, LOG_DEBUG);
}

TEST(an_unknown_key_names_its_line_and_path)
{
	CHECK_EQ(load_text("storage:\n  url: mem://x\ncache:\n"
			   "  dir: /c\n  size: 3\n"),
		 -EINVAL);
	check_error(5, "cache.size", "unknown key");
}

TEST(an_unknown_section_is_an_error)
{
	CHECK_EQ(load_text("storage:\n  url: mem://x\naws:\n  region: x\n"),
		 -EINVAL);
	check_error(3, "aws", "unknown key");
}

TEST(a_list_where_a_value_belongs_is_an_error)
{
	CHECK_EQ(load_text("storage:\n  url: mem://x\ncache:\n"
			   "  dir: [/a, /b]\n"),
		 -EINVAL);
	check_error(4, "cache.dir", "expected a single value, got a list");
}

TEST(a_value_where_a_list_belongs_is_an_error)
{
	CHECK_EQ(load_text("storage:\n  url: mem://x\nservers:\n  nfs:\n"
			   "    addresses: 127.0.0.1:2049\n"),
		 -EINVAL);
	check_error(5, "servers.nfs.addresses", "expected a list");
}

TEST(a_value_where_a_section_belongs_is_an_error)
{
	CHECK_EQ(load_text("storage: mem://x\n"), -EINVAL);
	check_error(1, "storage", "expected a mapping");
}

TEST(text_for_a_number_is_an_error)
{
	CHECK_EQ(load_text("storage:\n  url: mem://x\ncache:\n"
			   "  disk_size_gb: abc\n"),
		 -EINVAL);
	check_error(4, "cache.disk_size_gb", "\"abc\" is not a number");
}

/* Every numeric key, under its section, with text that is no number. */
static const char *const not_number_cases[][2] = {
	{ "cache:\n  disk_size_gb: 10GB\n", "cache.disk_size_gb" },
	{ "cache:\n  memory_size_gb: one\n", "cache.memory_size_gb" },
	{ "filesystem:\n  max_size_gb: 1O0\n", "filesystem.max_size_gb" },
	{ "filesystem:\n  chunk_size_kb: 12x\n", "filesystem.chunk_size_kb" },
	{ "lsm:\n  flush_interval_secs: nan\n", "lsm.flush_interval_secs" },
	{ "lsm:\n  checkpoint_every: '64 '\n", "lsm.checkpoint_every" },
	{ "lsm:\n  checkpoint_every: ' 64'\n", "lsm.checkpoint_every" },
};

TEST(text_for_any_numeric_key_is_reported_as_not_a_number)
{
	char text[512];

	for (size_t i = 0;
	     i < sizeof(not_number_cases) / sizeof(not_number_cases[0]); i++) {
		snprintf(text, sizeof(text), "storage: {url: mem://x}\n%s",
			 not_number_cases[i][0]);
		CHECK_EQ(load_text(text), -EINVAL);
		check_error(3, not_number_cases[i][1], "is not a number");
	}
}

struct range_case {
	const char *text; /* the value line, under its section */
	int line;
	const char *key;
	const char *reason;
};

static const struct range_case range_cases[] = {
	{ "cache:\n  memory_size_gb: 0\n", 3, "cache.memory_size_gb", "> 0" },
	{ "cache:\n  disk_size_gb: -1\n", 3, "cache.disk_size_gb", ">= 0" },
	{ "cache:\n  dir: relative\n", 3, "cache.dir", "absolute" },
	{ "filesystem:\n  chunk_size_kb: 3\n", 3, "filesystem.chunk_size_kb",
	  "power of two" },
	{ "filesystem:\n  chunk_size_kb: 8192\n", 3, "filesystem.chunk_size_kb",
	  "power of two" },
	{ "filesystem:\n  chunk_size_kb: 48\n", 3, "filesystem.chunk_size_kb",
	  "power of two" },
	{ "filesystem:\n  max_size_gb: 0\n", 3, "filesystem.max_size_gb",
	  "> 0" },
	{ "lsm:\n  checkpoint_every: 0\n", 3, "lsm.checkpoint_every",
	  "integer from 1 to 1000000" },
	{ "lsm:\n  memtable_size_mb: 0\n", 3, "lsm.memtable_size_mb",
	  "integer from 1 to 4096" },
	{ "lsm:\n  memtable_size_mb: 4097\n", 3, "lsm.memtable_size_mb",
	  "integer from 1 to 4096" },
	{ "lsm:\n  max_concurrent_compactions: 9\n", 3,
	  "lsm.max_concurrent_compactions", "integer from 1 to 8" },
	{ "lsm:\n  gc_grace_secs: -1\n", 3, "lsm.gc_grace_secs", ">= 0" },
	{ "lsm:\n  checkpoint_every: 1.5\n", 3, "lsm.checkpoint_every",
	  "integer from 1 to 1000000" },
	{ "lsm:\n  flush_interval_secs: 0\n", 3, "lsm.flush_interval_secs",
	  ">= 0.01" },
	{ "servers:\n  nfs:\n    addresses: ['h:70000']\n", 4,
	  "servers.nfs.addresses", "port 1..65535" },
	{ "servers:\n  nfs:\n    addresses: []\n", 4, "servers.nfs.addresses",
	  "at least one" },
	{ "servers:\n  nfs:\n    addresses: [a:1, a:2, a:3, a:4, a:5, a:6, "
	  "a:7, a:8, a:9]\n",
	  4, "servers.nfs.addresses", "more than 8" },
	{ "services:\n  chunk: http://x:1\n", 3, "services.chunk", "tcp://" },
	{ "services:\n  chunk: tcp://nohost\n", 3, "services.chunk", "tcp://" },
	{ "log:\n  level: loud\n", 3, "log.level", "error, warn, info" },
};

TEST(out_of_range_values_name_their_line_and_key)
{
	char text[512];

	for (size_t i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]);
	     i++) {
		const struct range_case *rc = &range_cases[i];

		snprintf(text, sizeof(text), "storage: {url: mem://x}\n%s",
			 rc->text);
		CHECK_EQ(load_text(text), -EINVAL);
		check_error(rc->line, rc->key, rc->reason);
	}
}

static const struct range_case upper_cases[] = {
	{ "lsm:\n  flush_interval_secs: 1e-9\n", 3, "lsm.flush_interval_secs",
	  ">= 0.01" },
	{ "lsm:\n  flush_interval_secs: 1e20\n", 3, "lsm.flush_interval_secs",
	  "<= 86400" },
	{ "lsm:\n  flush_interval_secs: 86401\n", 3, "lsm.flush_interval_secs",
	  "<= 86400" },
	{ "lsm:\n  flush_interval_secs: 1e400\n", 3, "lsm.flush_interval_secs",
	  "<= 86400" },
	{ "cache:\n  disk_size_gb: 1000001\n", 3, "cache.disk_size_gb",
	  "<= 1000000" },
	{ "cache:\n  memory_size_gb: 2e6\n", 3, "cache.memory_size_gb",
	  "<= 1000000" },
	{ "filesystem:\n  max_size_gb: 1e300\n", 3, "filesystem.max_size_gb",
	  "<= 1000000" },
	{ "lsm:\n  checkpoint_every: 1000001\n", 3, "lsm.checkpoint_every",
	  "from 1 to 1000000" },
	{ "lsm:\n  checkpoint_every: 99999999999999999999\n", 3,
	  "lsm.checkpoint_every", "from 1 to 1000000" },
};

TEST(values_above_their_upper_bound_name_their_line_and_key)
{
	char text[512];

	for (size_t i = 0; i < sizeof(upper_cases) / sizeof(upper_cases[0]);
	     i++) {
		const struct range_case *rc = &upper_cases[i];

		snprintf(text, sizeof(text), "storage: {url: mem://x}\n%s",
			 rc->text);
		CHECK_EQ(load_text(text), -EINVAL);
		check_error(rc->line, rc->key, rc->reason);
	}
}

TEST(values_at_their_upper_bound_are_accepted)
{
	CHECK_EQ(load_text("storage: {url: mem://x}\n"
			   "cache: {disk_size_gb: 1000000, "
			   "memory_size_gb: 1e6}\n"
			   "filesystem: {max_size_gb: 1000000, "
			   "chunk_size_kb: 4096}\n"
			   "lsm: {flush_interval_secs: 86400, "
			   "checkpoint_every: 1000000}\n"),
		 0);
	CHECK(test_cfg.cache.disk_size_gb == 1e6);
	CHECK(test_cfg.cache.memory_size_gb == 1e6);
	CHECK(test_cfg.filesystem.max_size_gb == 1e6);
	CHECK_EQ(test_cfg.filesystem.chunk_size, 4096u * 1024);
	CHECK(test_cfg.lsm.flush_interval_secs == 86400);
	CHECK_EQ(test_cfg.lsm.checkpoint_every, 1000000u);
}

TEST(a_storage_url_of_an_unknown_kind_is_an_error)
{
	CHECK_EQ(load_text("storage:\n  url: s3://bucket\n"), -EINVAL);
	check_error(2, "storage.url", "file:///");
}

TEST(a_duplicate_key_names_the_second_line)
{
	CHECK_EQ(load_text("storage:\n  url: mem://x\nlog:\n  level: info\n"
			   "  level: debug\n"),
		 -EINVAL);
	check_error(5, "log.level", "duplicate key (first on line 4)");
}

TEST(a_duplicate_section_is_an_error)
{
	CHECK_EQ(load_text("storage:\n  url: mem://x\nstorage:\n"
			   "  url: mem://y\n"),
		 -EINVAL);
	check_error(3, "storage", "duplicate key");
}

TEST(a_missing_storage_url_is_an_error)
{
	CHECK_EQ(load_text("log:\n  level: info\nstorage:\n"
			   "  unused_here: 1\n"),
		 -EINVAL);
	check_error(4, "storage.unused_here", "unknown key");
	CHECK_EQ(load_text("log:\n  level: info\nstorage:\n"), -EINVAL);
	check_error(3, "storage.url", "required");
	CHECK_EQ(load_text(""), -EINVAL);
	check_error(1, "storage.url", "required");
}

TEST(an_unparsable_file_names_the_line_libyaml_found)
{
	CHECK_EQ(load_text("storage:\n  url: mem://x\nlog:\n  level: [info\n"
			   "cache: {}\n"),
		 -EINVAL);
	check_error(5, "(syntax)", "did not find expected ',' or ']'");
	CHECK_EQ(load_text("storage:\n\turl: mem://x\n"), -EINVAL);
	check_error(2, "(syntax)", "cannot start any token");
}

TEST(a_second_document_is_an_error)
{
	CHECK_EQ(load_text("storage: {url: mem://x}\n---\nlog: {}\n"), -EINVAL);
	CHECK(strstr(test_err, "only one YAML document") != NULL);
}

TEST(a_missing_file_says_it_cannot_be_opened)
{
	char err[512];
	int rc;

	rc = config_load("/nonexistent/zerofs.yaml", &test_cfg, err,
			 sizeof(err));
	CHECK_EQ(rc, -ENOENT);
	CHECK(strcmp(err, "/nonexistent/zerofs.yaml: cannot open: "
			  "No such file or directory") == 0);
}

TEST(environment_variables_are_substituted)
{
	setenv("ZEROFS_TEST_DIR", "/var/z", 1);
	setenv("ZEROFS_TEST_LEVEL", "warn", 1);
	CHECK_EQ(
	    load_text("storage:\n  url: file://${ZEROFS_TEST_DIR}/d\n"
		      "cache: {dir: '${ZEROFS_TEST_DIR}${ZEROFS_TEST_DIR}'}"
		      "\nlog: {level: \"${ZEROFS_TEST_LEVEL}\"}\n"
		      "services: {chunk: 'ipc:///$${ZEROFS_TEST_DIR}/$x'}"
		      "\n"),
	    0);
	CHECK(strcmp(test_cfg.storage.url, "file:///var/z/d") == 0);
	CHECK(strcmp(test_cfg.cache.dir, "/var/z/var/z") == 0);
	CHECK_EQ(test_cfg.log.level, LOG_WARNING);
	CHECK(strcmp(test_cfg.services.chunk, "ipc:///$/var/z/$x") == 0);
	unsetenv("ZEROFS_TEST_DIR");
	unsetenv("ZEROFS_TEST_LEVEL");
}

TEST(an_unset_variable_is_an_error_naming_it)
{
	unsetenv("ZEROFS_TEST_UNSET");
	CHECK_EQ(load_text("storage:\n  url: mem://x\ncache:\n"
			   "  dir: /a/${ZEROFS_TEST_UNSET}/b\n"),
		 -EINVAL);
	check_error(4, "cache.dir", "ZEROFS_TEST_UNSET is not set");
}

TEST(text_that_is_not_a_variable_stays_as_written)
{
	CHECK_EQ(load_text("storage:\n  url: 'mem://a${1x}b${c'\n"), 0);
	CHECK(strcmp(test_cfg.storage.url, "mem://a${1x}b${c") == 0);
}

TEST(split_addr_handles_host_port_and_bracketed_v6)
{
	char host[64];
	int port = 0;

	CHECK_EQ(config_split_addr("127.0.0.1:2049", host, sizeof(host), &port),
		 0);
	CHECK(strcmp(host, "127.0.0.1") == 0);
	CHECK_EQ(port, 2049);
	CHECK_EQ(config_split_addr("[::1]:65535", host, sizeof(host), &port),
		 0);
	CHECK(strcmp(host, "::1") == 0);
	CHECK_EQ(port, 65535);
	CHECK_EQ(config_split_addr("localhost:1", host, sizeof(host), &port),
		 0);
	CHECK_EQ(port, 1);
}

TEST(split_addr_rejects_bad_ports_and_hosts)
{
	static const char *const bad[] = {
		"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "h:65536",
		"h:-1",	     "h:12a",	   ":80",	  "::1:80",
		"[::1]80",   "[::1]:",	   "[]:80",	  "h:99999999999",
		"[::1:80",
	};
	char host[8];
	int port;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (config_split_addr(bad[i], host, sizeof(host), &port) !=
		    -EINVAL)
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
		CHECK_EQ(config_split_addr(bad[i], host, sizeof(host), &port),
			 -EINVAL);
	}
	CHECK_EQ(
	    config_split_addr("a-very-long-host:1", host, sizeof(host), &port),
	    -EINVAL);
}

TEST(cleanup_removes_the_test_directory)
{
	CHECK(test_dir[0] != '\0');
	CHECK_EQ(nftw(test_dir, remove_cb, 8, FTW_DEPTH | FTW_PHYS), 0);
	CHECK(access(test_dir, F_OK) != 0);
}

TEST_MAIN(
    the_template_loads_and_equals_the_defaults,
    the_template_comments_every_key_within_80_columns,
    the_template_reports_a_buffer_too_small,
    a_file_with_only_storage_url_gets_defaults_beside_it, every_key_can_be_set,
    an_unknown_key_names_its_line_and_path, an_unknown_section_is_an_error,
    a_list_where_a_value_belongs_is_an_error,
    a_value_where_a_list_belongs_is_an_error,
    a_value_where_a_section_belongs_is_an_error, text_for_a_number_is_an_error,
    text_for_any_numeric_key_is_reported_as_not_a_number,
    out_of_range_values_name_their_line_and_key,
    values_above_their_upper_bound_name_their_line_and_key,
    values_at_their_upper_bound_are_accepted,
    a_storage_url_of_an_unknown_kind_is_an_error,
    a_duplicate_key_names_the_second_line, a_duplicate_section_is_an_error,
    a_missing_storage_url_is_an_error,
    an_unparsable_file_names_the_line_libyaml_found,
    a_second_document_is_an_error, a_missing_file_says_it_cannot_be_opened,
    environment_variables_are_substituted,
    an_unset_variable_is_an_error_naming_it,
    text_that_is_not_a_variable_stays_as_written,
    split_addr_handles_host_port_and_bracketed_v6,
    split_addr_rejects_bad_ports_and_hosts, cleanup_removes_the_test_directory)
