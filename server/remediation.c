/*
 * remediation.c — the remediation plan: for each (model, firmware) that
 * devices run, which published release removes which CVEs and how much risk.
 *
 * A release is a target of the newest signed targets metadata whose custom
 * fields name its compatible hardware (`hardware`, the device models the
 * director accepts) and its firmware `version`. For every configuration with
 * open findings and every compatible release newer than the configuration's
 * firmware, the configuration is matched again as it would be with the
 * release's firmware version (fp_whatif_match(): same model → CPE mapping,
 * the release's image SBOM when one is uploaded, the device's own components
 * unchanged). The CVEs it no longer matches are what the release removes,
 * the new ones what it introduces; each is weighed with the risk formula for
 * every device of the configuration. Configurations of the same (manufacturer,
 * model, firmware) are summed into one row per release, and rows are ranked
 * by the risk they remove. docs/design/vulnerabilities.md explains the rules.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fleetpatch/cjson.h"
#include "fleetpatch/risk.h"
#include "fleetpatch/strmap.h"
#include "fleetpatch/tuf.h"
#include "fleetpatch/version.h"
#include "repo.h"
#include "store_devices.h"
#include "vuln.h"

#define PLAN_RELEASES_MAX 4096 /* releases considered from the targets metadata */
#define PLAN_CVES_LISTED  100  /* CVE ids listed per row; counts are always complete */
#define PLAN_CONTEXTS_MAX 64   /* distinct (exposure, criticality, end of life) per config */

/* A published release: a target with compatible hardware and a version. */
struct release {
	const char *name, *version; /* borrowed from the targets metadata */
	const json_t *hardware;
	json_t *counter; /* custom.security_counter, or NULL */
};

/* The risk inputs of one CVE that do not depend on the device. */
struct cve_info {
	double cvss, epss;
	int kev, ransomware, suppressed;
};

/* Devices of one configuration that share a risk context. */
struct context {
	char *exposure, *criticality;
	int past_eol;
	int64_t devices;
};

/* A set of CVE ids in insertion order. */
struct cveset {
	struct fp_strmap *has;
	char **id;
	size_t n, cap;
};

/* One row of the plan: (manufacturer, model, firmware) × release. */
struct row {
	char *manufacturer, *model, *firmware;
	const struct release *rel;
	int64_t devices;
	struct cveset removed, introduced;
	int64_t kev_removed, ransomware_removed, kev_introduced;
	double risk_removed, risk_introduced;
	int recommended;
};

struct plan {
	fp_db *db;
	struct fp_whatif *whatif;
	struct fp_risk_weights w;
	struct fp_strmap *cves; /* id → struct cve_info */
	struct fp_strmap *rows; /* "manufacturer\nmodel\nfirmware\nrelease" → index + 1 */
	struct row *row;
	size_t nrows, caprows;
	struct release *rel;
	size_t nrel;
	json_t *targets; /* the targets metadata document */
};

static int set_add(struct cveset *s, const char *id, int *added)
{
	*added = 0;
	if (!s->has && fp_strmap_new(&s->has))
		return FP_ENOMEM;
	if (fp_strmap_get(s->has, id))
		return 0;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 16;
		char **ni = realloc(s->id, nc * sizeof(*ni));
		if (!ni)
			return FP_ENOMEM;
		s->id = ni;
		s->cap = nc;
	}
	if (!(s->id[s->n] = strdup(id)) || fp_strmap_put(s->has, id, s->id[s->n], NULL)) {
		free(s->id[s->n]);
		return FP_ENOMEM;
	}
	s->n++;
	*added = 1;
	return 0;
}

static void set_free(struct cveset *s)
{
	fp_strmap_free(s->has, NULL);
	for (size_t i = 0; i < s->n; i++)
		free(s->id[i]);
	free(s->id);
}

static int set_has(const struct cveset *s, const char *id)
{
	return s->has && fp_strmap_get(s->has, id) != NULL;
}

