/*
 * nvd_match.c — NVD "configurations" parsing and evaluation against a
 * device's CPE set (see nvd_match.h and docs/design/cpe-matching.md).
 *
 * Parsing copies the JSON into plain structs once, so evaluation (run once
 * per distinct device platform) touches no JSON and allocates nothing. The
 * text can also be parsed without building a jansson tree first
 * (fp_nvd_configs_parse(), with jansson as its fallback), which is how the
 * NVD import and the assessment read it.
 */
#include "fleetpatch/nvd_match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/version.h"
#include "json_scan_int.h"
#include "nvd_int.h"

/* Where in the configurations array a problem is, for error messages. */
struct where {
	size_t conf, node, match;
	int depth; /* 1: configuration, 2: node, 3: cpeMatch entry */
};

static const char *where_str(const struct where *w, char *buf, size_t n)
{
	if (w->depth == 1)
		snprintf(buf, n, "configurations[%zu]", w->conf);
	else if (w->depth == 2)
		snprintf(buf, n, "configurations[%zu].nodes[%zu]", w->conf, w->node);
	else
		snprintf(buf, n, "configurations[%zu].nodes[%zu].cpeMatch[%zu]", w->conf, w->node,
		         w->match);
	return buf;
}

static int bad(struct fp_err *err, int code, const struct where *w, const char *what)
{
	char buf[96];
	return fp_err_set(err, code, "NVD %s: %s", where_str(w, buf, sizeof(buf)), what);
}

/* Reads an optional "operator": absent or "OR" is 0, "AND" is 1. */
static int get_operator(const json_t *obj, int *op_and, const struct where *w, struct fp_err *err)
{
	const json_t *op = json_object_get(obj, "operator");
	*op_and = 0;
	if (!op || json_is_null(op))
		return 0;
	if (!json_is_string(op))
		return bad(err, FP_EINVAL, w, "\"operator\" must be a string");
	const char *s = json_string_value(op);
	if (strcmp(s, "AND") == 0)
		*op_and = 1;
	else if (strcmp(s, "OR") != 0)
		return bad(err, FP_EINVAL, w, "\"operator\" must be \"AND\" or \"OR\"");
	return 0;
}

/* Reads an optional boolean; absent or null is 0. */
static int get_bool(const json_t *obj, const char *key, int required, int *out,
                    const struct where *w, struct fp_err *err)
{
	const json_t *v = json_object_get(obj, key);
	*out = 0;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		char msg[64];
		snprintf(msg, sizeof(msg), "\"%s\" is missing", key);
		return bad(err, FP_EINVAL, w, msg);
	}
	if (!json_is_boolean(v)) {
		char msg[64];
		snprintf(msg, sizeof(msg), "\"%s\" must be true or false", key);
		return bad(err, FP_EINVAL, w, msg);
	}
	*out = json_is_true(v);
	return 0;
}

/* Copies an optional version bound with CPE quoting ("\(") resolved. */
static int get_bound(const json_t *obj, const char *key, char **out, const struct where *w,
                     struct fp_err *err)
{
	const json_t *v = json_object_get(obj, key);
	char msg[96];
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		snprintf(msg, sizeof(msg), "\"%s\" must be a string", key);
		return bad(err, FP_EINVAL, w, msg);
	}
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n == 0 || n > FP_CPE_MAX || strlen(s) != n) {
		snprintf(msg, sizeof(msg), "\"%s\" must be a version of 1 to %d bytes", key,
		         FP_CPE_MAX);
		return bad(err, n > FP_CPE_MAX ? FP_ETOOBIG : FP_EINVAL, w, msg);
	}
	char *d = malloc(n + 1);
	if (!d)
		return fp_err_set(err, FP_ENOMEM, "out of memory reading NVD configurations");
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		d[k++] = s[i];
	}
	d[k] = '\0';
	*out = d;
	return 0;
}

static void free_match(struct fp_nvd_cpe_match *m)
{
	fp_cpe_free(&m->criteria);
	free(m->start_incl);
	free(m->start_excl);
	free(m->end_incl);
	free(m->end_excl);
}

