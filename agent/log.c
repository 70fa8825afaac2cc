/*
 * log.c — the agent's key=value log lines (log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

/* Set once before any thread starts; only read afterwards. */
static enum agent_log_level min_level = AGENT_LOG_INFO;
/* The device a fleet worker thread is running, or NULL (agent_log_set_device()). */
static _Thread_local const char *device;

void agent_log_set_level(enum agent_log_level min)
{
	min_level = min;
}

void agent_log_set_device(const char *identity)
{
	device = identity;
}

void agent_log(enum agent_log_level level, const char *msg, const char *fields, ...)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	if (level < min_level)
		return;
	char line[2048];
	int n =
	    device ? snprintf(line, sizeof(line), "fleetpatch-agent: level=%s device=%s msg=\"%s\"",
	                      names[level], device, msg)
	           : snprintf(line, sizeof(line), "fleetpatch-agent: level=%s msg=\"%s\"",
	                      names[level], msg);
	if (n > 0 && (size_t)n < sizeof(line) && fields && *fields) {
		line[n++] = ' ';
		va_list ap;
		va_start(ap, fields);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fields, ap);
		va_end(ap);
	}
	/* One write per line, so that the lines of a fleet's threads do not interleave. */
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}
