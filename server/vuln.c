/*
 * vuln.c — assessment: devices × CVEs, with work proportional to the number
 * of distinct configurations (see docs/design/vulnerabilities.md).
 *
 * Devices that share an inventory configuration (model, firmware,
 * components: devices.config_key) are matched once. A configuration's CPE
 * set comes from lib/platform (with the operators' model → CPE mapping);
 * its candidate CVEs are those indexed under one of its CPEs'
 * "vendor:product" keys (cve_keys); each candidate's configurations are
 * evaluated with NVD's semantics (lib/nvd_match). Matches are stored per
 * configuration (config_findings); per device only the exposure windows
 * (first seen, fixed) are written, and only when they change.
 */
#include "vuln.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/cpe.h"
#include "fleetpatch/nvd_match.h"
#include "fleetpatch/platform.h"
#include "store_devices.h"

/* Parsed CVE configurations, cached for one assessment run. */
struct cve_cache {
	char **ids;
	struct fp_nvd_configs *cfg;
	size_t n, cap;
};

static void cache_free(struct cve_cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->ids[i]);
		fp_nvd_configs_free(&c->cfg[i]);
	}
	free(c->ids);
	free(c->cfg);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Finds or loads the configurations of CVE id; NULL when unusable. */
static const struct fp_nvd_configs *cache_get(fp_db *db, struct cve_cache *c, const char *id,
                                              struct fp_err *err)
{
	/* Small linear cache ordered by insertion; runs touch few thousand CVEs. */
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->ids[i], id) == 0)
			return &c->cfg[i];
	fp_stmt *st = NULL;
	const struct fp_nvd_configs *res = NULL;
	if (fp_db_prepare(db, "SELECT configurations FROM cves WHERE id = ?", &st, err))
		return NULL;
	fp_stmt_text(st, 1, id);
	if (fp_stmt_step(st, err) != FP_DB_ROW)
		goto out;
	const char *text = fp_stmt_col_text(st, 0);
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		char **ni = realloc(c->ids, ncap * sizeof(*ni));
		if (ni)
			c->ids = ni;
		struct fp_nvd_configs *nc = realloc(c->cfg, ncap * sizeof(*nc));
		if (nc)
			c->cfg = nc;
		if (!ni || !nc) {
			json_decref(j);
			goto out;
		}
		c->cap = ncap;
	}
	struct fp_nvd_configs *slot = &c->cfg[c->n];
	memset(slot, 0, sizeof(*slot));
	if (j && fp_nvd_configs_from_json(j, slot, NULL) != 0)
		memset(slot, 0, sizeof(*slot));
	json_decref(j);
	if (!(c->ids[c->n] = strdup(id))) {
		fp_nvd_configs_free(slot);
		goto out;
	}
	res = &c->cfg[c->n++];
out:
	fp_stmt_finalize(st);
	return res;
}

/* The operators' model → CPE mapping for a device, if any. */
static int load_map(fp_db *db, const struct fp_device_rec *rec, char **fw, char **hw)
{
	*fw = *hw = NULL;
	if (!rec->f[FP_DEV_MANUFACTURER] || !rec->f[FP_DEV_MODEL])
		return 0;
	fp_stmt *st = NULL;
	if (fp_db_prepare(
	        db,
	        "SELECT firmware_cpe, hardware_cpe FROM model_cpes WHERE manufacturer = ? "
	        "AND model = ?",
	        &st, NULL))
		return FP_EIO;
	fp_stmt_text(st, 1, rec->f[FP_DEV_MANUFACTURER]);
	fp_stmt_text(st, 2, rec->f[FP_DEV_MODEL]);
	if (fp_stmt_step(st, NULL) == FP_DB_ROW) {
		const char *a = fp_stmt_col_text(st, 0), *b = fp_stmt_col_text(st, 1);
		*fw = a ? strdup(a) : NULL;
		*hw = b ? strdup(b) : NULL;
	}
	fp_stmt_finalize(st);
	return 0;
}