static int parse_match(const json_t *j, struct fp_nvd_cpe_match *m, const struct where *w,
                       struct fp_err *err)
{
	int rc;
	if (!json_is_object(j))
		return bad(err, FP_EINVAL, w, "a cpeMatch entry must be an object");
	if ((rc = get_bool(j, "vulnerable", 1, &m->vulnerable, w, err)) != 0)
		return rc;
	const json_t *crit = json_object_get(j, "criteria");
	if (!json_is_string(crit))
		return bad(err, FP_EINVAL, w, "\"criteria\" must be a CPE name string");
	struct fp_err e2;
	fp_err_clear(&e2);
	rc = fp_cpe_parse(json_string_value(crit), &m->criteria, &e2);
	if (rc) {
		char buf[96];
		return fp_err_set(err, rc, "NVD %s: criteria: %s", where_str(w, buf, sizeof(buf)),
		                  e2.msg);
	}
	if ((rc = get_bound(j, "versionStartIncluding", &m->start_incl, w, err)) != 0 ||
	    (rc = get_bound(j, "versionStartExcluding", &m->start_excl, w, err)) != 0 ||
	    (rc = get_bound(j, "versionEndIncluding", &m->end_incl, w, err)) != 0 ||
	    (rc = get_bound(j, "versionEndExcluding", &m->end_excl, w, err)) != 0)
		return rc;
	return 0;
}

static int parse_node(const json_t *j, struct fp_nvd_node *nd, struct where *w, size_t *total,
                      struct fp_err *err)
{
	int rc;
	if (!json_is_object(j))
		return bad(err, FP_EINVAL, w, "a node must be an object");
	if ((rc = get_operator(j, &nd->op_and, w, err)) != 0 ||
	    (rc = get_bool(j, "negate", 0, &nd->negate, w, err)) != 0)
		return rc;
	const json_t *arr = json_object_get(j, "cpeMatch");
	if (!json_is_array(arr))
		return bad(err, FP_EINVAL, w, "\"cpeMatch\" must be an array");
	size_t n = json_array_size(arr);
	if (n > FP_NVD_MATCHES_MAX)
		return bad(err, FP_ETOOBIG, w, "more than 10000 cpeMatch entries in one node");
	*total += n;
	if (*total > FP_NVD_MATCHES_TOTAL_MAX)
		return bad(err, FP_ETOOBIG, w, "more than 100000 cpeMatch entries in one record");
	if (n == 0)
		return 0;
	nd->m = calloc(n, sizeof(*nd->m));
	if (!nd->m)
		return fp_err_set(err, FP_ENOMEM, "out of memory reading NVD configurations");
	for (size_t k = 0; k < n; k++) {
		nd->n = k + 1;
		w->match = k;
		w->depth = 3;
		if ((rc = parse_match(json_array_get(arr, k), &nd->m[k], w, err)) != 0)
			return rc;
	}
	return 0;
}

static int parse_config(const json_t *j, struct fp_nvd_config *cf, struct where *w, size_t *total,
                        struct fp_err *err)
{
	int rc;
	if (!json_is_object(j))
		return bad(err, FP_EINVAL, w, "a configuration must be an object");
	if ((rc = get_operator(j, &cf->op_and, w, err)) != 0 ||
	    (rc = get_bool(j, "negate", 0, &cf->negate, w, err)) != 0)
		return rc;
	const json_t *arr = json_object_get(j, "nodes");
	if (!json_is_array(arr))
		return bad(err, FP_EINVAL, w, "\"nodes\" must be an array");
	size_t n = json_array_size(arr);
	if (n > FP_NVD_NODES_MAX)
		return bad(err, FP_ETOOBIG, w, "more than 1000 nodes in one configuration");
	if (n == 0)
		return 0;
	cf->nodes = calloc(n, sizeof(*cf->nodes));
	if (!cf->nodes)
		return fp_err_set(err, FP_ENOMEM, "out of memory reading NVD configurations");
	for (size_t k = 0; k < n; k++) {
		cf->n = k + 1;
		w->node = k;
		w->depth = 2;
		if ((rc = parse_node(json_array_get(arr, k), &cf->nodes[k], w, total, err)) != 0)
			return rc;
	}
	return 0;
}