/* The releases of the newest targets metadata; none when nothing is published. */
static int load_releases(struct plan *p, struct fp_err *err)
{
	int64_t v = 0;
	char *body = NULL;
	size_t len = 0;
	int rc = fp_repo_get(p->db, "targets", &v, NULL, &body, &len, err);
	if (rc == FP_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	rc = fp_cjson_load(body, len, FP_TUF_TARGETS_MAX, &p->targets, err);
	free(body);
	if (rc)
		return rc;
	const json_t *targets = json_object_get(json_object_get(p->targets, "signed"), "targets");
	size_t n = json_object_size(targets);
	if (n > PLAN_RELEASES_MAX)
		n = PLAN_RELEASES_MAX;
	if (!(p->rel = calloc(n ? n : 1, sizeof(*p->rel))))
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	const char *name;
	json_t *t;
	json_object_foreach((json_t *)targets, name, t)
	{
		if (p->nrel == n)
			break;
		const json_t *custom = json_object_get(t, "custom");
		const json_t *hw = json_object_get(custom, "hardware");
		const char *version = json_string_value(json_object_get(custom, "version"));
		/* A target without hardware or version cannot be matched to devices. */
		if (!json_is_array(hw) || !version || !*version)
			continue;
		p->rel[p->nrel++] = (struct release){name, version, hw,
		                                     json_object_get(custom, "security_counter")};
	}
	return 0;
}

static int compatible(const struct release *rel, const char *model)
{
	size_t i;
	const json_t *v;
	json_array_foreach(rel->hardware, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), model) == 0)
			return 1;
	}
	return 0;
}

/* The risk inputs of a CVE, cached for the whole plan. */
static const struct cve_info *cve_info(struct plan *p, const char *id, struct fp_err *err)
{
	struct cve_info *ci = fp_strmap_get(p->cves, id);
	if (ci)
		return ci;
	fp_stmt *st = NULL;
	if (fp_db_prepare(p->db,
	                  "SELECT c.cvss_milli, k.cve_id, k.ransomware, e.score_micro, v.state "
	                  "FROM cves c LEFT JOIN kev k ON k.cve_id = c.id LEFT JOIN epss e ON "
	                  "e.cve_id = c.id LEFT JOIN vex_statements v ON v.cve_id = c.id "
	                  "WHERE c.id = ?",
	                  &st, err))
		return NULL;
	fp_stmt_text(st, 1, id);
	if (!(ci = calloc(1, sizeof(*ci)))) {
		fp_stmt_finalize(st);
		fp_err_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	ci->cvss = ci->epss = -1;
	if (fp_stmt_step(st, NULL) == FP_DB_ROW) {
		if (!fp_stmt_col_null(st, 0) && fp_stmt_col_int(st, 0) >= 0)
			ci->cvss = (double)fp_stmt_col_int(st, 0) / 1000.0;
		ci->kev = !fp_stmt_col_null(st, 1);
		ci->ransomware = ci->kev && fp_stmt_col_int(st, 2);
		if (!fp_stmt_col_null(st, 3))
			ci->epss = (double)fp_stmt_col_int(st, 3) / 1e6;
		const char *vex = fp_stmt_col_text(st, 4);
		ci->suppressed = vex && fp_vex_state_suppresses(vex);
	}
	fp_stmt_finalize(st);
	if (fp_strmap_put(p->cves, id, ci, NULL)) {
		free(ci);
		fp_err_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	return ci;
}

/* The risk a CVE carries summed over the devices of a configuration. */
static double risk_sum(const struct plan *p, const struct cve_info *ci, const struct context *ctx,
                       size_t nctx)
{
	double sum = 0;
	for (size_t i = 0; i < nctx; i++) {
		struct fp_risk_input in = {ci->cvss,       ci->epss,        ci->kev,
		                           ci->ransomware, ctx[i].exposure, ctx[i].criticality,
		                           ctx[i].past_eol};
		struct fp_risk_result rr;
		fp_risk_score(&p->w, &in, &rr);
		sum += rr.score * (double)ctx[i].devices;
	}
	return sum;
}

static int load_contexts(struct plan *p, const char *config_key, struct context *ctx, size_t *n,
                         int64_t *devices, struct fp_err *err)
{
	fp_stmt *st = NULL;
	*n = 0;
	*devices = 0;
	int rc = fp_db_prepare(p->db,
	                       "SELECT exposure, criticality, eol_date, COUNT(*) FROM devices "
	                       "WHERE config_key = ? GROUP BY exposure, criticality, eol_date",
	                       &st, err);
	if (rc)
		return rc;
	fp_stmt_text(st, 1, config_key);
	while ((rc = fp_stmt_step(st, err)) == FP_DB_ROW) {
		int64_t count = fp_stmt_col_int(st, 3);
		*devices += count;
		const char *e = fp_stmt_col_text(st, 0), *c = fp_stmt_col_text(st, 1);
		int past = fp_date_past(fp_stmt_col_text(st, 2));
		size_t i = 0;
		/* End-of-life dates differ per device; only past or not matters here. */
		while (i < *n &&
		       !(ctx[i].past_eol == past && !strcmp(ctx[i].exposure, e ? e : "") &&
		         !strcmp(ctx[i].criticality, c ? c : "")))
			i++;
		if (i == *n) {
			/* Validated inventory allows at most 5 exposures × 5 criticalities × 2
			 * end-of-life states, so the cap only guards against a hand-edited
			 * database. */
			if (*n == PLAN_CONTEXTS_MAX) {
				i = *n - 1;
			} else {
				ctx[i].exposure = strdup(e ? e : "");
				ctx[i].criticality = strdup(c ? c : "");
				ctx[i].past_eol = past;
				ctx[i].devices = 0;
				(*n)++;
				if (!ctx[i].exposure || !ctx[i].criticality) {
					rc = fp_err_set(err, FP_ENOMEM, "out of memory");
					break;
				}
			}
		}
		ctx[i].devices += count;
	}
	fp_stmt_finalize(st);
	return rc < 0 ? rc : 0;
}

static void contexts_free(struct context *ctx, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ctx[i].exposure);
		free(ctx[i].criticality);
	}
}