/* The components of the device's firmware image, from its uploaded SBOM. */
static int load_sbom(fp_db *db, const struct fp_device_rec *rec, struct fp_device_rec *out,
                     struct fp_err *err)
{
	const char *man = rec->f[FP_DEV_MANUFACTURER], *model = rec->f[FP_DEV_MODEL];
	const char *fw = rec->f[FP_DEV_FIRMWARE];
	if (!man || !model || !fw)
		return 0;
	fp_stmt *st = NULL;
	int rc = fp_db_prepare(db,
	                       "SELECT components FROM firmware_sboms WHERE manufacturer = ? AND "
	                       "model = ? AND firmware = ?",
	                       &st, err);
	if (rc)
		return rc;
	fp_stmt_text(st, 1, man);
	fp_stmt_text(st, 2, model);
	fp_stmt_text(st, 3, fw);
	if (fp_stmt_step(st, NULL) == FP_DB_ROW) {
		json_t *arr = json_loads(fp_stmt_col_text(st, 0), 0, NULL);
		json_t *obj = json_pack("{s:o}", "components", arr ? arr : json_array());
		rc = fp_device_rec_from_json(out, obj, NULL, err);
		json_decref(obj);
	}
	fp_stmt_finalize(st);
	return rc;
}

static int key_dirty(const char *key, char *const *dirty, size_t n)
{
	return bsearch(&key, dirty, n, sizeof(*dirty), cmp_str) != NULL;
}

/* Matches one configuration and replaces its stored findings. */
static int match_config(fp_db *db, const char *config_key, int64_t device_id,
                        struct cve_cache *cache, char *const *dirty, size_t n_dirty, int *skipped,
                        struct fp_assess_report *rep, struct fp_err *err)
{
	struct fp_device_row d;
	struct fp_device_rec image;
	struct fp_cpe *cpes = NULL;
	size_t n = 0;
	char *fw = NULL, *hw = NULL, *platform = NULL;
	fp_device_rec_init(&image);
	char **cands = NULL;
	size_t ncand = 0, capcand = 0;
	fp_stmt *st = NULL;
	int rc = fp_store_device_get(db, device_id, &d, err);
	if (rc) {
		fp_device_rec_free(&image);
		return rc;
	}
	if ((rc = load_map(db, &d.rec, &fw, &hw)) || (rc = load_sbom(db, &d.rec, &image, err)))
		goto out;
	struct fp_platform_map map = {fw, hw, image.components, image.n_components};
	if ((rc = fp_platform_cpes(&d.rec, &map, &cpes, &n, err)))
		goto out;
	/* The platform text (one CPE per line) is stored to detect later changes. */
	size_t plen = 0;
	platform = calloc(1, (size_t)n * FP_CPE_MAX + 1);
	if (!platform) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	int any_dirty = dirty == NULL;
	for (size_t i = 0; i < n; i++) {
		char name[FP_CPE_MAX + 1], key[FP_CPE_MAX + 1];
		if (fp_cpe_format(&cpes[i], name, sizeof(name)) ||
		    fp_cpe_key(&cpes[i], key, sizeof(key)))
			continue;
		size_t l = strlen(name);
		memcpy(platform + plen, name, l);
		platform[plen + l] = '\n';
		plen += l + 1;
		if (!any_dirty && key_dirty(key, dirty, n_dirty))
			any_dirty = 1;
		if ((rc = fp_db_prepare(db, "SELECT cve_id FROM cve_keys WHERE key = ?", &st, err)))
			goto out;
		fp_stmt_text(st, 1, key);
		while (fp_stmt_step(st, NULL) == FP_DB_ROW) {
			if (ncand == capcand) {
				size_t nc = capcand ? capcand * 2 : 64;
				char **nn = realloc(cands, nc * sizeof(*nn));
				if (!nn) {
					rc = fp_err_set(err, FP_ENOMEM, "out of memory");
					goto out;
				}
				cands = nn;
				capcand = nc;
			}
			if (!(cands[ncand] = strdup(fp_stmt_col_text(st, 0)))) {
				rc = fp_err_set(err, FP_ENOMEM, "out of memory");
				goto out;
			}
			ncand++;
		}
		fp_stmt_finalize(st);
		st = NULL;
	}
	/* A known configuration whose products' CVEs did not change keeps its findings. */
	int64_t known = 0;
	if (!any_dirty &&
	    fp_db_run(db, NULL, &known,
	              "SELECT COUNT(*) FROM assessed_configs WHERE config_key = ? AND platform = ?",
	              "ss", config_key, platform) == 0 &&
	    known) {
		*skipped = 1;
		goto out;
	}
	if ((rc = fp_db_run(db, err, NULL, "DELETE FROM config_findings WHERE config_key = ?", "s",
	                    config_key)))
		goto out;
	if (ncand > 1)
		qsort(cands, ncand, sizeof(*cands), cmp_str);
	for (size_t i = 0; i < ncand; i++) {
		if (i > 0 && strcmp(cands[i], cands[i - 1]) == 0)
			continue;
		rep->candidates++;
		const struct fp_nvd_configs *cfg = cache_get(db, cache, cands[i], err);
		size_t m = 0;
		if (!cfg || !fp_nvd_applies(cfg, cpes, n, &m))
			continue;
		char name[FP_CPE_MAX + 1];
		if (fp_cpe_format(&cpes[m], name, sizeof(name)))
			name[0] = '\0';
		if ((rc = fp_db_run(db, err, NULL,
		                    "INSERT INTO config_findings (config_key, cve_id, matched_cpe) "
		                    "VALUES (?, ?, ?)",
		                    "sss", config_key, cands[i], name)))
			goto out;
		rep->findings++;
	}
	char now[32];
	fp_time_rfc3339(fp_now_s(), now);
	rc =
	    fp_db_run(db, err, NULL,
	              "INSERT INTO assessed_configs (config_key, platform, assessed_at) VALUES (?, "
	              "?, ?) ON CONFLICT (config_key) DO UPDATE SET platform = excluded.platform, "
	              "assessed_at = excluded.assessed_at",
	              "sss", config_key, platform, now);
	rep->configs_matched++;
out:
	fp_stmt_finalize(st);
	for (size_t i = 0; i < ncand; i++)
		free(cands[i]);
	free(cands);
	free(platform);
	free(fw);
	free(hw);
	fp_platform_free(cpes, n);
	fp_device_rec_free(&image);
	fp_device_row_free(&d);
	return rc;
}

