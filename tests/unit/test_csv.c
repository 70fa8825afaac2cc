/*
 * test_csv.c — unit tests of lib/csv.c: RFC 4180 quoting, line endings,
 * line numbers, and every cap one byte past its limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/csv.h"

/* Reads all records of s; returns the last fp_csv_next code and leaves the reader open. */
static int read_all(struct fp_csv *c, const char *s, size_t len, size_t *n_records,
                    struct fp_err *err)
{
	int rc;
	*n_records = 0;
	fp_csv_init(c, s, len);
	while ((rc = fp_csv_next(c, err)) == 1)
		(*n_records)++;
	return rc;
}

static void plain_and_quoted_fields(void **state)
{
	(void)state;
	const char *s = "a,b,c\n1,\"x,y\",\"say \"\"hi\"\"\"\n,\"\",\n";
	struct fp_csv c;
	fp_csv_init(&c, s, strlen(s));
	assert_int_equal(fp_csv_next(&c, NULL), 1);
	assert_int_equal(c.n_fields, 3);
	assert_string_equal(c.field[2], "c");
	assert_int_equal(fp_csv_next(&c, NULL), 1);
	assert_int_equal(c.rec_line, 2);
	assert_string_equal(c.field[1], "x,y");
	assert_string_equal(c.field[2], "say \"hi\"");
	assert_int_equal(fp_csv_next(&c, NULL), 1);
	assert_int_equal(c.n_fields, 3);
	assert_string_equal(c.field[0], "");
	assert_string_equal(c.field[1], "");
	assert_string_equal(c.field[2], "");
	assert_int_equal(fp_csv_next(&c, NULL), 0);
	assert_int_equal(fp_csv_next(&c, NULL), 0); /* stays at the end */
	fp_csv_free(&c);
}

static void crlf_bom_blank_lines_and_embedded_newlines(void **state)
{
	(void)state;
	const char *s = "\xef\xbb\xbfname,note\r\n\r\nx,\"two\r\nlines\"\r\n\ny,last";
	struct fp_csv c;
	fp_csv_init(&c, s, strlen(s));
	assert_int_equal(fp_csv_next(&c, NULL), 1);
	assert_string_equal(c.field[0], "name"); /* BOM skipped */
	assert_string_equal(c.field[1], "note");
	assert_int_equal(fp_csv_next(&c, NULL), 1);
	assert_int_equal(c.rec_line, 3);
	assert_string_equal(c.field[1], "two\r\nlines");
	assert_int_equal(fp_csv_next(&c, NULL), 1);
	assert_int_equal(c.rec_line, 6); /* lines counted inside the quotes */
	assert_string_equal(c.field[1], "last");
	assert_int_equal(fp_csv_next(&c, NULL), 0);
	fp_csv_free(&c);
}

static void lone_cr_and_literal_quote(void **state)
{
	(void)state;
	const char *s = "a\rb\"c,d\r";
	struct fp_csv c;
	fp_csv_init(&c, s, strlen(s));
	assert_int_equal(fp_csv_next(&c, NULL), 1);
	assert_string_equal(c.field[0], "a");
	assert_int_equal(fp_csv_next(&c, NULL), 1);
	assert_int_equal(c.rec_line, 2);
	assert_string_equal(c.field[0], "b\"c");
	assert_int_equal(fp_csv_next(&c, NULL), 0);
	fp_csv_free(&c);
}

static void unterminated_quote_names_its_line(void **state)
{
	(void)state;
	const char *s = "a,b\n1,2\n3,\"open\n4,5\n";
	struct fp_csv c;
	struct fp_err err;
	size_t n;
	assert_int_equal(read_all(&c, s, strlen(s), &n, &err), FP_EINVAL);
	assert_int_equal(n, 2);
	assert_non_null(strstr(err.msg, "line 3, column 3: quoted field is never closed"));
	fp_csv_free(&c);
}

static void text_after_closing_quote(void **state)
{
	(void)state;
	const char *s = "a\n\"x\"y\n";
	struct fp_csv c;
	struct fp_err err;
	size_t n;
	assert_int_equal(read_all(&c, s, strlen(s), &n, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "line 2, column 4: unexpected text after a closing quote"));
	fp_csv_free(&c);
}

static void column_cap(void **state)
{
	(void)state;
	char s[FP_CSV_COLUMNS_MAX * 2 + 4];
	struct fp_csv c;
	struct fp_err err;
	size_t n;
	/* 256 fields: "x,x,...,x" */
	size_t o = 0;
	for (int i = 0; i < FP_CSV_COLUMNS_MAX; i++) {
		s[o++] = 'x';
		s[o++] = ',';
	}
	s[o - 1] = '\n';
	assert_int_equal(read_all(&c, s, o, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(c.n_fields, 0);
	fp_csv_free(&c);
	s[o - 1] = ','; /* one more, empty, field */
	assert_int_equal(read_all(&c, s, o, &n, &err), FP_ETOOBIG);
	assert_non_null(strstr(err.msg, "line 1: more than 256 fields"));
	fp_csv_free(&c);
}

static void line_and_field_caps(void **state)
{
	(void)state;
	struct fp_csv c;
	struct fp_err err;
	size_t n;
	/* A line of exactly FP_CSV_LINE_MAX bytes passes; one more fails. */
	char *s = malloc(FP_CSV_LINE_MAX + 2);
	assert_non_null(s);
	memset(s, 'a', FP_CSV_LINE_MAX + 1);
	assert_int_equal(read_all(&c, s, FP_CSV_LINE_MAX, &n, &err), 0);
	assert_int_equal(n, 1);
	fp_csv_free(&c);
	assert_int_equal(read_all(&c, s, FP_CSV_LINE_MAX + 1, &n, &err), FP_ETOOBIG);
	assert_non_null(strstr(err.msg, "line 1: longer than 65536 bytes"));
	fp_csv_free(&c);
	free(s);

	/* A quoted field over several short lines: 65536 bytes pass, 65537 fail. */
	size_t body = FP_CSV_FIELD_MAX + 1;
	s = malloc(body + 3);
	assert_non_null(s);
	s[0] = '"';
	for (size_t i = 0; i < body; i++)
		s[1 + i] = (i % 100 == 99) ? '\n' : 'b';
	s[body + 1] = '"';
	assert_int_equal(read_all(&c, s, body + 2, &n, &err), FP_ETOOBIG);
	assert_non_null(strstr(err.msg, "field 1 is longer than 65536 bytes"));
	fp_csv_free(&c);
	s[body] = '"';
	assert_int_equal(read_all(&c, s, body + 1, &n, &err), 0);
	assert_int_equal(n, 1);
	fp_csv_free(&c);
	free(s);
}

static void empty_input(void **state)
{
	(void)state;
	struct fp_csv c;
	fp_csv_init(&c, "", 0);
	assert_int_equal(fp_csv_next(&c, NULL), 0);
	fp_csv_free(&c);
	fp_csv_init(&c, "\xef\xbb\xbf\r\n\n", 5);
	assert_int_equal(fp_csv_next(&c, NULL), 0);
	fp_csv_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(plain_and_quoted_fields),
	    cmocka_unit_test(crlf_bom_blank_lines_and_embedded_newlines),
	    cmocka_unit_test(lone_cr_and_literal_quote),
	    cmocka_unit_test(unterminated_quote_names_its_line),
	    cmocka_unit_test(text_after_closing_quote),
	    cmocka_unit_test(column_cap),
	    cmocka_unit_test(line_and_field_caps),
	    cmocka_unit_test(empty_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
