/*
 * test_cpe.c — unit tests of lib/cpe.c: CPE 2.3 formatted strings with the
 * escapes NVD really uses, CPE 2.2 URIs, round trips, every malformed case,
 * building names from plain values, and the NISTIR 7696 matching table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/cpe.h"

/* Parses s, which must be valid. */
static void parse_ok(const char *s, struct fp_cpe *c)
{
	struct fp_err err;
	fp_err_clear(&err);
	int rc = fp_cpe_parse(s, c, &err);
	if (rc != 0)
		fail_msg("fp_cpe_parse(\"%s\") = %d: %s", s, rc, err.msg);
}

/* Parses s, formats it and returns the formatted string (static buffer). */
static const char *reformat(const char *s)
{
	static char buf[FP_CPE_MAX + 1];
	struct fp_cpe c;
	parse_ok(s, &c);
	assert_int_equal(fp_cpe_format(&c, buf, sizeof(buf)), 0);
	fp_cpe_free(&c);
	return buf;
}

static void assert_value(const struct fp_cpe *c, int a, const char *v)
{
	assert_int_equal(c->kind[a], FP_CPE_VALUE);
	assert_string_equal(c->val[a], v);
}

static void assert_rest_any(const struct fp_cpe *c, int from)
{
	for (int a = from; a < FP_CPE_NATTR; a++) {
		assert_int_equal(c->kind[a], FP_CPE_ANY);
		assert_null(c->val[a]);
	}
}

static void nvd_escapes(void **state)
{
	(void)state;
	struct fp_cpe c;

	parse_ok("cpe:2.3:o:cisco:ios:12.2\\(33\\)sxi:*:*:*:*:*:*:*", &c);
	assert_value(&c, FP_CPE_PART, "o");
	assert_value(&c, FP_CPE_VENDOR, "cisco");
	assert_value(&c, FP_CPE_PRODUCT, "ios");
	assert_value(&c, FP_CPE_VERSION, "12.2(33)sxi");
	assert_null(c.wild[FP_CPE_VERSION]);
	assert_rest_any(&c, FP_CPE_UPDATE);
	fp_cpe_free(&c);

	parse_ok("cpe:2.3:h:dlink:dir-825\\/ac:-:*:*:*:*:*:*:*", &c);
	assert_value(&c, FP_CPE_PRODUCT, "dir-825/ac");
	assert_int_equal(c.kind[FP_CPE_VERSION], FP_CPE_NA);
	assert_null(c.val[FP_CPE_VERSION]);
	fp_cpe_free(&c);

	parse_ok("cpe:2.3:o:zyxel:nas326_firmware:5.21\\(aazf.14\\)c0:*:*:*:*:*:*:*", &c);
	assert_value(&c, FP_CPE_VERSION, "5.21(aazf.14)c0");
	fp_cpe_free(&c);

	/* Quoted spaces, as in TP-Link firmware names; upper case folds. */
	parse_ok("cpe:2.3:o:TP-Link:archer_c7_firmware:1.1.4\\ Build\\ 20230219:*:*:*:*:*:*:*", &c);
	assert_value(&c, FP_CPE_VENDOR, "tp-link");
	assert_value(&c, FP_CPE_VERSION, "1.1.4 build 20230219");
	fp_cpe_free(&c);

	/* The version in the update field (QNAP, Samsung). */
	parse_ok("cpe:2.3:o:samsung:android:11.0:smr-sep-2021-r1:*:*:*:*:*:*", &c);
	assert_value(&c, FP_CPE_VERSION, "11.0");
	assert_value(&c, FP_CPE_UPDATE, "smr-sep-2021-r1");
	fp_cpe_free(&c);

	/* Quoting '.', '-' or '_' is allowed though unnecessary; '\\' and ':' quote too. */
	parse_ok("cpe:2.3:a:foo:bar\\:baz\\\\qux:1\\.0:*:*:*:*:*:*:*", &c);
	assert_value(&c, FP_CPE_PRODUCT, "bar:baz\\qux");
	assert_value(&c, FP_CPE_VERSION, "1.0");
	fp_cpe_free(&c);

	/* Unquoted wildcards are flagged; quoted ones are literal. */
	parse_ok("cpe:2.3:a:foo:*bar:1.\\*?:*:*:*:*:*:*:*", &c);
	assert_value(&c, FP_CPE_PRODUCT, "*bar");
	assert_non_null(c.wild[FP_CPE_PRODUCT]);
	assert_int_equal(c.wild[FP_CPE_PRODUCT][0], 1);
	assert_int_equal(c.wild[FP_CPE_PRODUCT][1], 0);
	assert_value(&c, FP_CPE_VERSION, "1.*?");
	assert_int_equal(c.wild[FP_CPE_VERSION][2], 0);
	assert_int_equal(c.wild[FP_CPE_VERSION][3], 1);
	fp_cpe_free(&c);
	parse_ok("cpe:2.3:a:foo:bar:1.?:*:*:*:*:*:*:*", &c);
	assert_value(&c, FP_CPE_VERSION, "1.?");
	assert_int_equal(c.wild[FP_CPE_VERSION][2], 1);
	fp_cpe_free(&c);
	parse_ok("cpe:2.3:a:foo:bar:\\*:*:*:*:*:*:*:*", &c);
	assert_value(&c, FP_CPE_VERSION, "*");
	assert_null(c.wild[FP_CPE_VERSION]);
	fp_cpe_free(&c);

	/* A lone quoted hyphen is a value, not NA. */
	parse_ok("cpe:2.3:a:foo:bar:\\-:*:*:*:*:*:*:*", &c);
	assert_value(&c, FP_CPE_VERSION, "-");
	fp_cpe_free(&c);

	/* Logical values in the part position. */
	parse_ok("cpe:2.3:*:foo:bar:*:*:*:*:*:*:*:*", &c);
	assert_int_equal(c.kind[FP_CPE_PART], FP_CPE_ANY);
	fp_cpe_free(&c);
}

