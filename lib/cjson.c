/*
 * cjson.c — canonical JSON encoder and strict loader (see cjson.h).
 */
#include "fleetpatch/cjson.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/json_depth.h"

/* A growing output buffer with a hard cap. */
struct buf {
	char *p;
	size_t len;
	size_t cap;
};

static int buf_put(struct buf *b, const void *s, size_t n, struct fp_err *err)
{
	if (n > FP_CJSON_OUT_MAX - b->len)
		return fp_err_set(err, FP_ETOOBIG, "canonical JSON would exceed %u bytes",
		                  (unsigned)FP_CJSON_OUT_MAX);
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		char *np = realloc(b->p, ncap);
		if (!np)
			return fp_err_set(err, FP_ENOMEM, "out of memory");
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Writes a string in quotes, escaping only the backslash and the double quote. */
static int put_string(struct buf *b, const char *s, size_t n, struct fp_err *err)
{
	int rc = buf_put(b, "\"", 1, err);
	size_t start = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (s[i] != '\\' && s[i] != '"')
			continue;
		rc = buf_put(b, s + start, i - start, err);
		if (rc == 0)
			rc = buf_put(b, "\\", 1, err);
		start = i;
	}
	if (rc == 0)
		rc = buf_put(b, s + start, n - start, err);
	if (rc == 0)
		rc = buf_put(b, "\"", 1, err);
	return rc;
}

static int cmp_keys(const void *a, const void *b)
{
	/* strcmp compares as unsigned char, which is UTF-8 byte order. */
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int encode(struct buf *b, const json_t *v, size_t depth, struct fp_err *err)
{
	int rc = 0;
	const char **keys = NULL;

	if (!v)
		return fp_err_set(err, FP_EINVAL, "no JSON value given");
	if ((json_is_object(v) || json_is_array(v)) && depth >= FP_CJSON_DEPTH_MAX)
		return fp_err_set(err, FP_ETOOBIG, "JSON nests deeper than %d levels",
		                  FP_CJSON_DEPTH_MAX);
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		const char *k;
		json_t *child;
		keys = calloc(n ? n : 1, sizeof(*keys));
		if (!keys)
			return fp_err_set(err, FP_ENOMEM, "out of memory");
		json_object_foreach((json_t *)v, k, child)
		{
			keys[i++] = k;
		}
		qsort(keys, n, sizeof(*keys), cmp_keys);
		rc = buf_put(b, "{", 1, err);
		for (i = 0; rc == 0 && i < n; i++) {
			if (i)
				rc = buf_put(b, ",", 1, err);
			if (rc == 0)
				rc = put_string(b, keys[i], strlen(keys[i]), err);
			if (rc == 0)
				rc = buf_put(b, ":", 1, err);
			if (rc == 0)
				rc = encode(b, json_object_get(v, keys[i]), depth + 1, err);
		}
		if (rc == 0)
			rc = buf_put(b, "}", 1, err);
		goto out;
	}
	case JSON_ARRAY:
		rc = buf_put(b, "[", 1, err);
		for (size_t i = 0; rc == 0 && i < json_array_size(v); i++) {
			if (i)
				rc = buf_put(b, ",", 1, err);
			if (rc == 0)
				rc = encode(b, json_array_get(v, i), depth + 1, err);
		}
		if (rc == 0)
			rc = buf_put(b, "]", 1, err);
		goto out;
	case JSON_STRING:
		rc = put_string(b, json_string_value(v), json_string_length(v), err);
		goto out;
	case JSON_INTEGER: {
		char num[32];
		int n = snprintf(num, sizeof(num), "%" PRId64, (int64_t)json_integer_value(v));
		rc = buf_put(b, num, (size_t)n, err);
		goto out;
	}
	case JSON_REAL:
		rc = fp_err_set(err, FP_EINVAL,
		                "canonical JSON has no floating point numbers; use an integer");
		goto out;
	case JSON_TRUE: rc = buf_put(b, "true", 4, err); goto out;
	case JSON_FALSE: rc = buf_put(b, "false", 5, err); goto out;
	case JSON_NULL: rc = buf_put(b, "null", 4, err); goto out;
	}
	rc = fp_err_set(err, FP_EINVAL, "unknown JSON value type");
out:
	free(keys);
	return rc;
}

int fp_cjson_encode(const json_t *v, char **out, size_t *len, struct fp_err *err)
{
	struct buf b = {0};
	*out = NULL;
	*len = 0;
	int rc = encode(&b, v, 0, err);
	if (rc == 0 && !b.p)
		rc = fp_err_set(err, FP_EINVAL, "empty JSON value");
	if (rc) {
		free(b.p);
		return rc;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* Rejects real numbers anywhere in v; the depth was capped before parsing. */
static int check_numbers(const json_t *v, struct fp_err *err)
{
	if (json_is_real(v))
		return fp_err_set(err, FP_EINVAL,
		                  "metadata holds a non-integer number (%g); canonical JSON allows "
		                  "integers only",
		                  json_real_value(v));
	if (json_is_object(v)) {
		const char *k;
		json_t *child;
		json_object_foreach((json_t *)v, k, child)
		{
			int rc = check_numbers(child, err);
			if (rc)
				return rc;
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			int rc = check_numbers(json_array_get(v, i), err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int fp_cjson_load(const void *data, size_t len, size_t max, json_t **out, struct fp_err *err)
{
	json_error_t je;
	*out = NULL;
	if (!data && len)
		return fp_err_set(err, FP_EINVAL, "no JSON data given");
	if (max > FP_CJSON_DOC_MAX)
		max = FP_CJSON_DOC_MAX;
	if (len > max)
		return fp_err_set(err, FP_ETOOBIG,
		                  "JSON document of %zu bytes exceeds the cap of %zu", len, max);
	int rc = fp_json_check_depth(data, len, FP_CJSON_DEPTH_MAX, err);
	if (rc)
		return rc;
	json_t *v = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &je);
	if (!v)
		return fp_err_set(err, FP_EINVAL, "line %d, column %d: %s", je.line, je.column,
		                  je.text);
	rc = check_numbers(v, err);
	if (rc) {
		json_decref(v);
		return rc;
	}
	*out = v;
	return 0;
}

int fp_cjson_is_canonical(const void *data, size_t len)
{
	json_t *v = NULL;
	char *enc = NULL;
	size_t elen = 0;
	int ok = 0;
	if (fp_cjson_load(data, len, len, &v, NULL) == 0 &&
	    fp_cjson_encode(v, &enc, &elen, NULL) == 0)
		ok = elen == len && memcmp(enc, data, len) == 0;
	free(enc);
	json_decref(v);
	return ok;
}
