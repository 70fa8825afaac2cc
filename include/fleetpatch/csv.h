/*
 * csv.h — an RFC 4180 CSV reader over a buffer held in memory.
 *
 * Fields are separated by commas; a field may be quoted with double quotes,
 * in which case it may contain commas, line breaks and doubled quotes ("").
 * Records end with LF, CRLF or a lone CR. A UTF-8 byte-order mark at the
 * start is skipped, and blank lines are skipped (they are not records with
 * one empty field). Every size is capped: see the FP_CSV_*_MAX constants.
 *
 * Usage:
 *     struct fp_csv c;
 *     fp_csv_init(&c, data, len);
 *     while ((rc = fp_csv_next(&c, err)) == 1)
 *             use c.n_fields, c.field[i], c.rec_line;
 *     fp_csv_free(&c);
 * rc is 0 at the end of input and negative (with err set) on a malformed
 * file: an unterminated quote, text after a closing quote, or a cap exceeded.
 */
#ifndef FLEETPATCH_CSV_H
#define FLEETPATCH_CSV_H

#include <stddef.h>

#include "fleetpatch/err.h"

#define FP_CSV_COLUMNS_MAX 256         /* fields in one record */
#define FP_CSV_FIELD_MAX   (64 * 1024) /* bytes in one field after unquoting */
#define FP_CSV_LINE_MAX    (64 * 1024) /* bytes in one physical line */

struct fp_csv {
	/* The current record, valid until the next fp_csv_next or fp_csv_free. */
	size_t rec_line;                 /* 1-based line on which the record starts */
	size_t n_fields;                 /* at least 1 */
	char *field[FP_CSV_COLUMNS_MAX]; /* NUL-terminated; the caller may edit in place */

	/* Reader state; private. */
	const char *data;
	size_t len, pos, line, line_start;
	char *buf;
	size_t buf_len, buf_cap;
	size_t off[FP_CSV_COLUMNS_MAX];
};

/* Starts reading data (borrowed; it must outlive the reader). */
void fp_csv_init(struct fp_csv *c, const char *data, size_t len);

/* Reads the next record: returns 1 when one was read, 0 at the end, or a negative code. */
int fp_csv_next(struct fp_csv *c, struct fp_err *err) FP_WUR;

/* Releases the reader's buffers (the data stays with the caller). */
void fp_csv_free(struct fp_csv *c);

#endif
