/*
 * test_tz.c — unit tests of lib/tz.c: POSIX TZ rules (accepted and refused
 * forms), offsets around every transition of real zones with the expected
 * instants worked out from the calendar, a cross-check against glibc where
 * the zoneinfo database is installed, the TZif footer, and weekly windows
 * (edges, midnight, the week's end, and both DST changes).
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "fleetpatch/err.h"
#include "fleetpatch/tz.h"

#define H 3600

/* UTC seconds of a calendar date, by glibc's timegm (independent of lib/tz.c). */
static int64_t T(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = d,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = s};
	return (int64_t)timegm(&tm);
}

static struct fp_tz zone(const char *rule)
{
	struct fp_tz tz;
	struct fp_err err;
	int rc = fp_tz_parse(rule, &tz, &err);
	if (rc)
		fail_msg("%s: %s", rule, err.msg);
	return tz;
}

static void test_parse_accept(void **state)
{
	(void)state;
	struct fp_tz tz;
	tz = zone("UTC0");
	assert_string_equal(tz.std_name, "UTC");
	assert_int_equal(tz.std_offset, 0);
	assert_false(tz.has_dst);
	/* POSIX writes offsets west of Greenwich: -1 is one hour east. */
	tz = zone("CET-1CEST,M3.5.0,M10.5.0/3");
	assert_string_equal(tz.dst_name, "CEST");
	assert_int_equal(tz.std_offset, H);
	assert_int_equal(tz.dst_offset, 2 * H); /* the default: one hour more */
	assert_int_equal(tz.start.kind, 'M');
	assert_int_equal(tz.start.month, 3);
	assert_int_equal(tz.start.week, 5);
	assert_int_equal(tz.start.weekday, 0);
	assert_int_equal(tz.start.time, 2 * H); /* the default time */
	assert_int_equal(tz.end.month, 10);
	assert_int_equal(tz.end.time, 3 * H);
	tz = zone("<+0545>-5:45");
	assert_string_equal(tz.std_name, "+0545");
	assert_int_equal(tz.std_offset, 5 * H + 45 * 60);
	tz = zone("<-03>3");
	assert_int_equal(tz.std_offset, -3 * H);
	tz = zone("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
	assert_int_equal(tz.std_offset, 10 * H + 30 * 60);
	assert_int_equal(tz.dst_offset, 11 * H);
	/* Greenland's rule: a negative transition time. */
	tz = zone("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
	assert_int_equal(tz.start.time, -H);
	assert_int_equal(tz.end.time, 0);
	/* RFC 8536: times up to 167 h, and seconds. */
	tz = zone("EST5EDT,M3.2.0/167,M11.1.0/-167:59:59");
	assert_int_equal(tz.start.time, 167 * H);
	assert_int_equal(tz.end.time, -(167 * H + 59 * 60 + 59));
	tz = zone("AAA-2BBB,J60,J300");
	assert_int_equal(tz.start.kind, 'J');
	assert_int_equal(tz.start.day, 60);
	tz = zone("AAA-2BBB,0,365");
	assert_int_equal(tz.start.kind, 'D');
	assert_int_equal(tz.end.day, 365);
	tz = zone("AAA+01:02:03");
	assert_int_equal(tz.std_offset, -(H + 2 * 60 + 3));
	/* A DST name without rules: the documented US default. */
	tz = zone("EST5EDT");
	assert_true(tz.has_dst);
	assert_int_equal(tz.start.month, 3);
	assert_int_equal(tz.start.week, 2);
	assert_int_equal(tz.end.month, 11);
	assert_int_equal(tz.end.week, 1);
	tz = zone("EST5EDT4,M3.2.0,M11.1.0");
	assert_int_equal(tz.dst_offset, -4 * H);
}

static void test_parse_reject(void **state)
{
	(void)state;
	static const struct {
		const char *rule, *part;
	} bad[] = {
	    {"", "empty"},
	    {"UT0", "standard time name"},
	    {"U", "standard time name"},
	    {"UTC", "standard offset"},
	    {"<+05", "standard time name"},
	    {"<+0 5>-5", "standard time name"},
	    {"CET-25", "standard offset"},
	    {"CET-1:60", "standard offset"},
	    {"CET-1:5", "standard offset"},
	    {"CET-1C", "DST name"},
	    {"CET-1CEST,M3.5.0", "DST end"},
	    {"CET-1CEST,M13.5.0,M10.5.0", "DST start"},
	    {"CET-1CEST,M3.6.0,M10.5.0", "DST start"},
	    {"CET-1CEST,M3.5.7,M10.5.0", "DST start"},
	    {"CET-1CEST,M3.5.0,M10.5.0/168", "DST end time"},
	    {"CET-1CEST,J0,J100", "DST start"},
	    {"CET-1CEST,J1,366", "DST end"},
	    {"CET-1CEST,M3.5.0,M10.5.0/3x", "after the DST end"},
	    {"CET-1CEST-2:00:00x", "DST"},
	    {"CET-1 CEST", "DST name"},
	    {"CET-1CEST;M3", "DST offset"},
	    {"AAAAAAAAAAAAAAAAAAAA0", "longer than 15"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fp_tz tz;
		struct fp_err err = {0};
		int rc = fp_tz_parse(bad[i].rule, &tz, &err);
		if (rc == 0 || !strstr(err.msg, bad[i].part))
			fail_msg("\"%s\": rc %d, \"%s\" lacks \"%s\"", bad[i].rule, rc, err.msg,
			         bad[i].part);
	}
	/* The cap: FP_TZ_RULE_MAX - 1 bytes pass the length check, one more does not. */
	char rule[FP_TZ_RULE_MAX + 1];
	memset(rule, 'A', sizeof(rule));
	memcpy(rule + FP_TZ_RULE_MAX - 2, "0", 2);
	struct fp_tz tz;
	assert_int_equal(fp_tz_parse(rule, &tz, NULL), FP_EINVAL); /* a name too long */
	memset(rule, 'A', sizeof(rule));
	rule[FP_TZ_RULE_MAX] = '\0';
	assert_int_equal(fp_tz_parse(rule, &tz, NULL), FP_ETOOBIG);
	assert_int_equal(fp_tz_parse(NULL, &tz, NULL), FP_EINVAL);
}

/* Asserts the offset just before and at the transition instant t. */
static void around(const struct fp_tz *tz, int64_t t, int32_t before, int32_t after)
{
	if (fp_tz_offset(tz, t - 1) != before || fp_tz_offset(tz, t) != after)
		fail_msg("at %lld: %d/%d, expected %d/%d", (long long)t, fp_tz_offset(tz, t - 1),
		         fp_tz_offset(tz, t), before, after);
}

static void test_offsets(void **state)
{
	(void)state;
	/*
	 * Berlin: the last Sunday of March at 02:00 CET (UTC+1) and of October
	 * at 03:00 CEST (UTC+2). 2026-03-01 is a Sunday (2026-01-01 is a
	 * Thursday, plus 59 days), so the last March Sunday is the 29th:
	 * 01:00 UTC. 2026-10-01 is a Thursday, so the last October Sunday is
	 * the 25th: 03:00 CEST = 01:00 UTC.
	 */
	struct fp_tz tz = zone("CET-1CEST,M3.5.0,M10.5.0/3");
	around(&tz, T(2026, 3, 29, 1, 0, 0), H, 2 * H);
	around(&tz, T(2026, 10, 25, 1, 0, 0), 2 * H, H);
	/* 2027: March 1 is a Monday, so the last Sunday is the 28th; Oct 31 is a Sunday. */
	around(&tz, T(2027, 3, 28, 1, 0, 0), H, 2 * H);
	around(&tz, T(2027, 10, 31, 1, 0, 0), 2 * H, H);
	assert_int_equal(fp_tz_offset(&tz, T(2026, 1, 1, 0, 0, 0)), H);
	assert_int_equal(fp_tz_offset(&tz, T(2026, 12, 31, 23, 59, 59)), H);
	assert_int_equal(fp_tz_local(&tz, T(2026, 7, 1, 12, 0, 0)), T(2026, 7, 1, 14, 0, 0));

	/*
	 * New York: the second Sunday of March and the first of November, both
	 * at 02:00 local. 2026-03-08 at 02:00 EST (UTC-5) is 07:00 UTC;
	 * 2026-11-01 (a Sunday: October 1 is a Thursday, plus 31 days) at
	 * 02:00 EDT (UTC-4) is 06:00 UTC.
	 */
	tz = zone("EST5EDT,M3.2.0,M11.1.0");
	around(&tz, T(2026, 3, 8, 7, 0, 0), -5 * H, -4 * H);
	around(&tz, T(2026, 11, 1, 6, 0, 0), -4 * H, -5 * H);
	/* 2024 is a leap year: March 1 was a Friday, so the second Sunday is the 10th. */
	around(&tz, T(2024, 3, 10, 7, 0, 0), -5 * H, -4 * H);

	/*
	 * Sydney: DST from the first Sunday of October 02:00 AEST (UTC+10) to
	 * the first Sunday of April 03:00 AEDT (UTC+11), so it spans the new
	 * year. 2026-04-01 is a Wednesday: the first Sunday is April 5 and
	 * 03:00 AEDT is April 4 16:00 UTC. 2026-10-04 is the first October
	 * Sunday: 02:00 AEST is October 3 16:00 UTC.
	 */
	tz = zone("AEST-10AEDT,M10.1.0,M4.1.0/3");
	assert_int_equal(fp_tz_offset(&tz, T(2026, 1, 1, 0, 0, 0)), 11 * H);
	assert_int_equal(fp_tz_offset(&tz, T(2025, 12, 31, 23, 59, 59)), 11 * H);
	around(&tz, T(2026, 4, 4, 16, 0, 0), 11 * H, 10 * H);
	assert_int_equal(fp_tz_offset(&tz, T(2026, 7, 1, 0, 0, 0)), 10 * H);
	around(&tz, T(2026, 10, 3, 16, 0, 0), 10 * H, 11 * H);
	/* Local new year 2027 comes at 2026-12-31 13:00 UTC, in DST. */
	assert_int_equal(fp_tz_local(&tz, T(2026, 12, 31, 13, 0, 0)), T(2027, 1, 1, 0, 0, 0));

	/*
	 * Lord Howe: UTC+10:30, and +11 (only half an hour more) from the first
	 * Sunday of October 02:00 standard to the first Sunday of April 02:00
	 * DST. 2026-10-04 02:00 at +10:30 is October 3 15:30 UTC; 2026-04-05
	 * 02:00 at +11 is April 4 15:00 UTC.
	 */
	tz = zone("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
	around(&tz, T(2026, 4, 4, 15, 0, 0), 11 * H, 10 * H + 1800);
	around(&tz, T(2026, 10, 3, 15, 30, 0), 10 * H + 1800, 11 * H);

	tz = zone("<+0545>-5:45");
	assert_int_equal(fp_tz_offset(&tz, T(2026, 6, 1, 0, 0, 0)), 5 * H + 2700);
	assert_int_equal(fp_tz_local(&tz, 0), 5 * H + 2700);
	tz = zone("<-03>3");
	assert_int_equal(fp_tz_offset(&tz, T(2031, 1, 1, 0, 0, 0)), -3 * H);

	/*
	 * A J rule: J60 is March 1 in every year (Feb 29 is never counted),
	 * J300 is October 27 (273 days to the end of September, plus 27).
	 * At UTC+2 standard and UTC+3 DST: 2024-03-01 02:00 local = 00:00 UTC;
	 * 2024-10-27 02:00 DST = October 26 23:00 UTC.
	 */
	tz = zone("AAA-2BBB,J60,J300");
	around(&tz, T(2024, 3, 1, 0, 0, 0), 2 * H, 3 * H);
	around(&tz, T(2024, 10, 26, 23, 0, 0), 3 * H, 2 * H);
	around(&tz, T(2025, 3, 1, 0, 0, 0), 2 * H, 3 * H);

	/*
	 * A zero-based day rule counts Feb 29: day 59 is Feb 29 in 2024 and
	 * March 1 in 2025; day 299 is October 26 in 2024 (274 days to the end
	 * of a leap September, plus 26, minus one for counting from 0) and
	 * October 27 in 2025.
	 */
	tz = zone("AAA-2BBB,59,299");
	around(&tz, T(2024, 2, 29, 0, 0, 0), 2 * H, 3 * H);
	around(&tz, T(2024, 10, 25, 23, 0, 0), 3 * H, 2 * H);
	around(&tz, T(2025, 3, 1, 0, 0, 0), 2 * H, 3 * H);
	around(&tz, T(2025, 10, 26, 23, 0, 0), 3 * H, 2 * H);

	/*
	 * Greenland: -1 h on March's last Sunday (the 29th) is Saturday 23:00
	 * local at UTC-2, i.e. Sunday 01:00 UTC.
	 */
	tz = zone("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
	around(&tz, T(2026, 3, 29, 1, 0, 0), -2 * H, -H);
	/* Its end: Sunday October 25 00:00 at UTC-1 = 01:00 UTC. */
	around(&tz, T(2026, 10, 25, 1, 0, 0), -H, -2 * H);

	fp_tz_utc(&tz);
	assert_string_equal(tz.std_name, "UTC");
	assert_int_equal(fp_tz_offset(&tz, T(2026, 3, 29, 1, 0, 0)), 0);
}

/* fp_tz_offset agrees with glibc for rules from the installed zoneinfo footers. */
static void test_glibc(void **state)
{
	(void)state;
	static const char *const zones[] = {
	    "Europe/Berlin",    "America/New_York",  "Australia/Sydney",  "Australia/Lord_Howe",
	    "Asia/Kathmandu",   "America/Sao_Paulo", "America/Nuuk",      "Pacific/Chatham",
	    "America/Santiago", "Europe/Dublin",     "Africa/Casablanca", "Asia/Tehran",
	};
	FILE *probe = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
	if (!probe)
		skip();
	fclose(probe);
	static uint8_t buf[1 << 20];
	int checked = 0;
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		char path[256], rule[FP_TZ_RULE_MAX];
		snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zones[z]);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (fp_tzif_footer(buf, len, rule, NULL))
			continue;
		struct fp_tz tz = zone(rule);
		setenv("TZ", rule, 1);
		tzset();
		for (int64_t t = T(2020, 1, 1, 0, 0, 0); t < T(2035, 12, 31, 0, 0, 0);
		     t += 86400 * 3 + 3607) {
			struct tm tm;
			time_t tt = (time_t)t;
			localtime_r(&tt, &tm);
			if (tm.tm_gmtoff != fp_tz_offset(&tz, t))
				fail_msg("%s (%s) at %lld: glibc %ld, ours %d", zones[z], rule,
				         (long long)t, tm.tm_gmtoff, fp_tz_offset(&tz, t));
			checked++;
		}
	}
	unsetenv("TZ");
	tzset();
	assert_true(checked > 1000);
}

/* A TZif v2 file: v1 header and data, v2 header and data, then the footer. */
static size_t tzif(uint8_t *b, char version, const char *footer)
{
	size_t n = 0;
	/* v1: timecnt 1, typecnt 1, charcnt 4: 4 + 1 + 6 + 4 = 15 bytes of data. */
	for (int part = 0; part < 2; part++) {
		memcpy(b + n, "TZif", 4);
		b[n + 4] = (uint8_t)version;
		memset(b + n + 5, 0, 39);
		b[n + 35] = 1; /* timecnt */
		b[n + 39] = 1; /* typecnt */
		b[n + 43] = 4; /* charcnt */
		n += 44;
		size_t data = part == 0 ? 15 : 19; /* v2 times take 8 bytes */
		memset(b + n, 0, data);
		memcpy(b + n + data - 4, "UTC", 4);
		n += data;
		if (version == 0)
			return n;
	}
	memcpy(b + n, footer, strlen(footer));
	return n + strlen(footer);
}

static void test_tzif(void **state)
{
	(void)state;
	uint8_t b[512];
	char rule[FP_TZ_RULE_MAX];
	struct fp_err err;
	size_t n = tzif(b, '2', "\nUTC0\n");
	assert_int_equal(fp_tzif_footer(b, n, rule, &err), 0);
	assert_string_equal(rule, "UTC0");
	n = tzif(b, '3', "\n<+0545>-5:45\n");
	assert_int_equal(fp_tzif_footer(b, n, rule, &err), 0);
	assert_string_equal(rule, "<+0545>-5:45");
	/* Truncated at every length: refused, never read past the end. */
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *c = malloc(cut ? cut : 1);
		memcpy(c, b, cut);
		assert_true(fp_tzif_footer(c, cut, rule, &err) < 0);
		free(c);
	}
	n = tzif(b, 0, "");
	assert_int_equal(fp_tzif_footer(b, n, rule, &err), FP_EUNSUPP);
	assert_non_null(strstr(err.msg, "version 1"));
	n = tzif(b, '2', "\n\n");
	assert_int_equal(fp_tzif_footer(b, n, rule, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "empty"));
	n = tzif(b, '2', "\nUTC0");
	assert_int_equal(fp_tzif_footer(b, n, rule, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "not terminated"));
	n = tzif(b, '2', "\nUTC0\n");
	b[0] = 'X';
	assert_int_equal(fp_tzif_footer(b, n, rule, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "magic"));
	/* A rule of FP_TZ_RULE_MAX bytes does not fit. */
	char big[FP_TZ_RULE_MAX + 3];
	big[0] = '\n';
	memset(big + 1, 'A', FP_TZ_RULE_MAX);
	big[FP_TZ_RULE_MAX + 1] = '\n';
	big[FP_TZ_RULE_MAX + 2] = '\0';
	n = tzif(b, '2', big);
	assert_int_equal(fp_tzif_footer(b, n, rule, &err), FP_ETOOBIG);
	assert_int_equal(fp_tzif_footer(b, (1 << 20) + 1, rule, &err), FP_ETOOBIG);

	FILE *f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
	if (!f)
		return;
	static uint8_t file[1 << 20];
	size_t len = fread(file, 1, sizeof(file), f);
	fclose(f);
	assert_int_equal(fp_tzif_footer(file, len, rule, &err), 0);
	assert_string_equal(rule, "CET-1CEST,M3.5.0,M10.5.0/3");
}

static void test_window_parse(void **state)
{
	(void)state;
	struct fp_window w[FP_WINDOWS_MAX];
	size_t n = 0;
	struct fp_err err;
	assert_int_equal(fp_window_parse("mon", "09:00", "17:00", w, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(w[0].start, 9 * 60);
	assert_int_equal(w[0].length, 8 * 60);
	/* Case-insensitive, duplicates merged, emitted Monday first. */
	assert_int_equal(fp_window_parse("SUN,Tue,tue", "22:00", "02:00", w, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(w[1].start, 1 * 1440 + 22 * 60);
	assert_int_equal(w[2].start, 6 * 1440 + 22 * 60);
	assert_int_equal(w[2].length, 4 * 60);
	n = 0;
	assert_int_equal(fp_window_parse("weekdays", "00:00", "24:00", w, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_int_equal(w[4].start, 4 * 1440);
	assert_int_equal(w[4].length, 1440);
	n = 0;
	assert_int_equal(fp_window_parse("weekends", "23:59", "00:00", w, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(w[0].start, 5 * 1440 + 23 * 60 + 59);
	assert_int_equal(w[0].length, 1);
	n = 0;
	assert_int_equal(fp_window_parse("daily", "02:00", "05:00", w, &n, &err), 0);
	assert_int_equal(n, 7);
	static const struct {
		const char *days, *start, *end, *part;
	} bad[] = {
	    {"", "09:00", "10:00", "days"},           {"mon,", "09:00", "10:00", "days"},
	    {"monday", "09:00", "10:00", "days"},     {"mon", "9:00", "10:00", "start"},
	    {"mon", "24:00", "10:00", "start"},       {"mon", "09:60", "10:00", "start"},
	    {"mon", "09:00", "24:01", "end"},         {"mon", "09:00", "1000", "end"},
	    {"mon", "09:00", "09:00", "never opens"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t m = 0;
		int rc = fp_window_parse(bad[i].days, bad[i].start, bad[i].end, w, &m, &err);
		if (rc != FP_EINVAL || m != 0 || !strstr(err.msg, bad[i].part))
			fail_msg("%s %s-%s: rc %d \"%s\"", bad[i].days, bad[i].start, bad[i].end,
			         rc, err.msg);
	}
	/* The cap: nine daily windows are 63; one more day is 64; then no more. */
	n = 0;
	for (int i = 0; i < 9; i++)
		assert_int_equal(fp_window_parse("daily", "01:00", "02:00", w, &n, &err), 0);
	assert_int_equal(fp_window_parse("weekdays", "01:00", "02:00", w, &n, &err), FP_ETOOBIG);
	assert_int_equal(n, 63);
	assert_int_equal(fp_window_parse("mon", "01:00", "02:00", w, &n, &err), 0);
	assert_int_equal(fp_window_parse("mon", "01:00", "02:00", w, &n, &err), FP_ETOOBIG);
	assert_int_equal(n, FP_WINDOWS_MAX);
}

static int open_at(const struct fp_window *w, size_t n, const struct fp_tz *tz, int64_t t)
{
	return fp_window_open(w, n, tz, t, NULL);
}

static void test_window_open(void **state)
{
	(void)state;
	struct fp_window w[FP_WINDOWS_MAX];
	size_t n = 0;
	struct fp_tz utc;
	int64_t next = -1;
	fp_tz_utc(&utc);
	/* No windows: always open. */
	assert_true(open_at(w, 0, &utc, 0));
	/* 2026-11-23 is a Monday (2026-11-01 was a Sunday). Start inclusive, end exclusive. */
	assert_int_equal(fp_window_parse("mon", "09:00", "17:00", w, &n, NULL), 0);
	assert_false(open_at(w, n, &utc, T(2026, 11, 23, 8, 59, 59)));
	assert_true(open_at(w, n, &utc, T(2026, 11, 23, 9, 0, 0)));
	assert_true(open_at(w, n, &utc, T(2026, 11, 23, 16, 59, 59)));
	assert_false(open_at(w, n, &utc, T(2026, 11, 23, 17, 0, 0)));
	assert_false(open_at(w, n, &utc, T(2026, 11, 24, 10, 0, 0)));
	assert_false(fp_window_open(w, n, &utc, T(2026, 11, 23, 8, 0, 0), &next));
	assert_int_equal(next, T(2026, 11, 23, 9, 0, 0));
	assert_false(fp_window_open(w, n, &utc, T(2026, 11, 23, 17, 0, 0), &next));
	assert_int_equal(next, T(2026, 11, 30, 9, 0, 0));
	/* Crossing midnight: Friday 22:00 to Saturday 02:00. */
	n = 0;
	assert_int_equal(fp_window_parse("fri", "22:00", "02:00", w, &n, NULL), 0);
	assert_true(open_at(w, n, &utc, T(2026, 11, 27, 22, 0, 0)));
	assert_true(open_at(w, n, &utc, T(2026, 11, 28, 1, 59, 59)));
	assert_false(open_at(w, n, &utc, T(2026, 11, 28, 2, 0, 0)));
	/* Crossing the week's end: Sunday 23:00 to Monday 01:00. */
	n = 0;
	assert_int_equal(fp_window_parse("sun", "23:00", "01:00", w, &n, NULL), 0);
	assert_false(open_at(w, n, &utc, T(2026, 11, 22, 22, 59, 59)));
	assert_true(open_at(w, n, &utc, T(2026, 11, 22, 23, 30, 0)));
	assert_true(open_at(w, n, &utc, T(2026, 11, 23, 0, 59, 59)));
	assert_false(open_at(w, n, &utc, T(2026, 11, 23, 1, 0, 0)));
	assert_false(fp_window_open(w, n, &utc, T(2026, 11, 23, 1, 0, 0), &next));
	assert_int_equal(next, T(2026, 11, 29, 23, 0, 0));

	/* In a zone: New York's Monday 09:00 EST is 14:00 UTC. */
	struct fp_tz ny = zone("EST5EDT,M3.2.0,M11.1.0");
	n = 0;
	assert_int_equal(fp_window_parse("mon", "09:00", "17:00", w, &n, NULL), 0);
	assert_false(fp_window_open(w, n, &ny, T(2026, 11, 23, 13, 0, 0), &next));
	assert_int_equal(next, T(2026, 11, 23, 14, 0, 0));

	/*
	 * Berlin springs forward on Sunday 2026-03-29 at 02:00 CET = 01:00 UTC
	 * to 03:00 CEST. A window 02:00-03:00 lies wholly in the gap and does
	 * not open that week; the next one is Sunday April 5 02:00 CEST =
	 * 00:00 UTC.
	 */
	struct fp_tz be = zone("CET-1CEST,M3.5.0,M10.5.0/3");
	n = 0;
	assert_int_equal(fp_window_parse("sun", "02:00", "03:00", w, &n, NULL), 0);
	for (int64_t t = T(2026, 3, 28, 22, 0, 0); t < T(2026, 3, 29, 23, 0, 0); t += 60)
		assert_false(open_at(w, n, &be, t));
	assert_false(fp_window_open(w, n, &be, T(2026, 3, 28, 12, 0, 0), &next));
	assert_int_equal(next, T(2026, 4, 5, 0, 0, 0));
	/* 02:00-04:00 opens at the gap's end, 03:00 CEST = 01:00 UTC, until 04:00 CEST. */
	n = 0;
	assert_int_equal(fp_window_parse("sun", "02:00", "04:00", w, &n, NULL), 0);
	assert_false(open_at(w, n, &be, T(2026, 3, 29, 0, 59, 59)));
	assert_true(open_at(w, n, &be, T(2026, 3, 29, 1, 0, 0)));
	assert_true(open_at(w, n, &be, T(2026, 3, 29, 1, 59, 59)));
	assert_false(open_at(w, n, &be, T(2026, 3, 29, 2, 0, 0)));
	assert_false(fp_window_open(w, n, &be, T(2026, 3, 28, 12, 0, 0), &next));
	assert_int_equal(next, T(2026, 3, 29, 1, 0, 0));
	/*
	 * Berlin falls back on Sunday 2026-10-25 at 03:00 CEST = 01:00 UTC to
	 * 02:00 CET. 02:00-03:00 local is open during both passes: 00:00-01:00
	 * UTC (CEST) and 01:00-02:00 UTC (CET).
	 */
	n = 0;
	assert_int_equal(fp_window_parse("sun", "02:00", "03:00", w, &n, NULL), 0);
	assert_false(open_at(w, n, &be, T(2026, 10, 24, 23, 59, 59)));
	assert_true(open_at(w, n, &be, T(2026, 10, 25, 0, 0, 0)));
	assert_true(open_at(w, n, &be, T(2026, 10, 25, 0, 59, 59)));
	assert_true(open_at(w, n, &be, T(2026, 10, 25, 1, 0, 0)));
	assert_true(open_at(w, n, &be, T(2026, 10, 25, 1, 59, 59)));
	assert_false(open_at(w, n, &be, T(2026, 10, 25, 2, 0, 0)));
	assert_false(fp_window_open(w, n, &be, T(2026, 10, 24, 12, 0, 0), &next));
	assert_int_equal(next, T(2026, 10, 25, 0, 0, 0));
	/* A window 01:30-02:30 that the fall-back jump lands in: it reopens at 01:00 UTC. */
	n = 0;
	assert_int_equal(fp_window_parse("sun", "01:30", "02:30", w, &n, NULL), 0);
	assert_false(fp_window_open(w, n, &be, T(2026, 10, 25, 0, 30, 0), &next));
	assert_int_equal(next, T(2026, 10, 25, 1, 0, 0));
}

/* next agrees with a second-by-second search over random windows and instants. */
static void test_window_next_brute(void **state)
{
	(void)state;
	static const char *const rules[] = {"CET-1CEST,M3.5.0,M10.5.0/3",
	                                    "AEST-10AEDT,M10.1.0,M4.1.0/3",
	                                    "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", "<+0545>-5:45"};
	static const char *const days[] = {"mon", "sun", "sat,sun", "weekdays", "thu"};
	uint32_t seed = 12345;
	for (int iter = 0; iter < 300; iter++) {
		seed = seed * 1103515245u + 12345u;
		struct fp_tz tz = zone(rules[(seed >> 8) % 4]);
		struct fp_window w[FP_WINDOWS_MAX];
		size_t n = 0;
		char st[8], en[8];
		int a = (int)((seed >> 12) % 24), b = (int)((seed >> 17) % 24);
		if (a == b)
			b = (b + 1) % 24;
		snprintf(st, sizeof(st), "%02d:%02d", a, (int)(seed >> 22) % 2 * 30);
		snprintf(en, sizeof(en), "%02d:00", b);
		assert_int_equal(fp_window_parse(days[(seed >> 3) % 5], st, en, w, &n, NULL), 0);
		/* Instants around the changes of 2026 and at random. */
		static const int64_t bases[] = {1774742400, 1792886400, 1775260800, 1790985600};
		seed = seed * 1103515245u + 12345u;
		int64_t t = bases[iter % 4] + (int64_t)(seed % (6 * 86400)) - 3 * 86400;
		int64_t next = -1;
		if (fp_window_open(w, n, &tz, t, &next))
			continue;
		int64_t want = 0;
		/* Openings and transitions of these zones fall on whole UTC minutes. */
		for (int64_t s = (t / 60 + 1) * 60; s <= t + 8 * 86400; s += 60)
			if (fp_window_open(w, n, &tz, s, NULL)) {
				want = s;
				break;
			}
		if (next != want)
			fail_msg("iter %d: next %lld, brute force %lld", iter, (long long)next,
			         (long long)want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_accept), cmocka_unit_test(test_parse_reject),
	    cmocka_unit_test(test_offsets),      cmocka_unit_test(test_glibc),
	    cmocka_unit_test(test_tzif),         cmocka_unit_test(test_window_parse),
	    cmocka_unit_test(test_window_open),  cmocka_unit_test(test_window_next_brute),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