static void uri_binding(void **state)
{
	(void)state;
	struct fp_cpe c, d;

	parse_ok("cpe:/a:openbsd:openssh:7.4", &c);
	assert_value(&c, FP_CPE_PART, "a");
	assert_value(&c, FP_CPE_VENDOR, "openbsd");
	assert_value(&c, FP_CPE_PRODUCT, "openssh");
	assert_value(&c, FP_CPE_VERSION, "7.4");
	assert_rest_any(&c, FP_CPE_UPDATE);
	fp_cpe_free(&c);
	assert_string_equal(reformat("cpe:/a:openbsd:openssh:7.4"),
	                    "cpe:2.3:a:openbsd:openssh:7.4:*:*:*:*:*:*:*");

	/* Percent-encoding resolves to the same name as the 2.3 escapes. */
	parse_ok("cpe:/o:cisco:ios:12.2%2833%29sxi", &c);
	parse_ok("cpe:2.3:o:cisco:ios:12.2\\(33\\)sxi:*:*:*:*:*:*:*", &d);
	assert_true(fp_cpe_equal(&c, &d));
	fp_cpe_free(&c);
	fp_cpe_free(&d);

	/* Packed edition: ~edition~sw_edition~target_sw~target_hw~other. */
	parse_ok("cpe:/a:hp:insight_diagnostics:7.4.0.1570:-:~~online~win2003~x64~", &c);
	assert_int_equal(c.kind[FP_CPE_UPDATE], FP_CPE_NA);
	assert_int_equal(c.kind[FP_CPE_EDITION], FP_CPE_ANY);
	assert_value(&c, FP_CPE_SW_EDITION, "online");
	assert_value(&c, FP_CPE_TARGET_SW, "win2003");
	assert_value(&c, FP_CPE_TARGET_HW, "x64");
	assert_int_equal(c.kind[FP_CPE_OTHER], FP_CPE_ANY);
	assert_int_equal(c.kind[FP_CPE_LANGUAGE], FP_CPE_ANY);
	fp_cpe_free(&c);
	assert_string_equal(
	    reformat("cpe:/a:hp:insight_diagnostics:7.4.0.1570:-:~~online~win2003~x64~"),
	    "cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*");

	/* Empty components are ANY, '-' NA; an unpacked edition and a language. */
	assert_string_equal(reformat("cpe:/A:Foo:Bar::-:pro:en-us"),
	                    "cpe:2.3:a:foo:bar:*:-:pro:en-us:*:*:*:*");
	assert_string_equal(reformat("cpe:/"), "cpe:2.3:*:*:*:*:*:*:*:*:*:*:*");
	assert_string_equal(reformat("cpe:/h"), "cpe:2.3:h:*:*:*:*:*:*:*:*:*:*");

	/* %01 and %02 are the wildcards '?' and '*'; a lone %02 is ANY. */
	parse_ok("cpe:/a:foo:bar:1.%02", &c);
	assert_value(&c, FP_CPE_VERSION, "1.*");
	assert_int_equal(c.wild[FP_CPE_VERSION][2], 1);
	fp_cpe_free(&c);
	assert_string_equal(reformat("cpe:/a:foo:bar:%01%011"),
	                    "cpe:2.3:a:foo:bar:??1:*:*:*:*:*:*:*");
	assert_string_equal(reformat("cpe:/a:foo:%02"), "cpe:2.3:a:foo:*:*:*:*:*:*:*:*:*");
	assert_string_equal(reformat("cpe:/a:foo:bar:1.0~beta%2a"),
	                    "cpe:2.3:a:foo:bar:1.0\\~beta\\*:*:*:*:*:*:*:*");
}

