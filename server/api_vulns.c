/*
 * api_vulns.c — vulnerability intelligence over the API: feed imports (NVD,
 * KEV, EPSS) as jobs, assessments, findings with their risk and its reasons,
 * CVE details, the model → CPE mapping, and VEX statements.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api.h"
#include "fleetpatch/cpe.h"
#include "fleetpatch/device.h"
#include "fleetpatch/feeds.h"
#include "fleetpatch/nvd.h"
#include "fleetpatch/nvd_match.h"
#include "fleetpatch/risk.h"
#include "fleetpatch/sbom.h"
#include "jobs.h"
#include "log.h"
#include "nvd_import.h"
#include "store_devices.h"
#include "vuln.h"

#define DIRTY_ALL     20000    /* beyond this many changed keys, re-match everything */
#define NVD_CACHE_KIB "131072" /* SQLite page cache of an NVD import (128 MiB) */

/* ---- feed jobs ---- */

struct feed_arg {
	char *data;
	size_t len;
};

static void feed_arg_free(void *p)
{
	struct feed_arg *a = p;
	if (a) {
		free(a->data);
		free(a);
	}
}

json_t *fp_assess_report_json(const struct fp_assess_report *a)
{
	return json_pack(
	    "{s:I,s:I,s:I,s:I,s:I,s:I}", "configurations", (json_int_t)a->configs_total,
	    "configurations_matched", (json_int_t)a->configs_matched, "devices_updated",
	    (json_int_t)a->devices_updated, "findings", (json_int_t)a->findings, "candidates",
	    (json_int_t)a->candidates, "elapsed_ms", (json_int_t)a->elapsed_ms);
}

static int nvd_run(struct fp_job *job, fp_db *db, json_t **report, struct fp_err *err)
{
	struct feed_arg *a = job->arg;
	struct fp_nvd_import imp = {0};
	struct fp_assess_report ar = {0};
	int64_t before = 0;
	atomic_store(&job->total, (long)a->len);
	int rc = fp_db_run(db, err, &before, "SELECT COUNT(*) FROM cves", NULL);
	/* SQLite's default page cache (2 MB) is far smaller than what one feed
	 * writes: pages would go to the WAL in the middle of the transaction,
	 * many of them several times over. The import's connection gets a larger
	 * cache for the import only. */
	int sqlite = strcmp(db->ops->name, "sqlite") == 0;
	if (rc == 0 && sqlite)
		rc = fp_db_exec(db, "PRAGMA cache_size = -" NVD_CACHE_KIB, err);
	if (rc == 0)
		rc = fp_db_begin(db, err);
	/* A first import re-matches everything: it needs no list of changed keys. */
	if (rc == 0)
		rc =
		    fp_nvd_import(db, job, a->data, a->len, before == 0 ? 0 : DIRTY_ALL, &imp, err);
	if (rc == 0)
		rc = fp_db_commit(db, err);
	fp_db_rollback(db);
	/* Back to the default size, which frees the pages above it. */
	if (sqlite && fp_db_exec(db, "PRAGMA cache_size = -2000", NULL))
		fp_log(FP_LOG_WARN, "cannot restore the page cache size", "job=%" PRId64, job->id);
	/* Then re-match what the changed records name (everything on a first import). */
	if (rc == 0 && (imp.created || imp.updated)) {
		int all = before == 0 || imp.too_many_dirty;
		rc = fp_db_begin(db, err);
		if (rc == 0)
			rc = fp_assess(db, all ? NULL : imp.dirty, imp.n_dirty, imp.changed,
			               imp.n_changed, NULL, &ar, NULL, NULL, err);
		if (rc == 0)
			rc = fp_db_commit(db, err);
		fp_db_rollback(db);
	}
	if (rc == 0)
		*report = json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}", "rows", (json_int_t)imp.records,
		                    "created", (json_int_t)imp.created, "updated",
		                    (json_int_t)imp.updated, "unchanged", (json_int_t)imp.unchanged,
		                    "unassessed", (json_int_t)imp.unassessed, "assessment",
		                    fp_assess_report_json(&ar));
	fp_nvd_import_free(&imp);
	return rc;
}

static int kev_run(struct fp_job *job, fp_db *db, json_t **report, struct fp_err *err)
{
	struct feed_arg *a = job->arg;
	struct fp_kev k = {0};
	int64_t ransomware = 0;
	int rc = fp_kev_parse(a->data, a->len, &k, err);
	if (rc)
		return rc;
	atomic_store(&job->total, (long)k.n);
	/* The catalogue replaces the previous one whole. */
	rc = fp_db_begin(db, err);
	if (rc == 0)
		rc = fp_db_run(db, err, NULL, "DELETE FROM kev", NULL);
	for (size_t i = 0; rc == 0 && i < k.n; i++) {
		const struct fp_kev_entry *e = &k.e[i];
		ransomware += e->ransomware != 0;
		rc = fp_db_run(
		    db, err, NULL,
		    "INSERT INTO kev (cve_id, date_added, due_date, ransomware, name) VALUES "
		    "(?, ?, ?, ?, ?) ON CONFLICT (cve_id) DO NOTHING",
		    "sssis", e->cve, e->date_added, e->due, (int64_t)(e->ransomware != 0), e->name);
		atomic_store(&job->done, (long)i + 1);
	}
	if (rc == 0)
		rc = fp_db_commit(db, err);
	fp_db_rollback(db);
	if (rc == 0)
		*report = json_pack("{s:I,s:s,s:I}", "rows", (json_int_t)k.n, "catalog_version",
		                    k.version, "ransomware", (json_int_t)ransomware);
	fp_kev_free(&k);
	return rc;
}

