/*
 * nvd.c — streaming reader of NVD CVE API 2.0 feeds (see nvd.h).
 *
 * Input flows through three stages. Bytes pushed by the caller are sniffed
 * for the gzip magic and, when compressed, inflated into a fixed window.
 * The JSON text then goes through a byte-level scanner that tracks string,
 * escape and nesting state: it copies the small top-level object (everything
 * except the records) into a header buffer and finds the extent of each
 * element of "vulnerabilities". Each element is parsed on its own with
 * json_loadb() and turned into a struct fp_cve for the callback; with
 * fp_nvd_reader_parse_configs(), a well-formed {"cve":{…}} element is
 * instead read in one pass by the validating scanner of json_scan.c
 * (fast_cve()), which falls back to json_loadb() on anything it does not
 * take, so results and errors do not depend on the path.
 *
 * Only elements are parsed by jansson, so the scanner does not validate the
 * text it skips itself. The rest of the document is validated too: the
 * separators between elements by the scanner, and the header (with
 * "vulnerabilities" replaced by []) by jansson, once before the first record
 * and once more, whole, when the top-level object closes.
 *
 * An element that lies wholly inside one window is parsed in place; one that
 * spans pushes is copied into a buffer that grows up to FP_NVD_RECORD_MAX.
 */
#include "fleetpatch/nvd.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "fleetpatch/nvd_match.h"
#include "nvd_int.h"

#define WINDOW_SIZE (64u << 10) /* inflate output per step */
#define KEY_MAX     24          /* bytes of a top-level key worth remembering */

static const char VULNS_KEY[] = "vulnerabilities";

enum mode {
	M_START,      /* before the top-level '{' */
	M_TOP,        /* inside the top-level object, outside "vulnerabilities" */
	M_WANT_ARRAY, /* after "vulnerabilities": */
	M_ARRAY,      /* inside "vulnerabilities", between elements */
	M_ELEM,       /* inside one element */
	M_END,        /* after the top-level '}' */
};

enum top_state { T_KEY, T_COLON, T_VALUE };
enum array_state { A_FIRST, A_NEED, A_AFTER };

struct fp_nvd_reader {
	fp_nvd_fn fn;
	void *ctx;
	int failed;        /* the first error code; the reader refuses input after it */
	int parse_configs; /* fp_nvd_reader_parse_configs() */

	/* Compression: -1 until the first bytes are seen, then 0 (plain) or 1 (gzip). */
	int gzip;
	unsigned char magic[2];
	size_t n_magic;
	z_stream zs;
	int zs_ready, z_end;
	unsigned char *window;

	/* Scanner state. */
	enum mode mode;
	int in_str, esc;
	unsigned depth;  /* of the top-level object and the header values in it */
	unsigned edepth; /* inside the current element */
	enum top_state top;
	enum array_state arr;
	int key_capture, key_is_vulns, vulns_seen;
	char key[KEY_MAX];
	size_t key_len, key_start;

	char *hdr; /* the top-level object without the records; capped at FP_NVD_HEADER_MAX */
	size_t hdr_len, hdr_cap;
	char *rec; /* an element spanning pushes; capped at FP_NVD_RECORD_MAX */
	size_t rec_len, rec_cap;

	unsigned long long bytes_in, records, text_off, elem_off;
};

/* ---- struct fp_cve ---- */