static void round_trips(void **state)
{
	(void)state;
	static const char *const canonical[] = {
	    "cpe:2.3:o:cisco:ios:12.2\\(33\\)sxi:*:*:*:*:*:*:*",
	    "cpe:2.3:h:dlink:dir-825\\/ac:-:*:*:*:*:*:*:*",
	    "cpe:2.3:o:zyxel:nas326_firmware:5.21\\(aazf.14\\)c0:*:*:*:*:*:*:*",
	    "cpe:2.3:o:tp-link:archer_c7_firmware:1.1.4\\ build\\ 20230219:*:*:*:*:*:*:*",
	    "cpe:2.3:o:qnap:qts:4.2.6:build_20190322:*:*:*:*:*:*",
	    "cpe:2.3:a:citrix:netscaler_application_delivery_controller:*:*:*:*:fips:*:*:*",
	    "cpe:2.3:a:foo:bar:\\-:-:*:*:*:*:*:*",
	    "cpe:2.3:a:foo:*bar:??1:1.*:\\*:*:*:*:*:*",
	    "cpe:2.3:a:foo:bar\\:baz:\\\\:\\!\\\"\\#\\$\\%\\&\\'\\(\\)\\+\\,\\/"
	    "\\;\\<\\=\\>\\@\\[\\]\\^\\`"
	    "\\{\\|\\}\\~:*:*:*:*:*:*",
	    "cpe:2.3:-:-:-:-:-:-:-:-:-:-:-",
	    "cpe:2.3:*:*:*:*:*:*:*:*:*:*:*",
	};
	for (size_t i = 0; i < sizeof(canonical) / sizeof(canonical[0]); i++) {
		struct fp_cpe a, b;
		char buf[FP_CPE_MAX + 1];
		parse_ok(canonical[i], &a);
		assert_int_equal(fp_cpe_format(&a, buf, sizeof(buf)), 0);
		assert_string_equal(buf, canonical[i]);
		parse_ok(buf, &b);
		assert_true(fp_cpe_equal(&a, &b));
		assert_true(fp_cpe_match(&a, &b));
		fp_cpe_free(&a);
		fp_cpe_free(&b);
	}
	/* Non-canonical spellings format canonically. */
	assert_string_equal(reformat("cpe:2.3:A:Foo:Bar:1\\.0\\_x:*:*:*:*:*:*:*"),
	                    "cpe:2.3:a:foo:bar:1.0_x:*:*:*:*:*:*:*");
}

