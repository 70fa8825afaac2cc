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
	int or_only; /* see or_only() */
};

/*
 * Whether every configuration and node of cfg is a plain OR (an AND of one
 * member is one too) without negation. Such a CVE applies to a set of CPEs
 * exactly when it applies to one of them alone, and the CPE it names as
 * matched is the first of those (see fp_nvd_applies()), so the results per
 * CPE name, computed once per run, answer for any set.
 */
static int or_only(const struct fp_nvd_configs *cfg)
{
	for (size_t c = 0; c < cfg->n; c++) {
		const struct fp_nvd_config *cf = &cfg->c[c];
		if (cf->negate || (cf->op_and && cf->n != 1))
			return 0;
		for (size_t n = 0; n < cf->n; n++)
			if (cf->nodes[n].negate || (cf->nodes[n].op_and && cf->nodes[n].n != 1))
				return 0;
	}
	return 1;
}

/* The CVEs indexed under one key. */
struct cand_list {
	struct cve_entry **e;
	size_t n, cap;
};

/* Where candidates come from, with the per-name results computed over them. */
struct cands {
	struct fp_strmap *lists; /* key → struct cand_list */
	struct fp_strmap *alone; /* CPE name → struct name_result */
};

/*
 * Caches of one assessment run: CVE id → entry; every CVE indexed under a
 * key (loaded on first use); and, when the run follows an NVD import, only
 * the CVEs that import created or changed (built at the start), which is all
 * a known configuration needs to be matched against again.
 */
struct run {
	struct fp_strmap *cves;
	struct fp_strmap *names; /* CPE name of a stored set → struct parsed_name */
	struct cands all, changed;
	char *const *changed_ids; /* sorted, borrowed; NULL outside such runs */
	size_t n_changed;
	int changed_built; /* changed.lists is built when a configuration first needs it */
	int64_t id;        /* marks the findings written in this run */
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
	int rc = 1;
	if (!(e = calloc(1, sizeof(*e))) || !(e->id = strdup(id)))
		goto fail;
	/* Configurations were validated on import; one that no longer parses matches nothing. */
	if (fp_stmt_step(st, err) == FP_DB_ROW && fp_stmt_col_text(st, 0)) {
		const char *text = fp_stmt_col_text(st, 0);
		rc = fp_nvd_configs_parse(text, strlen(text), &e->cfg, NULL);
	}
	fp_stmt_finalize(st);
	st = NULL;
	if (rc != 0)
		memset(&e->cfg, 0, sizeof(e->cfg));
	e->or_only = or_only(&e->cfg);
	if (entry_keys(e) || fp_strmap_put(run->cves, id, e, NULL))
		goto fail;
	return e;
fail:
	fp_stmt_finalize(st);
	entry_free(e);
	return NULL;
}

/* The CVEs indexed under key, loaded once per run. */
static struct cand_list *cands_get(fp_db *db, struct run *run, const char *key, struct fp_err *err)
{
	struct cand_list *l = fp_strmap_get(run->all.lists, key);
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
	l->cap = l->n;
	if (!ok || fp_strmap_put(run->all.lists, key, l, NULL)) {
		cand_free(l);
		return NULL;
	}
	return l;
}

/* Appends e to the list of key in lists, creating the list. */
static int cands_add(struct fp_strmap *lists, const char *key, struct cve_entry *e)
{
	struct cand_list *l = fp_strmap_get(lists, key);
	if (!l) {
		if (!(l = calloc(1, sizeof(*l))))
			return FP_ENOMEM;
		if (fp_strmap_put(lists, key, l, NULL)) {
			free(l);
			return FP_ENOMEM;
		}
	}
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 4;
		struct cve_entry **ne = realloc(l->e, nc * sizeof(*ne));
		if (!ne)
			return FP_ENOMEM;
		l->e = ne;
		l->cap = nc;
	}
	l->e[l->n++] = e;
	return 0;
}

/*
 * Indexes the changed CVEs under every key they name, as cve_keys does
 * (fp_vuln_config_keys), so a configuration meets exactly the changed CVEs
 * that a full match would have evaluated against it.
 */
