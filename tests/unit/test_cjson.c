/*
 * test_cjson.c — unit tests of lib/cjson.c: canonical JSON as securesystemslib defines it.
 *
 * The expected encodings follow the rules of securesystemslib's
 * encode_canonical() (keys sorted, no whitespace, only \ and " escaped,
 * integers only) and, for the python-tuf fixture, the signature that
 * python-tuf made over its canonical bytes (checked in test_tuf.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/cjson.h"

/* Loads text with jansson (not the code under test) and encodes it canonically. */
static char *enc(const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
	assert_non_null(v);
	char *out = NULL;
	size_t len = 0;
	struct fp_err err;
	assert_int_equal(fp_cjson_encode(v, &out, &len, &err), 0);
	assert_int_equal(strlen(out), len);
	json_decref(v);
	return out;
}

static void encode_sorts_keys_without_whitespace(void **state)
{
	(void)state;
	char *s = enc("{ \"b\": 1, \"a\": [true, false, null], \"A\": {\"z\": -5, \"y\": \"\"} }");
	assert_string_equal(s, "{\"A\":{\"y\":\"\",\"z\":-5},\"a\":[true,false,null],\"b\":1}");
	free(s);
	/* Byte order: "Z" (0x5a) < "_type" (0x5f) < "a" (0x61); "ab" after "a". */
	s = enc("{\"ab\":0,\"a\":0,\"_type\":0,\"Z\":0}");
	assert_string_equal(s, "{\"Z\":0,\"_type\":0,\"a\":0,\"ab\":0}");
	free(s);
	/* Non-ASCII keys sort by their UTF-8 bytes: "é" (c3 a9) after "z" (7a). */
	s = enc("{\"\\u00e9\":1,\"z\":2}");
	assert_string_equal(s, "{\"z\":2,\"\xc3\xa9\":1}");
	free(s);
}

static void encode_escapes_only_backslash_and_quote(void **state)
{
	(void)state;
	/* A newline, a tab and a control character stay raw; \ and " are escaped. */
	char *s = enc("[\"a\\\\b\\\"c\\nd\\te\\u0001/\"]");
	assert_string_equal(s, "[\"a\\\\b\\\"c\nd\te\x01/\"]");
	free(s);
	s = enc("[\"\\u00fc\\u20ac\"]");
	assert_string_equal(s, "[\"\xc3\xbc\xe2\x82\xac\"]");
	free(s);
}

static void encode_rejects_reals_and_deep_nesting(void **state)
{
	(void)state;
	struct fp_err err;
	char *out = (char *)1;
	size_t len = 1;
	json_t *v = json_pack("{s:f}", "x", 1.5);
	assert_int_equal(fp_cjson_encode(v, &out, &len, &err), FP_EINVAL);
	assert_null(out);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err.msg, "integer"));
	json_decref(v);

	v = json_array();
	json_t *inner = v;
	for (int i = 0; i < FP_CJSON_DEPTH_MAX; i++) {
		json_t *a = json_array();
		json_array_append_new(inner, a);
		inner = a;
	}
	assert_int_equal(fp_cjson_encode(v, &out, &len, &err), FP_ETOOBIG);
	json_decref(v);
}

static void load_accepts_any_formatting(void **state)
{
	(void)state;
	static const char doc[] = "{\n  \"b\" : 2,\n  \"a\" : [ 1 , -1 ]\n}\n";
	json_t *v = NULL;
	struct fp_err err;
	assert_int_equal(fp_cjson_load(doc, strlen(doc), 1000, &v, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(v, "b")), 2);
	json_decref(v);
	assert_int_equal(fp_cjson_is_canonical(doc, strlen(doc)), 0);
	static const char canon[] = "{\"a\":[1,-1],\"b\":2}";
	assert_int_equal(fp_cjson_is_canonical(canon, strlen(canon)), 1);
	/* Unsorted keys are not canonical. */
	static const char unsorted[] = "{\"b\":2,\"a\":[1,-1]}";
	assert_int_equal(fp_cjson_is_canonical(unsorted, strlen(unsorted)), 0);
	/* A needless escape is not canonical either. */
	static const char esc[] = "[\"\\u0041\"]";
	assert_int_equal(fp_cjson_is_canonical(esc, strlen(esc)), 0);
}