/* s must be rejected with code; the message must mention want (if not NULL). */
static void expect_error(const char *s, int code, const char *want)
{
	struct fp_cpe c;
	struct fp_err err;
	fp_err_clear(&err);
	int rc = fp_cpe_parse(s, &c, &err);
	if (rc != code)
		fail_msg("fp_cpe_parse(\"%s\") = %d, want %d", s, rc, code);
	if (want && !strstr(err.msg, want))
		fail_msg("message for \"%s\" is \"%s\", want \"%s\"", s, err.msg, want);
	/* The output owns nothing on error. */
	for (int a = 0; a < FP_CPE_NATTR; a++) {
		assert_int_equal(c.kind[a], FP_CPE_ANY);
		assert_null(c.val[a]);
	}
}

static void malformed(void **state)
{
	(void)state;
	/* Prefix. */
	expect_error("", FP_EINVAL, "expected \"cpe:2.3:\"");
	expect_error("cpe:2.2:a:foo:bar:*:*:*:*:*:*:*:*", FP_EINVAL, "byte 0");
	expect_error("cpe:a:foo:bar", FP_EINVAL, NULL);
	expect_error("xpe:2.3:a:foo:bar:*:*:*:*:*:*:*:*", FP_EINVAL, NULL);
	assert_int_equal(fp_cpe_parse(NULL, &(struct fp_cpe){0}, NULL), FP_EINVAL);
	/* Component counts: 12 attributes, 10 attributes, a trailing colon. */
	expect_error("cpe:2.3:a:foo:bar:1:*:*:*:*:*:*:*:*", FP_EINVAL, "more than 11");
	expect_error("cpe:2.3:a:foo:bar:1:*:*:*:*:*:*", FP_EINVAL, "missing other");
	expect_error("cpe:2.3:a:foo:bar:1:*:*:*:*:*:*:", FP_EINVAL, "empty attribute");
	expect_error("cpe:2.3:a::bar:1:*:*:*:*:*:*:*", FP_EINVAL, "CPE vendor at byte 10");
	/* Part. */
	expect_error("cpe:2.3:x:foo:bar:*:*:*:*:*:*:*:*", FP_EINVAL, "use a, o or h");
	expect_error("cpe:2.3:ao:foo:bar:*:*:*:*:*:*:*:*", FP_EINVAL, "part");
	expect_error("cpe:2.3:?:foo:bar:*:*:*:*:*:*:*:*", FP_EINVAL, "part");
	expect_error("cpe:/x:foo", FP_EINVAL, "use a, o or h");
	/* Escapes. */
	expect_error("cpe:2.3:a:foo:bar:1\\a:*:*:*:*:*:*:*", FP_EINVAL, "bad escape");
	expect_error("cpe:2.3:a:foo:bar:*:*:*:*:*:*:*:x\\", FP_EINVAL, "lone '\\'");
	expect_error("cpe:2.3:a:foo:bar:1\\\x01:*:*:*:*:*:*:*", FP_EINVAL, "bad escape");
	/* Unquoted special characters and misplaced wildcards. */
	expect_error("cpe:2.3:h:dlink:dir-825/ac:-:*:*:*:*:*:*:*", FP_EINVAL,
	             "CPE product at byte 23: unquoted special character '/'");
	expect_error("cpe:2.3:o:cisco:ios:12.2(33)sxi:*:*:*:*:*:*:*", FP_EINVAL,
	             "CPE version at byte 24");
	expect_error("cpe:2.3:a:foo:bar:1.1 build:*:*:*:*:*:*:*", FP_EINVAL, "' '");
	expect_error("cpe:2.3:a:foo:b*r:*:*:*:*:*:*:*:*", FP_EINVAL, "wildcard");
	expect_error("cpe:2.3:a:foo:bar:1?2:*:*:*:*:*:*:*", FP_EINVAL, "wildcard");
	expect_error("cpe:2.3:a:foo:bar:***:*:*:*:*:*:*:*", FP_EINVAL, "wildcard");
	/* Control and non-ASCII bytes, quoted or not. */
	expect_error("cpe:2.3:a:foo:bar:1\t0:*:*:*:*:*:*:*", FP_EINVAL, "control character 0x09");
	expect_error("cpe:2.3:a:foo:bar:1\x7f:*:*:*:*:*:*:*", FP_EINVAL, "control character");
	expect_error("cpe:2.3:a:foo:bar:1\n:*:*:*:*:*:*:*", FP_EINVAL, "control character");
	expect_error("cpe:2.3:a:foo:caf\xc3\xa9:*:*:*:*:*:*:*:*", FP_EINVAL, "non-ASCII byte 0xc3");
	expect_error("cpe:2.3:a:foo:bar:\\\xc3\xa9:*:*:*:*:*:*:*", FP_EINVAL, "bad escape");
	/* URIs. */
	expect_error("cpe:/a:foo:bar:1:2:3:4:5", FP_EINVAL, "at most 7");
	expect_error("cpe:/a:foo:bar:1.0(2)", FP_EINVAL, "percent-encoded");
	expect_error("cpe:/a:foo:bar:1.%zz", FP_EINVAL, "bad percent-encoding");
	expect_error("cpe:/a:foo:bar:1.%2", FP_EINVAL, "bad percent-encoding");
	expect_error("cpe:/a:foo:bar:1%0a", FP_EINVAL, "printable");
	expect_error("cpe:/a:foo:bar:1%c3%a9", FP_EINVAL, "printable");
	expect_error("cpe:/a:foo:bar:1:-:~a~b~c~d", FP_EINVAL, "5 fields");
	expect_error("cpe:/a:foo:bar:1:-:~a~b~c~d~e~f", FP_EINVAL, "more than 5");
	expect_error("cpe:/a:foo:bar:1%022", FP_EINVAL, "wildcard");
	expect_error("cpe:/a:foo:b\xc3\xa9", FP_EINVAL, "non-ASCII");
}

