/*
 * csv.c — RFC 4180 CSV reader (see csv.h).
 *
 * The reader copies the unquoted bytes of one record into a growing buffer
 * and NUL-terminates each field, so callers get plain C strings. Every loop
 * advances over the input once; caps bound the buffer and the field count.
 */
#include "fleetpatch/csv.h"

#include <stdlib.h>
#include <string.h>

void fp_csv_init(struct fp_csv *c, const char *data, size_t len)
{
	memset(c, 0, sizeof(*c));
	c->data = data;
	c->len = len;
	c->line = 1;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		c->pos = c->line_start = 3;
}

void fp_csv_free(struct fp_csv *c)
{
	free(c->buf);
	c->buf = NULL;
	c->buf_len = c->buf_cap = 0;
	c->n_fields = 0;
}

static int put(struct fp_csv *c, char ch)
{
	if (c->buf_len == c->buf_cap) {
		size_t cap = c->buf_cap ? c->buf_cap * 2 : 256;
		char *b = realloc(c->buf, cap);
		if (!b)
			return FP_ENOMEM;
		c->buf = b;
		c->buf_cap = cap;
	}
	c->buf[c->buf_len++] = ch;
	return 0;
}

/* Returns the length of the line break at pos (0 when there is none). */
static size_t eol_len(const struct fp_csv *c, size_t pos)
{
	if (pos >= c->len)
		return 0;
	if (c->data[pos] == '\n')
		return 1;
	if (c->data[pos] == '\r')
		return (pos + 1 < c->len && c->data[pos + 1] == '\n') ? 2 : 1;
	return 0;
}

static void new_line(struct fp_csv *c, size_t n)
{
	c->pos += n;
	c->line++;
	c->line_start = c->pos;
}

static size_t column(const struct fp_csv *c)
{
	return c->pos - c->line_start + 1;
}

static int line_too_long(struct fp_csv *c, struct fp_err *err)
{
	return fp_err_set(err, FP_ETOOBIG, "line %zu: longer than %d bytes", c->line,
	                  FP_CSV_LINE_MAX);
}

static int read_quoted(struct fp_csv *c, struct fp_err *err)
{
	size_t qline = c->line, qcol = column(c);
	c->pos++; /* the opening quote */
	for (;;) {
		if (c->pos >= c->len)
			return fp_err_set(err, FP_EINVAL,
			                  "line %zu, column %zu: quoted field is never closed "
			                  "(a \" inside a quoted field must be doubled as \"\")",
			                  qline, qcol);
		if (c->pos - c->line_start >= FP_CSV_LINE_MAX)
			return line_too_long(c, err);
		char ch = c->data[c->pos];
		size_t n = eol_len(c, c->pos);
		if (ch == '"') {
			if (c->pos + 1 < c->len && c->data[c->pos + 1] == '"') {
				if (put(c, '"'))
					return FP_ENOMEM;
				c->pos += 2;
				continue;
			}
			c->pos++;
			break;
		}
		if (n) {
			for (size_t i = 0; i < n; i++)
				if (put(c, c->data[c->pos + i]))
					return FP_ENOMEM;
			new_line(c, n);
			continue;
		}
		if (put(c, ch))
			return FP_ENOMEM;
		c->pos++;
	}
	if (c->pos < c->len && c->data[c->pos] != ',' && !eol_len(c, c->pos))
		return fp_err_set(err, FP_EINVAL,
		                  "line %zu, column %zu: unexpected text after a closing quote "
		                  "(quote the whole field)",
		                  c->line, column(c));
	return 0;
}

static int read_plain(struct fp_csv *c, struct fp_err *err)
{
	while (c->pos < c->len && c->data[c->pos] != ',' && !eol_len(c, c->pos)) {
		if (c->pos - c->line_start >= FP_CSV_LINE_MAX)
			return line_too_long(c, err);
		/* A quote inside an unquoted field is kept literally, as most tools do. */
		if (put(c, c->data[c->pos]))
			return FP_ENOMEM;
		c->pos++;
	}
	return 0;
}

int fp_csv_next(struct fp_csv *c, struct fp_err *err)
{
	size_t n;
	c->n_fields = 0;
	c->buf_len = 0;
	while ((n = eol_len(c, c->pos)) != 0)
		new_line(c, n);
	if (c->pos >= c->len)
		return 0;
	c->rec_line = c->line;
	for (;;) {
		if (c->n_fields == FP_CSV_COLUMNS_MAX)
			return fp_err_set(err, FP_ETOOBIG, "line %zu: more than %d fields",
			                  c->rec_line, FP_CSV_COLUMNS_MAX);
		size_t start = c->buf_len;
		c->off[c->n_fields++] = start;
		int rc = (c->pos < c->len && c->data[c->pos] == '"') ? read_quoted(c, err)
		                                                     : read_plain(c, err);
		if (rc)
			return rc == FP_ENOMEM ? fp_err_set(err, rc, "out of memory") : rc;
		if (c->buf_len - start > FP_CSV_FIELD_MAX)
			return fp_err_set(err, FP_ETOOBIG,
			                  "line %zu: field %zu is longer than %d bytes", c->line,
			                  c->n_fields, FP_CSV_FIELD_MAX);
		if (put(c, '\0'))
			return fp_err_set(err, FP_ENOMEM, "out of memory");
		if (c->pos < c->len && c->data[c->pos] == ',') {
			c->pos++;
			continue;
		}
		if ((n = eol_len(c, c->pos)) != 0)
			new_line(c, n);
		break;
	}
	for (size_t i = 0; i < c->n_fields; i++)
		c->field[i] = c->buf + c->off[i];
	return 1;
}
