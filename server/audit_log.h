/*
 * audit_log.h — reading the stored audit log back as lib/audit entries.
 */
#ifndef FP_SERVER_AUDIT_LOG_H
#define FP_SERVER_AUDIT_LOG_H

#include <jansson.h>

#include "db.h"

/* Prepares a statement over entries with seq > after_seq, in order, at most limit. */
int fp_audit_row_stmt(fp_db *db, int64_t after_seq, int64_t limit, fp_stmt **out,
                      struct fp_err *err) FP_WUR;
/* The entry of the current row, in the export format (caller owns). */
json_t *fp_audit_row_json(fp_stmt *st);

#endif
