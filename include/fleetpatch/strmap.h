/*
 * strmap.h — a string → pointer hash map (open addressing, FNV-1a), for the
 * per-run caches of the assessment engine. Keys are copied; values borrowed.
 */
#ifndef FLEETPATCH_STRMAP_H
#define FLEETPATCH_STRMAP_H

#include <stddef.h>

#include "fleetpatch/err.h"

struct fp_strmap;

int fp_strmap_new(struct fp_strmap **out) FP_WUR;
/* Frees the map and its key copies; free_value (may be NULL) is called on each value. */
void fp_strmap_free(struct fp_strmap *m, void (*free_value)(void *));
/* The value stored under key, or NULL. */
void *fp_strmap_get(const struct fp_strmap *m, const char *key);
/* Stores value under key (replacing a previous one, which is returned in *old when not NULL). */
int fp_strmap_put(struct fp_strmap *m, const char *key, void *value, void **old) FP_WUR;
size_t fp_strmap_count(const struct fp_strmap *m);

#endif
