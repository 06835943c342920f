/*
 * Logging to stderr, one line per event, at syslog levels.  A message reads
 * "service: call: object: reason".  The macros test the level before they
 * evaluate their arguments, so debug logging costs nothing when it is off.
 */
#ifndef ZEROFS_LOG_H
#define ZEROFS_LOG_H

#include <syslog.h>

extern int zlog_level;

void zlog_write(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns the syslog level for a name ("error", "warn", "info", "debug"),
 * or -1 if the name is not one of them. */
int zlog_parse_level(const char *name);

#define zlog(level, ...)                                                       \
	do {                                                                   \
		if ((level) <= zlog_level)                                     \
			zlog_write((level), __VA_ARGS__);                      \
	} while (0)

#define log_err(...)   zlog(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  zlog(LOG_WARNING, __VA_ARGS__)
#define log_info(...)  zlog(LOG_INFO, __VA_ARGS__)
#define log_debug(...) zlog(LOG_DEBUG, __VA_ARGS__)

#endif