void fp_nvd_configs_free(struct fp_nvd_configs *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct fp_nvd_config *cf = &c->c[i];
		for (size_t j = 0; j < cf->n; j++) {
			for (size_t k = 0; k < cf->nodes[j].n; k++)
				free_match(&cf->nodes[j].m[k]);
			free(cf->nodes[j].m);
		}
		free(cf->nodes);
	}
	free(c->c);
	c->c = NULL;
	c->n = 0;
}

static void set_product_hashes(struct fp_nvd_configs *c);

int fp_nvd_configs_from_json(const json_t *configurations, struct fp_nvd_configs *out,
                             struct fp_err *err)
{
	int rc = 0;
	size_t total = 0;
	struct where w = {0, 0, 0, 1};
	memset(out, 0, sizeof(*out));
	if (!configurations || json_is_null(configurations))
		return 0;
	if (!json_is_array(configurations))
		return fp_err_set(err, FP_EINVAL, "NVD \"configurations\" must be an array");
	size_t n = json_array_size(configurations);
	if (n > FP_NVD_CONFIGS_MAX)
		return fp_err_set(err, FP_ETOOBIG, "NVD record has more than %d configurations",
		                  FP_NVD_CONFIGS_MAX);
	if (n == 0)
		return 0;
	out->c = calloc(n, sizeof(*out->c));
	if (!out->c)
		return fp_err_set(err, FP_ENOMEM, "out of memory reading NVD configurations");
	for (size_t i = 0; i < n; i++) {
		out->n = i + 1;
		w.conf = i;
		w.depth = 1;
		rc = parse_config(json_array_get(configurations, i), &out->c[i], &w, &total, err);
		if (rc)
			goto out;
	}
out:
	if (rc)
		fp_nvd_configs_free(out);
	else
		set_product_hashes(out);
	return rc;
}

/* ------------------------------------------------------------ evaluation */

#define HAVE_HASHED_MAX 64 /* platform CPEs whose products fp_nvd_applies() hashes */

/* FNV-1a of c's product, lower case, when it is a plain value; else 0 (unknown). */
static uint32_t product_hash(const struct fp_cpe *c)
{
	if (c->kind[FP_CPE_PRODUCT] != FP_CPE_VALUE || !c->val[FP_CPE_PRODUCT] ||
	    c->wild[FP_CPE_PRODUCT])
		return 0;
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)c->val[FP_CPE_PRODUCT]; *p; p++) {
		unsigned char ch = *p >= 'A' && *p <= 'Z' ? (unsigned char)(*p - 'A' + 'a') : *p;
		h = (h ^ ch) * 16777619u;
	}
	return h ? h : 1;
}

/* Sets the product hash of every entry of c, once it is parsed. */
static void set_product_hashes(struct fp_nvd_configs *c)
{
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < c->c[i].n; j++)
			for (size_t k = 0; k < c->c[i].nodes[j].n; k++)
				c->c[i].nodes[j].m[k].product_hash =
				    product_hash(&c->c[i].nodes[j].m[k].criteria);
}

static int has_bounds(const struct fp_nvd_cpe_match *m)
{
	return m->start_incl || m->start_excl || m->end_incl || m->end_excl;
}

/* Is the version of device CPE t inside the bounds of entry m? */
static int in_range(const struct fp_nvd_cpe_match *m, const struct fp_cpe *t)
{
	if (t->kind[FP_CPE_VERSION] != FP_CPE_VALUE || !t->val[FP_CPE_VERSION] ||
	    t->wild[FP_CPE_VERSION])
		return 0;
	const char *v = t->val[FP_CPE_VERSION];
	if (m->start_incl && fp_version_cmp(v, m->start_incl) < 0)
		return 0;
	if (m->start_excl && fp_version_cmp(v, m->start_excl) <= 0)
		return 0;
	if (m->end_incl && fp_version_cmp(v, m->end_incl) > 0)
		return 0;
	if (m->end_excl && fp_version_cmp(v, m->end_excl) >= 0)
		return 0;
	return 1;
}