struct epss_ctx {
	fp_db *db;
	struct fp_job *job;
	struct fp_err *err;
	int64_t rows;
};

static int on_epss(void *vctx, const char *cve, double epss, double percentile)
{
	struct epss_ctx *c = vctx;
	c->rows++;
	atomic_store(&c->job->done, (long)c->rows);
	return fp_db_run(
	    c->db, c->err, NULL,
	    "INSERT INTO epss (cve_id, score_micro, percentile_micro) VALUES (?, ?, ?) "
	    "ON CONFLICT (cve_id) DO UPDATE SET score_micro = excluded.score_micro, "
	    "percentile_micro = excluded.percentile_micro",
	    "sii", cve, (int64_t)llround(epss * 1e6), (int64_t)llround(percentile * 1e6));
}

static int epss_run(struct fp_job *job, fp_db *db, json_t **report, struct fp_err *err)
{
	struct feed_arg *a = job->arg;
	struct epss_ctx c = {db, job, err, 0};
	char model[64] = "", date[32] = "";
	int rc = fp_db_begin(db, err);
	if (rc == 0)
		rc = fp_db_run(db, err, NULL, "DELETE FROM epss", NULL);
	if (rc == 0)
		rc = fp_epss_parse(a->data, a->len, on_epss, &c, model, date, err);
	if (rc == 0)
		rc = fp_db_commit(db, err);
	fp_db_rollback(db);
	if (rc == 0)
		*report = json_pack("{s:I,s:s?,s:s?}", "rows", (json_int_t)c.rows, "model_version",
		                    model[0] ? model : NULL, "score_date", date[0] ? date : NULL);
	return rc;
}

static int assess_run(struct fp_job *job, fp_db *db, json_t **report, struct fp_err *err)
{
	(void)job;
	struct fp_assess_report ar = {0};
	int rc = fp_db_begin(db, err);
	if (rc == 0)
		rc = fp_assess(db, NULL, 0, NULL, 0, NULL, &ar, &job->done, &job->total, err);
	if (rc == 0)
		rc = fp_db_commit(db, err);
	fp_db_rollback(db);
	if (rc == 0)
		*report = fp_assess_report_json(&ar);
	return rc;
}

static const char *const feed_kinds[] = {"nvd", "kev", "epss"};
static int (*const feed_runs[])(struct fp_job *, fp_db *, json_t **,
                                struct fp_err *) = {nvd_run, kev_run, epss_run};

