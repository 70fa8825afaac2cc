/*
 * conf.c — the `key = value` configuration file reader (see conf.h).
 */
#include "fleetpatch/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int fp_conf_parse(const char *data, size_t len, fp_conf_fn fn, void *ctx, struct fp_err *err)
{
	if (len > FP_CONF_MAX_BYTES)
		return fp_err_set(err, FP_ETOOBIG, "config: file is larger than %u bytes",
		                  FP_CONF_MAX_BYTES);
	char line[FP_CONF_MAX_LINE + 1];
	size_t pos = 0;
	int lineno = 0;
	while (pos < len) {
		lineno++;
		size_t end = pos;
		while (end < len && data[end] != '\n')
			end++;
		size_t n = end - pos;
		if (n > 0 && data[pos + n - 1] == '\r')
			n--;
		if (n > FP_CONF_MAX_LINE)
			return fp_err_set(err, FP_ETOOBIG,
			                  "config: line %d is longer than %d bytes", lineno,
			                  FP_CONF_MAX_LINE);
		memcpy(line, data + pos, n);
		line[n] = '\0';
		pos = end + 1;
		if (memchr(line, '\0', n))
			return fp_err_set(err, FP_EINVAL, "config: line %d contains a NUL byte",
			                  lineno);
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		char *key = p;
		while (*p &&
		       (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
			p++;
		size_t klen = (size_t)(p - key);
		if (klen == 0 || klen > FP_CONF_MAX_KEY)
			return fp_err_set(
			    err, FP_EINVAL,
			    "config: line %d: expected a key of a-z, 0-9 and _ (at most "
			    "%d characters)",
			    lineno, FP_CONF_MAX_KEY);
		char *keyend = p;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			return fp_err_set(err, FP_EINVAL,
			                  "config: line %d: expected '=' after '%.*s'", lineno,
			                  (int)klen, key);
		*keyend = '\0';
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		char *val = p;
		if (*p == '"') {
			val = ++p;
			char *close = strchr(p, '"');
			if (!close)
				return fp_err_set(err, FP_EINVAL,
				                  "config: line %d: unterminated quoted value",
				                  lineno);
			*close = '\0';
			p = close + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p && *p != '#')
				return fp_err_set(
				    err, FP_EINVAL,
				    "config: line %d: unexpected text after the quoted "
				    "value",
				    lineno);
		} else {
			char *hash = strchr(p, '#');
			if (hash)
				*hash = '\0';
			size_t vl = strlen(val);
			while (vl > 0 && (val[vl - 1] == ' ' || val[vl - 1] == '\t'))
				val[--vl] = '\0';
		}
		for (const char *c = val; *c; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				return fp_err_set(err, FP_EINVAL,
				                  "config: line %d: control character in value",
				                  lineno);
		int rc = fn(ctx, key, val, lineno, err);
		if (rc)
			return rc;
	}
	return 0;
}

int fp_conf_bool(const char *v, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return FP_EINVAL;
}

int fp_conf_long(const char *v, long min, long max, long *out)
{
	if (!*v || isspace((unsigned char)*v))
		return FP_EINVAL;
	errno = 0;
	char *end;
	long x = strtol(v, &end, 10);
	if (errno || *end || x < min || x > max)
		return FP_EINVAL;
	*out = x;
	return 0;
}