int fp_cve_id_valid(const char *s)
{
	if (strncmp(s, "CVE-", 4) != 0)
		return 0;
	s += 4;
	for (int i = 0; i < 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	if (s[4] != '-')
		return 0;
	s += 5;
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return s[n] == '\0' && n >= 4 && n <= 19;
}

void fp_cve_free(struct fp_cve *c)
{
	if (!c)
		return;
	free(c->description);
	json_decref(c->configurations);
	memset(c, 0, sizeof(*c));
	c->cvss4 = c->cvss31 = c->cvss30 = c->cvss2 = -1;
}

/* Copies the string member key of o into dst[cap]; "" when absent and not required. */
static int get_str(const json_t *o, const char *key, char *dst, size_t cap, int required,
                   struct fp_err *err)
{
	const json_t *v = json_object_get(o, key);
	dst[0] = '\0';
	if (!v) {
		if (required)
			return fp_err_set(err, FP_EINVAL, "\"%s\" is missing", key);
		return 0;
	}
	if (!json_is_string(v))
		return fp_err_set(err, FP_EINVAL, "\"%s\" is not a string", key);
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (n >= cap)
		return fp_err_set(err, FP_ETOOBIG, "\"%s\" is longer than %zu bytes", key, cap - 1);
	if (memchr(s, '\0', n))
		return fp_err_set(err, FP_EINVAL, "\"%s\" contains a NUL character", key);
	memcpy(dst, s, n + 1);
	return 0;
}

/* Returns member key of o when it is an array (NULL when absent), or fails. */
static int get_array(const json_t *o, const char *key, const json_t **out, struct fp_err *err)
{
	*out = json_object_get(o, key);
	if (*out && !json_is_array(*out))
		return fp_err_set(err, FP_EINVAL, "\"%s\" is not an array", key);
	return 0;
}

static int first_en_description(const json_t *cve, char **out, struct fp_err *err)
{
	const json_t *arr;
	int rc = get_array(cve, "descriptions", &arr, err);
	size_t i;
	const json_t *d;
	if (rc || !arr)
		return rc;
	json_array_foreach(arr, i, d)
	{
		if (!json_is_object(d))
			return fp_err_set(err, FP_EINVAL, "descriptions[%zu] is not an object", i);
		const json_t *lang = json_object_get(d, "lang");
		const json_t *value = json_object_get(d, "value");
		if (!json_is_string(lang) || !json_is_string(value))
			return fp_err_set(err, FP_EINVAL,
			                  "descriptions[%zu] needs \"lang\" and \"value\" strings",
			                  i);
		if (strcmp(json_string_value(lang), "en") != 0)
			continue;
		*out = strdup(json_string_value(value));
		return *out ? 0 : fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	return 0;
}

/*
 * Reads metrics[key] (one CVSS version): the score of the Primary metric by
 * nvd@nist.gov, else of the first. Sets *score to -1 when the version is
 * absent; fills vector and severity only when they are still empty, so the
 * caller visits versions newest first.
 */
static int read_metric(const json_t *metrics, const char *key, double *score, struct fp_cve *out,
                       struct fp_err *err)
{
	const json_t *arr, *m, *chosen = NULL;
	size_t i;
	int rc = get_array(metrics, key, &arr, err);
	*score = -1;
	if (rc || !arr)
		return rc;
	json_array_foreach(arr, i, m)
	{
		if (!json_is_object(m))
			return fp_err_set(err, FP_EINVAL, "%s[%zu] is not an object", key, i);
		const json_t *src = json_object_get(m, "source");
		const json_t *type = json_object_get(m, "type");
		if ((src && !json_is_string(src)) || (type && !json_is_string(type)))
			return fp_err_set(err, FP_EINVAL,
			                  "%s[%zu]: \"source\" and \"type\" must be strings", key,
			                  i);
		if (!chosen)
			chosen = m;
		if (src && type && strcmp(json_string_value(src), "nvd@nist.gov") == 0 &&
		    strcmp(json_string_value(type), "Primary") == 0) {
			chosen = m;
			break;
		}
	}
	if (!chosen)
		return 0;
	const json_t *data = json_object_get(chosen, "cvssData");
	if (!json_is_object(data))
		return fp_err_set(err, FP_EINVAL, "%s: \"cvssData\" is missing or not an object",
		                  key);
	const json_t *bs = json_object_get(data, "baseScore");
	if (!json_is_number(bs))
		return fp_err_set(err, FP_EINVAL, "%s: \"baseScore\" is missing or not a number",
		                  key);
	double v = json_number_value(bs);
	if (!(v >= 0 && v <= 10))
		return fp_err_set(err, FP_EINVAL, "%s: baseScore %g is outside 0 to 10", key, v);
	*score = v;
	if (out->vector[0] == '\0') {
		rc = get_str(data, "vectorString", out->vector, sizeof(out->vector), 1, err);
		if (rc)
			return rc;
		/* CVSS 2.0 keeps baseSeverity beside cvssData, later versions inside it. */
		const json_t *where = json_object_get(data, "baseSeverity") ? data : chosen;
		rc = get_str(where, "baseSeverity", out->severity, sizeof(out->severity), 0, err);
	}
	return rc;
}

static int first_cwe(const json_t *cve, char *cwe, size_t cap, struct fp_err *err)
{
	const json_t *arr, *w;
	size_t i;
	int rc = get_array(cve, "weaknesses", &arr, err);
	if (rc || !arr)
		return rc;
	json_array_foreach(arr, i, w)
	{
		const json_t *descs;
		if (!json_is_object(w))
			return fp_err_set(err, FP_EINVAL, "weaknesses[%zu] is not an object", i);
		rc = get_array(w, "description", &descs, err);
		if (rc)
			return rc;
		if (descs && json_array_size(descs) > 0) {
			const json_t *d = json_array_get(descs, 0);
			if (!json_is_object(d))
				return fp_err_set(err, FP_EINVAL,
				                  "weaknesses[%zu].description[0] is not an object",
				                  i);
			return get_str(d, "value", cwe, cap, 1, err);
		}
	}
	return 0;
}

static int cve_fields(const json_t *cve, struct fp_cve *out, struct fp_err *err)
{
	int rc;
	if ((rc = get_str(cve, "published", out->published, sizeof(out->published), 1, err)) ||
	    (rc = get_str(cve, "lastModified", out->last_modified, sizeof(out->last_modified), 1,
	                  err)) ||
	    (rc = get_str(cve, "vulnStatus", out->status, sizeof(out->status), 0, err)) ||
	    (rc = get_str(cve, "cisaExploitAdd", out->kev_added, sizeof(out->kev_added), 0, err)) ||
	    (rc = get_str(cve, "cisaActionDue", out->kev_due, sizeof(out->kev_due), 0, err)) ||
	    (rc = first_en_description(cve, &out->description, err)) ||
	    (rc = first_cwe(cve, out->cwe, sizeof(out->cwe), err)))
		return rc;

	const json_t *metrics = json_object_get(cve, "metrics");
	if (metrics && !json_is_object(metrics))
		return fp_err_set(err, FP_EINVAL, "\"metrics\" is not an object");
	if (metrics && ((rc = read_metric(metrics, "cvssMetricV40", &out->cvss4, out, err)) ||
	                (rc = read_metric(metrics, "cvssMetricV31", &out->cvss31, out, err)) ||
	                (rc = read_metric(metrics, "cvssMetricV30", &out->cvss30, out, err)) ||
	                (rc = read_metric(metrics, "cvssMetricV2", &out->cvss2, out, err))))
		return rc;

	const json_t *conf = json_object_get(cve, "configurations");
	if (conf && !json_is_array(conf))
		return fp_err_set(err, FP_EINVAL, "\"configurations\" is not an array");
	/* jansson's reference counting is not const-aware; the count is all we change. */
	out->configurations = json_incref((json_t *)conf);
	return 0;
}

int fp_cve_from_json(const json_t *item, struct fp_cve *out, struct fp_err *err)
{
	memset(out, 0, sizeof(*out));
	out->cvss4 = out->cvss31 = out->cvss30 = out->cvss2 = -1;
	if (!json_is_object(item))
		return fp_err_set(err, FP_EINVAL, "a CVE record must be a JSON object");
	const json_t *cve = json_object_get(item, "cve");
	if (cve && !json_is_object(cve))
		return fp_err_set(err, FP_EINVAL, "\"cve\" is not an object");
	if (!cve)
		cve = item;

	int rc = get_str(cve, "id", out->id, sizeof(out->id), 1, err);
	if (rc)
		return rc;
	if (!fp_cve_id_valid(out->id))
		return fp_err_set(err, FP_EINVAL, "\"%s\" is not a CVE id (CVE-YYYY-NNNN)",
		                  out->id);
	struct fp_err inner;
	rc = cve_fields(cve, out, &inner);
	if (rc)
		return fp_err_set(err, rc, "%s: %s", out->id, inner.msg);
	return 0;
}

/* ---- the fast path: a record read without a JSON tree ---- */

/*
 * What fast_cve() gathers of one metric object of a cvssMetricV* array:
 * presence and type of the members read_metric() looks at.
 */
struct metric_seen {
	int primary;  /* source "nvd@nist.gov" and type "Primary" */
	int data;     /* cvssData: 0 absent, 1 object, 2 another type */
	int score_ok; /* cvssData.baseScore is a number */
	double score;
	int vector; /* cvssData.vectorString: 0 absent, 1 string, 2 another type */
	struct fp__js_str vector_s;
	int sev_data; /* cvssData.baseSeverity: 0 absent, 1 string, 2 another type */
	struct fp__js_str sev_data_s;
	int sev_outer; /* baseSeverity beside cvssData, the same way */
	struct fp__js_str sev_outer_s;
};

/* A string member into dst[cap], as get_str() copies it; -1 when it is not a string or does not
 * fit. */
static int fast_str(struct fp__js *s, char *dst, size_t cap)
{
	struct fp__js_str v;
	return fp__js_string(s, &v) || fp__js_decode(&v, dst, cap) < 0 ? -1 : 0;
}

/* An optional string member: 1 string (v set), 2 another type (skipped). */
static int fast_kind(struct fp__js *s, struct fp__js_str *v)
{
	if (fp__js_peek(s) == '"')
		return fp__js_string(s, v) ? -1 : 1;
	return fp__js_skip(s) ? -1 : 2;
}

static int fast_metric(struct fp__js *s, struct metric_seen *m)
{
	struct fp__js_obj o, d;
	struct fp__js_str k, src = {0}, type = {0};
	int r, rd, have_src = 0, have_type = 0;
	memset(m, 0, sizeof(*m));
	if (fp__js_obj_begin(s, &o))
		return -1;
	while ((r = fp__js_obj_next(s, &o, &k)) == 1) {
		if (fp__js_is(&k, "source") || fp__js_is(&k, "type")) {
			int is_src = fp__js_is(&k, "source");
			/* read_metric() refuses a source or type that is not a string. */
			if (fp__js_string(s, is_src ? &src : &type))
				return -1;
			/* Escaped spellings are compared by jansson's path; NVD writes these
			 * plainly. */
			if ((is_src ? &src : &type)->escaped)
				return -1;
			*(is_src ? &have_src : &have_type) = 1;
		} else if (fp__js_is(&k, "baseSeverity")) {
			if ((m->sev_outer = fast_kind(s, &m->sev_outer_s)) < 0)
				return -1;
		} else if (fp__js_is(&k, "cvssData")) {
			if (fp__js_peek(s) != '{') {
				m->data = 2;
				if (fp__js_skip(s))
					return -1;
				continue;
			}
			m->data = 1;
			if (fp__js_obj_begin(s, &d))
				return -1;
			while ((rd = fp__js_obj_next(s, &d, &k)) == 1) {
				int c = fp__js_peek(s);
				if (fp__js_is(&k, "baseScore") &&
				    (c == '-' || (c >= '0' && c <= '9'))) {
					if (fp__js_number(s, &m->score))
						return -1;
					m->score_ok = 1;
				} else if (fp__js_is(&k, "vectorString")) {
					if ((m->vector = fast_kind(s, &m->vector_s)) < 0)
						return -1;
				} else if (fp__js_is(&k, "baseSeverity")) {
					if ((m->sev_data = fast_kind(s, &m->sev_data_s)) < 0)
						return -1;
				} else if (fp__js_skip(s)) {
					return -1;
				}
			}
			if (rd < 0)
				return -1;
		} else if (fp__js_skip(s)) {
			return -1;
		}
	}
	if (r < 0)
		return -1;
	m->primary =
	    have_src && have_type && fp__js_is(&src, "nvd@nist.gov") && fp__js_is(&type, "Primary");
	return 0;
}

/* One cvssMetricV* array: *chosen as read_metric() picks it; *have 0 when the array is empty. */
static int fast_metric_list(struct fp__js *s, struct metric_seen *chosen, int *have)
{
	struct metric_seen m;
	int first = 1, r;
	*have = 0;
	if (fp__js_arr_begin(s))
		return -1;
	while ((r = fp__js_arr_next(s, &first)) == 1) {
		if (fast_metric(s, &m))
			return -1;
		if (!*have || (m.primary && !chosen->primary)) {
			*chosen = m;
			*have = 1;
		}
	}
	return r;
}

/* read_metric() over the gathered facts; -1 where it would fail. */
static int fast_apply_metric(const struct metric_seen *m, int have, double *score,
                             struct fp_cve *out)
{
	*score = -1;
	if (!have)
		return 0;
	if (m->data != 1 || !m->score_ok || !(m->score >= 0 && m->score <= 10))
		return -1;
	*score = m->score;
	if (out->vector[0] == '\0') {
		if (m->vector != 1 ||
		    fp__js_decode(&m->vector_s, out->vector, sizeof(out->vector)) < 0)
			return -1;
		/* CVSS 2.0 keeps baseSeverity beside cvssData, later versions inside it. */
		int kind = m->sev_data ? m->sev_data : m->sev_outer;
		const struct fp__js_str *sev = m->sev_data ? &m->sev_data_s : &m->sev_outer_s;
		out->severity[0] = '\0';
		if (kind == 2 ||
		    (kind == 1 && fp__js_decode(sev, out->severity, sizeof(out->severity)) < 0))
			return -1;
	}
	return 0;
}

static const char *const METRIC_KEYS[4] = {"cvssMetricV40", "cvssMetricV31", "cvssMetricV30",
                                           "cvssMetricV2"};

static int fast_metrics(struct fp__js *s, struct fp_cve *out)
{
	struct fp__js_obj o;
	struct fp__js_str k;
	struct metric_seen chosen[4];
	int have[4] = {0, 0, 0, 0}, present[4] = {0, 0, 0, 0}, r;
	if (fp__js_obj_begin(s, &o))
		return -1;
	while ((r = fp__js_obj_next(s, &o, &k)) == 1) {
		int v = -1;
		for (int i = 0; i < 4; i++)
			if (fp__js_is(&k, METRIC_KEYS[i]))
				v = i;
		if (v < 0) {
			if (fp__js_skip(s))
				return -1;
			continue;
		}
		present[v] = 1;
		if (fast_metric_list(s, &chosen[v], &have[v]))
			return -1;
	}
	if (r < 0)
		return -1;
	double *score[4] = {&out->cvss4, &out->cvss31, &out->cvss30, &out->cvss2};
	for (int i = 0; i < 4; i++)
		if (fast_apply_metric(&chosen[i], present[i] && have[i], score[i], out))
			return -1;
	return 0;
}

/* descriptions: every element an object with "lang" and "value" strings; the first "en" kept. */
static int fast_descriptions(struct fp__js *s, struct fp_cve *out)
{
	int first = 1, r;
	if (fp__js_arr_begin(s))
		return -1;
	while ((r = fp__js_arr_next(s, &first)) == 1) {
		struct fp__js_obj o;
		struct fp__js_str k, lang, value;
		int rd, have_lang = 0, have_value = 0;
		if (fp__js_obj_begin(s, &o))
			return -1;
		while ((rd = fp__js_obj_next(s, &o, &k)) == 1) {
			if (fp__js_is(&k, "lang")) {
				if (fp__js_string(s, &lang) || lang.escaped)
					return -1;
				have_lang = 1;
			} else if (fp__js_is(&k, "value")) {
				if (fp__js_string(s, &value))
					return -1;
				have_value = 1;
			} else if (fp__js_skip(s)) {
				return -1;
			}
		}
		if (rd < 0 || !have_lang || !have_value)
			return -1;
		if (!out->description && fp__js_is(&lang, "en")) {
			/* Decoding never makes a string longer. */
			if (!(out->description = malloc(value.len + 1)) ||
			    fp__js_decode(&value, out->description, value.len + 1) < 0)
				return -1;
		}
	}
	return r;
}

/* weaknesses: the first element with a non-empty "description" gives the CWE. */
static int fast_weaknesses(struct fp__js *s, struct fp_cve *out)
{
	int first = 1, r, done = 0;
	if (fp__js_arr_begin(s))
		return -1;
	while ((r = fp__js_arr_next(s, &first)) == 1) {
		struct fp__js_obj o;
		struct fp__js_str k;
		int rd;
		if (fp__js_obj_begin(s, &o))
			return -1;
		while ((rd = fp__js_obj_next(s, &o, &k)) == 1) {
			int dfirst = 1, re;
			if (!fp__js_is(&k, "description")) {
				if (fp__js_skip(s))
					return -1;
				continue;
			}
			if (fp__js_arr_begin(s))
				return -1;
			while ((re = fp__js_arr_next(s, &dfirst)) == 1) {
				struct fp__js_obj d;
				struct fp__js_str dk;
				int rv, have_value = 0;
				if (done) {
					if (fp__js_skip(s))
						return -1;
					continue;
				}
				if (fp__js_obj_begin(s, &d))
					return -1;
				while ((rv = fp__js_obj_next(s, &d, &dk)) == 1) {
					if (fp__js_is(&dk, "value")) {
						if (fast_str(s, out->cwe, sizeof(out->cwe)))
							return -1;
						have_value = 1;
					} else if (fp__js_skip(s)) {
						return -1;
					}
				}
				if (rv < 0 || !have_value)
					return -1;
				done = 1;
			}
			if (re < 0)
				return -1;
		}
		if (rd < 0)
			return -1;
	}
	return r;
}

static const char *const STR_KEYS[5] = {"published", "lastModified", "vulnStatus", "cisaExploitAdd",
                                        "cisaActionDue"};

/* The members of the "cve" object that fp_cve_from_json() reads. */
static int fast_cve_object(struct fp__js *s, struct fp_cve *out, struct fp_nvd_configs *cfg,
                           const char **ctext, size_t *clen)
{
	struct fp__js_obj o;
	struct fp__js_str k;
	char *dst[5] = {out->published, out->last_modified, out->status, out->kev_added,
	                out->kev_due};
	size_t cap[5] = {sizeof(out->published), sizeof(out->last_modified), sizeof(out->status),
	                 sizeof(out->kev_added), sizeof(out->kev_due)};
	int r, have_id = 0, have[5] = {0, 0, 0, 0, 0};
	if (fp__js_obj_begin(s, &o))
		return -1;
	while ((r = fp__js_obj_next(s, &o, &k)) == 1) {
		int f = -1;
		for (int i = 0; i < 5; i++)
			if (fp__js_is(&k, STR_KEYS[i]))
				f = i;
		if (f >= 0) {
			if (fast_str(s, dst[f], cap[f]))
				return -1;
			have[f] = 1;
		} else if (fp__js_is(&k, "id")) {
			if (fast_str(s, out->id, sizeof(out->id)))
				return -1;
			have_id = 1;
		} else if (fp__js_is(&k, "descriptions")) {
			if (fast_descriptions(s, out))
				return -1;
		} else if (fp__js_is(&k, "weaknesses")) {
			if (fast_weaknesses(s, out))
				return -1;
		} else if (fp__js_is(&k, "metrics")) {
			if (fast_metrics(s, out))
				return -1;
		} else if (fp__js_is(&k, "configurations")) {
			fp__js_peek(s);
			*ctext = s->p;
			if (fp__nvd_configs_scan(s, cfg))
				return -1;
			*clen = (size_t)(s->p - *ctext);
		} else if (fp__js_skip(s)) {
			return -1;
		}
	}
	if (r < 0 || !have_id || !have[0] || !have[1] || !fp_cve_id_valid(out->id))
		return -1;
	return 0;
}

/*
 * Reads a {"cve":{…}} element into out (zeroed first) and, when it has
 * them, its configurations into cfg with their text; -1 when the fast path
 * does not accept the text (the caller then takes the jansson path, which
 * gives the same result or the error). out and cfg must be freed either way.
 */
static int fast_cve(const char *text, size_t len, struct fp_cve *out, struct fp_nvd_configs *cfg,
                    const char **ctext, size_t *clen)
{
	struct fp__js s = {text, text + len, 0};
	struct fp__js_obj o;
	struct fp__js_str k;
	int r, have_cve = 0;
	memset(out, 0, sizeof(*out));
	memset(cfg, 0, sizeof(*cfg));
	out->cvss4 = out->cvss31 = out->cvss30 = out->cvss2 = -1;
	*ctext = NULL;
	*clen = 0;
	if (fp__js_obj_begin(&s, &o))
		return -1;
	while ((r = fp__js_obj_next(&s, &o, &k)) == 1) {
		if (fp__js_is(&k, "cve")) {
			if (fast_cve_object(&s, out, cfg, ctext, clen))
				return -1;
			have_cve = 1;
		} else if (fp__js_skip(&s)) {
			return -1;
		}
	}
	/* A record without "cve" is the cve object itself: left to the jansson path. */
	return r < 0 || !have_cve || !fp__js_at_end(&s) ? -1 : 0;
}

/* ---- the reader ---- */

int fp_nvd_reader_new(fp_nvd_fn fn, void *ctx, struct fp_nvd_reader **out, struct fp_err *err)
{
	*out = NULL;
	if (!fn)
		return fp_err_set(err, FP_EINVAL, "the NVD reader needs a record callback");
	struct fp_nvd_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	r->fn = fn;
	r->ctx = ctx;
	r->gzip = -1;
	r->mode = M_START;
	*out = r;
	return 0;
}

void fp_nvd_reader_parse_configs(struct fp_nvd_reader *r)
{
	r->parse_configs = 1;
}

void fp_nvd_reader_free(struct fp_nvd_reader *r)
{
	if (!r)
		return;
	if (r->zs_ready)
		inflateEnd(&r->zs);
	free(r->window);
	free(r->hdr);
	free(r->rec);
	free(r);
}

void fp_nvd_reader_progress(const struct fp_nvd_reader *r, unsigned long long *bytes_in,
                            unsigned long long *records)
{
	if (bytes_in)
		*bytes_in = r->bytes_in;
	if (records)
		*records = r->records;
}

/* Appends n bytes to a buffer that may grow up to max bytes; FP_ETOOBIG beyond. */
static int buf_append(char **buf, size_t *len, size_t *cap, size_t max, const void *src, size_t n)
{
	if (n > max - *len)
		return FP_ETOOBIG;
	if (*len + n > *cap) {
		size_t c = *cap ? *cap : 4096;
		while (c < *len + n)
			c *= 2;
		if (c > max)
			c = max;
		char *b = realloc(*buf, c);
		if (!b)
			return FP_ENOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, src, n);
	*len += n;
	return 0;
}

static int hdr_put(struct fp_nvd_reader *r, const void *s, size_t n, struct fp_err *err)
{
	int rc = buf_append(&r->hdr, &r->hdr_len, &r->hdr_cap, FP_NVD_HEADER_MAX, s, n);
	if (rc == FP_ETOOBIG)
		return fp_err_set(
		    err, rc,
		    "the feed's top-level fields other than \"vulnerabilities\" exceed "
		    "%u bytes; this is not an NVD CVE feed",
		    FP_NVD_HEADER_MAX);
	if (rc)
		return fp_err_set(err, rc, "out of memory");
	return 0;
}

static int check_header_field(const json_t *h, const char *key, const char *want,
                              struct fp_err *err)
{
	const json_t *v = json_object_get(h, key);
	if (!v)
		return fp_err_set(
		    err, FP_EINVAL,
		    "the feed has no \"%s\" field before \"vulnerabilities\"; expected "
		    "an NVD CVE API 2.0 feed (\"format\":\"NVD_CVE\",\"version\":\"2.0\")",
		    key);
	if (!json_is_string(v))
		return fp_err_set(err, FP_EINVAL,
		                  "the feed's \"%s\" is not a string (expected \"%s\")", key, want);
	if (strcmp(json_string_value(v), want) != 0)
		return fp_err_set(
		    err, FP_EUNSUPP,
		    "the feed's \"%s\" is \"%.64s\"; only \"%s\" is supported (NVD CVE "
		    "API 2.0 feeds)",
		    key, json_string_value(v), want);
	return 0;
}

/* Parses text as the top-level object without its records and checks format and version. */
static int check_header(const char *text, size_t len, struct fp_err *err)
{
	json_error_t je;
	json_t *h = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!h)
		return fp_err_set(err, FP_EINVAL, "the feed's top-level object is malformed: %s",
		                  je.text);
	int rc = check_header_field(h, "format", "NVD_CVE", err);
	if (!rc)
		rc = check_header_field(h, "version", "2.0", err);
	json_decref(h);
	return rc;
}

/* Called at the '[' of "vulnerabilities": checks the fields before it. */
static int check_header_prefix(struct fp_nvd_reader *r, struct fp_err *err)
{
	size_t n = r->key_start;
	while (n > 0 && strchr(" \t\r\n", r->hdr[n - 1]))
		n--;
	if (n > 1) {
		if (r->hdr[n - 1] != ',')
			return fp_err_set(err, FP_EINVAL,
			                  "the feed's top-level object is malformed: expected ',' "
			                  "before \"vulnerabilities\"");
		n--;
	}
	char save = r->hdr[n];
	r->hdr[n] = '}'; /* the key's opening quote or a comma: the buffer has room */
	int rc = check_header(r->hdr, n + 1, err);
	r->hdr[n] = save;
	return rc;
}

static int record_too_big(const struct fp_nvd_reader *r, struct fp_err *err)
{
	return fp_err_set(err, FP_ETOOBIG,
	                  "record %llu (at byte %llu of the JSON text) is larger than %u bytes",
	                  r->records + 1, r->elem_off, FP_NVD_RECORD_MAX);
}

/* Appends to the buffer of an element that spans pushes. */
static int rec_append(struct fp_nvd_reader *r, const unsigned char *s, size_t n, struct fp_err *err)
{
	int rc = buf_append(&r->rec, &r->rec_len, &r->rec_cap, FP_NVD_RECORD_MAX, s, n);
	if (rc == FP_ETOOBIG)
		return record_too_big(r, err);
	if (rc)
		return fp_err_set(err, rc, "out of memory");
	return 0;
}

static int deliver(struct fp_nvd_reader *r, const char *text, size_t len, struct fp_err *err)
{
	unsigned long long nth = r->records + 1;
	if (len > FP_NVD_RECORD_MAX)
		return record_too_big(r, err);
	struct fp_cve cve;
	struct fp_err inner;
	int rc;
	if (r->parse_configs) {
		struct fp_nvd_configs cfg;
		const char *ctext;
		size_t clen;
		int fast = fast_cve(text, len, &cve, &cfg, &ctext, &clen) == 0;
		if (fast) {
			cve.configs = ctext ? &cfg : NULL;
			cve.configs_text = ctext;
			cve.configs_len = clen;
			r->records++;
			rc = r->fn(r->ctx, &cve, text, len);
			if (rc)
				fp_err_set(
				    err, rc,
				    "the record callback stopped the NVD reader at %s (record "
				    "%llu)",
				    cve.id, nth);
		}
		fp_nvd_configs_free(&cfg);
		fp_cve_free(&cve);
		if (fast)
			return rc;
	}
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return fp_err_set(err, FP_EINVAL,
		                  "record %llu (at byte %llu of the JSON text) is malformed: %s "
		                  "(line %d, column %d of the record)",
		                  nth, r->elem_off, je.text, je.line, je.column);
	rc = fp_cve_from_json(j, &cve, &inner);
	json_decref(j);
	if (rc) {
		fp_err_set(err, rc, "record %llu (at byte %llu of the JSON text): %s", nth,
		           r->elem_off, inner.msg);
		goto out;
	}
	r->records++;
	rc = r->fn(r->ctx, &cve, text, len);
	if (rc)
		fp_err_set(err, rc,
		           "the record callback stopped the NVD reader at %s (record %llu)", cve.id,
		           nth);
out:
	fp_cve_free(&cve);
	return rc;
}

static int is_ws(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Bytes that end a run inside a string, and bytes that matter outside strings. */
static const unsigned char STR_STOP[256] = {['"'] = 1, ['\\'] = 1};
static const unsigned char STRUCT_CH[256] = {['"'] = 1, ['{'] = 2, ['['] = 2, ['}'] = 3, [']'] = 3};

/*
 * Scans the current element from s[*pos]; returns 1 when it closed (with
 * *pos just past its last byte), 0 when the input ran out, or an error.
 */
static int scan_element(struct fp_nvd_reader *r, const unsigned char *s, size_t n, size_t *pos,
                        struct fp_err *err)
{
	size_t i = *pos;
	unsigned d = r->edepth;
	int in_str = r->in_str, esc = r->esc, rc = 0;
	while (i < n) {
		if (in_str) {
			if (esc) {
				esc = 0;
				i++;
				continue;
			}
			while (i < n && !STR_STOP[s[i]])
				i++;
			if (i == n)
				break;
			if (s[i++] == '"')
				in_str = 0;
			else
				esc = 1;
			continue;
		}
		while (i < n && !STRUCT_CH[s[i]])
			i++;
		if (i == n)
			break;
		switch (STRUCT_CH[s[i++]]) {
		case 1: in_str = 1; break;
		case 2:
			if (++d > FP_NVD_DEPTH_MAX) {
				rc = fp_err_set(err, FP_ETOOBIG,
				                "record %llu (at byte %llu of the JSON text) nests "
				                "deeper than %d levels",
				                r->records + 1, r->elem_off, FP_NVD_DEPTH_MAX);
				goto out;
			}
			break;
		default:
			if (--d == 0) {
				rc = 1;
				goto out;
			}
		}
	}
out:
	r->edepth = d;
	r->in_str = in_str;
	r->esc = esc;
	*pos = i;
	return rc;
}

/* One byte of the top-level object outside "vulnerabilities" (copied into hdr). */
static int scan_top(struct fp_nvd_reader *r, unsigned char c, struct fp_err *err)
{
	int rc = hdr_put(r, &c, 1, err);
	if (rc)
		return rc;
	if (r->in_str) {
		int closing = !r->esc && c == '"';
		r->esc = !r->esc && c == '\\';
		if (closing) {
			r->in_str = 0;
			if (r->key_capture) {
				r->key_capture = 0;
				r->key_is_vulns = r->key_len == sizeof(VULNS_KEY) - 1 &&
				                  memcmp(r->key, VULNS_KEY, r->key_len) == 0;
			}
		} else if (r->key_capture) {
			if (r->key_len < KEY_MAX)
				r->key[r->key_len] = (char)c;
			r->key_len++;
		}
		return 0;
	}
	switch (c) {
	case '"':
		r->in_str = 1;
		if (r->depth == 1 && r->top == T_KEY) {
			r->key_capture = 1;
			r->key_len = 0;
			r->key_start = r->hdr_len - 1;
			r->top = T_COLON;
		}
		break;
	case ':':
		if (r->depth == 1 && r->top == T_COLON) {
			r->top = T_VALUE;
			if (r->key_is_vulns) {
				r->key_is_vulns = 0;
				if (r->vulns_seen)
					return fp_err_set(
					    err, FP_EINVAL,
					    "the feed has two \"vulnerabilities\" arrays");
				r->vulns_seen = 1;
				r->mode = M_WANT_ARRAY;
			}
		}
		break;
	case ',':
		if (r->depth == 1)
			r->top = T_KEY;
		break;
	case '{':
	case '[':
		if (++r->depth > FP_NVD_DEPTH_MAX)
			return fp_err_set(err, FP_ETOOBIG,
			                  "the feed's top-level fields nest deeper than %d levels",
			                  FP_NVD_DEPTH_MAX);
		break;
	case '}':
	case ']':
		if (--r->depth == 0) {
			r->mode = M_END;
			rc = check_header(r->hdr, r->hdr_len, err);
			if (!rc && !r->vulns_seen)
				rc = fp_err_set(err, FP_EINVAL,
				                "the feed has no \"vulnerabilities\" array");
		}
		break;
	default: break;
	}
	return rc;
}

/* Scans n bytes of JSON text. */
static int scan(struct fp_nvd_reader *r, const unsigned char *s, size_t n, struct fp_err *err)
{
	size_t i = 0, seg = 0; /* seg: where the current element's bytes in s begin */
	int rc = 0;
	while (i < n && !rc) {
		unsigned char c = s[i];
		switch (r->mode) {
		case M_ELEM:
			rc = scan_element(r, s, n, &i, err);
			if (rc == 1) {
				if (r->rec_len == 0) {
					rc = deliver(r, (const char *)s + seg, i - seg, err);
				} else {
					rc = rec_append(r, s + seg, i - seg, err);
					if (!rc)
						rc = deliver(r, r->rec, r->rec_len, err);
					r->rec_len = 0;
				}
				r->mode = M_ARRAY;
				r->arr = A_AFTER;
			}
			continue;
		case M_TOP: rc = scan_top(r, c, err); break;
		case M_START:
			if (c == '{') {
				rc = hdr_put(r, "{", 1, err);
				r->depth = 1;
				r->top = T_KEY;
				r->mode = M_TOP;
			} else if (!is_ws(c)) {
				rc =
				    fp_err_set(err, FP_EINVAL,
				               "the feed is not a JSON object (it starts with byte "
				               "0x%02x); expected an NVD CVE API 2.0 feed",
				               c);
			}
			break;
		case M_WANT_ARRAY:
			if (c == '[') {
				rc = check_header_prefix(r, err);
				if (!rc)
					rc = hdr_put(r, "[]", 2, err);
				r->mode = M_ARRAY;
				r->arr = A_FIRST;
			} else if (!is_ws(c)) {
				rc = fp_err_set(err, FP_EINVAL,
				                "the feed's \"vulnerabilities\" is not an array");
			}
			break;
		case M_ARRAY:
			if (is_ws(c))
				break;
			if (c == '{' && r->arr != A_AFTER) {
				r->mode = M_ELEM;
				r->edepth = 1;
				r->elem_off = r->text_off + i;
				seg = i;
			} else if (c == ']' && r->arr != A_NEED) {
				r->mode = M_TOP;
			} else if (c == ',' && r->arr == A_AFTER) {
				r->arr = A_NEED;
			} else if (r->arr == A_AFTER) {
				rc = fp_err_set(
				    err, FP_EINVAL,
				    "expected ',' or ']' after record %llu (at byte %llu of "
				    "the JSON text), found '%c'",
				    r->records, r->text_off + i, c);
			} else {
				rc = fp_err_set(
				    err, FP_EINVAL,
				    "element %llu of \"vulnerabilities\" (at byte %llu of the "
				    "JSON text) is not an object",
				    r->records + 1, r->text_off + i);
			}
			break;
		case M_END:
			if (!is_ws(c))
				rc = fp_err_set(
				    err, FP_EINVAL,
				    "unexpected data after the end of the feed (at byte %llu "
				    "of the JSON text)",
				    r->text_off + i);
			break;
		}
		i++;
	}
	if (!rc && r->mode == M_ELEM) {
		/* The element continues in the next push: keep its bytes. */
		rc = rec_append(r, s + seg, n - seg, err);
	}
	r->text_off += n;
	return rc;
}

static int inflate_and_scan(struct fp_nvd_reader *r, const unsigned char *data, size_t n,
                            struct fp_err *err)
{
	int rc;
	while (n > 0) {
		uInt take = n > UINT_MAX ? UINT_MAX : (uInt)n;
		r->zs.next_in = (unsigned char *)data;
		r->zs.avail_in = take;
		data += take;
		n -= take;
		for (;;) {
			if (r->z_end) {
				if (r->zs.avail_in == 0)
					break;
				/* Another gzip member follows (concatenated files are valid gzip).
				 */
				inflateReset(&r->zs);
				r->z_end = 0;
			}
			r->zs.next_out = r->window;
			r->zs.avail_out = WINDOW_SIZE;
			int zr = inflate(&r->zs, Z_NO_FLUSH);
			size_t got = WINDOW_SIZE - r->zs.avail_out;
			if (zr == Z_MEM_ERROR)
				return fp_err_set(err, FP_ENOMEM, "out of memory");
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
				return fp_err_set(err, FP_EINVAL,
				                  "the feed's gzip data is corrupt: %s",
				                  r->zs.msg ? r->zs.msg : "inflate failed");
			if (got && (rc = scan(r, r->window, got, err)) != 0)
				return rc;
			if (zr == Z_STREAM_END)
				r->z_end = 1;
			else if (r->zs.avail_out != 0)
				break; /* the input is used up and the output flushed */
		}
	}
	return 0;
}

static int process(struct fp_nvd_reader *r, const unsigned char *data, size_t n, struct fp_err *err)
{
	if (n == 0)
		return 0;
	if (!r->gzip)
		return scan(r, data, n, err);
	return inflate_and_scan(r, data, n, err);
}

/* Decides plain or gzip from the bytes seen so far and replays them. */
static int start(struct fp_nvd_reader *r, struct fp_err *err)
{
	r->gzip = r->n_magic == 2 && r->magic[0] == 0x1f && r->magic[1] == 0x8b;
	if (r->gzip) {
		r->window = malloc(WINDOW_SIZE);
		if (!r->window || inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK)
			return fp_err_set(err, FP_ENOMEM, "out of memory");
		r->zs_ready = 1;
	}
	return process(r, r->magic, r->n_magic, err);
}

static int fail(struct fp_nvd_reader *r, int rc)
{
	if (rc)
		r->failed = rc;
	return rc;
}

int fp_nvd_reader_feed(struct fp_nvd_reader *r, const void *data, size_t n, struct fp_err *err)
{
	const unsigned char *p = data;
	int rc;
	if (r->failed)
		return fp_err_set(err, r->failed, "the NVD reader failed earlier; start a new one");
	r->bytes_in += n;
	if (r->gzip < 0) {
		while (n > 0 && r->n_magic < 2) {
			r->magic[r->n_magic++] = *p++;
			n--;
		}
		if (r->n_magic == 0 || (r->n_magic == 1 && r->magic[0] == 0x1f))
			return 0; /* one byte that may start a gzip header: wait for the next */
		if ((rc = start(r, err)) != 0)
			return fail(r, rc);
	}
	return fail(r, process(r, p, n, err));
}

int fp_nvd_reader_finish(struct fp_nvd_reader *r, struct fp_err *err)
{
	int rc;
	if (r->failed)
		return fp_err_set(err, r->failed, "the NVD reader failed earlier; start a new one");
	if (r->gzip < 0) {
		if (r->n_magic == 0)
			return fail(r, fp_err_set(err, FP_EINVAL, "the NVD feed is empty"));
		if (r->magic[0] == 0x1f)
			return fail(r,
			            fp_err_set(err, FP_EINVAL,
			                       "the feed's gzip stream is truncated after 1 byte"));
		if ((rc = start(r, err)) != 0)
			return fail(r, rc);
	}
	if (r->gzip && !r->z_end)
		return fail(r, fp_err_set(err, FP_EINVAL,
		                          "the feed's gzip stream is truncated (after %llu "
		                          "records); download it again",
		                          r->records));
	if (r->mode != M_END)
		return fail(r, fp_err_set(err, FP_EINVAL,
		                          "the feed's JSON text is truncated %s (after %llu "
		                          "records); download it again",
		                          r->mode == M_ELEM    ? "inside a record"
		                          : r->vulns_seen      ? "after the records"
		                          : r->mode == M_START ? "before it begins"
		                                               : "in its header",
		                          r->records));
	return 0;
}