/* Sets *idx to the lowest index of have that entry m matches; returns 0 when none does. */
static int entry_matches(const struct fp_nvd_cpe_match *m, const struct fp_cpe *have,
                         const uint32_t *have_hash, size_t n_have, size_t *idx)
{
	int ranged = has_bounds(m);
	for (size_t i = 0; i < n_have; i++)
		if ((!m->product_hash || !have_hash || !have_hash[i] ||
		     m->product_hash == have_hash[i]) &&
		    fp_cpe_match(&m->criteria, &have[i]) && (!ranged || in_range(m, &have[i]))) {
			*idx = i;
			return 1;
		}
	return 0;
}

/*
 * Evaluates node nd. When positive is set, lowers *vuln to the index of the
 * first have CPE matched by any of its vulnerable entries.
 */
static int eval_node(const struct fp_nvd_node *nd, const struct fp_cpe *have,
                     const uint32_t *have_hash, size_t n_have, int positive, size_t *vuln)
{
	int any = 0, all = 1;
	for (size_t k = 0; k < nd->n; k++) {
		size_t idx;
		int hit = entry_matches(&nd->m[k], have, have_hash, n_have, &idx);
		any |= hit;
		all &= hit;
		if (hit && positive && nd->m[k].vulnerable && idx < *vuln)
			*vuln = idx;
		/* The outcome is settled and no vulnerable entry needs looking at. */
		if (!positive && (nd->op_and ? !all : any))
			break;
	}
	int v = nd->op_and ? all : any;
	return nd->negate ? !v : v;
}

int fp_nvd_applies(const struct fp_nvd_configs *c, const struct fp_cpe *have, size_t n_have,
                   size_t *matched)
{
	size_t best = (size_t)-1;
	if (!c)
		return 0;
	/* The products of a usual platform are hashed once per call; a larger one
	 * is compared in full. */
	uint32_t hashes[HAVE_HASHED_MAX];
	const uint32_t *have_hash = NULL;
	if (n_have <= HAVE_HASHED_MAX) {
		for (size_t i = 0; i < n_have; i++)
			hashes[i] = product_hash(&have[i]);
		have_hash = hashes;
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct fp_nvd_config *cf = &c->c[i];
		size_t vuln = (size_t)-1;
		int any = 0, all = 1;
		for (size_t j = 0; j < cf->n; j++) {
			int positive = !(cf->nodes[j].negate ^ cf->negate);
			int v = eval_node(&cf->nodes[j], have, have_hash, n_have, positive, &vuln);
			any |= v;
			all &= v;
		}
		int v = cf->op_and ? all : any;
		if (cf->negate)
			v = !v;
		if (v && vuln < best)
			best = vuln;
	}
	if (best == (size_t)-1)
		return 0;
	if (matched)
		*matched = best;
	return 1;
}

/* --------------------------------------------------------------- keys */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int fp_nvd_configs_keys(const struct fp_nvd_configs *c, int (*fn)(void *ctx, const char *key),
                        void *ctx)
{
	int rc = 0;
	size_t cap = 0, n = 0;
	char **keys = NULL;
	char buf[FP_CPE_MAX + 1];
	for (size_t i = 0; c && i < c->n; i++)
		for (size_t j = 0; j < c->c[i].n; j++)
			cap += c->c[i].nodes[j].n;
	if (cap == 0)
		return 0;
	keys = calloc(cap, sizeof(*keys));
	if (!keys)
		return FP_ENOMEM;
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < c->c[i].n; j++)
			for (size_t k = 0; k < c->c[i].nodes[j].n; k++) {
				const struct fp_nvd_cpe_match *m = &c->c[i].nodes[j].m[k];
				if (!m->vulnerable ||
				    fp_cpe_key(&m->criteria, buf, sizeof(buf)) != 0)
					continue;
				size_t len = strlen(buf);
				keys[n] = malloc(len + 1);
				if (!keys[n]) {
					rc = FP_ENOMEM;
					goto out;
				}
				memcpy(keys[n++], buf, len + 1);
			}
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(keys[i], keys[i - 1]) == 0)
			continue;
		if ((rc = fn(ctx, keys[i])) != 0)
			goto out;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	return rc;
}

