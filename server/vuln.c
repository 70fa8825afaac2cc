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
 * configuration with the time each was first seen and fixed
 * (config_findings); per device only the intervals during which it ran a
 * configuration are stored (device_configs), written when a device changes
 * configuration. A device's exposure window for a CVE is the overlap of the
 * two, so nothing is written per device and CVE.
 */
#include "vuln.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/cpe.h"
#include "fleetpatch/nvd_match.h"
#include "fleetpatch/platform.h"
#include "fleetpatch/strmap.h"
#include "store_devices.h"

/* A CVE as the assessment needs it: its parsed configurations and every
 * "vendor:product" key its criteria name (sorted), so a configuration's CPEs
 * can be narrowed to the ones that could match before evaluating. */
struct cve_entry {
	char *id;
	struct fp_nvd_configs cfg;
	char **keys;
	size_t nkeys;
};

/* The CVEs indexed under one key. */
struct cand_list {
	struct cve_entry **e;
	size_t n;
};

/* Caches of one assessment run: CVE id → entry, key → candidates. */
struct run {
	struct fp_strmap *cves, *cands;
	struct fp_strmap *alone; /* CPE name → struct name_result */
	int64_t id;              /* marks the findings seen in this run */
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void entry_free(void *p)
{
	struct cve_entry *e = p;
	if (!e)
		return;
	for (size_t i = 0; i < e->nkeys; i++)
		free(e->keys[i]);
	free(e->keys);
	fp_nvd_configs_free(&e->cfg);
	free(e->id);
	free(e);
}

static void cand_free(void *p)
{
	struct cand_list *l = p;
	if (l) {
		free(l->e);
		free(l);
	}
}

static int entry_keys(struct cve_entry *e)
{
	size_t cap = 0;
	for (size_t c = 0; c < e->cfg.n; c++)
		for (size_t n = 0; n < e->cfg.c[c].n; n++)
			cap += e->cfg.c[c].nodes[n].n;
	if (!cap)
		return 0;
	if (!(e->keys = calloc(cap, sizeof(*e->keys))))
		return FP_ENOMEM;
	for (size_t c = 0; c < e->cfg.n; c++)
		for (size_t n = 0; n < e->cfg.c[c].n; n++)
			for (size_t m = 0; m < e->cfg.c[c].nodes[n].n; m++) {
				char key[FP_CPE_MAX + 1];
				if (fp_cpe_key(&e->cfg.c[c].nodes[n].m[m].criteria, key,
				               sizeof(key)))
					continue;
				if (!(e->keys[e->nkeys] = strdup(key)))
					return FP_ENOMEM;
				e->nkeys++;
			}
	qsort(e->keys, e->nkeys, sizeof(*e->keys), cmp_str);
	return 0;
}

int fp_vuln_config_keys(const struct fp_nvd_configs *cfg, int (*fn)(void *ctx, const char *key),
                        void *ctx)
{
	struct cve_entry e = {.cfg = *cfg};
	int rc = entry_keys(&e);
	for (size_t i = 0; rc == 0 && i < e.nkeys; i++)
		if (i == 0 || strcmp(e.keys[i], e.keys[i - 1]) != 0)
			rc = fn(ctx, e.keys[i]);
	for (size_t i = 0; i < e.nkeys; i++)
		free(e.keys[i]);
	free(e.keys);
	return rc;
}

/* Finds or loads CVE id; NULL when it cannot be used. */
static struct cve_entry *cve_get(fp_db *db, struct run *run, const char *id, struct fp_err *err)
{
	struct cve_entry *e = fp_strmap_get(run->cves, id);
	if (e)
		return e;
	fp_stmt *st = NULL;
	if (fp_db_prepare(db, "SELECT configurations FROM cves WHERE id = ?", &st, err))
		return NULL;
	fp_stmt_text(st, 1, id);
	json_t *j = NULL;
	if (fp_stmt_step(st, err) == FP_DB_ROW && fp_stmt_col_text(st, 0))
		j = json_loads(fp_stmt_col_text(st, 0), 0, NULL);
	fp_stmt_finalize(st);
	if (!(e = calloc(1, sizeof(*e))) || !(e->id = strdup(id)))
		goto fail;
	/* Configurations were validated on import; one that no longer parses matches nothing. */
	if (j && fp_nvd_configs_from_json(j, &e->cfg, NULL) != 0)
		memset(&e->cfg, 0, sizeof(e->cfg));
	if (entry_keys(e) || fp_strmap_put(run->cves, id, e, NULL))
		goto fail;
	json_decref(j);
	return e;
fail:
	json_decref(j);
	entry_free(e);
	return NULL;
}

/* The CVEs indexed under key, loaded once per run. */
static struct cand_list *cands_get(fp_db *db, struct run *run, const char *key, struct fp_err *err)
{
	struct cand_list *l = fp_strmap_get(run->cands, key);
	if (l)
		return l;
	if (!(l = calloc(1, sizeof(*l))))
		return NULL;
	char **ids = NULL;
	size_t n = 0, cap = 0;
	fp_stmt *st = NULL;
	int ok = fp_db_prepare(db, "SELECT cve_id FROM cve_keys WHERE key = ?", &st, err) == 0;
	if (ok) {
		fp_stmt_text(st, 1, key);
		while (ok && fp_stmt_step(st, NULL) == FP_DB_ROW) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 16;
				char **ni = realloc(ids, nc * sizeof(*ni));
				if (!ni) {
					ok = 0;
					break;
				}
				ids = ni;
				cap = nc;
			}
			if (!(ids[n] = strdup(fp_stmt_col_text(st, 0))))
				ok = 0;
			else
				n++;
		}
		fp_stmt_finalize(st);
	}
	if (ok && n && !(l->e = calloc(n, sizeof(*l->e))))
		ok = 0;
	for (size_t i = 0; ok && i < n; i++) {
		struct cve_entry *e = cve_get(db, run, ids[i], err);
		if (!e)
			ok = 0;
		else
			l->e[l->n++] = e;
	}
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	if (!ok || fp_strmap_put(run->cands, key, l, NULL)) {
		cand_free(l);
		return NULL;
	}
	return l;
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

