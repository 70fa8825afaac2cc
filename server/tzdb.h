/*
 * tzdb.h — maps IANA time zone names ("Europe/Berlin") to POSIX TZ rules by
 * reading the footer of the zoneinfo file, with a small thread-safe cache.
 */
#ifndef FLEETPATCH_SERVER_TZDB_H
#define FLEETPATCH_SERVER_TZDB_H

#include "fleetpatch/err.h"
#include "fleetpatch/tz.h"

#define FP_TZDB_NAME_MAX  64            /* bytes of an IANA name */
#define FP_TZDB_FILE_MAX  (1024 * 1024) /* bytes of a zoneinfo file */
#define FP_TZDB_CACHE_MAX 512           /* names remembered */

/*
 * The POSIX TZ rule of the zone name: "UTC" and "" give "UTC0"; an IANA
 * name (letters, digits, '_', '+', '-' and '/', no "..", no leading '/',
 * at most 64 bytes) is resolved through <zoneinfo_dir>/<name>; a name
 * that is not a file there but parses as a POSIX rule is its own rule.
 * FP_ENOTFOUND ("unknown time zone 'X'") otherwise. Thread-safe.
 */
int fp_tzdb_rule(const char *zoneinfo_dir, const char *name, char rule[FP_TZ_RULE_MAX],
                 struct fp_err *err) FP_WUR;

#endif
