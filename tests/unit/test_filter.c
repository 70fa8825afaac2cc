/*
 * test_filter.c — unit tests of lib/filter.c: parse errors and caps,
 * evaluation on real device records, and the canonical text round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/device.h"
#include "fleetpatch/filter.h"

/* The adapter the server uses: device records are the filter's subjects. */
static size_t device_values(const void *subject, const char *name, const char **out, size_t max)
{
	return fp_device_rec_values(subject, name, out, max);
}

/* fp_device_attr_known already has the validator's type. */
static const fp_filter_known_fn device_known = fp_device_attr_known;

static int eval_text(const char *text, const struct fp_device_rec *d)
{
	struct fp_filter *f = NULL;
	struct fp_err err;
	if (fp_filter_parse(text, device_known, &f, &err) != 0)
		fail_msg("parse '%s': %s", text, err.msg);
	int r = fp_filter_eval(f, device_values, d);
	fp_filter_free(f);
	return r;
}

static void parse_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int code;
		const char *msg;
	} cases[] = {
	    {"", FP_EINVAL, "empty"},
	    {"  \t ", FP_EINVAL, "empty"},
	    {"firmware <", FP_EINVAL,
	     "filter: at column 11: expected a value after '<', found end of input"},
	    {"model == \"archer", FP_EINVAL, "at column 10: unterminated string"},
	    {"model == 'archer", FP_EINVAL, "unterminated string"},
	    {"model == \"arch\\", FP_EINVAL, "unterminated string"},
	    {"model == \"a\\qb\"", FP_EINVAL, "at column 12: unknown escape '\\q'"},
	    {"model == \"a\\\x01\"", FP_EINVAL, "unknown escape of byte 0x01"},
	    {"model == \"a\nb\"", FP_EINVAL, "control character (byte 0x0a)"},
	    {"modle == \"x\"", FP_EINVAL, "filter: at column 1: unknown attribute 'modle'"},
	    {"model == x and", FP_EINVAL,
	     "at column 15: expected an attribute name after 'and', found end of input"},
	    {"model == x and or model == y", FP_EINVAL, "after 'and', found the keyword 'or'"},
	    {"model == x or", FP_EINVAL, "after 'or', found end of input"},
	    {"not", FP_EINVAL, "after 'not', found end of input"},
	    {"model == x y", FP_EINVAL, "at column 12: expected 'and', 'or' or the end, found 'y'"},
	    {"model == x)", FP_EINVAL, "found ')'"},
	    {"(model == x", FP_EINVAL, "expected ')' to close the '(' at column 1"},
	    {"()", FP_EINVAL, "after '(', found ')'"},
	    {"model = x", FP_EINVAL, "write '=='"},
	    {"model x", FP_EINVAL, "expected an operator"},
	    {"model", FP_EINVAL,
	     "expected an operator (== != < <= > >= ~ in exists) after "
	     "'model', found end of input"},
	    {"== x", FP_EINVAL, "expected an attribute name, found '=='"},
	    {"model ==", FP_EINVAL, "expected a value after '==', found end of input"},
	    {"model == and", FP_EINVAL, "found the keyword 'and'; quote it"},
	    {"AND == x", FP_EINVAL, "found the keyword 'AND'"},
	    {"attr. == x", FP_EINVAL, "expected a key after 'attr.'"},
	    {"model in", FP_EINVAL, "expected '(' after 'in'"},
	    {"model in ()", FP_EINVAL, "expected a value after '(', found ')'"},
	    {"model in (a b)", FP_EINVAL, "expected ',' or ')'"},
	    {"model in (a,)", FP_EINVAL, "expected a value after ','"},
	    {"model ~", FP_EINVAL, "expected a value after '~'"},
	    {"model == \x01", FP_EINVAL, "found byte 0x01"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fp_filter *f = (struct fp_filter *)1;
		struct fp_err err;
		fp_err_clear(&err);
		int rc = fp_filter_parse(cases[i].text, device_known, &f, &err);
		if (rc != cases[i].code || f != NULL || !strstr(err.msg, cases[i].msg))
			fail_msg("'%s': rc %d, message '%s', want %d '%s'", cases[i].text, rc,
			         err.msg, cases[i].code, cases[i].msg);
	}
	/* Without a validator any well-formed attribute is accepted. */
	struct fp_filter *f = NULL;
	assert_int_equal(fp_filter_parse("modle == x", NULL, &f, NULL), 0);
	fp_filter_free(f);
}