/*
 * What each CVE indexed under a CPE's product says about that CPE alone:
 * 1 when it applies, 0 when not, in the order of the product's candidate
 * list. Many configurations share a component at one version, so this is
 * worked out once per distinct CPE name and run.
 */
struct name_result {
	unsigned char *applies;
};

static void name_result_free(void *p)
{
	struct name_result *r = p;
	if (r) {
		free(r->applies);
		free(r);
	}
}

static const unsigned char *alone(struct run *run, const char *name, const struct fp_cpe *cpe,
                                  const struct cand_list *l)
{
	struct name_result *r = fp_strmap_get(run->alone, name);
	if (r)
		return r->applies;
	if (!(r = calloc(1, sizeof(*r))) || !(r->applies = calloc(l->n ? l->n : 1, 1))) {
		name_result_free(r);
		return NULL;
	}
	for (size_t j = 0; j < l->n; j++) {
		size_t m = 0;
		r->applies[j] = (unsigned char)fp_nvd_applies(&l->e[j]->cfg, cpe, 1, &m);
	}
	if (fp_strmap_put(run->alone, name, r, NULL)) {
		name_result_free(r);
		return NULL;
	}
	return r->applies;
}

struct pair {
	struct cve_entry *e;
	size_t i; /* the configuration's CPE */
	size_t j; /* e's place in the candidate list of that CPE's product */
};

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	uintptr_t px = (uintptr_t)x->e, py = (uintptr_t)y->e;
	if (px != py)
		return (px > py) - (px < py);
	return (x->i > y->i) - (x->i < y->i);
}

/* Appends s and a separator to a growing text buffer; returns the copy's offset. */
static int text_add(char **buf, size_t *len, size_t *cap, const char *s, char sep, size_t *at)
{
	size_t l = strlen(s);
	if (*len + l + 2 > *cap) {
		size_t nc = (*cap + l + 2) * 2;
		char *nb = realloc(*buf, nc);
		if (!nb)
			return FP_ENOMEM;
		*buf = nb;
		*cap = nc;
	}
	*at = *len;
	memcpy(*buf + *len, s, l);
	(*buf)[*len + l] = sep;
	(*buf)[*len + l + 1] = '\0';
	*len += l + 1;
	return 0;
}

