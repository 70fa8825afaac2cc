/*
 * api_imports.c — discovery and inventory imports as jobs.
 *
 * The upload is parsed at once, so a malformed file is refused with 400 and
 * nothing stored. The rows are then applied by a worker thread in ONE
 * transaction (all or nothing), with per-device audit entries; progress is
 * visible through GET /imports/{id} while it runs, and the report (created,
 * updated, unchanged, rejected with reasons) is stored with the job.
 * Re-importing the same file updates the same devices: rows match on their
 * identity.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "fleetpatch/import.h"
#include "log.h"
#include "jobs.h"
#include "store_devices.h"
#include "vuln.h"

struct report {
	int64_t created, updated, unchanged;
};

/* Applies parsed rows in the caller's transaction. */
static int apply_rows(fp_db *db, const struct fp_principal *who, struct fp_import_result *res,
                      const char *source, struct fp_job *job, struct report *rep,
                      struct fp_err *err)
{
	for (size_t i = 0; i < res->n_rows; i++) {
		if (job && fp_job_stopping(job))
			return fp_err_set(err, FP_EIO,
			                  "the server shut down during the import; nothing was "
			                  "applied");
		struct fp_device_rec *rec = &res->rows[i].rec;
		struct fp_device_row d;
		char obj[64];
		int rc = fp_store_device_by_identity(db, rec->f[FP_DEV_IDENTITY], &d, err);
		if (rc == FP_ENOTFOUND) {
			memset(&d, 0, sizeof(d));
			fp_device_rec_init(&d.rec);
			snprintf(d.status, sizeof(d.status), FP_DEVSTAT_DISCOVERED);
			snprintf(d.source, sizeof(d.source), "%s", source);
			fp_time_rfc3339(fp_now_s(), d.first_seen);
			rc = fp_device_rec_merge(&d.rec, rec);
			if (rc == 0)
				rc = fp_store_device_insert(db, &d, err);
			json_t *after = rc ? NULL : fp_device_row_json(&d);
			snprintf(obj, sizeof(obj), "device:%" PRId64, d.id);
			if (rc == 0)
				rc = fp_audit_append(db, who, "device.import_create", obj, NULL,
				                     after, err);
			json_decref(after);
			if (rc == 0)
				rep->created++;
		} else if (rc == 0) {
			json_t *before = fp_device_row_json(&d);
			rc = fp_device_rec_merge(&d.rec, rec);
			json_t *after = fp_device_row_json(&d);
			snprintf(obj, sizeof(obj), "device:%" PRId64, d.id);
			if (rc == 0 && json_equal(before, after)) {
				rep->unchanged++;
			} else if (rc == 0) {
				rc = fp_store_device_update(db, &d, err);
				if (rc == 0)
					rc = fp_audit_append(db, who, "device.import_update", obj,
					                     before, after, err);
				if (rc == 0)
					rep->updated++;
			}
			json_decref(before);
			json_decref(after);
		}
		if (rc && err && !err->msg[0])
			fp_err_set(err, rc, "row at line %zu could not be stored",
			           res->rows[i].line);
		fp_device_row_free(&d);
		if (rc)
			return rc;
		if (job)
			atomic_fetch_add(&job->done, 1);
	}
	return 0;
}

static json_t *report_json(const struct report *rep, const struct fp_import_result *res)
{
	json_t *rej = json_array();
	for (size_t i = 0; i < res->n_rejects; i++)
		json_array_append_new(rej, json_pack("{s:I,s:s}", "line",
		                                     (json_int_t)res->rejects[i].line, "reason",
		                                     res->rejects[i].reason));
	/* The list of rejects is capped; rejected_total counts them all. */
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}", "rows", (json_int_t)res->n_rows, "created",
	                 (json_int_t)rep->created, "updated", (json_int_t)rep->updated, "unchanged",
	                 (json_int_t)rep->unchanged, "rejected_total",
	                 (json_int_t)res->n_rejects_total, "rejected", rej);
}

