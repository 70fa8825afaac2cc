/*
 * fuzz_tz.c — libFuzzer target for lib/tz.c.
 *
 * The input is used three ways: as a POSIX TZ rule (whose offsets at a few
 * instants must be one of the zone's two offsets, with a matching local
 * time), as a window "[rule|]days|start|end" split at '|' (which must yield sane
 * windows whose next opening, when there is one, is open and in the
 * future), and as a TZif file whose footer, when found, must be a short
 * printable line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/tz.h"

#define INPUT_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Instants around 2000, the changes of 2026, 2038, 1900, 2100 and the range's ends. */
static const int64_t instants[] = {0,
                                   951782400,
                                   1774746000,
                                   1792890000,
                                   2145916800,
                                   -2208988800,
                                   4102444800,
                                   INT64_MAX,
                                   INT64_MIN,
                                   INT64_C(1) << 50,
                                   -(INT64_C(1) << 50) - 1};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char rule[FP_TZ_RULE_MAX];
	if (fp_tzif_footer(data, size, rule, NULL) == 0) {
		size_t len = strlen(rule);
		if (len == 0 || len >= FP_TZ_RULE_MAX || strchr(rule, '\n'))
			abort();
	}
	if (size > INPUT_MAX)
		return 0;
	char s[INPUT_MAX + 1];
	memcpy(s, data, size);
	s[size] = '\0';
	struct fp_tz tz;
	if (fp_tz_parse(s, &tz, NULL) == 0) {
		for (size_t i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
			int32_t off = fp_tz_offset(&tz, instants[i]);
			if (off != tz.std_offset && !(tz.has_dst && off == tz.dst_offset))
				abort();
			if (instants[i] > -(INT64_C(1) << 60) && instants[i] < INT64_C(1) << 60 &&
			    fp_tz_local(&tz, instants[i]) != instants[i] + off)
				abort();
		}
	} else {
		fp_tz_utc(&tz);
	}
	/* "days|start|end", or "rule|days|start|end" for windows in that zone. */
	char *days = s, *a = strchr(s, '|'), *b = a ? strchr(a + 1, '|') : NULL;
	char *c = b ? strchr(b + 1, '|') : NULL;
	if (!b)
		return 0;
	if (c) {
		*a = '\0';
		if (fp_tz_parse(s, &tz, NULL))
			fp_tz_utc(&tz);
		days = a + 1;
		a = b;
		b = c;
	}
	*a = *b = '\0';
	struct fp_window w[FP_WINDOWS_MAX];
	size_t n = 0;
	if (fp_window_parse(days, a + 1, b + 1, w, &n, NULL) == 0) {
		if (n < 1 || n > 7)
			abort();
		for (size_t i = 0; i < n; i++)
			if (w[i].start < 0 || w[i].start >= FP_WEEK_MIN || w[i].length < 1 ||
			    w[i].length > 1440)
				abort();
		for (size_t i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
			int64_t next = -1;
			if (!fp_window_open(w, n, &tz, instants[i], &next) && next != 0 &&
			    (next <= instants[i] || !fp_window_open(w, n, &tz, next, NULL)))
				abort();
		}
	}
	return 0;
}
