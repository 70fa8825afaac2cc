/*
 * json_depth.h — a nesting cap checked before a JSON text is parsed.
 *
 * jansson accepts nesting up to 2048 levels; the formats fleetpatch reads
 * need far fewer, and a tighter cap, checked by a linear scan before the
 * parse, keeps hostile documents from costing deep recursion.
 */
#ifndef FLEETPATCH_JSON_DEPTH_H
#define FLEETPATCH_JSON_DEPTH_H

#include <stddef.h>

#include "fleetpatch/err.h"

/* FP_ETOOBIG, naming the line and column, when arrays and objects in d nest deeper than max. */
int fp_json_check_depth(const char *d, size_t len, size_t max, struct fp_err *err) FP_WUR;

#endif
