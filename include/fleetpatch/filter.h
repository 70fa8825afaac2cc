/*
 * filter.h — the filter-expression language of dynamic device groups and of
 * `GET /api/v1/devices?filter=…`.
 *
 *     model == "archer-c7" and firmware < 1.2.0 and exposure == internet
 *
 * A filter is parsed once (every cap below is checked there), then evaluated
 * against any number of subjects through a values callback, so the language
 * knows nothing about devices. The grammar and semantics are described for
 * users in docs/design/filter.md.
 */
#ifndef FLEETPATCH_FILTER_H
#define FLEETPATCH_FILTER_H

#include <stddef.h>

#include "fleetpatch/err.h"

#define FP_FILTER_TEXT_MAX    4096 /* bytes in a filter expression */
#define FP_FILTER_CMP_MAX     64   /* comparisons in one filter */
#define FP_FILTER_DEPTH_MAX   32   /* nesting of '(' and 'not' */
#define FP_FILTER_IN_MAX      64   /* values in one 'in (…)' list */
#define FP_FILTER_VALUE_MAX   256  /* bytes in one value, after unescaping */
#define FP_FILTER_SUBJECT_MAX 4096 /* values of one attribute looked at per comparison */

struct fp_filter; /* opaque */

/* Attribute validator: returns 1 when name is a known attribute; may be NULL (accept all). */
typedef int (*fp_filter_known_fn)(const char *name);

/*
 * Parses text into *out. Errors: FP_EINVAL for syntax errors and unknown
 * attributes, FP_ETOOBIG when a cap is exceeded, FP_ENOMEM; err then says what
 * was wrong and at which column ("filter: at column 17: expected a value after
 * '<', found end of input"). On error *out is NULL.
 * Caller frees *out with fp_filter_free().
 */
int fp_filter_parse(const char *text, fp_filter_known_fn known, struct fp_filter **out,
                    struct fp_err *err) FP_WUR;

void fp_filter_free(struct fp_filter *f);

/*
 * Values getter: writes up to max borrowed strings for attribute name into
 * out, returns the count. An attribute the subject does not have has 0 values.
 */
typedef size_t (*fp_filter_values_fn)(const void *subject, const char *name, const char **out,
                                      size_t max);

/*
 * Evaluates f on subject; returns 1 on a match, 0 otherwise. Pure: it only
 * calls values, at most FP_FILTER_SUBJECT_MAX values per attribute are seen,
 * and it allocates nothing (it uses about 32 KiB of stack).
 */
int fp_filter_eval(const struct fp_filter *f, fp_filter_values_fn values, const void *subject);

/*
 * Writes the canonical text of f into *out (caller frees with free()):
 * lower-case keywords, redundant parentheses and quotes dropped, spaces only
 * where the syntax needs them ("model==archer-c7 and firmware<1.2.0"). It is
 * never longer than the text f was parsed from, so it always parses again,
 * within the same caps, to a filter that evaluates identically.
 */
int fp_filter_to_string(const struct fp_filter *f, char **out) FP_WUR;

#endif