/* Assesses new configurations and moved devices; adds the report to *report. */
static int assess_new(fp_db *db, json_t *report, struct fp_err *err)
{
	int64_t cves = 0;
	if (fp_db_run(db, NULL, &cves, "SELECT COUNT(*) FROM cves", NULL) || cves == 0)
		return 0;
	static char *const none[1] = {NULL};
	struct fp_assess_report rep;
	int rc = fp_assess(db, none, 0, NULL, 0, NULL, &rep, NULL, NULL, err);
	if (rc == 0)
		json_object_set_new(report, "assessment", fp_assess_report_json(&rep));
	return rc;
}

/* The job: all rows in one transaction; a dry run rolls back at the end. */
static int import_run(struct fp_job *job, fp_db *db, json_t **report, struct fp_err *err)
{
	struct fp_import_result *res = job->arg;
	struct report rep = {0};
	char obj[64];
	snprintf(obj, sizeof(obj), "import:%" PRId64, job->id);
	int rc = fp_db_begin(db, err);
	if (rc == 0)
		rc = apply_rows(db, &job->who, res, "import", job, &rep, err);
	*report = report_json(&rep, res);
	if (rc == 0 && !job->dry_run)
		rc = fp_audit_append(db, &job->who, "import.apply", obj, NULL, *report, err);
	/* New configurations and devices that changed one are assessed in the same
	 * transaction (nothing happens before any CVE import). */
	if (rc == 0 && !job->dry_run)
		rc = assess_new(db, *report, err);
	if (rc == 0 && !job->dry_run)
		rc = fp_db_commit(db, err);
	fp_db_rollback(db);
	return rc;
}

static void free_result(void *arg)
{
	fp_import_result_free(arg);
	free(arg);
}

static int bool_param(struct fp_req *r, const char *name, int *out)
{
	const char *v = fp_req_query(r, name);
	*out = 0;
	if (!v)
		return 0;
	if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0) {
		*out = 1;
		return 0;
	}
	if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return 0;
	fp_reply_error(r, 400, "invalid", "%s must be true or false", name);
	return -1;
}

