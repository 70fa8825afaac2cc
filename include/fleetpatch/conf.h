/*
 * conf.h — the configuration file format: `key = value` lines.
 *
 * Blank lines and lines starting with '#' are ignored; keys are
 * [a-z0-9_]+; values run to the end of the line with surrounding spaces
 * trimmed, and may be double-quoted to keep spaces or '#'. The parser only
 * splits; the program that owns the keys decides what they mean.
 */
#ifndef FLEETPATCH_CONF_H
#define FLEETPATCH_CONF_H

#include <stddef.h>

#include "fleetpatch/err.h"

#define FP_CONF_MAX_BYTES (1u << 20) /* a config file larger than this is rejected */
#define FP_CONF_MAX_LINE  4096
#define FP_CONF_MAX_KEY   64

/* Called for each setting; a non-zero return stops parsing and is returned. */
typedef int (*fp_conf_fn)(void *ctx, const char *key, const char *value, int line,
                          struct fp_err *err);

int fp_conf_parse(const char *data, size_t len, fp_conf_fn fn, void *ctx,
                  struct fp_err *err) FP_WUR;

/* Parses a boolean value: true/false, yes/no, on/off, 1/0. */
int fp_conf_bool(const char *value, int *out) FP_WUR;

/* Parses a decimal integer in [min, max] with nothing after it. */
int fp_conf_long(const char *value, long min, long max, long *out) FP_WUR;

#endif
