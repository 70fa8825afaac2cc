/*
 * log.c — the agent's key=value log lines (log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static enum agent_log_level min_level = AGENT_LOG_INFO;

void agent_log_set_level(enum agent_log_level min)
{
	min_level = min;
}

void agent_log(enum agent_log_level level, const char *msg, const char *fields, ...)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	if (level < min_level)
		return;
	char line[2048];
	int n = snprintf(line, sizeof(line), "fleetpatch-agent: level=%s msg=\"%s\"", names[level],
	                 msg);
	if (n > 0 && (size_t)n < sizeof(line) && fields && *fields) {
		line[n++] = ' ';
		va_list ap;
		va_start(ap, fields);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fields, ap);
		va_end(ap);
	}
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}