void fp_api_import_create(struct fp_req *r)
{
	static const char *const q[] = {"format", "dry_run", NULL};
	if (fp_req_only_query(r, q))
		return;
	const char *fname = fp_req_query(r, "format");
	enum fp_import_format fmt;
	int dry = 0;
	if (!fname || fp_import_format_parse(fname, &fmt)) {
		fp_reply_error(r, 400, "invalid",
		               "format: one of csv, json, nmap, dnsmasq, dhcpd, mdm is required");
		return;
	}
	if (bool_param(r, "dry_run", &dry))
		return;
	if (!r->body_len) {
		fp_reply_error(r, 400, "invalid", "the request body must hold the file to import");
		return;
	}
	struct fp_err err = {0};
	struct fp_job *job = calloc(1, sizeof(*job));
	struct fp_import_result *res = calloc(1, sizeof(*res));
	if (!job || !res) {
		free(job);
		free(res);
		fp_reply_error(r, 500, "out_of_memory", "out of memory");
		return;
	}
	if (fp_import_parse(fmt, r->body, r->body_len, r->srv->oui, res, &err)) {
		free(job);
		free(res);
		fp_reply_err(r, &err);
		return;
	}
	job->who = r->who;
	job->dry_run = dry;
	job->arg = res;
	job->free_arg = free_result;
	job->run = import_run;
	atomic_store(&job->total, (long)res->n_rows);
	int64_t id = 0;
	if (fp_job_start(r->srv, r->db, fp_import_format_name(fmt), job, &id, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	fp_job_reply(r, id, 202);
	snprintf(r->extra_header, sizeof(r->extra_header), "Location: /api/v1/imports/%" PRId64,
	         id);
}

static json_t *import_row_json(struct fp_req *r, fp_stmt *st)
{
	return fp_job_json(r->srv, st);
}

/* Device imports; feed imports and assessments are jobs of other kinds. */
#define DEVICE_IMPORT_KINDS "format IN ('csv', 'json', 'nmap', 'dnsmasq', 'dhcpd', 'mdm')"

void fp_api_imports_list(struct fp_req *r)
{
	fp_api_list_page(r, "SELECT COUNT(*) FROM imports WHERE " DEVICE_IMPORT_KINDS,
	                 "SELECT " FP_JOB_COLS " FROM imports WHERE " DEVICE_IMPORT_KINDS
	                 " ORDER BY id DESC LIMIT ? OFFSET ?",
	                 -1, import_row_json);
}

void fp_api_import_get(struct fp_req *r)
{
	int64_t id;
	if (fp_req_id(r, 0, &id) == 0)
		fp_job_reply(r, id, 200);
}

/* ---- the demo fleet ---- */

struct demo_model {
	const char *manufacturer, *model, *platform, *mech, *exposure, *crit, *tag;
	const char *const fw[4];
};

static const struct demo_model demo_models[] = {
    {"TP-Link",
     "archer-c7",
     "linux",
     "vendor-web",
     "internet",
     "high",
     "router",
     {"1.1.6", "1.1.9", "1.2.0", "1.2.1"}},
    {"Netgear",
     "r7000",
     "linux",
     "vendor-web",
     "internet",
     "high",
     "router",
     {"1.0.9.88", "1.0.11.116", "1.0.11.134", "1.0.11.134"}},
    {"Hikvision",
     "ds-2cd2142fwd-i",
     "linux",
     "vendor-web",
     "internal",
     "medium",
     "camera",
     {"5.4.5", "5.5.0", "5.5.82", "5.7.3"}},
    {"Axis",
     "m3045-v",
     "linux",
     "fleetpatch-agent",
     "internal",
     "medium",
     "camera",
     {"9.80.3.8", "10.12.153", "10.12.182", "11.1.66"}},
    {"Synology",
     "ds920+",
     "linux",
     "vendor-cloud",
     "internal",
     "critical",
     "nas",
     {"7.1.1-42962", "7.2-64570", "7.2.1-69057", "7.2.2-72806"}},
    {"Shelly",
     "plug-s",
     "rtos",
     "vendor-cloud",
     "isolated",
     "low",
     "plug",
     {"1.11.8", "1.12.1", "1.14.0", "1.14.0"}},
    {"Samsung",
     "sm-g991b",
     "android",
     "mdm",
     "internet",
     "medium",
     "phone",
     {"13", "14", "14", "15"}},
    {"Apple",
     "iphone14,5",
     "ios",
     "mdm",
     "internet",
     "medium",
     "phone",
     {"16.7.8", "17.5.1", "17.6.1", "18.1"}},
};

static const char *const demo_patch[] = {"2023-11-01", "2024-05-01", "2024-09-01", "2024-11-01"};

int fp_demo_seed(struct fp_server *s, struct fp_err *err)
{
	fp_db *db = fp_db_pool_get(s->pool);
	int64_t n = 0;
	int rc = fp_db_run(db, err, &n, "SELECT COUNT(*) FROM devices", NULL);
	if (rc || n > 0)
		goto out;
	struct fp_import_result res = {0};
	size_t count = 64;
	res.rows = calloc(count, sizeof(*res.rows));
	if (!res.rows) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	/* A fixed pseudo-random walk, so every demo shows the same fleet. */
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < count && rc == 0; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		const struct demo_model *m = &demo_models[i % 8];
		struct fp_device_rec *rec = &res.rows[i].rec;
		fp_device_rec_init(rec);
		res.rows[i].line = i + 1;
		res.n_rows++;
		char buf[64];
		snprintf(buf, sizeof(buf), "%s-%02zu", m->tag, i + 1);
		rc |= fp_device_rec_set(rec, "name", buf, err);
		snprintf(buf, sizeof(buf), "FP%08X", x);
		rc |= fp_device_rec_set(rec, "serial", buf, err);
		snprintf(buf, sizeof(buf), "02:00:5e:%02x:%02x:%02x", (x >> 16) & 0xff,
		         (x >> 8) & 0xff, x & 0xff);
		rc |= fp_device_rec_set(rec, "mac", buf, err);
		snprintf(buf, sizeof(buf), "10.%u.%u.%u", (unsigned)(i % 8), (x >> 8) & 0xff,
		         (unsigned)(i + 10));
		rc |= fp_device_rec_set(rec, "ip", buf, err);
		rc |= fp_device_rec_set(rec, "manufacturer", m->manufacturer, err);
		rc |= fp_device_rec_set(rec, "model", m->model, err);
		rc |= fp_device_rec_set(rec, "platform", m->platform, err);
		rc |= fp_device_rec_set(rec, "firmware_version", m->fw[x % 4], err);
		rc |= fp_device_rec_set(rec, "update_mechanism", m->mech, err);
		rc |= fp_device_rec_set(rec, "exposure", m->exposure, err);
		rc |= fp_device_rec_set(rec, "criticality", m->crit, err);
		rc |= fp_device_rec_set(rec, "network", i % 3 ? "hq" : "branch-1", err);
		rc |= fp_device_rec_set(rec, "owner", i % 2 ? "it-ops" : "facilities", err);
		if (strcmp(m->platform, "android") == 0) {
			rc |= fp_device_rec_set(rec, "os_version", m->fw[x % 4], err);
			rc |= fp_device_rec_set(rec, "patch_level", demo_patch[(x >> 3) % 4], err);
		}
		if (i % 16 == 5)
			rc |= fp_device_rec_set(rec, "eol_date", "2024-12-31", err);
		rc |= fp_device_rec_add_tag(rec, m->tag, err);
		if (i % 5 == 0)
			rc |= fp_device_rec_add_tag(rec, "lab", err);
		rc |= fp_device_rec_derive_identity(rec, err);
	}
	struct report rep = {0};
	struct fp_principal sys = {.kind = FP_AUTH_NONE};
	if (rc == 0)
		rc = fp_db_begin(db, err);
	if (rc == 0)
		rc = apply_rows(db, &sys, &res, "demo", NULL, &rep, err);
	static const char *const groups[][3] = {
	    {"cameras", "IP cameras", "tags == camera"},
	    {"internet-facing", "Reachable from the internet", "exposure == internet"},
	    {"old-archer", "Archer C7 below 1.2.0",
	     "model == \"archer-c7\" and firmware < \"1.2.0\""},
	};
	char now[32];
	fp_time_rfc3339(fp_now_s(), now);
	for (size_t i = 0; rc == 0 && i < 3; i++) {
		rc = fp_db_run(db, err, NULL,
		               "INSERT INTO device_groups (name, description, filter, created_at, "
		               "updated_at) VALUES (?, ?, ?, ?, ?)",
		               "sssss", groups[i][0], groups[i][1], groups[i][2], now, now);
		json_t *after =
		    json_pack("{s:s,s:s}", "name", groups[i][0], "filter", groups[i][2]);
		char obj[96];
		snprintf(obj, sizeof(obj), "group:%s", groups[i][0]);
		if (rc == 0)
			rc = fp_audit_append(db, &sys, "group.create", obj, NULL, after, err);
		json_decref(after);
	}
	if (rc == 0)
		rc = fp_db_commit(db, err);
	fp_db_rollback(db);
	fp_import_result_free(&res);
	if (rc == 0)
		fp_log(FP_LOG_INFO, "demo fleet created", "devices=%" PRId64 " groups=3",
		       rep.created);
out:
	fp_db_pool_put(s->pool, db);
	return rc;
}
