/*
 * test_device_reply.c — the agent's readers of the server's authentication
 * and check-in answers (lib/device_reply.c): the answers the API reference
 * describes are read, everything a broken or hostile server might send
 * instead is refused with a sentence naming the member.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fleetpatch/device_reply.h"

static int auth(const char *s, int pending, struct fp_auth_reply *r, struct fp_err *e)
{
	return fp_auth_reply_parse(s, strlen(s), pending, r, e);
}

static int checkin(const char *s, struct fp_checkin_reply *r, struct fp_err *e)
{
	return fp_checkin_reply_parse(s, strlen(s), r, e);
}

static void test_auth_ok(void **state)
{
	(void)state;
	struct fp_auth_reply r;
	assert_int_equal(auth("{\"status\":\"accepted\",\"token\":\"fpd_abc.def\",\"device_id\":7,"
	                      "\"expires_at\":\"2030-01-01T00:00:00Z\",\"poll_interval_s\":300}",
	                      0, &r, NULL),
	                 0);
	assert_string_equal(r.token, "fpd_abc.def");
	assert_int_equal(r.device_id, 7);
	assert_int_equal(r.expires_at, 1893456000); /* 2030-01-01T00:00:00Z */
	assert_int_equal(r.poll_s, 300);
	/* Waiting for an operator: no token, the interval to ask again. */
	assert_int_equal(auth("{\"status\":\"pending\",\"device_id\":7,\"message\":\"waiting\","
	                      "\"poll_interval_s\":5}",
	                      1, &r, NULL),
	                 0);
	assert_string_equal(r.token, "");
	assert_int_equal(r.poll_s, 5);
}

static void test_auth_refused(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		const char *word;
	} bad[] = {
	    {"", "not a JSON object"},
	    {"[]", "not a JSON object"},
	    {"{\"token\":\"a\",\"token\":\"b\"}", "not a JSON object"},
	    {"{\"status\":\"accepted\"}", "token"},
	    {"{\"token\":\"\"}", "token"},
	    {"{\"token\":7}", "token"},
	    {"{\"token\":\"a b\"}", "token"},
	    {"{\"token\":\"a\\u0000b\"}", "not a JSON object"},
	    {"{\"token\":\"t\",\"poll_interval_s\":0}", "poll_interval_s"},
	    {"{\"token\":\"t\",\"poll_interval_s\":604801}", "poll_interval_s"},
	    {"{\"token\":\"t\",\"poll_interval_s\":\"60\"}", "poll_interval_s"},
	    {"{\"token\":\"t\",\"poll_interval_s\":1.5}", "poll_interval_s"},
	    {"{\"token\":\"t\",\"device_id\":-1}", "device_id"},
	    {"{\"token\":\"t\",\"expires_at\":\"tomorrow\"}", "expires_at"},
	    {"{\"token\":\"t\",\"x\":[[[[[[1]]]]]]}", "nest"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fp_auth_reply r;
		struct fp_err e = {0};
		if (auth(bad[i].json, 0, &r, &e) == 0 || !strstr(e.msg, bad[i].word))
			fail_msg("%s: accepted or \"%s\" lacks \"%s\"", bad[i].json, e.msg,
			         bad[i].word);
		assert_string_equal(r.token, "");
	}
	/* A token of the largest size is read; one byte more is refused. */
	char big[FP_DEVICE_TOKEN_MAX + 32];
	snprintf(big, sizeof(big), "{\"token\":\"%0*d\"}", FP_DEVICE_TOKEN_MAX - 1, 0);
	struct fp_auth_reply r;
	assert_int_equal(auth(big, 0, &r, NULL), 0);
	assert_int_equal(strlen(r.token), FP_DEVICE_TOKEN_MAX - 1);
	snprintf(big, sizeof(big), "{\"token\":\"%0*d\"}", FP_DEVICE_TOKEN_MAX, 0);
	assert_int_equal(auth(big, 0, &r, NULL), FP_EINVAL);
}

static void test_checkin(void **state)
{
	(void)state;
	struct fp_checkin_reply r;
	struct fp_err e = {0};
	assert_int_equal(checkin("{\"poll_interval_s\":60,\"assignment\":null}", &r, NULL), 0);
	assert_int_equal(r.poll_s, 60);
	assert_int_equal(r.assignment_version, 0);
	assert_int_equal(checkin("{\"poll_interval_s\":60,\"assignment\":{\"version\":12,"
	                         "\"url\":\"/api/v1/device/assignment\"}}",
	                         &r, NULL),
	                 0);
	assert_int_equal(r.assignment_version, 12);
	assert_int_equal(checkin("{}", &r, NULL), 0);
	assert_int_equal(r.poll_s, 0);
	static const char *const bad[] = {
	    "{\"assignment\":{\"version\":0}}",
	    "{\"assignment\":{\"version\":\"3\"}}",
	    "{\"assignment\":{}}",
	    "{\"assignment\":7}",
	    "{\"assignment\":{\"version\":1e3}}",
	    "{\"poll_interval_s\":-5}",
	    "{\"assignment\":{\"version\":9007199254740993}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (checkin(bad[i], &r, &e) == 0)
			fail_msg("%s: accepted", bad[i]);
		assert_int_equal(r.assignment_version, 0);
		assert_non_null(strstr(e.msg, "device/checkin"));
	}
	/* The size cap: one byte over is refused before parsing. */
	static char huge[FP_DEVICE_REPLY_MAX + 2];
	memset(huge, ' ', sizeof(huge) - 1);
	huge[0] = '{';
	huge[FP_DEVICE_REPLY_MAX] = '}';
	assert_int_equal(fp_checkin_reply_parse(huge, FP_DEVICE_REPLY_MAX + 1, &r, &e), FP_ETOOBIG);
	assert_int_equal(fp_checkin_reply_parse(huge + 1, FP_DEVICE_REPLY_MAX, &r, &e), FP_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_auth_ok),
	    cmocka_unit_test(test_auth_refused),
	    cmocka_unit_test(test_checkin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