/* The configuration's distinct product keys, sorted, one per line (caller frees). */
static char *key_list(const char *keytext, const size_t *key_at, size_t n)
{
	const char **k = calloc(n ? n : 1, sizeof(*k));
	size_t m = 0, len = 1;
	for (size_t i = 0; k && i < n; i++)
		if (keytext[key_at[i]]) {
			k[m++] = keytext + key_at[i];
			len += strlen(keytext + key_at[i]) + 1;
		}
	char *out = k ? malloc(len) : NULL;
	if (out) {
		qsort(k, m, sizeof(*k), cmp_str);
		size_t o = 0;
		for (size_t i = 0; i < m; i++) {
			if (i && strcmp(k[i], k[i - 1]) == 0)
				continue;
			size_t l = strlen(k[i]);
			memcpy(out + o, k[i], l);
			out[o + l] = '\n';
			o += l + 1;
		}
		out[o] = '\0';
	}
	free(k);
	return out;
}

/* Whether a stored key list names one of the dirty keys. */
static int list_dirty(const char *list, char *const *dirty, size_t n_dirty)
{
	char key[FP_CPE_MAX + 1];
	while (*list) {
		size_t l = strcspn(list, "\n");
		if (l < sizeof(key)) {
			memcpy(key, list, l);
			key[l] = '\0';
			if (key_dirty(key, dirty, n_dirty))
				return 1;
		}
		list += l + (list[l] == '\n');
	}
	return 0;
}

/* Receives each CVE a configuration matches, instead of storing it. */
struct match_sink {
	int (*fn)(void *ctx, const char *cve_id);
	void *ctx;
};

/*
 * Matches the configuration of rec. With config_key, its stored findings are
 * updated (and a known configuration none of whose products is dirty is
 * skipped); without, each match goes to sink and nothing is written.
 */
