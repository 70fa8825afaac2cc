/*
 * audit_log.c — the server's side of the audit hash chain: appending an
 * entry in the same transaction as the change it records, and reading
 * entries back in the export format of lib/audit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_log.h"
#include "fleetpatch/audit.h"
#include "server.h"

void fp_actor_name(const struct fp_principal *who, char out[160])
{
	if (who->kind == FP_AUTH_USER)
		snprintf(out, 160, "user:%s", who->name);
	else if (who->kind == FP_AUTH_DEVICE)
		snprintf(out, 160, "device:%" PRId64, who->id);
	else
		snprintf(out, 160, "system");
}

int fp_audit_append(fp_db *db, const struct fp_principal *who, const char *action,
                    const char *object, const json_t *before, const json_t *after,
                    struct fp_err *err)
{
	/* The caller's transaction holds the write lock, so seq cannot race. */
	fp_stmt *st = NULL;
	json_t *e = NULL;
	char *bj = NULL, *aj = NULL;
	int rc = fp_db_prepare(db, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", &st,
	                       err);
	if (rc)
		return rc;
	int64_t seq = 1;
	char prev[FP_SHA256_HEX_LEN + 1] = FP_AUDIT_GENESIS;
	rc = fp_stmt_step(st, err);
	if (rc < 0)
		goto out;
	if (rc == FP_DB_ROW) {
		seq = fp_stmt_col_int(st, 0) + 1;
		snprintf(prev, sizeof(prev), "%s", fp_stmt_col_text(st, 1));
	}
	char ts[32], actor[160];
	fp_time_rfc3339_ms(fp_now_us(), ts);
	fp_actor_name(who, actor);
	if ((rc = fp_audit_make(seq, ts, actor, action, object ? object : "", before, after, prev,
	                        &e, err)))
		goto out;
	bj = before ? json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	aj = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	if ((before && !bj) || (after && !aj)) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	rc = fp_db_run(db, err, NULL,
	               "INSERT INTO audit_log (seq, ts, actor, action, object, before_json, "
	               "after_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	               "issssssss", seq, ts, actor, action, object ? object : "", bj, aj, prev,
	               json_string_value(json_object_get(e, "hash")));
out:
	free(bj);
	free(aj);
	json_decref(e);
	fp_stmt_finalize(st);
	return rc;
}

static json_t *load_json_col(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
	/* A value that no longer parses is itself evidence of tampering: keep
	 * the text, so the hash check fails on it and names the entry. */
	return j ? j : json_string(s);
}

int fp_audit_row_stmt(fp_db *db, int64_t after_seq, int64_t limit, fp_stmt **out,
                      struct fp_err *err)
{
	int rc = fp_db_prepare(db,
	                       "SELECT seq, ts, actor, action, object, before_json, after_json, "
	                       "prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?",
	                       out, err);
	if (rc)
		return rc;
	fp_stmt_int(*out, 1, after_seq);
	fp_stmt_int(*out, 2, limit);
	return 0;
}

json_t *fp_audit_row_json(fp_stmt *st)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s}", "seq",
	                 (json_int_t)fp_stmt_col_int(st, 0), "ts", fp_stmt_col_text(st, 1), "actor",
	                 fp_stmt_col_text(st, 2), "action", fp_stmt_col_text(st, 3), "object",
	                 fp_stmt_col_text(st, 4), "before", load_json_col(fp_stmt_col_text(st, 5)),
	                 "after", load_json_col(fp_stmt_col_text(st, 6)), "prev_hash",
	                 fp_stmt_col_text(st, 7), "hash", fp_stmt_col_text(st, 8));
}
