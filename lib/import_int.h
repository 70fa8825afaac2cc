/*
 * import_int.h — internals shared by the import parsers (lib/import_*.c).
 *
 * Each format's parser walks its file and hands every record to
 * fp__import_add (which completes the identity and MAC vendor, then keeps the
 * row or rejects it) or fp__import_reject. Both count records against
 * FP_IMPORT_ROWS_MAX. A parser returns 0, or a negative code with err set for
 * a file-level problem; fp_import_parse then discards everything.
 */
#ifndef FLEETPATCH_IMPORT_INT_H
#define FLEETPATCH_IMPORT_INT_H

#include "fleetpatch/import.h"

struct fp__import_ctx {
	struct fp_import_result *out;
	const struct fp_oui *oui;
	size_t n_records;   /* rows and rejects so far */
	size_t rows_cap;    /* allocated entries of out->rows */
	size_t rejects_cap; /* allocated entries of out->rejects */
};

/*
 * Completes rec and appends it to the result, or rejects it (no identity, an
 * identity too long). Takes ownership of rec in every case and leaves it
 * zeroed. Returns 0 or a negative file-level code.
 */
int fp__import_add(struct fp__import_ctx *c, size_t line, struct fp_device_rec *rec,
                   struct fp_err *err) FP_WUR;

/* Records a rejected row with a printf-style reason. Returns 0 or a negative file-level code. */
int fp__import_reject(struct fp__import_ctx *c, size_t line, struct fp_err *err, const char *fmt,
                      ...) FP_WUR __attribute__((format(printf, 4, 5)));

/*
 * Checks that a text file is UTF-8 without NUL bytes and with lines of at
 * most FP_IMPORT_LINE_MAX bytes; the error names the line and column.
 */
int fp__import_text_check(const char *data, size_t len, struct fp_err *err) FP_WUR;

/* Trims spaces and tabs at both ends, in place; returns the new start. */
char *fp__import_trim(char *s);

int fp__import_csv(struct fp__import_ctx *c, const char *data, size_t len,
                   struct fp_err *err) FP_WUR;
int fp__import_mdm(struct fp__import_ctx *c, const char *data, size_t len,
                   struct fp_err *err) FP_WUR;
int fp__import_json(struct fp__import_ctx *c, const char *data, size_t len,
                    struct fp_err *err) FP_WUR;
int fp__import_nmap(struct fp__import_ctx *c, const char *data, size_t len,
                    struct fp_err *err) FP_WUR;
int fp__import_dnsmasq(struct fp__import_ctx *c, const char *data, size_t len,
                       struct fp_err *err) FP_WUR;
int fp__import_dhcpd(struct fp__import_ctx *c, const char *data, size_t len,
                     struct fp_err *err) FP_WUR;

#endif