static int match_rec(fp_db *db, const char *config_key, const struct fp_device_rec *rec,
                     struct run *run, char *const *dirty, size_t n_dirty, int *skipped,
                     struct fp_assess_report *rep, const struct match_sink *sink,
                     struct fp_err *err)
{
	struct fp_device_rec image;
	struct fp_cpe *cpes = NULL, *sub = NULL;
	size_t n = 0, *idx = NULL, *name_at = NULL, *key_at = NULL;
	char *fw = NULL, *hw = NULL;
	char *platform = NULL, *keytext = NULL; /* names ('\n'-separated) and keys ('\0') */
	size_t plen = 0, pcap = 0, klen = 0, kcap = 0;
	struct cand_list **lists = NULL;
	const unsigned char **single = NULL;
	struct pair *pairs = NULL;
	size_t npairs = 0, cappairs = 0;
	fp_device_rec_init(&image);
	int rc;
	if ((rc = load_map(db, rec, &fw, &hw)) || (rc = load_sbom(db, rec, &image, err)))
		goto out;
	struct fp_platform_map map = {fw, hw, image.components, image.n_components};
	if ((rc = fp_platform_cpes(rec, &map, &cpes, &n, err)))
		goto out;
	size_t m1 = n ? n : 1;
	idx = calloc(m1, sizeof(*idx));
	name_at = calloc(m1, sizeof(*name_at));
	key_at = calloc(m1, sizeof(*key_at));
	sub = calloc(m1, sizeof(*sub));
	lists = calloc(m1, sizeof(*lists));
	single = calloc(m1, sizeof(*single));
	if (!idx || !name_at || !key_at || !sub || !lists || !single) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	/* The platform text (one CPE per line) is stored to detect later changes. */
	int any_dirty = dirty == NULL;
	for (size_t i = 0; i < n; i++) {
		char name[FP_CPE_MAX + 1], key[FP_CPE_MAX + 1];
		if (fp_cpe_format(&cpes[i], name, sizeof(name)) ||
		    fp_cpe_key(&cpes[i], key, sizeof(key)))
			name[0] = key[0] = '\0';
		if (text_add(&platform, &plen, &pcap, name, '\n', &name_at[i]) ||
		    text_add(&keytext, &klen, &kcap, key, '\0', &key_at[i])) {
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
			goto out;
		}
		if (!any_dirty && key[0] && key_dirty(key, dirty, n_dirty))
			any_dirty = 1;
	}
	/* A known configuration whose products' CVEs did not change keeps its findings. */
	int64_t known = 0;
	if (config_key && !any_dirty &&
	    fp_db_run(db, NULL, &known,
	              "SELECT COUNT(*) FROM assessed_configs WHERE config_key = ? AND platform = ?",
	              "ss", config_key, platform ? platform : "") == 0 &&
	    known) {
		*skipped = 1;
		goto out;
	}
	char now[32];
	fp_time_rfc3339_ms(fp_now_us(), now); /* ms: windows can be short */
	/* (candidate CVE, CPE) pairs: a CVE meets exactly the CPEs whose product it names. */
	for (size_t i = 0; i < n; i++) {
		const char *key = keytext + key_at[i];
		if (!key[0])
			continue;
		if (!(lists[i] = cands_get(db, run, key, err))) {
			rc = fp_err_set(err, FP_ENOMEM, "cannot load the CVEs of %s", key);
			goto out;
		}
		if (npairs + lists[i]->n > cappairs) {
			size_t nc = (cappairs + lists[i]->n) * 2;
			struct pair *np = realloc(pairs, nc * sizeof(*np));
			if (!np) {
				rc = fp_err_set(err, FP_ENOMEM, "out of memory");
				goto out;
			}
			pairs = np;
			cappairs = nc;
		}
		for (size_t j = 0; j < lists[i]->n; j++)
			pairs[npairs++] = (struct pair){lists[i]->e[j], i, j};
	}
	if (npairs > 1)
		qsort(pairs, npairs, sizeof(*pairs), cmp_pair);
	for (size_t c = 0; c < npairs;) {
		struct cve_entry *e = pairs[c].e;
		size_t k = 0, first = c;
		for (; c < npairs && pairs[c].e == e; c++)
			if (k == 0 || idx[k - 1] != pairs[c].i) {
				sub[k] = cpes[pairs[c].i];
				idx[k++] = pairs[c].i;
			}
		rep->candidates++;
		size_t m = 0;
		int applies;
		if (k == 1) {
			/* The common case: the CVE names one of the configuration's products. */
			size_t i = idx[0];
			if (!single[i]) {
				char name[FP_CPE_MAX + 1];
				size_t l = strcspn(platform + name_at[i], "\n");
				memcpy(name, platform + name_at[i], l);
				name[l] = '\0';
				if (!(single[i] = alone(run, name, &cpes[i], lists[i]))) {
					rc = fp_err_set(err, FP_ENOMEM, "out of memory");
					goto out;
				}
			}
			applies = single[i][pairs[first].j];
		} else {
			applies = fp_nvd_applies(&e->cfg, sub, k, &m);
		}
		if (!applies)
			continue;
		if (sink) {
			if ((rc = sink->fn(sink->ctx, e->id)))
				goto out;
			continue;
		}
		char matched[FP_CPE_MAX + 1];
		size_t l = strcspn(platform + name_at[idx[m]], "\n");
		memcpy(matched, platform + name_at[idx[m]], l);
		matched[l] = '\0';
		/* A finding seen before keeps its first-seen time; a fixed one reopens. */
		if ((rc = fp_db_run(
		         db, err, NULL,
		         "INSERT INTO config_findings (config_key, cve_id, matched_cpe, "
		         "first_seen, seen_run) VALUES (?, ?, ?, ?, ?) ON CONFLICT "
		         "(config_key, cve_id) DO UPDATE SET matched_cpe = "
		         "excluded.matched_cpe, seen_run = excluded.seen_run, fixed_at = NULL",
		         "ssssi", config_key, e->id, matched, now, run->id)))
			goto out;
		rep->findings++;
	}
	if (!config_key)
		goto out;
	/* What matched before and not now is fixed (a feed change or a new mapping). */
	if ((rc = fp_db_run(db, err, NULL,
	                    "UPDATE config_findings SET fixed_at = ? WHERE config_key = ? AND "
	                    "fixed_at IS NULL AND seen_run <> ?",
	                    "ssi", now, config_key, run->id)))
		goto out;
	char *keylist = key_list(keytext, key_at, n);
	if (!keylist) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	rc = fp_db_run(
	    db, err, NULL,
	    "INSERT INTO assessed_configs (config_key, platform, keys, assessed_at) VALUES "
	    "(?, ?, ?, ?) ON CONFLICT (config_key) DO UPDATE SET platform = "
	    "excluded.platform, keys = excluded.keys, assessed_at = excluded.assessed_at",
	    "ssss", config_key, platform ? platform : "", keylist, now);
	free(keylist);
	rep->configs_matched++;
out:
	free(pairs);
	free(single);
	free(lists);
	free(sub); /* a shallow copy of cpes: its strings belong to cpes */
	free(idx);
	free(name_at);
	free(key_at);
	free(keytext);
	free(platform);
	free(fw);
	free(hw);
	fp_platform_free(cpes, n);
	fp_device_rec_free(&image);
	return rc;
}

