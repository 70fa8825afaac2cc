/*
 * json_scan_int.h — a validating JSON pull scanner over one buffer, for the
 * fast paths of the NVD readers (lib/nvd.c, lib/nvd_match.c). Internal to lib/.
 *
 * It builds no tree and allocates nothing: the caller walks objects and
 * arrays, reads the members it needs and skips the rest, which is still
 * validated. It accepts a subset of what jansson's json_loadb() accepts with
 * JSON_REJECT_DUPLICATES: whatever it refuses (malformed text, and a few
 * valid but unusual forms: an escaped object key, an object of more than
 * FP__JS_KEYS_MAX members, nesting beyond FP__JS_DEPTH_MAX) sets "bad", and
 * the caller then parses the same text with jansson, which gives the result
 * or the error message. So a fast path never has to word an error, and it
 * can only be faster, never different.
 */
#ifndef FLEETPATCH_JSON_SCAN_INT_H
#define FLEETPATCH_JSON_SCAN_INT_H

#include <stddef.h>

#define FP__JS_KEYS_MAX  64 /* members of one object, for the duplicate check */
#define FP__JS_DEPTH_MAX 64 /* nesting (skipping recurses; NVD records nest 8 deep) */

struct fp__js {
	const char *p, *end;
	unsigned depth;
};

/* A string as it appears in the text, between its quotes. */
struct fp__js_str {
	const char *raw;
	size_t len;
	int escaped; /* contains a backslash escape: decode with fp__js_decode() */
};

/* One object being walked: the keys seen so far, for the duplicate check. */
struct fp__js_obj {
	const char *key[FP__JS_KEYS_MAX];
	unsigned len[FP__JS_KEYS_MAX];
	size_t n;
};

/* Each returns 0, or -1 when the text is not accepted (then the caller falls back). */

/* Skips whitespace; returns the next byte, or 0 at the end of the buffer (or at a NUL). */
int fp__js_peek(struct fp__js *s);
/* Skips whitespace; 1 when nothing else is left (a NUL byte is not the end). */
int fp__js_at_end(struct fp__js *s);
/* Reads a string value. */
int fp__js_string(struct fp__js *s, struct fp__js_str *out);
/* Reads a number; *v is its value as jansson gives it (json_number_value()). */
int fp__js_number(struct fp__js *s, double *v);
/* Reads true or false (*v 1 or 0), or null (*v -1). */
int fp__js_literal(struct fp__js *s, int *v);
/* Skips any value, validating it. */
int fp__js_skip(struct fp__js *s);

/* Enters an object: o is reset. */
int fp__js_obj_begin(struct fp__js *s, struct fp__js_obj *o);
/* Next member: 1 with *key set and the value next, 0 after the closing brace. */
int fp__js_obj_next(struct fp__js *s, struct fp__js_obj *o, struct fp__js_str *key);
/* Enters an array. */
int fp__js_arr_begin(struct fp__js *s);
/* Next element: 1 when one follows (*first tracks the separator), 0 after ']'. */
int fp__js_arr_next(struct fp__js *s, int *first);

/* Whether key is the literal name (keys are never escaped; see above). */
int fp__js_is(const struct fp__js_str *key, const char *name);

/*
 * Decodes a validated string into out[cap] with a NUL; returns its length,
 * or -1 when it does not fit.
 */
long fp__js_decode(const struct fp__js_str *str, char *out, size_t cap);

#endif