/* The row of (manufacturer, model, firmware, release), created when new. */
static struct row *row_get(struct plan *p, const struct fp_device_rec *rec,
                           const struct release *rel, struct fp_err *err)
{
	const char *man = rec->f[FP_DEV_MANUFACTURER] ? rec->f[FP_DEV_MANUFACTURER] : "";
	size_t l = strlen(man) + strlen(rec->f[FP_DEV_MODEL]) + strlen(rec->f[FP_DEV_FIRMWARE]) +
	           strlen(rel->name) + 4;
	char *key = malloc(l);
	if (!key) {
		fp_err_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(key, l, "%s\n%s\n%s\n%s", man, rec->f[FP_DEV_MODEL], rec->f[FP_DEV_FIRMWARE],
	         rel->name);
	uintptr_t at = (uintptr_t)fp_strmap_get(p->rows, key);
	if (at) {
		free(key);
		return &p->row[at - 1];
	}
	if (p->nrows == p->caprows) {
		size_t nc = p->caprows ? p->caprows * 2 : 64;
		struct row *nr = realloc(p->row, nc * sizeof(*nr));
		if (!nr)
			goto oom;
		p->row = nr;
		p->caprows = nc;
	}
	struct row *r = &p->row[p->nrows];
	memset(r, 0, sizeof(*r));
	r->rel = rel;
	r->manufacturer = strdup(man);
	r->model = strdup(rec->f[FP_DEV_MODEL]);
	r->firmware = strdup(rec->f[FP_DEV_FIRMWARE]);
	if (!r->manufacturer || !r->model || !r->firmware ||
	    fp_strmap_put(p->rows, key, (void *)(uintptr_t)(p->nrows + 1), NULL)) {
		free(r->manufacturer);
		free(r->model);
		free(r->firmware);
		goto oom;
	}
	p->nrows++;
	free(key);
	return r;
oom:
	free(key);
	fp_err_set(err, FP_ENOMEM, "out of memory");
	return NULL;
}

/* What the configuration would match with the release: collected by fp_whatif_match(). */
static int collect(void *ctx, const char *cve_id)
{
	int added;
	return set_add(ctx, cve_id, &added);
}

/* Adds one configuration's rows: one per compatible, newer release. */
static int plan_config(struct plan *p, const char *config_key, int64_t device_id,
                       struct fp_err *err)
{
	struct fp_device_row d;
	struct cveset now = {0};
	struct context ctx[PLAN_CONTEXTS_MAX];
	size_t nctx = 0;
	int64_t devices = 0;
	int rc = fp_store_device_get(p->db, device_id, &d, err);
	if (rc)
		return rc;
	const char *model = d.rec.f[FP_DEV_MODEL], *fw = d.rec.f[FP_DEV_FIRMWARE];
	if (!model || !fw)
		goto out;
	/* The open findings that count: VEX-suppressed CVEs carry no risk to remove. */
	fp_stmt *st = NULL;
	if ((rc = fp_db_prepare(p->db,
	                        "SELECT cve_id FROM config_findings WHERE config_key = ? AND "
	                        "fixed_at IS NULL ORDER BY cve_id",
	                        &st, err)))
		goto out;
	fp_stmt_text(st, 1, config_key);
	while ((rc = fp_stmt_step(st, err)) == FP_DB_ROW) {
		const char *id = fp_stmt_col_text(st, 0);
		const struct cve_info *ci = cve_info(p, id, err);
		int added;
		if (!ci || set_add(&now, id, &added)) {
			rc = ci ? fp_err_set(err, FP_ENOMEM, "out of memory") : FP_EIO;
			break;
		}
	}
	fp_stmt_finalize(st);
	if (rc < 0)
		goto out;
	rc = 0;
	if (now.n == 0)
		goto out;
	if ((rc = load_contexts(p, config_key, ctx, &nctx, &devices, err)))
		goto out;
	char *original = strdup(fw);
	if (!original) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p->nrel && rc == 0; i++) {
		const struct release *rel = &p->rel[i];
		if (!compatible(rel, model) || fp_version_cmp(rel->version, original) <= 0)
			continue;
		struct cveset after = {0};
		struct fp_err e2 = {0};
		/* A version the inventory rules reject names no configuration to match. */
		if (fp_device_rec_set(&d.rec, "firmware_version", rel->version, &e2))
			continue;
		rc = fp_whatif_match(p->db, p->whatif, &d.rec, collect, &after, err);
		if (rc == 0 && fp_device_rec_set(&d.rec, "firmware_version", original, err))
			rc = FP_ENOMEM;
		struct row *r = rc ? NULL : row_get(p, &d.rec, rel, err);
		if (!r && rc == 0)
			rc = FP_ENOMEM;
		for (size_t k = 0; r && k < now.n && rc == 0; k++) {
			const struct cve_info *ci = fp_strmap_get(p->cves, now.id[k]);
			int added = 0;
			if (ci->suppressed || set_has(&after, now.id[k]))
				continue;
			if (set_add(&r->removed, now.id[k], &added)) {
				rc = fp_err_set(err, FP_ENOMEM, "out of memory");
				break;
			}
			r->risk_removed += risk_sum(p, ci, ctx, nctx);
			if (added) {
				r->kev_removed += ci->kev;
				r->ransomware_removed += ci->ransomware;
			}
		}
		for (size_t k = 0; r && k < after.n && rc == 0; k++) {
			if (set_has(&now, after.id[k]))
				continue;
			const struct cve_info *ci = cve_info(p, after.id[k], err);
			int added = 0;
			if (!ci) {
				rc = FP_EIO;
				break;
			}
			if (ci->suppressed)
				continue;
			if (set_add(&r->introduced, after.id[k], &added)) {
				rc = fp_err_set(err, FP_ENOMEM, "out of memory");
				break;
			}
			r->risk_introduced += risk_sum(p, ci, ctx, nctx);
			if (added)
				r->kev_introduced += ci->kev;
		}
		if (r)
			r->devices += devices;
		set_free(&after);
	}
	free(original);
out:
	contexts_free(ctx, nctx);
	set_free(&now);
	fp_device_row_free(&d);
	return rc;
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->risk_removed != y->risk_removed)
		return x->risk_removed > y->risk_removed ? -1 : 1;
	if (x->kev_removed != y->kev_removed)
		return x->kev_removed > y->kev_removed ? -1 : 1;
	int c = strcmp(x->model, y->model);
	if (c)
		return c;
	if ((c = strcmp(x->firmware, y->firmware)))
		return c;
	return strcmp(x->rel->name, y->rel->name);
}