/* Brings the exposure windows of a configuration's devices up to date. */
static int update_exposures(fp_db *db, const char *config_key, struct fp_assess_report *rep,
                            struct fp_err *err)
{
	char now[32];
	fp_time_rfc3339(fp_now_s(), now);
	int rc = fp_db_run(db, err, NULL,
	                   "INSERT INTO exposures (device_id, cve_id, first_seen) SELECT d.id, "
	                   "f.cve_id, ? FROM devices d JOIN config_findings f ON f.config_key = "
	                   "d.config_key WHERE d.config_key = ? ON CONFLICT (device_id, cve_id) DO "
	                   "UPDATE SET fixed_at = NULL WHERE exposures.fixed_at IS NOT NULL",
	                   "ss", now, config_key);
	if (rc == 0)
		rc = fp_db_run(
		    db, err, NULL,
		    "UPDATE exposures SET fixed_at = ? WHERE fixed_at IS NULL AND device_id "
		    "IN (SELECT id FROM devices WHERE config_key = ?) AND cve_id NOT IN "
		    "(SELECT cve_id FROM config_findings WHERE config_key = ?)",
		    "sss", now, config_key, config_key);
	if (rc == 0)
		rc = fp_db_run(
		    db, err, NULL,
		    "UPDATE devices SET assessed_key = config_key WHERE config_key = ? AND "
		    "(assessed_key IS NULL OR assessed_key <> config_key)",
		    "s", config_key);
	if (rc == 0)
		rep->devices_updated += fp_db_changes(db);
	return rc;
}