/* Parses text and expects success (ok) or FP_ETOOBIG naming the cap. */
static void expect_cap(const char *text, int ok, const char *cap_words)
{
	struct fp_filter *f = NULL;
	struct fp_err err;
	fp_err_clear(&err);
	int rc = fp_filter_parse(text, NULL, &f, &err);
	if (ok) {
		if (rc != 0)
			fail_msg("at the cap, parse failed: %s", err.msg);
		fp_filter_free(f);
	} else {
		assert_int_equal(rc, FP_ETOOBIG);
		assert_null(f);
		if (!strstr(err.msg, cap_words))
			fail_msg("message '%s' does not name the cap '%s'", err.msg, cap_words);
	}
}

static void caps_exceeded_by_one(void **state)
{
	(void)state;
	char *t = malloc(FP_FILTER_TEXT_MAX + 2);
	assert_non_null(t);

	/* Length: padding with spaces up to the cap, then one byte more. */
	memset(t, ' ', FP_FILTER_TEXT_MAX + 1);
	memcpy(t, "model==x", 8);
	t[FP_FILTER_TEXT_MAX] = '\0';
	expect_cap(t, 1, NULL);
	t[FP_FILTER_TEXT_MAX] = ' ';
	t[FP_FILTER_TEXT_MAX + 1] = '\0';
	expect_cap(t, 0, "cap of 4096 bytes");

	/* Comparisons. */
	for (int n = FP_FILTER_CMP_MAX; n <= FP_FILTER_CMP_MAX + 1; n++) {
		size_t len = 0;
		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(t + len, FP_FILTER_TEXT_MAX + 2 - len, "%sa==%d",
			                        i ? " and " : "", i);
		expect_cap(t, n == FP_FILTER_CMP_MAX, "more than 64 comparisons");
	}

	/* Nesting, with parentheses and with 'not'. */
	for (int n = FP_FILTER_DEPTH_MAX; n <= FP_FILTER_DEPTH_MAX + 1; n++) {
		size_t len = 0;
		for (int i = 0; i < n; i++)
			t[len++] = '(';
		memcpy(t + len, "a==1", 4);
		len += 4;
		for (int i = 0; i < n; i++)
			t[len++] = ')';
		t[len] = '\0';
		expect_cap(t, n == FP_FILTER_DEPTH_MAX, "deeper than 32 levels");
		len = 0;
		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(t + len, FP_FILTER_TEXT_MAX + 2 - len, "not ");
		snprintf(t + len, FP_FILTER_TEXT_MAX + 2 - len, "a==1");
		expect_cap(t, n == FP_FILTER_DEPTH_MAX, "deeper than 32 levels");
	}

	/* Values in an 'in' list. */
	for (int n = FP_FILTER_IN_MAX; n <= FP_FILTER_IN_MAX + 1; n++) {
		size_t len = (size_t)snprintf(t, FP_FILTER_TEXT_MAX + 2, "tags in (");
		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(t + len, FP_FILTER_TEXT_MAX + 2 - len, "%sv%d",
			                        i ? ", " : "", i);
		snprintf(t + len, FP_FILTER_TEXT_MAX + 2 - len, ")");
		expect_cap(t, n == FP_FILTER_IN_MAX, "more than 64 values");
	}

	/* Bytes per value, quoted, single-quoted and bare. */
	static const char *const quote[] = {"\"", "'", ""};
	char v[FP_FILTER_VALUE_MAX + 2];
	for (size_t k = 0; k < 3; k++)
		for (int n = FP_FILTER_VALUE_MAX; n <= FP_FILTER_VALUE_MAX + 1; n++) {
			memset(v, 'x', (size_t)n);
			v[n] = '\0';
			snprintf(t, FP_FILTER_TEXT_MAX + 2, "model == %s%s%s", quote[k], v,
			         quote[k]);
			expect_cap(t, n == FP_FILTER_VALUE_MAX, "cap of 256 bytes per value");
		}
	/* An escape counts as the one byte it stands for. */
	char esc[2 * FP_FILTER_VALUE_MAX + 1];
	for (int i = 0; i < FP_FILTER_VALUE_MAX; i++)
		memcpy(esc + 2 * i, "\\\"", 2);
	esc[2 * FP_FILTER_VALUE_MAX] = '\0';
	snprintf(t, FP_FILTER_TEXT_MAX + 2, "model == \"%s\"", esc);
	expect_cap(t, 1, NULL);
	free(t);
}