/*
 * Per (manufacturer, model, firmware), the release that removes the most risk
 * net of what it introduces is the recommended one (on a tie, the newest);
 * a release that adds more risk than it removes is never recommended.
 */
static void recommend(struct plan *p)
{
	for (size_t i = 0; i < p->nrows; i++) {
		struct row *r = &p->row[i], *best = NULL;
		for (size_t j = 0; j < p->nrows; j++) {
			struct row *o = &p->row[j];
			if (strcmp(o->manufacturer, r->manufacturer) ||
			    strcmp(o->model, r->model) || strcmp(o->firmware, r->firmware))
				continue;
			double no = o->risk_removed - o->risk_introduced;
			if (no <= 0)
				continue;
			double nb = best ? best->risk_removed - best->risk_introduced : 0;
			if (!best || no > nb ||
			    (no == nb && fp_version_cmp(o->rel->version, best->rel->version) > 0))
				best = o;
		}
		r->recommended = best == r;
	}
}

static json_t *ids_json(const struct cveset *s)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < s->n && i < PLAN_CVES_LISTED; i++)
		json_array_append_new(a, json_string(s->id[i]));
	return a;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static json_t *row_json(const struct row *r)
{
	char summary[512];
	snprintf(summary, sizeof(summary),
	         "update %" PRId64 " device%s (%s%s%s %s) to release %s (%s): removes %zu CVE%s, "
	         "%" PRId64 " in KEV",
	         r->devices, r->devices == 1 ? "" : "s", r->manufacturer,
	         *r->manufacturer ? " " : "", r->model, r->firmware, r->rel->name, r->rel->version,
	         r->removed.n, r->removed.n == 1 ? "" : "s", r->kev_removed);
	return json_pack(
	    "{s:s,s:s,s:s,s:I,s:{s:s,s:s,s:O*},s:{s:I,s:I,s:I,s:f,s:o},s:{s:I,s:I,s:f,s:o},"
	    "s:f,s:b,s:s}",
	    "manufacturer", r->manufacturer, "model", r->model, "firmware_version", r->firmware,
	    "devices", (json_int_t)r->devices, "release", "target", r->rel->name, "version",
	    r->rel->version, "security_counter", r->rel->counter, "removes", "cves",
	    (json_int_t)r->removed.n, "kev", (json_int_t)r->kev_removed, "ransomware",
	    (json_int_t)r->ransomware_removed, "risk", round(r->risk_removed * 10) / 10, "cve_ids",
	    ids_json(&r->removed), "introduces", "cves", (json_int_t)r->introduced.n, "kev",
	    (json_int_t)r->kev_introduced, "risk", round(r->risk_introduced * 10) / 10, "cve_ids",
	    ids_json(&r->introduced), "net_risk",
	    round((r->risk_removed - r->risk_introduced) * 10) / 10, "recommended", r->recommended,
	    "summary", summary);
}

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->nrows; i++) {
		free(p->row[i].manufacturer);
		free(p->row[i].model);
		free(p->row[i].firmware);
		set_free(&p->row[i].removed);
		set_free(&p->row[i].introduced);
	}
	free(p->row);
	free(p->rel);
	json_decref(p->targets);
	fp_strmap_free(p->rows, NULL);
	fp_strmap_free(p->cves, free);
	fp_whatif_free(p->whatif);
}