static void size_cap(void **state)
{
	(void)state;
	static const char head[] = "cpe:2.3:a:foo:";
	static const char tail[] = ":*:*:*:*:*:*:*:*";
	char s[FP_CPE_MAX + 2];
	/* Exactly FP_CPE_MAX bytes: accepted and formats back identically. */
	size_t fill = FP_CPE_MAX - (sizeof(head) - 1) - (sizeof(tail) - 1);
	memcpy(s, head, sizeof(head) - 1);
	memset(s + sizeof(head) - 1, 'x', fill);
	memcpy(s + sizeof(head) - 1 + fill, tail, sizeof(tail));
	assert_int_equal(strlen(s), FP_CPE_MAX);
	assert_string_equal(reformat(s), s);

	/* One byte more: FP_ETOOBIG. */
	memmove(s + sizeof(head), s + sizeof(head) - 1, strlen(s) - (sizeof(head) - 1) + 1);
	assert_int_equal(strlen(s), FP_CPE_MAX + 1);
	expect_error(s, FP_ETOOBIG, "longer than 1024");

	/* A URI short enough itself but too long as a formatted string. */
	char u[FP_CPE_MAX + 1];
	memcpy(u, "cpe:/a:", 7);
	memset(u + 7, 'y', FP_CPE_MAX - 7);
	u[FP_CPE_MAX] = '\0';
	expect_error(u, FP_ETOOBIG, "written as CPE 2.3");
}