/* A device record for evaluation tests. */
static void device(struct fp_device_rec *d, const char *model, const char *fw, const char *exposure)
{
	fp_device_rec_init(d);
	if (model)
		assert_int_equal(fp_device_rec_set(d, "model", model, NULL), 0);
	if (fw)
		assert_int_equal(fp_device_rec_set(d, "firmware", fw, NULL), 0);
	if (exposure)
		assert_int_equal(fp_device_rec_set(d, "exposure", exposure, NULL), 0);
}

static void issue_example(void **state)
{
	(void)state;
	static const char *const ex =
	    "model == \"archer-c7\" and firmware < \"1.2.0\" and exposure == \"internet\"";
	struct fp_device_rec d;
	device(&d, "archer-c7", "1.1.9", "internet");
	assert_int_equal(eval_text(ex, &d), 1);
	assert_int_equal(eval_text("model == archer-c7 and firmware < 1.2.0", &d), 1);
	assert_int_equal(fp_device_rec_set(&d, "firmware", "1.10.0", NULL), 0);
	assert_int_equal(eval_text(ex, &d), 0);
	assert_int_equal(fp_device_rec_set(&d, "firmware", "1.1.9", NULL), 0);
	assert_int_equal(fp_device_rec_set(&d, "exposure", "internal", NULL), 0);
	assert_int_equal(eval_text(ex, &d), 0);
	fp_device_rec_free(&d);
}

static void operators_and_precedence(void **state)
{
	(void)state;
	struct fp_device_rec d;
	device(&d, "archer-c7", "1.1.9", "internet");
	assert_int_equal(fp_device_rec_set(&d, "eol_date", "2024-05-01", NULL), 0);
	assert_int_equal(fp_device_rec_set(&d, "criticality", "high", NULL), 0);

	/* 'and' binds tighter than 'or'. */
	assert_int_equal(eval_text("model == archer-c7 or model == x and model == y", &d), 1);
	assert_int_equal(eval_text("(model == archer-c7 or model == x) and model == y", &d), 0);
	assert_int_equal(eval_text("model == x and model == y or exposure == internet", &d), 1);
	/* 'not' binds tighter than 'and'. */
	assert_int_equal(eval_text("not model == x and model == archer-c7", &d), 1);
	assert_int_equal(eval_text("not (model == x or model == archer-c7)", &d), 0);
	assert_int_equal(eval_text("NOT NOT model == archer-c7", &d), 1);
	assert_int_equal(eval_text("model == archer-c7 AnD criticality == high", &d), 1);

	assert_int_equal(eval_text("model != archer-c7", &d), 0);
	assert_int_equal(eval_text("model != archer-c9", &d), 1);
	assert_int_equal(eval_text("model == ARCHER-C7", &d), 0); /* == is exact */
	assert_int_equal(eval_text("firmware <= 1.1.9 and firmware >= 1.1.9", &d), 1);
	assert_int_equal(eval_text("firmware > 1.1.10", &d), 0);
	assert_int_equal(eval_text("firmware > 1.1.9-rc1", &d), 1);
	assert_int_equal(eval_text("firmware >= v1.1.9", &d), 1);
	assert_int_equal(eval_text("eol_date < 2024-11-01", &d), 1);
	assert_int_equal(eval_text("eol_date > '2024-05-01'", &d), 0);
	assert_int_equal(eval_text("model in (tl-wr841n, \"archer-c7\", 'x')", &d), 1);
	assert_int_equal(eval_text("model in (tl-wr841n)", &d), 0);
	assert_int_equal(eval_text("model exists and firmware EXISTS", &d), 1);
	assert_int_equal(eval_text("model ~ \"ARCHER-*\"", &d), 1);
	assert_int_equal(eval_text("model ~ \"archer-c?\"", &d), 1);
	assert_int_equal(eval_text("model ~ \"archer-c\"", &d), 0);
	assert_int_equal(eval_text("model ~ \"*c7*\"", &d), 1);
	assert_int_equal(eval_text("model ~ \"*\"", &d), 1);
	assert_int_equal(eval_text("model ~ \"a*c*7\"", &d), 1);
	assert_int_equal(eval_text("model ~ \"?\"", &d), 0);
	fp_device_rec_free(&d);

	/* A pathological glob stays fast and correct on a long value. */
	char big[FP_DEVICE_STR_MAX + 1];
	memset(big, 'a', FP_DEVICE_STR_MAX);
	big[FP_DEVICE_STR_MAX] = '\0';
	device(&d, big, NULL, NULL);
	assert_int_equal(eval_text("model ~ \"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\"", &d), 0);
	assert_int_equal(eval_text("model ~ \"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a\"", &d), 1);
	fp_device_rec_free(&d);
}