/* Builds the whole plan into p (rows sorted, recommendations marked). */
static int plan_build(struct plan *p, const char *model, struct fp_err *err)
{
	int rc;
	if (fp_strmap_new(&p->cves) || fp_strmap_new(&p->rows))
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	if ((rc = fp_whatif_new(&p->whatif, err)) || (rc = load_releases(p, err)) || p->nrel == 0)
		return rc;
	/* Configurations with open findings, each through one device that runs it. */
	struct fp_config_rows cr;
	if ((rc = fp_config_rows_load(
	         p->db,
	         "SELECT d.config_key, MIN(d.id) FROM devices d WHERE d.config_key IS NOT NULL "
	         "AND (? = '' OR d.model = ?) AND EXISTS (SELECT 1 FROM config_findings f "
	         "WHERE f.config_key = d.config_key AND f.fixed_at IS NULL) GROUP BY d.config_key "
	         "ORDER BY d.config_key",
	         model, 0, &cr, err)))
		return rc;
	for (size_t i = 0; rc == 0 && i < cr.n; i++)
		rc = plan_config(p, cr.key[i], cr.id[i], err);
	fp_config_rows_free(&cr);
	if (rc)
		return rc;
	for (size_t i = 0; i < p->nrows; i++) {
		/* Listed ids are sorted so a row reads the same from run to run. */
		struct cveset *sets[] = {&p->row[i].removed, &p->row[i].introduced};
		for (size_t k = 0; k < 2; k++)
			if (sets[k]->n > 1)
				qsort(sets[k]->id, sets[k]->n, sizeof(char *), cmp_id);
	}
	recommend(p);
	if (p->nrows > 1)
		qsort(p->row, p->nrows, sizeof(*p->row), cmp_row);
	return 0;
}