int fp_feed_job_start(struct fp_server *s, fp_db *db, const char *kind,
                      const struct fp_principal *who, char *data, size_t len, int64_t *id,
                      struct fp_err *err)
{
	int k = -1;
	for (int i = 0; i < 3; i++)
		if (strcmp(kind, feed_kinds[i]) == 0)
			k = i;
	if (k < 0) {
		free(data);
		return fp_err_set(err, FP_ENOTFOUND, "no feed '%.32s'; feeds are nvd, kev, epss",
		                  kind);
	}
	struct fp_job *job = calloc(1, sizeof(*job));
	struct feed_arg *a = calloc(1, sizeof(*a));
	if (!job || !a) {
		free(job);
		free(a);
		free(data);
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	a->data = data;
	a->len = len;
	job->who = *who;
	job->arg = a;
	job->free_arg = feed_arg_free;
	job->run = feed_runs[k];
	atomic_store(&job->total, -1);
	return fp_job_start(s, db, feed_kinds[k], job, id, err);
}

void fp_api_feed_import(struct fp_req *r)
{
	if (!r->body_len) {
		fp_reply_error(r, 400, "invalid", "the request body must hold the feed file");
		return;
	}
	/* The job takes the uploaded bytes; the request no longer needs them. */
	char *data = r->body;
	size_t len = r->body_len;
	r->body = NULL;
	r->body_len = 0;
	struct fp_err err = {0};
	int64_t id = 0;
	if (fp_feed_job_start(r->srv, r->db, r->params[0], &r->who, data, len, &id, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	fp_job_reply(r, id, 202);
	snprintf(r->extra_header, sizeof(r->extra_header), "Location: /api/v1/jobs/%" PRId64, id);
}

void fp_api_assessment_start(struct fp_req *r)
{
	struct fp_job *job = calloc(1, sizeof(*job));
	if (!job) {
		fp_reply_error(r, 500, "out_of_memory", "out of memory");
		return;
	}
	job->who = r->who;
	job->run = assess_run;
	atomic_store(&job->total, -1);
	struct fp_err err = {0};
	int64_t id = 0;
	if (fp_job_start(r->srv, r->db, "assessment", job, &id, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	fp_job_reply(r, id, 202);
	snprintf(r->extra_header, sizeof(r->extra_header), "Location: /api/v1/jobs/%" PRId64, id);
}

void fp_api_job_get(struct fp_req *r)
{
	int64_t id;
	if (fp_req_id(r, 0, &id) == 0)
		fp_job_reply(r, id, 200);
}

void fp_api_feeds_status(struct fp_req *r)
{
	int64_t cves = 0, unassessed = 0, kev = 0, epss = 0, findings = 0;
	struct fp_err err = {0};
	if (fp_db_run(r->db, &err, &cves, "SELECT COUNT(*) FROM cves", NULL) ||
	    fp_db_run(r->db, &err, &unassessed, "SELECT COUNT(*) FROM cves WHERE has_configs = 0",
	              NULL) ||
	    fp_db_run(r->db, &err, &kev, "SELECT COUNT(*) FROM kev", NULL) ||
	    fp_db_run(r->db, &err, &epss, "SELECT COUNT(*) FROM epss", NULL) ||
	    fp_db_run(r->db, &err, &findings,
	              "SELECT COUNT(*) FROM devices d JOIN config_findings f ON f.config_key = "
	              "d.config_key WHERE f.fixed_at IS NULL",
	              NULL)) {
		fp_reply_err(r, &err);
		return;
	}
	fp_reply(r, 200,
	         json_pack("{s:I,s:I,s:I,s:I,s:I}", "cves", (json_int_t)cves, "unassessed_cves",
	                   (json_int_t)unassessed, "kev", (json_int_t)kev, "epss", (json_int_t)epss,
	                   "findings", (json_int_t)findings));
}

/* ---- findings ---- */

struct finding {
	json_t *obj;
	double score;
	int64_t device;
	const char *cve;
};

static int cmp_finding(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	if (x->device != y->device)
		return x->device < y->device ? -1 : 1;
	return strcmp(x->cve, y->cve);
}

/* The later of two RFC 3339 times (either may be NULL): a device is exposed
 * from when it ran the configuration or when the configuration was found
 * vulnerable, whichever came last. */
static const char *later(const char *a, const char *b)
{
	if (!a || !b)
		return a ? a : b;
	return strcmp(a, b) >= 0 ? a : b;
}

int fp_vex_state_suppresses(const char *state)
{
	for (int v = FP_VEX_RESOLVED; v < FP_VEX_UNKNOWN_STATE; v++)
		if (strcmp(state, fp_vex_state_name((enum fp_vex_state)v)) == 0)
			return fp_vex_suppresses((enum fp_vex_state)v);
	return 0;
}

int fp_date_past(const char *date)
{
	char today[32];
	fp_time_rfc3339(fp_now_s(), today);
	return date && strncmp(date, today, 10) < 0;
}

/*
 * Lists current findings (device × CVE), each with its risk and the reasons,
 * highest risk first. VEX statements that suppress a CVE hide its findings
 * unless include_suppressed=true.
 */
static void list_findings(struct fp_req *r, int64_t device)
{
	static const char *const q[] = {"page",     "per_page",           "cve", "kev",
	                                "min_risk", "include_suppressed", NULL};
	int64_t page, per_page;
	if (fp_req_only_query(r, q) || fp_req_paging(r, &page, &per_page))
		return;
	const char *cve = fp_req_query(r, "cve"), *kevq = fp_req_query(r, "kev");
	const char *minq = fp_req_query(r, "min_risk"),
	           *supq = fp_req_query(r, "include_suppressed");
	double min_risk = 0;
	if (minq) {
		char *end;
		min_risk = strtod(minq, &end);
		if (*end || !(min_risk >= 0 && min_risk <= 100)) {
			fp_reply_error(r, 400, "invalid",
			               "min_risk must be a number from 0 to 100");
			return;
		}
	}
	if ((kevq && strcmp(kevq, "true") && strcmp(kevq, "false")) ||
	    (supq && strcmp(supq, "true") && strcmp(supq, "false"))) {
		fp_reply_error(r, 400, "invalid",
		               "kev and include_suppressed must be true or false");
		return;
	}
	/* kev=true: only KEV findings; kev=false: only the others; absent: all. */
	int kev_filter = kevq ? strcmp(kevq, "true") == 0 : -1;
	int with_suppressed = supq && strcmp(supq, "true") == 0;
	const struct fp_risk_weights w = r->srv->cfg.risk;
	struct fp_err err = {0};
	fp_stmt *st = NULL;
	if (fp_db_prepare(
	        r->db,
	        "SELECT d.id, d.name, d.exposure, d.criticality, d.eol_date, f.cve_id, "
	        "f.matched_cpe, "
	        "c.cvss_milli, c.cvss_version, c.severity, k.cve_id, k.ransomware, k.due_date, "
	        "e.score_micro, f.first_seen, v.state, v.justification, d.identity, dc.since "
	        "FROM devices d JOIN config_findings f ON f.config_key = d.config_key "
	        "JOIN cves c ON c.id = f.cve_id "
	        "LEFT JOIN kev k ON k.cve_id = f.cve_id "
	        "LEFT JOIN epss e ON e.cve_id = f.cve_id "
	        "LEFT JOIN device_configs dc ON dc.device_id = d.id AND dc.until IS NULL "
	        "LEFT JOIN vex_statements v ON v.cve_id = f.cve_id "
	        "WHERE f.fixed_at IS NULL AND (? = 0 OR d.id = ?) AND (? = '' OR f.cve_id = ?)",
	        &st, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	fp_stmt_int(st, 1, device);
	fp_stmt_int(st, 2, device);
	fp_stmt_text(st, 3, cve ? cve : "");
	fp_stmt_text(st, 4, cve ? cve : "");
	struct finding *items = NULL;
	size_t n = 0, cap = 0;
	while (fp_stmt_step(st, NULL) == FP_DB_ROW) {
		int kev = !fp_stmt_col_null(st, 10);
		const char *vex = fp_stmt_col_text(st, 15);
		int suppressed = vex && fp_vex_state_suppresses(vex);
		if ((kev_filter >= 0 && kev != kev_filter) || (suppressed && !with_suppressed))
			continue;
		struct fp_risk_input in = {
		    .cvss = fp_stmt_col_null(st, 7) || fp_stmt_col_int(st, 7) < 0
		                ? -1
		                : (double)fp_stmt_col_int(st, 7) / 1000.0,
		    .epss = fp_stmt_col_null(st, 13) ? -1 : (double)fp_stmt_col_int(st, 13) / 1e6,
		    .kev = kev,
		    .ransomware = kev && fp_stmt_col_int(st, 11),
		    .exposure = fp_stmt_col_text(st, 2),
		    .criticality = fp_stmt_col_text(st, 3),
		    .past_eol = fp_date_past(fp_stmt_col_text(st, 4)),
		};
		struct fp_risk_result rr;
		fp_risk_score(&w, &in, &rr);
		if (rr.score < min_risk)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			struct finding *ni = realloc(items, nc * sizeof(*ni));
			if (!ni)
				break;
			items = ni;
			cap = nc;
		}
		json_t *inputs =
		    json_pack("{s:o,s:s?,s:o,s:b,s:b,s:s?,s:s?,s:b}", "cvss",
		              in.cvss >= 0 ? json_real(in.cvss) : json_null(), "cvss_version",
		              fp_stmt_col_text(st, 8), "epss",
		              in.epss >= 0 ? json_real(in.epss) : json_null(), "kev", kev,
		              "ransomware", in.ransomware, "exposure", in.exposure, "criticality",
		              in.criticality, "past_eol", in.past_eol);
		json_t *risk = json_pack(
		    "{s:f,s:f,s:f,s:f,s:o,s:{s:f,s:f,s:f,s:f}}", "score", rr.score, "impact",
		    rr.impact, "likelihood", rr.likelihood, "context", rr.context, "inputs", inputs,
		    "weights", "exposure", rr.exposure_weight, "criticality", rr.criticality_weight,
		    "end_of_life", rr.eol_factor, "ransomware", rr.ransomware_factor);
		json_t *o = json_pack(
		    "{s:I,s:s?,s:s,s:s,s:s?,s:b,s:s?,s:s?,s:o}", "device_id",
		    (json_int_t)fp_stmt_col_int(st, 0), "device_name", fp_stmt_col_text(st, 1),
		    "device_identity", fp_stmt_col_text(st, 17), "cve_id", fp_stmt_col_text(st, 5),
		    "matched_cpe", fp_stmt_col_text(st, 6), "kev", kev, "kev_due",
		    fp_stmt_col_text(st, 12), "first_seen",
		    later(fp_stmt_col_text(st, 14), fp_stmt_col_text(st, 18)), "risk", risk);
		if (!o)
			continue;
		if (vex)
			json_object_set_new(o, "vex",
			                    json_pack("{s:s,s:s?}", "state", vex, "justification",
			                              fp_stmt_col_text(st, 16)));
		items[n].obj = o;
		items[n].score = rr.score;
		items[n].device = fp_stmt_col_int(st, 0);
		items[n].cve = json_string_value(json_object_get(o, "cve_id"));
		n++;
	}
	fp_stmt_finalize(st);
	if (n > 1)
		qsort(items, n, sizeof(*items), cmp_finding);
	json_t *arr = json_array();
	size_t start = (size_t)((page - 1) * per_page);
	for (size_t i = start; i < n && i < start + (size_t)per_page; i++)
		json_array_append(arr, items[i].obj);
	for (size_t i = 0; i < n; i++)
		json_decref(items[i].obj);
	free(items);
	fp_reply_page(r, arr, (int64_t)n, page, per_page);
}

/* The {id} of a device route: 0, or -1 after replying 404 when there is no such device. */
static int device_param(struct fp_req *r, int64_t *id)
{
	int64_t exists = 0;
	if (fp_req_id(r, 0, id))
		return -1;
	if (fp_db_run(r->db, NULL, &exists, "SELECT COUNT(*) FROM devices WHERE id = ?", "i",
	              *id) ||
	    !exists) {
		fp_reply_error(r, 404, "not_found", "no device with id %" PRId64, *id);
		return -1;
	}
	return 0;
}

void fp_api_findings_list(struct fp_req *r)
{
	list_findings(r, 0);
}

void fp_api_device_findings(struct fp_req *r)
{
	int64_t id;
	if (device_param(r, &id))
		return;
	list_findings(r, id);
}

void fp_api_cve_get(struct fp_req *r)
{
	const char *id = r->params[0];
	if (!fp_cve_id_valid(id)) {
		fp_reply_error(r, 404, "not_found", "'%.40s' is not a CVE id", id);
		return;
	}
	struct fp_err err = {0};
	fp_stmt *st = NULL;
	if (fp_db_prepare(
	        r->db,
	        "SELECT c.published, c.last_modified, c.status, c.description, "
	        "c.cvss_milli, c.cvss_version, c.vector, c.severity, c.cwe, c.has_configs, "
	        "k.date_added, k.due_date, k.ransomware, e.score_micro, e.percentile_micro "
	        "FROM cves c LEFT JOIN kev k ON k.cve_id = c.id LEFT JOIN epss e ON "
	        "e.cve_id = c.id WHERE c.id = ?",
	        &st, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	fp_stmt_text(st, 1, id);
	if (fp_stmt_step(st, &err) != FP_DB_ROW) {
		fp_stmt_finalize(st);
		fp_reply_error(r, 404, "not_found", "no CVE %.40s in the imported feeds", id);
		return;
	}
	int64_t affected = 0;
	json_t *o =
	    json_pack("{s:s,s:s?,s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:b}", "id", id, "published",
	              fp_stmt_col_text(st, 0), "last_modified", fp_stmt_col_text(st, 1), "status",
	              fp_stmt_col_text(st, 2), "description", fp_stmt_col_text(st, 3),
	              "cvss_version", fp_stmt_col_text(st, 5), "vector", fp_stmt_col_text(st, 6),
	              "severity", fp_stmt_col_text(st, 7), "cwe", fp_stmt_col_text(st, 8),
	              "unassessed", fp_stmt_col_int(st, 9) == 0);
	json_object_set_new(o, "cvss",
	                    fp_stmt_col_null(st, 4) || fp_stmt_col_int(st, 4) < 0
	                        ? json_null()
	                        : json_real((double)fp_stmt_col_int(st, 4) / 1000.0));
	json_object_set_new(
	    o, "kev",
	    fp_stmt_col_null(st, 10)
	        ? json_null()
	        : json_pack("{s:s?,s:s?,s:b}", "date_added", fp_stmt_col_text(st, 10), "due_date",
	                    fp_stmt_col_text(st, 11), "ransomware", (int)fp_stmt_col_int(st, 12)));
	json_object_set_new(o, "epss",
	                    fp_stmt_col_null(st, 13)
	                        ? json_null()
	                        : json_pack("{s:f,s:f}", "score",
	                                    (double)fp_stmt_col_int(st, 13) / 1e6, "percentile",
	                                    (double)fp_stmt_col_int(st, 14) / 1e6));
	fp_stmt_finalize(st);
	if (fp_db_run(r->db, NULL, &affected,
	              "SELECT COUNT(*) FROM devices d JOIN config_findings f ON f.config_key = "
	              "d.config_key WHERE f.cve_id = ? AND f.fixed_at IS NULL",
	              "s", id) == 0)
		json_object_set_new(o, "affected_devices", json_integer(affected));
	fp_reply(r, 200, o);
}

/* ---- model → CPE mapping ---- */

static json_t *map_json(struct fp_req *r, fp_stmt *st)
{
	(void)r;
	return json_pack("{s:I,s:s,s:s,s:s?,s:s?,s:s}", "id", (json_int_t)fp_stmt_col_int(st, 0),
	                 "manufacturer", fp_stmt_col_text(st, 1), "model", fp_stmt_col_text(st, 2),
	                 "firmware_cpe", fp_stmt_col_text(st, 3), "hardware_cpe",
	                 fp_stmt_col_text(st, 4), "created_at", fp_stmt_col_text(st, 5));
}

void fp_api_model_cpes_list(struct fp_req *r)
{
	fp_api_list_page(r, "SELECT COUNT(*) FROM model_cpes",
	                 "SELECT id, manufacturer, model, firmware_cpe, hardware_cpe, created_at "
	                 "FROM model_cpes ORDER BY manufacturer, model LIMIT ? OFFSET ?",
	                 -1, map_json);
}

static int check_cpe(struct fp_req *r, const char *field, const json_t *v, char part)
{
	if (!v || json_is_null(v))
		return 0;
	struct fp_cpe c;
	struct fp_err err = {0};
	if (!json_is_string(v) || fp_cpe_parse(json_string_value(v), &c, &err)) {
		fp_reply_error(r, 400, "invalid", "%s: not a CPE name%s%s", field,
		               err.msg[0] ? ": " : "", err.msg);
		return -1;
	}
	char got = c.kind[FP_CPE_PART] == FP_CPE_VALUE ? c.val[FP_CPE_PART][0] : '*';
	fp_cpe_free(&c);
	if (got != part) {
		fp_reply_error(r, 400, "invalid", "%s: expected a cpe:2.3:%c:… name", field, part);
		return -1;
	}
	return 0;
}

void fp_api_model_cpe_put(struct fp_req *r)
{
	static const char *const fields[] = {"manufacturer", "model", "firmware_cpe",
	                                     "hardware_cpe", NULL};
	if (fp_req_only_fields(r, r->json, fields))
		return;
	const char *man = json_string_value(json_object_get(r->json, "manufacturer"));
	const char *model = json_string_value(json_object_get(r->json, "model"));
	json_t *fw = json_object_get(r->json, "firmware_cpe"),
	       *hw = json_object_get(r->json, "hardware_cpe");
	if (!man || !model || !fp_text_valid(man, FP_DEVICE_STR_MAX) ||
	    !fp_text_valid(model, FP_DEVICE_STR_MAX) || !*man || !*model) {
		fp_reply_error(r, 400, "invalid",
		               "manufacturer and model are required text fields");
		return;
	}
	if (check_cpe(r, "firmware_cpe", fw, 'o') || check_cpe(r, "hardware_cpe", hw, 'h'))
		return;
	if (!json_is_string(fw) && !json_is_string(hw)) {
		fp_reply_error(r, 400, "invalid", "give firmware_cpe, hardware_cpe or both");
		return;
	}
	struct fp_err err = {0};
	char now[32], obj[600];
	fp_time_rfc3339(fp_now_s(), now);
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	int64_t id = 0;
	int rc =
	    fp_db_run(r->db, &err, &id,
	              "INSERT INTO model_cpes (manufacturer, model, firmware_cpe, hardware_cpe, "
	              "created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (manufacturer, model) DO "
	              "UPDATE SET firmware_cpe = excluded.firmware_cpe, hardware_cpe = "
	              "excluded.hardware_cpe RETURNING id",
	              "sssss", man, model, json_string_value(fw), json_string_value(hw), now);
	json_t *after = json_pack("{s:I,s:s,s:s,s:s?,s:s?}", "id", (json_int_t)id, "manufacturer",
	                          man, "model", model, "firmware_cpe", json_string_value(fw),
	                          "hardware_cpe", json_string_value(hw));
	/* Devices of this model are matched again with the new names. */
	if (rc == 0)
		rc =
		    fp_db_run(r->db, &err, NULL,
		              "DELETE FROM assessed_configs WHERE config_key IN (SELECT config_key "
		              "FROM devices WHERE model = ?)",
		              "s", model);
	snprintf(obj, sizeof(obj), "model_cpe:%" PRId64, id);
	if (fp_api_finish(r, rc, &err, "model_cpe.put", obj, NULL, after) == 0)
		fp_reply(r, 200, json_incref(after));
	json_decref(after);
}

void fp_api_model_cpe_delete(struct fp_req *r)
{
	int64_t id;
	if (fp_req_id(r, 0, &id))
		return;
	struct fp_err err = {0};
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	/* Devices of that model are matched again without the mapping. */
	int rc =
	    fp_db_run(r->db, &err, NULL,
	              "DELETE FROM assessed_configs WHERE config_key IN (SELECT config_key "
	              "FROM devices WHERE model = (SELECT model FROM model_cpes WHERE id = ?))",
	              "i", id);
	if (rc == 0)
		rc = fp_db_run(r->db, &err, NULL, "DELETE FROM model_cpes WHERE id = ?", "i", id);
	if (rc == 0 && fp_db_changes(r->db) == 0)
		rc = fp_err_set(&err, FP_ENOTFOUND, "no model mapping with id %" PRId64, id);
	char obj[64];
	snprintf(obj, sizeof(obj), "model_cpe:%" PRId64, id);
	if (fp_api_finish(r, rc, &err, "model_cpe.delete", obj, NULL, NULL) == 0)
		fp_reply(r, 200, json_pack("{s:I}", "deleted", (json_int_t)id));
}

/* ---- VEX and SBOMs ---- */

void fp_api_vex_upload(struct fp_req *r)
{
	struct fp_vex v = {0};
	struct fp_err err = {0};
	if (!r->body_len || fp_vex_parse(r->body, r->body_len, &v, &err)) {
		if (!r->body_len)
			fp_err_set(&err, FP_EINVAL,
			           "the request body must hold a CycloneDX VEX document");
		fp_reply_err(r, &err);
		return;
	}
	char now[32], actor[160];
	fp_time_rfc3339(fp_now_s(), now);
	fp_actor_name(&r->who, actor);
	int rc = fp_db_begin(r->db, &err);
	int64_t stored = 0;
	for (size_t i = 0; rc == 0 && i < v.n; i++) {
		const struct fp_vex_statement *s = &v.s[i];
		json_t *aff = json_array();
		for (size_t j = 0; j < s->n_affects; j++)
			json_array_append_new(aff, json_string(s->affects[j]));
		char *affects = json_dumps(aff, JSON_COMPACT);
		json_decref(aff);
		rc = fp_db_run(
		    r->db, &err, NULL,
		    "INSERT INTO vex_statements (cve_id, state, justification, detail, "
		    "affects, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON "
		    "CONFLICT (cve_id) DO UPDATE SET state = excluded.state, justification = "
		    "excluded.justification, detail = excluded.detail, affects = "
		    "excluded.affects, created_by = excluded.created_by, created_at = "
		    "excluded.created_at",
		    "sssssss", s->id, fp_vex_state_name(s->state), s->justification, s->detail,
		    affects ? affects : "[]", actor, now);
		free(affects);
		stored++;
	}
	json_t *after = json_pack("{s:I}", "statements", (json_int_t)stored);
	if (fp_api_finish(r, rc, &err, "vex.upload", "vex", NULL, after) == 0)
		fp_reply(r, 200, json_incref(after));
	json_decref(after);
	fp_vex_free(&v);
}

void fp_api_device_sbom(struct fp_req *r)
{
	int64_t id;
	if (fp_req_id(r, 0, &id))
		return;
	struct fp_sbom sb = {0};
	struct fp_err err = {0};
	if (!r->body_len || fp_sbom_parse(r->body, r->body_len, &sb, &err)) {
		if (!r->body_len)
			fp_err_set(&err, FP_EINVAL,
			           "the request body must hold a CycloneDX or SPDX SBOM");
		fp_reply_err(r, &err);
		return;
	}
	struct fp_device_row d;
	struct fp_device_rec comps;
	fp_device_rec_init(&comps);
	int rc = 0;
	/* The SBOM replaces the device's component list. */
	comps.components_set = 1;
	for (size_t i = 0; rc == 0 && i < sb.n; i++) {
		const struct fp_sbom_component *c = &sb.c[i];
		rc =
		    fp_device_rec_add_component(&comps, c->name, c->version, c->cpe, c->purl, &err);
	}
	if (rc) {
		fp_reply_err(r, &err);
		goto out_nodev;
	}
	if (fp_db_begin(r->db, &err) || fp_store_device_get(r->db, id, &d, &err)) {
		fp_db_rollback(r->db);
		if (err.code == FP_ENOTFOUND)
			fp_reply_error(r, 404, "not_found", "no device with id %" PRId64, id);
		else
			fp_reply_err(r, &err);
		goto out_nodev;
	}
	json_t *before = fp_device_row_json(&d);
	rc = fp_device_rec_merge(&d.rec, &comps);
	if (rc == 0)
		rc = fp_store_device_update(r->db, &d, &err);
	else
		fp_err_set(&err, rc, "out of memory");
	/* A new configuration is assessed at once (no-op before any CVE import). */
	if (rc == 0)
		rc = fp_assess_device(r->db, d.id, &err);
	json_t *after = fp_device_row_json(&d);
	char obj[64];
	snprintf(obj, sizeof(obj), "device:%" PRId64, id);
	if (fp_api_finish(r, rc, &err, "device.sbom", obj, before, after) == 0)
		fp_reply(r, 200,
		         json_pack("{s:I,s:s,s:s,s:I}", "device_id", (json_int_t)id, "format",
		                   sb.format, "spec_version", sb.spec_version, "components",
		                   (json_int_t)sb.n));
	json_decref(before);
	json_decref(after);
	fp_device_row_free(&d);
out_nodev:
	fp_device_rec_free(&comps);
	fp_sbom_free(&sb);
}

/* ---- firmware SBOMs: the components of one (manufacturer, model, firmware) ---- */

void fp_api_sbom_put(struct fp_req *r)
{
	static const char *const q[] = {"manufacturer", "model", "firmware", NULL};
	if (fp_req_only_query(r, q))
		return;
	const char *man = fp_req_query(r, "manufacturer"), *model = fp_req_query(r, "model");
	const char *fw = fp_req_query(r, "firmware");
	if (!man || !model || !fw || !*man || !*model || !*fw ||
	    !fp_text_valid(man, FP_DEVICE_STR_MAX) || !fp_text_valid(model, FP_DEVICE_STR_MAX) ||
	    !fp_text_valid(fw, FP_DEVICE_STR_MAX)) {
		fp_reply_error(
		    r, 400, "invalid",
		    "manufacturer, model and firmware (query parameters) name the firmware "
		    "image the SBOM describes");
		return;
	}
	struct fp_sbom sb = {0};
	struct fp_err err = {0};
	struct fp_device_rec comps;
	fp_device_rec_init(&comps);
	json_t *arr = NULL, *after = NULL;
	char *text = NULL;
	if (!r->body_len || fp_sbom_parse(r->body, r->body_len, &sb, &err)) {
		if (!r->body_len)
			fp_err_set(&err, FP_EINVAL,
			           "the request body must hold a CycloneDX or SPDX SBOM");
		fp_reply_err(r, &err);
		goto out;
	}
	/* Components go through the same validation as a device's own. */
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sb.n; i++)
		rc = fp_device_rec_add_component(&comps, sb.c[i].name, sb.c[i].version, sb.c[i].cpe,
		                                 sb.c[i].purl, &err);
	json_t *obj = json_object();
	if (rc == 0 && fp_device_rec_to_json(&comps, obj) == 0)
		arr = json_incref(json_object_get(obj, "components"));
	json_decref(obj);
	if (rc || !arr || !(text = json_dumps(arr, JSON_COMPACT))) {
		if (!rc)
			fp_err_set(&err, FP_ENOMEM, "out of memory");
		fp_reply_err(r, &err);
		goto out;
	}
	char now[32], objname[800];
	fp_time_rfc3339(fp_now_s(), now);
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		goto out;
	}
	rc = fp_db_run(
	    r->db, &err, NULL,
	    "INSERT INTO firmware_sboms (manufacturer, model, firmware, format, components, "
	    "n_components, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
	    "(manufacturer, model, firmware) DO UPDATE SET format = excluded.format, "
	    "components = excluded.components, n_components = excluded.n_components, "
	    "created_at = excluded.created_at",
	    "sssssis", man, model, fw, sb.format, text, (int64_t)comps.n_components, now);
	after = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "manufacturer", man, "model", model,
	                  "firmware", fw, "format", sb.format, "spec_version", sb.spec_version,
	                  "components", (json_int_t)comps.n_components);
	/* Devices running that image are matched again with its components. */
	if (rc == 0)
		rc =
		    fp_db_run(r->db, &err, NULL,
		              "DELETE FROM assessed_configs WHERE config_key IN (SELECT config_key "
		              "FROM devices WHERE model = ? AND firmware_version = ?)",
		              "ss", model, fw);
	snprintf(objname, sizeof(objname), "sbom:%.200s/%.200s/%.200s", man, model, fw);
	if (fp_api_finish(r, rc, &err, "sbom.put", objname, NULL, after) == 0)
		fp_reply(r, 200, json_incref(after));
out:
	free(text);
	json_decref(arr);
	json_decref(after);
	fp_device_rec_free(&comps);
	fp_sbom_free(&sb);
}

static json_t *sbom_json(struct fp_req *r, fp_stmt *st)
{
	(void)r;
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:s}", "id", (json_int_t)fp_stmt_col_int(st, 0),
	                 "manufacturer", fp_stmt_col_text(st, 1), "model", fp_stmt_col_text(st, 2),
	                 "firmware", fp_stmt_col_text(st, 3), "format", fp_stmt_col_text(st, 4),
	                 "components", (json_int_t)fp_stmt_col_int(st, 5), "created_at",
	                 fp_stmt_col_text(st, 6));
}

void fp_api_sboms_list(struct fp_req *r)
{
	fp_api_list_page(
	    r, "SELECT COUNT(*) FROM firmware_sboms",
	    "SELECT id, manufacturer, model, firmware, format, n_components, created_at "
	    "FROM firmware_sboms ORDER BY manufacturer, model, firmware LIMIT ? OFFSET ?",
	    -1, sbom_json);
}

/* ---- exposure windows ---- */

static int64_t parse_time(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) /* milliseconds are ignored */
		return -1;
	return (int64_t)timegm(&tm);
}

/*
 * A device's exposure windows: for every CVE, from when the device ran a
 * configuration that had it (or the configuration was found to have it) to
 * when the device left that configuration or the configuration was fixed.
 * Back-to-back windows of one CVE (a move between two vulnerable
 * configurations) merge into one.
 */
int fp_device_windows(fp_db *db, int64_t id, json_t *items, struct fp_window_stats *ws,
                      struct fp_err *err)
{
	fp_stmt *st = NULL;
	memset(ws, 0, sizeof(*ws));
	int rc =
	    fp_db_prepare(db,
	                  "SELECT f.cve_id, dc.since, dc.until, f.first_seen, f.fixed_at, "
	                  "k.due_date FROM device_configs dc JOIN config_findings f ON "
	                  "f.config_key = dc.config_key LEFT JOIN kev k ON k.cve_id = f.cve_id "
	                  "WHERE dc.device_id = ? ORDER BY f.cve_id, dc.since",
	                  &st, err);
	if (rc)
		return rc;
	fp_stmt_int(st, 1, id);
	json_t *cur = NULL;
	char cur_cve[FP_CVE_ID_MAX] = "";
	for (;;) {
		int row = fp_stmt_step(st, NULL) == FP_DB_ROW;
		const char *cve = row ? fp_stmt_col_text(st, 0) : NULL;
		const char *start = NULL, *end = NULL;
		if (row) {
			start = later(fp_stmt_col_text(st, 1), fp_stmt_col_text(st, 3));
			const char *u = fp_stmt_col_text(st, 2), *x = fp_stmt_col_text(st, 4);
			end = !u ? x : !x ? u : strcmp(u, x) <= 0 ? u : x;
			if (end && strcmp(end, start) <= 0)
				continue; /* the device had left before the finding appeared */
		}
		/* Extend the current window when this one continues it. */
		if (row && cur && strcmp(cur_cve, cve) == 0) {
			const char *cend = json_string_value(json_object_get(cur, "fixed_at"));
			if (!cend || strcmp(start, cend) <= 0) {
				if (cend && (!end || strcmp(end, cend) > 0))
					json_object_set_new(cur, "fixed_at",
					                    end ? json_string(end) : json_null());
				continue;
			}
		}
		if (cur) {
			const char *f = json_string_value(json_object_get(cur, "fixed_at"));
			if (f) {
				ws->fixed++;
				ws->fixed_secs +=
				    parse_time(f) - parse_time(json_string_value(
				                        json_object_get(cur, "first_seen")));
			} else {
				ws->open++;
			}
			json_object_set_new(cur, "open", json_boolean(!f));
			/* Past a KEV due date: still open after it, or fixed after it. */
			const char *due = json_string_value(json_object_get(cur, "kev_due"));
			char today[32];
			fp_time_rfc3339(fp_now_s(), today);
			int overdue =
			    due && (f ? strncmp(f, due, 10) > 0 : strncmp(today, due, 10) > 0);
			json_object_set_new(cur, "kev_overdue", json_boolean(overdue));
			ws->overdue += overdue;
			if (items)
				json_array_append_new(items, cur);
			else
				json_decref(cur);
			cur = NULL;
		}
		if (!row)
			break;
		snprintf(cur_cve, sizeof(cur_cve), "%s", cve);
		cur = json_pack("{s:s,s:s,s:s?,s:s?}", "cve_id", cve, "first_seen", start,
		                "fixed_at", end, "kev_due", fp_stmt_col_text(st, 5));
	}
	fp_stmt_finalize(st);
	return 0;
}

json_t *fp_window_mttr(const struct fp_window_stats *ws)
{
	return ws->fixed
	           ? json_real(round((double)ws->fixed_secs / (double)ws->fixed / 86400.0 * 100.0) /
	                       100.0)
	           : json_null();
}

void fp_api_device_exposures(struct fp_req *r)
{
	int64_t id;
	if (device_param(r, &id))
		return;
	struct fp_err err = {0};
	struct fp_window_stats ws;
	json_t *items = json_array();
	if (fp_device_windows(r->db, id, items, &ws, &err)) {
		json_decref(items);
		fp_reply_err(r, &err);
		return;
	}
	json_t *o = json_pack("{s:I,s:o,s:I,s:I,s:I}", "device_id", (json_int_t)id, "windows",
	                      items, "open", (json_int_t)ws.open, "fixed", (json_int_t)ws.fixed,
	                      "kev_overdue", (json_int_t)ws.overdue);
	json_object_set_new(o, "mean_time_to_remediate_days", fp_window_mttr(&ws));
	fp_reply(r, 200, o);
}