int fp_assess(fp_db *db, char *const *dirty_keys, size_t n_dirty, struct fp_assess_report *rep,
              atomic_long *done, atomic_long *total, struct fp_err *err)
{
	struct cve_cache cache = {0};
	fp_stmt *st = NULL;
	char **keys = NULL;
	int64_t *ids = NULL;
	int *moved = NULL;
	size_t n = 0, cap = 0;
	memset(rep, 0, sizeof(*rep));
	int64_t t0 = fp_now_us();
	/* One representative device per configuration, and whether any device moved to it. */
	int rc = fp_db_prepare(db,
	                       "SELECT config_key, MIN(id), SUM(CASE WHEN assessed_key IS NULL OR "
	                       "assessed_key <> config_key THEN 1 ELSE 0 END) FROM devices WHERE "
	                       "config_key IS NOT NULL GROUP BY config_key ORDER BY config_key",
	                       &st, err);
	if (rc)
		return rc;
	while ((rc = fp_stmt_step(st, err)) == FP_DB_ROW) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			char **nk = realloc(keys, nc * sizeof(*nk));
			if (nk)
				keys = nk;
			int64_t *ni = realloc(ids, nc * sizeof(*ni));
			if (ni)
				ids = ni;
			int *nm = realloc(moved, nc * sizeof(*nm));
			if (nm)
				moved = nm;
			if (!nk || !ni || !nm) {
				rc = fp_err_set(err, FP_ENOMEM, "out of memory");
				goto out;
			}
			cap = nc;
		}
		if (!(keys[n] = strdup(fp_stmt_col_text(st, 0)))) {
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
			goto out;
		}
		ids[n] = fp_stmt_col_int(st, 1);
		moved[n] = fp_stmt_col_int(st, 2) > 0;
		n++;
	}
	fp_stmt_finalize(st);
	st = NULL;
	if (rc < 0)
		goto out;
	char **dirty = NULL;
	if (dirty_keys) {
		dirty = (char **)dirty_keys;
		qsort(dirty, n_dirty, sizeof(*dirty), cmp_str);
	}
	rep->configs_total = (int64_t)n;
	if (total)
		atomic_store(total, (long)n);
	for (size_t i = 0; i < n; i++) {
		if (done)
			atomic_store(done, (long)i);
		int skipped = 0;
		if ((rc = match_config(db, keys[i], ids[i], &cache, dirty_keys ? dirty : NULL,
		                       n_dirty, &skipped, rep, err)))
			goto out;
		if ((!skipped || moved[i]) && (rc = update_exposures(db, keys[i], rep, err)))
			goto out;
	}
	/* Configurations no device has any more. */
	rc =
	    fp_db_run(db, err, NULL,
	              "DELETE FROM config_findings WHERE config_key NOT IN (SELECT config_key FROM "
	              "devices WHERE config_key IS NOT NULL)",
	              NULL);
	if (rc == 0)
		rc = fp_db_run(
		    db, err, NULL,
		    "DELETE FROM assessed_configs WHERE config_key NOT IN (SELECT config_key "
		    "FROM devices WHERE config_key IS NOT NULL)",
		    NULL);
out:
	rep->elapsed_ms = (fp_now_us() - t0) / 1000;
	fp_stmt_finalize(st);
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	free(ids);
	free(moved);
	cache_free(&cache);
	return rc;
}

struct backfill {
	fp_db *db;
	struct fp_err *err;
};

static int backfill_one(void *ctx, struct fp_device_row *d)
{
	struct backfill *b = ctx;
	char key[65];
	if (fp_device_config_key(&d->rec, key))
		return fp_err_set(b->err, FP_ENOMEM, "out of memory");
	return fp_db_run(
	    b->db, b->err, NULL,
	    "UPDATE devices SET config_key = ?, exposure = ?, criticality = ?, eol_date "
	    "= ? WHERE id = ?",
	    "ssssi", key, d->rec.f[FP_DEV_EXPOSURE], d->rec.f[FP_DEV_CRITICALITY],
	    d->rec.f[FP_DEV_EOL_DATE], d->id);
}

int fp_vuln_backfill(struct fp_server *s, struct fp_err *err)
{
	fp_db *db = fp_db_pool_get(s->pool);
	struct backfill b = {db, err};
	int rc = fp_db_begin(db, err);
	if (rc == 0)
		rc = fp_store_device_each(db, "WHERE config_key IS NULL", 0, backfill_one, &b, err);
	if (rc == 0)
		rc = fp_db_commit(db, err);
	fp_db_rollback(db);
	fp_db_pool_put(s->pool, db);
	return rc;
}