/* Matches one configuration, through a device that runs it, and updates its stored findings. */
static int match_config(fp_db *db, const char *config_key, int64_t device_id, struct run *run,
                        char *const *dirty, size_t n_dirty, int *skipped,
                        struct fp_assess_report *rep, struct fp_err *err)
{
	struct fp_device_row d;
	int rc = fp_store_device_get(db, device_id, &d, err);
	if (rc)
		return rc;
	rc = match_rec(db, config_key, &d.rec, run, dirty, n_dirty, skipped, rep, NULL, err);
	fp_device_row_free(&d);
	return rc;
}

/* Records, for devices that moved to this configuration, the end of their
 * previous interval and the start of this one. */
static int update_intervals(fp_db *db, const char *config_key, struct fp_assess_report *rep,
                            struct fp_err *err)
{
	char now[32];
	fp_time_rfc3339_ms(fp_now_us(), now); /* ms: windows can be short */
	int rc =
	    fp_db_run(db, err, NULL,
	              "UPDATE device_configs SET until = ? WHERE until IS NULL AND device_id IN "
	              "(SELECT id FROM devices WHERE config_key = ? AND (assessed_key IS NULL OR "
	              "assessed_key <> config_key))",
	              "ss", now, config_key);
	if (rc == 0)
		rc = fp_db_run(
		    db, err, NULL,
		    "INSERT INTO device_configs (device_id, config_key, since) SELECT id, "
		    "config_key, ? FROM devices WHERE config_key = ? AND (assessed_key IS "
		    "NULL OR assessed_key <> config_key)",
		    "ss", now, config_key);
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

int fp_assess(fp_db *db, char *const *dirty_keys, size_t n_dirty, const char *only_key,
              struct fp_assess_report *rep, atomic_long *done, atomic_long *total,
              struct fp_err *err)
{
	struct run run = {0};
	fp_stmt *st = NULL;
	char **keys = NULL;
	int64_t *ids = NULL;
	int *moved = NULL;
	size_t n = 0, cap = 0;
	memset(rep, 0, sizeof(*rep));
	int64_t t0 = fp_now_us();
	run.id = t0;
	int rc = 0;
	if (fp_strmap_new(&run.cves) || fp_strmap_new(&run.cands) || fp_strmap_new(&run.alone)) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	/* One representative device per configuration, and whether any device moved to it. */
	rc = fp_db_prepare(db,
	                   "SELECT config_key, MIN(id), SUM(CASE WHEN assessed_key IS NULL OR "
	                   "assessed_key <> config_key THEN 1 ELSE 0 END) FROM devices WHERE "
	                   "config_key IS NOT NULL AND (? = '' OR config_key = ?) GROUP BY "
	                   "config_key ORDER BY config_key",
	                   &st, err);
	if (rc)
		goto out;
	fp_stmt_text(st, 1, only_key ? only_key : "");
	fp_stmt_text(st, 2, only_key ? only_key : "");
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
		/* Incremental runs skip a known configuration none of whose products
		 * changed, without loading it. */
		if (dirty_keys && !moved[i]) {
			fp_stmt *k = NULL;
			int known = 0, hit = 0;
			if ((rc = fp_db_prepare(
			         db, "SELECT keys FROM assessed_configs WHERE config_key = ?", &k,
			         err)))
				goto out;
			fp_stmt_text(k, 1, keys[i]);
			if (fp_stmt_step(k, NULL) == FP_DB_ROW) {
				known = 1;
				hit = list_dirty(fp_stmt_col_text(k, 0), dirty, n_dirty);
			}
			fp_stmt_finalize(k);
			if (known && !hit)
				continue;
		}
		if ((rc = match_config(db, keys[i], ids[i], &run, dirty_keys ? dirty : NULL,
		                       n_dirty, &skipped, rep, err)))
			goto out;
		if (moved[i] && (rc = update_intervals(db, keys[i], rep, err)))
			goto out;
	}
	/*
	 * Findings of configurations no device runs any more stay: they are the
	 * history behind past exposure windows. Their assessment record goes, so
	 * a device that returns to one is matched again.
	 */
	if (!only_key)
		rc = fp_db_run(db, err, NULL,
		               "DELETE FROM assessed_configs WHERE config_key NOT IN (SELECT "
		               "config_key FROM devices WHERE config_key IS NOT NULL)",
		               NULL);
out:
	rep->elapsed_ms = (fp_now_us() - t0) / 1000;
	fp_stmt_finalize(st);
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	free(ids);
	free(moved);
	fp_strmap_free(run.alone, name_result_free);
	fp_strmap_free(run.cands, cand_free);
	fp_strmap_free(run.cves, entry_free);
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

int fp_assess_device(fp_db *db, int64_t device_id, struct fp_err *err)
{
	int64_t cves = 0;
	if (fp_db_run(db, NULL, &cves, "SELECT COUNT(*) FROM cves", NULL) || cves == 0)
		return 0;
	fp_stmt *st = NULL;
	char key[65] = "";
	int rc = fp_db_prepare(db, "SELECT config_key FROM devices WHERE id = ?", &st, err);
	if (rc)
		return rc;
	fp_stmt_int(st, 1, device_id);
	if (fp_stmt_step(st, NULL) == FP_DB_ROW && fp_stmt_col_text(st, 0))
		snprintf(key, sizeof(key), "%s", fp_stmt_col_text(st, 0));
	fp_stmt_finalize(st);
	if (!key[0])
		return 0;
	/* An empty dirty list: only what is new or moved is worked on. */
	static char *const none[1] = {NULL};
	struct fp_assess_report rep;
	return fp_assess(db, none, 0, key, &rep, NULL, NULL, err);
}

struct fp_whatif {
	struct run run;
};

int fp_whatif_new(struct fp_whatif **out, struct fp_err *err)
{
	struct fp_whatif *w = calloc(1, sizeof(*w));
	*out = NULL;
	if (!w || fp_strmap_new(&w->run.cves) || fp_strmap_new(&w->run.cands) ||
	    fp_strmap_new(&w->run.alone)) {
		fp_whatif_free(w);
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	w->run.id = fp_now_us();
	*out = w;
	return 0;
}

void fp_whatif_free(struct fp_whatif *w)
{
	if (!w)
		return;
	fp_strmap_free(w->run.alone, name_result_free);
	fp_strmap_free(w->run.cands, cand_free);
	fp_strmap_free(w->run.cves, entry_free);
	free(w);
}

int fp_whatif_match(fp_db *db, struct fp_whatif *w, const struct fp_device_rec *rec,
                    int (*fn)(void *ctx, const char *cve_id), void *ctx, struct fp_err *err)
{
	struct fp_assess_report rep;
	struct match_sink sink = {fn, ctx};
	int skipped = 0;
	memset(&rep, 0, sizeof(rep));
	return match_rec(db, NULL, rec, &w->run, NULL, 0, &skipped, &rep, &sink, err);
}
