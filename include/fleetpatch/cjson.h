/*
 * cjson.h — canonical JSON as TUF and securesystemslib define it.
 *
 * TUF signs the canonical form of a metadata document's "signed" object, so
 * the signer and every verifier must serialize the same value to the same
 * bytes. The rules are those of securesystemslib's encode_canonical():
 *
 *   - objects have their keys sorted by byte order (UTF-8 code unit order,
 *     which is code point order) and no key appears twice;
 *   - there is no whitespace between tokens;
 *   - strings are written as their raw UTF-8 bytes in double quotes, and only
 *     the backslash and the double quote are escaped (with a backslash);
 *   - numbers are integers only: floating point values are not allowed;
 *   - true, false and null are written as such.
 *
 * The loader reads untrusted metadata bytes strictly: duplicate keys,
 * numbers that are not integers, nesting deeper than FP_CJSON_DEPTH_MAX and
 * documents larger than the caller's cap are rejected before anything is
 * trusted. It does not require its input to be canonical itself (TUF
 * metadata files usually are not); signatures are checked over the canonical
 * form the encoder produces.
 *
 * Canonical JSON is for the bytes that are signed, not for files: it writes
 * control characters in strings raw (securesystemslib does too, e.g. the
 * newlines of PEM keys), which strict JSON parsers, this loader included,
 * reject. Store and serve metadata as ordinary JSON.
 */
#ifndef FLEETPATCH_CJSON_H
#define FLEETPATCH_CJSON_H

#include <stddef.h>

#include <jansson.h>

#include "fleetpatch/err.h"

#define FP_CJSON_DEPTH_MAX 32          /* levels of arrays and objects, in and out */
#define FP_CJSON_OUT_MAX   (64u << 20) /* bytes the encoder produces at most */
#define FP_CJSON_DOC_MAX   (64u << 20) /* bytes fp_cjson_load() reads at most, whatever max says */

/*
 * Serializes v as canonical JSON into a new buffer: *out receives the bytes
 * with a NUL after them (not counted in *len). Caller frees *out with free().
 * Fails with FP_EINVAL when v holds a real number, FP_ETOOBIG when v nests
 * deeper than FP_CJSON_DEPTH_MAX or the output would exceed FP_CJSON_OUT_MAX,
 * FP_ENOMEM when out of memory. On failure *out is NULL and *len 0.
 */
int fp_cjson_encode(const json_t *v, char **out, size_t *len, struct fp_err *err) FP_WUR;

/*
 * Parses the len bytes at data (not necessarily NUL-terminated) as one JSON
 * object or array, strictly: FP_ETOOBIG when len exceeds max (or
 * FP_CJSON_DOC_MAX) or the nesting exceeds FP_CJSON_DEPTH_MAX; FP_EINVAL for
 * malformed JSON, trailing data, duplicate keys in an object, a NUL character
 * in a string, integers beyond 64 bits and any non-integer number. The
 * message names the line and column where jansson reports them. On success
 * the caller owns *out and releases it with json_decref().
 */
int fp_cjson_load(const void *data, size_t len, size_t max, json_t **out,
                  struct fp_err *err) FP_WUR;

/*
 * 1 when the len bytes at data are exactly the canonical form of the value
 * they parse to (fp_cjson_load() with max = len), 0 otherwise (including
 * when they do not parse).
 */
int fp_cjson_is_canonical(const void *data, size_t len);

#endif
