/*
 * tzdb.c — IANA time zone names to POSIX TZ rules (tzdb.h).
 *
 * The rule is the footer of the zone's TZif file (lib/tz.c parses it), so
 * the server never depends on the process's TZ or on localtime(). Results
 * are cached by name; the zoneinfo directory is fixed for the life of the
 * process, so entries never go stale, and when the cache is full new names
 * are simply not remembered.
 */
#include "tzdb.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tzdb_entry {
	char name[FP_TZDB_NAME_MAX + 1];
	char rule[FP_TZ_RULE_MAX];
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tzdb_entry cache[FP_TZDB_CACHE_MAX];
static size_t cache_n;

static int valid_name(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > FP_TZDB_NAME_MAX || s[0] == '/' || strstr(s, ".."))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '+' || *s == '-' || *s == '/'))
			return 0;
	return 1;
}

static int cache_get(const char *name, char rule[FP_TZ_RULE_MAX])
{
	int found = 0;
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_n && !found; i++)
		if (strcmp(cache[i].name, name) == 0) {
			memcpy(rule, cache[i].rule, FP_TZ_RULE_MAX);
			found = 1;
		}
	pthread_mutex_unlock(&cache_lock);
	return found;
}

static void cache_put(const char *name, const char *rule)
{
	pthread_mutex_lock(&cache_lock);
	int have = 0;
	for (size_t i = 0; i < cache_n; i++)
		if (strcmp(cache[i].name, name) == 0)
			have = 1;
	if (!have && cache_n < FP_TZDB_CACHE_MAX) {
		snprintf(cache[cache_n].name, sizeof(cache[cache_n].name), "%s", name);
		snprintf(cache[cache_n].rule, sizeof(cache[cache_n].rule), "%s", rule);
		cache_n++;
	}
	pthread_mutex_unlock(&cache_lock);
}

/* Reads the zone file; FP_ENOTFOUND when there is none. */
static int read_rule(const char *dir, const char *name, char rule[FP_TZ_RULE_MAX],
                     struct fp_err *err)
{
	char path[4096];
	uint8_t *buf = NULL;
	int rc;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return fp_err_set(err, FP_EINVAL, "time zone: the zoneinfo path is too long");
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT || errno == ENOTDIR || errno == EISDIR
		           ? FP_ENOTFOUND
		           : fp_err_set(err, FP_EIO, "time zone: cannot read %s: %s", path,
		                        strerror(errno));
	buf = malloc(FP_TZDB_FILE_MAX + 1);
	if (!buf) {
		rc = fp_err_set(err, FP_ENOMEM, "time zone: out of memory");
		goto out;
	}
	size_t len = fread(buf, 1, FP_TZDB_FILE_MAX + 1, f);
	if (ferror(f)) {
		/* A directory such as "Europe" opens but does not read. */
		rc = FP_ENOTFOUND;
		goto out;
	}
	if (len > FP_TZDB_FILE_MAX) {
		rc = fp_err_set(err, FP_ETOOBIG, "time zone: %s is larger than %d bytes", path,
		                FP_TZDB_FILE_MAX);
		goto out;
	}
	rc = fp_tzif_footer(buf, len, rule, err);
out:
	free(buf);
	fclose(f);
	return rc;
}

int fp_tzdb_rule(const char *zoneinfo_dir, const char *name, char rule[FP_TZ_RULE_MAX],
                 struct fp_err *err)
{
	struct fp_tz tz;
	struct fp_err e2;
	int rc;
	rule[0] = '\0';
	if (!name || !*name || strcmp(name, "UTC") == 0) {
		memcpy(rule, "UTC0", 5);
		return 0;
	}
	if (cache_get(name, rule))
		return 0;
	rc = valid_name(name) && zoneinfo_dir ? read_rule(zoneinfo_dir, name, rule, err)
	                                      : FP_ENOTFOUND;
	if (rc == 0 && fp_tz_parse(rule, &tz, &e2))
		return fp_err_set(err, FP_EINVAL, "time zone '%s': its rule \"%s\" is invalid: %s",
		                  name, rule, e2.msg);
	if (rc == FP_ENOTFOUND && fp_tz_parse(name, &tz, NULL) == 0) {
		/* The name is itself a POSIX rule, such as "CET-1CEST,M3.5.0,M10.5.0/3". */
		snprintf(rule, FP_TZ_RULE_MAX, "%s", name);
		rc = 0;
	}
	if (rc == FP_ENOTFOUND)
		return fp_err_set(err, FP_ENOTFOUND, "unknown time zone '%.64s'", name);
	if (rc)
		return rc;
	cache_put(name, rule);
	return 0;
}