/*
 * Builds the plan in one read transaction, so that it sees one state of
 * findings and releases. 0 with *p (caller frees), or the error was replied.
 */
static int plan_read(struct fp_req *r, const char *model, struct plan *p)
{
	struct fp_err err = {0};
	*p = (struct plan){.db = r->db, .w = r->srv->cfg.risk};
	int rc = fp_db_begin(r->db, &err);
	if (rc == 0)
		rc = plan_build(p, model, &err);
	fp_db_rollback(r->db);
	if (rc) {
		plan_free(p);
		fp_reply_err(r, &err);
	}
	return rc;
}

void fp_api_remediation_plan(struct fp_req *r)
{
	static const char *const q[] = {"page", "per_page", "model", "recommended", NULL};
	int64_t page, per_page;
	if (fp_req_only_query(r, q) || fp_req_paging(r, &page, &per_page))
		return;
	const char *model = fp_req_query(r, "model"), *recq = fp_req_query(r, "recommended");
	if (recq && strcmp(recq, "true") && strcmp(recq, "false")) {
		fp_reply_error(r, 400, "invalid", "recommended must be true or false");
		return;
	}
	if (model && !fp_text_valid(model, 256)) {
		fp_reply_error(r, 400, "invalid",
		               "model must be printable text of at most 256 bytes");
		return;
	}
	int only_recommended = recq && strcmp(recq, "true") == 0;
	struct plan p;
	if (plan_read(r, model, &p))
		return;
	json_t *arr = json_array();
	int64_t total = 0;
	for (size_t i = 0; i < p.nrows; i++) {
		if (only_recommended && !p.row[i].recommended)
			continue;
		if (total >= (page - 1) * per_page && total < page * per_page)
			json_array_append_new(arr, row_json(&p.row[i]));
		total++;
	}
	plan_free(&p);
	fp_reply_page(r, arr, total, page, per_page);
}

