/*
 * tz.c — POSIX TZ rules, the TZif footer that carries them, and weekly
 * maintenance windows in local time (tz.h).
 *
 * Everything here is arithmetic on the proleptic Gregorian calendar: the
 * transitions of a year are computed from the rule each time they are
 * needed, so there is no table, no global state and no I/O. The calendar
 * helpers work for any year a 64-bit time can reach in practice.
 */
#include "fleetpatch/tz.h"

#include <stdio.h>
#include <string.h>

#define DAY_S                   86400LL
#define WEEK_S                  (7 * DAY_S)
#define TZ_OFFSET_H_MAX         24  /* hours of a UTC offset (POSIX allows 0-24) */
#define TZ_TIME_H_MAX           167 /* hours of a transition time (RFC 8536 extension) */
#define TZIF_MAX                (1024 * 1024)
#define TZIF_HEADER_LEN         44
#define NEXT_OPEN_DAYS          8
#define DEFAULT_TRANSITION_TIME (2 * 3600)
/*
 * Instants further than this from 1970 (about 35 million years) are
 * evaluated as if at this bound, which keeps every sum below free of
 * overflow; no rule changes anything at that distance.
 */
#define TZ_INSTANT_MAX (INT64_C(1) << 50)

/* ---- Calendar --------------------------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The civil year of the day `days` after 1970-01-01. */
static int64_t year_of_days(int64_t z)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	return yoe + era * 400 + (m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* 0 = Sunday .. 6 = Saturday; 1970-01-01 was a Thursday. */
static int weekday_sun0(int64_t days)
{
	return (int)floor_mod(days + 4, 7);
}

/* The local second (since 1970 local) at which `w` happens in year y. */
static int64_t when_local(const struct fp_tz_when *w, int64_t y)
{
	int64_t day;
	if (w->kind == 'J') {
		/* Jn counts 1..365 and never Feb 29: day 60 is March 1 in every year. */
		day = days_from_civil(y, 1, 1) + w->day - 1 + (is_leap(y) && w->day >= 60);
	} else if (w->kind == 'D') {
		day = days_from_civil(y, 1, 1) + w->day;
	} else {
		int64_t first = days_from_civil(y, w->month, 1);
		int64_t d = first + (w->weekday - weekday_sun0(first) + 7) % 7 + (w->week - 1) * 7;
		/* Week 5 means the last such weekday of the month. */
		while (d >= first + month_days(y, w->month))
			d -= 7;
		day = d;
	}
	return day * DAY_S + w->time;
}

/*
 * DST of the year y: from *s (inclusive) to *e (exclusive), in UTC. The
 * start is given in standard time and the end in DST. When the end of y
 * comes before its start (southern hemisphere), the DST that starts in y
 * ends in y + 1.
 */
static void dst_span(const struct fp_tz *tz, int64_t y, int64_t *s, int64_t *e)
{
	*s = when_local(&tz->start, y) - tz->std_offset;
	*e = when_local(&tz->end, y) - tz->dst_offset;
	if (*e <= *s)
		*e = when_local(&tz->end, y + 1) - tz->dst_offset;
}

void fp_tz_utc(struct fp_tz *tz)
{
	memset(tz, 0, sizeof(*tz));
	memcpy(tz->std_name, "UTC", 4);
}

static int64_t clamp_instant(int64_t t)
{
	return t > TZ_INSTANT_MAX ? TZ_INSTANT_MAX : t < -TZ_INSTANT_MAX ? -TZ_INSTANT_MAX : t;
}

int32_t fp_tz_offset(const struct fp_tz *tz, int64_t utc)
{
	if (!tz->has_dst)
		return tz->std_offset;
	utc = clamp_instant(utc);
	int64_t y = year_of_days(floor_div(utc, DAY_S));
	/* Transition times reach ±167 h, so the spans of the neighbouring years matter too. */
	for (int64_t k = y - 1; k <= y + 1; k++) {
		int64_t s, e;
		dst_span(tz, k, &s, &e);
		if (s <= utc && utc < e)
			return tz->dst_offset;
	}
	return tz->std_offset;
}

int64_t fp_tz_local(const struct fp_tz *tz, int64_t utc)
{
	int64_t local;
	/* Saturates instead of overflowing at the ends of the range. */
	if (__builtin_add_overflow(utc, (int64_t)fp_tz_offset(tz, utc), &local))
		return utc < 0 ? INT64_MIN : INT64_MAX;
	return local;
}

/* ---- Parsing rules ---------------------------------------------------------------------- */

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* An abbreviation: three or more letters, or <...> with letters, digits, + and -. */
static int parse_name(const char **p, char out[FP_TZ_NAME_MAX], const char *what,
                      struct fp_err *err)
{
	const char *s = *p;
	size_t len = 0;
	if (*s == '<') {
		s++;
		while (is_alpha(s[len]) || is_digit(s[len]) || s[len] == '+' || s[len] == '-')
			len++;
		if (s[len] != '>')
			return fp_err_set(err, FP_EINVAL,
			                  "time zone: the %s name in <...> must hold only letters, "
			                  "digits, + and - and end with '>'",
			                  what);
		*p = s + len + 1;
	} else {
		while (is_alpha(s[len]))
			len++;
		*p = s + len;
	}
	if (len < 3)
		return fp_err_set(err, FP_EINVAL,
		                  "time zone: the %s name must have at least 3 characters", what);
	if (len >= FP_TZ_NAME_MAX)
		return fp_err_set(err, FP_EINVAL,
		                  "time zone: the %s name is longer than %d characters", what,
		                  FP_TZ_NAME_MAX - 1);
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

/* [+-]h[h][:mm[:ss]] with hours up to hmax, as seconds (sign as written). */
static int parse_hms(const char **p, int hmax, int32_t *out, const char *what, struct fp_err *err)
{
	const char *s = *p;
	int sign = 1;
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!is_digit(*s))
		return fp_err_set(err, FP_EINVAL, "time zone: the %s needs hours", what);
	int h = 0, m = 0, sec = 0, nd = 0;
	while (is_digit(*s) && nd < 3) {
		h = h * 10 + (*s++ - '0');
		nd++;
	}
	if (is_digit(*s) || h > hmax)
		return fp_err_set(err, FP_EINVAL, "time zone: the %s's hours must be 0-%d", what,
		                  hmax);
	if (*s == ':') {
		if (!is_digit(s[1]) || !is_digit(s[2]) || (m = (s[1] - '0') * 10 + s[2] - '0') > 59)
			return fp_err_set(err, FP_EINVAL,
			                  "time zone: the %s's minutes must be two digits 00-59",
			                  what);
		s += 3;
		if (*s == ':') {
			if (!is_digit(s[1]) || !is_digit(s[2]) ||
			    (sec = (s[1] - '0') * 10 + s[2] - '0') > 59)
				return fp_err_set(err, FP_EINVAL,
				                  "time zone: the %s's seconds must be two digits "
				                  "00-59",
				                  what);
			s += 3;
		}
	}
	*p = s;
	*out = sign * (h * 3600 + m * 60 + sec);
	return 0;
}

static int parse_num(const char **p, int lo, int hi, int *out)
{
	const char *s = *p;
	int v = 0, nd = 0;
	while (is_digit(*s) && nd < 4) {
		v = v * 10 + (*s++ - '0');
		nd++;
	}
	if (nd == 0 || is_digit(*s) || v < lo || v > hi)
		return -1;
	*p = s;
	*out = v;
	return 0;
}

/* Mm.w.d, Jn or n, then an optional /time. */
static int parse_when(const char **p, struct fp_tz_when *w, const char *what, struct fp_err *err)
{
	const char *s = *p;
	memset(w, 0, sizeof(*w));
	if (*s == 'M') {
		s++;
		w->kind = 'M';
		if (parse_num(&s, 1, 12, &w->month) || *s++ != '.' ||
		    parse_num(&s, 1, 5, &w->week) || *s++ != '.' ||
		    parse_num(&s, 0, 6, &w->weekday))
			return fp_err_set(
			    err, FP_EINVAL,
			    "time zone: the DST %s must be Mm.w.d with month 1-12, week "
			    "1-5 and weekday 0-6",
			    what);
	} else if (*s == 'J') {
		s++;
		w->kind = 'J';
		if (parse_num(&s, 1, 365, &w->day))
			return fp_err_set(err, FP_EINVAL,
			                  "time zone: the DST %s Jn needs a day 1-365", what);
	} else {
		w->kind = 'D';
		if (parse_num(&s, 0, 365, &w->day))
			return fp_err_set(err, FP_EINVAL,
			                  "time zone: the DST %s must be Mm.w.d, Jn (1-365) or n "
			                  "(0-365)",
			                  what);
	}
	w->time = DEFAULT_TRANSITION_TIME;
	if (*s == '/') {
		s++;
		char tw[32];
		snprintf(tw, sizeof(tw), "DST %s time", what);
		int rc = parse_hms(&s, TZ_TIME_H_MAX, &w->time, tw, err);
		if (rc)
			return rc;
	}
	*p = s;
	return 0;
}

int fp_tz_parse(const char *rule, struct fp_tz *tz, struct fp_err *err)
{
	struct fp_tz t;
	memset(&t, 0, sizeof(t));
	if (!rule || !*rule)
		return fp_err_set(err, FP_EINVAL, "time zone: the rule is empty");
	size_t rlen = 0;
	while (rlen < FP_TZ_RULE_MAX && rule[rlen])
		rlen++;
	if (rlen >= FP_TZ_RULE_MAX)
		return fp_err_set(err, FP_ETOOBIG, "time zone: the rule is longer than %d bytes",
		                  FP_TZ_RULE_MAX - 1);
	const char *p = rule;
	int32_t west;
	int rc = parse_name(&p, t.std_name, "standard time", err);
	if (rc)
		return rc;
	if ((rc = parse_hms(&p, TZ_OFFSET_H_MAX, &west, "standard offset", err)))
		return rc;
	t.std_offset = -west;
	if (*p == '\0')
		goto done;
	if ((rc = parse_name(&p, t.dst_name, "DST", err)))
		return rc;
	t.has_dst = 1;
	t.dst_offset = t.std_offset + 3600;
	if (*p != '\0' && *p != ',') {
		if ((rc = parse_hms(&p, TZ_OFFSET_H_MAX, &west, "DST offset", err)))
			return rc;
		t.dst_offset = -west;
	}
	if (*p == '\0') {
		/*
		 * A DST name without rules: POSIX leaves the rules to the
		 * implementation; like glibc and the tz code we use the US rules
		 * since 2007 (second Sunday in March to first Sunday in November).
		 */
		t.start = (struct fp_tz_when){.kind = 'M', .month = 3, .week = 2, .time = 7200};
		t.end = (struct fp_tz_when){.kind = 'M', .month = 11, .week = 1, .time = 7200};
		goto done;
	}
	if (*p++ != ',')
		return fp_err_set(err, FP_EINVAL,
		                  "time zone: expected ',' and the DST start after the DST name");
	if ((rc = parse_when(&p, &t.start, "start", err)))
		return rc;
	if (*p++ != ',')
		return fp_err_set(err, FP_EINVAL, "time zone: expected ',' and the DST end");
	if ((rc = parse_when(&p, &t.end, "end", err)))
		return rc;
	if (*p != '\0')
		return fp_err_set(err, FP_EINVAL, "time zone: unexpected text after the DST end");
done:
	if (*p != '\0')
		return fp_err_set(err, FP_EINVAL,
		                  "time zone: unexpected text after the standard offset");
	*tz = t;
	return 0;
}

/* ---- TZif footer ------------------------------------------------------------------------ */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The size of the data block after the header at h, with time values of tsize bytes. */
static uint64_t tzif_block(const uint8_t *h, uint64_t tsize)
{
	uint64_t isut = be32(h + 20), isstd = be32(h + 24), leap = be32(h + 28),
	         timecnt = be32(h + 32), typecnt = be32(h + 36), charcnt = be32(h + 40);
	return timecnt * tsize + timecnt + typecnt * 6 + charcnt + leap * (tsize + 4) + isstd +
	       isut;
}

int fp_tzif_footer(const uint8_t *buf, size_t len, char rule[FP_TZ_RULE_MAX], struct fp_err *err)
{
	rule[0] = '\0';
	if (len > TZIF_MAX)
		return fp_err_set(err, FP_ETOOBIG, "TZif: the file is larger than %d bytes",
		                  TZIF_MAX);
	if (len < TZIF_HEADER_LEN || memcmp(buf, "TZif", 4) != 0)
		return fp_err_set(err, FP_EINVAL, "TZif: not a TZif file (bad magic or too short)");
	if (buf[4] == '\0')
		return fp_err_set(err, FP_EUNSUPP,
		                  "TZif: a version 1 file has no POSIX rule footer; version 2 or "
		                  "later is needed");
	if (buf[4] < '2' || buf[4] > '9')
		return fp_err_set(err, FP_EINVAL, "TZif: unknown version byte 0x%02x", buf[4]);
	uint64_t off = TZIF_HEADER_LEN + tzif_block(buf, 4);
	if (off + TZIF_HEADER_LEN > len)
		return fp_err_set(err, FP_EINVAL, "TZif: truncated in the version 1 data");
	const uint8_t *h2 = buf + off;
	if (memcmp(h2, "TZif", 4) != 0 || h2[4] != buf[4])
		return fp_err_set(err, FP_EINVAL,
		                  "TZif: the second header is missing or has another version");
	off += TZIF_HEADER_LEN + tzif_block(h2, 8);
	if (off >= len)
		return fp_err_set(err, FP_EINVAL, "TZif: truncated in the version 2 data");
	if (buf[off] != '\n')
		return fp_err_set(err, FP_EINVAL, "TZif: the footer does not start with a newline");
	size_t start = (size_t)off + 1, end = start;
	while (end < len && buf[end] != '\n') {
		if (buf[end] < 0x20 || buf[end] > 0x7e)
			return fp_err_set(err, FP_EINVAL,
			                  "TZif: the footer holds a non-printable byte");
		end++;
	}
	if (end >= len)
		return fp_err_set(err, FP_EINVAL,
		                  "TZif: the footer is not terminated by a newline");
	if (end == start)
		return fp_err_set(err, FP_EINVAL,
		                  "TZif: the footer is empty (no rule for times after the last "
		                  "transition)");
	if (end - start >= FP_TZ_RULE_MAX)
		return fp_err_set(err, FP_ETOOBIG, "TZif: the footer rule is longer than %d bytes",
		                  FP_TZ_RULE_MAX - 1);
	memcpy(rule, buf + start, end - start);
	rule[end - start] = '\0';
	return 0;
}

/* ---- Windows ---------------------------------------------------------------------------- */

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int token_is(const char *t, size_t len, const char *name)
{
	if (strlen(name) != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (lower(t[i]) != name[i])
			return 0;
	return 1;
}

/* "HH:MM" as minutes; max_h 24 lets "24:00" through (for the end). */
static int parse_hhmm(const char *s, int allow_24, int *out)
{
	if (!s || strlen(s) != 5 || !is_digit(s[0]) || !is_digit(s[1]) || s[2] != ':' ||
	    !is_digit(s[3]) || !is_digit(s[4]))
		return -1;
	int h = (s[0] - '0') * 10 + s[1] - '0', m = (s[3] - '0') * 10 + s[4] - '0';
	if (m > 59 || h > 24 || (h == 24 && (!allow_24 || m != 0)))
		return -1;
	*out = h * 60 + m;
	return 0;
}

int fp_window_parse(const char *days, const char *start, const char *end, struct fp_window *w,
                    size_t *n, struct fp_err *err)
{
	unsigned mask = 0;
	int a, b;
	if (!days || !*days)
		return fp_err_set(err, FP_EINVAL, "window: days is empty");
	if (strlen(days) > 64)
		return fp_err_set(err, FP_EINVAL, "window: days is longer than 64 bytes");
	for (const char *p = days;;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		unsigned m = 0;
		for (int d = 0; d < 7; d++)
			if (token_is(p, len, day_names[d]))
				m = 1u << d;
		if (token_is(p, len, "daily"))
			m = 0x7f;
		else if (token_is(p, len, "weekdays"))
			m = 0x1f;
		else if (token_is(p, len, "weekends"))
			m = 0x60;
		if (!m)
			return fp_err_set(
			    err, FP_EINVAL,
			    "window: days: '%.*s' is not mon..sun, daily, weekdays or "
			    "weekends",
			    (int)(len > 16 ? 16 : len), p);
		mask |= m;
		if (!c)
			break;
		p = c + 1;
	}
	if (parse_hhmm(start, 0, &a))
		return fp_err_set(err, FP_EINVAL,
		                  "window: start must be HH:MM between 00:00 and 23:59");
	if (parse_hhmm(end, 1, &b))
		return fp_err_set(err, FP_EINVAL,
		                  "window: end must be HH:MM between 00:00 and 24:00");
	if (a == b)
		return fp_err_set(err, FP_EINVAL,
		                  "window: start and end are equal, a window that never opens");
	int length = b > a ? b - a : b + 1440 - a;
	size_t count = 0;
	for (int d = 0; d < 7; d++)
		count += (mask >> d) & 1;
	if (*n + count > FP_WINDOWS_MAX)
		return fp_err_set(err, FP_ETOOBIG, "window: more than %d windows (one per day)",
		                  FP_WINDOWS_MAX);
	for (int d = 0; d < 7; d++)
		if ((mask >> d) & 1)
			w[(*n)++] = (struct fp_window){.start = d * 1440 + a, .length = length};
	return 0;
}

/* Whether the local second `local` lies in one of the windows. */
static int local_inside(const struct fp_window *w, size_t n, int64_t local)
{
	/* 1970-01-01 was a Thursday, day 3 of a week that starts on Monday. */
	int64_t mow = floor_mod(floor_div(local, 60) + 3 * 1440, FP_WEEK_MIN);
	for (size_t i = 0; i < n; i++)
		if (floor_mod(mow - w[i].start, FP_WEEK_MIN) < w[i].length)
			return 1;
	return 0;
}

/* Keeps c in *best when it is after utc, within the horizon, open and earlier. */
static void consider(const struct fp_window *w, size_t n, const struct fp_tz *tz, int64_t utc,
                     int64_t c, int64_t *best)
{
	if (c <= utc || c > utc + NEXT_OPEN_DAYS * DAY_S || (*best && c >= *best))
		return;
	if (local_inside(w, n, fp_tz_local(tz, c)))
		*best = c;
}

int fp_window_open(const struct fp_window *w, size_t n, const struct fp_tz *tz, int64_t utc,
                   int64_t *next)
{
	if (n == 0)
		return 1;
	int64_t local = fp_tz_local(tz, utc);
	if (local_inside(w, n, local))
		return 1;
	if (!next)
		return 0;
	*next = 0;
	if (utc != clamp_instant(utc))
		return 0;
	/*
	 * An open stretch begins either where a window's local opening time
	 * maps to UTC under one of the zone's two offsets (and that offset is
	 * the one in force then), or at a transition whose jump lands inside
	 * a window (a window whose start lies in a spring-forward gap opens at
	 * the gap's end). Both kinds of candidate are computed directly.
	 */
	int64_t best = 0;
	int64_t week0 = floor_div(local + 3 * DAY_S, WEEK_S) * WEEK_S - 3 * DAY_S;
	int32_t offs[2] = {tz->std_offset, tz->has_dst ? tz->dst_offset : tz->std_offset};
	for (size_t i = 0; i < n; i++)
		for (int wk = -1; wk <= 2; wk++)
			for (int k = 0; k < (tz->has_dst ? 2 : 1); k++) {
				int64_t c =
				    week0 + wk * WEEK_S + (int64_t)w[i].start * 60 - offs[k];
				if (fp_tz_offset(tz, c) == offs[k])
					consider(w, n, tz, utc, c, &best);
			}
	if (tz->has_dst) {
		int64_t y = year_of_days(floor_div(utc, DAY_S));
		for (int64_t k = y - 1; k <= y + 1; k++) {
			int64_t s, e;
			dst_span(tz, k, &s, &e);
			consider(w, n, tz, utc, s, &best);
			consider(w, n, tz, utc, e, &best);
		}
	}
	*next = best;
	return 0;
}