static void multi_valued_and_missing(void **state)
{
	(void)state;
	struct fp_device_rec d;
	device(&d, "cam", NULL, NULL);
	assert_int_equal(fp_device_rec_add_tag(&d, "lab", NULL), 0);
	assert_int_equal(fp_device_rec_add_tag(&d, "prod", NULL), 0);
	assert_int_equal(fp_device_rec_add_tag(&d, "v2.1", NULL), 0);
	assert_int_equal(fp_device_rec_set_attr(&d, "rack", "r12", NULL), 0);

	/* Any value may satisfy a comparison... */
	assert_int_equal(eval_text("tags == lab", &d), 1);
	assert_int_equal(eval_text("tags == prod", &d), 1);
	assert_int_equal(eval_text("tags == staging", &d), 0);
	assert_int_equal(eval_text("tags in (staging, prod)", &d), 1);
	assert_int_equal(eval_text("tags ~ \"PR*\"", &d), 1);
	assert_int_equal(eval_text("tags > v2.0", &d), 1);
	/* ...but != needs every value to differ. */
	assert_int_equal(eval_text("tags != lab", &d), 0);
	assert_int_equal(eval_text("tags != staging", &d), 1);
	assert_int_equal(eval_text("tags == lab and tags == prod", &d), 1);
	assert_int_equal(eval_text("attr.rack == r12 and attr.rack ~ 'r1?'", &d), 1);

	/* Missing attributes: only != and 'not' are true. */
	assert_int_equal(eval_text("firmware == 1.0", &d), 0);
	assert_int_equal(eval_text("firmware != 1.0", &d), 1);
	assert_int_equal(eval_text("firmware < 99", &d), 0);
	assert_int_equal(eval_text("firmware >= 0", &d), 0);
	assert_int_equal(eval_text("firmware ~ \"*\"", &d), 0);
	assert_int_equal(eval_text("firmware in (1.0)", &d), 0);
	assert_int_equal(eval_text("firmware exists", &d), 0);
	assert_int_equal(eval_text("not firmware exists", &d), 1);
	assert_int_equal(eval_text("attr.room exists", &d), 0);
	assert_int_equal(eval_text("components exists", &d), 0);
	fp_device_rec_free(&d);
}

static const char *const round_trip[] = {
    "model == \"archer-c7\" and firmware < \"1.2.0\" and exposure == \"internet\"",
    "model == x or model == y and firmware < 2",
    "(model == x or model == y) and firmware < 2",
    "not (tags == lab or tags == prod) and not not model exists",
    "NOT(model==x) OR ((model == y))",
    "tags in ( lab , 'prod' , \"a b\" ) and model ~ \"arch*\"",
    "model == 'say \"hi\"' or model == \"it's\" or model == \"both ' \\\" \\\\\"",
    "model == \"tab\\there\\nnewline\" or model == \"and\" or model == ''",
    "attr.rack-1 == r12 and ((firmware >= 1.0 and firmware <= 2.0) or firmware ~ '*beta*')",
    "model==\"x\"and(tags==a or tags==b)",
    "not.x exists or in_x exists",
};

static void device_set(struct fp_device_rec *d, int which)
{
	static const char *const models[] = {"archer-c7", "x", "y", "it's", "and", "arch9"};
	static const char *const fws[] = {"1.1.9", "1.10", "0.9", "2.0", "1.5-beta", NULL};
	device(d, models[which % 6], fws[which % 6], which % 2 ? "internet" : "internal");
	if (which % 3 == 0)
		assert_int_equal(fp_device_rec_add_tag(d, "lab", NULL), 0);
	if (which % 4 == 0)
		assert_int_equal(fp_device_rec_add_tag(d, "prod", NULL), 0);
	if (which % 5 == 0)
		assert_int_equal(fp_device_rec_set_attr(d, "rack-1", "r12", NULL), 0);
}

