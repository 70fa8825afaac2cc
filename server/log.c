/*
 * log.c — key=value event lines on stderr, written with one write() each so
 * lines from different threads never interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum fp_log_level min_level = FP_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void fp_log_set_level(enum fp_log_level lvl)
{
	min_level = lvl;
}

int fp_log_level_parse(const char *s, enum fp_log_level *out)
{
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum fp_log_level)i;
			return 0;
		}
	return -1;
}

int fp_log_enabled(enum fp_log_level lvl)
{
	return lvl >= min_level;
}

const char *fp_log_quote(const char *s, char *buf, unsigned size)
{
	unsigned o = 0;
	if (size < 3) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (; s && *s && o + 3 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			buf[o++] = '?';
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

void fp_log(enum fp_log_level lvl, const char *msg, const char *kvfmt, ...)
{
	if (lvl < min_level)
		return;
	char line[2048];
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char q[256];
	int n =
	    snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s msg=%s",
	             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	             (int)(tv.tv_usec / 1000), level_names[lvl], fp_log_quote(msg, q, sizeof(q)));
	if (n < 0)
		return;
	if (kvfmt && *kvfmt && (size_t)n < sizeof(line) - 2) {
		line[n++] = ' ';
		va_list ap;
		va_start(ap, kvfmt);
		int m = vsnprintf(line + n, sizeof(line) - (size_t)n, kvfmt, ap);
		va_end(ap);
		if (m > 0)
			n += m;
	}
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}
