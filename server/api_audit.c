/*
 * api_audit.c — reading, exporting and verifying the audit hash chain.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "audit_log.h"
#include "fleetpatch/audit.h"

#define AUDIT_PAGE_MAX   1000
#define AUDIT_EXPORT_MAX 50000

static int seq_param(struct fp_req *r, const char *name, int64_t def, int64_t min, int64_t max,
                     int64_t *out)
{
	const char *v = fp_req_query(r, name);
	*out = def;
	if (!v)
		return 0;
	int64_t x = 0;
	size_t n = strlen(v);
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9' || n > 15) {
			fp_reply_error(r, 400, "invalid",
			               "%s must be an integer from %" PRId64 " to %" PRId64, name,
			               min, max);
			return -1;
		}
		x = x * 10 + (v[i] - '0');
	}
	if (n == 0 || x < min || x > max) {
		fp_reply_error(r, 400, "invalid",
		               "%s must be an integer from %" PRId64 " to %" PRId64, name, min,
		               max);
		return -1;
	}
	*out = x;
	return 0;
}

void fp_api_audit_list(struct fp_req *r)
{
	static const char *const q[] = {"after", "limit", NULL};
	int64_t after, limit;
	if (fp_req_only_query(r, q) || seq_param(r, "after", 0, 0, INT64_MAX / 2, &after) ||
	    seq_param(r, "limit", 100, 1, AUDIT_PAGE_MAX, &limit))
		return;
	struct fp_err err = {0};
	fp_stmt *st = NULL;
	if (fp_audit_row_stmt(r->db, after, limit, &st, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	json_t *arr = json_array();
	int64_t last = after;
	while (fp_stmt_step(st, NULL) == FP_DB_ROW) {
		last = fp_stmt_col_int(st, 0);
		json_array_append_new(arr, fp_audit_row_json(st));
	}
	fp_stmt_finalize(st);
	json_t *o = json_pack("{s:o}", "items", arr);
	json_object_set_new(o, "next_after",
	                    (int64_t)json_array_size(arr) == limit ? json_integer(last)
	                                                           : json_null());
	fp_reply(r, 200, o);
}

void fp_api_audit_export(struct fp_req *r)
{
	static const char *const q[] = {"after", "limit", NULL};
	int64_t after, limit;
	if (fp_req_only_query(r, q) || seq_param(r, "after", 0, 0, INT64_MAX / 2, &after) ||
	    seq_param(r, "limit", AUDIT_EXPORT_MAX, 1, AUDIT_EXPORT_MAX, &limit))
		return;
	struct fp_err err = {0};
	fp_stmt *st = NULL;
	if (fp_audit_row_stmt(r->db, after, limit, &st, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int64_t n = 0, last = after;
	while (fp_stmt_step(st, NULL) == FP_DB_ROW) {
		json_t *e = fp_audit_row_json(st);
		char *line = e ? json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(e);
		size_t ll = line ? strlen(line) : 0;
		if (!line || len + ll + 2 > cap) {
			size_t ncap = (cap ? cap * 2 : 65536) + ll + 2;
			char *nb = line ? realloc(buf, ncap) : NULL;
			if (!nb) {
				free(line);
				free(buf);
				fp_stmt_finalize(st);
				fp_reply_error(r, 500, "out_of_memory", "out of memory");
				return;
			}
			buf = nb;
			cap = ncap;
		}
		memcpy(buf + len, line, ll);
		len += ll;
		buf[len++] = '\n';
		free(line);
		n++;
		last = fp_stmt_col_int(st, 0);
	}
	fp_stmt_finalize(st);
	if (n == limit)
		snprintf(r->extra_header, sizeof(r->extra_header), "X-FP-Next-After: %" PRId64,
		         last);
	fp_reply_raw(r, 200, "application/x-ndjson", buf ? buf : strdup(""), len);
}

void fp_api_audit_verify(struct fp_req *r)
{
	struct fp_audit_verifier v;
	fp_audit_verifier_init(&v);
	struct fp_err err = {0};
	int64_t after = 0;
	char head[FP_SHA256_HEX_LEN + 1] = "";
	int64_t head_seq = 0;
	for (;;) {
		fp_stmt *st = NULL;
		if (fp_audit_row_stmt(r->db, after, 10000, &st, &err)) {
			fp_reply_err(r, &err);
			return;
		}
		int64_t rows = 0;
		while (fp_stmt_step(st, NULL) == FP_DB_ROW) {
			rows++;
			after = fp_stmt_col_int(st, 0);
			json_t *e = fp_audit_row_json(st);
			(void)fp_audit_verifier_feed(&v, e);
			json_decref(e);
			head_seq = after;
			snprintf(head, sizeof(head), "%s", fp_stmt_col_text(st, 8));
		}
		fp_stmt_finalize(st);
		if (rows < 10000 || v.first_bad_seq >= 0)
			break;
	}
	json_t *o =
	    json_pack("{s:b,s:I}", "ok", v.first_bad_seq < 0, "entries", (json_int_t)v.count);
	json_object_set_new(o, "head",
	                    head_seq
	                        ? json_pack("{s:I,s:s}", "seq", (json_int_t)head_seq, "hash", head)
	                        : json_null());
	json_object_set_new(
	    o, "first_bad",
	    v.first_bad_seq >= 0
	        ? json_pack("{s:I,s:s}", "seq", (json_int_t)v.first_bad_seq, "reason", v.reason)
	        : json_null());
	fp_reply(r, 200, o);
}