static void format_buffer(void **state)
{
	(void)state;
	struct fp_cpe c;
	const char *s = "cpe:2.3:o:cisco:ios:12.2\\(33\\)sxi:*:*:*:*:*:*:*";
	size_t len = strlen(s);
	char buf[FP_CPE_MAX + 1];
	parse_ok(s, &c);
	assert_int_equal(fp_cpe_format(&c, buf, len + 1), 0);
	assert_string_equal(buf, s);
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(fp_cpe_format(&c, buf, len), FP_ETOOBIG);
	assert_string_equal(buf, "");
	assert_int_equal(fp_cpe_format(&c, buf, 0), FP_ETOOBIG);
	assert_int_equal(buf[0], '\0');
	fp_cpe_free(&c);

	/* A zeroed struct is the all-ANY name. */
	struct fp_cpe zero;
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(fp_cpe_format(&zero, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "cpe:2.3:*:*:*:*:*:*:*:*:*:*:*");
}

static void make_set_copy_key(void **state)
{
	(void)state;
	struct fp_cpe c, d;
	struct fp_err err;
	char buf[FP_CPE_MAX + 1];

	assert_int_equal(
	    fp_cpe_make(&c, 'o', "TP-Link", "Archer_C7_firmware", "1.1.4 Build 20230219", &err), 0);
	assert_int_equal(fp_cpe_format(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "cpe:2.3:o:tp-link:archer_c7_firmware:1.1.4\\ build\\ "
	                         "20230219:*:*:*:*:*:*:*");
	assert_int_equal(fp_cpe_key(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "tp-link:archer_c7_firmware");
	assert_int_equal(fp_cpe_key(&c, buf, 5), FP_ETOOBIG);
	assert_string_equal(buf, "");

	/* Copy is deep and equal. */
	assert_int_equal(fp_cpe_copy(&d, &c), 0);
	assert_true(fp_cpe_equal(&c, &d));
	assert_ptr_not_equal(c.val[FP_CPE_VENDOR], d.val[FP_CPE_VENDOR]);
	assert_int_equal(fp_cpe_set(&d, FP_CPE_UPDATE, "-", &err), 0);
	assert_false(fp_cpe_equal(&c, &d));
	fp_cpe_free(&d);
	fp_cpe_free(&c);

	/* NULL is ANY, "-" NA, '*' and '?' literal. */
	assert_int_equal(fp_cpe_make(&c, 'h', "dlink", "dir-860l", "-", &err), 0);
	assert_int_equal(fp_cpe_format(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "cpe:2.3:h:dlink:dir-860l:-:*:*:*:*:*:*:*");
	fp_cpe_free(&c);
	assert_int_equal(fp_cpe_make(&c, 'a', NULL, "x", "1.*?", &err), 0);
	assert_int_equal(fp_cpe_format(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "cpe:2.3:a:*:x:1.\\*\\?:*:*:*:*:*:*:*");
	assert_int_equal(fp_cpe_key(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "*:x");
	assert_int_equal(fp_cpe_set(&c, FP_CPE_UPDATE, "Build_20190322", &err), 0);
	assert_value(&c, FP_CPE_UPDATE, "build_20190322");
	/* A failed set leaves the attribute as it was. */
	assert_int_equal(fp_cpe_set(&c, FP_CPE_UPDATE, "", &err), FP_EINVAL);
	assert_value(&c, FP_CPE_UPDATE, "build_20190322");
	assert_int_equal(fp_cpe_set(&c, FP_CPE_UPDATE, "a\x01", &err), FP_EINVAL);
	assert_int_equal(fp_cpe_set(&c, FP_CPE_PART, "q", &err), FP_EINVAL);
	assert_value(&c, FP_CPE_PART, "a");
	assert_int_equal(fp_cpe_set(&c, FP_CPE_NATTR, "x", &err), FP_EINVAL);
	fp_cpe_free(&c);

	/* Errors: bad part, empty, control, non-ASCII, too long. */
	assert_int_equal(fp_cpe_make(&c, 'x', "a", "b", "1", &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "use a, o or h"));
	assert_int_equal(fp_cpe_make(&c, 'a', "", "b", "1", &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "vendor"));
	assert_int_equal(fp_cpe_make(&c, 'a', "a", "b\n", "1", &err), FP_EINVAL);
	assert_int_equal(fp_cpe_make(&c, 'a', "a", "b", "caf\xc3\xa9", &err), FP_EINVAL);
	assert_null(c.val[FP_CPE_VENDOR]);
	char big[FP_CPE_MAX];
	memset(big, '(', sizeof(big) - 1); /* every '(' needs a '\' when formatted */
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(fp_cpe_make(&c, 'a', "a", "b", big, &err), FP_ETOOBIG);
	assert_int_equal(fp_cpe_make(&c, 'a', "a", "b", NULL, NULL), 0);
	fp_cpe_free(&c);
	fp_cpe_free(NULL);
}

/* fp_cpe_match of two names in formatted-string form. */
static int m(const char *source, const char *target)
{
	struct fp_cpe s, t;
	parse_ok(source, &s);
	parse_ok(target, &t);
	int r = fp_cpe_match(&s, &t);
	fp_cpe_free(&s);
	fp_cpe_free(&t);
	return r;
}

/* The version attribute alone: "cpe:2.3:a:v:p:<src>:..." against "<tgt>". */
static int mv(const char *src, const char *tgt)
{
	char a[FP_CPE_MAX], b[FP_CPE_MAX];
	snprintf(a, sizeof(a), "cpe:2.3:a:v:p:%s:*:*:*:*:*:*:*", src);
	snprintf(b, sizeof(b), "cpe:2.3:a:v:p:%s:*:*:*:*:*:*:*", tgt);
	return m(a, b);
}

/* The update attribute alone (no version equivalence there). */
static int mu(const char *src, const char *tgt)
{
	char a[FP_CPE_MAX], b[FP_CPE_MAX];
	snprintf(a, sizeof(a), "cpe:2.3:a:v:p:1:%s:*:*:*:*:*:*", src);
	snprintf(b, sizeof(b), "cpe:2.3:a:v:p:1:%s:*:*:*:*:*:*", tgt);
	return m(a, b);
}

static void match_table(void **state)
{
	(void)state;
	/*
	 * NISTIR 7696 Table 6-2: a name matches when every attribute relation
	 * is SUPERSET or EQUAL. Rows: source; columns: target.
	 */
	/* ANY: EQUAL to ANY, SUPERSET of NA and of any value. */
	assert_true(mu("*", "*"));
	assert_true(mu("*", "-"));
	assert_true(mu("*", "sp1"));
	assert_true(mu("*", "1.*")); /* a target with a wildcard too */
	/* NA: SUBSET of ANY, EQUAL to NA, DISJOINT from values. */
	assert_false(mu("-", "*"));
	assert_true(mu("-", "-"));
	assert_false(mu("-", "sp1"));
	/* A value: SUBSET of ANY, DISJOINT from NA, EQUAL or DISJOINT to values. */
	assert_false(mu("sp1", "*"));
	assert_false(mu("sp1", "-"));
	assert_true(mu("sp1", "sp1"));
	assert_true(mu("sp1", "SP1")); /* case-insensitive */
	assert_false(mu("sp1", "sp2"));
	assert_false(mu("sp1", "sp10"));
	/* A value with wildcards: SUPERSET of the values it matches. */
	assert_false(mu("sp*", "*"));
	assert_false(mu("sp*", "-"));
	assert_true(mu("sp*", "sp"));
	assert_true(mu("sp*", "sp12"));
	assert_false(mu("sp*", "xsp"));
	assert_true(mu("*sp", "xsp"));
	assert_true(mu("*p*", "xpx"));
	assert_false(mu("*p*", "xx"));
	/* '?' at an end matches zero or one character per '?'. */
	assert_true(mu("sp?", "sp"));
	assert_true(mu("sp?", "sp1"));
	assert_false(mu("sp?", "sp12"));
	assert_true(mu("??1", "1"));
	assert_true(mu("??1", "321"));
	assert_false(mu("??1", "4321"));
	assert_true(mu("?x?", "axb"));
	assert_false(mu("?x?", "aaxb"));
	assert_true(mu("??", "ab"));
	assert_false(mu("??", "abc"));
	assert_true(mu("*?", "abc"));
	/* Quoted wildcards are literal. */
	assert_false(mu("sp\\*", "sp1"));
	assert_true(mu("sp\\*", "sp\\*"));
	/* A target with wildcards only matches the identical pattern (undefined in the spec). */
	assert_true(mu("sp*", "sp*"));
	assert_false(mu("sp1", "sp*"));
	assert_false(mu("sp?", "sp*"));
	assert_false(mu("sp\\*", "sp*"));

	/* VERSION: equivalent spellings by fp_version_cmp. */
	assert_true(mv("1.2.0", "v1.2.0"));
	assert_true(mv("1.2.0", "1-2-00"));
	assert_true(mv("5.21\\(aazf.14\\)c0", "5.21\\(AAZF.14\\)C0"));
	assert_false(mv("1.2", "1.2.0")); /* not equivalent, as in Debian */
	assert_false(mv("1.2.0", "1.2.1"));
	/* Wildcards in a source version use string matching, not equivalence. */
	assert_true(mv("1.2.*", "1.2.7"));
	assert_false(mv("1.2.*", "v1.2.7"));
	/* Other attributes do not use version equivalence. */
	assert_false(mu("1.2.0", "v1.2.0"));

	/* Whole names: every attribute must hold. */
	assert_true(m("cpe:2.3:o:dlink:dir-860l_firmware:*:*:*:*:*:*:*:*",
	              "cpe:2.3:o:dlink:dir-860l_firmware:a1_fw110b04:*:*:*:*:*:*:*"));
	assert_false(m("cpe:2.3:o:dlink:dir-860l_firmware:*:*:*:*:*:*:*:*",
	               "cpe:2.3:h:dlink:dir-860l_firmware:a1_fw110b04:*:*:*:*:*:*:*"));
	assert_false(m("cpe:2.3:o:dlink:dir-860l_firmware:*:*:*:*:*:*:*:*",
	               "cpe:2.3:o:d-link:dir-860l_firmware:a1_fw110b04:*:*:*:*:*:*:*"));
	/* NVD's hardware criteria has version NA: the device's h: CPE must say "-". */
	assert_true(m("cpe:2.3:h:dlink:dir-860l:-:*:*:*:*:*:*:*",
	              "cpe:2.3:h:dlink:dir-860l:-:*:*:*:*:*:*:*"));
	assert_false(m("cpe:2.3:h:dlink:dir-860l:-:*:*:*:*:*:*:*",
	               "cpe:2.3:h:dlink:dir-860l:*:*:*:*:*:*:*:*"));
	assert_true(m("cpe:2.3:h:dlink:dir-825\\/ac:e:*:*:*:*:*:*:*",
	              "cpe:2.3:h:dlink:dir-825\\/ac:e:*:*:*:*:*:*:*"));
	assert_false(m("cpe:2.3:h:dlink:dir-825\\/ac:e:*:*:*:*:*:*:*",
	               "cpe:2.3:h:dlink:dir-825\\/acf:e:*:*:*:*:*:*:*"));
	assert_true(m("cpe:2.3:*:*:*:*:*:*:*:*:*:*:*", "cpe:2.3:-:-:-:-:-:-:-:-:-:-:-"));
	assert_false(m("cpe:2.3:-:-:-:-:-:-:-:-:-:-:-", "cpe:2.3:*:*:*:*:*:*:*:*:*:*:*"));
	/* The same name given as a URI. */
	assert_true(m("cpe:/o:cisco:ios:12.2%2833%29sxi",
	              "cpe:2.3:o:cisco:ios:12.2\\(33\\)sxi:*:*:*:*:*:*:*"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nvd_escapes),       cmocka_unit_test(uri_binding),
	    cmocka_unit_test(round_trips),       cmocka_unit_test(malformed),
	    cmocka_unit_test(size_cap),          cmocka_unit_test(format_buffer),
	    cmocka_unit_test(make_set_copy_key), cmocka_unit_test(match_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
