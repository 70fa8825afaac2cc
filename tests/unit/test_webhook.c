/*
 * test_webhook.c — unit tests of lib/webhook.c: URL, secret and event checks,
 * subscription lists and matching, bodies, the retry schedule and the
 * signature (known answers computed independently with Python's hmac).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/webhook.h"

static void urls(void **state)
{
	(void)state;
	struct fp_err err = {0};
	assert_int_equal(fp_webhook_url_check("http://127.0.0.1:9000/hook", &err), 0);
	assert_int_equal(fp_webhook_url_check("https://hooks.example.com", NULL), 0);
	assert_int_equal(fp_webhook_url_check("https://u:p@example.com/x?y=1", NULL), 0);
	static const char *const bad[] = {"",
	                                  "ftp://example.com/",
	                                  "HTTP//example.com",
	                                  "file:///etc/passwd",
	                                  "http://",
	                                  "http:///path",
	                                  "http://:80/",
	                                  "https://user@/x",
	                                  "http://exa mple.com/",
	                                  "http://example.com/\n",
	                                  "example.com"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		assert_int_not_equal(fp_webhook_url_check(bad[i], &err), 0);
		assert_true(strncmp(err.msg, "url:", 4) == 0);
	}
	assert_int_not_equal(fp_webhook_url_check(NULL, NULL), 0);
	/* The cap, and one byte more. */
	char *u = malloc(FP_WEBHOOK_URL_MAX + 2);
	assert_non_null(u);
	memcpy(u, "http://a/", 9);
	memset(u + 9, 'x', FP_WEBHOOK_URL_MAX - 9);
	u[FP_WEBHOOK_URL_MAX] = '\0';
	assert_int_equal(fp_webhook_url_check(u, NULL), 0);
	u[FP_WEBHOOK_URL_MAX] = 'x';
	u[FP_WEBHOOK_URL_MAX + 1] = '\0';
	assert_int_equal(fp_webhook_url_check(u, NULL), FP_ETOOBIG);
	free(u);
}

static void secrets(void **state)
{
	(void)state;
	char s[FP_WEBHOOK_SECRET_MAX + 2];
	memset(s, 'k', sizeof(s));
	s[FP_WEBHOOK_SECRET_MIN] = '\0';
	assert_int_equal(fp_webhook_secret_check(s, NULL), 0);
	s[FP_WEBHOOK_SECRET_MIN - 1] = '\0';
	assert_int_equal(fp_webhook_secret_check(s, NULL), FP_EINVAL);
	memset(s, 'k', sizeof(s));
	s[FP_WEBHOOK_SECRET_MAX] = '\0';
	assert_int_equal(fp_webhook_secret_check(s, NULL), 0);
	s[FP_WEBHOOK_SECRET_MAX] = 'k';
	s[FP_WEBHOOK_SECRET_MAX + 1] = '\0';
	assert_int_equal(fp_webhook_secret_check(s, NULL), FP_EINVAL);
	assert_int_equal(fp_webhook_secret_check("sixteen bytes!!!", NULL), FP_EINVAL);
	assert_int_equal(fp_webhook_secret_check(NULL, NULL), FP_EINVAL);
}

