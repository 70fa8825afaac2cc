/*
 * test_agent_session.c — the agent's session file (lib/agent_session.c):
 * a file written by format is read back as it was; every way the file can
 * be wrong is refused with the line and what was wrong, and the output
 * struct is left as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fleetpatch/agent_session.h"

/* A session file as the format in agent_session.h describes it, written by hand. */
static const char good[] =
    "fleetpatch-agent-session 1\n"
    "token=fpd_abc.def\n"
    "token_expires=1893456000\n"
    "poll_s=300\n"
    "inventory_sent=1\n"
    "inventory_hash=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
    "inventory_at=1700000000\n"
    "fails=3\n";

static void test_read(void **state)
{
	(void)state;
	struct fp_agent_session s;
	struct fp_err e = {0};
	assert_int_equal(fp_agent_session_parse(good, strlen(good), &s, &e), 0);
	assert_string_equal(s.token, "fpd_abc.def");
	assert_int_equal(s.token_expires, 1893456000);
	assert_int_equal(s.poll_s, 300);
	assert_int_equal(s.inventory_sent, 1);
	assert_int_equal(s.inventory_hash[0], 0x00);
	assert_int_equal(s.inventory_hash[1], 0x11);
	assert_int_equal(s.inventory_hash[15], 0xff);
	assert_int_equal(s.inventory_hash[31], 0xff);
	assert_int_equal(s.inventory_at, 1700000000);
	assert_int_equal(s.fails, 3);
	/* No token: an agent that never authenticated. */
	const char none[] = "fleetpatch-agent-session 1\ntoken=\ntoken_expires=0\npoll_s=0\n"
	                    "inventory_sent=0\ninventory_hash="
	                    "0000000000000000000000000000000000000000000000000000000000000000\n"
	                    "inventory_at=0\nfails=0\n";
	assert_int_equal(fp_agent_session_parse(none, strlen(none), &s, &e), 0);
	assert_string_equal(s.token, "");
	assert_int_equal(s.poll_s, 0);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct fp_agent_session s, t;
	char buf[FP_AGENT_SESSION_MAX + 1];
	memset(&s, 0, sizeof(s));
	memset(s.token, 'x', sizeof(s.token) - 1); /* the longest token */
	s.token_expires = 4102444800;
	s.poll_s = FP_POLL_INTERVAL_MAX;
	s.inventory_sent = 1;
	for (int i = 0; i < 32; i++)
		s.inventory_hash[i] = (unsigned char)(i * 37 + 5);
	s.inventory_at = 1;
	s.fails = FP_AGENT_SESSION_FAILS;
	int n = fp_agent_session_format(&s, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_int_equal(fp_agent_session_parse(buf, (size_t)n, &t, NULL), 0);
	assert_memory_equal(&s, &t, sizeof(s));
	/* Too small a buffer, and values that parse would refuse. */
	assert_int_equal(fp_agent_session_format(&s, buf, 100), FP_ETOOBIG);
	s.fails = -1;
	assert_int_equal(fp_agent_session_format(&s, buf, sizeof(buf)), FP_EINVAL);
	s.fails = 0;
	s.token[3] = ' ';
	assert_int_equal(fp_agent_session_format(&s, buf, sizeof(buf)), FP_EINVAL);
}

/* good with its line `line` (1-based) replaced by repl ("" drops the line). */
static void with_line(int line, const char *repl, char *out, size_t cap)
{
	const char *p = good;
	size_t n = 0;
	for (int i = 1; *p; i++) {
		const char *nl = strchr(p, '\n');
		size_t len = (size_t)(nl - p) + 1;
		if (i == line)
			n += (size_t)snprintf(out + n, cap - n, "%s", repl);
		else
			n += (size_t)snprintf(out + n, cap - n, "%.*s", (int)len, p);
		p += len;
	}
}

static void test_refused(void **state)
{
	(void)state;
	static const struct {
		int line;
		const char *repl, *says;
	} bad[] = {
	    {1, "fleetpatch-agent-session 2\n", "line 1"},
	    {2, "token=has space\n", "line 2: bad value of token"},
	    {2, "token=caf\xc3\xa9\n", "line 2: bad value of token"},
	    {2, "", "line 2: expected token="},
	    {3, "token_expires=-1\n", "line 3: bad value of token_expires"},
	    {3, "token_expires=12x\n", "line 3: bad value"},
	    {3, "token_expires=\n", "line 3: bad value"},
	    {3, "token_expires=99999999999999999999\n", "line 3: bad value"},
	    {4, "poll_s=604801\n", "line 4: bad value of poll_s"},
	    {4, "poll=300\n", "line 4: expected poll_s="},
	    {5, "inventory_sent=2\n", "line 5: bad value"},
	    {6, "inventory_hash=00112233\n", "line 6: bad value of inventory_hash"},
	    {6, "inventory_hash=00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\n",
	     "line 6: bad value"},
	    {6, "inventory_hash=g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
	     "line 6: bad value"},
	    {8, "fails=1000001\n", "line 8: bad value of fails"},
	    {8, "fails=3", "line 8: no newline"},
	    {8, "", "line 8: missing"},
	    {8, "fails=3\nextra=1\n", "data after line 8"},
	    {4, "token=again\n", "line 4: expected poll_s="},
	};
	char buf[4096];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fp_agent_session s;
		struct fp_err e = {0};
		memset(&s, 0x5a, sizeof(s));
		with_line(bad[i].line, bad[i].repl, buf, sizeof(buf));
		if (fp_agent_session_parse(buf, strlen(buf), &s, &e) == 0)
			fail_msg("case %zu accepted", i);
		if (!strstr(e.msg, bad[i].says))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, e.msg, bad[i].says);
		assert_int_equal(s.fails, 0x5a5a5a5a); /* untouched */
	}
	/* Over the cap: refused before reading. */
	static char huge[FP_AGENT_SESSION_MAX + 1];
	memset(huge, 'x', sizeof(huge));
	struct fp_agent_session s;
	assert_int_equal(fp_agent_session_parse(huge, sizeof(huge), &s, NULL), FP_ETOOBIG);
	assert_int_equal(fp_agent_session_parse("", 0, &s, NULL), FP_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