static int changed_build(fp_db *db, struct run *run, struct fp_err *err)
{
	if (run->changed_built)
		return 0;
	run->changed_built = 1;
	for (size_t i = 0; i < run->n_changed; i++) {
		struct cve_entry *e = cve_get(db, run, run->changed_ids[i], err);
		if (!e)
			return fp_err_set(err, FP_ENOMEM, "cannot load %s", run->changed_ids[i]);
		for (size_t k = 0; k < e->nkeys; k++)
			if ((k == 0 || strcmp(e->keys[k], e->keys[k - 1]) != 0) &&
			    cands_add(run->changed.lists, e->keys[k], e))
				return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	return 0;
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

static const unsigned char *alone(struct fp_strmap *map, const char *name, const struct fp_cpe *cpe,
                                  const struct cand_list *l)
{
	struct name_result *r = fp_strmap_get(map, name);
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
	if (fp_strmap_put(map, name, r, NULL)) {
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
 * A configuration's CPE set: the parsed names, their formatted text (one per
 * line, what assessed_configs.platform keeps) and each one's product key ("" when
 * it has none or was not wanted; such an entry is all ANY and never evaluated).
 */
struct plat {
	struct fp_cpe *cpes;
	size_t n;
	char *text; /* NULL when there is no name */
	size_t *name_at;
	char *keytext;
	size_t *key_at;
	int cached;   /* read from assessed_configs rather than derived */
	int borrowed; /* the strings of cpes belong to the run's parsed names */
};

static void plat_free(struct plat *p)
{
	if (p->borrowed)
		free(p->cpes);
	else
		fp_platform_free(p->cpes, p->n);
	free(p->text);
	free(p->name_at);
	free(p->keytext);
	free(p->key_at);
	memset(p, 0, sizeof(*p));
}

/* Derives the CPE set of rec's configuration: its inventory, its image's SBOM and the model
 * mapping. */
static int plat_derive(fp_db *db, const struct fp_device_rec *rec, struct plat *p,
                       struct fp_err *err)
{
	struct fp_device_rec image;
	char *fw = NULL, *hw = NULL;
	size_t tlen = 0, tcap = 0, klen = 0, kcap = 0;
	fp_device_rec_init(&image);
	int rc;
	if ((rc = load_map(db, rec, &fw, &hw)) || (rc = load_sbom(db, rec, &image, err)))
		goto out;
	struct fp_platform_map map = {fw, hw, image.components, image.n_components};
	if ((rc = fp_platform_cpes(rec, &map, &p->cpes, &p->n, err)))
		goto out;
	p->name_at = calloc(p->n ? p->n : 1, sizeof(*p->name_at));
	p->key_at = calloc(p->n ? p->n : 1, sizeof(*p->key_at));
	if (!p->name_at || !p->key_at) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p->n; i++) {
		char name[FP_CPE_MAX + 1], key[FP_CPE_MAX + 1];
		if (fp_cpe_format(&p->cpes[i], name, sizeof(name)) ||
		    fp_cpe_key(&p->cpes[i], key, sizeof(key)))
			name[0] = key[0] = '\0';
		if (text_add(&p->text, &tlen, &tcap, name, '\n', &p->name_at[i]) ||
		    text_add(&p->keytext, &klen, &kcap, key, '\0', &p->key_at[i])) {
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
			goto out;
		}
	}
out:
	free(fw);
	free(hw);
	fp_device_rec_free(&image);
	return rc;
}

/*
 * The product key of a CPE 2.3 formatted name, read from the text: its
 * vendor and product with quoting removed, lower-cased, which is what
 * fp_cpe_key() gives for the parsed name. Returns 0, or -1 when s is not
 * such a name or the key does not fit.
 */
static int name_key(const char *s, size_t len, char *key, size_t cap)
{
	static const char PREFIX[] = "cpe:2.3:";
	size_t o = 0, field = 2; /* 2 part, 3 vendor, 4 product */
	if (len < sizeof(PREFIX) - 1 || memcmp(s, PREFIX, sizeof(PREFIX) - 1) != 0)
		return -1;
	for (size_t i = sizeof(PREFIX) - 1; i < len && o + 1 < cap; i++) {
		char c = s[i];
		if (c == ':') {
			if (++field == 5) {
				key[o] = '\0';
				return 0;
			}
			if (field == 4)
				key[o++] = ':';
			continue;
		}
		if (c == '\\' && i + 1 < len)
			c = s[++i];
		if (field >= 3)
			key[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	return -1;
}

/*
 * Reads the CPE set stored when config_key was last assessed (*found = 0
 * when it never was, or was invalidated since by a new model mapping or
 * image SBOM). With want (key → candidates), only names whose product key
 * it holds are parsed; the others stay all ANY without a key.
 */
/* A CPE name of stored sets, parsed once per run: most names recur in many sets. */
struct parsed_name {
	struct fp_cpe cpe; /* all ANY when the name does not parse */
	char key[FP_CPE_MAX + 1];
};

static void parsed_name_free(void *v)
{
	struct parsed_name *pn = v;
	if (pn) {
		fp_cpe_free(&pn->cpe);
		free(pn);
	}
}

/* The parsed form of name (NUL-terminated), from the run's cache; NULL when out of memory. */
static const struct parsed_name *name_parsed(struct fp_strmap *names, const char *name)
{
	struct parsed_name *pn = fp_strmap_get(names, name);
	if (pn)
		return pn;
	if (!(pn = calloc(1, sizeof(*pn))))
		return NULL;
	if (fp_cpe_parse(name, &pn->cpe, NULL) != 0 ||
	    fp_cpe_key(&pn->cpe, pn->key, sizeof(pn->key)) != 0)
		pn->key[0] = '\0';
	if (fp_strmap_put(names, name, pn, NULL)) {
		parsed_name_free(pn);
		return NULL;
	}
	return pn;
}

static int plat_cached(fp_db *db, const char *config_key, const struct fp_strmap *want,
                       struct fp_strmap *names, struct plat *p, int *found, struct fp_err *err)
{
	fp_stmt *st = NULL;
	*found = 0;
	int rc = fp_db_prepare(db, "SELECT platform FROM assessed_configs WHERE config_key = ?",
	                       &st, err);
	if (rc)
		return rc;
	fp_stmt_text(st, 1, config_key);
	if (fp_stmt_step(st, NULL) == FP_DB_ROW) {
		const char *t = fp_stmt_col_text(st, 0);
		*found = 1;
		if (t && t[0] && !(p->text = strdup(t)))
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	fp_stmt_finalize(st);
	if (rc || !*found)
		return rc;
	p->cached = 1;
	size_t len = p->text ? strlen(p->text) : 0, n = 0;
	for (size_t i = 0; i < len; i++)
		n += p->text[i] == '\n';
	if (len && p->text[len - 1] != '\n')
		n++;
	p->cpes = calloc(n ? n : 1, sizeof(*p->cpes));
	p->name_at = calloc(n ? n : 1, sizeof(*p->name_at));
	p->key_at = calloc(n ? n : 1, sizeof(*p->key_at));
	p->keytext = malloc(len + n + 1); /* a key is shorter than its name */
	if (!p->cpes || !p->name_at || !p->key_at || !p->keytext)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	p->n = n;
	p->borrowed = 1;
	size_t off = 0, klen = 0;
	for (size_t i = 0; i < n; i++) {
		const char *line = p->text + off;
		size_t l = strcspn(line, "\n");
		char name[FP_CPE_MAX + 1], key[FP_CPE_MAX + 1];
		p->name_at[i] = off;
		p->key_at[i] = klen;
		off += l + (line[l] == '\n');
		key[0] = '\0';
		if (l > 0 && l <= FP_CPE_MAX &&
		    (!want ||
		     (name_key(line, l, key, sizeof(key)) == 0 && fp_strmap_get(want, key)))) {
			memcpy(name, line, l);
			name[l] = '\0';
			const struct parsed_name *pn = name_parsed(names, name);
			if (!pn)
				return fp_err_set(err, FP_ENOMEM, "out of memory");
			p->cpes[i] = pn->cpe; /* shallow: borrowed from the run */
			memcpy(key, pn->key, strlen(pn->key) + 1);
		}
		size_t kl = strlen(key);
		memcpy(p->keytext + klen, key, kl + 1);
		klen += kl + 1;
	}
	return 0;
}

/* alone() for the i-th CPE of a configuration's set. */
static const unsigned char *name_alone(struct fp_strmap *map, const struct plat *p, size_t i,
                                       const struct cand_list *l)
{
	char name[FP_CPE_MAX + 1];
	size_t len = strcspn(p->text + p->name_at[i], "\n");
	memcpy(name, p->text + p->name_at[i], len);
	name[len] = '\0';
	return alone(map, name, &p->cpes[i], l);
}

/* A configuration's findings as stored before this match, sorted by CVE id. */
struct old_findings {
	char *text; /* "cve\0cpe\0" per row */
	size_t len, cap;
	struct old_row {
		size_t cve_at, cpe_at;
		unsigned char open, seen;
	} * r;
	size_t n, rcap;
};

static void old_free(struct old_findings *o)
{
	free(o->text);
	free(o->r);
}

static int old_load(fp_db *db, const char *config_key, struct old_findings *o, struct fp_err *err)
{
	fp_stmt *st = NULL;
	int rc = fp_db_prepare(db,
	                       "SELECT cve_id, matched_cpe, fixed_at IS NULL FROM config_findings "
	                       "WHERE config_key = ? ORDER BY cve_id",
	                       &st, err);
	if (rc)
		return rc;
	fp_stmt_text(st, 1, config_key);
	while ((rc = fp_stmt_step(st, err)) == FP_DB_ROW) {
		if (o->n == o->rcap) {
			size_t nc = o->rcap ? o->rcap * 2 : 64;
			struct old_row *nr = realloc(o->r, nc * sizeof(*nr));
			if (!nr) {
				rc = fp_err_set(err, FP_ENOMEM, "out of memory");
				break;
			}
			o->r = nr;
			o->rcap = nc;
		}
		struct old_row *r = &o->r[o->n];
		const char *cpe = fp_stmt_col_text(st, 1);
		if (text_add(&o->text, &o->len, &o->cap, fp_stmt_col_text(st, 0), '\0',
		             &r->cve_at) ||
		    text_add(&o->text, &o->len, &o->cap, cpe ? cpe : "", '\0', &r->cpe_at)) {
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
			break;
		}
		r->open = fp_stmt_col_int(st, 2) != 0;
		r->seen = 0;
		o->n++;
	}
	fp_stmt_finalize(st);
	return rc == FP_DB_DONE ? 0 : rc;
}

static struct old_row *old_find(struct old_findings *o, const char *cve)
{
	size_t lo = 0, hi = o->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(cve, o->text + o->r[mid].cve_at);
		if (c == 0)
			return &o->r[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/*
 * Matches a configuration's CPE set p. With config_key, its stored findings
 * are updated: only what changed is written (a new or reopened finding, a
 * different matched CPE, a fix), and a known configuration none of whose
 * products is dirty is skipped. Without, each match goes to sink and nothing
 * is written. With changed_only, p is evaluated against the run's changed
 * CVEs alone, and only their findings can become fixed: the others were
 * matched against the same CPE set before and their records did not change.
 */
static int match_plat(fp_db *db, const char *config_key, struct plat *p, struct run *run,
                      int changed_only, char *const *dirty, size_t n_dirty, int *skipped,
                      struct fp_assess_report *rep, const struct match_sink *sink,
                      struct fp_err *err)
{
	struct cands *src = changed_only ? &run->changed : &run->all;
	struct fp_cpe *sub = NULL;
	size_t n = p->n, *idx = NULL, *jdx = NULL;
	struct cand_list **lists = NULL;
	const unsigned char **single = NULL;
	struct pair *pairs = NULL;
	size_t npairs = 0, cappairs = 0;
	struct old_findings old = {0};
	int rc = 0;
	size_t m1 = n ? n : 1;
	idx = calloc(m1, sizeof(*idx));
	jdx = calloc(m1, sizeof(*jdx));
	sub = calloc(m1, sizeof(*sub));
	lists = calloc(m1, sizeof(*lists));
	single = calloc(m1, sizeof(*single));
	if (!idx || !jdx || !sub || !lists || !single) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	if (!changed_only) {
		int any_dirty = dirty == NULL;
		for (size_t i = 0; !any_dirty && i < n; i++) {
			const char *key = p->keytext + p->key_at[i];
			any_dirty = key[0] && key_dirty(key, dirty, n_dirty);
		}
		/* A known configuration whose products' CVEs did not change keeps its findings. */
		int64_t known = p->cached;
		if (config_key && !any_dirty &&
		    (known || (fp_db_run(db, NULL, &known,
		                         "SELECT COUNT(*) FROM assessed_configs WHERE config_key = "
		                         "? AND platform = ?",
		                         "ss", config_key, p->text ? p->text : "") == 0 &&
		               known))) {
			*skipped = 1;
			goto out;
		}
	}
	if (config_key && (rc = old_load(db, config_key, &old, err)))
		goto out;
	char now[32];
	fp_time_rfc3339_ms(fp_now_us(), now); /* ms: windows can be short */
	/* (candidate CVE, CPE) pairs: a CVE meets exactly the CPEs whose product it names. */
	for (size_t i = 0; i < n; i++) {
		const char *key = p->keytext + p->key_at[i];
		if (!key[0])
			continue;
		if (changed_only) {
			if (!(lists[i] = fp_strmap_get(src->lists, key)))
				continue;
		} else if (!(lists[i] = cands_get(db, run, key, err))) {
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
		size_t k = 0;
		for (; c < npairs && pairs[c].e == e; c++)
			if (k == 0 || idx[k - 1] != pairs[c].i) {
				sub[k] = p->cpes[pairs[c].i];
				jdx[k] = pairs[c].j;
				idx[k++] = pairs[c].i;
			}
		rep->candidates++;
		size_t m = 0;
		int applies = 0;
		if (k == 1 || e->or_only) {
			/* The CVE over each CPE alone: one lookup per CPE name and run. */
			for (size_t t = 0; t < k && !applies; t++) {
				size_t i = idx[t];
				if (!single[i] &&
				    !(single[i] = name_alone(src->alone, p, i, lists[i]))) {
					rc = fp_err_set(err, FP_ENOMEM, "out of memory");
					goto out;
				}
				if (single[i][jdx[t]]) {
					applies = 1;
					m = t;
				}
			}
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
		size_t l = strcspn(p->text + p->name_at[idx[m]], "\n");
		memcpy(matched, p->text + p->name_at[idx[m]], l);
		matched[l] = '\0';
		rep->findings++;
		struct old_row *o = old_find(&old, e->id);
		if (o) {
			o->seen = 1;
			if (o->open && strcmp(old.text + o->cpe_at, matched) == 0)
				continue; /* already stored as it is */
		}
		/* A finding seen before keeps its first-seen time; a fixed one reopens. */
		if ((rc = fp_db_run(
		         db, err, NULL,
		         "INSERT INTO config_findings (config_key, cve_id, matched_cpe, "
		         "first_seen, seen_run) VALUES (?, ?, ?, ?, ?) ON CONFLICT "
		         "(config_key, cve_id) DO UPDATE SET matched_cpe = "
		         "excluded.matched_cpe, seen_run = excluded.seen_run, fixed_at = NULL",
		         "ssssi", config_key, e->id, matched, now, run->id)))
			goto out;
	}
	if (!config_key)
		goto out;
	/* What matched before and not now is fixed (a feed change or a new mapping). */
	for (size_t i = 0; i < old.n; i++) {
		const char *cve = old.text + old.r[i].cve_at;
		if (!old.r[i].open || old.r[i].seen ||
		    (changed_only && !key_dirty(cve, run->changed_ids, run->n_changed)))
			continue;
		if ((rc = fp_db_run(
		         db, err, NULL,
		         "UPDATE config_findings SET fixed_at = ? WHERE config_key = ? AND "
		         "cve_id = ?",
		         "sss", now, config_key, cve)))
			goto out;
	}
	if (p->cached) {
		/* The stored CPE set and keys are the ones just matched. */
		rc = fp_db_run(db, err, NULL,
		               "UPDATE assessed_configs SET assessed_at = ? WHERE config_key = ?",
		               "ss", now, config_key);
	} else {
		char *keylist = key_list(p->keytext, p->key_at, n);
		if (!keylist) {
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
			goto out;
		}
		rc = fp_db_run(
		    db, err, NULL,
		    "INSERT INTO assessed_configs (config_key, platform, keys, assessed_at) VALUES "
		    "(?, ?, ?, ?) ON CONFLICT (config_key) DO UPDATE SET platform = "
		    "excluded.platform, keys = excluded.keys, assessed_at = excluded.assessed_at",
		    "ssss", config_key, p->text ? p->text : "", keylist, now);
		free(keylist);
	}
	rep->configs_matched++;
out:
	old_free(&old);
	free(pairs);
	free(single);
	free(lists);
	free(sub); /* a shallow copy of p->cpes: its strings belong to p */
	free(idx);
	free(jdx);
	return rc;
}

/* Matches the configuration of rec (what-if matching: nothing is stored). */
static int match_rec(fp_db *db, const struct fp_device_rec *rec, struct run *run,
                     struct fp_assess_report *rep, const struct match_sink *sink,
                     struct fp_err *err)
{
	struct plat p = {0};
	int skipped = 0;
	int rc = plat_derive(db, rec, &p, err);
	if (rc == 0)
		rc = match_plat(db, NULL, &p, run, 0, NULL, 0, &skipped, rep, sink, err);
	plat_free(&p);
	return rc;
}

/*
 * Matches one configuration and updates its stored findings. Its CPE set is
 * the one stored when it was last assessed (model mappings and image SBOMs
 * invalidate that record when they change), else derived from a device
 * that runs it.
 */
static int match_config(fp_db *db, const char *config_key, int64_t device_id, struct run *run,
                        int changed_only, char *const *dirty, size_t n_dirty, int *skipped,
                        struct fp_assess_report *rep, struct fp_err *err)
{
	struct plat p = {0};
	int found = 0;
	int rc = changed_only ? changed_build(db, run, err) : 0;
	if (rc == 0)
		rc = plat_cached(db, config_key, changed_only ? run->changed.lists : NULL,
		                 run->names, &p, &found, err);
	if (rc == 0 && !found) {
		struct fp_device_row d;
		changed_only = 0; /* never assessed: every candidate is new to it */
		if ((rc = fp_store_device_get(db, device_id, &d, err)) != 0)
			goto out;
		rc = plat_derive(db, &d.rec, &p, err);
		fp_device_row_free(&d);
	}
	if (rc == 0)
		rc = match_plat(db, config_key, &p, run, changed_only, dirty, n_dirty, skipped, rep,
		                NULL, err);
out:
	plat_free(&p);
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

static int run_open(struct run *run)
{
	run->id = fp_now_us();
	return fp_strmap_new(&run->cves) || fp_strmap_new(&run->names) ||
	               fp_strmap_new(&run->all.lists) || fp_strmap_new(&run->all.alone) ||
	               fp_strmap_new(&run->changed.lists) || fp_strmap_new(&run->changed.alone)
	           ? FP_ENOMEM
	           : 0;
}

static void run_close(struct run *run)
{
	fp_strmap_free(run->all.alone, name_result_free);
	fp_strmap_free(run->all.lists, cand_free);
	fp_strmap_free(run->changed.alone, name_result_free);
	fp_strmap_free(run->changed.lists, cand_free);
	fp_strmap_free(run->cves, entry_free);
	fp_strmap_free(run->names, parsed_name_free);
}

int fp_config_rows_load(fp_db *db, const char *sql, const char *param, int with_count,
                        struct fp_config_rows *out, struct fp_err *err)
{
	fp_stmt *st = NULL;
	size_t cap = 0;
	memset(out, 0, sizeof(*out));
	int rc = fp_db_prepare(db, sql, &st, err);
	if (rc)
		return rc;
	fp_stmt_text(st, 1, param ? param : "");
	fp_stmt_text(st, 2, param ? param : "");
	while ((rc = fp_stmt_step(st, err)) == FP_DB_ROW) {
		if (out->n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			char **nk = realloc(out->key, nc * sizeof(*nk));
			if (nk)
				out->key = nk;
			int64_t *ni = realloc(out->id, nc * sizeof(*ni));
			if (ni)
				out->id = ni;
			int64_t *nn = with_count ? realloc(out->count, nc * sizeof(*nn)) : NULL;
			if (nn)
				out->count = nn;
			if (!nk || !ni || (with_count && !nn)) {
				rc = fp_err_set(err, FP_ENOMEM, "out of memory");
				break;
			}
			cap = nc;
		}
		if (!(out->key[out->n] = strdup(fp_stmt_col_text(st, 0)))) {
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
			break;
		}
		out->id[out->n] = fp_stmt_col_int(st, 1);
		if (with_count)
			out->count[out->n] = fp_stmt_col_int(st, 2);
		out->n++;
	}
	fp_stmt_finalize(st);
	if (rc == FP_DB_DONE)
		return 0;
	fp_config_rows_free(out);
	return rc;
}

void fp_config_rows_free(struct fp_config_rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->key[i]);
	free(r->key);
	free(r->id);
	free(r->count);
	memset(r, 0, sizeof(*r));
}

int fp_assess(fp_db *db, char *const *dirty_keys, size_t n_dirty, char *const *changed_cves,
              size_t n_changed, const char *only_key, struct fp_assess_report *rep,
              atomic_long *done, atomic_long *total, struct fp_err *err)
{
	struct run run = {0};
	struct fp_config_rows cr = {0};
	memset(rep, 0, sizeof(*rep));
	int64_t t0 = fp_now_us();
	int rc = 0;
	if (run_open(&run)) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	/* One representative device per configuration, and whether any device moved to it. */
	rc =
	    fp_config_rows_load(db,
	                        "SELECT config_key, MIN(id), SUM(CASE WHEN assessed_key IS NULL OR "
	                        "assessed_key <> config_key THEN 1 ELSE 0 END) FROM devices WHERE "
	                        "config_key IS NOT NULL AND (? = '' OR config_key = ?) GROUP BY "
	                        "config_key ORDER BY config_key",
	                        only_key, 1, &cr, err);
	if (rc)
		goto out;
	size_t n = cr.n;
	char **keys = cr.key;
	int64_t *ids = cr.id, *moved = cr.count; /* devices that moved to it: > 0 */
	char **dirty = NULL;
	if (dirty_keys) {
		dirty = (char **)dirty_keys;
		qsort(dirty, n_dirty, sizeof(*dirty), cmp_str);
	}
	if (dirty_keys && changed_cves) {
		qsort((char **)changed_cves, n_changed, sizeof(*changed_cves), cmp_str);
		run.changed_ids = changed_cves;
		run.n_changed = n_changed;
	}
	rep->configs_total = (int64_t)n;
	if (total)
		atomic_store(total, (long)n);
	for (size_t i = 0; i < n; i++) {
		if (done)
			atomic_store(done, (long)i);
		int skipped = 0, changed_only = 0;
		/* Incremental runs skip a known configuration none of whose products
		 * changed, without loading it, and match one that names a changed
		 * product against the changed CVEs only. */
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
			changed_only = known && run.changed_ids;
		}
		if ((rc = match_config(db, keys[i], ids[i], &run, changed_only,
		                       dirty_keys ? dirty : NULL, n_dirty, &skipped, rep, err)))
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
	fp_config_rows_free(&cr);
	run_close(&run);
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
	return fp_assess(db, none, 0, NULL, 0, key, &rep, NULL, NULL, err);
}

struct fp_whatif {
	struct run run;
};

int fp_whatif_new(struct fp_whatif **out, struct fp_err *err)
{
	struct fp_whatif *w = calloc(1, sizeof(*w));
	*out = NULL;
	if (!w || run_open(&w->run)) {
		fp_whatif_free(w);
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	*out = w;
	return 0;
}

void fp_whatif_free(struct fp_whatif *w)
{
	if (!w)
		return;
	run_close(&w->run);
	free(w);
}

int fp_whatif_match(fp_db *db, struct fp_whatif *w, const struct fp_device_rec *rec,
                    int (*fn)(void *ctx, const char *cve_id), void *ctx, struct fp_err *err)
{
	struct fp_assess_report rep;
	struct match_sink sink = {fn, ctx};
	memset(&rep, 0, sizeof(rep));
	return match_rec(db, rec, &w->run, &rep, &sink, err);
}