static void to_string_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(round_trip) / sizeof(round_trip[0]); i++) {
		struct fp_filter *f = NULL, *g = NULL;
		struct fp_err err;
		char *s1 = NULL, *s2 = NULL;
		if (fp_filter_parse(round_trip[i], NULL, &f, &err))
			fail_msg("parse '%s': %s", round_trip[i], err.msg);
		assert_int_equal(fp_filter_to_string(f, &s1), 0);
		if (fp_filter_parse(s1, NULL, &g, &err))
			fail_msg("reparse '%s': %s", s1, err.msg);
		assert_int_equal(fp_filter_to_string(g, &s2), 0);
		assert_string_equal(s1, s2);
		assert_true(strlen(s1) <= strlen(round_trip[i]));
		for (int k = 0; k < 60; k++) {
			struct fp_device_rec d;
			device_set(&d, k);
			assert_int_equal(fp_filter_eval(f, device_values, &d),
			                 fp_filter_eval(g, device_values, &d));
			fp_device_rec_free(&d);
		}
		free(s1);
		free(s2);
		fp_filter_free(f);
		fp_filter_free(g);
	}

	/* The canonical form of the issue's example, and of some odd spellings. */
	static const struct {
		const char *in, *out;
	} canon[] = {
	    {"model == \"archer-c7\" and firmware < \"1.2.0\" and exposure == \"internet\"",
	     "model==archer-c7 and firmware<1.2.0 and exposure==internet"},
	    {"NOT ( a == 1 OR b == 2 )", "not(a==1 or b==2)"},
	    {"(a == 1 and b == 2) and (c == 3)", "a==1 and b==2 and c==3"},
	    {"(a == 1 or b == 2) or c == 3", "a==1 or b==2 or c==3"},
	    {"a == 1 and (b == 2 or c == 3)", "a==1 and(b==2 or c==3)"},
	    {"not (not a exists)", "not not a exists"},
	    {"t in ( 'x' , \"y z\" )", "t in(x,\"y z\")"},
	    {"m == 'a\"b'", "m=='a\"b'"},
	    {"m == \"and\"", "m==\"and\""},
	    {"m ~ \"arch*\"", "m~\"arch*\""},
	};
	for (size_t i = 0; i < sizeof(canon) / sizeof(canon[0]); i++) {
		struct fp_filter *f = NULL;
		char *s = NULL;
		assert_int_equal(fp_filter_parse(canon[i].in, NULL, &f, NULL), 0);
		assert_int_equal(fp_filter_to_string(f, &s), 0);
		assert_string_equal(s, canon[i].out);
		free(s);
		fp_filter_free(f);
	}
}

/* A filter at every cap at once still round-trips within the caps. */
static void round_trip_at_the_caps(void **state)
{
	(void)state;
	char *t = malloc(FP_FILTER_TEXT_MAX + 1);
	assert_non_null(t);
	size_t len = 0;
	/* 63 comparisons with quoted values needing escapes, in nested groups. */
	for (int i = 0; i < 31; i++)
		t[len++] = '(';
	for (int i = 0; i < 63; i++)
		len += (size_t)snprintf(t + len, FP_FILTER_TEXT_MAX + 1 - len,
		                        "%sm==\"q\\\"%d\\\\'x\"", i ? " or " : "", i);
	for (int i = 0; i < 31; i++)
		t[len++] = ')';
	len += (size_t)snprintf(t + len, FP_FILTER_TEXT_MAX + 1 - len, " and tags in (");
	for (int i = 0; i < 63; i++)
		len += (size_t)snprintf(t + len, FP_FILTER_TEXT_MAX + 1 - len, "%s'v\"%d'",
		                        i ? "," : "", i);
	len += (size_t)snprintf(t + len, FP_FILTER_TEXT_MAX + 1 - len, ")");
	assert_true(len <= FP_FILTER_TEXT_MAX);
	struct fp_filter *f = NULL, *g = NULL;
	struct fp_err err;
	if (fp_filter_parse(t, NULL, &f, &err))
		fail_msg("%s", err.msg);
	char *s = NULL;
	assert_int_equal(fp_filter_to_string(f, &s), 0);
	assert_true(strlen(s) <= len);
	if (fp_filter_parse(s, NULL, &g, &err))
		fail_msg("%s", err.msg);
	free(s);
	fp_filter_free(f);
	fp_filter_free(g);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_errors),
	    cmocka_unit_test(caps_exceeded_by_one),
	    cmocka_unit_test(issue_example),
	    cmocka_unit_test(operators_and_precedence),
	    cmocka_unit_test(multi_valued_and_missing),
	    cmocka_unit_test(to_string_round_trip),
	    cmocka_unit_test(round_trip_at_the_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