static void load_rejects_bad_input(void **state)
{
	(void)state;
	static const struct {
		const char *doc;
		int code;
		const char *reason;
	} cases[] = {
	    {"{\"a\":1,\"a\":2}", FP_EINVAL, "duplicate"},
	    {"{\"x\":{\"k\":1,\"k\":1}}", FP_EINVAL, "duplicate"},
	    {"{\"a\":1.0}", FP_EINVAL, "integer"},
	    {"{\"a\":1e3}", FP_EINVAL, "integer"},
	    {"{\"a\":[0.5]}", FP_EINVAL, "integer"},
	    {"{\"a\":1", FP_EINVAL, "line 1"},
	    {"{\"a\":1} x", FP_EINVAL, "line 1"},
	    {"{\"a\":\"\\u0000\"}", FP_EINVAL, "NUL"},
	    {"{\"a\":123456789012345678901234567890}", FP_EINVAL, "too big"},
	    {"\"just a string\"", FP_EINVAL, ""},
	    {"{\"a\":\"\xff\"}", FP_EINVAL, "0xff"},
	    {"", FP_EINVAL, ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = NULL;
		struct fp_err err = {0};
		int rc = fp_cjson_load(cases[i].doc, strlen(cases[i].doc), 1000, &v, &err);
		if (rc != cases[i].code || !strstr(err.msg, cases[i].reason))
			fail_msg("case %zu (%s): rc %d, message \"%s\"", i, cases[i].doc, rc,
			         err.msg);
		assert_null(v);
	}
}

static void load_caps_size_and_depth(void **state)
{
	(void)state;
	static const char doc[] = "{\"a\":1}";
	json_t *v = NULL;
	struct fp_err err;
	/* Exactly at the cap is fine; one byte more is not. */
	assert_int_equal(fp_cjson_load(doc, 7, 7, &v, &err), 0);
	json_decref(v);
	v = NULL;
	assert_int_equal(fp_cjson_load(doc, 7, 6, &v, &err), FP_ETOOBIG);
	assert_null(v);

	char deep[2 * FP_CJSON_DEPTH_MAX + 3];
	size_t n = 0;
	for (int i = 0; i < FP_CJSON_DEPTH_MAX + 1; i++)
		deep[n++] = '[';
	for (int i = 0; i < FP_CJSON_DEPTH_MAX + 1; i++)
		deep[n++] = ']';
	assert_int_equal(fp_cjson_load(deep, n, sizeof(deep), &v, &err), FP_ETOOBIG);
	/* One level less is accepted. */
	assert_int_equal(fp_cjson_load(deep + 1, n - 2, sizeof(deep), &v, &err), 0);
	json_decref(v);
}

static void round_trip_is_stable(void **state)
{
	(void)state;
	static const char doc[] =
	    "{\"signed\":{\"_type\":\"timestamp\",\"expires\":\"2030-01-01T00:"
	    "00:00Z\",\"meta\":{\"snapshot.json\":{\"version\":1}},\"spec_"
	    "version\":\"1.0.0\",\"version\":1},\"signatures\":[]}";
	json_t *v = NULL;
	struct fp_err err;
	/* securesystemslib sorts "signatures" before "signed". */
	assert_int_equal(fp_cjson_load(doc, strlen(doc), 1000, &v, &err), 0);
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(fp_cjson_encode(v, &out, &len, &err), 0);
	assert_string_equal(out,
	                    "{\"signatures\":[],\"signed\":{\"_type\":\"timestamp\",\"expires\":"
	                    "\"2030-01-01T00:00:00Z\",\"meta\":{\"snapshot.json\":{\"version\":"
	                    "1}},\"spec_version\":\"1.0.0\",\"version\":1}}");
	assert_int_equal(fp_cjson_is_canonical(out, len), 1);
	free(out);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(encode_sorts_keys_without_whitespace),
	    cmocka_unit_test(encode_escapes_only_backslash_and_quote),
	    cmocka_unit_test(encode_rejects_reals_and_deep_nesting),
	    cmocka_unit_test(load_accepts_any_formatting),
	    cmocka_unit_test(load_rejects_bad_input),
	    cmocka_unit_test(load_caps_size_and_depth),
	    cmocka_unit_test(round_trip_is_stable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