/* A filter string literal: "v" with " and \ escaped (v is printable text). */
static void quote(const char *v, char *out, size_t n)
{
	size_t k = 0;
	out[k++] = '"';
	for (; *v && k + 3 < n; v++) {
		if (*v == '"' || *v == '\\')
			out[k++] = '\\';
		out[k++] = *v;
	}
	out[k++] = '"';
	out[k] = '\0';
}

/*
 * POST /api/v1/remediation/rollouts: one row of the plan, (manufacturer,
 * model, firmware) and a release (the recommended one unless named), as a
 * draft rollout to the devices that run that firmware. Other members are
 * the rollout's specification; without phases, a 10 % canary that soaks an
 * hour, then everyone.
 */
void fp_api_remediation_rollout(struct fp_req *r)
{
	static const char *const own[] = {"manufacturer", "model", "firmware_version", NULL};
	const char *key[3];
	if (!json_is_object(r->json)) {
		fp_reply_error(r, 400, "invalid", "request body must be a JSON object");
		return;
	}
	for (int i = 0; i < 3; i++) {
		const json_t *v = json_object_get(r->json, own[i]);
		key[i] = json_string_value(v);
		if ((v || i > 0) &&
		    (!key[i] || !fp_text_valid(key[i], 256) || (i > 0 && !*key[i]))) {
			fp_reply_error(
			    r, 400, "invalid",
			    "%s: expected %stext of at most 256 bytes, as in the plan's row",
			    own[i], i > 0 ? "non-empty " : "");
			return;
		}
	}
	const char *man = key[0] ? key[0] : "", *model = key[1], *fw = key[2];
	const json_t *jrel = json_object_get(r->json, "release");
	const char *release = json_string_value(jrel);
	if (jrel && (!release || !fp_text_valid(release, 255))) {
		fp_reply_error(r, 400, "invalid", "release: expected a published target's name");
		return;
	}
	struct plan p;
	if (plan_read(r, model, &p))
		return;
	const struct row *row = NULL;
	for (size_t i = 0; i < p.nrows && !row; i++) {
		const struct row *x = &p.row[i];
		if (strcmp(x->manufacturer, man) == 0 && strcmp(x->model, model) == 0 &&
		    strcmp(x->firmware, fw) == 0 &&
		    (release ? strcmp(x->rel->name, release) == 0 : x->recommended))
			row = x;
	}
	if (!row) {
		fp_reply_error(r, 404, "not_found",
		               "the remediation plan has no row for %.64s%s%.64s %.64s%s%.200s%s "
		               "(see GET /api/v1/remediation)",
		               man, *man ? " " : "", model, fw, release ? " with release " : "",
		               release ? release : "",
		               release ? "" : " with a recommended release");
		plan_free(&p);
		return;
	}
	char qm[600], qmod[600], qfw[600], filter[2048], name[160];
	quote(man, qm, sizeof(qm));
	quote(model, qmod, sizeof(qmod));
	quote(fw, qfw, sizeof(qfw));
	snprintf(filter, sizeof(filter), "model == %s and firmware_version == %s%s%s", qmod, qfw,
	         *man ? " and manufacturer == " : "", *man ? qm : "");
	snprintf(name, sizeof(name), "remediate %.40s %.40s to %.60s", model, fw,
	         row->rel->version);
	json_t *body = json_deep_copy(r->json);
	for (int i = 0; body && i < 3; i++)
		json_object_del(body, own[i]);
	if (body) {
		json_object_set_new(body, "release", json_string(row->rel->name));
		json_object_set_new(body, "filter", json_string(filter));
		if (!json_object_get(body, "name"))
			json_object_set_new(body, "name", json_string(name));
		if (!json_object_get(body, "phases"))
			json_object_set_new(body, "phases",
			                    json_pack("[{s:s,s:i,s:s},{s:s,s:i}]", "name", "canary",
			                              "percent", 10, "soak", "1h", "name", "all",
			                              "percent", 100));
	}
	plan_free(&p);
	if (!body) {
		fp_reply_error(r, 500, "internal", "out of memory");
		return;
	}
	fp_rollout_create_draft(r, body);
	json_decref(body);
}