static void event_names(void **state)
{
	(void)state;
	assert_int_equal(fp_webhook_event_check("rollout.started", 0, NULL), 0);
	assert_int_equal(fp_webhook_event_check("ping", 0, NULL), 0);
	assert_int_equal(fp_webhook_event_check("rollout.*", 0, NULL), FP_EINVAL);
	assert_int_equal(fp_webhook_event_check("*", 0, NULL), FP_EINVAL);
	assert_int_equal(fp_webhook_event_check("rollout.*", 1, NULL), 0);
	assert_int_equal(fp_webhook_event_check("*", 1, NULL), 0);
	static const char *const bad[] = {"",    "Rollout", "a..b", ".a",  "a.",  "a*",
	                                  "*.a", "a.*.b",   ".*",   "a-b", "a b", "**"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(fp_webhook_event_check(bad[i], 1, NULL), FP_EINVAL);
	char n[FP_WEBHOOK_EVENT_MAX + 2];
	memset(n, 'a', sizeof(n));
	n[FP_WEBHOOK_EVENT_MAX] = '\0';
	assert_int_equal(fp_webhook_event_check(n, 0, NULL), 0);
	n[FP_WEBHOOK_EVENT_MAX] = 'a';
	n[FP_WEBHOOK_EVENT_MAX + 1] = '\0';
	assert_int_equal(fp_webhook_event_check(n, 0, NULL), FP_EINVAL);
}

static void lists_and_matching(void **state)
{
	(void)state;
	struct fp_webhook_events ev;
	struct fp_err err = {0};
	assert_int_equal(fp_webhook_events_parse("rollout.*,ping,device.accepted", &ev, &err), 0);
	assert_int_equal(ev.n, 3);
	char text[FP_WEBHOOK_EVENTS_TEXT_MAX];
	fp_webhook_events_format(&ev, text);
	assert_string_equal(text, "rollout.*,ping,device.accepted");
	assert_true(fp_webhook_events_match(&ev, "rollout.started"));
	assert_true(fp_webhook_events_match(&ev, "rollout.phase.x"));
	assert_true(fp_webhook_events_match(&ev, "ping"));
	assert_false(fp_webhook_events_match(&ev, "rollout"));
	assert_false(fp_webhook_events_match(&ev, "rollouts.started"));
	assert_false(fp_webhook_events_match(&ev, "device.rejected"));
	assert_int_equal(fp_webhook_events_parse("*", &ev, NULL), 0);
	assert_true(fp_webhook_events_match(&ev, "anything.at.all"));

	assert_int_equal(fp_webhook_events_parse("", &ev, NULL), FP_EINVAL);
	assert_int_equal(fp_webhook_events_parse("a,,b", &ev, NULL), FP_EINVAL);
	assert_int_equal(fp_webhook_events_parse("a,", &ev, NULL), FP_EINVAL);
	assert_int_equal(fp_webhook_events_parse("a,b,a", &ev, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "twice"));
	/* The cap on entries, and one more. */
	char many[40 * 8] = "";
	for (int i = 0; i < FP_WEBHOOK_EVENTS_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%se%d", i ? "," : "",
		         i);
	assert_int_equal(fp_webhook_events_parse(many, &ev, NULL), 0);
	assert_int_equal(ev.n, FP_WEBHOOK_EVENTS_MAX);
	snprintf(many + strlen(many), sizeof(many) - strlen(many), ",extra");
	assert_int_equal(fp_webhook_events_parse(many, &ev, NULL), FP_ETOOBIG);
}

static void bodies(void **state)
{
	(void)state;
	json_t *data = json_pack("{s:s,s:i}", "rollout", "r1", "phase", 2);
	char *b = fp_webhook_body(7, "rollout.started", "2026-01-02T03:04:05Z", data);
	assert_non_null(b);
	assert_string_equal(b, "{\"created_at\":\"2026-01-02T03:04:05Z\",\"data\":{\"phase\":2,"
	                       "\"rollout\":\"r1\"},\"event\":\"rollout.started\",\"id\":7}");
	free(b);
	/* data is borrowed: the caller's reference is still its own. */
	assert_int_equal(data->refcount, 1);
	json_decref(data);
	b = fp_webhook_body(1, "ping", "2026-01-02T03:04:05Z", NULL);
	assert_non_null(strstr(b, "\"data\":{}"));
	free(b);
	json_t *big = json_pack("{s:s%}", "x", "", (size_t)0);
	char *pad = malloc(FP_WEBHOOK_BODY_MAX + 1);
	memset(pad, 'a', FP_WEBHOOK_BODY_MAX);
	pad[FP_WEBHOOK_BODY_MAX] = '\0';
	json_object_set_new(big, "x", json_string(pad));
	assert_null(fp_webhook_body(1, "ping", "2026-01-02T03:04:05Z", big));
	free(pad);
	json_decref(big);
}

static void backoff(void **state)
{
	(void)state;
	assert_int_equal(fp_webhook_backoff(1, 10), 10);
	assert_int_equal(fp_webhook_backoff(2, 10), 20);
	assert_int_equal(fp_webhook_backoff(3, 10), 40);
	assert_int_equal(fp_webhook_backoff(9, 10), 2560);
	assert_int_equal(fp_webhook_backoff(10, 10), 3600);
	assert_int_equal(fp_webhook_backoff(1000, 10), 3600);
	assert_int_equal(fp_webhook_backoff(1, 0), 1);
	assert_int_equal(fp_webhook_backoff(0, 5), 5);
}

static void hmac_known_answers(void **state)
{
	(void)state;
	char hex[65];
	/* RFC 4231 test case 2. */
	assert_int_equal(
	    fp_webhook_hmac_hex("Jefe", 4, NULL, 0, "what do ya want for nothing?", 28, hex), 0);
	assert_string_equal(hex,
	                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* The same message split between prefix and message. */
	assert_int_equal(
	    fp_webhook_hmac_hex("Jefe", 4, "what do ya", 10, " want for nothing?", 18, hex), 0);
	assert_string_equal(hex,
	                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* python3: hmac.new(b"whsec_0123456789abcdef", b'1700000000.{"event":"ping"}',
	 * hashlib.sha256).hexdigest() */
	char sig[FP_WEBHOOK_SIG_LEN + 1];
	const char *body = "{\"event\":\"ping\"}";
	assert_int_equal(
	    fp_webhook_signature("whsec_0123456789abcdef", 1700000000, body, strlen(body), sig), 0);
	assert_string_equal(
	    sig, "sha256=79d81e14c92abf335c535251e6a741851a318d1fc10f965d9ac0f5ccd24bb6a6");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(urls),
	    cmocka_unit_test(secrets),
	    cmocka_unit_test(event_names),
	    cmocka_unit_test(lists_and_matching),
	    cmocka_unit_test(bodies),
	    cmocka_unit_test(backoff),
	    cmocka_unit_test(hmac_known_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