/* ------------------------------------------------- parsing without a tree */

/*
 * The fast path of fp_nvd_configs_parse(): the same structs straight from
 * the text. It returns -1 on anything fp_nvd_configs_from_json() could
 * refuse, and on a few things it would accept (see json_scan_int.h); the
 * caller then takes the jansson path, which decides and words the error.
 */

/* Reads an optional "operator" value: null or "OR" is 0, "AND" is 1. */
static int scan_operator(struct fp__js *s, int *op_and)
{
	struct fp__js_str v;
	char buf[8];
	int lit;
	if (fp__js_peek(s) == 'n')
		return fp__js_literal(s, &lit) || lit != -1 ? -1 : (*op_and = 0);
	if (fp__js_string(s, &v) || fp__js_decode(&v, buf, sizeof(buf)) < 0)
		return -1;
	if (strcmp(buf, "AND") == 0)
		*op_and = 1;
	else if (strcmp(buf, "OR") == 0)
		*op_and = 0;
	else
		return -1;
	return 0;
}

/* Reads a boolean or null (null is 0 when allowed). */
static int scan_bool(struct fp__js *s, int null_ok, int *out)
{
	int v;
	if (fp__js_literal(s, &v) || (v == -1 && !null_ok))
		return -1;
	*out = v == 1;
	return 0;
}

/* A version bound: its CPE quoting resolved, like get_bound(). */
static int scan_bound(const struct fp__js_str *v, char **out)
{
	char buf[FP_CPE_MAX + 1];
	long n = fp__js_decode(v, buf, sizeof(buf));
	if (n <= 0)
		return -1;
	char *d = malloc((size_t)n + 1);
	if (!d)
		return -1;
	size_t k = 0;
	for (long i = 0; i < n; i++) {
		if (buf[i] == '\\' && i + 1 < n)
			i++;
		d[k++] = buf[i];
	}
	d[k] = '\0';
	*out = d;
	return 0;
}

static const char *const BOUND_KEYS[4] = {"versionStartIncluding", "versionStartExcluding",
                                          "versionEndIncluding", "versionEndExcluding"};

static int scan_match(struct fp__js *s, struct fp_nvd_cpe_match *m)
{
	struct fp__js_obj o;
	struct fp__js_str k, crit, bound[4];
	int r, have_crit = 0, vuln = -1, have_bound[4] = {0, 0, 0, 0};
	if (fp__js_obj_begin(s, &o))
		return -1;
	while ((r = fp__js_obj_next(s, &o, &k)) == 1) {
		int b = -1;
		for (int i = 0; i < 4; i++)
			if (fp__js_is(&k, BOUND_KEYS[i]))
				b = i;
		if (fp__js_is(&k, "vulnerable")) {
			if (scan_bool(s, 0, &vuln))
				return -1;
		} else if (fp__js_is(&k, "criteria")) {
			if (fp__js_string(s, &crit))
				return -1;
			have_crit = 1;
		} else if (b >= 0) {
			int lit;
			if (fp__js_peek(s) == 'n') {
				if (fp__js_literal(s, &lit) || lit != -1)
					return -1;
			} else {
				if (fp__js_string(s, &bound[b]))
					return -1;
				have_bound[b] = 1;
			}
		} else if (fp__js_skip(s)) {
			return -1;
		}
	}
	if (r < 0 || vuln < 0 || !have_crit)
		return -1;
	char name[FP_CPE_MAX + 1];
	if (fp__js_decode(&crit, name, sizeof(name)) < 0 ||
	    fp_cpe_parse(name, &m->criteria, NULL) != 0)
		return -1;
	m->vulnerable = vuln;
	char **dst[4] = {&m->start_incl, &m->start_excl, &m->end_incl, &m->end_excl};
	for (int i = 0; i < 4; i++)
		if (have_bound[i] && scan_bound(&bound[i], dst[i]))
			return -1;
	return 0;
}

