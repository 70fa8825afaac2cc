/*
 * util.c — time formatting and role names shared by the server's modules.
 */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "server.h"

int64_t fp_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t fp_now_s(void)
{
	return (int64_t)time(NULL);
}

void fp_time_rfc3339(int64_t unix_s, char out[32])
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void fp_time_rfc3339_ms(int64_t unix_us, char out[32])
{
	time_t t = (time_t)(unix_us / 1000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char base[24];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", base, (int)((unix_us / 1000) % 1000));
}

static const char *const role_names[] = {"none", "viewer", "operator", "approver", "admin"};

const char *fp_role_name(int role)
{
	return role >= 0 && role <= FP_ROLE_ADMIN ? role_names[role] : "none";
}

int fp_role_parse(const char *s)
{
	for (int i = FP_ROLE_VIEWER; i <= FP_ROLE_ADMIN; i++)
		if (s && strcmp(s, role_names[i]) == 0)
			return i;
	return FP_ROLE_NONE;
}
