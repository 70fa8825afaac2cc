/*
 * nvd_int.h — what lib/nvd.c and lib/nvd_match.c share. Internal to lib/.
 */
#ifndef FLEETPATCH_NVD_INT_H
#define FLEETPATCH_NVD_INT_H

#include "fleetpatch/nvd_match.h"
#include "json_scan_int.h"

/*
 * Reads a "configurations" array at s into out without a JSON tree; -1 when
 * the fast path does not accept it (out then owns what it holds: free it
 * with fp_nvd_configs_free() and parse the text with jansson instead).
 */
int fp__nvd_configs_scan(struct fp__js *s, struct fp_nvd_configs *out);

#endif