/* Grows an array of elements of size sz holding n to room for n + 1; zeroes the new one. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	if (n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		void *na = realloc(*arr, nc * sz);
		if (!na)
			return -1;
		*arr = na;
		*cap = nc;
	}
	memset((char *)*arr + n * sz, 0, sz);
	return 0;
}

static int scan_node(struct fp__js *s, struct fp_nvd_node *nd, size_t *total)
{
	struct fp__js_obj o;
	struct fp__js_str k;
	int r, have_matches = 0;
	if (fp__js_obj_begin(s, &o))
		return -1;
	while ((r = fp__js_obj_next(s, &o, &k)) == 1) {
		if (fp__js_is(&k, "operator")) {
			if (scan_operator(s, &nd->op_and))
				return -1;
		} else if (fp__js_is(&k, "negate")) {
			if (scan_bool(s, 1, &nd->negate))
				return -1;
		} else if (fp__js_is(&k, "cpeMatch")) {
			size_t cap = 0;
			int first = 1;
			if (have_matches || fp__js_arr_begin(s))
				return -1;
			have_matches = 1;
			while ((r = fp__js_arr_next(s, &first)) == 1) {
				if (nd->n == FP_NVD_MATCHES_MAX ||
				    ++*total > FP_NVD_MATCHES_TOTAL_MAX ||
				    grow((void **)&nd->m, &cap, nd->n, sizeof(*nd->m)))
					return -1;
				nd->n++;
				if (scan_match(s, &nd->m[nd->n - 1]))
					return -1;
			}
			if (r < 0)
				return -1;
		} else if (fp__js_skip(s)) {
			return -1;
		}
	}
	return r < 0 || !have_matches ? -1 : 0;
}

static int scan_config(struct fp__js *s, struct fp_nvd_config *cf, size_t *total)
{
	struct fp__js_obj o;
	struct fp__js_str k;
	int r, have_nodes = 0;
	if (fp__js_obj_begin(s, &o))
		return -1;
	while ((r = fp__js_obj_next(s, &o, &k)) == 1) {
		if (fp__js_is(&k, "operator")) {
			if (scan_operator(s, &cf->op_and))
				return -1;
		} else if (fp__js_is(&k, "negate")) {
			if (scan_bool(s, 1, &cf->negate))
				return -1;
		} else if (fp__js_is(&k, "nodes")) {
			size_t cap = 0;
			int first = 1;
			if (have_nodes || fp__js_arr_begin(s))
				return -1;
			have_nodes = 1;
			while ((r = fp__js_arr_next(s, &first)) == 1) {
				if (cf->n == FP_NVD_NODES_MAX ||
				    grow((void **)&cf->nodes, &cap, cf->n, sizeof(*cf->nodes)))
					return -1;
				cf->n++;
				if (scan_node(s, &cf->nodes[cf->n - 1], total))
					return -1;
			}
			if (r < 0)
				return -1;
		} else if (fp__js_skip(s)) {
			return -1;
		}
	}
	return r < 0 || !have_nodes ? -1 : 0;
}

int fp__nvd_configs_scan(struct fp__js *s, struct fp_nvd_configs *out)
{
	size_t cap = 0, total = 0;
	int first = 1, r;
	memset(out, 0, sizeof(*out));
	if (fp__js_arr_begin(s))
		return -1;
	while ((r = fp__js_arr_next(s, &first)) == 1) {
		if (out->n == FP_NVD_CONFIGS_MAX ||
		    grow((void **)&out->c, &cap, out->n, sizeof(*out->c)))
			return -1;
		out->n++;
		if (scan_config(s, &out->c[out->n - 1], &total))
			return -1;
	}
	if (r == 0)
		set_product_hashes(out);
	return r;
}

int fp_nvd_configs_parse(const char *text, size_t len, struct fp_nvd_configs *out,
                         struct fp_err *err)
{
	struct fp__js s = {text, text + len, 0};
	if (fp__nvd_configs_scan(&s, out) == 0 && fp__js_at_end(&s))
		return 0;
	fp_nvd_configs_free(out);
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return fp_err_set(err, FP_EINVAL, "NVD configurations are not valid JSON: %s",
		                  je.text);
	int rc = fp_nvd_configs_from_json(j, out, err);
	json_decref(j);
	return rc;
}
