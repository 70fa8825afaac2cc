/*
 * tz.h — time zones as POSIX TZ rules, and weekly maintenance windows in a
 * device's local time. Pure: no I/O, no global state (localtime() and the TZ
 * environment variable are never used).
 *
 * A rule is the POSIX TZ string that also ends every TZif v2+ file of the
 * IANA database, e.g. "UTC0", "CET-1CEST,M3.5.0,M10.5.0/3",
 * "EST5EDT,M3.2.0,M11.1.0", "<+0545>-5:45", "AEST-10AEDT,M10.1.0,M4.1.0/3"
 * (southern hemisphere: DST spans the new year). The server maps an IANA
 * name ("Europe/Berlin") to its rule by reading the zoneinfo file's footer;
 * this module only ever sees the rule.
 *
 * Window semantics (docs/design/rollout.md): a window is a set of local
 * wall-clock minutes of the week. A UTC instant is inside when its local
 * time, under the offset in force at that instant, falls in the set. So on
 * the day clocks spring forward a window that lies wholly in the skipped
 * hour does not open that week, and on the day they fall back a window in
 * the repeated hour is open during both passes.
 */
#ifndef FLEETPATCH_TZ_H
#define FLEETPATCH_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "fleetpatch/err.h"

#define FP_TZ_RULE_MAX 64 /* bytes of a TZ rule string */
#define FP_TZ_NAME_MAX 16 /* bytes of an abbreviation such as "CEST" or "+0545" */

/* When DST starts or ends: Mm.w.d (month, week 1-5, weekday 0=Sunday), Jn or n. */
struct fp_tz_when {
	char kind;    /* 'M', 'J' (1-365, no Feb 29) or 'D' (0-365, counting Feb 29) */
	int month;    /* 1-12 for 'M' */
	int week;     /* 1-5 for 'M'; 5 means the last */
	int weekday;  /* 0-6 for 'M' */
	int day;      /* for 'J' and 'D' */
	int32_t time; /* seconds after local midnight, -167 h .. 167 h (RFC 8536 extension) */
};

struct fp_tz {
	char std_name[FP_TZ_NAME_MAX];
	char dst_name[FP_TZ_NAME_MAX]; /* "" when the zone has no DST */
	int32_t std_offset;            /* seconds EAST of UTC (POSIX writes them west) */
	int32_t dst_offset;
	int has_dst;
	struct fp_tz_when start, end; /* DST start (in standard time), end (in DST) */
};

/* Parses a POSIX TZ rule; errors name the offending part. "" is refused. */
int fp_tz_parse(const char *rule, struct fp_tz *tz, struct fp_err *err) FP_WUR;

/*
 * The POSIX TZ rule in the footer of a TZif file of version 2 or later
 * (RFC 8536), copied into rule. A version 1 file, bad magic, a truncated
 * file, an empty or unterminated footer: FP_EINVAL or FP_EUNSUPP (version
 * 1); more than 1 MiB or a rule of FP_TZ_RULE_MAX bytes or more: FP_ETOOBIG.
 * The rule is not parsed here (fp_tz_parse does that).
 */
int fp_tzif_footer(const uint8_t *buf, size_t len, char rule[FP_TZ_RULE_MAX],
                   struct fp_err *err) FP_WUR;

/* UTC: the zone with offset 0 and no DST. */
void fp_tz_utc(struct fp_tz *tz);

/* The offset, in seconds east of UTC, in force at the UTC instant utc. */
int32_t fp_tz_offset(const struct fp_tz *tz, int64_t utc);

/* Local wall-clock seconds since 1970-01-01 00:00 local, at the UTC instant utc. */
int64_t fp_tz_local(const struct fp_tz *tz, int64_t utc);

#define FP_WINDOWS_MAX 64 /* windows per rollout */
#define FP_WEEK_MIN    (7 * 24 * 60)

/*
 * A weekly window: it opens at `start` minutes after Monday 00:00 local and
 * lasts `length` minutes (1 .. FP_WEEK_MIN; a window that crosses Sunday
 * midnight wraps into Monday).
 */
struct fp_window {
	int32_t start;  /* 0 .. FP_WEEK_MIN - 1 */
	int32_t length; /* 1 .. FP_WEEK_MIN */
};

/*
 * Parses one window of the rollout specification into one window per day:
 * days is a comma-separated list of "mon".."sun" (or "daily", "weekdays",
 * "weekends"), start and end are "HH:MM" (24 h); end <= start means the
 * window ends the next day; end == start is refused (a window that never
 * opens). Appends to w[*n] (cap FP_WINDOWS_MAX, FP_ETOOBIG past it).
 */
int fp_window_parse(const char *days, const char *start, const char *end, struct fp_window *w,
                    size_t *n, struct fp_err *err) FP_WUR;

/*
 * Whether the UTC instant utc is inside one of the n windows in zone tz
 * (n == 0: always open, the rollout has no windows). When closed and next
 * is not NULL, *next receives the first UTC second, within the next 8 days,
 * at which a window is open (0 if none opens: every window lies in a DST
 * gap, which can only happen for one week of the year).
 */
int fp_window_open(const struct fp_window *w, size_t n, const struct fp_tz *tz, int64_t utc,
                   int64_t *next);

#endif
